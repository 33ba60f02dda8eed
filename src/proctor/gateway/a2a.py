"""A2A agents as upstreams (issue 17, docs/adr/0038).

An A2A agent is reached through Proctor as an upstream like an MCP server. Proctor:

- fetches its **Agent Card** (``/.well-known/agent-card.json``) and verifies one of its
  ``signatures`` (A2A ``AgentCardSignature``: a JWS with a detached payload, the RFC 8785 canonical
  card without ``signatures``) against keys the **operator pinned** at registration (a public key
  file, a JWK or JWK Set file, or a JWK Set URL). The card's own ``jku`` is never followed: a key the
  card points at is not a key anybody trusted;
- pins the canonical card's digest: a card that changed since registration (a skill added, an
  effect declared differently, a description reworded) is refused until an operator re-pins it;
- registers each skill as a tool ``NAMESPACE.skill_id`` (one ``message`` text argument) whose effect
  is the operator's (``--tool-effect``), else the skill's tag ``proctor:effect=EFFECT``, else
  ``execute``; its output is labelled ``untrusted`` (another agent's words) unless the registry
  says otherwise;
- sends each call as one JSON-RPC ``SendMessage`` (A2A 1.0, as the ``a2a-sdk`` 1.x speaks it),
  after the gateway has decided it like any tool call.

No A2A SDK at runtime: the JWS is checked with :mod:`proctor.crypto.jose` and :mod:`cryptography`,
the card canonicalised with ``rfc8785``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import anyio
import httpx
import mcp_types as types
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from proctor.clock import SystemClock
from proctor.crypto.jose import (
    b64url,
    b64url_decode,
    ec_public_from_jwk,
    ec_public_jwk,
    ed25519_public_from_jwk,
    ed25519_public_jwk,
)
from proctor.errors import UpstreamError, ValidationError
from proctor.gateway.names import routable

__all__ = [
    "A2A_KEYS",
    "CARD_PATH",
    "EFFECT_TAG",
    "A2ACardRefused",
    "A2AClient",
    "canonical_card",
    "card_digest",
    "card_url",
    "check_jwks_url",
    "declared_effects",
    "endpoint",
    "fetch_card",
    "load_card_keys",
    "pinned_keys",
    "skill_effects",
    "verified_card",
    "verify_card",
]

#: where an A2A agent serves its card (A2A 1.0, RFC 8615)
CARD_PATH: Final = "/.well-known/agent-card.json"
#: a skill tag declaring the effect Proctor decides its calls as
EFFECT_TAG: Final = "proctor:effect="
#: the keys of an upstream's ``a2a`` mapping in upstreams.yaml
A2A_KEYS: Final = frozenset({"keys", "jwks_url", "card_digest", "allow_unsigned", "effects"})
#: algorithms accepted on a card signature (never ``none``, never HMAC)
_ALGORITHMS: Final = ("ES256", "EdDSA")
_MAX_CARD_BYTES: Final = 1024 * 1024
_MAX_ANSWER_BYTES: Final = 4 * 1024 * 1024
_MAX_DEPTH: Final = 64
#: a network deadline is real time whatever clock the caller runs on (as the OAuth CIMD fetch)
_REAL_TIME: Final = SystemClock()
#: the A2A protocol version Proctor speaks to an agent (JSON-RPC ``SendMessage``)
PROTOCOL_VERSION: Final = "1.0"
_INPUT_SCHEMA: Final = {
    "type": "object",
    "properties": {"message": {"type": "string", "description": "The message sent to the agent."}},
    "required": ["message"],
    "additionalProperties": False,
}


class A2ACardRefused(UpstreamError):
    """An A2A agent's card failed verification: no valid signature by a pinned key, a card that
    changed since it was pinned, or a card Proctor cannot read. The message names the reason in
    Proctor's own words."""

    code = "a2a_card_refused"
    http_status = 502


def card_url(url: str) -> str:
    """The card's URL: ``url`` itself when it names a ``.json`` document, else the well-known
    path under it.

    >>> card_url("http://127.0.0.1:9/"), card_url("https://a.example/x/card.json")
    ('http://127.0.0.1:9/.well-known/agent-card.json', 'https://a.example/x/card.json')
    """
    if not url.startswith(("http://", "https://")):
        raise ValidationError("an A2A agent's URL starts with http:// or https://")
    if url.rsplit("?", 1)[0].endswith(".json"):
        return url
    return url.rstrip("/") + CARD_PATH


