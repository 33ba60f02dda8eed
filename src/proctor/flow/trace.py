"""The trace format of ``proctor replay`` (docs/trace-format.md, docs/adr/0025 section 6): read,
check and write JSON Lines traces.

A trace file holds ``tool`` lines (tool registrations, the keys of ``proctor tool add`` / the
``tools:`` config plus ``input_schema`` and ``destinations``), ``task`` lines (each starts a task:
its declared intent) and ``call`` lines (one recorded call of the last task: its arguments, when it
was made and what the tool returned). Reading is strict: an unknown key, a value of the wrong type,
a duplicate JSON key, a line or output over its bound is refused with ``file:line``.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from proctor.config import tool_from_mapping, tool_to_mapping
from proctor.errors import ValidationError
from proctor.flow.model import Sensitivity, TaskLabels
from proctor.store.base import ToolRecord
from proctor.types import AgentName, Email
from proctor.validate import check_keys

__all__ = [
    "MAX_LINES",
    "MAX_LINE_BYTES",
    "MAX_OUTPUT_BYTES",
    "MAX_TRACE_BYTES",
    "Trace",
    "TraceCall",
    "TraceError",
    "TraceTask",
    "dump_lines",
    "load_trace",
    "parse_trace",
    "tool_line",
]

#: one line of a trace (a call with its output, JSON-escaped, is the longest)
MAX_LINE_BYTES = 4 << 20
#: one call's output (UTF-8 bytes): what the gateway keeps of an output is bounded too
MAX_OUTPUT_BYTES = 1 << 20
#: lines in one file
MAX_LINES = 200_000
#: one file
MAX_TRACE_BYTES = 256 << 20
#: the length of an id, a name in ``meta`` is free
MAX_ID_CHARS = 200
#: a task's purpose (``task start --purpose`` keeps at most this much too)
MAX_PURPOSE_CHARS = 10_000

TASK_KEYS = (
    "type",
    "id",
    "agent",
    "owner",
    "purpose",
    "params",
    "allow",
    "resources",
    "requested_by",
    "unkept",
    "meta",
)
UNKEPT_KEYS = ("outputs", "read_untrusted", "max_sensitivity", "untrusted_sources")
CALL_KEYS = ("type", "id", "tool", "args", "at", "output", "meta")
#: who a task is for when its line names nobody (a replay decides for nobody real)
NOBODY = "nobody@replay.invalid"


class TraceError(ValidationError):
    """A trace file that is not in the format: ``file:line: problem``."""

    code = "trace_invalid"


def _error(file: str, line: int | None, text: str) -> TraceError:
    at = f"{file}:{line}" if line is not None else file
    return TraceError(f"{at}: {text}", file=file, line=line)


@dataclass(frozen=True, slots=True)
class TraceCall:
    """One recorded call. ``at`` is seconds from its task's start; ``output`` is the text the tool
    returned (None: nothing returned); ``meta`` is carried through untouched."""

    id: str
    tool: str
    args: Mapping[str, Any]
    at: float
    output: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True, slots=True)
class TraceTask:
    """One task: its declared intent and the calls it made, in order."""

    id: str
    agent: str
    owner: str
    purpose: str
    params: tuple[tuple[str, str], ...] = ()
    allow: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ()
    requested_by: str = NOBODY
    #: what the task read that the trace does not hold (outputs evicted or cut before it was
    #: exported): the task's high-water mark then; None when every output is in the trace
    unkept: TaskLabels | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    calls: tuple[TraceCall, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class Trace:
    """One trace file: its tool lines (by name, in file order) and its tasks."""

    name: str
    tools: Mapping[str, ToolRecord]
    tasks: tuple[TraceTask, ...]

    def to_lines(self) -> list[dict[str, Any]]:
        """The file's lines again (tools first, then each task and its calls)."""
        lines = [tool_line(t) for t in self.tools.values()]
        for task in self.tasks:
            lines.append(task_line(task))
            lines.extend(call_line(c) for c in task.calls)
        return lines


