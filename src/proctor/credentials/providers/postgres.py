"""Dynamic PostgreSQL roles: one login role per lease, scoped to the task, dropped when it ends.

Like Vault's database secrets engine. :meth:`PostgresRoleProvider.issue` connects as a *broker*
account (its DSN is a secret, named by the spec's ``admin_secret``) and, in one transaction, creates
``<role_prefix><lease id>`` (``LOGIN NOINHERIT``, a connection limit, ``VALID UNTIL`` the task's
deadline) and grants ``CONNECT`` on the database, ``USAGE`` on each schema and, on each table,
``SELECT`` if the task's tools only read, or ``SELECT, INSERT, UPDATE, DELETE`` (plus ``USAGE`` on the
sequences of ``serial`` columns) if one writes; a task with neither effect gets nothing. Declared
``table:<schema>.<table>`` resources (fnmatch patterns) narrow the spec's tables. The grants are
checked with ``has_*_privilege`` before the commit, because PostgreSQL only *warns* when the grantor
lacks the grant option: a credential works as specified or does not exist. The password never
reaches PostgreSQL in clear: the role gets a SCRAM-SHA-256 verifier computed here (RFC 5802/7677),
so statement logs hold nothing that logs in. The DSN handed out points at the admin connection's
host, port and database.

:meth:`PostgresRoleProvider.revoke` is idempotent (no role: done). It commits ``NOLOGIN`` first (no
new sessions), terminates the role's sessions and waits for them, then revokes what the handle
records and drops the role in one transaction, and terminates any session that slipped in. No
``DROP OWNED``: the broker is neither superuser nor a member of the role, so a role holding anything
else (a privilege another grantor gave, an object it created) cannot be dropped; that, and a deleted
admin secret, is :class:`RevocationUnrecoverable` (the role can no longer log in either way).

The broker need not be a superuser. Minimal setup (PostgreSQL 14 or later, checked on 15)::

    CREATE ROLE proctor_broker LOGIN CREATEROLE PASSWORD '...';
    GRANT pg_signal_backend TO proctor_broker;        -- terminate the sessions of revoked roles
    GRANT CONNECT ON DATABASE appdb TO proctor_broker WITH GRANT OPTION;
    GRANT USAGE ON SCHEMA s TO proctor_broker WITH GRANT OPTION;
    GRANT SELECT, INSERT, UPDATE, DELETE ON s.t TO proctor_broker WITH GRANT OPTION;
    GRANT USAGE ON SEQUENCE s.t_id_seq TO proctor_broker WITH GRANT OPTION;  -- serial columns only

Run the grants as the objects' owner (``public`` belongs to ``pg_database_owner`` since 15). On 15,
``CREATEROLE`` may alter and drop any non-superuser role; from 16 it manages the roles it created,
which is all the broker does.

Nothing secret is kept: the admin DSN is looked up on each call and dropped; ``revoke_handle`` holds
the admin secret's name, the role, database, schemas, tables, sequences and privileges.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from proctor.credentials.providers.base import Issued, IssueRequest, RevocationUnrecoverable
from proctor.credentials.secrets import check_name
from proctor.errors import LeaseNotActive, UnknownSecret, ValidationError

__all__ = [
    "SPEC_KEYS",
    "PostgresRoleProvider",
    "RoleSpec",
    "parse_spec",
    "privileges_for",
    "role_name",
    "scram_sha256_verifier",
]

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
ROLE_PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,15}")
DEFAULT_PREFIX = "proctor_"
DEFAULT_CONNECTION_LIMIT = 5
MAX_CONNECTION_LIMIT = 100
MAX_TABLES = 256
READ_PRIVILEGES = ("SELECT",)
WRITE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
SCRAM_ITERATIONS = 4096
TABLE_RESOURCE = "table:"
SPEC_KEYS = frozenset({"admin_secret", "tables", "connection_limit", "role_prefix"})
_IGNORED_KEYS = frozenset({"name", "provider", "env", "header"})  # the lease manager's and the gateway's
_PASSED_PARAMS = ("sslmode", "sslrootcert")  # connection settings a role's DSN keeps from the admin's


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """A validated spec: tables are ``(schema, table)`` pairs, in order, without repeats."""

    admin_secret: str
    tables: tuple[tuple[str, str], ...]
    connection_limit: int = DEFAULT_CONNECTION_LIMIT
    role_prefix: str = DEFAULT_PREFIX


def _table(raw: object) -> tuple[str, str]:
    shown = str(raw)[:80]
    if not isinstance(raw, str) or raw.count(".") != 1:
        raise ValidationError(f"invalid table `{shown}`: use `schema.table`")
    schema, table = raw.split(".")
    if not IDENT.fullmatch(schema) or not IDENT.fullmatch(table):
        raise ValidationError(
            f"invalid table `{shown}`: schema and table are 1-63 of A-Z a-z 0-9 _, not starting with a digit"
        )
    return schema, table


def parse_spec(spec: Mapping[str, Any]) -> RoleSpec:
    """Validate a ``postgres`` credential spec; raises :class:`ValidationError` naming the problem.

    >>> parse_spec({"admin_secret": "pg.admin", "tables": ["public.orders"]}).tables
    (('public', 'orders'),)
    """
    for key in spec:
        if key not in SPEC_KEYS and key not in _IGNORED_KEYS:
            raise ValidationError(f"unknown postgres spec key `{str(key)[:40]}`")
    admin = spec.get("admin_secret")
    if admin is None:
        raise ValidationError("a postgres credential needs `admin_secret`: the secret holding the admin DSN")
    if not isinstance(admin, str):
        raise ValidationError("`admin_secret` must be a secret name")
    check_name(admin)
    raw_tables = spec.get("tables")
    if not isinstance(raw_tables, list | tuple) or not raw_tables:
        raise ValidationError("a postgres credential needs `tables`: a non-empty list of `schema.table`")
    if len(raw_tables) > MAX_TABLES:
        raise ValidationError(f"`tables` lists {len(raw_tables)} tables; at most {MAX_TABLES}")
    tables = tuple(dict.fromkeys(_table(t) for t in raw_tables))
    limit = spec.get("connection_limit", DEFAULT_CONNECTION_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_CONNECTION_LIMIT:
        raise ValidationError(f"`connection_limit` must be an integer from 1 to {MAX_CONNECTION_LIMIT}")
    prefix = spec.get("role_prefix", DEFAULT_PREFIX)
    if not isinstance(prefix, str) or not ROLE_PREFIX.fullmatch(prefix):
        raise ValidationError(
            f"invalid `role_prefix` `{str(prefix)[:40]}`: use 1-16 of a-z 0-9 _, not starting with a digit"
        )
    return RoleSpec(admin, tables, limit, prefix)


def privileges_for(effects: Collection[str]) -> tuple[str, ...]:
    """Table privileges for a task whose tools have ``effects``: the task's ceiling, never more.

    >>> privileges_for({"read"}), privileges_for({"read", "write"})
    (('SELECT',), ('SELECT', 'INSERT', 'UPDATE', 'DELETE'))
    """
    if "write" in effects:
        return WRITE_PRIVILEGES
    if "read" in effects:
        return READ_PRIVILEGES
    raise ValidationError(
        "the task declares no read or write effect: it may call no tool that needs a database role"
    )


def narrow_tables(tables: Sequence[tuple[str, str]], resources: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``tables``, kept to those matching one of the task's ``table:`` resources if it declares any.

    >>> narrow_tables([("public", "a"), ("public", "b")], ["table:public.a", "/data/*"])
    (('public', 'a'),)
    """
    pats = [r[len(TABLE_RESOURCE) :] for r in resources if r.startswith(TABLE_RESOURCE)]
    if not pats:
        return tuple(tables)
    kept = tuple(t for t in tables if any(fnmatchcase(f"{t[0]}.{t[1]}", p) for p in pats))
    if not kept:
        raise ValidationError("none of the credential's tables is among the task's `table:` resources")
    return kept


