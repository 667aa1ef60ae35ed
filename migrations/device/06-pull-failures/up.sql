-- Records the hub sent that this device could not apply, with why: shown on the sync badge and
-- fetched again whole (the Automerge sync protocol) until they apply, never skipped silently.
CREATE TABLE pull_failures (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    failed_at  INTEGER NOT NULL
) STRICT;
