//! Tickets and their timelines.
//!
//! A ticket row holds what the ticket is (customer, product, channel…) and, beside it, where
//! its timeline says it stands now: state, severity, and the due instants of its clocks, for
//! indexing. Those columns are written from the domain's step ([`caredesk_domain::ticket::step`])
//! in the same transaction as every event appended; nothing updates them otherwise.
//!
//! - [`create`]: opening tickets (one at a time, together through the creation writer in
//!   [`creations`]) and importing whole histories;
//! - [`update`]: one change of a ticket under its row lock, and the sweep;
//! - [`queue`]: the queue and the customers' lists;
//! - [`attachments`]: files, each content kept once;
//! - [`search`]: staff find tickets by the words people wrote in them.

mod attachments;
mod create;
pub(crate) mod creations;
mod queue;
mod rebuild;
mod search;
mod update;

use std::sync::LazyLock;

use caredesk_domain::intake::{CoverageWindow, IntakeFlag, LanguageChoice};
use caredesk_domain::policy::Policy;
use caredesk_domain::report::TicketMeasures;
use caredesk_domain::routing::Assignment;
use caredesk_domain::ticket::step::{Standing, StepError};
use caredesk_domain::ticket::{Actor, Snapshot, TicketEvent, TicketState};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::columns::Columns;
use crate::events::load_events;
use crate::reports::{MEASURE_COLUMNS, measure_assignments, measure_values};
use crate::{Scope, SqlBuilder, Store, StoreError, instant, seconds};

pub(crate) use attachments::NO_FILES;
pub use attachments::{Attachment, AttachmentContent, FileToAttach, FilesToAttach, NewAttachment};
pub(crate) use create::{
    NewRows, NewTicketRows, insert_new_postgres_together, insert_new_sqlite_together,
};
pub use queue::{QueueCursor, QueueFilter, TicketSearch};
pub use rebuild::{RebuildBatch, Rebuilt};
pub use search::{BACKLOG_BATCH, TextSearchPlan, TicketTextHit, TicketTextHits};

/// Sorts after every real due instant (9999-12-31).
const NO_DUE: i64 = 253_402_300_799;

#[derive(Clone, Debug, PartialEq)]
pub struct NewTicket {
    pub customer_id: i64,
    pub contact_id: Option<i64>,
    pub product_id: Option<i64>,
    pub product_line: String,
    pub version: String,
    pub serial: String,
    pub program: String,
    pub region: String,
    pub language: String,
    pub channel: String,
    pub subject: String,
    pub description: String,
    /// The rest of the intake form, as given.
    pub details: serde_json::Value,
    pub severity: String,
    pub actor: Actor,
    /// Who asked for the ticket ("staff:7", "contact:3"): idempotency keys are theirs.
    pub created_by: String,
    pub idempotency_key: Option<String>,
    /// A hash of the request, so a key reused for a different request is refused.
    pub request_hash: Option<String>,
    /// What the intake checks decided, recorded on the timeline after the created event.
    pub intake: Option<IntakeRecord>,
}

/// The outcome of the intake checks for a new ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntakeRecord {
    pub flags: Vec<IntakeFlag>,
    pub language: LanguageChoice,
    pub coverage: CoverageWindow,
    /// Automatic assignment, when it ran.
    pub assignment: Option<Assignment>,
    /// Opened after hours in another language: the one the office works it in.
    pub office_language: Option<String>,
}

