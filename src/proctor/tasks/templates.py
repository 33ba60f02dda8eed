"""Task templates: a named task intent, stored, that listed agents may start a task from.

A template holds what ``proctor task start`` takes (purpose, tools, resources, lifetime, budget,
intent parameters, requester) and the agents allowed to use it. It is checked as ``task start``
checks its input when it is added, and the task started from it is checked again by
:meth:`proctor.tasks.service.Tasks.start`. A stdio client that restarts names a template instead of
carrying a task token (docs/adr/0029). Changes are audited (``template.added``,
``template.removed``).
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from proctor.audit.log import AuditLog
from proctor.clock import Clock
from proctor.config import Settings
from proctor.errors import Conflict, UnknownTemplate, ValidationError
from proctor.identity.agents import Agents
from proctor.policy.scope import check_resource_pattern, check_tool_pattern
from proctor.store.base import Store, TaskTemplate
from proctor.tasks.intent import MAX_PURPOSE, check_params
from proctor.types import Email

__all__ = [
    "MAX_TEMPLATE_AGENTS",
    "TEMPLATE_NAME",
    "TaskTemplate",
    "Templates",
    "UnknownTemplate",
    "check_template_name",
    "template_view",
]

#: a template's name: lowercase, digits, ``.``, ``_``, ``-``; at most 63 characters
TEMPLATE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
MAX_TEMPLATE_AGENTS = 64
log = logging.getLogger(__name__)


def check_template_name(name: object) -> str:
    """``name`` if it is a valid template name, else :class:`ValidationError` (the name is shown
    cut to 80 characters: it may be anything a client sent)."""
    if not isinstance(name, str) or not TEMPLATE_NAME.fullmatch(name):
        shown = str(name)[:80].encode("unicode_escape").decode("ascii")
        raise ValidationError(
            f"invalid template name `{shown}`: lowercase letters, digits, `.`, `_` and `-`,"
            " starting with a letter or digit, at most 63",
            field="template",
        )
    return name


class Templates:
    """The task templates of one workspace (``proctor template …``, ``/v1/templates``)."""

    def __init__(
        self, settings: Settings, store: Store, clock: Clock, audit: AuditLog, agents: Agents
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.audit = audit
        self.agents = agents

    def add(
        self,
        name: str,
        *,
        agents: Sequence[str],
        purpose: str,
        allow: Sequence[str],
        resources: Sequence[str] = (),
        ttl_s: float | None = None,
        max_calls: int | None = None,
        requested_by: str | None = None,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        by: str = "cli",
        replace: bool = False,
    ) -> TaskTemplate:
        """Check and store a template, as ``task start`` checks its input: every agent must exist,
        tool and resource patterns must parse, the lifetime must be within the workspace's maximum.
        A template of that name already stored is a :class:`Conflict` unless ``replace``."""

        name = check_template_name(name)
        names = list(dict.fromkeys(agents))
        if not names:
            raise ValidationError(
                f"template `{name}` needs at least one agent that may use it: pass --agent NAME",
                field="agents",
            )
        if len(names) > MAX_TEMPLATE_AGENTS:
            raise ValidationError(f"a template lists at most {MAX_TEMPLATE_AGENTS} agents", field="agents")
        for agent in names:
            self.agents.get(agent)  # UnknownAgent
        purpose = purpose.strip()
        if not purpose or len(purpose) > MAX_PURPOSE:
            raise ValidationError(f"a template needs a purpose of 1 to {MAX_PURPOSE} characters")
        if not allow:
            raise ValidationError(
                "a template must declare at least one tool its tasks may call: pass --allow TOOL_OR_PATTERN"
            )
        pats = tuple(check_tool_pattern(p) for p in dict.fromkeys(allow))
        res = tuple(check_resource_pattern(r) for r in dict.fromkeys(resources))
        ttl = self.settings.task_default_ttl_s if ttl_s is None else float(ttl_s)
        if not 0 < ttl <= self.settings.task_max_ttl_s:
            raise ValidationError(f"task ttl must be between 1s and {self.settings.task_max_ttl_s:g}s")
        if max_calls is not None and max_calls < 1:
            raise ValidationError("--max-calls must be at least 1")
        requester = None if requested_by is None else str(Email(requested_by))
        template = TaskTemplate(
            name=name,
            purpose=purpose,
            allow=pats,
            resources=res,
            ttl_s=ttl,
            max_calls=max_calls,
            requested_by=requester,
            agents=tuple(names),
            params=check_params(params),
            created_at=self.clock.now(),
            created_by=by,
        )
        previous = self.store.get_template(name)
        existed = previous is not None
        if existed and not replace:
            raise Conflict(f"template `{name}` already exists (remove it first, or replace it)")
        self.store.put_template(template)
        # stored, then audited, as every admin change; a change the log refused is undone, so no
        # template that lets an agent start tasks stands without its record
        with self._undone_unless_audited(
            lambda: (
                self.store.put_template(previous)
                if previous is not None
                else self.store.delete_template(name)
            )
        ):
            self._append_added(template, by, existed)
        return template

    def _append_added(self, template: TaskTemplate, by: str, existed: bool) -> None:
        name, pats, res, purpose = template.name, template.allow, template.resources, template.purpose
        names, ttl, max_calls, requester = (
            template.agents,
            template.ttl_s,
            template.max_calls,
            template.requested_by,
        )
        self.audit.append(
            "template.added",
            {
                "template": name,
                "by": by,
                "replaced": existed,
                "purpose": purpose,
                "allow": list(pats),
                "resources": list(res),
                "agents": list(names),
                "ttl_s": ttl,
                "max_calls": max_calls,
                "requested_by": requester,
                "params": [k for k, _ in template.params],  # names only, as task.started
            },
        )

    @contextlib.contextmanager
    def _undone_unless_audited(self, undo: Callable[[], object]) -> Iterator[None]:
        try:
            yield
        except BaseException:
            try:
                undo()
            except Exception:
                log.exception("a template change the audit log refused could not be undone")
            raise

    def get(self, name: str) -> TaskTemplate:
        rec = self.store.get_template(check_template_name(name))
        if rec is None:
            raise UnknownTemplate(f"unknown template `{name}`", template=name)
        return rec

    def list(self) -> builtins.list[TaskTemplate]:
        return self.store.list_templates()

    def remove(self, name: str, *, by: str = "cli") -> None:
        """Remove a template. Tasks already started from it keep their scope until they end."""
        name = check_template_name(name)
        previous = self.store.get_template(name)
        if previous is None or not self.store.delete_template(name):
            raise UnknownTemplate(f"unknown template `{name}`", template=name)
        with self._undone_unless_audited(lambda: self.store.put_template(previous)):
            self.audit.append("template.removed", {"template": name, "by": by})


def template_view(template: TaskTemplate) -> dict[str, Any]:
    """The JSON shape the CLI and the HTTP API show of a template."""
    return template.to_dict()
