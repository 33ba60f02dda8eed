"""How the HTTP gateway is served: uvicorn's httptools protocol, with writes coalesced per loop turn.

uvicorn writes a response's head and its body with two ``transport.write`` calls, so each answer
leaves as two TCP segments: the client is woken for the head and, often, again for the body. On
these virtual machines a wake-up costs more than the bytes, and measured through the gateway it
added 60-120 µs to every call. :class:`CoalescingTransport` keeps what is written during one turn
of the event loop and sends it as one write at the end of that turn (``loop.call_soon``): nothing
waits for a timer, nothing is reordered, a close (or the peer's EOF) sends what is pending first,
and a producer that writes 64 KiB or more within one turn is handed to the real transport at
once, so uvicorn's flow control still pauses it.

``tests/unit/test_gateway_serving.py`` checks the transport; every gateway test serves through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

logger = logging.getLogger(__name__)

#: bytes held before they are handed over without waiting for the end of the turn (uvicorn's
#: high-water mark: past it the real transport pauses the producer)
MAX_HELD_BYTES = 64 * 1024


class CoalescingTransport(asyncio.Transport):
    """A transport whose writes within one event-loop turn go out as a single write.

    ``write``, ``writelines``, ``close`` and ``abort`` hold or drop what is pending; everything
    else is the wrapped transport's.
    """

    __slots__ = ("_buf", "_loop", "_pending", "_size", "_t")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._t = transport
        self._loop = loop
        self._buf: list[bytes] = []
        self._size = 0
        self._pending = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        # a caller may reuse a mutable buffer once write returns: keep a copy of those
        chunk = data if type(data) is bytes else bytes(data)
        self._buf.append(chunk)
        self._size += len(chunk)
        if self._size >= MAX_HELD_BYTES:
            # a producer that writes a lot without yielding: hand it to the real transport now,
            # so its high-water mark pauses the producer (uvicorn's flow control) as it should
            self.flush()
        elif not self._pending:
            self._pending = True
            self._loop.call_soon(self.flush)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for chunk in list_of_data:
            self.write(chunk)

    def flush(self) -> None:
        """Send what this turn wrote (also run by itself at the end of the turn)."""
        self._pending = False
        if not self._buf:
            return
        data = self._buf[0] if len(self._buf) == 1 else b"".join(self._buf)
        self._buf.clear()
        self._size = 0
        if not self._t.is_closing():
            self._t.write(data)

    def close(self) -> None:
        self.flush()  # what was written before close is sent, as with any transport
        self._t.close()

    def abort(self) -> None:
        self._buf.clear()
        self._size = 0
        self._t.abort()

    def write_eof(self) -> None:
        self.flush()
        self._t.write_eof()

    def can_write_eof(self) -> bool:
        return self._t.can_write_eof()

    def is_closing(self) -> bool:
        return self._t.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._t.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._t.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._t.get_protocol()

    def is_reading(self) -> bool:
        return self._t.is_reading()

    def pause_reading(self) -> None:
        self._t.pause_reading()

    def resume_reading(self) -> None:
        self._t.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._t.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._t.get_write_buffer_size() + self._size

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._t.get_write_buffer_limits()


#: the most a request's head (request line and header fields) may hold; a larger one is answered
#: 431 and the connection closed (uvicorn's httptools protocol sets no bound: llhttp and httptools
#: keep whatever a client sends until the head ends)
MAX_HEAD_BYTES = 32 * 1024
_TOO_LARGE_HEAD = b"request header fields too large"


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head over ``MAX_HEAD_BYTES``."""


#: a held request whose body grows past this goes to the ASGI app, which streams it (uvicorn
#: pauses reading past 64 KiB until the app reads, so holding more could stall the connection)
MAX_HELD_BODY = 60 * 1024

