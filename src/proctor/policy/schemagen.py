"""The schema a policy set is validated against: the directory's ``schema.cedarschema`` plus what
Proctor generates into its ``namespace Proctor { … }`` block (Cedar refuses a second block of one
namespace): one action per registered tool, grouped under its effect action, with ``context.args``
typed from the tool's input schema; the flow types (``Provenance``, ``Destinations``, ``History``
from ``counters.yaml``); and the flow attributes an older base schema lacks (ADR 0025)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from proctor.errors import PolicyLoadError
from proctor.policy.argschema import cedar_type_text, parse_input_schema, quote_name
from proctor.store.base import ToolRecord

__all__ = [
    "FLOW_TASK_ATTRS",
    "GeneratedSchema",
    "blank_comments",
    "effect_actions",
    "generate_schema",
    "tool_action_declared",
]

SCHEMA_FILE = "schema.cedarschema"
#: the Task entity's flow attributes (proctor.flow.model.TaskLabels.task_attrs)
FLOW_TASK_ATTRS = (
    ("read_untrusted", "Bool"),
    ("max_sensitivity", "String"),
    ("sensitivity_level", "Long"),
    # delegation (docs/adr/0032)
    ("chain", "Set<{agent: String, task: String}>"),
    ("depth", "Long"),
    ("root_requester", "String"),
)
FLOW_TOOL_ATTRS = (("access_control", "Bool"), ("credential_change", "Bool"), ("egress", "Bool"))
#: the Provenance attributes added after the first release of issue 15 (a base schema declaring
#: ``type Provenance`` without them gets them added)
FLOW_PROVENANCE_ATTRS = (
    ("destinations_from_intent", "Bool"),
    ("destination_traced", "Bool"),
    ("embedded_untrusted", "Bool"),
    ("embedded_unsourced", "Bool"),
    ("embedded_untrusted_kinds", "Set<String>"),
    ("embedded_untrusted_domains", "Set<String>"),
    ("off_param_args", "Set<String>"),
    ("external_destination_untrusted", "Bool"),
    ("external_destination_unsourced", "Bool"),
    ("all_from_intent", "Bool"),
    ("carries_confidential", "Bool"),
    ("audience_seen", "Bool"),
    ("destination_named_party", "Bool"),
    ("untrusted_amount", "Bool"),
    ("steered_args", "Set<String>"),
    ("recipient_by_reference", "Bool"),
    ("reply_to_sender", "Bool"),
    ("carries_secret", "Bool"),
    ("payment_requested", "Bool"),
    ("amount_traced", "Bool"),
    ("amount_off_record", "Bool"),
)
FLOW_CONTEXT_ATTRS = (("provenance", "Provenance"), ("destinations", "Destinations"), ("history", "History"))

PROVENANCE_TYPE = """  // Where the call's argument values came from (proctor.flow.model.Provenance.to_cedar)
  type Provenance = {
    checked: Bool,
    untrusted_args: Set<String>,
    unsourced_args: Set<String>,
    intent_args: Set<String>,
    trusted_args: Set<String>,
    destination_untrusted: Bool,
    destination_unsourced: Bool,
    all_traced: Bool,
    destinations_from_intent: Bool,
    destination_traced: Bool,
    embedded_untrusted: Bool,
    embedded_unsourced: Bool,
    embedded_untrusted_kinds: Set<String>,
    embedded_untrusted_domains: Set<String>,
    off_param_args: Set<String>,
    external_destination_untrusted: Bool,
    external_destination_unsourced: Bool,
    all_from_intent: Bool,
    carries_confidential: Bool,
    audience_seen: Bool,
    destination_named_party: Bool,
    untrusted_amount: Bool,
    steered_args: Set<String>,
    recipient_by_reference: Bool,
    reply_to_sender: Bool,
    carries_secret: Bool,
    payment_requested: Bool,
    amount_traced: Bool,
    amount_off_record: Bool,
  };"""
DESTINATIONS_TYPE = """  // The e-mail domains and URL hosts of the call's destination arguments, lower case
  type Destinations = {
    domains: Set<String>,            // every destination's domain
    external: Bool,                  // one of them is outside the organisation
    external_domains: Set<String>,   // those outside (flow.internal_domains, the owner's and requester's domains are inside)
    embedded_external: Bool,         // a link or address embedded in free text, found only in untrusted content, points outside
    lookalike: Bool,                 // a destination, link or address outside is made to look like the organisation's domain
    lookalike_domains: Set<String>,  // those domains (northwind-audit.example, n0rthwind.example)
  };"""

_COUNTER_TYPES = {"count": "Long", "sum": "decimal", "seen": "Bool", "first_time": "Bool"}


def blank_comments(text: str) -> str:
    """``text`` with every ``//`` comment replaced by spaces (offsets and lines unchanged)."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
            continue
        i += 1
    return "".join(out)