#: the comment a leased role carries (then the lease id): what revoke checks before touching a role
ROLE_MARK = "proctor lease "


def role_name(prefix: str, lease_id: str) -> str:
    """The role for a lease: ``prefix`` and the lease id, lowercased, ``-`` as ``_``.

    >>> role_name("proctor_", "lse_Ab-9")
    'proctor_lse_ab_9'
    """
    name = prefix + lease_id.lower().replace("-", "_")
    if not IDENT.fullmatch(name):
        raise ValidationError("the lease id does not make a valid role name")
    return name


def scram_sha256_verifier(
    password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS
) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802, RFC 7677):
    ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``, all base64. Passing it as the
    role's password keeps the plaintext out of PostgreSQL's logs. The password must already be in
    SASLprep normal form (ASCII is).
    """
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _role_dsn(user: str, password: str, host: str, port: int, dbname: str, params: Mapping[str, str]) -> str:
    """A ``postgresql://`` URL; a unix-socket host goes in the query string."""
    query: dict[str, str] = {}
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    if host and not host.startswith("/"):
        netloc += f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    else:
        if host:
            query["host"] = host
        query["port"] = str(port)
    query.update(params)
    url = f"postgresql://{netloc}/{quote(dbname, safe='')}"
    return f"{url}?{urlencode(query)}" if query else url


