"""``tools/call`` through the gateway: the one path of a call, and the one failure mapping.

The stages, in order (:meth:`Calls.call`):

1. **resolve** the exposed name to an upstream and its tool (:class:`~proctor.gateway.catalog.
   Catalog`; a name this process has not seen listed is resolved by listing the upstream, through
   the task's own session), register the tool and check its pin;
2. **decide** in Proctor's pipeline, with the identity the transport already verified
   (:func:`call_input`): :meth:`Pipeline.run <proctor.pipeline.Pipeline.run>`, handed stages 3
   to 5 as its ``Handoff`` (:class:`_Upstream`), so the pipeline orders every stage; the decision
   is durable before the upstream sees the call (or, under ``gateway.audit``, while a plain read
   is on its way: see :func:`overlaps`);
3. **credential**: the task's session with the upstream carries the leases obtained for it
   (:mod:`proctor.gateway.sessions`); each call records the leases it uses;
4. **hand off** to the upstream within its timeout;
5. **complete**: every failure becomes an answer by one mapping (:func:`failure`), and the call's
   completion record follows (durable before the answer under ``gateway.audit: strict``).

A call the approval stage held (``approval_required`` naming a request) waits for its person up to
``approvals.hold``, then runs again from the start so the pipeline redeems the grant, or is answered
why not (:mod:`proctor.gateway.hold`): only refused calls ever reach that branch.

Two legs reach an upstream (:class:`Leg`): the **lean** one (JSON-RPC over a kept-alive HTTP
connection, for plain-HTTP upstreams when nothing needs relaying mid-call: the fast path, see
:mod:`proctor.gateway.lean`) and the **SDK** one (any upstream; relays progress, sampling,
elicitation and logging). A leg only opens, sends, drops and shapes results: the stages above and
their answers are the same for both. Transports (:mod:`~proctor.gateway.http`,
:mod:`~proctor.gateway.serving`, :mod:`~proctor.gateway.server` for stdio and the socket) adapt
bytes to :meth:`Calls.call`; the relayed MCP methods (:mod:`~proctor.gateway.relays`) share the
decision, failure mapping and completion record.

Failure rules: a denied call never reaches the upstream; an upstream that hangs is cut off after
its timeout and the call is reported as failed and audited; an upstream that dies is restarted on
the next call; no exception text of Proctor's reaches a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Protocol, TypeAlias, TypeVar

import anyio
import mcp_types as types
import orjson
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from proctor.approvals.model import ApprovalState
from proctor.audit.log import AuditEntry
from proctor.errors import (
    AgentSuspended,
    ProctorError,
    StoreError,
    TaskNotActive,
    UnknownTask,
    UpstreamAnswerTooLarge,
    ValidationError,
    public_message,
)
from proctor.flow.service import output_text
from proctor.gateway import names
from proctor.gateway.answers import too_large
from proctor.gateway.catalog import Catalog
from proctor.gateway.config import UpstreamConfig
from proctor.gateway.hold import Channel, Holds, holdable, sdk_channel
from proctor.gateway.lean import LeanUpstreamError
from proctor.gateway.sdkcap import is_too_large
from proctor.gateway.sessions import CredentialUnavailable, TaskUpstreams, UpstreamUnavailable
from proctor.pipeline import CallInput, Identity
from proctor.policy.engine import Decision, deny
from proctor.policy.scope import declares_namespace
from proctor.store.base import TaskRecord, ToolRecord
from proctor.types import AgentName, AgentStatus, TaskId, ToolName, Verdict

if TYPE_CHECKING:
    from proctor.app import Proctor
    from proctor.snapshot import Snapshot

__all__ = [
    "LEAN",
    "Caller",
    "Calls",
    "Failure",
    "Leg",
    "Outcome",
    "SdkLeg",
    "call_input",
    "denial_text",
    "failure",
    "overlaps",
]

log = logging.getLogger(__name__)
Res = TypeVar("Res")


@dataclass(frozen=True, slots=True)
class Caller:
    """The agent and task behind one downstream request, already verified by the transport."""

    agent: AgentName
    task_id: TaskId
    task_token: str
    #: the JWT-SVID presented on this request (HTTP), or None when identity was proven once at
    #: start-up (stdio); kept for the record, already verified by the transport
    svid: str | None = None
    #: what the transport checked of this request on its snapshot (HTTP: ``GatewayAuth._caller``),
    #: handed to the pipeline so it does not check the same again (identity is checked once per
    #: call); None when the pipeline checks it (stdio and the socket, whose identity was proven at
    #: the session's start: the pipeline verifies the token on every call)
    identity: Identity | None = field(default=None, compare=False)


def call_input(
    caller: Caller,
    tool: str,
    args: Mapping[str, Any],
    continuation: Mapping[str, Any] | None = None,
    input_responses: Mapping[str, Any] | None = None,
) -> CallInput:
    """What the pipeline decides for ``caller``: the identity as the transport verified it.

    The transport verified the caller's SVID (HTTP, every request) or attestation (stdio and the
    socket, at the start of the session). What it checked on the snapshot the call is decided on
    (the agent active, the task token valid until its expiry) travels as ``identity``: the pipeline
    uses it only for that snapshot and until then, and checks again otherwise. The kill switch is
    checked on every call either way.
    """
    return CallInput(
        tool=tool,
        args=args,
        agent=str(caller.agent),
        task_token=caller.task_token,
        source="mcp",
        identity=caller.identity,
        continuation=continuation,
        input_responses=input_responses,
    )


@dataclass(frozen=True, slots=True)
class Outcome(Generic[Res]):
    """A ``tools/call`` result, and what to do once it has been sent (the completion record: its
    digest and canonical JSON need not delay the answer; None when it is already durable)."""

    result: Res
    finish: Callable[[], None] | None = None
    #: the client capabilities the upstream refused the call for lacking (its JSON-RPC error
    #: -32021, SEP-2575, by name): ``result`` is the tool error the completion record holds; a
    #: transport whose client did not declare them answers with that error instead (ADR 0031)
    missing: tuple[str, ...] = ()


# the one failure mapping ----------------------------------------------------------------------
#: the longest resource URI an upstream's error data may name for it to be passed on
MAX_ERROR_URI = 2048


@dataclass(frozen=True, slots=True)
class Failure:
    """What went wrong between Proctor and an upstream, once it was allowed to be reached."""

    #: the completion record's status: credential_unavailable, timeout, upstream_unavailable,
    #: upstream_error or answer_too_large
    status: str
    #: the task's session with the upstream is closed (a hung, dead or unstarted upstream restarts
    #: on next use)
    drop: bool
    #: credential_unavailable: why (safe to show); upstream_error: the upstream's message (<= 300);
    #: answer_too_large: Proctor's words for it
    detail: str = ""
    #: upstream_error: the upstream's JSON-RPC error code
    code: int = types.INTERNAL_ERROR
    #: upstream_error: the resource URI the upstream's error ``data`` named (``{"uri": ...}``, as a
    #: resource-not-found error carries it, SEP-2164), passed on by a relayed request's error; no
    #: other part of the upstream's ``data`` is
    uri: str | None = None
    #: upstream_error -32021: the client capabilities its ``data.requiredCapabilities`` names (of
    #: :data:`CLIENT_CAPABILITIES` only)
    missing: tuple[str, ...] = ()


#: the client capabilities an upstream's -32021 may name for them to be passed on
CLIENT_CAPABILITIES = ("elicitation", "roots", "sampling")


def _required(code: object, data: object) -> tuple[str, ...]:
    """What an upstream's -32021 ``data`` says the client lacks (nothing for another error)."""
    if code != types.MISSING_REQUIRED_CLIENT_CAPABILITY or not isinstance(data, dict):
        return ()
    required = data.get("requiredCapabilities")
    if not isinstance(required, dict):
        return ()
    return tuple(c for c in CLIENT_CAPABILITIES if c in required)


