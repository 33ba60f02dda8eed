"""RFC 8693 token exchange and the ``act`` chain (issue 17 part 4, docs/adr/0037), over real sockets.

Three uvicorn servers on loopback ports: Proctor's HTTP API (JWKS, introspection), the gateway's
authorization server (``POST /token``, served by the same ``OAuthEndpoints`` the gateway mounts), and
a small Starlette "mail" API that does what a resource server that cares who acted for whom does with
a credential JWT: verify it against Proctor's credential JWKS (ES256, ``typ`` ``at+jwt``, its own
audience), ask Proctor's introspection, and accept only a chain ``planner -> researcher -> mailer``
acting for the root requester.

The chain: ``planner`` (root task, requested by alice) delegates to ``researcher``, which delegates
to ``mailer``. The mailer exchanges the researcher's task token (subject) and its own JWT-SVID
(actor) for its task token, whose nested ``act`` claims name the whole chain; its credential JWTs
carry the same chain, and introspection answers it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests import planted
from tests.e2e.test_jwt_downstream import ServerThread, _basic

from proctor.app import Proctor
from proctor.credentials.providers.jwt import JwtProvider, add_introspection_client
from proctor.credentials.secrets import SecretStore
from proctor.identity.keys import TYP_ACCESS_TOKEN
from proctor.oauth.http import OAuthEndpoints
from proctor.oauth.server import GRANT_TOKEN_EXCHANGE, TOKEN_TYPE_JWT, AuthorizationServer
from proctor.store.base import AuditQuery, TaskRecord
from proctor.tasks.delegation import act_actors
from proctor.tasks.service import TASK_AUDIENCE
from proctor.workspace import Workspace

AUDIENCE = "https://mail.test"
CLIENT_SECRET = "dsc-PLANTED-mail-introspection-4c1e9a7b2d5f3086"
TD = "acme.test"
CONFIG = """\
trust_domain: acme.test
tools:
  - {name: mail.read, effect: read}
  - {name: mail.send, effect: write}
  - {name: crm.lookup, effect: read}
