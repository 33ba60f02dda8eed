"""Pydantic AI (``pydantic-ai-slim``): a guarded function as a ``pydantic_ai.Tool``.

A refused call raises ``ToolFailed``: the model sees a terminal tool failure with the denial's
text (not a retry prompt: retrying the same call would be refused the same way), and the run goes
on.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from proctor.errors import ApprovalPending, ProctorDenied
from proctor.sdk.guard import Guard, exposed_name

__all__ = ["tool"]


def tool(
    guard: Guard,
    fn: Callable[..., Any],
    *,
    name: str,
    effect: str | None = None,
    resource_arg: str | None = None,
    flags: tuple[str, ...] | list[str] = (),
    labels: Mapping[str, str] | None = None,
    tool_name: str | None = None,
    **kwargs: Any,
) -> Any:
    """A ``pydantic_ai.Tool`` (without context) of ``fn`` guarded as Proctor tool ``name`` (the
    model sees ``tool_name``, by default ``name`` with ``__`` for ``.``); ``kwargs`` go to ``Tool``."""
    from pydantic_ai import Tool
    from pydantic_ai.exceptions import ToolFailed

    inner = guard.tool(name, effect=effect, resource_arg=resource_arg, flags=flags, labels=labels)(fn)
    if inspect.iscoroutinefunction(fn):
        ainner: Callable[..., Awaitable[Any]] = inner

        @functools.wraps(fn)
        async def arun(*args: Any, **kw: Any) -> Any:
            try:
                return await ainner(*args, **kw)
            except (ProctorDenied, ApprovalPending) as exc:
                raise ToolFailed(exc.message) from exc

        return Tool(arun, takes_ctx=False, name=tool_name or exposed_name(name), **kwargs)

    @functools.wraps(fn)
    def run(*args: Any, **kw: Any) -> Any:
        try:
            return inner(*args, **kw)
        except (ProctorDenied, ApprovalPending) as exc:
            raise ToolFailed(exc.message) from exc

    return Tool(run, takes_ctx=False, name=tool_name or exposed_name(name), **kwargs)
