"""The ``jwt`` credential provider, introspection (RFC 7662) and the introspection-client helpers and CLI.

Every test runs on a real SQLite workspace (``env``: agent ``bot``, a 600 s task, a FrozenClock) with a
:class:`JwtProvider` registered the way ``Proctor`` is meant to register it.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import typer
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.utils import base64url_decode
from tests import planted
from tests.unit.conftest import Env
from typer.testing import CliRunner

from proctor.cli import introspection as introspection_cli
from proctor.credentials.leases import Lease
from proctor.credentials.providers import IssueRequest
from proctor.credentials.providers.jwt import (
    IGNORED_SPEC_KEYS,
    JwtProvider,
    add_introspection_client,
    check_introspection_client,
    introspect,
    introspection_secret_name,
    list_introspection_clients,
    remove_introspection_client,
)
from proctor.credentials.secrets import NAME_RE, SecretStore
from proctor.crypto.jose import b64url
from proctor.errors import (
    Conflict,
    IdentityError,
    LeaseIssueFailed,
    TaskTokenInvalid,
    TokenInvalid,
    UnknownSecret,
    ValidationError,
)
from proctor.identity.keys import TYP_ACCESS_TOKEN
from proctor.server.api import create_app
from proctor.tasks.service import TASK_AUDIENCE
from proctor.types import AgentStatus, LeaseId, LeaseState, TaskState

AUD = "https://billing.test"
OTHER_AUD = "https://crm.test"
PLANTED_CLIENT_SECRET = "planted-client-secret-0d9f3b1c7a"  # a wrong secret a leak scan can look for


@pytest.fixture
def prov(env: Env) -> JwtProvider:
    p = JwtProvider(
        env.p.credentials.keys, env.p.audience, reserved_audiences=(env.p.audience, TASK_AUDIENCE)
    )
    env.p.credentials.register_provider(p, replace=True)
    return p


def issue(env: Env, spec: dict[str, Any] | None = None) -> tuple[Lease, str]:
    lease, data = env.p.credentials.leases.issue(env.task.task, env.agent, "jwt", spec or {"audience": AUD})
    return lease, planted.remember(str(data["token"]))


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    h, b, _ = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))
    claims = json.loads(base64.urlsafe_b64decode(b + "=" * (-len(b) % 4)))
    return header, claims


def look(env: Env, token: object, audience: str = AUD) -> dict[str, Any]:
    return introspect(
        env.p.credentials.keys, env.p.store, token, audience, env.clock.now(), issuer=env.p.audience
    )


# the token -------------------------------------------------------------------------------------
def test_header_and_claims_are_exactly_as_specified(env: Env, prov: JwtProvider) -> None:
    """Header {alg ES256, kid, typ at+jwt}; claims iss, sub, aud, exp, iat, jti=lease, client_id,
    task, lease, scope; data is {token, token_type}; the handle is the jti and holds no secret."""
    lease, data = env.p.credentials.leases.issue(
        env.task.task, env.agent, "jwt", {"audience": AUD, "scope": "invoices:read pay/x", "ttl": 120}
    )
    assert set(data) == {"token", "token_type"}
    assert data["token_type"] == "Bearer"
    header, claims = parts(data["token"])
    assert header == {"alg": "ES256", "kid": env.p.credentials.keys.active_kid, "typ": "at+jwt"}
    now = env.clock.now()
    assert claims == {
        "iss": env.p.audience,
        "sub": str(env.agent.spiffe_id),
        "aud": [AUD],
        "exp": math.floor(now + 120),
        "iat": math.floor(now),
        "jti": str(lease.id),
        "client_id": "bot",
        "task": str(env.task.task.id),
        "lease": str(lease.id),
        "scope": "invoices:read pay/x",
    }
    assert lease.expires_at == claims["exp"]
    assert lease.revoke_handle == {"jti": str(lease.id)}
    assert lease.kind == "jwt"
    assert data["token"] not in json.dumps(lease.to_dict())
    # the signature verifies with the JWKS the API serves
    jwk = next(k for k in env.p.credentials.keys.jwks(now)["keys"] if k["kid"] == header["kid"])
    key = jwt.PyJWK(jwk).key
    decoded = jwt.decode(
        data["token"],
        key,
        algorithms=["ES256"],
        audience=AUD,
        options={"verify_iat": False, "verify_exp": False},
    )
    assert decoded["lease"] == str(lease.id)


def test_no_scope_no_scope_claim(env: Env, prov: JwtProvider) -> None:
    """Without ``scope`` the claim is absent; ignored gateway keys do not reach the token."""
    spec = {"audience": AUD, **dict.fromkeys(IGNORED_SPEC_KEYS, "x")}
    _, token = issue(env, spec)
    _, claims = parts(token)
    assert "scope" not in claims
    assert not set(claims) & IGNORED_SPEC_KEYS - {"name"}
    assert "refresh_token" not in claims


def test_exp_is_clamped_to_the_task_deadline(env: Env, prov: JwtProvider) -> None:
    """Default ttl and any longer ttl end at floor(deadline), never later, even with fractional times;
    with less than a whole second before floor(deadline), nothing is issued."""
    env.clock.advance(0.7)
    task = env.p.tasks.start(
        agent="bot", purpose="fractional", allow=["fs.*"], requested_by="r@acme.test", ttl_s=300
    ).task
    deadline = task.deadline
    assert deadline != math.floor(deadline)
    env.clock.advance(100.6)
    for spec in ({"audience": AUD}, {"audience": AUD, "ttl": 10**9}, {"audience": AUD, "ttl": 200.5}):
        lease, data = env.p.credentials.leases.issue(task, env.agent, "jwt", spec)
        _, claims = parts(data["token"])
        assert claims["exp"] == math.floor(deadline) < deadline
        assert lease.expires_at == claims["exp"]
    lease, data = env.p.credentials.leases.issue(task, env.agent, "jwt", {"audience": AUD, "ttl": 30})
    assert parts(data["token"])[1]["exp"] == math.floor(env.clock.now() + 30) == lease.expires_at
    env.clock.set(math.floor(deadline) + 0.1)  # before the deadline, but exp would not be after now
    assert task.is_live(env.clock.now())
    with pytest.raises(LeaseIssueFailed):
        env.p.credentials.leases.issue(task, env.agent, "jwt", {"audience": AUD})
    req = IssueRequest(LeaseId.new(), task, env.agent, {"audience": AUD}, env.clock.now())
    with pytest.raises(ValidationError, match="less than a second"):
        prov.issue(req)


@pytest.mark.parametrize(
    "audience",
    [
        "spiffe://acme.test/proctor",
        "proctor:task",
        "spiffe://acme.test/agent/bot",
        "SPIFFE://other.test/agent/x",
        "proctor:anything",
        "",
        "a" * 513,
        "https://x.test/ path",
        "tab\there",
        42,
        None,
        ["https://billing.test"],
    ],
)
def test_reserved_spiffe_and_malformed_audiences_are_refused(
    env: Env, prov: JwtProvider, audience: object
) -> None:
    """A credential never carries Proctor's audiences or any SPIFFE ID, so it can never be replayed to
    Proctor as an identity or a task token; nothing is stored when issue is refused."""
    with pytest.raises(ValidationError):
        prov.check_spec({"audience": audience})
    with pytest.raises(LeaseIssueFailed):
        env.p.credentials.leases.issue(env.task.task, env.agent, "jwt", {"audience": audience})
    assert env.p.credentials.leases.list() == []


def test_audience_of_512_characters_is_allowed(env: Env, prov: JwtProvider) -> None:
    aud = "https://" + "a" * 504
    assert len(aud) == 512
    _, token = issue(env, {"audience": aud})
    assert parts(token)[1]["aud"] == [aud]


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"audience": AUD, "refresh": True}, "refresh"),
        ({"audience": AUD, "aud": AUD}, "aud"),
        ({"audience": AUD, "sub": "spiffe://acme.test/agent/root"}, "sub"),
        ({"ttl": 10}, "audience"),
        ({"audience": AUD, "ttl": True}, "ttl"),
        ({"audience": AUD, "ttl": 0.5}, "ttl"),
        ({"audience": AUD, "ttl": float("inf")}, "ttl"),
        ({"audience": AUD, "ttl": "60"}, "ttl"),
        ({"audience": AUD, "scope": "a  b"}, "scope"),
        ({"audience": AUD, "scope": "read,write"}, "scope"),
        ({"audience": AUD, "scope": "x" * 513}, "scope"),
        ({"audience": AUD, "scope": ["read"]}, "scope"),
    ],
)
def test_bad_specs_are_refused_by_name(env: Env, prov: JwtProvider, spec: dict[str, Any], named: str) -> None:
    """Unknown keys and malformed values raise a ValidationError naming the key."""
    with pytest.raises(ValidationError, match=f"`{named}`"):
        prov.check_spec(spec)
    req = IssueRequest(LeaseId.new(), env.task.task, env.agent, spec, env.clock.now())
    with pytest.raises(ValidationError):
        prov.issue(req)


def test_revoke_is_an_idempotent_no_op(env: Env, prov: JwtProvider) -> None:
    """Revocation is the lease state (which introspection reads); the provider has nothing to undo."""
    lease, token = issue(env)
    prov.revoke(lease.revoke_handle)
    prov.revoke(lease.revoke_handle)
    revoked = env.p.credentials.leases.revoke(lease.id, "test")
    assert revoked.state is LeaseState.REVOKED
    assert not revoked.pending
    assert look(env, token) == {"active": False}


def test_sign_claims_typ_and_audience_length(env: Env) -> None:
    """Only JWT and at+jwt types are signed; 512-character audiences only for credential tokens."""
    keys, now = env.p.credentials.keys, env.clock.now()
    with pytest.raises(ValidationError):
        keys.sign_claims({"aud": [AUD]}, now, 60, typ="jose")
    long_aud = "https://" + "a" * 300
    with pytest.raises(ValidationError):
        keys.sign_claims({"aud": [long_aud]}, now, 60)
    assert keys.sign_claims({"aud": [long_aud]}, now, 60, typ=TYP_ACCESS_TOKEN)
    assert jwt.get_unverified_header(keys.sign_claims({"aud": [AUD]}, now, 60))["typ"] == "JWT"


# a credential is never an identity, an identity never a credential ---------------------------------
def test_a_credential_token_is_refused_as_an_svid_or_task_token(env: Env, prov: JwtProvider) -> None:
    """Even signed by the same key, a token of typ at+jwt fails SVID and task-token verification, before
    and after introspection has verified it (the SVID cache is never shared)."""
    _, token = issue(env)
    for _ in range(2):
        with pytest.raises(TokenInvalid, match="type"):
            env.p.agents.verify_svid(token)
        with pytest.raises(TokenInvalid, match="type"):
            env.p.agents.keys.verify_token(token, AUD, env.clock.now())
        with pytest.raises(TaskTokenInvalid):
            env.p.tasks.verify_token(token, env.agent)
        assert look(env, token)["active"] is True
    # even a credential token carrying Proctor's audience (forged by an insider) is no SVID
    insider = env.p.credentials.keys.sign_claims(
        {"sub": str(env.agent.spiffe_id), "aud": [env.p.audience]}, env.clock.now(), 60, typ=TYP_ACCESS_TOKEN
    )
    with pytest.raises(IdentityError):
        env.p.agents.verify_svid(insider)


def test_an_svid_or_task_token_is_never_active(env: Env, prov: JwtProvider) -> None:
    """An SVID (even one for the client's audience), a task token, or an SVID-typed token with lease
    claims: all inactive."""
    svid_for_client = env.p.agents.issue_svid(env.agent, AUD)
    env.p.agents.verify_svid(env.svid)  # warm the SVID cache
    assert look(env, env.svid, env.p.audience) == {"active": False}
    assert look(env, svid_for_client) == {"active": False}
    assert look(env, env.task.token, TASK_AUDIENCE) == {"active": False}
    _lease, token = issue(env)
    _, claims = parts(token)
    body = {k: v for k, v in claims.items() if k not in ("iat", "exp")}
    as_jwt = env.p.credentials.keys.sign_claims(body, env.clock.now(), 60)  # typ JWT, same claims
    assert look(env, as_jwt) == {"active": False}
    assert look(env, token)["active"] is True


# introspection --------------------------------------------------------------------------------
def test_active_answer(env: Env, prov: JwtProvider) -> None:
    lease, token = issue(env, {"audience": AUD, "scope": "read"})
    ans = look(env, token)
    _, claims = parts(token)
    assert ans == {
        "active": True,
        "client_id": "bot",
        "sub": str(env.agent.spiffe_id),
        "aud": [AUD],
        "iss": env.p.audience,
        "exp": claims["exp"],
        "iat": claims["iat"],
        "jti": str(lease.id),
        "token_type": "Bearer",
        "scope": "read",
        "task": str(env.task.task.id),
        "lease": str(lease.id),
    }
    assert look(env, token, OTHER_AUD) == {"active": False}  # not meant for that client


def test_inactive_after_lease_revocation(env: Env, prov: JwtProvider) -> None:
    lease, token = issue(env)
    env.p.credentials.leases.revoke(lease.id)
    assert look(env, token) == {"active": False}


def test_inactive_after_task_end(env: Env, prov: JwtProvider) -> None:
    _, token = issue(env)
    env.p.tasks.end(str(env.task.task.id), state=TaskState.CANCELLED)
    assert look(env, token) == {"active": False}


def test_inactive_after_agent_suspension(env: Env, prov: JwtProvider) -> None:
    _, token = issue(env)
    env.p.agents.set_status("bot", AgentStatus.SUSPENDED)
    assert look(env, token) == {"active": False}
    env.p.agents.set_status("bot", AgentStatus.ACTIVE)  # resuming does not revive a revoked lease
    assert look(env, token) == {"active": False}


def test_inactive_past_expiry_and_deadline_without_a_sweep(env: Env, prov: JwtProvider) -> None:
    _, short = issue(env, {"audience": AUD, "ttl": 60})
    _, full = issue(env)
    env.clock.advance(61)
    assert look(env, short) == {"active": False}
    assert look(env, full)["active"] is True
    env.clock.set(env.task.task.deadline)
    assert look(env, full) == {"active": False}


def test_inactive_when_the_lease_belongs_elsewhere_or_claims_disagree(env: Env, prov: JwtProvider) -> None:
    """Validly signed tokens whose claims do not match their lease (an insider's forgery) are inactive."""
    _lease, token = issue(env)
    _, claims = parts(token)
    now = env.clock.now()
    base = {k: v for k, v in claims.items() if k not in ("iat", "exp")}
    for change in (
        {"task": "tsk_AAAAAAAAAAAAAAAAAAAAAA"},
        {"sub": "spiffe://acme.test/agent/other"},
        {"client_id": "other"},
        {"jti": "something-else"},
        {"lease": "lse_AAAAAAAAAAAAAAAAAAAAAA", "jti": "lse_AAAAAAAAAAAAAAAAAAAAAA"},
        {"lease": "not-a-lease-id", "jti": "not-a-lease-id"},
        {"lease": None},
        {"lease": 7, "jti": 7},
        {"iss": "https://evil.test"},
    ):
        body = {**base, **change}
        body = {k: v for k, v in body.items() if v is not None}
        forged = env.p.credentials.keys.sign_claims(body, now, 60, typ=TYP_ACCESS_TOKEN)
        assert look(env, forged) == {"active": False}, change
    assert look(env, token)["active"] is True


def test_clock_skew_future_iat_is_inactive(env: Env, prov: JwtProvider) -> None:
    """A token issued beyond the leeway in the future is inactive; within the leeway it is fine."""
    _lease, token = issue(env)
    _, claims = parts(token)
    body = {k: v for k, v in claims.items() if k not in ("iat", "exp")}
    now = env.clock.now()
    ahead = env.p.credentials.keys.sign_claims(
        body, now + env.p.credentials.keys.leeway + 5, 60, typ=TYP_ACCESS_TOKEN
    )
    assert look(env, ahead) == {"active": False}
    near = env.p.credentials.keys.sign_claims(
        body, now + env.p.credentials.keys.leeway - 1, 60, typ=TYP_ACCESS_TOKEN
    )
    assert look(env, near)["active"] is True


def test_forged_signature_and_alg_none_are_inactive(env: Env, prov: JwtProvider) -> None:
    _, token = issue(env)
    header, claims = parts(token)
    other = ec.generate_private_key(ec.SECP256R1())
    assert look(env, jwt.encode(claims, other, algorithm="ES256", headers=header)) == {"active": False}
    none = b64url(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
    body = b64url(json.dumps(claims).encode())
    assert look(env, f"{none}.{body}.") == {"active": False}
    h, b, s = token.split(".")
    assert look(env, f"{h}.{b}.{s[:-4]}AAAA") == {"active": False}
    assert look(env, token + "x" * 9000) == {"active": False}


_SEGMENT = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=60),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=10,
    ).map(lambda v: b64url(json.dumps(v).encode())),
    st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "lease", "aud", "exp", "iat", "jti"]),
        st.one_of(st.text(max_size=50), st.integers(), st.sampled_from(["ES256", "at+jwt", "none"])),
    ).map(lambda v: b64url(json.dumps(v).encode())),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(max_size=300),
        st.binary(max_size=100),
        st.tuples(_SEGMENT, _SEGMENT, _SEGMENT).map(".".join),
        st.integers(),
        st.none(),
    )
)
def test_garbage_is_never_active_and_never_raises(env: Env, token: object) -> None:
    """Whatever arrives as a token, the answer is {"active": false}, never an exception."""
    assert look(env, token) == {"active": False}


