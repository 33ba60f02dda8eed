"""The ID token checks of the OIDC sign-in (proctor.accounts.oidc): a token is accepted only when
its issuer, audience, signature (a key of the provider's JWKS, asymmetric algorithms only),
expiry, issue time and nonce all hold. The provider's keys here are made by the test."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from proctor.accounts.oidc import OidcClient
from proctor.accounts.settings import OidcSettings
from proctor.clock import FrozenClock
from proctor.errors import AuthError

ISSUER = "https://idp.acme.test"
NOW = 1_767_225_600.0


class _Keys:
    """Stands in for PyJWKClient: the provider's JWKS holds ``keys``."""

    def __init__(self, *keys: Any) -> None:
        self.keys = [jwt.PyJWK(json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key()))) for k in keys]

    def get_signing_keys(self) -> list[jwt.PyJWK]:
        return self.keys

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        raise jwt.PyJWKClientError(f"unknown kid {kid}")


@pytest.fixture
def provider_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def client(key: rsa.RSAPrivateKey) -> OidcClient:
    settings = OidcSettings(issuer=ISSUER, client_id="proctor-web")
    c = OidcClient(settings, store=None, clock=FrozenClock(NOW), client_secret=lambda: None)  # type: ignore[arg-type]  # no store needed here
    c._meta = {"issuer": ISSUER}
    c._meta_at = NOW
    c._jwks = _Keys(key)  # type: ignore[assignment]
    return c


def claims(**over: Any) -> dict[str, Any]:
    base = {
        "iss": ISSUER,
        "aud": "proctor-web",
        "sub": "carol",
        "iat": NOW - 5,
        "exp": NOW + 300,
        "nonce": "n-1",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_a_good_token_verifies(provider_key: rsa.RSAPrivateKey) -> None:
    """Signed by the provider's key, for us, in time, with our nonce: its claims come back."""
    token = jwt.encode(claims(email="carol@acme.test"), provider_key, algorithm="RS256")
    assert client(provider_key).verify_id_token(token, "n-1")["email"] == "carol@acme.test"


@pytest.mark.parametrize(
    "change",
    [
        {"nonce": "n-2"},
        {"nonce": None},
        {"aud": "another-client"},
        {"aud": ["proctor-web", "other"]},  # several audiences and no azp naming us
        {"iss": "https://evil.test"},
        {"exp": NOW - 60},
        {"iat": NOW + 600},
        {"sub": None},
    ],
)
def test_a_token_with_a_wrong_claim_is_refused(
    provider_key: rsa.RSAPrivateKey, change: dict[str, Any]
) -> None:
    """Each claim that does not hold refuses the sign-in."""
    token = jwt.encode(claims(**change), provider_key, algorithm="RS256")
    with pytest.raises(AuthError):
        client(provider_key).verify_id_token(token, "n-1")


def test_a_token_signed_by_another_key_or_with_a_shared_secret_is_refused(
    provider_key: rsa.RSAPrivateKey,
) -> None:
    """Another RSA key, an EC key, and HS256 keyed with the provider's public key (algorithm
    confusion) are all refused, as is an unsigned token."""
    c = client(provider_key)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    bad = [
        jwt.encode(claims(), other, algorithm="RS256"),
        jwt.encode(claims(), ec_key, algorithm="ES256"),
        jwt.encode(claims(), "not-the-key-but-long-enough-for-hs256!", algorithm="HS256"),
        jwt.encode(claims(), "", algorithm="none"),
    ]
    for token in bad:
        with pytest.raises(AuthError):
            c.verify_id_token(token, "n-1")
