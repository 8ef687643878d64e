-- The live status a power supply point reports (open, closed, power available, full), each report
-- with its time and who made it: the newest per record is its status, the rest its audit trail.

CREATE TABLE power_status (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('open', 'closed', 'power_available', 'full')),
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    actor_key_id TEXT
) STRICT;

CREATE INDEX power_status_by_resource ON power_status (resource_id, seq);
