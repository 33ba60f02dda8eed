"""``proctor audit``: read and verify the tamper-evident audit log.

Every command of the group (verify, recover, tail, search, export, show) is an
``@audit_app.command`` in this module; a new one is one more function here, over the audit
services (:mod:`proctor.audit`, ``Proctor.recover_audit``) and :mod:`proctor.cli._common`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from proctor.audit.export import parsed_body
from proctor.cli._common import (
    JsonOpt,
    SinceOpt,
    StoreOpt,
    WorkspaceOpt,
    emit_json,
    err,
    fail,
    handled,
    opened,
    out,
    print_table,
    since_time,
    ts,
    where,
)
from proctor.cli.text import cell, markup_safe, safe_text
from proctor.errors import ValidationError

audit_app = typer.Typer(help="Read and verify the tamper-evident audit log.", no_args_is_help=True)


def _row_dict(r: Any) -> dict[str, Any]:
    return {"seq": r.seq, "hash": r.hash.hex(), "record": parsed_body(r.body)}


def _detail(kind: object, body: Any) -> str:
    """What a table shows of a record: a decision's reasons, whatever shape a stored body has."""
    if body is None:
        return "(not a JSON record: run `proctor audit verify`)"
    if kind == "policy.rejected" and isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(where(e) for e in errors)[:200]
        return str(body.get("error") or "")[:200]
    if kind != "decision" or not isinstance(body, dict):
        return ""
    outcome = body.get("outcome")
    reasons = outcome.get("reasons") if isinstance(outcome, dict) else None
    if not isinstance(reasons, list):
        return ""
    return "; ".join(str(x) for x in reasons)[:80]


def _table(rows: list[Any]) -> Table:
    t = Table("seq", "time", "kind", "agent", "task", "tool", "decision", "detail")
    for r in rows:
        try:
            when = ts(r.ts)
        except (TypeError, ValueError, OverflowError, OSError):
            when = "?"
        # text from the log is shown as text: a reason may quote what an unauthenticated caller
        # sent, and neither markup (`[red]`) nor terminal escapes in it may restyle or break the table
        t.add_row(
            cell(r.seq),
            cell(when),
            cell(r.kind),
            cell(r.agent or "-"),
            cell(r.task or "-"),
            cell(r.tool or "-"),
            cell(r.decision or "-"),
            cell(_detail(r.kind, parsed_body(r.body))),
        )
    return t


#: narrower than this, the audit log is printed a record per line instead of as a table
WIDE = 120


def _print_rows(rows: list[Any], as_json: bool) -> None:
    if as_json:
        emit_json([_row_dict(r) for r in rows])
        return
    if out.width < WIDE:
        # eight columns do not fit 80 (a pipe is 80 to rich): a log reads, and greps, as lines
        _print_lines(rows, as_json=False)
        return
    print_table(_table(rows))


@audit_app.command("verify")
def audit_verify(
    deep: Annotated[bool, typer.Option(help="Also check indexed columns against each record.")] = False,
    workspace: WorkspaceOpt = None,
    store: StoreOpt = None,
) -> None:
    """Verify the hash chain and signed checkpoints. Exits 1 and names the record on tampering."""
    from proctor.app import verify_audit_store
    from proctor.store import open_store
    from proctor.workspace import Workspace

    with handled():
        ws = Workspace.find(workspace)
        st = open_store(store or ws.settings().store_url, base_dir=ws.root, migrate=False)
        try:
            report = verify_audit_store(st, ws.keys_dir, deep=deep, settings=ws.settings())
        finally:
            st.close()
    if report.log_id is not None:
        out.print(f"log id     {report.log_id} (what `audit.witness_log` pins)", highlight=False)
    for rec in report.recoveries:
        out.print(
            f"[yellow]recovered[/] at record {rec['seq']} by {markup_safe(str(rec['by']))}:"
            f" {markup_safe(str(rec['reason']))}",
            highlight=False,
        )
    if len(report.writers) > 1 or not report.ok:
        for w in report.writers:  # each writer's chain (docs/adr/0036)
            where = f" ({markup_safe(str(w['host']))} pid {w['pid']})" if "host" in w else ""
            state = "ok" if w["ok"] else markup_safe(str(w["problem"]))
            out.print(
                f"writer {w['writer']}{where}: {state}, {w['records']} records, head seq {w['head_seq']},"
                f" {w['checkpoints']} checkpoints, {w['unsigned_tail']} unsigned",
                highlight=False,
            )
    for note in report.notes:
        out.print(f"[yellow]note[/]: {markup_safe(note)}", highlight=False)
    if report.ok:
        out.print(
            f"[green]ok[/]: {report.records_checked} records, {report.checkpoints_checked} signed checkpoints,"
            f" head seq {report.head_seq}"
        )
        if report.unsigned_tail:
            out.print(
                f"[yellow]note[/]: the last {report.unsigned_tail} records are covered by no signed checkpoint"
                " yet (only the hash chain protects them); a running Proctor signs its own within"
                " `audit.checkpoint_interval`, and those of a process that was killed are signed by"
                " another running Proctor process within 30 s, or by the next one to start or stop"
                " (docs/adr/0036)"
            )
        return
    for prob in report.problems:
        err.print(
            f"[bold red]TAMPERED[/] record {prob.seq}: {markup_safe(prob.message)} {escape(f'[{prob.code}]')}",
            highlight=False,
        )
    raise typer.Exit(1)


