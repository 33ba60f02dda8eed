"""Discovering an upstream's tools: connect, page through ``tools/list``, disconnect.

The upstream is not trusted: paging is bounded (:data:`MAX_PAGES`, :data:`MAX_TOOLS`), the whole
exchange has the upstream's ``timeout``, and every failure becomes an :class:`UpstreamError` that
names the namespace and a short reason of Proctor's own wording — never the exception's text, which
can carry paths, hosts or whatever the server chose to say.
"""

from __future__ import annotations

import anyio
import httpx2
import mcp_types
import pydantic
from mcp import MCPError

from proctor.errors import ProctorError, UpstreamError, UpstreamTimeout, public_message
from proctor.gateway.config import UpstreamConfig
from proctor.gateway.upstream import open_upstream

MAX_PAGES = 100
MAX_TOOLS = 10_000


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def unavailable_reason(exc: BaseException) -> str:
    """A short, fixed description of why talking to an upstream failed (exception groups are
    looked into): safe to show to a client, it never quotes the exception."""
    exc = _leaf(exc)
    if isinstance(exc, ProctorError):
        return public_message(exc)
    from proctor.gateway.lean import LeanUpstreamError

    if isinstance(exc, LeanUpstreamError):  # the lean HTTP leg's own words, never the upstream's
        if exc.error is not None:
            return f"it answered with error {exc.error.get('code')}"
        if "unreachable" in str(exc):
            return "the connection was refused or the host is unreachable"
        return "the connection closed" if exc.closed else "it answered wrongly"
    if isinstance(exc, FileNotFoundError):
        return "its command was not found"
    if isinstance(exc, TimeoutError):
        return "it did not answer in time"
    if isinstance(exc, PermissionError):
        return "its command is not executable"
    if isinstance(exc, MCPError):
        if exc.code == mcp_types.CONNECTION_CLOSED:
            return "the connection closed (did the server exit?)"
        if exc.code == mcp_types.REQUEST_TIMEOUT:
            return "a request timed out"
        return f"it answered with error {exc.code}"
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"it answered HTTP {exc.response.status_code}"
    if isinstance(exc, httpx2.ConnectError):
        return "the connection was refused or the host is unreachable"
    if isinstance(exc, httpx2.TimeoutException):
        return "the network timed out"
    if isinstance(exc, httpx2.TransportError):
        return "a network error"
    if isinstance(exc, pydantic.ValidationError):
        return "it sent a malformed response"
    if isinstance(exc, OSError):
        return "the operating system refused to start or reach it"
    return f"an unexpected {type(exc).__name__}"


async def _list_all(cfg: UpstreamConfig) -> list[mcp_types.Tool]:
    tools: list[mcp_types.Tool] = []
    async with open_upstream(cfg) as client:
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            if len(tools) > MAX_TOOLS:
                raise UpstreamError(f"upstream `{cfg.namespace}` lists more than {MAX_TOOLS} tools")
            cursor = page.next_cursor
            if not cursor:
                return tools
    raise UpstreamError(f"upstream `{cfg.namespace}` pages its tool list beyond {MAX_PAGES} pages")


async def discover(cfg: UpstreamConfig) -> list[mcp_types.Tool]:
    """Every tool ``cfg``'s upstream lists, in its order.

    Raises :class:`UpstreamTimeout` after ``cfg.timeout_s`` and :class:`UpstreamError` for any other
    failure (cannot start or reach it, protocol error, too many tools or pages).
    """
    timeout = UpstreamTimeout(
        f"upstream `{cfg.namespace}` did not list its tools within {cfg.timeout_s:g}s",
        namespace=cfg.namespace,
    )
    tools: list[mcp_types.Tool] | None = None
    scope = anyio.move_on_after(cfg.timeout_s)
    try:
        with scope:
            tools = await _list_all(cfg)
    except Exception as exc:
        if scope.cancel_called:  # the deadline passed and the SDK turned the cancellation into an error
            raise timeout from None
        leaf = _leaf(exc)
        if isinstance(leaf, ProctorError):
            raise leaf from None
        raise UpstreamError(
            f"upstream `{cfg.namespace}` is unavailable: {unavailable_reason(leaf)}", namespace=cfg.namespace
        ) from None
    if tools is None:
        raise timeout
    return tools


def discover_sync(cfg: UpstreamConfig) -> list[mcp_types.Tool]:
    """:func:`discover` for synchronous callers (the CLI)."""
    return anyio.run(discover, cfg)


__all__ = ["MAX_PAGES", "MAX_TOOLS", "discover", "discover_sync", "unavailable_reason"]
