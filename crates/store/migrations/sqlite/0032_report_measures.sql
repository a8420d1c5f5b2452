-- Reports (what was promised and what was kept). Beside each ticket, what reports need of
-- its clocks, rewritten with every event like its due times: each of the first-response
-- and resolution clocks' outcome (0 not measured, 1 open, 2 open with a breach recorded,
-- 3 met, 4 breached, 5 stopped in time and awaiting the customer's consent), target and
-- business minutes used, and the band of that use (tenths of the target: 0–9 within it,
-- 10 up to twice, 11 beyond); the status updates owed, late,
-- the band of the longest stretch between two, and whether one is owed now; the business
-- minutes the resolution clock stood still. `measures_version` 0 marks tickets written
-- before this: the job runner's sweep measures them a batch at a time (-1: one the policy
-- no longer fits).
ALTER TABLE tickets ADD COLUMN first_response_outcome BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN first_response_target BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN first_response_used BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN first_response_band BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN resolution_outcome BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN resolution_target BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN resolution_used BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN resolution_band BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN updates_owed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN updates_late BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN updates_band BIGINT;
ALTER TABLE tickets ADD COLUMN updates_running BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN paused_minutes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN measures_version BIGINT NOT NULL DEFAULT 0;

-- A report reads the tickets opened in a period (by customer, by advisor) and those still open.
CREATE INDEX tickets_opened ON tickets (opened_at);
CREATE INDEX tickets_open_opened ON tickets (opened_at) WHERE closed_at IS NULL;
CREATE INDEX tickets_customer_opened ON tickets (customer_id, opened_at);
CREATE INDEX tickets_advisor_opened ON tickets (assignee_id, opened_at);
CREATE INDEX tickets_unmeasured ON tickets (id) WHERE measures_version = 0;
-- The managers' dashboard counts today's breaches.
CREATE INDEX ticket_events_breaches ON ticket_events (at) WHERE kind = 'clock_breached';

-- Closed tickets' measures added up per month of opening (UTC) and per program, severity,
-- region, channel, product line and language, once, when the ticket closes (a closed
-- ticket never changes): a report over years reads these rows, not the tickets.
CREATE TABLE report_months (
    month          BIGINT NOT NULL,
    program        TEXT   NOT NULL,
    severity       TEXT   NOT NULL,
    region         TEXT   NOT NULL,
    channel        TEXT   NOT NULL,
    product_line   TEXT   NOT NULL,
    language       TEXT   NOT NULL,
    tickets        BIGINT NOT NULL,
    paused_minutes BIGINT NOT NULL,
    first_response_met BIGINT NOT NULL,
    first_response_breached BIGINT NOT NULL,
    first_response_b0 BIGINT NOT NULL,
    first_response_b1 BIGINT NOT NULL,
    first_response_b2 BIGINT NOT NULL,
    first_response_b3 BIGINT NOT NULL,
    first_response_b4 BIGINT NOT NULL,
    first_response_b5 BIGINT NOT NULL,
    first_response_b6 BIGINT NOT NULL,
    first_response_b7 BIGINT NOT NULL,
    first_response_b8 BIGINT NOT NULL,
    first_response_b9 BIGINT NOT NULL,
    first_response_b10 BIGINT NOT NULL,
    first_response_b11 BIGINT NOT NULL,
    updates_owed BIGINT NOT NULL,
    updates_late BIGINT NOT NULL,
    updates_b0 BIGINT NOT NULL,
    updates_b1 BIGINT NOT NULL,
    updates_b2 BIGINT NOT NULL,
    updates_b3 BIGINT NOT NULL,
    updates_b4 BIGINT NOT NULL,
    updates_b5 BIGINT NOT NULL,
    updates_b6 BIGINT NOT NULL,
    updates_b7 BIGINT NOT NULL,
    updates_b8 BIGINT NOT NULL,
    updates_b9 BIGINT NOT NULL,
    updates_b10 BIGINT NOT NULL,
    updates_b11 BIGINT NOT NULL,
    resolution_met BIGINT NOT NULL,
    resolution_breached BIGINT NOT NULL,
    resolution_b0 BIGINT NOT NULL,
    resolution_b1 BIGINT NOT NULL,
    resolution_b2 BIGINT NOT NULL,
    resolution_b3 BIGINT NOT NULL,
    resolution_b4 BIGINT NOT NULL,
    resolution_b5 BIGINT NOT NULL,
    resolution_b6 BIGINT NOT NULL,
    resolution_b7 BIGINT NOT NULL,
    resolution_b8 BIGINT NOT NULL,
    resolution_b9 BIGINT NOT NULL,
    resolution_b10 BIGINT NOT NULL,
    resolution_b11 BIGINT NOT NULL,
    PRIMARY KEY (month, program, severity, region, channel, product_line, language)
);