/// A ticket as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TicketRecord {
    pub id: i64,
    pub customer_id: i64,
    pub contact_id: Option<i64>,
    pub product_id: Option<i64>,
    pub product_line: String,
    pub version: String,
    pub serial: String,
    pub program: String,
    pub region: String,
    pub language: String,
    pub channel: String,
    pub subject: String,
    pub description: String,
    pub details: serde_json::Value,
    pub severity: String,
    pub state: TicketState,
    pub assignee_id: Option<i64>,
    pub escalated: bool,
    pub escalation_open: bool,
    /// Changes with every event: the ticket's ETag.
    pub version_number: i64,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub calendar: String,
    pub next_due_at: Option<Timestamp>,
    pub at_risk_at: Option<Timestamp>,
    pub first_response_due_at: Option<Timestamp>,
    pub next_update_due_at: Option<Timestamp>,
    pub resolution_due_at: Option<Timestamp>,
    /// A breach has been recorded on the timeline.
    pub breached: bool,
    /// What intake flagged (not covered, outside support scope…), each with its reason.
    pub flags: Vec<IntakeFlag>,
    /// A proposed solution went unanswered past its last reminder.
    pub consent_unanswered: bool,
    /// The policy version its clocks, flags and queue keys were computed under (0: before
    /// the desk kept versions).
    pub policy_version: u32,
    #[serde(skip)]
    pub sort_key: QueueCursor,
}

/// What a breach sweep did.
#[derive(Debug, Default)]
pub struct Sweep {
    /// Tickets that got a breach event.
    pub recorded: usize,
    /// Tickets that could not be swept, with why (the others were swept all the same).
    pub failed: Vec<(i64, StoreError)>,
}

/// Who changes which ticket, when, and on what condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub ticket: i64,
    pub scope: Scope,
    /// Refuse (as a conflict) unless the ticket is still at this version.
    pub expected_version: Option<i64>,
    pub actor: Actor,
    pub now: Timestamp,
}

impl Change {
    /// A change by staff (or the system) of any ticket, whatever its version.
    pub fn by(actor: Actor, ticket: i64, now: Timestamp) -> Change {
        Change {
            ticket,
            scope: Scope::All,
            expected_version: None,
            actor,
            now,
        }
    }
}

/// The outcome of a creation: the ticket, and whether it already existed for this key.
#[derive(Clone, Debug, PartialEq)]
pub struct Created {
    pub ticket: TicketRecord,
    /// Its whole timeline (for its clocks).
    pub timeline: Vec<TicketEvent>,
    pub replayed: bool,
}

/// Why an update did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    /// The caller's decision refused it.
    #[error(transparent)]
    Refused(E),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E> From<sqlx::Error> for UpdateError<E> {
    fn from(error: sqlx::Error) -> Self {
        UpdateError::Store(error.into())
    }
}

pub(crate) const TICKET_COLUMNS: &str = "id, customer_id, contact_id, product_id, product_line, version, serial, \
     program, region, language, channel, subject, description, details, severity, state, assignee_id, \
     escalated, escalation_open, version_number, opened_at, updated_at, closed_at, calendar, \
     severity_rank, placement_rank, due_sort, next_due_at, at_risk_at, first_response_due_at, \
     next_update_due_at, resolution_due_at, breached, flags, consent_unanswered, policy_version";

/// The open tickets of `product_line` waiting for a release with their fix (P4, planned for
/// a release), oldest first.
pub(crate) async fn planned_for_a_release<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    product_line: &str,
) -> Result<Vec<TicketRecord>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE state = $1 AND product_line = $2 ORDER BY id"
    )))
    .bind(TicketState::PlannedForRelease.as_str())
    .bind(product_line)
    .fetch_all(executor)
    .await?;
    rows.iter().map(ticket_of).collect()
}

