"""One benchmark row from timing samples, the shape every ``bench_*`` function returns."""

from __future__ import annotations

from typing import Any


def row(name: str, samples_us: list[float], total_s: float | None = None) -> dict[str, Any]:
    """``{"name", "p50_us", "p99_us", "ops_per_s"}``; ``total_s`` defaults to the samples' sum.

    >>> row("x", [1.0, 2.0, 3.0, 4.0])
    {'name': 'x', 'p50_us': 3.0, 'p99_us': 4.0, 'ops_per_s': 400000.0}
    """
    data = sorted(samples_us)
    n = len(data)
    total = sum(data) / 1e6 if total_s is None else total_s
    return {
        "name": name,
        "p50_us": round(data[n // 2], 2),
        "p99_us": round(data[min(n - 1, int(n * 0.99))], 2),
        "ops_per_s": round(n / total, 1),
    }
