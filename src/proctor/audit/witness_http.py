"""A witness service that countersigns checkpoints (issue 12.4, docs/adr/0020).

``proctor witness serve`` keeps, per log, an append-only file of the checkpoints it received and
answers each with its own Ed25519 signature over (log id, seq, head, checkpoint time, time
witnessed). It refuses a checkpoint that would take its log backwards (a lower seq than one it
holds, or another head at the same seq) unless the checkpoint is marked as a **recovery** signed
by the log's own audit key and names the checkpoint the witness holds (``proctor audit recover``).

The log id is the audit key's id (its RFC 7638 thumbprint): the witness checks each checkpoint's
signature with the public key sent alongside, and that this key is the one the log id names. So a
witness needs no registration, and nobody without the audit key can advance or recover a log.

A verifier asks ``GET /v1/logs/<id>/heads?nonce=`` for the latest checkpoint of every writer of
the log (docs/adr/0036; at most ``MAX_HEADS``), or ``latest`` from an older witness.

This module holds what both sides share: the payloads signed, the client (:class:`HttpWitness`)
and the pinned witness key's text form (``ed25519:<base64url of the 32 raw bytes>``).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import hashlib
import ipaddress
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from proctor.audit.anchor import checkpoint_doc, checkpoint_from_json
from proctor.audit.chain import to_micros
from proctor.bounded import IDENTITY, AnswerRefused, aread_capped, encoded, loads
from proctor.canonical import canonical_json
from proctor.errors import AuditError, ValidationError, WitnessAnswerRefused
from proctor.store.base import Checkpoint

COUNTERSIGN_DOMAIN = b"proctor-witness-countersign-v1\x00"
#: what a witness signs to say it holds no checkpoint of a log, for the verifier's nonce
NONE_DOMAIN = b"proctor-witness-none-v1\x00"
RECOVERY_DOMAIN = b"proctor-audit-recovery-v1\x00"
KEY_PREFIX = "ed25519:"
LOG_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
#: a send or a fetch never waits longer than this for any one step (connect, a read, a write)
TIMEOUT_S = 2.0
#: nor longer than this in all: a witness (or whatever answers in its place) that trickles its
#: answer a byte at a time, each within ``TIMEOUT_S``, is cut off here and counts as lagging
DEADLINE_S = 5.0
#: a verifier's nonce: what ``GET .../latest?nonce=`` takes
NONCE = re.compile(r"[A-Za-z0-9_-]{16,128}")
#: the most of a witness's answer that is read (a countersigned checkpoint is a few hundred bytes)
MAX_ANSWER = 64 * 1024
#: what a witness signs over the whole of a ``heads`` answer: the log, the nonce, how many writers
#: it holds and the (writer, seq, head) of each head it returns (none can be dropped or added)
HEADS_DOMAIN = b"proctor-witness-heads-v1\x00"
#: the most heads one ``heads`` answer holds: a witness holding more writers of a log answers the
#: ``MAX_HEADS`` with the highest seq (the latest writers) and says how many it holds (``total``);
#: the verifier checks the others against the anchor and file witnesses only, and says so
MAX_HEADS = 256
#: the most of a ``heads`` answer that is read (``MAX_HEADS`` countersigned heads of under 1 KiB)
MAX_HEADS_ANSWER = MAX_HEADS * 1024 + 16 * 1024


class WitnessRefused(AuditError):
    """The witness refused a checkpoint because its log went backwards (a rollback)."""


class HeadsUnsupported(AuditError):
    """The witness has no ``heads`` answer (a witness from before per-writer answers): ask
    ``latest`` instead."""


@dataclass(frozen=True, slots=True)
class WitnessHeads:
    """A witness's ``heads`` answer, checked: the latest countersigned checkpoint of each writer
    it returned (by writer), and how many writers of the log it holds (``total``; more than
    ``len(heads)`` when it holds over ``MAX_HEADS``)."""

    heads: list[Countersigned]
    total: int


def countersign_payload(log_id: str, cp: Checkpoint, witnessed_at: float, nonce: str | None = None) -> bytes:
    """What a witness signs: the log, the checkpoint's seq, head and time, and when it saw it; in
    an answer to a verifier's ``latest`` also the verifier's ``nonce`` (so the answer is fresh, not
    a countersignature recorded earlier and replayed)."""
    doc: dict[str, Any] = {
        "log": log_id,
        "seq": cp.seq,
        "head": bytes(cp.head_hash).hex(),
        "ts": to_micros(cp.ts),
        "witnessed_at": to_micros(witnessed_at),
    }
    if nonce is not None:
        doc["nonce"] = nonce
    return COUNTERSIGN_DOMAIN + canonical_json(doc)


def none_payload(log_id: str, nonce: str) -> bytes:
    """What a witness signs when it holds no checkpoint of ``log_id``, for the verifier's nonce."""
    return NONE_DOMAIN + canonical_json({"log": log_id, "nonce": nonce, "none": True})


