"""The records of approval: a held call's request, the person who decides it, and a narrowing.

A request is bound to one exact call: the digest of agent, task, tool, canonical arguments and
policy version (:func:`call_digest`). Its life::

    pending ──approve──▶ approved ──(the identical call runs once)──▶ used
       │  └────deny────▶ denied
       └──(expires_at passes, default 10 min)──▶ expired

An approval *with narrowing* (:class:`Narrowing`) is a scoped grant instead: for the rest of the
task (never past its deadline), calls of the same tool whose arguments stay inside the narrowing
are allowed without asking again. See ``docs/adr/0022-approvals.md``.
"""

from __future__ import annotations

import enum
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from proctor.canonical import canonical_json
from proctor.errors import ValidationError
from proctor.types import AgentName, ApprovalId, Email, TaskId, ToolName

__all__ = [
    "DEFAULT_APPROVAL_TTL_S",
    "MAX_WAITERS",
    "ApprovalRequest",
    "ApprovalState",
    "Approver",
    "Narrowing",
    "WaitSlots",
    "call_digest",
]

#: how long a request waits for a person before it expires (expired means denied)
DEFAULT_APPROVAL_TTL_S = 600.0
#: waits on approval requests one process runs at once, all agents together (each polls the store
#: 4 times a second): the gateway's held calls, and ``POST /v1/approvals/{id}/wait`` each
MAX_WAITERS = 256


class WaitSlots:
    """Bounds the waits on approval requests one process runs at once: per agent (as many as it
    may have pending requests, ``approvals.max_pending``: identical calls join one request, so
    without this bound one agent could start any number of waits, each polling the store) and in
    all. Used from one event loop: no lock."""

    def __init__(self, per_agent: int, total: int = MAX_WAITERS) -> None:
        self.per_agent = max(1, per_agent)
        self.total = total
        #: waits running now, per agent
        self.held: dict[str, int] = {}

    def acquire(self, agent: str) -> bool:
        """Take one slot for ``agent``; False (nothing taken) when it or the process is full."""
        held = self.held.get(agent, 0)
        if held >= self.per_agent or sum(self.held.values()) >= self.total:
            return False
        self.held[agent] = held + 1
        return True

    def release(self, agent: str) -> None:
        left = self.held.get(agent, 0) - 1
        if left > 0:
            self.held[agent] = left
        else:
            self.held.pop(agent, None)


class ApprovalState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True, slots=True)
class Approver:
    """A person who authenticated to decide requests: by a local account (``via="password"``) or
    an OpenID Connect provider (``via="oidc:<issuer>"``). Never an agent: agents authenticate with
    SVIDs, which no approval channel accepts."""

    email: Email
    groups: frozenset[str] = frozenset()
    via: str = "password"
    name: str = ""


def call_digest(agent: str, task: str, tool: str, args_canonical: bytes, policy_version: str) -> str:
    """The digest one request and its grant are bound to (hex SHA-256 over a length-prefixed
    encoding, so no two different calls share it).

    >>> a = call_digest("bot", "tsk_x", "pay.send", b'{"amount":1}', "v1")
    >>> a == call_digest("bot", "tsk_x", "pay.send", b'{"amount":2}', "v1")
    False
    """
    h = hashlib.sha256(b"proctor-approval-v1\0")
    for part in (agent.encode(), task.encode(), tool.encode(), args_canonical, policy_version.encode()):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


_OPS = ("eq", "in", "max", "min")


