"""How approvers sign in: the ``login`` section of ``proctor.yaml``.

.. code-block:: yaml

    login:
      session_idle: 30m        # a session unused this long ends
      session_max: 12h         # and none lives longer than this
      lockout_after: 5         # failed passwords in a row that lock an account
      lockout_for: 15m
      public_url: https://proctor.example.com   # where browsers reach `proctor serve` (OIDC redirect)
      oidc:
        issuer: https://login.example.com
        client_id: proctor
        client_secret: secret:oidc-client       # a secret of `proctor secret put`, or env:VAR
        email_domain: example.com               # optional: only addresses of this domain
        groups_claim: groups                    # the ID token claim that lists the person's groups
        require_email_verified: true
        label: Sign in with SSO
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from proctor.errors import ValidationError
from proctor.validate import check_keys

__all__ = ["LOGIN_KEYS", "OIDC_KEYS", "LoginSettings", "OidcSettings", "parse_login"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
#: the keys of ``login`` and of ``login.oidc`` (documented in docs/config-reference.md)
LOGIN_KEYS = frozenset({"session_idle", "session_max", "lockout_after", "lockout_for", "public_url", "oidc"})
OIDC_KEYS = frozenset(
    {
        "issuer",
        "client_id",
        "client_secret",
        "email_domain",
        "groups_claim",
        "require_email_verified",
        "label",
        "scopes",
    }
)


@dataclass(frozen=True)
class OidcSettings:
    """An OpenID Connect provider approvers sign in with. ``client_secret`` is a reference
    (``secret:NAME`` or ``env:VAR``), never the secret itself."""

    issuer: str
    client_id: str
    client_secret: str | None = None
    email_domain: str | None = None
    groups_claim: str = "groups"
    require_email_verified: bool = True
    label: str = "Sign in with SSO"
    scopes: tuple[str, ...] = ("openid", "email", "profile")


@dataclass(frozen=True)
class LoginSettings:
    session_idle_s: float = 1800.0
    session_max_s: float = 43200.0
    lockout_after: int = 5
    lockout_for_s: float = 900.0
    #: the address browsers use to reach ``proctor serve`` (for the OIDC redirect); None: the
    #: address of the request, which is right unless a proxy rewrites it
    public_url: str | None = None
    oidc: OidcSettings | None = None


def check_url(raw: object, what: str) -> str:
    """An https URL, or http to the loopback (a provider under test)."""
    if not isinstance(raw, str) or not raw:
        raise ValidationError(f"{what} is a URL")
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise ValidationError(f"{what}: `{raw[:120]}` is not an http(s) URL without query")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValidationError(f"{what}: `{raw[:120]}` must be https (http only to the loopback)")
    return raw.rstrip("/")


def _secret_ref(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.startswith(("secret:", "env:")) or len(raw) < 5:
        raise ValidationError(
            "login.oidc.client_secret names where the secret is: `secret:NAME` (proctor secret put)"
            " or `env:VARIABLE`, never the secret itself"
        )
    return raw


def parse_login(raw: Mapping[str, Any], duration: Any) -> LoginSettings:
    """Check the ``login`` section; ``duration`` is :func:`proctor.config.parse_duration`."""
    check_keys(raw, LOGIN_KEYS, "login", prefix="login.")
    idle = duration(raw.get("session_idle", "30m"), "login.session_idle")
    absolute = duration(raw.get("session_max", "12h"), "login.session_max")
    if idle > absolute:
        raise ValidationError("login.session_idle is at most login.session_max")
    after = raw.get("lockout_after", 5)
    if not isinstance(after, int) or isinstance(after, bool) or not 1 <= after <= 100:
        raise ValidationError("login.lockout_after is a whole number from 1 to 100")
    public = raw.get("public_url")
    oidc_raw = raw.get("oidc")
    oidc = None
    if oidc_raw is not None:
        if not isinstance(oidc_raw, Mapping):
            raise ValidationError("login.oidc must be a mapping")
        check_keys(oidc_raw, OIDC_KEYS, "login.oidc", prefix="login.oidc.")
        client_id = oidc_raw.get("client_id")
        if not isinstance(client_id, str) or not client_id or len(client_id) > 256:
            raise ValidationError("login.oidc.client_id is required")
        domain = oidc_raw.get("email_domain")
        if domain is not None and (not isinstance(domain, str) or "@" in domain or not domain):
            raise ValidationError("login.oidc.email_domain is a domain like `example.com`")
        scopes = oidc_raw.get("scopes", ["openid", "email", "profile"])
        if not isinstance(scopes, list) or "openid" not in scopes:
            raise ValidationError("login.oidc.scopes is a list that includes `openid`")
        oidc = OidcSettings(
            issuer=check_url(oidc_raw.get("issuer"), "login.oidc.issuer"),
            client_id=client_id,
            client_secret=_secret_ref(oidc_raw.get("client_secret")),
            email_domain=None if domain is None else domain.lower(),
            groups_claim=str(oidc_raw.get("groups_claim", "groups")),
            require_email_verified=bool(oidc_raw.get("require_email_verified", True)),
            label=str(oidc_raw.get("label", "Sign in with SSO"))[:80],
            scopes=tuple(str(s) for s in scopes),
        )
    return LoginSettings(
        session_idle_s=idle,
        session_max_s=absolute,
        lockout_after=after,
        lockout_for_s=duration(raw.get("lockout_for", "15m"), "login.lockout_for"),
        public_url=None if public is None else check_url(public, "login.public_url"),
        oidc=oidc,
    )
