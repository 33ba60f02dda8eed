"""``proctor mcp-config``: the JSON that routes an MCP client (Claude Desktop, Cursor, VS Code)
through Proctor, with placeholders where tokens go."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from proctor.cli._common import WorkspaceOpt, err, fail, handled
from proctor.errors import ProctorError, ValidationError

GATEWAY_URL = "http://127.0.0.1:8471/mcp"
_CLIENT_FILES = {
    "claude-desktop": "claude_desktop_config.json",
    "cursor": ".cursor/mcp.json (or ~/.cursor/mcp.json)",
    "vscode": ".vscode/mcp.json",
}


def _proctor_executable() -> str:
    import shutil

    argv0 = Path(sys.argv[0])
    if argv0.name == "proctor" and argv0.is_file():
        return str(argv0.resolve())
    found = shutil.which("proctor")
    if found:
        return str(Path(found).resolve())
    sibling = Path(sys.executable).parent / "proctor"
    return str(sibling) if sibling.is_file() else "proctor"


def mcp_client_config(
    client: str,
    transport: str,
    *,
    workspace: Path | None,
    agent: str,
    url: str,
    executable: str,
    socket: str | None = None,
) -> dict[str, Any]:
    """The JSON a client's MCP config needs to reach its tools through Proctor (placeholders, no
    tokens). stdio is the keyless thin client of the gateway daemon's socket (ADR 0015): the
    config names the socket, never the workspace, whose keys the agent's user need not read."""
    join = f"<run: proctor agent join-token {agent}>"
    task = f"<run: proctor task start --agent {agent} --purpose ... --allow ... --requested-by ...>"
    entry: dict[str, Any]
    if transport == "stdio":
        if socket is None:
            from proctor.gateway.thin import SOCKET_NAME

            assert workspace is not None
            socket = str(workspace / "run" / SOCKET_NAME)
        entry = {
            "command": executable,
            "args": ["gateway", "--stdio", "--socket", socket],
            "env": {"PROCTOR_JOIN_TOKEN": join, "PROCTOR_TASK_TOKEN": task},
        }
        if client == "vscode":
            entry = {"type": "stdio", **entry}
    else:
        headers = {"Authorization": "Bearer <JWT-SVID>", "Proctor-Task": "<task token>"}
        if client == "claude-desktop":  # its config file takes stdio servers only: bridge with mcp-remote
            entry = {
                "command": "npx",
                "args": [
                    "-y",
                    "mcp-remote",
                    url,
                    "--header",
                    "Authorization:${PROCTOR_AUTHORIZATION}",
                    "--header",
                    "Proctor-Task:${PROCTOR_TASK_TOKEN}",
                ],
                "env": {"PROCTOR_AUTHORIZATION": "Bearer <JWT-SVID>", "PROCTOR_TASK_TOKEN": "<task token>"},
            }
        elif client == "vscode":
            entry = {"type": "http", "url": url, "headers": headers}
        else:
            entry = {"url": url, "headers": headers}
    return {("servers" if client == "vscode" else "mcpServers"): {"proctor": entry}}


def mcp_config(
    client: Annotated[str, typer.Option(help="claude-desktop | cursor | vscode")],
    transport: Annotated[str, typer.Option(help="stdio (Proctor starts per client) | http")] = "stdio",
    agent: Annotated[str, typer.Option(help="The agent the client acts as (for the placeholders).")] = "NAME",
    url: Annotated[
        str | None,
        typer.Option(help=f"Gateway URL for http (default gateway.public_url, else {GATEWAY_URL})."),
    ] = None,
    socket: Annotated[
        str | None,
        typer.Option(
            "--socket", help="The gateway daemon's socket for stdio (default <workspace>/run/gateway.sock)."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Print the JSON that routes an MCP client through Proctor. Tokens are placeholders, never minted.

    stdio runs the keyless thin client (`proctor gateway --stdio --socket ...`): start the daemon
    (`proctor gateway --http` or `--unix`) as the user that owns the workspace."""
    from proctor.workspace import Workspace

    if client not in _CLIENT_FILES:
        fail(ValidationError(f"unknown client `{client}`: use {', '.join(_CLIENT_FILES)}"))
    if transport not in ("stdio", "http"):
        fail(ValidationError(f"transport is `stdio` or `http`, not `{transport}`"))
    if url is not None and transport != "http":
        fail(ValidationError("--url applies to --transport http only"))
    if socket is not None and transport != "stdio":
        fail(ValidationError("--socket applies to --transport stdio only"))
    ws_root: Path | None = None
    sep = "__"
    if transport == "stdio" and socket is None:
        with handled():
            ws = Workspace.find(workspace)
            ws_root, sep = ws.root, ws.settings().gateway_tool_separator
    elif transport == "http" and url is None:
        # the one URL agents reach the gateways at, when the workspace names one (docs/adr/0034)
        try:
            url = Workspace.find(workspace).settings().gateway_public_url
        except ProctorError:
            url = None
    data = mcp_client_config(
        client,
        transport,
        workspace=ws_root,
        agent=agent,
        url=url or GATEWAY_URL,
        executable=_proctor_executable(),
        socket=None if socket is None else str(Path(socket).absolute()),
    )
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    err.print(f"put this in {_CLIENT_FILES[client]}; replace each <…> placeholder", highlight=False)
    err.print(
        f"the client sees each tool as NAMESPACE{sep}tool (`proctor upstream tools NAMESPACE` lists them);"
        " policies, --allow patterns and the audit use Proctor's name, NAMESPACE.tool",
        highlight=False,
    )
    if transport == "stdio":
        err.print(
            "the client runs a keyless relay to the gateway daemon: start `proctor gateway --http`"
            " (or `--unix`) as the workspace's owner; the agent's user needs no access to the workspace",
            highlight=False,
        )
    if client == "claude-desktop" and transport == "http":
        err.print("Claude Desktop's config file takes stdio servers only: this bridges with `npx mcp-remote`")


__all__ = ["GATEWAY_URL", "mcp_client_config", "mcp_config"]
