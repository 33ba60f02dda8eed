"""A downstream HTTP API that accepts Proctor's credential tokens, end to end over real sockets.

Two uvicorn servers on loopback ports: Proctor's HTTP API, and a small Starlette "billing" API that
does what a careful resource server does with a bearer token:

1. verify it locally: Proctor's JWKS (fetched over HTTP), ES256, header ``typ`` ``at+jwt``, ``aud`` =
   its own audience, ``exp``/``iat`` (PyJWT, 5 s leeway);
2. ask Proctor's ``POST /v1/introspect`` (HTTP Basic as its introspection client) and accept only an
   ``active`` answer for its own audience.

The tests show that a token whose signature and ``exp`` are still fine is refused the moment its task
ends, its agent is suspended or its lease is revoked, and that other audiences, forged signatures,
future ``iat`` and wrong client secrets are refused too.
"""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests import planted

from proctor.app import Proctor
from proctor.credentials.providers.jwt import JwtProvider, add_introspection_client
from proctor.credentials.secrets import SecretStore
from proctor.identity.keys import TYP_ACCESS_TOKEN
from proctor.store.base import AgentRecord, TaskRecord
from proctor.tasks.service import TASK_AUDIENCE
from proctor.types import AgentStatus, LeaseId, LeaseState
from proctor.workspace import Workspace

