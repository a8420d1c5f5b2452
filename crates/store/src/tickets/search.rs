//! Staff find tickets by the words people wrote in them.
//!
//! Each event keeps the terms of its text (`ticket_events.terms`, written with the event;
//! see `TicketWords`): the subject and description on the `created` event, a message, a
//! note or a reason on the others. SQLite indexes them in an FTS5 table that reads them from
//! the events, PostgreSQL in a GIN index over their stored `tsvector` (`terms_vector`). A
//! search returns the texts that hold every word, the latest written first.
//!
//! SQLite reads its index from the newest end and stops after a page, however common the
//! words. PostgreSQL's GIN index knows no order: taking every match from it and sorting
//! costs a page read per match, a ruin for a common word, while reading the newest events
//! in order and keeping the matches is a ruin for a rare one. Its planner chooses between
//! the two from estimates that miss (a word in 2,000 texts was read 130 ms in order), so
//! the store chooses itself, from what it sees: it reads the newest events first, and
//! when they do not fill the page, the share of them that matched tells how many more it
//! would read in order against how many matches the index would hand it, and it takes
//! the cheaper way (see [`Store::postgres_texts`]).

use caredesk_domain::ticket::EventData;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{TICKET_COLUMNS, TicketRecord, ticket_of};
use crate::resources::full_text_query;
use crate::{Backend, SqlBuilder, Store, StoreError};
use caredesk_domain::resources::search::Lookup;

/// How many events' terms the store indexes in one transaction when it catches up with
/// those written before the search existed.
pub const BACKLOG_BATCH: i64 = 5_000;

/// How PostgreSQL looks for texts (SQLite has one way); the default is what the desk uses,
/// others let tests take each way on a few events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextSearchPlan {
    /// How many of the newest events are read in order first, before the search judges how
    /// common its words are (20,000: about 9 ms with warm buffers; a smaller window judges
    /// worse and was slower in the 99th percentile).
    pub first_window: i64,
    /// What fetching one match handed by the GIN index costs, in events read in order (a
    /// page read for each match, in no order, against a row of pages read in turn: about
    /// 3 µs against 0.45 µs with warm buffers, 7 to 14 µs cold; 8 by default: 16 was slower
    /// in the 99th percentile).
    pub fetch_to_scan: f64,
}

impl Default for TextSearchPlan {
    fn default() -> Self {
        TextSearchPlan {
            first_window: 20_000,
            fetch_to_scan: 8.0,
        }
    }
}

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
        self.search_ticket_texts_planned(words, before, limit, TextSearchPlan::default())
            .await
    }

    /// [`Store::search_ticket_texts`], PostgreSQL looking the way `plan` says.
    pub async fn search_ticket_texts_planned(
        &self,
        words: &[Vec<String>],
        before: Option<i64>,
        limit: i64,
        plan: TextSearchPlan,
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
        let rows = match self.backend {
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
                sql.fetch_all(&self.pool).await?
            }
            Backend::Postgres => self.postgres_texts(&query, before, limit, plan).await?,
        };
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

    /// PostgreSQL: at most `limit` events before `before` whose terms match `query` (a
    /// `tsquery`), the latest first. Reads the newest events in order, a window at a time;
    /// when one does not fill the page, the share that matched so far estimates both ways
    /// to the rest: reading on in order (the events it takes to find what is missing) or
    /// taking every older match from the GIN index and sorting (the matches the older
    /// events hold, each a page read). The first is tried again with a window sized to the
    /// estimate, at least twice the last, until the second is cheaper or the page full.
    async fn postgres_texts(
        &self,
        query: &str,
        before: Option<i64>,
        limit: i64,
        plan: TextSearchPlan,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let mut rows: Vec<AnyRow> = Vec::new();
        let mut upper = before.unwrap_or(i64::MAX);
        let mut window = plan.first_window.max(1);
        let mut read: i64 = 0;
        loop {
            // The subquery's LIMIT holds the plan to the primary key, newest first.
            let found = sqlx::query(
                "SELECT id, ticket_id, seq, data FROM (SELECT id, ticket_id, seq, data, \
                 terms_vector FROM ticket_events WHERE id < $1 ORDER BY id DESC LIMIT $2) \
                 newest WHERE terms_vector @@ to_tsquery('simple', $3) \
                 ORDER BY id DESC LIMIT $4",
            )
            .bind(upper)
            .bind(window)
            .bind(query)
            .bind(limit - rows.len() as i64)
            .fetch_all(&self.pool)
            .await?;
            keep_older(&mut rows, found)?;
            if rows.len() as i64 >= limit {
                return Ok(rows);
            }
            // The oldest event the window read; none when it read every one left.
            let oldest: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM ticket_events WHERE id < $1 ORDER BY id DESC \
                 OFFSET $2 LIMIT 1",
            )
            .bind(upper)
            .bind(window - 1)
            .fetch_optional(&self.pool)
            .await?;
            let Some(oldest) = oldest else {
                return Ok(rows);
            };
            read = read.saturating_add(window);
            upper = oldest;
            let missing = (limit - rows.len() as i64) as f64;
            // One more match than seen: a window without any says "rare", not "absent".
            let share = (rows.len() as f64 + 1.0) / read as f64;
            // Events are numbered from 1 and never deleted: about `oldest` remain.
            let to_read = missing / share;
            let to_fetch = share * oldest as f64 * plan.fetch_to_scan;
            if to_fetch <= to_read {
                let mut transaction = self.pool.begin().await?;
                // The GIN index and nothing else: no scan in order of all the rest.
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query("SET LOCAL enable_indexscan = off")
                    .execute(&mut *transaction)
                    .await?;
                let found = sqlx::query(
                    "SELECT id, ticket_id, seq, data FROM ticket_events \
                     WHERE terms_vector IS NOT NULL \
                     AND terms_vector @@ to_tsquery('simple', $1) AND id < $2 \
                     ORDER BY id DESC LIMIT $3",
                )
                .bind(query)
                .bind(upper)
                .bind(limit - rows.len() as i64)
                .fetch_all(&mut *transaction)
                .await?;
                transaction.commit().await?;
                keep_older(&mut rows, found)?;
                return Ok(rows);
            }
            window = (2.0 * to_read).min(i64::MAX as f64) as i64;
            window = window.max(read.saturating_mul(2));
        }
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
                 CAST(CASE WHEN e.terms IS NULL THEN 0 ELSE 1 END AS BIGINT) AS had_terms, \
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
                match data.search_terms(&subject, &description, &language) {
                    Some(found) => {
                        terms.insert(id.to_string(), found.into());
                    }
                    // Analysed again, a text may keep no word at all: its old terms go.
                    None => {
                        let had_terms: i64 = row.try_get("had_terms")?;
                        if had_terms == 1 {
                            terms.insert(id.to_string(), serde_json::Value::Null);
                        }
                    }
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

/// Adds `found` to `rows`, the latest first, past those already kept only. Each statement
/// of a search sees the events committed when it starts: one written between two (a new
/// one, or an older number committed late) moves the next window up over events already
/// read, and none may come twice.
fn keep_older(rows: &mut Vec<AnyRow>, found: Vec<AnyRow>) -> Result<(), StoreError> {
    let mut oldest_kept = match rows.last() {
        Some(row) => row.try_get::<i64, _>("id")?,
        None => i64::MAX,
    };
    for row in found {
        let id: i64 = row.try_get("id")?;
        if id < oldest_kept {
            oldest_kept = id;
            rows.push(row);
        }
    }
    Ok(())
}
