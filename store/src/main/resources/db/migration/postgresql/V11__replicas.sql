-- Cordon store, schema version 11, PostgreSQL: several daemon replicas on one database (see the
-- SQLite migration of the same version, whose comments explain the tables).

CREATE TABLE replicas (
    id           TEXT   PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

CREATE TABLE leases (
    name       TEXT   PRIMARY KEY,
    owner      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX leases_by_owner ON leases (owner);

ALTER TABLE inbound ADD COLUMN claimed_by TEXT;

-- Wake-ups across replicas: a message that becomes PENDING (stored, or released from a dead
-- replica's claim) and a stored reply are announced on channel 'cordon' when their transaction
-- commits. Every replica LISTENs; the one that holds the session (or the recipient) acts, the
-- others find nothing to do. A trigger, so that no write path can forget to announce.
CREATE FUNCTION cordon_notify_inbound() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cordon', 'inbound:' || NEW.session_id);
    RETURN NULL;
END $$;

CREATE FUNCTION cordon_notify_outbound() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cordon', 'outbound:' || NEW.chat_id);
    RETURN NULL;
END $$;

CREATE TRIGGER inbound_notify_insert AFTER INSERT ON inbound
    FOR EACH ROW WHEN (NEW.state = 'PENDING') EXECUTE FUNCTION cordon_notify_inbound();
CREATE TRIGGER inbound_notify_release AFTER UPDATE OF state ON inbound
    FOR EACH ROW WHEN (NEW.state = 'PENDING' AND OLD.state <> 'PENDING') EXECUTE FUNCTION cordon_notify_inbound();
CREATE TRIGGER outbound_notify_insert AFTER INSERT ON outbound
    FOR EACH ROW EXECUTE FUNCTION cordon_notify_outbound();
