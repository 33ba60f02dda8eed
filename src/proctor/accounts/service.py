"""``Accounts``: approver accounts, sign-in with lockout, browser sessions and their CSRF tokens.

Sign-in (:meth:`Accounts.authenticate`) costs one argon2id check whatever happens — unknown e-mail,
disabled or locked account, wrong or right password — so its timing tells nothing. The
``lockout_after``-th failure in a row locks the account for ``lockout_for``; a locked account is
refused even with the right password. Every outcome is audited (``approver.login_succeeded``,
``approver.login_failed``, ``approver.locked_out``).

A session is a random 256-bit token in a cookie; the store keeps only its SHA-256, the person it
belongs to, an absolute expiry and the time it was last used (the idle expiry). Its CSRF token is
an HMAC of the session token, so it is bound to that one session and needs no storage.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proctor.accounts.passwords import hash_password, token_hash, verify, verify_dummy
from proctor.accounts.settings import LoginSettings, OidcSettings
from proctor.approvals.model import Approver
from proctor.audit.log import AuditLog
from proctor.clock import Clock
from proctor.errors import AccountLocked, AuthError, CsrfInvalid, NotFound, ValidationError
from proctor.store.base import Store, UserRecord, WebSessionRecord
from proctor.types import Email

if TYPE_CHECKING:
    from proctor.accounts.oidc import OidcClient

__all__ = ["VIA_PASSWORD", "Accounts", "SessionInfo", "check_group", "token_hash"]

VIA_PASSWORD = "password"  # noqa: S105 - the name of a sign-in method, not a password
#: a session used within this many seconds of its last recorded use is not written again
_TOUCH_EVERY_S = 60.0
_MAX_GROUPS = 64
_MAX_NAME = 200
_CSRF_LABEL = b"proctor-web-csrf-v1"


def check_group(name: str) -> str:
    """A group name as policies name it (``@approval("payments-team")``).

    >>> check_group("payments-team")
    'payments-team'
    """
    if (
        not isinstance(name, str)
        or not 1 <= len(name) <= 64
        or name == "owner"
        or not all(c.isalnum() or c in "-_." for c in name)
    ):
        raise ValidationError(
            f"invalid group `{str(name)[:80]}`: letters, digits, `-`, `_`, `.`; not `owner`", field="group"
        )
    return name


def _groups(groups: Iterable[str]) -> tuple[str, ...]:
    out = tuple(sorted({check_group(g) for g in groups}))
    if len(out) > _MAX_GROUPS:
        raise ValidationError(f"at most {_MAX_GROUPS} groups", field="group")
    return out


def _name(name: str) -> str:
    name = " ".join(name.split())
    if len(name) > _MAX_NAME or not name.isprintable():
        raise ValidationError(f"a display name is printable and at most {_MAX_NAME} characters", field="name")
    return name


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live session: who it is, and the CSRF token its forms carry."""

    approver: Approver
    token_hash: str
    csrf: str
    created_at: float
    expires_at: float


