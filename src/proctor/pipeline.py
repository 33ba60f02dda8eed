"""The path of one call, stage by stage; the only module that knows them all.

    identity → task → tool → arguments → flow facts → decision (Cedar policy + task scope) → approval → budget
      → record (the decision is durable in the audit log) → credential → upstream → completion

:class:`Pipeline` is handed its stages by ``Proctor`` (it imports no transport and not the app):
``Agents`` (SVIDs), ``Tasks`` (task tokens), :class:`~proctor.snapshot.StateCache` (the records of
one store epoch), ``Policies`` (the engine), the kill switch, the audit log and the credential
stage, ``Credentials.obtain``. The CLI and the HTTP API call :meth:`Pipeline.decide_call` (or its
asyncio forms). The stages after an allow, credential and upstream, run only in a transport that
reaches upstream tools: it implements :class:`Handoff` and calls :meth:`Pipeline.run`, obtaining
the task's credentials through :meth:`Pipeline.credential`. The MCP gateway's ``tools/call`` and
relayed methods do (``proctor.gateway.calls``); its fast path has :meth:`Pipeline.run` overlap the
decision's record with the upstream call (``overlap``, see :meth:`Pipeline.decide_and_record`).

Identity is checked once per call: a transport that verified the caller's SVID names the agent
(``CallInput.agent``) instead of handing the SVID over again, and one that also checked the
agent's status and the task token on the call's snapshot (the HTTP gateway) hands that over as an
:class:`Identity`, which the pipeline does not check again. What no transport checked is checked
here.

Fail closed: any exception in any stage becomes a deny with an audit record. A decision is in the
durable audit log before the caller receives it; if it cannot be written, the caller gets a deny.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from proctor.approvals.service import Approvals
from proctor.audit.decisions import (
    LAST_CHECKED,
    args_as_text,
    args_digest,
    args_json,
    decision_entry,
    fallback_entry,
    printable,
    tool_label,
)
from proctor.audit.log import AuditEntry, AuditLog
from proctor.audit.refusals import SUPPRESSED_KIND, RefusalLimiter, RefusalLimits, Suppressed
from proctor.clock import Clock
from proctor.credentials.broker import Credentials
from proctor.credentials.leases import Lease
from proctor.errors import (
    AgentSuspended,
    FlowFailed,
    PolicyStale,
    ProctorError,
    StoreError,
    TaskBudgetExhausted,
    TaskNotActive,
    TaskTokenInvalid,
    UnknownAgent,
    UnknownTask,
    UnknownTool,
    ValidationError,
)
from proctor.flow.model import NO_FACTS, FlowFacts
from proctor.flow.responses import with_answers
from proctor.flow.service import Flow
from proctor.identity.agents import Agents
from proctor.killswitch import KillSwitch
from proctor.policy.active import Policies
from proctor.policy.engine import CredentialRef, Decision, deny
from proctor.snapshot import Snapshot, StateCache
from proctor.store.base import AgentRecord, Store, TaskRecord, ToolRecord
from proctor.store.guard import StoreGuard
from proctor.tasks.service import Tasks
from proctor.types import AgentName, AgentStatus, TaskId, ToolName, Verdict

log = logging.getLogger(__name__)

MAX_ARGS_BYTES = 256 * 1024
MAX_ARGS_DEPTH = 32


@dataclass(frozen=True, slots=True)
class CallInput:
    """One attempted tool call as a transport received it."""

    tool: str
    args: Mapping[str, Any]
    svid: str | None = None
    task_token: str | None = None
    #: set instead of ``svid`` by a caller that verified the identity itself (the HTTP API, the
    #: gateway) or needs none (``proctor check``)
    agent: str | None = None
    task: str | None = None
    dry_run: bool = False
    source: str = "api"
    #: what the transport already checked of this request's identity (see :class:`Identity`)
    identity: Identity | None = None
    #: a 2026-07-28 retry continuing a multi-round-trip exchange: what its decision record says
    #: of that (proctor.gateway.mrtr; never a value the client sent), else None
    continuation: Mapping[str, Any] | None = None
    #: that retry's ``inputResponses`` as sent upstream (the client's answers to the upstream's
    #: input requests): traced by the flow stage like the arguments (``inputResponses.…`` paths,
    #: proctor.flow.responses), never recorded; None on a first round
    input_responses: Mapping[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling, as a transport found it when it checked this request's credentials: the
    agent, active in ``snap``, and the task its token names, bound to that agent. The token was
    verified on this request when ``token_until`` is set: until then (the token's expiry) the
    pipeline takes ``task_id`` as it is. A call decided on that same snapshot is not checked
    again; on any other snapshot the pipeline checks the call's own tokens."""

    agent: AgentRecord
    task_id: TaskId
    snap: Snapshot
    token_until: float = 0.0


