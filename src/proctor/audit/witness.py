"""A witness of the audit log outside the workspace (issue 12.4).

The anchor (``keys/audit-anchor.json``) lives in the workspace: restoring the whole workspace from an
old copy, or deleting the anchor along with the tail of the log, leaves nothing that remembers how far
the log once reached. A **witness** is a file outside the workspace (``audit.witness`` in
``proctor.yaml``: another disk, another host's mount, a directory only an auditor's user may
append to) to which every signed checkpoint is appended as one JSON line, fsynced. ``proctor audit
verify`` checks the log against the witness's latest checkpoint: its signature, and that the chain
reaches it with the same head. So a truncated log, a rolled-back database or a restored workspace
verifies as tampered, whatever happened to the anchor.

``audit.witness`` may also name a witness *service* by URL, which countersigns each checkpoint
(:mod:`proctor.audit.witness_http`, docs/adr/0020); :class:`WitnessPublisher` sends every signed
checkpoint to each witness from the audit writer thread and tracks those lagging behind.

The witness holds checkpoints only (sequence number, head hash, time, key id, signature): no record
content. Each line is verified like any checkpoint; a damaged last line is reported, never skipped.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from proctor.audit.anchor import checkpoint_doc, checkpoint_from_json
from proctor.audit.verify import Problem
from proctor.errors import AuditError
from proctor.store.base import Checkpoint

log = logging.getLogger(__name__)

#: the tail of the witness file read to find its latest checkpoint
TAIL_BYTES = 64 * 1024


def append_witness(path: Path, cp: Checkpoint) -> None:
    """Append ``cp`` to the witness file (created 0600), one line, fsynced before returning."""
    line = json.dumps(checkpoint_doc(cp), separators=(",", ":"))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def latest_witnessed(path: Path) -> Checkpoint | None:
    """The last checkpoint the witness holds (None when the file is absent or empty); raises
    :class:`AuditError` when the file cannot be read or its last line is not a checkpoint."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - TAIL_BYTES))
            tail = fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuditError(f"cannot read the audit witness `{path}`: {type(exc).__name__}") from None
    lines = [ln for ln in tail.split(b"\n") if ln.strip()]
    if not lines:
        return None
    try:
        return checkpoint_from_json(lines[-1])
    except ValueError:
        raise AuditError(f"the last line of the audit witness `{path}` is not a checkpoint") from None


def witnessed_heads(path: Path) -> list[Checkpoint]:
    """The last checkpoint the witness file holds of each writer's chain (docs/adr/0036); []
    when the file is absent or empty. :class:`AuditError` when it cannot be read or its last line
    is not a checkpoint; earlier lines that are not are skipped (the last one still binds)."""
    last = latest_witnessed(path)
    if last is None:
        return []
    heads: dict[int, Checkpoint] = {}
    try:
        with open(path, "rb") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    cp = checkpoint_from_json(line)
                except ValueError:
                    continue
                held = heads.get(cp.writer)
                if held is None or cp.seq >= held.seq:
                    heads[cp.writer] = cp
    except OSError as exc:
        raise AuditError(f"cannot read the audit witness `{path}`: {type(exc).__name__}") from None
    heads[last.writer] = last if last.seq >= heads.get(last.writer, last).seq else heads[last.writer]
    return [heads[w] for w in sorted(heads)]


