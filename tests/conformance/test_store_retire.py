"""Retiring an agent in the store (``proctor agent retire``, docs/adr/0033): the same on SQLite
and PostgreSQL (the conformance suite's fixtures: a fresh, migrated store on each engine)."""

# ruff: noqa: F811 - the imported fixtures `backend` and `store` are the tests' parameters
from __future__ import annotations

import pytest
from tests.conformance.test_store_conformance import T0, Backend, backend, store  # noqa: F401

from proctor.errors import UnknownAgent
from proctor.store._sql import SqlStore
from proctor.store.base import AgentRecord, JoinTokenRecord
from proctor.types import AgentName, AgentStatus, Email, SpiffeId


def _agent(name: str) -> AgentRecord:
    return AgentRecord(
        AgentName(name),
        SpiffeId(f"spiffe://acme.test/agent/{name}"),
        Email("ann@example.com"),
        AgentStatus.ACTIVE,
        ("unix:uid:1000", "unix:sha256:ab"),
        T0,
        T0,
    )


def test_retire_drops_selectors_and_spends_only_its_unused_join_tokens(store: SqlStore) -> None:
    """The agent is retired with no selectors (its record kept, version bumped); its unused,
    unexpired join tokens can no longer be redeemed; a used or another agent's token is untouched."""
    store.add_agent(_agent("bot"))
    store.add_agent(_agent("other"))
    store.add_join_token(JoinTokenRecord("h-live", AgentName("bot"), T0, T0 + 600, None))
    store.add_join_token(JoinTokenRecord("h-live2", AgentName("bot"), T0, T0 + 600, None))
    store.add_join_token(JoinTokenRecord("h-used", AgentName("bot"), T0, T0 + 600, T0 + 1))
    store.add_join_token(JoinTokenRecord("h-other", AgentName("other"), T0, T0 + 600, None))
    before = store.epoch()
    rec, tokens = store.retire_agent(AgentName("bot"), T0 + 10)
    assert tokens == 2
    assert rec.status is AgentStatus.RETIRED
    assert rec.selectors == ()
    assert rec.version == 2
    assert store.get_agent(AgentName("bot")) == rec
    assert store.epoch() > before
    assert store.redeem_join_token("h-live", T0 + 20) is None
    assert store.redeem_join_token("h-other", T0 + 20) is not None
    assert store.get_agent(AgentName("other")).selectors == _agent("other").selectors  # type: ignore[union-attr]


def test_retire_unknown_agent(store: SqlStore) -> None:
    with pytest.raises(UnknownAgent):
        store.retire_agent(AgentName("ghost"), T0)
