-- The hub's epoch: a random name for this line of history. `doorstep-hub restore` gives the
-- restored database a new one, so a device that synced with the hub before the restore knows
-- its cursor names changes the hub no longer holds, and starts its feed again and resends
-- everything (crates/doorstep-hub/src/service.rs, pull). Sequence numbers alone cannot tell:
-- other devices may push the restored hub past the old cursor before this one returns.
ALTER TABLE hub_sequence ADD COLUMN epoch TEXT NOT NULL DEFAULT '';
UPDATE hub_sequence SET epoch = lower(hex(randomblob(16)));
