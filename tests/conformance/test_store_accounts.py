"""The store's approver accounts, web sessions and pending OIDC logins: same behaviour on SQLite
and PostgreSQL (the conformance suite's fixtures: a fresh, migrated store on each engine)."""

# ruff: noqa: F811 - the imported fixtures `backend` and `store` are the tests' parameters
from __future__ import annotations

import threading

import pytest
from tests.conformance.test_store_conformance import T0, Backend, backend, store  # noqa: F401

from proctor.errors import Conflict, NotFound, ValidationError
from proctor.store._sql import SqlStore
from proctor.store.base import OidcLoginRecord, UserRecord, WebSessionRecord
from proctor.types import Email


def user(email: str = "ann@example.com", **kw: object) -> UserRecord:
    fields: dict[str, object] = {
        "email": Email(email),
        "name": "Ann Approver",
        "groups": ("ops", "payments-team"),
        "created_at": T0,
        "updated_at": T0,
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
    }
    fields.update(kw)
    return UserRecord(**fields)  # type: ignore[arg-type]  # test helper: fields checked by the record


def session(th: str = "a" * 64, email: str = "ann@example.com", **kw: object) -> WebSessionRecord:
    fields: dict[str, object] = {
        "token_hash": th,
        "email": Email(email),
        "name": "Ann",
        "groups": ("ops",),
        "via": "password",
        "created_at": T0,
        "last_seen": T0,
        "expires_at": T0 + 3600,
    }
    fields.update(kw)
    return WebSessionRecord(**fields)  # type: ignore[arg-type]  # test helper


def test_users_round_trip_list_and_refuse_a_duplicate(store: SqlStore) -> None:
    """Every account field comes back as stored; a second account of one e-mail is a Conflict;
    e-mails are compared exactly (case-sensitive on both engines)."""
    a, b = user(), user("bob@example.com", password_hash=None, groups=())
    store.add_user(a)
    store.add_user(b)
    assert store.get_user(a.email) == a
    assert store.get_user(Email("Ann@example.com")) is None
    assert store.list_users() == [a, b]
    with pytest.raises(Conflict):
        store.add_user(user())


def test_update_user_changes_only_what_it_names(store: SqlStore) -> None:
    """update_user sets the named fields, bumps the version, and unlock clears failures and a lock."""
    store.add_user(user())
    rec = store.update_user(Email("ann@example.com"), T0 + 5, groups=["z", "a", "a"], disabled=True)
    assert rec.groups == ("a", "z")
    assert rec.disabled
    assert rec.version == 2
    assert rec.updated_at == T0 + 5
    assert rec.name == "Ann Approver"
    assert rec.password_hash == user().password_hash
    store.record_login_failure(rec.email, T0, max_failures=1, lock_s=60)
    assert store.get_user(rec.email).locked(T0 + 1)  # type: ignore[union-attr]  # it exists
    rec = store.update_user(rec.email, T0 + 6, password_hash="$argon2id$new", unlock=True)
    assert rec.password_hash == "$argon2id$new"
    assert rec.locked_until is None
    assert rec.failed_logins == 0
    with pytest.raises(NotFound):
        store.update_user(Email("nobody@example.com"), T0, disabled=True)


def test_login_failures_lock_at_the_limit_and_start_again(store: SqlStore) -> None:
    """The third failure (of three allowed) locks until now + lock_s and resets the count; a
    success clears the count; an unknown account is None."""
    store.add_user(user())
    e = Email("ann@example.com")
    for n in (1, 2):
        rec = store.record_login_failure(e, T0 + n, max_failures=3, lock_s=900)
        assert rec is not None
        assert rec.failed_logins == n
        assert rec.locked_until is None
    rec = store.record_login_failure(e, T0 + 3, max_failures=3, lock_s=900)
    assert rec is not None
    assert rec.failed_logins == 0
    assert rec.locked_until == T0 + 903
    assert rec.locked(T0 + 902)
    assert not rec.locked(T0 + 903)
    store.record_login_failure(e, T0 + 4, max_failures=3, lock_s=900)
    store.record_login_success(e, T0 + 5)
    assert store.get_user(e).failed_logins == 0  # type: ignore[union-attr]  # it exists
    assert store.record_login_failure(Email("x@example.com"), T0, max_failures=3, lock_s=1) is None
    with pytest.raises(ValidationError):
        store.record_login_failure(e, T0, max_failures=0, lock_s=1)


