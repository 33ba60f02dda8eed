"""The SQL both engines share. Engines differ only in connections, locking and error mapping.

SQL here is written with ``?`` placeholders; the PostgreSQL engine rewrites them to ``%s``.
Column names are fixed strings, never input.
"""

from __future__ import annotations

import abc
import json
import math
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from proctor.canonical import canonical_json
from proctor.errors import (
    AgentSuspended,
    ApprovalCapReached,
    Conflict,
    SecretKeyInvalid,
    StoreLocked,
    TaskNotActive,
    UnknownAgent,
    UnknownTask,
    ValidationError,
)
from proctor.flow.model import Sensitivity, TaskLabels, Trust
from proctor.store._sql_accounts import AccountsSql
from proctor.store._sql_oauth import OAuthSql
from proctor.store._sql_templates import TemplatesSql
from proctor.store.base import (
    AgentRecord,
    ApprovalRecord,
    AuditQuery,
    AuditRow,
    AuditWriter,
    ChainHasher,
    Checkpoint,
    HistoryEvent,
    JoinTokenRecord,
    KeyRecord,
    LeaseAttempt,
    LeaseRecord,
    OutputRecord,
    PendingAudit,
    SecretKeyRecord,
    SecretRecord,
    TaskRecord,
    ToolPin,
    ToolRecord,
    WebhookAttempt,
    WebhookDelivery,
    index_text,
    index_value,
)
from proctor.types import (
    AgentName,
    AgentStatus,
    ApprovalId,
    Email,
    LeaseId,
    LeaseState,
    SpiffeId,
    TaskId,
    TaskState,
    ToolName,
)

__all__ = [
    "GENESIS",
    "Cursor",
    "SqlStore",
    "apply_pending",
]


GENESIS = b"\x00" * 32

_AGENT_COLS = "name, spiffe_id, owner, status, selectors, created_at, updated_at, version"
_TOOL_COLS = (
    "name, effect, resource_pattern, resource_arg, trust, sensitivity, destructive, financial,"
    " customer_facing, production, description, version, access_control, credential_change, egress,"
    " input_schema, destinations"
)
_TASK_COLS = (
    "id, agent, purpose, allow, resources, requested_by, state, created_at, deadline, max_calls,"
    " calls_used, ended_at, end_reason, parent_id, version, params, chain, template"
)
_TOOL_UPSERT = ", ".join(
    f"{c} = excluded.{c}" for c in (c.strip() for c in _TOOL_COLS.split(",")) if c not in ("name", "version")
)
_PIN_COLS = "name, namespace, upstream_tool, digest, definition, pinned_at, pinned_by"
_AUDIT_COLS = "seq, ts, kind, agent, task, tool, decision, decision_id, body, prev_hash, hash, writer, wseq"
_AUDIT_RAW = "seq, body, prev_hash, hash, writer, wseq, ts"
_AUDIT_RAW_FULL = f"{_AUDIT_RAW}, kind, agent, task, tool, decision, decision_id"
_APPROVAL_COLS = (
    "id, state, agent, task_id, tool, effects, digest, args_digest, policy_version, policies, reasons,"
    " approvers, four_eyes, owner, requester, key_id, nonce, ciphertext, created_at, expires_at, attempts,"
    " decision_id, decided_at, decided_by, decided_via, reason, narrowing, grant_token, used_at, used_by"
)
#: oldest first, for the approval look-ups by digest or by task and tool. ``created_at + 0``, not
#: ``created_at``: SQLite (no statistics) would otherwise pick ``approvals_by_state (state,
#: created_at)`` for its free ordering and walk every approved or pending request of the workspace
#: (1.5k of them: ~0.5 ms a look-up) instead of the few of one digest through ``approvals_by_digest``
_OLDEST = " ORDER BY created_at + 0, id"
_SECRET_COLS = "name, key_id, nonce, ciphertext, created_at, updated_at, version"  # noqa: S105 - column names
_SECRET_KEY_COLS = "key_id, check_nonce, check_ciphertext, created_at, retired_at"  # noqa: S105 - column names


def _history_event(r: Sequence[Any]) -> HistoryEvent:
    return HistoryEvent(
        task_id=str(r[0]),
        agent=str(r[1]),
        tool=str(r[2]),
        effect=str(r[3]),
        at=float(r[4]),
        values=tuple((str(k), str(v)) for k, v in json.loads(r[5])),
    )


class Cursor:
    """Wraps a DB-API cursor: the part the shared code uses. Engines override :meth:`_sql`
    to adapt the shared SQL (PostgreSQL rewrites ``?`` to ``%s``)."""

    __slots__ = ("_cur",)

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def _sql(self, sql: str) -> str:
        return sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(self._sql(sql), params)

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any:
        return self._cur.executemany(self._sql(sql), params)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


def _approval(row: Sequence[Any]) -> ApprovalRecord:
    return ApprovalRecord(
        id=ApprovalId(row[0]),
        state=row[1],
        agent=AgentName(row[2]),
        task_id=TaskId(row[3]),
        tool=ToolName(row[4]),
        effects=row[5],
        digest=row[6],
        args_digest=row[7],
        policy_version=row[8],
        policies=row[9],
        reasons=row[10],
        approvers=row[11],
        four_eyes=bool(row[12]),
        owner=row[13],
        requester=row[14],
        key_id=row[15],
        nonce=bytes(row[16]),
        ciphertext=bytes(row[17]),
        created_at=float(row[18]),
        expires_at=float(row[19]),
        attempts=int(row[20]),
        decision_id=row[21],
        decided_at=None if row[22] is None else float(row[22]),
        decided_by=row[23],
        decided_via=row[24],
        reason=row[25],
        narrowing=row[26],
        grant_token=row[27],
        used_at=None if row[28] is None else float(row[28]),
        used_by=row[29],
    )


def _agent(row: Sequence[Any]) -> AgentRecord:
    return AgentRecord(
        name=AgentName(row[0]),
        spiffe_id=SpiffeId(row[1]),
        owner=Email(row[2]),
        status=AgentStatus(row[3]),
        selectors=tuple(json.loads(row[4])),
        created_at=float(row[5]),
        updated_at=float(row[6]),
        version=int(row[7]),
    )


def _tool(row: Sequence[Any]) -> ToolRecord:
    return ToolRecord(
        name=ToolName(row[0]),
        effect=row[1],
        resource_pattern=row[2],
        resource_arg=row[3],
        trust=row[4],
        sensitivity=row[5],
        destructive=bool(row[6]),
        financial=bool(row[7]),
        customer_facing=bool(row[8]),
        production=bool(row[9]),
        description=row[10],
        version=int(row[11]),
        access_control=bool(row[12]),
        credential_change=bool(row[13]),
        egress=bool(row[14]),
        input_schema=row[15],
        destinations=tuple(str(d) for d in json.loads(row[16])),
    )


def _task(row: Sequence[Any]) -> TaskRecord:
    return TaskRecord(
        id=TaskId(row[0]),
        agent=AgentName(row[1]),
        purpose=row[2],
        allow=tuple(json.loads(row[3])),
        resources=tuple(json.loads(row[4])),
        requested_by=Email(row[5]),
        state=TaskState(row[6]),
        created_at=float(row[7]),
        deadline=float(row[8]),
        max_calls=None if row[9] is None else int(row[9]),
        calls_used=int(row[10]),
        ended_at=None if row[11] is None else float(row[11]),
        end_reason=row[12],
        parent_id=None if row[13] is None else TaskId(row[13]),
        version=int(row[14]),
        params=_params(row[15]),
        chain=tuple((str(a), str(t)) for a, t in json.loads(row[16] or "[]")),
        template=row[17],
    )


def _params(text: str) -> tuple[tuple[str, str], ...]:
    """A task's ``params`` column (a JSON object) as the record holds it: pairs sorted by name."""
    return tuple(sorted((str(k), str(v)) for k, v in json.loads(text).items()))


def _pin(row: Sequence[Any]) -> ToolPin:
    return ToolPin(
        name=ToolName(row[0]),
        namespace=row[1],
        upstream_tool=row[2],
        digest=row[3],
        definition=json.loads(row[4]),
        pinned_at=float(row[5]),
        pinned_by=row[6],
    )


def _blob(value: Any) -> bytes:
    """A BLOB column as bytes. A row someone edited by hand may hold another type there: text is
    taken as its UTF-8 bytes, anything else as bytes that match no hash, so reading the log never
    fails on it and ``audit verify`` names the record."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return b"\0not a blob"


def _real(value: Any) -> float:
    """A REAL column as a float (NaN for what a hand-edited row holds instead)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _col(value: Any) -> Any:
    """An audit index column as the value it stands for (see :func:`proctor.store.base.index_text`)."""
    return index_value(value) if isinstance(value, str) else value


def _idx(value: str | None) -> str | None:
    """A value as an audit index column holds it: no control character reaches the database as is."""
    return None if value is None else index_text(value)


def _audit(row: Sequence[Any]) -> AuditRow:
    return AuditRow(
        seq=_int(row[0]),  # NULL only where someone dropped the key's constraints by hand
        ts=_real(row[1]),
        kind=_col(row[2]),
        agent=_col(row[3]),
        task=_col(row[4]),
        tool=_col(row[5]),
        decision=_col(row[6]),
        decision_id=_col(row[7]),
        body=_blob(row[8]),
        prev_hash=_blob(row[9]),
        hash=_blob(row[10]),
        writer=_int(row[11]),
        wseq=_int(row[12]),
    )


