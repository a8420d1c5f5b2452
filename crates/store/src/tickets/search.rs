//! Staff find tickets by the words people wrote in them.
//!
//! Each event keeps the terms of its text (`ticket_events.terms`, written with the event;
//! see `TicketWords`): the subject and description on the `created` event, a message, a
//! note or a reason on the others. SQLite indexes them in an FTS5 table that reads them from
//! the events, PostgreSQL in a GIN index over their stored `tsvector` (`terms_vector`). A search returns the texts that hold
//! every word, the latest written first. SQLite reads its index from the newest end and
//! stops after a page, however common the words; PostgreSQL either reads the newest events
//! first and keeps those that match (common words) or takes the matches from its index and
//! sorts them (rarer words), as its planner estimates cheaper.

use caredesk_domain::ticket::EventData;
use sqlx::Row;

use super::{TICKET_COLUMNS, TicketRecord, ticket_of};
use crate::resources::full_text_query;
use crate::{Backend, SqlBuilder, Store, StoreError};
use caredesk_domain::resources::search::Lookup;

/// How many events' terms the store indexes in one transaction when it catches up with
/// those written before the search existed.
pub const BACKLOG_BATCH: i64 = 5_000;

/// A text of a ticket that holds every word searched for.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketTextHit {
    /// The event's id: a search continues before the last one it returned.
    pub event_id: i64,
    pub ticket_id: i64,
    pub seq: u32,
    pub data: EventData,
}

/// The texts found, and the tickets they belong to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketTextHits {
    /// The latest written first.
    pub texts: Vec<TicketTextHit>,
    /// The tickets of `texts`, in no particular order.
    pub tickets: Vec<TicketRecord>,
}

impl Store {
    /// At most `limit` texts (subject and description, messages, notes, reasons) that hold
    /// each of `words` (each given as its terms in every language searched: any of them
    /// will do), the latest written first; only those written before event `before` when
    /// given. An empty list of words finds nothing.
    pub async fn search_ticket_texts(
        &self,
        words: &[Vec<String>],
        before: Option<i64>,
        limit: i64,
    ) -> Result<TicketTextHits, StoreError> {
        let words: Vec<Vec<String>> = words
            .iter()
            .filter(|variants| !variants.is_empty())
            .cloned()
            .collect();
        if words.is_empty() || limit <= 0 {
            return Ok(TicketTextHits::default());
        }
        let query = full_text_query(self.backend, &Lookup::All(words));
        let sql = match self.backend {
            Backend::Sqlite => {
                let mut sql = SqlBuilder::new(
                    "SELECT e.id, e.ticket_id, e.seq, e.data FROM (SELECT rowid AS id \
                     FROM ticket_search WHERE ticket_search MATCH ",
                );
                sql.bind_text(&query);
                if let Some(before) = before {
                    sql.push(" AND rowid < ").bind_i64(before);
                }
                sql.push(" ORDER BY rowid DESC LIMIT ").bind_i64(limit);
                sql.push(") hit JOIN ticket_events e ON e.id = hit.id ORDER BY e.id DESC");
                sql
            }
            Backend::Postgres => {
                let mut sql = SqlBuilder::new(
                    "SELECT id, ticket_id, seq, data FROM ticket_events \
                     WHERE terms_vector IS NOT NULL AND terms_vector @@ to_tsquery('simple', ",
                );
                sql.bind_text(&query).push(")");
                if let Some(before) = before {
                    sql.push(" AND id < ").bind_i64(before);
                }
                sql.push(" ORDER BY id DESC LIMIT ").bind_i64(limit);
                sql
            }
        };
        let rows = sql.fetch_all(&self.pool).await?;
        let mut texts = Vec::with_capacity(rows.len());
        for row in &rows {
            let data: String = row.try_get("data")?;
            let seq: i64 = row.try_get("seq")?;
            texts.push(TicketTextHit {
                event_id: row.try_get("id")?,
                ticket_id: row.try_get("ticket_id")?,
                seq: u32::try_from(seq)
                    .map_err(|_| StoreError::Corrupt(format!("event number {seq}")))?,
                data: serde_json::from_str(&data)
                    .map_err(|error| StoreError::Corrupt(format!("event data: {error}")))?,
            });
        }
        let mut ids: Vec<i64> = texts.iter().map(|text| text.ticket_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let tickets = if ids.is_empty() {
            Vec::new()
        } else {
            let mut sql = SqlBuilder::new(&format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN ("
            ));
            for (index, id) in ids.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                sql.bind_i64(*id);
            }
            sql.push(")");
            sql.fetch_all(&self.pool)
                .await?
                .iter()
                .map(ticket_of)
                .collect::<Result<_, _>>()?
        };
        Ok(TicketTextHits { texts, tickets })
    }

