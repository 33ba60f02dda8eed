"""Red team of the gateway's authorization server (docs/adr/0028): redirect URIs whose host hides
behind user information, Client ID Metadata Document URLs that reach this host by another
spelling, and grants of a person whose account is disabled. A real workspace (SQLite store,
keys, audit) on a frozen clock, as in ``test_oauth_server``."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
from tests.unit.conftest import Env
from tests.unit.test_oauth_server import _client, _code, _exchange, _params, srv

from proctor.errors import OAuthRefused, StoreUnavailable, TokenInvalid
from proctor.oauth import server as oauth_server
from proctor.oauth.http import OAuthEndpoints
from proctor.oauth.server import AuthorizationServer, RedirectRefusal, redirect_matches
from proctor.types import AgentStatus

__all__ = ["srv"]


def test_a_redirect_uri_with_user_information_is_refused(srv: AuthorizationServer) -> None:
    # each looks like the loopback or a trusted host on the consent page, but a browser goes
    # to evil.example
    for uri in (
        "http://127.0.0.1:1@evil.example/cb",
        "http://localhost:8080@evil.example/cb",
        "https://app.example@evil.example/cb",
        "http://127.0.0.1:1\\@evil.example/cb",
    ):
        with pytest.raises(OAuthRefused) as info:
            srv.register({"redirect_uris": [uri]})
        assert info.value.error == "invalid_redirect_uri", uri
    # nor is such a URI taken at /authorize as a loopback one of another port
    cid = _client(srv)
    with pytest.raises(OAuthRefused) as refused:
        srv.check_authorize(_params(cid, redirect_uri="http://127.0.0.1:1@127.0.0.1/cb"))
    assert not isinstance(refused.value, RedirectRefusal)


def test_an_ipv6_loopback_redirect_without_a_port_registers_and_takes_any_port(
    srv: AuthorizationServer,
) -> None:
    out = srv.register({"redirect_uris": ["http://[::1]/cb"]})
    assert out["redirect_uris"] == ["http://[::1]/cb"]
    assert redirect_matches(("http://[::1]/cb",), "http://[::1]:49152/cb")


def test_a_client_id_url_that_reaches_this_host_is_never_fetched(env: Env) -> None:
    """`_private_host` looked at the spelling only: a decimal or short IPv4, or a name that
    resolves to the loopback, was fetched (SSRF from an unauthenticated GET /authorize)."""
    srv = AuthorizationServer(env.p, issuer="http://127.0.0.1:9100", resource="http://127.0.0.1:9100/mcp")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        for host in ("2130706433", "127.1", "0x7f000001", "localhost.", "127.0.0.1."):
            with pytest.raises(OAuthRefused) as info:
                srv.client(f"https://{host}:{port}/meta.json")
            assert info.value.error == "invalid_client"
        listener.settimeout(0.3)
        # nothing connected to this host: on main, every one of them did
        with pytest.raises(TimeoutError):
            listener.accept()


def test_a_disabled_persons_grant_is_not_refreshed(env: Env, srv: AuthorizationServer) -> None:
    """Disabling an account ends its web sessions; its consent must not keep starting tasks in
    its name for the 30 days a grant lasts."""
    env.p.accounts.add("owner@acme.test", password="correct horse battery", by="test")
    cid = _client(srv)
    t = _exchange(srv, cid, _code(srv, cid))
    env.p.accounts.set_disabled("owner@acme.test", True, by="test")
    # the access token in hand stops at once, as the person's web sessions do
    with pytest.raises(TokenInvalid):
        srv.verify_access(str(t["access_token"]))
    with pytest.raises(OAuthRefused) as info:
        srv.token({"grant_type": "refresh_token", "refresh_token": str(t["refresh_token"])})
    assert info.value.error == "invalid_grant"
    grant = srv.store.list_oauth_grants()[0]
    assert grant.revoked_at is not None
    kinds = [r.kind for r in env.p.audit_records.newest(20)]
    assert "oauth.grant_revoked" in kinds


def test_a_client_id_metadata_document_trickled_slowly_is_cut_off(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetch's time limit bounded each read only: a server sending a few bytes now and then
    held a thread of the gateway's pool for as long as it liked."""
    monkeypatch.setattr(oauth_server, "CIMD_TIMEOUT_S", 1.0)
    srv = AuthorizationServer(env.p, issuer="http://127.0.0.1:9100", resource="http://127.0.0.1:9100/mcp")
    srv.allow_http_client_ids = True  # gateway.oauth_allow_http_client_ids: a loopback document
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/meta.json"
    doc = json.dumps({"client_id": url, "redirect_uris": ["http://127.0.0.1/cb"]}).encode()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(doc)}\r\n\r\n"
            conn.sendall(head.encode())
            step = len(doc) // 8 + 1
            for i in range(0, len(doc), step):
                time.sleep(0.3)  # each read well within the limit, the whole well past it
                with contextlib.suppress(OSError):
                    conn.sendall(doc[i : i + step])

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    try:
        with pytest.raises(OAuthRefused, match="took too long"):
            srv.client(url)
    finally:
        server.join(10)
        listener.close()


