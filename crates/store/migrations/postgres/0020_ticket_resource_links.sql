-- The resource-center entries advisors linked in a ticket's replies and proposals: which
-- tickets an entry helped with. Kept in step with migrations/sqlite/0020_ticket_resource_links.sql.
CREATE TABLE ticket_resource_links (
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    entry_id   BIGINT NOT NULL REFERENCES resource_entries (id),
    linked_at  BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, entry_id)
);
CREATE INDEX ticket_resource_links_by_entry ON ticket_resource_links (entry_id);