def _clean(value: Any, depth: int = 0) -> Any:
    """``value`` without empty strings, lists and objects (nor nulls), recursively: the form the
    A2A SDK signs (its card is a protobuf message, which has no empty fields)."""
    if depth > _MAX_DEPTH:
        raise A2ACardRefused("the agent card nests too deeply")
    if isinstance(value, dict):
        out = {k: c for k, v in value.items() if (c := _clean(v, depth + 1)) is not None}
        return out or None
    if isinstance(value, list):
        items = [c for v in value if (c := _clean(v, depth + 1)) is not None]
        return items or None
    if isinstance(value, str) and not value:
        return None
    return value


def canonical_card(card: Mapping[str, Any]) -> bytes:
    """The bytes a card signature covers: the card without ``signatures``, empty values dropped,
    in RFC 8785 canonical JSON."""
    body = {k: v for k, v in card.items() if k != "signatures"}
    try:
        return rfc8785.dumps(_clean(body) or {})
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        raise A2ACardRefused("the agent card has no canonical JSON form") from None


def card_digest(card: Mapping[str, Any]) -> str:
    """``sha256:`` and the hex SHA-256 of :func:`canonical_card`: what registration pins."""
    return "sha256:" + hashlib.sha256(canonical_card(card)).hexdigest()


def _public_jwk(key: Any) -> dict[str, Any]:
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return ec_public_jwk(key)
    if isinstance(key, Ed25519PublicKey):
        return ed25519_public_jwk(key)
    raise ValidationError("a card key must be a P-256 (ES256) or Ed25519 (EdDSA) public key")


def _jwks(data: Any, *, skip_unsupported: bool = False) -> list[dict[str, Any]]:
    """The public keys of a JWK or JWK Set. ``skip_unsupported``: a key Proctor cannot use (RSA,
    another curve) is left out instead of refusing the set (a published set may hold several kinds)."""
    keys = data.get("keys") if isinstance(data, dict) and "keys" in data else [data]
    if not isinstance(keys, list) or not keys:
        raise ValidationError("a JWK Set needs at least one key")
    out = []
    for jwk in keys:
        if not isinstance(jwk, dict):
            raise ValidationError("a JWK must be a JSON object")
        try:
            public = _key_of(jwk)
        except ValidationError:
            if skip_unsupported:
                continue
            raise
        kid = {"kid": jwk["kid"]} if isinstance(jwk.get("kid"), str) else {}
        out.append({**_public_jwk(public), **kid})
    return out