"""
EXPECTED = ["planner", "researcher", "mailer"]  # root first, as the downstream reads the chain


def _spiffe(agent: str) -> str:
    return f"spiffe://{TD}/agent/{agent}"


@dataclass
class MailApi:
    """The downstream API: local JWT checks against Proctor's JWKS, the ``act`` chain, then
    introspection. ``events`` is its log."""

    proctor_url: str
    jwks: dict[str, Any] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)

    def refuse(self, reason: str) -> JSONResponse:
        self.events.append(f"refused: {reason}")
        return JSONResponse({"error": reason}, status_code=401)

    async def send(self, request: Request) -> JSONResponse:
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
            kid = str(header.get("kid"))
            if kid not in self.jwks:
                r = await http.get(f"{self.proctor_url}/v1/credentials/jwks.json")
                r.raise_for_status()
                self.jwks = {k["kid"]: k for k in r.json()["keys"]}
            if kid not in self.jwks:
                return self.refuse("unknown key")
            try:
                claims = jwt.decode(
                    token,
                    jwt.PyJWK(self.jwks[kid]).key,
                    algorithms=["ES256"],
                    audience=AUDIENCE,
                    leeway=5,
                    options={"require": ["exp", "iat", "aud", "sub"]},
                )
            except jwt.InvalidSignatureError:
                return self.refuse("signature")
            except jwt.PyJWTError as exc:
                return self.refuse(f"invalid: {type(exc).__name__}")
            actors = act_actors(claims.get("act"))
            if not actors:
                return self.refuse("no act chain")
            # current actor outermost: read root first; the current actor is the token's subject
            chain = [a.rsplit("/", 1)[-1] for a in reversed(actors)]
            if chain != EXPECTED or actors[0] != claims["sub"]:
                return self.refuse(f"chain {' -> '.join(chain)}")
            r = await http.post(
                f"{self.proctor_url}/v1/introspect",
                data={"token": token},
                headers={"Authorization": _basic(AUDIENCE, CLIENT_SECRET)},
            )
        answer = r.json()
        if r.status_code != 200 or answer.get("active") is not True:
            return self.refuse("inactive")
        if answer.get("act") != claims["act"]:
            return self.refuse("introspection disagrees on the chain")
        self.events.append(f"accepted {' -> '.join(chain)} for {claims['requester']}")
        return JSONResponse({"ok": True, "chain": chain, "for": claims["requester"]})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/send", self.send, methods=["POST"])])


@dataclass
class World:
    p: Proctor
    api: httpx.Client
    auth: httpx.Client
    down: httpx.Client
    mail: MailApi
    root: TaskRecord
    root_token: str
    middle: TaskRecord
    middle_token: str
    leaf: TaskRecord
    leaf_token: str

    def svid(self, agent: str, audience: str | None = None) -> str:
        return self.p.agents.issue_svid(self.p.agents.get(agent), audience)

    def exchange(self, subject: str, actor: str, **over: str) -> httpx.Response:
        form = {
            "grant_type": GRANT_TOKEN_EXCHANGE,
            "subject_token": subject,
            "subject_token_type": TOKEN_TYPE_JWT,
            "actor_token": actor,
            "actor_token_type": TOKEN_TYPE_JWT,
        }
        form.update(over)
        r = self.auth.post("/token", data={k: v for k, v in form.items() if v != "-"})
        if r.status_code == 200:
            planted.remember(str(r.json()["access_token"]))
        return r

    def credential(self, task: TaskRecord, agent: str) -> str:
        _, data = self.p.credentials.leases.issue(
            task, self.p.agents.get(agent), "jwt", {"audience": AUDIENCE}
        )
        return planted.remember(str(data["token"]))  # the leak scan looks for it too

    def call(self, token: str) -> httpx.Response:
        return self.down.post("/send", headers={"Authorization": f"Bearer {token}"})

    def records(self, kind: str) -> list[dict[str, Any]]:
        self.p.audit.flush()
        return [
            json.loads(bytes(r.body)) for r in self.p.store.search_audit(AuditQuery(kind=kind, limit=100))
        ]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    from proctor.server.api import create_app

    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    p = Proctor.open(ws)
    p.credentials.register_provider(
        JwtProvider(p.credentials.keys, p.audience, reserved_audiences=(p.audience, TASK_AUDIENCE)),
        replace=True,
    )
    ss = SecretStore.open(ws, p.store, now=p.clock.now(), env={})
    add_introspection_client(ss, AUDIENCE, p.clock.now(), secret=CLIENT_SECRET)
    for name in ("planner", "researcher", "mailer"):
        p.agents.add(name, "owner@acme.test")
    p.agents.add("stranger", "owner@acme.test")
    root = p.tasks.start(
        agent="planner",
        purpose="answer the customer",
        allow=["mail.*", "crm.*"],
        requested_by="alice@acme.test",
        ttl_s=1800,
    )
    middle = p.tasks.delegate(str(root.task.id), agent="researcher", allow=["mail.*", "crm.lookup"])
    leaf = p.tasks.delegate(str(middle.task.id), agent="mailer", allow=["mail.send"])
    proctor_srv = ServerThread(create_app(p, ws))
    auth_port_app: dict[str, Any] = {}

    async def token_app(scope: Any, receive: Any, send: Any) -> None:
        await auth_port_app["endpoints"](scope, receive, send)

    auth_srv = ServerThread(token_app)
    server = AuthorizationServer(p, issuer=auth_srv.url, resource=f"{auth_srv.url}/mcp")
    auth_port_app["endpoints"] = OAuthEndpoints(server)
    mail = MailApi(proctor_url=proctor_srv.url)
    down_srv = ServerThread(mail.app())
    api = httpx.Client(base_url=proctor_srv.url, timeout=10)
    auth = httpx.Client(base_url=auth_srv.url, timeout=10)
    down = httpx.Client(base_url=down_srv.url, timeout=10)
    try:
        yield World(
            p,
            api,
            auth,
            down,
            mail,
            root.task,
            planted.remember(root.token),
            middle.task,
            planted.remember(middle.token),
            leaf.task,
            planted.remember(leaf.token),
        )
    finally:
        for c in (api, auth, down):
            c.close()
        for s in (down_srv, auth_srv, proctor_srv):
            s.stop()
        p.close()


def _claims(token: str) -> dict[str, Any]:
    out: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return out


def test_the_exchange_answers_the_childs_token_with_the_chain(world: World) -> None:
    """The mailer exchanges the researcher's task token and its own SVID for its task token: nested
    ``act`` from the mailer (outermost) to the planner (innermost), the root requester beside it."""
    meta = world.auth.get("/.well-known/oauth-authorization-server").json()
    assert GRANT_TOKEN_EXCHANGE in meta["grant_types_supported"]
    r = world.exchange(world.middle_token, world.svid("mailer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["issued_token_type"] == TOKEN_TYPE_JWT
    assert body["token_type"] == "N_A"
    assert body["task"] == str(world.leaf.id)
    assert r.headers["cache-control"] == "no-store"
    claims = _claims(body["access_token"])
    assert claims["sub"] == _spiffe("mailer")
    assert claims["aud"] == [TASK_AUDIENCE]
    assert claims["requester"] == "alice@acme.test"
    assert claims["act"] == {
        "sub": _spiffe("mailer"),
        "task": str(world.leaf.id),
        "act": {
            "sub": _spiffe("researcher"),
            "task": str(world.middle.id),
            "act": {"sub": _spiffe("planner"), "task": str(world.root.id)},
        },
    }
    # it is the mailer's task token: Proctor takes it with the mailer's SVID, and no one else's
    mailer = world.p.agents.get("mailer")
    assert world.p.tasks.verify_token(body["access_token"], mailer) == world.leaf.id
    # what delegate answered carries the same chain; a root task's token carries none
    assert _claims(world.leaf_token)["act"] == claims["act"]
    assert "act" not in _claims(world.root_token)
    (rec,) = world.records("oauth.token_exchanged")
    assert rec["agent"] == "mailer"
    assert rec["task"] == str(world.leaf.id)
    assert [c["agent"] for c in rec["chain"]] == EXPECTED


def test_a_downstream_api_validates_the_act_chain(world: World) -> None:
    """A credential JWT of the mailer's task carries the chain; the mail API checks it against
    Proctor's JWKS and introspection, and accepts planner -> researcher -> mailer for alice."""
    token = world.credential(world.leaf, "mailer")
    r = world.call(token)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "chain": EXPECTED, "for": "alice@acme.test"}
    answer = world.api.post(
        "/v1/introspect", data={"token": token}, headers={"Authorization": _basic(AUDIENCE, CLIENT_SECRET)}
    ).json()
    assert answer["active"] is True
    assert act_actors(answer["act"]) == [_spiffe("mailer"), _spiffe("researcher"), _spiffe("planner")]
    assert answer["requester"] == "alice@acme.test"


