"""``proctor witness``: a witness service that countersigns audit checkpoints, and its key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from proctor.cli._common import err, handled

witness_app = typer.Typer(help="A witness service that countersigns audit checkpoints.", no_args_is_help=True)


@witness_app.command("serve")
def witness_serve(
    dir: Annotated[Path, typer.Option("--dir", help="Its key and logs (outside every workspace).")],
    listen: Annotated[
        str, typer.Option(help="HOST:PORT; serve it behind TLS beyond the loopback.")
    ] = "127.0.0.1:8471",
) -> None:
    """Run a witness: it keeps each log's checkpoints, refuses rollbacks and countersigns."""
    from proctor.audit.witness_server import run_witness

    with handled():
        run_witness(dir, listen, announce=lambda line: err.print(line, highlight=False))


@witness_app.command("key")
def witness_key(
    dir: Annotated[Path, typer.Option("--dir", help="The witness's directory.")],
) -> None:
    """Print the witness's public key (for `audit.witness_key` in proctor.yaml)."""
    from proctor.audit.witness_http import format_witness_key
    from proctor.audit.witness_server import load_or_create_witness_key

    with handled():
        print(format_witness_key(load_or_create_witness_key(dir).public_key()))


__all__ = ["witness_app"]
