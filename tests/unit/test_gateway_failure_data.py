"""What of an upstream's JSON-RPC error ``data`` a relayed request's error passes on: only the
resource URI a resource-not-found error names (SEP-2164), nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from proctor.gateway.calls import MAX_ERROR_URI, failure
from proctor.gateway.config import upstream_from_mapping

CFG = upstream_from_mapping({"namespace": "up", "url": "http://127.0.0.1:9/mcp"})


def test_the_uri_a_resource_not_found_error_names_is_kept() -> None:
    f = failure(MCPError(-32602, "Resource not found", {"uri": "test://missing", "secret": "x"}), CFG)
    assert (f.status, f.code, f.detail, f.uri) == (
        "upstream_error",
        -32602,
        "Resource not found",
        "test://missing",
    )


@pytest.mark.parametrize(
    "data",
    [None, "test://missing", {"uri": 7}, {"other": "test://missing"}, {"uri": "x" * (MAX_ERROR_URI + 1)}],
)
def test_no_other_data_is_kept(data: Any) -> None:
    assert failure(MCPError(-32602, "nope", data), CFG).uri is None
