//! Opening tickets: one at a time, or together through the creation writer, and importing
//! whole histories. A new ticket's first events, its columns and its notices are computed
//! before it reaches the database, so that tickets arriving together are written together.

use std::borrow::Cow;
use std::sync::LazyLock;

use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::ticket::step::{opening, step};
use caredesk_domain::ticket::{Actor, EventData, TicketEvent};
use caredesk_domain::work::work_on;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::{Any, Transaction};

use super::{
    Created, NewTicket, QueueCursor, StandingColumns, TicketRecord, add_load_sql, step_error,
};
use crate::events::load_events;
use crate::events::{TicketWords, append_events, event_json};
use crate::outbox::{NOTICE_VALUES, NoticeRow, bind_notice, webhook_insert_sql};
use crate::report_work::WorkTotals;
use crate::reports::{ClosedTicket, ClosedTotals, MEASURE_COLUMNS, measure_values};
use crate::{AnyQueryScalar, id_by_idempotency_key};
use crate::{Scope, Store, StoreError, instant, seconds};

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
        let mut closed_totals = ClosedTotals::default();
        let mut work_totals = WorkTotals::default();
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
            // Clocks as of now (or the history's end), with the breaches they show recorded.
            let last = events.last().map_or(at, |event| event.at);
            let step = step(
                policy,
                &context_of(new),
                events,
                Vec::new(),
                Actor::System,
                at.max(last),
            )
            .map_err(step_error)?;
            let timeline: Vec<TicketEvent> = events.iter().chain(&step.events).cloned().collect();
            let finished = StandingColumns::of(&step.standing, &step.measures, policy)?;
            let id = insert_with_timeline(&mut transaction, new, &timeline, &finished).await?;
            // The same as a change counts it (never stopping the import for the report).
            let work = work_on(policy, &context_of(new), &timeline, 1).unwrap_or_else(|error| {
                tracing::warn!(ticket = id, %error, "the work on an imported ticket could not be counted for reports");
                Vec::new()
            });
            work_totals.add(&new.region, &new.language, &work);
            if let Some(closed_at) = finished.snapshot.closed_at {
                closed_totals.add(&ClosedTicket {
                    opened_at: finished.snapshot.opened_at,
                    closed_at,
                    program: &new.program,
                    severity: &finished.snapshot.severity,
                    region: &new.region,
                    channel: &new.channel,
                    product_line: &new.product_line,
                    language: finished
                        .snapshot
                        .language
                        .as_deref()
                        .unwrap_or(&new.language),
                    customer: new.customer_id,
                    advisor: finished.snapshot.assignee,
                    measures: measure_values(&finished.measures),
                });
            }
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
        closed_totals.write(&mut transaction).await?;
        work_totals.write(&mut transaction).await?;
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
}

/// The columns a new ticket's row is written with, in the order of `ticket_cells`: what it
/// is and where it stands, then its measures.
const TICKET_WRITTEN: [&str; 66] = joined(TICKET_STANDING, MEASURE_COLUMNS);

const TICKET_STANDING: [&str; 40] = [
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
    // Nothing to count later: a new ticket's work is counted as it comes (0036).
    "work_to_count",
    "policy_version",
];
const TICKET_VALUE_COUNT: usize = TICKET_WRITTEN.len();

