-- Professional-services requests, and each customer's dedicated customer success manager.
-- Kept in step with migrations/postgres/0005_services_and_csm.sql.

-- Custom programming outside the native languages (POLICY.md §3): a separate, paid request
-- with its own states (requested, quoted, accepted, declined), never on support clocks.
CREATE TABLE service_requests (
    id                    INTEGER PRIMARY KEY,
    customer_id           BIGINT  NOT NULL REFERENCES customers (id),
    contact_id            BIGINT  REFERENCES contacts (id),
    product_line          TEXT    NOT NULL,
    version               TEXT    NOT NULL,
    programming_language  TEXT    NOT NULL,
    subject               TEXT    NOT NULL,
    description           TEXT    NOT NULL,
    -- Why intake made it a professional-services request, as the customer was told.
    reason                TEXT    NOT NULL,
    state                 TEXT    NOT NULL,
    quote                 TEXT,
    quoted_by             TEXT,
    quoted_at             BIGINT,
    -- The customer's acceptance note or the reason for declining.
    answer                TEXT,
    answered_by           TEXT,
    answered_at           BIGINT,
    version_number        BIGINT  NOT NULL,
    created_by            TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    idempotency_key       TEXT,
    request_hash          TEXT,
    UNIQUE (created_by, idempotency_key)
);
CREATE INDEX service_requests_customer ON service_requests (customer_id, id);
CREATE INDEX service_requests_state ON service_requests (state, id);

-- Gold and platinum customers have a dedicated customer success manager (POLICY.md §1).
ALTER TABLE customers ADD COLUMN csm_id BIGINT REFERENCES staff (id);
