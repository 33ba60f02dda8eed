"""A handshake-only upstream's mid-call requests, for a 2026-07-28 client (ADR 0031, amendment of
2026-12-06, "cross-revision exchanges").

An upstream the task's SDK session speaks 2025-11-25 to asks mid-call with a server-to-client
request (``elicitation/create``, ``sampling/createMessage``); a 2026-07-28 client cannot be sent
one (it takes ``input_required`` results and retries). On the SDK's entry the gateway translates:

- the upstream's call runs on in the gateway (an :class:`Exchange` held by THIS process); the
  client is answered ``input_required`` whose ``inputRequests`` carry the upstream's request under
  :data:`ASK_KEY`, and whose ``requestState`` is sealed as every state the gateway hands out
  (:class:`proctor.gateway.mrtr.StateSeal`: task, upstream, tool, arguments' digest) and names the
  exchange (this process's key and the exchange's id);
- the client's retry (same tool, same arguments, the state, its answer) is a new call, decided like
  any retry; allowed, its answer goes to the upstream's pending request and the gateway waits for
  the upstream's result, or its next request (another round, at most ``mrtr.MAX_ROUNDS``);
- **fail closed**: an exchange waits at most :data:`EXCHANGE_TTL_S` seconds for its retry (the
  upstream's request then gets an error, the exchange ends, recorded ``gateway.exchange_ended``);
  a task holds at most :data:`MAX_PENDING_PER_TASK`, the process :data:`MAX_PENDING` (the
  upstream's request past that gets an error), and an upstream's request larger than
  :data:`MAX_ASK_BYTES` is refused; a retry that came in time keeps its exchange while it is decided
  (held for approval); the task's end, its agent's suspension and the gateway's stop end the
  exchanges (recorded with why); a retry that reaches another process, an ended or expired exchange, an earlier round's
  state or an exchange another request is continuing is refused -32602 before anything is decided
  (``gateway.refused``); a retry that is not allowed (denied, refused, held and not approved) ends
  the exchange (the upstream's request gets an error, its call is cancelled). A client that did not
  declare the capability a request needs is never asked: the upstream gets an error at once.

2025-11-25 clients are not concerned: their request is sent the upstream's request as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST

from proctor.gateway import wire
from proctor.gateway.calls import Caller
from proctor.gateway.config import UpstreamConfig
from proctor.gateway.mrtr import MAX_INPUT_RESPONSES_BYTES, MAX_ROUNDS, ModernSdkLeg, Retry

if TYPE_CHECKING:
    from proctor.app import Proctor
    from proctor.gateway.sessions import TaskUpstreams

__all__ = [
    "ASK_KEY",
    "EXCHANGE_TTL_S",
    "MAX_ASK_BYTES",
    "MAX_PENDING",
    "MAX_PENDING_PER_TASK",
    "Exchange",
    "Exchanges",
    "TranslatingSdkLeg",
]

log = logging.getLogger(__name__)

#: how long a pending exchange waits for the client's retry (seconds)
EXCHANGE_TTL_S = 60.0
#: the most exchanges one task may have pending in one gateway process
MAX_PENDING_PER_TASK = 4
#: the most exchanges one gateway process holds pending, all tasks together: each holds an upstream
#: call and its request in memory, and tasks are cheap to start (red team, 2026-12-06)
MAX_PENDING = 1024
#: the largest upstream request handed to a client (its JSON, bytes): what a retry may answer with
#: is bounded the same (``mrtr.MAX_INPUT_RESPONSES_BYTES``); a larger one gets an error upstream
MAX_ASK_BYTES = MAX_INPUT_RESPONSES_BYTES
#: how often an expired exchange a retry is being decided for looks whether the retry let go of it
_CLAIMED_POLL_S = 0.25
#: the ``inputRequests`` key the upstream's request is sent under (and its answer read from)
ASK_KEY = "upstream"
#: the client capability each translated request needs
_NEEDS = {"elicitation/create": "elicitation", "sampling/createMessage": "sampling", "roots/list": "roots"}
_RESULTS: dict[str, type[Any]] = {
    "elicitation/create": types.ElicitResult,
    "sampling/createMessage": types.CreateMessageResult,
    "roots/list": types.ListRootsResult,
}


def _refused(message: str) -> MCPError:
    return MCPError(INVALID_PARAMS, message)


class Exchange:
    """One upstream call kept running across a 2026-07-28 client's requests."""

    def __init__(self, registry: Exchanges, caller: Caller, tool: str) -> None:
        self.registry = registry
        self.id = secrets.token_urlsafe(16)
        self.caller = caller
        self.tool = tool
        #: what the upstream's call says next: ("ask", None), ("done", result), ("error", exc)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        #: the upstream's pending request (as it came), the method it names
        self.asked: Any = None
        self.method = ""
        self._answer: Any = None
        self._answered = asyncio.Event()
        #: the round the last state handed out answered
        self.round = 0
        #: the client capabilities the request being served declared
        self.capabilities: Mapping[str, Any] = {}
        self.claimed = False
        self.ended = False
        self.runner: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        """What the sealed state names: this process's key and the exchange's id."""
        return f"{self.registry.key}.{self.id}"

    def start(self, call: Callable[[], Awaitable[Any]]) -> None:
        async def run() -> None:
            try:
                result = await call()
            except asyncio.CancelledError:
                self.events.put_nowait(("error", RuntimeError("the upstream call was cancelled")))
                raise
            except Exception as exc:
                self.events.put_nowait(("error", exc))
            else:
                self.events.put_nowait(("done", result))
            if self.registry.holds(self):  # parked, and the upstream's call ended (it died, the task ended)
                await self.registry.end(self, "upstream_ended")

        self.runner = asyncio.ensure_future(run())

    async def ask(self, request: Any, result_type: type[Any]) -> Any:
        """The upstream's mid-call request: handed to the client (``input_required``), answered
        with the client's retry, or an error (capability not declared, too many pending, expired,
        the exchange ended)."""
        method = str(getattr(request, "method", ""))
        need = _NEEDS.get(method)
        if self.ended or self.asked is not None:
            return types.ErrorData(code=INVALID_REQUEST, message="the exchange has ended")
        if need is None or need not in self.capabilities or method not in _RESULTS:
            return types.ErrorData(
                code=INVALID_REQUEST, message=f"the client did not declare the capability `{need or method}`"
            )
        try:
            size = len(wire.dumps(request.model_dump(mode="json", by_alias=True, exclude_none=True)))
        except (TypeError, ValueError):
            size = MAX_ASK_BYTES + 1
        if size > MAX_ASK_BYTES:
            # never held, never handed to the client (nor labelled, digested, recorded in full)
            log.warning("an upstream's %s of %d bytes was refused (at most %d)", method, size, MAX_ASK_BYTES)
            return types.ErrorData(
                code=INVALID_REQUEST,
                message=f"the request is larger than the gateway relays ({MAX_ASK_BYTES} bytes)",
            )
        self.asked, self.method = request, method
        self._answered = asyncio.Event()
        self.events.put_nowait(("ask", None))
        try:
            with anyio.move_on_after(self.registry.ttl):
                await self._answered.wait()
            # a retry that came in time and is being decided (held for approval, perhaps) keeps the
            # exchange until its decision: it ends it (``retry_not_allowed``) or answers; its hold
            # is bounded by ``approvals.hold`` (red team, 2026-12-06: the TTL fired during the hold
            # and the approved retry found the exchange ended)
            while self.claimed and not self.ended and not self._answered.is_set():
                with anyio.move_on_after(_CLAIMED_POLL_S):
                    await self._answered.wait()
            if not self._answered.is_set():
                await self.registry.end(self, "expired")
                return types.ErrorData(code=INTERNAL_ERROR, message="the client did not answer in time")
            return self._answer
        finally:
            self.asked = None

    def answer(self, value: Any) -> None:
        self._answer = value
        self._answered.set()

    def request_json(self) -> dict[str, Any]:
        """The upstream's pending request in the 2026-07-28 shape of an input request."""
        out: dict[str, Any] = self.asked.model_dump(mode="json", by_alias=True, exclude_none=True)
        params = out.get("params")
        if isinstance(params, dict):
            params.pop("_meta", None)
            params.pop("task", None)
        return {"method": out.get("method"), "params": params or {}}

    def response(self, responses: Mapping[str, Any] | None) -> Any:
        """The client's answer to the pending request, as the upstream expects it; raises
        MCPError(-32602) when it is missing or not one."""
        raw = (responses or {}).get(ASK_KEY)
        if not isinstance(raw, dict):
            raise _refused(f"inputResponses holds no answer under `{ASK_KEY}`")
        try:
            return _RESULTS[self.method].model_validate(raw)
        except Exception:
            raise _refused(f"inputResponses[`{ASK_KEY}`] is not an answer to {self.method}") from None

    def stop(self) -> None:
        """End the exchange here: the upstream's pending request gets an error, its call is cancelled."""
        self.ended = True
        if self.asked is not None and not self._answered.is_set():
            self.answer(types.ErrorData(code=INVALID_REQUEST, message="the client's retry was not allowed"))
        if self.runner is not None and not self.runner.done():
            runner = self.runner
            # let the error reach the upstream first, then cancel what is left of its call
            asyncio.get_running_loop().call_later(0.5, runner.cancel)


