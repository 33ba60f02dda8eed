"""The hot-path cache: agent, task, tool and pin records read once per store epoch.

Every stage of one call reads the same :class:`Snapshot`, so the records it decides on are
consistent. The epoch lives in the store and is bumped by every change to agents, tasks, tools,
pins or policy, by any process: the cache can never serve a record that changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proctor.errors import StoreUnavailable
from proctor.store.base import AgentRecord, Store, TaskRecord, ToolPin, ToolRecord
from proctor.store.guard import StoreGuard
from proctor.types import AgentName, TaskId, ToolName

if TYPE_CHECKING:
    from proctor.policy.active import Policies


class Snapshot:
    """Records read on the hot path, valid for one store epoch.

    The epoch lives in the store and is bumped by every change to agents, tasks, tools or policy,
    by any process, so this cache can never serve a record that changed.
    """

    __slots__ = ("agents", "epoch", "pins", "policy_stale", "policy_version", "tasks", "tools")

    def __init__(self, epoch: int, policy_stale: str | None = None, policy_version: str = "") -> None:
        self.epoch = epoch
        #: this process's policy version when the snapshot was taken: a process that swaps its set
        #: takes a new snapshot (and so looks again at whether it may decide) at once
        self.policy_version = policy_version
        #: why this process may not decide at this epoch (its policy set is not the store's active
        #: one and it could not follow), or None
        self.policy_stale = policy_stale
        self.pins: dict[str, list[ToolPin]] = {}
        self.agents: dict[str, AgentRecord | None] = {}
        self.tasks: dict[str, TaskRecord | None] = {}
        self.tools: dict[str, ToolRecord | None] = {}


class StateCache:
    """The current :class:`Snapshot` of one process, and the records read through it."""

    def __init__(self, store: Store, policies: Policies, guard: StoreGuard) -> None:
        self.store = store
        self.policies = policies
        #: store calls from the event loop: bounded, off the loop, failing fast while it is down
        self.guard = guard
        self._snap = Snapshot(-1)

    def snapshot(self) -> Snapshot:
        """The records valid at the store's current epoch (one epoch read). A caller that looks up
        several records for one call takes one snapshot and passes it, so they are consistent:
        a transport takes it when a request arrives and every stage of that request reads it.
        Fails at once while the store is known to be down (see :class:`StoreGuard`); asyncio code
        uses :meth:`snapshot_async`, which never blocks the loop."""
        guard = self.guard
        guard.check()
        try:
            return self._snapshot()
        except StoreUnavailable as exc:
            guard.observe(exc)
            raise

    async def snapshot_async(self) -> Snapshot:
        """:meth:`snapshot` on a store worker thread, bounded by ``store_timeout``."""
        return await self.guard.run(self._snapshot, read=True)

    def _snapshot(self) -> Snapshot:
        epoch = self.store.epoch()
        snap = self._snap
        version = self.policies.engine.version
        if snap.epoch != epoch or snap.policy_version != version:
            # the version read before following: if following (or another thread) swaps the set,
            # the next call looks again rather than keep a verdict taken against the old one
            snap = Snapshot(epoch, self.policies.follow(), version)
            self._snap = snap
        return snap

    def agent(self, name: AgentName, snap: Snapshot | None = None) -> AgentRecord | None:
        snap = snap or self._snapshot()
        try:
            return snap.agents[name]
        except KeyError:
            rec = snap.agents[name] = self.store.get_agent(name)
            return rec

    def task(self, task_id: TaskId, snap: Snapshot | None = None) -> TaskRecord | None:
        snap = snap or self._snapshot()
        try:
            return snap.tasks[task_id]
        except KeyError:
            rec = snap.tasks[task_id] = self.store.get_task(task_id)
            return rec

    def tool(self, name: ToolName, snap: Snapshot | None = None) -> ToolRecord | None:
        snap = snap or self._snapshot()
        try:
            return snap.tools[name]
        except KeyError:
            rec = snap.tools[name] = self.store.get_tool(name)
            return rec

    def pins(self, namespace: str, snap: Snapshot | None = None) -> list[ToolPin]:
        """The pinned tool definitions of an upstream namespace (pinning bumps the store epoch)."""
        snap = snap or self._snapshot()
        try:
            return snap.pins[namespace]
        except KeyError:
            pins = snap.pins[namespace] = self.store.list_tool_pins(namespace)
            return pins


__all__ = ["Snapshot", "StateCache"]
