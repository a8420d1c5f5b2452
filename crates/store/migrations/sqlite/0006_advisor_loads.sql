-- Each advisor's open tickets per severity, kept in step with the tickets in the same
-- transaction as every change, so intake reads an advisor's load in a row per severity
-- instead of counting the advisor's open tickets on every new ticket.
-- Kept in step with migrations/postgres/0006_advisor_loads.sql.
CREATE TABLE advisor_loads (
    staff_id      BIGINT  NOT NULL REFERENCES staff (id),
    severity      TEXT    NOT NULL,
    open_tickets  BIGINT  NOT NULL,
    PRIMARY KEY (staff_id, severity)
);

INSERT INTO advisor_loads (staff_id, severity, open_tickets)
SELECT assignee_id, severity, COUNT(*) FROM tickets
WHERE closed_at IS NULL AND assignee_id IS NOT NULL
GROUP BY assignee_id, severity;
