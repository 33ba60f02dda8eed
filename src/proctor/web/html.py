"""Server-rendered HTML without a template engine: every value is escaped by :func:`esc` unless it
is already :class:`Html` built here. No inline script or style anywhere (the CSP forbids both)."""

from __future__ import annotations

import html as _html
import json
from collections.abc import Iterable
from typing import Any

__all__ = ["CSS", "SECURITY_HEADERS", "Html", "esc", "join", "json_block", "layout", "when"]


class Html(str):
    """Markup that is safe to send as it is (built by this module from escaped parts)."""

    __slots__ = ()


def esc(value: Any) -> Html:
    """``value`` as text in HTML (element content or a quoted attribute).

    >>> esc('<a href="x">&</a>')
    '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;'
    """
    if isinstance(value, Html):
        return value
    return Html(_html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[Any], sep: str = "") -> Html:
    return Html(sep.join(esc(p) for p in parts))


def when(cond: Any, markup: Any) -> Html:
    return esc(markup) if cond else Html("")


def h(template: str, **values: Any) -> Html:
    """``template`` (trusted markup, written in this package) with ``{name}`` fields escaped."""
    return Html(template.format(**{k: esc(v) for k, v in values.items()}))


def json_block(value: Any, *, fold_over: int = 400) -> Html:
    """A JSON value pretty-printed; a long one is folded (``<details>``), the reader unfolds it."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) <= fold_over:
        return h("<pre class=json>{t}</pre>", t=text)
    return h(
        "<details><summary>{head}… ({n} characters)</summary><pre class=json>{t}</pre></details>",
        head=text[:80],
        n=len(text),
        t=text,
    )


CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#cfe0ff;text-decoration:none}header .who{margin-left:auto;font-size:.9em}
header form{display:inline;margin:0}header button{background:none;border:1px solid #cfe0ff;color:#cfe0ff;
padding:.15rem .6rem;border-radius:4px;cursor:pointer}
main{max-width:1100px;margin:1.2rem auto;padding:0 1.2rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.45rem .6rem;
border-bottom:1px solid #e3e6ea;vertical-align:top}th{background:#eef1f5;font-weight:600}
.card{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:1rem 1.2rem;margin-bottom:1rem}
dl{display:grid;grid-template-columns:12rem 1fr;gap:.3rem .8rem;margin:0}dt{color:#5b6472}dd{margin:0}
pre.json{background:#f3f5f8;padding:.6rem;border-radius:4px;overflow:auto;max-height:28rem;margin:.2rem 0}
.error{background:#fde8e8;border:1px solid #f5b5b5;padding:.6rem .9rem;border-radius:4px}
.notice{background:#e8f4fd;border:1px solid #b5d8f5;padding:.6rem .9rem;border-radius:4px}
.origin{font-size:.85rem;margin-top:.2rem}.origin.risky{color:#a4000f;font-weight:bold}
.origin.ok{color:#1f6f3a}
.unusual{background:#fff6e0;border:1px solid #f0d48a;padding:.4rem .8rem;border-radius:4px}
.state-pending{color:#9a6700}.state-approved,.state-used{color:#1a7f37}.state-denied,.state-expired{color:#cf222e}
form.decide{display:grid;gap:.5rem;max-width:40rem}textarea,input[type=text],input[type=email],
input[type=password]{width:100%;box-sizing:border-box;padding:.4rem;font:inherit}
button.primary{background:#1a7f37;color:#fff;border:0;padding:.5rem 1rem;border-radius:4px;cursor:pointer}
button.danger{background:#cf222e;color:#fff;border:0;padding:.5rem 1rem;border-radius:4px;cursor:pointer}
button.plain{padding:.5rem 1rem;border-radius:4px;cursor:pointer}
.login{max-width:24rem;margin:3rem auto}.muted{color:#5b6472}.sso{display:block;text-align:center;
padding:.5rem;border:1px solid #1d2330;border-radius:4px;color:#1d2330;text-decoration:none;margin-top:1rem}
"""

#: sent with every page: nothing but this origin's stylesheet, no script, no framing, forms post here
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def layout(title: str, body: Html, *, who: str | None = None, csrf: str | None = None) -> Html:
    nav = Html("")
    if who is not None:
        nav = h(
            "<a href=/approvals>Pending</a><a href=/approvals/history>History</a>"
            "<span class=who>{who}</span>"
            "<form method=post action=/logout><input type=hidden name=csrf value='{csrf}'>"
            "<button type=submit>Sign out</button></form>",
            who=who,
            csrf=csrf or "",
        )
    return Html(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{esc(title)} · Proctor</title><link rel=stylesheet href=/web/style.css></head>"
        f"<body><header><strong>Proctor</strong>{nav}</header><main>{body}</main></body></html>"
    )
