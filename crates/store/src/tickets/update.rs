//! Changing a ticket: under its row lock, the caller's decision and the domain's step,
//! written with the step's events, columns, notices and files in one transaction; and the
//! sweep, the same step with an empty change.

use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::ticket::rebuild::{OpenTicket, every_core, rebuild_steps};
use caredesk_domain::ticket::step::{StepError, step};
use caredesk_domain::ticket::{Actor, ClockKind, EventData, Snapshot, TicketEvent};
use jiff::Timestamp;
use sqlx::{Any, Row, Transaction};

use super::attachments::{FilesToAttach, NO_FILES, insert_attachment};

use super::{
    Change, StandingColumns, Sweep, TICKET_COLUMNS, TicketRecord, UpdateError, move_load,
    step_error, ticket_of, write_standing, write_standing_keeping_measurement,
};
use crate::events::{TicketWords, append_events};
use crate::events::{event_of, load_events};
use crate::outbox::{
    NoticeRow, drop_stale_warnings, pending_warnings_of, tickets_with_pending_warnings,
    write_notices,
};
use crate::report_work::{WorkedTicket, count_work};
use crate::reports::{
    ClosedTicket, MEASURE_COLUMNS, add_closed, measure_values, recount_closed, stored_measures,
};
use crate::require_version;
use crate::{Scope, Store, StoreError, instant, seconds};

/// Why the breaches a change records happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    /// Time passed the clock's due time (or the change itself moved it).
    TimePassing,
    /// Applying this policy version moved the due time into the past.
    PolicyApplied(u32),
}

/// Whether `clock` of `ticket` was already due by `at` as stored, under the terms before
/// a rebuild: its breach then comes from time passing (the sweep had not come yet), not
/// from the new terms.
fn was_due_by(ticket: &TicketRecord, clock: ClockKind, at: Timestamp) -> bool {
    let due = match clock {
        ClockKind::FirstResponse => ticket.first_response_due_at,
        ClockKind::NextUpdate => ticket.next_update_due_at,
        ClockKind::Resolution => ticket.resolution_due_at,
    };
    due.is_some_and(|due| due <= at)
}

/// What a rebuild of some tickets did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Tickets computed again under the version.
    pub tickets: usize,
    /// Breaches the version caused, recorded now.
    pub breaches: usize,
    /// Tickets the version could not time, with why; they keep their earlier clocks.
    pub failed: Vec<(i64, String)>,
}

/// An open ticket a rebuild reads: as stored, its timeline, and whether an at-risk warning
/// of its waits in the outbox (which the new version may no longer want).
struct RebuildRead {
    record: TicketRecord,
    events: Vec<TicketEvent>,
    warned: bool,
}

/// A ticket's standing computed under a new version, and the version of the ticket it was
/// computed from.
struct QuietStanding {
    id: i64,
    version_number: i64,
    columns: StandingColumns,
}

/// Tickets whose standing a rebuild writes in one statement.
const QUIET_ROWS_PER_STATEMENT: usize = 200;

/// The columns a rebuild writes for a ticket the new version gives no event.
const QUIET_COLUMNS: [&str; 12] = [
    "calendar",
    "severity_rank",
    "placement_rank",
    "due_sort",
    "next_due_at",
    "at_risk_at",
    "sweep_due_at",
    "first_response_due_at",
    "next_update_due_at",
    "resolution_due_at",
    "breached",
    "policy_version",
];

