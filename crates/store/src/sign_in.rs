//! Failed sign-ins per account and per client address, read and counted under a row lock so
//! that concurrent attempts on one account are counted one after another. What the counts
//! mean (how long to wait) is the domain's: the caller decides, the store keeps.

use caredesk_domain::sign_in::{Attempt, Failures};
use jiff::Timestamp;
use sqlx::Row;

use crate::{Store, StoreError, instant, seconds};

impl Store {
    /// Reads the failures of `account_key` and `address_key` under lock, asks `decide`
    /// whether the attempt goes on, and records the failures it returns before committing.
    /// Failures older than `forget_before` are dropped on the way.
    pub async fn count_sign_in_attempt(
        &self,
        account_key: &str,
        address_key: &str,
        forget_before: Timestamp,
        decide: impl FnOnce(Option<Failures>, Option<Failures>) -> Attempt,
    ) -> Result<Attempt, StoreError> {
        let mut transaction = self.begin_write().await?;
        // Rows are created first so that the lock below has a row to hold even for a first
        // attempt; locked in key order so that two attempts never wait on each other.
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
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT key, failures, last_failure_at FROM sign_in_failures \
             WHERE key = $1 OR key = $2 ORDER BY key{}",
            self.for_update()
        )))
        .bind(account_key)
        .bind(address_key)
        .fetch_all(&mut *transaction)
        .await?;
        let mut account = None;
        let mut address = None;
        for row in rows {
            let key: String = row.try_get("key")?;
            let count: i64 = row.try_get("failures")?;
            let failures = (count > 0)
                .then(|| -> Result<Failures, StoreError> {
                    Ok(Failures {
                        count: u32::try_from(count).unwrap_or(u32::MAX),
                        last_at: instant(row.try_get("last_failure_at")?)?,
                    })
                })
                .transpose()?;
            if key == account_key {
                account = failures;
            } else {
                address = failures;
            }
        }
        let attempt = decide(account, address);
        let Attempt::Check { account, address } = attempt else {
            transaction.rollback().await?;
            return Ok(attempt);
        };
        for (key, failures) in [(account_key, account), (address_key, address)] {
            sqlx::query(
                "UPDATE sign_in_failures SET failures = $2, last_failure_at = $3 WHERE key = $1",
            )
            .bind(key)
            .bind(i64::from(failures.count))
            .bind(seconds(failures.last_at))
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query("DELETE FROM sign_in_failures WHERE last_failure_at < $1")
            .bind(seconds(forget_before))
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(attempt)
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
