"""Bounded reads of what another party answers: the A2A red-team fixes (docs/adr/0038), made one
helper for every client Proctor runs (the OpenID Connect provider, a witness, an MCP upstream).

An answer is read

* **up to a cap**, counted on the bytes as they arrive, never buffered whole first;
* **unencoded**: ``Accept-Encoding: identity`` is asked for, and an answer sent with another
  ``Content-Encoding`` is refused unread (a few kilobytes of gzip can inflate to gigabytes);
* **within a deadline as a whole**: httpx's timeout bounds each read, so a server trickling a byte
  at a time would hold the read for ever; its body is checked against the deadline as it arrives,
  and the connection is cut at the deadline (its status line and headers too);
* as **JSON no deeper than the parser can follow** (a deeply nested document is a refusal, never a
  ``RecursionError`` escaping the caller's error handling).

Each refusal is an :class:`AnswerRefused` naming why, in Proctor's words; the caller raises its
own :class:`~proctor.errors.ProctorError` (with its stable code) from it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, Final

import httpx

from proctor.clock import SystemClock

__all__ = ["IDENTITY", "AnswerRefused", "aread_capped", "encoded", "fetch", "loads", "read_capped"]

#: the request header that asks for an answer as it is (no compression)
IDENTITY: Final = {"accept-encoding": "identity"}
#: a network deadline is real time whatever clock the caller runs on (as the A2A card fetch)
_REAL_TIME: Final = SystemClock()


class AnswerRefused(Exception):
    """Why an answer was not read (``reason``, in Proctor's words; never the server's)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encoded(headers: Mapping[str, str]) -> str | None:
    """Why an answer with these headers is refused for its ``Content-Encoding`` (None: unencoded)."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return None
    return f"sent with Content-Encoding `{encoding[:40]}`; Proctor reads it unencoded only"


def read_capped(chunks: Iterable[bytes], limit: int, deadline: float | None = None) -> bytes:
    """The body ``chunks`` make, refused once it passes ``limit`` bytes or (real) monotonic time
    passes ``deadline``."""
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise AnswerRefused(f"larger than {limit} bytes")
        if deadline is not None and _REAL_TIME.monotonic() > deadline:
            raise AnswerRefused("not received in time")
    return bytes(body)


async def aread_capped(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """:func:`read_capped` for an async body (its caller bounds the time, as a task's timeout)."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise AnswerRefused(f"larger than {limit} bytes")
    return bytes(body)


def loads(raw: bytes | str) -> Any:
    """The JSON ``raw`` holds; :class:`AnswerRefused` for what is not JSON or nests deeper than
    the parser follows."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise AnswerRefused("JSON nested too deeply") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        raise AnswerRefused("not JSON") from None


def fetch(
    method: str,
    url: str,
    *,
    limit: int,
    timeout_s: float,
    headers: Mapping[str, str] | None = None,
    trust_env: bool = True,
    **kwargs: Any,
) -> tuple[int, bytes]:
    """One request (no redirect followed); the answer's status and body, read unencoded, up to
    ``limit`` bytes and within ``timeout_s`` as a whole. :class:`AnswerRefused` when it is not
    read; ``httpx.HTTPError`` when the server cannot be reached."""
    deadline = _REAL_TIME.monotonic() + timeout_s
    watch = _Watchdog()
    timer = threading.Timer(timeout_s, watch.fire)
    timer.daemon = True
    timer.start()
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=trust_env) as http,
            http.stream(
                method,
                url,
                headers={**(headers or {}), **IDENTITY},
                extensions={"trace": watch.trace},
                **kwargs,
            ) as resp,
        ):
            if why := encoded(resp.headers):
                raise AnswerRefused(why)
            body = read_capped(resp.iter_raw(), limit, deadline)
            if watch.fired:  # cut at the deadline: an answer read to its end is one read until then
                raise AnswerRefused("not received in time")
            return resp.status_code, body
    except httpx.HTTPError:
        if watch.fired:  # the deadline cut the connection: the answer was not received in time
            raise AnswerRefused("not received in time") from None
        raise
    finally:
        timer.cancel()


class _Watchdog:
    """Cuts a request's connection at its deadline. httpx bounds each read, not the whole: a server
    that trickles its status line and headers (or a chunk's size line) a byte at a time, each in
    time, would hold the request for as long as it liked; the deadline was checked only as body
    chunks arrived. The socket is shut down from a timer, so the blocked read ends there."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.fired = False

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        sock = None if stream is None else stream.get_extra_info("socket")
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shut(sock)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)