#: the fast path's work resolves to the JSON body of the answer, what to run once it is sent and
#: the answer's HTTP status, or to None: declined after all (a refusal found once the store was
#: read), the ASGI app serves it
FastCall = Callable[
    [str, str, list[tuple[bytes, bytes]], bytes],
    Coroutine[Any, Any, tuple[bytes, Callable[[], None] | None, int] | None] | None,
]
#: the status lines the fast path writes (a lean answer's statuses, see proctor.gateway.http)
_STATUS_LINES = {200: b"200 OK", 400: b"400 Bad Request", 404: b"404 Not Found"}


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a :class:`CoalescingTransport`, with a fast path.

    A ``POST`` is held until its body is complete (up to ``MAX_HELD_BODY``) and offered to the
    app's ``fast_call`` (:meth:`proctor.gateway.http.GatewayAuth.fast_call`). If it takes the
    request, the answer is written here: no ASGI task, scope messages or header re-validation
    per call, which is a good part of what a call through the gateway costs on these machines.
    Anything it declines (and every other request, a body announced with ``Expect:
    100-continue``, a larger body) is served by the ASGI app as usual. Keep-alive, pipelining
    and disconnects follow uvicorn's own cycle: the fast answer completes the same
    ``RequestResponseCycle`` uvicorn made for the request.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.coalescing = CoalescingTransport(transport, self.loop)
        self._fast: FastCall | None = getattr(self.app, "fast_call", None)
        self._held: tuple[RequestResponseCycle, Any] | None = None
        self._in_head = False
        #: bytes of the current head: fields parsed so far, and raw bytes received while in it
        self._head_bytes = 0
        self._head_raw = 0
        self._head_too_large = False
        super().connection_made(self.coalescing)

    def eof_received(self) -> None:
        # the peer half-closed: the real transport closes itself once this returns, so what this
        # turn wrote (a quick answer to its last request) is handed over first
        self.coalescing.flush()

    # a bounded head ------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._head_too_large:
            return
        if self._in_head:
            # a head still open after what came before: count the raw bytes too, so a field that
            # never ends (which no callback reports until it does) is bounded as well
            self._head_raw += len(data)
            if self._head_raw > MAX_HEAD_BYTES:
                self._refuse_head()
                return
        super().data_received(data)

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        if self._head_bytes > MAX_HEAD_BYTES:
            self._head_too_large = True
            raise _HeadTooLarge
        super().on_url(url)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers 400 when a callback raises; a head over the bound is answered 431
        if self._head_too_large:
            self._refuse_head()
        else:
            super().send_400_response(msg)

    def _refuse_head(self) -> None:
        self._head_too_large = True
        if self.transport.is_closing():
            return
        head = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"content-type: text/plain; charset=utf-8\r\n")
        head.append(b"content-length: %d\r\nconnection: close\r\n\r\n" % len(_TOO_LARGE_HEAD))
        self.transport.write(b"".join(head) + _TOO_LARGE_HEAD)
        self.transport.close()

    # trailers are not headers ------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._in_head = True
        self._head_bytes = self._head_raw = 0
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        # llhttp reports the trailer fields of a chunked body through the same callback, and
        # uvicorn appends them to the request's headers: a session id or credential sent as a
        # trailer would reach the SDK after the auth layer had checked the headers without it
        if self._in_head:
            self._head_bytes += len(name) + len(value) + 4
            if self._head_bytes > MAX_HEAD_BYTES:
                self._head_too_large = True
                raise _HeadTooLarge
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    # the request's cycle is made by uvicorn; whether ASGI serves it is decided here ------------
    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if (
            self._fast is not None
            and app is self.app  # not uvicorn's 503 app for a connection over its concurrency limit
            and cycle.scope["method"] == "POST"
            and not cycle.waiting_for_100_continue
        ):
            if cycle.more_body:
                self._held = (cycle, app)  # wait for the whole body (on_message_complete)
                return
            if self._serve_fast(cycle):
                return
        super()._start_asgi_task(cycle, app)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        held = self._held
        if held is not None and held[0] is self.cycle and len(self.cycle.body) > MAX_HELD_BODY:
            self._held = None
            super()._start_asgi_task(*held)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        held = self._held
        if held is not None and held[0] is self.cycle:
            self._held = None
            if not self._serve_fast(held[0]):
                super()._start_asgi_task(*held)

    def _serve_fast(self, cycle: RequestResponseCycle) -> bool:
        assert self._fast is not None
        scope = cycle.scope
        try:
            headers = cast(list[tuple[bytes, bytes]], scope["headers"])
            work = self._fast(scope["method"], scope["path"], headers, bytes(cycle.body))
        except Exception:  # declined by failing: the ASGI path serves (and reports) it
            logger.exception("the gateway's fast path failed to admit a request")
            return False
        if work is None:
            return False
        task = self.loop.create_task(self._answer(cycle, work))
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)
        return True

    async def _answer(
        self,
        cycle: RequestResponseCycle,
        work: Coroutine[Any, Any, tuple[bytes, Callable[[], None] | None, int] | None],
    ) -> None:
        finish = None
        try:
            done = await work
        except Exception:
            logger.exception("the gateway's fast path failed")
            body, status, ctype = b"Internal Server Error", b"500 Internal Server Error", b"text/plain"
            cycle.keep_alive = False
        else:
            if done is None:  # declined: the ASGI app serves it, checks, refusal, audit and all
                if not cycle.disconnected:
                    super()._start_asgi_task(cycle, self.app)
                return
            body, finish, code = done
            status, ctype = _STATUS_LINES.get(code, b"%d Error" % code), b"application/json"
        try:
            if cycle.flow.write_paused and not cycle.disconnected:
                await cycle.flow.drain()
            if cycle.disconnected:
                return
            head = [b"HTTP/1.1 ", status, b"\r\n"]
            for name, value in cycle.default_headers:
                head += [name, b": ", value, b"\r\n"]
            head += [b"content-type: ", ctype, b"\r\ncontent-length: ", b"%d" % len(body), b"\r\n"]
            if not cycle.keep_alive:
                head.append(b"connection: close\r\n")
            head += [b"\r\n", body]
            cycle.response_started = True
            cycle.transport.write(b"".join(head))
            cycle.response_complete = True
            cycle.message_event.set()
            if not cycle.keep_alive:
                cycle.transport.close()
            cycle.on_response()
        finally:
            cycle.on_response = lambda: None
            if finish is not None:
                # once the answer is written (it leaves at the end of this loop turn), and
                # whether or not it could be: the call happened either way
                self.loop.call_soon(finish)


__all__ = ["CoalescingTransport", "GatewayHttpProtocol"]
