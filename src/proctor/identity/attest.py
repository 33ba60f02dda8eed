"""Local workload attestation over a Unix domain socket, like SPIRE's ``unix`` workload attestor.

A workload connects to the socket; the kernel tells the server who it is (``SO_PEERCRED``: pid, uid,
gid). The server turns that into selectors::

    unix:uid:<n>  unix:user:<name>  unix:gid:<n>  unix:group:<name>
    unix:path:<executable>  unix:sha256:<hex digest of the executable>

and issues a JWT-SVID to the one agent whose registered selectors are all among them.

PID reuse. ``SO_PEERCRED`` gives a pid, and a pid can be recycled if the peer exits before the
server has read ``/proc/<pid>``; a process started in its place could then be attested instead.
The server therefore:

1. takes a pidfd for the connecting process (``SO_PEERPIDFD``, Linux 6.5+) and, after reading
   ``/proc``, checks with ``pidfd_send_signal(pidfd, 0)`` that this very process is still alive.
   A live process keeps its pid, so everything read from ``/proc/<pid>`` was about it;
2. on older kernels, compares the process start time (``/proc/<pid>/stat`` field 22) before and
   after reading, and requires that it started before the connection was accepted;
3. checks that the file it hashed is still the process's executable (same device and inode after
   hashing as ``/proc/<pid>/exe`` points to), so an ``execve`` while hashing is caught, and that
   ``/proc/<pid>/status`` shows the same uid and gid as the socket credentials.

Limits, as with SPIRE: the selectors describe the process *at attestation time*. A process can
``execve`` a trusted binary after connecting while a forked child keeps the socket, so ``path``
and ``sha256`` selectors of general-purpose interpreters (``python3``) prove little on their own.
Give each agent its own Unix user and always include ``unix:uid``. When the server cannot read
another user's ``/proc/<pid>/exe`` (no ptrace access) it emits no ``path``/``sha256`` selectors,
so agents that require them fail to attest: fail closed.
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import json
import logging
import os
import pwd
import signal
import socket
import socketserver
import stat
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from proctor.clock import Clock
from proctor.errors import (
    AgentSuspended,
    AttestationFailed,
    ConfigError,
    IdentityError,
    JoinTokenInvalid,
    ProctorError,
    TokenInvalid,
    ValidationError,
)
from proctor.identity.svid import SvidAuthority
from proctor.store.base import AgentRecord, Store
from proctor.types import AgentStatus

log = logging.getLogger(__name__)

DEFAULT_SOCKET_NAME: Final = "attest.sock"
MAX_REQUEST_BYTES: Final = 4096
MAX_REPLY_BYTES: Final = 16384
_SO_PEERPIDFD: Final = getattr(socket, "SO_PEERPIDFD", 77)
_CLK_TCK: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class PeerCredentials:
    """What the kernel says about the process at the other end of a Unix socket."""

    pid: int
    uid: int
    gid: int


def peer_credentials(sock: socket.socket) -> PeerCredentials:
    """Read ``SO_PEERCRED`` (``struct ucred``) from a connected Unix socket."""
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        raise AttestationFailed("cannot read the caller's credentials") from None
    pid, uid, gid = struct.unpack("3i", raw)
    if pid <= 0:
        raise AttestationFailed("the caller's process is unknown (pid 0)")
    return PeerCredentials(pid, uid, gid)


def _start_ticks(proc: Path, pid: int) -> int:
    """Process start time, in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""
    try:
        data = (proc / str(pid) / "stat").read_bytes()
        # the command name (field 2) may hold spaces and parentheses: split after the last `)`
        fields = data[data.rindex(b")") + 2 :].split()
        return int(fields[19])
    except (OSError, ValueError, IndexError):
        raise AttestationFailed("the caller's process went away during attestation") from None


def _uptime_ticks(proc: Path) -> float:
    try:
        return float((proc / "uptime").read_text().split()[0]) * _CLK_TCK
    except (OSError, ValueError, IndexError):
        return float("inf")


def _status_ids(proc: Path, pid: int) -> tuple[int, int]:
    """Effective uid and gid from ``/proc/<pid>/status``."""
    uid = gid = -1
    try:
        for line in (proc / str(pid) / "status").read_text().splitlines():
            if line.startswith("Uid:"):
                uid = int(line.split()[2])
            elif line.startswith("Gid:"):
                gid = int(line.split()[2])
    except (OSError, ValueError, IndexError):
        raise AttestationFailed("the caller's process went away during attestation") from None
    return uid, gid


#: the largest executable hashed for a ``sha256`` selector: anyone may connect, and a process
#: running a huge (even sparse) file must not make each connection cost minutes of hashing
MAX_EXECUTABLE_BYTES = 1 << 30


