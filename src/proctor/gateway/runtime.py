"""The gateway's runtime: the wiring of one gateway process.

It holds the parts every downstream connection shares — the catalog of upstream tools
(:mod:`proctor.gateway.catalog`), each task's upstream sessions (:mod:`proctor.gateway.sessions`)
and the one ``tools/call`` path (:mod:`proctor.gateway.calls`), which the relayed methods
(:mod:`proctor.gateway.relays`) share — and runs what keeps them current: the task group the SDK
sessions live in, the sweeper that closes the sessions of ended tasks and retires those whose
lease ended, and the reload of ``upstreams.yaml``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from anyio.abc import TaskGroup
from mcp.shared.exceptions import MCPDeprecationWarning

from proctor.app import Proctor
from proctor.errors import ProctorError, StoreError
from proctor.gateway.calls import Calls
from proctor.gateway.catalog import Catalog
from proctor.gateway.config import UPSTREAMS_FILE, UpstreamConfig, load_upstreams
from proctor.gateway.mrtr import StateSeal
from proctor.gateway.sessions import TaskUpstreams
from proctor.gateway.xrev import Exchanges
from proctor.types import AgentStatus, TaskId

__all__ = ["GatewayRuntime"]

log = logging.getLogger(__name__)

# Logging, subscriptions and the rest are deprecated in the 2026-07-28 era but still spoken by
# handshake-era clients and upstreams; the gateway relays them on purpose, so no warning per call.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning)

SWEEP_INTERVAL_S = 1.0
#: sweep tasks and leases every this many session sweeps (5 s)
LEASE_SWEEP_EVERY = 5


def _file_stamp(path: Path | None) -> tuple[int, int, int] | None:
    """What tells a changed file apart cheaply (None when absent)."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class GatewayRuntime:
    """Shared by every downstream connection of one gateway process."""

    def __init__(self, proctor: Proctor, upstreams: list[UpstreamConfig]) -> None:
        if any(u.credentials for u in upstreams):
            _ = proctor.credentials.secrets  # a wrong or missing secrets key fails here, at start-up
        else:
            proctor.credentials.check_secrets_key()
        self.proctor = proctor
        #: the upstreams and the names, registrations and pins of their tools
        self.catalog = Catalog(proctor, upstreams)
        #: ``upstreams.yaml``, followed while the gateway runs (None: the list given is fixed)
        self.upstreams_file = None if proctor.workspace is None else proctor.workspace.root / UPSTREAMS_FILE
        self._upstreams_stamp = _file_stamp(self.upstreams_file)
        self._upstreams_pending: tuple[int, int, int] | None = None
        #: why the last change to ``upstreams.yaml`` was refused (the previous list keeps serving)
        self.upstreams_rejected: str | None = None
        #: each task's upstream sessions
        self.tasks: dict[TaskId, TaskUpstreams] = {}
        self._tg: TaskGroup | None = None
        #: the one ``tools/call`` path (and what the relayed methods share with it)
        self.calls = Calls(proctor, self.catalog, self.owned)
        #: seals the upstreams' ``requestState`` to their calls (2026-07-28, proctor.gateway.mrtr):
        #: one per process, so a state the lean path handed out opens on the SDK's entry too
        self.state_seal = StateSeal.for_proctor(proctor)
        #: upstream calls kept open across a 2026-07-28 client's rounds (proctor.gateway.xrev)
        self.exchanges = Exchanges(proctor, proctor.settings.gateway_exchange_ttl_s)

    @property
    def upstreams(self) -> dict[str, UpstreamConfig]:
        """The upstreams ``upstreams.yaml`` holds now (namespace -> configuration)."""
        return self.catalog.upstreams

    def owned(self, task_id: TaskId) -> TaskUpstreams:
        """The task's upstream sessions (none open until first used)."""
        owned = self.tasks.get(task_id)
        if owned is None:
            owned = self.tasks[task_id] = TaskUpstreams(self, task_id)
        return owned

    # lifecycle --------------------------------------------------------------------------
    @property
    def task_group(self) -> TaskGroup:
        if self._tg is None:
            raise RuntimeError("gateway runtime is not running")
        return self._tg

    @asynccontextmanager
    async def running(self) -> AsyncIterator[GatewayRuntime]:
        """Run the upstream sessions and the sweeper that closes those of ended tasks."""
        # every process that decides follows the workspace's policy files (and, per store epoch,
        # the version the store records as active: see Proctor._follow_policy)
        self.proctor.policies.watch()
        async with anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self._sweep)
            try:
                yield self
            finally:
                await self.exchanges.close()  # recorded, before the sessions they hold close
                for t in list(self.tasks.values()):
                    await t.close()
                self.tasks.clear()
                tg.cancel_scope.cancel()
                self._tg = None

    async def _sweep(self) -> None:
        rounds = 0
        while True:
            await anyio.sleep(SWEEP_INTERVAL_S)
            try:
                await self.reload_upstreams()
            except Exception as exc:  # the next round retries; the current list keeps serving
                log.error("upstreams.yaml: reload failed: %s", type(exc).__name__)
            await self.close_ended_tasks()
            rounds += 1
            if rounds % LEASE_SWEEP_EVERY == 0:
                await self.sweep_leases()

    async def sweep_leases(self) -> None:
        """Expire tasks past their deadline and revoke their leases (a database role's open sessions
        outlive its ``VALID UNTIL``: this ends them), and retry revocations that are due. This process
        holds the providers, so it is the one that can finish their revocations."""
        try:
            await anyio.to_thread.run_sync(self.proctor.tasks.sweep)
        except Exception as exc:  # the next round retries; a failure is never fatal to the gateway
            log.warning("lease sweep failed: %s", type(exc).__name__)

    async def close_ended_tasks(self) -> list[TaskId]:
        """Close the upstream sessions of tasks that ended or passed their deadline, or whose agent
        was suspended, and retire any session whose credential lease ended."""
        closed: list[TaskId] = []
        now = self.proctor.clock.now()
        owners = list(self.tasks.items())
        if not owners:
            return closed
        p = self.proctor

        def states() -> dict[TaskId, tuple[bool, bool]]:
            snap = p.state.snapshot()
            out = {}
            for task_id, _ in owners:
                task = p.state.task(task_id, snap)
                agent = None if task is None else p.state.agent(task.agent, snap)
                live = task is not None and task.is_live(now)
                out[task_id] = (live, agent is not None and agent.status is AgentStatus.ACTIVE)
            return out

        try:
            # on a store worker thread, bounded: never the loop (docs/adr/0019)
            known = await p.store_guard.run(states, read=True)
        except Exception as exc:  # the store may be unavailable; the next round retries
            log.warning("task sweep skipped: %s", type(exc).__name__)
            return closed
        for task_id, owned in owners:
            try:
                live, active = known[task_id]
                if live and active:
                    for cfg in self.upstreams.values():
                        if cfg.namespace in owned.injections:
                            await owned.check_credentials(cfg)
                    continue
            except Exception as exc:  # the store may be briefly unavailable; the next round retries
                log.warning("task sweep skipped %s: %s", task_id, type(exc).__name__)
                continue
            namespaces = sorted({*owned.sessions, *owned.leans})
            # its pending exchanges end first, with why (not as their upstream calls die)
            await self.exchanges.end_all("task_ended" if not live else "agent_not_active", str(task_id))
            await owned.close()
            if self.tasks.get(task_id) is owned:  # a socket session's end may have closed it meanwhile
                del self.tasks[task_id]
            closed.append(task_id)
            try:
                await self.proctor.audit.append_async(
                    "upstream.sessions_closed",
                    {"namespaces": namespaces, "reason": "task ended" if not live else "agent not active"},
                    task=str(task_id),
                )
            except StoreError as exc:  # the sessions are closed either way
                log.error("could not record closed upstream sessions of %s: %s", task_id, exc.code)
        return closed

    async def reload_upstreams(self, *, force: bool = False) -> bool:
        """Follow ``upstreams.yaml``: when it changed, load it; an invalid file is refused (audited,
        the previous list keeps serving). The sessions, leases and registrations of every upstream
        whose configuration changed or that was removed are dropped, so the next call meets the new
        configuration. Returns whether the list changed."""
        path = self.upstreams_file
        if path is None:
            return False
        stamp = _file_stamp(path)
        if stamp == self._upstreams_stamp and not force:
            return False
        if not force and stamp != self._upstreams_pending:
            # changed since the last look: load it once a second look finds it unchanged, so a file
            # an editor is still writing is never applied (or refused) half-written
            self._upstreams_pending = stamp
            return False
        self._upstreams_pending = None
        previous, self._upstreams_stamp = self._upstreams_stamp, stamp
        try:
            fresh = load_upstreams(path.parent)
            self.catalog.check(fresh)
            if any(u.credentials for u in fresh):
                # a workspace without a usable secrets key cannot serve them (a store read: off
                # the event loop, bounded)
                await self.proctor.store_guard.run(lambda: self.proctor.credentials.secrets)
        except StoreError as exc:  # the store, not the file: look again once it answers
            log.warning("upstreams.yaml not reloaded yet, the store did not answer: %s", exc.code)
            self._upstreams_stamp = previous
            return False
        except ProctorError as exc:
            if self.upstreams_rejected != exc.message:
                self.upstreams_rejected = exc.message
                log.error("upstreams.yaml refused, the previous configuration keeps serving: %s", exc.message)
                await self.proctor.audit.append_async(
                    "upstreams.rejected", {"error": exc.message, "code": exc.code}
                )
            return False
        self.upstreams_rejected = None
        changed = self.catalog.replace(fresh)
        if not changed:
            return False
        for owned in list(self.tasks.values()):
            for ns in changed:
                await owned.retire(ns, "the upstream's configuration changed")
        log.info("upstreams.yaml reloaded: %s changed", ", ".join(changed))
        await self.proctor.audit.append_async(
            "upstreams.reloaded", {"changed": changed, "namespaces": sorted(self.upstreams)}
        )
        return True
