-- Each ticket's whole timeline as one JSON array of [seq, at, actor, data] in order, kept
-- by the database beside its events (which stay the record: this is a copy for reading).
-- Why: replaying or rebuilding a million tickets read each timeline by gathering its events
-- through the (ticket_id, seq) index and aggregating them, about 14 µs a ticket on the
-- server; one row is read in one piece. The trigger below keeps it, so that no way of
-- appending an event can forget it. Room is left in each page so that an append can
-- rewrite the row where it is (a heap-only update: the primary key does not change).
-- Kept in step with migrations/sqlite/0040_ticket_timelines.sql.
CREATE TABLE ticket_timelines (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id),
    events    TEXT   NOT NULL
) WITH (fillfactor = 80);

INSERT INTO ticket_timelines (ticket_id, events)
SELECT ticket_id,
       '[' || string_agg('[' || seq || ',' || at || ',' || actor || ',' || data || ']', ','
                         ORDER BY seq) || ']'
FROM ticket_events
GROUP BY ticket_id;

-- The events one statement appended (a ticket's creation writes several, a batch of
-- creations many tickets'), each ticket's in order, are added to its array as text: the
-- closing bracket is replaced by them and a new one, without parsing the array.
CREATE FUNCTION ticket_timelines_append() RETURNS trigger AS $$
BEGIN
    INSERT INTO ticket_timelines AS kept (ticket_id, events)
    SELECT ticket_id,
           '[' || string_agg('[' || seq || ',' || at || ',' || actor || ',' || data || ']', ','
                             ORDER BY seq) || ']'
    FROM appended
    GROUP BY ticket_id
    ORDER BY ticket_id
    ON CONFLICT (ticket_id) DO UPDATE
    SET events = left(kept.events, -1) || ',' || substr(excluded.events, 2);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ticket_timelines_appended AFTER INSERT ON ticket_events
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION ticket_timelines_append();
