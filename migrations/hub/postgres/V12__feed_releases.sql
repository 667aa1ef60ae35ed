-- Mirrors migrations/hub/sqlite/12-feed-releases.
CREATE TABLE feed_releases (
    provider_org TEXT NOT NULL REFERENCES organisations (id),
    week TEXT NOT NULL,
    released_by TEXT NOT NULL,
    released_at BIGINT NOT NULL,
    PRIMARY KEY (provider_org, week)
);
