-- SQL projections of the documents, rewritten in the same transaction as the document, so they
-- can never disagree. Cross-document references (a visit's person) carry no foreign key: a
-- device may receive a visit before the person it belongs to.
CREATE TABLE people (
    doc_no         INTEGER PRIMARY KEY REFERENCES documents (doc_no) ON DELETE CASCADE,
    id             TEXT NOT NULL UNIQUE,
    client_ref     TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    date_of_birth  TEXT,
    nhs_number     TEXT,
    spo2_scale     TEXT NOT NULL,
    pregnant       INTEGER NOT NULL
) STRICT;
CREATE INDEX people_by_client_ref ON people (client_ref);
CREATE INDEX people_by_name ON people (family_name, display_name);

CREATE TABLE visits (
    doc_no      INTEGER PRIMARY KEY REFERENCES documents (doc_no) ON DELETE CASCADE,
    id          TEXT NOT NULL UNIQUE,
    person_id   TEXT NOT NULL,
    day         TEXT NOT NULL,      -- YYYY-MM-DD, UK local date of the scheduled start
    starts_at   INTEGER NOT NULL,   -- unix milliseconds
    ends_at     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    carer_1     TEXT NOT NULL,
    carer_2     TEXT
) STRICT;
CREATE INDEX visits_by_day ON visits (day, starts_at);
CREATE INDEX visits_by_person ON visits (person_id, starts_at);
CREATE INDEX visits_by_carer_1 ON visits (carer_1, day);
CREATE INDEX visits_by_carer_2 ON visits (carer_2, day) WHERE carer_2 IS NOT NULL;

CREATE TABLE notes (
    doc_no             INTEGER PRIMARY KEY REFERENCES documents (doc_no) ON DELETE CASCADE,
    id                 TEXT NOT NULL UNIQUE,
    visit_id           TEXT NOT NULL,
    person_id          TEXT NOT NULL,
    soft_signs         TEXT NOT NULL,   -- codes of signs that are a change from usual, comma-separated
    soft_sign_changes  INTEGER NOT NULL,
    news2_total        INTEGER,         -- complete scores only
    news2_band         TEXT,
    updated_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX notes_by_person ON notes (person_id);
CREATE INDEX notes_by_visit ON notes (visit_id);

CREATE TABLE insights (
    doc_no      INTEGER PRIMARY KEY REFERENCES documents (doc_no) ON DELETE CASCADE,
    id          TEXT NOT NULL UNIQUE,
    person_id   TEXT,
    author      TEXT NOT NULL,
    status      TEXT NOT NULL,
    urgency     TEXT NOT NULL,
    summary     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX insights_by_status ON insights (status, created_at);
CREATE INDEX insights_by_person ON insights (person_id);

-- The deterioration watch per person, recomputed whenever one of their notes or visits changes.
CREATE TABLE deterioration_flags (
    person_id   TEXT PRIMARY KEY,
    level       TEXT NOT NULL CHECK (level IN ('clear', 'watch', 'concern')),
    reasons     TEXT NOT NULL,   -- JSON array of plain-English reasons
    updated_at  INTEGER NOT NULL
) STRICT;