class Accounts:
    """The approvers of one workspace."""

    def __init__(self, store: Store, clock: Clock, audit: AuditLog, login: LoginSettings) -> None:
        self.store = store
        self.clock = clock
        self.audit = audit
        self.login = login
        #: run with the e-mail once an account is disabled (Proctor revokes the person's OAuth
        #: grants and ends their tasks: the consent goes with the person, in every process at once)
        self.on_disabled: Callable[[str, str], None] | None = None

    def oidc_client(self, settings: OidcSettings, *, client_secret: Callable[[], str | None]) -> OidcClient:
        """The sign-in client of one OIDC provider; the state of each sign-in under way lives in
        this service's store."""
        from proctor.accounts.oidc import OidcClient

        return OidcClient(settings, self.store, self.clock, client_secret=client_secret)

    # accounts -------------------------------------------------------------------------------
    def add(
        self, email: str, *, name: str = "", groups: Iterable[str] = (), password: str | None, by: str
    ) -> UserRecord:
        """Create an account; ``password`` None makes an account that signs in by OIDC only (its
        groups and disabled flag still apply)."""
        addr = Email(email)
        now = self.clock.now()
        rec = UserRecord(
            email=addr,
            name=_name(name),
            groups=_groups(groups),
            created_at=now,
            updated_at=now,
            password_hash=None if password is None else hash_password(password),
        )
        self.store.add_user(rec)
        self.audit.append(
            "approver.added",
            {"email": str(addr), "groups": list(rec.groups), "password": password is not None, "by": by},
        )
        return rec

    def get(self, email: str) -> UserRecord:
        rec = self.store.get_user(Email(email))
        if rec is None:
            raise NotFound(f"unknown user `{email}`", email=email)
        return rec

    def list(self) -> list[UserRecord]:
        return self.store.list_users()

    def set_password(self, email: str, password: str, *, by: str) -> UserRecord:
        """A new password (which also unlocks the account); every session of the account ends."""
        addr = Email(email)
        now = self.clock.now()
        rec = self.store.update_user(addr, now, password_hash=hash_password(password), unlock=True)
        ended = self.store.revoke_web_sessions(now, email=addr)
        self.audit.append(
            "approver.password_changed", {"email": str(addr), "by": by, "sessions_ended": ended}
        )
        return rec

    def set_disabled(self, email: str, disabled: bool, *, by: str) -> UserRecord:
        """Disable (every session ends, no sign-in, local or OIDC) or enable an account."""
        addr = Email(email)
        now = self.clock.now()
        rec = self.store.update_user(addr, now, disabled=disabled, unlock=not disabled)
        ended = self.store.revoke_web_sessions(now, email=addr) if disabled else 0
        self.audit.append(
            "approver.disabled" if disabled else "approver.enabled",
            {"email": str(addr), "by": by, "sessions_ended": ended},
        )
        if disabled and self.on_disabled is not None:
            self.on_disabled(str(addr), by)
        return rec

    def change_groups(
        self, email: str, *, add: Iterable[str] = (), remove: Iterable[str] = (), by: str
    ) -> UserRecord:
        addr = Email(email)
        current = self.get(addr)
        add_, remove_ = set(_groups(add)), set(_groups(remove))
        groups = _groups((set(current.groups) | add_) - remove_)
        rec = self.store.update_user(addr, self.clock.now(), groups=groups)
        self.audit.append(
            "approver.groups_changed",
            {
                "email": str(addr),
                "groups": list(groups),
                "added": sorted(add_),
                "removed": sorted(remove_),
                "by": by,
            },
        )
        return rec

    # sign-in -------------------------------------------------------------------------------
    def authenticate(
        self, email: str, password: str, now: float | None = None, *, source: str = ""
    ) -> Approver:
        """The approver ``email`` names, when ``password`` is theirs and the account may sign in.
        Raises :class:`AuthError` (unknown e-mail, wrong password, disabled, no password set) or
        :class:`AccountLocked`; every outcome is audited."""
        now = self.clock.now() if now is None else now
        try:
            addr: Email | None = Email(email.strip())
        except (ValidationError, AttributeError):
            addr = None
        rec = None if addr is None else self.store.get_user(addr)
        shown = (str(addr) if addr is not None else str(email))[:254]
        if rec is None or rec.password_hash is None:
            verify_dummy(password)
            self.login_failed(shown, "unknown_user" if rec is None else "no_password", source)
            raise AuthError("wrong e-mail or password")
        ok = verify(rec.password_hash, password)
        if rec.locked(now):
            self.login_failed(shown, "locked", source)
            raise AccountLocked("too many failed sign-ins: the account is locked for a while", email=shown)
        if rec.disabled:
            self.login_failed(shown, "disabled", source)
            raise AuthError("wrong e-mail or password")
        if not ok:
            after = self.store.record_login_failure(
                rec.email, now, max_failures=self.login.lockout_after, lock_s=self.login.lockout_for_s
            )
            self.login_failed(shown, "wrong_password", source)
            if after is not None and after.locked(now):
                self.audit.append(
                    "approver.locked_out",
                    {
                        "email": shown,
                        "failures": self.login.lockout_after,
                        "until": after.locked_until,
                        "source": source[:100],
                    },
                )
            raise AuthError("wrong e-mail or password")
        # the account as it is now: guesses checked in parallel with this one may have locked it
        # while argon2 ran (the lock read above is as old as the check is slow)
        fresh = self.store.get_user(rec.email)
        if fresh is None or fresh.disabled:
            self.login_failed(shown, "disabled", source)
            raise AuthError("wrong e-mail or password")
        if fresh.locked(now):
            self.login_failed(shown, "locked", source)
            raise AccountLocked("too many failed sign-ins: the account is locked for a while", email=shown)
        if fresh.failed_logins:
            self.store.record_login_success(rec.email, now)
        approver = Approver(email=rec.email, groups=frozenset(rec.groups), via=VIA_PASSWORD, name=rec.name)
        return approver

    def login_failed(self, email: str, reason: str, source: str, via: str = VIA_PASSWORD) -> None:
        """Audit a refused sign-in (`approver.login_failed`): who it named, why, from where."""
        self.audit.append(
            "approver.login_failed", {"email": email, "reason": reason, "via": via, "source": source[:100]}
        )

    def approver_from_oidc(
        self, oidc: OidcSettings, claims: Mapping[str, Any], *, source: str = ""
    ) -> Approver:
        """The approver an ID token (already verified) names: its ``email`` claim (verified unless
        configured otherwise, of the configured domain), groups from the configured claim. A local
        account of that address that is disabled refuses the sign-in. Failures are audited."""
        via = f"oidc:{oidc.issuer}"
        raw_email = claims.get("email")
        shown = str(raw_email)[:254] if raw_email is not None else f"sub:{str(claims.get('sub'))[:200]}"

        def refuse(reason: str, message: str) -> AuthError:
            self.login_failed(shown, reason, source, via)
            return AuthError(message)

        if not isinstance(raw_email, str):
            raise refuse("no_email", "the identity provider sent no e-mail address")
        try:
            addr = Email(raw_email.strip())
        except ValidationError:
            raise refuse("bad_email", "the identity provider sent an invalid e-mail address") from None
        if oidc.require_email_verified and claims.get("email_verified") is not True:
            raise refuse("email_unverified", "the identity provider has not verified this e-mail address")
        if oidc.email_domain is not None and addr.rsplit("@", 1)[-1].lower() != oidc.email_domain:
            raise refuse("email_domain", f"only addresses of {oidc.email_domain} may sign in")
        raw_groups = claims.get(oidc.groups_claim, [])
        if isinstance(raw_groups, str):
            raw_groups = [raw_groups]
        if not isinstance(raw_groups, list):
            raw_groups = []
        groups = []
        for g in raw_groups[:_MAX_GROUPS]:
            try:
                groups.append(check_group(g))
            except ValidationError:
                continue  # a group name no policy can use is ignored, not an error
        if self._disabled_any_case(addr):
            raise refuse("disabled", "wrong e-mail or password")
        name = claims.get("name")
        return Approver(
            email=addr,
            groups=frozenset(groups),
            via=via,
            name=_name(name) if isinstance(name, str) and len(name) <= _MAX_NAME else "",
        )

    def _disabled_any_case(self, addr: Email) -> bool:
        """Whether a disabled local account has this address in any case: approvals compare
        addresses without case, so `Dan@ACME.test` from a provider is the disabled `dan@acme.test`."""
        exact = self.store.get_user(addr)
        if exact is not None and exact.disabled:
            return True
        low = addr.lower()
        return any(u.disabled and u.email.lower() == low for u in self.store.list_users())

    # sessions ---------------------------------------------------------------------------------
    def start_session(self, approver: Approver, *, source: str = "") -> tuple[str, SessionInfo]:
        """A new session for ``approver``: returns the cookie's token (shown once, never stored)."""
        now = self.clock.now()
        token = secrets.token_urlsafe(32)
        rec = WebSessionRecord(
            token_hash=token_hash(token),
            email=approver.email,
            name=approver.name,
            groups=tuple(sorted(approver.groups)),
            via=approver.via,
            created_at=now,
            last_seen=now,
            expires_at=now + self.login.session_max_s,
        )
        self.store.add_web_session(rec)
        self.audit.append(
            "approver.login_succeeded",
            {
                "email": str(approver.email),
                "via": approver.via,
                "groups": sorted(approver.groups),
                "session": rec.token_hash[:16],
                "source": source[:100],
            },
        )
        return token, SessionInfo(approver, rec.token_hash, self.csrf_token(token), now, rec.expires_at)

    def session(self, token: str) -> SessionInfo:
        """The live session ``token`` opens; :class:`AuthError` when there is none (unknown,
        revoked, idle too long, past its absolute expiry, or its account is now disabled)."""
        if not token or len(token) > 128:
            raise AuthError("not signed in")
        now = self.clock.now()
        th = token_hash(token)
        rec = self.store.get_web_session(th)
        if rec is None or rec.revoked_at is not None:
            raise AuthError("not signed in")
        if now >= rec.expires_at or now - rec.last_seen >= self.login.session_idle_s:
            raise AuthError("the session has expired: sign in again")
        groups = frozenset(rec.groups)
        local = self.store.get_user(rec.email)
        if rec.via == VIA_PASSWORD:
            if local is None or local.disabled:
                raise AuthError("not signed in")
            groups = frozenset(local.groups)  # a change of groups applies at once
        elif self._disabled_any_case(rec.email):
            raise AuthError("not signed in")
        if now - rec.last_seen >= _TOUCH_EVERY_S:
            self.store.touch_web_session(th, now)
        approver = Approver(email=rec.email, groups=groups, via=rec.via, name=rec.name)
        return SessionInfo(approver, th, self.csrf_token(token), rec.created_at, rec.expires_at)

    @staticmethod
    def csrf_token(token: str) -> str:
        """The CSRF token of the session ``token`` opens: bound to it, useless with any other."""
        return hmac.new(token.encode("utf-8", "surrogatepass"), _CSRF_LABEL, hashlib.sha256).hexdigest()

    def check_csrf(self, info: SessionInfo, token: str, presented: str | None, *, action: str) -> None:
        """Refuse (and audit) a form whose CSRF token is not the session's."""
        expected = self.csrf_token(token)
        if presented is None or not hmac.compare_digest(
            expected.encode(), presented.encode("utf-8", "replace")
        ):
            self.audit.append(
                "approver.csrf_refused",
                {"email": str(info.approver.email), "action": action[:100], "session": info.token_hash[:16]},
            )
            raise CsrfInvalid("the form's CSRF token is missing or wrong: reload the page and try again")

    def logout(self, info: SessionInfo) -> None:
        self.store.revoke_web_sessions(self.clock.now(), token_hash=info.token_hash)
        self.audit.append(
            "approver.logout", {"email": str(info.approver.email), "session": info.token_hash[:16]}
        )
