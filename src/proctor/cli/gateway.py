"""``proctor gateway``: the MCP gateway, over stdio (spawned by an MCP client) or Streamable HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from proctor.errors import ProctorError


def _loop_options() -> dict[str, bool]:
    """uvloop when it is installed (it is a dependency; a build without it still runs)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return {}
    return {"use_uvloop": True}


def register(app: typer.Typer) -> None:
    """Add the ``gateway`` command to the ``proctor`` CLI."""

    @app.command()
    def gateway(
        stdio: Annotated[
            bool, typer.Option("--stdio", help="Serve MCP on stdin/stdout (for clients that spawn it).")
        ] = False,
        http: Annotated[bool, typer.Option("--http", help="Serve MCP over Streamable HTTP.")] = False,
        host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="HTTP port.")] = 8471,
        workspace: Annotated[
            str | None,
            typer.Option("--workspace", "-w", envvar="PROCTOR_WORKSPACE", help="Workspace directory."),
        ] = None,
        store: Annotated[
            str | None, typer.Option("--store", envvar="PROCTOR_STORE", help="Store URL.")
        ] = None,
    ) -> None:
        """Run the MCP gateway: every tool call of the agent goes through Proctor."""
        from proctor.cli.main import fail

        if stdio == http:
            raise typer.BadParameter("choose exactly one of --stdio or --http")
        try:
            if stdio:
                from proctor.gateway.stdio import run_stdio

                run_stdio(workspace, store)
            else:
                import anyio

                from proctor.app import Proctor
                from proctor.gateway.http import serve_http
                from proctor.server.graceful import graceful_stop
                from proctor.workspace import Workspace

                ws = Workspace.find(workspace)
                proctor = Proctor.open(ws, store_url=store)
                proctor.watch_policies()  # edits apply while serving; an invalid set is refused
                with graceful_stop():  # SIGTERM/SIGINT: drain, then close (flush and sign) below
                    try:
                        anyio.run(serve_http, proctor, ws, host, port, backend_options=_loop_options())
                    finally:
                        proctor.close()
        except ProctorError as exc:
            fail(exc)
