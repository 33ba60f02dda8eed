"""``proctor oauth``: the grants people gave MCP clients on the HTTP gateway (docs/adr/0028)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from proctor.cli._common import JsonOpt, WorkspaceOpt, emit_json, handled, opened, out, print_table
from proctor.cli.text import cell

oauth_app = typer.Typer(
    help="OAuth grants: which client acts as which agent, by whose consent; revoke one.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``oauth`` command group to the ``proctor`` CLI."""
    app.add_typer(oauth_app, name="oauth")


@oauth_app.command("grants")
def oauth_grants(
    agent: Annotated[str | None, typer.Option(help="Only this agent's grants.")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the grants, newest first."""
    from proctor.oauth.server import grant_view, list_grants

    with opened(workspace) as p, handled():
        grants = list_grants(p, agent)
    if as_json:
        emit_json([grant_view(g) for g in grants])
        return
    t = Table("id", "agent", "template", "person", "client", "state")
    for g in grants:
        state = "active" if g.revoked_at is None else f"revoked ({g.revoked_reason})"
        t.add_row(
            cell(g.id), cell(g.agent), cell(g.template), cell(g.email), cell(g.client_id, 40), cell(state)
        )
    print_table(t)


@oauth_app.command("revoke")
def oauth_revoke(
    grant: str,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "revoked by an operator",
    workspace: WorkspaceOpt = None,
) -> None:
    """Revoke a grant: its refresh tokens stop working and its task ends (the client is cut off)."""
    from proctor.errors import NotFound
    from proctor.oauth.server import revoke_grant

    with opened(workspace) as p, handled():
        if not revoke_grant(p, grant, reason, by="cli"):
            raise NotFound(f"no active grant `{grant}`")
    out.print(f"grant {grant} revoked", highlight=False)


__all__ = ["oauth_app", "register"]
