-- Every clock now warns before it runs out: open tickets come back to the sweep when their
-- earliest clock turns at risk (before, only a status update turning at risk did), and the
-- warnings still waiting to go out are found by ticket quickly.
UPDATE tickets SET sweep_due_at = at_risk_at
WHERE closed_at IS NULL AND at_risk_at IS NOT NULL
  AND (sweep_due_at IS NULL OR at_risk_at < sweep_due_at);
CREATE INDEX outbox_pending_of_ticket ON outbox (ticket_id) WHERE state = 'pending';
