"""The MCP conformance suite against Proctor's fixture server, directly (no gateway in between).

This is the baseline the gateway's conformance test compares with. It needs Node 22 and the pinned npm
packages from ``scripts/ensure-node.sh`` (``make node``, which ``make test`` runs first): if they are missing
the test fails with that instruction, it never skips.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.conformance_mcp.fixture import fixture_url, free_port, start_fixture, stop_fixture
from tests.conformance_mcp.run import EXPECTED_FAILURES, conformance_bin, node22, run_conformance

# Checks in the active suite of @modelcontextprotocol/conformance 0.1.16 (the python-sdk fixture gets 40 too).
ACTIVE_SUITE_CHECKS = 40


def test_fixture_passes_conformance_directly(tmp_path: Path) -> None:
    node22()  # fail early, with the install hint, when Node 22 or the suite is missing
    conformance_bin()
    port = free_port()
    proc = start_fixture(port, log_path=tmp_path / "fixture.log")
    try:
        started = time.monotonic()
        result = run_conformance(fixture_url(port), tmp_path / "results", EXPECTED_FAILURES, timeout=120)
        elapsed = time.monotonic() - started
    finally:
        stop_fixture(proc)
    report = f"{result.summary()}\n(suite took {elapsed:.1f}s; results in {tmp_path})"
    assert result.failed == 0, report
    assert not result.stale, report
    assert result.passed >= ACTIVE_SUITE_CHECKS, report
