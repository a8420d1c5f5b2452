//! Webhooks registered by administrators: each receives every ticket event, through the
//! outbox (see `outbox::webhook_insert_sql`).

use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::audit::{Recorded, snapshot};
use crate::columns::Columns;
use crate::{Store, StoreError, instant, seconds};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    /// Signs the deliveries; never listed, shown once when registered.
    #[serde(skip)]
    pub secret: String,
    pub active: bool,
    pub created_by: String,
    pub created_at: Timestamp,
}

const WEBHOOK_COLUMNS: &str = "id, url, secret, active, created_by, created_at";

impl Store {
    pub async fn add_webhook(
        &self,
        url: &str,
        secret: &str,
        created_by: &str,
        now: Timestamp,
    ) -> Result<Webhook, StoreError> {
        let mut transaction = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhooks (url, secret, active, created_by, created_at) \
             VALUES ($1, $2, TRUE, $3, $4) RETURNING id",
        )
        .bind(url)
        .bind(secret)
        .bind(created_by)
        .bind(seconds(now))
        .fetch_one(&mut *transaction)
        .await?;
        let webhook = webhook_in(&mut *transaction, id).await?;
        self.record_new(
            &mut transaction,
            "webhook",
            id,
            "created",
            &as_audited(&webhook),
        )
        .await?;
        transaction.commit().await?;
        Ok(webhook)
    }

    pub async fn webhook(&self, id: i64) -> Result<Webhook, StoreError> {
        webhook_in(&self.pool, id).await
    }

    pub async fn active_webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE active = TRUE ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(webhook_of).collect()
    }

    /// Stops a webhook: no new events are written for it; what is already in the outbox
    /// for it is skipped. `NotFound` when there is no active webhook `id`.
    pub async fn deactivate_webhook(&self, id: i64) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_row(&mut transaction, "webhooks", id).await?;
        let before = webhook_in(&mut *transaction, id).await?;
        let changed =
            sqlx::query("UPDATE webhooks SET active = FALSE WHERE id = $1 AND active = TRUE")
                .bind(id)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
        if changed != 1 {
            return Err(StoreError::NotFound);
        }
        let after = webhook_in(&mut *transaction, id).await?;
        let change = Recorded {
            entity: "webhook",
            entity_id: Some(id),
            action: "deactivated",
            before: snapshot(&as_audited(&before)),
            after: snapshot(&as_audited(&after)),
        };
        self.record_change(&mut transaction, change).await?;
        transaction.commit().await?;
        Ok(())
    }
}

/// A webhook as the audit trail keeps it: its address cut to the scheme and the host, since
/// many services put the secret in the path or the user part (the signing secret is never
/// serialised at all).
fn as_audited(webhook: &Webhook) -> serde_json::Value {
    let (scheme, rest) = webhook.url.split_once("://").unwrap_or(("", &webhook.url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    serde_json::json!({
        "id": webhook.id,
        "url": format!("{scheme}://{host}/…"),
        "active": webhook.active,
        "created_by": webhook.created_by,
        "created_at": webhook.created_at,
    })
}

async fn webhook_in<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<Webhook, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(executor)
    .await?;
    webhook_of(&row)
}

fn webhook_of(row: &AnyRow) -> Result<Webhook, StoreError> {
    Ok(Webhook {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        secret: row.try_get("secret")?,
        active: row.flag("active")?,
        created_by: row.try_get("created_by")?,
        created_at: instant(row.try_get("created_at")?)?,
    })
}
