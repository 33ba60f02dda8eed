"""One error hierarchy for Proctor. Every error carries a stable ``code``.

Messages follow Cedar's style: lowercase, no final period, user input in backticks.
Codes are part of the public API: clients match on them, so they never change meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


class ProctorError(Exception):
    """Root of every error Proctor raises on purpose."""

    code: str = "internal_error"
    http_status: int = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape clients see: a stable code and a message, never a stack trace."""
        return {"code": self.code, "message": self.message}


class ConfigError(ProctorError):
    """The workspace or settings are missing or wrong."""

    code = "config_invalid"
    http_status = 500


class WorkspaceNotFound(ConfigError):
    code = "workspace_not_found"


class PortInUse(ConfigError):
    """A server (`proctor serve`, `proctor gateway --http`) cannot listen: its address is taken."""

    code = "port_in_use"


class ValidationError(ProctorError):
    """Input that does not have the required shape."""

    code = "invalid_input"
    http_status = 400


class NoSuchTool(ValidationError):
    """A tool name or pattern given by a person (`--allow`, `--tool-effect`) names no known tool:
    most often a typo. The message suggests the closest known names."""

    code = "no_such_tool"


class NotFound(ProctorError):
    code = "not_found"
    http_status = 404


class Conflict(ProctorError):
    code = "conflict"
    http_status = 409


# identity ------------------------------------------------------------------
class IdentityError(ProctorError):
    """The caller could not prove which agent it is."""

    code = "identity_invalid"
    http_status = 401


class SessionNotOwned(IdentityError):
    """An MCP session id opened by another agent (answered as an unknown session)."""

    code = "session_not_owned"
    http_status = 404


class TokenInvalid(IdentityError):
    code = "token_invalid"


class TokenExpired(IdentityError):
    code = "token_expired"


class TokenNotYetValid(IdentityError):
    code = "token_not_yet_valid"


class TokenAudienceMismatch(IdentityError):
    code = "token_wrong_audience"


class TokenAlgorithmRejected(IdentityError):
    code = "token_algorithm_rejected"


class JoinTokenInvalid(IdentityError):
    code = "join_token_invalid"


class AttestationFailed(IdentityError):
    code = "attestation_failed"


class AgentSuspended(IdentityError):
    code = "agent_suspended"
    http_status = 403


class AdminTokenInvalid(IdentityError):
    code = "admin_token_invalid"


# registry / tasks ------------------------------------------------------------
class UnknownAgent(NotFound):
    code = "unknown_agent"


class UnknownTool(NotFound):
    code = "unknown_tool"


class UnknownTask(NotFound):
    code = "unknown_task"


class UnknownTemplate(NotFound):
    """No task template of that name (docs/adr/0029)."""

    code = "unknown_template"


class TaskError(ProctorError):
    code = "task_invalid"
    http_status = 403


class TaskNotActive(TaskError):
    code = "task_not_active"


class TemplateBudgetSpent(TaskError):
    """An agent has used its template's call budget for the window (``tasks.template_memory``):
    a relaunch starts no fresh budget (docs/adr/0029, amendment 2026-12-05)."""

    code = "template_budget_spent"
    http_status = 429


class TaskTokenInvalid(TaskError):
    code = "task_token_invalid"
    http_status = 401


class TaskBudgetExhausted(TaskError):
    code = "task_budget_exhausted"


class DelegationExceeds(TaskError):
    """A delegated task asks for more than its parent has (docs/adr/0032): a tool pattern, a
    resource, a budget or a deadline outside the parent's. ``details['exceeds']`` names each."""

    code = "delegation_exceeds"


class DelegationDenied(TaskError):
    """Policy (the ``delegate`` action) or the depth limit does not let this task delegate."""

    code = "delegation_denied"


class OwnerRequired(ValidationError):
    code = "owner_required"


# policy ------------------------------------------------------------------
class PolicyError(ProctorError):
    code = "policy_error"


class PolicyLoadError(PolicyError):
    """A policy set could not be parsed or validated; names file and line where it can."""

    code = "policy_invalid"
    http_status = 400


class DecisionError(PolicyError):
    """Deciding failed. The pipeline turns this into a deny."""

    code = "decision_failed"


class FlowFailed(PolicyError):
    """The flow stage (labels, provenance, history: docs/adr/0025) could not judge a call: it is
    denied (fail closed)."""

    code = "flow_failed"
    http_status = 503


class PolicyStale(PolicyError):
    """This process's active policy set is not the one the store records as active (another
    process activated a newer set this one cannot load). Calls are denied until they agree."""

    code = "policy_stale"
    http_status = 503


# store / audit ------------------------------------------------------------
class StoreError(ProctorError):
    code = "store_error"
    http_status = 503


class StoreLocked(StoreError):
    code = "store_locked"


