"""The MCP methods other than ``tools/call`` that reach an upstream, each decided and audited as a call.

``resources/read``, ``resources/subscribe``, ``resources/unsubscribe``, ``prompts/get``,
``completion/complete`` and ``logging/setLevel`` go through the same pipeline as a tool call
(identity → task → Cedar decision → durable audit), under a **relay tool** of the upstream: the
Proctor tool ``<namespace>.<method with "/" as ".", lowercase>``, for example ``fs.resources.read``
or ``fs.logging.setlevel``. Upstream tool names hold no dot, so no upstream tool can take one of
these names. The gateway registers each relay tool itself, with effect ``read``, the labels of the
upstream's ``default`` description and its ``production`` flag, and (except for logging) ``uri``
as the resource argument. So:

- a task's ``--allow`` patterns cover relay tools like any other (``fs.*`` covers them,
  ``fs.read_file`` does not; ``fs.resources.*`` names only the resource methods);
- the call's resource is the resource URI (for a prompt, ``prompt://<namespace>/<name>``; for a
  completion, the referenced prompt's URI or the resource template's URI), checked against the
  task's ``--resource`` patterns and given to Cedar as ``context.resource``;
- each request counts against ``--max-calls``, and its decision is durable before the upstream
  sees it, in every ``gateway.audit`` mode (a failed write means the upstream never sees it);
- a request not allowed is a JSON-RPC error (-32600) naming the decision; an allowed one is
  followed by a ``call.completed`` record, as a tool call is.

The list methods (``resources/list``, ``resources/templates/list``, ``prompts/list``) are catalog
reads: they are not decided, but reach only the upstreams the task declares, and show an
upstream's resources (templates, prompts) only to a task whose ``--allow`` patterns match its
``resources.read`` (``prompts.get``) relay tool. See docs/adr/0016.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import mcp_types as types
from mcp import Client
from mcp.shared.exceptions import MCPError

from proctor.config import tool_from_mapping
from proctor.errors import ProctorError, StoreError
from proctor.gateway.calls import Caller, Calls, Failure, call_input, failure
from proctor.gateway.config import UpstreamConfig
from proctor.gateway.lean import LeanHttpUpstream
from proctor.gateway.mrtr import Retry, StateSeal, audit_refused, open_retry, relay_binding
from proctor.gateway.sessions import TaskUpstreams
from proctor.pipeline import CallInput
from proctor.policy.engine import Decision
from proctor.policy.scope import NO_RESOURCE, declares_namespace
from proctor.store.base import TaskRecord, ToolRecord
from proctor.types import ToolName, Verdict

if TYPE_CHECKING:
    from proctor.snapshot import Snapshot

__all__ = [
    "DENIED",
    "RELAY_EFFECT",
    "RELAY_TOOLS",
    "RESOURCE_ARG",
    "ModernRequest",
    "catalog_resources",
    "complete",
    "each_upstream",
    "get_prompt",
    "list_prompts",
    "list_resource_templates",
    "list_resources",
    "prompt_upstream",
    "prompt_uri",
    "read_resource",
    "refusal",
    "relay",
    "relay_error",
    "relay_record",
    "relay_tool",
    "resource_upstream",
    "set_logging_level",
    "subscribe",
    "visible",
]


log = logging.getLogger(__name__)
T = TypeVar("T")

#: the MCP methods relayed as calls, and the relay tool (after ``<namespace>.``) each is decided as
RELAY_TOOLS: dict[str, str] = {
    "resources/read": "resources.read",
    "resources/subscribe": "resources.subscribe",
    "resources/unsubscribe": "resources.unsubscribe",
    "prompts/get": "prompts.get",
    "completion/complete": "completion.complete",
    "logging/setLevel": "logging.setlevel",
}
#: the argument of a relay call that holds its resource (the scope check and ``context.resource``)
RESOURCE_ARG = "uri"
#: the effect every relay tool is registered with: each reads, or (logging) only changes what the
#: task's own session is sent
RELAY_EFFECT = "read"
#: the JSON-RPC error code of a relayed request Proctor did not allow
DENIED = types.INVALID_REQUEST


def relay_tool(namespace: str, method: str) -> ToolName:
    """The Proctor tool a relayed MCP ``method`` of upstream ``namespace`` is decided as."""
    return ToolName(f"{namespace}.{RELAY_TOOLS[method]}")


def prompt_uri(namespace: str, prompt: str) -> str:
    """The resource a prompt is, for the scope check and Cedar: ``prompt://<namespace>/<name>``."""
    return f"prompt://{namespace}/{prompt}"


