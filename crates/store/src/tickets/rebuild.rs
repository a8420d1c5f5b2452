//! A newly applied policy version computed into open tickets, a batch at a time: the batch
//! is read outside the write transaction, computed on every core, and written a statement
//! for each set of columns that moved (the tickets whose standing stays record only the
//! version), so that each writes only the indexes it must, and the database's writer is
//! held only for the writes and
//! ticket creation and actions go on meanwhile. A ticket the version gives an event or a
//! warning, or that changed since it was read, goes the way of any change, under its lock.

use std::collections::BTreeMap;

use caredesk_domain::policy::Policy;
use caredesk_domain::report::TicketMeasures;
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::ticket::rebuild::{OpenTicket, every_core, rebuild_steps};
use caredesk_domain::ticket::step::{Standing, StepError};
use caredesk_domain::ticket::{Actor, EventData, TicketEvent};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use super::attachments::NO_FILES;
use super::update::Cause;
use super::{Change, NO_DUE, UpdateError};
use crate::columns::Columns;
use crate::events::{timeline_json, timeline_of_json};
use crate::json_table::json_id_list;
use crate::outbox::{pending_warnings_of, tickets_with_pending_warnings};
use crate::reports::{MEASURE_COLUMNS, measure_values};
use crate::{Backend, Store, StoreError, seconds};

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

/// The number columns of a ticket's standing a new version can move, besides its calendar,
/// its breached flag and its measures ([`MEASURE_COLUMNS`]).
const DUE_COLUMNS: [&str; 9] = [
    "severity_rank",
    "placement_rank",
    "due_sort",
    "next_due_at",
    "at_risk_at",
    "sweep_due_at",
    "first_response_due_at",
    "next_update_due_at",
    "resolution_due_at",
];

/// How many numbers [`StandingRow`] holds.
const NUMBERS: usize = DUE_COLUMNS.len() + MEASURE_COLUMNS.len();

/// What a new version can change in an open ticket's row, as stored or as computed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct StandingRow {
    calendar: String,
    breached: bool,
    /// [`DUE_COLUMNS`] then [`MEASURE_COLUMNS`], in order.
    numbers: [Option<i64>; NUMBERS],
}

impl StandingRow {
    /// As the ticket's row would hold `standing` and `measures`.
    fn computed(standing: &Standing, measures: &TicketMeasures) -> StandingRow {
        let next_due_at = standing.next_due_at.map(seconds);
        let due = [
            Some(standing.severity_rank),
            Some(standing.placement_rank),
            Some(next_due_at.unwrap_or(NO_DUE)),
            next_due_at,
            standing.at_risk_at.map(seconds),
            standing.sweep_due_at.map(seconds),
            standing.first_response_due_at.map(seconds),
            standing.next_update_due_at.map(seconds),
            standing.resolution_due_at.map(seconds),
        ];
        let mut numbers = [None; NUMBERS];
        numbers[..DUE_COLUMNS.len()].copy_from_slice(&due);
        numbers[DUE_COLUMNS.len()..].copy_from_slice(&measure_values(measures));
        StandingRow {
            calendar: standing.calendar.clone(),
            breached: standing.breached,
            numbers,
        }
    }

    /// As `row` holds it.
    fn stored(row: &AnyRow) -> Result<StandingRow, StoreError> {
        let mut numbers = [None; NUMBERS];
        for (number, column) in numbers
            .iter_mut()
            .zip(DUE_COLUMNS.iter().chain(MEASURE_COLUMNS.iter()))
        {
            *number = row.optional_int(column)?;
        }
        Ok(StandingRow {
            calendar: row.text("calendar")?,
            breached: row.flag("breached")?,
            numbers,
        })
    }

    /// Which of its columns differ from `stored`'s.
    fn changed_from(&self, stored: &StandingRow) -> ChangedColumns {
        let mut changed = ChangedColumns::default();
        if self.calendar != stored.calendar {
            changed.insert(0);
        }
        if self.breached != stored.breached {
            changed.insert(1);
        }
        for (position, (new, old)) in self.numbers.iter().zip(&stored.numbers).enumerate() {
            if new != old {
                changed.insert(2 + position);
            }
        }
        changed
    }

    /// Its cells in the columns `columns`, in order.
    fn cells(&self, columns: ChangedColumns, into: &mut Vec<serde_json::Value>) {
        for position in columns.positions() {
            into.push(match position {
                0 => self.calendar.as_str().into(),
                1 => self.breached.into(),
                number => self.numbers[number - 2].into(),
            });
        }
    }
}

