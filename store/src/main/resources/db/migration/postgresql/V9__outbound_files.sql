-- Cordon store, schema version 9, PostgreSQL: a file an outbound message carries (see the SQLite
-- migration of the same version).

CREATE TABLE outbound_files (
    outbound_id BIGINT PRIMARY KEY REFERENCES outbound (id),
    name        TEXT   NOT NULL,
    media_type  TEXT   NOT NULL,
    size        BIGINT NOT NULL CHECK (size >= 0),
    sha256      TEXT   NOT NULL
);
