"""Run the official MCP conformance suite (``@modelcontextprotocol/conformance``, server mode) against a URL.

    python tests/conformance_mcp/run.py --url http://127.0.0.1:3001/mcp [--suite all] [--out DIR]
    python tests/conformance_mcp/run.py --fixture     # start tests/fixtures/everything_server.py and test it

From Python: ``run_conformance(url, out_dir, expected_failures=None) -> ConformanceResult``.

Two versions of the suite are installed. The pinned release (``conformance_bin()``, 0.1.16) speaks only
2025-11-25 (the ``initialize`` handshake). The 2026-07-28 (stateless) revision is tested by the next
version, installed beside it under the npm alias ``conformance-next`` (``conformance_next_bin()``, a
0.2.0 alpha): ``run_conformance(url, out, cli=conformance_next_bin(), requirements="2026-07-28")`` runs
exactly the scenarios that revision requires (plus the ones it runs without scoring: extensions, pending)
at the 2026-07-28 wire. From the command line: ``run.py --next --requirements 2026-07-28 ...``.

The suite is a Node program that needs Node >= 22. Both come from ``scripts/ensure-node.sh`` (``make node``)
at fixed paths: Node 22 at ``.tools/node22/bin/node`` (override with ``PROCTOR_NODE22=/path/to/node``) and
the suite at ``tests/node/node_modules/.bin/conformance``. If either is missing this raises
:class:`ConformanceSetupError` saying so: tests fail on it, they never skip.

The suite writes one ``checks.json`` per scenario under ``out_dir``; the result is read from those files
(``SUCCESS`` counts as passed, ``FAILURE`` as failed, ``WARNING`` is reported apart). A scenario the suite
ran but that left no ``checks.json`` (it crashed) counts as one failure.

Expected failures use the suite's own baseline format (so the same file also works with
``conformance server --expected-failures``): a YAML mapping whose ``server`` key lists *scenario* names.
Failing checks of a listed scenario go to ``ConformanceResult.expected``, not ``failed``; a listed scenario
that fully passes is reported in ``stale`` (remove it from the file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE22 = REPO_ROOT / ".tools" / "node22" / "bin" / "node"
CONFORMANCE_BIN = REPO_ROOT / "tests" / "node" / "node_modules" / ".bin" / "conformance"
#: the suite's next version (npm alias in tests/node/package.json); its bin has the same name as the
#: pinned one's, so it is run by path, never through node_modules/.bin
CONFORMANCE_NEXT = REPO_ROOT / "tests" / "node" / "node_modules" / "conformance-next" / "dist" / "index.js"
EXPECTED_FAILURES = Path(__file__).resolve().parent / "expected-failures.yml"
ENV_NODE22 = "PROCTOR_NODE22"
SETUP_HINT = "run `make node` (bash scripts/ensure-node.sh) to install Node 22 and the pinned npm packages"

_RUNNING = re.compile(r"^=== Running scenario: (\S+) ===$", re.MULTILINE)
_DIR_NAME = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


class ConformanceSetupError(RuntimeError):
    """Node 22 or the conformance package is missing or broken."""


class ConformanceRunError(RuntimeError):
    """The suite could not be run to completion (timeout, crash before any scenario)."""


@dataclass
class ConformanceResult:
    passed: int
    """Checks with status SUCCESS."""
    failed: int
    """Checks with status FAILURE (plus crashed scenarios) that the expected-failures file does not cover."""
    failures: list[str]
    """One line per unexpected failure: ``scenario/check-id: message``."""
    expected: list[str] = field(default_factory=list)
    """Failures in scenarios listed in the expected-failures file."""
    stale: list[str] = field(default_factory=list)
    """Scenarios listed as expected failures that passed."""
    warnings: list[str] = field(default_factory=list)
    """Checks with status WARNING (not counted as failures)."""
    scenarios: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per scenario: (passed, failed) checks."""
    statuses: dict[str, str] = field(default_factory=dict)
    """``scenario/check-id`` -> its status (SUCCESS, FAILURE, WARNING, INFO, SKIPPED); a check id the
    scenario reports more than once gets the first non-SUCCESS status it had (FAILURE first)."""
    log: str = ""
    """The suite's combined stdout and stderr."""

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.stale

    def summary(self) -> str:
        lines = [f"{name}: {p} passed, {f} failed" for name, (p, f) in sorted(self.scenarios.items())]
        lines += [f"UNEXPECTED FAILURE {x}" for x in self.failures]
        lines += [f"expected failure {x}" for x in self.expected]
        lines += [f"STALE expected-failure entry (scenario now passes): {x}" for x in self.stale]
        lines += [f"warning {x}" for x in self.warnings]
        lines.append(
            f"total: {self.passed} checks passed, {self.failed} failed unexpectedly, {len(self.expected)} expected"
        )
        return "\n".join(lines)


