"""The cap on an upstream's answer on the SDK path (``upstreams[].max_answer_bytes``).

The lean path counts an HTTP upstream's answer itself (:mod:`proctor.gateway.answers`). Every
other exchange goes through the SDK client: a stdio upstream, and the HTTP calls the lean path does
not serve (a progress token, https, ``gateway.lean`` off). Its transports hold a whole message
before they hand it on (the stdio reader a whole line, the Streamable HTTP reader a whole JSON body
or SSE event), so the cap is applied beneath them, as the bytes arrive:

- stdio (:func:`capped_stdio_client`): the SDK's stdio transport with its line reader replaced by
  one that keeps at most ``max_answer_bytes`` of a line. A longer line is read to its end and
  discarded as it arrives (its first and last bytes kept to find its JSON-RPC id); the request it
  answers fails with a JSON-RPC error carrying :data:`MARK`, which
  :func:`proctor.gateway.calls.failure` turns into ``answer_too_large``. The session lives on. A
  line too long whose id cannot be found as a response's (a request or notification from the
  upstream, or an unusual key order) closes the session: fail closed, the next use starts afresh.
- Streamable HTTP (:func:`capped_http_client`): the httpx client the SDK is handed counts the body
  of every response to a POST (and of a resumed stream, ``Last-Event-ID``) and raises
  :class:`AnswerTooLarge` past the cap; the SDK answers the request with an error carrying its text
  (a JSON body: a parse error; an event stream: the stream failed), so the same mapping applies.
  The whole body counts, the notifications on a call's stream included, as on the lean path. The
  listening GET stream is bounded per event by the SDK (``max_sse_event_size``, set to the cap).
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager

import anyio
import anyio.lowlevel
import httpx2
import mcp_types as types
from mcp.client import stdio as sdk_stdio
from mcp.client._transport import TransportStreams
from mcp.client.stdio import StdioServerParameters
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT
from mcp.shared.message import SessionMessage

from proctor.gateway.config import UpstreamConfig

__all__ = [
    "MARK",
    "SSE_EVENT_SLACK",
    "AnswerTooLarge",
    "capped_http_client",
    "capped_stdio_client",
    "is_too_large",
]

log = logging.getLogger(__name__)

#: in the text of the error a refused answer's request fails with; random per process, so an
#: upstream's own error can never read as a refused answer
MARK = f"[proctor answer cap {secrets.token_hex(8)}]"

#: the SDK's own bound on one event of an HTTP upstream's event stream is the cap and this much:
#: on a call's stream the cap on the whole body is met first, so the refusal is Proctor's
SSE_EVENT_SLACK = 1024
#: how much of an oversized line is kept, at either end, to find its JSON-RPC id
_EDGE = 512
_ID = r'(-?\d{1,19}|"(?:[^"\\]){0,256}")'
_JSONRPC = r'"jsonrpc"\s*:\s*"2\.0"\s*'
#: ``{"jsonrpc":"2.0","id":ID,"result"|"error":`` (the SDKs' order)
_HEAD_ID = re.compile(
    rb"^\s*\{\s*(?:"
    + _JSONRPC.encode()
    + rb",\s*)?\"id\"\s*:\s*"
    + _ID.encode()
    + rb'\s*,\s*"(?:result|error)"\s*:'
)
#: ``{["jsonrpc":"2.0",]"result"|"error": ... ,"id":ID[,"jsonrpc":"2.0"]}``
_HEAD_RESULT = re.compile(rb"^\s*\{\s*(?:" + _JSONRPC.encode() + rb',\s*)?"(?:result|error)"\s*:')
_TAIL_ID = re.compile(rb',\s*"id"\s*:\s*' + _ID.encode() + rb"\s*(?:,\s*" + _JSONRPC.encode() + rb")?\}\s*$")


def is_too_large(message: str) -> bool:
    """Whether an SDK error's text is that of an answer refused here."""
    return MARK in message


def _text(cfg: UpstreamConfig) -> str:
    return f"{MARK} upstream `{cfg.namespace}` answered more than {cfg.max_answer_bytes} bytes"


class AnswerTooLarge(httpx2.SSEError, httpx2.StreamError):
    """An HTTP upstream's answer passed its cap (both kinds the SDK catches while reading a body)."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self._request = None


# Streamable HTTP ------------------------------------------------------------------------------
class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, cap: int, text: str) -> None:
        self._inner, self._cap, self._text = inner, cap, text

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._cap:
                raise AnswerTooLarge(self._text)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class _CappedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport, cfg: UpstreamConfig) -> None:
        self._inner, self._cap, self._text = inner, cfg.max_answer_bytes, _text(cfg)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "POST" or "last-event-id" in request.headers:
            stream = response.stream
            assert isinstance(stream, httpx2.AsyncByteStream)
            response.stream = _CappedStream(stream, self._cap, self._text)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def capped_http_client(cfg: UpstreamConfig, headers: Mapping[str, str] | None) -> httpx2.AsyncClient:
    """The httpx client the SDK's Streamable HTTP transport is given for ``cfg``: the SDK's own
    defaults (``create_mcp_http_client``), with every call's answer counted against the cap."""
    return httpx2.AsyncClient(
        headers=dict(headers or {}),
        timeout=httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT),
        transport=_CappedTransport(httpx2.AsyncHTTPTransport(), cfg),
    )


