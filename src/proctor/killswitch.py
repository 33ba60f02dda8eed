"""The kill switch when the store or the audit log cannot take it.

Suspending an agent or ending a task normally changes the store and writes an audit record. When
either fails (a locked or unreachable database, a full disk), the operator's command must still
work: the suspension is written to ``<workspace>/run/killswitch.json`` (atomically, owner-only) and
every Proctor process of the workspace on this host enforces it from there on its next decision,
whatever the store says. Once the store and the log are back, any Proctor process (its sweeper, or
the next one to start) records it properly — the store change, then an audit record that says when
it was enforced and that it was recorded late — and removes it from the file.

The file is a local mechanism: processes on other hosts sharing one PostgreSQL do not read it (with
the store down they cannot decide either, and they see the suspension once it is recorded).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from proctor.errors import StoreUnavailable

log = logging.getLogger(__name__)

KILL_FILE = "killswitch.json"
#: a kill file larger than this is not read (it holds a handful of entries; this is tampering)
MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class PendingKill:
    """A suspension (``kind="agent"``) or task end (``kind="task"``) waiting to be recorded."""

    kind: str
    target: str
    at: float
    by: str
    reason: str
    #: the error code that kept it from the store or the log
    cause: str
    #: for a task: "completed" or "cancelled"
    state: str = ""


class KillSwitch:
    """Pending suspensions and task ends of one workspace, read from its kill file.

    Looking costs one ``stat`` per call; the file is read again only when it changed.
    ``path=None`` is a switch that holds nothing (a Proctor without a workspace).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._agents: frozenset[str] = frozenset()
        self._tasks: frozenset[str] = frozenset()

    # enforcement -------------------------------------------------------------------------
    def agent_killed(self, name: str) -> bool:
        self._refresh()
        return name in self._agents

    def task_killed(self, task_id: str) -> bool:
        self._refresh()
        return task_id in self._tasks

    def sets(self) -> tuple[frozenset[str], frozenset[str]]:
        """The agents and tasks killed, as of one look at the file: a caller that checks several
        (a delegated task's whole lineage) pays one ``stat``, and sees them all at one moment."""
        self._refresh()
        return self._agents, self._tasks

    def _refresh(self) -> None:
        if self.path is None:
            return
        try:
            st = os.stat(self.path)
            stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        except OSError as exc:
            log.critical("kill switch file cannot be read: %s", exc)
            return
        if stamp == self._stamp:
            return
        with self._lock:
            kills = self._read()
            if kills is None:
                return  # unreadable: the sets read last keep being enforced
            self._agents = frozenset(k.target for k in kills if k.kind == "agent")
            self._tasks = frozenset(k.target for k in kills if k.kind == "task")
            self._stamp = stamp

    def _read(self) -> list[PendingKill] | None:
        assert self.path is not None
        try:
            # non-blocking: a FIFO in its place must not stop every decision of every process
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    log.critical("kill switch file is not a regular file: not read")
                    return None
                raw = f.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.critical("kill switch file cannot be read: %s", exc)
            return None
        if len(raw) > MAX_BYTES:
            log.critical("kill switch file is larger than %d bytes: not read", MAX_BYTES)
            return None
        try:
            data = json.loads(raw or b"[]")
            return [PendingKill(**item) for item in data]
        except (ValueError, TypeError) as exc:
            log.critical("kill switch file is not valid: %s", type(exc).__name__)
            return None

    # changes -----------------------------------------------------------------------------
    def pending(self) -> list[PendingKill]:
        """What waits to be recorded (empty when there is no file)."""
        if self.path is None:
            return []
        return self._read() or []

    def add(self, kill: PendingKill) -> None:
        """Enforce ``kill`` from now on, in every process of the workspace on this host. Raises
        :class:`StoreUnavailable` (saying nothing was enforced) when the file cannot be written."""
        try:
            with self._edit() as kills:
                kills[:] = [k for k in kills if (k.kind, k.target) != (kill.kind, kill.target)] + [kill]
        except OSError as exc:
            raise StoreUnavailable(
                f"the store refused it ({kill.cause}) and the kill file `{self.path}` could not be written"
                f" ({exc.strerror or type(exc).__name__}): NOTHING was enforced; free the disk or stop the"
                " agent's processes by hand"
            ) from None
        self._stamp = None
        self._refresh()

    def remove(self, kind: str, target: str, at: float | None = None) -> None:
        """Forget a kill once the store and the log hold it; with ``at``, only the entry made
        then (one added meanwhile for the same target, a new incident, stays to be recorded)."""
        with self._edit() as kills:
            kills[:] = [
                k for k in kills if (k.kind, k.target) != (kind, target) or (at is not None and k.at != at)
            ]
        self._stamp = None
        self._refresh()

    @contextlib.contextmanager
    def _edit(self) -> Iterator[list[PendingKill]]:
        if self.path is None:
            raise RuntimeError("this kill switch has no file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            current = self._read()
            if current is None:
                current = []  # an unreadable file is replaced; what it held is logged as lost
                log.critical("kill switch file was unreadable and is rewritten")
            kills = list(current)
            yield kills
            _write_atomic(self.path, [asdict(k) for k in kills])
        finally:
            os.close(lock_fd)


def _write_atomic(path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".killswitch-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["KILL_FILE", "KillSwitch", "PendingKill"]
