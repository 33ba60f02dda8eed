"""The web pages ``proctor serve`` serves to people: approvers sign in and decide held calls
(:mod:`proctor.web.routes`, :mod:`proctor.web.approvals`). Server-rendered HTML, no script."""

__all__: list[str] = []
