-- What a search of the resource center filters on most, kept beside each indexed text:
-- its language and state, and its entry's visibility. PostgreSQL then filters while it
-- reads the matches and ranks only those a reader may see; through two joins, 2,000
-- matches cost three times their ranking. The store rewrites them with every change of a
-- translation's state or an entry's visibility (Store::refresh_search_filters). A binary
-- older than this migration would index texts without them: stop every instance before
-- one of this version migrates the database.
ALTER TABLE resource_search ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE resource_search ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE resource_search ADD COLUMN visibility TEXT NOT NULL DEFAULT '';
UPDATE resource_search s SET language = t.language, state = t.state, visibility = e.visibility
FROM resource_translations t JOIN resource_entries e ON e.id = t.entry_id
WHERE t.id = s.translation_id;

-- The titles, indexed on their own. When every word of a query is common, the search looks
-- in titles only (caredesk_domain::resources::search::lookups); through resource_search,
-- PostgreSQL read every text that held the word anywhere to keep those with it in their
-- title (48,000 texts for "problem" on 100,000 entries, 150 ms). Here it reads only the
-- titles that hold it, from rows a few terms wide.
CREATE TABLE resource_title_search (
    translation_id  BIGINT   PRIMARY KEY REFERENCES resource_translations (id),
    terms           TSVECTOR NOT NULL,
    language        TEXT     NOT NULL,
    state           TEXT     NOT NULL,
    visibility      TEXT     NOT NULL
);
INSERT INTO resource_title_search (translation_id, terms, language, state, visibility)
SELECT translation_id, ts_filter(terms, '{a}'), language, state, visibility
FROM resource_search;
CREATE INDEX resource_title_search_terms ON resource_title_search USING GIN (terms)
    WITH (fastupdate = off);

-- Both indexes written at once, not through a pending list: every search read the list
-- through until a vacuum emptied it (up to 4 MB; 8 to 16 ms of a 20 ms search on 100,000
-- entries). The resource center is read far more often than written.
ALTER INDEX resource_search_terms SET (fastupdate = off);