_ISSUED: dict[int, str] = {}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0), st.characters(codec="ascii"))
def test_mutated_real_token_is_never_active(env: Env, position: int, ch: str) -> None:
    """One character of a real token changed: inactive, unless the signature segment still decodes to
    the same bytes (base64url's last character carries unused bits)."""
    if id(env) not in _ISSUED:
        env.p.credentials.register_provider(JwtProvider(env.p.credentials.keys, env.p.audience), replace=True)
        _ISSUED[id(env)] = issue(env)[1]
    token = _ISSUED[id(env)]
    i = position % len(token)
    mutated = token[:i] + ch + token[i + 1 :]
    ans = look(env, mutated)
    if mutated == token:
        assert ans["active"] is True
    elif ans["active"]:
        h, b, sig = mutated.split(".")
        assert f"{h}.{b}." == token[: token.rindex(".") + 1]
        assert base64url_decode(sig) == base64url_decode(token.split(".")[2])


# introspection clients ----------------------------------------------------------------------------
@pytest.fixture
def ss(env: Env) -> SecretStore:
    return SecretStore.open(env.ws, env.p.store, now=env.clock.now(), env={})


def test_secret_name_is_a_valid_secret_name() -> None:
    name = introspection_secret_name("https://billing.test/api?x=1")
    assert NAME_RE.fullmatch(name)
    assert name.startswith("introspect.")
    assert len(name) == len("introspect.") + 32
    assert name != introspection_secret_name("https://billing.test/api?x=2")


