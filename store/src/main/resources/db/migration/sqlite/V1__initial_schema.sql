-- Cordon store, schema version 1, SQLite.
-- Applied migrations are never edited (Flyway checks their checksums at start-up): change the
-- schema by adding V2__..., V3__... beside this file.
--
-- Conventions:
--   * Times are epoch milliseconds, UTC (INTEGER).
--   * Ids are AUTOINCREMENT so an id is never reused, even after a delete: audit records and
--     idempotency keys may name old rows. Insertion order = id order = "oldest first".
--   * Tables are STRICT: a value of the wrong type is an error instead of being stored as-is.
--   * Enum-like columns carry a CHECK with every allowed value.

CREATE TABLE agents (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE chats (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    channel          TEXT    NOT NULL,
    platform_chat_id TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    UNIQUE (channel, platform_chat_id)
) STRICT;

-- One wiring per chat: wiring a chat again replaces the row.
CREATE TABLE wirings (
    chat_id    INTEGER PRIMARY KEY REFERENCES chats (id),
    agent_id   INTEGER NOT NULL REFERENCES agents (id),
    updated_at INTEGER NOT NULL
) STRICT;

-- thread_key is '' for a chat-wide session.
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id   INTEGER NOT NULL REFERENCES agents (id),
    chat_id    INTEGER NOT NULL REFERENCES chats (id),
    thread_key TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (agent_id, chat_id, thread_key)
) STRICT;

-- The inbox. UNIQUE (chat_id, platform_message_id) is the dedup key of Store.storeInbound: a
-- channel that redelivers a message after a lost ack stores nothing new. Per chat, because
-- platforms number messages per chat (Telegram message_id, Slack ts).
CREATE TABLE inbound (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id          INTEGER NOT NULL REFERENCES sessions (id),
    chat_id             INTEGER NOT NULL REFERENCES chats (id),
    channel             TEXT    NOT NULL,
    platform_message_id TEXT    NOT NULL,
    sender_id           TEXT    NOT NULL,
    text                TEXT    NOT NULL,
    state               TEXT    NOT NULL CHECK (state IN ('PENDING', 'CLAIMED', 'DONE')),
    received_at         INTEGER NOT NULL,
    claimed_at          INTEGER,
    done_at             INTEGER,
    UNIQUE (chat_id, platform_message_id)
) STRICT;

-- Partial indexes hold only live rows, so they stay small however long the history grows.
-- SQLite uses them only when a query spells the same literal (state = 'PENDING'), never a bound
-- parameter: keep the literals in the queries.
CREATE INDEX inbound_pending ON inbound (session_id, id) WHERE state = 'PENDING';
CREATE INDEX inbound_claimed ON inbound (id) WHERE state = 'CLAIMED';

-- The outbox. idempotency_key makes storing a reply twice (a retried turn) store one row.
CREATE TABLE outbound (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id             INTEGER NOT NULL REFERENCES chats (id),
    session_id          INTEGER NOT NULL REFERENCES sessions (id),
    in_reply_to         INTEGER REFERENCES inbound (id),
    text                TEXT    NOT NULL,
    failed              INTEGER NOT NULL CHECK (failed IN (0, 1)),
    idempotency_key     TEXT    NOT NULL UNIQUE,
    created_at          INTEGER NOT NULL,
    delivered_at        INTEGER,
    platform_message_id TEXT
) STRICT;

-- Delivery (undelivered by chat, and the whole-outbox sweep) reads only this small index.
CREATE INDEX outbound_undelivered ON outbound (chat_id, id) WHERE delivered_at IS NULL;
-- recentOutbound (a chat's history, delivered or not).
CREATE INDEX outbound_by_chat ON outbound (chat_id, id);

-- message is one dev.cordon.protocol.ChatMessage as JSON (Wire.mapper()); seq counts from 0 per session.
CREATE TABLE transcript (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    seq        INTEGER NOT NULL,
    message    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (session_id, seq)
) STRICT;
