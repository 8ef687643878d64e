-- Reports from the public ("this is wrong / closed / moved"): stored for editors, never applied
-- automatically.

CREATE TABLE reports (
    id          TEXT PRIMARY KEY NOT NULL,
    resource_id TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('wrong', 'closed', 'moved', 'other')),
    message     TEXT NOT NULL,
    contact     TEXT,
    created_at  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'dismissed')),
    handled_by  TEXT,
    handled_at  TEXT,
    note        TEXT
) STRICT;

CREATE INDEX reports_status ON reports (status, created_at);
