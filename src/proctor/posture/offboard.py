"""Offboarding (OWASP NHI1:2025 Improper Offboarding): ``proctor agent retire NAME``.

Retiring an agent ends its active tasks (which revokes their leases), revokes its remaining leases
and OAuth grants, spends its unused join tokens, drops its selectors (nothing attests as it any
more) and marks it ``retired``, a status no command turns back to ``active``. The record stays,
and so does every audit record about it: retiring is not deleting. The whole is audited as
``agent.retired`` with what was revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proctor.errors import Conflict
from proctor.types import AgentName, AgentStatus, TaskState


@dataclass(frozen=True)
class Retired:
    agent: str
    tasks_ended: int
    leases_revoked: int
    join_tokens_revoked: int
    grants_revoked: int
    selectors_removed: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def retire(p: Any, name: str, *, by: str = "cli", reason: str = "") -> Retired:
    """Retire agent ``name`` of the open Proctor ``p`` (see the module docstring)."""
    agent = p.agents.get(name)
    if agent.status is AgentStatus.RETIRED:
        raise Conflict(f"agent `{name}` is already retired")
    why = reason[:200] or "agent retired"
    now = p.clock.now()
    # first the identity: from here on nothing new can be issued to it
    rec, tokens = p.store.retire_agent(AgentName(name), now)
    p.agents.keys.invalidate()
    ended = 0
    for task in p.tasks.list(agent=name, state=TaskState.ACTIVE.value):
        try:
            p.tasks.end(str(task.id), state=TaskState.CANCELLED, by=by, reason=why)
            ended += 1
        except Conflict:  # ended meanwhile
            continue
    summary = p.credentials.leases.revoke_agent(rec.name, why)
    leases = len(summary.ended)
    grants = sum(
        1 for g in p.store.list_oauth_grants(agent=name) if p.store.revoke_oauth_grant(g.id, now, why)
    )
    done = Retired(name, ended, leases, tokens, grants, len(agent.selectors))
    p.audit.append(
        "agent.retired",
        {"by": by, "reason": reason[:500], **{k: v for k, v in done.to_dict().items() if k != "agent"}},
        agent=name,
    )
    return done


__all__ = ["Retired", "retire"]
