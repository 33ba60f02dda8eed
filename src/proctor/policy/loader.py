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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cedarpy

from proctor.errors import PolicyLoadError

__all__ = [
    "COUNTERS_FILE",
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
    "directory_version",
    "load_policy_dir",
    "located",
    "policy_errors",
    "read_counters",
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
    """A validated, parsed set of policies plus its schema, identified by a content hash.

    ``version`` hashes the files, the base schema and ``counters.yaml`` — not the tool catalog: the
    catalog the set was compiled with (``catalog``) is what it has been validated against; a tool
    outside it is validated before its first decision (:meth:`validate_tool`)."""

    version: str
    cedar: Any  # cedarpy.PolicySet: the enforced policies (every policy but the @shadow ones)
    schema: Any  # cedarpy.Schema: the generated schema
    schema_text: str  # the policy directory's schema.cedarschema
    sources: dict[str, PolicySource]
    files: dict[str, str]
    #: the actions of the base schema: the tool effects and ``use_credential``
    actions: frozenset[str] = field(default_factory=frozenset)
    #: the schema with Proctor's declarations (tool actions, flow types); ``proctor policy schema``
    generated_schema_text: str = ""
    #: the effect actions (resource ``Tool``)
    effects: frozenset[str] = field(default_factory=frozenset)
    #: the tools compiled in: name -> (effect, input_schema)
    catalog: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    counters: tuple[Any, ...] = ()
    #: every policy, shadow ones included, or None when the set has no @shadow policy
    cedar_full: Any = None
    shadow: frozenset[str] = frozenset()
    #: the validated (rewritten) text of each policy, in order, for re-validation with a new tool
    statements: tuple[tuple[str, str], ...] = ()
    #: per policy: its action scope and the context keys it reads (see :func:`_analyse`)
    analysis: dict[str, tuple[tuple[str, frozenset[str]], frozenset[str]]] = field(default_factory=dict)
    #: actions the policies name (tool actions included)
    named_actions: frozenset[str] = frozenset()
    #: every policy's (rewritten) JSON body, by id: the source of :meth:`for_action`'s subsets
    bodies: dict[str, Any] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def approval_of(self, policy_id: str) -> str | None:
        src = self.sources.get(policy_id)
        return None if src is None else src.annotations.get("approval")

    def reads(
        self, tool_name: str, effect: str | None = None, attrs: Mapping[str, Any] | None = None
    ) -> frozenset[str]:
        """Which flow-relevant context keys the policies that apply to ``tool_name``'s action read:
        ``args``, ``provenance``, ``destinations``, ``history``, ``task_flow`` (the task's flow
        attributes), or ``*`` (the whole context). With ``attrs`` (the tool entity's attributes), a
        policy whose conditions cannot hold for this tool whatever the principal and the context
        (``resource.egress && …`` for a tool that is not egress) is left out (see
        :func:`may_apply`): a plain read then needs no flow facts."""
        if effect is None:
            effect = self.catalog.get(tool_name, ("", None))[0]
        frozen = None if attrs is None else tuple(sorted(attrs.items()))
        key = ("reads", tool_name, effect, frozen)
        got = self._memo.get(key)
        if got is None:
            acc: set[str] = set()
            for pid, ((op, names), keys) in self.analysis.items():
                if not (op == "all" or tool_name in names or (op == "in" and effect in names)):
                    continue
                if (
                    attrs is not None
                    and pid in self.bodies
                    and not may_apply(self.bodies[pid], tool_name, effect, attrs)
                ):
                    continue
                acc |= keys
            got = frozenset(acc)
            self._memo[key] = got
        return frozenset(got)

    def for_action(self, action: str, effect: str, attrs: Mapping[str, Any] | None = None) -> tuple[Any, Any]:
        """The Cedar sets (enforced, and all with the @shadow ones or None) a request for ``action``
        (a tool's action, a member of ``effect``, or the effect itself) is evaluated with: only the
        policies whose action scope can match it and, given the tool's attributes ``attrs``, whose
        conditions can hold for that tool (:func:`may_apply`, the same test :meth:`reads` makes, so
        no policy is evaluated on a context that lacks what it reads). Cedar evaluates a policy's
        scope before its conditions, so a policy left out is one that can neither apply nor fail on
        such a request: the answer is the full set's, without evaluating the others. (Scope
        ``all``, a scope naming ``action`` or ``effect``; the request's entities hold no other
        action hierarchy.)"""
        frozen = None if attrs is None else tuple(sorted(attrs.items()))
        key = ("subset", action, effect, frozen)
        got = self._memo.get(key)
        if got is None:
            if not self.bodies:
                got = (self.cedar, self.cedar_full)
            else:
                keep = [
                    pid
                    for pid, ((op, names), _) in self.analysis.items()
                    if (op == "all" or action in names or effect in names)
                    and (attrs is None or may_apply(self.bodies[pid], action, effect, attrs))
                ]
                enforced = _cedar_set({pid: self.bodies[pid] for pid in keep if pid not in self.shadow})
                full = None  # no @shadow policy can apply: the enforced answer is the full one
                if self.cedar_full is not None and any(pid in self.shadow for pid in keep):
                    full = _cedar_set({pid: self.bodies[pid] for pid in keep})
                got = (enforced, full)
            self._memo[key] = got
        return got

    def validate_tool(self, tool: Any) -> str | None:
        """Validate the policies with ``tool``'s action as it is registered now (a tool registered
        after the set was compiled, or whose effect or input schema changed). None when they
        validate; else the problem. Cached per (name, effect, input_schema)."""
        key = ("tool", tool.name, tool.effect, tool.input_schema)
        if key in self._memo:
            return self._memo[key]  # type: ignore[no-any-return]
        from proctor.policy.schemagen import generate_schema
        from proctor.store.base import ToolRecord
        from proctor.types import ToolName

        catalog = [
            ToolRecord(name=ToolName(n), effect=e, input_schema=i)
            for n, (e, i) in self.catalog.items()
            if n != tool.name
        ]
        problem: str | None = None
        try:
            gen = generate_schema(
                self.schema_text,
                tools=[*catalog, tool],
                counters=self.counters,
                named_actions=self.named_actions,
            )
            schema = cedarpy.Schema.from_str(gen.text)
            result = cedarpy.validate_policies("\n".join(t for _, t in self.statements), schema)
            if not result.validation_passed:
                msgs = []
                for err in result.errors:
                    msgs.append(_locate_error(err, self.statements, self.sources)[0])
                problem = "; ".join(msgs)
        except (PolicyLoadError, ValueError) as exc:
            problem = str(exc)
        if len(self._memo) > 10_000:
            self._memo.clear()
        self._memo[key] = problem
        return problem


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


def content_version(files: dict[str, str], schema_text: str, counters_text: str | None = None) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    h.update(b"schema\0" + schema_text.encode())
    if counters_text is not None:  # absent: the same version as before counters existed
        h.update(b"\0counters\0" + counters_text.encode())
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


def _locate_error(
    err: Any,
    statements: tuple[tuple[str, str], ...] | list[tuple[str, str]],
    sources: dict[str, PolicySource],
) -> tuple[str, dict[str, Any]]:
    """A validation error as ``file:line: message`` and its structured problem."""
    pid_index = str(getattr(err, "policy_id", "") or "")
    where = "policies"
    file: str | None = None
    line_no: int | None = None
    if pid_index.startswith("policy") and pid_index[6:].isdigit() and int(pid_index[6:]) < len(statements):
        src = sources[statements[int(pid_index[6:])][0]]
        where, file, line_no = f"{src.file}:{src.line}", src.file, src.line
    text = str(err.error).replace(f"policy `{pid_index}`", "policy")
    if '"use_credential"' in text or "Proctor::Credential" in text:
        text += (
            " (this policy applies to credential requests too: to read tool-call attributes,"
            " scope it with `resource is Proctor::Tool` or name its actions)"
        )
    if "args" in text and ("attribute" in text or "has" in text):
        text += (
            " (`context.args` holds the arguments of the tool's input schema: register the tool with its"
            " input schema, `proctor tool add --input-schema FILE`, and test optional ones with `has`;"
            " `proctor policy schema` shows each tool's arguments)"
        )
    return f"{where}: {text}", {"file": file, "line": line_no, "message": text}


#: the context keys that make a decision depend on the call's data (the rest are keyed already)
FLOW_KEYS = frozenset({"args", "provenance", "destinations", "history"})
_TASK_FLOW = frozenset({"read_untrusted", "max_sensitivity", "sensitivity_level"})


def _is_action_value(node: Any) -> str | None:
    if isinstance(node, dict) and len(node) == 1 and isinstance(node.get("Value"), dict):
        ent = node["Value"].get("__entity")
        if isinstance(ent, dict) and str(ent.get("type", "")).endswith("Action"):
            return str(ent.get("id"))
    return None


def _walk_names(node: Any, acc: set[str]) -> None:
    if isinstance(node, dict):
        ent = (
            node.get("__entity")
            if "__entity" in node
            else (node if "type" in node and "id" in node else None)
        )
        if isinstance(ent, dict) and str(ent.get("type", "")).endswith("Action") and "id" in ent:
            acc.add(str(ent["id"]))
        for v in node.values():
            _walk_names(v, acc)
    elif isinstance(node, list):
        for v in node:
            _walk_names(v, acc)


def _rewrite(node: Any, effects: frozenset[str]) -> Any:
    """``action == Action::"<effect>"`` -> ``action in …`` (``!=`` -> ``!(… in …)``), anywhere."""
    if isinstance(node, list):
        return [_rewrite(v, effects) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((op, arg),) = node.items()
        if op in ("==", "!=") and isinstance(arg, dict):
            left, right = arg.get("left"), arg.get("right")
            if right == {"Var": "action"}:
                left, right = right, left
            name = _is_action_value(right)
            if left == {"Var": "action"} and name in effects:
                expr = {"in": {"left": left, "right": right}}
                return expr if op == "==" else {"!": {"arg": expr}}
    return {k: _rewrite(v, effects) for k, v in node.items()}


_CTX = {"Var": "context"}
#: the flow keys whose fields are read one by one (``args.amount``, ``provenance.checked``)
_FIELDED = frozenset({"args", "provenance", "history"})


def _ctx_key(node: Any) -> str | None:
    """``X`` when ``node`` is ``context.X``."""
    if isinstance(node, dict) and len(node) == 1 and isinstance(node.get("."), dict):
        arg = node["."]
        if arg.get("left") == _CTX:
            return str(arg.get("attr", ""))
    return None


def _reads(node: Any, acc: set[str]) -> None:
    """Collect what a policy reads of the context: ``args`` and ``args.<name>`` (``args.*``: the
    whole record), the same for ``provenance`` and ``history``, ``destinations``, ``task_flow``
    (an attribute of the task's flow labels), ``*`` (the whole context)."""
    if isinstance(node, list):
        for v in node:
            _reads(v, acc)
        return
    if not isinstance(node, dict):
        return
    for op, arg in node.items():
        if op in (".", "has") and isinstance(arg, dict):
            attr = str(arg.get("attr", ""))
            left = arg.get("left")
            if attr in _TASK_FLOW:
                acc.add("task_flow")
            if left == _CTX:
                if attr in FLOW_KEYS:
                    acc.add(attr)
                    if attr in _FIELDED and op == ".":
                        acc.add(f"{attr}.*")  # `context.args` itself: every field
                continue
            key = _ctx_key(left)
            if key is not None and key in _FIELDED:
                acc.update((key, f"{key}.{attr}"))
                continue
        if op == "Var" and arg == "context":
            acc.add("*")  # the whole context used as a value: everything counts
            continue
        _reads(arg, acc)


def _analyse(body: dict[str, Any]) -> tuple[tuple[str, frozenset[str]], frozenset[str]]:
    """A policy's action scope (``all``, ``eq`` names, ``in`` names) and the context keys it reads."""
    scope = body.get("action") or {"op": "All"}
    op = str(scope.get("op"))
    names: set[str] = set()
    _walk_names(scope, names)
    kind = "all" if op == "All" else ("eq" if op == "==" else "in")
    acc: set[str] = set()
    _reads(body.get("conditions") or [], acc)
    return (kind, frozenset(names)), frozenset(acc)


_UNKNOWN = object()


def may_apply(body: Mapping[str, Any], action: str, effect: str, attrs: Mapping[str, Any]) -> bool:
    """False only when ``body`` (a policy's JSON) cannot apply to a request for ``action`` (a tool's
    action, a member of ``effect``, or ``effect`` itself) on a tool whose attributes are ``attrs``,
    whatever the principal and the context: a ``when`` that is false, or an ``unless`` that is
    true, knowing only the action and ``resource.<attr>``. Anything else is unknown, and an unknown
    policy may apply (the safe side: its reads count)."""
    for cond in body.get("conditions") or ():
        value = _known(cond.get("body"), action, effect, attrs)
        if cond.get("kind") == "when" and value is False:
            return False
        if cond.get("kind") == "unless" and value is True:
            return False
        if _may_fail(cond.get("body")):
            return True  # Cedar evaluates the conditions in order: a later one cannot skip this
    return True


def _known(node: Any, action: str, effect: str, attrs: Mapping[str, Any]) -> Any:
    """The value of ``node`` when it depends only on the action and the tool's attributes, else
    ``_UNKNOWN``. Booleans, strings and numbers only."""
    if not isinstance(node, dict) or len(node) != 1:
        return _UNKNOWN
    ((op, arg),) = node.items()
    if op == "Value":
        return arg if isinstance(arg, bool | str | int) else _UNKNOWN
    if op == "." and isinstance(arg, dict) and arg.get("left") == {"Var": "resource"}:
        v = attrs.get(str(arg.get("attr", "")), _UNKNOWN)
        return v if isinstance(v, bool | str | int) else _UNKNOWN
    if op == "!" and isinstance(arg, dict):
        v = _known(arg.get("arg"), action, effect, attrs)
        return (not v) if isinstance(v, bool) else _UNKNOWN
    if op in ("&&", "||") and isinstance(arg, dict):
        left = _known(arg.get("left"), action, effect, attrs)
        right = _known(arg.get("right"), action, effect, attrs)
        short = op == "||"  # the value that decides on its own: true for ||, false for &&
        if left is short:
            return short
        if right is short:
            # Cedar evaluates the left side first: one that can fail (an overflow) fails the whole
            # policy, and an error is a deny, so only a left side that cannot fail is skipped
            return _UNKNOWN if _may_fail(arg.get("left")) else short
        if isinstance(left, bool) and isinstance(right, bool):
            return not short
        return _UNKNOWN
    if (
        op in ("==", "!=")
        and isinstance(arg, dict)
        and {"Var": "action"} in (arg.get("left"), arg.get("right"))
    ):
        other = arg.get("right") if arg.get("left") == {"Var": "action"} else arg.get("left")
        names = _action_names(other)
        if names is None or len(names) != 1:
            return _UNKNOWN
        return (action in names) if op == "==" else (action not in names)
    if op in ("==", "!=") and isinstance(arg, dict):
        left = _known(arg.get("left"), action, effect, attrs)
        right = _known(arg.get("right"), action, effect, attrs)
        if left is _UNKNOWN or right is _UNKNOWN or type(left) is not type(right):
            return _UNKNOWN
        return (left == right) if op == "==" else (left != right)
    if op == "in" and isinstance(arg, dict) and arg.get("left") == {"Var": "action"}:
        names = _action_names(arg.get("right"))
        if names is None:
            return _UNKNOWN
        return action in names or effect in names
    if op == "is" and isinstance(arg, dict) and arg.get("left") == {"Var": "resource"} and "in" not in arg:
        entity = str(arg.get("entity_type", ""))
        return entity in ("Tool", f"{_NS}::Tool") if entity else _UNKNOWN
    return _UNKNOWN


_NS = "Proctor"

#: the operators a validated policy cannot fail on at run time (no overflow, no missing tag)
_SAFE_OPS = frozenset(
    {
        "Value", "Var", "Slot", "Set", "Record", ".", "has", "!", "&&", "||", "==", "!=", "<",
        "<=", ">", ">=", "in", "is", "like", "contains", "containsAll", "containsAny", "isEmpty",
        "hasTag", "if-then-else", "decimal", "ip", "lessThan", "lessThanOrEqual", "greaterThan",
        "greaterThanOrEqual", "isIpv4", "isIpv6", "isLoopback", "isMulticast", "isInRange",
    }
)  # fmt: skip


def _may_fail(node: Any) -> bool:
    """Whether evaluating ``node`` (a validated expression) can fail at run time: it uses an
    operator outside :data:`_SAFE_OPS` (``+``, ``-``, ``*``, ``neg`` overflow; ``getTag``; …)."""
    if isinstance(node, list):
        return any(_may_fail(v) for v in node)
    if not isinstance(node, dict):
        return False
    if len(node) == 1:
        ((op, arg),) = node.items()
        if op == "Value":
            return False
        if op not in _SAFE_OPS:
            return True
        return _may_fail(arg)
    return any(_may_fail(v) for v in node.values())  # a record's members, an operator's operands


def _action_names(node: Any) -> set[str] | None:
    """The action ids ``node`` names (an action entity or a set of them), or None."""
    if isinstance(node, dict) and len(node) == 1:
        ((op, arg),) = node.items()
        if op == "Value":
            return _action_names_value(arg)
        if op == "Set" and isinstance(arg, list):
            out: set[str] = set()
            for item in arg:
                got = _action_names(item)
                if got is None:
                    return None
                out |= got
            return out
    return None


def _action_names_value(value: Any) -> set[str] | None:
    if isinstance(value, dict) and isinstance(value.get("__entity"), dict):
        ent = value["__entity"]
        if str(ent.get("type", "")).endswith("Action"):
            return {str(ent.get("id", ""))}
        return None
    if isinstance(value, list):
        out: set[str] = set()
        for v in value:
            got = _action_names_value(v)
            if got is None:
                return None
            out |= got
        return out
    return None


def _cedar_set(static: dict[str, Any]) -> Any:
    return cedarpy.PolicySet.from_json_str(
        json.dumps({"staticPolicies": static, "templates": {}, "templateLinks": []})
    )


def _est_text(body: dict[str, Any]) -> str:
    return str(
        cedarpy.policies_from_json_str(
            json.dumps({"staticPolicies": {"p": body}, "templates": {}, "templateLinks": []})
        )
    )


def compile_policies(
    files: dict[str, str],
    schema_text: str,
    *,
    tools: Sequence[Any] = (),
    counters: Sequence[Any] = (),
    counters_text: str | None = None,
) -> PolicySet:
    """Parse and validate policies against the generated schema (the base ``schema_text`` plus one
    action per tool of ``tools`` and the flow types, see :mod:`proctor.policy.schemagen`).
    Raises :class:`PolicyLoadError`."""
    from proctor.policy.schemagen import generate_schema

    sources: dict[str, PolicySource] = {}
    static: dict[str, Any] = {}
    ordered: list[str] = []
    named: set[str] = set()
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
            _walk_names({"a": body.get("action"), "c": body.get("conditions")}, named)
    try:
        gen = generate_schema(schema_text, tools=tools, counters=counters, named_actions=named)
        schema = cedarpy.Schema.from_str(gen.text)
    except PolicyLoadError as exc:
        raise located(SCHEMA_FILE, None, exc.message) from None
    except ValueError as exc:
        raise located(SCHEMA_FILE, None, str(exc)) from None
    statements: list[tuple[str, str]] = []
    analysis: dict[str, tuple[tuple[str, frozenset[str]], frozenset[str]]] = {}
    for pid in ordered:
        body = dict(static[pid])
        scope = body.get("action")
        if (
            isinstance(scope, dict)
            and scope.get("op") == "=="
            and isinstance(scope.get("entity"), dict)
            and str(scope["entity"].get("id")) in gen.effects
        ):
            body["action"] = {"op": "in", "entity": scope["entity"]}
        try:
            body["conditions"] = _rewrite(body.get("conditions") or [], gen.effects)
            analysis[pid] = _analyse(body)
        except RecursionError:  # Cedar and ``json`` read it; the rewrite recurses deeper per level
            src = sources[pid]
            raise located(src.file, src.line, "expression is too deeply built (split it up)") from None
        static[pid] = body
        try:
            statements.append((pid, _est_text(body)))
        except (ValueError, RecursionError):
            src = sources[pid]
            raise located(src.file, src.line, "cannot be rewritten for per-tool actions") from None
    result = cedarpy.validate_policies("\n".join(t for _, t in statements), schema)
    if not result.validation_passed:
        msgs: list[str] = []
        problems: list[dict[str, Any]] = []
        for err in result.errors:
            msg, problem = _locate_error(err, statements, sources)
            msgs.append(msg)
            problems.append(problem)
        raise PolicyLoadError("; ".join(msgs), errors=problems)
    shadow = frozenset(pid for pid, src in sources.items() if "shadow" in src.annotations)
    try:
        enforced = {pid: b for pid, b in static.items() if pid not in shadow}
        cedar_set = cedarpy.PolicySet.from_json_str(
            json.dumps({"staticPolicies": enforced, "templates": {}, "templateLinks": []})
        )
        full = (
            cedarpy.PolicySet.from_json_str(
                json.dumps({"staticPolicies": static, "templates": {}, "templateLinks": []})
            )
            if shadow
            else None
        )
    except ValueError as exc:
        raise located(None, None, f"policies: {exc}") from None
    return PolicySet(
        version=content_version(files, schema_text, counters_text),
        cedar=cedar_set,
        schema=schema,
        schema_text=schema_text,
        sources=sources,
        files=dict(files),
        actions=frozenset(_schema_actions(schema_text)),
        generated_schema_text=gen.text,
        effects=gen.effects,
        catalog={t.name: (t.effect, t.input_schema) for t in tools if t.name in gen.tool_actions},
        counters=tuple(counters),
        cedar_full=full,
        shadow=shadow,
        statements=tuple(statements),
        analysis=analysis,
        named_actions=frozenset(named),
        bodies=dict(static),
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


COUNTERS_FILE = "counters.yaml"


def read_counters(directory: Path) -> tuple[str | None, tuple[Any, ...]]:
    """``counters.yaml`` of a policy directory: its text (None when absent) and its counters."""
    path = directory / COUNTERS_FILE
    if not path.exists():
        return None, ()
    text = _read_text(path, MAX_SCHEMA_BYTES)
    return text, parse_counters_text(text)


def parse_counters_text(text: str) -> tuple[Any, ...]:
    """``counters.yaml`` parsed by the flow core (:func:`proctor.flow.counters.parse_counters`)."""
    from proctor.flow.counters import parse_counters

    return parse_counters(text, COUNTERS_FILE)


def load_policy_dir(directory: Path, *, tools: Sequence[Any] = ()) -> PolicySet:
    """Read and compile a policy directory (with ``counters.yaml`` when present) against the
    registered ``tools``."""
    files, schema_text = read_policy_dir(directory)
    counters_text, counters = read_counters(directory)
    return compile_policies(files, schema_text, tools=tools, counters=counters, counters_text=counters_text)


def directory_version(directory: Path) -> tuple[dict[str, str], str, str | None, str]:
    """The files, base schema, counters text and content version of a policy directory."""
    files, schema_text = read_policy_dir(directory)
    path = directory / COUNTERS_FILE
    counters_text = _read_text(path, MAX_SCHEMA_BYTES) if path.exists() else None
    return files, schema_text, counters_text, content_version(files, schema_text, counters_text)
