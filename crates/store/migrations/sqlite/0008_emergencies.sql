-- Emergencies the centre declares (an outage, a disaster) for some municipalities, and the audit
-- trail of each: who declared it and who ended it, when.

CREATE TABLE emergencies (
    id         TEXT PRIMARY KEY NOT NULL,
    body       TEXT NOT NULL CHECK (json_valid(body)),
    starts_at  TEXT NOT NULL,
    ends_at    TEXT,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX emergencies_ends ON emergencies (ends_at);

CREATE TABLE emergency_audit (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    emergency_id TEXT NOT NULL REFERENCES emergencies (id),
    actor        TEXT NOT NULL,
    actor_key_id TEXT,
    action       TEXT NOT NULL CHECK (action IN ('declare', 'end')),
    at           TEXT NOT NULL,
    body         TEXT NOT NULL CHECK (json_valid(body))
) STRICT;

CREATE INDEX emergency_audit_by_emergency ON emergency_audit (emergency_id, seq);
