-- Mirrors migrations/hub/sqlite/10-commissioning.
CREATE TABLE commissioning_agreements (
    commissioner_org TEXT NOT NULL REFERENCES organisations (id),
    provider_org TEXT NOT NULL REFERENCES organisations (id),
    districts TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (commissioner_org, provider_org)
);

CREATE TABLE trend_snapshots (
    commissioner_org TEXT NOT NULL,
    week TEXT NOT NULL,
    counts TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (commissioner_org, week)
);

DELETE FROM doc_facts WHERE kind IN ('insight', 'note');
