-- Each ticket's whole timeline as one JSON array of [seq, at, actor, data] in order, kept
-- by the database beside its events (which stay the record: this is a copy for reading).
-- Why: replaying or rebuilding a million tickets read each timeline by gathering its events
-- through the (ticket_id, seq) index and aggregating them, about 14 µs a ticket on the
-- server (measured on 2026-12-07, bench/README.md); one row is read in one piece. The
-- trigger below appends every event inserted into ticket_events. Room is left in each page
-- so that an append's new row version can stay on its page (a heap-only update: no new
-- index entry); a long timeline is stored apart (TOAST) and rewritten whole.
-- Kept in step with migrations/sqlite/0040_ticket_timelines.sql.

-- Events written by another instance between the copy below and the trigger's creation
-- would be missing from the copy for good: they wait for this migration instead.
LOCK TABLE ticket_events IN SHARE ROW EXCLUSIVE MODE;
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
    SET events = CASE WHEN kept.events = '[]' THEN excluded.events
                      ELSE left(kept.events, -1) || ',' || substr(excluded.events, 2) END;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ticket_timelines_appended AFTER INSERT ON ticket_events
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION ticket_timelines_append();
