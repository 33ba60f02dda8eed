"""Signing keys: the ES256 key rings for JWT-SVIDs, task tokens and credential tokens.

Private halves live as PEM files in the workspace key directory (``<workspace>/keys/``, mode 0700,
files 0600, created 0600 from the first byte). Public halves are registered in the store as JWKs, so
any process sharing the store can verify what another process signed. A key's ``kid`` is its RFC 7638
JWK thumbprint.

Rotation makes a new active key and *retires* the old ones: a retired key stays in the JWKS, and keeps
verifying, until ``drop_after = retired_at + max_token_ttl + skew``, when every token it signed has
expired. Revocation (``rotate(now, revoke=True)``) drops the old keys at once.

All processes of one workspace must share the key directory; the store decides which key is active
(the newest unretired one) and each process re-reads it every ``refresh_interval`` seconds.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from proctor.crypto.jose import ALGORITHM, ec_public_from_jwk, ec_public_jwk, encode_es256, jwk_thumbprint
from proctor.crypto.keyfiles import (
    ensure_keydir,
    load_private,
    pkcs8_pem,
    register_public_key,
    write_private_pem,
)
from proctor.errors import (
    ConfigError,
    TokenAlgorithmRejected,
    TokenAudienceMismatch,
    TokenExpired,
    TokenInvalid,
    TokenNotYetValid,
    ValidationError,
)
from proctor.store.base import KeyRecord, Store

log = logging.getLogger(__name__)

USE_SVID: Final = "svid"
#: the key ring that signs credential tokens (``at+jwt``), kept apart from the SVID ring
USE_CREDENTIAL: Final = "credential"
#: the key ring that signs approval grants (docs/adr/0022): a grant can never pass as anything else
USE_APPROVAL: Final = "approval"
#: the key ring that signs the gateway's OAuth access tokens (docs/adr/0028): never an SVID or credential
USE_OAUTH: Final = "oauth"
#: tokens longer than this are refused before any parsing
MAX_TOKEN_BYTES: Final = 8192
#: header ``typ`` of JWT-SVIDs and task tokens (verification also accepts ``JOSE``)
TYP_JWT: Final = "JWT"
#: header ``typ`` of credential access tokens (RFC 9068): never accepted where an SVID is expected
TYP_ACCESS_TOKEN: Final = "at+jwt"  # noqa: S105 - a media type, not a secret
_ACCESS_TOKEN_TYPS: Final = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 §4, case-insensitive
#: longest audience of a JWT-SVID or task token; a credential token's audience may be longer
MAX_AUDIENCE_LEN: Final = 256
MAX_CREDENTIAL_AUDIENCE_LEN: Final = 512
#: default ceiling on any token's lifetime (the longest task a workspace allows)
DEFAULT_MAX_TOKEN_TTL: Final = 86_400.0
DEFAULT_SKEW: Final = 60.0
DEFAULT_LEEWAY: Final = 10.0
DEFAULT_CACHE_SIZE: Final = 100_000

_ALLOWED_HEADER: Final = frozenset({"alg", "kid", "typ"})
_NUMERIC_LIMIT: Final = 2.0**53
# every registered claim is checked by Proctor against the injected clock, never by PyJWT
_PYJWT = jwt.PyJWT(
    options={
        "verify_signature": True,
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
        "verify_aud": False,
        "verify_iss": False,
        "verify_sub": False,
        "verify_jti": False,
        "require": [],
    }
)


# --- ES256 key ring ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token whose signature and claims passed every check."""

    claims: Mapping[str, Any]
    kid: str
    audience: tuple[str, ...]
    exp: float
    iat: float


class _Entry:
    """A verified-token cache entry. ``memo`` holds views derived from it (e.g. SVID claims)."""

    __slots__ = ("audiences", "memo", "token", "until")

    def __init__(self, token: VerifiedToken, until: float) -> None:
        self.token = token
        self.until = until
        self.audiences = frozenset(token.audience)
        self.memo: dict[str, Any] = {}


