"""The approvers' sign-in pages of a real ``proctor serve``, driven over HTTP: cookies, security
headers, CSRF on every POST, a session that acts only as its owner, lockout — each refusal audited."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e.web_harness import _env, form_value, proctor_serve

from proctor.store.base import AuditQuery
from proctor.store.sqlite import SqliteStore
from proctor.workspace import Workspace

PW = "correct horse battery staple"
CONFIG = """\
trust_domain: acme.test
login: {lockout_after: 3, lockout_for: 15m}
"""


def add_user(ws: Path, email: str, *groups: str, password: str = PW) -> None:
    """`proctor user add` as an operator runs it (password on stdin)."""
    args = [sys.executable, "-m", "proctor.cli.main", "user", "add", email, "--password-stdin", "-w", str(ws)]
    for g in groups:
        args += ["--group", g]
    done = subprocess.run(
        args, input=password + "\n", env=_env(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    add_user(ws.root, "ann@acme.test", "payments-team")
    add_user(ws.root, "bob@acme.test")
    with proctor_serve(ws.root) as url:
        yield url, ws.root


def audit(ws: Path, kind: str) -> list[dict[str, object]]:
    store = SqliteStore(ws / "proctor.db")
    try:
        return [json.loads(r.body) for r in store.search_audit(AuditQuery(kind=kind, limit=100))]
    finally:
        store.close()


def sign_in(url: str, email: str, password: str = PW) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=15)
    page = c.get("/login")
    r = c.post(
        "/login",
        data={
            "login_csrf": form_value(page.text, "login_csrf"),
            "email": email,
            "password": password,
            "next": "/approvals",
        },
    )
    assert r.status_code == 303, r.text
    return c


def test_pages_need_a_session_and_carry_strict_headers(site: tuple[str, Path]) -> None:
    """Without a session a page redirects to /login; every page sends a CSP without script,
    X-Frame-Options DENY and no-store; the session cookie is HttpOnly and SameSite=Lax."""
    url, _ = site
    anon = httpx.Client(base_url=url, timeout=15)
    r = anon.get("/approvals")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/approvals"
    login = anon.get("/login")
    assert "script" not in login.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert login.headers["x-frame-options"] == "DENY"
    c = httpx.Client(base_url=url, timeout=15)
    page = c.get("/login")
    r = c.post(
        "/login",
        data={"login_csrf": form_value(page.text, "login_csrf"), "email": "ann@acme.test", "password": PW},
    )
    cookie = r.headers["set-cookie"]
    assert "proctor_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")
    q = c.get("/logout")
    assert q.status_code == 200
    assert "ann@acme.test" in q.text
    assert q.headers["cache-control"] == "no-store"


def test_the_sign_in_form_needs_its_own_token(site: tuple[str, Path]) -> None:
    """A sign-in posted without the form's token (login CSRF) is refused before the password is
    looked at: no session, no failure counted."""
    url, ws = site
    c = httpx.Client(base_url=url, timeout=15)
    c.get("/login")
    r = c.post("/login", data={"email": "ann@acme.test", "password": PW})
    assert r.status_code == 403
    assert "proctor_session" not in r.headers.get("set-cookie", "")
    assert audit(ws, "approver.login_succeeded") == []


def test_csrf_missing_or_wrong_is_refused_and_audited(site: tuple[str, Path]) -> None:
    """Sign-out (a POST) without the CSRF token, with a wrong one, or with another session's is
    refused 403 and leaves the session alive; each refusal is audited."""
    url, ws = site
    ann = sign_in(url, "ann@acme.test")
    bob = sign_in(url, "bob@acme.test")
    bob_csrf = form_value(bob.get("/logout").text, "csrf")
    ann_csrf = form_value(ann.get("/logout").text, "csrf")
    for data in ({}, {"csrf": "0" * 64}, {"csrf": bob_csrf}):
        r = ann.post("/logout", data=data)
        assert r.status_code == 403
        assert ann.get("/logout").status_code == 200
    r = ann.post("/logout", data={"csrf": ann_csrf})
    assert r.status_code == 303
    assert ann.get("/logout").status_code == 303  # signed out: back to /login
    refused = audit(ws, "approver.csrf_refused")
    assert [x["email"] for x in refused] == ["ann@acme.test"] * 3
    assert [x["email"] for x in audit(ws, "approver.logout")] == ["ann@acme.test"]


def test_a_session_cookie_acts_only_as_its_owner(site: tuple[str, Path]) -> None:
    """Each cookie shows its own person; a cookie that is not a live session (altered, or ended by
    sign-out) opens nothing, even with that session's CSRF token."""
    url, _ = site
    ann = sign_in(url, "ann@acme.test")
    bob = sign_in(url, "bob@acme.test")
    assert "ann@acme.test" in ann.get("/logout").text
    page = bob.get("/logout").text
    assert "bob@acme.test" in page
    assert "ann@acme.test" not in page
    bob_token = bob.cookies["proctor_session"]
    forged = httpx.Client(
        base_url=url,
        timeout=15,
        cookies={"proctor_session": bob_token[:-1] + ("A" if bob_token[-1] != "A" else "B")},
    )
    assert forged.get("/logout").status_code == 303
    csrf = form_value(page, "csrf")
    assert bob.post("/logout", data={"csrf": csrf}).status_code == 303
    replay = httpx.Client(base_url=url, timeout=15, cookies={"proctor_session": bob_token})
    assert replay.get("/logout").status_code == 303
    assert replay.post("/logout", data={"csrf": csrf}).status_code == 401


