"""A small HTTP/1.1 client for the lean path: kept-alive connections to one origin, ``httptools``
(the C binding to Node's llhttp parser that uvicorn also uses) to read responses, asyncio streams
for I/O.

A general client pays for features the lean path never uses (redirects, cookies, auth flows,
proxies); on a loopback hop that overhead is most of the gateway's added latency. This client
does one thing: send a request to a fixed origin and stream the response back, reusing sockets.
A pure-Python parser (h11) cost about as much again as everything else the client does, so the
parsing is done in C and the request line and headers are written by hand, after checking that
no name or value could split the request (CR, LF, NUL) or is not a valid header name.
"""

from __future__ import annotations

import asyncio
import re
import select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httptools

__all__ = [
    "MAX_HEAD_BYTES",
    "MAX_RESPONSE_BYTES",
    "READ_CHUNK",
    "Http1Error",
    "Http1Pool",
    "Http1Response",
    "encode_headers",
]


READ_CHUNK = 65_536
MAX_RESPONSE_BYTES = 16 << 20
MAX_HEAD_BYTES = 64 << 10
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\x00\r\n]")


class Http1Error(Exception):
    """The connection failed or the peer broke the protocol."""


class _Conn:
    """One kept-alive connection and the parser of the response being read on it."""

    __slots__ = (
        "_body",
        "_complete",
        "_error",
        "_fields",
        "_head_bytes",
        "_headers_done",
        "_keep_alive",
        "_overflow",
        "_parser",
        "_received",
        "_unparsed_head",
        "reader",
        "writer",
    )

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._parser: httptools.HttpResponseParser | None = None
        self._fields: list[tuple[str, str]] = []
        self._keep_alive = False
        self._overflow = False
        self._error: Http1Error | None = None
        self._body: list[bytes] = []
        self._headers_done = False
        self._complete = False
        self._received = 0
        self._head_bytes = 0
        self._unparsed_head = 0

    # httptools callbacks ------------------------------------------------------------------
    def on_message_begin(self) -> None:
        if self._complete:  # bytes after the answer: a broken or hostile peer; never reuse this
            self._overflow = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._overflow:
            return
        # httptools hands over each header whole, however the bytes arrived
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > MAX_HEAD_BYTES:
            raise self._fail("response headers too large")
        self._fields.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def _fail(self, message: str) -> Http1Error:
        """The error a callback raises; httptools wraps it, so it is kept here to raise again."""
        self._error = Http1Error(message)
        return self._error

    def _informational(self) -> bool:
        assert self._parser is not None
        return 100 <= self._parser.get_status_code() < 200

    def on_headers_complete(self) -> None:
        if self._overflow:
            return
        if self._informational():  # 1xx: the real answer follows on the same connection
            self._fields = []
            return
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        if self._overflow:
            return
        self._received += len(body)
        if self._received > MAX_RESPONSE_BYTES:
            raise self._fail("response body too large")
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._headers_done and not self._overflow:
            assert self._parser is not None
            # read it now: llhttp resets its flags once the message is over
            self._keep_alive = self._parser.should_keep_alive()
            self._complete = True

    # reading ------------------------------------------------------------------------------
    def start(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._fields = []
        self._body = []
        self._headers_done = self._complete = self._keep_alive = self._overflow = False
        self._received = self._head_bytes = self._unparsed_head = 0
        self._error = None

    async def _feed(self) -> bool:
        """Read once and parse it; False when the peer closed the connection."""
        data = await self.reader.read(READ_CHUNK)
        if not data:
            return False
        pending_head = not self._headers_done
        assert self._parser is not None
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError:  # a callback raised (a limit was crossed)
            raise (self._error or Http1Error("protocol error")) from None
        except httptools.HttpParserError as exc:
            raise Http1Error(f"protocol error: {type(exc).__name__}") from None
        if pending_head and not self._headers_done:
            self._unparsed_head += len(data)  # a header line that never ends is bounded too
            if self._unparsed_head > MAX_HEAD_BYTES:
                raise Http1Error("response headers too large")
        return True

    async def head(self) -> tuple[int, dict[str, str]]:
        while not self._headers_done:
            if not await self._feed():
                raise Http1Error("connection closed before the response headers")
        assert self._parser is not None
        return self._parser.get_status_code(), dict(self._fields)

    def _delimited_by_close(self) -> bool:
        """A response with neither a length nor chunked coding ends when the peer closes."""
        keys = {k for k, _ in self._fields}
        return "content-length" not in keys and "transfer-encoding" not in keys

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            if self._body:
                body, self._body = self._body, []
                for b in body:
                    yield b
            if self._complete:
                return
            if not await self._feed():
                if self._delimited_by_close():
                    self._complete = True
                    self.writer.close()  # not reusable: it ended by closing
                    continue
                raise Http1Error("connection closed before the response ended")

    def reusable(self) -> bool:
        return self._complete and self._keep_alive and not self._overflow and not self.writer.is_closing()

    def stale(self) -> bool:
        """An idle connection the peer closed or wrote to unasked: it cannot carry a new exchange.
        (asyncio has no public view of a reader's buffer; ``_buffer`` is read, never written.)
        The socket itself is asked too (a zero-timeout poll): a close the event loop has not
        read yet, because it was busy, shows there before the reader sees it."""
        buffered = getattr(self.reader, "_buffer", b"")
        return self.reader.at_eof() or bool(buffered) or self.writer.is_closing() or _readable(self.writer)

    def close(self) -> None:
        self.writer.close()


class Http1Response:
    """Status, headers (names lower-cased) and the body of one response, read inside the block."""

    __slots__ = ("_conn", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], conn: _Conn) -> None:
        self.status = status
        self.headers = headers
        self._conn = conn

    def chunks(self) -> AsyncIterator[bytes]:
        """The body, as it arrives."""
        return self._conn.chunks()

    async def read(self) -> bytes:
        conn = self._conn
        if conn._complete and not conn._overflow:  # the whole answer came with its head
            body, conn._body = conn._body, []
            return b"".join(body)
        return b"".join([c async for c in conn.chunks()])


