"""Identity: which agent is calling. The SVID key ring and JWKS, JWT-SVIDs, join tokens, attestation."""

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
from proctor.identity.keys import MAX_TOKEN_BYTES, SigningKeys, VerifiedToken, check_audience
from proctor.identity.svid import DEFAULT_SVID_TTL, SvidAuthority, SvidClaims

__all__ = [
    "DEFAULT_JOIN_TTL",
    "DEFAULT_SVID_TTL",
    "JOIN_TOKEN_PREFIX",
    "MAX_TOKEN_BYTES",
    "AttestationServer",
    "PeerCredentials",
    "SigningKeys",
    "SvidAuthority",
    "SvidClaims",
    "VerifiedToken",
    "check_audience",
    "create_join_token",
    "fetch_svid",
    "hash_join_token",
    "match_agent",
    "peer_credentials",
    "redeem",
    "workload_selectors",
]
