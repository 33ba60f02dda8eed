"""``proctor demo``: Proctor's main job, end to end, in a fresh temporary workspace.

Two agents with owners get identities (one by join token, one by local Unix attestation), start
tasks with declared intents and make a realistic run of calls. Every call is decided by Cedar
policy plus the task's scope and written to the audit log; then the log is verified, one record is
tampered with in a copy, and verification names it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from proctor.clock import Clock, SystemClock

if TYPE_CHECKING:
    from proctor.workspace import Workspace

__all__ = [
    "DEMO_CONFIG",
    "DEMO_POLICY",
    "run_demo",
]


DEMO_CONFIG = """\
trust_domain: acme.test
store: sqlite:///proctor.db
identity: {svid_ttl: 5m, join_token_ttl: 10m}
tasks: {default_ttl: 15m, max_ttl: 24h}
audit: {checkpoint_every: 10, checkpoint_interval: 60s, log_arguments: false}
approvals: {hold: 30s}
tools:
  - {name: invoices.read, effect: read, resource_arg: path, resource: "invoices/*",
     labels: {trust: untrusted, sensitivity: confidential}}
  - {name: payments.transfer, effect: pay, resource_arg: account, flags: [financial],
     labels: {sensitivity: confidential}}
  - {name: tickets.read, effect: read, resource_arg: ticket, labels: {trust: untrusted}}
  - {name: crm.lookup, effect: read, resource_arg: customer, labels: {sensitivity: confidential}}
  - {name: email.send_customer, effect: send, resource_arg: to, flags: [customer_facing]}
  - {name: db.drop_table, effect: write, resource_arg: table, flags: [destructive, production]}
"""


def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: the demo's own rule for the MCP part: clocks of the Paris office only (a real Cedar forbid)
DEMO_POLICY = """\
// The MCP part of `proctor demo`: the scheduling agent reads clocks of European offices only.
@id("demo.europe-only")
forbid (principal, action, resource is Proctor::Tool)
when { resource.namespace == "time" && !(context.resource like "Europe/*") };
"""


def _time_upstream() -> dict[str, Any]:
    """`mcp-server-time` (a registry server, a dependency of Proctor), started with the Python
    running the demo: no PATH needed. `convert_time` is configured as a deployment, which the
    starter policy `approval.deployments` holds for the owner's approval."""
    return {
        "namespace": "time",
        "command": sys.executable,
        "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"],
        "default": {"effect": "read"},
        "tools": {
            "get_current_time": {"resource_arg": "timezone"},
            "convert_time": {"effect": "deploy", "resource_arg": "target_timezone"},
        },
    }


