-- The search's analysis changed: a word loses its accents before it is stemmed, no longer
-- after (caredesk_domain::resources::search), so that "bloquee" typed without accents
-- meets "bloquées". Every text indexed before is analysed again once, when the store
-- starts (Store::migrate), a batch at a time: the tickets' texts through the backlog of
-- migration 0022, the resource center's translations and the community's questions (with
-- their answers) from the rows below, each from `next_id` on; a row goes when its texts
-- are done.
CREATE TABLE search_reanalysis (
    kind     TEXT   NOT NULL PRIMARY KEY,
    next_id  BIGINT NOT NULL
);
INSERT INTO search_reanalysis (kind, next_id)
SELECT 'resources', MIN(id) FROM resource_translations HAVING COUNT(*) > 0;
INSERT INTO search_reanalysis (kind, next_id)
SELECT 'community', MIN(id) FROM community_questions HAVING COUNT(*) > 0;

DELETE FROM ticket_terms_backlog;
INSERT INTO ticket_terms_backlog (next_event_id, last_event_id)
SELECT MIN(id), MAX(id) FROM ticket_events HAVING COUNT(*) > 0;
