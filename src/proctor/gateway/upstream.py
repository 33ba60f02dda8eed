"""Connecting to an upstream MCP server with the official SDK client.

Upstreams are always opened in the handshake (``legacy``) mode with the list cache off: requests
the upstream sends mid-call (sampling, elicitation) only work there, and a gateway must see every
``tools/list`` fresh. A stdio upstream's environment is the configured ``env`` plus what Proctor
injects for the task (its leased credentials) and a minimal ``PATH`` — never Proctor's own
environment, so nothing of the gateway's leaks into a tool process. An HTTP upstream gets the task's
credential headers on every request.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from proctor.gateway.config import UpstreamConfig

__all__ = [
    "open_upstream",
    "upstream_env",
]


#: variables a tool process may inherit from the gateway; everything else must be configured
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "TMPDIR")


def upstream_env(cfg: UpstreamConfig, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a stdio upstream process: inherited basics, configured, injected."""
    env = {k: os.environ[k] for k in _INHERITED_ENV if k in os.environ}
    env.update(cfg.env)
    if extra:
        env.update(extra)
    return env


@asynccontextmanager
async def open_upstream(
    cfg: UpstreamConfig,
    *,
    env: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    **callbacks: Any,
) -> AsyncIterator[Client]:
    """An initialised SDK client for ``cfg``. ``callbacks`` go to :class:`mcp.Client`
    (``sampling_callback``, ``elicitation_callback``, ``logging_callback``, ``message_handler``)."""
    async with contextlib.AsyncExitStack() as stack:
        target: Any
        if cfg.transport == "stdio":
            assert cfg.command is not None
            target = StdioServerParameters(
                command=cfg.command, args=list(cfg.args), env=upstream_env(cfg, env)
            )
        elif headers:
            assert cfg.url is not None
            http = await stack.enter_async_context(create_mcp_http_client(headers=dict(headers)))
            target = streamable_http_client(cfg.url, http_client=http)
        else:
            assert cfg.url is not None
            target = cfg.url
        client = await stack.enter_async_context(
            Client(target, mode="legacy", cache=None, read_timeout_seconds=cfg.timeout_s, **callbacks)
        )
        yield client
