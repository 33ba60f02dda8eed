"""Red-team checks on A2A agents as upstreams (docs/adr/0038): what a hostile agent, or somebody
in its path, can do with the card's keys URL, the card's JSON-RPC interface and slow or deep
answers. Each test is an attack that worked before its fix."""

from __future__ import annotations

import gzip
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from proctor.audit import AuditLog
from proctor.clock import FrozenClock
from proctor.crypto.jose import b64url, ec_public_jwk
from proctor.errors import UpstreamError, ValidationError
from proctor.gateway.a2a import (
    A2ACardRefused,
    A2AClient,
    _answer_text,
    card_digest,
    endpoint,
    fetch_card,
    load_card_keys,
    pinned_keys,
    verify_card,
)
from proctor.gateway.upstreams import a2a_upstream, pin_a2a_card
from proctor.store import open_store
from proctor.store.base import AuditQuery

a2a_types = pytest.importorskip("a2a.types", reason="a2a-sdk (a dev dependency) signs the cards")
from a2a.server.request_handlers.response_helpers import agent_card_to_dict  # noqa: E402 -- after the skip
from a2a.utils.signing import create_agent_card_signer  # noqa: E402 -- after the skip

CARD_AT = "http://127.0.0.1:9/.well-known/agent-card.json"


def _card(rpc_url: str, key: ec.EllipticCurvePrivateKey | None = None) -> dict[str, Any]:
    """A card signed by its agent's (pinned) key that names ``rpc_url`` as its JSON-RPC interface."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    card = a2a_types.AgentCard(
        name="Agent",
        description="d",
        version="1.0.0",
        supported_interfaces=[
            a2a_types.AgentInterface(url=rpc_url, protocol_binding="JSONRPC", protocol_version="1.0")
        ],
        skills=[a2a_types.AgentSkill(id="run", name="Run", description="Runs it", tags=["ops"])],
    )
    signer = create_agent_card_signer(pem, {"alg": "ES256", "kid": "k1", "jku": None, "typ": "JOSE"})
    served: dict[str, Any] = agent_card_to_dict(signer(card))
    return served


def test_a_jwks_url_over_plain_http_is_refused() -> None:
    """Keys read over plain HTTP are whatever anybody in the path serves, and a forged key verifies a
    forged card: a JWK Set URL must be https:// (http:// on loopback only), at registration and at
    each verification (an edited upstreams.yaml)."""
    with pytest.raises(ValidationError, match="https://"):
        a2a_upstream(
            "helper",
            "https://agent.example/",
            keys=[],
            jwks_url="http://keys.example/jwks.json",
            allow_unsigned=False,
            effects={},
        )
    with pytest.raises(A2ACardRefused, match="https://"):
        pinned_keys({"jwks_url": "http://169.254.169.254/jwks.json"}, 0.5)


@pytest.mark.parametrize(
    ("card_at", "rpc_url"),
    [
        (CARD_AT, "http://169.254.169.254/latest/api/token"),  # a metadata address
        (CARD_AT, "http://127.0.0.1:6379/"),  # another port of the same host
        ("https://agent.example/.well-known/agent-card.json", "http://agent.example/"),  # downgrade
        ("https://agent.example/.well-known/agent-card.json", "https://agent.example.evil.test/"),
    ],
)
def test_a_card_naming_an_rpc_interface_off_its_origin_is_refused(card_at: str, rpc_url: str) -> None:
    """The card is the agent owner's word: its JSON-RPC interface must be where its card was
    registered, or the gateway would POST callers' messages anywhere it can reach."""
    card = _card(rpc_url)
    with pytest.raises(A2ACardRefused, match="not on the origin"):
        endpoint(card, card_at)
    with pytest.raises(A2ACardRefused, match="not on the origin"):
        A2AClient(card, httpx.AsyncClient(), 1.0, card_at)
    same = _card("http://127.0.0.1:9/a2a")
    assert endpoint(same, CARD_AT) == "http://127.0.0.1:9/a2a"


def test_registration_refuses_a_signed_card_whose_rpc_interface_is_elsewhere(
    tmp_path: Path, trickler: Callable[[bytes, float], str]
) -> None:
    """`upstream add --a2a`: a card validly signed by the pinned key, whose JSON-RPC interface is a
    metadata address, is refused and the refusal recorded; nothing is pinned."""
    key = ec.generate_private_key(ec.SECP256R1())
    base = trickler(json.dumps(_card("http://169.254.169.254/latest/api/token", key)).encode(), 0.0)
    cfg = a2a_upstream(
        "helper",
        base + "/",
        keys=[ec_public_jwk(key.public_key())],
        jwks_url=None,
        allow_unsigned=False,
        effects={},
    )
    store = open_store(f"sqlite:///{tmp_path / 'proctor.db'}")
    with (
        AuditLog(store, FrozenClock(), None) as audit,
        pytest.raises(A2ACardRefused, match="not on the origin"),
    ):
        pin_a2a_card(audit, cfg)
    refused = store.search_audit(AuditQuery(kind="upstream.a2a_card_refused", limit=10))
    assert len(refused) == 1
    assert "not on the origin" in json.loads(refused[0].body)["reason"]
    assert not store.search_audit(AuditQuery(kind="upstream.a2a_card_pinned", limit=10))


