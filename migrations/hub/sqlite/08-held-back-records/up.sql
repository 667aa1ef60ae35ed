-- The records each device keeps back because the hub would not take them, as the device last
-- reported them with its sync (the device holds the records themselves; the hub only the list,
-- so the office can see what and why per tablet). `discard_asked_at`: a manager asked the
-- device to discard its changes to the record (audited); the device does so at its next sync
-- and the row goes when the device stops reporting it.
CREATE TABLE held_back_records (
    device_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    since INTEGER NOT NULL,
    discard_asked_at INTEGER,
    PRIMARY KEY (device_id, record_id)
);