def _close(text: str, open_at: int) -> int:
    """The offset of the bracket closing the one at ``open_at`` (text already comment-blanked)."""
    depth, i, n = 0, open_at, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c in "{[(<":
            depth += 1
        elif c in "}])>":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise PolicyLoadError(f"{SCHEMA_FILE}: unbalanced brackets")


_NAME = r'(?:"(?:[^"\\\n]|\\.)*"|[A-Za-z_]\w*)'
_ACTION = re.compile(
    rf"\baction\s+({_NAME}(?:\s*,\s*{_NAME})*)\s*(?:\bin\b\s*(?:\[[^\]]*\]|[^;{{]*?))?\s*\bappliesTo\s*\{{"
)
_NAMESPACE = re.compile(r"\bnamespace\s+Proctor\s*\{")


def _names(group: str) -> list[str]:
    return [m.group(0).strip('"') for m in re.finditer(_NAME, group)]


@dataclass(frozen=True)
class _Action:
    names: tuple[str, ...]
    principal: str
    resource: str
    context: str  # a type name or ``{…}`` record text


def _attr_spec(block: str, attr: str) -> str | None:
    m = re.search(rf"\b{attr}\s*:\s*", block)
    if m is None:
        return None
    i = m.end()
    if i < len(block) and block[i] in "[{":
        return block[i : _close(block, i) + 1]
    m2 = re.match(r"[A-Za-z_][\w:]*", block[i:])
    return None if m2 is None else m2.group(0)


def _actions(blank: str) -> list[_Action]:
    out: list[_Action] = []
    for m in _ACTION.finditer(blank):
        open_at = m.end() - 1
        block = blank[open_at + 1 : _close(blank, open_at)]
        out.append(
            _Action(
                tuple(_names(m.group(1))),
                _attr_spec(block, "principal") or "[Agent]",
                _attr_spec(block, "resource") or "",
                _attr_spec(block, "context") or "{}",
            )
        )
    return out


def effect_actions(schema_text: str) -> frozenset[str]:
    """The actions whose resource is a ``Tool``: the tool effects."""
    blank = blank_comments(schema_text)
    return frozenset(n for a in _actions(blank) if re.search(r"\bTool\b", a.resource) for n in a.names)


def _body_span(blank: str, pattern: str) -> tuple[int, int] | None:
    m = re.search(pattern, blank)
    if m is None:
        return None
    open_at = m.end() - 1
    return open_at + 1, _close(blank, open_at)


def _missing(body: str, attrs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(a, t) for a, t in attrs if not re.search(rf'(?:\b|"){a}"?\s*\??\s*:', body)]


def _patch_base(text: str) -> str:
    """Add the flow attributes an older base schema lacks (Task, Tool, the effect contexts)."""
    blank = blank_comments(text)
    inserts: list[tuple[int, str]] = []
    for entity, attrs in (("Task", FLOW_TASK_ATTRS), ("Tool", FLOW_TOOL_ATTRS)):
        span = _body_span(blank, rf"\bentity\s+{entity}\b[^{{;]*\{{")
        if span is None:
            raise PolicyLoadError(
                f"{SCHEMA_FILE}: declares no `entity {entity} = {{ … }}` record: compare it with the starter"
                " schema (`proctor init` in an empty directory writes one)",
                file=SCHEMA_FILE,
            )
        if miss := _missing(blank[span[0] : span[1]], attrs):
            inserts.append((span[0], " " + " ".join(f"{a}: {t}," for a, t in miss)))
    span = _body_span(blank, r"\btype\s+Provenance\s*=\s*\{")
    if span is not None and (miss := _missing(blank[span[0] : span[1]], FLOW_PROVENANCE_ATTRS)):
        inserts.append((span[0], " " + " ".join(f"{a}: {t}," for a, t in miss)))
    contexts: set[str] = set()
    for a in _actions(blank):
        if re.search(r"\bTool\b", a.resource) and not a.context.startswith("{"):
            contexts.add(a.context.rsplit("::", 1)[-1])
    for name in sorted(contexts):
        span = _body_span(blank, rf"\btype\s+{name}\s*=\s*\{{")
        if span is None:
            raise PolicyLoadError(
                f"{SCHEMA_FILE}: the effect actions' context `{name}` is not a record type declared in the"
                " `Proctor` namespace: declare it as `type {name} = {{ … }};` (see the starter schema)",
                file=SCHEMA_FILE,
            )
        if miss := _missing(blank[span[0] : span[1]], FLOW_CONTEXT_ATTRS):
            inserts.append((span[0], " " + " ".join(f"{a}: {t}," for a, t in miss)))
    # inline effect contexts
    for m in _ACTION.finditer(blank):
        open_at = m.end() - 1
        block_end = _close(blank, open_at)
        block = blank[open_at + 1 : block_end]
        if not re.search(r"\bresource\s*:\s*\[?\s*(?:Proctor::)?Tool\b", block):
            continue
        cm = re.search(r"\bcontext\s*:\s*\{", block)
        if cm is None:
            continue
        start = open_at + 1 + cm.end()
        body = blank[start : _close(blank, start - 1)]
        if miss := _missing(body, FLOW_CONTEXT_ATTRS):
            inserts.append((start, " " + " ".join(f"{a}: {t}," for a, t in miss)))
    for at, add in sorted(inserts, reverse=True):
        text = text[:at] + add + text[at:]
    return text


