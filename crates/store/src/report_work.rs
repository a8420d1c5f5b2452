//! The people report's counts: what each member of staff did on tickets, per week and month
//! (UTC) of when they did it, per the ticket's region and language (`report_work`, 0036).
//!
//! The domain says what each event counts for whom ([`work_on`]); every change of a ticket
//! adds the work of its new events in its own transaction. A ticket written before the
//! table existed is marked `work_to_count`: whichever comes first, its next change or
//! [`Store::count_earlier_work`], unmarks it and counts its whole timeline, once.

use std::collections::BTreeMap;

use caredesk_domain::policy::Policy;
use caredesk_domain::report::{Span, month_of};
use caredesk_domain::ticket::TicketEvent;
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::work::{WorkCounts, WorkDone, work_on};
use jiff::civil::Date;
use sqlx::{Any, Row, Transaction};

use crate::events::load_events;
use crate::report_flows::date_of_key;
use crate::reports::{day_key, month_key, week_of};
use crate::{SqlBuilder, Store, StoreError};

/// The ticket whose work is counted, as its row says.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WorkedTicket<'a> {
    pub id: i64,
    pub program: &'a str,
    pub region: &'a str,
    pub product_line: &'a str,
    pub language: &'a str,
}

/// Work gathered for the table, each key once.
#[derive(Default)]
pub(crate) struct WorkTotals {
    /// By span, period, person, region and language: sorted, so that every transaction
    /// writes rows in the same order and none waits for another in a circle.
    rows: BTreeMap<(&'static str, i64, i64, String, String), WorkCounts>,
}

impl WorkTotals {
    /// Adds the work on a ticket of `region`, each piece under the language the ticket was
    /// worked in then (`opened_in` for a ticket without intake's record).
    pub(crate) fn add(&mut self, region: &str, opened_in: &str, work: &[WorkDone]) {
        for done in work {
            let language = done.language.as_deref().unwrap_or(opened_in);
            for (span, period) in [("week", week_of(done.at)), ("month", month_of(done.at))] {
                self.rows
                    .entry((
                        span,
                        period,
                        done.person,
                        region.to_string(),
                        language.to_string(),
                    ))
                    .or_default()
                    .add(&done.counts);
            }
        }
    }

    pub(crate) async fn write(
        self,
        transaction: &mut Transaction<'static, Any>,
    ) -> Result<(), StoreError> {
        let counts = WorkCounts::NAMES;
        let sums: Vec<String> = counts
            .iter()
            .map(|name| format!("{name} = report_work.{name} + excluded.{name}"))
            .collect();
        let sql = format!(
            "INSERT INTO report_work (span, period, person_id, region, language, {}) \
             VALUES ($1, $2, $3, $4, $5, {}) \
             ON CONFLICT (span, period, person_id, region, language) DO UPDATE SET {}",
            counts.join(", "),
            (6..6 + counts.len())
                .map(|number| format!("${number}"))
                .collect::<Vec<_>>()
                .join(", "),
            sums.join(", ")
        );
        for ((span, period, person, region, language), work) in self.rows {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(span)
                .bind(period)
                .bind(person)
                .bind(region)
                .bind(language);
            for value in work.values() {
                query = query.bind(i64::try_from(value).unwrap_or(i64::MAX));
            }
            query.execute(&mut **transaction).await?;
        }
        Ok(())
    }
}

/// Counts the work of a ticket's events from `first_new` on (its whole timeline if it was
/// still to count), in the transaction that wrote them. A timeline the policy no longer fits
/// all along (a severity since removed) is counted from `first_new` only, and work that
/// cannot be counted at all is left out with a warning: the report never stops a change.
pub(crate) async fn count_work(
    transaction: &mut Transaction<'static, Any>,
    policy: &Policy,
    ticket: WorkedTicket<'_>,
    timeline: &[TicketEvent],
    first_new: u32,
) -> Result<(), StoreError> {
    let claimed =
        sqlx::query("UPDATE tickets SET work_to_count = 0 WHERE id = $1 AND work_to_count = 1")
            .bind(ticket.id)
            .execute(&mut **transaction)
            .await?
            .rows_affected()
            > 0;
    let from = if claimed { 1 } else { first_new };
    if timeline.last().is_none_or(|event| event.seq < from) {
        return Ok(());
    }
    let context = ClockContext {
        program: ticket.program,
        region: ticket.region,
        product_line: ticket.product_line,
    };
    let new = match work_on(policy, &context, timeline, from) {
        Ok(work) => work,
        Err(error) if from < first_new => {
            tracing::warn!(ticket = ticket.id, %error, "the earlier work on a ticket could not be counted for reports");
            work_on(policy, &context, timeline, first_new).unwrap_or_else(|error| {
                tracing::warn!(ticket = ticket.id, %error, "the work on a ticket could not be counted for reports");
                Vec::new()
            })
        }
        Err(error) => {
            tracing::warn!(ticket = ticket.id, %error, "the work on a ticket could not be counted for reports");
            Vec::new()
        }
    };
    let mut totals = WorkTotals::default();
    totals.add(ticket.region, ticket.language, &new);
    totals.write(transaction).await
}

/// What a people report reads: the weeks or months from the one holding `first_day` to the
/// one holding `last_day`, of one region, language or person if given.
#[derive(Clone, Copy, Debug)]
pub struct WorkQuery<'a> {
    pub first_day: Date,
    pub last_day: Date,
    pub span: Span,
    pub region: Option<&'a str>,
    pub language: Option<&'a str>,
    pub person: Option<i64>,
}

