"""LangChain tools (``langchain-core``), for LangGraph's ``ToolNode`` and LangChain agents.

- :func:`tool`: a plain function guarded as a ``StructuredTool`` (its schema from the signature);
- :func:`guard_tool`: an existing ``BaseTool`` (one loaded from an MCP server included) guarded
  as it is: same name, description and argument schema.

A refused call raises ``ToolException`` and the tool handles it (``handle_tool_error``): the model
reads the denial as the tool's error message (``ToolMessage`` with ``status="error"``) and the
graph goes on.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from proctor.errors import ApprovalPending, ProctorDenied
from proctor.sdk.guard import Guard, exposed_name

__all__ = ["guard_tool", "tool"]


def _tool_error(exc: ProctorDenied | ApprovalPending) -> Exception:
    from langchain_core.tools import ToolException

    return ToolException(exc.message)


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
    description: str | None = None,
) -> Any:
    """A ``StructuredTool`` of ``fn`` guarded as Proctor tool ``name`` (the model sees
    ``tool_name``, by default ``name`` with ``__`` for ``.``)."""
    from langchain_core.tools import StructuredTool

    inner = guard.tool(name, effect=effect, resource_arg=resource_arg, flags=flags, labels=labels)(fn)
    desc = description or inspect.getdoc(fn) or name
    if inspect.iscoroutinefunction(fn):
        ainner: Callable[..., Awaitable[Any]] = inner

        @functools.wraps(fn)
        async def arun(*args: Any, **kwargs: Any) -> Any:
            try:
                return await ainner(*args, **kwargs)
            except (ProctorDenied, ApprovalPending) as exc:
                raise _tool_error(exc) from exc

        return StructuredTool.from_function(
            coroutine=arun, name=tool_name or exposed_name(name), description=desc, handle_tool_error=True
        )

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return inner(*args, **kwargs)
        except (ProctorDenied, ApprovalPending) as exc:
            raise _tool_error(exc) from exc

    return StructuredTool.from_function(
        func=run, name=tool_name or exposed_name(name), description=desc, handle_tool_error=True
    )


def guard_tool(guard: Guard, base: Any, *, name: str) -> Any:
    """``base`` (a LangChain ``BaseTool``) guarded as Proctor tool ``name``: each call is decided
    with the arguments the model gave, then runs ``base`` and is reported. The tool must be known
    to Proctor (configured, or registered with :meth:`Guard.tool`'s ``effect`` in-process)."""
    from langchain_core.tools import StructuredTool

    def run(**kwargs: Any) -> Any:
        try:
            return guard.run(name, kwargs, lambda: base.invoke(kwargs))
        except (ProctorDenied, ApprovalPending) as exc:
            raise _tool_error(exc) from exc

    async def arun(**kwargs: Any) -> Any:
        try:
            return await guard.arun(name, kwargs, lambda: base.ainvoke(kwargs))
        except (ProctorDenied, ApprovalPending) as exc:
            raise _tool_error(exc) from exc

    return StructuredTool(
        name=base.name,
        description=base.description,
        args_schema=base.args_schema,
        func=run,
        coroutine=arun,
        handle_tool_error=True,
        response_format=getattr(base, "response_format", "content"),
    )
