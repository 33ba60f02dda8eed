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
from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.coalescing = CoalescingTransport(transport, self.loop)
        super().connection_made(self.coalescing)

    def eof_received(self) -> None:
        # the peer half-closed: the real transport closes itself once this returns, so what this
        # turn wrote (a quick answer to its last request) is handed over first
        self.coalescing.flush()


__all__ = ["CoalescingTransport", "GatewayHttpProtocol"]
