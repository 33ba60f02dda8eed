-- Proctor schema v1 (PostgreSQL). Applied by yoyo-migrations; never run by hand.
CREATE TABLE epoch (id INTEGER PRIMARY KEY CHECK (id = 1), value BIGINT NOT NULL);
INSERT INTO epoch (id, value) VALUES (1, 0);

CREATE TABLE agents (
  name TEXT PRIMARY KEY,
  spiffe_id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  status TEXT NOT NULL,
  selectors TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  updated_at DOUBLE PRECISION NOT NULL,
  version BIGINT NOT NULL
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
  version BIGINT NOT NULL
);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  agent TEXT NOT NULL REFERENCES agents(name),
  purpose TEXT NOT NULL,
  allow TEXT NOT NULL,
  resources TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  deadline DOUBLE PRECISION NOT NULL,
  max_calls BIGINT,
  calls_used BIGINT NOT NULL DEFAULT 0,
  ended_at DOUBLE PRECISION,
  end_reason TEXT,
  parent_id TEXT,
  version BIGINT NOT NULL
);
CREATE INDEX tasks_by_agent ON tasks (agent, state);
CREATE INDEX tasks_by_deadline ON tasks (state, deadline);

CREATE TABLE join_tokens (
  token_hash TEXT PRIMARY KEY,
  agent TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  expires_at DOUBLE PRECISION NOT NULL,
  used_at DOUBLE PRECISION
);

CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  use TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  retired_at DOUBLE PRECISION,
  drop_after DOUBLE PRECISION
);

CREATE TABLE policy_versions (
  id BIGSERIAL PRIMARY KEY,
  version TEXT NOT NULL,
  files TEXT NOT NULL,
  activated_at DOUBLE PRECISION NOT NULL
);

CREATE TABLE audit_records (
  seq BIGINT PRIMARY KEY,
  ts DOUBLE PRECISION NOT NULL,
  kind TEXT NOT NULL,
  agent TEXT,
  task TEXT,
  tool TEXT,
  decision TEXT,
  decision_id TEXT,
  body BYTEA NOT NULL,
  prev_hash BYTEA NOT NULL,
  hash BYTEA NOT NULL
);
CREATE INDEX audit_by_agent ON audit_records (agent, seq);
CREATE INDEX audit_by_task ON audit_records (task, seq);
CREATE INDEX audit_by_tool ON audit_records (tool, seq);
CREATE INDEX audit_by_decision ON audit_records (decision, seq);
CREATE INDEX audit_by_decision_id ON audit_records (decision_id);

CREATE FUNCTION proctor_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only';
END;
$$;
CREATE TRIGGER audit_records_no_update BEFORE UPDATE OR DELETE ON audit_records
  FOR EACH ROW EXECUTE FUNCTION proctor_audit_append_only();
-- Row triggers do not fire on TRUNCATE, so refuse it with a statement trigger.
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION proctor_audit_append_only();

CREATE TABLE audit_checkpoints (
  seq BIGINT PRIMARY KEY,
  head_hash BYTEA NOT NULL,
  ts DOUBLE PRECISION NOT NULL,
  kid TEXT NOT NULL,
  signature BYTEA NOT NULL
);
