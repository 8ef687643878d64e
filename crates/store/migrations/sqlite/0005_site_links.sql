-- Records at one site (one address, one 法人, several services) are linked, not merged: each
-- keeps its own record, and this table says which site it belongs to and why. The linking pass
-- (tsunagu-directory) rewrites it after imports; every change of a record's link is logged in
-- `changes`, so the search index follows.

CREATE TABLE site_links (
    resource_id TEXT PRIMARY KEY NOT NULL,
    site_id     TEXT NOT NULL,
    basis       TEXT NOT NULL CHECK (basis IN ('corporate_number_and_address', 'phone_nearby')),
    linked_at   TEXT NOT NULL
) STRICT;

CREATE INDEX site_links_site ON site_links (site_id);
