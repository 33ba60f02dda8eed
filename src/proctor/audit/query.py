"""Reading the audit log: the newest records, a search, and everything recorded for one decision.

A decision's id follows its call into every record about it (the decision itself, the call's
completion, the credential leases it used): :func:`decision_records` gathers them through the
store's decision index, oldest first.
"""

from __future__ import annotations

from typing import TextIO

from proctor.audit.export import export_jsonl
from proctor.errors import ProctorError, UnknownDecision
from proctor.store.base import AuditQuery, AuditRow, Store
from proctor.types import ApprovalId, DecisionId


def newest(store: Store, n: int) -> list[AuditRow]:
    """The ``n`` newest records, oldest first."""
    return list(reversed(store.search_audit(AuditQuery(limit=n, newest_first=True))))


def search(store: Store, query: AuditQuery) -> list[AuditRow]:
    """The records ``query`` selects, in its order."""
    return store.search_audit(query)


def task_tree(store: Store, root_task: str) -> tuple[str, ...]:
    """``root_task`` and its descendants (every state), parents before children."""
    from proctor.errors import UnknownTask
    from proctor.types import TaskId

    root = store.get_task(TaskId(root_task))
    if root is None:
        raise UnknownTask(f"unknown task `{root_task}`")
    out: list[str] = [str(root.id)]
    i = 0
    while i < len(out) and len(out) < 10_000:
        out.extend(str(c.id) for c in store.child_tasks(TaskId(out[i]), active_only=False))
        i += 1
    return tuple(out)


def decision_records(store: Store, decision_id: str) -> list[AuditRow]:
    """Every record of the decision ``decision_id``, in log order. :class:`ValidationError` for a
    string that is not a decision id, :class:`UnknownDecision` when no record carries it."""
    did = DecisionId(decision_id)
    rows = store.get_audit_by_decision(str(did))
    if not rows:
        raise UnknownDecision(f"no audit record of decision `{did}`: see `proctor audit search`")
    return _with_approval(store, rows)


def _with_approval(store: Store, rows: list[AuditRow]) -> list[AuditRow]:
    """A decision that waited for, or ran on, an approval shows the approval's story too: the
    request, who decided it, when and why (recorded under the decision that filed it)."""
    import json

    seen = {r.seq for r in rows}
    extra: list[AuditRow] = []
    for r in rows:
        if r.kind != "decision":
            continue
        try:
            body = json.loads(r.body)
            approval_id = body.get("outcome", {}).get("approval_id")
        except (ValueError, AttributeError):
            continue
        if not isinstance(approval_id, str):
            continue
        try:
            req = store.get_approval(ApprovalId(approval_id))
        except ProctorError:
            continue
        if req is None or req.decision_id is None or req.decision_id == r.decision_id:
            continue
        for other in store.get_audit_by_decision(req.decision_id):
            if other.seq not in seen and other.kind.startswith("approval."):
                seen.add(other.seq)
                extra.append(other)
    return sorted([*rows, *extra], key=lambda x: x.seq)


class AuditFollower:
    """New records as they commit, each once (``audit tail -f``, docs/adr/0036).

    Global seqs are handed out before a record commits, so with several writers a slow one can
    commit a record *below* a seq already read: paging by seq would skip it for good. A writer
    commits its own records in chain order, though, so the follower keeps one mark per writer
    (its place, wseq) and reads each chain past its mark; a poll returns what all of them
    committed since, in seq order. ``since`` keeps only records written at or after that time."""

    def __init__(self, store: Store, marks: dict[int, int], since: float | None = None) -> None:
        self._store = store
        self._marks = dict(marks)
        self._since = since

    @classmethod
    def start(cls, store: Store, n: int, since: float | None = None) -> tuple[list[AuditRow], AuditFollower]:
        """The ``n`` newest records (of those since ``since``), oldest first, and a follower that
        returns every record committed after them."""
        # the marks first: a record that commits between the two reads is in the newest ``n`` (and
        # raises its writer's mark below) or after them, never in neither
        marks = store.audit_writer_heads()
        rows = list(reversed(store.search_audit(AuditQuery(since=since, limit=max(n, 1), newest_first=True))))
        rows = rows[-n:] if n > 0 else []
        for r in rows:
            marks[r.writer] = max(marks.get(r.writer, 0), r.wseq)
        return rows, cls(store, marks, since)

    def poll(self, limit: int = 1000) -> list[AuditRow]:
        """Records committed since the last poll (up to ``limit`` of each writer), in seq order."""
        out: list[AuditRow] = []
        for writer, head in self._store.audit_writer_heads().items():
            mark = self._marks.get(writer, 0)
            if head <= mark:
                continue
            rows = self._store.search_audit(
                AuditQuery(writer=writer, after_wseq=mark, since=self._since, limit=limit)
            )
            if len(rows) >= limit:  # more to read next time
                self._marks[writer] = rows[-1].wseq
            else:  # all of it (with ``since``, older ones were filtered out: the mark moves past them)
                self._marks[writer] = max([head] + [r.wseq for r in rows[-1:]])
            out += rows
        out.sort(key=lambda r: r.seq)
        return out


class AuditRecords:
    """The audit log's readers as a service (``Proctor.audit_records``): what the CLI's ``audit
    tail/search/export/show`` and the API's ``/v1/audit`` routes ask, so that neither reaches the
    store itself. Verifying the chain is ``Proctor.verify_audit``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def newest(self, n: int) -> list[AuditRow]:
        """The ``n`` newest records, oldest first."""
        return newest(self._store, n)

    def search(self, query: AuditQuery) -> list[AuditRow]:
        """The records ``query`` selects, in its order."""
        return search(self._store, query)

    def follow(self, n: int, since: float | None = None) -> tuple[list[AuditRow], AuditFollower]:
        """The ``n`` newest records and an :class:`AuditFollower` for what commits after them."""
        return AuditFollower.start(self._store, n, since)

    def tree(self, root_task: str) -> tuple[str, ...]:
        """The ids of ``root_task`` and every task delegated from it, at any depth (docs/adr/0032)."""
        return task_tree(self._store, root_task)

    def export_jsonl(self, out: TextIO, query: AuditQuery | None = None) -> int:
        """Write records to ``out`` as JSON lines (:func:`proctor.audit.export.export_jsonl`)."""
        return export_jsonl(self._store, out, query)

    def decision(self, decision_id: str) -> list[AuditRow]:
        """Every record of one decision, in log order (:func:`decision_records`)."""
        return decision_records(self._store, decision_id)


__all__ = ["AuditFollower", "AuditRecords", "decision_records", "newest", "search", "task_tree"]
