"""The SQL of approver accounts, web sessions and pending OpenID Connect logins, shared by both
engines (mixed into :class:`proctor.store._sql.SqlStore`). ``?`` placeholders, as in ``_sql``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from proctor.errors import Conflict, NotFound, ValidationError
from proctor.store.base import OidcLoginRecord, UserRecord, WebSessionRecord
from proctor.types import Email


class Cursor(Protocol):
    """The part of :class:`proctor.store._sql.Cursor` used here (no import: ``_sql`` imports this)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    @property
    def rowcount(self) -> int: ...


__all__ = ["AccountsSql"]

_USER_COLS = (
    "email, name, groups, password_hash, disabled, failed_logins, locked_until, created_at,"
    " updated_at, version"
)
_SESSION_COLS = "token_hash, email, name, groups, via, created_at, last_seen, expires_at, revoked_at"
_OIDC_COLS = "state_hash, nonce, verifier, next_path, created_at, expires_at"


def _user(row: Sequence[Any]) -> UserRecord:
    return UserRecord(
        email=Email(row[0]),
        name=row[1],
        groups=tuple(json.loads(row[2])),
        password_hash=row[3],
        disabled=bool(row[4]),
        failed_logins=int(row[5]),
        locked_until=None if row[6] is None else float(row[6]),
        created_at=float(row[7]),
        updated_at=float(row[8]),
        version=int(row[9]),
    )


def _session(row: Sequence[Any]) -> WebSessionRecord:
    return WebSessionRecord(
        token_hash=row[0],
        email=Email(row[1]),
        name=row[2],
        groups=tuple(json.loads(row[3])),
        via=row[4],
        created_at=float(row[5]),
        last_seen=float(row[6]),
        expires_at=float(row[7]),
        revoked_at=None if row[8] is None else float(row[8]),
    )


def _oidc(row: Sequence[Any]) -> OidcLoginRecord:
    return OidcLoginRecord(
        state_hash=row[0],
        nonce=row[1],
        verifier=row[2],
        next_path=row[3],
        created_at=float(row[4]),
        expires_at=float(row[5]),
    )


def _groups(groups: Sequence[str]) -> str:
    return json.dumps(sorted(set(groups)))


