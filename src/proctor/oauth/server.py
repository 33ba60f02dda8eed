"""The gateway's OAuth 2.1 authorization server: what the MCP authorization spec expects of one.

One instance per HTTP gateway; its issuer is the gateway's base URL and its only resource the
gateway's MCP URL (RFC 8707). See ``docs/adr/0028-oauth-authorization-server.md``.

- Clients register dynamically (RFC 7591, public clients only) or present a Client ID Metadata
  Document URL as their ``client_id`` (fetched with a size and time limit; ``http://127.0.0.1``
  only when ``allow_http_client_ids`` is set, for tests). Redirect URIs match exactly, but for
  the port of a loopback redirect (RFC 8252 §7.3).
- Authorization code with PKCE S256 only. A person signs in (an approver account) and consents:
  the client acts as one agent on tasks started from one template, with that person as their
  requester. The code is single use; a replayed code revokes its grant.
- Access tokens: ES256 JWTs (``typ: at+jwt``, RFC 9068) signed by the workspace's ``oauth`` key
  ring, audience the gateway's MCP URL, naming the agent (``sub``), the task (``task``) and the
  grant (``grant``); short-lived (``gateway.oauth_access_ttl``).
- Refresh tokens: random, stored as their SHA-256, rotated on every use; a reused one revokes the
  whole grant (audited ``oauth.refresh_reused``) and ends its task. A refresh is refused once the
  grant is revoked or the agent suspended; when the grant's task has ended or expired, a refresh
  starts a fresh one from the template.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import math
import re
import secrets
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from proctor.accounts.passwords import token_hash
from proctor.clock import Clock, SystemClock
from proctor.errors import (
    OAuthRefused,
    ProctorError,
    StoreError,
    TokenInvalid,
)
from proctor.identity.keys import TYP_ACCESS_TOKEN, USE_OAUTH, SigningKeys
from proctor.store.base import (
    AgentRecord,
    OAuthClientRecord,
    OAuthCodeRecord,
    OAuthGrantRecord,
    OAuthRefreshRecord,
    TaskRecord,
)
from proctor.tasks.service import TASK_AUDIENCE
from proctor.types import AgentName, AgentStatus, SpiffeId, TaskId

#: real time, for network and wait deadlines that must pass whatever clock decides (the
#: injected one may be frozen in tests)
_REAL_TIME = SystemClock()

if TYPE_CHECKING:
    from proctor.app import Proctor

__all__ = [
    "GRANT_TOKEN_EXCHANGE",
    "SCOPE",
    "TOKEN_TYPE_ACCESS",
    "TOKEN_TYPE_JWT",
    "AccessClaims",
    "AuthorizationServer",
    "AuthorizeRequest",
    "Option",
    "RedirectRefusal",
    "grant_view",
    "list_grants",
    "pkce_s256",
    "revoke_grant",
    "revoke_person_grants",
]

#: RFC 8693 token exchange: a delegated child's task token, its chain in nested ``act`` claims
GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a type URI
TOKEN_TYPE_JWT = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105 - a type URI
TOKEN_TYPE_ACCESS = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a type URI
#: the one scope this server grants: use of the gateway's MCP endpoint, as the consented agent and task
SCOPE = "mcp"
CODE_TTL_S = 60.0
MAX_PARAM = 2048
MAX_REDIRECT_URIS = 8
MAX_CLIENT_NAME = 100
#: a Client ID Metadata Document is fetched with these bounds
CIMD_MAX_BYTES = 16 * 1024
CIMD_TIMEOUT_S = 5.0
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")
_LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")


def pkce_s256(verifier: str) -> str:
    """The S256 code challenge of ``verifier`` (RFC 7636 §4.2).

    >>> pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _is_loopback_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    netloc = parts.netloc
    if parts.scheme != "http" or "@" in netloc:
        # `http://127.0.0.1:1@evil.example/cb` is evil.example (the rest is userinfo)
        return False
    host = netloc if netloc.endswith("]") or ":" not in netloc else netloc.rsplit(":", 1)[0]
    return host in _LOOPBACK_HOSTS


def _check_redirect_uri(uri: Any) -> str:
    """A redirect URI a client may register: https, or http on a loopback host (RFC 8252 §7.3), or
    a private-use scheme (RFC 8252 §7.1, ``com.example.app:/cb``); no fragment."""
    if not isinstance(uri, str) or not 1 <= len(uri) <= MAX_PARAM or not uri.isprintable() or " " in uri:
        raise OAuthRefused("invalid_redirect_uri", "a redirect URI is a URL of at most 2048 characters")
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise OAuthRefused("invalid_redirect_uri", "a redirect URI has no fragment")
    if "@" in parts.netloc or "\\" in uri:
        # userinfo hides the host a browser goes to (`https://app.example@evil.example/cb`), on
        # the consent page too; a backslash is a slash to a browser but not to urlsplit
        raise OAuthRefused("invalid_redirect_uri", "a redirect URI has no user information")
    if parts.scheme == "https" and parts.netloc:
        return uri
    if _is_loopback_redirect(uri):
        return uri
    if re.fullmatch(r"[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+", parts.scheme or "") and parts.scheme not in (
        "http",
        "javascript",
        "data",
        "file",
    ):
        return uri
    raise OAuthRefused(
        "invalid_redirect_uri",
        "a redirect URI is https, http on a loopback address, or a private-use scheme (reverse domain)",
    )


