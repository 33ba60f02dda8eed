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


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


class WitnessPublisher:
    """Sends every signed checkpoint to the configured witnesses, from the thread that signs it
    (the audit writer: never the event loop), each send bounded by a short timeout.

    A witness that cannot be reached is *lagging* (``lagging``: why, by witness): the newest
    checkpoint is sent again at the next one, and once a second while the log is idle. A witness
    service that refuses a checkpoint because the log went backwards calls ``on_rollback``.
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
        self._lock = threading.Lock()
        self.lagging: dict[str, str] = {}
        self._last: Checkpoint | None = None
        self._retry_at = 0.0

    def publish(self, cp: Checkpoint, only: Sequence[str] | None = None) -> None:
        from proctor.audit.witness_http import WitnessRefused

        with self._lock:
            if self._last is None or cp.seq >= self._last.seq:
                self._last = cp
            for target in only if only is not None else self.targets:
                try:
                    if target in self._http:
                        self._http[target].submit(self.log_id, cp, self._log_key)
                    else:
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

    def retry(self) -> None:
        """Send the newest checkpoint again to the witnesses lagging behind (at most once a second)."""
        now = time.monotonic()
        if not self.lagging or self._last is None or now < self._retry_at:
            return
        self._retry_at = now + 1.0
        self.publish(self._last, only=list(self.lagging))

    def held(self) -> dict[str, Checkpoint | None]:
        """What each witness holds now (its latest checkpoint); AuditError when one cannot say."""
        return {target: self.held_by(target) for target in self.targets}

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

        with self._lock:
            for target in self.targets:
                before = held.get(target)
                if target not in self._http:
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
            self._last = cp


__all__ = ["WitnessPublisher", "append_witness", "is_url", "latest_witnessed"]