def _executable(proc: Path, pid: int) -> tuple[str, str] | None:
    """(path, sha256) of the process's executable, or None if we may not read it. An executable
    over :data:`MAX_EXECUTABLE_BYTES` fails attestation."""
    link = proc / str(pid) / "exe"
    try:
        path = os.readlink(link)
        with open(link, "rb") as f:
            opened = os.fstat(f.fileno())
            if not stat.S_ISREG(opened.st_mode):
                raise AttestationFailed("the caller's executable is not a regular file")
            if opened.st_size > MAX_EXECUTABLE_BYTES:
                raise AttestationFailed("the caller's executable is too large to attest")
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        now = os.stat(link)
    except PermissionError:
        return None
    except OSError:
        raise AttestationFailed("the caller's process went away during attestation") from None
    if (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino) or os.readlink(link) != path:
        raise AttestationFailed("the caller's executable changed during attestation")
    return path, digest


def workload_selectors(
    creds: PeerCredentials,
    *,
    pidfd: int | None = None,
    accepted_at_ticks: float | None = None,
    proc: Path = Path("/proc"),
) -> frozenset[str]:
    """The ``unix:`` selectors of the process behind ``creds`` (see the module docs on races)."""
    start = _start_ticks(proc, creds.pid)
    if accepted_at_ticks is not None and start > accepted_at_ticks + 1:
        raise AttestationFailed("the caller's process started after it connected: pid was reused")
    selectors = {f"unix:uid:{creds.uid}", f"unix:gid:{creds.gid}"}
    with contextlib.suppress(KeyError):
        selectors.add(f"unix:user:{pwd.getpwuid(creds.uid).pw_name}")
    with contextlib.suppress(KeyError):
        selectors.add(f"unix:group:{grp.getgrgid(creds.gid).gr_name}")
    exe = _executable(proc, creds.pid)
    if exe is not None:
        selectors.add(f"unix:path:{exe[0]}")
        selectors.add(f"unix:sha256:{exe[1]}")
    if _status_ids(proc, creds.pid) != (creds.uid, creds.gid):
        raise AttestationFailed("the caller's process changed its user or group during attestation")
    if _start_ticks(proc, creds.pid) != start:
        raise AttestationFailed("the caller's process went away during attestation: pid was reused")
    if pidfd is not None:
        try:
            signal.pidfd_send_signal(pidfd, 0)
        except OSError:
            raise AttestationFailed("the caller's process went away during attestation") from None
    return frozenset(selectors)


def uptime_ticks() -> float:
    """Clock ticks since boot: what a server notes when it accepts a connection, to compare with the
    start time of the process it then attests (see the module docs on pid reuse)."""
    return _uptime_ticks(Path("/proc"))


def attest_peer(sock: socket.socket, accepted_at_ticks: float | None = None) -> frozenset[str]:
    """The ``unix:`` selectors of the process at the other end of the connected Unix socket
    ``sock``, with the pidfd and start-time checks of :func:`workload_selectors`."""
    creds = peer_credentials(sock)
    pidfd: int | None = None
    try:
        with contextlib.suppress(OSError):
            pidfd = sock.getsockopt(socket.SOL_SOCKET, _SO_PEERPIDFD)
        return workload_selectors(creds, pidfd=pidfd, accepted_at_ticks=accepted_at_ticks)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def match_agent(agents: Iterable[AgentRecord], selectors: Iterable[str]) -> AgentRecord:
    """The one agent whose registered selectors are all in ``selectors``.

    An agent without selectors never matches. No match, or more than one, is an
    :class:`AttestationFailed`.
    """
    have = frozenset(selectors)
    matches = [a for a in agents if a.selectors and have.issuperset(a.selectors)]
    if not matches:
        raise AttestationFailed(
            f"no agent is registered for this workload (selectors `{' '.join(sorted(have))}`)",
            selectors=sorted(have),
        )
    if len(matches) > 1:
        raise AttestationFailed(
            "this workload matches more than one agent: make each agent's selectors unique",
            agents=sorted(a.name for a in matches),
        )
    return matches[0]


#: called after every attestation with the agent (if one matched), the selectors and the error
AttestHook = Callable[[AgentRecord | None, frozenset[str], ProctorError | None], None]


class _Handler(socketserver.BaseRequestHandler):
    server: _UnixServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(self.server.owner.timeout)
        reply = self.server.owner._serve(sock)
        with contextlib.suppress(OSError):
            sock.sendall(json.dumps(reply, separators=(",", ":")).encode() + b"\n")


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    block_on_close = False
    owner: AttestationServer


