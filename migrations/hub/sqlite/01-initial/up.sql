-- The hub's schema on SQLite. The PostgreSQL schema (migrations/hub/postgres) mirrors it.
CREATE TABLE organisations (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    kind  TEXT NOT NULL CHECK (kind IN ('provider', 'partner'))
) STRICT;

CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    staff_ref   TEXT NOT NULL,
    role        TEXT NOT NULL,
    name        TEXT NOT NULL,
    token_hash  BLOB NOT NULL,          -- SHA-256 of the bearer token
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

CREATE TABLE enrolment_codes (
    code_hash   BLOB PRIMARY KEY,       -- SHA-256 of the one-time code
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    staff_ref   TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    device_id   TEXT
) STRICT;

-- One sequence for changes, grants and purges: a device's cursor is a position in it.
CREATE TABLE hub_sequence (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  INTEGER NOT NULL
) STRICT;
INSERT INTO hub_sequence (id, value) VALUES (1, 0);

CREATE TABLE documents (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    owner_org     TEXT NOT NULL,
    snapshot      BLOB NOT NULL DEFAULT x'',
    snapshot_seq  INTEGER NOT NULL DEFAULT 0    -- the snapshot holds every change up to here
) STRICT;

CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY,
    doc_id     TEXT NOT NULL REFERENCES documents (id),
    hash       BLOB NOT NULL,
    bytes      BLOB NOT NULL,
    device_id  TEXT NOT NULL,
    UNIQUE (doc_id, hash)                        -- a retried push stores nothing twice
) STRICT;
CREATE INDEX changes_by_doc ON changes (doc_id, seq);

-- Who may read each document, decided when it is written and stored with it.
CREATE TABLE doc_access (
    principal    TEXT NOT NULL,                  -- manager:<org>, carer:<org>:<staff>, partner:<org>
    doc_id       TEXT NOT NULL REFERENCES documents (id),
    granted_seq  INTEGER NOT NULL,
    via_device   TEXT,                           -- the device whose write granted it (already has it)
    PRIMARY KEY (principal, doc_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX doc_access_by_doc ON doc_access (doc_id);
CREATE INDEX doc_access_by_grant ON doc_access (principal, granted_seq);

CREATE TABLE purges (
    seq        INTEGER PRIMARY KEY,
    principal  TEXT NOT NULL,
    doc_id     TEXT NOT NULL,
    kind       TEXT NOT NULL
) STRICT;
CREATE INDEX purges_by_principal ON purges (principal, seq);

-- Rota facts, so a carer's scope is worked out without reading documents.
CREATE TABLE visit_index (
    visit_id   TEXT PRIMARY KEY,
    owner_org  TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    day        TEXT NOT NULL,
    carer_1    TEXT NOT NULL,
    carer_2    TEXT
) STRICT;
CREATE INDEX visit_index_carer_1 ON visit_index (owner_org, carer_1, day);
CREATE INDEX visit_index_carer_2 ON visit_index (owner_org, carer_2, day);
CREATE INDEX visit_index_person ON visit_index (person_id);

CREATE TABLE note_index (
    note_id    TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL
) STRICT;
CREATE INDEX note_index_person ON note_index (person_id);

CREATE TABLE audit_log (
    seq      INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    doc_id   TEXT,
    allowed  INTEGER NOT NULL,
    detail   TEXT NOT NULL
) STRICT;
