"""The decision point: Cedar policy plus the task's scope, cached without ever serving a stale allow.

Deny is a value. Any error while deciding (Cedar evaluation errors included) is a deny, never an
allow: Cedar skips a policy that errors, and a skipped ``forbid`` must not turn into an allow.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import cedarpy

from proctor.errors import DecisionError, PolicyLoadError, ValidationError
from proctor.flow.model import NO_FACTS, FlowFacts, TaskLabels, decimal_cedar
from proctor.policy.argschema import cedar_args
from proctor.policy.loader import (
    PolicySet,
    compile_policies,
    directory_version,
    parse_counters_text,
)
from proctor.policy.schemagen import tool_action_declared
from proctor.policy.scope import ScopeVerdict, check_scope, resources_of
from proctor.policy.thresholds import Thresholds, abstract, thresholds
from proctor.store.base import AgentRecord, TaskRecord, ToolRecord
from proctor.types import AgentStatus, DecisionId, Verdict

NS = "Proctor"
CACHE_LIMIT = 50_000
#: the Cedar action that decides whether a task may obtain a credential (never a tool effect)
CREDENTIAL_ACTION = "use_credential"
#: the Cedar action that decides whether an agent's task may delegate to another agent (docs/adr/0032)
DELEGATE_ACTION = "delegate"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one call, with everything that produced it."""

    verdict: Verdict
    decision_id: DecisionId
    policy_version: str
    reasons: tuple[str, ...]
    policies: tuple[str, ...] = ()
    scope: ScopeVerdict | None = None
    approval: str | None = None
    errors: tuple[str, ...] = ()
    cached: bool = False
    #: the approval request this call waits for, or whose grant let it run (proctor.approvals)
    approval_id: str | None = None
    #: what the set with its @shadow policies would have decided, when that differs:
    #: (verdict value, policies)
    shadow: tuple[str, tuple[str, ...]] | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    def to_dict(self) -> dict[str, Any]:
        out = {
            "decision": self.verdict.value,
            "decision_id": str(self.decision_id),
            "policy_version": self.policy_version,
            "reasons": list(self.reasons),
            "policies": list(self.policies),
            "scope": None if self.scope is None else self.scope.to_dict(),
            "approval": self.approval,
            "errors": list(self.errors),
        }
        if self.approval_id is not None:
            out["approval_id"] = self.approval_id
        if self.shadow is not None:
            out["shadow"] = {"decision": self.shadow[0], "policies": list(self.shadow[1])}
        return out


@dataclass(frozen=True, slots=True)
class _Outcome:
    verdict: Verdict
    reasons: tuple[str, ...]
    policies: tuple[str, ...]
    scope: ScopeVerdict | None
    approval: str | None
    errors: tuple[str, ...] = ()
    #: the verdict and policies of the set with its @shadow policies (None: the set has none)
    full: tuple[Verdict, tuple[str, ...]] | None = None


def deny(reason: str, policy_version: str = "", *, errors: tuple[str, ...] = ()) -> Decision:
    """A deny decision built outside Cedar (identity, task or pipeline failures)."""
    return Decision(Verdict.DENY, DecisionId.new(), policy_version, (reason,), errors=errors)


def _uid(kind: str, ident: str) -> dict[str, str]:
    return {"type": f"{NS}::{kind}", "id": ident}


def entities_json(
    agent: AgentRecord,
    task: TaskRecord,
    tool: ToolRecord,
    labels: TaskLabels | None = None,
    action: str | None = None,
) -> list[dict[str, Any]]:
    """The Cedar entities one decision reads, built from store records: with the task's flow
    attributes (``labels``) and, for a tool's own ``action``, that action in its effect action."""
    base = entities_json_base(agent, task)
    base[2]["attrs"].update((labels or TaskLabels()).task_attrs())
    extra: list[dict[str, Any]] = []
    if action is not None and action != tool.effect:
        eff = {"type": f"{NS}::Action", "id": tool.effect}
        extra = [
            {"uid": {"type": f"{NS}::Action", "id": action}, "attrs": {}, "parents": [eff]},
            {"uid": eff, "attrs": {}, "parents": []},
        ]
    return [
        *base,
        *extra,
        {
            "uid": _uid("Tool", tool.name),
            "attrs": tool_attrs(tool),
            "parents": [],
        },
    ]


def tool_attrs(tool: ToolRecord) -> dict[str, Any]:
    """The attributes of a tool's Cedar entity."""
    return {
        "namespace": tool.name.split(".", 1)[0] if "." in tool.name else "",
        "effect": tool.effect,
        "trust": tool.trust,
        "sensitivity": tool.sensitivity,
        "destructive": tool.destructive,
        "financial": tool.financial,
        "customer_facing": tool.customer_facing,
        "production": tool.production,
        "access_control": tool.access_control,
        "credential_change": tool.credential_change,
        "egress": tool.egress,
    }


@dataclass(frozen=True, slots=True)
class CredentialRef:
    """A credential a task asks for: its name (the Cedar entity id), provider kind and upstream."""

    name: str
    provider: str
    upstream: str = ""


_DEFAULT_TASK_FLOW = TaskLabels().task_attrs()


