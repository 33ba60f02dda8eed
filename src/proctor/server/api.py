"""The HTTP API under ``/v1``, the JWKS and ``/healthz``, with an OpenAPI document.

Management endpoints need the workspace's admin token; ``/v1/decide`` needs an agent's JWT-SVID;
``/v1/introspect`` (RFC 7662) needs an introspection client's HTTP Basic credentials.
Errors are JSON ``{"error": {"code", "message"}}`` with a stable code; no stack trace reaches a client.
Every status an operation can answer is in the OpenAPI document; invalid input (a body, a path or a
query parameter that does not fit the document, or a value the server refuses) is ``400
invalid_input`` everywhere, never ``422``. Ids, names and states carry the patterns and enums of the
value types in :mod:`proctor.types`, so the document and the server accept the same values.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, unquote_plus

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from proctor.app import Proctor
from proctor.approvals.model import ApprovalState, Approver, WaitSlots
from proctor.audit.export import parsed_body
from proctor.audit.refusals import RefusalLimiter, RefusalLimits
from proctor.config import tool_from_mapping, tool_to_mapping
from proctor.credentials.providers.jwt import check_introspection_client
from proctor.errors import (
    AdminTokenInvalid,
    AgentSuspended,
    ApprovalWaitCapReached,
    Conflict,
    DelegationExceeds,
    IntrospectionClientInvalid,
    ProctorError,
    SecretKeyInvalid,
    StoreError,
    TaskNotActive,
    TaskTokenInvalid,
    UnknownApproval,
    UnknownDecision,
    ValidationError,
)
from proctor.pipeline import CallInput, printable
from proctor.policy.engine import deny
from proctor.store.base import AgentRecord, AuditQuery, TaskRecord
from proctor.tasks.service import task_view
from proctor.tasks.templates import template_view
from proctor.types import (
    AgentName,
    AgentStatus,
    ApprovalId,
    DecisionId,
    Effect,
    Email,
    LeaseId,
    LeaseState,
    TaskId,
    TaskState,
    ToolName,
    Verdict,
)
from proctor.workspace import ADMIN_PREFIX, Workspace

__all__ = [
    "DECIDE_REFUSED_KIND",
    "DOCS_ASSETS",
    "MAX_BODY",
    "MAX_INTROSPECT_BODY",
    "REFUSED_KIND",
    "create_app",
]


log = logging.getLogger(__name__)
MAX_BODY = 1 << 20
#: an introspection request is a token (at most 8 KiB) and a hint: anything larger is refused unread
MAX_INTROSPECT_BODY = 16 * 1024
_MAX_BASIC = 4096
_FORM = "application/x-www-form-urlencoded"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BASIC_CHALLENGE = 'Basic realm="proctor-introspection"'
#: the record kind of a request refused for want of the admin token (rate-limited per source)
REFUSED_KIND = "api.refused"
DECIDE_REFUSED_KIND = "decide.refused"
#: a count the stores keep in a signed 64-bit column, with room to spare
_MAX_COUNT = 1_000_000_000
#: the largest audit sequence number a store holds (a signed 64-bit column)
_MAX_SEQ = (1 << 63) - 1

AgentNameStr = Annotated[str, Field(pattern=AgentName.json_pattern(), description="An agent's name.")]
EmailStr = Annotated[str, Field(pattern=Email.json_pattern())]
ToolNameStr = Annotated[str, Field(pattern=ToolName.json_pattern(), description="`namespace.tool`.")]
EffectStr = Annotated[str, Field(pattern=Effect.json_pattern())]
NamePath = Annotated[str, Path(pattern=AgentName.json_pattern(), description="An agent's name.")]
TaskPath = Annotated[str, Path(pattern=TaskId.json_pattern(), description="A task id (`tsk_…`).")]
_TEMPLATE_PATTERN = "^[a-z0-9][a-z0-9._-]{0,62}$"
TemplateNameStr = Annotated[str, Field(pattern=_TEMPLATE_PATTERN, description="A task template's name.")]
TemplatePath = Annotated[str, Path(pattern=_TEMPLATE_PATTERN, description="A task template's name.")]
LeasePath = Annotated[str, Path(pattern=LeaseId.json_pattern(), description="A lease id (`lse_…`).")]
DecisionPath = Annotated[str, Path(pattern=DecisionId.json_pattern(), description="A decision id (`dec_…`).")]
ApprovalPath = Annotated[
    str, Path(pattern=ApprovalId.json_pattern(), description="An approval request id (`apr_…`).")
]
ApprovalStateQuery = Literal["pending", "approved", "denied", "expired", "used", "all"]
AgentQuery = Annotated[str | None, Query(pattern=AgentName.json_pattern())]
TaskQuery = Annotated[str | None, Query(pattern=TaskId.json_pattern())]
#: how a task may be ended (`expired` is the sweeper's, `active` is no ending)
EndState = Literal[TaskState.COMPLETED, TaskState.CANCELLED]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable: clients match on it.")
    message: str


class ErrorOut(BaseModel):
    """Every error answer (but `/v1/decide`'s, which answers with a deny decision)."""

    error: ErrorDetail


# what the main operations answer (documentation: the handlers build these shapes, and the
# contract test, tests/e2e/test_http_api_contract.py, checks every answer against them)
class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class AgentOut(_Out):
    """An agent (`proctor agent show`)."""

    name: str
    spiffe_id: str = Field(description="`spiffe://<trust domain>/agent/<name>`.")
    owner: str
    status: AgentStatus
    selectors: list[str]
    created_at: float = Field(description="Unix seconds.")
    version: int


class JoinTokenOut(_Out):
    join_token: str = Field(description="Single-use; exchange it at `POST /v1/identity/svid`.")
    expires_in: float = Field(description="Seconds.")


class SvidOut(_Out):
    svid: str = Field(description="The agent's JWT-SVID: the bearer token of `/v1/decide`.")
    expires_in: float = Field(description="Seconds.")


class TaskOut(_Out):
    """A task: its declared intent, scope and budget."""

    id: str
    agent: str
    purpose: str
    state: TaskState
    allow: list[str] = Field(description="Tool patterns the task may call.")
    resources: list[str]
    requested_by: str
    created_at: float
    deadline: float
    max_calls: int | None
    calls_used: int
    ended_at: float | None
    end_reason: str | None
    params: dict[str, str] = Field(default_factory=dict)


class TemplateOut(_Out):
    """A task template: a stored task intent the agents it lists may start tasks from
    (docs/adr/0029)."""

    name: str
    purpose: str
    allow: list[str]
    resources: list[str]
    ttl_s: float
    max_calls: int | None
    requested_by: str | None = Field(description="None: whoever starts a task from it is the requester.")
    agents: list[str]
    params: dict[str, str]
    created_at: float
    created_by: str


class TaskStartedOut(_Out):
    task: TaskOut
    token: str = Field(description="The task token, bound to the agent and the task.")
    warnings: list[str] = Field(
        default_factory=list,
        description="`allow` patterns accepted although they match no known tool yet: they can only"
        " match tools of an upstream that is not pinned, known once the gateway lists them.",
    )


class ToolLabelsOut(_Out):
    trust: Literal["trusted", "untrusted"]
    sensitivity: Literal["public", "internal", "confidential", "secret"]


class ToolOut(_Out):
    """A registered tool (docs/config-reference.md, `tools[]`)."""

    name: str
    effect: str
    resource: str
    labels: ToolLabelsOut
    flags: list[str]
    resource_arg: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    destinations: list[str] | None = None


class ScopeOut(_Out):
    ok: bool
    reason: str | None
    resource: str | None


class DecisionOut(_Out):
    """A decision. Every decision of an identified agent is in the audit log before it is answered."""

    decision: Verdict
    decision_id: str = Field(description="`dec_…`: `proctor audit show` rebuilds the call from it.")
    policy_version: str
    reasons: list[str]
    policies: list[str] = Field(description="The policies that determined it.")
    scope: ScopeOut | None
    approval: str | None = Field(description="Who must approve, for `approval_required`.")
    errors: list[str] = Field(description="Stable codes of what failed while deciding (a deny).")
    approval_id: str | None = Field(default=None, description="`apr_…`, for `approval_required`.")


class ProblemOut(_Out):
    seq: int
    code: str
    message: str


class VerifyOut(_Out):
    ok: bool
    records_checked: int
    checkpoints_checked: int
    head_seq: int
    problems: list[ProblemOut]
    recoveries: list[dict[str, Any]]
    writers: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Each writer's chain (docs/adr/0036): writer, ok, records, head_wseq, head_seq,"
        " checkpoints, unsigned_tail, problem, and host, pid, started_at as registered.",
    )