@dataclass(frozen=True, slots=True)
class _Handle:
    admin_secret: str
    role: str
    database: str
    tables: tuple[tuple[str, str], ...]
    schemas: tuple[str, ...]
    privileges: tuple[str, ...]
    sequences: tuple[tuple[str, str], ...] = ()


def _parse_handle(handle: Mapping[str, Any]) -> _Handle:
    """A revoke handle as issued; anything else is unrecoverable (retrying will not fix it)."""
    try:
        admin = handle["admin_secret"]
        role, database = handle["role"], handle["database"]
        tables = tuple(_table(t) for t in handle.get("tables", ()))
        schemas = tuple(handle.get("schemas", ()))
        privs = tuple(handle.get("privileges", WRITE_PRIVILEGES))
        seqs = tuple((str(s), str(q)) for s, q in handle.get("sequences", ()))
        ok = (
            isinstance(admin, str)
            and isinstance(role, str)
            and IDENT.fullmatch(role) is not None
            and isinstance(database, str)
            and 0 < len(database) < 64
            and all(isinstance(s, str) and IDENT.fullmatch(s) for s in schemas)
            and all(p in WRITE_PRIVILEGES for p in privs)
            and all(0 < len(x) < 64 for pair in seqs for x in pair)
        )
    except (KeyError, TypeError, ValueError, ValidationError):
        ok = False
    if not ok:
        raise RevocationUnrecoverable("malformed postgres revoke handle")
    return _Handle(admin, role, database, tables, schemas, privs, seqs)


