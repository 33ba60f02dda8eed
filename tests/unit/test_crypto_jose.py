"""JOSE encodings: public JWKs are parsed strictly."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from proctor.crypto.jose import b64url, ec_public_from_jwk, ec_public_jwk, ed25519_public_from_jwk
from proctor.errors import ValidationError


def test_invalid_jwks_are_rejected() -> None:
    """Public JWKs with the wrong type, curve or point are refused with a ValidationError."""
    good = ec_public_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(ValidationError):
        ec_public_from_jwk({**good, "crv": "P-384"})
    with pytest.raises(ValidationError):
        ec_public_from_jwk({**good, "y": good["x"]})  # not on the curve
    with pytest.raises(ValidationError):
        ec_public_from_jwk({**good, "x": "!!"})
    with pytest.raises(ValidationError):
        ed25519_public_from_jwk(good)
    with pytest.raises(ValidationError):
        ed25519_public_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64url(b"short")})
