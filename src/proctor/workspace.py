"""A workspace: config, signing keys, policies and the embedded database in one directory."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from proctor.config import CONFIG_FILE, Settings, load_settings
from proctor.errors import AdminTokenInvalid, ConfigError, WorkspaceNotFound
from proctor.types import TrustDomain

__all__ = [
    "ADMIN_PREFIX",
    "ADMIN_TOKEN_FILE",
    "DEFAULT_CONFIG",
    "Workspace",
]


log = logging.getLogger(__name__)

ADMIN_TOKEN_FILE = "admin-token.sha256"  # noqa: S105 - a file name, not a secret
ADMIN_PREFIX = "pta_"

DEFAULT_CONFIG = """\
# Proctor workspace configuration. Unknown keys are refused.
trust_domain: {trust_domain}
# sqlite:///proctor.db (embedded, default) or postgresql://user@host:5432/db (or PROCTOR_STORE)
store: {store}

identity:
  svid_ttl: 5m          # JWT-SVID lifetime (at most 1h)
  join_token_ttl: 10m   # single-use join tokens

tasks:
  default_ttl: 15m
  max_ttl: 24h

audit:
  checkpoint_every: 1000     # sign the chain head every N records ...
  checkpoint_interval: 5s    # ... or this often while records are unsigned, whichever comes first
  log_arguments: false       # true records call arguments; false records their digest and names

server:
  host: 127.0.0.1
  port: 8470

policies:
  reload_interval: 1s

# Calls a policy holds for a person (@approval("owner") or a group; docs/adr/0022).
approvals:
  ttl: 10m            # a request waits this long for a person, then it is expired (denied)
  max_pending: 20     # pending requests per agent; a risky call beyond it is denied
  hold: 30s           # how long the MCP gateway holds a call while a person decides (0: answer at once)
  # public_url: https://proctor.example.com   # where approvers reach `proctor serve` (links)
  # webhooks:         # one POST per new request, signed (Proctor-Signature; docs/adr/0024)
  #   - {{name: chat, format: slack, url_secret: slack-hook-url}}

# The flow stage (docs/adr/0025): every tool output is labelled (trust, sensitivity) and kept,
# sealed with the workspace's secret key, so the arguments of later calls of the task can be traced
# to where they came from (the intent, a trusted output, only untrusted content, nowhere).
flow:
  enabled: true            # false: calls are decided with no labels, provenance or history
  max_outputs: 200         # outputs kept per task for tracing (the oldest go first)
  max_output_bytes: 1048576  # bytes of one output kept, at most 1 MiB (all of it is labelled)
  retention: task          # `task`: deleted when the task ends; or a duration after its end (e.g.
                           # 7d) so `proctor trace export TASK` can still write its trace

# Approvers sign in at /login with accounts from `proctor user add` (docs/adr/0023), or by SSO:
login:
  session_idle: 30m
  session_max: 12h
  lockout_after: 5    # failed sign-ins in a row, then the account is locked for lockout_for
  lockout_for: 15m
  # oidc: {{issuer: https://idp.example.com, client_id: proctor, client_secret: secret:oidc-client}}

