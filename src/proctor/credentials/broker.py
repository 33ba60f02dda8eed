"""The credential stage: decide (Cedar action ``use_credential``), then lease a credential to a task.

``Credentials`` owns the secret store, the providers and the leases; the decision on a credential
is audited here (``credential.decision``), the lease's life by :class:`LeaseManager`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from proctor.audit.log import AuditLog
from proctor.clock import Clock
from proctor.credentials.leases import Lease, LeaseManager
from proctor.credentials.providers.base import Provider, ProviderRegistry
from proctor.credentials.providers.injected import InjectedSecretProvider
from proctor.credentials.providers.jwt import (
    IntrospectionClient,
    JwtProvider,
    add_introspection_client,
    introspect_recorded,
    list_introspection_clients,
    remove_introspection_client,
)
from proctor.credentials.providers.postgres import PostgresRoleProvider
from proctor.credentials.secrets import SecretStore, delete_secret, rotate_secrets_key, store_secret
from proctor.errors import (
    AgentSuspended,
    CredentialDenied,
    PolicyStale,
    SecretKeyInvalid,
    TaskNotActive,
    ValidationError,
)
from proctor.identity.agents import Agents
from proctor.identity.keys import SigningKeys
from proctor.killswitch import KillSwitch
from proctor.policy.active import Policies
from proctor.policy.engine import CREDENTIAL_ACTION, CredentialRef
from proctor.policy.scope import declares_namespace
from proctor.snapshot import StateCache
from proctor.store.base import AgentRecord, SecretRecord, Store, TaskRecord
from proctor.tasks.service import TASK_AUDIENCE, Tasks
from proctor.types import AgentName, TaskId
from proctor.workspace import Workspace

if TYPE_CHECKING:
    from proctor.flow.service import Flow


class Credentials:
    """The secret store, credential providers and leases of one workspace."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        audit: AuditLog,
        *,
        workspace: Workspace | None,
        keys: SigningKeys,
        audience: str,
        kills: KillSwitch,
        state: StateCache,
        agents: Agents,
        tasks: Tasks,
        policies: Policies,
    ) -> None:
        self.store = store
        self.clock = clock
        self.audit = audit
        self.workspace = workspace
        #: signs credential tokens (``at+jwt``) for downstream APIs: a ring of its own, published at
        #: ``/v1/credentials/jwks.json``, so no SVID verifier can ever accept a credential token
        self.keys = keys
        self.kills = kills
        self.state = state
        self.agents = agents
        self.tasks = tasks
        self.policies = policies
        #: the flow stage (``Proctor`` sets it once built): what a task read reaches its credential
        #: decisions; None: the Task entity's flow defaults
        self.flow: Flow | None = None
        #: credential leases; providers are added with :meth:`register_provider`
        self.leases = LeaseManager(store, ProviderRegistry(), clock, audit, records=self._lease_records)
        self._secrets: SecretStore | None = None
        self._secrets_lock = threading.Lock()
        self.register_provider(InjectedSecretProvider(self.secret_value))
        self.register_provider(PostgresRoleProvider(lambda name: self.secret_value(name).decode()))
        self.register_provider(JwtProvider(keys, audience, reserved_audiences=(TASK_AUDIENCE,)))

    def register_provider(self, provider: Provider, *, replace: bool = False) -> None:
        """Make a credential provider available to :attr:`leases` (and its pending revocations)."""
        self.leases.providers.register(provider, replace=replace)

    @property
    def secrets(self) -> SecretStore:
        """The workspace secret store, opened on first use (a wrong or missing key raises here)."""
        return self.secret_store()

    def secret_store(self, *, reopen: bool = False) -> SecretStore:
        """The workspace secret store; ``reopen`` reads the key again (after another process ran
        ``proctor secret rotate-key``)."""
        with self._secrets_lock:
            if self._secrets is None or reopen:
                if self.workspace is None:
                    raise ValidationError("the secret store needs a workspace")
                self._secrets = SecretStore.open(self.workspace, self.store, now=self.clock.now())
            return self._secrets

    def rotate_key(self) -> str:
        """A new active credential-token signing key (``proctor keys rotate --credentials``),
        recorded as ``identity.key_rotated``; returns its kid."""
        from proctor.identity.rotation import rotate_signing_key

        return rotate_signing_key(self.keys, self.audit, self.clock.now())

    # secrets (`proctor secret`): each change recorded here, never by the CLI
    def put_secret(self, name: str, value: bytes | str) -> int:
        """Store (or replace) a secret and record ``secret.stored``; returns its new version."""
        return store_secret(self.secret_store(), self.audit, name, value, self.clock.now())

    def delete_secret(self, name: str) -> SecretRecord:
        """Delete a secret and record ``secret.deleted`` (:class:`UnknownSecret` if there is none)."""
        return delete_secret(self.secret_store(), self.audit, name)

    def rotate_secrets_key(self, *, key: bytes | None = None, env_mode: bool = False) -> tuple[str, str, int]:
        """Re-encrypt every secret under a new key and record ``secret.key_rotated``
        (:func:`proctor.credentials.secrets.rotate_secrets_key`). Returns the old key id, the new
        one and how many secrets moved."""
        if self.workspace is None:
            raise ValidationError("the secret store needs a workspace")
        ss = self.secret_store()
        old, count = rotate_secrets_key(
            self.workspace, ss, self.audit, self.clock.now(), key=key, env_mode=env_mode
        )
        return old, ss.key_id, count

    # introspection clients (`proctor introspection-client`), kept in the secret store
    def add_introspection_client(
        self, audience: str, *, rotate: bool = False, reserved: Collection[str] = ()
    ) -> str:
        """Register a resource server allowed to introspect (or ``rotate`` its secret) and record it;
        returns its secret, shown once."""
        return add_introspection_client(
            self.secret_store(),
            audience,
            self.clock.now(),
            rotate=rotate,
            reserved=reserved,
            audit=self.audit,
        )

    def introspection_clients(self) -> list[IntrospectionClient]:
        """The registered introspection clients, by audience; never a secret."""
        return list_introspection_clients(self.secret_store())

    def remove_introspection_client(self, audience: str) -> bool:
        """Remove an introspection client and record it; False if there was none."""
        return remove_introspection_client(self.secret_store(), audience, audit=self.audit)

    def introspect(
        self,
        token: object,
        client_audience: str,
        *,
        issuer: str | None = None,
        killed: Callable[[str, str], bool] | None = None,
    ) -> dict[str, Any]:
        """``POST /v1/introspect``: what a credential token says, recorded
        (:func:`proctor.credentials.providers.jwt.introspect_recorded`)."""
        if killed is None:
            return introspect_recorded(
                self.keys, self.store, self.audit, token, client_audience, self.clock.now(), issuer=issuer
            )
        return introspect_recorded(
            self.keys,
            self.store,
            self.audit,
            token,
            client_audience,
            self.clock.now(),
            issuer=issuer,
            killed=killed,
        )

    def _lease_records(
        self, task_id: TaskId, agent: AgentName
    ) -> tuple[TaskRecord | None, AgentRecord | None]:
        snap = self.state.snapshot()
        return self.state.task(task_id, snap), self.state.agent(agent, snap)

    def secret_records(self) -> list[SecretRecord]:
        """Every stored secret's metadata (`secret list`), ordered by name: no value is decrypted,
        so no key is needed."""
        return self.store.list_secrets()

    def check_secrets_key(self) -> bool:
        """Open the secret store now if the workspace has one, so that a wrong or missing key fails at
        start-up with :class:`SecretKeyInvalid` instead of at the first credential. Returns whether
        it was opened."""
        if self.store.active_secret_key() is None and self.store.count_secrets() == 0:
            return False
        _ = self.secrets
        return True

    def secret_value(self, name: str) -> bytes:
        """A stored secret's plaintext, for a provider to hand to an upstream. Never log it."""
        try:
            return self.secrets.get(name)
        except SecretKeyInvalid:  # encrypted under a key rotated in by another process: read it again
            return self.secret_store(reopen=True).get(name)

    def obtain(
        self,
        task_id: TaskId,
        agent: AgentName,
        ref: CredentialRef,
        spec: Mapping[str, Any],
        *,
        effects: Iterable[str] = (),
    ) -> tuple[Lease, dict[str, Any]]:
        """Decide (Cedar action ``use_credential``) and, if allowed, issue a lease of ``ref`` to the
        task. The decision is audited either way; a deny raises :class:`CredentialDenied`, a provider
        failure :class:`LeaseIssueFailed`. Returns the lease and the data for the upstream alone.

        The credential's effects are those of the tools the task declared: of ``ref.upstream`` only
        when it names one (a task that reads a database and writes files gets a read-only role),
        plus ``effects`` (what the upstream's configuration says of tools not registered yet)."""
        stale = self.state.snapshot().policy_stale
        if stale is not None:
            raise PolicyStale(stale)
        if self.kills.agent_killed(str(agent)):
            raise AgentSuspended(f"agent `{agent}` is suspended: it cannot get credentials")
        if self.kills.task_killed(str(task_id)):
            raise TaskNotActive(f"task `{task_id}` has ended: it cannot get credentials")
        task = self.tasks.expire_if_due(self.tasks.get(str(task_id)))
        self.tasks.check_lineage(task)  # a delegated task ends with its parent (docs/adr/0032)
        rec_agent = self.agents.get(str(agent))
        effects = self.leases.task_effects(task, ref.upstream or None) | frozenset(effects)
        declared = declares_namespace(task.allow, ref.upstream) if ref.upstream else False
        # what the task has read (docs/adr/0025): a `use_credential` policy may read
        # context.task.read_untrusted; a failure to know it is a failure to decide (raised)
        labels = self.flow.labels(task) if self.flow is not None else None
        decision = self.policies.engine.decide_credential(
            rec_agent,
            task,
            ref,
            upstream_declared=declared,
            effects=effects,
            now=self.clock.now(),
            labels=labels,
        )
        self.audit.append(
            "credential.decision",
            {
                "verdict": decision.verdict.value,
                "action": CREDENTIAL_ACTION,
                "credential": ref.name,
                "provider": ref.provider,
                "upstream": ref.upstream,
                "effects": sorted(effects),
                "upstream_declared": declared,
                "reasons": list(decision.reasons),
                "policies": list(decision.policies),
                "errors": list(decision.errors),
                "policy_version": decision.policy_version,
                # a delegated task's chain of accountability (docs/adr/0032)
                **({"chain": [{"agent": a, "task": t} for a, t in task.chain]} if task.chain else {}),
            },
            agent=str(rec_agent.name),
            task=str(task.id),
            decision_id=str(decision.decision_id),
        )
        if not decision.allowed:
            raise CredentialDenied(
                f"credential `{ref.name}` denied: {'; '.join(decision.reasons)}",
                decision_id=str(decision.decision_id),
            )
        return self.leases.issue(task, rec_agent, ref.provider, {**spec, "name": ref.name}, effects=effects)


__all__ = ["Credentials"]
