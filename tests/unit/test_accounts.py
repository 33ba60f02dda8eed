"""Approver accounts (proctor.accounts): sign-in with lockout, sessions with idle and absolute
expiry, CSRF tokens bound to one session, OIDC claims, and the audit record of each outcome.
A real workspace (SQLite store, audit log) with a frozen clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from proctor.accounts.service import Accounts
from proctor.accounts.settings import OidcSettings, parse_login
from proctor.app import Proctor
from proctor.clock import FrozenClock
from proctor.config import parse_duration
from proctor.errors import AccountLocked, AuthError, Conflict, CsrfInvalid, NotFound, ValidationError
from proctor.store.base import AuditQuery
from proctor.testing import temporary_workspace

PW = "correct horse battery staple"
CONFIG = """\
trust_domain: acme.test
login: {session_idle: 10m, session_max: 1h, lockout_after: 3, lockout_for: 15m}
"""


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Proctor, Accounts, FrozenClock]]:
    with temporary_workspace(tmp_path / "ws", config_text=CONFIG) as sb:
        sb.proctor.accounts.add("ann@acme.test", name="Ann", groups=["payments-team"], password=PW, by="test")
        yield sb.proctor, sb.proctor.accounts, sb.clock


def records(p: Proctor, kind: str) -> list[dict[str, object]]:
    p.audit.flush()
    return [json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind=kind, limit=100))]


def test_the_right_password_signs_in_and_is_audited(env: tuple[Proctor, Accounts, FrozenClock]) -> None:
    """The approver carries the account's e-mail, groups and `via=password`; the session start is
    audited with the e-mail and never the password."""
    p, acc, _ = env
    who = acc.authenticate("ann@acme.test", PW)
    assert (str(who.email), set(who.groups), who.via, who.name) == (
        "ann@acme.test",
        {"payments-team"},
        "password",
        "Ann",
    )
    token, info = acc.start_session(who)
    assert info.approver == who
    [rec] = records(p, "approver.login_succeeded")
    assert rec["email"] == "ann@acme.test"
    assert PW not in json.dumps(records(p, "approver.added")) + json.dumps(rec)
    assert token not in json.dumps(rec)
    stored = p.store.get_user(who.email)
    assert stored is not None
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$")


def test_wrong_password_unknown_user_and_disabled_are_one_refusal(
    env: tuple[Proctor, Accounts, FrozenClock],
) -> None:
    """A wrong password, an unknown e-mail and a disabled account all answer `auth_failed` with one
    message; the audit says which it was."""
    p, acc, _ = env
    acc.add("bob@acme.test", password=PW, by="test")
    acc.set_disabled("bob@acme.test", True, by="test")
    messages = set()
    for email, pw in (("ann@acme.test", "wrong password!!"), ("nobody@acme.test", PW), ("bob@acme.test", PW)):
        with pytest.raises(AuthError) as info:
            acc.authenticate(email, pw)
        assert info.value.code == "auth_failed"
        messages.add(info.value.message)
    assert len(messages) == 1
    reasons = [(r["email"], r["reason"]) for r in records(p, "approver.login_failed")]
    assert reasons == [
        ("ann@acme.test", "wrong_password"),
        ("nobody@acme.test", "unknown_user"),
        ("bob@acme.test", "disabled"),
    ]


def test_lockout_after_failures_refuses_even_the_right_password(
    env: tuple[Proctor, Accounts, FrozenClock],
) -> None:
    """The third failure in a row locks the account for 15 minutes: the right password is refused
    with `account_locked` until then, and works after; the lock is audited once."""
    p, acc, clock = env
    for _ in range(3):
        with pytest.raises(AuthError):
            acc.authenticate("ann@acme.test", "not the password")
    with pytest.raises(AccountLocked) as info:
        acc.authenticate("ann@acme.test", PW)
    assert info.value.code == "account_locked"
    clock.advance(14 * 60)
    with pytest.raises(AccountLocked):
        acc.authenticate("ann@acme.test", PW)
    clock.advance(61)
    assert acc.authenticate("ann@acme.test", PW).email == "ann@acme.test"
    [locked] = records(p, "approver.locked_out")
    assert locked["email"] == "ann@acme.test"
    assert locked["failures"] == 3
    assert [r["reason"] for r in records(p, "approver.login_failed")][-2:] == ["locked", "locked"]


def test_a_success_starts_the_failure_count_again(env: tuple[Proctor, Accounts, FrozenClock]) -> None:
    """Two failures, a success, two failures: no lock (the failures must be in a row)."""
    _, acc, _ = env
    for _ in range(2):
        with pytest.raises(AuthError):
            acc.authenticate("ann@acme.test", "nope nope nope")
    acc.authenticate("ann@acme.test", PW)
    for _ in range(2):
        with pytest.raises(AuthError):
            acc.authenticate("ann@acme.test", "nope nope nope")
    assert acc.authenticate("ann@acme.test", PW).email == "ann@acme.test"


def test_sessions_expire_when_idle_and_at_their_absolute_limit(
    env: tuple[Proctor, Accounts, FrozenClock],
) -> None:
    """Used every 9 minutes a session lives until its absolute expiry (1 h), not a second more; left
    alone 10 minutes it ends."""
    _, acc, clock = env
    who = acc.authenticate("ann@acme.test", PW)
    token, _ = acc.start_session(who)
    for _ in range(6):
        clock.advance(9 * 60)
        assert acc.session(token).approver.email == "ann@acme.test"
    clock.advance(6 * 60)  # 60 minutes in: past the absolute expiry although used 6 minutes ago
    with pytest.raises(AuthError):
        acc.session(token)
    token2, _ = acc.start_session(who)
    clock.advance(10 * 60)
    with pytest.raises(AuthError):
        acc.session(token2)


def test_logout_disable_and_new_password_end_sessions(env: tuple[Proctor, Accounts, FrozenClock]) -> None:
    """Logout ends its session only; disabling the account and changing its password end all."""
    p, acc, _ = env
    who = acc.authenticate("ann@acme.test", PW)
    (t1, s1), (t2, _), (t3, _) = (acc.start_session(who) for _ in range(3))
    acc.logout(s1)
    with pytest.raises(AuthError):
        acc.session(t1)
    assert acc.session(t2).approver.email == "ann@acme.test"
    acc.set_password("ann@acme.test", "a brand new passphrase", by="test")
    with pytest.raises(AuthError):
        acc.session(t2)
    t4, _ = acc.start_session(acc.authenticate("ann@acme.test", "a brand new passphrase"))
    acc.set_disabled("ann@acme.test", True, by="test")
    for t in (t3, t4):
        with pytest.raises(AuthError):
            acc.session(t)
    assert [r["kind"] for r in records(p, "approver.logout")] == ["approver.logout"]


def test_group_changes_apply_to_live_sessions(env: tuple[Proctor, Accounts, FrozenClock]) -> None:
    """A local account's groups are read at every request: removing a group takes effect at once."""
    _, acc, _ = env
    token, _ = acc.start_session(acc.authenticate("ann@acme.test", PW))
    acc.change_groups("ann@acme.test", remove=["payments-team"], add=["ops"], by="test")
    assert acc.session(token).approver.groups == {"ops"}


