-- Alerts to administrators that are of no ticket: a burst of failed sign-ins
-- (caredesk_domain::sign_in). They go through the outbox like every notice, so they are
-- retried and never lost: `ticket_id` may now be empty, and such a notice keeps what it says
-- in `details` (JSON), written when the alert is raised.
-- Kept in step with migrations/sqlite/0014_security_alerts.sql.
ALTER TABLE outbox ALTER COLUMN ticket_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN details TEXT;
ALTER TABLE outbox ADD CONSTRAINT outbox_of_a_ticket_or_told
    CHECK (ticket_id IS NOT NULL OR details IS NOT NULL);

-- When administrators were last told that an account or an address was throttled: once
-- per burst. (The account's key is 'account:' and the SHA-256 of the e-mail as typed.)
ALTER TABLE sign_in_failures ADD COLUMN alerted_at BIGINT;
CREATE INDEX sign_in_failures_alerted ON sign_in_failures (alerted_at)
    WHERE alerted_at IS NOT NULL;
