-- The support desk: customers and what they bought, staff, tickets and their timelines.
-- Instants are Unix seconds (BIGINT); dates are 'YYYY-MM-DD' text; JSON is text.
-- Kept in step with migrations/postgres/0001_desk.sql: same tables, columns and meaning.

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    number      TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE contacts (
    id             INTEGER PRIMARY KEY,
    customer_id    BIGINT  NOT NULL REFERENCES customers (id),
    name           TEXT    NOT NULL,
    email          TEXT    NOT NULL UNIQUE,
    phone          TEXT    NOT NULL DEFAULT '',
    language       TEXT    NOT NULL,
    designated     INTEGER NOT NULL DEFAULT FALSE,
    password_hash  TEXT,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX contacts_customer ON contacts (customer_id);

CREATE TABLE contracts (
    id             INTEGER PRIMARY KEY,
    customer_id    BIGINT  NOT NULL REFERENCES customers (id),
    program        TEXT    NOT NULL,
    starts_on      TEXT    NOT NULL,
    ends_on        TEXT    NOT NULL,
    eula_accepted  INTEGER NOT NULL,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX contracts_customer ON contracts (customer_id);

-- The release catalog: `position` orders a line's releases, higher is newer.
CREATE TABLE releases (
    id            INTEGER PRIMARY KEY,
    product_line  TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    position      BIGINT  NOT NULL,
    kind          TEXT    NOT NULL,
    released_on   TEXT    NOT NULL,
    UNIQUE (product_line, version),
    UNIQUE (product_line, position)
);

-- Registered products.
CREATE TABLE products (
    id            INTEGER PRIMARY KEY,
    customer_id   BIGINT  NOT NULL REFERENCES customers (id),
    product_line  TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    serial        TEXT    NOT NULL UNIQUE,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX products_customer ON products (customer_id);

CREATE TABLE staff (
    id             INTEGER PRIMARY KEY,
    email          TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    region         TEXT,
    languages      TEXT    NOT NULL,
    password_hash  TEXT,
    active         INTEGER NOT NULL DEFAULT TRUE,
    created_at     BIGINT  NOT NULL
);

-- Bearer tokens, kept only as SHA-256 hashes.
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    staff_id    BIGINT  NOT NULL REFERENCES staff (id),
    name        TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY,
    customer_id      BIGINT  NOT NULL REFERENCES customers (id),
    contact_id       BIGINT  REFERENCES contacts (id),
    product_id       BIGINT  REFERENCES products (id),
    product_line     TEXT    NOT NULL,
    version          TEXT    NOT NULL,
    serial           TEXT    NOT NULL,
    program          TEXT    NOT NULL,
    region           TEXT    NOT NULL,
    language         TEXT    NOT NULL,
    channel          TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    details          TEXT    NOT NULL,
    severity         TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    assignee_id      BIGINT  REFERENCES staff (id),
    escalated        INTEGER NOT NULL,
    escalation_open  INTEGER NOT NULL,
    -- Optimistic concurrency: the number of events in the timeline.
    version_number   BIGINT  NOT NULL,
    opened_at        BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    closed_at        BIGINT,
    -- Derived from the timeline and the policy, rewritten with every event, for indexing.
    calendar               TEXT    NOT NULL,
    severity_rank          BIGINT  NOT NULL,
    placement_rank         BIGINT  NOT NULL,
    due_sort               BIGINT  NOT NULL,
    next_due_at            BIGINT,
    at_risk_at             BIGINT,
    unbreached_due_at      BIGINT,
    first_response_due_at  BIGINT,
    next_update_due_at     BIGINT,
    resolution_due_at      BIGINT,
    breached               INTEGER NOT NULL,
    -- Idempotent creation: a retried request with the same key finds this ticket.
    created_by        TEXT    NOT NULL,
    idempotency_key   TEXT,
    request_hash      TEXT,
    UNIQUE (created_by, idempotency_key)
);
CREATE INDEX tickets_queue ON tickets (severity_rank, placement_rank, due_sort, id)
    WHERE closed_at IS NULL;
CREATE INDEX tickets_customer ON tickets (customer_id, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id) WHERE closed_at IS NULL;
CREATE INDEX tickets_breach_sweep ON tickets (unbreached_due_at) WHERE closed_at IS NULL;

CREATE TABLE ticket_events (
    id          INTEGER PRIMARY KEY,
    ticket_id   BIGINT  NOT NULL REFERENCES tickets (id),
    seq         BIGINT  NOT NULL,
    at          BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    public      INTEGER NOT NULL,
    data        TEXT    NOT NULL,
    UNIQUE (ticket_id, seq)
);

-- Attachment contents live apart from tickets, once per distinct content.
CREATE TABLE attachment_contents (
    sha256   TEXT    PRIMARY KEY,
    size     BIGINT  NOT NULL,
    content  BLOB    NOT NULL
);

CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    ticket_id     BIGINT  NOT NULL REFERENCES tickets (id),
    event_seq     BIGINT,
    filename      TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    sha256        TEXT    NOT NULL REFERENCES attachment_contents (sha256),
    uploaded_by   TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id);
