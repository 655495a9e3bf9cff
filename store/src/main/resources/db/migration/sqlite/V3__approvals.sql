-- Cordon store, schema version 3, SQLite: human approvals (docs/approvals.md).
--
-- One row per question a person was asked. The row is also the grant its answer made: a granted row
-- decides later matching requests (same agent, kind and subject; for scope 'once' and 'session' also
-- the same session) while uses < max_uses and grant_expires_at has not passed. Rows are never
-- deleted (NanoClaw deletes its approval rows; the history here is what an auditor reads), only
-- moved out of 'pending' once and counted up in 'uses'.
--
-- * payload is the requester's full argument map as a JSON object of strings: what the approver saw.
-- * subject is what a grant is about: the payload in canonical JSON (keys sorted), so a grant never
--   covers a request that differs in any argument.
-- * expires_at is when a pending request is denied for want of an answer; grant_expires_at (null:
--   never) is when a grant stops matching. max_uses null: no limit.

CREATE TABLE approvals (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id         INTEGER NOT NULL REFERENCES agents (id),
    session_id       INTEGER NOT NULL REFERENCES sessions (id),
    chat_id          INTEGER NOT NULL REFERENCES chats (id),
    kind             TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    summary          TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    requested_at     INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'granted', 'denied', 'expired')),
    decided_by       TEXT,
    decided_at       INTEGER,
    reason           TEXT,
    scope            TEXT    CHECK (scope IN ('once', 'session', 'always')),
    max_uses         INTEGER CHECK (max_uses >= 1),
    uses             INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    grant_expires_at INTEGER,
    CHECK ((status = 'granted') = (scope IS NOT NULL)),
    CHECK (max_uses IS NULL OR uses <= max_uses)
) STRICT;

-- What `cordon approvals list` reads, and what the start-up re-arms timers for.
CREATE INDEX approvals_pending ON approvals (id) WHERE status = 'pending';
-- The grant lookup on every request: live grants only.
CREATE INDEX approvals_granted ON approvals (agent_id, kind, subject) WHERE status = 'granted';

-- History is kept: a row can be decided, counted and read, never removed.
CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals
BEGIN
    SELECT RAISE(ABORT, 'approvals are kept: a decided request is history, not garbage');
END;
