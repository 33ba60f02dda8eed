"""Verify the audit log: every link of the hash chain, every signed checkpoint.

What is caught, and how each problem is named (``Problem.code``, stable):

``record_missing``            a seq is absent (a record was deleted)
``record_unexpected``         a seq below the expected one (a record was inserted out of sequence),
                              or a row no writer could have written (a writer id that is not an
                              8-byte unsigned integer, a NULL seq): reported on writer -1
``chain_broken``              a record's ``prev_hash`` is not the previous record's hash (reordered,
                              inserted or deleted records)
``record_modified``           a record's body or seq does not hash to its stored hash
``index_mismatch``            (``deep``) an indexed column disagrees with the body
``body_invalid``              (``deep``) a body is not a JSON object
``checkpoint_mismatch``       the chain is self-consistent but not the chain a checkpoint signed:
                              it was recomputed after an edit
``checkpoint_bad_signature``  a checkpoint's signature does not verify
``checkpoint_unknown_kid``    no public key for a checkpoint's key id
``log_truncated``             a valid checkpoint covers records the log no longer has (a writer's
                              tail, or a whole writer, cut after its checkpoint)
``merge_inconsistent``        a writer's record is dated more than ``TS_TOLERANCE_S`` before the
                              record that writer wrote before it
``writer_records_missing``    a writer registered its first record but the log holds none of its
``writer_unregistered``       records of a writer that never registered

Against a witness service (``proctor.app.verify_audit_store``, docs/adr/0036), each writer's head
it countersigned: ``witness_rollback`` (the writer's chain in the store ends before that head, or
holds another record there), ``witness_writer_missing`` (the store holds no record of a writer
the witness knows) and ``witness_head_misattributed`` (the witness holds one writer's record as
another writer's head: a checkpoint sent to it again under another writer, which hid that
writer's real head).

Every writer has a chain of its own (docs/adr/0036); the walk follows the global order (``seq``)
once and checks each writer's chain as its records come: within a writer, ``seq`` and the place in
its chain (``wseq``) rise together. Writer 0 is the single chain of logs written before per-writer
chains. ``VerifyReport.writers`` says how each chain fared.

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

import contextlib
import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from proctor.audit.chain import DOMAIN, DOMAIN_W, GENESIS, HASH_SIZE, checkpoint_payload, to_micros
from proctor.errors import ValidationError
from proctor.store.base import Checkpoint, Store, index_text

PublicKeys = Mapping[str, Ed25519PublicKey] | Callable[[str], Ed25519PublicKey | None]

_PAGE = 20_000
#: how far back in time a writer's record may be dated against the one it wrote before (a wall
#: clock stepped back by NTP); beyond it the merge is ``merge_inconsistent``
TS_TOLERANCE_S = 5.0
_U64 = 1 << 64
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
    #: each writer's chain (docs/adr/0036): writer, ok, records, head_wseq, head_seq, checkpoints,
    #: unsigned_tail, problem, and host, pid, started_at as registered
    writers: list[dict[str, Any]] = field(default_factory=list)
    #: what the verifier could not check as fully as it would (e.g. a witness service without
    #: per-writer answers): said, never a failure
    notes: list[str] = field(default_factory=list)


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
                r.writer,
                r.wseq,
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
        # a field of the wrong type, or too large for the signed JSON (ValidationError), too
        except (InvalidSignature, TypeError, ValueError, OverflowError, ValidationError):
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
    ts = row[6]
    if isinstance(ts, float | int) and not isinstance(ts, bool):  # never `bytes * 10**6`
        with contextlib.suppress(ValueError, OverflowError):  # NaN, infinite: compared as they are
            ts = to_micros(ts)
    columns = {
        "kind": row[7],
        "ts": ts,
        "agent": row[8],
        "task": row[9],
        "tool": row[10],
        "decision": row[11],
        "decision_id": row[12],
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


@dataclass(slots=True)
class _Chain:
    """The walk of one writer's chain."""

    writer: int
    expected: int = 1
    prev: bytes = GENESIS
    head_seq: int = 0
    last_ts: float = -math.inf
    records: int = 0
    checkpoints: int = 0
    last_cp_w: int = 0
    broken: Problem | None = None
    first_seq: int | None = None

    def status(self) -> dict[str, Any]:
        return {
            "writer": self.writer,
            "ok": self.broken is None,
            "records": self.records,
            "head_wseq": self.expected - 1,
            "head_seq": self.head_seq,
            "checkpoints": self.checkpoints,
            "unsigned_tail": max(0, self.expected - 1 - self.last_cp_w),
            "problem": None if self.broken is None else self.broken.code,
        }