def _result_text(result: Any) -> str:
    text = " ".join(str(getattr(c, "text", "")) for c in result.content)
    return " ".join(text.split())


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def run_mcp_part(out: Console, ws: Workspace, owner: str, password: str) -> bool:
    """The official MCP client over stdio, through `proctor gateway --stdio` (a child process, as a
    desktop client starts it) in front of the real `mcp-server-time`: a call allowed, one denied by
    policy, one held until the owner approves it; then the audit records of the three. False when
    the held call was never filed for approval (the demo then fails)."""
    import json

    import anyio
    from mcp import Client, StdioServerParameters

    from proctor.app import Proctor
    from proctor.gateway.config import save_upstreams, upstream_from_mapping
    from proctor.store.base import AuditQuery

    root = ws.root
    save_upstreams(root, [upstream_from_mapping(_time_upstream())])
    policy = ws.policies_dir / "50-demo.cedar"
    with os.fdopen(os.open(policy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as f:
        f.write(DEMO_POLICY)
    with Proctor.open(ws) as p:
        agent = p.agents.add("clock-bot", owner)
        svid = p.agents.issue_svid(agent)
        task = p.tasks.start(
            agent="clock-bot",
            purpose="Find a meeting time in Paris",
            allow=["time.*"],
            requested_by="carol@acme.test",
            ttl_s=900,
        )
        head = p.audit_records.newest(1)
        first_seq = int(head[-1].seq) + 1 if head else 1
    env = {"PROCTOR_SVID": svid, "PROCTOR_TASK_TOKEN": task.token, "PATH": os.defpath}
    if os.environ.get("PYTHONPATH"):  # a source checkout run with PYTHONPATH: the child runs the same code
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            *("-c", "from proctor.cli.main import main; main()"),
            *("gateway", "--stdio", "--in-process", "--workspace", str(root)),
        ],
        env=env,
    )
    out.print("\n[bold]A real MCP client through the gateway[/]")
    out.print("MCP client (official SDK, stdio) → proctor gateway → mcp-server-time")
    out.print(f"task {task.task.id}  clock-bot: {task.task.purpose}\n")
    approved: dict[str, str] = {}

    def approve_when_filed() -> None:
        """What a person does on the approvals page: here the owner approves at once."""
        import time as _time

        deadline = _time.monotonic() + 30
        with Proctor.open(ws) as p:
            while not (held := [r for r in p.approvals.pending() if r.agent == "clock-bot"]):
                if _time.monotonic() > deadline:
                    return
                _time.sleep(0.05)
            who = p.accounts.authenticate(owner, password)
            granted = p.approvals.approve(held[0].id, who, "meeting time checked")
            approved["id"] = str(granted.id)

    async def session() -> list[tuple[str, str, Any]]:
        results: list[tuple[str, str, Any]] = []
        async with Client(params, mode="legacy", cache=None) as c:
            tools = sorted(t.name for t in (await c.list_tools()).tools)
            out.print(f"tools/list: {', '.join(tools)}")
            for label, args in (
                ("Europe/Paris", {"timezone": "Europe/Paris"}),
                ("Asia/Tokyo", {"timezone": "Asia/Tokyo"}),
            ):
                results.append(("get_current_time", label, await c.call_tool("time__get_current_time", args)))
            convert = {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Europe/Paris"}
            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(anyio.to_thread.run_sync, approve_when_filed)
                    held = await c.call_tool("time__convert_time", convert)
            results.append(("convert_time", "12:00 UTC→Paris", held))
        return results

    for n, (tool, label, result) in enumerate(anyio.run(session), 1):
        text = _result_text(result)
        call = f"{n} {tool} {label}".ljust(32)
        if result.is_error:
            why = text.removeprefix("Proctor denied this call: ").split(" (decision ")[0]
            out.print(f"{call}[red]denied[/]: {_short(why, 40)}", highlight=False)
            continue
        try:
            data = json.loads(text)
            value = data.get("datetime") or data.get("target", {}).get("datetime", text)
        except (ValueError, AttributeError):
            value = text
        if tool == "convert_time":
            out.print(f"{call}[yellow]held[/] for approval {approved.get('id', '?')}", highlight=False)
            out.print(f"{'  ' + owner + ' approved it':<32}[green]ran once[/]: {_short(str(value), 40)}")
        else:
            out.print(f"{call}[green]allowed[/]: {_short(str(value), 40)}", highlight=False)
    if "id" not in approved:
        out.print("[bold red]the held call was never filed for approval[/]")
        return False
    out.print("\naudit records of these calls:")
    with Proctor.open(ws) as p:
        rows = p.audit_records.search(AuditQuery(after_seq=first_seq - 1, limit=100))
    for r in rows:
        if r.kind not in {"decision", "call.completed"} and not str(r.kind).startswith("approval."):
            continue
        body = json.loads(bytes(r.body))
        what = f"{r.kind} {r.decision}" if r.kind == "decision" else r.kind
        if r.kind in {"decision", "approval.requested"}:
            detail = ", ".join((body.get("outcome") or body).get("policies") or [])
        elif r.kind == "approval.approved":
            detail = f"by {body.get('approver', '?')}"
        else:
            detail = str(body.get("status", ""))
        line = f"{r.seq:>4}  {what:<26} {r.tool or '':<22} {detail}"
        out.print(_short(line.rstrip(), 79), highlight=False)
    return True


def run_demo(out: Console, *, keep: Path | None = None, clock: Clock | None = None) -> int:
    from proctor.app import Proctor, verify_audit_store
    from proctor.identity.attest import AttestationServer, fetch_svid
    from proctor.pipeline import CallInput
    from proctor.store import open_store
    from proctor.types import AgentStatus
    from proctor.workspace import Workspace

    clock = clock or SystemClock()
    started = clock.monotonic()
    if out.width < 130:
        out = Console(width=130, force_terminal=out.is_terminal)
    tmp = Path(tempfile.mkdtemp(prefix="proctor-demo-"))
    root = keep.resolve() if keep else tmp / "workspace"
    try:
        ws, _token = Workspace.init(root, config_text=DEMO_CONFIG)
        out.rule("[bold]Proctor demo")
        out.print(f"workspace {ws.root} (SQLite, one process)\n")
        with Proctor.open(ws, clock=clock) as p:
            fin = p.agents.add("finance-bot", "alice@acme.test")
            exe = os.path.realpath(sys.executable)
            sup = p.agents.add(
                "support-bot",
                "bob@acme.test",
                [f"unix:uid:{os.getuid()}", f"unix:sha256:{_file_sha256(exe)}"],
            )
            out.print(f"agent [bold]{fin.name}[/]  {fin.spiffe_id}  owner {fin.owner}")
            out.print(f"agent [bold]{sup.name}[/]  {sup.spiffe_id}  owner {sup.owner}\n")

            # identity: a single-use join token for one, local attestation for the other
            join = p.agents.join_token("finance-bot")
            fin_svid = p.agents.svid_from_join_token(join)
            out.print(
                "finance-bot proved its identity with a single-use join token → JWT-SVID (ES256, 5 min)"
            )
            with AttestationServer(
                ws.run_dir, p.store, p.agents.svids, p.clock, on_attest=p.agents.audit_attestation
            ) as srv:
                sup_svid = fetch_svid(srv.socket_path, p.audience)
            out.print("support-bot proved its identity by Unix attestation (uid + sha256 of its executable)")
            try:
                p.agents.svid_from_join_token(join)
            except Exception as exc:  # the point: a reused join token is refused
                out.print(f"reusing the join token is refused: [red]{exc}[/]\n")

            ft = p.tasks.start(
                agent="finance-bot",
                purpose="Pay the approved October invoices",
                allow=["invoices.read", "payments.transfer"],
                resources=["invoices/2026-10/*", "acct-*"],
                requested_by="carol@acme.test",
                ttl_s=900,
            )
            st = p.tasks.start(
                agent="support-bot",
                purpose="Answer ticket 4411 about a late delivery",
                allow=["tickets.*", "crm.lookup", "email.send_customer"],
                requested_by="dave@acme.test",
                ttl_s=900,
            )
            out.print(f"task {ft.task.id}  finance-bot: {ft.task.purpose}")
            out.print(f"task {st.task.id}  support-bot: {st.task.purpose}\n")

            calls: list[tuple[str, str, str, str, dict[str, Any]]] = [
                (
                    "finance-bot",
                    fin_svid,
                    ft.token,
                    "invoices.read",
                    {"path": "invoices/2026-10/acme-001.pdf"},
                ),
                ("finance-bot", fin_svid, ft.token, "invoices.read", {"path": "invoices/2025-12/old.pdf"}),
                (
                    "finance-bot",
                    fin_svid,
                    ft.token,
                    "invoices.read",
                    {"path": "invoices/2026-10/../../hr/salaries"},
                ),
                (
                    "finance-bot",
                    fin_svid,
                    ft.token,
                    "payments.transfer",
                    {"account": "acct-778", "amount": 1200},
                ),
                ("finance-bot", fin_svid, ft.token, "tickets.read", {"ticket": "4411"}),
                ("support-bot", sup_svid, st.token, "tickets.read", {"ticket": "4411"}),
                ("support-bot", sup_svid, st.token, "crm.lookup", {"customer": "cus-19"}),
                ("support-bot", sup_svid, st.token, "email.send_customer", {"to": "pat@example.com"}),
                ("support-bot", sup_svid, st.token, "db.drop_table", {"table": "orders"}),
                (
                    "support-bot",
                    sup_svid,
                    ft.token,
                    "invoices.read",
                    {"path": "invoices/2026-10/acme-001.pdf"},
                ),
                ("support-bot", sup_svid, st.token, "payments.transfer", {"account": "acct-1", "amount": 5}),
            ]
            table = Table("#", "agent", "tool", "decision", "why", title="Decisions")
            colours = {"allow": "green", "deny": "red", "approval_required": "yellow"}

            def run(
                agent: str, svid: str, token: str, tool: str, args: dict[str, Any], note: str = ""
            ) -> None:
                d = p.decide(CallInput(tool=tool, args=args, svid=svid, task_token=token, source="demo"))
                why = "; ".join(d.reasons)
                table.add_row(
                    str(table.row_count + 1),
                    agent,
                    tool,
                    f"[{colours[d.verdict.value]}]{d.verdict.value}[/]",
                    (note + why) if note else why,
                )

            for c in calls:
                run(*c)

            # approvals: the held payment waits for a person; approved, the identical call runs once
            import secrets as _secrets

            password = _secrets.token_urlsafe(18)
            p.accounts.add(str(fin.owner), name="Finance owner", password=password, by="demo")
            held = [r for r in p.approvals.pending() if r.agent == "finance-bot"]
            approver = p.accounts.authenticate(str(fin.owner), password)
            granted = p.approvals.approve(held[0].id, approver, "invoice acme-001 checked against the order")
            out.print(
                f"approval {granted.id}: {granted.decided_by} approved the held payment"
                f" (signed single-use grant, bound to the call's digest {granted.digest[:12]}…)"
            )
            pay = calls[3]
            run(*pay, "after approval: ")
            run(*pay, "replayed: ")

            # credentials: just in time, for one task, decided by policy, dead when the task ends
            from proctor.credentials.providers.jwt import introspect
            from proctor.errors import CredentialDenied
            from proctor.policy.engine import CredentialRef

            api = "https://payments.acme.test"
            pay_api = CredentialRef("payments-api", "jwt", "payments")
            lease, data = p.credentials.obtain(
                ft.task.id, fin.name, pay_api, {"audience": api, "scope": "transfers:write"}
            )

            def active() -> bool:
                answer = introspect(
                    p.credentials.keys, p.store, data["token"], api, p.clock.now(), issuer=p.audience
                )
                return bool(answer["active"])

            creds = Table("agent", "credential", "outcome", title="Credentials (Cedar action use_credential)")
            creds.add_row(
                "finance-bot",
                "payments-api (jwt)",
                f"[green]lease {lease.id}[/], expires with the task"
                f" ({int(lease.expires_at - p.clock.now())}s); introspection: active={active()}",
            )
            try:
                p.credentials.obtain(st.task.id, sup.name, pay_api, {"audience": api})
            except CredentialDenied as exc:
                creds.add_row("support-bot", "payments-api (jwt)", f"[red]denied[/]: {exc.message}")
            p.agents.set_status("support-bot", AgentStatus.SUSPENDED, reason="demo: kill switch")
            run("support-bot", sup_svid, st.token, "tickets.read", {"ticket": "4411"}, "after suspend: ")
            p.tasks.end(ft.task.id)
            run(
                "finance-bot",
                fin_svid,
                ft.token,
                "invoices.read",
                {"path": "invoices/2026-10/acme-001.pdf"},
                "after task end: ",
            )
            run(
                "finance-bot",
                "not-a-token",
                ft.token,
                "invoices.read",
                {"path": "invoices/2026-10/a.pdf"},
                "forged identity: ",
            )
            out.print(table)
            creds.add_row(
                "finance-bot",
                "payments-api (jwt)",
                f"after task end: lease {p.credentials.leases.get(lease.id).state.value}; introspection: active={active()}",
            )
            out.print(creds)

        if not run_mcp_part(out, ws, str(fin.owner), password):
            return 1
        with Proctor.open(ws, clock=clock) as p:
            report = p.verify_audit()
            db = ws.root / "proctor.db"
            out.print(
                f"\n[bold]proctor audit verify[/]: [green]ok[/], {report.records_checked} records,"
                f" {report.checkpoints_checked} signed checkpoints"
            )
        # tamper with a copy, as someone with file access would
        copy = tmp / "tampered.db"
        src = sqlite3.connect(db)
        dst = sqlite3.connect(copy)
        src.backup(dst)
        src.close()
        row = dst.execute(
            "SELECT seq, body FROM audit_records WHERE decision = 'deny' ORDER BY seq LIMIT 1"
        ).fetchone()
        dst.execute("DROP TRIGGER audit_records_no_update")
        forged = bytes(row[1]).replace(b'"deny"', b'"allow"')
        dst.execute("UPDATE audit_records SET body = ?, decision = 'allow' WHERE seq = ?", (forged, row[0]))
        dst.commit()
        dst.close()
        out.print(f"\ntampering with a copy: record {row[0]} rewritten from deny to allow")
        st2 = open_store(f"sqlite:///{copy}", migrate=False)
        try:
            bad = verify_audit_store(st2, ws.keys_dir)
        finally:
            st2.close()
        if bad.ok:
            out.print("[bold red]verify did not notice the tampering[/]")
            return 1
        first = bad.problems[0]
        out.print(
            f"[bold]proctor audit verify[/] on the copy: [red]FAILED at record {first.seq}[/]: {first.message}"
        )
        out.print(f"\ndone in {clock.monotonic() - started:.1f}s")
        return 0
    finally:
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
