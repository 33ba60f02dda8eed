"""The audit log: append-only, hash-chained, durable before acknowledgement, checkpointed.

Many threads call :meth:`AuditLog.append`; each call returns only once its record is committed.
To make that cheap, one writer thread does *group commit*: callers put records into the open
batch and wait; the writer swaps the batch out, commits everything in it in one transaction
(``Store.append_audit``), then wakes every caller in it at once. The cost of a durable commit is
shared by everyone who arrived while the previous one ran.

After each commit the writer signs the chain head (a *checkpoint*) every ``checkpoint_every``
records or ``checkpoint_interval_s`` seconds, whichever comes first.

Each log is a *writer* with a chain of its own (docs/adr/0036): it registers in the store on its
first commit, chains its records from its own genesis and signs only its own head, so processes
writing one database never wait for each other. Deferred records of a commit that failed are carried
to the next one, ahead of everything newer: a queued record is never dropped for a store error.
"""

from __future__ import annotations

import _thread
import asyncio
import copy
import hmac
import itertools
import logging
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from proctor.audit.chain import GENESIS, checkpoint_payload, hasher_for, to_micros, writer_chain_hash
from proctor.canonical import canonical_json
from proctor.clock import Clock, SystemClock
from proctor.errors import StoreCorrupt, StoreError, StoreFull, StoreLocked, StoreUnavailable, ValidationError
from proctor.store.base import AuditRow, AuditWriter, Checkpoint, PendingAudit, Store, WriteWouldBlock
from proctor.store.guard import StoreGuard

#: real time for the writer thread's own delays (waits, not records: never the injected clock)
_REAL_TIME = SystemClock()
log = logging.getLogger(__name__)

#: Keys the log writes itself; ``fields`` may not use them.
RESERVED_FIELDS = frozenset({"v", "kind", "ts", "agent", "task", "tool", "decision", "decision_id"})
_KIND = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_WRITER_CHECK_S = 2.0
#: how long after its start a log first signs the heads of writers that are gone (and on close)
ORPHANS_AFTER_S = 5.0
#: and then how often, while it runs: a process killed beside running ones has its records
#: covered by a checkpoint within this, not only when some process starts or stops
ORPHANS_EVERY_S = 30.0
#: deferred records that make the writer commit without waiting for an urgent one
DEFER_MAX_RECORDS = 512

Redactor = Callable[[Mapping[str, Any]], Mapping[str, Any]]