def test_a_tampered_or_missing_chain_is_refused(world: World) -> None:
    """A chain rewritten and re-signed with a foreign key under Proctor's kid fails the signature;
    a token with no chain (a root task's) is refused; a chain Proctor's key signed but that is not
    the task's (a forged issue) is inactive at introspection."""
    token = world.credential(world.leaf, "mailer")
    header = jwt.get_unverified_header(token)
    claims = _claims(token)
    claims["act"]["act"] = {"sub": _spiffe("stranger"), "task": "t_x", "act": claims["act"]["act"]["act"]}
    foreign = ec.generate_private_key(ec.SECP256R1())
    assert world.call(jwt.encode(claims, foreign, algorithm="ES256", headers=header)).json() == {
        "error": "signature"
    }
    dropped = {k: v for k, v in _claims(token).items() if k != "act"}
    assert world.call(jwt.encode(dropped, foreign, algorithm="ES256", headers=header)).json() == {
        "error": "signature"
    }
    assert world.call(world.credential(world.root, "planner")).json() == {"error": "no act chain"}
    # the chain of a shallower task is refused by what the API requires
    assert world.call(world.credential(world.middle, "researcher")).json() == {
        "error": "chain planner -> researcher"
    }
    # signed by Proctor's own credential key, but claiming a chain the task does not have
    keys = world.p.credentials.keys
    now = world.p.clock.now()
    body = {k: v for k, v in _claims(token).items() if k not in ("iat", "exp")}
    for act in (
        {**body["act"], "act": {"sub": _spiffe("researcher"), "task": str(world.middle.id)}},
        None,
    ):
        forged = {**body, "act": act} if act is not None else {k: v for k, v in body.items() if k != "act"}
        signed = keys.sign_claims(forged, now, 300, typ=TYP_ACCESS_TOKEN)
        answer = world.api.post(
            "/v1/introspect",
            data={"token": signed},
            headers={"Authorization": _basic(AUDIENCE, CLIENT_SECRET)},
        ).json()
        assert answer == {"active": False}
    assert world.call(token).status_code == 200  # the genuine one still passes


def test_a_replayed_subject_token_after_the_parent_ended_is_refused(world: World) -> None:
    """The researcher's task token, replayed once its task ended (its signature and exp still
    good), exchanges for nothing; the refusal is audited."""
    actor = world.svid("mailer")
    assert world.exchange(world.middle_token, actor).status_code == 200
    world.p.tasks.end(str(world.middle.id))
    r = world.exchange(world.middle_token, actor)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert "no longer active" in r.json()["error_description"]
    (rec,) = world.records("oauth.token_exchange_refused")
    assert rec["task"] == str(world.middle.id)
    assert rec["error"] == "invalid_request"