def load_card_keys(spec: str) -> list[dict[str, Any]]:
    """The public JWKs in ``spec``: a PEM public key file, or a JWK or JWK Set JSON file. (A JWK
    Set *URL* is kept as ``jwks_url`` and fetched when a card is verified.)"""
    path = Path(spec).expanduser()
    try:
        data = path.read_bytes()
    except OSError:
        raise ValidationError(f"--card-key: cannot read `{spec[:200]}`") from None
    if data.lstrip().startswith(b"{"):
        try:
            return _jwks(json.loads(data))
        except json.JSONDecodeError:
            raise ValidationError(f"--card-key: `{spec[:200]}` is not JSON") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise ValidationError(f"--card-key: `{spec[:200]}` is not a PEM public key nor a JWK") from None
    return [_public_jwk(key)]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_jwks_url(url: str) -> str:
    """``url`` if a JWK Set may be read from it: ``https://``, or ``http://`` on a loopback host.
    Keys fetched over plain HTTP are whatever anybody in the path says they are, and a forged key
    verifies a forged card."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise ValidationError("a JWK Set URL must be a valid https:// URL") from None
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and _loopback(host):
        return url
    raise ValidationError("a JWK Set URL must be https:// (plain http:// only on a loopback address)")


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        return parts.scheme, (parts.hostname or "").lower(), port
    except ValueError:
        return "", "", None


def _key_of(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey | Ed25519PublicKey:
    if jwk.get("kty") == "OKP":
        return ed25519_public_from_jwk(jwk)
    return ec_public_from_jwk(jwk)


#: bodies are read as sent: a compressed body is decoded by httpx a network read at a time with
#: no bound, so 64 KiB of zstd or gzip could become gigabytes before any size check
_ACCEPT: Final = {"Accept": "application/json", "Accept-Encoding": "identity"}


def _encoded(resp: httpx.Response) -> str | None:
    """Why ``resp`` is refused for its ``Content-Encoding`` (None: it is sent unencoded)."""
    encoding = resp.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return None
    return f"sent with Content-Encoding `{encoding[:40]}`; Proctor reads it unencoded only"


def _get_json(url: str, timeout_s: float, what: str) -> Any:
    # httpx's timeout bounds each read, not the whole body: an agent trickling a byte at a time
    # would hold the fetch for ever, so the body must arrive within the timeout as a whole
    deadline = _REAL_TIME.monotonic() + timeout_s
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=False) as http,
            http.stream("GET", url, headers=_ACCEPT) as resp,
        ):
            if resp.status_code != 200:
                raise A2ACardRefused(f"{what}: HTTP {resp.status_code}")
            if encoded := _encoded(resp):
                raise A2ACardRefused(f"{what}: {encoded}")
            body = b""
            for chunk in resp.iter_raw():
                body += chunk
                if len(body) > _MAX_CARD_BYTES:
                    raise A2ACardRefused(f"{what}: larger than {_MAX_CARD_BYTES} bytes")
                if _REAL_TIME.monotonic() > deadline:
                    raise UpstreamError(f"{what}: not received within {timeout_s:g}s")
    except httpx.HTTPError:
        raise UpstreamError(f"{what}: the agent could not be reached") from None
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise A2ACardRefused(f"{what}: not JSON") from None


def fetch_card(url: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """The card at ``url`` (as served, signatures and all)."""
    card = _get_json(url, timeout_s, "the agent card")
    if not isinstance(card, dict):
        raise A2ACardRefused("the agent card is not a JSON object")
    return card


def pinned_keys(a2a: Mapping[str, Any], timeout_s: float) -> list[dict[str, Any]]:
    keys = [dict(k) for k in a2a.get("keys") or []]
    jwks_url = a2a.get("jwks_url")
    if isinstance(jwks_url, str) and jwks_url:
        try:
            check_jwks_url(jwks_url)
            keys.extend(_jwks(_get_json(jwks_url, timeout_s, "the pinned JWK Set"), skip_unsupported=True))
        except ValidationError as exc:
            raise A2ACardRefused(f"the pinned JWK Set: {exc.message}") from None
    return keys


def _verify_one(sig: Any, payload: str, keys: Sequence[Mapping[str, Any]]) -> str | None:
    """The kid (or thumbprint) of the pinned key that made ``sig``, or None."""
    if not isinstance(sig, dict) or not isinstance(sig.get("protected"), str):
        return None
    if not isinstance(sig.get("signature"), str):
        return None
    try:
        header = json.loads(b64url_decode(sig["protected"]))
        raw = b64url_decode(sig["signature"])
    except (ValueError, RecursionError):
        return None
    if not isinstance(header, dict) or header.get("alg") not in _ALGORITHMS or "crit" in header:
        return None
    kid = header.get("kid")
    # a pinned key the signature names first; any pinned key otherwise (each was trusted by an operator)
    ordered = sorted(keys, key=lambda k: k.get("kid") != kid)
    signing_input = (sig["protected"] + "." + payload).encode("ascii")
    for jwk in ordered:
        try:
            key = _key_of(jwk)
        except ValidationError:
            continue
        try:
            if header["alg"] == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
                if len(raw) != 64:
                    continue
                der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
                key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
            elif header["alg"] == "EdDSA" and isinstance(key, Ed25519PublicKey):
                key.verify(raw, signing_input)
            else:
                continue
        except InvalidSignature:
            continue
        return str(jwk.get("kid") or "")
    return None


def verify_card(
    card: Mapping[str, Any], keys: Sequence[Mapping[str, Any]], *, allow_unsigned: bool = False
) -> str | None:
    """Check that one of ``card``'s signatures is valid under one of the pinned ``keys``; returns
    the kid of the key that signed it (None: an unsigned card the operator allowed). Raises
    :class:`A2ACardRefused` otherwise: the card is unsigned, or no signature verifies (tampered
    after signing, made with a key nobody pinned, an algorithm Proctor does not accept)."""
    sigs = card.get("signatures")
    if not sigs:
        if allow_unsigned:
            return None
        raise A2ACardRefused("the agent card is not signed")
    if not isinstance(sigs, list):
        raise A2ACardRefused("the agent card's `signatures` is not a list")
    if not keys:
        raise A2ACardRefused("no card key is pinned for this agent")
    payload = b64url(canonical_card(card))
    for sig in sigs[:8]:
        kid = _verify_one(sig, payload, keys)
        if kid is not None:
            return kid
    raise A2ACardRefused(
        "no signature on the agent card verifies with a pinned key (changed after signing, or signed by another key)"
    )


#: effects a card may not give its own skills: the card is written by the party Proctor controls,
#: and a `read` is permitted by the baseline and never traced for where its data goes. Only the
#: operator (`--tool-effect SKILL=read`) makes a skill a read.
OPERATOR_ONLY_EFFECTS: Final = frozenset({"read"})


def declared_effects(card: Mapping[str, Any]) -> dict[str, str]:
    """The effect each skill's ``proctor:effect=`` tag declares (skills that declare none are not
    in it). Assumes :func:`skill_effects` has accepted the card."""
    out: dict[str, str] = {}
    for skill in card.get("skills") or []:
        if isinstance(skill, dict) and isinstance(skill.get("id"), str):
            tags = skill.get("tags") or []
            found = [t[len(EFFECT_TAG) :] for t in tags if isinstance(t, str) and t.startswith(EFFECT_TAG)]
            if found:
                out[skill["id"]] = found[0]
    return out


def skill_effects(card: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each skill's effect: the operator's override, else its ``proctor:effect=`` tag (unless the
    tag claims an effect only the operator may give, :data:`OPERATOR_ONLY_EFFECTS`), else
    ``execute``. A skill whose id Proctor cannot route, or that declares two effects, is refused."""
    skills = card.get("skills") or []
    if not isinstance(skills, list):
        raise A2ACardRefused("the agent card's `skills` is not a list")
    out: dict[str, str] = {}
    for skill in skills:
        sid = skill.get("id") if isinstance(skill, dict) else None
        if not isinstance(sid, str) or not routable(sid):
            raise A2ACardRefused(f"a skill id Proctor cannot route: `{str(sid)[:60]}`")
        if sid.lower() in {s.lower() for s in out}:
            raise A2ACardRefused(f"skill `{sid}` is listed twice")
        tags = skill.get("tags") or []
        declared = {t[len(EFFECT_TAG) :] for t in tags if isinstance(t, str) and t.startswith(EFFECT_TAG)}
        if len(declared) > 1:
            raise A2ACardRefused(f"skill `{sid}` declares more than one effect")
        claimed = declared.pop() if declared else "execute"
        if claimed in OPERATOR_ONLY_EFFECTS:
            claimed = "execute"
        out[sid] = (overrides or {}).get(sid) or claimed
    return out