/// Some of a standing's columns, by their positions in [`standing_columns`].
// Every column has a bit.
const _: () = assert!(2 + NUMBERS <= u64::BITS as usize);
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct ChangedColumns(u64);

impl ChangedColumns {
    fn insert(&mut self, position: usize) {
        self.0 |= 1 << position;
    }

    /// Every column of a standing.
    const ALL: ChangedColumns = ChangedColumns((1 << (2 + NUMBERS)) - 1);

    fn contains(self, position: usize) -> bool {
        self.0 & (1 << position) != 0
    }

    fn positions(self) -> impl Iterator<Item = usize> {
        (0..2 + NUMBERS).filter(move |position| self.contains(*position))
    }
}

/// Every column of a standing a rebuild can write, with its SQL type: the calendar, the
/// breached flag, [`DUE_COLUMNS`] then [`MEASURE_COLUMNS`].
fn standing_columns() -> impl Iterator<Item = (&'static str, &'static str)> {
    [("calendar", "TEXT"), ("breached", "BOOLEAN")]
        .into_iter()
        .chain(
            DUE_COLUMNS
                .iter()
                .chain(MEASURE_COLUMNS.iter())
                .map(|column| (*column, "BIGINT")),
        )
}

/// What a rebuild keeps of a ticket's step under the new version.
enum Computed {
    /// Nothing to record and no warning to send: the row it would hold.
    Quiet(Box<StandingRow>),
    /// Events to record or warnings to send: it goes the locked way.
    Eventful,
    /// The version cannot time it, and why.
    Failed(String),
}

/// An open ticket a rebuild reads: what decides its clocks besides its timeline, its
/// standing as stored, its timeline, and whether an at-risk warning of its waits in the
/// outbox (which the new version may no longer want).
struct RebuildRead {
    /// The ticket and its version number when read: it is written only if unchanged since.
    guard: Guard,
    program: String,
    region: String,
    product_line: String,
    stored: StandingRow,
    events: Vec<TicketEvent>,
    warned: bool,
}

/// A ticket as read: written only where its version number (which moves with each event)
/// and its policy version (which moves when another rebuild or change writes it under
/// another version) are still these.
#[derive(Clone, Copy, Debug)]
struct Guard {
    id: i64,
    version_number: i64,
    policy_version: i64,
}

/// A batch of open tickets read and computed under a new version, ready to be written
/// ([`Store::write_rebuild`]): reading and computing the next batch can go on while one is
/// written.
#[derive(Debug)]
pub struct RebuildBatch {
    /// Tickets written without their lock, with their new standing, by the columns that
    /// moved (none: only the version is recorded).
    quiet: BTreeMap<ChangedColumns, Vec<(Guard, StandingRow)>>,
    /// Tickets the version gives an event or a warning (or a warning to drop).
    eventful: Vec<i64>,
    /// Tickets the version could not time, with why.
    failed: Vec<(i64, String)>,
    /// When they were computed.
    now: Timestamp,
}

impl RebuildBatch {
    /// How many tickets it holds, timed or not.
    pub fn len(&self) -> usize {
        self.quiet_count() + self.eventful.len() + self.failed.len()
    }

    /// Whether it holds no ticket.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many tickets it writes without their lock.
    fn quiet_count(&self) -> usize {
        self.quiet.values().map(Vec::len).sum()
    }

    /// The tickets it writes without their lock.
    fn quiet_ids(&self) -> Vec<i64> {
        self.quiet
            .values()
            .flatten()
            .map(|(guard, _)| guard.id)
            .collect()
    }
}

