"""What the audit log is checked against that its database cannot change.

The chain and its checkpoints live in the database, so someone who can write to the database could
rewrite records, recompute the chain, delete every checkpoint, and register a key of their own
beside Proctor's. Two things outside the database stop that (docs/adr/0005, amendment):

* the **trusted keys** are the public halves of the workspace's own audit key file
  (``keys/audit-ed25519.pem``), never the keys a store lists;
* the **anchor** (``keys/audit-anchor.json``) is a copy of the latest checkpoint of every writer's
  chain (docs/adr/0036), written after each one. ``audit verify`` requires every chain to reach
  its anchored head, and a Proctor process refuses to sign a checkpoint over a chain that does not.
  An anchor written before per-writer chains holds one checkpoint: writer 0's.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from proctor.audit.chain import HASH_SIZE
from proctor.errors import AuditError
from proctor.store.base import Checkpoint

ANCHOR_FILE = "audit-anchor.json"
LOCK_FILE = ".audit-anchor.lock"
#: the writers processes of this workspace registered, one id a line (see record_writer)
WRITERS_FILE = "audit-writers"
#: a checkpoint is a few hundred bytes, one per writer ever: anything larger is not an anchor
MAX_ANCHOR_BYTES = 64 * 1024 * 1024


def trusted_audit_keys(keydir: Path) -> dict[str, Ed25519PublicKey]:
    """The audit public keys a verifier trusts: the workspace's own audit key, by its key id."""
    from proctor.audit.key import AUDIT_KEY_FILE
    from proctor.crypto.jose import ed25519_public_jwk

    path = Path(keydir) / AUDIT_KEY_FILE
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError) as exc:
        raise AuditError(f"cannot read the audit key `{path}`: {type(exc).__name__}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"`{path}` is not an Ed25519 key")
    public = key.public_key()
    return {str(ed25519_public_jwk(public)["kid"]): public}


def write_anchor(keydir: Path, cp: Checkpoint, *, force: bool = False) -> None:
    """Make ``cp`` the anchored head of its writer's chain unless the anchor already covers more of
    that chain: an anchor that went back would leave records a later one covered unprotected.
    Under a lock; written to a temporary file, flushed to disk, renamed. ``force`` (``proctor audit
    recover`` only) replaces the whole anchor with ``cp``, whatever it covers."""
    folder = Path(keydir)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    with os.fdopen(fd, "rb") as lock:  # owner-only, like everything in keys/
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            current = {} if force else {a.writer: a for a in read_anchors(folder)}
        except AuditError:
            current = {}  # a damaged anchor is replaced by a good one
        held = current.get(cp.writer)
        if held is not None and held.seq >= cp.seq:
            return
        current[cp.writer] = cp
        _replace(folder, [current[w] for w in sorted(current)])


def record_writer(keydir: Path, writer: int) -> None:
    """Note, outside the database, that a process of this workspace registered ``writer`` (a line
    appended to ``keys/audit-writers``, flushed to disk): what tells a writer killed before its
    first checkpoint from a writer row and chain someone made up in the database, whose head the
    next process must not sign (docs/adr/0036, amendment)."""
    path = Path(keydir) / WRITERS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        os.write(fd, f"{int(writer)}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def recorded_writers(keydir: Path) -> set[int]:
    """The writers processes of this workspace registered (see :func:`record_writer`); empty
    when none did yet. Lines that are not a writer id are skipped."""
    path = Path(keydir) / WRITERS_FILE
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_ANCHOR_BYTES)
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise AuditError(f"cannot read `{path}`: {type(exc).__name__}") from None
    return {int(line) for line in raw.split() if line.isdigit() and len(line) <= 19}


def checkpoint_doc(cp: Checkpoint) -> dict[str, object]:
    """A checkpoint as the JSON object kept outside the database (the anchor, a witness line)."""
    doc: dict[str, object] = {
        "seq": cp.seq,
        "head": bytes(cp.head_hash).hex(),
        "ts": cp.ts,
        "kid": cp.kid,
        "signature": base64.b64encode(bytes(cp.signature)).decode(),
    }
    if cp.writer:
        doc["writer"] = cp.writer
    return doc


def checkpoint_from_json(raw: bytes) -> Checkpoint:
    """The checkpoint a JSON object kept outside the database holds; ValueError when it holds none
    (its signature is checked by whoever uses it)."""
    try:
        return _checkpoint_from_doc(json.loads(raw))
    except ValueError:
        raise ValueError("not a checkpoint") from None


def _checkpoint_from_doc(doc: object) -> Checkpoint:
    try:
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        seq, ts, kid = doc["seq"], doc["ts"], doc["kid"]
        writer = doc.get("writer", 0)
        if type(writer) is not int or writer < 0:
            raise ValueError("bad writer")
        head = bytes.fromhex(doc["head"])
        signature = base64.b64decode(doc["signature"], validate=True)
        if type(seq) is not int or seq < 1 or not isinstance(kid, str) or len(head) != HASH_SIZE:
            raise ValueError("bad field")
        return Checkpoint(seq, head, float(ts), kid, signature, writer)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise ValueError("not a checkpoint") from None


def _replace(folder: Path, cps: list[Checkpoint]) -> None:
    # one writer's anchor keeps the format it always had (a single checkpoint)
    doc: object = (
        checkpoint_doc(cps[0])
        if len(cps) == 1 and cps[0].writer == 0
        else {"v": 2, "heads": [checkpoint_doc(cp) for cp in cps]}
    )
    fd, tmp = tempfile.mkstemp(prefix=".anchor-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / ANCHOR_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_anchor(keydir: Path) -> Checkpoint | None:
    """The latest anchored checkpoint of any writer (the highest seq), None when there is none
    yet; :class:`AuditError` when the file is there but is not an anchor."""
    return max(read_anchors(keydir), key=lambda cp: cp.seq, default=None)


def read_anchors(keydir: Path) -> list[Checkpoint]:
    """The anchored head of every writer's chain ([] when there is no anchor yet); :class:`AuditError`
    when the file is there but is not an anchor (signatures are checked by whoever uses them)."""
    path = Path(keydir) / ANCHOR_FILE
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_ANCHOR_BYTES + 1)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise AuditError(f"cannot read the audit anchor `{path}`: {type(exc).__name__}") from None
    try:
        if len(raw) > MAX_ANCHOR_BYTES:
            raise ValueError("too large")
        doc = json.loads(raw)
        if isinstance(doc, dict) and doc.get("v") == 2:
            heads = doc.get("heads")
            if not isinstance(heads, list) or not heads:
                raise ValueError("no heads")
            cps = [_checkpoint_from_doc(h) for h in heads]
            if len({cp.writer for cp in cps}) != len(cps):
                raise ValueError("a writer twice")
            return cps
        return [_checkpoint_from_doc(doc)]
    except ValueError:
        raise AuditError(f"the audit anchor `{path}` is not valid: restore it or remove it") from None


__all__ = [
    "ANCHOR_FILE",
    "checkpoint_doc",
    "checkpoint_from_json",
    "read_anchor",
    "read_anchors",
    "record_writer",
    "recorded_writers",
    "trusted_audit_keys",
    "write_anchor",
]
