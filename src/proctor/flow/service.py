"""``Flow`` (``p.flow``): the flow stage of one workspace, wired to the store (docs/adr/0025).

What the pure core (:mod:`proctor.flow.state`, :mod:`~proctor.flow.labels`,
:mod:`~proctor.flow.provenance`, :mod:`~proctor.flow.counters`) computes in memory, this service
keeps and hands to the pipeline:

- **observe** — every output a task's call returned is labelled (trust, sensitivity) and kept:
  in memory, in the task's :class:`~proctor.flow.state.TaskFlow` (one per live task, bounded LRU),
  and in the store (``Store.add_output``), sealed with the workspace's secret store (AES-GCM bound
  to the task, like a held call's arguments: never in clear at rest, never in the audit log). The
  sealed envelope also holds the call's arguments and decision id, so ``proctor trace export``
  can write the task's trace while its outputs are kept.
- **keep_decided** — the arguments of a call the policy set denied or held for approval are
  kept beside the outputs, sealed the same way and under the same bounds and retention (a row
  of ``flow_outputs`` labelled trusted and public, so it raises no label; ``decided`` in its
  sealed envelope says what it is): ``proctor trace export`` writes them as calls without an
  output, so a what-if replay can show a candidate set allowing what the active one denies.
  They are not outputs the task read: never indexed for tracing, skipped when a task's flow is
  rebuilt from the store.
- **facts** — the :class:`~proctor.flow.model.FlowFacts` of one call before its decision: the
  task's labels (high-water mark), the provenance of the call's arguments, its destinations, and
  the declared counters of the *active* policy set over the history the store keeps. A task not in
  memory, or with outputs another process wrote since (``seq`` above the last one seen that this
  process did not write), is brought up to date from the store first.
- **record_call** — an allowed call that was forwarded and matches a counter becomes a history
  event (``Store.add_flow_event``): values as Decimal text or keyed fingerprints, never in clear.
- **forget** — a task that ended (completed, cancelled, expired) loses its kept outputs
  (``flow.retention: task``, the default), or keeps them for the retention period after its end
  (then the sweep prunes them: ``Store.prune_outputs``).

Cross-process lag: the gateway persists an output off the response path (its labels and text are
in this process's memory before the next call of the task is decided here); a call of the same
task decided by *another* process sees the output once its store write has landed (a few
milliseconds, bounded by ``store_timeout``).

Fingerprint key (``first_time`` counters): ``SecretStore.derive("flow-fingerprint")``, an HMAC of
the workspace secret key. Rotating that key changes every fingerprint, so each value is "first
time" once more after a rotation (the safe side). A process without a workspace uses a key that
lives only in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

from proctor.clock import Clock
from proctor.config import Settings
from proctor.credentials.secrets import SecretStore
from proctor.errors import ProctorError, ValidationError
from proctor.flow.counters import Tally, event_for
from proctor.flow.labels import label_output
from proctor.flow.model import (
    NO_FACTS,
    FlowFacts,
    Labels,
    Sensitivity,
    TaskLabels,
    Trust,
    internal_domains,
)
from proctor.flow.provenance import utf8_size
from proctor.flow.state import TaskFlow, without_echoes
from proctor.policy.engine import tool_attrs
from proctor.store.base import AgentRecord, HistoryEvent, OutputRecord, Store, TaskRecord, ToolRecord
from proctor.types import AgentName, TaskId

__all__ = ["FLOW_READS", "Flow", "Observed", "output_text", "without_echoes"]

log = logging.getLogger(__name__)

#: what a policy can read of the flow stage (``PolicySet.reads``, see :meth:`Flow.reads`):
#: ``task_flow`` is the task's flow attributes, ``*`` the whole context
FLOW_READS = frozenset({"provenance", "destinations", "history", "task_flow", "*"})
#: tasks and agents whose counters are held in memory (:meth:`Flow._tally`)
EVENT_LOGS = 4096


class _EventLog:
    """The counters of one task or agent over the history events read so far, and where the last
    read ended."""

    def __init__(self) -> None:
        self.tally: Tally | None = None
        #: the latest time of an event read
        self.last_at: float | None = None
        #: where the next read starts: :data:`LATE` before the latest event read (or the time of
        #: the last read, when that event is later)
        self.cursor: float | None = None
        #: the events counted with a time at or after ``cursor`` (the next read returns them
        #: again: they are not counted twice), with how many of each
        self.recent: Counter[HistoryEvent] = Counter()
        #: when (the deciding clock, as read: not the agent's time of :meth:`Flow._moment`) the
        #: last read from ``cursor`` was made; reads in between start at ``last_at`` (or ``read_at``
        #: when that is earlier) and return only what is newest
        self.swept: float | None = None
        #: the time the last read counted at: this process records the agent's next events at or
        #: after it (:meth:`Flow._moment`), even when ``last_at`` is later (an event stored ahead)
        self.read_at: float | None = None
        self.lock = threading.Lock()


#: an event stored (by another process) up to this many seconds earlier than the latest one read
#: is still counted: each read of a task's or agent's events starts this much before the latest
LATE = 5.0
#: how often (seconds of the deciding clock) a read goes back :data:`LATE` seconds: in between,
#: a read starts at the latest event read, so a decision on a busy agent costs a read of what is
#: new, not of its last five seconds (an event another process commits late is counted at the
#: next sweep, at most this long after)
SWEEP = 0.5


#: outputs waiting for the writer thread at most (:meth:`Flow.persist_soon`)
MAX_PENDING = 10_000
#: tasks whose flow is kept in memory (the least recently used goes first)
DEFAULT_CAPACITY = 512
_ENVELOPE = 1
_EVENT_FIELDS = ("task_id", "agent", "tool", "effect", "at", "values")
_NONCE = 12
#: at most this many tasks below one are read for its labels (a bound, far above any real tree:
#: depth is limited by `tasks.max_delegation_depth`, and each task's children by its budget)
_MAX_DESCENDANTS = 1024
#: the untrusted source a task's mark names when more live tasks are below it than are read
_UNREAD_TREE = "delegation: tasks below not read"


def output_text(content: Iterable[Any], structured: Any = None) -> str:
    """The text of an MCP tool result, as the flow stage reads it: every text block, the text of
    embedded resources, and the structured content as JSON."""
    parts: list[str] = []
    for block in content or ():
        if not isinstance(block, Mapping):
            continue
        if isinstance(text := block.get("text"), str):
            parts.append(text)
        inner = block.get("content")  # a prompt's message
        if isinstance(inner, Mapping) and isinstance(inner.get("text"), str):
            parts.append(inner["text"])
        res = block.get("resource")
        if isinstance(res, Mapping) and isinstance(res.get("text"), str):
            parts.append(res["text"])
    if structured is not None:
        with contextlib.suppress(TypeError, ValueError):
            parts.append(json.dumps(structured, ensure_ascii=False, sort_keys=True, default=str))
    return "\n".join(parts)


def _context(task_id: str) -> bytes:
    return f"flow-output\0{task_id}".encode()


@dataclass(frozen=True, slots=True)
class Observed:
    """One output observed in this process, before it is indexed and kept."""

    task_id: str
    tool: str
    labels: Labels
    text: str
    size: int
    args: dict[str, Any] | None
    decision_id: str | None
    at: float
    #: the text matched for tracing when it differs from ``text`` (a trusted output without the
    #: values its own call carried: see :func:`without_echoes`)
    match: str | None = None
    #: not an output: the arguments of a call decided ``deny`` or ``approval_required`` (the
    #: verdict), kept for ``proctor trace export`` only (see :meth:`Flow.keep_decided`)
    decided: str | None = None


class _Entry:
    """One task's flow in this process."""

    __slots__ = ("flow", "kin", "loaded", "lock", "own", "seq", "unindexed")

    def __init__(self, flow: TaskFlow) -> None:
        self.flow = flow
        #: outputs observed here, labels raised, not indexed for tracing yet
        self.unindexed: deque[Observed] = deque()
        self.loaded = False
        #: the highest store seq restored or written here
        self.seq = 0
        #: nonces of the outputs this process sealed: a row carrying one is already in memory
        self.own: set[bytes] = set()
        #: the highest store seq restored of each task of its delegation tree (docs/adr/0032)
        self.kin: dict[str, int] = {}
        self.lock = threading.RLock()


