//! A ticket's timeline as stored: one row per event, its actor and data as JSON.

use caredesk_domain::ticket::{Actor, EventData, TicketEvent};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{StoreError, instant, seconds};

/// A ticket's own words, which its `created` event stands for in search, and the language
/// its texts are analysed in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TicketWords<'a> {
    pub subject: &'a str,
    pub description: &'a str,
    pub language: &'a str,
}

impl TicketWords<'_> {
    /// The terms search keeps for `event` of this ticket (none for the desk's own events).
    pub(crate) fn terms_of(&self, event: &TicketEvent) -> Option<String> {
        event
            .data
            .search_terms(self.subject, self.description, self.language)
    }
}

pub(crate) async fn append_events(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    events: &[TicketEvent],
    words: TicketWords<'_>,
) -> Result<(), StoreError> {
    for event in events {
        let (actor, data) = event_json(event)?;
        sqlx::query(
            "INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, public, data, terms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(i64::from(event.seq))
        .bind(seconds(event.at))
        .bind(actor)
        .bind(event.data.kind())
        .bind(event.data.is_public())
        .bind(data)
        .bind(words.terms_of(event))
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

/// An event's actor and data as stored (JSON text).
pub(crate) fn event_json(event: &TicketEvent) -> Result<(String, String), StoreError> {
    let json = |value: Result<String, serde_json::Error>| {
        value.map_err(|error| StoreError::Corrupt(error.to_string()))
    };
    Ok((
        json(serde_json::to_string(&event.actor))?,
        json(serde_json::to_string(&event.data))?,
    ))
}

pub(crate) async fn load_events<'e>(
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

/// A ticket's whole timeline as one cell: a JSON array of `[seq, at, actor, data]` in
/// order, for the ticket whose number is the SQL expression `ticket`, read back by
/// [`timeline_of_json`].
///
/// Why one cell: a read of many tickets' timelines otherwise returns a row per event, and
/// the SQLite driver hands each row from its thread to the caller's with a wake-up. The
/// database keeps the array beside the events (`ticket_timelines`, appended to by a trigger
/// on each new event; migration 0040), so that it is read in one piece instead of gathered
/// from the events each time. The events stay the record: a ticket's own reads
/// ([`load_events`]) read them, and the store's contract tests compare the two.
pub(crate) fn timeline_json(ticket: &str) -> String {
    format!("COALESCE((SELECT events FROM ticket_timelines WHERE ticket_id = {ticket}), '[]')")
}

/// One event as [`timeline_json`] puts it.
#[derive(serde::Deserialize)]
struct StoredEvent(i64, i64, Actor, EventData);

/// The timeline [`timeline_json`] read.
pub(crate) fn timeline_of_json(json: &str) -> Result<Vec<TicketEvent>, StoreError> {
    let stored: Vec<StoredEvent> = serde_json::from_str(json)
        .map_err(|error| StoreError::Corrupt(format!("timeline: {error}")))?;
    stored
        .into_iter()
        .map(|StoredEvent(seq, at, actor, data)| {
            Ok(TicketEvent {
                seq: u32::try_from(seq)
                    .map_err(|_| StoreError::Corrupt(format!("event number {seq}")))?,
                at: instant(at)?,
                actor,
                data,
            })
        })
        .collect()
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

pub(crate) fn event_of(row: &AnyRow) -> Result<TicketEvent, StoreError> {
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