# Tools agents may call. effect: read | write | execute | send | pay | deploy (or one you add to
# policies/schema.cedarschema). labels: trust (trusted|untrusted), sensitivity
# (public|internal|confidential|secret). flags: destructive, financial, customer_facing, production.
tools: []
"""


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace. Construct with :meth:`find` or :meth:`init`."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def policies_dir(self) -> Path:
        return self.root / "policies"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    def settings(self) -> Settings:
        return load_settings(self.config_path)

    @classmethod
    def find(cls, explicit: str | Path | None = None) -> Workspace:
        """``--workspace``, else ``PROCTOR_WORKSPACE``, else the current directory."""
        raw = explicit or os.environ.get("PROCTOR_WORKSPACE") or "."
        root = Path(raw).expanduser().resolve()
        if not (root / CONFIG_FILE).is_file():
            raise WorkspaceNotFound(
                f"no Proctor workspace at `{root}`: run `proctor init {raw}` or pass --workspace"
            )
        return cls(root)

    @classmethod
    def init(
        cls,
        root: Path,
        *,
        trust_domain: str = "proctor.local",
        store: str = "sqlite:///proctor.db",
        config_text: str | None = None,
    ) -> tuple[Workspace, str]:
        """Create a workspace; returns it and the admin token (shown once, stored only as a hash)."""
        root = root.expanduser().resolve()
        if (root / CONFIG_FILE).exists():
            raise ConfigError(f"`{root}` is already a Proctor workspace")
        TrustDomain(trust_domain)
        existed = root.is_dir()
        root.mkdir(mode=0o711, parents=True, exist_ok=True)
        # traverse-only for others (agents reach run/ by name, nothing is listed); a directory the
        # operator already had is only narrowed (one of theirs at 0700 stays 0700)
        mode = root.stat().st_mode & 0o711 if existed else 0o711
        os.chmod(root, mode)
        ws = cls(root)
        ws.keys_dir.mkdir(mode=0o700, exist_ok=True)
        ws.run_dir.mkdir(mode=0o711, exist_ok=True)
        starter = resources.files("proctor") / "starter"
        ws.policies_dir.mkdir(mode=0o700, exist_ok=True)
        with resources.as_file(starter) as src:
            for path in sorted(Path(src).iterdir()):
                # counters.yaml: the history the starter's payment limits read (docs/adr/0025)
                if path.suffix in {".cedar", ".cedarschema"} or path.name == "counters.yaml":
                    _write_private(ws.policies_dir / path.name, path.read_bytes())
        text = config_text or DEFAULT_CONFIG.format(trust_domain=trust_domain, store=store)
        _write_private(ws.config_path, text.encode("utf-8"))
        ws.make_private()
        token = ADMIN_PREFIX + secrets.token_urlsafe(32)
        _write_private(ws.keys_dir / ADMIN_TOKEN_FILE, hashlib.sha256(token.encode()).hexdigest().encode())
        return ws, token

    def make_private(self) -> list[str]:
        """Keep the workspace to Proctor's own user: the root and ``run/`` may be traversed by
        others (agents reach the local socket in ``run/`` by name; attestation, not file modes,
        decides who they are) but not listed; ``keys/`` and ``policies/`` are owner-only; every file
        (configuration, upstreams, the database and its ``-wal``/``-shm``) is owner-only, so no
        other local user can read the audit log or take a lock on the database. Idempotent; returns
        what it changed (paths this user does not own are left as they are, and named in the log).
        Modes are only ever narrowed: what the operator made stricter (0700, 0400) stays so."""
        changed: list[str] = []

        def tighten(path: Path, mode: int) -> None:
            try:
                st = path.lstat()
            except FileNotFoundError:
                return
            # only ever remove bits: what the operator made stricter (0700, 0400) stays so
            target = st.st_mode & 0o777 & mode
            if stat.S_ISLNK(st.st_mode) or (st.st_mode & 0o777) == target:
                return
            if stat.S_ISSOCK(st.st_mode):
                return  # sockets keep the mode their server gave them
            try:
                os.chmod(path, target)
                changed.append(f"{path.name} {oct(st.st_mode & 0o777)} -> {oct(target)}")
            except PermissionError:
                log.warning("workspace: cannot make `%s` private (owned by another user)", path)

        tighten(self.root, 0o711)
        tighten(self.run_dir, 0o711)
        for d in (self.keys_dir, self.policies_dir):
            tighten(d, 0o700)
        for d in (self.root, self.keys_dir, self.policies_dir, self.run_dir):
            try:
                entries = list(d.iterdir())
            except OSError:
                continue
            for entry in entries:
                try:
                    st = entry.lstat()
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    tighten(entry, 0o600)
        if changed:
            log.warning("workspace `%s` made private: %s", self.root, "; ".join(changed))
        return changed

    def check_admin_token(self, presented: str | None) -> None:
        """Constant-time check of a management API bearer token."""
        try:
            expected = (self.keys_dir / ADMIN_TOKEN_FILE).read_text().strip()
        except OSError:
            raise AdminTokenInvalid("admin token is not configured for this workspace") from None
        digest = hashlib.sha256((presented or "").encode()).hexdigest()
        if not presented or not hmac.compare_digest(digest, expected):
            raise AdminTokenInvalid("admin token is missing or wrong")
