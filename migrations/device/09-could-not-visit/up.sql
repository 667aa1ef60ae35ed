-- Why a visit could not happen (doorstep_model::CouldNotReason code: no_answer, refused,
-- in_hospital, cancelled_by_office), for the manager's "visits to chase".
ALTER TABLE visits ADD COLUMN could_not TEXT;
