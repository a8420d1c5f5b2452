-- The policy at work: intake flags on tickets, advisors' availability and on-call duty,
-- proposals left unanswered, and the sweep's next moment per ticket.
-- Kept in step with migrations/postgres/0004_policy_at_work.sql.

-- Present and taking new tickets (an advisor on leave stays active but unavailable).
ALTER TABLE staff ADD COLUMN available INTEGER NOT NULL DEFAULT TRUE;

-- What intake found (JSON array of flags), derived from the timeline like the clocks.
ALTER TABLE tickets ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';

-- Who is on call for an office after its hours.
CREATE TABLE on_call_shifts (
    id         INTEGER PRIMARY KEY,
    region     TEXT    NOT NULL,
    staff_id   BIGINT  NOT NULL REFERENCES staff (id),
    starts_at  BIGINT  NOT NULL,
    ends_at    BIGINT  NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX on_call_shifts_region ON on_call_shifts (region, ends_at);

-- A proposal went unanswered past its last reminder: listed for the support manager.
ALTER TABLE tickets ADD COLUMN consent_unanswered INTEGER NOT NULL DEFAULT FALSE;

-- The sweep now also sends consent reminders: the column holds the next time the desk has
-- something to do to the ticket by itself (a clock to breach, a consent step).
ALTER TABLE tickets RENAME COLUMN unbreached_due_at TO sweep_due_at;
