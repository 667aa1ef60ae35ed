-- A note's NEWS2 from an incomplete set of readings is kept as its lower bound (the total of the
-- readings taken, and the band that is already reached), marked incomplete: an incomplete High
-- must reach the manager's "needs attention" and the deterioration watch, not be dropped.
ALTER TABLE notes ADD COLUMN news2_incomplete INTEGER NOT NULL DEFAULT 0;

-- The advice the visit gave (escalation::advice: the community rule over the readings and the
-- soft signs, as an EscalationLevel code) and the latest phone call recorded, for the manager's
-- "needs attention": "Phone now – phoned GP practice at 09:12 …" or "no call recorded".
ALTER TABLE notes ADD COLUMN advice TEXT;
ALTER TABLE notes ADD COLUMN last_call TEXT;

-- What the deterioration watch also counts (watch.rs): nothing eaten or drunk, a distressed mood.
ALTER TABLE notes ADD COLUMN ate_or_drank_nothing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notes ADD COLUMN distressed INTEGER NOT NULL DEFAULT 0;
