"""Upstream MCP servers a workspace routes to, in ``<workspace>/upstreams.yaml``.

Each upstream lives under a **namespace**: its tool ``read_file`` becomes Proctor tool
``<namespace>.read_file``, so tools from several servers never collide (agents see it as
``<namespace>__read_file``: see :mod:`proctor.gateway.names`). How each upstream tool is
registered (effect, resource argument, labels, flags) comes from the upstream's ``default`` and
per-tool ``tools`` overrides; an upstream tool nobody described gets the default effect, which is
``execute`` unless set — the cautious choice, since read/write/execute are decided apart.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from proctor.config import input_schema_text, parse_duration, tool_from_mapping
from proctor.errors import ConfigError, ValidationError
from proctor.gateway.credentials import CredentialSpec, credentials_from_list
from proctor.gateway.http1 import MAX_RESPONSE_BYTES
from proctor.gateway.names import canonical_name, routable
from proctor.policy.scope import declares_namespace
from proctor.store.base import ToolRecord
from proctor.validate import check_keys

__all__ = [
    "DEFAULT_MAX_ANSWER_BYTES",
    "MAX_UPSTREAMS_BYTES",
    "RESOURCE_LIST_NAMES",
    "RESOURCE_NAMES",
    "TOOL_DESCRIPTION_KEYS",
    "UPSTREAMS_FILE",
    "UPSTREAM_KEYS",
    "UpstreamConfig",
    "case_unique",
    "load_upstreams",
    "save_upstreams",
    "suggest_resource_arg",
    "upstream_from_mapping",
    "upstreams_keys",
]


log = logging.getLogger(__name__)

UPSTREAMS_FILE = "upstreams.yaml"
#: ``max_answer_bytes`` by default: the lean HTTP transport's own ceiling (an MCP tool result can
#: legitimately be a few MiB); an operator lowers it per upstream
DEFAULT_MAX_ANSWER_BYTES = MAX_RESPONSE_BYTES
MIN_MAX_ANSWER_BYTES = 1024
_NAMESPACE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# The keys the parser below accepts; docs/config-reference.md documents each
# (tests/unit/test_config_reference.py holds the two together).
#: one entry of ``upstreams``
UPSTREAM_KEYS = frozenset(
    {
        "namespace",
        "transport",
        "command",
        "args",
        "env",
        "url",
        "default",
        "tools",
        "timeout",
        "max_answer_bytes",
        "prefix",
        "credentials",
        "a2a",
    }
)
#: how ``default`` and each entry of ``tools`` describe an upstream tool
TOOL_DESCRIPTION_KEYS = frozenset(
    {"effect", "resource_arg", "resource", "labels", "flags", "input_schema", "destinations"}
)


@dataclass(frozen=True)
class UpstreamConfig:
    """One upstream MCP server: a stdio command or a Streamable HTTP URL."""

    namespace: str
    transport: str  # "stdio" | "http" | "a2a"
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    #: how tools are registered when ``tools`` does not describe them
    default: Mapping[str, Any] = field(default_factory=lambda: {"effect": "execute"})
    #: per upstream-tool overrides: ``{"write_file": {"effect": "write", "resource_arg": "path"}}``
    tools: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    timeout_s: float = 30.0
    #: the most bytes of one answer read from the upstream (a tool result, a listing, an SSE
    #: stream as a whole; on stdio one message): on the lean path (:mod:`.answers`) and through
    #: the SDK client (:mod:`.sdkcap`), a larger answer is dropped as it arrives and the call
    #: fails, audited (``max_answer_bytes``; at most the lean transport's ceiling, 16 MiB)
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    #: False exposes the tools to agents without the ``namespace__`` prefix (one upstream only)
    prefix: bool = True
    #: credentials obtained for each task that uses this upstream (see proctor.gateway.credentials)
    credentials: tuple[CredentialSpec, ...] = ()
    #: an A2A agent's pins (transport ``a2a``, see proctor.gateway.a2a): ``keys`` (public JWKs),
    #: ``jwks_url``, ``card_digest``, ``allow_unsigned``, ``effects`` (the operator's, per skill)
    a2a: Mapping[str, Any] = field(default_factory=dict)

    def proctor_tool(
        self, upstream_tool: str, description: str = "", input_schema: Mapping[str, Any] | None = None
    ) -> ToolRecord:
        """The Proctor registration of one upstream tool (refuses names it cannot route safely).
        ``input_schema`` is the tool's MCP ``inputSchema`` (the configuration's own wins); a schema
        Proctor cannot keep (too large, not JSON) is dropped: its arguments are then untyped, so a
        policy reading them does not validate for this tool and its calls are denied."""
        if not routable(upstream_tool):
            raise ValidationError(
                f"upstream tool `{upstream_tool[:80]}` of `{self.namespace}` has a name Proctor cannot route"
            )
        raw: dict[str, Any] = dict(self.default)
        raw.update(self.described(upstream_tool))
        raw["name"] = canonical_name(self.namespace, upstream_tool)
        raw["description"] = description[:2000]
        if input_schema is not None and "input_schema" not in raw:
            with contextlib.suppress(ValidationError):  # kept untyped, see above
                raw["input_schema"] = input_schema_text(input_schema)
        return tool_from_mapping(raw, f"upstream `{self.namespace}` tool `{upstream_tool}`")

    def described(self, upstream_tool: str) -> Mapping[str, Any]:
        """This configuration's description of a tool, matched as Proctor names it (ignoring case),
        so an upstream cannot shed a tool's effect or flags by listing it as `Transfer`."""
        exact = self.tools.get(upstream_tool)
        if exact is not None:
            return exact
        lower = upstream_tool.lower()
        found = [desc for name, desc in self.tools.items() if name.lower() == lower]
        if len(found) > 1:
            raise ValidationError(
                f"upstream `{self.namespace}` describes tool `{upstream_tool[:80]}` twice, in different case"
            )
        return found[0] if found else {}

    def declared_effects(self, allow: Sequence[str]) -> frozenset[str]:
        """The effects this upstream's configuration gives the tools ``allow`` patterns can match:
        each described tool's effect, and the default effect when a pattern can match a tool the
        configuration does not describe."""
        effects: set[str] = set()
        default = str(self.default.get("effect", "execute"))
        described = {canonical_name(self.namespace, t) for t in self.tools if routable(t)}
        for pat in allow:
            for tool, desc in self.tools.items():
                if routable(tool) and fnmatchcase(canonical_name(self.namespace, tool), pat):
                    effects.add(str(desc.get("effect", default)))
            literal = not any(c in pat for c in "*?[")
            if literal and pat in described:
                continue
            if declares_namespace([pat], self.namespace):
                effects.add(default)
        return frozenset(effects)

    def exposed_name(self, upstream_tool: str) -> str:
        """The name agents see for an upstream *prompt* (tools: :func:`proctor.gateway.names.exposed_name`)."""
        return f"{self.namespace}.{upstream_tool}" if self.prefix else upstream_tool

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {"namespace": self.namespace, "transport": self.transport}
        if self.transport == "stdio":
            out["command"] = self.command
            if self.args:
                out["args"] = list(self.args)
            if self.env:
                out["env"] = dict(self.env)
        else:
            out["url"] = self.url
        if self.transport == "a2a":
            out["a2a"] = dict(self.a2a)
        out["default"] = dict(self.default)
        if self.tools:
            out["tools"] = {k: dict(v) for k, v in self.tools.items()}
        if self.timeout_s != 30.0:
            out["timeout"] = f"{round(self.timeout_s * 1000)}ms"
        if self.max_answer_bytes != DEFAULT_MAX_ANSWER_BYTES:
            out["max_answer_bytes"] = self.max_answer_bytes
        if not self.prefix:
            out["prefix"] = False
        if self.credentials:
            out["credentials"] = [c.to_mapping() for c in self.credentials]
        return out


