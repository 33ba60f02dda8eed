"""Findings of the posture scanner: what was found, where, how bad, how to fix it, and which
framework entries it is evidence for.

Framework identifiers are the exact keys of the reference catalogue (OWASP Top 10 for Agentic
Applications ``ASI01``…, OWASP NHI Top 10 ``NHI1:2025``…, OWASP Agentic Threats ``T1``…, NIST AI
RMF ``GOVERN 1.7``…, CSA MAESTRO ``Layer 4`` / ``Cross-Layer: …``, MITRE ATLAS ``AML.T0055``…);
:data:`FRAMEWORK_IDS` lists the ones used here and a test checks each against the catalogue.
Evidence never holds a secret value: a secret is named by its fingerprint (``sha256:`` and 12 hex).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical … 0 for info."""
        return _RANK[self]


_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


@dataclass(frozen=True)
class Rule:
    """One kind of finding: its id, title, default severity, fix and framework identifiers."""

    id: str
    title: str
    severity: Severity
    fix: str
    frameworks: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """One problem found. ``location`` is ``path`` or ``path:line`` or a registry name
    (``agent:billing-bot``); ``evidence`` never holds a secret value."""

    rule: Rule
    location: str
    evidence: str
    severity: Severity | None = None
    subject: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def level(self) -> Severity:
        return self.severity or self.rule.severity

    @property
    def kind(self) -> str:
        return self.rule.id

    def to_dict(self) -> dict[str, Any]:
        path, _, line = self.location.rpartition(":")
        data: dict[str, Any] = {
            "id": self.rule.id,
            "title": self.rule.title,
            "severity": self.level.value,
            "location": self.location,
            "subject": self.subject,
            "evidence": self.evidence,
            "fix": self.rule.fix,
            "frameworks": list(self.rule.frameworks),
        }
        if line.isdigit() and path:
            data["path"], data["line"] = path, int(line)
        return data


