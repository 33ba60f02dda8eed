"""The HTTP API under ``/v1``, the JWKS and ``/healthz``, with an OpenAPI document.

Management endpoints need the workspace's admin token; ``/v1/decide`` needs an agent's JWT-SVID.
Errors are JSON ``{"error": {"code", "message"}}`` with a stable code; no stack trace reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from proctor.app import Proctor, verify_audit_store
from proctor.config import tool_from_mapping, tool_to_mapping
from proctor.errors import AdminTokenInvalid, ProctorError
from proctor.pipeline import CallInput
from proctor.store.base import AgentRecord, AuditQuery, TaskRecord
from proctor.types import AgentStatus, TaskState
from proctor.workspace import Workspace

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20


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

    @api.post("/v1/identity/svid", tags=["identity"])
    def svid(body: SvidIn) -> dict[str, Any]:
        """Exchange a single-use join token for a short-lived JWT-SVID."""
        token = proctor.svid_from_join_token(body.join_token, body.audience)
        return {"svid": token, "expires_in": proctor.settings.svid_ttl_s}

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
    def audit_verify() -> dict[str, Any]:
        proctor.audit.flush()
        report = verify_audit_store(proctor.store)
        return {
            "ok": report.ok,
            "records_checked": report.records_checked,
            "checkpoints_checked": report.checkpoints_checked,
            "head_seq": report.head_seq,
            "problems": [{"seq": p.seq, "code": p.code, "message": p.message} for p in report.problems],
        }

    return api
