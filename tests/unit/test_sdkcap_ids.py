"""Which request an oversized stdio line answers (proctor.gateway.sdkcap): found from its first or
last bytes when it is a response, never for a request or notification of the upstream's."""

from __future__ import annotations

import mcp_types as types

from proctor.gateway.config import upstream_from_mapping
from proctor.gateway.sdkcap import _EDGE, _refused, is_too_large

CFG = upstream_from_mapping({"namespace": "big", "command": "x", "max_answer_bytes": 1024})


def _edges(line: bytes) -> tuple[bytes, bytes]:
    return line[:_EDGE], line[-_EDGE:]


def test_the_id_of_an_oversized_response_is_found_at_either_end() -> None:
    body = b'"' + b"x" * 5000 + b'"'
    for line, rid in [
        (b'{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":' + body + b"}]}}", 7),
        (b'{"result":{"text":' + body + b',"id":3},"jsonrpc":"2.0","id":"a-9"}', "a-9"),
        (b'{"jsonrpc":"2.0","result":{"text":' + body + b'},"id":12,"jsonrpc":"2.0"}', 12),
    ]:
        refused = _refused(*_edges(line), CFG)
        assert refused is not None, line[:40]
        msg = refused.message
        assert isinstance(msg, types.JSONRPCError)
        assert msg.id == rid
        assert is_too_large(msg.error.message)
        assert "answered more than 1024 bytes" in msg.error.message


def test_an_oversized_request_or_notification_answers_nothing() -> None:
    body = b'"' + b"x" * 5000 + b'"'
    for line in [
        b'{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{"m":' + body + b"}}",
        b'{"jsonrpc":"2.0","method":"notifications/message","params":{"data":' + body + b',"id":4}}',
    ]:
        assert _refused(*_edges(line), CFG) is None
