"""``proctor gateway``: the MCP gateway daemon (Streamable HTTP and/or the local socket), and the
keyless stdio thin client an MCP client spawns (ADR 0015)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from proctor.cli._common import fail
from proctor.errors import ProctorError, ValidationError


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
            bool,
            typer.Option(
                "--stdio",
                help="Serve MCP on stdin/stdout for a client that spawns it: a keyless thin client "
                "of the gateway daemon, reached on --socket.",
            ),
        ] = False,
        http: Annotated[
            bool,
            typer.Option(
                "--http", help="Run the daemon: Streamable HTTP, and the socket for --stdio clients."
            ),
        ] = False,
        unix: Annotated[
            bool,
            typer.Option("--unix", help="Run the daemon on the socket for --stdio clients only (no HTTP)."),
        ] = False,
        socket_path: Annotated[
            str | None,
            typer.Option(
                "--socket",
                envvar="PROCTOR_SOCKET",
                help="The daemon's gateway socket: where --stdio connects and the daemon listens "
                "(default <workspace>/run/gateway.sock).",
            ),
        ] = None,
        no_socket: Annotated[
            bool, typer.Option("--no-socket", help="With --http: do not serve the socket.")
        ] = False,
        template: Annotated[
            str | None,
            typer.Option(
                "--template",
                envvar="PROCTOR_TEMPLATE",
                help="With --stdio: have the daemon start a fresh task from this template for the "
                "session (and end it when the session ends), instead of a task token.",
            ),
        ] = None,
        in_process: Annotated[
            bool,
            typer.Option(
                "--in-process",
                help="With --stdio, for development only: run the whole gateway in this process, "
                "which must then read the workspace's keys.",
            ),
        ] = False,
        host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="HTTP port.")] = 8471,
        public_url: Annotated[
            str | None,
            typer.Option(
                "--public-url",
                envvar="PROCTOR_GATEWAY_PUBLIC_URL",
                help="With --http: the one URL agents reach the gateways at (a load balancer's), the "
                "audience of their tokens (default: gateway.public_url, else http://HOST:PORT/mcp).",
            ),
        ] = None,
        workspace: Annotated[
            str | None,
            typer.Option("--workspace", "-w", envvar="PROCTOR_WORKSPACE", help="Workspace directory."),
        ] = None,
        store: Annotated[
            str | None, typer.Option("--store", envvar="PROCTOR_STORE", help="Store URL.")
        ] = None,
    ) -> None:
        """Run the MCP gateway: every tool call of the agent goes through Proctor."""
        if stdio + http + unix != 1:
            raise typer.BadParameter("choose exactly one of --stdio, --http or --unix")
        if in_process and not stdio:
            raise typer.BadParameter("--in-process goes with --stdio")
        if no_socket and not http:
            raise typer.BadParameter("--no-socket goes with --http")
        if public_url is not None and not http:
            raise typer.BadParameter("--public-url goes with --http")
        if template is not None and (not stdio or in_process):
            raise typer.BadParameter("--template goes with --stdio (the thin client)")
        try:
            if stdio and not in_process:
                # the thin client: nothing of the workspace is opened, not even to find it
                from proctor.gateway.thin import default_socket, run_thin

                if socket_path is None and workspace is None:
                    fail(
                        ValidationError(
                            "give the gateway daemon's socket: --socket PATH (or PROCTOR_SOCKET), "
                            "or --workspace DIR for DIR/run/gateway.sock"
                        )
                    )
                code = run_thin(socket_path or default_socket(str(workspace)), template=template)
                if code:
                    raise typer.Exit(code)
            elif stdio:
                from proctor.gateway.stdio import run_stdio

                run_stdio(workspace, store)
            else:
                _serve(
                    workspace,
                    store,
                    http=http,
                    host=host,
                    port=port,
                    socket_path=socket_path,
                    no_socket=no_socket,
                    public_url=public_url,
                )
        except ProctorError as exc:
            fail(exc)
        except BaseExceptionGroup as group:
            # a start-up error raised inside the daemon's task groups: reported as itself
            leaf: BaseException = group
            while isinstance(leaf, BaseExceptionGroup) and len(leaf.exceptions) == 1:
                leaf = leaf.exceptions[0]
            if isinstance(leaf, ProctorError):
                fail(leaf)
            raise


def _serve(
    workspace: str | None,
    store: str | None,
    *,
    http: bool,
    host: str,
    port: int,
    socket_path: str | None,
    no_socket: bool,
    public_url: str | None = None,
) -> None:
    from proctor.app import Proctor
    from proctor.config import check_public_url
    from proctor.gateway.socket_relay import default_socket_path
    from proctor.server.graceful import graceful_stop
    from proctor.workspace import Workspace

    ws = Workspace.find(workspace)
    if public_url is not None:
        public_url = check_public_url(public_url, "--public-url")
    path = None if no_socket else Path(socket_path).absolute() if socket_path else default_socket_path(ws)
    listener = None
    if http:
        from proctor.server.listen import bind_listener

        # the port first: a second gateway ends here, with one line, before anything is opened
        listener = bind_listener(host, port, command="proctor gateway")
    try:
        proctor = Proctor.open(ws, store_url=store)
        with graceful_stop():  # SIGTERM/SIGINT: drain, then close (flush and sign) below
            _run_daemon(
                proctor,
                ws,
                http=http,
                host=host,
                port=port,
                path=path,
                required=socket_path is not None,
                listener=listener,
                public_url=public_url,
            )
    finally:
        if listener is not None:
            listener.close()


def _run_daemon(
    proctor: Any,
    ws: Any,
    *,
    http: bool,
    host: str,
    port: int,
    path: Path | None,
    required: bool,
    listener: Any = None,
    public_url: str | None = None,
) -> None:
    import anyio

    try:
        if http:
            from proctor.gateway.http import serve_http

            anyio.run(
                lambda: serve_http(
                    proctor,
                    ws,
                    host,
                    port,
                    socket_path=path,
                    socket_required=required,
                    listener=listener,
                    public_url=public_url,
                ),
                backend_options=_loop_options(),
            )
        else:
            from proctor.gateway.socket_relay import serve_unix

            assert path is not None
            anyio.run(serve_unix, proctor, ws, path, backend_options=_loop_options())
    finally:
        proctor.close()


__all__ = ["register"]
