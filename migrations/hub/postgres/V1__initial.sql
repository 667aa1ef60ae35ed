-- The hub's schema on PostgreSQL, mirroring migrations/hub/sqlite/01-initial/up.sql table for
-- table and index for index: ids are TEXT (uuid strings), blobs BYTEA, integers BIGINT.
-- Text that is compared or sorted (principals, days) uses the "C" collation, so ordering is
-- bytewise like SQLite's whatever the database's locale.
CREATE TABLE organisations (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    kind  TEXT NOT NULL CHECK (kind IN ('provider', 'partner'))
);

CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    staff_ref   TEXT NOT NULL,
    role        TEXT NOT NULL,
    name        TEXT NOT NULL,
    token_hash  BYTEA NOT NULL,         -- SHA-256 of the bearer token
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE enrolment_codes (
    code_hash   BYTEA PRIMARY KEY,      -- SHA-256 of the one-time code
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    staff_ref   TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    device_id   TEXT
);

-- One sequence for changes, grants and purges: a device's cursor is a position in it.
-- A row, not a SEQUENCE: it is only advanced under pg_advisory_xact_lock, so its committed
-- value is always the highest visible sequence number (a SEQUENCE hands out numbers that
-- may commit out of order, or never).
CREATE TABLE hub_sequence (
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    value  BIGINT NOT NULL
);
INSERT INTO hub_sequence (id, value) VALUES (1, 0);

CREATE TABLE documents (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    owner_org     TEXT NOT NULL,
    snapshot      BYTEA NOT NULL DEFAULT ''::bytea,
    snapshot_seq  BIGINT NOT NULL DEFAULT 0     -- the snapshot holds every change up to here
);

CREATE TABLE changes (
    seq        BIGINT PRIMARY KEY,
    doc_id     TEXT NOT NULL REFERENCES documents (id),
    hash       BYTEA NOT NULL,
    bytes      BYTEA NOT NULL,
    device_id  TEXT NOT NULL,
    UNIQUE (doc_id, hash)                        -- a retried push stores nothing twice
);
CREATE INDEX changes_by_doc ON changes (doc_id, seq);

-- Who may read each document, decided when it is written and stored with it.
CREATE TABLE doc_access (
    principal    TEXT COLLATE "C" NOT NULL,      -- manager:<org>, carer:<org>:<staff>, partner:<org>
    doc_id       TEXT NOT NULL REFERENCES documents (id),
    granted_seq  BIGINT NOT NULL,
    via_device   TEXT,                           -- the device whose write granted it (already has it)
    PRIMARY KEY (principal, doc_id)
);
CREATE INDEX doc_access_by_doc ON doc_access (doc_id);
CREATE INDEX doc_access_by_grant ON doc_access (principal, granted_seq);

CREATE TABLE purges (
    seq        BIGINT PRIMARY KEY,
    principal  TEXT COLLATE "C" NOT NULL,
    doc_id     TEXT NOT NULL,
    kind       TEXT NOT NULL
);
CREATE INDEX purges_by_principal ON purges (principal, seq);

-- Rota facts, so a carer's scope is worked out without reading documents.
CREATE TABLE visit_index (
    visit_id   TEXT PRIMARY KEY,
    owner_org  TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    day        TEXT COLLATE "C" NOT NULL,
    carer_1    TEXT NOT NULL,
    carer_2    TEXT
);
CREATE INDEX visit_index_carer_1 ON visit_index (owner_org, carer_1, day);
CREATE INDEX visit_index_carer_2 ON visit_index (owner_org, carer_2, day);
CREATE INDEX visit_index_person ON visit_index (person_id);

CREATE TABLE note_index (
    note_id    TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL
);
CREATE INDEX note_index_person ON note_index (person_id);

CREATE TABLE audit_log (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    doc_id   TEXT,
    allowed  BOOLEAN NOT NULL,
    detail   TEXT NOT NULL
);
