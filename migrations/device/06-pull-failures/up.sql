-- Records the hub sent that this device could not apply, with why: shown on the sync badge and
-- fetched again whole (the Automerge sync protocol) until they apply, never skipped silently.
CREATE TABLE pull_failures (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    failed_at  INTEGER NOT NULL
) STRICT;

-- The hub is told at every sync how many records this device holds back (for the office's
-- devices page): counted from this index, not a scan of every document.
CREATE INDEX documents_held_back ON documents (doc_no) WHERE held_back IS NOT NULL;
