-- Proctor schema v1 (SQLite). Applied by yoyo-migrations; never run by hand.
CREATE TABLE epoch (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
INSERT INTO epoch (id, value) VALUES (1, 0);

CREATE TABLE agents (
  name TEXT PRIMARY KEY,
  spiffe_id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  status TEXT NOT NULL,
  selectors TEXT NOT NULL,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL,
  version INTEGER NOT NULL
);

CREATE TABLE tools (
  name TEXT PRIMARY KEY,
  effect TEXT NOT NULL,
  resource_pattern TEXT NOT NULL,
  resource_arg TEXT,
  trust TEXT NOT NULL,
  sensitivity TEXT NOT NULL,
  destructive INTEGER NOT NULL,
  financial INTEGER NOT NULL,
  customer_facing INTEGER NOT NULL,
  production INTEGER NOT NULL,
  description TEXT NOT NULL,
  version INTEGER NOT NULL
);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  agent TEXT NOT NULL REFERENCES agents(name),
  purpose TEXT NOT NULL,
  allow TEXT NOT NULL,
  resources TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at REAL NOT NULL,
  deadline REAL NOT NULL,
  max_calls INTEGER,
  calls_used INTEGER NOT NULL DEFAULT 0,
  ended_at REAL,
  end_reason TEXT,
  parent_id TEXT,
  version INTEGER NOT NULL
);
CREATE INDEX tasks_by_agent ON tasks (agent, state);
CREATE INDEX tasks_by_deadline ON tasks (state, deadline);

CREATE TABLE join_tokens (
  token_hash TEXT PRIMARY KEY,
  agent TEXT NOT NULL,
  created_at REAL NOT NULL,
  expires_at REAL NOT NULL,
  used_at REAL
);

CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  use TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at REAL NOT NULL,
  retired_at REAL,
  drop_after REAL
);

CREATE TABLE policy_versions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  version TEXT NOT NULL,
  files TEXT NOT NULL,
  activated_at REAL NOT NULL
);

CREATE TABLE audit_records (
  seq INTEGER PRIMARY KEY,
  ts REAL NOT NULL,
  kind TEXT NOT NULL,
  agent TEXT,
  task TEXT,
  tool TEXT,
  decision TEXT,
  decision_id TEXT,
  body BLOB NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE INDEX audit_by_agent ON audit_records (agent, seq);
CREATE INDEX audit_by_task ON audit_records (task, seq);
CREATE INDEX audit_by_tool ON audit_records (tool, seq);
CREATE INDEX audit_by_decision ON audit_records (decision, seq);
CREATE INDEX audit_by_decision_id ON audit_records (decision_id);

-- The log is append-only for Proctor itself; the hash chain and signed checkpoints catch anyone
-- who edits the file directly.
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

CREATE TABLE audit_checkpoints (
  seq INTEGER PRIMARY KEY,
  head_hash BLOB NOT NULL,
  ts REAL NOT NULL,
  kid TEXT NOT NULL,
  signature BLOB NOT NULL
);