impl Store {
    /// Computes again, under `policy` (a newly applied version), the clocks, flags and queue
    /// keys of the open tickets `ids`, as the sweep does: a clock the new version finds
    /// past its due time gets its breach recorded once, naming the version as its cause,
    /// with the alerts and escalations that follow. Each ticket then records the version.
    /// A ticket the version cannot time is left as it was, and reported.
    ///
    /// [`Store::prepare_rebuild`] then [`Store::write_rebuild`].
    pub async fn rebuild_tickets(
        &self,
        policy: &Policy,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<Rebuilt, StoreError> {
        let batch = self.prepare_rebuild(policy, ids, now).await?;
        self.write_rebuild(policy, batch).await
    }

    /// Reads the open tickets of `ids` still behind `policy`'s version and computes each
    /// under it at `now`, outside any write transaction.
    pub async fn prepare_rebuild(
        &self,
        policy: &Policy,
        ids: &[i64],
        now: Timestamp,
    ) -> Result<RebuildBatch, StoreError> {
        let mut batch = RebuildBatch {
            quiet: BTreeMap::new(),
            eventful: Vec::new(),
            failed: Vec::new(),
            now,
        };
        if ids.is_empty() {
            return Ok(batch);
        }
        let tickets = self.rebuild_read(ids, policy.stored_as).await?;
        let open: Vec<OpenTicket<'_>> = tickets
            .iter()
            .map(|ticket| OpenTicket {
                context: ClockContext {
                    program: &ticket.program,
                    region: &ticket.region,
                    product_line: &ticket.product_line,
                },
                events: &ticket.events,
            })
            .collect();
        // The domain is pure: the batch is computed on every core, each step cut down to
        // the row it would write where it is computed.
        let computed = rebuild_steps(policy, &open, now, every_core(), |outcome| {
            match outcome {
                // One ticket the version cannot time (or whose timeline is damaged) holds up
                // none of the others.
                Err(StepError::NoCreatedEvent) => {
                    Computed::Failed("its timeline has no created event".to_string())
                }
                Err(error) => Computed::Failed(error.to_string()),
                Ok(step) if step.events.is_empty() && step.at_risk.is_empty() => Computed::Quiet(
                    Box::new(StandingRow::computed(&step.standing, &step.measures)),
                ),
                Ok(_) => Computed::Eventful,
            }
        });
        for (ticket, outcome) in tickets.iter().zip(computed) {
            match outcome {
                Computed::Failed(reason) => batch.failed.push((ticket.guard.id, reason)),
                Computed::Quiet(row) if !ticket.warned => batch
                    .quiet
                    .entry(row.changed_from(&ticket.stored))
                    .or_default()
                    .push((ticket.guard, *row)),
                Computed::Quiet(_) | Computed::Eventful => batch.eventful.push(ticket.guard.id),
            }
        }
        Ok(batch)
    }

    /// Writes a batch [`Store::prepare_rebuild`] computed under `policy`, in one
    /// transaction: the tickets whose standing alone changes a statement for each set of
    /// columns that moved, the others (and any changed since they were read) under their
    /// lock, as any change.
    pub async fn write_rebuild(
        &self,
        policy: &Policy,
        mut batch: RebuildBatch,
    ) -> Result<Rebuilt, StoreError> {
        let version = policy.stored_as;
        let mut rebuilt = Rebuilt {
            failed: std::mem::take(&mut batch.failed),
            ..Rebuilt::default()
        };
        if batch.is_empty() {
            return Ok(rebuilt);
        }
        let mut transaction = self.begin_write().await?;
        // A ticket warned of since it was read goes the way of any change, under its lock.
        let warned_since =
            tickets_with_pending_warnings(&mut transaction, &batch.quiet_ids()).await?;
        if !warned_since.is_empty() {
            for rows in batch.quiet.values_mut() {
                rows.retain(|(guard, _)| !warned_since.contains(&guard.id));
            }
            batch.eventful.extend(warned_since.iter().copied());
        }
        let quiet = batch.quiet_count();
        let mut written = 0;
        for (changed, rows) in &batch.quiet {
            written += write_standings(&mut transaction, rows, *changed, version).await?;
        }
        rebuilt.tickets += quiet;
        if written < quiet as u64 {
            // Some changed since they were read: they go the locked way.
            let left = still_behind(&mut transaction, &batch.quiet_ids(), version).await?;
            rebuilt.tickets -= left.len();
            batch.eventful.extend(left);
        }
        let mut told = false;
        for id in batch.eventful {
            let changed = self
                .change_under(
                    &mut transaction,
                    policy,
                    Change::by(Actor::System, id, batch.now),
                    &NO_FILES,
                    |_, _| Ok::<_, std::convert::Infallible>(Vec::new()),
                    Cause::PolicyApplied(version),
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
                                    policy_change: Some(caused_by),
                                    ..
                                } if caused_by == version
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
        let standing_columns: Vec<&str> = standing_columns().map(|(column, _)| column).collect();
        let mut reader = self.pool.acquire().await?;
        let mut tickets: Vec<RebuildRead> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, version_number, policy_version, program, region, product_line, {}, \
             {} AS timeline FROM tickets \
             WHERE closed_at IS NULL AND id IN ({}) AND policy_version < $2 ORDER BY id",
            standing_columns.join(", "),
            timeline_json("tickets.id"),
            self.backend.json_ids(1),
        )))
        .bind(json_id_list(ids))
        // Another rebuild under a later version may have been there first.
        .bind(i64::from(version))
        .fetch_all(&mut *reader)
        .await?
        .iter()
        .map(|row| {
            Ok(RebuildRead {
                guard: Guard {
                    id: row.int("id")?,
                    version_number: row.int("version_number")?,
                    policy_version: row.int("policy_version")?,
                },
                program: row.text("program")?,
                region: row.text("region")?,
                product_line: row.text("product_line")?,
                stored: StandingRow::stored(row)?,
                events: timeline_of_json(&row.text("timeline")?)?,
                warned: false,
            })
        })
        .collect::<Result<_, StoreError>>()?;
        if tickets.is_empty() {
            return Ok(tickets);
        }
        let read: Vec<i64> = tickets.iter().map(|ticket| ticket.guard.id).collect();
        let warned = pending_warnings_of(&mut reader, &read).await?;
        for ticket in &mut tickets {
            ticket.warned = warned.contains(&ticket.guard.id);
        }
        Ok(tickets)
    }
}