def entities_json_base(agent: AgentRecord, task: TaskRecord) -> list[dict[str, Any]]:
    """The owner, agent and task entities every decision reads."""
    owner = _uid("Owner", agent.owner)
    return [
        {"uid": owner, "attrs": {"email": agent.owner}, "parents": []},
        {
            "uid": _uid("Agent", agent.name),
            "attrs": {
                "name": agent.name,
                "owner": {"__entity": owner},
                "status": agent.status.value,
                "spiffe_id": agent.spiffe_id,
            },
            "parents": [],
        },
        {
            "uid": _uid("Task", task.id),
            "attrs": {
                "agent": {"__entity": _uid("Agent", task.agent)},
                "purpose": task.purpose,
                "requested_by": task.requested_by,
                "state": task.state.value,
                "delegated": task.parent_id is not None,
                **chain_attrs(task),
                **_DEFAULT_TASK_FLOW,  # what it read: replaced by the flow's labels for a call
            },
            "parents": [],
        },
    ]


def chain_attrs(task: TaskRecord) -> dict[str, Any]:
    """The Task entity's delegation attributes (docs/adr/0032): its chain of accountability (root
    first, itself last, as ``{agent, task}`` records), its depth (0: a root task) and the person
    who requested the root task (a delegated task carries its root's requester)."""
    return {
        "chain": [{"agent": a, "task": t} for a, t in task.chain_pairs()],
        "depth": task.depth,
        "root_requester": str(task.requested_by),
    }


def _precheck(agent: AgentRecord, task: TaskRecord, now: float, version: str) -> Decision | None:
    """The deny every decision starts with, before Cedar: the task's agent, status and liveness."""
    if task.agent != agent.name:
        return deny(f"task `{task.id}` belongs to another agent", version)
    if agent.status is not AgentStatus.ACTIVE:
        return deny(f"agent `{agent.name}` is {agent.status.value}", version)
    if not task.is_live(now):
        state = "expired" if task.state.value == "active" else task.state.value
        return deny(f"task `{task.id}` is {state}", version)
    return None


@dataclass
class _Cache:
    """Decision outcomes keyed on every input a decision reads, including store versions."""

    outcomes: dict[tuple[Any, ...], _Outcome] = field(default_factory=dict)
    entities: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    #: per (tool name, effect, input schema): how its calls are decided
    plans: dict[tuple[Any, ...], _Plan] = field(default_factory=dict)
    #: per (plan key, the facts its policies read): the flow part of the context, as JSON text
    #: (``_Plan.flow_json``); the outcome key holds this text, so facts that differ only in what
    #: Cedar never sees (an argument's source tools, a field no policy reads) share an outcome
    flows: dict[tuple[Any, ...], str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one tool's calls are decided under one policy set."""

    #: the Cedar action: the tool's own (in its effect action) or, without one, the effect
    action: str
    #: the flow-relevant context keys its policies read (``PolicySet.reads``)
    reads: frozenset[str]
    #: why its calls are denied (the policies do not validate with the tool as registered), or None
    problem: str | None = None
    #: the flow attributes of the context its requests carry (those its policies read)
    flow_keys: tuple[str, ...] = ()
    #: its requests carry ``context.args``
    with_args: bool = False
    #: the arguments they carry (None: all the schema declares)
    arg_fields: frozenset[str] | None = None
    #: per fielded flow key (``provenance``, ``history``): the fields carried (None: all)
    fields: tuple[tuple[str, frozenset[str] | None], ...] = ()
    #: the flow part of the context of a call with no flow facts, as JSON text (``,"k":v…``)
    no_facts_json: str = ""
    #: its policies read the task's flow attributes (``TaskLabels.task_attrs``)
    task_flow: bool = False
    #: which of ``provenance``, ``destinations``, ``history`` its requests carry (flow_keys, as flags)
    carries: tuple[bool, bool, bool] = (False, False, False)
    #: the tool entity's attributes: which policies can apply to it (``PolicySet.for_action``)
    attrs: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, action: str, reads: frozenset[str], problem: str | None = None) -> _Plan:
        every = "*" in reads

        def fields(key: str) -> frozenset[str] | None:
            if every or f"{key}.*" in reads:
                return None
            return frozenset(r.split(".", 1)[1] for r in reads if r.startswith(f"{key}."))

        keys = tuple(k for k in ("provenance", "destinations", "history") if every or k in reads)
        plan = cls(
            action,
            reads,
            problem,
            keys,
            every or "args" in reads,
            fields("args"),
            tuple((k, fields(k)) for k in ("provenance", "history")),
        )
        return dataclasses.replace(
            plan,
            no_facts_json=plan.flow_json(_NO_CONTEXT),
            task_flow=every or "task_flow" in reads,
            carries=(
                "provenance" in keys,
                "destinations" in keys,
                "history" in keys,
            ),
        )

    def flow_json(self, flow: Mapping[str, Any]) -> str:
        """The flow attributes its requests carry, as JSON members (``,"provenance":{…}``)."""
        if not self.flow_keys:
            return ""
        only = dict(self.fields)
        part: dict[str, Any] = {}
        for k in self.flow_keys:
            v = flow[k]
            f = only.get(k)
            part[k] = v if f is None else {n: x for n, x in v.items() if n in f}
        return "," + _JSON(part)[1:-1]


