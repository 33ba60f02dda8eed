"""The compliance report (:mod:`proctor.posture.compliance`) as one self-contained HTML file (inline
CSS and SVG charts drawn here: no script, font or remote resource) and as Markdown.

Every value is escaped: agent names, purposes and finding evidence are attacker-influenced."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

_SEV_COLOR = {
    "critical": "#7f1d1d",
    "high": "#dc2626",
    "medium": "#f59e0b",
    "low": "#0ea5e9",
    "info": "#9ca3af",
}
_VERDICT_COLOR = {"allow": "#16a34a", "deny": "#dc2626", "approval_required": "#f59e0b"}
_STATUS_COLOR = {"met": "#16a34a", "attention": "#dc2626", "no evidence": "#9ca3af"}


def e(value: object) -> str:
    return escape(str(value), quote=True)


def _when(ts: float | None) -> str:
    if ts is None:
        return "—"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _hbars(title: str, rows: list[tuple[str, float, float, str, str]]) -> str:
    """Horizontal bars: (label, value, max, color, caption)."""
    h = 28 * len(rows) + 36
    parts = [
        f'<svg class="chart" role="img" aria-label="{e(title)}" width="640" height="{h}"'
        f' viewBox="0 0 640 {h}" xmlns="http://www.w3.org/2000/svg">',
        f'<title>{e(title)}</title><text x="0" y="16" font-weight="bold">{e(title)}</text>',
    ]
    for i, (label, value, top, color, caption) in enumerate(rows):
        y = 28 + 28 * i
        w = 0.0 if top <= 0 else 300.0 * value / top
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12">{e(label[:38])}</text>'
            f'<rect x="250" y="{y}" width="300" height="20" fill="#eee"/>'
            f'<rect x="250" y="{y}" width="{w:.1f}" height="20" fill="{e(color)}"/>'
            f'<text x="556" y="{y + 15}" font-size="12">{e(caption)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _coverage_chart(report: dict[str, Any]) -> str:
    rows = [
        (
            r["name"],
            float(r["with_evidence"]),
            float(r["controls"]),
            "#2563eb",
            f"{r['with_evidence']}/{r['controls']} ({r['met']} met)",
        )
        for r in report["coverage"]
    ]
    return _hbars("Coverage per framework (controls with evidence / mapped)", rows)


def _severity_chart(report: dict[str, Any]) -> str:
    counts: dict[str, int] = report["findings_by_severity"]
    top = float(max(counts.values(), default=0) or 1)
    rows = [(s, float(n), top, _SEV_COLOR.get(s, "#999"), str(n)) for s, n in counts.items()]
    return _hbars("Open findings by severity", rows)


def _timeline_chart(report: dict[str, Any]) -> str:
    buckets: list[dict[str, Any]] = report["calls_over_time"]["buckets"]
    width, height, left, base = 640, 240, 40, 200
    title = "Calls by decision over time"
    parts = [
        f'<svg class="chart" role="img" aria-label="{title}" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title>{title}</title><text x="0" y="16" font-weight="bold">{title}</text>',
        f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#555"/>',
    ]
    verdicts = ("allow", "deny", "approval_required")
    top = max((sum(int(b[v]) for v in verdicts) for b in buckets), default=0)
    if not buckets or top == 0:
        parts.append(f'<text x="{left}" y="120">no calls recorded</text>')
    else:
        slot = (width - left - 10) / len(buckets)
        bar = max(2.0, min(40.0, slot * 0.8))
        parts.append(f'<text x="0" y="{base - 160 + 4}" font-size="11">{top}</text>')
        for i, b in enumerate(buckets):
            x = left + i * slot + (slot - bar) / 2
            y = float(base)
            for v in verdicts:
                n = int(b[v])
                if not n:
                    continue
                hgt = 160.0 * n / top
                y -= hgt
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{hgt:.1f}"'
                    f' fill="{_VERDICT_COLOR[v]}"><title>{e(v)}: {n}</title></rect>'
                )
        step = max(1, len(buckets) // 6)
        for i in range(0, len(buckets), step):
            x = left + i * slot
            parts.append(
                f'<text x="{x:.1f}" y="{base + 16}" font-size="10">{e(_when(buckets[i]["start"])[5:16])}</text>'
            )
    for j, v in enumerate(verdicts):
        x = left + j * 150
        parts.append(
            f'<rect x="{x}" y="222" width="12" height="12" fill="{_VERDICT_COLOR[v]}"/>'
            f'<text x="{x + 16}" y="232" font-size="12">{e(v)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _evidence_cell(ev: dict[str, Any]) -> str:
    items = []
    for k, value in ev.items():
        shown = value
        if isinstance(value, dict):
            shown = ", ".join(f"{a}: {b}" for a, b in value.items()) or "—"
        elif isinstance(value, list):
            shown = ", ".join(str(x) for x in value) or "—"
        items.append(f"<li><b>{e(k)}</b>: {e(shown)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#111;max-width:1100px}
h1{margin-bottom:.2rem} .meta{color:#555} .charts{display:flex;flex-wrap:wrap;gap:1.5rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f4f6} ul{margin:0;padding-left:1rem} .status{font-weight:bold;color:#fff;padding:.1rem .4rem;border-radius:.3rem}
code{font-size:.85em}
"""