#: the downstream API's audience, which is also its introspection client_id
AUDIENCE = "https://billing.test"
OTHER_AUDIENCE = "https://crm.test"
#: planted secrets: a later leak-scan test can import these and look for them anywhere
CLIENT_SECRET = "dsc-PLANTED-billing-introspection-7f3a9c2e5b1d4086"
WRONG_CLIENT_SECRET = "dsc-PLANTED-wrong-introspection-secret-0b8e61d2c9"
LEEWAY = 5
CONFIG = """\
trust_domain: acme.test
tools:
  - {name: billing.read, effect: read}
"""
log = logging.getLogger("tests.downstream")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class ServerThread:
    """uvicorn serving one ASGI app on a loopback port in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            # log_config=None: uvicorn's own dictConfig would close every handler already installed
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="error", lifespan="off", log_config=None
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "server did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass
class Downstream:
    """The billing API: local JWT checks, then introspection. ``events`` is its log."""

    proctor_url: str
    audience: str = AUDIENCE
    client_secret: str = CLIENT_SECRET
    jwks: dict[str, Any] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)

    def note(self, event: str) -> None:
        self.events.append(event)
        log.info("downstream: %s", event)

    async def key_for(self, kid: str, http: httpx.AsyncClient) -> Any:
        if kid not in self.jwks:  # unknown kid: fetch the JWKS again (rotation)
            r = await http.get(f"{self.proctor_url}/v1/credentials/jwks.json")
            r.raise_for_status()
            self.jwks = {k["kid"]: k for k in r.json()["keys"]}
        if kid not in self.jwks:
            return None
        return jwt.PyJWK(self.jwks[kid]).key

    async def invoices(self, request: Request) -> JSONResponse:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return self.refuse("no bearer token")
        async with httpx.AsyncClient(timeout=10) as http:
            try:
                header = jwt.get_unverified_header(token)
            except jwt.PyJWTError:
                return self.refuse("malformed")
            if header.get("typ") != "at+jwt":
                return self.refuse("typ")
            key = await self.key_for(str(header.get("kid")), http)
            if key is None:
                return self.refuse("unknown key")
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["ES256"],
                    audience=self.audience,
                    leeway=LEEWAY,
                    options={"require": ["exp", "iat", "aud", "sub"]},
                )
            except jwt.InvalidAudienceError:
                return self.refuse("audience")
            except jwt.InvalidSignatureError:
                return self.refuse("signature")
            except jwt.ImmatureSignatureError:
                return self.refuse("not yet valid")
            except jwt.PyJWTError as exc:
                return self.refuse(f"invalid: {type(exc).__name__}")
            r = await http.post(
                f"{self.proctor_url}/v1/introspect",
                data={"token": token, "token_type_hint": "access_token"},
                headers={"Authorization": _basic(self.audience, self.client_secret)},
            )
        if r.status_code != 200:
            return self.refuse(f"introspection failed ({r.status_code})", status=503)
        answer = r.json()
        if answer.get("active") is not True or self.audience not in answer.get("aud", []):
            return self.refuse("inactive")
        self.note(f"accepted lease {answer['lease']}")
        return JSONResponse({"ok": True, "client_id": claims["client_id"], "scope": answer.get("scope")})

    def refuse(self, reason: str, status: int = 401) -> JSONResponse:
        self.note(f"refused: {reason}")
        return JSONResponse(
            {"error": reason},
            status_code=status,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/invoices", self.invoices, methods=["GET"])])


@dataclass
class World:
    p: Proctor
    api: httpx.Client
    downstream: Downstream
    down: httpx.Client
    agent: AgentRecord

    def task(self) -> TaskRecord:
        return self.p.tasks.start(
            agent=str(self.agent.name),
            purpose="read invoices",
            allow=["billing.*"],
            requested_by="carol@acme.test",
            ttl_s=600,
        ).task

    def token(self, task: TaskRecord, audience: str = AUDIENCE, **spec: Any) -> tuple[LeaseId, str]:
        lease, data = self.p.credentials.leases.issue(task, self.agent, "jwt", {"audience": audience, **spec})
        return lease.id, planted.remember(str(data["token"]))  # the leak scan looks for it too

    def call(self, token: str) -> httpx.Response:
        return self.down.get("/invoices", headers={"Authorization": f"Bearer {token}"})

    def introspect(self, token: str, secret: str = CLIENT_SECRET, client: str = AUDIENCE) -> httpx.Response:
        return self.api.post(
            "/v1/introspect", data={"token": token}, headers={"Authorization": _basic(client, secret)}
        )


@pytest.fixture
def world(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[World]:
    caplog.set_level(logging.DEBUG)
    from proctor.server.api import create_app

    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    p = Proctor.open(ws)
    p.credentials.register_provider(
        JwtProvider(p.credentials.keys, p.audience, reserved_audiences=(p.audience, TASK_AUDIENCE)),
        replace=True,
    )
    ss = SecretStore.open(ws, p.store, now=p.clock.now(), env={})
    add_introspection_client(ss, AUDIENCE, p.clock.now(), secret=CLIENT_SECRET)
    agent = p.agents.add("finance-bot", "alice@acme.test")
    proctor_srv = ServerThread(create_app(p, ws))
    downstream = Downstream(proctor_url=proctor_srv.url)
    down_srv = ServerThread(downstream.app())
    api = httpx.Client(base_url=proctor_srv.url, timeout=10)
    down = httpx.Client(base_url=down_srv.url, timeout=10)
    try:
        yield World(p, api, downstream, down, agent)
    finally:
        api.close()
        down.close()
        down_srv.stop()
        proctor_srv.stop()
        p.close()


def test_live_task_token_is_accepted(world: World) -> None:
    """A token issued to a live task passes the local checks and introspection."""
    lease, token = world.token(world.task(), scope="invoices:read")
    r = world.call(token)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "client_id": "finance-bot", "scope": "invoices:read"}
    assert world.downstream.events == [f"accepted lease {lease}"]


def test_token_is_refused_after_the_task_ends(world: World) -> None:
    """Same token, signature valid and exp not reached: refused because introspection says inactive."""
    task = world.task()
    lease, token = world.token(task)
    assert world.call(token).status_code == 200
    world.p.tasks.end(str(task.id))
    r = world.call(token)
    assert r.status_code == 401
    assert r.json() == {"error": "inactive"}  # the local checks passed: only introspection refused
    assert world.p.credentials.leases.get(lease).state is LeaseState.REVOKED
    assert world.introspect(token).json() == {"active": False}


def test_token_is_refused_after_the_agent_is_suspended(world: World) -> None:
    _, token = world.token(world.task())
    assert world.call(token).status_code == 200
    world.p.agents.set_status("finance-bot", AgentStatus.SUSPENDED, reason="kill switch")
    r = world.call(token)
    assert r.status_code == 401
    assert r.json() == {"error": "inactive"}
    world.p.agents.set_status("finance-bot", AgentStatus.ACTIVE)
    assert world.call(token).json() == {"error": "inactive"}  # resuming revives no lease


def test_replay_after_revocation_is_refused(world: World) -> None:
    """A captured token replayed after its lease is revoked is refused, every time."""
    lease, token = world.token(world.task())
    assert world.call(token).status_code == 200
    assert world.call(token).status_code == 200  # bearer tokens are reusable while good
    world.p.credentials.leases.revoke(lease, "leaked")
    for _ in range(3):
        assert world.call(token).json() == {"error": "inactive"}


def test_token_for_another_audience_is_refused(world: World) -> None:
    """Refused locally (aud), and introspection tells this client nothing about it either."""
    _, token = world.token(world.task(), audience=OTHER_AUDIENCE)
    r = world.call(token)
    assert r.status_code == 401
    assert r.json() == {"error": "audience"}
    assert world.introspect(token).json() == {"active": False}


def test_forged_token_is_refused(world: World) -> None:
    """Claims copied from a real token, re-signed with another key under Proctor's kid: refused."""
    _, token = world.token(world.task())
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    other = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, other, algorithm="ES256", headers=header)
    r = world.call(forged)
    assert r.status_code == 401
    assert r.json() == {"error": "signature"}
    assert world.introspect(forged).json() == {"active": False}
    unknown_kid = jwt.encode(claims, other, algorithm="ES256", headers={**header, "kid": "x" * 43})
    assert world.call(unknown_kid).json() == {"error": "unknown key"}
    assert world.introspect(unknown_kid).json() == {"active": False}


