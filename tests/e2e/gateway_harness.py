"""Run the HTTP gateway in a background thread for a test: its own event loop, the runtime's
upstream sessions, and uvicorn on a loopback port."""

from __future__ import annotations

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
        app: ASGIApp = create_gateway_app(p, runtime, public_url=url, issuer_url="http://127.0.0.1:8470")
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
