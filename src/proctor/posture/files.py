"""Files the scanner reads: MCP client configurations, ``.env`` files, agent manifests and
Proctor's ``upstreams.yaml``.

Every structured file is walked leaf by leaf (each string under its JSON path) through
:func:`proctor.posture.secrets.inspect_value`; MCP server entries (``mcpServers``, ``servers``,
``upstreams``) are also checked for unpinned packages, and tool listings (objects with ``name``
and ``description``) for instructions to the model. Locations are ``path:line`` where the key or
value can be found in the text.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from proctor.posture.findings import Finding, finding
from proctor.posture.secrets import inspect_value

#: files bigger than this are not read
MAX_FILE_BYTES = 1 << 20
_SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", "dist"}
)
_STRUCTURED = (".json", ".yaml", ".yml", ".toml", ".jsonc")
_SERVER_KEYS = ("mcpServers", "servers", "context_servers")
#: libyaml's safe loader when PyYAML was built with it (10x faster), else the pure-Python one
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def client_config_paths(home: Path | None = None) -> list[Path]:
    """Where MCP clients keep their configuration on Linux and macOS (the ones that exist)."""
    h = home or Path.home()
    mac = h / "Library" / "Application Support"
    cfg = Path(os.environ.get("XDG_CONFIG_HOME") or h / ".config")
    candidates = [
        mac / "Claude" / "claude_desktop_config.json",  # Claude Desktop (macOS)
        cfg / "Claude" / "claude_desktop_config.json",  # Claude Desktop (Linux builds)
        h / ".cursor" / "mcp.json",  # Cursor
        h / ".codeium" / "windsurf" / "mcp_config.json",  # Windsurf
        h / ".claude.json",  # Claude Code (user and per-project servers)
        h / ".claude" / "settings.json",
        mac / "Code" / "User" / "settings.json",  # VS Code
        mac / "Code" / "User" / "mcp.json",
        cfg / "Code" / "User" / "settings.json",
        cfg / "Code" / "User" / "mcp.json",
    ]
    return [p for p in candidates if p.is_file()]


def wanted(path: Path) -> bool:
    """A file the scanner reads: structured configuration, a ``.env`` file or direnv's ``.envrc``."""
    name = path.name
    return (
        name in (".env", ".envrc")
        or name.startswith(".env.")
        or name.endswith(".env")
        or name.endswith(_STRUCTURED)
        or name == ".mcp.json"
    )


def walk(paths: Iterable[Path]) -> Iterator[Path]:
    """The files to read under ``paths`` (files given are read whatever their name)."""
    for root in paths:
        if root.is_file():
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for f in sorted(filenames):
                p = Path(dirpath, f)
                if wanted(p):
                    yield p


@dataclass
class Server:
    """One MCP server as a client or Proctor starts it."""

    name: str
    path: str
    line: int
    command: str = ""
    args: list[str] = field(default_factory=list)


@dataclass
class FileScan:
    findings: list[Finding] = field(default_factory=list)
    #: (fingerprint, subject, location, what) of every secret seen, for shared-key matching
    secrets: list[tuple[str, str, str, str]] = field(default_factory=list)
    servers: list[Server] = field(default_factory=list)
    files: int = 0


class _Lines:
    """Finds the line of a key or value in a file's text (1-based; 0 when not found)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def find(self, *needles: str, after: int = 0) -> int:
        """The first line holding one of ``needles`` (tried in order), at or after line ``after``."""
        start = 0
        for _ in range(max(after - 1, 0)):
            nl = self.text.find("\n", start)
            if nl < 0:
                break
            start = nl + 1
        for needle in needles:
            if not needle:
                continue
            at = self.text.find(needle, start)
            if at >= 0:
                return self.text.count("\n", 0, at) + 1
        return 0


def _loc(path: str, line: int) -> str:
    return f"{path}:{line}" if line else path


def _parse(path: Path, text: str) -> Any:
    name = path.name
    if name.endswith(".toml"):
        return tomllib.loads(text)
    if name.endswith((".yaml", ".yml")):
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader (libyaml's when built)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # JSON with comments (VS Code settings, .jsonc): drop // comments and trailing commas
        stripped = re.sub(r'^\s*//.*$|(?<=[^:"\\])//[^"\n]*$', "", text, flags=re.M)
        return json.loads(re.sub(r",(\s*[}\]])", r"\1", stripped))


def _leaves(node: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, f"{prefix}[{i}]")
    elif isinstance(node, str):
        yield prefix, node


def _arg_name(path: str, value: str, args: list[Any]) -> str:
    """An argument's name: ``--api-key`` for the value after it, else the JSON path."""
    m = re.search(r"\[(\d+)\]$", path)
    if m:
        i = int(m.group(1))
        if "=" in value and value.startswith("-"):
            return value.split("=", 1)[0].lstrip("-")
        prev = args[i - 1] if 0 < i <= len(args) else None
        if isinstance(prev, str) and prev.startswith("-"):
            return prev.lstrip("-")
    return path


