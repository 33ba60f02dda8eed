"""Run the HTTP gateway in a background thread for a test: its own event loop, the runtime's
upstream sessions, and uvicorn on a loopback port."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import uvicorn

from proctor.app import Proctor
from proctor.gateway.config import UpstreamConfig
from proctor.gateway.http import create_gateway_app, server_config
from proctor.gateway.runtime import GatewayRuntime

ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


def child_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a `proctor gateway --stdio` child, plus this process's ``PYTHONPATH`` when set: the
    MCP SDK passes a child only a few variables, and without it the child would import whichever
    Proctor the virtualenv installs rather than the source under test."""
    path = os.environ.get("PYTHONPATH")
    return {**env, "PYTHONPATH": path} if path else dict(env)


def exposed(name: str, sep: str = "__") -> str:
    """The name agents see for Proctor tool ``name`` (``fs.read_file`` -> ``fs__read_file``): plain
    names only (see proctor.gateway.names for the rest)."""
    namespace, _, tool = name.partition(".")
    return f"{namespace}{sep}{tool}"


def free_port() -> int:
    """A loopback port that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GatewayThread:
    """`proctor gateway --http` in-process, for tests that need to reach into its Proctor."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        self.server = server
        self.thread = thread
        self.url = url

    @classmethod
    def start(
        cls,
        p: Proctor,
        upstreams: list[UpstreamConfig],
        port: int,
        *,
        wrap: Callable[[ASGIApp], ASGIApp] | None = None,
    ) -> GatewayThread:
        url = f"http://127.0.0.1:{port}/mcp"
        runtime = GatewayRuntime(p, upstreams)
        app: ASGIApp = create_gateway_app(p, runtime, public_url=url)
        if wrap is not None:
            app = wrap(app)
        # served exactly as `proctor gateway --http` serves it
        server = uvicorn.Server(server_config(app, "127.0.0.1", port, log_level="error"))

        async def serve() -> None:
            async with runtime.running():
                await server.serve()

        thread = threading.Thread(target=anyio.run, args=(serve,), daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return cls(server, thread, url)

    def stop(self) -> None:
        """Stop serving; the runtime closes its upstream sessions first."""
        self.server.should_exit = True
        self.thread.join(timeout=15)
