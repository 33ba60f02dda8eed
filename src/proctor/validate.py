"""Checks shared by every reader of configuration and API input (``proctor.yaml``, ``upstreams.yaml``,
policy test cases, tool registrations, credential specs)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from proctor.errors import ProctorError, ValidationError

__all__ = ["check_keys"]


def check_keys(
    raw: Mapping[Any, Any],
    allowed: Collection[str],
    where: str,
    *,
    error: type[ProctorError] = ValidationError,
    prefix: str = "",
    list_allowed: bool = True,
    max_len: int | None = None,
) -> None:
    """Refuse a key of ``raw`` that is not in ``allowed`` (a typo must not go unnoticed), naming the
    first such key in sorted order, after ``prefix``, and the keys allowed.

    >>> check_keys({"name": 1, "efect": 2}, {"name", "effect"}, "tool")
    Traceback (most recent call last):
    ...
    proctor.errors.ValidationError: tool: unknown key `efect`; allowed: effect, name
    """
    unknown = [k for k in raw if k not in allowed]
    if not unknown:
        return
    first = sorted(str(k) for k in unknown)[0]
    if max_len is not None:
        first = first[:max_len]
    message = f"{where}: unknown key `{prefix}{first}`"
    if list_allowed:
        message += f"; allowed: {', '.join(sorted(allowed))}"
    raise error(message)