def relay_record(cfg: UpstreamConfig, method: str) -> ToolRecord:
    """The registration of one relay tool of ``cfg``."""
    default = cfg.default
    flags = default.get("flags") or []
    raw: dict[str, Any] = {
        "name": relay_tool(cfg.namespace, method),
        "effect": RELAY_EFFECT,
        "labels": dict(default.get("labels") or {}),
        "flags": ["production"] if "production" in flags else [],
        "description": f"MCP `{method}` relayed to upstream `{cfg.namespace}` (registered by the gateway)",
    }
    # setLevel touches no resource: described as such, so a task that declares resources keeps it
    raw["resource_arg"] = RESOURCE_ARG if method != "logging/setLevel" else NO_RESOURCE
    return tool_from_mapping(raw, f"upstream `{cfg.namespace}` relay `{method}`")


def _register(calls: Calls, cfg: UpstreamConfig, method: str) -> bool:
    """Make sure the relay tool is registered as the gateway defines it; True if it was (re)written."""
    want = relay_record(cfg, method)
    have = calls.proctor.state.tool(want.name)
    if have is not None and dataclasses.replace(have, version=want.version) == want:
        return False
    calls.proctor.tools.put(want, by=f"upstream:{cfg.namespace}")
    return True


def visible(task: TaskRecord, cfg: UpstreamConfig, method: str) -> bool:
    """Whether the task's ``--allow`` patterns match the relay tool of ``method`` on ``cfg``."""
    name = f"{cfg.namespace}.{RELAY_TOOLS[method]}"
    return any(fnmatchcase(name, p) for p in task.allow)


# deciding --------------------------------------------------------------------------------------
async def _prepare(
    calls: Calls,
    caller: Caller,
    cfg: UpstreamConfig,
    method: str,
    args: dict[str, Any],
    continuation: dict[str, Any] | None = None,
) -> tuple[ToolName, CallInput, Decision | None, Snapshot | None]:
    """Register the relay tool: the request the pipeline decides, and the snapshot it decides on;
    or a deny the gateway decided itself (recorded), when that could not be done."""
    name = relay_tool(cfg.namespace, method)
    call = call_input(caller, name, args, continuation)
    try:
        await calls.proctor.store_guard.run(_register, calls, cfg, method)
        snap = (
            await calls.proctor.state.snapshot_async()
        )  # after registering, which may have changed the store
    except StoreError as exc:
        log.error("store error before deciding a relayed %s: %s", method, exc.message)
        d = await calls.deny_recorded(
            call, caller, name, "the store could not be read: the request is denied", exc.code
        )
        return name, call, d, None
    except ProctorError as exc:  # the policy schema has no `read` action, for example
        return name, call, await calls.deny_recorded(call, caller, name, exc.message, exc.code), None
    return name, call, None, snap


def refusal(method: str, decision: Decision) -> MCPError:
    """The JSON-RPC error for a relayed request that may not go ahead."""
    reasons = "; ".join(decision.reasons)
    if decision.verdict is Verdict.APPROVAL_REQUIRED:
        text = f"`{method}` needs approval by {decision.approval or 'a human'} before it can run: {reasons}"
    else:
        text = f"Proctor denied `{method}`: {reasons}"
    return MCPError(
        DENIED,
        f"{text} (decision {decision.decision_id})",
        {"decision": decision.verdict.value, "decision_id": str(decision.decision_id)},
    )