def failure(exc: Exception, cfg: UpstreamConfig, during: str = "a call") -> Failure:
    """Map whatever an upstream exchange raised (either leg, or a relayed method) to its answer."""
    if isinstance(exc, CredentialUnavailable):
        return Failure("credential_unavailable", False, str(exc))
    if isinstance(exc, TimeoutError):
        return Failure("timeout", True)
    if isinstance(exc, UpstreamAnswerTooLarge):  # dropped unread; the session itself is sound
        return Failure("answer_too_large", False, exc.message)
    if isinstance(exc, MCPError):
        if is_too_large(str(exc.error.message)):  # refused beneath the SDK (sdkcap): as above
            return Failure("answer_too_large", False, too_large(cfg).message)
        if exc.error.code == types.CONNECTION_CLOSED:  # the upstream died under the call
            return Failure("upstream_unavailable", True)
        data = exc.error.data
        uri = data.get("uri") if isinstance(data, dict) else None
        return Failure(
            "upstream_error",
            False,
            str(exc.error.message)[:300],
            exc.error.code,
            uri if isinstance(uri, str) and len(uri) <= MAX_ERROR_URI else None,
            _required(exc.error.code, data),
        )
    if isinstance(exc, LeanUpstreamError):
        if exc.closed or exc.error is None:
            return Failure("upstream_unavailable", True)
        code = exc.error.get("code")
        data = exc.error.get("data")
        uri = data.get("uri") if isinstance(data, dict) else None
        return Failure(
            "upstream_error",
            False,
            str(exc)[:300],
            code if type(code) is int else types.INTERNAL_ERROR,
            uri if isinstance(uri, str) and len(uri) <= MAX_ERROR_URI else None,
            missing=_required(code, data),
        )
    if isinstance(exc, UpstreamUnavailable):
        # no session could be had: one that would not start in time is dropped (the next use
        # starts afresh); the drop spares a session opened for a newer configuration
        return Failure("upstream_unavailable", True)
    log.warning("upstream `%s` failed during %s: %s", cfg.namespace, during, type(exc).__name__)
    return Failure("upstream_unavailable", True)


def failure_text(f: Failure, cfg: UpstreamConfig, decision: Decision) -> str:
    """The tool error text of a failed ``tools/call``."""
    if f.status == "credential_unavailable":
        return f"Proctor denied this call: {f.detail} (decision {decision.decision_id})"
    if f.status == "timeout":
        return (
            f"upstream `{cfg.namespace}` did not answer within {cfg.timeout_s:g}s; the call was abandoned"
            f" (decision {decision.decision_id})"
        )
    if f.status == "upstream_error":
        return f"upstream `{cfg.namespace}` refused the call: {f.detail}"
    if f.status == "answer_too_large":
        return f"{f.detail} (decision {decision.decision_id})"
    return f"upstream `{cfg.namespace}` is unavailable; the call did not complete"


def refusal(decision: Decision, canonical: str | None = None, exposed: str | None = None) -> str | None:
    """The tool error text for a call that may not go ahead, or None when it is allowed. The agent
    knows the tool by its exposed name: reasons that name `canonical` name `exposed` instead (the
    audit record keeps the canonical name)."""
    if decision.verdict is Verdict.ALLOW:
        return None
    reasons = "; ".join(decision.reasons)
    if canonical and exposed and canonical != exposed:
        reasons = reasons.replace(f"`{canonical}`", f"`{exposed}`")
    if decision.verdict is Verdict.DENY:
        return f"Proctor denied this call: {reasons} (decision {decision.decision_id})"
    if decision.verdict is Verdict.APPROVAL_REQUIRED:
        return (
            f"This call needs approval by {decision.approval or 'a human'} before it can run: "
            f"{reasons} (decision {decision.decision_id})"
        )
    return None


def denial_text(exc: ProctorError) -> str:
    """The tool error text of a call refused by Proctor outside its decision (the caller could not
    be established, ...): the transports answer it as a denied call the model can read."""
    return f"Proctor denied this call: {public_message(exc)} [{exc.code}]"


