"""``proctor serve``: the HTTP API (and the local attestation socket). The MCP gateway daemon is
``proctor gateway`` (:mod:`proctor.cli.gateway`)."""

from __future__ import annotations

from typing import Annotated

import typer

from proctor.cli._common import StoreOpt, WorkspaceOpt, handled


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from config: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from config: 8470).")] = None,
    workspace: WorkspaceOpt = None,
    store: StoreOpt = None,
) -> None:
    """Run the HTTP API (and the local attestation socket)."""
    from proctor.server.run import run_server

    with handled():
        run_server(workspace, store_url=store, host=host, port=port)


__all__ = ["serve"]