def _plan_key(tool: ToolRecord) -> tuple[Any, ...]:
    """What a tool's plan depends on: its name, effect, input schema and the attributes of its
    Cedar entity (which policies can apply to it)."""
    return (
        tool.name,
        tool.effect,
        tool.input_schema,
        tool.trust,
        tool.sensitivity,
        tool.destructive,
        tool.financial,
        tool.customer_facing,
        tool.production,
        tool.access_control,
        tool.credential_change,
        tool.egress,
    )


def _plan(ps: PolicySet, tool: ToolRecord) -> _Plan:
    attrs = tool_attrs(tool)
    return dataclasses.replace(_plan_for(ps, tool, attrs), attrs=attrs)


def _plan_for(ps: PolicySet, tool: ToolRecord, attrs: dict[str, Any]) -> _Plan:
    if tool.effect in ps.effects and tool.name not in ps.named_actions:
        reads = ps.reads(tool.name, tool.effect, attrs)
        if "*" not in reads and "args" not in reads:
            # no policy names the tool's action or reads arguments: every policy that applies to
            # it applies to its effect action alike (``in`` is reflexive), so the call is decided
            # with the effect action, exactly as a call was before tools had actions (cheaper)
            return _Plan.of(tool.effect, reads)
    if ps.catalog.get(tool.name) == (tool.effect, tool.input_schema):
        return _Plan.of(tool.name, ps.reads(tool.name, tool.effect, attrs))
    if tool_action_declared(tool, ps.actions, ps.effects):
        problem = ps.validate_tool(tool)
        return _Plan.of(tool.name, ps.reads(tool.name, tool.effect, attrs), problem)
    return _Plan.of(tool.effect, ps.reads(tool.effect, tool.effect, attrs))


class _Result:
    """What a decision reads of Cedar's answer (``cedarpy.AuthzResult``'s ``allowed`` and
    ``diagnostics``), read from the answer's JSON without building cedarpy's wrappers."""

    __slots__ = ("allowed", "diagnostics", "errors", "reasons")

    def __init__(self, answer: Mapping[str, Any]) -> None:
        diag = answer.get("diagnostics") or {}
        self.allowed = answer["decision"] == "Allow"
        self.reasons: list[str] = diag.get("reason", [])
        self.errors: list[Any] = diag.get("errors", [])
        self.diagnostics = self


#: the function ``cedarpy.is_authorized`` calls (None: not there, or not called as expected)
_BATCH: list[Any] = [getattr(getattr(cedarpy, "_internal", None), "is_authorized_batch", None)]


def _authorize(request: dict[str, Any], policies: Any, entities: Any) -> Any:
    """``cedarpy.is_authorized`` for one request whose context is JSON text and whose entities are
    a parsed handle: the same evaluation, without the wrapper's per-call copying and objects (a
    replay makes thousands). Falls back to the public call if cedarpy's internals differ."""
    batch, inner = _BATCH[0], getattr(entities, "_inner", None)
    if batch is not None and inner is not None and isinstance(request.get("context"), str):
        try:
            answers = batch([request], policies, inner, None, False)
        except TypeError:  # another cedarpy: its internals are called differently
            _BATCH[0] = None
        else:
            return _Result(json.loads(answers[0]))
    return cedarpy.is_authorized(request, policies, entities)


#: one encoder, made once (``json.dumps`` with any option builds a new one per call)
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_NO_CONTEXT = NO_FACTS.context()


def _call_alone(
    ps: PolicySet, agent: AgentRecord, task: TaskRecord, tool: ToolRecord, args: Mapping[str, Any], now: float
) -> FlowFacts:
    """The facts of a call decided with none given (``proctor check``, a policy test case without
    ``facts``, flow switched off): nothing is known of earlier calls, so each counter counts this
    call alone (count 1 or 0, the sum its value, seen false, first_time true)."""
    from proctor.flow.counters import evaluate

    history = evaluate(
        ps.counters, (), task_id=task.id, agent=agent.name, tool=tool, args=args, now=now, key=b"proctor-none"
    )
    return FlowFacts(history=history)


def _task_view(ps: PolicySet, agent: AgentRecord, task: TaskRecord) -> tuple[Any, ...] | None:
    """What a decision under ``ps`` can read of ``agent`` and ``task``: the fields of their Cedar
    entities (``entities_json_base``) and those :func:`check_scope` reads, without the task's id,
    purpose and requester unless some policy may read them. None (key on the records) when that
    cannot be known: the set's policy bodies are not all at hand, or some policy names a ``Task``
    entity type or literal (the only way Cedar can tell one task's id from another's: a task
    entity is no other entity's parent, and an id is not a string)."""
    got = ps._memo.get("task-view")
    if got is None:
        if not ps.bodies or set(ps.bodies) != set(ps.sources):
            got = (False, True, True, True)
        else:
            text = json.dumps(ps.bodies, sort_keys=True)
            got = (
                'Task"' not in text,
                "purpose" in text,
                # a delegated task's root requester is its requested_by (chain_attrs)
                "requested_by" in text or "root_requester" in text,
                # a root task's chain names its own id (chain_attrs): a policy reading it can tell
                # one root task from another
                "chain" in text,
            )
        ps._memo["task-view"] = got
    shareable, purpose, requester, chain = got
    if not shareable:
        return None
    return (
        agent.name,
        agent.owner,
        agent.status,
        agent.spiffe_id,
        task.agent,
        task.state,
        task.parent_id is not None,
        # a delegated task's chain names its own id: such tasks share no entry
        task.chain_pairs() if chain else task.chain,
        task.allow,
        task.resources,
        task.purpose if purpose else None,
        task.requested_by if requester else None,
    )