def test_client_add_check_list_rotate_remove(env: Env, ss: SecretStore) -> None:
    """The secret is returned once and stored only as a verifier next to the audience."""
    secret = add_introspection_client(ss, AUD, env.clock.now())
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) == 32
    stored = ss.get(introspection_secret_name(AUD))
    assert secret.encode() not in stored
    assert json.loads(stored)["audience"] == AUD
    assert check_introspection_client(ss, AUD, secret)
    assert not check_introspection_client(ss, AUD, PLANTED_CLIENT_SECRET)
    assert not check_introspection_client(ss, OTHER_AUD, secret)
    assert not check_introspection_client(ss, "", secret)
    with pytest.raises(Conflict):
        add_introspection_client(ss, AUD, env.clock.now())
    with pytest.raises(UnknownSecret):
        add_introspection_client(ss, OTHER_AUD, env.clock.now(), rotate=True)
    with pytest.raises(ValidationError):
        add_introspection_client(ss, "spiffe://acme.test/agent/bot", env.clock.now())
    new = add_introspection_client(ss, AUD, env.clock.now(), rotate=True)
    assert not check_introspection_client(ss, AUD, secret)
    assert check_introspection_client(ss, AUD, new)
    add_introspection_client(ss, OTHER_AUD, env.clock.now())
    clients = list_introspection_clients(ss)
    assert [(c.audience, c.version) for c in clients] == [(AUD, 2), (OTHER_AUD, 1)]
    assert remove_introspection_client(ss, AUD)
    assert not remove_introspection_client(ss, AUD)
    assert not check_introspection_client(ss, AUD, new)
    assert [c.audience for c in list_introspection_clients(ss)] == [OTHER_AUD]


