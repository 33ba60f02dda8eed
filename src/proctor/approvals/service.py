"""``Approvals``: the queue of held calls, the people who decide them, and the grants they give.

Contract (transports — CLI, HTTP API, web pages, MCP gateway — use only these methods):

- ``check(agent, task, tool, args, decision)`` is the pipeline's approval stage, run when the
  policy answered ``approval_required``: it redeems a grant that covers this exact call (a
  single-use grant is consumed atomically; a scoped grant is checked against its narrowing) and
  returns an ``allow``; otherwise it files (or joins, when an identical one is pending) a request
  and returns ``approval_required`` naming it. Beyond the per-agent cap of pending requests it
  returns a deny. Never raises: an error is a deny.
- ``get``/``list`` read requests; ``view(id, approver)`` adds what a person needs to judge the
  call (decrypted arguments with secrets masked and long values folded, the task's purpose and
  requester, recent calls, what is unusual) and requires that the person may decide it.
- ``approve(id, approver, reason, narrowing=None)`` / ``deny(id, approver, reason)`` record a
  person's decision; ``may_decide(request, approver)`` says why not, or None.
- ``wait(id, timeout_s)`` (async) returns the request once it is no longer pending, or as it is
  when the time runs out.
- ``subscribe(callback)``: called with each new request (webhooks).
"""

from __future__ import annotations

__all__: list[str] = []