def past_deadline_reason(task_id: TaskId, task: TaskRecord | None) -> str:
    """Why a call of a task past its deadline is refused, naming who delegated it (a delegated
    task's deadline is at most its parent's: docs/adr/0032)."""
    why = f"task `{task_id}` is past its deadline"
    if task is not None and len(task.chain) > 1:
        anc_agent, anc_id = task.chain[-2]
        why += f" (delegated from task `{anc_id}` of agent `{anc_agent}`)"
    return why


def _depth(value: Any, limit: int) -> int:
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if d > limit:
            return d
        if isinstance(v, Mapping):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list | tuple):
            stack.extend((x, d + 1) for x in v)
    return deepest


def check_args(args: Any) -> Mapping[str, Any]:
    """Bound and shape-check arguments before anything reads them: a JSON object of string keys,
    at most ``MAX_ARGS_DEPTH`` deep and ``MAX_ARGS_BYTES`` of compact UTF-8 JSON, valid Unicode."""
    LAST_CHECKED.pair = None  # whatever happens below, no earlier call's text stands for these
    if not isinstance(args, Mapping):
        raise ValidationError("tool arguments must be a JSON object")
    try:
        text = args_json(args, allow_nan=False)
    except (RecursionError, ValueError) as exc:
        # circular (ValueError) or deeper than the encoder follows: over the limit either way;
        # NaN and Infinity are a ValueError too, told apart below
        if _depth(args, MAX_ARGS_DEPTH) > MAX_ARGS_DEPTH:
            raise ValidationError(f"tool arguments are nested deeper than {MAX_ARGS_DEPTH} levels") from None
        if isinstance(exc, RecursionError):
            raise ValidationError("tool arguments are nested too deeply") from None
        raise ValidationError("tool arguments contain NaN or Infinity: not JSON numbers") from None
    except TypeError:
        raise ValidationError("tool arguments are not JSON: keys must be strings") from None
    # a value N levels deep (its innermost value counted, as _depth does) opens at least N - 1
    # brackets in its JSON, since every mapping and list is written as one (see _as_json; brackets
    # inside strings only add to the count): with fewer, it cannot be too deep and is not walked
    if text.count("{") + text.count("[") >= MAX_ARGS_DEPTH and _depth(args, MAX_ARGS_DEPTH) > MAX_ARGS_DEPTH:
        raise ValidationError(f"tool arguments are nested deeper than {MAX_ARGS_DEPTH} levels")
    try:
        size = len(text) if text.isascii() else len(text.encode())
    except UnicodeEncodeError:
        raise ValidationError("tool arguments contain a lone surrogate: not valid Unicode") from None
    if size > MAX_ARGS_BYTES:
        raise ValidationError(f"tool arguments are {size} bytes; the limit is {MAX_ARGS_BYTES}")
    LAST_CHECKED.pair = (args, text)
    return args


R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Handoff(Protocol[R_co]):
    """The stages after an allow, implemented by a transport that reaches upstream tools (the MCP
    gateway): the credential stage (each credential the upstream's configuration names, obtained
    for the task through :meth:`Pipeline.credential`: a lease owned by the task, injected into the
    task's upstream session and never shown to the agent), then the upstream (the call forwarded,
    within the upstream's timeout), then the completion record. Every failure of those stages is
    an answer to the agent (a tool error naming the decision), never an exception."""

    def forward(self, decision: Decision, recorded: Awaitable[Decision] | None) -> Awaitable[R_co]:
        """Obtain the credentials, call the upstream and record the completion of an allowed call.
        ``recorded`` is None when the decision is durable already; else (the call overlaps its
        record, see :meth:`Pipeline.decide_and_record`) it resolves once the record is durable, to
        a deny if it could not be written: the outcome must be withheld until it resolves."""
        ...

    def refuse(self, decision: Decision) -> R_co:
        """The answer to a call that may not go ahead (its decision is already recorded)."""
        ...