def _cli() -> typer.Typer:
    app = typer.Typer()
    introspection_cli.register(app)
    return app


def test_cli_add_list_remove(env: Env) -> None:
    """`introspection-client add` prints the secret once with a warning; list shows audiences only."""
    runner = CliRunner()
    w = ["--workspace", str(env.ws.root)]
    r = runner.invoke(_cli(), ["introspection-client", "add", AUD, *w])
    assert r.exit_code == 0, r.output
    assert "will not be shown again" in r.output
    secret = r.output.strip().splitlines()[-1].strip()
    ss = SecretStore.open(env.ws, env.p.store, now=env.clock.now())
    assert check_introspection_client(ss, AUD, secret)
    r = runner.invoke(_cli(), ["introspection-client", "add", AUD, *w])
    assert r.exit_code == 2
    assert "--rotate" in r.output
    r = runner.invoke(_cli(), ["introspection-client", "add", "proctor:task", *w])
    assert r.exit_code == 2
    r = runner.invoke(_cli(), ["introspection-client", "add", AUD, "--rotate", *w])
    assert r.exit_code == 0
    rotated = r.output.strip().splitlines()[-1].strip()
    assert rotated != secret
    r = runner.invoke(_cli(), ["introspection-client", "list", "--json", *w])
    assert r.exit_code == 0
    listed = json.loads(r.output)
    assert [c["audience"] for c in listed] == [AUD]
    assert listed[0]["version"] == 2
    assert secret not in r.output
    assert rotated not in r.output
    r = runner.invoke(_cli(), ["introspection-client", "remove", AUD, *w])
    assert r.exit_code == 0
    r = runner.invoke(_cli(), ["introspection-client", "remove", AUD, *w])
    assert r.exit_code == 2
    env.p.audit.flush()
    kinds = [x.kind for x in env.p.store.iter_audit() if x.kind.startswith("introspection_client.")]
    assert kinds == [
        "introspection_client.added",
        "introspection_client.rotated",
        "introspection_client.removed",
    ]
    bodies = "".join(x.body.decode() for x in env.p.store.iter_audit())
    assert secret not in bodies
    assert rotated not in bodies


