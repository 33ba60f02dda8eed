"""Agent Card signatures as Proctor checks them (docs/adr/0038), against cards signed by the A2A
project's own SDK (`a2a-sdk`, a dev dependency): what the SDK signs verifies, whatever it is
changed to fails, and no signature Proctor did not pin a key for (another key, a key the card
points at with `jku`, HMAC or `none`) is accepted."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proctor.crypto.jose import b64url
from proctor.errors import ConfigError
from proctor.gateway.a2a import (
    A2ACardRefused,
    canonical_card,
    card_digest,
    declared_effects,
    load_card_keys,
    pinned_keys,
    skill_effects,
    verify_card,
)
from proctor.gateway.config import upstream_from_mapping

a2a_types = pytest.importorskip("a2a.types", reason="a2a-sdk (a dev dependency) signs the cards")
from a2a.server.request_handlers.response_helpers import agent_card_to_dict  # noqa: E402 -- after the skip
from a2a.utils.signing import create_agent_card_signer  # noqa: E402 -- after the skip


def _pem(key: Any) -> str:
    raw: bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return raw.decode()


def _public_file(tmp_path: Path, key: Any, name: str = "pub.pem") -> Path:
    path = tmp_path / name
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def _sdk_card(key: Any, alg: str = "ES256", jku: str | None = None) -> dict[str, Any]:
    """A card as an `a2a-sdk` agent serves it, signed by the SDK's signer."""
    card = a2a_types.AgentCard(
        name="Agent Ünïcødé 🚀",
        description='Résumés, 数据 and "quotes"',
        version="1.0.0",
        supported_interfaces=[
            a2a_types.AgentInterface(
                url="http://127.0.0.1:9/", protocol_binding="JSONRPC", protocol_version="1.0"
            )
        ],
        capabilities=a2a_types.AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[
            a2a_types.AgentSkill(id="echo", name="Echo", description="", tags=["proctor:effect=read"]),
            a2a_types.AgentSkill(id="run", name="Run", description="Runs it", tags=["ops"]),
        ],
    )
    signer = create_agent_card_signer(_pem(key), {"alg": alg, "kid": "k1", "jku": jku, "typ": "JOSE"})
    served: dict[str, Any] = agent_card_to_dict(signer(card))
    return served


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_a_card_the_sdk_signed_verifies_and_any_change_to_it_fails(tmp_path: Path, key: Any) -> None:
    """Proctor's canonical form is the SDK's (non-ASCII, empty fields, booleans): its signature
    verifies; then each kind of change after signing is refused."""
    keys = load_card_keys(str(_public_file(tmp_path, key)))
    card = _sdk_card(key)
    assert verify_card(card, keys) == keys[0]["kid"]
    assert card_digest(card) == card_digest({**card, "signatures": []})  # signatures are not pinned

    changed = [
        {**card, "description": card["description"] + "!"},
        {
            **card,
            "skills": [
                {**card["skills"][0], "tags": ["proctor:effect=read"]},
                card["skills"][1] | {"tags": ["proctor:effect=read"]},
            ],
        },
        {**card, "capabilities": {"streaming": True}},
        {**card, "extra": "field"},
    ]
    for other in changed:
        with pytest.raises(A2ACardRefused, match="no signature on the agent card verifies"):
            verify_card(other, keys)


def test_an_ed25519_signed_card_verifies(tmp_path: Path) -> None:
    """EdDSA (Ed25519) signatures verify with a pinned Ed25519 key."""
    ed = Ed25519PrivateKey.generate()
    card = _sdk_card(ed, "EdDSA")
    assert verify_card(card, load_card_keys(str(_public_file(tmp_path, ed))))


def test_no_signature_without_a_pinned_key_is_accepted(tmp_path: Path, key: Any) -> None:
    """Another key, a key the card names with `jku` or `jwk`, HMAC with the public key as the
    secret, `alg: none`, no signatures at all: each is refused."""
    pinned = load_card_keys(str(_public_file(tmp_path, key)))
    attacker = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(A2ACardRefused, match="no signature"):
        verify_card(_sdk_card(attacker, jku="http://127.0.0.1:1/jwks.json"), pinned)

    card = _sdk_card(key)
    payload = b64url(canonical_card(card))
    public_pem = _public_file(tmp_path, key).read_bytes()
    for alg, secret in (("HS256", public_pem), ("none", b"")):
        protected = b64url(json.dumps({"alg": alg, "kid": pinned[0]["kid"]}).encode())
        mac = hmac.new(secret, f"{protected}.{payload}".encode(), hashlib.sha256).digest()
        signature = "" if alg == "none" else b64url(mac)
        forged = {**card, "signatures": [{"protected": protected, "signature": signature}]}
        with pytest.raises(A2ACardRefused):
            verify_card(forged, pinned)

    unsigned = {k: v for k, v in card.items() if k != "signatures"}
    with pytest.raises(A2ACardRefused, match="not signed"):
        verify_card(unsigned, pinned)
    assert verify_card(unsigned, pinned, allow_unsigned=True) is None
    with pytest.raises(A2ACardRefused, match="no card key is pinned"):
        verify_card(card, [])


