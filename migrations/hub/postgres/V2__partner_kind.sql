-- Mirrors migrations/hub/sqlite/02-partner-kind.
ALTER TABLE organisations ADD COLUMN partner_kind TEXT;
