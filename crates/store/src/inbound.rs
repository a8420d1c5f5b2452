//! Inbound mail seen, once per Message-ID: a message handed over twice (an MTA retrying
//! after a timeout, an operator running `caredesk mail ingest` again) is acted on once.

use jiff::Timestamp;
use sqlx::Row;

use crate::{Store, StoreError, instant, seconds};

/// What became of an inbound message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundRecord {
    pub message_id: String,
    pub sender: String,
    pub subject: String,
    /// "processing" (being handled now), "appended", "opened" or "ignored".
    pub outcome: String,
    pub ticket_id: Option<i64>,
    pub reason: Option<String>,
    pub received_at: Timestamp,
}

impl Store {
    /// Takes message `message_id` to handle: `None` when it is new (it is now recorded as
    /// being handled), or what became of it the first time.
    pub async fn claim_inbound(
        &self,
        message_id: &str,
        sender: &str,
        subject: &str,
        now: Timestamp,
    ) -> Result<Option<InboundRecord>, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO inbound_mail (message_id, sender, subject, outcome, received_at) \
             VALUES ($1, $2, $3, 'processing', $4) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message_id)
        .bind(sender)
        .bind(subject)
        .bind(seconds(now))
        .execute(&self.writer)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(None);
        }
        // Handling cut short (the process killed half-way) leaves "processing": taken up
        // again once it is clearly not in progress any more.
        let stale = now
            .checked_sub(jiff::SignedDuration::from_mins(10))
            .unwrap_or(now);
        let taken_over = sqlx::query(
            "UPDATE inbound_mail SET received_at = $1 \
             WHERE message_id = $2 AND outcome = 'processing' AND received_at < $3",
        )
        .bind(seconds(now))
        .bind(message_id)
        .bind(seconds(stale))
        .execute(&self.writer)
        .await?
        .rows_affected();
        if taken_over == 1 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT message_id, sender, subject, outcome, ticket_id, reason, received_at \
             FROM inbound_mail WHERE message_id = $1",
        )
        .bind(message_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some(InboundRecord {
            message_id: row.try_get("message_id")?,
            sender: row.try_get("sender")?,
            subject: row.try_get("subject")?,
            outcome: row.try_get("outcome")?,
            ticket_id: row.try_get("ticket_id")?,
            reason: row.try_get("reason")?,
            received_at: instant(row.try_get("received_at")?)?,
        }))
    }

    /// Records what became of a message taken with `claim_inbound`.
    pub async fn settle_inbound(
        &self,
        message_id: &str,
        outcome: &str,
        ticket_id: Option<i64>,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE inbound_mail SET outcome = $1, ticket_id = $2, reason = $3 \
             WHERE message_id = $4",
        )
        .bind(outcome)
        .bind(ticket_id)
        .bind(reason)
        .bind(message_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets a message whose handling failed half-way (the database went away), so that
    /// the sender's retry handles it afresh.
    pub async fn forget_inbound(&self, message_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM inbound_mail WHERE message_id = $1 AND outcome = 'processing'")
            .bind(message_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The ticket of outbox notice `id`, if there is such a notice and it is of a ticket.
    pub async fn ticket_of_notice(&self, id: i64) -> Result<Option<i64>, StoreError> {
        let ticket: Option<Option<i64>> =
            sqlx::query_scalar("SELECT ticket_id FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(ticket.flatten())
    }
}
