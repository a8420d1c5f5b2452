//! Tickets and their timelines.
//!
//! A ticket row holds what the ticket is (customer, product, channel…) and, beside it, what
//! its timeline says now: state, severity, and the due instants of its clocks, for indexing.
//! Those derived columns are recomputed from the whole timeline, with the domain's clock
//! engine, in the same transaction as every event appended; nothing updates them otherwise.
//! Breaches the recomputation finds are appended as events in that same transaction.

use std::borrow::Cow;
use std::sync::LazyLock;

use caredesk_domain::intake::{CoverageWindow, IntakeFlag, LanguageChoice};
use caredesk_domain::notify::{NoticeContext, notices_for, update_due_soon};
use caredesk_domain::policy::Policy;
use caredesk_domain::routing::Assignment;
use caredesk_domain::ticket::automatic::{next_system_event_at, system_events};
use caredesk_domain::ticket::clocks::{ClockContext, TicketClocks, compute};
use caredesk_domain::ticket::{Actor, EventData, Snapshot, TicketEvent, TicketState};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::columns::Columns;
use crate::outbox::{NOTICE_VALUES, NoticeRow, bind_notice, webhook_insert_sql, write_notices};
use crate::{SqlBuilder, Store, StoreError, id_by_idempotency_key, instant, seconds, still_at};

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
    #[serde(skip)]
    pub sort_key: QueueCursor,
}

/// Whose tickets a caller may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Staff: every ticket.
    All,
    /// A customer's contact: that customer's tickets only, and only their public events.
    Customer(i64),
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

/// A position in the queue: the ordering columns of the last ticket of a page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueueCursor {
    pub severity_rank: i64,
    pub placement_rank: i64,
    pub due_sort: i64,
    pub id: i64,
}

/// Filters of the queue; `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub customer_id: Option<i64>,
    pub region: Option<String>,
    pub language: Option<String>,
    pub assignee_id: Option<i64>,
    /// Without a state, only open tickets are listed.
    pub state: Option<TicketState>,
    pub program: Option<String>,
    pub at_risk: Option<bool>,
    pub breached: Option<bool>,
    /// With an escalation waiting for the support manager's answer (or without one).
    pub escalation_open: Option<bool>,
    /// With a proposal left unanswered past its last reminder.
    pub consent_unanswered: Option<bool>,
    /// Of the customers this customer success manager looks after.
    pub csm_id: Option<i64>,
    /// Carrying this intake flag (`not_covered`, `incomplete`, …).
    pub flag: Option<String>,
}

