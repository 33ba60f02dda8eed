"""The store's OAuth tables (docs/adr/0028): clients, grants, single-use codes and rotated
refresh tokens behave the same on SQLite and PostgreSQL, and no token is stored in clear."""

# ruff: noqa: F811 - the imported fixtures `backend` and `store` are the tests' parameters
from __future__ import annotations

import threading

from tests.conformance.test_store_conformance import T0, Backend, backend, store  # noqa: F401

from proctor.store._sql import SqlStore
from proctor.store.base import OAuthClientRecord, OAuthCodeRecord, OAuthGrantRecord, OAuthRefreshRecord


def grant(gid: str = "og_1", **kw: object) -> OAuthGrantRecord:
    fields: dict[str, object] = {
        "id": gid,
        "client_id": "pc_x",
        "email": "ann@example.com",
        "agent": "bot",
        "template": "support",
        "resource": "http://127.0.0.1:9/mcp",
        "task_id": "t1",
        "created_at": T0,
        "expires_at": T0 + 86400,
    }
    fields.update(kw)
    return OAuthGrantRecord(**fields)  # type: ignore[arg-type]  # test helper


def code(ch: str = "c" * 64, gid: str = "og_1") -> OAuthCodeRecord:
    return OAuthCodeRecord(
        ch, gid, "pc_x", "http://127.0.0.1/cb", "x" * 43, "http://127.0.0.1:9/mcp", T0, T0 + 60
    )


def test_clients_round_trip_and_a_refetched_document_replaces_its_record(store: SqlStore) -> None:
    a = OAuthClientRecord("pc_a", "Cursor", ("http://127.0.0.1/cb", "https://x.example/cb"), "dcr", T0)
    store.add_oauth_client(a)
    assert store.get_oauth_client("pc_a") == a
    assert store.get_oauth_client("pc_b") is None
    b = OAuthClientRecord("pc_a", "Cursor 2", ("https://y.example/cb",), "cimd", T0 + 1)
    store.add_oauth_client(b)
    assert store.get_oauth_client("pc_a") == b


def test_registrations_unused_for_a_day_are_pruned(store: SqlStore) -> None:
    """Anyone may register: a client no grant uses goes a day later, when another registers."""
    store.add_oauth_client(OAuthClientRecord("pc_idle", "x", ("https://a.example/cb",), "dcr", T0))
    store.add_oauth_client(OAuthClientRecord("pc_x", "y", ("https://a.example/cb",), "dcr", T0))
    store.add_oauth_grant(grant(), code())  # a grant of pc_x
    store.add_oauth_client(OAuthClientRecord("pc_new", "z", ("https://a.example/cb",), "dcr", T0 + 86401))
    assert store.get_oauth_client("pc_idle") is None
    assert store.get_oauth_client("pc_x") is not None
    assert store.get_oauth_client("pc_new") is not None


def test_a_code_is_first_used_once_even_when_two_use_it_at_once(store: SqlStore, backend: Backend) -> None:
    store.add_oauth_grant(grant(), code())
    assert store.get_oauth_grant("og_1") == grant()
    results: list[bool] = []

    def use() -> None:
        results.append(store.use_oauth_code("c" * 64, T0 + 1)[1])

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    rec, first = store.use_oauth_code("c" * 64, T0 + 2)
    assert rec is not None
    assert rec.used_at == T0 + 1
    assert not first
    assert store.use_oauth_code("d" * 64, T0) == (None, False)


def test_refresh_rotation_reuse_expiry_and_revocation(store: SqlStore) -> None:
    store.add_oauth_grant(grant(), code())
    store.add_oauth_refresh(OAuthRefreshRecord("r1" * 32, "og_1", T0, T0 + 100))
    new = OAuthRefreshRecord("r2" * 32, "", T0 + 1, T0 + 101)
    assert store.rotate_oauth_refresh("r1" * 32, new, T0 + 1) == ("og_1", "ok")
    # the old one again: a reuse, and nothing new is stored for it
    again = OAuthRefreshRecord("r3" * 32, "", T0 + 2, T0 + 102)
    assert store.rotate_oauth_refresh("r1" * 32, again, T0 + 2) == ("og_1", "reused")
    assert store.rotate_oauth_refresh("r3" * 32, again, T0 + 3) == (None, "unknown")
    # the rotated one is past its expiry
    assert store.rotate_oauth_refresh("r2" * 32, again, T0 + 200) == ("og_1", "expired")
    store.add_oauth_refresh(OAuthRefreshRecord("r4" * 32, "og_1", T0, T0 + 100))
    store.set_oauth_grant_task("og_1", "t2")
    assert store.revoke_oauth_grant("og_1", T0 + 5, "refresh_reused")
    assert not store.revoke_oauth_grant("og_1", T0 + 6, "again")
    g = store.get_oauth_grant("og_1")
    assert g is not None
    assert g.revoked_at == T0 + 5
    assert g.revoked_reason == "refresh_reused"
    assert g.task_id == "t2"
    # revoking drops every refresh token of the grant
    assert store.rotate_oauth_refresh("r4" * 32, again, T0 + 7) == (None, "unknown")


def test_grants_are_listed_newest_first_and_by_agent(store: SqlStore) -> None:
    store.add_oauth_grant(grant("og_1"), code("a" * 64, "og_1"))
    store.add_oauth_grant(grant("og_2", agent="other", created_at=T0 + 1), code("b" * 64, "og_2"))
    assert [g.id for g in store.list_oauth_grants()] == ["og_2", "og_1"]
    assert [g.id for g in store.list_oauth_grants("bot")] == ["og_1"]
    assert store.list_oauth_grants("nobody") == []


def test_a_refresh_token_is_peeked_without_being_spent(store: SqlStore) -> None:
    store.add_oauth_grant(grant(), code())
    store.add_oauth_refresh(OAuthRefreshRecord("r" * 64, "og_1", T0, T0 + 3600))
    assert store.peek_oauth_refresh("r" * 64) == ("og_1", False)
    assert store.peek_oauth_refresh("r" * 64) == ("og_1", False)
    assert store.peek_oauth_refresh("u" * 64) == (None, False)
    assert store.rotate_oauth_refresh("r" * 64, OAuthRefreshRecord("s" * 64, "", T0, T0 + 60), T0 + 1) == (
        "og_1",
        "ok",
    )
    assert store.peek_oauth_refresh("r" * 64) == ("og_1", True)
    assert store.peek_oauth_refresh("s" * 64) == ("og_1", False)