def test_a_compressed_client_id_metadata_document_is_refused_before_it_is_inflated(
    env: Env,
) -> None:
    """httpx inflated a compressed body a network read at a time with no bound, before the size
    check: whoever names a client_id URL could make the gateway inflate 64 KiB of gzip to 64 MiB
    (of zstd, to gigabytes). The document is read as sent; one sent compressed is refused."""
    srv = AuthorizationServer(env.p, issuer="http://127.0.0.1:9100", resource="http://127.0.0.1:9100/mcp")
    srv.allow_http_client_ids = True  # gateway.oauth_allow_http_client_ids: a loopback document
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/meta.json"
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                f"Content-Length: {len(bomb)}\r\n\r\n"
            )
            with contextlib.suppress(OSError):
                conn.sendall(head.encode() + bomb)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        with pytest.raises(OAuthRefused, match="content encoding"):
            srv.client(url)
    finally:
        server.join(10)
        listener.close()


def test_a_refused_refresh_does_not_spend_the_token(env: Env, srv: AuthorizationServer) -> None:
    """A refresh refused while the agent is suspended spent the token: the client's retry once
    the agent was resumed was taken for a stolen token's reuse, and the grant was revoked."""
    cid = _client(srv)
    t = _exchange(srv, cid, _code(srv, cid))
    refresh = {"grant_type": "refresh_token", "refresh_token": str(t["refresh_token"])}
    env.p.agents.set_status("bot", AgentStatus.SUSPENDED, by="test")
    with pytest.raises(OAuthRefused, match="suspended"):
        srv.token(refresh)
    env.p.agents.set_status("bot", AgentStatus.ACTIVE, by="test")
    again = srv.token(refresh)
    assert srv.verify_access(str(again["access_token"])).agent == "bot"
    assert srv.store.list_oauth_grants()[0].revoked_at is None
    # and the token is spent now: a reuse still revokes the grant
    with pytest.raises(OAuthRefused, match="used already"):
        srv.token(refresh)
    assert srv.store.list_oauth_grants()[0].revoked_at is not None


def test_a_store_error_at_the_token_endpoint_is_refused_without_its_detail(
    env: Env, srv: AuthorizationServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The MCP endpoint keeps a store error's text (a path, the PostgreSQL address, the driver's
    message) for the operator's log; /token sent it to whoever asked."""
    cid = _client(srv)
    t = _exchange(srv, cid, _code(srv, cid))
    endpoints = OAuthEndpoints(srv)

    def broken(*_a: object, **_k: object) -> None:
        raise StoreUnavailable("cannot reach PostgreSQL at db.internal:5432/proctor: password authentication")

    monkeypatch.setattr(env.p.store, "peek_oauth_refresh", broken, raising=False)
    monkeypatch.setattr(env.p.store, "rotate_oauth_refresh", broken)

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await endpoints(scope, receive, send)

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9100") as client:
            return await client.post(
                "/token", data={"grant_type": "refresh_token", "refresh_token": str(t["refresh_token"])}
            )

    r = asyncio.run(post())
    assert r.status_code == 503
    assert "db.internal" not in r.text
    assert "password" not in r.text


def test_disabling_a_person_stops_the_access_token_a_gateway_has_cached(
    env: Env, srv: AuthorizationServer
) -> None:
    """A gateway remembers a verified caller up to 30 s and, on a hit, re-reads only the agent's
    status: a person disabled (in any process) kept their access token working there, since the
    grant's task stayed live. Disabling now revokes the person's grants and ends their tasks, which
    every process sees on its next snapshot."""
    from proctor.gateway.http import GatewayAuth
    from proctor.types import TaskId

    env.p.accounts.add("owner@acme.test", password="correct horse battery", by="test")
    cid = _client(srv)
    t = _exchange(srv, cid, _code(srv, cid))
    auth = GatewayAuth(None, env.p, srv.resource, oauth=srv)  # type: ignore[arg-type]  # no app behind
    headers = {"authorization": f"Bearer {t['access_token']}"}
    caller = auth._caller(headers, env.p.state.snapshot())
    env.p.accounts.set_disabled("owner@acme.test", True, by="test")
    task = env.p.store.get_task(TaskId(caller.task_id))
    assert task is not None
    assert not task.is_live(env.clock.now())
    grant = srv.store.list_oauth_grants()[0]
    assert grant.revoked_at is not None
