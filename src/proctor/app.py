"""``Proctor``: one workspace's store, keys, policies and audit log, wired together.

Each stage is a service that owns its records and writes their audit events: ``agents``
(:mod:`proctor.identity.agents`), ``tasks`` (:mod:`proctor.tasks`), ``tools``
(:mod:`proctor.tools`), ``credentials`` (:mod:`proctor.credentials.broker`), ``policies``
(:mod:`proctor.policy.active`) and ``state``, the hot-path cache (:mod:`proctor.snapshot`).
``Proctor`` builds them, hands them to each other and to the :class:`Pipeline`, and holds the
rules that cross stages: a suspended agent's and an ended task's leases are revoked, and a
suspension or task end the store or the log cannot take yet is enforced from the kill file.

Transports (CLI, HTTP API, MCP gateway) hold one ``Proctor`` and call its services.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from proctor.accounts.service import Accounts
from proctor.approvals.service import Approvals
from proctor.audit.anchor import (
    read_anchor,
    read_anchors,
    record_writer,
    recorded_writers,
    trusted_audit_keys,
    write_anchor,
)
from proctor.audit.chain import checkpoint_payload, to_micros
from proctor.audit.key import load_or_create_audit_key
from proctor.audit.log import AuditLog, _reach_problem
from proctor.audit.query import AuditRecords
from proctor.audit.refusals import RefusalLimits, Refusals
from proctor.audit.verify import Problem, VerifyReport, verify_log
from proctor.audit.witness import (
    WitnessPublisher,
    is_url,
    pinned_log_problem,
    witness_log_problems,
    witnessed_heads,
)
from proctor.clock import Clock, SystemClock
from proctor.config import Settings
from proctor.credentials.broker import Credentials
from proctor.credentials.secrets import SecretStore
from proctor.errors import (
    AuditError,
    Conflict,
    NotFound,
    PolicyLoadError,
    PolicyStale,
    StoreError,
    StoreUnavailable,
    ValidationError,
)
from proctor.flow.model import Labels
from proctor.flow.service import Flow
from proctor.identity.agents import Agents
from proctor.identity.keys import USE_APPROVAL, USE_CREDENTIAL, SigningKeys
from proctor.killswitch import KILL_FILE, KillSwitch, PendingKill
from proctor.pipeline import CallInput, Pipeline
from proctor.policy.active import Policies, policy_files_digest
from proctor.policy.engine import Decision
from proctor.policy.loader import PolicySet
from proctor.snapshot import StateCache
from proctor.store import Store, open_store
from proctor.store.base import AgentRecord, Checkpoint, TaskRecord
from proctor.store.guard import StoreGuard
from proctor.tasks.service import Tasks
from proctor.tools.registry import Tools
from proctor.types import AgentName, AgentStatus, TaskId, TaskState
from proctor.workspace import Workspace

log = logging.getLogger(__name__)


class Proctor:
    """The control plane and decision point of one workspace."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Clock | None = None,
        workspace: Workspace | None = None,
        keydir: Path | None = None,
        policy_dir: Path | None = None,
        policies: PolicySet | None = None,
        lazy_policies: bool = False,
    ) -> None:
        """``lazy_policies``: load the policy set on first use (a decision, ``policies.load()``)
        instead of now, so that what decides nothing (suspending an agent, ending a task, reading
        the log) works whatever state the policy files are in."""
        self.settings = settings
        self.store = store
        self.clock = clock or SystemClock()
        self.workspace = workspace
        kd = keydir or (workspace.keys_dir if workspace else None)
        if kd is None:
            raise ValidationError("Proctor needs a key directory (a workspace or keydir=)")
        now = self.clock.now()
        keys = SigningKeys(kd, store, now, max_token_ttl=max(settings.task_max_ttl_s, settings.svid_ttl_s))
        # signs credential tokens (``at+jwt``) for downstream APIs: a ring of its own (see Credentials)
        credential_keys = SigningKeys(
            kd, store, now, max_token_ttl=settings.task_max_ttl_s, use=USE_CREDENTIAL
        )
        self.keydir = Path(kd)
        self.audit_key = load_or_create_audit_key(kd, store, now)
        try:
            anchor, anchor_error = read_anchors(self.keydir), None
        except AuditError as exc:
            anchor, anchor_error = [], exc.message
        #: the witnesses outside the workspace each signed checkpoint is sent to (docs/adr/0020)
        self.witnesses: WitnessPublisher | None = None
        if settings.audit_witnesses:
            self.witnesses = WitnessPublisher(
                settings.audit_witnesses,
                settings.audit_witness_keys,
                self.audit_key.kid,
                self.audit_key.public_jwk,
                on_rollback=lambda why: self.audit.halt(why),  # noqa: PLW0108 (self.audit comes next)
            )
        self.audit = AuditLog(
            store,
            self.clock,
            self.audit_key,
            checkpoint_every=settings.checkpoint_every,
            checkpoint_interval_s=settings.checkpoint_interval_s,
            anchor=anchor,
            on_checkpoint=functools.partial(_checkpoint_written, self.keydir, self.witnesses),
            on_idle=None if self.witnesses is None else self.witnesses.retry,
            on_register=functools.partial(record_writer, self.keydir),
            registered=functools.partial(recorded_writers, self.keydir),
        )
        #: the log's readers (`audit tail/search/export/show`, `/v1/audit`), and the refusals
        #: recorded before anyone is identified: what the CLI and the HTTP API ask, not the log
        self.audit_records = AuditRecords(store)
        self.refusals = Refusals(self.audit)
        if anchor_error is not None:
            self.audit.refusing = anchor_error
            log.critical("audit: no checkpoint will be signed: %s", anchor_error)
        if (swapped := pinned_log_problem(settings.audit_witness_log, self.audit_key.kid)) is not None:
            self.audit.key_refused = swapped
            self.audit.halt(swapped)  # loud, like a rollback: no checkpoint of a replaced key
        policy_dir = policy_dir or (workspace.policies_dir if workspace else None)
        if policies is None and policy_dir is None:
            raise ValidationError("Proctor needs policies (a workspace, policy_dir= or policies=)")
        #: suspensions and task ends the store or the log could not take yet (see proctor.killswitch)
        self.kills = KillSwitch(None if workspace is None else workspace.run_dir / KILL_FILE)
        self.audience = f"spiffe://{settings.trust_domain}/proctor"
        #: store calls from the event loop: bounded, off the loop, failing fast while it is down
        self.store_guard = StoreGuard(
            store.epoch,
            timeout_s=settings.store_timeout_s,
            on_recover=self._store_recovered,
            monotonic=self.clock.monotonic,
        )
        self.audit.guard = self.store_guard
        self.store_guard.inline_reads = bool(getattr(store, "reads_never_wait", False))
        # the stages ----------------------------------------------------------------------------
        self.policies = Policies(
            settings, store, self.clock, self.audit, policy_dir=policy_dir, policies=policies
        )
        self.agents = Agents(
            settings,
            store,
            self.clock,
            self.audit,
            keys,
            audience=self.audience,
            on_suspended=self._agent_suspended,
        )
        self.tasks = Tasks(
            settings,
            store,
            self.clock,
            self.audit,
            keys,
            self.agents,
            on_ended=self._task_ended,
            before_sweep=self._before_sweep,
            after_sweep=self._after_sweep,
            on_expired=self._tasks_expired,
        )
        #: task templates: stored intents listed agents may start tasks from (docs/adr/0029)
        self.templates = self.tasks.templates
        self.tools = Tools(settings, store, self.audit, schema_actions=self.policies.schema_actions)
        #: the people who decide held calls, how they sign in, their browser sessions
        self.accounts = Accounts(store, self.clock, self.audit, settings.login)
        self.accounts.on_disabled = self._person_disabled
        self.state = StateCache(store, self.policies, self.store_guard)
        # the config's tools are registered once the schema is known (their effects are its actions)
        self.policies.after_load = self.tools.sync_config
        if lazy_policies and policies is None:
            try:  # needs only the schema's actions; what fails here is done again when policies load
                self.tools.sync_config()
                self.policies.after_load = None
            except (PolicyLoadError, ValidationError) as exc:
                log.warning("config tools not registered yet: %s", exc.message)
        else:
            self.policies.load()
        self.credentials = Credentials(
            store,
            self.clock,
            self.audit,
            workspace=workspace,
            keys=credential_keys,
            audience=self.audience,
            kills=self.kills,
            state=self.state,
            agents=self.agents,
            tasks=self.tasks,
            policies=self.policies,
        )
        #: held calls and the grants people give (docs/adr/0022); grants have a key ring of their own
        self.approvals = Approvals(
            settings,
            store,
            self.clock,
            self.audit,
            SigningKeys(kd, store, now, max_token_ttl=settings.task_max_ttl_s, use=USE_APPROVAL),
            self.policies,
            secrets=self._approval_sealer,
            issuer=self.audience,
        )
        #: labels on outputs, provenance of arguments, history (docs/adr/0025): the outputs a task
        #: read are sealed with the workspace secret store, like a held call's arguments
        self.flow = Flow(
            settings,
            store,
            self.clock,
            lambda: self.policies.engine.policy_set,
            secrets=self._approval_sealer,
        )
        self.credentials.flow = self.flow  # credential decisions see what the task read
        # delegation (docs/adr/0032): decided by policy, the child inherits what the parent read
        self.tasks.decide_delegation = self._decide_delegation
        self.tasks.on_delegated = self._delegated
        # an unattended template start remembers what the agent's recent tasks of it read
        self.tasks.labels_of = self.flow.labels
        self.tasks.inherit_labels = self.flow.inherit
        self.tasks.task_killed = self.kills.task_killed
        self.tasks.agent_killed = self.kills.agent_killed
        self.pipeline = Pipeline(
            agents=self.agents,
            tasks=self.tasks,
            state=self.state,
            policies=self.policies,
            credentials=self.credentials,
            kills=self.kills,
            audit=self.audit,
            store=store,
            store_guard=self.store_guard,
            clock=self.clock,
            log_arguments=settings.log_arguments,
            approvals=self.approvals,
            flow=self.flow,
            refusal_limits=RefusalLimits(
                burst=settings.refusal_audit_burst, window_s=settings.refusal_audit_window_s
            ),
        )
        leases = self.credentials.leases
        self._lease_hook("start-up sweep", leases.sweep)  # ends what ran out while we were down
        self._lease_hook("pending kills", self.record_pending_kills)

    # construction -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        workspace: Workspace,
        *,
        clock: Clock | None = None,
        store_url: str | None = None,
        lazy_policies: bool = False,
    ) -> Proctor:
        settings = workspace.settings()
        workspace.make_private()
        store = open_store(
            store_url or settings.store_url,
            base_dir=workspace.root,
            pool_size=settings.store_pool_size,
            pool_min=settings.store_pool_min,
        )
        try:
            return cls(settings, store, clock=clock, workspace=workspace, lazy_policies=lazy_policies)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        self.flow.close()  # its writer thread uses the store
        self.policies.close()
        self.store_guard.close()
        # records a sweep could not write are carried in memory (proctor.audit.late): written
        # now, before the log closes, or they would go with this process
        for flush in (self.approvals.flush_late, self.credentials.leases.flush_late):
            try:
                flush()
            except Exception:
                log.exception("could not write the carried records at close")
        self.pipeline.write_summaries(final=True)  # the rationed refusals still uncounted
        self.audit.close()
        if self.witnesses is not None:
            self.witnesses.close()  # the last checkpoint signed at close is sent before we go
        self.store.close()

    def __enter__(self) -> Proctor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _store_recovered(self, reason: str, since: float, refused: int) -> None:
        """The store answers again: swap a connection pool that may be backing off, and record the
        outage (the calls refused meanwhile could not be recorded one by one: they are counted)."""
        reconnect = getattr(self.store, "reconnect", None)
        if callable(reconnect):
            try:
                reconnect()
            except Exception:
                log.exception("could not renew the store's connections")
        try:
            self.audit.append(
                "store.recovered",
                {
                    "outage_s": round(self.clock.monotonic() - since, 3),
                    "refused_unrecorded": refused,
                    "reason": reason[:200],
                },
            )
        except Exception:
            log.exception("could not record the store outage")

    # rules across stages --------------------------------------------------------------------
    def _lease_hook(self, what: str, fn: Callable[[], object]) -> None:
        """Revoke leases without letting a failure stop the caller (a task still ends, an agent is
        still suspended): what was not marked is ended by the next sweep, failed round trips retry."""
        try:
            fn()
        except Exception:
            log.exception("lease %s failed; the sweeper will retry", what)

    def _agent_suspended(self, agent: AgentRecord, reason: str) -> None:
        """A suspended agent's leases are revoked, and every task it delegated ends (with their
        subtrees, docs/adr/0032)."""
        self._lease_hook("revoke_agent", lambda: self.credentials.leases.revoke_agent(agent.name, reason))
        self._lease_hook("end delegated", functools.partial(self._end_delegated_by, agent.name))

    def _end_delegated_by(self, agent: AgentName) -> None:
        for task in self.store.list_tasks(agent, TaskState.ACTIVE):
            self.tasks.end_children(task.id, reason=f"delegating agent `{agent}` suspended")

    def _decide_delegation(
        self, parent_agent: AgentRecord, parent: TaskRecord, child_agent: AgentRecord, depth: int
    ) -> Decision:
        """The Cedar action ``delegate`` for ``Tasks.delegate`` (with what the parent has read);
        refused as the pipeline refuses calls while this process's policy set is not the active
        one (:class:`PolicyStale`)."""
        self.policies.load()
        stale = self.state.snapshot().policy_stale
        if stale is not None:
            raise PolicyStale(stale)
        return self.policies.engine.decide_delegation(
            parent_agent,
            parent,
            child_agent,
            depth=depth,
            now=self.clock.now(),
            labels=self.flow.labels(parent),
        )

    def _delegated(self, parent: TaskRecord, child: TaskRecord) -> None:
        """A child task starts with what its parent has read (its labels: docs/adr/0032)."""
        self.flow.inherit(child, self.flow.labels(parent))

    def _report_to_parent(self, task: TaskRecord) -> None:
        """What an ending child read labels its parent: the parent's next consequential call sees
        where the child's results came from (docs/adr/0032)."""
        if task.parent_id is None:
            return
        labels = self.flow.labels(task)
        # every ancestor, ended or not: a cascade ends the parent first and its children after
        # it, depth first, and an ended task's mark is what a relaunch of its template starts
        # with (docs/adr/0029, amendment): a read of the tree must not end with the tree
        for anc_id in [t for _a, t in task.chain[:-1]] or [str(task.parent_id)]:
            anc = self.store.get_task(TaskId(anc_id))
            if anc is not None:
                self.flow.inherit(anc, labels)

    def _task_ended(self, task: TaskRecord, reason: str) -> None:
        """An ended task's leases are revoked, what it read labels its parent, and the outputs it
        read are forgotten."""
        self._lease_hook("revoke_task", lambda: self.credentials.leases.revoke_task(task.id, reason))
        self._lease_hook("report to parent", functools.partial(self._report_to_parent, task))
        self._lease_hook("flow forget", lambda: self.flow.forget(task.id))

    def _tasks_expired(self, tasks: list[TaskRecord]) -> None:
        """Expired tasks' outputs are forgotten (the sweep that follows prunes the store too)."""
        for task in tasks:
            self._lease_hook("report to parent", functools.partial(self._report_to_parent, task))
            self._lease_hook("flow forget", functools.partial(self.flow.forget, task.id))

    def _before_sweep(self) -> None:
        self._lease_hook("pending kills", self.record_pending_kills)

    def _approval_sealer(self) -> SecretStore | None:
        """The workspace secret store, whose key seals a held call's arguments (None without one)."""
        return None if self.workspace is None else self.credentials.secret_store()

    def _after_sweep(self, now: float) -> None:
        self._lease_hook("approvals", lambda: self.approvals.sweep(now))
        self._lease_hook("flow retention", lambda: self.flow.sweep(now))
        leases = self.credentials.leases
        self._lease_hook("sweep", lambda: (leases.sweep(now), leases.retry_pending(now)))
        self._lease_hook("renew", lambda: leases.renew_due(now))

    def _person_disabled(self, email: str, by: str) -> None:
        self.revoke_person_grants(email, by=by)

    def revoke_oauth_grant(self, grant_id: str, reason: str, *, by: str) -> bool:
        """Revoke an OAuth grant: every refresh token of it goes, its task ends (so the access
        token in hand stops working at the gateway's door), audited ``oauth.grant_revoked``. False
        when it was unknown or revoked already."""
        grant = self.store.get_oauth_grant(grant_id)
        if grant is None or not self.store.revoke_oauth_grant(grant_id, self.clock.now(), reason):
            return False
        self.audit.append(
            "oauth.grant_revoked",
            {"grant": grant_id, "reason": reason[:200], "by": by[:200]},
            agent=grant.agent,
            task=grant.task_id,
        )
        # the kill switch's end: a store or log failure pends it in the kill file rather than leave
        # the task (its leases, its sessions) running
        with contextlib.suppress(Conflict, NotFound, ValidationError):  # ended already, gone, or none yet
            self.end_task_or_kill(
                grant.task_id, state=TaskState.CANCELLED, by=by, reason=f"grant revoked: {reason}"
            )
        return True

    def revoke_person_grants(self, email: str, *, by: str) -> int:
        """Revoke every live grant ``email`` consented to (their account is disabled): each grant's
        task ends, so its access tokens stop at every gateway's door at once. Returns how many."""
        low = email.lower()
        live = [g for g in self.store.list_oauth_grants() if g.email.lower() == low and g.revoked_at is None]
        return sum(self.revoke_oauth_grant(g.id, "the person's account is disabled", by=by) for g in live)

    def kill_agent(self, name: str, *, by: str = "cli", reason: str = "") -> bool:
        """Suspend an agent whatever state the store and the log are in. Returns True when the
        suspension is recorded; False when the store or the log failed and it is enforced from the
        workspace's kill file until it can be recorded (see :mod:`proctor.killswitch`)."""
        agent_name = AgentName(name)
        try:
            with self._urgent():
                self.agents.set_status(str(agent_name), AgentStatus.SUSPENDED, by=by, reason=reason)
            return True
        except (StoreError, AuditError) as exc:
            self._pend_kill("agent", str(agent_name), by, reason, exc.code)
            return False

    def end_task_or_kill(
        self, task_id: str, *, state: TaskState = TaskState.COMPLETED, by: str = "cli", reason: str = ""
    ) -> TaskRecord | None:
        """``tasks.end``, which works whatever state the store and the log are in: when either
        fails, the end is enforced from the workspace's kill file until it can be recorded, and
        None comes back (see :mod:`proctor.killswitch`)."""
        tid = TaskId(task_id)
        try:
            with self._urgent():
                return self.tasks.end(str(tid), state=state, by=by, reason=reason)
        except (StoreError, AuditError) as exc:
            self._pend_kill("task", str(tid), by, reason, exc.code, state.value)
            return None

    def _urgent(self) -> contextlib.AbstractContextManager[object]:
        """The store's kill-switch mode (a connection even when the pool has none free), where it
        has one (PostgreSQL; docs/adr/0034)."""
        urgent = getattr(self.store, "urgent", None)
        return contextlib.nullcontext() if urgent is None else urgent()

    def _pend_kill(self, kind: str, target: str, by: str, reason: str, cause: str, state: str = "") -> None:
        if self.kills.path is None:
            raise StoreUnavailable("the store is unavailable and this Proctor has no workspace kill file")
        self.kills.add(PendingKill(kind, target, self.clock.now(), by, reason[:500], cause, state))
        log.critical(
            "%s `%s`: the store or the audit log failed (%s); enforced from %s until it is recorded",
            "suspension of agent" if kind == "agent" else "end of task",
            target,
            cause,
            self.kills.path,
        )

    def record_pending_kills(self) -> int:
        """Record the suspensions and task ends that were enforced while the store or the log failed
        (store change, then an audit record saying so); returns how many were recorded."""
        done = 0
        for k in self.kills.pending():
            fields = {"by": k.by, "reason": k.reason, "enforced_since": k.at, "recorded_late": True}
            if k.kind == "agent":
                rec = self.agents.record_suspended_late(AgentName(k.target), fields)
                if rec is not None:
                    self._lease_hook(
                        "revoke_agent",
                        functools.partial(self.credentials.leases.revoke_agent, rec.name, "agent suspended"),
                    )
                    self._lease_hook("end delegated", functools.partial(self._end_delegated_by, rec.name))
            elif k.kind == "task":
                state = TaskState.CANCELLED if k.state == "cancelled" else TaskState.COMPLETED
                task = self.tasks.record_ended_late(TaskId(k.target), state, fields)
                if task is not None:
                    self._lease_hook(
                        "revoke_task",
                        functools.partial(self.credentials.leases.revoke_task, task.id, "task ended"),
                    )
                    self._lease_hook("flow forget", functools.partial(self.flow.forget, task.id))
                    self._lease_hook(
                        "end children",
                        functools.partial(self.tasks.end_children, task.id, reason="parent task ended"),
                    )
            self.kills.remove(k.kind, k.target, k.at)
            done += 1
        return done

    # flow ---------------------------------------------------------------------------------
    def report_output(
        self,
        *,
        agent: str | None,
        task_token: str | None,
        task: str | None,
        tool: str,
        output: str,
        decision_id: str | None = None,
        args: Mapping[str, Any] | None = None,
        status: str = "ok",
    ) -> Labels:
        """What a tool returned to an in-process caller (``POST /v1/outputs``): labelled and kept
        for its task like an output the gateway forwards, recorded as ``call.output_reported``
        (labels, digest and size: never the content). ``agent`` is the verified caller, who names
        its task by ``task_token``; None is the administrator, who names it by ``task``.
        ``status``: ``ok``, or ``tool_error`` when the tool failed (``output`` is then its error
        text), as the gateway's ``call.completed`` says."""
        import hashlib

        from proctor.errors import AgentSuspended, TaskNotActive, TaskTokenInvalid, UnknownTask, UnknownTool
        from proctor.types import ToolName

        if agent is not None:
            rec_agent = self.agents.get(agent)
            if rec_agent.status is not AgentStatus.ACTIVE or self.kills.agent_killed(rec_agent.name):
                raise AgentSuspended(f"agent `{agent}` is suspended")
            if not task_token:
                raise TaskTokenInvalid("no task token was presented: every output belongs to a task")
            task_id = self.tasks.verify_token(task_token, rec_agent)
        else:
            if not task:
                raise ValidationError("name the task the output belongs to", field="task")
            task_id = TaskId(task)
        rec_task = self.store.get_task(task_id)
        if rec_task is None:
            raise UnknownTask(f"unknown task `{task_id}`")
        if agent is not None and rec_task.agent != agent:
            raise TaskTokenInvalid(f"task `{task_id}` belongs to another agent")
        if not rec_task.is_live(self.clock.now()) or self.kills.task_killed(rec_task.id):
            raise TaskNotActive(f"task `{task_id}` is not active")
        rec_tool = self.store.get_tool(ToolName(tool))
        if rec_tool is None:
            raise UnknownTool(f"unknown tool `{tool[:100]}`")
        if status not in ("ok", "tool_error"):
            raise ValidationError("an output's status is `ok` or `tool_error`", field="status")
        if args is not None:
            from proctor.pipeline import check_args

            args = check_args(args)
        labels = self.flow.observe(rec_task, rec_tool, output, args=args, decision_id=decision_id)
        raw = output.encode("utf-8", "surrogatepass")
        self.audit.append(
            "call.output_reported",
            {
                "labels": labels.to_dict(),
                "status": status,
                "output_digest": "sha256:" + hashlib.sha256(raw).hexdigest(),
                "output_bytes": len(raw),
                "by": "agent" if agent is not None else "admin",
            },
            agent=str(rec_task.agent),
            task=str(rec_task.id),
            tool=str(rec_tool.name),
            decision_id=decision_id,
        )
        return labels

    # decisions ----------------------------------------------------------------------------
    def decide(self, call: CallInput) -> Decision:
        """Run the pipeline for one call; the decision is durable in the audit log on return.
        Without a valid policy set (lazy loading) this raises :class:`PolicyLoadError`: nothing
        is decided, so nothing is allowed."""
        self.policies.load()
        return self.pipeline.decide_call(call)

    # audit --------------------------------------------------------------------------------
    def verify_audit(self, *, deep: bool = False) -> VerifyReport:
        self.audit.flush()
        return verify_audit_store(self.store, self.keydir, deep=deep, settings=self.settings)

    def audit_health(self) -> dict[str, Any]:
        """The audit log's health for ``/healthz`` and ``proctor status``: ``reasons`` holds
        ``audit_rollback`` (checkpoints stopped: the store went backwards), ``witness_lagging``."""
        reasons: list[str] = []
        if self.audit.rollback is not None:
            reasons.append("audit_rollback")
        lagging = {} if self.witnesses is None else dict(self.witnesses.lagging)
        if lagging:
            reasons.append("witness_lagging")
        return {
            "reasons": reasons,
            "rollback": self.audit.rollback,
            "checkpoints_refused": self.audit.refusing,
            "witness_lagging": lagging,
        }

    def check_witnesses(self) -> dict[str, str]:
        """Ask each witness what it holds (``proctor status``): why each one is behind the anchor or
        cannot say; a witness ahead of the log halts signing (a rollback)."""
        out: dict[str, str] = {}
        if self.witnesses is None:
            return out
        try:
            anchor = read_anchor(self.keydir)
        except AuditError:
            anchor = None
        for target in self.witnesses.targets:
            try:
                # each writer's head (docs/adr/0036); one that answered them before must go on
                before = is_url(target) and target in _heads_witnesses(self.keydir)
                heads = self.witnesses.heads_by(target, answered_before=before)
            except AuditError as exc:
                out[target] = exc.message
                continue
            cp = max(heads, key=lambda h: h.seq, default=None)
            if anchor is not None and (cp is None or cp.seq < anchor.seq):
                out[target] = f"holds checkpoint {0 if cp is None else cp.seq}, the anchor {anchor.seq}"
                continue
            for head in heads:
                if self.audit.rollback is not None:
                    break
                why = _reach_problem(self.store, head.seq, bytes(head.head_hash))
                if why is not None:
                    who = "" if head.writer == 0 else f" (writer {head.writer}'s head)"
                    self.audit.halt(f"against the witness {target}{who}: {why}")
        return out

    def recover_audit(self, reason: str, by: str) -> dict[str, Any]:
        """Record an operator's decision after a rollback (``proctor audit recover``, docs/adr/0020):
        an ``audit.recovered`` record in the chain (what the anchor and the witnesses held, the
        store's head, the reason, who), a checkpoint signed at it that becomes the anchor and is
        sent to every witness marked as a recovery signed by the audit key; then signing resumes."""
        reason = reason.strip()
        if not reason:
            raise ValidationError("a recovery needs a reason", field="reason")
        if (swapped := pinned_log_problem(self.settings.audit_witness_log, self.audit_key.kid)) is not None:
            raise AuditError(swapped)  # a replaced key cannot recover the log it replaced
        try:
            anchor = read_anchor(self.keydir)
        except AuditError:
            anchor = None  # a damaged anchor is what is being recovered from: it is replaced
        held = {} if self.witnesses is None else self.witnesses.held()
        head = self.store.audit_head()

        def point(cp: Checkpoint | None) -> dict[str, Any] | None:
            return None if cp is None else {"seq": cp.seq, "head": bytes(cp.head_hash).hex()}

        row = self.audit.append(
            "audit.recovered",
            {
                "reason": reason[:2000],
                "by": by,
                "problem": self.audit.rollback,
                "anchor": point(anchor),
                "witnesses": [
                    {"witness": t if is_url(t) else "file", **(point(cp) or {})} for t, cp in held.items()
                ],
                "head_seq": 0 if head is None else head.seq,
                "head": None if head is None else bytes(head.hash).hex(),
            },
        )
        ts_us = to_micros(self.clock.now())
        cp = Checkpoint(
            row.seq,
            row.hash,
            ts_us / 1_000_000,
            self.audit_key.kid,
            self.audit_key.sign(checkpoint_payload(row.seq, row.hash, ts_us)),
            row.writer,
        )
        self.store.add_checkpoint(cp)
        write_anchor(self.keydir, cp, force=True)
        if self.witnesses is not None:
            self.witnesses.publish_recovery(cp, reason[:2000], held, self.audit_key.sign)
        self.audit.resume(cp)
        log.warning("audit: recovery recorded at record %d by %s: %s", row.seq, by, reason)
        return {"seq": row.seq, "anchor": point(anchor), "witnesses": {t: point(c) for t, c in held.items()}}