impl Store {
    /// A ticket, if the scope lets the caller see it (otherwise `NotFound`, as for a ticket
    /// that does not exist).
    pub async fn ticket(&self, id: i64, scope: Scope) -> Result<TicketRecord, StoreError> {
        let mut query =
            SqlBuilder::new(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = "));
        query.bind_i64(id);
        if let Scope::Customer(customer_id) = scope {
            query.push(" AND customer_id = ").bind_i64(customer_id);
        }
        let row = query
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        ticket_of(&row)
    }

    /// A ticket's timeline, in order; a customer's contact sees only the public events.
    pub async fn timeline(&self, id: i64, scope: Scope) -> Result<Vec<TicketEvent>, StoreError> {
        self.ticket(id, scope).await?;
        let events = load_events(&self.pool, id).await?;
        Ok(match scope {
            Scope::All => events,
            Scope::Customer(_) => events
                .into_iter()
                .filter(|event| event.data.is_public())
                .collect(),
        })
    }
}

impl Store {
    /// The open tickets of customer `customer_id` about its product `serial`, oldest first.
    pub async fn open_tickets_of_serial(
        &self,
        customer_id: i64,
        serial: &str,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM tickets \
             WHERE customer_id = $1 AND serial = $2 AND closed_at IS NULL ORDER BY id"
        )))
        .bind(customer_id)
        .bind(serial)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ticket_of).collect()
    }

    /// Reads ticket `id` under a lock for the rest of `transaction`, if the scope lets the
    /// caller see it (otherwise `NotFound`, as for a ticket that does not exist).
    pub(crate) async fn lock_ticket(
        &self,
        transaction: &mut Transaction<'static, Any>,
        id: i64,
        scope: Scope,
    ) -> Result<TicketRecord, StoreError> {
        let mut locking =
            SqlBuilder::new(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = "));
        locking.bind_i64(id);
        if let Scope::Customer(customer_id) = scope {
            locking.push(" AND customer_id = ").bind_i64(customer_id);
        }
        locking.push(self.for_update());
        let row = locking
            .fetch_optional(&mut **transaction)
            .await?
            .ok_or(StoreError::NotFound)?;
        ticket_of(&row)
    }
}

/// Where a ticket stands ([`Standing`], the domain's), in the shape of its row's columns:
/// instants as Unix seconds, flags as JSON.
#[derive(Clone)]
struct StandingColumns {
    snapshot: Snapshot,
    calendar: String,
    severity_rank: i64,
    placement_rank: i64,
    due_sort: i64,
    next_due_at: Option<i64>,
    at_risk_at: Option<i64>,
    sweep_due_at: Option<i64>,
    first_response_due_at: Option<i64>,
    next_update_due_at: Option<i64>,
    resolution_due_at: Option<i64>,
    breached: bool,
    /// The snapshot's flags as stored (JSON).
    flags: String,
    /// What reports keep of its clocks.
    measures: TicketMeasures,
    /// The policy version they were computed under (`Policy::stored_as`).
    policy_version: i64,
}

impl StandingColumns {
    fn of(
        standing: &Standing,
        measures: &TicketMeasures,
        policy: &Policy,
    ) -> Result<StandingColumns, StoreError> {
        let flags = serde_json::to_string(&standing.snapshot.flags)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let next_due_at = standing.next_due_at.map(seconds);
        Ok(StandingColumns {
            snapshot: standing.snapshot.clone(),
            calendar: standing.calendar.clone(),
            severity_rank: standing.severity_rank,
            placement_rank: standing.placement_rank,
            due_sort: next_due_at.unwrap_or(NO_DUE),
            next_due_at,
            at_risk_at: standing.at_risk_at.map(seconds),
            sweep_due_at: standing.sweep_due_at.map(seconds),
            first_response_due_at: standing.first_response_due_at.map(seconds),
            next_update_due_at: standing.next_update_due_at.map(seconds),
            resolution_due_at: standing.resolution_due_at.map(seconds),
            breached: standing.breached,
            flags,
            measures: *measures,
            policy_version: i64::from(policy.stored_as),
        })
    }

    /// The advisor load the ticket counts towards: its assignee and severity, while open.
    fn load_key(&self) -> Option<(i64, &str)> {
        match (self.snapshot.assignee, self.snapshot.closed_at) {
            (Some(advisor), None) => Some((advisor, self.snapshot.severity.as_str())),
            _ => None,
        }
    }
}

