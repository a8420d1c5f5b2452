//! Customers' monthly reports: which customers are owed the report of a month, and the
//! report recorded once per customer and month with its notices, in one transaction.

use caredesk_domain::notify::{MonthlyReportNotice, NoticeKind};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::Row;

use crate::{SqlBuilder, Store, StoreError, seconds};

/// A customer owed the report of a month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportOwed {
    pub customer_id: i64,
    pub customer_name: String,
    /// The program of a contract that covers part of the month, of those asked for; when
    /// several do, the greatest id in text order (`platinum` over `gold`).
    pub program: String,
}

impl Store {
    /// Up to `limit` customers after id `after`, by id, with a contract of one of `programs`
    /// that covers a day from `first_day` to `last_day`, whose report of `month` is not
    /// recorded yet. A customer added to the desk after the month (at `month_end` or later)
    /// is owed none: the desk knows nothing of its month.
    pub async fn reports_owed(
        &self,
        month: &str,
        (first_day, last_day): (Date, Date),
        month_end: Timestamp,
        programs: &[&str],
        (after, limit): (i64, i64),
    ) -> Result<Vec<ReportOwed>, StoreError> {
        if programs.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::new(
            "SELECT customers.id, customers.name, MAX(contracts.program) AS program \
             FROM customers JOIN contracts ON contracts.customer_id = customers.id \
             WHERE customers.id > ",
        );
        sql.bind_i64(after).push(" AND contracts.starts_on <= ");
        sql.bind_text(&last_day.to_string())
            .push(" AND contracts.ends_on >= ")
            .bind_text(&first_day.to_string())
            .push(" AND customers.created_at < ")
            .bind_i64(seconds(month_end))
            .push(" AND contracts.program IN (");
        for (index, program) in programs.iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.bind_text(program);
        }
        sql.push(
            ") AND NOT EXISTS (SELECT 1 FROM monthly_reports \
             WHERE monthly_reports.customer_id = customers.id AND monthly_reports.month = ",
        )
        .bind_text(month)
        .push(") GROUP BY customers.id, customers.name ORDER BY customers.id LIMIT ")
        .bind_i64(limit);
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(ReportOwed {
                    customer_id: row.try_get("id")?,
                    customer_name: row.try_get("name")?,
                    program: row.try_get("program")?,
                })
            })
            .collect()
    }

    /// Records customer `customer`'s report of `month` (`report`, JSON) with a notice to each
    /// of its designated contacts and one to its customer success manager, if it has one,
    /// all in one transaction. `false` when that month's report was already recorded (by
    /// another instance): nothing is written then. The CSM is the one of this moment (a
    /// notice to staff names them), as the report is the one of this moment.
    pub async fn record_monthly_report(
        &self,
        customer: i64,
        month: &str,
        report: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.begin_write().await?;
        let recorded = sqlx::query(
            "INSERT INTO monthly_reports (customer_id, month, report, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, month) DO NOTHING",
        )
        .bind(customer)
        .bind(month)
        .bind(report)
        .bind(seconds(now))
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if recorded == 0 {
            transaction.rollback().await?;
            return Ok(false);
        }
        let details = serde_json::to_string(&MonthlyReportNotice {
            customer_id: customer,
            month: month.to_string(),
        })
        .map_err(|error| StoreError::Corrupt(format!("a monthly report's notice: {error}")))?;
        let kind = NoticeKind::MonthlyReport.as_str();
        sqlx::query(
            "INSERT INTO outbox (event_seq, kind, recipient, contact_id, details, not_before, \
             created_at) SELECT 0, $1, 'contact', id, $2, $3, $3 FROM contacts \
             WHERE customer_id = $4 AND designated = TRUE ORDER BY id",
        )
        .bind(kind)
        .bind(&details)
        .bind(seconds(now))
        .bind(customer)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO outbox (event_seq, kind, recipient, staff_id, details, not_before, \
             created_at) SELECT 0, $1, 'staff', csm_id, $2, $3, $3 FROM customers \
             WHERE id = $4 AND csm_id IS NOT NULL",
        )
        .bind(kind)
        .bind(&details)
        .bind(seconds(now))
        .bind(customer)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        self.outbox_written.notify_one();
        Ok(true)
    }

    /// Customer `customer`'s recorded report of `month` (JSON), if there is one.
    pub async fn monthly_report(
        &self,
        customer: i64,
        month: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT report FROM monthly_reports WHERE customer_id = $1 AND month = $2",
        )
        .bind(customer)
        .bind(month)
        .fetch_optional(&self.pool)
        .await?)
    }
}
