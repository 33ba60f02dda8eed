"""Workspace configuration: a YAML file, checked once at start-up into frozen settings.

Unknown keys are refused (a typo must not silently disable a control). Environment variables
``PROCTOR_STORE`` and ``PROCTOR_TRUST_DOMAIN`` override the file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from proctor.accounts.settings import LoginSettings, parse_login
from proctor.approvals.webhooks import WebhookTarget, parse_webhooks
from proctor.errors import ConfigError, ValidationError
from proctor.policy.scope import RESOURCE_ARG_SPEC
from proctor.redact import redact_url
from proctor.store.base import ToolRecord
from proctor.types import Effect, Sensitivity, ToolName, Trust, TrustDomain
from proctor.validate import check_keys

__all__ = [
    "CONFIG_FILE",
    "ENV_OVERRIDES",
    "GATEWAY_AUDIT_MODES",
    "SECTION_KEYS",
    "TOOL_FLAGS",
    "TOOL_KEYS",
    "TOOL_LABEL_KEYS",
    "TOP_KEYS",
    "Settings",
    "config_keys",
    "load_settings",
    "parse_duration",
    "tool_from_mapping",
    "tool_to_mapping",
]


CONFIG_FILE = "proctor.yaml"
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DOMAIN = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
TOOL_FLAGS = (
    "destructive",
    "financial",
    "customer_facing",
    "production",
    "access_control",
    "credential_change",
    "egress",
)
#: the largest tool input schema kept (canonical JSON bytes)
MAX_INPUT_SCHEMA_BYTES = 64 * 1024
#: an argument path: ``to``, ``to[]``, ``recipient.email``, ``attendees[].email``
_DEST_PATH = re.compile(r"[A-Za-z0-9_$@-]+(?:\[\])?(?:\.[A-Za-z0-9_$@-]+(?:\[\])?)*")
#: how the gateway orders its durable decision write and the upstream call (see docs/adr/0011)
GATEWAY_AUDIT_MODES = ("auto", "strict", "overlap")

# The keys the parsers below accept: they check input against these sets, and
# docs/config-reference.md documents each (tests/unit/test_config_reference.py holds the two together).
#: the top level of ``proctor.yaml``
TOP_KEYS = frozenset(
    {
        "trust_domain",
        "store",
        "store_timeout",
        "store_pool_size",
        "store_pool_min",
        "identity",
        "tasks",
        "audit",
        "server",
        "policies",
        "tools",
        "gateway",
        "login",
        "approvals",
        "flow",
    }
)
#: the keys of each plain section (``login`` and ``approvals.webhooks`` are checked by their own parsers)
SECTION_KEYS: Mapping[str, frozenset[str]] = {
    "identity": frozenset({"svid_ttl", "join_token_ttl"}),
    "tasks": frozenset({"default_ttl", "max_ttl", "max_delegation_depth", "template_memory"}),
    "audit": frozenset(
        {
            "checkpoint_every",
            "checkpoint_interval",
            "log_arguments",
            "refusal_records",
            "refusal_window",
            "witness",
            "witness_key",
            "witness_log",
        }
    ),
    "server": frozenset({"host", "port"}),
    "policies": frozenset({"reload_interval"}),
    "gateway": frozenset(
        {
            "audit",
            "tool_separator",
            "oauth_access_ttl",
            "oauth_refresh_ttl",
            "oauth_allow_http_client_ids",
            "exchange_ttl",
            "public_url",
        }
    ),
    "approvals": frozenset({"ttl", "max_pending", "hold", "public_url", "webhooks"}),
    "flow": frozenset({"enabled", "max_outputs", "max_output_bytes", "retention", "internal_domains"}),
}
#: one tool registration (``tools[]`` here, ``proctor tool add``, the API)
TOOL_KEYS = frozenset(
    {
        "name",
        "effect",
        "resource",
        "resource_arg",
        "labels",
        "flags",
        "description",
        "input_schema",
        "destinations",
    }
)
#: a tool's ``labels``
TOOL_LABEL_KEYS = frozenset({"trust", "sensitivity"})
#: environment variables that win over ``proctor.yaml``
ENV_OVERRIDES = ("PROCTOR_STORE", "PROCTOR_STORE_TIMEOUT", "PROCTOR_TRUST_DOMAIN")


def config_keys() -> list[str]:
    """Every key ``proctor.yaml`` accepts, as dotted paths (``[]`` marks a list's items).

    >>> "approvals.webhooks[].secret" in config_keys(), "login.oidc.issuer" in config_keys()
    (True, True)
    """
    from proctor.accounts.settings import LOGIN_KEYS, OIDC_KEYS
    from proctor.approvals.webhooks import WEBHOOK_KEYS

    keys = set(TOP_KEYS)
    for section, names in SECTION_KEYS.items():
        keys |= {f"{section}.{k}" for k in names}
    keys |= {f"tools[].{k}" for k in TOOL_KEYS} | {f"tools[].labels.{k}" for k in TOOL_LABEL_KEYS}
    keys |= {f"login.{k}" for k in LOGIN_KEYS} | {f"login.oidc.{k}" for k in OIDC_KEYS}
    keys |= {f"approvals.webhooks[].{k}" for k in WEBHOOK_KEYS}
    return sorted(keys)


def parse_duration(value: str | int | float, what: str = "duration") -> float:
    """``"15m"`` → 900.0. Bare numbers are seconds.

    >>> parse_duration("1h"), parse_duration(30)
    (3600.0, 30.0)
    """
    if isinstance(value, bool):
        raise ValidationError(f"invalid {what} `{value}`")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.fullmatch(value.strip())
        if not m:
            raise ValidationError(
                f"invalid {what} `{value}`: use a number and a unit, like `90s`, `15m` or `2h`"
            )
        seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds <= 0:
        raise ValidationError(f"invalid {what} `{value}`: must be positive")
    return float(seconds)


def _int_in(value: object, what: str, low: int, high: int, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{path.name}: {what} is a whole number from {low} to {high}")
    return value


_PUBLIC_URL = re.compile(r"https?://[^\s/?#@]+(/[^\s?#]*)?")


def check_public_url(value: object, what: str) -> str:
    """The gateway's public URL, checked: ``http(s)://host[:port][/path]`` with no query, fragment or
    user; the path defaults to ``/mcp``; no trailing slash. Written one way (the host in lower
    case, no default port), since it is an exact audience and the ``Host`` clients send."""
    bad = ConfigError(f"{what} is an http(s) URL like https://mcp.example.com/mcp, not {str(value)[:80]!r}")
    if not isinstance(value, str) or not _PUBLIC_URL.fullmatch(value) or not value.isprintable():
        raise bad
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise bad from None
    host = parts.hostname
    if not host or port == 0:
        raise bad
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/') or '/mcp'}"


@dataclass(frozen=True)
class Settings:
    """Everything a Proctor process reads from its workspace, checked at start-up."""

    trust_domain: TrustDomain
    store_url: str = "sqlite:///proctor.db"
    #: how long a call waits for the store before it is refused (``store_timeout``; docs/adr/0019)
    store_timeout_s: float = 2.0
    #: PostgreSQL: the most connections this process's pool opens (``store_pool_size``), and how
    #: many it keeps open when idle (``store_pool_min``); the kill switch gets a connection of its
    #: own when the pool has none free (docs/adr/0034)
    store_pool_size: int = 8
    store_pool_min: int = 1
    #: the one URL agents reach the HTTP gateway at (``gateway.public_url``; ``--public-url``): the
    #: token audience, the RFC 9728 resource and the OAuth issuer's origin for every gateway process
    #: behind it. None: ``http://{--host}:{--port}/mcp`` (docs/adr/0034)
    gateway_public_url: str | None = None
    svid_ttl_s: float = 300.0
    join_token_ttl_s: float = 600.0
    task_default_ttl_s: float = 900.0
    task_max_ttl_s: float = 86400.0
    #: how many delegations down from its root task a task may be (docs/adr/0032); policy can lower it
    task_max_delegation_depth: int = 3
    #: how long a task started from a template without a person (stdio, OAuth) is remembered after
    #: it ends: the next one of the same agent and template starts with its labels and counts its
    #: calls against the template's budget (docs/adr/0029, amendment 2026-12-05)
    task_template_memory_s: float = 3600.0
    checkpoint_every: int = 1000
    checkpoint_interval_s: float = 5.0
    log_arguments: bool = False
    host: str = "127.0.0.1"
    port: int = 8470
    policy_reload_s: float = 1.0
    #: "strict": a decision is durable before the upstream is called; "overlap": the durable write
    #: runs while the upstream works, and the answer waits for both; "auto": overlap for plain reads
    #: only, strict for every other effect (see docs/adr/0011)
    gateway_audit: str = "auto"
    #: how long the gateway keeps an upstream's call open waiting for a 2026-07-28 client's retry
    #: after it translated the upstream's mid-call request into ``input_required`` (proctor.gateway.xrev)
    gateway_exchange_ttl_s: float = 60.0
    #: requests refused before anyone is identified: at most this many audit records per source
    #: address and window, then one summary of the rest (see proctor.audit.refusals)
    #: witnesses outside the workspace every signed checkpoint is sent to: absolute paths of files
    #: (see proctor.audit.witness) and URLs of witness services (proctor.audit.witness_http)
    audit_witnesses: tuple[str, ...] = ()
    #: the pinned public key (``ed25519:...``) of each witness service, by URL
    audit_witness_keys: Mapping[str, str] = field(default_factory=dict)
    #: the log the witnesses keep for this workspace: its audit key's id, pinned (docs/adr/0020);
    #: ``audit verify`` fails without it when a witness service is configured
    audit_witness_log: str | None = None
    refusal_audit_burst: int = 10
    refusal_audit_window_s: float = 60.0
    #: between namespace and tool in the names agents see (``fs__read_file``; docs/adr/0014)
    gateway_tool_separator: str = "__"
    #: the HTTP gateway's OAuth access tokens live this long (``gateway.oauth_access_ttl``;
    #: docs/adr/0028), refresh tokens (and the grant) at most ``gateway.oauth_refresh_ttl``
    oauth_access_ttl_s: float = 300.0
    oauth_refresh_ttl_s: float = 30 * 86400.0
    #: accept ``http://127.0.0.1`` Client ID Metadata Document URLs (tests and development only)
    oauth_allow_http_client_ids: bool = False
    tools: tuple[ToolRecord, ...] = field(default_factory=tuple)
    #: how approvers sign in: sessions, lockout, OpenID Connect (``login``; proctor.accounts)
    login: LoginSettings = field(default_factory=LoginSettings)
    #: how long an approval request waits for a person before it expires (``approvals.ttl``)
    approval_ttl_s: float = 600.0
    #: pending requests one agent may have at once; a risky call beyond it is denied
    #: (``approvals.max_pending``; OWASP agentic T10, approval fatigue)
    approval_max_pending: int = 20
    #: how long the gateway holds a call that waits for approval before answering (``approvals.hold``;
    #: 0: answer at once)
    approval_hold_s: float = 30.0
    #: the base URL approvers reach ``proctor serve`` at, for links in webhooks and elicitations
    #: (``approvals.public_url``; default ``http://{server.host}:{server.port}``)
    approval_public_url: str | None = None
    #: announced each new request, with a link to its page (``approvals.webhooks``; see
    #: proctor.approvals.webhooks); they need ``approvals.public_url`` set
    approval_webhooks: tuple[WebhookTarget, ...] = ()
    #: the flow stage: labels on outputs, provenance of arguments, history (``flow.enabled``;
    #: docs/adr/0025). Off: every call is decided with no flow facts, no output is kept
    flow_enabled: bool = True
    #: outputs kept per task for tracing arguments (``flow.max_outputs``; the oldest go first)
    flow_max_outputs: int = 200
    #: the organisation's domains (``flow.internal_domains``); the agent owner's and the task
    #: requester's e-mail domains count too (``context.destinations.external``, docs/adr/0025)
    flow_internal_domains: tuple[str, ...] = ()
    #: bytes of one output kept for tracing (``flow.max_output_bytes``; the rest is labelled, not kept)
    flow_max_output_bytes: int = 1 << 20
    #: how long a task's outputs are kept after it ends (``flow.retention``): None = until it ends
    #: (``task``, the default); else a duration, so ``proctor trace export`` can still read them
    flow_retention_s: float | None = None

    def __repr__(self) -> str:
        return f"Settings(trust_domain={self.trust_domain!r}, store_url={redact_url(self.store_url)!r})"


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{CONFIG_FILE}: `{key}` must be a mapping")
    check_keys(value, SECTION_KEYS[key], CONFIG_FILE, error=ConfigError, prefix=f"{key}.")
    return value


def tool_from_mapping(raw: Mapping[str, Any], where: str = "tool") -> ToolRecord:
    """Build a tool registration from config or API input, refusing unknown keys and labels."""
    check_keys(raw, TOOL_KEYS, where)
    if "name" not in raw or "effect" not in raw:
        raise ValidationError(f"{where}: `name` and `effect` are required")
    name = ToolName(str(raw["name"]))
    effect = Effect(str(raw["effect"]))
    labels = raw.get("labels") or {}
    if not isinstance(labels, Mapping) or set(labels) - TOOL_LABEL_KEYS:
        raise ValidationError(f"{where} `{name}`: `labels` takes `trust` and `sensitivity`")
    try:
        trust = Trust(labels.get("trust", "trusted"))
        sensitivity = Sensitivity(labels.get("sensitivity", "internal"))
    except ValueError as exc:
        raise ValidationError(f"{where} `{name}`: {exc}") from None
    flags = raw.get("flags") or []
    if not isinstance(flags, list) or any(f not in TOOL_FLAGS for f in flags):
        raise ValidationError(f"{where} `{name}`: `flags` is a list of {', '.join(TOOL_FLAGS)}")
    resource = str(raw.get("resource", "*"))
    resource_arg = raw.get("resource_arg")
    if resource_arg is not None and not RESOURCE_ARG_SPEC.fullmatch(str(resource_arg)):
        raise ValidationError(
            f"{where} `{name}`: invalid `resource_arg`: an argument name, `name[]` for a list,"
            " several separated by commas (`source,destination`), or `-` for a tool that touches no resource"
        )
    return ToolRecord(
        name=name,
        effect=effect,
        resource_pattern=resource,
        resource_arg=None if resource_arg is None else str(resource_arg),
        trust=trust.value,
        sensitivity=sensitivity.value,
        destructive="destructive" in flags,
        financial="financial" in flags,
        customer_facing="customer_facing" in flags,
        production="production" in flags,
        description=str(raw.get("description", ""))[:2000],
        access_control="access_control" in flags,
        credential_change="credential_change" in flags,
        egress="egress" in flags,
        input_schema=input_schema_text(raw.get("input_schema"), f"{where} `{name}`"),
        destinations=_destinations(raw.get("destinations"), f"{where} `{name}`"),
    )


def input_schema_text(raw: Any, where: str = "tool") -> str | None:
    """A tool's JSON Schema (a mapping, or its JSON text) as canonical JSON text, or None."""
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise ValidationError(f"{where}: `input_schema` is not valid JSON") from None
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{where}: `input_schema` must be a JSON Schema object")
    from proctor.canonical import canonical_json

    try:
        text = canonical_json(dict(raw)).decode()
    except ValidationError as exc:
        raise ValidationError(f"{where}: `input_schema`: {exc.message}") from None
    if len(text) > MAX_INPUT_SCHEMA_BYTES:
        raise ValidationError(f"{where}: `input_schema` is larger than {MAX_INPUT_SCHEMA_BYTES} bytes")
    return text


def _destinations(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or not all(
        isinstance(x, str) and _DEST_PATH.fullmatch(x) for x in raw
    ):
        raise ValidationError(
            f"{where}: `destinations` is a list of argument paths (`to`, `to[]`, `recipient.email`)"
        )
    return tuple(sorted(set(raw)))


def tool_to_mapping(tool: ToolRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": str(tool.name),
        "effect": tool.effect,
        "resource": tool.resource_pattern,
        "labels": {"trust": tool.trust, "sensitivity": tool.sensitivity},
        "flags": [f for f in TOOL_FLAGS if getattr(tool, f)],
    }
    if tool.resource_arg:
        out["resource_arg"] = tool.resource_arg
    if tool.description:
        out["description"] = tool.description
    if tool.input_schema is not None:
        out["input_schema"] = json.loads(tool.input_schema)
    if tool.destinations:
        out["destinations"] = list(tool.destinations)
    return out


def _witness_path(raw: object, config: Path) -> str:
    """One ``audit.witness``: an absolute path outside the workspace (a relative one would move with
    it), or the URL of a witness service (https, or http to the loopback)."""
    if isinstance(raw, str) and raw.startswith(("http://", "https://")):
        from proctor.audit.witness_http import check_witness_url

        return check_witness_url(raw)
    if not isinstance(raw, str) or not raw or "\x00" in raw or not Path(raw).is_absolute():
        raise ValidationError(
            "audit.witness is an absolute path to a file outside the workspace or a witness URL"
        )
    root = config.resolve().parent
    if Path(raw).resolve().is_relative_to(root):
        raise ValidationError(
            "audit.witness must lie outside the workspace (a copy of it would carry it along)"
        )
    return raw


def _witnesses(raw: object, keys: object, config: Path) -> tuple[tuple[str, ...], dict[str, str]]:
    """``audit.witness`` (one or a list) and ``audit.witness_key`` (one key when there is one witness
    service, else a mapping of URL to key): every witness service needs its key pinned."""
    if raw is None:
        items: list[object] = []
    elif isinstance(raw, list):
        items = list(raw)
    else:
        items = [raw]
    witnesses = tuple(_witness_path(item, config) for item in items)
    if len(set(witnesses)) != len(witnesses):
        raise ValidationError("audit.witness names a witness twice")
    urls = [w for w in witnesses if w.startswith(("http://", "https://"))]
    pinned: dict[str, str] = {}
    if isinstance(keys, str) and len(urls) == 1:
        pinned[urls[0]] = keys
    elif isinstance(keys, Mapping):
        pinned = {str(k).rstrip("/"): str(v) for k, v in keys.items()}
    elif keys is not None:
        raise ValidationError("audit.witness_key is the witness's key, or a mapping of witness URL to key")
    from proctor.audit.witness_http import parse_witness_key

    for url in urls:
        if url not in pinned:
            raise ValidationError(
                f"audit.witness_key: pin the key of the witness {url} (`proctor witness serve` prints it)"
            )
        parse_witness_key(pinned[url])
    return witnesses, {u: pinned[u] for u in urls}


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and check ``proctor.yaml``."""
    env = os.environ if env is None else env
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"`{path}` not found: run `proctor init` first") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML ({exc})") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path.name}: expected a mapping at the top level")
    check_keys(data, TOP_KEYS, path.name, error=ConfigError)
    try:
        ident = _section(data, "identity")
        tasks = _section(data, "tasks")
        audit = _section(data, "audit")
        server = _section(data, "server")
        policies = _section(data, "policies")
        gateway = _section(data, "gateway")
        approvals = _section(data, "approvals")
        approval_ttl = parse_duration(approvals.get("ttl", "10m"), "approvals.ttl")
        if approval_ttl > 86400:
            raise ConfigError(f"{path.name}: approvals.ttl is at most 24h")
        approval_max_pending = int(approvals.get("max_pending", 20))
        if not 1 <= approval_max_pending <= 10_000:
            raise ConfigError(f"{path.name}: approvals.max_pending is between 1 and 10000")
        raw_hold = approvals.get("hold", "30s")
        approval_hold = 0.0 if raw_hold in (0, "0", "0s") else parse_duration(raw_hold, "approvals.hold")
        if approval_hold > 3600:
            raise ConfigError(f"{path.name}: approvals.hold is at most 1h")
        public_url = approvals.get("public_url")
        if public_url is not None and (
            not isinstance(public_url, str) or not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", public_url)
        ):
            raise ConfigError(
                f"{path.name}: approvals.public_url is an http(s) URL like https://proctor.example.com"
            )
        webhooks = parse_webhooks(approvals.get("webhooks"))
        if webhooks and public_url is None:
            raise ConfigError(
                f"{path.name}: approvals.webhooks link to the request's page: set approvals.public_url"
            )
        flow = _section(data, "flow")
        flow_enabled = flow.get("enabled", True)
        if not isinstance(flow_enabled, bool):
            raise ConfigError(f"{path.name}: flow.enabled is true or false")
        flow_max_outputs = int(flow.get("max_outputs", 200))
        if not 1 <= flow_max_outputs <= 10_000:
            raise ConfigError(f"{path.name}: flow.max_outputs is between 1 and 10000")
        flow_max_bytes = int(flow.get("max_output_bytes", 1 << 20))
        if not 1024 <= flow_max_bytes <= 1 << 20:
            # at most what a trace's call line may carry (proctor.flow.trace), so every kept
            # output can be exported and replayed
            raise ConfigError(f"{path.name}: flow.max_output_bytes is between 1024 and 1048576")
        raw_internal = flow.get("internal_domains") or []
        if not isinstance(raw_internal, list) or not all(
            isinstance(d, str) and _DOMAIN.fullmatch(d.strip().lower().rstrip(".")) for d in raw_internal
        ):
            raise ConfigError(
                f"{path.name}: flow.internal_domains is a list of domain names (`acme.com`): the"
                " organisation's own, inside which a destination counts as internal"
            )
        if len(raw_internal) > 200:
            raise ConfigError(f"{path.name}: flow.internal_domains holds at most 200 domains")
        flow_internal = tuple(sorted({d.strip().lower().rstrip(".") for d in raw_internal}))
        raw_retention = flow.get("retention", "task")
        flow_retention = None if raw_retention == "task" else parse_duration(raw_retention, "flow.retention")
        if flow_retention is not None and flow_retention > 30 * 86400:
            raise ConfigError(f"{path.name}: flow.retention is `task` or a duration of at most 30d")
        gateway_audit = str(gateway.get("audit", "auto"))
        if gateway_audit not in GATEWAY_AUDIT_MODES:
            raise ConfigError(
                f"{path.name}: gateway.audit is `auto` (the default), `strict` or `overlap`,"
                f" not `{gateway_audit[:40]}`"
            )
        from proctor.gateway.names import check_separator

        separator = check_separator(str(gateway.get("tool_separator", "__")))
        oauth_access_ttl = parse_duration(gateway.get("oauth_access_ttl", "5m"), "gateway.oauth_access_ttl")
        if not 1 <= oauth_access_ttl <= 3600:
            raise ConfigError(
                f"{path.name}: gateway.oauth_access_ttl is between 1s and 1h: access tokens are short-lived"
            )
        oauth_refresh_ttl = parse_duration(
            gateway.get("oauth_refresh_ttl", "30d"), "gateway.oauth_refresh_ttl"
        )
        if not oauth_access_ttl <= oauth_refresh_ttl <= 365 * 86400:
            raise ConfigError(
                f"{path.name}: gateway.oauth_refresh_ttl is at least the access ttl and at most 365d"
            )
        exchange_ttl = parse_duration(gateway.get("exchange_ttl", "60s"), "gateway.exchange_ttl")
        if not 1 <= exchange_ttl <= 900:
            raise ConfigError(
                f"{path.name}: gateway.exchange_ttl is between 1s and 15m: an upstream's call is held"
                " open that long for a client's answer"
            )
        oauth_http_ids = gateway.get("oauth_allow_http_client_ids", False)
        if not isinstance(oauth_http_ids, bool):
            raise ConfigError(f"{path.name}: gateway.oauth_allow_http_client_ids is true or false")
        raw_tools = data.get("tools") or []
        if not isinstance(raw_tools, list):
            raise ConfigError(f"{path.name}: `tools` must be a list")
        tools = tuple(tool_from_mapping(t, f"{path.name}: tools[{i}]") for i, t in enumerate(raw_tools))
        if len({t.name for t in tools}) != len(tools):
            raise ConfigError(f"{path.name}: a tool name appears twice in `tools`")
        svid_ttl = parse_duration(ident.get("svid_ttl", "5m"), "identity.svid_ttl")
        if svid_ttl > 3600:
            raise ConfigError(f"{path.name}: identity.svid_ttl is at most 1h: SVIDs are short-lived")
        checkpoint_every = int(audit.get("checkpoint_every", 1000))
        if checkpoint_every < 1:
            raise ConfigError(f"{path.name}: audit.checkpoint_every must be at least 1")
        refusal_burst = int(audit.get("refusal_records", 10))
        refusal_window = parse_duration(audit.get("refusal_window", "60s"), "audit.refusal_window")
        if refusal_burst < 0 or refusal_window <= 0:
            raise ConfigError(
                f"{path.name}: audit.refusal_records is at least 0, audit.refusal_window above 0"
            )
        store_timeout = parse_duration(
            env.get("PROCTOR_STORE_TIMEOUT") or data.get("store_timeout", "2s"), "store_timeout"
        )
        if not 0 < store_timeout <= 60:
            raise ConfigError(f"{path.name}: store_timeout is above 0 and at most 60s")
        pool_size = _int_in(data.get("store_pool_size", 8), "store_pool_size", 1, 1000, path)
        pool_min = _int_in(data.get("store_pool_min", 1), "store_pool_min", 0, pool_size, path)
        gateway_public_url = gateway.get("public_url")
        if gateway_public_url is not None:
            gateway_public_url = check_public_url(gateway_public_url, f"{path.name}: gateway.public_url")
        witnesses, witness_keys = _witnesses(audit.get("witness"), audit.get("witness_key"), path)
        witness_log = audit.get("witness_log")
        if witness_log is not None:
            from proctor.audit.witness_http import LOG_ID

            if not isinstance(witness_log, str) or not LOG_ID.fullmatch(witness_log):
                raise ConfigError(
                    f"{path.name}: audit.witness_log is the audit key's id (`proctor status` prints it)"
                )
        login_raw = data.get("login") or {}
        if not isinstance(login_raw, Mapping):
            raise ConfigError(f"{path.name}: `login` must be a mapping")
        login = parse_login(login_raw, parse_duration)
        return Settings(
            login=login,
            store_timeout_s=store_timeout,
            store_pool_size=pool_size,
            store_pool_min=pool_min,
            gateway_public_url=gateway_public_url,
            trust_domain=TrustDomain(str(env.get("PROCTOR_TRUST_DOMAIN") or data.get("trust_domain", ""))),
            store_url=str(env.get("PROCTOR_STORE") or data.get("store", "sqlite:///proctor.db")),
            svid_ttl_s=svid_ttl,
            join_token_ttl_s=parse_duration(ident.get("join_token_ttl", "10m"), "identity.join_token_ttl"),
            task_default_ttl_s=parse_duration(tasks.get("default_ttl", "15m"), "tasks.default_ttl"),
            task_max_ttl_s=parse_duration(tasks.get("max_ttl", "24h"), "tasks.max_ttl"),
            task_max_delegation_depth=_delegation_depth(tasks.get("max_delegation_depth", 3)),
            task_template_memory_s=parse_duration(
                tasks.get("template_memory", "1h"), "tasks.template_memory"
            ),
            checkpoint_every=checkpoint_every,
            checkpoint_interval_s=parse_duration(
                audit.get("checkpoint_interval", "5s"), "audit.checkpoint_interval"
            ),
            log_arguments=bool(audit.get("log_arguments", False)),
            host=str(server.get("host", "127.0.0.1")),
            port=int(server.get("port", 8470)),
            policy_reload_s=parse_duration(policies.get("reload_interval", "1s"), "policies.reload_interval"),
            tools=tools,
            gateway_audit=gateway_audit,
            gateway_exchange_ttl_s=exchange_ttl,
            oauth_access_ttl_s=oauth_access_ttl,
            oauth_refresh_ttl_s=oauth_refresh_ttl,
            oauth_allow_http_client_ids=oauth_http_ids,
            refusal_audit_burst=refusal_burst,
            audit_witnesses=witnesses,
            audit_witness_keys=witness_keys,
            audit_witness_log=witness_log,
            refusal_audit_window_s=refusal_window,
            gateway_tool_separator=separator,
            approval_ttl_s=approval_ttl,
            approval_max_pending=approval_max_pending,
            approval_hold_s=approval_hold,
            approval_public_url=None if public_url is None else public_url.rstrip("/"),
            approval_webhooks=webhooks,
            flow_enabled=flow_enabled,
            flow_max_outputs=flow_max_outputs,
            flow_internal_domains=flow_internal,
            flow_max_output_bytes=flow_max_bytes,
            flow_retention_s=flow_retention,
        )
    except ValidationError as exc:
        raise ConfigError(f"{path.name}: {exc.message}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path.name}: {exc}") from None


def _delegation_depth(raw: Any) -> int:
    """``tasks.max_delegation_depth``: a whole number from 0 (no delegation) to 16."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 16:
        raise ConfigError("`tasks.max_delegation_depth` must be a whole number from 0 to 16")
    return raw
