"""Proctor's own records: agents and their owners, tasks, the audit log's last activity, policies
and pinned tool definitions.

An agent's owner "is an approver" when a local account with that e-mail exists and is not
disabled; a workspace with no accounts at all (CLI-only) is not judged on this.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from proctor.posture.files import poisoning
from proctor.posture.findings import Finding, Severity, finding
from proctor.store.base import AgentRecord, AuditRow, TaskRecord, ToolPin, UserRecord
from proctor.types import TaskState

#: the actions that change the world: each needs an ``@approval`` permit if any permit allows it
RISKY_ACTIONS = ("write", "execute", "send", "pay", "deploy")
DAY = 86400.0


@dataclass
class AuditSummary:
    """What the scan needs from the audit log, read in one pass."""

    #: the time of each agent's last audit record
    agents: dict[str, float] = field(default_factory=dict)
    #: the time each policy (by ``@id``) last determined an allow or an approval
    permits: dict[str, float] = field(default_factory=dict)
    #: the time of the first record (None: an empty log)
    first: float | None = None


def summarize_audit(rows: Iterable[AuditRow]) -> AuditSummary:
    out = AuditSummary()
    for row in rows:
        if out.first is None:
            out.first = row.ts
        if row.agent and row.ts > out.agents.get(row.agent, 0.0):
            out.agents[row.agent] = row.ts
        if row.kind == "decision" and row.decision in ("allow", "approval_required"):
            try:
                body = orjson.loads(row.body)
                policies = body.get("outcome", {}).get("policies") or []
            except (orjson.JSONDecodeError, AttributeError):
                continue
            for pid in policies:
                if isinstance(pid, str) and row.ts > out.permits.get(pid, 0.0):
                    out.permits[pid] = row.ts
    return out


def last_activity(rows: Iterable[AuditRow]) -> dict[str, float]:
    """The time of each agent's last audit record."""
    return summarize_audit(rows).agents


def unused_permits(
    directory: Path, audit: AuditSummary, now: float, *, unused_days: float = 30.0
) -> list[Finding]:
    """Permits (with an ``@id``) that determined no allow or approval for ``unused_days``; judged
    only when the audit log goes back that far."""
    import cedarpy

    from proctor.policy.loader import split_statements

    if audit.first is None or now - audit.first < unused_days * DAY:
        return []
    out: list[Finding] = []
    for path in sorted(directory.glob("*.cedar")):
        for line, stmt in split_statements(path.read_text("utf-8", errors="replace")):
            try:
                est = json.loads(cedarpy.policies_to_json_str(stmt))
            except Exception:  # noqa: S112 - an unparsable policy is `policy check`'s business
                continue
            for body in est.get("staticPolicies", {}).values():
                if body.get("effect") != "permit":
                    continue
                # the id decisions name a policy by (proctor.policy.loader.compile_policies)
                pid = (body.get("annotations") or {}).get("id") or f"{path.name}:{line}"
                last = audit.permits.get(pid)
                if last is None or now - last > unused_days * DAY:
                    since = (
                        "never in the audit log"
                        if last is None
                        else f"not for {int((now - last) // DAY)} days"
                    )
                    out.append(
                        finding(
                            "policy.unused-permit",
                            f"{path}:{line}",
                            f"permit `{pid}` used {since}",
                            subject=pid,
                        )
                    )
    return out


def agent_findings(
    agents: Sequence[AgentRecord],
    users: Sequence[UserRecord],
    tasks: Sequence[TaskRecord],
    activity: dict[str, float],
    now: float,
    *,
    idle_days: float = 30.0,
    task_max_days: float = 7.0,
) -> list[Finding]:
    out: list[Finding] = []
    approvers = {str(u.email).lower() for u in users if not u.disabled}
    for a in agents:
        if a.status.value == "retired":
            continue
        where = f"agent:{a.name}"
        owner = str(a.owner or "")
        if not owner:
            out.append(
                finding("agent.no-owner", where, f"agent `{a.name}` has no owner", subject=str(a.name))
            )
        elif users and owner.lower() not in approvers:
            out.append(
                finding(
                    "agent.owner-not-approver",
                    where,
                    f"owner `{owner}` of `{a.name}` has no active approver account",
                    subject=str(a.name),
                )
            )
        seen = max(activity.get(str(a.name), 0.0), a.created_at)
        if now - seen > idle_days * DAY:
            out.append(
                finding(
                    "agent.idle",
                    where,
                    f"`{a.name}` idle for {int((now - seen) // DAY)} days (last activity in the audit log)",
                    subject=str(a.name),
                )
            )
    for t in tasks:
        if t.state is TaskState.ACTIVE and t.deadline - t.created_at > task_max_days * DAY:
            out.append(
                finding(
                    "task.never-ends",
                    f"task:{t.id}",
                    f"task {t.id} of `{t.agent}` lasts {int((t.deadline - t.created_at) // DAY)} days",
                    subject=str(t.agent),
                )
            )
    return out