# the HTTP endpoint, in-process ---------------------------------------------------------------
@pytest.fixture
def api(env: Env, prov: JwtProvider) -> Iterator[tuple[TestClient, str]]:
    ss = SecretStore.open(env.ws, env.p.store, now=env.clock.now())
    secret = add_introspection_client(ss, AUD, env.clock.now())
    with TestClient(create_app(env.p, env.ws)) as client:
        yield client, secret


def _basic(client_id: str, secret: str) -> dict[str, str]:
    from urllib.parse import quote_plus

    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_endpoint_active_inactive_and_audit(env: Env, api: tuple[TestClient, str]) -> None:
    client, secret = api
    lease, token = issue(env)
    r = client.post(
        "/v1/introspect",
        data={"token": token, "token_type_hint": "access_token"},
        headers=_basic(AUD, secret),
    )
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert r.json()["active"] is True
    assert r.json()["lease"] == str(lease.id)
    env.p.credentials.leases.revoke(lease.id)
    r = client.post("/v1/introspect", data={"token": token}, headers=_basic(AUD, secret))
    assert r.json() == {"active": False}
    env.p.audit.flush()
    rows = [x for x in env.p.store.iter_audit() if x.kind == "lease.introspected"]
    assert len(rows) == 1
    body = json.loads(rows[0].body)
    assert (body["lease_id"], body["client"], body["agent"], body["task"]) == (
        str(lease.id),
        AUD,
        "bot",
        str(env.task.task.id),
    )
    assert token not in rows[0].body.decode()


