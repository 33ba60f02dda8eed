"""Per-writer answers of the witness service (docs/adr/0036, issue 19): `audit verify` checks every
writer's chain against the head a real `proctor witness serve` process countersigned for it, on
SQLite and PostgreSQL. Someone who can write the database AND the workspace (its anchor) rolls
back a writer that is not the latest, or removes a whole writer: the witness still catches it. A
forged answer (another witness's key, a replayed nonce, another log's heads, a writer twice, a
head dropped, an oversized list) is refused; an older witness without per-writer answers is still
used, through `latest`, and the verifier says so."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.e2e.gateway_harness import free_port
from tests.e2e.test_audit_witness_http import (
    BIN,
    Witness,
    _cli,
    _config,
    _http_answer,
    _log_id,
)

from proctor.app import Proctor, verify_audit_store
from proctor.audit.chain import checkpoint_payload, to_micros
from proctor.audit.key import load_or_create_audit_key
from proctor.audit.witness_http import (
    MAX_HEADS,
    HttpWitness,
    parse_witness_key,
)
from proctor.errors import AuditError
from proctor.store.base import Checkpoint
from proctor.workspace import Workspace


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[Witness]:
    import subprocess

    folder = tmp_path / "witness"
    key = subprocess.run(
        [str(BIN / "proctor"), "witness", "key", "--dir", str(folder)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    w = Witness(folder, free_port(), key)
    w.start()
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_fresh_url")
    return url


def _workspace(tmp_path: Path, w: Witness) -> Workspace:
    ws, _ = Workspace.init(tmp_path / "ws", config_text=_config(w))
    ws.config_path.write_text(_config(w, log=_log_id(ws)))
    return ws


def _writer(ws: Workspace, url: str | None, agents: range, *, keep: Path | None = None) -> int:
    """One process's worth of records (a writer of its own); ``keep``: where to copy the anchor
    after the first six records (an old copy of the workspace's anchor). Its writer id."""
    with Proctor.open(ws, store_url=url) as p:
        for n, i in enumerate(agents):
            p.agents.add(f"bot{i}", "o@acme.test")
            if keep is not None and n == 5:
                p.audit.flush()
                shutil.copy(ws.keys_dir / "audit-anchor.json", keep)
        p.audit.flush()
        writer = p.audit.writer
        assert writer is not None
        assert p.audit_health()["reasons"] == [], p.audit_health()
    return writer


def _verify(ws: Workspace, url: str | None) -> Any:
    return _cli("audit", "verify", "--workspace", str(ws.root), *(() if url is None else ("--store", url)))


def _sql(ws: Workspace, url: str | None, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Run ``statements`` on the store with its guards off (what someone with the database can do)."""
    if url is None:
        with sqlite3.connect(ws.root / "proctor.db") as db:
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                db.execute(f'DROP TRIGGER "{name}"')
            for sql, args in statements:
                db.execute(sql, args)
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("ALTER TABLE audit_records DISABLE TRIGGER USER")
        for sql, args in statements:
            pg.execute(sql.replace("?", "%s"), args)
        pg.execute("ALTER TABLE audit_records ENABLE TRIGGER USER")


def _anchor_heads(path: Path) -> list[dict[str, Any]]:
    doc = json.loads(path.read_text())
    heads: list[dict[str, Any]] = doc.get("heads", [doc])
    return heads


def _write_anchor(ws: Workspace, heads: list[dict[str, Any]]) -> None:
    (ws.keys_dir / "audit-anchor.json").write_text(json.dumps({"v": 2, "heads": heads}))


def test_a_non_latest_writers_tail_rolled_back_is_caught(
    tmp_path: Path, witness: Witness, store_url: str | None
) -> None:
    """Writer A's tail is cut back to a checkpoint an old copy of the anchor holds, in the database
    and in the anchor; writer B, the latest, is untouched: the witness's `latest` (B's head) and the
    anchor agree with the store, but the witness's head of A does not."""
    url = store_url
    ws = _workspace(tmp_path, witness)
    old = tmp_path / "anchor-before.json"
    a = _writer(ws, url, range(20), keep=old)
    b = _writer(ws, url, range(20, 26))
    assert a != b
    r = _verify(ws, url)
    assert r.returncode == 0, r.stderr
    client = HttpWitness(witness.url, parse_witness_key(witness.key))
    got = client.heads(_log_id(ws))
    assert {h.checkpoint.writer for h in got.heads} >= {a, b}
    assert got.total == len(got.heads)
    a_then = next(h for h in _anchor_heads(old) if h.get("writer") == a)
    a_now = next(h for h in got.heads if h.checkpoint.writer == a).checkpoint
    assert a_then["seq"] < a_now.seq
    _sql(
        ws,
        url,
        ("DELETE FROM audit_records WHERE writer = ? AND seq > ?", (a, a_then["seq"])),
        ("DELETE FROM audit_checkpoints WHERE writer = ? AND seq > ?", (a, a_then["seq"])),
    )
    _write_anchor(
        ws, [a_then if h.get("writer") == a else h for h in _anchor_heads(ws.keys_dir / "audit-anchor.json")]
    )
    r = _verify(ws, url)
    assert r.returncode == 1, r.stdout
    assert "witness_rollback" in r.stderr, r.stderr
    assert f"writer {a}" in r.stderr.replace("\n", " ")
    # a process on the workspace asks the witness too (`proctor status`): it stops signing, loudly
    with Proctor.open(ws, store_url=url) as p:
        assert p.check_witnesses() == {}
        assert p.audit.rollback is not None
        assert f"writer {a}'s head" in p.audit.rollback
        assert p.audit_health()["reasons"] == ["audit_rollback"]
    # the operator's decision starts every head again: the log verifies from there
    store = () if url is None else ("--store", url)
    r = _cli(
        "audit", "recover", "--reason", "restored A's host from a backup", "--workspace", str(ws.root), *store
    )
    assert r.returncode == 0, r.stderr
    r = _verify(ws, url)
    assert r.returncode == 0, r.stderr


def test_a_whole_writer_removed_is_caught(tmp_path: Path, witness: Witness, store_url: str | None) -> None:
    """Every record, checkpoint and the registration of writer A gone, and its head taken out of
    the anchor: only the witness still knows A."""
    url = store_url
    ws = _workspace(tmp_path, witness)
    a = _writer(ws, url, range(8))
    _writer(ws, url, range(8, 14))
    assert _verify(ws, url).returncode == 0
    _sql(
        ws,
        url,
        ("DELETE FROM audit_records WHERE writer = ?", (a,)),
        ("DELETE FROM audit_checkpoints WHERE writer = ?", (a,)),
        ("DELETE FROM audit_writers WHERE id = ?", (a,)),
    )
    anchor = ws.keys_dir / "audit-anchor.json"
    _write_anchor(ws, [h for h in _anchor_heads(anchor) if h.get("writer") != a])
    r = _verify(ws, url)
    assert r.returncode == 1, r.stdout
    assert "witness_writer_missing" in r.stderr, r.stderr


# --- whatever answers at the witness's address --------------------------------------------------


def _relay(
    port: int,
    target: str,
    edit: Callable[[str, bytes], bytes | None],
) -> tuple[threading.Event, threading.Thread]:
    """A man in the middle at 127.0.0.1:``port``: each request is passed to ``target`` (a real
    witness) and ``edit(path, answer)`` may replace the whole HTTP answer (None: relayed as is)."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.2)

    def serve() -> None:
        with listener:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.settimeout(5)
                    try:
                        data = b""
                        while b"\r\n\r\n" not in data:
                            chunk = conn.recv(65536)
                            if not chunk:
                                raise ValueError("cut short")
                            data += chunk
                        head_raw, body = data.split(b"\r\n\r\n", 1)
                        request = head_raw.decode("latin-1")
                        method, path = request.split(" ", 2)[:2]
                        length = 0
                        for line in request.split("\r\n"):
                            if line.lower().startswith("content-length:"):
                                length = int(line.split(":", 1)[1])
                        while len(body) < length:
                            chunk = conn.recv(65536)
                            if not chunk:
                                raise ValueError("cut short")
                            body += chunk
                        real = httpx.request(
                            method,
                            target + path,
                            content=body or None,
                            headers={"content-type": "application/json"} if body else None,
                            timeout=5,
                        )
                        answer = edit(path, real.content)
                        if answer is None:
                            head = (
                                f"HTTP/1.1 {real.status_code} X\r\ncontent-type: application/json\r\n"
                                f"content-length: {len(real.content)}\r\nconnection: close\r\n\r\n"
                            )
                            answer = head.encode() + real.content
                        conn.sendall(answer)
                    except (OSError, ValueError, httpx.HTTPError):
                        pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return stop, thread


def _heads_doc(edit: Callable[[dict[str, Any]], Any]) -> Callable[[str, bytes], bytes | None]:
    def on(path: str, raw: bytes) -> bytes | None:
        if "/heads" not in path:
            return None
        return _http_answer("200 OK", edit(json.loads(raw)))

    return on


def _submit_heads(w: Witness, tmp: Path, writers: int, *, start: int = 1) -> tuple[str, HttpWitness]:
    """``writers`` checkpoints of one log, each of another writer, sent to the real witness."""
    key = load_or_create_audit_key(tmp, None, time.time())
    client = HttpWitness(w.url, parse_witness_key(w.key))
    for n in range(start, start + writers):
        ts = to_micros(time.time())
        head = n.to_bytes(32, "big")
        cp = Checkpoint(10 * n, head, ts / 1e6, key.kid, key.sign(checkpoint_payload(10 * n, head, ts)), n)
        client.submit(key.kid, cp, key.public_jwk)
    return key.kid, client


def _through(port: int, w: Witness) -> HttpWitness:
    return HttpWitness(f"http://127.0.0.1:{port}", parse_witness_key(w.key))


def test_forged_heads_answers_are_refused(tmp_path: Path, witness: Witness) -> None:
    kid, client = _submit_heads(witness, tmp_path / "log1", 3)
    other, _ = _submit_heads(witness, tmp_path / "log2", 2, start=7)
    got = client.heads(kid)
    assert [h.checkpoint.writer for h in got.heads] == [1, 2, 3]
    assert got.total == 3
    assert all(h.nonce == got.heads[0].nonce for h in got.heads)
    assert client.heads("A" * 43).heads == []  # a log it does not hold: a signed empty list
    # another witness's key pinned
    wrong = HttpWitness(witness.url, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(AuditError, match="does not verify"):
        wrong.heads(kid)
    replayed = httpx.get(f"{witness.url}/v1/logs/{kid}/heads?nonce={'n' * 32}", timeout=5).json()

    cases: list[tuple[Callable[[str, bytes], bytes | None], str]] = [
        # an answer recorded earlier (its nonce not the one sent now)
        (lambda path, raw: _http_answer("200 OK", replayed) if "/heads" in path else None, "nonce"),
        # another log's heads, freshly signed for this nonce by the real witness
        (_other_log(witness.url, kid, other, relabel=False), "not of the log"),
        (_other_log(witness.url, kid, other, relabel=True), "does not verify"),
        # a writer twice
        (_heads_doc(lambda d: {**d, "heads": [*d["heads"], d["heads"][0]], "total": 4}), "writer twice"),
        # a head dropped (the rolled-back writer's), with or without the total lowered
        (_heads_doc(lambda d: {**d, "heads": d["heads"][1:]}), "as a whole"),
        (_heads_doc(lambda d: {**d, "heads": d["heads"][1:], "total": 2}), "as a whole"),
        # more heads than a witness ever answers, and an answer larger than is read
        (_heads_doc(lambda d: {**d, "heads": d["heads"] * 100, "total": 300}), "size"),
        (_heads_doc(lambda d: {**d, "pad": "x" * (2 * 1024 * 1024)}), "larger than"),
    ]
    for edit, why in cases:
        port = free_port()
        stop, thread = _relay(port, witness.url, edit)
        try:
            with pytest.raises(AuditError, match=why):
                _through(port, witness).heads(kid)
        finally:
            stop.set()
            thread.join(10)
    # relayed untouched, the answer is fine
    port = free_port()
    stop, thread = _relay(port, witness.url, lambda path, raw: None)
    try:
        assert [h.checkpoint.writer for h in _through(port, witness).heads(kid).heads] == [1, 2, 3]
    finally:
        stop.set()
        thread.join(10)


def _other_log(url: str, kid: str, other: str, *, relabel: bool) -> Callable[[str, bytes], bytes | None]:
    """Ask the real witness about log ``other`` with the verifier's nonce; answer that (``relabel``:
    with the log id rewritten to the one asked about)."""

    def on(path: str, raw: bytes) -> bytes | None:
        if "/heads" not in path:
            return None
        doc = httpx.get(url + path.replace(kid, other), timeout=5).json()
        if relabel:
            doc["log"] = kid
            for h in doc["heads"]:
                h["log"] = kid
        return _http_answer("200 OK", doc)

    return on


def test_past_the_cap_the_witness_answers_its_latest_writers(tmp_path: Path, witness: Witness) -> None:
    kid, client = _submit_heads(witness, tmp_path, MAX_HEADS + 4)
    got = client.heads(kid)
    assert got.total == MAX_HEADS + 4
    assert len(got.heads) == MAX_HEADS
    # the heads with the highest seq: writers 5.. (writer n's head is at seq 10 n)
    assert [h.checkpoint.writer for h in got.heads] == list(range(5, MAX_HEADS + 5))
    latest = client.latest(kid)  # what an older verifier asks: still the highest
    assert latest is not None
    assert latest.checkpoint.writer == MAX_HEADS + 4


def _old_witness(path: str, raw: bytes) -> bytes | None:
    """A witness from before per-writer answers: no `heads` route (Starlette's plain 404)."""
    if "/heads" not in path:
        return None
    return b"HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 9\r\nconnection: close\r\n\r\nNot Found"


def test_an_older_witness_is_asked_for_its_latest_and_the_verifier_says_so(
    tmp_path: Path, witness: Witness, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    front = Witness(witness.dir, port, witness.key)  # the old witness's address (a relay to the real one)
    ws, _ = Workspace.init(tmp_path / "ws", config_text=_config(front))
    ws.config_path.write_text(_config(front, log=_log_id(ws)))
    stop, thread = _relay(port, witness.url, _old_witness)
    try:
        _writer(ws, None, range(8))
        _writer(ws, None, range(8, 14))
        r = _cli("audit", "verify", "--workspace", str(ws.root))
        assert r.returncode == 0, r.stderr
        assert "older `proctor witness serve`" in r.stdout.replace("\n", " ")
        with caplog.at_level(logging.WARNING, logger="proctor.app"):
            from proctor.store import open_store

            st = open_store(ws.settings().store_url, base_dir=ws.root, migrate=False)
            try:
                reports = [verify_audit_store(st, ws.keys_dir, settings=ws.settings()) for _ in range(2)]
            finally:
                st.close()
        assert all(rep.ok for rep in reports), [rep.problems for rep in reports]
        assert all(len(rep.notes) == 1 for rep in reports)
        said = [rec for rec in caplog.records if "older" in rec.getMessage()]
        assert len(said) == 1  # said once
    finally:
        stop.set()
        thread.join(10)


def test_the_witness_refuses_heads_without_a_fresh_nonce(witness: Witness) -> None:
    base = f"{witness.url}/v1/logs/{'A' * 43}/heads"
    assert httpx.get(base, timeout=5).status_code == 400
    assert httpx.get(base + "?nonce=short", timeout=5).status_code == 400
    assert httpx.get(base + "?nonce=" + "n" * 20, timeout=5).status_code == 200


def test_audit_verify_refuses_a_heads_answer_with_a_head_dropped(tmp_path: Path, witness: Witness) -> None:
    """Whoever answers in the witness's place drops the head of the writer it rolled back: the
    answer is not the witness's as a whole, and `audit verify` fails on it."""
    port = free_port()
    front = Witness(witness.dir, port, witness.key)
    ws = _workspace(tmp_path, front)
    stop, thread = _relay(port, witness.url, lambda path, raw: None)
    try:
        a = _writer(ws, None, range(8))
        _writer(ws, None, range(8, 14))
    finally:
        stop.set()
        thread.join(10)
    assert _cli("audit", "verify", "--workspace", str(ws.root)).returncode == 1  # no witness there now

    def drop(d: dict[str, Any]) -> dict[str, Any]:
        kept = [h for h in d["heads"] if h.get("writer") != a]
        assert len(kept) == len(d["heads"]) - 1
        return {**d, "heads": kept, "total": d["total"] - 1}

    stop, thread = _relay(port, witness.url, _heads_doc(drop))
    try:
        r = _cli("audit", "verify", "--workspace", str(ws.root))
        assert r.returncode == 1, r.stdout
        assert "witness_invalid" in r.stderr, r.stderr
        assert "as a whole" in r.stderr.replace("\n", " ")
    finally:
        stop.set()
        thread.join(10)
    stop, thread = _relay(port, witness.url, lambda path, raw: None)
    try:
        r = _cli("audit", "verify", "--workspace", str(ws.root))
        assert r.returncode == 0, r.stderr
    finally:
        stop.set()
        thread.join(10)
