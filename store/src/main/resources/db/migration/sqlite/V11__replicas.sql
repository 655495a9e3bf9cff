-- Cordon store, schema version 11, SQLite: several daemon replicas on one database (docs/store.md,
-- "Several replicas"). SQLite keeps one daemon per file (the home's lock), so here these tables only
-- keep the schema equal to PostgreSQL's; a SQLite daemon records its claims as replica 'local'.
--
-- * replicas: one row per running daemon, its heartbeat. A row whose expires_at has passed is a dead
--   replica: a survivor returns its claimed messages to PENDING and drops its leases and its row.
-- * leases: what one replica holds at a time ('session:<id>' runs its turns, 'channel:<name>' holds
--   the platform connection). expires_at is renewed by the holder's heartbeat; once it has passed,
--   anyone may take the lease.
-- * inbound.claimed_by: the replica that claimed the message (NULL: claimed before version 11).

CREATE TABLE replicas (
    id           TEXT    PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX leases_by_owner ON leases (owner);

ALTER TABLE inbound ADD COLUMN claimed_by TEXT;
