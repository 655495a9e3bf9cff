-- Cordon store, schema version 10, PostgreSQL: deleting an agent. The same as
-- ../sqlite/V10__agent_delete.sql, whose comments explain it; PostgreSQL drops the constraint in place.

ALTER TABLE agents ADD COLUMN deleted_at BIGINT;

ALTER TABLE agents DROP CONSTRAINT agents_name_key;

CREATE UNIQUE INDEX agents_live_name ON agents (name) WHERE deleted_at IS NULL;