def _checkpoint_written(keydir: Path, witnesses: WitnessPublisher | None, cp: Checkpoint) -> None:
    """Keep each signed checkpoint outside the database: the workspace's anchor, then the witnesses
    outside the workspace when configured (see proctor.audit.witness). On the audit writer's thread:
    a witness that does not answer in time is lagging, retried later, and holds nobody up."""
    write_anchor(keydir, cp)
    if witnesses is not None:
        witnesses.publish(cp)


#: the witness services found to have no per-writer answer, said once per process
_OLD_WITNESSES: set[str] = set()


#: the witness services that answered per-writer heads to this workspace, one URL a line (in keys/:
#: like the anchor, what someone with the database alone cannot change)
HEADS_WITNESSES_FILE = "audit-witness-heads"


def _heads_witnesses(keydir: Path | None) -> set[str]:
    if keydir is None:
        return set()
    try:
        raw = (Path(keydir) / HEADS_WITNESSES_FILE).read_bytes()[:65536]
    except OSError:
        return set()
    return {ln.strip() for ln in raw.decode("utf-8", "replace").splitlines() if ln.strip()}


def _remember_heads_witness(keydir: Path | None, url: str) -> None:
    """Note that ``url`` answered ``heads``: from then on a "no such answer" from it is refused
    (a downgrade), not taken for an older witness. Best effort (a read-only workspace)."""
    if keydir is None or url in _heads_witnesses(keydir) or "\n" in url:
        return
    try:
        fd = os.open(
            Path(keydir) / HEADS_WITNESSES_FILE,
            os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
            0o600,
        )
        try:
            os.write(fd, f"{url}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        log.warning("audit verify: could not note that %s answers per-writer heads: %s", url, exc)


def _witness_heads(
    url: str, key: str, log_id: str, notes: list[str], keydir: Path | None = None
) -> list[Checkpoint]:
    """What a witness service holds of the log: the latest checkpoint of each writer (docs/adr/0036),
    or, from a witness without per-writer answers, its latest (said once). A witness that answered
    per-writer heads to this workspace before (``keys/audit-witness-heads``) and now has none is
    refused: a "no such route" is not signed, so whatever answers in its place could make it look
    old and hide every writer's head but the latest."""
    from proctor.audit.witness_http import HeadsUnsupported, HttpWitness, parse_witness_key

    client = HttpWitness(url, parse_witness_key(key))
    try:
        got = client.heads(log_id)
    except HeadsUnsupported:
        if url in _heads_witnesses(keydir):
            raise AuditError(
                f"the witness {url} answered per-writer heads before and now says it has no such"
                " answer: whatever answers in its place hides the heads of all writers but the"
                " latest (a downgrade); if that witness was really replaced by an older one, remove"
                f" its line from keys/{HEADS_WITNESSES_FILE}"
            ) from None
        note = (
            f"the witness {url} answers its latest checkpoint only (an older `proctor witness serve`):"
            " writers other than the latest are checked against the anchor and witness files only;"
            " upgrade the witness for per-writer answers"
        )
        if url not in _OLD_WITNESSES:
            _OLD_WITNESSES.add(url)
            log.warning("audit verify: %s", note)
        notes.append(note)
        latest = client.latest(log_id)
        return [] if latest is None else [latest.checkpoint]
    if got.total > len(got.heads):
        notes.append(
            f"the witness {url} holds {got.total} writers of the log and answered the {len(got.heads)}"
            " latest: the others are checked against the anchor and witness files only"
        )
    _remember_heads_witness(keydir, url)
    return [h.checkpoint for h in got.heads]


def _witnessed_problems(store: Store, witnessed: list[tuple[str, Checkpoint]]) -> list[Problem]:
    """A head a witness service countersigned for a writer that the store no longer reaches: the
    writer's chain is shorter than witnessed, or rewritten (``witness_rollback``), or the whole
    writer is gone (``witness_writer_missing``). A head the store holds, record and hash, is fine
    (its chain is checked by the walk)."""
    problems: list[Problem] = []
    for target, cp in witnessed:
        row = next(iter(store.iter_audit(cp.seq - 1, 1)), None) if cp.seq > 0 else None
        if row is not None and row.seq == cp.seq and bytes(row.hash) == bytes(cp.head_hash):
            if cp.writer not in (0, row.writer):  # 0: an older witness's answer names no writer
                problems.append(
                    Problem(
                        cp.seq,
                        "witness_head_misattributed",
                        f"the witness {target} holds record {cp.seq}, writer {row.writer}'s, as writer"
                        f" {cp.writer}'s head: a checkpoint sent to it again under another writer (its"
                        f" signature does not name the writer), so writer {cp.writer}'s real head is"
                        " not witnessed; check that writer's chain, then `proctor audit recover`",
                    )
                )
            continue
        head = store.audit_writer_head(cp.writer)
        who = "the log" if cp.writer == 0 else f"writer {cp.writer}"
        told = f"the witness {target} countersigned {who}'s head at record {cp.seq}"
        if head is None:
            problems.append(
                Problem(
                    cp.seq,
                    "witness_writer_missing",
                    f"{told}, but the store holds no record of {who}: the whole writer was removed"
                    " (a rollback); `proctor audit recover --reason ...` once decided",
                )
            )
        elif head.seq < cp.seq:
            problems.append(
                Problem(
                    cp.seq,
                    "witness_rollback",
                    f"{told}, but its chain in the store ends at record {head.seq}: its tail was rolled"
                    " back; `proctor audit recover --reason ...` once decided",
                )
            )
        else:
            problems.append(
                Problem(
                    cp.seq,
                    "witness_rollback",
                    f"{told}, but the store holds another record there: its chain was rewritten",
                )
            )
    return problems


def _outside_checkpoints(
    store: Store,
    keydir: Path,
    settings: Settings | None,
    log_id: str | None,
    problems: list[Problem],
    witnessed: list[tuple[str, Checkpoint]] | None = None,
    notes: list[str] | None = None,
) -> list[Checkpoint]:
    """The checkpoints kept outside the store: the anchor's, each witness file's latest of each
    writer, each witness service's head of each writer (also added to ``witnessed``)."""
    notes = [] if notes is None else notes

    stored = store.latest_checkpoint()
    anchors: list[Checkpoint] = []
    try:
        anchored = read_anchors(keydir)
    except AuditError as exc:
        anchored = []
        problems.append(Problem(0, "anchor_invalid", exc.message))
    else:
        if anchored:
            anchors.extend(anchored)
        elif stored is not None:
            problems.append(
                Problem(
                    0,
                    "anchor_missing",
                    "the log has signed checkpoints but the workspace's anchor (keys/audit-anchor.json)"
                    " is gone: records after it may have been removed with it; restore it from a backup",
                )
            )
    witnesses = () if settings is None else settings.audit_witnesses
    pinned = {} if settings is None else settings.audit_witness_keys
    pinned_log = None if settings is None else settings.audit_witness_log
    problems.extend(witness_log_problems(witnesses, pinned_log, log_id))
    if pinned_log is not None and log_id is not None:
        log_id = pinned_log  # the witnesses are asked about the pinned log, whatever the key now
    for witness in witnesses:
        try:
            if is_url(witness):
                if log_id is None:
                    continue  # no audit key: nothing to ask the witness about (reported above)
                heads = _witness_heads(witness, pinned[witness], log_id, notes, keydir)
                if witnessed is not None:
                    witnessed.extend((witness, cp) for cp in heads)
                seen = max(heads, key=lambda cp: cp.seq, default=None)
                anchors.extend(h for h in heads if h is not seen)
            else:
                heads = witnessed_heads(Path(witness))
                seen = max(heads, key=lambda cp: cp.seq, default=None)
                anchors.extend(h for h in heads if h is not seen)
        except AuditError as exc:
            problems.append(Problem(0, "witness_invalid", exc.message))
            continue
        if seen is not None:
            anchors.append(seen)
        elif stored is not None or anchored:
            problems.append(
                Problem(
                    0,
                    "witness_empty",
                    f"the audit witness `{witness}` holds no checkpoint although the log has some:"
                    " it was removed, or it was configured since the last checkpoint (a running"
                    " Proctor writes one within `audit.checkpoint_interval`)",
                )
            )
    return anchors


def _policy_problems(store: Store, head_seq: int) -> list[Problem]:
    """Every row of ``policy_versions`` needs a chained ``policy.activated`` record of its version
    whose files digest is the row's (a record from before digests were kept matches on version)."""
    from proctor.store.base import AuditQuery

    activated: dict[str, set[str | None]] = {}
    after = 0
    while True:
        rows = store.search_audit(AuditQuery(kind="policy.activated", after_seq=after, limit=1000))
        for r in rows:
            if r.seq > head_seq:
                continue
            try:
                body = json.loads(bytes(r.body))
            except ValueError:
                continue
            if isinstance(body, dict) and isinstance(body.get("version"), str):
                digest = body.get("files_digest")
                activated.setdefault(body["version"], set()).add(digest if isinstance(digest, str) else None)
        if len(rows) < 1000:
            break
        after = rows[-1].seq
    problems: list[Problem] = []
    for row_id, version, files_text in store.list_policy_versions():
        try:
            files = json.loads(files_text)
            digest = policy_files_digest(files) if isinstance(files, dict) else "invalid"
        except ValueError:
            digest = "invalid"
        digests = activated.get(version)
        if digests is None:
            problems.append(
                Problem(
                    0,
                    "policy_version_unrecorded",
                    f"policy_versions row {row_id} (version {version}) has no chained `policy.activated`"
                    " record: it was added or its version changed outside Proctor",
                )
            )
        elif digest not in digests and None not in digests:
            problems.append(
                Problem(
                    0,
                    "policy_version_modified",
                    f"policy_versions row {row_id} (version {version}) holds files other than its chained"
                    " `policy.activated` record names: the row was edited",
                )
            )
    return problems


def _recoveries(store: Store, head_seq: int) -> list[dict[str, Any]]:
    from proctor.store.base import AuditQuery

    out: list[dict[str, Any]] = []
    for r in store.search_audit(AuditQuery(kind="audit.recovered", limit=1000)):
        if r.seq > head_seq:
            continue
        try:
            body = json.loads(bytes(r.body))
        except ValueError:
            body = {}
        out.append({"seq": r.seq, "ts": r.ts, "reason": body.get("reason"), "by": body.get("by")})
    return out


def verify_audit_store(
    store: Store, keydir: Path, *, deep: bool = False, settings: Settings | None = None
) -> VerifyReport:
    """Verify a store's audit chain and checkpoints against what the workspace holds outside it:
    its own audit key (never keys the store lists), its anchored checkpoint and, when configured,
    the latest checkpoint of each witness outside the workspace (a witness service's answer is
    checked with its pinned key). ``deep`` also checks ``policy_versions`` against the chain."""
    problems: list[Problem] = []
    keys = trusted_audit_keys(keydir)
    if not keys:
        problems.append(
            Problem(
                0,
                "audit_key_missing",
                f"the workspace's audit key is missing from `{keydir}`: no checkpoint can be checked;"
                " restore it from a backup (the log itself was not judged)",
            )
        )
    log_id = next(iter(keys), None)
    witnessed: list[tuple[str, Checkpoint]] = []
    notes: list[str] = []
    anchors = _outside_checkpoints(store, keydir, settings, log_id, problems, witnessed, notes)
    report = verify_log(store, keys, deep=deep, anchors=anchors or None)
    report.notes = notes
    if not keys:  # one clear problem instead of an unknown key on every checkpoint
        report.problems = [p for p in report.problems if p.code != "checkpoint_unknown_kid"]
    outside = {cp.seq for cp in anchors}
    # a log that does not reach a checkpoint kept outside the store went back (a restored or rolled
    # back database or workspace) or was cut: say so, and what the operator can do
    for i, p in enumerate(report.problems):
        if (p.code == "log_truncated" and report.head_seq < max(outside, default=0)) or (
            p.code == "checkpoint_mismatch" and p.seq in outside
        ):
            report.problems[i] = Problem(
                p.seq,
                p.code,
                p.message + "; the log went back behind a checkpoint kept outside the store (a rollback:"
                " a restored database or workspace) or was cut. Checkpoints stay off until an operator"
                " decides and records it: `proctor audit recover --reason ...`",
            )
    if deep and report.ok:
        problems.extend(_policy_problems(store, report.head_seq))
    report.problems[:0] = problems
    report.problems.extend(_witnessed_problems(store, witnessed))
    report.ok = not report.problems
    report.recoveries = _recoveries(store, report.head_seq)
    report.log_id = next(iter(keys), None)
    return report


__all__ = ["Proctor", "policy_files_digest", "verify_audit_store"]