def _thresholds_of(ps: PolicySet) -> Thresholds:
    """The set's fields keyed by thresholds (:func:`~proctor.policy.thresholds.thresholds`); none
    when its policy bodies are not all at hand."""
    got = ps._memo.get("thresholds")
    if got is None:
        got = {} if not ps.bodies or set(ps.bodies) != set(ps.sources) else thresholds(ps.bodies)
        ps._memo["thresholds"] = got
    return got


def _history_json(plan: _Plan, facts: FlowFacts) -> dict[str, Any]:
    """``context.history`` as ``_Plan.flow_json`` writes it: the fields its policies read."""
    only = dict(plan.fields).get("history")
    return {
        n: decimal_cedar(v) if isinstance(v, Decimal) else v
        for n, v in facts.history
        if only is None or n in only
    }


_RANK = {Verdict.DENY: 0, Verdict.APPROVAL_REQUIRED: 1, Verdict.ALLOW: 2}


def _evaluate(
    ps: PolicySet, request: dict[str, Any], ents: list[dict[str, Any]], *, what: str, default: str
) -> tuple[tuple[str, ...], Decision | None]:
    """Decide an action apart from tool calls (a credential, a delegation): the policies that
    determined it, and the deny when a policy failed to evaluate (fail closed) or none permits it
    (``default`` says why when none forbids it either); None when permitted."""
    result = cedarpy.is_authorized(request, ps.cedar, cedarpy.Entities.from_json_str(json.dumps(ents)))
    policies = tuple(sorted(result.diagnostics.reasons))
    errors = tuple(str(e) for e in result.diagnostics.errors)
    if errors:
        reason = f"a policy failed to evaluate: {what} is denied"
        return policies, Decision(
            Verdict.DENY, DecisionId.new(), ps.version, (reason,), policies, errors=errors
        )
    if not result.allowed:
        why = f"forbidden by {', '.join(f'`{p}`' for p in policies)}" if policies else default
        return policies, Decision(Verdict.DENY, DecisionId.new(), ps.version, (why,), policies)
    return policies, None


