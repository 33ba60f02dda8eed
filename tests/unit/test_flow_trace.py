"""The trace format of `proctor replay` (docs/trace-format.md): strict reading with file:line,
bounds, and writing that reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proctor.flow import trace as tr
from proctor.flow.trace import TraceError, dump_lines, load_trace, parse_trace

TOOL = {
    "type": "tool",
    "name": "billing.send_money",
    "effect": "pay",
    "labels": {"trust": "trusted", "sensitivity": "confidential"},
    "flags": ["financial"],
    "destinations": ["iban"],
    "input_schema": {
        "type": "object",
        "properties": {"iban": {"type": "string"}, "amount": {"type": "number"}},
        "required": ["iban", "amount"],
    },
}
TASK = {
    "type": "task",
    "id": "t-1",
    "agent": "ap-bot",
    "owner": "alice@example.com",
    "purpose": "Pay the March invoice from ACME Energy",
    "params": {"payee": "ACME Energy"},
    "allow": ["*"],
    "requested_by": "alice@example.com",
    "meta": {"kind": "benign"},
}
CALL = {
    "type": "call",
    "id": "c-1",
    "tool": "mail.read",
    "args": {"folder": "inbox"},
    "at": 1.0,
    "output": "the invoice",
    "meta": {"injected": False},
}


def jsonl(*lines: object) -> str:
    return "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)


def refused(text: str, file: str = "t.jsonl") -> TraceError:
    with pytest.raises(TraceError) as info:
        parse_trace(text, file)
    return info.value


def test_the_adr_example_reads_and_writes_back() -> None:
    """Tools, tasks and calls as the ADR shows them; writing and reading again gives the same trace."""
    t = parse_trace(jsonl(TOOL, TASK, CALL, {**CALL, "id": "c-2", "at": 2, "output": None}), "a.jsonl")
    tool = t.tools["billing.send_money"]
    assert tool.financial
    assert tool.destinations == ("iban",)
    assert tool.input_schema is not None
    assert json.loads(tool.input_schema)["required"] == ["iban", "amount"]
    (task,) = t.tasks
    assert (task.id, task.agent, task.params, task.meta) == (
        "t-1",
        "ap-bot",
        (("payee", "ACME Energy"),),
        {"kind": "benign"},
    )
    assert [(c.id, c.at, c.output, c.line) for c in task.calls] == [
        ("c-1", 1.0, "the invoice", 3),
        ("c-2", 2.0, None, 4),
    ]
    again = parse_trace(dump_lines(t.to_lines()), "a.jsonl")
    assert again.tools == t.tools
    assert [(x.id, x.params, x.calls[0].args) for x in again.tasks] == [
        (x.id, x.params, x.calls[0].args) for x in t.tasks
    ]


def test_several_tasks_per_file_each_owns_the_calls_after_it() -> None:
    """Calls belong to the last task line; ids default to the call's position; owner and
    requested_by stand in for each other."""
    t = parse_trace(
        jsonl(
            {"type": "task", "id": "a", "agent": "bot", "purpose": "x", "owner": "o@example.com"},
            {"type": "call", "tool": "fs.read"},
            {"type": "call", "tool": "fs.read"},
            {"type": "task", "id": "b", "agent": "bot", "purpose": "y", "requested_by": "r@example.com"},
            {"type": "call", "tool": "fs.read"},
        )
    )
    assert [(k.id, [c.id for c in k.calls]) for k in t.tasks] == [("a", ["1", "2"]), ("b", ["1"])]
    assert (t.tasks[0].requested_by, t.tasks[1].owner) == ("o@example.com", "r@example.com")
    assert t.tasks[0].allow == ("*",)


@pytest.mark.parametrize(
    ("lines", "line", "says"),
    [
        ((TASK, {**CALL, "outptu": "x"}), 2, "unknown key `outptu`"),
        (({**TASK, "purpose2": "x"},), 1, "unknown key `purpose2`"),
        (({**TOOL, "lables": {}}, TASK), 1, "unknown key `lables`"),
        ((TASK, "{not json"), 2, "not valid JSON"),
        ((TASK, '{"type": "call", "tool": "a.b", "tool": "c.d"}'), 2, "appears twice"),
        ((TASK, '{"type": "call", "tool": "a.b", "at": NaN}'), 2, "not valid JSON"),
        ((TASK, "[1, 2]"), 2, "JSON object"),
        ((CALL, TASK), 1, "before any task line"),
        ((TOOL,), 1, "no task line"),
        ((TASK, {"type": "cal", "tool": "x"}), 2, "unknown line type `cal`"),
        ((TASK, {"tool": "x"}), 2, "`type` is required"),
        ((TASK, {**CALL, "at": -1}), 2, "`at`"),
        ((TASK, CALL, CALL), 3, "appears twice"),
        ((TASK, TASK), 2, "already defined at line 1"),
        ((TOOL, TOOL, TASK), 2, "already defined at line 1"),
        ((TASK, {**CALL, "output": 3}), 2, "`output` must be a string"),
        ((TASK, {**CALL, "args": [1]}), 2, "`args` must be a JSON object"),
        (({**TASK, "agent": "Bad Name"},), 1, "agent"),
        (({**TASK, "owner": "not-an-email"},), 1, "owner"),
        (({**TASK, "params": {"n": 3}},), 1, "param `n` must be a string"),
        (({k: v for k, v in TASK.items() if k != "purpose"},), 1, "`purpose` is required"),
        (({**TOOL, "effect": "Pay!"}, TASK), 1, "effect"),
        (({**TOOL, "input_schema": [1]}, TASK), 1, "input_schema"),
        (({**TASK, "unkept": {"outputs": -1}},), 1, "unkept.outputs"),
        (({**TASK, "unkept": {"outputs": True}},), 1, "unkept.outputs"),
        (({**TASK, "unkept": {"read_untrusted": "yes"}},), 1, "unkept.read_untrusted"),
        (({**TASK, "unkept": {"max_sensitivity": "topsecret"}},), 1, "unkept.max_sensitivity"),
        (({**TASK, "unkept": {"outputz": 1}},), 1, "unknown key `outputz`"),
        (({**TASK, "unkept": [1]},), 1, "unkept"),
    ],
)
def test_a_line_not_in_the_format_is_refused_naming_file_and_line(
    lines: tuple[object, ...], line: int, says: str
) -> None:
    """Strict: every problem is a TraceError at `file:line` (code `trace_invalid`)."""
    exc = refused(jsonl(*lines), "bad.jsonl")
    assert exc.message.startswith(f"bad.jsonl:{line}: "), exc.message
    assert says in exc.message
    assert exc.details == {"file": "bad.jsonl", "line": line}
    assert exc.code == "trace_invalid"


def test_bounds_on_lines_outputs_and_line_count(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An output over its bound, a line over its bound and a file of too many lines are refused
    with the line they are at."""
    monkeypatch.setattr(tr, "MAX_OUTPUT_BYTES", 100)
    exc = refused(jsonl(TASK, {**CALL, "output": "é" * 51}))
    assert exc.message.startswith("t.jsonl:2: ")
    assert "larger than 100 bytes" in exc.message
    parse_trace(jsonl(TASK, {**CALL, "output": "é" * 50}))  # 100 bytes: at the bound
    monkeypatch.setattr(tr, "MAX_LINE_BYTES", 300)
    exc = refused(jsonl(TASK, {**CALL, "args": {"x": "y" * 300}}))
    assert exc.message.startswith("t.jsonl:2: ")
    assert "longer than 300 bytes" in exc.message
    monkeypatch.setattr(tr, "MAX_LINES", 3)
    path = tmp_path / "long.jsonl"
    path.write_text(jsonl(TASK, CALL, {**CALL, "id": "2"}, {**CALL, "id": "3"}))
    with pytest.raises(TraceError) as info:
        load_trace(path)
    assert info.value.message == f"{path}:4: more than 3 lines"


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    """A missing file, a directory and bytes that are not UTF-8 are refused by name."""
    with pytest.raises(TraceError, match="cannot be read"):
        load_trace(tmp_path / "nope.jsonl")
    with pytest.raises(TraceError, match="not a regular file"):
        load_trace(tmp_path)
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes(json.dumps(TASK).encode() + b"\n\xff\n")
    with pytest.raises(TraceError, match=r"latin1.jsonl:2: not UTF-8"):
        load_trace(bad)