def _record_body(blank: str, spec: str) -> str:
    """The inside of a context record (a type name is looked up), comments gone, no trailing comma."""
    if spec.startswith("{"):
        body = spec[1:-1]
    else:
        span = _body_span(blank, rf"\btype\s+{spec.rsplit('::', 1)[-1]}\s*=\s*\{{")
        body = "" if span is None else blank[span[0] : span[1]]
    body = " ".join(body.split()).strip().rstrip(",").strip()
    return body


@dataclass(frozen=True)
class GeneratedSchema:
    text: str
    #: the actions of the base schema (effects, ``use_credential``)
    base_actions: frozenset[str]
    #: the effect actions (resource ``Tool``)
    effects: frozenset[str]
    #: the tool actions declared, name -> effect ("" for an action a policy names but no tool has)
    tool_actions: dict[str, str]


def tool_action_declared(tool: ToolRecord, base_actions: frozenset[str], effects: frozenset[str]) -> bool:
    """Whether ``tool`` gets its own action: its effect is an effect action and its name is not
    already an action of the base schema."""
    return tool.effect in effects and tool.name not in base_actions


def generate_schema(
    base: str,
    *,
    tools: Sequence[ToolRecord] = (),
    counters: Sequence[Any] = (),
    named_actions: Iterable[str] = (),
) -> GeneratedSchema:
    """The generated schema text. ``named_actions``: actions the policies name; those that are
    neither in the base nor a registered tool are declared without arguments."""
    text = _patch_base(base)
    blank = blank_comments(text)
    m = _NAMESPACE.search(blank)
    if m is None:
        raise PolicyLoadError(f"{SCHEMA_FILE}: has no `namespace Proctor {{ … }}` block", file=SCHEMA_FILE)
    close = _close(blank, m.end() - 1)
    actions = _actions(blank)
    base_actions = frozenset(n for a in actions for n in a.names)
    by_effect = {n: a for a in actions if re.search(r"\bTool\b", a.resource) for n in a.names}
    effects = frozenset(by_effect)
    parts: list[str] = ["", "  // ---- generated by Proctor (`proctor policy schema`) ----"]
    if not re.search(r"\btype\s+Provenance\b", blank):
        parts.append(PROVENANCE_TYPE)
    if not re.search(r"\btype\s+Destinations\b", blank):
        parts.append(DESTINATIONS_TYPE)
    if re.search(r"\btype\s+History\b", blank):
        raise PolicyLoadError(
            f"{SCHEMA_FILE}: declares `type History`, which Proctor generates from counters.yaml: remove it",
            file=SCHEMA_FILE,
        )
    hist = ", ".join(
        f"{quote_name(str(c.name))}: {_COUNTER_TYPES.get(str(c.kind), 'Bool')}" for c in counters
    )
    parts.append("  // one attribute per counter of counters.yaml")
    parts.append(f"  type History = {{{hist}}};")
    tool_actions: dict[str, str] = {}
    decls: list[str] = []
    for tool in sorted(tools, key=lambda t: t.name):
        if not tool_action_declared(tool, base_actions, effects) or tool.name in tool_actions:
            continue
        eff = by_effect[tool.effect]
        body = _record_body(blank, eff.context)
        args = cedar_type_text(parse_input_schema(tool.input_schema))
        ctx = f"{{ {body}, args: {args} }}" if body else f"{{ args: {args} }}"
        decls.append(
            f"  action {quote_name(tool.name)} in [Action::{quote_name(tool.effect)}]\n"
            f"    appliesTo {{ principal: {eff.principal}, resource: {eff.resource}, context: {ctx} }};"
        )
        tool_actions[tool.name] = tool.effect
    extra = sorted(set(named_actions) - base_actions - set(tool_actions))
    if extra and by_effect:
        first = by_effect[sorted(by_effect)[0]]
        body = _record_body(blank, first.context)
        ctx = f"{{ {body}, args: {{}} }}" if body else "{ args: {} }"
        for name in extra:
            decls.append(
                f"  // `{name}` is named by a policy but no tool of that name is registered: no arguments\n"
                f"  action {quote_name(name)}\n"
                f"    appliesTo {{ principal: {first.principal}, resource: {first.resource}, context: {ctx} }};"
            )
            tool_actions[name] = ""
    if decls:
        parts.append("  // one action per registered tool, in its effect action")
        parts.extend(decls)
    gen = "\n".join(parts) + "\n"
    out = text[:close] + gen + text[close:]
    return GeneratedSchema(out, base_actions, effects, tool_actions)