class AccountsSql:
    """Approver accounts on a SQL engine; the engine hooks are :class:`SqlStore`'s."""

    def _read(self) -> AbstractContextManager[Cursor]:
        raise NotImplementedError  # pragma: no cover - SqlStore provides it

    def _write(self, *, relaxed: bool = False) -> AbstractContextManager[Cursor]:
        raise NotImplementedError  # pragma: no cover - SqlStore provides it

    def _is_unique_violation(self, exc: BaseException) -> bool:
        raise NotImplementedError  # pragma: no cover - SqlStore provides it

    # users ----------------------------------------------------------------------------
    def add_user(self, user: UserRecord) -> None:
        try:
            with self._write() as cur:
                cur.execute(
                    f"INSERT INTO users ({_USER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        user.email,
                        user.name,
                        _groups(user.groups),
                        user.password_hash,
                        int(user.disabled),
                        user.failed_logins,
                        user.locked_until,
                        user.created_at,
                        user.updated_at,
                        user.version,
                    ),
                )
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise Conflict(f"user `{user.email}` already exists", email=user.email) from None
            raise

    def get_user(self, email: Email) -> UserRecord | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_USER_COLS} FROM users WHERE email = ?", (email,))
            row = cur.fetchone()
        return _user(row) if row else None

    def list_users(self) -> list[UserRecord]:
        with self._read() as cur:
            cur.execute(f"SELECT {_USER_COLS} FROM users ORDER BY email")
            return [_user(r) for r in cur.fetchall()]

    def update_user(
        self,
        email: Email,
        now: float,
        *,
        name: str | None = None,
        groups: Sequence[str] | None = None,
        password_hash: str | None = None,
        disabled: bool | None = None,
        unlock: bool = False,
    ) -> UserRecord:
        sets = ["updated_at = ?", "version = version + 1"]
        params: list[Any] = [now]
        if name is not None:
            sets.append("name = ?")
            params.append(name)
        if groups is not None:
            sets.append("groups = ?")
            params.append(_groups(groups))
        if password_hash is not None:
            sets.append("password_hash = ?")
            params.append(password_hash)
        if disabled is not None:
            sets.append("disabled = ?")
            params.append(int(disabled))
        if unlock:
            sets.append("failed_logins = 0, locked_until = NULL")
        with self._write() as cur:
            cur.execute(f"UPDATE users SET {', '.join(sets)} WHERE email = ?", (*params, email))
            if cur.rowcount != 1:
                raise NotFound(f"unknown user `{email}`", email=email)
            cur.execute(f"SELECT {_USER_COLS} FROM users WHERE email = ?", (email,))
            return _user(cur.fetchone())

    def record_login_failure(
        self, email: Email, now: float, *, max_failures: int, lock_s: float
    ) -> UserRecord | None:
        if max_failures < 1 or lock_s <= 0:
            raise ValidationError("a lockout needs at least one failure and a positive duration")
        with self._write() as cur:
            # one statement: concurrent failures (other threads, other processes) each count
            cur.execute(
                "UPDATE users SET"
                " locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END,"
                " failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END"
                " WHERE email = ?",
                (max_failures, now + lock_s, max_failures, email),
            )
            if cur.rowcount != 1:
                return None
            cur.execute(f"SELECT {_USER_COLS} FROM users WHERE email = ?", (email,))
            return _user(cur.fetchone())

    def record_login_success(self, email: Email, now: float) -> None:
        with self._write() as cur:
            cur.execute(
                "UPDATE users SET failed_logins = 0 WHERE email = ? AND failed_logins <> 0",
                (email,),
            )

    # web sessions -----------------------------------------------------------------------
    def add_web_session(self, session: WebSessionRecord) -> None:
        with self._write() as cur:
            # sessions past their absolute expiry open nothing: they go as new ones come
            cur.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (session.created_at,))
            cur.execute(
                f"INSERT INTO web_sessions ({_SESSION_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session.token_hash,
                    session.email,
                    session.name,
                    json.dumps(list(session.groups)),
                    session.via,
                    session.created_at,
                    session.last_seen,
                    session.expires_at,
                    session.revoked_at,
                ),
            )

    def get_web_session(self, token_hash: str) -> WebSessionRecord | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_SESSION_COLS} FROM web_sessions WHERE token_hash = ?", (token_hash,))
            row = cur.fetchone()
        return _session(row) if row else None

    def touch_web_session(self, token_hash: str, now: float) -> None:
        with self._write(relaxed=True) as cur:
            cur.execute(
                "UPDATE web_sessions SET last_seen = ? WHERE token_hash = ? AND last_seen < ?",
                (now, token_hash, now),
            )

    def revoke_web_sessions(
        self, now: float, *, token_hash: str | None = None, email: Email | None = None
    ) -> int:
        if (token_hash is None) == (email is None):
            raise ValidationError("revoke_web_sessions takes exactly one of: token_hash, email")
        column, value = ("token_hash", token_hash) if token_hash is not None else ("email", email)
        with self._write() as cur:
            cur.execute(
                f"UPDATE web_sessions SET revoked_at = ? WHERE {column} = ? AND revoked_at IS NULL"
                " AND expires_at > ?",
                (now, value, now),
            )
            return max(cur.rowcount, 0)

    # pending OpenID Connect logins ------------------------------------------------------------
    def add_oidc_login(self, login: OidcLoginRecord) -> None:
        with self._write() as cur:
            cur.execute("DELETE FROM oidc_logins WHERE expires_at <= ?", (login.created_at,))
            cur.execute(
                f"INSERT INTO oidc_logins ({_OIDC_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    login.state_hash,
                    login.nonce,
                    login.verifier,
                    login.next_path,
                    login.created_at,
                    login.expires_at,
                ),
            )

    def take_oidc_login(self, state_hash: str, now: float) -> OidcLoginRecord | None:
        with self._write() as cur:
            cur.execute(f"SELECT {_OIDC_COLS} FROM oidc_logins WHERE state_hash = ?", (state_hash,))
            row = cur.fetchone()
            cur.execute("DELETE FROM oidc_logins WHERE state_hash = ?", (state_hash,))
            # only the transaction whose delete removed it may use it: a concurrent callback with
            # the same state waits for this one on the row, then deletes nothing
            taken = cur.rowcount == 1
            cur.execute("DELETE FROM oidc_logins WHERE expires_at <= ?", (now,))
        if row is None or not taken:
            return None
        rec = _oidc(row)
        return rec if rec.expires_at > now else None
