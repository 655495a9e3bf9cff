-- Cordon store, schema version 4, SQLite: users' roles, chats' sender policy, held senders and
-- pairing codes (docs/access.md). Version 3 belongs to the approvals work.
--
-- Users are text 'channel:platform-user-id' (dev.cordon.core.access.UserId): a user is not a row of
-- its own, it exists by having a role. terminal:owner is built in and never stored.

-- agent_id NULL = a global grant. An owner is always global.
CREATE TABLE role_grants (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    agent_id   INTEGER REFERENCES agents (id),
    granted_by TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    CHECK (role <> 'owner' OR agent_id IS NULL)
) STRICT;

-- One row per (user, role, scope). NULLs are distinct in a UNIQUE index, hence the COALESCE
-- (agent ids start at 1).
CREATE UNIQUE INDEX role_grants_unique ON role_grants (user_id, role, COALESCE(agent_id, 0));

-- A chat without a row has the default policy (strict), decided in core, not here.
CREATE TABLE chat_policies (
    chat_id       INTEGER PRIMARY KEY REFERENCES chats (id),
    sender_policy TEXT    NOT NULL CHECK (sender_policy IN ('strict', 'approval', 'public')),
    updated_by    TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- A sender without a role in a chat with the approval policy. sender_id is the platform's id (the
-- channel is the chat's). Decided rows stay as history; a REFUSED row keeps refusing that sender in
-- that chat.
CREATE TABLE sender_requests (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL REFERENCES chats (id),
    agent_id   INTEGER NOT NULL REFERENCES agents (id),
    sender_id  TEXT    NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('PENDING', 'ADMITTED', 'REFUSED')),
    created_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER
) STRICT;

-- At most one pending request per sender and chat: later messages join it.
CREATE UNIQUE INDEX sender_requests_pending ON sender_requests (chat_id, sender_id) WHERE state = 'PENDING';
CREATE INDEX sender_requests_by_sender ON sender_requests (chat_id, sender_id, id);

-- Messages held for a pending request. Moved into inbound on admit, deleted on refuse (both in the
-- transaction that decides). UNIQUE: a redelivered held message is held once.
CREATE TABLE held_inbound (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id          INTEGER NOT NULL REFERENCES sender_requests (id),
    chat_id             INTEGER NOT NULL REFERENCES chats (id),
    platform_message_id TEXT    NOT NULL,
    sender_id           TEXT    NOT NULL,
    text                TEXT    NOT NULL,
    received_at         INTEGER NOT NULL,
    UNIQUE (chat_id, platform_message_id)
) STRICT;

CREATE INDEX held_inbound_by_request ON held_inbound (request_id, id);

-- One-time pairing codes, by SHA-256 of the code: the code itself is shown once and never stored.
CREATE TABLE pairing_codes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash    BLOB    NOT NULL UNIQUE CHECK (length(code_hash) = 32),
    agent_id     INTEGER NOT NULL REFERENCES agents (id),
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    used_by      TEXT,
    used_chat_id INTEGER REFERENCES chats (id),
    used_message TEXT
) STRICT;

-- The message that used a code, so that its redelivery (a lost ack) is recognised and never
-- reaches the agent the code wired the chat to.
CREATE INDEX pairing_codes_used ON pairing_codes (used_chat_id, used_message) WHERE used_at IS NOT NULL;
