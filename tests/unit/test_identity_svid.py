"""JWT-SVID issue and verify: the happy path, every forgery we know of, and the verified-token cache."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.clock import FrozenClock
from proctor.crypto.jose import b64url
from proctor.errors import (
    AgentSuspended,
    IdentityError,
    TokenAlgorithmRejected,
    TokenAudienceMismatch,
    TokenExpired,
    TokenInvalid,
    TokenNotYetValid,
    ValidationError,
)
from proctor.identity import SigningKeys, SvidAuthority, SvidClaims
from proctor.identity import keys as keys_module
from proctor.store import open_store
from proctor.store.base import AgentRecord, Store
from proctor.types import AgentName, AgentStatus, Email, SpiffeId, TrustDomain

TD = TrustDomain("acme.test")
AUD = "proctor"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/p.db")
    yield s
    s.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def keys(tmp_path: Path, store: Store, clock: FrozenClock) -> SigningKeys:
    return SigningKeys(tmp_path / "keys", store, clock.now())


@pytest.fixture
def svids(keys: SigningKeys) -> SvidAuthority:
    return SvidAuthority(keys, TD)


@pytest.fixture
def agent(store: Store, clock: FrozenClock) -> AgentRecord:
    name = AgentName("bot")
    rec = AgentRecord(
        name=name,
        spiffe_id=SpiffeId.for_agent(TD, name),
        owner=Email("alice@example.com"),
        status=AgentStatus.ACTIVE,
        selectors=(),
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    store.add_agent(rec)
    return rec


def _private(keys: SigningKeys) -> ec.EllipticCurvePrivateKey:
    pem = (keys.keydir / f"svid-{keys.active_kid}.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _claims(clock: FrozenClock, **over: Any) -> dict[str, Any]:
    now = int(clock.now())
    base: dict[str, Any] = {
        "sub": f"spiffe://{TD}/agent/bot",
        "aud": [AUD],
        "iat": now,
        "exp": now + 300,
        "jti": "j1",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def _sign(keys: SigningKeys, claims: dict[str, Any], **headers: Any) -> str:
    """Sign arbitrary claims with the workspace's real active key (an insider-crafted token)."""
    return jwt.encode(claims, _private(keys), algorithm="ES256", headers={"kid": keys.active_kid, **headers})


def _unsigned(header: dict[str, Any], claims: dict[str, Any], sig: bytes = b"") -> str:
    enc = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    return enc + "." + b64url(sig)


# --- happy path ------------------------------------------------------------------------------------
def test_issue_and_verify(svids: SvidAuthority, agent: AgentRecord, clock: FrozenClock) -> None:
    """An issued SVID has the spec's header and claims and verifies to the agent's identity."""
    token = svids.issue(agent, AUD, clock.now())
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": svids.keys.active_kid, "typ": "JWT"}
    claims = svids.verify(token, AUD, clock.now())
    assert isinstance(claims, SvidClaims)
    assert claims.spiffe_id == agent.spiffe_id
    assert claims.agent == "bot"
    assert claims.audience == (AUD,)
    assert claims.exp - claims.iat == 300
    assert claims.kid == svids.keys.active_kid
    assert claims.jti
    raw = jwt.decode(token, options={"verify_signature": False})
    assert isinstance(raw["aud"], list)


def test_extra_claims_are_exposed_read_only(
    keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock
) -> None:
    """Claims beyond the standard ones appear in ``extra``, which cannot be changed."""
    token = keys.sign_claims(
        {"sub": f"spiffe://{TD}/agent/bot", "aud": AUD, "task": "tsk_1"}, clock.now(), 60
    )
    claims = svids.verify(token, AUD, clock.now())
    assert dict(claims.extra) == {"task": "tsk_1"}
    with pytest.raises(TypeError):
        claims.extra["task"] = "other"  # type: ignore[index] # proving it is read-only


def test_suspended_agent_gets_no_svid(svids: SvidAuthority, agent: AgentRecord, clock: FrozenClock) -> None:
    """Issuing an SVID to a suspended agent fails."""
    from dataclasses import replace

    with pytest.raises(AgentSuspended):
        svids.issue(replace(agent, status=AgentStatus.SUSPENDED), AUD, clock.now())


