"""The agent's side of a held call: what the gateway does while a call waits for a person.

When the pipeline's approval stage answers ``approval_required`` naming a request
(``Decision.approval_id``), the gateway *holds* the call for up to ``approvals.hold`` (default
30 s; 0 answers at once) instead of failing it, and then:

- **approved**: the call path runs again from the start, so the pipeline's approval stage redeems
  the grant (checked against the exact call and consumed once) and the upstream's real result is
  the answer; a grant someone else's identical call consumed first leaves the re-run held again,
  answered without a second hold;
- **denied** or **expired**: a tool error naming the request, who decided and why;
- **still pending**: a tool error naming the request and saying that the identical call (same
  tool, same arguments) may be retried and will complete once approved (the retry joins the
  same pending request; an altered argument is another call, and another request).

While it waits: a progress notification at once and every ``PROGRESS_EVERY_S`` when the client
gave a ``progressToken``. On a handshake-era connection (2025-11-25) whose client declared URL-mode
elicitation (``elicitation.url``), an ``elicitation/create`` with ``mode: "url"`` carrying only the
link to the request's page; on a 2026-07-28 connection whose client declared it, the first answer is
``input_required`` with the same URL elicitation, and the client's retry is held. **No answer of
the client decides anything**: an agent host can answer an elicitation itself, so the answer (and
any ``inputResponses``) is ignored; the decision is taken on the page, by an authenticated approver.

A call that needs no approval never reaches this module: the only cost on its path is the verdict
comparison the refusal already made. See docs/adr/0024.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mcp_types as types
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from proctor.approvals.model import MAX_WAITERS, ApprovalRequest, ApprovalState, WaitSlots
from proctor.policy.engine import Decision
from proctor.types import Verdict

if TYPE_CHECKING:
    from proctor.app import Proctor

__all__ = [
    "INPUT_KEY",
    "PROGRESS_EVERY_S",
    "Channel",
    "Holds",
    "NeedsInput",
]

log = logging.getLogger(__name__)

#: how often a held call tells its client it is still waiting (when it gave a progressToken)
PROGRESS_EVERY_S = 5.0
#: the key of the URL elicitation in a 2026-07-28 ``input_required`` answer
INPUT_KEY = "proctor_approval"
#: calls one gateway process holds at once, all agents together (each polls the store 4 times a
#: second through the store guard the call path shares); beyond it a call is answered at once
MAX_HELD = MAX_WAITERS


class NeedsInput(Exception):
    """Raised through the call path to answer ``input_required`` (2026-07-28) instead of a result."""

    def __init__(self, result: types.InputRequiredResult) -> None:
        super().__init__("input required")
        self.result = result


@dataclass(frozen=True, slots=True)
class Channel:
    """What a held call can tell its client while it waits (each None when it cannot)."""

    #: ``(progress, total, message)``: a progress notification (a no-op without a progressToken)
    progress: Callable[[float, float | None, str], Awaitable[None]] | None = None
    #: ``(message, url, elicitation_id)``: a URL-mode ``elicitation/create`` (2025-11-25)
    elicit_url: Callable[[str, str, str], Awaitable[Any]] | None = None
    #: ``elicitation_id``: ``notifications/elicitation/complete`` once the request is decided
    elicit_complete: Callable[[str], Awaitable[None]] | None = None
    #: answer ``input_required`` with a URL elicitation (2026-07-28, first round only)
    input_required: bool = False
    #: whether the client has gone (closed its connection): a held call it left is not run
    gone: Callable[[], Awaitable[bool]] | None = None


def holdable(decision: Decision) -> bool:
    """A decision the gateway may hold: ``approval_required`` with a filed request."""
    return decision.verdict is Verdict.APPROVAL_REQUIRED and decision.approval_id is not None


def sdk_channel(ctx: Any) -> Channel:
    """The channel of a request served by the SDK (``ServerRequestContext``), on either era."""
    session = ctx.session
    caps = session.client_capabilities
    url_mode = caps is not None and caps.elicitation is not None and caps.elicitation.url is not None
    modern = str(getattr(ctx, "protocol_version", "")) in MODERN_PROTOCOL_VERSIONS

    async def progress(done: float, total: float | None, message: str) -> None:
        with contextlib.suppress(Exception):  # best effort
            await session.report_progress(done, total, message)

    elicit = None
    complete = None
    if url_mode and not modern:

        async def elicit(message: str, url: str, elicitation_id: str) -> Any:
            return await session.elicit_url(message, url, elicitation_id, related_request_id=ctx.request_id)

        async def complete(elicitation_id: str) -> None:
            with contextlib.suppress(Exception):
                await session.send_notification(
                    types.ElicitCompleteNotification(
                        params=types.ElicitCompleteNotificationParams(elicitation_id=elicitation_id)
                    ),
                    related_request_id=ctx.request_id,
                )

    gone = None
    request = getattr(ctx, "request", None)  # the HTTP request (Starlette's), on HTTP transports
    if request is not None and callable(getattr(request, "is_disconnected", None)):

        async def gone() -> bool:
            try:
                return bool(await request.is_disconnected())
            except Exception:
                return False

    first_round = not answered(getattr(ctx, "params", None))
    return Channel(progress, elicit, complete, input_required=url_mode and modern and first_round, gone=gone)


def answered(params: Mapping[str, Any] | None) -> bool:
    """Whether this 2026-07-28 request is the client's retry after our ``input_required`` (what it
    answered is ignored: only that it was shown the link)."""
    if not isinstance(params, Mapping):
        return False
    responses = params.get("inputResponses")
    return isinstance(responses, Mapping) and INPUT_KEY in responses


class Holds:
    """Holds the calls of one gateway process that wait for approval."""

    def __init__(self, proctor: Proctor) -> None:
        self.proctor = proctor
        settings = proctor.settings
        self.hold_s = settings.approval_hold_s
        self.public_url = (settings.approval_public_url or f"http://{settings.host}:{settings.port}").rstrip(
            "/"
        )
        #: calls an agent may have held at once: as many as it may have pending requests
        #: (``approvals.max_pending``); identical calls join one request, so without this bound
        #: one agent could hold any number of calls, each polling the store
        self.slots = WaitSlots(settings.approval_max_pending, MAX_HELD)
        self.max_per_agent = self.slots.per_agent

    @property
    def held(self) -> dict[str, int]:
        """Calls held now, per agent."""
        return self.slots.held

    def link(self, approval_id: str) -> str:
        return f"{self.public_url}/approvals/{approval_id}"

    def input_required(self, decision: Decision) -> types.InputRequiredResult:
        """The 2026-07-28 answer that sends the person to the page (the client retries after)."""
        assert decision.approval_id is not None
        return types.InputRequiredResult(
            input_requests={
                INPUT_KEY: types.ElicitRequest(
                    params=types.ElicitRequestURLParams(
                        message=self._ask(decision), url=self.link(decision.approval_id)
                    )
                )
            }
        )

    def _ask(self, decision: Decision) -> str:
        who = decision.approval or "a person"
        return (
            f"This call waits for approval by {who}. Open the link to review it; the call runs once approved."
        )

    async def hold(self, decision: Decision, channel: Channel, agent: str = "") -> ApprovalRequest | None:
        """Wait for the request ``decision`` names, up to ``approvals.hold``; the request as it is
        then (None when holding is off, ``agent`` already holds :attr:`max_per_agent` calls or the
        process :data:`MAX_HELD`, or the request could not be read)."""
        approval_id = decision.approval_id
        if approval_id is None or self.hold_s <= 0:
            return None
        if channel.input_required:
            raise NeedsInput(self.input_required(decision))
        if not self.slots.acquire(agent):
            return None  # answered at once: the identical call may be retried
        try:
            return await self._hold(decision, channel, approval_id)
        finally:
            self.slots.release(agent)

    async def _hold(self, decision: Decision, channel: Channel, approval_id: str) -> ApprovalRequest | None:
        p = self.proctor
        link = self.link(approval_id)
        elicitation: asyncio.Task[Any] | None = None
        elicitation_id = f"{approval_id}.{decision.decision_id}"
        if channel.elicit_url is not None:
            # the answer is never read: whatever the client says, the page decides
            elicitation = asyncio.ensure_future(channel.elicit_url(self._ask(decision), link, elicitation_id))
            elicitation.add_done_callback(_ignore)
        start = p.clock.monotonic()
        request: ApprovalRequest | None = None
        try:
            while True:
                waited = p.clock.monotonic() - start
                left = self.hold_s - waited
                if channel.progress is not None:
                    await channel.progress(
                        round(waited, 1), self.hold_s, f"waiting for approval {approval_id}: {link}"
                    )
                if left <= 0:
                    break
                request = await p.approvals.wait(
                    approval_id, min(left, PROGRESS_EVERY_S), run=p.store_guard.run
                )
                if request.state is not ApprovalState.PENDING:
                    break
                if channel.gone is not None and await channel.gone():
                    break  # nobody waits for this call any more
        except Exception as exc:  # the store could not be read: answered as still waiting
            log.warning("could not follow approval %s: %s", approval_id, type(exc).__name__)
        finally:
            if elicitation is not None and not elicitation.done():
                elicitation.cancel()
        if channel.gone is not None and await channel.gone():
            # the client closed its connection while the call was held: the call is not run for
            # nobody (its result would be lost, and it would spend the grant the agent's identical
            # retry needs); the request stays as it is for that retry
            return None
        if (
            channel.elicit_complete is not None
            and request is not None
            and request.state is not ApprovalState.PENDING
        ):
            await channel.elicit_complete(elicitation_id)
        return request

    def answer(self, decision: Decision, request: ApprovalRequest | None, refused: str) -> str:
        """The tool error text of a held call that does not run now (``request`` as it ended;
        ``refused``: the refusal's own text, naming who must approve and why)."""
        approval_id = decision.approval_id
        if request is not None and request.state is ApprovalState.DENIED:
            why = f": {request.reason}" if request.reason else ""
            return (
                f"Proctor denied this call: approval {approval_id} was denied by {request.decided_by}{why}"
                f" (decision {decision.decision_id})"
            )
        if request is not None and request.state is ApprovalState.EXPIRED:
            return (
                f"Proctor denied this call: approval {approval_id} expired without a decision"
                f" (decision {decision.decision_id})"
            )
        if request is not None and request.state in (ApprovalState.APPROVED, ApprovalState.USED):
            return (
                f"{refused} Approval {approval_id} was granted, but its grant was used already by an"
                " identical call: this call was not run."
            )
        named = "" if str(approval_id) in refused else f" It waits for approval {approval_id}."
        return (
            f"{refused}{named} It was not run. The identical call (same tool, same arguments) may be"
            f" retried: it will complete once approved. Review: {self.link(str(approval_id))}"
        )


def _ignore(task: asyncio.Task[Any]) -> None:
    """An elicitation's answer, or its failure, is never read (see the module docstring)."""
    if not task.cancelled():
        task.exception()