class ApprovalOut(_Out):
    """An approval request (never the arguments: `GET /v1/approvals/{id}` shows them)."""

    id: str
    state: Literal["pending", "approved", "denied", "expired", "used"]
    agent: str
    task: str
    tool: str
    effects: list[str]
    policies: list[str]
    reasons: list[str]
    approvers: list[str] = Field(description="`owner` or group names.")
    four_eyes: bool
    owner: str | None
    requester: str | None
    created_at: float
    expires_at: float
    decision_id: str | None
    decided_at: float | None
    decided_by: str | None
    reason: str | None


def _only_ref(schema: Any) -> None:
    """A documented answer model wins over the handler's ``dict[str, Any]`` annotation, which
    FastAPI merges beside the model's ``$ref``: keep the ``$ref`` alone (in items too)."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        for key in [k for k in schema if k != "$ref"]:
            del schema[key]
    elif schema.get("type") == "array":
        _only_ref(schema.get("items"))


def _ok(model: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": model, "description": "Success."}}


#: what each documented error status means, for the OpenAPI document
_WHY = {
    400: "Invalid input (`invalid_input` or a more specific code): a body, path or query parameter"
    " that does not fit this document, or a value the server refuses.",
    401: "Missing or wrong credentials (`WWW-Authenticate` says which kind).",
    403: "The caller is known but may not do this.",
    404: "No such agent, task, lease, tool or decision.",
    409: "The resource is not in a state that allows this (e.g. the task already ended).",
    413: "The request body is too large (`payload_too_large`).",
    415: "The request body is not of the media type this operation takes.",
    429: "Too many: the approver account is locked after failed sign-ins (`account_locked`), or the"
    " agent has as many pending approval requests as it may (`approval_cap_reached`).",
    500: "An internal or configuration error (`internal_error`, `config_invalid`, …); it is logged.",
    502: "A credential provider failed (`lease_issue_failed`).",
    503: "The store could not be read or written (`store_*`); try again.",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorOut, "description": _WHY[s]} for s in statuses}


#: what every operation can answer: an oversized announced body is refused before routing, and any
#: operation can meet a store that is down or an internal error
_ANY = (400, 413, 500, 503)
_ADMIN = _errors(*_ANY, 401)


def _w(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """An admin operation's errors, and ``statuses`` besides."""
    return _errors(*_ANY, 401, *statuses)


