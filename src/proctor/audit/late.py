"""Records of state changes a service made but could not write at once: carried, not lost.

A sweep that expires approval requests, or ends credential leases, changes the store first and
writes the records of what it did after. When that write fails (the log's store is down, a commit
was refused), the change has happened all the same, and nobody is waiting to be told: the records
are kept here and written, in order and marked ``recorded_late`` (with ``carried_since``: when the
write first failed, so a record written after an outage does not pass for one made then), ahead of the service's next
records (its next sweep at the latest), as ``task.expired`` lost to a crash is recorded late and as
the audit log carries its own deferred records (:mod:`proctor.audit.log`).

They are kept in this process's memory: a process that dies before the log takes them back loses
them (its log ends with the failure it logged). At most ``limit`` are kept; beyond, the oldest go,
each one logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from proctor.audit.log import AuditEntry, AuditLog
from proctor.clock import Clock
from proctor.errors import AuditError, StoreCorrupt, StoreFull, StoreLocked, StoreUnavailable
from proctor.store.base import AuditRow

__all__ = ["LateRecords"]

log = logging.getLogger(__name__)

#: the records kept at most (a store down for long behind a busy sweep must not grow memory)
DEFAULT_LIMIT = 10_000


class LateRecords:
    """The records of one service that a write failed to take, to be written with its next ones."""

    def __init__(
        self, audit: AuditLog, what: str, *, limit: int = DEFAULT_LIMIT, clock: Clock | None = None
    ) -> None:
        self.audit = audit
        self.what = what
        self.limit = limit
        self.clock = clock
        self._lock = threading.Lock()
        #: each record and when its write first failed (None: no clock to tell)
        self._carried: list[tuple[AuditEntry, float | None]] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._carried)

    def write(self, entries: Sequence[AuditEntry]) -> list[AuditRow]:
        """Append the records carried so far (marked ``recorded_late``), then ``entries``, in one
        transaction. When the store fails, all of them are carried and the error is raised. When
        the log refuses the batch for its content (one record the database or the chain cannot
        take), they are written one by one so that one record never holds the others back: a
        record refused on its own is logged and dropped, as the log drops a deferred one."""
        with self._lock:
            carried, self._carried = self._carried, []
        now = None if self.clock is None else self.clock.now()
        pairs = [((e, since), _late(e, since)) for e, since in carried] + [((e, now), e) for e in entries]
        if not pairs:
            return []
        try:
            rows = self.audit.append_many([w for _e, w in pairs])
        except Exception as exc:
            if len(pairs) > 1 and _record_specific(exc):
                return self._one_by_one(pairs, len(carried))
            self._carry([e for e, _w in pairs])
            raise
        except BaseException:
            self._carry([e for e, _w in pairs])
            raise
        if carried:
            log.warning("%s: %d carried records written late", self.what, len(carried))
        return rows

    def _one_by_one(
        self, pairs: list[tuple[tuple[AuditEntry, float | None], AuditEntry]], late: int
    ) -> list[AuditRow]:
        rows: list[AuditRow] = []
        for i, ((entry, _since), written) in enumerate(pairs):
            try:
                rows += self.audit.append_many([written])
            except Exception as exc:
                if not _record_specific(exc):  # the store itself: the rest waits, in order
                    self._carry([e for e, _w in pairs[i:]])
                    raise
                log.error("%s: a %s record the log refuses was not written: %s", self.what, entry.kind, exc)
        if late:
            log.warning("%s: carried records written late, one by one", self.what)
        return rows

    def _carry(self, entries: list[tuple[AuditEntry, float | None]]) -> None:
        with self._lock:
            self._carried = [*entries, *self._carried]
            over = len(self._carried) - self.limit
            if over > 0:
                for e, _since in self._carried[:over]:
                    log.critical("%s: a %s record is lost: too many carried", self.what, e.kind)
                del self._carried[:over]
            kept = len(self._carried)
        log.error("%s: %d records not written yet: carried, to be written late", self.what, kept)

    def flush(self) -> None:
        """Write what is carried (nothing new); a failure keeps it carried and is logged."""
        with self._lock:
            if not self._carried:
                return
        try:
            self.write(())
        except Exception:
            log.exception("%s: carried records still not written", self.what)


def _late(e: AuditEntry, since: float | None) -> AuditEntry:
    when = {} if since is None else {"carried_since": round(since, 3)}
    return AuditEntry(
        e.kind,
        {**e.fields, "recorded_late": True, **when},
        agent=e.agent,
        task=e.task,
        tool=e.tool,
        decision=e.decision,
        decision_id=e.decision_id,
    )


def _record_specific(exc: Exception) -> bool:
    """Could ``exc`` be about the records rather than the store (see the log's own rule)? Anything
    but the store being down, locked, full or corrupt, or the log closed or rolled back."""
    return not isinstance(exc, StoreUnavailable | StoreLocked | StoreFull | StoreCorrupt | AuditError)
