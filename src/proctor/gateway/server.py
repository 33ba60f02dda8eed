"""The MCP server agents talk to: the SDK's lowlevel ``Server`` with Proctor's handlers.

Every handler resolves the caller (agent and task) through the transport, then goes through the
gateway's parts: ``tools/call`` through the one call path (:mod:`proctor.gateway.calls`, on its
SDK leg), ``tools/list`` through the catalog, the other methods through the relays. Any exception a handler does not turn into a
result itself becomes a sanitised JSON-RPC error here: the SDK would otherwise send raw exception
text to the client on handshake-era connections.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

from proctor.errors import ProctorError, StoreError, public_message
from proctor.gateway import mrtr, relays, xrev
from proctor.gateway.calls import Caller, call_sdk, denial_text
from proctor.gateway.hold import NeedsInput
from proctor.gateway.runtime import GatewayRuntime

__all__ = [
    "SERVER_NAME",
    "SERVER_VERSION",
    "CallerOf",
    "Ctx",
    "build_server",
]


log = logging.getLogger(__name__)

R = TypeVar("R")
#: the gateway's ``serverInfo`` (what 2026-07-28 results carry in their ``_meta`` stamp too)
SERVER_NAME = "proctor"
SERVER_VERSION = "0.1.0"
CallerOf = Callable[[ServerRequestContext[Any, Any]], Caller]
Ctx = ServerRequestContext[Any, Any]


def _guard(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Map every failure to a JSON-RPC error with a stable message; never leak exception text."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> R:
        try:
            return await fn(*args, **kwargs)
        except MCPError:
            raise
        except ProctorError as exc:
            if isinstance(exc, StoreError):
                log.error("store error in gateway handler %s: %s", fn.__name__, exc.message)
            raise MCPError(types.INVALID_REQUEST, f"{exc.code}: {public_message(exc)}") from None
        except Exception as exc:
            log.exception("gateway handler %s failed", fn.__name__)
            raise MCPError(types.INTERNAL_ERROR, f"internal error ({type(exc).__name__})") from None

    return wrapper


def build_server(runtime: GatewayRuntime, caller_of: CallerOf, *, name: str = SERVER_NAME) -> Server[Any]:
    """A lowlevel MCP server whose handlers route through Proctor."""
    calls = runtime.calls

    @_guard
    async def on_list_tools(ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        caller = caller_of(ctx)
        task = calls.live_task(caller)
        return types.ListToolsResult(tools=await runtime.catalog.list_tools(task, runtime.owned(task.id)))

    async def on_call_tool(
        ctx: Ctx, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        try:
            caller = caller_of(ctx)
            leg = await _modern_leg(ctx, caller, params) if mrtr.is_modern(ctx) else None
            try:
                return await call_sdk(calls, caller, ctx, params.name, params.arguments, leg)
            finally:
                if leg is not None:
                    await leg.settle()
        except NeedsInput as held:  # 2026-07-28: the person is sent to the page, the client retries
            return held.result
        except MCPError:
            raise
        except ProctorError as exc:
            # a failure to establish who is calling is a denied call the model can read
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=denial_text(exc))], is_error=True
            )
        except Exception as exc:
            log.exception("tools/call failed")
            return types.CallToolResult(
                content=[
                    types.TextContent(
                        type="text",
                        text=f"Proctor could not complete this call ({type(exc).__name__}); it was denied",
                    )
                ],
                is_error=True,
            )

    async def _modern_leg(
        ctx: Ctx, caller: Caller, params: types.CallToolRequestParams
    ) -> xrev.TranslatingSdkLeg:
        """The SDK leg of a 2026-07-28 call (as the lean path's, :func:`proctor.gateway.mrtr.modern_leg`):
        its retry's input forwarded, an upstream's ``input_required`` passed back sealed. Raises
        MCPError(-32602), recorded, for a retry's input the gateway refuses."""
        cfg = runtime.catalog.tool_upstream(params.name)
        args = params.arguments or {}
        binding = (
            str(caller.task_id),
            mrtr.upstream_id(cfg),
            params.name,
            mrtr.args_digest(args),
        )
        try:
            retry = mrtr.open_retry(mrtr.sdk_request(params), runtime.state_seal, binding)
        except MCPError:
            await mrtr.audit_refused(calls.proctor, caller, "tools/call")
            raise
        exchanges = runtime.exchanges
        if retry.exchange is None:
            return xrev.TranslatingSdkLeg(ctx, retry, exchanges, caller, params.name)
        # a retry of a translated exchange (proctor.gateway.xrev): only in the process holding it
        try:
            ex = exchanges.claim(retry.exchange, retry.round_no, str(caller.task_id))
        except MCPError as exc:
            await mrtr.audit_refused(calls.proctor, caller, "tools/call", exc.error.message)
            raise
        try:
            response = ex.response(retry.raw_responses)
        except MCPError as exc:
            exchanges.release(ex)
            await mrtr.audit_refused(calls.proctor, caller, "tools/call", exc.error.message)
            raise
        return xrev.TranslatingSdkLeg(ctx, retry, exchanges, caller, params.name, ex, response)

    def _modern(ctx: Ctx, params: Any) -> relays.ModernRequest | None:
        """A 2026-07-28 request that may answer ``input_required``; None on 2025-11-25."""
        return (
            relays.ModernRequest(mrtr.sdk_request(params), runtime.state_seal)
            if mrtr.is_modern(ctx)
            else None
        )

    @_guard
    async def on_list_resources(
        ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=await relays.list_resources(calls, caller_of(ctx)))

    @_guard
    async def on_list_resource_templates(
        ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=await relays.list_resource_templates(calls, caller_of(ctx))
        )

    @_guard
    async def on_read_resource(
        ctx: Ctx, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult | types.InputRequiredResult:
        return await relays.read_resource(calls, caller_of(ctx), str(params.uri), _modern(ctx, params))

    @_guard
    async def on_subscribe(ctx: Ctx, params: types.SubscribeRequestParams) -> types.EmptyResult:
        await relays.subscribe(calls, caller_of(ctx), str(params.uri), True)
        return types.EmptyResult()

    @_guard
    async def on_unsubscribe(ctx: Ctx, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        await relays.subscribe(calls, caller_of(ctx), str(params.uri), False)
        return types.EmptyResult()

    @_guard
    async def on_list_prompts(
        ctx: Ctx, params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=await relays.list_prompts(calls, caller_of(ctx)))

    @_guard
    async def on_get_prompt(
        ctx: Ctx, params: types.GetPromptRequestParams
    ) -> types.GetPromptResult | types.InputRequiredResult:
        return await relays.get_prompt(
            calls, caller_of(ctx), params.name, params.arguments, _modern(ctx, params)
        )

    @_guard
    async def on_completion(ctx: Ctx, params: types.CompleteRequestParams) -> types.CompleteResult:
        return await relays.complete(calls, caller_of(ctx), params)

    @_guard
    async def on_set_logging_level(ctx: Ctx, params: types.SetLevelRequestParams) -> types.EmptyResult:
        await relays.set_logging_level(calls, caller_of(ctx), params.level)
        return types.EmptyResult()

    # Logging, subscriptions and the rest are deprecated in the 2026-07-28 era but still spoken by
    # handshake-era clients and upstreams; the gateway passes them through on purpose.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        return _server(
            name,
            on_list_tools,
            on_call_tool,
            on_list_resources,
            on_list_resource_templates,
            on_read_resource,
            on_subscribe,
            on_unsubscribe,
            on_list_prompts,
            on_get_prompt,
            on_completion,
            on_set_logging_level,
        )


def _server(name: str, *handlers: Any) -> Server[Any]:
    (
        on_list_tools,
        on_call_tool,
        on_list_resources,
        on_list_resource_templates,
        on_read_resource,
        on_subscribe,
        on_unsubscribe,
        on_list_prompts,
        on_get_prompt,
        on_completion,
        on_set_logging_level,
    ) = handlers
    return Server(
        name,
        version=SERVER_VERSION,
        instructions="Tool calls go through Proctor: each is decided by policy and audited.",
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
        on_list_resources=on_list_resources,
        on_list_resource_templates=on_list_resource_templates,
        on_read_resource=on_read_resource,
        on_subscribe_resource=on_subscribe,
        on_unsubscribe_resource=on_unsubscribe,
        on_list_prompts=on_list_prompts,
        on_get_prompt=on_get_prompt,
        on_completion=on_completion,
        on_set_logging_level=on_set_logging_level,
    )
