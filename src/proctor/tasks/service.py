"""Tasks: start, end and sweep them, and the task tokens that bind a call to one.

Every change to a task is audited here (``task.started``, ``task.ended``, ``task.expired``). What
a task's end means for other stages (its leases are revoked) is wired by ``Proctor``.
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import jwt

from proctor.audit.log import AuditLog
from proctor.clock import Clock
from proctor.config import Settings
from proctor.errors import (
    AgentSuspended,
    AuditError,
    Conflict,
    DelegationDenied,
    DelegationExceeds,
    ProctorError,
    StoreError,
    TaskNotActive,
    TaskTokenInvalid,
    TemplateBudgetSpent,
    TokenExpired,
    UnknownTask,
    ValidationError,
)
from proctor.identity.agents import Agents
from proctor.identity.keys import SigningKeys
from proctor.policy.scope import check_resource_pattern, check_tool_pattern
from proctor.store.base import AgentRecord, Store, TaskRecord, TaskTemplate
from proctor.tasks.delegation import Exceeds, act_claim, narrowing_problems
from proctor.tasks.intent import MAX_PARAM_VALUE, MAX_PARAMS, MAX_PURPOSE, check_params
from proctor.tasks.templates import Templates
from proctor.types import AgentName, AgentStatus, Email, TaskId, TaskState, Verdict

if TYPE_CHECKING:
    from proctor.flow.model import TaskLabels
    from proctor.policy.engine import Decision

TASK_AUDIENCE = "proctor:task"
#: how a task is started from a template with no person at hand (a stdio client's launch, an OAuth
#: grant's renewal): the agent can repeat it at will, so the new task remembers the agent's recent
#: tasks of that template (their labels, their calls: docs/adr/0029, amendment 2026-12-05)
UNATTENDED_VIAS = frozenset({"stdio", "oauth"})
#: an expiry claimed this long ago and still not audited was left by a sweeper that died between
#: the expiry and its ``task.expired``: a later sweep records it
EXPIRY_RECLAIM_S = 60.0
#: a task token that expired at most this long ago still names its task past its deadline, so that a
#: call made with it is refused as that task's (a decision on the record), not as a bad token
EXPIRED_TOKEN_GRACE_S = 86400.0
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StartedTask:
    task: TaskRecord
    token: str


def task_view(task: TaskRecord) -> dict[str, Any]:
    """The JSON shape the CLI and the HTTP API show of a task, with its intent parameters."""
    view = task.to_dict()
    view.setdefault("params", dict(task.params))
    return view


def chain_view(task: TaskRecord) -> builtins.list[dict[str, str]]:
    """A task's chain of accountability as records show it: root first, itself last."""
    return [{"agent": a, "task": t} for a, t in task.chain_pairs()]


