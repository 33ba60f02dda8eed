"""``proctor scan``: the posture scanner (:mod:`proctor.posture`, ADR 0033).

Exit codes: 0 done (findings or not, unless ``--fail-on``), 1 a finding at or above
``--fail-on``, 2 bad input (a path that does not exist, an unknown severity, a missing workspace).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from proctor.cli._common import JsonOpt, fail, handled, out, print_table
from proctor.cli.text import cell
from proctor.errors import ValidationError

_SEVERITIES = ("critical", "high", "medium", "low", "info")
_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def scan(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or directories to scan.")] = None,
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Also scan this workspace's upstreams, registry, policies (or set PROCTOR_WORKSPACE).",
        ),
    ] = None,
    no_clients: Annotated[
        bool,
        typer.Option("--no-clients", help="Do not read the usual MCP client configurations of this user."),
    ] = False,
    env: Annotated[
        bool,
        typer.Option(
            "--env",
            help="Also inspect this process's environment, as an agent's (run it where the agent runs).",
        ),
    ] = False,
    live: Annotated[
        bool, typer.Option("--live", help="List each upstream's tools now to compare them with their pins.")
    ] = False,
    idle_days: Annotated[float, typer.Option(help="An agent idle this long should be retired.")] = 30.0,
    task_max_days: Annotated[float, typer.Option(help="A task lasting longer never ends.")] = 7.0,
    unused_days: Annotated[float, typer.Option(help="A permit unused this long is reported.")] = 30.0,
    as_json: JsonOpt = False,
    sarif: Annotated[bool, typer.Option("--sarif", help="Print SARIF 2.1.0.")] = False,
    fail_on: Annotated[
        str | None, typer.Option("--fail-on", metavar="SEVERITY", help="Exit 1 on a finding at or above it.")
    ] = None,
) -> None:
    """Find standing secrets, shared keys, personal and inherited credentials, unowned or idle
    agents, permissive policies, unpinned servers and poisoned tools. Values are never printed."""
    from proctor.clock import SystemClock
    from proctor.posture.findings import Severity
    from proctor.posture.report import to_json, to_sarif
    from proctor.posture.scan import scan as run_scan

    if fail_on is not None and fail_on.lower() not in _SEVERITIES:
        fail(ValidationError(f"--fail-on must be one of {', '.join(_SEVERITIES)}, not `{fail_on[:40]}`"))
    if as_json and sarif:
        fail(ValidationError("choose one of --json and --sarif"))
    for given in paths or []:
        if not given.exists():
            fail(ValidationError(f"no such file or directory: `{str(given)[:200]}`"))
    ws = workspace or os.environ.get("PROCTOR_WORKSPACE")
    now = SystemClock().now()
    if ws:
        from proctor.app import Proctor
        from proctor.workspace import Workspace

        with handled():
            proctor = Proctor.open(Workspace.find(ws), lazy_policies=True)
            try:
                result = run_scan(
                    paths or [],
                    now=now,
                    proctor=proctor,
                    clients=not no_clients,
                    live=live,
                    idle_days=idle_days,
                    task_max_days=task_max_days,
                    unused_days=unused_days,
                    env=dict(os.environ) if env else None,
                )
            finally:
                proctor.close()
    else:
        result = run_scan(
            paths or [],
            now=now,
            clients=not no_clients,
            idle_days=idle_days,
            task_max_days=task_max_days,
            env=dict(os.environ) if env else None,
        )
    if sarif:
        print(json.dumps(to_sarif(result, _version()), indent=2))
    elif as_json:
        print(json.dumps(to_json(result), indent=2))
    else:
        _table(result)
    if fail_on is not None and result.at_or_above(Severity(fail_on.lower())):
        raise typer.Exit(1)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("proctor")
    except PackageNotFoundError:
        return "unknown"


def _table(result: object) -> None:
    from proctor.posture.scan import ScanResult

    assert isinstance(result, ScanResult)
    if not result.findings:
        out.print(f"[green]no findings[/] ({result.files} files scanned)")
        return
    t = Table("sev", "finding", "where / evidence", show_lines=True)
    for f in result.findings:
        sev = f.level.value
        t.add_row(
            f"[{_STYLE[sev]}]{sev}[/]",
            cell(f.rule.id),
            Text.assemble(cell(f.location), "\n", cell(f.evidence)),
        )
    print_table(t)
    counts = {s: sum(1 for f in result.findings if f.level.value == s) for s in _SEVERITIES}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    out.print(
        f"{len(result.findings)} findings ({summary}); {result.files} files scanned."
        " Fixes: `proctor scan --json`.",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(scan)


__all__ = ["register", "scan"]
