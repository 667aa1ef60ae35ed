-- A provider's manager releases each week's feed to the commissioners of its agreements: a week
-- is counted only from the providers that released it (or, after the deadline, from those that
-- had). One row per provider and week; the first release stands.
CREATE TABLE feed_releases (
    provider_org TEXT NOT NULL REFERENCES organisations (id),
    week TEXT NOT NULL,              -- the week's Monday, YYYY-MM-DD (UK)
    released_by TEXT NOT NULL,       -- the manager's name and e-mail, as the audit log names them
    released_at INTEGER NOT NULL,
    PRIMARY KEY (provider_org, week)
);
