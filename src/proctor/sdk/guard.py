"""``Guard``: decide and record a call of a plain Python function, in-process or against a remote
``proctor serve``, with the gateway's identity, task and audit semantics (docs/adr/0030).

One call of a guarded function:

1. its arguments are bound to the function's signature (defaults applied) and made JSON
   (``pydantic_core.to_jsonable_python``: dataclasses, models, dates and enums become JSON);
2. **decide**: the agent's identity (in-process: the agent's name, as the stdio gateway after its
   attestation; remote: the agent's JWT-SVID) and its task token go with the call to the pipeline
   (``Proctor.decide``, or ``POST /v1/decide``): the decision is in the durable audit log before
   the function runs;
3. a **deny** raises :class:`~proctor.errors.ProctorDenied` (the function does not run);
   **approval_required** naming a request waits for a person up to ``hold_s``, then decides the
   identical call again (the pipeline redeems the grant, exactly once) or raises
   :class:`~proctor.errors.ApprovalPending` (still pending: the identical call may be retried) or
   :class:`~proctor.errors.ProctorDenied` (denied or expired);
4. the function runs; what it returned, or the error it raised, is **reported** to the flow stage
   (labels, provenance: ``Proctor.report_output`` or ``POST /v1/outputs``) and recorded as
   ``call.output_reported`` with its status (``ok`` or ``tool_error``); an exception is re-raised,
   never swallowed.

Fail closed: arguments that are not JSON are a deny (in-process the pipeline records it; remote
they cannot be sent and the call is refused before any request), and so is any error while
deciding. Async functions are decided off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, cast, overload

from proctor.clock import SystemClock
from proctor.errors import ApprovalPending, ProctorDenied, ProctorError, ValidationError

#: real time, for network and wait deadlines that must pass whatever clock decides (the
#: injected one may be frozen in tests)
_REAL_TIME = SystemClock()

if TYPE_CHECKING:
    import httpx

    from proctor.app import Proctor

__all__ = ["Guard", "GuardedTool", "Verdict", "denial_text", "exposed_name", "json_schema_of"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

#: the longest one ``/v1/approvals/{id}/wait`` request waits (the server's bound)
_WAIT_STEP_S = 30.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision as the SDK sees it (in-process or over HTTP)."""

    decision: str
    decision_id: str | None
    reasons: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    approval_id: str | None = None
    approval: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verdict:
        return cls(
            decision=str(d.get("decision", "deny")),
            decision_id=None if d.get("decision_id") is None else str(d["decision_id"]),
            reasons=tuple(str(r) for r in d.get("reasons") or ()),
            errors=tuple(str(e) for e in d.get("errors") or ()),
            approval_id=None if d.get("approval_id") is None else str(d["approval_id"]),
            approval=None if d.get("approval") is None else str(d["approval"]),
        )


def denial_text(exc: ProctorDenied | ApprovalPending) -> str:
    """The text a framework shows the model for a refused call (a tool error, not a crash)."""
    return exc.message


def exposed_name(tool: str) -> str:
    """The name a model sees for Proctor tool ``tool`` (``fs.read`` -> ``fs__read``): the function
    names of model APIs allow no dots.

    >>> exposed_name("payments.transfer")
    'payments__transfer'
    """
    return tool.replace(".", "__")


def json_schema_of(fn: Callable[..., Any]) -> dict[str, Any] | None:
    """The JSON Schema of ``fn``'s arguments from its signature and type hints (None when they
    cannot be expressed: the tool is then registered without one)."""
    try:
        import pydantic

        hints = _hints(fn)
        fields: dict[str, Any] = {}
        for p in inspect.signature(fn).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            ann = hints.get(p.name, Any)
            fields[p.name] = (ann, ... if p.default is p.empty else p.default)
        model = pydantic.create_model(f"{fn.__name__}_args", **fields)
        schema: dict[str, Any] = model.model_json_schema()
        schema.pop("title", None)
        return schema
    except Exception as exc:  # a schema is a help to policies, never a reason not to guard
        log.info("no argument schema for %s: %s", getattr(fn, "__name__", fn), type(exc).__name__)
        return None


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(fn)
    except Exception:
        return {}


class _NotJson(Exception):
    def __init__(self, name: str, value: Any) -> None:
        super().__init__(name)
        self.name = name
        self.type = type(value).__name__


