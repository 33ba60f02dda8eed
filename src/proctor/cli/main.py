"""``proctor``: every operation a person does. This module is the table of contents: it builds the
root app and registers each command group from its own module (``proctor.cli.agents``,
``.tasks``, ``.tools``, ``.policy``, ``.audit``, ``.keys``, ``.upstreams``, ``.secrets``,
``.leases``, ``.templates``, ``.users``, ``.replay``, ``.introspection``, ``.scan``, ``.report``, ``.witness``, ``.gateway``, ``.serve``, ``.mcp_config``, ``.workspace``, ``.doctor``). Those
modules share :mod:`proctor.cli._common` and call the services; none imports this one.

Exit codes: 0 success (and `allow` for `check`), 1 a decision of `deny`, a failed verification or
a degraded `status` or a `doctor` warning, 2 an error (a `doctor` failure too) (bad input, missing
workspace, store problem, an invalid policy set for a command that decides, a port already in use
for `serve` and `gateway --http`), 3 `approval_required`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from proctor.cli import (
    agents,
    approvals,
    audit,
    doctor,
    gateway,
    introspection,
    keys,
    leases,
    mcp_config,
    oauth,
    policy,
    replay,
    report,
    scan,
    secrets,
    serve,
    tasks,
    templates,
    tools,
    upstreams,
    users,
    witness,
    workspace,
)
from proctor.cli._common import err, out


def version() -> str:
    """The installed package's version (what ``proctor --version`` prints)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("proctor")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        out.print(f"proctor {version()}", highlight=False)
        raise typer.Exit()


def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Execution control for autonomous AI agents: identity, tasks, Cedar decisions, audit."""


def build_app() -> typer.Typer:
    """The ``proctor`` command: its commands, then its groups, in the order ``--help`` lists them."""
    root = typer.Typer(
        name="proctor",
        help="Execution control for autonomous AI agents: identity, tasks, Cedar decisions, audit.",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
    )
    root.callback()(_root)
    root.command()(workspace.init)
    root.command()(policy.check)
    root.command()(workspace.status)
    root.command()(doctor.doctor)
    root.command("mcp-config")(mcp_config.mcp_config)
    root.command()(serve.serve)
    root.command()(workspace.demo)
    root.command()(replay.replay)
    scan.register(root)
    gateway.register(root)
    root.add_typer(agents.agent_app, name="agent")
    root.add_typer(tasks.task_app, name="task")
    root.add_typer(tools.tool_app, name="tool")
    root.add_typer(policy.policy_app, name="policy")
    root.add_typer(audit.audit_app, name="audit")
    root.add_typer(keys.keys_app, name="keys")
    root.add_typer(upstreams.upstream_app, name="upstream")
    root.add_typer(tools.tools_app, name="tools")
    root.add_typer(witness.witness_app, name="witness")
    root.add_typer(secrets.secret_app, name="secret")
    root.add_typer(leases.lease_app, name="lease")
    users.register(root)
    root.add_typer(approvals.approvals_app, name="approvals")
    root.add_typer(replay.trace_app, name="trace")
    introspection.register(root)
    templates.register(root)
    oauth.register(root)
    report.register(root)
    return root


app = build_app()


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


__all__ = ["app", "build_app", "main", "version"]


if __name__ == "__main__":
    main()