/// What a customer looks for among its tickets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketSearch {
    /// A ticket's number, or words of its subject (in any case).
    pub text: String,
    /// Only open (`Some(true)`) or only closed (`Some(false)`) tickets.
    pub open: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttachment {
    pub ticket_id: i64,
    pub event_seq: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
    pub uploaded_by: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub event_seq: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentContent {
    pub attachment: Attachment,
    pub content: Vec<u8>,
}

const TICKET_COLUMNS: &str = "id, customer_id, contact_id, product_id, product_line, version, serial, \
     program, region, language, channel, subject, description, details, severity, state, assignee_id, \
     escalated, escalation_open, version_number, opened_at, updated_at, closed_at, calendar, \
     severity_rank, placement_rank, due_sort, next_due_at, at_risk_at, first_response_due_at, \
     next_update_due_at, resolution_due_at, breached, flags, consent_unanswered";

impl Store {
    /// Opens a ticket: its row and its `created` event, with its clocks. With an
    /// idempotency key already used by the same caller, returns that ticket instead.
    pub async fn create_ticket(
        &self,
        policy: &Policy,
        new: &NewTicket,
        now: Timestamp,
    ) -> Result<Created, StoreError> {
        match self.insert_ticket(policy, new, now).await {
            // Two requests with one key raced; the other one won.
            Err(StoreError::Conflict(_)) if new.idempotency_key.is_some() => {
                match self.replay(new).await? {
                    Some(created) => Ok(created),
                    None => Err(StoreError::Conflict(
                        "the ticket could not be created".into(),
                    )),
                }
            }
            other => other,
        }
    }

    async fn insert_ticket(
        &self,
        policy: &Policy,
        new: &NewTicket,
        now: Timestamp,
    ) -> Result<Created, StoreError> {
        if let Some(created) = self.replay(new).await? {
            return Ok(created);
        }
        let rows = NewTicketRows::of(policy, new, now)?;
        // New tickets that meet at the writer are written together; the writer wakes the
        // deliverer for their notices.
        let (id, rows) = self.creations.write(rows).await?;
        // What was just written, without reading it back.
        Ok(Created {
            ticket: record_of(id, new, &rows.derived),
            timeline: rows.events,
            replayed: false,
        })
    }

    /// Imports tickets with their whole history (from another helpdesk, or to load a large
    /// desk for a benchmark) in one transaction: each timeline must start with its `created`
    /// event; clocks are computed as of `now` and the breaches they show are recorded.
    pub async fn import_tickets(
        &self,
        policy: &Policy,
        tickets: &[(NewTicket, Vec<TicketEvent>)],
        now: Timestamp,
    ) -> Result<Vec<i64>, StoreError> {
        let at = instant(seconds(now))?;
        let mut transaction = self.begin_write().await?;
        let mut ids = Vec::with_capacity(tickets.len());
        let mut loads: std::collections::BTreeMap<(i64, String), i64> = Default::default();
        for (new, events) in tickets {
            let starts_right = matches!(
                events.first().map(|event| &event.data),
                Some(EventData::Created { severity, channel }) if *channel == new.channel && !severity.is_empty()
            );
            let numbered = events
                .iter()
                .enumerate()
                .all(|(index, event)| event.seq as usize == index + 1);
            if !starts_right || !numbered {
                return Err(StoreError::Conflict(format!(
                    "ticket \"{}\": a timeline starts with its created event and numbers its events from 1",
                    new.subject
                )));
            }
            let last = events.last().map_or(at, |event| event.at);
            let mut timeline = events.clone();
            let context = ClockContext {
                program: &new.program,
                region: &new.region,
                product_line: &new.product_line,
            };
            let (id, derived) =
                insert_with_timeline(&mut transaction, policy, new, &timeline, at.max(last))
                    .await?;
            let finished = if record_system_events(
                &mut transaction,
                policy,
                id,
                &mut timeline,
                &derived,
                at.max(last),
            )
            .await?
                > 0
            {
                let rederived = Derived::of(policy, &context, &timeline, at.max(last))?;
                write_derived(&mut transaction, id, &rederived).await?;
                rederived
            } else {
                derived
            };
            if let Some((advisor, severity)) = finished.load_key() {
                *loads.entry((advisor, severity.to_string())).or_insert(0) += 1;
            }
            ids.push(id);
        }
        for ((advisor, severity), count) in &loads {
            sqlx::query(sqlx::AssertSqlSafe(add_load_sql(1, 2, "$3")))
                .bind(*advisor)
                .bind(severity.as_str())
                .bind(*count)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(ids)
    }

    /// The ticket an earlier request with the same idempotency key created, if any.
    async fn replay(&self, new: &NewTicket) -> Result<Option<Created>, StoreError> {
        let Some(key) = &new.idempotency_key else {
            return Ok(None);
        };
        self.ticket_by_key(&new.created_by, key, new.request_hash.as_deref())
            .await
    }

    /// The ticket `created_by` opened with this idempotency key, if any; a conflict if that
    /// request differed (`request_hash`).
    pub(crate) async fn ticket_by_key(
        &self,
        created_by: &str,
        key: &str,
        request_hash: Option<&str>,
    ) -> Result<Option<Created>, StoreError> {
        let Some(id) =
            id_by_idempotency_key(&self.pool, "tickets", created_by, key, request_hash).await?
        else {
            return Ok(None);
        };
        Ok(Some(Created {
            ticket: self.ticket(id, Scope::All).await?,
            timeline: load_events(&self.pool, id).await?,
            replayed: true,
        }))
    }

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
        let Change {
            ticket: id,
            scope,
            expected_version,
            actor,
            now,
        } = change;
        let mut transaction = self.begin_write().await?;
        let mut locking =
            SqlBuilder::new(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = "));
        locking.bind_i64(id);
        if let Scope::Customer(customer_id) = scope {
            locking.push(" AND customer_id = ").bind_i64(customer_id);
        }
        locking.push(self.for_update());
        let row = locking
            .fetch_optional(&mut *transaction)
            .await?
            .ok_or(StoreError::NotFound)?;
        let ticket = ticket_of(&row)?;
        still_at("ticket", ticket.version_number, expected_version)?;
        let mut events = load_events(&mut *transaction, id).await?;
        let known = events.len();
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
        // Breaches that happened before this change are recorded first: the change (a late
        // reply, a lower severity) may end the very clock that ran out.
        let before = Derived::of(policy, &context, &events, at)?;
        record_system_events(&mut transaction, policy, id, &mut events, &before, at).await?;
        let first_new = events.len();
        for data in decided {
            let seq = u32::try_from(events.len() + 1)
                .map_err(|_| StoreError::Conflict("the timeline is full".into()))?;
            events.push(TicketEvent {
                seq,
                at,
                actor,
                data,
            });
        }
        append_events(&mut transaction, id, &events[first_new..]).await?;
        let after = Derived::of(policy, &context, &events, at)?;
        let derived = if record_system_events(&mut transaction, policy, id, &mut events, &after, at)
            .await?
            > 0
        {
            Derived::of(policy, &context, &events, at)?
        } else {
            after
        };
        let load_before = ticket
            .assignee_id
            .filter(|_| ticket.closed_at.is_none())
            .map(|advisor| (advisor, ticket.severity.as_str()));
        move_load(&mut transaction, load_before, derived.load_key()).await?;
        let notices = notice_rows(policy, &derived, &events[known..], Some(id))?;
        let new_seqs: Vec<u32> = events[known..].iter().map(|event| event.seq).collect();
        write_notices(&mut transaction, id, &notices, &new_seqs, at).await?;
        if !files.files.is_empty() {
            let own_event = events[known..]
                .iter()
                .rev()
                .find(|event| event.actor == actor)
                .map(|event| i64::from(event.seq));
            for file in files.files {
                insert_attachment(&mut transaction, id, own_event, file, files.uploaded_by, at)
                    .await?;
            }
        }
        // Always rewritten, even without a new event: which clocks remain to breach depends
        // on `now`, and a stale value would bring the sweep back to this ticket forever.
        write_derived(&mut transaction, id, &derived).await?;
        transaction.commit().await?;
        if !notices.is_empty() || !new_seqs.is_empty() {
            self.outbox_written.notify_one();
        }
        Ok((self.ticket(id, scope).await?, events))
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
                .update_ticket(policy, Change::by(Actor::System, id, now), |_, _| {
                    Ok::<_, std::convert::Infallible>(Vec::new())
                })
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

    /// A page of the queue in policy order (POLICY.md §7): severity, then priority
    /// placement, then the earliest due clock; after `cursor` when given.
    pub async fn queue(
        &self,
        filter: &QueueFilter,
        cursor: Option<QueueCursor>,
        limit: i64,
        now: Timestamp,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        // The page's ids first, from columns the queue index holds, then their rows.
        let mut query = SqlBuilder::new(&format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN (SELECT id FROM tickets WHERE "
        ));
        match filter.state {
            Some(TicketState::Closed) => {
                query.push("closed_at IS NOT NULL");
            }
            Some(state) => {
                query
                    .push("closed_at IS NULL AND state = ")
                    .bind_text(state.as_str());
            }
            None => {
                query.push("closed_at IS NULL");
            }
        }
        if let Some(customer_id) = filter.customer_id {
            query.push(" AND customer_id = ").bind_i64(customer_id);
        }
        if let Some(region) = &filter.region {
            query.push(" AND region = ").bind_text(region);
        }
        if let Some(language) = &filter.language {
            query.push(" AND language = ").bind_text(language);
        }
        if let Some(assignee) = filter.assignee_id {
            query.push(" AND assignee_id = ").bind_i64(assignee);
        }
        if let Some(program) = &filter.program {
            query.push(" AND program = ").bind_text(program);
        }
        let now = seconds(now);
        match filter.at_risk {
            Some(true) => {
                query.push(" AND at_risk_at <= ").bind_i64(now);
                query.push(" AND next_due_at >= ").bind_i64(now);
            }
            Some(false) => {
                query
                    .push(" AND (at_risk_at IS NULL OR at_risk_at > ")
                    .bind_i64(now)
                    .push(")");
            }
            None => {}
        }
        match filter.breached {
            Some(true) => {
                query
                    .push(" AND (breached OR next_due_at < ")
                    .bind_i64(now)
                    .push(")");
            }
            Some(false) => {
                query
                    .push(" AND NOT breached AND (next_due_at IS NULL OR next_due_at >= ")
                    .bind_i64(now)
                    .push(")");
            }
            None => {}
        }
        if let Some(open) = filter.escalation_open {
            query.push(if open {
                " AND escalation_open"
            } else {
                " AND NOT escalation_open"
            });
        }
        if let Some(unanswered) = filter.consent_unanswered {
            query.push(if unanswered {
                " AND consent_unanswered"
            } else {
                " AND NOT consent_unanswered"
            });
        }
        if let Some(csm_id) = filter.csm_id {
            query
                .push(" AND customer_id IN (SELECT id FROM customers WHERE csm_id = ")
                .bind_i64(csm_id)
                .push(")");
        }
        if let Some(flag) = &filter.flag {
            // Flags are a JSON array of objects tagged "flag", written by serde_json without
            // spaces: a pattern match finds the tag on both backends.
            query
                .push(" AND flags LIKE ")
                .bind_text(&format!("%\"flag\":\"{flag}\"%"));
        }
        if let Some(after) = cursor {
            query.push(" AND (severity_rank, placement_rank, due_sort, id) > (");
            query.bind_i64(after.severity_rank).push(", ");
            query.bind_i64(after.placement_rank).push(", ");
            query.bind_i64(after.due_sort).push(", ");
            query.bind_i64(after.id).push(")");
        }
        query
            .push(" ORDER BY severity_rank, placement_rank, due_sort, id LIMIT ")
            .bind_i64(limit)
            .push(") ORDER BY severity_rank, placement_rank, due_sort, id");
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(ticket_of).collect()
    }

    /// Tickets of a customer, newest first.
    pub async fn tickets_of(
        &self,
        customer_id: i64,
        limit: i64,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let mut query = SqlBuilder::new(&format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE customer_id = "
        ));
        query
            .bind_i64(customer_id)
            .push(" ORDER BY id DESC LIMIT ")
            .bind_i64(limit);
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(ticket_of).collect()
    }

    /// A customer's tickets, newest first, whose number is `text` or whose subject contains
    /// it (in any case), open or closed as asked. The page's ids come from the index on
    /// (customer, id, closed, subject) alone, then their rows.
    pub async fn search_tickets_of(
        &self,
        customer_id: i64,
        search: &TicketSearch,
        limit: i64,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let mut query = SqlBuilder::new(&format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN \
             (SELECT id FROM tickets WHERE customer_id = "
        ));
        query.bind_i64(customer_id);
        match search.open {
            Some(true) => {
                query.push(" AND closed_at IS NULL");
            }
            Some(false) => {
                query.push(" AND closed_at IS NOT NULL");
            }
            None => {}
        }
        let text = search.text.trim();
        if !text.is_empty() {
            let escaped = text
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            query
                .push(" AND (LOWER(subject) LIKE ")
                .bind_text(&format!("%{escaped}%"))
                .push(" ESCAPE '\\'");
            if let Ok(number) = text.trim_start_matches('#').parse::<i64>() {
                query.push(" OR id = ").bind_i64(number);
            }
            query.push(")");
        }
        query
            .push(" ORDER BY id DESC LIMIT ")
            .bind_i64(limit)
            .push(") ORDER BY id DESC");
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(ticket_of).collect()
    }

    /// Stores an attachment of a ticket the scope may see; identical contents are kept once.
    pub async fn add_attachment(
        &self,
        new: &NewAttachment,
        scope: Scope,
        now: Timestamp,
    ) -> Result<Attachment, StoreError> {
        self.ticket(new.ticket_id, scope).await?;
        if let Some(seq) = new.event_seq {
            // A file belongs to an event of this ticket, and a customer's only to a public one.
            let public: Option<bool> =
                sqlx::query("SELECT public FROM ticket_events WHERE ticket_id = $1 AND seq = $2")
                    .bind(new.ticket_id)
                    .bind(seq)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|row| row.flag("public"))
                    .transpose()?;
            match (public, scope) {
                (None, _) | (Some(false), Scope::Customer(_)) => {
                    return Err(StoreError::Conflict(format!(
                        "the ticket has no event {seq} to attach to"
                    )));
                }
                _ => {}
            }
        }
        let mut transaction = self.begin_write().await?;
        let file = FileToAttach {
            filename: &new.filename,
            content_type: &new.content_type,
            content: &new.content,
        };
        let attachment = insert_attachment(
            &mut transaction,
            new.ticket_id,
            new.event_seq,
            &file,
            &new.uploaded_by,
            now,
        )
        .await?;
        transaction.commit().await?;
        Ok(attachment)
    }

    pub async fn attachments_of(
        &self,
        ticket_id: i64,
        scope: Scope,
    ) -> Result<Vec<Attachment>, StoreError> {
        self.ticket(ticket_id, scope).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, a.ticket_id, a.event_seq, a.filename, a.content_type, a.size, a.sha256, \
             a.created_at FROM attachments a WHERE a.ticket_id = $1{} ORDER BY a.id",
            visible_attachments(scope)
        )))
        .bind(ticket_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attachment_of).collect()
    }

    pub async fn attachment(
        &self,
        ticket_id: i64,
        id: i64,
        scope: Scope,
    ) -> Result<AttachmentContent, StoreError> {
        self.ticket(ticket_id, scope).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, a.ticket_id, a.event_seq, a.filename, a.content_type, a.size, a.sha256, a.created_at, c.content \
             FROM attachments a JOIN attachment_contents c ON c.sha256 = a.sha256 \
             WHERE a.id = $1 AND a.ticket_id = $2{}",
            visible_attachments(scope)
        )))
        .bind(id)
        .bind(ticket_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(AttachmentContent {
            attachment: attachment_of(&row)?,
            content: row.try_get("content")?,
        })
    }
}

