//! Periodic jobs under leases: several instances on one database each try every job at
//! every interval, and the one that holds a job's lease runs it; the others skip it. A lease
//! lasts one interval, so a job whose holder died is taken by another within one interval.

use jiff::Timestamp;

use crate::{Store, StoreError, seconds};

impl Store {
    /// Takes (or renews) the lease of job `name` for `owner` until `lease_until`, unless
    /// another instance holds it; `true` when `owner` may run the job now.
    pub async fn take_job(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.begin_write().await?;
        sqlx::query("INSERT INTO jobs (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(&mut *transaction)
            .await?;
        let taken = sqlx::query(
            "UPDATE jobs SET lease_owner = $1, lease_until = $2, last_started_at = $3 \
             WHERE name = $4 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until <= $3)",
        )
        .bind(owner)
        .bind(seconds(lease_until))
        .bind(seconds(now))
        .bind(name)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        transaction.commit().await?;
        Ok(taken == 1)
    }

    /// Records how a run of job `name` by `owner` ended; the lease stays until it runs out.
    pub async fn finish_job(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET last_finished_at = $1, last_error = $2 \
             WHERE name = $3 AND lease_owner = $4",
        )
        .bind(seconds(now))
        .bind(error)
        .bind(name)
        .bind(owner)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
