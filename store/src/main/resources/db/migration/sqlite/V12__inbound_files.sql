-- Cordon store, schema version 12, SQLite: the files a person sent with an inbound message
-- (docs/agents.md, "Files people send").
--
-- One row per file, in the message's order, stored in the same transaction as the message. A kept
-- file's bytes are in the home's file vault (data/files/<sha256>), written before this row; a file
-- that did not arrive (too large, the platform's download failed) has no sha256 and a problem that
-- the agent reads, and size is then what the platform declared (-1: it did not say).

CREATE TABLE inbound_files (
    inbound_id INTEGER NOT NULL REFERENCES inbound (id),
    position   INTEGER NOT NULL CHECK (position >= 0),
    name       TEXT    NOT NULL,
    media_type TEXT    NOT NULL,
    size       INTEGER NOT NULL CHECK (size >= -1),
    sha256     TEXT,
    problem    TEXT,
    PRIMARY KEY (inbound_id, position),
    CHECK ((sha256 IS NULL) <> (problem IS NULL))
) STRICT;
