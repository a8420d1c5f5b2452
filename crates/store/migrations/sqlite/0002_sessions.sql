-- Signed-in sessions of staff and customer contacts; only the SHA-256 of the token is kept.
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT    NOT NULL UNIQUE,
    staff_id    BIGINT  REFERENCES staff (id),
    contact_id  BIGINT  REFERENCES contacts (id),
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    CHECK ((staff_id IS NULL) <> (contact_id IS NULL))
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