class CheckpointSigner(Protocol):
    """Signs checkpoints: an Ed25519 private key and its key id (``AuditSigningKey`` matches)."""

    @property
    def kid(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One record to append with :meth:`AuditLog.append_many`."""

    kind: str
    fields: Mapping[str, Any]
    agent: str | None = None
    task: str | None = None
    tool: str | None = None
    decision: str | None = None
    decision_id: str | None = None


class _Batch:
    """Records committed together, and the callers waiting for them.

    Each waiter is a plain lock its caller holds and blocks on; the writer releases it once the
    batch is settled (``done``, with ``rows`` or ``error``). A bare lock is the cheapest way to
    park and wake a thread, which matters when thousands of callers a second are woken.
    """

    __slots__ = (
        "deferred",
        "done",
        "error",
        "failed",
        "futures",
        "items",
        "rows",
        "units",
        "urgent",
        "waiters",
    )

    def __init__(self) -> None:
        self.items: list[PendingAudit] = []
        #: where each caller's records start in ``items`` (a caller's records commit all or none)
        self.units: list[int] = []
        #: records somebody waits for; deferred records alone do not make the writer commit
        self.urgent = 0
        #: where each deferred record starts in ``items`` (nobody waits for them: carried on failure)
        self.deferred: list[int] = []
        self.waiters: list[_thread.LockType] = []
        #: asyncio callers: (their loop, their future, first index, count)
        self.futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[list[AuditRow]], int, int]] = []
        self.rows: list[AuditRow] = []
        #: the whole batch failed: every caller in it gets this error
        self.error: BaseException | None = None
        #: only some callers' records failed (see ``AuditLog._isolate``): their error by unit start
        self.failed: dict[int, BaseException] | None = None
        self.done = False

    def error_for(self, start: int) -> BaseException | None:
        """The error for the caller whose records start at ``start``; None once they are committed."""
        if self.error is not None:
            return self.error
        return None if self.failed is None else self.failed.get(start)


def _identity(fields: Mapping[str, Any]) -> Mapping[str, Any]:
    return fields


class AuditLog:
    """The tamper-evident audit log over a :class:`~proctor.store.base.Store`.

    ``signer`` may be None (no checkpoints: tampering that recomputes the whole chain then goes
    unnoticed). ``redact`` is applied to every record's ``fields`` before it is written.
    ``max_linger_s`` bounds how long the writer waits for the callers of its previous batch to come
    back before committing a smaller one (0 commits at once; only waits while others are active).
    Close the log with :meth:`close` (or use it as a context manager); the store stays open.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        signer: CheckpointSigner | None,
        *,
        checkpoint_every: int = 1000,
        checkpoint_interval_s: float = 60.0,
        redact: Redactor | None = None,
        max_linger_s: float = 0.001,
        max_defer_s: float = 0.05,
        anchor: Checkpoint | Sequence[Checkpoint] | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
        on_idle: Callable[[], None] | None = None,
        on_register: Callable[[int], None] | None = None,
        registered: Callable[[], Collection[int]] | None = None,
    ) -> None:
        if checkpoint_every < 1:
            raise ValidationError("checkpoint_every must be at least 1", field="checkpoint_every")
        if checkpoint_interval_s <= 0:
            raise ValidationError("checkpoint_interval_s must be positive", field="checkpoint_interval_s")
        self._store = store
        self._clock = clock
        self._signer = signer
        self._every = checkpoint_every
        self._interval = checkpoint_interval_s
        self._redact: Redactor = redact or _identity
        self._kinds: set[str] = set()  # kinds already validated

        #: this log's writer id, registered in the store with its first commit (docs/adr/0036)
        self._writer: int | None = None
        self._started_at = clock.now()
        #: one commit of this writer at a time (the writer thread's and an inline one)
        self._commit_lock = threading.Lock()
        #: deferred records whose commit failed: committed ahead of the next batch, in order
        self._carry: list[PendingAudit] = []
        self._carry_error: StoreError | None = None
        self._orphans_at = _REAL_TIME.monotonic() + ORPHANS_AFTER_S
        #: writer -> the place (wseq) of its head this log last settled in :meth:`sign_orphans`
        self._orphans_settled: dict[int, int] = {}
        self._hasher = hasher_for(0)  # replaced by the writer's own once it is registered
        #: told every checkpoint once it is stored (the workspace keeps a copy outside the database)
        self._on_checkpoint = on_checkpoint
        #: told this log's writer id once it is registered, before its first record commits, and
        #: asked which writers processes of this workspace registered (kept outside the database):
        #: the head of a writer killed before its first checkpoint is signed only when it is one
        #: of them (docs/adr/0036, amendment); None: any writer's
        self._on_register = on_register
        self._registered = registered
        #: why this log signs no checkpoint: the chain does not reach the anchored head, so signing
        #: its head now would vouch for records someone rewrote (see proctor.audit.anchor)
        #: True while the last commit failed or a write timed out: no transport may let a call reach an upstream alongside
        #: its record until one succeeds again (see proctor.gateway.runtime.overlaps)
        self.failing = False
        self.refusing: str | None = None
        #: why this log stopped signing because its store went backwards (a rollback): the chain no
        #: longer reaches a checkpoint signed before; cleared by ``proctor audit recover``
        self.rollback: str | None = None
        #: when the rollback was detected (an ``audit.recovered`` record after it resumes signing)
        self._halted_at = 0.0
        #: why this process's key may never sign (it is not the pinned log's, docs/adr/0020): the
        #: halt stays whatever recovery is recorded
        self.key_refused: str | None = None
        self._on_idle = on_idle
        self._idle_next = 0.0
        self._idle_wanted = False
        self._cp_lock = threading.Lock()
        #: this writer's head: (global seq, hash, wseq); a new writer has none yet
        self._head: tuple[int, bytes, int] = (0, GENESIS, 0)
        #: the global seq and wseq of this writer's last checkpoint
        self._cp_seq = 0
        self._cp_w = 0
        #: the head the last checkpoint known to this log signed (checked before each new one)
        self._cp_head: bytes | None = None
        anchors = [] if anchor is None else [anchor] if isinstance(anchor, Checkpoint) else list(anchor)
        problem = next(filter(None, (_anchor_problem(store, a) for a in anchors)), None)
        if problem is not None:
            self.halt(problem)
        self._cp_at = clock.monotonic()
        #: the last error writing a checkpoint, cleared by the next success
        self.checkpoint_error: BaseException | None = None

        self._cond = threading.Condition(threading.Lock())
        self._open = _Batch()
        self._inflight: _Batch | None = None
        #: the breaker of the store (see proctor.store.guard), set by the Proctor that owns this log
        self.guard: StoreGuard | None = None
        #: the batch a caller is committing on its own thread (see ``append_async(inline=True)``)
        self._inline: _Batch | None = None
        #: inline batches that found the store's write lock taken, for the writer to commit
        self._handover: list[_Batch] = []
        #: the store's "write now or raise WriteWouldBlock" (SQLite); None: no inline commits
        self._nowait: Callable[[], AbstractContextManager[None]] | None = getattr(
            store, "writes_nowait", None
        )
        self._idle = False
        self._max_defer = max_defer_s
        self._defer_deadline = 0.0
        self._closing = False
        self._linger = max_linger_s
        self._last_size = 0
        self._want = 0
        #: set (under the condition) by an inline commit that made a checkpoint due
        self._cp_wanted = False
        self._thread = threading.Thread(target=self._run, name="proctor-audit-writer", daemon=True)
        self._thread.start()

    # public ---------------------------------------------------------------------------
    def halt(self, why: str) -> None:
        """Stop signing checkpoints: the store's log went backwards (see ``rollback``). Loud: an
        error line now, ``audit_rollback`` in ``/healthz`` and ``proctor status`` until an operator
        runs ``proctor audit recover``. Records are still written (and calls still answered)."""
        if self.rollback is None:
            self._halted_at = self._clock.now()
        self.rollback = self.refusing = why
        log.error(
            "audit: ROLLBACK DETECTED, no checkpoint will be signed until `proctor audit recover`: %s", why
        )

    def resume(self, cp: Checkpoint | None = None) -> None:
        """Sign checkpoints again after an operator's recovery (``audit.recovered``): the store's head
        is the head from now on, ``cp`` (or the recovery record) the last one signed."""
        if self.key_refused is not None:
            log.error("audit: no recovery resumes signing with this key: %s", self.key_refused)
            return
        with self._cp_lock:
            head = None if self._writer is None else self._store.audit_writer_head(self._writer)
            self._head = (0, GENESIS, 0) if head is None else (head.seq, head.hash, head.wseq)
            if cp is not None and (cp.writer == self._writer or cp.seq == self._head[0]):
                self._cp_seq, self._cp_head, self._cp_w = cp.seq, bytes(cp.head_hash), self._head[2]
            else:  # recorded by another writer: this chain, as the store holds it, is the start again
                self._cp_seq, self._cp_w = self._head[0], self._head[2]
                self._cp_head = None if head is None else head.hash
            self._cp_at = self._clock.monotonic()
            self.rollback = self.refusing = None
        log.warning("audit: signing checkpoints again after a recorded recovery (head %d)", self._head[0])

    def _try_resume(self) -> None:
        """While halted: has an operator recorded a recovery since? Then resume from it."""
        from proctor.store.base import AuditQuery

        rows = self._store.search_audit(AuditQuery(kind="audit.recovered", limit=1, newest_first=True))
        if not rows:
            return
        row = rows[0]
        signer = self._signer
        if signer is None:  # signs nothing: nothing to withhold, and no key to check the recovery
            if row.ts >= self._halted_at:
                self.resume(Checkpoint(row.seq, row.hash, row.ts, "", b""))
            return
        # whoever rolled the database back can write an `audit.recovered` record too: only one
        # that `proctor audit recover` signed a checkpoint at (with this log's key, after the
        # halt, by the checkpoint's signed time) is an operator's recovery
        for cp in self._store.list_checkpoints():
            if cp.seq != row.seq or bytes(cp.head_hash) != bytes(row.hash) or cp.kid != signer.kid:
                continue
            ts_us = to_micros(cp.ts)
            expected = signer.sign(
                checkpoint_payload(cp.seq, bytes(cp.head_hash), ts_us)
            )  # Ed25519: deterministic
            if ts_us >= to_micros(self._halted_at) and hmac.compare_digest(expected, bytes(cp.signature)):
                self.resume(cp)
                return

    def append(
        self,
        kind: str,
        fields: Mapping[str, Any],
        *,
        agent: str | None = None,
        task: str | None = None,
        tool: str | None = None,
        decision: str | None = None,
        decision_id: str | None = None,
    ) -> AuditRow:
        """Append one record; returns once it is durably committed.

        Raises :class:`ValidationError` for a bad kind or fields, and a :class:`StoreError` when
        the commit failed: then the record is not in the log.
        """
        pending = self._prepare(kind, fields, agent, task, tool, decision, decision_id)
        return self._submit((pending,))[0]

    async def append_async(
        self,
        kind: str,
        fields: Mapping[str, Any],
        *,
        agent: str | None = None,
        task: str | None = None,
        tool: str | None = None,
        decision: str | None = None,
        decision_id: str | None = None,
        inline: bool = False,
    ) -> AuditRow:
        """:meth:`append` for asyncio callers: resolves once the record is durably committed.

        No thread is parked per record: the writer settles every future of a batch with one
        ``call_soon_threadsafe`` per event loop, so many concurrent requests share one commit
        without paying a thread wake-up each.

        ``inline=True`` is for a caller that knows it is alone (nothing else in flight on its
        loop): when the writer is idle too, the commit happens right here, which saves the two
        thread hand-offs (to the writer and back) that cost more than the commit on a quiet path.
        Deferred records waiting are committed with it. Under load the writer does it as usual.
        """
        pending = self._prepare(kind, fields, agent, task, tool, decision, decision_id)
        guard = self.guard
        if guard is not None:
            guard.check()  # the store is down: refused at once, not queued behind it
        handed: asyncio.Future[list[AuditRow]] | None = None
        if inline:
            row = self._commit_inline(pending)
            if isinstance(row, AuditRow):
                return row
            handed = row
        if handed is not None:
            fut = handed
        else:
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            with self._cond:
                if self._closing:
                    raise StoreUnavailable("audit log is closed: nothing was written")
                batch = self._open
                batch.futures.append((loop, fut, len(batch.items), 1))
                batch.units.append(len(batch.items))
                batch.items.append(pending)
                batch.urgent += 1
                if self._idle or (self._want and len(batch.items) >= self._want):
                    self._cond.notify()
        if guard is None:
            return (await fut)[0]
        try:
            # a store that hangs (rather than refuses) must not hold the caller: the record may
            # still land once it answers, but the caller is told it is not durable
            return (await asyncio.wait_for(asyncio.shield(fut), guard.timeout_s))[0]
        except TimeoutError:
            reason = f"audit write: no answer within {guard.timeout_s:g} s"
            # a write that does not answer is a failing log as much as one that errs: until a
            # commit succeeds again, no call may reach an upstream before its record is durable
            self.failing = True
            guard.trip(reason)
            raise StoreUnavailable("the audit log did not answer in time", cause=reason) from None

    def _commit_inline(self, pending: PendingAudit) -> AuditRow | asyncio.Future[list[AuditRow]] | None:
        """Commit ``pending`` (and the deferred records waiting) on the caller's thread, never
        waiting for a lock: None when the writer is busy (the caller queues as usual), or a future
        when another connection holds the store's write lock — the batch, untouched, is handed to
        the writer thread, which may wait for it (an event loop must not, issue 12.2)."""
        nowait = self._nowait
        if nowait is None:  # a store that cannot promise not to wait (a network round trip)
            return None
        with self._cond:
            if (
                self._closing
                or self._inflight is not None
                or self._inline is not None
                or self._open.urgent
                or self._handover
            ):
                return None
            batch = self._open
            self._open = _Batch()
            start = len(batch.items)
            batch.units.append(start)
            batch.items.append(pending)
            batch.urgent = 1
            self._inline = batch
        try:
            self._commit(batch, nowait)
        except WriteWouldBlock:
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[list[AuditRow]] = loop.create_future()
            with self._cond:
                self._inline = None
                batch.futures.append((loop, fut, start, 1))
                self._handover.append(batch)
                self._cond.notify()
            return fut
        except BaseException:  # an interrupt: never leave the batch claimed (close() waits for it)
            with self._cond:
                self._inline = None
                batch.error = StoreUnavailable("the inline audit commit was interrupted")
                batch.done = True
                self._cond.notify()
            if batch.waiters:
                batch.waiters[0].release()
            raise
        with self._cond:
            self._inline = None
            batch.done = True
            if self._closing:  # the writer waits for this commit before it exits
                self._cond.notify()
        if batch.waiters:
            batch.waiters[0].release()
        if self._signer is not None and self._checkpoint_due():
            # signing, storing and anchoring a checkpoint (fsyncs, a file lock) is the writer's
            # work: the caller committed inline to answer sooner, not to wait for that
            with self._cond:
                self._cp_wanted = True
                self._cond.notify()
        err = batch.error_for(start)
        if err is not None:
            mine = _copy_error(err)
            if mine is err:
                raise err
            raise mine from err
        return batch.rows[start]

    def defer(
        self,
        kind: str,
        fields: Mapping[str, Any],
        *,
        agent: str | None = None,
        task: str | None = None,
        tool: str | None = None,
        decision: str | None = None,
        decision_id: str | None = None,
    ) -> None:
        """Queue a record nobody waits for. It is committed with the next record somebody does wait
        for, or within ``max_defer_s``, so it never costs a commit of its own on a busy path. A
        commit that fails is logged (there is no caller to tell)."""
        pending = self._prepare(kind, fields, agent, task, tool, decision, decision_id)
        with self._cond:
            if self._closing:
                raise StoreUnavailable("audit log is closed: nothing was written")
            batch = self._open
            if not batch.items:
                self._defer_deadline = time.monotonic() + self._max_defer
            batch.deferred.append(len(batch.items))
            batch.units.append(len(batch.items))
            batch.items.append(pending)
            # no wake-up here: the idle writer looks again within max_defer_s anyway
            if self._idle and len(batch.items) >= DEFER_MAX_RECORDS:
                self._cond.notify()

    def append_entry(self, e: AuditEntry) -> AuditRow:
        """:meth:`append` for a prepared :class:`AuditEntry`."""
        return self.append(
            e.kind,
            e.fields,
            agent=e.agent,
            task=e.task,
            tool=e.tool,
            decision=e.decision,
            decision_id=e.decision_id,
        )

    async def append_entry_async(self, e: AuditEntry, *, inline: bool = False) -> AuditRow:
        """:meth:`append_async` for a prepared :class:`AuditEntry`."""
        return await self.append_async(
            e.kind,
            e.fields,
            agent=e.agent,
            task=e.task,
            tool=e.tool,
            decision=e.decision,
            decision_id=e.decision_id,
            inline=inline,
        )

    def append_many(self, entries: Sequence[AuditEntry]) -> list[AuditRow]:
        """Append several records in one transaction, consecutively; all or none are committed."""
        pending = [
            self._prepare(e.kind, e.fields, e.agent, e.task, e.tool, e.decision, e.decision_id)
            for e in entries
        ]
        return self._submit(pending) if pending else []

    def flush(self) -> None:
        """Wait for records already handed over, then sign a checkpoint if the head moved."""
        parked: list[tuple[_Batch, int]] = []
        with self._cond:
            # the batches in flight (an inline commit's, which the writer does not wait for, and
            # the writer's) and the open one: wait for each that is not settled
            for batch in (
                self._inline,
                self._inflight,
                *self._handover,
                self._open if self._open.items else None,
            ):
                if batch is None or batch.done:
                    continue
                waiter = _thread.allocate_lock()
                waiter.acquire()
                parked.append((batch, len(batch.waiters)))
                batch.waiters.append(waiter)
                if batch is self._open:
                    batch.urgent += 1
                    if self._idle:
                        self._cond.notify()
        for batch, index in parked:
            self._park(batch, index)
        self._checkpoint(force=True)

    def close(self) -> None:
        """Commit what is waiting, stop the writer and sign a final checkpoint. Idempotent."""
        with self._cond:
            if self._closing:
                already = True
            else:
                already = False
                self._closing = True
                self._cond.notify()
        self._thread.join()
        if self._carry:  # one last try for deferred records a failed commit carried
            last = _Batch()
            self._commit(last)
            if self._carry:
                log.critical(
                    "audit: closing with %d deferred records the store did not take (logged above)",
                    len(self._carry),
                )
        if not already:
            self._checkpoint(force=True)
            try:
                self.sign_orphans()
            except Exception:  # closing all the same; the next process signs them
                log.exception("audit: signing other writers' heads failed")

    def sign_orphans(self) -> int:
        """Sign the unsigned head of every other writer's chain that is gone (a process of this
        host that no longer runs, one elsewhere silent for two checkpoint intervals: killed before
        its last checkpoint; a log written before per-writer chains): one checkpoint each, naming that
        writer. Any holder of the workspace audit key may vouch for a head that is in the store, as
        the next process signed the single chain's head before (docs/adr/0036), but only after
        checking that chain (docs/adr/0036, amendment): its latest checkpoint is one this key
        signed over a record of that writer (the checkpoint's ``writer`` column is not signed),
        the chain from there (or from its genesis) to the head links and hashes, writer 0 (the
        legacy chain) ends before the first per-writer record (no process appends to it any more),
        and a writer with no checkpoint of its own is one ``registered`` lists (a process of this
        workspace registered it: a chain made up in the database needs no key). Returns how many
        were signed."""
        signer = self._signer
        if signer is None or self.refusing is not None:
            return 0
        signed = 0
        writers = self._store.list_audit_writers()
        # one read of every writer's place: a writer whose head this log already settled (signed,
        # covered, or refused) and that has not moved since costs nothing more (the pass repeats
        # every ORPHANS_EVERY_S; with hundreds of writer rows it would hold the writer thread)
        places = self._store.audit_writer_heads()
        era: int | None = None
        era_read = False
        known = None if self._registered is None else self._registered()
        for w in writers:
            if w.id == self._writer or (w.first_seq is None and w.id != 0):
                continue
            if w.id in places and self._orphans_settled.get(w.id) == places[w.id]:
                continue
            head = self._store.audit_writer_head(w.id)
            if head is None:
                self._orphans_settled[w.id] = 0
                continue
            if w.id != 0:  # a writer still running signs its own head
                if w.host == socket.gethostname():
                    if _pid_alive(w.pid):
                        continue
                elif self._clock.now() - head.ts < 2 * self._interval:
                    continue
            cp = self._store.latest_checkpoint_of(w.id)
            if cp is not None and cp.seq >= head.seq:
                self._orphans_settled[w.id] = head.wseq
                continue
            if not era_read:
                era, era_read = _era(self._store, writers), True
            # settled either way below: signed now, or refused (logged once, not every pass; a
            # head that moves is looked at again)
            self._orphans_settled[w.id] = head.wseq
            why = _orphan_problem(self._store, signer, w.id, head, cp, era)
            if why is None and cp is None and w.id != 0 and known is not None and w.id not in known:
                # a chain anyone who can write the database could have made up: no key is needed
                # to hash records, and no process of this workspace registered this writer
                why = "no process of this workspace registered it, and it never signed a checkpoint"
            if why is not None:
                log.error("audit: writer %d's head (record %d) not signed: %s", w.id, head.seq, why)
                continue
            ts_us = to_micros(self._clock.now())
            mine = Checkpoint(
                head.seq,
                head.hash,
                ts_us / 1_000_000,
                signer.kid,
                signer.sign(checkpoint_payload(head.seq, head.hash, ts_us)),
                w.id,
            )
            self._store.add_checkpoint(mine)
            signed += 1
            if self._on_checkpoint is not None:
                self._on_checkpoint(mine)
        return signed

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def head_seq(self) -> int:
        """The global seq of the last record this log (this writer) committed; 0 before its first."""
        return self._head[0]

    @property
    def writer(self) -> int | None:
        """This log's writer id in the store; None until its first commit registers it."""
        return self._writer

    def stored_head(self) -> AuditRow | None:
        """The last record the store holds, whichever process wrote it (``proctor status``); None
        for an empty log. :attr:`head_seq` is this log's own."""
        return self._store.audit_head()

    # caller side -------------------------------------------------------------------------
    def _prepare(
        self,
        kind: str,
        fields: Mapping[str, Any],
        agent: str | None,
        task: str | None,
        tool: str | None,
        decision: str | None,
        decision_id: str | None,
    ) -> PendingAudit:
        if kind not in self._kinds:
            if not isinstance(kind, str) or not _KIND.fullmatch(kind):
                raise ValidationError(
                    f"invalid audit kind `{str(kind)[:80]}`: use lowercase a-z 0-9 . _ -", field="kind"
                )
            if len(self._kinds) < 1024:
                self._kinds.add(kind)
        extra = self._redact(fields)
        if not RESERVED_FIELDS.isdisjoint(extra):
            clash = sorted(RESERVED_FIELDS.intersection(extra))[0]
            raise ValidationError(
                f"audit field `{clash}` is reserved: pass indexed values as keywords", field="fields"
            )
        ts_us = round(self._clock.now() * 1_000_000)
        body: dict[str, Any] = {"v": 1, "kind": kind, "ts": ts_us}
        body.update(extra)
        # plain str for the columns: enum and id subclasses are stored as their value
        if agent is not None:
            body["agent"] = agent = str(agent)
        if task is not None:
            body["task"] = task = str(task)
        if tool is not None:
            body["tool"] = tool = str(tool)
        if decision is not None:
            body["decision"] = decision = str(decision)
        if decision_id is not None:
            body["decision_id"] = decision_id = str(decision_id)
        return PendingAudit(
            ts_us / 1_000_000, kind, canonical_json(body), agent, task, tool, decision, decision_id
        )

    def _park(self, batch: _Batch, index: int) -> None:
        """Block until ``batch`` is settled, then wake the next caller in it.

        The writer wakes only the first caller and each wakes the next (a baton): waking all at once
        makes them fight over the GIL, which costs more than the commit itself. Should the baton be
        lost, waiting times out, sees the batch settled and carries on.
        """
        waiters = batch.waiters
        while not waiters[index].acquire(timeout=_WRITER_CHECK_S):
            if batch.done:
                break
            if not self._thread.is_alive():  # pragma: no cover - the writer never exits with work queued
                raise StoreUnavailable("audit writer stopped: the record was not acknowledged")
        if index + 1 < len(waiters):
            waiters[index + 1].release()

    def _submit(self, items: Sequence[PendingAudit]) -> list[AuditRow]:
        waiter = _thread.allocate_lock()
        waiter.acquire()
        with self._cond:
            if self._closing:
                raise StoreUnavailable("audit log is closed: nothing was written")
            batch = self._open
            start = len(batch.items)
            batch.units.append(start)
            batch.items.extend(items)
            batch.urgent += len(items)
            index = len(batch.waiters)
            batch.waiters.append(waiter)
            if self._idle or (self._want and len(batch.items) >= self._want):
                self._cond.notify()
        self._park(batch, index)
        err = batch.error_for(start)
        if err is not None:
            mine = _copy_error(err)
            if mine is err:
                raise err
            raise mine from err
        return batch.rows[start : start + len(items)]

    # writer side -------------------------------------------------------------------------
    def _idle_work(self) -> None:
        try:
            if self._carry:  # the store refused them before: try again now
                self._commit(_Batch())
            if _REAL_TIME.monotonic() >= self._orphans_at:
                # idle a while after the start, then every ORPHANS_EVERY_S: heads killed
                # processes left unsigned (a gateway killed beside running ones, issue 19)
                self._orphans_at = _REAL_TIME.monotonic() + ORPHANS_EVERY_S
                self.sign_orphans()
            if self.rollback is not None:
                self._try_resume()
            if self._on_idle is not None:
                self._on_idle()
        except Exception:
            log.exception("audit: idle work failed")

    def _run(self) -> None:
        cond = self._cond
        while True:
            if self._idle_wanted:
                self._idle_wanted = False
                self._idle_work()
            if self._cp_wanted:  # an inline commit left a due checkpoint to this thread
                self._cp_wanted = False
                try:
                    self._checkpoint(force=False)
                except Exception:  # the writer never dies of a checkpoint: the next one retries
                    log.exception("audit: checkpoint failed")
            with cond:
                while not self._closing and not self._open.urgent and not self._handover:
                    if self._cp_wanted or self._idle_wanted:
                        break
                    if self._open.items:  # deferred records only: commit them with the next urgent
                        remaining = self._defer_deadline - time.monotonic()  # ones, or when due
                        if remaining <= 0 or len(self._open.items) >= DEFER_MAX_RECORDS:
                            break
                        self._idle = True
                        cond.wait(remaining)
                        self._idle = False
                    else:  # timed, so a record deferred meanwhile is never stranded
                        self._idle = True
                        cond.wait(self._max_defer)
                        self._idle = False
                        if self._signer is not None and self._checkpoint_due():
                            # unsigned records and nothing more coming: sign the head now, so the
                            # tail is never protected by the chain alone for longer than the interval
                            self._cp_wanted = True
                        elif time.monotonic() >= self._idle_next:
                            # once a second: retry a lagging witness, look for a recorded recovery
                            self._idle_next = time.monotonic() + 1.0
                            self._idle_wanted = True
                if (
                    (self._cp_wanted or self._idle_wanted)
                    and not self._closing
                    and not self._open.urgent
                    and not self._handover
                ):
                    continue
                batch: _Batch | None = None
                if self._handover:  # an inline commit found the write lock taken: it waits here
                    batch = self._handover.pop(0)
                    self._inflight = batch
                elif (
                    self._open.waiters  # only parked threads come back in a cohort worth waiting for
                    and 0 < len(self._open.items) < self._last_size
                    and self._linger > 0
                    and not self._closing
                ):
                    # The callers of the last batch are still coming back: give them a moment to join
                    # this one, so one commit serves them all instead of each cohort paying its own.
                    self._want = self._last_size
                    cond.wait(self._linger)
                    self._want = 0
                if batch is None:
                    batch = self._open
                    if not batch.items:  # closing and drained
                        if self._inline is None:
                            return
                        # an inline commit still running may yet find the write lock taken and
                        # hand its batch over: nobody would commit it, nor answer its caller
                        cond.wait(_WRITER_CHECK_S)
                        continue
                    self._open = _Batch()
                    self._last_size = len(batch.items)
                    self._inflight = batch
            self._commit(batch)
            with cond:
                self._inflight = None
                batch.done = True
            if batch.waiters:
                batch.waiters[0].release()  # the first caller wakes the next, and so on
            if batch.futures:
                _settle_futures(batch)
            if self._signer is not None:
                self._checkpoint(force=False)

    def _register(self) -> int:
        """This log's writer id: registered (host, pid, start time, program) on its first commit."""
        if self._writer is None:
            info = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:4]))
            writer = self._store.register_audit_writer(
                self._started_at, socket.gethostname(), os.getpid(), info
            )
            if self._on_register is not None:
                try:
                    self._on_register(writer)
                except Exception as exc:  # the records are written all the same
                    log.error("audit: writer %d could not be noted outside the database: %s", writer, exc)
            self._writer = writer
            self._hasher = hasher_for(writer)
        return self._writer

    def _append(self, items: Sequence[PendingAudit]) -> list[AuditRow]:
        """Chain and commit ``items`` in one transaction; any failure is a :class:`StoreError`."""
        try:
            writer = self._register()
            rows = self._store.append_audit(items, self._hasher, writer=writer)
            if len(rows) != len(items):
                raise StoreCorrupt(f"store chained {len(rows)} of {len(items)} audit records")
        except (StoreError, WriteWouldBlock):
            raise
        except Exception as exc:
            err = StoreError(f"audit append failed: {type(exc).__name__}: {exc}")
            raise err from exc
        return rows

    def _commit(
        self, batch: _Batch, nowait: Callable[[], AbstractContextManager[None]] | None = None
    ) -> None:
        """``nowait``: the commit takes the write lock at once or raises WriteWouldBlock, having
        written nothing; so does a batch with a refused record (its isolation may wait)."""
        if not self._commit_lock.acquire(blocking=nowait is None):
            raise WriteWouldBlock("this writer is committing on another thread")
        try:
            if self._carry and not self._commit_carried(nowait):
                err = self._carry_error or StoreUnavailable("the audit store did not take carried records")
                self._fail(batch, err)
                return
            if batch.items:
                self._commit_batch(batch, nowait)
        finally:
            self._commit_lock.release()

    def _commit_carried(self, nowait: Callable[[], AbstractContextManager[None]] | None) -> bool:
        """Commit the deferred records earlier failed commits carried, before anything newer (the
        writer's chain keeps their order). False when the store still refuses them."""
        carried = self._carry
        try:
            if nowait is None:
                rows = self._append(carried)
            else:
                with nowait():
                    rows = self._append(carried)
        except StoreError as exc:
            if _record_specific(exc) and len(carried) > 1:
                # find the record the database refuses: commit them one by one, in order
                for i, item in enumerate(carried):
                    try:
                        got = self._append([item])
                    except StoreError as one:
                        if not _record_specific(one):
                            self._carry, self._carry_error = carried[i:], one
                            return False
                        log.error(
                            "audit: a deferred record the database refuses was not written: %s", one.code
                        )
                        continue
                    self._advance(got[0], got[-1])
                self._carry = []
                return True
            if _record_specific(exc):
                log.error("audit: a deferred record the database refuses was not written: %s", exc.code)
                self._carry = []
                return True
            self._carry_error = exc
            self.failing = True
            return False
        self._carry = []
        self._carry_error = None
        log.warning("audit: %d carried deferred records written after all", len(rows))
        self._advance(rows[0], rows[-1])
        return True

    def _fail(self, batch: _Batch, exc: StoreError) -> None:
        """The whole batch failed: its callers get ``exc``; its deferred records are carried."""
        batch.error = exc
        self.failing = True
        self._carry_deferred(batch, batch.deferred, exc)

    def _carry_deferred(self, batch: _Batch, starts: Sequence[int], exc: StoreError) -> None:
        bounds = dict(itertools.pairwise([*batch.units, len(batch.items)]))
        carried = [item for s in starts for item in batch.items[s : bounds[s]]]
        if carried:
            self._carry.extend(carried)
            self._carry_error = exc
            log.error(
                "audit: %d deferred records not written yet (%s): carried to the next commit",
                len(carried),
                exc.code,
            )

    def _commit_batch(self, batch: _Batch, nowait: Callable[[], AbstractContextManager[None]] | None) -> None:
        try:
            if nowait is None:
                rows = self._append(batch.items)
            else:
                with nowait():
                    rows = self._append(batch.items)
        except StoreError as exc:
            if len(batch.units) > 1 and _record_specific(exc):
                if nowait is not None:
                    # the search commits again, each part waiting for the write lock: not on an
                    # event loop (issue 12.2); the attempt was rolled back, the batch is untouched
                    raise WriteWouldBlock("a refused record is isolated by the audit writer") from exc
                # One caller's record must not cost everyone else theirs: find it and commit the rest.
                self._isolate(batch, exc)
                return
            self._fail(batch, exc)
        else:
            self.failing = False
            batch.rows = rows
            self._advance(rows[0], rows[-1])

    def _advance(self, first: AuditRow, last: AuditRow) -> None:
        if (first.seq <= self._cp_seq or first.wseq <= self._cp_w) and self.rollback is None:
            # the store chained a record at a place of this writer's chain a signed checkpoint
            # already covers: its log went back (a restored database or file) under this process
            self.halt(
                f"the store's log went back: record {first.wseq} of writer {first.writer} (seq"
                f" {first.seq}) was written again although checkpoint {self._cp_seq} covers it"
                " (the database was restored or rolled back)"
            )
        with self._cp_lock:
            # the head only moves forward, so a checkpoint never signs an older head than one committed
            if last.wseq > self._head[2]:
                self._head = (last.seq, last.hash, last.wseq)

    def _isolate(self, batch: _Batch, first: StoreError) -> None:
        """After ``first`` failed the whole batch: commit it again in halves, split along callers,
        until each failing caller's records stand alone. Those callers get the error; everyone
        else's records are committed, in their order. Each part is its own transaction that chains
        onto the head it finds, so a refused record is never linked into the chain. An error that
        is not about the records (the store is down, locked, full or corrupt) ends the search:
        the parts not yet committed get it. Costs O(k log n) commits for k bad callers of n."""
        items = batch.items
        bounds = [*batch.units, len(items)]
        units = list(itertools.pairwise(bounds))
        rows: list[AuditRow] = [_NO_ROW] * len(items)
        failed: dict[int, BaseException] = {}
        stop: StoreError | None = None

        def run(part: list[tuple[int, int]], known: StoreError | None) -> None:
            nonlocal stop
            if stop is not None:
                for s, _ in part:
                    failed[s] = stop
                return
            if known is None:
                lo, hi = part[0][0], part[-1][1]
                try:
                    got = self._append(items[lo:hi])
                except StoreError as exc:
                    if not _record_specific(exc):
                        stop = exc
                        run(part, None)
                        return
                    known = exc
                else:
                    rows[lo:hi] = got
                    self._advance(got[0], got[-1])
                    return
            if len(part) == 1:
                failed[part[0][0]] = known
                return
            mid = len(part) // 2
            run(part[:mid], None)
            run(part[mid:], None)

        run(units, first)
        # the log itself failed only if the store did (a refused record is that caller's problem)
        self.failing = stop is not None
        if stop is not None:  # deferred records the store (not the record) failed are carried
            self._carry_deferred(batch, [s for s in batch.deferred if failed.get(s) is stop], stop)
        batch.rows = rows
        batch.failed = failed
        lost = sum(hi - lo for lo, hi in units if lo in failed)
        log.error(
            "audit: %d of %d records in a batch could not be written (their callers were refused,"
            " the other records were committed): %s",
            lost,
            len(items),
            first.code,
        )

    def _checkpoint_due(self) -> bool:
        """A cheap look (no lock): would ``_checkpoint(force=False)`` sign one now?"""
        wseq = self._head[2]
        return (
            self.refusing is None
            and wseq > self._cp_w
            and (wseq - self._cp_w >= self._every or self._clock.monotonic() - self._cp_at >= self._interval)
        )

    def _checkpoint(self, *, force: bool) -> None:
        signer = self._signer
        if signer is None or self.refusing is not None:
            return
        with self._cp_lock:
            seq, head, wseq = self._head
            if wseq <= self._cp_w:
                return
            due = (
                force
                or wseq - self._cp_w >= self._every
                or self._clock.monotonic() - self._cp_at >= self._interval
            )
            if not due:
                return
            if self._cp_head is not None and self._cp_seq > 0:
                try:
                    why = _reach_problem(self._store, self._cp_seq, self._cp_head)
                except StoreError as exc:
                    # the store is unreachable (an outage, docs/adr/0019): not a rollback, and not
                    # a reason for the writer thread to die; the next due checkpoint looks again
                    self.checkpoint_error = exc
                    log.error("audit checkpoint at seq %d deferred: %s", seq, exc.code)
                    return
                if why is not None:
                    self.halt(f"since the last checkpoint: {why}")
                    return
            try:
                ts_us = to_micros(self._clock.now())
                signature = signer.sign(checkpoint_payload(seq, head, ts_us))
                cp = Checkpoint(seq, head, ts_us / 1_000_000, signer.kid, signature, self._writer or 0)
                self._store.add_checkpoint(cp)
            except Exception as exc:
                # The records are committed; a missing checkpoint is retried after the next batch.
                self.checkpoint_error = exc
                log.exception("audit checkpoint at seq %d failed", seq)
                return
            self.checkpoint_error = None
            self._cp_seq = seq
            self._cp_w = wseq
            self._cp_head = head
            self._cp_at = self._clock.monotonic()
            if self._on_checkpoint is not None:
                try:
                    self._on_checkpoint(cp)
                except Exception as exc:  # stored all the same; the next checkpoint tries again
                    self.checkpoint_error = exc
                    log.error("audit checkpoint %d could not be anchored: %s", seq, type(exc).__name__)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _record_specific(exc: StoreError) -> bool:
    """Could ``exc`` be about the records committed rather than about the store? Then committing
    the batch again in parts finds the records at fault. Errors of the store itself (down, locked,
    full, corrupt) would only repeat, each at the cost of a timeout."""
    return not isinstance(exc, StoreUnavailable | StoreLocked | StoreFull | StoreCorrupt)


