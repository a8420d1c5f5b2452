-- A resource entry's key: its name in the files `caredesk kb export` writes and `caredesk kb
-- import` reads (KEY.LANGUAGE.md), so that importing again updates the same entry. Entries
-- written on the pages or over the API have none until an export names them entry-ID.
-- Kept in step with migrations/sqlite/0016_resource_keys.sql.
ALTER TABLE resource_entries ADD COLUMN key TEXT;
CREATE UNIQUE INDEX resource_entries_key ON resource_entries (key) WHERE key IS NOT NULL;
