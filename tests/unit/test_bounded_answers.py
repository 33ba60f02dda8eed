"""What another party answers is read bounded (proctor.bounded, the A2A red-team fixes made one
helper): the OpenID Connect provider's discovery document and JWK Set, and a witness's answer,
are refused unread when larger than the cap, sent compressed, trickled past the deadline or
nested deeper than the parser follows; each refusal is a ProctorError with its stable code, never
a hang, a buffer without bound or a RecursionError. A real HTTP exchange on the loopback."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proctor.accounts.oidc import MAX_ANSWER_BYTES, OidcClient
from proctor.accounts.settings import OidcSettings
from proctor.audit.witness_http import MAX_ANSWER, HttpWitness
from proctor.clock import FrozenClock
from proctor.errors import IdentityProviderAnswerRefused, WitnessAnswerRefused

NOW = 1_767_225_600.0
Answer = Callable[[socket.socket], None]


def _head(body_len: int | None, extra: str = "") -> bytes:
    length = "" if body_len is None else f"content-length: {body_len}\r\n"
    return f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{length}{extra}connection: close\r\n\r\n".encode()


def whole(body: bytes, extra: str = "") -> Answer:
    def send(conn: socket.socket) -> None:
        conn.sendall(_head(len(body), extra) + body)

    return send


def trickle(seconds: float) -> Answer:
    """A JSON body one byte every 0.1 s, for ``seconds`` (each read well within any timeout)."""

    def send(conn: socket.socket) -> None:
        conn.sendall(_head(None))
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            conn.sendall(b" ")
            time.sleep(0.1)
        conn.sendall(b"{}")

    return send


@contextmanager
def serving(answers: dict[str, Answer]) -> Iterator[str]:
    """A loopback HTTP server answering each request by its path (``answers``); its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def one(conn: socket.socket) -> None:
        with conn:
            try:
                path = conn.recv(65536).split(b" ", 2)[1].decode().split("?")[0]
                answers[path](conn)
            except OSError:
                pass  # the client hung up

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def deep(n: int = 100_000) -> bytes:
    return b"[" * n + b"]" * n


def meta(base: str, **over: object) -> bytes:
    doc = {
        "issuer": base,
        "authorization_endpoint": base + "/authorize",
        "token_endpoint": base + "/token",
        "jwks_uri": base + "/jwks",
        **over,
    }
    return json.dumps(doc).encode()


def oidc(base: str, timeout_s: float = 2.0) -> OidcClient:
    settings = OidcSettings(issuer=base, client_id="proctor-web")
    return OidcClient(
        settings,
        store=None,  # type: ignore[arg-type]  # no sign-in is stored here
        clock=FrozenClock(NOW),
        client_secret=lambda: None,
        timeout_s=timeout_s,
    )


DISCOVERY = "/.well-known/openid-configuration"


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (lambda: whole(b'{"issuer": "' + b"a" * (MAX_ANSWER_BYTES + 10) + b'"}'), "larger than"),
        (lambda: whole(gzip.compress(b" " * 10_000_000), "content-encoding: gzip\r\n"), "Content-Encoding"),
        (lambda: whole(deep()), "nested too deeply"),
        (lambda: trickle(6.0), "not received in time"),
    ],
    ids=["oversized", "gzip", "deep", "trickle"],
)
def test_the_providers_discovery_document_is_read_bounded(answer: Callable[[], Answer], why: str) -> None:
    with serving({DISCOVERY: answer()}) as base:
        started = time.monotonic()
        with pytest.raises(IdentityProviderAnswerRefused, match=why) as info:
            oidc(base, timeout_s=1.0).metadata()
        assert time.monotonic() - started < 5  # cut off at the deadline, not when the server stops
    assert info.value.code == "idp_answer_refused"


def test_the_providers_jwk_set_is_read_bounded() -> None:
    """An ID token's key is looked up in a JWK Set larger than the cap: refused, not buffered."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    answers: dict[str, Answer] = {}
    with serving(answers) as base:
        answers[DISCOVERY] = whole(meta(base))
        answers["/jwks"] = whole(b'{"keys": [], "pad": "' + b"a" * (MAX_ANSWER_BYTES + 10) + b'"}')
        c = oidc(base)
        token = jwt.encode({"iss": base, "aud": "proctor-web"}, key, algorithm="RS256", headers={"kid": "k1"})
        with pytest.raises(IdentityProviderAnswerRefused, match="JWK Set was refused: larger than"):
            c.verify_id_token(token, "n-1")


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (lambda: whole(gzip.compress(b" " * 1_000_000), "content-encoding: gzip\r\n"), "Content-Encoding"),
        (lambda: whole(deep(30_000)), "nested too deeply"),
        (lambda: whole(b" " * (MAX_ANSWER + 1)), "larger than"),
    ],
    ids=["gzip", "deep", "oversized"],
)
def test_a_witness_answer_is_read_bounded(answer: Callable[[], Answer], why: str) -> None:
    with serving({"/v1/logs/abc/latest": answer()}) as base:
        client = HttpWitness(base, Ed25519PrivateKey.generate().public_key())
        with pytest.raises(WitnessAnswerRefused, match=why) as info:
            client.latest("abc")
    assert info.value.code == "witness_answer_refused"