async def relay(
    calls: Calls,
    caller: Caller,
    cfg: UpstreamConfig,
    method: str,
    args: dict[str, Any],
    send: Callable[[Any], Awaitable[T]],
    dump: Callable[[T], Any],
    route: _ModernRoute | None = None,
    retry: Retry | None = None,
) -> T:
    """Decide ``method`` on ``cfg`` (:meth:`Pipeline.run`); if allowed, send it (``send``) and
    record its completion (``dump`` gives the output its digest is taken over). Raises
    :class:`MCPError` otherwise. ``route``/``retry``: a 2026-07-28 request that may answer
    ``input_required`` (see :class:`ModernRequest`); ``send`` is then given what the route opened."""
    calls.inflight += 1
    try:
        record = None if retry is None else retry.record()
        name, call, decided, snap = await _prepare(calls, caller, cfg, method, args, record)
        handoff = _Relayed(calls, caller, cfg, method, name, send, dump, route)
        if decided is not None:
            return handoff.refuse(decided)
        return await calls.proctor.pipeline.run(call, handoff, snap=snap, alone=calls.inflight <= 1)
    finally:
        calls.inflight -= 1


class _Relayed(Generic[T]):
    """The stages of one relayed request after its decision, handed to the pipeline as its
    :class:`~proctor.pipeline.Handoff`. A refusal is the JSON-RPC error the request is answered
    with (:func:`refusal`), raised; so is a failed upstream exchange (:func:`relay_error`)."""

    __slots__ = ("caller", "calls", "cfg", "dump", "method", "name", "route", "send")

    def __init__(
        self,
        calls: Calls,
        caller: Caller,
        cfg: UpstreamConfig,
        method: str,
        name: ToolName,
        send: Callable[[Any], Awaitable[T]],
        dump: Callable[[T], Any],
        route: _ModernRoute | None = None,
    ) -> None:
        self.calls, self.caller, self.cfg, self.method, self.name = calls, caller, cfg, method, name
        self.send, self.dump, self.route = send, dump, route

    def refuse(self, decision: Decision) -> T:
        raise refusal(self.method, decision)

    async def forward(self, decision: Decision, recorded: Awaitable[Decision] | None) -> T:
        # decided with its record durable first (never overlapped): ``recorded`` is None
        calls = self.calls
        return await _forward(
            calls,
            calls.owned(self.caller.task_id),
            self.cfg,
            self.method,
            self.name,
            decision,
            self.send,
            self.dump,
            self.route,
        )


async def _forward(
    calls: Calls,
    owned: TaskUpstreams,
    cfg: UpstreamConfig,
    method: str,
    name: ToolName,
    decision: Decision,
    send: Callable[[Any], Awaitable[T]],
    dump: Callable[[T], Any],
    route: _ModernRoute | None = None,
) -> T:
    started = calls.proctor.clock.monotonic()
    status = "ok"
    output: Any = None
    kind: str | None = None
    try:
        if route is None:
            session: Any = (await owned.get(cfg)).require()
        else:
            with anyio.fail_after(cfg.timeout_s):  # asking the upstream which revisions it takes
                session = await route.open(owned, cfg)
        owned.record_use(cfg, decision)
        with anyio.fail_after(cfg.timeout_s):
            result = await send(session)
        if isinstance(result, types.InputRequiredResult):
            kind = "input_required"
        try:
            output = dump(result)
        except Exception:  # the digest is best effort; the answer is not lost for it
            output = None
        return result
    except Exception as exc:
        f = failure(exc, cfg, method)  # the mapping tools/call uses (proctor.gateway.calls)
        status = f.status
        if f.drop:
            owned.drop(cfg.namespace, cfg)  # a hung or dead upstream is restarted for the next request
            if route is not None and route.lean:
                await owned.drop_lean(cfg.namespace, cfg)
        raise relay_error(f, cfg, method, decision) from None
    finally:
        # what a resource or prompt returned is read by the agent like a tool's output: labelled
        # and kept for tracing the task's later calls (proctor.flow.service)
        labels = (
            calls.observe_output(owned.task_id, name, {}, decision, status, list(output), None, None)
            if status == "ok" and isinstance(output, list)
            else None
        )
        calls.record_completion(
            owned.task_id,
            cfg,
            name,
            decision,
            status,
            [output],
            None,
            status != "ok",
            started,
            labels=labels,
            extra=None if kind is None else {"result_type": kind},
        )


