"""Credential leases: what a provider issued to a task, as a state machine with a dead-letter state.

``active`` → ``revoked`` | ``expired`` | ``irrevocable``. A lease never outlives its task: its expiry is
clamped to the task's deadline, and there is no refresh. Ending a task, expiring it or suspending its
agent revokes its leases: the state change is one store transaction (so nothing can use them after
it returns), then the provider round trips run. A failed round trip is retried with exponential
backoff and jitter; after ``max_attempts`` the lease becomes ``irrevocable`` and stays listed for a
person to deal with (OpenBao's ``ExpirationManager``). Leases live in the store, so a restarted
Proctor sees them, and :meth:`LeaseManager.sweep` ends those whose time ran out while it was down.

A revoked or expired lease whose provider has not confirmed the revocation yet is *pending*
(``next_attempt_at`` is set). A process without the lease's provider (the CLI, say) marks and leaves
it pending, without counting an attempt, for a process that has the provider.

Audit records name ids, kinds and credential names only: never a value the provider handed out,
never a provider's error text (only its code or exception class).
"""

from __future__ import annotations

import builtins
import logging
import math
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from proctor.audit.late import LateRecords
from proctor.audit.log import AuditEntry, AuditLog
from proctor.clock import Clock
from proctor.credentials.providers.base import (
    IssueRequest,
    Provider,
    ProviderRegistry,
    RevocationUnrecoverable,
)
from proctor.errors import (
    AgentSuspended,
    LeaseIssueFailed,
    LeaseNotOwned,
    ProctorError,
    TaskNotActive,
    UnknownAgent,
    UnknownLease,
    UnknownTask,
    ValidationError,
)
from proctor.store.base import AgentRecord, LeaseAttempt, LeaseRecord, Store, TaskRecord, ToolRecord
from proctor.types import AgentName, AgentStatus, LeaseId, LeaseState, TaskId, TaskState

log = logging.getLogger(__name__)

#: A lease, as the store keeps it. Frozen; holds no secret.
Lease = LeaseRecord

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}")
_MAX_REASON = 200

__all__ = ["Lease", "LeaseManager", "LeaseState", "RevocationSummary"]


@dataclass(frozen=True, slots=True)
class RevocationSummary:
    """What one revocation call did: the leases it ended here, and how their providers answered."""

    ended: tuple[LeaseId, ...] = ()
    confirmed: tuple[LeaseId, ...] = ()
    pending: tuple[LeaseId, ...] = ()  # retry scheduled, or no provider in this process
    irrevocable: tuple[LeaseId, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "ended": [str(x) for x in self.ended],
            "confirmed": [str(x) for x in self.confirmed],
            "pending": [str(x) for x in self.pending],
            "irrevocable": [str(x) for x in self.irrevocable],
        }


def _error_code(exc: BaseException) -> str:
    """A short, secret-free name for a provider failure: the Proctor code or the exception class."""
    if isinstance(exc, ProctorError):
        return exc.code
    return type(exc).__name__[:64]


def _names(mapping: Mapping[str, Any]) -> list[str]:
    return sorted(str(k)[:64] for k in mapping)[:64]


