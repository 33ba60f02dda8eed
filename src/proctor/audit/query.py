"""Reading the audit log: the newest records, a search, and everything recorded for one decision.

A decision's id follows its call into every record about it (the decision itself, the call's
completion, the credential leases it used): :func:`decision_records` gathers them through the
store's decision index, oldest first.
"""

from __future__ import annotations

from proctor.errors import UnknownDecision
from proctor.store.base import AuditQuery, AuditRow, Store
from proctor.types import DecisionId


def newest(store: Store, n: int) -> list[AuditRow]:
    """The ``n`` newest records, oldest first."""
    return list(reversed(store.search_audit(AuditQuery(limit=n, newest_first=True))))


def search(store: Store, query: AuditQuery) -> list[AuditRow]:
    """The records ``query`` selects, in its order."""
    return store.search_audit(query)


def decision_records(store: Store, decision_id: str) -> list[AuditRow]:
    """Every record of the decision ``decision_id``, in log order. :class:`ValidationError` for a
    string that is not a decision id, :class:`UnknownDecision` when no record carries it."""
    did = DecisionId(decision_id)
    rows = store.get_audit_by_decision(str(did))
    if not rows:
        raise UnknownDecision(f"no audit record of decision `{did}`: see `proctor audit search`")
    return rows


__all__ = ["decision_records", "newest", "search"]
