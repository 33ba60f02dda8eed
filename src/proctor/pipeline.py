"""The path of one call: identity → task → decision → (approval) → (credential) → (upstream) → audit.

This is the only module that knows every stage. It knows no transport: the CLI, the HTTP API and
(later) the MCP gateway and the SDK all call :meth:`Pipeline.decide_call`.

Fail closed: any exception in any stage becomes a deny with an audit record. A decision is in the
durable audit log before the caller receives it; if it cannot be written, the caller gets a deny.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proctor.errors import (
    AgentSuspended,
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
from proctor.policy.engine import Decision, deny
from proctor.store.base import AgentRecord, TaskRecord, ToolRecord
from proctor.types import AgentName, AgentStatus, TaskId, ToolName, Verdict

if TYPE_CHECKING:
    from proctor.app import Proctor, Snapshot
    from proctor.audit.log import AuditEntry

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
    #: set by trusted local callers (``proctor check``) instead of tokens
    agent: str | None = None
    task: str | None = None
    dry_run: bool = False
    source: str = "api"


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


def printable(value: object, limit: int = 200) -> str:
    """``value`` as text any audit record can hold, at most ``limit`` characters: never raises (a
    lone surrogate becomes U+FFFD; a value whose ``str`` fails is shown by its type)."""
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    text = text[:limit]
    return text if text.isascii() else text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def tool_label(tool: object) -> str:
    """The tool name as the audit record shows it, whatever the caller sent."""
    return printable(tool)


def _as_json(value: object) -> object:
    """What the encoder writes for a value JSON has no form for: a mapping that is not a dict as an
    object (so its nesting shows in the text, see check_args), anything else as its ``str``."""
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def _encoder(*, allow_nan: bool, ensure_ascii: bool) -> json.JSONEncoder:
    return json.JSONEncoder(
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=ensure_ascii,
        default=_as_json,
        allow_nan=allow_nan,
    )


#: built once: ``json.dumps`` with options builds an encoder per call, a good part of its cost
_ENCODERS = {
    (nan, ascii_): _encoder(allow_nan=nan, ensure_ascii=ascii_)
    for nan in (True, False)
    for ascii_ in (True, False)
}


def _args_json(args: Mapping[str, Any], *, allow_nan: bool = True, ensure_ascii: bool = False) -> str:
    """The arguments as compact JSON with sorted keys (the form their digest is taken over)."""
    return _ENCODERS[allow_nan, ensure_ascii].encode(args)


def args_as_text(args: Mapping[str, Any]) -> str | None:
    """The arguments as ASCII JSON text (lone surrogates as escapes, integers exact), for an audit
    record whose arguments canonical JSON cannot hold as values; None if not even that."""
    try:
        return _args_json(args, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        return None


def args_digest(args: Mapping[str, Any]) -> str | None:
    """SHA-256 of the arguments' canonical form (for the audit record when arguments are not logged).

    Never raises: the deny of a call whose arguments cannot be serialised (nested too deeply,
    circular, keys that do not sort) is recorded with no digest. A lone surrogate, which JSON text
    may carry in an escape but UTF-8 cannot, is hashed as its surrogate code point's bytes.
    """
    last = _last_checked.pair
    if last is not None and last[0] is args:
        raw = last[1]  # the text check_args made of these very arguments
    else:
        try:
            raw = _args_json(args)
        except (TypeError, ValueError, RecursionError):
            return None
    return "sha256:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


#: the arguments check_args last passed and their JSON text, so the decision's record does not
#: serialise them a second time (compared by identity; one slot, replaced whole, so threads
#: sharing it can only miss, never pair one call's text with another's arguments)
class _LastChecked:
    __slots__ = ("pair",)

    def __init__(self) -> None:
        self.pair: tuple[Mapping[str, Any], str] | None = None


_last_checked = _LastChecked()


def check_args(args: Any) -> Mapping[str, Any]:
    """Bound and shape-check arguments before anything reads them: a JSON object of string keys,
    at most ``MAX_ARGS_DEPTH`` deep and ``MAX_ARGS_BYTES`` of compact UTF-8 JSON, valid Unicode."""
    _last_checked.pair = None  # whatever happens below, no earlier call's text stands for these
    if not isinstance(args, Mapping):
        raise ValidationError("tool arguments must be a JSON object")
    try:
        text = _args_json(args, allow_nan=False)
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
    _last_checked.pair = (args, text)
    return args


class Pipeline:
    """Runs the stages in order for one call."""

    def __init__(self, app: Proctor) -> None:
        self.app = app

    def decide_call(self, call: CallInput) -> Decision:
        """Decide one call; the decision is in the durable audit log before this returns."""
        decision, entry = self._decide(call)
        try:
            self.app.audit.append_entry(entry)
        except ValidationError:  # the record cannot be canonical JSON: record a plain deny instead
            decision, entry = _fallback(self.app, call, decision)
            try:
                self.app.audit.append_entry(entry)
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
        ``snap`` is the request's snapshot, taken when it arrived (see ``Proctor.snapshot``)."""
        decision, make_entry = await self._decide_lazy_async(call, snap)
        decision, entry = _entry_or_deny(self.app, call, decision, make_entry)
        return await self._record_async(
            call, decision, entry, inline=alone and self.app.store_guard.down is None
        )

    async def _decide_lazy_async(
        self, call: CallInput, snap: Snapshot | None
    ) -> tuple[Decision, Callable[[], AuditEntry]]:
        """:meth:`_decide_lazy` without blocking the loop: on the loop when the snapshot already
        holds every record the call needs and no budget is counted (nothing to ask the store),
        else on a store worker thread, bounded by ``store_timeout`` (docs/adr/0019)."""
        app = self.app
        agent = task = None
        try:
            try:
                return self._decide_lazy(call, snap, offline=True)
            except _NeedsBudget as need:  # decided: only the budget unit is left to the store
                agent, task = need.agent, need.task
                consumed = await app.store_guard.run(app.store.consume_call, task.id)
                decision = need.decision
                if not consumed:
                    exc = TaskBudgetExhausted(f"task `{task.id}` has used all {task.max_calls} of its calls")
                    decision = deny(exc.message, app.policy.version, errors=(exc.code,))
                return decision, functools.partial(
                    app.decision_entry,
                    call,
                    decision,
                    agent,
                    task,
                    tool_label(call.tool),
                    budget_used=consumed,
                )
            except _NeedsStore:
                pass
            return await app.store_guard.run(self._decide_lazy, call, snap)
        except StoreError as exc:  # the store is down or did not answer in time: fail closed
            log.error("store error while deciding: %s", exc.message)
            decision = deny(
                "the store could not be read: the call is denied", app.policy.version, errors=(exc.code,)
            )
            return decision, functools.partial(
                app.decision_entry, call, decision, agent, task, tool_label(call.tool), budget_used=False
            )
        except Exception as exc:  # fail closed
            decision = deny(
                "error while deciding: the call is denied", app.policy.version, errors=(type(exc).__name__,)
            )
            return decision, functools.partial(
                app.decision_entry, call, decision, agent, task, tool_label(call.tool), budget_used=False
            )

    async def _record_async(
        self, call: CallInput, decision: Decision, entry: AuditEntry, *, inline: bool = False
    ) -> Decision:
        """Make ``entry`` durable; the decision to act on (a deny if it could not be)."""
        try:
            await self.app.audit.append_entry_async(entry, inline=inline)
        except ValidationError:  # the record cannot be canonical JSON: record a plain deny instead
            decision, entry = _fallback(self.app, call, decision)
            try:
                await self.app.audit.append_entry_async(entry, inline=inline)
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
        alone = alone and self.app.store_guard.down is None
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
            # built here, while the transport waits on the upstream, not before it calls it
            recorded, entry = _entry_or_deny(self.app, call, decision, make_entry)
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
        return _entry_or_deny(self.app, call, decision, make_entry)

    def _decide_lazy(
        self, call: CallInput, snap: Snapshot | None = None, *, offline: bool = False
    ) -> tuple[Decision, Callable[[], AuditEntry]]:
        """Decide ``call``. ``offline``: raise :class:`_NeedsStore` (before any effect) rather than
        ask the store for anything: a record ``snap`` lacks, or a budget unit."""
        app = self.app
        now = app.clock.now()
        agent: AgentRecord | None = None
        task: TaskRecord | None = None
        decision: Decision
        consumed = False
        try:
            if snap is None:
                if offline:
                    raise _NeedsStore
                snap = app.snapshot()  # one epoch read: agent, task and tool come from the same state
            # identity ----------------------------------------------------------------
            if call.svid is not None:
                claims = app.verify_svid(call.svid)
                agent_name = claims.agent
            elif call.agent is not None:
                agent_name = AgentName(call.agent)
            else:
                raise UnknownAgent("no agent identity was presented")
            agent = _peek(snap.agents, agent_name) if offline else app.cached_agent(agent_name, snap)
            if agent is None:
                raise UnknownAgent(f"unknown agent `{agent_name}`")
            if agent.status is not AgentStatus.ACTIVE:
                raise AgentSuspended(f"agent `{agent.name}` is suspended")
            if app.kills.agent_killed(agent.name):
                raise AgentSuspended(
                    f"agent `{agent.name}` is suspended (not yet recorded: the store was unavailable)"
                )
            # task ----------------------------------------------------------------------
            if call.task_token is not None:
                task_id = app.verify_task_token(call.task_token, agent)
            elif call.task is not None:
                task_id = TaskId(call.task)
            else:
                raise TaskTokenInvalid("no task token was presented: every call belongs to a task")
            task = _peek(snap.tasks, task_id) if offline else app.cached_task(task_id, snap)
            if task is None:
                raise UnknownTask(f"unknown task `{task_id}`")
            if task.agent != agent.name:
                raise TaskTokenInvalid(f"task `{task.id}` belongs to another agent")
            if not task.is_live(now):
                state = "expired" if task.state.value == "active" else task.state.value
                raise TaskNotActive(f"task `{task.id}` is {state}")
            if app.kills.task_killed(task.id):
                raise TaskNotActive(
                    f"task `{task.id}` has ended (not yet recorded: the store was unavailable)"
                )
            # tool ----------------------------------------------------------------------
            tool_name = ToolName(call.tool)
            tool: ToolRecord | None = (
                _peek(snap.tools, tool_name) if offline else app.cached_tool(tool_name, snap)
            )
            if tool is None:
                raise UnknownTool(f"unknown tool `{tool_name}`")
            args = check_args(call.args)
            # decision --------------------------------------------------------------------
            if snap.policy_stale is not None:
                raise PolicyStale(snap.policy_stale)
            decision = app.policy.decide(agent, task, tool, args, now)
            # budget: counted only for calls that would go ahead
            if decision.verdict is not Verdict.DENY and task.max_calls is not None and not call.dry_run:
                if offline:
                    raise _NeedsBudget(decision, agent, task)
                if not app.store.consume_call(task.id):
                    raise TaskBudgetExhausted(f"task `{task.id}` has used all {task.max_calls} of its calls")
                consumed = True
            # approval, credential and upstream stages plug in here (later issues).
        except _NeedsStore:
            raise
        except StoreError as exc:
            app.store_guard.observe(exc)
            # the detail (a path, a server address, the driver's text) is for the operator's log
            log.error("store error while deciding: %s", exc.message)
            decision = deny(
                "the store could not be read: the call is denied", app.policy.version, errors=(exc.code,)
            )
        except ProctorError as exc:
            decision = deny(exc.message, app.policy.version, errors=(exc.code,))
        except Exception as exc:  # fail closed
            decision = deny(
                "error while deciding: the call is denied", app.policy.version, errors=(type(exc).__name__,)
            )
        return decision, functools.partial(
            app.decision_entry, call, decision, agent, task, tool_label(call.tool), budget_used=consumed
        )


