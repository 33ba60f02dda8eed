-- depends: 0003.secrets
-- Credential leases (SQLite): what a provider issued to a task, and how its revocation went.
-- No secret values here: revoke_handle and data_summary hold ids, kinds and names only.
-- A lease never outlives its task: expires_at <= the task's deadline (enforced by the lease manager).
CREATE TABLE leases (
  id TEXT PRIMARY KEY,              -- lse_…
  task_id TEXT NOT NULL REFERENCES tasks(id),
  agent TEXT NOT NULL,
  kind TEXT NOT NULL,               -- provider kind
  name TEXT NOT NULL,               -- credential name
  state TEXT NOT NULL,              -- active | revoked | expired | irrevocable
  issued_at REAL NOT NULL,
  expires_at REAL NOT NULL,
  revoked_at REAL,                    -- when it stopped being usable (revoked or expired)
  attempts INTEGER NOT NULL DEFAULT 0,   -- provider revocation attempts so far
  next_attempt_at REAL,               -- set while the provider has not confirmed the revocation
  last_error TEXT,                  -- a short code, never a secret
  revoke_handle TEXT NOT NULL,      -- JSON the provider needs to revoke (no secret values)
  data_summary TEXT NOT NULL        -- JSON: names of the spec and data keys, never values
);
CREATE INDEX leases_by_task ON leases (task_id, state);
CREATE INDEX leases_by_expiry ON leases (state, expires_at);
CREATE INDEX leases_by_retry ON leases (state, next_attempt_at);
CREATE INDEX leases_by_agent ON leases (agent, state);
