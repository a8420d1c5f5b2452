//! Signed-in sessions: a random token handed to the person, its hash kept here.

use jiff::Timestamp;

use crate::customers::Contact;
use crate::staff::{StaffMember, token_hash};
use crate::{Store, StoreError, seconds};

/// Who a session (or a token) belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOwner {
    Staff(StaffMember),
    Contact(Contact),
}

impl Store {
    /// Opens a session for `owner`, valid until `expires_at`; `secret` is the token given out.
    pub async fn open_session(
        &self,
        owner: &SessionOwner,
        secret: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let (staff_id, contact_id) = match owner {
            SessionOwner::Staff(member) => (Some(member.id), None),
            SessionOwner::Contact(contact) => (None, Some(contact.id)),
        };
        sqlx::query(
            "INSERT INTO sessions (token_hash, staff_id, contact_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(secret))
        .bind(staff_id)
        .bind(contact_id)
        .bind(seconds(now))
        .bind(seconds(expires_at))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The owner of an unexpired session; an inactive staff member has none.
    pub async fn session_owner(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<SessionOwner, StoreError> {
        let owner: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT staff_id, contact_id FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash(secret))
        .bind(seconds(now))
        .fetch_optional(&self.pool)
        .await?;
        match owner {
            Some((Some(staff_id), _)) => {
                let member = self.staff_member(staff_id).await?;
                if member.active {
                    Ok(SessionOwner::Staff(member))
                } else {
                    Err(StoreError::NotFound)
                }
            }
            Some((None, Some(contact_id))) => {
                Ok(SessionOwner::Contact(self.contact(contact_id).await?))
            }
            _ => Err(StoreError::NotFound),
        }
    }

    pub async fn close_session(&self, secret: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(secret))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Forgets sessions that expired before `now`.
    pub async fn purge_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(seconds(now))
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