# --- reading -----------------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key `{k[:80]}` appears twice")
        out[k] = v
    return out


#: one decoder, made once (``json.loads`` with any option builds a decoder and its scanner per
#: line)
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def _json(text: str) -> Any:
    # as ``json.loads`` does before decoding
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _DECODER.decode(text)


def _string(raw: Mapping[str, Any], key: str, file: str, line: int, *, limit: int = MAX_ID_CHARS) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise _error(file, line, f"`{key}` must be a non-empty string")
    if len(value) > limit:
        raise _error(file, line, f"`{key}` is longer than {limit} characters")
    return value


def _strings(raw: Mapping[str, Any], key: str, file: str, line: int) -> tuple[str, ...]:
    value = raw[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _error(file, line, f"`{key}` must be a list of non-empty strings")
    return tuple(value)


def _object(raw: Mapping[str, Any], key: str, file: str, line: int) -> dict[str, Any]:
    value = raw[key]
    if not isinstance(value, dict):
        raise _error(file, line, f"`{key}` must be a JSON object")
    return value


def _tool_error(exc: ValidationError, file: str, line: int) -> TraceError:
    at = f"{file}:{line}: "
    text = exc.message if exc.message.startswith(at) else f"{at}tool: {exc.message}"
    return TraceError(text, file=file, line=line)


def _tool(raw: dict[str, Any], file: str, line: int) -> ToolRecord:
    body = {k: v for k, v in raw.items() if k != "type"}
    try:
        return tool_from_mapping(body, f"{file}:{line}: tool")
    except ValidationError as exc:
        raise _tool_error(exc, file, line) from None


def _task(raw: dict[str, Any], file: str, line: int) -> TraceTask:
    try:
        check_keys(raw, TASK_KEYS, f"{file}:{line}: task")
    except ValidationError as exc:
        raise TraceError(exc.message, file=file, line=line) from None
    for key in ("id", "agent", "purpose"):
        if key not in raw:
            raise _error(file, line, f"task: `{key}` is required")
    task_id = _string(raw, "id", file, line)
    agent = _string(raw, "agent", file, line)
    purpose = _string(raw, "purpose", file, line, limit=MAX_PURPOSE_CHARS)
    try:
        AgentName(agent)
    except ValidationError as exc:
        raise _error(file, line, f"task: {exc.message}") from None
    people: dict[str, str] = {}
    for key in ("owner", "requested_by"):
        if key in raw:
            people[key] = _string(raw, key, file, line)
            try:
                Email(people[key])
            except ValidationError as exc:
                raise _error(file, line, f"task: `{key}`: {exc.message}") from None
    owner = people.get("owner") or people.get("requested_by") or NOBODY
    requested_by = people.get("requested_by") or owner
    params: tuple[tuple[str, str], ...] = ()
    if "params" in raw:
        got = _object(raw, "params", file, line)
        bad = [k for k, v in got.items() if not isinstance(v, str)]
        if bad:
            raise _error(file, line, f"task: param `{bad[0][:80]}` must be a string")
        params = tuple(sorted(got.items()))
    allow = _strings(raw, "allow", file, line) if "allow" in raw else ("*",)
    resources = _strings(raw, "resources", file, line) if "resources" in raw else ()
    meta = _object(raw, "meta", file, line) if "meta" in raw else {}
    unkept = _unkept(_object(raw, "unkept", file, line), file, line) if "unkept" in raw else None
    return TraceTask(
        id=task_id,
        agent=agent,
        owner=owner,
        purpose=purpose,
        params=params,
        allow=allow,
        resources=resources,
        requested_by=requested_by,
        unkept=unkept,
        meta=meta,
        line=line,
    )


def _unkept(raw: dict[str, Any], file: str, line: int) -> TaskLabels:
    """A task line's ``unkept``: the high-water mark of what the task read, outputs not in the trace."""
    try:
        check_keys(raw, UNKEPT_KEYS, f"{file}:{line}: task: unkept")
    except ValidationError as exc:
        raise TraceError(exc.message, file=file, line=line) from None
    count = raw.get("outputs", 0)
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1 << 31:
        raise _error(file, line, "task: `unkept.outputs` must be a whole number, 0 or more")
    untrusted = raw.get("read_untrusted", False)
    if not isinstance(untrusted, bool):
        raise _error(file, line, "task: `unkept.read_untrusted` must be true or false")
    level = raw.get("max_sensitivity", "public")
    try:
        sensitivity = Sensitivity.parse(level if isinstance(level, str) else "")
    except ValueError as exc:
        raise _error(file, line, f"task: `unkept.max_sensitivity`: {exc}") from None
    sources = _strings(raw, "untrusted_sources", file, line) if "untrusted_sources" in raw else ()
    return TaskLabels(
        read_untrusted=untrusted or bool(sources),
        max_sensitivity=sensitivity,
        untrusted_sources=tuple(sorted(set(sources))),
        outputs=count,
    )


def _call(raw: dict[str, Any], file: str, line: int, index: int) -> TraceCall:
    try:
        check_keys(raw, CALL_KEYS, f"{file}:{line}: call")
    except ValidationError as exc:
        raise TraceError(exc.message, file=file, line=line) from None
    if "tool" not in raw:
        raise _error(file, line, "call: `tool` is required")
    tool = _string(raw, "tool", file, line)
    call_id = _string(raw, "id", file, line) if "id" in raw else str(index)
    args = _object(raw, "args", file, line) if "args" in raw else {}
    at = raw.get("at", 0.0)
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at) or at < 0:
        raise _error(file, line, "call: `at` must be a number of seconds >= 0 from the task's start")
    output = raw.get("output")
    if output is not None:
        if not isinstance(output, str):
            raise _error(file, line, "call: `output` must be a string (the text the tool returned)")
        if len(output) > MAX_OUTPUT_BYTES // 4 and len(output.encode()) > MAX_OUTPUT_BYTES:
            raise _error(file, line, f"call: `output` is larger than {MAX_OUTPUT_BYTES} bytes")
    meta = _object(raw, "meta", file, line) if "meta" in raw else {}
    return TraceCall(call_id, tool, args, float(at), output, meta, line)