@pytest.fixture
def jwks_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    served: dict[str, Any] = {"keys": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(served).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", served
    finally:
        server.shutdown()
        server.server_close()


def test_a_pinned_jwks_url_is_read_at_each_verification(
    tmp_path: Path, key: Any, jwks_server: tuple[str, dict[str, Any]]
) -> None:
    """The operator's JWK Set URL: a key it serves verifies (keys of kinds Proctor does not use are
    skipped); a key it stopped serving does not."""
    url, served = jwks_server
    other = ec.generate_private_key(ec.SECP256R1())
    jwks_file = tmp_path / "jwks.json"
    public = [
        load_card_keys(str(_public_file(tmp_path, k, f"{i}.pem")))[0] for i, k in enumerate((other, key))
    ]
    jwks_file.write_text(json.dumps({"keys": public}))
    assert [k["kid"] for k in load_card_keys(str(jwks_file))] == [p["kid"] for p in public]

    card = _sdk_card(key)
    served["keys"] = [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"}, *public]  # RSA: skipped
    assert verify_card(card, pinned_keys({"jwks_url": url}, 5.0))
    served["keys"] = public[:1]
    with pytest.raises(A2ACardRefused, match="no signature"):
        verify_card(card, pinned_keys({"jwks_url": url}, 5.0))


def test_skill_effects_come_from_the_operator_then_the_card_then_execute(key: Any) -> None:
    """An undeclared skill is `execute`, never `read`; a card's own `read` tag is not honoured
    (only the operator makes a skill a read); other declared effects are; a skill declaring two
    effects is refused."""
    card = _sdk_card(key)
    assert declared_effects(card) == {"echo": "read"}
    assert skill_effects(card) == {"echo": "execute", "run": "execute"}
    assert skill_effects(card, {"echo": "read"}) == {"echo": "read", "run": "execute"}
    assert skill_effects(card, {"echo": "write"}) == {"echo": "write", "run": "execute"}
    sends = {"skills": [{"id": "mail", "tags": ["proctor:effect=send"]}]}
    assert skill_effects(sends) == {"mail": "send"}
    two = {"skills": [{"id": "x", "tags": ["proctor:effect=read", "proctor:effect=write"]}]}
    with pytest.raises(A2ACardRefused, match="more than one effect"):
        skill_effects(two)
    with pytest.raises(A2ACardRefused, match="cannot route"):
        skill_effects({"skills": [{"id": ""}]})


def test_an_a2a_upstream_needs_a_pinned_key_and_digest() -> None:
    """upstreams.yaml: an a2a entry without a key (and not explicitly unsigned), without a pinned
    digest, or with credentials is refused."""
    base = {
        "namespace": "helper",
        "transport": "a2a",
        "url": "http://127.0.0.1:9/.well-known/agent-card.json",
    }
    with pytest.raises(ConfigError, match="pinned card key"):
        upstream_from_mapping({**base, "a2a": {"card_digest": "sha256:00"}})
    with pytest.raises(ConfigError, match="card_digest"):
        upstream_from_mapping({**base, "a2a": {"allow_unsigned": True}})
    with pytest.raises(ConfigError, match="no credentials"):
        upstream_from_mapping(
            {**base, "a2a": {"allow_unsigned": True, "card_digest": ""}, "credentials": [{"name": "x"}]}
        )
    with pytest.raises(ConfigError, match="a2a upstream only"):
        upstream_from_mapping({"namespace": "x", "command": "/bin/true", "a2a": {"keys": []}})
    cfg = upstream_from_mapping({**base, "a2a": {"allow_unsigned": True, "card_digest": ""}})
    assert upstream_from_mapping(cfg.to_mapping()) == cfg