#: a kill (suspension, task end) enforced from the kill file and recorded once the store is back
_PENDING_DOC: dict[str, Any] = {
    "description": "The store or the audit log is unavailable: enforced now by every Proctor process of"
    " the workspace on this host, recorded once they are back (see docs/adr/0018).",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


def _pending(kind: str, target: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "target": target,
        "enforced": True,
        "recorded": False,
        "note": "the store or the audit log is unavailable: enforced now, recorded once they are back",
    }


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class AgentIn(_In):
    name: AgentNameStr
    owner: EmailStr | None = Field(
        default=None, description="The accountable human (required: without it, `owner_required`)."
    )
    selectors: list[str] = Field(default_factory=list)


class StatusIn(_In):
    reason: str = ""


class SvidIn(_In):
    join_token: str
    audience: str | None = None


class TaskIn(_In):
    agent: AgentNameStr
    purpose: str
    allow: list[str]
    requested_by: EmailStr
    resources: list[str] = Field(default_factory=list)
    ttl_s: float | None = Field(default=None, gt=0)
    max_calls: int | None = Field(default=None, ge=1, le=_MAX_COUNT)
    params: dict[str, str] = Field(
        default_factory=dict,
        description='Explicit intent parameters (`{"recipient": "ap@acme.example"}`): arguments'
        " of the task's calls that carry them trace to the intent (docs/adr/0025).",
    )


class TaskDelegateIn(_In):
    """A child task for another agent, within the parent's scope (docs/adr/0032)."""

    task_token: str = Field(description="The parent task's token (bound to the calling agent).")
    agent: AgentNameStr = Field(description="The agent the child task is for.")
    allow: list[str] = Field(description="Tool patterns, each within the parent's.")
    resources: list[str] = Field(default_factory=list)
    ttl_s: float | None = Field(default=None, gt=0)
    max_calls: int | None = Field(default=None, ge=1, le=_MAX_COUNT)
    purpose: str | None = Field(
        default=None, description="What the child is for: recorded, never the child's intent."
    )


class TemplateIn(_In):
    name: TemplateNameStr
    agents: list[AgentNameStr] = Field(min_length=1, max_length=64, description="Agents that may use it.")
    purpose: str = Field(min_length=1, max_length=2000)
    allow: list[str] = Field(min_length=1, max_length=256)
    resources: list[str] = Field(default_factory=list, max_length=256)
    ttl_s: float | None = Field(default=None, gt=0, le=_MAX_COUNT)
    max_calls: int | None = Field(default=None, ge=1, le=_MAX_COUNT)
    requested_by: EmailStr | None = None
    params: dict[str, str] = Field(default_factory=dict)
    replace: bool = Field(default=False, description="Replace a template of that name.")


class TemplateStartIn(_In):
    agent: AgentNameStr
    requested_by: EmailStr | None = Field(
        default=None, description="Used only when the template names no requester."
    )


class TaskEndIn(_In):
    state: EndState = TaskState.COMPLETED
    reason: str = ""


class ToolIn(_In):
    name: ToolNameStr
    effect: EffectStr
    resource: str = "*"
    resource_arg: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    description: str = ""


class ApproveIn(_In):
    reason: str = Field(min_length=1, max_length=2000, description="Why (kept in the audit log).")
    narrowing: dict[str, dict[str, Any]] | None = Field(
        default=None,
        description="Approve for the rest of the task within bounds instead of this call alone, e.g."
        ' `{"recipient": {"eq": "DE89…"}, "amount": {"max": 1000}}` (`eq`, `in`, `max`, `min`).',
    )


class DenyIn(_In):
    reason: str = Field(min_length=1, max_length=2000, description="Why (kept in the audit log).")


class OutputIn(_In):
    """What a tool returned to an in-process caller that decides through ``/v1/decide``."""

    tool: str = Field(max_length=256)
    output: str = Field(max_length=16 << 20, description="The text the tool returned.")
    task_token: str | None = Field(default=None, description="With an agent's JWT-SVID: its task token.")
    task: str | None = Field(default=None, max_length=128, description="With the admin token: the task id.")
    decision_id: str | None = Field(default=None, max_length=128)
    args: dict[str, Any] | None = Field(default=None, description="The call's arguments (kept sealed).")
    status: Literal["ok", "tool_error"] = Field(
        default="ok", description="`tool_error` when the tool failed: `output` is then its error text."
    )


class ApprovalWaitIn(_In):
    task_token: str = Field(description="The task token of the held call's task.")
    timeout_s: float = Field(
        default=0,
        ge=0,
        le=30,
        description="Wait up to this long (at most 30 s) while the request is pending.",
    )


class ApprovalWaitOut(_Out):
    approval_id: str
    state: str = Field(description="`pending`, `approved`, `denied`, `expired` or `used`.")
    decided_by: str | None = None
    reason: str | None = Field(default=None, description="The person's reason (a denied request).")
    url: str = Field(description="The request's page, where an approver decides it.")


class DecideIn(_In):
    task_token: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


def _err(code: str, message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _agent(a: AgentRecord) -> dict[str, Any]:
    return a.to_dict()


def _task(t: TaskRecord) -> dict[str, Any]:
    return task_view(t)


def _bearer(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    return credentials.credentials.strip() or None


def _basic(authorization: str | None, *, form_encoded: bool = True) -> tuple[str, str] | None:
    """``client_id`` and ``client_secret`` from HTTP Basic, each form-urlencoded (RFC 6749 §2.3.1);
    with ``form_encoded`` False, a user and password as RFC 7617 sends them (a person's password
    may hold `+` or `%`)."""
    if not authorization or len(authorization) > _MAX_BASIC:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = raw.partition(":")
    if not sep:
        return None
    if not form_encoded:
        return (user, password) if user and password else None
    client_id, client_secret = unquote_plus(user), unquote_plus(password)
    return (client_id, client_secret) if client_id and client_secret else None


async def _read_bounded(request: Request, limit: int) -> bytes | None:
    """The request body, or None once it exceeds ``limit`` bytes (however it is framed)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _allowed(api: FastAPI, path: str) -> list[str]:
    methods: set[str] = set()
    for route in api.router.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.fullmatch(path):
            methods |= route.methods
    return sorted(methods)


#: where the Swagger UI assets (the ``fastapi-offline`` package's) are served
DOCS_ASSETS = "/docs/assets"


def _offline_docs(api: FastAPI) -> None:
    """``/docs``: Swagger UI from assets this server serves itself (FastAPI's default page loads
    them from a CDN and so shows nothing without the internet)."""
    from importlib import resources

    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    assets = resources.files("fastapi_offline") / "static"
    api.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{api.openapi_url}",
            title=f"{api.title} API",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            # no call to the public validator service (its badge is an external image)
            swagger_ui_parameters={"validatorUrl": None},
        )


_admin_scheme = HTTPBearer(
    auto_error=False, scheme_name="adminToken", description="The workspace's admin token (`pta_…`)."
)
_svid_scheme = HTTPBearer(auto_error=False, scheme_name="svid", description="The calling agent's JWT-SVID.")


def create_app(
    proctor: Proctor, workspace: Workspace, *, refusal_limits: RefusalLimits | None = None
) -> FastAPI:
    """The ASGI application for one workspace. Requests refused for want of the admin token
    (``api.refused``) and rejected join tokens (``identity.join_token_rejected``) are audited at
    most ``refusal_limits.burst`` per source and window, then summarised (``api.state.limiters``:
    whoever serves the app writes the summaries of closed windows, see ``proctor.server.run``)."""
    limits = refusal_limits or RefusalLimits(
        burst=proctor.settings.refusal_audit_burst, window_s=proctor.settings.refusal_audit_window_s
    )
    refusals = RefusalLimiter(proctor.clock, limits, refused=REFUSED_KIND)
    join_refusals = RefusalLimiter(proctor.clock, limits, refused="identity.join_token_rejected")
    #: /v1/decide without a valid identity: nobody is identified, so it is a refusal, not a
    #: decision of an agent's; recorded at the same bounded rate per source
    decide_refusals = RefusalLimiter(proctor.clock, limits, refused=DECIDE_REFUSED_KIND)
    api = FastAPI(
        title="Proctor",
        version="0.1.0",
        description="Execution control for autonomous AI agents.",
        docs_url=None,  # served below from packaged assets: no CDN, /docs works offline
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    _offline_docs(api)

    api.state.refusals = refusals
    api.state.limiters = (refusals, join_refusals, decide_refusals)
    #: the waits `POST /v1/approvals/{id}/wait` runs now (per agent and in all, as held calls)
    waiters = api.state.approval_waiters = WaitSlots(proctor.settings.approval_max_pending)

    @api.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Refuse an announced oversized body before routing; answer anything unexpected with a
        logged 500 here, once (an exception left to Starlette is logged again by the server)."""
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return _err("payload_too_large", f"request body is larger than {MAX_BODY} bytes", 413)
        try:
            return await call_next(request)
        except Exception:
            log.exception("unexpected error in the HTTP API")
            return _err("internal_error", "internal error; the event was logged", 500)

    @api.exception_handler(ProctorError)
    async def on_proctor_error(_: Request, exc: ProctorError) -> JSONResponse:
        if isinstance(exc, StoreError):
            # a path, a server address or the driver's text is for the operator's log, not a client
            log.error("store error in the HTTP API: %s", exc.message)
            return _err(exc.code, "the store failed; the event was logged", exc.http_status)
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if exc.http_status == 401 else None
        return _err(exc.code, exc.message, exc.http_status, headers)

    @api.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        msg = str(first.get("msg", "invalid"))
        return _err("invalid_input", f"{where or 'request'}: {msg[:1].lower()}{msg[1:]}"[:300], 400)

    @api.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # every method the path serves (RFC 9110 §15.5.6): Starlette names only the first
            # route's, and each operation here is a route of its own
            headers["Allow"] = ", ".join(_allowed(api, request.scope.get("path", "")))
        return _err(code, str(exc.detail).lower(), exc.status_code, headers or None)

    def admin(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_scheme)],
    ) -> None:
        try:
            token = _bearer(credentials)
            if token is None:
                raise AdminTokenInvalid("this endpoint needs the admin token: Authorization: Bearer pta_…")
            workspace.check_admin_token(token)
        except AdminTokenInvalid as exc:
            source = request.client.host if request.client else None
            fields = {"error": exc.code, "method": request.method, "path": request.url.path[:200]}
            proctor.refusals.record(refusals, fields, source)
            raise

    Admin = Depends(admin)

    def client_ok(client_id: str, client_secret: str) -> bool:
        try:
            return check_introspection_client(proctor.credentials.secrets, client_id, client_secret)
        except SecretKeyInvalid:  # another process rotated the secrets key: read it again
            return check_introspection_client(
                proctor.credentials.secret_store(reopen=True), client_id, client_secret
            )

    # public ---------------------------------------------------------------------------------
    @api.get("/healthz", tags=["meta"], responses=_errors(*_ANY))
    def healthz() -> dict[str, Any]:
        """Liveness and what this process serves. A policy set the watcher refused makes the
        status `degraded` (still 200: the last good set keeps deciding) and is shown with its
        errors under `policy.rejected`. A store that is down makes it `degraded` too, answered at
        once without asking the store (`store.status` is `unavailable`; docs/adr/0019)."""
        irrevocable: int | None = None
        try:
            proctor.state.snapshot()  # fails at once while the store is known to be down
            irrevocable = len(proctor.credentials.leases.list(irrevocable=True))
        except StoreError as exc:
            proctor.store_guard.observe(exc)
        store = proctor.store_guard.health()
        if irrevocable is None and store["status"] == "ok":
            store = {"status": "error"}
        policy = proctor.policies.health()
        audit = proctor.audit_health()
        reasons = list(audit["reasons"])
        if store["status"] != "ok":
            reasons.append("store_unavailable")
        return {
            "status": "degraded" if policy["rejected"] is not None or irrevocable or reasons else "ok",
            "reasons": reasons,
            "store": store,
            "audit": audit,
            "irrevocable_leases": irrevocable,
            "policy_version": proctor.policies.engine.version,
            "policy": policy,
            "trust_domain": proctor.settings.trust_domain,
        }

    @api.get("/.well-known/jwks.json", tags=["identity"], responses=_errors(*_ANY))
    def jwks() -> dict[str, Any]:
        """Public keys that verify Proctor's JWT-SVIDs (retired keys stay until their tokens expire)."""
        return proctor.agents.keys.jwks(proctor.clock.now())

    @api.get("/v1/credentials/jwks.json", tags=["credentials"], responses=_errors(*_ANY))
    def credential_jwks() -> dict[str, Any]:
        """Public keys that verify credential tokens (``typ: at+jwt``) Proctor issues to tasks for
        downstream APIs. A separate ring from the SVID keys: neither verifies the other's tokens."""
        return proctor.credentials.keys.jwks(proctor.clock.now())

    @api.post("/v1/identity/svid", tags=["identity"], responses={**_ok(SvidOut), **_errors(*_ANY, 401, 404)})
    def svid(body: SvidIn, request: Request) -> dict[str, Any]:
        """Exchange a single-use join token for a short-lived JWT-SVID."""
        source = request.client.host if request.client else None

        def rejected(exc: ProctorError) -> None:
            proctor.refusals.record(join_refusals, {"error": exc.code}, source)

        token = proctor.agents.svid_from_join_token(body.join_token, body.audience, on_rejected=rejected)
        return {"svid": token, "expires_in": proctor.settings.svid_ttl_s}

    @api.post(
        "/v1/introspect",
        tags=["identity"],
        responses={
            200: {"description": '`{"active": false}`, or the token\'s claims with `active: true`.'},
            **_errors(*_ANY, 401, 415),
            401: {"model": ErrorOut, "description": "Missing or wrong client credentials (HTTP Basic)."},
        },
        openapi_extra={
            "security": [{"introspectionClient": []}],
            "requestBody": {
                "required": True,
                "content": {
                    _FORM: {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "token": {"type": "string"},
                                "token_type_hint": {"type": "string"},
                            },
                            "required": ["token"],
                        }
                    }
                },
            },
        },
    )
    async def introspect_token(request: Request) -> JSONResponse:
        """Token introspection (RFC 7662) for credential tokens Proctor issued to tasks.

        Form-encoded `token` (and optional `token_type_hint`); the caller authenticates with HTTP Basic
        as the introspection client of its audience (`proctor introspection-client add AUDIENCE`).
        Answers `{"active": false}` for any token that is not good right now for that audience: a
        revoked lease, an ended task or a suspended agent make a still-signed token inactive at once.
        A delegated task's token answers its chain as RFC 8693 nested `act` claims (the current actor
        outermost) and its root `requester` (docs/adr/0037).
        """
        creds = _basic(request.headers.get("authorization"))
        if creds is None or not await run_in_threadpool(client_ok, *creds):
            exc = IntrospectionClientInvalid(
                "introspection needs the client's credentials: Authorization: Basic (audience:secret)"
            )
            return _err(exc.code, exc.message, 401, {**_NO_STORE, "WWW-Authenticate": _BASIC_CHALLENGE})
        client_audience = creds[0]
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != _FORM:
            return _err("invalid_input", f"introspection takes `{_FORM}`", 415, _NO_STORE)
        body = await _read_bounded(request, MAX_INTROSPECT_BODY)
        if body is None:
            return _err(
                "payload_too_large",
                f"request body is larger than {MAX_INTROSPECT_BODY} bytes",
                413,
                _NO_STORE,
            )
        try:
            form = parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=8)
        except (UnicodeDecodeError, ValueError):
            return _err("invalid_input", "the request body is not a valid form", 400, _NO_STORE)
        tokens = form.get("token", [])
        if len(tokens) != 1 or not tokens[0]:
            return _err("invalid_input", "give exactly one `token` parameter", 400, _NO_STORE)
        if len(form.get("token_type_hint", [])) > 1:
            return _err("invalid_input", "give at most one `token_type_hint`", 400, _NO_STORE)

        def killed(agent: str, task: str) -> bool:
            # suspended or ended in the kill file, not yet in the store (see proctor.killswitch)
            return proctor.kills.agent_killed(agent) or proctor.kills.task_killed(task)

        def answer() -> dict[str, Any]:
            return proctor.credentials.introspect(
                tokens[0], client_audience, issuer=proctor.audience, killed=killed
            )

        return JSONResponse(await run_in_threadpool(answer), headers=_NO_STORE)

    # agents -----------------------------------------------------------------------------------
    @api.get("/v1/agents", tags=["agents"], dependencies=[Admin], responses={**_ok(list[AgentOut]), **_ADMIN})
    def list_agents() -> list[dict[str, Any]]:
        return [a.to_dict() for a in proctor.agents.list()]

    @api.post(
        "/v1/agents",
        tags=["agents"],
        dependencies=[Admin],
        status_code=201,
        responses={**_ok(AgentOut, 201), **_w(409)},
    )
    def add_agent(body: AgentIn) -> dict[str, Any]:
        """Register an agent; `owner` is required."""
        return _agent(proctor.agents.add(body.name, body.owner, body.selectors, by="api"))

    @api.get(
        "/v1/agents/{name}", tags=["agents"], dependencies=[Admin], responses={**_ok(AgentOut), **_w(404)}
    )
    def get_agent(name: NamePath) -> dict[str, Any]:
        return _agent(proctor.agents.get(name))

    @api.post(
        "/v1/agents/{name}/suspend",
        tags=["agents"],
        dependencies=[Admin],
        responses={**_ok(AgentOut), **_w(404), 202: _PENDING_DOC},
    )
    def suspend(name: NamePath, response: Response, body: StatusIn | None = None) -> dict[str, Any]:
        """Suspend an agent. When the store or the audit log cannot take it, the suspension is
        enforced at once from the workspace's kill file and recorded later: `202` says so."""
        if proctor.kill_agent(name, by="api", reason=body.reason if body else ""):
            return _agent(proctor.agents.get(name))
        response.status_code = 202
        return _pending("agent", name)

    @api.post(
        "/v1/agents/{name}/resume",
        tags=["agents"],
        dependencies=[Admin],
        responses={**_ok(AgentOut), **_w(404)},
    )
    def resume(name: NamePath) -> dict[str, Any]:
        return _agent(proctor.agents.set_status(name, AgentStatus.ACTIVE, by="api"))

    @api.post(
        "/v1/agents/{name}/join-token",
        tags=["agents"],
        dependencies=[Admin],
        responses={**_ok(JoinTokenOut), **_w(404)},
    )
    def join_token(name: NamePath) -> dict[str, Any]:
        return {
            "join_token": proctor.agents.join_token(name, by="api"),
            "expires_in": proctor.settings.join_token_ttl_s,
        }

    # tasks ------------------------------------------------------------------------------------
    @api.get("/v1/tasks", tags=["tasks"], dependencies=[Admin], responses={**_ok(list[TaskOut]), **_ADMIN})
    def list_tasks(agent: AgentQuery = None, state: TaskState | None = None) -> list[dict[str, Any]]:
        return [task_view(t) for t in proctor.tasks.list(agent=agent, state=state)]

    @api.post(
        "/v1/tasks",
        tags=["tasks"],
        dependencies=[Admin],
        status_code=201,
        responses={**_ok(TaskStartedOut, 201), **_w(404)},
    )
    def start_task(body: TaskIn) -> dict[str, Any]:
        """Start a task; the response carries the task token bound to the agent and the task. An
        `allow` pattern that matches no known tool (most often a typo) is refused as `no_such_tool`
        with the closest known names, as `proctor task start` does (docs/adr/0027)."""
        warnings = proctor.tools.known(workspace.root).check_allow(
            list(dict.fromkeys(body.allow)), option="allow"
        )
        started = proctor.tasks.start(
            agent=body.agent,
            purpose=body.purpose,
            allow=body.allow,
            requested_by=body.requested_by,
            resources=body.resources,
            ttl_s=body.ttl_s,
            max_calls=body.max_calls,
            params=body.params,
        )
        return {"task": task_view(started.task), "token": started.token, "warnings": warnings}

    @api.get(
        "/v1/tasks/{task_id}", tags=["tasks"], dependencies=[Admin], responses={**_ok(TaskOut), **_w(404)}
    )
    def get_task(task_id: TaskPath) -> dict[str, Any]:
        return _task(proctor.tasks.get(task_id))

    @api.post(
        "/v1/tasks/{task_id}/delegate",
        tags=["tasks"],
        status_code=201,
        responses={**_ok(TaskStartedOut, 201), **_errors(*_ANY, 401, 403, 404)},
    )
    def delegate_task(
        task_id: TaskPath,
        body: TaskDelegateIn,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_svid_scheme)],
    ) -> JSONResponse:
        """Delegate part of a task to another agent (docs/adr/0032). Authenticated as the parent
        agent: its JWT-SVID as the bearer token and the parent task's token in the body, which
        must name `task_id`. Answers the child's task token (hand it to the child agent). A scope
        beyond the parent's is refused as `delegation_exceeds` with `exceeds` naming each excess;
        policy (action `delegate`), the depth limit or a cycle as `delegation_denied`."""
        try:
            agent_name = str(proctor.agents.verify_svid(_bearer(credentials) or "").agent)
            agent = proctor.agents.get(agent_name)
            if agent.status is not AgentStatus.ACTIVE:
                raise AgentSuspended(f"agent `{agent_name}` is suspended")
            named = proctor.tasks.verify_token(body.task_token, agent)
        except ProctorError as exc:
            status = 401 if exc.http_status in (401, 404) else exc.http_status
            return _err(exc.code, exc.message, status, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if str(named) != str(task_id):
            return _err(
                "task_token_invalid",
                "the task token names another task than the path",
                401,
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        try:
            started = proctor.tasks.delegate(
                str(task_id),
                agent=body.agent,
                allow=body.allow,
                resources=body.resources,
                ttl_s=body.ttl_s,
                max_calls=body.max_calls,
                purpose=body.purpose,
                by=f"agent:{agent_name}",
                as_agent=agent,
            )
        except DelegationExceeds as exc:
            return JSONResponse(
                {
                    "error": {
                        "code": exc.code,
                        "message": exc.message,
                        "exceeds": exc.details.get("exceeds", []),
                    }
                },
                status_code=exc.http_status,
            )
        return JSONResponse({"task": task_view(started.task), "token": started.token}, status_code=201)

    @api.post(
        "/v1/tasks/{task_id}/end",
        tags=["tasks"],
        dependencies=[Admin],
        responses={**_ok(TaskOut), **_w(404, 409), 202: _PENDING_DOC},
    )
    def end_task(task_id: TaskPath, response: Response, body: TaskEndIn | None = None) -> dict[str, Any]:
        """End a task. When the store or the audit log cannot take it, the end is enforced at once
        from the workspace's kill file and recorded later: `202` says so."""
        b = body or TaskEndIn()
        ended = proctor.end_task_or_kill(task_id, state=TaskState(b.state), by="api", reason=b.reason)
        if ended is not None:
            return _task(ended)
        response.status_code = 202
        return _pending("task", task_id)

    # task templates (docs/adr/0029) ------------------------------------------------------------
    @api.get(
        "/v1/templates", tags=["tasks"], dependencies=[Admin], responses={**_ok(list[TemplateOut]), **_ADMIN}
    )
    def list_templates() -> list[dict[str, Any]]:
        return [template_view(t) for t in proctor.templates.list()]

    @api.post(
        "/v1/templates",
        tags=["tasks"],
        dependencies=[Admin],
        status_code=201,
        responses={**_ok(TemplateOut, 201), **_w(404, 409)},
    )
    def add_template(body: TemplateIn) -> dict[str, Any]:
        """Add a task template, checked as starting a task checks its input (`409` if the name is
        taken and `replace` is not set)."""
        return template_view(
            proctor.templates.add(
                body.name,
                agents=body.agents,
                purpose=body.purpose,
                allow=body.allow,
                resources=body.resources,
                ttl_s=body.ttl_s,
                max_calls=body.max_calls,
                requested_by=body.requested_by,
                params=body.params,
                by="api",
                replace=body.replace,
            )
        )

    @api.get(
        "/v1/templates/{name}",
        tags=["tasks"],
        dependencies=[Admin],
        responses={**_ok(TemplateOut), **_w(404)},
    )
    def get_template(name: TemplatePath) -> dict[str, Any]:
        return template_view(proctor.templates.get(name))

    @api.delete(
        "/v1/templates/{name}", tags=["tasks"], dependencies=[Admin], status_code=204, responses=_w(404)
    )
    def delete_template(name: TemplatePath) -> Response:
        """Remove a template; tasks already started from it keep their scope until they end."""
        proctor.templates.remove(name, by="api")
        return Response(status_code=204)

    @api.post(
        "/v1/templates/{name}/start",
        tags=["tasks"],
        dependencies=[Admin],
        status_code=201,
        responses={**_ok(TaskStartedOut, 201), **_w(404)},
    )
    def start_from_template(name: TemplatePath, body: TemplateStartIn) -> dict[str, Any]:
        """Start a task from a template for an agent it lists; the response carries the task token."""
        started = proctor.tasks.start_from_template(
            name, agent=body.agent, requested_by=body.requested_by, via="api"
        )
        return {"task": task_view(started.task), "token": started.token}

    # tools ------------------------------------------------------------------------------------
    @api.get("/v1/leases", tags=["credentials"], dependencies=[Admin], responses=_ADMIN)
    def list_leases(
        task: TaskQuery = None, state: LeaseState | None = None, irrevocable: bool = False
    ) -> list[dict[str, Any]]:
        """Credential leases, oldest first (never a credential value); `irrevocable=true` lists
        those whose revocation gave up and need a person."""
        return [
            x.to_dict()
            for x in proctor.credentials.leases.list(
                task=None if task is None else TaskId(task), state=state, irrevocable=irrevocable
            )
        ]

    @api.get("/v1/leases/{lease_id}", tags=["credentials"], dependencies=[Admin], responses=_w(404))
    def get_lease(lease_id: LeasePath) -> dict[str, Any]:
        return proctor.credentials.leases.get(LeaseId(lease_id)).to_dict()

    @api.post(
        "/v1/leases/{lease_id}/revoke", tags=["credentials"], dependencies=[Admin], responses=_w(404, 409)
    )
    def revoke_lease(lease_id: LeasePath, body: StatusIn | None = None) -> dict[str, Any]:
        """Revoke one lease now (its provider is called; a failure is retried, then irrevocable)."""
        reason = (body.reason if body else "") or "revoked by an administrator (api)"
        return proctor.credentials.leases.revoke(LeaseId(lease_id), reason).to_dict()

    @api.get("/v1/tools", tags=["tools"], dependencies=[Admin], responses={**_ok(list[ToolOut]), **_ADMIN})
    def list_tools() -> list[dict[str, Any]]:
        return [tool_to_mapping(t) for t in proctor.tools.list()]

    @api.post(
        "/v1/tools",
        tags=["tools"],
        dependencies=[Admin],
        status_code=201,
        responses={**_ok(ToolOut, 201), **_ADMIN},
    )
    def put_tool(body: ToolIn) -> dict[str, Any]:
        raw = body.model_dump(exclude_none=True)
        return tool_to_mapping(proctor.tools.put(tool_from_mapping(raw, "tool"), by="api"))

    # decisions --------------------------------------------------------------------------------
    @api.post(
        "/v1/decide",
        tags=["decisions"],
        responses={
            200: {
                "model": DecisionOut,
                "description": "The decision: `allow`, `deny` or `approval_required`.",
            },
            **_errors(*_ANY),
            401: {
                "model": DecisionOut,
                "description": "A deny: the identity (JWT-SVID) or the task token is missing or invalid.",
            },
            403: {"model": DecisionOut, "description": "A deny: the agent is suspended."},
        },
    )
    async def decide(
        request: Request,
        body: DecideIn,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_svid_scheme)],
    ) -> JSONResponse:
        """Decide one tool call for the agent whose JWT-SVID is the bearer token.

        Always answers with a decision; every decision of an identified agent (deny included) is
        in the durable audit log before this returns. A missing or invalid identity is a 401 deny
        recorded as a `decide.refused` refusal, at most `audit.refusal_records` per source and
        window, then summarised: unauthenticated traffic cannot grow the log without bound.
        """
        svid = _bearer(credentials)
        try:
            claims = proctor.agents.verify_svid(svid or "")
        except ProctorError as exc:
            refused = deny(exc.message, proctor.policies.engine.version, errors=(exc.code,))
            await proctor.refusals.record_async(
                decide_refusals,
                {
                    "path": "/v1/decide",
                    "code": exc.code,
                    "refused_decision": str(refused.decision_id),
                    "tool_name": printable(body.tool, 100),
                },
                request.client.host if request.client else None,
            )
            return JSONResponse(
                refused.to_dict(),
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        # the SVID is verified (once per call): the pipeline is told whose it is
        call = CallInput(
            tool=body.tool, args=body.args, agent=str(claims.agent), task_token=body.task_token, source="http"
        )
        decision = await proctor.pipeline.decide_call_async(call)
        status = 200
        if decision.errors and decision.errors[0].startswith(("token_", "identity_", "agent_suspended")):
            status = 401 if decision.errors[0] != "agent_suspended" else 403
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        return JSONResponse(decision.to_dict(), status_code=status, headers=headers)

    report_lock = threading.Lock()

    def _reportable(record: dict[str, Any]) -> bool:
        """A decision an in-process caller runs itself: not a dry run, not the gateway's (whose
        output the gateway observed: ``call.completed``)."""
        return record.get("dry_run") is not True and record.get("source") != "mcp"

    def _report_allowed_output(agent_name: str, body: OutputIn) -> Any:
        """``Proctor.report_output`` for an agent, after checking that ``body.decision_id`` is an
        allowed call of ``body.tool`` in the task its token names, not reported before."""
        import json as _json

        if not body.decision_id:
            raise ValidationError(
                "name the allowed decision (`decision_id` from /v1/decide) whose output this is",
                field="decision_id",
            )
        if not body.task_token:
            raise TaskTokenInvalid("no task token was presented: every output belongs to a task")
        task_id = proctor.tasks.verify_token(body.task_token, proctor.agents.get(agent_name))
        with report_lock:  # the check and the report in one step: a decision's output once
            proctor.audit.flush()
            try:
                rows = proctor.audit_records.decision(body.decision_id)
            except (UnknownDecision, ValidationError):
                rows = []
            allowed = any(
                r.kind == "decision"
                and r.task == str(task_id)
                and r.tool == body.tool
                and r.decision == Verdict.ALLOW.value
                and _reportable(_json.loads(bytes(r.body)))
                for r in rows
            )
            if not allowed:
                raise ValidationError(
                    f"decision `{printable(body.decision_id, 64)}` is not an allowed call of"
                    f" `{printable(body.tool, 100)}` in this task: an agent reports only what its"
                    " allowed calls returned",
                    field="decision_id",
                )
            if any(r.kind in ("call.output_reported", "call.completed") for r in rows):
                raise Conflict(
                    f"the output of decision `{printable(body.decision_id, 64)}` was already reported"
                )
            return proctor.report_output(
                agent=agent_name,
                task_token=body.task_token,
                task=None,
                tool=body.tool,
                output=body.output,
                decision_id=body.decision_id,
                args=body.args,
                status=body.status,
            )

    @api.post(
        "/v1/outputs",
        tags=["decisions"],
        responses={
            200: {"description": "The output's labels (`trust`, `sensitivity`, `reasons`)."},
            **_errors(*_ANY, 401, 403, 404),
        },
    )
    async def report_output(
        request: Request,
        body: OutputIn,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_svid_scheme)],
    ) -> JSONResponse:
        """Report what a tool returned to an in-process caller (one that decides through
        `/v1/decide` and calls its tools itself), so the task's later calls are judged by what it
        read (docs/adr/0025). Authenticated as `/v1/decide` (an agent's JWT-SVID with `task_token`)
        or with the admin token (with `task`). Answers the output's labels; the output is kept
        sealed for the task, never in the audit log."""
        token = _bearer(credentials)
        if token is not None and token.startswith(ADMIN_PREFIX):
            try:
                workspace.check_admin_token(token)
            except AdminTokenInvalid as exc:
                source = request.client.host if request.client else None
                fields = {"error": exc.code, "method": request.method, "path": request.url.path[:200]}
                await proctor.refusals.record_async(refusals, fields, source)
                raise
            agent_name = None
        else:
            try:
                agent_name = str(proctor.agents.verify_svid(token or "").agent)
            except ProctorError as exc:
                await proctor.refusals.record_async(
                    decide_refusals,
                    {"path": "/v1/outputs", "code": exc.code},
                    request.client.host if request.client else None,
                )
                return _err(exc.code, exc.message, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if agent_name is not None:
            # an agent reports only the output of a call it was allowed to make, once: else it could
            # launder an attacker's value by reporting it as a trusted tool's output it never
            # called, or flood the task's bounded index to push an untrusted output out of it
            labels = await proctor.store_guard.run(
                functools.partial(_report_allowed_output, agent_name, body)
            )
            return JSONResponse(labels.to_dict())
        labels = await proctor.store_guard.run(
            functools.partial(
                proctor.report_output,
                agent=agent_name,
                task_token=body.task_token,
                task=body.task,
                tool=body.tool,
                output=body.output,
                decision_id=body.decision_id,
                args=body.args,
                status=body.status,
            )
        )
        return JSONResponse(labels.to_dict())

    # audit ------------------------------------------------------------------------------------
    @api.get("/v1/audit", tags=["audit"], dependencies=[Admin], responses={**_ADMIN, **_errors(404)})
    def audit(
        agent: AgentQuery = None,
        task: TaskQuery = None,
        tool: str | None = None,
        decision: Verdict | None = None,
        kind: str | None = None,
        after: Annotated[int, Query(ge=0, le=_MAX_SEQ)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        root_task: TaskQuery = None,
    ) -> list[dict[str, Any]]:
        """Audit records, oldest first; `root_task` selects a whole delegation tree's."""
        import json

        tree = () if root_task is None else proctor.audit_records.tree(str(root_task))
        rows = proctor.audit_records.search(
            AuditQuery(
                agent=agent,
                task=task,
                tool=tool,
                decision=decision,
                kind=kind,
                after_seq=after,
                limit=limit,
                task_in=tree,
            ),
        )
        return [
            {"seq": r.seq, "hash": r.hash.hex(), "prev_hash": r.prev_hash.hex(), "record": json.loads(r.body)}
            for r in rows
        ]

    @api.get("/v1/audit/verify", tags=["audit"], dependencies=[Admin], responses={**_ok(VerifyOut), **_ADMIN})
    def audit_verify(deep: bool = False) -> dict[str, Any]:
        """Verify the chain and checkpoints; ``deep=true`` also checks each record's indexed
        columns (what `audit search` filters on) against its body."""
        report = proctor.verify_audit(deep=deep)
        return {
            "ok": report.ok,
            "records_checked": report.records_checked,
            "checkpoints_checked": report.checkpoints_checked,
            "head_seq": report.head_seq,
            "problems": [{"seq": p.seq, "code": p.code, "message": p.message} for p in report.problems],
            "recoveries": report.recoveries,
            "writers": report.writers,
        }

    @api.get("/v1/audit/decisions/{decision_id}", tags=["audit"], dependencies=[Admin], responses=_w(404))
    def audit_decision(decision_id: DecisionPath) -> dict[str, Any]:
        """Everything recorded for one decision, oldest first: the decision record, the call's
        completion, the credential leases it used (every record that carries the decision id).
        `404 unknown_decision` when no record does."""
        rows = proctor.audit_records.decision(decision_id)
        return {
            "decision_id": decision_id,
            "records": [
                {
                    "seq": r.seq,
                    "hash": r.hash.hex(),
                    "prev_hash": r.prev_hash.hex(),
                    "record": parsed_body(r.body),
                }
                for r in rows
            ],
        }

    # approvals -----------------------------------------------------------------------------------
    @api.get(
        "/v1/approvals",
        tags=["approvals"],
        dependencies=[Admin],
        responses={**_ok(list[ApprovalOut]), **_ADMIN},
    )
    def list_approvals(
        state: ApprovalStateQuery = "pending", agent: AgentQuery = None, task: TaskQuery = None
    ) -> list[dict[str, Any]]:
        """Approval requests, newest first (pending ones by default: the queue). Never the
        arguments: `GET /v1/approvals/{id}` shows them."""
        states = () if state == "all" else (state,)
        reqs = proctor.approvals.list(states=states, agent=agent, task=task)
        return [r.to_dict() for r in reqs if state in ("all", r.state.value)]

    @api.get("/v1/approvals/{approval_id}", tags=["approvals"], dependencies=[Admin], responses=_w(404))
    def get_approval(approval_id: ApprovalPath) -> dict[str, Any]:
        """What an approver sees: the call's arguments (credentials masked, long values folded),
        the task, its recent calls, what is unusual, how long it waited."""
        return proctor.approvals.view(approval_id, None).to_dict()

    def person(request: Request, approval_id: str) -> Approver:
        """The approver named by HTTP Basic (an approver account: `proctor user add`). A bearer
        token — the admin token, an agent's SVID or task token — is never a person: refused and
        audited."""
        from proctor.errors import AuthError

        source = request.client.host if request.client else ""
        authorization = request.headers.get("authorization")
        creds = _basic(authorization, form_encoded=False)
        if creds is None:
            kind = (authorization or "").partition(" ")[0].lower()
            why = (
                "a bearer token (the admin token, an agent's SVID or task token) cannot decide"
                " an approval: a person signs in with an approver account (HTTP Basic)"
                if kind == "bearer"
                else "deciding an approval needs an approver account: HTTP Basic e-mail and password"
            )
            # rate-limited per source, like every refusal before anyone is identified
            proctor.refusals.record(
                refusals,
                {
                    "error": "approver_required",
                    "method": request.method,
                    "path": request.url.path[:200],
                    "why": why,
                },
                source or None,
            )
            raise AuthError(why)
        email, password = creds
        return proctor.accounts.authenticate(email, password, source=source)

    @api.post(
        "/v1/approvals/{approval_id}/wait",
        tags=["approvals"],
        responses={**_ok(ApprovalWaitOut), **_errors(*_ANY, 401, 403, 404, 429)},
    )
    async def wait_approval(
        request: Request,
        approval_id: ApprovalPath,
        body: ApprovalWaitIn,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_svid_scheme)],
    ) -> JSONResponse:
        """The agent's side of a call held for approval (an in-process caller, `proctor.sdk`): the
        state of its own request, waiting up to `timeout_s` while it is pending. Authenticated as
        `/v1/decide` (the agent's JWT-SVID with the task token of the call's task); a request of
        another agent or task is unknown. Deciding is never done here: once `approved`, the agent
        decides the identical call again and the pipeline redeems the grant (docs/adr/0030).
        Refused for a suspended agent or a task no longer active (`agent_suspended`,
        `task_not_active`), and beyond `approvals.max_pending` waits of one agent at once (256 in
        all) with `approval_wait_cap_reached` (429); refusals are audited (`decide.refused`,
        rate-limited per source)."""
        source = request.client.host if request.client else None
        try:
            agent_name = str(proctor.agents.verify_svid(_bearer(credentials) or "").agent)
        except ProctorError as exc:
            await proctor.refusals.record_async(
                decide_refusals,
                {"path": "/v1/approvals/wait", "code": exc.code},
                request.client.host if request.client else None,
            )
            return _err(exc.code, exc.message, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})

        def own() -> Any:
            agent = proctor.agents.get(agent_name)
            task_id = proctor.tasks.verify_token(body.task_token, agent)
            try:
                req = proctor.approvals.get(approval_id)
            except UnknownApproval:
                req = None
            if req is None or req.agent != agent.name or req.task != task_id:
                raise UnknownApproval(f"unknown approval request `{approval_id}` in this task")
            # a suspended agent, or an ended task, has nothing left to wait for
            if agent.status is not AgentStatus.ACTIVE or proctor.kills.agent_killed(agent_name):
                raise AgentSuspended(f"agent `{agent_name}` is suspended")
            task = proctor.tasks.get(str(task_id))
            if not task.is_live(proctor.clock.now()) or proctor.kills.task_killed(task.id):
                raise TaskNotActive(f"task `{task_id}` is no longer active")
            proctor.tasks.check_lineage(task)  # a delegated task ends with its parent
            return req

        async def refused(exc: ProctorError) -> None:
            fields = {"path": "/v1/approvals/wait", "code": exc.code, "caller": agent_name}
            await proctor.refusals.record_async(decide_refusals, fields, source)

        try:
            await proctor.store_guard.run(own)
        except (AgentSuspended, TaskNotActive) as exc:
            await refused(exc)
            raise
        if not waiters.acquire(agent_name):
            full = ApprovalWaitCapReached(
                f"agent `{agent_name}` already waits on {waiters.per_agent} approval requests (or"
                f" this process on {waiters.total}): retry once one has returned"
            )
            await refused(full)
            raise full
        try:
            req = await proctor.approvals.wait(approval_id, body.timeout_s, run=proctor.store_guard.run)
        finally:
            waiters.release(agent_name)
        public = (
            proctor.settings.approval_public_url or f"http://{proctor.settings.host}:{proctor.settings.port}"
        ).rstrip("/")
        return JSONResponse(
            {
                "approval_id": str(req.id),
                "state": req.state.value,
                "decided_by": req.decided_by,
                "reason": req.reason if req.state is ApprovalState.DENIED else None,
                "url": f"{public}/approvals/{req.id}",
            }
        )

    @api.post(
        "/v1/approvals/{approval_id}/approve",
        tags=["approvals"],
        responses={**_ok(ApprovalOut), **_errors(*_ANY, 401, 403, 404, 409, 429)},
        openapi_extra={"security": [{"approverAccount": []}]},
    )
    def approve(approval_id: ApprovalPath, body: ApproveIn, request: Request) -> dict[str, Any]:
        """Approve a held call as a person (HTTP Basic: an approver account). Its identical retry
        runs once; with `narrowing`, calls of the same tool within it run until the task ends."""
        who = person(request, approval_id)
        return proctor.approvals.approve(approval_id, who, body.reason, narrowing=body.narrowing).to_dict()

    @api.post(
        "/v1/approvals/{approval_id}/deny",
        tags=["approvals"],
        responses={**_ok(ApprovalOut), **_errors(*_ANY, 401, 403, 404, 409, 429)},
        openapi_extra={"security": [{"approverAccount": []}]},
    )
    def deny_approval(approval_id: ApprovalPath, body: DenyIn, request: Request) -> dict[str, Any]:
        """Deny a held call as a person (HTTP Basic: an approver account)."""
        who = person(request, approval_id)
        return proctor.approvals.deny(approval_id, who, body.reason).to_dict()

    def openapi() -> dict[str, Any]:
        """FastAPI's document, made to say what this server does: no `422` (invalid input is
        `400`), and the HTTP Basic scheme of `/v1/introspect`."""
        if api.openapi_schema is None:
            doc = get_openapi(
                title=api.title,
                version=api.version,
                description=api.description,
                routes=api.routes,
            )
            for item in doc.get("paths", {}).values():
                for op in item.values():
                    if isinstance(op, dict):
                        op.get("responses", {}).pop("422", None)
            schemas = doc.get("components", {}).get("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            schemes = doc.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["introspectionClient"] = {
                "type": "http",
                "scheme": "basic",
                "description": "`audience:secret` of an introspection client.",
            }
            schemes["approverAccount"] = {
                "type": "http",
                "scheme": "basic",
                "description": "A person's approver account (`proctor user add`): e-mail and password.",
            }
            for item in doc.get("paths", {}).values():
                for op in item.values():
                    if isinstance(op, dict):
                        # public operations say so: no credentials (an empty requirement list)
                        op.setdefault("security", [])
                        for answer in op.get("responses", {}).values():
                            for media in answer.get("content", {}).values():
                                _only_ref(media.get("schema"))
            api.openapi_schema = doc
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise it
    # the approvers' pages (sign-in, the queue, one page per request): HTML, outside the OpenAPI document
    from proctor.web.routes import web_router

    api.include_router(web_router(proctor, workspace))
    return api