def _chain_fields(task: TaskRecord) -> dict[str, Any]:
    """What a delegated task's records add: its chain and root task (nothing for a root task)."""
    if not task.chain:
        return {}
    return {"chain": chain_view(task), "root_task": str(task.root_id)}


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
        #: decides the Cedar action ``delegate`` (parent agent, parent task, child agent, depth):
        #: wired by ``Proctor``; None denies every delegation
        self.decide_delegation: Callable[[AgentRecord, TaskRecord, AgentRecord, int], Decision] | None = None
        #: runs once a child task is stored (it inherits its parent's labels); may raise: the
        #: child is then ended again and the delegation fails
        self.on_delegated: Callable[[TaskRecord, TaskRecord], None] | None = None
        #: whether a task's end is enforced from the kill file (not yet recorded)
        self.task_killed: Callable[[TaskId], bool] = lambda _t: False
        #: whether an agent's suspension is enforced from the kill file (not yet recorded)
        self.agent_killed: Callable[[str], bool] = lambda _a: False
        #: the high-water mark of what a task read (wired by ``Proctor`` to the flow stage, which
        #: also knows reads not yet stored); None: the store's
        self.labels_of: Callable[[TaskRecord], TaskLabels] | None = None
        #: raises a task's high-water mark (wired to the flow stage); None: the store's
        self.inherit_labels: Callable[[TaskRecord, TaskLabels], None] | None = None
        #: one unattended template start at a time in this process (the budget is read, then spent)
        self._template_lock = threading.Lock()

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
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        _template: tuple[str, str] | None = None,
        _carried: tuple[TaskLabels, dict[str, Any]] | None = None,
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
            params=task_params,
            template=None if _template is None else _template[0],
        )
        self.store.add_task(task)
        if _carried is not None:
            try:
                self._raise_labels(task, _carried[0])
            except Exception:
                # fail closed: a task that did not get what its predecessors read must not act
                self.store.end_task(task.id, TaskState.CANCELLED, now, "carrying labels failed")
                raise
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
                # names only: a value (a recipient, an IBAN) is the requester's, not the log's
                "params": [name for name, _ in task_params],
                **({} if _template is None else {"template": _template[0], "via": _template[1]}),
                **({} if _carried is None else {"remembered": _carried[1]}),
            },
            agent=str(rec_agent.name),
            task=str(task.id),
        )
        return StartedTask(task, token)

    def delegate(
        self,
        parent: str,
        *,
        agent: str,
        allow: Sequence[str],
        resources: Sequence[str] = (),
        ttl_s: float | None = None,
        max_calls: int | None = None,
        purpose: str | None = None,
        by: str = "cli",
        as_agent: AgentRecord | None = None,
    ) -> StartedTask:
        """A child task of ``parent`` for ``agent`` whose scope is a subset of the parent's
        (docs/adr/0032): every tool pattern covered by the parent's, resources within the parent's,
        at most the parent's remaining calls (the child's calls count against the parent's too),
        a deadline no later than the parent's, the chain no deeper than
        ``tasks.max_delegation_depth``, no agent twice in the chain, and permitted by policy (Cedar
        action ``delegate``). ``as_agent``: the parent agent, verified by the caller (the HTTP
        API); the parent task must be its. The child carries its parent's intent (purpose,
        parameters, requester): ``purpose`` here is recorded with the delegation, never made
        intent (an agent cannot launder what it read into its child's intent). Refused with
        :class:`DelegationExceeds` (naming each excess), :class:`DelegationDenied` (policy, depth,
        a cycle), :class:`TaskNotActive`; every refusal is audited as ``task.delegation_refused``."""
        parent_id = TaskId(parent)
        child_name = str(agent)
        try:
            return self._delegate(
                parent_id,
                agent=child_name,
                allow=allow,
                resources=resources,
                ttl_s=ttl_s,
                max_calls=max_calls,
                purpose=purpose,
                by=by,
                as_agent=as_agent,
            )
        except ProctorError as exc:
            fields: dict[str, Any] = {"child_agent": child_name[:200], "by": by, "code": exc.code}
            fields["reason"] = exc.message[:1000]
            if isinstance(exc, DelegationExceeds):
                fields["exceeds"] = exc.details.get("exceeds", [])
            if exc.details.get("policies"):
                fields["policies"] = exc.details["policies"]
            known = self.store.get_task(parent_id)
            self._audit(
                "task.delegation_refused",
                fields,
                agent=None if known is None else str(known.agent),
                task=None if known is None else str(known.id),
                decision_id=exc.details.get("decision_id"),
            )
            raise

    def _delegate(
        self,
        parent_id: TaskId,
        *,
        agent: str,
        allow: Sequence[str],
        resources: Sequence[str],
        ttl_s: float | None,
        max_calls: int | None,
        purpose: str | None,
        by: str,
        as_agent: AgentRecord | None,
    ) -> StartedTask:
        rec_parent = self.store.get_task(parent_id)
        if rec_parent is None:
            raise UnknownTask(f"unknown parent task `{parent_id}`")
        now = self.clock.now()
        if as_agent is not None and rec_parent.agent != as_agent.name:
            raise TaskTokenInvalid(f"task `{parent_id}` belongs to another agent")
        if not rec_parent.is_live(now) or self.task_killed(rec_parent.id):
            state = "expired" if rec_parent.state is TaskState.ACTIVE else rec_parent.state.value
            raise TaskNotActive(f"parent task `{parent_id}` is {state}: an ended task delegates nothing")
        parent_agent = self.agents.get(str(rec_parent.agent))
        if parent_agent.status is not AgentStatus.ACTIVE or self.agent_killed(str(parent_agent.name)):
            raise AgentSuspended(f"agent `{parent_agent.name}` is suspended: it cannot delegate")
        # a parent whose own ancestors ended, or whose delegating agents were suspended, while its
        # cascade has not run (yet) acts no more, and delegates nothing either
        self.check_lineage(rec_parent)
        child_agent = self.agents.get(agent)
        if child_agent.status is not AgentStatus.ACTIVE:
            raise ValidationError(f"agent `{agent}` is suspended: it cannot be delegated to")
        chain = rec_parent.chain_pairs()
        if any(a == str(child_agent.name) for a, _ in chain):
            raise DelegationDenied(
                f"agent `{child_agent.name}` already acts in this chain"
                f" ({' → '.join(a for a, _ in chain)}): a chain names each agent once (no cycles)"
            )
        depth = len(chain)
        if depth > self.settings.task_max_delegation_depth:
            raise DelegationDenied(
                f"a child of task `{parent_id}` would be {depth} delegations deep; the limit"
                f" (tasks.max_delegation_depth) is {self.settings.task_max_delegation_depth}"
            )
        if not allow:
            raise ValidationError("a delegated task must declare at least one tool: pass --allow PATTERN")
        pats = tuple(check_tool_pattern(p) for p in dict.fromkeys(allow))
        res = tuple(check_resource_pattern(r) for r in dict.fromkeys(resources))
        if max_calls is not None and max_calls < 1:
            raise ValidationError("--max-calls must be at least 1")
        if ttl_s is not None and not 0 < ttl_s <= self.settings.task_max_ttl_s:
            raise ValidationError(f"task ttl must be between 1s and {self.settings.task_max_ttl_s:g}s")
        problems = narrowing_problems(
            parent_allow=rec_parent.allow,
            parent_resources=rec_parent.resources,
            child_allow=pats,
            child_resources=res,
        )
        remaining = None if rec_parent.max_calls is None else rec_parent.max_calls - rec_parent.calls_used
        if remaining is not None:
            if remaining < 1:
                problems.append(
                    Exceeds(
                        "max_calls",
                        "any",
                        f"exceeds the parent's remaining calls (0 of {rec_parent.max_calls})",
                    )
                )
            elif max_calls is not None and max_calls > remaining:
                problems.append(
                    Exceeds(
                        "max_calls", str(max_calls), f"exceeds the parent's remaining calls ({remaining})"
                    )
                )
            elif max_calls is None:
                max_calls = remaining  # a parent with a budget has children with one
        left = rec_parent.deadline - now
        if ttl_s is None:
            ttl = min(self.settings.task_default_ttl_s, left)
        else:
            ttl = ttl_s
            if now + ttl > rec_parent.deadline:
                problems.append(
                    Exceeds(
                        "deadline",
                        f"{ttl:g}s",
                        f"ends after the parent's deadline (the parent has {max(left, 0):.0f}s left)",
                    )
                )
        if problems:
            raise DelegationExceeds(
                "the delegated task exceeds its parent's scope: " + "; ".join(p.text() for p in problems),
                exceeds=[p.to_dict() for p in problems],
            )
        decide = self.decide_delegation
        if decide is None:
            raise DelegationDenied("no policy decides delegation here: it is denied")
        decision = decide(parent_agent, rec_parent, child_agent, depth)
        if decision.verdict is not Verdict.ALLOW:
            raise DelegationDenied(
                f"policy denies delegating from `{parent_agent.name}` to `{child_agent.name}`: "
                + "; ".join(decision.reasons),
                decision_id=str(decision.decision_id),
                policies=list(decision.policies),
            )
        task = TaskRecord(
            id=TaskId.new(),
            agent=child_agent.name,
            purpose=rec_parent.purpose,
            allow=pats,
            resources=res,
            requested_by=rec_parent.requested_by,
            state=TaskState.ACTIVE,
            created_at=now,
            deadline=now + ttl,
            max_calls=max_calls,
            parent_id=rec_parent.id,
            params=rec_parent.params,
        )
        task = replace(task, chain=(*chain, (str(child_agent.name), str(task.id))))
        # relaxed: `task.delegated`, committed next and waited for before the child's token is
        # answered, makes the child power-safe too (SQLite's WAL keeps commits in order)
        self.store.add_task(task, durable=False)
        if self.on_delegated is not None:
            try:
                self.on_delegated(rec_parent, task)
            except Exception:
                # fail closed: a child that did not inherit what its parent read must not act
                self.store.end_task(task.id, TaskState.CANCELLED, now, "delegation failed")
                raise
        token = self.task_token(task, child_agent, now, ttl)
        note = (purpose or "").strip()[:MAX_PURPOSE]
        self._audit(
            "task.delegated",
            {
                "parent": str(rec_parent.id),
                "parent_agent": str(parent_agent.name),
                "allow": list(pats),
                "resources": list(res),
                "requested_by": str(task.requested_by),
                "deadline": int(task.deadline),
                "max_calls": max_calls,
                "depth": task.depth,
                "chain": chain_view(task),
                "root_task": str(task.root_id),
                "delegation_purpose": note,
                "by": by,
                "policies": list(decision.policies),
            },
            agent=str(child_agent.name),
            task=str(task.id),
            decision_id=str(decision.decision_id),
        )
        return StartedTask(task, token)

    def task_token(self, task: TaskRecord, agent: AgentRecord, now: float, ttl: float) -> str:
        """A task token for ``task``, bound to ``agent`` (its ``sub``). A delegated task's token
        carries its chain as RFC 8693 nested ``act`` claims (the task's own agent outermost, the
        root task's innermost) and its root requester as ``requester`` (docs/adr/0037)."""
        claims: dict[str, Any] = {"sub": str(agent.spiffe_id), "aud": [TASK_AUDIENCE], "task": str(task.id)}
        act = act_claim(task.chain, str(agent.spiffe_id.trust_domain))
        if act is not None:
            claims["act"] = act
            claims["requester"] = str(task.requested_by)
        return self.keys.sign_claims(claims, now, ttl)

    def check_lineage(self, task: TaskRecord) -> None:
        """Raise :class:`TaskNotActive` when an ancestor of ``task`` has ended (or is past its
        deadline, or ended from the kill file) or an agent that delegated it is suspended: what a
        crash before the cascade, or a suspension not yet recorded, leaves active acts no more
        (docs/adr/0032). Nothing for a root task."""
        now = self.clock.now()
        for anc_agent, anc_id in task.chain[:-1]:
            anc = self.store.get_task(TaskId(anc_id))
            if anc is None or not anc.is_live(now) or self.task_killed(anc.id):
                raise TaskNotActive(
                    f"task `{task.id}` was delegated from task `{anc_id}`, which is no longer active"
                )
            by_agent = self.store.get_agent(AgentName(anc_agent))
            if by_agent is None or by_agent.status is not AgentStatus.ACTIVE or self.agent_killed(anc_agent):
                raise TaskNotActive(
                    f"task `{task.id}` was delegated by agent `{anc_agent}`, which is suspended"
                )

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
        if via not in UNATTENDED_VIAS:  # a person starts it (cli, api): a fresh task
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
        with self._template_lock:
            max_calls, carried = self._remembered(template, agent)
            started = self.start(
                agent=agent,
                purpose=template.purpose,
                allow=template.allow,
                requested_by=requester,
                resources=template.resources,
                ttl_s=template.ttl_s,
                max_calls=max_calls,
                params=template.params,
                _template=(template.name, via),
                _carried=carried,
            )
            if template.max_calls is not None:
                self._check_budget_after_start(template, agent, started.task)
            return started

    def _check_budget_after_start(self, template: TaskTemplate, agent: str, task: TaskRecord) -> None:
        """The lock above serialises this process only: another one sharing the store (the stdio
        daemon and the HTTP gateway's OAuth renewals, two daemons) may have started a task of the
        template between the read and the start. Read again once the task is stored: if the
        template's tasks now hold more than its budget, this one ends (``cancelled``) and the
        start is refused. Of two racing starts the later stored always sees the earlier, so they
        never both keep the budget (both may be refused: fail closed)."""
        now = self.clock.now()
        recent = self.store.template_tasks(
            AgentName(agent), template.name, now - self.settings.task_template_memory_s
        )
        held = 0
        for t in recent:
            live = t.is_live(now) and not self.task_killed(t.id)
            held += max(t.max_calls or 0, t.calls_used) if live else t.calls_used
        if template.max_calls is not None and held > template.max_calls:
            self.end(
                str(task.id),
                state=TaskState.CANCELLED,
                by="template",
                reason="template budget taken by a concurrent launch",
            )
            raise TemplateBudgetSpent(
                f"agent `{agent}` has used the {template.max_calls} calls of template"
                f" `{template.name}`: a concurrent launch took them first",
                template=template.name,
            )

    def _remembered(
        self, template: TaskTemplate, agent: str
    ) -> tuple[int | None, tuple[TaskLabels, dict[str, Any]]]:
        """What an unattended start of ``template`` for ``agent`` inherits from that agent's tasks
        of the template still active or ended within ``tasks.template_memory`` (docs/adr/0029,
        amendment 2026-12-05): the high-water mark of what they read, and what is left of the
        template's call budget (an active task holds its whole budget until it ends, an ended one
        what it used). :class:`TemplateBudgetSpent` when nothing is left."""
        from proctor.flow.model import Sensitivity, TaskLabels

        now = self.clock.now()
        # the labels of the agent's recent tasks of ANY template: what runs as the agent read it
        # whichever template it was launched with, so relaunching under another template (one
        # with the same tools) sheds nothing; the budget is the template's own
        recent = self.store.template_tasks(AgentName(agent), None, now - self.settings.task_template_memory_s)
        read_untrusted, level, sources = False, Sensitivity.PUBLIC, set[str]()
        held = 0
        for t in recent:
            live = t.is_live(now) and not self.task_killed(t.id)
            # not ended in the store (past its deadline or in the kill file, not yet recorded):
            # this process may still hold reads of it not stored yet, and forgets them only then
            lab = self._labels(t, t.state is TaskState.ACTIVE)
            read_untrusted = read_untrusted or lab.read_untrusted
            level = max(level, lab.max_sensitivity)
            sources.update(lab.untrusted_sources)
            if t.template == template.name:
                held += max(t.max_calls or 0, t.calls_used) if live else t.calls_used
        max_calls = template.max_calls
        if max_calls is not None:
            max_calls -= held
            if max_calls < 1:
                raise TemplateBudgetSpent(
                    f"agent `{agent}` has used the {template.max_calls} calls of template"
                    f" `{template.name}` (its tasks of the last"
                    f" {self.settings.task_template_memory_s:g}s, active ones included): a new"
                    " launch starts no fresh budget; end the running session or wait",
                    template=template.name,
                )
        labels = TaskLabels(
            read_untrusted=read_untrusted, max_sensitivity=level, untrusted_sources=tuple(sorted(sources))
        )
        summary: dict[str, Any] = {
            "tasks": [str(t.id) for t in recent][-20:],
            "count": len(recent),
            "read_untrusted": read_untrusted,
            "max_sensitivity": level.label,
            "untrusted_sources": list(labels.untrusted_sources)[:50],
            "calls_held": held,
        }
        return max_calls, (labels, summary)

    def _labels(self, task: TaskRecord, live: bool) -> TaskLabels:
        if live and self.labels_of is not None:
            return self.labels_of(task)  # reads of a live task this process has not stored yet
        return self.store.task_labels(task.id)

    def _raise_labels(self, task: TaskRecord, labels: TaskLabels) -> None:
        if self.inherit_labels is not None:
            self.inherit_labels(task, labels)
        elif labels.read_untrusted or labels.untrusted_sources or int(labels.max_sensitivity):
            self.store.raise_task_labels(task.id, labels)

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

    def expired_token_task(
        self,
        token: str,
        agent: AgentRecord,
        lookup: Callable[[TaskId], TaskRecord | None] | None = None,
    ) -> TaskId | None:
        """The task ``token`` names when its only fault is that it expired (at most
        ``EXPIRED_TOKEN_GRACE_S`` ago: signed by a key still trusted, for the task audience, bound
        to ``agent``) and that task is past its deadline. Such a caller is refused as that task's
        (the reason, a decision on the record), never let act: a delegated task past its deadline
        (its parent's) gets the reason other ended tasks get. None for any other token (a token
        that expired before its task did is refused as a bad token, as before). ``lookup`` reads
        the task (the pipeline's snapshot: a call decided on the event loop never asks the store
        there); the store's record by default. What it raises (the pipeline's ``_NeedsStore``)
        is raised."""
        now = self.clock.now()
        try:
            self.keys.verify_claims(token, TASK_AUDIENCE, now)
            return None  # not expired: the usual checks apply
        except TokenExpired as exc:
            exp = exc.details.get("exp")
        except ProctorError:
            return None
        if not isinstance(exp, int | float) or now - exp > EXPIRED_TOKEN_GRACE_S:
            return None
        try:
            # every other check as of just before it expired, then its key as trusted now
            claims = self.keys.verify_claims(token, TASK_AUDIENCE, float(exp) - 0.001)
            kid = jwt.get_unverified_header(token).get("kid")
            self.keys.public_key(str(kid), now)
        except (ProctorError, jwt.PyJWTError):
            return None
        raw = claims.get("task")
        if claims.get("sub") != str(agent.spiffe_id) or not isinstance(raw, str):
            return None
        try:
            task = (lookup or self.store.get_task)(TaskId(raw))
        except ProctorError:
            return None
        # past its deadline, which never moves: that task acts no more, whatever its record says
        if task is None or task.agent != agent.name or now < task.deadline:
            return None
        return task.id

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
            {"state": state.value, "by": by, "reason": reason[:500], **_chain_fields(rec)},
            agent=str(rec.agent),
            task=str(rec.id),
        )
        if self.on_ended is not None:
            self.on_ended(rec, f"task {state.value}")
        try:
            self.end_children(rec.id, reason=f"parent task {state.value}")
        except Exception:  # the task has ended: what is left of its subtree the sweeper ends
            log.exception("ending the children of task %s failed; the sweeper will end them", rec.id)
        return rec

    def end_children(
        self, parent_id: TaskId, *, reason: str, by: str = "cascade"
    ) -> builtins.list[TaskRecord]:
        """End every active task delegated from ``parent_id``, and theirs, depth first
        (docs/adr/0032: a child never outlives its parent): each ends ``cancelled``, audited as
        ``task.ended`` by ``cascade`` naming the parent, and its leases are revoked (``on_ended``).
        Returns the tasks ended."""
        ended: builtins.list[TaskRecord] = []
        stack = [parent_id]
        seen: set[str] = set()
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            for child in self.store.child_tasks(pid):
                rec = self.store.end_task(child.id, TaskState.CANCELLED, self.clock.now(), reason[:500])
                if rec is not None:
                    try:
                        self._audit(
                            "task.ended",
                            {
                                "state": rec.state.value,
                                "by": by,
                                "reason": reason[:500],
                                "parent": str(pid),
                                **_chain_fields(rec),
                            },
                            agent=str(rec.agent),
                            task=str(rec.id),
                        )
                    except (StoreError, AuditError):  # the store or the log failed: not the record
                        self._give_back([rec], TaskState.CANCELLED)
                        raise
                    if self.on_ended is not None:
                        self.on_ended(rec, reason)
                    ended.append(rec)
                stack.append(child.id)
        return ended

    def end_orphans(self) -> builtins.list[TaskRecord]:
        """End the active tasks whose parent is no longer active, and their subtrees (what a crash
        between a parent's end and its cascade left behind; run by every sweep)."""
        ended: builtins.list[TaskRecord] = []
        for _ in range(64):  # each round ends one more level; the depth limit is far below this
            orphans = self.store.orphan_tasks()
            if not orphans:
                break
            for t in orphans:
                rec = self.store.end_task(t.id, TaskState.CANCELLED, self.clock.now(), "parent task ended")
                if rec is None:
                    continue
                try:
                    self._audit(
                        "task.ended",
                        {
                            "state": rec.state.value,
                            "by": "sweeper",
                            "reason": "parent task ended",
                            "parent": None if t.parent_id is None else str(t.parent_id),
                            **_chain_fields(rec),
                        },
                        agent=str(rec.agent),
                        task=str(rec.id),
                    )
                except (StoreError, AuditError):  # the store or the log failed: not the record
                    self._give_back([rec], TaskState.CANCELLED)
                    raise
                if self.on_ended is not None:
                    self.on_ended(rec, "parent task ended")
                ended.append(rec)
        return ended

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

    def _give_back(self, ended: Sequence[TaskRecord], state: TaskState) -> None:
        """Tasks this process ended (``state``) but could not write the record of: back to active,
        so that a later sweep of any process ends and records each (an end is never left
        unrecorded: docs/adr/0001). Calls are refused past a deadline, or under an ended parent,
        whether or not a sweep ran."""
        try:
            self.store.reopen_tasks([t.id for t in ended], state)
        except Exception:
            log.critical(
                "tasks %s ended but their records were not written, and could not be given back to"
                " the sweeps",
                ", ".join(str(t.id) for t in ended),
                exc_info=True,
            )

    def sweep(self) -> builtins.list[TaskRecord]:
        """Expire tasks past their deadline (calls are denied at the deadline whether or not this ran)."""
        if self.before_sweep is not None:
            self.before_sweep()
        now = self.clock.now()
        expired = self.store.expire_tasks(now)
        # an expiry whose record a crashed sweeper never wrote (claimed long enough ago that its
        # claimant is gone): recorded now, late, rather than never
        recovered = self.store.reclaim_expiries(now, now - EXPIRY_RECLAIM_S)
        for t in expired + recovered:
            late = {"recorded_late": True} if t in recovered else {}
            self._audit(
                "task.expired",
                {"deadline": int(t.deadline), **_chain_fields(t), **late},
                agent=str(t.agent),
                task=str(t.id),
            )
            self.store.expiry_audited([t.id])
        expired = expired + recovered
        if expired and self.on_expired is not None:
            self.on_expired(expired)
        self.end_orphans()  # children of what expired or ended (also what a crash left behind)
        if self.after_sweep is not None:
            self.after_sweep(now)
        return expired

    def list(self, agent: str | None = None, state: str | None = None) -> builtins.list[TaskRecord]:
        self.sweep()
        return self.store.list_tasks(
            None if agent is None else AgentName(agent), None if state is None else TaskState(state)
        )


__all__ = [
    "EXPIRED_TOKEN_GRACE_S",
    "EXPIRY_RECLAIM_S",
    "MAX_PARAMS",
    "MAX_PARAM_VALUE",
    "MAX_PURPOSE",
    "TASK_AUDIENCE",
    "StartedTask",
    "Tasks",
    "chain_view",
    "check_params",
    "parse_param",
    "task_view",
]
