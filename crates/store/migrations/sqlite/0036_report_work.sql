-- The people report: what each member of staff did on tickets, week by week and month by
-- month (UTC) of when they did it, per the ticket's region and language. The counts are
-- those of caredesk_domain::work: tickets handled (the first action of a person on a
-- ticket), actions, replies the customer saw, first responses and those in time, solutions
-- accepted (counted for whoever proposed them), and actions after office hours on tickets
-- that run on an extended calendar.
--
-- Each change of a ticket adds the work of its new events. The work already on the
-- timelines is counted by the desk's job, a batch at a time: every existing ticket is
-- marked to count (work_to_count = 1) and unmarked, in one transaction with its counting,
-- by the job or by the ticket's next change, whichever comes first.

CREATE TABLE report_work (
    span TEXT NOT NULL,
    period INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    region TEXT NOT NULL,
    language TEXT NOT NULL,
    tickets INTEGER NOT NULL DEFAULT 0,
    actions INTEGER NOT NULL DEFAULT 0,
    replies INTEGER NOT NULL DEFAULT 0,
    first_responses INTEGER NOT NULL DEFAULT 0,
    first_responses_in_time INTEGER NOT NULL DEFAULT 0,
    solutions_accepted INTEGER NOT NULL DEFAULT 0,
    after_hours INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (span, period, person_id, region, language)
) WITHOUT ROWID;

-- Every ticket already written is to count: the default, which neither database writes
-- into each row; caredesk writes 0 for the tickets it inserts from now on.
ALTER TABLE tickets ADD COLUMN work_to_count INTEGER NOT NULL DEFAULT 1;
CREATE INDEX tickets_work_to_count ON tickets (id) WHERE work_to_count = 1;
