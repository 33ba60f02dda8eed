"""Verify the audit log: every link of the hash chain, every signed checkpoint.

What is caught, and how each problem is named (``Problem.code``, stable):

``record_missing``            a seq is absent (a record was deleted)
``record_unexpected``         a seq below the expected one (a record was inserted out of sequence)
``chain_broken``              a record's ``prev_hash`` is not the previous record's hash (reordered,
                              inserted or deleted records)
``record_modified``           a record's body or seq does not hash to its stored hash
``index_mismatch``            (``deep``) an indexed column disagrees with the body
``body_invalid``              (``deep``) a body is not a JSON object
``checkpoint_mismatch``       the chain is self-consistent but not the chain a checkpoint signed:
                              it was recomputed after an edit
``checkpoint_bad_signature``  a checkpoint's signature does not verify
``checkpoint_unknown_kid``    no public key for a checkpoint's key id
``log_truncated``             a valid checkpoint covers records the log no longer has

Checkpoints are checked with keys from outside the store, and ``anchors`` (the workspace's copy of
its latest checkpoint, :mod:`proctor.audit.anchor`) are checked like stored ones: deleting every
checkpoint, or registering another key in the store, then hides nothing the anchor covers.

Walking the chain stops at the first broken record. What no verifier can catch on its own: records
removed from the tail after the last checkpoint, and checkpoints deleted along with them; keep
checkpoints (or ``verify`` reports) somewhere the attacker cannot write to bound that.

The walk hashes stored bytes as they are (no JSON parsing, no re-canonicalisation); ``deep=True``
also parses every body to check the indexed columns against it, at roughly half the speed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from proctor.audit.chain import DOMAIN, GENESIS, HASH_SIZE, checkpoint_payload, to_micros
from proctor.store.base import Checkpoint, Store, index_text

PublicKeys = Mapping[str, Ed25519PublicKey] | Callable[[str], Ed25519PublicKey | None]

_PAGE = 20_000
_INDEXED = ("agent", "task", "tool", "decision", "decision_id")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the log, naming the record or checkpoint by seq."""

    seq: int
    code: str
    message: str


@dataclass(slots=True)
class VerifyReport:
    """The outcome of :func:`verify_log`.

    ``head_seq`` is the seq of the last record found intact; ``records_checked`` counts those records
    and ``checkpoints_checked`` the checkpoints matched against the chain.
    """

    ok: bool
    records_checked: int
    checkpoints_checked: int
    head_seq: int
    problems: list[Problem] = field(default_factory=list)
    #: records at the tail that no signed checkpoint covers (only the hash chain protects them:
    #: someone who can write the store could delete them unnoticed); 0 when the head is signed
    unsigned_tail: int = 0
    #: operators' recoveries after a rollback (``audit.recovered`` records): seq, ts, reason, by
    recoveries: list[dict[str, Any]] = field(default_factory=list)
    #: the log id (the audit key's id) verified: what ``audit.witness_log`` pins
    log_id: str | None = None


@runtime_checkable
class _RawAuditSource(Protocol):
    def iter_audit_raw(
        self, after_seq: int | None = None, batch: int = _PAGE, *, full: bool = False
    ) -> Iterator[list[tuple[Any, ...]]]: ...


def _pages(store: Store, full: bool) -> Iterator[list[tuple[Any, ...]]]:
    if isinstance(store, _RawAuditSource):
        yield from store.iter_audit_raw(None, _PAGE, full=full)
        return
    page: list[tuple[Any, ...]] = []
    for r in store.iter_audit(0, _PAGE):
        page.append(
            (
                r.seq,
                r.body,
                r.prev_hash,
                r.hash,
                r.ts,
                # as the columns hold them, like iter_audit_raw gives them
                *(
                    None if v is None else index_text(v)
                    for v in (r.kind, r.agent, r.task, r.tool, r.decision, r.decision_id)
                ),
            )
        )
        if len(page) >= _PAGE:
            yield page
            page = []
    if page:
        yield page


def _key_lookup(keys: PublicKeys) -> Callable[[str], Ed25519PublicKey | None]:
    if isinstance(keys, Mapping):
        return keys.get
    return keys


def _check_signatures(
    checkpoints: list[Checkpoint], keys: PublicKeys, problems: list[Problem]
) -> dict[int, Checkpoint]:
    lookup = _key_lookup(keys)
    good: dict[int, Checkpoint] = {}
    for cp in checkpoints:
        key = lookup(cp.kid)
        if key is None:
            problems.append(
                Problem(
                    cp.seq,
                    "checkpoint_unknown_kid",
                    f"checkpoint {cp.seq} is signed by unknown key `{cp.kid}`",
                )
            )
            continue
        try:
            if len(cp.head_hash) != HASH_SIZE:
                raise InvalidSignature
            key.verify(bytes(cp.signature), checkpoint_payload(cp.seq, bytes(cp.head_hash), to_micros(cp.ts)))
        except (InvalidSignature, TypeError, ValueError, OverflowError):  # a field of the wrong type too
            problems.append(
                Problem(
                    cp.seq,
                    "checkpoint_bad_signature",
                    f"checkpoint {cp.seq} has a bad signature (key `{cp.kid}`): it was forged or altered",
                )
            )
            continue
        good[cp.seq] = cp
    return good


