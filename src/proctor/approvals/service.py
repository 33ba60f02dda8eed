"""``Approvals``: the queue of held calls, the people who decide them, and the grants they give.

Contract (transports — CLI, HTTP API, web pages, MCP gateway — use only these methods):

- ``check(agent, task, tool, args, decision, now)`` is the pipeline's approval stage, run when
  the policy answered ``approval_required``: it redeems a grant that covers this exact call (a
  single-use grant is consumed atomically; a scoped grant is checked against its narrowing) and
  returns an ``allow``; otherwise it files (or joins, when an identical one is pending) a request
  and returns ``approval_required`` naming it (``Decision.approval_id``). Beyond the per-agent
  cap of pending requests it returns a deny. Never raises: an error is a deny.
- ``get``/``list`` read requests; ``view(id, approver)`` adds what a person needs to judge the
  call (decrypted arguments with secrets masked and long values folded, the task's purpose and
  requester, recent calls, what is unusual) and requires that the person may decide it.
- ``approve(id, approver, reason, narrowing=None)`` / ``deny(id, approver, reason)`` record a
  person's decision; ``may_decide(request, approver)`` says why not, or None.
- ``wait(id, timeout_s)`` (async) returns the request once it is no longer pending, or as it is
  when the time runs out.
- ``subscribe(callback)``: called with each new request (webhooks).

Every grant is a JWS signed by the workspace's approval key ring and verified on every use, with
its binding (digest, task, tool, policy version, narrowing) read from the signed claims, never
from the row: a row edited in the database, a grant of another workspace or a forged signature
allows nothing. See ``docs/adr/0022-approvals.md``.
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import json
import logging
import math
import re
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from proctor.approvals.model import (
    ApprovalRequest,
    ApprovalState,
    Approver,
    Narrowing,
    call_digest,
)
from proctor.audit.decisions import args_digest
from proctor.audit.late import LateRecords
from proctor.audit.log import AuditEntry, AuditLog
from proctor.canonical import canonical_json
from proctor.clock import Clock
from proctor.config import Settings
from proctor.credentials.detect import SECRET_PREFIXES
from proctor.credentials.secrets import SecretStore
from proctor.errors import (
    ApprovalCapReached,
    ApprovalNotPending,
    ApproverNotAllowed,
    GrantInvalid,
    IdentityError,
    ProctorError,
    UnknownApproval,
    ValidationError,
)
from proctor.identity.keys import SigningKeys
from proctor.policy.active import Policies
from proctor.policy.engine import Decision, deny
from proctor.store.base import AgentRecord, ApprovalRecord, AuditQuery, Store, TaskRecord, ToolRecord
from proctor.types import AgentName, ApprovalId, Email, TaskId, Verdict

__all__ = ["GRANT_AUDIENCE", "MAX_REASON", "ApprovalView", "Approvals", "ArgLine"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: the audience of every grant: no other verifier in Proctor accepts it, and it accepts nothing else
GRANT_AUDIENCE = "proctor:approval-grant"
MAX_REASON = 2000
_FOLD = 240
#: rounds of "redeem, else file" in one approval stage: a round ends early only when a grant for
#: this very call was approved between its two steps
_REDEEM_ROUNDS = 3
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|api[_-]?key|authori[sz]ation|cookie|private[_-]?key|credential", re.I
)


@dataclass(frozen=True, slots=True)
class ArgLine:
    """One argument as an approver sees it: its name, its value as text (folded when long, masked
    when it looks like a credential) and why it was changed, if it was."""

    name: str
    text: str
    folded: int = 0
    masked: bool = False
    #: where the value came from (the flow stage's provenance, docs/adr/0025): "from intent",
    #: "from a trusted output: crm.lookup", "ONLY from untrusted content: mail.read", "from
    #: nowhere"; a nested value's path first (``to[]: …``); empty when the call was not traced
    origin: str = ""


@dataclass(frozen=True)
class ApprovalView:
    """What a person sees to judge a request."""

    request: ApprovalRequest
    args: tuple[ArgLine, ...]
    args_available: bool
    purpose: str
    requester: str | None
    owner: str | None
    tool_effect: str
    tool_description: str
    recent_calls: tuple[dict[str, Any], ...]
    unusual: tuple[str, ...]
    waited_s: float
    may_decide: str | None
    #: the held call's provenance as its decision record keeps it (names and origins, never
    #: values: ``Provenance.to_record()``), or None when it was not traced
    provenance: dict[str, Any] | None = None
    #: the held call's chain of accountability (docs/adr/0032): ``{agent, task}`` records, the
    #: root task first and the held call's task last (one entry for a task nobody delegated)
    chain: tuple[dict[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": self.request.to_dict(),
            "chain": list(self.chain),
            "args": [dataclasses.asdict(a) for a in self.args],
            "args_available": self.args_available,
            "purpose": self.purpose,
            "requester": self.requester,
            "owner": self.owner,
            "tool_effect": self.tool_effect,
            "tool_description": self.tool_description,
            "recent_calls": list(self.recent_calls),
            "unusual": list(self.unusual),
            "waited_s": self.waited_s,
            "may_decide": self.may_decide is None,
            "why_not": self.may_decide,
            "provenance": self.provenance,
        }


def _loads(text: str | None, default: Any) -> Any:
    if text is None:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def to_request(rec: ApprovalRecord) -> ApprovalRequest:
    nar = _loads(rec.narrowing, None)
    return ApprovalRequest(
        id=rec.id,
        state=ApprovalState(rec.state),
        agent=rec.agent,
        task=rec.task_id,
        tool=rec.tool,
        effects=tuple(_loads(rec.effects, [])),
        digest=rec.digest,
        args_digest=rec.args_digest,
        policy_version=rec.policy_version,
        policies=tuple(_loads(rec.policies, [])),
        reasons=tuple(_loads(rec.reasons, [])),
        approvers=tuple(_loads(rec.approvers, [])),
        four_eyes=rec.four_eyes,
        owner=None if rec.owner is None else Email(rec.owner),
        requester=None if rec.requester is None else Email(rec.requester),
        created_at=rec.created_at,
        expires_at=rec.expires_at,
        attempts=rec.attempts,
        decision_id=rec.decision_id,
        decided_at=rec.decided_at,
        decided_by=None if rec.decided_by is None else Email(rec.decided_by),
        decided_via=rec.decided_via,
        reason=rec.reason,
        narrowing=None if not isinstance(nar, dict) else Narrowing({k: dict(v) for k, v in nar.items()}),
        grant=rec.grant_token,
        used_at=rec.used_at,
        used_by=rec.used_by,
    )


def _context(approval_id: str, digest: str) -> bytes:
    return f"approval\0{approval_id}\0{digest}".encode()


class Approvals:
    """The approval requests of one workspace."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        audit: AuditLog,
        keys: SigningKeys,
        policies: Policies,
        *,
        secrets: Callable[[], SecretStore | None],
        issuer: str,
    ) -> None:
        """``keys`` is the approval key ring (``USE_APPROVAL``); ``secrets`` opens the workspace
        secret store whose key seals the arguments (None without a workspace: then a key that
        lives only in this process seals them, and another process cannot show them)."""
        self.settings = settings
        self.store = store
        self.clock = clock
        self.audit = audit
        self.keys = keys
        self.policies = policies
        self.issuer = issuer
        self._secrets = secrets
        self._ephemeral: SecretStore | None = None
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[ApprovalRequest], None]] = []
        #: ``approval.expired`` records a failed write did not take: written late, never lost
        self._late = LateRecords(audit, "approvals", clock=clock)

    # -- the pipeline's stage ------------------------------------------------------------------------
    def check(
        self,
        agent: AgentRecord,
        task: TaskRecord,
        tool: ToolRecord,
        args: Mapping[str, Any],
        decision: Decision,
        now: float,
    ) -> Decision:
        """The approval stage for a call the policy answered ``approval_required`` (see the
        module's contract). Never raises."""
        if decision.verdict is not Verdict.APPROVAL_REQUIRED:
            return decision
        try:
            try:
                canon = canonical_json(args)
            except ValidationError:
                return self._deny(
                    decision,
                    "these arguments have no canonical form (an integer beyond 2**53, a lone surrogate),"
                    " so no approval can be bound to them: the call is denied",
                    "approval_unbindable",
                )
            digest = call_digest(agent.name, task.id, tool.name, canon, decision.policy_version)
            # read the grants, then file: a person's approval committed in between is handed
            # back by the filing (which never files a second request for an approved call) and
            # redeemed here; each grant is tried once, so this ends
            tried: set[str] = set()
            for _ in range(_REDEEM_ROUNDS):
                granted = self._redeem(agent, task, tool, args, digest, decision, now, tried)
                if granted is not None:
                    return granted
                filed = self._file(agent, task, tool, args, canon, digest, decision, now, tried)
                if filed is not None:
                    return filed
            # approvals kept landing (or every one was refused): filed without looking again
            filed = self._file(agent, task, tool, args, canon, digest, decision, now, None)
            assert filed is not None
            return filed
        except ApprovalCapReached as exc:
            return self._deny(decision, exc.message, exc.code)
        except ProctorError as exc:
            log.error("approval stage: %s", exc.message)
            return self._deny(decision, f"the approval could not be checked: {exc.message}", exc.code)
        except Exception as exc:  # fail closed
            log.exception("approval stage failed")
            return self._deny(
                decision, "the approval could not be checked: the call is denied", type(exc).__name__
            )

    def _deny(self, decision: Decision, why: str, code: str) -> Decision:
        d = deny(why, decision.policy_version, errors=(code,))
        return dataclasses.replace(d, decision_id=decision.decision_id, policies=decision.policies)

    def _verify_grant(self, rec: ApprovalRecord, now: float) -> dict[str, Any]:
        """The grant's signed claims, checked against the row they sit in; :class:`GrantInvalid`
        (and an ``approval.grant_refused`` record) otherwise."""
        why: str | None = None
        claims: dict[str, Any] = {}
        if not rec.grant_token:
            why = "the approved request carries no grant"
        else:
            try:
                claims = self.keys.verify_claims(rec.grant_token, GRANT_AUDIENCE, now)
            except IdentityError as exc:
                why = f"the grant's signature or lifetime does not hold ({exc.code})"
            else:
                if claims.get("iss") != self.issuer:
                    why = "the grant was issued by another workspace"
                elif claims.get("sub") != rec.id:
                    why = "the grant belongs to another request"
                elif (
                    claims.get("task") != rec.task_id
                    or claims.get("agent") != rec.agent
                    or claims.get("tool") != rec.tool
                ):
                    why = "the grant is bound to another call"
        if why is not None:
            self._record_refused(rec, why)
            raise GrantInvalid(why, approval=rec.id)
        return claims

    def _record_refused(self, rec: ApprovalRecord, why: str) -> None:
        try:
            self.audit.append(
                "approval.grant_refused",
                {"approval_id": rec.id, "why": why, "digest": rec.digest},
                agent=rec.agent,
                task=rec.task_id,
                tool=rec.tool,
            )
        except Exception:
            log.exception("could not record a refused grant")

    def _redeem(
        self,
        agent: AgentRecord,
        task: TaskRecord,
        tool: ToolRecord,
        args: Mapping[str, Any],
        digest: str,
        decision: Decision,
        now: float,
        tried: set[str],
    ) -> Decision | None:
        """An ``allow`` on a grant that covers this call (consumed when single-use), or None.
        Every grant looked at is added to ``tried``, and one already in it is passed over."""
        for rec in self.store.approved_for(digest):
            if rec.id in tried:
                continue
            tried.add(rec.id)
            try:
                claims = self._verify_grant(rec, now)
            except GrantInvalid:
                continue
            if (
                claims.get("kind") != "single"
                or claims.get("dig") != digest
                or claims.get("pv") != decision.policy_version
            ):
                self._record_refused(rec, "the grant is bound to another call or policy version")
                continue
            # relaxed: the decision's record, committed next and waited for, makes it power-safe
            used = self.store.use_approval(rec.id, now, str(decision.decision_id), durable=False)
            if used is None:
                continue  # another call consumed it first: a grant runs one call
            self.audit.defer(  # committed with the decision's own record, before the caller hears
                "approval.used",
                {"approval_id": rec.id, "digest": digest, "grant": "single", "approved_by": rec.decided_by},
                agent=agent.name,
                task=task.id,
                tool=tool.name,
                decision_id=str(decision.decision_id),
            )
            return self._allowed(decision, rec, "its single-use grant")
        for rec in self.store.scoped_grants(task.id, tool.name):
            if rec.id in tried:
                continue
            tried.add(rec.id)
            try:
                claims = self._verify_grant(rec, now)
            except GrantInvalid:
                continue
            if claims.get("kind") != "scoped" or claims.get("pv") != decision.policy_version:
                continue
            # the grant stands in only for the approvals its approver gave: a call that also needs
            # another group (or four eyes) is filed for them, however well it fits the narrowing
            ps = self.policies.engine.policy_set
            if ps.version != decision.policy_version:
                continue
            need, need_four_eyes = _required(ps, decision)
            granted_by = claims.get("apv")
            if (
                not isinstance(granted_by, list)
                or not set(need or ["owner"]) <= set(granted_by)
                or (need_four_eyes and claims.get("fe") is not True)
            ):
                continue
            seen = claims.get("keys")
            if not isinstance(seen, list) or not set(args) <= set(seen):
                continue
            try:
                narrowing = Narrowing.parse(claims.get("nar"))
            except ValidationError:
                self._record_refused(rec, "the grant's narrowing is not valid")
                continue
            if narrowing.allows(args) is None:
                return self._allowed(decision, rec, f"its scoped grant ({narrowing.describe(redact=True)})")
        return None

    def _allowed(self, decision: Decision, rec: ApprovalRecord, what: str) -> Decision:
        return dataclasses.replace(
            decision,
            verdict=Verdict.ALLOW,
            reasons=(
                *decision.reasons,
                f"approved by {rec.decided_by} ({rec.id}): {what}",
            ),
            approval_id=rec.id,
            cached=False,
        )

    def _file(
        self,
        agent: AgentRecord,
        task: TaskRecord,
        tool: ToolRecord,
        args: Mapping[str, Any],
        canon: bytes,
        digest: str,
        decision: Decision,
        now: float,
        tried: set[str] | None,
    ) -> Decision | None:
        """File (or join) the request for this call: ``approval_required`` naming it. None when,
        with ``tried`` given, the store hands back a grant for this very call approved since the
        caller looked (not in ``tried``): the caller redeems it."""
        ps = self.policies.engine.policy_set
        if ps.version != decision.policy_version:
            return self._deny(decision, "the policy changed while deciding: retry the call", "policy_changed")
        approvers, four_eyes = _required(ps, decision)
        approval_id = ApprovalId.new()
        sealer = self._sealer()
        key_id, nonce, ciphertext = sealer.seal(_context(approval_id, digest), canon)
        expires = min(now + self.settings.approval_ttl_s, task.deadline)
        rec = ApprovalRecord(
            id=approval_id,
            state=ApprovalState.PENDING.value,
            agent=agent.name,
            task_id=task.id,
            tool=tool.name,
            effects=json.dumps([tool.effect]),
            digest=digest,
            args_digest=args_digest(args) or "",
            policy_version=decision.policy_version,
            policies=json.dumps(list(decision.policies)),
            reasons=json.dumps(list(decision.reasons)),
            approvers=json.dumps(approvers or ["owner"]),
            four_eyes=four_eyes,
            owner=str(agent.owner),
            requester=str(task.requested_by),
            key_id=key_id,
            nonce=nonce,
            ciphertext=ciphertext,
            created_at=now,
            expires_at=expires,
            decision_id=str(decision.decision_id),
        )
        stored = self.store.add_approval(
            rec, max_pending=self.settings.approval_max_pending, now=now, durable=False, passed_grants=tried
        )
        if stored.state == ApprovalState.APPROVED.value and stored.id != approval_id:
            return None  # approved meanwhile: redeemed by the caller, not filed again
        request = to_request(stored)
        if stored.id == approval_id:
            self.audit.defer(  # committed with the decision's own record, before the caller hears
                "approval.requested",
                {
                    "approval_id": approval_id,
                    "digest": digest,
                    "args_digest": rec.args_digest,
                    "approvers": list(request.approvers),
                    "four_eyes": four_eyes,
                    "policies": list(decision.policies),
                    "policy_version": decision.policy_version,
                    "expires_at": expires,
                },
                agent=agent.name,
                task=task.id,
                tool=tool.name,
                decision_id=str(decision.decision_id),
            )
            for callback in list(self._subscribers):
                try:
                    callback(request)
                except Exception:
                    log.exception("an approval subscriber failed")
        who = " and ".join(request.approvers)
        waiting = (
            f"waiting for approval {request.id} by {who}{' (four eyes)' if request.four_eyes else ''};"
            f" the identical call runs once it is approved (the request expires in"
            f" {max(0, round(request.expires_at - now))} s)"
        )
        return dataclasses.replace(decision, reasons=(*decision.reasons, waiting), approval_id=request.id)

    def _sealer(self) -> SecretStore:
        sealer = None
        try:
            sealer = self._secrets()
        except ValidationError:
            sealer = None
        if sealer is not None:
            return sealer
        with self._lock:
            if self._ephemeral is None:
                import os

                from proctor.store.base import SecretKeyRecord

                class _Mem:
                    """A store that only holds the key check (for a key that lives in this process)."""

                    def ensure_secret_key(self, candidate: SecretKeyRecord) -> SecretKeyRecord:
                        return candidate

                self._ephemeral = SecretStore(_Mem(), os.urandom(32), now=self.clock.now())  # type: ignore[arg-type]
            return self._ephemeral

    # -- reading ---------------------------------------------------------------------------------------
    def get(self, approval_id: str) -> ApprovalRequest:
        rec = self.store.get_approval(ApprovalId(approval_id))
        if rec is None:
            raise UnknownApproval(f"unknown approval request `{approval_id}`", approval=approval_id)
        return to_request(rec)

    def list(
        self,
        *,
        states: Sequence[ApprovalState | str] = (),
        agent: str | None = None,
        task: str | None = None,
        limit: int = 100,
    ) -> list[ApprovalRequest]:
        """Requests, newest first. A pending request past its expiry is shown ``expired``."""
        now = self.clock.now()
        recs = self.store.list_approvals(
            states=[ApprovalState(s).value for s in states],
            agent=None if agent is None else AgentName(agent),
            task_id=None if task is None else TaskId(task),
            limit=limit,
        )
        return [_as_of(to_request(r), now) for r in recs]

    def pending(self, limit: int = 200) -> builtins.list[ApprovalRequest]:
        """The queue: pending, unexpired requests, oldest first."""
        now = self.clock.now()
        reqs = [
            r
            for r in self.list(states=[ApprovalState.PENDING], limit=limit)
            if r.state is ApprovalState.PENDING and r.expires_at > now
        ]
        return sorted(reqs, key=lambda r: r.created_at)

    def arguments(self, request: ApprovalRequest) -> Mapping[str, Any] | None:
        """The request's arguments, decrypted (None when they cannot be: the key was rotated, or
        the request was filed by a process without a workspace)."""
        rec = self.store.get_approval(request.id)
        if rec is None:
            return None
        try:
            sealer = self._sealer()
            raw = sealer.unseal(rec.key_id, rec.nonce, rec.ciphertext, _context(rec.id, rec.digest))
            value = json.loads(raw)
        except (ProctorError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def view(self, approval_id: str, approver: Approver | None) -> ApprovalView:
        """What a person sees to judge ``approval_id``. ``approver`` None (an operator's read, the
        admin API) shows everything but says nobody was checked; a person who may not decide the
        request gets :class:`ApproverNotAllowed`."""
        request = _as_of(self.get(approval_id), self.clock.now())
        why_not = None if approver is None else self.may_decide(request, approver)
        if approver is not None and why_not is not None and not _decided_by(request, approver):
            # the arguments are for the people who may decide (and the one who did), decided or not
            raise ApproverNotAllowed(why_not, approval=approval_id)
        args = self.arguments(request)
        task = self.store.get_task(request.task)
        tool = self.store.get_tool(request.tool)
        recent: list[dict[str, Any]] = []
        try:
            rows = self.store.search_audit(
                AuditQuery(task=str(request.task), kind="decision", limit=10, newest_first=True)
            )
            for row in rows:
                recent.append(
                    {"ts": row.ts, "tool": row.tool, "decision": row.decision, "decision_id": row.decision_id}
                )
        except Exception:
            log.exception("could not read the task's recent calls")
        provenance = self._provenance(request)
        return ApprovalView(
            request=request,
            args=_with_origins(_display(args), provenance) if args is not None else (),
            args_available=args is not None,
            purpose="" if task is None else task.purpose,
            requester=None if task is None else str(task.requested_by),
            owner=request.owner,
            tool_effect=request.effects[0] if request.effects else ("" if tool is None else tool.effect),
            tool_description="" if tool is None else tool.description,
            recent_calls=tuple(recent),
            unusual=self._unusual(request, args),
            waited_s=max(0.0, (request.decided_at or self.clock.now()) - request.created_at),
            may_decide=why_not,
            provenance=provenance,
            chain=() if task is None else tuple({"agent": a, "task": t} for a, t in task.chain_pairs()),
        )

    def _provenance(self, request: ApprovalRequest) -> dict[str, Any] | None:
        """The held call's provenance, from its decision record (the audited truth; names and
        origins only), or None."""
        if not request.decision_id:
            return None
        try:
            for row in self.store.get_audit_by_decision(request.decision_id):
                body = json.loads(bytes(row.body))
                if not isinstance(body, dict) or body.get("kind") != "decision":
                    continue
                found = body.get("provenance")
                if found is None and isinstance(body.get("fields"), dict):
                    found = body["fields"].get("provenance")
                if isinstance(found, dict):
                    return found
        except Exception:
            log.exception("could not read the held call's provenance")
        return None

    def _unusual(self, request: ApprovalRequest, args: Mapping[str, Any] | None) -> tuple[str, ...]:
        """What sets this request apart from the ones approved before for this agent and tool."""
        if args is None:
            return ()
        seen: dict[str, list[Any]] = {}
        earlier = [
            r
            for r in self.store.list_approvals(
                states=["approved", "used"], agent=request.agent, tool=request.tool, limit=50
            )
            if r.id != request.id
        ]
        for rec in earlier:
            prior = self.arguments(to_request(rec))
            for k, v in (prior or {}).items():
                seen.setdefault(k, []).append(v)
        if not earlier:
            return (f"the first request of `{request.tool}` for agent `{request.agent}`",)
        out: list[str] = []
        for k, v in args.items():
            before = seen.get(k, [])
            if isinstance(v, int | float) and not isinstance(v, bool):
                nums = [x for x in before if isinstance(x, int | float) and not isinstance(x, bool)]
                if nums and v > max(nums):
                    out.append(
                        f"`{k}` = {v} is higher than any approved before for this agent (at most {max(nums)})"
                    )
                    continue
            if isinstance(v, str | int | float | bool) and canonical_json(v) not in {
                canonical_json(x) for x in before
            }:
                shown = _mask(k, v) if isinstance(v, str) else str(v)
                out.append(f"`{k}` = {shown[:80]} was never approved before for this agent")
        return tuple(out)

    # -- deciding ---------------------------------------------------------------------------------------
    def may_decide(self, request: ApprovalRequest, approver: Approver) -> str | None:
        """None when ``approver`` may decide ``request``, else why not."""
        email = approver.email.lower()
        if request.four_eyes and request.requester is not None and email == request.requester.lower():
            return (
                f"{approver.email} requested this task, and the policy asks for four eyes:"
                " another person must decide"
            )
        for need in request.approvers:
            if need == "owner":
                if request.owner is None or email != request.owner.lower():
                    return f"only the agent's owner ({request.owner}) may decide this request"
            elif need not in approver.groups:
                return f"only a member of `{need}` may decide this request"
        return None

    def approve(
        self,
        approval_id: str,
        approver: Approver,
        reason: str,
        narrowing: Narrowing | Mapping[str, Any] | None = None,
    ) -> ApprovalRequest:
        """Approve: a single-use grant for the held call, or with ``narrowing`` a scoped grant for
        the rest of the task (never past its deadline)."""
        return self._decide(approval_id, approver, reason, approve=True, narrowing=narrowing)

    def deny(self, approval_id: str, approver: Approver, reason: str) -> ApprovalRequest:
        return self._decide(approval_id, approver, reason, approve=False, narrowing=None)

    def _decide(
        self,
        approval_id: str,
        approver: Approver,
        reason: str,
        *,
        approve: bool,
        narrowing: Narrowing | Mapping[str, Any] | None,
    ) -> ApprovalRequest:
        if not isinstance(approver, Approver):
            raise ApproverNotAllowed("only an authenticated person can decide a request")
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(
                "give a reason: it is kept in the audit log with the decision", field="reason"
            )
        if len(reason) > MAX_REASON:
            raise ValidationError(f"the reason is longer than {MAX_REASON} characters", field="reason")
        now = self.clock.now()
        request = _as_of(self.get(approval_id), now)
        if request.state is not ApprovalState.PENDING:
            raise ApprovalNotPending(
                f"request `{approval_id}` is {request.state.value}", approval=approval_id
            )
        why_not = self.may_decide(request, approver)
        if why_not is not None:
            self.audit.append(
                "approval.refused",
                {
                    "approval_id": request.id,
                    "approver": str(approver.email),
                    "via": approver.via,
                    "why": why_not,
                },
                agent=request.agent,
                task=request.task,
                tool=request.tool,
            )
            raise ApproverNotAllowed(why_not, approval=approval_id)
        nar: Narrowing | None = None
        args: Mapping[str, Any] = {}
        if approve and narrowing is not None:
            nar = narrowing if isinstance(narrowing, Narrowing) else Narrowing.parse(narrowing)
            held_args = self.arguments(request)
            if held_args is None:
                raise ValidationError(
                    "the held call's arguments cannot be read, so no narrowing can be checked against them"
                )
            args = held_args
            if (miss := nar.allows(args)) is not None:
                raise ValidationError(
                    f"the narrowing does not cover the call being approved: {miss}", field="narrowing"
                )
        grant: str | None = None
        expires = request.expires_at
        if approve:
            task = self.store.get_task(request.task)
            if task is None or not task.is_live(now):
                raise ApprovalNotPending(
                    f"the task of request `{approval_id}` has ended", approval=approval_id
                )
            expires = (
                task.deadline if nar is not None else min(now + self.settings.approval_ttl_s, task.deadline)
            )
            claims = {
                "aud": GRANT_AUDIENCE,
                "iss": self.issuer,
                "sub": str(request.id),
                "kind": "single" if nar is None else "scoped",
                "dig": request.digest,
                "pv": request.policy_version,
                "agent": str(request.agent),
                "task": str(request.task),
                "tool": str(request.tool),
                "nar": None if nar is None else nar.to_dict(),
                # a scoped grant covers the arguments the approver saw: one not in the held call
                # (a `cc`, an `override`) was never judged and is not covered
                "keys": None if nar is None else sorted(args),
                "apv": list(request.approvers),
                "fe": request.four_eyes,
                "by": str(approver.email),
            }
            grant = self.keys.sign_claims(claims, now, max(1.0, math.ceil(expires - now)))
        decided = self.store.decide_approval(
            request.id,
            state="approved" if approve else "denied",
            now=now,
            decided_by=str(approver.email),
            decided_via=approver.via,
            reason=reason,
            narrowing=None if nar is None else json.dumps(nar.to_dict(), sort_keys=True),
            grant_token=grant,
            expires_at=expires,
        )
        if decided is None:
            raise ApprovalNotPending(
                f"request `{approval_id}` was decided or expired meanwhile", approval=approval_id
            )
        self.audit.append(
            "approval.approved" if approve else "approval.denied",
            {
                "approval_id": request.id,
                "digest": request.digest,
                "args_digest": request.args_digest,
                "approver": str(approver.email),
                "via": approver.via,
                "reason": reason,
                "narrowing": None if nar is None else nar.redacted(),
                "grant_expires_at": expires if approve else None,
                "waited_s": round(now - request.created_at, 3),
            },
            agent=request.agent,
            task=request.task,
            tool=request.tool,
            decision_id=request.decision_id,
        )
        return to_request(decided)

    # -- upkeep and waiting ----------------------------------------------------------------------------
    def flush_late(self) -> None:
        """Write the records an earlier sweep could not (at close: never dropped with memory)."""
        self._late.flush()

    def sweep(self, now: float | None = None) -> builtins.list[ApprovalRequest]:
        """Expire what ran out (pending requests and unused grants), with one record each."""
        now = self.clock.now() if now is None else now
        out = [to_request(r) for r in self.store.expire_approvals(now)]
        entries = [
            AuditEntry(
                "approval.expired",
                {"approval_id": r.id, "digest": r.digest, "decided_by": r.decided_by},
                agent=r.agent,
                task=r.task,
                tool=r.tool,
            )
            for r in out
        ]
        try:
            # with those an earlier sweep could not write (carried, marked `recorded_late`): the
            # requests are expired in the store already, so their records are written, late if need be
            self._late.write(entries)
        except Exception:
            log.exception("could not record %d expired approvals yet: carried to the next sweep", len(out))
        return out

    def subscribe(self, callback: Callable[[ApprovalRequest], None]) -> None:
        self._subscribers.append(callback)

    async def wait(
        self,
        approval_id: str,
        timeout_s: float,
        *,
        run: Callable[..., Awaitable[Any]] | None = None,
        poll_s: float = 0.25,
    ) -> ApprovalRequest:
        """The request once it is no longer pending, or as it is when ``timeout_s`` runs out.
        ``run(fn, *args)`` runs a store read off the event loop (the gateway passes its store
        guard's ``run``); by default a worker thread."""

        async def read() -> ApprovalRequest:
            if run is not None:
                got: ApprovalRequest = await run(self.get, approval_id)
                return got
            return await asyncio.to_thread(self.get, approval_id)

        deadline = self.clock.monotonic() + max(0.0, timeout_s)
        while True:
            request = _as_of(await read(), self.clock.now())
            if request.state is not ApprovalState.PENDING:
                return request
            left = deadline - self.clock.monotonic()
            if left <= 0:
                return request
            await asyncio.sleep(min(poll_s, left))


def _as_of(request: ApprovalRequest, now: float) -> ApprovalRequest:
    """A pending request or unused grant past its expiry is expired, swept or not."""
    if request.state in (ApprovalState.PENDING, ApprovalState.APPROVED) and now >= request.expires_at:
        return dataclasses.replace(request, state=ApprovalState.EXPIRED)
    return request


def _decided_by(request: ApprovalRequest, approver: Approver) -> bool:
    return request.decided_by is not None and request.decided_by.lower() == approver.email.lower()


def _required(ps: Any, decision: Decision) -> tuple[builtins.list[str], bool]:
    """Who must approve ``decision`` (``owner`` or group names; empty means the owner) and whether
    its policies ask for four eyes."""
    approvers = sorted(
        {a.strip() for p in decision.policies if (v := ps.approval_of(p)) for a in v.split(",") if a.strip()}
    )
    return approvers, any(_four_eyes(ps.sources.get(p)) for p in decision.policies)


def _four_eyes(src: Any) -> bool:
    if src is None:
        return False
    ann = src.annotations
    if "four_eyes" in ann:
        return str(ann["four_eyes"] or "true").lower() not in ("false", "no", "0")
    return False


def _mask(key: str, value: str) -> str:
    if _SECRET_KEY.search(key) or (len(value) >= 16 and value.startswith(SECRET_PREFIXES)):
        return f"•••• ({len(value)} characters, masked)"
    return value


def _mask_nested(key: str, value: Any) -> Any:
    """``value`` with every string inside it masked as :func:`_mask` masks a top-level one (under
    the name of the object key that holds it, or of the argument for a list's items)."""
    if isinstance(value, str):
        return _mask(key, value)
    if isinstance(value, dict):
        return {k: _mask_nested(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_nested(key, v) for v in value]
    return value


_ORIGIN_RANK = {"intent": 0, "trusted": 1, "untrusted": 2, "none": 3}


def describe_origin(origin: str, sources: Sequence[str]) -> str:
    """An argument's origin in words, for the person deciding."""
    tools = ", ".join(s for s in sources if s != "intent" and not s.startswith("param:"))
    params = ", ".join(s.removeprefix("param:") for s in sources if s.startswith("param:"))
    if origin == "intent":
        return "from intent" + (f" (parameter {params})" if params else "")
    if origin == "trusted":
        return "from a trusted output" + (f": {tools}" if tools else "")
    if origin == "untrusted":
        return "ONLY from untrusted content" + (f": {tools}" if tools else "")
    return "from nowhere"


def _with_origins(lines: tuple[ArgLine, ...], provenance: Mapping[str, Any] | None) -> tuple[ArgLine, ...]:
    """Each argument with where its value came from (nested values by path, worst first)."""
    if not provenance or not isinstance(provenance.get("args"), list):
        return lines
    by_top: dict[str, list[Mapping[str, Any]]] = {}
    for a in provenance["args"]:
        if not isinstance(a, Mapping) or not isinstance(a.get("arg"), str):
            continue
        top = re.split(r"[.\[]", a["arg"], maxsplit=1)[0]
        by_top.setdefault(top, []).append(a)
    out: list[ArgLine] = []
    names = {line.name for line in lines}
    raw_steered = provenance.get("steered")
    steered = {str(x) for x in raw_steered} if isinstance(raw_steered, list) else set()
    if _ANSWERS in by_top and _ANSWERS not in names:
        # a 2026-07-28 retry's answers to the upstream's input requests (proctor.flow.responses):
        # traced like arguments, their values never kept, so named here with their origins only
        lines = (*lines, ArgLine(name=_ANSWERS, text=_ANSWERS_TEXT))
    for line in lines:
        found = sorted(by_top.get(line.name, ()), key=lambda a: -_ORIGIN_RANK.get(str(a.get("origin")), 3))
        parts: list[str] = []
        for a in found:
            words = describe_origin(str(a.get("origin")), [str(x) for x in a.get("sources") or ()])
            path = str(a["arg"])
            text = words if path == line.name else f"{path}: {words}"
            if a.get("destination"):
                text += " (destination)"
            if path in steered:
                # docs/adr/0025: found in an output that gave the agent orders ("Note for claims
                # automation: set the reserve to ...")
                text += ", IN TEXT THAT GAVE THE AGENT ORDERS"
            if text not in parts:
                parts.append(text)
        out.append(dataclasses.replace(line, origin="; ".join(parts)) if parts else line)
    return tuple(out)


#: the provenance paths of a retry's answers to an upstream's input requests start with this
_ANSWERS = "inputResponses"
_ANSWERS_TEXT = "(the agent's answers to the upstream's questions on this retry: values not kept)"


def _display(args: Mapping[str, Any]) -> tuple[ArgLine, ...]:
    out: list[ArgLine] = []
    for k in sorted(args):
        v = args[k]
        masked = False
        if isinstance(v, str):
            text = _mask(k, v)
            masked = text is not v
        else:
            shown = _mask_nested(k, v)
            masked = shown != v
            text = json.dumps(
                shown, ensure_ascii=False, sort_keys=True, indent=1 if isinstance(v, dict | list) else None
            )
            if _SECRET_KEY.search(k):
                text, masked = f"•••• (masked: `{k}` names a credential)", True
        folded = 0
        if len(text) > _FOLD:
            folded = len(text) - _FOLD
            text = text[:_FOLD]
        out.append(ArgLine(k, text, folded, masked))
    return tuple(out)
