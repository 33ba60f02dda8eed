-- depends: 0008.flow
-- Task templates (sqlite): a named, stored task intent that listed agents may start a task from
-- (`proctor template add`, a stdio client's `--template`). See docs/adr/0029-task-templates-and-stdio-attestation.md.
CREATE TABLE task_templates (
  name TEXT PRIMARY KEY,              -- [a-z0-9][a-z0-9._-]{0,62}
  purpose TEXT NOT NULL,
  allow TEXT NOT NULL,                -- JSON list of tool patterns
  resources TEXT NOT NULL,            -- JSON list of resource patterns
  ttl_s REAL NOT NULL,
  max_calls INTEGER,
  requested_by TEXT,                  -- NULL: whoever starts the task is its requester
  agents TEXT NOT NULL,               -- JSON list of the agents that may start a task from it
  params TEXT NOT NULL,               -- JSON object of intent parameters
  created_at REAL NOT NULL,
  created_by TEXT NOT NULL
);
