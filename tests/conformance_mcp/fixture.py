"""Start the MCP "everything" fixture server (``tests/fixtures/everything_server.py``) for a test.

For any test that needs a conformance-ready MCP server over Streamable HTTP, e.g. the gateway test that runs
the conformance suite through the gateway and compares pass counts with a direct run::

    from tests.conformance_mcp.fixture import free_port, start_fixture, stop_fixture

    port = free_port()
    proc = start_fixture(port)          # returns once http://127.0.0.1:PORT/mcp answers
    try:
        ...                             # fixture_url(port)
    finally:
        stop_fixture(proc)

or ``with running_fixture() as url: ...``. Self-contained (imports nothing from ``tests``), so it also works
from ``tests/conformance_mcp/run.py`` run as a script.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_SCRIPT = REPO_ROOT / "tests" / "fixtures" / "everything_server.py"
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it; tiny race window until it is used)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def fixture_url(port: int) -> str:
    """The fixture's MCP endpoint for ``port``."""
    return f"http://{HOST}:{port}/mcp"


def wait_http_ready(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> None:
    """Wait until ``url`` answers any HTTP response (an MCP endpoint answers a bare GET with 4xx).

    Raises ``RuntimeError`` if ``proc`` exits first or nothing answers within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server process exited with code {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered: an HTTP error status still means the server is up
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s (last error: {last})")


def start_fixture(port: int, log_path: Path | None = None, timeout: float = 20.0) -> subprocess.Popen[bytes]:
    """Start the fixture on ``127.0.0.1:port`` (Streamable HTTP, ``/mcp``) and wait until it answers.

    Its output goes to ``log_path`` (appended) when given, else is discarded. Stop it with
    :func:`stop_fixture`. Raises ``RuntimeError`` (after stopping it) if it does not come up.
    """
    cmd = [sys.executable, str(FIXTURE_SCRIPT), "--port", str(port)]
    if log_path is not None:
        with log_path.open("ab") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    else:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    try:
        wait_http_ready(fixture_url(port), proc, timeout)
    except BaseException:
        stop_fixture(proc)
        raise
    return proc


def stop_fixture(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Terminate the fixture process (kill it if it does not exit within ``timeout``)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


@contextmanager
def running_fixture(log_path: Path | None = None) -> Iterator[str]:
    """Run the fixture on a free port for the ``with`` block; yields its MCP URL."""
    port = free_port()
    proc = start_fixture(port, log_path)
    try:
        yield fixture_url(port)
    finally:
        stop_fixture(proc)