class Flow:
    """The flow stage of one workspace (see the module's contract)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        policy_set: Callable[[], Any],
        *,
        secrets: Callable[[], SecretStore | None],
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        """``policy_set`` returns the active :class:`~proctor.policy.loader.PolicySet` (its
        counters and what its policies read); ``secrets`` opens the workspace secret store (None
        without a workspace: a key living only in this process seals then)."""
        self.settings = settings
        self.enabled = settings.flow_enabled
        self.max_outputs = settings.flow_max_outputs
        self.max_output_bytes = settings.flow_max_output_bytes
        self.store = store
        self.clock = clock
        self._policy_set = policy_set
        self._secrets = secrets
        self._sealer_cache: SecretStore | None = None
        self._ephemeral: tuple[bytes, SecretStore] | None = None
        self._capacity = capacity
        self._tasks: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        #: outputs waiting for their store write (see :meth:`persist_soon`)
        self._pending: list[Observed] = []
        self._flushing = False
        self._futures: set[asyncio.Future[Any]] = set()
        #: counters over the history events read so far, per task or agent (see :meth:`_tally`)
        self._event_logs: dict[tuple[Any, ...], _EventLog] = {}
        #: per agent, the latest time its counters were read at or an event of it was recorded or
        #: read (see :meth:`_moment`)
        self._moments: dict[str, float] = {}
        #: denied or held calls whose arguments were not queued (see :meth:`persist_soon`)
        self._decided_dropped = 0
        #: the thread that writes kept outputs (see :meth:`persist_soon`), made on first use
        self._writer: ThreadPoolExecutor | None = None

    # what the active policies read --------------------------------------------------------------
    def reads(self, tool: ToolRecord) -> frozenset[str]:
        """What the active set's policies that apply to ``tool``'s action read of the flow stage
        (a subset of :data:`FLOW_READS`); every kind when the set cannot say."""
        ps = self._policy_set()
        fn = getattr(ps, "reads", None)
        if callable(fn):
            try:
                got = fn(str(tool.name), tool.effect, tool_attrs(tool))
            except Exception:
                return FLOW_READS
            return frozenset(str(x) for x in got) & FLOW_READS if got is not None else FLOW_READS
        return FLOW_READS

    def needed(self, tool: ToolRecord) -> bool:
        """Whether a call of ``tool`` needs its flow facts: a call that is not a plain read is
        always traced (its decision record and approval page show where its arguments came from);
        a read only when the active policies read something of the flow stage for it."""
        if not self.enabled:
            return False
        return tool.effect != "read" or bool(self.reads(tool))

    def counts(self) -> bool:
        """Whether the active set declares counters (so forwarded calls may be history)."""
        return self.enabled and bool(getattr(self._policy_set(), "counters", ()))

    def counted(self, tool: ToolRecord) -> bool:
        """Whether a declared counter of the active set matches calls of ``tool``."""
        if not self.enabled:
            return False
        name, effect = str(tool.name), tool.effect
        return any(s.matches(name, effect) for s in self._counters())

    def _counters(self) -> tuple[Any, ...]:
        return tuple(getattr(self._policy_set(), "counters", ()) or ())

    # sealing --------------------------------------------------------------------------------------
    def _sealer(self) -> SecretStore:
        if self._sealer_cache is not None:
            return self._sealer_cache
        try:
            sealer = self._secrets()
        except ValidationError:
            sealer = None
        if sealer is not None:
            self._sealer_cache = sealer
            return sealer
        with self._lock:
            if self._ephemeral is None:
                from proctor.store.base import SecretKeyRecord

                class _Mem:
                    def ensure_secret_key(self, candidate: SecretKeyRecord) -> SecretKeyRecord:
                        return candidate

                key = os.urandom(32)
                self._ephemeral = (key, SecretStore(_Mem(), key, now=self.clock.now()))  # type: ignore[arg-type]
            return self._ephemeral[1]

    def fingerprint_key(self) -> bytes:
        """The key of ``first_time`` fingerprints (see the module's docstring)."""
        return self._sealer().derive("flow-fingerprint")

    def _seal(self, task_id: str, envelope: Mapping[str, Any]) -> tuple[bytes, bytes]:
        """``(sealed, nonce)``: ``v1 \\0 key_id \\0 nonce ciphertext``."""
        data = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str).encode()
        key_id, nonce, ct = self._sealer().seal(_context(task_id), data)
        return b"v1\0" + key_id.encode() + b"\0" + nonce + ct, nonce

    def _unseal(self, task_id: str, sealed: bytes) -> dict[str, Any] | None:
        try:
            head, key_id, rest = sealed.split(b"\0", 2)
            if head != b"v1":
                return None
            raw = self._sealer().unseal(key_id.decode(), rest[:_NONCE], rest[_NONCE:], _context(task_id))
            value = json.loads(raw)
        except (ValueError, ProctorError):
            return None
        return value if isinstance(value, dict) else None

    @staticmethod
    def _nonce(sealed: bytes) -> bytes | None:
        parts = sealed.split(b"\0", 2)
        return parts[2][:_NONCE] if len(parts) == 3 else None

    # the tasks in memory ----------------------------------------------------------------------------
    def _new_flow(self, task: TaskRecord) -> TaskFlow:
        return TaskFlow(
            task.purpose,
            dict(task.params),
            max_outputs=self.max_outputs,
            max_bytes=max(4 << 20, self.max_output_bytes),
            requester=str(task.requested_by),
            internal=self._internal(task),
        )

    def _internal(self, task: TaskRecord) -> tuple[str, ...]:
        """The organisation's domains for ``task``: ``flow.internal_domains``, the owner's and the
        requester's e-mail domains."""
        agent = self.store.get_agent(task.agent)
        owner = "" if agent is None else str(agent.owner)
        return internal_domains(self.settings.flow_internal_domains, owner, str(task.requested_by))

    def _entry(self, task: TaskRecord) -> _Entry:
        key = str(task.id)
        with self._lock:
            entry = self._tasks.get(key)
            if entry is not None:
                self._tasks.move_to_end(key)
                return entry
            entry = _Entry(self._new_flow(task))
            self._tasks[key] = entry
            while len(self._tasks) > self._capacity:
                self._tasks.popitem(last=False)
            return entry

    def _ancestors_labels(self, task: TaskRecord) -> TaskLabels | None:
        """What ``task``'s ancestors have read so far (docs/adr/0032), None for a root task. A
        parent instructs its child for as long as both live, so what the parent reads after the
        delegation labels the child too: read from the store (another process's reads) and from
        this process's memory (reads not yet persisted), every time. What a parent reads includes
        what its live children hand back (:meth:`_descendants_labels`), so the marks of every live
        task of the tree are joined too (one query below the root): a sibling's read labels this
        task whichever process holds the parent's flow, or none does."""
        if not task.chain:
            return None
        above = self._joined(
            (TaskId(anc), self.store.task_labels(TaskId(anc))) for _agent, anc in task.chain[:-1]
        )
        tree, _ids = self._below(TaskId(task.chain[0][1]))
        return above if tree is None else _merge_labels(above, tree)

    def _descendants_labels(self, task: TaskRecord) -> tuple[TaskLabels | None, list[TaskId]]:
        """What ``task``'s live delegated tasks (children, their children, ...) have read so far,
        None when it has none (docs/adr/0032, amended), and their ids: a child hands its findings
        back to its parent while it runs, not only when it ends, so what it read labels the
        parent's next consequential call at once. From the store (another process's reads) and
        this process's memory (reads not yet persisted), in one store query. An ended child raised
        its parent's mark in the store when it ended (:meth:`inherit`), so live ones are enough."""
        return self._below(task.id)

    def _below(self, task_id: TaskId) -> tuple[TaskLabels | None, list[TaskId]]:
        """The joined marks of the live tasks below ``task_id`` (None: there are none) and their
        ids (see :meth:`_descendants_labels`)."""
        below = self.store.descendant_labels(task_id, limit=_MAX_DESCENDANTS + 1)
        if len(below) > _MAX_DESCENDANTS:
            # more live tasks below than are read: the ones left out (the store picks which) could
            # have read anything, and a parent must not launder a read by delegating it to its
            # 1,025th child: the tree's mark is unknown, so it is the worst (fail closed, as an
            # output that cannot be labelled: :meth:`taint`)
            log.warning("flow: task %s has more than %d live tasks below it", task_id, _MAX_DESCENDANTS)
            below = below[:_MAX_DESCENDANTS]
            unknown = TaskLabels(
                read_untrusted=True,
                max_sensitivity=Sensitivity.SECRET,
                untrusted_sources=(_UNREAD_TREE,),
            )
            return _merge_labels(self._joined(below), unknown), [t for t, _ in below]
        return (self._joined(below) if below else None), [t for t, _ in below]

    def _joined(self, stored: Iterable[tuple[TaskId, TaskLabels]]) -> TaskLabels:
        """The high-water mark of several tasks: each one's stored mark joined with this
        process's in-memory one (reads not yet persisted)."""
        read_untrusted, level, sources = False, Sensitivity.PUBLIC, set[str]()
        for task_id, mark in stored:
            found = [mark]
            with self._lock:
                other = self._tasks.get(str(task_id))
            if other is not None:
                with other.lock:
                    found.append(other.flow.labels)
            for lab in found:
                read_untrusted = read_untrusted or lab.read_untrusted
                level = max(level, lab.max_sensitivity)
                sources.update(lab.untrusted_sources)
        return TaskLabels(
            read_untrusted=read_untrusted, max_sensitivity=level, untrusted_sources=tuple(sorted(sources))
        )

    def _refresh(self, task: TaskRecord, entry: _Entry) -> None:
        """Bring ``entry`` up to date with the store: its high-water mark on first use, then every
        output with a seq above the last one seen that this process did not write; a delegated
        task's mark is raised to its ancestors' every time (:meth:`_ancestors_labels`), a
        delegating task's to its live descendants' (:meth:`_descendants_labels`)."""
        # both before ``entry.lock``: one entry lock at a time
        inherited = self._ancestors_labels(task)
        below, below_ids = self._descendants_labels(task)
        if below is not None:
            inherited = below if inherited is None else _merge_labels(inherited, below)
        # the delegation tree's outputs are sources too (docs/adr/0032, amended): a value a task
        # passes down to its child, or a child hands back, traces to where it was read
        kin = [TaskId(anc) for _agent, anc in task.chain[:-1]] + below_ids
        with entry.lock:
            if inherited is not None:
                entry.flow.restore_labels(inherited)
            stored = None
            if not entry.loaded:
                # the descriptions of the tools the task can see are untrusted sources, as in
                # replay: a URL or an address only a description holds is the tool server's
                # choice, not "from nowhere" (which a fetch before any untrusted read may reach:
                # flow.no-confidential-egress). Under the entry's lock, not the service's (500
                # descriptions take ~0.5 s to index)
                entry.flow.describe_tools(
                    t for t in self.store.list_tools() if any(fnmatchcase(str(t.name), p) for p in task.allow)
                )
                # the high-water mark holds outputs no longer kept (evicted) too
                stored = self.store.task_labels(task.id)
                entry.flow.restore_labels(stored)
            rows = self.store.outputs(task.id, after_seq=entry.seq)
            if stored is not None and stored.outputs > len(rows):
                entry.flow.lost = True  # some of its outputs are no longer kept
                entry.flow.index.outputs_lost_before_load()
            for rec in rows:
                entry.seq = max(entry.seq, rec.seq)
                nonce = self._nonce(rec.sealed)
                if nonce is not None and nonce in entry.own:
                    entry.own.discard(nonce)
                    continue
                self._restore_row(entry, str(task.id), rec)
            for other in kin:
                for rec in self.store.outputs(other, after_seq=entry.kin.get(str(other), 0)):
                    entry.kin[str(other)] = max(entry.kin.get(str(other), 0), rec.seq)
                    self._restore_row(entry, str(other), rec)
            entry.loaded = True

    def _restore_row(self, entry: _Entry, owner: str, rec: OutputRecord) -> None:
        """Re-add one stored output of task ``owner`` to ``entry`` (caller holds its lock)."""
        env = self._unseal(owner, rec.sealed)
        if env is None:
            log.warning("flow: an output of task %s cannot be unsealed (key rotated?)", owner)
            return
        if env.get("decided") is not None:
            return  # a denied or held call's arguments: nothing the task read
        labels = Labels(Trust(rec.trust), Sensitivity.parse(rec.sensitivity), tuple(rec.reasons))
        match = env.get("match")
        kept = str(env.get("text") or "")
        size = env.get("size")
        if isinstance(size, int) and size > utf8_size(kept):
            entry.flow.lost = True  # cut at flow.max_output_bytes: the rest is not kept
        if isinstance(match, str):
            # stored before red team 18: masked before its split (as it was matched then)
            entry.flow.restore(rec.tool, labels, match)
        else:
            args = env.get("args")
            entry.flow.restore(rec.tool, labels, kept, args if isinstance(args, dict) else None)

    def labels(self, task: TaskRecord) -> TaskLabels:
        """The task's high-water mark as this process knows it (brought up to date from the store
        first): what a credential decision sees of what the task read. ``TaskLabels()`` when the
        flow stage is off."""
        if not self.enabled:
            return TaskLabels()
        entry = self._entry(task)
        self._refresh(task, entry)
        with entry.lock:
            return entry.flow.labels

    def inherit(self, task: TaskRecord, labels: TaskLabels) -> None:
        """Raise ``task``'s high-water mark to at least ``labels`` (docs/adr/0032: a child starts
        with its parent's; an ending child's reading labels its parent), in the store and in this
        process. Nothing when the flow stage is off or ``labels`` says nothing was read."""
        if not self.enabled or (
            not labels.read_untrusted and not labels.untrusted_sources and not int(labels.max_sensitivity)
        ):
            return
        self.store.raise_task_labels(task.id, labels)
        with self._lock:
            entry = self._tasks.get(str(task.id))
        if entry is not None:
            with entry.lock:
                entry.flow.restore_labels(
                    TaskLabels(
                        read_untrusted=labels.read_untrusted,
                        max_sensitivity=labels.max_sensitivity,
                        untrusted_sources=labels.untrusted_sources,
                    )
                )

    # the pipeline's stage -------------------------------------------------------------------------
    def facts(
        self,
        agent: AgentRecord,
        task: TaskRecord,
        tool: ToolRecord,
        args: Mapping[str, Any],
        now: float,
        *,
        responses: Mapping[str, Any] | None = None,
    ) -> FlowFacts:
        """The flow facts of one call (reads the store: call it off the event loop). Raises on
        any failure: the pipeline denies then (fail closed). ``responses``: a 2026-07-28 retry's
        ``inputResponses``, traced like its arguments (:mod:`proctor.flow.responses`)."""
        if not self.needed(tool):
            return NO_FACTS
        reads = self.reads(tool)
        entry = self._entry(task)
        self._refresh(task, entry)
        history: tuple[tuple[str, int | Decimal | bool], ...] = ()
        specs = self._counters()
        if specs and ("history" in reads or "*" in reads):
            history = self._history(specs, agent, task, tool, args, now)
        with entry.lock:
            self._index(entry)
            facts: FlowFacts = entry.flow.facts(tool, args, history, responses)
        return facts

    def _history(
        self,
        specs: tuple[Any, ...],
        agent: AgentRecord,
        task: TaskRecord,
        tool: ToolRecord,
        args: Mapping[str, Any],
        now: float,
    ) -> tuple[tuple[str, int | Decimal | bool], ...]:
        key = self.fingerprint_key()
        clock, now = now, self._moment(str(agent.name), now)
        out: list[tuple[str, int | Decimal | bool]] = []
        task_specs = tuple(s for s in specs if getattr(s, "scope", "task") == "task")
        agent_specs = tuple(s for s in specs if getattr(s, "scope", "task") == "agent")
        if task_specs:
            # a task tree shares its task counters: a child's calls count against its root's
            # (docs/adr/0032), whose events carry the root's id (see :meth:`event`)
            out.extend(
                self._tally(
                    ("task", str(task.root_id)), task_specs, None, tool, args, now, key, agent.name, clock
                )
            )
        if agent_specs:
            windows = [getattr(s, "window_s", None) for s in agent_specs]
            window = None if any(w is None for w in windows) else max(w for w in windows if w)
            out.extend(
                self._tally(
                    ("agent", str(agent.name)), agent_specs, window, tool, args, now, key, agent.name, clock
                )
            )
        return tuple(sorted(out, key=lambda kv: kv[0]))

    def _moment(self, agent: str, now: float) -> float:
        """The time an agent's counters are read at and its next event is recorded at: ``now``, or
        the latest such time before when ``now`` is earlier. A decision reads the clock before it
        takes the agent's history lock, so parallel calls may reach it out of time order, and the
        wall clock may step back: without this, a call would see the event of one decided before
        it as in its future (uncounted), and its own event, older than the last one read, would
        never come back from ``flow_events(since=…)`` (nor be kept by a tally past its cut).
        Times of one agent's events are then monotonic in this process (a window ends late when
        the clock stepped back: counts err high)."""
        with self._lock:
            at = max(now, self._moments.pop(agent, now))
            self._moments[agent] = at  # most recently used last
            while len(self._moments) > EVENT_LOGS:
                self._moments.pop(next(iter(self._moments)))
        return at

    def _tally(
        self,
        key: tuple[str, str],
        specs: tuple[Any, ...],
        window: float | None,
        tool: ToolRecord,
        args: Mapping[str, Any],
        now: float,
        fp_key: bytes,
        agent: str,
        clock: float | None = None,
    ) -> list[tuple[str, int | Decimal | bool]]:
        """The values of ``specs`` (all of one scope) for a call of a task (``("task", id)``) or an
        agent (``("agent", name)``), from running aggregates (:class:`~proctor.flow.counters.Tally`)
        fed incrementally: only the events stored since the last read are fetched
        (``Store.flow_events(since=…)``, oldest first; the ones already counted at that instant are
        skipped), those of the last ``window`` seconds on the first read (all with None), so a
        decision costs one small query and O(log n) per counter, not a read of the whole history.
        New counters (a policy reload) start a new tally from the store. An event another process
        stored after a read with a time up to :data:`LATE` seconds earlier than the latest event
        read (or than that read's time, when the event is later) is counted (each read starts
        that much before it; what it returns again is not counted twice); one stored later still is not seen here (within one process, the times
        of one agent's events never go back: see :meth:`_moment`). ``clock``: the deciding clock as
        read (``now`` is the agent's time, which may be ahead of it): sweeps follow it, and an
        event stored ahead of it moves the agent's time at most :data:`LATE` past it."""
        agent = str(agent)
        clock = now if clock is None else clock
        ckey = (*key, window)
        with self._lock:
            log_ = self._event_logs.pop(ckey, None) or _EventLog()
            self._event_logs[ckey] = log_  # most recently used last
            while len(self._event_logs) > EVENT_LOGS:
                self._event_logs.pop(next(iter(self._event_logs)))
        with log_.lock:
            if log_.tally is None or log_.tally.specs != tuple(sorted(specs, key=lambda s: s.name)):
                log_.tally, log_.last_at, log_.cursor, log_.recent = Tally(specs), None, None, Counter()
                log_.swept, log_.read_at = None, None
            since = log_.cursor
            sweep = True
            if (
                log_.cursor is not None
                and log_.last_at is not None
                and log_.swept is not None
                and log_.read_at is not None
                and log_.swept <= clock < log_.swept + SWEEP
            ):
                # between sweeps: from the latest event read, or from the time the last read
                # counted at when that is earlier (an event stored ahead of this process's clock:
                # this process's own events come after that time, not after the event ahead)
                since, sweep = min(log_.last_at, log_.read_at), False
            if since is None:
                since = None if window is None else now - window
            task_id = TaskId(key[1]) if key[0] == "task" else None
            who = AgentName(key[1]) if key[0] == "agent" else None
            if sweep:
                got, stored = self.store.flow_events(task_id=task_id, agent=who, since=since), 0
            else:
                # what is new, and how many events the store holds from the cursor on (one query,
                # one snapshot)
                got, stored = self.store.flow_events_counted(
                    task_id=task_id, agent=who, since=since, count_since=log_.cursor
                )
            self._count(log_, got, sweep)
            if not sweep and stored > log_.recent.total():
                # an event stored since the last read with a time before where it started (another
                # process committed it late): sweep now, not at the next sweep (the count rides on
                # the read; a busy agent's decision still reads only what is new)
                sweep = True
                got = self.store.flow_events(task_id=task_id, agent=who, since=log_.cursor)
                self._count(log_, got, sweep)
            if log_.last_at is not None and log_.last_at > now:
                # an event stored (by another process, its clock ahead) at a later time than
                # this decision's: it is earlier than this call all the same (up to LATE ahead
                # of the clock as read, not of the agent's time, which may be ahead already and
                # would move LATE further at each read: a clock far off does not move this
                # process's windows)
                now = self._moment(agent, min(log_.last_at, clock + LATE))
            if log_.last_at is not None:
                cursor = min(log_.last_at, now) - LATE
                if sweep:
                    # what a read from the new cursor returns again: every event of this read
                    # from there (counted before or now); in between sweeps ``recent`` only grows
                    log_.cursor, log_.swept = cursor, clock
                    log_.recent = Counter(ev for ev in got if ev.at >= cursor)
            log_.read_at = now
            return log_.tally.values(tool=tool, args=args, now=now, key=fp_key)

    @staticmethod
    def _count(log_: _EventLog, got: list[HistoryEvent], sweep: bool) -> None:
        """Count the events of one read into ``log_``: those counted by an earlier read (in
        ``log_.recent``) once only."""
        assert log_.tally is not None
        counted = log_.recent
        again: Counter[HistoryEvent] = Counter()
        for ev in got:
            if again[ev] < counted[ev]:
                again[ev] += 1  # counted by an earlier read
                continue
            log_.tally.add(ev)
            if not sweep:
                counted[ev] += 1  # a read that returns it again will skip it
            if log_.last_at is None or ev.at > log_.last_at:
                log_.last_at = ev.at

    def event(
        self,
        agent: AgentRecord | str,
        task: TaskRecord | str,
        tool: ToolRecord,
        args: Mapping[str, Any],
        now: float,
    ) -> HistoryEvent | None:
        """The history event of an allowed, forwarded call, or None when no counter of the active
        set matches it (pure: no store)."""
        if not self.enabled:
            return None
        specs = self._counters()
        if not specs:
            return None
        ev = event_for(
            specs,
            # a delegated task's events count against its root task (docs/adr/0032)
            task_id=str(task if isinstance(task, str) else task.root_id),
            agent=str(agent if isinstance(agent, str) else agent.name),
            tool=tool,
            args=args,
            at=now,
            key=self.fingerprint_key(),
        )
        # the store's record of it (the same fields)
        return None if ev is None else HistoryEvent(**{f: getattr(ev, f) for f in _EVENT_FIELDS})

    def record_call(
        self,
        agent: AgentRecord | str,
        task: TaskRecord | str,
        tool: ToolRecord,
        args: Mapping[str, Any],
        now: float,
        *,
        durable: bool = True,
    ) -> HistoryEvent | None:
        """Count an allowed call that was forwarded (``Store.add_flow_event`` when a counter of
        the active set matches it); the event, or None. ``durable`` as for
        ``Store.add_flow_event``: the pipeline passes False, its durable decision record, committed
        next, makes the event power-safe (as an approval's use)."""
        ev = self.event(agent, task, tool, args, self._moment(str(getattr(agent, "name", agent)), now))
        if ev is not None:
            self.add_event(ev, durable=durable)
        return ev

    def add_event(self, ev: HistoryEvent, *, durable: bool = True) -> None:
        """Keep one history event (a store write)."""
        self.store.add_flow_event(ev, durable=durable)

    # outputs ---------------------------------------------------------------------------------------
    def observe(
        self,
        task: TaskRecord | TaskId | str,
        tool: ToolRecord,
        text: str,
        *,
        args: Mapping[str, Any] | None = None,
        decision_id: str | None = None,
        now: float | None = None,
    ) -> Labels:
        """Label one output of ``task``'s call of ``tool`` and keep it (memory and store)."""
        labels, item = self.observe_local(task, tool, text, args=args, decision_id=decision_id, now=now)
        if item is not None:
            self.persist(item)
        return labels

    def observe_local(
        self,
        task: TaskRecord | TaskId | str,
        tool: ToolRecord,
        text: str,
        *,
        args: Mapping[str, Any] | None = None,
        decision_id: str | None = None,
        now: float | None = None,
    ) -> tuple[Labels, Observed | None]:
        """:meth:`observe` without the work that can wait: the labels now, and the output for
        :meth:`persist` (None when the flow stage is off). The task's high-water mark is raised
        before this returns; the output is indexed for tracing by the task's next :meth:`facts`
        (or its store write, whichever comes first), so the next call of the task decided in
        this process sees it, and a read with no flow-relevant policy never pays for indexing."""
        text = _valid_unicode(text)
        labels = label_output(tool, text)
        if not self.enabled:
            return labels, None
        now = self.clock.now() if now is None else now
        task_id = str(task if isinstance(task, str) else task.id)
        kept = _truncate(text, self.max_output_bytes)
        # matched without its call's values once its outsiders' parts are split off (TaskFlow):
        # no separate matching text (``match`` is only read from envelopes older releases sealed)
        item = Observed(
            task_id=task_id,
            tool=str(tool.name),
            labels=labels,
            text=kept,
            match=None,
            size=len(text.encode("utf-8", "surrogatepass")),
            args=None if args is None else dict(args),
            decision_id=decision_id,
            at=now,
        )
        entry = None
        if isinstance(task, TaskRecord):
            entry = self._entry(task)
        else:
            with self._lock:
                entry = self._tasks.get(task_id)
        if entry is not None:
            untrusted = labels.trust is Trust.UNTRUSTED
            with entry.lock:
                entry.flow.restore_labels(
                    TaskLabels(
                        read_untrusted=untrusted,
                        max_sensitivity=labels.sensitivity,
                        untrusted_sources=(item.tool,) if untrusted else (),
                    )
                )
                entry.unindexed.append(item)
        return labels, item

    def taint(self, task_id: TaskId | str, tool: str) -> Observed | None:
        """An output of ``task_id`` that could not be labelled: the task's high-water mark becomes
        untrusted and secret (fail closed): in this process now, and through the store once the
        empty output returned here is kept (:meth:`persist`); nothing of the output is kept."""
        if not self.enabled:
            return None
        labels = Labels(Trust.UNTRUSTED, Sensitivity.SECRET, ("content: could not be labelled",))
        with self._lock:
            entry = self._tasks.get(str(task_id))
        if entry is not None:
            with entry.lock:
                entry.flow.restore_labels(
                    TaskLabels(
                        read_untrusted=True, max_sensitivity=Sensitivity.SECRET, untrusted_sources=(tool,)
                    )
                )
        return Observed(str(task_id), tool, labels, "", 0, None, None, self.clock.now())

    @staticmethod
    def _index(entry: _Entry) -> None:
        """Index the outputs observed since the last call (under ``entry.lock``)."""
        while entry.unindexed:
            item = entry.unindexed.popleft()
            if item.size > utf8_size(item.text):
                entry.flow.lost = True  # cut at flow.max_output_bytes: the rest is not kept
            if item.match is None:
                entry.flow.restore(item.tool, item.labels, item.text, item.args)
            else:
                entry.flow.restore(item.tool, item.labels, item.match)

    def _record(self, item: Observed) -> OutputRecord:
        """The store's record of an observed output: indexed in memory first, then sealed."""
        with self._lock:
            entry = self._tasks.get(item.task_id)
        envelope: dict[str, Any] = {
            "v": _ENVELOPE,
            "text": item.text,
            "args": item.args,
            "decision_id": item.decision_id,
            "size": item.size,
        }
        if item.match is not None:
            envelope["match"] = item.match
        if item.decided is not None:
            envelope["decided"] = item.decided
            size = utf8_size(json.dumps(item.args, ensure_ascii=False, separators=(",", ":"), default=str))
            if size > self.max_output_bytes:  # the bound of a kept output (arguments are not cut)
                raise ValidationError(
                    f"the arguments of a {item.decided} call of `{item.tool}` ({size} bytes) exceed"
                    f" flow.max_output_bytes: not kept"
                )
        sealed, nonce = self._seal(item.task_id, envelope)
        if entry is not None:
            with entry.lock:
                self._index(entry)
                entry.own.add(nonce)
        return OutputRecord(
            task_id=TaskId(item.task_id),
            seq=0,
            tool=item.tool,
            trust=item.labels.trust.value,
            sensitivity=item.labels.sensitivity.label,
            reasons=tuple(item.labels.reasons),
            sealed=sealed,
            size=item.size,
            at=item.at,
        )

    def persist(self, item: Observed, *, durable: bool = True) -> int:
        """Keep an output :meth:`observe_local` made (a store write)."""
        return self.store.add_output(self._record(item), max_outputs=self.max_outputs, durable=durable)

    def persist_soon(self, item: Observed) -> None:
        """Keep an output off the response path (asyncio): queued, and sealed and written by the
        flow's own writer thread with whatever else queued meanwhile. Not through the store
        guard: a long batch under load must never count as a store that stopped answering (it
        opened the breaker and refused every call, `make bench`), and nothing waits for it. The
        write is not fsynced on its own (it survives a crash of the process, and commits with the
        next durable write): the output is in memory already, and the task's next call decided
        here sees it; another process sees it once the write has landed. At most
        :data:`MAX_PENDING` wait; beyond that the oldest are dropped, said in the log (this
        process keeps them in memory). A denied or held call's arguments (:meth:`keep_decided`)
        wait only while fewer than half that many do: a flood of refused calls never crowds out
        an output another process must see."""
        with self._lock:
            if item.decided is not None and len(self._pending) >= MAX_PENDING // 2:
                self._decided_dropped += 1
                if self._decided_dropped % 1000 == 1:
                    log.error(
                        "flow: the arguments of %d denied or held call(s) not kept: the store writes fall behind",
                        self._decided_dropped,
                    )
                return
            self._pending.append(item)
            if len(self._pending) > MAX_PENDING:
                dropped = len(self._pending) - MAX_PENDING
                del self._pending[:dropped]
                log.error("flow: %d output(s) not kept: the store writes fall behind", dropped)
            if self._flushing:
                return
            self._flushing = True
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="proctor-flow-writer")
            writer = self._writer
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a caller off the event loop (a decision in a worker thread)
            done: Future[None] = writer.submit(self._flush)
            done.add_done_callback(self._flushed)
            return
        fut = loop.run_in_executor(writer, self._flush)
        self._futures.add(fut)
        fut.add_done_callback(self._flushed)

    def _flush(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    self._flushing = False
                    return
            for item in batch:
                try:
                    self.persist(item, durable=False)
                except Exception as exc:
                    what = (
                        "an output" if item.decided is None else f"the arguments of a call ({item.decided})"
                    )
                    log.error("flow: %s of task %s was not kept: %s", what, item.task_id, type(exc).__name__)

    def _flushed(self, fut: asyncio.Future[Any] | Future[None]) -> None:
        if isinstance(fut, asyncio.Future):
            self._futures.discard(fut)
        if fut.cancelled() or fut.exception() is not None:
            with self._lock:  # the store refused at once (down): what was queued is dropped, said
                dropped, self._pending, self._flushing = len(self._pending), [], False
            log.error("flow: %d output(s) not kept: the store is unavailable", dropped)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (at most ``timeout`` seconds) and stop the writer thread, before the
        store closes: a flush still running on a closed SQLite connection may crash the process."""
        settled = self.settle(timeout)
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            if not settled:
                log.error("flow: outputs still queued at close were not written in %.0f s", timeout)
            writer.shutdown(wait=settled, cancel_futures=not settled)

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait (at most ``timeout`` seconds) until what :meth:`persist_soon` queued is written;
        whether it was."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._pending and not self._flushing:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    # denied and held calls ---------------------------------------------------------------------
    def keep_decided(
        self,
        task: TaskRecord,
        tool: ToolRecord,
        args: Mapping[str, Any],
        *,
        verdict: str,
        decision_id: str,
        now: float,
    ) -> Observed | None:
        """Keep the arguments of a call decided ``deny`` or ``approval_required`` for ``proctor
        trace export`` (off the response path, as :meth:`persist_soon`): sealed like an output,
        counted in the task's ``flow.max_outputs``, deleted with its outputs. Never indexed for
        tracing and never a label: the task read nothing. None when the flow stage is off."""
        if not self.enabled or self.max_outputs <= 0:
            return None
        item = Observed(
            task_id=str(task.id),
            tool=str(tool.name),
            labels=Labels(Trust.TRUSTED, Sensitivity.PUBLIC, ()),
            text="",
            size=0,
            args=dict(args),
            decision_id=decision_id,
            at=now,
            decided=str(verdict),
        )
        self.persist_soon(item)
        return item

    # the end of a task -----------------------------------------------------------------------------
    def forget(self, task_id: TaskId | str) -> int:
        """The task ended: drop it from memory and, under ``flow.retention: task``, delete its
        kept outputs (its high-water mark stays). Returns how many were deleted.

        What this process knows the task read is written to its mark in the store first: an output
        still queued for the writer (or dropped when the queue overflowed) must not leave with the
        memory, or a relaunch of its template would start without it (docs/adr/0029, amendment)."""
        with self._lock:
            entry = self._tasks.pop(str(task_id), None)
        if entry is not None:
            with entry.lock:
                mark = entry.flow.labels
            if mark.read_untrusted or mark.untrusted_sources or int(mark.max_sensitivity):
                self.store.raise_task_labels(TaskId(str(task_id)), mark)
        if self.settings.flow_retention_s is not None:
            return 0  # kept for the retention period: the sweep prunes them
        return self.store.delete_outputs(TaskId(str(task_id)))

    def sweep(self, now: float) -> int:
        """Delete the outputs of tasks that ended longer ago than ``flow.retention`` (and any
        output stored after its task ended)."""
        retention = self.settings.flow_retention_s
        return self.store.prune_outputs(now - (retention or 0.0))

    # trace export ----------------------------------------------------------------------------------
    def export(self, task_id: TaskId | str) -> list[dict[str, Any]]:
        """The task's trace (docs/adr/0025 §6) while its outputs are kept: a ``tool`` line per tool
        it used, its ``task`` line, then a ``call`` line per kept output (arguments, output, ``at``
        from the task's start) and per call denied or held for approval (arguments, no output,
        ``meta.decision``), in the order they were kept. A held call is written once: its held
        record is left out when a later call of the same tool with the same arguments follows
        (held again, or approved and forwarded: then only the forwarded call)."""
        from proctor.errors import UnknownTask
        from proctor.flow.trace import unkept_line

        task = self.store.get_task(TaskId(str(task_id)))
        if task is None:
            raise UnknownTask(f"unknown task `{task_id}`")
        self.settle(1.0)  # what this process queued lands first
        calls: list[dict[str, Any]] = []
        tools: dict[str, ToolRecord | None] = {}
        stored = self.store.task_labels(task.id)
        rows = self.store.outputs(task.id)
        # outputs evicted (``flow.max_outputs``, which refused calls' arguments share), cut at
        # ``flow.max_output_bytes`` or not unsealed: the trace says so, with the high-water mark
        lost = stored.outputs > len(rows)
        for rec in rows:
            env = self._unseal(str(task.id), rec.sealed)
            if env is None:
                lost = True
                continue
            size = env.get("size")
            if isinstance(size, int) and size > utf8_size(str(env.get("text") or "")):
                lost = True
            if rec.tool not in tools:
                tools[rec.tool] = self.store.get_tool(rec.tool)  # type: ignore[arg-type]
            line: dict[str, Any] = {
                "type": "call",
                "id": str(env.get("decision_id") or f"c-{rec.seq}"),
                "tool": rec.tool,
                "args": env.get("args") or {},
                "at": round(max(0.0, rec.at - task.created_at), 6),
                "output": str(env.get("text") or ""),
                "meta": {},
            }
            decided = env.get("decided")
            if decided is not None:  # a denied or held call: it returned nothing
                del line["output"]
                line["meta"] = {"decision": str(decided)}
            calls.append(line)
        calls = _once(calls)
        out: list[dict[str, Any]] = [tool_line(t) for t in tools.values() if t is not None]
        out.append(
            {
                "type": "task",
                "id": str(task.id),
                "agent": str(task.agent),
                "owner": None,
                "purpose": task.purpose,
                "params": dict(task.params),
                "allow": list(task.allow),
                **({"resources": list(task.resources)} if task.resources else {}),
                "requested_by": str(task.requested_by),
                **({"unkept": unkept_line(stored)} if lost else {}),
                "meta": {},
            }
        )
        owner = _owner(self.store, task)
        if owner is not None:
            out[-1]["owner"] = owner
        else:
            del out[-1]["owner"]
        out.extend(calls)
        return out


def _once(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``calls`` without the held records a later call of the same tool with the same arguments
    follows (held again, or approved and forwarded)."""
    later: set[tuple[str, str]] = set()
    kept: list[dict[str, Any]] = []
    for line in reversed(calls):
        key = (str(line["tool"]), json.dumps(line["args"], sort_keys=True, default=str))
        if line["meta"].get("decision") == "approval_required" and key in later:
            continue
        later.add(key)
        kept.append(line)
    kept.reverse()
    return kept


def _merge_labels(a: TaskLabels, b: TaskLabels) -> TaskLabels:
    """The higher of two high-water marks."""
    return TaskLabels(
        read_untrusted=a.read_untrusted or b.read_untrusted,
        max_sensitivity=max(a.max_sensitivity, b.max_sensitivity),
        untrusted_sources=tuple(sorted({*a.untrusted_sources, *b.untrusted_sources})),
    )


def tool_line(tool: ToolRecord) -> dict[str, Any]:
    """A trace's ``tool`` line: the keys of ``tools:`` in proctor.yaml (``tool_to_mapping``), plus
    ``input_schema`` and ``destinations`` (the form ``proctor.flow.trace`` reads)."""
    from proctor.config import tool_to_mapping

    line: dict[str, Any] = {"type": "tool", **tool_to_mapping(tool)}
    line.pop("input_schema", None)
    if tool.input_schema is not None:
        with contextlib.suppress(ValueError):
            line["input_schema"] = json.loads(tool.input_schema)
    if tool.destinations:
        line["destinations"] = list(tool.destinations)
    return line


def _owner(store: Store, task: TaskRecord) -> str | None:
    try:
        agent = store.get_agent(task.agent)
    except Exception:
        return None
    return None if agent is None else str(agent.owner)


def _valid_unicode(text: str) -> str:
    """``text`` with any lone surrogate (an upstream's JSON may carry ``"\\ud800"``) replaced by
    ``?``: such text cannot be sealed, stored or exported, and an output that cannot be kept is an
    output other processes (and this one, after a restart) never saw."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _truncate(text: str, limit: int) -> str:
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")
