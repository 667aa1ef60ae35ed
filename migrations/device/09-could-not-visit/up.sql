-- Why a visit could not happen (doorstep_model::CouldNotReason code: no_answer, refused,
-- in_hospital, cancelled_by_office), for the manager's "visits to chase".
ALTER TABLE visits ADD COLUMN could_not TEXT;

-- When a note was first written (its first author's first edit): orders the handover's "last
-- visit" when the visit itself is not on this device (another carer's visit to the same person).
ALTER TABLE notes ADD COLUMN written_at INTEGER;
