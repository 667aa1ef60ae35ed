-- Mirrors migrations/hub/sqlite/03-partner-web.
CREATE TABLE web_users (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organisations (id),
    email            TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('partner', 'commissioner', 'manager')),
    password_hash    TEXT NOT NULL,
    failed_attempts  BIGINT NOT NULL DEFAULT 0,
    locked_until     BIGINT,
    created_at       BIGINT NOT NULL
);

CREATE TABLE web_sessions (
    token_hash  BYTEA PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES web_users (id),
    csrf        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE doc_facts (
    doc_id     TEXT PRIMARY KEY REFERENCES documents (id),
    kind       TEXT NOT NULL COLLATE "C",
    owner_org  TEXT NOT NULL COLLATE "C",
    facts      TEXT NOT NULL
);
CREATE INDEX doc_facts_by_kind ON doc_facts (kind, owner_org);

DELETE FROM doc_access
WHERE principal LIKE 'partner:%' AND doc_id IN (SELECT id FROM documents WHERE kind = 'insight');
