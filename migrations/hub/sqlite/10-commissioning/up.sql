-- Commissioners count only what their agreements cover: which providers, and optionally which of
-- a provider's postcode districts ('' = all of them; otherwise districts separated by spaces).
CREATE TABLE commissioning_agreements (
    commissioner_org TEXT NOT NULL REFERENCES organisations (id),
    provider_org TEXT NOT NULL REFERENCES organisations (id),
    districts TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (commissioner_org, provider_org)
);

-- Each week's counts as first published to a commissioner (JSON, see trends.rs): a published week
-- never changes, so comparing two views over time reveals nothing a single view does not.
CREATE TABLE trend_snapshots (
    commissioner_org TEXT NOT NULL,
    week TEXT NOT NULL,              -- the week's Monday, YYYY-MM-DD (UK)
    counts TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (commissioner_org, week)
);

-- Ideas' and notes' facts now carry the day (weekly counts) and no free text: recomputed from the
-- documents when the hub starts (Hub::backfill_facts).
DELETE FROM doc_facts WHERE kind IN ('insight', 'note');
