"""``leaf_values``: the flat fast path gives exactly what the general walk gives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from proctor.flow.provenance import _FLAT_LEAVES, _walk_leaves, leaf_values

SHAPES: list[dict[Any, Any]] = [
    {},
    {"b": 1, "a": "x", "c": None, "d": True, "e": 1.5},
    {"to": ["a@x.example", "b@y.example"], "subject": "hi", "body": ""},
    {"t": ("x", 2), "u": []},
    {"n": {"b": 1, "a": [1, {"c": "d"}]}, "m": "z"},  # nested: the general walk
    {"l": [[1, 2], "x"], "a": 1},
    {"d": Decimal("1.5"), "a": "x"},  # a leaf of another type
    {2: "int key", "10": "str key", "a": [None]},
    {f"k{i:03}": i for i in range(_FLAT_LEAVES + 5)},  # past the flat path's bound
    {"big": list(range(_FLAT_LEAVES + 1))},
    {"a": list(range(_FLAT_LEAVES - 1)), "b": 1, "c": 2},
]


@pytest.mark.parametrize("args", SHAPES)
def test_leaf_values_flat_path_is_the_walk(args: dict[Any, Any]) -> None:
    assert list(leaf_values(args)) == list(_walk_leaves(args, sorted(args, key=str)))
