-- Cordon store, schema version 8, SQLite: an outbound message carries the options its reader picks
-- one of (an ask_user question, an approval card).
--
-- options is a JSON array of strings, NULL for a message without options. Delivery passes them to
-- the channel: buttons where the platform has them, a numbered list where it has not.

ALTER TABLE outbound ADD COLUMN options TEXT;