def test_reserved_and_bad_audiences_refused(
    svids: SvidAuthority, agent: AgentRecord, clock: FrozenClock
) -> None:
    """SVIDs cannot be minted for Proctor's own token audiences, nor for empty audiences."""
    for aud in ("proctor:task", ["ok", "proctor:task"], [], "", "a\nb"):
        with pytest.raises(ValidationError):
            svids.issue(agent, aud, clock.now())


def test_agent_outside_trust_domain_refused(
    keys: SigningKeys, agent: AgentRecord, clock: FrozenClock
) -> None:
    """An authority for one trust domain does not issue SVIDs for another's agents."""
    with pytest.raises(ValidationError, match="outside trust domain"):
        SvidAuthority(keys, "other.test").issue(agent, AUD, clock.now())


def test_multiple_audiences(svids: SvidAuthority, agent: AgentRecord, clock: FrozenClock) -> None:
    """A token for several audiences verifies for each, and only for those."""
    token = svids.issue(agent, ["a", "b"], clock.now())
    assert svids.verify(token, "a", clock.now()).audience == ("a", "b")
    assert svids.verify(token, "b", clock.now()).agent == "bot"
    with pytest.raises(TokenAudienceMismatch):
        svids.verify(token, "c", clock.now())


# --- time ------------------------------------------------------------------------------------------
def test_expired(svids: SvidAuthority, agent: AgentRecord, clock: FrozenClock) -> None:
    """A token is valid until just before exp and expired at exp."""
    token = svids.issue(agent, AUD, clock.now())
    svids.keys.invalidate()
    clock.advance(299.9)
    svids.verify(token, AUD, clock.now())
    svids.keys.invalidate()
    clock.advance(0.1)
    with pytest.raises(TokenExpired):
        svids.verify(token, AUD, clock.now())


def test_cached_token_still_expires(svids: SvidAuthority, agent: AgentRecord, clock: FrozenClock) -> None:
    """A token verified once (and cached) is still rejected once it has expired."""
    token = svids.issue(agent, AUD, clock.now())
    svids.verify(token, AUD, clock.now())
    clock.advance(300)
    with pytest.raises(TokenExpired):
        svids.verify(token, AUD, clock.now())


def test_cached_token_rejects_other_audience(
    svids: SvidAuthority, agent: AgentRecord, clock: FrozenClock
) -> None:
    """A cached token is not served for an audience it was not issued for."""
    token = svids.issue(agent, AUD, clock.now())
    svids.verify(token, AUD, clock.now())
    with pytest.raises(TokenAudienceMismatch):
        svids.verify(token, "billing", clock.now())
    assert svids.verify(token, AUD, clock.now()).agent == "bot"


def test_not_yet_valid(
    keys: SigningKeys, svids: SvidAuthority, agent: AgentRecord, clock: FrozenClock
) -> None:
    """iat or nbf beyond the leeway in the future is rejected; within the leeway it is accepted."""
    future = svids.issue(agent, AUD, clock.now() + 60)
    with pytest.raises(TokenNotYetValid):
        svids.verify(future, AUD, clock.now())
    slight = svids.issue(agent, AUD, clock.now() + 5)
    assert svids.verify(slight, AUD, clock.now()).agent == "bot"
    nbf = _sign(keys, _claims(clock, nbf=int(clock.now()) + 60))
    with pytest.raises(TokenNotYetValid):
        svids.verify(nbf, AUD, clock.now())


def test_pyjwt_clock_is_not_used(svids: SvidAuthority, agent: AgentRecord) -> None:
    """Time checks use the caller's clock: a token from 1990 verifies at a 1990 clock."""
    clock = FrozenClock(631_152_000.0)
    token = svids.issue(agent, AUD, clock.now())
    assert svids.verify(token, AUD, clock.now()).agent == "bot"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 10**400, "9999999999", True, None])
def test_bad_exp_values(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock, bad: Any) -> None:
    """exp that is missing, NaN, infinite, huge, a string or a boolean is rejected."""
    token = _sign(keys, _claims(clock, exp=bad))
    with pytest.raises(TokenInvalid):
        svids.verify(token, AUD, clock.now())


def test_lifetime_over_maximum(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock) -> None:
    """A token whose lifetime exceeds the workspace's maximum is rejected even if correctly signed."""
    token = _sign(keys, _claims(clock, exp=int(clock.now()) + 10 * 86_400))
    with pytest.raises(TokenInvalid, match="lifetime"):
        svids.verify(token, AUD, clock.now())