class StoreCorrupt(StoreError):
    code = "store_corrupt"


class StoreFull(StoreError):
    code = "store_full"


class StoreUnavailable(StoreError):
    code = "store_unavailable"


def public_message(exc: ProctorError) -> str:
    """What a client may read of an error: a store error's message can hold a path, a server
    address or the driver's text, which belong in the operator's log only."""
    if isinstance(exc, StoreError):
        return "the store could not be read; try again"
    return exc.message


class AuditError(ProctorError):
    code = "audit_error"


class AuditVerifyFailed(AuditError):
    code = "audit_verify_failed"


class WitnessAnswerRefused(AuditError):
    """A witness's answer was not read: larger than Proctor reads, sent compressed, not JSON or
    nested too deeply (the witness counts as lagging, as one that cannot be reached)."""

    code = "witness_answer_refused"


class UnknownDecision(NotFound, AuditError):
    """No audit record carries this decision id."""

    code = "unknown_decision"


# credentials ---------------------------------------------------------------------
class CredentialError(ProctorError):
    """A credential (a stored secret, or a lease issued from one) could not be used."""

    code = "credential_error"
    http_status = 500


class SecretKeyInvalid(ConfigError, CredentialError):
    """The secrets key is missing, malformed, or not the key this store's secrets are encrypted under.
    Raised before anything is decrypted."""

    code = "secret_key_invalid"


class UnknownSecret(NotFound, CredentialError):
    code = "unknown_secret"


class SecretDecryptFailed(CredentialError):
    """A stored ciphertext failed authentication: altered, or moved from another secret's row."""

    code = "secret_decrypt_failed"


# leases (credentials) -------------------------------------------------------------
class UnknownLease(NotFound, CredentialError):
    code = "unknown_lease"


class LeaseIssueFailed(CredentialError):
    """A provider could not issue a credential; nothing was stored. Names the kind, never the
    provider's own words (they can carry secret material)."""

    code = "lease_issue_failed"
    http_status = 502


class LeaseNotOwned(CredentialError):
    """A lease id was presented for a task that does not hold it."""

    code = "lease_not_owned"
    http_status = 403


class LeaseNotActive(CredentialError):
    """The lease was revoked, expired, or its task is no longer live."""

    code = "lease_not_active"
    http_status = 403


class CredentialDenied(CredentialError):
    """Policy (the ``use_credential`` action) does not let this task obtain this credential."""

    code = "credential_denied"
    http_status = 403


class UnknownCredentialProvider(ValidationError, CredentialError):
    code = "unknown_credential_provider"


class IntrospectionClientInvalid(CredentialError):
    """A token introspection request (RFC 7662) without valid client credentials (HTTP Basic)."""

    code = "introspection_client_invalid"
    http_status = 401


# gateway -----------------------------------------------------------------------
class UpstreamError(ProctorError):
    """An upstream MCP server could not be reached or answered wrongly. Names the namespace and a
    short reason, never the raw exception text (it can carry paths, hosts or the server's own words)."""

    code = "upstream_unavailable"
    http_status = 502


class UpstreamTimeout(UpstreamError):
    code = "upstream_timeout"
    http_status = 504


class UpstreamAnswerTooLarge(UpstreamError):
    """An upstream's answer was larger than its ``max_answer`` (upstreams.yaml): it was dropped
    unread, and the call completed as failed (audited)."""

    code = "upstream_answer_too_large"
    http_status = 502


class ApprovalError(ProctorError):
    """Something about a held call's approval request or its grant."""

    code = "approval_error"
    http_status = 409


class UnknownApproval(NotFound, ApprovalError):
    code = "unknown_approval"
    http_status = 404


class ApprovalNotPending(ApprovalError):
    """The request was already approved, denied, used or has expired."""

    code = "approval_not_pending"
    http_status = 409


class ApproverNotAllowed(ApprovalError):
    """This person may not decide this request (not the owner or in the named group, the agent
    itself, or the task's requester where the policy asks for four eyes)."""

    code = "approver_not_allowed"
    http_status = 403


class ApprovalCapReached(ApprovalError):
    """The agent already has as many pending requests as it may: further risky calls are denied."""

    code = "approval_cap_reached"
    http_status = 429


class ApprovalWaitCapReached(ApprovalError):
    """The agent (or the process, all agents together) already runs as many waits on approval
    requests as it may (``POST /v1/approvals/{id}/wait``): retry once one has returned."""

    code = "approval_wait_cap_reached"
    http_status = 429


class GrantInvalid(ApprovalError):
    """A grant whose signature, binding or lifetime does not hold: the call is denied."""

    code = "grant_invalid"
    http_status = 403


