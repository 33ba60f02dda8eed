"""The provider interface: how a kind of credential is issued to a task and revoked.

A new kind is one module with one class that has a ``kind`` and two methods. ``issue`` gets an
:class:`IssueRequest` (the lease id to be, the live task, its agent, the credential's spec and the
task's declared effects) and returns the data the gateway uses (it may hold secret material and is
never stored), an expiry, and a
``revoke_handle``: what ``revoke`` needs later, possibly in another process after a restart, so it
must be JSON and must never hold a secret value. ``revoke`` raises on failure; the lease manager
retries it with backoff (:class:`RevocationUnrecoverable` says retrying is pointless).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from proctor.errors import Conflict, CredentialError, UnknownCredentialProvider, ValidationError
from proctor.store.base import AgentRecord, TaskRecord
from proctor.types import LeaseId

__all__ = [
    "IssueRequest",
    "Issued",
    "Provider",
    "ProviderRegistry",
    "RevocationUnrecoverable",
]


_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """Everything a provider may base a credential on. ``effects`` are the effects (``read``,
    ``write``, ...) of the registered tools the task declared it may call: a provider that can
    scope privileges (a database role) grants no more than these."""

    lease_id: LeaseId
    task: TaskRecord
    agent: AgentRecord
    spec: Mapping[str, Any]
    now: float
    effects: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Issued:
    """What a provider issued. ``data`` is for the gateway alone: never stored, logged or printed."""

    data: dict[str, Any] = field(repr=False)
    expires_at: float
    revoke_handle: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    """One kind of credential (injected secret, signed JWT, PostgreSQL role, ...).

    A provider may set ``loss_fails_closed = True`` when a lease of its kind that is lost before it
    reaches the disk leaves nothing usable behind (a JWT whose lease is gone is inactive at
    introspection; an injected secret was never handed out). Its leases are then stored without
    waiting for an fsync. Any other provider's leases (a database role, which would outlive a lost
    lease) are stored durably before the credential is handed out.
    """

    kind: str

    def issue(self, req: IssueRequest) -> Issued:
        """Create a credential for ``req.task`` as described by ``req.spec``; raise if it cannot.
        The error's text is never shown or stored (only its code or class), so it may be specific."""
        ...

    def revoke(self, handle: Mapping[str, Any]) -> None:
        """Revoke what ``handle`` names; return only once the credential is dead. Raises on failure.
        Must be idempotent: a retry may follow an attempt whose answer was lost."""
        ...


class RevocationUnrecoverable(CredentialError):
    """Raised by :meth:`Provider.revoke` when retrying cannot help: the lease becomes ``irrevocable``
    at once (OpenBao's ``errIsUnrecoverable``)."""

    code = "revocation_unrecoverable"


class ProviderRegistry:
    """Providers by kind.

    >>> ProviderRegistry().kinds()
    []
    """

    def __init__(self, providers: Iterable[Provider] = ()) -> None:
        self._by_kind: dict[str, Provider] = {}
        for p in providers:
            self.register(p)

    def register(self, provider: Provider, *, replace: bool = False) -> None:
        """Add ``provider`` under its ``kind``; a second provider of one kind is refused unless ``replace``."""
        kind = getattr(provider, "kind", None)
        if not isinstance(kind, str) or not _KIND.fullmatch(kind):
            raise ValidationError(
                f"invalid provider kind `{str(kind)[:40]}`: use 1-32 of a-z 0-9 - _ starting with a letter"
            )
        if kind in self._by_kind and not replace:
            raise Conflict(f"a provider of kind `{kind}` is already registered")
        self._by_kind[kind] = provider

    def get(self, kind: str) -> Provider:
        """The provider of ``kind``; raises :class:`UnknownCredentialProvider`."""
        try:
            return self._by_kind[kind]
        except KeyError:
            raise UnknownCredentialProvider(f"no credential provider of kind `{kind[:40]}`") from None

    def find(self, kind: str) -> Provider | None:
        return self._by_kind.get(kind)

    def kinds(self) -> list[str]:
        return sorted(self._by_kind)

    def __contains__(self, kind: object) -> bool:
        return kind in self._by_kind

    def __len__(self) -> int:
        return len(self._by_kind)
