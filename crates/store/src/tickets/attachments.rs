//! A ticket's files: each content kept once (by its SHA-256), each file on the ticket or on
//! one of its events, and a customer's contact sees only those of public events.

use crate::columns::Columns;
use crate::{Scope, Store, StoreError, instant, seconds};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

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

impl Store {
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

pub(crate) const NO_FILES: FilesToAttach<'static> = FilesToAttach {
    uploaded_by: "",
    files: &[],
};

/// Keeps a file of `ticket` (on its event `event_seq`, when given); identical contents are
/// stored once.
pub(super) async fn insert_attachment(
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
