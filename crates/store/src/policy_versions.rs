//! The support policy's versions (migration 0039): each policy file the desk was told to
//! work under, numbered from 1, with who applied it, when, and from when it is in force.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError, instant, seconds};

/// A stored version, without its document.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyVersion {
    pub version: u32,
    /// SHA-256 of the document, in hexadecimal: two versions with the same hash are the
    /// same file.
    pub sha256: String,
    /// Where the document was read from: a file's path, or "built-in".
    pub source: String,
    /// Who applied it: a member of staff's key, or "command line (user)".
    pub applied_by: String,
    pub applied_at: Timestamp,
    /// From when it is in force (when it was applied, unless a later date was given).
    pub effective_at: Timestamp,
    pub note: Option<String>,
}

/// A stored version with its document (the policy file's TOML, as applied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPolicy {
    pub version: PolicyVersion,
    pub document: String,
}

/// A version to store.
#[derive(Clone, Debug)]
pub struct NewPolicyVersion<'a> {
    pub document: &'a str,
    pub sha256: &'a str,
    pub source: &'a str,
    pub applied_by: &'a str,
    pub applied_at: Timestamp,
    pub effective_at: Timestamp,
    pub note: Option<&'a str>,
}

/// How far the open tickets are from a version: how many were computed under an earlier one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RebuildProgress {
    /// Open tickets.
    pub open: u64,
    /// Open tickets whose clocks were computed under an earlier version.
    pub behind: u64,
}

/// Where a rebuild stands among the open tickets behind a version: a ticket, by the version
/// it was computed under, then its id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct BehindPosition {
    pub policy_version: u32,
    pub ticket: i64,
}

/// The terms open tickets are under, and how many are under each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenTicketTerms {
    pub program: String,
    pub region: String,
    pub product_line: String,
    pub severity: String,
    pub tickets: u64,
}

const VERSION_COLUMNS: &str = "version, sha256, source, applied_by, applied_at, effective_at, note";

