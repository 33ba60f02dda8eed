"""Identity: which agent is calling. Signing keys and JWKS, JWT-SVIDs, join tokens, attestation."""

from __future__ import annotations

from proctor.identity.attest import (
    AttestationServer,
    PeerCredentials,
    fetch_svid,
    match_agent,
    peer_credentials,
    workload_selectors,
)
from proctor.identity.join import (
    DEFAULT_JOIN_TTL,
    JOIN_TOKEN_PREFIX,
    create_join_token,
    hash_join_token,
    redeem,
)
from proctor.identity.keys import (
    ALGORITHM,
    MAX_TOKEN_BYTES,
    AuditSigningKey,
    SigningKeys,
    VerifiedToken,
    check_audience,
    ec_public_from_jwk,
    ec_public_jwk,
    ed25519_public_from_jwk,
    ed25519_public_jwk,
    ensure_keydir,
    jwk_thumbprint,
    load_or_create_audit_key,
)
from proctor.identity.svid import DEFAULT_SVID_TTL, SvidAuthority, SvidClaims

__all__ = [
    "ALGORITHM",
    "DEFAULT_JOIN_TTL",
    "DEFAULT_SVID_TTL",
    "JOIN_TOKEN_PREFIX",
    "MAX_TOKEN_BYTES",
    "AttestationServer",
    "AuditSigningKey",
    "PeerCredentials",
    "SigningKeys",
    "SvidAuthority",
    "SvidClaims",
    "VerifiedToken",
    "check_audience",
    "create_join_token",
    "ec_public_from_jwk",
    "ec_public_jwk",
    "ed25519_public_from_jwk",
    "ed25519_public_jwk",
    "ensure_keydir",
    "fetch_svid",
    "hash_join_token",
    "jwk_thumbprint",
    "load_or_create_audit_key",
    "match_agent",
    "peer_credentials",
    "redeem",
    "workload_selectors",
]