class Pipeline:
    """Runs the stages in order for one call. Handed its stages; the methods each call uses are
    bound once here, so a call pays for no lookup through them."""

    def __init__(
        self,
        *,
        agents: Agents,
        tasks: Tasks,
        state: StateCache,
        policies: Policies,
        credentials: Credentials,
        kills: KillSwitch,
        audit: AuditLog,
        store: Store,
        store_guard: StoreGuard,
        clock: Clock,
        log_arguments: bool = False,
        approvals: Approvals | None = None,
        flow: Flow | None = None,
        refusal_limits: RefusalLimits | None = None,
    ) -> None:
        self.agents = agents
        #: the decision records of calls made with an expired task token of a task past its
        #: deadline (``Tasks.expired_token_task``): at most ``burst`` per agent/task and window,
        #: then one summary (``audit.refusals_suppressed``), as refusals at the door are
        #: (:mod:`proctor.audit.refusals`; written at close by :meth:`write_summaries`)
        self.past_deadline = RefusalLimiter(clock, refusal_limits, refused="decision")
        #: the flow stage (labels, provenance, history: docs/adr/0025), or None: no flow facts
        self.flow = flow
        #: the approval stage (``Approvals.check``): redeems a grant or files a request
        self._approve = None if approvals is None else approvals.check
        self.tasks = tasks
        self.state = state
        self.policies = policies
        self.audit = audit
        #: whether a decision's record holds the arguments themselves (``audit.log_arguments``)
        self.log_arguments = log_arguments
        self._obtain = credentials.obtain
        self._now = clock.now
        self._verify_svid = agents.verify_svid
        self._verify_task_token = tasks.verify_token
        self._agent = state.agent
        self._task = state.task
        self._tool = state.tool
        #: one look at the kill file per decision: the agent, its task and its task's lineage
        self._kill_sets = kills.sets
        self._consume_call = store.consume_call
        self._fresh_task = store.get_task
        #: store calls from the event loop: bounded, off the loop, failing fast while it is down
        self.store_guard = store_guard
        #: per agent: held from a counted call's flow facts to its history event (see _decide_lazy)
        self._history_locks: dict[str, threading.Lock] = {}
        self._history_locks_guard = threading.Lock()

    def credential(
        self,
        task_id: TaskId,
        agent: AgentName,
        ref: CredentialRef,
        spec: Mapping[str, Any],
        *,
        effects: Iterable[str] = (),
    ) -> tuple[Lease, dict[str, Any]]:
        """The credential stage (see :class:`Handoff`): decide ``use_credential`` for the task and,
        if allowed, lease the credential to it (``Credentials.obtain``). A deny raises
        :class:`~proctor.errors.CredentialDenied`; the decision is audited either way."""
        return self._obtain(task_id, agent, ref, spec, effects=effects)

    def decision_entry(
        self,
        call: CallInput,
        decision: Decision,
        agent: AgentRecord | None,
        task: TaskRecord | None,
        tool: str,
        *,
        budget_used: bool,
        facts: FlowFacts | None = None,
    ) -> AuditEntry:
        """The audit record of one decision (see :func:`proctor.audit.decisions.decision_entry`)."""
        return decision_entry(
            call,
            decision,
            agent,
            task,
            tool,
            budget_used=budget_used,
            log_arguments=self.log_arguments,
            facts=facts,
        )

    def write_summaries(self, *, final: bool = False) -> None:
        """Record the rationed refusals of the windows that have closed (``final``: of all, at
        close; see :attr:`past_deadline`). Never raises."""
        self._write_summaries(self.past_deadline.drain() if final else self.past_deadline.due())

    def _write_summaries(self, summaries: tuple[Suppressed, ...]) -> None:
        for s in summaries:
            try:
                self.audit.append(SUPPRESSED_KIND, s.fields())
            except Exception:
                log.exception("could not audit suppressed refusals")

    async def _write_summaries_async(self, summaries: tuple[Suppressed, ...]) -> None:
        for s in summaries:
            try:
                await self.audit.append_async(SUPPRESSED_KIND, s.fields())
            except Exception:
                log.exception("could not audit suppressed refusals")

    def _ration(self, make_entry: Callable[[], AuditEntry]) -> tuple[bool, tuple[Suppressed, ...]]:
        """Whether a decision's record is written (a rationed refusal's may not be: see
        :attr:`past_deadline`), and the summaries to write first."""
        if not isinstance(make_entry, _Rationed):
            return True, ()
        verdict = self.past_deadline.admit(make_entry.key)
        return verdict.record, verdict.summaries

    def decide_call(self, call: CallInput) -> Decision:
        """Decide one call; the decision is in the durable audit log before this returns (a
        rationed refusal's may be counted instead: see :attr:`past_deadline`)."""
        decision, make_entry = self._decide_lazy(call)
        record, summaries = self._ration(make_entry)
        self._write_summaries(summaries)
        if not record:
            return decision
        decision, entry = self._entry_or_deny(call, decision, make_entry)
        try:
            self.audit.append_entry(entry)
        except ValidationError:  # the record cannot be canonical JSON: record a plain deny instead
            decision, entry = self._fallback(call, decision)
            try:
                self.audit.append_entry(entry)
            except Exception as exc:
                return _unrecorded(decision, exc)
        except Exception as exc:
            return _unrecorded(decision, exc)
        return decision

    async def decide_call_async(
        self, call: CallInput, *, alone: bool = False, snap: Snapshot | None = None
    ) -> Decision:
        """:meth:`decide_call` for asyncio transports: awaits the durable audit write, which is
        group-committed with every other request in flight instead of parking a thread.
        ``alone`` says no other request is in flight on this loop (see ``AuditLog.append_async``);
        ``snap`` is the request's snapshot, taken when it arrived (see ``StateCache.snapshot``)."""
        decision, make_entry = await self._decide_lazy_async(call, snap)
        record, summaries = self._ration(make_entry)
        await self._write_summaries_async(summaries)
        if not record:
            return decision
        decision, entry = self._entry_or_deny(call, decision, make_entry)
        return await self._record_async(call, decision, entry, inline=alone and self.store_guard.down is None)

    async def _decide_lazy_async(
        self, call: CallInput, snap: Snapshot | None
    ) -> tuple[Decision, Callable[[], AuditEntry]]:
        """:meth:`_decide_lazy` without blocking the loop: on the loop when the snapshot already
        holds every record the call needs and no budget is counted (nothing to ask the store),
        else on a store worker thread, bounded by ``store_timeout`` (docs/adr/0019)."""
        agent = task = None
        try:
            try:
                return self._decide_lazy(call, snap, offline=True)
            except _NeedsBudget as need:  # decided: only the budget unit is left to the store
                agent, task = need.agent, need.task
                consumed = await self.store_guard.run(self._consume, task)
                decision = need.decision
                if not consumed:
                    exc = TaskBudgetExhausted(f"task `{task.id}` has used all {task.max_calls} of its calls")
                    decision = deny(exc.message, self.policies.engine.version, errors=(exc.code,))
                return decision, functools.partial(
                    self.decision_entry,
                    call,
                    decision,
                    agent,
                    task,
                    tool_label(call.tool),
                    budget_used=consumed,
                    facts=need.facts,
                )
            except _NeedsStore:
                pass
            return await self.store_guard.run(self._decide_lazy, call, snap)
        except StoreError as exc:  # the store is down or did not answer in time: fail closed
            log.error("store error while deciding: %s", exc.message)
            decision = deny(
                "the store could not be read: the call is denied",
                self.policies.engine.version,
                errors=(exc.code,),
            )
            return decision, functools.partial(
                self.decision_entry, call, decision, agent, task, tool_label(call.tool), budget_used=False
            )
        except Exception as exc:  # fail closed
            decision = deny(
                "error while deciding: the call is denied",
                self.policies.engine.version,
                errors=(type(exc).__name__,),
            )
            return decision, functools.partial(
                self.decision_entry, call, decision, agent, task, tool_label(call.tool), budget_used=False
            )

    async def run(
        self,
        call: CallInput,
        handoff: Handoff[R],
        *,
        snap: Snapshot | None = None,
        alone: bool = False,
        overlap: bool = False,
        on_blocked: Callable[[float], None] | None = None,
    ) -> R:
        """Every stage of one call: decide and record it, then hand an allowed call off to the
        credential and upstream stages (``handoff.forward``), or answer ``handoff.refuse``.

        ``overlap``: an allow is handed off while its record is being made durable (see
        :meth:`decide_and_record`, which ``alone`` and ``on_blocked`` are for); anything else is
        refused once its record is durable. Otherwise the record is durable before the hand-off
        (see :meth:`decide_call_async`)."""
        if overlap:
            decision, recorded = await self.decide_and_record_async(
                call, snap, alone=alone, on_blocked=on_blocked
            )
            if decision.verdict is Verdict.ALLOW:
                return await handoff.forward(decision, recorded)
            decision = await recorded
        else:
            decision = await self.decide_call_async(call, alone=alone, snap=snap)
        if decision.verdict is not Verdict.ALLOW:
            return handoff.refuse(decision)
        return await handoff.forward(decision, None)

    async def _record_async(
        self, call: CallInput, decision: Decision, entry: AuditEntry, *, inline: bool = False
    ) -> Decision:
        """Make ``entry`` durable; the decision to act on (a deny if it could not be)."""
        try:
            await self.audit.append_entry_async(entry, inline=inline)
        except ValidationError:  # the record cannot be canonical JSON: record a plain deny instead
            decision, entry = self._fallback(call, decision)
            try:
                await self.audit.append_entry_async(entry, inline=inline)
            except Exception as exc:
                return _unrecorded(decision, exc)
        except Exception as exc:
            return _unrecorded(decision, exc)
        return decision

    def decide_and_record(
        self,
        call: CallInput,
        snap: Snapshot | None = None,
        *,
        alone: bool = False,
        on_blocked: Callable[[float], None] | None = None,
    ) -> tuple[Decision, asyncio.Task[Decision]]:
        """Decide now; make the record durable in the background. The task resolves to the
        decision once it is durable, or to a deny if it could not be written: a transport that
        acts before awaiting it must withhold the outcome until it resolves.

        The task runs at the transport's next suspension (its upstream call is on its way by
        then). ``alone`` (nothing else in flight on this loop) lets it commit right there, on this
        thread, while the upstream works: handing the record to the writer thread and being woken
        back costs two thread wake-ups, which on a small machine slow the upstream's own work too.
        ``on_blocked`` is told how long such a commit held the loop, so that a transport's timeout
        on the upstream does not count the gateway's own pause against the upstream.
        """
        decision, make_entry = self._decide_lazy(call, snap)
        return decision, self._spawn_record(call, decision, make_entry, alone, on_blocked)

    async def decide_and_record_async(
        self,
        call: CallInput,
        snap: Snapshot | None = None,
        *,
        alone: bool = False,
        on_blocked: Callable[[float], None] | None = None,
    ) -> tuple[Decision, asyncio.Task[Decision]]:
        """:meth:`decide_and_record` that never blocks the loop on the store (see
        :meth:`_decide_lazy_async`)."""
        decision, make_entry = await self._decide_lazy_async(call, snap)
        alone = alone and self.store_guard.down is None
        return decision, self._spawn_record(call, decision, make_entry, alone, on_blocked)

    def _spawn_record(
        self,
        call: CallInput,
        decision: Decision,
        make_entry: Callable[[], AuditEntry],
        alone: bool,
        on_blocked: Callable[[float], None] | None,
    ) -> asyncio.Task[Decision]:
        async def record() -> Decision:
            admitted, summaries = self._ration(make_entry)
            await self._write_summaries_async(summaries)
            if not admitted:
                return decision  # a rationed refusal, counted (see past_deadline)
            # built here, while the transport waits on the upstream, not before it calls it
            recorded, entry = self._entry_or_deny(call, decision, make_entry)
            if not alone:
                return await self._record_async(call, recorded, entry)
            loop = asyncio.get_running_loop()
            start = loop.time()
            try:
                return await self._record_async(call, recorded, entry, inline=True)
            finally:
                if on_blocked is not None:
                    try:
                        on_blocked(loop.time() - start)
                    except Exception:  # a hint for the caller's timeout: never the record's outcome
                        log.exception("on_blocked failed")

        return asyncio.ensure_future(record())

    def _decide(self, call: CallInput, snap: Snapshot | None = None) -> tuple[Decision, AuditEntry]:
        decision, make_entry = self._decide_lazy(call, snap)
        return self._entry_or_deny(call, decision, make_entry)

    def _decide_lazy(
        self, call: CallInput, snap: Snapshot | None = None, *, offline: bool = False
    ) -> tuple[Decision, Callable[[], AuditEntry]]:
        """Decide ``call``. ``offline``: raise :class:`_NeedsStore` (before any effect) rather than
        ask the store for anything: a record ``snap`` lacks, or a budget unit."""
        now = self._now()
        agent: AgentRecord | None = None
        task: TaskRecord | None = None
        decision: Decision
        consumed = False
        facts: FlowFacts = NO_FACTS
        counted: threading.Lock | None = None
        tree: threading.Lock | None = None
        rationed: str | None = None  # a refusal whose record is rationed: its agent/task
        try:
            if snap is None:
                if offline:
                    raise _NeedsStore
                snap = self.state.snapshot()  # one epoch read: agent, task and tool come from the same state
            # identity ----------------------------------------------------------------
            ident = call.identity
            if ident is not None and ident.snap is not snap:
                ident = None  # checked on another snapshot: checked again here
            if ident is not None:
                agent = ident.agent  # found active on this snapshot by the transport
            else:
                if call.svid is not None:
                    claims = self._verify_svid(call.svid)
                    agent_name = claims.agent
                elif call.agent is not None:
                    agent_name = AgentName(call.agent)
                else:
                    raise UnknownAgent("no agent identity was presented")
                agent = _peek(snap.agents, agent_name) if offline else self._agent(agent_name, snap)
                if agent is None:
                    raise UnknownAgent(f"unknown agent `{agent_name}`")
                if agent.status is not AgentStatus.ACTIVE:
                    raise AgentSuspended(f"agent `{agent.name}` is suspended")
            killed_agents, killed_tasks = self._kill_sets()
            if agent.name in killed_agents:
                raise AgentSuspended(
                    f"agent `{agent.name}` is suspended (not yet recorded: the store was unavailable)"
                )
            # task ----------------------------------------------------------------------
            if ident is not None and now < ident.token_until:
                task_id = ident.task_id  # verified by the transport on this request
            elif call.task_token is not None:
                try:
                    task_id = self._verify_task_token(call.task_token, agent)
                except TaskTokenInvalid:
                    # a token that only expired, of a task past its deadline: refused as that
                    # task's (its reason, its chain on the record), never let act
                    # its task read as any call's is (from the snapshot; never from the store
                    # on the event loop: ``_NeedsStore`` sends the call to a store worker)
                    held = snap
                    ended = self.tasks.expired_token_task(
                        call.task_token,
                        agent,
                        (lambda t: _peek(held.tasks, t)) if offline else (lambda t: self._task(t, held)),
                    )
                    if ended is None:
                        raise
                    task = _peek(snap.tasks, ended) if offline else self._task(ended, snap)
                    raise _PastDeadline(past_deadline_reason(ended, task), f"{agent.name}/{ended}") from None
            elif call.task is not None:
                task_id = TaskId(call.task)
            else:
                raise TaskTokenInvalid("no task token was presented: every call belongs to a task")
            task = _peek(snap.tasks, task_id) if offline else self._task(task_id, snap)
            if task is None:
                raise UnknownTask(f"unknown task `{task_id}`")
            if task.agent != agent.name:
                raise TaskTokenInvalid(f"task `{task.id}` belongs to another agent")
            if not task.is_live(now):
                state = "expired" if task.state.value == "active" else task.state.value
                raise TaskNotActive(f"task `{task.id}` is {state}")
            if task.id in killed_tasks:
                raise TaskNotActive(
                    f"task `{task.id}` has ended (not yet recorded: the store was unavailable)"
                )
            if task.chain:
                # a child never outlives its parent (docs/adr/0032): whatever the cascade has
                # recorded yet, a task whose ancestor has ended acts no more
                for anc_agent, anc_id in task.chain[:-1]:
                    # read from the snapshot first: the ids were checked when the chain was stored
                    if anc_id in snap.tasks:
                        anc = snap.tasks[anc_id]
                    else:
                        anc = _peek(snap.tasks, anc_id) if offline else self._task(TaskId(anc_id), snap)
                    if anc is None or not anc.is_live(now) or anc_id in killed_tasks:
                        raise TaskNotActive(
                            f"task `{task.id}` was delegated from task `{anc_id}`, which is no longer"
                            " active: a delegated task ends with its parent"
                        )
                    # nor with a delegating agent suspended (its cascade not run or not recorded)
                    if anc_agent in snap.agents:
                        by = snap.agents[anc_agent]
                    else:
                        by = (
                            _peek(snap.agents, anc_agent)
                            if offline
                            else self._agent(AgentName(anc_agent), snap)
                        )
                    if by is None or by.status is not AgentStatus.ACTIVE or anc_agent in killed_agents:
                        raise TaskNotActive(
                            f"task `{task.id}` was delegated by agent `{anc_agent}`, which is suspended:"
                            " a delegated task ends with its delegating agent"
                        )
            # tool ----------------------------------------------------------------------
            tool_name = ToolName(call.tool)
            tool: ToolRecord | None = _peek(snap.tools, tool_name) if offline else self._tool(tool_name, snap)
            if tool is None:
                raise UnknownTool(f"unknown tool `{tool_name}`")
            args = check_args(call.args)
            # decision --------------------------------------------------------------------
            if snap.policy_stale is not None:
                raise PolicyStale(snap.policy_stale)
            # flow facts: what the task read, where the arguments came from, its history
            # (docs/adr/0025); a plain read no active policy reads flow data for needs none
            flow = self.flow
            if flow is not None and not call.dry_run and flow.counts() and flow.counted(tool):
                # a call its counters count: its facts, decision and history event are one step
                # per agent in this process, or parallel calls (an LLM's parallel tool calls) each
                # decide on a history without the others and all pass a spend or rate limit
                if offline:
                    raise _NeedsStore
                counted = self._history_lock(str(agent.name))
                counted.acquire()
                # and per task tree: a tree shares its task counters (docs/adr/0032), and its
                # tasks are each another agent's (always after the agent's lock: no deadlock)
                tree = self._history_lock(_TREE_LOCK + str(task.root_id))
                tree.acquire()
            if flow is not None and flow.needed(tool):
                if offline:
                    raise _NeedsStore
                try:
                    facts = flow.facts(agent, task, tool, args, now, responses=call.input_responses)
                except StoreError:
                    raise
                except ProctorError as exc:
                    raise FlowFailed(f"the flow stage failed: {exc.message}") from exc
                except Exception as exc:  # fail closed: a deny naming the stage
                    log.exception("the flow stage failed")
                    raise FlowFailed(
                        f"the flow stage could not judge this call ({type(exc).__name__}): the call is denied"
                    ) from exc
            decision = self.policies.engine.decide(agent, task, tool, args, now, facts=facts)
            # approval: a grant that covers this very call lets it run; else a request is filed
            if (
                decision.verdict is Verdict.APPROVAL_REQUIRED
                and self._approve is not None
                and not call.dry_run
            ):
                if offline:
                    raise _NeedsStore
                if task.max_calls is not None:
                    # a grant must not be spent on a call the budget then refuses (read fresh:
                    # the snapshot's count may be older)
                    fresh = self._fresh_task(task.id)
                    if fresh is not None and fresh.calls_used >= fresh.max_calls:  # type: ignore[operator]
                        raise TaskBudgetExhausted(
                            f"task `{task.id}` has used all {task.max_calls} of its calls"
                        )
                # a retry's answers to the upstream are bound into the approval (their digest):
                # a grant for one answer never runs a retry that answers otherwise
                decision = self._approve(
                    agent, task, tool, with_answers(args, call.input_responses), decision, now
                )
            # budget: counted only for calls that go ahead (a held call spends none)
            if decision.verdict is Verdict.ALLOW and task.max_calls is not None and not call.dry_run:
                if offline:
                    raise _NeedsBudget(decision, agent, task, facts)
                if not self._consume(task):
                    raise TaskBudgetExhausted(f"task `{task.id}` has used all {task.max_calls} of its calls")
                consumed = True
            # history (docs/adr/0025 §4): an allowed call that matches a counter is counted now,
            # before it runs, under the agent's history lock (see above): whoever runs it (the
            # gateway, an in-process caller), concurrent calls then never decide on a history
            # that lacks each other; no wait for the disk: the durable decision record, committed
            # next, makes it power-safe (as the approval's use above)
            if counted is not None and decision.verdict is Verdict.ALLOW:
                flow.record_call(agent, task, tool, args, now, durable=False)  # type: ignore[union-attr]
            # a call denied or held: its arguments are kept for `proctor trace export` (off the
            # response path; a failure is logged, never the decision's outcome)
            if flow is not None and decision.verdict is not Verdict.ALLOW and not call.dry_run:
                _keep_decided(flow, task, tool, args, decision, now)
            # credential and upstream: see Handoff
        except _NeedsStore:
            raise
        except StoreError as exc:
            self.store_guard.observe(exc)
            # the detail (a path, a server address, the driver's text) is for the operator's log
            log.error("store error while deciding: %s", exc.message)
            decision = deny(
                "the store could not be read: the call is denied",
                self.policies.engine.version,
                errors=(exc.code,),
            )
        except ProctorError as exc:
            decision = deny(exc.message, self.policies.engine.version, errors=(exc.code,))
            if isinstance(exc, _PastDeadline):
                rationed = exc.key
        except Exception as exc:  # fail closed
            decision = deny(
                "error while deciding: the call is denied",
                self.policies.engine.version,
                errors=(type(exc).__name__,),
            )
        finally:
            if tree is not None:
                tree.release()
            if counted is not None:
                counted.release()
        make_entry = functools.partial(
            self.decision_entry,
            call,
            decision,
            agent,
            task,
            tool_label(call.tool),
            budget_used=consumed,
            facts=facts,
        )
        return decision, make_entry if rationed is None else _Rationed(make_entry, rationed)

    def _consume(self, task: TaskRecord) -> bool:
        """Count one call against the task's budget and, for a delegated task, against each of its
        ancestors' (docs/adr/0032: a child's calls count against its parent's remaining budget).
        False when one of them has none left (a unit already counted stays counted: fail closed)."""
        if not self._consume_call(task.id):
            return False
        return all(self._consume_call(TaskId(anc)) for _a, anc in reversed(task.chain[:-1]))

    def _history_lock(self, agent: str) -> threading.Lock:
        """The lock that makes one agent's (or one task tree's) counted calls decide one at a time
        (in this process)."""
        with self._history_locks_guard:
            lock = self._history_locks.get(agent)
            if lock is None:
                if len(self._history_locks) >= 4096:
                    # drop the idle ones (a held lock stays: its holder releases that very object)
                    for name in [n for n, lk in self._history_locks.items() if not lk.locked()]:
                        del self._history_locks[name]
                lock = self._history_locks[agent] = threading.Lock()
            return lock

    def _entry_or_deny(
        self, call: CallInput, decision: Decision, make_entry: Callable[[], AuditEntry]
    ) -> tuple[Decision, AuditEntry]:
        """The decision's audit record; should building it fail, a deny and its record (see
        :meth:`_fallback`), so the pipeline never raises."""
        try:
            return decision, make_entry()
        except Exception as exc:
            log.error("could not build the audit record of a decision: %s", type(exc).__name__)
            return self._fallback(call, decision)

    def _fallback(self, call: CallInput, decision: Decision) -> tuple[Decision, AuditEntry]:
        """A deny, and a record of it that any log can hold (see
        :func:`proctor.audit.decisions.fallback_entry`)."""
        return fallback_entry(call, decision, self.policies.engine.version)


