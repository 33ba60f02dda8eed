"""Scan results as JSON and as SARIF 2.1.0 (what code-scanning services read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from proctor.posture.findings import RULES, Finding, Severity
from proctor.posture.scan import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
#: GitHub code scanning reads `security-severity` (0.0-10.0) from a rule's properties
_SCORE = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def to_json(result: ScanResult) -> dict[str, Any]:
    counts = {s.value: 0 for s in Severity}
    for f in result.findings:
        counts[f.level.value] += 1
    return {
        "files_scanned": result.files,
        "counts": counts,
        "findings": [f.to_dict() for f in result.findings],
    }


def _location(f: Finding) -> dict[str, Any]:
    path, _, line = f.location.rpartition(":")
    if line.isdigit() and path:
        return {
            "physicalLocation": {
                "artifactLocation": {"uri": Path(path).as_posix()},
                "region": {"startLine": int(line)},
            }
        }
    if "/" in f.location or f.location.endswith((".json", ".yaml", ".yml", ".env", ".toml")):
        return {"physicalLocation": {"artifactLocation": {"uri": Path(f.location).as_posix()}}}
    return {"logicalLocations": [{"fullyQualifiedName": f.location, "kind": "resource"}]}


def to_sarif(result: ScanResult, version: str = "unknown") -> dict[str, Any]:
    used = sorted({f.rule.id for f in result.findings})
    rules = [RULES[r] for r in used]
    index = {r: i for i, r in enumerate(used)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "proctor-scan",
                        "version": version,
                        "rules": [
                            {
                                "id": r.id,
                                "name": r.id.replace(".", "-"),
                                "shortDescription": {"text": r.title},
                                "help": {"text": r.fix},
                                "defaultConfiguration": {"level": _LEVEL[r.severity]},
                                "properties": {
                                    "tags": ["security", *r.frameworks],
                                    "security-severity": _SCORE[r.severity],
                                },
                            }
                            for r in rules
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": f.rule.id,
                        "ruleIndex": index[f.rule.id],
                        "level": _LEVEL[f.level],
                        "message": {"text": f"{f.rule.title}: {f.evidence}. Fix: {f.rule.fix}"},
                        "locations": [_location(f)],
                        "properties": {"severity": f.level.value, "frameworks": list(f.rule.frameworks)},
                    }
                    for f in result.findings
                ],
            }
        ],
    }


__all__ = ["to_json", "to_sarif"]
