"""The web pages of ``proctor serve``: sign-in (a local account or OpenID Connect), the queue of
held calls, one page per request with approve / deny / approve-with-narrowing, and the history.

Every page needs a signed-in approver (a session cookie: HttpOnly, SameSite=Lax, Secure over
https); every POST carries the session's CSRF token, checked before anything else is read. Pages
call only the :class:`proctor.accounts.Accounts` service and the ``Approvals`` service's
contract (``get``, ``list``, ``view``, ``approve``, ``deny``, ``may_decide``).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from proctor.accounts.oidc import LOGIN_TTL_S, OidcClient, resolve_client_secret
from proctor.accounts.service import SessionInfo
from proctor.app import Proctor
from proctor.errors import AccountLocked, AuthError, CsrfInvalid
from proctor.web.html import CSS, SECURITY_HEADERS, Html, h, layout
from proctor.workspace import Workspace

__all__ = ["LOGIN_COOKIE", "OIDC_COOKIE", "SESSION_COOKIE", "web_router"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "proctor_session"
#: the double-submit token of the sign-in form (no session exists yet to bind a CSRF token to)
LOGIN_COOKIE = "proctor_login"
#: the state of an OIDC sign-in under way, which the provider's redirect back must match
OIDC_COOKIE = "proctor_oidc"
_MAX_FORM = 256 * 1024
#: the decide form posts two fields per argument of the held call (its narrowing row)
_MAX_FIELDS = 4096


def _cookie_name(base: str, secure: bool) -> str:
    # `__Host-` pins the cookie to this host, path / and https: no subdomain can set or shadow it
    return f"__Host-{base}" if secure else base


def _safe_next(raw: str | None) -> str:
    """A local path to go to after signing in (never another site: `//evil`, `/\\evil`, a scheme)."""
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")) or len(raw) > 512:
        return "/approvals"
    if any(c in raw for c in "\r\n\t\\") or not raw.isprintable():
        return "/approvals"
    return raw


def _page(body: Html, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body,
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={
            **SECURITY_HEADERS,
            **(headers or {}),
        },
    )


def _redirect(to: str) -> Response:
    return Response(status_code=303, headers={**SECURITY_HEADERS, "Location": to})


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the first value of each); anything else is an empty form."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            return {}
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items() if v}


def _source(request: Request) -> str:
    return request.client.host if request.client else ""


def web_router(proctor: Proctor, workspace: Workspace | None) -> APIRouter:
    """The pages, to be included in the API app (``create_app``)."""
    router = APIRouter(include_in_schema=False)
    accounts = proctor.accounts
    login_settings = proctor.settings.login
    oidc: OidcClient | None = None
    if login_settings.oidc is not None:
        oidc_settings = login_settings.oidc

        def client_secret() -> str | None:
            def read_secret(name: str) -> bytes:
                if workspace is None:
                    raise AuthError("OIDC client secret: no workspace to read it from")
                # read the key again each time, as before: another process may have rotated it
                return proctor.credentials.secret_store(reopen=True).get(name)

            return resolve_client_secret(oidc_settings.client_secret, read_secret)

        oidc = accounts.oidc_client(oidc_settings, client_secret=client_secret)

    #: where browsers reach this server (``login.public_url``, else ``approvals.public_url``): the
    #: OIDC redirect goes there, and an https one makes the cookies Secure behind a TLS proxy
    public = login_settings.public_url or proctor.settings.approval_public_url

    def secure(request: Request) -> bool:
        return request.url.scheme == "https" or (public is not None and public.startswith("https://"))

    def base_url(request: Request) -> str:
        return (public or str(request.base_url)).rstrip("/")

    def set_session_cookie(resp: Response, request: Request, token: str) -> None:
        resp.set_cookie(
            _cookie_name(SESSION_COOKIE, secure(request)),
            token,
            max_age=int(login_settings.session_max_s),
            path="/",
            secure=secure(request),
            httponly=True,
            samesite="lax",
        )

    def session_token(request: Request) -> str:
        return request.cookies.get(_cookie_name(SESSION_COOKIE, secure(request)), "")

    async def current(request: Request) -> SessionInfo | None:
        token = session_token(request)
        if not token:
            return None
        try:
            return await run_in_threadpool(accounts.session, token)
        except AuthError:
            return None

    def to_login(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return _redirect("/login?next=" + quote(_safe_next(target), safe="/"))

    def error_page(message: str, status: int, info: SessionInfo | None = None) -> Response:
        body = h("<div class=error><strong>{m}</strong></div>", m=message)
        who = None if info is None else str(info.approver.email)
        return _page(layout("Error", body, who=who, csrf=None if info is None else info.csrf), status)

    async def checked_post(request: Request, action: str) -> tuple[SessionInfo, dict[str, str]] | Response:
        """A POST's session and form, once its CSRF token is the session's (else the answer)."""
        info = await current(request)
        if info is None:
            return error_page("you are not signed in (or the session has ended): sign in again", 401)
        form = await _form(request)
        try:
            await run_in_threadpool(
                accounts.check_csrf, info, session_token(request), form.get("csrf"), action=action
            )
        except CsrfInvalid as exc:
            return error_page(exc.message, 403, info)
        return info, form

    # static ---------------------------------------------------------------------------------
    @router.get("/web/style.css")
    def style() -> Response:
        return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    # sign-in ----------------------------------------------------------------------------------
    def login_page(request: Request, next_path: str, message: str = "", status: int = 200) -> Response:
        secure_ = secure(request)
        name = _cookie_name(LOGIN_COOKIE, secure_)
        login_token = request.cookies.get(name) or secrets.token_urlsafe(24)
        sso = Html("")
        if oidc is not None:
            sso = h(
                "<a class=sso href='/login/oidc?next={n}'>{label}</a>",
                n=quote(next_path, safe="/"),
                label=oidc.settings.label,
            )
        body = h(
            "<div class='login card'><h1>Sign in</h1>{msg}"
            "<form method=post action=/login class=decide>"
            "<input type=hidden name=login_csrf value='{tok}'><input type=hidden name=next value='{n}'>"
            "<label>E-mail<input type=email name=email required autocomplete=username></label>"
            "<label>Password<input type=password name=password required autocomplete=current-password>"
            "</label><button class=primary type=submit>Sign in</button></form>{sso}</div>",
            msg=h("<p class=error>{m}</p>", m=message) if message else Html(""),
            tok=login_token,
            n=next_path,
            sso=sso,
        )
        resp = _page(layout("Sign in", body), status)
        resp.set_cookie(
            name, login_token, max_age=3600, path="/", secure=secure_, httponly=True, samesite="lax"
        )
        return resp

    @router.get("/login")
    async def login_form(request: Request, next: str | None = None) -> Response:
        return login_page(request, _safe_next(next))

    @router.post("/login")
    async def login_submit(request: Request) -> Response:
        form = await _form(request)
        next_path = _safe_next(form.get("next"))
        cookie = request.cookies.get(_cookie_name(LOGIN_COOKIE, secure(request)), "")
        presented = form.get("login_csrf", "")
        if not cookie or not hmac.compare_digest(cookie.encode(), presented.encode("utf-8", "replace")):
            return login_page(request, next_path, "the sign-in form expired: try again", 403)
        email, password = form.get("email", ""), form.get("password", "")

        def sign_in() -> str:
            approver = accounts.authenticate(email, password, source=_source(request))
            token, _ = accounts.start_session(approver, source=_source(request))
            return token

        try:
            token = await run_in_threadpool(sign_in)
        except AccountLocked:
            return login_page(
                request, next_path, "sign-in refused: too many failed attempts, wait a while", 429
            )
        except AuthError:
            return login_page(request, next_path, "wrong e-mail or password", 401)
        resp = _redirect(next_path)
        set_session_cookie(resp, request, token)
        return resp

    @router.get("/login/oidc")
    async def login_oidc(request: Request, next: str | None = None) -> Response:
        if oidc is None:
            return error_page("single sign-on is not configured", 404)
        redirect_uri = base_url(request) + "/login/oidc/callback"
        try:
            url, state = await run_in_threadpool(oidc.begin, redirect_uri, _safe_next(next))
        except AuthError as exc:
            return error_page(exc.message, 502)
        resp = _redirect(url)
        # binds the sign-in to this browser: a callback link planted in another browser (login CSRF)
        # lacks it. Lax: the provider's redirect back is a top-level navigation, which carries it
        resp.set_cookie(
            _cookie_name(OIDC_COOKIE, secure(request)),
            state,
            max_age=int(LOGIN_TTL_S),
            path="/",
            secure=secure(request),
            httponly=True,
            samesite="lax",
        )
        return resp

    @router.get("/login/oidc/callback")
    async def login_oidc_callback(
        request: Request, state: str = "", code: str = "", error: str = ""
    ) -> Response:
        if oidc is None:
            return error_page("single sign-on is not configured", 404)
        redirect_uri = base_url(request) + "/login/oidc/callback"
        via = f"oidc:{oidc.settings.issuer}"

        bound = request.cookies.get(_cookie_name(OIDC_COOKIE, secure(request)), "")

        def finish() -> tuple[str, str]:
            if (
                not state
                or not bound
                or not hmac.compare_digest(bound.encode(), state.encode("utf-8", "replace"))
            ):
                accounts.login_failed("", "state_not_this_browsers", _source(request), via)
                raise AuthError("this sign-in was not started in this browser: start again")
            if error:
                accounts.login_failed("", f"provider:{error[:60]}", _source(request), via)
                raise AuthError("the identity provider did not sign you in")
            try:
                claims, next_path = oidc.finish(state, code, redirect_uri)
            except AuthError as exc:
                accounts.login_failed("", exc.message[:120], _source(request), via)
                raise
            approver = accounts.approver_from_oidc(oidc.settings, claims, source=_source(request))
            token, _ = accounts.start_session(approver, source=_source(request))
            return token, next_path

        try:
            token, next_path = await run_in_threadpool(finish)
        except AuthError as exc:
            return error_page(f"sign-in failed: {exc.message}", 401)
        resp = _redirect(_safe_next(next_path))
        set_session_cookie(resp, request, token)
        resp.delete_cookie(
            _cookie_name(OIDC_COOKIE, secure(request)),
            path="/",
            secure=secure(request),
            httponly=True,
            samesite="lax",
        )
        return resp

    @router.get("/logout")
    async def logout_form(request: Request) -> Response:
        info = await current(request)
        if info is None:
            return _redirect("/login")
        body = h(
            "<div class=card><form method=post action=/logout><input type=hidden name=csrf value='{c}'>"
            "<button class=plain type=submit>Sign out</button></form></div>",
            c=info.csrf,
        )
        return _page(layout("Sign out", body, who=str(info.approver.email), csrf=info.csrf))

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        checked = await checked_post(request, "logout")
        if isinstance(checked, Response):
            return checked
        info, _ = checked
        await run_in_threadpool(accounts.logout, info)
        resp = _redirect("/login")
        resp.delete_cookie(
            _cookie_name(SESSION_COOKIE, secure(request)),
            path="/",
            secure=secure(request),
            httponly=True,
            samesite="lax",
        )
        return resp

    # approvals ------------------------------------------------------------------------------
    from proctor.web import approvals as pages

    pages.register(
        router,
        proctor,
        current=current,
        to_login=to_login,
        checked_post=checked_post,
        page=_page,
        redirect=_redirect,
        error_page=error_page,
    )
    return router
