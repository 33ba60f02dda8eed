"""The cap on an HTTP upstream's answer on the lean path (``upstreams[].max_answer_bytes``; the SDK
path: :mod:`proctor.gateway.sdkcap`).

The lean transport (:mod:`proctor.gateway.http1`) refuses any response over its own ceiling; an
upstream's answer is also counted here, as it arrives, against the upstream's configured cap, so
an answer larger than the operator allows is dropped unread (never buffered whole first) with a
:class:`~proctor.errors.UpstreamAnswerTooLarge` the call path turns into a failed, audited call.
The time an answer may take is the call's timeout (the whole exchange runs within it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from proctor.errors import UpstreamAnswerTooLarge
from proctor.gateway.config import UpstreamConfig
from proctor.gateway.http1 import Http1Response

__all__ = ["answer_chunks", "read_answer", "too_large"]


def too_large(cfg: UpstreamConfig) -> UpstreamAnswerTooLarge:
    return UpstreamAnswerTooLarge(
        f"upstream `{cfg.namespace}` answered more than {cfg.max_answer_bytes} bytes"
        " (its `max_answer_bytes`): the answer was dropped"
    )


async def answer_chunks(resp: Http1Response, cfg: UpstreamConfig) -> AsyncIterator[bytes]:
    """``resp``'s body as it arrives, refused once it passes ``cfg.max_answer_bytes``."""
    seen = 0
    async for chunk in resp.chunks():
        seen += len(chunk)
        if seen > cfg.max_answer_bytes:
            raise too_large(cfg)
        yield chunk


async def read_answer(resp: Http1Response, cfg: UpstreamConfig) -> bytes:
    """``resp``'s whole body, refused once it passes ``cfg.max_answer_bytes``."""
    return b"".join([c async for c in answer_chunks(resp, cfg)])
