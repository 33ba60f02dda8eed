"""Value types that check themselves. Signatures take these, never a bare ``str`` id.

Each is a ``str`` subclass, so it is hashable, cheap on the hot path and serialises as itself,
but it can only be built from a valid value:

>>> AgentName("finance-bot")
'finance-bot'
>>> AgentName("Finance Bot")
Traceback (most recent call last):
...
proctor.errors.ValidationError: invalid agent name `Finance Bot`: use 1-63 of a-z 0-9 - _ starting with a letter or digit
"""

from __future__ import annotations

import enum
import re
import secrets
from typing import ClassVar, Self

from proctor.errors import ValidationError

__all__ = [
    "BUILTIN_EFFECTS",
    "AgentName",
    "AgentStatus",
    "ApprovalId",
    "DecisionId",
    "Effect",
    "Email",
    "LeaseId",
    "LeaseState",
    "Sensitivity",
    "SpiffeId",
    "TaskId",
    "TaskState",
    "ToolName",
    "Trust",
    "TrustDomain",
    "Verdict",
]


_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_TOOL = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}(\.[a-z0-9][a-z0-9_-]{0,62}){0,3}")
_TRUST_DOMAIN = re.compile(r"[a-z0-9][a-z0-9.-]{0,253}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
_EFFECT = re.compile(r"[a-z][a-z0-9_]{0,31}")
_ID_BODY = r"[A-Za-z0-9_-]{16,64}"
_ID = re.compile(r"[a-z]{2,4}_" + _ID_BODY)


class _Checked(str):
    _pattern: ClassVar[re.Pattern[str]]
    _what: ClassVar[str]
    _hint: ClassVar[str]

    def __new__(cls, value: str) -> Self:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str) or not cls._pattern.fullmatch(value):
            if isinstance(value, str):
                shown = value if len(value) <= 80 else f"{value[:80]}…"
            else:  # never str() an object here: it may be huge, or raise
                shown = f"<{type(value).__name__}>"
            raise ValidationError(f"invalid {cls._what} `{shown}`: {cls._hint}", field=cls._what)
        return super().__new__(cls, value)

    @classmethod
    def json_pattern(cls) -> str:
        """The pattern a value must match, anchored, for a JSON Schema (the API's OpenAPI document),
        so the document and this type cannot disagree.

        >>> AgentName.json_pattern()
        '^[a-z0-9][a-z0-9_-]{0,62}$'
        """
        return f"^{cls._pattern.pattern}$"


class AgentName(_Checked):
    """An agent's short name, unique in a workspace (case-sensitive, lowercase by rule)."""

    _pattern = _NAME
    _what = "agent name"
    _hint = "use 1-63 of a-z 0-9 - _ starting with a letter or digit"


class TrustDomain(_Checked):
    """A SPIFFE trust domain: lowercase letters, digits, dots and dashes."""

    _pattern = _TRUST_DOMAIN
    _what = "trust domain"
    _hint = "use lowercase letters, digits, `.` and `-`"


class ToolName(_Checked):
    """``namespace.tool``: ASCII only, so look-alike Unicode and path tricks cannot pass.

    >>> ToolName("payments.transfer")
    'payments.transfer'
    >>> ToolName("fs/../../etc")
    Traceback (most recent call last):
    ...
    proctor.errors.ValidationError: invalid tool name `fs/../../etc`: use lowercase ASCII segments joined by `.`
    """

    _pattern = _TOOL
    _what = "tool name"
    _hint = "use lowercase ASCII segments joined by `.`"


class Email(_Checked):
    """An owner's or requester's e-mail address."""

    _pattern = _EMAIL
    _what = "email"
    _hint = "expected an address like `alice@example.com`"


class Effect(_Checked):
    """What a tool does. The built-in effects are in :data:`BUILTIN_EFFECTS`; workspaces may add more."""

    _pattern = _EFFECT
    _what = "effect"
    _hint = "use lowercase letters, digits and `_`"