@pytest.fixture
def trickler() -> Iterator[Callable[[bytes, float], str]]:
    """An HTTP server answering every GET and POST with ``body`` one byte per ``gap`` seconds."""
    servers: list[ThreadingHTTPServer] = []

    def start(body: bytes, gap: float, headers: dict[str, str] | None = None) -> str:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    if not gap:
                        self.wfile.write(body)
                    for i in range(len(body) if gap else 0):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(gap)
                except OSError:
                    pass

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_card_trickled_a_byte_at_a_time_is_not_waited_for(trickler: Callable[[bytes, float], str]) -> None:
    """httpx's timeout bounds each read: a card trickled below it must still arrive within the
    timeout as a whole, or a slow agent holds the gateway's session opening for ever."""
    base = trickler(json.dumps({"name": "slow", "description": "x" * 40}).encode(), 0.05)
    with pytest.raises(UpstreamError, match="not received within"):
        fetch_card(base + "/.well-known/agent-card.json", 0.5)


def test_an_answer_trickled_a_byte_at_a_time_is_not_waited_for(
    trickler: Callable[[bytes, float], str],
) -> None:
    answer = {"jsonrpc": "2.0", "id": "1", "result": {"message": {"parts": [{"text": "y" * 40}]}}}
    base = trickler(json.dumps(answer).encode(), 0.05)

    async def call() -> Any:
        async with httpx.AsyncClient() as http:
            client = A2AClient(_card(base + "/"), http, 0.5, base + "/.well-known/agent-card.json")
            return await client.call_tool("run", {"message": "hi"})

    with pytest.raises(UpstreamError, match="did not answer within"):
        anyio.run(call)


def test_a_deeply_nested_card_or_answer_is_refused_not_a_crash(
    trickler: Callable[[bytes, float], str],
) -> None:
    """JSON nested past the interpreter's recursion limit is an answer Proctor cannot read (a
    refusal the gateway records), not a RecursionError out of the upstream."""
    base = trickler(b"[" * 200_000, 0.0)
    with pytest.raises(A2ACardRefused, match="not JSON"):
        fetch_card(base + "/.well-known/agent-card.json", 10.0)

    async def call() -> Any:
        async with httpx.AsyncClient() as http:
            client = A2AClient(_card(base + "/"), http, 10.0, base + "/.well-known/agent-card.json")
            return await client.call_tool("run", {"message": "hi"})

    result = anyio.run(call)
    assert result.is_error
    assert "without JSON" in result.content[0].text


def test_a_signature_header_or_data_part_nested_too_deeply_is_refused_not_a_crash() -> None:
    """A protected header of a hundred thousand `[` is a signature that does not verify; a data part
    nested just under the parser's limit is shown as such, not a RecursionError out of the call."""
    card = {"name": "x", "signatures": [{"protected": b64url(b"[" * 100_000), "signature": "AA"}]}
    pinned = [ec_public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())]
    with pytest.raises(A2ACardRefused, match="no signature on the agent card verifies"):
        verify_card(card, pinned)
    deep: Any = []
    for _ in range(sys.getrecursionlimit() - 5):
        deep = [deep]
    assert _answer_text({"message": {"parts": [{"text": "a"}, {"data": deep}]}}) == (
        "a\n[data nested too deeply to show]"
    )


def test_skills_added_as_empty_values_are_not_listed() -> None:
    """Empty values are not in the signed, pinned form of a card: a skill `{"id": null}` or `{}`
    added to a served card keeps its signature and digest, so it must not become a tool either."""
    key = ec.generate_private_key(ec.SECP256R1())
    card = _card("http://127.0.0.1:9/", key)
    grown = {**card, "skills": [{"id": None, "tags": []}, {}, *card["skills"]]}
    assert verify_card(grown, [ec_public_jwk(key.public_key())]) is not None
    assert card_digest(grown) == card_digest(card)

    async def names() -> list[str]:
        async with httpx.AsyncClient() as http:
            listed = await A2AClient(grown, http, 1.0, CARD_AT).list_tools()
            return [t.name for t in listed.tools]

    assert anyio.run(names) == ["run"]


def test_a_card_key_on_another_curve_is_refused_as_invalid_input(tmp_path: Path) -> None:
    """`--card-key` with a P-384 key: ES256 is P-256 only; the operator is told so (a
    ValidationError the CLI reports), not shown a ConfigError traceback."""
    path = tmp_path / "p384.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValidationError, match="P-256"):
        load_card_keys(str(path))


def test_a_compressed_card_or_answer_is_refused_before_it_is_inflated(
    trickler: Callable[..., str],
) -> None:
    """httpx inflates a compressed body a network read at a time with no bound: 64 KiB of gzip is
    64 MiB (of zstd, gigabytes) before any size check. A card, JWK Set or answer is read as sent,
    and one sent compressed is refused, whoever sent it (the card is read before it is verified)."""
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))
    base = trickler(bomb, 0.0, {"Content-Encoding": "gzip"})
    with pytest.raises(A2ACardRefused, match="Content-Encoding `gzip`"):
        fetch_card(base + "/.well-known/agent-card.json", 10.0)

    async def call() -> Any:
        async with httpx.AsyncClient() as http:
            client = A2AClient(_card(base + "/"), http, 10.0, base + "/.well-known/agent-card.json")
            return await client.call_tool("run", {"message": "hi"})

    result = anyio.run(call)
    assert result.is_error
    assert "Content-Encoding `gzip`" in result.content[0].text
