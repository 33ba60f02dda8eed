"""Rotating a workspace signing key, recorded once, here, as ``identity.key_rotated``.

The key ring itself (SVID keys or credential-token keys) keeps the old public key in its JWKS
until the tokens it signed expire; this module only adds the record of who changed what.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from proctor.audit.log import AuditLog


class KeyRing(Protocol):
    """What rotation needs of a signing key ring: its use (``svid``, ``credential``) and rotate."""

    @property
    def use(self) -> str: ...

    def rotate(self, now: float, *, revoke: bool = False) -> str: ...


def rotate_signing_key(ring: KeyRing, audit: AuditLog, now: float) -> str:
    """Make a new active key in ``ring`` and record ``identity.key_rotated``; returns its kid."""
    kid = ring.rotate(now)
    audit.append("identity.key_rotated", {"kid": kid, "ring": ring.use})
    return kid


__all__ = ["KeyRing", "rotate_signing_key"]
