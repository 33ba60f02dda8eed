"""Join tokens: single use, short-lived, stored only as a hash."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.conftest import Env

from proctor.clock import FrozenClock
from proctor.errors import JoinTokenInvalid, UnknownAgent, ValidationError
from proctor.identity import create_join_token, hash_join_token, redeem
from proctor.store import open_store
from proctor.store.base import AgentRecord, Store
from proctor.types import AgentName, AgentStatus, Email, SpiffeId, TrustDomain

MESSAGE = "join token is invalid, expired or already used"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/p.db")
    name = AgentName("bot")
    s.add_agent(
        AgentRecord(
            name=name,
            spiffe_id=SpiffeId.for_agent(TrustDomain("acme.test"), name),
            owner=Email("alice@example.com"),
            status=AgentStatus.ACTIVE,
            selectors=(),
            created_at=0.0,
            updated_at=0.0,
        )
    )
    yield s
    s.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def test_create_and_redeem(store: Store, clock: FrozenClock) -> None:
    """A fresh token has the ptj_ prefix and 256 bits, and redeems to its agent."""
    token = create_join_token(store, AgentName("bot"), clock.now())
    assert token.startswith("ptj_")
    assert len(token) == 4 + 43
    assert redeem(store, token, clock.now()) == "bot"


def test_only_the_hash_is_stored(tmp_path: Path, store: Store, clock: FrozenClock) -> None:
    """The database holds the token's SHA-256, never the token itself."""
    token = create_join_token(store, AgentName("bot"), clock.now())
    store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("p.db*"))
    assert hash_join_token(token).encode() in data
    assert token.encode() not in data
    assert token[4:].encode() not in data


def test_reused_token(store: Store, clock: FrozenClock) -> None:
    """A token works once; the second redemption fails with the generic message."""
    token = create_join_token(store, AgentName("bot"), clock.now())
    redeem(store, token, clock.now())
    with pytest.raises(JoinTokenInvalid) as exc:
        redeem(store, token, clock.now())
    assert exc.value.message == MESSAGE


def test_expired_token(store: Store, clock: FrozenClock) -> None:
    """A token cannot be redeemed at or after its expiry."""
    token = create_join_token(store, AgentName("bot"), clock.now(), ttl=600)
    clock.advance(600)
    with pytest.raises(JoinTokenInvalid) as exc:
        redeem(store, token, clock.now())
    assert exc.value.message == MESSAGE


@pytest.mark.parametrize("token", ["ptj_" + "A" * 43, "ptj_", "", "x" * 10_000, "ptj_" + "é" * 43])
def test_unknown_or_malformed_token(store: Store, clock: FrozenClock, token: str) -> None:
    """Unknown and malformed tokens fail with the same message as used or expired ones."""
    with pytest.raises(JoinTokenInvalid) as exc:
        redeem(store, token, clock.now())
    assert exc.value.message == MESSAGE


def test_concurrent_redeem_has_one_winner(store: Store, clock: FrozenClock) -> None:
    """Eight threads redeeming one token at once: exactly one succeeds."""
    token = create_join_token(store, AgentName("bot"), clock.now())
    wins: list[str] = []
    fails: list[Exception] = []
    barrier = threading.Barrier(8)

    def go() -> None:
        barrier.wait()
        try:
            wins.append(redeem(store, token, clock.now()))
        except JoinTokenInvalid as exc:
            fails.append(exc)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins == ["bot"]
    assert len(fails) == 7


def test_unknown_agent_and_bad_ttl(store: Store, clock: FrozenClock) -> None:
    """Tokens are only made for registered agents, with a sane lifetime."""
    with pytest.raises(UnknownAgent):
        create_join_token(store, AgentName("ghost"), clock.now())
    with pytest.raises(ValidationError):
        create_join_token(store, AgentName("bot"), clock.now(), ttl=0)


@pytest.mark.parametrize("audience", ["proctor:task", "bad\x00aud", "x" * 300, "line\nbreak"])
def test_refused_audience_does_not_spend_the_join_token(env: Env, audience: str) -> None:
    """An SVID asked for an audience it may not carry is refused before the single-use token is
    redeemed: the same token still works afterwards, for an allowed audience."""
    token = env.p.agents.join_token("bot")
    with pytest.raises(ValidationError):
        env.p.agents.svid_from_join_token(token, audience)
    svid = env.p.agents.svid_from_join_token(token, "https://api.acme.test")
    assert env.p.agents.svids.verify(svid, "https://api.acme.test", env.clock.now()).agent == "bot"
    with pytest.raises(JoinTokenInvalid):  # and it is single use all the same
        env.p.agents.svid_from_join_token(token)
