"""``proctor mcp-config``: the JSON that routes an MCP client (Claude Desktop, Cursor, VS Code)
through Proctor, with placeholders where tokens go. With ``--template`` (stdio) the config holds no
secret at all: the daemon identifies the client's process by attestation and starts a fresh task
from the template for each session (docs/adr/0029)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from proctor.cli._common import WorkspaceOpt, err, fail, handled
from proctor.cli.text import markup_safe
from proctor.errors import ProctorError, ValidationError

GATEWAY_URL = "http://127.0.0.1:8471/mcp"
#: the VS Code ``inputs`` id of the join token prompted for where attestation is not available
JOIN_INPUT = "proctor-join-token"
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
    template: str | None = None,
    attestation: bool = True,
    oauth: bool = True,
) -> dict[str, Any]:
    """The JSON a client's MCP config needs to reach its tools through Proctor (placeholders, no
    tokens). stdio is the keyless thin client of the gateway daemon's socket (ADR 0015): the
    config names the socket, never the workspace, whose keys the agent's user need not read.

    With ``template`` (stdio only) the client names the template instead of carrying a task token;
    with ``attestation`` it carries nothing secret at all. Without attestation a join token is
    unavoidable: VS Code prompts for it (an ``inputs`` entry, ``password: true``), the other clients
    get a placeholder to paste."""
    join = f"<run: proctor agent join-token {agent}>"
    task = f"<run: proctor task start --agent {agent} --purpose ... --allow ... --requested-by ...>"
    entry: dict[str, Any]
    inputs: list[dict[str, Any]] = []
    if transport == "stdio":
        if socket is None:
            from proctor.gateway.thin import SOCKET_NAME

            assert workspace is not None
            socket = str(workspace / "run" / SOCKET_NAME)
        if template is None:
            entry = {
                "command": executable,
                "args": ["gateway", "--stdio", "--socket", socket],
                "env": {"PROCTOR_JOIN_TOKEN": join, "PROCTOR_TASK_TOKEN": task},
            }
        else:
            entry = {
                "command": executable,
                "args": ["gateway", "--stdio", "--socket", socket, "--template", template],
            }
            if not attestation:
                if client == "vscode":
                    inputs.append(
                        {
                            "type": "promptString",
                            "id": JOIN_INPUT,
                            "description": f"Proctor join token of agent {agent} (proctor agent join-token {agent})",
                            "password": True,
                        }
                    )
                    entry["env"] = {"PROCTOR_JOIN_TOKEN": f"${{input:{JOIN_INPUT}}}"}
                else:
                    entry["env"] = {"PROCTOR_JOIN_TOKEN": join}
        if client == "vscode":
            entry = {"type": "stdio", **entry}
    elif oauth:
        # the gateway is the client's OAuth authorization server (ADR 0028): the URL is enough
        if client == "claude-desktop":  # its config file takes stdio servers only: mcp-remote does OAuth
            entry = {"command": "npx", "args": ["-y", "mcp-remote", url]}
        elif client == "vscode":
            entry = {"type": "http", "url": url}
        else:
            entry = {"url": url}
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
    data: dict[str, Any] = {("servers" if client == "vscode" else "mcpServers"): {"proctor": entry}}
    if inputs:
        data = {"inputs": inputs, **data}
    return data


def attestation_available() -> bool:
    """Whether the daemon can identify a local client by its process (``SO_PEERCRED``: Linux)."""
    import socket

    return sys.platform.startswith("linux") and hasattr(socket, "SO_PEERCRED")


def own_selectors() -> frozenset[str]:
    """The ``unix:`` selectors the daemon would see for a client run as this user by this
    interpreter (this process attested from its own ``/proc`` entry)."""
    import os

    from proctor.identity.attest import PeerCredentials, workload_selectors

    return workload_selectors(PeerCredentials(os.getpid(), os.getuid(), os.getgid()))


def attestation_advice(
    proctor: Any, agent: str, template: str, have: frozenset[str]
) -> list[tuple[str, str]]:
    """What a person must know before a template config works: ``(level, text)`` lines, level
    ``ok``, ``warning`` or ``note``. Reads the agents and the template, changes nothing."""
    from proctor.errors import ProctorError
    from proctor.identity.attest import match_agent
    from proctor.types import AgentStatus

    uid = next((x for x in sorted(have) if x.startswith("unix:uid:")), "unix:uid:?")
    lines: list[tuple[str, str]] = [
        (
            "note",
            f"the daemon identifies the client's process by attestation: agent `{agent}` needs selectors"
            f" this user's process has; `{uid}` (one Unix user per agent) is the one to use",
        )
    ]
    agents = {a.name: a for a in proctor.agents.list()}
    rec = agents.get(agent)
    if rec is None:
        lines.append(
            (
                "warning",
                f"there is no agent `{agent}`: add it with `proctor agent add {agent} --owner EMAIL --selector {uid}`",
            )
        )
    else:
        if rec.status is not AgentStatus.ACTIVE:
            lines.append(("warning", f"agent `{agent}` is suspended: `proctor agent resume {agent}`"))
        if not rec.selectors:
            lines.append(
                (
                    "warning",
                    f"agent `{agent}` has no selectors, so attestation never identifies it: `proctor agent"
                    f" selectors {agent} --selector {uid}`",
                )
            )
        elif not have.issuperset(rec.selectors):
            missing = " ".join(sorted(set(rec.selectors) - have))
            lines.append(
                (
                    "warning",
                    f"agent `{agent}`'s selectors do not match this user and executable (missing: {missing}):"
                    f" its client would be refused. Run the client as the user they name, or set them:"
                    f" `proctor agent selectors {agent} --selector {uid}`",
                )
            )
        else:
            try:
                match_agent(agents.values(), have)
            except ProctorError:
                others = sorted(
                    a.name for a in agents.values() if a.selectors and have.issuperset(a.selectors)
                )
                lines.append(
                    (
                        "warning",
                        f"this user's process matches several agents ({', '.join(others)}): attestation"
                        " refuses it; give each agent its own Unix user and `unix:uid` selector",
                    )
                )
            else:
                lines.append(
                    ("ok", f"agent `{agent}`'s selectors ({' '.join(rec.selectors)}) match this user")
                )
    tpl = next((t for t in proctor.templates.list() if t.name == template), None)
    if tpl is None:
        lines.append(
            (
                "warning",
                f"there is no template `{template}`: `proctor template add {template} --agent {agent}"
                " --purpose ... --allow ... --requested-by EMAIL`",
            )
        )
    else:
        if agent not in tpl.agents:
            lines.append(
                (
                    "warning",
                    f"template `{template}` does not list agent `{agent}` (it lists {', '.join(tpl.agents)}):"
                    f" `proctor template add {template} --replace --agent {agent} ...`",
                )
            )
        if tpl.requested_by is None:
            lines.append(
                (
                    "warning",
                    f"template `{template}` names no requester, which a stdio session needs: add it again"
                    " with --replace --requested-by EMAIL",
                )
            )
    return lines


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
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            help="stdio: the task template each session starts a fresh task from; the config then"
            " holds no secret (the daemon attests the client's process).",
        ),
    ] = None,
    no_attestation: Annotated[
        bool,
        typer.Option(
            "--no-attestation",
            help="With --template: the daemon cannot attest the client (not Linux): carry a join token"
            " (VS Code prompts for it).",
        ),
    ] = False,
    headers: Annotated[
        bool,
        typer.Option(
            "--headers",
            help="http: carry an SVID and a task token as headers (placeholders) instead of signing in"
            " through the gateway's OAuth.",
        ),
    ] = False,
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
    if headers and transport != "http":
        fail(ValidationError("--headers applies to --transport http only"))
    if socket is not None and transport != "stdio":
        fail(ValidationError("--socket applies to --transport stdio only"))
    if template is not None:
        from proctor.tasks.templates import check_template_name

        if transport != "stdio":
            fail(ValidationError("--template applies to --transport stdio only"))
        if agent == "NAME":
            fail(ValidationError("--template needs --agent: the agent the client acts as"))
        with handled():
            check_template_name(template)
    elif no_attestation:
        fail(ValidationError("--no-attestation goes with --template"))
    attestation = template is not None and not no_attestation and attestation_available()
    ws_root: Path | None = None
    sep = "__"
    if transport == "stdio" and (socket is None or template is not None):
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
        template=template,
        attestation=attestation or template is None,
        oauth=not headers,
    )
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    if transport == "http" and not headers:
        err.print(
            f"put this in {_CLIENT_FILES[client]}: the client signs in through the gateway (OAuth,"
            " docs/adr/0028): a person who owns the agent consents in the browser and picks a task"
            " template (`proctor template add NAME --agent AGENT ...` first); `--headers` for an SVID"
            " and task token instead",
            highlight=False,
        )
    elif template is None:
        err.print(f"put this in {_CLIENT_FILES[client]}; replace each <…> placeholder", highlight=False)
        if transport == "http":
            # the gateway takes only an SVID for its own URL: `agent svid` alone mints one for
            # `proctor serve`, which every gateway refuses (token_wrong_audience)
            err.print(
                f"<JWT-SVID>: `proctor agent svid --join-token $(proctor agent join-token {agent})"
                f" --audience {url or GATEWAY_URL}` (the audience must be this URL; it lives"
                " identity.svid_ttl, 5 minutes); <task token>: `proctor task start --agent"
                f" {agent} ...`",
                highlight=False,
                soft_wrap=True,
            )
    else:
        _template_notes(client, agent, template, attestation, ws_root)
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


def _template_notes(client: str, agent: str, template: str, attestation: bool, ws_root: Path | None) -> None:
    """Tell the person (stderr) what the template config needs to work, and warn of what is missing."""
    from proctor.app import Proctor
    from proctor.workspace import Workspace

    if attestation:
        err.print(
            f"put this in {_CLIENT_FILES[client]} as it is: it holds no secret; each launch gets a fresh"
            f" task from template `{template}`, ended when the client exits",
            highlight=False,
        )
        assert ws_root is not None
        with handled(), Proctor.open(Workspace.find(str(ws_root)), lazy_policies=True) as p:
            advice = attestation_advice(p, agent, template, own_selectors())
        for level, text in advice:
            style = {"warning": "[yellow]warning[/] ", "ok": "[green]ok[/] "}.get(level, "")
            err.print(f"{style}{markup_safe(text)}", highlight=False, soft_wrap=True)
        return
    if client == "vscode":
        err.print(
            f"put this in {_CLIENT_FILES[client]}: without attestation the client needs a secret, so VS Code"
            f" prompts for agent `{agent}`'s join token (input `{JOIN_INPUT}`, hidden) instead of storing it;"
            f" it is single-use: give a new one (`proctor agent join-token {agent}`) at each start",
            highlight=False,
        )
    else:
        err.print(
            f"put this in {_CLIENT_FILES[client]}; without attestation the client needs a secret that this"
            " client can only hold pasted into its config: replace the <…> placeholder with a join token"
            f" (`proctor agent join-token {agent}`; single-use, so again at each start). VS Code can prompt"
            " for it instead (`--client vscode`)",
            highlight=False,
        )


__all__ = [
    "GATEWAY_URL",
    "JOIN_INPUT",
    "attestation_advice",
    "attestation_available",
    "mcp_client_config",
    "mcp_config",
    "own_selectors",
]
