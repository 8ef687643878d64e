-- API keys (only a SHA-256 of each key is kept), the audit log of every write, and remembered
-- responses for idempotent POSTs.

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('reader', 'editor', 'admin')),
    regions     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(regions)),
    secret_hash TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
) STRICT;

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    at          TEXT NOT NULL,
    version     INTEGER NOT NULL,
    before      TEXT CHECK (before IS NULL OR json_valid(before)),
    after       TEXT CHECK (after IS NULL OR json_valid(after))
) STRICT;

CREATE INDEX audit_log_resource ON audit_log (resource_id, seq);

CREATE TABLE idempotency (
    key          TEXT NOT NULL,
    actor        TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    response     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (key, actor)
) STRICT;
