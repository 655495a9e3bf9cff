-- Cordon store, schema version 5, SQLite: the model gateway's token and cost ledger (docs/budgets.md).
--
-- One row per model call the gateway forwarded to a provider. Rows are never changed or deleted
-- (a trigger refuses): budgets are sums over them, and `cordon usage` reads them.
--
-- * day is the UTC day (YYYY-MM-DD) the call was reserved on, the day whose budget it counts against.
-- * cost_micros is in millionths of a US dollar; 0 when priced = 0 (no price known for the model).
-- * reported = 0: the answer broke off before the provider reported its tokens, so the call was
--   charged the most it could have used (what was reserved for it).

CREATE TABLE model_usage (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id           INTEGER NOT NULL REFERENCES agents (id),
    chat_id            INTEGER NOT NULL REFERENCES chats (id),
    session_id         INTEGER NOT NULL REFERENCES sessions (id),
    call_id            TEXT    NOT NULL,
    at                 INTEGER NOT NULL,
    day                TEXT    NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    model              TEXT    NOT NULL,
    input_tokens       INTEGER NOT NULL CHECK (input_tokens >= 0),
    output_tokens      INTEGER NOT NULL CHECK (output_tokens >= 0),
    cache_read_tokens  INTEGER NOT NULL CHECK (cache_read_tokens >= 0),
    cache_write_tokens INTEGER NOT NULL CHECK (cache_write_tokens >= 0),
    cost_micros        INTEGER NOT NULL CHECK (cost_micros >= 0),
    priced             INTEGER NOT NULL CHECK (priced IN (0, 1)),
    reported           INTEGER NOT NULL CHECK (reported IN (0, 1))
) STRICT;

-- The sums a budget check reads before every call: an agent's day and month, a chat's day.
CREATE INDEX model_usage_agent_day ON model_usage (agent_id, day);
CREATE INDEX model_usage_chat_day ON model_usage (chat_id, day);

CREATE TRIGGER model_usage_no_update BEFORE UPDATE ON model_usage
BEGIN
    SELECT RAISE(ABORT, 'the model usage ledger is append-only');
END;

CREATE TRIGGER model_usage_no_delete BEFORE DELETE ON model_usage
BEGIN
    SELECT RAISE(ABORT, 'the model usage ledger is append-only');
END;
