-- A new record kind, "shared": what one partner organisation receives of an insight. SQLite
-- cannot change a CHECK constraint in place, so `documents` is rebuilt (the documented
-- "other kinds of table schema changes" procedure). `Store::open` runs migrations with foreign
-- keys off, so dropping the old table does not cascade into the changes and projections.
CREATE TABLE documents_new (
    doc_no            INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('person', 'visit', 'note', 'insight', 'shared')),
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

-- What each partner organisation was sent of an insight (one shared item each), where it stands,
-- and the partners' answers. Rewritten with the document, like every projection.
CREATE TABLE shared_items (
    doc_no          INTEGER PRIMARY KEY REFERENCES documents (doc_no) ON DELETE CASCADE,
    id              TEXT NOT NULL UNIQUE,
    insight_id      TEXT NOT NULL,
    partner_id      TEXT NOT NULL,
    partner_name    TEXT NOT NULL,
    partner_kind    TEXT NOT NULL,      -- PartnerKind code
    purpose         TEXT NOT NULL,
    shared_by       TEXT NOT NULL,
    shared_at       INTEGER NOT NULL,   -- unix milliseconds
    identified      INTEGER NOT NULL,   -- whether the person's details went (their consent covers the partner)
    status          TEXT NOT NULL,      -- SharedStatus code: new, acknowledged, action_taken, …, revoked
    latest_outcome  TEXT,               -- the newest response, if any
    latest_message  TEXT,
    latest_by       TEXT,
    latest_at       INTEGER,
    revoked         INTEGER NOT NULL,
    revoked_by      TEXT,
    revoked_at      INTEGER
) STRICT;
CREATE INDEX shared_items_by_insight ON shared_items (insight_id, shared_at);

-- Every partner response of a shared item, oldest first by `at`.
CREATE TABLE shared_responses (
    doc_no   INTEGER NOT NULL REFERENCES documents (doc_no) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    outcome  TEXT NOT NULL,   -- ResponseOutcome code
    message  TEXT NOT NULL,
    by_name  TEXT NOT NULL,
    at       INTEGER NOT NULL
) STRICT;
CREATE INDEX shared_responses_by_item ON shared_responses (doc_no, at);