def test_endpoint_client_authentication(env: Env, api: tuple[TestClient, str]) -> None:
    """No, malformed or wrong Basic credentials: 401 with a Basic challenge and a JSON error."""
    client, secret = api
    _, token = issue(env)
    for headers in (
        {},
        {"Authorization": "Bearer " + token},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        _basic(AUD, PLANTED_CLIENT_SECRET),
        _basic(OTHER_AUD, secret),
        _basic(AUD, ""),
    ):
        r = client.post("/v1/introspect", data={"token": token}, headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"] == 'Basic realm="proctor-introspection"'
        assert r.headers["cache-control"] == "no-store"
        assert r.json()["error"]["code"] == "introspection_client_invalid"
        assert PLANTED_CLIENT_SECRET not in r.text


def test_endpoint_bad_requests(env: Env, api: tuple[TestClient, str]) -> None:
    client, secret = api
    h = _basic(AUD, secret)
    assert client.post("/v1/introspect", json={"token": "x"}, headers=h).status_code == 415
    form = {**h, "Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/v1/introspect", content=b"", headers=form).status_code == 400
    assert client.post("/v1/introspect", content=b"token=", headers=form).status_code == 400
    r = client.post(
        "/v1/introspect",
        content=b"token=a&token=b",
        headers={**h, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400
    big = b"token=" + b"a" * (20 * 1024)
    r = client.post(
        "/v1/introspect", content=big, headers={**h, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:
        yield b"token="
        for _ in range(40):
            yield b"a" * 1024

    r = client.post(
        "/v1/introspect", content=chunks(), headers={**h, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413
    r = client.post("/v1/introspect", data={"token": "a" * 9000}, headers=h)
    assert r.status_code == 200
    assert r.json() == {"active": False}
    r = client.post(
        "/v1/introspect",
        content=b"token=%ff%fe",
        headers={**h, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.json() == {"active": False}
    assert "/v1/introspect" in client.get("/openapi.json").json()["paths"]


def test_the_credential_ring_and_the_svid_ring_share_no_key(env: Env, prov: JwtProvider) -> None:
    """Credential tokens are signed by a ring of their own: its JWKS and the SVID JWKS share no key,
    an `at+jwt` token signed with an SVID key is inactive at introspection, and a credential token
    is unknown to the SVID verifier whatever its `typ`."""
    now = env.clock.now()
    svid_kids = {k["kid"] for k in env.p.agents.keys.jwks(now)["keys"]}
    cred_kids = {k["kid"] for k in env.p.credentials.keys.jwks(now)["keys"]}
    assert svid_kids
    assert cred_kids
    assert not svid_kids & cred_kids
    _, token = issue(env)
    _, claims = parts(token)
    body = {k: v for k, v in claims.items() if k not in ("iat", "exp")}
    with_svid_key = env.p.agents.keys.sign_claims(body, now, 60, typ=TYP_ACCESS_TOKEN)
    assert look(env, with_svid_key) == {"active": False}
    assert look(env, token)["active"] is True
    as_jwt = env.p.credentials.keys.sign_claims(
        {"sub": str(env.agent.spiffe_id), "aud": [env.p.audience]}, now, 60
    )
    with pytest.raises(IdentityError, match="unknown signing key"):
        env.p.agents.verify_svid(as_jwt)


def test_endpoint_a_pending_kill_makes_the_token_inactive(env: Env, api: tuple[TestClient, str]) -> None:
    """A suspension or task end that waits in the kill file (the store or the log could not take
    it yet) is enforced by introspection too: a resource server stops accepting the task's
    credential token at once, like every Proctor decision."""
    from proctor.killswitch import PendingKill

    client, secret = api
    for kind, target in (("agent", "bot"), ("task", str(env.task.task.id))):
        _, token = issue(env)
        r = client.post("/v1/introspect", data={"token": token}, headers=_basic(AUD, secret))
        assert r.json()["active"] is True
        env.p.kills.add(PendingKill(kind, target, env.clock.now(), "cli", "", "store_locked"))
        r = client.post("/v1/introspect", data={"token": token}, headers=_basic(AUD, secret))
        assert r.json() == {"active": False}, kind
        env.p.kills.remove(kind, target)


def test_a_pending_kill_refuses_a_credential(env: Env, prov: JwtProvider) -> None:
    """No credential is issued to an agent suspended, or a task ended, only in the kill file:
    whatever path reaches issuance (a session opened just after the kill), it is refused there too."""
    from proctor.errors import AgentSuspended, TaskNotActive
    from proctor.killswitch import PendingKill
    from proctor.policy.engine import CredentialRef

    ref = CredentialRef("billing-api", "jwt", "payments")
    task_id, agent = env.task.task.id, env.agent.name
    lease, _ = env.p.credentials.obtain(task_id, agent, ref, {"audience": AUD})
    assert lease.state is LeaseState.ACTIVE
    for kind, target, refused in (("agent", "bot", AgentSuspended), ("task", str(task_id), TaskNotActive)):
        env.p.kills.add(PendingKill(kind, target, env.clock.now(), "cli", "", "store_locked"))
        with pytest.raises(refused):
            env.p.credentials.obtain(task_id, agent, ref, {"audience": AUD})
        env.p.kills.remove(kind, target)


@pytest.mark.parametrize("how", ["kill_file", "crash"])
def test_endpoint_a_child_token_is_inactive_once_its_chain_is_not_live(
    env: Env, api: tuple[TestClient, str], how: str
) -> None:
    """Red team (docs/adr/0037, 0032): a delegated child's credential token goes inactive when the
    agent that delegated it is suspended, or the task it was delegated from ends, only in the
    kill file (the store could not take it yet), or recorded without the cascade (a crash between
    the two): the pipeline, delegation and the broker refuse that child already
    (`Tasks.check_lineage`); a downstream API asking introspection must not be told it is active."""
    from proctor.killswitch import PendingKill
    from proctor.types import AgentName

    client, secret = api
    helper = env.p.agents.add("helper", "owner@acme.test")
    for kind, target in (("agent", "bot"), ("task", str(env.task.task.id))):
        child = env.p.tasks.delegate(
            str(env.task.task.id), agent="helper", allow=["fs.read"], resources=["/data/x*"]
        )
        _, data = env.p.credentials.leases.issue(child.task, helper, "jwt", {"audience": AUD})
        token = planted.remember(str(data["token"]))
        r = client.post("/v1/introspect", data={"token": token}, headers=_basic(AUD, secret))
        assert r.json()["active"] is True
        if how == "kill_file":
            env.p.kills.add(PendingKill(kind, target, env.clock.now(), "cli", "", "store_locked"))
        elif kind == "agent":
            env.p.store.set_agent_status(AgentName("bot"), AgentStatus.SUSPENDED, env.clock.now())
        else:
            env.p.store.end_task(env.task.task.id, TaskState.CANCELLED, env.clock.now(), "crash")
        r = client.post("/v1/introspect", data={"token": token}, headers=_basic(AUD, secret))
        assert r.json() == {"active": False}, (how, kind)
        if how == "kill_file":
            env.p.kills.remove(kind, target)
        elif kind == "agent":
            env.p.store.set_agent_status(AgentName("bot"), AgentStatus.ACTIVE, env.clock.now())
        else:
            break