# --- claims ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("missing", ["sub", "aud", "exp", "iat", "jti"])
def test_missing_claims(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock, missing: str) -> None:
    """Each required claim, when absent, makes the token invalid."""
    claims = _claims(clock)
    del claims[missing]
    with pytest.raises(TokenInvalid, match=missing):
        svids.verify(_sign(keys, claims), AUD, clock.now())


@pytest.mark.parametrize(
    "sub",
    [
        "spiffe://evil.test/agent/bot",
        "spiffe://acme.test/workload/bot",
        "bot",
        "spiffe://acme.test/agent/Bot",
    ],
)
def test_foreign_or_malformed_subject(
    keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock, sub: str
) -> None:
    """A sub outside the trust domain, or not an agent SPIFFE ID, is rejected."""
    with pytest.raises(TokenInvalid, match="sub"):
        svids.verify(_sign(keys, _claims(clock, sub=sub)), AUD, clock.now())


@pytest.mark.parametrize("aud", ["billing", ["billing", "other"], [], [1], ""])
def test_wrong_or_malformed_audience(
    keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock, aud: Any
) -> None:
    """A token for another audience, or with a malformed aud, is rejected."""
    with pytest.raises((TokenAudienceMismatch, TokenInvalid)) as exc:
        svids.verify(_sign(keys, _claims(clock, aud=aud)), AUD, clock.now())
    if aud in ("billing", ["billing", "other"]):
        assert exc.type is TokenAudienceMismatch
    else:
        assert exc.type is TokenInvalid


def test_string_audience_is_accepted(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock) -> None:
    """The JWT-SVID spec allows aud as a single string; it verifies like a one-element list."""
    assert svids.verify(_sign(keys, _claims(clock, aud=AUD)), AUD, clock.now()).audience == (AUD,)


# --- forgeries -------------------------------------------------------------------------------------
def test_forged_signature_same_kid(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock) -> None:
    """A token signed by another ES256 key under our kid fails signature verification."""
    attacker = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(_claims(clock), attacker, algorithm="ES256", headers={"kid": keys.active_kid})
    with pytest.raises(TokenInvalid, match="signature"):
        svids.verify(token, AUD, clock.now())


def test_tampered_payload(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock) -> None:
    """Changing the payload of a genuine token breaks its signature."""
    token = _sign(keys, _claims(clock))
    h, _, s = token.split(".")
    evil = b64url(json.dumps(_claims(clock, sub=f"spiffe://{TD}/agent/admin")).encode())
    with pytest.raises(TokenInvalid, match="signature"):
        svids.verify(f"{h}.{evil}.{s}", AUD, clock.now())


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "", "es256"])
def test_alg_none(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock, alg: str) -> None:
    """Unsigned tokens (alg none in any spelling) are rejected as a forbidden algorithm."""
    token = _unsigned({"alg": alg, "kid": keys.active_kid, "typ": "JWT"}, _claims(clock))
    with pytest.raises(TokenAlgorithmRejected):
        svids.verify(token, AUD, clock.now())


