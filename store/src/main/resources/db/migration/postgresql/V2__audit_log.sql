-- Cordon store, schema version 2, PostgreSQL: the tamper-evident audit log (docs/audit.md). The
-- same tables and rules as ../sqlite/V2__audit_log.sql, whose comments explain them.

CREATE TABLE audit (
    seq        BIGINT PRIMARY KEY CHECK (seq >= 1),
    time       BIGINT NOT NULL,
    actor_kind TEXT   NOT NULL CHECK (actor_kind IN ('user', 'agent', 'system')),
    actor_id   TEXT   NOT NULL,
    agent      TEXT,
    session_id BIGINT,
    action     TEXT   NOT NULL,
    decision   TEXT   NOT NULL CHECK (decision IN ('allow', 'deny', 'info')),
    rule       TEXT,
    reason     TEXT,
    details    TEXT   NOT NULL,
    prev_hash  BYTEA  NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash       BYTEA  NOT NULL CHECK (octet_length(hash) = 32)
);

CREATE TABLE audit_checkpoint (
    seq          BIGINT PRIMARY KEY CHECK (seq >= 0),
    hash         BYTEA  NOT NULL CHECK (octet_length(hash) = 32),
    created_at   BIGINT NOT NULL,
    previous_seq BIGINT NOT NULL,
    public_key   BYTEA  NOT NULL,
    signature    BYTEA  NOT NULL
);

-- Append-only, for every connection, TRUNCATE included: a bug or a stray statement in psql cannot
-- change or delete history. A role that owns the tables can drop these triggers; that is what the
-- hash chain and the signatures are for. The message is the trigger's argument.
CREATE FUNCTION cordon_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION cordon_refuse('the audit log is append-only');
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION cordon_refuse('the audit log is append-only');
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION cordon_refuse('the audit log is append-only');

CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION cordon_refuse('the audit log is append-only');
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION cordon_refuse('the audit log is append-only');
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION cordon_refuse('the audit log is append-only');
