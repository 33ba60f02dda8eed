"""Approvals (empty seat): the queue of calls held for a named human.

What will live here: a held call's request (pending → approved | denied | expired), bound to the
exact call (digest of agent, task, tool, arguments and policy version), the single-use signed
grant an approver gives, and their audit records. The pipeline's approval stage sits between the
decision and the credential stage (see ``proctor.pipeline``).
"""

__all__: list[str] = []
