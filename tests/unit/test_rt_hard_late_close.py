"""Red team of the carried records (:mod:`proctor.audit.late`): records a sweep could not write
are kept in memory to be written with the next ones; a process that closes (SIGTERM, `proctor
serve` stopping) writes them first, rather than dropping them with its memory."""

from __future__ import annotations

import json
import sqlite3

import pytest
from tests.unit.conftest import Env
from tests.unit.test_approvals import held, pay

from proctor.approvals.model import ApprovalState
from proctor.errors import StoreUnavailable


def test_records_carried_at_close_are_written_before_the_log_closes(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep expired a request but could not write its `approval.expired` (the store refused
    the write); the store is back, and the process is stopped before its next sweep: the carried
    record is written at close, marked `recorded_late`. Closing dropped it: the request stood
    expired in the store with no record of it in the log."""
    long = env.p.tasks.start(
        agent="bot",
        purpose="pay",
        allow=["payments.*"],
        resources=["acct-*"],
        requested_by="req@acme.test",
        ttl_s=7200,
    )
    aid = held(env, pay(env, 100, "acct-1", svid=None, agent="bot", task_token=long.token))
    env.p.audit.flush()
    env.clock.advance(601)

    def refused(*_a: object, **_k: object) -> object:
        raise StoreUnavailable("injected: the audit store refuses writes")

    with monkeypatch.context() as m:
        m.setattr(env.p.store, "append_audit", refused)
        assert [r.id for r in env.p.approvals.sweep()] == [aid]
    assert env.p.approvals.get(aid).state is ApprovalState.EXPIRED
    env.p.close()  # the process stops (its signal handler closes the app)
    with sqlite3.connect(env.ws.root / "proctor.db") as db:
        bodies = [json.loads(bytes(r[0])) for r in db.execute("SELECT body FROM audit_records")]
    expired = [b for b in bodies if b.get("kind") == "approval.expired" and b.get("approval_id") == aid]
    assert len(expired) == 1, "the carried record was lost at close"
    assert expired[0]["recorded_late"] is True


def test_a_record_written_late_says_since_when_it_was_carried(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record carried through an hour's outage is stamped when it is written: `recorded_late`
    said it was late, not when the change it records was made. It now carries `carried_since`, the
    time its first write failed (the expiry's time), so the log does not date it to the recovery."""
    long = env.p.tasks.start(
        agent="bot",
        purpose="pay",
        allow=["payments.*"],
        resources=["acct-*"],
        requested_by="req@acme.test",
        ttl_s=7200,
    )
    aid = held(env, pay(env, 100, "acct-1", svid=None, agent="bot", task_token=long.token))
    env.p.audit.flush()
    env.clock.advance(601)
    expired_at = env.clock.now()

    def refused(*_a: object, **_k: object) -> object:
        raise StoreUnavailable("injected: the audit store refuses writes")

    with monkeypatch.context() as m:
        m.setattr(env.p.store, "append_audit", refused)
        assert [r.id for r in env.p.approvals.sweep()] == [aid]
    env.clock.advance(3600)  # the outage
    env.p.approvals.sweep()
    env.p.audit.flush()
    with sqlite3.connect(env.ws.root / "proctor.db") as db:
        bodies = [json.loads(bytes(r[0])) for r in db.execute("SELECT body FROM audit_records")]
    (rec,) = [b for b in bodies if b.get("kind") == "approval.expired" and b.get("approval_id") == aid]
    assert rec["recorded_late"] is True
    assert rec.get("carried_since") == pytest.approx(expired_at, abs=0.01), rec