def test_dump_refuses_lines_that_would_not_read_back() -> None:
    """Export never writes a trace replay would refuse."""
    with pytest.raises(TraceError, match="unknown key `secret`"):
        dump_lines([TASK, {**CALL, "secret": 1}], "out.jsonl")


def test_a_task_whose_outputs_were_not_all_kept_says_so_and_reads_back() -> None:
    """``unkept`` (written by ``trace export`` when outputs were evicted or cut) is the task's
    high-water mark; it reads back to the same labels and writes again unchanged."""
    from proctor.flow.model import Sensitivity

    unkept = {
        "outputs": 4,
        "read_untrusted": True,
        "max_sensitivity": "confidential",
        "untrusted_sources": ["web.fetch", "mail.read"],
    }
    trace = parse_trace(jsonl({**TASK, "unkept": unkept}, CALL))
    (task,) = trace.tasks
    assert task.unkept is not None
    assert task.unkept.outputs == 4
    assert task.unkept.read_untrusted
    assert task.unkept.max_sensitivity is Sensitivity.CONFIDENTIAL
    assert task.unkept.untrusted_sources == ("mail.read", "web.fetch")
    (line, _) = trace.to_lines()
    assert line["unkept"] == {**unkept, "untrusted_sources": ["mail.read", "web.fetch"]}
    assert parse_trace(jsonl(TASK, CALL)).tasks[0].unkept is None