def node22() -> Path:
    """The Node >= 22 binary to run the suite with; raises ConformanceSetupError if it is missing."""
    node = Path(os.environ.get(ENV_NODE22) or NODE22)
    if not node.exists():
        raise ConformanceSetupError(f"Node 22 not found at {node}: {SETUP_HINT}")
    try:
        version = subprocess.run(
            [str(node), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConformanceSetupError(f"{node} does not run ({exc}): {SETUP_HINT}") from exc
    m = re.match(r"v(\d+)\.", version)
    if not m or int(m.group(1)) < 22:
        raise ConformanceSetupError(
            f"{node} is Node {version}; the conformance suite needs >= 22: {SETUP_HINT}"
        )
    return node


def conformance_bin() -> Path:
    if not CONFORMANCE_BIN.exists():
        raise ConformanceSetupError(
            f"the conformance suite is not installed at {CONFORMANCE_BIN}: {SETUP_HINT}"
        )
    return CONFORMANCE_BIN


def conformance_next_bin() -> Path:
    """The suite's next version (the one that tests 2026-07-28); raises ConformanceSetupError if missing."""
    if not CONFORMANCE_NEXT.exists():
        raise ConformanceSetupError(
            f"the next conformance suite (npm alias conformance-next) is not installed at {CONFORMANCE_NEXT}: "
            f"{SETUP_HINT}"
        )
    return CONFORMANCE_NEXT


def load_expected_failures(path: Path | None) -> set[str]:
    """Scenario names listed under ``server:`` in a suite-format baseline file (empty for None)."""
    if path is None:
        return set()
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data is None:
        return set()
    if not isinstance(data, dict) or not isinstance(data.get("server", []), list):
        raise ValueError(f"{path}: expected a mapping with a 'server' list of scenario names")
    return {str(x) for x in data.get("server") or []}


def _scenario_of(checks_file: Path, out_dir: Path) -> str:
    name = checks_file.relative_to(out_dir).parts[0]
    m = _DIR_NAME.match(name)
    return m.group("scenario") if m else name


def collect_results(out_dir: Path, ran: list[str], expected: set[str], log: str = "") -> ConformanceResult:
    """Build the result from the ``checks.json`` files under ``out_dir`` (``ran``: scenarios the suite ran)."""
    result = ConformanceResult(passed=0, failed=0, failures=[], log=log)
    failing: set[str] = set()
    seen: set[str] = set()
    for checks_file in sorted(out_dir.glob("*/checks.json")):
        scenario = _scenario_of(checks_file, out_dir)
        seen.add(scenario)
        try:
            checks: list[dict[str, Any]] = json.loads(checks_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            checks = [{"id": "checks.json", "status": "FAILURE", "errorMessage": f"unreadable: {exc}"}]
        p = f = 0
        for check in checks:
            status = check.get("status")
            label = f"{scenario}/{check.get('id', '?')}"
            prior = result.statuses.get(label)
            if prior is None or prior == "SUCCESS" or (status == "FAILURE" and prior != "FAILURE"):
                result.statuses[label] = str(status)
            if status == "SUCCESS":
                p += 1
            elif status == "FAILURE":
                f += 1
                message = check.get("errorMessage") or check.get("description") or ""
                (result.expected if scenario in expected else result.failures).append(f"{label}: {message}")
            elif status == "WARNING":
                result.warnings.append(
                    f"{label}: {check.get('errorMessage') or check.get('description') or ''}"
                )
        result.passed += p
        prev = result.scenarios.get(scenario, (0, 0))
        result.scenarios[scenario] = (prev[0] + p, prev[1] + f)
        if f:
            failing.add(scenario)
    for scenario in ran:
        if scenario not in seen:
            failing.add(scenario)
            message = (
                f"{scenario}/(scenario): no checks.json written (the scenario crashed; see the suite log)"
            )
            (result.expected if scenario in expected else result.failures).append(message)
            result.scenarios[scenario] = (0, 1)
    result.failed = len(result.failures)
    result.stale = sorted(s for s in expected if s in seen and s not in failing)
    return result


def run_conformance(
    url: str,
    out_dir: Path,
    expected_failures: Path | None = None,
    *,
    suite: str = "active",
    scenario: str | None = None,
    timeout: float = 300.0,
    cli: Path | None = None,
    requirements: str | None = None,
) -> ConformanceResult:
    """Run the conformance suite against the MCP server at ``url``; results under ``out_dir``.

    ``suite`` is the suite's own choice ("active": the default, "all", "pending"); ``scenario`` runs one.
    ``cli`` is the suite's entry point (default: the pinned release, :func:`conformance_bin`);
    ``requirements`` (a revision such as ``"2026-07-28"``, only with :func:`conformance_next_bin`) runs what
    that revision requires at its wire instead of ``suite`` (with ``scenario``: that one, at that revision).
    Old ``server-*`` result folders in ``out_dir`` are removed first. Raises ConformanceSetupError if Node 22
    or the suite is missing, ConformanceRunError on a timeout or if the suite ran no scenario at all.
    """
    node = node22()
    cli = cli or conformance_bin()
    expected = load_expected_failures(expected_failures)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("server-*"):
        if old.is_dir():
            shutil.rmtree(old)
    cmd = [str(node), str(cli), "server", "--url", url, "-o", str(out_dir)]
    if scenario:
        cmd += ["--scenario", scenario]
        if requirements:
            cmd += ["--spec-version", requirements]
    elif requirements:
        cmd += ["--requirements", requirements]
    else:
        cmd += ["--suite", suite]
    env = dict(os.environ)
    env["PATH"] = f"{node.parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    try:
        proc = subprocess.run(
            cmd,
            cwd=out_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        (out_dir / "conformance.log").write_text(partial, encoding="utf-8")
        raise ConformanceRunError(
            f"the conformance suite did not finish within {timeout:.0f}s (log: {out_dir / 'conformance.log'})"
        ) from exc
    log = proc.stdout or ""
    (out_dir / "conformance.log").write_text(log, encoding="utf-8")
    ran = [scenario] if scenario else _RUNNING.findall(log)
    if not ran and not any(out_dir.glob("*/checks.json")):
        raise ConformanceRunError(
            f"the conformance suite ran no scenario (exit {proc.returncode}):\n{log[-4000:]}"
        )
    return collect_results(out_dir, ran, expected, log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the MCP conformance suite (server mode) against a URL.")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="MCP endpoint, e.g. http://127.0.0.1:3001/mcp")
    target.add_argument("--fixture", action="store_true", help="start tests/fixtures/everything_server.py")
    parser.add_argument("--out", type=Path, help="result folder (default: a new temporary folder)")
    parser.add_argument("--expected-failures", type=Path, help="suite-format baseline YAML (server: [...])")
    parser.add_argument("--suite", default="active", help="active (default), all or pending")
    parser.add_argument("--scenario", help="run one scenario")
    parser.add_argument(
        "--next", action="store_true", help="use the next suite version (conformance-next, tests 2026-07-28)"
    )
    parser.add_argument(
        "--requirements", help="with --next: run what this revision requires, e.g. 2026-07-28"
    )
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    out: Path = args.out or Path(tempfile.mkdtemp(prefix="mcp-conformance-"))

    def run(url: str) -> ConformanceResult:
        return run_conformance(
            url,
            out,
            args.expected_failures,
            suite=args.suite,
            scenario=args.scenario,
            timeout=args.timeout,
            cli=conformance_next_bin() if args.next else None,
            requirements=args.requirements,
        )

    try:
        if args.fixture:
            if str(REPO_ROOT) not in sys.path:
                sys.path.insert(0, str(REPO_ROOT))
            from tests.conformance_mcp.fixture import running_fixture

            out.mkdir(parents=True, exist_ok=True)
            with running_fixture(out / "fixture.log") as url:
                result = run(url)
        else:
            result = run(args.url)
    except (ConformanceSetupError, ConformanceRunError) as exc:
        print(f"conformance: ERROR: {exc}", file=sys.stderr)
        return 2
    print(result.summary())
    print(f"results in {out}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
