-- Mirrors migrations/hub/sqlite/04-audit-chain: the audit log is append-only and hash-chained
-- (see crates/doorstep-hub/src/audit.rs). Entries written before this migration have NULL
-- hashes until the hub chains them when it next connects (`PostgresStorage::connect`), which
-- the trigger allows exactly once per entry.
ALTER TABLE audit_log ADD COLUMN prev_hash BYTEA;
ALTER TABLE audit_log ADD COLUMN hash BYTEA;

-- Against accidents, not against someone who can drop triggers: the chain catches that.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.prev_hash IS NULL OR NEW.hash IS NULL THEN
            RAISE EXCEPTION 'audit_log is hash-chained: an entry needs prev_hash and hash';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL
        AND (NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.doc_id, NEW.allowed, NEW.detail)
            IS NOT DISTINCT FROM (OLD.seq, OLD.at, OLD.actor, OLD.action, OLD.doc_id, OLD.allowed, OLD.detail)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE INSERT OR UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