def _index_problem(row: tuple[Any, ...]) -> Problem | None:
    seq = row[0]
    try:
        body = json.loads(row[1])
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return Problem(seq, "body_invalid", f"record {seq} does not hold a JSON object")
    try:
        ts = to_micros(row[4])
    except (TypeError, ValueError, OverflowError):
        ts = row[4]
    columns = {
        "kind": row[5],
        "ts": ts,
        "agent": row[6],
        "task": row[7],
        "tool": row[8],
        "decision": row[9],
        "decision_id": row[10],
    }
    for name, value in columns.items():
        want = body.get(name)
        if isinstance(want, str):  # the column holds the value escaped (see store.base.index_text)
            want = index_text(want)
        if want != value:
            return Problem(
                seq,
                "index_mismatch",
                f"column `{name}` of record {seq} is `{value}` but its body says `{body.get(name)}`",
            )
    return None


def verify_log(
    store: Store,
    public_key_for_kid: PublicKeys,
    *,
    deep: bool = False,
    anchors: list[Checkpoint] | None = None,
) -> VerifyReport:
    """Check the whole chain and every checkpoint; see the module docstring for what is caught.

    ``public_key_for_kid`` maps a checkpoint's key id to its Ed25519 public key (a mapping or a
    callable returning None for unknown ids): pass keys from outside the store (see
    :mod:`proctor.audit.anchor`). ``anchors`` are checkpoints kept outside the store; they are
    checked like the stored ones and win over a stored checkpoint of the same seq. ``deep`` also
    checks the indexed columns (kind, ts, agent, task, tool, decision, decision_id) against each body.
    """
    problems: list[Problem] = []
    good = _check_signatures([*store.list_checkpoints(), *(anchors or [])], public_key_for_kid, problems)
    cp_seqs = sorted(good)
    cp_i = 0
    next_cp = cp_seqs[0] if cp_seqs else -1
    last_good_cp = 0
    cps_checked = 0

    sha256 = hashlib.sha256
    domain = DOMAIN
    expected = 1
    prev = GENESIS
    broken: Problem | None = None

    for page in _pages(store, deep):
        for row in page:
            seq = row[0]
            if seq != expected:
                if seq > expected:
                    gap = f"record {expected}" if seq == expected + 1 else f"records {expected}..{seq - 1}"
                    broken = Problem(
                        expected, "record_missing", f"{gap} missing: the next stored record is {seq}"
                    )
                else:
                    broken = Problem(
                        seq, "record_unexpected", f"record {seq} is out of sequence (expected {expected})"
                    )
                break
            if row[2] != prev:
                broken = Problem(
                    seq,
                    "chain_broken",
                    f"record {seq} does not link to record {seq - 1}: records were reordered, inserted or deleted",
                )
                break
            body = row[1]
            if not isinstance(body, bytes | memoryview):
                broken = Problem(
                    seq, "record_modified", f"record {seq} was modified: its body is not stored as bytes"
                )
                break
            digest = sha256(b"".join((domain, seq.to_bytes(8, "big"), prev, body))).digest()
            if digest != row[3]:
                broken = Problem(
                    seq, "record_modified", f"record {seq} was modified: it does not match its hash"
                )
                break
            if deep:
                broken = _index_problem(row)
                if broken is not None:
                    break
            if seq == next_cp:
                if good[seq].head_hash != digest:
                    span = f"{last_good_cp + 1}..{seq}"
                    broken = Problem(
                        seq,
                        "checkpoint_mismatch",
                        f"checkpoint {seq} does not match the chain: records {span} were rewritten"
                        " and the chain recomputed",
                    )
                    break
                cps_checked += 1
                last_good_cp = seq
                cp_i += 1
                next_cp = cp_seqs[cp_i] if cp_i < len(cp_seqs) else -1
            prev = digest
            expected += 1
        if broken is not None:
            break

    head = expected - 1
    if broken is not None:
        problems.append(broken)
    elif next_cp != -1:
        latest = cp_seqs[-1]
        problems.append(
            Problem(
                next_cp,
                "log_truncated",
                f"the log ends at record {head} but checkpoint {next_cp} (latest {latest}) covers more:"
                f" records after {head} were removed",
            )
        )
    return VerifyReport(
        ok=not problems,
        records_checked=head,
        checkpoints_checked=cps_checked,
        head_seq=head,
        problems=problems,
        unsigned_tail=max(0, head - last_good_cp),
    )


__all__ = ["Problem", "PublicKeys", "VerifyReport", "verify_log"]
