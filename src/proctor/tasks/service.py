"""Tasks: start, end and sweep them, and the task tokens that bind a call to one.

Every change to a task is audited here (``task.started``, ``task.ended``, ``task.expired``). What
a task's end means for other stages (its leases are revoked) is wired by ``Proctor``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from proctor.audit.log import AuditLog
from proctor.clock import Clock
from proctor.config import Settings
from proctor.errors import (
    Conflict,
    ProctorError,
    TaskTokenInvalid,
    UnknownTask,
    ValidationError,
)
from proctor.identity.agents import Agents
from proctor.identity.keys import SigningKeys
from proctor.policy.scope import check_resource_pattern, check_tool_pattern
from proctor.store.base import AgentRecord, Store, TaskRecord
from proctor.tasks.intent import MAX_PARAM_VALUE, MAX_PARAMS, MAX_PURPOSE, check_params
from proctor.tasks.templates import Templates
from proctor.types import AgentName, AgentStatus, Email, TaskId, TaskState

TASK_AUDIENCE = "proctor:task"


@dataclass(frozen=True, slots=True)
class StartedTask:
    task: TaskRecord
    token: str


def task_view(task: TaskRecord) -> dict[str, Any]:
    """The JSON shape the CLI and the HTTP API show of a task, with its intent parameters."""
    view = task.to_dict()
    view.setdefault("params", dict(task.params))
    return view


def parse_param(raw: str) -> tuple[str, str]:
    """``NAME=VALUE`` (``--param``) as a pair; checked by :func:`check_params`."""
    name, sep, value = raw.partition("=")
    if not sep:
        raise ValidationError(f"--param takes NAME=VALUE, not `{raw[:80]}`", field="params")
    return name.strip(), value


class Tasks:
    """The tasks of one workspace."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        audit: AuditLog,
        keys: SigningKeys,
        agents: Agents,
        *,
        on_ended: Callable[[TaskRecord, str], None] | None = None,
        before_sweep: Callable[[], None] | None = None,
        after_sweep: Callable[[float], None] | None = None,
        on_expired: Callable[[builtins.list[TaskRecord]], None] | None = None,
    ) -> None:
        """``on_ended(task, reason)`` runs after an end is recorded (revokes its leases);
        ``before_sweep()`` and ``after_sweep(now)`` around expiring tasks (pending kills, lease
        upkeep); ``on_expired(tasks)`` after a sweep expired some (the flow stage forgets them).
        None of them may raise: ``Proctor`` wires them so."""
        self.settings = settings
        self.store = store
        self.clock = clock
        self.audit = audit
        #: signs task tokens (the workspace's SVID ring)
        self.keys = keys
        self.agents = agents
        self.on_ended = on_ended
        self.before_sweep = before_sweep
        self.after_sweep = after_sweep
        self.on_expired = on_expired
        #: the stored task intents agents may start tasks from (docs/adr/0029)
        self.templates = Templates(settings, store, clock, audit, agents)

    def _audit(self, kind: str, fields: dict[str, Any], **index: str | None) -> None:
        self.audit.append(kind, fields, **index)

    def start(
        self,
        *,
        agent: str,
        purpose: str,
        allow: Sequence[str],
        requested_by: str,
        resources: Sequence[str] = (),
        ttl_s: float | None = None,
        max_calls: int | None = None,
        parent: str | None = None,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        _template: tuple[str, str] | None = None,
    ) -> StartedTask:
        rec_agent = self.agents.get(agent)
        if rec_agent.status is not AgentStatus.ACTIVE:
            raise ValidationError(f"agent `{agent}` is suspended: it cannot start tasks")
        purpose = purpose.strip()
        if not purpose or len(purpose) > MAX_PURPOSE:
            raise ValidationError(f"a task needs a purpose of 1 to {MAX_PURPOSE} characters")
        if not allow:
            raise ValidationError(
                "a task must declare at least one tool it may call: pass --allow TOOL_OR_PATTERN"
            )
        pats = tuple(check_tool_pattern(p) for p in dict.fromkeys(allow))
        res = tuple(check_resource_pattern(r) for r in dict.fromkeys(resources))
        ttl = self.settings.task_default_ttl_s if ttl_s is None else ttl_s
        if not 0 < ttl <= self.settings.task_max_ttl_s:
            raise ValidationError(f"task ttl must be between 1s and {self.settings.task_max_ttl_s:g}s")
        if max_calls is not None and max_calls < 1:
            raise ValidationError("--max-calls must be at least 1")
        task_params = check_params(params)
        parent_id = None
        if parent is not None:
            parent_id = TaskId(parent)
            if self.store.get_task(parent_id) is None:
                raise UnknownTask(f"unknown parent task `{parent}`")
        now = self.clock.now()
        task = TaskRecord(
            id=TaskId.new(),
            agent=rec_agent.name,
            purpose=purpose,
            allow=pats,
            resources=res,
            requested_by=Email(requested_by),
            state=TaskState.ACTIVE,
            created_at=now,
            deadline=now + ttl,
            max_calls=max_calls,
            parent_id=parent_id,
            params=task_params,
        )
        self.store.add_task(task)
        token = self.keys.sign_claims(
            {"sub": str(rec_agent.spiffe_id), "aud": [TASK_AUDIENCE], "task": str(task.id)}, now, ttl
        )
        self._audit(
            "task.started",
            {
                "purpose": purpose,
                "allow": list(pats),
                "resources": list(res),
                "requested_by": str(task.requested_by),
                "deadline": int(task.deadline),
                "max_calls": max_calls,
                "parent": parent_id,
                # names only: a value (a recipient, an IBAN) is the requester's, not the log's
                "params": [name for name, _ in task_params],
                **({} if _template is None else {"template": _template[0], "via": _template[1]}),
            },
            agent=str(rec_agent.name),
            task=str(task.id),
        )
        return StartedTask(task, token)

    def start_from_template(
        self, name: str, *, agent: str, requested_by: str | None = None, via: str = "cli"
    ) -> StartedTask:
        """A task started from template ``name`` for ``agent``: refused for an unknown template, an
        agent the template does not list, a suspended agent, and a template with no requester when
        none is given. ``requested_by`` is used only when the template names no requester (a
        template's requester is never overridden). Audited as ``task.started`` with the template's
        name and ``via`` (``cli``, ``stdio``, ``api``)."""
        template = self.templates.get(name)
        if agent not in template.agents:
            raise ValidationError(
                f"agent `{str(agent)[:80]}` may not start tasks from template `{template.name}`"
                f" (it lists: {', '.join(template.agents)})",
                field="agent",
            )
        requester = template.requested_by or requested_by
        if not requester:
            raise ValidationError(
                f"template `{template.name}` names no requester: the person starting the task must"
                " be given (--requested-by EMAIL)",
                field="requested_by",
            )
        return self.start(
            agent=agent,
            purpose=template.purpose,
            allow=template.allow,
            requested_by=requester,
            resources=template.resources,
            ttl_s=template.ttl_s,
            max_calls=template.max_calls,
            params=template.params,
            _template=(template.name, via),
        )

    def verify_token(self, token: str, agent: AgentRecord) -> TaskId:
        """The task a token names, after checking it is bound to ``agent``."""
        try:
            claims = self.keys.verify_claims(token, TASK_AUDIENCE, self.clock.now())
        except ProctorError as exc:
            raise TaskTokenInvalid(f"task token rejected: {exc.message}") from None
        if claims.get("sub") != str(agent.spiffe_id):
            raise TaskTokenInvalid("task token was issued to another agent")
        raw = claims.get("task")
        if not isinstance(raw, str):
            raise TaskTokenInvalid("task token names no task")
        return TaskId(raw)

    def verify_token_until(self, token: str, agent: AgentRecord) -> tuple[TaskId, float]:
        """:meth:`verify_token`, and until when that check holds (the token's ``exp``)."""
        try:
            claims = self.keys.verify_claims(token, TASK_AUDIENCE, self.clock.now())
        except ProctorError as exc:
            raise TaskTokenInvalid(f"task token rejected: {exc.message}") from None
        if claims.get("sub") != str(agent.spiffe_id):
            raise TaskTokenInvalid("task token was issued to another agent")
        raw = claims.get("task")
        if not isinstance(raw, str):
            raise TaskTokenInvalid("task token names no task")
        return TaskId(raw), float(claims["exp"])

    def get(self, task_id: str) -> TaskRecord:
        rec = self.store.get_task(TaskId(task_id))
        if rec is None:
            raise UnknownTask(f"unknown task `{task_id}`")
        return self.expire_if_due(rec)

    def expire_if_due(self, rec: TaskRecord) -> TaskRecord:
        """``rec`` as it is once a sweep has run, if its deadline has passed."""
        if rec.state is TaskState.ACTIVE and self.clock.now() >= rec.deadline:
            self.sweep()
            fresh = self.store.get_task(rec.id)
            return fresh or rec
        return rec

    def end(
        self, task_id: str, *, state: TaskState = TaskState.COMPLETED, by: str = "cli", reason: str = ""
    ) -> TaskRecord:
        if state not in (TaskState.COMPLETED, TaskState.CANCELLED):
            raise ValidationError("a task ends as `completed` or `cancelled`")
        current = self.get(task_id)
        if current.state is not TaskState.ACTIVE:
            raise Conflict(f"task `{task_id}` is already {current.state.value}")
        rec = self.store.end_task(current.id, state, self.clock.now(), reason[:500] or state.value)
        if rec is None:
            raise Conflict(f"task `{task_id}` is no longer active")
        self._audit(
            "task.ended",
            {"state": state.value, "by": by, "reason": reason[:500]},
            agent=str(rec.agent),
            task=str(rec.id),
        )
        if self.on_ended is not None:
            self.on_ended(rec, f"task {state.value}")
        return rec

    def record_ended_late(
        self, task_id: TaskId, state: TaskState, fields: dict[str, Any]
    ) -> TaskRecord | None:
        """Record a task end that was enforced from the kill file while the store or the log
        failed (see :mod:`proctor.killswitch`); None when the task is unknown."""
        task = self.store.get_task(task_id)
        if task is None:
            return None
        if task.state is TaskState.ACTIVE:
            task = (
                self.store.end_task(task.id, state, self.clock.now(), fields["reason"] or state.value) or task
            )
        self._audit(
            "task.ended",
            {**fields, "state": task.state.value},
            agent=str(task.agent),
            task=str(task.id),
        )
        return task

    def sweep(self) -> builtins.list[TaskRecord]:
        """Expire tasks past their deadline (calls are denied at the deadline whether or not this ran)."""
        if self.before_sweep is not None:
            self.before_sweep()
        now = self.clock.now()
        expired = self.store.expire_tasks(now)
        for t in expired:
            self._audit("task.expired", {"deadline": int(t.deadline)}, agent=str(t.agent), task=str(t.id))
        if expired and self.on_expired is not None:
            self.on_expired(expired)
        if self.after_sweep is not None:
            self.after_sweep(now)
        return expired

    def list(self, agent: str | None = None, state: str | None = None) -> builtins.list[TaskRecord]:
        self.sweep()
        return self.store.list_tasks(
            None if agent is None else AgentName(agent), None if state is None else TaskState(state)
        )


__all__ = [
    "MAX_PARAMS",
    "MAX_PARAM_VALUE",
    "MAX_PURPOSE",
    "TASK_AUDIENCE",
    "StartedTask",
    "Tasks",
    "check_params",
    "parse_param",
    "task_view",
]
