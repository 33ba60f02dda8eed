"""OpenID Connect sign-in against a real provider process (``oidc-provider-mock``), driven over
HTTP: the code flow with state, nonce and PKCE, the ID token verified with the provider's JWKS,
groups from a claim, and what is refused (a replayed callback, a forged state, an unverified
e-mail, another domain)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.e2e.web_harness import form_value, oidc_provider, proctor_serve

from proctor.store.base import AuditQuery
from proctor.store.sqlite import SqliteStore
from proctor.workspace import Workspace

USERS = [
    {
        "sub": "carol",
        "email": "carol@acme.test",
        "email_verified": True,
        "name": "Carol",
        "groups": ["payments-team"],
    },
    {"sub": "mallory", "email": "mallory@acme.test", "email_verified": False},
    {"sub": "olga", "email": "olga@other.test", "email_verified": True},
]


def config(issuer: str) -> str:
    return f"""\
trust_domain: acme.test
login:
  oidc:
    issuer: {issuer}
    client_id: proctor-web
    client_secret: env:PROCTOR_TEST_OIDC_SECRET
    email_domain: acme.test
    groups_claim: groups
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, Path]]:
    monkeypatch.setenv("PROCTOR_TEST_OIDC_SECRET", "a-client-secret")
    with oidc_provider(USERS) as issuer:
        ws, _ = Workspace.init(tmp_path / "ws", config_text=config(issuer))
        with proctor_serve(ws.root) as url:
            yield url, issuer, ws.root


def audit(ws: Path, kind: str) -> list[dict[str, object]]:
    store = SqliteStore(ws / "proctor.db")
    try:
        return [json.loads(r.body) for r in store.search_audit(AuditQuery(kind=kind, limit=100))]
    finally:
        store.close()


def to_provider(c: httpx.Client) -> str:
    """Start a sign-in at Proctor: the provider's authorization URL it sends the browser to."""
    r = c.get("/login/oidc?next=/logout")
    assert r.status_code == 303
    return r.headers["location"]


def provider_signs_in(auth_url: str, sub: str) -> str:
    """The person picks ``sub`` on the provider's page: the callback URL it redirects to."""
    r = httpx.post(auth_url, data={"sub": sub}, timeout=15)
    assert r.status_code == 302, r.text
    return r.headers["location"]


def test_sign_in_through_the_provider(site: tuple[str, str, Path]) -> None:
    """The authorization request carries state, nonce and an S256 challenge; after the provider
    signs Carol in, the callback verifies her ID token and opens a session as her, with the groups
    of her claim; the sign-in is audited with `via=oidc:<issuer>`."""
    url, issuer, ws = site
    c = httpx.Client(base_url=url, timeout=15)
    auth_url = to_provider(c)
    q = parse_qs(urlsplit(auth_url).query)
    assert auth_url.startswith(issuer + "/oauth2/authorize")
    assert q["code_challenge_method"] == ["S256"]
    assert q["client_id"] == ["proctor-web"]
    assert q["redirect_uri"] == [url + "/login/oidc/callback"]
    assert len(q["state"][0]) >= 40
    assert len(q["nonce"][0]) >= 40
    callback = provider_signs_in(auth_url, "carol")
    r = c.get(callback.removeprefix(url))
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/logout"
    page = c.get("/logout")
    assert page.status_code == 200
    assert "carol@acme.test" in page.text
    [rec] = audit(ws, "approver.login_succeeded")
    assert rec["email"] == "carol@acme.test"
    assert rec["via"] == f"oidc:{issuer}"
    assert rec["groups"] == ["payments-team"]


def test_a_callback_is_used_once_and_a_forged_state_opens_nothing(site: tuple[str, str, Path]) -> None:
    """Replaying the callback URL (its code and state, with the state's cookie) is refused, as is
    a state Proctor never issued; neither sets a session cookie; both are audited."""
    url, _, ws = site
    c = httpx.Client(base_url=url, timeout=15)
    callback = provider_signs_in(to_provider(c), "carol")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    assert c.get(callback.removeprefix(url)).status_code == 303
    other = httpx.Client(base_url=url, timeout=15, cookies={"proctor_oidc": state})
    again = other.get(callback.removeprefix(url))
    assert again.status_code == 401
    assert "proctor_session" not in again.headers.get("set-cookie", "")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    forged = httpx.Client(base_url=url, timeout=15, cookies={"proctor_oidc": "f" * 43})
    r = forged.get("/login/oidc/callback", params={"code": code, "state": "f" * 43})
    assert r.status_code == 401
    assert other.get("/logout").status_code == 303  # still not signed in
    assert len(audit(ws, "approver.login_failed")) == 2


def test_a_callback_from_another_browser_is_refused(site: tuple[str, str, Path]) -> None:
    """Login CSRF: a sign-in started in one browser and completed in another (a planted callback
    link) is refused, because the second browser lacks the state's cookie."""
    url, _, ws = site
    attacker = httpx.Client(base_url=url, timeout=15)
    callback = provider_signs_in(to_provider(attacker), "carol")
    victim = httpx.Client(base_url=url, timeout=15)
    r = victim.get(callback.removeprefix(url))
    assert r.status_code == 401
    assert "proctor_session" not in r.headers.get("set-cookie", "")
    assert [x["reason"] for x in audit(ws, "approver.login_failed")] == ["state_not_this_browsers"]


def test_unverified_email_and_another_domain_are_refused(site: tuple[str, str, Path]) -> None:
    """The provider signs them in, but Proctor refuses: an e-mail the provider has not verified,
    and an address outside the configured domain."""
    url, _, ws = site
    for sub in ("mallory", "olga"):
        c = httpx.Client(base_url=url, timeout=15)
        r = c.get(provider_signs_in(to_provider(c), sub).removeprefix(url))
        assert r.status_code == 401
        assert c.get("/logout").status_code == 303
    reasons = [x["reason"] for x in audit(ws, "approver.login_failed")]
    assert reasons == ["email_unverified", "email_domain"]


def test_the_sign_in_page_offers_sso(site: tuple[str, str, Path]) -> None:
    """With OIDC configured the sign-in page links to it (and still has the password form)."""
    url, _, _ = site
    page = httpx.get(url + "/login", timeout=15).text
    assert "Sign in with SSO" in page
    assert form_value(page, "login_csrf")


def test_a_missing_client_secret_is_a_refusal_not_a_crash(tmp_path: Path) -> None:
    """`client_secret: env:VAR` with VAR unset: the callback answers a sign-in failure page (401,
    audited), not an internal error, and opens no session."""
    with oidc_provider(USERS) as issuer:
        text = config(issuer).replace("PROCTOR_TEST_OIDC_SECRET", "PROCTOR_TEST_OIDC_UNSET")
        ws, _ = Workspace.init(tmp_path / "ws", config_text=text)
        with proctor_serve(ws.root) as url:
            c = httpx.Client(base_url=url, timeout=15)
            r = c.get(provider_signs_in(to_provider(c), "carol").removeprefix(url))
            assert r.status_code == 401
            assert "misconfigured" in r.text
            assert c.get("/logout").status_code == 303
            assert len(audit(ws.root, "approver.login_failed")) == 1
