-- depends: 0012.task-template
-- A chain per writer (issue 19, docs/adr/0036-a-chain-per-writer.md): the same format as on
-- PostgreSQL. SQLite still serialises every write (BEGIN IMMEDIATE); `seq` is max + 1.
CREATE TABLE audit_writers (
  id INTEGER PRIMARY KEY,
  started_at REAL NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  info TEXT NOT NULL DEFAULT '',
  first_seq INTEGER
);
INSERT INTO audit_writers (id, started_at, host, pid, info, first_seq)
  VALUES (0, 0, '', 0, 'legacy: the single chain written before per-writer chains',
          (SELECT min(seq) FROM audit_records));

ALTER TABLE audit_records ADD COLUMN writer INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_records ADD COLUMN wseq INTEGER NOT NULL DEFAULT 0;
DROP TRIGGER audit_records_no_update;
UPDATE audit_records SET wseq = seq;
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE UNIQUE INDEX audit_by_writer ON audit_records (writer, wseq);

ALTER TABLE audit_checkpoints ADD COLUMN writer INTEGER NOT NULL DEFAULT 0;
CREATE INDEX audit_checkpoints_by_writer ON audit_checkpoints (writer, seq);
