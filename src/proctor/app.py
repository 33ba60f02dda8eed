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

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from proctor.audit.anchor import read_anchor, trusted_audit_keys, write_anchor
from proctor.audit.log import AuditLog
from proctor.audit.verify import Problem, VerifyReport, verify_log
from proctor.audit.witness import append_witness, latest_witnessed
from proctor.clock import Clock, SystemClock
from proctor.config import Settings
from proctor.credentials.broker import Credentials
from proctor.errors import AuditError, PolicyLoadError, StoreError, StoreUnavailable, ValidationError
from proctor.identity.agents import Agents
from proctor.identity.keys import USE_CREDENTIAL, SigningKeys, load_or_create_audit_key
from proctor.killswitch import KILL_FILE, KillSwitch, PendingKill
from proctor.pipeline import CallInput, Pipeline
from proctor.policy.active import Policies
from proctor.policy.engine import Decision
from proctor.policy.loader import PolicySet
from proctor.snapshot import StateCache
from proctor.store import Store, open_store
from proctor.store.base import AgentRecord, Checkpoint, TaskRecord
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
            anchor, anchor_error = read_anchor(self.keydir), None
        except AuditError as exc:
            anchor, anchor_error = None, exc.message
        self.audit = AuditLog(
            store,
            self.clock,
            self.audit_key,
            checkpoint_every=settings.checkpoint_every,
            checkpoint_interval_s=settings.checkpoint_interval_s,
            anchor=anchor,
            on_checkpoint=functools.partial(_checkpoint_written, self.keydir, settings.audit_witness),
        )
        if anchor_error is not None:
            self.audit.refusing = anchor_error
            log.critical("audit: no checkpoint will be signed: %s", anchor_error)
        policy_dir = policy_dir or (workspace.policies_dir if workspace else None)
        if policies is None and policy_dir is None:
            raise ValidationError("Proctor needs policies (a workspace, policy_dir= or policies=)")
        #: suspensions and task ends the store or the log could not take yet (see proctor.killswitch)
        self.kills = KillSwitch(None if workspace is None else workspace.run_dir / KILL_FILE)
        self.audience = f"spiffe://{settings.trust_domain}/proctor"
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
        )
        self.tools = Tools(settings, store, self.audit, schema_actions=self.policies.schema_actions)
        self.state = StateCache(store, self.policies)
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
        self.pipeline = Pipeline(
            agents=self.agents,
            tasks=self.tasks,
            state=self.state,
            policies=self.policies,
            credentials=self.credentials,
            kills=self.kills,
            audit=self.audit,
            store=store,
            clock=self.clock,
            log_arguments=settings.log_arguments,
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
        store = open_store(store_url or settings.store_url, base_dir=workspace.root)
        try:
            return cls(settings, store, clock=clock, workspace=workspace, lazy_policies=lazy_policies)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        self.policies.close()
        self.audit.close()
        self.store.close()

    def __enter__(self) -> Proctor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # rules across stages --------------------------------------------------------------------
    def _lease_hook(self, what: str, fn: Callable[[], object]) -> None:
        """Revoke leases without letting a failure stop the caller (a task still ends, an agent is
        still suspended): what was not marked is ended by the next sweep, failed round trips retry."""
        try:
            fn()
        except Exception:
            log.exception("lease %s failed; the sweeper will retry", what)

    def _agent_suspended(self, agent: AgentRecord, reason: str) -> None:
        """A suspended agent's leases are revoked."""
        self._lease_hook("revoke_agent", lambda: self.credentials.leases.revoke_agent(agent.name, reason))

    def _task_ended(self, task: TaskRecord, reason: str) -> None:
        """An ended task's leases are revoked."""
        self._lease_hook("revoke_task", lambda: self.credentials.leases.revoke_task(task.id, reason))

    def _before_sweep(self) -> None:
        self._lease_hook("pending kills", self.record_pending_kills)

    def _after_sweep(self, now: float) -> None:
        leases = self.credentials.leases
        self._lease_hook("sweep", lambda: (leases.sweep(now), leases.retry_pending(now)))
        self._lease_hook("renew", lambda: leases.renew_due(now))

    def kill_agent(self, name: str, *, by: str = "cli", reason: str = "") -> bool:
        """Suspend an agent whatever state the store and the log are in. Returns True when the
        suspension is recorded; False when the store or the log failed and it is enforced from the
        workspace's kill file until it can be recorded (see :mod:`proctor.killswitch`)."""
        agent_name = AgentName(name)
        try:
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
            return self.tasks.end(str(tid), state=state, by=by, reason=reason)
        except (StoreError, AuditError) as exc:
            self._pend_kill("task", str(tid), by, reason, exc.code, state.value)
            return None

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
            elif k.kind == "task":
                state = TaskState.CANCELLED if k.state == "cancelled" else TaskState.COMPLETED
                task = self.tasks.record_ended_late(TaskId(k.target), state, fields)
                if task is not None:
                    self._lease_hook(
                        "revoke_task",
                        functools.partial(self.credentials.leases.revoke_task, task.id, "task ended"),
                    )
            self.kills.remove(k.kind, k.target, k.at)
            done += 1
        return done

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
        return verify_audit_store(self.store, self.keydir, deep=deep, witness=self.settings.audit_witness)


def _checkpoint_written(keydir: Path, witness: str | None, cp: Checkpoint) -> None:
    """Keep each signed checkpoint outside the database: the workspace's anchor, then the witness
    outside the workspace when one is configured (see proctor.audit.witness)."""
    write_anchor(keydir, cp)
    if witness is not None:
        append_witness(Path(witness), cp)


def verify_audit_store(
    store: Store, keydir: Path, *, deep: bool = False, witness: str | None = None
) -> VerifyReport:
    """Verify a store's audit chain and checkpoints against what the workspace holds outside it:
    its own audit key (never keys the store lists), its anchored checkpoint and, when configured,
    the latest checkpoint of the witness outside the workspace."""
    problems: list[Problem] = []
    keys = trusted_audit_keys(keydir)
    stored = store.latest_checkpoint()
    if not keys:
        problems.append(
            Problem(
                0,
                "audit_key_missing",
                f"the workspace's audit key is missing from `{keydir}`: no checkpoint can be checked;"
                " restore it from a backup (the log itself was not judged)",
            )
        )
    anchors: list[Checkpoint] = []
    try:
        anchor = read_anchor(keydir)
    except AuditError as exc:
        anchor = None
        problems.append(Problem(0, "anchor_invalid", exc.message))
    else:
        if anchor is not None:
            anchors.append(anchor)
        elif stored is not None:
            problems.append(
                Problem(
                    0,
                    "anchor_missing",
                    "the log has signed checkpoints but the workspace's anchor (keys/audit-anchor.json)"
                    " is gone: records after it may have been removed with it; restore it from a backup",
                )
            )
    if witness is not None:
        try:
            seen = latest_witnessed(Path(witness))
        except AuditError as exc:
            problems.append(Problem(0, "witness_invalid", exc.message))
        else:
            if seen is not None:
                anchors.append(seen)
            elif stored is not None or anchor is not None:
                problems.append(
                    Problem(
                        0,
                        "witness_empty",
                        f"the audit witness `{witness}` holds no checkpoint although the log has some:"
                        " it was removed, or it was configured since the last checkpoint (a running"
                        " Proctor writes one within `audit.checkpoint_interval`)",
                    )
                )
    report = verify_log(store, keys, deep=deep, anchors=anchors or None)
    if not keys:  # one clear problem instead of an unknown key on every checkpoint
        report.problems = [p for p in report.problems if p.code != "checkpoint_unknown_kid"]
    report.problems[:0] = problems
    report.ok = not report.problems
    return report


__all__ = ["Proctor", "verify_audit_store"]
