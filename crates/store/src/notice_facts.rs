//! What a notice says, as things stand when it is written: the ticket, its customer, the
//! event that called for it and the person to tell. Read by the deliverer from the outbox's
//! rows; the rows themselves are written with their events (`outbox`).

use caredesk_domain::ticket::TicketEvent;
use sqlx::Row;

use crate::events::load_event;
use crate::outbox::OutboxEntry;
use crate::tickets::TicketRecord;
use crate::{Scope, Store, StoreError};

/// Everything a notice's message is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct NoticeFacts {
    pub ticket: TicketRecord,
    pub customer_name: String,
    /// The event that called for the notice.
    pub event: TicketEvent,
    /// `None` when there is nobody to tell: a ticket without a contact (and a customer
    /// without a designated one), a customer without a success manager, a member of staff
    /// who left.
    pub recipient: Option<NoticeRecipient>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeRecipient {
    pub name: String,
    pub email: String,
    /// What the notice is written in: the ticket's language for its contact, a member of
    /// staff's first language.
    pub language: String,
}

impl Store {
    /// What `entry` is to say and to whom, as things stand now (a contact's address changed
    /// since the event is the one used).
    pub async fn notice_facts(&self, entry: &OutboxEntry) -> Result<NoticeFacts, StoreError> {
        let ticket_id = entry
            .ticket_id
            .ok_or_else(|| StoreError::Corrupt(format!("notice {} is of no ticket", entry.id)))?;
        let ticket = self.ticket(ticket_id, Scope::All).await?;
        let customer_name: String = sqlx::query_scalar("SELECT name FROM customers WHERE id = $1")
            .bind(ticket.customer_id)
            .fetch_one(&self.pool)
            .await?;
        let event = load_event(&self.pool, ticket_id, entry.event_seq)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "notice {} names event {} of ticket {ticket_id}, which does not exist",
                    entry.id, entry.event_seq
                ))
            })?;
        let recipient = match entry.recipient.as_str() {
            "contact" => {
                let row = sqlx::query(
                    "SELECT name, email FROM contacts WHERE customer_id = $1 \
                     AND (id = $2 OR ($2 IS NULL AND designated = TRUE)) ORDER BY id LIMIT 1",
                )
                .bind(ticket.customer_id)
                .bind(ticket.contact_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|row| -> Result<NoticeRecipient, StoreError> {
                    Ok(NoticeRecipient {
                        name: row.try_get("name")?,
                        email: row.try_get("email")?,
                        language: ticket.language.clone(),
                    })
                })
                .transpose()?
            }
            "csm" => {
                let row = sqlx::query(
                    "SELECT s.name, s.email, s.languages FROM customers c \
                     JOIN staff s ON s.id = c.csm_id WHERE c.id = $1 AND s.active = TRUE",
                )
                .bind(ticket.customer_id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(staff_recipient).transpose()?
            }
            "staff" => self
                .staff_to_tell(entry.staff_id)
                .await?
                .map(|(recipient, _)| recipient),
            other => {
                return Err(StoreError::Corrupt(format!(
                    "notice {} is for \"{other}\", which is no kind of recipient",
                    entry.id
                )));
            }
        };
        Ok(NoticeFacts {
            ticket,
            customer_name,
            event,
            recipient,
        })
    }

    /// The active member of staff `id`, to tell something, and their region (whose time
    /// zone they read times in); `None` when they left.
    pub async fn staff_to_tell(
        &self,
        id: Option<i64>,
    ) -> Result<Option<(NoticeRecipient, Option<String>)>, StoreError> {
        let row = sqlx::query(
            "SELECT name, email, languages, region FROM staff WHERE id = $1 AND active = TRUE",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((staff_recipient(&row)?, row.try_get("region")?)))
            .transpose()
    }

    /// Contact `id`, to tell something in their own language; `None` when there is none.
    pub async fn contact_to_tell(
        &self,
        id: Option<i64>,
    ) -> Result<Option<NoticeRecipient>, StoreError> {
        let row = sqlx::query("SELECT name, email, language FROM contacts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| -> Result<NoticeRecipient, StoreError> {
            Ok(NoticeRecipient {
                name: row.try_get("name")?,
                email: row.try_get("email")?,
                language: row.try_get("language")?,
            })
        })
        .transpose()
    }

    /// Event `seq` of ticket `ticket`, if it exists (what a webhook delivery carries).
    pub async fn ticket_event(
        &self,
        ticket: i64,
        seq: u32,
    ) -> Result<Option<TicketEvent>, StoreError> {
        load_event(&self.pool, ticket, seq).await
    }
}

fn staff_recipient(row: &sqlx::any::AnyRow) -> Result<NoticeRecipient, StoreError> {
    let languages: String = row.try_get("languages")?;
    Ok(NoticeRecipient {
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        language: languages.split(',').next().unwrap_or_default().to_string(),
    })
}