/// Writes the columns `changed` of each ticket's new standing, and `version`, where the
/// ticket is as it was read (unchanged since, still open, still behind `version`); returns
/// how many it wrote. Only the columns that moved are set: SQLite then writes only the
/// indexes that hold one of them (it rewrites an index when a column of it is set, whatever
/// the value), and a ticket whose minutes alone moved leaves the queue's and the reports'
/// indexes alone. The other columns must still hold what was read: a write that moved no
/// version number (the sweep of an instance still on the version before, the measuring of
/// old tickets) would otherwise leave a row half of this version and half of its own. Such
/// a ticket goes the locked way.
///
/// One statement over the rows sent as one JSON table (see `json_table`): each the ticket,
/// the version number and policy version it was read at (behind `version`), then every
/// column of its new standing, in the order of [`standing_columns`].
async fn write_standings(
    transaction: &mut Transaction<'static, Any>,
    rows: &[(Guard, StandingRow)],
    changed: ChangedColumns,
    version: u32,
) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let table = rows.iter().map(|(guard, row)| {
        let mut cells = Vec::with_capacity(3 + 2 + NUMBERS);
        cells.push(guard.id.into());
        cells.push(guard.version_number.into());
        cells.push(guard.policy_version.into());
        row.cells(ChangedColumns::ALL, &mut cells);
        serde_json::Value::Array(cells)
    });
    let backend = Backend::of(transaction);
    let columns: Vec<(&str, &str)> = [
        ("id", "BIGINT"),
        ("read_version", "BIGINT"),
        ("read_policy_version", "BIGINT"),
    ]
    .into_iter()
    .chain(standing_columns())
    .collect();
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let cells: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(position, (_, kind))| format!("CAST(value ->> {position} AS {kind})"))
        .collect();
    let mut sets = String::new();
    let mut kept = String::new();
    for (position, (name, _)) in standing_columns().enumerate() {
        if changed.contains(position) {
            sets.push_str(&format!("{name} = v.{name}, "));
        } else {
            kept.push_str(&format!(
                " AND tickets.{name} IS NOT DISTINCT FROM v.{name}"
            ));
        }
    }
    let sql = format!(
        "WITH v ({}) AS (SELECT {} FROM {}) UPDATE tickets SET {sets}policy_version = $2 \
         FROM v WHERE tickets.id = v.id AND tickets.version_number = v.read_version \
         AND tickets.policy_version = v.read_policy_version AND tickets.closed_at IS NULL{kept}",
        names.join(", "),
        cells.join(", "),
        backend.json_rows(1),
    );
    let table = serde_json::Value::Array(table.collect());
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(table.to_string())
        .bind(i64::from(version))
        .execute(&mut **transaction)
        .await?
        .rows_affected())
}

/// Of `ids`, the open tickets still computed under a version before `version`.
async fn still_behind(
    transaction: &mut Transaction<'static, Any>,
    ids: &[i64],
    version: u32,
) -> Result<Vec<i64>, StoreError> {
    let backend = Backend::of(transaction);
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM tickets WHERE closed_at IS NULL AND id IN ({}) AND policy_version < $2",
        backend.json_ids(1)
    )))
    .bind(json_id_list(ids))
    .bind(i64::from(version))
    .fetch_all(&mut **transaction)
    .await?)
}