def relay_error(f: Failure, cfg: UpstreamConfig, method: str, decision: Decision) -> MCPError:
    """The JSON-RPC error for a relayed request whose upstream exchange failed."""
    ns = cfg.namespace
    if f.status == "credential_unavailable":
        return MCPError(DENIED, f"Proctor denied `{method}`: {f.detail} (decision {decision.decision_id})")
    if f.status == "timeout":
        return MCPError(
            types.INTERNAL_ERROR,
            f"upstream `{ns}` did not answer within {cfg.timeout_s:g}s; `{method}` was abandoned"
            f" (decision {decision.decision_id})",
        )
    if f.status == "upstream_error":
        return MCPError(f.code, f.detail, None if f.uri is None else {"uri": f.uri})
    if f.status == "answer_too_large":
        return MCPError(types.INTERNAL_ERROR, f"{f.detail}; `{method}` did not complete")
    return MCPError(types.INTERNAL_ERROR, f"upstream `{ns}` is unavailable")


# 2026-07-28: input_required on prompts/get and resources/read ---------------------------------
class ModernRequest:
    """A 2026-07-28 ``prompts/get`` or ``resources/read`` as the SDK's stateless entry received it
    (its JSON params) and the seal the gateway's states are made with (ADR 0031, amendment of
    2026-12-06). Such a request may answer ``input_required`` (SEP-2322), with the same rules as a
    ``tools/call`` (:mod:`proctor.gateway.mrtr`): the upstream's state comes back sealed to the
    task, the upstream, the method and the request as decided (the prompt's or resource's URI and
    arguments); a retry whose state does not open for exactly that request, or whose input is too
    large, is refused -32602 and recorded (``gateway.refused``, ``request_state_invalid``) before
    anything is decided; every round is decided (a ``read`` of the relay tool) and recorded, the
    retry's decision carrying ``continuation``. It goes upstream as a 2026-07-28 request when the
    upstream is a plain-HTTP one that takes them, else over the task's SDK session (an upstream
    spoken to with the handshake cannot answer ``input_required`` there)."""

    __slots__ = ("params", "seal")

    def __init__(self, params: Mapping[str, Any], seal: StateSeal) -> None:
        self.params, self.seal = params, seal

    async def open(
        self, calls: Calls, caller: Caller, cfg: UpstreamConfig, method: str, args: Mapping[str, Any]
    ) -> Retry:
        """The request's retry input, opened for it; refused (MCPError -32602) and recorded when
        the gateway does not take it."""
        binding = relay_binding(str(caller.task_id), cfg, method, args)
        try:
            return open_retry(self.params, self.seal, binding)
        except MCPError:
            await audit_refused(calls.proctor, caller, method)
            raise


class _ModernRoute:
    """Where a 2026-07-28 relayed request goes: the task's lean session with a plain-HTTP upstream
    that takes 2026-07-28 requests (``lean`` set), else its SDK session."""

    __slots__ = ("lean",)

    def __init__(self) -> None:
        self.lean: LeanHttpUpstream | None = None

    async def open(self, owned: TaskUpstreams, cfg: UpstreamConfig) -> Any:
        if cfg.transport == "http" and (cfg.url or "").startswith("http://"):
            up = await owned.lean(cfg)
            if await up.speaks_modern():
                self.lean = up
                return up
        return (await owned.get(cfg)).require()


