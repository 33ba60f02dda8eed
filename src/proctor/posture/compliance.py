"""``proctor report compliance``: each Proctor control's status from live evidence in a workspace
(the audit log, approvals, leases, the registry, the audit chain's verification and the posture
scan's open findings), mapped to the exact identifiers of the reference catalogue (OWASP Top 10 for
Agentic Applications, OWASP NHI Top 10, OWASP Agentic Threats, NIST AI RMF 1.0, CSA MAESTRO, MITRE
ATLAS). See ADR 0033. The report reads only: it changes nothing and records nothing.

Rendering (HTML with inline SVG charts, Markdown) is in :mod:`proctor.posture.compliance_render`.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from proctor.posture.findings import Finding, Severity
from proctor.store.base import AuditRow

#: framework key (as in the reference catalogue) -> its display name and an identifier test
FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("OWASP_Top10_Agentic_Applications_2026", "OWASP Top 10 for Agentic Applications"),
    ("OWASP_NHI_Top10_2025", "OWASP NHI Top 10 (2025)"),
    ("OWASP_Agentic_AI_Threats_and_Mitigations_v1.0", "OWASP Agentic Threats T1-T15"),
    ("NIST_AI_RMF_1.0", "NIST AI RMF 1.0"),
    ("CSA_MAESTRO", "CSA MAESTRO"),
    ("MITRE_ATLAS", "MITRE ATLAS"),
)

VERDICTS = ("allow", "deny", "approval_required")


def framework_of(ident: str) -> str:
    """The catalogue key an identifier belongs to (by its shape)."""
    if ident.startswith("ASI"):
        return FRAMEWORKS[0][0]
    if ident.startswith("NHI"):
        return FRAMEWORKS[1][0]
    if ident[:1] == "T" and ident[1:].isdigit():
        return FRAMEWORKS[2][0]
    if ident.split(" ", maxsplit=1)[0] in ("GOVERN", "MAP", "MEASURE", "MANAGE"):
        return FRAMEWORKS[3][0]
    if ident.startswith(("Layer ", "Cross-Layer: ")):
        return FRAMEWORKS[4][0]
    if ident.startswith("AML."):
        return FRAMEWORKS[5][0]
    raise ValueError(f"unknown framework identifier {ident!r}")


@dataclass(frozen=True)
class ControlDef:
    id: str
    title: str
    frameworks: tuple[str, ...]


#: Proctor's controls and the catalogue identifiers each one is evidence for
CONTROLS: tuple[ControlDef, ...] = (
    ControlDef(
        "task-scoped-credentials",
        "Calls made under task-scoped credentials",
        ("ASI03", "NHI5:2025", "NHI7:2025", "T3", "GOVERN 1.4", "MANAGE 2.4", "Layer 4", "AML.M0026"),
    ),
    ControlDef(
        "policy-enforcement",
        "Every tool call decided by policy (allow / deny / approval)",
        ("ASI02", "ASI05", "T2", "T11", "MAP 3.5", "Layer 3", "AML.T0053", "AML.M0028", "AML.M0030"),
    ),
    ControlDef(
        "agent-ownership",
        "Every agent has an accountable owner who is an approver",
        ("NHI1:2025", "ASI10", "T13", "GOVERN 1.7", "GOVERN 2.1", "AML.T0103"),
    ),
    ControlDef(
        "human-approval",
        "Risky calls wait for a person; response times tracked",
        ("ASI09", "T10", "T15", "MAP 3.5", "MANAGE 2.3", "Layer 7", "AML.M0029"),
    ),
    ControlDef(
        "audit-integrity",
        "Tamper-evident audit chain, signed checkpoints verified",
        ("T8", "MEASURE 2.8", "GOVERN 4.3", "Layer 5", "Layer 6", "AML.M0024"),
    ),
    ControlDef(
        "posture-findings",
        "No open posture findings (`proctor scan`)",
        (
            "NHI2:2025",
            "NHI9:2025",
            "ASI04",
            "T9",
            "MEASURE 2.7",
            "Cross-Layer: Supply Chain Attacks",
            "AML.T0055",
        ),
    ),
)

#: every framework identifier the report uses directly (a test checks them against the catalogue)
CONTROL_IDS = frozenset(i for c in CONTROLS for i in c.frameworks)

MET, ATTENTION, NO_EVIDENCE = "met", "attention", "no evidence"


@dataclass
class Control:
    id: str
    title: str
    status: str
    summary: str
    evidence: dict[str, Any]
    frameworks: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "evidence": self.evidence,
            "frameworks": self.frameworks,
        }


@dataclass
class Evidence:
    """What the workspace shows, gathered once; :func:`build` turns it into controls."""

    now: float
    decisions: Counter[str] = field(default_factory=Counter)
    with_task: int = 0
    without_task: int = 0
    #: (bucket start, verdict) -> count
    timeline: dict[float, Counter[str]] = field(default_factory=dict)
    bucket_s: float = 86400.0
    leases_issued: int = 0
    leases_active: int = 0
    leases_by_kind: Counter[str] = field(default_factory=Counter)
    agents: int = 0
    ownerless: list[str] = field(default_factory=list)
    owner_not_approver: list[str] = field(default_factory=list)
    approvals_total: int = 0
    approvals_by_state: Counter[str] = field(default_factory=Counter)
    response_times: list[float] = field(default_factory=list)
    audit_ok: bool | None = None
    audit_records: int = 0
    audit_head: int = 0
    audit_checkpoint: int | None = None
    audit_checkpoint_ts: float | None = None
    audit_unsigned_tail: int = 0
    audit_problems: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def summarize_decisions(rows: Iterable[AuditRow], ev: Evidence) -> None:
    """Count decision records by verdict and by whether the call ran under a task, and bucket
    them in time (by hour when the log spans under two days, else by day)."""
    decisions = [(r.ts, r.decision or "unknown", bool(r.task)) for r in rows if r.kind == "decision"]
    for _, verdict, tasked in decisions:
        ev.decisions[verdict] += 1
        if tasked:
            ev.with_task += 1
        else:
            ev.without_task += 1
    if decisions:
        span = max(t for t, _, _ in decisions) - min(t for t, _, _ in decisions)
        ev.bucket_s = 3600.0 if span < 2 * 86400 else 86400.0
    buckets: dict[float, Counter[str]] = defaultdict(Counter)
    for ts, verdict, _ in decisions:
        buckets[ts - ts % ev.bucket_s][verdict] += 1
    ev.timeline = dict(sorted(buckets.items()))


def gather(proctor: Any, findings: Sequence[Finding], now: float) -> Evidence:
    """Read the evidence of an open :class:`proctor.app.Proctor` (``findings``: from the scan)."""
    store = proctor.store
    proctor.audit.flush()
    ev = Evidence(now=now, findings=list(findings))
    summarize_decisions(store.iter_audit(), ev)
    for lease in store.list_leases():
        ev.leases_issued += 1
        ev.leases_by_kind[lease.kind] += 1
        if str(getattr(lease.state, "value", lease.state)) == "active":
            ev.leases_active += 1
    agents = store.list_agents()
    ev.agents = len(agents)
    # the scan's judgement (no owner, or an owner who is no longer an approver), never a second one
    ev.ownerless = sorted({f.subject or f.location for f in findings if f.rule.id == "agent.no-owner"})
    ev.owner_not_approver = sorted(
        {f.subject or f.location for f in findings if f.rule.id == "agent.owner-not-approver"}
    )
    approvals = store.list_approvals(limit=1_000_000)
    ev.approvals_total = len(approvals)
    for a in approvals:
        ev.approvals_by_state[a.state] += 1
        if a.decided_at is not None:
            ev.response_times.append(max(0.0, a.decided_at - a.created_at))
    report = proctor.verify_audit()
    ev.audit_ok = report.ok
    ev.audit_records = report.records_checked
    ev.audit_head = report.head_seq
    ev.audit_unsigned_tail = report.unsigned_tail
    ev.audit_problems = [f"{p.code}: {p.message}" for p in report.problems][:20]
    covered = [c for c in store.list_checkpoints() if c.seq <= report.head_seq]
    if covered and report.checkpoints_checked:
        last = max(covered, key=lambda c: c.seq)
        ev.audit_checkpoint, ev.audit_checkpoint_ts = last.seq, last.ts
    return ev


def _pct(n: int, d: int) -> float | None:
    return None if d == 0 else round(100.0 * n / d, 1)


def build(ev: Evidence) -> list[Control]:
    """Each control's status from the evidence."""
    defs = {c.id: c for c in CONTROLS}
    out: list[Control] = []

    def add(cid: str, status: str, summary: str, evidence: dict[str, Any]) -> None:
        d = defs[cid]
        out.append(Control(d.id, d.title, status, summary, evidence, list(d.frameworks)))

    calls = ev.with_task + ev.without_task
    share = _pct(ev.with_task, calls)
    add(
        "task-scoped-credentials",
        NO_EVIDENCE if calls == 0 else (MET if ev.without_task == 0 else ATTENTION),
        "no calls recorded"
        if calls == 0
        else f"{ev.with_task} of {calls} calls under a task ({share}%); {ev.leases_issued} credential leases",
        {
            "calls": calls,
            "calls_with_task": ev.with_task,
            "calls_without_task": ev.without_task,
            "share_with_task_pct": share,
            "leases_issued": ev.leases_issued,
            "leases_active": ev.leases_active,
            "leases_by_kind": dict(sorted(ev.leases_by_kind.items())),
        },
    )
    counts = {v: ev.decisions.get(v, 0) for v in VERDICTS}
    add(
        "policy-enforcement",
        NO_EVIDENCE if calls == 0 else MET,
        "no calls recorded" if calls == 0 else ", ".join(f"{n} {v}" for v, n in counts.items()),
        {"decisions": counts, "other": calls - sum(counts.values())},
    )
    add(
        "agent-ownership",
        NO_EVIDENCE if ev.agents == 0 else (ATTENTION if ev.ownerless or ev.owner_not_approver else MET),
        "no agents registered"
        if ev.agents == 0
        else f"{len(ev.ownerless) + len(ev.owner_not_approver)} of {ev.agents} agents without an"
        " accountable owner",
        {"agents": ev.agents, "without_owner": ev.ownerless, "owner_not_approver": ev.owner_not_approver},
    )
    rt = sorted(ev.response_times)
    pending = ev.approvals_by_state.get("pending", 0)
    add(
        "human-approval",
        NO_EVIDENCE if ev.approvals_total == 0 else (MET if rt else ATTENTION),
        "no approvals requested"
        if ev.approvals_total == 0
        else f"{ev.approvals_total} requested, {len(rt)} decided"
        + (f", median response {statistics.median(rt):.0f} s" if rt else ""),
        {
            "requested": ev.approvals_total,
            "by_state": dict(sorted(ev.approvals_by_state.items())),
            "decided": len(rt),
            "pending": pending,
            "response_s": {
                "median": statistics.median(rt) if rt else None,
                "p95": rt[min(len(rt) - 1, int(0.95 * len(rt)))] if rt else None,
                "max": rt[-1] if rt else None,
                "min": rt[0] if rt else None,
            },
        },
    )
    add(
        "audit-integrity",
        NO_EVIDENCE
        if ev.audit_ok is None
        else (MET if ev.audit_ok and ev.audit_checkpoint is not None else ATTENTION),
        "not verified"
        if ev.audit_ok is None
        else (
            f"chain {'intact' if ev.audit_ok else 'BROKEN'}: {ev.audit_records} records,"
            + (
                f" verified up to checkpoint at seq {ev.audit_checkpoint}"
                if ev.audit_checkpoint is not None
                else " no checkpoint verified"
            )
        ),
        {
            "ok": ev.audit_ok,
            "records_checked": ev.audit_records,
            "head_seq": ev.audit_head,
            "verified_checkpoint_seq": ev.audit_checkpoint,
            "verified_checkpoint_ts": ev.audit_checkpoint_ts,
            "unsigned_tail": ev.audit_unsigned_tail,
            "problems": ev.audit_problems,
        },
    )
    sev = severity_counts(ev.findings)
    add(
        "posture-findings",
        MET if not ev.findings else ATTENTION,
        "no open findings"
        if not ev.findings
        else f"{len(ev.findings)} open findings (" + ", ".join(f"{n} {s}" for s, n in sev.items() if n) + ")",
        {"by_severity": sev, "by_rule": dict(sorted(Counter(f.rule.id for f in ev.findings).items()))},
    )
    # a finding is evidence against the identifiers its rule maps to: add them to the control
    posture = out[-1]
    for f in ev.findings:
        for ident in f.rule.frameworks:
            if ident not in posture.frameworks:
                posture.frameworks.append(ident)
    return out


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.level.value] += 1
    return counts


