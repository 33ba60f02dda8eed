"""``proctor introspection-client``: the resource servers allowed to ask ``POST /v1/introspect``.

A client is named by the audience it serves (the ``aud`` of the tokens it accepts), which is also its
HTTP Basic ``client_id``. Its secret is generated here, shown once, and kept in the workspace secret
store only as a SHA-256 verifier, next to the audience (see :mod:`proctor.credentials.providers.jwt`):
so ``list`` can show audiences, and nobody can read a secret back.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from proctor.cli._common import JsonOpt, WorkspaceOpt, emit_json, handled, opened, out, print_table, ts
from proctor.cli.text import cell, markup_safe


def register(app: typer.Typer) -> None:
    """Add the ``introspection-client`` command group to the ``proctor`` CLI."""
    group = typer.Typer(
        help="Resource servers that may introspect Proctor's credential tokens (RFC 7662).",
        no_args_is_help=True,
    )
    app.add_typer(group, name="introspection-client")

    @group.command("add")
    def add(
        audience: Annotated[
            str, typer.Argument(help="The audience the client serves, e.g. https://billing.example.")
        ],
        rotate: Annotated[
            bool, typer.Option("--rotate", help="Replace the secret of an existing client.")
        ] = False,
        workspace: WorkspaceOpt = None,
    ) -> None:
        """Register a client (or --rotate its secret) and print its secret once."""
        from proctor.tasks.service import TASK_AUDIENCE

        with opened(workspace) as p, handled():
            secret = p.credentials.add_introspection_client(
                audience, rotate=rotate, reserved=(p.audience, TASK_AUDIENCE)
            )
        verb = "rotated the secret of" if rotate else "added"
        out.print(f"[green]{verb}[/] introspection client {markup_safe(audience)}", highlight=False)
        out.print(
            "[bold]client secret[/] (shown once, it will not be shown again; "
            "use HTTP Basic with the audience as client_id):"
        )
        out.print(secret, highlight=False, soft_wrap=True)

    @group.command("list")
    def list_(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """List clients by audience. Never a secret."""
        with opened(workspace) as p, handled():
            clients = p.credentials.introspection_clients()
        if as_json:
            emit_json(
                [
                    {
                        "audience": c.audience,
                        "secret_name": c.secret_name,
                        "version": c.version,
                        "updated_at": c.updated_at,
                    }
                    for c in clients
                ]
            )
            return
        t = Table("audience", "version", "updated", "secret name")
        for c in clients:
            t.add_row(cell(c.audience), cell(c.version), cell(ts(c.updated_at)), cell(c.secret_name))
        print_table(t)

    @group.command("remove")
    def remove(audience: str, workspace: WorkspaceOpt = None) -> None:
        """Remove a client: its introspection requests are refused (401) from now on."""
        from proctor.errors import NotFound

        with opened(workspace) as p, handled():
            if not p.credentials.remove_introspection_client(audience):
                raise NotFound(f"unknown introspection client `{audience[:80]}`")
        out.print(f"[yellow]removed[/] introspection client {markup_safe(audience)}", highlight=False)


__all__ = ["register"]
