"""Proctor for agents whose tools are plain Python functions (docs/sdk.md, docs/adr/0030).

>>> from proctor.sdk import Guard, ProctorDenied, ApprovalPending
>>> ProctorDenied.code, ApprovalPending.code
('call_denied', 'approval_pending')

``Guard(proctor_or_url, task_token=..., agent=... | svid=...)`` and ``@guard.tool("ns.name")``:
each call is decided before it runs and its output reported after, with the gateway's identity,
task and audit semantics. Framework adapters: :mod:`proctor.sdk.adapters`.
"""

from proctor.errors import ApprovalPending, ProctorDenied
from proctor.sdk.guard import Guard, GuardedTool, Verdict, denial_text, exposed_name, json_schema_of

__all__ = [
    "ApprovalPending",
    "Guard",
    "GuardedTool",
    "ProctorDenied",
    "Verdict",
    "denial_text",
    "exposed_name",
    "json_schema_of",
]
