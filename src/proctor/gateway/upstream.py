"""Connecting to an upstream MCP server with the official SDK client.

Upstreams are opened in the handshake (``legacy``) mode with the list cache off: requests the
upstream sends mid-call (sampling, elicitation) only work there, and a gateway must see every
``tools/list`` fresh. An upstream that refuses the handshake as a 2026-07-28-only server does
(-32022, naming only stateless revisions as supported) is opened again in ``auto`` mode, which
speaks 2026-07-28 to it (``server/discover`` and stateless requests; what it wants from the
client mid-call comes as ``input_required``, which the SDK client answers through the same
callbacks). See docs/adr/0031. A stdio upstream's environment is the configured ``env`` plus what Proctor
injects for the task (its leased credentials) and a minimal ``PATH`` — never Proctor's own
environment, so nothing of the gateway's leaks into a tool process. An HTTP upstream gets the task's
credential headers on every request. Either's answers are bounded by the upstream's
``max_answer_bytes`` as they arrive (:mod:`proctor.gateway.sdkcap`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from proctor.gateway.config import UpstreamConfig
from proctor.gateway.sdkcap import SSE_EVENT_SLACK, capped_http_client, capped_stdio_client

__all__ = [
    "handshake_refused",
    "open_upstream",
    "stdio_command",
    "upstream_env",
]

#: util-linux's ``setpriv``: a stdio upstream started through it gets SIGKILL when the gateway dies
#: (``PR_SET_PDEATHSIG`` survives the exec), so a ``kill -9`` of Proctor leaves no tool process
#: behind even when the tool ignores the end of its input or is stuck in a call
_SETPRIV = shutil.which("setpriv") if sys.platform.startswith("linux") else None


#: variables a tool process may inherit from the gateway; everything else must be configured
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "TMPDIR")


def upstream_env(cfg: UpstreamConfig, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a stdio upstream process: inherited basics, configured, injected."""
    env = {k: os.environ[k] for k in _INHERITED_ENV if k in os.environ}
    env.update(cfg.env)
    if extra:
        env.update(extra)
    return env


def stdio_command(command: str, args: Sequence[str], path: str | None = None) -> tuple[str, list[str]]:
    """The command line that starts a stdio upstream: under ``setpriv --pdeathsig KILL`` where the
    machine has it (Linux), so the tool process dies with the gateway that started it. The signal
    is tied to the thread that forks: upstreams are opened on the event loop's thread, which lives
    as long as the gateway. A command that cannot be found (on ``path``, the upstream's PATH) is
    left as it is, so the error says that, not setpriv's."""
    if _SETPRIV is None or shutil.which(command, path=path) is None:
        return command, list(args)
    return _SETPRIV, ["--pdeathsig", "KILL", "--", command, *args]


def handshake_refused(exc: BaseException) -> bool:
    """Whether ``exc`` (what opening a ``legacy`` client raised, exception groups and all) is an
    upstream refusing the ``initialize`` handshake because it speaks only stateless revisions:
    JSON-RPC -32022 whose ``supported`` list names a 2026-era version."""
    if isinstance(exc, BaseExceptionGroup):
        return any(handshake_refused(e) for e in exc.exceptions)
    if not isinstance(exc, MCPError) or exc.error.code != types.UNSUPPORTED_PROTOCOL_VERSION:
        return False
    data = exc.error.data
    supported = data.get("supported") if isinstance(data, dict) else None
    return isinstance(supported, list) and any(v in MODERN_PROTOCOL_VERSIONS for v in supported)


@asynccontextmanager
async def open_upstream(
    cfg: UpstreamConfig,
    *,
    env: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    **callbacks: Any,
) -> AsyncIterator[Client]:
    """An initialised SDK client for ``cfg``: the handshake (2025-11-25) when the upstream takes
    it, else 2026-07-28 (see the module docstring). ``callbacks`` go to :class:`mcp.Client`
    (``sampling_callback``, ``elicitation_callback``, ``logging_callback``, ``message_handler``)."""
    if cfg.transport == "a2a":
        async with _open_a2a(cfg) as agent:
            yield agent
        return
    async with contextlib.AsyncExitStack() as stack:
        attempt = contextlib.AsyncExitStack()
        try:
            client = await _connect(attempt, cfg, env, headers, "legacy", callbacks)
        except Exception as exc:
            await attempt.aclose()
            if not handshake_refused(exc):
                raise
            attempt = contextlib.AsyncExitStack()
            try:
                client = await _connect(attempt, cfg, env, headers, "auto", callbacks)
            except BaseException:
                await attempt.aclose()
                raise
        await stack.enter_async_context(attempt)
        yield client


@asynccontextmanager
async def _open_a2a(cfg: UpstreamConfig) -> AsyncIterator[Client]:
    """An A2A agent (docs/adr/0038): its card fetched and verified against the pinned keys and
    digest every time a session opens; a card that fails is :class:`A2ACardRefused`."""
    import anyio
    import httpx

    from proctor.gateway.a2a import A2AClient, verified_card

    assert cfg.url is not None
    card = await anyio.to_thread.run_sync(verified_card, cfg.url, cfg.a2a, cfg.timeout_s)
    async with httpx.AsyncClient(timeout=cfg.timeout_s, follow_redirects=False) as http:
        # not an MCP client: it answers the two calls the gateway makes of a tool upstream
        # (list_tools, call_tool) and has no resources or prompts to pass through
        yield cast(Client, A2AClient(card, http, cfg.timeout_s, cfg.url))


async def _connect(
    stack: contextlib.AsyncExitStack,
    cfg: UpstreamConfig,
    env: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    mode: str,
    callbacks: dict[str, Any],
) -> Client:
    target: Any
    if cfg.transport == "stdio":
        assert cfg.command is not None
        child_env = upstream_env(cfg, env)
        command, args = stdio_command(cfg.command, cfg.args, child_env.get("PATH"))
        # the SDK's stdio transport with each line bounded by max_answer_bytes (sdkcap)
        target = capped_stdio_client(StdioServerParameters(command=command, args=args, env=child_env), cfg)
    else:
        assert cfg.url is not None
        # every call's answer counted against max_answer_bytes as it arrives (sdkcap)
        http = await stack.enter_async_context(capped_http_client(cfg, headers))
        target = streamable_http_client(
            cfg.url, http_client=http, max_sse_event_size=cfg.max_answer_bytes + SSE_EVENT_SLACK
        )
    client: Client = await stack.enter_async_context(
        Client(target, mode=mode, cache=None, read_timeout_seconds=cfg.timeout_s, **callbacks)
    )
    return client
