"""`proctor serve` keeps the contract of its own OpenAPI document: a real server process on a
loopback port, driven by schemathesis (bounded, derandomized examples) with and without the admin
token, and by hand for what property tests do not reach (405, oversized heads, refusal floods)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from proctor.types import TaskState
from proctor.workspace import Workspace

PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
CONFIG = """\
trust_domain: acme.test
audit:
  refusal_records: 3
  refusal_window: 1h
tools:
  - {name: fs.read, effect: read, resource_arg: path}
"""
#: examples per operation and auth mode: the whole run stays within a couple of minutes on 2 cores
MAX_EXAMPLES = int(os.environ.get("PROCTOR_CONTRACT_EXAMPLES", "25"))


@dataclass
class Served:
    base: str
    admin: str
    ws: Path
    proc: subprocess.Popen[bytes]

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=30, headers=headers)

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp: Path) -> Generator[Served, None, None]:
    ws, admin = Workspace.init(tmp / "ws", config_text=CONFIG)
    port = _free_port()
    env = dict(os.environ, PROCTOR_WORKSPACE=str(ws.root))
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen(
        [*PROCTOR, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # the process imports everything first: wait for it, not for a time
            if proc.poll() is not None:
                raise AssertionError((tmp / "serve.log").read_text())
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("proctor serve did not start")
        yield Served(base, admin, ws.root, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One `proctor serve` process for this module, with an agent and a task to find."""
    s_ = next(gen := _serve(tmp_path_factory.mktemp("contract")))
    with s_.client(**s_.admin_headers) as c:
        assert c.post("/v1/agents", json={"name": "bot", "owner": "o@acme.test"}).status_code == 201
        started = c.post(
            "/v1/tasks",
            json={"agent": "bot", "purpose": "p", "allow": ["fs.*"], "requested_by": "r@acme.test"},
        )
        assert started.status_code == 201
    yield s_
    gen.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Served]:
    """A `proctor serve` process of its own (for tests that count audit records)."""
    gen = _serve(tmp_path)
    yield next(gen)
    gen.close()


