"""Red team of the bounded reads (:mod:`proctor.bounded`): an answer is read within its deadline
as a whole. The deadline was checked as body chunks arrived: a server that trickles its status
line and headers (or a chunk's size line) a byte at a time, each byte inside httpx's per-read
timeout, held the read (a sign-in's worker, a witness's) for as long as it liked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from proctor.bounded import AnswerRefused, fetch

BODY = b'{"ok": true}'


#: whether the server got to send its whole answer (the client still reading)
SENT: dict[str, bool] = {}


def _serve(head: bytes, body: bytes, gap: float) -> Iterator[str]:
    SENT.clear()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    stop = threading.Event()

    def run() -> None:
        conn, _ = srv.accept()
        with conn:
            conn.recv(65536)
            try:
                for i in range(len(head)):  # the head, a byte at a time
                    if stop.is_set():
                        return
                    conn.sendall(head[i : i + 1])
                    time.sleep(gap)
                conn.sendall(body)
                SENT["all"] = True
            except OSError:
                return  # the client gave up: what the fix does

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}/"
    finally:
        stop.set()
        srv.close()


@pytest.fixture
def trickled_head() -> Iterator[str]:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"
    yield from _serve(head, BODY, 0.05)  # ~3.5 s in all, each byte well inside the 1 s timeout


def test_a_head_trickled_past_the_deadline_is_refused(trickled_head: str) -> None:
    with pytest.raises(AnswerRefused, match="not received in time"):
        fetch("GET", trickled_head, limit=1024, timeout_s=1.0, trust_env=False)
    # refused at its deadline, not once the server chose to finish: the client hung up mid-head
    time.sleep(0.5)
    assert not SENT, "the read was held until the server had sent its whole answer"
