"""The gateway's HTTP serving: writes coalesced per event-loop turn, over a recording transport and
through a real uvicorn server on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, MutableMapping
from typing import Any

import pytest
import uvicorn

from proctor.gateway.http import server_config
from proctor.gateway.serving import CoalescingTransport


class Recorder(asyncio.Transport):
    """What reached the wire: each ``write`` is one send."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 0  # every write is sent at once


def in_loop(fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async test on a fresh event loop (the suite has no async plugin)."""

    @functools.wraps(fn)
    def run() -> None:
        asyncio.run(fn())

    return run


async def _turn() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


@in_loop
async def test_writes_of_one_turn_leave_together_at_its_end() -> None:
    rec = Recorder()
    t = CoalescingTransport(rec, asyncio.get_running_loop())
    t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    t.write(b"")
    t.write(b"ok")
    assert rec.writes == []  # nothing before the turn ends
    await _turn()
    assert rec.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    t.write(b"next")
    await _turn()
    assert rec.writes[1:] == [b"next"]  # a later turn is a later write, in order


@in_loop
async def test_close_sends_what_is_pending_first_and_abort_drops_it() -> None:
    rec = Recorder()
    t = CoalescingTransport(rec, asyncio.get_running_loop())
    t.writelines([b"a", b"b"])
    t.close()
    assert rec.writes == [b"ab"]
    assert rec.closed
    await _turn()  # the flush scheduled earlier finds nothing left
    assert rec.writes == [b"ab"]

    rec2 = Recorder()
    t2 = CoalescingTransport(rec2, asyncio.get_running_loop())
    t2.write(b"never")
    t2.abort()
    await _turn()
    assert rec2.writes == []
    assert rec2.aborted


@in_loop
async def test_a_reused_buffer_does_not_change_what_was_written() -> None:
    rec = Recorder()
    t = CoalescingTransport(rec, asyncio.get_running_loop())
    buf = bytearray(b"first")
    t.write(buf)
    buf[:] = b"XXXXX"
    t.write(memoryview(b"-second"))
    await _turn()
    assert rec.writes == [b"first-second"]


@in_loop
async def test_nothing_is_written_to_a_closing_transport() -> None:
    rec = Recorder()
    t = CoalescingTransport(rec, asyncio.get_running_loop())
    t.write(b"late")
    rec.closed = True  # the peer went away before the end of the turn
    await _turn()
    assert rec.writes == []
    assert t.get_extra_info("peername") == ("127.0.0.1", 1)  # the rest is the real transport's
    assert t.is_closing()


async def _app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b'{"ok":true}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")],
        }
    )
    await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def _serving(app: Any) -> Iterator[int]:
    """``app`` served with the gateway's uvicorn configuration on a loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(server_config(app, "127.0.0.1", port, log_level="error"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started
    try:
        yield port
    finally:
        srv.should_exit = True
        th.join(timeout=15)


@pytest.fixture
def server() -> Iterator[int]:
    with _serving(_app) as port:
        yield port


def _read_all(sock: socket.socket) -> bytes:
    out = b""
    sock.settimeout(10)
    while chunk := sock.recv(65536):
        out += chunk
    return out


def test_keep_alive_responses_arrive_whole_and_in_order(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        req = b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n"
        sock.sendall(req + req + b"GET /c HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        data = _read_all(sock)
    assert data.count(b"HTTP/1.1 200 OK") == 3
    assert data.count(b'{"ok":true}') == 3
    assert data.endswith(b'{"ok":true}')


def test_a_malformed_request_still_gets_its_answer_before_the_close(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"NOT HTTP AT ALL\x00\r\n\r\n")
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 400 ")
    assert b"Invalid HTTP request" in data


def test_an_answer_written_at_once_survives_the_client_half_closing(server: int) -> None:
    """The client sends its request and shuts its side: the transport closes itself on that EOF,
    so what the turn wrote must be handed over first (it was lost before eof_received flushed)."""
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            assert _read_all(sock).endswith(b'{"ok":true}')


@in_loop
async def test_a_producer_that_never_yields_is_handed_over_past_the_high_water_mark() -> None:
    rec = Recorder()
    t = CoalescingTransport(rec, asyncio.get_running_loop())
    t.write(b"a" * 40_000)
    assert rec.writes == []
    assert t.get_write_buffer_size() == 40_000  # flow control sees what is held
    t.write(b"b" * 40_000)  # 80 KB held: past the mark, handed over within the turn
    assert [len(w) for w in rec.writes] == [80_000]
    assert t.get_write_buffer_size() == 0
    await _turn()
    assert len(rec.writes) == 1


def test_flow_control_still_pauses_a_response_the_client_does_not_read() -> None:
    chunk, total = 1 << 20, 48
    sent = 0

    async def flood(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        nonlocal sent
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        data = b"x" * chunk
        for _ in range(total):
            await send({"type": "http.response.body", "body": data, "more_body": True})
            sent += 1
        await send({"type": "http.response.body", "body": b""})

    with _serving(flood) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        time.sleep(1.5)  # never read: the server must stop at its socket buffer and high-water mark
        assert 0 < sent < total // 2, f"{sent} MiB accepted from a producer nobody reads"


class FastApp:
    """An app with a fast path, as the gateway's auth layer has: ``fast_call`` takes what it wants
    (by the body's first word here) and the ASGI app serves the rest."""

    def __init__(self) -> None:
        self.finished: list[bytes] = []
        self.asgi: list[int] = []

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        size = 0
        while True:
            msg = await receive()
            size += len(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        self.asgi.append(size)
        body = b'{"via":"asgi","n":%d}' % size
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def fast_call(
        self, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Coroutine[Any, Any, tuple[bytes, Callable[[], None] | None, int]] | None:
        if body.startswith(b"decline"):
            return None
        if body.startswith(b"raise"):
            raise RuntimeError("admission failed")
        return self._work(body)

    async def _work(self, body: bytes) -> tuple[bytes, Callable[[], None] | None, int]:
        if body.startswith(b"slow"):
            await asyncio.sleep(0.3)
        if body.startswith(b"fail"):
            raise RuntimeError("the call failed")
        return b'{"via":"fast","n":%d}' % len(body), functools.partial(self.finished.append, body), 200


def _post(body: bytes, *extra: bytes, version: bytes = b"1.1") -> bytes:
    head = b"POST /mcp HTTP/" + version + b"\r\nhost: x\r\ncontent-length: %d\r\n" % len(body)
    return head + b"".join(h + b"\r\n" for h in extra) + b"\r\n" + body


def _answers(data: bytes) -> list[bytes]:
    """The bodies of the responses in ``data`` (each has a content-length)."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        out.append(rest[:length])
        data = rest[length:]
    return out


def _wait_for(cond: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cond()


def test_the_fast_path_keeps_order_and_whole_answers_across_pipelined_requests() -> None:
    """Pipelined requests, some taken by the fast path (one slow), some declined or not POSTs: each
    answer is whole, in request order, and the fast ones' bookkeeping runs once each."""
    app = FastApp()
    with _serving(app) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            _post(b"slow-1")
            + _post(b"decline-2")
            + b"GET /x HTTP/1.1\r\nhost: x\r\n\r\n"
            + _post(b"fast-4")
            + _post(b"fast-5", b"connection: close")
        )
        data = _read_all(sock)
        _wait_for(lambda: len(app.finished) == 3)
    assert _answers(data) == [
        b'{"via":"fast","n":6}',
        b'{"via":"asgi","n":9}',
        b'{"via":"asgi","n":0}',
        b'{"via":"fast","n":6}',
        b'{"via":"fast","n":6}',
    ]
    assert app.finished == [b"slow-1", b"fast-4", b"fast-5"]
    assert data.count(b"connection: close") == 1


def test_the_fast_path_waits_for_a_trickled_body_and_hands_a_large_one_to_asgi() -> None:
    app = FastApp()
    with _serving(app) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            req = _post(b"fast-trickled", b"connection: close")
            sock.sendall(req[:-5])
            time.sleep(0.2)
            sock.sendall(req[-5:])
            assert _answers(_read_all(sock)) == [b'{"via":"fast","n":13}']
        big = b"fast" + b"x" * 200_000  # past what is held: streamed to the app instead
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(_post(big, b"connection: close"))
            assert _answers(_read_all(sock)) == [b'{"via":"asgi","n":%d}' % len(big)]
        with socket.create_connection(("127.0.0.1", port)) as sock:  # the client waits for 100 first
            sock.sendall(_post(b"fast-expect", b"expect: 100-continue", b"connection: close"))
            assert _answers(_read_all(sock).split(b"HTTP/1.1 100 Continue\r\n\r\n")[-1]) == [
                b'{"via":"asgi","n":11}'
            ]


def test_the_fast_path_closes_after_http_1_0_and_fails_cleanly() -> None:
    app = FastApp()
    with _serving(app) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(_post(b"fast-10", version=b"1.0"))
            data = _read_all(sock)  # returns: the server closed the connection
        assert b"connection: close" in data
        assert _answers(data) == [b'{"via":"fast","n":7}']
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(_post(b"fail-now") + _post(b"fast-after"))
            data = _read_all(sock)
        assert data.startswith(b"HTTP/1.1 500 ")
        assert data.count(b"HTTP/1.1") == 1  # the connection ends with the failure
        with socket.create_connection(("127.0.0.1", port)) as sock:  # admission failing: asgi serves it
            sock.sendall(_post(b"raise-at-admission", b"connection: close"))
            assert _answers(_read_all(sock)) == [b'{"via":"asgi","n":18}']


def test_a_client_that_leaves_mid_call_still_gets_the_call_accounted_for() -> None:
    app = FastApp()
    with _serving(app) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(_post(b"slow-gone"))
            time.sleep(0.05)
        _wait_for(lambda: app.finished == [b"slow-gone"])
        with socket.create_connection(("127.0.0.1", port)) as sock:  # and the server carries on
            sock.sendall(_post(b"fast-next", b"connection: close"))
            assert _answers(_read_all(sock)) == [b'{"via":"fast","n":9}']


def test_trailer_fields_never_join_the_request_headers() -> None:
    """llhttp reports a chunked body's trailer fields through the header callback; the request's
    headers stay those that came before the body, on the ASGI path and the fast path alike."""
    seen: list[list[bytes]] = []

    class Echo(FastApp):
        async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                seen.append([k for k, _ in scope["headers"]])
            await super().__call__(scope, receive, send)

        def fast_call(
            self, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes
        ) -> Coroutine[Any, Any, tuple[bytes, Callable[[], None] | None, int]] | None:
            seen.append([k for k, _ in headers])
            return super().fast_call(method, path, headers, body)

    chunked = b"POST /mcp HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    trailer = b"0\r\nx-sneaked: 1\r\n\r\n"
    with _serving(Echo()) as port:
        for first in (b"fast", b"decline"):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(chunked + b"%x\r\n%s\r\n" % (len(first), first) + trailer)
                assert _read_all(sock).startswith(b"HTTP/1.1 200 ")
    assert len(seen) == 3  # fast_call twice (one declined), then the ASGI app
    assert all(b"x-sneaked" not in names for names in seen), seen
    assert all(b"transfer-encoding" in names for names in seen)


def _send_all_until_closed(sock: socket.socket, data: bytes) -> None:
    """Send ``data``; the server may answer and close before it has all of it."""
    try:
        for i in range(0, len(data), 65536):
            sock.sendall(data[i : i + 65536])
    except (BrokenPipeError, ConnectionResetError):
        pass


@pytest.mark.parametrize("shape", ["many fields", "one long field", "long target"])
def test_a_request_head_over_the_bound_is_answered_431_and_closed(shape: str) -> None:
    """The head (request line and fields) is bounded, on the fast path and the ASGI path alike:
    neither sees the request. A field that never ends is bounded too (httptools reports a field
    only once it is whole). A head just under the bound is served."""
    app = FastApp()
    if shape == "many fields":
        extra = [b"x-pad-%d: %s" % (i, b"v" * 100) for i in range(400)]  # ~43 KiB
        head = _post(b"fast-1", *extra)
    elif shape == "one long field":
        head = _post(b"fast-1", b"x-big: " + b"v" * (8 << 20))
    else:
        head = b"GET /" + b"a" * (40 << 10) + b" HTTP/1.1\r\nhost: x\r\n\r\n"
    with _serving(app) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            _send_all_until_closed(sock, head)
            try:
                data = _read_all(sock)
            except ConnectionResetError:  # the rest of what we sent was unread at the close
                data = b""
        with socket.create_connection(("127.0.0.1", port)) as sock:  # the server carries on
            sock.sendall(_post(b"fast-ok", *[b"x-pad-%d: %s" % (i, b"v" * 100) for i in range(250)]))
            sock.sendall(_post(b"decline-ok", b"connection: close"))
            after = _read_all(sock)
    if data:
        assert data.startswith(b"HTTP/1.1 431 "), data[:200]
        assert b"connection: close" in data
    assert app.asgi == [10]  # only the request sent afterwards
    assert _answers(after) == [b'{"via":"fast","n":7}', b'{"via":"asgi","n":10}']


def test_a_head_over_the_bound_behind_a_pipelined_call_ends_the_connection() -> None:
    """As uvicorn does for a malformed request: the 431 is written at once and the connection
    closed, so the answer to a call still running before it is lost, but the call is accounted
    for (as for a client that leaves mid-call)."""
    app = FastApp()
    big = _post(b"fast-2", *[b"x-pad-%d: %s" % (i, b"v" * 100) for i in range(400)])
    with _serving(app) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(_post(b"slow-1") + big)
        data = _read_all(sock)
        _wait_for(lambda: app.finished == [b"slow-1"])
    assert data.startswith(b"HTTP/1.1 431 ")
    assert data.count(b"HTTP/1.1") == 1
