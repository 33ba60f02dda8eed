"""``proctor replay``: re-decide recorded traces under a candidate policy set, in memory.

No store, no network, no audit log: every call of every task of every trace (docs/trace-format.md)
is decided by a :class:`~proctor.policy.engine.PolicyEngine` on records built from the trace, with
the flow facts a :class:`~proctor.flow.state.TaskFlow` computes from the outputs the task had seen
so far and the history its set's counters keep of the calls that set allowed. With a baseline set
every call is decided under both, on the same flow facts (each set with its own history), and the
report says what changed.

Rules (documented in docs/trace-format.md):

- **Outputs.** Every output present in the trace is observed after its call is decided, whatever
  either set decides: the agent saw it, and its later calls were made after seeing it. (A call a
  candidate set would deny changes what comes after it; a replay cannot know how, so it does not
  pretend to.)
- **History.** A set's counters count the calls *that set* allowed (``allow``; a held call counts
  only once a person approves it, which a replay cannot know). History spans the tasks of one trace
  file (``scope: agent`` counters included), never several files: each file replays alone.
- **As production.** The flow rules are the service's, from the shared core
  (:class:`~proctor.flow.state.TaskFlow`): a trusted output is matched without the values its own
  call carried, a value found nowhere in a task whose untrusted outputs were evicted is untrusted,
  a set's counters are evaluated only when its policies for the call's action read
  ``context.history``, and an allowed call is counted when it is decided. A set whose flow stage
  fails (a value its counter cannot read) denies the call; the other set decides on its own.
- **Time.** The first task of a file starts at :data:`START`; each next task starts one second
  after the previous task's latest call. A call is decided at its task's start plus its ``at``.
- **Records.** The agent is active, owned by the task line's ``owner``; the task is active with a
  deadline far ahead; tools are the file's own tool lines, then ``tools`` given by the caller (the
  workspace's registry, for the CLI) for names no tool line defines. A call of a tool defined
  nowhere is a deny (``unknown tool``), as at the gateway.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from proctor.errors import FlowFailed, ProctorError, ValidationError
from proctor.flow.counters import CallMemo, HistoryEvent, Tally, evaluate, event_for
from proctor.flow.detect import detectors
from proctor.flow.model import FlowFacts, Labels, Provenance, TaskLabels, internal_domains
from proctor.flow.state import TaskFlow
from proctor.flow.trace import Trace, TraceCall, TraceError, TraceTask, load_trace
from proctor.policy.engine import Decision, PolicyEngine, deny
from proctor.policy.loader import PolicySet
from proctor.store.base import AgentRecord, TaskRecord, ToolRecord
from proctor.types import AgentName, AgentStatus, Email, SpiffeId, TaskId, TaskState, Verdict

__all__ = ["START", "CallReport", "ReplayReport", "TaskReport", "merge_tools", "policies_for", "replay"]

#: when the first task of each trace file starts (2026-01-01T00:00:00Z): a fixed clock, so a replay
#: decides the same way whenever it runs
START = 1_767_225_600.0
#: a replayed task never expires
FAR = 10 * 365 * 86_400.0
#: the key of ``first_time`` fingerprints: they live in memory for one replay only
KEY = b"proctor-replay"
VERDICTS = tuple(v.value for v in Verdict)
#: the provenance of a call that was not traced (an unknown tool, an error)
UNTRACED: Mapping[str, Any] = {"checked": False, "args": []}


@dataclass(frozen=True, slots=True)
class CallReport:
    """One replayed call: the candidate's decision and, with a baseline, the baseline's."""

    trace: str
    task: str
    call: str
    line: int
    tool: str
    at: float
    decision: str
    reasons: tuple[str, ...]
    policies: tuple[str, ...]
    provenance: Mapping[str, Any]
    meta: Mapping[str, Any]
    shadow: Mapping[str, Any] | None = None
    labels: Mapping[str, Any] | None = None
    baseline_decision: str | None = None
    baseline_reasons: tuple[str, ...] = ()
    baseline_policies: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.baseline_decision is not None and self.baseline_decision != self.decision

    def __reduce__(self) -> tuple[Any, ...]:
        # sent from a forked worker (``--jobs``): rebuilt with its constructor, several times
        # faster to unpickle than a slotted dataclass's state
        return (
            CallReport,
            (
                self.trace,
                self.task,
                self.call,
                self.line,
                self.tool,
                self.at,
                self.decision,
                self.reasons,
                self.policies,
                self.provenance,
                self.meta,
                self.shadow,
                self.labels,
                self.baseline_decision,
                self.baseline_reasons,
                self.baseline_policies,
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace": self.trace,
            "task": self.task,
            "call": self.call,
            "line": self.line,
            "tool": self.tool,
            "at": self.at,
            "decision": self.decision,
            "baseline_decision": self.baseline_decision,
            "changed": self.changed,
            "reasons": list(self.reasons),
            "policies": list(self.policies),
            "baseline_reasons": list(self.baseline_reasons),
            "baseline_policies": list(self.baseline_policies),
            "shadow": None if self.shadow is None else dict(self.shadow),
            "provenance": dict(self.provenance),
            "labels": None if self.labels is None else dict(self.labels),
            "meta": dict(self.meta),
        }


def _counts(values: Sequence[str]) -> dict[str, int]:
    got = Counter(values)
    return {v: got.get(v, 0) for v in VERDICTS}


@dataclass(frozen=True, slots=True)
class TaskReport:
    """One replayed task: how many of its calls each set decided which way."""

    trace: str
    task: str
    meta: Mapping[str, Any]
    calls: tuple[CallReport, ...]
    has_baseline: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (TaskReport, (self.trace, self.task, self.meta, self.calls, self.has_baseline))

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace": self.trace,
            "task": self.task,
            "meta": dict(self.meta),
            "calls": len(self.calls),
            "decisions": _counts([c.decision for c in self.calls]),
            "baseline_decisions": (
                _counts([c.baseline_decision or "" for c in self.calls]) if self.has_baseline else None
            ),
            "changed": sum(c.changed for c in self.calls),
        }


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """Everything a replay decided. ``to_dict()`` is the ``--json`` output (docs/trace-format.md)."""

    policies: str
    baseline: str | None
    tasks: tuple[TaskReport, ...]
    traces: tuple[str, ...] = ()

    @property
    def calls(self) -> tuple[CallReport, ...]:
        return tuple(c for t in self.tasks for c in t.calls)

    @property
    def changed(self) -> tuple[CallReport, ...]:
        return tuple(c for c in self.calls if c.changed)

    def summary(self) -> dict[str, Any]:
        calls = self.calls
        moves = Counter(f"{c.baseline_decision}->{c.decision}" for c in calls if c.changed)
        return {
            "traces": len(self.traces),
            "tasks": len(self.tasks),
            "calls": len(calls),
            "decisions": _counts([c.decision for c in calls]),
            "baseline_decisions": (
                None if self.baseline is None else _counts([c.baseline_decision or "" for c in calls])
            ),
            "changed": sum(moves.values()),
            "changes": dict(sorted(moves.items())),
            "shadow": sum(c.shadow is not None for c in calls),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "policies": self.policies,
            "baseline": self.baseline,
            "calls": [c.to_dict() for c in self.calls],
            "tasks": [t.to_dict() for t in self.tasks],
            "summary": self.summary(),
        }


def merge_tools(traces: Sequence[Trace], tools: Sequence[ToolRecord] = ()) -> dict[str, ToolRecord]:
    """The tools the policy sets of a replay are compiled against: every trace's tool lines (the
    first definition of a name), then ``tools`` for the other names. A file that defines a tool
    differently (an attack file's poisoned description, another input schema) still replays with
    its own definition: the engine validates the policies with it before its first decision, as
    for a tool registered after the set was compiled."""
    merged: dict[str, ToolRecord] = {}
    for trace in traces:
        for name, tool in trace.tools.items():
            merged.setdefault(name, tool)
    for tool in tools:
        merged.setdefault(str(tool.name), tool)
    return merged


def policies_for(directory: Path, traces: Sequence[Trace], tools: Sequence[ToolRecord] = ()) -> PolicySet:
    """A policy directory compiled against a replay's tool catalog (see :func:`merge_tools`): a
    policy reading an argument a traced tool does not have is refused here, naming file:line."""
    from proctor.policy.loader import load_policy_dir

    return load_policy_dir(directory, tools=list(merge_tools(traces, tools).values()))


def _task_id(file_index: int, task: TraceTask) -> TaskId:
    """A valid task id for the trace's (free-form) one, distinct per file."""
    digest = hashlib.sha256(f"{file_index}\0{task.id}".encode()).hexdigest()[:24]
    return TaskId(f"tsk_{digest}")


def _records(task: TraceTask, task_id: TaskId, start: float) -> tuple[AgentRecord, TaskRecord]:
    agent = AgentRecord(
        name=AgentName(task.agent),
        spiffe_id=SpiffeId(f"spiffe://replay.invalid/agent/{task.agent}"),
        owner=Email(task.owner),
        status=AgentStatus.ACTIVE,
        selectors=(),
        created_at=start,
        updated_at=start,
    )
    record = TaskRecord(
        id=task_id,
        agent=AgentName(task.agent),
        purpose=task.purpose,
        allow=task.allow,
        resources=task.resources,
        requested_by=Email(task.requested_by),
        state=TaskState.ACTIVE,
        created_at=start,
        deadline=start + FAR,
        params=task.params,
    )
    return agent, record


@dataclass
class _Scope:
    """The running aggregates (:class:`~proctor.flow.counters.Tally`) of one scope's counters for
    one task or agent, as the Flow service keeps them (``Flow._tally``). ``broken``: a ``now``
    earlier than one already read, or a failure inside the tally: its values are then computed
    by :func:`~proctor.flow.counters.evaluate` over every event (the reference it is equal to)."""

    tally: Tally
    last_now: float = float("-inf")
    broken: bool = False


@dataclass
class _Side:
    """One policy set as a replay runs it: its engine, its counters, the history it keeps."""

    engine: PolicyEngine
    counters: tuple[Any, ...]
    events: list[HistoryEvent] = field(default_factory=list)
    #: the counters of scope ``task`` and of scope ``agent``
    task_specs: tuple[Any, ...] = ()
    agent_specs: tuple[Any, ...] = ()
    #: ``(scope, task id or agent name)`` -> the tally of that scope's counters, fed in order
    scopes: dict[tuple[str, str], _Scope] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.task_specs = tuple(s for s in self.counters if s.scope == "task")
        self.agent_specs = tuple(s for s in self.counters if s.scope == "agent")

    def clear(self) -> None:
        """Forget the history (a new trace file)."""
        self.events.clear()
        self.scopes.clear()

    def _scope(self, kind: str, key: str) -> _Scope | None:
        specs = self.task_specs if kind == "task" else self.agent_specs
        if not specs:
            return None
        got = self.scopes.get((kind, key))
        if got is None:
            got = self.scopes[(kind, key)] = _Scope(Tally(specs))
            # events recorded before this scope's tally existed (none: it is made at the first
            # read or record of its task or agent, but stay exact whatever the order)
            for ev in self.events:
                if (ev.task_id if kind == "task" else ev.agent) == key:
                    got.tally.add(ev)
        return got

    def history(
        self,
        task_id: str,
        agent: str,
        tool: ToolRecord,
        args: Mapping[str, Any],
        now: float,
        memo: CallMemo | None = None,
    ) -> tuple[tuple[str, Any], ...]:
        """``memo``: the call's (:class:`~proctor.flow.counters.CallMemo` of ``args``), shared with
        the other set deciding it and with :meth:`record`."""
        if not self.counters:
            return ()
        scopes = [s for s in (self._scope("task", task_id), self._scope("agent", agent)) if s is not None]
        out: list[tuple[str, Any]] = []
        if memo is None:
            memo = CallMemo(args)  # read once for both scopes
        for scope in scopes:
            if scope.broken or now < scope.last_now:  # a tally is exact only while `now` never goes back
                scope.broken = True
                break
            scope.last_now = now
            try:
                out.extend(scope.tally.values(tool=tool, args=args, now=now, key=KEY, memo=memo))
            except ProctorError:  # this call's value: evaluate() below raises the same error
                break
            except Exception:  # the tally may be left half-updated: evaluate() from now on
                scope.broken = True
                break
        else:
            return tuple(sorted(out, key=lambda kv: str(kv[0])))
        return evaluate(
            self.counters, self.events, task_id=task_id, agent=agent, tool=tool, args=args, now=now, key=KEY
        )

    def record(
        self,
        task_id: str,
        agent: str,
        tool: ToolRecord,
        args: Mapping[str, Any],
        now: float,
        memo: CallMemo | None = None,
    ) -> None:
        if not self.counters:
            return
        ev = event_for(
            self.counters, task_id=task_id, agent=agent, tool=tool, args=args, at=now, key=KEY, memo=memo
        )
        if ev is not None:
            scopes = (self._scope("task", task_id), self._scope("agent", agent))
            self.events.append(ev)
            for scope in scopes:
                if scope is not None and not scope.broken:
                    try:
                        scope.tally.add(ev)
                    except Exception:  # the tally may be left half-updated: evaluate() from now on
                        scope.broken = True


def _cedar_facts(facts: FlowFacts) -> FlowFacts:
    """The facts with the task's labels cut to what Cedar sees (``TaskLabels.task_attrs``): the
    count of outputs read and the names of their tools change with every output, and would make
    every decision of a task miss the engine's caches without changing any."""
    t = facts.task
    if t.outputs == 0 and not t.untrusted_sources:
        return facts
    # built directly (``dataclasses.replace`` reads the fields' definitions on every call)
    return FlowFacts(
        TaskLabels(read_untrusted=t.read_untrusted, max_sensitivity=t.max_sensitivity),
        facts.provenance,
        facts.history,
        facts.destinations,
        facts.internal,
    )


class _Records:
    """What the reports of one trace file keep of each call's provenance and output labels
    (``Provenance.to_record``, ``Labels.to_dict``), made once per distinct value: equal facts give
    equal records, and most calls of a file share a few (every read's unchecked provenance, each
    tool's labels). Sharing one record object also makes the reports a forked worker sends back
    smaller: pickle writes a shared object once. Per file (bounded by its calls); the records
    are read-only (``CallReport.provenance`` and ``labels`` are Mappings, copied by ``to_dict``)."""

    __slots__ = ("labels", "provenance")

    def __init__(self) -> None:
        self.provenance: dict[Provenance, Mapping[str, Any]] = {}
        self.labels: dict[Labels, Mapping[str, Any]] = {}

    def of_provenance(self, provenance: Provenance) -> Mapping[str, Any]:
        got = self.provenance.get(provenance)
        if got is None:
            got = self.provenance[provenance] = provenance.to_record()
        return got

    def of_labels(self, labels: Labels) -> Mapping[str, Any]:
        got = self.labels.get(labels)
        if got is None:
            got = self.labels[labels] = labels.to_dict()
        return got


def _side(ps: PolicySet, cache: bool = True, entities: dict[tuple[Any, ...], Any] | None = None) -> _Side:
    engine = PolicyEngine(ps, cache=cache, entities=entities, across_tasks=True, by_thresholds=True)
    return _Side(engine, tuple(ps.counters))


def _shadow(d: Decision) -> dict[str, Any] | None:
    if d.shadow is None:
        return None
    verdict, policies = d.shadow
    return {"decision": str(verdict), "policies": list(policies)}


def _decide_call(
    side: _Side,
    facts: FlowFacts,
    agent: AgentRecord,
    task: TaskRecord,
    tool: ToolRecord,
    args: Mapping[str, Any],
    now: float,
    memo: CallMemo | None = None,
) -> Decision:
    """``memo``: the call's (:class:`~proctor.flow.counters.CallMemo` of ``args``): what the
    counters read of its arguments, read once for both sets."""
    reads = side.engine.reads(tool)
    if "history" in reads or "*" in reads:  # else no policy deciding this call sees it
        try:
            history = side.history(str(task.id), str(agent.name), tool, args, now, memo)
        except ProctorError as exc:  # as the pipeline: the flow stage failed for this set, a deny
            failed = FlowFailed(f"the flow stage failed: {exc.message}")
            return deny(failed.message, side.engine.version, errors=(failed.code,))
        if history != facts.history:
            facts = FlowFacts(facts.task, facts.provenance, history, facts.destinations, facts.internal)
    d = side.engine.decide(agent, task, tool, args, now, facts=facts)
    if d.verdict is Verdict.ALLOW:
        side.record(str(task.id), str(agent.name), tool, args, now, memo)
    return d


def _replay_task(
    trace: Trace,
    task: TraceTask,
    task_id: TaskId,
    start: float,
    catalog: Mapping[str, ToolRecord],
    cand: _Side,
    base: _Side | None,
    max_outputs: int,
    max_bytes: int,
    internal: tuple[str, ...] = (),
    records: _Records | None = None,
) -> TaskReport:
    agent, record = _records(task, task_id, start)
    flow = TaskFlow(
        task.purpose,
        dict(task.params),
        max_outputs=max_outputs,
        max_bytes=max(4 << 20, max_bytes),  # as the Flow service: max_bytes cuts each output
        keep_bytes=max_bytes,
        requester=task.requested_by,
        internal=internal_domains(internal, task.owner, task.requested_by),
    )
    flow.describe_tools(t for t in catalog.values() if any(fnmatchcase(t.name, p) for p in task.allow))
    if task.unkept is not None:
        # the live task read outputs the trace does not hold: start from its high-water mark, and
        # a value found nowhere may have come from one of them (as the live flow decides)
        flow.restore_labels(task.unkept)
        flow.lost = True
        # and one of them may have been a record of what the request names that states money,
        # as the live service assumes after a restart ([red team 22]: replay allowed what it held)
        flow.index.outputs_lost_before_load()
    if records is None:
        records = _Records()
    reports: list[CallReport] = []
    for call in task.calls:
        reports.append(
            _replay_call(trace, task, call, catalog, flow, agent, record, start, cand, base, records)
        )
    return TaskReport(trace.name, task.id, task.meta, tuple(reports), base is not None)


def _replay_call(
    trace: Trace,
    task: TraceTask,
    call: TraceCall,
    catalog: Mapping[str, ToolRecord],
    flow: TaskFlow,
    agent: AgentRecord,
    record: TaskRecord,
    start: float,
    cand: _Side,
    base: _Side | None,
    records: _Records,
) -> CallReport:
    now = start + call.at
    tool = catalog.get(call.tool)
    common: dict[str, Any] = {
        "trace": trace.name,
        "task": task.id,
        "call": call.id,
        "line": call.line,
        "tool": call.tool,
        "at": call.at,
        "meta": call.meta,
    }
    if tool is None:  # as at the gateway: a tool nobody registered is denied
        reasons = (f"unknown tool `{call.tool}`",)
        return CallReport(
            **common,
            decision=Verdict.DENY.value,
            reasons=reasons,
            policies=(),
            provenance=UNTRACED,
            baseline_decision=None if base is None else Verdict.DENY.value,
            baseline_reasons=() if base is None else reasons,
        )
    try:
        facts = _cedar_facts(flow.facts(tool, call.args))
        memo = CallMemo(call.args)  # for this call only (its leaves read on first use)
        d = _decide_call(cand, facts, agent, record, tool, call.args, now, memo)
        if base is None:
            b = None
        elif base is cand:  # the same set twice (a candidate equal to the workspace's): same decision
            b = d
        else:
            b = _decide_call(base, facts, agent, record, tool, call.args, now, memo)
    except Exception as exc:  # fail closed, as the pipeline does: a call that cannot be traced is denied
        reasons = (f"error while tracing the call ({type(exc).__name__}): the call is denied",)
        failed = CallReport(
            **common,
            decision=Verdict.DENY.value,
            reasons=reasons,
            policies=(),
            provenance=UNTRACED,
            baseline_decision=None if base is None else Verdict.DENY.value,
            baseline_reasons=() if base is None else reasons,
        )
        if call.output is not None:
            return replace(failed, labels=records.of_labels(flow.observe(tool, call.output, call.args)))
        return failed
    # the output reaches the flow stage after its call is decided, whatever either set decided:
    # the agent saw it before its next call (docs/trace-format.md)
    # (a trusted output is matched without the values its own call carried, as in production)
    labels: Labels | None = None if call.output is None else flow.observe(tool, call.output, call.args)
    return CallReport(
        **common,
        decision=d.verdict.value,
        reasons=d.reasons,
        policies=d.policies,
        provenance=records.of_provenance(facts.provenance),
        shadow=_shadow(d),
        labels=None if labels is None else records.of_labels(labels),
        baseline_decision=None if b is None else b.verdict.value,
        baseline_reasons=() if b is None else b.reasons,
        baseline_policies=() if b is None else b.policies,
    )


@dataclass(frozen=True, slots=True)
class _Job:
    """What every file of one replay is replayed with (inherited by forked workers)."""

    #: a path is read by the process that replays it (forked workers read their files in parallel)
    traces: tuple[Trace | Path, ...]
    policies: PolicySet
    baseline: PolicySet | None
    tools: tuple[ToolRecord, ...]
    max_outputs: int
    max_output_bytes: int
    cache: bool
    internal: tuple[str, ...] = ()


#: ``job``: the replay forked workers serve (set in the parent just before they are forked);
#: ``sides``: a worker's engines, one per set, their caches warm across the files it gets
_WORKER: dict[str, Any] = {}


def _sides(job: _Job) -> tuple[_Side, _Side | None]:
    # both sets decide on the same records: they share the parsed Cedar entities
    entities: dict[tuple[Any, ...], Any] | None = {} if job.cache else None
    cand = _side(job.policies, job.cache, entities)
    base = None
    if job.baseline is not None:
        same = job.baseline.version == job.policies.version
        base = cand if same else _side(job.baseline, job.cache, entities)
    return cand, base


def _replay_file(
    job: _Job, index: int, sides: tuple[_Side, _Side | None], trace: Trace | None = None
) -> list[TaskReport]:
    """One trace file, on its own: its own tool lines first, history from none of the others."""
    if trace is None:
        got = job.traces[index]
        trace = got if isinstance(got, Trace) else load_trace(got)
    cand, base = sides
    catalog = merge_tools([trace], job.tools)
    cand.clear()
    if base is not None:
        base.clear()
    start = START
    records = _Records()
    tasks: list[TaskReport] = []
    for task in trace.tasks:
        tasks.append(
            _replay_task(
                trace,
                task,
                _task_id(index, task),
                start,
                catalog,
                cand,
                base,
                job.max_outputs,
                job.max_output_bytes,
                job.internal,
                records,
            )
        )
        start += max((c.at for c in task.calls), default=0.0) + 1.0
    return tasks


def _worker_file(index: int) -> tuple[str, list[TaskReport]] | None:
    """In a forked worker: replay file ``index`` of the inherited job, reading it first when it is
    a path; None when it is not a valid trace (the parent reads it again and raises the error, so
    the first invalid file in file order is the one reported, as when the parent reads them all)."""
    job: _Job = _WORKER["job"]
    got = job.traces[index]
    if isinstance(got, Trace):
        trace = got
    else:
        try:
            trace = load_trace(got)
        except TraceError:
            return None
    sides = _WORKER.get("sides")
    if sides is None:
        sides = _WORKER["sides"] = _sides(job)
    return trace.name, _replay_file(job, index, sides, trace)


def default_jobs() -> int:
    """The CPUs this process may run on (``proctor replay --jobs`` default)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def _parallel(job: _Job, jobs: int) -> list[tuple[str, list[TaskReport]] | None] | None:
    """The files replayed by ``jobs`` forked processes, in file order (each file's name and task
    reports; None for a file that is not a valid trace); None where processes cannot be forked
    (the caller replays them here). Each file replays alone whatever process runs it, so the
    report is the same as one process makes (tests/unit/test_replay_parallel.py)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    ctx = multiprocessing.get_context("fork")
    _WORKER["job"] = job
    # the credential detectors are made on first use (importing detect-secrets, ~0.1-0.15 s of
    # CPU): made here, once, every worker inherits them instead of making its own, in every replay
    detectors()
    # what the workers inherit is never collected there: a collection in a worker would walk (and
    # so copy, page by page) the whole inherited heap
    gc.freeze()
    try:
        with ctx.Pool(min(jobs, len(job.traces))) as pool:
            # one file at a time, biggest first would balance better; file order keeps it simple
            return pool.map(_worker_file, range(len(job.traces)), chunksize=1)
    finally:
        gc.unfreeze()
        _WORKER.clear()


def replay(
    traces: Sequence[Path | Trace],
    policies: PolicySet,
    *,
    baseline: PolicySet | None = None,
    tools: Sequence[ToolRecord] = (),
    max_outputs: int = 200,
    max_output_bytes: int = 1 << 20,
    internal: Sequence[str] = (),
    jobs: int = 1,
    cache: bool = True,
) -> ReplayReport:
    """Re-decide every call of ``traces`` (paths are read with :func:`load_trace`) under
    ``policies`` and, when given, ``baseline``. ``tools`` are registrations used for the tool names
    no trace line defines; ``internal`` the organisation's domains (``flow.internal_domains``: the
    owner's and the requester's e-mail domains count too). Raises :class:`~proctor.flow.trace.TraceError` (``file:line``) for a trace not in the format;
    never raises for a policy reason (a call that cannot be decided is a deny).

    ``jobs`` > 1 replays the files in that many forked processes (files are independent: each
    replays alone); the report is the same. ``cache=False`` turns the engines' decision caches off
    (for checking that caching never changes a decision)."""
    if not traces:
        raise ValidationError("no trace to replay")
    parallel = jobs > 1 and len(traces) > 1
    # with workers, each reads the files it replays (in parallel); else all are read first
    given = tuple(t if parallel or isinstance(t, Trace) else load_trace(t) for t in traces)
    job = _Job(given, policies, baseline, tuple(tools), max_outputs, max_output_bytes, cache, tuple(internal))
    done = _parallel(job, jobs) if parallel else None
    per_file: list[tuple[str, list[TaskReport]]] = []
    if done is not None:
        for index, got in enumerate(done):
            if got is not None:
                per_file.append(got)
                continue
            # not a valid trace: read it here, which raises its error (file:line)
            item = given[index]
            trace = item if isinstance(item, Trace) else load_trace(item)
            per_file.append((trace.name, _replay_file(job, index, _sides(job), trace)))
    else:
        loaded = [t if isinstance(t, Trace) else load_trace(t) for t in given]
        sides = _sides(job)
        per_file = [(t.name, _replay_file(job, index, sides, t)) for index, t in enumerate(loaded)]
    return ReplayReport(
        policies=policies.version,
        baseline=None if baseline is None else baseline.version,
        tasks=tuple(t for _, file_tasks in per_file for t in file_tasks),
        traces=tuple(name for name, _ in per_file),
    )