@audit_app.command("recover")
def audit_recover(
    reason: Annotated[str, typer.Option(help="What happened and what you decided (kept in the log).")],
    workspace: WorkspaceOpt = None,
    store: StoreOpt = None,
) -> None:
    """After a rollback (the log went back behind its anchor or witness): record your decision as an
    `audit.recovered` record, re-anchor at the current head and tell the witnesses, so that
    checkpoints are signed again. Needs the workspace's audit key (its administrator)."""
    import getpass

    with opened(workspace, store) as p, handled():
        if not (p.keydir / "audit-ed25519.pem").is_file():
            raise ValidationError("the workspace's audit key is missing: only its administrator can recover")
        done = p.recover_audit(reason, getpass.getuser())
    anchor = done["anchor"]
    was = "none" if anchor is None else f"{anchor['seq']}"
    out.print(
        f"[green]recovered[/]: `audit.recovered` is record {done['seq']}; the anchor was at {was}, it is at"
        f" {done['seq']} now; checkpoints are signed again",
        highlight=False,
    )


@audit_app.command("tail")
def audit_tail(
    n: Annotated[int, typer.Option("-n", help="How many records.")] = 20,
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="Then print each new record as it is written, until Ctrl-C."),
    ] = False,
    since: SinceOpt = None,
    interval: Annotated[
        float, typer.Option(help="With --follow: how often to look for new records, in seconds.")
    ] = 1.0,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The newest records (of those since --since); with -f, then every new one as it comes.

    With --follow, each record is one line (with --json, one JSON object per line), so that the
    output can be piped and read while it grows."""
    from proctor.store.base import AuditQuery

    if not 0.05 <= interval <= 3600:
        fail(ValidationError("--interval must be between 0.05 and 3600 seconds"))
    with opened(workspace) as p:
        with handled():
            after = since_time(since, p.clock.now())
        if not follow:
            rows = list(
                reversed(p.audit_records.search(AuditQuery(since=after, limit=max(n, 1), newest_first=True)))
            )
            _print_rows(rows[-n:] if n > 0 else [], as_json)
            return
        # each writer's chain followed past its own mark: a record that a slow writer commits
        # below a seq already printed is still printed (docs/adr/0036)
        rows, follower = p.audit_records.follow(n, after)
        _print_lines(rows, as_json)
        try:
            while True:
                time.sleep(interval)
                new = follower.poll()
                if new:
                    _print_lines(new, as_json)
        except KeyboardInterrupt:
            return


def _print_lines(rows: list[Any], as_json: bool) -> None:
    """Records a line each (`audit tail -f`, and any listing narrower than :data:`WIDE`): seq,
    time, kind, the decision, then only the fields the record has (``agent=bot task=tsk_…``) and
    its detail; with ``as_json``, one JSON object per line. Flushed at once."""
    for r in rows:
        if as_json:
            print(json.dumps(_row_dict(r), default=str, ensure_ascii=False), file=sys.stdout)
            continue
        try:
            when = ts(r.ts)
        except (TypeError, ValueError, OverflowError, OSError):
            when = "?"
        fields = [str(r.seq), when, safe_text(r.kind)]
        if r.decision:
            fields.append(safe_text(r.decision))
        fields += [
            f"{k}={safe_text(v)}" for k, v in (("agent", r.agent), ("task", r.task), ("tool", r.tool)) if v
        ]
        detail = _detail(r.kind, parsed_body(r.body))
        if detail:
            fields.append(safe_text(detail))
        print("  ".join(fields), file=sys.stdout)
    sys.stdout.flush()


@audit_app.command("search")
def audit_search(
    agent: Annotated[str | None, typer.Option()] = None,
    task: Annotated[str | None, typer.Option()] = None,
    tool: Annotated[str | None, typer.Option()] = None,
    decision: Annotated[str | None, typer.Option(help="allow | deny | approval_required")] = None,
    kind: Annotated[str | None, typer.Option(help="decision, task.started, agent.suspended, …")] = None,
    since: SinceOpt = None,
    limit: Annotated[int, typer.Option()] = 100,
    root_task: Annotated[
        str | None,
        typer.Option("--root-task", help="The records of this task and every task delegated from it."),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find records by agent, task, tool, decision, kind, time, or a whole delegation tree."""
    from proctor.store.base import AuditQuery

    with opened(workspace) as p, handled():
        tree = () if root_task is None else p.audit_records.tree(root_task)
        rows = p.audit_records.search(
            AuditQuery(
                task_in=tree,
                agent=agent,
                task=task,
                tool=tool,
                decision=decision,
                kind=kind,
                since=since_time(since, p.clock.now()),
                limit=limit,
            )
        )
    _print_rows(rows, as_json)


