"""The HTTP endpoints of the gateway's authorization server, served by the gateway's own listener
(``GatewayAuth`` hands them every path in :data:`OAUTH_PATHS`):

- ``GET /.well-known/oauth-authorization-server`` — RFC 8414 metadata;
- ``POST /register`` — RFC 7591 dynamic registration (public clients);
- ``GET /authorize`` — sign-in (an approver account), then the consent page: the client's name
  and redirect URI, and which agent and task template it gets; ``POST /authorize/login`` signs
  in, ``POST /authorize`` approves or denies (CSRF: the session's token);
- ``POST /token`` — ``authorization_code`` (PKCE S256), ``refresh_token`` (rotated) and RFC 8693
  token exchange (a delegated child's task token with its ``act`` chain, docs/adr/0037).

Pages follow ``proctor.web``: server-rendered, every value escaped, no script, a strict CSP.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool

from proctor.accounts.oidc import LOGIN_TTL_S, OidcClient, resolve_client_secret
from proctor.accounts.service import SessionInfo
from proctor.errors import AccountLocked, AuthError, CsrfInvalid, OAuthRefused, ProctorError, StoreError
from proctor.oauth.server import AuthorizationServer, AuthorizeRequest, Option, RedirectRefusal
from proctor.web.html import SECURITY_HEADERS, Html, esc, h, join, layout

__all__ = ["OAUTH_PATHS", "OAuthEndpoints"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

OAUTH_PATHS = frozenset(
    {
        "/.well-known/oauth-authorization-server",
        "/register",
        "/authorize",
        "/authorize/login",
        "/authorize/oidc",
        "/authorize/oidc/callback",
        "/token",
        "/web/style.css",
    }
)
SESSION_COOKIE = "proctor_gw_session"
LOGIN_COOKIE = "proctor_gw_login"
#: the state of an OIDC sign-in under way, which the provider's redirect back must match
OIDC_COOKIE = "proctor_gw_oidc"
MAX_FORM = 64 * 1024
MAX_FIELDS = 64
_AUTH_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
    "scope",
)


class OAuthEndpoints:
    """The ASGI side of :class:`AuthorizationServer`: ``await endpoints(scope, receive, send)``.
    A refusal worth auditing is returned (the gateway audits it, rate-limited)."""

    def __init__(self, server: AuthorizationServer) -> None:
        self.server = server
        self.accounts = server.proctor.accounts
        self.secure = server.issuer.startswith("https://")
        #: the approvers' OpenID Connect provider (``login.oidc``), when one is configured: its
        #: redirect back comes to this listener (``<gateway>/authorize/oidc/callback``, which the
        #: provider must allow)
        self.oidc: OidcClient | None = None
        proctor = server.proctor
        oidc_settings = proctor.settings.login.oidc
        if oidc_settings is not None:

            def client_secret() -> str | None:
                def read_secret(name: str) -> bytes:
                    return proctor.credentials.secret_store(reopen=True).get(name)

                return resolve_client_secret(oidc_settings.client_secret, read_secret)

            self.oidc = self.accounts.oidc_client(oidc_settings, client_secret=client_secret)

    def _cookie(self, base: str) -> str:
        return f"__Host-{base}" if self.secure else base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> ProctorError | None:
        path, method = scope.get("path", ""), scope.get("method", "GET")
        try:
            if path == "/.well-known/oauth-authorization-server":
                await _answer(send, 200, _json(self.server.metadata()), "application/json")
                return None
            if path == "/web/style.css":
                from proctor.web.html import CSS

                await _answer(send, 200, CSS.encode(), "text/css")
                return None
            if path == "/register" and method == "POST":
                limited = self.server.registrations.admit(_client_host(scope))
                if limited is not None:
                    # before the body is read: a refusal costs the flood nothing of the store
                    which = "from this address" if limited == "source" else "from all clients"
                    refused = OAuthRefused(
                        "too_many_requests",
                        f"too many client registrations {which}; try again later",
                        status=429,
                        limit=limited,
                    )
                    err = {"error": refused.error, "error_description": refused.message}
                    retry = str(self.server.registrations.retry_after())
                    await _answer(
                        send,
                        429,
                        _json(err),
                        "application/json",
                        {"cache-control": "no-store", "retry-after": retry},
                    )
                    return refused
                body = await _body(receive, MAX_FORM)
                try:
                    doc = json.loads(body) if body is not None else None
                except ValueError:
                    doc = None
                result = await run_in_threadpool(self.server.register, doc)
                await _answer(send, 201, _json(result), "application/json", {"cache-control": "no-store"})
                return None
            if path == "/token" and method == "POST":
                form = await _form(scope, receive)
                if form is None:
                    raise OAuthRefused("invalid_request", "the token request is an urlencoded form")
                result = await run_in_threadpool(self.server.token, form)
                await _answer(
                    send,
                    200,
                    _json(result),
                    "application/json",
                    {"cache-control": "no-store", "pragma": "no-cache"},
                )
                return None
            if path == "/authorize" and method == "GET":
                return await self._authorize_get(scope, send)
            if path == "/authorize/login" and method == "POST":
                return await self._login(scope, receive, send)
            if path == "/authorize" and method == "POST":
                return await self._authorize_post(scope, receive, send)
            if path == "/authorize/oidc" and method == "GET":
                return await self._oidc_begin(scope, send)
            if path == "/authorize/oidc/callback" and method == "GET":
                return await self._oidc_callback(scope, send)
            await _answer(send, 405, _json({"error": "invalid_request"}), "application/json")
            return None
        except OAuthRefused as exc:
            status = exc.status if exc.error != "invalid_client" else 401
            err = {"error": exc.error, "error_description": exc.message}
            await _answer(send, status, _json(err), "application/json", {"cache-control": "no-store"})
            return exc
        except StoreError as exc:
            # fail closed, without the detail (a path, a server address, the driver's text): that
            # is for the operator's log, as on the MCP endpoint
            log.error("store error in the gateway's authorization server: %s", exc.message)
            err = {
                "error": "temporarily_unavailable",
                "error_description": "the store could not be read; try again",
            }
            await _answer(send, 503, _json(err), "application/json", {"cache-control": "no-store"})
            return exc
        except ProctorError as exc:
            # anything else refused while deciding is a refusal too (fail closed)
            error = "invalid_request" if exc.http_status < 500 else "server_error"
            err = {"error": error, "error_description": exc.message}
            await _answer(send, min(exc.http_status, 503), _json(err), "application/json")
            return exc

    # pages --------------------------------------------------------------------------------------
    def _session_token(self, scope: Scope) -> str:
        return _cookies(scope).get(self._cookie(SESSION_COOKIE), "")

    async def _signed_in(self, scope: Scope) -> SessionInfo | None:
        token = self._session_token(scope)
        if not token:
            return None
        try:
            return await run_in_threadpool(self.accounts.session, token)
        except ProctorError:
            return None

    async def _check(self, params: dict[str, str], send: Send) -> AuthorizeRequest | None:
        """The checked request, or None once the answer (an error page or redirect) is sent."""
        try:
            return await run_in_threadpool(self.server.check_authorize, params)
        except RedirectRefusal as exc:
            await _redirect(send, self.server.error_redirect(exc.request, exc.error, exc.message))
        except OAuthRefused as exc:
            await self._page(send, "Cannot authorize", _error(exc.message), 400)
        return None

    async def _authorize_get(self, scope: Scope, send: Send) -> ProctorError | None:
        params = _query(scope)
        req = await self._check(params, send)
        if req is None:
            return None
        info = await self._signed_in(scope)
        if info is None:
            await self._login_page(scope, send, req)
            return None
        options = await run_in_threadpool(self.server.options, str(info.approver.email))
        await self._consent_page(send, req, info, options)
        return None

    async def _login_page(
        self, scope: Scope, send: Send, req: AuthorizeRequest, message: str = "", status: int = 200
    ) -> None:
        login_token = _cookies(scope).get(self._cookie(LOGIN_COOKIE)) or secrets.token_urlsafe(24)
        body = h(
            "<div class='login card'><h1>Sign in to connect {client}</h1>{msg}"
            "<form method=post action=/authorize/login class=decide>"
            "<input type=hidden name=login_csrf value='{tok}'>{hidden}"
            "<label>E-mail<input type=email name=email required autocomplete=username></label>"
            "<label>Password<input type=password name=password required autocomplete=current-password>"
            "</label><button class=primary type=submit>Sign in</button></form>{sso}</div>",
            sso=Html("")
            if self.oidc is None
            else h(
                "<a class=sso href='/authorize/oidc?{q}'>{label}</a>",
                q=urlencode(req.query()),
                label=self.oidc.settings.label,
            ),
            client=req.client.name,
            msg=h("<p class=error>{m}</p>", m=message) if message else Html(""),
            tok=login_token,
            hidden=_hidden(req.query()),
        )
        cookie = _set_cookie(self._cookie(LOGIN_COOKIE), login_token, 3600, self.secure)
        await self._page(send, "Sign in", body, status, cookies=[cookie])

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> ProctorError | None:
        form = await _form(scope, receive) or {}
        params = {k: form[k] for k in _AUTH_FIELDS if k in form}
        req = await self._check(params, send)
        if req is None:
            return None
        cookie = _cookies(scope).get(self._cookie(LOGIN_COOKIE), "")
        presented = form.get("login_csrf", "")
        if not cookie or not hmac.compare_digest(cookie.encode(), presented.encode("utf-8", "replace")):
            await self._login_page(scope, send, req, "the sign-in form expired: try again", 403)
            return None
        source = _client_host(scope)
        email, password = form.get("email", ""), form.get("password", "")

        def sign_in() -> str:
            approver = self.accounts.authenticate(email, password, source=source)
            token, _ = self.accounts.start_session(approver, source=source)
            return token

        try:
            token = await run_in_threadpool(sign_in)
        except AccountLocked:
            await self._login_page(
                scope, send, req, "sign-in refused: too many failed attempts, wait a while", 429
            )
            return None
        except AuthError:
            await self._login_page(scope, send, req, "wrong e-mail or password", 401)
            return None
        max_age = int(self.server.proctor.settings.login.session_max_s)
        await _redirect(
            send,
            "/authorize?" + urlencode(req.query()),
            cookies=[_set_cookie(self._cookie(SESSION_COOKIE), token, max_age, self.secure)],
        )
        return None

    async def _oidc_begin(self, scope: Scope, send: Send) -> ProctorError | None:
        if self.oidc is None:
            await self._page(send, "Not configured", _error("single sign-on is not configured"), 404)
            return None
        req = await self._check(_query(scope), send)
        if req is None:
            return None
        oidc = self.oidc
        back = self.server.base + "/authorize/oidc/callback"
        try:
            url, state = await run_in_threadpool(oidc.begin, back, "/authorize?" + urlencode(req.query()))
        except AuthError as exc:
            await self._page(send, "Sign-in failed", _error(exc.message), 502)
            return exc
        # binds the sign-in to this browser (login CSRF), as proctor.web does
        cookie = _set_cookie(self._cookie(OIDC_COOKIE), state, int(LOGIN_TTL_S), self.secure)
        await _redirect(send, url, cookies=[cookie])
        return None

    async def _oidc_callback(self, scope: Scope, send: Send) -> ProctorError | None:
        if self.oidc is None:
            await self._page(send, "Not configured", _error("single sign-on is not configured"), 404)
            return None
        oidc = self.oidc
        q = _query(scope)
        state, code, error = q.get("state", ""), q.get("code", ""), q.get("error", "")
        bound = _cookies(scope).get(self._cookie(OIDC_COOKIE), "")
        source = _client_host(scope)
        via = f"oidc:{oidc.settings.issuer}"
        back = self.server.base + "/authorize/oidc/callback"

        def finish() -> tuple[str, str]:
            if (
                not state
                or not bound
                or not hmac.compare_digest(bound.encode(), state.encode("utf-8", "replace"))
            ):
                self.accounts.login_failed("", "state_not_this_browsers", source, via)
                raise AuthError("this sign-in was not started in this browser: start again")
            if error:
                self.accounts.login_failed("", f"provider:{error[:60]}", source, via)
                raise AuthError("the identity provider did not sign you in")
            claims, next_path = oidc.finish(state, code, back)
            approver = self.accounts.approver_from_oidc(oidc.settings, claims, source=source)
            token, _ = self.accounts.start_session(approver, source=source)
            return token, next_path

        try:
            token, next_path = await run_in_threadpool(finish)
        except AuthError as exc:
            await self._page(send, "Sign-in failed", _error(f"sign-in failed: {exc.message}"), 401)
            return exc
        if not next_path.startswith("/authorize?"):
            next_path = "/authorize"
        max_age = int(self.server.proctor.settings.login.session_max_s)
        await _redirect(
            send,
            next_path,
            cookies=[
                _set_cookie(self._cookie(SESSION_COOKIE), token, max_age, self.secure),
                _set_cookie(self._cookie(OIDC_COOKIE), "", 0, self.secure),
            ],
        )
        return None

    async def _consent_page(
        self, send: Send, req: AuthorizeRequest, info: SessionInfo, options: list[Option]
    ) -> None:
        who = str(info.approver.email)
        if not options:
            body = _error(
                "You own no active agent that a task template lets start tasks: there is nothing you"
                " can grant this client (an administrator adds templates with `proctor template add`)."
            )
            await self._page(send, "Nothing to grant", body, 403, who=who, csrf=info.csrf)
            return
        rows = join(
            h(
                "<label class=option><input type=radio name=option value='{key}' {checked} required>"
                " agent <strong>{agent}</strong>, tasks from template <strong>{tpl}</strong>: {purpose}"
                " <span class=muted>(tools {allow}; each task lasts {ttl})</span></label>",
                key=o.key,
                checked="checked" if i == 0 else "",
                agent=o.agent,
                tpl=o.template,
                purpose=o.purpose,
                allow=", ".join(o.allow),
                ttl=_duration(o.ttl_s),
            )
            for i, o in enumerate(options)
        )
        body = h(
            "<div class=card><h1>Connect {client}?</h1>"
            "<dl><dt>Client</dt><dd class=client-name>{client}</dd>"
            "<dt>Client id</dt><dd class=client-id>{cid}</dd>"
            "<dt>Redirects to</dt><dd class=redirect-uri>{redirect}</dd>"
            "<dt>Gateway</dt><dd>{resource}</dd><dt>Requester</dt><dd>{who} (you)</dd></dl>"
            "<p>The client will call tools through this gateway as the agent you choose, within a task"
            " started from the template (a fresh task when one ends), until you or an administrator"
            " revoke it.</p>"
            "<form method=post action=/authorize class=decide>"
            "<input type=hidden name=csrf value='{csrf}'>{hidden}{rows}"
            "<div><button class=primary type=submit name=action value=approve>Approve</button> "
            "<button class=danger type=submit name=action value=deny>Deny</button></div></form></div>",
            client=req.client.name,
            cid=req.client.client_id,
            redirect=req.redirect_uri,
            resource=req.resource,
            who=who,
            csrf=info.csrf,
            hidden=_hidden(req.query()),
            rows=rows,
        )
        await self._page(
            send, "Connect a client", body, 200, who=who, csrf=info.csrf, form_to=req.redirect_uri
        )

    async def _authorize_post(self, scope: Scope, receive: Receive, send: Send) -> ProctorError | None:
        form = await _form(scope, receive) or {}
        info = await self._signed_in(scope)
        if info is None:
            await self._page(send, "Not signed in", _error("you are not signed in: start again"), 401)
            return None
        try:
            await run_in_threadpool(
                self.accounts.check_csrf,
                info,
                self._session_token(scope),
                form.get("csrf"),
                action="oauth.consent",
            )
        except CsrfInvalid as exc:
            await self._page(send, "Refused", _error(exc.message), 403)
            return exc
        params = {k: form[k] for k in _AUTH_FIELDS if k in form}
        req = await self._check(params, send)
        if req is None:
            return None
        email = str(info.approver.email)
        if form.get("action") != "approve":
            await _redirect(send, await run_in_threadpool(self.server.denied, req, email))
            return None
        try:
            to = await run_in_threadpool(self.server.consent, req, email, form.get("option", ""))
        except OAuthRefused as exc:
            await self._page(send, "Refused", _error(exc.message), 403, who=email, csrf=info.csrf)
            return exc
        except StoreError as exc:
            log.error("store error in the gateway's authorization server: %s", exc.message)
            await self._page(send, "Unavailable", _error("the store could not be read; try again"), 503)
            return exc
        except ProctorError as exc:
            await self._page(send, "Refused", _error(f"no task could be started: {exc.message}"), 409)
            return exc
        await _redirect(send, to)
        return None

    async def _page(
        self,
        send: Send,
        title: str,
        body: Html,
        status: int,
        *,
        who: str | None = None,
        csrf: str | None = None,
        cookies: list[str] | None = None,
        form_to: str | None = None,
    ) -> None:
        headers = {k.lower(): v for k, v in SECURITY_HEADERS.items()}
        if form_to is not None:
            # a browser holds the consent form's redirect to the client to the CSP's form-action
            parts = urlsplit(form_to)
            target = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
            headers["content-security-policy"] = headers["content-security-policy"].replace(
                "form-action 'self'", f"form-action 'self' {target}"
            )
        page = layout(title, body)
        if who is not None:
            page = Html(
                page.replace(
                    "<strong>Proctor</strong>",
                    f"<strong>Proctor</strong><span class=who>{esc(who)}</span>",
                    1,
                )
            )
        await _answer(send, status, page.encode(), "text/html; charset=utf-8", headers, cookies or [])


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds >= 60:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds)} s"


def _error(message: str) -> Html:
    return h("<div class=error><strong>{m}</strong></div>", m=message)


def _hidden(values: dict[str, str]) -> Html:
    return join(h("<input type=hidden name='{k}' value='{v}'>", k=k, v=v) for k, v in values.items())


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _cookies(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", []):
        if k.lower() == b"cookie":
            for part in v.decode("latin-1").split(";"):
                name, sep, value = part.strip().partition("=")
                if sep and name not in out:
                    out[name] = value
    return out


def _client_host(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if isinstance(client, list | tuple) and client else ""


def _set_cookie(name: str, value: str, max_age: int, secure: bool) -> str:
    flags = "; Secure" if secure else ""
    return f"{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{flags}"


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"")
    if len(raw) > MAX_FORM:
        return {}
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items() if v}


async def _body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _form(scope: Scope, receive: Receive) -> dict[str, str] | None:
    """An urlencoded form's fields (a field given twice is refused); None for anything else."""
    ctype = ""
    for k, v in scope.get("headers", []):
        if k.lower() == b"content-type":
            ctype = v.decode("latin-1")
    if ctype.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return None
    body = await _body(receive, MAX_FORM)
    if body is None:
        raise OAuthRefused("invalid_request", f"the form is over {MAX_FORM} bytes", status=413)
    try:
        parsed = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS, strict_parsing=False
        )
    except (UnicodeDecodeError, ValueError):
        raise OAuthRefused("invalid_request", "the form is not valid urlencoded UTF-8") from None
    if any(len(v) > 1 for v in parsed.values()):
        raise OAuthRefused("invalid_request", "a parameter is given twice")
    return {k: v[0] for k, v in parsed.items()}


async def _answer(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    extra: dict[str, str] | None = None,
    cookies: list[str] | None = None,
) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    headers += [(b"set-cookie", c.encode()) for c in cookies or []]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str, *, cookies: list[str] | None = None) -> None:
    extra = {k.lower(): v for k, v in SECURITY_HEADERS.items()}
    extra["location"] = location
    await _answer(send, 303, b"", "text/plain", extra, cookies)