def _max_answer_bytes(raw: Any, where: str) -> int:
    """``max_answer_bytes``: a whole number of bytes from 1 KiB to the transport's 16 MiB."""
    if type(raw) is not int or not MIN_MAX_ANSWER_BYTES <= raw <= MAX_RESPONSE_BYTES:
        raise ConfigError(
            f"{where}: `max_answer_bytes` is a whole number of bytes from {MIN_MAX_ANSWER_BYTES}"
            f" to {MAX_RESPONSE_BYTES}"
        )
    return raw


def upstream_from_mapping(raw: Any, where: str = UPSTREAMS_FILE) -> UpstreamConfig:
    """Check one upstream entry; unknown keys and unsafe values are refused."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: each upstream must be a mapping")
    check_keys(raw, UPSTREAM_KEYS, where, error=ConfigError)
    ns = str(raw.get("namespace", ""))
    if not _NAMESPACE.fullmatch(ns):
        raise ConfigError(f"{where}: invalid namespace `{ns[:80]}`: use 1-63 of a-z 0-9 - _")
    transport = str(raw.get("transport", "stdio" if "command" in raw else "http"))
    where = f"{where}: upstream `{ns}`"
    if transport == "stdio":
        command = raw.get("command")
        if not isinstance(command, str) or not command:
            raise ConfigError(f"{where}: a stdio upstream needs `command`")
        args = raw.get("args") or []
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ConfigError(f"{where}: `args` must be a list of strings")
        env = raw.get("env") or {}
        if not isinstance(env, Mapping) or not all(
            isinstance(k, str) and _ENV_NAME.fullmatch(k) and isinstance(v, str) for k, v in env.items()
        ):
            raise ConfigError(f"{where}: `env` must map variable names to strings")
        url = None
    elif transport == "http":
        url = raw.get("url")
        if not isinstance(url, str) or not re.match(r"https?://[^\s]+$", url):
            raise ConfigError(f"{where}: an http upstream needs a `url` starting with http:// or https://")
        command, args, env = None, [], {}
    elif transport == "a2a":
        url = raw.get("url")
        if not isinstance(url, str) or not re.match(r"https?://[^\s]+$", url):
            raise ConfigError(f"{where}: an a2a upstream needs the `url` of its agent card")
        command, args, env = None, [], {}
        if raw.get("credentials"):
            raise ConfigError(f"{where}: an a2a upstream takes no credentials")
    else:
        raise ConfigError(f"{where}: transport is `stdio`, `http` or `a2a`, not `{transport}`")
    a2a = raw.get("a2a") or {}
    if transport == "a2a":
        from proctor.gateway.a2a import A2A_KEYS

        if not isinstance(a2a, Mapping) or set(a2a) - A2A_KEYS:
            raise ConfigError(f"{where}: `a2a` takes {', '.join(sorted(A2A_KEYS))}")
        if not a2a.get("keys") and not a2a.get("jwks_url") and not a2a.get("allow_unsigned"):
            raise ConfigError(
                f"{where}: an a2a upstream needs a pinned card key (`a2a.keys` or `a2a.jwks_url`)"
            )
        if not isinstance(a2a.get("card_digest"), str):
            raise ConfigError(f"{where}: an a2a upstream needs its pinned `a2a.card_digest`")
    elif a2a:
        raise ConfigError(f"{where}: `a2a` is for an a2a upstream only")
    default = dict(raw.get("default") or {"effect": "execute"})
    tools = raw.get("tools") or {}
    if not isinstance(tools, Mapping):
        raise ConfigError(f"{where}: `tools` maps upstream tool names to their description")
    for desc_where, desc in [("default", default), *((f"tools.{k}", v) for k, v in tools.items())]:
        if not isinstance(desc, Mapping) or set(desc) - TOOL_DESCRIPTION_KEYS:
            raise ConfigError(f"{where}: `{desc_where}` takes {', '.join(sorted(TOOL_DESCRIPTION_KEYS))}")
    cfg = UpstreamConfig(
        namespace=ns,
        transport=transport,
        command=command,
        args=tuple(args),
        env=dict(env),
        url=url,
        default=default,
        tools={str(k): dict(v) for k, v in tools.items()},
        timeout_s=parse_duration(raw.get("timeout", "30s"), "timeout"),
        max_answer_bytes=_max_answer_bytes(raw.get("max_answer_bytes", DEFAULT_MAX_ANSWER_BYTES), where),
        prefix=bool(raw.get("prefix", True)),
        credentials=credentials_from_list(raw.get("credentials"), transport, where),
        a2a=dict(a2a),
    )
    try:  # every description must make a valid tool registration
        cfg.proctor_tool("probe")
        for name in cfg.tools:
            cfg.proctor_tool(name)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {exc.message}") from None
    return cfg


def upstreams_keys() -> list[str]:
    """Every key ``upstreams.yaml`` accepts, as dotted paths (``[]``: a list's items; ``<tool>``: an
    upstream tool's name); a credential's keys are the gateway's and its provider's.

    >>> "upstreams[].tools.<tool>.effect" in upstreams_keys()
    True
    """
    from proctor.config import TOOL_LABEL_KEYS
    from proctor.credentials.providers.injected import GATEWAY_KEYS, INJECTED_KEYS
    from proctor.credentials.providers.jwt import SPEC_KEYS as JWT_KEYS
    from proctor.credentials.providers.postgres import SPEC_KEYS as POSTGRES_KEYS

    keys = {"upstreams"} | {f"upstreams[].{k}" for k in UPSTREAM_KEYS}
    for where in ("upstreams[].default", "upstreams[].tools.<tool>"):
        keys |= {f"{where}.{k}" for k in TOOL_DESCRIPTION_KEYS}
        keys |= {f"{where}.labels.{k}" for k in TOOL_LABEL_KEYS}
    for k in GATEWAY_KEYS | INJECTED_KEYS | JWT_KEYS | POSTGRES_KEYS:
        keys.add(f"upstreams[].credentials[].{k}")
    from proctor.gateway.a2a import A2A_KEYS

    keys |= {f"upstreams[].a2a.{k}" for k in A2A_KEYS}
    return sorted(keys)


#: argument names that say which data a tool touches, as MCP servers commonly spell them
RESOURCE_NAMES = (
    "path",
    "file_path",
    "filepath",
    "file",
    "filename",
    "directory",
    "dir",
    "repo_path",
    "repository",
    "repo",
    "url",
    "uri",
    "source",
    "destination",
    "target",
    "table",
    "bucket",
)
#: the same for arguments that hold a list of them
RESOURCE_LIST_NAMES = ("paths", "files", "urls", "uris", "sources", "tables")


def suggest_resource_arg(input_schema: Mapping[str, Any] | None) -> str | None:
    """The ``resource_arg`` a tool's input schema suggests (``path``, ``source,destination``,
    ``paths[]``), or None when no argument looks like the data it touches.

    >>> suggest_resource_arg({"properties": {"source": {"type": "string"}, "destination": {"type": "string"}}})
    'source,destination'
    >>> suggest_resource_arg({"properties": {"paths": {"type": "array", "items": {"type": "string"}}}})
    'paths[]'
    >>> suggest_resource_arg({"properties": {"timezone": {"type": "string"}}}) is None
    True
    """
    props = (input_schema or {}).get("properties")
    if not isinstance(props, Mapping):
        return None
    found: list[str] = []
    for name, spec in props.items():
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        if name in RESOURCE_NAMES and kind in (None, "string", "integer"):
            found.append(str(name))
        elif name in RESOURCE_LIST_NAMES and kind == "array":
            found.append(f"{name}[]")
    return ",".join(found[:8]) or None


def case_unique(listed: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """An upstream's tool listing without the names that are equal to another after lowercasing:
    Proctor names tools in lowercase, so neither of two such tools can be told apart (registered,
    described, pinned or called) and neither is offered."""
    counts: dict[str, int] = {}
    for name in listed:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    if len(counts) == len(listed):
        return dict(listed)
    log.warning(
        "upstream `%s` lists tools whose names differ only in case; they are hidden: %s",
        namespace,
        ", ".join(sorted(n[:64] for n in listed if counts[n.lower()] > 1)[:10]),
    )
    return {n: t for n, t in listed.items() if counts[n.lower()] == 1}


#: an ``upstreams.yaml`` larger than this is refused unread (it holds a handful of upstreams)
MAX_UPSTREAMS_BYTES = 1 << 20


def _read_upstreams_file(path: Path) -> str:
    """The file's text: a regular file of at most ``MAX_UPSTREAMS_BYTES``. A FIFO, device or
    directory is refused without waiting on it (the running gateway reads this file on its event
    loop: a FIFO would stop it for good)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{UPSTREAMS_FILE}: not a regular file")
        raw = fh.read(MAX_UPSTREAMS_BYTES + 1)
    if len(raw) > MAX_UPSTREAMS_BYTES:
        raise ConfigError(f"{UPSTREAMS_FILE}: larger than {MAX_UPSTREAMS_BYTES} bytes")
    return raw.decode("utf-8")


