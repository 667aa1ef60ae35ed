-- Whether a recorded call meets the visit's advice (VisitNote::advice_met: 999 only by a 999
-- call or an ambulance on its way, "phone now" only by a clinician, a re-check by a call made
-- since it). The office's "needs attention" then says "told to phone 999: no 999 call recorded"
-- even when the carer phoned the office, instead of showing that call as if it answered.
ALTER TABLE notes ADD COLUMN advice_met INTEGER NOT NULL DEFAULT 0;
