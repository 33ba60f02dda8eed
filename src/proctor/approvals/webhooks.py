"""Outbound webhooks: each new approval request is announced to every configured URL, with a link
to the request's page (``{approvals.public_url}/approvals/{id}``). See docs/adr/0024.

Configured in ``proctor.yaml``::

    approvals:
      public_url: https://proctor.example.com
      webhooks:
        - name: payments-slack
          format: slack                 # or json (the default)
          url_secret: slack-hook-url    # a Slack incoming webhook URL is itself a secret
        - name: ticketing
          url: https://tickets.example.com/hooks/proctor
          secret: ticketing-webhook     # HMAC key, from the secrets store (or secret_env: VAR)

**What is sent.** ``json``: ``{"event": "approval.requested", "delivery", "url", "approval"}`` where
``approval`` holds the request's public fields (agent, task, tool, effects, policies, reasons, who
may decide, its times): never the arguments, nor their digests (a digest of a small argument, an
amount, can be guessed). ``slack``: ``text`` and ``blocks`` with a button linking to the page. The
body is the same on every attempt; ``Proctor-Delivery`` (``<approval id>/<webhook name>``) lets a
receiver drop a repeat.

**Signature.** With a secret, ``Proctor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>." + body)>``. A receiver recomputes the HMAC over the raw body it received, compares it in
constant time, and refuses a ``t`` more than 5 minutes from its own clock (replay window);
:func:`verify_signature` does exactly that. A ``json`` webhook needs a secret (a receiver must be
able to tell a forged announcement, whose link could lead anywhere); a ``slack`` one may go without.

**Delivery.** :class:`WebhookDispatcher` runs in ``proctor serve``. It is driven by the store: each
round it lists the pending requests, files a delivery (:meth:`Store.add_webhook_deliveries`) for each
(request, webhook) that has none, claims the due ones and sends them. A crash loses nothing: a request
with no delivery row is filed on the next round of any serve process, and a claim left behind runs out
and is sent again (at least once). Network errors, ``429`` and ``5xx`` are retried with exponential
backoff and jitter (``Retry-After`` honoured up to the cap); six attempts span about five minutes by
default; any other answer, a redirect included, ends the delivery (``failed``). A request decided or
expired before its turn is not announced (``obsolete``). Each attempt's outcome is audited
(``approval.webhook``). Nothing here sits on the path of a decision or of a held call.

**Targets.** ``http(s)`` only. The host is resolved on each attempt and every address it resolves to
must be public: loopback, private, link-local (cloud metadata), shared and reserved addresses are
refused unless the webhook says ``allow_private_network: true`` (an in-house chat server; the tests'
receiver on 127.0.0.1). The connection goes to the address that was checked (the name is not
resolved twice), so DNS rebinding cannot turn a public name into an internal target.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import random
import re
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from proctor.approvals.model import ApprovalRequest, ApprovalState
from proctor.audit.log import AuditLog
from proctor.clock import Clock
from proctor.errors import UnknownApproval, ValidationError
from proctor.store.base import Store, WebhookAttempt, WebhookDelivery
from proctor.validate import check_keys

if TYPE_CHECKING:  # httpx is imported when a webhook is sent: proctor.config imports this module
    import httpx

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_S",
    "WEBHOOK_KEYS",
    "RequestSource",
    "WebhookDispatcher",
    "WebhookTarget",
    "approval_link",
    "json_payload",
    "parse_webhooks",
    "sign",
    "slack_payload",
    "verify_signature",
]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Proctor-Signature"
#: how far a signature's ``t`` may be from the receiver's clock (the replay window)
SIGNATURE_TOLERANCE_S = 300
FORMATS = ("json", "slack")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
#: one step of a send (connect, a write, a read) and the whole of it
STEP_TIMEOUT_S = 5.0
SEND_DEADLINE_S = 10.0
#: a delivering process holds its claim this long (a crash mid-send is retried after it)
CLAIM_S = 60.0
#: deliveries claimed (and sent concurrently) per round
BATCH = 8
_EVENT = "approval.requested"


@dataclass(frozen=True)
class WebhookTarget:
    """One configured webhook. ``url`` or ``url_secret`` (the name of a stored secret holding the
    URL); ``secret`` (a stored secret's name) or ``secret_env`` (an environment variable) for the
    signature key."""

    name: str
    format: str = "json"
    url: str | None = None
    url_secret: str | None = None
    secret: str | None = None
    secret_env: str | None = None
    allow_private_network: bool = False

    def __repr__(self) -> str:  # never the URL: it may carry a token
        return f"WebhookTarget(name={self.name!r}, format={self.format!r})"


def _check_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"{where}: an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(f"{where}: no user or password in the URL")
    try:
        _ = parts.port
    except ValueError:
        raise ValidationError(f"{where}: invalid port") from None
    return url


#: the keys of one ``approvals.webhooks`` entry (documented in docs/config-reference.md)
WEBHOOK_KEYS = frozenset(
    {"name", "url", "url_secret", "format", "secret", "secret_env", "allow_private_network"}
)


def parse_webhooks(raw: object) -> tuple[WebhookTarget, ...]:
    """``approvals.webhooks``: a list of webhooks; unknown keys and repeated names are refused."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValidationError("approvals.webhooks is a list")
    out: list[WebhookTarget] = []
    for i, item in enumerate(raw):
        where = f"approvals.webhooks[{i}]"
        if not isinstance(item, Mapping):
            raise ValidationError(f"{where} is a mapping")
        check_keys(
            item,
            WEBHOOK_KEYS,
            where,
        )
        name = str(item.get("name") or f"webhook-{i + 1}")
        if not _NAME.fullmatch(name):
            raise ValidationError(f"{where}: `name` is lowercase letters, digits, `-` and `_`")
        fmt = str(item.get("format", "json"))
        if fmt not in FORMATS:
            raise ValidationError(f"{where}: `format` is `json` or `slack`")
        url, url_secret = item.get("url"), item.get("url_secret")
        if (url is None) == (url_secret is None):
            raise ValidationError(f"{where}: give `url` or `url_secret` (a stored secret holding it)")
        if url is not None:
            url = _check_url(str(url), f"{where}.url")
        secret, secret_env = item.get("secret"), item.get("secret_env")
        if secret is not None and secret_env is not None:
            raise ValidationError(f"{where}: `secret` or `secret_env`, not both")
        if secret_env is not None and not _ENV.fullmatch(str(secret_env)):
            raise ValidationError(f"{where}: `secret_env` is an environment variable's name")
        if fmt == "json" and secret is None and secret_env is None:
            raise ValidationError(
                f"{where}: a json webhook is signed: give `secret` (a stored secret) or `secret_env`"
            )
        allow = item.get("allow_private_network", False)
        if not isinstance(allow, bool):
            raise ValidationError(f"{where}: `allow_private_network` is true or false")
        out.append(
            WebhookTarget(
                name=name,
                format=fmt,
                url=None if url is None else str(url),
                url_secret=None if url_secret is None else str(url_secret),
                secret=None if secret is None else str(secret),
                secret_env=None if secret_env is None else str(secret_env),
                allow_private_network=allow,
            )
        )
    if len({t.name for t in out}) != len(out):
        raise ValidationError("approvals.webhooks: a name appears twice")
    return tuple(out)


# payloads -----------------------------------------------------------------------------------
#: what a webhook may tell about a request: never the arguments, nor a digest of them
_PUBLIC = (
    "id",
    "state",
    "agent",
    "task",
    "tool",
    "effects",
    "policies",
    "reasons",
    "approvers",
    "four_eyes",
    "owner",
    "requester",
    "created_at",
    "expires_at",
    "decision_id",
)


def approval_link(public_url: str, approval_id: str) -> str:
    return f"{public_url.rstrip('/')}/approvals/{approval_id}"


def _public(request: ApprovalRequest) -> dict[str, Any]:
    full = request.to_dict()
    return {k: full[k] for k in _PUBLIC}


def json_payload(request: ApprovalRequest, link: str, target: str) -> bytes:
    doc = {
        "event": _EVENT,
        "delivery": f"{request.id}/{target}",
        "url": link,
        "approval": _public(request),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _mrkdwn(text: str, limit: int = 300) -> str:
    """Text safe inside Slack mrkdwn: ``&``, ``<`` and ``>`` escaped (no link or mention can be
    smuggled in through a reason), backticks dropped, folded to ``limit`` characters."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")


def slack_payload(request: ApprovalRequest, link: str) -> bytes:
    """A Slack incoming-webhook message (Mattermost and others accept the same): ``text`` for
    notifications and clients without blocks, ``blocks`` with a button to the page."""
    agent, tool = _mrkdwn(str(request.agent), 80), _mrkdwn(str(request.tool), 120)
    who = ", ".join(request.approvers) or "owner"
    fields = [
        f"*Agent*\n`{agent}`",
        f"*Tool*\n`{tool}`",
        f"*Task*\n`{_mrkdwn(str(request.task), 80)}`",
        f"*Effect*\n{_mrkdwn(', '.join(request.effects) or '-', 120)}",
        f"*Who decides*\n{_mrkdwn(who, 200)}" + (" (four eyes)" if request.four_eyes else ""),
        f"*Requested by*\n{_mrkdwn(str(request.requester or '-'), 120)}",
    ]
    reasons = "; ".join(request.reasons) or ", ".join(request.policies)
    doc = {
        "text": f"Approval needed: agent {agent} wants to call {tool}: <{link}|review the request>",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*Approval needed* for a call of `{tool}` by agent `{agent}`"
                    + (f"\n{_mrkdwn(reasons, 1000)}" if reasons else ""),
                },
            },
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Review the request"},
                        "url": link,
                        "style": "primary",
                        "action_id": "proctor_review",
                    }
                ],
            },
        ],
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


# signature ----------------------------------------------------------------------------------
def sign(secret: bytes, body: bytes, t: int) -> str:
    """The ``Proctor-Signature`` value for ``body`` sent at ``t`` (unix seconds)."""
    mac = hmac.new(secret, str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(
    secret: bytes, header: str, body: bytes, now: float, tolerance_s: float = SIGNATURE_TOLERANCE_S
) -> bool:
    """What a receiver does: True when ``header`` signs exactly ``body`` with ``secret`` and its
    time is within ``tolerance_s`` of ``now``. Any ``v1`` may match (several appear while a secret
    is being rotated)."""
    t: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if not value.isascii():  # compare_digest refuses non-ASCII text; int() takes other digits
            return False
        if key == "t" and value.isdigit() and len(value) <= 12:
            t = int(value)
        elif key == "v1":
            macs.append(value)
    if t is None or not macs or abs(now - t) > tolerance_s:
        return False
    want = sign(secret, body, t).split("v1=", 1)[1]
    return any(hmac.compare_digest(want, m) for m in macs)


# delivery -----------------------------------------------------------------------------------
class RequestSource(Protocol):
    """Where the dispatcher reads requests: the ``Approvals`` service."""

    def pending(self, limit: int = 200) -> Sequence[ApprovalRequest]: ...

    def get(self, approval_id: str) -> ApprovalRequest: ...


class TargetRefused(Exception):
    """The target is not one this webhook may reach (its address, its scheme)."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    ok: bool
    retry: bool
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


#: IPv6 prefixes whose last 32 bits are an IPv4 address a network may reach: NAT64's well-known
#: prefix (RFC 6052) and the deprecated IPv4-compatible addresses (RFC 4291)
_EMBEDS_V4 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))


