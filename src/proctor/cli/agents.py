"""``proctor agent``: register agents and their accountable owners; suspend, resume, join tokens."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from proctor.cli._common import (
    PENDING_NOTE,
    JsonOpt,
    WorkspaceOpt,
    emit_json,
    fail,
    handled,
    kill,
    opened,
    out,
    print_table,
)
from proctor.cli.text import cell
from proctor.errors import ValidationError

agent_app = typer.Typer(help="Register agents and their accountable owners.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``agent`` command group to the ``proctor`` CLI."""
    app.add_typer(agent_app, name="agent")


@agent_app.command("add")
def agent_add(
    name: str,
    owner: Annotated[str | None, typer.Option(help="The accountable human (required).")] = None,
    selector: Annotated[
        list[str] | None, typer.Option(help="unix:uid:N, unix:sha256:HEX, … (repeatable)")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register an agent with exactly one accountable owner."""
    with opened(workspace) as p, handled():
        a = p.agents.add(name, owner, selector or [])
    if as_json:
        emit_json(a.to_dict())
    else:
        out.print(f"[green]registered[/] {a.name}  {a.spiffe_id}  owner {a.owner}")


@agent_app.command("list")
def agent_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List agents."""
    with opened(workspace) as p:
        agents = p.agents.list()
    if as_json:
        emit_json([a.to_dict() for a in agents])
        return
    t = Table("name", "status", "owner", "spiffe id", "selectors")
    for a in agents:
        t.add_row(
            cell(a.name),
            cell(a.status.value),
            cell(a.owner),
            cell(a.spiffe_id),
            cell(" ".join(a.selectors) or "-"),
        )
    print_table(t)


@agent_app.command("show")
def agent_show(name: str, workspace: WorkspaceOpt = None) -> None:
    """Show one agent and its tasks."""
    with opened(workspace) as p, handled():
        a = p.agents.get(name)
        tasks = p.tasks.list(agent=name)
    data = a.to_dict()
    data["tasks"] = [{"id": t.id, "state": t.state.value, "purpose": t.purpose} for t in tasks]
    emit_json(data)


@agent_app.command("selectors")
def agent_selectors(
    name: str,
    selector: Annotated[
        list[str] | None,
        typer.Option(help="unix:uid:N, unix:sha256:HEX, … (repeatable): replaces the agent's selectors"),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every selector.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Replace the selectors attestation identifies an agent by (audited); prints them."""
    if selector and clear:
        fail(ValidationError("give --selector or --clear, not both"))
    with opened(workspace) as p, handled():
        a = p.agents.set_selectors(name, selector or []) if selector or clear else p.agents.get(name)
    out.print(f"{a.name}  selectors: {' '.join(a.selectors) or '-'}", highlight=False)


@agent_app.command("suspend")
def agent_suspend(
    name: str,
    reason: Annotated[str, typer.Option(help="Why (audited).")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Suspend an agent: every call it makes is denied until it is resumed.

    Works whatever state the store and the audit log are in: when either fails, the suspension is
    enforced at once by every Proctor process of the workspace and recorded once they are back."""
    recorded = kill(workspace, "agent", name, reason)
    out.print(f"[yellow]suspended[/] {name}" + ("" if recorded else PENDING_NOTE))


@agent_app.command("resume")
def agent_resume(name: str, workspace: WorkspaceOpt = None) -> None:
    """Resume a suspended agent."""
    from proctor.types import AgentStatus

    with opened(workspace) as p, handled():
        p.agents.set_status(name, AgentStatus.ACTIVE)
    out.print(f"[green]resumed[/] {name}")


@agent_app.command("retire")
def agent_retire(
    name: str,
    reason: Annotated[str, typer.Option(help="Why (audited).")] = "",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Offboard an agent for good: end its tasks, revoke its leases, OAuth grants and join tokens,
    remove its selectors and mark it retired. Its record and audit history stay (OWASP NHI1)."""
    from proctor.posture.offboard import retire

    with opened(workspace) as p, handled():
        done = retire(p, name, reason=reason)
    if as_json:
        emit_json(done.to_dict())
        return
    out.print(
        f"[yellow]retired[/] {name}: {done.tasks_ended} task(s) ended, {done.leases_revoked} lease(s),"
        f" {done.grants_revoked} OAuth grant(s) and {done.join_tokens_revoked} join token(s) revoked,"
        f" {done.selectors_removed} selector(s) removed",
        highlight=False,
    )


@agent_app.command("join-token")
def agent_join_token(name: str, workspace: WorkspaceOpt = None) -> None:
    """Issue a single-use, short-lived join token an agent exchanges for its JWT-SVID."""
    with opened(workspace) as p, handled():
        token = p.agents.join_token(name)
    out.print(token, highlight=False, soft_wrap=True)


@agent_app.command("svid")
def agent_svid(
    join_token: Annotated[str | None, typer.Option(help="Redeem this join token.")] = None,
    audience: Annotated[
        str | None,
        typer.Option(
            help="Who the SVID is for: the MCP gateway's URL for `proctor gateway --http` (behind a"
            " balancer, gateway.public_url); default: Proctor's own (`proctor serve`, and"
            " PROCTOR_SVID of `proctor gateway --stdio`)."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Exchange a join token for a JWT-SVID (reads PROCTOR_JOIN_TOKEN when no option is given)."""
    token = join_token or os.environ.get("PROCTOR_JOIN_TOKEN")
    if not token:
        fail(ValidationError("pass --join-token or set PROCTOR_JOIN_TOKEN"))
    with opened(workspace) as p, handled():
        svid = p.agents.svid_from_join_token(token, audience)
    out.print(svid, highlight=False, soft_wrap=True)


__all__ = ["agent_app"]