def test_csrf_token_is_bound_to_one_session(env: tuple[Proctor, Accounts, FrozenClock]) -> None:
    """Session A's CSRF token is refused with session B (and a missing one too), and audited."""
    p, acc, _ = env
    acc.add("bob@acme.test", password=PW, by="test")
    ta, sa = acc.start_session(acc.authenticate("ann@acme.test", PW))
    tb, sb = acc.start_session(acc.authenticate("bob@acme.test", PW))
    acc.check_csrf(sa, ta, sa.csrf, action="approve")
    for presented in (sa.csrf, None, "", sb.csrf[:-1] + ("1" if sb.csrf.endswith("0") else "0")):
        with pytest.raises(CsrfInvalid):
            acc.check_csrf(sb, tb, presented, action="approve")
    assert sa.csrf != sb.csrf
    assert [r["email"] for r in records(p, "approver.csrf_refused")] == ["bob@acme.test"] * 4


def test_a_session_token_opens_only_its_own_session(env: tuple[Proctor, Accounts, FrozenClock]) -> None:
    """Each token opens the session of the person who signed in, and nothing else."""
    _, acc, _ = env
    acc.add("bob@acme.test", password=PW, groups=["ops"], by="test")
    ta, _ = acc.start_session(acc.authenticate("ann@acme.test", PW))
    tb, _ = acc.start_session(acc.authenticate("bob@acme.test", PW))
    assert acc.session(ta).approver.email == "ann@acme.test"
    assert acc.session(tb).approver.email == "bob@acme.test"
    for forged in (ta[:-1] + ("A" if ta[-1] != "A" else "B"), "", "x" * 500):
        with pytest.raises(AuthError):
            acc.session(forged)


def test_accounts_refuse_bad_input(env: tuple[Proctor, Accounts, FrozenClock]) -> None:
    """A short password, a duplicate account, a group named `owner`, an unknown account."""
    _, acc, _ = env
    with pytest.raises(ValidationError):
        acc.add("c@acme.test", password="short", by="test")
    with pytest.raises(Conflict):
        acc.add("ann@acme.test", password=PW, by="test")
    with pytest.raises(ValidationError):
        acc.add("d@acme.test", groups=["owner"], password=PW, by="test")
    with pytest.raises(NotFound):
        acc.set_disabled("zed@acme.test", True, by="test")


