-- The partner directory: what each partner organisation does, where and when, and its team's
-- contact (JSON, see doorstep_hub::directory::ListingRecord), kept by the hub's operator.
CREATE TABLE partner_listings (
    org_id TEXT PRIMARY KEY REFERENCES organisations (id),
    listing TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- E-mails waiting to go, and sent: one row per message, kept so that a hub restarted before the
-- mail server answered still sends it, and so the operator can see what went when.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at INTEGER,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;