# the legs -----------------------------------------------------------------------------------
class Leg(Protocol[Res]):
    """How one call reaches its upstream, and the shape of its result (``Res``)."""

    #: the completion record's ``path``
    path: str
    #: may an allowed plain read be sent while its decision record is written (``gateway.audit``)?
    overlap: bool
    #: a 2026-07-28 retry that continues a multi-round-trip exchange: what its decision record
    #: says of it (:mod:`proctor.gateway.mrtr`; never a value), else None
    continuation: Mapping[str, Any] | None
    #: that retry's ``inputResponses`` as sent upstream (traced by the flow stage), else None
    input_responses: Mapping[str, Any] | None

    async def listed(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> Mapping[str, Any]:
        """The upstream's catalog (upstream name -> definition), through the task's session."""
        ...

    def as_tool(self, listed: Any) -> types.Tool:
        """A catalog entry as a tool definition (raises when it is not one)."""
        ...

    async def open(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> Any:
        """The task's session with the upstream, ready to send (opened on first use)."""
        ...

    async def send(
        self, session: Any, cfg: UpstreamConfig, tool: str, args: Mapping[str, Any], grace: _Grace | None
    ) -> Res:
        """Call ``tool`` within the upstream's timeout (TimeoutError when it passes)."""
        ...

    async def drop(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> None:
        """Close the task's session with the upstream (the next use opens a new one)."""
        ...

    def done(self, owned: TaskUpstreams) -> None:
        """The call is over, however it ended."""
        ...

    def error(self, text: str) -> Res:
        """A tool error result saying ``text``."""
        ...

    def channel(self) -> Channel:
        """What a call held for approval can tell its client while it waits."""
        ...

    def is_error(self, result: Res) -> bool:
        """Whether the upstream answered with a tool error."""
        ...

    def summary(self, result: Res) -> tuple[list[Any], Any, bool]:
        """What the completion record is taken over: content, structured content, is_error."""
        ...

    def result_type(self, result: Res) -> str | None:
        """The completion record's ``result_type`` when the answer is not a complete result
        (2026-07-28 ``input_required``), else None."""
        ...


class LeanLeg:
    """JSON-RPC over a kept-alive HTTP connection (plain-HTTP upstreams, nothing relayed mid-call):
    results stay JSON (dicts) from the upstream's answer to the downstream's."""

    path = "lean"
    overlap = True
    continuation: Mapping[str, Any] | None = None
    #: a 2026-07-28 retry's ``inputResponses`` sent upstream (traced by the flow stage), else None
    input_responses: Mapping[str, Any] | None = None

    def __init__(self, channel: Channel | None = None) -> None:
        #: what a held call can tell its client (2026-07-28: ``input_required``); nothing else
        self._channel = channel

    async def listed(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> Mapping[str, Any]:
        return await (await owned.lean(cfg)).tools()

    def as_tool(self, listed: Any) -> types.Tool:
        return types.Tool.model_validate(listed)

    async def open(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> Any:
        return await owned.lean(cfg)

    async def send(
        self, session: Any, cfg: UpstreamConfig, tool: str, args: Mapping[str, Any], grace: _Grace | None
    ) -> dict[str, Any]:
        async with asyncio.timeout(cfg.timeout_s) as window:  # cheaper than anyio's scope
            if grace is not None:
                grace.window = window
            result: dict[str, Any] = await session.call_tool(tool, args)
        return result

    async def drop(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> None:
        await owned.drop_lean(cfg.namespace, cfg)

    def done(self, owned: TaskUpstreams) -> None:
        pass

    def error(self, text: str) -> dict[str, Any]:
        return _text_error(text).model_dump(mode="json", by_alias=True, exclude_none=True)

    def channel(self) -> Channel:
        # the lean path serves no progress token and no back-channel elicitation
        return self._channel or _SILENT

    def is_error(self, result: dict[str, Any]) -> bool:
        return bool(result.get("isError"))

    def summary(self, result: dict[str, Any]) -> tuple[list[Any], Any, bool]:
        if result.get("resultType") == "input_required":
            # what reaches the client is the upstream's input requests: labelled and digested as output
            return [], {"inputRequests": result.get("inputRequests")}, False
        return result.get("content") or [], result.get("structuredContent"), bool(result.get("isError"))

    def result_type(self, result: dict[str, Any]) -> str | None:
        kind = result.get("resultType")
        return kind if isinstance(kind, str) and kind != "complete" else None


_SILENT = Channel()
#: the lean leg holds no state of its own: one serves every call
LEAN = LeanLeg()


class SdkLeg:
    """The MCP SDK's client session (any upstream): relays progress, and routes the upstream's
    sampling, elicitation and log messages to the downstream request ``ctx`` while it runs."""

    path = "sdk"
    overlap = False
    continuation: Mapping[str, Any] | None = None
    #: a 2026-07-28 retry's ``inputResponses`` sent upstream (traced by the flow stage), else None
    input_responses: Mapping[str, Any] | None = None

    def __init__(self, ctx: ServerRequestContext[Any, Any]) -> None:
        self.ctx = ctx
        self._attached = False

    async def listed(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> Mapping[str, Any]:
        try:
            return await (await owned.get(cfg)).tools()
        except Exception:
            owned.drop(cfg.namespace)
            raise

    def as_tool(self, listed: Any) -> types.Tool:
        if not isinstance(listed, types.Tool):  # a catalog entry of an SDK upstream already is one
            raise TypeError("not a tool definition")
        return listed

    async def open(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> Any:
        owned.active.append(self.ctx)
        owned.active_ns[id(self.ctx)] = cfg.namespace
        self._attached = True
        return (await owned.get(cfg)).require()

    async def send(
        self, session: Any, cfg: UpstreamConfig, tool: str, args: Mapping[str, Any], grace: _Grace | None
    ) -> types.CallToolResult:
        ctx = self.ctx

        async def relay(progress: float, total: float | None, message: str | None) -> None:
            with contextlib.suppress(Exception):  # progress is best effort
                await ctx.session.report_progress(progress, total, message)

        with anyio.fail_after(cfg.timeout_s):
            result: types.CallToolResult = await session.call_tool(tool, dict(args), progress_callback=relay)
        return result.model_copy(update={"meta": None})

    async def drop(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> None:
        owned.drop(cfg.namespace, cfg)  # a hung or dead upstream is restarted for the next call

    def done(self, owned: TaskUpstreams) -> None:
        if self._attached:
            self._attached = False
            owned.active.remove(self.ctx)
            if self.ctx not in owned.active:
                owned.active_ns.pop(id(self.ctx), None)

    def error(self, text: str) -> types.CallToolResult:
        return _text_error(text)

    def channel(self) -> Channel:
        return sdk_channel(self.ctx)

    def is_error(self, result: types.CallToolResult) -> bool:
        return bool(result.is_error)

    def summary(self, result: types.CallToolResult) -> tuple[list[Any], Any, bool]:
        return (
            [c.model_dump(mode="json") for c in result.content],
            result.structured_content,
            bool(result.is_error),
        )

    def result_type(self, result: types.CallToolResult) -> str | None:
        return None


# the path -----------------------------------------------------------------------------------
class _Upstream(Generic[Res]):
    """The stages of one ``tools/call`` after its decision, handed to the pipeline as its
    :class:`~proctor.pipeline.Handoff`: the credential stage (the task's session with the upstream
    carries the leases obtained for it; the call records those it uses), the upstream (within its
    timeout, through the leg), the completion record; or the refusal of a call that may not go
    ahead. Filled in as the call is resolved (:meth:`at`)."""

    __slots__ = (
        "args",
        "call",
        "caller",
        "calls",
        "cfg",
        "grace",
        "held",
        "leg",
        "name",
        "owned",
        "proctor_name",
        "resolved",
        "snap",
        "upstream_tool",
    )

    def __init__(
        self,
        calls: Calls,
        caller: Caller,
        owned: TaskUpstreams,
        name: str,
        args: Mapping[str, Any],
        leg: Leg[Res],
        snap: Snapshot | None,
        grace: _Grace | None,
    ) -> None:
        self.calls = calls
        self.caller = caller
        self.owned = owned
        #: the exposed name the agent called
        self.name = name
        self.args = args
        self.leg = leg
        #: the request's snapshot as the transport took it (the completion record reads the tool
        #: on it), or None
        self.snap = snap
        self.grace = grace
        #: set by :meth:`refuse` for a call the approval stage held (``approval_required`` naming a
        #: request), with its refusal text: the call path may hold it (proctor.gateway.hold)
        self.held: tuple[Decision, str] | None = None

    def at(
        self,
        cfg: UpstreamConfig,
        upstream_tool: str,
        proctor_name: ToolName,
        call: CallInput,
        *,
        resolved: bool = True,
    ) -> _Upstream[Res]:
        """Where the call goes, as resolved. ``resolved`` is False when the call was decided
        without reaching its upstream first (so its name was never resolved through the listing nor
        its pin checked): an allow is then denied (see :meth:`Calls._never_unresolved`)."""
        self.cfg = cfg
        self.upstream_tool = upstream_tool
        self.proctor_name = proctor_name
        self.call = call
        self.resolved = resolved
        return self

    def refuse(self, decision: Decision) -> Outcome[Res]:
        text = refusal(decision, self.proctor_name, self.name) or ""
        if holdable(decision):  # the call path holds it (Calls._held)
            self.held = (decision, text)
        return Outcome(self.leg.error(text))

    async def forward(self, decision: Decision, recorded: Awaitable[Decision] | None) -> Outcome[Res]:
        calls, owned, cfg, leg, proctor_name, snap = (
            self.calls,
            self.owned,
            self.cfg,
            self.leg,
            self.proctor_name,
            self.snap,
        )
        if not self.resolved:
            return self.refuse(await calls._never_unresolved(self.call, self.caller, proctor_name, decision))
        started = calls.proctor.clock.monotonic()
        status = "ok"
        missing: tuple[str, ...] = ()
        try:
            session = await leg.open(owned, cfg)
            owned.record_use(cfg, decision)
            result = await leg.send(session, cfg, self.upstream_tool, self.args, self.grace)
            if leg.is_error(result):
                status = "tool_error"
        except Exception as exc:  # the call is accounted for (completion record) whatever broke
            f = failure(exc, cfg)
            status, missing = f.status, f.missing
            if f.drop:
                await leg.drop(owned, cfg)
            result = leg.error(failure_text(f, cfg, decision))
        except BaseException:
            # cancelled (the client cancelled the request or left): the allow still gets its
            # completion record, saying so, before the cancellation goes on
            calls.record_completion(
                owned.task_id,
                cfg,
                proctor_name,
                decision,
                "cancelled",
                [],
                None,
                True,
                started,
                path=leg.path,
                snap=snap,
            )
            raise
        finally:
            leg.done(owned)
        if recorded is not None and (await recorded).verdict is not Verdict.ALLOW:
            # the decision could not be made durable: the outcome is withheld, never returned unrecorded
            status = "audit_failed"
            log.critical(
                "decision %s was not recorded; the upstream result is withheld", decision.decision_id
            )
            result = leg.error("the audit log could not record this call; its result is withheld")
        content, structured, is_error = leg.summary(result)
        extra = {"result_type": kind} if (kind := leg.result_type(result)) is not None else None
        completion = (
            owned.task_id,
            cfg,
            proctor_name,
            decision,
            status,
            content,
            structured,
            is_error,
            started,
        )
        # the output's labels, kept for tracing later arguments (proctor.flow.service)
        observe = functools.partial(
            calls.observe_output,
            owned.task_id,
            proctor_name,
            self.args,
            decision,
            status,
            content,
            structured,
            snap,
        )
        if calls.proctor.settings.gateway_audit == "strict":
            labels = observe()
            if not await calls.completion_durable(
                *completion, path=leg.path, snap=snap, labels=labels, extra=extra
            ):
                result = leg.error(
                    "the audit log could not record this call's completion; its result is withheld"
                )
                missing = ()
            return Outcome(result, missing=missing)
        # once the answer has left: labelled and in this process's memory before the next call of
        # the task is decided here; kept in the store off the response path
        return Outcome(
            result, functools.partial(calls.finish_call, observe, completion, leg.path, snap, extra), missing
        )


#: what :meth:`Calls._prepare` settles: the call's upstream stages (resolved), and either the deny
#: the gateway decided itself before the pipeline (the pipeline then does not run), or None with
#: the snapshot the pipeline decides on and whether the decision's record may overlap the upstream
#: call (see :func:`overlaps`)
if TYPE_CHECKING:
    _Prepared: TypeAlias = tuple[_Upstream[Res], Decision | None, Snapshot | None, bool]


class Calls:
    """Every ``tools/call`` of one gateway process, on either leg; the stages relayed methods share
    (deciding a request the gateway refuses itself, the completion record)."""

    def __init__(self, proctor: Proctor, catalog: Catalog, owned: Callable[[TaskId], TaskUpstreams]) -> None:
        self.proctor = proctor
        self.catalog = catalog
        #: a task's sessions (opened on first use)
        self.owned = owned
        #: requests that reach an upstream in progress on this loop
        self.inflight = 0
        #: calls held for approval (proctor.gateway.hold)
        self.holds = Holds(proctor)

    async def call(
        self,
        caller: Caller,
        name: str,
        args: Mapping[str, Any] | None,
        leg: Leg[Res],
        snap: Snapshot | None = None,
    ) -> Outcome[Res]:
        """``tools/call`` of the exposed tool ``name`` for ``caller``, through ``leg``. Raises
        MCPError(-32602) for a tool no upstream offers; every other failure is a tool error result.
        ``snap`` is the request's store snapshot (taken when it arrived), if the transport has one."""
        self.inflight += 1
        try:
            return await self._call(caller, name, args or {}, leg, snap)
        finally:
            self.inflight -= 1

    async def _call(
        self,
        caller: Caller,
        name: str,
        args: Mapping[str, Any],
        leg: Leg[Res],
        snap: Snapshot | None,
        hold: bool = True,
    ) -> Outcome[Res]:
        """Resolve the call here, then the pipeline decides it and hands an allow to its upstream
        stages (:meth:`Pipeline.run`, :class:`_Upstream`)."""
        grace = _Grace() if leg.overlap else None
        up = _Upstream(self, caller, self.owned(caller.task_id), name, args, leg, snap, grace)
        up, decided, decide_on, overlap = await self._prepare(up, snap)
        if decided is not None:
            return up.refuse(decided)
        out = await self.proctor.pipeline.run(
            up.call, up, snap=decide_on, alone=self.inflight <= 1, overlap=overlap, on_blocked=grace
        )
        if up.held is not None:
            return await self._held(caller, name, args, leg, up.held, hold)
        return out

    async def _held(
        self,
        caller: Caller,
        name: str,
        args: Mapping[str, Any],
        leg: Leg[Res],
        held: tuple[Decision, str],
        hold: bool,
    ) -> Outcome[Res]:
        """A call the approval stage held (see :mod:`proctor.gateway.hold`): wait for the person,
        then run it again from the start (the pipeline redeems the grant) or say why not."""
        decision, refused = held
        request = None
        if hold:
            self.inflight -= 1  # a held call is not work in progress (see Pipeline's ``alone``)
            try:
                request = await self.holds.hold(decision, leg.channel(), caller.agent)
            finally:
                self.inflight += 1
        if request is not None and request.state is ApprovalState.APPROVED:
            return await self._call(caller, name, args, leg, None, hold=False)
        return Outcome(leg.error(self.holds.answer(decision, request, refused)))

    # resolve ------------------------------------------------------------------------------
    async def _prepare(self, up: _Upstream[Res], snap: Snapshot | None) -> _Prepared[Res]:
        """Resolve, register and check the pin of one call (see :data:`_Prepared`).

        Raises MCPError(-32602) for a tool no upstream offers.
        """
        caller, owned, name, leg = up.caller, up.owned, up.name, up.leg
        catalog = self.catalog
        cfg = catalog.tool_upstream(name)
        if cfg is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`")
        found = catalog.known(cfg, name)
        # until the upstream's listing says which tool the name is: the tool it is when plain
        # (what a deny met while listing is recorded against)
        upstream_tool = found or catalog.plain(cfg, name)
        try:
            proctor_name = ToolName(names.canonical_name(cfg.namespace, upstream_tool))
        except ValidationError:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`") from None
        call = call_input(caller, proctor_name, up.args, leg.continuation, leg.input_responses)
        try:
            snap = snap or await self.proctor.state.snapshot_async()
            await self._warm(snap, caller, cfg.namespace, proctor_name)
            if not self._may_reach_upstreams(caller, snap, cfg):
                # before anything touches the upstream (even the listing that resolves the name): an
                # ended task, an inactive agent, an undeclared upstream or a stale policy is refused by
                # the pipeline with its own reason, audited; nothing is started, listed or leased for
                return up.at(cfg, upstream_tool, proctor_name, call, resolved=False), None, snap, False
            if found is None:
                # a name this process has not seen listed: only the upstream's listing resolves it
                try:
                    listing = await leg.listed(owned, cfg)
                except CredentialUnavailable as exc:
                    d = await self.deny_recorded(
                        call, caller, proctor_name, str(exc), "credential_unavailable"
                    )
                    return up.at(cfg, upstream_tool, proctor_name, call), d, None, False
                except StoreError:
                    raise
                except Exception as exc:
                    log.warning("upstream `%s` could not list tools: %s", cfg.namespace, type(exc).__name__)
                    await self._unavailable(exc, cfg, call, caller, proctor_name)
                found = catalog.names_of(cfg, listing).upstream.get(name)
                if found is None:
                    raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`")
                if found != upstream_tool:
                    upstream_tool = found
                    proctor_name = ToolName(names.canonical_name(cfg.namespace, found))
                    call = dataclasses.replace(call, tool=proctor_name)
            return await self._prepare_call(up.at(cfg, upstream_tool, proctor_name, call), snap)
        except StoreError as exc:
            # the detail (a path, a server address, the driver's text) is for the operator's log
            log.error("store error before deciding a gateway call: %s", exc.message)
            d = await self.deny_recorded(
                call, caller, proctor_name, "the store could not be read: the call is denied", exc.code
            )
            return up.at(cfg, upstream_tool, proctor_name, call), d, None, False

    async def _prepare_call(self, up: _Upstream[Res], snap: Snapshot | None) -> _Prepared[Res]:
        p = self.proctor
        caller, owned, call, cfg, name, leg = up.caller, up.owned, up.call, up.cfg, up.name, up.leg
        upstream_tool, proctor_name = up.upstream_tool, up.proctor_name
        upstream_def: types.Tool | None = None
        snap = snap or await p.state.snapshot_async()
        if not self._may_reach_upstreams(caller, snap, cfg):
            # an ended task, an inactive agent, an upstream the task declared no tool of or a stale
            # policy: the pipeline refuses it with its own reason and audits it; no upstream is
            # started, listed or leased for on its behalf
            return up.at(cfg, upstream_tool, proctor_name, call, resolved=False), None, snap, False
        pinned = bool(p.state.pins(cfg.namespace, snap))
        # the name this upstream last listed for the tool (its catalogs hold no two names that
        # differ only in case): `ECHO` is never sent to an upstream that lists `echo`
        known = self.catalog.listed_as(cfg, proctor_name)
        if pinned or known is None or p.state.tool(proctor_name, snap) is None:
            # not registered by this process yet, or pinned: the current definition is needed first
            # (listing opens the upstream session; a registered, unpinned tool is decided first)
            try:
                listing = await leg.listed(owned, cfg)
                # the exposed name must still be this tool's in the current listing
                same = self.catalog.names_of(cfg, listing).upstream.get(name) == upstream_tool
                listed_def = listing.get(upstream_tool) if same else None
            except CredentialUnavailable as exc:
                d = await self.deny_recorded(call, caller, proctor_name, str(exc), "credential_unavailable")
                return up, d, None, False
            except Exception as exc:
                log.warning("upstream `%s` could not list tools: %s", cfg.namespace, type(exc).__name__)
                await self._unavailable(exc, cfg, call, caller, proctor_name)
            try:
                upstream_def = None if listed_def is None else leg.as_tool(listed_def)
            except Exception:
                upstream_def = None
            registered = None
            if upstream_def is not None:
                try:  # a store write: off the event loop, bounded (docs/adr/0019)
                    registered = await p.store_guard.run(self.catalog.register, cfg, upstream_def)
                except StoreError as exc:
                    reason = "the store could not be written: the call is denied"
                    d = await self.deny_recorded(call, caller, proctor_name, reason, exc.code)
                    return up, d, None, False
            if registered is None:
                raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`")
            snap = await p.state.snapshot_async()  # registering may have changed the store
        elif known != upstream_tool:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`")
        audit_mode = p.settings.gateway_audit if leg.overlap else "strict"
        if upstream_def is not None and (problem := self.catalog.pin_problem(cfg, upstream_def)) is not None:
            d = await self.deny_recorded(call, caller, proctor_name, problem, "tool_pin_mismatch")
            return up, d, None, False
        # while the log is failing nothing reaches an upstream before its record is durable
        overlap = not p.audit.failing and overlaps(audit_mode, p.state.tool(proctor_name, snap))
        return up, None, snap, overlap

    async def _unavailable(
        self, exc: Exception, cfg: UpstreamConfig, call: CallInput, caller: Caller, tool: ToolName
    ) -> NoReturn:
        """An upstream that cannot be reached (its command is missing, it exits at start, its URL
        refuses) while the call is resolved: the client is told so, naming the upstream and why,
        as a JSON-RPC error (-32603, data ``{"code": "upstream_unavailable", "upstream": …}``) and
        never as `unknown tool`, which would send a person looking for a typo. Recorded as a deny
        with code ``upstream_unavailable``, as every refusal decided outside the policy is."""
        from proctor.gateway.discovery import unavailable_reason

        reason = exc.reason if isinstance(exc, UpstreamUnavailable) else unavailable_reason(exc)
        text = f"upstream `{cfg.namespace}` is unavailable" + (f": {reason}" if reason else "")
        d = await self.deny_recorded(
            call, caller, tool, f"{text}; the call was not made", "upstream_unavailable"
        )
        raise MCPError(
            types.INTERNAL_ERROR,
            f"{text} (decision {d.decision_id}); `proctor upstream tools {cfg.namespace}` shows why",
            {"code": "upstream_unavailable", "upstream": cfg.namespace, "decision_id": str(d.decision_id)},
        ) from None

    async def _warm(self, snap: Snapshot, caller: Caller, namespace: str, tool: ToolName) -> None:
        """Read into ``snap`` the records a call looks up on the loop (task, agent, pins, tool), on
        a store worker thread and bounded (docs/adr/0019); nothing to do when it holds them."""
        known = snap.tasks.get(caller.task_id)
        if (
            caller.task_id in snap.tasks
            and caller.agent in snap.agents
            and namespace in snap.pins
            and tool in snap.tools
            and (known is None or all(t in snap.tasks and a in snap.agents for a, t in known.chain[:-1]))
        ):
            return
        p = self.proctor

        def fill() -> None:
            task = p.state.task(caller.task_id, snap)
            p.state.agent(caller.agent, snap)
            p.state.pins(namespace, snap)
            p.state.tool(tool, snap)
            # a delegated task's ancestors and their agents: whether it may act at all
            for anc_agent, anc in () if task is None else task.chain[:-1]:
                p.state.task(TaskId(anc), snap)
                p.state.agent(AgentName(anc_agent), snap)

        await p.store_guard.run(fill, read=True)

    def _may_reach_upstreams(self, caller: Caller, snap: Snapshot, cfg: UpstreamConfig) -> bool:
        """Whether the caller's task is live, declares a tool of ``cfg`` and its agent is active,
        under the workspace's policy version (what the pipeline will check again): only then may a
        call touch the upstream before its decision."""
        p = self.proctor
        task = p.state.task(caller.task_id, snap)
        agent = p.state.agent(caller.agent, snap)
        now = p.clock.now()
        return (
            snap.policy_stale is None
            and task is not None
            and task.agent == caller.agent
            and declares_namespace(task.allow, cfg.namespace)
            and task.is_live(now)
            and agent is not None
            and agent.status is AgentStatus.ACTIVE
            and not p.kills.task_killed(task.id)
            and not p.kills.agent_killed(agent.name)
            and self._lineage_live(task, snap, now)
        )

    def _lineage_live(self, task: TaskRecord, snap: Snapshot, now: float) -> bool:
        """Whether every ancestor of a delegated task is live and every agent that delegated it
        active (docs/adr/0032), as ``snap`` holds them (read by :meth:`_warm`): a child whose
        parent has ended, its cascade not yet run, reaches no upstream before the pipeline refuses
        it. One the snapshot does not hold counts as not live (the pipeline decides then)."""
        p = self.proctor
        for anc_agent, anc_id in task.chain[:-1]:
            anc = snap.tasks.get(anc_id)
            by = snap.agents.get(anc_agent)
            if (
                anc is None
                or not anc.is_live(now)
                or p.kills.task_killed(anc.id)
                or by is None
                or by.status is not AgentStatus.ACTIVE
                or p.kills.agent_killed(by.name)
            ):
                return False
        return True

    def live_task(self, caller: Caller) -> TaskRecord:
        """The caller's task, if it is still active (else a ProctorError the transport reports)."""
        p = self.proctor
        task = p.state.task(caller.task_id)
        if task is None:
            raise UnknownTask(f"unknown task `{caller.task_id}`")
        if task.agent != caller.agent:
            raise ValidationError("task belongs to another agent")
        if not task.is_live(p.clock.now()) or p.kills.task_killed(task.id):
            raise TaskNotActive(f"task `{task.id}` is not active")
        agent = p.state.agent(caller.agent)
        if agent is None or agent.status is not AgentStatus.ACTIVE or p.kills.agent_killed(agent.name):
            # the stdio transport proved identity once: the kill switch is checked here, every request
            raise AgentSuspended(f"agent `{caller.agent}` is not active")
        now = p.clock.now()
        for anc_agent, anc_id in task.chain[:-1]:  # a delegated task ends with its parent (ADR 0032)
            anc = p.state.task(TaskId(anc_id))
            by = p.state.agent(AgentName(anc_agent))
            if (
                anc is None
                or not anc.is_live(now)
                or p.kills.task_killed(anc.id)
                or by is None
                or by.status is not AgentStatus.ACTIVE
                or p.kills.agent_killed(by.name)
            ):
                raise TaskNotActive(
                    f"task `{task.id}` was delegated from task `{anc_id}` (agent `{anc_agent}`), which"
                    " is no longer active"
                )
        return task

    async def _never_unresolved(
        self, call: CallInput, caller: Caller, tool: ToolName, decision: Decision
    ) -> Decision:
        """Fail closed when the pipeline allows a call the gateway did not let reach its upstream
        (so its name was never resolved through the listing nor its pin checked): the two checks
        disagree, and the call must not go ahead unresolved."""
        if decision.verdict is not Verdict.ALLOW:
            return decision
        log.error("a call for `%s` was allowed without reaching its upstream first: denied", tool)
        return await self.deny_recorded(
            call,
            caller,
            tool,
            "the gateway could not resolve this tool: the call is denied",
            "internal_error",
        )

    async def deny_recorded(
        self, call: CallInput, caller: Caller, tool: ToolName, reason: str, code: str
    ) -> Decision:
        """A deny decided here (not by the pipeline), recorded if the log can take it."""
        p = self.proctor
        d = deny(reason, p.policies.engine.version, errors=(code,))
        try:
            agent, task = p.state.agent(caller.agent), p.state.task(caller.task_id)
        except Exception:
            agent = task = None  # the store cannot be read: the record names the call without them
        try:
            entry = p.pipeline.decision_entry(call, d, agent, task, str(tool), budget_used=False)
            await p.audit.append_entry_async(entry)
        except Exception as exc:
            log.error("could not record the deny %s: %s", d.decision_id, type(exc).__name__)
        return d

    # flow ---------------------------------------------------------------------------------
    def observe_output(
        self,
        task_id: TaskId,
        proctor_name: ToolName,
        args: Mapping[str, Any],
        decision: Decision,
        status: str,
        content: list[Any],
        structured: Any,
        snap: Snapshot | None,
    ) -> dict[str, Any] | None:
        """Label the output an upstream returned and keep it for the task (in memory now, in the
        store off the response path); its labels for the completion record, or None."""
        flow = self.proctor.flow
        if not flow.enabled or status not in ("ok", "tool_error"):
            return None
        try:
            p = self.proctor
            tool = p.state.tool(proctor_name, snap)
            if tool is None:
                return None
            task = p.state.task(task_id, snap)
            labels, rec = flow.observe_local(
                task if task is not None else task_id,
                tool,
                output_text(content, structured),
                args=args,
                decision_id=str(decision.decision_id),
            )
            if rec is not None:
                flow.persist_soon(rec)
            return labels.to_dict()
        except Exception as exc:
            log.error("could not label the output of %s: %s", decision.decision_id, type(exc).__name__)
            # fail closed: the task read something no one could judge, so it counts as untrusted
            # and secret (or its next calls would be decided as if it had read nothing)
            with contextlib.suppress(Exception):
                tainted = flow.taint(task_id, str(proctor_name))
                if tainted is not None:
                    flow.persist_soon(tainted)
            return None

    def finish_call(
        self,
        observe: Callable[[], dict[str, Any] | None],
        completion: tuple[Any, ...],
        path: str,
        snap: Snapshot | None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """After the answer has left: the output's labels, then the completion record."""
        labels = observe()
        self.record_completion(*completion, path=path, snap=snap, labels=labels, extra=extra)

    # complete -----------------------------------------------------------------------------
    def _completion_entry(
        self,
        task_id: TaskId,
        cfg: UpstreamConfig,
        proctor_name: ToolName,
        decision: Decision,
        status: str,
        content: list[Any],
        structured: Any,
        is_error: bool,
        started: float,
        path: str = "sdk",
        snap: Snapshot | None = None,
        labels: dict[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        tool = self.proctor.state.tool(proctor_name, snap) if labels is None else None
        raw = _digest_bytes([content, structured])
        fields = {
            "status": status,
            "is_error": is_error,
            "duration_us": round((self.proctor.clock.monotonic() - started) * 1_000_000),
            "output_digest": "sha256:" + hashlib.sha256(raw).hexdigest(),
            "output_bytes": len(raw),
            # the output's labels as the flow stage found them (never its content), else the tool's
            "labels": labels
            if labels is not None
            else (None if tool is None else {"trust": tool.trust, "sensitivity": tool.sensitivity}),
            "upstream": cfg.namespace,
            "path": path,
            **(extra or {}),
        }
        return AuditEntry(
            "call.completed",
            fields,
            task=str(task_id),
            tool=str(proctor_name),
            decision_id=str(decision.decision_id),
        )

    def record_completion(self, *args: Any, **kwargs: Any) -> None:
        """Queue the call's completion record. The decision record was durable before the upstream
        was called; this one rides along with the next commit (or within 50 ms) and never costs
        an fsync of its own on the hot path (``gateway.audit: strict`` makes it durable before the
        answer instead: see :meth:`completion_durable`)."""
        decision: Decision = args[3]
        try:
            e = self._completion_entry(*args, **kwargs)
            self.proctor.audit.defer(
                e.kind, dict(e.fields), task=e.task, tool=e.tool, decision_id=e.decision_id
            )
        except Exception as exc:
            log.error("could not record the completion of %s: %s", decision.decision_id, type(exc).__name__)

    async def completion_durable(self, *args: Any, **kwargs: Any) -> bool:
        """Make the call's completion record durable now (``gateway.audit: strict``: no answered
        call without its completion record, even across a crash). False when the log refused it."""
        decision: Decision = args[3]
        try:
            await self.proctor.audit.append_entry_async(self._completion_entry(*args, **kwargs))
            return True
        except Exception as exc:
            log.critical(
                "the completion of %s could not be recorded; its result is withheld: %s",
                decision.decision_id,
                type(exc).__name__,
            )
            return False


class _Grace:
    """Moves an upstream call's deadline back by the time the loop spent committing its decision
    record inline (see ``Pipeline.decide_and_record``): the upstream had that time, and its answer
    may be waiting already, so the call is not abandoned for the gateway's own pause."""

    __slots__ = ("window",)

    def __init__(self) -> None:
        self.window: asyncio.Timeout | None = None

    def __call__(self, spent: float) -> None:
        window = self.window
        if window is None or window.expired() or (when := window.when()) is None:
            return
        # the commit may end after the upstream call has (a commit that fell back to the writer
        # thread resumes later): a timeout already left cannot be moved, nor needs to be
        with contextlib.suppress(RuntimeError):
            window.reschedule(when + spent)


def overlaps(audit_mode: str, tool: ToolRecord | None) -> bool:
    """May this call's durable decision write run while the upstream works (``gateway.audit``)?

    ``strict``: never. ``overlap``: always. ``auto`` (the default): only for a tool registered as a
    plain ``read`` — no other effect and none of the flags that mark a consequential tool — since a
    read changes nothing upstream, and its answer is withheld until the record is durable: no side
    effect and no output reaches anyone without a durable decision. Every other effect (write,
    execute, send, pay, deploy, or one a workspace added) is durable before the upstream is called.
    """
    if audit_mode == "overlap":
        return True
    if audit_mode != "auto" or tool is None:
        return False
    return tool.effect == "read" and not (
        tool.destructive or tool.financial or tool.customer_facing or tool.production
    )


#: the statuses of a call the upstream had (so its history counts it, whatever it answered)


def _digest_bytes(value: Any) -> bytes:
    """The bytes a call's output digest is taken over: compact JSON with sorted keys (orjson; the
    standard library for what orjson refuses, such as integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def _text_error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


# transports' shorthands ------------------------------------------------------------------------
async def call_sdk(
    calls: Calls,
    caller: Caller,
    ctx: ServerRequestContext[Any, Any],
    name: str,
    args: Mapping[str, Any] | None,
    leg: SdkLeg | None = None,
) -> types.CallToolResult | types.InputRequiredResult:
    """:meth:`Calls.call` on the SDK leg (``leg``: a 2026-07-28 call's, see
    :class:`proctor.gateway.mrtr.ModernSdkLeg`), its completion queued before the result is returned."""
    out = await calls.call(caller, name, args, leg or SdkLeg(ctx))
    if out.finish is not None:
        out.finish()
    if out.missing and ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        caps = ctx.session.client_capabilities
        if not any(getattr(caps, c, None) is not None for c in out.missing):
            # as the lean path answers it (proctor.gateway.http): the client's own -32021
            raise MCPError(
                types.MISSING_REQUIRED_CLIENT_CAPABILITY,
                f"the tool needs the client capabilities {', '.join(out.missing)}, which this"
                " request did not declare",
                {"requiredCapabilities": {c: {} for c in out.missing}},
            )
    return out.result
