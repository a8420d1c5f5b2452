//! Failed sign-ins per account and per client address, read and counted under a row lock so
//! that concurrent attempts on one account are counted one after another. What the counts
//! mean (how long to wait) is the domain's: the caller decides, the store keeps. An attempt
//! that must wait is told so from a plain read, without taking the write lock: a flood of
//! refused guesses does not queue behind (or in front of) the desk's writes.
//!
//! A burst is told to the administrators through the outbox (a notice of no ticket), once
//! per account or address: the first refused attempt that marks it as told writes the alert.

use caredesk_domain::notify::NoticeKind;
use caredesk_domain::sign_in::{Attempt, Failures, SignInBurst};
use jiff::Timestamp;
use sqlx::Row;

use crate::{Store, StoreError, instant, seconds};

impl Store {
    /// Reads the failures of `account_key` and `address_key`, asks `decide` whether the
    /// attempt goes on, and records the failures it returns. A first read without lock
    /// answers a throttled attempt at once; the attempt that goes on is decided again under
    /// the rows' locks and counted before the commit.
    pub async fn count_sign_in_attempt(
        &self,
        account_key: &str,
        address_key: &str,
        decide: impl Fn(Option<Failures>, Option<Failures>) -> Attempt,
    ) -> Result<Attempt, StoreError> {
        let (account, address) = read_failures(&self.pool, account_key, address_key, "").await?;
        if let wait @ Attempt::Wait { .. } = decide(account, address) {
            return Ok(wait);
        }
        let mut transaction = self.begin_write().await?;
        // Rows are created first so that the lock below has a row to hold even for a first
        // attempt; taken in key order, so that two attempts cannot deadlock on them.
        let mut keys = [account_key, address_key];
        keys.sort_unstable();
        for key in keys {
            sqlx::query(
                "INSERT INTO sign_in_failures (key, failures, last_failure_at) \
                 VALUES ($1, 0, 0) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .execute(&mut *transaction)
            .await?;
        }
        let (account, address) = read_failures(
            &mut *transaction,
            account_key,
            address_key,
            self.for_update(),
        )
        .await?;
        let attempt = decide(account, address);
        let Attempt::Check {
            account, address, ..
        } = attempt
        else {
            transaction.rollback().await?;
            return Ok(attempt);
        };
        for (key, failures) in [(account_key, account), (address_key, address)] {
            // An upsert: the upkeep may have purged the row since it was read. The alert's
            // mark is written back as decided: forgotten with the failures it was about.
            sqlx::query(
                "INSERT INTO sign_in_failures (key, failures, last_failure_at, alerted_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, \
                 last_failure_at = excluded.last_failure_at, alerted_at = excluded.alerted_at",
            )
            .bind(key)
            .bind(i64::from(failures.count))
            .bind(seconds(failures.last_at))
            .bind(failures.alerted_at.map(seconds))
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(attempt)
    }

    /// Tells every active administrator of `burst`, unless `keys` (the accounts and addresses
    /// it is about) were all told of since `told_since`, or, with a `per_hour` allowance,
    /// more keys than that were told of in the hour before `now` (roughly: instances on one
    /// PostgreSQL count at the same time): then nothing is written but the mark. Marks `keys`
    /// as told at `now` either way, so that later refusals do not come back here. `true` when
    /// the alert was written. Several instances may see the same burst: the one whose mark
    /// lands writes it.
    pub async fn alert_sign_in_burst(
        &self,
        keys: &[&str],
        burst: &SignInBurst,
        told_since: Timestamp,
        per_hour: Option<u32>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.begin_write().await?;
        let mut marked = 0;
        for key in keys {
            marked += sqlx::query(
                "UPDATE sign_in_failures SET alerted_at = $1 \
                 WHERE key = $2 AND (alerted_at IS NULL OR alerted_at < $3)",
            )
            .bind(seconds(now))
            .bind(key)
            .bind(seconds(told_since))
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        if marked == 0 {
            transaction.rollback().await?;
            return Ok(false);
        }
        let hour_ago = now
            .checked_sub(jiff::SignedDuration::from_hours(1))
            .unwrap_or(Timestamp::MIN);
        let told_this_hour: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures WHERE alerted_at >= $1")
                .bind(seconds(hour_ago))
                .fetch_one(&mut *transaction)
                .await?;
        if per_hour.is_some_and(|allowed| told_this_hour > i64::from(allowed)) {
            transaction.commit().await?;
            return Ok(false);
        }
        let details = serde_json::to_string(burst)
            .map_err(|error| StoreError::Corrupt(format!("a sign-in alert: {error}")))?;
        sqlx::query(
            "INSERT INTO outbox (event_seq, kind, recipient, staff_id, details, \
             not_before, created_at) \
             SELECT 0, $1, 'staff', s.id, $2, $3, $3 FROM staff s \
             WHERE s.role = 'admin' AND s.active = TRUE ORDER BY s.id",
        )
        .bind(NoticeKind::SignInBurst.as_str())
        .bind(details)
        .bind(seconds(now))
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        self.outbox_written.notify_one();
        Ok(true)
    }

    /// Forgets failures older than `before` (the upkeep's work, apart from any attempt).
    pub async fn purge_sign_in_failures(&self, before: Timestamp) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM sign_in_failures WHERE last_failure_at < $1")
                .bind(seconds(before))
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }

    /// The password proved right: the account starts again, and the address has the
    /// attempt it was charged for given back.
    pub async fn forgive_sign_in_attempt(
        &self,
        account_key: &str,
        address_key: &str,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
            .bind(account_key)
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "UPDATE sign_in_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0",
        )
        .bind(address_key)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }
}

/// The failures recorded under both keys (a row of none counts as none).
async fn read_failures<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    account_key: &str,
    address_key: &str,
    lock: &str,
) -> Result<(Option<Failures>, Option<Failures>), StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT key, failures, last_failure_at, alerted_at FROM sign_in_failures \
         WHERE key = $1 OR key = $2 ORDER BY key{lock}"
    )))
    .bind(account_key)
    .bind(address_key)
    .fetch_all(executor)
    .await?;
    let mut account = None;
    let mut address = None;
    for row in rows {
        let key: String = row.try_get("key")?;
        let count: i64 = row.try_get("failures")?;
        let failures = if count > 0 {
            Some(Failures {
                count: u32::try_from(count).unwrap_or(u32::MAX),
                last_at: instant(row.try_get("last_failure_at")?)?,
                alerted_at: row
                    .try_get::<Option<i64>, _>("alerted_at")?
                    .map(instant)
                    .transpose()?,
            })
        } else {
            None
        };
        if key == account_key {
            account = failures;
        } else {
            address = failures;
        }
    }
    Ok((account, address))
}
