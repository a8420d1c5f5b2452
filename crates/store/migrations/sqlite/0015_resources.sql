-- The resource center (caredesk_domain::resources): knowledge-base articles and external
-- resources, one entry in several languages, each language a translation with its own
-- state and every revision kept. Kept in step with migrations/postgres/0015_resources.sql.
CREATE TABLE resource_entries (
    id            INTEGER PRIMARY KEY,
    -- 'article', 'documentation', 'course' or 'download'.
    kind          TEXT    NOT NULL,
    product_line  TEXT,
    -- 'public', 'customers' or 'internal'.
    visibility    TEXT    NOT NULL,
    -- An external resource's link.
    url           TEXT,
    created_by    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

-- The releases (versions of the entry's product line) an entry applies to; none: every one.
CREATE TABLE resource_releases (
    entry_id  BIGINT NOT NULL REFERENCES resource_entries (id),
    version   TEXT   NOT NULL,
    PRIMARY KEY (entry_id, version)
);

CREATE TABLE resource_tags (
    entry_id  BIGINT NOT NULL REFERENCES resource_entries (id),
    tag       TEXT   NOT NULL,
    PRIMARY KEY (entry_id, tag)
);
CREATE INDEX resource_tags_by_tag ON resource_tags (tag);

CREATE TABLE resource_translations (
    id            INTEGER PRIMARY KEY,
    entry_id      BIGINT  NOT NULL REFERENCES resource_entries (id),
    language      TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    -- Markdown.
    body          TEXT    NOT NULL,
    -- 'draft', 'in_review', 'published' or 'archived'.
    state         TEXT    NOT NULL,
    -- The latest revision's number (resource_revisions).
    revision      BIGINT  NOT NULL,
    updated_by    TEXT    NOT NULL,
    updated_at    BIGINT  NOT NULL,
    published_at  BIGINT,
    UNIQUE (entry_id, language)
);
CREATE INDEX resource_translations_by_state ON resource_translations (state, language);

-- Every revision of a translation, the latest included: who wrote what, when.
CREATE TABLE resource_revisions (
    translation_id  BIGINT NOT NULL REFERENCES resource_translations (id),
    revision        BIGINT NOT NULL,
    title           TEXT   NOT NULL,
    body            TEXT   NOT NULL,
    author          TEXT   NOT NULL,
    written_at      BIGINT NOT NULL,
    PRIMARY KEY (translation_id, revision)
);

-- The search index: per translation (rowid), the terms of its title and of its body and
-- tags as caredesk_domain::resources::search analyses them (stemmed in the translation's
-- language), so that SQLite and PostgreSQL match the same terms. Ranked by bm25.
CREATE VIRTUAL TABLE resource_search USING fts5 (title, body, tokenize = 'unicode61');
