-- Cordon store, schema version 8, PostgreSQL: an outbound message carries its options
-- (see the SQLite migration of the same version).

ALTER TABLE outbound ADD COLUMN options TEXT;
