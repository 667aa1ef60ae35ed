-- When a carer stopped visiting a person (the hub took the person off the carer's devices), so
-- the carer's own ideas about that person leave their devices a stated grace period later
-- (doorstep_hub::service::IDEA_GRACE_DAYS). The row goes when the carer visits the person again
-- or the grace period has passed and the ideas were purged.
CREATE TABLE rota_departures (
    principal TEXT NOT NULL,
    person_id TEXT NOT NULL,
    left_at INTEGER NOT NULL,
    PRIMARY KEY (principal, person_id)
) STRICT;