def verified_card(url: str, a2a: Mapping[str, Any], timeout_s: float) -> dict[str, Any]:
    """The card at ``url``, verified with the pinned keys and compared with the pinned digest."""
    card = fetch_card(url, timeout_s)
    verify_card(card, pinned_keys(a2a, timeout_s), allow_unsigned=bool(a2a.get("allow_unsigned")))
    pinned = a2a.get("card_digest")
    if not pinned or card_digest(card) != pinned:
        raise A2ACardRefused(
            "the agent card changed since it was pinned: re-pin it with `proctor upstream refresh --repin`"
        )
    return card


def endpoint(card: Mapping[str, Any], card_at: str) -> str:
    """Where the agent takes JSON-RPC ``SendMessage``: its card's A2A 1.0 JSON-RPC interface, which
    must be on the origin (scheme, host, port) of the card's registered URL ``card_at``. The card is
    the agent owner's word, not the operator's: an interface elsewhere would let it send the
    gateway's messages to any host the gateway can reach (a metadata address, an internal service)
    or downgrade them to plain HTTP."""
    url = _endpoint(card)
    if _origin(url) != _origin(card_at) or not _origin(url)[1]:
        raise A2ACardRefused(
            "the agent card's JSON-RPC interface is not on the origin its card was registered at"
        )
    return url


def _endpoint(card: Mapping[str, Any]) -> str:
    for iface in card.get("supportedInterfaces") or []:
        if not isinstance(iface, dict):
            continue
        version = str(iface.get("protocolVersion") or "")
        if iface.get("protocolBinding") == "JSONRPC" and version.split(".", maxsplit=1)[0] == "1":
            url = iface.get("url")
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                return url
    raise A2ACardRefused(f"the agent card offers no JSON-RPC interface of A2A {PROTOCOL_VERSION}")


