//! The audit trail: who changed what, when, from where, from what to what. A store made
//! with [`Store::audited_by`] records each administrative change it writes (customers and
//! what they own, staff, availability, on-call shifts, API tokens, webhooks, releases) in
//! that change's own transaction, so that a change and its record are kept or lost
//! together. The trail is read here and never changed: the database's own triggers refuse
//! an update or a deletion.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{Store, StoreError, instant, seconds};

/// Who makes the changes of an audited store, from where, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    /// A caller key: `staff:3`, `contact:7`, or `system` (the operator's command line).
    pub actor: String,
    /// The client's address, when the change came over HTTP.
    pub address: String,
    pub at: Timestamp,
}

/// One change as the trail keeps it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub address: String,
    /// What was changed: customer, contact, contract, product, staff, on_call_shift,
    /// api_token, webhook, release.
    pub entity: String,
    pub entity_id: Option<i64>,
    /// created, updated, revoked, deactivated, imported…
    pub action: String,
    /// The record before the change (none for a creation).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<serde_json::Value>,
    /// The record after it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<serde_json::Value>,
}

/// Which entries to read: newest first, below `before_id` to page on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub actor: Option<String>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// A change to record: what, which, how, and the record around it.
pub(crate) struct Recorded<'a> {
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub action: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A record as the trail keeps it.
pub(crate) fn snapshot(record: &impl Serialize) -> Option<serde_json::Value> {
    serde_json::to_value(record).ok()
}

impl Store {
    /// This store, recording every administrative change it writes as `by`'s.
    pub fn audited_by(&self, by: Audit) -> Store {
        Store {
            audit: Some(Arc::new(by)),
            ..self.clone()
        }
    }

    /// Who this store's changes are recorded as, when it is audited.
    pub(crate) fn actor(&self) -> Option<&str> {
        self.audit.as_deref().map(|audit| audit.actor.as_str())
    }

    /// Records a change in the transaction that makes it (nothing when this store is not
    /// audited: the demo's and the tests' own loads).
    pub(crate) async fn record_change(
        &self,
        transaction: &mut Transaction<'static, Any>,
        change: Recorded<'_>,
    ) -> Result<(), StoreError> {
        let Some(audit) = &self.audit else {
            return Ok(());
        };
        let text = |value: Option<serde_json::Value>| value.map(|value| value.to_string());
        sqlx::query(
            "INSERT INTO audit_trail (at, actor, address, entity, entity_id, action, before, after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seconds(audit.at))
        .bind(&audit.actor)
        .bind(&audit.address)
        .bind(change.entity)
        .bind(change.entity_id)
        .bind(change.action)
        .bind(text(change.before))
        .bind(text(change.after))
        .execute(&mut **transaction)
        .await?;
        Ok(())
    }

    /// Holds the row `id` of `table` until the transaction ends (PostgreSQL; SQLite's
    /// writer holds the whole database already), so that what is recorded as "before" is
    /// what the change changed. `NotFound` when there is no such row.
    pub(crate) async fn lock_row(
        &self,
        transaction: &mut Transaction<'static, Any>,
        table: &'static str,
        id: i64,
    ) -> Result<(), StoreError> {
        let statement = format!("SELECT id FROM {table} WHERE id = $1{}", self.for_update());
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(statement))
            .bind(id)
            .fetch_one(&mut **transaction)
            .await?;
        Ok(())
    }

    /// Records a new record of `entity`: `created` by the caller, or `imported`.
    pub(crate) async fn record_new(
        &self,
        transaction: &mut Transaction<'static, Any>,
        entity: &str,
        id: i64,
        action: &str,
        record: &impl Serialize,
    ) -> Result<(), StoreError> {
        let change = Recorded {
            entity,
            entity_id: Some(id),
            action,
            before: None,
            after: snapshot(record),
        };
        self.record_change(transaction, change).await
    }

    /// Entries of the trail, newest first.
    pub async fn audit_trail(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let mut conditions = Vec::new();
        let mut next = 0;
        let mut placeholder = || {
            next += 1;
            format!("${next}")
        };
        if filter.entity.is_some() {
            conditions.push(format!("entity = {}", placeholder()));
        }
        if filter.entity_id.is_some() {
            conditions.push(format!("entity_id = {}", placeholder()));
        }
        if filter.actor.is_some() {
            conditions.push(format!("actor = {}", placeholder()));
        }
        if filter.from.is_some() {
            conditions.push(format!("at >= {}", placeholder()));
        }
        if filter.until.is_some() {
            conditions.push(format!("at < {}", placeholder()));
        }
        if filter.before_id.is_some() {
            conditions.push(format!("id < {}", placeholder()));
        }
        let limit = placeholder();
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let statement = format!(
            "SELECT id, at, actor, address, entity, entity_id, action, before, after \
             FROM audit_trail {condition} ORDER BY id DESC LIMIT {limit}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement));
        if let Some(entity) = &filter.entity {
            query = query.bind(entity.clone());
        }
        if let Some(entity_id) = filter.entity_id {
            query = query.bind(entity_id);
        }
        if let Some(actor) = &filter.actor {
            query = query.bind(actor.clone());
        }
        if let Some(from) = filter.from {
            query = query.bind(seconds(from));
        }
        if let Some(until) = filter.until {
            query = query.bind(seconds(until));
        }
        if let Some(before_id) = filter.before_id {
            query = query.bind(before_id);
        }
        let rows = query.bind(filter.limit).fetch_all(&self.pool).await?;
        rows.iter().map(entry_of).collect()
    }
}

fn entry_of(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    let json = |column: &str| -> Result<Option<serde_json::Value>, StoreError> {
        row.try_get::<Option<String>, _>(column)?
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|error| StoreError::Corrupt(format!("audit {column}: {error}")))
            })
            .transpose()
    };
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: instant(row.try_get("at")?)?,
        actor: row.try_get("actor")?,
        address: row.try_get("address")?,
        entity: row.try_get("entity")?,
        entity_id: row.try_get("entity_id")?,
        action: row.try_get("action")?,
        before: json("before")?,
        after: json("after")?,
    })
}