class _NeedsStore(Exception):
    """Deciding offline (see ``Pipeline._decide_lazy``) needs the store."""


class _NeedsBudget(_NeedsStore):
    """Deciding offline went ahead as far as the budget unit, which only the store can count."""

    def __init__(self, decision: Decision, agent: AgentRecord, task: TaskRecord) -> None:
        super().__init__()
        self.decision, self.agent, self.task = decision, agent, task


_MISSING: Any = object()


def _peek(cache: Mapping[str, Any], key: str) -> Any:
    """A record the snapshot holds (None included: known absent), else :class:`_NeedsStore`."""
    rec = cache.get(key, _MISSING)
    if rec is _MISSING:
        raise _NeedsStore
    return rec


def _entry_or_deny(
    app: Proctor, call: CallInput, decision: Decision, make_entry: Callable[[], AuditEntry]
) -> tuple[Decision, AuditEntry]:
    """The decision's audit record; should building it fail, a deny and its record (see
    :func:`_fallback`), so the pipeline never raises."""
    try:
        return decision, make_entry()
    except Exception as exc:
        log.error("could not build the audit record of a decision: %s", type(exc).__name__)
        return _fallback(app, call, decision)


def _fallback(app: Proctor, call: CallInput, decision: Decision) -> tuple[Decision, AuditEntry]:
    """A deny, and a record of it that any log can hold, for a decision whose own record could not
    be built or written as canonical JSON (input quoted in a reason, a field no JSON can hold).

    Nothing the caller sent is in it but the tool's name, made printable; the reasons of a deny are
    kept (made printable) with their error codes, and an allow becomes a deny.
    """
    from proctor.audit.log import AuditEntry

    reasons = [printable(r, 500) for r in decision.reasons] if decision.verdict is Verdict.DENY else []
    codes = [e for e in decision.errors if isinstance(e, str) and e.isascii()][:8]
    denied = deny(
        "; ".join(
            [*reasons, "the decision's audit record could not be written as given: the call is denied"]
        ),
        app.policy.version,
        errors=(*codes, "audit_record_invalid"),
    )
    outcome = {k: v for k, v in denied.to_dict().items() if k not in ("decision", "decision_id")}
    return denied, AuditEntry(
        "decision",
        {"outcome": outcome},
        tool=tool_label(call.tool),
        decision=denied.verdict.value,
        decision_id=str(denied.decision_id),
    )


def _unrecorded(decision: Decision, exc: Exception) -> Decision:
    """Not durable, so not acknowledged: the caller gets a deny naming the cause."""
    code = exc.code if isinstance(exc, ProctorError) else "audit_unavailable"
    log.error("audit write failed, call denied: %s", code)
    return deny(
        "the audit log could not record this decision: the call is denied",
        decision.policy_version,
        errors=(code,),
    )