def test_an_svid_is_no_credential(world: World) -> None:
    """An agent's JWT-SVID, even for the downstream's audience, is refused (typ) and inactive."""
    svid = world.p.agents.issue_svid(world.agent, AUDIENCE)
    assert world.call(svid).json() == {"error": "typ"}
    assert world.introspect(svid).json() == {"active": False}


def test_future_iat_beyond_leeway_is_inactive(world: World) -> None:
    """Clock skew: a validly signed token for a live lease whose iat lies beyond Proctor's leeway in the
    future is inactive at introspection (and the downstream refuses it)."""
    task = world.task()
    _, token = world.token(task)
    claims = jwt.decode(token, options={"verify_signature": False})
    body = {k: v for k, v in claims.items() if k not in ("iat", "exp")}
    now = world.p.clock.now()
    ahead = world.p.credentials.keys.sign_claims(
        body, now + world.p.credentials.keys.leeway + 30, 120, typ=TYP_ACCESS_TOKEN
    )
    assert world.introspect(ahead).json() == {"active": False}
    assert world.call(ahead).status_code == 401
    assert world.introspect(token).json()["active"] is True  # the lease itself is fine


def test_wrong_client_secret_is_401(world: World) -> None:
    """Introspection with a wrong secret is 401 with a Basic challenge; the downstream then fails closed."""
    _, token = world.token(world.task())
    r = world.introspect(token, secret=WRONG_CLIENT_SECRET)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Basic realm="proctor-introspection"'
    assert r.json()["error"]["code"] == "introspection_client_invalid"
    assert world.introspect(token, client=OTHER_AUDIENCE).status_code == 401
    world.downstream.client_secret = WRONG_CLIENT_SECRET
    r = world.call(token)
    assert r.status_code == 503
    assert r.json() == {"error": "introspection failed (401)"}


def test_no_secret_in_any_log(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """After a run of accepted and refused calls, neither the client secrets (nor their Basic header
    form), nor any issued token appear in any log record of either server, or in the audit log."""
    task = world.task()
    lease, token = world.token(task)
    assert world.call(token).status_code == 200
    world.downstream.client_secret = WRONG_CLIENT_SECRET
    assert world.call(token).status_code == 503
    world.downstream.client_secret = CLIENT_SECRET
    world.p.tasks.end(str(task.id))
    assert world.call(token).status_code == 401
    text = "\n".join(r.getMessage() for r in caplog.records) + "\n".join(world.downstream.events)
    assert "downstream: accepted lease" in text  # the capture does see the servers' logs
    world.p.audit.flush()
    audit = "\n".join(r.body.decode() for r in world.p.store.iter_audit())
    assert f'"lease_id":"{lease}"' in audit
    assert '"kind":"lease.introspected"' in audit
    for secret in (CLIENT_SECRET, WRONG_CLIENT_SECRET):
        for form in (secret, _basic(AUDIENCE, secret).split(" ")[1], quote_plus(secret)):
            assert form not in text
            assert form not in audit
    assert token not in text
    assert token not in audit
