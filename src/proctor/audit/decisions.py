"""The audit record of a decision, written in one place, and the forms of a call's arguments in it.

A decision's record holds the outcome, who called and a digest of the arguments (the arguments
themselves only when ``log_arguments`` is set); a decision whose record cannot be built or written
as canonical JSON becomes a deny with a record any log can hold (:func:`fallback_entry`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from proctor.audit.log import AuditEntry
from proctor.canonical import canonical_json
from proctor.errors import ValidationError
from proctor.flow.model import FlowFacts
from proctor.policy.engine import Decision, deny
from proctor.store.base import AgentRecord, TaskRecord
from proctor.types import Verdict


class CallFields(Protocol):
    """What a decision's record reads of the call (``proctor.pipeline.CallInput``)."""

    @property
    def tool(self) -> str: ...
    @property
    def args(self) -> Mapping[str, Any]: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def source(self) -> str: ...


def printable(value: object, limit: int = 200) -> str:
    """``value`` as text any audit record can hold, at most ``limit`` characters: never raises (a
    lone surrogate becomes U+FFFD; a value whose ``str`` fails is shown by its type)."""
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    text = text[:limit]
    return text if text.isascii() else text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def tool_label(tool: object) -> str:
    """The tool name as the audit record shows it, whatever the caller sent."""
    return printable(tool)


def _as_json(value: object) -> object:
    """What the encoder writes for a value JSON has no form for: a mapping that is not a dict as an
    object (so its nesting shows in the text, see check_args), anything else as its ``str``."""
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def _encoder(*, allow_nan: bool, ensure_ascii: bool) -> json.JSONEncoder:
    return json.JSONEncoder(
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=ensure_ascii,
        default=_as_json,
        allow_nan=allow_nan,
    )


#: built once: ``json.dumps`` with options builds an encoder per call, a good part of its cost
_ENCODERS = {
    (nan, ascii_): _encoder(allow_nan=nan, ensure_ascii=ascii_)
    for nan in (True, False)
    for ascii_ in (True, False)
}


def args_json(args: Mapping[str, Any], *, allow_nan: bool = True, ensure_ascii: bool = False) -> str:
    """The arguments as compact JSON with sorted keys (the form their digest is taken over)."""
    return _ENCODERS[allow_nan, ensure_ascii].encode(args)