/// Files that come with a change, and who sends them ("staff:7", "contact:3").
#[derive(Clone, Copy, Debug)]
pub struct FilesToAttach<'a> {
    pub uploaded_by: &'a str,
    pub files: &'a [FileToAttach<'a>],
}

/// One file to keep on a ticket.
#[derive(Clone, Copy, Debug)]
pub struct FileToAttach<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
}

const NO_FILES: FilesToAttach<'static> = FilesToAttach {
    uploaded_by: "",
    files: &[],
};

/// Keeps a file of `ticket` (on its event `event_seq`, when given); identical contents are
/// stored once.
async fn insert_attachment(
    transaction: &mut Transaction<'static, Any>,
    ticket: i64,
    event_seq: Option<i64>,
    file: &FileToAttach<'_>,
    uploaded_by: &str,
    now: Timestamp,
) -> Result<Attachment, StoreError> {
    let sha256 = hex::encode(Sha256::digest(file.content));
    let size = i64::try_from(file.content.len())
        .map_err(|_| StoreError::Conflict("attachment too large".into()))?;
    sqlx::query(
        "INSERT INTO attachment_contents (sha256, size, content) VALUES ($1, $2, $3) \
         ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(&sha256)
    .bind(size)
    .bind(file.content)
    .execute(&mut **transaction)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO attachments (ticket_id, event_seq, filename, content_type, size, sha256, uploaded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(ticket)
    .bind(event_seq)
    .bind(file.filename)
    .bind(file.content_type)
    .bind(size)
    .bind(&sha256)
    .bind(uploaded_by)
    .bind(seconds(now))
    .fetch_one(&mut **transaction)
    .await?;
    Ok(Attachment {
        id,
        ticket_id: ticket,
        event_seq,
        filename: file.filename.to_string(),
        content_type: file.content_type.to_string(),
        size,
        sha256,
        created_at: instant(seconds(now))?,
    })
}

/// For a customer's contact, only attachments of no event or of a public one.
fn visible_attachments(scope: Scope) -> &'static str {
    match scope {
        Scope::All => "",
        Scope::Customer(_) => {
            " AND (a.event_seq IS NULL OR EXISTS (SELECT 1 FROM ticket_events e \
             WHERE e.ticket_id = a.ticket_id AND e.seq = a.event_seq AND e.public))"
        }
    }
}

/// What the timeline says now, in the shape of the ticket row's derived columns.
#[derive(Clone)]
struct Derived {
    snapshot: Snapshot,
    clocks: TicketClocks,
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
}

impl Derived {
    /// The advisor load the ticket counts towards: its assignee and severity, while open.
    fn load_key(&self) -> Option<(i64, &str)> {
        let snapshot = &self.snapshot;
        match (snapshot.assignee, snapshot.closed_at) {
            (Some(advisor), None) => Some((advisor, snapshot.severity.as_str())),
            _ => None,
        }
    }

    fn of(
        policy: &Policy,
        context: &ClockContext<'_>,
        events: &[TicketEvent],
        at: Timestamp,
    ) -> Result<Derived, StoreError> {
        let snapshot = Snapshot::of(events)
            .ok_or_else(|| StoreError::Corrupt("a timeline without its created event".into()))?;
        let clocks = compute(policy, context, events, at)
            .map_err(|error| StoreError::Policy(error.to_string()))?;
        let severity_rank = policy
            .severities
            .get_index_of(&snapshot.severity)
            .ok_or_else(|| {
                StoreError::Policy(format!("unknown severity \"{}\"", snapshot.severity))
            })?;
        let program = policy
            .program(context.program)
            .map_err(|error| StoreError::Policy(error.to_string()))?;
        let next_due_at = clocks.next_due().map(seconds);
        let calendar = policy
            .calendar(&clocks.calendar)
            .map_err(|error| StoreError::Policy(error.to_string()))?;
        // The sweep also comes back when the status update turns at risk, to warn the advisor.
        let update_turns_at_risk = clocks
            .next_update
            .as_ref()
            .filter(|clock| !clock.at_risk && !clock.breached)
            .and_then(|clock| clock.at_risk_at)
            .filter(|turns| *turns > at);
        let sweep_due_at = next_system_event_at(policy, calendar, &snapshot, &clocks)
            .map_err(|error| StoreError::Policy(error.to_string()))?
            .into_iter()
            .chain(update_turns_at_risk)
            .min()
            .map(seconds);
        let flags = serde_json::to_string(&snapshot.flags)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let due_of = |clock: Option<&caredesk_domain::ticket::clocks::Clock>| {
            clock.and_then(|clock| clock.due_at).map(seconds)
        };
        Ok(Derived {
            calendar: clocks.calendar.clone(),
            severity_rank: i64::try_from(severity_rank).unwrap_or(i64::MAX),
            placement_rank: if program.priority_queue { 0 } else { 1 },
            due_sort: next_due_at.unwrap_or(NO_DUE),
            next_due_at,
            at_risk_at: clocks.next_at_risk().map(seconds),
            sweep_due_at,
            first_response_due_at: due_of(Some(&clocks.first_response)),
            next_update_due_at: due_of(clocks.next_update.as_ref()),
            resolution_due_at: due_of(clocks.resolution.as_ref()),
            breached: events
                .iter()
                .any(|event| matches!(event.data, EventData::ClockBreached { .. })),
            flags,
            snapshot,
            clocks,
        })
    }
}

/// The columns a new ticket's row is written with, in the order of `ticket_cells`.
const TICKET_WRITTEN: [&str; 38] = [
    "customer_id",
    "contact_id",
    "product_id",
    "product_line",
    "version",
    "serial",
    "program",
    "region",
    "language",
    "channel",
    "subject",
    "description",
    "details",
    "severity",
    "state",
    "assignee_id",
    "escalated",
    "escalation_open",
    "version_number",
    "opened_at",
    "updated_at",
    "closed_at",
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
    "created_by",
    "idempotency_key",
    "request_hash",
    "flags",
    "consent_unanswered",
];
const TICKET_VALUE_COUNT: usize = TICKET_WRITTEN.len();

/// The insert of a ticket row, its `TICKET_VALUE_COUNT` values numbered from `$first` and
/// bound by `bind_ticket`.
fn insert_ticket_sql(first: usize) -> String {
    let values: Vec<String> = (first..first + TICKET_VALUE_COUNT)
        .map(|number| format!("${number}"))
        .collect();
    format!(
        "INSERT INTO tickets ({}) VALUES ({})",
        TICKET_WRITTEN.join(", "),
        values.join(", ")
    )
}

pub(crate) type AnyQueryScalar<'q> =
    sqlx::query::QueryScalar<'q, Any, i64, sqlx::any::AnyArguments>;

/// One value of a row to write, of its column's type even when it is NULL.
#[derive(Serialize)]
#[serde(untagged)]
enum Cell<'a> {
    Integer(Option<i64>),
    Text(Option<Cow<'a, str>>),
    Flag(bool),
}

/// A new ticket row's values, in the order of `TICKET_WRITTEN`.
fn ticket_cells<'a>(new: &'a NewTicket, derived: &'a Derived) -> [Cell<'a>; TICKET_VALUE_COUNT] {
    use Cell::{Flag, Integer};
    let text = |value: &'a str| Cell::Text(Some(Cow::Borrowed(value)));
    let optional_text = |value: Option<&'a str>| Cell::Text(value.map(Cow::Borrowed));
    let snapshot = &derived.snapshot;
    [
        Integer(Some(new.customer_id)),
        Integer(new.contact_id),
        Integer(new.product_id),
        text(&new.product_line),
        text(&new.version),
        text(&new.serial),
        text(&new.program),
        text(&new.region),
        text(&new.language),
        text(&new.channel),
        text(&new.subject),
        text(&new.description),
        Cell::Text(Some(Cow::Owned(new.details.to_string()))),
        text(&snapshot.severity),
        text(snapshot.state.as_str()),
        Integer(snapshot.assignee),
        Flag(snapshot.escalated),
        Flag(snapshot.escalation_open),
        Integer(Some(i64::from(snapshot.event_count))),
        Integer(Some(seconds(snapshot.opened_at))),
        Integer(Some(seconds(snapshot.last_event_at))),
        Integer(snapshot.closed_at.map(seconds)),
        text(&derived.calendar),
        Integer(Some(derived.severity_rank)),
        Integer(Some(derived.placement_rank)),
        Integer(Some(derived.due_sort)),
        Integer(derived.next_due_at),
        Integer(derived.at_risk_at),
        Integer(derived.sweep_due_at),
        Integer(derived.first_response_due_at),
        Integer(derived.next_update_due_at),
        Integer(derived.resolution_due_at),
        Flag(derived.breached),
        text(&new.created_by),
        optional_text(new.idempotency_key.as_deref()),
        optional_text(new.request_hash.as_deref()),
        text(&derived.flags),
        Flag(snapshot.consent_unanswered),
    ]
}

