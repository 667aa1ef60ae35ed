-- Mirrors migrations/hub/sqlite/11-partner-directory.
CREATE TABLE partner_listings (
    org_id TEXT PRIMARY KEY REFERENCES organisations (id),
    listing TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    queued_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;
