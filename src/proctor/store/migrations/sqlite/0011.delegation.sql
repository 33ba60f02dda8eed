-- depends: 0010.oauth
-- Delegation (issue 17, docs/adr/0032-delegation.md): a delegated task keeps its chain of
-- accountability, root first and itself last, as a JSON list of [agent, task] pairs ('[]' for a
-- root task: the chain is the task alone). Children are found by their parent.
ALTER TABLE tasks ADD COLUMN chain TEXT NOT NULL DEFAULT '[]';
CREATE INDEX tasks_parent ON tasks (parent_id);
