-- Alerts to administrators that are of no ticket: a burst of failed sign-ins
-- (caredesk_domain::sign_in). They go through the outbox like every notice, so they are
-- retried and never lost: `ticket_id` may now be empty, and such a notice keeps what it says
-- in `details` (JSON), written when the alert is raised.
-- SQLite cannot drop a NOT NULL in place: the table is built again, rows and ids kept.
-- Kept in step with migrations/postgres/0014_security_alerts.sql.
CREATE TABLE outbox_rebuilt (
    id              INTEGER PRIMARY KEY,
    ticket_id       BIGINT  REFERENCES tickets (id),
    event_seq       BIGINT  NOT NULL,
    kind            TEXT    NOT NULL,
    -- 'contact' (the ticket's), 'csm' (the customer's), 'staff' with `staff_id`, or
    -- 'webhook' with `webhook_id`.
    recipient       TEXT    NOT NULL,
    staff_id        BIGINT  REFERENCES staff (id),
    dedupe_key      TEXT,
    -- 'pending', 'sent', 'failed' (after the last try, listed for administrators) or
    -- 'skipped' (nobody to tell).
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        BIGINT  NOT NULL DEFAULT 0,
    not_before      BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT,
    webhook_id      BIGINT  REFERENCES webhooks (id),
    details         TEXT,
    CHECK (ticket_id IS NOT NULL OR details IS NOT NULL)
);

INSERT INTO outbox_rebuilt (id, ticket_id, event_seq, kind, recipient, staff_id, dedupe_key,
    state, attempts, not_before, lease_owner, lease_until, last_error, created_at, sent_at,
    webhook_id)
SELECT id, ticket_id, event_seq, kind, recipient, staff_id, dedupe_key, state, attempts,
    not_before, lease_owner, lease_until, last_error, created_at, sent_at, webhook_id
FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;

CREATE UNIQUE INDEX outbox_dedupe ON outbox (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX outbox_pending ON outbox (not_before) WHERE state = 'pending';
CREATE INDEX outbox_of_ticket ON outbox (ticket_id, id);

-- When administrators were last told that an account or an address was throttled: once
-- per burst. (The account's key is 'account:' and the SHA-256 of the e-mail as typed.)
ALTER TABLE sign_in_failures ADD COLUMN alerted_at BIGINT;
CREATE INDEX sign_in_failures_alerted ON sign_in_failures (alerted_at)
    WHERE alerted_at IS NOT NULL;