def _answer_text(result: Any) -> str:
    """The text of an A2A answer: a Message's parts, or a Task's artifacts and status message."""
    parts: list[Any] = []
    if isinstance(result, dict):
        if isinstance(result.get("message"), dict):
            parts.extend(result["message"].get("parts") or [])
        task = result.get("task")
        if isinstance(task, dict):
            for art in task.get("artifacts") or []:
                if isinstance(art, dict):
                    parts.extend(art.get("parts") or [])
            status = task.get("status")
            if isinstance(status, dict) and isinstance(status.get("message"), dict):
                parts.extend(status["message"].get("parts") or [])
    texts = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif "data" in part:
            try:
                texts.append(json.dumps(part["data"], ensure_ascii=False, sort_keys=True))
            except RecursionError:
                texts.append("[data nested too deeply to show]")
    return "\n".join(texts)


class A2AClient:
    """An A2A agent behind the gateway's upstream-session interface: ``list_tools`` lists its
    verified card's skills, ``call_tool`` sends one ``SendMessage``. Built by
    :func:`proctor.gateway.upstream.open_upstream` for an ``a2a`` upstream."""

    def __init__(
        self, card: Mapping[str, Any], http: httpx.AsyncClient, timeout_s: float, card_at: str
    ) -> None:
        self.card = card
        self.endpoint = endpoint(card, card_at)
        self.http = http
        self.timeout_s = timeout_s
        #: an A2A agent serves no MCP resources, prompts or completions
        self.server_capabilities = types.ServerCapabilities(tools=types.ToolsCapability())

    async def list_tools(self, cursor: str | None = None, **_: Any) -> types.ListToolsResult:
        # the skills of the card as signed and pinned: empty values are not in its canonical form,
        # so a skill `{"id": null}` added to the served card changes neither signature nor digest
        signed = _clean({k: v for k, v in self.card.items() if k != "signatures"}) or {}
        skills: list[Any] = signed["skills"] if isinstance(signed.get("skills"), list) else []
        tools = [
            types.Tool(
                name=s["id"],
                description=str(s.get("description") or s.get("name") or "")[:2000],
                input_schema=dict(_INPUT_SCHEMA),
            )
            for s in skills
            if isinstance(s, dict) and isinstance(s.get("id"), str)
        ]
        return types.ListToolsResult(tools=tools)

    async def call_tool(
        self, name: str, arguments: Mapping[str, Any] | None = None, **_: Any
    ) -> types.CallToolResult:
        message = (arguments or {}).get("message")
        if not isinstance(message, str):
            return _error("the `message` argument must be text")
        body = {
            "jsonrpc": "2.0",
            "id": str(uuid.uuid4()),
            "method": "SendMessage",
            "params": {
                "message": {
                    "role": "ROLE_USER",
                    "messageId": str(uuid.uuid4()),
                    "parts": [{"text": message}],
                    "metadata": {"skill": name},
                },
                "configuration": {"acceptedOutputModes": ["text/plain", "application/json"]},
            },
        }
        try:
            # the whole answer within the timeout (httpx's bounds each read: a trickle passes it)
            with anyio.fail_after(self.timeout_s):
                raw, status = await self._post(body)
        except TimeoutError:
            raise UpstreamError(f"the A2A agent did not answer within {self.timeout_s:g}s") from None
        if isinstance(raw, str):
            return _error(raw)
        try:
            answer = json.loads(raw)
        except (ValueError, RecursionError):
            return _error(f"the A2A agent answered HTTP {status} without JSON")
        if not isinstance(answer, dict):
            return _error("the A2A agent answered malformed JSON-RPC")
        if "error" in answer:
            err = answer["error"] if isinstance(answer["error"], dict) else {}
            return _error(f"the A2A agent refused the message (JSON-RPC error {err.get('code')})")
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=_answer_text(answer.get("result")))]
        )

    async def _post(self, body: Mapping[str, Any]) -> tuple[bytes | str, int]:
        """The answer's body (text: why it was not read) and HTTP status."""
        try:
            async with self.http.stream(
                "POST",
                self.endpoint,
                json=body,
                headers={"A2A-Version": PROTOCOL_VERSION, **_ACCEPT},
                timeout=self.timeout_s,
            ) as resp:
                if encoded := _encoded(resp):
                    return f"the A2A agent's answer was {encoded}", resp.status_code
                raw = bytearray()
                async for chunk in resp.aiter_raw():
                    raw += chunk
                    if len(raw) > _MAX_ANSWER_BYTES:
                        return f"the A2A agent answered more than {_MAX_ANSWER_BYTES} bytes", resp.status_code
                return bytes(raw), resp.status_code
        except httpx.HTTPError:
            raise UpstreamError("the A2A agent could not be reached") from None


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)
