//! What keeps the resource center useful: readers' feedback on an entry ("was this
//! helpful?") and the searches that found nothing.

use jiff::Timestamp;
use sqlx::Row;

use crate::columns::Columns;
use crate::{Store, StoreError, instant, seconds};

/// What readers said of an entry.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeedbackSummary {
    pub helpful: i64,
    pub not_helpful: i64,
    /// The comments left for the writers, the latest first (at most 100).
    pub comments: Vec<FeedbackComment>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FeedbackComment {
    pub language: String,
    pub helpful: bool,
    pub comment: String,
    pub created_at: Timestamp,
}

/// A search that found nothing, as often as it was made.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MissedSearch {
    /// The words, normalised.
    pub query: String,
    /// The language of the page it was made from, the last time.
    pub language: String,
    pub times: i64,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
}

/// The most comments a summary lists.
const COMMENTS_LISTED: i64 = 100;

impl Store {
    /// Records a reader's word on the `language` translation of entry `entry`.
    pub async fn record_feedback(
        &self,
        entry: i64,
        language: &str,
        helpful: bool,
        comment: Option<&str>,
        reader: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO resource_feedback (entry_id, language, helpful, comment, reader, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entry)
        .bind(language)
        .bind(helpful)
        .bind(comment)
        .bind(reader)
        .bind(seconds(now))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// What readers said of entry `entry`.
    pub async fn feedback_of(&self, entry: i64) -> Result<FeedbackSummary, StoreError> {
        let counts = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN helpful THEN 1 ELSE 0 END), 0) AS helpful, \
             COALESCE(SUM(CASE WHEN helpful THEN 0 ELSE 1 END), 0) AS not_helpful \
             FROM resource_feedback WHERE entry_id = $1",
        )
        .bind(entry)
        .fetch_one(&self.pool)
        .await?;
        let comments = sqlx::query(
            "SELECT language, helpful, comment, created_at FROM resource_feedback \
             WHERE entry_id = $1 AND comment IS NOT NULL ORDER BY created_at DESC, id DESC \
             LIMIT $2",
        )
        .bind(entry)
        .bind(COMMENTS_LISTED)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(FeedbackComment {
                language: row.try_get("language")?,
                helpful: row.flag("helpful")?,
                comment: row.try_get("comment")?,
                created_at: instant(row.try_get("created_at")?)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(FeedbackSummary {
            helpful: counts.try_get("helpful")?,
            not_helpful: counts.try_get("not_helpful")?,
            comments,
        })
    }

    /// Counts a search for `query` (normalised) that found nothing.
    pub async fn record_missed_search(
        &self,
        query: &str,
        language: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO resource_missed_searches (query, language, times, first_at, last_at) \
             VALUES ($1, $2, 1, $3, $3) ON CONFLICT (query) DO UPDATE SET \
             times = resource_missed_searches.times + 1, language = excluded.language, \
             last_at = excluded.last_at",
        )
        .bind(query)
        .bind(language)
        .bind(seconds(now))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The searches that found nothing, the most frequent first, at most `limit`.
    pub async fn missed_searches(&self, limit: i64) -> Result<Vec<MissedSearch>, StoreError> {
        sqlx::query(
            "SELECT query, language, times, first_at, last_at FROM resource_missed_searches \
             ORDER BY times DESC, last_at DESC, query LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(MissedSearch {
                query: row.try_get("query")?,
                language: row.try_get("language")?,
                times: row.try_get("times")?,
                first_at: instant(row.try_get("first_at")?)?,
                last_at: instant(row.try_get("last_at")?)?,
            })
        })
        .collect()
    }

    /// Forgets the searches that found nothing last before `before`, then all but the
    /// `kept` most frequent of the others (anyone may type anything: the list must not grow
    /// without end). Returns how many were forgotten.
    pub async fn purge_missed_searches(
        &self,
        before: Timestamp,
        kept: i64,
    ) -> Result<u64, StoreError> {
        let mut transaction = self.writer.begin().await?;
        let old = sqlx::query("DELETE FROM resource_missed_searches WHERE last_at < $1")
            .bind(seconds(before))
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        let beyond = sqlx::query(
            "DELETE FROM resource_missed_searches WHERE query NOT IN (SELECT query \
             FROM resource_missed_searches ORDER BY times DESC, last_at DESC, query LIMIT $1)",
        )
        .bind(kept.max(0))
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(old + beyond)
    }

    /// Forgets a search that found nothing (the center has an answer for it now).
    pub async fn forget_missed_search(&self, query: &str) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("DELETE FROM resource_missed_searches WHERE query = $1")
                .bind(query)
                .execute(&self.writer)
                .await?
                .rows_affected()
                == 1,
        )
    }
}

