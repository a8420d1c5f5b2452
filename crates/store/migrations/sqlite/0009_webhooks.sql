-- Webhooks: URLs that receive every ticket event as signed JSON, through the outbox (one
-- row per event and webhook, kind 'ticket_event', recipient 'webhook'), so they are
-- retried and never lost like any notice. Kept in step with migrations/postgres/0009_webhooks.sql.
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    url         TEXT    NOT NULL,
    -- Signs each delivery (HMAC-SHA256); shown once, when the webhook is registered.
    secret      TEXT    NOT NULL,
    active      INTEGER NOT NULL DEFAULT TRUE,
    created_by  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

ALTER TABLE outbox ADD COLUMN webhook_id BIGINT REFERENCES webhooks (id);
