"""``proctor gateway --stdio``: the keyless thin client an MCP client spawns.

It holds no keys and opens nothing under the workspace: it connects to a Proctor daemon's gateway
socket (``proctor gateway --http`` or ``--unix``, see :mod:`proctor.gateway.socket_relay`), sends
one hello line with the credentials found in its environment, and then relays the MCP JSON-RPC
stream (newline-delimited, as on stdio) byte for byte between its stdin/stdout and the socket. The
daemon alone opens the workspace, identifies the caller (a token from the hello, else
``SO_PEERCRED`` attestation of this very process) and runs the gateway session, so stdio upstreams
run as the daemon's user, not as the agent host's (ADR 0015).

Hello (one JSON line, client to daemon)::

    {"proctor": "gateway/1", "svid": "...", "join_token": "...", "task_token": "..."}

with only the credentials that are set (``PROCTOR_SVID``, ``PROCTOR_JOIN_TOKEN``,
``PROCTOR_TASK_TOKEN``). Instead of a task token the hello may name a task template
(``"template": NAME``, from ``--template`` or ``PROCTOR_TEMPLATE``): the daemon then starts a
fresh task from it for this session and ends it when the session ends (docs/adr/0029), so a
client's configuration holds no secret and survives restarts. The daemon answers one JSON line, ``{"proctor": "gateway/1", "agent":
..., "task": ..., "how": ...}`` or ``{"error": {"code": ..., "message": ...}}``.

Failure is closed and loud: when the daemon cannot be reached or refuses the caller, the error goes
to stderr, the MCP client's first request is answered with a JSON-RPC error naming it, and the
process exits non-zero. When the MCP client closes stdin, the socket's write side is shut: the
daemon ends the session and the task's upstream processes, and this process exits 0.

This module uses the standard library only (and none of Proctor's), so that what runs as the agent
host's user is small and reads nothing of Proctor's state.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import sys
import threading
from collections.abc import Mapping
from typing import Any, Final

PROTOCOL: Final = "gateway/1"
#: the daemon's gateway socket, in the workspace's ``run/`` directory
SOCKET_NAME: Final = "gateway.sock"
ENV_SOCKET: Final = "PROCTOR_SOCKET"
ENV_TEMPLATE: Final = "PROCTOR_TEMPLATE"
#: the longest hello reply read from the daemon
MAX_REPLY_BYTES: Final = 16384
#: the longest first request read from the MCP client to answer a refusal to
MAX_FIRST_LINE: Final = 1 << 20
CHUNK: Final = 1 << 16
#: how long connecting and the hello may take before the daemon counts as unreachable
CONNECT_TIMEOUT_S: Final = 30.0
#: how long a refusal waits for the MCP client's first request, to answer it with the error
REFUSAL_WAIT_S: Final = 10.0
#: JSON-RPC error code of a refusal (implementation-defined server error)
REFUSAL_CODE: Final = -32000
#: exit codes: the daemon refused the caller (as the CLI's errors); the daemon is unreachable or
#: ended the session before the client did
EXIT_REFUSED: Final = 2
EXIT_UNAVAILABLE: Final = 1

_CREDENTIALS: Final = (("PROCTOR_SVID", "svid"), ("PROCTOR_JOIN_TOKEN", "join_token"))


def default_socket(workspace: str) -> str:
    """``<workspace>/run/gateway.sock``, made absolute from the string alone: nothing is read."""
    return os.path.join(os.path.abspath(os.path.expanduser(workspace)), "run", SOCKET_NAME)


def hello(env: Mapping[str, str], template: str | None = None) -> bytes:
    """The hello line: the first credential that is set (SVID before join token), the task token
    and the template (``template``, else ``PROCTOR_TEMPLATE``). Both a task token and a template
    are sent as given: the daemon refuses that hello, so a mistaken configuration is loud."""
    msg: dict[str, str] = {"proctor": PROTOCOL}
    for var, key in _CREDENTIALS:
        if env.get(var):
            msg[key] = env[var]
            break
    if env.get("PROCTOR_TASK_TOKEN"):
        msg["task_token"] = env["PROCTOR_TASK_TOKEN"]
    if template := template or env.get(ENV_TEMPLATE):
        msg["template"] = template
    return json.dumps(msg, separators=(",", ":")).encode() + b"\n"


class Refused(Exception):
    """The session could not start: ``code`` and ``message`` say why; ``exit_code`` is the status."""

    def __init__(self, code: str, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.exit_code = exit_code


def connect(
    path: str, env: Mapping[str, str], timeout: float = CONNECT_TIMEOUT_S, template: str | None = None
) -> tuple[socket.socket, bytes]:
    """Connect, say hello and read the answer: the socket ready to relay, and any bytes the daemon
    sent after its answer. Raises :class:`Refused`."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
            sock.sendall(hello(env, template))
            line, rest = _read_line(sock, MAX_REPLY_BYTES)
        except OSError as exc:
            why = exc.strerror or str(exc) or type(exc).__name__
            raise Refused(
                "daemon_unreachable", f"cannot reach the Proctor daemon at `{path}`: {why}", EXIT_UNAVAILABLE
            ) from None
        reply = _parse_reply(line)
        err = reply.get("error")
        if isinstance(err, dict):
            code, message = str(err.get("code", "refused"))[:100], str(err.get("message", ""))[:2000]
            raise Refused(code, message or "the Proctor daemon refused the session", EXIT_REFUSED)
        if reply.get("proctor") != PROTOCOL:
            raise Refused("daemon_unreachable", f"`{path}` is not a Proctor gateway socket", EXIT_UNAVAILABLE)
        sock.settimeout(None)
        return sock, rest
    except BaseException:
        sock.close()
        raise