def test_lockout_over_the_web(site: tuple[str, Path]) -> None:
    """Three wrong passwords lock the account: the right one is then refused (429) and no session
    cookie is set; the failures and the lock are audited."""
    url, ws = site
    c = httpx.Client(base_url=url, timeout=15)
    token = form_value(c.get("/login").text, "login_csrf")
    for _ in range(3):
        r = c.post(
            "/login", data={"login_csrf": token, "email": "bob@acme.test", "password": "wrong wrong wrong"}
        )
        assert r.status_code == 401
    r = c.post("/login", data={"login_csrf": token, "email": "bob@acme.test", "password": PW})
    assert r.status_code == 429
    assert "proctor_session" not in r.headers.get("set-cookie", "")
    assert [x["email"] for x in audit(ws, "approver.locked_out")] == ["bob@acme.test"]
    reasons = [x["reason"] for x in audit(ws, "approver.login_failed")]
    assert reasons == ["wrong_password"] * 3 + ["locked"]
    # another account is not affected
    assert sign_in(url, "ann@acme.test").get("/logout").status_code == 200


def test_next_never_leaves_the_site(site: tuple[str, Path]) -> None:
    """The page to go to after signing in is a local path: another site's address becomes /approvals."""
    url, _ = site
    c = httpx.Client(base_url=url, timeout=15)
    token = form_value(c.get("/login").text, "login_csrf")
    for evil in ("https://evil.test/", "//evil.test/x", "/\\evil.test"):
        r = c.post(
            "/login", data={"login_csrf": token, "email": "ann@acme.test", "password": PW, "next": evil}
        )
        assert r.headers["location"] == "/approvals"


def test_cookies_are_secure_and_host_bound_behind_https(tmp_path: Path) -> None:
    """Served at an https public URL (TLS ended by a proxy), the session cookie is `Secure` and
    named `__Host-` (this host only, path /, never set by a subdomain)."""
    config = "trust_domain: acme.test\nlogin: {public_url: 'https://proctor.acme.test'}\n"
    ws, _ = Workspace.init(tmp_path / "ws", config_text=config)
    add_user(ws.root, "ann@acme.test")
    with proctor_serve(ws.root) as url:
        page = httpx.get(url + "/login", timeout=15)
        login_cookie = page.cookies.get("__Host-proctor_login")
        assert login_cookie
        assert "Secure" in page.headers["set-cookie"]
        r = httpx.post(
            url + "/login",
            data={
                "login_csrf": form_value(page.text, "login_csrf"),
                "email": "ann@acme.test",
                "password": PW,
            },
            headers={"Cookie": f"__Host-proctor_login={login_cookie}"},
            timeout=15,
        )
        assert r.status_code == 303
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-proctor_session=")
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "Path=/" in cookie


def test_next_cannot_inject_attributes_into_the_sign_in_form(site: tuple[str, Path]) -> None:
    """A link to /login?next=… with spaces in the path must not add attributes to the form's
    hidden input (the value was written into an unquoted attribute)."""
    from html.parser import HTMLParser

    url, _ = site
    inputs: list[dict[str, str | None]] = []

    class Inputs(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "input":
                inputs.append(dict(attrs))

    evil = "/approvals autofocus onfocus=alert(1) name=email"
    page = httpx.get(f"{url}/login", params={"next": evil}, timeout=15)
    Inputs().feed(page.text)
    hidden = [i for i in inputs if i.get("type") == "hidden" and i.get("name") == "next"]
    assert len(hidden) == 1
    assert "onfocus" not in hidden[0]
    assert "autofocus" not in hidden[0]
    for i in inputs:
        assert set(i) <= {"type", "name", "value", "required", "autocomplete"}, i
