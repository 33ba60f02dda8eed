"""The HTTP API under ``/v1``, the JWKS and ``/healthz``, with an OpenAPI document.

Management endpoints need the workspace's admin token; ``/v1/decide`` needs an agent's JWT-SVID;
``/v1/introspect`` (RFC 7662) needs an introspection client's HTTP Basic credentials.
Errors are JSON ``{"error": {"code", "message"}}`` with a stable code; no stack trace reaches a client.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qs, unquote_plus

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from proctor.app import Proctor, verify_audit_store
from proctor.config import tool_from_mapping, tool_to_mapping
from proctor.credentials.providers.jwt import check_introspection_client, introspect
from proctor.errors import (
    AdminTokenInvalid,
    IntrospectionClientInvalid,
    ProctorError,
    SecretKeyInvalid,
    StoreError,
    ValidationError,
)
from proctor.pipeline import CallInput
from proctor.store.base import AgentRecord, AuditQuery, TaskRecord
from proctor.types import AgentStatus, LeaseId, LeaseState, TaskId, TaskState
from proctor.workspace import Workspace

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20
#: an introspection request is a token (at most 8 KiB) and a hint: anything larger is refused unread
MAX_INTROSPECT_BODY = 16 * 1024
_MAX_BASIC = 4096
_FORM = "application/x-www-form-urlencoded"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BASIC_CHALLENGE = 'Basic realm="proctor-introspection"'


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentIn(_In):
    name: str
    owner: str | None = Field(default=None, description="The accountable human (required).")
    selectors: list[str] = Field(default_factory=list)


class StatusIn(_In):
    reason: str = ""


class SvidIn(_In):
    join_token: str
    audience: str | None = None


class TaskIn(_In):
    agent: str
    purpose: str
    allow: list[str]
    requested_by: str
    resources: list[str] = Field(default_factory=list)
    ttl_s: float | None = None
    max_calls: int | None = None


class TaskEndIn(_In):
    state: str = "completed"
    reason: str = ""


class ToolIn(_In):
    name: str
    effect: str
    resource: str = "*"
    resource_arg: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    description: str = ""


class DecideIn(_In):
    task_token: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


def _err(code: str, message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _agent(a: AgentRecord) -> dict[str, Any]:
    return a.to_dict()


def _task(t: TaskRecord) -> dict[str, Any]:
    return t.to_dict()


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _basic(authorization: str | None) -> tuple[str, str] | None:
    """``client_id`` and ``client_secret`` from HTTP Basic, each form-urlencoded (RFC 6749 §2.3.1)."""
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


def create_app(proctor: Proctor, workspace: Workspace) -> FastAPI:
    """The ASGI application for one workspace."""
    api = FastAPI(
        title="Proctor",
        version="0.1.0",
        description="Execution control for autonomous AI agents.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )

    @api.middleware("http")
    async def bound_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return _err("payload_too_large", f"request body is larger than {MAX_BODY} bytes", 413)
        return await call_next(request)

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
        return _err("invalid_input", f"{where or 'request'}: {first.get('msg', 'invalid')}".lower(), 400)

    @api.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _err(code, str(exc.detail).lower(), exc.status_code)

    @api.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in the HTTP API")
        return _err("internal_error", "internal error; the event was logged", 500)

    def admin(authorization: Annotated[str | None, Header()] = None) -> None:
        token = _bearer(authorization)
        if token is None:
            raise AdminTokenInvalid("this endpoint needs the admin token: Authorization: Bearer pta_…")
        workspace.check_admin_token(token)

    Admin = Depends(admin)

    def client_ok(client_id: str, client_secret: str) -> bool:
        try:
            return check_introspection_client(proctor.secrets, client_id, client_secret)
        except SecretKeyInvalid:  # another process rotated the secrets key: read it again
            return check_introspection_client(proctor.secret_store(reopen=True), client_id, client_secret)

    # public ---------------------------------------------------------------------------------
    @api.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, Any]:
        """Liveness and what this process serves."""
        proctor.store.epoch()
        return {
            "status": "ok",
            "policy_version": proctor.policy.version,
            "trust_domain": proctor.settings.trust_domain,
        }

    @api.get("/.well-known/jwks.json", tags=["identity"])
    def jwks() -> dict[str, Any]:
        """Public keys that verify Proctor's JWT-SVIDs (retired keys stay until their tokens expire)."""
        return proctor.keys.jwks(proctor.clock.now())

    @api.get("/v1/credentials/jwks.json", tags=["credentials"])
    def credential_jwks() -> dict[str, Any]:
        """Public keys that verify credential tokens (``typ: at+jwt``) Proctor issues to tasks for
        downstream APIs. A separate ring from the SVID keys: neither verifies the other's tokens."""
        return proctor.credential_keys.jwks(proctor.clock.now())

    @api.post("/v1/identity/svid", tags=["identity"])
    def svid(body: SvidIn) -> dict[str, Any]:
        """Exchange a single-use join token for a short-lived JWT-SVID."""
        token = proctor.svid_from_join_token(body.join_token, body.audience)
        return {"svid": token, "expires_in": proctor.settings.svid_ttl_s}

    @api.post(
        "/v1/introspect",
        tags=["identity"],
        responses={
            200: {"description": '`{"active": false}`, or the token\'s claims with `active: true`.'},
            401: {"description": "Missing or wrong client credentials (HTTP Basic)."},
        },
    )
    async def introspect_token(request: Request) -> JSONResponse:
        """Token introspection (RFC 7662) for credential tokens Proctor issued to tasks.

        Form-encoded `token` (and optional `token_type_hint`); the caller authenticates with HTTP Basic
        as the introspection client of its audience (`proctor introspection-client add AUDIENCE`).
        Answers `{"active": false}` for any token that is not good right now for that audience: a
        revoked lease, an ended task or a suspended agent make a still-signed token inactive at once.
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

        def answer() -> dict[str, Any]:
            result = introspect(
                proctor.credential_keys,
                proctor.store,
                tokens[0],
                client_audience,
                proctor.clock.now(),
                issuer=proctor.audience,
            )
            if result["active"] and (
                proctor.kills.agent_killed(str(result["client_id"]))
                or proctor.kills.task_killed(str(result["task"]))
            ):
                # suspended or ended in the kill file, not yet in the store (see proctor.killswitch)
                return {"active": False}
            if result["active"]:
                proctor.audit.append(
                    "lease.introspected",
                    {"lease_id": result["lease"], "client": client_audience},
                    agent=result["client_id"],
                    task=result["task"],
                )
            return result

        return JSONResponse(await run_in_threadpool(answer), headers=_NO_STORE)

    # agents -----------------------------------------------------------------------------------
    @api.get("/v1/agents", tags=["agents"], dependencies=[Admin])
    def list_agents() -> list[dict[str, Any]]:
        return [a.to_dict() for a in proctor.store.list_agents()]

    @api.post("/v1/agents", tags=["agents"], dependencies=[Admin], status_code=201)
    def add_agent(body: AgentIn) -> dict[str, Any]:
        """Register an agent; `owner` is required."""
        return _agent(proctor.add_agent(body.name, body.owner, body.selectors, by="api"))

    @api.get("/v1/agents/{name}", tags=["agents"], dependencies=[Admin])
    def get_agent(name: str) -> dict[str, Any]:
        return _agent(proctor.get_agent(name))

    @api.post("/v1/agents/{name}/suspend", tags=["agents"], dependencies=[Admin])
    def suspend(name: str, body: StatusIn | None = None) -> dict[str, Any]:
        return _agent(
            proctor.set_agent_status(
                name, AgentStatus.SUSPENDED, by="api", reason=body.reason if body else ""
            )
        )

    @api.post("/v1/agents/{name}/resume", tags=["agents"], dependencies=[Admin])
    def resume(name: str) -> dict[str, Any]:
        return _agent(proctor.set_agent_status(name, AgentStatus.ACTIVE, by="api"))

    @api.post("/v1/agents/{name}/join-token", tags=["agents"], dependencies=[Admin])
    def join_token(name: str) -> dict[str, Any]:
        return {
            "join_token": proctor.join_token(name, by="api"),
            "expires_in": proctor.settings.join_token_ttl_s,
        }

    # tasks ------------------------------------------------------------------------------------
    @api.get("/v1/tasks", tags=["tasks"], dependencies=[Admin])
    def list_tasks(agent: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        return [t.to_dict() for t in proctor.list_tasks(agent=agent, state=state)]

    @api.post("/v1/tasks", tags=["tasks"], dependencies=[Admin], status_code=201)
    def start_task(body: TaskIn) -> dict[str, Any]:
        """Start a task; the response carries the task token bound to the agent and the task."""
        started = proctor.start_task(
            agent=body.agent,
            purpose=body.purpose,
            allow=body.allow,
            requested_by=body.requested_by,
            resources=body.resources,
            ttl_s=body.ttl_s,
            max_calls=body.max_calls,
        )
        return {"task": started.task.to_dict(), "token": started.token}

    @api.get("/v1/tasks/{task_id}", tags=["tasks"], dependencies=[Admin])
    def get_task(task_id: str) -> dict[str, Any]:
        return _task(proctor.get_task(task_id))

    @api.post("/v1/tasks/{task_id}/end", tags=["tasks"], dependencies=[Admin])
    def end_task(task_id: str, body: TaskEndIn | None = None) -> dict[str, Any]:
        b = body or TaskEndIn()
        return _task(
            proctor.end_task(
                task_id,
                state=TaskState(b.state) if b.state in ("completed", "cancelled") else TaskState.COMPLETED,
                by="api",
                reason=b.reason,
            )
        )

    # tools ------------------------------------------------------------------------------------
    @api.get("/v1/leases", tags=["credentials"], dependencies=[Admin])
    def list_leases(
        task: str | None = None, state: str | None = None, irrevocable: bool = False
    ) -> list[dict[str, Any]]:
        """Credential leases, oldest first (never a credential value); `irrevocable=true` lists
        those whose revocation gave up and need a person."""
        try:
            wanted = None if state is None else LeaseState(state)
        except ValueError:
            raise ValidationError(
                f"unknown lease state `{str(state)[:40]}`; one of {', '.join(x.value for x in LeaseState)}"
            ) from None
        return [
            x.to_dict()
            for x in proctor.leases.list(
                task=None if task is None else TaskId(task), state=wanted, irrevocable=irrevocable
            )
        ]

    @api.get("/v1/leases/{lease_id}", tags=["credentials"], dependencies=[Admin])
    def get_lease(lease_id: str) -> dict[str, Any]:
        return proctor.leases.get(LeaseId(lease_id)).to_dict()

    @api.post("/v1/leases/{lease_id}/revoke", tags=["credentials"], dependencies=[Admin])
    def revoke_lease(lease_id: str, body: StatusIn | None = None) -> dict[str, Any]:
        """Revoke one lease now (its provider is called; a failure is retried, then irrevocable)."""
        reason = (body.reason if body else "") or "revoked by an administrator (api)"
        return proctor.leases.revoke(LeaseId(lease_id), reason).to_dict()

    @api.get("/v1/tools", tags=["tools"], dependencies=[Admin])
    def list_tools() -> list[dict[str, Any]]:
        return [tool_to_mapping(t) for t in proctor.store.list_tools()]

    @api.post("/v1/tools", tags=["tools"], dependencies=[Admin], status_code=201)
    def put_tool(body: ToolIn) -> dict[str, Any]:
        raw = body.model_dump(exclude_none=True)
        return tool_to_mapping(proctor.put_tool(tool_from_mapping(raw, "tool"), by="api"))

    # decisions --------------------------------------------------------------------------------
    @api.post("/v1/decide", tags=["decisions"])
    async def decide(body: DecideIn, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        """Decide one tool call for the agent whose JWT-SVID is the bearer token.

        Always answers with a decision; every decision (deny included) is in the durable audit
        log before this returns. A missing or invalid identity is a 401 and is audited as a deny.
        """
        svid = _bearer(authorization)
        call = CallInput(
            tool=body.tool, args=body.args, svid=svid or "", task_token=body.task_token, source="http"
        )
        decision = await proctor.pipeline.decide_call_async(call)
        status = 200
        if decision.errors and decision.errors[0].startswith(("token_", "identity_", "agent_suspended")):
            status = 401 if decision.errors[0] != "agent_suspended" else 403
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        return JSONResponse(decision.to_dict(), status_code=status, headers=headers)

    # audit ------------------------------------------------------------------------------------
    @api.get("/v1/audit", tags=["audit"], dependencies=[Admin])
    def audit(
        agent: str | None = None,
        task: str | None = None,
        tool: str | None = None,
        decision: str | None = None,
        kind: str | None = None,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        import json

        rows = proctor.store.search_audit(
            AuditQuery(
                agent=agent, task=task, tool=tool, decision=decision, kind=kind, after_seq=after, limit=limit
            )
        )
        return [
            {"seq": r.seq, "hash": r.hash.hex(), "prev_hash": r.prev_hash.hex(), "record": json.loads(r.body)}
            for r in rows
        ]

    @api.get("/v1/audit/verify", tags=["audit"], dependencies=[Admin])
    def audit_verify(deep: bool = False) -> dict[str, Any]:
        """Verify the chain and checkpoints; ``deep=true`` also checks each record's indexed
        columns (what `audit search` filters on) against its body."""
        proctor.audit.flush()
        report = verify_audit_store(proctor.store, proctor.keydir, deep=deep)
        return {
            "ok": report.ok,
            "records_checked": report.records_checked,
            "checkpoints_checked": report.checkpoints_checked,
            "head_seq": report.head_seq,
            "problems": [{"seq": p.seq, "code": p.code, "message": p.message} for p in report.problems],
        }

    return api
