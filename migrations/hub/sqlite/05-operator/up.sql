-- What an operator needs without typing SQL (see crates/doorstep-hub/src/admin.rs): each
-- device's last sync and what that sync held back, and web accounts that can be disabled.

-- Set by Hub::sync at most about once a minute per device (or when the counts change), so
-- a sync that changes nothing does not cost a write.
ALTER TABLE devices ADD COLUMN last_sync_at INTEGER;      -- unix ms
ALTER TABLE devices ADD COLUMN last_held_back INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN last_refused INTEGER NOT NULL DEFAULT 0;

-- A disabled account cannot sign in and has no sessions; the storage treats it as absent.
ALTER TABLE web_users ADD COLUMN disabled_at INTEGER;     -- unix ms
