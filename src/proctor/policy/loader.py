"""Load a policy directory into a validated, pre-parsed :class:`PolicySet`.

Cedar's Python binding reports parse errors without a location, and validation errors against
``policyN`` ids. So the loader splits each file into statements itself, parses them one at a
time, and keeps a map from each policy to ``file:line``: every error names where it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cedarpy

from proctor.errors import PolicyLoadError

__all__ = [
    "MAX_ERROR_CHARS",
    "MAX_NESTING",
    "MAX_POLICY_BYTES",
    "MAX_REPORTED_ERRORS",
    "MAX_SCHEMA_BYTES",
    "MAX_STATEMENT_BYTES",
    "SCHEMA_FILE",
    "PolicySet",
    "PolicySource",
    "compile_policies",
    "content_version",
    "load_policy_dir",
    "located",
    "policy_errors",
    "read_policy_dir",
    "schema_actions",
    "split_statements",
]


SCHEMA_FILE = "schema.cedarschema"
MAX_POLICY_BYTES = 1 << 20
#: Cedar's parser and evaluator recurse on the calling thread's stack: a 2 KB statement of 1,000
#: nested parentheses, or 20,000 terms joined by `&&`, crashes the whole process (SIGSEGV). These
#: bounds keep every statement far inside what parses and evaluates on a thread's default stack.
MAX_STATEMENT_BYTES = 16 * 1024
MAX_NESTING = 64
MAX_SCHEMA_BYTES = 256 * 1024
#: how many problems a rejected set reports (audit record, ``/healthz``, ``proctor status``)
MAX_REPORTED_ERRORS = 20
MAX_ERROR_CHARS = 500


def located(file: str | None, line: int | None, text: str) -> PolicyLoadError:
    """A load error at ``file:line`` whose details hold it as one structured problem."""
    where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
    return PolicyLoadError(
        f"{where}{text}", file=file, line=line, errors=[{"file": file, "line": line, "message": text}]
    )


def policy_errors(exc: PolicyLoadError) -> list[dict[str, Any]]:
    """The problems of a rejected set as ``{"file", "line", "message"}`` (file and line may be
    None), at most :data:`MAX_REPORTED_ERRORS`, each message cut at :data:`MAX_ERROR_CHARS`."""
    raw = exc.details.get("errors")
    if not isinstance(raw, list) or not raw or not all(isinstance(e, dict) for e in raw):
        raw = [{"file": exc.details.get("file"), "line": exc.details.get("line"), "message": exc.message}]
    out: list[dict[str, Any]] = []
    for e in raw[:MAX_REPORTED_ERRORS]:
        file, line = e.get("file"), e.get("line")
        out.append(
            {
                "file": str(file) if file else None,
                "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
                "message": str(e.get("message", ""))[:MAX_ERROR_CHARS],
            }
        )
    return out


@dataclass(frozen=True, slots=True)
class PolicySource:
    """Where one policy came from."""

    policy_id: str
    file: str
    line: int
    effect: str
    annotations: dict[str, str]


@dataclass(frozen=True)
class PolicySet:
    """A validated, parsed set of policies plus its schema, identified by a content hash."""

    version: str
    cedar: Any  # cedarpy.PolicySet
    schema: Any  # cedarpy.Schema
    schema_text: str
    sources: dict[str, PolicySource]
    files: dict[str, str]
    actions: frozenset[str] = field(default_factory=frozenset)

    def approval_of(self, policy_id: str) -> str | None:
        src = self.sources.get(policy_id)
        return None if src is None else src.annotations.get("approval")


def split_statements(text: str) -> list[tuple[int, str]]:
    """Split Cedar text into ``(line, statement)`` pairs at top-level ``;``.

    Comments and string literals are respected, so a ``;`` inside either does not split.

    >>> [ln for ln, _ in split_statements('permit(principal,action,resource);\\n\\n// x;\\nforbid(principal,action,resource);')]
    [1, 4]
    """
    out: list[tuple[int, str]] = []
    i, n, line, depth = 0, len(text), 1, 0
    start, start_line = 0, None
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c == '"':
            if start_line is None:
                start_line = line
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n":
                    line += 1
                i += 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ";" and depth == 0:
            out.append((start_line or line, text[start : i + 1]))
            start, start_line = i + 1, None
            i += 1
            continue
        if start_line is None and not c.isspace():
            start_line = line
        i += 1
    rest = text[start:]
    if start_line is not None and _has_code(rest):
        out.append((start_line, rest))
    return out


def _has_code(text: str) -> bool:
    return any(ln.strip() and not ln.strip().startswith("//") for ln in text.splitlines())


def content_version(files: dict[str, str], schema_text: str) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    h.update(b"schema\0" + schema_text.encode())
    return "sha256:" + h.hexdigest()[:32]


def read_policy_dir(directory: Path) -> tuple[dict[str, str], str]:
    """Read ``*.cedar`` and the schema from a directory, with clear errors."""
    if not directory.is_dir():
        raise PolicyLoadError(f"policy directory `{directory}` does not exist")
    schema_path = directory / SCHEMA_FILE
    if not schema_path.is_file():
        raise located(
            SCHEMA_FILE, None, f"`{schema_path}` is missing: every policy set needs the Proctor schema"
        )
    files: dict[str, str] = {}
    for path in sorted(directory.glob("*.cedar")):
        files[path.name] = _read_text(path, MAX_POLICY_BYTES)
    schema = _read_text(schema_path, MAX_SCHEMA_BYTES)
    if (deep := _max_nesting(schema)) > MAX_NESTING:
        raise located(SCHEMA_FILE, None, f"nested {deep} levels deep; the limit is {MAX_NESTING}")
    return files, schema


def _read_text(path: Path, limit: int) -> str:
    """A regular file's text, at most ``limit`` bytes. A FIFO, device or directory is refused
    without waiting on it (a FIFO named `x.cedar` used to block the policy watcher for ever)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise located(path.name, None, f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise located(path.name, None, "not a regular file")
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise located(path.name, None, f"file is larger than {limit} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise located(path.name, None, f"not UTF-8 text ({exc.reason})") from None


def _max_nesting(text: str) -> int:
    """How deep ``(``, ``[`` and ``{`` nest outside strings and comments."""
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]}":
            depth -= 1
        i += 1
    return deepest


