-- The store is the source of truth. Each resource is kept as its canonical JSON document (`body`)
-- with the columns needed for lookups and bookkeeping beside it. `changes` is an append-only log of
-- writes: the search index remembers the last `seq` it applied and catches up from here.

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));

CREATE TABLE resources (
    id                TEXT PRIMARY KEY NOT NULL,
    kind              TEXT NOT NULL,
    municipality_code TEXT NOT NULL,
    name              TEXT NOT NULL,
    sample            INTEGER NOT NULL CHECK (sample IN (0, 1)),
    source_name       TEXT NOT NULL,
    source_id         TEXT,
    body              TEXT NOT NULL CHECK (json_valid(body)),
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    deleted_at        TEXT
) STRICT;

CREATE INDEX resources_municipality ON resources (municipality_code);
CREATE INDEX resources_kind ON resources (kind);
CREATE UNIQUE INDEX resources_source ON resources (source_name, source_id) WHERE source_id IS NOT NULL;

CREATE TABLE changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id TEXT NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    at          TEXT NOT NULL
) STRICT;

CREATE INDEX changes_resource ON changes (resource_id);
