"""Upstream MCP servers for the gateway benchmarks.

``--kind sdk``: an MCP SDK server (MCPServer) with an ``echo`` tool over Streamable HTTP in JSON
response mode, the upstream the latency figures are measured against, directly and through Proctor.
``--kind stub``: a minimal JSON-RPC responder for ``initialize``/``tools/list``/``tools/call``, so the
throughput figure measures the gateway rather than the SDK server's own ceiling (~700 calls/s on
one core).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import uvicorn

ECHO_TOOL = {
    "name": "echo",
    "description": "Echo the text back.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
}


def sdk_app() -> Any:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("bench-upstream", version="1.0")

    @server.tool()
    async def echo(text: str) -> str:
        """Echo the text back."""
        return text

    return server.streamable_http_app(json_response=True)


def stub_app() -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            m = await receive()
            body += m.get("body", b"")
            if not m.get("more_body"):
                break
        headers = [(b"content-type", b"application/json"), (b"mcp-session-id", b"stub-session")]
        if scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        msg = json.loads(body)
        method = msg.get("method")
        if "id" not in msg:
            await send({"type": "http.response.start", "status": 202, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if method == "initialize":
            result: dict[str, Any] = {
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "stub", "version": "1"},
            }
        elif method == "tools/list":
            result = {"tools": [ECHO_TOOL]}
        elif method == "tools/call":
            text = msg["params"].get("arguments", {}).get("text", "")
            result = {"content": [{"type": "text", "text": text}], "isError": False}
        else:
            result = {}
        raw = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": raw})

    return app


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--kind", choices=["sdk", "stub"], default="sdk")
    a = ap.parse_args()
    app = sdk_app() if a.kind == "sdk" else stub_app()
    uvicorn.run(app, host="127.0.0.1", port=a.port, log_level="error", access_log=False)


if __name__ == "__main__":
    main()
