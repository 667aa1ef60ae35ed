-- A new record kind, "directory": the provider's numbers to phone and staff names, one document
-- per provider (doorstep_model::directory). As in 05, `documents` is rebuilt to widen its CHECK;
-- migrations run with foreign keys off, so dropping the old table cascades nowhere.
CREATE TABLE documents_new (
    doc_no            INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('person', 'visit', 'note', 'insight', 'shared', 'directory')),
    snapshot          BLOB NOT NULL,
    change_count      INTEGER NOT NULL DEFAULT 0,
    change_bytes      INTEGER NOT NULL DEFAULT 0,
    updated_at        INTEGER NOT NULL,
    heads             BLOB,
    hub_heads         BLOB,
    sync_pending      INTEGER NOT NULL DEFAULT 1,
    held_back         TEXT
) STRICT;
INSERT INTO documents_new (doc_no, id, kind, snapshot, change_count, change_bytes, updated_at, heads, hub_heads,
                           sync_pending, held_back)
    SELECT doc_no, id, kind, snapshot, change_count, change_bytes, updated_at, heads, hub_heads, sync_pending, held_back
    FROM documents;
DROP TABLE documents;
ALTER TABLE documents_new RENAME TO documents;
CREATE INDEX documents_sync_pending ON documents (doc_no) WHERE sync_pending = 1;
CREATE INDEX documents_held_back ON documents (doc_no) WHERE held_back IS NOT NULL;
