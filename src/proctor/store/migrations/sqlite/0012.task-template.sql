-- depends: 0011.delegation
-- A task started from a template keeps the template's name (docs/adr/0029, amendment 2026-12-05):
-- the next task an agent starts from the same template without a person (stdio, OAuth) starts
-- with the labels of its recent ones and counts their calls against the template's budget.
ALTER TABLE tasks ADD COLUMN template TEXT;
CREATE INDEX tasks_agent_template ON tasks (agent, template);
-- An expiry not yet audited: when the sweeper claimed it (expire_tasks sets it, the sweeper clears
-- it once `task.expired` is durable). A claim left behind by a crash between the two is taken
-- again by a later sweep, which writes the record then (NULL: audited, or not expired).
ALTER TABLE tasks ADD COLUMN expiry_claim REAL;