def _hs256(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


def test_hs256_with_public_key_as_secret(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock) -> None:
    """Algorithm confusion: HS256 keyed with our public key (PEM, JWK or JWKS) is rejected."""
    pub = _private(keys).public_key()
    pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (jwk,) = keys.jwks(clock.now())["keys"]
    header = {"alg": "HS256", "kid": keys.active_kid, "typ": "JWT"}
    for secret in (pem, json.dumps(jwk).encode(), json.dumps(keys.jwks(clock.now())).encode()):
        token = _hs256(secret, header, _claims(clock))
        with pytest.raises(TokenAlgorithmRejected):
            svids.verify(token, AUD, clock.now())
        with pytest.raises(TokenAlgorithmRejected):
            keys.verify_claims(token, AUD, clock.now())


def test_rs256_token(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock) -> None:
    """A correctly formed RS256 token is rejected: only ES256 is accepted."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(clock), rsa_key, algorithm="RS256", headers={"kid": keys.active_kid})
    with pytest.raises(TokenAlgorithmRejected):
        svids.verify(token, AUD, clock.now())


def test_es384_token(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock) -> None:
    """Another ECDSA algorithm (ES384 over P-384) is rejected too."""
    p384 = ec.generate_private_key(ec.SECP384R1())
    token = jwt.encode(_claims(clock), p384, algorithm="ES384", headers={"kid": keys.active_kid})
    with pytest.raises(TokenAlgorithmRejected):
        svids.verify(token, AUD, clock.now())


def test_unknown_kid(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock) -> None:
    """A token naming a kid the store does not know is rejected, whatever the kid looks like."""
    attacker = ec.generate_private_key(ec.SECP256R1())
    for kid in ("A" * 43, "../../etc/passwd", "x"):
        token = jwt.encode(_claims(clock), attacker, algorithm="ES256", headers={"kid": kid})
        with pytest.raises(TokenInvalid, match="unknown signing key"):
            svids.verify(token, AUD, clock.now())
    no_kid = jwt.encode(_claims(clock), _private(keys), algorithm="ES256")
    with pytest.raises(TokenInvalid, match="kid"):
        svids.verify(no_kid, AUD, clock.now())


def test_audit_key_cannot_verify_svids(
    tmp_path: Path, keys: SigningKeys, svids: SvidAuthority, store: Store, clock: FrozenClock
) -> None:
    """A kid registered for audit checkpoints is not a key SVIDs may be signed with."""
    from proctor.audit.key import load_or_create_audit_key

    audit = load_or_create_audit_key(keys.keydir, store, clock.now())
    token = _unsigned({"alg": "ES256", "kid": audit.kid}, _claims(clock), b"\x00" * 64)
    with pytest.raises(TokenInvalid, match="unknown signing key"):
        svids.verify(token, AUD, clock.now())


@pytest.mark.parametrize(
    "extra", [{"jku": "https://evil"}, {"jwk": {"kty": "EC"}}, {"crit": ["exp"]}, {"b64": False}]
)
def test_unexpected_header_parameters(
    keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock, extra: dict[str, Any]
) -> None:
    """Header parameters Proctor does not use (jku, jwk, crit, b64) make the token invalid."""
    signing_input = (
        b64url(json.dumps({"alg": "ES256", "kid": keys.active_kid, **extra}).encode())
        + "."
        + b64url(json.dumps(_claims(clock)).encode())
    )
    from jwt.algorithms import ECAlgorithm

    sig = ECAlgorithm(ECAlgorithm.SHA256).sign(signing_input.encode(), _private(keys))
    with pytest.raises(TokenInvalid, match=r"header|malformed"):
        svids.verify(signing_input + "." + b64url(sig), AUD, clock.now())


def test_oversized_token(keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock) -> None:
    """A genuinely signed token over 8 KiB is refused before parsing."""
    token = _sign(keys, _claims(clock, pad="x" * 9000))
    with pytest.raises(TokenInvalid, match="longer than 8192"):
        svids.verify(token, AUD, clock.now())


@pytest.mark.parametrize("garbage", ["", ".", "..", "a.b.c", "a.b", "a.b.c.d", "é.é.é", "eyJ.eyJ.", " " * 10])
def test_malformed_strings(svids: SvidAuthority, clock: FrozenClock, garbage: str) -> None:
    """Strings that are not compact JWS tokens are invalid."""
    with pytest.raises(TokenInvalid):
        svids.verify(garbage, AUD, clock.now())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_fuzz_never_raises_anything_else(
    svids: SvidAuthority, clock: FrozenClock, token: str | bytes
) -> None:
    """Whatever string or bytes is passed, verify raises an IdentityError subclass and nothing else."""
    with pytest.raises(IdentityError):
        svids.verify(token, AUD, clock.now())  # type: ignore[arg-type] # bytes on purpose


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "x"]), _json_values, max_size=4),
    payload=st.one_of(
        st.binary(max_size=80), st.dictionaries(st.sampled_from(list(_claims(FrozenClock()))), _json_values)
    ),
    sig=st.binary(max_size=80),
    es256=st.booleans(),
)
def test_fuzz_structured_tokens(
    keys: SigningKeys,
    svids: SvidAuthority,
    clock: FrozenClock,
    header: dict[str, Any],
    payload: bytes | dict[str, Any],
    sig: bytes,
    es256: bool,
) -> None:
    """Three well-formed base64url segments with arbitrary header, claims and signature never verify
    and never raise anything but an IdentityError."""
    if es256:
        header = {**header, "alg": "ES256", "kid": keys.active_kid}
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    token = f"{b64url(json.dumps(header).encode())}.{b64url(body)}.{b64url(sig)}"
    with pytest.raises(IdentityError):
        svids.verify(token, AUD, clock.now())


# --- cache -----------------------------------------------------------------------------------------
def test_cache_hit_skips_signature_work(
    svids: SvidAuthority, agent: AgentRecord, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second verify of the same token is served from the cache, returning the same claims object."""
    token = svids.issue(agent, AUD, clock.now())
    first = svids.verify(token, AUD, clock.now())

    def boom(*a: Any, **kw: Any) -> Any:
        raise AssertionError("cache miss")

    monkeypatch.setattr(keys_module._PYJWT, "decode_complete", boom)
    assert svids.verify(token, AUD, clock.now()) is first
    other = svids.issue(agent, AUD, clock.now())
    with pytest.raises(TokenInvalid):  # an uncached token really goes through PyJWT
        svids.verify(other, AUD, clock.now())


def test_invalidate_empties_cache(
    svids: SvidAuthority, agent: AgentRecord, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After invalidate(), a token is verified again from scratch."""
    token = svids.issue(agent, AUD, clock.now())
    svids.verify(token, AUD, clock.now())
    svids.keys.invalidate()
    monkeypatch.setattr(keys_module._PYJWT, "decode_complete", lambda *a, **kw: 1 / 0)
    with pytest.raises(TokenInvalid):
        svids.verify(token, AUD, clock.now())


def test_cache_is_bounded(tmp_path: Path, store: Store, agent: AgentRecord, clock: FrozenClock) -> None:
    """The verified-token cache never grows past its size limit."""
    keys = SigningKeys(tmp_path / "k2", store, clock.now(), cache_size=10)
    svids = SvidAuthority(keys, TD)
    for _ in range(25):
        svids.verify(svids.issue(agent, AUD, clock.now()), AUD, clock.now())
        assert len(keys._cache) <= 10


def test_failed_svid_check_is_not_cached_as_success(
    keys: SigningKeys, svids: SvidAuthority, clock: FrozenClock
) -> None:
    """A token that passes generic checks but not SVID checks fails every time, cached or not."""
    token = keys.sign_claims({"sub": "spiffe://evil.test/agent/bot", "aud": AUD}, clock.now(), 60)
    assert keys.verify_claims(token, AUD, clock.now())["sub"].startswith("spiffe://evil")
    for _ in range(2):
        with pytest.raises(TokenInvalid, match="outside trust domain"):
            svids.verify(token, AUD, clock.now())


# --- generic signed claims -------------------------------------------------------------------------
def test_sign_and_verify_claims(keys: SigningKeys, clock: FrozenClock) -> None:
    """sign_claims/verify_claims round-trip a task-style token; exp never exceeds now + ttl."""
    deadline = clock.now() + 120.7
    token = keys.sign_claims(
        {"sub": f"spiffe://{TD}/agent/bot", "aud": "proctor:task", "task": "tsk_x"},
        clock.now(),
        deadline - clock.now(),
    )
    claims = keys.verify_claims(token, "proctor:task", clock.now())
    assert claims["task"] == "tsk_x"
    assert claims["exp"] <= deadline
    claims["task"] = "changed"  # a copy: the cache is not affected
    assert keys.verify_claims(token, "proctor:task", clock.now())["task"] == "tsk_x"
    with pytest.raises(TokenAudienceMismatch):
        keys.verify_claims(token, AUD, clock.now())


def test_sign_claims_refuses_bad_input(keys: SigningKeys, clock: FrozenClock) -> None:
    """sign_claims needs an audience, sets the time claims itself and caps the lifetime."""
    with pytest.raises(ValidationError):
        keys.sign_claims({"sub": "x"}, clock.now(), 60)
    with pytest.raises(ValidationError):
        keys.sign_claims({"aud": "x", "exp": 1}, clock.now(), 60)
    with pytest.raises(ValidationError):
        keys.sign_claims({"aud": "x"}, clock.now(), keys.max_token_ttl + 1)
    with pytest.raises(ValidationError):
        keys.sign_claims({"aud": "x"}, clock.now(), 0)