def _covers(scope: dict[str, Any], action: str) -> bool:
    op = scope.get("op")
    if op == "All":
        return True
    if op == "==":
        return bool(scope.get("entity", {}).get("id") == action)
    if op == "in":
        ents = scope.get("entities") or ([scope["entity"]] if "entity" in scope else [])
        return any(e.get("id") == action for e in ents)
    return False


def policy_findings(directory: Path) -> list[Finding]:
    """Permits without conditions, and risky actions some permit allows with no ``@approval`` permit."""
    import cedarpy

    from proctor.policy.loader import split_statements

    out: list[Finding] = []
    plain: dict[str, str] = {}
    approval: set[str] = set()
    for path in sorted(directory.glob("*.cedar")):
        text = path.read_text("utf-8", errors="replace")
        for line, stmt in split_statements(text):
            try:
                est = json.loads(cedarpy.policies_to_json_str(stmt))
            except Exception:  # noqa: S112 - an unparsable policy is `policy check`'s business
                continue
            for body in est.get("staticPolicies", {}).values():
                if body.get("effect") != "permit":
                    continue
                ann = body.get("annotations") or {}
                pid = ann.get("id") or f"{path.name}:{line}"
                loc = f"{path}:{line}"
                if not body.get("conditions"):
                    scopes = [body.get(k, {}).get("op") for k in ("principal", "action", "resource")]
                    sev = "critical" if all(s == "All" for s in scopes) else None
                    out.append(
                        finding(
                            "policy.unconditional-permit",
                            loc,
                            f"permit `{pid}` has no `when`/`unless` condition",
                            severity=Severity(sev) if sev else None,
                            subject=str(pid),
                        )
                    )
                for action in RISKY_ACTIONS:
                    if _covers(body.get("action", {}), action):
                        if "approval" in ann:
                            approval.add(action)
                        else:
                            plain.setdefault(action, loc)
    for action in RISKY_ACTIONS:
        if action in plain and action not in approval:
            out.append(
                finding(
                    "policy.no-approval-path",
                    plain[action],
                    f"`{action}` is permitted but no `@approval` permit covers it",
                    subject=action,
                )
            )
    return out


def pin_findings(pins: Sequence[ToolPin], current: dict[str, dict[str, Any]] | None = None) -> list[Finding]:
    """Pinned definitions carrying instructions to the model, and (given what the upstreams list
    now, by Proctor tool name) pinned tools whose definition changed."""
    from proctor.gateway.pinning import tool_digest

    out: list[Finding] = []
    for pin in pins:
        desc = str(pin.definition.get("description") or "")
        why = poisoning(desc)
        if why:
            out.append(
                finding(
                    "tool.poisoned-description",
                    f"pin:{pin.name}",
                    f"pinned `{pin.name}`: " + "; ".join(why),
                    subject=str(pin.name),
                )
            )
        if current is not None and pin.name in current:
            now_def = current[pin.name]
            if tool_digest(now_def) != pin.digest:
                changed = sorted(
                    k for k in set(now_def) | set(pin.definition) if now_def.get(k) != pin.definition.get(k)
                )
                out.append(
                    finding(
                        "tool.pin-changed",
                        f"pin:{pin.name}",
                        f"`{pin.name}` changed since pinned by {pin.pinned_by}: {', '.join(changed)}",
                        subject=str(pin.name),
                    )
                )
                why = poisoning(str(now_def.get("description") or ""))
                if why:
                    out.append(
                        finding(
                            "tool.poisoned-description",
                            f"upstream:{pin.name}",
                            f"current `{pin.name}`: " + "; ".join(why),
                            subject=str(pin.name),
                        )
                    )
    return out


__all__ = [
    "RISKY_ACTIONS",
    "AuditSummary",
    "agent_findings",
    "last_activity",
    "pin_findings",
    "policy_findings",
    "summarize_audit",
    "unused_permits",
]