_NHI_SECRETS = ("NHI2:2025", "NHI7:2025")

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "secret.static",
            "Long-lived static secret in an agent's configuration",
            Severity.HIGH,
            "Move the secret to `proctor secret put` or a credential provider that mints it per"
            " task, rotate the exposed value, and delete it from the file.",
            (*_NHI_SECRETS, "ASI03", "T3", "MEASURE 2.7", "Layer 4", "AML.T0055", "AML.T0083"),
        ),
        Rule(
            "secret.long-lived-token",
            "Token with no expiry or one far away",
            Severity.HIGH,
            "Issue short-lived tokens (minutes to hours) per task instead; revoke this one.",
            ("NHI7:2025", "ASI03", "T3", "AML.T0091.000", "MEASURE 2.7"),
        ),
        Rule(
            "secret.refresh-token",
            "Refresh token stored in an agent's configuration",
            Severity.HIGH,
            "Keep refresh tokens in the credential broker (Proctor's OAuth grants), never in an"
            " agent's files or environment; revoke this one.",
            (*_NHI_SECRETS, "ASI03", "AML.T0091.000", "AML.T0083"),
        ),
        Rule(
            "secret.shared",
            "The same secret used by two or more agents or servers",
            Severity.HIGH,
            "Give each agent and server its own credential so one compromise does not spread and"
            " calls stay attributable; rotate the shared value.",
            ("NHI9:2025", "NHI8:2025", "ASI03", "T3", "Cross-Layer: Lateral Movement", "AML.T0012"),
        ),
        Rule(
            "credential.personal",
            "A person's credentials used by an agent",
            Severity.HIGH,
            "Replace the person's token or cloud profile with a credential of the agent's own"
            " (a GitHub App installation token, a workload role), scoped to its tasks.",
            ("NHI10:2025", "ASI03", "T9", "AML.T0012", "GOVERN 2.1"),
        ),
        Rule(
            "credential.inherited-service-account",
            "Inherited service account in an agent's environment",
            Severity.MEDIUM,
            "Do not pass the host's cloud or cluster identity to the agent: remove the variable"
            " or file and grant the agent a narrowly scoped identity of its own.",
            ("NHI5:2025", "NHI6:2025", "ASI03", "T3", "Cross-Layer: Privilege Escalation", "AML.T0012"),
        ),
        Rule(
            "agent.no-owner",
            "Agent without an accountable owner",
            Severity.HIGH,
            "Give the agent an owner who holds an approver account, or retire it with"
            " `proctor agent retire NAME`.",
            ("NHI1:2025", "ASI10", "T13", "GOVERN 2.1", "GOVERN 1.7"),
        ),
        Rule(
            "agent.owner-not-approver",
            "Agent whose owner is no longer an approver",
            Severity.HIGH,
            "Hand the agent to a current approver, or retire it with `proctor agent retire NAME`.",
            ("NHI1:2025", "ASI10", "T13", "GOVERN 2.1", "GOVERN 1.7", "MANAGE 2.4"),
        ),
        Rule(
            "agent.idle",
            "Agent idle for a long time: should be retired",
            Severity.MEDIUM,
            "Retire it with `proctor agent retire NAME` (its audit history stays).",
            ("NHI1:2025", "GOVERN 1.7", "MANAGE 2.4", "ASI10"),
        ),
        Rule(
            "task.never-ends",
            "Task that never ends",
            Severity.MEDIUM,
            "End it with `proctor task end ID` and start tasks with a deadline; a task's"
            " permissions should not outlive its work.",
            ("NHI7:2025", "ASI03", "T3", "MANAGE 2.4"),
        ),
        Rule(
            "policy.unconditional-permit",
            "Policy that permits without conditions",
            Severity.HIGH,
            "Narrow the permit to named principals, actions and resources and add a `when`"
            " condition (task scope, resource attributes).",
            ("ASI02", "NHI5:2025", "T2", "GOVERN 1.4", "AML.M0028"),
        ),
        Rule(
            "policy.no-approval-path",
            "Write, execute, send, pay or deploy permitted with no approval path",
            Severity.HIGH,
            "Add an `@approval(...)` permit for the action (see the starter's 20-approvals.cedar)"
            " so risky calls can wait for a person.",
            ("ASI09", "ASI02", "T2", "MAP 3.5", "AML.M0029"),
        ),
        Rule(
            "policy.unused-permit",
            "Permit unused for a long time",
            Severity.LOW,
            "Remove the permit, or narrow it to what is used: a permission nobody needs is"
            " standing privilege.",
            ("NHI5:2025", "ASI03", "T3", "GOVERN 1.5", "AML.M0026"),
        ),
        Rule(
            "upstream.unpinned",
            "MCP server not pinned to a version",
            Severity.MEDIUM,
            "Pin the package (`npx -y pkg@1.2.3`, `uvx pkg==1.2.3`) and its tools (`proctor tools pin`).",
            (
                "ASI04",
                "NHI3:2025",
                "GOVERN 6.1",
                "MANAGE 3.1",
                "Cross-Layer: Supply Chain Attacks",
                "AML.T0010.005",
                "AML.T0109",
            ),
        ),
        Rule(
            "tool.poisoned-description",
            "Tool description carrying instructions to the model",
            Severity.CRITICAL,
            "Do not pin or offer this tool; report the server. Review every description before"
            " `proctor tools pin`.",
            ("ASI01", "ASI04", "T6", "Layer 3", "AML.T0110", "AML.T0051.001"),
        ),
        Rule(
            "tool.pin-changed",
            "Tool whose pinned definition changed",
            Severity.HIGH,
            "Review the change with `proctor tools diff`; re-pin only if it is expected.",
            ("ASI04", "AML.T0109", "AML.T0110", "MANAGE 3.1"),
        ),
    )
}

#: every framework identifier a rule uses (checked against the reference catalogue by a test)
FRAMEWORK_IDS = frozenset(i for r in RULES.values() for i in r.frameworks)


def finding(rule_id: str, location: str, evidence: str, **kw: Any) -> Finding:
    return Finding(RULES[rule_id], location, evidence, **kw)


__all__ = ["FRAMEWORK_IDS", "RULES", "Finding", "Rule", "Severity", "finding"]
