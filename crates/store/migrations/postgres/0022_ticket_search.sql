-- Staff find tickets by the words people wrote in them: the subject and description (on a
-- ticket's `created` event) and every message, note and reason since. Each event's terms
-- are those of the analysis resource search uses (caredesk_domain::resources::search),
-- written by the store with the event, and indexed as they are ('simple': no second
-- analysis). The vector is stored, so that reading the newest events first and keeping
-- those that match costs no analysis per row.
ALTER TABLE ticket_events ADD COLUMN terms TEXT;
ALTER TABLE ticket_events ADD COLUMN terms_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED;

CREATE INDEX ticket_events_terms ON ticket_events USING GIN (terms_vector)
WHERE terms_vector IS NOT NULL;

-- The events written before this migration, which the store indexes once when it starts
-- (Store::migrate), a batch at a time from `next_event_id`; the row goes when it is done.
CREATE TABLE ticket_terms_backlog (
    next_event_id  BIGINT NOT NULL,
    last_event_id  BIGINT NOT NULL
);
INSERT INTO ticket_terms_backlog (next_event_id, last_event_id)
SELECT MIN(id), MAX(id) FROM ticket_events HAVING COUNT(*) > 0;
