//! Changing a ticket: under its row lock, the caller's decision and the domain's step,
//! written with the step's events, columns, notices and files in one transaction; and the
//! sweep, the same step with an empty change.

use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::ticket::step::step;
use caredesk_domain::ticket::{Actor, ClockKind, EventData, Snapshot, TicketEvent};
use jiff::Timestamp;
use sqlx::{Any, Transaction};

use super::attachments::{FilesToAttach, NO_FILES, insert_attachment};

use super::{
    Change, StandingColumns, Sweep, TicketRecord, UpdateError, move_load, step_error,
    write_standing, write_standing_keeping_measurement,
};
use crate::events::load_events;
use crate::events::{TicketWords, append_events};
use crate::outbox::{NoticeRow, drop_stale_warnings, write_notices};
use crate::report_work::{WorkedTicket, count_work};
use crate::reports::{ClosedTicket, add_closed, measure_values, recount_closed, stored_measures};
use crate::require_version;
use crate::{Scope, Store, StoreError, instant, seconds};

/// Why the breaches a change records happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cause {
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
    pub(super) async fn change_under<E>(
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