def _dump_json(result: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


async def _send_modern(
    session: Any,
    retry: Retry,
    method: str,
    params: dict[str, Any],
    via_sdk: Callable[[Client], Awaitable[Any]],
    complete: Callable[[dict[str, Any]], T],
) -> T | types.InputRequiredResult:
    """One round of a 2026-07-28 relayed request on what :class:`_ModernRoute` opened."""
    if isinstance(session, LeanHttpUpstream):
        raw = await session.request_modern(
            method, params, retry.capabilities, retry.raw_responses, retry.upstream_state
        )
        if raw.get("resultType") == "input_required":
            return retry.sealed(raw)
        raw.pop("resultType", None)
        return complete(raw)
    result = await via_sdk(session)
    if isinstance(result, types.InputRequiredResult):
        return retry.sealed(_dump_json(result))
    out: T = result
    return out


def _dump_or_requests(items: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The output a relayed answer's digest and labels are taken over: an ``input_required``
    answer's input requests (what reaches the agent), else ``items`` of the result."""

    def dump(result: Any) -> Any:
        if isinstance(result, types.InputRequiredResult):
            return [{"inputRequests": _dump_json(result).get("inputRequests")}]
        return _dumped(items(result))

    return dump


# routing ---------------------------------------------------------------------------------------
async def each_upstream(calls: Calls, caller: Caller) -> AsyncIterator[tuple[UpstreamConfig, Client]]:
    """The task's open sessions with the upstreams its declared intent names (opened if needed)."""
    task = calls.live_task(caller)
    owned = calls.owned(task.id)
    for cfg in calls.catalog.upstreams.values():
        if not declares_namespace(task.allow, cfg.namespace):
            # a task reaches only the upstreams its declared intent names: none of the rest is
            # started, leased for, listed, read or told anything on its behalf
            continue
        try:
            up = await owned.get(cfg)
            yield cfg, up.require()
        except Exception as exc:
            log.warning("upstream `%s` skipped: %s", cfg.namespace, type(exc).__name__)
            owned.drop(cfg.namespace)


async def catalog_resources(calls: Calls, caller: Caller) -> list[tuple[UpstreamConfig, types.Resource]]:
    """Every resource the task's declared upstreams list; remembers which upstream owns each URI."""
    owned = calls.owned(caller.task_id)
    out: list[tuple[UpstreamConfig, types.Resource]] = []
    listed_by: dict[str, set[str]] = {}
    async for cfg, client in each_upstream(calls, caller):
        if client.server_capabilities is None or client.server_capabilities.resources is None:
            continue
        res = await client.list_resources()
        for r in res.resources:
            listed_by.setdefault(str(r.uri), set()).add(cfg.namespace)
            out.append((cfg, r))
    for uri, namespaces in listed_by.items():
        # a URI two upstreams list is nobody's: one upstream cannot take another's resources
        owned.resource_owner[uri] = next(iter(namespaces)) if len(namespaces) == 1 else ""
    return out


async def list_resources(calls: Calls, caller: Caller) -> list[types.Resource]:
    task = calls.live_task(caller)
    return [r for cfg, r in await catalog_resources(calls, caller) if visible(task, cfg, "resources/read")]


async def list_resource_templates(calls: Calls, caller: Caller) -> list[types.ResourceTemplate]:
    task = calls.live_task(caller)
    out: list[types.ResourceTemplate] = []
    async for cfg, client in each_upstream(calls, caller):
        caps = client.server_capabilities
        if caps is None or caps.resources is None or not visible(task, cfg, "resources/read"):
            continue
        out.extend((await client.list_resource_templates()).resource_templates)
    return out


async def list_prompts(calls: Calls, caller: Caller) -> list[types.Prompt]:
    task = calls.live_task(caller)
    out: list[types.Prompt] = []
    async for cfg, client in each_upstream(calls, caller):
        caps = client.server_capabilities
        if caps is None or caps.prompts is None or not visible(task, cfg, "prompts/get"):
            continue
        for p in (await client.list_prompts()).prompts:
            out.append(p.model_copy(update={"name": cfg.exposed_name(p.name)}))
    return out


async def resource_upstream(calls: Calls, caller: Caller, uri: str) -> UpstreamConfig:
    """The declared upstream that owns ``uri`` (MCPError -32602 when none or several do)."""
    task = calls.live_task(caller)
    owned = calls.owned(task.id)
    ns = owned.resource_owner.get(uri)
    if ns is None:
        await catalog_resources(calls, caller)
        ns = owned.resource_owner.get(uri)
    if ns is None and len(calls.catalog.upstreams) == 1:
        ns = next(iter(calls.catalog.upstreams))  # a template's URI, with one upstream to ask
    if ns == "":
        raise MCPError(types.INVALID_PARAMS, f"resource `{uri[:200]}` is listed by more than one upstream")
    cfg = None if ns is None else calls.catalog.upstreams.get(ns)  # a reload may have removed it
    if ns is None or cfg is None or not declares_namespace(task.allow, ns):
        raise MCPError(types.INVALID_PARAMS, f"unknown resource `{uri[:200]}`")
    return cfg


def prompt_upstream(calls: Calls, caller: Caller, name: str) -> tuple[UpstreamConfig, str]:
    """The declared upstream and upstream name of a prompt (MCPError -32602 when there is none)."""
    target = calls.catalog.resolve(name)
    if target is None or not declares_namespace(calls.live_task(caller).allow, target[0].namespace):
        raise MCPError(types.INVALID_PARAMS, f"unknown prompt `{name[:100]}`")
    return target


# the relayed methods ---------------------------------------------------------------------------
def _dumped(items: Any) -> list[Any]:
    return [x.model_dump(mode="json") for x in items]


def _private(result: types.ReadResourceResult) -> types.ReadResourceResult:
    """A read as the agent gets it: the upstream's ``_meta`` and caching directives taken off. Each
    read is decided, labelled and recorded for its task: an upstream's ``cacheScope: "public"`` or
    ``ttlMs`` would let a client (or a shared cache in front of the gateway) serve it again without
    a decision (after a policy denies it, the task ended, to another agent). The lean leg takes
    them off too (ADR 0031)."""
    return result.model_copy(update={"meta": None, "ttl_ms": 0, "cache_scope": "private"})


async def read_resource(
    calls: Calls, caller: Caller, uri: str, modern: ModernRequest | None = None
) -> types.ReadResourceResult | types.InputRequiredResult:
    cfg = await resource_upstream(calls, caller, uri)
    method = "resources/read"
    args = {RESOURCE_ARG: uri}
    if modern is None:  # 2025-11-25

        async def send(client: Client) -> types.ReadResourceResult:
            return await client.read_resource(uri)

        result = await relay(calls, caller, cfg, method, args, send, lambda r: _dumped(r.contents))
        return _private(result)
    retry = await modern.open(calls, caller, cfg, method, args)

    async def via_sdk(client: Client) -> Any:
        return await client.session.read_resource(
            uri, input_responses=retry.typed, request_state=retry.upstream_state, allow_input_required=True
        )

    async def send_modern(session: Any) -> types.ReadResourceResult | types.InputRequiredResult:
        return await _send_modern(
            session, retry, method, {"uri": uri}, via_sdk, types.ReadResourceResult.model_validate
        )

    answer = await relay(
        calls,
        caller,
        cfg,
        method,
        args,
        send_modern,
        _dump_or_requests(lambda r: r.contents),
        _ModernRoute(),
        retry,
    )
    return answer if isinstance(answer, types.InputRequiredResult) else _private(answer)


async def subscribe(calls: Calls, caller: Caller, uri: str, on: bool) -> None:
    cfg = await resource_upstream(calls, caller, uri)
    method = "resources/subscribe" if on else "resources/unsubscribe"

    async def send(client: Client) -> types.EmptyResult:
        if on:
            return await client.subscribe_resource(uri)
        return await client.unsubscribe_resource(uri)

    await relay(calls, caller, cfg, method, {RESOURCE_ARG: uri}, send, lambda _r: None)


async def get_prompt(
    calls: Calls,
    caller: Caller,
    name: str,
    arguments: dict[str, str] | None,
    modern: ModernRequest | None = None,
) -> types.GetPromptResult | types.InputRequiredResult:
    cfg, upstream_name = prompt_upstream(calls, caller, name)
    method = "prompts/get"
    args = {RESOURCE_ARG: prompt_uri(cfg.namespace, upstream_name), "arguments": dict(arguments or {})}
    if modern is None:  # 2025-11-25

        async def send(client: Client) -> types.GetPromptResult:
            return await client.get_prompt(upstream_name, arguments or {})

        result = await relay(calls, caller, cfg, method, args, send, lambda r: _dumped(r.messages))
        return result.model_copy(update={"meta": None})
    retry = await modern.open(calls, caller, cfg, method, args)

    async def via_sdk(client: Client) -> Any:
        return await client.session.get_prompt(
            upstream_name,
            arguments or {},
            input_responses=retry.typed,
            request_state=retry.upstream_state,
            allow_input_required=True,
        )

    async def send_modern(session: Any) -> types.GetPromptResult | types.InputRequiredResult:
        params = {"name": upstream_name, "arguments": dict(arguments or {})}
        return await _send_modern(
            session, retry, method, params, via_sdk, types.GetPromptResult.model_validate
        )

    answer = await relay(
        calls,
        caller,
        cfg,
        method,
        args,
        send_modern,
        _dump_or_requests(lambda r: r.messages),
        _ModernRoute(),
        retry,
    )
    return (
        answer if isinstance(answer, types.InputRequiredResult) else answer.model_copy(update={"meta": None})
    )


async def complete(calls: Calls, caller: Caller, params: types.CompleteRequestParams) -> types.CompleteResult:
    ref = params.ref
    if isinstance(ref, types.PromptReference):
        cfg, upstream_name = prompt_upstream(calls, caller, ref.name)
        ref = ref.model_copy(update={"name": upstream_name})
        resource = prompt_uri(cfg.namespace, upstream_name)
    else:
        resource = str(ref.uri)
        cfg = await resource_upstream(calls, caller, resource)
    context = params.context.arguments if params.context else None
    argument = params.argument.model_dump()
    sent_ref = ref

    async def send(client: Client) -> types.CompleteResult:
        return await client.complete(sent_ref, argument, context_arguments=context)

    args: dict[str, Any] = {RESOURCE_ARG: resource, "argument": argument}
    if context:
        args["context"] = dict(context)
    return await relay(
        calls, caller, cfg, "completion/complete", args, send, lambda r: r.completion.model_dump(mode="json")
    )


async def set_logging_level(calls: Calls, caller: Caller, level: types.LoggingLevel) -> None:
    """Sent to each declared upstream that offers logging, each decided apart (one call each).
    The upstreams allowed get it; if any was not allowed or failed, the first such error is raised
    once the rest have been tried."""
    failed: MCPError | None = None
    async for cfg, client in each_upstream(calls, caller):
        caps = client.server_capabilities
        if caps is None or caps.logging is None:
            continue

        async def send(c: Client) -> types.EmptyResult:
            return await c.set_logging_level(level)

        try:
            await relay(calls, caller, cfg, "logging/setLevel", {"level": str(level)}, send, lambda _r: None)
        except MCPError as exc:
            failed = failed or exc
    if failed is not None:
        raise failed