/// One person's work on the tickets of one region and language in one week or month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkRow {
    /// The first day of the week or month.
    pub period: Date,
    pub person: i64,
    pub region: String,
    pub language: String,
    pub counts: WorkCounts,
}

impl Store {
    /// The work of `query`, in the order of periods, people, regions and languages.
    pub async fn work(&self, query: &WorkQuery<'_>) -> Result<Vec<WorkRow>, StoreError> {
        let key = |date: Date| match query.span {
            Span::Week => day_key(date),
            Span::Month => month_key(date),
        };
        let mut sql = SqlBuilder::new("SELECT period, person_id, region, language");
        for name in WorkCounts::NAMES {
            sql.push(", ").push(name);
        }
        sql.push(" FROM report_work WHERE span = ")
            .bind_text(query.span.name())
            .push(" AND period >= ")
            .bind_i64(key(query.span.start_of(query.first_day)))
            .push(" AND period <= ")
            .bind_i64(key(query.span.start_of(query.last_day)));
        if let Some(region) = query.region {
            sql.push(" AND region = ").bind_text(region);
        }
        if let Some(language) = query.language {
            sql.push(" AND language = ").bind_text(language);
        }
        if let Some(person) = query.person {
            sql.push(" AND person_id = ").bind_i64(person);
        }
        sql.push(" ORDER BY period, person_id, region, language");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let period: i64 = row.try_get(0)?;
                let day = match query.span {
                    Span::Week => period,
                    Span::Month => period * 100 + 1,
                };
                let mut values = [0u64; 7];
                for (index, value) in values.iter_mut().enumerate() {
                    *value = u64::try_from(row.try_get::<i64, _>(4 + index)?).unwrap_or(0);
                }
                Ok(WorkRow {
                    period: date_of_key(day)?,
                    person: row.try_get(1)?,
                    region: row.try_get(2)?,
                    language: row.try_get(3)?,
                    counts: WorkCounts::of_values(values),
                })
            })
            .collect()
    }

    /// Counts the work on up to `batch` tickets written before work was counted; returns
    /// how many it went through. A ticket the policy no longer fits, or whose timeline cannot
    /// be read, is passed over with a warning (its work left out of the reports), so that it
    /// does not stop the others.
    pub async fn count_earlier_work(
        &self,
        policy: &Policy,
        batch: i64,
    ) -> Result<usize, StoreError> {
        // `tickets_work_to_count` (0036) indexes exactly these.
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE work_to_count = 1 ORDER BY id LIMIT $1",
        )
        .bind(batch)
        .fetch_all(&self.pool)
        .await?;
        let mut counted = 0;
        for id in ids {
            let mut transaction = self.begin_write().await?;
            let ticket = self
                .lock_ticket(&mut transaction, id, crate::Scope::All)
                .await?;
            let events = match load_events(&mut *transaction, id).await {
                Ok(events) => events,
                // A timeline that cannot be read is passed over, not retried forever
                // before all the others.
                Err(StoreError::Corrupt(error)) => {
                    tracing::warn!(ticket = id, %error, "the work on a ticket could not be counted for reports");
                    Vec::new()
                }
                Err(other) => return Err(other),
            };
            let worked = WorkedTicket {
                id,
                program: &ticket.program,
                region: &ticket.region,
                product_line: &ticket.product_line,
                language: &ticket.language,
            };
            count_work(&mut transaction, policy, worked, &events, u32::MAX).await?;
            transaction.commit().await?;
            counted += 1;
        }
        Ok(counted)
    }
}
