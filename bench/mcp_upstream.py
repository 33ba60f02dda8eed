"""Upstream MCP servers for the gateway benchmarks.

``--kind sdk``: an MCP SDK server (MCPServer) with an ``echo`` tool over Streamable HTTP in JSON
response mode, the upstream the latency figures are measured against, directly and through Proctor.
``--kind stub``: a minimal JSON-RPC responder for ``initialize``/``tools/list``/``tools/call``
(:class:`proctor.testing.MockUpstream`), so the throughput figure measures the gateway rather than
the SDK server's own ceiling (~700 calls/s on one core).
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from proctor.testing import ECHO_TOOL, MockUpstream


def sdk_app() -> Any:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("bench-upstream", version="1.0")

    @server.tool()
    async def echo(text: str) -> str:
        """Echo the text back."""
        return text

    return server.streamable_http_app(json_response=True)


def stub_app() -> Any:
    return MockUpstream(tools=[ECHO_TOOL], server_name="stub", session_id="stub-session", record=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--kind", choices=["sdk", "stub"], default="sdk")
    a = ap.parse_args()
    app = sdk_app() if a.kind == "sdk" else stub_app()
    uvicorn.run(app, host="127.0.0.1", port=a.port, log_level="error", access_log=False)


if __name__ == "__main__":
    main()
