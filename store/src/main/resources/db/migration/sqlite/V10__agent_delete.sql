-- Cordon store, schema version 10, SQLite: deleting an agent (docs/agents.md#deleting-an-agent).
--
-- A deleted agent keeps its row, so every message, session, approval and audit entry that names
-- its id still points at it; deleted_at marks it. Its name is freed for a new agent: the name is
-- unique only among live agents (a partial unique index), so `agents create sales` works again and
-- makes a new row with a new id, which shares nothing with the old one.
--
-- SQLite cannot drop a UNIQUE constraint, so the table is rebuilt. defer_foreign_keys holds the
-- checks of the tables that reference agents (id) until commit: the rows come back with the same
-- ids before then, so nothing is orphaned. It applies to this transaction only.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE agents_v9 AS SELECT id, name, created_at FROM agents;

DROP TABLE agents;

CREATE TABLE agents (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER
) STRICT;

INSERT INTO agents (id, name, created_at) SELECT id, name, created_at FROM agents_v9 ORDER BY id;

DROP TABLE agents_v9;

CREATE UNIQUE INDEX agents_live_name ON agents (name) WHERE deleted_at IS NULL;