/// Two lists of columns one after the other (`N` must be the sum of their lengths).
const fn joined<const A: usize, const B: usize, const N: usize>(
    first: [&'static str; A],
    second: [&'static str; B],
) -> [&'static str; N] {
    assert!(A + B == N, "the joined list has room for both lists");
    let mut all = [""; N];
    let mut index = 0;
    while index < A {
        all[index] = first[index];
        index += 1;
    }
    while index < N {
        all[index] = second[index - A];
        index += 1;
    }
    all
}

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

/// One value of a row to write, of its column's type even when it is NULL.
#[derive(Serialize)]
#[serde(untagged)]
enum Cell<'a> {
    Integer(Option<i64>),
    Text(Option<Cow<'a, str>>),
    Flag(bool),
}

/// A new ticket row's values, in the order of `TICKET_WRITTEN`.
fn ticket_cells<'a>(
    new: &'a NewTicket,
    derived: &'a StandingColumns,
) -> [Cell<'a>; TICKET_VALUE_COUNT] {
    use Cell::{Flag, Integer};
    let text = |value: &'a str| Cell::Text(Some(Cow::Borrowed(value)));
    let optional_text = |value: Option<&'a str>| Cell::Text(value.map(Cow::Borrowed));
    let snapshot = &derived.snapshot;
    let standing = [
        Integer(Some(new.customer_id)),
        Integer(new.contact_id),
        Integer(new.product_id),
        text(&new.product_line),
        text(&new.version),
        text(&new.serial),
        text(&new.program),
        text(&new.region),
        // The language the ticket is worked in, as every later change writes it.
        text(snapshot.language.as_deref().unwrap_or(&new.language)),
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
        Integer(Some(0)),
        Integer(Some(derived.policy_version)),
    ];
    let mut cells = standing
        .into_iter()
        .chain(measure_values(&derived.measures).map(Integer));
    std::array::from_fn(|_| cells.next().unwrap_or(Integer(None)))
}

/// Binds a ticket row's values, in the order of `insert_ticket_sql`.
fn bind_ticket<'q>(
    mut query: AnyQueryScalar<'q>,
    new: &'q NewTicket,
    derived: &'q StandingColumns,
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

/// Where a new ticket stands after its opening events, and the notices they call for.
fn opening_of(
    policy: &Policy,
    new: &NewTicket,
    events: &[TicketEvent],
    at: Timestamp,
) -> Result<(StandingColumns, Vec<NoticeRow>), StoreError> {
    let (standing, measures, notices) =
        opening(policy, &context_of(new), events, at).map_err(step_error)?;
    let rows = notices.iter().map(NoticeRow::of).collect();
    Ok((StandingColumns::of(&standing, &measures, policy)?, rows))
}

/// The words a new ticket is found by.
fn words_of(new: &NewTicket) -> TicketWords<'_> {
    TicketWords {
        subject: &new.subject,
        description: &new.description,
        language: &new.language,
    }
}

fn context_of(new: &NewTicket) -> ClockContext<'_> {
    ClockContext {
        program: &new.program,
        region: &new.region,
        product_line: &new.product_line,
    }
}

async fn insert_with_timeline(
    transaction: &mut Transaction<'static, Any>,
    new: &NewTicket,
    events: &[TicketEvent],
    derived: &StandingColumns,
) -> Result<i64, StoreError> {
    let id = bind_ticket(
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "{} RETURNING id",
            insert_ticket_sql(1)
        ))),
        new,
        derived,
    )
    .fetch_one(&mut **transaction)
    .await?;
    append_events(transaction, id, events, words_of(new)).await?;
    Ok(id)
}

/// What a new ticket writes: its row, its first events, its advisor's load and the notices
/// its first events call for.
#[derive(Clone, Copy)]
pub(crate) struct NewRows<'a> {
    new: &'a NewTicket,
    events: &'a [TicketEvent],
    derived: &'a StandingColumns,
    notices: &'a [NoticeRow],
}

/// A new ticket's rows, owned, for the task that writes them (see `CreationQueue`).
pub(crate) struct NewTicketRows {
    new: NewTicket,
    events: Vec<TicketEvent>,
    derived: StandingColumns,
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
        let (derived, notices) = opening_of(policy, new, &events, at)?;
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

/// Values bound per event of a new ticket: when, who, what kind, public or not, its data and
/// the terms search keeps of it.
const EVENT_VALUES: usize = 6;

impl NewRows<'_> {
    /// How many values `creation_sql` numbers and `bind_creation` binds: the ticket's, six
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
                "((SELECT MAX(id) FROM tickets), {seq}, ${p}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
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
        "{}; INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, public, data, terms) \
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
    let words = words_of(rows.new);
    for event in rows.events {
        let (actor, data) = event_json(event)?;
        query = query
            .bind(seconds(event.at))
            .bind(actor)
            .bind(event.data.kind())
            .bind(event.data.is_public())
            .bind(data)
            .bind(words.terms_of(event));
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
             at BIGINT, actor TEXT, kind TEXT, public BOOLEAN, data TEXT, terms TEXT)), \
         timeline AS ( \
             INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, public, data, terms) \
             SELECT new.id, event.seq, event.at, event.actor, event.kind, event.public, \
             event.data, event.terms FROM event JOIN new USING (place) \
             ORDER BY place, event.seq), \
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
        let words = words_of(rows.new);
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
                terms: words.terms_of(event),
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
    terms: Option<String>,
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
            office_language: intake.office_language.clone(),
        });
        if let Some(assignment) = &intake.assignment {
            data.push(EventData::Assigned {
                advisor: assignment.advisor,
                reason: Some(assignment.reason.clone()),
                overridden: None,
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
fn record_of(id: i64, new: &NewTicket, derived: &StandingColumns) -> TicketRecord {
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
        language: snapshot
            .language
            .clone()
            .unwrap_or_else(|| new.language.clone()),
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
        policy_version: u32::try_from(derived.policy_version).unwrap_or(0),
        sort_key: QueueCursor {
            severity_rank: derived.severity_rank,
            placement_rank: derived.placement_rank,
            due_sort: derived.due_sort,
            id,
        },
    }
}
