"""Helpers for testing code that uses Proctor, as ``structlog.testing`` and httpx's ``MockTransport`` do:
a clock that moves only when told to, a temporary workspace with Proctor open on it, and an MCP
upstream held in memory (served on loopback when a gateway must reach it).

>>> with temporary_workspace() as sandbox:
...     agent = sandbox.proctor.add_agent("bot", "owner@acme.test")
...     sandbox.clock.advance(60)
...     sandbox.proctor.get_agent("bot").name
'bot'

Proctor's own tests use these; they are part of the public API.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor.clock import FrozenClock, SystemClock

if TYPE_CHECKING:
    from proctor.app import Proctor
    from proctor.workspace import Workspace

__all__ = [
    "ECHO_TOOL",
    "FrozenClock",
    "MockRequest",
    "MockUpstream",
    "Sandbox",
    "ToolHandler",
    "echo",
    "temporary_workspace",
    "text_result",
]

#: the configuration ``temporary_workspace`` writes unless given one
DEFAULT_CONFIG = "trust_domain: acme.test\nstore: sqlite:///proctor.db\n"


@dataclass
class Sandbox:
    """A workspace on disk, Proctor open on it with a frozen clock, and the workspace's admin token."""

    workspace: Workspace
    proctor: Proctor
    clock: FrozenClock
    admin_token: str


@contextmanager
def temporary_workspace(
    root: Path | None = None,
    *,
    config_text: str = DEFAULT_CONFIG,
    clock: FrozenClock | None = None,
) -> Iterator[Sandbox]:
    """A new workspace at ``root`` (else in a temporary directory, removed afterwards) with Proctor
    open on it; Proctor is closed when the block ends."""
    from proctor.app import Proctor
    from proctor.workspace import Workspace

    tmp: Path | None = None
    if root is None:
        tmp = Path(tempfile.mkdtemp(prefix="proctor-test-"))
        root = tmp / "ws"
    try:
        ws, admin = Workspace.init(root, config_text=config_text)
        clock = clock or FrozenClock()
        p = Proctor.open(ws, clock=clock)
        try:
            yield Sandbox(ws, p, clock, admin)
        finally:
            p.close()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


# --- an MCP upstream in memory -------------------------------------------------------------------
#: a tool handler: (tool name, arguments) -> the ``tools/call`` result (MCP ``CallToolResult`` JSON)
ToolHandler = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]

ECHO_TOOL: Mapping[str, Any] = {
    "name": "echo",
    "description": "Echo the text back.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
}


def text_result(text: str, *, is_error: bool = False) -> dict[str, Any]:
    """A ``tools/call`` result holding one text block."""
    return {"content": [{"type": "text", "text": text}], "isError": is_error}


def echo(name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The default handler: answers with the ``text`` argument."""
    return text_result(str(arguments.get("text", "")))


@dataclass(frozen=True)
class MockRequest:
    """One HTTP request the upstream received: its method, headers (lower-case names) and JSON body."""

    method: str
    headers: Mapping[str, str]
    message: Mapping[str, Any]


@dataclass
class MockUpstream:
    """A Streamable-HTTP MCP server (JSON response mode) as an ASGI app: answers ``initialize``,
    ``tools/list`` (``tools``) and ``tools/call`` (``handler``), accepts notifications, and records
    every request in ``requests`` (unless ``record`` is false). Call it in-process (``httpx.ASGITransport(app=upstream)``) or
    :meth:`serve` it on loopback for a gateway.

    >>> import anyio, httpx
    >>> async def call() -> Any:
    ...     async with httpx.AsyncClient(transport=httpx.ASGITransport(app=MockUpstream())) as c:
    ...         body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
    ...                 "params": {"name": "echo", "arguments": {"text": "hi"}}}
    ...         return (await c.post("http://mock/mcp", json=body)).json()["result"]
    >>> anyio.run(call)["content"][0]["text"]
    'hi'
    """

    tools: Sequence[Mapping[str, Any]] = (ECHO_TOOL,)
    handler: ToolHandler = echo
    server_name: str = "mock"
    session_id: str = "mock-session"
    protocol_version: str = "2025-11-25"
    record: bool = True
    requests: list[MockRequest] = field(default_factory=list)

    def answer(self, message: Mapping[str, Any]) -> Mapping[str, Any]:
        """The JSON-RPC result for one request (an empty one for a method it does not know)."""
        method = message.get("method")
        params = message.get("params") or {}
        if method == "initialize":
            return {
                "protocolVersion": self.protocol_version,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": self.server_name, "version": "1"},
            }
        if method == "tools/list":
            return {"tools": [dict(t) for t in self.tools]}
        if method == "tools/call":
            return self.handler(str(params.get("name", "")), params.get("arguments") or {})
        return {}

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            m = await receive()
            body += m.get("body", b"")
            if not m.get("more_body"):
                break
        message = json.loads(body) if body else {}
        if self.record:
            self.requests.append(
                MockRequest(
                    scope["method"],
                    {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
                    message,
                )
            )
        headers = [(b"content-type", b"application/json"), (b"mcp-session-id", self.session_id.encode())]
        if scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if "id" not in message:  # a notification
            await send({"type": "http.response.start", "status": 202, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        result = self.answer(message)
        raw = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": raw})

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0, *, timeout_s: float = 15.0) -> Iterator[str]:
        """Serve on ``host``:``port`` (a free port by default) in a thread; yields the MCP URL.
        Stop whatever talks to it (a gateway) before the block ends."""
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        bound = sock.getsockname()[1]
        config = uvicorn.Config(self, log_level="error", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            clock = SystemClock()
            deadline = clock.monotonic() + timeout_s
            while not server.started:
                if not thread.is_alive() or clock.monotonic() > deadline:
                    raise RuntimeError("the mock upstream did not start")
                threading.Event().wait(0.01)
            yield f"http://{host}:{bound}/mcp"
        finally:
            server.should_exit = True
            thread.join(timeout_s)
            sock.close()
