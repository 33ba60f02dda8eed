"""A small HTTP/1.1 client for the lean path: kept-alive connections to one origin, h11 for the
protocol (the sans-I/O parser httpx and uvicorn also use), asyncio streams for I/O.

A general client pays for features the lean path never uses (redirects, cookies, auth flows,
proxies); on a loopback hop that overhead is most of the gateway's added latency. This client
does one thing: send a request to a fixed origin and stream the response back, reusing sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

READ_CHUNK = 65_536
MAX_RESPONSE_BYTES = 16 << 20


class Http1Error(Exception):
    """The connection failed or the peer broke the protocol."""


@dataclass
class Http1Response:
    status: int
    headers: dict[str, str]
    _conn: _Conn

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, as it arrives."""
        total = 0
        while True:
            event = await self._conn.next_event()
            if isinstance(event, h11.Data):
                total += len(event.data)
                if total > MAX_RESPONSE_BYTES:
                    raise Http1Error("response body too large")
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise Http1Error(f"unexpected HTTP event {type(event).__name__}")

    async def read(self) -> bytes:
        return b"".join([c async for c in self.chunks()])


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)

    async def next_event(self) -> h11.Event | type[h11.PAUSED] | type[h11.NEED_DATA]:
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise Http1Error(f"protocol error: {exc}") from None
            if event is h11.NEED_DATA:
                data = await self.reader.read(READ_CHUNK)
                self.h11.receive_data(data)  # b"" means the peer closed
                if not data and self.h11.their_state is not h11.DONE:
                    event = self.h11.next_event()
                    if event is h11.NEED_DATA:
                        raise Http1Error("connection closed before the response ended")
                    return event
                continue
            return event

    def reusable(self) -> bool:
        return self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE

    def close(self) -> None:
        self.writer.close()


class Http1Pool:
    """Kept-alive connections to the origin of ``url``."""

    def __init__(self, url: str, *, max_idle: int = 16) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ValueError("the lean HTTP/1.1 client speaks plain http to loopback or private upstreams")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.host_header = parts.netloc.encode()
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
        self, method: str, headers: dict[str, str], body: bytes = b""
    ) -> AsyncIterator[Http1Response]:
        """Send one request; the response must be read inside the block."""
        if self.closed:
            raise Http1Error("client is closed")
        conn = self._idle.pop() if self._idle else await self._connect()
        hdrs = [(b"host", self.host_header), (b"content-length", str(len(body)).encode())]
        hdrs += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        try:
            data = conn.h11.send(
                h11.Request(method=method.encode(), target=self.target.encode(), headers=hdrs)
            )
            data += conn.h11.send(h11.Data(data=body)) if body else b""
            data += conn.h11.send(h11.EndOfMessage())
            conn.writer.write(data)
            await conn.writer.drain()
            event = await conn.next_event()
            while isinstance(event, h11.InformationalResponse):
                event = await conn.next_event()
            if not isinstance(event, h11.Response):
                raise Http1Error(f"unexpected HTTP event {type(event).__name__}")
            resp = Http1Response(
                event.status_code, {k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers}, conn
            )
            yield resp
        except h11.LocalProtocolError:
            conn.close()
            # h11's message quotes the offending header, which may be a credential: name the class only
            raise Http1Error("the request could not be encoded (LocalProtocolError)") from None
        except (OSError, Http1Error) as exc:
            conn.close()
            raise Http1Error(type(exc).__name__ if isinstance(exc, OSError) else str(exc)) from None
        except BaseException:
            conn.close()
            raise
        if conn.reusable() and not self.closed and len(self._idle) < self.max_idle:
            conn.h11.start_next_cycle()
            self._idle.append(conn)
        else:
            conn.close()

    async def close(self) -> None:
        self.closed = True
        while self._idle:
            self._idle.pop().close()
