-- Keeping the resource center useful (caredesk_domain::resources): what readers say of an
-- entry ("was this helpful?", with an optional comment for its writers), and the searches
-- that found nothing, which tell what customers look for and the center lacks.
-- Kept in step with migrations/postgres/0019_resource_upkeep.sql.
CREATE TABLE resource_feedback (
    id          INTEGER PRIMARY KEY,
    entry_id    BIGINT  NOT NULL REFERENCES resource_entries (id),
    language    TEXT    NOT NULL,
    helpful     INTEGER NOT NULL,
    -- For the writers; at most 2,000 characters.
    comment     TEXT,
    -- Who: 'contact:3', 'staff:7', or 'anyone' signed out.
    reader      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX resource_feedback_by_entry ON resource_feedback (entry_id, created_at);

-- A search of readers other than staff that found nothing, by its words as normalised
-- (trimmed, lower-cased, blanks collapsed, at most 200 characters): how often, since when.
CREATE TABLE resource_missed_searches (
    query       TEXT    PRIMARY KEY,
    language    TEXT    NOT NULL,
    times       BIGINT  NOT NULL,
    first_at    BIGINT  NOT NULL,
    last_at     BIGINT  NOT NULL
);
CREATE INDEX resource_missed_searches_by_count ON resource_missed_searches (times, last_at);

-- The suggestions a customer was shown beside the new-ticket form before sending it: which
-- entries (in which language) and which community questions, in the order shown.
CREATE TABLE ticket_suggestions (
    ticket_id    BIGINT NOT NULL REFERENCES tickets (id),
    position     BIGINT NOT NULL,
    entry_id     BIGINT REFERENCES resource_entries (id),
    language     TEXT,
    question_id  BIGINT REFERENCES community_questions (id),
    PRIMARY KEY (ticket_id, position),
    CHECK ((entry_id IS NULL) <> (question_id IS NULL))
);
CREATE INDEX ticket_suggestions_by_entry ON ticket_suggestions (entry_id) WHERE entry_id IS NOT NULL;
