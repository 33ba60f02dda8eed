-- depends: 0007.webhooks
-- Decisions that see the data (postgres). See docs/adr/0025-data-aware-decisions.md.
-- Tools gain the consequential-kind flags, their argument schema and destination arguments; tasks
-- gain their explicit intent parameters. Rows stored before this read back with the defaults.
ALTER TABLE tools ADD COLUMN access_control INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tools ADD COLUMN credential_change INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tools ADD COLUMN egress INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tools ADD COLUMN input_schema TEXT;                     -- canonical JSON Schema, or NULL
ALTER TABLE tools ADD COLUMN destinations TEXT NOT NULL DEFAULT '[]'; -- JSON list of argument paths
ALTER TABLE tasks ADD COLUMN params TEXT NOT NULL DEFAULT '{}';       -- JSON object: name -> value

-- The outputs a task read, kept for provenance matching: bounded per task (the oldest go first),
-- sealed by the caller under the workspace's secret store (never stored in clear), deleted when the
-- task ends. seq counts a task's outputs from 1 (flow_tasks.outputs) and is never reused.
CREATE TABLE flow_outputs (
  task_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  tool TEXT NOT NULL,
  trust TEXT NOT NULL,                -- trusted | untrusted
  sensitivity TEXT NOT NULL,          -- public | internal | confidential | secret
  reasons TEXT NOT NULL,              -- JSON list: kinds and fingerprints, never content
  sealed BYTEA NOT NULL,
  size BIGINT NOT NULL,              -- bytes of the output before sealing
  at DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (task_id, seq)
);

-- A task's high-water mark of what it read: survives the eviction and deletion of its outputs.
CREATE TABLE flow_tasks (
  task_id TEXT PRIMARY KEY REFERENCES tasks(id),
  read_untrusted INTEGER NOT NULL DEFAULT 0,
  max_sensitivity INTEGER NOT NULL DEFAULT 0,  -- 0 public … 3 secret
  untrusted_sources TEXT NOT NULL DEFAULT '[]', -- JSON list of tool names, sorted
  outputs BIGINT NOT NULL DEFAULT 0          -- outputs read, ever: the last seq given
);

-- Allowed and forwarded calls that match a declared counter (counters.yaml): what history reads.
-- vals holds Decimal text (sum) or keyed fingerprints (first_time), never argument values.
CREATE TABLE flow_events (
  id BIGSERIAL PRIMARY KEY,
  task_id TEXT NOT NULL,
  agent TEXT NOT NULL,
  tool TEXT NOT NULL,
  effect TEXT NOT NULL,
  at DOUBLE PRECISION NOT NULL,
  vals TEXT NOT NULL                  -- JSON list of [counter name, value]
);
CREATE INDEX flow_events_by_task ON flow_events (task_id, at);
CREATE INDEX flow_events_by_agent ON flow_events (agent, at);