/// Writes the standing of `rows` (ticket id, columns) in one statement: their new due
/// times, queue keys and measures, and the version they were computed under.
async fn write_quiet_standings(
    transaction: &mut Transaction<'static, Any>,
    rows: &[QuietStanding],
    version: u32,
) -> Result<u64, StoreError> {
    let columns: Vec<&str> = QUIET_COLUMNS
        .iter()
        .chain(MEASURE_COLUMNS.iter())
        .copied()
        .collect();
    let width = columns.len() + 2;
    // Typed placeholders: PostgreSQL cannot tell the type of a bare parameter in VALUES.
    let types: Vec<&str> = ["BIGINT", "BIGINT"]
        .into_iter()
        .chain(columns.iter().map(|column| match *column {
            "calendar" => "TEXT",
            "breached" => "BOOLEAN",
            _ => "BIGINT",
        }))
        .collect();
    let values: Vec<String> = (0..rows.len())
        .map(|row| {
            let cells: Vec<String> = types
                .iter()
                .enumerate()
                .map(|(column, kind)| format!("CAST(${} AS {kind})", row * width + column + 1))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    // Only where the ticket is as it was read: unchanged since, still open, still behind.
    let sql = format!(
        "WITH v (id, read_version, {}) AS (VALUES {}) UPDATE tickets SET {} FROM v \
         WHERE tickets.id = v.id AND tickets.version_number = v.read_version \
         AND tickets.closed_at IS NULL AND tickets.policy_version < ${}",
        columns.join(", "),
        values.join(", "),
        columns
            .iter()
            .map(|column| format!("{column} = v.{column}"))
            .collect::<Vec<_>>()
            .join(", "),
        rows.len() * width + 1
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for QuietStanding {
        id,
        version_number,
        columns: standing,
    } in rows
    {
        query = query
            .bind(*id)
            .bind(*version_number)
            .bind(standing.calendar.clone())
            .bind(standing.severity_rank)
            .bind(standing.placement_rank)
            .bind(standing.due_sort)
            .bind(standing.next_due_at)
            .bind(standing.at_risk_at)
            .bind(standing.sweep_due_at)
            .bind(standing.first_response_due_at)
            .bind(standing.next_update_due_at)
            .bind(standing.resolution_due_at)
            .bind(standing.breached)
            .bind(standing.policy_version);
        for value in measure_values(&standing.measures) {
            query = query.bind(value);
        }
    }
    let written = query
        .bind(i64::from(version))
        .execute(&mut **transaction)
        .await?
        .rows_affected();
    Ok(written)
}

/// Of `ids`, the open tickets still computed under a version before `version`.
async fn still_behind(
    transaction: &mut Transaction<'static, Any>,
    ids: &[i64],
    version: u32,
) -> Result<Vec<i64>, StoreError> {
    let list: Vec<String> = (1..=ids.len()).map(|number| format!("${number}")).collect();
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM tickets WHERE closed_at IS NULL AND id IN ({}) AND policy_version < ${}",
        list.join(", "),
        ids.len() + 1
    )));
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query
        .bind(i64::from(version))
        .fetch_all(&mut **transaction)
        .await?)
}

/// What one change wrote.
pub(crate) struct Changed {
    /// The ticket's whole timeline after it.
    pub(crate) timeline: Vec<TicketEvent>,
    /// Whether it wrote to the outbox (events go to webhooks, notices to people).
    pub(crate) told: bool,
    /// How many events at the end of the timeline it appended.
    pub(crate) appended: usize,
}

impl Store {
    /// Appends the events `decide` returns for the ticket as it stands, recomputes its clocks
    /// and records any breach, in one transaction. With `expected_version`, refuses (as a
    /// conflict) to build on anything but that version.
    pub async fn update_ticket<E>(
        &self,
        policy: &Policy,
        change: Change,
        decide: impl FnOnce(&TicketRecord, &Snapshot) -> Result<Vec<EventData>, E>,
    ) -> Result<(TicketRecord, Vec<TicketEvent>), UpdateError<E>> {
        self.update_ticket_with_files(policy, change, &NO_FILES, decide)
            .await
    }

