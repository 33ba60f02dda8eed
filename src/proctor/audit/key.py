"""The workspace's Ed25519 audit key: it signs audit checkpoints (and the anchor); its public JWK is
registered in the store with ``use="audit"`` so that any verifier sharing the store can check them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from proctor.crypto.jose import ed25519_public_jwk
from proctor.crypto.keyfiles import (
    ensure_keydir,
    load_private,
    pkcs8_pem,
    register_public_key,
    write_private_pem,
)
from proctor.errors import ConfigError
from proctor.store.base import KeyRecord, Store

__all__ = ["AUDIT_KEY_FILE", "USE_AUDIT", "AuditSigningKey", "load_or_create_audit_key"]

USE_AUDIT: Final = "audit"
AUDIT_KEY_FILE: Final = "audit-ed25519.pem"


@dataclass(frozen=True, slots=True)
class AuditSigningKey:
    """The workspace's Ed25519 key for signing audit checkpoints."""

    kid: str
    private_key: Ed25519PrivateKey

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature (64 bytes) over ``data``."""
        return self.private_key.sign(data)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_jwk(self) -> dict[str, Any]:
        return ed25519_public_jwk(self.private_key.public_key())

    def __repr__(self) -> str:
        return f"AuditSigningKey(kid={self.kid!r})"


def load_or_create_audit_key(
    keydir: str | Path, store: Store | None = None, now: float | None = None
) -> AuditSigningKey:
    """Load ``<keydir>/audit-ed25519.pem``, creating it on first use, and register its public JWK
    (``use="audit"``) in ``store`` when one is given (``now`` is then required).

    A missing file is created only if the store knows no audit key yet: otherwise the key was lost
    and a silent replacement would hide that, so this raises :class:`ConfigError`.
    """
    if store is not None and now is None:
        raise TypeError("load_or_create_audit_key: `now` is required with a store")
    path = ensure_keydir(keydir) / AUDIT_KEY_FILE
    if os.path.lexists(path):
        key = load_private(path)
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"key file `{path}` is not an Ed25519 key")
    else:
        if store is not None and any(k.retired_at is None for k in store.list_keys(USE_AUDIT)):
            raise ConfigError(
                f"audit key file `{path}` is missing but the store has an audit key: restore the file"
            )
        key = Ed25519PrivateKey.generate()
        write_private_pem(path, pkcs8_pem(key))
    jwk = ed25519_public_jwk(key.public_key())
    if store is not None:
        assert now is not None
        register_public_key(store, KeyRecord(kid=jwk["kid"], use=USE_AUDIT, public_jwk=jwk, created_at=now))
    return AuditSigningKey(kid=jwk["kid"], private_key=key)
