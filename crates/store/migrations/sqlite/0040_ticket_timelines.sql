-- Each ticket's whole timeline as one JSON array of [seq, at, actor, data] in order, kept
-- by the database beside its events (which stay the record: this is a copy for reading).
-- Why: replaying or rebuilding a million tickets read each timeline by gathering its events
-- through the (ticket_id, seq) index, about 12 µs a ticket (measured on 2026-12-07,
-- bench/README.md); one row is read in one piece. The trigger below appends every event
-- inserted into ticket_events. (The copy and the trigger are made in the migration's one
-- transaction, and SQLite lets no other writer commit in between.)
-- Kept in step with migrations/postgres/0040_ticket_timelines.sql.
CREATE TABLE ticket_timelines (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),
    events    TEXT    NOT NULL
);

INSERT INTO ticket_timelines (ticket_id, events)
SELECT ticket_id,
       '[' || group_concat('[' || seq || ',' || at || ',' || actor || ',' || data || ']', ','
                           ORDER BY seq) || ']'
FROM ticket_events
GROUP BY ticket_id;

-- An event is appended to its ticket's array: its last character (the closing bracket) is
-- replaced by the event and a new closing bracket, as text, without parsing the array.
CREATE TRIGGER ticket_timelines_appended AFTER INSERT ON ticket_events
BEGIN
    INSERT INTO ticket_timelines (ticket_id, events)
    VALUES (new.ticket_id,
            '[[' || new.seq || ',' || new.at || ',' || new.actor || ',' || new.data || ']]')
    ON CONFLICT (ticket_id) DO UPDATE
    SET events = CASE WHEN events = '[]' THEN excluded.events
                      ELSE substr(events, 1, length(events) - 1) || ',' || substr(excluded.events, 2)
                 END;
END;
