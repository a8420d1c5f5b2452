-- Notices waiting to go out, written in the same transaction as the event that calls for
-- them (see caredesk_domain::notify and the store's outbox module).
-- An event is appended once, so are its notices; a warning that comes of time passing (a
-- status update falling due) carries a `dedupe_key`, so a second sweep writes it no more.
-- Kept in step with migrations/postgres/0007_outbox.sql.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    ticket_id       BIGINT  NOT NULL REFERENCES tickets (id),
    event_seq       BIGINT  NOT NULL,
    kind            TEXT    NOT NULL,
    -- 'contact' (the ticket's), 'csm' (the customer's), or 'staff' with `staff_id`.
    recipient       TEXT    NOT NULL,
    staff_id        BIGINT  REFERENCES staff (id),
    dedupe_key      TEXT,
    -- 'pending', 'sent' or 'failed' (after the last try, listed for administrators).
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        BIGINT  NOT NULL DEFAULT 0,
    not_before      BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);

CREATE UNIQUE INDEX outbox_dedupe ON outbox (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX outbox_pending ON outbox (not_before) WHERE state = 'pending';
CREATE INDEX outbox_of_ticket ON outbox (ticket_id, id);
