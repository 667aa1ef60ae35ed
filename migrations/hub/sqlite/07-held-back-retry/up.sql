-- How many times an organisation's managers have asked its devices to send the records the hub
-- held back again (after the office fixed what was wrong). Devices see it, with the hub's rules
-- version, in the `doorstep-hub-rules` header of every sync answer, and try again when it moves.
ALTER TABLE organisations ADD COLUMN held_back_retry INTEGER NOT NULL DEFAULT 0;