/// The tickets an entry was linked from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TicketsHelped {
    /// Tickets whose replies or proposals link it.
    pub linked: i64,
    /// Of those, the ones closed with a solution the customer accepted.
    pub solved: i64,
}

impl Store {
    /// Records that ticket `ticket` links the entries `entries` (those that exist; each
    /// once).
    pub async fn link_ticket_to_entries(
        &self,
        ticket: i64,
        entries: &[i64],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut transaction = self.begin_write().await?;
        for entry in entries {
            sqlx::query(
                "INSERT INTO ticket_resource_links (ticket_id, entry_id, linked_at) \
                 SELECT $1, e.id, $3 FROM resource_entries e WHERE e.id = $2 \
                 ON CONFLICT (ticket_id, entry_id) DO NOTHING",
            )
            .bind(ticket)
            .bind(entry)
            .bind(seconds(now))
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// How many tickets entry `entry` was linked from, and how many of them were solved.
    pub async fn tickets_helped(&self, entry: i64) -> Result<TicketsHelped, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS linked, COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM ticket_events v \
             WHERE v.ticket_id = l.ticket_id AND v.kind = 'solution_accepted') \
             THEN 1 ELSE 0 END), 0) AS solved FROM ticket_resource_links l WHERE l.entry_id = $1",
        )
        .bind(entry)
        .fetch_one(&self.pool)
        .await?;
        Ok(TicketsHelped {
            linked: row.try_get("linked")?,
            solved: row.try_get("solved")?,
        })
    }
}

/// A suggestion shown beside the new-ticket form before a ticket was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SuggestionShown {
    Entry { id: i64, language: String },
    Question { id: i64 },
}

/// A suggestion shown, as the ticket's advisor reads it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ShownBefore {
    /// "entry" or "question".
    pub kind: &'static str,
    pub id: i64,
    pub language: String,
    pub title: String,
}

impl Store {
    /// Keeps the suggestions shown before ticket `ticket` was sent, in their order.
    pub async fn record_suggestions_shown(
        &self,
        ticket: i64,
        shown: &[SuggestionShown],
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        for (position, suggestion) in shown.iter().enumerate() {
            let (entry, language, question) = match suggestion {
                SuggestionShown::Entry { id, language } => {
                    (Some(*id), Some(language.as_str()), None)
                }
                SuggestionShown::Question { id } => (None, None, Some(*id)),
            };
            sqlx::query(
                "INSERT INTO ticket_suggestions (ticket_id, position, entry_id, language, \
                 question_id) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (ticket_id, position) DO NOTHING",
            )
            .bind(ticket)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(entry)
            .bind(language)
            .bind(question)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// The suggestions shown before ticket `ticket` was sent, with their titles.
    pub async fn suggestions_shown(&self, ticket: i64) -> Result<Vec<ShownBefore>, StoreError> {
        sqlx::query(
            "SELECT s.entry_id, s.question_id, COALESCE(t.language, q.language) AS language, \
             COALESCE(t.title, q.title) AS title FROM ticket_suggestions s \
             LEFT JOIN resource_translations t ON t.entry_id = s.entry_id \
             AND t.language = s.language \
             LEFT JOIN community_questions q ON q.id = s.question_id \
             WHERE s.ticket_id = $1 ORDER BY s.position",
        )
        .bind(ticket)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let entry: Option<i64> = row.try_get("entry_id")?;
            let question: Option<i64> = row.try_get("question_id")?;
            let (kind, id) = match (entry, question) {
                (Some(id), _) => ("entry", id),
                (None, Some(id)) => ("question", id),
                (None, None) => {
                    return Err(StoreError::Corrupt("a suggestion of nothing".into()));
                }
            };
            Ok(ShownBefore {
                kind,
                id,
                language: row
                    .try_get::<Option<String>, _>("language")?
                    .unwrap_or_default(),
                title: row
                    .try_get::<Option<String>, _>("title")?
                    .unwrap_or_default(),
            })
        })
        .collect()
    }
}