class Exchanges:
    """This process's pending exchanges (see the module docstring)."""

    def __init__(self, proctor: Proctor, ttl: float | None = None) -> None:
        self.proctor = proctor
        self.ttl = EXCHANGE_TTL_S if ttl is None else ttl
        #: names this process in the states it hands out (a retry reaching another one is refused)
        self.key = secrets.token_hex(8)
        self._held: dict[str, Exchange] = {}

    def pending(self, task_id: str) -> int:
        return sum(1 for x in self._held.values() if str(x.caller.task_id) == task_id)

    def park(self, ex: Exchange) -> bool:
        if ex.id not in self._held and (
            len(self._held) >= MAX_PENDING or self.pending(str(ex.caller.task_id)) >= MAX_PENDING_PER_TASK
        ):
            return False
        ex.claimed = False
        self._held[ex.id] = ex
        return True

    def claim(self, named: str, round_no: int, task_id: str) -> Exchange:
        """The exchange a retry's state names, claimed for that retry; raises MCPError(-32602)."""
        key, _, xid = named.partition(".")
        if not hmac_equal(key, self.key):
            raise _refused(
                "requestState continues an exchange another gateway process holds (retries must reach"
                " the process that answered the call): start the call again without it"
            )
        ex = self._held.get(xid)
        if (
            ex is None
            or ex.ended
            or str(ex.caller.task_id) != task_id
            or (ex.asked is None and not ex.claimed)
        ):
            raise _refused("the exchange requestState continues has expired or ended: start the call again")
        if round_no != ex.round:
            raise _refused("requestState is an earlier round's: answer the latest input_required")
        if ex.claimed:
            raise _refused("the exchange requestState continues is being continued by another request")
        ex.claimed = True
        return ex

    def holds(self, ex: Exchange) -> bool:
        """Whether ``ex`` is parked here, waiting for its retry."""
        return self._held.get(ex.id) is ex and not ex.claimed

    def release(self, ex: Exchange) -> None:
        ex.claimed = False

    def take(self, ex: Exchange) -> None:
        self._held.pop(ex.id, None)

    async def end(self, ex: Exchange, reason: str) -> None:
        """End an exchange that will not complete (``reason``: expired, retry_not_allowed, ...),
        recorded ``gateway.exchange_ended``."""
        if ex.ended:
            return
        self._held.pop(ex.id, None)
        ex.stop()
        try:
            await self.proctor.audit.append_async(
                "gateway.exchange_ended",
                {"reason": reason, "name": ex.tool, "round": ex.round, "method": ex.method or None},
                agent=str(ex.caller.agent),
                task=str(ex.caller.task_id),
            )
        except Exception:
            log.exception("could not audit an ended exchange")

    async def end_all(self, reason: str, task_id: str | None = None) -> int:
        """End every exchange held here (of ``task_id`` only, when given), recorded with ``reason``
        (``shutdown``, ``task_ended``, ``agent_not_active``): the upstream's request gets an error
        and its call is cancelled. One a request is continuing ends with that request. Returns how
        many ended."""
        ended = 0
        for ex in list(self._held.values()):
            if task_id is not None and str(ex.caller.task_id) != task_id:
                continue
            await self.end(ex, reason)
            ended += 1
        return ended

    async def close(self) -> None:
        """The process stops: every exchange it holds ends (``shutdown``), its upstream call is
        cancelled now (no later turn of the loop may come)."""
        held = list(self._held.values())
        if not held:
            return
        with anyio.CancelScope(shield=True):  # a stop by cancellation (SIGTERM) still records them
            await self.end_all("shutdown")
            await anyio.sleep(0)  # the upstreams' requests are answered (the error) first
        for ex in held:
            if ex.runner is not None and not ex.runner.done():
                ex.runner.cancel()


