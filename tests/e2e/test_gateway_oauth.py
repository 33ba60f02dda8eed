"""The HTTP gateway as the OAuth authorization server the MCP authorization spec expects
(docs/adr/0028): metadata, dynamic registration, authorization code with PKCE through a real
sign-in and consent page (Playwright driving Debian's Chromium), access tokens the gateway takes,
refresh-token rotation with reuse detection, and refusals once the agent is suspended."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.e2e.gateway_harness import GatewayThread, free_port

from proctor.app import Proctor
from proctor.gateway.config import load_upstreams, save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent


@dataclass
class Gw:
    url: str
    base: str
    p: Proctor
    gateway: GatewayThread


def _workspace(tmp_path: Path, extra: str = "") -> Workspace:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + extra)
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "time",
                    "command": str(BIN / "mcp-server-time"),
                    "args": ["--local-timezone", "UTC"],
                    "default": {"effect": "read"},
                }
            )
        ],
    )
    return ws


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gw]:
    ws = _workspace(tmp_path)
    p = Proctor.open(ws)
    port = free_port()
    gateway = GatewayThread.start(p, load_upstreams(ws.root), port)
    try:
        yield Gw(gateway.url, f"http://127.0.0.1:{port}", p, gateway)
    finally:
        gateway.stop()
        p.close()


def test_metadata_names_this_listener_as_the_authorization_server(gw: Gw) -> None:
    """RFC 9728 metadata names the gateway's own base URL as issuer; RFC 8414 metadata is served
    there with S256 only; a 401 points at the protected-resource metadata."""
    with httpx.Client(timeout=10) as h:
        prm = h.get(f"{gw.base}/.well-known/oauth-protected-resource/mcp").json()
        assert prm["authorization_servers"] == [gw.base + "/"]
        asm = h.get(f"{gw.base}/.well-known/oauth-authorization-server").json()
        assert asm["issuer"] == gw.base + "/"
        assert asm["authorization_endpoint"] == f"{gw.base}/authorize"
        assert asm["token_endpoint"] == f"{gw.base}/token"
        assert asm["registration_endpoint"] == f"{gw.base}/register"
        assert asm["code_challenge_methods_supported"] == ["S256"]
        r = h.post(gw.url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
        assert r.status_code == 401
        assert (
            f'resource_metadata="{gw.base}/.well-known/oauth-protected-resource/mcp"'
            in r.headers["www-authenticate"]
        )
        assert "error=" not in r.headers["www-authenticate"]  # no credentials: no error code
        assert h.get(f"{gw.base}/.well-known/openid-configuration").status_code != 200


# the flow, driven over HTTP ------------------------------------------------------------------
PW = "correct horse battery staple"
REDIRECT = "http://127.0.0.1/callback"


def setup_people(p: Proctor, *, ttl_s: float = 900.0) -> None:
    """Ann owns agent `bot`; template `timekeeping` lets `bot` read the time."""
    from proctor.tasks.templates import TaskTemplate

    p.accounts.add("ann@acme.test", password=PW, by="test")
    p.accounts.add("eve@acme.test", password=PW, by="test")
    p.agents.add("bot", "ann@acme.test")
    p.store.put_template(
        TaskTemplate(
            name="timekeeping",
            purpose="tell the time",
            allow=("time.get_current_time",),
            resources=(),
            ttl_s=ttl_s,
            max_calls=None,
            requested_by=None,
            agents=("bot",),
            params=(),
            created_at=p.clock.now(),
            created_by="test",
        )
    )


def register(h: httpx.Client, gw: Gw, redirect: str = REDIRECT, name: str = "Test client") -> str:
    r = h.post(f"{gw.base}/register", json={"redirect_uris": [redirect], "client_name": name})
    assert r.status_code == 201, r.text
    return str(r.json()["client_id"])


def _field(html: str, name: str) -> str:
    from tests.e2e.web_harness import form_value

    return form_value(html, name)


def auth_query(gw: Gw, client_id: str, verifier: str, **over: str) -> dict[str, str]:
    from proctor.oauth.server import pkce_s256

    q = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT.replace("127.0.0.1", "127.0.0.1:43210"),
        "state": "st-1",
        "code_challenge": pkce_s256(verifier),
        "code_challenge_method": "S256",
        "resource": gw.url,
    }
    q.update(over)
    return {k: v for k, v in q.items() if v != ""}


def consent(h: httpx.Client, gw: Gw, q: dict[str, str], email: str = "ann@acme.test") -> httpx.Response:
    """Sign in on the authorization page and approve: the answer redirects to the client."""
    r = h.get(f"{gw.base}/authorize", params=q)
    assert r.status_code == 200, r.text
    r = h.post(
        f"{gw.base}/authorize/login",
        data={**q, "login_csrf": _field(r.text, "login_csrf"), "email": email, "password": PW},
    )
    assert r.status_code == 303, r.text
    r = h.get(gw.base + r.headers["location"])
    assert r.status_code == 200, r.text
    assert "timekeeping" in r.text
    assert "Test client" in r.text
    return h.post(
        f"{gw.base}/authorize",
        data={**q, "csrf": _field(r.text, "csrf"), "option": "timekeeping|bot", "action": "approve"},
    )


def code_of(r: httpx.Response) -> str:
    from urllib.parse import parse_qs, urlsplit

    assert r.status_code == 303, r.text
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q["state"] == ["st-1"]
    return q["code"][0]


VERIFIER = "v" * 20 + "-._~" + "x" * 30


def tokens(h: httpx.Client, gw: Gw, client_id: str, code: str, **over: str) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "redirect_uri": REDIRECT.replace("127.0.0.1", "127.0.0.1:43210"),
        "code_verifier": VERIFIER,
        "resource": gw.url,
    }
    data.update(over)
    return h.post(f"{gw.base}/token", data={k: v for k, v in data.items() if v != ""})


def mcp_list(h: httpx.Client, gw: Gw, access: str) -> httpx.Response:
    return h.post(
        gw.url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        },
        headers={
            "Authorization": f"Bearer {access}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
        },
    )


def test_code_flow_tokens_rotation_and_reuse_revokes_the_grant(gw: Gw) -> None:
    """Sign in, consent, exchange the code with PKCE: the access token opens the gateway as
    agent `bot` on a task from the template, with Ann as requester; the refresh token rotates;
    using the old one again revokes the grant (audited) and ends its task."""
    setup_people(gw.p)
    with httpx.Client(timeout=20) as h:
        cid = register(h, gw)
        code = code_of(consent(h, gw, auth_query(gw, cid, VERIFIER)))
        r = tokens(h, gw, cid, code)
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        t1 = r.json()
        assert t1["token_type"] == "Bearer"
        assert 0 < t1["expires_in"] <= 300
        tasks = gw.p.tasks.list(agent="bot")
        assert len(tasks) == 1
        assert tasks[0].requested_by == "ann@acme.test"
        assert mcp_list(h, gw, t1["access_token"]).status_code == 200
        r2 = h.post(
            f"{gw.base}/token",
            data={"grant_type": "refresh_token", "refresh_token": t1["refresh_token"], "client_id": cid},
        )
        assert r2.status_code == 200, r2.text
        t2 = r2.json()
        assert t2["refresh_token"] != t1["refresh_token"]
        assert mcp_list(h, gw, t2["access_token"]).status_code == 200
        reuse = h.post(
            f"{gw.base}/token",
            data={"grant_type": "refresh_token", "refresh_token": t1["refresh_token"], "client_id": cid},
        )
        assert reuse.status_code == 400
        assert reuse.json()["error"] == "invalid_grant"
        after = h.post(
            f"{gw.base}/token",
            data={"grant_type": "refresh_token", "refresh_token": t2["refresh_token"], "client_id": cid},
        )
        assert after.status_code == 400
        assert after.json()["error"] == "invalid_grant"
        # the access token of the revoked grant no longer opens the gateway
        assert mcp_list(h, gw, t2["access_token"]).status_code == 401
    kinds = [r.kind for r in gw.p.audit_records.newest(500)]
    assert "oauth.consented" in kinds
    assert "oauth.token_refreshed" in kinds
    assert "oauth.grant_revoked" in kinds
    assert gw.p.tasks.list(agent="bot")[0].state.value == "cancelled"


# the official MCP client, with a person in Chromium ------------------------------------------
@dataclass
class Browser:
    """Drives the person's part: sign in and approve in Chromium; the client's redirect is caught
    before it leaves the browser (nothing listens at the client's callback)."""

    base: str
    email: str = "ann@acme.test"
    visits: int = 0
    refuse_after: int = 1
    redirected: str = ""

    def run(self, url: str) -> str:
        import re

        from tests.e2e.web_harness import browser_page

        assert url.startswith(self.base + "/authorize?")
        with browser_page() as page:
            caught: list[str] = []

            def catch(route: object) -> None:
                from playwright.sync_api import Route

                assert isinstance(route, Route)
                caught.append(route.request.url)
                route.fulfill(status=200, body="done")

            page.route(re.compile(r"^http://127\.0\.0\.1:43210/"), catch)
            page.goto(url)
            page.fill("input[name=email]", self.email)
            page.fill("input[name=password]", PW)
            page.click("button[type=submit]")
            page.wait_for_selector("button[value=approve]")
            text = page.inner_text("main")
            assert "Connect Test client?" in text
            assert "http://127.0.0.1:43210/callback" in text
            assert "timekeeping" in text
            assert "bot" in text
            page.click("button[value=approve]")
            page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:43210/callback\?"))
            assert caught
            return caught[0]


def _mcp_client(gw: Gw, person: Browser, store: dict[str, object]) -> object:
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
    from pydantic import AnyUrl

    class Storage:
        async def get_tokens(self) -> OAuthToken | None:
            return store.get("tokens")  # type: ignore[return-value]

        async def set_tokens(self, tokens: OAuthToken) -> None:
            history = store.setdefault("history", [])
            assert isinstance(history, list)
            history.append(tokens)
            store["tokens"] = tokens

        async def get_client_info(self) -> OAuthClientInformationFull | None:
            return store.get("client")  # type: ignore[return-value]

        async def set_client_info(self, info: OAuthClientInformationFull) -> None:
            store["client"] = info

    async def redirect(url: str) -> None:
        person.visits += 1
        if person.visits > person.refuse_after:
            raise RuntimeError("the person is not asked twice in this test")
        person.redirected = await anyio.to_thread.run_sync(person.run, url)

    async def callback() -> AuthorizationCodeResult:
        from urllib.parse import parse_qs, urlsplit

        q = parse_qs(urlsplit(person.redirected).query)
        return AuthorizationCodeResult(code=q["code"][0], state=q["state"][0], iss=q["iss"][0])

    provider = OAuthClientProvider(
        gw.url,
        OAuthClientMetadata(
            redirect_uris=[AnyUrl("http://127.0.0.1:43210/callback")],
            client_name="Test client",
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        Storage(),
        redirect_handler=redirect,
        callback_handler=callback,
    )
    transport = streamable_http_client(gw.url, http_client=httpx2.AsyncClient(auth=provider, timeout=30))
    return Client(transport, cache=None, mode="legacy")


def _sent_back_to_a_person(run: object) -> None:
    """``run`` (an async function) fails because the client was refused and went back to
    authorization, where this test's person is not asked a second time."""
    import anyio

    def messages(exc: BaseException) -> list[str]:
        if isinstance(exc, BaseExceptionGroup):
            return [m for e in exc.exceptions for m in messages(e)]
        return [str(exc)]

    with pytest.raises(BaseException) as info:  # noqa: PT011 - the client's task group wraps it
        anyio.run(run)  # type: ignore[arg-type]
    assert any("not asked twice" in m for m in messages(info.value)), messages(info.value)


@pytest.fixture
def short_gw(tmp_path: Path) -> Iterator[Gw]:
    """A gateway whose access tokens live 2 s."""
    ws = _workspace(tmp_path, "gateway: {oauth_access_ttl: 2s}\n")
    p = Proctor.open(ws)
    port = free_port()
    gateway = GatewayThread.start(p, load_upstreams(ws.root), port)
    try:
        yield Gw(gateway.url, f"http://127.0.0.1:{port}", p, gateway)
    finally:
        gateway.stop()
        p.close()


def test_official_client_authorizes_in_a_browser_refreshes_and_is_cut_off_by_reuse(short_gw: Gw) -> None:
    """The official MCP client finds the authorization server from the gateway's 401, registers,
    sends Ann to Chromium to sign in and approve, calls a tool, keeps calling past its access
    token's lifetime through refresh, and is refused once its old refresh token is replayed."""
    import anyio

    gw = short_gw
    setup_people(gw.p)
    person = Browser(gw.base)
    store: dict[str, object] = {}

    async def main() -> None:
        async with _mcp_client(gw, person, store) as c:  # type: ignore[attr-defined]
            first = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            assert not first.is_error, first.content
            await anyio.sleep(2.5)  # past the access token's lifetime
            second = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            assert not second.is_error, second.content
            history = store["history"]
            assert isinstance(history, list)
            assert len(history) >= 2  # refreshed, not authorized again

    async def again() -> None:
        async with _mcp_client(gw, person, store) as c:  # type: ignore[attr-defined]
            await c.call_tool("time__get_current_time", {"timezone": "UTC"})

    anyio.run(main)
    assert person.visits == 1
    history = store["history"]
    assert isinstance(history, list)
    with httpx.Client(timeout=10) as h:  # someone replays the first refresh token
        r = h.post(
            f"{gw.base}/token",
            data={"grant_type": "refresh_token", "refresh_token": history[0].refresh_token},
        )
        assert r.json()["error"] == "invalid_grant"
    # the same client, its tokens as it kept them: refused, and sent back to a person
    _sent_back_to_a_person(again)
    assert person.visits == 2
    kinds = [r.kind for r in gw.p.audit_records.newest(500)]
    assert "oauth.token_refreshed" in kinds
    assert "oauth.grant_revoked" in kinds


def test_official_client_is_refused_once_its_agent_is_suspended(short_gw: Gw) -> None:
    """After consent and a call, suspending the agent cuts the client off: its next call and its
    refresh are refused."""
    import anyio

    from proctor.types import AgentStatus

    gw = short_gw
    setup_people(gw.p)
    person = Browser(gw.base)
    store: dict[str, object] = {}

    async def main() -> None:
        async with _mcp_client(gw, person, store) as c:  # type: ignore[attr-defined]
            ok = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            assert not ok.is_error, ok.content

    async def again() -> None:
        async with _mcp_client(gw, person, store) as c:  # type: ignore[attr-defined]
            await c.call_tool("time__get_current_time", {"timezone": "UTC"})

    anyio.run(main)
    assert person.visits == 1
    gw.p.agents.set_status("bot", AgentStatus.SUSPENDED, by="test")
    _sent_back_to_a_person(again)
    assert person.visits == 2
    tokens = store["tokens"]
    with httpx.Client(timeout=10) as h:
        r = h.post(
            f"{gw.base}/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},  # type: ignore[attr-defined]
        )
        assert r.status_code == 400
        assert "suspended" in r.json()["error_description"]


def test_malformed_oversized_and_forged_requests_are_refused(gw: Gw) -> None:
    """The endpoints refuse what is not a well-formed request, and the gateway refuses a forged
    or foreign access token, each with a 4xx and nothing granted."""
    setup_people(gw.p)
    with httpx.Client(timeout=20) as h:
        cid = register(h, gw)
        assert h.post(f"{gw.base}/register", content=b"{not json").status_code == 400
        assert (
            h.post(f"{gw.base}/register", json={"redirect_uris": ["http://evil.example/cb"]}).status_code
            == 400
        )
        r = h.post(f"{gw.base}/token", json={"grant_type": "authorization_code"})
        assert r.status_code == 400
        assert r.json()["error"] == "invalid_request"
        r = h.post(
            f"{gw.base}/token",
            content=b"grant_type=refresh_token&grant_type=authorization_code",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 400
        r = h.post(f"{gw.base}/token", data={"grant_type": "password", "username": "a", "password": "b"})
        assert r.json()["error"] == "unsupported_grant_type"
        r = h.post(
            f"{gw.base}/token",
            content=b"a=" + b"x" * (70 * 1024),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 413
        r = h.post(f"{gw.base}/token", data={"grant_type": "refresh_token", "refresh_token": "x" * 3000})
        assert r.status_code == 400
        # an unknown client is told on the page, not redirected
        r = h.get(f"{gw.base}/authorize", params=auth_query(gw, "pc_nobody", VERIFIER))
        assert r.status_code == 400
        assert "location" not in r.headers
        # a wrong resource goes back to the client
        r = h.get(
            f"{gw.base}/authorize", params=auth_query(gw, cid, VERIFIER, resource="http://127.0.0.1:1/mcp")
        )
        assert r.status_code == 303
        assert "error=invalid_target" in r.headers["location"]
        # a consent without the session's CSRF token is refused
        q = auth_query(gw, cid, VERIFIER)
        page = h.get(f"{gw.base}/authorize", params=q)
        r = h.post(
            f"{gw.base}/authorize/login",
            data={
                **q,
                "login_csrf": _field(page.text, "login_csrf"),
                "email": "ann@acme.test",
                "password": PW,
            },
        )
        assert r.status_code == 303
        r = h.post(
            f"{gw.base}/authorize",
            data={**q, "csrf": "0" * 64, "option": "timekeeping|bot", "action": "approve"},
        )
        assert r.status_code == 403
        # Deny sends the client an access_denied
        page = h.get(f"{gw.base}/authorize", params=q)
        r = h.post(f"{gw.base}/authorize", data={**q, "csrf": _field(page.text, "csrf"), "action": "deny"})
        assert r.status_code == 303
        assert "error=access_denied" in r.headers["location"]
        assert gw.p.tasks.list(agent="bot") == []
        # a forged access token and an access token-shaped SVID are refused at the door
        page = h.get(f"{gw.base}/authorize", params=q)  # signed in already: the consent page
        approved = h.post(
            f"{gw.base}/authorize",
            data={**q, "csrf": _field(page.text, "csrf"), "option": "timekeeping|bot", "action": "approve"},
        )
        access = tokens(h, gw, cid, code_of(approved)).json()["access_token"]
        head, body, sig = access.split(".")
        assert mcp_list(h, gw, f"{head}.{body}.{sig[::-1]}").status_code == 401
        assert mcp_list(h, gw, access).status_code == 200
    kinds = [r.kind for r in gw.p.audit_records.newest(500)]
    assert "approver.csrf_refused" in kinds
    assert "oauth.consent_denied" in kinds


def test_a_client_id_metadata_document_over_loopback_with_the_dev_setting(tmp_path: Path) -> None:
    """With `gateway.oauth_allow_http_client_ids`, a client whose id is a loopback URL serving its
    metadata document completes the flow; without the setting the same id is refused."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    port = free_port()
    doc_url = f"http://127.0.0.1:{port}/client.json"
    doc = json.dumps(
        {"client_id": doc_url, "client_name": "Test client", "redirect_uris": [REDIRECT]}
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(doc)))
            self.end_headers()
            self.wfile.write(doc)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for dev in (False, True):
            ws = _workspace(
                tmp_path / str(dev), "gateway: {oauth_allow_http_client_ids: true}\n" if dev else ""
            )
            p = Proctor.open(ws)
            gport = free_port()
            thread = GatewayThread.start(p, load_upstreams(ws.root), gport)
            g = Gw(thread.url, f"http://127.0.0.1:{gport}", p, thread)
            try:
                setup_people(p)
                with httpx.Client(timeout=20) as h:
                    if not dev:
                        r = h.get(f"{g.base}/authorize", params=auth_query(g, doc_url, VERIFIER))
                        assert r.status_code == 400
                        continue
                    code = code_of(consent(h, g, auth_query(g, doc_url, VERIFIER)))
                    r = tokens(h, g, doc_url, code)
                    assert r.status_code == 200, r.text
            finally:
                thread.stop()
                p.close()
    finally:
        server.shutdown()


def test_an_operator_lists_and_revokes_a_grant_from_the_cli(gw: Gw) -> None:
    """`proctor oauth grants` shows who let which client act as which agent; `proctor oauth
    revoke` (another process) cuts the client off at once: its access token and refresh token
    are refused."""
    import json
    import os
    import subprocess

    setup_people(gw.p)
    with httpx.Client(timeout=20) as h:
        cid = register(h, gw)
        t = tokens(h, gw, cid, code_of(consent(h, gw, auth_query(gw, cid, VERIFIER)))).json()
        assert mcp_list(h, gw, t["access_token"]).status_code == 200

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            env = {**os.environ, "PROCTOR_WORKSPACE": str(gw.p.workspace.root), "COLUMNS": "200"}  # type: ignore[union-attr]
            return subprocess.run(
                [sys.executable, "-m", "proctor.cli.main", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )

        listed = cli("oauth", "grants", "--json")
        assert listed.returncode == 0, listed.stderr
        grants = json.loads(listed.stdout)
        assert [(g["agent"], g["template"], g["person"], g["client_id"]) for g in grants] == [
            ("bot", "timekeeping", "ann@acme.test", cid)
        ]
        done = cli("oauth", "revoke", grants[0]["id"], "--reason", "laptop lost")
        assert done.returncode == 0, done.stderr
        assert cli("oauth", "revoke", grants[0]["id"]).returncode != 0
        assert mcp_list(h, gw, t["access_token"]).status_code == 401
        r = h.post(
            f"{gw.base}/token", data={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]}
        )
        assert r.json()["error"] == "invalid_grant"


def test_the_person_signs_in_through_oidc_on_the_consent_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `login.oidc`, the gateway's sign-in page offers SSO: Ann signs in at the provider
    (`oidc-provider-mock`), comes back to the consent page and approves; the code works."""
    import re

    from tests.e2e.web_harness import browser_page, oidc_provider

    ann = {"sub": "ann", "email": "ann@acme.test", "email_verified": True, "name": "Ann"}
    monkeypatch.setenv("PROCTOR_TEST_OIDC_SECRET", "a-client-secret")
    with oidc_provider([ann]) as issuer:
        ws = _workspace(
            tmp_path,
            f"login:\n  oidc:\n    issuer: {issuer}\n    client_id: proctor-gw\n"
            "    client_secret: env:PROCTOR_TEST_OIDC_SECRET\n    email_domain: acme.test\n",
        )
        p = Proctor.open(ws)
        port = free_port()
        thread = GatewayThread.start(p, load_upstreams(ws.root), port)
        gw = Gw(thread.url, f"http://127.0.0.1:{port}", p, thread)
        try:
            setup_people(p)
            with httpx.Client(timeout=20) as h:
                cid = register(h, gw)
            q = auth_query(gw, cid, VERIFIER)
            with browser_page() as page:
                caught: list[str] = []

                def catch(route: object) -> None:
                    from playwright.sync_api import Route

                    assert isinstance(route, Route)
                    caught.append(route.request.url)
                    route.fulfill(status=200, body="done")

                page.route(re.compile(r"^http://127\.0\.0\.1:43210/"), catch)
                page.goto(str(httpx.URL(f"{gw.base}/authorize", params=q)))
                page.click("a.sso")
                page.wait_for_url(re.compile(re.escape(issuer) + "/oauth2/authorize"))
                page.click("button[name=sub][value=ann]")
                page.wait_for_selector("button[value=approve]")
                assert "ann@acme.test" in page.inner_text("main")
                page.click("button[value=approve]")
                page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:43210/callback\?"))
            from urllib.parse import parse_qs, urlsplit

            code = parse_qs(urlsplit(caught[0]).query)["code"][0]
            with httpx.Client(timeout=20) as h:
                r = tokens(h, gw, cid, code)
                assert r.status_code == 200, r.text
            task = p.tasks.list(agent="bot")[0]
            assert task.requested_by == "ann@acme.test"
        finally:
            thread.stop()
            p.close()


def test_dynamic_registration_is_rate_limited_with_a_429_and_an_audited_refusal(gw: Gw) -> None:
    """`POST /register` takes at most REGISTER_PER_SOURCE registrations per source address and
    window: the next one is a 429 (`too_many_requests`, `Retry-After`), stores no client and is
    audited as a `gateway.refused`; the ones before it were registered."""
    from proctor.oauth.server import REGISTER_PER_SOURCE
    from proctor.store.base import AuditQuery

    with httpx.Client(timeout=20) as h:
        ids = [register(h, gw, name=f"client {i}") for i in range(REGISTER_PER_SOURCE)]
        assert len(set(ids)) == REGISTER_PER_SOURCE
        r = h.post(f"{gw.base}/register", json={"redirect_uris": [REDIRECT], "client_name": "one more"})
        assert r.status_code == 429, r.text
        assert r.json()["error"] == "too_many_requests"
        assert "this address" in r.json()["error_description"]
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert r.headers["cache-control"] == "no-store"
    assert all(gw.p.store.get_oauth_client(cid) is not None for cid in ids)
    gw.p.audit.flush()
    refused = [
        body
        for rec in gw.p.store.search_audit(AuditQuery(kind="gateway.refused", limit=100))
        if (body := json.loads(rec.body)).get("path") == "/register"
    ]
    assert [body.get("oauth_error") for body in refused] == ["too_many_requests"], refused
