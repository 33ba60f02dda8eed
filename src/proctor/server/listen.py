"""Where a serving process (`proctor serve`, `proctor gateway --http`) listens.

The listening socket is bound *before* anything else starts, so that a port already taken (a
second `proctor serve`, a gateway started twice) ends the command with one clear line
(:class:`proctor.errors.PortInUse`, exit code 2) instead of uvicorn's log line and its exit code 3
after the upstreams and the store were opened for nothing. Once uvicorn serves on that socket,
:class:`AnnouncingServer` prints ``listening on http://HOST:PORT`` on stderr, once.
"""

from __future__ import annotations

import errno
import socket
import sys
from typing import Any

import uvicorn

from proctor.errors import ConfigError, PortInUse

__all__ = ["AnnouncingServer", "bind_listener", "http_url"]


def http_url(host: str, port: int) -> str:
    """``http://HOST:PORT``, an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind_listener(host: str, port: int, *, command: str) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not yet listening: uvicorn listens on it). ``command``
    names what is usually holding the port (``proctor serve``) in the message of
    :class:`PortInUse`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # what uvicorn sets too: a restart does not wait for the old connections' TIME_WAIT; two
        # live listeners on one port are still refused (EADDRINUSE) on Linux and macOS
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {where} is in use (another {command}?); choose another with --port"
            ) from None
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(f"cannot listen on {where}: `{host}` is not an address of this host") from None
        if exc.errno == errno.EACCES:
            raise ConfigError(
                f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
            ) from None
        raise ConfigError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, saying ``listening on URL`` on stderr once it accepts connections."""

    def __init__(self, config: uvicorn.Config, *, path: str = "") -> None:
        super().__init__(config)
        self.path = path

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            host, port = _address(sockets, self.config)
            print(f"listening on {http_url(host, port)}{self.path}", file=sys.stderr, flush=True)


def _address(sockets: list[socket.socket] | None, config: uvicorn.Config) -> tuple[str, int]:
    if sockets:
        name = sockets[0].getsockname()
        return str(name[0]), int(name[1])
    return str(config.host), int(config.port)
