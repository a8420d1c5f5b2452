-- Deflections: a customer's contact found the answer in the resource center while writing a
-- new ticket, said "this solved my problem", and no ticket was opened. Who, which entry in
-- which language, and what they had typed (at most 2,000 characters of it).
-- Kept in step with migrations/postgres/0017_deflections.sql.
CREATE TABLE resource_deflections (
    id           INTEGER PRIMARY KEY,
    entry_id     BIGINT NOT NULL REFERENCES resource_entries (id),
    language     TEXT   NOT NULL,
    customer_id  BIGINT NOT NULL REFERENCES customers (id),
    contact_id   BIGINT NOT NULL REFERENCES contacts (id),
    typed        TEXT   NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX resource_deflections_by_entry ON resource_deflections (entry_id, created_at);
