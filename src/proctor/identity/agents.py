"""Agents: registration, status, join tokens and the JWT-SVIDs that prove who is calling.

Every change to an agent and every identity issued is audited here (``agent.*``, ``identity.*``).
What a suspension means for other stages (its leases are revoked) is wired by ``Proctor``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

from proctor.audit.log import AuditLog
from proctor.clock import Clock
from proctor.config import Settings
from proctor.errors import Conflict, OwnerRequired, ProctorError, UnknownAgent, ValidationError
from proctor.identity.join import create_join_token, redeem
from proctor.identity.keys import SigningKeys
from proctor.identity.svid import SvidAuthority, SvidClaims
from proctor.store.base import AgentRecord, Store
from proctor.types import AgentName, AgentStatus, Email, SpiffeId

MAX_SELECTORS = 32


def check_selectors(selectors: Sequence[str]) -> tuple[str, ...]:
    """An agent's attestation selectors, checked: at most :data:`MAX_SELECTORS`, each
    ``unix:<type>:<value>``, each once."""
    sels = tuple(dict.fromkeys(selectors))
    if len(sels) > MAX_SELECTORS:
        raise ValidationError(f"at most {MAX_SELECTORS} selectors per agent")
    for s in sels:
        kind, _, value = s.partition(":")
        if kind != "unix" or not value or ":" not in value:
            raise ValidationError(
                f"invalid selector `{s[:80]}`: expected `unix:<type>:<value>`, like `unix:uid:1000`"
            )
    return sels


class Agents:
    """The agents of one workspace and the identities they are issued."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        audit: AuditLog,
        keys: SigningKeys,
        *,
        audience: str,
        on_suspended: Callable[[AgentRecord, str], None] | None = None,
    ) -> None:
        """``on_suspended(agent, reason)`` runs after a suspension is recorded (the cross-stage rule
        that revokes the agent's leases, wired by ``Proctor``); it must not raise."""
        self.settings = settings
        self.store = store
        self.clock = clock
        self.audit = audit
        #: the workspace's SVID ring (it also signs task tokens)
        self.keys = keys
        self.svids = SvidAuthority(keys, settings.trust_domain, ttl=settings.svid_ttl_s)
        #: the audience of SVIDs issued for Proctor itself (the HTTP API)
        self.audience = audience
        self.on_suspended = on_suspended

    def _audit(self, kind: str, fields: dict[str, Any], **index: str | None) -> None:
        self.audit.append(kind, fields, **index)

    def add(
        self, name: str, owner: str | None, selectors: Sequence[str] = (), *, by: str = "cli"
    ) -> AgentRecord:
        if not owner:
            raise OwnerRequired(f"agent `{name}` needs exactly one accountable owner: pass --owner EMAIL")
        agent_name = AgentName(name)
        email = Email(owner)
        sels = check_selectors(selectors)
        now = self.clock.now()
        rec = AgentRecord(
            name=agent_name,
            spiffe_id=SpiffeId.for_agent(self.settings.trust_domain, agent_name),
            owner=email,
            status=AgentStatus.ACTIVE,
            selectors=sels,
            created_at=now,
            updated_at=now,
        )
        self.store.add_agent(rec)
        self._audit(
            "agent.registered",
            {"spiffe_id": str(rec.spiffe_id), "owner": str(email), "selectors": list(sels), "by": by},
            agent=str(agent_name),
        )
        return rec

    def set_selectors(self, name: str, selectors: Sequence[str], *, by: str = "cli") -> AgentRecord:
        """Replace the selectors attestation identifies ``name`` by (``agent.selectors_changed``);
        none at all means attestation never identifies it."""
        sels = check_selectors(selectors)
        current = self.get(name)
        if current.status is AgentStatus.RETIRED:
            raise Conflict(f"agent `{name}` is retired: register a new agent instead")
        before = current.selectors
        rec = self.store.set_agent_selectors(AgentName(name), sels, self.clock.now())
        self._audit(
            "agent.selectors_changed",
            {"selectors": list(sels), "before": list(before), "by": by},
            agent=str(rec.name),
        )
        return rec

    def get(self, name: str) -> AgentRecord:
        rec = self.store.get_agent(AgentName(name))
        if rec is None:
            raise UnknownAgent(f"unknown agent `{name}`")
        return rec

    def rotate_key(self) -> str:
        """A new active SVID signing key (``proctor keys rotate``), recorded as
        ``identity.key_rotated``; returns its kid."""
        from proctor.identity.rotation import rotate_signing_key

        return rotate_signing_key(self.keys, self.audit, self.clock.now())

    def list(self) -> builtins.list[AgentRecord]:
        """Every registered agent (`agent list`, `GET /v1/agents`)."""
        return self.store.list_agents()

    def set_status(self, name: str, status: AgentStatus, *, by: str = "cli", reason: str = "") -> AgentRecord:
        if self.get(name).status is AgentStatus.RETIRED:
            raise Conflict(f"agent `{name}` is retired: register a new agent instead")
        if status is AgentStatus.RETIRED:
            raise ValidationError("retire an agent with `proctor agent retire` (proctor.posture.offboard)")
        rec = self.store.set_agent_status(AgentName(name), status, self.clock.now())
        self.keys.invalidate()
        kind = "agent.suspended" if status is AgentStatus.SUSPENDED else "agent.resumed"
        self._audit(kind, {"by": by, "reason": reason[:500]}, agent=str(rec.name))
        if status is AgentStatus.SUSPENDED and self.on_suspended is not None:
            self.on_suspended(rec, reason[:200] or "agent suspended")
        return rec

    def record_suspended_late(self, name: AgentName, fields: dict[str, Any]) -> AgentRecord | None:
        """Record a suspension that was enforced from the kill file while the store or the log
        failed (see :mod:`proctor.killswitch`); None when the agent is unknown."""
        rec = self.store.get_agent(name)
        if rec is None:
            return None
        if rec.status is AgentStatus.ACTIVE:  # a retired agent stays retired
            rec = self.store.set_agent_status(rec.name, AgentStatus.SUSPENDED, self.clock.now())
            self.keys.invalidate()
        self._audit("agent.suspended", fields, agent=str(rec.name))
        return rec

    def join_token(self, name: str, *, by: str = "cli") -> str:
        agent = self.get(name)
        if agent.status is AgentStatus.RETIRED:
            raise Conflict(f"agent `{name}` is retired")
        token = create_join_token(self.store, agent.name, self.clock.now(), self.settings.join_token_ttl_s)
        self._audit(
            "identity.join_token_issued",
            {"by": by, "ttl_s": self.settings.join_token_ttl_s},
            agent=str(agent.name),
        )
        return token

    def svid_from_join_token(
        self,
        token: str,
        audience: str | None = None,
        *,
        on_rejected: Callable[[ProctorError], None] | None = None,
    ) -> str:
        """Redeem a single-use join token for a JWT-SVID. A rejected token is audited
        (``identity.join_token_rejected``), or handed to ``on_rejected`` to audit (the HTTP API
        rations those records per source: anyone can send a bad token)."""
        now = self.clock.now()
        try:
            # the audience first: a request the SVID would be refused for must not spend the token
            self.svids.check_audience(audience or self.audience)
            name = redeem(self.store, token, now)
        except ProctorError as exc:
            if on_rejected is None:
                self._audit("identity.join_token_rejected", {"error": exc.code})
            else:
                on_rejected(exc)
            raise
        agent = self.get(name)
        return self.issue_svid(agent, audience, method="join_token")

    def issue_svid(self, agent: AgentRecord, audience: str | None = None, *, method: str = "admin") -> str:
        aud = audience or self.audience
        svid = self.svids.issue(agent, aud, self.clock.now())
        self._audit(
            "identity.svid_issued",
            {"method": method, "audience": aud, "ttl_s": self.settings.svid_ttl_s},
            agent=str(agent.name),
        )
        return svid

    def audit_attestation(
        self, agent: AgentRecord | None, selectors: frozenset[str], error: ProctorError | None
    ) -> None:
        """Record every local attestation, matched or not (hook for the attestation server)."""
        self._audit(
            "identity.attested" if error is None else "identity.attestation_failed",
            {"selectors": sorted(selectors)[:32], "error": None if error is None else error.code},
            agent=None if agent is None else str(agent.name),
        )

    def verify_svid(self, token: str) -> SvidClaims:
        return self.svids.verify(token, self.audience, self.clock.now())


__all__ = ["MAX_SELECTORS", "Agents"]