def _hash_prefix(writer: int) -> bytes:
    return DOMAIN if writer == 0 else DOMAIN_W + writer.to_bytes(8, "big")


def verify_log(
    store: Store,
    public_key_for_kid: PublicKeys,
    *,
    deep: bool = False,
    anchors: list[Checkpoint] | None = None,
) -> VerifyReport:
    """Check every writer's chain, their merge and every checkpoint; see the module docstring.

    ``public_key_for_kid`` maps a checkpoint's key id to its Ed25519 public key (a mapping or a
    callable returning None for unknown ids): pass keys from outside the store (see
    :mod:`proctor.audit.anchor`). ``anchors`` are checkpoints kept outside the store; they are
    checked like the stored ones and win over a stored checkpoint of the same seq. ``deep`` also
    checks the indexed columns (kind, ts, agent, task, tool, decision, decision_id) against each body.
    """
    problems: list[Problem] = []
    good = _check_signatures([*store.list_checkpoints(), *(anchors or [])], public_key_for_kid, problems)
    chains: dict[int, _Chain] = {}
    merge: list[tuple[int, Problem]] = []

    sha256 = hashlib.sha256
    for page in _pages(store, deep):
        for row in page:
            seq, writer, wseq = row[0], row[4], row[5]
            if type(seq) is not int:  # a NULL (or non-integer) seq: stored outside Proctor
                seq = -1
            # a writer id or a place that is not an 8-byte unsigned integer is no writer's record
            # (hashing it would not even be possible): the malformed chain -1 reports it
            if type(writer) is not int or type(wseq) is not int or not 0 <= writer < _U64 or seq < 0:
                writer, wseq = -1, -1
            chain = chains.get(writer)
            if chain is None:
                chain = chains[writer] = _Chain(writer, first_seq=seq)
            if chain.broken is not None:
                continue  # the rest of a broken chain proves nothing
            expected = chain.expected
            who = "" if writer == 0 else f"writer {writer}: "
            if wseq != expected:
                if wseq > expected:
                    gap = f"record {expected}" if wseq == expected + 1 else f"records {expected}..{wseq - 1}"
                    at = chain.head_seq + 1
                    chain.broken = Problem(
                        at,
                        "record_missing",
                        f"{who}{gap} missing: the next stored record is {wseq}"
                        + ("" if writer == 0 else f" (seq {seq})"),
                    )
                else:
                    chain.broken = Problem(
                        seq,
                        "record_unexpected",
                        f"{who}record {seq} is out of sequence (expected {expected}"
                        + ("" if writer == 0 else f", found {wseq}")
                        + ")",
                    )
                continue
            if row[2] != chain.prev:
                chain.broken = Problem(
                    seq,
                    "chain_broken",
                    f"{who}record {seq} does not link to the record before it: records were reordered,"
                    " inserted or deleted",
                )
                continue
            body = row[1]
            if not isinstance(body, bytes | memoryview):
                chain.broken = Problem(
                    seq, "record_modified", f"{who}record {seq} was modified: its body is not stored as bytes"
                )
                continue
            digest = sha256(
                b"".join(
                    (
                        _hash_prefix(writer),
                        wseq.to_bytes(8, "big"),
                        chain.prev,
                        b"" if writer == 0 else seq.to_bytes(8, "big", signed=True),
                        body,
                    )
                )
            ).digest()
            if digest != row[3]:
                chain.broken = Problem(
                    seq, "record_modified", f"{who}record {seq} was modified: it does not match its hash"
                )
                continue
            if deep:
                chain.broken = _index_problem(row)
                if chain.broken is not None:
                    continue
            cp = good.pop(seq, None)
            if cp is not None:
                if cp.head_hash != digest:
                    span = f"{chain.last_cp_w + 1}..{wseq}"
                    chain.broken = Problem(
                        seq,
                        "checkpoint_mismatch",
                        f"checkpoint {seq} does not match the chain: {who}records {span} were rewritten"
                        " and the chain recomputed",
                    )
                    continue
                chain.checkpoints += 1
                chain.last_cp_w = wseq
            ts = row[6]
            if isinstance(ts, float | int) and not math.isnan(ts):
                if ts < chain.last_ts - TS_TOLERANCE_S:
                    merge.append(
                        (
                            writer,
                            Problem(
                                seq,
                                "merge_inconsistent",
                                f"{who}record {seq} is dated {chain.last_ts - ts:.3f} s before the record"
                                f" its writer wrote before it (tolerance {TS_TOLERANCE_S:g} s): records were"
                                " moved between positions or their times edited",
                            ),
                        )
                    )
                chain.last_ts = max(chain.last_ts, float(ts))
            chain.prev = digest
            chain.expected = wseq + 1
            chain.head_seq = seq
            chain.records += 1

    for chain in chains.values():
        if chain.broken is not None:
            problems.append(chain.broken)
    problems.extend([p for w, p in merge if chains[w].broken is None][:100])
    # checkpoints no record matched: their record was removed (a cut tail, a whole writer gone);
    # one problem per writer, at its first such checkpoint, naming its latest
    unmatched: dict[int, list[int]] = {}
    for seq in sorted(good):
        unmatched.setdefault(good[seq].writer, []).append(seq)
    for w, seqs in sorted(unmatched.items(), key=lambda kv: kv[1][0]):
        chain = chains.get(w)
        if chain is not None and chain.broken is not None:
            continue  # reported as the break
        ends = "holds no record" if chain is None else f"ends at record {chain.head_seq}"
        who = "the log" if w == 0 else f"writer {w}'s chain"
        problems.append(
            Problem(
                seqs[0],
                "log_truncated",
                f"{who} {ends} but checkpoint {seqs[0]} (latest {seqs[-1]}) covers more: records after"
                f" {'it' if chain is None else chain.head_seq} were removed",
            )
        )
    writers_status = [chains[w].status() for w in sorted(chains)]
    list_writers = getattr(store, "list_audit_writers", None)
    if callable(list_writers):
        registered = {w.id: w for w in list_writers()}
        for w in registered.values():
            if w.first_seq is not None and w.id not in chains:
                problems.append(
                    Problem(
                        w.first_seq,
                        "writer_records_missing",
                        f"writer {w.id} (host {w.host}, pid {w.pid}) committed records from seq"
                        f" {w.first_seq} on, but the log holds none of them: they were removed",
                    )
                )
        for w in sorted(chains):
            if w not in registered and chains[w].records:
                problems.append(
                    Problem(
                        chains[w].first_seq or 0,
                        "writer_unregistered",
                        f"records of writer {w}, which never registered: they were added outside Proctor",
                    )
                )
        for st in writers_status:
            reg = registered.get(st["writer"])
            if reg is not None:
                st.update(host=reg.host, pid=reg.pid, started_at=reg.started_at)
    checked = sum(c.records for c in chains.values())
    head = max((c.head_seq for c in chains.values()), default=0)
    return VerifyReport(
        ok=not problems,
        records_checked=checked,
        checkpoints_checked=sum(c.checkpoints for c in chains.values()),
        head_seq=head,
        problems=problems,
        unsigned_tail=sum(st["unsigned_tail"] for st in writers_status),
        writers=writers_status,
    )


__all__ = ["Problem", "PublicKeys", "VerifyReport", "verify_log"]
