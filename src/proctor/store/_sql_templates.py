"""The SQL of task templates (docs/adr/0029), shared by both engines (mixed into
:class:`proctor.store._sql.SqlStore`). ``?`` placeholders, as in ``_sql``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from proctor.store._sql_accounts import Cursor
from proctor.store.base import TaskTemplate

__all__ = ["TemplatesSql"]

_TEMPLATE_COLS = (
    "name, purpose, allow, resources, ttl_s, max_calls, requested_by, agents, params, created_at, created_by"
)
_TEMPLATE_UPSERT = ", ".join(
    f"{c} = excluded.{c}" for c in (c.strip() for c in _TEMPLATE_COLS.split(",")) if c != "name"
)


def _template(row: Sequence[Any]) -> TaskTemplate:
    return TaskTemplate(
        name=row[0],
        purpose=row[1],
        allow=tuple(json.loads(row[2])),
        resources=tuple(json.loads(row[3])),
        ttl_s=float(row[4]),
        max_calls=None if row[5] is None else int(row[5]),
        requested_by=row[6],
        agents=tuple(json.loads(row[7])),
        params=tuple(sorted((str(k), str(v)) for k, v in json.loads(row[8]).items())),
        created_at=float(row[9]),
        created_by=row[10],
    )


class TemplatesSql:
    """Task templates on a SQL engine; the engine hooks are :class:`SqlStore`'s."""

    def _read(self) -> AbstractContextManager[Cursor]:
        raise NotImplementedError  # pragma: no cover - SqlStore provides it

    def _write(self, *, relaxed: bool = False) -> AbstractContextManager[Cursor]:
        raise NotImplementedError  # pragma: no cover - SqlStore provides it

    def put_template(self, template: TaskTemplate) -> None:
        values = (
            template.name,
            template.purpose,
            json.dumps(list(template.allow)),
            json.dumps(list(template.resources)),
            float(template.ttl_s),
            template.max_calls,
            template.requested_by,
            json.dumps(list(template.agents)),
            json.dumps(dict(template.params), sort_keys=True),
            template.created_at,
            template.created_by,
        )
        marks = ", ".join("?" for _ in values)
        with self._write() as cur:  # one upsert: concurrent puts of one name cannot collide
            cur.execute(
                f"INSERT INTO task_templates ({_TEMPLATE_COLS}) VALUES ({marks})"
                f" ON CONFLICT (name) DO UPDATE SET {_TEMPLATE_UPSERT}",
                values,
            )

    def get_template(self, name: str) -> TaskTemplate | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_TEMPLATE_COLS} FROM task_templates WHERE name = ?", (name,))
            row = cur.fetchone()
        return _template(row) if row else None

    def list_templates(self) -> list[TaskTemplate]:
        with self._read() as cur:
            cur.execute(f"SELECT {_TEMPLATE_COLS} FROM task_templates ORDER BY name")
            return [_template(r) for r in cur.fetchall()]

    def delete_template(self, name: str) -> bool:
        with self._write() as cur:
            cur.execute("DELETE FROM task_templates WHERE name = ?", (name,))
            return cur.rowcount == 1
