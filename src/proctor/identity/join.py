"""Single-use, short-lived join tokens: how a new agent proves it was invited.

The token (``ptj_`` + 32 random bytes, url-safe) is shown once; the store keeps only its SHA-256.
Redeeming marks it used in the same statement that checks it, so two redeemers cannot both win.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Final

from proctor.errors import JoinTokenInvalid, UnknownAgent, ValidationError
from proctor.store.base import JoinTokenRecord, Store
from proctor.types import AgentName

JOIN_TOKEN_PREFIX: Final = "ptj_"  # noqa: S105 - a public prefix, not a secret
DEFAULT_JOIN_TTL: Final = 600.0
MAX_JOIN_TTL: Final = 7 * 86_400.0
_SHAPE: Final = re.compile(r"ptj_[A-Za-z0-9_-]{43}")
_INVALID: Final = "join token is invalid, expired or already used"


def hash_join_token(token: str) -> str:
    """The SHA-256 hex digest under which a join token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_join_token(
    store: Store, agent_name: AgentName | str, now: float, ttl: float = DEFAULT_JOIN_TTL
) -> str:
    """A new join token for a registered agent, valid for ``ttl`` seconds (default 10 minutes)."""
    name = AgentName(agent_name)
    if not 0 < ttl <= MAX_JOIN_TTL:
        raise ValidationError(f"join token lifetime must be in (0, {MAX_JOIN_TTL:g}] seconds", field="ttl")
    if store.get_agent(name) is None:
        raise UnknownAgent(f"unknown agent `{name}`", agent=name)
    token = JOIN_TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.add_join_token(
        JoinTokenRecord(token_hash=hash_join_token(token), agent=name, created_at=now, expires_at=now + ttl)
    )
    return token


def redeem(store: Store, token: str, now: float) -> AgentName:
    """Use a join token once; returns the agent it was made for.

    Unknown, expired and already used tokens all raise the same :class:`JoinTokenInvalid`, so a
    caller learns nothing about which tokens exist.
    """
    if not isinstance(token, str) or not _SHAPE.fullmatch(token):
        raise JoinTokenInvalid(_INVALID)
    record = store.redeem_join_token(hash_join_token(token), now)
    if record is None:
        raise JoinTokenInvalid(_INVALID)
    return AgentName(record.agent)


__all__ = ["DEFAULT_JOIN_TTL", "JOIN_TOKEN_PREFIX", "create_join_token", "hash_join_token", "redeem"]