    /// As [`Store::update_ticket`], and in the same transaction keeps `files` on the last
    /// event the change's actor wrote (the reply they came with, not a breach the desk
    /// recorded after it): a failure leaves neither the event nor its files.
    pub async fn update_ticket_with_files<E>(
        &self,
        policy: &Policy,
        change: Change,
        files: &FilesToAttach<'_>,
        decide: impl FnOnce(&TicketRecord, &Snapshot) -> Result<Vec<EventData>, E>,
    ) -> Result<(TicketRecord, Vec<TicketEvent>), UpdateError<E>> {
        let (id, scope) = (change.ticket, change.scope);
        let mut transaction = self.begin_write().await?;
        let changed = self
            .change_in(&mut transaction, policy, change, files, decide)
            .await?;
        transaction.commit().await?;
        if changed.told {
            self.outbox_written.notify_one();
        }
        Ok((self.ticket(id, scope).await?, changed.timeline))
    }

    /// One change of a ticket inside `transaction` (which the caller commits): the ticket
    /// locked, the caller's decision, the domain's step, and its events, columns, notices and
    /// files written. Several tickets can change in one transaction this way, with whatever
    /// else it writes (a release publication and the tickets planned for it).
    pub(crate) async fn change_in<E>(
        &self,
        transaction: &mut Transaction<'static, Any>,
        policy: &Policy,
        change: Change,
        files: &FilesToAttach<'_>,
        decide: impl FnOnce(&TicketRecord, &Snapshot) -> Result<Vec<EventData>, E>,
    ) -> Result<Changed, UpdateError<E>> {
        self.change_under(
            transaction,
            policy,
            change,
            files,
            decide,
            Cause::TimePassing,
        )
        .await
    }