impl Store {
    /// Every version, the latest first.
    pub async fn policy_versions(&self) -> Result<Vec<PolicyVersion>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM policy_versions ORDER BY version DESC"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(version_of)
        .collect()
    }

    /// Version `version` with its document, if it exists.
    pub async fn policy_version(&self, version: u32) -> Result<Option<StoredPolicy>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS}, document FROM policy_versions WHERE version = $1"
        )))
        .bind(i64::from(version))
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(stored_of)
        .transpose()
    }

    /// The version in force at `now` (the highest whose effective date has come), with its
    /// document; none while no version is stored.
    pub async fn policy_in_force(
        &self,
        now: Timestamp,
    ) -> Result<Option<StoredPolicy>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS}, document FROM policy_versions \
             WHERE effective_at <= $1 ORDER BY version DESC LIMIT 1"
        )))
        .bind(seconds(now))
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(stored_of)
        .transpose()
    }

    /// The number of the version in force at `now`, if any: what running instances compare
    /// with their own every few seconds.
    pub async fn policy_version_in_force(&self, now: Timestamp) -> Result<Option<u32>, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM policy_versions WHERE effective_at <= $1")
                .bind(seconds(now))
                .fetch_one(&self.pool)
                .await?;
        version.map(version_number).transpose()
    }

    /// Stores `new` as the next version and returns its number. Two versions stored at once
    /// (two operators, two instances starting on an empty database) cannot take one number:
    /// the second is refused as a conflict and stores nothing.
    pub async fn add_policy_version(&self, new: &NewPolicyVersion<'_>) -> Result<u32, StoreError> {
        let mut transaction = self.begin_write().await?;
        let latest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM policy_versions")
            .fetch_one(&mut *transaction)
            .await?;
        let version = latest.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO policy_versions \
             (version, document, sha256, source, applied_by, applied_at, effective_at, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(version)
        .bind(new.document)
        .bind(new.sha256)
        .bind(new.source)
        .bind(new.applied_by)
        .bind(seconds(new.applied_at))
        .bind(seconds(new.effective_at))
        .bind(new.note)
        .execute(&mut *transaction)
        .await
        .map_err(|error| match StoreError::from(error) {
            StoreError::Conflict(_) => StoreError::Conflict(
                "another policy version was stored at the same moment; try again".into(),
            ),
            other => other,
        })?;
        transaction.commit().await?;
        version_number(version)
    }

    /// How many open tickets there are, and how many of them were computed under a version
    /// before `version`.
    pub async fn rebuild_progress(&self, version: u32) -> Result<RebuildProgress, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS open, \
             COALESCE(SUM(CASE WHEN policy_version < $1 THEN 1 ELSE 0 END), 0) AS behind \
             FROM tickets WHERE closed_at IS NULL",
        )
        .bind(i64::from(version))
        .fetch_one(&self.pool)
        .await?;
        let count = |column: &str| -> Result<u64, StoreError> {
            let value: i64 = row.try_get(column)?;
            u64::try_from(value).map_err(|error| StoreError::Corrupt(format!("{column}: {error}")))
        };
        Ok(RebuildProgress {
            open: count("open")?,
            behind: count("behind")?,
        })
    }

    /// Up to `limit` open tickets computed under a version before `version`, after `after`
    /// in the order of their version then id: the next a rebuild takes. The position lets a
    /// rebuild pass over a ticket the version could not time instead of taking it forever.
    pub async fn open_tickets_behind(
        &self,
        version: u32,
        after: BehindPosition,
        limit: i64,
    ) -> Result<Vec<BehindPosition>, StoreError> {
        // Two seeks on (policy_version, id) rather than one row-value comparison, which the
        // databases would start from the first ticket of the version every time: the rest
        // of the position's version, then the versions after it.
        let mut behind = self
            .behind_in(
                "policy_version = $1 AND id > $2",
                [i64::from(after.policy_version), after.ticket],
                limit,
            )
            .await?;
        let room = limit - i64::try_from(behind.len()).unwrap_or(limit);
        if room > 0 && after.policy_version.saturating_add(1) < version {
            behind.extend(
                self.behind_in(
                    "policy_version > $1 AND policy_version < $2",
                    [i64::from(after.policy_version), i64::from(version)],
                    room,
                )
                .await?,
            );
        }
        Ok(behind
            .into_iter()
            .filter(|position| position.policy_version < version)
            .collect())
    }

    /// Up to `limit` open tickets by version then id, where `condition` (on `$1` and `$2`).
    async fn behind_in(
        &self,
        condition: &str,
        [first, second]: [i64; 2],
        limit: i64,
    ) -> Result<Vec<BehindPosition>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT policy_version, id FROM tickets WHERE closed_at IS NULL AND {condition} \
             ORDER BY policy_version, id LIMIT $3"
        )))
        .bind(first)
        .bind(second)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(BehindPosition {
                policy_version: version_number(row.try_get("policy_version")?)?,
                ticket: row.try_get("id")?,
            })
        })
        .collect()
    }
}

impl Store {
    /// Each combination of program, region, product line and severity the open tickets are
    /// under, with how many: what a new policy must still know.
    pub async fn open_ticket_terms(&self) -> Result<Vec<OpenTicketTerms>, StoreError> {
        sqlx::query(
            "SELECT program, region, product_line, severity, COUNT(*) AS tickets FROM tickets \
             WHERE closed_at IS NULL GROUP BY program, region, product_line, severity \
             ORDER BY program, region, product_line, severity",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let tickets: i64 = row.try_get("tickets")?;
            Ok(OpenTicketTerms {
                program: row.try_get("program")?,
                region: row.try_get("region")?,
                product_line: row.try_get("product_line")?,
                severity: row.try_get("severity")?,
                tickets: u64::try_from(tickets)
                    .map_err(|error| StoreError::Corrupt(format!("tickets: {error}")))?,
            })
        })
        .collect()
    }
}

fn version_number(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|error| StoreError::Corrupt(format!("policy version: {error}")))
}

fn version_of(row: &AnyRow) -> Result<PolicyVersion, StoreError> {
    Ok(PolicyVersion {
        version: version_number(row.try_get("version")?)?,
        sha256: row.try_get("sha256")?,
        source: row.try_get("source")?,
        applied_by: row.try_get("applied_by")?,
        applied_at: instant(row.try_get("applied_at")?)?,
        effective_at: instant(row.try_get("effective_at")?)?,
        note: row.try_get("note")?,
    })
}

fn stored_of(row: &AnyRow) -> Result<StoredPolicy, StoreError> {
    Ok(StoredPolicy {
        version: version_of(row)?,
        document: row.try_get("document")?,
    })
}
