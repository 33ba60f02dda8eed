"""The SQL of the gateway's OAuth authorization server (docs/adr/0028): clients, consented
grants, authorization codes and refresh tokens, shared by both engines (mixed into
:class:`proctor.store._sql.SqlStore`). Codes and refresh tokens are kept as their SHA-256 only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from proctor.store._sql_accounts import Cursor
from proctor.store.base import OAuthClientRecord, OAuthCodeRecord, OAuthGrantRecord, OAuthRefreshRecord

__all__ = ["OAuthSql"]

_CLIENT_COLS = "client_id, name, redirect_uris, kind, created_at"
_GRANT_COLS = (
    "id, client_id, email, agent, template, resource, task_id, created_at, expires_at, revoked_at,"
    " revoked_reason"
)
_CODE_COLS = (
    "code_hash, grant_id, client_id, redirect_uri, challenge, resource, created_at, expires_at, used_at"
)


def _client(row: Sequence[Any]) -> OAuthClientRecord:
    return OAuthClientRecord(
        client_id=row[0],
        name=row[1],
        redirect_uris=tuple(json.loads(row[2])),
        kind=row[3],
        created_at=float(row[4]),
    )


def _grant(row: Sequence[Any]) -> OAuthGrantRecord:
    return OAuthGrantRecord(
        id=row[0],
        client_id=row[1],
        email=row[2],
        agent=row[3],
        template=row[4],
        resource=row[5],
        task_id=row[6],
        created_at=float(row[7]),
        expires_at=float(row[8]),
        revoked_at=None if row[9] is None else float(row[9]),
        revoked_reason=row[10],
    )


def _code(row: Sequence[Any]) -> OAuthCodeRecord:
    return OAuthCodeRecord(
        code_hash=row[0],
        grant_id=row[1],
        client_id=row[2],
        redirect_uri=row[3],
        challenge=row[4],
        resource=row[5],
        created_at=float(row[6]),
        expires_at=float(row[7]),
        used_at=None if row[8] is None else float(row[8]),
    )


class OAuthSql:
    """The OAuth tables on a SQL engine; the engine hooks are :class:`SqlStore`'s."""

    def _read(self) -> AbstractContextManager[Cursor]:
        raise NotImplementedError  # pragma: no cover - SqlStore provides it

    def _write(self, *, relaxed: bool = False) -> AbstractContextManager[Cursor]:
        raise NotImplementedError  # pragma: no cover - SqlStore provides it

    def add_oauth_client(self, client: OAuthClientRecord) -> None:
        with self._write() as cur:
            cur.execute("DELETE FROM oauth_clients WHERE client_id = ?", (client.client_id,))
            # registrations never used for a grant within a day go as new ones come (anyone may
            # register: the table must not grow without bound)
            cur.execute(
                "DELETE FROM oauth_clients WHERE created_at < ? AND client_id NOT IN"
                " (SELECT client_id FROM oauth_grants)",
                (client.created_at - 86400,),
            )
            cur.execute(
                f"INSERT INTO oauth_clients ({_CLIENT_COLS}) VALUES (?, ?, ?, ?, ?)",
                (
                    client.client_id,
                    client.name,
                    json.dumps(list(client.redirect_uris)),
                    client.kind,
                    client.created_at,
                ),
            )

    def get_oauth_client(self, client_id: str) -> OAuthClientRecord | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_CLIENT_COLS} FROM oauth_clients WHERE client_id = ?", (client_id,))
            row = cur.fetchone()
        return _client(row) if row else None

    def add_oauth_grant(self, grant: OAuthGrantRecord, code: OAuthCodeRecord) -> None:
        with self._write() as cur:
            # codes past their expiry open nothing: they go as new ones come
            cur.execute("DELETE FROM oauth_codes WHERE expires_at <= ?", (code.created_at - 3600,))
            cur.execute(
                f"INSERT INTO oauth_grants ({_GRANT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    grant.id,
                    grant.client_id,
                    grant.email,
                    grant.agent,
                    grant.template,
                    grant.resource,
                    grant.task_id,
                    grant.created_at,
                    grant.expires_at,
                    grant.revoked_at,
                    grant.revoked_reason,
                ),
            )
            cur.execute(
                f"INSERT INTO oauth_codes ({_CODE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    code.code_hash,
                    code.grant_id,
                    code.client_id,
                    code.redirect_uri,
                    code.challenge,
                    code.resource,
                    code.created_at,
                    code.expires_at,
                    code.used_at,
                ),
            )

    def get_oauth_grant(self, grant_id: str) -> OAuthGrantRecord | None:
        with self._read() as cur:
            cur.execute(f"SELECT {_GRANT_COLS} FROM oauth_grants WHERE id = ?", (grant_id,))
            row = cur.fetchone()
        return _grant(row) if row else None

    def list_oauth_grants(self, agent: str | None = None) -> list[OAuthGrantRecord]:
        with self._read() as cur:
            if agent is None:
                cur.execute(f"SELECT {_GRANT_COLS} FROM oauth_grants ORDER BY created_at DESC, id")
            else:
                cur.execute(
                    f"SELECT {_GRANT_COLS} FROM oauth_grants WHERE agent = ? ORDER BY created_at DESC, id",
                    (agent,),
                )
            return [_grant(r) for r in cur.fetchall()]

    def set_oauth_grant_task(self, grant_id: str, task_id: str) -> None:
        with self._write() as cur:
            cur.execute("UPDATE oauth_grants SET task_id = ? WHERE id = ?", (task_id, grant_id))

    def revoke_oauth_grant(self, grant_id: str, now: float, reason: str) -> bool:
        with self._write() as cur:
            cur.execute(
                "UPDATE oauth_grants SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
                (now, reason[:200], grant_id),
            )
            revoked = cur.rowcount == 1
            cur.execute("DELETE FROM oauth_refresh WHERE grant_id = ?", (grant_id,))
        return revoked

    def use_oauth_code(self, code_hash: str, now: float) -> tuple[OAuthCodeRecord | None, bool]:
        with self._write() as cur:
            cur.execute(
                "UPDATE oauth_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL", (now, code_hash)
            )
            first = cur.rowcount == 1
            cur.execute(f"SELECT {_CODE_COLS} FROM oauth_codes WHERE code_hash = ?", (code_hash,))
            row = cur.fetchone()
        return (_code(row), first) if row else (None, False)

    def add_oauth_refresh(self, refresh: OAuthRefreshRecord) -> None:
        with self._write() as cur:
            cur.execute(
                "INSERT INTO oauth_refresh (token_hash, grant_id, created_at, expires_at, used_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    refresh.token_hash,
                    refresh.grant_id,
                    refresh.created_at,
                    refresh.expires_at,
                    refresh.used_at,
                ),
            )

    def peek_oauth_refresh(self, token_hash: str) -> tuple[str | None, bool]:
        with self._read() as cur:
            cur.execute("SELECT grant_id, used_at FROM oauth_refresh WHERE token_hash = ?", (token_hash,))
            row = cur.fetchone()
        return (None, False) if row is None else (str(row[0]), row[1] is not None)

    def rotate_oauth_refresh(
        self, old_hash: str, new: OAuthRefreshRecord, now: float
    ) -> tuple[str | None, str]:
        with self._write() as cur:
            cur.execute(
                "SELECT grant_id, expires_at FROM oauth_refresh WHERE token_hash = ?",
                (old_hash,),
            )
            row = cur.fetchone()
            if row is None:
                return None, "unknown"
            grant_id = str(row[0])
            cur.execute(
                "UPDATE oauth_refresh SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
                (now, old_hash),
            )
            if cur.rowcount != 1:
                return grant_id, "reused"
            if now >= float(row[1]):
                return grant_id, "expired"
            cur.execute(
                "INSERT INTO oauth_refresh (token_hash, grant_id, created_at, expires_at, used_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (new.token_hash, grant_id, new.created_at, new.expires_at, None),
            )
        return grant_id, "ok"
