"""Red-team findings on several Proctor processes sharing one PostgreSQL (issue 19, docs/adr/0034).

An expiry must never be committed without its record: when another process holds the audit
chain's lock past this one's lock timeout (three gateways writing at once), the sweep that expired
the tasks cannot write their ``task.expired``. Their expiry stays claimed (``expiry_claim``), so a
later sweep (of any process) records each of them, once, as ``recorded_late``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from proctor.app import Proctor
from proctor.clock import FrozenClock
from proctor.errors import StoreError
from proctor.tasks.service import EXPIRY_RECLAIM_S
from proctor.types import TaskState
from proctor.workspace import Workspace

CONFIG = "trust_domain: acme.test\n"


def _records(url: str, kind: str) -> Counter[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT task FROM audit_records WHERE kind = %s", (kind,)).fetchall()
    return Counter(str(r[0]) for r in rows)


def test_an_expiry_whose_record_failed_is_recorded_by_a_later_sweep(
    tmp_path: Path, pg_migrated_url: str
) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    clock = FrozenClock()
    p = Proctor.open(ws, clock=clock, store_url=pg_migrated_url)
    try:
        p.agents.add("bot", "owner@acme.test")
        p.agents.add("sub", "owner@acme.test")
        parent = p.tasks.start(
            agent="bot", purpose="job", allow=["fs.*"], requested_by="req@acme.test", ttl_s=60
        ).task
        ids = [parent.id] + [
            p.tasks.start(
                agent="bot", purpose=f"job {i}", allow=["fs.*"], requested_by="req@acme.test", ttl_s=60
            ).task.id
            for i in range(2)
        ]
        child = p.tasks.delegate(parent=str(parent.id), agent="sub", allow=["fs.*"], ttl_s=30).task
        clock.advance(120)
        # something holds this writer's chain lock longer than this process's lock timeout
        with psycopg.connect(pg_migrated_url) as holder:
            assert p.audit.writer is not None  # its chain's lock (docs/adr/0036), as a stalled holder would
            holder.execute("SELECT id FROM audit_writers WHERE id = %s FOR UPDATE", (p.audit.writer,))
            with pytest.raises(StoreError):
                p.tasks.sweep()
            holder.rollback()
        # the expiry stays claimed with no record; once the claim is old enough to be a dead
        # sweeper's, a later sweep records it, late
        clock.advance(EXPIRY_RECLAIM_S + 1)
        p.tasks.sweep()
        expired = _records(pg_migrated_url, "task.expired")
        assert expired == Counter({str(t): 1 for t in [*ids, child.id]})
        for t in [*ids, child.id]:
            rec = p.store.get_task(t)
            assert rec is not None
            assert rec.state is TaskState.EXPIRED
        assert p.tasks.sweep() == []
        assert _records(pg_migrated_url, "task.expired") == expired
    finally:
        p.close()


@pytest.mark.parametrize(
    ("given", "public"),
    [
        # a default port, an upper-case host, a trailing slash: one URL, so one audience and a
        # Host header clients actually send (`mcp.acme.test`, never `mcp.acme.test:443`)
        ("https://MCP.Acme.test:443/mcp/", "https://mcp.acme.test/mcp"),
        ("https://mcp.acme.test:443", "https://mcp.acme.test/mcp"),
        ("http://mcp.acme.test:80/mcp", "http://mcp.acme.test/mcp"),
        ("https://mcp.acme.test:8443/mcp", "https://mcp.acme.test:8443/mcp"),
        ("https://[::1]:8443/mcp", "https://[::1]:8443/mcp"),
    ],
)
def test_public_url_is_one_spelling(tmp_path: Path, given: str, public: str) -> None:
    from proctor.config import load_settings
    from proctor.gateway.http import allowed_hosts

    cfg = tmp_path / "proctor.yaml"
    cfg.write_text(f"trust_domain: acme.test\ngateway: {{public_url: '{given}'}}\n")
    url = load_settings(cfg).gateway_public_url
    assert url == public
    assert urlsplit(public).netloc in allowed_hosts(url)


@pytest.mark.parametrize(
    "bad",
    [
        "https://mcp.acme.test:99999/mcp",  # crashed the gateway at start with a ValueError
        "https://mcp.acme.test:abc/mcp",
        "https://mcp.acme.test:0/mcp",
        "https://[::1/mcp",
        "https://:443/mcp",  # no host at all
        "https://mcp.acme.test/mcp\x00",
        "https://mcp.acme.test/m\x7fcp",
    ],
)
def test_public_url_nonsense_is_a_config_error(bad: str) -> None:
    from proctor.config import check_public_url
    from proctor.errors import ConfigError

    with pytest.raises(ConfigError):
        check_public_url(bad, "--public-url")


def test_a_public_url_without_port_admits_no_made_up_host() -> None:
    """`Host: 127.0.0.1:None` was answered (200) by a gateway whose public URL names no port."""
    from proctor.gateway.http import allowed_hosts

    hosts = allowed_hosts("https://mcp.acme.test/mcp", "127.0.0.1:8900")
    assert hosts == ["mcp.acme.test", "127.0.0.1:8900", "localhost:8900"]
    assert allowed_hosts("https://mcp.acme.test:8443/mcp")[0] == "mcp.acme.test:8443"


def test_a_revoked_grant_ends_its_task_even_when_the_end_fails(tmp_path: Path, pg_migrated_url: str) -> None:
    """Revoking an OAuth grant ends its task (its leases and sessions go). When that end failed (its
    row locked by another process past the lock timeout, a store blip), the failure was swallowed:
    `proctor oauth revoke` said revoked, the task stayed active, nothing was pended. Now the end is
    the kill switch's: recorded, or enforced from the kill file until it can be."""
    from proctor.oauth.server import revoke_grant
    from proctor.store.base import OAuthCodeRecord, OAuthGrantRecord

    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    clock = FrozenClock()
    p = Proctor.open(ws, clock=clock, store_url=pg_migrated_url)
    try:
        p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(
            agent="bot", purpose="job", allow=["fs.*"], requested_by="ann@acme.test", ttl_s=600
        ).task
        now = clock.now()
        resource = "https://mcp.acme.test/mcp"
        p.store.add_oauth_grant(
            OAuthGrantRecord(
                "og_1", "pc_x", "ann@acme.test", "bot", "t", resource, str(task.id), now, now + 3600
            ),
            OAuthCodeRecord(
                "c" * 64, "og_1", "pc_x", "http://127.0.0.1/cb", "x" * 43, resource, now, now + 60
            ),
        )
        with psycopg.connect(pg_migrated_url) as holder:
            holder.execute("SELECT 1 FROM tasks WHERE id = %s FOR UPDATE", (str(task.id),))
            assert revoke_grant(p, "og_1", "stolen laptop", by="cli")
            holder.rollback()
        rec = p.store.get_task(task.id)
        assert rec is not None
        pended = [k.target for k in p.kills.pending()]
        assert rec.state is TaskState.CANCELLED or pended == [str(task.id)]
    finally:
        p.close()


