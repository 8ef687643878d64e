-- Live records per source, per source date and per sample flag, kept by triggers in the same
-- transaction as every write, so `GET /v1/sources` reads a few rows instead of scanning every
-- record. A record counts while it is not deleted.

CREATE TABLE source_tallies (
    source_name TEXT NOT NULL,
    -- The record's `source.date` ('' when it has none).
    source_date TEXT NOT NULL,
    sample      INTEGER NOT NULL CHECK (sample IN (0, 1)),
    records     INTEGER NOT NULL CHECK (records >= 0),
    PRIMARY KEY (source_name, source_date, sample)
) STRICT, WITHOUT ROWID;

INSERT INTO source_tallies (source_name, source_date, sample, records)
SELECT source_name, coalesce(json_extract(body, '$.source.date'), ''), sample, count(*)
FROM resources WHERE deleted_at IS NULL
GROUP BY 1, 2, 3;

CREATE TRIGGER source_tallies_insert AFTER INSERT ON resources WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO source_tallies (source_name, source_date, sample, records)
    VALUES (NEW.source_name, coalesce(json_extract(NEW.body, '$.source.date'), ''), NEW.sample, 1)
    ON CONFLICT (source_name, source_date, sample) DO UPDATE SET records = records + 1;
END;

CREATE TRIGGER source_tallies_delete AFTER DELETE ON resources WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE source_tallies SET records = records - 1
    WHERE source_name = OLD.source_name
      AND source_date = coalesce(json_extract(OLD.body, '$.source.date'), '')
      AND sample = OLD.sample;
    DELETE FROM source_tallies WHERE records = 0;
END;

-- An update moves the record from its old tally (if it was live) to its new one (if it is).
CREATE TRIGGER source_tallies_update AFTER UPDATE OF source_name, sample, body, deleted_at ON resources
BEGIN
    UPDATE source_tallies SET records = records - 1
    WHERE OLD.deleted_at IS NULL
      AND source_name = OLD.source_name
      AND source_date = coalesce(json_extract(OLD.body, '$.source.date'), '')
      AND sample = OLD.sample;
    INSERT INTO source_tallies (source_name, source_date, sample, records)
    SELECT NEW.source_name, coalesce(json_extract(NEW.body, '$.source.date'), ''), NEW.sample, 1
    WHERE NEW.deleted_at IS NULL
    ON CONFLICT (source_name, source_date, sample) DO UPDATE SET records = records + 1;
    DELETE FROM source_tallies WHERE records = 0;
END;
