//! Signed-in sessions: a random token handed to the person, its hash kept here.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use crate::customers::Contact;
use crate::staff::StaffMember;
use crate::tokens::token_hash;
use crate::{Store, StoreError, instant, seconds};

/// Who a session (or a token) belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOwner {
    Staff(StaffMember),
    Contact(Contact),
}

impl SessionOwner {
    /// Whose sessions these are, by id.
    pub fn holder(&self) -> SessionHolder {
        match self {
            SessionOwner::Staff(member) => SessionHolder::Staff(member.id),
            SessionOwner::Contact(contact) => SessionHolder::Contact(contact.id),
        }
    }
}

/// Whose sessions to list or end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionHolder {
    Staff(i64),
    Contact(i64),
}

impl SessionHolder {
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            SessionHolder::Staff(id) => (Some(id), None),
            SessionHolder::Contact(id) => (None, Some(id)),
        }
    }
}

/// Where a session was opened from, as its holder sees it listed: the client's address and
/// what the browser or program said it was (its User-Agent), both as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionOrigin {
    pub address: String,
    pub client: String,
}

/// A session as its holder sees it listed; never its secret.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionRecord {
    pub id: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The client's address when it signed in.
    pub address: String,
    /// The browser or program that signed in, as it named itself.
    pub client: String,
    /// The session of the request that asks.
    pub current: bool,
}

impl Store {
    /// Opens a session for `owner`, valid until `expires_at`; `secret` is the token given out.
    pub async fn open_session(
        &self,
        owner: &SessionOwner,
        secret: &str,
        origin: &SessionOrigin,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let (staff_id, contact_id) = owner.holder().columns();
        sqlx::query(
            "INSERT INTO sessions (token_hash, staff_id, contact_id, created_at, expires_at, address, client) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token_hash(secret))
        .bind(staff_id)
        .bind(contact_id)
        .bind(seconds(now))
        .bind(seconds(expires_at))
        .bind(&origin.address)
        .bind(&origin.client)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The holder's unexpired sessions, newest first; `current` marks the one whose secret
    /// is `current_secret`.
    pub async fn sessions_of(
        &self,
        holder: SessionHolder,
        current_secret: &str,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let (column, id) = match holder {
            SessionHolder::Staff(id) => ("staff_id", id),
            SessionHolder::Contact(id) => ("contact_id", id),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, token_hash, created_at, expires_at, address, client FROM sessions \
             WHERE {column} = $1 AND expires_at > $2 ORDER BY id DESC"
        )))
        .bind(id)
        .bind(seconds(now))
        .fetch_all(&self.pool)
        .await?;
        let current = token_hash(current_secret);
        rows.iter()
            .map(|row| {
                let hash: String = row.try_get("token_hash")?;
                Ok(SessionRecord {
                    id: row.try_get("id")?,
                    created_at: instant(row.try_get("created_at")?)?,
                    expires_at: instant(row.try_get("expires_at")?)?,
                    address: row.try_get("address")?,
                    client: row.try_get("client")?,
                    current: hash == current,
                })
            })
            .collect()
    }

    /// Ends one of the holder's sessions; `NotFound` when the holder has none with this id.
    pub async fn end_session_of(&self, holder: SessionHolder, id: i64) -> Result<(), StoreError> {
        let (staff_id, contact_id) = holder.columns();
        let done = sqlx::query(
            "DELETE FROM sessions WHERE id = $1 AND (staff_id = $2 OR contact_id = $3)",
        )
        .bind(id)
        .bind(staff_id.unwrap_or(-1))
        .bind(contact_id.unwrap_or(-1))
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The owner of an unexpired session; an inactive staff member has none.
    pub async fn session_owner(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<SessionOwner, StoreError> {
        Ok(self.session_holder(secret, now).await?.0)
    }

    /// The owner of an unexpired session and when it expires; an inactive staff member has
    /// none.
    pub async fn session_holder(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<(SessionOwner, Timestamp), StoreError> {
        let found: Option<(Option<i64>, Option<i64>, i64)> = sqlx::query_as(
            "SELECT staff_id, contact_id, expires_at FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash(secret))
        .bind(seconds(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some((staff_id, contact_id, expires_at)) = found else {
            return Err(StoreError::NotFound);
        };
        let expires_at = instant(expires_at)?;
        match (staff_id, contact_id) {
            (Some(staff_id), _) => {
                let member = self.staff_member(staff_id).await?;
                if member.active {
                    Ok((SessionOwner::Staff(member), expires_at))
                } else {
                    Err(StoreError::NotFound)
                }
            }
            (None, Some(contact_id)) => Ok((
                SessionOwner::Contact(self.contact(contact_id).await?),
                expires_at,
            )),
            (None, None) => Err(StoreError::NotFound),
        }
    }

    /// Ends the session whose secret this is, if it is one; whether it was.
    pub async fn close_session(&self, secret: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(secret))
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Forgets sessions (the activation manager's too) that expired before `now`.
    pub async fn purge_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(seconds(now))
            .execute(&self.writer)
            .await?;
        let activation = sqlx::query("DELETE FROM activation_sessions WHERE expires_at <= $1")
            .bind(seconds(now))
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() + activation.rows_affected())
    }
}