    /// [`Store::change_in`], saying why the breaches it records happened.
    async fn change_under<E>(
        &self,
        transaction: &mut Transaction<'static, Any>,
        policy: &Policy,
        change: Change,
        files: &FilesToAttach<'_>,
        decide: impl FnOnce(&TicketRecord, &Snapshot) -> Result<Vec<EventData>, E>,
        cause: Cause,
    ) -> Result<Changed, UpdateError<E>> {
        let Change {
            ticket: id,
            scope,
            expected_version,
            actor,
            now,
        } = change;
        let ticket = self.lock_ticket(transaction, id, scope).await?;
        require_version("ticket", ticket.version_number, expected_version)?;
        if matches!(cause, Cause::PolicyApplied(_)) && ticket.closed_at.is_some() {
            // Closed since the rebuild chose it: it keeps the measurement it was closed under.
            return Ok(Changed {
                timeline: Vec::new(),
                told: false,
                appended: 0,
            });
        }
        let mut events = load_events(&mut **transaction, id).await?;
        let snapshot = Snapshot::of(&events)
            .ok_or_else(|| StoreError::Corrupt(format!("ticket {id} has no created event")))?;
        let decided = decide(&ticket, &snapshot).map_err(UpdateError::Refused)?;
        // Time on a timeline never runs backwards, whatever the clocks of several servers say.
        let at = instant(seconds(now).max(seconds(snapshot.last_event_at)))?;
        let context = ClockContext {
            program: &ticket.program,
            region: &ticket.region,
            product_line: &ticket.product_line,
        };
        let mut step = step(policy, &context, &events, decided, actor, at).map_err(step_error)?;
        if let Cause::PolicyApplied(version) = cause {
            for event in &mut step.events {
                if let EventData::ClockBreached {
                    clock,
                    policy_change,
                    ..
                } = &mut event.data
                    && !was_due_by(&ticket, *clock, at)
                {
                    *policy_change = Some(version);
                }
            }
        }
        let words = TicketWords {
            subject: &ticket.subject,
            description: &ticket.description,
            language: &ticket.language,
        };
        append_events(transaction, id, &step.events, words).await?;
        let derived = StandingColumns::of(&step.standing, &step.measures, policy)?;
        let load_before = ticket
            .assignee_id
            .filter(|_| ticket.closed_at.is_none())
            .map(|advisor| (advisor, ticket.severity.as_str()));
        move_load(transaction, load_before, derived.load_key()).await?;
        let mut notices: Vec<NoticeRow> = step.notices.iter().map(NoticeRow::of).collect();
        let warnings: Vec<NoticeRow> = step
            .at_risk
            .iter()
            .map(|warning| NoticeRow::at_risk(id, warning))
            .collect();
        let wanted: Vec<String> = warnings
            .iter()
            .filter_map(|warning| warning.dedupe_key.clone())
            .collect();
        drop_stale_warnings(transaction, id, &wanted, at).await?;
        notices.extend(warnings);
        let new_seqs: Vec<u32> = step.events.iter().map(|event| event.seq).collect();
        write_notices(transaction, id, &notices, &new_seqs, at).await?;
        if !files.files.is_empty() {
            // A file without the caller's event would be shown to whoever sees the ticket.
            let own_event = step
                .events
                .iter()
                .rev()
                .find(|event| event.actor == actor)
                .map(|event| i64::from(event.seq))
                .ok_or_else(|| {
                    StoreError::Conflict("the files have no event of yours to go with".into())
                })?;
            for file in files.files {
                insert_attachment(
                    transaction,
                    id,
                    Some(own_event),
                    file,
                    files.uploaded_by,
                    at,
                )
                .await?;
            }
        }
        // The totals hold, for each closed ticket, exactly what its row holds: a change to a
        // closed ticket whose measures come out otherwise (measured by an earlier version of
        // caredesk) swaps its contribution.
        let stored = match ticket.closed_at {
            Some(_) => Some(stored_measures(transaction, id).await?),
            None => None,
        };
        // But a ticket closed under another policy version keeps the measurement it was
        // closed under, and that version, whatever is added to it later (a note).
        let keeps_measurement = ticket.policy_version != policy.stored_as
            && stored.as_ref().is_some_and(|stored| stored.are_current());
        // Always rewritten, even without a new event: which clocks remain to breach depends
        // on `now`, and a stale value would bring the sweep back to this ticket forever.
        if keeps_measurement {
            write_standing_keeping_measurement(transaction, id, &derived).await?;
        } else {
            write_standing(transaction, id, &derived).await?;
        }
        if let Some(closed_at) = derived.snapshot.closed_at.filter(|_| !keeps_measurement) {
            let values = measure_values(&derived.measures);
            let closed = ClosedTicket {
                opened_at: ticket.opened_at,
                closed_at,
                program: &ticket.program,
                severity: &derived.snapshot.severity,
                region: &ticket.region,
                channel: &ticket.channel,
                product_line: &ticket.product_line,
                language: derived
                    .snapshot
                    .language
                    .as_deref()
                    .unwrap_or(&ticket.language),
                customer: ticket.customer_id,
                advisor: derived.snapshot.assignee,
                measures: values,
            };
            match &stored {
                // Closing now: its final measures join the totals, once.
                None => add_closed(transaction, closed).await?,
                Some(stored) if stored.differ_from(&values) => {
                    recount_closed(transaction, &ticket, closed, stored).await?;
                }
                Some(_) => {}
            }
        }
        let told = !notices.is_empty() || !new_seqs.is_empty();
        let first_new = new_seqs.first().copied().unwrap_or(u32::MAX);
        events.extend(step.events);
        let worked = WorkedTicket {
            id,
            program: &ticket.program,
            region: &ticket.region,
            product_line: &ticket.product_line,
            language: &ticket.language,
        };
        count_work(transaction, policy, worked, &events, first_new).await?;
        Ok(Changed {
            timeline: events,
            told,
            appended: new_seqs.len(),
        })
    }

