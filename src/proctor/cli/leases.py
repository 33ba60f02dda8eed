"""``proctor lease``: credential leases issued to tasks, and their revocation."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from proctor.cli._common import JsonOpt, WorkspaceOpt, emit_json, handled, opened, out, print_table, ts
from proctor.cli.text import cell, markup_safe
from proctor.errors import ValidationError

lease_app = typer.Typer(help="Credential leases issued to tasks, and their revocation.", no_args_is_help=True)


@lease_app.command("list")
def lease_list(
    task: Annotated[str | None, typer.Option(help="Only this task's leases.")] = None,
    state: Annotated[str | None, typer.Option(help="active | revoked | expired | irrevocable")] = None,
    irrevocable: Annotated[
        bool, typer.Option("--irrevocable", help="Only leases whose revocation gave up (need a person).")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List credential leases (ending any whose time ran out first)."""
    from proctor.types import LeaseState, TaskId

    with opened(workspace) as p, handled():
        try:
            st = None if state is None else LeaseState(state)
        except ValueError:
            raise ValidationError(
                f"unknown lease state `{str(state)[:40]}`: use active, revoked, expired or irrevocable"
            ) from None
        p.credentials.leases.sweep()
        leases = p.credentials.leases.list(
            task=None if task is None else TaskId(task), state=st, irrevocable=irrevocable
        )
    if as_json:
        emit_json([x.to_dict() for x in leases])
        return
    t = Table("id", "task", "agent", "kind", "name", "state", "expires", "attempts", "last error")
    for x in leases:
        shown = f"{x.state.value} (pending)" if x.pending else x.state.value
        t.add_row(
            cell(x.id),
            cell(x.task_id),
            cell(x.agent),
            cell(x.kind),
            cell(x.name),
            cell(shown),
            cell(ts(x.expires_at)),
            cell(x.attempts),
            cell(x.last_error or "-"),
        )
    print_table(t)


@lease_app.command("show")
def lease_show(lease_id: str, workspace: WorkspaceOpt = None) -> None:
    """Show one lease (never a credential value: Proctor does not store them)."""
    from proctor.types import LeaseId

    with opened(workspace) as p, handled():
        lease = p.credentials.leases.get(LeaseId(lease_id))
    emit_json(lease.to_dict())


@lease_app.command("revoke")
def lease_revoke(
    lease_id: str,
    reason: Annotated[str, typer.Option(help="Why (audited).")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Revoke a lease now. Its provider is called by the process that has it (the server)."""
    from proctor.types import LeaseId

    with opened(workspace) as p, handled():
        lease = p.credentials.leases.revoke(LeaseId(lease_id), reason or "revoked from the cli")
    note = " (provider revocation pending)" if lease.pending else ""
    if lease.state.value == "irrevocable":
        note = (
            f" (the provider did not confirm: {markup_safe(lease.last_error or 'no provider in this process')};"
            + (
                " retried by any running Proctor process)"
                if lease.next_attempt_at is not None
                else " not retried)"
            )
        )
    out.print(f"lease {lease.id} {lease.state.value}{note}")
    if lease.state.value == "irrevocable":
        raise typer.Exit(1)


__all__ = ["lease_app"]
