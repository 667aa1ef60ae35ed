-- The audit log is append-only and hash-chained (see crates/doorstep-hub/src/audit.rs).
-- Each entry holds the hash of the entry before it (32 zero bytes for the first) and its own
-- hash: SHA-256 over that previous hash and the entry's fields. Entries written before this
-- migration have NULL hashes until the hub chains them when it next opens the database
-- (`SqliteStorage::open`), which the update trigger below allows exactly once per entry.
ALTER TABLE audit_log ADD COLUMN prev_hash BLOB;
ALTER TABLE audit_log ADD COLUMN hash BLOB;

-- Against accidents, not against someone who can drop triggers: the chain catches that.
CREATE TRIGGER audit_log_insert_chained BEFORE INSERT ON audit_log
WHEN NEW.prev_hash IS NULL OR NEW.hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_log is hash-chained: an entry needs prev_hash and hash');
END;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash IS NOT NULL
    OR NEW.seq IS NOT OLD.seq OR NEW.at IS NOT OLD.at OR NEW.actor IS NOT OLD.actor
    OR NEW.action IS NOT OLD.action OR NEW.doc_id IS NOT OLD.doc_id
    OR NEW.allowed IS NOT OLD.allowed OR NEW.detail IS NOT OLD.detail
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;
