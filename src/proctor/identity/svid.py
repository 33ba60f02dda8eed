"""JWT-SVIDs as the SPIFFE JWT-SVID spec defines them, signed with the workspace's ES256 keys.

Header ``{"alg": "ES256", "kid": <thumbprint>, "typ": "JWT"}``; claims ``sub`` (the agent's SPIFFE
ID), ``aud`` (a list, required), ``exp``, ``iat`` and ``jti``. Verification accepts ES256 only,
checks every time claim against the caller's ``now`` (from the injected clock, never PyJWT's own
clock) and caches verified tokens, so a repeated ``verify`` costs a dict look-up.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from proctor.errors import AgentSuspended, TokenInvalid, ValidationError
from proctor.identity.keys import SigningKeys, check_audience
from proctor.store.base import AgentRecord
from proctor.types import AgentName, AgentStatus, SpiffeId, TrustDomain

DEFAULT_SVID_TTL: Final = 300.0
#: audiences Proctor uses for its own tokens (``proctor:task``): an SVID can never carry one
RESERVED_AUDIENCE_PREFIX: Final = "proctor:"
_STANDARD: Final = frozenset({"sub", "aud", "exp", "iat", "jti"})


@dataclass(frozen=True, slots=True)
class SvidClaims:
    """What a verified JWT-SVID says. ``extra`` holds any other claims, read-only."""

    spiffe_id: SpiffeId
    agent: AgentName
    audience: tuple[str, ...]
    exp: float
    iat: float
    jti: str
    kid: str
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False)


class SvidAuthority:
    """Issues and verifies JWT-SVIDs for the agents of one trust domain."""

    def __init__(
        self, keys: SigningKeys, trust_domain: TrustDomain | str, *, ttl: float = DEFAULT_SVID_TTL
    ) -> None:
        if not 0 < ttl <= keys.max_token_ttl:
            raise ValidationError(
                f"SVID lifetime must be in (0, {keys.max_token_ttl:g}] seconds", field="ttl"
            )
        self.keys = keys
        self.trust_domain = TrustDomain(trust_domain)
        self.ttl = float(ttl)
        self._memo_key = f"svid:{self.trust_domain}"

    def issue(
        self, agent: AgentRecord, audience: str | list[str], now: float, *, ttl: float | None = None
    ) -> str:
        """A JWT-SVID for ``agent``, valid for ``audience`` from ``now`` for ``ttl`` (default 300 s)."""
        if agent.status is not AgentStatus.ACTIVE:
            raise AgentSuspended(f"agent `{agent.name}` is suspended", agent=agent.name)
        spiffe_id = SpiffeId(agent.spiffe_id)
        if spiffe_id.trust_domain != self.trust_domain or spiffe_id.agent_name != agent.name:
            raise ValidationError(
                f"agent `{agent.name}` has SPIFFE ID `{spiffe_id}` outside trust domain `{self.trust_domain}`"
            )
        auds = self.check_audience(audience)
        lifetime = self.ttl if ttl is None else ttl
        if not 0 < lifetime <= self.ttl:
            raise ValidationError(f"SVID lifetime must be in (0, {self.ttl:g}] seconds", field="ttl")
        claims = {"sub": str(spiffe_id), "aud": auds, "jti": secrets.token_urlsafe(16)}
        return self.keys.sign_claims(claims, now, lifetime)

    @staticmethod
    def check_audience(audience: str | list[str]) -> list[str]:
        """The audiences :meth:`issue` would put in an SVID, or :class:`ValidationError`: 1 to 16
        printable strings, none reserved for Proctor's own tokens. Checked before anything is spent
        on the SVID (a join token is single use)."""
        auds = check_audience(audience)
        for a in auds:
            if a.startswith(RESERVED_AUDIENCE_PREFIX):
                raise ValidationError(f"audience `{a}` is reserved for Proctor's own tokens", field="aud")
        return auds

    def verify(self, token: str, audience: str, now: float) -> SvidClaims:
        """Check ``token`` is a JWT-SVID of this trust domain for ``audience`` at ``now``.

        Raises a :class:`proctor.errors.IdentityError` subclass, and nothing else, on any failure.
        """
        entry = self.keys._verified(token, audience, now)
        svid: SvidClaims | None = entry.memo.get(self._memo_key)
        if svid is None:
            svid = self._claims(entry.token.claims, entry.token.kid, entry.token.exp, entry.token.iat)
            entry.memo[self._memo_key] = svid
        return svid

    def _claims(self, claims: Mapping[str, Any], kid: str, exp: float, iat: float) -> SvidClaims:
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise TokenInvalid("token is missing the `sub` claim", claim="sub")
        try:
            spiffe_id = SpiffeId(sub)
        except ValidationError:
            raise TokenInvalid(
                f"token subject `{sub[:120]}` is not an agent SPIFFE ID", claim="sub"
            ) from None
        if spiffe_id.trust_domain != self.trust_domain:
            raise TokenInvalid(
                f"token subject `{spiffe_id}` is outside trust domain `{self.trust_domain}`", claim="sub"
            )
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise TokenInvalid("token is missing the `jti` claim", claim="jti")
        aud = claims["aud"]
        return SvidClaims(
            spiffe_id=spiffe_id,
            agent=spiffe_id.agent_name,
            audience=(aud,) if isinstance(aud, str) else tuple(aud),
            exp=exp,
            iat=iat,
            jti=jti,
            kid=kid,
            extra=MappingProxyType({k: v for k, v in claims.items() if k not in _STANDARD}),
        )


__all__ = ["DEFAULT_SVID_TTL", "SvidAuthority", "SvidClaims"]
