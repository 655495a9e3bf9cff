-- Cordon store, schema version 6, SQLite: a reply the platform refused for good is given up on.
--
-- It stays in the outbox with why (never marked delivered), but no longer holds up the chat's
-- later replies: delivery reads only replies neither delivered nor given up.

ALTER TABLE outbound ADD COLUMN given_up_at INTEGER;
ALTER TABLE outbound ADD COLUMN given_up_reason TEXT;

DROP INDEX outbound_undelivered;
CREATE INDEX outbound_undelivered ON outbound (chat_id, id) WHERE delivered_at IS NULL AND given_up_at IS NULL;