class AttestationServer:
    """A small threaded attestation server on ``<directory>/attest.sock`` (mode 0666).

    Protocol: the client sends one JSON line ``{"audience": "..."}``; the server replies with one
    JSON line, ``{"svid": "..."}`` or ``{"error": {"code": ..., "message": ...}}``.
    """

    def __init__(
        self,
        directory: str | Path,
        store: Store,
        svids: SvidAuthority,
        clock: Clock,
        *,
        socket_name: str = DEFAULT_SOCKET_NAME,
        timeout: float = 5.0,
        on_attest: AttestHook | None = None,
    ) -> None:
        self.socket_path = Path(directory) / socket_name
        self.store = store
        self.svids = svids
        self.clock = clock
        self.timeout = timeout
        self.on_attest = on_attest
        self._server: _UnixServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> AttestationServer:
        """Bind the socket and serve in a background thread."""
        if self._server is not None:
            return self
        self._remove_stale_socket()
        try:
            server = _UnixServer(str(self.socket_path), _Handler)
        except OSError as exc:
            raise ConfigError(f"cannot listen on `{self.socket_path}`: {exc.strerror}") from None
        server.owner = self
        # any local workload may ask: the kernel, not the file mode, says who it is
        os.chmod(self.socket_path, 0o666)  # noqa: S103 - a socket every local workload must reach
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="proctor-attest", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and remove the socket file."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    def __enter__(self) -> AttestationServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _remove_stale_socket(self) -> None:
        try:
            st = os.lstat(self.socket_path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise ConfigError(f"`{self.socket_path}` exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(1.0)
            probe.connect(str(self.socket_path))
        except OSError:
            self.socket_path.unlink()  # nobody is listening: a leftover from a crash
            return
        finally:
            probe.close()
        raise ConfigError(f"`{self.socket_path}` is in use by another attestation server")

    # ---- one connection --------------------------------------------------------------------------
    def _serve(self, sock: socket.socket) -> dict[str, Any]:
        agent: AgentRecord | None = None
        selectors: frozenset[str] = frozenset()
        pidfd: int | None = None
        try:
            accepted = _uptime_ticks(Path("/proc"))
            creds = peer_credentials(sock)
            with contextlib.suppress(OSError):
                pidfd = sock.getsockopt(socket.SOL_SOCKET, _SO_PEERPIDFD)
            selectors = workload_selectors(creds, pidfd=pidfd, accepted_at_ticks=accepted)
            audience = _read_request(sock)
            agent = match_agent(self.store.list_agents(), selectors)
            if agent.status is not AgentStatus.ACTIVE:
                raise AgentSuspended(f"agent `{agent.name}` is suspended", agent=agent.name)
            svid = self.svids.issue(agent, audience, self.clock.now())
        except ProctorError as exc:
            self._notify(agent, selectors, exc)
            return {"error": exc.to_dict()}
        except Exception:
            log.exception("attestation failed unexpectedly")
            err = AttestationFailed("attestation failed: internal error")
            self._notify(agent, selectors, err)
            return {"error": err.to_dict()}
        finally:
            if pidfd is not None:
                os.close(pidfd)
        self._notify(agent, selectors, None)
        return {"svid": svid}

    def _notify(self, agent: AgentRecord | None, selectors: frozenset[str], err: ProctorError | None) -> None:
        if self.on_attest is not None:
            try:
                self.on_attest(agent, selectors, err)
            except Exception:
                log.exception("attestation hook failed")


def _read_line(sock: socket.socket, limit: int) -> bytes:
    buf = b""
    while b"\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
        if len(buf) > limit:
            raise ValidationError(f"message is longer than {limit} bytes")
    line = buf.split(b"\n", 1)[0]
    if len(line) > limit:
        raise ValidationError(f"message is longer than {limit} bytes")
    return line


def _read_request(sock: socket.socket) -> str:
    try:
        line = _read_line(sock, MAX_REQUEST_BYTES)
    except OSError:
        raise ValidationError("no request received") from None
    try:
        req = json.loads(line)
    except ValueError:
        raise ValidationError('request is not JSON: send `{"audience": "..."}`') from None
    if not isinstance(req, dict) or set(req) != {"audience"} or not isinstance(req["audience"], str):
        raise ValidationError('request must be `{"audience": "..."}`')
    return req["audience"]


_ERRORS: Final[dict[str, type[ProctorError]]] = {
    cls.code: cls
    for cls in (
        AttestationFailed,
        AgentSuspended,
        TokenInvalid,
        JoinTokenInvalid,
        IdentityError,
        ValidationError,
    )
}


def fetch_svid(socket_path: str | Path, audience: str, *, timeout: float = 5.0) -> str:
    """Ask the attestation server at ``socket_path`` for a JWT-SVID for ``audience``.

    Raises the server's error as the matching Proctor error (``AttestationFailed`` when unknown).
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(str(socket_path))
        sock.sendall(json.dumps({"audience": audience}).encode() + b"\n")
        line = _read_line(sock, MAX_REPLY_BYTES)
    except OSError as exc:
        raise AttestationFailed(f"cannot reach the attestation server at `{socket_path}`: {exc}") from None
    finally:
        sock.close()
    try:
        reply = json.loads(line)
    except ValueError:
        raise AttestationFailed("the attestation server sent an invalid reply") from None
    if isinstance(reply, dict) and isinstance(reply.get("svid"), str):
        return str(reply["svid"])
    err = reply.get("error") if isinstance(reply, dict) else None
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        cls = _ERRORS.get(str(err.get("code")), AttestationFailed)
        raise cls(err["message"])
    raise AttestationFailed("the attestation server sent an invalid reply")


__all__ = [
    "AttestationServer",
    "PeerCredentials",
    "attest_peer",
    "fetch_svid",
    "match_agent",
    "peer_credentials",
    "uptime_ticks",
    "workload_selectors",
]
