//! API tokens: long-lived secrets for staff members' programs, each revocable and, when
//! issued so, expiring. Only the SHA-256 of a secret is kept.

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row, Transaction};

use crate::audit::{Recorded, snapshot};
use crate::staff::{STAFF_COLUMNS, StaffMember, staff_of};
use crate::{Store, StoreError, instant, seconds};

/// A token as listed: its secret is never stored, only its hash.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub staff_id: i64,
    /// What the token is for, such as "monitoring".
    pub name: String,
    pub created_at: Timestamp,
    /// From then on the token is refused; none: until revoked.
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Neither revoked nor expired at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expiry| now < expiry)
    }
}

const TOKEN_COLUMNS: &str = "id, staff_id, name, created_at, expires_at, revoked_at";

impl Store {
    /// Records a token for a staff member; `secret` is what the holder presents.
    pub async fn add_api_token(
        &self,
        staff_id: i64,
        name: &str,
        secret: &str,
        now: Timestamp,
        expires_at: Option<Timestamp>,
    ) -> Result<ApiToken, StoreError> {
        let mut transaction = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (staff_id, name, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(staff_id)
        .bind(name)
        .bind(token_hash(secret))
        .bind(seconds(now))
        .bind(expires_at.map(seconds))
        .fetch_one(&mut *transaction)
        .await?;
        let token = token_in(&mut *transaction, id).await?;
        self.record_new(&mut transaction, "api_token", id, "created", &token)
            .await?;
        transaction.commit().await?;
        Ok(token)
    }

    pub async fn api_token(&self, id: i64) -> Result<ApiToken, StoreError> {
        token_in(&self.pool, id).await
    }

    /// The tokens of one staff member, or everyone's; newest first.
    pub async fn api_tokens(&self, staff_id: Option<i64>) -> Result<Vec<ApiToken>, StoreError> {
        let rows =
            match staff_id {
                Some(staff_id) => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE staff_id = $1 ORDER BY id DESC"
                )))
                .bind(staff_id)
                .fetch_all(&self.pool)
                .await?,
                None => {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id DESC"
                    )))
                    .fetch_all(&self.pool)
                    .await?
                }
            };
        rows.iter().map(token_of).collect()
    }

    /// The active staff member holding this token, unrevoked and unexpired at `now`.
    pub async fn staff_by_token(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<StaffMember, StoreError> {
        Ok(self.token_holder(secret, now).await?.0)
    }

    /// The active staff member holding this token, unrevoked and unexpired at `now`, and
    /// when the token expires (none: until revoked).
    pub async fn token_holder(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<(StaffMember, Option<Timestamp>), StoreError> {
        let columns = STAFF_COLUMNS
            .split(", ")
            .map(|column| format!("s.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {columns}, t.expires_at AS token_expires_at \
             FROM api_tokens t JOIN staff s ON s.id = t.staff_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > $2) AND s.active"
        )))
        .bind(token_hash(secret))
        .bind(seconds(now))
        .fetch_one(&self.pool)
        .await?;
        let expires_at = row
            .try_get::<Option<i64>, _>("token_expires_at")?
            .map(instant)
            .transpose()?;
        Ok((staff_of(&row)?, expires_at))
    }

    /// Revokes a token for good: `NotFound` when there is none with this id, `Conflict` when
    /// it was revoked already.
    pub async fn revoke_api_token(&self, id: i64, now: Timestamp) -> Result<ApiToken, StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_row(&mut transaction, "api_tokens", id).await?;
        let before = token_in(&mut *transaction, id).await?;
        if before.revoked_at.is_some() {
            return Err(StoreError::Conflict(format!(
                "token {id} is revoked already"
            )));
        }
        let after = self.revoke_in(&mut transaction, before, now).await?;
        transaction.commit().await?;
        Ok(after)
    }

    async fn revoke_in(
        &self,
        transaction: &mut Transaction<'static, Any>,
        before: ApiToken,
        now: Timestamp,
    ) -> Result<ApiToken, StoreError> {
        // Another revocation may have come first, since `before` was read (PostgreSQL).
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(seconds(now))
        .bind(before.id)
        .execute(&mut **transaction)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "token {} is revoked already",
                before.id
            )));
        }
        let after = token_in(&mut **transaction, before.id).await?;
        let change = Recorded {
            entity: "api_token",
            entity_id: Some(before.id),
            action: "revoked",
            before: snapshot(&before),
            after: snapshot(&after),
        };
        self.record_change(transaction, change).await?;
        Ok(after)
    }

    /// Revokes the token whose secret this is, if it is one; whether it was.
    pub async fn revoke_api_token_by_secret(
        &self,
        secret: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        )))
        .bind(token_hash(secret))
        .fetch_optional(&mut *transaction)
        .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        match self.revoke_in(&mut transaction, token_of(&row)?, now).await {
            Ok(_) => {
                transaction.commit().await?;
                Ok(true)
            }
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }
}

/// Tokens are long random secrets, so a fast hash is enough: nobody can guess one, and a
/// stolen database does not give them away.
pub(crate) fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

async fn token_in<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<ApiToken, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(executor)
    .await?;
    token_of(&row)
}

fn token_of(row: &AnyRow) -> Result<ApiToken, StoreError> {
    let optional = |column: &str| -> Result<Option<Timestamp>, StoreError> {
        row.try_get::<Option<i64>, _>(column)?
            .map(instant)
            .transpose()
    };
    Ok(ApiToken {
        id: row.try_get("id")?,
        staff_id: row.try_get("staff_id")?,
        name: row.try_get("name")?,
        created_at: instant(row.try_get("created_at")?)?,
        expires_at: optional("expires_at")?,
        revoked_at: optional("revoked_at")?,
    })
}
