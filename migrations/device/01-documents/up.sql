-- The device's source of truth: Automerge documents. A document is a compact snapshot plus the
-- incremental changes appended since; the store folds the changes into a new snapshot past a
-- threshold. Everything else in this database is a projection of these rows.
CREATE TABLE documents (
    doc_no            INTEGER PRIMARY KEY,  -- stable integer key, shared with the search index
    id                TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('person', 'visit', 'note', 'insight')),
    snapshot          BLOB NOT NULL,
    change_count      INTEGER NOT NULL DEFAULT 0,  -- incremental changes not yet folded in
    change_bytes      INTEGER NOT NULL DEFAULT 0,
    updated_at        INTEGER NOT NULL             -- unix milliseconds
) STRICT;

CREATE TABLE document_changes (
    doc_no  INTEGER NOT NULL REFERENCES documents (doc_no) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    bytes   BLOB NOT NULL,
    PRIMARY KEY (doc_no, seq)
) STRICT, WITHOUT ROWID;

-- Facts about this device's store, such as its Automerge actor id.
CREATE TABLE device_settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) STRICT;
