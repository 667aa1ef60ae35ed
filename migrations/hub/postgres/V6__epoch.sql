-- Mirrors migrations/hub/sqlite/06-epoch.
ALTER TABLE hub_sequence ADD COLUMN epoch TEXT NOT NULL DEFAULT '';
UPDATE hub_sequence SET epoch = md5(random()::text || clock_timestamp()::text);
