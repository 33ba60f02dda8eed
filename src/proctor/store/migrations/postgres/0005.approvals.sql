-- depends: 0004.leases
-- Approval requests: calls held for a person, bound to the exact call (docs/adr/0022-approvals.md).
-- The arguments are stored only encrypted (AES-256-GCM under the workspace secrets key, AAD names the
-- request and its digest); the audit log keeps their digest. grant is the signed single-use or scoped
-- grant given on approval (a JWS verified on every use: a row edited in the database is not enough).
CREATE TABLE approvals (
  id TEXT PRIMARY KEY,               -- apr_…
  state TEXT NOT NULL,               -- pending | approved | denied | expired | used
  agent TEXT NOT NULL,
  task_id TEXT NOT NULL REFERENCES tasks(id),
  tool TEXT NOT NULL,
  effects TEXT NOT NULL,             -- JSON list
  digest TEXT NOT NULL,              -- call_digest(agent, task, tool, canonical args, policy version)
  args_digest TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  policies TEXT NOT NULL,            -- JSON list of the determining policy ids
  reasons TEXT NOT NULL,             -- JSON list
  approvers TEXT NOT NULL,           -- JSON list: owner and/or group names
  four_eyes INTEGER NOT NULL,
  owner TEXT,
  requester TEXT,
  key_id TEXT NOT NULL,              -- the secrets key the arguments are encrypted under
  nonce BYTEA NOT NULL,
  ciphertext BYTEA NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  expires_at DOUBLE PRECISION NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 1,
  decision_id TEXT,                  -- the decision that filed the request
  decided_at DOUBLE PRECISION,
  decided_by TEXT,
  decided_via TEXT,
  reason TEXT,
  narrowing TEXT,                    -- JSON: a scoped grant's constraints, NULL for a single-use grant
  grant_token TEXT,
  used_at DOUBLE PRECISION,
  used_by TEXT                       -- the decision id of the call that consumed the grant
);
CREATE INDEX approvals_by_digest ON approvals (digest, state);
CREATE INDEX approvals_by_state ON approvals (state, created_at);
CREATE INDEX approvals_by_agent ON approvals (agent, state);
CREATE INDEX approvals_by_task ON approvals (task_id, tool, state);