def _int(value: Any) -> int:
    """An INTEGER column as an int (-1 for what a hand-edited row holds instead: text, a blob, an
    infinite REAL)."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return -1


_CP_COLS = "seq, head_hash, ts, kid, signature, writer"


def _checkpoint(r: Sequence[Any]) -> Checkpoint:
    return Checkpoint(int(r[0]), _blob(r[1]), _real(r[2]), r[3], _blob(r[4]), _int(r[5]))


def _writer(r: Sequence[Any]) -> AuditWriter:
    return AuditWriter(
        int(r[0]), _real(r[1]), str(r[2]), _int(r[3]), str(r[4]), None if r[5] is None else _int(r[5])
    )


def _key(row: Sequence[Any]) -> KeyRecord:
    return KeyRecord(
        kid=row[0],
        use=row[1],
        public_jwk=json.loads(row[2]),
        created_at=float(row[3]),
        retired_at=None if row[4] is None else float(row[4]),
        drop_after=None if row[5] is None else float(row[5]),
    )


def _secret(row: Sequence[Any]) -> SecretRecord:
    return SecretRecord(
        name=row[0],
        key_id=row[1],
        nonce=bytes(row[2]),
        ciphertext=bytes(row[3]),
        created_at=float(row[4]),
        updated_at=float(row[5]),
        version=int(row[6]),
    )


def _secret_key(row: Sequence[Any]) -> SecretKeyRecord:
    return SecretKeyRecord(
        key_id=row[0],
        check_nonce=bytes(row[1]),
        check_ciphertext=bytes(row[2]),
        created_at=float(row[3]),
        retired_at=None if row[4] is None else float(row[4]),
    )


_OUTPUT_COLS = "task_id, seq, tool, trust, sensitivity, reasons, sealed, size, at"


def _output(row: Sequence[Any]) -> OutputRecord:
    return OutputRecord(
        task_id=TaskId(row[0]),
        seq=int(row[1]),
        tool=str(row[2]),
        trust=str(row[3]),
        sensitivity=str(row[4]),
        reasons=tuple(str(x) for x in json.loads(row[5])),
        sealed=_blob(row[6]),
        size=int(row[7]),
        at=float(row[8]),
    )


_LEASE_COLS = (
    "id, task_id, agent, kind, name, state, issued_at, expires_at, revoked_at, attempts,"
    " next_attempt_at, last_error, revoke_handle, data_summary"
)
_LEASE_CHUNK = 500  # ids per IN (...) list


def _lease(row: Sequence[Any]) -> LeaseRecord:
    return LeaseRecord(
        id=LeaseId(row[0]),
        task_id=TaskId(row[1]),
        agent=AgentName(row[2]),
        kind=row[3],
        name=row[4],
        state=LeaseState(row[5]),
        issued_at=float(row[6]),
        expires_at=float(row[7]),
        revoked_at=None if row[8] is None else float(row[8]),
        attempts=int(row[9]),
        next_attempt_at=None if row[10] is None else float(row[10]),
        last_error=row[11],
        revoke_handle=json.loads(row[12]),
        data_summary=json.loads(row[13]),
    )


class SqlStore(AccountsSql, OAuthSql, TemplatesSql, abc.ABC):
    """Shared implementation of :class:`proctor.store.base.Store`."""

    url: str

    # engine hooks ---------------------------------------------------------------
    @abc.abstractmethod
    def _read(self) -> AbstractContextManager[Cursor]:
        """A cursor for reads (no transaction guarantees beyond one statement)."""

    #: appended to a SELECT that must lock the rows it reads until the transaction ends (PostgreSQL);
    #: SQLite's ``BEGIN IMMEDIATE`` already holds the one write lock
    _ROW_LOCK = ""
    #: the lock of an agent's row while one of its calls files a request (exclusive; SQLite's
    #: ``BEGIN IMMEDIATE`` already serialises every write)
    _FILING_LOCK = ""

    @abc.abstractmethod
    def _write(self, *, relaxed: bool = False) -> AbstractContextManager[Cursor]:
        """A cursor inside a write transaction that commits durably on exit, or rolls back. With
        ``relaxed`` an engine may skip waiting for the disk: SQLite in WAL mode commits with
        ``synchronous=NORMAL`` (the row survives a crash of this process and becomes power-safe with
        the next durable commit); PostgreSQL ignores it (a database server crash is too common a way
        to lose a row)."""

    @abc.abstractmethod
    def _lock_audit_chain(self, cur: Cursor, writer: int) -> None:
        """Serialise appends to ``writer``'s chain (and to nothing else), in every process."""

    def _insert_audit(self, cur: Cursor, rows: list[tuple[Any, ...]]) -> None:
        """Insert the rows of one append (columns as ``_AUDIT_COLS``)."""
        cur.executemany(
            f"INSERT INTO audit_records ({_AUDIT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )

    @abc.abstractmethod
    def _audit_seqs(self, cur: Cursor, n: int) -> list[int]:
        """``n`` new global seqs, increasing (inside the append's transaction)."""

    @abc.abstractmethod
    def _is_unique_violation(self, exc: BaseException) -> bool: ...

    @abc.abstractmethod
    def migrate(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def _bump(self, cur: Cursor) -> None:
        cur.execute("UPDATE epoch SET value = value + 1 WHERE id = 1")

    # lifecycle -------------------------------------------------------------------
    def epoch(self) -> int:
        with self._read() as cur:
            cur.execute("SELECT value FROM epoch WHERE id = 1")
            row = cur.fetchone()
        return int(row[0]) if row else 0

    # agents ----------------------------------------------------------------------
    def add_agent(self, agent: AgentRecord) -> None:
        try:
            with self._write() as cur:
                cur.execute(
                    f"INSERT INTO agents ({_AGENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        agent.name,
                        agent.spiffe_id,
                        agent.owner,
                        agent.status.value,
                        json.dumps(list(agent.selectors)),
                        agent.created_at,
                        agent.updated_at,
                        agent.version,
                    ),
                )
                self._bump(cur)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise Conflict(f"agent `{agent.name}` already exists", agent=agent.name) from None
            raise

    def get_agent(self, name: AgentName) -> AgentRecord | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_AGENT_COLS} FROM agents WHERE name = ?", (name,))
            row = cur.fetchone()
        return _agent(row) if row else None

    def list_agents(self) -> list[AgentRecord]:
        with self._read() as cur:
            cur.execute(f"SELECT {_AGENT_COLS} FROM agents ORDER BY name")
            return [_agent(r) for r in cur.fetchall()]

    def set_agent_status(self, name: AgentName, status: AgentStatus, now: float) -> AgentRecord:
        with self._write() as cur:
            cur.execute(
                "UPDATE agents SET status = ?, updated_at = ?, version = version + 1 WHERE name = ?",
                (status.value, now, name),
            )
            if cur.rowcount != 1:
                raise UnknownAgent(f"unknown agent `{name}`", agent=name)
            self._bump(cur)
            cur.execute(f"SELECT {_AGENT_COLS} FROM agents WHERE name = ?", (name,))
            return _agent(cur.fetchone())

    def retire_agent(self, name: AgentName, now: float) -> tuple[AgentRecord, int]:
        with self._write() as cur:
            cur.execute(
                "UPDATE agents SET status = ?, selectors = ?, updated_at = ?, version = version + 1"
                " WHERE name = ?",
                (AgentStatus.RETIRED.value, "[]", now, name),
            )
            if cur.rowcount != 1:
                raise UnknownAgent(f"unknown agent `{name}`", agent=name)
            cur.execute(
                "UPDATE join_tokens SET expires_at = ? WHERE agent = ? AND used_at IS NULL AND expires_at > ?",
                (now, name, now),
            )
            tokens = max(cur.rowcount, 0)
            self._bump(cur)
            cur.execute(f"SELECT {_AGENT_COLS} FROM agents WHERE name = ?", (name,))
            return _agent(cur.fetchone()), tokens

    def set_agent_selectors(self, name: AgentName, selectors: Sequence[str], now: float) -> AgentRecord:
        with self._write() as cur:
            cur.execute(
                "UPDATE agents SET selectors = ?, updated_at = ?, version = version + 1 WHERE name = ?",
                (json.dumps(list(selectors)), now, name),
            )
            if cur.rowcount != 1:
                raise UnknownAgent(f"unknown agent `{name}`", agent=name)
            self._bump(cur)
            cur.execute(f"SELECT {_AGENT_COLS} FROM agents WHERE name = ?", (name,))
            return _agent(cur.fetchone())

    # tools -------------------------------------------------------------------
    def put_tool(self, tool: ToolRecord) -> ToolRecord:
        # One upsert, so concurrent puts of one name (several processes on PostgreSQL) cannot collide.
        values = (
            tool.name,
            tool.effect,
            tool.resource_pattern,
            tool.resource_arg,
            tool.trust,
            tool.sensitivity,
            int(tool.destructive),
            int(tool.financial),
            int(tool.customer_facing),
            int(tool.production),
            tool.description,
            1,
            int(tool.access_control),
            int(tool.credential_change),
            int(tool.egress),
            tool.input_schema,
            json.dumps(list(tool.destinations)),
        )
        marks = ", ".join("?" for _ in values)
        with self._write() as cur:
            cur.execute(
                f"INSERT INTO tools ({_TOOL_COLS}) VALUES ({marks})"
                f" ON CONFLICT (name) DO UPDATE SET {_TOOL_UPSERT}, version = tools.version + 1",
                values,
            )
            self._bump(cur)
            cur.execute(f"SELECT {_TOOL_COLS} FROM tools WHERE name = ?", (tool.name,))
            return _tool(cur.fetchone())

    def get_tool(self, name: ToolName) -> ToolRecord | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_TOOL_COLS} FROM tools WHERE name = ?", (name,))
            row = cur.fetchone()
        return _tool(row) if row else None

    def list_tools(self) -> list[ToolRecord]:
        with self._read() as cur:
            cur.execute(f"SELECT {_TOOL_COLS} FROM tools ORDER BY name")
            return [_tool(r) for r in cur.fetchall()]

    def delete_tool(self, name: ToolName) -> bool:
        with self._write() as cur:
            cur.execute("DELETE FROM tools WHERE name = ?", (name,))
            gone = cur.rowcount == 1
            if gone:
                self._bump(cur)
            return gone

    # tool pins ---------------------------------------------------------------
    def replace_tool_pins(self, namespace: str, pins: Sequence[ToolPin]) -> None:
        names = [p.name for p in pins]
        if len(set(names)) != len(names):
            raise ValidationError(f"tool pins of `{namespace}` name one tool twice")
        for p in pins:
            if p.namespace != namespace or not p.name.startswith(f"{namespace}."):
                raise ValidationError(f"tool pin `{p.name}` does not belong to namespace `{namespace}`")
        rows = [
            (
                p.name,
                p.namespace,
                p.upstream_tool,
                p.digest,
                canonical_json(p.definition).decode(),
                p.pinned_at,
                p.pinned_by,
            )
            for p in pins
        ]
        with self._write() as cur:
            cur.execute("DELETE FROM tool_pins WHERE namespace = ?", (namespace,))
            if rows:
                cur.executemany(f"INSERT INTO tool_pins ({_PIN_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self._bump(cur)

    def list_tool_pins(self, namespace: str | None = None) -> list[ToolPin]:
        with self._read() as cur:
            if namespace is None:
                cur.execute(f"SELECT {_PIN_COLS} FROM tool_pins ORDER BY name")
            else:
                cur.execute(
                    f"SELECT {_PIN_COLS} FROM tool_pins WHERE namespace = ? ORDER BY name", (namespace,)
                )
            return [_pin(r) for r in cur.fetchall()]

    # tasks ------------------------------------------------------------------
    def add_task(self, task: TaskRecord, *, durable: bool = True) -> None:
        with self._write(relaxed=not durable) as cur:
            cur.execute("SELECT 1 FROM agents WHERE name = ?", (task.agent,))
            if cur.fetchone() is None:
                raise UnknownAgent(f"unknown agent `{task.agent}`", agent=task.agent)
            cur.execute(
                f"INSERT INTO tasks ({_TASK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task.id,
                    task.agent,
                    task.purpose,
                    json.dumps(list(task.allow)),
                    json.dumps(list(task.resources)),
                    task.requested_by,
                    task.state.value,
                    task.created_at,
                    task.deadline,
                    task.max_calls,
                    task.calls_used,
                    task.ended_at,
                    task.end_reason,
                    task.parent_id,
                    task.version,
                    json.dumps(dict(task.params), sort_keys=True),
                    json.dumps([list(p) for p in task.chain]),
                    task.template,
                ),
            )
            self._bump(cur)

    def get_task(self, task_id: TaskId) -> TaskRecord | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_TASK_COLS} FROM tasks WHERE id = ?", (task_id,))
            row = cur.fetchone()
        return _task(row) if row else None

    def list_tasks(self, agent: AgentName | None = None, state: TaskState | None = None) -> list[TaskRecord]:
        where: list[str] = []
        params: list[str] = []
        if agent is not None:
            where.append("agent = ?")
            params.append(agent)
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._read() as cur:
            cur.execute(f"SELECT {_TASK_COLS} FROM tasks{clause} ORDER BY created_at, id", params)
            return [_task(r) for r in cur.fetchall()]

    def end_task(self, task_id: TaskId, state: TaskState, now: float, reason: str) -> TaskRecord | None:
        with self._write() as cur:
            cur.execute(
                "UPDATE tasks SET state = ?, ended_at = ?, end_reason = ?, version = version + 1"
                " WHERE id = ? AND state = ?",
                (state.value, now, reason, task_id, TaskState.ACTIVE.value),
            )
            if cur.rowcount != 1:
                return None
            self._bump(cur)
            cur.execute(f"SELECT {_TASK_COLS} FROM tasks WHERE id = ?", (task_id,))
            return _task(cur.fetchone())

    def expire_tasks(self, now: float) -> list[TaskRecord]:
        # One conditional UPDATE … RETURNING: a row another process expired first no longer matches
        # ``state = active`` (PostgreSQL re-checks it after the other's commit), so each expired task
        # is returned — and audited — by exactly one sweeper (issue 19).
        with self._write() as cur:
            cur.execute(
                "UPDATE tasks SET state = ?, ended_at = deadline, end_reason = ?, version = version + 1,"
                f" expiry_claim = ? WHERE state = ? AND deadline <= ? RETURNING {_TASK_COLS}",
                (TaskState.EXPIRED.value, "deadline", now, TaskState.ACTIVE.value, now),
            )
            expired = [_task(r) for r in cur.fetchall()]
            if expired:
                self._bump(cur)
            return sorted(expired, key=lambda t: t.id)

    def expiry_audited(self, task_ids: Sequence[TaskId]) -> None:
        if not task_ids:
            return
        with self._write() as cur:
            for task_id in task_ids:
                cur.execute("UPDATE tasks SET expiry_claim = NULL WHERE id = ?", (task_id,))

    def reclaim_expiries(self, now: float, claimed_before: float) -> list[TaskRecord]:
        with self._write() as cur:
            cur.execute(
                "UPDATE tasks SET expiry_claim = ? WHERE state = ? AND expiry_claim IS NOT NULL"
                f" AND expiry_claim < ? RETURNING {_TASK_COLS}",
                (now, TaskState.EXPIRED.value, claimed_before),
            )
            return sorted((_task(r) for r in cur.fetchall()), key=lambda t: t.id)

    def template_tasks(self, agent: AgentName, template: str | None, ended_since: float) -> list[TaskRecord]:
        same = "template = ?" if template is not None else "template IS NOT NULL"
        args: tuple[Any, ...] = (agent,) + ((template,) if template is not None else ())
        with self._read() as cur:
            cur.execute(
                f"SELECT {_TASK_COLS} FROM tasks WHERE agent = ? AND {same}"
                " AND (state = ? OR ended_at >= ?) ORDER BY created_at, id",
                (*args, TaskState.ACTIVE.value, ended_since),
            )
            return [_task(r) for r in cur.fetchall()]

    def reopen_tasks(self, task_ids: Sequence[TaskId], state: TaskState) -> list[TaskId]:
        reopened: list[TaskId] = []
        unique = list(dict.fromkeys(task_ids))
        with self._write() as cur:
            for i in range(0, len(unique), _LEASE_CHUNK):
                chunk = unique[i : i + _LEASE_CHUNK]
                marks = ", ".join("?" for _ in chunk)
                cur.execute(
                    "UPDATE tasks SET state = ?, ended_at = NULL, end_reason = NULL, version = version + 1"
                    f" WHERE state = ? AND id IN ({marks}) RETURNING id",
                    [TaskState.ACTIVE.value, state.value, *(str(t) for t in chunk)],
                )
                reopened.extend(TaskId(str(r[0])) for r in cur.fetchall())
            if reopened:
                self._bump(cur)
        return reopened

    def child_tasks(self, parent_id: TaskId, *, active_only: bool = True) -> list[TaskRecord]:
        clause = " AND state = ?" if active_only else ""
        args: list[str] = [parent_id] + ([TaskState.ACTIVE.value] if active_only else [])
        with self._read() as cur:
            cur.execute(
                f"SELECT {_TASK_COLS} FROM tasks WHERE parent_id = ?{clause} ORDER BY created_at, id", args
            )
            return [_task(r) for r in cur.fetchall()]

    def orphan_tasks(self) -> list[TaskRecord]:
        cols = ", ".join(f"c.{c.strip()}" for c in _TASK_COLS.split(","))
        with self._read() as cur:
            cur.execute(
                f"SELECT {cols} FROM tasks c LEFT JOIN tasks p ON p.id = c.parent_id"
                " WHERE c.state = ? AND c.parent_id IS NOT NULL AND (p.id IS NULL OR p.state <> ?)"
                " ORDER BY c.created_at, c.id",
                (TaskState.ACTIVE.value, TaskState.ACTIVE.value),
            )
            return [_task(r) for r in cur.fetchall()]

    def consume_call(self, task_id: TaskId) -> bool:
        with self._write() as cur:
            cur.execute(
                "UPDATE tasks SET calls_used = calls_used + 1"
                " WHERE id = ? AND (max_calls IS NULL OR calls_used < max_calls)",
                (task_id,),
            )
            return cur.rowcount == 1

    # flow (issue 15) -------------------------------------------------------------
    def add_output(self, rec: OutputRecord, *, max_outputs: int, durable: bool = True) -> int:
        try:
            trust = Trust(rec.trust)
            level = Sensitivity.parse(rec.sensitivity)
        except ValueError as exc:
            raise ValidationError(f"an output of `{rec.tool}` has an invalid label: {exc}") from None
        if max_outputs < 0:
            raise ValidationError(f"max_outputs must be 0 or more, not {max_outputs}")
        with self._write(relaxed=not durable) as cur:
            cur.execute("SELECT 1 FROM tasks WHERE id = ?", (rec.task_id,))
            if cur.fetchone() is None:
                raise UnknownTask(f"unknown task `{rec.task_id}`", task=rec.task_id)
            cur.execute(
                "INSERT INTO flow_tasks (task_id) VALUES (?) ON CONFLICT (task_id) DO NOTHING", (rec.task_id,)
            )
            # the row lock taken here serialises every add_output of this task (several processes)
            cur.execute(
                "UPDATE flow_tasks SET outputs = outputs + 1 WHERE task_id = ?"
                " RETURNING outputs, read_untrusted, max_sensitivity, untrusted_sources",
                (rec.task_id,),
            )
            seq, read_untrusted, max_level, sources_text = cur.fetchone()
            seq = int(seq)
            sources = set(json.loads(sources_text))
            untrusted = trust is Trust.UNTRUSTED
            if untrusted and rec.tool not in sources:
                sources.add(rec.tool)
            cur.execute(
                "UPDATE flow_tasks SET read_untrusted = ?, max_sensitivity = ?, untrusted_sources = ?"
                " WHERE task_id = ?",
                (
                    int(bool(read_untrusted) or untrusted),
                    max(int(max_level), int(level)),
                    json.dumps(sorted(sources)),
                    rec.task_id,
                ),
            )
            cur.execute(
                f"INSERT INTO flow_outputs ({_OUTPUT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rec.task_id,
                    seq,
                    rec.tool,
                    trust.value,
                    level.label,
                    json.dumps(list(rec.reasons)),
                    bytes(rec.sealed),
                    int(rec.size),
                    rec.at,
                ),
            )
            cur.execute(
                "DELETE FROM flow_outputs WHERE task_id = ? AND seq <= ?", (rec.task_id, seq - max_outputs)
            )
        return seq

    def outputs(self, task_id: TaskId, after_seq: int = 0) -> list[OutputRecord]:
        with self._read() as cur:
            cur.execute(
                f"SELECT {_OUTPUT_COLS} FROM flow_outputs WHERE task_id = ? AND seq > ? ORDER BY seq",
                (task_id, after_seq),
            )
            return [_output(r) for r in cur.fetchall()]

    def raise_task_labels(self, task_id: TaskId, labels: TaskLabels) -> None:
        with self._write() as cur:
            cur.execute("SELECT 1 FROM tasks WHERE id = ?", (task_id,))
            if cur.fetchone() is None:
                raise UnknownTask(f"unknown task `{task_id}`", task=task_id)
            cur.execute(
                "INSERT INTO flow_tasks (task_id) VALUES (?) ON CONFLICT (task_id) DO NOTHING", (task_id,)
            )
            # the row lock taken here serialises it with add_output (several processes)
            cur.execute(
                "UPDATE flow_tasks SET outputs = outputs WHERE task_id = ?"
                " RETURNING read_untrusted, max_sensitivity, untrusted_sources",
                (task_id,),
            )
            read_untrusted, max_level, sources_text = cur.fetchone()
            sources = set(json.loads(sources_text)) | set(labels.untrusted_sources)
            cur.execute(
                "UPDATE flow_tasks SET read_untrusted = ?, max_sensitivity = ?, untrusted_sources = ?"
                " WHERE task_id = ?",
                (
                    int(bool(read_untrusted) or labels.read_untrusted),
                    max(int(max_level), int(labels.max_sensitivity)),
                    json.dumps(sorted(sources)),
                    task_id,
                ),
            )

    def task_labels(self, task_id: TaskId) -> TaskLabels:
        with self._read() as cur:
            cur.execute(
                "SELECT read_untrusted, max_sensitivity, untrusted_sources, outputs FROM flow_tasks"
                " WHERE task_id = ?",
                (task_id,),
            )
            row = cur.fetchone()
        return TaskLabels() if row is None else _labels_row(row)

    def descendant_labels(self, task_id: TaskId, *, limit: int) -> list[tuple[TaskId, TaskLabels]]:
        active = TaskState.ACTIVE.value
        with self._read() as cur:
            # depth is bounded by the chain (max_delegation_depth) and, for a hand-made cycle, by
            # the depth column here
            cur.execute(
                "WITH RECURSIVE below(id, depth) AS ("
                " SELECT id, 1 FROM tasks WHERE parent_id = ? AND state = ?"
                " UNION ALL SELECT t.id, b.depth + 1 FROM tasks t JOIN below b ON t.parent_id = b.id"
                " WHERE t.state = ? AND b.depth < 64)"
                " SELECT b.id, f.read_untrusted, f.max_sensitivity, f.untrusted_sources, f.outputs"
                " FROM below b LEFT JOIN flow_tasks f ON f.task_id = b.id LIMIT ?",
                (task_id, active, active, limit),
            )
            rows = cur.fetchall()
        return [(TaskId(str(r[0])), TaskLabels() if r[1] is None else _labels_row(r[1:])) for r in rows]

    def delete_outputs(self, task_id: TaskId) -> int:
        with self._write() as cur:
            cur.execute("DELETE FROM flow_outputs WHERE task_id = ?", (task_id,))
            return max(cur.rowcount, 0)

    def prune_outputs(self, ended_before: float) -> int:
        """Delete the kept outputs of every task that ended at or before ``ended_before`` (the
        ``flow.retention`` sweep; it also catches an output that landed after its task ended);
        returns how many. Their high-water marks stay."""
        with self._write() as cur:
            cur.execute(
                "DELETE FROM flow_outputs WHERE task_id IN (SELECT id FROM tasks"
                " WHERE state <> ? AND ended_at IS NOT NULL AND ended_at <= ?)",
                (TaskState.ACTIVE.value, ended_before),
            )
            return max(cur.rowcount, 0)

    def add_flow_event(self, ev: HistoryEvent, *, durable: bool = True) -> None:
        with self._write(relaxed=not durable) as cur:
            cur.execute(
                "INSERT INTO flow_events (task_id, agent, tool, effect, at, vals) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    ev.task_id,
                    ev.agent,
                    ev.tool,
                    ev.effect,
                    ev.at,
                    json.dumps([[str(k), str(v)] for k, v in ev.values]),
                ),
            )

    @staticmethod
    def _flow_where(
        task_id: TaskId | None, agent: AgentName | None, since: float | None
    ) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        for col, value in (("task_id", task_id), ("agent", agent)):
            if value is not None:
                where.append(f"{col} = ?")
                params.append(str(value))
        if since is not None:
            where.append("at >= ?")
            params.append(float(since))
        return (f" WHERE {' AND '.join(where)}" if where else ""), params

    def flow_event_count(
        self, *, task_id: TaskId | None = None, agent: AgentName | None = None, since: float | None = None
    ) -> int:
        clause, params = self._flow_where(task_id, agent, since)
        with self._read() as cur:
            cur.execute(f"SELECT COUNT(*) FROM flow_events{clause}", params)
            row = cur.fetchone()
        return int(row[0]) if row is not None else 0

    def flow_events(
        self, *, task_id: TaskId | None = None, agent: AgentName | None = None, since: float | None = None
    ) -> list[HistoryEvent]:
        clause, params = self._flow_where(task_id, agent, since)
        with self._read() as cur:
            cur.execute(
                f"SELECT task_id, agent, tool, effect, at, vals FROM flow_events{clause} ORDER BY at, id",
                params,
            )
            return [_history_event(r) for r in cur.fetchall()]

    def flow_events_counted(
        self,
        *,
        task_id: TaskId | None = None,
        agent: AgentName | None = None,
        since: float | None = None,
        count_since: float | None = None,
    ) -> tuple[list[HistoryEvent], int]:
        count_clause, count_params = self._flow_where(task_id, agent, count_since)
        clause, params = self._flow_where(task_id, agent, since)
        on = clause.removeprefix(" WHERE ") or "1 = 1"
        with self._read() as cur:
            # one statement, so one snapshot: the count row is joined to every event (or to a row
            # of NULLs when there is none)
            cur.execute(
                "SELECT e.task_id, e.agent, e.tool, e.effect, e.at, e.vals, c.n"
                f" FROM (SELECT COUNT(*) AS n FROM flow_events{count_clause}) AS c"
                f" LEFT JOIN flow_events AS e ON {on} ORDER BY e.at, e.id",
                [*count_params, *params],
            )
            rows = cur.fetchall()
        count = int(rows[0][6]) if rows else 0
        return [_history_event(r) for r in rows if r[0] is not None], count

    # join tokens ------------------------------------------------------------------
    def add_join_token(self, token: JoinTokenRecord) -> None:
        with self._write() as cur:
            cur.execute(
                "INSERT INTO join_tokens (token_hash, agent, created_at, expires_at, used_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (token.token_hash, token.agent, token.created_at, token.expires_at, token.used_at),
            )

    def redeem_join_token(self, token_hash: str, now: float) -> JoinTokenRecord | None:
        with self._write() as cur:
            cur.execute(
                "UPDATE join_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
                (now, token_hash, now),
            )
            if cur.rowcount != 1:
                return None
            cur.execute(
                "SELECT token_hash, agent, created_at, expires_at, used_at FROM join_tokens WHERE token_hash = ?",
                (token_hash,),
            )
            r = cur.fetchone()
            return JoinTokenRecord(r[0], AgentName(r[1]), float(r[2]), float(r[3]), float(r[4]))

    # keys ------------------------------------------------------------------
    def put_key(self, key: KeyRecord) -> None:
        with self._write() as cur:
            cur.execute(
                "INSERT INTO signing_keys (kid, use, public_jwk, created_at, retired_at, drop_after)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key.kid,
                    key.use,
                    json.dumps(key.public_jwk),
                    key.created_at,
                    key.retired_at,
                    key.drop_after,
                ),
            )

    def list_keys(self, use: str | None = None) -> list[KeyRecord]:
        cols = "kid, use, public_jwk, created_at, retired_at, drop_after"
        with self._read() as cur:
            if use is None:
                cur.execute(f"SELECT {cols} FROM signing_keys ORDER BY created_at, kid")
            else:
                cur.execute(f"SELECT {cols} FROM signing_keys WHERE use = ? ORDER BY created_at, kid", (use,))
            return [_key(r) for r in cur.fetchall()]

    def retire_key(self, kid: str, now: float, drop_after: float) -> None:
        with self._write() as cur:
            cur.execute(
                "UPDATE signing_keys SET retired_at = ?, drop_after = ? WHERE kid = ? AND retired_at IS NULL",
                (now, drop_after, kid),
            )

    def revoke_key(self, kid: str, now: float) -> None:
        with self._write() as cur:
            cur.execute(
                "UPDATE signing_keys SET retired_at = COALESCE(retired_at, ?), drop_after = ?"
                " WHERE kid = ? AND (drop_after IS NULL OR drop_after > ?)",
                (now, now, kid, now),
            )

    # policy ------------------------------------------------------------------
    def record_policy_version(self, version: str, files: dict[str, str], now: float) -> bool:
        with self._write() as cur:
            cur.execute("SELECT version FROM policy_versions ORDER BY id DESC LIMIT 1")
            row = cur.fetchone()
            if row is not None and row[0] == version:
                return False
            cur.execute(
                "INSERT INTO policy_versions (version, files, activated_at) VALUES (?, ?, ?)",
                (version, json.dumps(files, sort_keys=True), now),
            )
            self._bump(cur)
            return True

    def list_policy_versions(self) -> list[tuple[int, str, str]]:
        with self._read() as cur:
            cur.execute("SELECT id, version, files FROM policy_versions ORDER BY id")
            return [
                (int(r[0]), str(r[1]), r[2] if isinstance(r[2], str) else json.dumps(r[2], sort_keys=True))
                for r in cur.fetchall()
            ]

    def active_policy_version(self) -> str | None:
        with self._read() as cur:
            cur.execute("SELECT version FROM policy_versions ORDER BY id DESC LIMIT 1")
            row = cur.fetchone()
        return None if row is None else str(row[0])

    # audit ------------------------------------------------------------------
    def append_audit(
        self, records: Sequence[PendingAudit], hasher: ChainHasher, *, writer: int = 0
    ) -> list[AuditRow]:
        if not records:
            return []
        with self._write() as cur:
            self._lock_audit_chain(cur, writer)
            cur.execute(
                "SELECT wseq, hash FROM audit_records WHERE writer = ? ORDER BY wseq DESC LIMIT 1", (writer,)
            )
            row = cur.fetchone()
            wseq, prev = (0, GENESIS) if row is None else (int(row[0]), bytes(row[1]))
            seqs = self._audit_seqs(cur, len(records))
            out: list[AuditRow] = []
            for r, seq in zip(records, seqs, strict=True):
                wseq += 1
                # a writer's record also hashes its global seq (docs/adr/0036): its place in the
                # merged log cannot be swapped with another writer's record unnoticed
                h = hasher(wseq, prev, r.body if writer == 0 else seq.to_bytes(8, "big") + r.body)
                out.append(
                    AuditRow(
                        seq,
                        r.ts,
                        r.kind,
                        r.body,
                        prev,
                        h,
                        r.agent,
                        r.task,
                        r.tool,
                        r.decision,
                        r.decision_id,
                        writer,
                        wseq,
                    )
                )
                prev = h
            self._insert_audit(
                cur,
                [
                    (
                        a.seq,
                        a.ts,
                        index_text(a.kind),
                        _idx(a.agent),
                        _idx(a.task),
                        _idx(a.tool),
                        _idx(a.decision),
                        _idx(a.decision_id),
                        a.body,
                        a.prev_hash,
                        a.hash,
                        a.writer,
                        a.wseq,
                    )
                    for a in out
                ],
            )
            if out[0].wseq == 1:
                cur.execute(
                    "UPDATE audit_writers SET first_seq = ? WHERE id = ? AND first_seq IS NULL",
                    (out[0].seq, writer),
                )
            return out

    def register_audit_writer(self, started_at: float, host: str, pid: int, info: str) -> int:
        with self._write() as cur:
            cur.execute(
                "INSERT INTO audit_writers (started_at, host, pid, info) VALUES (?, ?, ?, ?) RETURNING id",
                (started_at, host[:255], pid, info[:1000]),
            )
            return int(cur.fetchone()[0])

    def list_audit_writers(self) -> list[AuditWriter]:
        with self._read() as cur:
            cur.execute("SELECT id, started_at, host, pid, info, first_seq FROM audit_writers ORDER BY id")
            return [_writer(r) for r in cur.fetchall()]

    def audit_writer_head(self, writer: int) -> AuditRow | None:
        with self._read() as cur:
            cur.execute(
                f"SELECT {_AUDIT_COLS} FROM audit_records WHERE writer = ? ORDER BY wseq DESC LIMIT 1",
                (writer,),
            )
            row = cur.fetchone()
        return _audit(row) if row else None

    def audit_writer_heads(self) -> dict[int, int]:
        with self._read() as cur:
            # one probe of the (writer, wseq) index per writer, not a scan of the log
            cur.execute(
                "SELECT w.id, (SELECT max(r.wseq) FROM audit_records r WHERE r.writer = w.id)"
                " FROM audit_writers w"
            )
            # _int: a place someone stored as an infinite REAL (SQLite) is no place (-1), not a crash
            return {int(r[0]): _int(r[1] or 0) for r in cur.fetchall()}

    def iter_audit_writer(self, writer: int, after_wseq: int = 0, batch: int = 5000) -> Iterator[AuditRow]:
        """``writer``'s records after its ``after_wseq``-th, in the order of its chain (by the
        ``(writer, wseq)`` index: no walk over other writers' records)."""
        last = after_wseq
        while True:
            with self._read() as cur:
                cur.execute(
                    f"SELECT {_AUDIT_COLS} FROM audit_records WHERE writer = ? AND wseq > ? ORDER BY wseq LIMIT ?",
                    (writer, last, batch),
                )
                rows = cur.fetchall()
            if not rows:
                return
            for r in rows:
                yield _audit(r)
            nxt = _int(rows[-1][12])
            if nxt <= last:  # a place that is no integer (a hand-edited row): no further
                return
            last = nxt

    def audit_head(self) -> AuditRow | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_AUDIT_COLS} FROM audit_records ORDER BY seq DESC LIMIT 1")
            row = cur.fetchone()
        return _audit(row) if row else None

    def iter_audit(self, after_seq: int = 0, batch: int = 5000) -> Iterator[AuditRow]:
        last = after_seq
        while True:
            with self._read() as cur:
                cur.execute(
                    f"SELECT {_AUDIT_COLS} FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?",
                    (last, batch),
                )
                rows = cur.fetchall()
            if not rows:
                return
            for r in rows:
                yield _audit(r)
            last = int(rows[-1][0])

    def iter_audit_raw(
        self, after_seq: int | None = None, batch: int = 20_000, *, full: bool = False
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Pages of raw audit rows in seq order, for ``audit.verify`` at full speed (no record objects).

        Each row is ``(seq, body, prev_hash, hash, writer, wseq, ts)``; with ``full`` it continues
        with ``kind, agent, task, tool, decision, decision_id``. ``after_seq=None`` starts at the very
        first row, including any an attacker stored with a seq of 0 or below.
        """
        cols = _AUDIT_RAW_FULL if full else _AUDIT_RAW
        last = after_seq
        op = ">"
        #: the rows of seq ``last`` already handed out: a page goes on from ``seq >= last``, so that
        #: rows sharing a seq (possible only where someone dropped the key) are never skipped at a
        #: page's edge, unseen by the walk and shown by every reader
        edge: Counter[tuple[Any, ...]] = Counter()
        while True:
            with self._read() as cur:
                if last is None:
                    cur.execute(f"SELECT {cols} FROM audit_records ORDER BY seq LIMIT ?", (batch,))
                else:
                    cur.execute(
                        f"SELECT {cols} FROM audit_records WHERE seq {op} ? ORDER BY seq LIMIT ?",
                        (last, batch),
                    )
                rows = cur.fetchall()
            # only the first rows can share ``last`` (the page is in seq order, from ``last`` on)
            i, kept = 0, []
            while i < len(rows) and rows[i][0] == last:
                r = tuple(rows[i])
                if edge[r] > 0:
                    edge[r] -= 1
                else:
                    kept.append(r)
                i += 1
            fresh = [*kept, *rows[i:]] if i else rows
            if not fresh:
                return
            yield fresh
            # a NULL seq (only where someone dropped the key's constraints): the walk reports it;
            # PostgreSQL sorts NULLs last, so nothing with a seq comes after it
            top = fresh[-1][0]
            if top is None:
                return
            if top != last:
                edge = Counter()
            j = len(fresh) - 1
            while j >= 0 and fresh[j][0] == top:  # the rows at the new edge (one, with the key)
                edge[tuple(fresh[j])] += 1
                j -= 1
            last, op = int(top), ">="

    def search_audit(self, query: AuditQuery) -> list[AuditRow]:
        where: list[str] = ["seq > ?"]
        params: list[int | str | float] = [query.after_seq]
        for col in ("agent", "task", "tool", "decision", "kind"):
            value = getattr(query, col)
            if value is not None:
                where.append(f"{col} = ?")
                params.append(index_text(value))
        if query.since is not None:
            where.append("ts >= ?")
            params.append(float(query.since))
        if query.task_in:
            where.append(f"task IN ({', '.join('?' for _ in query.task_in)})")
            params.extend(index_text(t) for t in query.task_in)
        key = "seq"
        if query.writer is not None:
            where += ["writer = ?", "wseq > ?"]
            params += [int(query.writer), int(query.after_wseq)]
            key = "wseq"
        order = "DESC" if query.newest_first else "ASC"
        params.append(max(1, min(query.limit, 10_000)))
        with self._read() as cur:
            cur.execute(
                f"SELECT {_AUDIT_COLS} FROM audit_records WHERE {' AND '.join(where)}"
                f" ORDER BY {key} {order} LIMIT ?",
                params,
            )
            return [_audit(r) for r in cur.fetchall()]

    def get_audit_by_decision(self, decision_id: str) -> list[AuditRow]:
        with self._read() as cur:
            cur.execute(
                f"SELECT {_AUDIT_COLS} FROM audit_records WHERE decision_id = ? ORDER BY seq",
                (index_text(decision_id),),
            )
            return [_audit(r) for r in cur.fetchall()]

    def add_checkpoint(self, cp: Checkpoint) -> None:
        with self._write() as cur:
            cur.execute(
                f"INSERT INTO audit_checkpoints ({_CP_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (seq) DO NOTHING",
                (cp.seq, cp.head_hash, cp.ts, cp.kid, cp.signature, cp.writer),
            )

    def list_checkpoints(self) -> list[Checkpoint]:
        with self._read() as cur:
            cur.execute(f"SELECT {_CP_COLS} FROM audit_checkpoints ORDER BY seq")
            return [_checkpoint(r) for r in cur.fetchall()]

    def latest_checkpoint(self) -> Checkpoint | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_CP_COLS} FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
            r = cur.fetchone()
        return None if r is None else _checkpoint(r)

    def latest_checkpoint_of(self, writer: int) -> Checkpoint | None:
        """The latest checkpoint of ``writer``'s chain."""
        with self._read() as cur:
            cur.execute(
                f"SELECT {_CP_COLS} FROM audit_checkpoints WHERE writer = ? ORDER BY seq DESC LIMIT 1",
                (writer,),
            )
            r = cur.fetchone()
        return None if r is None else _checkpoint(r)

    # secrets -----------------------------------------------------------------
    # Only ciphertext passes through here; encryption lives in proctor.credentials.secrets.
    def _active_secret_key(self, cur: Cursor) -> SecretKeyRecord | None:
        cur.execute(f"SELECT {_SECRET_KEY_COLS} FROM secret_keys WHERE retired_at IS NULL")
        row = cur.fetchone()
        return _secret_key(row) if row else None

    def _insert_secret_key(self, cur: Cursor, key: SecretKeyRecord) -> None:
        cur.execute(
            f"INSERT INTO secret_keys ({_SECRET_KEY_COLS}) VALUES (?, ?, ?, ?, NULL)"
            " ON CONFLICT (key_id) DO UPDATE SET check_nonce = excluded.check_nonce,"
            " check_ciphertext = excluded.check_ciphertext, created_at = excluded.created_at,"
            " retired_at = NULL",
            (key.key_id, key.check_nonce, key.check_ciphertext, key.created_at),
        )

    def ensure_secret_key(self, candidate: SecretKeyRecord) -> SecretKeyRecord:
        with self._write() as cur:
            # Updating the active row takes its row lock (PostgreSQL) so this serialises with rotation.
            cur.execute("UPDATE secret_keys SET key_id = key_id WHERE retired_at IS NULL")
            active = self._active_secret_key(cur)
            if active is not None and active.key_id == candidate.key_id:
                return active
            if active is not None:
                cur.execute("SELECT COUNT(*) FROM secrets")
                if int(cur.fetchone()[0]) > 0:
                    return active
                cur.execute(
                    "UPDATE secret_keys SET retired_at = ? WHERE key_id = ?",
                    (candidate.created_at, active.key_id),
                )
            self._insert_secret_key(cur, candidate)
            return replace(candidate, retired_at=None)

    def active_secret_key(self) -> SecretKeyRecord | None:
        with self._read() as cur:
            return self._active_secret_key(cur)

    def list_secret_keys(self) -> list[SecretKeyRecord]:
        with self._read() as cur:
            cur.execute(f"SELECT {_SECRET_KEY_COLS} FROM secret_keys ORDER BY created_at, key_id")
            return [_secret_key(r) for r in cur.fetchall()]

    def put_secret(self, name: str, key_id: str, nonce: bytes, ciphertext: bytes, now: float) -> int:
        with self._write() as cur:
            # Locks the active key's row: a concurrent rotation either sees this secret or makes it fail.
            cur.execute(
                "UPDATE secret_keys SET key_id = key_id WHERE key_id = ? AND retired_at IS NULL", (key_id,)
            )
            if cur.rowcount != 1:
                raise SecretKeyInvalid(
                    f"key `{key_id}` is not the active secrets key of this store; nothing was stored"
                )
            cur.execute(
                f"INSERT INTO secrets ({_SECRET_COLS}) VALUES (?, ?, ?, ?, ?, ?, 1)"
                " ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce,"
                " ciphertext = excluded.ciphertext, updated_at = excluded.updated_at,"
                " version = secrets.version + 1",
                (name, key_id, nonce, ciphertext, now, now),
            )
            cur.execute("SELECT version FROM secrets WHERE name = ?", (name,))
            return int(cur.fetchone()[0])

    def get_secret(self, name: str) -> SecretRecord | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_SECRET_COLS} FROM secrets WHERE name = ?", (name,))
            row = cur.fetchone()
        return _secret(row) if row else None

    def list_secrets(self) -> list[SecretRecord]:
        with self._read() as cur:
            cur.execute(f"SELECT {_SECRET_COLS} FROM secrets ORDER BY name")
            return [_secret(r) for r in cur.fetchall()]

    def count_secrets(self) -> int:
        with self._read() as cur:
            cur.execute("SELECT COUNT(*) FROM secrets")
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def delete_secret(self, name: str) -> bool:
        with self._write() as cur:
            cur.execute("DELETE FROM secrets WHERE name = ?", (name,))
            return cur.rowcount == 1

    def rotate_secret_key(
        self,
        old_key_id: str,
        new_key: SecretKeyRecord,
        reencrypt: Callable[[SecretRecord], tuple[bytes, bytes]],
        now: float,
    ) -> int:
        if new_key.key_id == old_key_id:
            raise ValidationError("the new secrets key is the current key: nothing to rotate")
        with self._write() as cur:
            cur.execute(
                "UPDATE secret_keys SET retired_at = ? WHERE key_id = ? AND retired_at IS NULL",
                (now, old_key_id),
            )
            if cur.rowcount != 1:
                raise SecretKeyInvalid(
                    f"key `{old_key_id}` is not the active secrets key of this store; nothing was changed"
                )
            self._insert_secret_key(cur, new_key)
            cur.execute(f"SELECT {_SECRET_COLS} FROM secrets ORDER BY name")
            rows = [_secret(r) for r in cur.fetchall()]
            for rec in rows:
                if rec.key_id != old_key_id:
                    raise SecretKeyInvalid(
                        f"secret `{rec.name}` is encrypted under retired key `{rec.key_id}`;"
                        " nothing was changed"
                    )
                nonce, ciphertext = reencrypt(rec)
                cur.execute(
                    "UPDATE secrets SET key_id = ?, nonce = ?, ciphertext = ? WHERE name = ?",
                    (new_key.key_id, nonce, ciphertext, rec.name),
                )
            return len(rows)

    # leases ------------------------------------------------------------------
    def add_lease(self, lease: LeaseRecord, *, durable: bool = True) -> None:
        with self._write(relaxed=not durable) as cur:
            # the task and its agent, locked against a concurrent end or suspension: a lease is never
            # stored for a task that ended, or an agent suspended, while its provider was working
            cur.execute(
                "SELECT t.state, a.status FROM tasks t JOIN agents a ON a.name = t.agent"
                f" WHERE t.id = ?{self._ROW_LOCK}",
                (lease.task_id,),
            )
            row = cur.fetchone()
            if row is None:
                raise UnknownTask(f"unknown task `{lease.task_id}`", task=lease.task_id)
            if row[0] != TaskState.ACTIVE.value:
                raise TaskNotActive(f"task `{lease.task_id}` is {row[0]}", task=lease.task_id)
            if row[1] != AgentStatus.ACTIVE.value:
                raise AgentSuspended(f"agent `{lease.agent}` is {row[1]}", agent=lease.agent)
            cur.execute(
                f"INSERT INTO leases ({_LEASE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    lease.id,
                    lease.task_id,
                    lease.agent,
                    lease.kind,
                    lease.name,
                    lease.state.value,
                    lease.issued_at,
                    lease.expires_at,
                    lease.revoked_at,
                    lease.attempts,
                    lease.next_attempt_at,
                    lease.last_error,
                    json.dumps(lease.revoke_handle, sort_keys=True),
                    json.dumps(lease.data_summary, sort_keys=True),
                ),
            )

    def get_lease(self, lease_id: LeaseId) -> LeaseRecord | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_LEASE_COLS} FROM leases WHERE id = ?", (lease_id,))
            row = cur.fetchone()
        return _lease(row) if row else None

    def list_leases(
        self,
        task_id: TaskId | None = None,
        agent: AgentName | None = None,
        state: LeaseState | None = None,
    ) -> list[LeaseRecord]:
        where: list[str] = []
        params: list[str] = []
        for col, value in (("task_id", task_id), ("agent", agent), ("state", state)):
            if value is not None:
                where.append(f"{col} = ?")
                params.append(str(value))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._read() as cur:
            cur.execute(f"SELECT {_LEASE_COLS} FROM leases{clause} ORDER BY issued_at, id", params)
            return [_lease(r) for r in cur.fetchall()]

    def mark_leases(
        self,
        ids: Sequence[LeaseId],
        state: LeaseState,
        now: float,
        *,
        task_id: TaskId | None = None,
        agent: AgentName | None = None,
        claim_until: float | None = None,
    ) -> list[LeaseRecord]:
        if state not in (LeaseState.REVOKED, LeaseState.EXPIRED):
            raise ValidationError(f"leases are marked `revoked` or `expired`, not `{state.value}`")
        if sum((bool(ids), task_id is not None, agent is not None)) != 1:
            raise ValidationError("mark_leases takes exactly one of: ids, task_id, agent")
        head = (
            "UPDATE leases SET state = ?, revoked_at = ?, next_attempt_at = ?, last_error = NULL"
            " WHERE state = ? AND "
        )
        base: list[Any] = [
            state.value,
            now,
            now if claim_until is None else claim_until,
            LeaseState.ACTIVE.value,
        ]
        out: list[LeaseRecord] = []
        with self._write() as cur:
            if ids:
                unique = list(dict.fromkeys(ids))
                for i in range(0, len(unique), _LEASE_CHUNK):
                    chunk = unique[i : i + _LEASE_CHUNK]
                    marks = ", ".join("?" for _ in chunk)
                    cur.execute(
                        f"{head}id IN ({marks}) RETURNING {_LEASE_COLS}", [*base, *(str(x) for x in chunk)]
                    )
                    out.extend(_lease(r) for r in cur.fetchall())
            else:
                col, value = ("task_id", task_id) if task_id is not None else ("agent", agent)
                cur.execute(f"{head}{col} = ? RETURNING {_LEASE_COLS}", [*base, str(value)])
                out.extend(_lease(r) for r in cur.fetchall())
        return sorted(out, key=lambda x: x.id)

    def due_leases(self, now: float) -> list[LeaseRecord]:
        cols = ", ".join(f"l.{c.strip()}" for c in _LEASE_COLS.split(","))
        with self._read() as cur:
            cur.execute(
                f"SELECT {_LEASE_COLS} FROM leases WHERE state = ? AND expires_at <= ?",
                (LeaseState.ACTIVE.value, now),
            )
            rows = {r[0]: r for r in cur.fetchall()}
            cur.execute(
                f"SELECT {cols} FROM leases l JOIN tasks t ON t.id = l.task_id"
                " WHERE l.state = ? AND t.state <> ?",
                (LeaseState.ACTIVE.value, TaskState.ACTIVE.value),
            )
            for r in cur.fetchall():
                rows.setdefault(r[0], r)
            cur.execute(
                f"SELECT {cols} FROM leases l JOIN agents a ON a.name = l.agent"
                " WHERE l.state = ? AND a.status <> ?",
                (LeaseState.ACTIVE.value, AgentStatus.ACTIVE.value),
            )
            for r in cur.fetchall():
                rows.setdefault(r[0], r)
        return sorted((_lease(r) for r in rows.values()), key=lambda x: (x.expires_at, x.id))

    def extend_lease(self, lease_id: LeaseId, expires_at: float) -> bool:
        with self._write() as cur:
            cur.execute(
                "UPDATE leases SET expires_at = ? WHERE id = ? AND state = ? AND expires_at < ?",
                (expires_at, lease_id, LeaseState.ACTIVE.value, expires_at),
            )
            return cur.rowcount > 0

    def pending_revocations(self, now: float) -> list[LeaseRecord]:
        with self._read() as cur:
            cur.execute(
                f"SELECT {_LEASE_COLS} FROM leases WHERE state IN (?, ?, ?) AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id",
                (LeaseState.REVOKED.value, LeaseState.EXPIRED.value, LeaseState.IRREVOCABLE.value, now),
            )
            return [_lease(r) for r in cur.fetchall()]

    def claim_revocations(
        self, now: float, until: float, *, kinds: Sequence[str] | None = None
    ) -> list[LeaseRecord]:
        pending = (LeaseState.REVOKED.value, LeaseState.EXPIRED.value, LeaseState.IRREVOCABLE.value)
        args: list[Any] = [until, *pending, now]
        only = ""
        if kinds is not None:
            if not kinds:
                return []
            only = f" AND kind IN ({', '.join('?' for _ in kinds)})"
            args += list(kinds)
        with self._write() as cur:
            cur.execute(
                "UPDATE leases SET next_attempt_at = ?"
                f" WHERE state IN (?, ?, ?) AND next_attempt_at <= ?{only} RETURNING {_LEASE_COLS}",
                args,
            )
            got = [_lease(r) for r in cur.fetchall()]
        return sorted(got, key=lambda x: x.id)

    def update_lease_attempts(self, attempts: Sequence[LeaseAttempt]) -> int:
        if not attempts:
            return 0
        applied = 0
        with self._write() as cur:
            for a in attempts:
                cur.execute(
                    "UPDATE leases SET attempts = ?, next_attempt_at = ?, last_error = ?,"
                    " state = COALESCE(?, state)"
                    " WHERE id = ? AND attempts = ?"
                    " AND ((next_attempt_at IS NOT NULL AND state IN (?, ?)) OR state = ?)",
                    (
                        a.attempts,
                        a.next_attempt_at,
                        a.last_error,
                        None if a.state is None else a.state.value,
                        a.lease_id,
                        a.attempts_before,
                        LeaseState.REVOKED.value,
                        LeaseState.EXPIRED.value,
                        LeaseState.IRREVOCABLE.value,
                    ),
                )
                applied += max(cur.rowcount, 0)
        return applied

    # approval webhooks ---------------------------------------------------------
    def add_webhook_deliveries(self, keys: Sequence[tuple[str, str]], now: float) -> int:
        if not keys:
            return 0
        filed = 0
        with self._write() as cur:
            for approval_id, target in keys:
                cur.execute(
                    "INSERT INTO webhook_deliveries (approval_id, target, state, attempts, created_at,"
                    " next_attempt_at) VALUES (?, ?, ?, 0, ?, ?)"
                    " ON CONFLICT (approval_id, target) DO NOTHING",
                    (approval_id, target, _WEBHOOK_PENDING, now, now),
                )
                filed += max(cur.rowcount, 0)
        return filed

    def webhook_delivery_keys(self, approval_ids: Sequence[str]) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        ids = list(dict.fromkeys(approval_ids))
        with self._read() as cur:
            for i in range(0, len(ids), _LEASE_CHUNK):
                chunk = ids[i : i + _LEASE_CHUNK]
                marks = ", ".join("?" * len(chunk))
                cur.execute(
                    f"SELECT approval_id, target FROM webhook_deliveries WHERE approval_id IN ({marks})",
                    chunk,
                )
                out.update((str(r[0]), str(r[1])) for r in cur.fetchall())
        return out

    def claim_webhook_deliveries(self, now: float, until: float, limit: int = 50) -> list[WebhookDelivery]:
        if limit < 1:
            return []
        due = "state = ? AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)"
        claimed: list[WebhookDelivery] = []
        with self._write() as cur:
            cur.execute(
                f"SELECT approval_id, target FROM webhook_deliveries WHERE {due}"
                " ORDER BY next_attempt_at, approval_id, target LIMIT ?",
                (_WEBHOOK_PENDING, now, now, limit),
            )
            for approval_id, target in cur.fetchall():
                # re-checked on the row itself: a concurrent claim (another process) leaves it alone
                cur.execute(
                    f"UPDATE webhook_deliveries SET claimed_until = ? WHERE approval_id = ? AND target = ?"
                    f" AND {due} RETURNING {_WEBHOOK_COLS}",
                    (until, approval_id, target, _WEBHOOK_PENDING, now, now),
                )
                row = cur.fetchone()
                if row is not None:
                    claimed.append(_webhook(row))
        return claimed

    def record_webhook_attempt(self, attempt: WebhookAttempt) -> bool:
        with self._write() as cur:
            cur.execute(
                "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?,"
                " claimed_until = NULL, delivered_at = ?, last_status = ?, last_error = ?"
                " WHERE approval_id = ? AND target = ? AND state = ? AND attempts = ?",
                (
                    attempt.state,
                    attempt.attempts_before + 1,
                    attempt.next_attempt_at,
                    attempt.delivered_at,
                    attempt.last_status,
                    None if attempt.last_error is None else attempt.last_error[:200],
                    attempt.approval_id,
                    attempt.target,
                    _WEBHOOK_PENDING,
                    attempt.attempts_before,
                ),
            )
            return cur.rowcount > 0

    def list_webhook_deliveries(self, approval_id: str | None = None) -> list[WebhookDelivery]:
        clause, params = ("", []) if approval_id is None else (" WHERE approval_id = ?", [approval_id])
        with self._read() as cur:
            cur.execute(
                f"SELECT {_WEBHOOK_COLS} FROM webhook_deliveries{clause}"
                " ORDER BY created_at, approval_id, target",
                params,
            )
            return [_webhook(r) for r in cur.fetchall()]

    # approvals ---------------------------------------------------------------
    def add_approval(
        self,
        rec: ApprovalRecord,
        *,
        max_pending: int,
        now: float,
        durable: bool = True,
        passed_grants: Collection[str] | None = None,
    ) -> ApprovalRecord:
        with self._write(relaxed=not durable) as cur:
            # the agent's row, locked exclusively: a concurrent filing by the same agent waits
            # (cap and grouping), on PostgreSQL too (a shared lock would let both insert)
            cur.execute(f"SELECT status FROM agents WHERE name = ?{self._FILING_LOCK}", (rec.agent,))
            if cur.fetchone() is None:
                raise UnknownAgent(f"unknown agent `{rec.agent}`", agent=rec.agent)
            # the outer state test is checked again on the row a concurrent decision just changed
            # (PostgreSQL re-reads a row it waited for): a request decided meanwhile is not joined
            cur.execute(
                "UPDATE approvals SET attempts = attempts + 1 WHERE id = (SELECT id FROM approvals"
                f" WHERE digest = ? AND state = 'pending' AND expires_at > ?{_OLDEST} LIMIT 1)"
                f" AND state = 'pending' AND expires_at > ? RETURNING {_APPROVAL_COLS}",
                (rec.digest, now, now),
            )
            row = cur.fetchone()
            if row is not None:
                return _approval(row)
            if passed_grants is not None:
                # approved after the caller looked for grants (a statement of its own, so it sees
                # a decision committed since the one above began): returned for the caller to
                # redeem, rather than a second request for a call a person has just approved
                cur.execute(
                    f"SELECT {_APPROVAL_COLS} FROM approvals WHERE digest = ? AND state = 'approved'"
                    f" AND expires_at > ?{_OLDEST}",
                    (rec.digest, now),
                )
                for row in cur.fetchall():
                    found = _approval(row)
                    if found.id not in passed_grants:
                        return found
            cur.execute(
                "SELECT COUNT(*) FROM approvals WHERE agent = ? AND state = 'pending' AND expires_at > ?",
                (rec.agent, now),
            )
            (pending,) = cur.fetchone()
            if int(pending) >= max_pending:
                raise ApprovalCapReached(
                    f"agent `{rec.agent}` already has {int(pending)} requests waiting for approval"
                    f" (the cap is {max_pending}): this call is denied",
                    agent=rec.agent,
                )
            marks = ", ".join("?" for _ in _APPROVAL_COLS.split(","))
            cur.execute(
                f"INSERT INTO approvals ({_APPROVAL_COLS}) VALUES ({marks})",
                (
                    rec.id, rec.state, rec.agent, rec.task_id, rec.tool, rec.effects, rec.digest,
                    rec.args_digest, rec.policy_version, rec.policies, rec.reasons, rec.approvers,
                    int(rec.four_eyes), rec.owner, rec.requester, rec.key_id, rec.nonce, rec.ciphertext,
                    rec.created_at, rec.expires_at, rec.attempts, rec.decision_id, rec.decided_at,
                    rec.decided_by, rec.decided_via, rec.reason, rec.narrowing, rec.grant_token,
                    rec.used_at, rec.used_by,
                ),
            )  # fmt: skip
            return rec

    def get_approval(self, approval_id: ApprovalId) -> ApprovalRecord | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_APPROVAL_COLS} FROM approvals WHERE id = ?", (approval_id,))
            row = cur.fetchone()
        return _approval(row) if row else None

    def list_approvals(
        self,
        *,
        states: Sequence[str] = (),
        agent: AgentName | None = None,
        task_id: TaskId | None = None,
        tool: ToolName | None = None,
        limit: int = 100,
    ) -> list[ApprovalRecord]:
        where: list[str] = []
        params: list[Any] = []
        if states:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            params.extend(str(x) for x in states)
        for col, value in (("agent", agent), ("task_id", task_id), ("tool", tool)):
            if value is not None:
                where.append(f"{col} = ?")
                params.append(str(value))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        params.append(max(1, min(int(limit), 10_000)))
        with self._read() as cur:
            cur.execute(
                f"SELECT {_APPROVAL_COLS} FROM approvals{clause} ORDER BY created_at DESC, id LIMIT ?", params
            )
            return [_approval(r) for r in cur.fetchall()]

    def decide_approval(
        self,
        approval_id: ApprovalId,
        *,
        state: str,
        now: float,
        decided_by: str,
        decided_via: str,
        reason: str,
        narrowing: str | None,
        grant_token: str | None,
        expires_at: float,
    ) -> ApprovalRecord | None:
        if state not in ("approved", "denied"):
            raise ValidationError(f"a request is decided `approved` or `denied`, not `{state}`")
        with self._write() as cur:
            cur.execute(
                "UPDATE approvals SET state = ?, decided_at = ?, decided_by = ?, decided_via = ?, reason = ?,"
                " narrowing = ?, grant_token = ?, expires_at = ?"
                f" WHERE id = ? AND state = 'pending' AND expires_at > ? RETURNING {_APPROVAL_COLS}",
                (
                    state,
                    now,
                    decided_by,
                    decided_via,
                    reason,
                    narrowing,
                    grant_token,
                    expires_at,
                    approval_id,
                    now,
                ),
            )
            row = cur.fetchone()
        return _approval(row) if row else None

    def use_approval(
        self, approval_id: ApprovalId, now: float, used_by: str, *, durable: bool = True
    ) -> ApprovalRecord | None:
        with self._write(relaxed=not durable) as cur:
            cur.execute(
                "UPDATE approvals SET state = 'used', used_at = ?, used_by = ?"
                " WHERE id = ? AND state = 'approved' AND narrowing IS NULL AND expires_at > ?"
                f" RETURNING {_APPROVAL_COLS}",
                (now, used_by, approval_id, now),
            )
            row = cur.fetchone()
        return _approval(row) if row else None

    def approved_for(self, digest: str) -> list[ApprovalRecord]:
        with self._read() as cur:
            cur.execute(
                f"SELECT {_APPROVAL_COLS} FROM approvals WHERE digest = ? AND state = 'approved'"
                f" AND narrowing IS NULL{_OLDEST}",
                (digest,),
            )
            return [_approval(r) for r in cur.fetchall()]

    def scoped_grants(self, task_id: TaskId, tool: ToolName) -> list[ApprovalRecord]:
        with self._read() as cur:
            cur.execute(
                f"SELECT {_APPROVAL_COLS} FROM approvals WHERE task_id = ? AND tool = ? AND state = 'approved'"
                f" AND narrowing IS NOT NULL{_OLDEST}",
                (task_id, tool),
            )
            return [_approval(r) for r in cur.fetchall()]

    def expire_approvals(self, now: float) -> list[ApprovalRecord]:
        with self._write() as cur:
            cur.execute(
                "UPDATE approvals SET state = 'expired' WHERE state IN ('pending', 'approved') AND expires_at <= ?"
                f" RETURNING {_APPROVAL_COLS}",
                (now,),
            )
            return sorted((_approval(r) for r in cur.fetchall()), key=lambda r: r.id)


