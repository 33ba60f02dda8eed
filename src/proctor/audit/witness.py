"""A witness of the audit log outside the workspace (issue 12.4).

The anchor (``keys/audit-anchor.json``) lives in the workspace: restoring the whole workspace from an
old copy, or deleting the anchor along with the tail of the log, leaves nothing that remembers how far
the log once reached. A **witness** is a file outside the workspace (``audit.witness`` in
``proctor.yaml``: another disk, another host's mount, a directory only an auditor's user may
append to) to which every signed checkpoint is appended as one JSON line, fsynced. ``proctor audit
verify`` checks the log against the witness's latest checkpoint: its signature, and that the chain
reaches it with the same head. So a truncated log, a rolled-back database or a restored workspace
verifies as tampered, whatever happened to the anchor.

The witness holds checkpoints only (sequence number, head hash, time, key id, signature): no record
content. Each line is verified like any checkpoint; a damaged last line is reported, never skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from proctor.audit.anchor import checkpoint_doc, checkpoint_from_json
from proctor.errors import AuditError
from proctor.store.base import Checkpoint

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


__all__ = ["append_witness", "latest_witnessed"]
