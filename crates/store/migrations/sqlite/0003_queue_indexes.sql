-- The queue is read in two steps: the ids of a page from an index that holds every filtered
-- column (so filters never touch the table), then those rows. The common, selective filters
-- also get their own index in queue order, with the due times "at risk" compares. Open
-- tickets by due time serve "at risk" alone.
DROP INDEX tickets_assignee;
DROP INDEX tickets_queue;
CREATE INDEX tickets_queue ON tickets (
    severity_rank, placement_rank, due_sort, id,
    region, language, assignee_id, program, state, customer_id, breached, next_due_at, at_risk_at
) WHERE closed_at IS NULL;
CREATE INDEX tickets_queue_assignee ON tickets (assignee_id, severity_rank, placement_rank, due_sort, id, next_due_at, at_risk_at)
    WHERE closed_at IS NULL;
CREATE INDEX tickets_queue_region ON tickets (region, severity_rank, placement_rank, due_sort, id, next_due_at, at_risk_at)
    WHERE closed_at IS NULL;
CREATE INDEX tickets_queue_customer ON tickets (customer_id, severity_rank, placement_rank, due_sort, id, next_due_at, at_risk_at)
    WHERE closed_at IS NULL;
CREATE INDEX tickets_open_due ON tickets (next_due_at) WHERE closed_at IS NULL;