def test_concurrent_login_failures_each_count(backend: Backend) -> None:
    """Failures counted at once by several store instances (processes) are all counted: 8 failures
    with a limit of 4 lock the account twice over, never lose one."""
    backend.store.add_user(user())
    stores = [backend.another() for _ in range(4)]
    locks: list[float | None] = []
    mu = threading.Lock()

    def fail(s: SqlStore) -> None:
        for _ in range(2):
            rec = s.record_login_failure(Email("ann@example.com"), T0, max_failures=4, lock_s=60)
            with mu:
                locks.append(None if rec is None else rec.locked_until)

    threads = [threading.Thread(target=fail, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = backend.store.get_user(Email("ann@example.com"))
    # 8 failures counted against a limit of 4: the count went round twice (one lost would leave 3)
    assert final is not None
    assert final.failed_logins == 0
    assert final.locked_until == T0 + 60
    assert len(locks) == 8
    assert locks.count(None) == 3


def test_web_sessions_round_trip_touch_and_revoke(store: SqlStore) -> None:
    """Sessions come back as stored; touch moves last_seen forward only; revoking one session or
    every live session of an e-mail says how many it ended, and never ends one twice."""
    a, b, c = session("a" * 64), session("b" * 64), session("c" * 64, "bob@example.com")
    for s in (a, b, c):
        store.add_web_session(s)
    assert store.get_web_session("a" * 64) == a
    assert store.get_web_session("d" * 64) is None
    store.touch_web_session("a" * 64, T0 + 30)
    store.touch_web_session("a" * 64, T0 + 10)
    assert store.get_web_session("a" * 64).last_seen == T0 + 30  # type: ignore[union-attr]  # exists
    assert store.revoke_web_sessions(T0 + 40, token_hash="a" * 64) == 1
    assert store.revoke_web_sessions(T0 + 41, token_hash="a" * 64) == 0
    assert store.get_web_session("a" * 64).revoked_at == T0 + 40  # type: ignore[union-attr]  # exists
    assert store.revoke_web_sessions(T0 + 42, email=Email("ann@example.com")) == 1  # b only
    assert store.get_web_session("c" * 64).revoked_at is None  # type: ignore[union-attr]  # exists
    assert store.revoke_web_sessions(T0 + 7200, email=Email("bob@example.com")) == 0  # expired already
    with pytest.raises(ValidationError):
        store.revoke_web_sessions(T0)
    # a session created after the others' absolute expiry clears them away
    store.add_web_session(session("e" * 64, created_at=T0 + 3600, last_seen=T0 + 3600, expires_at=T0 + 7200))
    assert [store.get_web_session(h * 64) is None for h in "abce"] == [True, True, True, False]


def test_an_oidc_login_is_taken_once_and_not_after_it_expires(backend: Backend) -> None:
    """take_oidc_login returns a pending login once (the second take, here from another store
    instance, gets None), refuses an expired one and deletes expired ones on the way."""
    store = backend.store
    rec = OidcLoginRecord("s" * 64, "nonce-1", "verifier-1", "/approvals", T0, T0 + 600)
    store.add_oidc_login(rec)
    store.add_oidc_login(OidcLoginRecord("t" * 64, "n2", "v2", "/", T0, T0 + 10))
    assert store.take_oidc_login("s" * 64, T0 + 1) == rec
    assert backend.another().take_oidc_login("s" * 64, T0 + 1) is None
    assert store.take_oidc_login("t" * 64, T0 + 10) is None  # expired
    assert backend.raw_execute("SELECT COUNT(*) FROM oidc_logins", ()) == [(0,)]


def test_concurrent_takes_of_one_oidc_login_yield_it_once(backend: Backend) -> None:
    """Two callbacks with one state at the same time: exactly one gets the login."""
    rec = OidcLoginRecord("s" * 64, "n", "v", "/", T0, T0 + 600)
    backend.store.add_oidc_login(rec)
    stores = [backend.another() for _ in range(4)]
    got: list[object] = []
    barrier = threading.Barrier(len(stores))

    def take(s: SqlStore) -> None:
        barrier.wait()
        got.append(s.take_oidc_login("s" * 64, T0 + 1))

    threads = [threading.Thread(target=take, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got, key=lambda x: x is None) == [rec, None, None, None]