@audit_app.command("export")
def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export the whole log, one JSON record per line, with each record's chain hashes."""
    if fmt != "jsonl":
        fail(ValidationError(f"unsupported format `{fmt}`: use jsonl"))
    with opened(workspace) as p:
        if output is None:
            p.audit_records.export_jsonl(sys.stdout)
        else:
            # the log is private to Proctor's user: a new export file is too, whatever the umask
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                count = p.audit_records.export_jsonl(f)
            err.print(f"exported {count} records to {output}")


@audit_app.command("show")
def audit_show(
    decision_id: Annotated[str, typer.Argument(help="A decision id (`dec_…`), as `check` prints it.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Everything recorded for one decision: the decision, the call's completion, the credentials
    it used. Exits 2 for an unknown or malformed id."""
    with opened(workspace) as p, handled():
        rows = p.audit_records.decision(decision_id)
    if as_json:
        emit_json({"decision_id": decision_id, "records": [_row_dict(r) for r in rows]})
        return
    out.print(f"decision {markup_safe(decision_id)}: {len(rows)} records", highlight=False)
    for label, value in _summary(rows):
        out.print(f"  {label:<11} {markup_safe(value, newlines=True)}", highlight=False, soft_wrap=True)
    for r in rows:
        try:
            when = ts(r.ts)
        except (TypeError, ValueError, OverflowError, OSError):
            when = "?"
        out.print(f"\n[bold]seq {r.seq}[/]  {when}  {markup_safe(r.kind)}", highlight=False)
        body = parsed_body(r.body)
        text = _detail(r.kind, body) if body is None else json.dumps(body, indent=2, ensure_ascii=False)
        # the record as text: what a caller or an upstream put in it cannot restyle the terminal
        out.print(markup_safe(text, newlines=True), highlight=False, soft_wrap=True)


def _summary(rows: list[Any]) -> list[tuple[str, str]]:
    """What a person reads first of one decision: the verdict and on what, its reasons, the
    policies that decided it, where each argument came from (names only) and how the call ended."""
    lines: list[tuple[str, str]] = []
    for r in rows:
        body = parsed_body(r.body)
        if not isinstance(body, dict):
            continue
        if r.kind == "decision":
            outcome = body.get("outcome")
            outcome = outcome if isinstance(outcome, dict) else {}
            subject = "  ".join(
                f"{k} {v}" for k, v in (("tool", r.tool), ("agent", r.agent), ("task", r.task)) if v
            )
            lines.append(("verdict", f"{r.decision or '?'}  {subject}  at {ts(r.ts)}"))
            for key in ("reasons", "policies", "errors"):
                items = outcome.get(key)
                if isinstance(items, list) and items:
                    lines.append((key, "; ".join(str(x) for x in items)))
            provenance = body.get("provenance")
            args = provenance.get("args") if isinstance(provenance, dict) else None
            if isinstance(args, list) and args:
                lines.append(("provenance", "; ".join(_origin(a) for a in args if isinstance(a, dict))))
        elif r.kind == "call.completed":
            lines.append(
                (
                    "completion",
                    f"{body.get('status', '?')} from upstream {body.get('upstream', '?')} at {ts(r.ts)}",
                )
            )
    return lines


def _origin(arg: dict[str, Any]) -> str:
    """``amount: tool_output (invoices.read)``: an argument's name, origin and source tools."""
    sources = arg.get("sources")
    named = f" ({', '.join(str(x) for x in sources)})" if isinstance(sources, list) and sources else ""
    return f"{arg.get('arg', '?')}: {arg.get('origin', '?')}{named}"


__all__ = ["audit_app"]