def _as_json(args: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` as JSON values, or :class:`_NotJson` naming the first argument that is not."""
    from pydantic_core import to_jsonable_python

    out: dict[str, Any] = {}
    for k, v in args.items():
        try:
            out[k] = to_jsonable_python(v)
            json.dumps(out[k], allow_nan=False)
        except Exception:
            raise _NotJson(k, v) from None
    return out


def _output_text(value: Any) -> str:
    """What a tool returned, as the text the flow stage labels."""
    if isinstance(value, str):
        return value
    try:
        from pydantic_core import to_jsonable_python

        return json.dumps(to_jsonable_python(value), ensure_ascii=False, sort_keys=True, default=repr)
    except Exception:
        return repr(value)


class _Backend(Protocol):
    """Where decisions are made: this process's ``Proctor`` or a remote ``proctor serve``."""

    def decide(self, tool: str, args: Mapping[str, Any]) -> Verdict: ...

    def wait(self, approval_id: str, timeout_s: float) -> tuple[str, str | None, str | None, str]:
        """(state, decided_by, reason, url) of the request, waiting up to ``timeout_s``."""
        ...

    def report(
        self, tool: str, output: str, decision_id: str, args: Mapping[str, Any], status: str
    ) -> dict[str, Any]: ...

    def delegate(self, body: dict[str, Any]) -> dict[str, Any]:
        """A child task of this guard's task (docs/adr/0032): ``{"task": …, "token": …}``."""
        ...


class _Local:
    def __init__(self, proctor: Proctor, agent: str | None, svid: str | None, task_token: str) -> None:
        self.p = proctor
        self.agent = agent
        self.svid = svid
        self.task_token = task_token

    def agent_name(self) -> str:
        if self.agent is not None:
            return self.agent
        return str(self.p.agents.verify_svid(self.svid or "").agent)

    def decide(self, tool: str, args: Mapping[str, Any]) -> Verdict:
        from proctor.pipeline import CallInput

        call = CallInput(
            tool=tool,
            args=args,
            agent=self.agent,
            svid=self.svid if self.agent is None else None,
            task_token=self.task_token,
            source="sdk",
        )
        return Verdict.from_dict(self.p.decide(call).to_dict())

    def refuse(self, tool: str, shown: Mapping[str, Any], reason: str, code: str) -> Verdict:
        """A deny decided here, before the pipeline (arguments it must not judge by their text),
        recorded like the gateway's own denies: against the agent and the task its token names."""
        from proctor.pipeline import CallInput
        from proctor.policy.engine import deny

        p = self.p
        d = deny(reason, p.policies.engine.version, errors=(code,))
        call = CallInput(tool=tool, args=shown, agent=self.agent, task_token=self.task_token, source="sdk")
        agent = task = None
        try:
            agent = p.agents.get(self.agent_name())
            task = p.store.get_task(p.tasks.verify_token(self.task_token, agent))
        except ProctorError:
            pass  # recorded without them: the call names who it claimed to be
        entry = p.pipeline.decision_entry(call, d, agent, task, tool, budget_used=False)
        p.audit.append_entry(entry)
        return Verdict.from_dict(d.to_dict())

    def wait(self, approval_id: str, timeout_s: float) -> tuple[str, str | None, str | None, str]:
        from proctor.approvals.model import ApprovalState

        s = self.p.settings
        public = (s.approval_public_url or f"http://{s.host}:{s.port}").rstrip("/")
        deadline = _REAL_TIME.monotonic() + max(0.0, timeout_s)
        while True:
            req = self.p.approvals.get(approval_id)
            state = req.state
            if (
                state in (ApprovalState.PENDING, ApprovalState.APPROVED)
                and self.p.clock.now() >= req.expires_at
            ):
                state = ApprovalState.EXPIRED
            if state is not ApprovalState.PENDING or _REAL_TIME.monotonic() >= deadline:
                reason = req.reason if state is ApprovalState.DENIED else None
                return state.value, req.decided_by, reason, f"{public}/approvals/{approval_id}"
            time.sleep(min(0.25, max(0.0, deadline - _REAL_TIME.monotonic())))

    def report(
        self, tool: str, output: str, decision_id: str, args: Mapping[str, Any], status: str
    ) -> dict[str, Any]:
        labels = self.p.report_output(
            agent=self.agent_name(),
            task_token=self.task_token,
            task=None,
            tool=tool,
            output=output,
            decision_id=decision_id,
            args=args,
            status=status,
        )
        return labels.to_dict()

    def delegate(self, body: dict[str, Any]) -> dict[str, Any]:
        from proctor.tasks.service import task_view

        agent = self.p.agents.get(self.agent_name())
        parent = self.p.tasks.verify_token(self.task_token, agent)
        started = self.p.tasks.delegate(str(parent), **body, by="sdk", as_agent=agent)
        return {"task": task_view(started.task), "token": started.token}


class _Remote:
    def __init__(
        self,
        url: str,
        svid: str | Callable[[], str],
        task_token: str,
        timeout_s: float,
        client: httpx.Client | None,
    ) -> None:
        import httpx

        self.svid = svid
        self.task_token = task_token
        self.owned = client is None
        self.http = client or httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s + _WAIT_STEP_S)

    def _auth(self) -> dict[str, str]:
        svid = self.svid() if callable(self.svid) else self.svid
        return {"Authorization": f"Bearer {svid}"}

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        import httpx

        try:
            r = self.http.post(path, json=body, headers=self._auth())
        except httpx.HTTPError as exc:
            raise ProctorDenied(
                f"Proctor could not be reached ({type(exc).__name__}): the call is denied",
                errors=("proctor_unreachable",),
            ) from None
        try:
            data = r.json()
        except ValueError:
            data = None
        return r.status_code, data

    def decide(self, tool: str, args: Mapping[str, Any]) -> Verdict:
        status, data = self._post("/v1/decide", {"task_token": self.task_token, "tool": tool, "args": args})
        if isinstance(data, dict) and "decision" in data:
            return Verdict.from_dict(data)
        err = data.get("error", {}) if isinstance(data, dict) else {}
        code = str(err.get("code", f"http_{status}"))
        return Verdict("deny", None, (str(err.get("message", f"Proctor answered HTTP {status}")),), (code,))

    def delegate(self, body: dict[str, Any]) -> dict[str, Any]:
        from proctor.errors import ERROR_CODES, DelegationExceeds

        task_id = _token_task(self.task_token)
        status, data = self._post(f"/v1/tasks/{task_id}/delegate", {"task_token": self.task_token, **body})
        if status == 201 and isinstance(data, dict):
            return data
        err = data.get("error", {}) if isinstance(data, dict) else {}
        code = str(err.get("code", f"http_{status}"))
        message = str(err.get("message", f"Proctor answered HTTP {status}"))
        cls = ERROR_CODES.get(code, ProctorError)
        exc = cls(message, exceeds=err.get("exceeds", [])) if cls is DelegationExceeds else cls(message)
        raise exc

    def wait(self, approval_id: str, timeout_s: float) -> tuple[str, str | None, str | None, str]:
        deadline = _REAL_TIME.monotonic() + max(0.0, timeout_s)
        while True:
            step = min(_WAIT_STEP_S, max(0.0, deadline - _REAL_TIME.monotonic()))
            status, data = self._post(
                f"/v1/approvals/{approval_id}/wait", {"task_token": self.task_token, "timeout_s": step}
            )
            if status != 200 or not isinstance(data, dict):
                err = data.get("error", {}) if isinstance(data, dict) else {}
                raise ProctorDenied(
                    f"Proctor could not say whether approval {approval_id} was given:"
                    f" {err.get('message', f'HTTP {status}')}",
                    errors=(str(err.get("code", f"http_{status}")),),
                    approval_id=approval_id,
                )
            if data["state"] != "pending" or _REAL_TIME.monotonic() >= deadline:
                return data["state"], data.get("decided_by"), data.get("reason"), data["url"]

    def report(
        self, tool: str, output: str, decision_id: str, args: Mapping[str, Any], status: str
    ) -> dict[str, Any]:
        code, data = self._post(
            "/v1/outputs",
            {
                "task_token": self.task_token,
                "tool": tool,
                "output": output,
                "decision_id": decision_id,
                "args": dict(args),
                "status": status,
            },
        )
        if code != 200 or not isinstance(data, dict):
            err = data.get("error", {}) if isinstance(data, dict) else {}
            raise ProctorError(f"the output could not be reported: {err.get('message', f'HTTP {code}')}")
        return data


def _token_task(token: str) -> str:
    """The task a task token names (read, not verified: the server verifies it)."""
    import base64

    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["task"])
    except (IndexError, ValueError, KeyError, TypeError):
        raise ValidationError("the task token is not a JWT naming a task", field="task_token") from None


@dataclass(frozen=True, slots=True)
class GuardedTool:
    """What ``@guard.tool`` knows of one function: its Proctor tool name and argument schema."""

    name: str
    schema: dict[str, Any] | None


class Guard:
    """Decides and records the calls of guarded functions for one agent in one task.

    ``target`` is this process's :class:`~proctor.app.Proctor` (the agent named by ``agent``, or
    identified by ``svid``) or the URL of a ``proctor serve`` (the agent identified by ``svid``: a
    JWT-SVID, or a callable returning a fresh one for each request). ``task_token`` names the task
    every call belongs to. ``hold_s`` bounds the wait for a person's approval (``0``: raise
    :class:`~proctor.errors.ApprovalPending` at once).
    """

    def __init__(
        self,
        target: Proctor | str,
        *,
        task_token: str,
        agent: str | None = None,
        svid: str | Callable[[], str] | None = None,
        hold_s: float = 30.0,
        timeout_s: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        if hold_s < 0:
            raise ValidationError("hold_s is at least 0", field="hold_s")
        self.hold_s = hold_s
        self.remote = isinstance(target, str)
        self._backend: _Backend
        if isinstance(target, str):
            if svid is None:
                raise ValidationError("a remote Guard needs the agent's JWT-SVID (svid=)", field="svid")
            if agent is not None:
                raise ValidationError(
                    "a remote Guard identifies the agent by its SVID alone: drop agent=", field="agent"
                )
            self._backend = _Remote(target, svid, task_token, timeout_s, http)
            self.proctor: Proctor | None = None
        else:
            if (agent is None) == (svid is None):
                raise ValidationError("name the agent (agent=) or give its SVID (svid=)", field="agent")
            if callable(svid):
                svid = svid()
            self._backend = _Local(target, agent, svid, task_token)
            self.proctor = target

    def close(self) -> None:
        """Close a remote guard's HTTP connections (one it was handed stays the caller's)."""
        if isinstance(self._backend, _Remote) and self._backend.owned:
            self._backend.http.close()

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the decorator ------------------------------------------------------------------------------
    @overload
    def tool(
        self,
        name: str,
        *,
        effect: str | None = None,
        resource_arg: str | None = None,
        flags: tuple[str, ...] | list[str] = (),
        labels: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> Callable[[Callable[P, R]], Callable[P, R]]: ...

    @overload
    def tool(
        self,
        name: str,
        fn: Callable[P, R],
        *,
        effect: str | None = None,
        resource_arg: str | None = None,
        flags: tuple[str, ...] | list[str] = (),
        labels: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> Callable[P, R]: ...

    def tool(
        self,
        name: str,
        fn: Callable[P, R] | None = None,
        *,
        effect: str | None = None,
        resource_arg: str | None = None,
        flags: tuple[str, ...] | list[str] = (),
        labels: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
        """Guard ``fn`` as the Proctor tool ``name`` (``namespace.tool``). In-process, a tool not
        registered yet is registered with ``effect`` (and the other fields, and the argument schema
        from the signature); a registered tool keeps the administrator's record. Remote, the tool
        must be registered on the server (the configuration or ``PUT /v1/tools``): an agent never
        declares its own tool's effect."""

        def wrap(f: Callable[P, R]) -> Callable[P, R]:
            from proctor.types import ToolName

            ToolName(name)  # a bad name is an error now, not a deny at every call
            schema = json_schema_of(f)
            if self.proctor is not None and effect is not None:
                self._register(name, effect, resource_arg, flags, labels, description or f.__doc__, schema)
            return self.wrap(f, name=name, schema=schema)

        return wrap if fn is None else wrap(fn)

    def _register(
        self,
        name: str,
        effect: str,
        resource_arg: str | None,
        flags: tuple[str, ...] | list[str],
        labels: Mapping[str, str] | None,
        description: str | None,
        schema: dict[str, Any] | None,
    ) -> None:
        from proctor.config import tool_from_mapping
        from proctor.types import ToolName

        p = cast("Proctor", self.proctor)
        if p.store.get_tool(ToolName(name)) is not None:
            return
        raw: dict[str, Any] = {"name": name, "effect": effect, "flags": list(flags)}
        if resource_arg:
            raw["resource_arg"] = resource_arg
        if labels:
            raw["labels"] = dict(labels)
        if description:
            raw["description"] = inspect.cleandoc(description)[:2000]
        if schema is not None:
            raw["input_schema"] = schema
        p.tools.put(tool_from_mapping(raw, "sdk tool"), by="sdk")

    def delegate(
        self,
        agent: str,
        *,
        allow: list[str],
        resources: list[str] | None = None,
        ttl_s: float | None = None,
        max_calls: int | None = None,
        purpose: str | None = None,
    ) -> tuple[dict[str, Any], str]:
        """Delegate part of this guard's task to ``agent`` (docs/adr/0032): the child task (as
        ``proctor task show`` prints it) and its task token, to hand to that agent. Its scope must
        be within this task's: else :class:`~proctor.errors.DelegationExceeds` naming each excess
        (``details['exceeds']``); policy, the depth limit or a cycle:
        :class:`~proctor.errors.DelegationDenied`."""
        body: dict[str, Any] = {
            "agent": agent,
            "allow": list(allow),
            "resources": list(resources or []),
            "ttl_s": ttl_s,
            "max_calls": max_calls,
            "purpose": purpose,
        }
        got = self._backend.delegate(body)
        return got["task"], str(got["token"])

    def wrap(self, fn: Callable[P, R], *, name: str, schema: dict[str, Any] | None = None) -> Callable[P, R]:
        """``fn`` guarded as ``name``, with ``fn``'s signature (frameworks read it for the schema)."""
        sig = inspect.signature(fn)
        spec = GuardedTool(name, schema)

        def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            out: dict[str, Any] = {}
            for k, v in bound.arguments.items():
                kind = sig.parameters[k].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    out.update(v)
                elif kind is inspect.Parameter.VAR_POSITIONAL:
                    out[k] = list(v)
                else:
                    out[k] = v
            return out

        if inspect.iscoroutinefunction(fn):
            afn = cast("Callable[..., Awaitable[Any]]", fn)

            @functools.wraps(fn)
            async def aguarded(*args: Any, **kwargs: Any) -> Any:
                call_args = bind(args, kwargs)
                decision_id, sent = await asyncio.to_thread(self.before, name, call_args)
                try:
                    result = await afn(*args, **kwargs)
                except Exception as exc:
                    await asyncio.to_thread(self.after_error, name, decision_id, sent, exc)
                    raise
                await asyncio.to_thread(self.after, name, decision_id, sent, result)
                return result

            aguarded.__proctor_tool__ = spec  # type: ignore[attr-defined]
            return cast("Callable[P, R]", aguarded)

        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            call_args = bind(args, kwargs)
            decision_id, sent = self.before(name, call_args)
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                self.after_error(name, decision_id, sent, exc)
                raise
            self.after(name, decision_id, sent, result)
            return result

        guarded.__proctor_tool__ = spec  # type: ignore[attr-defined]
        return guarded

    def run(self, tool: str, args: Mapping[str, Any], fn: Callable[[], R]) -> R:
        """Decide ``tool`` with ``args``, run ``fn()`` if allowed, report what it returned or
        raised: for a callable whose arguments are a mapping already (a framework's tool object)."""
        decision_id, sent = self.before(tool, args)
        try:
            result = fn()
        except Exception as exc:
            self.after_error(tool, decision_id, sent, exc)
            raise
        self.after(tool, decision_id, sent, result)
        return result

    async def arun(self, tool: str, args: Mapping[str, Any], fn: Callable[[], Awaitable[R]]) -> R:
        """:meth:`run` for a coroutine; deciding and reporting happen off the event loop."""
        decision_id, sent = await asyncio.to_thread(self.before, tool, args)
        try:
            result = await fn()
        except Exception as exc:
            await asyncio.to_thread(self.after_error, tool, decision_id, sent, exc)
            raise
        await asyncio.to_thread(self.after, tool, decision_id, sent, result)
        return result

    # the stages of one call -----------------------------------------------------------------------
    def before(self, tool: str, args: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        """Decide the call; returns the allowed decision's id and the arguments as decided, or
        raises :class:`ProctorDenied` / :class:`ApprovalPending` (the call must not run)."""
        try:
            sent: Mapping[str, Any] = _as_json(args)
        except _NotJson as bad:
            # a policy would judge such a value by its text, which need not be what the function
            # does with it: refused (in-process recorded; remote nothing of this call can be sent)
            reason = f"argument `{bad.name}` ({bad.type}) is not JSON: the call cannot be decided"
            if isinstance(self._backend, _Local):
                shown = {k: f"<{type(v).__name__}>" for k, v in args.items()}
                raise self._refused(self._backend.refuse(tool, shown, reason, "validation_error")) from None
            raise ProctorDenied(
                f"Proctor denied this call: {reason} [validation_error]", errors=("validation_error",)
            ) from None
        verdict = self._decide(tool, sent)
        if verdict.decision == "approval_required" and verdict.approval_id is not None:
            verdict = self._held(tool, sent, verdict)
        if verdict.decision != "allow" or verdict.decision_id is None:
            raise self._refused(verdict)
        return verdict.decision_id, sent

    def _decide(self, tool: str, args: Mapping[str, Any]) -> Verdict:
        try:
            return self._backend.decide(tool, args)
        except ProctorDenied:
            raise
        except ProctorError as exc:  # nothing decided, so nothing allowed
            return Verdict("deny", None, (exc.message,), (exc.code,))
        except Exception as exc:
            log.exception("deciding %s failed", tool)
            return Verdict(
                "deny", None, (f"error while deciding ({type(exc).__name__})",), ("internal_error",)
            )

    def _held(self, tool: str, args: Mapping[str, Any], verdict: Verdict) -> Verdict:
        """Wait for the person up to ``hold_s``; once approved, decide the identical call again (the
        pipeline redeems the grant). Raises for a request denied, expired or still pending."""
        approval_id = cast("str", verdict.approval_id)
        state, by, reason, url = self._backend.wait(approval_id, self.hold_s)
        if state == "approved":
            again = self._decide(tool, args)
            if again.decision == "allow":
                return again
            if again.decision == "approval_required":
                raise ProctorDenied(
                    f"Approval {approval_id} was granted, but its grant was used already by an identical"
                    f" call: this call was not run (decision {again.decision_id})",
                    decision_id=again.decision_id,
                    reasons=again.reasons,
                    errors=("approval_used",),
                    approval_id=approval_id,
                )
            return again
        if state == "denied":
            why = f": {reason}" if reason else ""
            raise ProctorDenied(
                f"Proctor denied this call: approval {approval_id} was denied by {by}{why}"
                f" (decision {verdict.decision_id})",
                decision_id=verdict.decision_id,
                reasons=verdict.reasons,
                errors=("approval_denied",),
                approval_id=approval_id,
            )
        if state in ("expired", "used"):
            raise ProctorDenied(
                f"Proctor denied this call: approval {approval_id} {state} without this call running"
                f" (decision {verdict.decision_id})",
                decision_id=verdict.decision_id,
                reasons=verdict.reasons,
                errors=(f"approval_{state}",),
                approval_id=approval_id,
            )
        raise ApprovalPending(
            f"This call needs approval by {verdict.approval or 'a person'} before it can run:"
            f" {'; '.join(verdict.reasons)}. It waits for approval {approval_id} and was not run; the"
            f" identical call (same tool, same arguments) may be retried: it will complete once"
            f" approved. Review: {url}",
            approval_id=approval_id,
            url=url,
            decision_id=verdict.decision_id,
        )

    def _refused(self, verdict: Verdict) -> ProctorDenied:
        reasons = "; ".join(verdict.reasons) or "no reason given"
        codes = f" [{', '.join(verdict.errors)}]" if verdict.errors else ""
        named = f" (decision {verdict.decision_id})" if verdict.decision_id else ""
        if verdict.decision == "approval_required":
            reasons = f"it needs approval by {verdict.approval or 'a person'}: {reasons}"
        return ProctorDenied(
            f"Proctor denied this call: {reasons}{named}{codes}",
            decision_id=verdict.decision_id,
            reasons=verdict.reasons,
            errors=verdict.errors,
            approval_id=verdict.approval_id,
        )

    def after(self, tool: str, decision_id: str, args: Mapping[str, Any], result: Any) -> None:
        """Report what the allowed call returned (labelled for the task, recorded)."""
        self._report(tool, decision_id, args, _output_text(result), "ok")

    def after_error(self, tool: str, decision_id: str, args: Mapping[str, Any], exc: BaseException) -> None:
        """Record that the allowed call raised (its error text is what the task saw)."""
        self._report(tool, decision_id, args, f"{type(exc).__name__}: {exc}"[:4000], "tool_error")

    def _report(self, tool: str, decision_id: str, args: Mapping[str, Any], output: str, status: str) -> None:
        try:
            self._backend.report(tool, output, decision_id, args, status)
        except Exception as exc:
            # the call ran: its result is the caller's; the missing record is loud in the log
            log.error("the output of %s could not be reported: %s", decision_id, exc)
            raise
