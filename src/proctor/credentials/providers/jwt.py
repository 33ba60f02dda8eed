"""Signed-token credentials: an ES256 access token (RFC 9068) per lease, and its introspection (RFC 7662).

A task that needs to call a downstream HTTP API gets a lease of kind ``jwt``: a bearer token signed
with the workspace's signing keys, header ``typ`` ``at+jwt``, for exactly one audience (the downstream
API), expiring no later than the task's deadline. Claims::

    iss        the issuer given to the provider (Proctor's own audience)
    sub        the agent's SPIFFE ID              client_id  the agent's name
    aud        [the downstream audience]          scope      the spec's scope, if any
    iat, exp   exp <= the task's deadline         task       the task id
    jti        the lease id                       lease      the lease id
    act        a delegated task's chain as RFC 8693 nested actors (docs/adr/0037): the task's own
               agent outermost, the root task's innermost, each ``{sub, task}``; with it
    requester  the root task's requester (on whose behalf the chain acts)

No refresh token is ever issued: a task that runs past the token's ``exp`` gets a new lease.

A JWT cannot be recalled once handed out, so **revocation lives in the lease store**: ending the task,
suspending the agent or revoking the lease marks the lease revoked in one store transaction, and the
downstream API asks ``POST /v1/introspect`` whether a token is still good. Introspection answers
``active`` only while the lease is active and usable, its task is live and its agent active; so a
revoked token is dead for every resource server that introspects, the moment the lease manager's
transaction commits. :meth:`JwtProvider.revoke` therefore has nothing left to do and succeeds. A
resource server that checks only the signature and ``exp`` keeps accepting a revoked token until its
``exp``: keep ``ttl`` short for such servers.

Introspection clients (the resource servers) are identified by the audience they serve: the HTTP Basic
``client_id`` *is* the audience. Each client's credential lives in the workspace secret store under
``introspect.<first 32 hex digits of sha256(audience)>`` (secret names cannot hold a URL). The stored
value is a small JSON document ``{"v": 1, "audience": ..., "secret_sha256": ...}``: one record holds
both the audience (so ``proctor introspection-client list`` can show it: the name is a one-way hash)
and a SHA-256 *verifier* of the client secret, never the secret itself. The secret is 32 random bytes,
so a plain SHA-256 is as strong as a password hash here, and even someone holding the secrets key
cannot recover it. It is shown once, when created.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from proctor.credentials.providers.base import Issued, IssueRequest
from proctor.credentials.secrets import SecretStore
from proctor.errors import (
    Conflict,
    ProctorError,
    SecretDecryptFailed,
    UnknownSecret,
    ValidationError,
)
from proctor.identity.keys import MAX_TOKEN_BYTES, TYP_ACCESS_TOKEN, SigningKeys
from proctor.store.base import Store
from proctor.tasks.delegation import act_claim
from proctor.types import AgentName, AgentStatus, LeaseId, TaskId

if TYPE_CHECKING:
    from proctor.audit.log import AuditLog
    from proctor.store.base import TaskRecord

KIND: Final = "jwt"
TOKEN_TYPE: Final = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
MAX_AUDIENCE: Final = 512
MAX_SCOPE: Final = 512
#: the only spec keys a ``jwt`` lease takes
SPEC_KEYS: Final = frozenset({"audience", "ttl", "scope"})
#: keys the gateway puts in every credential spec; accepted and ignored
IGNORED_SPEC_KEYS: Final = frozenset({"name", "provider", "env", "header"})
#: audiences no credential may carry, whatever the workspace reserves: identities and Proctor's tokens
FORBIDDEN_AUDIENCE_PREFIXES: Final = ("spiffe://", "proctor:")
#: secret-store names of introspection clients start with this
SECRET_PREFIX: Final = "introspect."  # noqa: S105 - a name prefix, not a secret
CLIENT_SECRET_BYTES: Final = 32
MIN_CLIENT_SECRET: Final = 32

_SCOPE_TOKEN = re.compile(r"[A-Za-z0-9_.:/-]+")
_CLIENT_SECRET = re.compile(r"[\x21-\x7e]{1,512}")
_INACTIVE: Final[Mapping[str, Any]] = {"active": False}
_DUMMY_VERIFIER: Final = hashlib.sha256(b"proctor: no such introspection client").hexdigest()


# --- audiences -----------------------------------------------------------------------------------
def check_credential_audience(audience: object, reserved: Collection[str] = ()) -> str:
    """A downstream audience a credential may be issued for: a string of 1-512 printable characters
    without whitespace, neither in ``reserved`` nor a SPIFFE ID nor ``proctor:…`` (so a credential can
    never be replayed to Proctor as an identity or a task token)."""
    if not isinstance(audience, str):
        raise ValidationError("spec key `audience` must be a string", field="audience")
    if not 1 <= len(audience) <= MAX_AUDIENCE:
        raise ValidationError(f"spec key `audience` must be 1 to {MAX_AUDIENCE} characters", field="audience")
    if not audience.isprintable() or any(ch.isspace() for ch in audience):
        raise ValidationError(
            "spec key `audience` must be printable and hold no whitespace", field="audience"
        )
    lowered = audience.lower()
    if audience in reserved or lowered.startswith(FORBIDDEN_AUDIENCE_PREFIXES):
        raise ValidationError(
            f"audience `{audience[:80]}` is reserved for Proctor's own tokens and identities",
            field="audience",
        )
    return audience


def _check_scope(scope: object) -> str:
    if not isinstance(scope, str):
        raise ValidationError("spec key `scope` must be a string", field="scope")
    if not 1 <= len(scope) <= MAX_SCOPE:
        raise ValidationError(f"spec key `scope` must be 1 to {MAX_SCOPE} characters", field="scope")
    parts = scope.split(" ")
    if not all(_SCOPE_TOKEN.fullmatch(p) for p in parts):
        raise ValidationError(
            "spec key `scope` must be scope tokens of A-Z a-z 0-9 _ . : / - separated by single spaces",
            field="scope",
        )
    return scope


def _check_ttl(ttl: object) -> float:
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise ValidationError("spec key `ttl` must be a number of seconds", field="ttl")
    value = float(ttl)
    if not math.isfinite(value) or value < 1:
        raise ValidationError("spec key `ttl` must be at least 1 second", field="ttl")
    return value


@dataclass(frozen=True, slots=True)
class JwtSpec:
    """A checked ``jwt`` credential spec."""

    audience: str
    ttl: float | None = None
    scope: str | None = None


# --- the provider --------------------------------------------------------------------------------
class JwtProvider:
    """Issues ES256 access tokens (header ``typ`` ``at+jwt``) for one downstream audience per lease.

    Spec keys: ``audience`` (required), ``ttl`` (seconds; default and ceiling: the task's deadline),
    ``scope`` (space-separated scope tokens). ``name``, ``provider``, ``env`` and ``header`` (the
    gateway's) are ignored; any other key is refused. ``data`` is ``{"token", "token_type": "Bearer"}``.
    """

    kind = KIND
    #: a lost lease leaves a token that introspection calls inactive
    loss_fails_closed = True

    def __init__(self, keys: SigningKeys, issuer: str, *, reserved_audiences: Collection[str] = ()) -> None:
        if not isinstance(issuer, str) or not issuer or not issuer.isprintable():
            raise ValidationError("the jwt provider needs an issuer")
        self.keys = keys
        self.issuer = issuer
        self.reserved_audiences = frozenset(reserved_audiences) | {issuer}

    def __repr__(self) -> str:
        return f"JwtProvider(issuer={self.issuer!r})"

    def check_spec(self, spec: Mapping[str, Any]) -> JwtSpec:
        """Validate a spec (the lease manager hides a provider's message, so callers may check first)."""
        if not isinstance(spec, Mapping):
            raise ValidationError("a jwt credential spec must be a mapping")
        for key in spec:
            if key not in SPEC_KEYS and key not in IGNORED_SPEC_KEYS:
                raise ValidationError(
                    f"unknown spec key `{str(key)[:40]}` for a jwt credential: use audience, ttl, scope",
                    field=str(key)[:40],
                )
        if "audience" not in spec:
            raise ValidationError("a jwt credential needs spec key `audience`", field="audience")
        audience = check_credential_audience(spec["audience"], self.reserved_audiences)
        ttl = None if spec.get("ttl") is None else _check_ttl(spec["ttl"])
        scope = None if spec.get("scope") is None else _check_scope(spec["scope"])
        return JwtSpec(audience, ttl, scope)

    def issue(self, req: IssueRequest) -> Issued:
        spec = self.check_spec(req.spec)
        now = req.now
        remaining = req.task.deadline - now
        ttl = remaining if spec.ttl is None else min(spec.ttl, remaining)
        exp = math.floor(now + ttl)  # exactly what sign_claims computes: never past the deadline
        if exp <= now:
            raise ValidationError("the task has less than a second left: no token issued", field="ttl")
        lease = str(req.lease_id)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": str(req.agent.spiffe_id),
            "aud": [spec.audience],
            "jti": lease,
            "client_id": str(req.agent.name),
            "task": str(req.task.id),
            "lease": lease,
        }
        if spec.scope is not None:
            claims["scope"] = spec.scope
        act = act_claim(req.task.chain, str(req.agent.spiffe_id.trust_domain))
        if act is not None:
            # a delegated task's credential says who acted for whom (RFC 8693 §4.1, docs/adr/0037)
            claims["act"] = act
            claims["requester"] = str(req.task.requested_by)
        token = self.keys.sign_claims(claims, now, ttl, typ=TYP_ACCESS_TOKEN)
        return Issued(
            data={"token": token, "token_type": TOKEN_TYPE},
            expires_at=float(exp),
            revoke_handle={"jti": lease},
        )

    def revoke(self, handle: Mapping[str, Any]) -> None:
        """Nothing to do, so it always succeeds (and is idempotent): a signed token cannot be recalled.

        By the time this runs, the lease manager has already marked the lease revoked in the store, and
        that state is what ``POST /v1/introspect`` reports: every resource server that introspects
        refuses the token from then on. There is no provider-side state to remove.
        """
        return None


# --- introspection -------------------------------------------------------------------------------
def introspect(
    keys: SigningKeys,
    store: Store,
    token: object,
    client_audience: str,
    now: float,
    *,
    issuer: str | None = None,
) -> dict[str, Any]:
    """The RFC 7662 answer for ``token`` as seen by the client serving ``client_audience``.

    ``{"active": false}`` for anything not good right now: malformed, oversized, a bad signature or
    unknown key, expired or issued in the future, a ``typ`` other than ``at+jwt`` (an SVID, a task
    token), no ``lease`` claim, a lease that is unknown, not active or past its expiry, a task that is
    not live, a suspended agent, claims that disagree with the lease, or an ``aud`` without the
    client's audience (a resource server learns nothing about tokens not meant for it). Never raises
    for a bad token; a store failure does raise.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
        return dict(_INACTIVE)
    try:
        verified = keys.verify_credential_token(token, now)
    except ProctorError:
        return dict(_INACTIVE)
    claims = verified.claims
    if client_audience not in verified.audience:
        return dict(_INACTIVE)
    if issuer is not None and claims.get("iss") != issuer:
        return dict(_INACTIVE)
    raw = claims.get("lease")
    if not isinstance(raw, str) or claims.get("jti") != raw:
        return dict(_INACTIVE)
    try:
        lease_id = LeaseId(raw)
    except ValidationError:
        return dict(_INACTIVE)
    lease = store.get_lease(lease_id)
    if lease is None or lease.kind != KIND or not lease.usable(now):
        return dict(_INACTIVE)
    task = store.get_task(lease.task_id)
    if task is None or not task.is_live(now) or claims.get("task") != str(task.id):
        return dict(_INACTIVE)
    agent = store.get_agent(lease.agent)
    if agent is None or agent.status is not AgentStatus.ACTIVE:
        return dict(_INACTIVE)
    if claims.get("sub") != str(agent.spiffe_id) or claims.get("client_id") != str(agent.name):
        return dict(_INACTIVE)
    # the chain the token carries must be its task's (none for a root task): a token is never
    # active under a chain its task does not have
    act = act_claim(task.chain, str(agent.spiffe_id.trust_domain))
    if claims.get("act") != act:
        return dict(_INACTIVE)
    if act is not None and claims.get("requester") != str(task.requested_by):
        return dict(_INACTIVE)
    if not _lineage_live(store, task, now):
        return dict(_INACTIVE)
    answer: dict[str, Any] = {
        "active": True,
        "client_id": str(agent.name),
        "sub": str(agent.spiffe_id),
        "aud": list(verified.audience),
        "iss": claims.get("iss"),
        "exp": int(verified.exp),
        "iat": int(verified.iat),
        "jti": raw,
        "token_type": TOKEN_TYPE,
    }
    scope = claims.get("scope")
    if isinstance(scope, str):
        answer["scope"] = scope
    answer["task"] = str(task.id)
    answer["lease"] = raw
    if act is not None:
        answer["act"] = act
        answer["requester"] = str(task.requested_by)
    return answer


def _lineage_live(store: Store, task: TaskRecord, now: float) -> bool:
    """Whether every task ``task`` was delegated from is live and every agent that delegated it
    active, as ``Tasks.check_lineage`` reads the store: after a crash between a parent's end (or
    its agent's suspension) and the cascade, the child's token is inactive at once, as the
    child is refused by every Proctor decision (docs/adr/0032)."""
    for anc_agent, anc_id in task.chain[:-1]:
        anc = store.get_task(TaskId(anc_id))
        if anc is None or not anc.is_live(now):
            return False
        by = store.get_agent(AgentName(anc_agent))
        if by is None or by.status is not AgentStatus.ACTIVE:
            return False
    return True


def _never_killed(agent: str, task: str) -> bool:
    return False


def introspect_recorded(
    keys: SigningKeys,
    store: Store,
    audit: AuditLog,
    token: object,
    client_audience: str,
    now: float,
    *,
    issuer: str | None = None,
    killed: Callable[[str, str], bool] = _never_killed,
) -> dict[str, Any]:
    """:func:`introspect` as the HTTP API answers it: inactive too when ``killed(agent, task)`` (a
    suspension or task end in the kill file, not yet in the store; see :mod:`proctor.killswitch`),
    and every active answer recorded as ``lease.introspected``."""
    result = introspect(keys, store, token, client_audience, now, issuer=issuer)
    if result["active"] and killed(str(result["client_id"]), str(result["task"])):
        return dict(_INACTIVE)
    if result["active"] and "act" in result:
        # a delegated task's chain too: an ancestor task ended, or a delegating agent suspended,
        # in the kill file only (docs/adr/0032, the same check as ``Tasks.check_lineage``)
        task = store.get_task(TaskId(str(result["task"])))
        if task is None or any(killed(a, t) for a, t in task.chain[:-1]):
            return dict(_INACTIVE)
    if result["active"]:
        audit.append(
            "lease.introspected",
            {"lease_id": result["lease"], "client": client_audience},
            agent=result["client_id"],
            task=result["task"],
        )
    return result


# --- introspection clients -----------------------------------------------------------------------
def introspection_secret_name(audience: str) -> str:
    """The secret-store name of the client serving ``audience``: ``introspect.`` + 32 hex digits."""
    return SECRET_PREFIX + hashlib.sha256(audience.encode()).hexdigest()[:32]


def _verifier(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IntrospectionClient:
    """A registered introspection client (no secret: only its audience and bookkeeping)."""

    audience: str
    secret_name: str
    version: int
    updated_at: float


def _load_client(secret_store: SecretStore, name: str) -> dict[str, Any] | None:
    try:
        raw = secret_store.get(name)
    except UnknownSecret:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    if (
        not isinstance(doc, dict)
        or doc.get("v") != 1
        or not isinstance(doc.get("audience"), str)
        or not isinstance(doc.get("secret_sha256"), str)
    ):
        return None
    return doc


def add_introspection_client(
    secret_store: SecretStore,
    audience: str,
    now: float,
    *,
    rotate: bool = False,
    reserved: Collection[str] = (),
    secret: str | None = None,
    audit: AuditLog | None = None,
) -> str:
    """Register the introspection client for ``audience`` (or with ``rotate``, give it a new secret);
    returns the client secret (32 random bytes, base64url, unless ``secret`` supplies one of 32 to
    512 visible ASCII characters), which is stored only as a SHA-256 verifier. With ``audit``, the
    change is recorded (``introspection_client.added`` or ``.rotated``)."""
    check_credential_audience(audience, reserved)
    if secret is not None and not (
        isinstance(secret, str) and _CLIENT_SECRET.fullmatch(secret) and len(secret) >= MIN_CLIENT_SECRET
    ):
        raise ValidationError(
            f"a client secret must be {MIN_CLIENT_SECRET} to 512 visible ASCII characters", field="secret"
        )
    name = introspection_secret_name(audience)
    exists = secret_store.store.get_secret(name) is not None
    if exists and not rotate:
        raise Conflict(f"introspection client `{audience[:80]}` exists: pass --rotate to replace its secret")
    if rotate and not exists:
        raise UnknownSecret(f"no introspection client `{audience[:80]}` to rotate", name=name)
    if secret is None:
        secret = secrets.token_urlsafe(CLIENT_SECRET_BYTES)
    doc = {"v": 1, "audience": audience, "secret_sha256": _verifier(secret)}
    secret_store.put(name, json.dumps(doc, separators=(",", ":")), now)
    if audit is not None:
        audit.append(
            "introspection_client.rotated" if rotate else "introspection_client.added",
            {"audience": audience, "secret_name": name},
        )
    return secret


def list_introspection_clients(secret_store: SecretStore) -> list[IntrospectionClient]:
    """Registered clients, by audience (each record is decrypted to read its audience)."""
    found = []
    for rec in secret_store.records():
        if not rec.name.startswith(SECRET_PREFIX):
            continue
        try:
            doc = _load_client(secret_store, rec.name)
        except SecretDecryptFailed:
            doc = None
        audience = "(unreadable)" if doc is None else str(doc["audience"])
        found.append(IntrospectionClient(audience, rec.name, rec.version, rec.updated_at))
    return sorted(found, key=lambda c: c.audience)


def remove_introspection_client(
    secret_store: SecretStore, audience: str, *, audit: AuditLog | None = None
) -> bool:
    """Forget the client for ``audience``; False if there was none. With ``audit``, a removal is
    recorded (``introspection_client.removed``)."""
    if not isinstance(audience, str) or not audience:
        return False
    name = introspection_secret_name(audience)
    if not secret_store.delete(name):
        return False
    if audit is not None:
        audit.append("introspection_client.removed", {"audience": audience, "secret_name": name})
    return True


def check_introspection_client(secret_store: SecretStore, client_id: str, client_secret: str) -> bool:
    """True if ``client_secret`` is the secret of the client serving ``client_id``. The comparison
    is constant-time, and an unknown client costs the same comparison."""
    doc = None
    if isinstance(client_id, str) and 1 <= len(client_id) <= MAX_AUDIENCE:
        doc = _load_client(secret_store, introspection_secret_name(client_id))
    expected = _DUMMY_VERIFIER if doc is None else str(doc["secret_sha256"])
    presented = _verifier(client_secret if isinstance(client_secret, str) else "")
    ok = hmac.compare_digest(presented.encode(), expected.encode())
    return ok and doc is not None and hmac.compare_digest(str(doc["audience"]).encode(), client_id.encode())


__all__ = [
    "KIND",
    "IntrospectionClient",
    "JwtProvider",
    "JwtSpec",
    "add_introspection_client",
    "check_credential_audience",
    "check_introspection_client",
    "introspect",
    "introspect_recorded",
    "introspection_secret_name",
    "list_introspection_clients",
    "remove_introspection_client",
]