def _servers(node: Any, path: str, lines: _Lines) -> Iterator[tuple[str, dict[str, Any]]]:
    """MCP server entries anywhere in a configuration: ``{name: {command|url…}}`` under one of
    :data:`_SERVER_KEYS`, and Proctor's ``upstreams: [{namespace, command…}]``."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in _SERVER_KEYS and isinstance(v, dict):
                for name, spec in v.items():
                    if isinstance(spec, dict) and ("command" in spec or "url" in spec or "serverUrl" in spec):
                        yield str(name), spec
            elif k == "upstreams" and isinstance(v, list):
                for spec in v:
                    if isinstance(spec, dict) and "namespace" in spec:
                        yield str(spec["namespace"]), spec
            else:
                yield from _servers(v, path, lines)
    elif isinstance(node, list):
        for v in node:
            yield from _servers(v, path, lines)


# -- unpinned packages -----------------------------------------------------------------------------
_NPX_FLAGS_WITH_VALUE = frozenset({"-p", "--package", "-c", "--call"})
#: ``uvx`` options that take a value (``--from`` is read as the package)
_UVX_FLAGS_WITH_VALUE = frozenset(
    {
        "-p",
        "--python",
        "--with",
        "-w",
        "--with-editable",
        "--with-requirements",
        "--index",
        "--index-url",
        "-i",
        "--extra-index-url",
        "--default-index",
        "--find-links",
        "-f",
        "--constraints",
        "-c",
        "--overrides",
        "--cache-dir",
        "--config-file",
        "--directory",
        "--project",
    }
)


def _npm_pinned(spec: str) -> bool:
    """``pkg@1.2.3`` / ``@scope/pkg@1.2.3`` pinned; ``pkg``, ``pkg@latest``, ranges are not."""
    at = spec.rfind("@")
    if at <= 0:
        return spec.startswith(("/", "./", "../", "file:", "http://", "https://", "git+"))
    version = spec[at + 1 :]
    return bool(re.fullmatch(r"v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?", version))


def _py_pinned(spec: str) -> bool:
    """``pkg==1.0`` / ``pkg@1.0`` (uvx) / a path or URL pinned; ``pkg``, ``pkg@latest`` are not."""
    if spec.startswith(("/", "./", "git+", "http")):
        return True
    at = re.search(r"@\s*(\S+)", spec)
    return "==" in spec or (at is not None and at.group(1).lower() != "latest")


#: ``docker run`` / ``podman run`` options that take a value as the next argument
_DOCKER_FLAGS_WITH_VALUE = frozenset(
    {
        "-e",
        "--env",
        "--env-file",
        "-v",
        "--volume",
        "--mount",
        "--name",
        "-p",
        "--publish",
        "--network",
        "--net",
        "-w",
        "--workdir",
        "-u",
        "--user",
        "--entrypoint",
        "-l",
        "--label",
        "--platform",
        "--pull",
        "-m",
        "--memory",
        "--cpus",
        "--add-host",
        "--hostname",
        "-h",
        "--cap-add",
        "--cap-drop",
        "--device",
        "--dns",
        "--ipc",
        "--pid",
        "--restart",
        "--runtime",
        "--security-opt",
        "--tmpfs",
        "--ulimit",
        "--userns",
        "--log-driver",
        "--log-opt",
        "--gpus",
        "--shm-size",
        "--stop-signal",
        "--cidfile",
        "-a",
        "--attach",
        "--group-add",
        "--expose",
    }
)


def _unpinned_image(args: list[str]) -> str | None:
    """The image ``docker run [opts] IMAGE`` runs with no tag, ``:latest`` (not a digest or a
    version tag), or None."""
    if "run" not in args[:2]:
        return None
    rest = args[args.index("run") + 1 :]
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--":
            i += 1
            continue
        if a.startswith("-"):
            i += 2 if (a in _DOCKER_FLAGS_WITH_VALUE and i + 1 < len(rest)) else 1
            continue
        if "@sha256:" in a:
            return None
        last = a.rsplit("/", 1)[-1]
        tag = last.partition(":")[2]
        return a if not tag or tag.lower() == "latest" else None
    return None


def unpinned_package(command: str, args: list[str]) -> str | None:
    """The package a server command runs unpinned (``npx -y pkg``, ``uvx pkg``, ``docker run
    image:latest``), or None."""
    exe = Path(command).name
    if exe in {"docker", "podman", "nerdctl"}:
        return _unpinned_image(args)
    words = [exe, *args]
    if exe in {"npm", "pnpm", "yarn", "bunx", "bun"} and args[:1] in (["exec"], ["dlx"], ["x"]):
        words = ["npx", *args[1:]]
    elif exe == "uv" and args[:2] == ["tool", "run"]:
        words = ["uvx", *args[2:]]
    elif exe == "pipx" and args[:1] == ["run"]:
        words = ["uvx", *args[1:]]
    head = words[0]
    if head not in {"npx", "uvx", "bunx", "pnpx"}:
        return None
    rest = words[1:]
    i = 0
    while i < len(rest):
        a = rest[i]
        if head == "uvx" and a == "--from" and i + 1 < len(rest):
            return None if _py_pinned(rest[i + 1]) else rest[i + 1]
        flag, eq, inline = a.partition("=")
        if eq and flag in {"--package", "--from"}:  # `--package=pkg@1.2.3`, `--from=pkg==1.0`
            pinned = _py_pinned(inline) if head == "uvx" else _npm_pinned(inline)
            return None if pinned else inline
        if head == "uvx" and a in _UVX_FLAGS_WITH_VALUE and i + 1 < len(rest):
            i += 2  # `--python 3.12`, `--with httpx`, `--index-url URL`
            continue
        if a in _NPX_FLAGS_WITH_VALUE and i + 1 < len(rest):
            if a in {"-p", "--package"}:
                return None if _npm_pinned(rest[i + 1]) else rest[i + 1]
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        pinned = _py_pinned(a) if head == "uvx" else _npm_pinned(a)
        return None if pinned else a
    return None


# -- tool poisoning -------------------------------------------------------------------------------
_HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
_INSTRUCTIONS = (
    (
        re.compile(
            r"\b(ignore|disregard|forget)\b.{0,30}\b(previous|prior|above|earlier|all)\b.{0,30}"
            r"\b(instructions?|prompts?|rules|directions)",
            re.I | re.S,
        ),
        "asks the model to ignore its instructions",
    ),
    (re.compile(r"<\s*(important|system|instructions?|secret)\s*>", re.I), "hidden instruction block"),
    (re.compile(r"<!--.*?\S.*?-->", re.S), "text hidden in an HTML comment"),
    (
        re.compile(
            r"\b(do not|don't|never)\b.{0,20}\b(tell|mention|inform|reveal|show)\b.{0,20}\buser", re.I | re.S
        ),
        "asks the model to keep something from the user",
    ),
    (
        re.compile(
            r"\b(read|cat|open|include|send|pass|upload|attach|print)\b.{0,60}"
            r"(~/\.ssh|id_rsa|id_ed25519|\.env\b|\.aws/credentials|credentials|api[_ -]?keys?|passwords?|"
            r"private key|mcp\.json|claude_desktop_config|secrets?\b|tokens?\b|/etc/(passwd|shadow)|\.netrc|"
            r"\.git-credentials|\.npmrc|\.pypirc|\.kube/config|\.docker/config\.json)",
            re.I | re.S,
        ),
        "asks the model to read or send credentials",
    ),
    (
        re.compile(
            r"\b(call|use|invoke|run)\b.{0,30}\b(read|cat|get|open)_?\w*\b.{0,30}"
            r"(~/\.ssh|id_rsa|id_ed25519|\.aws/|/etc/(passwd|shadow)|\.netrc|\.git-credentials|\.kube/config|\.env\b)",
            re.I | re.S,
        ),
        "asks the model to read credentials with another tool",
    ),
    (
        re.compile(
            r"\b(send|post|upload|forward|exfiltrate|transmit)\w*\b.{0,30}"
            r"\b(conversation|history|contents?|results?|context|files?|outputs?|everything)\b.{0,30}"
            r"\bto\b.{0,15}https?://",
            re.I | re.S,
        ),
        "asks the model to send data to an address",
    ),
    (
        re.compile(
            r"\b(always|also)\b.{0,40}\b(bcc|cc|forward|send|copy)\b.{0,40}[\w.+-]+@[\w-]+\.\w+", re.I | re.S
        ),
        "tells the model to copy messages to an address (shadowing another tool)",
    ),
    (
        re.compile(
            r"\b(before|after)\b.{0,20}\b(using|calling)\b.{0,20}\b(this|any)\b.{0,10}\btool\b.{0,40}"
            r"\b(must|always|first)\b",
            re.I | re.S,
        ),
        "tells the model what to do around other calls",
    ),
)


def poisoning(description: str) -> list[str]:
    """Why ``description`` carries instructions to the model (empty when it does not)."""
    why: list[str] = []
    hidden = _HIDDEN.findall(description)
    if hidden:
        names = sorted({f"U+{ord(c):04X}" for c in hidden})[:4]
        why.append(f"{len(hidden)} hidden character(s) ({', '.join(names)})")
    text = unicodedata.normalize("NFKC", _HIDDEN.sub("", description))
    why.extend(reason for rx, reason in _INSTRUCTIONS if rx.search(text))
    return why


def _schema_descriptions(tool: dict[str, Any]) -> str:
    """A tool's own description and those of its parameters (``inputSchema`` / ``input_schema``
    / ``parameters``, at any depth): poisoning hides in a parameter's description too."""
    parts = [tool["description"]]
    for key in ("inputSchema", "input_schema", "parameters"):
        for path, text in _leaves(tool.get(key)):
            if path.rsplit(".", 1)[-1] == "description":
                parts.append(text)
    return "\n".join(parts)


