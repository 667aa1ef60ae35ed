-- Mirrors migrations/hub/sqlite/05-operator.
ALTER TABLE devices ADD COLUMN last_sync_at BIGINT;
ALTER TABLE devices ADD COLUMN last_held_back BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN last_refused BIGINT NOT NULL DEFAULT 0;

ALTER TABLE web_users ADD COLUMN disabled_at BIGINT;
