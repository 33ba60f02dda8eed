"""The one store interface. SQLite (default) and PostgreSQL implement it; one suite tests both.

Records are frozen dataclasses. Every write that changes what a decision reads (agents, tasks,
tools, the active policy set) bumps the store's *epoch*, so caches in any process can be keyed on
versions that live in the store rather than in one process's memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from proctor.flow.model import TaskLabels
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
    "AgentRecord",
    "ApprovalRecord",
    "AuditQuery",
    "AuditRow",
    "AuditWriter",
    "ChainHasher",
    "Checkpoint",
    "HistoryEvent",
    "JoinTokenRecord",
    "KeyRecord",
    "LeaseAttempt",
    "LeaseRecord",
    "OAuthClientRecord",
    "OAuthCodeRecord",
    "OAuthGrantRecord",
    "OAuthRefreshRecord",
    "OidcLoginRecord",
    "OutputRecord",
    "PendingAudit",
    "SecretKeyRecord",
    "SecretRecord",
    "Store",
    "TaskRecord",
    "TaskTemplate",
    "ToolPin",
    "ToolRecord",
    "UserRecord",
    "WebSessionRecord",
    "WebhookAttempt",
    "WebhookDelivery",
    "WriteWouldBlock",
    "index_text",
    "index_value",
]


@dataclass(frozen=True, slots=True)
class AgentRecord:
    name: AgentName
    spiffe_id: SpiffeId
    owner: Email
    status: AgentStatus
    selectors: tuple[str, ...]
    created_at: float
    updated_at: float
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI and the HTTP API show."""
        return {
            "name": str(self.name),
            "spiffe_id": str(self.spiffe_id),
            "owner": str(self.owner),
            "status": self.status.value,
            "selectors": list(self.selectors),
            "created_at": self.created_at,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class ToolRecord:
    name: ToolName
    effect: str
    resource_pattern: str = "*"
    resource_arg: str | None = None
    trust: str = "trusted"
    sensitivity: str = "internal"
    destructive: bool = False
    financial: bool = False
    customer_facing: bool = False
    production: bool = False
    description: str = ""
    version: int = 1
    #: consequential kinds the policies can name (issue 15): sharing, invitations, membership
    access_control: bool = False
    #: changes a credential (password, key, token, MFA)
    credential_change: bool = False
    #: can carry data out of the organisation (a URL fetch, a webhook)
    egress: bool = False
    #: the JSON Schema of the tool's arguments as canonical JSON text (hashable), or None: typed
    #: into ``context.args`` of the tool's own Cedar action (see proctor.policy.argschema)
    input_schema: str | None = None
    #: argument paths that decide where data or money goes (``to``, ``to[]``, ``attendees[].email``);
    #: empty = the heuristic of :func:`proctor.flow.provenance.destination_paths`
    destinations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolPin:
    """The approved definition of one upstream MCP tool (see ``proctor.gateway.pinning``).

    ``definition`` is what the agent's model reads (name, description, input schema); ``digest`` is
    ``"sha256:"`` and the hex SHA-256 of its canonical JSON.
    """

    name: ToolName  # the Proctor tool name, ``namespace.tool``
    namespace: str
    upstream_tool: str  # as the upstream spells it
    digest: str
    definition: dict[str, Any]
    pinned_at: float
    pinned_by: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI shows."""
        return {
            "name": str(self.name),
            "namespace": self.namespace,
            "upstream_tool": self.upstream_tool,
            "digest": self.digest,
            "pinned_at": self.pinned_at,
            "pinned_by": self.pinned_by,
        }


@dataclass(frozen=True, slots=True)
class TaskRecord:
    id: TaskId
    agent: AgentName
    purpose: str
    allow: tuple[str, ...]
    resources: tuple[str, ...]
    requested_by: Email
    state: TaskState
    created_at: float
    deadline: float
    max_calls: int | None = None
    calls_used: int = 0
    ended_at: float | None = None
    end_reason: str | None = None
    parent_id: TaskId | None = None
    version: int = 1
    #: explicit intent parameters given at task start (``--param recipient=…``), sorted by name:
    #: with ``purpose`` they are the task's declared intent that provenance traces arguments to
    params: tuple[tuple[str, str], ...] = ()
    #: a delegated task's chain of accountability (docs/adr/0032): ``(agent, task)`` pairs, the
    #: root task first and this task last; empty for a root task (its chain is itself alone)
    chain: tuple[tuple[str, str], ...] = ()
    #: the template the task was started from (docs/adr/0029), None for any other task
    template: str | None = None

    def chain_pairs(self) -> tuple[tuple[str, str], ...]:
        """The chain, root first and this task last (a root task: itself alone)."""
        return self.chain or ((str(self.agent), str(self.id)),)

    @property
    def depth(self) -> int:
        """How many delegations down from its root task this task is (0: a root task)."""
        return max(len(self.chain) - 1, 0)

    @property
    def root_id(self) -> TaskId:
        """The id of the root task of this task's tree (itself for a root task)."""
        return TaskId(self.chain[0][1]) if self.chain else self.id

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI and the HTTP API show."""
        return {
            "id": str(self.id),
            "agent": str(self.agent),
            "purpose": self.purpose,
            "state": self.state.value,
            "allow": list(self.allow),
            "resources": list(self.resources),
            "requested_by": str(self.requested_by),
            "created_at": self.created_at,
            "deadline": self.deadline,
            "max_calls": self.max_calls,
            "calls_used": self.calls_used,
            "ended_at": self.ended_at,
            "end_reason": self.end_reason,
            "parent": None if self.parent_id is None else str(self.parent_id),
            "depth": self.depth,
            "chain": [{"agent": a, "task": t} for a, t in self.chain_pairs()],
            **({} if self.template is None else {"template": self.template}),
        }

    def is_live(self, now: float) -> bool:
        """Active and before its deadline: the deadline holds even if no sweeper has run."""
        return self.state is TaskState.ACTIVE and now < self.deadline


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """A named, stored task intent that a listed agent may start a task from (docs/adr/0029).
    Checked by :mod:`proctor.tasks.templates`; re-exported there."""

    name: str
    purpose: str
    allow: tuple[str, ...]
    resources: tuple[str, ...]
    ttl_s: float
    max_calls: int | None
    #: None: the person who starts (or consents to) the task becomes its requester
    requested_by: str | None
    #: the agents that may start a task from it (at least one)
    agents: tuple[str, ...]
    params: tuple[tuple[str, str], ...]
    created_at: float
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI and the HTTP API show."""
        return {
            "name": self.name,
            "purpose": self.purpose,
            "allow": list(self.allow),
            "resources": list(self.resources),
            "ttl_s": self.ttl_s,
            "max_calls": self.max_calls,
            "requested_by": self.requested_by,
            "agents": list(self.agents),
            "params": dict(self.params),
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class OutputRecord:
    """One tool output a task read, kept for provenance matching (issue 15, docs/adr/0025).

    ``sealed`` is the output sealed by the caller (the workspace's secret store): opaque here, never
    stored in clear. ``trust`` and ``sensitivity`` are the output's labels as text (``trusted`` /
    ``untrusted``; ``public`` … ``secret``), ``reasons`` why (kinds and fingerprints, never content),
    ``size`` the output's length in bytes before sealing. ``seq`` is given by
    :meth:`Store.add_output` (1, 2, … per task, never reused)."""

    task_id: TaskId
    seq: int
    tool: str
    trust: str
    sensitivity: str
    reasons: tuple[str, ...]
    sealed: bytes
    size: int
    at: float

    def __repr__(self) -> str:  # never the sealed bytes
        return (
            f"OutputRecord(task_id={self.task_id!r}, seq={self.seq}, tool={self.tool!r},"
            f" trust={self.trust!r}, sensitivity={self.sensitivity!r}, size={self.size})"
        )


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One allowed and forwarded call that matched a declared counter (``counters.yaml``), as
    history keeps it: ``values`` maps counter names to Decimal text (``sum``) or a keyed fingerprint
    (``first_time``), sorted by name; never an argument value in clear. Built by
    ``proctor.flow.counters.event_for``; kept by :meth:`Store.add_flow_event`."""

    task_id: str
    agent: str
    tool: str
    effect: str
    at: float
    values: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class JoinTokenRecord:
    token_hash: str
    agent: AgentName
    created_at: float
    expires_at: float
    used_at: float | None = None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A public signing key. Private halves live in the workspace's key files, never in the store."""

    kid: str
    use: str  # "svid" (ES256 JWT-SVIDs) or "audit" (Ed25519 checkpoints)
    public_jwk: dict[str, Any]
    created_at: float
    retired_at: float | None = None
    #: when a retired key may leave the JWKS: after the last token it signed has expired
    drop_after: float | None = None


class AuditRow(NamedTuple):
    """One stored audit record: canonical JSON ``body`` plus its chain links.

    A named tuple rather than a frozen dataclass: the writer builds one per record on the audit
    hot path, and a tuple is several times cheaper to construct.
    """

    seq: int
    ts: float
    kind: str
    body: bytes
    prev_hash: bytes
    hash: bytes
    agent: str | None = None
    task: str | None = None
    tool: str | None = None
    decision: str | None = None
    decision_id: str | None = None
    #: the writer whose chain holds the record (0: the single chain of logs written before
    #: per-writer chains, docs/adr/0036) and its place in that chain (1, 2, ...)
    writer: int = 0
    wseq: int = 0


@dataclass(frozen=True, slots=True)
class AuditWriter:
    """A writer of the audit log (one per :class:`proctor.audit.log.AuditLog`), docs/adr/0036.
    ``first_seq`` is the global seq of its first record once it committed one."""

    id: int
    started_at: float
    host: str
    pid: int
    info: str
    first_seq: int | None


class PendingAudit(NamedTuple):
    """An audit record waiting to be chained: the store assigns seq, prev_hash and hash."""

    ts: float
    kind: str
    body: bytes
    agent: str | None = None
    task: str | None = None
    tool: str | None = None
    decision: str | None = None
    decision_id: str | None = None


#: what an audit index column never holds as it is: control characters (C0, DEL, C1; PostgreSQL text
#: cannot hold NUL at all), lone surrogates (not UTF-8) and the escape character itself
_INDEX_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\\\ud800-\udfff]")
_INDEX_ESCAPE = re.compile(r"\\(?:\\|x([0-9a-f]{2})|u([0-9a-f]{4}))")


def _escape_one(m: re.Match[str]) -> str:
    c = m.group()
    if c == "\\":
        return "\\\\"
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def _unescape_one(m: re.Match[str]) -> str:
    hex2, hex4 = m.group(1), m.group(2)
    if hex2 is None and hex4 is None:
        return "\\"
    c = chr(int(hex2 or hex4, 16))
    # only what index_text escapes is unescaped: any other backslash sequence is left as it is
    return c if _INDEX_UNSAFE.fullmatch(c) and c != "\\" else m.group()


def index_text(value: str) -> str:
    """``value`` as an audit index column holds it (agent, task, tool, decision, decision_id, kind).

    Control characters and lone surrogates become ``\\xNN`` / ``\\uNNNN`` (lowercase hex) and a
    backslash becomes two, so the result is storable on every engine and the mapping is one to one:
    :func:`index_value` gives ``value`` back, and a search for ``value`` compares ``index_text(value)``.
    Every engine applies it the same way, in Python. The record's body keeps the exact value (as
    canonical JSON escapes it) and is what the hash chain covers.

    >>> index_text("fs.read"), index_text("a\\x00b\\\\c")
    ('fs.read', 'a\\\\x00b\\\\\\\\c')
    """
    if "\\" not in value and value.isprintable():  # nearly every value: one C-speed scan
        return value
    return _INDEX_UNSAFE.sub(_escape_one, value)


def index_value(text: str) -> str:
    """The value an audit index column's ``text`` stands for: the inverse of :func:`index_text`.

    A backslash sequence :func:`index_text` never writes (a row stored before it existed, or edited
    by hand) is kept as it is, so reading never fails."""
    if "\\" not in text:
        return text
    return _INDEX_ESCAPE.sub(_unescape_one, text)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed chain head. ``seq`` is the global seq of the head record; ``writer`` names the
    chain it heads (the head's hash covers the writer and its place, docs/adr/0036)."""

    seq: int
    head_hash: bytes
    ts: float
    kid: str
    signature: bytes
    writer: int = 0


@dataclass(frozen=True, slots=True)
class AuditQuery:
    agent: str | None = None
    task: str | None = None
    tool: str | None = None
    decision: str | None = None
    kind: str | None = None
    after_seq: int = 0
    #: only records written at or after this time (seconds since the epoch)
    since: float | None = None
    limit: int = 100
    newest_first: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    #: only records of one of these tasks (``audit search --root-task``: a task tree's ids)
    task_in: tuple[str, ...] = ()
    #: only records of this writer's chain after its place ``after_wseq``, in chain order (a
    #: writer commits its records in that order: ``audit tail -f`` reads each chain this way)
    writer: int | None = None
    after_wseq: int = 0


class ChainHasher(Protocol):
    """Computes a record's hash from its seq, the previous hash and its body."""

    def __call__(self, seq: int, prev_hash: bytes, body: bytes) -> bytes: ...


class WriteWouldBlock(Exception):
    """A write asked not to wait (``SqliteStore.writes_nowait``) found the write lock taken; nothing
    was written. Not a :class:`StoreError`: the caller hands the write to a thread that may wait."""


class Store(Protocol):
    """Everything Proctor keeps. Implementations must be safe to share between threads."""

    url: str

    # lifecycle --------------------------------------------------------------
    def migrate(self) -> None: ...
    def close(self) -> None: ...
    def epoch(self) -> int:
        """A counter bumped by every change to what decisions read, by any process."""
        ...

    # agents -----------------------------------------------------------------
    def add_agent(self, agent: AgentRecord) -> None: ...
    def get_agent(self, name: AgentName) -> AgentRecord | None: ...
    def list_agents(self) -> list[AgentRecord]: ...
    def set_agent_status(self, name: AgentName, status: AgentStatus, now: float) -> AgentRecord: ...
    def set_agent_selectors(self, name: AgentName, selectors: Sequence[str], now: float) -> AgentRecord:
        """Replace an agent's attestation selectors; :class:`UnknownAgent` if there is none."""
        ...

    def retire_agent(self, name: AgentName, now: float) -> tuple[AgentRecord, int]:
        """Mark an agent retired, drop its selectors and spend its unused join tokens, in one
        transaction; returns the record and how many join tokens were revoked."""
        ...

    # tools ------------------------------------------------------------------
    def put_tool(self, tool: ToolRecord) -> ToolRecord: ...
    def get_tool(self, name: ToolName) -> ToolRecord | None: ...
    def list_tools(self) -> list[ToolRecord]: ...
    def delete_tool(self, name: ToolName) -> bool: ...

    # tool pins ----------------------------------------------------------------
    def replace_tool_pins(self, namespace: str, pins: Sequence[ToolPin]) -> None:
        """In one transaction: delete ``namespace``'s pins, store ``pins`` (all of that namespace)
        and bump the epoch. An empty ``pins`` unpins the namespace."""
        ...

    def list_tool_pins(self, namespace: str | None = None) -> list[ToolPin]:
        """Pins ordered by name, of one namespace or of all."""
        ...

    # tasks ------------------------------------------------------------------
    def add_task(self, task: TaskRecord, *, durable: bool = True) -> None:
        """Store a new task. ``durable=False``: the engine may commit without waiting for the disk
        (SQLite in WAL mode), for a caller whose next step is a durable commit it waits for (the
        audit record of a delegation), which makes this one power-safe too."""
        ...

    def get_task(self, task_id: TaskId) -> TaskRecord | None: ...
    def list_tasks(
        self, agent: AgentName | None = None, state: TaskState | None = None
    ) -> list[TaskRecord]: ...
    def end_task(self, task_id: TaskId, state: TaskState, now: float, reason: str) -> TaskRecord | None:
        """Move an active task to ``state``; returns the new record, or None if it was not active."""
        ...

    def expire_tasks(self, now: float) -> list[TaskRecord]:
        """Mark every active task past its deadline as expired; returns those THIS call changed (of
        several processes expiring at once, each task is returned to exactly one)."""
        ...

    def reopen_tasks(self, task_ids: Sequence[TaskId], state: TaskState) -> list[TaskId]:
        """Move tasks that are in ``state`` back to active (an end whose audit record could not be
        written is given back to the sweeps, which end and record it again); returns those moved."""
        ...

    def child_tasks(self, parent_id: TaskId, *, active_only: bool = True) -> list[TaskRecord]:
        """The tasks delegated from ``parent_id`` (its direct children), active ones only by default."""
        ...

    def descendant_labels(self, task_id: TaskId, *, limit: int) -> list[tuple[TaskId, TaskLabels]]:
        """The active tasks below ``task_id`` (children, their children, ... through active tasks
        only) with their high-water marks (:meth:`task_labels`), at most ``limit`` of them, in one
        query: what a delegating task's flow decisions join (docs/adr/0032)."""
        ...

    def orphan_tasks(self) -> list[TaskRecord]:
        """Active tasks whose parent task is no longer active (docs/adr/0032: the sweeper ends them)."""
        ...

    def expiry_audited(self, task_ids: Sequence[TaskId]) -> None:
        """``task.expired`` of these tasks is durable: clear the claim :meth:`expire_tasks` (or
        :meth:`reclaim_expiries`) left on them."""
        ...

    def reclaim_expiries(self, now: float, claimed_before: float) -> list[TaskRecord]:
        """Claim again (at ``now``) the expired tasks whose expiry was claimed before
        ``claimed_before`` and never marked audited (a sweeper crashed between the expiry and its
        record), and return them: each to exactly one caller, as :meth:`expire_tasks`."""
        ...

    def template_tasks(self, agent: AgentName, template: str | None, ended_since: float) -> list[TaskRecord]:
        """The tasks ``agent`` started from ``template`` (None: from any template) that are still
        active or ended at or after ``ended_since``, oldest first (docs/adr/0029, amendment
        2026-12-05)."""
        ...

    def consume_call(self, task_id: TaskId) -> bool:
        """Count one call against the task's budget; False when the budget is spent."""
        ...

    # flow (issue 15) ------------------------------------------------------------
    # The outputs a task read (sealed, bounded), its high-water mark, and the calls history counts.
    def add_output(self, rec: OutputRecord, *, max_outputs: int, durable: bool = True) -> int:
        """Keep one output of ``rec.task_id`` and return the seq it was given (``rec.seq`` is
        ignored): 1, 2, … per task, never reused. In the same transaction, the task's oldest
        outputs beyond ``max_outputs`` are deleted (0 keeps none) and its high-water mark
        (:meth:`task_labels`) is raised by the output's labels. :class:`proctor.errors.UnknownTask`
        for a task the store does not hold, :class:`proctor.errors.ValidationError` for a label
        that is not one (nothing is written then). ``durable`` as for :meth:`add_approval`."""
        ...

    def outputs(self, task_id: TaskId, after_seq: int = 0) -> list[OutputRecord]:
        """The task's kept outputs with a seq above ``after_seq``, oldest first."""
        ...

    def raise_task_labels(self, task_id: TaskId, labels: TaskLabels) -> None:
        """Raise the task's high-water mark to at least ``labels`` (what a delegated task inherits
        from its parent, what a child's reading brings back to it); never lowers it."""
        ...

    def task_labels(self, task_id: TaskId) -> TaskLabels:
        """The high-water mark of what the task read (``outputs`` counts every output it read,
        kept or not); eviction and :meth:`delete_outputs` leave it. ``TaskLabels()`` when none."""
        ...

    def delete_outputs(self, task_id: TaskId) -> int:
        """Delete every kept output of the task (its high-water mark stays); returns how many."""
        ...

    def prune_outputs(self, ended_before: float) -> int:
        """Delete the kept outputs of every task that ended at or before ``ended_before`` (the
        retention sweep; it also catches an output stored after its task ended); returns how many."""
        ...

    def add_flow_event(self, ev: HistoryEvent, *, durable: bool = True) -> None:
        """Keep one event. ``durable`` as for :meth:`add_approval`."""
        ...

    def flow_events(
        self, *, task_id: TaskId | None = None, agent: AgentName | None = None, since: float | None = None
    ) -> list[HistoryEvent]:
        """Events of one task and/or one agent, at or after ``since``, oldest first (by ``at``, then
        in the order they were added)."""
        ...

    def flow_event_count(
        self, *, task_id: TaskId | None = None, agent: AgentName | None = None, since: float | None = None
    ) -> int:
        """How many events :meth:`flow_events` with the same arguments returns (a count: no rows
        read out)."""
        ...

    def flow_events_counted(
        self,
        *,
        task_id: TaskId | None = None,
        agent: AgentName | None = None,
        since: float | None = None,
        count_since: float | None = None,
    ) -> tuple[list[HistoryEvent], int]:
        """:meth:`flow_events` from ``since`` and :meth:`flow_event_count` from ``count_since``
        (same task and agent), read in one statement: one round trip, one snapshot."""
        ...

    # join tokens --------------------------------------------------------------
    def add_join_token(self, token: JoinTokenRecord) -> None: ...
    def redeem_join_token(self, token_hash: str, now: float) -> JoinTokenRecord | None:
        """Mark the token used and return it, atomically; None if unknown, used or expired."""
        ...

    # keys ------------------------------------------------------------------
    def put_key(self, key: KeyRecord) -> None: ...
    def list_keys(self, use: str | None = None) -> list[KeyRecord]: ...
    def retire_key(self, kid: str, now: float, drop_after: float) -> None: ...
    def revoke_key(self, kid: str, now: float) -> None:
        """Stop ``kid`` verifying at ``now``, retired already or not (a key that may have leaked)."""
        ...

    # policy ------------------------------------------------------------------
    def record_policy_version(self, version: str, files: dict[str, str], now: float) -> bool:
        """Record the active policy set; True when it changed (and the epoch was bumped)."""
        ...

    def active_policy_version(self) -> str | None: ...

    def list_policy_versions(self) -> list[tuple[int, str, str]]:
        """Every recorded activation, oldest first: (row id, version, files as stored JSON text)."""
        ...

    # audit ------------------------------------------------------------------
    def append_audit(
        self, records: Sequence[PendingAudit], hasher: ChainHasher, *, writer: int = 0
    ) -> list[AuditRow]:
        """Chain ``records`` onto ``writer``'s chain and durably commit them in one transaction,
        serialised against that writer only (docs/adr/0036); ``hasher`` gets each record's place
        in the writer's chain (wseq). Each record also gets the next global ``seq``. The index
        columns hold :func:`index_text` of each value; records read back (and searches) use the values."""
        ...

    def register_audit_writer(self, started_at: float, host: str, pid: int, info: str) -> int:
        """A new writer id (never 0, never reused)."""
        ...

    def list_audit_writers(self) -> list[AuditWriter]: ...
    def audit_writer_head(self, writer: int) -> AuditRow | None: ...
    def audit_writer_heads(self) -> dict[int, int]:
        """Every registered writer's place (wseq) of its newest record, 0 for none yet; one read."""
        ...

    def iter_audit_writer(
        self, writer: int, after_wseq: int = 0, batch: int = 5000
    ) -> Iterator[AuditRow]: ...

    def audit_head(self) -> AuditRow | None: ...
    def iter_audit(self, after_seq: int = 0, batch: int = 5000) -> Iterator[AuditRow]: ...
    def search_audit(self, query: AuditQuery) -> list[AuditRow]: ...
    def get_audit_by_decision(self, decision_id: str) -> list[AuditRow]: ...
    def add_checkpoint(self, cp: Checkpoint) -> None: ...
    def list_checkpoints(self) -> list[Checkpoint]: ...
    def latest_checkpoint(self) -> Checkpoint | None: ...
    def latest_checkpoint_of(self, writer: int) -> Checkpoint | None: ...

    # secrets ------------------------------------------------------------------
    # Rows hold only ciphertext; encryption lives in :mod:`proctor.credentials.secrets`.
    def ensure_secret_key(self, candidate: SecretKeyRecord) -> SecretKeyRecord:
        """The active secrets key check, in one transaction. With none, ``candidate`` becomes it.
        With another active key and no secrets stored, ``candidate`` replaces it (nothing to lose).
        Otherwise the existing active key is returned unchanged, for the caller to compare."""
        ...

    def active_secret_key(self) -> SecretKeyRecord | None: ...
    def list_secret_keys(self) -> list[SecretKeyRecord]: ...
    def put_secret(self, name: str, key_id: str, nonce: bytes, ciphertext: bytes, now: float) -> int:
        """Insert or replace a secret's ciphertext; returns its new version (1, 2, …). Refuses with
        :class:`proctor.errors.SecretKeyInvalid` unless ``key_id`` is the active key."""
        ...

    def get_secret(self, name: str) -> SecretRecord | None: ...
    def list_secrets(self) -> list[SecretRecord]:
        """Every secret, ordered by name."""
        ...

    def count_secrets(self) -> int: ...
    def delete_secret(self, name: str) -> bool: ...
    def rotate_secret_key(
        self,
        old_key_id: str,
        new_key: SecretKeyRecord,
        reencrypt: Callable[[SecretRecord], tuple[bytes, bytes]],
        now: float,
    ) -> int:
        """In one transaction: retire ``old_key_id``, make ``new_key`` active and replace every
        secret's (nonce, ciphertext) with ``reencrypt(row)``. Any failure changes nothing.
        Returns how many secrets were re-encrypted."""
        ...

    # leases ------------------------------------------------------------------
    # What credential providers issued to tasks. Never a secret value: see proctor.credentials.leases.
    def add_lease(self, lease: LeaseRecord, *, durable: bool = True) -> None:
        """Store a new lease, in one transaction with a check that its task is active and its agent
        too (:class:`proctor.errors.UnknownTask`, :class:`proctor.errors.TaskNotActive`,
        :class:`proctor.errors.AgentSuspended`). ``durable=False`` lets an engine skip waiting for
        the disk (SQLite in WAL mode), for credentials whose loss fails closed."""
        ...

    def get_lease(self, lease_id: LeaseId) -> LeaseRecord | None: ...
    def list_leases(
        self,
        task_id: TaskId | None = None,
        agent: AgentName | None = None,
        state: LeaseState | None = None,
    ) -> list[LeaseRecord]:
        """Leases ordered by issue time, then id."""
        ...

    def extend_lease(self, lease_id: LeaseId, expires_at: float) -> bool:
        """Move an *active* lease's expiry later (a provider renewed it); False when the lease is
        not active any more or already expires at or after ``expires_at``."""
        ...

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
        """In ONE transaction, move to ``state`` (``revoked`` or ``expired``) every *active* lease
        among ``ids`` — or, with ``ids`` empty, every active lease of ``task_id`` or of ``agent``.
        Sets ``revoked_at = now`` and ``next_attempt_at = claim_until`` (default ``now``: the
        provider has yet to confirm; a later ``claim_until`` keeps other processes' retries off the
        leases while this one revokes them). Returns the leases this call changed (ordered by id);
        leases no longer active are left alone, so only one of several concurrent callers gets each."""
        ...

    def due_leases(self, now: float) -> list[LeaseRecord]:
        """Active leases that must end: past ``expires_at``, or whose task is no longer active, or
        whose agent is suspended."""
        ...

    def pending_revocations(self, now: float) -> list[LeaseRecord]:
        """Revoked, expired or irrevocable leases whose provider revocation is due
        (``next_attempt_at <= now``), oldest due first."""
        ...

    def claim_revocations(
        self, now: float, until: float, *, kinds: Sequence[str] | None = None
    ) -> list[LeaseRecord]:
        """The leases :meth:`pending_revocations` would return, claimed: their ``next_attempt_at``
        moves to ``until`` in the same statement, so of several processes retrying at once exactly one
        gets each lease (a conditional update: the others find it no longer due). With ``kinds``, only
        leases of those providers (a process claims only what it can revoke). Ordered by id."""
        ...

    def update_lease_attempts(self, attempts: Sequence[LeaseAttempt]) -> int:
        """Record provider revocation attempts in one transaction. Each applies only if the lease is
        still pending (or irrevocable, which is retried until confirmed) with ``attempts_before``
        attempts (another process may have recorded it first). Returns how many applied."""
        ...

    # approver accounts -------------------------------------------------------------
    # People who decide approval requests (see proctor.accounts). Passwords are argon2id hashes,
    # session tokens and OIDC states their SHA-256: nothing here lets anyone sign in as it is.
    def add_user(self, user: UserRecord) -> None:
        """Store a new account; :class:`proctor.errors.Conflict` when the e-mail is taken."""
        ...

    def get_user(self, email: Email) -> UserRecord | None: ...
    def list_users(self) -> list[UserRecord]:
        """Every account, ordered by e-mail."""
        ...

    def update_user(
        self,
        email: Email,
        now: float,
        *,
        name: str | None = None,
        groups: Sequence[str] | None = None,
        password_hash: str | None = None,
        disabled: bool | None = None,
        unlock: bool = False,
    ) -> UserRecord:
        """Change the given fields (``unlock`` clears the failure count and any lock) and bump the
        version; :class:`proctor.errors.NotFound` when there is no such account."""
        ...

    def record_login_failure(
        self, email: Email, now: float, *, max_failures: int, lock_s: float
    ) -> UserRecord | None:
        """Count one failed sign-in, atomically (several processes may count at once). The failure
        that reaches ``max_failures`` locks the account until ``now + lock_s`` and starts the count
        again. Returns the updated account, or None when there is none."""
        ...

    def record_login_success(self, email: Email, now: float) -> None:
        """Clear the failure count after a successful sign-in."""
        ...

    def add_web_session(self, session: WebSessionRecord) -> None:
        """Store a new session; sessions past their absolute expiry at its creation are deleted."""
        ...

    def get_web_session(self, token_hash: str) -> WebSessionRecord | None: ...
    def touch_web_session(self, token_hash: str, now: float) -> None:
        """Record that the session was used at ``now`` (its idle expiry starts again)."""
        ...

    def revoke_web_sessions(
        self, now: float, *, token_hash: str | None = None, email: Email | None = None
    ) -> int:
        """Revoke one session (``token_hash``) or every live session of ``email``; returns how many."""
        ...

    def add_oidc_login(self, login: OidcLoginRecord) -> None: ...
    def take_oidc_login(self, state_hash: str, now: float) -> OidcLoginRecord | None:
        """Delete and return a pending OIDC login, atomically (a state is used once); None when it
        is unknown, already used or expired. Expired ones are deleted on the way."""
        ...

    # OAuth authorization server (docs/adr/0028) ------------------------------------
    # No token is stored as it is: codes and refresh tokens are kept as their SHA-256.
    def add_oauth_client(self, client: OAuthClientRecord) -> None:
        """Register a client (dynamic registration, or a fetched metadata document); an existing
        client id is replaced (a metadata document fetched again)."""
        ...

    def get_oauth_client(self, client_id: str) -> OAuthClientRecord | None: ...
    def add_oauth_grant(self, grant: OAuthGrantRecord, code: OAuthCodeRecord) -> None:
        """Store a consented grant and its authorization code, in one transaction."""
        ...

    def get_oauth_grant(self, grant_id: str) -> OAuthGrantRecord | None: ...
    def list_oauth_grants(self, agent: str | None = None) -> list[OAuthGrantRecord]:
        """Every grant (of ``agent``), newest first."""
        ...

    def set_oauth_grant_task(self, grant_id: str, task_id: str) -> None:
        """The task a grant's tokens now name (a fresh one, started from its template)."""
        ...

    def revoke_oauth_grant(self, grant_id: str, now: float, reason: str) -> bool:
        """Revoke a grant and every refresh token of it; False when it was revoked already."""
        ...

    def use_oauth_code(self, code_hash: str, now: float) -> tuple[OAuthCodeRecord | None, bool]:
        """The code stored under ``code_hash`` and whether this was its first use (atomically: of
        two concurrent uses exactly one is first). ``(None, False)``: unknown."""
        ...

    def rotate_oauth_refresh(
        self, old_hash: str, new: OAuthRefreshRecord, now: float
    ) -> tuple[str | None, str]:
        """In one transaction: mark the refresh token ``old_hash`` used and store ``new`` for the
        same grant. Returns ``(grant_id, outcome)``: ``ok`` (rotated), ``reused`` (it was used
        before: nothing stored), ``expired`` or ``unknown`` (grant id None)."""
        ...

    def add_oauth_refresh(self, refresh: OAuthRefreshRecord) -> None: ...
    def peek_oauth_refresh(self, token_hash: str) -> tuple[str | None, bool]:
        """The grant of the refresh token ``token_hash`` and whether it was used, changing
        nothing; ``(None, False)``: unknown (or its grant revoked)."""
        ...

    # task templates (docs/adr/0029) ----------------------------------------------
    def put_template(self, template: TaskTemplate) -> None:
        """Store ``template``, replacing one of the same name."""
        ...

    def get_template(self, name: str) -> TaskTemplate | None: ...
    def list_templates(self) -> list[TaskTemplate]:
        """Every template, by name."""
        ...

    def delete_template(self, name: str) -> bool:
        """Remove a template; False if there was none of that name."""
        ...

    # approval webhooks ---------------------------------------------------------
    # One row per (approval request, configured webhook): see proctor.approvals.webhooks.
    def add_webhook_deliveries(self, keys: Sequence[tuple[str, str]], now: float) -> int:
        """In one transaction, file a ``pending`` delivery, due at ``now``, for each
        ``(approval_id, target)`` that has none yet (any number of processes may file the same
        one: it is filed once). Returns how many were filed."""
        ...

    def webhook_delivery_keys(self, approval_ids: Sequence[str]) -> set[tuple[str, str]]:
        """The ``(approval_id, target)`` pairs filed already, among ``approval_ids``."""
        ...

    def claim_webhook_deliveries(self, now: float, until: float, limit: int = 50) -> list[WebhookDelivery]:
        """Claim up to ``limit`` pending deliveries that are due (``next_attempt_at <= now``) and not
        claimed by another process (``claimed_until`` unset or past) until ``until``, oldest due
        first; returns them as claimed. A delivery is claimed by one caller at a time."""
        ...

    def record_webhook_attempt(self, attempt: WebhookAttempt) -> bool:
        """Record one delivery attempt and release the claim. Applies only if the delivery is still
        pending with ``attempts_before`` attempts (another process may have recorded it first)."""
        ...

    def list_webhook_deliveries(self, approval_id: str | None = None) -> list[WebhookDelivery]:
        """Deliveries of one request, or all, ordered by creation then approval id and target."""
        ...

    # approvals ---------------------------------------------------------------
    # Calls held for a person (proctor.approvals). The arguments only ever encrypted.
    def add_approval(
        self,
        rec: ApprovalRecord,
        *,
        max_pending: int,
        now: float,
        durable: bool = True,
        passed_grants: Collection[str] | None = None,
    ) -> ApprovalRecord:
        """File ``rec`` — unless a *pending*, unexpired request with the same digest exists: then
        count one more attempt on it and return it (identical requests are grouped). In one
        transaction, serialised per agent: an agent with ``max_pending`` pending unexpired
        requests gets :class:`proctor.errors.ApprovalCapReached` and nothing is stored.

        With ``passed_grants`` (the ids of the grants the caller already tried), an *approved*,
        unexpired request with the same digest that is not among them is returned unchanged
        instead of filing: a person approved the identical call after the caller looked for
        grants, and the caller redeems it (never a second request for an approved call).

        ``durable=False`` lets an engine skip waiting for the disk (SQLite in WAL mode): the
        pipeline's durable decision record, committed next, makes it power-safe."""
        ...

    def get_approval(self, approval_id: ApprovalId) -> ApprovalRecord | None: ...
    def list_approvals(
        self,
        *,
        states: Sequence[str] = (),
        agent: AgentName | None = None,
        task_id: TaskId | None = None,
        tool: ToolName | None = None,
        limit: int = 100,
    ) -> list[ApprovalRecord]:
        """Newest first."""
        ...

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
        """Move a *pending*, unexpired request to ``approved`` or ``denied``; None when it is not
        pending any more (another approver was first) or has expired."""
        ...

    def use_approval(
        self, approval_id: ApprovalId, now: float, used_by: str, *, durable: bool = True
    ) -> ApprovalRecord | None:
        """Consume an *approved* single-use grant, atomically: the first caller gets the record,
        every later one None (a grant runs one call). ``durable`` as for :meth:`add_approval`."""
        ...

    def approved_for(self, digest: str) -> list[ApprovalRecord]:
        """Approved single-use grants bound to ``digest``, oldest first."""
        ...

    def scoped_grants(self, task_id: TaskId, tool: ToolName) -> list[ApprovalRecord]:
        """Approved scoped grants (with a narrowing) of ``task_id`` for ``tool``."""
        ...

    def expire_approvals(self, now: float) -> list[ApprovalRecord]:
        """Pending requests and approved grants past ``expires_at`` become ``expired``; returns them."""
        ...


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """One stored secret: ciphertext only. The plaintext never reaches the store."""

    name: str
    key_id: str
    nonce: bytes
    ciphertext: bytes
    created_at: float
    updated_at: float
    version: int = 1

    def __repr__(self) -> str:
        return f"SecretRecord(name={self.name!r}, key_id={self.key_id!r}, version={self.version})"


@dataclass(frozen=True, slots=True)
class SecretKeyRecord:
    """The check of one secrets key: its id and a known text encrypted under it. Never the key."""

    key_id: str
    check_nonce: bytes
    check_ciphertext: bytes
    created_at: float
    retired_at: float | None = None


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """A credential a provider issued to a task (exported as :class:`proctor.credentials.leases.Lease`).

    Holds no secret: ``revoke_handle`` is what the provider needs to revoke, ``data_summary`` names
    the keys of the spec and of the data handed to the gateway, never their values.
    """

    id: LeaseId
    task_id: TaskId
    agent: AgentName
    kind: str
    name: str
    state: LeaseState
    issued_at: float
    expires_at: float
    revoked_at: float | None = None
    attempts: int = 0
    next_attempt_at: float | None = None
    last_error: str | None = None
    revoke_handle: dict[str, Any] = field(default_factory=dict)
    data_summary: dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        """Revoked or expired here, but the provider has not confirmed it yet."""
        return self.next_attempt_at is not None and self.state in (LeaseState.REVOKED, LeaseState.EXPIRED)

    def usable(self, now: float) -> bool:
        """Active and before its expiry."""
        return self.state is LeaseState.ACTIVE and now < self.expires_at

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI shows."""
        return {
            "id": str(self.id),
            "task_id": str(self.task_id),
            "agent": str(self.agent),
            "kind": self.kind,
            "name": self.name,
            "state": self.state.value,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "pending": self.pending,
            "last_error": self.last_error,
            "revoke_handle": self.revoke_handle,
            "data_summary": self.data_summary,
        }


@dataclass(frozen=True, slots=True)
class LeaseAttempt:
    """The outcome of one provider revocation attempt, for :meth:`Store.update_lease_attempts`.

    ``next_attempt_at`` None means done (confirmed, or given up for good); an ``irrevocable`` lease
    with a ``next_attempt_at`` is still retried (on a slower schedule) until its provider confirms.
    """

    lease_id: LeaseId
    attempts_before: int
    attempts: int
    next_attempt_at: float | None
    last_error: str | None = None
    state: LeaseState | None = None


@dataclass(frozen=True, slots=True)
class UserRecord:
    """An approver's local account. ``password_hash`` is an argon2id PHC string, or None for a
    person who signs in through OpenID Connect only."""

    email: Email
    name: str
    groups: tuple[str, ...]
    created_at: float
    updated_at: float
    password_hash: str | None = None
    disabled: bool = False
    failed_logins: int = 0
    locked_until: float | None = None
    version: int = 1

    def __repr__(self) -> str:
        return f"UserRecord(email={self.email!r}, groups={self.groups!r}, disabled={self.disabled})"

    def locked(self, now: float) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI shows: never the password hash."""
        return {
            "email": str(self.email),
            "name": self.name,
            "groups": list(self.groups),
            "password": self.password_hash is not None,
            "disabled": self.disabled,
            "failed_logins": self.failed_logins,
            "locked_until": self.locked_until,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class WebSessionRecord:
    """A signed-in approver's browser session, stored under the SHA-256 of its cookie token."""

    token_hash: str
    email: Email
    name: str
    groups: tuple[str, ...]
    via: str
    created_at: float
    last_seen: float
    expires_at: float
    revoked_at: float | None = None


@dataclass(frozen=True, slots=True)
class OidcLoginRecord:
    """An OpenID Connect sign-in under way: what the callback must find again (single use)."""

    state_hash: str
    nonce: str
    verifier: str
    next_path: str
    created_at: float
    expires_at: float

    def __repr__(self) -> str:
        return f"OidcLoginRecord(next_path={self.next_path!r}, expires_at={self.expires_at!r})"


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    """A stored approval request (see :mod:`proctor.approvals.model` for its meaning). JSON
    columns are kept as text here; the approvals service parses them."""

    id: ApprovalId
    state: str
    agent: AgentName
    task_id: TaskId
    tool: ToolName
    effects: str
    digest: str
    args_digest: str
    policy_version: str
    policies: str
    reasons: str
    approvers: str
    four_eyes: bool
    owner: str | None
    requester: str | None
    key_id: str
    nonce: bytes
    ciphertext: bytes
    created_at: float
    expires_at: float
    attempts: int = 1
    decision_id: str | None = None
    decided_at: float | None = None
    decided_by: str | None = None
    decided_via: str | None = None
    reason: str | None = None
    narrowing: str | None = None
    grant_token: str | None = None
    used_at: float | None = None
    used_by: str | None = None

    def __repr__(self) -> str:  # never the ciphertext, never the grant
        return (
            f"ApprovalRecord(id={self.id!r}, state={self.state!r}, agent={self.agent!r}, tool={self.tool!r})"
        )


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One approval request's notification to one configured webhook (``target``, its name).

    ``pending`` → ``delivered`` | ``failed`` (a final refusal, or out of attempts) | ``obsolete``
    (the request was decided or expired before it could be sent)."""

    approval_id: str
    target: str
    state: str
    attempts: int
    created_at: float
    next_attempt_at: float | None = None
    claimed_until: float | None = None
    delivered_at: float | None = None
    last_status: int | None = None
    last_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI shows."""
        return {
            "approval_id": self.approval_id,
            "target": self.target,
            "state": self.state,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "next_attempt_at": self.next_attempt_at,
            "delivered_at": self.delivered_at,
            "last_status": self.last_status,
            "last_error": self.last_error,
        }


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """The outcome of one delivery attempt, for :meth:`Store.record_webhook_attempt`: the new
    ``state`` and, while still ``pending``, when to try again."""

    approval_id: str
    target: str
    attempts_before: int
    state: str
    next_attempt_at: float | None = None
    delivered_at: float | None = None
    last_status: int | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class OAuthClientRecord:
    """An OAuth client of the gateway's authorization server (docs/adr/0028). ``kind``: ``dcr``
    (RFC 7591 registration) or ``cimd`` (a Client ID Metadata Document, ``client_id`` its URL)."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    kind: str
    created_at: float


@dataclass(frozen=True, slots=True)
class OAuthGrantRecord:
    """What a person consented to: ``client_id`` acts as ``agent`` on tasks started from
    ``template`` for ``resource`` (the gateway's MCP URL), with ``email`` as the requester.
    ``task_id``: the task its tokens name now."""

    id: str
    client_id: str
    email: str
    agent: str
    template: str
    resource: str
    task_id: str
    created_at: float
    expires_at: float
    revoked_at: float | None = None
    revoked_reason: str = ""


@dataclass(frozen=True, slots=True)
class OAuthCodeRecord:
    """An authorization code, stored as its SHA-256, used once."""

    code_hash: str
    grant_id: str
    client_id: str
    redirect_uri: str
    challenge: str
    resource: str
    created_at: float
    expires_at: float
    used_at: float | None = None


@dataclass(frozen=True, slots=True)
class OAuthRefreshRecord:
    """A refresh token, stored as its SHA-256; rotated on every use (``used_at`` set)."""

    token_hash: str
    grant_id: str
    created_at: float
    expires_at: float
    used_at: float | None = None