def redirect_matches(registered: tuple[str, ...], uri: str) -> bool:
    """``uri`` is one of ``registered`` exactly; for a loopback http redirect, any port (RFC 8252
    §7.3: a native app takes the port it gets at run time).

    >>> redirect_matches(("http://127.0.0.1/cb",), "http://127.0.0.1:49152/cb")
    True
    >>> redirect_matches(("http://127.0.0.1/cb",), "http://127.0.0.1:49152/cb/../x")
    False
    """
    if uri in registered:
        return True
    if not _is_loopback_redirect(uri):
        return False
    bare = _portless(uri)
    if bare is None:
        return False
    return any(_is_loopback_redirect(reg) and _portless(reg) == bare for reg in registered)


def _portless(uri: str) -> str | None:
    """``uri`` without its port; None when its port is not a number."""
    parts = urlsplit(uri)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return None
    if parts.netloc.endswith(":"):
        return None
    host = parts.hostname or ""
    return parts._replace(netloc="[::1]" if host == "::1" else host).geturl()
    return False


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    """A checked authorization request (RFC 6749 §4.1.1 with PKCE and ``resource``)."""

    client: OAuthClientRecord
    redirect_uri: str
    state: str | None
    challenge: str
    resource: str
    scope: str

    def query(self) -> dict[str, str]:
        """The request's parameters, to carry through sign-in and the consent form."""
        q = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            "resource": self.resource,
            "scope": self.scope,
        }
        if self.state is not None:
            q["state"] = self.state
        return q


