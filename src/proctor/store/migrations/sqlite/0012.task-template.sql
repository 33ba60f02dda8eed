-- depends: 0011.delegation
-- A task started from a template keeps the template's name (docs/adr/0029, amendment 2026-12-05):
-- the next task an agent starts from the same template without a person (stdio, OAuth) starts
-- with the labels of its recent ones and counts their calls against the template's budget.
ALTER TABLE tasks ADD COLUMN template TEXT;
CREATE INDEX tasks_agent_template ON tasks (agent, template);