class PolicyEngine:
    """Holds the active policy set and decides. Safe to share between threads.

    A new policy set is swapped in atomically; calls in flight finish on the set they started with.
    An invalid new set is refused and the last good one keeps serving.
    """

    def __init__(
        self,
        policies: PolicySet,
        *,
        cache: bool = True,
        entities: dict[tuple[Any, ...], Any] | None = None,
        across_tasks: bool = False,
        by_thresholds: bool = False,
    ) -> None:
        #: ``entities``: a cache of parsed Cedar entities to share with other engines deciding on the
        #: same records (``proctor replay``'s candidate and baseline): they do not depend on the
        #: policy set (keyed on the records' names and versions, the action and the task's labels)
        self._entities = entities
        #: ``across_tasks``: outcomes are keyed on what Cedar and the scope check see of the agent
        #: and the task (:func:`_task_view`), not on their records, so tasks that differ only in
        #: what no policy can read (ids, times, parameters) share them (``proctor replay``)
        self._across_tasks = across_tasks
        #: ``by_thresholds``: a number the set's policies only compare with constants is keyed on
        #: the results of those comparisons, not on its value (:mod:`proctor.policy.thresholds`):
        #: payments of different amounts share an outcome when no policy can tell them apart
        self._by_thresholds = by_thresholds
        #: the active set and the cache of its outcomes, swapped together: a decision reads both in
        #: one step, so an outcome of one set can never be stored in (or served from) another's cache
        self._state: tuple[PolicySet, _Cache] = (policies, self._new_cache())
        self._use_cache = cache
        self._lock = threading.Lock()

    def _new_cache(self) -> _Cache:
        return _Cache() if self._entities is None else _Cache(entities=self._entities)

    @property
    def policy_set(self) -> PolicySet:
        return self._state[0]

    @property
    def version(self) -> str:
        return self._state[0].version

    @staticmethod
    def _plan_of(ps: PolicySet, cache: _Cache, pkey: tuple[Any, ...], tool: ToolRecord) -> _Plan:
        plan = cache.plans.get(pkey)
        if plan is None:
            plan = _plan(ps, tool)
            if len(cache.plans) >= CACHE_LIMIT:
                cache.plans.clear()
            cache.plans[pkey] = plan
        return plan

    def reads(self, tool: ToolRecord) -> frozenset[str]:
        """What the policies deciding ``tool``'s calls read of the flow facts (``PolicySet.reads``
        of the action its calls are decided with): a caller may skip computing a fact no policy
        reads (it never reaches Cedar nor the cache key). ``*``: everything."""
        ps, cache = self._state
        try:
            return self._plan_of(ps, cache, _plan_key(tool), tool).reads
        except Exception:  # deciding will deny; until then, assume everything is read
            return frozenset({"*"})

    def swap(self, new: PolicySet) -> bool:
        """Activate ``new``; returns False when it is the set already active."""
        with self._lock:
            if new.version == self._state[0].version:
                return False
            self._state = (new, self._new_cache())
            return True

    def decide(
        self,
        agent: AgentRecord,
        task: TaskRecord,
        tool: ToolRecord,
        args: Mapping[str, Any],
        now: float,
        facts: FlowFacts | None = None,
    ) -> Decision:
        """Decide one call. Never raises for a policy reason: a failure to decide is a deny.

        ``facts`` (labels, provenance, history) come from the flow stage; None = nothing known. The
        cache key holds the arguments and the facts only when the policies of the tool's action read
        them, so a call with no flow-relevant policy is keyed exactly as before."""
        ps, cache = self._state
        try:
            refused = _precheck(agent, task, now, ps.version)
            if refused is not None:
                return refused
            given = facts
            if facts is None:
                facts = NO_FACTS
            pkey = _plan_key(tool)
            plan = self._plan_of(ps, cache, pkey, tool)
            if plan.problem is not None:
                return deny(
                    f"the policies do not validate with tool `{tool.name}` as it is registered now, so its"
                    f" calls are denied: {plan.problem}",
                    ps.version,
                )
            if given is None and ps.counters and ("history" in plan.reads or "*" in plan.reads):
                facts = _call_alone(ps, agent, task, tool, args, now)
            resources = resources_of(tool, args)
            # keyed on the records themselves: every field a decision reads, versions included
            # (across tasks: every field of theirs Cedar and the scope check can read)
            view = _task_view(ps, agent, task) if self._across_tasks else None
            key: tuple[Any, ...] = (agent, task, tool, resources) if view is None else (view, tool, resources)
            typed: str | None = None  # the typed arguments as JSON text (fields in schema order)
            flow = ""  # the flow part of the context, as JSON text (what Cedar sees of the facts)
            # what Cedar sees of the task's labels, when its policies read them (never the count
            # of outputs read or their tools: they change with every output, no policy sees them)
            seen: tuple[bool, Any] | None = None
            th = _thresholds_of(ps) if self._by_thresholds else None
            history: dict[str, Any] | None = None  # with ``th``: the history Cedar sees, not in ``flow`` yet
            if plan.reads:
                if plan.with_args and plan.action == tool.name:
                    try:
                        cargs = cedar_args(tool, args, plan.arg_fields)
                    except ValidationError as exc:
                        return deny(f"{exc.message}: the call is denied", ps.version)
                    typed = _JSON(cargs)
                    if th:
                        key += (tuple((n, abstract(v, th.get(("args", n)))) for n, v in cargs.items()),)
                    else:
                        key += (typed,)
                if plan.flow_keys:
                    if th and plan.carries[2] and facts is not NO_FACTS:
                        flow = self._flow(
                            cache, ("no-history", pkey), self._no_history(cache, pkey, plan), facts
                        )
                        history = _history_json(plan, facts)
                        key += (
                            flow,
                            tuple((n, abstract(v, th.get(("history", n)))) for n, v in history.items()),
                        )
                    else:
                        flow = self._flow(cache, pkey, plan, facts)
                        key += (flow,)
                if plan.task_flow and facts is not NO_FACTS:
                    seen = (facts.task.read_untrusted, facts.task.max_sensitivity)
                    key += (seen,)
            hit = cache.outcomes.get(key) if self._use_cache else None
            if hit is None:
                if history is not None:
                    flow += ',"history":' + _JSON(history)
                hit = self._evaluate_all(ps, cache, agent, task, tool, resources, plan, seen, flow, typed)
                # (an evaluation error may name the task's entity, or a value: such an outcome is
                # never shared)
                if self._use_cache and not ((view is not None or th) and hit.errors):
                    if len(cache.outcomes) >= CACHE_LIMIT:
                        cache.outcomes.clear()
                    cache.outcomes[key] = hit
                cached = False
            else:
                cached = True
            shadow = None
            if hit.full is not None and hit.full[0] is not hit.verdict:
                shadow = (hit.full[0].value, hit.full[1])
            return Decision(
                hit.verdict,
                DecisionId.new(),
                ps.version,
                hit.reasons,
                hit.policies,
                hit.scope,
                hit.approval,
                hit.errors,
                cached,
                None,
                shadow,
            )
        except Exception as exc:  # fail closed: any error while deciding is a deny
            return deny("error while deciding: the call is denied", ps.version, errors=(type(exc).__name__,))

    @staticmethod
    def _no_history(cache: _Cache, pkey: tuple[Any, ...], plan: _Plan) -> _Plan:
        """``plan`` without ``history`` in its flow part (the history is keyed apart: by thresholds)."""
        nkey = ("no-history", pkey)
        got = cache.plans.get(nkey)
        if got is None:
            prov, dest, _ = plan.carries
            got = dataclasses.replace(
                plan,
                flow_keys=tuple(k for k in plan.flow_keys if k != "history"),
                carries=(prov, dest, False),
            )
            if len(cache.plans) >= CACHE_LIMIT:
                cache.plans.clear()
            cache.plans[nkey] = got
        return got

    def _flow(self, cache: _Cache, pkey: tuple[Any, ...], plan: _Plan, facts: FlowFacts) -> str:
        """The flow part of the context of a call (``_Plan.flow_json``), memoised on the facts its
        policies read: equal facts give equal text, so it is computed once per distinct facts
        (the organisation's domains among them: what is outside depends on the task's requester
        and the agent's owner)."""
        if facts is NO_FACTS:
            return plan.no_facts_json
        prov, dest, hist = plan.carries
        fkey = (
            pkey,
            facts.provenance if prov else None,
            facts.destinations if dest else None,
            facts.history if hist else None,
            facts.internal if prov or dest else None,
        )
        text = cache.flows.get(fkey) if self._use_cache else None
        if text is None:
            text = plan.flow_json(facts.context())
            if self._use_cache:
                if len(cache.flows) >= CACHE_LIMIT:
                    cache.flows.clear()
                cache.flows[fkey] = text
        return text

    def decide_credential(
        self,
        agent: AgentRecord,
        task: TaskRecord,
        credential: CredentialRef,
        *,
        upstream_declared: bool,
        effects: frozenset[str],
        now: float,
        labels: TaskLabels | None = None,
    ) -> Decision:
        """May ``task`` obtain ``credential``? Never cached (issuance is rare), never raises: a
        failure to decide is a deny. An ``@approval`` permit is a deny here, by design: a credential is
        issued inside a call that is already running and cannot wait for a person; put the approval
        on the tool call that needs the credential instead (docs/adr/0022). ``labels``: what the
        task has read (its flow attributes on the Task entity: ``context.task.read_untrusted``);
        None: the defaults (nothing read)."""
        ps = self._state[0]
        try:
            refused = _precheck(agent, task, now, ps.version)
            if refused is not None:
                return refused
            if CREDENTIAL_ACTION not in ps.actions:
                return deny(
                    f"the policy schema has no `{CREDENTIAL_ACTION}` action, so no credential can be"
                    " granted: add it (see the starter schema)",
                    ps.version,
                )
            base = entities_json_base(agent, task)
            if labels is not None:
                base[2]["attrs"].update(labels.task_attrs())
            ents = [
                *base,
                {
                    "uid": _uid("Credential", credential.name),
                    "attrs": {"provider": credential.provider, "upstream": credential.upstream},
                    "parents": [],
                },
            ]
            request = {
                "principal": _uid("Agent", agent.name),
                "action": {"type": f"{NS}::Action", "id": CREDENTIAL_ACTION},
                "resource": _uid("Credential", credential.name),
                "context": {
                    "task": {"__entity": _uid("Task", task.id)},
                    "upstream_declared": upstream_declared,
                    "effects": sorted(effects),
                },
            }
            policies, refused = _evaluate(
                ps,
                request,
                ents,
                what="the credential",
                default=f"no policy permits `{CREDENTIAL_ACTION}` on `{credential.name}` (default deny)",
            )
            if refused is not None:
                return refused
            approvals = sorted({a for p in policies if (a := ps.approval_of(p)) is not None})
            if approvals:
                return Decision(
                    Verdict.DENY,
                    DecisionId.new(),
                    ps.version,
                    (
                        f"permitted by {', '.join(f'`{p}`' for p in policies)} only with approval by"
                        f" {', '.join(approvals)}, and a credential cannot wait for a person: put the approval on"
                        " the tool call instead",
                    ),
                    policies,
                )
            return Decision(
                Verdict.ALLOW,
                DecisionId.new(),
                ps.version,
                (f"permitted by {', '.join(f'`{p}`' for p in policies)}",),
                policies,
            )
        except Exception as exc:  # fail closed
            return deny(
                "error while deciding: the credential is denied", ps.version, errors=(type(exc).__name__,)
            )

    def decide_delegation(
        self,
        parent_agent: AgentRecord,
        parent: TaskRecord,
        child_agent: AgentRecord,
        *,
        depth: int,
        now: float,
        labels: TaskLabels | None = None,
    ) -> Decision:
        """May ``parent`` (a task of ``parent_agent``) delegate to ``child_agent``, making a task
        ``depth`` delegations down from its root? Cedar action ``delegate``: principal the parent
        agent, resource the child agent, context the parent task and the depth. Never cached,
        never raises: a failure to decide is a deny; no permit is a deny (default deny); an
        ``@approval`` permit is a deny too (a delegation does not wait for a person)."""
        ps = self._state[0]
        try:
            refused = _precheck(parent_agent, parent, now, ps.version)
            if refused is not None:
                return refused
            if DELEGATE_ACTION not in ps.actions:
                return deny(
                    f"the policy schema has no `{DELEGATE_ACTION}` action, so no task can be delegated:"
                    " add it (see the starter schema)",
                    ps.version,
                )
            base = entities_json_base(parent_agent, parent)
            if labels is not None:
                base[2]["attrs"].update(labels.task_attrs())
            ents = list(base)
            if child_agent.name != parent_agent.name:
                child_owner = _uid("Owner", child_agent.owner)
                if child_agent.owner != parent_agent.owner:
                    ents.append({"uid": child_owner, "attrs": {"email": child_agent.owner}, "parents": []})
                ents.append(
                    {
                        "uid": _uid("Agent", child_agent.name),
                        "attrs": {
                            "name": child_agent.name,
                            "owner": {"__entity": child_owner},
                            "status": child_agent.status.value,
                            "spiffe_id": child_agent.spiffe_id,
                        },
                        "parents": [],
                    }
                )
            request = {
                "principal": _uid("Agent", parent_agent.name),
                "action": {"type": f"{NS}::Action", "id": DELEGATE_ACTION},
                "resource": _uid("Agent", child_agent.name),
                "context": {"task": {"__entity": _uid("Task", parent.id)}, "depth": depth},
            }
            policies, refused = _evaluate(
                ps,
                request,
                ents,
                what="the delegation",
                default=(
                    f"no policy permits `{DELEGATE_ACTION}` from `{parent_agent.name}` to"
                    f" `{child_agent.name}` (default deny)"
                ),
            )
            if refused is not None:
                return refused
            if any(ps.approval_of(p) is not None for p in policies):
                return Decision(
                    Verdict.DENY,
                    DecisionId.new(),
                    ps.version,
                    (
                        f"permitted by {', '.join(f'`{p}`' for p in policies)} only with approval, and a"
                        " delegation does not wait for a person",
                    ),
                    policies,
                )
            return Decision(
                Verdict.ALLOW,
                DecisionId.new(),
                ps.version,
                (f"permitted by {', '.join(f'`{p}`' for p in policies)}",),
                policies,
            )
        except Exception as exc:  # fail closed
            return deny(
                "error while deciding: the delegation is denied", ps.version, errors=(type(exc).__name__,)
            )

    def _evaluate_all(
        self,
        ps: PolicySet,
        cache: _Cache,
        agent: AgentRecord,
        task: TaskRecord,
        tool: ToolRecord,
        resources: tuple[str, ...] | None,
        plan: _Plan,
        seen: tuple[bool, Any] | None,
        flow: str,
        typed: str | None,
    ) -> _Outcome:
        """A call that touches several resources (``source,destination``, ``paths[]``) is decided
        for each of them; the most restrictive outcome wins (a deny, then an approval). The shadow
        verdict (the set with its @shadow policies) is combined the same way."""
        if resources is None or len(resources) <= 1:
            return self._evaluate(ps, cache, agent, task, tool, resources, plan, seen, flow, typed)
        worst: _Outcome | None = None
        worst_full: tuple[Verdict, tuple[str, ...]] | None = None
        for resource in dict.fromkeys(resources):
            outcome = self._evaluate(
                ps, cache, agent, task, tool, resources, plan, seen, flow, typed, resource
            )
            if worst is None or _RANK[outcome.verdict] < _RANK[worst.verdict]:
                worst = outcome
            if outcome.full is not None and (
                worst_full is None or _RANK[outcome.full[0]] < _RANK[worst_full[0]]
            ):
                worst_full = outcome.full
            if outcome.verdict is Verdict.DENY and (worst_full is None or worst_full[0] is Verdict.DENY):
                break
        assert worst is not None
        if worst_full is not None and worst_full != worst.full:
            worst = _Outcome(
                worst.verdict,
                worst.reasons,
                worst.policies,
                worst.scope,
                worst.approval,
                worst.errors,
                worst_full,
            )
        return worst

    def _evaluate(
        self,
        ps: PolicySet,
        cache: _Cache,
        agent: AgentRecord,
        task: TaskRecord,
        tool: ToolRecord,
        resources: tuple[str, ...] | None,
        plan: _Plan,
        seen: tuple[bool, Any] | None,
        flow: str,
        typed: str | None,
        resource: str | None = None,
    ) -> _Outcome:
        scope = check_scope(task, tool, resources)
        if resource is None:
            resource = scope.resource
        if tool.effect not in ps.actions:
            return _Outcome(
                Verdict.DENY,
                (f"tool effect `{tool.effect}` has no action in the policy schema",),
                (),
                scope,
                None,
            )
        ekey = (
            agent.name,
            agent.version,
            task.id,
            task.version,
            tool.name,
            tool.version,
            plan.action,
            seen,  # None: the default labels (no policy of the action reads them, or none known)
        )
        ents = cache.entities.get(ekey)
        if ents is None:
            labels = None if seen is None else TaskLabels(read_untrusted=seen[0], max_sensitivity=seen[1])
            ents = cedarpy.Entities.from_json_str(
                json.dumps(entities_json(agent, task, tool, labels, plan.action))
            )
            if len(cache.entities) >= CACHE_LIMIT:
                cache.entities.clear()
            cache.entities[ekey] = ents
        context: dict[str, Any] = {
            "task": {"__entity": _uid("Task", task.id)},
            "resource": resource or "",
            "in_scope": scope.ok,
        }
        # only what the policies that apply to this action read (Cedar parses every attribute of a
        # request's context, and a policy the analysis did not count cannot be evaluated on this
        # request: its action scope does not match)
        text = _JSON(context)[:-1] + flow
        if plan.action != tool.effect and plan.with_args:  # converted to JSON once, in decide
            text += ',"args":' + ("{}" if typed is None else typed)
        text += "}"
        request = {
            "principal": _uid("Agent", agent.name),
            "action": {"type": f"{NS}::Action", "id": plan.action},
            "resource": _uid("Tool", tool.name),
            "context": text,
        }
        # only the policies whose action scope can match (PolicySet.for_action): the same answer
        cedar, cedar_full = ps.for_action(plan.action, tool.effect, plan.attrs)
        result = _authorize(request, cedar, ents)
        out = self._outcome(ps, tool, scope, result)
        if cedar_full is not None:
            full = self._outcome(ps, tool, scope, _authorize(request, cedar_full, ents))
            out = _Outcome(
                out.verdict,
                out.reasons,
                out.policies,
                out.scope,
                out.approval,
                out.errors,
                (full.verdict, full.policies),
            )
        return out

    @staticmethod
    def _outcome(ps: PolicySet, tool: ToolRecord, scope: ScopeVerdict, result: Any) -> _Outcome:
        diag = result.diagnostics
        policies = tuple(sorted(diag.reasons))
        errors = tuple(str(e) for e in diag.errors)
        if errors:
            return _Outcome(
                Verdict.DENY,
                ("a policy failed to evaluate: the call is denied",),
                policies,
                scope,
                None,
                errors,
            )
        if not result.allowed:
            if policies:
                why = f"forbidden by {', '.join(f'`{p}`' for p in policies)}"
            else:
                why = f"no policy permits `{tool.effect}` on `{tool.name}` (default deny)"
            return _Outcome(Verdict.DENY, (why,), policies, scope, None)
        if not scope.ok:
            return _Outcome(
                Verdict.DENY, (f"outside the task's scope: {scope.reason}",), policies, scope, None
            )
        approvals = sorted({a for p in policies if (a := ps.approval_of(p)) is not None})
        if approvals:
            who = ", ".join(approvals)
            return _Outcome(
                Verdict.APPROVAL_REQUIRED,
                (f"permitted by {', '.join(f'`{p}`' for p in policies)} only with approval by {who}",),
                policies,
                scope,
                who,
            )
        return _Outcome(
            Verdict.ALLOW, (f"permitted by {', '.join(f'`{p}`' for p in policies)}",), policies, scope, None
        )