class ProctorDenied(PolicyError):
    """Raised by :mod:`proctor.sdk` before a guarded function runs: Proctor denied the call (the
    decision, with its reasons, is in the audit log). ``decision_id``, ``reasons`` and ``errors``
    (the deny's own codes, e.g. ``task_token_invalid``) say why."""

    code = "call_denied"
    http_status = 403

    def __init__(
        self,
        message: str,
        *,
        decision_id: str | None = None,
        reasons: tuple[str, ...] = (),
        errors: tuple[str, ...] = (),
        approval_id: str | None = None,
    ) -> None:
        super().__init__(message, decision_id=decision_id, errors=list(errors))
        self.decision_id = decision_id
        self.reasons = reasons
        self.errors = errors
        self.approval_id = approval_id


class ApprovalPending(ApprovalError):
    """Raised by :mod:`proctor.sdk`: the call waits for a person's approval and was not run. The
    identical call (same tool, same arguments) may be retried: it runs once approved."""

    code = "approval_pending"
    http_status = 409

    def __init__(self, message: str, *, approval_id: str, url: str, decision_id: str | None = None) -> None:
        super().__init__(message, approval_id=approval_id, url=url, decision_id=decision_id)
        self.approval_id = approval_id
        self.url = url
        self.decision_id = decision_id


class AuthError(ProctorError):
    """A person (an approver) could not be authenticated."""

    code = "auth_failed"
    http_status = 401


class IdentityProviderAnswerRefused(AuthError):
    """The OpenID Connect provider's answer (discovery document, token answer, JWK Set) was not
    read: larger than Proctor reads, not received in time, sent compressed, not JSON or nested too
    deeply. The sign-in fails; nothing of it is trusted."""

    code = "idp_answer_refused"
    http_status = 502


class AccountLocked(AuthError):
    code = "account_locked"
    http_status = 429


class CsrfInvalid(AuthError):
    code = "csrf_invalid"
    http_status = 403


class OAuthRefused(ProctorError):
    """A request to the gateway's OAuth authorization server refused (docs/adr/0028).
    ``error`` is the OAuth error code the answer carries (RFC 6749 §5.2, RFC 7591 §3.2.2)."""

    code = "oauth_refused"
    http_status = 400

    def __init__(self, error: str, message: str, *, status: int = 400, **details: Any) -> None:
        super().__init__(message, error=error, **details)
        self.error = error
        self.status = status


__all__ = [
    "ERROR_CODES",
    "AccountLocked",
    "AdminTokenInvalid",
    "AgentSuspended",
    "ApprovalCapReached",
    "ApprovalError",
    "ApprovalNotPending",
    "ApprovalPending",
    "ApprovalWaitCapReached",
    "ApproverNotAllowed",
    "AttestationFailed",
    "AuditError",
    "AuditVerifyFailed",
    "AuthError",
    "ConfigError",
    "Conflict",
    "CredentialDenied",
    "CredentialError",
    "CsrfInvalid",
    "DecisionError",
    "DelegationDenied",
    "DelegationExceeds",
    "FlowFailed",
    "GrantInvalid",
    "IdentityError",
    "IdentityProviderAnswerRefused",
    "IntrospectionClientInvalid",
    "JoinTokenInvalid",
    "LeaseIssueFailed",
    "LeaseNotActive",
    "LeaseNotOwned",
    "NoSuchTool",
    "NotFound",
    "OAuthRefused",
    "OwnerRequired",
    "PolicyError",
    "PolicyLoadError",
    "PolicyStale",
    "PortInUse",
    "ProctorDenied",
    "ProctorError",
    "SecretDecryptFailed",
    "SecretKeyInvalid",
    "SessionNotOwned",
    "StoreCorrupt",
    "StoreError",
    "StoreFull",
    "StoreLocked",
    "StoreUnavailable",
    "TaskBudgetExhausted",
    "TaskError",
    "TaskNotActive",
    "TaskTokenInvalid",
    "TemplateBudgetSpent",
    "TokenAlgorithmRejected",
    "TokenAudienceMismatch",
    "TokenExpired",
    "TokenInvalid",
    "TokenNotYetValid",
    "UnknownAgent",
    "UnknownApproval",
    "UnknownCredentialProvider",
    "UnknownDecision",
    "UnknownLease",
    "UnknownSecret",
    "UnknownTask",
    "UnknownTool",
    "UpstreamAnswerTooLarge",
    "UpstreamError",
    "UpstreamTimeout",
    "ValidationError",
    "WitnessAnswerRefused",
    "WorkspaceNotFound",
    "public_message",
]

#: every stable error code and the error class that carries it (codes are unique)
ERROR_CODES: Mapping[str, type[ProctorError]] = MappingProxyType(
    {
        cls.code: cls
        for cls in (globals()[name] for name in __all__ if name[0].isupper() and name != "ERROR_CODES")
        if isinstance(cls, type) and issubclass(cls, ProctorError)
    }
)