def coverage(controls: Sequence[Control]) -> list[dict[str, Any]]:
    """Per framework: the controls mapped to it and how many of those have live evidence."""
    rows = []
    for key, name in FRAMEWORKS:
        mapped = [c for c in controls if any(framework_of(i) == key for i in c.frameworks)]
        with_ev = [c for c in mapped if c.status != NO_EVIDENCE]
        ids = sorted({i for c in mapped for i in c.frameworks if framework_of(i) == key})
        rows.append(
            {
                "framework": key,
                "name": name,
                "controls": len(mapped),
                "with_evidence": len(with_ev),
                "met": sum(1 for c in mapped if c.status == MET),
                "identifiers": ids,
            }
        )
    return rows


def compliance_report(ev: Evidence, *, workspace: str = "") -> dict[str, Any]:
    """The whole report as a JSON-ready dict (what every format renders)."""
    controls = build(ev)
    return {
        "generated_at": ev.now,
        "workspace": workspace,
        "controls": [c.to_dict() for c in controls],
        "coverage": coverage(controls),
        "findings": [f.to_dict() for f in ev.findings],
        "findings_by_severity": severity_counts(ev.findings),
        "calls_over_time": {
            "bucket_s": ev.bucket_s,
            "buckets": [
                {"start": start, **{v: c.get(v, 0) for v in VERDICTS}} for start, c in ev.timeline.items()
            ],
        },
    }


__all__ = [
    "CONTROLS",
    "CONTROL_IDS",
    "FRAMEWORKS",
    "Control",
    "Evidence",
    "build",
    "compliance_report",
    "coverage",
    "framework_of",
    "gather",
    "summarize_decisions",
]
