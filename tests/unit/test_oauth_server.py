"""The gateway's authorization server against a hostile client (docs/adr/0028): wrong PKCE
verifier, plain PKCE, code replay, redirect mismatch, wrong resource, a token for another
gateway or issuer, an expired or forged token, a suspended agent, a person consenting to an
agent that is not theirs. A real workspace (SQLite store, keys, audit) on a frozen clock."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from tests.unit.conftest import Env

from proctor.errors import OAuthRefused, ProctorError, TokenExpired, TokenInvalid
from proctor.oauth.server import AuthorizationServer, RedirectRefusal, pkce_s256, redirect_matches
from proctor.tasks.templates import TaskTemplate
from proctor.types import AgentStatus

URL = "http://127.0.0.1:9100/mcp"
ISSUER = "http://127.0.0.1:9100"
REDIRECT = "http://127.0.0.1/cb"
VERIFIER = "a" * 43


def _server(env: Env, url: str = URL, issuer: str = ISSUER) -> AuthorizationServer:
    return AuthorizationServer(env.p, issuer=issuer, resource=url)


@pytest.fixture
def srv(env: Env) -> AuthorizationServer:
    env.p.store.put_template(
        TaskTemplate(
            name="reading",
            purpose="read data",
            allow=("fs.read",),
            resources=("/data/*",),
            ttl_s=600,
            max_calls=None,
            requested_by=None,
            agents=("bot",),
            params=(),
            created_at=env.clock.now(),
            created_by="test",
        )
    )
    return _server(env)


def _client(srv: AuthorizationServer) -> str:
    return str(srv.register({"redirect_uris": [REDIRECT], "client_name": "c"})["client_id"])


def _params(cid: str, **over: str) -> dict[str, str]:
    q = {
        "response_type": "code",
        "client_id": cid,
        "redirect_uri": "http://127.0.0.1:5555/cb",
        "state": "s",
        "code_challenge": pkce_s256(VERIFIER),
        "code_challenge_method": "S256",
        "resource": URL,
    }
    q.update(over)
    return q


def _code(srv: AuthorizationServer, cid: str) -> str:
    req = srv.check_authorize(_params(cid))
    to = srv.consent(req, "owner@acme.test", "reading|bot")
    return parse_qs(urlsplit(to).query)["code"][0]


def _exchange(srv: AuthorizationServer, cid: str, code: str, **over: str) -> dict[str, object]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": cid,
        "redirect_uri": "http://127.0.0.1:5555/cb",
        "code_verifier": VERIFIER,
        "resource": URL,
    }
    form.update(over)
    return srv.token(form)


def test_plain_pkce_missing_challenge_and_wrong_resource_go_back_to_the_client(
    srv: AuthorizationServer,
) -> None:
    cid = _client(srv)
    for over, error in (
        ({"code_challenge_method": "plain", "code_challenge": VERIFIER}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"resource": "http://127.0.0.1:9200/mcp"}, "invalid_target"),
        ({"resource": ""}, "invalid_target"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "admin"}, "invalid_scope"),
    ):
        with pytest.raises(RedirectRefusal) as info:
            srv.check_authorize(_params(cid, **over))
        assert info.value.error == error
        back = srv.error_redirect(info.value.request, info.value.error)
        assert back.startswith("http://127.0.0.1:5555/cb?error=")
        assert "iss=" in back


def test_an_unknown_client_or_unregistered_redirect_is_never_redirected(srv: AuthorizationServer) -> None:
    cid = _client(srv)
    for params in (
        _params("pc_unknown"),
        _params(cid, redirect_uri="https://evil.example/cb"),
        _params(cid, redirect_uri="http://127.0.0.1:5555/cb/other"),
        _params(cid, redirect_uri="http://localhost:5555/cb"),
        _params(cid, redirect_uri="http://127.0.0.1:x/cb"),
    ):
        with pytest.raises(OAuthRefused) as info:
            srv.check_authorize(params)
        assert not isinstance(info.value, RedirectRefusal)


def test_redirect_uris_match_exactly_but_for_a_loopback_port() -> None:
    assert redirect_matches(("https://app.example/cb",), "https://app.example/cb")
    assert not redirect_matches(("https://app.example/cb",), "https://app.example:8443/cb")
    assert not redirect_matches(("https://app.example/cb",), "https://app.example/cb?x=1")
    assert redirect_matches(("http://127.0.0.1:1234/cb",), "http://127.0.0.1:9/cb")
    assert not redirect_matches(("http://127.0.0.1/cb",), "http://127.0.0.1.evil.example/cb")


def test_registration_refuses_bad_redirects_and_confidential_clients(srv: AuthorizationServer) -> None:
    bodies: tuple[object, ...] = (
        {"redirect_uris": ["http://evil.example/cb"]},
        {"redirect_uris": ["javascript:alert(1)"]},
        {"redirect_uris": ["https://a.example/cb#frag"]},
        {"redirect_uris": []},
        {"redirect_uris": ["https://a.example/cb"] * 9},
        {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic"},
        {"redirect_uris": [REDIRECT], "grant_types": ["client_credentials"]},
        ["not", "an", "object"],
        None,
    )
    for body in bodies:
        with pytest.raises(OAuthRefused):
            srv.register(body)


def test_wrong_verifier_other_client_and_redirect_mismatch_are_refused(srv: AuthorizationServer) -> None:
    cid = _client(srv)
    other = _client(srv)
    for over in (
        {"code_verifier": "b" * 43},
        {"code_verifier": "short"},
        {"client_id": other},
        {"redirect_uri": "http://127.0.0.1:5556/cb"},
        {"resource": "http://127.0.0.1:9200/mcp"},
    ):
        code = _code(srv, cid)
        with pytest.raises(OAuthRefused):
            _exchange(srv, cid, code, **over)
        # a code is spent by a failed exchange too
        with pytest.raises(OAuthRefused):
            _exchange(srv, cid, code)


def test_a_replayed_code_revokes_its_grant_and_its_tokens(env: Env, srv: AuthorizationServer) -> None:
    cid = _client(srv)
    code = _code(srv, cid)
    first = _exchange(srv, cid, code)
    srv.verify_access(str(first["access_token"]))
    with pytest.raises(OAuthRefused) as info:
        _exchange(srv, cid, code)
    assert info.value.error == "invalid_grant"
    with pytest.raises(TokenInvalid):
        srv.verify_access(str(first["access_token"]))
    with pytest.raises(OAuthRefused):
        srv.token({"grant_type": "refresh_token", "refresh_token": str(first["refresh_token"])})
    kinds = [r.kind for r in env.p.audit_records.newest(50)]
    assert "oauth.grant_revoked" in kinds


def test_an_expired_code_is_refused(env: Env, srv: AuthorizationServer) -> None:
    cid = _client(srv)
    code = _code(srv, cid)
    env.clock.advance(61)
    with pytest.raises(OAuthRefused, match="expired"):
        _exchange(srv, cid, code)


def test_tokens_are_bound_to_this_gateway_issuer_and_lifetime(env: Env, srv: AuthorizationServer) -> None:
    cid = _client(srv)
    tok = str(_exchange(srv, cid, _code(srv, cid))["access_token"])
    assert srv.verify_access(tok).agent == "bot"
    # another gateway of the same workspace: another audience
    with pytest.raises(ProctorError):
        _server(env, url="http://127.0.0.1:9200/mcp", issuer="http://127.0.0.1:9200").verify_access(tok)
    # the same resource named by another issuer
    with pytest.raises(TokenInvalid):
        _server(env, issuer="http://127.0.0.1:9300").verify_access(tok)
    # a forged signature, and an SVID presented as an access token
    head, body, sig = tok.split(".")
    forged = f"{head}.{body}.{sig[:-4]}AAAA"
    with pytest.raises(TokenInvalid):
        srv.verify_access(forged)
    with pytest.raises(TokenInvalid):
        srv.verify_access(env.svid)
    env.clock.advance(301)
    with pytest.raises(TokenExpired):
        srv.verify_access(tok)


def test_refresh_is_refused_once_the_agent_is_suspended(env: Env, srv: AuthorizationServer) -> None:
    cid = _client(srv)
    t = _exchange(srv, cid, _code(srv, cid))
    env.p.agents.set_status("bot", AgentStatus.SUSPENDED, by="test")
    with pytest.raises(OAuthRefused, match="suspended"):
        srv.token({"grant_type": "refresh_token", "refresh_token": str(t["refresh_token"])})


def test_an_ended_task_is_renewed_from_its_template_on_refresh(env: Env, srv: AuthorizationServer) -> None:
    cid = _client(srv)
    t = _exchange(srv, cid, _code(srv, cid))
    first = srv.verify_access(str(t["access_token"])).task_id
    env.clock.advance(601)  # the template's task lasts 600 s
    t2 = srv.token({"grant_type": "refresh_token", "refresh_token": str(t["refresh_token"])})
    second = srv.verify_access(str(t2["access_token"])).task_id
    assert second != first
    assert env.p.tasks.get(second).requested_by == "owner@acme.test"


def test_a_person_grants_only_agents_they_own(env: Env, srv: AuthorizationServer) -> None:
    cid = _client(srv)
    req = srv.check_authorize(_params(cid))
    assert srv.options("eve@acme.test") == []
    with pytest.raises(OAuthRefused):
        srv.consent(req, "eve@acme.test", "reading|bot")
    with pytest.raises(OAuthRefused):
        srv.consent(req, "owner@acme.test", "reading|other")


def test_client_id_metadata_documents(env: Env) -> None:
    docs = {
        "https://client.example/meta.json": b'{"client_id": "https://client.example/meta.json",'
        b' "client_name": "Doc client", "redirect_uris": ["http://127.0.0.1/cb"]}',
        "https://client.example/other.json": b'{"client_id": "https://client.example/meta.json",'
        b' "redirect_uris": ["http://127.0.0.1/cb"]}',
    }
    srv = AuthorizationServer(env.p, issuer=ISSUER, resource=URL, fetch=lambda u: docs[u])
    rec = srv.client("https://client.example/meta.json")
    assert rec.name == "Doc client"
    assert rec.kind == "cimd"
    for bad in (
        "https://client.example/other.json",  # names another client id
        "https://client.example/missing.json",  # cannot be read
        "http://client.example/meta.json",  # not https
        "https://client.example/",  # no path
        "https://127.0.0.1/meta.json",  # not a public host
        "http://127.0.0.1:9/meta.json",  # http loopback: only with the dev setting
    ):
        with pytest.raises(OAuthRefused):
            srv.client(bad)


def test_the_registration_limiter_bounds_each_source_and_everyone_per_window() -> None:
    from proctor.clock import FrozenClock
    from proctor.oauth.server import RegistrationLimiter

    clock = FrozenClock(0.0)
    limiter = RegistrationLimiter(clock, per_source=2, total=7, window_s=60.0, max_sources=3)
    assert [limiter.admit("a") for _ in range(3)] == [None, None, "source"]
    # sources beyond max_sources share one bucket: new addresses cannot buy more registrations
    assert [limiter.admit(s) for s in ("b", "c", "d", "e", "f")] == [None, None, None, None, "source"]
    assert limiter.admit("b") is None
    assert limiter.admit("c") == "total"  # 7 registered in this window, from anyone
    assert limiter.retry_after() == 60
    clock.advance(59.5)
    assert limiter.admit("c") == "total"
    assert limiter.retry_after() == 1
    clock.advance(0.5)
    assert limiter.admit("a") is None  # a new window
