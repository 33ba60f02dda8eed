"""Every read of the time goes through the injected clock (:mod:`proctor.clock`): no other module
calls ``time.time``, ``time.monotonic``, ``time.perf_counter`` or ``datetime.now``, except the
modules listed in ``PENDING`` that other work is rewriting (the list only shrinks)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "proctor"

READS = frozenset(
    {
        "time",
        "time_ns",
        "monotonic",
        "monotonic_ns",
        "perf_counter",
        "perf_counter_ns",
        "process_time",
        "now",
        "utcnow",
        "today",
    }
)
#: module (relative to src/proctor) -> how many reads it still has
PENDING = {
    "audit/log.py": 4,  # the writer thread's wait deadlines (condition waits run in real time)
    "audit/witness.py": 1,  # the lagging witness's retry pace, on the writer thread
    "store/postgres.py": 2,
    "flow/service.py": 2,  # Flow.settle's wait for the writer thread (a real-time deadline, like the audit writer's)
}


def time_reads(tree: ast.AST) -> list[int]:
    """Lines that read the clock: ``time.x()``/``datetime.x()`` calls and names imported from them."""
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in {"time", "datetime"}:
            imported |= {a.asname or a.name for a in node.names if a.name in READS}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in READS:
            base = f.value
            name = (
                base.id
                if isinstance(base, ast.Name)
                else base.attr
                if isinstance(base, ast.Attribute)
                else ""
            )
            if name in {"time", "datetime", "date", "dt"}:
                lines.append(node.lineno)
        elif isinstance(f, ast.Name) and f.id in imported:
            lines.append(node.lineno)
    return lines


def test_only_the_clock_reads_the_time() -> None:
    """A new ``time.time()`` (or the like) outside ``clock.py`` fails, naming the file and line."""
    found: dict[str, list[int]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "clock.py":
            continue
        lines = time_reads(ast.parse(path.read_text(), str(path)))
        if lines:
            found[rel] = lines
    assert {k: len(v) for k, v in found.items()} == PENDING, found


def test_the_scan_sees_every_spelling() -> None:
    """Attribute calls, `from time import monotonic` and `datetime.datetime.now` are all found."""
    code = (
        "import time, datetime\nfrom time import monotonic as m\n"
        "time.time()\nm()\ndatetime.datetime.now()\nclock.now()\ntime.sleep(1)\n"
    )
    assert time_reads(ast.parse(code)) == [3, 4, 5]