class PolicyWatcher:
    """Polls a policy directory and swaps in a new set when its files change.

    ``on_change(policy_set)`` and ``on_reject(error)`` let the caller audit both outcomes;
    ``on_clear()`` is called when, after a rejection, the files are the active set again.
    """

    def __init__(
        self,
        engine: PolicyEngine,
        directory: Path,
        *,
        interval_s: float = 1.0,
        on_change: Callable[[PolicySet], None] | None = None,
        on_reject: Callable[[PolicyLoadError], None] | None = None,
        on_clear: Callable[[], None] | None = None,
        activate: Callable[[PolicySet], bool] | None = None,
        settle_polls: int = 1,
        tools: Callable[[], Sequence[ToolRecord]] | None = None,
    ) -> None:
        self.engine = engine
        #: the registered tools a new set is compiled against
        self._tools = tools
        #: polls in a row that must find the same changed files before they are loaded (2: a file
        #: an editor is still writing is never activated or refused half-written)
        self._settle = max(1, settle_polls)
        self._candidate: str | None = None
        self._seen = 0
        #: replaces ``engine.swap`` + ``on_change``: the caller records the set before it serves it
        self._activate = activate
        self.directory = directory
        self.interval_s = interval_s
        self._on_change = on_change
        self._on_reject = on_reject
        self._on_clear = on_clear
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_rejected: str | None = None

    def check_once(self) -> bool:
        """Reload if the files changed. Returns True when a new set became active."""
        try:
            files, schema, counters_text, version = directory_version(self.directory)
        except PolicyLoadError as exc:
            self._reject(exc, repr(exc))
            return False
        if version == self.engine.version:
            self._candidate = None
            if self._last_rejected is not None:  # the refused edit was undone
                self._last_rejected = None
                if self._on_clear is not None:
                    self._on_clear()
            return False
        if self._settle > 1:
            if version != self._candidate:
                self._candidate, self._seen = version, 1
                return False
            self._seen += 1
            if self._seen < self._settle:
                return False
        try:
            counters = () if counters_text is None else parse_counters_text(counters_text)
            tools = () if self._tools is None else self._tools()
            new = compile_policies(files, schema, tools=tools, counters=counters, counters_text=counters_text)
        except PolicyLoadError as exc:
            self._reject(exc, version)
            return False
        if self._activate is not None:
            if self._activate(new):
                self._last_rejected = None
                return True
            return False
        if self.engine.swap(new):
            self._last_rejected = None
            if self._on_change is not None:
                self._on_change(new)
            return True
        return False

    def _reject(self, exc: PolicyLoadError, marker: str) -> None:
        if marker != self._last_rejected:
            self._last_rejected = marker
            if self._on_reject is not None:
                self._on_reject(exc)

    def start(self) -> None:
        def run() -> None:
            while not self._stop.wait(self.interval_s):
                try:
                    self.check_once()
                except Exception:  # noqa: S112 - the watcher must never die; the old set keeps serving
                    continue

        self._thread = threading.Thread(target=run, name="proctor-policy-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


__all__ = [
    "CREDENTIAL_ACTION",
    "DELEGATE_ACTION",
    "CredentialRef",
    "Decision",
    "DecisionError",
    "PolicyEngine",
    "PolicyWatcher",
    "deny",
]
