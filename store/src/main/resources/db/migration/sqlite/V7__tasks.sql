-- Cordon store, schema version 7, SQLite: scheduled tasks and their run history (docs/tasks.md).
--
-- * schedule_kind/schedule_spec is core/task/Schedule as stored (Schedule.parse reads it back);
--   zone is an IANA time zone id, in which a cron expression reads the wall clock.
-- * next_run_at is the next due instant (epoch ms), NULL once the task is DONE or CANCELLED. The
--   scheduler's timer waits for the smallest one; after downtime, runs that fell due are caught up
--   by catch_up.
-- * session_id is the session runs take place in: the origin chat's (ORIGIN), or the task's own,
--   made at its first run (ISOLATED, thread 'task-<id>' of the destination chat).
-- * A run is a message in the inbox (inbound_id); its status, start and duration are read from that
--   message and its reply, so they are never stored twice. SKIPPED rows have no message.

CREATE TABLE tasks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id      INTEGER NOT NULL REFERENCES agents (id),
    prompt        TEXT    NOT NULL,
    schedule_kind TEXT    NOT NULL CHECK (schedule_kind IN ('at', 'every', 'cron')),
    schedule_spec TEXT    NOT NULL,
    zone          TEXT    NOT NULL,
    chat_id       INTEGER NOT NULL REFERENCES chats (id),
    session_mode  TEXT    NOT NULL CHECK (session_mode IN ('ISOLATED', 'ORIGIN')),
    session_id    INTEGER REFERENCES sessions (id),
    catch_up      TEXT    NOT NULL CHECK (catch_up IN ('SKIP', 'ONCE', 'ALL')),
    paused        INTEGER NOT NULL CHECK (paused IN (0, 1)),
    state         TEXT    NOT NULL CHECK (state IN ('ACTIVE', 'DONE', 'CANCELLED')),
    next_run_at   INTEGER,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

-- The timer's one read (earliest due) and the due list: only live tasks, however many ended.
CREATE INDEX tasks_due ON tasks (next_run_at) WHERE state = 'ACTIVE' AND paused = 0;
CREATE INDEX tasks_by_agent ON tasks (agent_id, id);

CREATE TABLE task_runs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id    INTEGER NOT NULL REFERENCES tasks (id),
    due_at     INTEGER NOT NULL,
    fired_at   INTEGER NOT NULL,
    inbound_id INTEGER REFERENCES inbound (id),
    skipped    INTEGER NOT NULL CHECK (skipped >= 0),
    manual     INTEGER NOT NULL CHECK (manual IN (0, 1))
) STRICT;

CREATE INDEX task_runs_by_task ON task_runs (task_id, id);
-- A run's outcome is the reply to its message.
CREATE INDEX outbound_in_reply_to ON outbound (in_reply_to);
