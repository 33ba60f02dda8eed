"""Policy test cases as data: ``proctor policy test CASES.yaml`` and ``tests/scenarios/*.yaml``.

A file declares agents, tools and tasks inline (tools may also come from the workspace) and lists
calls with the decision each must get. A case with ``credential: {name, provider, upstream}`` instead
of ``tool`` asks whether the task may obtain that credential (action ``use_credential``); its effects
are those of the file's tools of that upstream the task declared, unless the case lists
``effects``. Unknown keys are refused, so a typo cannot hide a case.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from proctor.config import tool_from_mapping
from proctor.errors import ValidationError
from proctor.flow.model import (
    ArgOrigin,
    FlowFacts,
    Origin,
    Provenance,
    Sensitivity,
    TaskLabels,
    internal_domains,
)
from proctor.policy.engine import CredentialRef, Decision, PolicyEngine
from proctor.policy.scope import declares_namespace
from proctor.store.base import AgentRecord, TaskRecord, ToolRecord
from proctor.types import (
    AgentName,
    AgentStatus,
    Email,
    SpiffeId,
    TaskId,
    TaskState,
    ToolName,
    TrustDomain,
    Verdict,
)
from proctor.validate import check_keys

__all__ = [
    "CaseResult",
    "case_facts",
    "case_tools",
    "load_cases",
    "run_cases",
    "task_id_for",
]


_TOP = {"trust_domain", "agents", "tools", "tasks", "cases", "now"}
_AGENT = {"owner", "status"}
_TASK = {"agent", "purpose", "allow", "resources", "state", "requested_by", "ttl", "parent"}
_CASE = {
    "name",
    "agent",
    "task",
    "tool",
    "args",
    "credential",
    "effects",
    "expect",
    "policies",
    "reason_contains",
    "facts",
    "shadow",
}
_FACTS = {
    "read_untrusted",
    "max_sensitivity",
    "checked",
    "args",
    "history",
    "destinations",
    "embedded_domains",
    "off_param",
    "internal_domains",
    "carries_confidential",
    "recipient_by_reference",
    "reply_to_sender",
    "carries_secret",
    "payment_requested",
    "named_domains",
    "amount_off_record",
}
_ARG_ORIGIN = {"origin", "sources", "destination", "domains", "object", "steered", "amount", "stated"}
_CREDENTIAL = {"name", "provider", "upstream"}
_EXPECT = {"allow": Verdict.ALLOW, "deny": Verdict.DENY, "approval_required": Verdict.APPROVAL_REQUIRED}


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    expected: Verdict
    decision: Decision
    ok: bool
    problem: str = ""


def _keys(where: str, raw: Any, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{where}: expected a mapping")
    check_keys(raw, allowed, where)
    return raw


def task_id_for(name: str) -> TaskId:
    """A stable task id for a task named in a case file."""
    return TaskId("tsk_" + hashlib.sha256(name.encode()).hexdigest()[:22])


def load_cases(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"`{path}` not found") from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"{path.name}: not valid YAML ({exc})") from None
    return dict(_keys(path.name, data, _TOP))


def case_tools(data: Mapping[str, Any], where: str = "cases") -> list[ToolRecord]:
    """The tools a case file declares (the policy set is compiled with them)."""
    out: list[ToolRecord] = []
    for name, raw in (data.get("tools") or {}).items():
        tool_raw = dict(raw or {})
        tool_raw["name"] = name
        out.append(tool_from_mapping(tool_raw, f"{where}: tools.{name}"))
    return out


def case_facts(raw: Any, where: str) -> FlowFacts:
    """A case's ``facts``: what the flow stage would know of the call, written out::

    facts:
      read_untrusted: true            # the task read untrusted output
      max_sensitivity: confidential   # the most sensitive output it read
      args:                           # where argument values came from (traced: checked)
        iban: {origin: untrusted, destination: true, sources: [mail.read]}
        amount: intent                # an origin alone
      history: {spend_today: 1200.50, paid_before: true}
      destinations: [evil.example]
      embedded_domains: [evil.example]  # domains of untrusted links in free text (``text#url``)
      off_param: [amount]             # arguments named like a --param, with another value
      carries_confidential: true      # a fetch's URL carries a value of a confidential output
      recipient_by_reference: true    # a message whose destination is the record it answers
      reply_to_sender: true           # its untrusted destinations are the author of what was read
      carries_secret: true            # the arguments carry a credential or a secret output's token
      payment_requested: true         # a payment the request asked for (default: true for a pay)
      amount_off_record: true         # its amount is not the one a trusted record of it states
      named_domains: [summit.example] # destination domains named as a party by the request

    An argument marked ``amount: true`` (``unit_price: {origin: untrusted, amount: true}``) says how
    much (a number, or named like an amount: ``untrusted_amount``); with every amount traced (origin
    intent or trusted) ``amount_traced`` is true, unless one is also marked ``stated: true`` (a
    trusted record holds it and untrusted content states it too).

    An argument marked ``steered: true`` (``amount: {origin: untrusted, steered: true}``) was
    found in an output that gave the agent orders (``steered_args``).

    A destination marked ``object: true`` (``file_id: {origin: intent, destination: true, object:
    true}``) names what an access change acts on, not who gets in (``audience_seen``).

    A destination's ``domains`` (``to[]: {origin: none, destination: true, domains: [acme.com]}``)
    say whether it stays inside (``internal_domains``, the owner's and requester's domains); a
    destination without them has no domain (an IBAN, a channel): never inside.
    """
    f = _keys(where, raw, _FACTS)
    try:
        sens = Sensitivity.parse(str(f.get("max_sensitivity", "public")))
    except ValueError as exc:
        raise ValidationError(f"{where}: {exc}") from None
    untrusted = bool(f.get("read_untrusted", False))
    labels = TaskLabels(read_untrusted=untrusted, max_sensitivity=sens)
    origins: list[ArgOrigin] = []
    objects: list[str] = []
    steered: list[str] = []
    amounts: list[str] = []
    stated: list[str] = []
    raw_args = f.get("args") or {}
    if not isinstance(raw_args, Mapping):
        raise ValidationError(f"{where}: `args` maps argument paths to origins")
    for path, given in sorted(raw_args.items()):
        spec = {"origin": given} if isinstance(given, str) else given
        a = _keys(f"{where}: args.{path}", spec, _ARG_ORIGIN)
        try:
            origin = Origin(str(a.get("origin", "none")))
        except ValueError:
            raise ValidationError(
                f"{where}: args.{path}: origin is one of {', '.join(o.value for o in Origin)}"
            ) from None
        if a.get("object"):
            objects.append(str(path))
        if a.get("steered"):
            steered.append(str(path))
        if a.get("amount"):
            amounts.append(str(path))
        if a.get("stated"):
            stated.append(str(path))
        doms = a.get("domains") or []
        if not isinstance(doms, list):
            raise ValidationError(f"{where}: args.{path}: `domains` is a list")
        origins.append(
            ArgOrigin(
                str(path),
                origin,
                tuple(str(x) for x in a.get("sources") or ()),
                bool(a.get("destination")),
                tuple(sorted({str(d).lower() for d in doms})),
            )
        )
    checked = bool(f.get("checked", bool(origins)))
    history: list[tuple[str, int | Decimal | bool]] = []
    raw_hist = f.get("history") or {}
    if not isinstance(raw_hist, Mapping):
        raise ValidationError(f"{where}: `history` maps counter names to values")
    for name, v in sorted(raw_hist.items()):
        if isinstance(v, bool | int):
            history.append((str(name), v))
        elif isinstance(v, float | str):
            try:
                history.append((str(name), Decimal(str(v))))
            except ArithmeticError:
                raise ValidationError(f"{where}: history.{name}: not a number") from None
        else:
            raise ValidationError(f"{where}: history.{name}: a number or true/false")
    dests = f.get("destinations") or []
    if not isinstance(dests, list):
        raise ValidationError(f"{where}: `destinations` is a list of domains")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("embedded_domains", "off_param", "internal_domains", "named_domains"):
        got = f.get(key) or []
        if not isinstance(got, list):
            raise ValidationError(f"{where}: `{key}` is a list")
        lists[key] = tuple(sorted({str(x) for x in got}))
    return FlowFacts(
        task=labels,
        provenance=Provenance(
            checked,
            tuple(origins),
            embedded_domains=lists["embedded_domains"],
            off_param=lists["off_param"],
            carries_confidential=bool(f.get("carries_confidential", False)),
            carries_secret=bool(f.get("carries_secret", False)),
            payment_requested=bool(f.get("payment_requested", True)),
            amount_off_record=bool(f.get("amount_off_record", False)),
            objects=tuple(objects),
            steered=tuple(sorted(steered)),
            by_reference=bool(f.get("recipient_by_reference", False)),
            named_domains=tuple(d.lower() for d in lists["named_domains"]),
            amounts=tuple(sorted(amounts)),
            amounts_stated=tuple(sorted(stated)),
            to_sender=tuple(
                sorted(
                    a.path
                    for a in origins
                    if a.destination and a.origin is Origin.UNTRUSTED and f.get("reply_to_sender")
                )
            ),
        ),
        history=tuple(history),
        destinations=tuple(sorted({str(d).lower() for d in dests})),
        internal=internal_domains(lists["internal_domains"]),
    )


def run_cases(
    data: Mapping[str, Any],
    engine: PolicyEngine,
    *,
    fallback_tool: Callable[[ToolName], ToolRecord | None] | None = None,
    where: str = "cases",
) -> list[CaseResult]:
    """Decide every case with ``engine`` and compare with its expectation."""
    td = TrustDomain(str(data.get("trust_domain", "proctor.local")))
    now = float(data.get("now", 1_767_225_600))
    agents: dict[str, AgentRecord] = {}
    for name, raw in (data.get("agents") or {}).items():
        a = _keys(f"{where}: agents.{name}", raw or {}, _AGENT)
        an = AgentName(name)
        agents[name] = AgentRecord(
            an,
            SpiffeId.for_agent(td, an),
            Email(str(a.get("owner", "owner@example.com"))),
            AgentStatus(a.get("status", "active")),
            (),
            now,
            now,
        )
    tools: dict[str, ToolRecord] = {}
    for name, raw in (data.get("tools") or {}).items():
        tool_raw = dict(raw or {})
        tool_raw["name"] = name
        tools[name] = tool_from_mapping(tool_raw, f"{where}: tools.{name}")
    tasks: dict[str, TaskRecord] = {}
    for name, raw in (data.get("tasks") or {}).items():
        t = _keys(f"{where}: tasks.{name}", raw or {}, _TASK)
        if "agent" not in t:
            raise ValidationError(f"{where}: tasks.{name}: `agent` is required")
        tasks[name] = TaskRecord(
            id=task_id_for(name),
            agent=AgentName(str(t["agent"])),
            purpose=str(t.get("purpose", name)),
            allow=tuple(t.get("allow") or ("*",)),
            resources=tuple(t.get("resources") or ()),
            requested_by=Email(str(t.get("requested_by", "requester@example.com"))),
            state=TaskState(t.get("state", "active")),
            created_at=now - 1,
            deadline=now + float(t.get("ttl", 900)),
            parent_id=None if t.get("parent") is None else task_id_for(str(t["parent"])),
        )
    results: list[CaseResult] = []
    raw_cases = data.get("cases") or []
    if not isinstance(raw_cases, list) or not raw_cases:
        raise ValidationError(f"{where}: `cases` must be a non-empty list")
    for i, raw in enumerate(raw_cases):
        c = _keys(f"{where}: cases[{i}]", raw, _CASE)
        label = str(c.get("name", f"case {i + 1}"))
        subject = "credential" if "credential" in c else "tool"
        if "credential" in c and "tool" in c:
            raise ValidationError(f"{where}: case `{label}`: give `tool` or `credential`, not both")
        for req in ("agent", "task", subject, "expect"):
            if req not in c:
                raise ValidationError(f"{where}: case `{label}`: `{req}` is required")
        expect = _EXPECT.get(str(c["expect"]))
        if expect is None:
            raise ValidationError(f"{where}: case `{label}`: expect is one of {', '.join(_EXPECT)}")
        agent = agents.get(str(c["agent"]))
        task = tasks.get(str(c["task"]))
        if agent is None or task is None:
            missing = "agent" if agent is None else "task"
            raise ValidationError(f"{where}: case `{label}`: unknown {missing} `{c[missing]}`")
        if subject == "credential":
            decision = _decide_credential(c, label, where, engine, agent, task, tools, now)
        else:
            tool = tools.get(str(c["tool"]))
            if tool is None and fallback_tool is not None:
                tool = fallback_tool(ToolName(str(c["tool"])))
            if tool is None:
                raise ValidationError(f"{where}: case `{label}`: unknown tool `{c['tool']}`")
            args = c.get("args") or {}
            if not isinstance(args, Mapping):
                raise ValidationError(f"{where}: case `{label}`: `args` must be a mapping")
            facts = None if "facts" not in c else case_facts(c["facts"], f"{where}: case `{label}`: facts")
            if facts is not None and not facts.internal:
                # as the flow stage does: the owner's and the requester's domains are inside
                facts = dataclasses.replace(
                    facts, internal=internal_domains((), str(agent.owner), str(task.requested_by))
                )
            decision = engine.decide(agent, task, tool, args, now, facts)
        problems = []
        if decision.verdict is not expect:
            problems.append(
                f"expected {expect.value}, got {decision.verdict.value}: {'; '.join(decision.reasons)}"
            )
        if "policies" in c and sorted(c["policies"] or []) != sorted(decision.policies):
            problems.append(
                f"expected policies {sorted(c['policies'] or [])}, got {sorted(decision.policies)}"
            )
        if "shadow" in c:
            want = None if c["shadow"] is None else _EXPECT.get(str(c["shadow"]))
            if c["shadow"] is not None and want is None:
                raise ValidationError(
                    f"{where}: case `{label}`: shadow is one of {', '.join(_EXPECT)} or null"
                )
            got = None if decision.shadow is None else decision.shadow[0]
            if got != (None if want is None else want.value):
                problems.append(f"expected shadow {None if want is None else want.value}, got {got}")
        if "reason_contains" in c and str(c["reason_contains"]) not in " ".join(decision.reasons):
            problems.append(f"no reason contains `{c['reason_contains']}`")
        results.append(CaseResult(label, expect, decision, not problems, "; ".join(problems)))
    return results


def _decide_credential(
    c: Mapping[str, Any],
    label: str,
    where: str,
    engine: PolicyEngine,
    agent: AgentRecord,
    task: TaskRecord,
    tools: Mapping[str, ToolRecord],
    now: float,
) -> Decision:
    cred = _keys(f"{where}: case `{label}`: credential", c["credential"], _CREDENTIAL)
    if "name" not in cred or "provider" not in cred:
        raise ValidationError(f"{where}: case `{label}`: a credential needs `name` and `provider`")
    upstream = str(cred.get("upstream", ""))
    if "effects" in c:
        raw = c["effects"]
        if not isinstance(raw, list) or not all(isinstance(e, str) for e in raw):
            raise ValidationError(f"{where}: case `{label}`: `effects` is a list of effect names")
        effects = frozenset(raw)
    else:
        effects = frozenset(
            t.effect
            for name, t in tools.items()
            if (not upstream or name.startswith(f"{upstream}."))
            and any(fnmatchcase(name, p) for p in task.allow)
        )
    ref = CredentialRef(str(cred["name"]), str(cred["provider"]), upstream)
    declared = declares_namespace(task.allow, upstream) if upstream else False
    return engine.decide_credential(agent, task, ref, upstream_declared=declared, effects=effects, now=now)
