"""Proctor: execution control for AI agents.

The public API is what ``__all__`` lists here and :mod:`proctor.testing`; everything else may change
without a changelog entry. Importing ``proctor`` is cheap: each name is imported on first use.

>>> import proctor
>>> proctor.AgentName("finance-bot")
'finance-bot'
>>> proctor.ERROR_CODES["unknown_tool"] is proctor.UnknownTool
True
"""

# no `typing` or `importlib` at run time: `import proctor` must cost next to nothing
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from proctor.app import Proctor, StartedTask
    from proctor.clock import Clock, FrozenClock, SystemClock
    from proctor.errors import (
        ERROR_CODES,
        AuditError,
        ConfigError,
        Conflict,
        CredentialError,
        IdentityError,
        NotFound,
        PolicyError,
        ProctorError,
        StoreError,
        TaskError,
        UnknownTool,
        UpstreamError,
        ValidationError,
    )
    from proctor.policy.engine import Decision
    from proctor.types import (
        AgentName,
        AgentStatus,
        DecisionId,
        Effect,
        LeaseId,
        LeaseState,
        Sensitivity,
        SpiffeId,
        TaskId,
        TaskState,
        ToolName,
        Trust,
        TrustDomain,
        Verdict,
    )
    from proctor.workspace import Workspace

#: public name -> the module that defines it
_WHERE: dict[str, str] = {
    "Proctor": "proctor.app",
    "StartedTask": "proctor.app",
    "Workspace": "proctor.workspace",
    "Decision": "proctor.policy.engine",
    **dict.fromkeys(("Clock", "FrozenClock", "SystemClock"), "proctor.clock"),
    **dict.fromkeys(
        (
            "ERROR_CODES",
            "AuditError",
            "ConfigError",
            "Conflict",
            "CredentialError",
            "IdentityError",
            "NotFound",
            "PolicyError",
            "ProctorError",
            "StoreError",
            "TaskError",
            "UnknownTool",
            "UpstreamError",
            "ValidationError",
        ),
        "proctor.errors",
    ),
    **dict.fromkeys(
        (
            "AgentName",
            "AgentStatus",
            "DecisionId",
            "Effect",
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
        ),
        "proctor.types",
    ),
}

__all__ = [
    "ERROR_CODES",
    "AgentName",
    "AgentStatus",
    "AuditError",
    "Clock",
    "ConfigError",
    "Conflict",
    "CredentialError",
    "Decision",
    "DecisionId",
    "Effect",
    "FrozenClock",
    "IdentityError",
    "LeaseId",
    "LeaseState",
    "NotFound",
    "PolicyError",
    "Proctor",
    "ProctorError",
    "Sensitivity",
    "SpiffeId",
    "StartedTask",
    "StoreError",
    "SystemClock",
    "TaskError",
    "TaskId",
    "TaskState",
    "ToolName",
    "Trust",
    "TrustDomain",
    "UnknownTool",
    "UpstreamError",
    "ValidationError",
    "Verdict",
    "Workspace",
]


def __getattr__(name: str) -> "Any":
    """Import a public name's module on first use (PEP 562), so ``import proctor`` stays cheap."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'proctor' has no attribute {name!r}")
    value = getattr(__import__(module, fromlist=[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
