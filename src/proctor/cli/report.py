"""``proctor report``: reports built from a workspace's live evidence. ``report compliance`` gives
each Proctor control's status mapped to OWASP, NIST, CSA MAESTRO and MITRE ATLAS identifiers
(:mod:`proctor.posture.compliance`, ADR 0033).

Exit codes: 0 written, 2 bad input (an unknown format, a missing workspace, an unwritable file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from proctor.cli._common import WorkspaceOpt, fail, opened, out
from proctor.errors import ValidationError

report_app = typer.Typer(help="Reports from a workspace's live evidence.", no_args_is_help=True)

_FORMATS = ("html", "md", "json")


@report_app.command("compliance")
def compliance(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Also scan these files or directories for findings.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="html, md or json.")] = "md",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the report to this file (default: print it).")
    ] = None,
    clients: Annotated[
        bool,
        typer.Option("--clients", help="Also scan this user's MCP client configurations for findings."),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Each control's status from live evidence (task-scoped calls, agent owners, approvals and
    their response times, the audit chain's verified checkpoint, open `proctor scan` findings),
    mapped to ASI, NHI, T1-T15, NIST AI RMF, MAESTRO and ATLAS identifiers."""
    from proctor.clock import SystemClock
    from proctor.posture.compliance import compliance_report, gather
    from proctor.posture.compliance_render import to_html, to_markdown
    from proctor.posture.scan import scan as run_scan

    fmt = fmt.lower()
    if fmt not in _FORMATS:
        fail(ValidationError(f"--format must be one of {', '.join(_FORMATS)}, not `{fmt[:40]}`"))
    for given in paths or []:
        if not given.exists():
            fail(ValidationError(f"no such file or directory: `{str(given)[:200]}`"))
    now = SystemClock().now()
    with opened(workspace) as p:
        result = run_scan(paths or [], now=now, proctor=p, clients=clients)
        ev = gather(p, result.findings, now)
        root = str(p.workspace.root) if p.workspace is not None else ""
    report = compliance_report(ev, workspace=root)
    if fmt == "json":
        text = json.dumps(report, indent=2, default=str) + "\n"
    elif fmt == "html":
        text = to_html(report)
    else:
        text = to_markdown(report)
    if out_file is None:
        print(text, end="")
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(ValidationError(f"cannot write `{str(out_file)[:200]}`: {exc.strerror}"))
    out.print(f"compliance report written to {out_file}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command group to the ``proctor`` CLI."""
    app.add_typer(report_app, name="report")


__all__ = ["register", "report_app"]