def to_html(report: dict[str, Any]) -> str:
    ctl_rows = "".join(
        "<tr>"
        f"<td>{e(c['title'])}<br><code>{e(c['id'])}</code></td>"
        f'<td><span class="status" style="background:{_STATUS_COLOR.get(c["status"], "#999")}">'
        f"{e(c['status'])}</span></td>"
        f"<td>{e(c['summary'])}{_evidence_cell(c['evidence'])}</td>"
        f"<td>{e(', '.join(c['frameworks']))}</td>"
        "</tr>"
        for c in report["controls"]
    )
    cov_rows = "".join(
        f"<tr><td>{e(r['name'])}</td><td>{e(r['with_evidence'])} / {e(r['controls'])}</td>"
        f"<td>{e(r['met'])}</td><td>{e(', '.join(r['identifiers']))}</td></tr>"
        for r in report["coverage"]
    )
    find_rows = (
        "".join(
            f"<tr><td>{e(f['severity'])}</td><td><code>{e(f['id'])}</code></td><td>{e(f['location'])}</td>"
            f"<td>{e(f['evidence'])}</td><td>{e(f['fix'])}</td><td>{e(', '.join(f['frameworks']))}</td></tr>"
            for f in report["findings"]
        )
        or '<tr><td colspan="6">no open findings</td></tr>'
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<title>Proctor compliance report</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>Proctor compliance report</h1>"
        f'<p class="meta">Workspace {e(report["workspace"])} · generated {e(_when(report["generated_at"]))}</p>'
        '<section class="charts">'
        f"{_coverage_chart(report)}{_severity_chart(report)}{_timeline_chart(report)}"
        "</section>"
        '<h2>Controls</h2><table id="controls"><thead><tr><th>Control</th><th>Status</th>'
        "<th>Evidence</th><th>Framework identifiers</th></tr></thead><tbody>"
        f"{ctl_rows}</tbody></table>"
        '<h2>Coverage per framework</h2><table id="coverage"><thead><tr><th>Framework</th>'
        "<th>Controls with evidence</th><th>Met</th><th>Identifiers</th></tr></thead><tbody>"
        f"{cov_rows}</tbody></table>"
        '<h2>Open findings</h2><table id="findings"><thead><tr><th>Severity</th><th>Rule</th>'
        "<th>Where</th><th>Evidence</th><th>Fix</th><th>Frameworks</th></tr></thead><tbody>"
        f"{find_rows}</tbody></table>"
        "</body></html>\n"
    )


def _md(value: object) -> str:
    """A Markdown table cell: pipes, newlines and HTML-significant characters neutralised."""
    return escape(str(value), quote=False).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Proctor compliance report",
        "",
        f"Workspace {_md(report['workspace'])}, generated {_when(report['generated_at'])}.",
        "",
        "## Controls",
        "",
        "| Control | Status | Evidence | Framework identifiers |",
        "|---|---|---|---|",
    ]
    for c in report["controls"]:
        lines.append(
            f"| {_md(c['title'])} | {_md(c['status'])} | {_md(c['summary'])} | {_md(', '.join(c['frameworks']))} |"
        )
    lines += [
        "",
        "## Coverage per framework",
        "",
        "| Framework | With evidence | Met | Identifiers |",
        "|---|---|---|---|",
    ]
    for r in report["coverage"]:
        lines.append(
            f"| {_md(r['name'])} | {r['with_evidence']}/{r['controls']} | {r['met']} |"
            f" {_md(', '.join(r['identifiers']))} |"
        )
    lines += ["", "## Open findings", "", "| Severity | Rule | Where | Evidence |", "|---|---|---|---|"]
    for f in report["findings"]:
        lines.append(
            f"| {_md(f['severity'])} | {_md(f['id'])} | {_md(f['location'])} | {_md(f['evidence'])} |"
        )
    if not report["findings"]:
        lines.append("| — | no open findings | | |")
    return "\n".join(lines) + "\n"


__all__ = ["to_html", "to_markdown"]
