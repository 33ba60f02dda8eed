"""The lean path's HTTP/1.1 client against a scripted server on a loopback port: framing, reuse,
limits, and requests it must refuse to write."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from proctor.gateway import http1
from proctor.gateway.http1 import Http1Error, Http1Pool

Script = Callable[[bytes], list[bytes]]


class Server:
    """Answers each request with the chunks ``script(request)`` returns; ``b""`` closes."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                req = head + await reader.readexactly(length)
                self.requests.append(req)
                for chunk in self.script(req):
                    if chunk == b"":
                        writer.close()
                        return
                    writer.write(chunk)
                    await writer.drain()
                    await asyncio.sleep(0)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def run(script: Script, body: Callable[[Http1Pool, Server], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        server = Server(script)
        srv = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        pool = Http1Pool(f"http://127.0.0.1:{port}/mcp")
        try:
            return await body(pool, server)
        finally:
            await pool.close()
            srv.close()
            await srv.wait_closed()

    return asyncio.run(main())


def fixed(body: bytes, extra: bytes = b"") -> Script:
    return lambda _req: [b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n" % (len(body), extra) + body]


async def post(pool: Http1Pool, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    async with pool.request("POST", headers or {"content-type": "application/json"}, b"{}") as resp:
        return resp.status, resp.headers, await resp.read()


def test_content_length_response_and_the_connection_is_reused() -> None:
    async def body(pool: Http1Pool, server: Server) -> None:
        for _ in range(3):
            status, headers, data = await post(pool)
            assert (status, data) == (200, b'{"ok":true}')
            assert headers["x-thing"] == "Yes"
        assert server.connections == 1
        assert server.requests[0].startswith(b"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:")
        assert b"content-length: 2\r\n" in server.requests[0]

    run(fixed(b'{"ok":true}', b"X-Thing: Yes\r\n"), body)


def test_chunked_body_streams_as_it_arrives() -> None:
    def script(_req: bytes) -> list[bytes]:
        return [
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
            b"8\r\ndata: 1\n\r\n",
            b"8\r\n\ndata: 2\r\n",
            b"0\r\n\r\n",
        ]

    async def body(pool: Http1Pool, server: Server) -> None:
        async with pool.request("POST", {}, b"{}") as resp:
            parts = [c async for c in resp.chunks()]
        assert b"".join(parts) == b"data: 1\n\ndata: 2"
        assert len(parts) >= 2  # not buffered to the end
        await post(pool)
        assert server.connections == 1

    run(script, body)


def test_body_delimited_by_close_is_read_to_the_end_and_not_reused() -> None:
    def script(_req: bytes) -> list[bytes]:
        return [b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n", b'{"a":', b"1}", b""]

    async def body(pool: Http1Pool, server: Server) -> None:
        assert (await post(pool))[2] == b'{"a":1}'
        assert (await post(pool))[2] == b'{"a":1}'
        assert server.connections == 2

    run(script, body)


def test_connection_close_is_honoured() -> None:
    async def body(pool: Http1Pool, server: Server) -> None:
        await post(pool)
        await post(pool)
        assert server.connections == 2

    run(fixed(b"{}", b"Connection: close\r\n"), body)


def test_an_informational_response_is_skipped() -> None:
    def script(_req: bytes) -> list[bytes]:
        return [
            b"HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
        ]

    async def body(pool: Http1Pool, server: Server) -> None:
        status, headers, data = await post(pool)
        assert (status, data) == (200, b"ok")
        assert "link" not in headers

    run(script, body)


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (lambda _r: [b"NOT HTTP AT ALL\r\n\r\n"], "protocol error"),
        (
            lambda _r: [b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", b""],
            "closed before the response ended",
        ),
        (lambda _r: [b""], "closed before the response headers"),
        (
            lambda _r: [b"HTTP/1.1 200 OK\r\nx-big: " + b"a" * (70 << 10) + b"\r\ncontent-length: 0\r\n\r\n"],
            "headers too large",
        ),
        (
            lambda _r: [b"HTTP/1.1 200 OK\r\n" + b"x-h: 1\r\n" * 10_000 + b"content-length: 0\r\n\r\n"],
            "headers too large",
        ),
        (lambda _r: [b"HTTP/1.1 200 OK\r\nx-endless: " + b"a" * (200 << 10)], "headers too large"),
    ],
)
def test_broken_responses_raise_http1_error(script: Script, message: str) -> None:
    async def body(pool: Http1Pool, server: Server) -> None:
        with pytest.raises(Http1Error, match=message):
            await post(pool)

    run(script, body)


def test_a_body_over_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http1, "MAX_RESPONSE_BYTES", 1000)

    async def body(pool: Http1Pool, server: Server) -> None:
        with pytest.raises(Http1Error, match="too large"):
            await post(pool)

    run(fixed(b"x" * 5000), body)


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Bearer secret\r\nx-injected: 1"},
        {"authorization": "Bearer secret\nx-injected: 1"},
        {"authorization": "Bearer sec\x00ret"},
        {"bad name": "v"},
        {"x-h\r\nx-injected": "v"},
        {"authorization": "Bearer \u2603"},  # not latin-1
    ],
)
def test_requests_that_could_split_are_refused_before_anything_is_sent(headers: dict[str, str]) -> None:
    async def body(pool: Http1Pool, server: Server) -> None:
        with pytest.raises(Http1Error, match="could not be encoded") as info:
            await post(pool, headers)
        assert "secret" not in str(info.value)  # never quotes a value: it may be a credential
        assert server.connections == 0

    run(fixed(b"{}"), body)