def file_log_id(path: Path) -> str | None:
    """The log a witness file holds: the key id of its first checkpoint (None when it holds none).
    A file witnesses one log, the audit key's: checkpoints of another key appended to it would let
    a replaced audit key (a new log) pass for the old one, so a different id is refused on both
    sides (the publisher does not append, ``audit verify`` fails)."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(TAIL_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuditError(f"cannot read the audit witness `{path}`: {type(exc).__name__}") from None
    if not first.strip():
        return None
    try:
        return checkpoint_from_json(first).kid
    except ValueError:
        raise AuditError(f"the first line of the audit witness `{path}` is not a checkpoint") from None


def pinned_log_problem(pinned: str | None, log_id: str) -> str | None:
    """Why this process's audit key may not sign: it is not the log ``audit.witness_log`` pins (the
    audit key was replaced, e.g. deleted with its anchor and checkpoints so that a new key starts a
    new, empty log at the witnesses). None when nothing is pinned or the ids agree."""
    if pinned is None or pinned == log_id:
        return None
    return (
        f"the audit key `{log_id}` is not the log `audit.witness_log` pins (`{pinned}`): the audit key"
        " was replaced, and a new key would start a new log the witnesses know nothing of. Restore"
        " the audit key (keys/audit-ed25519.pem) from a backup; pin a new id only after deciding"
        " the old log is abandoned"
    )


def witness_log_problems(witnesses: Sequence[str], pinned: str | None, log_id: str | None) -> list[Problem]:
    """What ``audit verify`` finds wrong with the log id the witnesses are asked about: a witness
    service with no ``audit.witness_log`` pinned (the log could be swapped for a new, empty one),
    an audit key that is not the pinned log's, a witness file that holds another key's log."""
    problems: list[Problem] = []
    if log_id is None:
        return problems  # no audit key: reported on its own
    if pinned is None and any(is_url(w) for w in witnesses):
        problems.append(
            Problem(
                0,
                "witness_log_unpinned",
                f"pin the log the witness services keep: `audit.witness_log: {log_id}` in proctor.yaml"
                " (else a replaced audit key starts a new, empty log there and nothing is caught)",
            )
        )
    why = pinned_log_problem(pinned, log_id)
    if why is not None:
        problems.append(Problem(0, "witness_log_mismatch", why))
    for target in witnesses:
        if is_url(target):
            continue
        try:
            held = file_log_id(Path(target))
        except AuditError:
            continue  # reading the witness is reported by its own check
        if held is not None and held != log_id:
            problems.append(
                Problem(
                    0,
                    "witness_log_mismatch",
                    f"the audit witness `{target}` holds the log `{held}`, but the audit key is `{log_id}`:"
                    " the audit key was replaced; restore keys/audit-ed25519.pem from a backup",
                )
            )
    return problems


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


class WitnessPublisher:
    """Sends every signed checkpoint to the configured witnesses, each send bounded by a short
    timeout, never holding up the thread that signed it.

    A witness *file* is appended on the signing thread (the audit writer), as before. A witness
    *service* is sent the newest checkpoint by a thread of its own: a service that does not answer
    costs that thread its timeout, not the audit writer (whose records every call waits for, within
    ``store_timeout``: a witness that hangs must not make calls fail as if the store were down).

    A witness that cannot be reached is *lagging* (``lagging``: why, by witness): the newest
    checkpoint is sent again at the next one, and once a second while it lags. A witness service
    that refuses a checkpoint because the log went backwards calls ``on_rollback``.
    """

    def __init__(
        self,
        targets: Sequence[str],
        keys: Mapping[str, str],
        log_id: str,
        log_key: dict[str, Any],
        on_rollback: Callable[[str], None],
    ) -> None:
        from proctor.audit.witness_http import HttpWitness, parse_witness_key

        self.targets = tuple(targets)
        self.log_id = log_id
        self._log_key = {k: log_key[k] for k in ("kty", "crv", "x")}
        self._http = {t: HttpWitness(t, parse_witness_key(keys[t])) for t in self.targets if is_url(t)}
        self._on_rollback = on_rollback
        #: the witness files found to hold this log (their first checkpoint is of this key)
        self._files_ok: set[str] = set()
        #: the witness services found to have no per-writer answer (said once)
        self._old: set[str] = set()
        #: guards ``_last``; held for no exchange with a witness
        self._lock = threading.Lock()
        #: serialises the exchanges with witness services (the sender's, a recovery's)
        self._send_lock = threading.Lock()
        self.lagging: dict[str, str] = {}
        self._last: Checkpoint | None = None
        self._retry_at = 0.0
        #: the services the newest checkpoint has not been sent to yet (the sender's work)
        self._due: set[str] = set()
        self._wake = threading.Condition(threading.Lock())
        self._closed = False
        self._sending = False
        self._sender: threading.Thread | None = None
        if self._http:
            self._sender = threading.Thread(target=self._send_loop, name="proctor-witness", daemon=True)
            self._sender.start()

    def publish(self, cp: Checkpoint, only: Sequence[str] | None = None) -> None:
        """Append ``cp`` to each witness file now; hand it to the sender for each witness service."""
        with self._lock:
            if self._last is None or cp.seq >= self._last.seq:
                self._last = cp
            last = self._last
        files = []
        for target in only if only is not None else self.targets:
            if target in self._http:
                with self._wake:
                    self._due.add(target)
                    self._wake.notify()
            else:
                files.append(target)
        for target in files:
            self._send(target, last)

    def _send(self, target: str, cp: Checkpoint) -> None:
        from proctor.audit.witness_http import WitnessRefused

        try:
            if target in self._http:
                self._http[target].submit(self.log_id, cp, self._log_key)
            else:
                self._check_file(target)
                append_witness(Path(target), cp)
        except WitnessRefused as exc:
            self.lagging[target] = exc.message
            self._on_rollback(exc.message)
        except (AuditError, OSError) as exc:
            why = exc.message if isinstance(exc, AuditError) else f"{type(exc).__name__}: {exc}"
            if target not in self.lagging:
                log.warning("audit witness lagging (checkpoint %d not sent): %s", cp.seq, why)
            self.lagging[target] = why
        else:
            if self.lagging.pop(target, None) is not None:
                log.warning("audit witness %s caught up at checkpoint %d", target, cp.seq)

    def _check_file(self, target: str) -> None:
        """Refuse (as a rollback) to append to a witness file that holds another key's log."""
        from proctor.audit.witness_http import WitnessRefused

        if target in self._files_ok:
            return
        held = file_log_id(Path(target))
        if held is not None and held != self.log_id:
            raise WitnessRefused(
                f"the witness file {target} holds the log `{held}`, not this audit key's `{self.log_id}`:"
                " the audit key was replaced (restore keys/audit-ed25519.pem from a backup)"
            )
        self._files_ok.add(target)

    def _send_loop(self) -> None:
        while True:
            with self._wake:
                while not self._due and not self._closed:
                    # a service lagging behind is sent the newest checkpoint again once a second
                    if not self._wake.wait(1.0) and any(t in self._http for t in self.lagging):
                        self._due.update(t for t in self.lagging if t in self._http)
                if not self._due:
                    return  # closed, nothing left to send
                due, self._due = sorted(self._due), set()
                self._sending = True
            try:
                with self._send_lock:  # one exchange at a time with the services (and a recovery)
                    cp = self._last
                    for target in due:
                        if cp is not None:
                            self._send(target, cp)
            except Exception:
                log.exception("audit witness sender failed")
            finally:
                with self._wake:
                    self._sending = False
                    self._wake.notify_all()

    def close(self, timeout: float = 10.0) -> None:
        """Send what is due (waiting at most ``timeout``), then stop the sender."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
            for _ in range(max(1, int(timeout * 10))):  # condition waits run in real time
                if not (self._due or self._sending):
                    break
                self._wake.wait(0.1)

    def retry(self) -> None:
        """Append the newest checkpoint again to the witness files lagging behind (at most once a
        second; the sender retries the services on its own)."""
        now = time.monotonic()
        files = [t for t in self.lagging if t not in self._http]
        if not files or self._last is None or now < self._retry_at:
            return
        self._retry_at = now + 1.0
        self.publish(self._last, only=files)

    def held(self) -> dict[str, Checkpoint | None]:
        """What each witness holds now (its latest checkpoint); AuditError when one cannot say."""
        return {target: self.held_by(target) for target in self.targets}

    def heads_by(self, target: str, *, answered_before: bool = False) -> list[Checkpoint]:
        """What a witness holds now of each writer's chain (docs/adr/0036): a service's ``heads``
        (its ``latest`` only, from a service without per-writer answers, unless it
        ``answered_before``: then that is a downgrade), a file's latest line of each writer.
        AuditError when it cannot say."""
        from proctor.audit.witness_http import HeadsUnsupported

        if target in self._http:
            try:
                return [h.checkpoint for h in self._http[target].heads(self.log_id).heads]
            except HeadsUnsupported as exc:
                if answered_before:
                    raise AuditError(
                        f"{exc.message}, yet it answered per-writer heads before: whatever answers in"
                        " its place hides the heads of all writers but the latest (a downgrade)"
                    ) from None
                if target not in self._old:
                    self._old.add(target)
                    log.warning("audit witness: %s; asking its latest checkpoint only", exc.message)
            got = self._http[target].latest(self.log_id)
            return [] if got is None else [got.checkpoint]
        return witnessed_heads(Path(target))

    def held_by(self, target: str) -> Checkpoint | None:
        if target in self._http:
            got = self._http[target].latest(self.log_id)
            return None if got is None else got.checkpoint
        return latest_witnessed(Path(target))

    def publish_recovery(
        self,
        cp: Checkpoint,
        reason: str,
        held: Mapping[str, Checkpoint | None],
        sign: Callable[[bytes], bytes],
    ) -> None:
        """Tell every witness about an operator's recovery: ``cp`` marked as one, signed by the audit
        key, naming what the witness held. Raises when a witness does not take it."""
        from proctor.audit.witness_http import recovery_payload

        with self._send_lock:
            for target in self.targets:
                before = held.get(target)
                if target not in self._http:
                    self._check_file(target)
                    append_witness(Path(target), cp)
                    continue
                recovery: dict[str, Any] | None = None
                if before is not None:
                    from_head = bytes(before.head_hash).hex()
                    sig = sign(recovery_payload(self.log_id, before.seq, from_head, cp, reason))
                    recovery = {
                        "from_seq": before.seq,
                        "from_head": from_head,
                        "reason": reason,
                        "signature": base64.b64encode(sig).decode(),
                    }
                self._http[target].submit(self.log_id, cp, self._log_key, recovery)
                self.lagging.pop(target, None)
            with self._lock:
                self._last = cp
            with self._wake:
                self._due.clear()  # what was due before the recovery is older than it


__all__ = [
    "WitnessPublisher",
    "append_witness",
    "file_log_id",
    "is_url",
    "latest_witnessed",
    "pinned_log_problem",
    "witness_log_problems",
]