def test_an_orphan_end_whose_record_failed_is_recorded_by_a_later_sweep(
    tmp_path: Path, pg_migrated_url: str
) -> None:
    """The same for the children a sweep ends under an ended parent (docs/adr/0032)."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    clock = FrozenClock()
    p = Proctor.open(ws, clock=clock, store_url=pg_migrated_url)
    try:
        p.agents.add("bot", "owner@acme.test")
        p.agents.add("sub", "owner@acme.test")
        parent = p.tasks.start(
            agent="bot", purpose="job", allow=["fs.*"], requested_by="req@acme.test", ttl_s=600
        ).task
        child = p.tasks.delegate(parent=str(parent.id), agent="sub", allow=["fs.*"], ttl_s=300).task
        # a process that ended the parent died before its cascade
        assert p.store.end_task(parent.id, TaskState.CANCELLED, clock.now(), "done") is not None
        with psycopg.connect(pg_migrated_url) as holder:
            assert p.audit.writer is not None  # its chain's lock (docs/adr/0036), as a stalled holder would
            holder.execute("SELECT id FROM audit_writers WHERE id = %s FOR UPDATE", (p.audit.writer,))
            with pytest.raises(StoreError):
                p.tasks.sweep()
            holder.rollback()
        p.tasks.sweep()
        assert _records(pg_migrated_url, "task.ended") == Counter({str(child.id): 1})
        rec = p.store.get_task(child.id)
        assert rec is not None
        assert rec.state is TaskState.CANCELLED
    finally:
        p.close()


def test_a_busy_pool_says_so_rather_than_that_postgresql_is_unreachable(
    tmp_path: Path, pg_migrated_url: str
) -> None:
    """Every connection of the pool busy (PostgreSQL up): the refusal named an unreachable server,
    sending operators after the database rather than after store_pool_size."""
    import threading

    from proctor.errors import StoreUnavailable

    ws, _ = Workspace.init(
        tmp_path / "ws", config_text=f"{CONFIG}store_pool_size: 1\nstore_pool_min: 1\nstore_timeout: 0.5\n"
    )
    p = Proctor.open(ws, store_url=pg_migrated_url)
    try:
        pool = p.store._pool  # type: ignore[attr-defined]
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with pool.connection():
                held.set()
                release.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert held.wait(10)
            with pytest.raises(StoreUnavailable) as info:
                p.store.epoch()
        finally:
            release.set()
            holder.join()
        assert "cannot reach" not in info.value.message
        assert "store_pool_size" in info.value.message
        p.store.epoch()  # and the pool serves again once a connection is back
    finally:
        p.close()