def args_as_text(args: Mapping[str, Any]) -> str | None:
    """The arguments as ASCII JSON text (lone surrogates as escapes, integers exact), for an audit
    record whose arguments canonical JSON cannot hold as values; None if not even that."""
    try:
        return args_json(args, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        return None


def args_digest(args: Mapping[str, Any]) -> str | None:
    """SHA-256 of the arguments' canonical form (for the audit record when arguments are not logged).

    Never raises: the deny of a call whose arguments cannot be serialised (nested too deeply,
    circular, keys that do not sort) is recorded with no digest. A lone surrogate, which JSON text
    may carry in an escape but UTF-8 cannot, is hashed as its surrogate code point's bytes.
    """
    last = LAST_CHECKED.pair
    if last is not None and last[0] is args:
        raw = last[1]  # the text check_args made of these very arguments
    else:
        try:
            raw = args_json(args)
        except (TypeError, ValueError, RecursionError):
            return None
    return "sha256:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


#: the arguments check_args last passed and their JSON text, so the decision's record does not
#: serialise them a second time (compared by identity; one slot, replaced whole, so threads
#: sharing it can only miss, never pair one call's text with another's arguments)
class _LastChecked:
    __slots__ = ("pair",)

    def __init__(self) -> None:
        self.pair: tuple[Mapping[str, Any], str] | None = None


LAST_CHECKED = _LastChecked()


#: what an audit record holds in place of arguments that are not even JSON text (the call was denied)
UNLOGGABLE_ARGS = "<arguments not representable as JSON>"


def logged_args(args: Mapping[str, Any]) -> Any:
    """The arguments as an audit record holds them: as they are when canonical JSON can hold them;
    otherwise (integers beyond ±2**53, lone surrogates) as ``{"json": <their exact JSON text>}``,
    so an agent cannot keep its arguments out of the log by adding one such value."""
    try:
        canonical_json(args)
    except ValidationError:
        text = args_as_text(args)
        return UNLOGGABLE_ARGS if text is None else {"json": text}
    return args


def decision_entry(
    call: CallFields,
    decision: Decision,
    agent: AgentRecord | None,
    task: TaskRecord | None,
    tool: str,
    *,
    budget_used: bool,
    log_arguments: bool = False,
    facts: FlowFacts | None = None,
) -> AuditEntry:
    """The audit record of one decision (arguments as digest and names unless ``log_arguments``).

    A traced call (``facts.provenance.checked``) carries ``provenance``: each argument's name,
    origin and source tools, never a value; a call whose task read anything carries ``flow``
    (the task's high-water mark); a decision a ``@shadow`` policy would have made differently
    carries ``shadow`` (docs/adr/0025)."""
    fields: dict[str, Any] = {
        "outcome": {
            k: v for k, v in decision.to_dict().items() if k not in ("decision", "decision_id", "shadow")
        },
        "source": call.source,
        "dry_run": call.dry_run,
        "agent_spiffe_id": None if agent is None else str(agent.spiffe_id),
        "owner": None if agent is None else str(agent.owner),
        "arg_names": sorted(printable(k) for k in call.args)[:64] if isinstance(call.args, Mapping) else [],
        "args_digest": args_digest(call.args) if isinstance(call.args, Mapping) else None,
        "budget_counted": budget_used,
    }
    if task is not None and task.chain:
        # a delegated task's decision names its chain of accountability (docs/adr/0032)
        fields["chain"] = [{"agent": a, "task": t} for a, t in task.chain]
        fields["root_task"] = task.chain[0][1]
        fields["root_requester"] = str(task.requested_by)
    continuation = getattr(call, "continuation", None)
    if isinstance(continuation, Mapping):
        # a retry of a multi-round-trip call (2026-07-28): that it is one, never what it carries
        fields["continuation"] = dict(continuation)
    if log_arguments and isinstance(call.args, Mapping):
        fields["args"] = logged_args(call.args)
    if facts is not None:
        if facts.provenance.checked:
            fields["provenance"] = provenance_record(facts)
        if facts.task.outputs or facts.task.read_untrusted:
            fields["flow"] = {
                "read_untrusted": facts.task.read_untrusted,
                "max_sensitivity": facts.task.max_sensitivity.label,
                "untrusted_sources": list(facts.task.untrusted_sources),
            }
    shadow = getattr(decision, "shadow", None)
    if shadow is not None:
        verdict, policies = shadow
        fields["shadow"] = {"decision": str(verdict), "policies": list(policies)}
    return AuditEntry(
        "decision",
        fields,
        agent=None if agent is None else str(agent.name),
        task=None if task is None else str(task.id),
        tool=tool,
        decision=decision.verdict.value,
        decision_id=str(decision.decision_id),
    )


#: a nested key kept as it is in a record's argument path: a name, not a value
_KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_DIGITS = re.compile(r"\d{5}")


def record_path(path: str) -> str:
    """An argument path (``a.b[].c``) for the audit record: its first name as the caller sent it
    (``arg_names`` keeps those), each nested key that does not look like a name (an address, a URL,
    an account number: an object keyed by values) replaced by ``<key>``, so no value is kept."""
    head, dot, rest = path.partition(".")
    if not dot:
        return printable(path, 200)
    out = []
    for part in rest.split("."):
        key = part.removesuffix("[]") if part.endswith("[]") else part
        while key.endswith("[]"):
            key = key[:-2]
        suffix = part[len(key) :]
        named = _KEY_NAME.fullmatch(key) is not None and _DIGITS.search(key) is None
        out.append((key if named else "<key>") + suffix)
    return printable(head + "." + ".".join(out), 200)


def provenance_record(facts: FlowFacts) -> dict[str, Any]:
    """``Provenance.to_record()`` with each path made safe to keep (:func:`record_path`)."""
    rec = facts.provenance.to_record()
    for arg in rec.get("args", ()):
        if isinstance(arg, dict) and isinstance(arg.get("arg"), str):
            arg["arg"] = record_path(arg["arg"])
    return rec


def fallback_entry(call: CallFields, decision: Decision, policy_version: str) -> tuple[Decision, AuditEntry]:
    """A deny, and a record of it that any log can hold, for a decision whose own record could not
    be built or written as canonical JSON (input quoted in a reason, a field no JSON can hold).

    Nothing the caller sent is in it but the tool's name, made printable; the reasons of a deny are
    kept (made printable) with their error codes, and an allow becomes a deny.
    """
    reasons = [printable(r, 500) for r in decision.reasons] if decision.verdict is Verdict.DENY else []
    codes = [e for e in decision.errors if isinstance(e, str) and e.isascii()][:8]
    denied = deny(
        "; ".join(
            [*reasons, "the decision's audit record could not be written as given: the call is denied"]
        ),
        policy_version,
        errors=(*codes, "audit_record_invalid"),
    )
    outcome = {k: v for k, v in denied.to_dict().items() if k not in ("decision", "decision_id")}
    return denied, AuditEntry(
        "decision",
        {"outcome": outcome},
        tool=tool_label(call.tool),
        decision=denied.verdict.value,
        decision_id=str(denied.decision_id),
    )


__all__ = [
    "LAST_CHECKED",
    "UNLOGGABLE_ARGS",
    "CallFields",
    "args_as_text",
    "args_digest",
    "args_json",
    "decision_entry",
    "fallback_entry",
    "logged_args",
    "printable",
    "provenance_record",
    "record_path",
    "tool_label",
]
