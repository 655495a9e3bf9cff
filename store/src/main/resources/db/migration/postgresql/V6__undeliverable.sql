-- Cordon store, schema version 6, PostgreSQL: a reply the platform refused for good is given up on
-- (see the SQLite migration of the same version).

ALTER TABLE outbound ADD COLUMN given_up_at BIGINT;
ALTER TABLE outbound ADD COLUMN given_up_reason TEXT;

DROP INDEX outbound_undelivered;
CREATE INDEX outbound_undelivered ON outbound (chat_id, id) WHERE delivered_at IS NULL AND given_up_at IS NULL;
