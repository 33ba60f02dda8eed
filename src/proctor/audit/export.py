"""Export the audit log as JSON Lines, one record per line, for auditors and SIEMs.

Each line is ``{"seq": N, "hash": hex, "prev_hash": hex, "record": {...}}``. The record is the parsed
body; re-encoding it with :func:`proctor.audit.canonical.canonical_json` gives back the exact
bytes that were hashed, so an export can be checked on its own with
:func:`proctor.audit.chain.chain_hash`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from proctor.store.base import AuditQuery, AuditRow, Store


def export_jsonl(store: Store, out: TextIO, query: AuditQuery | None = None) -> int:
    """Write records to ``out``, one JSON object per line; returns how many were written.

    Without ``query`` the whole log is exported in seq order; with one, exactly what
    ``store.search_audit(query)`` returns (its filters, order and limit).
    """
    rows: Iterable[AuditRow] = store.iter_audit() if query is None else store.search_audit(query)
    n = 0
    for r in rows:
        line = {
            "seq": r.seq,
            "hash": r.hash.hex(),
            "prev_hash": r.prev_hash.hex(),
            "record": json.loads(r.body),
        }
        out.write(json.dumps(line, separators=(",", ":")))
        out.write("\n")
        n += 1
    return n


__all__ = ["export_jsonl"]
