"""export_jsonl: one JSON line per record, checkable on its own against the chain."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from proctor.audit import AuditLog, canonical_json, export_jsonl
from proctor.audit.chain import GENESIS, writer_chain_hash
from proctor.clock import FrozenClock
from proctor.store import Store, open_store
from proctor.store.base import AuditQuery


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'proctor.db'}")
    clock = FrozenClock()
    with AuditLog(s, clock, None) as audit:
        for i in range(12):
            clock.advance(0.5)
            audit.append(
                "decision",
                {"i": i, "score": i / 3, "note": "naïve \U0001f600", "ünïcode-key": [1.5, None, True]},
                agent=f"agent-{i % 2}",
                decision="allow",
            )
    yield s
    s.close()


def test_export_round_trip(store: Store) -> None:
    """Every line re-canonicalises to the stored body and re-hashes to the stored hash, in order."""
    out = io.StringIO()
    assert export_jsonl(store, out) == 12
    lines = out.getvalue().splitlines()
    assert len(lines) == 12
    prev = GENESIS
    stored = list(store.iter_audit())
    for n, (line, row) in enumerate(zip(lines, stored, strict=True), start=1):
        item = json.loads(line)
        assert set(item) == {"seq", "writer", "wseq", "hash", "prev_hash", "record"}
        assert item["seq"] == n
        assert (item["writer"], item["wseq"]) == (row.writer, n)  # one writer here
        assert bytes.fromhex(item["prev_hash"]) == prev
        body = canonical_json(item["record"])
        assert body == row.body
        assert writer_chain_hash(item["writer"], n, item["seq"], prev, body).hex() == item["hash"]
        prev = bytes.fromhex(item["hash"])
    first = json.loads(lines[0])["record"]
    assert first["note"] == "naïve \U0001f600"
    assert first["kind"] == "decision"


def test_export_with_query(store: Store) -> None:
    """With a query only the matching records are written."""
    out = io.StringIO()
    assert export_jsonl(store, out, AuditQuery(agent="agent-1", limit=1000)) == 6
    records = [json.loads(line)["record"] for line in out.getvalue().splitlines()]
    assert [r["i"] for r in records] == [1, 3, 5, 7, 9, 11]
    assert {r["agent"] for r in records} == {"agent-1"}


def test_export_empty_log(tmp_path: Path) -> None:
    """An empty log exports nothing."""
    s = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        out = io.StringIO()
        assert export_jsonl(s, out) == 0
    finally:
        s.close()
    assert out.getvalue() == ""
