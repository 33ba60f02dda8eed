"""The policy set a process decides with: loading it, activating a new one, following the store.

A set is recorded in the store (and audited, ``policy.activated``) before it is served, so no
process ever decides under a set the store does not name; a set this process refuses is audited
(``policy.rejected``) while the last good one keeps serving (see ADR 0017).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proctor.audit.log import AuditLog
from proctor.clock import Clock
from proctor.config import Settings
from proctor.errors import PolicyLoadError
from proctor.policy.engine import PolicyEngine, PolicyWatcher
from proctor.policy.loader import PolicySet, load_policy_dir, policy_errors, schema_actions
from proctor.store.base import Store, ToolRecord

log = logging.getLogger(__name__)

#: how many times a starting process re-reads policy files that keep changing under it
SETTLE_ROUNDS = 5


def policy_files_digest(files: Mapping[str, str]) -> str:
    """The digest of a policy set's files as ``policy_versions`` holds them (its activation record
    carries it, so ``audit verify --deep`` can tell an edited row)."""
    text = json.dumps(dict(files), sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PolicyRejection:
    """A policy set this process refused while the last good one kept serving."""

    errors: tuple[dict[str, Any], ...]
    at: float
    active_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "errors": [dict(e) for e in self.errors],
            "at": self.at,
            "active_version": self.active_version,
        }


class Policies:
    """The active policy set of one process and its records (``policy.activated``/``rejected``)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        audit: AuditLog,
        *,
        policy_dir: Path | None,
        policies: PolicySet | None = None,
        after_load: Callable[[], None] | None = None,
    ) -> None:
        """``after_load`` runs once, after the set is first loaded (the config's tools are
        registered then: their effects must be actions of the schema)."""
        self.settings = settings
        self.store = store
        self.clock = clock
        self.audit = audit
        self.policy_dir = policy_dir
        self._given_policies = policies
        #: run after the first successful load, then forgotten
        self.after_load = after_load
        self._policy: PolicyEngine | None = None
        self._policy_lock = threading.Lock()
        #: the last policy set this process refused, until a good one is active again
        self.rejection: PolicyRejection | None = None
        self._watcher: PolicyWatcher | None = None
        #: serialises activating a policy set (record in the store, then serve it)
        self._activate_lock = threading.RLock()
        #: the store's active version this process last failed to follow (no reload storm)
        self._unfollowable: tuple[str, str] | None = None

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()

    def _audit(self, kind: str, fields: dict[str, Any]) -> None:
        self.audit.append(kind, fields)

    @property
    def engine(self) -> PolicyEngine:
        """The decision point; loads the policy set on first use (raises :class:`PolicyLoadError`,
        naming file and line, when it is invalid: nothing is decided without a valid set)."""
        engine = self._policy
        return engine if engine is not None else self.load()

    def load(self) -> PolicyEngine:
        """Load the policy set now if it is not loaded yet, and run ``after_load`` once."""
        settle = False
        with self._policy_lock:
            if self._policy is None:
                ps = self._given_policies
                if ps is None:
                    assert self.policy_dir is not None  # checked by Proctor
                    ps = load_policy_dir(self.policy_dir, tools=self.registered_tools())
                    settle = True
                engine = PolicyEngine(ps)
                self._record_policy(ps, initial=True)
                self._policy = engine
            engine = self._policy
        if settle:
            self._settle_policy()
        after = self.after_load
        if after is not None:
            after()
            self.after_load = None
        return engine

    def registered_tools(self) -> list[ToolRecord]:
        """The tools a policy set is compiled against: the store's, with the config's declared tools
        over them (they are registered after the first load). A store that cannot be read gives the
        config's only: a tool compiled without is validated before its first decision anyway."""
        tools: dict[str, ToolRecord] = {}
        try:
            tools.update((t.name, t) for t in self.store.list_tools())
        except Exception as exc:  # the set still loads; late tools are validated as they are decided
            log.warning("policy: cannot list the registered tools (%s): compiling without them", exc)
        tools.update((t.name, t) for t in self.settings.tools)
        return list(tools.values())

    def schema_actions(self) -> frozenset[str]:
        """The actions of the policy schema: the active set's, or (policies not loaded yet) those
        the schema file declares, so that registering a tool needs no valid policy set."""
        if self._policy is not None:
            return self._policy.policy_set.actions
        if self._given_policies is not None:
            return self._given_policies.actions
        assert self.policy_dir is not None
        return schema_actions(self.policy_dir)

    def health(self) -> dict[str, Any]:
        """What ``/healthz`` and ``proctor status`` say of policy: the version this process decides
        with and the set it last refused (with its errors), if any."""
        rejected = self.rejection
        return {
            "active_version": None if self._policy is None else self._policy.version,
            "rejected": None if rejected is None else rejected.to_dict(),
        }

    def recorded_version(self) -> str | None:
        """The active policy version as the store records it (any process's activation), which
        ``proctor status`` shows beside the files' own."""
        return self.store.active_policy_version()

    def follow(self) -> str | None:
        """Bring this process to the store's active policy version (checked once per store epoch:
        activating a set bumps it). Another process may have activated a newer set: this one reloads
        its policy directory; a local change it finds is activated as usual. Returns None when this
        process now decides under the active version, else why it may not (its calls are denied)."""
        engine = self._policy
        if engine is None:
            return None  # nothing decided yet: the set loaded on first use is recorded as it loads
        active = self.store.active_policy_version()
        if active is None or active == engine.version:
            self._unfollowable = None
            return None
        if self.policy_dir is not None and self._unfollowable != (active, self.engine.version):
            with self._activate_lock:
                try:
                    new: PolicySet | None = load_policy_dir(self.policy_dir, tools=self.registered_tools())
                except PolicyLoadError as exc:  # the watcher audits the rejection
                    log.error("policy: cannot load the workspace's policies to follow %s: %s", active, exc)
                    new = None
                if new is not None and new.version == active:
                    self.rejection = None
                    if self.engine.swap(new):
                        log.info("policy: following version %s activated by another process", active)
                # a local change the watcher has not settled yet is not activated from here: a file
                # still being written would be (the process stays stale until the watcher acts)
                active = self.store.active_policy_version()
        if active is None or active == self.engine.version:
            self._unfollowable = None
            return None
        self._unfollowable = (active, self.engine.version)
        log.critical(
            "policy: this process runs version %s but the store's active version is %s: calls are denied",
            self.engine.version,
            active,
        )
        return (
            f"this Proctor process decides under policy version `{self.engine.version[:16]}` but the "
            f"workspace's active version is `{active[:16]}`, which it cannot load: the call is denied "
            "(check that every process reads the same policy files)"
        )

    def _reject_policies(self, exc: PolicyLoadError) -> None:
        """Keep the last good set, remember the refused one and audit why (file, line, message)."""
        errors = policy_errors(exc)
        active = None if self._policy is None else self._policy.version
        self.rejection = PolicyRejection(tuple(errors), self.clock.now(), active)
        log.error("policy set refused, %s keeps serving: %s", active, exc.message)
        self._audit(
            "policy.rejected", {"error": exc.message[:2000], "errors": errors, "active_version": active}
        )

    def _clear_rejection(self) -> None:
        self.rejection = None

    def _record_policy(self, ps: PolicySet, *, initial: bool = False) -> None:
        # the record first, then the row: every row of policy_versions has its chained record
        # (``audit verify --deep`` checks it), also when the process dies between the two
        if not initial or self.store.active_policy_version() != ps.version:
            self._audit(
                "policy.activated",
                {
                    "version": ps.version,
                    "files": sorted(ps.files),
                    "policies": sorted(ps.sources),
                    "files_digest": policy_files_digest(ps.files),
                },
            )
        self.store.record_policy_version(ps.version, ps.files, self.clock.now())

    def _settle_policy(self) -> None:
        """After recording the set this process read at start-up: read the files again, and while
        they hold another set, activate that one. The files may have changed (and a running process
        activated the change) between the read and the record: the store must never be left naming
        an older set than the files hold (the running processes would be ``policy_stale``, this one
        would decide under a withdrawn policy). Each round re-reads after its own record, so the
        last record any process makes is of the files as they are."""
        assert self.policy_dir is not None
        for _ in range(SETTLE_ROUNDS):
            try:
                new = load_policy_dir(self.policy_dir, tools=self.registered_tools())
            except PolicyLoadError:
                return  # being edited: the set recorded is the last good one; watchers follow
            with self._activate_lock:
                if new.version == self.engine.version:
                    return
                self._record_policy(new, initial=True)
                self.engine.swap(new)

    def _activate(self, new: PolicySet) -> bool:
        """Make ``new`` the active set: recorded in the store (and audited) first, then served, so no
        process ever decides under a set the store does not name. False when it is already active."""
        with self._activate_lock:
            if new.version == self.engine.version:
                return False
            self.rejection = None
            self._record_policy(new)
            self.engine.swap(new)
            self._unfollowable = None
            return True

    def reload(self) -> bool:
        """Load the policy directory now; an invalid set raises and the active one keeps serving."""
        if self.policy_dir is None:
            return False
        _ = self.engine  # the set in force first (a lazy Proctor loads it here)
        try:
            new = load_policy_dir(self.policy_dir, tools=self.registered_tools())
        except PolicyLoadError as exc:
            self._reject_policies(exc)
            raise
        if self._activate(new):
            return True
        self._clear_rejection()
        return False

    def watch(self) -> None:
        """Reload policies in the background when their files change."""
        if self.policy_dir is None or self._watcher is not None:
            return
        self._watcher = PolicyWatcher(
            self.engine,
            self.policy_dir,
            interval_s=self.settings.policy_reload_s,
            activate=self._activate,
            on_reject=self._reject_policies,
            on_clear=self._clear_rejection,
            settle_polls=2,  # a change is loaded once two polls in a row find the same files
            tools=self.registered_tools,
        )
        self._watcher.start()


__all__ = ["SETTLE_ROUNDS", "Policies", "PolicyRejection"]
