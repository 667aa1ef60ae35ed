-- Mirrors migrations/hub/sqlite/09-rota-departures.
CREATE TABLE rota_departures (
    principal TEXT NOT NULL,
    person_id TEXT NOT NULL,
    left_at BIGINT NOT NULL,
    PRIMARY KEY (principal, person_id)
);
