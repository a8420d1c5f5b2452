-- Volume reports: what happened to tickets besides their clocks, and how many were opened
-- and closed each week and month.
--
-- Each ticket row carries its activity beside its measures (escalations asked and automatic,
-- answered; proposals and the customer's consent; decisions outside technical support;
-- professional-services requests; business time waiting on the customer), rewritten with
-- every event; the totals of closed tickets add it up. Tickets already measured are measured
-- again (measures version 2) by the desk's job, which swaps their contribution to the totals.

ALTER TABLE tickets ADD COLUMN escalations_asked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN escalations_automatic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN escalations_answered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN ever_escalated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN escalated_resolved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN proposals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN proposals_accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN proposals_rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN proposals_unanswered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN outside_support INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN services_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN waiting_minutes INTEGER NOT NULL DEFAULT 0;

ALTER TABLE report_months ADD COLUMN escalations_asked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN escalations_automatic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN escalations_answered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN ever_escalated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN escalated_resolved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN proposals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN proposals_accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN proposals_rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN proposals_unanswered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN outside_support INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN services_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN waiting_minutes INTEGER NOT NULL DEFAULT 0;

ALTER TABLE report_days ADD COLUMN escalations_asked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN escalations_automatic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN escalations_answered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN ever_escalated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN escalated_resolved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN proposals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN proposals_accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN proposals_rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN proposals_unanswered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN outside_support INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN services_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN waiting_minutes INTEGER NOT NULL DEFAULT 0;

ALTER TABLE report_people_months ADD COLUMN escalations_asked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN escalations_automatic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN escalations_answered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN ever_escalated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN escalated_resolved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN proposals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN proposals_accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN proposals_rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN proposals_unanswered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN outside_support INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN services_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN waiting_minutes INTEGER NOT NULL DEFAULT 0;

ALTER TABLE report_people_days ADD COLUMN escalations_asked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN escalations_automatic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN escalations_answered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN ever_escalated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN escalated_resolved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN proposals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN proposals_accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN proposals_rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN proposals_unanswered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN outside_support INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN services_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN waiting_minutes INTEGER NOT NULL DEFAULT 0;

-- The tickets measured under an earlier version, for the desk's job to measure again (the
-- next version replaces this index with its own).
DROP INDEX tickets_unmeasured;
CREATE INDEX tickets_to_measure ON tickets (id) WHERE measures_version IN (0, 1);

-- Closed tickets counted by the week (from Monday, UTC, as `yyyymmdd`) and the month
-- (`yyyymm`) they were opened in and those they were closed in: the flow of a desk over
-- time. Tickets still open are read from their own index. Added to when a ticket closes.
CREATE TABLE report_flows (
    span TEXT NOT NULL,
    period INTEGER NOT NULL,
    flow TEXT NOT NULL,
    program TEXT NOT NULL,
    severity TEXT NOT NULL,
    region TEXT NOT NULL,
    channel TEXT NOT NULL,
    product_line TEXT NOT NULL,
    language TEXT NOT NULL,
    tickets INTEGER NOT NULL,
    PRIMARY KEY (span, period, flow, program, severity, region, channel, product_line, language)
) WITHOUT ROWID;

INSERT INTO report_flows (span, period, flow, program, severity, region, channel, product_line, language, tickets)
SELECT 'week', CAST(strftime('%Y%m%d', opened_at - ((CAST(strftime('%w', opened_at, 'unixepoch') AS INTEGER) + 6) % 7) * 86400, 'unixepoch') AS INTEGER), 'opened', program, severity, region, channel, product_line, language, COUNT(*)
FROM tickets WHERE closed_at IS NOT NULL AND measures_version > 0
GROUP BY CAST(strftime('%Y%m%d', opened_at - ((CAST(strftime('%w', opened_at, 'unixepoch') AS INTEGER) + 6) % 7) * 86400, 'unixepoch') AS INTEGER), program, severity, region, channel, product_line, language;
INSERT INTO report_flows (span, period, flow, program, severity, region, channel, product_line, language, tickets)
SELECT 'week', CAST(strftime('%Y%m%d', closed_at - ((CAST(strftime('%w', closed_at, 'unixepoch') AS INTEGER) + 6) % 7) * 86400, 'unixepoch') AS INTEGER), 'closed', program, severity, region, channel, product_line, language, COUNT(*)
FROM tickets WHERE closed_at IS NOT NULL AND measures_version > 0
GROUP BY CAST(strftime('%Y%m%d', closed_at - ((CAST(strftime('%w', closed_at, 'unixepoch') AS INTEGER) + 6) % 7) * 86400, 'unixepoch') AS INTEGER), program, severity, region, channel, product_line, language;
INSERT INTO report_flows (span, period, flow, program, severity, region, channel, product_line, language, tickets)
SELECT 'month', CAST(strftime('%Y%m', opened_at, 'unixepoch') AS INTEGER), 'opened', program, severity, region, channel, product_line, language, COUNT(*)
FROM tickets WHERE closed_at IS NOT NULL AND measures_version > 0
GROUP BY CAST(strftime('%Y%m', opened_at, 'unixepoch') AS INTEGER), program, severity, region, channel, product_line, language;
INSERT INTO report_flows (span, period, flow, program, severity, region, channel, product_line, language, tickets)
SELECT 'month', CAST(strftime('%Y%m', closed_at, 'unixepoch') AS INTEGER), 'closed', program, severity, region, channel, product_line, language, COUNT(*)
FROM tickets WHERE closed_at IS NOT NULL AND measures_version > 0
GROUP BY CAST(strftime('%Y%m', closed_at, 'unixepoch') AS INTEGER), program, severity, region, channel, product_line, language;

-- The open tickets' index holds their activity too: a report still reads them without
-- the table. (PostgreSQL keeps its index of 0033: an index holds at most 32 columns there,
-- and a report reads the few open tickets' activity from the table.)
DROP INDEX tickets_open_report;
CREATE INDEX tickets_open_report ON tickets (opened_at, closed_at, program, severity, region, channel, product_line, language, customer_id, assignee_id, paused_minutes, updates_owed, updates_late, updates_running, updates_band, next_update_due_at, first_response_outcome, first_response_band, first_response_due_at, resolution_outcome, resolution_band, resolution_due_at, state, at_risk_at, breached, next_due_at, escalations_asked, escalations_automatic, escalations_answered, ever_escalated, escalated_resolved, proposals, proposals_accepted, proposals_rejected, proposals_unanswered, outside_support, services_requested, waiting_minutes, measures_version) WHERE closed_at IS NULL;