def _tool_listings(node: Any) -> Iterator[tuple[str, str]]:
    """``(name, descriptions)`` of every tool-like object (``name`` + ``description`` strings, in a
    ``tools`` list or with an ``inputSchema``), its parameters' descriptions included."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "tools" and isinstance(v, list):
                for t in v:
                    if (
                        isinstance(t, dict)
                        and isinstance(t.get("name"), str)
                        and isinstance(t.get("description"), str)
                    ):
                        yield t["name"], _schema_descriptions(t)
            elif k == "tools" and isinstance(v, dict):
                for name, t in v.items():
                    if isinstance(t, dict) and isinstance(t.get("description"), str):
                        yield str(name), _schema_descriptions(t)
            else:
                yield from _tool_listings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _tool_listings(v)


# -- files ----------------------------------------------------------------------------------------
def _dotenv(text: str) -> Iterator[tuple[int, str, str]]:
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        end = value.find(value[0], 1) if value[:1] in ("'", '"') else -1
        if end > 0:  # `"value"`, `'value' # comment`
            value = value[1:end]
        elif " #" in value:
            value = value.split(" #", 1)[0].strip()
        yield i, key.strip(), value


def scan_file(path: Path, result: FileScan, now: float) -> None:
    """Add what ``path`` holds to ``result`` (an unreadable or unparsable file is skipped)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return
    result.files += 1
    spath = str(path)
    name = path.name
    if name in (".env", ".envrc") or name.startswith(".env.") or name.endswith(".env"):
        for line, key, value in _dotenv(text):
            _add_hits(result, spath, line, key, value, subject=spath, now=now)
        return
    if not any(
        marker in text
        for marker in (
            "mcpServers",
            "servers",
            "upstreams",
            "env",
            "tools",
            "description",
            "token",
            "key",
            "secret",
            "KEY",
            "TOKEN",
            "SECRET",
            "credential",
            "password",
            "PROFILE",
            "KUBECONFIG",
            "eyJ",
        )
    ):
        return
    try:
        data = _parse(path, text)
    except (ValueError, yaml.YAMLError, RecursionError):
        return
    if not isinstance(data, dict | list):
        return
    lines = _Lines(text)
    in_server: set[str] = set()
    after = 0  # servers are found in file order: each is looked for after the one before
    for sname, spec in _servers(data, spath, lines):
        line = lines.find(f'"{sname}"', f"namespace: {sname}", f"{sname}:", after=after)
        after = max(after, line)
        args = (
            [a for a in spec.get("args") or [] if isinstance(a, str)]
            if isinstance(spec.get("args"), list)
            else []
        )
        server = Server(sname, spath, line, str(spec.get("command") or ""), args)
        result.servers.append(server)
        pkg = unpinned_package(server.command, server.args)
        if pkg is not None:
            result.findings.append(
                finding(
                    "upstream.unpinned",
                    _loc(spath, lines.find(pkg, after=line) or line),
                    f"server `{sname}` runs `{Path(server.command).name} {pkg}` with no version",
                    subject=sname,
                )
            )
        for key, value in _leaves(spec):
            leaf_name = _arg_name(key, value, spec.get("args") or []) if key.startswith("args[") else key
            _add_hits(
                result,
                spath,
                _finder(lines, key, value, line),
                leaf_name,
                value,
                subject=f"server:{sname}",
                now=now,
            )
            in_server.add(value)
    for tname, desc in _tool_listings(data):
        why = poisoning(desc)
        if why:
            result.findings.append(
                finding(
                    "tool.poisoned-description",
                    _loc(spath, lines.find(f'"{tname}"', f"{tname}:")),
                    f"tool `{tname[:80]}`: " + "; ".join(why),
                    subject=tname,
                )
            )
    for key, value in _leaves(data):
        if value in in_server or key.endswith(".description"):
            continue
        _add_hits(result, spath, _finder(lines, key, value), key, value, subject=spath, now=now)


