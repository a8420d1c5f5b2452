-- The managers' views list tickets that are rare among the open ones (an escalation waiting
-- for an answer, a proposal unanswered after its last reminder): each found from an index of
-- its own, in queue order, instead of a walk over every open ticket.
CREATE INDEX tickets_escalation_open ON tickets (severity_rank, placement_rank, due_sort, id)
    WHERE escalation_open AND closed_at IS NULL;
CREATE INDEX tickets_consent_unanswered ON tickets (severity_rank, placement_rank, due_sort, id)
    WHERE consent_unanswered AND closed_at IS NULL;

-- A customer's tickets, newest first, open or closed, searched by subject in the portal:
-- answered from the index alone. It replaces the index on (customer_id, id), so a new
-- ticket writes no more index entries than before.
CREATE INDEX tickets_customer_list ON tickets (customer_id, id, closed_at, subject);
DROP INDEX tickets_customer;