_WEBHOOK_PENDING = "pending"
_WEBHOOK_COLS = (
    "approval_id, target, state, attempts, created_at, next_attempt_at, claimed_until, delivered_at,"
    " last_status, last_error"
)


def _webhook(row: Sequence[Any]) -> WebhookDelivery:
    return WebhookDelivery(
        approval_id=str(row[0]),
        target=str(row[1]),
        state=str(row[2]),
        attempts=int(row[3]),
        created_at=float(row[4]),
        next_attempt_at=None if row[5] is None else float(row[5]),
        claimed_until=None if row[6] is None else float(row[6]),
        delivered_at=None if row[7] is None else float(row[7]),
        last_status=None if row[8] is None else int(row[8]),
        last_error=row[9],
    )


def apply_pending(backend: Any, folder: str) -> None:
    """Apply the schema migrations in ``folder`` that ``backend`` (yoyo) lacks, and close it. Nothing
    to apply (every open but the first) takes no lock and writes nothing, so a workspace whose
    database refuses writes still opens (the kill switch needs it); a lock held too long by another
    process is :class:`StoreLocked`, not yoyo's traceback."""
    from yoyo import read_migrations
    from yoyo.exceptions import LockTimeout

    try:
        migrations = read_migrations(folder)
        if backend.to_apply(migrations):
            try:
                with backend.lock():
                    backend.apply_migrations(backend.to_apply(migrations))
            except LockTimeout:
                raise StoreLocked(
                    "the database is locked by another process: its schema could not be migrated"
                ) from None
    finally:
        backend.connection.close()


def _labels_row(row: Sequence[Any]) -> TaskLabels:
    """A ``flow_tasks`` row (read_untrusted, max_sensitivity, untrusted_sources, outputs)."""
    level = int(row[1])
    return TaskLabels(
        read_untrusted=bool(row[0]),
        # a value no release writes (a hand-edited row) reads as the highest: fail closed
        max_sensitivity=Sensitivity(level) if 0 <= level <= 3 else Sensitivity.SECRET,
        untrusted_sources=tuple(sorted(str(x) for x in json.loads(row[2]))),
        outputs=int(row[3]),
    )
