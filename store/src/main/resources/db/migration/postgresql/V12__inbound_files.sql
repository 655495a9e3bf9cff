-- Cordon store, schema version 12, PostgreSQL: the files a person sent with an inbound message (see
-- the SQLite migration of the same version).

CREATE TABLE inbound_files (
    inbound_id BIGINT  NOT NULL REFERENCES inbound (id),
    position   INTEGER NOT NULL CHECK (position >= 0),
    name       TEXT    NOT NULL,
    media_type TEXT    NOT NULL,
    size       BIGINT  NOT NULL CHECK (size >= -1),
    sha256     TEXT,
    problem    TEXT,
    PRIMARY KEY (inbound_id, position),
    CHECK ((sha256 IS NULL) <> (problem IS NULL))
);