/// A step the timeline or the policy does not allow, as the store reports it.
fn step_error(error: StepError) -> StoreError {
    match error {
        StepError::NoCreatedEvent => {
            StoreError::Corrupt("a timeline without its created event".into())
        }
        StepError::TimelineFull => StoreError::Conflict("the timeline is full".into()),
        other => StoreError::Policy(other.to_string()),
    }
}

/// Adds `change` (a placeholder or a literal) open tickets of the severity bound at
/// `$severity` to the load of the advisor bound at `$advisor`.
fn add_load_sql(advisor: usize, severity: usize, change: &str) -> String {
    format!(
        "INSERT INTO advisor_loads (staff_id, severity, open_tickets) \
         VALUES (${advisor}, ${severity}, {change}) ON CONFLICT (staff_id, severity) \
         DO UPDATE SET open_tickets = advisor_loads.open_tickets + excluded.open_tickets"
    )
}

/// Moves a ticket's weight between advisor loads when its assignee, severity or openness
/// changed. The two rows are always taken in key order, so that two changes moving weight in
/// opposite directions cannot deadlock on PostgreSQL's row locks.
async fn move_load(
    transaction: &mut Transaction<'static, Any>,
    from: Option<(i64, &str)>,
    to: Option<(i64, &str)>,
) -> Result<(), StoreError> {
    if from == to {
        return Ok(());
    }
    let mut changes: Vec<((i64, &str), i64)> = from
        .map(|key| (key, -1))
        .into_iter()
        .chain(to.map(|key| (key, 1)))
        .collect();
    changes.sort_unstable();
    for ((advisor, severity), change) in changes {
        sqlx::query(sqlx::AssertSqlSafe(add_load_sql(1, 2, "$3")))
            .bind(advisor)
            .bind(severity)
            .bind(change)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

/// The rewrite of a ticket's derived columns: where it stands, then its measures.
static WRITE_STANDING: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE tickets SET severity = $1, state = $2, assignee_id = $3, escalated = $4, escalation_open = $5, \
         version_number = $6, updated_at = $7, closed_at = $8, calendar = $9, severity_rank = $10, \
         placement_rank = $11, due_sort = $12, next_due_at = $13, at_risk_at = $14, sweep_due_at = $15, \
         first_response_due_at = $16, next_update_due_at = $17, resolution_due_at = $18, breached = $19, \
         flags = $20, consent_unanswered = $21, language = COALESCE($22, language), \
         policy_version = $23, {} WHERE id = ${}",
        measure_assignments(24),
        24 + MEASURE_COLUMNS.len()
    )
});

/// The standing of a closed ticket that keeps the measurement (and the policy version) it
/// was closed under: the rest of what `WRITE_STANDING` writes.
static WRITE_STANDING_KEEPING_MEASUREMENT: LazyLock<String> = LazyLock::new(|| {
    "UPDATE tickets SET severity = $1, state = $2, assignee_id = $3, escalated = $4, \
     escalation_open = $5, version_number = $6, updated_at = $7, closed_at = $8, calendar = $9, \
     severity_rank = $10, placement_rank = $11, due_sort = $12, next_due_at = $13, \
     at_risk_at = $14, sweep_due_at = $15, first_response_due_at = $16, \
     next_update_due_at = $17, resolution_due_at = $18, breached = $19, flags = $20, \
     consent_unanswered = $21, language = COALESCE($22, language) WHERE id = $23"
        .to_string()
});