/// Binds a ticket row's values, in the order of `insert_ticket_sql`.
fn bind_ticket<'q>(
    mut query: AnyQueryScalar<'q>,
    new: &'q NewTicket,
    derived: &'q Derived,
) -> AnyQueryScalar<'q> {
    for cell in ticket_cells(new, derived) {
        query = match cell {
            Cell::Integer(value) => query.bind(value),
            Cell::Text(Some(Cow::Borrowed(value))) => query.bind(value),
            Cell::Text(value) => query.bind(value.map(Cow::into_owned)),
            Cell::Flag(value) => query.bind(value),
        };
    }
    query
}

fn derive_new(
    policy: &Policy,
    new: &NewTicket,
    events: &[TicketEvent],
    at: Timestamp,
) -> Result<Derived, StoreError> {
    let context = ClockContext {
        program: &new.program,
        region: &new.region,
        product_line: &new.product_line,
    };
    Derived::of(policy, &context, events, at)
}

/// Writes a ticket row, with the columns its timeline derives at `at`, and the timeline;
/// returns the new id and what was derived.
async fn insert_with_timeline(
    transaction: &mut Transaction<'static, Any>,
    policy: &Policy,
    new: &NewTicket,
    events: &[TicketEvent],
    at: Timestamp,
) -> Result<(i64, Derived), StoreError> {
    let derived = derive_new(policy, new, events, at)?;
    let id = bind_ticket(
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "{} RETURNING id",
            insert_ticket_sql(1)
        ))),
        new,
        &derived,
    )
    .fetch_one(&mut **transaction)
    .await?;
    append_events(transaction, id, events).await?;
    Ok((id, derived))
}