def load_upstreams(workspace_root: Path) -> list[UpstreamConfig]:
    """Read ``upstreams.yaml`` (absent means no upstreams)."""
    path = workspace_root / UPSTREAMS_FILE
    try:
        data = yaml.safe_load(_read_upstreams_file(path))
    except FileNotFoundError:
        return []
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{UPSTREAMS_FILE}: not valid UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{UPSTREAMS_FILE}: cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        # the YAML error quotes the file, which may hold env values: name only the position
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{UPSTREAMS_FILE}: not valid YAML{where}") from None
    if data is None:
        return []
    if not isinstance(data, Mapping) or set(data) - {"upstreams"}:
        raise ConfigError(f"{UPSTREAMS_FILE}: expected a mapping with one key, `upstreams`")
    items = data.get("upstreams") or []
    if not isinstance(items, list):
        raise ConfigError(f"{UPSTREAMS_FILE}: `upstreams` must be a list")
    ups = [upstream_from_mapping(u, f"{UPSTREAMS_FILE}: upstreams[{i}]") for i, u in enumerate(items)]
    names = [u.namespace for u in ups]
    if len(set(names)) != len(names):
        raise ConfigError(f"{UPSTREAMS_FILE}: a namespace appears twice")
    if sum(not u.prefix for u in ups) > 1:
        raise ConfigError(f"{UPSTREAMS_FILE}: at most one upstream may set `prefix: false`")
    return ups


def save_upstreams(workspace_root: Path, upstreams: list[UpstreamConfig]) -> None:
    """Write ``upstreams.yaml`` atomically (a crash never leaves half a file)."""
    text = "# Upstream MCP servers. Managed by `proctor upstream add|remove`; edits by hand are fine.\n"
    text += yaml.safe_dump({"upstreams": [u.to_mapping() for u in upstreams]}, sort_keys=False)
    fd, tmp = tempfile.mkstemp(dir=workspace_root, prefix=".upstreams-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, workspace_root / UPSTREAMS_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
