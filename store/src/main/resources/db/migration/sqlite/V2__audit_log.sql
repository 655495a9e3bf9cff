-- Cordon store, schema version 2, SQLite: the tamper-evident audit log (docs/audit.md).
--
-- The chain (hashes, checkpoints, signatures) is computed in core (dev.cordon.core.audit) over a
-- canonical byte encoding of these columns; the columns are only where the values live. Nothing
-- here is trusted by verify: it recomputes every hash from the values.
--
-- * seq is assigned by the log (one writer), not by SQLite: no AUTOINCREMENT. A gap is a deletion.
-- * No foreign keys: the log records names and ids as they were, including ones that were never
--   stored (a message dropped from an unknown chat) or are gone since.
-- * details is a JSON object of strings, whole numbers and booleans (AuditJson.details).
-- * CHECKs keep values inside the sets the log can read; they are not a security measure.

CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY CHECK (seq >= 1),
    time       INTEGER NOT NULL,
    actor_kind TEXT    NOT NULL CHECK (actor_kind IN ('user', 'agent', 'system')),
    actor_id   TEXT    NOT NULL,
    agent      TEXT,
    session_id INTEGER,
    action     TEXT    NOT NULL,
    decision   TEXT    NOT NULL CHECK (decision IN ('allow', 'deny', 'info')),
    rule       TEXT,
    reason     TEXT,
    details    TEXT    NOT NULL,
    prev_hash  BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash       BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- A signed statement "the entry at seq has this hash". seq 0 is the first checkpoint of a new log,
-- made before any entry, which records the public key. previous_seq chains the checkpoints.
CREATE TABLE audit_checkpoint (
    seq          INTEGER PRIMARY KEY CHECK (seq >= 0),
    hash         BLOB    NOT NULL CHECK (length(hash) = 32),
    created_at   INTEGER NOT NULL,
    previous_seq INTEGER NOT NULL,
    public_key   BLOB    NOT NULL,
    signature    BLOB    NOT NULL
) STRICT;

-- Append-only, for every connection: a bug (or a stray UPDATE in a sqlite3 shell) cannot change or
-- delete history. Whoever can write the file can drop these triggers; that is what the hash chain
-- and the signatures are for.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
