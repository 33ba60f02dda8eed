"""Export the audit log as JSON Lines, one record per line, for auditors and SIEMs.

Each line is ``{"seq": N, "writer": W, "wseq": M, "hash": hex, "prev_hash": hex, "record": {...}}``
(``record`` null and ``body_b64`` the stored bytes for a body that is not JSON). The record is the
parsed body; re-encoding it with :func:`proctor.canonical.canonical_json` gives back the exact
bytes that were hashed, so an export can be checked on its own with
:func:`proctor.audit.chain.writer_chain_hash` (writer, wseq, seq): each writer's records form a chain
of their own (docs/adr/0036).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any, TextIO

from proctor.store.base import AuditQuery, AuditRow, Store


def parsed_body(body: bytes) -> Any:
    """A record's body as JSON, or None when it is not (a tampered or hostile row: ``audit verify``
    names it; reading the log must not stop at it)."""
    try:
        return json.loads(body)
    except (ValueError, TypeError, RecursionError):
        return None


def export_jsonl(store: Store, out: TextIO, query: AuditQuery | None = None) -> int:
    """Write records to ``out``, one JSON object per line; returns how many were written.

    Without ``query`` the whole log is exported in seq order; with one, exactly what
    ``store.search_audit(query)`` returns (its filters, order and limit).
    """
    rows: Iterable[AuditRow] = store.iter_audit() if query is None else store.search_audit(query)
    n = 0
    for r in rows:
        record = parsed_body(r.body)
        line: dict[str, Any] = {
            "seq": r.seq,
            "writer": r.writer,
            "wseq": r.wseq,
            "hash": r.hash.hex(),
            "prev_hash": r.prev_hash.hex(),
            "record": record,
        }
        if record is None:  # kept exactly, so nothing of the log is lost from the export
            line["body_b64"] = base64.b64encode(bytes(r.body)).decode()
        out.write(json.dumps(line, separators=(",", ":")))
        out.write("\n")
        n += 1
    return n


__all__ = ["export_jsonl", "parsed_body"]
