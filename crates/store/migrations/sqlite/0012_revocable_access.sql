-- Revocable access (issue "Trust"): an API token may carry an expiry, and a session keeps
-- where it was opened from (the client's address and its browser or program, as it said),
-- so that its holder can recognise and end it.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE sessions ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_of_staff ON sessions (staff_id);
CREATE INDEX sessions_of_contacts ON sessions (contact_id);