/// What a new ticket writes: its row, its first events, its advisor's load and the notices
/// its first events call for.
#[derive(Clone, Copy)]
pub(crate) struct NewRows<'a> {
    new: &'a NewTicket,
    events: &'a [TicketEvent],
    derived: &'a Derived,
    notices: &'a [NoticeRow],
}

/// A new ticket's rows, owned, for the task that writes them (see `CreationQueue`).
pub(crate) struct NewTicketRows {
    new: NewTicket,
    events: Vec<TicketEvent>,
    derived: Derived,
    notices: Vec<NoticeRow>,
}

impl NewTicketRows {
    /// What opening `new` at `now` writes: its first events, the columns they derive, and
    /// the notices they call for.
    pub(crate) fn of(
        policy: &Policy,
        new: &NewTicket,
        now: Timestamp,
    ) -> Result<NewTicketRows, StoreError> {
        let at = instant(seconds(now))?;
        let events = creation_events(new, at);
        // Nothing can be due yet: the policy refuses zero targets.
        let derived = derive_new(policy, new, &events, at)?;
        let notices = notice_rows(policy, &derived, &events, None)?;
        Ok(NewTicketRows {
            new: new.clone(),
            events,
            derived,
            notices,
        })
    }

    #[cfg(test)]
    pub(crate) fn events(&self) -> &[TicketEvent] {
        &self.events
    }

    #[cfg(test)]
    pub(crate) fn notice_count(&self) -> usize {
        self.notices.len()
    }

    pub(crate) fn rows(&self) -> NewRows<'_> {
        NewRows {
            new: &self.new,
            events: &self.events,
            derived: &self.derived,
            notices: &self.notices,
        }
    }
}

/// Values bound per event of a new ticket: when, who, what kind, public or not, and its data.
const EVENT_VALUES: usize = 5;

impl NewRows<'_> {
    /// How many values `creation_sql` numbers and `bind_creation` binds: the ticket's, five
    /// per event, the advisor and severity of the load, seven per notice, and the instant
    /// webhook deliveries are written.
    fn value_count(&self) -> usize {
        let load = if self.derived.load_key().is_some() {
            2
        } else {
            0
        };
        TICKET_VALUE_COUNT
            + self.events.len() * EVENT_VALUES
            + load
            + self.notices.len() * NOTICE_VALUES
            + 1
    }

    /// How many times the statement(s) return the new ticket's id: once per first event.
    fn ids_returned(&self) -> usize {
        self.events.len()
    }
}

/// SQLite: the statements writing a new ticket's rows, with their values numbered from
/// `$first`. They refer to the new ticket as the newest one, so they must run inside a
/// transaction holding the write lock (`BEGIN IMMEDIATE`). They return the new ticket's id
/// once per first event.
fn creation_sql(rows: NewRows<'_>, first: usize) -> String {
    let NewRows {
        events,
        derived,
        notices,
        ..
    } = rows;
    let events_at = first + TICKET_VALUE_COUNT;
    let event_rows: Vec<String> = (0..events.len())
        .map(|index| {
            let seq = index + 1;
            let p = events_at + index * EVENT_VALUES;
            format!(
                "((SELECT MAX(id) FROM tickets), {seq}, ${p}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4
            )
        })
        .collect();
    // The advisor it goes to carries one more open ticket of its severity.
    let load_at = events_at + events.len() * EVENT_VALUES;
    let load = derived
        .load_key()
        .map(|_| add_load_sql(load_at, load_at + 1, "1"));
    // Then the notices the first events call for, in the outbox.
    let first_notice = load_at + if load.is_some() { 2 } else { 0 };
    let notices: String = notices
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let sql = row.insert_sql(
                "(SELECT MAX(id) FROM tickets)",
                first_notice + index * NOTICE_VALUES,
            );
            format!("{sql}; ")
        })
        .collect();
    // And the first events' deliveries to webhooks: the last value bound.
    let seqs: Vec<u32> = events.iter().map(|event| event.seq).collect();
    let hooks_at = first_notice + rows.notices.len() * NOTICE_VALUES;
    format!(
        "{}; INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, public, data) \
         VALUES {} RETURNING ticket_id; {}{notices}{}",
        insert_ticket_sql(first),
        event_rows.join(", "),
        load.map(|sql| format!("{sql}; ")).unwrap_or_default(),
        webhook_insert_sql("(SELECT MAX(id) FROM tickets)", &seqs, hooks_at),
    )
}

