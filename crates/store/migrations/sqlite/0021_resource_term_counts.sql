-- In how many translations each indexed term stands, kept in the transaction that indexes a
-- translation: a search reads it to rank a bounded number of texts when its words are
-- common (caredesk_domain::resources::search::lookups). FTS5 can count them itself (a
-- fts5vocab table), but only by reading each term's whole list of texts: too slow to ask
-- while a customer types. Filled here from that count, once.
CREATE TABLE resource_term_counts (
    term  TEXT   PRIMARY KEY,
    doc   BIGINT NOT NULL
);
CREATE VIRTUAL TABLE temp.resource_vocabulary USING fts5vocab (main, resource_search, 'row');
INSERT INTO resource_term_counts (term, doc) SELECT term, doc FROM temp.resource_vocabulary;
DROP TABLE temp.resource_vocabulary;

-- What a search's filter reads of a translation, apart from its text: the ranking reads this
-- index instead of rows that hold whole articles.
CREATE INDEX resource_translations_found ON resource_translations (id, entry_id, state, language);
