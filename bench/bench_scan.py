"""``scan.files`` (issue 18): ``proctor scan`` over a generated tree of 10,000 files. Target <= 10 s.

Run ``python -m bench.bench_scan``. The tree mixes what a repository of agents holds: 40% JSON
(MCP client configurations with servers, env and args; tool listings), 30% YAML agent manifests,
20% ``.env`` files, 10% files the scanner skips by name (source, text); one in fifty carries a
planted secret, one in a hundred an unpinned ``npx`` server. Each run's wall time is one sample
(``p50_us`` is the time of a whole scan); ``ops_per_s`` is files per second.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import row
from proctor.posture.scan import scan

FILES, RUNS = 10_000, 3


def tree(root: Path, n: int = FILES, seed: int = 18) -> int:
    """Write ``n`` files under ``root`` (100 per directory); returns how many carry a planted problem."""
    rnd = random.Random(seed)
    planted = 0
    for i in range(n):
        d = root / f"team{i // 1000}" / f"agent{i // 100}"
        d.mkdir(parents=True, exist_ok=True)
        secret = i % 50 == 0
        planted += secret
        token = f"sk_live_{rnd.getrandbits(128):032x}" if secret else "${API_KEY}"
        kind = i % 10
        if kind < 4:
            pkg = "@acme/mcp-crm" if i % 100 == 1 else "@acme/mcp-crm@1.4.2"
            servers = {
                f"s{j}": {
                    "command": "npx",
                    "args": ["-y", pkg, f"--port={8000 + j}"],
                    "env": {"API_KEY": token, "LOG_LEVEL": "info", "REGION": "eu-west-1"},
                }
                for j in range(3)
            }
            tools = [
                {
                    "name": f"t{j}",
                    "description": "Reads a record from the CRM by id. " * 3,
                    "inputSchema": {"type": "object"},
                }
                for j in range(5)
            ]
            (d / f"mcp{i}.json").write_text(json.dumps({"mcpServers": servers, "tools": tools}, indent=2))
        elif kind < 7:
            (d / f"agent{i}.yaml").write_text(
                f"agent: bot{i}\nowner: ann@acme.test\nenv:\n  API_KEY: '{token}'\n  TIMEOUT: '30'\n"
                + "".join(f"  VAR_{j}: value-{j}\n" for j in range(20))
            )
        elif kind < 9:
            (d / f"svc{i}.env").write_text(
                f"API_KEY={token}\n" + "".join(f"OPT_{j}=x{j}\n" for j in range(30))
            )
        else:
            (d / f"notes{i}.md").write_text("nothing to see here\n" * 20)
    return planted


def bench_scan(tmp: Path) -> list[dict[str, Any]]:
    planted = tree(tmp)
    samples: list[float] = []
    found = 0
    for _ in range(RUNS):
        t0 = time.perf_counter()
        result = scan([tmp], now=time.time(), clients=False)
        samples.append((time.perf_counter() - t0) * 1e6)
        found = sum(1 for f in result.findings if f.rule.id == "secret.static")
    assert found >= planted, (found, planted)  # the bench measures a scan that works
    r = row("scan.files", samples)
    r["ops_per_s"] = round(FILES / (sorted(samples)[len(samples) // 2] / 1e6), 1)
    r["files"] = FILES
    return [r]


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        for r in bench_scan(Path(d)):
            print(json.dumps(r), file=sys.stdout)


if __name__ == "__main__":
    main()
