"""The approval pages: the pending queue (grouped by agent and tool), one page per request with its
whole story and the approve / deny / approve-with-narrowing forms, and the history of decisions.

They call the ``Approvals`` service's contract only: ``pending``/``list``/``view`` to read,
``approve``/``deny`` to decide (the service checks who may decide; the page only shows it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from proctor.accounts.service import SessionInfo
from proctor.app import Proctor
from proctor.approvals.model import ApprovalRequest, ApprovalState, Narrowing
from proctor.errors import ApprovalError, NotFound, ValidationError
from proctor.text import safe_text
from proctor.web.html import Html, h, join, layout

__all__ = ["register", "waited"]

_DECISIONS = ("approve", "deny", "narrow")
_OPS = ("eq", "max", "min")


def waited(seconds: float) -> str:
    """A duration as a person reads it.

    >>> waited(42), waited(125), waited(7300)
    ('42 s', '2 min 5 s', '2 h 1 min')
    """
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _state(state: ApprovalState) -> Html:
    return h("<span class='state-{s}'>{s}</span>", s=state.value)


def register(
    router: APIRouter,
    proctor: Proctor,
    *,
    current: Callable[[Request], Awaitable[SessionInfo | None]],
    to_login: Callable[[Request], Response],
    checked_post: Callable[[Request, str], Awaitable[tuple[SessionInfo, dict[str, str]] | Response]],
    page: Callable[..., Response],
    redirect: Callable[[str], Response],
    error_page: Callable[..., Response],
) -> None:
    def shell(title: str, body: Html, info: SessionInfo, status: int = 200) -> Response:
        who = (
            f"{info.approver.name} <{info.approver.email}>"
            if info.approver.name
            else str(info.approver.email)
        )
        return page(layout(title, body, who=who, csrf=info.csrf), status)

    @router.get("/approvals")
    async def queue(request: Request) -> Response:
        info = await current(request)
        if info is None:
            return to_login(request)
        approvals = proctor.approvals
        now = proctor.clock.now()

        def read() -> list[tuple[ApprovalRequest, str | None]]:
            return [(r, approvals.may_decide(r, info.approver)) for r in approvals.pending()]

        rows = await run_in_threadpool(read)
        groups: dict[tuple[str, str], list[tuple[ApprovalRequest, str | None]]] = {}
        for r, why in rows:
            groups.setdefault((str(r.agent), str(r.tool)), []).append((r, why))
        parts: list[Html] = [h("<h1>Pending approvals</h1><p class=muted>{n} waiting</p>", n=len(rows))]
        if not rows:
            parts.append(Html("<div class=notice>Nothing is waiting for a decision.</div>"))
        for (agent, tool), items in sorted(groups.items(), key=lambda kv: kv[1][0][0].created_at):
            trs = []
            for r, why in items:
                trs.append(
                    h(
                        "<tr><td><a href='/approvals/{id}'>{id}</a></td><td>{task}</td><td>{eff}</td>"
                        "<td>{waited}</td><td>{att}</td><td>{left}</td><td>{who}</td></tr>",
                        id=r.id,
                        task=r.task,
                        eff=", ".join(r.effects),
                        waited=waited(now - r.created_at),
                        att=r.attempts,
                        left=waited(r.expires_at - now),
                        who="you may decide" if why is None else why,
                    )
                )
            parts.append(
                h(
                    "<div class=card><h2>{agent} → {tool} <span class=muted>({n})</span></h2><table>"
                    "<tr><th>request</th><th>task</th><th>effect</th><th>waiting</th><th>attempts</th>"
                    "<th>expires in</th><th>decision</th></tr>{rows}</table></div>",
                    agent=agent,
                    tool=tool,
                    n=len(items),
                    rows=join(trs),
                )
            )
        return shell("Pending approvals", join(parts), info)

    @router.get("/approvals/history")
    async def history(request: Request) -> Response:
        info = await current(request)
        if info is None:
            return to_login(request)
        states = [ApprovalState.APPROVED, ApprovalState.DENIED, ApprovalState.EXPIRED, ApprovalState.USED]
        rows = await run_in_threadpool(lambda: proctor.approvals.list(states=states, limit=200))
        trs = [
            h(
                "<tr><td><a href='/approvals/{id}'>{id}</a></td><td>{agent}</td><td>{tool}</td><td>{state}</td>"
                "<td>{by}</td><td>{at}</td><td>{reason}</td></tr>",
                id=r.id,
                agent=r.agent,
                tool=r.tool,
                state=_state(r.state),
                by=r.decided_by or "",
                at=_when(r.decided_at),
                reason=r.reason or "",
            )
            for r in rows
        ]
        body = h(
            "<h1>History</h1><table><tr><th>request</th><th>agent</th><th>tool</th><th>state</th>"
            "<th>decided by</th><th>when</th><th>reason</th></tr>{rows}</table>",
            rows=join(trs),
        )
        return shell("History", body, info)

    def detail_body(view: Any, info: SessionInfo, message: Html) -> Html:
        r: ApprovalRequest = view.request
        arg_rows = []
        for a in view.args:
            note = ""
            if a.masked:
                note = " (masked)"
            # the agent's text: a bidi override or an invisible character is shown, not obeyed
            shown = safe_text(a.text, newlines=True)
            if a.folded:
                text = h(
                    "<details><summary>{head}…</summary>{t}… <span class=muted>{n} more characters"
                    " not shown</span></details>",
                    head=safe_text(a.text[:60]),
                    t=shown,
                    n=a.folded,
                )
            else:
                text = h("<pre class=json>{t}</pre>", t=shown)
            # where the value came from (docs/adr/0025): beside it, so a value found only in
            # untrusted content is seen before the call is approved
            origin = (
                h(
                    "<div class='origin {cls}'>{o}</div>",
                    cls="risky"
                    if ("ONLY from untrusted" in a.origin or "from nowhere" in a.origin)
                    else "ok",
                    o=safe_text(a.origin),
                )
                if a.origin
                else Html("")
            )
            arg_rows.append(
                h(
                    "<tr><th>{n}{note}</th><td>{v}{origin}</td></tr>",
                    n=safe_text(a.name),
                    note=note,
                    v=text,
                    origin=origin,
                )
            )
        args_html = (
            h("<table class=args>{rows}</table>", rows=join(arg_rows))
            if view.args_available
            else Html("<p class=error>The arguments cannot be shown (they could not be decrypted).</p>")
        )
        unusual = (
            h(
                "<div class=unusual><strong>Unusual:</strong><ul>{li}</ul></div>",
                li=join(h("<li>{u}</li>", u=safe_text(u)) for u in view.unusual),
            )
            if view.unusual
            else Html("")
        )
        recent = join(
            h(
                "<tr><td>{at}</td><td>{tool}</td><td>{d}</td><td>{id}</td></tr>",
                at=_when(c.get("ts")),
                tool=c.get("tool") or "",
                d=c.get("decision") or "",
                id=c.get("decision_id") or "",
            )
            for c in view.recent_calls
        )
        facts = h(
            "<dl><dt>request</dt><dd>{id}</dd><dt>state</dt><dd>{state}</dd><dt>agent</dt><dd>{agent}</dd>"
            "<dt>owner</dt><dd>{owner}</dd><dt>task</dt><dd>{task}</dd>"
            "<dt>chain</dt><dd class=chain>{chain}</dd><dt>purpose</dt><dd>{purpose}</dd>"
            "<dt>requested by</dt><dd>{req}</dd><dt>tool</dt><dd>{tool}</dd><dt>effect</dt><dd>{eff}</dd>"
            "<dt>tool description</dt><dd>{desc}</dd><dt>policies</dt><dd>{pol}</dd>"
            "<dt>reasons</dt><dd>{reasons}</dd><dt>who decides</dt><dd>{approvers}{four}</dd>"
            "<dt>waited</dt><dd class=waited>{waited}</dd><dt>expires</dt><dd>{exp}</dd>"
            "<dt>attempts</dt><dd>{att}</dd>{decided}</dl>",
            id=r.id,
            state=_state(r.state),
            agent=r.agent,
            owner=view.owner or "",
            task=r.task,
            chain=" → ".join(
                [safe_text(view.requester or "?")]
                + [f"{safe_text(c['agent'])} ({safe_text(c['task'])})" for c in view.chain]
            ),
            purpose=safe_text(view.purpose),
            req=view.requester or "",
            tool=r.tool,
            eff=view.tool_effect,
            desc=safe_text(view.tool_description),
            pol=", ".join(r.policies),
            reasons=join(h("<div>{x}</div>", x=safe_text(x)) for x in r.reasons),
            approvers=", ".join(r.approvers),
            four=" (four eyes: not the task's requester)" if r.four_eyes else "",
            waited=waited(view.waited_s),
            exp=_when(r.expires_at),
            att=r.attempts,
            decided=h(
                "<dt>decided by</dt><dd>{by} ({via})</dd><dt>decided</dt><dd>{at}</dd><dt>reason</dt>"
                "<dd>{reason}</dd>{narrow}",
                by=r.decided_by,
                via=r.decided_via or "",
                at=_when(r.decided_at),
                reason=r.reason or "",
                narrow=h("<dt>narrowing</dt><dd>{n}</dd>", n=r.narrowing.describe())
                if r.narrowing
                else Html(""),
            )
            if r.decided_by
            else Html(""),
        )
        forms = Html("")
        if r.state is ApprovalState.PENDING and view.may_decide is None:
            narrow_rows = []
            for a in view.args:
                if a.masked or a.folded:
                    continue
                narrow_rows.append(
                    h(
                        "<tr><th>{shown}</th><td><select name='op.{n}'><option value=''>any value</option>"
                        "<option value=eq>this value</option><option value=max>at most</option>"
                        "<option value=min>at least</option></select> "
                        "<input type=text name='limit.{n}' placeholder='number for at most / at least'></td></tr>",
                        shown=safe_text(a.name),
                        n=a.name,
                    )
                )
            forms = h(
                "<div class=card><h2>Decide</h2><form method=post action='/approvals/{id}/decide' class=decide>"
                "<input type=hidden name=csrf value='{csrf}'>"
                "<label>Reason<textarea name=reason rows=2 required maxlength=2000></textarea></label>"
                "<div><button class=primary type=submit name=decision value=approve>Approve this call</button> "
                "<button class=danger type=submit name=decision value=deny>Deny</button></div>"
                "<details><summary>Approve with narrowing (for the rest of the task)</summary>"
                "<p class=muted>Calls of {tool} in this task whose arguments stay inside these limits are"
                " allowed without asking again, until the task ends.</p><table>{rows}</table>"
                "<button class=primary type=submit name=decision value=narrow>Approve with narrowing</button>"
                "</details></form></div>",
                id=r.id,
                csrf=info.csrf,
                tool=r.tool,
                rows=join(narrow_rows),
            )
        elif r.state is ApprovalState.PENDING:
            forms = h("<div class=notice>You may not decide this request: {w}</div>", w=view.may_decide)
        return h(
            "<h1>{tool} <span class=muted>held for approval</span></h1>{msg}{unusual}"
            "<div class=card>{facts}</div><div class=card><h2>Arguments</h2>{args}</div>{forms}"
            "<div class=card><h2>Recent calls of this task</h2><table><tr><th>when</th><th>tool</th>"
            "<th>decision</th><th>decision id</th></tr>{recent}</table></div>",
            tool=r.tool,
            msg=message,
            unusual=unusual,
            facts=facts,
            args=args_html,
            forms=forms,
            recent=recent,
        )

    async def show(
        request: Request, info: SessionInfo, approval_id: str, message: Html, status: int
    ) -> Response:
        try:
            view = await run_in_threadpool(proctor.approvals.view, approval_id, info.approver)
        except NotFound:
            return error_page("no such approval request", 404, info)
        except ValidationError:
            return error_page("no such approval request", 404, info)
        except ApprovalError as exc:
            return error_page(exc.message, exc.http_status, info)
        return shell(f"Approval {approval_id}", detail_body(view, info, message), info, status)

    @router.get("/approvals/{approval_id}")
    async def detail(request: Request, approval_id: str) -> Response:
        info = await current(request)
        if info is None:
            return to_login(request)
        done = request.query_params.get("done")
        message = Html("")
        if done in ("approved", "denied"):
            message = h("<div class=notice>You {d} this request.</div>", d=done)
        return await show(request, info, approval_id, message, 200)

    def narrowing_from(form: dict[str, str], view: Any) -> Narrowing:
        shown = {a.name: a for a in view.args}
        # the held call's own values (the shown text may be folded, escaped or ambiguous: "123")
        actual = proctor.approvals.arguments(view.request) or {}
        raw: dict[str, dict[str, Any]] = {}
        for key, op in form.items():
            if not key.startswith("op.") or not op:
                continue
            arg = key[3:]
            line = shown.get(arg)
            if line is None or line.masked or line.folded or op not in _OPS:
                raise ValidationError(f"narrowing of `{arg[:80]}`: not an argument that can be narrowed")
            if op == "eq":
                # the held call's value, never one the browser sent
                if arg not in actual:
                    raise ValidationError(f"narrowing of `{arg[:80]}`: the held call's value cannot be read")
                raw[arg] = {"eq": actual[arg]}
            else:
                text = form.get(f"limit.{arg}", "").strip()
                try:
                    number = float(text)
                except ValueError:
                    raise ValidationError(
                        f"narrowing of `{arg[:80]}`: `{text[:40]}` is not a number"
                    ) from None
                limit = int(number) if number.is_integer() else number
                # "at most" an amount means from 0 up (a max alone would admit any negative number)
                raw[arg] = {"min": 0, "max": limit} if op == "max" and limit >= 0 else {op: limit}
        return Narrowing.parse(raw)

    @router.post("/approvals/{approval_id}/decide")
    async def decide(request: Request, approval_id: str) -> Response:
        checked = await checked_post(request, f"decide {approval_id[:64]}")
        if isinstance(checked, Response):
            return checked
        info, form = checked
        decision = form.get("decision", "")
        reason = form.get("reason", "").strip()
        approvals = proctor.approvals

        def act() -> str:
            if decision not in _DECISIONS:
                raise ValidationError("choose approve, deny or approve with narrowing")
            if decision == "deny":
                approvals.deny(approval_id, info.approver, reason)
                return "denied"
            narrowing = None
            if decision == "narrow":
                narrowing = narrowing_from(form, approvals.view(approval_id, info.approver))
            approvals.approve(approval_id, info.approver, reason, narrowing)
            return "approved"

        try:
            done = await run_in_threadpool(act)
        except NotFound:
            return error_page("no such approval request", 404, info)
        except (ValidationError, ApprovalError) as exc:
            status = exc.http_status if isinstance(exc, ApprovalError) else 400
            return await show(
                request, info, approval_id, h("<div class=error>{m}</div>", m=exc.message), status
            )
        return redirect(f"/approvals/{approval_id}?done={done}")