def heads_payload(log_id: str, nonce: str, heads: list[Checkpoint], total: int) -> bytes:
    """What a witness signs over a ``heads`` answer (docs/adr/0036): every head it returns, by
    writer, with the verifier's nonce and the number of writers it holds of the log."""
    doc = {
        "log": log_id,
        "nonce": nonce,
        "total": total,
        "heads": [[cp.writer, cp.seq, bytes(cp.head_hash).hex()] for cp in heads],
    }
    return HEADS_DOMAIN + canonical_json(doc)


def recovery_payload(log_id: str, from_seq: int, from_head: str, cp: Checkpoint, reason: str) -> bytes:
    """What the audit key signs to mark a checkpoint as an operator's recovery from a rollback:
    the checkpoint the witness held (``from_*``), the new one, and the reason's digest."""
    doc = {
        "log": log_id,
        "from_seq": from_seq,
        "from_head": from_head,
        "seq": cp.seq,
        "head": bytes(cp.head_hash).hex(),
        "reason": hashlib.sha256(reason.encode()).hexdigest(),
    }
    return RECOVERY_DOMAIN + canonical_json(doc)


def format_witness_key(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_witness_key(text: str) -> Ed25519PublicKey:
    """``ed25519:<base64url>`` as ``proctor witness serve`` prints it; ValidationError otherwise."""
    if not isinstance(text, str) or not text.startswith(KEY_PREFIX):
        raise ValidationError("a witness key is `ed25519:<base64url>` (printed by `proctor witness serve`)")
    body = text[len(KEY_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if len(raw) != 32:
            raise ValueError("length")
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError):
        raise ValidationError("a witness key is `ed25519:<base64url>` of 32 bytes") from None


def check_witness_url(url: str) -> str:
    """``https://`` anywhere; ``http://`` only to the loopback (nothing on the way can alter it)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http":
        loopback = host == "localhost"
        with contextlib.suppress(ValueError):
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        if loopback:
            return url.rstrip("/")
        raise ValidationError("audit.witness: `http://` only to 127.0.0.1 or localhost; use https")
    raise ValidationError("audit.witness is an absolute path or an https:// URL")


@dataclass(frozen=True, slots=True)
class Countersigned:
    """A checkpoint as a witness holds it, with the witness's signature over it."""

    log: str
    checkpoint: Checkpoint
    witnessed_at: float
    countersignature: bytes
    recovery: dict[str, Any] | None = None
    #: in an answer to a verifier's ``latest``: its nonce, and the witness's signature over the
    #: checkpoint with it (``fresh``); the stored ``countersignature`` is checked as well
    nonce: str | None = None
    fresh: bytes | None = None

    def doc(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "log": self.log,
            **checkpoint_doc(self.checkpoint),
            "witnessed_at": self.witnessed_at,
            "countersignature": base64.b64encode(self.countersignature).decode(),
        }
        if self.recovery is not None:
            out["recovery"] = self.recovery
        if self.nonce is not None and self.fresh is not None:
            out["nonce"] = self.nonce
            out["fresh"] = base64.b64encode(self.fresh).decode()
        return out

    @classmethod
    def from_doc(cls, doc: Any) -> Countersigned:
        """ValueError when ``doc`` is not a countersigned checkpoint (its signatures unchecked)."""
        try:
            cp = checkpoint_from_json(
                json.dumps(
                    {k: doc[k] for k in ("seq", "head", "ts", "kid", "signature", "writer") if k in doc}
                ).encode()
            )
            log_id = doc["log"]
            if not isinstance(log_id, str) or not LOG_ID.fullmatch(log_id):
                raise ValueError("log")
            recovery = doc.get("recovery")
            if recovery is not None and not isinstance(recovery, dict):
                raise ValueError("recovery")
            nonce, fresh = doc.get("nonce"), doc.get("fresh")
            if (nonce is None) != (fresh is None) or (nonce is not None and not isinstance(nonce, str)):
                raise ValueError("nonce")
            return cls(
                log_id,
                cp,
                float(doc["witnessed_at"]),
                base64.b64decode(doc["countersignature"], validate=True),
                recovery,
                nonce,
                None if fresh is None else base64.b64decode(fresh, validate=True),
            )
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError):
            raise ValueError("not a countersigned checkpoint") from None

    def verify(self, key: Ed25519PublicKey) -> bool:
        try:
            key.verify(
                self.countersignature, countersign_payload(self.log, self.checkpoint, self.witnessed_at)
            )
            if self.nonce is not None:
                if self.fresh is None:
                    return False
                key.verify(
                    self.fresh, countersign_payload(self.log, self.checkpoint, self.witnessed_at, self.nonce)
                )
        except (InvalidSignature, ValueError, TypeError, OverflowError):
            return False
        return True


class HttpWitness:
    """The client side: send checkpoints (``POST``), fetch the latest countersigned one (``GET``).
    Every answer's countersignature is checked with the pinned witness ``key``."""

    def __init__(
        self, url: str, key: Ed25519PublicKey, *, timeout: float = TIMEOUT_S, deadline: float = DEADLINE_S
    ) -> None:
        self.url = check_witness_url(url)
        self.key = key
        self._timeout = timeout
        self._deadline = deadline

    def _endpoint(self, log_id: str) -> str:
        return f"{self.url}/v1/logs/{quote(log_id, safe='')}"

    def _exchange(
        self, method: str, url: str, body: Any = None, *, max_answer: int = MAX_ANSWER
    ) -> httpx.Response:
        """One request, done within ``DEADLINE_S`` in all (each step also within ``TIMEOUT_S``);
        its answer read only up to ``MAX_ANSWER`` bytes (a witness answers a few hundred): a
        witness, or whatever answers in its place, can neither trickle an answer for ever nor make
        us buffer more. No proxy from the environment (``HTTP_PROXY``...): the witness is asked
        directly, and its answer is checked with its pinned key either way."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._bounded(method, url, body, max_answer))
        # called on an event loop's thread: the exchange gets a thread (and a loop) of its own
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="proctor-witness-ask") as pool:
            return pool.submit(asyncio.run, self._bounded(method, url, body, max_answer)).result()

    async def _bounded(self, method: str, url: str, body: Any, max_answer: int) -> httpx.Response:
        try:
            return await asyncio.wait_for(self._ask(method, url, body, max_answer), self._deadline)
        except TimeoutError:
            raise AuditError(
                f"the witness {self.url} did not answer within {self._deadline:g} s (lagging)"
            ) from None

    async def _ask(self, method: str, url: str, body: Any, max_answer: int) -> httpx.Response:
        try:
            async with (
                httpx.AsyncClient(trust_env=False, timeout=self._timeout) as client,
                client.stream(method, url, json=body, headers=IDENTITY) as resp,
            ):
                if why := encoded(resp.headers):
                    raise WitnessAnswerRefused(f"the witness {self.url} answered {why}")
                try:
                    raw = await aread_capped(resp.aiter_raw(), max_answer)
                except AnswerRefused as exc:
                    raise WitnessAnswerRefused(f"the witness {self.url} answered {exc.reason}") from None
        except httpx.HTTPError as exc:
            raise AuditError(f"the witness {self.url} cannot be reached: {type(exc).__name__}") from None
        return httpx.Response(resp.status_code, headers={"content-type": "application/json"}, content=raw)

    def _checked(self, doc: Any, log_id: str, nonce: str | None = None) -> Countersigned:
        try:
            got = Countersigned.from_doc(doc)
        except ValueError:
            raise AuditError(f"the witness {self.url} answered with no countersigned checkpoint") from None
        if nonce is not None and got.nonce != nonce:
            raise AuditError(
                f"the witness {self.url} answered without the nonce sent: a replayed answer, not"
                " a fresh one (or a witness too old to sign one)"
            )
        if got.log != log_id or not got.verify(self.key):
            raise AuditError(
                f"the witness {self.url} answered with a countersignature the pinned"
                " `audit.witness_key` does not verify: a forged answer or another witness"
            )
        return got

    def submit(
        self, log_id: str, cp: Checkpoint, log_key: dict[str, Any], recovery: dict[str, Any] | None = None
    ) -> Countersigned:
        """Send ``cp``; its countersignature. :class:`WitnessRefused` on a rollback the witness
        refused, :class:`AuditError` when it cannot be reached or answers wrongly."""
        body: dict[str, Any] = {"log": log_id, **checkpoint_doc(cp), "key": log_key}
        if recovery is not None:
            body["recovery"] = recovery
        resp = self._exchange("POST", self._endpoint(log_id) + "/checkpoints", body)
        if resp.status_code == 409:
            raise WitnessRefused(f"the witness {self.url} refused checkpoint {cp.seq}: {_detail(resp)}")
        if resp.status_code != 200:
            raise AuditError(f"the witness {self.url} answered {resp.status_code}: {_detail(resp)}")
        got = self._checked(_json(resp), log_id)
        if got.checkpoint.seq != cp.seq or got.checkpoint.head_hash != cp.head_hash:
            raise AuditError(f"the witness {self.url} countersigned another checkpoint than the one sent")
        return got

    def latest(self, log_id: str) -> Countersigned | None:
        """The latest checkpoint the witness holds for ``log_id`` (None: it holds none), fresh: the
        witness signs its answer, "none" included, over a nonce sent now. An unsigned answer, or
        one without this nonce (replayed), is an :class:`AuditError`."""
        nonce = secrets.token_urlsafe(24)
        resp = self._exchange("GET", self._endpoint(log_id) + "/latest?nonce=" + nonce)
        if resp.status_code == 404:
            doc = _json(resp)
            try:
                ok = (
                    isinstance(doc, dict)
                    and doc.get("none") is True
                    and doc.get("log") == log_id
                    and doc.get("nonce") == nonce
                )
                if ok:
                    sig = base64.b64decode(str(doc.get("countersignature")), validate=True)
                    self.key.verify(sig, none_payload(log_id, nonce))
            except (InvalidSignature, ValueError, TypeError):
                ok = False
            if not ok:
                raise AuditError(
                    f"the witness {self.url} answered that it holds nothing for the log without a"
                    " signature over the nonce sent: whatever answered is not the pinned witness"
                )
            return None
        if resp.status_code != 200:
            raise AuditError(f"the witness {self.url} answered {resp.status_code}: {_detail(resp)}")
        return self._checked(_json(resp), log_id, nonce)

    def heads(self, log_id: str) -> WitnessHeads:
        """The latest countersigned checkpoint of every writer of ``log_id`` the witness holds
        (docs/adr/0036), fresh: each head and the list as a whole are signed over a nonce sent
        now, so no head can be replayed, dropped or added. :class:`HeadsUnsupported` when the
        witness has no such answer (an older witness: ask :meth:`latest`); :class:`AuditError`
        for any answer that is not the pinned witness's, whole and fresh."""
        nonce = secrets.token_urlsafe(24)
        resp = self._exchange(
            "GET", self._endpoint(log_id) + "/heads?nonce=" + nonce, max_answer=MAX_HEADS_ANSWER
        )
        doc = _json(resp)
        if resp.status_code in (404, 405) and not (isinstance(doc, dict) and "heads" in doc):
            raise HeadsUnsupported(
                f"the witness {self.url} has no per-writer answer (`heads`): an older witness"
            )
        if resp.status_code != 200:
            raise AuditError(f"the witness {self.url} answered {resp.status_code}: {_detail(resp)}")
        bad = f"the witness {self.url} answered a list of heads"
        if not isinstance(doc, dict) or doc.get("log") != log_id:
            raise AuditError(f"{bad} that is not of the log asked about")
        if doc.get("nonce") != nonce:
            raise AuditError(f"{bad} without the nonce sent: a replayed answer, not a fresh one")
        raw, total = doc.get("heads"), doc.get("total")
        if not isinstance(raw, list) or type(total) is not int or not len(raw) <= min(total, MAX_HEADS):
            raise AuditError(f"{bad} of a size it may not have (at most {MAX_HEADS}, and its `total`)")
        heads = [self._checked(entry, log_id, nonce) for entry in raw]
        writers = [h.checkpoint.writer for h in heads]
        if len(set(writers)) != len(writers):
            raise AuditError(f"{bad} naming a writer twice: a witness keeps one head per writer")
        try:
            sig = base64.b64decode(str(doc.get("signature")), validate=True)
            self.key.verify(sig, heads_payload(log_id, nonce, [h.checkpoint for h in heads], total))
        except (InvalidSignature, ValueError, TypeError):
            raise AuditError(
                f"{bad} the pinned `audit.witness_key` does not sign as a whole: a forged answer,"
                " or heads dropped or added on the way"
            ) from None
        return WitnessHeads(heads, total)


def _json(resp: httpx.Response) -> Any:
    """The answer's JSON; None when it is not JSON. JSON nested deeper than the parser follows is
    a :class:`WitnessAnswerRefused` (never a ``RecursionError`` out of the exchange)."""
    try:
        return loads(resp.content)
    except AnswerRefused as exc:
        if exc.reason == "not JSON":
            return None
        raise WitnessAnswerRefused(f"the witness answered {exc.reason}") from None


def _detail(resp: httpx.Response) -> str:
    doc = _json(resp)
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        return str(doc["error"])[:300]
    return resp.text[:200]


__all__ = [
    "MAX_HEADS",
    "Countersigned",
    "HeadsUnsupported",
    "HttpWitness",
    "WitnessHeads",
    "WitnessRefused",
    "check_witness_url",
    "countersign_payload",
    "format_witness_key",
    "heads_payload",
    "none_payload",
    "parse_witness_key",
    "recovery_payload",
]