class LeaseManager:
    """Issues, revokes, expires and retries leases for one store."""

    def __init__(
        self,
        store: Store,
        providers: ProviderRegistry,
        clock: Clock,
        audit: AuditLog,
        *,
        max_attempts: int = 6,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        irrevocable_retry_cap_s: float = 300.0,
        claim_s: float = 60.0,
        jitter: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        records: Callable[[TaskId, AgentName], tuple[TaskRecord | None, AgentRecord | None]] | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValidationError("max_attempts must be at least 1")
        if backoff_base_s <= 0 or backoff_cap_s < backoff_base_s:
            raise ValidationError("backoff needs 0 < backoff_base_s <= backoff_cap_s")
        self.store = store
        self.providers = providers
        self.clock = clock
        self.audit = audit
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        #: an irrevocable lease is still retried, at most this long apart, until it is confirmed
        self.irrevocable_retry_cap_s = max(irrevocable_retry_cap_s, backoff_cap_s)
        self.backoff_cap_s = backoff_cap_s
        #: a process that ends leases or picks up due revocations claims them in the store for this
        #: long (their ``next_attempt_at``), so no other process revokes them too (issue 19); one
        #: that dies mid-revocation leaves them to the others' sweeps once the claim runs out
        self.claim_s = claim_s
        self._rng = jitter or random.Random()  # noqa: S311 - jitter spreads retries; it is not a secret
        #: ``lease.ended`` (and its revocation records) a failed write did not take: the leases are
        #: ended in the store and revoked at their providers already, so these are written late
        #: (``recorded_late``) with the next records or sweep, never lost
        self._late = LateRecords(audit, "leases", clock=clock)
        self._sleep = sleep
        #: current task and agent records (default: read from the store; Proctor passes its cache,
        #: which the store's epoch keeps exact). ``add_lease`` checks both again under lock.
        self._records = records or (lambda t, a: (store.get_task(t), store.get_agent(a)))
        self._tools: tuple[int, tuple[ToolRecord, ...]] | None = None

    # issue ---------------------------------------------------------------------------------
    def issue(
        self,
        task: TaskRecord,
        agent: AgentRecord,
        kind: str,
        spec: Mapping[str, Any],
        *,
        effects: frozenset[str] | None = None,
    ) -> tuple[Lease, dict[str, Any]]:
        """Issue a credential of ``kind`` to a live task. Returns the lease and the provider's data
        for the gateway (never stored). A provider failure raises :class:`LeaseIssueFailed`, audited,
        and nothing is stored. ``effects`` (default: every effect the task declared) bounds what a
        scoped credential may carry."""
        now = self.clock.now()
        fresh, holder = self._records(task.id, agent.name)
        if fresh is None:
            raise UnknownTask(f"unknown task `{task.id}`")
        if fresh.agent != agent.name:
            raise LeaseNotOwned(f"task `{fresh.id}` belongs to another agent")
        if not fresh.is_live(now):
            state = "past its deadline" if fresh.state is TaskState.ACTIVE else fresh.state.value
            raise TaskNotActive(f"task `{fresh.id}` is {state}: it cannot get credentials")
        if holder is None:
            raise UnknownAgent(f"unknown agent `{agent.name}`")
        if holder.status is not AgentStatus.ACTIVE:
            raise AgentSuspended(f"agent `{agent.name}` is suspended: it cannot get credentials")
        provider = self.providers.get(kind)
        raw_name = spec.get("name", kind)
        if not isinstance(raw_name, str) or not _NAME.fullmatch(raw_name):
            raise ValidationError(
                "invalid credential name: use 1-128 of A-Z a-z 0-9 . _ : / @ - starting with a letter or digit"
            )
        where = {"agent": str(agent.name), "task": str(fresh.id)}
        lease_id = LeaseId.new()
        req = IssueRequest(
            lease_id, fresh, holder, spec, now, self.task_effects(fresh) if effects is None else effects
        )
        try:
            issued = provider.issue(req)
        except Exception as exc:
            self.audit.append(
                "lease.issue_failed", {"provider": kind, "name": raw_name, "error": _error_code(exc)}, **where
            )
            raise LeaseIssueFailed(
                f"provider `{kind}` could not issue `{raw_name}` ({_error_code(exc)})", kind=kind
            ) from None
        expires_at = min(float(issued.expires_at), fresh.deadline)
        lease = LeaseRecord(
            id=lease_id,
            task_id=fresh.id,
            agent=fresh.agent,
            kind=kind,
            name=raw_name,
            state=LeaseState.ACTIVE,
            issued_at=now,
            expires_at=expires_at,
            revoke_handle=dict(issued.revoke_handle),
            data_summary={"spec_keys": _names(spec), "data_keys": _names(issued.data)},
        )
        durable = not getattr(provider, "loss_fails_closed", False)
        try:
            # the clock as it is after the provider worked: a deadline that passed meanwhile ends it
            if expires_at <= max(now, self.clock.now()):
                raise LeaseIssueFailed(f"provider `{kind}` issued `{raw_name}` already expired", kind=kind)
            self.store.add_lease(lease, durable=durable)
        except Exception as exc:
            # never leave a live credential behind that no lease tracks
            code = _error_code(exc)
            try:
                provider.revoke(lease.revoke_handle)
            except Exception as rexc:
                code = f"{code}; revoke: {_error_code(rexc)}"
            self.audit.append(
                "lease.issue_failed", {"provider": kind, "name": raw_name, "error": code}, **where
            )
            if isinstance(exc, ProctorError):
                raise
            raise LeaseIssueFailed(f"lease for `{raw_name}` could not be stored ({code})") from None
        # a credential whose loss fails closed: queued, not waited for (it commits with the next
        # durable record or within the audit log's max_defer_s); any other: durable first (ADR 0010)
        (self.audit.append if durable else self.audit.defer)(
            "lease.issued",
            {
                "lease_id": str(lease.id),
                "provider": kind,
                "name": raw_name,
                "expires_at": math.ceil(expires_at),  # whole seconds keep the canonical fast path
                "clamped_to_deadline": float(issued.expires_at) > fresh.deadline,
            },
            **where,
        )
        return lease, issued.data

    def task_effects(self, task: TaskRecord, namespace: str | None = None) -> frozenset[str]:
        """The effects of the registered tools ``task`` declared it may call (of ``namespace`` only,
        when given: the tools of one upstream)."""
        pats = task.allow
        prefix = None if namespace is None else f"{namespace}."
        epoch = self.store.epoch()  # bumped by every tool change, by any process
        if self._tools is None or self._tools[0] != epoch:
            self._tools = (epoch, tuple(self.store.list_tools()))
        return frozenset(
            t.effect
            for t in self._tools[1]
            if (prefix is None or str(t.name).startswith(prefix))
            and any(fnmatchcase(str(t.name), p) for p in pats)
        )

    # look-ups -------------------------------------------------------------------------------
    def get(self, lease_id: LeaseId, *, task_id: TaskId | None = None) -> Lease:
        """The lease; with ``task_id``, refused (``lease_not_owned``) unless that task holds it."""
        lid = LeaseId(lease_id)
        lease = self.store.get_lease(lid)
        if lease is None:
            raise UnknownLease(f"unknown lease `{lid}`")
        if task_id is not None and lease.task_id != TaskId(task_id):
            raise LeaseNotOwned(f"lease `{lid}` is not held by task `{task_id}`")
        return lease

    # revoke -----------------------------------------------------------------------------
    def revoke(self, lease_id: LeaseId, reason: str = "", *, task_id: TaskId | None = None) -> Lease:
        """Revoke one lease; returns its new record. An active lease is ended and its provider
        called; one whose provider revocation is still pending or was given up on (irrevocable) is
        tried again now, by this process if it has the provider."""
        lease = self.get(lease_id, task_id=task_id)
        if lease.state is LeaseState.ACTIVE:
            now = self.clock.now()
            marked = self.store.mark_leases(
                [lease.id], LeaseState.REVOKED, now, claim_until=now + self.claim_s
            )
            self._finish(marked, reason or "revoked", task=str(lease.task_id), agent=str(lease.agent))
        elif lease.pending or lease.state is LeaseState.IRREVOCABLE:
            self._attempt([lease], reason or "revoked again", self.clock.now(), [], ended=False)
        return self.get(lease.id)

    def revoke_task(self, task_id: TaskId, reason: str = "task ended") -> RevocationSummary:
        """Revoke every active lease of a task at once: one transaction, then the provider round trips."""
        tid = TaskId(task_id)
        now = self.clock.now()
        marked = self.store.mark_leases(
            (), LeaseState.REVOKED, now, task_id=tid, claim_until=now + self.claim_s
        )
        return self._finish(marked, reason, task=str(tid))

    def revoke_agent(self, agent: AgentName, reason: str = "agent suspended") -> RevocationSummary:
        """The kill switch: every active lease of every task of ``agent``."""
        name = AgentName(agent)
        now = self.clock.now()
        marked = self.store.mark_leases(
            (), LeaseState.REVOKED, now, agent=name, claim_until=now + self.claim_s
        )
        return self._finish(marked, reason, agent=str(name))

    def flush_late(self) -> None:
        """Write the records an earlier sweep could not (at close: never dropped with memory)."""
        self._late.flush()

    def sweep(self, now: float | None = None) -> RevocationSummary:
        """End active leases past their expiry (``expired``) or whose task ended or whose agent is
        suspended (``revoked``), however long ago: run at start-up and periodically."""
        at = self.clock.now() if now is None else now
        self._late.flush()  # what an earlier write could not take, even when nothing is due now
        due = self.store.due_leases(at)
        if not due:
            return RevocationSummary()
        expired = [x.id for x in due if x.expires_at <= at]
        ended = [x.id for x in due if x.expires_at > at]
        marked: list[Lease] = []
        if expired:
            marked += self.store.mark_leases(expired, LeaseState.EXPIRED, at, claim_until=at + self.claim_s)
        if ended:
            marked += self.store.mark_leases(ended, LeaseState.REVOKED, at, claim_until=at + self.claim_s)
        return self._finish(marked, "sweep", now=at)

    def renew_due(self, now: float | None = None, *, window_s: float | None = None) -> list[LeaseId]:
        """Renew the active leases of live tasks that end before their task and within ``window_s``
        (default: a third of how long they were issued for), with providers that can (``renew``):
        the provider moves the credential's own expiry (a role's ``VALID UNTIL``), then the store's.
        A lease whose provider cannot be reached is not renewed: it expires at its own time and is
        revoked (or retried) as usual, so a credential nobody can revoke dies soon anyway. Returns the
        leases renewed."""
        at = self.clock.now() if now is None else now
        renewed: list[LeaseId] = []
        for lease in self.store.list_leases(None, None, LeaseState.ACTIVE):
            provider = self.providers.find(lease.kind)
            renew = getattr(provider, "renew", None)
            if renew is None or lease.expires_at <= at:
                continue
            span = max(lease.expires_at - lease.issued_at, 1.0)
            if lease.expires_at - at > (span / 3 if window_s is None else window_s):
                continue
            task = self.store.get_task(lease.task_id)
            if task is None or not task.is_live(at) or lease.expires_at >= task.deadline:
                continue
            until = min(task.deadline, at + span)
            if until <= lease.expires_at:
                continue
            try:
                renew(lease.revoke_handle, until)
            except Exception as exc:
                log.warning(
                    "lease %s (%s `%s`) was not renewed (%s): it expires at its own time",
                    lease.id,
                    lease.kind,
                    lease.name,
                    _error_code(exc),
                )
                continue
            if self.store.extend_lease(lease.id, until):
                renewed.append(lease.id)
                self.audit.append(
                    "lease.renewed",
                    {
                        "lease_id": str(lease.id),
                        "provider": lease.kind,
                        "name": lease.name,
                        "expires_at": math.ceil(until),
                    },
                    agent=str(lease.agent),
                    task=str(lease.task_id),
                )
        return renewed

    def retry_pending(self, now: float | None = None) -> RevocationSummary:
        """Run the provider revocations that are due."""
        at = self.clock.now() if now is None else now
        kinds = self.providers.kinds()
        if not kinds:
            return RevocationSummary()
        due = self.store.claim_revocations(at, at + self.claim_s, kinds=kinds)
        if not due:
            return RevocationSummary()
        return self._attempt(due, "retry", at, [], ended=False)

    def drain(self, timeout_s: float) -> RevocationSummary:
        """Retry pending revocations (sleeping between them) until none is left that this process
        can do, or ``timeout_s`` has passed."""
        until = self.clock.now() + timeout_s
        confirmed: list[LeaseId] = []
        gave_up: list[LeaseId] = []
        while True:
            s = self.retry_pending()
            confirmed += s.confirmed
            gave_up += s.irrevocable
            now = self.clock.now()
            waiting = [
                x
                for x in self.store.pending_revocations(until)
                if x.kind in self.providers and x.state is not LeaseState.IRREVOCABLE
            ]
            if not waiting or now >= until:
                left = tuple(x.id for x in waiting)
                return RevocationSummary((), tuple(confirmed), left, tuple(gave_up))
            wake = min(x.next_attempt_at or now for x in waiting)
            if wake > now:
                self._sleep(wake - now)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` failed ones: exponential, capped, jittered
        to between half and all of it."""
        delay: float = min(self.backoff_cap_s, self.backoff_base_s * 2.0 ** (attempts - 1))
        return delay * (0.5 + 0.5 * self._rng.random())

    def _slow_backoff(self, attempts: int) -> float:
        """Seconds before the next try of an irrevocable lease: the usual schedule, capped at
        ``irrevocable_retry_cap_s`` instead of ``backoff_cap_s``."""
        delay: float = min(self.irrevocable_retry_cap_s, self.backoff_base_s * 2.0 ** min(attempts - 1, 30))
        return delay * (0.5 + 0.5 * self._rng.random())

    # internals ----------------------------------------------------------------------------
    def _finish(
        self,
        marked: Sequence[Lease],
        reason: str,
        *,
        task: str | None = None,
        agent: str | None = None,
        now: float | None = None,
    ) -> RevocationSummary:
        if not marked:
            return RevocationSummary()
        at = self.clock.now() if now is None else now
        head = AuditEntry(
            "lease.ended",
            {
                "reason": reason[:_MAX_REASON],
                "leases": [
                    {"lease_id": str(x.id), "provider": x.kind, "name": x.name, "state": x.state.value}
                    for x in marked
                ],
            },
            agent=agent,
            task=task,
        )
        return self._attempt(marked, reason, at, [head], ended=True)

    def _attempt(
        self,
        leases: Sequence[Lease],
        reason: str,
        now: float,
        entries: builtins.list[AuditEntry],
        *,
        ended: bool,
    ) -> RevocationSummary:
        confirmed: list[LeaseId] = []
        pending: list[LeaseId] = []
        gave_up: list[LeaseId] = []
        updates: list[LeaseAttempt] = []
        for lease in leases:
            provider: Provider | None = self.providers.find(lease.kind)
            if provider is None:
                # not ours to revoke: give the claim back at once to the processes that can
                if lease.next_attempt_at is not None:
                    updates.append(
                        LeaseAttempt(lease.id, lease.attempts, lease.attempts, now, lease.last_error, None)
                    )
                pending.append(lease.id)
                continue
            n = lease.attempts + 1
            ids = {"lease_id": str(lease.id), "provider": lease.kind, "name": lease.name}
            where = {"agent": str(lease.agent), "task": str(lease.task_id)}
            try:
                provider.revoke(lease.revoke_handle)
            except Exception as exc:
                code = _error_code(exc)
                if lease.state is LeaseState.IRREVOCABLE:
                    # already given up on: keep trying, slowly, and say so each time (no audit spam)
                    at = None if isinstance(exc, RevocationUnrecoverable) else now + self._slow_backoff(n)
                    updates.append(LeaseAttempt(lease.id, lease.attempts, n, at, code))
                    log.warning(
                        "irrevocable lease %s (%s `%s`): revocation attempt %d failed (%s)%s",
                        lease.id,
                        lease.kind,
                        lease.name,
                        n,
                        code,
                        "" if at is None else f"; next attempt in {at - now:.0f} s",
                    )
                    gave_up.append(lease.id)
                elif n >= self.max_attempts or isinstance(exc, RevocationUnrecoverable):
                    # irrevocable: listed for a person, and still retried on a slower schedule (a
                    # database that was down comes back) unless retrying cannot help
                    at = None if isinstance(exc, RevocationUnrecoverable) else now + self._slow_backoff(n)
                    updates.append(
                        LeaseAttempt(lease.id, lease.attempts, n, at, code, LeaseState.IRREVOCABLE)
                    )
                    entries.append(
                        AuditEntry(
                            "lease.irrevocable",
                            {**ids, "error": code, "attempts": n, "next_attempt_at": at},
                            **where,
                        )
                    )
                    log.error(
                        "lease %s (%s `%s`) is irrevocable after %d attempts (%s)%s",
                        lease.id,
                        lease.kind,
                        lease.name,
                        n,
                        code,
                        "" if at is None else f"; retried every {self.irrevocable_retry_cap_s:.0f} s at most",
                    )
                    gave_up.append(lease.id)
                else:
                    at = now + self.backoff(n)
                    updates.append(LeaseAttempt(lease.id, lease.attempts, n, at, code))
                    entries.append(
                        AuditEntry(
                            "lease.revoke_failed",
                            {**ids, "error": code, "attempt": n, "next_attempt_at": at},
                            **where,
                        )
                    )
                    pending.append(lease.id)
            else:
                late = lease.state is LeaseState.IRREVOCABLE
                updates.append(
                    LeaseAttempt(
                        lease.id, lease.attempts, n, None, None, LeaseState.REVOKED if late else None
                    )
                )
                entries.append(
                    AuditEntry(
                        "lease.revoked",
                        {
                            **ids,
                            "state": LeaseState.REVOKED.value if late else lease.state.value,
                            "reason": reason[:_MAX_REASON],
                            "attempts": n,
                            **({"after_irrevocable": True} if late else {}),
                        },
                        **where,
                    )
                )
                confirmed.append(lease.id)
        if updates:
            self.store.update_lease_attempts(updates)
        if entries or len(self._late):
            self._late.write(entries)
        ids_ended = tuple(x.id for x in leases) if ended else ()
        return RevocationSummary(ids_ended, tuple(confirmed), tuple(pending), tuple(gave_up))

    def list(
        self,
        task: TaskId | None = None,
        state: LeaseState | None = None,
        irrevocable: bool = False,
    ) -> builtins.list[Lease]:
        """Leases, oldest first; ``irrevocable=True`` lists only those revocation gave up on."""
        if irrevocable:
            if state is not None and state is not LeaseState.IRREVOCABLE:
                raise ValidationError("--irrevocable lists irrevocable leases: drop --state")
            state = LeaseState.IRREVOCABLE
        return self.store.list_leases(
            None if task is None else TaskId(task), None, None if state is None else LeaseState(state)
        )