#: fills ``_Batch.rows`` where a refused caller's records would be (never handed out)
_NO_ROW = AuditRow(0, 0.0, "", b"", b"", b"")


def _anchor_problem(store: Store, anchor: Checkpoint | None) -> str | None:
    """Why the stored chain does not reach ``anchor``'s head (None when it does, or no anchor)."""
    if anchor is None:
        return None
    why = _reach_problem(store, anchor.seq, bytes(anchor.head_hash))
    return None if why is None else f"{why} (anchored checkpoint {anchor.seq})"


def _era(store: Store, writers: Sequence[AuditWriter]) -> int | None:
    """The seq of the first record of a per-writer chain (None before any): what the writers
    registered, and the first record of the oldest writer that has one (a registration's
    ``first_seq`` can be emptied by hand)."""
    firsts = [w.first_seq for w in writers if w.id != 0 and w.first_seq is not None]
    for w in writers:
        if w.id != 0:
            first = next(iter(store.iter_audit_writer(w.id, 0, 1)), None)
            if first is not None:
                firsts.append(first.seq)
                break
    return min(firsts, default=None)


def _orphan_problem(
    store: Store,
    signer: CheckpointSigner,
    writer: int,
    head: AuditRow,
    cp: Checkpoint | None,
    era: int | None,
) -> str | None:
    """Why another writer's ``head`` may not be signed by this log (None when it may): see
    :meth:`AuditLog.sign_orphans`."""
    if writer == 0 and era is not None and head.seq > era:
        return "the legacy chain (writer 0) goes on after the first per-writer record: no process writes it"
    if cp is None:  # killed before its first checkpoint: its whole chain is checked
        start, prev = 0, GENESIS
    else:
        try:
            ts_us = to_micros(cp.ts)
            genuine = cp.kid == signer.kid and hmac.compare_digest(
                signer.sign(checkpoint_payload(cp.seq, bytes(cp.head_hash), ts_us)), bytes(cp.signature)
            )
        except (TypeError, ValueError, OverflowError, ValidationError):  # fields no checkpoint holds
            genuine = False
        if not genuine:  # Ed25519 signs deterministically: this key would have signed the same bytes
            return f"its latest checkpoint {cp.seq} is not one this key signed"
        at = next(iter(store.iter_audit(cp.seq - 1, 1)), None)
        if at is None or at.seq != cp.seq or at.writer != writer or bytes(at.hash) != bytes(cp.head_hash):
            return f"its chain no longer reaches its checkpoint {cp.seq}"
        start, prev = at.wseq, bytes(at.hash)
    last_seq = -1 if cp is None else cp.seq
    for row in store.iter_audit_writer(writer, start):
        start += 1
        if row.wseq != start or row.seq <= last_seq or bytes(row.prev_hash) != prev:
            return f"its chain is broken at record {row.seq}"
        if writer_chain_hash(writer, row.wseq, row.seq, prev, bytes(row.body)) != bytes(row.hash):
            return f"record {row.seq} does not match its hash"
        prev, last_seq = bytes(row.hash), row.seq
        if row.seq == head.seq:
            return None if prev == bytes(head.hash) else f"record {row.seq} changed while it was checked"
    return f"its chain does not reach its head {head.seq}"


