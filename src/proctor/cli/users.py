"""``proctor user``: the approvers' local accounts (argon2id passwords, groups, disable). Each
change is recorded by the accounts service (:mod:`proctor.accounts`); passwords are never printed
and never taken from the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from proctor.cli._common import JsonOpt, WorkspaceOpt, emit_json, handled, opened, out, print_table, ts
from proctor.cli.text import cell, markup_safe

user_app = typer.Typer(
    help="Approvers' local accounts: the people who sign in to decide held calls.", no_args_is_help=True
)

PasswordStdinOpt = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from stdin (one line) instead of a prompt."),
]


def register(app: typer.Typer) -> None:
    """Add the ``user`` command group to the ``proctor`` CLI."""
    app.add_typer(user_app, name="user")


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline(4096)
        password = line.removesuffix("\n").removesuffix("\r")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    from proctor.accounts.passwords import check_password_rules

    with handled():
        check_password_rules(password)
    return password


@user_app.command("add")
def user_add(
    email: str,
    name: Annotated[str, typer.Option("--name", help="Display name shown on the pages.")] = "",
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="An approver group (repeatable).")
    ] = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No local password: this person signs in by SSO only.")
    ] = False,
    password_stdin: PasswordStdinOpt = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an approver. The password is prompted twice (or read from stdin with --password-stdin)."""
    password = None if no_password else _read_password(password_stdin)
    with opened(workspace) as p, handled():
        rec = p.accounts.add(email, name=name, groups=group or [], password=password, by="cli")
    if as_json:
        emit_json(rec.to_dict())
    else:
        groups = ", ".join(rec.groups) or "no group"
        out.print(f"[green]added[/] {markup_safe(rec.email)} ({markup_safe(groups)})", highlight=False)


@user_app.command("list")
def user_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List approvers (never their password hashes)."""
    with opened(workspace) as p:
        rows = p.accounts.list()
        now = p.clock.now()
    if as_json:
        emit_json([r.to_dict() for r in rows])
        return
    t = Table("email", "name", "groups", "password", "state", "created")
    for r in rows:
        state = "disabled" if r.disabled else ("locked" if r.locked(now) else "active")
        t.add_row(
            cell(r.email),
            cell(r.name),
            cell(", ".join(r.groups)),
            "yes" if r.password_hash else "sso only",
            state,
            cell(ts(r.created_at)),
        )
    print_table(t)


@user_app.command("passwd")
def user_passwd(email: str, password_stdin: PasswordStdinOpt = False, workspace: WorkspaceOpt = None) -> None:
    """Set a new password (which also unlocks the account and ends its sessions)."""
    password = _read_password(password_stdin)
    with opened(workspace) as p, handled():
        p.accounts.set_password(email, password, by="cli")
    out.print(f"[green]password changed[/] for {markup_safe(email)}; its sessions ended", highlight=False)


@user_app.command("disable")
def user_disable(
    email: str,
    enable: Annotated[bool, typer.Option("--enable", help="Enable the account again instead.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Disable an account: its sessions end and it cannot sign in (by password or SSO)."""
    with opened(workspace) as p, handled():
        p.accounts.set_disabled(email, not enable, by="cli")
    word = "enabled" if enable else "disabled"
    out.print(f"[yellow]{word}[/] {markup_safe(email)}", highlight=False)


@user_app.command("groups")
def user_groups(
    email: str,
    add: Annotated[list[str] | None, typer.Option("--add", help="A group to join (repeatable).")] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A group to leave (repeatable).")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change an approver's groups (shown when neither --add nor --remove is given)."""
    with opened(workspace) as p, handled():
        if add or remove:
            rec = p.accounts.change_groups(email, add=add or [], remove=remove or [], by="cli")
        else:
            rec = p.accounts.get(email)
    if as_json:
        emit_json(rec.to_dict())
    else:
        out.print(", ".join(rec.groups) or "(no group)", highlight=False)


__all__ = ["register", "user_app"]
