"""Write the evaluation corpus as JSON Lines traces (docs/adr/0025 section 6).

    python tests/scenarios/eval/build.py          # rewrites tests/scenarios/eval/traces/*.jsonl
    python tests/scenarios/eval/build.py --check  # exits 1 when the committed files are stale

Deterministic: the same definitions always give byte-identical files. For each domain it writes
``<domain>-benign.jsonl`` (the benign tasks) and ``<domain>-attack.jsonl`` (their injected twins):
two files, because a poisoned tool description belongs to the attack run's tool registry only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
if str(ROOT) not in sys.path:  # run as a script: the corpus modules import as tests.scenarios.eval.*
    sys.path.insert(0, str(ROOT))

from tests.scenarios.eval.corpus import TOOLS, Inject, Step, Task, Tool  # noqa: E402 - after the path is set
from tests.scenarios.eval.tasks_calendar import TASKS as CALENDAR  # noqa: E402
from tests.scenarios.eval.tasks_chat import TASKS as CHAT  # noqa: E402
from tests.scenarios.eval.tasks_code import TASKS as CODE  # noqa: E402
from tests.scenarios.eval.tasks_files import TASKS as FILES  # noqa: E402
from tests.scenarios.eval.tasks_finance import TASKS as FINANCE  # noqa: E402
from tests.scenarios.eval.tasks_late import LATE  # noqa: E402
from tests.scenarios.eval.tasks_support import TASKS as SUPPORT  # noqa: E402
from tests.scenarios.eval.tasks_travel import TASKS as TRAVEL  # noqa: E402

OUT = HERE / "traces"

DOMAINS: dict[str, list[Task]] = {
    "finance": [*FINANCE, *LATE["finance"]],
    "email-calendar": [*CALENDAR, *LATE["email-calendar"]],
    "chat": [*CHAT, *LATE["chat"]],
    "files": [*FILES, *LATE["files"]],
    "support": [*SUPPORT, *LATE["support"]],
    "travel": [*TRAVEL, *LATE["travel"]],
    "code": [*CODE, *LATE["code"]],
}

MARK = "{INJ}"


def schema_of(tool: Tool) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, kind in tool.props.items():
        props[name] = {"type": "array", "items": {"type": "string"}} if kind == "array" else {"type": kind}
    out: dict[str, Any] = {"type": "object", "properties": props}
    if tool.required:
        out["required"] = list(tool.required)
    return out


def tool_line(tool: Tool, description: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "type": "tool",
        "name": tool.name,
        "effect": tool.effect,
        "labels": {"trust": tool.trust, "sensitivity": tool.sensitivity},
        "flags": list(tool.flags),
    }
    desc = description if description is not None else tool.description
    if desc:
        line["description"] = desc
    line["input_schema"] = schema_of(tool)
    if tool.destinations:
        line["destinations"] = list(tool.destinations)
    return line


def clean(text: str | None) -> str | None:
    """The benign output: the injection mark and the blank line it leaves removed."""
    if text is None:
        return None
    lines = [ln.replace(MARK, "").rstrip() for ln in text.split("\n")]
    out: list[str] = []
    for ln in lines:
        if ln == "" and (not out or out[-1] == ""):
            continue
        out.append(ln)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def planted(text: str | None, inj: Inject) -> str | None:
    if text is None or inj.tool_description is not None:
        return clean(text)
    if MARK in text:
        return text.replace(MARK, inj.text)
    return f"{text}\n{inj.text}"


def task_lines(task: Task, domain: str, attack: bool) -> list[dict[str, Any]]:
    tid = f"{task.id}-x" if attack else task.id
    meta: dict[str, Any] = {"kind": "attack" if attack else "benign", "domain": domain, "pair": task.id}
    if attack:
        meta["vector"] = task.inject.vector
    if task.late:
        meta["set"] = "late"
    lines: list[dict[str, Any]] = [
        {
            "type": "task",
            "id": tid,
            "agent": task.agent,
            "owner": task.owner,
            "purpose": task.purpose,
            "params": dict(task.params),
            "allow": list(task.allow),
            "requested_by": task.owner,
            "meta": meta,
        }
    ]
    calls: list[tuple[Step, bool, str | None]] = []
    inj = task.inject
    for i, step in enumerate(task.steps):
        if attack and i > inj.step and not inj.keep_rest:
            break
        output = planted(step.output, inj) if attack and i == inj.step else clean(step.output)
        calls.append((step, False, output))
        if attack and i == inj.step:
            calls.extend((c, True, clean(c.output)) for c in inj.calls)
    for n, (step, injected, output) in enumerate(calls, 1):
        line: dict[str, Any] = {
            "type": "call",
            "id": f"{tid}-c{n}",
            "tool": step.tool,
            "args": step.args,
            "at": float(2 * n - 1),
        }
        if output is not None:
            line["output"] = output
        line["meta"] = {"injected": True} if injected else {}
        lines.append(line)
    return lines


def build() -> dict[str, str]:
    files: dict[str, str] = {}
    for domain, tasks in DOMAINS.items():
        tools = TOOLS[domain]
        names = {t.name for t in tools}
        for task in tasks:
            for step in (*task.steps, *task.inject.calls):
                if step.tool not in names:
                    raise SystemExit(f"{task.id}: tool `{step.tool}` is not a {domain} tool")
        poisoned: dict[str, str] = {}
        for task in tasks:
            inj = task.inject
            if inj.tool_description is not None:
                poisoned[task.steps[inj.step].tool] = inj.tool_description
        for attack in (False, True):
            lines = [tool_line(t, poisoned.get(t.name) if attack else None) for t in tools]
            for task in tasks:
                lines.extend(task_lines(task, domain, attack))
            kind = "attack" if attack else "benign"
            files[f"{domain}-{kind}.jsonl"] = "".join(
                json.dumps(line, ensure_ascii=False, sort_keys=False) + "\n" for line in lines
            )
    return files


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        stale = [n for n, text in files.items() if not (OUT / n).is_file() or (OUT / n).read_text() != text]
        if stale:
            print("stale:", ", ".join(stale), "- run tests/scenarios/eval/build.py")
            return 1
        return 0
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.jsonl"):
        if old.name not in files:
            old.unlink()
    for name, text in files.items():
        (OUT / name).write_text(text, encoding="utf-8")
    benign = sum(len(t) for t in DOMAINS.values())
    print(f"wrote {len(files)} files: {benign} benign tasks and {benign} attack twins")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