@dataclass(frozen=True)
class Narrowing:
    """What a scoped grant allows: per top-level argument, one constraint.

    ``{"recipient": {"eq": "DE89…"}, "amount": {"min": 0, "max": 1000}}`` — this recipient, from 0
    up to 1,000 (``min`` and ``max`` combine into a range; a ``max`` alone has no floor).
    ``eq`` compares canonical JSON values, ``in`` takes a list of them, ``max``/``min`` take
    numbers and reject a non-number argument. An argument the narrowing does not name may take
    any value: the approver names what matters. An empty narrowing is refused (it would be a
    blanket approval)."""

    constraints: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Any) -> Narrowing:
        if not isinstance(raw, Mapping) or not raw:
            raise ValidationError(
                'a narrowing names at least one argument and its constraint, e.g. {"amount": {"max": 1000}}',
                field="narrowing",
            )
        out: dict[str, dict[str, Any]] = {}
        for arg, cons in raw.items():
            if not isinstance(arg, str) or not arg or len(arg) > 128:
                raise ValidationError(
                    f"invalid argument name in narrowing `{str(arg)[:80]}`", field="narrowing"
                )
            if not isinstance(cons, Mapping) or not cons:
                raise ValidationError(
                    f"narrowing of `{arg}`: give one of {', '.join(_OPS)} (or both min and max)",
                    field="narrowing",
                )
            if len(cons) > 1 and set(cons) != {"min", "max"}:
                raise ValidationError(
                    f"narrowing of `{arg}`: only `min` and `max` combine (a range)", field="narrowing"
                )
            for op, value in cons.items():
                if op not in _OPS:
                    raise ValidationError(
                        f"narrowing of `{arg}`: unknown constraint `{str(op)[:40]}`", field="narrowing"
                    )
                if op in ("max", "min") and not _is_number(value):
                    raise ValidationError(f"narrowing of `{arg}`: `{op}` takes a number", field="narrowing")
                if op == "in" and (not isinstance(value, list) or not value or len(value) > 100):
                    raise ValidationError(
                        f"narrowing of `{arg}`: `in` takes a list of 1-100 values", field="narrowing"
                    )
            if len(cons) == 2 and cons["min"] > cons["max"]:
                raise ValidationError(f"narrowing of `{arg}`: `min` is above `max`", field="narrowing")
            out[arg] = dict(cons)
        return cls(out)

    def allows(self, args: Mapping[str, Any]) -> str | None:
        """None when ``args`` stay inside the narrowing, else why not (for the decision's reasons)."""
        for arg, cons in self.constraints.items():
            if arg not in args:
                return f"argument `{arg}` is missing"
            have = args[arg]
            for op, want in cons.items():
                if (why := _violates(arg, op, want, have)) is not None:
                    return why
        return None

    def to_dict(self) -> dict[str, Any]:
        return {k: dict(v) for k, v in self.constraints.items()}

    def redacted(self) -> dict[str, Any]:
        """The narrowing as the audit log keeps it: ``eq``/``in`` values are argument values (a
        recipient, a message), so only their digests; ``max``/``min`` are the approver's limits."""
        out: dict[str, Any] = {}
        for arg, cons in self.constraints.items():
            out[arg] = {}
            for op, v in cons.items():
                if op == "eq":
                    out[arg]["eq"] = _value_digest(v)
                elif op == "in":
                    out[arg]["in"] = [_value_digest(x) for x in v]
                else:
                    out[arg][op] = v
        return out

    def describe(self, *, redact: bool = False) -> str:
        """For people: ``account = "acct-1", amount ≤ 500``; ``redact`` leaves out the
        ``eq``/``in`` values (text that ends in the audit log)."""
        words = {"eq": "=", "in": "in", "max": "≤", "min": "≥"}
        parts = []
        for arg, cons in self.constraints.items():
            for op, v in sorted(cons.items(), key=lambda kv: kv[0] != "min"):
                if redact and op == "eq":
                    parts.append(f"{arg} = the approved value")
                elif redact and op == "in":
                    parts.append(f"{arg} in {len(v)} approved values")
                else:
                    parts.append(f"{arg} {words[op]} {canonical_json(v).decode()[:80]}")
        return ", ".join(parts)


def _violates(arg: str, op: str, want: Any, have: Any) -> str | None:
    if op == "eq" and canonical_json(have) != canonical_json(want):
        return f"argument `{arg}` differs from the approved value"
    if op == "in" and canonical_json(have) not in {canonical_json(v) for v in want}:
        return f"argument `{arg}` is not one of the approved values"
    if op in ("max", "min"):
        if not _is_number(have):
            return f"argument `{arg}` is not a number"
        if op == "max" and have > want:
            return f"argument `{arg}` is above the approved maximum {want}"
        if op == "min" and have < want:
            return f"argument `{arg}` is below the approved minimum {want}"
    return None


def _value_digest(v: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(v)).hexdigest()


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class ApprovalRequest:
    """One held call waiting for (or decided by) a person. The arguments are not here: they are
    stored encrypted with the workspace's secrets key and shown only to approvers
    (``Approvals.view``)."""

    id: ApprovalId
    state: ApprovalState
    agent: AgentName
    task: TaskId
    tool: ToolName
    effects: tuple[str, ...]
    digest: str
    args_digest: str
    policy_version: str
    policies: tuple[str, ...]
    reasons: tuple[str, ...]
    #: who must decide: ``owner`` or group names, each of which the approver must satisfy
    approvers: tuple[str, ...]
    four_eyes: bool
    owner: Email | None
    requester: Email | None
    created_at: float
    expires_at: float
    attempts: int = 1
    decision_id: str | None = None
    decided_at: float | None = None
    decided_by: Email | None = None
    decided_via: str | None = None
    reason: str | None = None
    narrowing: Narrowing | None = None
    grant: str | None = None
    used_at: float | None = None
    used_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "state": self.state.value,
            "agent": str(self.agent),
            "task": str(self.task),
            "tool": str(self.tool),
            "effects": list(self.effects),
            "digest": self.digest,
            "args_digest": self.args_digest,
            "policy_version": self.policy_version,
            "policies": list(self.policies),
            "reasons": list(self.reasons),
            "approvers": list(self.approvers),
            "four_eyes": self.four_eyes,
            "owner": self.owner,
            "requester": self.requester,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "attempts": self.attempts,
            "decision_id": self.decision_id,
            "decided_at": self.decided_at,
            "decided_by": self.decided_by,
            "decided_via": self.decided_via,
            "reason": self.reason,
            "narrowing": None if self.narrowing is None else self.narrowing.to_dict(),
            "used_at": self.used_at,
            "used_by": self.used_by,
        }
