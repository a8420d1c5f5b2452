-- Community questions and answers (caredesk_domain::resources::community): customers'
-- contacts ask, contacts and staff answer, the asker or staff accept an answer, staff verify
-- answers, everyone signed in votes, moderators hide and show with a reason, and every step
-- is kept in the question's history. Kept in step with migrations/postgres/0018_community.sql.
CREATE TABLE community_questions (
    id                  INTEGER PRIMARY KEY,
    customer_id         BIGINT  NOT NULL REFERENCES customers (id),
    contact_id          BIGINT  NOT NULL REFERENCES contacts (id),
    product_line        TEXT,
    version             TEXT,
    language            TEXT    NOT NULL,
    title               TEXT    NOT NULL,
    -- Markdown.
    body                TEXT    NOT NULL,
    -- The terms of the title and of the body, as caredesk_domain::resources::search
    -- analyses them, kept to index the question with its answers' terms.
    title_terms         TEXT    NOT NULL,
    body_terms          TEXT    NOT NULL,
    accepted_answer_id  BIGINT,
    -- The ticket the asker turned it into.
    ticket_id           BIGINT  REFERENCES tickets (id),
    -- Set while a moderator keeps it hidden.
    hidden_reason       TEXT,
    created_at          BIGINT  NOT NULL,
    -- Its last answer, acceptance or moderation.
    active_at           BIGINT  NOT NULL
);
CREATE INDEX community_questions_by_activity ON community_questions (active_at);
CREATE INDEX community_questions_by_contact ON community_questions (contact_id);

CREATE TABLE community_answers (
    id             INTEGER PRIMARY KEY,
    question_id    BIGINT  NOT NULL REFERENCES community_questions (id),
    -- One of the two: a customer's contact or a member of staff.
    contact_id     BIGINT  REFERENCES contacts (id),
    staff_id       BIGINT  REFERENCES staff (id),
    body           TEXT    NOT NULL,
    terms          TEXT    NOT NULL,
    votes          BIGINT  NOT NULL DEFAULT 0,
    verified_by    BIGINT  REFERENCES staff (id),
    verified_at    BIGINT,
    hidden_reason  TEXT,
    created_at     BIGINT  NOT NULL,
    CHECK ((contact_id IS NULL) <> (staff_id IS NULL))
);
CREATE INDEX community_answers_by_question ON community_answers (question_id, id);

-- One vote per person ("contact:3", "staff:7") per answer.
CREATE TABLE community_votes (
    answer_id   BIGINT NOT NULL REFERENCES community_answers (id),
    voter       TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (answer_id, voter)
);

-- Every step of a question: asked, answered, accepted, verified, hidden, shown (these two
-- with the moderator's reason), ticket_opened. Appended, never changed.
CREATE TABLE community_history (
    id           INTEGER PRIMARY KEY,
    question_id  BIGINT NOT NULL REFERENCES community_questions (id),
    answer_id    BIGINT REFERENCES community_answers (id),
    step         TEXT   NOT NULL,
    -- Who: a customer's contact or a member of staff.
    contact_id   BIGINT REFERENCES contacts (id),
    staff_id     BIGINT REFERENCES staff (id),
    reason       TEXT,
    at           BIGINT NOT NULL
);
CREATE INDEX community_history_by_question ON community_history (question_id, id);

-- The search index: per question (rowid), its title's terms, and its body's with the terms
-- of its answers that are shown.
CREATE VIRTUAL TABLE community_search USING fts5 (title, body, tokenize = 'unicode61');

-- A notice to a question's asker (community_answer) names the contact to tell.
ALTER TABLE outbox ADD COLUMN contact_id BIGINT REFERENCES contacts (id);
