-- The partner hub's web side: people who sign in with a password (partners, commissioners,
-- provider managers), their sessions, and per-document facts the pages list and count.

CREATE TABLE web_users (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organisations (id),
    email            TEXT NOT NULL UNIQUE,      -- stored lower-case
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('partner', 'commissioner', 'manager')),
    password_hash    TEXT NOT NULL,             -- argon2id PHC string
    failed_attempts  INTEGER NOT NULL DEFAULT 0,
    locked_until     INTEGER,                   -- unix ms
    created_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE web_sessions (
    token_hash  BLOB PRIMARY KEY,               -- SHA-256 of the cookie's secret
    user_id     TEXT NOT NULL REFERENCES web_users (id),
    csrf        TEXT NOT NULL,                  -- the token every form of this session carries
    expires_at  INTEGER NOT NULL
) STRICT;

-- What the hub learnt from a document when it was written, as JSON (see doc_facts.rs): shared
-- items for partners' inboxes, ideas and notes for commissioners' counts, people's areas.
CREATE TABLE doc_facts (
    doc_id     TEXT PRIMARY KEY REFERENCES documents (id),
    kind       TEXT NOT NULL,
    owner_org  TEXT NOT NULL,
    facts      TEXT NOT NULL
) STRICT;
CREATE INDEX doc_facts_by_kind ON doc_facts (kind, owner_org);

-- Partners now read only the shared items made for them, never the provider's insights.
DELETE FROM doc_access
WHERE principal LIKE 'partner:%' AND doc_id IN (SELECT id FROM documents WHERE kind = 'insight');