/// Binds the values `creation_sql` numbers, in its order.
fn bind_creation<'q>(
    query: AnyQueryScalar<'q>,
    rows: NewRows<'q>,
) -> Result<AnyQueryScalar<'q>, StoreError> {
    let mut query = bind_ticket(query, rows.new, rows.derived);
    for event in rows.events {
        let (actor, data) = event_json(event)?;
        query = query
            .bind(seconds(event.at))
            .bind(actor)
            .bind(event.data.kind())
            .bind(event.data.is_public())
            .bind(data);
    }
    if let Some((advisor, severity)) = rows.derived.load_key() {
        query = query.bind(advisor).bind(severity.to_string());
    }
    let now = rows.derived.snapshot.opened_at.as_second();
    for row in rows.notices {
        query = bind_notice(query, row, now);
    }
    Ok(query.bind(now))
}

/// PostgreSQL: new tickets' rows, however many, in one statement, atomic by itself. Each
/// table's rows arrive as one JSON array, so the statement's text never changes and each
/// connection plans it once; one insert per table writes every ticket's rows at once. A
/// ticket's events and notices name it by its place in the batch (1, 2, …) until the
/// sequence gives it its id. Returns the new tickets' places and ids. The outbox rows are
/// those `NoticeRow::insert_sql` writes (a notice to the managers goes to each active one of
/// the ticket's region, or of none) and `webhook_insert_sql` (each event to each active
/// webhook).
static POSTGRES_CREATION: LazyLock<String> = LazyLock::new(|| {
    let columns = TICKET_WRITTEN.join(", ");
    let from_input: Vec<String> = TICKET_WRITTEN
        .iter()
        .map(|column| format!("t.{column}"))
        .collect();
    format!(
        "WITH new AS MATERIALIZED ( \
             SELECT nextval(pg_get_serial_sequence('tickets', 'id')) AS id, \
             t.ordinality AS place, {from_input} \
             FROM json_populate_recordset(NULL::tickets, $1::json) WITH ORDINALITY AS t), \
         ticket AS ( \
             INSERT INTO tickets (id, {columns}) SELECT id, {columns} FROM new ORDER BY place), \
         event AS ( \
             SELECT * FROM json_to_recordset($2::json) AS e (place BIGINT, seq BIGINT, \
             at BIGINT, actor TEXT, kind TEXT, public BOOLEAN, data TEXT)), \
         timeline AS ( \
             INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, public, data) \
             SELECT new.id, event.seq, event.at, event.actor, event.kind, event.public, \
             event.data FROM event JOIN new USING (place) ORDER BY place, event.seq), \
         load AS ( \
             INSERT INTO advisor_loads (staff_id, severity, open_tickets) \
             SELECT staff_id, severity, open_tickets \
             FROM json_populate_recordset(NULL::advisor_loads, $3::json) \
             ORDER BY staff_id, severity COLLATE \"C\" \
             ON CONFLICT (staff_id, severity) DO UPDATE \
             SET open_tickets = advisor_loads.open_tickets + excluded.open_tickets), \
         outbox AS ( \
             INSERT INTO outbox (ticket_id, event_seq, kind, recipient, staff_id, webhook_id, \
             dedupe_key, not_before, created_at) \
             SELECT ticket_id, event_seq, kind, recipient, staff_id, webhook_id, dedupe_key, \
             not_before, created_at FROM ( \
                 SELECT place, 0 AS part, n.position, s.id AS manager, new.id AS ticket_id, \
                 n.event_seq, n.kind, n.recipient, COALESCE(n.staff_id, s.id) AS staff_id, \
                 NULL::BIGINT AS webhook_id, n.dedupe_key, n.not_before, \
                 new.opened_at AS created_at \
                 FROM json_to_recordset($4::json) AS n (place BIGINT, position BIGINT, \
                 event_seq BIGINT, kind TEXT, recipient TEXT, staff_id BIGINT, \
                 dedupe_key TEXT, not_before BIGINT, to_managers BOOLEAN) \
                 JOIN new USING (place) \
                 LEFT JOIN staff s ON n.to_managers AND s.role = 'support_manager' \
                 AND s.active = TRUE AND (s.region IS NULL OR s.region = new.region) \
                 WHERE NOT n.to_managers OR s.id IS NOT NULL \
                 UNION ALL \
                 SELECT place, 1, event.seq, w.id, new.id, event.seq, 'ticket_event', \
                 'webhook', NULL, w.id, NULL, new.opened_at, new.opened_at \
                 FROM event JOIN new USING (place) CROSS JOIN webhooks w \
                 WHERE w.active = TRUE) AS written \
             ORDER BY place, part, position, manager \
             ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING) \
         SELECT place, id FROM new ORDER BY place",
        from_input = from_input.join(", ")
    )
});

