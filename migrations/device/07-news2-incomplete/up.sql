-- A note's NEWS2 from an incomplete set of readings is kept as its lower bound (the total of the
-- readings taken, and the band that is already reached), marked incomplete: an incomplete High
-- must reach the manager's "needs attention" and the deterioration watch, not be dropped.
ALTER TABLE notes ADD COLUMN news2_incomplete INTEGER NOT NULL DEFAULT 0;
