"""Multi-round-trip requests (MCP 2026-07-28, SEP-2322) through the gateway's lean path.

An upstream that needs input mid-call answers ``resultType: "input_required"`` with
``inputRequests`` (elicitation, sampling, roots) and an opaque ``requestState``; the client retries
the same ``tools/call`` carrying ``inputResponses`` and the state. Through the gateway (ADR 0031,
amendment of 2026-12-05):

- **Every round is a new call.** A retry goes through the whole call path again (identity, task,
  the Cedar decision with its arguments, a hold, the flow stage, budgets, the audit records): a
  retry of a call policy now denies is denied, whatever the first round was. Its decision record
  carries ``continuation`` (that it is one, which round, how many responses; never a value).
- **The upstream's state is the upstream's, sealed to where it came from.** The gateway never
  reads it; it wraps it in its own envelope, authenticated with a key derived from the workspace
  key (HMAC-SHA256), that binds it to the task, the upstream, the tool the client called, a digest
  of the arguments and an expiry. A retry whose state does not open for exactly that call is refused
  (-32602) before anything is decided or sent: a state one upstream minted is only ever sent back
  to that upstream, for that tool and task.
- **Client input is bounded.** ``requestState`` and ``inputResponses`` have size limits (-32602
  beyond them, naming the limit); the gateway's own input key (a held call's approval link,
  :data:`~proctor.gateway.hold.INPUT_KEY`) is never sent upstream.
- **So is the upstream.** A state is handed out only when its sealed form is one the gateway takes
  back (at most :data:`MAX_REQUEST_STATE` characters, whatever the upstream's characters cost to
  encode), and an exchange ends after :data:`MAX_ROUNDS` rounds: an upstream that asks again past
  either answers a tool error (upstream error), not a state the client can never use or a loop.
- **A held retry waits.** A retry that continues the upstream's exchange, held for approval, is held
  waiting as a call of a client without URL elicitation is (ADR 0024), never answered with the
  gateway's own ``input_required``: that would lose the upstream's state and the client's answers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import functools
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types as types
import orjson
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from proctor.gateway import wire
from proctor.gateway.calls import Caller, LeanLeg, SdkLeg
from proctor.gateway.config import UpstreamConfig
from proctor.gateway.hold import INPUT_KEY, Channel
from proctor.gateway.lean import LeanHttpUpstream, LeanUpstreamError

if TYPE_CHECKING:
    from proctor.app import Proctor

log = logging.getLogger(__name__)

__all__ = [
    "MAX_INPUT_RESPONSES",
    "MAX_INPUT_RESPONSES_BYTES",
    "MAX_REQUEST_STATE",
    "MAX_ROUNDS",
    "MAX_UPSTREAM_STATE",
    "STATE_TTL_S",
    "Continuation",
    "ModernLeanLeg",
    "ModernSdkLeg",
    "Retry",
    "StateSeal",
    "audit_refused",
    "client_capabilities",
    "continuation_of",
    "continues_upstream",
    "input_required_result",
    "is_modern",
    "modern_leg",
    "open_retry",
    "relay_binding",
    "sdk_request",
    "upstream_id",
]

#: the longest ``requestState`` a client may present (characters): the gateway's envelope around
#: an upstream state of at most :data:`MAX_UPSTREAM_STATE`
MAX_REQUEST_STATE = 96 * 1024
#: the longest ``requestState`` an upstream may hand out through the gateway (characters)
MAX_UPSTREAM_STATE = 64 * 1024
#: the most ``inputResponses`` entries one retry may carry, and their size as JSON (bytes)
MAX_INPUT_RESPONSES = 32
MAX_INPUT_RESPONSES_BYTES = 256 * 1024
#: the most ``input_required`` answers one exchange (a call and its retries) is given: an upstream
#: that asks again after that many is answered as a malformed answer (it would ask forever)
MAX_ROUNDS = 16
#: how long a state the gateway handed out may be presented back (seconds)
STATE_TTL_S = 900.0
#: the client capabilities a 2026-07-28 call declares upstream (those input requests need)
FORWARDED_CAPABILITIES = ("elicitation", "roots", "sampling")
#: the methods an upstream's input request may name (InputRequest, 2026-07-28)
INPUT_METHODS = frozenset({"elicitation/create", "sampling/createMessage", "roots/list"})
_PREFIX = "pgw1."
_META_CAPS = "io.modelcontextprotocol/clientCapabilities"


def _refused(message: str) -> MCPError:
    return MCPError(INVALID_PARAMS, message)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def args_digest(args: Mapping[str, Any]) -> str:
    """A digest of a call's arguments (what a state is bound to, never the arguments)."""
    try:
        raw = orjson.dumps(dict(args), option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:
        raw = json.dumps(dict(args), sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Continuation:
    """What a 2026-07-28 ``tools/call`` carries of a multi-round-trip exchange (as the client sent
    it, bounded; the state still sealed)."""

    #: the responses to send upstream (the gateway's own input key removed), or None
    input_responses: dict[str, Any] | None
    #: the gateway's sealed state as presented, or None
    request_state: str | None
    #: how many responses the client sent (the gateway's own included)
    responses: int

    def record(self, round_no: int | None) -> dict[str, Any]:
        """The decision record's ``continuation``: that this call continues an exchange (never a
        value the client sent)."""
        out: dict[str, Any] = {
            "input_responses": self.responses,
            "request_state": self.request_state is not None,
        }
        if round_no is not None:
            out["round"] = round_no
        return out


def continuation_of(params: Mapping[str, Any]) -> Continuation | None:
    """The exchange a ``tools/call``'s params continue, or None for a first round. Raises
    MCPError(-32602) for a ``requestState`` or ``inputResponses`` of the wrong type or size."""
    responses = params.get("inputResponses")
    state = params.get("requestState")
    if responses is None and state is None:
        return None
    if state is not None:
        if not isinstance(state, str):
            raise _refused("requestState must be a string")
        if len(state) > MAX_REQUEST_STATE:
            raise _refused(
                f"requestState is longer than the gateway accepts ({MAX_REQUEST_STATE} characters)"
            )
    forwarded: dict[str, Any] | None = None
    count = 0
    if responses is not None:
        if not isinstance(responses, dict):
            raise _refused("inputResponses must be an object")
        count = len(responses)
        if count > MAX_INPUT_RESPONSES:
            raise _refused(f"inputResponses has more than {MAX_INPUT_RESPONSES} entries")
        try:
            size = len(wire.dumps(responses))
        except (TypeError, ValueError):
            raise _refused("inputResponses cannot be sent on") from None
        if size > MAX_INPUT_RESPONSES_BYTES:
            raise _refused(
                f"inputResponses is larger than the gateway accepts ({MAX_INPUT_RESPONSES_BYTES} bytes)"
            )
        if not all(isinstance(v, dict) for v in responses.values()):
            raise _refused("each inputResponses entry must be an object")
        forwarded = {k: v for k, v in responses.items() if k != INPUT_KEY} or None
    return Continuation(forwarded, state, count)


def client_capabilities(params: Mapping[str, Any]) -> dict[str, Any]:
    """The client capabilities a 2026-07-28 request declared that the gateway declares upstream
    for it (those an upstream's input requests need; each as declared, or ``{}``)."""
    meta = params.get("_meta")
    caps = meta.get(_META_CAPS) if isinstance(meta, dict) else None
    if not isinstance(caps, dict):
        return {}
    return {c: (caps[c] if isinstance(caps[c], dict) else {}) for c in FORWARDED_CAPABILITIES if c in caps}


class StateSeal:
    """Seals an upstream's ``requestState`` to the call it answered (see the module docstring)."""

    def __init__(self, key: bytes, now: Callable[[], float]) -> None:
        self._key = key
        self._now = now

    @classmethod
    def for_proctor(cls, proctor: Proctor) -> StateSeal:
        """Keyed by the workspace key (so every gateway process of the workspace opens what another
        sealed), or by a key of this process when the workspace has none."""
        key: bytes | None = None
        try:
            store = proctor.credentials.secret_store() if proctor.workspace is not None else None
            if store is not None:
                key = store.derive("gateway-request-state")
        except Exception:
            key = None
        return cls(key or os.urandom(32), proctor.clock.now)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def _bound(self, binding: tuple[str, str, str, str]) -> str:
        """What the envelope holds of ``binding``: a keyed digest, so the client (who can read the
        envelope) learns nothing of it (the task, where the upstream is, the arguments' digest)."""
        raw = json.dumps(list(binding), separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        )
        return _b64(hmac.new(self._key, b"binding\0" + raw, hashlib.sha256).digest()[:18])

    def seal(
        self,
        binding: tuple[str, str, str, str],
        upstream_state: str | None,
        round_no: int,
        exchange: str | None = None,
    ) -> str:
        """The state handed to the client: the upstream's (or none) bound to ``binding`` (task,
        upstream as :func:`upstream_id` names it, exposed tool name or relayed method, arguments
        digest), which the envelope holds only as a keyed digest. ``exchange``: the pending exchange
        (proctor.gateway.xrev) the state continues, held by one gateway process."""
        body: dict[str, Any] = {
            "b": self._bound(binding),
            "r": round_no,
            "e": round(self._now() + STATE_TTL_S),
            "s": upstream_state,
        }
        if exchange is not None:
            body["x"] = exchange
        # UTF-8, not \u escapes: a state of non-ASCII characters costs what it weighs, not up to six
        # times its length (a lone surrogate cannot be encoded: ValueError, a malformed answer)
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        return _PREFIX + _b64(payload) + "." + _b64(self._mac(payload))

    def open(self, token: str, binding: tuple[str, str, str, str]) -> tuple[str | None, int]:
        """The upstream's state inside ``token`` and the round it answered; raises MCPError(-32602)
        when the gateway did not seal it, it was altered, it has expired or it was sealed for
        another call (task, upstream, tool or arguments)."""
        state, round_no, _x = self.open_exchange(token, binding)
        return state, round_no

    def open_exchange(
        self, token: str, binding: tuple[str, str, str, str]
    ) -> tuple[str | None, int, str | None]:
        """:meth:`open`, and the pending exchange the state names (or None)."""
        bad = _refused(
            "requestState was not issued by this gateway for this call (altered, expired, or for "
            "another tool, task or arguments): start the call again without it"
        )
        if not token.startswith(_PREFIX) or token.count(".") != 2:
            raise bad
        _p, data, mac = token.split(".")
        try:
            payload, tag = _unb64(data), _unb64(mac)
        except (ValueError, TypeError):
            raise bad from None
        if not hmac.compare_digest(tag, self._mac(payload)):
            raise bad
        body = json.loads(payload)
        if (
            not hmac.compare_digest(str(body.get("b")).encode(), self._bound(binding).encode())
            or not isinstance(body.get("e"), int)
            or body["e"] < self._now()
        ):
            raise bad
        state = body.get("s")
        round_no = body.get("r")
        exchange = body.get("x")
        return (
            (state if isinstance(state, str) else None),
            (round_no if isinstance(round_no, int) else 1),
            (exchange if isinstance(exchange, str) else None),
        )


def input_required_result(
    result: dict[str, Any],
    seal: StateSeal,
    binding: tuple[str, str, str, str],
    round_no: int,
    exchange: str | None = None,
) -> dict[str, Any]:
    """An upstream's ``input_required`` answer as the client gets it: its input requests as they
    came, its state sealed to the call (a state of its own is added when it sent none, so the round
    is counted). Raises ValueError for an answer that is not one."""
    requests = result.get("inputRequests")
    state = result.get("requestState")
    if requests is not None:
        if not isinstance(requests, dict) or len(requests) > MAX_INPUT_RESPONSES:
            raise ValueError("malformed inputRequests")
        for key, req in requests.items():
            if key == INPUT_KEY or not isinstance(req, dict) or req.get("method") not in INPUT_METHODS:
                raise ValueError("malformed input request")
    if state is not None and (not isinstance(state, str) or len(state) > MAX_UPSTREAM_STATE):
        raise ValueError("malformed or oversized requestState")
    if not requests and state is None:
        raise ValueError("input_required with neither inputRequests nor requestState")
    if round_no > MAX_ROUNDS:
        raise ValueError(f"more than {MAX_ROUNDS} rounds of input_required")
    out: dict[str, Any] = {"resultType": "input_required"}
    if requests:
        out["inputRequests"] = requests
    try:
        sealed = seal.seal(binding, state, round_no, exchange)
    except UnicodeEncodeError:  # a lone surrogate: not a string UTF-8 (or JSON) can carry
        raise ValueError("requestState cannot be encoded") from None
    if len(sealed) > MAX_REQUEST_STATE:
        # the client could never present it back (continuation_of refuses it): the exchange
        # would end in a -32602 on its retry, after the upstream was asked and answered
        raise ValueError("requestState too large to seal")
    out["requestState"] = sealed
    return out


class ModernLeanLeg(LeanLeg):
    """The lean leg of a 2026-07-28 ``tools/call``: to an upstream that takes 2026-07-28 requests
    the call goes as one, declaring the client's capabilities and carrying its retry's input, and
    an ``input_required`` answer comes back to the client (its state sealed); to one that does not,
    as any lean call (no input request of it could reach the client)."""

    def __init__(
        self,
        channel: Channel | None,
        seal: StateSeal,
        binding: tuple[str, str, str, str],
        capabilities: dict[str, Any],
        cont: Continuation | None,
        upstream_state: str | None,
        round_no: int,
    ) -> None:
        super().__init__(channel)
        self._seal = seal
        self._binding = binding
        self._capabilities = capabilities
        self._responses = None if cont is None else cont.input_responses
        self.input_responses = self._responses  # traced by the flow stage (proctor.flow.responses)
        self._upstream_state = upstream_state
        self._round = round_no
        self.continuation = None if cont is None else cont.record(round_no or None)

    async def send(
        self, session: Any, cfg: UpstreamConfig, tool: str, args: Mapping[str, Any], grace: Any
    ) -> dict[str, Any]:
        up: LeanHttpUpstream = session
        async with asyncio.timeout(cfg.timeout_s) as window:
            if grace is not None:
                grace.window = window
            if not await up.speaks_modern():
                return await up.call_tool(tool, dict(args))
            result = await up.call_tool_modern(
                tool, dict(args), self._capabilities, self._responses, self._upstream_state
            )
        if result.get("resultType") != "input_required":
            return result
        try:
            return input_required_result(result, self._seal, self._binding, self._round + 1)
        except ValueError as exc:
            raise LeanUpstreamError(
                f"upstream `{cfg.namespace}` sent a malformed input_required answer ({exc})",
                {"code": -32603, "message": "malformed input_required answer"},
            ) from None


def continues_upstream(cont: Continuation | None) -> bool:
    """Whether a request continues an upstream's exchange (a ``requestState`` or input for the
    upstream). Such a retry, held for approval, is held waiting, never answered with the approval
    link: that ``input_required`` carries no ``requestState``, so the client's next retry would carry
    neither the upstream's state nor its answers, and the upstream would start over (held again:
    the exchange would never end)."""
    return cont is not None and (cont.request_state is not None or bool(cont.input_responses))


def modern_leg(
    params: Mapping[str, Any],
    channel: Channel | None,
    seal: StateSeal,
    task_id: str,
    upstream: str,
    name: str,
) -> ModernLeanLeg:
    """The leg of one 2026-07-28 lean call; raises MCPError(-32602) for a retry whose
    ``requestState`` or ``inputResponses`` the gateway refuses (see :func:`continuation_of`,
    :meth:`StateSeal.open`). ``upstream``: the tool's upstream as :func:`upstream_id` names it."""
    args = params.get("arguments") or {}
    binding = (task_id, upstream, name, args_digest(args if isinstance(args, Mapping) else {}))
    cont = continuation_of(params)
    upstream_state: str | None = None
    round_no = 0
    if cont is not None and cont.request_state is not None:
        upstream_state, round_no, exchange = seal.open_exchange(cont.request_state, binding)
        if exchange is not None:  # a translated exchange is held on the SDK's entry (xrev), never here
            raise _refused("requestState continues an exchange this path does not hold: start the call again")
    if continues_upstream(cont):
        channel = None
    return ModernLeanLeg(channel, seal, binding, client_capabilities(params), cont, upstream_state, round_no)


# the SDK's 2026-07-28 entry ----------------------------------------------------------------------
# What the lean path does for a ``tools/call`` (above), for the requests the SDK's stateless entry
# serves: a ``tools/call`` the lean path leaves to it (a progress token, ``Mcp-Param-*`` headers,
# an https or stdio upstream, the lean path off) and the other requests that may answer
# ``input_required`` (``prompts/get``, ``resources/read``). Same seal, same bounds, same refusal.


def is_modern(ctx: Any) -> bool:
    """Whether the SDK serves this request at 2026-07-28 (stateless; ``input_required`` allowed)."""
    return str(getattr(ctx, "protocol_version", "")) in MODERN_PROTOCOL_VERSIONS


def upstream_id(cfg: UpstreamConfig | None) -> str:
    """The upstream a state is bound to: its namespace and a digest of where it is (transport, URL
    or command and arguments). A reload that points a namespace at another server must not send
    the first server's state (which may hold what the person answered it) to the second."""
    if cfg is None:
        return ""
    where = json.dumps([cfg.transport, cfg.url, cfg.command, list(cfg.args)], separators=(",", ":"))
    return f"{cfg.namespace}@{hashlib.sha256(where.encode()).hexdigest()[:16]}"


def relay_binding(
    task_id: str, cfg: UpstreamConfig, method: str, args: Mapping[str, Any]
) -> tuple[str, str, str, str]:
    """What a state handed out for a relayed ``method`` (``prompts/get``, ``resources/read``) is
    bound to: the task, the upstream (:func:`upstream_id`), the method (never a tool's exposed
    name: those hold no ``/``) and a digest of the request as decided (the prompt's or resource's
    URI and arguments)."""
    return (task_id, upstream_id(cfg), method, args_digest(args))


@dataclass(frozen=True, slots=True)
class Retry:
    """A 2026-07-28 request's multi-round-trip input, checked and its state opened."""

    seal: StateSeal
    binding: tuple[str, str, str, str]
    #: the continuation as the client sent it (bounded), or None for a first round
    cont: Continuation | None
    #: the upstream's own state, out of the gateway's seal
    upstream_state: str | None
    #: the round the presented state answered (0: none presented)
    round_no: int
    #: the client capabilities declared upstream for it
    capabilities: dict[str, Any]
    #: the responses as the SDK client sends them (validated as input responses), or None
    typed: dict[str, Any] | None = None
    #: the pending exchange (proctor.gateway.xrev) the state names, or None
    exchange: str | None = None

    def record(self) -> dict[str, Any] | None:
        """The decision record's ``continuation``."""
        return None if self.cont is None else self.cont.record(self.round_no or None)

    @property
    def raw_responses(self) -> dict[str, Any] | None:
        """The responses to send upstream as JSON (the gateway's own key removed)."""
        return None if self.cont is None else self.cont.input_responses

    def sealed(self, result: Mapping[str, Any], exchange: str | None = None) -> types.InputRequiredResult:
        """An upstream's ``input_required`` answer (JSON), its state sealed to this request; raises
        MCPError(-32603) for one that is malformed (what the upstream sent is not passed on)."""
        try:
            out = input_required_result(dict(result), self.seal, self.binding, self.round_no + 1, exchange)
            return types.InputRequiredResult.model_validate(out)
        except ValueError as exc:
            raise MCPError(INTERNAL_ERROR, f"malformed input_required answer ({str(exc)[:100]})") from None


@functools.cache
def _responses_adapter() -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(types.InputResponses)


def open_retry(params: Mapping[str, Any], seal: StateSeal, binding: tuple[str, str, str, str]) -> Retry:
    """Check a 2026-07-28 request's ``inputResponses``/``requestState`` (JSON params, as sent) and
    open its state for ``binding``; raises MCPError(-32602) as the lean path does
    (:func:`continuation_of`, :meth:`StateSeal.open`)."""
    cont = continuation_of(params)
    upstream_state: str | None = None
    round_no = 0
    exchange: str | None = None
    if cont is not None and cont.request_state is not None:
        upstream_state, round_no, exchange = seal.open_exchange(cont.request_state, binding)
    typed: dict[str, Any] | None = None
    if cont is not None and cont.input_responses:
        try:
            typed = dict(_responses_adapter().validate_python(cont.input_responses))
        except Exception:
            raise _refused("inputResponses holds an entry that is not an input response") from None
    return Retry(seal, binding, cont, upstream_state, round_no, client_capabilities(params), typed, exchange)


def sdk_request(params: Any) -> dict[str, Any]:
    """The JSON params of a request the SDK parsed (``inputResponses``, ``requestState`` and
    ``_meta`` by their wire names)."""
    if params is None:
        return {}
    dumped: dict[str, Any] = params.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


async def audit_refused(proctor: Proctor, caller: Caller, method: str, reason: str = "") -> None:
    """Record a 2026-07-28 request refused for its multi-round-trip input (``gateway.refused``,
    ``error: request_state_invalid``), as the lean path records it."""
    try:
        await proctor.audit.append_async(
            "gateway.refused",
            {
                "error": "request_state_invalid",
                "reason": reason or "invalid multi-round-trip input",
                "method": method,
            },
            agent=str(caller.agent),
            task=str(caller.task_id),
        )
    except Exception:
        log.exception("could not audit a refused gateway request")


class ModernSdkLeg(SdkLeg):
    """The SDK leg of a 2026-07-28 ``tools/call`` the lean path leaves to the SDK's entry: the
    retry's ``inputResponses`` and the upstream's own state (out of the gateway's seal) go to the
    upstream with the call, and an ``input_required`` answer comes back to the client with its
    state sealed. Progress is relayed as on the SDK leg. (An upstream the SDK leg speaks to with
    the handshake cannot answer ``input_required``: the SDK refuses it there.)"""

    def __init__(self, ctx: ServerRequestContext[Any, Any], retry: Retry) -> None:
        super().__init__(ctx)
        self._retry = retry
        self._responses = retry.typed
        self.input_responses = retry.raw_responses  # traced by the flow stage (proctor.flow.responses)
        self.continuation = retry.record()

    async def send(
        self, session: Any, cfg: UpstreamConfig, tool: str, args: Mapping[str, Any], grace: Any
    ) -> Any:
        ctx = self.ctx

        async def relay(progress: float, total: float | None, message: str | None) -> None:
            with contextlib.suppress(Exception):  # progress is best effort
                await ctx.session.report_progress(progress, total, message)

        with anyio.fail_after(cfg.timeout_s):
            result = await session.session.call_tool(
                tool,
                dict(args),
                progress_callback=relay,
                input_responses=self._responses,
                request_state=self._retry.upstream_state,
                allow_input_required=True,
            )
        if isinstance(result, types.InputRequiredResult):
            return self._retry.sealed(result.model_dump(mode="json", by_alias=True, exclude_none=True))
        if not isinstance(result, types.CallToolResult):
            raise MCPError(INTERNAL_ERROR, "the upstream answered with a result the gateway does not relay")
        return result.model_copy(update={"meta": None})

    def channel(self) -> Channel:
        channel = super().channel()
        if continues_upstream(self._retry.cont):
            return dataclasses.replace(channel, input_required=False)  # see continues_upstream
        return channel

    def is_error(self, result: Any) -> bool:
        return isinstance(result, types.CallToolResult) and bool(result.is_error)

    def summary(self, result: Any) -> tuple[list[Any], Any, bool]:
        if isinstance(result, types.InputRequiredResult):
            # what reaches the client is the upstream's input requests: labelled and digested as output
            dumped = result.model_dump(mode="json", by_alias=True, exclude_none=True)
            return [], {"inputRequests": dumped.get("inputRequests")}, False
        return super().summary(result)

    def result_type(self, result: Any) -> str | None:
        return "input_required" if isinstance(result, types.InputRequiredResult) else None