/// PostgreSQL: writes new tickets' rows in one statement (`POSTGRES_CREATION`); returns
/// their ids in order. Loads are sent in Rust's order of their keys, and the statement takes
/// their rows in bytes' order (`COLLATE "C"`), as `move_load` does, so that two writers never
/// wait on each other's rows in a circle.
pub(crate) async fn insert_new_postgres_together<'e>(
    writer: impl sqlx::Executor<'e, Database = Any>,
    tickets: &[NewRows<'_>],
) -> Result<Vec<i64>, StoreError> {
    let mut ticket_rows = Vec::with_capacity(tickets.len());
    let mut event_rows = Vec::new();
    let mut notice_rows = Vec::new();
    let mut loads: std::collections::BTreeMap<(i64, &str), i64> = Default::default();
    for (index, rows) in tickets.iter().enumerate() {
        let place = index + 1;
        ticket_rows.push(TicketJson(ticket_cells(rows.new, rows.derived)));
        for event in rows.events {
            let (actor, data) = event_json(event)?;
            event_rows.push(EventJson {
                place,
                seq: event.seq,
                at: seconds(event.at),
                actor,
                kind: event.data.kind(),
                public: event.data.is_public(),
                data,
            });
        }
        for (position, notice) in rows.notices.iter().enumerate() {
            notice_rows.push(NoticeJson {
                place,
                position,
                event_seq: notice.event_seq,
                kind: notice.kind,
                recipient: notice.recipient,
                staff_id: notice.staff_id,
                dedupe_key: notice.dedupe_key.as_deref(),
                not_before: notice.not_before,
                to_managers: notice.to_managers,
            });
        }
        if let Some(key) = rows.derived.load_key() {
            *loads.entry(key).or_default() += 1;
        }
    }
    let load_rows: Vec<LoadJson<'_>> = loads
        .into_iter()
        .map(|((staff_id, severity), open_tickets)| LoadJson {
            staff_id,
            severity,
            open_tickets,
        })
        .collect();
    let placed: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(POSTGRES_CREATION.as_str()))
        .bind(json_text(&ticket_rows)?)
        .bind(json_text(&event_rows)?)
        .bind(json_text(&load_rows)?)
        .bind(json_text(&notice_rows)?)
        .fetch_all(writer)
        .await?;
    let ids: Vec<i64> = placed.into_iter().map(|(_, id)| id).collect();
    if ids.len() != tickets.len() {
        return Err(StoreError::Corrupt(format!(
            "{} new tickets written, {} ids came back",
            tickets.len(),
            ids.len()
        )));
    }
    Ok(ids)
}

fn json_text(rows: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(rows).map_err(|error| StoreError::Corrupt(error.to_string()))
}

/// A new ticket's row as `json_populate_recordset` reads it: an object keyed by column.
struct TicketJson<'a>([Cell<'a>; TICKET_VALUE_COUNT]);

impl Serialize for TicketJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(TICKET_VALUE_COUNT))?;
        for (column, cell) in TICKET_WRITTEN.iter().zip(&self.0) {
            map.serialize_entry(column, cell)?;
        }
        map.end()
    }
}

/// A new ticket's event, with the ticket's place in the batch.
#[derive(Serialize)]
struct EventJson {
    place: usize,
    seq: u32,
    at: i64,
    actor: String,
    kind: &'static str,
    public: bool,
    data: String,
}

/// A notice of a new ticket, with the ticket's place in the batch and its own among the
/// ticket's notices.
#[derive(Serialize)]
struct NoticeJson<'a> {
    place: usize,
    position: usize,
    event_seq: i64,
    kind: &'static str,
    recipient: &'static str,
    staff_id: Option<i64>,
    dedupe_key: Option<&'a str>,
    not_before: i64,
    to_managers: bool,
}

/// The open tickets a batch adds to one advisor's load of one severity.
#[derive(Serialize)]
struct LoadJson<'a> {
    staff_id: i64,
    severity: &'a str,
    open_tickets: i64,
}

/// SQLite: new tickets' rows in one transaction and one hand-off to the writer connection's
/// thread (`BEGIN IMMEDIATE`, every ticket's statements, `COMMIT`, sent together); returns
/// their ids in order. The caller must not be inside a transaction, and rolls back on error.
pub(crate) async fn insert_new_sqlite_together<'e>(
    writer: impl sqlx::Executor<'e, Database = Any>,
    tickets: &[NewRows<'_>],
) -> Result<Vec<i64>, StoreError> {
    let mut statement = String::from("BEGIN IMMEDIATE; ");
    let mut first = 1;
    for rows in tickets {
        statement.push_str(&creation_sql(*rows, first));
        statement.push_str("; ");
        first += rows.value_count();
    }
    statement.push_str("COMMIT");
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(statement));
    for rows in tickets {
        query = bind_creation(query, *rows)?;
    }
    // All rows, of every statement: each ticket's id comes back once per first event.
    let returned = query.fetch_all(writer).await?;
    let mut ids = Vec::with_capacity(tickets.len());
    let mut at = 0;
    for rows in tickets {
        let id = returned
            .get(at)
            .copied()
            .ok_or_else(|| StoreError::Corrupt("a new ticket's id did not come back".into()))?;
        ids.push(id);
        at += rows.ids_returned();
    }
    Ok(ids)
}

/// The first events of a ticket: created, then what intake found and who takes it.
fn creation_events(new: &NewTicket, at: Timestamp) -> Vec<TicketEvent> {
    let mut data = vec![EventData::Created {
        severity: new.severity.clone(),
        channel: new.channel.clone(),
    }];
    if let Some(intake) = &new.intake {
        data.push(EventData::IntakeChecked {
            program: new.program.clone(),
            flags: intake.flags.clone(),
            language: intake.language.clone(),
            coverage: intake.coverage.clone(),
        });
        if let Some(assignment) = &intake.assignment {
            data.push(EventData::Assigned {
                advisor: assignment.advisor,
                reason: Some(assignment.reason.clone()),
            });
        }
    }
    data.into_iter()
        .zip(1..)
        .map(|(data, seq)| TicketEvent {
            seq,
            at,
            // The created event is the caller's; the checks and the choice are the desk's.
            actor: if seq == 1 { new.actor } else { Actor::System },
            data,
        })
        .collect()
}

/// The record of a new ticket as it was written.
fn record_of(id: i64, new: &NewTicket, derived: &Derived) -> TicketRecord {
    let snapshot = &derived.snapshot;
    let at =
        |seconds: Option<i64>| seconds.and_then(|seconds| Timestamp::from_second(seconds).ok());
    TicketRecord {
        id,
        customer_id: new.customer_id,
        contact_id: new.contact_id,
        product_id: new.product_id,
        product_line: new.product_line.clone(),
        version: new.version.clone(),
        serial: new.serial.clone(),
        program: new.program.clone(),
        region: new.region.clone(),
        language: new.language.clone(),
        channel: new.channel.clone(),
        subject: new.subject.clone(),
        description: new.description.clone(),
        details: new.details.clone(),
        severity: snapshot.severity.clone(),
        state: snapshot.state,
        assignee_id: snapshot.assignee,
        escalated: snapshot.escalated,
        escalation_open: snapshot.escalation_open,
        version_number: i64::from(snapshot.event_count),
        opened_at: snapshot.opened_at,
        updated_at: snapshot.last_event_at,
        closed_at: snapshot.closed_at,
        calendar: derived.calendar.clone(),
        next_due_at: at(derived.next_due_at),
        at_risk_at: at(derived.at_risk_at),
        first_response_due_at: at(derived.first_response_due_at),
        next_update_due_at: at(derived.next_update_due_at),
        resolution_due_at: at(derived.resolution_due_at),
        breached: derived.breached,
        flags: snapshot.flags.clone(),
        consent_unanswered: snapshot.consent_unanswered,
        sort_key: QueueCursor {
            severity_rank: derived.severity_rank,
            placement_rank: derived.placement_rank,
            due_sort: derived.due_sort,
            id,
        },
    }
}