@dataclass(frozen=True, slots=True)
class Option:
    """One thing a person may consent to: ``agent`` on tasks of template ``template``."""

    template: str
    agent: str
    purpose: str
    allow: tuple[str, ...]
    ttl_s: float

    @property
    def key(self) -> str:
        return f"{self.template}|{self.agent}"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says."""

    agent: AgentName
    task_id: TaskId
    grant_id: str
    client_id: str
    exp: float


#: dynamic registrations one source address may make per window, and all sources together
REGISTER_PER_SOURCE = 10
REGISTER_GLOBAL = 100
REGISTER_WINDOW_S = 60.0
#: source addresses tracked at once; registrations from any further one share one bucket
REGISTER_MAX_SOURCES = 1024


class RegistrationLimiter:
    """Bounds ``POST /register`` (RFC 7591): anyone may register a client and each one is a stored
    row, so at most ``per_source`` registrations per source address and ``total`` from everyone
    in a window of ``window_s`` seconds (fixed windows on the injected clock's monotonic reading).
    A refusal counts toward nothing. Not thread-safe: the endpoint calls it on the event loop.

    >>> from proctor.clock import FrozenClock
    >>> clock = FrozenClock(0.0)
    >>> limiter = RegistrationLimiter(clock, per_source=2, total=3, window_s=10.0)
    >>> [limiter.admit(a) for a in ("a", "a", "a", "b", "c")]
    [None, None, 'source', None, 'total']
    >>> clock.advance(10.0)
    >>> limiter.admit("a")
    """

    def __init__(
        self,
        clock: Clock,
        *,
        per_source: int = REGISTER_PER_SOURCE,
        total: int = REGISTER_GLOBAL,
        window_s: float = REGISTER_WINDOW_S,
        max_sources: int = REGISTER_MAX_SOURCES,
    ) -> None:
        if per_source < 1 or total < 1 or not window_s > 0 or max_sources < 1:
            raise ValueError("registration limits: per_source, total, max_sources >= 1 and window_s > 0")
        self.clock = clock
        self.per_source = per_source
        self.total = total
        self.window_s = window_s
        self.max_sources = max_sources
        self._start = clock.monotonic()
        self._count = 0
        self._sources: dict[str, int] = {}

    def admit(self, source: str) -> str | None:
        """Count one registration from ``source``: None when it may go ahead, else which limit
        refuses it (``source`` or ``total``)."""
        now = self.clock.monotonic()
        if now - self._start >= self.window_s:
            self._start, self._count = now, 0
            self._sources.clear()
        key = source[:64] or "unknown"
        if key not in self._sources and len(self._sources) >= self.max_sources:
            key = "*"
        used = self._sources.get(key, 0)
        if used >= self.per_source:
            return "source"
        if self._count >= self.total:
            return "total"
        self._sources[key] = used + 1
        self._count += 1
        return None

    def retry_after(self) -> int:
        """Whole seconds until the current window ends (at least 1)."""
        return max(1, math.ceil(self.window_s - (self.clock.monotonic() - self._start)))


class AuthorizationServer:
    """The OAuth authorization server of one HTTP gateway (issuer ``issuer``, resource ``resource``)."""

    def __init__(
        self,
        proctor: Proctor,
        *,
        issuer: str,
        resource: str,
        fetch: Callable[[str], bytes] | None = None,
    ) -> None:
        self.proctor = proctor
        self.store = proctor.store
        self.clock = proctor.clock
        self.audit = proctor.audit
        settings = proctor.settings
        #: where the endpoints are (the gateway's origin) and the issuer identifier: that origin
        #: with its root path, as clients render it (``https://host/``), compared as a string
        #: (RFC 8414 §3.3, RFC 9207)
        self.base = issuer.rstrip("/")
        self.issuer = self.base + "/"
        self.resource = resource
        self.access_ttl_s = settings.oauth_access_ttl_s
        self.refresh_ttl_s = settings.oauth_refresh_ttl_s
        self.allow_http_client_ids = settings.oauth_allow_http_client_ids
        self.keys = SigningKeys(
            proctor.keydir, proctor.store, self.clock.now(), max_token_ttl=3600.0, use=USE_OAUTH
        )
        #: how a Client ID Metadata Document is fetched (a test may inject its own)
        self.fetch = fetch or self._fetch_document
        #: the bound on dynamic registrations (``POST /register``)
        self.registrations = RegistrationLimiter(self.clock)

    # metadata ----------------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """RFC 8414 authorization server metadata."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token",
            "registration_endpoint": f"{self.base}/register",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", GRANT_TOKEN_EXCHANGE],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": [SCOPE],
            "client_id_metadata_document_supported": True,
            "authorization_response_iss_parameter_supported": True,
            "service_documentation": "https://github.com/proctor/proctor#mcp-gateway",
        }

    # clients -----------------------------------------------------------------------------------
    def register(self, body: Any) -> dict[str, Any]:
        """RFC 7591 dynamic registration of a public client (no secret: PKCE protects the code)."""
        if not isinstance(body, dict):
            raise OAuthRefused("invalid_client_metadata", "the registration is a JSON object")
        uris = body.get("redirect_uris")
        if not isinstance(uris, list) or not 1 <= len(uris) <= MAX_REDIRECT_URIS:
            raise OAuthRefused(
                "invalid_redirect_uri", f"redirect_uris is a list of 1 to {MAX_REDIRECT_URIS} URLs"
            )
        checked = tuple(dict.fromkeys(_check_redirect_uri(u) for u in uris))
        method = body.get("token_endpoint_auth_method", "none")
        if method != "none":
            raise OAuthRefused(
                "invalid_client_metadata",
                "only public clients register here: token_endpoint_auth_method none",
            )
        grants = body.get("grant_types", ["authorization_code", "refresh_token"])
        if not isinstance(grants, list) or not set(grants) <= {"authorization_code", "refresh_token"}:
            raise OAuthRefused("invalid_client_metadata", "grant_types: authorization_code, refresh_token")
        name = _client_name(body.get("client_name"))
        now = self.clock.now()
        rec = OAuthClientRecord(
            client_id="pc_" + secrets.token_urlsafe(18),
            name=name,
            redirect_uris=checked,
            kind="dcr",
            created_at=now,
        )
        # not audited: anyone may register, so a record each would let anyone grow the log; the
        # consent that first uses a client records its name and redirect URI
        self.store.add_oauth_client(rec)
        return {
            "client_id": rec.client_id,
            "client_id_issued_at": int(now),
            "client_name": name,
            "redirect_uris": list(checked),
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }

    def client(self, client_id: str) -> OAuthClientRecord:
        """The client ``client_id`` names: registered here, or a metadata document URL (fetched)."""
        if not client_id or len(client_id) > MAX_PARAM or not client_id.isprintable():
            raise OAuthRefused("invalid_client", "unknown client")
        if client_id.startswith(("https://", "http://")):
            return self._cimd_client(client_id)
        rec = self.store.get_oauth_client(client_id)
        if rec is None or rec.kind != "dcr":
            raise OAuthRefused("invalid_client", "unknown client: register it first", status=401)
        return rec

    def _cimd_client(self, url: str) -> OAuthClientRecord:
        parts = urlsplit(url)
        dev = self.allow_http_client_ids and parts.scheme == "http" and parts.hostname == "127.0.0.1"
        if not (parts.scheme == "https" or dev) or not parts.hostname or parts.path in ("", "/"):
            raise OAuthRefused(
                "invalid_client", "a client id URL is https with a path (a Client ID Metadata Document)"
            )
        if parts.username or parts.password or parts.fragment or "#" in url:
            raise OAuthRefused("invalid_client", "a client id URL has no credentials or fragment")
        if not dev and _private_host(parts.hostname):
            raise OAuthRefused("invalid_client", "a client id URL names a public host")
        try:
            raw = self.fetch(url)
            doc = json.loads(raw)
        except OAuthRefused:
            raise
        except Exception:
            raise OAuthRefused("invalid_client", "the client's metadata document could not be read") from None
        if not isinstance(doc, dict) or doc.get("client_id") != url:
            raise OAuthRefused("invalid_client", "the client's metadata document names another client_id")
        uris = doc.get("redirect_uris")
        if not isinstance(uris, list) or not 1 <= len(uris) <= MAX_REDIRECT_URIS:
            raise OAuthRefused("invalid_client", "the client's metadata document lists no redirect_uris")
        if doc.get("token_endpoint_auth_method", "none") != "none":
            raise OAuthRefused("invalid_client", "only public clients (token_endpoint_auth_method none)")
        rec = OAuthClientRecord(
            client_id=url,
            name=_client_name(doc.get("client_name")),
            redirect_uris=tuple(dict.fromkeys(_check_redirect_uri(u) for u in uris)),
            kind="cimd",
            created_at=self.clock.now(),
        )
        self.store.add_oauth_client(rec)
        return rec

    def _fetch_document(self, url: str) -> bytes:
        """GET ``url`` with a time and size limit, no redirects, no cookies; on an address its
        host resolves to that is public (every one of them), connected to that very address
        (TLS still checks the host's name), so a name or an IPv4 spelling that reaches this host
        or a private network (``localhost.``, ``2130706433``, a DNS name of ``127.0.0.1``) is
        never fetched, nor one that resolves otherwise a moment later."""
        import httpx

        deadline = _REAL_TIME.monotonic() + CIMD_TIMEOUT_S
        target = httpx.URL(url)
        parts = urlsplit(url)
        dev = self.allow_http_client_ids and parts.scheme == "http" and parts.hostname == "127.0.0.1"
        # read as sent: httpx inflates a compressed body a read at a time with no bound (64 KiB of
        # zstd is gigabytes before the size check below), and the sender is whoever named the URL
        headers = {
            "Accept": "application/json",
            "Accept-Encoding": "identity",
            "Host": target.netloc.decode("ascii"),
        }
        extensions: dict[str, Any] = {"sni_hostname": target.host}
        if not dev:
            address = _public_address(target.host, target.port or 443)
            target = target.copy_with(host=address)
        with (
            httpx.Client(timeout=CIMD_TIMEOUT_S, follow_redirects=False, trust_env=False) as http,
            http.stream("GET", target, headers=headers, extensions=extensions) as resp,
        ):
            if resp.status_code != 200:
                raise OAuthRefused(
                    "invalid_client", f"the client's metadata document answered {resp.status_code}"
                )
            if resp.headers.get("content-encoding", "").strip().lower() not in ("", "identity"):
                raise OAuthRefused(
                    "invalid_client", "the client's metadata document was sent with a content encoding"
                )
            body = b""
            for chunk in resp.iter_raw():
                body += chunk
                if len(body) > CIMD_MAX_BYTES:
                    raise OAuthRefused("invalid_client", "the client's metadata document is too large")
                if _REAL_TIME.monotonic() > deadline:
                    # httpx's timeout bounds each read, not the whole: a server that trickles a
                    # byte now and then would hold this thread (of the gateway's pool) for hours
                    raise OAuthRefused("invalid_client", "the client's metadata document took too long")
            return body

    # authorization -----------------------------------------------------------------------------
    def check_authorize(self, params: Mapping[str, str]) -> AuthorizeRequest:
        """Check an authorization request. A refusal about the client or its redirect URI is shown
        to the person (never redirected: RFC 6749 §4.1.2.1); :meth:`error_redirect` sends the
        others back to the client."""
        for k, v in params.items():
            if len(v) > MAX_PARAM:
                raise OAuthRefused("invalid_request", f"parameter `{k[:40]}` is too long")
        client = self.client(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri and len(client.redirect_uris) == 1:
            redirect_uri = client.redirect_uris[0]
        if not redirect_uri or not redirect_matches(client.redirect_uris, redirect_uri):
            raise OAuthRefused("invalid_request", "redirect_uri is not one the client registered")
        state = params.get("state")
        req = AuthorizeRequest(
            client=client,
            redirect_uri=redirect_uri,
            state=state,
            challenge=params.get("code_challenge", ""),
            resource=params.get("resource", ""),
            scope=params.get("scope") or SCOPE,
        )
        if params.get("response_type") != "code":
            raise _redirectable(req, "unsupported_response_type", "response_type is `code`")
        if params.get("code_challenge_method") != "S256":
            raise _redirectable(req, "invalid_request", "PKCE is required: code_challenge_method S256")
        if not _CHALLENGE.fullmatch(req.challenge):
            raise _redirectable(req, "invalid_request", "code_challenge is an S256 challenge")
        if req.resource != self.resource:
            raise _redirectable(req, "invalid_target", f"resource is this gateway: {self.resource}")
        if set(req.scope.split()) - {SCOPE, "offline_access"}:
            raise _redirectable(req, "invalid_scope", f"the scope is `{SCOPE}`")
        return req

    def error_redirect(self, req: AuthorizeRequest, error: str, description: str = "") -> str:
        q = {"error": error, "iss": self.issuer}
        if description:
            q["error_description"] = description
        if req.state is not None:
            q["state"] = req.state
        return _with_query(req.redirect_uri, q)

    def options(self, email: str) -> list[Option]:
        """What ``email`` may consent to: each template and each of its agents that this person
        owns and that is active."""
        out = []
        low = email.lower()
        for tpl in self.store.list_templates():
            for agent_name in tpl.agents:
                agent = self.store.get_agent(AgentName(agent_name))
                if agent is None or agent.status is not AgentStatus.ACTIVE or agent.owner.lower() != low:
                    continue
                out.append(Option(tpl.name, agent_name, tpl.purpose, tuple(tpl.allow), float(tpl.ttl_s)))
        return out

    def consent(self, req: AuthorizeRequest, email: str, option_key: str) -> str:
        """``email`` approved ``req`` for one of their options: start its task, store the grant and
        a code; returns where to send the browser (the client's redirect URI with the code)."""
        chosen = next((o for o in self.options(email) if o.key == option_key), None)
        if chosen is None:
            raise OAuthRefused("access_denied", "that agent and template are not yours to grant")
        started = self._start(chosen.template, chosen.agent, email)
        now = self.clock.now()
        code = secrets.token_urlsafe(32)
        grant = OAuthGrantRecord(
            id="og_" + secrets.token_urlsafe(12),
            client_id=req.client.client_id,
            email=email,
            agent=chosen.agent,
            template=chosen.template,
            resource=req.resource,
            task_id=str(started.id),
            created_at=now,
            expires_at=now + self.refresh_ttl_s,
        )
        self.store.add_oauth_grant(
            grant,
            OAuthCodeRecord(
                code_hash=token_hash(code),
                grant_id=grant.id,
                client_id=req.client.client_id,
                redirect_uri=req.redirect_uri,
                challenge=req.challenge,
                resource=req.resource,
                created_at=now,
                expires_at=now + CODE_TTL_S,
            ),
        )
        self.audit.append(
            "oauth.consented",
            {
                "grant": grant.id,
                "client_id": req.client.client_id[:200],
                "client_name": req.client.name,
                "redirect_uri": req.redirect_uri[:300],
                "template": chosen.template,
                "by": email,
            },
            agent=chosen.agent,
            task=str(started.id),
        )
        q = {"code": code, "iss": self.issuer}
        if req.state is not None:
            q["state"] = req.state
        return _with_query(req.redirect_uri, q)

    def denied(self, req: AuthorizeRequest, email: str) -> str:
        self.audit.append("oauth.consent_denied", {"client_id": req.client.client_id[:200], "by": email})
        return self.error_redirect(req, "access_denied", "the person denied the request")

    def _start(self, template: str, agent: str, email: str) -> TaskRecord:
        started = self.proctor.tasks.start_from_template(
            template, agent=agent, requested_by=email, via="oauth"
        )
        task: TaskRecord = started.task
        return task

    # tokens ------------------------------------------------------------------------------------
    def token(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The token endpoint (RFC 6749 §3.2): ``authorization_code`` or ``refresh_token``."""
        for k, v in form.items():
            if len(v) > MAX_PARAM:
                raise OAuthRefused("invalid_request", f"parameter `{k[:40]}` is too long")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._code_grant(form)
        if grant_type == "refresh_token":
            return self._refresh_grant(form)
        if grant_type == GRANT_TOKEN_EXCHANGE:
            return self._token_exchange(form)
        raise OAuthRefused(
            "unsupported_grant_type",
            f"grant_type is authorization_code, refresh_token or {GRANT_TOKEN_EXCHANGE}",
        )

    # token exchange (RFC 8693, docs/adr/0037) ---------------------------------------------------
    def _token_exchange(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The delegated child's task token, its chain as nested ``act`` claims: the subject token
        is the parent's (its task token, or its access token from this server), the actor token
        the child agent's JWT-SVID, and the answer the token of the live task that parent task
        delegated to that agent (``Tasks.delegate`` made it, with its checks and policy; the
        exchange delegates nothing itself). Refusals are ``invalid_request`` (RFC 8693 §2.2.2:
        a token invalid or unacceptable), ``invalid_target`` (another audience or resource) and
        ``invalid_scope``; once the subject token is verified, each is audited
        (``oauth.token_exchange_refused``)."""
        subject, subject_type = form.get("subject_token", ""), form.get("subject_token_type", "")
        actor, actor_type = form.get("actor_token", ""), form.get("actor_token_type", "")
        if not subject or not subject_type:
            raise OAuthRefused("invalid_request", "subject_token and subject_token_type are required")
        if not actor or not actor_type:
            # no impersonation: a child's token always names who acts
            raise OAuthRefused("invalid_request", "actor_token and actor_token_type are required")
        if subject_type not in (TOKEN_TYPE_JWT, TOKEN_TYPE_ACCESS):
            raise OAuthRefused(
                "invalid_request",
                f"subject_token_type is {TOKEN_TYPE_JWT} (a task token) or {TOKEN_TYPE_ACCESS}",
            )
        if actor_type != TOKEN_TYPE_JWT:
            raise OAuthRefused("invalid_request", f"actor_token_type is {TOKEN_TYPE_JWT} (a JWT-SVID)")
        requested = form.get("requested_token_type", TOKEN_TYPE_JWT)
        if requested != TOKEN_TYPE_JWT:
            raise OAuthRefused("invalid_request", f"only {TOKEN_TYPE_JWT} (a task token) is issued")
        if form.get("audience", TASK_AUDIENCE) != TASK_AUDIENCE:
            raise OAuthRefused("invalid_target", f"the exchanged token's audience is `{TASK_AUDIENCE}`")
        if form.get("resource", self.resource) != self.resource:
            raise OAuthRefused("invalid_target", "resource is not this gateway's MCP URL")
        if form.get("scope"):
            raise OAuthRefused("invalid_scope", "the child's scope is its delegation's: send no scope")
        now = self.clock.now()
        parent_agent, parent_task = self._exchange_subject(subject, subject_type, now)
        # an actor that is no agent's SVID is not audited here either: a parent's task token is
        # handed to its child, so it is no proof of who is asking; the gateway's rate-limited
        # refusal record covers it (a garbage actor token must not fill the log, once per request)
        child_agent = self._exchange_actor(actor)
        try:
            return self._exchange(parent_agent, parent_task, child_agent, now)
        except OAuthRefused as exc:
            self.audit.append(
                "oauth.token_exchange_refused",
                {"parent": str(parent_task), "reason": exc.message[:500], "error": exc.error},
                agent=str(parent_agent),
                task=str(parent_task),
            )
            raise

    def _exchange_subject(self, token: str, token_type: str, now: float) -> tuple[AgentName, TaskId]:
        """The parent agent and task a subject token names (its signature, audience, expiry)."""
        try:
            if token_type == TOKEN_TYPE_ACCESS:
                access = self.verify_access(token)
                return access.agent, access.task_id
            claims = self.proctor.tasks.keys.verify_claims(token, TASK_AUDIENCE, now)
            sub, task = claims.get("sub"), claims.get("task")
            if not isinstance(sub, str) or not isinstance(task, str):
                raise TokenInvalid("the task token names no agent or task")
            return SpiffeId(sub).agent_name, TaskId(task)
        except StoreError:
            raise
        except ProctorError as exc:
            raise OAuthRefused("invalid_request", f"subject_token rejected: {exc.message}") from None

    def _exchange_actor(self, actor: str) -> AgentRecord:
        """The agent whose JWT-SVID the actor token is (its signature, audience, expiry)."""
        try:
            return self.proctor.agents.get(str(self.proctor.agents.verify_svid(actor).agent))
        except StoreError:
            raise
        except ProctorError as exc:
            raise OAuthRefused("invalid_request", f"actor_token rejected: {exc.message}") from None

    def _exchange(
        self, parent_agent: AgentName, parent_id: TaskId, child_agent: AgentRecord, now: float
    ) -> dict[str, Any]:
        tasks = self.proctor.tasks
        parent = self.store.get_task(parent_id)
        if parent is None or parent.agent != parent_agent:
            raise OAuthRefused("invalid_request", "the subject token's task is not its agent's")
        if not parent.is_live(now) or tasks.task_killed(parent.id):
            raise OAuthRefused("invalid_request", f"the parent task `{parent.id}` is no longer active")
        for name in (parent_agent, child_agent.name):
            agent = self.store.get_agent(AgentName(name))
            if agent is None or agent.status is not AgentStatus.ACTIVE or tasks.agent_killed(str(name)):
                raise OAuthRefused("invalid_request", f"agent `{name}` is suspended")
        try:
            tasks.check_lineage(parent)
        except ProctorError as exc:
            raise OAuthRefused("invalid_request", exc.message) from None
        live = [
            t
            for t in self.store.child_tasks(parent.id)
            if t.agent == child_agent.name and t.is_live(now) and not tasks.task_killed(t.id)
        ]
        if not live:
            raise OAuthRefused(
                "invalid_request",
                f"task `{parent.id}` has no live delegation to agent `{child_agent.name}`",
            )
        # several live delegations of one parent to one agent: the latest (each passed the
        # same checks; the child names which by the token it is handed, if it must)
        child = max(live, key=lambda t: (t.created_at, str(t.id)))
        ttl = child.deadline - now
        if ttl < 1:
            raise OAuthRefused("invalid_request", f"the delegated task `{child.id}` has ended")
        token = tasks.task_token(child, child_agent, now, ttl)
        self.audit.append(
            "oauth.token_exchanged",
            {
                "parent": str(parent.id),
                "parent_agent": str(parent_agent),
                "chain": [{"agent": a, "task": t} for a, t in child.chain_pairs()],
            },
            agent=str(child_agent.name),
            task=str(child.id),
        )
        return {
            "access_token": token,
            "issued_token_type": TOKEN_TYPE_JWT,
            # not a bearer token: the child presents it beside its own SVID (RFC 8693 §2.2.1)
            "token_type": "N_A",
            "expires_in": max(1, int(ttl) - 1),
            "task": str(child.id),
        }

    def _code_grant(self, form: Mapping[str, str]) -> dict[str, Any]:
        code, verifier = form.get("code", ""), form.get("code_verifier", "")
        if not code:
            raise OAuthRefused("invalid_request", "code is required")
        now = self.clock.now()
        rec, first = self.store.use_oauth_code(token_hash(code), now)
        if rec is None:
            raise OAuthRefused("invalid_grant", "unknown authorization code")
        if not first:
            # RFC 6749 §4.1.2: a code used twice is stolen or replayed: what it granted is revoked
            self.revoke(rec.grant_id, "code_replayed")
            raise OAuthRefused("invalid_grant", "the authorization code was used already")
        if now >= rec.expires_at:
            raise OAuthRefused("invalid_grant", "the authorization code has expired")
        if form.get("client_id", "") != rec.client_id:
            raise OAuthRefused("invalid_grant", "the code was issued to another client")
        if form.get("redirect_uri", "") != rec.redirect_uri:
            raise OAuthRefused("invalid_grant", "redirect_uri differs from the authorization request's")
        if not _VERIFIER.fullmatch(verifier) or not hmac.compare_digest(pkce_s256(verifier), rec.challenge):
            raise OAuthRefused("invalid_grant", "the PKCE code_verifier does not match")
        resource = form.get("resource", rec.resource)
        if resource != rec.resource:
            raise OAuthRefused("invalid_target", "resource differs from the authorization request's")
        grant = self._live_grant(rec.grant_id, now)
        refresh = secrets.token_urlsafe(32)
        self.store.add_oauth_refresh(OAuthRefreshRecord(token_hash(refresh), grant.id, now, grant.expires_at))
        return self._tokens(grant, refresh, now, "oauth.token_issued")

    def _refresh_grant(self, form: Mapping[str, str]) -> dict[str, Any]:
        old = form.get("refresh_token", "")
        if not old:
            raise OAuthRefused("invalid_request", "refresh_token is required")
        now = self.clock.now()
        new = secrets.token_urlsafe(32)
        known, used = self.store.peek_oauth_refresh(token_hash(old))
        grant: OAuthGrantRecord | None = None
        if known is not None and not used:
            # the grant is checked before the token is spent: a refusal that is no theft (the
            # agent suspended for a while, no task could start) leaves the client its token, so
            # its retry later is not taken for a reuse that revokes the grant
            grant = self._live_grant(known, now)
            if form.get("client_id", grant.client_id) != grant.client_id:
                self.revoke(known, "refresh_other_client")
                raise OAuthRefused("invalid_grant", "the refresh token was issued to another client")
            if form.get("resource", grant.resource) != grant.resource:
                raise OAuthRefused("invalid_target", "resource differs from the grant's")
        grant_id, outcome = self.store.rotate_oauth_refresh(
            token_hash(old), OAuthRefreshRecord(token_hash(new), "", now, now + self.refresh_ttl_s), now
        )
        if grant_id is None:
            raise OAuthRefused("invalid_grant", "unknown or revoked refresh token")
        if outcome == "reused":
            self.revoke(grant_id, "refresh_reused")
            raise OAuthRefused("invalid_grant", "the refresh token was used already: the grant is revoked")
        if outcome != "ok" or grant is None or grant.id != grant_id:
            raise OAuthRefused("invalid_grant", "the refresh token has expired")
        return self._tokens(grant, new, now, "oauth.token_refreshed")

    def _live_grant(self, grant_id: str, now: float) -> OAuthGrantRecord:
        """The grant, still valid, its agent active, naming a live task (a fresh one from its
        template when the last has ended or expired)."""
        grant = self.store.get_oauth_grant(grant_id)
        if grant is None or grant.revoked_at is not None:
            raise OAuthRefused("invalid_grant", "the grant is revoked")
        if now >= grant.expires_at:
            raise OAuthRefused("invalid_grant", "the grant has expired: authorize again")
        agent = self.store.get_agent(AgentName(grant.agent))
        if agent is None or agent.status is not AgentStatus.ACTIVE:
            self.audit.append(
                "oauth.refused", {"grant": grant.id, "reason": "agent_suspended"}, agent=grant.agent
            )
            raise OAuthRefused("invalid_grant", f"agent `{grant.agent}` is suspended")
        if self._person_disabled(grant.email) or agent.owner.lower() != grant.email.lower():
            # the consent was this person's, as the agent's owner: a disabled account (whose web
            # sessions ended) or an agent now owned by another ends what they granted
            self.revoke(grant.id, "person_disabled_or_not_owner")
            raise OAuthRefused("invalid_grant", "the person who consented may no longer grant this agent")
        task = self.store.get_task(TaskId(grant.task_id))
        if task is None or not task.is_live(now):
            try:
                fresh = self._start(grant.template, grant.agent, grant.email)
            except StoreError:
                raise  # fail closed, its detail for the operator's log only
            except ProctorError as exc:
                raise OAuthRefused("invalid_grant", f"no task can be started: {exc.message}") from None
            self.store.set_oauth_grant_task(grant.id, str(fresh.id))
            self.audit.append(
                "oauth.task_renewed",
                {"grant": grant.id, "template": grant.template, "previous": grant.task_id},
                agent=grant.agent,
                task=str(fresh.id),
            )
            grant = self.store.get_oauth_grant(grant.id) or grant
        return grant

    def _person_disabled(self, email: str) -> bool:
        """Whether a disabled account has this address in any case (as approvals compare it)."""
        low = email.lower()
        return any(u.disabled and u.email.lower() == low for u in self.store.list_users())

    def _tokens(self, grant: OAuthGrantRecord, refresh: str, now: float, event: str) -> dict[str, Any]:
        agent = self.store.get_agent(AgentName(grant.agent))
        task = self.store.get_task(TaskId(grant.task_id))
        if agent is None or task is None:
            raise OAuthRefused("invalid_grant", "the grant's agent or task is gone")
        # never longer than the task it names: the client refreshes, and gets a fresh task
        ttl = max(1.0, min(self.access_ttl_s, task.deadline - now))
        access = self.keys.sign_claims(
            {
                "iss": self.issuer,
                "sub": str(agent.spiffe_id),
                "aud": [grant.resource],
                "client_id": grant.client_id,
                "task": grant.task_id,
                "grant": grant.id,
                "scope": SCOPE,
            },
            now,
            ttl,
            typ=TYP_ACCESS_TOKEN,
        )
        self.audit.append(
            event,
            {"grant": grant.id, "client_id": grant.client_id[:200]},
            agent=grant.agent,
            task=grant.task_id,
        )
        return {
            "access_token": access,
            "token_type": "Bearer",
            # what is left of it once floored to whole seconds, so a client never holds it too long
            "expires_in": max(1, int(ttl) - 1),
            "refresh_token": refresh,
            "scope": SCOPE,
        }

    def revoke(self, grant_id: str, reason: str) -> None:
        """Revoke a grant (every refresh token of it) and end its task, audited."""
        revoke_grant(self.proctor, grant_id, reason, by="oauth")

    # resource side -----------------------------------------------------------------------------
    def verify_access(self, token: str) -> AccessClaims:
        """Check an access token presented to the gateway: signed by this workspace's ``oauth``
        ring, issued here, for this gateway's MCP URL, naming an agent, a task and a grant that
        is not revoked. Raises :class:`TokenInvalid` (or another identity error)."""
        now = self.clock.now()
        verified = self.keys.verify_credential_token(token, now)
        claims = verified.claims
        if claims.get("iss") != self.issuer:
            raise TokenInvalid("the access token was issued by another authorization server")
        if self.resource not in verified.audience:
            from proctor.errors import TokenAudienceMismatch

            raise TokenAudienceMismatch(
                f"token is not for audience `{self.resource}`", audience=self.resource
            )
        sub, task, grant_id = claims.get("sub"), claims.get("task"), claims.get("grant")
        if not isinstance(sub, str) or not isinstance(task, str) or not isinstance(grant_id, str):
            raise TokenInvalid("the access token names no agent, task or grant")
        try:
            agent = SpiffeId(sub).agent_name
        except ProctorError:
            raise TokenInvalid("the access token's subject is not an agent") from None
        grant = self.store.get_oauth_grant(grant_id)
        if grant is None or grant.revoked_at is not None or grant.agent != agent:
            raise TokenInvalid("the access token's grant is revoked")
        if self._person_disabled(grant.email):
            # disabling an account ends its sessions at once: what it consented to as well
            raise TokenInvalid("the person who granted this access token is disabled")
        return AccessClaims(agent, TaskId(task), grant_id, str(claims.get("client_id", "")), verified.exp)


def revoke_grant(proctor: Proctor, grant_id: str, reason: str, *, by: str) -> bool:
    """Revoke a grant (:meth:`proctor.app.Proctor.revoke_oauth_grant`)."""
    return proctor.revoke_oauth_grant(grant_id, reason, by=by)


def revoke_person_grants(proctor: Proctor, email: str, *, by: str) -> int:
    """Revoke every live grant ``email`` consented to (:meth:`proctor.app.Proctor.revoke_person_grants`)."""
    return proctor.revoke_person_grants(email, by=by)


def list_grants(proctor: Proctor, agent: str | None = None) -> list[OAuthGrantRecord]:
    """Every grant (of ``agent``), newest first."""
    return proctor.store.list_oauth_grants(agent)


def grant_view(grant: OAuthGrantRecord) -> dict[str, Any]:
    """The JSON shape the CLI shows of a grant (no token: none is stored)."""
    return {
        "id": grant.id,
        "client_id": grant.client_id,
        "person": grant.email,
        "agent": grant.agent,
        "template": grant.template,
        "resource": grant.resource,
        "task": grant.task_id,
        "created_at": grant.created_at,
        "expires_at": grant.expires_at,
        "revoked_at": grant.revoked_at,
        "revoked_reason": grant.revoked_reason or None,
    }


def _client_name(raw: Any) -> str:
    if raw is None:
        return "unnamed client"
    if not isinstance(raw, str):
        raise OAuthRefused("invalid_client_metadata", "client_name is a string")
    name = " ".join(raw.split())[:MAX_CLIENT_NAME]
    if not name or not name.isprintable():
        return "unnamed client"
    return name


def _public_address(host: str, port: int) -> str:
    """The address to fetch ``host`` from: the first it resolves to, when every one is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise OAuthRefused("invalid_client", "the client id URL's host does not resolve") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            ip = None
        if ip is None or not ip.is_global or (ip.version == 6 and ip.ipv4_mapped is not None):
            raise OAuthRefused("invalid_client", "a client id URL names a public host")
    if not addresses:
        raise OAuthRefused("invalid_client", "the client id URL's host does not resolve")
    return addresses[0]


def _private_host(host: str) -> bool:
    host = host.rstrip(".")
    if host.lower() in ("localhost",) or host.lower().endswith((".localhost", ".local", ".internal")):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not ip.is_global


def _with_query(uri: str, q: Mapping[str, str]) -> str:
    sep = "&" if urlsplit(uri).query else "?"
    return uri + sep + urlencode(q)


class RedirectRefusal(OAuthRefused):
    """A refused authorization request whose client and redirect URI were checked: the answer
    goes back to the client (RFC 6749 §4.1.2.1)."""

    def __init__(self, req: AuthorizeRequest, error: str, message: str) -> None:
        super().__init__(error, message)
        self.request = req


def _redirectable(req: AuthorizeRequest, error: str, message: str) -> OAuthRefused:
    return RedirectRefusal(req, error, message)
