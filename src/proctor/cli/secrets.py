"""``proctor secret``: upstream secrets, encrypted at rest. Values are never printed; each change
is recorded by the secret store (:mod:`proctor.credentials.secrets`)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from proctor.cli._common import JsonOpt, WorkspaceOpt, emit_json, fail, handled, opened, out, print_table, ts
from proctor.cli.text import cell, markup_safe
from proctor.errors import ValidationError

secret_app = typer.Typer(
    help="Upstream secrets, encrypted at rest (AES-256-GCM). Values are never printed.", no_args_is_help=True
)


@secret_app.command("put")
def secret_put(
    name: Annotated[str, typer.Argument(help="Secret name: a-z, 0-9, `_`, `.`, `-`.")],
    keep_newline: Annotated[
        bool, typer.Option("--keep-newline", help="Keep a final newline read from stdin.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Store a secret. The value comes from stdin or a hidden prompt, never from the command line."""
    from proctor.credentials.secrets import MAX_VALUE_BYTES, check_name

    with handled():
        check_name(name)
    if sys.stdin.isatty():
        value = typer.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True).encode()
    else:
        value = sys.stdin.buffer.read(MAX_VALUE_BYTES + 3)
        if not keep_newline:
            value = value.removesuffix(b"\n").removesuffix(b"\r")
    if not value:
        fail(ValidationError(f"empty value for secret `{name}`: nothing was stored"))
    with opened(workspace) as p, handled():
        version = p.credentials.put_secret(name, value)
    out.print(f"[green]stored[/] secret {markup_safe(name)} version {version}", highlight=False)


@secret_app.command("list")
def secret_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List secrets: names, versions and when they changed. Never values."""
    with opened(workspace) as p:
        rows = p.credentials.secret_records()
    data = [
        {"name": r.name, "version": r.version, "updated_at": r.updated_at, "key_id": r.key_id} for r in rows
    ]
    if as_json:
        emit_json(data)
        return
    t = Table("name", "version", "updated", "key id")
    for r in rows:
        t.add_row(cell(r.name), cell(r.version), cell(ts(r.updated_at)), cell(r.key_id))
    print_table(t)


@secret_app.command("delete")
def secret_delete(name: str, workspace: WorkspaceOpt = None) -> None:
    """Delete a secret."""
    from proctor.credentials.secrets import check_name

    with opened(workspace) as p, handled():
        check_name(name)
        p.credentials.delete_secret(name)
    out.print(f"[yellow]deleted[/] secret {markup_safe(name)}", highlight=False)


@secret_app.command("rotate-key")
def secret_rotate_key(
    new_key_env: Annotated[
        str | None,
        typer.Option(
            "--new-key-env",
            metavar="VAR",
            help="Take the new key (base64url of 32 bytes) from environment variable VAR.",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Re-encrypt every secret under a new key in one transaction; the old key stops working.

    With a key file, a new key is generated (or taken from --new-key-env) and replaces the file
    atomically. With PROCTOR_SECRETS_KEY, you supply the new key with --new-key-env and then set
    PROCTOR_SECRETS_KEY to it yourself.
    """
    from proctor.credentials.secrets import KEY_ENV, decode_env_key
    from proctor.errors import ConfigError

    env_mode = bool(os.environ.get(KEY_ENV))
    if env_mode and not new_key_env:
        fail(
            ConfigError(
                f"the secrets key comes from `{KEY_ENV}`, so proctor cannot replace it: generate a new key"
                " (32 random bytes, base64url), put it in another variable and run"
                f" `proctor secret rotate-key --new-key-env VAR`, then set `{KEY_ENV}` to it"
            )
        )
    with handled():
        new_key = None
        if new_key_env:
            raw = os.environ.get(new_key_env)
            if not raw:
                raise ConfigError(f"environment variable `{new_key_env}` is not set")
            new_key = decode_env_key(raw, new_key_env)
    with opened(workspace) as p, handled():
        old, new_id, count = p.credentials.rotate_secrets_key(key=new_key, env_mode=env_mode)
    out.print(f"rotated the secrets key {old} -> {new_id}: {count} secret(s) re-encrypted", highlight=False)
    if env_mode:
        out.print(f"now set {KEY_ENV} to the value of {new_key_env}: the old key no longer works")


__all__ = ["secret_app"]
