"""The hash chain and the bytes a checkpoint signs.

A record's hash covers a domain tag, its sequence number, the previous record's hash and its
canonical body, so a record cannot be edited, moved to another position, dropped or inserted
without breaking every later link. Record 1 links to :data:`GENESIS` (32 zero bytes).

Each writer (one :class:`proctor.audit.log.AuditLog`, docs/adr/0036) has a chain of its own: its
records are hashed under :data:`DOMAIN_W` over the writer id and the record's place in the writer's
chain (``wseq``), starting from :data:`GENESIS`. Writer 0 is the single chain of logs written before
per-writer chains, hashed as it always was (its wseq is its seq).
"""

from __future__ import annotations

import hashlib

from proctor.canonical import canonical_json
from proctor.store._sql import GENESIS
from proctor.store.base import ChainHasher

#: Domain separation: these hashes can never be confused with any other SHA-256 Proctor computes.
DOMAIN = b"proctor-audit-v1\0"
#: Domain of a per-writer record (writer >= 1).
DOMAIN_W = b"proctor-audit-v2\0"
HASH_SIZE = 32

_sha256 = hashlib.sha256


def chain_hash(seq: int, prev_hash: bytes, body: bytes) -> bytes:
    """SHA-256 over ``DOMAIN || seq (8 bytes, big-endian) || prev_hash || body``.

    This is the :class:`proctor.store.base.ChainHasher` handed to ``Store.append_audit``.

    >>> chain_hash(1, GENESIS, b'{"v":1}').hex()[:16]
    '241fd3260a510fd1'
    """
    return _sha256(b"".join((DOMAIN, seq.to_bytes(8, "big"), prev_hash, body))).digest()


def writer_chain_hash(writer: int, wseq: int, seq: int, prev_hash: bytes, body: bytes) -> bytes:
    """SHA-256 over ``DOMAIN_W || writer (8 bytes) || wseq (8 bytes) || prev_hash || seq (8 bytes)
    || body`` for a writer >= 1 (``seq`` the record's place in the merged log); writer 0's records
    use :func:`chain_hash` (their wseq is their seq)."""
    if writer == 0:
        return chain_hash(wseq, prev_hash, body)
    return _sha256(
        b"".join(
            (
                DOMAIN_W,
                writer.to_bytes(8, "big"),
                wseq.to_bytes(8, "big"),
                prev_hash,
                seq.to_bytes(8, "big"),
                body,
            )
        )
    ).digest()


def hasher_for(writer: int) -> ChainHasher:
    """The :class:`proctor.store.base.ChainHasher` of ``writer``'s chain: ``Store.append_audit``
    hands a writer's hasher the record's global seq (8 bytes) and its body as the body."""
    if writer == 0:
        return chain_hash

    prefix = DOMAIN_W + writer.to_bytes(8, "big")

    def hasher(seq: int, prev_hash: bytes, body: bytes) -> bytes:  # seq: the place in the chain
        return _sha256(b"".join((prefix, seq.to_bytes(8, "big"), prev_hash, body))).digest()

    return hasher


def to_micros(ts: float) -> int:
    """Seconds since the epoch as whole microseconds: records and checkpoints hold no floats."""
    return round(ts * 1_000_000)


def checkpoint_payload(seq: int, head_hash: bytes, ts_us: int) -> bytes:
    """The canonical JSON an audit signing key signs: ``{"v":1,"seq":N,"head":hex,"ts":µs}``."""
    return canonical_json({"v": 1, "seq": seq, "head": head_hash.hex(), "ts": ts_us})


__all__ = [
    "DOMAIN",
    "DOMAIN_W",
    "GENESIS",
    "HASH_SIZE",
    "chain_hash",
    "checkpoint_payload",
    "hasher_for",
    "to_micros",
    "writer_chain_hash",
]