def _finder(lines: _Lines, key: str, value: str, after: int = 0) -> Callable[[], int]:
    """The line of a leaf, looked up only when it has a finding."""
    last = key.rsplit(".", 1)[-1]
    return lambda: lines.find(f'"{last}"', f"{last}:", value[:40], after=after)


def _add_hits(
    result: FileScan,
    path: str,
    line: int | Callable[[], int],
    name: str,
    value: str,
    *,
    subject: str,
    now: float,
) -> None:
    for hit in inspect_value(name, value, now):
        loc = _loc(path, line if isinstance(line, int) else line())
        short = name.rsplit(".", 1)[-1] if "." in name else name
        result.findings.append(finding(hit.rule, loc, f"`{short[:60]}`: {hit.what}", subject=subject))
        if hit.fp is not None:
            result.secrets.append((hit.fp, subject, loc, hit.what))


def scan_environment(env: Mapping[str, str], result: FileScan, now: float) -> None:
    """Inspect a process environment as an agent's (``proctor scan --env``, run where the agent
    runs): each variable is located as ``env:NAME``."""
    for name in sorted(env):
        _add_hits(result, f"env:{name}", 0, name, env[name], subject="environment", now=now)


def scan_paths(paths: Iterable[Path], now: float, result: FileScan | None = None) -> FileScan:
    """Scan files and directories (``scan.files``)."""
    result = result if result is not None else FileScan()
    for p in walk(paths):
        try:
            scan_file(p, result, now)
        except RecursionError:  # a pathologically nested file
            print(f"proctor scan: skipped {p}: nested too deeply", file=sys.stderr)
    return result


__all__ = [
    "MAX_FILE_BYTES",
    "FileScan",
    "Server",
    "client_config_paths",
    "poisoning",
    "scan_environment",
    "scan_file",
    "scan_paths",
    "unpinned_package",
    "walk",
    "wanted",
]
