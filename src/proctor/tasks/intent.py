"""A task's declared intent, as ``task start`` and task templates check it: its purpose and its
explicit intent parameters (``--param NAME=VALUE``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from proctor.errors import ValidationError

__all__ = ["MAX_PARAMS", "MAX_PARAM_VALUE", "MAX_PURPOSE", "check_params"]

MAX_PURPOSE = 2000
#: explicit intent parameters of a task (``--param NAME=VALUE``): how many, and how long
MAX_PARAMS = 32
MAX_PARAM_VALUE = 2000
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def check_params(params: Mapping[str, str] | Sequence[tuple[str, str]] | None) -> tuple[tuple[str, str], ...]:
    """A task's intent parameters, checked and sorted by name: at most :data:`MAX_PARAMS`, names
    as identifiers (letters, digits, ``_``; at most 64), values of 1 to :data:`MAX_PARAM_VALUE`
    characters, each name once."""
    if not params:
        return ()
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    if len(pairs) > MAX_PARAMS:
        raise ValidationError(f"a task takes at most {MAX_PARAMS} parameters", field="params")
    out: dict[str, str] = {}
    for pair in pairs:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValidationError("a task parameter is NAME=VALUE", field="params")
        name, value = pair
        if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
            raise ValidationError(
                f"invalid parameter name `{str(name)[:80]}`: letters, digits and `_`, not starting"
                " with a digit, at most 64",
                field="params",
            )
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_PARAM_VALUE:
            raise ValidationError(
                f"parameter `{name}` needs a value of 1 to {MAX_PARAM_VALUE} characters", field="params"
            )
        if name in out:
            raise ValidationError(f"parameter `{name}` is given twice", field="params")
        out[name] = value.strip()
    return tuple(sorted(out.items()))
