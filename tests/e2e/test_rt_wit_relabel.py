"""Red team of the witness's per-writer heads (docs/adr/0036): a checkpoint's signature covers its
seq, head and time, not its ``writer``, and a witness takes checkpoints from anyone. Whoever can
reach the witness took writer B's newer checkpoint (``GET latest`` hands it out) and sent it again
labelled writer A: the witness made it A's head. A's real head was gone from the witness, so A's
tail could be rolled back unseen (and A's own next checkpoint was refused as a rollback, halting
it); labelled with made-up writer ids, it pushed the honest writers past ``MAX_HEADS``.
A (seq, head) is one writer's record for good (the head hash commits to the writer id): the
witness refuses it under another writer, and the verifier refuses a witnessed head whose record
in the store is another writer's."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.e2e.test_audit_witness_heads import (
    _anchor_heads,
    _sql,
    _verify,
    _workspace,
    _write_anchor,
    _writer,
)
from tests.e2e.test_audit_witness_heads import witness as _witness_fixture
from tests.e2e.test_audit_witness_http import Witness, _config, _log_id

from proctor.audit.key import load_or_create_audit_key
from proctor.audit.witness_http import HttpWitness, parse_witness_key

witness = _witness_fixture  # the heads tests' real `proctor witness serve`


def test_rt_wit_a_checkpoint_relabelled_to_another_writer_is_refused(
    tmp_path: Path, witness: Witness
) -> None:
    ws = _workspace(tmp_path, witness)
    old = tmp_path / "anchor-before.json"
    a = _writer(ws, None, range(20), keep=old)
    b = _writer(ws, None, range(20, 26))
    log_id = _log_id(ws)
    jwk = load_or_create_audit_key(ws.keys_dir).public_jwk
    base = f"{witness.url.rstrip('/')}/v1/logs/{log_id}"
    latest = httpx.get(f"{base}/latest", timeout=10).json()  # anyone may read it
    assert latest["writer"] == b
    fields = {k: latest[k] for k in ("seq", "head", "ts", "kid", "signature")}
    for forged in (a, 7777, 2**40):
        r = httpx.post(
            f"{base}/checkpoints", json={"log": log_id, **fields, "writer": forged, "key": jwk}, timeout=10
        )
        assert r.status_code == 400, (forged, r.status_code, r.text)
    client = HttpWitness(witness.url, parse_witness_key(witness.key))
    got = client.heads(log_id)
    writers = {h.checkpoint.writer for h in got.heads}
    assert {a, b} <= writers, writers
    assert not writers & {7777, 2**40}, writers
    a_now = next(h for h in got.heads if h.checkpoint.writer == a).checkpoint
    assert a_now.seq < latest["seq"]
    # A's tail rolled back in the store and in the anchor: the witness still holds A's real head
    a_then = next(h for h in _anchor_heads(old) if h.get("writer") == a)
    _sql(
        ws,
        None,
        ("DELETE FROM audit_records WHERE writer = ? AND seq > ?", (a, a_then["seq"])),
        ("DELETE FROM audit_checkpoints WHERE writer = ? AND seq > ?", (a, a_then["seq"])),
    )
    _write_anchor(
        ws, [a_then if h.get("writer") == a else h for h in _anchor_heads(ws.keys_dir / "audit-anchor.json")]
    )
    r = _verify(ws, None)
    assert r.returncode == 1, r.stdout
    assert "witness_rollback" in r.stderr, r.stderr


def test_rt_wit_a_witness_poisoned_before_the_fix_fails_verify(tmp_path: Path, witness: Witness) -> None:
    """A witness that took such a relabelled checkpoint before it refused them (its file holds it,
    countersigned): `audit verify` says writer A's head there is writer B's record."""
    import base64
    import json
    import time

    from proctor.audit.anchor import checkpoint_from_json
    from proctor.audit.witness_http import countersign_payload
    from proctor.audit.witness_server import load_or_create_witness_key

    ws = _workspace(tmp_path, witness)
    a = _writer(ws, None, range(8))
    b = _writer(ws, None, range(8, 14))
    assert _verify(ws, None).returncode == 0
    log_id = _log_id(ws)
    base = f"{witness.url.rstrip('/')}/v1/logs/{log_id}"
    latest = httpx.get(f"{base}/latest", timeout=10).json()
    assert latest["writer"] == b
    witness.stop()
    fields = {k: latest[k] for k in ("seq", "head", "ts", "kid", "signature")}
    cp = checkpoint_from_json(json.dumps({**fields, "writer": a}).encode())
    now = time.time()
    sig = load_or_create_witness_key(witness.dir).sign(countersign_payload(log_id, cp, now))
    line = {"log": log_id, **fields, "writer": a, "witnessed_at": now}
    line["countersignature"] = base64.b64encode(sig).decode()
    with (witness.dir / "logs" / f"{log_id}.jsonl").open("a") as fh:
        fh.write(json.dumps(line) + "\n")
    witness.start()
    r = _verify(ws, None)
    assert r.returncode == 1, r.stdout
    assert "witness_head_misattributed" in r.stderr, r.stderr
    assert f"as writer {a}'s head" in r.stderr.replace("\n", " "), r.stderr


def test_rt_wit_a_witness_that_answered_heads_cannot_be_made_to_look_old(
    tmp_path: Path, witness: Witness
) -> None:
    """A "no `heads` route" answer (a plain 404) is not signed: whatever answers at the witness's
    address made a witness that answered per-writer heads look like an older one, and `audit verify`
    fell back to `latest` (writer B's head), said so in a note and passed, while writer A's tail
    was rolled back. Once a witness answered `heads` to the workspace, that is refused."""
    from tests.e2e.gateway_harness import free_port
    from tests.e2e.test_audit_witness_heads import _old_witness, _relay

    from proctor.workspace import Workspace

    port = free_port()
    front = Witness(witness.dir, port, witness.key)  # the witness's address: a relay to it
    ws, _ = Workspace.init(tmp_path / "ws", config_text=_config(front))
    ws.config_path.write_text(_config(front, log=_log_id(ws)))
    downgrade = {"on": False}
    stop, thread = _relay(
        port, witness.url, lambda path, raw: _old_witness(path, raw) if downgrade["on"] else None
    )
    try:
        old = tmp_path / "anchor-before.json"
        a = _writer(ws, None, range(20), keep=old)
        _writer(ws, None, range(20, 26))
        r = _verify(ws, None)
        assert r.returncode == 0, r.stderr
        a_then = next(h for h in _anchor_heads(old) if h.get("writer") == a)
        _sql(
            ws,
            None,
            ("DELETE FROM audit_records WHERE writer = ? AND seq > ?", (a, a_then["seq"])),
            ("DELETE FROM audit_checkpoints WHERE writer = ? AND seq > ?", (a, a_then["seq"])),
        )
        _write_anchor(
            ws,
            [a_then if h.get("writer") == a else h for h in _anchor_heads(ws.keys_dir / "audit-anchor.json")],
        )
        downgrade["on"] = True
        r = _verify(ws, None)
        assert r.returncode == 1, r.stdout
        assert "downgrade" in r.stderr.replace("\n", " "), r.stderr
        # `proctor status` asks the witness too: it says so rather than taking `latest`
        from proctor.app import Proctor

        with Proctor.open(ws) as p:
            said = p.check_witnesses()
        assert "downgrade" in said.get(front.url, ""), said
    finally:
        stop.set()
        thread.join(10)