def test_oidc_claims_become_an_approver(env: tuple[Proctor, Accounts, FrozenClock]) -> None:
    """The email claim (verified), the configured domain and the groups claim; a disabled local
    account of the same address refuses; refusals are audited."""
    p, acc, _ = env
    oidc = OidcSettings(
        issuer="https://idp.acme.test", client_id="proctor", email_domain="acme.test", groups_claim="roles"
    )
    who = acc.approver_from_oidc(
        oidc,
        {
            "sub": "1",
            "email": "carol@acme.test",
            "email_verified": True,
            "roles": ["ops", "no way!"],
            "name": "Carol",
        },
    )
    assert (str(who.email), set(who.groups), who.via, who.name) == (
        "carol@acme.test",
        {"ops"},
        "oidc:https://idp.acme.test",
        "Carol",
    )
    bad: list[dict[str, Any]] = [
        {"sub": "1", "email": "carol@acme.test"},  # not verified
        {"sub": "1", "email": "carol@evil.test", "email_verified": True},
        {"sub": "1", "email_verified": True},
        {"sub": "1", "email": "not an address", "email_verified": True},
    ]
    for claims in bad:
        with pytest.raises(AuthError):
            acc.approver_from_oidc(oidc, claims)
    acc.add("dan@acme.test", password=None, by="test")
    acc.set_disabled("dan@acme.test", True, by="test")
    with pytest.raises(AuthError):
        acc.approver_from_oidc(oidc, {"sub": "2", "email": "dan@acme.test", "email_verified": True})
    reasons = [r["reason"] for r in records(p, "approver.login_failed")]
    assert reasons == ["email_unverified", "email_domain", "no_email", "bad_email", "disabled"]
    relaxed = OidcSettings(issuer="https://idp.acme.test", client_id="proctor", require_email_verified=False)
    assert acc.approver_from_oidc(relaxed, {"sub": "1", "email": "eve@other.test"}).email == "eve@other.test"


def test_login_settings_are_checked() -> None:
    """The `login` section refuses unknown keys, an http issuer off the loopback, a literal secret."""
    ok = parse_login(
        {"oidc": {"issuer": "http://127.0.0.1:9400/", "client_id": "c", "client_secret": "env:X"}},
        parse_duration,
    )
    assert ok.oidc is not None
    assert ok.oidc.issuer == "http://127.0.0.1:9400"
    for bad in (
        {"sesion_idle": "1m"},
        {"oidc": {"issuer": "http://idp.example.com", "client_id": "c"}},
        {"oidc": {"issuer": "https://idp.example.com", "client_id": "c", "client_secret": "hunter2"}},
        {"oidc": {"issuer": "https://idp.example.com"}},
        {"session_idle": "2h", "session_max": "1h"},
        {"lockout_after": 0},
    ):
        with pytest.raises(ValidationError):
            parse_login(bad, parse_duration)


def test_a_disabled_account_is_not_revived_through_oidc_by_changing_the_case(
    env: tuple[Proctor, Accounts, FrozenClock],
) -> None:
    """Approvals compare e-mail addresses without case (the owner, four eyes), so the disabled
    local account `dan@acme.test` must also refuse the OIDC address `Dan@ACME.test`, at sign-in
    and for a session started before it was disabled."""
    _, acc, _ = env
    oidc = OidcSettings(issuer="https://idp.acme.test", client_id="proctor")
    acc.add("dan@acme.test", password=None, by="test")
    variant = {"sub": "2", "email": "Dan@ACME.test", "email_verified": True}
    token, _ = acc.start_session(acc.approver_from_oidc(oidc, variant))
    acc.set_disabled("dan@acme.test", True, by="test")
    with pytest.raises(AuthError):
        acc.approver_from_oidc(oidc, variant)
    with pytest.raises(AuthError):
        acc.session(token)


def test_guesses_running_in_parallel_cannot_outlast_the_lockout(
    env: tuple[Proctor, Accounts, FrozenClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sign-in whose password check ran while other guesses locked the account is refused: the
    lock read before the (slow) argon2 check is not the last word."""
    from proctor.accounts import passwords, service

    _, acc, _ = env
    real = passwords.verify

    def verify_while_others_guess(hashed: str, password: str) -> bool:
        if password == PW:  # the attacker's right guess is still being checked ...
            for _ in range(3):  # ... as three parallel wrong guesses lock the account
                with pytest.raises(AuthError):
                    acc.authenticate("ann@acme.test", "wrong password guess")
        return real(hashed, password)

    monkeypatch.setattr(service, "verify", verify_while_others_guess)
    with pytest.raises(AccountLocked):
        acc.authenticate("ann@acme.test", PW)
