-- Staff find tickets by the words people wrote in them: the subject and description (on a
-- ticket's `created` event) and every message, note and reason since. Each event's terms
-- are those of the analysis resource search uses (caredesk_domain::resources::search),
-- written by the store with the event; the index reads them from the events themselves
-- (an external-content FTS5 table), kept by the triggers below.
ALTER TABLE ticket_events ADD COLUMN terms TEXT;

CREATE VIRTUAL TABLE ticket_search USING fts5 (
    terms, content = 'ticket_events', content_rowid = 'id', tokenize = 'unicode61'
);

CREATE TRIGGER ticket_events_indexed AFTER INSERT ON ticket_events
WHEN new.terms IS NOT NULL
BEGIN
    INSERT INTO ticket_search (rowid, terms) VALUES (new.id, new.terms);
END;

CREATE TRIGGER ticket_events_reindexed AFTER UPDATE OF terms ON ticket_events
BEGIN
    INSERT INTO ticket_search (ticket_search, rowid, terms)
    SELECT 'delete', old.id, old.terms WHERE old.terms IS NOT NULL;
    INSERT INTO ticket_search (rowid, terms)
    SELECT new.id, new.terms WHERE new.terms IS NOT NULL;
END;

-- The events written before this migration, which the store indexes once when it starts
-- (Store::migrate), a batch at a time from `next_event_id`; the row goes when it is done.
CREATE TABLE ticket_terms_backlog (
    next_event_id  BIGINT NOT NULL,
    last_event_id  BIGINT NOT NULL
);
INSERT INTO ticket_terms_backlog (next_event_id, last_event_id)
SELECT MIN(id), MAX(id) FROM ticket_events HAVING COUNT(*) > 0;