/// The outbox rows the new events call for, and, for a stored ticket (`id`), the advisor's
/// warning that a status update falls due soon once its clock is at risk (a new ticket
/// owes no update before its first response).
fn notice_rows(
    policy: &Policy,
    derived: &Derived,
    new_events: &[TicketEvent],
    id: Option<i64>,
) -> Result<Vec<NoticeRow>, StoreError> {
    let calendar = policy
        .calendar(&derived.clocks.calendar)
        .map_err(|error| StoreError::Policy(error.to_string()))?;
    let context = NoticeContext {
        policy,
        calendar,
        snapshot: &derived.snapshot,
    };
    let policy_error =
        |error: caredesk_domain::calendar::CalendarError| StoreError::Policy(error.to_string());
    let mut rows: Vec<NoticeRow> = notices_for(&context, new_events)
        .map_err(policy_error)?
        .iter()
        .map(NoticeRow::of)
        .collect();
    if let Some(id) = id
        && let Some((notice, due)) = update_due_soon(
            calendar,
            &derived.snapshot,
            derived.clocks.next_update.as_ref(),
        )
        .map_err(policy_error)?
    {
        rows.push(NoticeRow::update_due_soon(id, &notice, due));
    }
    Ok(rows)
}

/// Appends what the desk does by itself at `at` (breaches not recorded yet, the escalation
/// they bring, a consent step due), as the timeline stood when `derived` was computed;
/// returns how many events.
async fn record_system_events(
    transaction: &mut Transaction<'static, Any>,
    policy: &Policy,
    id: i64,
    events: &mut Vec<TicketEvent>,
    derived: &Derived,
    at: Timestamp,
) -> Result<usize, StoreError> {
    let calendar = policy
        .calendar(&derived.clocks.calendar)
        .map_err(|error| StoreError::Policy(error.to_string()))?;
    let due = system_events(
        policy,
        calendar,
        &derived.snapshot,
        &derived.clocks,
        events,
        at,
    )
    .map_err(|error| StoreError::Policy(error.to_string()))?;
    let first_new = events.len();
    for data in due {
        let seq = u32::try_from(events.len() + 1)
            .map_err(|_| StoreError::Conflict("the timeline is full".into()))?;
        events.push(TicketEvent {
            seq,
            at,
            actor: Actor::System,
            data,
        });
    }
    append_events(transaction, id, &events[first_new..]).await?;
    Ok(events.len() - first_new)
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

async fn write_derived(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    derived: &Derived,
) -> Result<(), StoreError> {
    let snapshot = &derived.snapshot;
    sqlx::query(
        "UPDATE tickets SET severity = $1, state = $2, assignee_id = $3, escalated = $4, escalation_open = $5, \
         version_number = $6, updated_at = $7, closed_at = $8, calendar = $9, severity_rank = $10, \
         placement_rank = $11, due_sort = $12, next_due_at = $13, at_risk_at = $14, sweep_due_at = $15, \
         first_response_due_at = $16, next_update_due_at = $17, resolution_due_at = $18, breached = $19, \
         flags = $20, consent_unanswered = $21 WHERE id = $22",
    )
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
    .bind(id)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

async fn append_events(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    events: &[TicketEvent],
) -> Result<(), StoreError> {
    for event in events {
        let (actor, data) = event_json(event)?;
        sqlx::query(
            "INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, public, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(i64::from(event.seq))
        .bind(seconds(event.at))
        .bind(actor)
        .bind(event.data.kind())
        .bind(event.data.is_public())
        .bind(data)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

/// An event's actor and data as stored (JSON text).
fn event_json(event: &TicketEvent) -> Result<(String, String), StoreError> {
    let json = |value: Result<String, serde_json::Error>| {
        value.map_err(|error| StoreError::Corrupt(error.to_string()))
    };
    Ok((
        json(serde_json::to_string(&event.actor))?,
        json(serde_json::to_string(&event.data))?,
    ))
}

async fn load_events<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    id: i64,
) -> Result<Vec<TicketEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, data FROM ticket_events WHERE ticket_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(executor)
    .await?;
    rows.iter().map(event_of).collect()
}

/// One event of a ticket's timeline.
pub(crate) async fn load_event<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    id: i64,
    seq: u32,
) -> Result<Option<TicketEvent>, StoreError> {
    let row = sqlx::query(
        "SELECT seq, at, actor, data FROM ticket_events WHERE ticket_id = $1 AND seq = $2",
    )
    .bind(id)
    .bind(i64::from(seq))
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(event_of).transpose()
}

fn event_of(row: &AnyRow) -> Result<TicketEvent, StoreError> {
    let seq: i64 = row.try_get("seq")?;
    let actor: String = row.try_get("actor")?;
    let data: String = row.try_get("data")?;
    Ok(TicketEvent {
        seq: u32::try_from(seq).map_err(|_| StoreError::Corrupt(format!("event number {seq}")))?,
        at: instant(row.try_get("at")?)?,
        actor: serde_json::from_str(&actor)
            .map_err(|error| StoreError::Corrupt(format!("event actor: {error}")))?,
        data: serde_json::from_str(&data)
            .map_err(|error| StoreError::Corrupt(format!("event data: {error}")))?,
    })
}

fn optional_instant(row: &AnyRow, column: &str) -> Result<Option<Timestamp>, StoreError> {
    row.try_get::<Option<i64>, _>(column)?
        .map(instant)
        .transpose()
}

fn ticket_of(row: &AnyRow) -> Result<TicketRecord, StoreError> {
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
        sort_key: QueueCursor {
            severity_rank: row.try_get("severity_rank")?,
            placement_rank: row.try_get("placement_rank")?,
            due_sort: row.try_get("due_sort")?,
            id: row.try_get("id")?,
        },
    })
}

fn attachment_of(row: &AnyRow) -> Result<Attachment, StoreError> {
    Ok(Attachment {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        event_seq: row.try_get("event_seq")?,
        filename: row.try_get("filename")?,
        content_type: row.try_get("content_type")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        created_at: instant(row.try_get("created_at")?)?,
    })
}
