-- depends: 0001.initial
-- Tool pins (SQLite): the approved definition of each upstream MCP tool. See docs/adr/0007-tool-pinning.md.
CREATE TABLE tool_pins (
  name TEXT PRIMARY KEY,            -- Proctor tool name, `namespace.tool`
  namespace TEXT NOT NULL,
  upstream_tool TEXT NOT NULL,      -- the tool's name as the upstream spells it
  digest TEXT NOT NULL,             -- "sha256:" + hex of the canonical definition
  definition TEXT NOT NULL,         -- canonical JSON of name, description, input_schema
  pinned_at REAL NOT NULL,
  pinned_by TEXT NOT NULL
);
CREATE INDEX tool_pins_by_namespace ON tool_pins (namespace);