def test_a_closed_pool_refuses_requests() -> None:
    async def body(pool: Http1Pool, server: Server) -> None:
        await pool.close()
        with pytest.raises(Http1Error, match="closed"):
            await post(pool)

    run(fixed(b"{}"), body)


def test_only_plain_http_urls_are_taken() -> None:
    with pytest.raises(ValueError, match="plain http"):
        Http1Pool("https://example.test/mcp")
    with pytest.raises(ValueError, match="spaces, control"):
        Http1Pool("http://127.0.0.1:1/a b")
    with pytest.raises(ValueError, match="non-ASCII"):  # percent-encode it: the request line is ASCII
        Http1Pool("http://127.0.0.1:1/caf\u00e9")


def test_bytes_after_the_answer_never_reach_the_next_exchange() -> None:
    """A peer that sends more than the answer (a second response, in the same write or later)
    gets its connection dropped: the extra bytes are neither part of this body nor the next one."""

    def script(req: bytes) -> list[bytes]:
        n = len(server_state["seen"])
        server_state["seen"].append(req)
        extra = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nEVIL!"
        answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nA%d" % n
        return [answer + extra] if n == 0 else [answer, extra]

    server_state: dict[str, list[bytes]] = {"seen": []}

    async def body(pool: Http1Pool, server: Server) -> None:
        assert (await post(pool))[2] == b"A0"  # same write: the extra response is not in the body
        assert (await post(pool))[2] == b"A1"  # a fresh connection, not the polluted one
        await asyncio.sleep(0.05)  # the extra response of the second exchange arrives while idle
        assert (await post(pool))[2] == b"A2"
        assert server.connections == 3

    run(script, body)


def test_the_host_header_never_carries_url_credentials() -> None:
    with pytest.raises(ValueError, match="may not carry credentials"):
        Http1Pool("http://svc:s3cr3t@127.0.0.1:8080/mcp")
    assert Http1Pool("http://127.0.0.1:8080/mcp").host_header == b"127.0.0.1:8080"
    assert Http1Pool("http://[::1]:8080/mcp").host_header == b"[::1]:8080"
    assert Http1Pool("http://upstream.internal/mcp").host_header == b"upstream.internal"


def test_a_kept_alive_connection_the_upstream_closed_is_not_reused_even_before_the_loop_saw_it() -> None:
    """The upstream closes its kept-alive connection between two calls while the event loop is
    busy (it has not read the close yet): the next call goes out on a fresh connection, succeeds,
    and the upstream sees it exactly once (issue 12.2)."""
    import socket
    import threading
    import time

    requests: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def serve() -> None:  # one request per connection, answered as kept alive, then closed
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    requests.append(data)
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    async def main() -> list[bytes]:
        pool = Http1Pool(f"http://127.0.0.1:{port}/mcp")
        bodies = []
        try:
            for _ in range(2):
                async with pool.request("POST", {"content-type": "application/json"}, b"{}") as resp:
                    bodies.append(await resp.read())
                time.sleep(0.3)  # a busy loop: the upstream's close arrives, unread by asyncio
        finally:
            await pool.close()
        return bodies

    try:
        assert asyncio.run(main()) == [b"ok", b"ok"]
    finally:
        listener.close()
    assert len(requests) == 2