def _reach_problem(store: Store, seq: int, head: bytes) -> str | None:
    """Why the stored chain does not hold ``head`` at ``seq`` (None when it does)."""
    row = next(iter(store.iter_audit(seq - 1, 1)), None)
    if row is None or row.seq != seq:
        return f"the log no longer holds record {seq}, which a signed checkpoint covers"
    if row.hash != head:
        return f"record {seq} is not the one a signed checkpoint signed: the log was rolled back or rewritten"
    return None


def _settle_futures(batch: _Batch) -> None:
    """Resolve a batch's asyncio futures: one hop into each event loop, not one per record."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[list[AuditRow]], int, int]]] = {}
    for loop, fut, start, n in batch.futures:
        by_loop.setdefault(loop, []).append((fut, start, n))
    rows = batch.rows

    def settle(items: list[tuple[asyncio.Future[list[AuditRow]], int, int]]) -> None:
        for fut, start, n in items:
            if fut.done():  # the caller was cancelled; the record is committed all the same
                continue
            err = batch.error_for(start)
            if err is not None:
                fut.set_exception(_copy_error(err))
            else:
                fut.set_result(rows[start : start + n])

    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(settle, items)
        except RuntimeError:  # the loop is closed: nobody is left to tell
            log.warning("audit: %d asyncio callers gone before their records were acknowledged", len(items))


def _copy_error(exc: BaseException) -> BaseException:
    """A copy of the batch's error for one caller, so threads do not share one traceback."""
    try:
        return copy.copy(exc).with_traceback(None)
    except Exception:
        return exc


__all__ = ["RESERVED_FIELDS", "AuditEntry", "AuditLog", "CheckpointSigner", "Redactor"]
