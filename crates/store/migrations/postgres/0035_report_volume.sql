-- Volume reports: what happened to tickets besides their clocks, and how many were opened
-- and closed each week and month.
--
-- Each ticket row carries its activity beside its measures (escalations asked and automatic,
-- answered; proposals and the customer's consent; decisions outside technical support;
-- professional-services requests; business time waiting on the customer), rewritten with
-- every event; the totals of closed tickets add it up. Tickets already measured are measured
-- again (measures version 2) by the desk's job, which swaps their contribution to the totals.

ALTER TABLE tickets ADD COLUMN escalations_asked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN escalations_automatic BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN escalations_answered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN ever_escalated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN escalated_resolved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN proposals BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN proposals_accepted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN proposals_rejected BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN proposals_unanswered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN outside_support BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN services_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN waiting_minutes BIGINT NOT NULL DEFAULT 0;

ALTER TABLE report_months ADD COLUMN escalations_asked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN escalations_automatic BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN escalations_answered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN ever_escalated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN escalated_resolved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN proposals BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN proposals_accepted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN proposals_rejected BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN proposals_unanswered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN outside_support BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN services_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_months ADD COLUMN waiting_minutes BIGINT NOT NULL DEFAULT 0;

ALTER TABLE report_days ADD COLUMN escalations_asked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN escalations_automatic BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN escalations_answered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN ever_escalated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN escalated_resolved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN proposals BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN proposals_accepted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN proposals_rejected BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN proposals_unanswered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN outside_support BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN services_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_days ADD COLUMN waiting_minutes BIGINT NOT NULL DEFAULT 0;

ALTER TABLE report_people_months ADD COLUMN escalations_asked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN escalations_automatic BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN escalations_answered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN ever_escalated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN escalated_resolved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN proposals BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN proposals_accepted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN proposals_rejected BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN proposals_unanswered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN outside_support BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN services_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_months ADD COLUMN waiting_minutes BIGINT NOT NULL DEFAULT 0;

ALTER TABLE report_people_days ADD COLUMN escalations_asked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN escalations_automatic BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN escalations_answered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN ever_escalated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN escalated_resolved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN proposals BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN proposals_accepted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN proposals_rejected BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN proposals_unanswered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN outside_support BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN services_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_people_days ADD COLUMN waiting_minutes BIGINT NOT NULL DEFAULT 0;

-- The tickets measured under an earlier version, for the desk's job to measure again (the
-- next version replaces this index with its own).
DROP INDEX tickets_unmeasured;
CREATE INDEX tickets_to_measure ON tickets (id) WHERE measures_version IN (0, 1);

-- Closed tickets counted by the week (from Monday, UTC, as `yyyymmdd`) and the month
-- (`yyyymm`) they were opened in and those they were closed in: the flow of a desk over
-- time. Tickets still open are read from their own index. Added to when a ticket closes.
CREATE TABLE report_flows (
    span TEXT NOT NULL,
    period BIGINT NOT NULL,
    flow TEXT NOT NULL,
    program TEXT NOT NULL,
    severity TEXT NOT NULL,
    region TEXT NOT NULL,
    channel TEXT NOT NULL,
    product_line TEXT NOT NULL,
    language TEXT NOT NULL,
    tickets BIGINT NOT NULL,
    PRIMARY KEY (span, period, flow, program, severity, region, channel, product_line, language)
);

INSERT INTO report_flows (span, period, flow, program, severity, region, channel, product_line, language, tickets)
SELECT 'week', CAST(to_char(date_trunc('week', to_timestamp(opened_at) AT TIME ZONE 'UTC'), 'YYYYMMDD') AS BIGINT), 'opened', program, severity, region, channel, product_line, language, COUNT(*)
FROM tickets WHERE closed_at IS NOT NULL AND measures_version > 0
GROUP BY CAST(to_char(date_trunc('week', to_timestamp(opened_at) AT TIME ZONE 'UTC'), 'YYYYMMDD') AS BIGINT), program, severity, region, channel, product_line, language;
INSERT INTO report_flows (span, period, flow, program, severity, region, channel, product_line, language, tickets)
SELECT 'week', CAST(to_char(date_trunc('week', to_timestamp(closed_at) AT TIME ZONE 'UTC'), 'YYYYMMDD') AS BIGINT), 'closed', program, severity, region, channel, product_line, language, COUNT(*)
FROM tickets WHERE closed_at IS NOT NULL AND measures_version > 0
GROUP BY CAST(to_char(date_trunc('week', to_timestamp(closed_at) AT TIME ZONE 'UTC'), 'YYYYMMDD') AS BIGINT), program, severity, region, channel, product_line, language;
INSERT INTO report_flows (span, period, flow, program, severity, region, channel, product_line, language, tickets)
SELECT 'month', CAST(to_char(to_timestamp(opened_at) AT TIME ZONE 'UTC', 'YYYYMM') AS BIGINT), 'opened', program, severity, region, channel, product_line, language, COUNT(*)
FROM tickets WHERE closed_at IS NOT NULL AND measures_version > 0
GROUP BY CAST(to_char(to_timestamp(opened_at) AT TIME ZONE 'UTC', 'YYYYMM') AS BIGINT), program, severity, region, channel, product_line, language;
INSERT INTO report_flows (span, period, flow, program, severity, region, channel, product_line, language, tickets)
SELECT 'month', CAST(to_char(to_timestamp(closed_at) AT TIME ZONE 'UTC', 'YYYYMM') AS BIGINT), 'closed', program, severity, region, channel, product_line, language, COUNT(*)
FROM tickets WHERE closed_at IS NOT NULL AND measures_version > 0
GROUP BY CAST(to_char(to_timestamp(closed_at) AT TIME ZONE 'UTC', 'YYYYMM') AS BIGINT), program, severity, region, channel, product_line, language;