    /// Gives the events written before the ticket search existed their terms, `batch`
    /// events a transaction (the migration that made the search listed them; `migrate` does
    /// this with [`BACKLOG_BATCH`]); returns how many events were read. Nothing to do on a
    /// database that had no tickets then, or once done. Instances starting together on one
    /// PostgreSQL database take the batches in turn.
    pub async fn index_earlier_ticket_texts(&self, batch: i64) -> Result<u64, StoreError> {
        let mut read = 0u64;
        loop {
            let mut transaction = self.begin_write().await?;
            let backlog: Option<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT next_event_id, last_event_id FROM ticket_terms_backlog{}",
                self.for_update()
            )))
            .fetch_optional(&mut *transaction)
            .await?;
            let Some((next, last)) = backlog else {
                return Ok(read);
            };
            // A ticket's own words only for its `created` event, the one that stands for them.
            let rows = sqlx::query(
                "SELECT e.id, e.data, t.language, \
                 CASE WHEN e.seq = 1 THEN t.subject ELSE '' END AS subject, \
                 CASE WHEN e.seq = 1 THEN t.description ELSE '' END AS description \
                 FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
                 WHERE e.id >= $1 AND e.id <= $2 ORDER BY e.id LIMIT $3",
            )
            .bind(next)
            .bind(last)
            .bind(batch.max(1))
            .fetch_all(&mut *transaction)
            .await?;
            let mut terms = serde_json::Map::new();
            let mut reached = last;
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                reached = id;
                let data: String = row.try_get("data")?;
                // One unreadable event costs its words, not the desk's start.
                let data: EventData = match serde_json::from_str(&data) {
                    Ok(data) => data,
                    Err(error) => {
                        tracing::warn!(event = id, %error, "an event's data does not read: its words are not indexed");
                        continue;
                    }
                };
                let subject: String = row.try_get("subject")?;
                let description: String = row.try_get("description")?;
                let language: String = row.try_get("language")?;
                if let Some(found) = data.search_terms(&subject, &description, &language) {
                    terms.insert(id.to_string(), found.into());
                }
            }
            if !terms.is_empty() {
                let terms = serde_json::Value::Object(terms).to_string();
                let statement = match self.backend {
                    Backend::Sqlite => {
                        "UPDATE ticket_events SET terms = j.value FROM json_each($1) AS j \
                         WHERE ticket_events.id = CAST(j.key AS INTEGER)"
                    }
                    Backend::Postgres => {
                        "UPDATE ticket_events SET terms = j.value \
                         FROM json_each_text(CAST($1 AS json)) AS j \
                         WHERE ticket_events.id = CAST(j.key AS BIGINT)"
                    }
                };
                sqlx::query(statement)
                    .bind(terms)
                    .execute(&mut *transaction)
                    .await?;
            }
            read += rows.len() as u64;
            if (rows.len() as i64) < batch.max(1) || reached >= last {
                sqlx::query("DELETE FROM ticket_terms_backlog")
                    .execute(&mut *transaction)
                    .await?;
            } else {
                sqlx::query("UPDATE ticket_terms_backlog SET next_event_id = $1")
                    .bind(reached + 1)
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await?;
            tracing::info!(
                events = read,
                through = reached,
                of = last,
                "indexing earlier tickets' texts for search"
            );
        }
    }
}