class PostgresRoleProvider:
    """Issues a PostgreSQL login role per lease (``kind = "postgres"``); see the module docstring.

    ``admin_dsn`` resolves a secret name to the broker's connection string (raising
    :class:`UnknownSecret` for an unknown name); it is called on every issue and revoke, and the DSN
    is never kept.
    """

    kind = "postgres"

    def __init__(
        self,
        admin_dsn: Callable[[str], str],
        *,
        connect_timeout_s: float = 5.0,
        statement_timeout_s: float = 30.0,
        terminate_timeout_s: float = 5.0,
        lease_ttl_s: float = 600.0,
    ) -> None:
        if connect_timeout_s <= 0 or statement_timeout_s <= 0 or terminate_timeout_s <= 0:
            raise ValidationError("postgres provider timeouts must be positive")
        if lease_ttl_s < 60:
            raise ValidationError("a postgres lease lives at least 60 s (it is renewed while its task lives)")
        self._admin_dsn = admin_dsn
        #: a role's ``VALID UNTIL`` is at most this far ahead, and renewed while its task lives: a role
        #: nobody can revoke (its database unreachable at task end) stops logging in soon after
        self.lease_ttl_s = lease_ttl_s
        self.connect_timeout_s = connect_timeout_s
        self.statement_timeout_s = statement_timeout_s
        self.terminate_timeout_s = terminate_timeout_s

    def __repr__(self) -> str:
        return f"PostgresRoleProvider(connect_timeout_s={self.connect_timeout_s:g})"

    # connections ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self, dsn: str, dbname: str | None = None) -> Iterator[psycopg.Connection[Any]]:
        extra: dict[str, Any] = {} if dbname is None else {"dbname": dbname}
        conn = psycopg.connect(
            dsn,
            autocommit=True,
            connect_timeout=max(2, int(self.connect_timeout_s + 0.999)),
            application_name="proctor-credentials",
            **extra,
        )
        try:
            conn.execute(
                sql.SQL("SET statement_timeout = {}").format(
                    sql.Literal(f"{int(self.statement_timeout_s * 1000)}ms")
                )
            )
            yield conn
        finally:
            conn.close()

    # issue --------------------------------------------------------------------------------------
    def issue(self, req: IssueRequest) -> Issued:
        spec = parse_spec(req.spec)
        privileges = privileges_for(req.effects)
        tables = narrow_tables(spec.tables, req.task.resources)
        schemas = tuple(dict.fromkeys(s for s, _ in tables))
        role = role_name(spec.role_prefix, str(req.lease_id))
        password = secrets.token_urlsafe(32)
        until = min(req.task.deadline, req.now + self.lease_ttl_s)
        valid_until = datetime.fromtimestamp(until, UTC).isoformat()
        admin_dsn = self._admin_dsn(spec.admin_secret)
        params = {k: str(v) for k, v in conninfo_to_dict(admin_dsn).items() if k in _PASSED_PARAMS}
        with self._connect(admin_dsn) as conn:
            del admin_dsn
            database = conn.info.dbname
            host, port = conn.info.host, conn.info.port
            handle: dict[str, Any] = {
                "admin_secret": spec.admin_secret,
                "role": role,
                "database": database,
                "tables": [f"{s}.{t}" for s, t in tables],
                "schemas": list(schemas),
                "privileges": list(privileges),
            }
            r = sql.Identifier(role)
            sequences: list[tuple[str, str]] = []
            table_ids = sql.SQL(", ").join(sql.Identifier(s, t) for s, t in tables)
            try:
                with conn.transaction():
                    conn.execute(
                        sql.SQL(
                            "CREATE ROLE {} LOGIN NOINHERIT CONNECTION LIMIT {} PASSWORD {} VALID UNTIL {}"
                        ).format(
                            r,
                            sql.SQL(str(int(spec.connection_limit))),
                            sql.Literal(scram_sha256_verifier(password)),
                            sql.Literal(valid_until),
                        )
                    )
                    # the mark revoke looks for: only a role Proctor created is ever revoked by it
                    conn.execute(
                        sql.SQL("COMMENT ON ROLE {} IS {}").format(
                            r, sql.Literal(ROLE_MARK + str(req.lease_id))
                        )
                    )
                    conn.execute(
                        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), r)
                    )
                    conn.execute(
                        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                            sql.SQL(", ").join(sql.Identifier(s) for s in schemas), r
                        )
                    )
                    conn.execute(
                        sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                            sql.SQL(", ").join(sql.SQL(p) for p in privileges), table_ids, r
                        )
                    )
                    if "INSERT" in privileges:
                        sequences = self._serial_sequences(conn, tables)
                        handle["sequences"] = [list(x) for x in sequences]
                        if sequences:
                            conn.execute(
                                sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(
                                    sql.SQL(", ").join(sql.Identifier(s, q) for s, q in sequences), r
                                )
                            )
                    self._check_granted(conn, role, database, schemas, tables, privileges, sequences)
            except BaseException:
                if conn.broken:  # the commit may have happened: clean up on a fresh connection
                    with contextlib.suppress(Exception):
                        self.revoke(handle)
                raise
        data = {
            "dsn": _role_dsn(role, password, host, port, database, params),
            "user": role,
            "password": password,
            "host": host,
            "port": port,
            "dbname": database,
        }
        return Issued(data=data, expires_at=until, revoke_handle=handle)

    @staticmethod
    def _serial_sequences(
        conn: psycopg.Connection[Any], tables: Sequence[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """The sequences the tables' ``serial`` columns draw from (INSERT needs USAGE on them;
        identity columns need nothing more)."""
        names = [sql.Identifier(s, t).as_string(conn) for s, t in tables]
        rows = conn.execute(
            "SELECT DISTINCT n.nspname, c.relname FROM pg_depend d"
            " JOIN pg_class c ON c.oid = d.objid AND c.relkind = 'S'"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass"
            "   AND d.deptype = 'a' AND d.refobjid = ANY(%s::regclass[])"
            " ORDER BY 1, 2",
            (names,),
        ).fetchall()
        return [(str(s), str(q)) for s, q in rows]

    @staticmethod
    def _check_granted(
        conn: psycopg.Connection[Any],
        role: str,
        database: str,
        schemas: Sequence[str],
        tables: Sequence[tuple[str, str]],
        privileges: Sequence[str],
        sequences: Sequence[tuple[str, str]],
    ) -> None:
        """Refuse (rolling the role back) unless every grant took: PostgreSQL only warns when the
        grantor lacks the grant option."""
        names = [sql.Identifier(s, t).as_string(conn) for s, t in tables]
        seqs = [sql.Identifier(s, q).as_string(conn) for s, q in sequences]
        row = conn.execute(
            "SELECT has_database_privilege(%(r)s::name, %(d)s::text, 'CONNECT'),"
            " (SELECT coalesce(bool_and(has_schema_privilege(%(r)s::name, s, 'USAGE')), true)"
            "    FROM unnest(%(s)s::text[]) s),"
            " (SELECT array_agg(t || ' ' || p ORDER BY t, p)"
            "    FROM unnest(%(t)s::text[]) t CROSS JOIN unnest(%(p)s::text[]) p"
            "   WHERE NOT has_table_privilege(%(r)s::name, t, p)),"
            " (SELECT array_agg(q || ' USAGE' ORDER BY q) FROM unnest(%(q)s::text[]) q"
            "   WHERE NOT has_sequence_privilege(%(r)s::name, q, 'USAGE'))",
            {"r": role, "d": database, "s": list(schemas), "t": names, "p": list(privileges), "q": seqs},
        ).fetchone()
        assert row is not None
        can_connect, has_usage, missing_tables, missing_seqs = row
        creatable = conn.execute(
            "SELECT array_agg(nspname::text ORDER BY nspname) FROM pg_namespace"
            " WHERE nspname NOT LIKE 'pg\\_%%' AND nspname <> 'information_schema'"
            " AND has_schema_privilege(%(r)s::name, oid, 'CREATE')",
            {"r": role},
        ).fetchone()
        if creatable and creatable[0]:
            # e.g. PUBLIC's CREATE on schema public (the default before PostgreSQL 15): the role could
            # plant functions for others (CVE-2018-1058) and could not be dropped cleanly
            raise psycopg.errors.InsufficientPrivilege(
                f"the role could create objects in schema {creatable[0][0]!r}: run"
                " `REVOKE CREATE ON SCHEMA ... FROM PUBLIC` there (refused, nothing was left behind)"
            )
        missing = [*(missing_tables or []), *(missing_seqs or [])]
        if not can_connect or not has_usage or missing:
            what = (
                "CONNECT" if not can_connect else "schema USAGE" if not has_usage else ", ".join(missing[:5])
            )
            raise psycopg.errors.InsufficientPrivilege(
                f"the broker could not grant {what} (it needs each privilege WITH GRANT OPTION)"
            )

    # revoke -------------------------------------------------------------------------------------
    def renew(self, handle: Mapping[str, Any], until: float) -> None:
        """Move the role's ``VALID UNTIL`` to ``until`` (its lease was renewed). Only a role Proctor
        created for a lease is touched."""
        h = _parse_handle(handle)
        with self._connect(self._admin_dsn(h.admin_secret)) as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (h.role,)
            ).fetchone()
            if row is None or not str(row[0] or "").startswith(ROLE_MARK):
                raise LeaseNotActive(f"role `{h.role}` is not a leased role any more: not renewed")
            conn.execute(
                sql.SQL("ALTER ROLE {} VALID UNTIL {}").format(
                    sql.Identifier(h.role), sql.Literal(datetime.fromtimestamp(until, UTC).isoformat())
                )
            )

    def revoke(self, handle: Mapping[str, Any]) -> None:
        h = _parse_handle(handle)
        try:
            admin_dsn = self._admin_dsn(h.admin_secret)
        except UnknownSecret:
            raise RevocationUnrecoverable(
                f"admin secret `{h.admin_secret}` is gone: role `{h.role}` must be dropped by hand"
            ) from None
        with self._connect(admin_dsn) as conn:
            row = conn.execute(
                "SELECT oid, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (h.role,)
            ).fetchone()
            if row is None:
                return  # never created, or already dropped
            oid = int(row[0])
            if not str(row[1] or "").startswith(ROLE_MARK):
                # a handle is read from the store: one naming a role Proctor did not create (the
                # application's own, say) must not turn the broker against it
                raise RevocationUnrecoverable(
                    f"role `{h.role}` was not created by Proctor for a lease: it was left alone"
                )
            r = sql.Identifier(h.role)
            try:
                conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(r))  # committed: no new sessions
            except psycopg.errors.UndefinedObject:
                return  # dropped by a concurrent attempt
            self._terminate(conn, oid, h.role)
            try:
                if conn.info.dbname == h.database:
                    with conn.transaction():  # the revokes and the drop stand or fall together
                        self._revoke_grants(conn, h)
                        self._drop_owned(conn, r)
                        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(r))
                else:
                    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (h.database,)).fetchone():
                        with self._connect(admin_dsn, h.database) as dbconn, dbconn.transaction():
                            self._revoke_grants(dbconn, h)
                            self._drop_owned(dbconn, r)
                    # else: the database is gone, and its privileges with it
                    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(r))
            except psycopg.errors.DependentObjectsStillExist:
                raise RevocationUnrecoverable(
                    f"role `{h.role}` (NOLOGIN, sessions ended) holds privileges or objects Proctor did"
                    " not grant: drop it by hand"
                ) from None
            self._terminate(conn, oid, h.role)  # a session that authenticated just before NOLOGIN

    @staticmethod
    def _drop_owned(conn: psycopg.Connection[Any], r: sql.Identifier) -> None:
        """What the role made without a grant (large objects, default privileges) goes with it, so
        it cannot keep data past its task or make its own DROP ROLE fail. Needs the broker to hold
        the role's privileges; without them, DROP ROLE reports what is left."""
        try:
            with conn.transaction():
                # PostgreSQL 16 on: a CREATEROLE broker administers the roles it made but holds their
                # privileges only once it grants itself membership (NOINHERIT roles inherit nothing)
                conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(r))
        except psycopg.Error:
            pass
        try:
            with conn.transaction():
                conn.execute(sql.SQL("DROP OWNED BY {}").format(r))
        except psycopg.errors.InsufficientPrivilege:
            pass

    def _terminate(self, conn: psycopg.Connection[Any], oid: int, role: str) -> None:
        """End every session of the role and wait for them to go."""
        timeout_ms = int(self.terminate_timeout_s * 1000)
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid, %s)) FROM pg_stat_activity"
            " WHERE usesysid = %s AND pid <> pg_backend_pid()",
            (timeout_ms, oid),
        ).fetchone()
        if row is None or not row[0]:
            return  # there was none
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usesysid = %s", (oid,)).fetchone()
        if row is not None and row[0]:
            raise TimeoutError(f"{row[0]} session(s) of role `{role}` did not end")

    @staticmethod
    def _revoke_grants(conn: psycopg.Connection[Any], h: _Handle) -> None:
        """Revoke what issue granted, in the caller's transaction; objects dropped since are
        skipped (their grants went with them)."""
        r = sql.Identifier(h.role)
        privs = sql.SQL(", ").join(sql.SQL(p) for p in h.privileges)
        names = [sql.Identifier(s, t).as_string(conn) for s, t in (*h.tables, *h.sequences)]
        live = {
            str(x)
            for (x,) in conn.execute(
                "SELECT n FROM unnest(%s::text[]) n WHERE to_regclass(n) IS NOT NULL", (names,)
            ).fetchall()
        }
        live_schemas = {
            str(x)
            for (x,) in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s::text[])", (list(h.schemas),)
            ).fetchall()
        }

        def existing(pairs: Sequence[tuple[str, str]]) -> list[sql.Composable]:
            return [sql.Identifier(s, t) for s, t in pairs if sql.Identifier(s, t).as_string(conn) in live]

        if tables := existing(h.tables):
            conn.execute(
                sql.SQL("REVOKE {} ON TABLE {} FROM {}").format(privs, sql.SQL(", ").join(tables), r)
            )
        if sequences := existing(h.sequences):
            conn.execute(
                sql.SQL("REVOKE USAGE ON SEQUENCE {} FROM {}").format(sql.SQL(", ").join(sequences), r)
            )
        if schemas := [sql.Identifier(s) for s in h.schemas if s in live_schemas]:
            conn.execute(sql.SQL("REVOKE USAGE ON SCHEMA {} FROM {}").format(sql.SQL(", ").join(schemas), r))
        conn.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM {}").format(sql.Identifier(h.database), r))
