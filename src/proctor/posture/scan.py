"""``proctor scan``: run every check and gather the findings (see ADR 0033).

Files (MCP client configurations, ``.env`` files, agent manifests, ``upstreams.yaml``) are read by
:mod:`proctor.posture.files`; Proctor's registry, audit log, policies and pins by
:mod:`proctor.posture.registry`. Secrets seen in two or more places are matched here by
fingerprint. The scan reads only: it changes nothing and records nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proctor.posture.files import FileScan, client_config_paths, scan_environment, scan_paths
from proctor.posture.findings import Finding, Severity, finding
from proctor.posture.registry import (
    agent_findings,
    pin_findings,
    policy_findings,
    summarize_audit,
    unused_permits,
)


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    scanned: list[str] = field(default_factory=list)

    def at_or_above(self, level: Severity) -> list[Finding]:
        return [f for f in self.findings if f.level.rank >= level.rank]


def shared_secrets(files: FileScan) -> list[Finding]:
    """One finding per secret fingerprint seen under two or more subjects (agents, servers)."""
    by_fp: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for fp, subject, loc, _what in files.secrets:
        by_fp[fp].append((subject, loc))
    out: list[Finding] = []
    for fp, uses in sorted(by_fp.items()):
        subjects = sorted({s for s, _ in uses})
        if len(subjects) >= 2:
            names = ", ".join(s[:60] for s in subjects[:4]) + (" …" if len(subjects) > 4 else "")
            out.append(
                finding(
                    "secret.shared",
                    uses[0][1],
                    f"{fp} used by {len(subjects)}: {names}",
                    subject=fp,
                    extra={"locations": [loc for _, loc in uses]},
                )
            )
    return out


def scan(
    paths: Sequence[Path],
    *,
    now: float,
    proctor: Any | None = None,
    clients: bool = True,
    live: bool = False,
    idle_days: float = 30.0,
    task_max_days: float = 7.0,
    unused_days: float = 30.0,
    env: Mapping[str, str] | None = None,
) -> ScanResult:
    """Scan ``paths`` (and the usual MCP client configurations when ``clients``), and, given an
    open ``proctor``, its workspace's upstreams, registry, audit log, policies and pins; given
    ``env``, that environment as an agent's. ``live``
    lists each upstream's tools to compare them with their pins (starts stdio upstreams)."""
    targets = list(paths)
    if clients:
        targets += client_config_paths()
    if proctor is not None and proctor.workspace is not None:
        up = proctor.workspace.root / "upstreams.yaml"
        if up.is_file():
            targets.append(up)
    seen: set[Path] = set()
    unique = []
    for t in targets:
        key = t.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(t)
    files = FileScan()
    if env is not None:
        scan_environment(env, files, now)
    scan_paths(unique, now, files)
    result = ScanResult(files=files.files, scanned=[str(t) for t in unique])
    result.findings.extend(files.findings)
    result.findings.extend(shared_secrets(files))
    for t in paths:  # a policy directory given on the command line
        if t.is_dir() and any(t.glob("*.cedar")):
            result.findings.extend(policy_findings(t))
    if proctor is not None:
        result.findings.extend(_registry(proctor, now, live, idle_days, task_max_days, unused_days))
    result.findings.sort(key=lambda f: (-f.level.rank, f.rule.id, f.location, f.evidence))
    return result


def _registry(
    p: Any, now: float, live: bool, idle_days: float, task_max_days: float, unused_days: float
) -> list[Finding]:
    store = p.store
    audit = summarize_audit(store.iter_audit())
    out = agent_findings(
        store.list_agents(),
        store.list_users(),
        p.tasks.list(state="active"),
        audit.agents,
        now,
        idle_days=idle_days,
        task_max_days=task_max_days,
    )
    if p.workspace is not None and p.workspace.policies_dir.is_dir():
        out.extend(policy_findings(p.workspace.policies_dir))
        out.extend(unused_permits(p.workspace.policies_dir, audit, now, unused_days=unused_days))
    pins = p.tools.pins()
    current: dict[str, dict[str, Any]] | None = None
    if live and pins and p.workspace is not None:
        current = _discover(p.workspace.root)
    out.extend(pin_findings(pins, current))
    return out


def _discover(root: Path) -> dict[str, dict[str, Any]]:
    """What every upstream lists now, by Proctor tool name (an upstream that fails is skipped)."""
    from proctor.errors import ProctorError
    from proctor.gateway.config import load_upstreams
    from proctor.gateway.discovery import discover_sync
    from proctor.gateway.pinning import pin_name, tool_definition

    current: dict[str, dict[str, Any]] = {}
    for cfg in load_upstreams(root):
        try:
            tools = discover_sync(cfg)
        except ProctorError:
            continue
        for tool in tools:
            try:
                current[str(pin_name(cfg.namespace, tool.name))] = tool_definition(tool)
            except ProctorError:
                continue
    return current


__all__ = ["ScanResult", "scan", "shared_secrets"]
