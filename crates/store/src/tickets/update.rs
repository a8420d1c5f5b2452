//! Changing a ticket: under its row lock, the caller's decision and the domain's step,
//! written with the step's events, columns, notices and files in one transaction; and the
//! sweep, the same step with an empty change.

use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::ticket::rebuild::{OpenTicket, every_core, rebuild_steps};
use caredesk_domain::ticket::step::{StepError, step};
use caredesk_domain::ticket::{Actor, EventData, Snapshot, TicketEvent};
use jiff::Timestamp;
use sqlx::{Any, Row, Transaction};

use super::attachments::{FilesToAttach, NO_FILES, insert_attachment};

use super::{
    Change, StandingColumns, Sweep, TICKET_COLUMNS, TicketRecord, UpdateError, move_load,
    step_error, ticket_of, write_standing,
};
use crate::events::{TicketWords, append_events};
use crate::events::{event_of, load_events};
use crate::outbox::{NoticeRow, drop_stale_warnings, tickets_with_pending_warnings, write_notices};
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
    rows: &[(i64, StandingColumns)],
) -> Result<(), StoreError> {
    let columns: Vec<&str> = QUIET_COLUMNS
        .iter()
        .chain(MEASURE_COLUMNS.iter())
        .copied()
        .collect();
    let width = columns.len() + 1;
    // Typed placeholders: PostgreSQL cannot tell the type of a bare parameter in VALUES.
    let types: Vec<&str> = std::iter::once("BIGINT")
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
    let sql = format!(
        "WITH v (id, {}) AS (VALUES {}) UPDATE tickets SET {} FROM v WHERE tickets.id = v.id",
        columns.join(", "),
        values.join(", "),
        columns
            .iter()
            .map(|column| format!("{column} = v.{column}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (id, standing) in rows {
        query = query
            .bind(*id)
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
    query.execute(&mut **transaction).await?;
    Ok(())
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
                if let EventData::ClockBreached { policy_change, .. } = &mut event.data {
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
        // caredesk, or under another policy since) swaps its contribution.
        let stored = match ticket.closed_at {
            Some(_) => Some(stored_measures(transaction, id).await?),
            None => None,
        };
        // Always rewritten, even without a new event: which clocks remain to breach depends
        // on `now`, and a stale value would bring the sweep back to this ticket forever.
        write_standing(transaction, id, &derived).await?;
        if let Some(closed_at) = derived.snapshot.closed_at {
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
        let mut transaction = self.begin_write().await?;
        let tickets = self.rebuild_read(&mut transaction, ids).await?;
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
        // The domain is pure: the batch is computed on every core while its transaction
        // waits (a few milliseconds).
        let computed = rebuild_steps(policy, &open, now, every_core());
        let mut quiet = Vec::new();
        let mut eventful = Vec::new();
        for (ticket, outcome) in tickets.iter().zip(computed) {
            match outcome {
                Err(StepError::NoCreatedEvent) => {
                    return Err(StoreError::Corrupt(format!(
                        "ticket {} has no created event",
                        ticket.record.id
                    )));
                }
                Err(error) => rebuilt.failed.push((ticket.record.id, error.to_string())),
                Ok(step) if step.events.is_empty() && step.at_risk.is_empty() && !ticket.warned => {
                    quiet.push((
                        ticket.record.id,
                        StandingColumns::of(&step.standing, &step.measures, policy)?,
                    ));
                }
                Ok(_) => eventful.push(ticket.record.id),
            }
        }
        for chunk in quiet.chunks(QUIET_ROWS_PER_STATEMENT) {
            write_quiet_standings(&mut transaction, chunk).await?;
        }
        rebuilt.tickets += quiet.len();
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
                Err(UpdateError::Store(StoreError::Policy(reason))) => {
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

    /// The open tickets of `ids`, locked for the transaction, with their timelines and
    /// whether an at-risk warning of theirs waits in the outbox.
    async fn rebuild_read(
        &self,
        transaction: &mut Transaction<'static, Any>,
        ids: &[i64],
    ) -> Result<Vec<RebuildRead>, StoreError> {
        let list = |first: usize| {
            (first..first + ids.len())
                .map(|number| format!("${number}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE closed_at IS NULL AND id IN ({}) \
             ORDER BY id{}",
            list(1),
            self.for_update()
        )));
        for id in ids {
            query = query.bind(*id);
        }
        let mut tickets: Vec<RebuildRead> = query
            .fetch_all(&mut **transaction)
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
        let rows = query.fetch_all(&mut **transaction).await?;
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
        let warned = tickets_with_pending_warnings(transaction, ids).await?;
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
