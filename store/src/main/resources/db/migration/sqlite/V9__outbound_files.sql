-- Cordon store, schema version 9, SQLite: a file an outbound message carries (send_file).
--
-- The bytes live in the home's file vault (data/files/<sha256>), written before this row; the row
-- is stored in the same transaction as its message, so delivery never sees the message without it.

CREATE TABLE outbound_files (
    outbound_id INTEGER PRIMARY KEY REFERENCES outbound (id),
    name        TEXT    NOT NULL,
    media_type  TEXT    NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    sha256      TEXT    NOT NULL
) STRICT;
