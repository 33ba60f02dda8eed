"""``proctor init``, ``proctor status`` and ``proctor demo``: a workspace's life and health."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from proctor.cli._common import JsonOpt, StoreOpt, WorkspaceOpt, emit_json, handled, opened, out, where
from proctor.cli.text import markup_safe


def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the workspace.")] = Path("."),
    trust_domain: Annotated[
        str, typer.Option(help="SPIFFE trust domain of this workspace.")
    ] = "proctor.local",
    store: StoreOpt = None,
) -> None:
    """Create a workspace: config, signing keys, starter policies and the database."""
    from proctor.app import Proctor
    from proctor.workspace import Workspace

    with handled():
        ws, token = Workspace.init(
            directory, trust_domain=trust_domain, store=store or "sqlite:///proctor.db"
        )
        Proctor.open(ws, store_url=store).close()
    out.print(f"[green]created[/] workspace at {ws.root}")
    out.print(
        f"  config     {ws.config_path}\n  policies   {ws.policies_dir}\n  keys       {ws.keys_dir} (owner-only)"
    )
    out.print("\n[bold]admin token[/] (shown once; the HTTP management API needs it):")
    out.print(token, highlight=False, soft_wrap=True)


def workspace_status(p: Any) -> dict[str, Any]:
    """The health of a workspace as `proctor status` shows it: the store, the audit log, and the
    policy set, the active one (as the store records it) and the one the files hold now. A policy
    set that does not load is reported with its errors (file, line, message): a running server
    refuses it and keeps serving the last good set, and nothing new starts on it."""
    from proctor.errors import PolicyLoadError
    from proctor.policy.loader import load_policy_dir, policy_errors

    head = p.audit.stored_head()
    policy: dict[str, Any] = {"active_version": p.policies.recorded_version()}
    try:
        ps = load_policy_dir(p.policies.policy_dir, tools=p.policies.registered_tools())
    except PolicyLoadError as exc:
        policy.update(files_version=None, valid=False, rejected={"errors": policy_errors(exc)})
    else:
        policy.update(files_version=ps.version, valid=True, rejected=None)
    lagging = p.check_witnesses()
    health = p.audit_health()
    audit = {
        "head_seq": 0 if head is None else head.seq,
        "log_id": p.audit_key.kid,
        "checkpoints_refused": p.audit.refusing,
        "rollback": p.audit.rollback,
        "witness_lagging": lagging,
    }
    reasons = [r for r in health["reasons"] if r != "witness_lagging"]
    if lagging:
        reasons.append("witness_lagging")
    degraded = not policy["valid"] or p.audit.refusing is not None or bool(reasons)
    return {
        "status": "degraded" if degraded else "ok",
        "reasons": reasons,
        "workspace": str(p.workspace.root),
        "store": "ok",
        "audit": audit,
        "policy": policy,
    }


def status(workspace: WorkspaceOpt = None, store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Workspace health: store, audit log and policy set (an invalid set with its errors).
    Exits 0 when healthy, 1 when degraded, 2 when the workspace or its store cannot be opened."""
    with opened(workspace, store) as p:
        data = workspace_status(p)
    if as_json:
        emit_json(data)
    else:
        pol = data["policy"]
        colour = "green" if data["status"] == "ok" else "yellow"
        out.print(f"status     [bold {colour}]{data['status']}[/]")
        out.print(f"workspace  {markup_safe(data['workspace'])}", highlight=False)
        out.print(f"store      {data['store']}")
        out.print(f"audit      head seq {data['audit']['head_seq']}", highlight=False)
        out.print(
            f"           log id {data['audit']['log_id']} (pin it as `audit.witness_log`)", highlight=False
        )
        if data["audit"]["rollback"]:
            out.print(
                "           [bold red]AUDIT ROLLBACK[/]: the log went backwards; no checkpoint is signed"
                " until `proctor audit recover --reason ...`",
                highlight=False,
            )
        for target, why in data["audit"]["witness_lagging"].items():
            out.print(
                f"           [yellow]witness lagging[/] {markup_safe(target)}: {markup_safe(why)}",
                highlight=False,
            )
        if data["audit"]["checkpoints_refused"]:
            out.print(
                f"           [red]no checkpoint is signed[/]: {markup_safe(data['audit']['checkpoints_refused'])}",
                highlight=False,
            )
        out.print(f"policy     active {markup_safe(pol['active_version'] or '-')}", highlight=False)
        if pol["valid"]:
            note = "" if pol["files_version"] == pol["active_version"] else " (not active yet)"
            out.print(f"           files valid, {markup_safe(pol['files_version'])}{note}", highlight=False)
        else:
            out.print(
                "           [red]files REJECTED[/]: the last good set keeps serving; nothing starts on these",
                highlight=False,
            )
            for problem in pol["rejected"]["errors"]:
                out.print(f"             {markup_safe(where(problem))}", highlight=False)
    if data["status"] != "ok":
        raise typer.Exit(1)


def demo(
    keep: Annotated[Path | None, typer.Option(help="Keep the demo workspace in this directory.")] = None,
) -> None:
    """Run Proctor's main job end to end in a fresh temporary workspace."""
    from proctor.demo import run_demo

    with handled():
        code = run_demo(out, keep=keep)
    raise typer.Exit(code)


__all__ = ["demo", "init", "status", "workspace_status"]
