"""``proctor witness serve``: the witness service (see :mod:`proctor.audit.witness_http`).

Its directory holds its own key (``witness-ed25519.pem``, 0600) and one append-only file per log
(``logs/<log id>.jsonl``): each accepted checkpoint is one line, fsynced before it is
countersigned. The latest line of each log is what ``GET /v1/logs/<id>/latest`` answers;
``GET /v1/logs/<id>/heads?nonce=`` answers the latest line of each writer of the log (docs/adr/0036):
at most ``MAX_HEADS`` (those with the highest seq) with the number of writers held, each head and
the list as a whole signed over the verifier's nonce.

``POST /v1/logs/<id>/checkpoints`` takes a checkpoint with the log's public key (a JWK whose
thumbprint is the log id) and accepts it when its signature verifies and it does not take the
log backwards: a higher seq, or the same seq and head (answered again, not stored twice). A lower
seq, or another head at the held seq, is a rollback: 409, unless the checkpoint carries a
``recovery`` signed by the audit key that names the checkpoint the witness holds.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from proctor.audit.anchor import checkpoint_from_json
from proctor.audit.chain import checkpoint_payload, to_micros
from proctor.audit.witness_http import (
    LOG_ID,
    MAX_HEADS,
    NONCE,
    Countersigned,
    countersign_payload,
    format_witness_key,
    heads_payload,
    none_payload,
    recovery_payload,
)
from proctor.errors import AuditError, ValidationError

log = logging.getLogger(__name__)

KEY_FILE = "witness-ed25519.pem"
MAX_BODY = 16 * 1024


def load_or_create_witness_key(folder: Path) -> Ed25519PrivateKey:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / KEY_FILE
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        return key
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"`{path}` is not an Ed25519 key")
    return key


class WitnessStore:
    """The logs a witness holds: append-only files, the latest entry of each kept in memory."""

    def __init__(self, folder: Path, clock: Any = time.time) -> None:
        self.folder = Path(folder)
        self.key = load_or_create_witness_key(self.folder)
        self.logs = self.folder / "logs"
        self.logs.mkdir(exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._latest: dict[str, Countersigned] = {}
        #: the latest checkpoint of each writer's chain of each log (docs/adr/0036): a rollback is
        #: a writer's head going back, not one writer's head below another's
        self._heads: dict[tuple[str, int], Countersigned] = {}
        #: whose record each head accepted is (log, head hash -> writer): a checkpoint's signature
        #: does not cover its ``writer``, but its head hash commits to it (proctor.audit.chain), so a
        #: head is one writer's for good; sent again under another writer it is refused
        self._owner: dict[tuple[str, str], int] = {}
        self._clock = clock
        for path in self.logs.glob("*.jsonl"):
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                # an append cut short (a crash, a full disk): it was never fsynced whole, so never
                # countersigned or answered; cut it off, else the next entry would be glued to it
                kept = data.rfind(b"\n") + 1
                log.warning(
                    "witness: %s ends with an incomplete entry (%d bytes), cut off", path, len(data) - kept
                )
                os.truncate(path, kept)
                data = data[:kept]
            lines = [ln for ln in data.split(b"\n") if ln.strip()]
            for line in lines:
                entry = Countersigned.from_doc(json.loads(line))
                self._heads[(path.stem, entry.checkpoint.writer)] = entry
                self._owner.setdefault(
                    (path.stem, bytes(entry.checkpoint.head_hash).hex()), entry.checkpoint.writer
                )
            if lines:
                self._latest[path.stem] = Countersigned.from_doc(json.loads(lines[-1]))

    @property
    def public_key_text(self) -> str:
        return format_witness_key(self.key.public_key())

    def latest(self, log_id: str) -> Countersigned | None:
        with self._lock:
            return self._latest.get(log_id)

    def fresh(self, log_id: str, nonce: str) -> tuple[Countersigned | None, dict[str, Any]]:
        """The answer to a verifier's ``latest`` with its ``nonce``: the latest entry countersigned
        again over the nonce, or a signed "none" when this witness holds no checkpoint of the log."""
        entry = self.latest(log_id)
        if entry is None:
            sig = self.key.sign(none_payload(log_id, nonce))
            doc = {
                "log": log_id,
                "none": True,
                "nonce": nonce,
                "countersignature": base64.b64encode(sig).decode(),
            }
            return None, doc
        sig = self.key.sign(countersign_payload(log_id, entry.checkpoint, entry.witnessed_at, nonce))
        fresh = Countersigned(
            log_id, entry.checkpoint, entry.witnessed_at, entry.countersignature, entry.recovery, nonce, sig
        )
        return fresh, fresh.doc()

    def fresh_heads(self, log_id: str, nonce: str) -> dict[str, Any]:
        """The answer to a verifier's ``heads`` with its ``nonce``: the latest entry of each writer
        of the log (at most ``MAX_HEADS``: those with the highest seq, by writer), each countersigned
        again over the nonce, ``total`` the writers held, and a signature over the whole list."""
        with self._lock:
            held = [e for (lid, _), e in self._heads.items() if lid == log_id]
        total = len(held)
        held = sorted(held, key=lambda e: e.checkpoint.seq, reverse=True)[:MAX_HEADS]
        held.sort(key=lambda e: e.checkpoint.writer)
        heads = []
        for e in held:
            sig = self.key.sign(countersign_payload(log_id, e.checkpoint, e.witnessed_at, nonce))
            heads.append(
                Countersigned(
                    log_id, e.checkpoint, e.witnessed_at, e.countersignature, e.recovery, nonce, sig
                )
            )
        whole = self.key.sign(heads_payload(log_id, nonce, [h.checkpoint for h in heads], total))
        return {
            "log": log_id,
            "nonce": nonce,
            "total": total,
            "heads": [h.doc() for h in heads],
            "signature": base64.b64encode(whole).decode(),
        }

    def accept(self, log_id: str, doc: Any) -> Countersigned:
        """Countersign and store the checkpoint ``doc`` sends; ValueError (bad request) or
        PermissionError (a rollback) when it is refused."""
        from proctor.crypto.jose import ed25519_public_from_jwk, jwk_thumbprint

        if not LOG_ID.fullmatch(log_id) or not isinstance(doc, dict):
            raise ValueError("a checkpoint is a JSON object sent to /v1/logs/<log id>/checkpoints")
        try:
            cp = checkpoint_from_json(
                json.dumps(
                    {k: doc.get(k) for k in ("seq", "head", "ts", "kid", "signature", "writer") if k in doc}
                ).encode()
            )
            jwk = doc["key"]
            if not isinstance(jwk, dict):
                raise ValueError("key")
            key = ed25519_public_from_jwk(jwk)
            thumb = jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]})
        except (ValueError, KeyError, TypeError, ValidationError):
            raise ValueError("not a checkpoint with its log's public key (`key`, an Ed25519 JWK)") from None
        if thumb != log_id or cp.kid != log_id:
            raise ValueError("the log id is the thumbprint of the key that signs its checkpoints")
        try:
            key.verify(bytes(cp.signature), checkpoint_payload(cp.seq, bytes(cp.head_hash), to_micros(cp.ts)))
        except (InvalidSignature, ValueError, OverflowError):
            raise ValueError("the checkpoint's signature does not verify with the log's key") from None
        recovery = doc.get("recovery")
        with self._lock:
            held = self._latest.get(log_id)
            mine = self._heads.get((log_id, cp.writer))
            head = bytes(cp.head_hash).hex()
            owner = self._owner.get((log_id, head))
            if owner is not None and owner != cp.writer:
                raise ValueError(
                    f"checkpoint {cp.seq} (head {head[:16]}…) is writer {owner}'s, not writer"
                    f" {cp.writer}'s: a head is the record of one writer (its signature does not"
                    " name the writer, its hash does)"
                )
            if recovery is not None:
                stored_recovery = self._check_recovery(log_id, cp, key, recovery, held)
            else:
                stored_recovery = None
                if mine is not None:
                    hc = mine.checkpoint
                    if cp.seq == hc.seq and cp.head_hash == hc.head_hash:
                        return mine
                    if cp.seq < hc.seq or (cp.seq == hc.seq and cp.head_hash != hc.head_hash):
                        raise PermissionError(
                            f"rollback: this witness holds checkpoint {hc.seq} (head"
                            f" {bytes(hc.head_hash).hex()[:16]}…) and was sent {cp.seq} (head {head[:16]}…);"
                            " after deciding what happened, run `proctor audit recover --reason ...`"
                        )
            now = float(self._clock())
            sig = self.key.sign(countersign_payload(log_id, cp, now))
            entry = Countersigned(log_id, cp, now, sig, stored_recovery)
            self._append(log_id, entry)
            if stored_recovery is not None:  # the operator's decision: every head starts again from it
                for k in [k for k in self._heads if k[0] == log_id]:
                    del self._heads[k]
            self._heads[(log_id, cp.writer)] = entry
            self._owner.setdefault((log_id, head), cp.writer)
            if held is None or stored_recovery is not None or cp.seq >= held.checkpoint.seq:
                self._latest[log_id] = entry
            if stored_recovery is not None:
                log.warning(
                    "witness: log %s recovered to checkpoint %d: %s",
                    log_id,
                    cp.seq,
                    stored_recovery["reason"],
                )
            return entry

    @staticmethod
    def _check_recovery(
        log_id: str, cp: Any, key: Any, recovery: Any, held: Countersigned | None
    ) -> dict[str, Any]:
        if not isinstance(recovery, dict):
            raise ValueError("`recovery` is an object")
        reason, from_seq, from_head = (
            recovery.get("reason"),
            recovery.get("from_seq"),
            recovery.get("from_head"),
        )
        if (
            not isinstance(reason, str)
            or not reason.strip()
            or type(from_seq) is not int
            or not isinstance(from_head, str)
        ):
            raise ValueError("a recovery names from_seq, from_head and a reason")
        if (
            held is None
            or held.checkpoint.seq != from_seq
            or bytes(held.checkpoint.head_hash).hex() != from_head
        ):
            raise PermissionError("a recovery must name the checkpoint this witness holds for the log")
        try:
            sig = base64.b64decode(str(recovery.get("signature")), validate=True)
            key.verify(sig, recovery_payload(log_id, from_seq, from_head, cp, reason))
        except (InvalidSignature, ValueError, TypeError):
            raise PermissionError("the recovery is not signed by the log's audit key") from None
        return {
            "from_seq": from_seq,
            "from_head": from_head,
            "reason": reason[:2000],
            "signature": recovery["signature"],
        }

    def _append(self, log_id: str, entry: Countersigned) -> None:
        line = json.dumps(entry.doc(), separators=(",", ":")) + "\n"
        fd = os.open(self.logs / f"{log_id}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)


def create_witness_app(store: WitnessStore) -> Starlette:
    from starlette.concurrency import run_in_threadpool

    async def post_checkpoint(request: Request) -> JSONResponse:
        # bounded before it is read: a declared length over the limit is refused at once, and a
        # body streamed without one is read only up to the limit (never buffered whole)
        too_large = JSONResponse({"error": f"body too large (at most {MAX_BODY} bytes)"}, status_code=413)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            return too_large
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                return too_large
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):  # nested deeper than the parser follows: not JSON here
            return JSONResponse({"error": "not JSON"}, status_code=400)
        try:
            entry = await run_in_threadpool(store.accept, request.path_params["log"], doc)
        except PermissionError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(entry.doc())

    async def latest(request: Request) -> JSONResponse:
        nonce = request.query_params.get("nonce")
        if nonce is not None:
            log_id = request.path_params["log"]
            if not NONCE.fullmatch(nonce) or not LOG_ID.fullmatch(log_id):
                return JSONResponse(
                    {"error": "a nonce is 16 to 128 characters of [A-Za-z0-9_-]"}, status_code=400
                )
            entry, doc = store.fresh(log_id, nonce)
            return JSONResponse(doc, status_code=404 if entry is None else 200)
        entry = store.latest(request.path_params["log"])
        if entry is None:
            return JSONResponse({"error": "no checkpoint for this log"}, status_code=404)
        return JSONResponse(entry.doc())

    async def heads(request: Request) -> JSONResponse:
        nonce, log_id = request.query_params.get("nonce"), request.path_params["log"]
        if nonce is None or not NONCE.fullmatch(nonce) or not LOG_ID.fullmatch(log_id):
            return JSONResponse(
                {"error": "`heads` takes a nonce: 16 to 128 characters of [A-Za-z0-9_-]"}, status_code=400
            )
        return JSONResponse(await run_in_threadpool(store.fresh_heads, log_id, nonce))

    async def key(request: Request) -> JSONResponse:
        return JSONResponse({"key": store.public_key_text})

    return Starlette(
        routes=[
            Route("/v1/logs/{log}/checkpoints", post_checkpoint, methods=["POST"]),
            Route("/v1/logs/{log}/latest", latest, methods=["GET"]),
            Route("/v1/logs/{log}/heads", heads, methods=["GET"]),
            Route("/v1/key", key, methods=["GET"]),
        ]
    )


def run_witness(folder: Path, listen: str, announce: Any = print) -> None:
    import uvicorn

    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ValidationError("--listen is HOST:PORT, e.g. 127.0.0.1:8471")
    store = WitnessStore(folder)
    announce(f"witness key: {store.public_key_text}")
    uvicorn.run(
        create_witness_app(store),
        host=host.strip("[]"),
        port=int(port),
        log_level="warning",
        server_header=False,
    )


__all__ = ["KEY_FILE", "WitnessStore", "create_witness_app", "run_witness"]