class _PastDeadline(TaskNotActive):
    """A call with an expired task token of a task past its deadline (ADR 0032, amendment):
    refused as that task's, its record rationed per ``key`` (agent/task)."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


class _Rationed:
    """A decision's record builder whose record is rationed (see ``Pipeline.past_deadline``)."""

    __slots__ = ("key", "make")

    def __init__(self, make: Callable[[], AuditEntry], key: str) -> None:
        self.make, self.key = make, key

    def __call__(self) -> AuditEntry:
        return self.make()


class _NeedsStore(Exception):
    """Deciding offline (see ``Pipeline._decide_lazy``) needs the store."""


class _NeedsBudget(_NeedsStore):
    """Deciding offline went ahead as far as the budget unit, which only the store can count."""

    def __init__(
        self, decision: Decision, agent: AgentRecord, task: TaskRecord, facts: FlowFacts = NO_FACTS
    ) -> None:
        super().__init__()
        self.decision, self.agent, self.task, self.facts = decision, agent, task, facts


def _keep_decided(
    flow: Flow, task: TaskRecord, tool: ToolRecord, args: Mapping[str, Any], decision: Decision, now: float
) -> None:
    """Keep a denied or held call's arguments (``Flow.keep_decided``); never raises: keeping
    them is for a later what-if replay, never part of the decision."""
    try:
        flow.keep_decided(
            task, tool, args, verdict=decision.verdict.value, decision_id=str(decision.decision_id), now=now
        )
    except Exception as exc:
        log.error(
            "flow: the arguments of the %s call %s were not kept: %s",
            decision.verdict.value,
            decision.decision_id,
            type(exc).__name__,
        )


_MISSING: Any = object()


#: prefixes a task tree's key among the history locks' (no agent name holds a NUL)
_TREE_LOCK = "\x00tree:"


def _peek(cache: Mapping[str, Any], key: str) -> Any:
    """A record the snapshot holds (None included: known absent), else :class:`_NeedsStore`."""
    rec = cache.get(key, _MISSING)
    if rec is _MISSING:
        raise _NeedsStore
    return rec


def _unrecorded(decision: Decision, exc: Exception) -> Decision:
    """Not durable, so not acknowledged: the caller gets a deny naming the cause."""
    code = exc.code if isinstance(exc, ProctorError) else "audit_unavailable"
    log.error("audit write failed, call denied: %s", code)
    return deny(
        "the audit log could not record this decision: the call is denied",
        decision.policy_version,
        errors=(code,),
    )


__all__ = [
    "MAX_ARGS_BYTES",
    "MAX_ARGS_DEPTH",
    "CallInput",
    "Handoff",
    "Identity",
    "Pipeline",
    "args_as_text",
    "args_digest",
    "check_args",
    "printable",
    "tool_label",
]