def _readable(writer: asyncio.StreamWriter) -> bool:
    """Whether the connection's socket has something to read (data, EOF or an error) right now."""
    sock = writer.get_extra_info("socket")
    if sock is None:
        return False
    try:
        fd = sock.fileno()
        if fd < 0:
            return True
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def encode_headers(headers: dict[str, str]) -> bytes:
    """Header lines (each ending in CRLF), refusing anything that could split or smuggle a
    request. A caller that sends the same headers on every request encodes them once."""
    lines = []
    for k, v in headers.items():
        if not _TOKEN.fullmatch(k) or _BAD_VALUE.search(v):
            # the message never quotes the value: it may be a credential
            raise Http1Error(f"the request could not be encoded (bad header `{k[:40]!r}`)")
        try:
            lines.append(f"{k}: {v}\r\n".encode("latin-1", "strict"))
        except UnicodeEncodeError:
            raise Http1Error("the request could not be encoded (a header is not latin-1)") from None
    return b"".join(lines)


class Http1Pool:
    """Kept-alive connections to the origin of ``url``."""

    def __init__(self, url: str, *, max_idle: int = 16) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ValueError("the lean HTTP/1.1 client speaks plain http to loopback or private upstreams")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the upstream URL may not carry credentials: use an injected header")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if _BAD_VALUE.search(self.target) or " " in self.target or not self.target.isascii():
            raise ValueError("the upstream URL's path may not hold spaces, control or non-ASCII characters")
        self.target_bytes = self.target.encode("ascii")
        # Host from the name and port alone: never the URL's userinfo
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = b"" if parts.port is None else b":%d" % parts.port
        self.host_header = (host.encode("ascii") if host.isascii() else host.encode("idna")) + port
        self.max_idle = max_idle
        self._idle: list[_Conn] = []
        self.closed = False

    async def _connect(self) -> _Conn:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise Http1Error(f"cannot connect to {self.host}:{self.port} ({exc.strerror})") from None
        return _Conn(reader, writer)

    @asynccontextmanager
    async def request(
        self, method: str, headers: dict[str, str] | bytes, body: bytes = b""
    ) -> AsyncIterator[Http1Response]:
        """Send one request; the response must be read inside the block. ``headers`` may be
        what :func:`encode_headers` made of them."""
        if self.closed:
            raise Http1Error("client is closed")
        lines = headers if isinstance(headers, bytes) else encode_headers(headers)
        head = b"%s %s HTTP/1.1\r\nhost: %s\r\ncontent-length: %d\r\n%s\r\n" % (
            method.encode("ascii"),
            self.target_bytes,
            self.host_header,
            len(body),
            lines,
        )
        conn = None
        while self._idle and conn is None:
            conn = self._idle.pop()
            if conn.stale():
                conn.close()
                conn = None
        reused = conn is not None
        if conn is None:
            conn = await self._connect()
        try:
            try:
                conn.start()
                conn.writer.write(head + body)
                await conn.writer.drain()
            except OSError:
                if not reused:
                    raise
                # a kept-alive connection the peer had closed: the write failed, so no byte of
                # this request reached the upstream, and it is sent once more on a fresh one (a
                # request that may have been read is never sent twice)
                conn.close()
                conn = await self._connect()
                conn.start()
                conn.writer.write(head + body)
                await conn.writer.drain()
            status, hdrs = await conn.head()
            yield Http1Response(status, hdrs, conn)
        except (OSError, Http1Error) as exc:
            conn.close()
            raise Http1Error(type(exc).__name__ if isinstance(exc, OSError) else str(exc)) from None
        except BaseException:
            conn.close()
            raise
        if conn.reusable() and not self.closed and len(self._idle) < self.max_idle:
            self._idle.append(conn)
        else:
            conn.close()

    async def close(self) -> None:
        self.closed = True
        while self._idle:
            self._idle.pop().close()
