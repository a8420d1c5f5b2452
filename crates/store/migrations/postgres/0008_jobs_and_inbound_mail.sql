-- Periodic jobs and inbound mail. Kept in step with migrations/sqlite/0008_jobs_and_inbound_mail.sql.
-- (Outbox rows may now also be 'skipped': nobody to tell, such as a customer without a
-- success manager; the reason is in last_error.)

-- A periodic job (a sweep over ticket state) runs on one instance at a time: the one that
-- holds its lease. A lease outlives its holder by at most one interval.
CREATE TABLE jobs (
    name              TEXT    PRIMARY KEY,
    lease_owner       TEXT,
    lease_until       BIGINT,
    last_started_at   BIGINT,
    last_finished_at  BIGINT,
    last_error        TEXT
);

-- Every inbound message seen, once per Message-ID, with what became of it: a message
-- delivered twice (an MTA retrying, an operator re-running ingest) is acted on once.
CREATE TABLE inbound_mail (
    message_id   TEXT    PRIMARY KEY,
    sender       TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    -- 'processing' (being handled), then 'appended' (to ticket_id), 'opened' (ticket_id),
    -- or 'ignored' (with reason).
    outcome      TEXT    NOT NULL,
    ticket_id    BIGINT  REFERENCES tickets (id),
    reason       TEXT,
    received_at  BIGINT  NOT NULL
);
CREATE INDEX inbound_mail_received ON inbound_mail (received_at);
