-- Authorisation and idempotency, made exact:
-- - the audit log and closed reports record the API key's id beside its name;
-- - live key names are unique (duplicates made before this migration get their id appended);
-- - idempotent requests are claimed per key id (not per name) in the write's own transaction.
--   Remembered responses from before are dropped: they were keyed by name, which did not tell
--   two keys apart, and they only serve retries of the last day.

ALTER TABLE audit_log ADD COLUMN actor_key_id TEXT;
ALTER TABLE reports ADD COLUMN handled_by_key_id TEXT;

UPDATE api_keys SET name = name || ' (' || id || ')'
WHERE revoked_at IS NULL
  AND EXISTS (SELECT 1 FROM api_keys o WHERE o.name = api_keys.name AND o.revoked_at IS NULL AND o.id < api_keys.id);

CREATE UNIQUE INDEX api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL;

DROP TABLE idempotency;

CREATE TABLE idempotency (
    key_id       TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    response     TEXT NOT NULL,
    headers      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(headers)),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (key_id, key)
) STRICT;

CREATE INDEX idempotency_created ON idempotency (created_at);
CREATE INDEX reports_resource ON reports (resource_id);
