"""OpenAI Agents SDK (``openai-agents``): a guarded function as a ``FunctionTool``.

>>> # tool = function_tool(guard, read_note, name="notes.read", effect="read")
>>> # Agent(name="clerk", tools=[tool], ...)

A refused call is the tool's output the model reads (the SDK's ``failure_error_function``): the
denial's text, naming the decision; any other exception the function raises goes to the SDK's own
error function (recorded by the guard first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from proctor.errors import ApprovalPending, ProctorDenied
from proctor.sdk.guard import Guard, exposed_name

__all__ = ["failure_error_function", "function_tool"]


def failure_error_function(ctx: Any, error: Exception) -> str:
    """What the model reads when a guarded tool fails: Proctor's refusal as it is; anything else as
    the SDK's default (which hides the exception's text)."""
    if isinstance(error, ProctorDenied | ApprovalPending):
        return error.message
    cause = error.__cause__ or error.__context__
    if isinstance(cause, ProctorDenied | ApprovalPending):
        return cause.message
    from agents.tool import default_tool_error_function

    return default_tool_error_function(ctx, error)


def function_tool(
    guard: Guard,
    fn: Callable[..., Any],
    *,
    name: str,
    effect: str | None = None,
    resource_arg: str | None = None,
    flags: tuple[str, ...] | list[str] = (),
    labels: Mapping[str, str] | None = None,
    name_override: str | None = None,
    **kwargs: Any,
) -> Any:
    """``agents.function_tool`` of ``fn`` guarded as Proctor tool ``name`` (the model sees
    ``name_override``, by default ``name`` with ``__`` for ``.``). ``kwargs`` go to
    ``agents.function_tool``."""
    from agents import function_tool as _function_tool

    guarded = guard.tool(name, effect=effect, resource_arg=resource_arg, flags=flags, labels=labels)(fn)
    return _function_tool(
        guarded,
        name_override=name_override or exposed_name(name),
        failure_error_function=kwargs.pop("failure_error_function", failure_error_function),
        **kwargs,
    )