    /// Computes again, under `policy` (a newly applied version), the clocks, flags and queue
    /// keys of the open tickets `ids`, in one transaction, as the sweep does: a clock the
    /// new version finds past its due time gets its breach recorded once, naming the version
    /// as its cause, with the alerts and escalations that follow. Each ticket then records
    /// the version. A ticket the version cannot time is left as it was, and reported.
    ///
    /// Most tickets get no event and no warning from a new version, only other due times:
    /// those are read together, computed on every core, and written in one statement. The
    /// others (a breach to record, a warning to send or to drop) go the way of any change.
    pub async fn rebuild_tickets(
        &self,
        policy: &Policy,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<Rebuilt, StoreError> {
        let mut rebuilt = Rebuilt::default();
        if ids.is_empty() {
            return Ok(rebuilt);
        }
        // Read and computed before the write transaction, which then holds the database's
        // writer only for the writes: ticket creation and actions go on meanwhile.
        let tickets = self.rebuild_read(ids, policy.stored_as).await?;
        let open: Vec<OpenTicket<'_>> = tickets
            .iter()
            .map(|ticket| OpenTicket {
                context: ClockContext {
                    program: &ticket.record.program,
                    region: &ticket.record.region,
                    product_line: &ticket.record.product_line,
                },
                events: &ticket.events,
            })
            .collect();
        // The domain is pure: the batch is computed on every core.
        let computed = rebuild_steps(policy, &open, now, every_core());
        let mut quiet = Vec::new();
        let mut eventful = Vec::new();
        for (ticket, outcome) in tickets.iter().zip(computed) {
            match outcome {
                // One ticket the version cannot time (or whose timeline is damaged) holds up
                // none of the others.
                Err(StepError::NoCreatedEvent) => rebuilt.failed.push((
                    ticket.record.id,
                    "its timeline has no created event".to_string(),
                )),
                Err(error) => rebuilt.failed.push((ticket.record.id, error.to_string())),
                Ok(step) if step.events.is_empty() && step.at_risk.is_empty() && !ticket.warned => {
                    quiet.push(QuietStanding {
                        id: ticket.record.id,
                        version_number: ticket.record.version_number,
                        columns: StandingColumns::of(&step.standing, &step.measures, policy)?,
                    });
                }
                Ok(_) => eventful.push(ticket.record.id),
            }
        }
        let mut transaction = self.begin_write().await?;
        // A ticket changed since it was read, or warned of meanwhile, goes the way of any
        // change, under its lock.
        let warned_since = tickets_with_pending_warnings(
            &mut transaction,
            &quiet.iter().map(|ticket| ticket.id).collect::<Vec<_>>(),
        )
        .await?;
        let (warned, quiet): (Vec<QuietStanding>, Vec<QuietStanding>) = quiet
            .into_iter()
            .partition(|ticket| warned_since.contains(&ticket.id));
        eventful.extend(warned.iter().map(|ticket| ticket.id));
        for chunk in quiet.chunks(QUIET_ROWS_PER_STATEMENT) {
            let written = write_quiet_standings(&mut transaction, chunk, policy.stored_as).await?;
            if written == chunk.len() as u64 {
                rebuilt.tickets += chunk.len();
                continue;
            }
            let chunk_ids: Vec<i64> = chunk.iter().map(|ticket| ticket.id).collect();
            let left = still_behind(&mut transaction, &chunk_ids, policy.stored_as).await?;
            rebuilt.tickets += chunk.len() - left.len();
            eventful.extend(left);
        }
        let mut told = false;
        for id in eventful {
            let changed = self
                .change_under(
                    &mut transaction,
                    policy,
                    Change::by(Actor::System, id, now),
                    &NO_FILES,
                    |_, _| Ok::<_, std::convert::Infallible>(Vec::new()),
                    Cause::PolicyApplied(policy.stored_as),
                )
                .await;
            match changed {
                Ok(changed) => {
                    rebuilt.tickets += 1;
                    told |= changed.told;
                    let first_new = changed.timeline.len().saturating_sub(changed.appended);
                    rebuilt.breaches += changed.timeline[first_new..]
                        .iter()
                        .filter(|event| {
                            matches!(
                                event.data,
                                EventData::ClockBreached {
                                    policy_change: Some(version),
                                    ..
                                } if version == policy.stored_as
                            )
                        })
                        .count();
                }
                // The step refused before anything was written: the transaction goes on.
                // (The store's own errors end it: on PostgreSQL it cannot go on after one.)
                Err(UpdateError::Store(
                    StoreError::Policy(reason) | StoreError::Corrupt(reason),
                )) => {
                    rebuilt.failed.push((id, reason));
                }
                Err(UpdateError::Store(error)) => return Err(error),
                Err(UpdateError::Refused(never)) => match never {},
            }
        }
        transaction.commit().await?;
        if told {
            self.outbox_written.notify_one();
        }
        Ok(rebuilt)
    }

    /// The open tickets of `ids` still computed under a version before `version`, with
    /// their timelines and whether an at-risk warning of theirs waits in the outbox.
    async fn rebuild_read(
        &self,
        ids: &[i64],
        version: u32,
    ) -> Result<Vec<RebuildRead>, StoreError> {
        let list = |first: usize| {
            (first..first + ids.len())
                .map(|number| format!("${number}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE closed_at IS NULL AND id IN ({}) \
             AND policy_version < ${} ORDER BY id",
            list(1),
            ids.len() + 1,
        )));
        for id in ids {
            query = query.bind(*id);
        }
        // Another rebuild under a later version may have been there first.
        query = query.bind(i64::from(version));
        let mut reader = self.pool.acquire().await?;
        let mut tickets: Vec<RebuildRead> = query
            .fetch_all(&mut *reader)
            .await?
            .iter()
            .map(|row| {
                Ok(RebuildRead {
                    record: ticket_of(row)?,
                    events: Vec::new(),
                    warned: false,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        if tickets.is_empty() {
            return Ok(tickets);
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT ticket_id, seq, at, actor, data FROM ticket_events WHERE ticket_id IN ({}) \
             ORDER BY ticket_id, seq",
            list(1)
        )));
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&mut *reader).await?;
        let mut index = 0;
        for row in &rows {
            let ticket_id: i64 = row.try_get(0)?;
            while index < tickets.len() && tickets[index].record.id < ticket_id {
                index += 1;
            }
            match tickets.get_mut(index) {
                Some(ticket) if ticket.record.id == ticket_id => {
                    ticket.events.push(event_of(row)?);
                }
                _ => {}
            }
        }
        let warned = pending_warnings_of(&mut reader, ids).await?;
        for ticket in &mut tickets {
            ticket.warned = warned.contains(&ticket.record.id);
        }
        Ok(tickets)
    }

    /// Does what the desk does by itself (records breaches, escalates them, takes consent
    /// steps) on every open ticket whose next such moment has passed, up to `limit` tickets;
    /// returns how many tickets got an event.
    pub async fn record_due_breaches(
        &self,
        policy: &Policy,
        now: Timestamp,
        limit: i64,
    ) -> Result<Sweep, StoreError> {
        self.sweep_due(policy, now, limit, |_, _| Vec::new()).await
    }

    /// Like [`Store::record_due_breaches`], each ticket's step also taking what `decide`
    /// says the desk does to it by itself now (a handover at a change of shift), in the same
    /// transaction, as it stands then.
    pub async fn sweep_due(
        &self,
        policy: &Policy,
        now: Timestamp,
        limit: i64,
        mut decide: impl FnMut(&TicketRecord, &Snapshot) -> Vec<EventData>,
    ) -> Result<Sweep, StoreError> {
        let due: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE closed_at IS NULL AND sweep_due_at < $1 \
             ORDER BY sweep_due_at LIMIT $2",
        )
        .bind(seconds(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut recorded = 0;
        let mut failed = Vec::new();
        for id in due {
            let before = self.ticket(id, Scope::All).await?.version_number;
            let swept = self
                .update_ticket(
                    policy,
                    Change::by(Actor::System, id, now),
                    |record, snapshot| Ok::<_, std::convert::Infallible>(decide(record, snapshot)),
                )
                .await;
            match swept {
                Ok((after, _)) if after.version_number > before => recorded += 1,
                Ok(_) => {}
                // One ticket the policy no longer fits must not stop the others' breaches.
                Err(UpdateError::Store(error)) => failed.push((id, error)),
                Err(UpdateError::Refused(never)) => match never {},
            }
        }
        Ok(Sweep { recorded, failed })
    }
}
