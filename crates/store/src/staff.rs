//! Staff members, their availability and the on-call rota.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor};

use caredesk_domain::ticket::Role;

use crate::audit::{Recorded, snapshot};
use crate::columns::Columns;
use crate::{SqlBuilder, Store, StoreError, instant, seconds};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub region: Option<String>,
    pub languages: Vec<String>,
    pub active: bool,
    /// Present and taking new tickets; an advisor away is skipped by assignment.
    pub available: bool,
    #[serde(skip)]
    pub password_hash: Option<String>,
}

/// Who is on call for a region's office after its hours, and when.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OnCallShiftRecord {
    pub id: i64,
    pub region: String,
    pub staff_id: i64,
    pub staff_name: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStaff {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub region: Option<String>,
    pub languages: Vec<String>,
    pub password_hash: Option<String>,
}

pub(crate) const STAFF_COLUMNS: &str =
    "id, email, name, role, region, languages, active, available, password_hash";

impl Store {
    pub async fn create_staff(
        &self,
        new: &NewStaff,
        now: Timestamp,
    ) -> Result<StaffMember, StoreError> {
        let email = new.email.trim().to_lowercase();
        let mut transaction = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO staff (email, name, role, region, languages, password_hash, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7) RETURNING id",
        )
        .bind(&email)
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(new.region.as_deref())
        .bind(new.languages.join(","))
        .bind(new.password_hash.as_deref())
        .bind(seconds(now))
        .fetch_one(&mut *transaction)
        .await?;
        let member = staff_member_in(&mut *transaction, id).await?;
        self.record_new(&mut transaction, "staff", id, "created", &member)
            .await?;
        transaction.commit().await?;
        Ok(member)
    }

    pub async fn staff_member(&self, id: i64) -> Result<StaffMember, StoreError> {
        staff_member_in(&self.pool, id).await
    }

    pub async fn staff_by_email(&self, email: &str) -> Result<StaffMember, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS} FROM staff WHERE email = $1"
        )))
        .bind(email.trim().to_lowercase())
        .fetch_one(&self.pool)
        .await?;
        staff_of(&row)
    }

    pub async fn staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS} FROM staff ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(staff_of).collect()
    }
}

async fn staff_member_in<'e>(
    executor: impl Executor<'e, Database = Any>,
    id: i64,
) -> Result<StaffMember, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {STAFF_COLUMNS} FROM staff WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(executor)
    .await?;
    staff_of(&row)
}

pub(crate) fn staff_of(row: &AnyRow) -> Result<StaffMember, StoreError> {
    let role: String = row.try_get("role")?;
    let languages: String = row.try_get("languages")?;
    Ok(StaffMember {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role \"{role}\"")))?,
        region: row.try_get("region")?,
        languages: languages
            .split(',')
            .filter(|language| !language.is_empty())
            .map(str::to_string)
            .collect(),
        active: row.flag("active")?,
        available: row.flag("available")?,
        password_hash: row.try_get("password_hash")?,
    })
}

impl Store {
    /// Marks a staff member present and taking new tickets, or away.
    pub async fn set_availability(&self, id: i64, available: bool) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_row(&mut transaction, "staff", id).await?;
        let before = staff_member_in(&mut *transaction, id).await?;
        sqlx::query("UPDATE staff SET available = $1 WHERE id = $2")
            .bind(available)
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        let after = staff_member_in(&mut *transaction, id).await?;
        let change = Recorded {
            entity: "staff",
            entity_id: Some(id),
            action: "availability_changed",
            before: snapshot(&before),
            after: snapshot(&after),
        };
        self.record_change(&mut transaction, change).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Lets a staff member in again, or shuts them out: deactivated, their sessions end and
    /// their API tokens are revoked, in the same transaction; they are no longer assigned
    /// (only active advisors are). Answers the member as changed.
    pub async fn set_staff_active(
        &self,
        id: i64,
        active: bool,
        now: Timestamp,
    ) -> Result<StaffMember, StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_row(&mut transaction, "staff", id).await?;
        let before = staff_member_in(&mut *transaction, id).await?;
        sqlx::query("UPDATE staff SET active = $1 WHERE id = $2")
            .bind(active)
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        let (mut sessions_ended, mut tokens_revoked) = (0, 0);
        if !active {
            sessions_ended = sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
                .bind(id)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            tokens_revoked = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL",
            )
            .bind(seconds(now))
            .bind(id)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        let after = staff_member_in(&mut *transaction, id).await?;
        let mut recorded_after = snapshot(&after);
        if let Some(serde_json::Value::Object(fields)) = recorded_after.as_mut()
            && !active
        {
            fields.insert("sessions_ended".into(), sessions_ended.into());
            fields.insert("tokens_revoked".into(), tokens_revoked.into());
        }
        let change = Recorded {
            entity: "staff",
            entity_id: Some(id),
            action: if active { "reactivated" } else { "deactivated" },
            before: snapshot(&before),
            after: recorded_after,
        };
        self.record_change(&mut transaction, change).await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// Puts a staff member on call for a region's office from `starts_at` to `ends_at`.
    pub async fn add_on_call_shift(
        &self,
        region: &str,
        staff_id: i64,
        starts_at: Timestamp,
        ends_at: Timestamp,
    ) -> Result<OnCallShiftRecord, StoreError> {
        if ends_at <= starts_at {
            return Err(StoreError::Conflict(
                "ends_at: an on-call shift must end after it starts".into(),
            ));
        }
        let mut transaction = self.begin_write().await?;
        let id = sqlx::query_scalar(
            "INSERT INTO on_call_shifts (region, staff_id, starts_at, ends_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(region)
        .bind(staff_id)
        .bind(seconds(starts_at))
        .bind(seconds(ends_at))
        .fetch_one(&mut *transaction)
        .await?;
        let staff = staff_member_in(&mut *transaction, staff_id).await?;
        let shift = OnCallShiftRecord {
            id,
            region: region.to_string(),
            staff_id,
            staff_name: staff.name,
            starts_at,
            ends_at,
        };
        self.record_new(&mut transaction, "on_call_shift", id, "created", &shift)
            .await?;
        transaction.commit().await?;
        Ok(shift)
    }

    /// The on-call rota: shifts that end after `after`, optionally of one region, by start.
    pub async fn on_call_shifts(
        &self,
        region: Option<&str>,
        after: Timestamp,
    ) -> Result<Vec<OnCallShiftRecord>, StoreError> {
        let mut query = SqlBuilder::new(
            "SELECT o.id, o.region, o.staff_id, s.name, o.starts_at, o.ends_at \
             FROM on_call_shifts o JOIN staff s ON s.id = o.staff_id WHERE o.ends_at > ",
        );
        query.bind_i64(seconds(after));
        if let Some(region) = region {
            query.push(" AND o.region = ").bind_text(region);
        }
        query.push(" ORDER BY o.starts_at, o.region, o.staff_id");
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(OnCallShiftRecord {
                    id: row.try_get("id")?,
                    region: row.try_get("region")?,
                    staff_id: row.try_get("staff_id")?,
                    staff_name: row.try_get("name")?,
                    starts_at: instant(row.try_get("starts_at")?)?,
                    ends_at: instant(row.try_get("ends_at")?)?,
                })
            })
            .collect()
    }
}
