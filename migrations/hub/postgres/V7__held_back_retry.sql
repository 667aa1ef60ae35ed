-- Mirrors migrations/hub/sqlite/07-held-back-retry.
ALTER TABLE organisations ADD COLUMN held_back_retry BIGINT NOT NULL DEFAULT 0;
