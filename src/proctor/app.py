"""``Proctor``: one workspace's store, keys, policies and audit log, wired together.

Transports (CLI, HTTP API, later the MCP gateway and the SDK) hold one ``Proctor`` and call its
methods; every state change and every decision is audited here, in one place.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proctor.audit.anchor import read_anchor, trusted_audit_keys, write_anchor
from proctor.audit.chain import checkpoint_payload, to_micros
from proctor.audit.key import load_or_create_audit_key
from proctor.audit.log import AuditEntry, AuditLog, _reach_problem
from proctor.audit.verify import Problem, VerifyReport, verify_log
from proctor.audit.witness import (
    WitnessPublisher,
    is_url,
    latest_witnessed,
    pinned_log_problem,
    witness_log_problems,
)
from proctor.canonical import canonical_json
from proctor.clock import Clock, SystemClock
from proctor.config import Settings
from proctor.credentials.leases import Lease, LeaseManager
from proctor.credentials.providers.base import Provider, ProviderRegistry
from proctor.credentials.providers.injected import InjectedSecretProvider
from proctor.credentials.providers.jwt import JwtProvider
from proctor.credentials.providers.postgres import PostgresRoleProvider
from proctor.credentials.secrets import SecretStore
from proctor.errors import (
    AgentSuspended,
    AuditError,
    Conflict,
    CredentialDenied,
    OwnerRequired,
    PolicyLoadError,
    PolicyStale,
    ProctorError,
    SecretKeyInvalid,
    StoreError,
    StoreUnavailable,
    TaskNotActive,
    TaskTokenInvalid,
    UnknownAgent,
    UnknownTask,
    UnknownTool,
    ValidationError,
)
from proctor.identity.join import create_join_token, redeem
from proctor.identity.keys import USE_CREDENTIAL, SigningKeys
from proctor.identity.svid import SvidAuthority, SvidClaims
from proctor.killswitch import KILL_FILE, KillSwitch, PendingKill
from proctor.pipeline import CallInput, Pipeline, args_as_text, args_digest, printable
from proctor.policy.engine import CREDENTIAL_ACTION, CredentialRef, Decision, PolicyEngine, PolicyWatcher
from proctor.policy.loader import PolicySet, load_policy_dir, policy_errors, schema_actions
from proctor.policy.scope import check_resource_pattern, check_tool_pattern, declares_namespace
from proctor.store import Store, open_store
from proctor.store.base import AgentRecord, Checkpoint, TaskRecord, ToolPin, ToolRecord
from proctor.store.guard import StoreGuard
from proctor.types import AgentName, AgentStatus, Email, SpiffeId, TaskId, TaskState, ToolName
from proctor.workspace import Workspace

__all__ = [
    "MAX_PURPOSE",
    "MAX_SELECTORS",
    "SETTLE_ROUNDS",
    "TASK_AUDIENCE",
    "UNLOGGABLE_ARGS",
    "PolicyRejection",
    "Proctor",
    "Snapshot",
    "StartedTask",
    "verify_audit_store",
]


log = logging.getLogger(__name__)

TASK_AUDIENCE = "proctor:task"
MAX_PURPOSE = 2000
MAX_SELECTORS = 32
#: how many times a starting process re-reads policy files that keep changing under it
SETTLE_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class PolicyRejection:
    """A policy set this process refused while the last good one kept serving."""

    errors: tuple[dict[str, Any], ...]
    at: float
    active_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "errors": [dict(e) for e in self.errors],
            "at": self.at,
            "active_version": self.active_version,
        }


@dataclass(frozen=True, slots=True)
class StartedTask:
    task: TaskRecord
    token: str


class Snapshot:
    """Records read on the hot path, valid for one store epoch.

    The epoch lives in the store and is bumped by every change to agents, tasks, tools or policy,
    by any process, so this cache can never serve a record that changed.
    """

    __slots__ = ("agents", "epoch", "pins", "policy_stale", "policy_version", "tasks", "tools")

    def __init__(self, epoch: int, policy_stale: str | None = None, policy_version: str = "") -> None:
        self.epoch = epoch
        #: this process's policy version when the snapshot was taken: a process that swaps its set
        #: takes a new snapshot (and so looks again at whether it may decide) at once
        self.policy_version = policy_version
        #: why this process may not decide at this epoch (its policy set is not the store's active
        #: one and it could not follow), or None
        self.policy_stale = policy_stale
        self.pins: dict[str, list[ToolPin]] = {}
        self.agents: dict[str, AgentRecord | None] = {}
        self.tasks: dict[str, TaskRecord | None] = {}
        self.tools: dict[str, ToolRecord | None] = {}


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
        """``lazy_policies``: load the policy set on first use (a decision, :meth:`load_policies`)
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
        self.keys = SigningKeys(
            kd, store, now, max_token_ttl=max(settings.task_max_ttl_s, settings.svid_ttl_s)
        )
        self.svids = SvidAuthority(self.keys, settings.trust_domain, ttl=settings.svid_ttl_s)
        #: signs credential tokens (``at+jwt``) for downstream APIs: a ring of its own, published at
        #: ``/v1/credentials/jwks.json``, so no SVID verifier can ever accept a credential token
        self.credential_keys = SigningKeys(
            kd, store, now, max_token_ttl=settings.task_max_ttl_s, use=USE_CREDENTIAL
        )
        self.keydir = Path(kd)
        self.audit_key = load_or_create_audit_key(kd, store, now)
        try:
            anchor, anchor_error = read_anchor(self.keydir), None
        except AuditError as exc:
            anchor, anchor_error = None, exc.message
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
        )
        if anchor_error is not None:
            self.audit.refusing = anchor_error
            log.critical("audit: no checkpoint will be signed: %s", anchor_error)
        if (swapped := pinned_log_problem(settings.audit_witness_log, self.audit_key.kid)) is not None:
            self.audit.key_refused = swapped
            self.audit.halt(swapped)  # loud, like a rollback: no checkpoint of a replaced key
        self.policy_dir = policy_dir or (workspace.policies_dir if workspace else None)
        if policies is None and self.policy_dir is None:
            raise ValidationError("Proctor needs policies (a workspace, policy_dir= or policies=)")
        self._given_policies = policies
        self._policy: PolicyEngine | None = None
        self._policy_lock = threading.Lock()
        #: the last policy set this process refused, until a good one is active again
        self.policy_rejection: PolicyRejection | None = None
        self._watcher: PolicyWatcher | None = None
        #: serialises activating a policy set (record in the store, then serve it)
        self._activate_lock = threading.RLock()
        #: the store's active version this process last failed to follow (no reload storm)
        self._unfollowable: tuple[str, str] | None = None
        #: suspensions and task ends the store or the log could not take yet (see proctor.killswitch)
        self.kills = KillSwitch(None if workspace is None else workspace.run_dir / KILL_FILE)
        self._snap = Snapshot(-1)
        self._snap_lock = threading.Lock()
        #: store calls from the event loop: bounded, off the loop, failing fast while it is down
        self.store_guard = StoreGuard(
            store.epoch,
            timeout_s=settings.store_timeout_s,
            on_recover=self._store_recovered,
            monotonic=self.clock.monotonic,
        )
        self.audit.guard = self.store_guard
        self.store_guard.inline_reads = bool(getattr(store, "reads_never_wait", False))
        self.pipeline = Pipeline(self)
        self.audience = f"spiffe://{settings.trust_domain}/proctor"
        self._tools_synced = False
        if lazy_policies and policies is None:
            try:  # needs only the schema's actions; what fails here is done again when policies load
                self.sync_config_tools()
                self._tools_synced = True
            except (PolicyLoadError, ValidationError) as exc:
                log.warning("config tools not registered yet: %s", exc.message)
        else:
            self.load_policies()
        #: credential leases; providers are added with :meth:`register_provider`
        self.leases = LeaseManager(
            store, ProviderRegistry(), self.clock, self.audit, records=self._lease_records
        )
        self._secrets: SecretStore | None = None
        self._secrets_lock = threading.Lock()
        self.register_provider(InjectedSecretProvider(self.secret_value))
        self.register_provider(PostgresRoleProvider(lambda name: self.secret_value(name).decode()))
        self.register_provider(
            JwtProvider(self.credential_keys, self.audience, reserved_audiences=(TASK_AUDIENCE,))
        )
        self._lease_hook("start-up sweep", self.leases.sweep)  # ends what ran out while we were down
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
        if self._watcher is not None:
            self._watcher.stop()
        self.store_guard.close()
        self.audit.close()
        if self.witnesses is not None:
            self.witnesses.close()  # the last checkpoint signed at close is sent before we go
        self.store.close()

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

    def __enter__(self) -> Proctor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # leases -----------------------------------------------------------------------------------
    def register_provider(self, provider: Provider, *, replace: bool = False) -> None:
        """Make a credential provider available to :attr:`leases` (and its pending revocations)."""
        self.leases.providers.register(provider, replace=replace)

    @property
    def secrets(self) -> SecretStore:
        """The workspace secret store, opened on first use (a wrong or missing key raises here)."""
        return self.secret_store()

    def secret_store(self, *, reopen: bool = False) -> SecretStore:
        """The workspace secret store; ``reopen`` reads the key again (after another process ran
        ``proctor secret rotate-key``)."""
        with self._secrets_lock:
            if self._secrets is None or reopen:
                if self.workspace is None:
                    raise ValidationError("the secret store needs a workspace")
                self._secrets = SecretStore.open(self.workspace, self.store, now=self.clock.now())
            return self._secrets

    def _lease_records(
        self, task_id: TaskId, agent: AgentName
    ) -> tuple[TaskRecord | None, AgentRecord | None]:
        snap = self.snapshot()
        return self.cached_task(task_id, snap), self.cached_agent(agent, snap)

    def check_secrets_key(self) -> bool:
        """Open the secret store now if the workspace has one, so that a wrong or missing key fails at
        start-up with :class:`SecretKeyInvalid` instead of at the first credential. Returns whether
        it was opened."""
        if self.store.active_secret_key() is None and self.store.count_secrets() == 0:
            return False
        _ = self.secrets
        return True

    def secret_value(self, name: str) -> bytes:
        """A stored secret's plaintext, for a provider to hand to an upstream. Never log it."""
        try:
            return self.secrets.get(name)
        except SecretKeyInvalid:  # encrypted under a key rotated in by another process: read it again
            return self.secret_store(reopen=True).get(name)

    def obtain_credential(
        self,
        task_id: TaskId,
        agent: AgentName,
        ref: CredentialRef,
        spec: Mapping[str, Any],
        *,
        effects: Iterable[str] = (),
    ) -> tuple[Lease, dict[str, Any]]:
        """Decide (Cedar action ``use_credential``) and, if allowed, issue a lease of ``ref`` to the
        task. The decision is audited either way; a deny raises :class:`CredentialDenied`, a provider
        failure :class:`LeaseIssueFailed`. Returns the lease and the data for the upstream alone.

        The credential's effects are those of the tools the task declared: of ``ref.upstream`` only
        when it names one (a task that reads a database and writes files gets a read-only role),
        plus ``effects`` (what the upstream's configuration says of tools not registered yet)."""
        stale = self.snapshot().policy_stale
        if stale is not None:
            raise PolicyStale(stale)
        if self.kills.agent_killed(str(agent)):
            raise AgentSuspended(f"agent `{agent}` is suspended: it cannot get credentials")
        if self.kills.task_killed(str(task_id)):
            raise TaskNotActive(f"task `{task_id}` has ended: it cannot get credentials")
        task = self._expire_if_due(self.get_task(str(task_id)))
        rec_agent = self.get_agent(str(agent))
        effects = self.leases.task_effects(task, ref.upstream or None) | frozenset(effects)
        declared = declares_namespace(task.allow, ref.upstream) if ref.upstream else False
        decision = self.policy.decide_credential(
            rec_agent, task, ref, upstream_declared=declared, effects=effects, now=self.clock.now()
        )
        self._audit(
            "credential.decision",
            {
                "verdict": decision.verdict.value,
                "action": CREDENTIAL_ACTION,
                "credential": ref.name,
                "provider": ref.provider,
                "upstream": ref.upstream,
                "effects": sorted(effects),
                "upstream_declared": declared,
                "reasons": list(decision.reasons),
                "policies": list(decision.policies),
                "errors": list(decision.errors),
                "policy_version": decision.policy_version,
            },
            agent=str(rec_agent.name),
            task=str(task.id),
            decision_id=str(decision.decision_id),
        )
        if not decision.allowed:
            raise CredentialDenied(
                f"credential `{ref.name}` denied: {'; '.join(decision.reasons)}",
                decision_id=str(decision.decision_id),
            )
        return self.leases.issue(task, rec_agent, ref.provider, {**spec, "name": ref.name}, effects=effects)

    def _lease_hook(self, what: str, fn: Callable[[], object]) -> None:
        """Revoke leases without letting a failure stop the caller (a task still ends, an agent is
        still suspended): what was not marked is ended by the next sweep, failed round trips retry."""
        try:
            fn()
        except Exception:
            log.exception("lease %s failed; the sweeper will retry", what)

    # snapshot of hot-path records ----------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The records valid at the store's current epoch (one epoch read). A caller that looks up
        several records for one call takes one snapshot and passes it, so they are consistent:
        a transport takes it when a request arrives and every stage of that request reads it.
        Fails at once while the store is known to be down (see :class:`StoreGuard`); asyncio code
        uses :meth:`snapshot_async`, which never blocks the loop."""
        guard = self.store_guard
        guard.check()
        try:
            return self._snapshot()
        except StoreUnavailable as exc:
            guard.observe(exc)
            raise

    async def snapshot_async(self) -> Snapshot:
        """:meth:`snapshot` on a store worker thread, bounded by ``store_timeout``."""
        return await self.store_guard.run(self._snapshot, read=True)

    def _snapshot(self) -> Snapshot:
        epoch = self.store.epoch()
        snap = self._snap
        version = self.policy.version
        if snap.epoch != epoch or snap.policy_version != version:
            # the version read before following: if following (or another thread) swaps the set,
            # the next call looks again rather than keep a verdict taken against the old one
            snap = Snapshot(epoch, self._follow_policy(), version)
            self._snap = snap
        return snap

    def _follow_policy(self) -> str | None:
        """Bring this process to the store's active policy version (checked once per store epoch:
        activating a set bumps it). Another process may have activated a newer set: this one reloads
        its policy directory; a local change it finds is activated as usual. Returns None when this
        process now decides under the active version, else why it may not (its calls are denied)."""
        engine = self._policy
        if engine is None:
            return None  # nothing decided yet: the set loaded on first use is recorded as it loads
        active = self.store.active_policy_version()
        if active is None or active == engine.version:
            self._unfollowable = None
            return None
        if self.policy_dir is not None and self._unfollowable != (active, self.policy.version):
            with self._activate_lock:
                try:
                    new: PolicySet | None = load_policy_dir(self.policy_dir)
                except PolicyLoadError as exc:  # the watcher audits the rejection
                    log.error("policy: cannot load the workspace's policies to follow %s: %s", active, exc)
                    new = None
                if new is not None and new.version == active:
                    self.policy_rejection = None
                    if self.policy.swap(new):
                        log.info("policy: following version %s activated by another process", active)
                # a local change the watcher has not settled yet is not activated from here: a file
                # still being written would be (the process stays stale until the watcher acts)
                active = self.store.active_policy_version()
        if active is None or active == self.policy.version:
            self._unfollowable = None
            return None
        self._unfollowable = (active, self.policy.version)
        log.critical(
            "policy: this process runs version %s but the store's active version is %s: calls are denied",
            self.policy.version,
            active,
        )
        return (
            f"this Proctor process decides under policy version `{self.policy.version[:16]}` but the "
            f"workspace's active version is `{active[:16]}`, which it cannot load: the call is denied "
            "(check that every process reads the same policy files)"
        )

    def cached_agent(self, name: AgentName, snap: Snapshot | None = None) -> AgentRecord | None:
        snap = snap or self._snapshot()
        try:
            return snap.agents[name]
        except KeyError:
            rec = snap.agents[name] = self.store.get_agent(name)
            return rec

    def cached_task(self, task_id: TaskId, snap: Snapshot | None = None) -> TaskRecord | None:
        snap = snap or self._snapshot()
        try:
            return snap.tasks[task_id]
        except KeyError:
            rec = snap.tasks[task_id] = self.store.get_task(task_id)
            return rec

    def cached_tool(self, name: ToolName, snap: Snapshot | None = None) -> ToolRecord | None:
        snap = snap or self._snapshot()
        try:
            return snap.tools[name]
        except KeyError:
            rec = snap.tools[name] = self.store.get_tool(name)
            return rec

    def cached_pins(self, namespace: str, snap: Snapshot | None = None) -> list[ToolPin]:
        """The pinned tool definitions of an upstream namespace (pinning bumps the store epoch)."""
        snap = snap or self._snapshot()
        try:
            return snap.pins[namespace]
        except KeyError:
            pins = snap.pins[namespace] = self.store.list_tool_pins(namespace)
            return pins

    # audit helpers ------------------------------------------------------------------------
    def _audit(self, kind: str, fields: Mapping[str, Any], **index: str | None) -> None:
        self.audit.append(kind, dict(fields), **index)

    def decision_entry(
        self,
        call: CallInput,
        decision: Decision,
        agent: AgentRecord | None,
        task: TaskRecord | None,
        tool: str,
        *,
        budget_used: bool,
    ) -> AuditEntry:
        """The audit record of one decision (arguments as digest and names unless configured)."""
        fields: dict[str, Any] = {
            "outcome": {k: v for k, v in decision.to_dict().items() if k not in ("decision", "decision_id")},
            "source": call.source,
            "dry_run": call.dry_run,
            "agent_spiffe_id": None if agent is None else str(agent.spiffe_id),
            "owner": None if agent is None else str(agent.owner),
            "arg_names": sorted(printable(k) for k in call.args)[:64]
            if isinstance(call.args, Mapping)
            else [],
            "args_digest": args_digest(call.args) if isinstance(call.args, Mapping) else None,
            "budget_counted": budget_used,
        }
        if self.settings.log_arguments and isinstance(call.args, Mapping):
            fields["args"] = _logged_args(call.args)
        return AuditEntry(
            "decision",
            fields,
            agent=None if agent is None else str(agent.name),
            task=None if task is None else str(task.id),
            tool=tool,
            decision=decision.verdict.value,
            decision_id=str(decision.decision_id),
        )

    # policy -------------------------------------------------------------------------------
    @property
    def policy(self) -> PolicyEngine:
        """The decision point; loads the policy set on first use (raises :class:`PolicyLoadError`,
        naming file and line, when it is invalid: nothing is decided without a valid set)."""
        engine = self._policy
        return engine if engine is not None else self.load_policies()

    def load_policies(self) -> PolicyEngine:
        """Load the policy set now if it is not loaded yet, and register the config's tools."""
        settle = False
        with self._policy_lock:
            if self._policy is None:
                ps = self._given_policies
                if ps is None:
                    assert self.policy_dir is not None  # checked in __init__
                    ps = load_policy_dir(self.policy_dir)
                    settle = True
                engine = PolicyEngine(ps)
                self._record_policy(ps, initial=True)
                self._policy = engine
            engine = self._policy
        if settle:
            self._settle_policy()
        if not self._tools_synced:
            self.sync_config_tools()
            self._tools_synced = True
        return engine

    def schema_actions(self) -> frozenset[str]:
        """The actions of the policy schema: the active set's, or (policies not loaded yet) those
        the schema file declares, so that registering a tool needs no valid policy set."""
        if self._policy is not None:
            return self._policy.policy_set.actions
        if self._given_policies is not None:
            return self._given_policies.actions
        assert self.policy_dir is not None
        return schema_actions(self.policy_dir)

    def policy_health(self) -> dict[str, Any]:
        """What ``/healthz`` and ``proctor status`` say of policy: the version this process decides
        with and the set it last refused (with its errors), if any."""
        rejected = self.policy_rejection
        return {
            "active_version": None if self._policy is None else self._policy.version,
            "rejected": None if rejected is None else rejected.to_dict(),
        }

    def _reject_policies(self, exc: PolicyLoadError) -> None:
        """Keep the last good set, remember the refused one and audit why (file, line, message)."""
        errors = policy_errors(exc)
        active = None if self._policy is None else self._policy.version
        self.policy_rejection = PolicyRejection(tuple(errors), self.clock.now(), active)
        log.error("policy set refused, %s keeps serving: %s", active, exc.message)
        self._audit(
            "policy.rejected", {"error": exc.message[:2000], "errors": errors, "active_version": active}
        )

    def _clear_rejection(self) -> None:
        self.policy_rejection = None

    def _policy_changed(self, ps: PolicySet) -> None:
        self.policy_rejection = None
        self._record_policy(ps)

    def _record_policy(self, ps: PolicySet, *, initial: bool = False) -> None:
        # the record first, then the row: every row of policy_versions has its chained record
        # (``audit verify --deep`` checks it), also when the process dies between the two
        if not initial or self.store.active_policy_version() != ps.version:
            self._audit(
                "policy.activated",
                {
                    "version": ps.version,
                    "files": sorted(ps.files),
                    "policies": sorted(ps.sources),
                    "files_digest": policy_files_digest(ps.files),
                },
            )
        self.store.record_policy_version(ps.version, ps.files, self.clock.now())

    def _settle_policy(self) -> None:
        """After recording the set this process read at start-up: read the files again, and while
        they hold another set, activate that one. The files may have changed (and a running process
        activated the change) between the read and the record: the store must never be left naming
        an older set than the files hold (the running processes would be ``policy_stale``, this one
        would decide under a withdrawn policy). Each round re-reads after its own record, so the
        last record any process makes is of the files as they are."""
        assert self.policy_dir is not None
        for _ in range(SETTLE_ROUNDS):
            try:
                new = load_policy_dir(self.policy_dir)
            except PolicyLoadError:
                return  # being edited: the set recorded is the last good one; watchers follow
            with self._activate_lock:
                if new.version == self.policy.version:
                    return
                self._record_policy(new, initial=True)
                self.policy.swap(new)

    def _activate(self, new: PolicySet) -> bool:
        """Make ``new`` the active set: recorded in the store (and audited) first, then served, so no
        process ever decides under a set the store does not name. False when it is already active."""
        with self._activate_lock:
            if new.version == self.policy.version:
                return False
            self.policy_rejection = None
            self._record_policy(new)
            self.policy.swap(new)
            self._unfollowable = None
            return True

    def reload_policies(self) -> bool:
        """Load the policy directory now; an invalid set raises and the active one keeps serving."""
        if self.policy_dir is None:
            return False
        _ = self.policy  # the set in force first (a lazy Proctor loads it here)
        try:
            new = load_policy_dir(self.policy_dir)
        except PolicyLoadError as exc:
            self._reject_policies(exc)
            raise
        if self._activate(new):
            return True
        self._clear_rejection()
        return False

    def watch_policies(self) -> None:
        """Reload policies in the background when their files change."""
        if self.policy_dir is None or self._watcher is not None:
            return
        self._watcher = PolicyWatcher(
            self.policy,
            self.policy_dir,
            interval_s=self.settings.policy_reload_s,
            activate=self._activate,
            on_reject=self._reject_policies,
            on_clear=self._clear_rejection,
            settle_polls=2,  # a change is loaded once two polls in a row find the same files
        )
        self._watcher.start()

    # agents -------------------------------------------------------------------------------
    def add_agent(
        self, name: str, owner: str | None, selectors: Sequence[str] = (), *, by: str = "cli"
    ) -> AgentRecord:
        if not owner:
            raise OwnerRequired(f"agent `{name}` needs exactly one accountable owner: pass --owner EMAIL")
        agent_name = AgentName(name)
        email = Email(owner)
        sels = tuple(dict.fromkeys(selectors))
        if len(sels) > MAX_SELECTORS:
            raise ValidationError(f"at most {MAX_SELECTORS} selectors per agent")
        for s in sels:
            kind, _, value = s.partition(":")
            if kind != "unix" or not value or ":" not in value:
                raise ValidationError(
                    f"invalid selector `{s[:80]}`: expected `unix:<type>:<value>`, like `unix:uid:1000`"
                )
        now = self.clock.now()
        rec = AgentRecord(
            name=agent_name,
            spiffe_id=SpiffeId.for_agent(self.settings.trust_domain, agent_name),
            owner=email,
            status=AgentStatus.ACTIVE,
            selectors=sels,
            created_at=now,
            updated_at=now,
        )
        self.store.add_agent(rec)
        self._audit(
            "agent.registered",
            {"spiffe_id": str(rec.spiffe_id), "owner": str(email), "selectors": list(sels), "by": by},
            agent=str(agent_name),
        )
        return rec

    def get_agent(self, name: str) -> AgentRecord:
        rec = self.store.get_agent(AgentName(name))
        if rec is None:
            raise UnknownAgent(f"unknown agent `{name}`")
        return rec

    def set_agent_status(
        self, name: str, status: AgentStatus, *, by: str = "cli", reason: str = ""
    ) -> AgentRecord:
        rec = self.store.set_agent_status(AgentName(name), status, self.clock.now())
        self.keys.invalidate()
        kind = "agent.suspended" if status is AgentStatus.SUSPENDED else "agent.resumed"
        self._audit(kind, {"by": by, "reason": reason[:500]}, agent=str(rec.name))
        if status is AgentStatus.SUSPENDED:
            self._lease_hook(
                "revoke_agent", lambda: self.leases.revoke_agent(rec.name, reason[:200] or "agent suspended")
            )
        return rec

    def kill_agent(self, name: str, *, by: str = "cli", reason: str = "") -> bool:
        """Suspend an agent whatever state the store and the log are in. Returns True when the
        suspension is recorded; False when the store or the log failed and it is enforced from the
        workspace's kill file until it can be recorded (see :mod:`proctor.killswitch`)."""
        agent_name = AgentName(name)
        try:
            self.set_agent_status(str(agent_name), AgentStatus.SUSPENDED, by=by, reason=reason)
            return True
        except (StoreError, AuditError) as exc:
            self._pend_kill("agent", str(agent_name), by, reason, exc.code)
            return False

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
                rec = self.store.get_agent(AgentName(k.target))
                if rec is not None:
                    if rec.status is not AgentStatus.SUSPENDED:
                        rec = self.store.set_agent_status(rec.name, AgentStatus.SUSPENDED, self.clock.now())
                        self.keys.invalidate()
                    self._audit("agent.suspended", fields, agent=str(rec.name))
                    self._lease_hook(
                        "revoke_agent",
                        functools.partial(self.leases.revoke_agent, rec.name, "agent suspended"),
                    )
            elif k.kind == "task":
                task = self.store.get_task(TaskId(k.target))
                if task is not None:
                    state = TaskState.CANCELLED if k.state == "cancelled" else TaskState.COMPLETED
                    if task.state is TaskState.ACTIVE:
                        task = (
                            self.store.end_task(task.id, state, self.clock.now(), k.reason or state.value)
                            or task
                        )
                    self._audit(
                        "task.ended",
                        {**fields, "state": task.state.value},
                        agent=str(task.agent),
                        task=str(task.id),
                    )
                    self._lease_hook(
                        "revoke_task", functools.partial(self.leases.revoke_task, task.id, "task ended")
                    )
            self.kills.remove(k.kind, k.target, k.at)
            done += 1
        return done

    def join_token(self, name: str, *, by: str = "cli") -> str:
        agent = self.get_agent(name)
        token = create_join_token(self.store, agent.name, self.clock.now(), self.settings.join_token_ttl_s)
        self._audit(
            "identity.join_token_issued",
            {"by": by, "ttl_s": self.settings.join_token_ttl_s},
            agent=str(agent.name),
        )
        return token

    def svid_from_join_token(
        self,
        token: str,
        audience: str | None = None,
        *,
        on_rejected: Callable[[ProctorError], None] | None = None,
    ) -> str:
        """Redeem a single-use join token for a JWT-SVID. A rejected token is audited
        (``identity.join_token_rejected``), or handed to ``on_rejected`` to audit (the HTTP API
        rations those records per source: anyone can send a bad token)."""
        now = self.clock.now()
        try:
            # the audience first: a request the SVID would be refused for must not spend the token
            self.svids.check_audience(audience or self.audience)
            name = redeem(self.store, token, now)
        except ProctorError as exc:
            if on_rejected is None:
                self._audit("identity.join_token_rejected", {"error": exc.code})
            else:
                on_rejected(exc)
            raise
        agent = self.get_agent(name)
        return self.issue_svid(agent, audience, method="join_token")

    def issue_svid(self, agent: AgentRecord, audience: str | None = None, *, method: str = "admin") -> str:
        aud = audience or self.audience
        svid = self.svids.issue(agent, aud, self.clock.now())
        self._audit(
            "identity.svid_issued",
            {"method": method, "audience": aud, "ttl_s": self.settings.svid_ttl_s},
            agent=str(agent.name),
        )
        return svid

    def audit_attestation(
        self, agent: AgentRecord | None, selectors: frozenset[str], error: ProctorError | None
    ) -> None:
        """Record every local attestation, matched or not (hook for the attestation server)."""
        self._audit(
            "identity.attested" if error is None else "identity.attestation_failed",
            {"selectors": sorted(selectors)[:32], "error": None if error is None else error.code},
            agent=None if agent is None else str(agent.name),
        )

    def verify_svid(self, token: str) -> SvidClaims:
        return self.svids.verify(token, self.audience, self.clock.now())

    # tools --------------------------------------------------------------------------------
    def sync_config_tools(self) -> None:
        """Register the tools the workspace config declares (config wins over older versions)."""
        for tool in self.settings.tools:
            self.put_tool(tool, by="config")

    def put_tool(self, tool: ToolRecord, *, by: str = "api") -> ToolRecord:
        if tool.effect == CREDENTIAL_ACTION:
            raise ValidationError(f"`{CREDENTIAL_ACTION}` is not a tool effect: it decides credentials")
        if tool.effect not in self.schema_actions():
            raise ValidationError(
                f"tool `{tool.name}` has effect `{tool.effect}`, which the policy schema has no action for:"
                f' add `action "{tool.effect}"` to policies/schema.cedarschema'
            )
        existing = self.store.get_tool(tool.name)
        if existing is not None and _same_tool(existing, tool):
            return existing
        rec = self.store.put_tool(tool)
        self._audit(
            "tool.registered", {"by": by, "effect": rec.effect, "version": rec.version}, tool=str(rec.name)
        )
        return rec

    def get_tool(self, name: str) -> ToolRecord:
        rec = self.store.get_tool(ToolName(name))
        if rec is None:
            raise UnknownTool(f"unknown tool `{name}`")
        return rec

    # tasks --------------------------------------------------------------------------------
    def start_task(
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
    ) -> StartedTask:
        rec_agent = self.get_agent(agent)
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
            },
            agent=str(rec_agent.name),
            task=str(task.id),
        )
        return StartedTask(task, token)

    def verify_task_token(self, token: str, agent: AgentRecord) -> TaskId:
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

    def get_task(self, task_id: str) -> TaskRecord:
        rec = self.store.get_task(TaskId(task_id))
        if rec is None:
            raise UnknownTask(f"unknown task `{task_id}`")
        return self._expire_if_due(rec)

    def _expire_if_due(self, rec: TaskRecord) -> TaskRecord:
        if rec.state is TaskState.ACTIVE and self.clock.now() >= rec.deadline:
            self.sweep()
            fresh = self.store.get_task(rec.id)
            return fresh or rec
        return rec

    def end_task(
        self, task_id: str, *, state: TaskState = TaskState.COMPLETED, by: str = "cli", reason: str = ""
    ) -> TaskRecord:
        if state not in (TaskState.COMPLETED, TaskState.CANCELLED):
            raise ValidationError("a task ends as `completed` or `cancelled`")
        current = self.get_task(task_id)
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
        self._lease_hook("revoke_task", lambda: self.leases.revoke_task(rec.id, f"task {state.value}"))
        return rec

    def end_task_or_kill(
        self, task_id: str, *, state: TaskState = TaskState.COMPLETED, by: str = "cli", reason: str = ""
    ) -> TaskRecord | None:
        """:meth:`end_task`, which works whatever state the store and the log are in: when either
        fails, the end is enforced from the workspace's kill file until it can be recorded, and
        None comes back (see :mod:`proctor.killswitch`)."""
        tid = TaskId(task_id)
        try:
            return self.end_task(str(tid), state=state, by=by, reason=reason)
        except (StoreError, AuditError) as exc:
            self._pend_kill("task", str(tid), by, reason, exc.code, state.value)
            return None

    def sweep(self) -> list[TaskRecord]:
        """Expire tasks past their deadline (calls are denied at the deadline whether or not this ran)."""
        self._lease_hook("pending kills", self.record_pending_kills)
        now = self.clock.now()
        expired = self.store.expire_tasks(now)
        for t in expired:
            self._audit("task.expired", {"deadline": int(t.deadline)}, agent=str(t.agent), task=str(t.id))
        self._lease_hook("sweep", lambda: (self.leases.sweep(now), self.leases.retry_pending(now)))
        self._lease_hook("renew", lambda: self.leases.renew_due(now))
        return expired

    def list_tasks(self, agent: str | None = None, state: str | None = None) -> list[TaskRecord]:
        self.sweep()
        return self.store.list_tasks(
            None if agent is None else AgentName(agent), None if state is None else TaskState(state)
        )

    # decisions ----------------------------------------------------------------------------
    def decide(self, call: CallInput) -> Decision:
        """Run the pipeline for one call; the decision is durable in the audit log on return.
        Without a valid policy set (lazy loading) this raises :class:`PolicyLoadError`: nothing
        is decided, so nothing is allowed."""
        self.load_policies()
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
                cp = self.witnesses.held_by(target)
            except AuditError as exc:
                out[target] = exc.message
                continue
            if anchor is not None and (cp is None or cp.seq < anchor.seq):
                out[target] = f"holds checkpoint {0 if cp is None else cp.seq}, the anchor {anchor.seq}"
            elif cp is not None and self.audit.rollback is None:
                why = _reach_problem(self.store, cp.seq, bytes(cp.head_hash))
                if why is not None:
                    self.audit.halt(f"against the witness {target}: {why}")
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
        )
        self.store.add_checkpoint(cp)
        write_anchor(self.keydir, cp, force=True)
        if self.witnesses is not None:
            self.witnesses.publish_recovery(cp, reason[:2000], held, self.audit_key.sign)
        self.audit.resume(cp)
        log.warning("audit: recovery recorded at record %d by %s: %s", row.seq, by, reason)
        return {"seq": row.seq, "anchor": point(anchor), "witnesses": {t: point(c) for t, c in held.items()}}


