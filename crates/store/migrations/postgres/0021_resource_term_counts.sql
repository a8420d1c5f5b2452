-- In how many translations each indexed term stands, kept in the transaction that indexes a
-- translation: a search reads it to rank a bounded number of texts when its words are
-- common (caredesk_domain::resources::search::lookups). Filled here from the index, once.
CREATE TABLE resource_term_counts (
    term  TEXT   PRIMARY KEY,
    doc   BIGINT NOT NULL
);
INSERT INTO resource_term_counts (term, doc)
SELECT word, ndoc FROM ts_stat('SELECT terms FROM resource_search');