# stdio -----------------------------------------------------------------------------------------
def _refused(head: bytes, tail: bytes, cfg: UpstreamConfig) -> SessionMessage | None:
    """The error that answers the request an oversized line answered, or None when the line is
    not recognisably a response."""
    m = _HEAD_ID.match(head)
    raw = m.group(1) if m else None
    if raw is None and _HEAD_RESULT.match(head):
        t = _TAIL_ID.search(tail)
        raw = t.group(1) if t else None
    if raw is None:
        return None
    rid: types.RequestId = raw[1:-1].decode("utf-8", "replace") if raw.startswith(b'"') else int(raw)
    error = types.ErrorData(code=types.INTERNAL_ERROR, message=_text(cfg))
    return SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=rid, error=error))


@asynccontextmanager
async def capped_stdio_client(
    server: StdioServerParameters, cfg: UpstreamConfig
) -> AsyncGenerator[TransportStreams, None]:
    """The SDK's ``stdio_client`` (same process handling, same shutdown), its stdout reader bounded
    by ``cfg.max_answer_bytes`` per line (see the module docstring)."""
    command = await sdk_stdio._get_executable_command(server.command)
    process = await sdk_stdio._create_platform_compatible_process(
        command=command,
        args=server.args,
        env=sdk_stdio.get_default_environment() | (server.env or {}),
        errlog=sys.stderr,
        cwd=server.cwd,
    )
    read_stream_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_stream_reader = anyio.create_memory_object_stream[SessionMessage](0)
    cap = cfg.max_answer_bytes
    shutting_down = False
    writer_done = anyio.Event()

    async def stdout_reader() -> None:
        assert process.stdout, "Opened process is missing stdout"
        try:
            async with read_stream_writer:
                try:
                    line = bytearray()
                    over = False  # the current line passed the cap: only its edges are kept
                    head = tail = b""
                    async for chunk in process.stdout:
                        start = 0
                        while True:
                            nl = chunk.find(b"\n", start)
                            piece = chunk[start : nl if nl >= 0 else len(chunk)]
                            if over:
                                tail = (tail + piece)[-_EDGE:]
                            else:
                                line += piece
                                if len(line) > cap:
                                    over, head, tail = True, bytes(line[:_EDGE]), bytes(line[-_EDGE:])
                                    line = bytearray()
                            if nl < 0:
                                break
                            start = nl + 1
                            message: SessionMessage | Exception
                            if over:
                                over = False
                                refused = _refused(head, tail, cfg)
                                if refused is None:
                                    log.warning(
                                        "upstream `%s` sent a message over its max_answer_bytes that"
                                        " answers no request: its session is closed",
                                        cfg.namespace,
                                    )
                                    return
                                message = refused
                            else:
                                text = line.decode(server.encoding, server.encoding_error_handler)
                                line = bytearray()
                                message = sdk_stdio._parse_line(text)
                            try:
                                await read_stream_writer.send(message)
                            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                                return
                finally:
                    await sdk_stdio._drain_stdout(process)
        except anyio.ClosedResourceError:
            pass
        except (anyio.BrokenResourceError, ConnectionError, UnicodeDecodeError):
            if not shutting_down:
                log.exception("Reading from the MCP server's stdout failed mid-session")

    async def stdin_writer() -> None:
        assert process.stdin, "Opened process is missing stdin"
        try:
            async with write_stream_reader:
                async for session_message in write_stream_reader:
                    json = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    data = (json + "\n").encode(
                        encoding=server.encoding, errors=server.encoding_error_handler
                    )
                    await process.stdin.send(data)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            await read_stream_writer.aclose()
        finally:
            writer_done.set()

    async def shutdown() -> None:
        read_stream.close()
        write_stream.close()
        with anyio.move_on_after(sdk_stdio._WRITER_FLUSH_TIMEOUT) as flush_scope:
            await writer_done.wait()
        if flush_scope.cancelled_caught:
            await anyio.lowlevel.cancel_shielded_checkpoint()
        await sdk_stdio._stop_server_process(process)
        await sdk_stdio._aclose_all(read_stream, write_stream, read_stream_writer, write_stream_reader)
        await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(stdout_reader)
        tg.start_soon(stdin_writer)
        try:
            yield read_stream, write_stream
        finally:
            shutting_down = True
            with anyio.CancelScope(shield=True):
                await shutdown()
            tg.cancel_scope.cancel()
    await anyio.lowlevel.cancel_shielded_checkpoint()