def _read_line(sock: socket.socket, limit: int) -> tuple[bytes, bytes]:
    buf = b""
    while b"\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise OSError(0, "the daemon closed the connection without answering")
        buf += chunk
        if len(buf) > limit + 1 and b"\n" not in buf:
            raise OSError(0, "the daemon's answer is too long")
    line, _, rest = buf.partition(b"\n")
    return line, rest


def _parse_reply(line: bytes) -> dict[str, Any]:
    try:
        reply = json.loads(line)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        raise Refused("daemon_unreachable", "the Proctor daemon sent an invalid answer", EXIT_UNAVAILABLE)
    return reply


def answer_first_request(
    refused: Refused, stdin_fd: int, stdout_fd: int, wait: float = REFUSAL_WAIT_S
) -> None:
    """Answer the MCP client's first request (its ``initialize``) with the refusal as a JSON-RPC
    error, so the client shows why instead of a bare closed pipe. Waits at most ``wait`` seconds."""
    buf = b""
    try:
        while b"\n" not in buf and len(buf) <= MAX_FIRST_LINE:
            ready, _, _ = select.select([stdin_fd], [], [], wait)
            if not ready:
                return
            chunk = os.read(stdin_fd, CHUNK)
            if not chunk:
                break
            buf += chunk
    except OSError:
        return
    try:
        msg = json.loads(buf.partition(b"\n")[0])
    except ValueError:
        return
    mid = msg.get("id") if isinstance(msg, dict) else None
    if (
        not isinstance(msg, dict)
        or "method" not in msg
        or not isinstance(mid, str | int)
        or isinstance(mid, bool)
    ):
        return
    error = {"code": REFUSAL_CODE, "message": f"Proctor: {refused.message} [{refused.code}]"}
    reply = json.dumps({"jsonrpc": "2.0", "id": mid, "error": error}, separators=(",", ":")).encode() + b"\n"
    try:
        _write_all(stdout_fd, reply)
    except OSError:
        return


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def relay(sock: socket.socket, pending: bytes, stdin_fd: int, stdout_fd: int) -> bool:
    """Pump bytes both ways until the daemon closes the connection. Returns whether the MCP client
    closed stdin first (a normal end); memory stays bounded by the chunk size."""
    client_done = threading.Event()

    def upward() -> None:
        try:
            while True:
                chunk = os.read(stdin_fd, CHUNK)
                if not chunk:
                    break
                sock.sendall(chunk)
        except OSError:
            pass
        finally:
            client_done.set()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)  # the daemon reads end-of-stream: the session ends

    threading.Thread(target=upward, name="proctor-thin-up", daemon=True).start()
    try:
        if pending:
            _write_all(stdout_fd, pending)
        while True:
            chunk = sock.recv(CHUNK)
            if not chunk:
                break
            _write_all(stdout_fd, chunk)
    except OSError:
        pass  # the daemon or the MCP client went away: either way the session is over
    finally:
        sock.close()
    return client_done.is_set()


def run_thin(
    socket_path: str,
    env: Mapping[str, str] | None = None,
    *,
    stdin_fd: int = 0,
    stdout_fd: int = 1,
    template: str | None = None,
) -> int:
    """Entry point of ``proctor gateway --stdio``: the exit status."""
    env = os.environ if env is None else env
    try:
        sock, pending = connect(socket_path, env, template=template)
    except Refused as refused:
        sys.stderr.write(f"error [{refused.code}]: {refused.message}\n")
        sys.stderr.flush()
        answer_first_request(refused, stdin_fd, stdout_fd)
        return refused.exit_code
    if relay(sock, pending, stdin_fd, stdout_fd):
        return 0
    sys.stderr.write("error [daemon_unreachable]: the Proctor daemon ended the session\n")
    return EXIT_UNAVAILABLE


__all__ = [
    "ENV_SOCKET",
    "ENV_TEMPLATE",
    "PROTOCOL",
    "SOCKET_NAME",
    "Refused",
    "default_socket",
    "hello",
    "run_thin",
]
