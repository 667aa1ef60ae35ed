-- Mirrors migrations/hub/sqlite/08-held-back-records.
CREATE TABLE held_back_records (
    device_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    since BIGINT NOT NULL,
    discard_asked_at BIGINT,
    PRIMARY KEY (device_id, record_id)
);