def _lines(fh: BinaryIO, file: str) -> Iterator[tuple[int, str]]:
    total = 0
    for n, raw in enumerate(iter(lambda: fh.readline(MAX_LINE_BYTES + 2), b""), start=1):
        if n > MAX_LINES:
            raise _error(file, n, f"more than {MAX_LINES} lines")
        total += len(raw)
        if total > MAX_TRACE_BYTES:
            raise _error(file, n, f"the file is larger than {MAX_TRACE_BYTES} bytes")
        if len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:
            raise _error(file, n, f"line is longer than {MAX_LINE_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _error(file, n, f"not UTF-8 text ({exc.reason})") from None
        yield n, text


def _parse(lines: Iterable[tuple[int, str]], file: str) -> Trace:
    tools: dict[str, ToolRecord] = {}
    tool_at: dict[str, int] = {}
    tasks: list[TraceTask] = []
    task_at: dict[str, int] = {}
    current: TraceTask | None = None
    calls: list[TraceCall] = []
    call_ids: set[str] = set()
    last_line = 0

    def close() -> None:
        if current is not None:
            tasks.append(replace(current, calls=tuple(calls)))

    for n, text in lines:
        last_line = n
        if not text.strip():
            continue
        try:
            raw = _json(text)
        except RecursionError:
            raise _error(file, n, "JSON nested too deeply") from None
        except json.JSONDecodeError as exc:
            raise _error(file, n, f"not valid JSON: {exc.msg} at column {exc.colno}") from None
        except ValueError as exc:  # a duplicate key, NaN, an integer too long to read
            raise _error(file, n, f"not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise _error(file, n, "each line must be a JSON object")
        kind = raw.get("type")
        if kind == "tool":
            tool = _tool(raw, file, n)
            if str(tool.name) in tools:
                raise _error(
                    file, n, f"tool `{tool.name}` is already defined at line {tool_at[str(tool.name)]}"
                )
            tools[str(tool.name)] = tool
            tool_at[str(tool.name)] = n
        elif kind == "task":
            close()
            current = _task(raw, file, n)
            if current.id in task_at:
                raise _error(
                    file, n, f"task `{current.id[:80]}` is already defined at line {task_at[current.id]}"
                )
            task_at[current.id] = n
            calls, call_ids = [], set()
        elif kind == "call":
            if current is None:
                raise _error(file, n, "a call before any task line: a `task` line starts each task")
            call = _call(raw, file, n, len(calls) + 1)
            if call.id in call_ids:
                raise _error(file, n, f"call `{call.id[:80]}` appears twice in task `{current.id[:80]}`")
            call_ids.add(call.id)
            calls.append(call)
        elif "type" not in raw:
            raise _error(file, n, "`type` is required: `tool`, `task` or `call`")
        else:
            raise _error(file, n, f"unknown line type `{str(kind)[:40]}`: use `tool`, `task` or `call`")
    close()
    if not tasks:
        raise _error(file, max(last_line, 1), "no task line: a trace needs a `task` line before its calls")
    return Trace(file, tools, tuple(tasks))


def parse_trace(text: str, file: str = "trace") -> Trace:
    """Parse a trace held in memory (``file`` names it in errors). Raises :class:`TraceError`."""
    return _parse(_lines(io.BytesIO(text.encode()), file), file)


def load_trace(path: Path) -> Trace:
    """Read and check one trace file (a regular file; ``-`` is not read here)."""
    file = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise TraceError(f"{file}: cannot be read ({exc.strerror})", file=file, line=None) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise TraceError(f"{file}: not a regular file", file=file, line=None)
    with os.fdopen(fd, "rb") as raw_fh:
        return _parse(_lines(raw_fh, file), file)


# --- writing -----------------------------------------------------------------------------------


def tool_line(tool: ToolRecord) -> dict[str, Any]:
    """A tool registration as a trace line."""
    line: dict[str, Any] = {"type": "tool", **tool_to_mapping(tool)}
    if tool.input_schema is not None:
        line["input_schema"] = json.loads(tool.input_schema)
    elif "input_schema" in line:
        del line["input_schema"]
    if tool.destinations:
        line["destinations"] = list(tool.destinations)
    return line


def unkept_line(labels: TaskLabels) -> dict[str, Any]:
    """A task's ``unkept`` object: the high-water mark of what it read, when not all of it is kept."""
    return {
        "outputs": labels.outputs,
        "read_untrusted": labels.read_untrusted,
        "max_sensitivity": labels.max_sensitivity.label,
        "untrusted_sources": list(labels.untrusted_sources),
    }


def task_line(task: TraceTask) -> dict[str, Any]:
    line: dict[str, Any] = {
        "type": "task",
        "id": task.id,
        "agent": task.agent,
        "owner": task.owner,
        "purpose": task.purpose,
        "params": dict(task.params),
        "allow": list(task.allow),
    }
    if task.resources:
        line["resources"] = list(task.resources)
    line["requested_by"] = task.requested_by
    if task.unkept is not None:
        line["unkept"] = unkept_line(task.unkept)
    line["meta"] = dict(task.meta)
    return line


def call_line(call: TraceCall) -> dict[str, Any]:
    line: dict[str, Any] = {
        "type": "call",
        "id": call.id,
        "tool": call.tool,
        "args": dict(call.args),
        "at": call.at,
    }
    if call.output is not None:
        line["output"] = call.output
    line["meta"] = dict(call.meta)
    return line


def dump_lines(lines: Sequence[Mapping[str, Any]], file: str = "trace") -> str:
    """Trace lines as JSONL text, checked by reading them back: what is written always replays."""
    text = "".join(json.dumps(line, ensure_ascii=False, separators=(", ", ": ")) + "\n" for line in lines)
    parse_trace(text, file)
    return text
