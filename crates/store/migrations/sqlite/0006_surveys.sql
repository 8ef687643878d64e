-- The centre's survey of providers: campaigns, one invitation per targeted record (only a hash
-- of its token is kept), and one response per invitation (draft, then submitted, then reviewed).

CREATE TABLE survey_campaigns (
    id                 TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL,
    target             TEXT NOT NULL CHECK (json_valid(target)),
    deadline           TEXT NOT NULL,
    mode               TEXT NOT NULL CHECK (mode IN ('review', 'publish')),
    created_by         TEXT NOT NULL,
    created_by_key_id  TEXT,
    created_at         TEXT NOT NULL,
    baseline           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(baseline))
) STRICT;

CREATE TABLE survey_invitations (
    id          TEXT PRIMARY KEY NOT NULL,
    campaign_id TEXT NOT NULL REFERENCES survey_campaigns (id),
    resource_id TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    code        TEXT NOT NULL UNIQUE,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT,
    created_at  TEXT NOT NULL,
    opened_at   TEXT,
    UNIQUE (campaign_id, resource_id)
) STRICT;

CREATE TABLE survey_responses (
    invitation_id      TEXT PRIMARY KEY NOT NULL REFERENCES survey_invitations (id),
    campaign_id        TEXT NOT NULL,
    resource_id        TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'accepted', 'rejected')),
    channel            TEXT NOT NULL CHECK (channel IN ('web', 'paper')),
    answers            TEXT NOT NULL CHECK (json_valid(answers)),
    base               TEXT NOT NULL CHECK (json_valid(base)),
    revision           INTEGER NOT NULL DEFAULT 1,
    updated_at         TEXT NOT NULL,
    submitted_at       TEXT,
    entered_by         TEXT,
    reviewed_by        TEXT,
    reviewed_by_key_id TEXT,
    reviewed_at        TEXT,
    review_note        TEXT,
    accepted_fields    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(accepted_fields))
) STRICT;

CREATE INDEX survey_invitations_campaign ON survey_invitations (campaign_id);
CREATE INDEX survey_responses_campaign ON survey_responses (campaign_id, status);
