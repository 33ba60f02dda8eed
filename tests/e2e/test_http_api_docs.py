"""The OpenAPI document and `/docs` of a real `proctor serve`: security schemes on every protected
operation, typed answers and the error envelope; Swagger UI served from the server itself, so the
page renders without the internet (checked in Chromium with every other host blocked)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tests.e2e.web_harness import browser_page, proctor_serve

from proctor.workspace import Workspace

#: operations anyone may call: the liveness probe, the key sets, the join-token exchange
PUBLIC = {
    ("get", "/healthz"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/v1/credentials/jwks.json"),
    ("post", "/v1/identity/svid"),
}
#: the main operations and the model of their success answer
TYPED = {
    ("get", "/v1/agents"): "AgentOut",
    ("post", "/v1/agents"): "AgentOut",
    ("get", "/v1/agents/{name}"): "AgentOut",
    ("post", "/v1/agents/{name}/join-token"): "JoinTokenOut",
    ("post", "/v1/identity/svid"): "SvidOut",
    ("get", "/v1/tasks"): "TaskOut",
    ("post", "/v1/tasks"): "TaskStartedOut",
    ("get", "/v1/tasks/{task_id}"): "TaskOut",
    ("get", "/v1/tools"): "ToolOut",
    ("post", "/v1/tools"): "ToolOut",
    ("post", "/v1/decide"): "DecisionOut",
    ("get", "/v1/audit/verify"): "VerifyOut",
    ("get", "/v1/approvals"): "ApprovalOut",
    ("post", "/v1/approvals/{approval_id}/approve"): "ApprovalOut",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ws, _ = Workspace.init(tmp_path_factory.mktemp("docs") / "ws")
    with proctor_serve(ws.root) as url:
        yield url


def _ops(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                yield method, path, op


def test_every_protected_operation_declares_its_scheme(served: str) -> None:
    """Bearer schemes for the admin token and the SVID, HTTP Basic for introspection clients and
    approvers; each operation lists what it needs (public ones an empty list)."""
    doc = httpx.get(f"{served}/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["adminToken"] == {**schemes["adminToken"], "type": "http", "scheme": "bearer"}
    assert schemes["svid"] == {**schemes["svid"], "type": "http", "scheme": "bearer"}
    assert schemes["introspectionClient"]["scheme"] == "basic"
    assert schemes["approverAccount"]["scheme"] == "basic"
    seen = set()
    for method, path, op in _ops(doc):
        assert "security" in op, f"{method} {path}"
        names = {name for req in op["security"] for name in req}
        assert names <= set(schemes), f"{method} {path}"
        if (method, path) in PUBLIC:
            assert op["security"] == [], f"{method} {path}"
        else:
            assert names, f"{method} {path} declares no security"
            seen |= names
    assert seen == set(schemes)
    approve = doc["paths"]["/v1/approvals/{approval_id}/approve"]["post"]
    assert approve["security"] == [{"approverAccount": []}]
    assert doc["paths"]["/v1/decide"]["post"]["security"] == [{"svid": []}]


def _ref(schema: dict[str, Any]) -> str:
    target = schema.get("items", schema) if schema.get("type") == "array" else schema
    return str(target.get("$ref", "")).rsplit("/", 1)[-1]


def test_main_operations_have_typed_answers_and_the_error_envelope(served: str) -> None:
    """Each main operation's success answer is a named model; its error answers are the error
    envelope `{"error": {"code", "message"}}`, which the server really answers with."""
    doc = httpx.get(f"{served}/openapi.json").json()
    models = doc["components"]["schemas"]
    for (method, path), model in TYPED.items():
        op = doc["paths"][path][method]
        ok = next(v for k, v in op["responses"].items() if k.startswith("2"))
        assert _ref(ok["content"]["application/json"]["schema"]) == model, f"{method} {path}"
        assert models[model]["properties"], model
        if (method, path) != ("post", "/v1/decide"):  # its 401 is a deny decision
            err = op["responses"]["401" if (method, path) not in PUBLIC else "400"]
            assert _ref(err["content"]["application/json"]["schema"]) == "ErrorOut"
    assert set(models["ErrorOut"]["required"]) == {"error"}
    assert set(models["ErrorDetail"]["required"]) == {"code", "message"}
    assert models["DecisionOut"]["properties"]["decision"]["$ref"].endswith("/Verdict")
    answer = httpx.get(f"{served}/v1/agents")
    assert answer.status_code == 401
    assert set(answer.json()) == {"error"}
    assert set(answer.json()["error"]) == {"code", "message"}


def _urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"url:\s*'([^']+)'", html)


def test_docs_reference_no_other_host_and_its_assets_are_served(served: str) -> None:
    """`/docs` names no URL on another host (FastAPI's default loads Swagger UI from a CDN), and
    every asset it names is served here."""
    page = httpx.get(f"{served}/docs")
    assert page.status_code == 200
    external = [u for u in re.findall(r"https?://[^\s\"'<>)]+", page.text) if not u.startswith(served)]
    assert not external, external
    refs = _urls(page.text)
    assert any(r.endswith(".js") for r in refs)
    assert any(r.endswith(".css") for r in refs)
    for ref in refs:
        answer = httpx.get(f"{served}{ref}" if ref.startswith("/") else ref)
        assert answer.status_code == 200, ref
        assert answer.content, ref


def test_docs_render_in_a_browser_with_no_other_host(served: str) -> None:
    """Chromium with every request to another host aborted: Swagger UI renders the document, its
    operations and the Authorize button for the security schemes."""
    from playwright.sync_api import Route, expect

    own = urlsplit(served).netloc
    blocked: list[str] = []

    def only_own(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with browser_page() as page:
        page.route("**/*", only_own)
        page.goto(f"{served}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Proctor")
        expect(page.locator(".opblock-summary-path", has_text="/v1/decide")).to_have_count(1)
        expect(page.locator("button.authorize")).to_be_visible()
    assert blocked == []