def compile_policies(files: dict[str, str], schema_text: str) -> PolicySet:
    """Parse and validate policies against the schema. Raises :class:`PolicyLoadError`."""
    try:
        schema = cedarpy.Schema.from_str(schema_text)
    except ValueError as exc:
        raise located(SCHEMA_FILE, None, str(exc)) from None
    sources: dict[str, PolicySource] = {}
    static: dict[str, Any] = {}
    ordered: list[str] = []
    texts: list[str] = []
    for fname in sorted(files):
        for line, stmt in split_statements(files[fname]):
            if len(stmt.encode()) > MAX_STATEMENT_BYTES:
                raise located(fname, line, f"statement is longer than {MAX_STATEMENT_BYTES} bytes")
            if (deep := _max_nesting(stmt)) > MAX_NESTING:
                raise located(fname, line, f"nested {deep} levels deep; the limit is {MAX_NESTING}")
            try:
                parsed = json.loads(cedarpy.policies_to_json_str(stmt))
            except ValueError as exc:
                raise located(fname, line, str(exc)) from None
            except RecursionError:  # Cedar parsed it; its JSON form is deeper than Python reads
                raise located(fname, line, "expression is too deeply built (split it up)") from None
            pols = parsed.get("staticPolicies", {})
            if parsed.get("templates"):
                raise located(fname, line, "templates are not supported in policy files")
            if len(pols) != 1:
                raise located(fname, line, "expected exactly one policy in this statement")
            body = next(iter(pols.values()))
            ann: dict[str, str] = {k: str(v) for k, v in (body.get("annotations") or {}).items()}
            pid = ann.get("id") or f"{fname}:{line}"
            if pid in sources:
                other = sources[pid]
                raise located(fname, line, f"policy id `{pid}` is already used at {other.file}:{other.line}")
            sources[pid] = PolicySource(pid, fname, line, str(body.get("effect")), ann)
            static[pid] = body
            ordered.append(pid)
            texts.append(stmt)
    result = cedarpy.validate_policies("\n".join(texts), schema)
    if not result.validation_passed:
        msgs: list[str] = []
        problems: list[dict[str, Any]] = []
        for err in result.errors:
            pid_index = str(getattr(err, "policy_id", "") or "")
            where = "policies"
            file: str | None = None
            line_no: int | None = None
            if (
                pid_index.startswith("policy")
                and pid_index[6:].isdigit()
                and int(pid_index[6:]) < len(ordered)
            ):
                src = sources[ordered[int(pid_index[6:])]]
                where, file, line_no = f"{src.file}:{src.line}", src.file, src.line
            text = str(err.error).replace(f"policy `{pid_index}`", "policy")
            if '"use_credential"' in text or "Proctor::Credential" in text:
                text += (
                    " (this policy applies to credential requests too: to read tool-call attributes,"
                    " scope it with `resource is Proctor::Tool` or name its actions)"
                )
            msgs.append(f"{where}: {text}")
            problems.append({"file": file, "line": line_no, "message": text})
        raise PolicyLoadError("; ".join(msgs), errors=problems)
    try:
        cedar_set = cedarpy.PolicySet.from_json_str(
            json.dumps({"staticPolicies": static, "templates": {}, "templateLinks": []})
        )
    except ValueError as exc:
        raise located(None, None, f"policies: {exc}") from None
    actions = frozenset(_schema_actions(schema_text))
    return PolicySet(
        version=content_version(files, schema_text),
        cedar=cedar_set,
        schema=schema,
        schema_text=schema_text,
        sources=sources,
        files=dict(files),
        actions=actions,
    )


_COMMENT = re.compile(r"//[^\n]*")
_NAME = r'(?:"[^"\n]+"|[A-Za-z_]\w*)'
_ACTION_DECL = re.compile(rf"\baction\s+({_NAME}(?:\s*,\s*{_NAME})*)\s*(?:\bin\b|\bappliesTo\b|;)")


def _schema_actions(schema_text: str) -> list[str]:
    """The action names the schema declares (used to refuse tools whose effect has no action)."""
    code = _COMMENT.sub("", schema_text)
    return [p.strip().strip('"') for m in _ACTION_DECL.finditer(code) for p in m.group(1).split(",")]


def schema_actions(directory: Path) -> frozenset[str]:
    """The actions the schema file of ``directory`` declares, without compiling any policy."""
    schema_path = directory / SCHEMA_FILE
    if not schema_path.is_file():
        raise located(
            SCHEMA_FILE, None, f"`{schema_path}` is missing: every policy set needs the Proctor schema"
        )
    return frozenset(_schema_actions(_read_text(schema_path, MAX_SCHEMA_BYTES)))


def load_policy_dir(directory: Path) -> PolicySet:
    """Read and compile a policy directory."""
    files, schema_text = read_policy_dir(directory)
    return compile_policies(files, schema_text)