async fn write_standing_keeping_measurement(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    derived: &StandingColumns,
) -> Result<(), StoreError> {
    standing_query(&WRITE_STANDING_KEEPING_MEASUREMENT, derived)
        .bind(id)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// `sql` with a ticket's standing bound to `$1` to `$22`, as both writes of it take them.
fn standing_query<'q>(
    sql: &'q str,
    derived: &'q StandingColumns,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    let snapshot = &derived.snapshot;
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&snapshot.severity)
        .bind(snapshot.state.as_str())
        .bind(snapshot.assignee)
        .bind(snapshot.escalated)
        .bind(snapshot.escalation_open)
        .bind(i64::from(snapshot.event_count))
        .bind(seconds(snapshot.last_event_at))
        .bind(snapshot.closed_at.map(seconds))
        .bind(&derived.calendar)
        .bind(derived.severity_rank)
        .bind(derived.placement_rank)
        .bind(derived.due_sort)
        .bind(derived.next_due_at)
        .bind(derived.at_risk_at)
        .bind(derived.sweep_due_at)
        .bind(derived.first_response_due_at)
        .bind(derived.next_update_due_at)
        .bind(derived.resolution_due_at)
        .bind(derived.breached)
        .bind(&derived.flags)
        .bind(snapshot.consent_unanswered)
        // The language the ticket is worked in now (a shift change after hours changes it).
        .bind(&snapshot.language)
}

async fn write_standing(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    derived: &StandingColumns,
) -> Result<(), StoreError> {
    let mut query = standing_query(&WRITE_STANDING, derived).bind(derived.policy_version);
    for value in measure_values(&derived.measures) {
        query = query.bind(value);
    }
    query.bind(id).execute(&mut **transaction).await?;
    Ok(())
}

fn optional_instant(row: &AnyRow, column: &str) -> Result<Option<Timestamp>, StoreError> {
    row.try_get::<Option<i64>, _>(column)?
        .map(instant)
        .transpose()
}

pub(crate) fn ticket_of(row: &AnyRow) -> Result<TicketRecord, StoreError> {
    let state: String = row.try_get("state")?;
    let details: String = row.try_get("details")?;
    Ok(TicketRecord {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        contact_id: row.try_get("contact_id")?,
        product_id: row.try_get("product_id")?,
        product_line: row.try_get("product_line")?,
        version: row.try_get("version")?,
        serial: row.try_get("serial")?,
        program: row.try_get("program")?,
        region: row.try_get("region")?,
        language: row.try_get("language")?,
        channel: row.try_get("channel")?,
        subject: row.try_get("subject")?,
        description: row.try_get("description")?,
        details: serde_json::from_str(&details)
            .map_err(|error| StoreError::Corrupt(format!("ticket details: {error}")))?,
        severity: row.try_get("severity")?,
        state: TicketState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown state \"{state}\"")))?,
        assignee_id: row.try_get("assignee_id")?,
        escalated: row.flag("escalated")?,
        escalation_open: row.flag("escalation_open")?,
        version_number: row.try_get("version_number")?,
        opened_at: instant(row.try_get("opened_at")?)?,
        updated_at: instant(row.try_get("updated_at")?)?,
        closed_at: optional_instant(row, "closed_at")?,
        calendar: row.try_get("calendar")?,
        next_due_at: optional_instant(row, "next_due_at")?,
        at_risk_at: optional_instant(row, "at_risk_at")?,
        first_response_due_at: optional_instant(row, "first_response_due_at")?,
        next_update_due_at: optional_instant(row, "next_update_due_at")?,
        resolution_due_at: optional_instant(row, "resolution_due_at")?,
        breached: row.flag("breached")?,
        flags: serde_json::from_str(&row.try_get::<String, _>("flags")?)
            .map_err(|error| StoreError::Corrupt(format!("ticket flags: {error}")))?,
        consent_unanswered: row.flag("consent_unanswered")?,
        policy_version: u32::try_from(row.try_get::<i64, _>("policy_version")?)
            .map_err(|error| StoreError::Corrupt(format!("policy_version: {error}")))?,
        sort_key: QueueCursor {
            severity_rank: row.try_get("severity_rank")?,
            placement_rank: row.try_get("placement_rank")?,
            due_sort: row.try_get("due_sort")?,
            id: row.try_get("id")?,
        },
    })
}
