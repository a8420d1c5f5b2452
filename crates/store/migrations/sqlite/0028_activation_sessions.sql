-- Sessions of the activation manager opened with a customer number and a one-time
-- password (POLICY.md §9): the customer may activate its products until the session ends.
-- Only the SHA-256 of the session's secret is kept, like every session.
CREATE TABLE activation_sessions (
    token_hash   TEXT   NOT NULL PRIMARY KEY,
    customer_id  BIGINT NOT NULL REFERENCES customers (id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    address      TEXT   NOT NULL
);
CREATE INDEX activation_sessions_expiry ON activation_sessions (expires_at);