def _address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A public unicast address, and so is every IPv4 address it carries (mapped, 6to4, NAT64,
    IPv4-compatible: Python 3.11 calls ``64:ff9b::7f00:1`` or ``2002:a00:1::1`` global)."""
    seen: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return False
        if ip.ipv4_mapped is not None:
            seen.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            seen.append(ip.sixtofour)
        if ip.teredo is not None:
            seen.extend(ip.teredo)
        if any(ip in net for net in _EMBEDS_V4):
            seen.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return all(a.is_global and not a.is_multicast for a in seen)


async def _pinned(url: str, allow_private: bool) -> tuple[str, str, str]:
    """``url`` rewritten to the checked address it resolves to, its ``Host`` header, its TLS name."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("scheme")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise TargetRefused("dns") from None
    addrs = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addrs:
        raise TargetRefused("dns")
    if not allow_private and not all(_address_allowed(a) for a in addrs):
        raise TargetRefused("private_address")
    ip = addrs[0]
    literal = f"[{ip}]" if ip.version == 6 else str(ip)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host_header = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host_header, host


class WebhookDispatcher:
    """Delivers the announcements of new requests to every configured webhook (see the module
    docstring). :meth:`run_once` does one round; :meth:`start` runs rounds on a thread of its own
    every ``interval_s`` (and at once after :meth:`notify`)."""

    def __init__(
        self,
        store: Store,
        source: RequestSource,
        targets: Sequence[WebhookTarget],
        public_url: str,
        audit: AuditLog,
        clock: Clock,
        *,
        secret_value: Callable[[str], bytes] | None = None,
        env: Mapping[str, str] | None = None,
        max_attempts: int = 6,
        backoff_base_s: float = 10.0,
        backoff_cap_s: float = 160.0,
        interval_s: float = 1.0,
        jitter: random.Random | None = None,
    ) -> None:
        if max_attempts < 1 or backoff_base_s <= 0 or backoff_cap_s < backoff_base_s:
            raise ValidationError("webhooks: max_attempts >= 1 and 0 < backoff_base_s <= backoff_cap_s")
        self.store = store
        self.source = source
        self.targets = {t.name: t for t in targets}
        self.public_url = public_url
        self.audit = audit
        self.clock = clock
        self.secret_value = secret_value
        self.env = os.environ if env is None else env
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.interval_s = interval_s
        self._jitter = jitter or random.Random()  # noqa: S311 - spreading retries, not a secret
        #: requests whose deliveries are known to be filed (pruned to the pending ones each round)
        self._filed: set[str] = set()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # scheduling ---------------------------------------------------------------------------------
    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """The wait after the ``attempts``-th failed attempt: base·2^(n-1), capped, with jitter in
        [half, whole]; at least what the receiver's ``Retry-After`` asked (up to the cap)."""
        step = min(self.backoff_cap_s, self.backoff_base_s * float(2 ** max(attempts - 1, 0)))
        wait = step / 2 + self._jitter.random() * step / 2
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.backoff_cap_s))
        return wait

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="proctor-webhooks", daemon=True)
        self._thread.start()

    def notify(self, _request: object = None) -> None:
        """Run a round now (a ``subscribe`` callback for requests made in this process)."""
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                asyncio.run(self.run_once())
            except Exception:  # the worker must not die; the next round retries
                log.exception("webhook round failed")
            self._wake.wait(self.interval_s)
            self._wake.clear()

    # one round ----------------------------------------------------------------------------------
    def file_new(self) -> int:
        """File a delivery for each pending request and webhook that has none; how many were filed."""
        if not self.targets:
            return 0
        pending = [r for r in self.source.pending(limit=1000) if r.state is ApprovalState.PENDING]
        ids = {str(r.id) for r in pending}
        self._filed &= ids
        fresh = sorted(ids - self._filed)
        if not fresh:
            return 0
        have = self.store.webhook_delivery_keys(fresh)
        missing = [(i, name) for i in fresh for name in sorted(self.targets) if (i, name) not in have]
        filed = self.store.add_webhook_deliveries(missing, self.clock.now()) if missing else 0
        self._filed.update(fresh)
        return filed

    async def run_once(self) -> int:
        """File new deliveries, then send the due ones; returns how many attempts were made."""
        self.file_new()
        now = self.clock.now()
        claimed = self.store.claim_webhook_deliveries(now, now + CLAIM_S, BATCH)
        if not claimed:
            return 0
        import httpx

        async with httpx.AsyncClient(
            trust_env=False, follow_redirects=False, timeout=STEP_TIMEOUT_S
        ) as client:
            await asyncio.gather(*(self._attempt(client, d) for d in claimed))
        return len(claimed)

    async def _attempt(self, client: httpx.AsyncClient, d: WebhookDelivery) -> None:
        target = self.targets.get(d.target)
        try:
            request: ApprovalRequest | None = self.source.get(d.approval_id)
        except UnknownApproval:
            request = None
        attempt_no = d.attempts + 1
        now = self.clock.now()
        if request is None or request.state is not ApprovalState.PENDING or now >= request.expires_at:
            self._record(d, request, attempt_no, "obsolete", _Outcome(ok=False, retry=False))
            return
        if target is None:
            # a webhook this process's proctor.yaml does not name (another serve process's, during
            # a change of configuration): left to a process that knows it once the claim runs out;
            # a webhook nobody names any more is ended as obsolete with its request
            return
        outcome = await self._send(client, target, request)
        if outcome.ok:
            state = "delivered"
        elif outcome.retry and attempt_no < self.max_attempts:
            state = "pending"
        else:
            state = "failed"
        self._record(d, request, attempt_no, state, outcome)

    def _record(
        self,
        d: WebhookDelivery,
        request: ApprovalRequest | None,
        attempt_no: int,
        state: str,
        outcome: _Outcome,
    ) -> None:
        now = self.clock.now()
        next_at = now + self.backoff(attempt_no, outcome.retry_after) if state == "pending" else None
        applied = self.store.record_webhook_attempt(
            WebhookAttempt(
                approval_id=d.approval_id,
                target=d.target,
                attempts_before=d.attempts,
                state=state,
                next_attempt_at=next_at,
                delivered_at=now if state == "delivered" else None,
                last_status=outcome.status,
                last_error=outcome.error,
            )
        )
        if not applied:  # another process recorded this attempt (our claim ran out): say nothing
            return
        fields: dict[str, Any] = {
            "approval": d.approval_id,
            "webhook": d.target,
            "attempt": attempt_no,
            "outcome": "retry" if state == "pending" else state,
        }
        if outcome.status is not None:
            fields["status"] = outcome.status
        if outcome.error is not None:
            fields["error"] = outcome.error
        if next_at is not None:
            fields["next_attempt_at"] = next_at
        index: dict[str, str] = {}
        if request is not None:
            index = {"agent": str(request.agent), "task": str(request.task), "tool": str(request.tool)}
            if request.decision_id:
                index["decision_id"] = request.decision_id
        try:
            self.audit.append("approval.webhook", fields, **index)
        except Exception:
            log.exception("webhook %s: the audit record of approval %s failed", d.target, d.approval_id)

    def _secret(self, name: str | None, env: str | None) -> bytes | None:
        if env is not None:
            value = self.env.get(env)
            if not value:
                raise LookupError(env)
            return value.encode()
        if name is not None:
            if self.secret_value is None:
                raise LookupError(name)
            return self.secret_value(name)
        return None

    async def _send(
        self, client: httpx.AsyncClient, target: WebhookTarget, request: ApprovalRequest
    ) -> _Outcome:
        try:
            url = target.url or (self._secret(target.url_secret, None) or b"").decode()
            key = self._secret(target.secret, target.secret_env)
        except Exception:  # a missing secret may be stored later: retried
            return _Outcome(ok=False, retry=True, error="secret_unavailable")
        link = approval_link(self.public_url, str(request.id))
        if target.format == "slack":
            body = slack_payload(request, link)
        else:
            body = json_payload(request, link, target.name)
        headers = {
            "content-type": "application/json",
            "user-agent": "Proctor-Webhooks/1",
            "proctor-event": _EVENT,
            "proctor-delivery": f"{request.id}/{target.name}",
        }
        if key is not None:
            headers[SIGNATURE_HEADER] = sign(key, body, int(self.clock.now()))
        try:
            pinned, host, tls_name = await _pinned(url, target.allow_private_network)
        except TargetRefused as exc:
            # an address that is refused now may change (DNS): retried, and audited each time
            return _Outcome(ok=False, retry=str(exc) == "dns", error=f"refused_{exc}")
        except ValueError:
            return _Outcome(ok=False, retry=False, error="refused_url")
        headers["host"] = host
        import httpx

        async def post() -> tuple[int, str | None]:
            # the status is the answer: the body is never read (one that never ends, or a huge one,
            # would hold the delivery until its deadline or fill this process's memory)
            async with client.stream(
                "POST", pinned, content=body, headers=headers, extensions={"sni_hostname": tls_name}
            ) as resp:
                return resp.status_code, resp.headers.get("retry-after")

        try:
            status, retry_after = await asyncio.wait_for(post(), SEND_DEADLINE_S)
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            return _Outcome(ok=False, retry=True, error=_net_error(exc))
        if 200 <= status < 300:
            return _Outcome(ok=True, retry=False, status=status)
        retry = status == 429 or status >= 500
        return _Outcome(
            ok=False,
            retry=retry,
            status=status,
            error=f"http_{status}",
            retry_after=_retry_after(retry_after) if retry else None,
        )


def _net_error(exc: BaseException) -> str:
    import httpx

    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    return type(exc).__name__[:64]


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    with contextlib.suppress(ValueError):
        seconds = float(value.strip())
        if 0 <= seconds < 86400:
            return seconds
    return None
