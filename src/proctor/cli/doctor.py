"""``proctor doctor``: check a workspace end to end (see :mod:`proctor.doctor`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from proctor.cli._common import WorkspaceOpt, handled, out
from proctor.cli.text import markup_safe

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def doctor(
    client_config: Annotated[
        Path | None,
        typer.Option(
            "--client-config",
            help="A client's MCP configuration (the JSON `proctor mcp-config` prints) to check too.",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Check the workspace end to end: configuration, file modes, store and migrations, policies,
    audit chain, upstreams and (with --client-config) a client's configuration. One line per check:
    ok, warn or fail, with how to fix it. Reads only: nothing is repaired.
    Exits 0 when all are ok, 1 on a warning, 2 on a failure."""
    from proctor.doctor import exit_code, run_checks
    from proctor.workspace import Workspace

    with handled():
        ws = Workspace.find(workspace)
    findings = []
    for f in run_checks(ws, client_config=client_config):
        findings.append(f)
        fix = f" [dim]— fix: {markup_safe(f.fix)}[/]" if f.fix and f.status != "ok" else ""
        out.print(
            f"[{_STYLE[f.status]}]{f.status:<4}[/] {markup_safe(f.check)}: {markup_safe(f.message)}{fix}",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(exit_code(findings))


__all__ = ["doctor"]