def test_an_actor_the_delegation_does_not_name_gets_nothing(world: World) -> None:
    """The stranger (same owner, active, no delegation from this task) and the planner (an
    ancestor) present their own SVIDs as actor: refused; the mailer against the root's token
    (a delegation exists, but from the researcher's task, not the planner's) too."""
    for subject, actor in (
        (world.middle_token, world.svid("stranger")),
        (world.middle_token, world.svid("planner")),
        (world.root_token, world.svid("mailer")),
    ):
        r = world.exchange(subject, actor)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_request"
        assert "no live delegation" in r.json()["error_description"]
    assert len(world.records("oauth.token_exchange_refused")) == 3
    # a live delegation that has ended since: nothing either
    world.p.tasks.end(str(world.leaf.id))
    assert world.exchange(world.middle_token, world.svid("mailer")).json()["error"] == "invalid_request"


def test_expired_and_confused_tokens_are_refused(world: World) -> None:
    """An expired actor SVID, an SVID for another audience, a subject that is an SVID or a
    credential JWT, and a request for another audience or resource are refused."""
    mailer = world.p.agents.get("mailer")
    now = world.p.clock.now()
    expired = world.p.agents.svids.issue(mailer, world.p.audience, now - 3600, ttl=60)
    cases: list[tuple[dict[str, str], str, str]] = [
        ({"actor_token": expired}, "invalid_request", "actor_token rejected"),
        ({"actor_token": world.svid("mailer", AUDIENCE)}, "invalid_request", "actor_token rejected"),
        ({"subject_token": world.svid("researcher")}, "invalid_request", "subject_token rejected"),
        (
            {"subject_token": world.credential(world.middle, "researcher")},
            "invalid_request",
            "subject_token rejected",
        ),
        ({"audience": AUDIENCE}, "invalid_target", "audience"),
        ({"resource": "https://elsewhere.test/mcp"}, "invalid_target", "resource"),
        ({"scope": "mail.send"}, "invalid_scope", "scope"),
        (
            {"requested_token_type": "urn:ietf:params:oauth:token-type:access_token"},
            "invalid_request",
            "only",
        ),
    ]
    actor = world.svid("mailer")
    for over, error, words in cases:
        form = {"subject_token": world.middle_token, "actor_token": actor, **over}
        r = world.exchange(form.pop("subject_token"), form.pop("actor_token"), **form)
        assert r.status_code == 400, (over, r.text)
        assert r.json()["error"] == error, over
        assert words in r.json()["error_description"], (over, r.json())
    # the right audience, named, is fine
    assert world.exchange(world.middle_token, actor, audience=TASK_AUDIENCE).status_code == 200


def test_oversized_and_malformed_requests_are_refused(world: World) -> None:
    """Missing or unknown token types, no actor (no impersonation), malformed and oversized tokens,
    a repeated parameter and a body that is no form: RFC 6749 errors, nothing issued."""
    actor = world.svid("mailer")
    for over, error in (
        ({"subject_token_type": "-"}, "invalid_request"),
        ({"subject_token_type": "urn:ietf:params:oauth:token-type:saml2"}, "invalid_request"),
        ({"actor_token": "-", "actor_token_type": "-"}, "invalid_request"),
        ({"actor_token_type": TASK_AUDIENCE}, "invalid_request"),
        ({"subject_token": "a.b.c"}, "invalid_request"),
        ({"subject_token": "not a token"}, "invalid_request"),
        ({"actor_token": "x" * 3000}, "invalid_request"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:token-exchangeX"}, "unsupported_grant_type"),
    ):
        r = world.exchange(world.middle_token, actor, **over)
        assert r.status_code == 400, (over, r.text)
        assert r.json()["error"] == error, over
    huge = world.exchange("y" * 70_000, actor)
    assert huge.status_code == 413
    assert huge.json()["error"] == "invalid_request"
    twice = world.auth.post(
        "/token",
        content=f"grant_type={GRANT_TOKEN_EXCHANGE}&subject_token=a&subject_token=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert twice.json()["error"] == "invalid_request"
    as_json = world.auth.post("/token", json={"grant_type": GRANT_TOKEN_EXCHANGE})
    assert as_json.json()["error"] == "invalid_request"
    assert world.records("oauth.token_exchanged") == []