BUILTIN_EFFECTS: tuple[str, ...] = ("read", "write", "execute", "send", "pay", "deploy")


class _PrefixedId(_Checked):
    _prefix: ClassVar[str]
    _pattern = _ID

    def __new__(cls, value: str) -> Self:
        obj = super().__new__(cls, value)
        if not obj.startswith(cls._prefix + "_"):
            raise ValidationError(f"invalid {cls._what} `{value[:80]}`: expected prefix `{cls._prefix}_`")
        return obj

    @classmethod
    def json_pattern(cls) -> str:
        """
        >>> TaskId.json_pattern()
        '^tsk_[A-Za-z0-9_-]{16,64}$'
        """
        return f"^{re.escape(cls._prefix)}_{_ID_BODY}$"

    @classmethod
    def new(cls) -> Self:
        """A fresh random id (128 bits of entropy). Made without the check: 22 url-safe
        characters after the prefix always match (a decision makes one, ``proctor replay``
        thousands)."""
        return str.__new__(cls, f"{cls._prefix}_{secrets.token_urlsafe(16)}")


class TaskId(_PrefixedId):
    """A task's id: ``tsk_`` and 22 url-safe characters."""

    _prefix = "tsk"
    _what = "task id"
    _hint = "expected `tsk_` followed by an id"


class DecisionId(_PrefixedId):
    """A decision's id, which follows the call into every record about it."""

    _prefix = "dec"
    _what = "decision id"
    _hint = "expected `dec_` followed by an id"


class LeaseId(_PrefixedId):
    """A credential lease's id: ``lse_`` and 22 url-safe characters."""

    _prefix = "lse"
    _what = "lease id"
    _hint = "expected `lse_` followed by an id"


class ApprovalId(_PrefixedId):
    """A held call's approval request: ``apr_`` and 22 url-safe characters."""

    _prefix = "apr"
    _what = "approval id"
    _hint = "expected `apr_` followed by an id"


class SpiffeId(str):
    """``spiffe://<trust-domain>/agent/<name>``.

    >>> SpiffeId.for_agent(TrustDomain("acme.test"), AgentName("bot")).agent_name
    'bot'
    """

    _RE: ClassVar[re.Pattern[str]] = re.compile(
        r"spiffe://([a-z0-9][a-z0-9.-]{0,253})/agent/([a-z0-9][a-z0-9_-]{0,62})"
    )

    def __new__(cls, value: str) -> Self:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str) or not cls._RE.fullmatch(value):
            raise ValidationError(f"invalid SPIFFE ID `{str(value)[:120]}`", field="spiffe_id")
        return super().__new__(cls, value)

    @classmethod
    def for_agent(cls, domain: TrustDomain, name: AgentName) -> SpiffeId:
        return cls(f"spiffe://{domain}/agent/{name}")

    @property
    def trust_domain(self) -> TrustDomain:
        m = self._RE.fullmatch(self)
        assert m is not None  # checked in __new__
        return TrustDomain(m.group(1))

    @property
    def agent_name(self) -> AgentName:
        m = self._RE.fullmatch(self)
        assert m is not None  # checked in __new__
        return AgentName(m.group(2))


class Verdict(enum.StrEnum):
    """The three outcomes of a decision."""

    ALLOW = "allow"
    DENY = "deny"
    APPROVAL_REQUIRED = "approval_required"


class AgentStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    #: offboarded (``proctor agent retire``): never active again; the record and its audit history stay
    RETIRED = "retired"


class TaskState(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class LeaseState(enum.StrEnum):
    """``active`` → ``revoked`` | ``expired`` | ``irrevocable`` (revocation gave up: needs a person)."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    IRREVOCABLE = "irrevocable"


class Trust(enum.StrEnum):
    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"


class Sensitivity(enum.StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"  # noqa: S105 - a label, not a password
