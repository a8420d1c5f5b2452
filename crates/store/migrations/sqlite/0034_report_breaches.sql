-- The breaches a report lists: tickets with a first-response or resolution breach on
-- record, or a status update recorded as missed, by opening. Few tickets among many.
CREATE INDEX tickets_breached_opened ON tickets (opened_at)
    WHERE first_response_outcome IN (2, 4) OR resolution_outcome IN (2, 4) OR updates_late > 0;