def hmac_equal(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


class TranslatingSdkLeg(ModernSdkLeg):
    """The SDK leg of a 2026-07-28 ``tools/call`` that translates the upstream's mid-call requests
    into ``input_required`` rounds (see the module docstring)."""

    def __init__(
        self,
        ctx: ServerRequestContext[Any, Any],
        retry: Retry,
        exchanges: Exchanges,
        caller: Caller,
        tool: str,
        continued: Exchange | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(ctx, retry)
        self._exchanges = exchanges
        self._caller = caller
        self._tool = tool
        #: the exchange this retry continues (claimed), or None for a first call
        self.continued = continued
        self._response = response
        self._current: Exchange | None = continued
        #: whether the call reached :meth:`send` (an allowed call)
        self.sent = False

    async def open(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> Any:
        session = await super().open(owned, cfg)
        owned.intercepts[id(self.ctx)] = self._ask
        return session

    def done(self, owned: TaskUpstreams) -> None:
        owned.intercepts.pop(id(self.ctx), None)
        super().done(owned)

    async def _ask(self, request: Any, result_type: type[Any]) -> Any:
        ex = self._current
        if ex is None:
            return types.ErrorData(code=INVALID_REQUEST, message="no exchange is in progress")
        return await ex.ask(request, result_type)

    async def send(
        self, session: Any, cfg: UpstreamConfig, tool: str, args: Mapping[str, Any], grace: Any
    ) -> Any:
        self.sent = True
        exchanges = self._exchanges
        ex = self.continued
        if ex is not None:
            exchanges.take(ex)
            if ex.ended:
                raise MCPError(INTERNAL_ERROR, "the exchange ended before the retry was allowed")
            ex.capabilities = self._retry.capabilities
            ex.answer(self._response)
        else:
            ex = Exchange(exchanges, self._caller, self._tool)
            ex.capabilities = self._retry.capabilities
            self._current = ex
            ctx = self.ctx

            async def relay(progress: float, total: float | None, message: str | None) -> None:
                with contextlib.suppress(Exception):  # progress is best effort
                    await ctx.session.report_progress(progress, total, message)

            client = session.session
            # the upstream's call may wait for the client over several rounds, each bounded
            read_timeout = cfg.timeout_s + exchanges.ttl * MAX_ROUNDS
            ex.start(
                lambda: client.call_tool(
                    tool,
                    dict(args),
                    read_timeout_seconds=read_timeout,
                    progress_callback=relay,
                    input_responses=self._responses,
                    request_state=self._retry.upstream_state,
                    allow_input_required=True,
                )
            )
        self._current = ex
        try:
            with anyio.fail_after(cfg.timeout_s):
                kind, value = await ex.events.get()
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await exchanges.end(ex, "upstream_timeout" if isinstance(exc, TimeoutError) else "cancelled")
            raise
        if kind == "error":
            ex.ended = True
            raise value
        if kind == "done":
            ex.ended = True
            if isinstance(value, types.InputRequiredResult):
                return self._retry.sealed(value.model_dump(mode="json", by_alias=True, exclude_none=True))
            if not isinstance(value, types.CallToolResult):
                raise MCPError(
                    INTERNAL_ERROR, "the upstream answered with a result the gateway does not relay"
                )
            return value.model_copy(update={"meta": None})
        # the upstream asks the client something: hand it over as input_required, keep the call
        try:
            out = self._retry.sealed({"inputRequests": {ASK_KEY: ex.request_json()}}, exchange=ex.name)
        except MCPError:
            await exchanges.end(ex, "too_many_rounds")
            raise
        if not exchanges.park(ex):
            await exchanges.end(ex, "too_many_pending")
            raise MCPError(
                INTERNAL_ERROR,
                f"too many exchanges are pending (at most {MAX_PENDING_PER_TASK} a task, {MAX_PENDING} in all)",
            )
        ex.round = self._retry.round_no + 1
        return out

    async def settle(self) -> None:
        """After the call: a retry that never reached the upstream (denied, refused, held and not
        approved, failed before) ends the exchange it claimed."""
        ex = self.continued
        if ex is not None and not self.sent and not ex.ended:
            with anyio.CancelScope(shield=True):
                await self._exchanges.end(ex, "retry_not_allowed")