class _PublicKey:
    __slots__ = ("drop_after", "key")

    def __init__(self, key: ec.EllipticCurvePublicKey, drop_after: float | None) -> None:
        self.key = key
        self.drop_after = drop_after


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if value is None:
        raise TokenInvalid(f"token is missing the `{name}` claim", claim=name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenInvalid(f"token claim `{name}` is not a number", claim=name)
    # JSON allows huge integers and Python's parser accepts NaN and Infinity: none is a time
    if isinstance(value, int) and abs(value) >= _NUMERIC_LIMIT:
        raise TokenInvalid(f"token claim `{name}` is out of range", claim=name)
    num = float(value)
    if not math.isfinite(num) or abs(num) >= _NUMERIC_LIMIT:
        raise TokenInvalid(f"token claim `{name}` is out of range", claim=name)
    return num


def _audiences(claims: Mapping[str, Any]) -> tuple[str, ...]:
    aud = claims.get("aud")
    if aud is None:
        raise TokenInvalid("token is missing the `aud` claim", claim="aud")
    auds = (aud,) if isinstance(aud, str) else aud
    if not isinstance(auds, list | tuple) or not auds or not all(isinstance(a, str) and a for a in auds):
        raise TokenInvalid("token claim `aud` must be a non-empty string or list of strings", claim="aud")
    return tuple(auds)


def check_audience(
    audience: str | list[str] | tuple[str, ...], *, max_len: int = MAX_AUDIENCE_LEN
) -> list[str]:
    """Validate audiences for a token being issued: 1-16 printable strings of at most ``max_len``
    (256) characters."""
    auds = [audience] if isinstance(audience, str) else list(audience)
    if not 1 <= len(auds) <= 16:
        raise ValidationError("a token needs 1 to 16 audiences", field="aud")
    for a in auds:
        if not isinstance(a, str) or not 1 <= len(a) <= max_len or not a.isprintable():
            raise ValidationError(f"invalid audience `{str(a)[:80]}`", field="aud")
    return auds


class SigningKeys:
    """The workspace's ES256 key ring: signs tokens with the active key, verifies with any key in
    the store that is not yet droppable, and caches verified tokens until they expire.

    Thread-safe. Build it with :meth:`open`.
    """

    def __init__(
        self,
        keydir: str | Path,
        store: Store,
        now: float,
        *,
        max_token_ttl: float = DEFAULT_MAX_TOKEN_TTL,
        skew: float = DEFAULT_SKEW,
        leeway: float = DEFAULT_LEEWAY,
        refresh_interval: float = 30.0,
        cache_size: int = DEFAULT_CACHE_SIZE,
        rotate: bool = False,
        use: str = USE_SVID,
    ) -> None:
        if max_token_ttl <= 0 or skew < 0 or leeway < 0 or cache_size < 1:
            raise ConfigError("invalid key ring settings: ttl must be positive, skew and leeway not negative")
        if use not in (USE_SVID, USE_CREDENTIAL, USE_APPROVAL, USE_OAUTH):
            raise ConfigError(f"unknown key ring `{use[:20]}`")
        self.keydir = ensure_keydir(keydir)
        self.store = store
        #: which ring: ``svid`` (identities and task tokens) or ``credential`` (credential tokens);
        #: each verifies only tokens signed by its own keys
        self.use = use
        self.max_token_ttl = float(max_token_ttl)
        self.skew = float(skew)
        self.leeway = float(leeway)
        self.refresh_interval = float(refresh_interval)
        self.cache_size = cache_size
        self._lock = threading.RLock()
        self._cache: dict[str, _Entry] = {}
        self._public: dict[str, _PublicKey] = {}
        self._records: dict[str, tuple[float | None, float | None]] = {}
        self._next_refresh = -math.inf
        self._signing_kid: str | None = None
        self._signing_key: ec.EllipticCurvePrivateKey | None = None
        if rotate:
            self.rotate(now)
        else:
            self._load_active(now)

    # ---- files and store -------------------------------------------------------------------------
    def _path(self, kid: str) -> Path:
        return self.keydir / f"{self.use}-{kid}.pem"

    def _load_file(self, kid: str) -> ec.EllipticCurvePrivateKey:
        path = self._path(kid)
        key = load_private(path)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ConfigError(f"key file `{path}` is not a P-256 key")
        if ec_public_jwk(key.public_key())["kid"] != kid:
            raise ConfigError(f"key file `{path}` does not hold key `{kid}`")
        return key

    def _newest_active(self) -> KeyRecord | None:
        active = [k for k in self.store.list_keys(self.use) if k.retired_at is None]
        return max(active, key=lambda k: (k.created_at, k.kid)) if active else None

    def _load_active(self, now: float) -> None:
        with self._lock:
            record = self._newest_active()
            if record is None:
                self._create(now)
            else:
                self._signing_key = self._load_file(record.kid)
                self._signing_kid = record.kid
            self._refresh(now)

    def _create(self, now: float) -> KeyRecord:
        key = ec.generate_private_key(ec.SECP256R1())
        jwk = ec_public_jwk(key.public_key())
        write_private_pem(self._path(jwk["kid"]), pkcs8_pem(key))
        # strictly newer than every existing key, so "newest unretired" is the one just made
        latest = max((k.created_at for k in self.store.list_keys(self.use)), default=-math.inf)
        created = now if now > latest else latest + 0.001
        record = KeyRecord(kid=jwk["kid"], use=self.use, public_jwk=jwk, created_at=created)
        register_public_key(self.store, record)
        self._signing_key, self._signing_kid = key, record.kid
        return record

    def _refresh(self, now: float) -> None:
        """Re-read the store's keys: pick up rotations and retirements made by any process."""
        with self._lock:
            records = self.store.list_keys(self.use)
            state = {k.kid: (k.retired_at, k.drop_after) for k in records}
            if any(state.get(kid) != old for kid, old in self._records.items()):
                self._cache.clear()  # a key was retired or removed: re-verify everything
            for kid in list(self._public):
                if kid in state:
                    self._public[kid].drop_after = state[kid][1]
                else:
                    del self._public[kid]
            self._records = state
            active = [k for k in records if k.retired_at is None]
            if active:
                newest = max(active, key=lambda k: (k.created_at, k.kid))
                if newest.kid != self._signing_kid:
                    try:
                        self._signing_key = self._load_file(newest.kid)
                        self._signing_kid = newest.kid
                    except ConfigError as exc:
                        log.warning("cannot switch to the active signing key: %s", exc.message)
            self._next_refresh = now + self.refresh_interval

    def _maybe_refresh(self, now: float) -> None:
        if now >= self._next_refresh:
            self._refresh(now)

    # ---- public key management -------------------------------------------------------------------
    @property
    def active_kid(self) -> str:
        """The kid new tokens are signed with."""
        assert self._signing_kid is not None
        return self._signing_kid

    def rotate(self, now: float, *, revoke: bool = False) -> str:
        """Make a new active key and retire the older ones; returns the new kid.

        Retired keys keep verifying until ``now + max_token_ttl + skew``; with ``revoke=True`` they
        stop at once (use it when a key may have leaked). Their private files are deleted.
        """
        with self._lock:
            new = self._create(now)
            drop_after = now + self.max_token_ttl + self.skew
            for k in self.store.list_keys(self.use):
                if (k.created_at, k.kid) >= (new.created_at, new.kid):
                    continue
                if revoke:  # every older key, those retired earlier and still trusted included
                    self.store.revoke_key(k.kid, now)
                elif k.retired_at is None:
                    self.store.retire_key(k.kid, now, drop_after=drop_after)
                self._path(k.kid).unlink(missing_ok=True)
            self.invalidate()
            self._refresh(now)
            return new.kid

    def invalidate(self) -> None:
        """Forget every verified token and parsed public key; the next verification re-reads the store."""
        with self._lock:
            self._cache.clear()
            self._public.clear()
            self._records = {}
            self._next_refresh = -math.inf

    def jwks(self, now: float) -> dict[str, list[dict[str, Any]]]:
        """``{"keys": [...]}``: the active key and every retired key not yet past ``drop_after``."""
        keys = []
        for k in self.store.list_keys(self.use):
            if k.drop_after is not None and now >= k.drop_after:
                continue
            jwk = {m: k.public_jwk[m] for m in ("kty", "crv", "x", "y")}
            keys.append({**jwk, "kid": k.kid, "alg": ALGORITHM, "use": "sig"})
        return {"keys": keys}

    def public_key(self, kid: str, now: float) -> ec.EllipticCurvePublicKey:
        """The public key for ``kid`` if it may still verify tokens at ``now``."""
        entry = self._public.get(kid)
        if entry is None:
            entry = self._lookup(kid, now)
        if entry.drop_after is not None and now >= entry.drop_after:
            raise TokenInvalid(f"signing key `{kid}` is no longer trusted", kid=kid)
        return entry.key

    def _lookup(self, kid: str, now: float) -> _PublicKey:
        # kids are SHA-256 thumbprints: anything else cannot be ours and costs no store read
        if len(kid) != 43 or kid.strip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"):
            raise TokenInvalid("unknown signing key", kid=kid[:64])
        with self._lock:
            for k in self.store.list_keys(self.use):
                if k.kid != kid:
                    continue
                try:
                    key = ec_public_from_jwk(k.public_jwk)
                except ValidationError:
                    raise TokenInvalid(f"signing key `{kid}` in the store is corrupt", kid=kid) from None
                if jwk_thumbprint(k.public_jwk) != kid:
                    raise TokenInvalid(f"signing key `{kid}` in the store is corrupt", kid=kid)
                entry = _PublicKey(key, k.drop_after)
                self._public[kid] = entry
                self._records[kid] = (k.retired_at, k.drop_after)
                return entry
        raise TokenInvalid(f"unknown signing key `{kid}`", kid=kid)

    # ---- signing ---------------------------------------------------------------------------------
    def sign_claims(self, claims: Mapping[str, Any], now: float, ttl: float, *, typ: str = TYP_JWT) -> str:
        """Sign ``claims`` (which must include ``aud``) with the active key, adding ``iat``,
        ``exp = floor(now + ttl)`` and a ``jti`` unless given. ``ttl`` is at most ``max_token_ttl``.

        ``typ`` is the header's token type: ``JWT`` (SVIDs, task tokens) or ``at+jwt`` (a credential
        access token, RFC 9068), which :meth:`verify_token` refuses, so a credential is never an identity.
        """
        if typ not in (TYP_JWT, TYP_ACCESS_TOKEN):
            raise ValidationError(f"token type must be `{TYP_JWT}` or `{TYP_ACCESS_TOKEN}`", field="typ")
        if not 0 < ttl <= self.max_token_ttl:
            raise ValidationError(
                f"token lifetime must be in (0, {self.max_token_ttl:g}] seconds", field="ttl"
            )
        for reserved in ("iat", "exp", "nbf"):
            if reserved in claims:
                raise ValidationError(f"claim `{reserved}` is set by the signer", field=reserved)
        body = dict(claims)
        max_len = MAX_AUDIENCE_LEN if typ == TYP_JWT else MAX_CREDENTIAL_AUDIENCE_LEN
        body["aud"] = check_audience(body.get("aud", []), max_len=max_len)
        body["iat"] = math.floor(now)
        body["exp"] = math.floor(now + ttl)
        body.setdefault("jti", secrets.token_urlsafe(16))
        self._maybe_refresh(now)
        with self._lock:
            key, kid = self._signing_key, self._signing_kid
        assert key is not None
        assert kid is not None
        return encode_es256(body, key, {"kid": kid, "typ": typ})

    # ---- verification ----------------------------------------------------------------------------
    def verify_claims(self, token: str, audience: str, now: float) -> dict[str, Any]:
        """Verify an ES256 token signed by this workspace for ``audience``; return a copy of its claims."""
        return dict(self.verify_token(token, audience, now).claims)

    def verify_token(self, token: str, audience: str, now: float) -> VerifiedToken:
        """Verify ``token`` and return it (cached until it expires)."""
        return self._verified(token, audience, now).token

    def _verified(self, token: str, audience: str, now: float) -> _Entry:
        if now >= self._next_refresh:
            self._maybe_refresh(now)
        entry = self._cache.get(token) if isinstance(token, str) else None
        if entry is not None:
            if now < entry.until:
                if audience in entry.audiences:
                    return entry
                raise TokenAudienceMismatch(f"token is not for audience `{audience}`", audience=audience)
            self._cache.pop(token, None)
        verified = self._verify_uncached(token, audience, now)
        entry = _Entry(verified, verified.exp)
        drop = self._public[verified.kid].drop_after if verified.kid in self._public else None
        if drop is not None:
            entry.until = min(entry.until, drop)
        self._remember(token, entry, now)
        return entry

    def _remember(self, token: str, entry: _Entry, now: float) -> None:
        with self._lock:
            if len(self._cache) >= self.cache_size:
                for t, e in list(self._cache.items()):
                    if now >= e.until:
                        del self._cache[t]
                excess = len(self._cache) - (self.cache_size * 9) // 10
                if excess > 0:
                    for t in list(self._cache)[:excess]:  # oldest first (insertion order)
                        del self._cache[t]
            self._cache[token] = entry

    def verify_credential_token(self, token: str, now: float) -> VerifiedToken:
        """Verify a credential access token (header ``typ`` ``at+jwt``, RFC 9068) signed by this
        workspace: ES256, a known kid, signature, ``iat``/``nbf``/``exp`` with the usual leeway.

        The audience is the caller's to check (introspection checks it against its client). Never
        cached, and never reading or filling the SVID cache: a token verified here can never pass
        :meth:`verify_token`, and an SVID can never pass here.
        """
        if now >= self._next_refresh:
            self._maybe_refresh(now)
        return self._check(token, None, now, access_token=True)

    def _verify_uncached(self, token: str, audience: str, now: float) -> VerifiedToken:
        return self._check(token, audience, now, access_token=False)

    def _check(self, token: str, audience: str | None, now: float, *, access_token: bool) -> VerifiedToken:
        if not isinstance(token, str):
            raise TokenInvalid("token must be a string")
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenInvalid(f"token is longer than {MAX_TOKEN_BYTES} bytes")
        if not token.isascii() or token.count(".") != 2:
            raise TokenInvalid("token is not a compact JWS")
        try:
            header = jwt.get_unverified_header(token)
        except Exception:
            raise TokenInvalid("token is malformed") from None
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise TokenAlgorithmRejected(f"token algorithm `{str(alg)[:20]}` is not allowed: use ES256")
        unknown = set(header) - _ALLOWED_HEADER
        if unknown:
            raise TokenInvalid(f"token header has unsupported parameters `{sorted(unknown)[0][:40]}`")
        if access_token:
            typ = header.get("typ")
            if not isinstance(typ, str) or typ.lower() not in _ACCESS_TOKEN_TYPS:
                raise TokenInvalid(f"token type must be `{TYP_ACCESS_TOKEN}`")
        elif header.get("typ", "JWT") not in ("JWT", "JOSE"):
            raise TokenInvalid("token type must be `JWT`")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenInvalid("token header has no `kid`")
        key = self.public_key(kid, now)
        try:
            decoded = _PYJWT.decode_complete(token, key=key, algorithms=[ALGORITHM])
        except jwt.InvalidSignatureError:
            raise TokenInvalid("token signature is invalid") from None
        except jwt.InvalidAlgorithmError:
            raise TokenAlgorithmRejected("token algorithm is not allowed: use ES256") from None
        except Exception:
            raise TokenInvalid("token is malformed") from None
        claims = decoded["payload"]
        if not isinstance(claims, dict):
            raise TokenInvalid("token claims are not a JSON object")
        exp = _number(claims, "exp")
        iat = _number(claims, "iat")
        auds = _audiences(claims)
        if iat > now + self.leeway:
            raise TokenNotYetValid("token was issued in the future", iat=iat)
        if "nbf" in claims and _number(claims, "nbf") > now + self.leeway:
            raise TokenNotYetValid("token is not valid yet")
        if now >= exp:
            raise TokenExpired("token has expired", exp=exp)
        if exp - iat > self.max_token_ttl + self.leeway:
            raise TokenInvalid("token lifetime is longer than this workspace allows")
        if audience is not None and audience not in auds:
            raise TokenAudienceMismatch(f"token is not for audience `{audience}`", audience=audience)
        return VerifiedToken(claims=MappingProxyType(claims), kid=kid, audience=auds, exp=exp, iat=iat)

    def __repr__(self) -> str:
        return f"SigningKeys(keydir={str(self.keydir)!r}, active_kid={self._signing_kid!r})"


__all__ = [
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_TOKEN_TTL",
    "DEFAULT_SKEW",
    "MAX_AUDIENCE_LEN",
    "MAX_CREDENTIAL_AUDIENCE_LEN",
    "MAX_TOKEN_BYTES",
    "TYP_ACCESS_TOKEN",
    "TYP_JWT",
    "USE_APPROVAL",
    "USE_CREDENTIAL",
    "USE_OAUTH",
    "USE_SVID",
    "SigningKeys",
    "VerifiedToken",
    "check_audience",
]
