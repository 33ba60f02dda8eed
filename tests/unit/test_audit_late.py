"""Records a service could not write at once (proctor.audit.late): carried through a store outage
and written late, in order and marked `recorded_late`; a record the log refuses for its content
never holds the others back (written one by one, the refused one logged and dropped)."""

from __future__ import annotations

import json

import pytest
from tests.unit.conftest import Env

from proctor.audit.late import LateRecords
from proctor.audit.log import AuditEntry
from proctor.errors import StoreUnavailable


def _bodies(env: Env, kind: str) -> list[dict[str, object]]:
    env.p.audit.flush()
    return [json.loads(r.body) for r in env.p.store.iter_audit() if r.kind == kind]


def test_carried_through_an_outage_then_written_late_in_order(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = LateRecords(env.p.audit, "test")

    def refused(*_a: object, **_k: object) -> object:
        raise StoreUnavailable("injected: the audit store is down")

    with monkeypatch.context() as m:
        m.setattr(env.p.store, "append_audit", refused)
        with pytest.raises(StoreUnavailable):
            late.write([AuditEntry("test.one", {"n": 1})])
        with pytest.raises(StoreUnavailable):
            late.write([AuditEntry("test.one", {"n": 2})])
    assert len(late) == 2
    late.write([AuditEntry("test.one", {"n": 3})])
    assert [(b["n"], b.get("recorded_late")) for b in _bodies(env, "test.one")] == [
        (1, True),
        (2, True),
        (3, None),
    ]
    assert len(late) == 0


def test_a_record_the_log_refuses_does_not_hold_back_the_others(env: Env) -> None:
    late = LateRecords(env.p.audit, "test")
    poison = AuditEntry("test.one", {"n": {1, 2}})  # a set: no canonical JSON for it
    late.write([AuditEntry("test.one", {"n": 1}), poison, AuditEntry("test.one", {"n": 3})])
    assert [b["n"] for b in _bodies(env, "test.one")] == [1, 3]
    assert len(late) == 0
