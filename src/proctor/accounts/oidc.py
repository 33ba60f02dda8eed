"""OpenID Connect sign-in for approvers: the authorization code flow with PKCE (S256), state and
nonce, and an ID token verified here — issuer, audience, signature by a key of the provider's
JWKS (asymmetric algorithms only), expiry, issue time and nonce.

The state, nonce and PKCE verifier of a sign-in under way live in the store (``oidc_logins``,
under the SHA-256 of the state), not in one process's memory, and are used once.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from proctor.accounts.passwords import token_hash
from proctor.accounts.settings import OidcSettings, check_url
from proctor.bounded import AnswerRefused, fetch, loads
from proctor.clock import Clock, SystemClock
from proctor.errors import AuthError, ConfigError, IdentityProviderAnswerRefused, ProctorError
from proctor.store.base import OidcLoginRecord, Store

__all__ = ["LOGIN_TTL_S", "OidcClient", "resolve_client_secret"]

log = logging.getLogger(__name__)

#: how long a sign-in may take at the provider
LOGIN_TTL_S = 600.0
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
_DISCOVERY_TTL_S = 3600.0
_LEEWAY_S = 30
#: the most of any answer of the provider that is read (discovery document, token answer, JWK
#: Set: each a few kilobytes); read unencoded and within the timeout as a whole (proctor.bounded)
MAX_ANSWER_BYTES = 256 * 1024
#: PyJWT's own cool-down between JWK Set fetches runs on real time
_REAL_TIME = SystemClock()


def _get(url: str, timeout_s: float, what: str, **kwargs: Any) -> tuple[int, Any]:
    """The provider's answer to one request: its status and JSON (None when the status is not
    200), read bounded. :class:`IdentityProviderAnswerRefused` when it is not read;
    ``httpx.HTTPError`` when the provider cannot be reached."""
    method = "POST" if "data" in kwargs else "GET"
    try:
        status, raw = fetch(method, url, limit=MAX_ANSWER_BYTES, timeout_s=timeout_s, **kwargs)
        return status, loads(raw) if status == 200 else None
    except AnswerRefused as exc:
        raise IdentityProviderAnswerRefused(
            f"the identity provider's {what} was refused: {exc.reason}"
        ) from None


class _BoundedJWKClient(jwt.PyJWKClient):
    """PyJWKClient whose JWK Set is fetched bounded (its own fetch reads the whole body)."""

    def fetch_data(self) -> Any:
        try:
            status, jwk_set = _get(self.uri, float(self.timeout), "JWK Set")
        except httpx.HTTPError as exc:
            raise jwt.PyJWKClientConnectionError(
                f"the JWK Set could not be fetched ({type(exc).__name__})"
            ) from None
        if status != 200 or not isinstance(jwk_set, dict):
            raise jwt.PyJWKClientConnectionError(f"the JWK Set could not be fetched (HTTP {status})")
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(jwk_set)
        if hasattr(self, "_last_successful_fetch"):  # PyJWT's refetch cool-down reads it (>= 2.10)
            self._last_successful_fetch = _REAL_TIME.monotonic()
        return jwk_set


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def resolve_client_secret(ref: str | None, read_secret: Callable[[str], bytes]) -> str | None:
    """The client secret ``login.oidc.client_secret`` names: ``env:VAR`` or ``secret:NAME``."""
    if ref is None:
        return None
    kind, _, name = ref.partition(":")
    if kind == "env":
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"login.oidc.client_secret: the environment variable `{name}` is not set")
        return value
    return read_secret(name).decode()


class OidcClient:
    """One configured provider."""

    def __init__(
        self,
        settings: OidcSettings,
        store: Store,
        clock: Clock,
        *,
        client_secret: Callable[[], str | None],
        timeout_s: float = 10.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._client_secret = client_secret
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self._meta: dict[str, Any] | None = None
        self._meta_at = 0.0
        self._jwks: jwt.PyJWKClient | None = None

    # provider metadata -----------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour); its issuer must be ours."""
        with self._lock:
            if self._meta is not None and self.clock.monotonic() - self._meta_at < _DISCOVERY_TTL_S:
                return self._meta
        url = self.settings.issuer + "/.well-known/openid-configuration"
        try:
            status, meta = _get(url, self._timeout, "discovery document")
        except httpx.HTTPError as exc:
            raise AuthError(f"the identity provider could not be reached ({type(exc).__name__})") from None
        if status != 200:
            raise AuthError(f"the identity provider could not be reached (HTTP {status})")
        if not isinstance(meta, dict) or meta.get("issuer", "").rstrip("/") != self.settings.issuer:
            raise AuthError("the identity provider's discovery document names another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            try:
                check_url(meta.get(key), key)
            except Exception:
                raise AuthError(f"the identity provider's `{key}` is missing or not https") from None
        with self._lock:
            self._meta, self._meta_at = meta, self.clock.monotonic()
            self._jwks = _BoundedJWKClient(meta["jwks_uri"], cache_keys=True, timeout=int(self._timeout))
        return meta

    # the flow -----------------------------------------------------------------------------------
    def begin(self, redirect_uri: str, next_path: str = "/approvals") -> tuple[str, str]:
        """Record a sign-in under way; returns the provider's authorization URL to send the
        browser to (state, nonce and an S256 PKCE challenge in it) and the state, which the
        caller binds to the browser (a cookie the callback must bring back)."""
        meta = self.metadata()
        now = self.clock.now()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        self.store.add_oidc_login(
            OidcLoginRecord(token_hash(state), nonce, verifier, next_path, now, now + LOGIN_TTL_S)
        )
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.settings.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
        sep = "&" if "?" in meta["authorization_endpoint"] else "?"
        return f"{meta['authorization_endpoint']}{sep}{urlencode(query)}", state

    def finish(self, state: str, code: str, redirect_uri: str) -> tuple[dict[str, Any], str]:
        """The verified ID token claims of the sign-in ``state`` names, and where to go next.
        Raises :class:`AuthError` for an unknown, used or expired state, a failed code exchange or
        an ID token that does not verify."""
        if not state or len(state) > 512 or not code or len(code) > 4096:
            raise AuthError("the sign-in answer is incomplete")
        login = self.store.take_oidc_login(token_hash(state), self.clock.now())
        if login is None:
            raise AuthError("this sign-in is unknown, was used already or took too long: start again")
        meta = self.metadata()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": login.verifier,
            "client_id": self.settings.client_id,
        }
        try:
            secret = self._client_secret()
        except ProctorError as exc:  # a missing variable or secret: the operator's to fix, logged
            log.error("OIDC sign-in: the client secret is not available: %s", exc.message)
            raise AuthError(
                "single sign-on is misconfigured (the client secret); the event was logged"
            ) from None
        auth = None if secret is None else httpx.BasicAuth(self.settings.client_id, secret)
        try:
            status, body = _get(meta["token_endpoint"], self._timeout, "token answer", data=data, auth=auth)
        except httpx.HTTPError as exc:
            raise AuthError(f"the identity provider could not be reached ({type(exc).__name__})") from None
        if status != 200:
            raise AuthError(f"the identity provider refused the sign-in code (HTTP {status})")
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if not isinstance(id_token, str):
            raise AuthError("the identity provider sent no ID token")
        return self.verify_id_token(id_token, login.nonce), login.next_path

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of ``id_token`` once every check holds."""
        self.metadata()
        assert self._jwks is not None  # set with the metadata
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            if kid is not None:
                key = self._jwks.get_signing_key(kid)
            else:  # a provider with one key may leave `kid` out; with several, which one is unknown
                keys = self._jwks.get_signing_keys()
                if len(keys) != 1:
                    raise AuthError("the ID token names no key and the provider has several")
                key = keys[0]
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                # the algorithm of the key the provider published, never one the token asks for
                algorithms=[key.algorithm_name] if key.algorithm_name in _ALGORITHMS else [],
                audience=self.settings.client_id,
                issuer=self.settings.issuer,
                # the times are checked below against the injected clock
                options={
                    "require": ["iss", "aud", "exp", "iat", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"the ID token does not verify: {exc}"[:200]) from None
        except (TypeError, ValueError):  # a key and a token that do not fit each other
            raise AuthError("the ID token does not verify: its algorithm does not fit the key") from None
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.settings.client_id:
            raise AuthError("the ID token names several audiences and another authorized party")
        if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
            raise AuthError("the ID token's nonce is not this sign-in's")
        now = self.clock.now()
        try:
            exp, iat, nbf = float(claims["exp"]), float(claims["iat"]), float(claims.get("nbf", 0))
        except (TypeError, ValueError):
            raise AuthError("the ID token's times are not numbers") from None
        if now >= exp + _LEEWAY_S:
            raise AuthError("the ID token has expired")
        if iat > now + _LEEWAY_S or nbf > now + _LEEWAY_S:
            raise AuthError("the ID token is not valid yet")
        return claims
