"""The one store interface. SQLite (default) and PostgreSQL implement it; one suite tests both.

Records are frozen dataclasses. Every write that changes what a decision reads (agents, tasks,
tools, the active policy set) bumps the store's *epoch*, so caches in any process can be keyed on
versions that live in the store rather than in one process's memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from proctor.types import AgentName, AgentStatus, Email, SpiffeId, TaskId, TaskState, ToolName


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
        }

    def is_live(self, now: float) -> bool:
        """Active and before its deadline: the deadline holds even if no sweeper has run."""
        return self.state is TaskState.ACTIVE and now < self.deadline


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


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One stored audit record: canonical JSON ``body`` plus its chain links."""

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


@dataclass(frozen=True, slots=True)
class PendingAudit:
    """An audit record waiting to be chained: the store assigns seq, prev_hash and hash."""

    ts: float
    kind: str
    body: bytes
    agent: str | None = None
    task: str | None = None
    tool: str | None = None
    decision: str | None = None
    decision_id: str | None = None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    head_hash: bytes
    ts: float
    kid: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class AuditQuery:
    agent: str | None = None
    task: str | None = None
    tool: str | None = None
    decision: str | None = None
    kind: str | None = None
    after_seq: int = 0
    limit: int = 100
    newest_first: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class ChainHasher(Protocol):
    """Computes a record's hash from its seq, the previous hash and its body."""

    def __call__(self, seq: int, prev_hash: bytes, body: bytes) -> bytes: ...


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
    def add_task(self, task: TaskRecord) -> None: ...
    def get_task(self, task_id: TaskId) -> TaskRecord | None: ...
    def list_tasks(
        self, agent: AgentName | None = None, state: TaskState | None = None
    ) -> list[TaskRecord]: ...
    def end_task(self, task_id: TaskId, state: TaskState, now: float, reason: str) -> TaskRecord | None:
        """Move an active task to ``state``; returns the new record, or None if it was not active."""
        ...

    def expire_tasks(self, now: float) -> list[TaskRecord]:
        """Mark every active task past its deadline as expired; returns those it changed."""
        ...

    def consume_call(self, task_id: TaskId) -> bool:
        """Count one call against the task's budget; False when the budget is spent."""
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

    # policy ------------------------------------------------------------------
    def record_policy_version(self, version: str, files: dict[str, str], now: float) -> bool:
        """Record the active policy set; True when it changed (and the epoch was bumped)."""
        ...

    def active_policy_version(self) -> str | None: ...

    # audit ------------------------------------------------------------------
    def append_audit(self, records: Sequence[PendingAudit], hasher: ChainHasher) -> list[AuditRow]:
        """Chain and durably commit ``records`` in one transaction, serialised against every
        other writer (other threads and other processes)."""
        ...

    def audit_head(self) -> AuditRow | None: ...
    def iter_audit(self, after_seq: int = 0, batch: int = 5000) -> Iterator[AuditRow]: ...
    def search_audit(self, query: AuditQuery) -> list[AuditRow]: ...
    def get_audit_by_decision(self, decision_id: str) -> list[AuditRow]: ...
    def add_checkpoint(self, cp: Checkpoint) -> None: ...
    def list_checkpoints(self) -> list[Checkpoint]: ...
    def latest_checkpoint(self) -> Checkpoint | None: ...