#: what an audit record holds in place of arguments that are not even JSON text (the call was denied)
UNLOGGABLE_ARGS = "<arguments not representable as JSON>"


def _logged_args(args: Mapping[str, Any]) -> Any:
    """The arguments as an audit record holds them: as they are when canonical JSON can hold them;
    otherwise (integers beyond ±2**53, lone surrogates) as ``{"json": <their exact JSON text>}``,
    so an agent cannot keep its arguments out of the log by adding one such value."""
    try:
        canonical_json(args)
    except ValidationError:
        text = args_as_text(args)
        return UNLOGGABLE_ARGS if text is None else {"json": text}
    return args


def _checkpoint_written(keydir: Path, witnesses: WitnessPublisher | None, cp: Checkpoint) -> None:
    """Keep each signed checkpoint outside the database: the workspace's anchor, then the witnesses
    outside the workspace when configured (see proctor.audit.witness). On the audit writer's thread:
    a witness that does not answer in time is lagging, retried later, and holds nobody up."""
    write_anchor(keydir, cp)
    if witnesses is not None:
        witnesses.publish(cp)


def policy_files_digest(files: Mapping[str, str]) -> str:
    """The digest of a policy set's files as ``policy_versions`` holds them (its activation record
    carries it, so ``audit verify --deep`` can tell an edited row)."""
    text = json.dumps(dict(files), sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _outside_checkpoints(
    store: Store, keydir: Path, settings: Settings | None, log_id: str | None, problems: list[Problem]
) -> list[Checkpoint]:
    """The checkpoints kept outside the store: the anchor and each witness's latest."""
    from proctor.audit.witness_http import HttpWitness, parse_witness_key

    stored = store.latest_checkpoint()
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
                got = HttpWitness(witness, parse_witness_key(pinned[witness])).latest(log_id)
                seen = None if got is None else got.checkpoint
            else:
                seen = latest_witnessed(Path(witness))
        except AuditError as exc:
            problems.append(Problem(0, "witness_invalid", exc.message))
            continue
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
    anchors = _outside_checkpoints(store, keydir, settings, log_id, problems)
    report = verify_log(store, keys, deep=deep, anchors=anchors or None)
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
    report.ok = not report.problems
    report.recoveries = _recoveries(store, report.head_seq)
    report.log_id = next(iter(keys), None)
    return report


def _same_tool(a: ToolRecord, b: ToolRecord) -> bool:
    fields = (
        "effect",
        "resource_pattern",
        "resource_arg",
        "trust",
        "sensitivity",
        "destructive",
        "financial",
        "customer_facing",
        "production",
        "description",
    )
    return all(getattr(a, f) == getattr(b, f) for f in fields)