# the document against the server ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("with_admin", "negative"),
    [(True, False), (False, False), (True, True)],
    ids=["admin", "anonymous", "admin-invalid-input"],
)
def test_server_keeps_its_openapi_contract(served: Served, with_admin: bool, negative: bool) -> None:
    """For every operation, schema-derived requests (bounded, derandomized) get no server error,
    no status the document does not list for it, and a body and content type that fit the
    document's response schema; requests that break the document (`negative`) get the same (an
    unknown query parameter is ignored, as HTTP APIs do, so those are not counted as refusals)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.result import Err
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    schema = schemathesis.openapi.from_url(f"{served.base}/openapi.json")
    headers = served.admin_headers if with_admin else {}
    failures: list[str] = []
    ran = 0
    calls: dict[int, int] = {}
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"the document has an invalid operation: {result.err()}")
            continue
        op = result.ok()
        if op.path == "/v1/audit/verify" and with_admin:
            continue  # verifies the whole chain on every call: slow, and covered by its own tests

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy(GenerationMode.NEGATIVE if negative else GenerationMode.POSITIVE))
        def exercise(case: Any) -> None:
            response = case.call(base_url=served.base, headers=headers, timeout=30)
            calls[response.status_code] = calls.get(response.status_code, 0) + 1
            case.validate_response(response, checks=checks, headers=headers)

        ran += 1
        try:
            exercise()
        except Unsatisfiable:
            assert negative  # an operation without parameters or body has no invalid input
        except Exception as exc:  # every operation is run: report them all at once
            failures.append(f"{op.method.upper()} {op.path}: {exc}"[:3000])
    assert ran >= 20
    assert not failures, "\n\n".join(failures)
    # the run reached the operations: successes with the token, refusals without it
    if negative:
        assert calls.get(400, 0) >= 3 * ran, calls
    elif with_admin:
        assert calls.get(200, 0) + calls.get(201, 0) >= ran, calls
    else:
        assert calls.get(401, 0) >= 5 * ran, calls
    assert served.proc.poll() is None


def test_the_document_describes_errors_as_the_server_answers_them(served: Served) -> None:
    """Invalid input is documented as 400 (never 422); ids, names and states carry the patterns
    and enums of proctor.types; 401/404/409/413/415 are documented where they are answered."""
    doc = httpx.get(f"{served.base}/openapi.json").json()
    ops = [(p, m, op) for p, item in doc["paths"].items() for m, op in item.items()]
    assert all("422" not in op["responses"] for _, _, op in ops)
    assert all({"400", "413"} <= set(op["responses"]) for _, _, op in ops)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    params = {(p, x["name"]): x["schema"] for p, m, op in ops if m == "get" for x in op.get("parameters", [])}
    assert params[("/v1/tasks/{task_id}", "task_id")]["pattern"] == "^tsk_[A-Za-z0-9_-]{16,64}$"
    assert params[("/v1/leases/{lease_id}", "lease_id")]["pattern"] == "^lse_[A-Za-z0-9_-]{16,64}$"
    assert params[("/v1/agents/{name}", "name")]["pattern"] == "^[a-z0-9][a-z0-9_-]{0,62}$"
    task_state = params[("/v1/tasks", "state")]
    enum_ref = next(x for x in task_state["anyOf"] if "$ref" in x)["$ref"].rsplit("/", 1)[1]
    assert doc["components"]["schemas"][enum_ref]["enum"] == [s.value for s in TaskState]
    responses = {(p, m): set(op["responses"]) for p, m, op in ops}
    assert "401" in responses[("/v1/agents", "get")]
    assert {"404", "409"} <= responses[("/v1/tasks/{task_id}/end", "post")]
    assert {"401", "415"} <= responses[("/v1/introspect", "post")]
    assert doc["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"


# by hand ------------------------------------------------------------------------------------------
def test_an_unknown_state_is_a_documented_400_with_a_code(served: Served) -> None:
    """`?state=bogus` was an unmapped ValueError (500): it is `400 invalid_input` now, on tasks and
    leases alike, and the server keeps serving."""
    with served.client(**served.admin_headers) as c:
        for path in ("/v1/tasks", "/v1/leases"):
            r = c.get(path, params={"state": "bogus"})
            assert r.status_code == 400, r.text
            assert r.json()["error"]["code"] == "invalid_input"
            assert "state" in r.json()["error"]["message"]
        r = c.get("/v1/tasks", params={"state": "active"})
        assert r.status_code == 200
        assert [t["state"] for t in r.json()] == ["active"]
        r = c.post("/v1/tasks/tsk_AAAAAAAAAAAAAAAAAAAAAA/end", json={"state": "expired"})
        assert r.status_code == 400  # a task is ended `completed` or `cancelled`, nothing else
        assert c.get("/v1/tasks/not-an-id").json()["error"]["code"] == "invalid_input"


def test_method_not_allowed_names_the_allowed_methods(served: Served) -> None:
    """A 405 carries `Allow` (RFC 9110 §15.5.6) and the JSON error with its code."""
    with served.client(**served.admin_headers) as c:
        r = c.delete("/v1/agents")
        assert r.status_code == 405
        assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
        assert r.json()["error"]["code"] == "method_not_allowed"
        r = c.put("/v1/decide", json={})
        assert r.status_code == 405
        assert r.headers["allow"] == "POST"


def test_an_oversized_request_head_is_refused_with_431(served: Served) -> None:
    """An 8 MiB header is answered 431 (or the connection is closed) before it is buffered; the
    server keeps serving others, and a head under the bound is served."""
    big = "x" * (8 << 20)
    try:
        r = httpx.get(f"{served.base}/healthz", headers={"X-Big": big}, timeout=60)
    except httpx.TransportError:
        pass  # the server may close before the client has finished writing: refused either way
    else:
        assert r.status_code == 431
        assert r.json()["error"]["code"] == "headers_too_large"
    assert httpx.get(f"{served.base}/healthz", headers={"X-Ok": "y" * 16_000}).status_code == 200
    assert served.proc.poll() is None


def test_an_unauthenticated_flood_writes_a_bounded_number_of_records(fresh: Served) -> None:
    """Refusals for want of the admin token (`api.refused`), rejected join tokens
    (`identity.join_token_rejected`) and `/v1/decide` without a valid identity (`decide.refused`) are audited at most `audit.refusal_records` (3 here) per
    source and window; the rest are counted into one `audit.refusals_suppressed` summary each,
    written at shutdown (SIGTERM) at the latest."""
    with fresh.client() as c:
        for i in range(60):
            hdrs = {"Authorization": "Bearer pta_wrong"} if i % 2 else {}
            assert c.get("/v1/agents", headers=hdrs).status_code == 401
        for _ in range(20):
            assert c.post("/v1/identity/svid", json={"join_token": "ptj_guess"}).status_code == 401
        for i in range(40):  # /v1/decide without an identity: a deny, and a refusal, not a decision
            hdrs = {"Authorization": "Bearer not-a-jwt"} if i % 2 else {}
            r = c.post("/v1/decide", json={"tool": "fs.read", "task_token": "x", "args": {}}, headers=hdrs)
            assert r.status_code == 401
            assert r.json()["decision"] == "deny"
    fresh.proc.terminate()
    assert fresh.proc.wait(timeout=30) is not None
    from proctor.app import Proctor
    from proctor.store.base import AuditQuery

    p = Proctor.open(Workspace.find(str(fresh.ws)))
    try:
        refused = p.store.search_audit(AuditQuery(kind="api.refused", limit=1000))
        rejected = p.store.search_audit(AuditQuery(kind="identity.join_token_rejected", limit=1000))
        summaries = p.store.search_audit(AuditQuery(kind="audit.refusals_suppressed", limit=1000))
        decide_refused = p.store.search_audit(AuditQuery(kind="decide.refused", limit=1000))
        decisions = p.store.search_audit(AuditQuery(kind="decision", limit=1000))
    finally:
        p.close()
    import json

    assert len(refused) == 3
    assert {json.loads(r.body)["source"] for r in refused} == {"127.0.0.1"}
    assert len(rejected) == 3
    assert {json.loads(r.body)["error"] for r in rejected} == {"join_token_invalid"}
    bodies = sorted((json.loads(s.body) for s in summaries), key=lambda b: str(b["refused"]))
    assert [(b["refused"], b["suppressed"]) for b in bodies] == [
        ("api.refused", 57),
        ("decide.refused", 37),
        ("identity.join_token_rejected", 17),
    ]
    assert len(decide_refused) == 3
    assert decisions == []  # nobody was identified: no decision record per request
    assert bodies[0]["message"] == "57 refusals from 127.0.0.1 suppressed in the last 3600 s"
