-- The release catalog is kept by people (publish, retire) instead of the demo alone. A
-- release may name where it is downloaded and its SHA-256 checksum (what the update
-- manager hands an installed product), and carries notes in any language of the policy.
-- A retired release stays in the catalog (tickets and articles name it) but is neither in
-- support scope nor offered as an update.
ALTER TABLE releases ADD COLUMN download_url TEXT;
ALTER TABLE releases ADD COLUMN sha256 TEXT;
ALTER TABLE releases ADD COLUMN retired_at BIGINT;

CREATE TABLE release_notes (
    release_id  BIGINT NOT NULL REFERENCES releases (id),
    language    TEXT   NOT NULL,
    notes       TEXT   NOT NULL,
    PRIMARY KEY (release_id, language)
);
