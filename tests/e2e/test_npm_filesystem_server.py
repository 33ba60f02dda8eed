"""Smoke test: the npm ``@modelcontextprotocol/server-filesystem`` starts over stdio and the official Python
SDK client can use it (``read_text_file``, ``write_file``) on a temporary folder.

The server comes from ``scripts/ensure-node.sh`` (``make node``) at a fixed path; if it is missing the test
fails with that instruction, it never skips.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from mcp.types import TextContent
from tests.conformance_mcp.run import REPO_ROOT, SETUP_HINT

FILESYSTEM_SERVER = REPO_ROOT / "tests" / "node" / "node_modules" / ".bin" / "mcp-server-filesystem"


def _text(result: object) -> str:
    content = getattr(result, "content", [])
    return "".join(c.text for c in content if isinstance(c, TextContent))


def test_filesystem_server_reads_and_writes(tmp_path: Path) -> None:
    assert FILESYSTEM_SERVER.exists(), f"{FILESYSTEM_SERVER} is missing: {SETUP_HINT}"
    root = tmp_path.resolve()
    (root / "hello.txt").write_text("hello from proctor\n", encoding="utf-8")

    async def scenario() -> None:
        params = StdioServerParameters(command=str(FILESYSTEM_SERVER), args=[str(root)])
        with anyio.fail_after(60):
            async with Client(params, mode="legacy", cache=None) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                assert {"read_text_file", "write_file"} <= names, names

                read = await client.call_tool("read_text_file", {"path": str(root / "hello.txt")})
                assert not read.is_error, _text(read)
                assert "hello from proctor" in _text(read)

                target = root / "sub" / "written.txt"
                target.parent.mkdir()
                wrote = await client.call_tool(
                    "write_file", {"path": str(target), "content": "written by mcp\n"}
                )
                assert not wrote.is_error, _text(wrote)
                assert target.read_text(encoding="utf-8") == "written by mcp\n"

                back = await client.call_tool("read_text_file", {"path": str(target)})
                assert _text(back).strip() == "written by mcp"

                outside = await client.call_tool("read_text_file", {"path": "/etc/hostname"})
                assert outside.is_error, "a path outside the allowed folder must be refused"

    anyio.run(scenario)
