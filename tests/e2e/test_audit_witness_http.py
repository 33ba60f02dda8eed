"""The audit trail's edges against a real witness service (issue 12.4, docs/adr/0020): a
`proctor witness serve` process countersigns every checkpoint; truncation with the anchor deleted
and a whole-workspace restore are caught; a witness that is down holds no call up and is caught up
later; a forged countersignature or another witness's key is refused; an edited `policy_versions`
row is tampering; a rollback under a running `proctor serve` stops checkpoints loudly until
`proctor audit recover` records the operator's decision."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor
from proctor.audit.anchor import read_anchor
from proctor.audit.chain import checkpoint_payload, to_micros
from proctor.audit.key import load_or_create_audit_key
from proctor.audit.witness_http import (
    HttpWitness,
    WitnessRefused,
    format_witness_key,
    parse_witness_key,
    recovery_payload,
)
from proctor.config import load_settings
from proctor.errors import AuditError, ConfigError
from proctor.store.base import Checkpoint
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent


@dataclass
class Witness:
    dir: Path
    port: int
    key: str
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                str(BIN / "proctor"),
                "witness",
                "serve",
                "--dir",
                str(self.dir),
                "--listen",
                f"127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/key", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                assert self.proc.poll() is None, "the witness exited"
                time.sleep(0.1)
        raise AssertionError("the witness did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[Witness]:
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


def _config(w: Witness, *, key: str | None = None, log: str | None = None, extra: str = "") -> str:
    return (
        "trust_domain: acme.test\n"
        "audit:\n"
        f"  witness: {w.url}\n"
        f"  witness_key: {key or w.key}\n"
        + ("" if log is None else f"  witness_log: {log}\n")
        + "  checkpoint_every: 5\n"
        f"{extra}"
    )


def _log_id(ws: Workspace) -> str:
    """The workspace's audit key's id (the key is made on first use): what `audit.witness_log` pins."""
    return load_or_create_audit_key(ws.keys_dir).kid


def _workspace(tmp_path: Path, w: Witness, *, pin: bool = True, **kw: str) -> tuple[Workspace, str]:
    ws, admin = Workspace.init(tmp_path / "ws", config_text=_config(w, **kw))
    if pin:
        ws.config_path.write_text(_config(w, log=_log_id(ws), **kw))
    return ws, admin


def _work(ws: Workspace, agents: range) -> int:
    with Proctor.open(ws) as p:
        for i in agents:
            p.agents.add(f"bot{i}", "o@acme.test")
        p.audit.flush()
        head = p.audit.head_seq
        assert p.audit_health()["reasons"] == [], p.audit_health()
    return head


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "proctor"), *args], capture_output=True, text=True, timeout=120, check=False
    )


def _verify(ws: Workspace, *extra: str) -> subprocess.CompletedProcess[str]:
    return _cli("audit", "verify", "--workspace", str(ws.root), *extra)


def _drop_guards(db: sqlite3.Connection) -> None:
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')


def _latest(w: Witness, ws: Workspace) -> dict[str, object]:
    with Proctor.open(ws) as p:
        log_id = p.audit_key.kid
    r = httpx.get(f"{w.url}/v1/logs/{log_id}/latest", timeout=5)
    assert r.status_code == 200, r.text
    doc: dict[str, object] = r.json()
    return doc


def test_truncation_with_the_anchor_deleted_is_caught_by_the_http_witness(
    tmp_path: Path, witness: Witness
) -> None:
    ws, _ = _workspace(tmp_path, witness)
    head = _work(ws, range(12))
    assert _verify(ws).returncode == 0
    assert _latest(witness, ws)["seq"] == head
    with sqlite3.connect(ws.root / "proctor.db") as db:
        _drop_guards(db)
        db.execute("DELETE FROM audit_records WHERE seq > ?", (head - 8,))
        db.execute("DELETE FROM audit_checkpoints")
    (ws.keys_dir / "audit-anchor.json").unlink()
    r = _verify(ws)
    assert r.returncode == 1, r.stdout
    assert "log_truncated" in r.stderr
    assert "went back" in r.stderr


def test_a_workspace_restored_from_an_old_copy_is_caught(tmp_path: Path, witness: Witness) -> None:
    ws, _ = _workspace(tmp_path, witness)
    _work(ws, range(6))
    backup = tmp_path / "backup"
    shutil.copytree(ws.root, backup)
    _work(ws, range(6, 20))
    shutil.rmtree(ws.root)
    shutil.copytree(backup, ws.root)
    r = _verify(ws)
    assert r.returncode == 1, r.stdout
    assert "TAMPERED" in r.stderr
    # a process on the restored workspace is refused by the witness: it stops signing, loudly
    with Proctor.open(ws) as p:
        for i in range(30, 40):
            p.agents.add(f"bot{i}", "o@acme.test")
        p.audit.flush()
        # the witness's refusal comes back on its sender's thread, not the audit writer's
        _until(lambda: "audit_rollback" in p.audit_health()["reasons"])
        signed = p.store.latest_checkpoint()
        p.agents.add("late", "o@acme.test")
        p.audit.flush()
        assert p.store.latest_checkpoint() == signed  # nothing signed since
    assert _verify(ws).returncode == 1


def test_a_forged_countersignature_or_another_witness_key_is_refused(
    tmp_path: Path, witness: Witness
) -> None:
    ws, _ = _workspace(tmp_path, witness)
    _work(ws, range(6))
    assert _verify(ws).returncode == 0
    # another witness's key pinned: its answers do not verify
    other = format_witness_key(Ed25519PrivateKey.generate().public_key())
    config = ws.root / "proctor.yaml"
    config.write_text(_config(witness, key=other, log=_log_id(ws)))
    r = _verify(ws)
    assert r.returncode == 1, r.stderr
    assert "countersignature" in r.stderr, r.stderr
    config.write_text(_config(witness, log=_log_id(ws)))
    assert _verify(ws).returncode == 0
    # the witness's log edited: a countersignature that is not the witness's
    witness.stop()
    (log_file,) = (witness.dir / "logs").glob("*.jsonl")
    lines = log_file.read_text().splitlines()
    last = json.loads(lines[-1])
    sig = bytearray(base64.b64decode(last["countersignature"]))
    sig[0] ^= 1
    last["countersignature"] = base64.b64encode(bytes(sig)).decode()
    log_file.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n")
    witness.start()
    r = _verify(ws)
    assert r.returncode == 1, r.stderr
    assert "countersignature" in r.stderr, r.stderr


def test_the_witness_refuses_a_rollback_unless_it_is_a_signed_recovery(
    tmp_path: Path, witness: Witness
) -> None:
    ws, _ = _workspace(tmp_path, witness)
    _work(ws, range(10))
    with Proctor.open(ws) as p:
        key, kid, jwk = p.audit_key, p.audit_key.kid, p.audit_key.public_jwk
        rows = list(p.store.iter_audit(0))
    client = HttpWitness(witness.url, parse_witness_key(witness.key))
    held = client.latest(kid)
    assert held is not None

    def cp_at(seq: int) -> Checkpoint:
        row = rows[seq - 1]
        ts = to_micros(time.time())
        return Checkpoint(
            seq, row.hash, ts / 1e6, kid, key.sign(checkpoint_payload(seq, row.hash, ts)), row.writer
        )

    old = cp_at(3)
    with pytest.raises(WitnessRefused):
        client.submit(kid, old, jwk)
    ts = to_micros(time.time())
    fork = bytes(32)  # another head at the seq the witness holds
    forked = Checkpoint(
        held.checkpoint.seq,
        fork,
        ts / 1e6,
        kid,
        key.sign(checkpoint_payload(held.checkpoint.seq, fork, ts)),
        held.checkpoint.writer,
    )
    with pytest.raises(WitnessRefused, match="rollback"):
        client.submit(kid, forked, jwk)
    stranger = Ed25519PrivateKey.generate()  # a key that is not the one the log id names
    ahead = Checkpoint(99, fork, ts / 1e6, kid, stranger.sign(checkpoint_payload(99, fork, ts)))
    with pytest.raises(AuditError, match="400"):
        client.submit(kid, ahead, jwk)
    from_head = bytes(held.checkpoint.head_hash).hex()
    forged = Ed25519PrivateKey.generate().sign(
        recovery_payload(kid, held.checkpoint.seq, from_head, old, "x")
    )
    bad = {"from_seq": held.checkpoint.seq, "from_head": from_head, "reason": "x"}
    with pytest.raises(WitnessRefused, match="not signed"):
        client.submit(kid, old, jwk, {**bad, "signature": base64.b64encode(forged).decode()})
    good = key.sign(recovery_payload(kid, held.checkpoint.seq, from_head, old, "x"))
    got = client.submit(kid, old, jwk, {**bad, "signature": base64.b64encode(good).decode()})
    assert got.checkpoint.seq == 3
    assert got.recovery is not None
    latest = client.latest(kid)
    assert latest is not None
    assert latest.checkpoint.seq == 3
    with pytest.raises(AuditError, match="countersignature"):  # a client pinning another key refuses it
        HttpWitness(witness.url, Ed25519PrivateKey.generate().public_key()).latest(kid)


def _raw_answer(port: int, request: bytes, seconds: float = 15) -> bytes:
    """Send ``request`` on a raw connection, keep it open, and return what the server answers
    within ``seconds`` (b"" when it answers nothing: it is still reading)."""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as s:
        s.sendall(request)
        try:
            return s.recv(4096)
        except TimeoutError:
            return b""


def test_the_witness_refuses_an_oversized_body_before_reading_it(witness: Witness) -> None:
    """A body over the limit is refused from its declared length, or once a streamed body passes
    the limit, not after the whole of it was read into memory (red team of issue 12.4)."""
    path = b"/v1/logs/abc/checkpoints"
    declared = b"POST %s HTTP/1.1\r\nhost: w\r\ncontent-length: 1000000000\r\n\r\n{" % path
    assert b" 413 " in _raw_answer(witness.port, declared)
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    streamed = b"POST %s HTTP/1.1\r\nhost: w\r\ntransfer-encoding: chunked\r\n\r\n" % path + chunk * 40
    assert b" 413 " in _raw_answer(witness.port, streamed)  # no final chunk: it never ends


def test_the_witness_refuses_json_nested_too_deeply_as_not_json(witness: Witness) -> None:
    """A checkpoint body nested deeper than the parser follows (within the size limit) is a 400
    `not JSON`, not a RecursionError answered 500."""
    body = b"[" * 8000 + b"]" * 8000
    path = b"/v1/logs/abc/checkpoints"
    head = b"POST %s HTTP/1.1\r\nhost: w\r\ncontent-type: application/json\r\n" % path
    answer = _raw_answer(witness.port, head + b"content-length: %d\r\n\r\n" % len(body) + body)
    assert b" 400 " in answer, answer[:200]  # (its body, `not JSON`, may come in a later segment)


def test_an_edited_policy_versions_row_is_tampering(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws) as p:
        p.agents.add("bot", "o@acme.test")
    assert _verify(ws, "--deep").returncode == 0
    with sqlite3.connect(ws.root / "proctor.db") as db:
        _drop_guards(db)
        (row_id, files) = db.execute("SELECT id, files FROM policy_versions ORDER BY id LIMIT 1").fetchone()
        edited = json.loads(files)
        name = sorted(edited)[0]
        edited[name] = edited[name] + "\n// permit everything\n"
        db.execute("UPDATE policy_versions SET files = ? WHERE id = ?", (json.dumps(edited), row_id))
    r = _verify(ws, "--deep")
    assert r.returncode == 1, r.stderr
    assert "policy_version_modified" in r.stderr, r.stderr
    with sqlite3.connect(ws.root / "proctor.db") as db:
        db.execute("UPDATE policy_versions SET files = ? WHERE id = ?", (files, row_id))
        db.execute(
            "INSERT INTO policy_versions (version, files, activated_at) VALUES (?, ?, ?)",
            ("sha256:0123456789abcdef0123456789abcdef", files, time.time()),
        )
    r = _verify(ws, "--deep")
    assert r.returncode == 1, r.stderr
    assert "policy_version_unrecorded" in r.stderr, r.stderr


# against a running `proctor serve` ----------------------------------------------------------------
def _serve(ws: Workspace) -> tuple[subprocess.Popen[bytes], httpx.Client, httpx.Client]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "proctor"), "serve", "--port", str(port), "--workspace", str(ws.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            assert proc.poll() is None, "proctor serve exited"
            time.sleep(0.1)
    return proc, httpx.Client(base_url=base, timeout=30), httpx.Client(base_url=base, timeout=30)


def _health(c: httpx.Client) -> dict[str, object]:
    doc: dict[str, object] = c.get("/healthz").json()
    return doc


def _until(check: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_a_witness_that_is_down_holds_no_call_up_and_is_caught_up(tmp_path: Path, witness: Witness) -> None:
    ws, admin = _workspace(tmp_path, witness)
    witness.stop()
    proc, c, _ = _serve(ws)
    try:
        auth = {"Authorization": f"Bearer {admin}"}
        for i in range(12):
            r = c.post("/v1/agents", json={"name": f"bot{i}", "owner": "o@acme.test"}, headers=auth)
            assert r.status_code in (200, 201), r.text
        _until(lambda: "witness_lagging" in _health(c)["reasons"])  # type: ignore[operator]
        assert _health(c)["status"] == "degraded"
        status = _cli("status", "--workspace", str(ws.root))
        assert status.returncode == 1, status.stdout
        assert "witness lagging" in status.stdout, status.stdout
        witness.start()
        _until(lambda: _health(c)["reasons"] == [])
        assert _health(c)["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    v = _verify(ws)
    assert v.returncode == 0, v.stderr


def test_a_rollback_under_a_running_process_stops_checkpoints_until_recovered(
    tmp_path: Path, witness: Witness
) -> None:
    ws, admin = _workspace(tmp_path, witness)
    auth = {"Authorization": f"Bearer {admin}"}
    proc, c, _ = _serve(ws)
    db_path = ws.root / "proctor.db"
    old = tmp_path / "old.db"
    try:
        for i in range(6):
            assert c.post(
                "/v1/agents", json={"name": f"a{i}", "owner": "o@acme.test"}, headers=auth
            ).is_success
        with sqlite3.connect(db_path) as live, sqlite3.connect(old) as copy:
            live.backup(copy)  # the backup an operator (or an attacker) restores later
        for i in range(20):
            assert c.post(
                "/v1/agents", json={"name": f"b{i}", "owner": "o@acme.test"}, headers=auth
            ).is_success
        _until((ws.keys_dir / "audit-anchor.json").exists)
        held = read_anchor(ws.keys_dir)  # the latest head of any writer (docs/adr/0036)
        assert held is not None
        anchored = held.seq
        with sqlite3.connect(old) as copy, sqlite3.connect(db_path) as live:
            copy.backup(live)  # the database goes back under the running process
        for i in range(10):  # calls are still answered
            assert c.post(
                "/v1/agents", json={"name": f"c{i}", "owner": "o@acme.test"}, headers=auth
            ).is_success
        _until(lambda: "audit_rollback" in _health(c)["reasons"])  # type: ignore[operator]
        health = _health(c)
        assert health["status"] == "degraded"
        with sqlite3.connect(db_path) as db:
            (top,) = db.execute("SELECT MAX(seq) FROM audit_checkpoints").fetchone()
        assert top < anchored  # no checkpoint signed over the rolled-back log
        v = _verify(ws)
        assert v.returncode == 1, v.stderr
        assert "audit recover" in v.stderr, v.stderr
        status = _cli("status", "--workspace", str(ws.root))
        assert status.returncode == 1, status.stdout
        assert "ROLLBACK" in status.stdout, status.stdout

        r = _cli(
            "audit",
            "recover",
            "--reason",
            "restored last night's backup after a disk failure",
            "--workspace",
            str(ws.root),
        )
        assert r.returncode == 0, r.stderr + r.stdout
        latest = _latest(witness, ws)
        assert latest.get("recovery") is not None  # the witness took it as a recovery
        _until(lambda: _health(c)["reasons"] == [])  # the running process signs again
        for i in range(10):
            assert c.post(
                "/v1/agents", json={"name": f"d{i}", "owner": "o@acme.test"}, headers=auth
            ).is_success
        _until(lambda: int(_latest(witness, ws)["seq"]) > int(latest["seq"]))  # type: ignore[call-overload]
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    r = _verify(ws)
    assert r.returncode == 0, r.stderr
    said = " ".join(r.stdout.split())  # the console wraps long lines
    assert "recovered at record" in said, said
    assert "after a disk failure" in said, said


def test_a_witness_that_hangs_never_holds_the_audit_writer(tmp_path: Path, witness: Witness) -> None:
    """A witness that takes connections but does not answer (stopped, overloaded, a network that
    drops packets) costs each send its full timeout. That wait is the witness sender's, never the
    audit writer's: records keep being committed at once, the store's breaker stays closed and
    calls are not refused (red team of issue 12.4 with issue 12.2's bound: `store_timeout: 1s`
    is shorter than a witness send's 2 s)."""
    ws, _ = _workspace(tmp_path, witness, extra="store_timeout: 1s\n")
    assert witness.proc is not None
    witness.proc.send_signal(signal.SIGSTOP)  # the kernel still accepts its connections
    try:
        with Proctor.open(ws) as p:

            async def records() -> None:
                for i in range(20):  # checkpoint_every: 5, so a few checkpoints are sent
                    await p.audit.append_async("agent.added", {"name": f"bot{i}", "owner": "o@acme.test"})

            asyncio.run(records())
            assert p.store_guard.down is None
            _until(lambda: bool(p.audit_health()["witness_lagging"]))
    finally:
        witness.proc.send_signal(signal.SIGCONT)


def test_a_witness_restarts_after_an_append_cut_short(tmp_path: Path, witness: Witness) -> None:
    """A crash in the middle of an append leaves a partial last line, never acknowledged: the
    witness starts again, holds the entry before it and appends after it cleanly (red team)."""
    ws, _ = _workspace(tmp_path, witness)
    _work(ws, range(6))
    held = _latest(witness, ws)
    witness.stop()
    (log_file,) = (witness.dir / "logs").glob("*.jsonl")
    with open(log_file, "ab") as fh:
        fh.write(b'{"log":"')  # the start of an entry, then the crash
    witness.start()
    assert _latest(witness, ws) == held
    _work(ws, range(6, 12))
    witness.stop()
    witness.start()  # every line it wrote since is whole
    assert int(_latest(witness, ws)["seq"]) > int(held["seq"])  # type: ignore[call-overload]


def test_witness_settings_are_checked(tmp_path: Path) -> None:
    """A witness service needs its key pinned (no trust on first use) and TLS beyond the loopback;
    file and URL witnesses may be listed together."""
    key = format_witness_key(Ed25519PrivateKey.generate().public_key())
    outside = tmp_path / "elsewhere" / "w.jsonl"

    def load(audit: str) -> object:
        path = tmp_path / "ws" / "proctor.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text("trust_domain: acme.test\naudit:\n" + audit)
        return load_settings(path, env={})

    with pytest.raises(ConfigError, match="pin the key"):
        load("  witness: http://127.0.0.1:9/\n")
    with pytest.raises(ConfigError, match=r"only to 127\.0\.0\.1 or localhost"):
        load(f"  witness: http://witness.example:80\n  witness_key: {key}\n")
    with pytest.raises(ConfigError, match="witness key"):
        load("  witness: https://witness.example\n  witness_key: not-a-key\n")
    s = load(f"  witness: [{outside}, 'https://w.example/']\n  witness_key: {key}\n")
    assert s.audit_witnesses == (str(outside), "https://w.example")  # type: ignore[attr-defined]
    assert s.audit_witness_keys == {"https://w.example": key}  # type: ignore[attr-defined]


def test_a_rollback_on_postgresql_halts_signing_until_recovered(tmp_path: Path, pg_fresh_url: str) -> None:
    """The same on PostgreSQL, in-process: the log cut under the process halts signing; the recovery
    resumes it and verifies, deep (policy_versions included), and an edited row is still caught."""
    import psycopg

    ws, _ = Workspace.init(
        tmp_path / "ws", config_text="trust_domain: acme.test\naudit: {checkpoint_every: 5}\n"
    )
    p = Proctor.open(ws, store_url=pg_fresh_url)
    try:
        for i in range(12):
            p.agents.add(f"bot{i}", "o@acme.test")
        p.audit.flush()
        top = p.store.latest_checkpoint()
        assert top is not None
        with psycopg.connect(pg_fresh_url, autocommit=True) as db:
            db.execute("ALTER TABLE audit_records DISABLE TRIGGER USER")
            db.execute("DELETE FROM audit_records WHERE seq > %s", (top.seq - 6,))
            db.execute("DELETE FROM audit_checkpoints WHERE seq > %s", (top.seq - 6,))
            db.execute("ALTER TABLE audit_records ENABLE TRIGGER USER")
        p.agents.add("after", "o@acme.test")
        assert p.audit_health()["reasons"] == ["audit_rollback"]
        p.audit.flush()
        latest = p.store.latest_checkpoint()
        assert latest is not None
        assert latest.seq <= top.seq - 6  # nothing signed over the cut log
        assert not p.verify_audit().ok
        p.recover_audit("replica promoted after the primary was lost", "tester")
        assert p.audit_health()["reasons"] == []
        report = p.verify_audit(deep=True)
        assert report.ok, report.problems
        assert [r["reason"] for r in report.recoveries] == ["replica promoted after the primary was lost"]
        with psycopg.connect(pg_fresh_url, autocommit=True) as db:
            db.execute(
                "UPDATE policy_versions SET files = %s",
                (json.dumps({"x.cedar": "permit(principal, action, resource);"}),),
            )
        codes = [prob.code for prob in p.verify_audit(deep=True).problems]
        assert "policy_version_modified" in codes
    finally:
        p.close()


def test_an_endless_answer_from_a_witness_is_not_buffered(tmp_path: Path) -> None:
    """Whatever answers at a witness's address (a compromised witness, another service on its port)
    cannot make Proctor read an endless answer into memory (red team of issue 12.4)."""
    sent = 0
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        nonlocal sent
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\n\r\n"
            )
            block = b" " * 65536
            try:
                while sent < 200 * 1024 * 1024:
                    conn.sendall(block)
                    sent += len(block)
            except OSError:
                pass  # the client hung up

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    client = HttpWitness(f"http://127.0.0.1:{port}", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(AuditError):
        client.latest("abc")
    server.join(30)
    listener.close()
    assert sent < 16 * 1024 * 1024, sent


def _replace_audit_key(ws: Workspace) -> None:
    """The red team's key swap: the audit key file, its `signing_keys` row, the anchor and the
    stored checkpoints deleted, so that Proctor makes a new key, i.e. a new (empty) log at the witness."""
    (ws.keys_dir / "audit-ed25519.pem").unlink()
    (ws.keys_dir / "audit-anchor.json").unlink()
    with sqlite3.connect(ws.root / "proctor.db") as db:
        _drop_guards(db)
        db.execute("DELETE FROM signing_keys WHERE use = 'audit'")
        db.execute("DELETE FROM audit_checkpoints")


def test_a_replaced_audit_key_is_caught_by_the_pinned_log_id(tmp_path: Path, witness: Witness) -> None:
    """`audit.witness_log` pins the log (the audit key's id): a process with another audit key signs
    nothing (loudly) and cannot recover, and `audit verify` refuses it. Unpinned, verify asks for
    the pin and `proctor status` prints the id to pin."""
    ws, _ = _workspace(tmp_path, witness)
    old = _log_id(ws)
    _work(ws, range(6))
    assert _verify(ws).returncode == 0
    _replace_audit_key(ws)
    with Proctor.open(ws) as p:
        assert p.audit_key.kid != old
        assert p.audit_health()["reasons"] == ["audit_rollback"]
        for i in range(10, 20):
            p.agents.add(f"bot{i}", "o@acme.test")
        p.audit.flush()
        assert p.store.latest_checkpoint() is None  # nothing signed by the new key
        with pytest.raises(AuditError, match="witness_log"):
            p.recover_audit("start over", "tester")
        p.audit.resume()  # what a recovery record (forged with the new key) would lead to
        assert p.audit_health()["reasons"] == ["audit_rollback"]
    r = _verify(ws)
    assert r.returncode == 1, r.stdout
    assert "witness_log_mismatch" in r.stderr, r.stderr
    # unpinned: verify fails, naming the line to add; status prints the current log id
    ws.config_path.write_text(_config(witness))
    r = _verify(ws)
    assert r.returncode == 1
    assert "witness_log_unpinned" in r.stderr
    assert _log_id(ws) in r.stderr.replace("\n", "")
    status = _cli("status", "--workspace", str(ws.root), "--json")
    assert json.loads(status.stdout)["audit"]["log_id"] == _log_id(ws)


def _fake_witness(port: int, answer: bytes) -> tuple[threading.Event, threading.Thread]:
    """Whoever answers at the witness's address: `answer` (a whole HTTP response) to every request."""
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
                        conn.recv(65536)
                        conn.sendall(answer)
                    except OSError:
                        pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return stop, thread


def _http_answer(status: str, doc: object) -> bytes:
    body = json.dumps(doc).encode()
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
    return head.encode() + body


def test_a_replayed_or_unsigned_latest_answer_is_refused(tmp_path: Path, witness: Witness) -> None:
    """`audit verify` sends a fresh nonce: an old countersigned answer replayed by whatever answers
    at the witness's address, or an unsigned "none", is refused; the real witness signs both."""
    ws, _ = _workspace(tmp_path, witness)
    head = _work(ws, range(6))
    old = _latest(witness, ws)  # a genuine countersigned answer, recorded now
    _work(ws, range(6, 20))
    client = HttpWitness(witness.url, parse_witness_key(witness.key))
    got = client.latest(_log_id(ws))
    assert got is not None
    assert got.nonce is not None
    assert got.checkpoint.seq > head
    assert client.latest("A" * 43) is None  # a signed "none" for a log it does not hold
    # the whole workspace restored from the copy the old answer matches, the witness replaced by a replayer
    with sqlite3.connect(ws.root / "proctor.db") as db:
        _drop_guards(db)
        db.execute("DELETE FROM audit_records WHERE seq > ?", (head,))
        db.execute("DELETE FROM audit_checkpoints WHERE seq > ?", (head,))
    anchor = ws.keys_dir / "audit-anchor.json"
    doc = json.loads(anchor.read_text())
    doc.update({k: old[k] for k in ("seq", "head", "ts", "kid", "signature")})
    anchor.write_text(json.dumps(doc))
    witness.stop()
    stop, thread = _fake_witness(witness.port, _http_answer("200 OK", old))
    try:
        r = _verify(ws)
        assert r.returncode == 1, r.stdout
        assert "nonce" in r.stderr, r.stderr
    finally:
        stop.set()
        thread.join(10)
    # stored checkpoints and anchor gone too, and an unsigned "none" at the witness's address
    anchor.unlink()
    with sqlite3.connect(ws.root / "proctor.db") as db:
        db.execute("DELETE FROM audit_checkpoints")
    stop, thread = _fake_witness(witness.port, _http_answer("404 Not Found", {"error": "no checkpoint"}))
    try:
        r = _verify(ws)
        assert r.returncode == 1, r.stdout
        assert "nonce" in r.stderr, r.stderr
    finally:
        stop.set()
        thread.join(10)


def test_a_witness_that_trickles_its_answer_is_cut_off_at_the_deadline(tmp_path: Path) -> None:
    """A byte at a time, each within the per-read timeout: the whole exchange is still bounded."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                for byte in b"HTTP/1.1 200 OK\r\n" + b"x-slow: " + b"a" * 10_000:
                    if stop.wait(0.3):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                pass  # the client hung up

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    outcome: list[BaseException | None] = []

    def ask() -> None:
        try:
            HttpWitness(f"http://127.0.0.1:{port}", Ed25519PrivateKey.generate().public_key()).latest("abc")
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(60)
    stop.set()
    server.join(10)
    listener.close()
    assert outcome, "the exchange was not bounded"
    assert isinstance(outcome[0], AuditError)
    assert "did not answer within" in outcome[0].message


def test_the_witness_is_asked_directly_whatever_http_proxy_says(tmp_path: Path, witness: Witness) -> None:
    ws, _ = _workspace(tmp_path, witness)
    _work(ws, range(6))
    dead = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "HTTP_PROXY": dead, "http_proxy": dead, "ALL_PROXY": dead, "NO_PROXY": ""}
    r = subprocess.run(
        [str(BIN / "proctor"), "audit", "verify", "--workspace", str(ws.root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert r.returncode == 0, r.stderr


def test_the_witness_keeps_a_head_per_writer(tmp_path: Path, witness: Witness) -> None:
    """Several writers send checkpoints of one log (docs/adr/0036): a writer's head below another
    writer's is no rollback; a writer's own head going back is."""
    key = load_or_create_audit_key(tmp_path, None, time.time())
    kid, jwk = key.kid, key.public_jwk
    client = HttpWitness(witness.url, parse_witness_key(witness.key))

    def cp(seq: int, writer: int, head: bytes) -> Checkpoint:
        ts = to_micros(time.time())
        return Checkpoint(seq, head, ts / 1e6, kid, key.sign(checkpoint_payload(seq, head, ts)), writer)

    client.submit(kid, cp(10, 1, b"\1" * 32), jwk)
    got = client.submit(kid, cp(7, 2, b"\2" * 32), jwk)  # writer 2's head, below writer 1's
    assert (got.checkpoint.seq, got.checkpoint.writer) == (7, 2)
    latest = client.latest(kid)
    assert latest is not None
    assert latest.checkpoint.seq == 10  # the latest is still the highest
    with pytest.raises(WitnessRefused, match="rollback"):
        client.submit(kid, cp(5, 2, b"\3" * 32), jwk)  # writer 2 going back
    witness.stop()
    witness.start()  # the heads survive a restart
    with pytest.raises(WitnessRefused, match="rollback"):
        client.submit(kid, cp(6, 2, b"\4" * 32), jwk)
    client.submit(kid, cp(8, 2, b"\5" * 32), jwk)
