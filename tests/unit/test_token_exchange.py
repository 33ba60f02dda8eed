"""Token exchange with an OAuth access token as the subject (docs/adr/0037), and the ``act`` claim's
shape: a real workspace (SQLite store, keys, audit) on a frozen clock."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from tests.unit.conftest import Env

from proctor.errors import OAuthRefused
from proctor.oauth.server import (
    GRANT_TOKEN_EXCHANGE,
    TOKEN_TYPE_ACCESS,
    TOKEN_TYPE_JWT,
    AuthorizationServer,
    pkce_s256,
)
from proctor.tasks.delegation import act_actors, act_claim
from proctor.tasks.templates import TaskTemplate
from proctor.types import TaskId

URL = "http://127.0.0.1:9100/mcp"
VERIFIER = "a" * 43


def test_act_claim_nests_the_current_actor_outermost() -> None:
    """Root first in, current actor outermost out; a root task has no ``act``; a malformed or
    too deep chain reads as None."""
    assert act_claim([("a", "t1")], "x.test") is None
    assert act_claim([], "x.test") is None
    act = act_claim([("a", "t1"), ("b", "t2"), ("c", "t3")], "x.test")
    assert act == {
        "sub": "spiffe://x.test/agent/c",
        "task": "t3",
        "act": {
            "sub": "spiffe://x.test/agent/b",
            "task": "t2",
            "act": {"sub": "spiffe://x.test/agent/a", "task": "t1"},
        },
    }
    assert act_actors(act) == [f"spiffe://x.test/agent/{n}" for n in "cba"]
    assert act_actors({"sub": "x", "act": "y"}) is None
    assert act_actors({"act": {"sub": "x"}}) is None
    deep: dict[str, object] = {"sub": "x"}
    for _ in range(20):
        deep = {"sub": "x", "act": deep}
    assert act_actors(deep) is None


def test_an_access_token_is_a_subject_token(env: Env) -> None:
    """A client holding an access token for a grant's task exchanges it, with the delegated agent's
    SVID as actor, for the child's task token; another agent's SVID gets nothing."""
    p = env.p
    p.store.put_template(
        TaskTemplate(
            name="reading",
            purpose="read data",
            allow=("fs.read",),
            resources=("/data/*",),
            ttl_s=600,
            max_calls=None,
            requested_by=None,
            agents=("bot",),
            params=(),
            created_at=env.clock.now(),
            created_by="test",
        )
    )
    srv = AuthorizationServer(p, issuer="http://127.0.0.1:9100", resource=URL)
    cid = str(srv.register({"redirect_uris": ["http://127.0.0.1/cb"], "client_name": "c"})["client_id"])
    req = srv.check_authorize(
        {
            "response_type": "code",
            "client_id": cid,
            "redirect_uri": "http://127.0.0.1:5555/cb",
            "state": "s",
            "code_challenge": pkce_s256(VERIFIER),
            "code_challenge_method": "S256",
            "resource": URL,
        }
    )
    code = parse_qs(urlsplit(srv.consent(req, "owner@acme.test", "reading|bot")).query)["code"][0]
    tokens = srv.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": cid,
            "redirect_uri": "http://127.0.0.1:5555/cb",
            "code_verifier": VERIFIER,
            "resource": URL,
        }
    )
    access = str(tokens["access_token"])
    parent = srv.verify_access(access).task_id
    helper = p.agents.add("helper", "owner@acme.test")
    p.agents.add("other", "owner@acme.test")
    child = p.tasks.delegate(str(parent), agent="helper", allow=["fs.read"], resources=["/data/x*"])

    def exchange(actor: str) -> dict[str, object]:
        return srv.token(
            {
                "grant_type": GRANT_TOKEN_EXCHANGE,
                "subject_token": access,
                "subject_token_type": TOKEN_TYPE_ACCESS,
                "actor_token": actor,
                "actor_token_type": TOKEN_TYPE_JWT,
                "resource": URL,
            }
        )

    answer = exchange(p.agents.issue_svid(helper))
    token = str(answer["access_token"])
    assert p.tasks.verify_token(token, helper) == child.task.id
    claims = jwt.decode(token, options={"verify_signature": False})
    assert act_actors(claims["act"]) == ["spiffe://acme.test/agent/helper", "spiffe://acme.test/agent/bot"]
    assert claims["act"]["act"]["task"] == str(parent)
    with pytest.raises(OAuthRefused) as info:
        exchange(p.agents.issue_svid(p.agents.get("other")))
    assert info.value.error == "invalid_request"
    # the access token as a task token (the wrong type) is refused
    with pytest.raises(OAuthRefused):
        srv.token(
            {
                "grant_type": GRANT_TOKEN_EXCHANGE,
                "subject_token": access,
                "subject_token_type": TOKEN_TYPE_JWT,
                "actor_token": p.agents.issue_svid(helper),
                "actor_token_type": TOKEN_TYPE_JWT,
            }
        )
    assert p.store.get_task(TaskId(str(answer["task"]))) == child.task


def test_a_held_subject_token_with_a_garbage_actor_does_not_fill_the_log(env: Env) -> None:
    """Red team (docs/adr/0037): the parent hands its task token to its child, so holding one proves
    nothing of who asks; a flood of exchanges with it and an actor token that is no agent's SVID
    writes no ``oauth.token_exchange_refused`` per request (the gateway's refusal record, rationed
    per source, covers them); a refusal for an identified actor is still audited."""
    import json

    from proctor.store.base import AuditQuery

    p = env.p
    srv = AuthorizationServer(p, issuer="http://127.0.0.1:9100", resource=URL)
    helper = p.agents.add("helper", "owner@acme.test")
    p.agents.add("other", "owner@acme.test")
    p.tasks.delegate(str(env.task.task.id), agent="helper", allow=["fs.read"], resources=["/data/x*"])

    def exchange(actor: str) -> dict[str, object]:
        return srv.token(
            {
                "grant_type": GRANT_TOKEN_EXCHANGE,
                "subject_token": env.task.token,
                "subject_token_type": TOKEN_TYPE_JWT,
                "actor_token": actor,
                "actor_token_type": TOKEN_TYPE_JWT,
            }
        )

    def refused() -> list[dict[str, object]]:
        p.audit.flush()
        return [
            json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind="oauth.token_exchange_refused"))
        ]

    for i in range(30):
        with pytest.raises(OAuthRefused, match="actor_token rejected"):
            exchange(f"x{i}.y.z")
    assert refused() == []
    with pytest.raises(OAuthRefused, match="no live delegation"):
        exchange(p.agents.issue_svid(p.agents.get("other")))
    assert len(refused()) == 1
    assert exchange(p.agents.issue_svid(helper))["issued_token_type"] == TOKEN_TYPE_JWT
