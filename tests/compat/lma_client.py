"""Run by the compatibility virtual environment's Python (``.tools/compat-venv``: mcp<2 and
``langchain-mcp-adapters``), never by the test's own interpreter: that one has ``mcp`` 2, which
``langchain-mcp-adapters`` does not accept.

Reads one JSON object on stdin: ``{"connections": {...}, "calls": [[tool, args], ...],
"rounds": N, "persistent": BOOL}`` (``connections`` as ``MultiServerMCPClient`` takes them), loads
the tools through ``langchain-mcp-adapters`` ``rounds`` times and invokes each call as a LangChain
tool: with ``persistent`` in one session per round (``client.session`` + ``load_mcp_tools``), else
as ``get_tools`` does, a new session for the listing and for every call. Prints one JSON object: per round the tool names it
saw and, per call, ``{"status": "success" | "error" | "raised", "content": TEXT}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any


def _text(content: Any) -> str:
    """The text of a tool's answer: a string, or the text blocks LangChain content holds."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return repr(content)


async def _round(connections: dict[str, Any], calls: list[list[Any]], persistent: bool) -> dict[str, Any]:
    from langchain_mcp_adapters.client import MultiServerMCPClient  # type: ignore[import-not-found]

    client = MultiServerMCPClient(connections)
    if not persistent:
        return await _calls({t.name: t for t in await client.get_tools()}, calls)
    # one session for the round (the adapter's documented way to keep a session)
    from langchain_mcp_adapters.tools import load_mcp_tools  # type: ignore[import-not-found]

    [name] = connections
    async with client.session(name) as session:
        return await _calls({t.name: t for t in await load_mcp_tools(session)}, calls)


async def _calls(tools: dict[str, Any], calls: list[list[Any]]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for name, args in calls:
        tool = tools.get(name)
        if tool is None:
            results.append({"status": "missing", "content": f"no tool {name}"})
            continue
        # as an agent's tool node calls it: a ToolCall in, a ToolMessage out (an MCP isError
        # result is a ToolMessage whose status is "error", which the model reads)
        try:
            msg = await tool.ainvoke({"name": name, "args": args, "id": "call_1", "type": "tool_call"})
        except Exception as exc:  # a transport or protocol failure: not a tool result at all
            results.append({"status": "raised", "content": f"{type(exc).__name__}: {exc}"})
        else:
            results.append({"status": str(msg.status), "content": _text(msg.content)})
    return {"tools": sorted(tools), "results": results}


async def _main() -> None:
    job = json.load(sys.stdin)
    persistent = bool(job.get("persistent"))
    rounds = [
        await _round(job["connections"], job["calls"], persistent) for _ in range(int(job.get("rounds", 1)))
    ]
    print(json.dumps({"rounds": rounds}))


if __name__ == "__main__":
    asyncio.run(_main())
