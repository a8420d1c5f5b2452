//! Volume reports: how many tickets were opened and closed in each week or month, and the
//! open backlog as it stands.
//!
//! Closed tickets are counted in `report_flows` when they close (by the week and the month
//! they were opened in and those they were closed in); the tickets still open are read from
//! their index. A report about one advisor or one customer reads that person's tickets.

use std::collections::BTreeMap;

use caredesk_domain::report::{Dimension, ReportFilter, Span};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::reports::{day_key, month_key, push_filter, start_of};
use crate::{Backend, SqlBuilder, Store, StoreError, instant};

/// A volume report: the weeks or months from the one holding `first_day` to the one holding
/// `last_day`, the tickets of `filter`, broken down `by` (dimensions of the ticket: neither
/// months nor people).
#[derive(Clone, Copy, Debug)]
pub struct FlowQuery<'a> {
    pub first_day: Date,
    pub last_day: Date,
    pub span: Span,
    pub filter: &'a ReportFilter,
    pub by: &'a [Dimension],
}

/// The tickets of one group opened and closed in one week or month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRow {
    /// The first day of the week or month.
    pub period: Date,
    pub group: Vec<String>,
    pub opened: u64,
    pub closed: u64,
}

/// Open tickets of one state and one profile (what chooses their calendar) opened between
/// two of the instants a backlog query cuts time at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BacklogGroup {
    pub state: String,
    pub program: String,
    pub severity: String,
    pub region: String,
    pub product_line: String,
    pub channel: String,
    /// How many of the cutoffs (in increasing order) are before the tickets' opening: 0 for
    /// tickets opened at or before the first cutoff, the number of cutoffs for those opened
    /// after the last.
    pub after_cutoffs: usize,
    pub tickets: u64,
}

/// Which of a ticket's instants a row counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Flow {
    Opened,
    Closed,
}

impl Store {
    /// The tickets opened and closed in each week or month of `query`, per group, in the
    /// order of the periods then the groups; periods and groups with nothing are left out.
    pub async fn flows(&self, query: &FlowQuery<'_>) -> Result<Vec<FlowRow>, StoreError> {
        let first = query.span.start_of(query.first_day);
        let last = query.span.end_of(query.last_day);
        let (from, to) = (
            start_of(first),
            last.tomorrow().map_or(Timestamp::MAX, start_of),
        );
        let mut counts: BTreeMap<(Date, Vec<String>), (u64, u64)> = BTreeMap::new();
        let mut count = |at: Timestamp, group: Vec<String>, flow: Flow, tickets: u64| {
            let period = query
                .span
                .start_of(jiff::tz::TimeZone::UTC.to_datetime(at).date());
            let entry = counts.entry((period, group)).or_default();
            match flow {
                Flow::Opened => entry.0 += tickets,
                Flow::Closed => entry.1 += tickets,
            }
        };
        // Every part reads one snapshot: a ticket closing meanwhile is counted once.
        let mut snapshot = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *snapshot)
                .await?;
        }
        let columns: Vec<&str> = query.by.iter().map(|dimension| dimension.name()).collect();
        let person = match (query.filter.advisor, query.filter.customer) {
            (Some(advisor), _) => Some(("assignee_id", advisor)),
            (None, Some(customer)) => Some(("customer_id", customer)),
            (None, None) => None,
        };
        if let Some((column, id)) = person {
            // One person's tickets opened, then closed, in the period, from their index
            // alone, counted per day by the database. (A closed ticket not yet measured
            // after an upgrade counts here before it does in the totals.)
            for (instant_column, flow) in [("opened_at", Flow::Opened), ("closed_at", Flow::Closed)]
            {
                let found =
                    tickets_per_day(&mut snapshot, instant_column, (from, to), &columns, |sql| {
                        sql.push(" AND ").push(column).push(" = ").bind_i64(id);
                        if flow == Flow::Closed {
                            // Opened before the period's end too: the index's range on the opening.
                            sql.push(" AND opened_at < ").bind_i64(to.as_second());
                        }
                        if let (Some(customer), Some(_)) =
                            (query.filter.customer, query.filter.advisor)
                        {
                            sql.push(" AND customer_id = ").bind_i64(customer);
                        }
                        push_filter(sql, query.filter);
                    })
                    .await?;
                for (day, group, tickets) in found {
                    count(day, group, flow, tickets);
                }
            }
        } else {
            let key = |date: Date| match query.span {
                Span::Week => day_key(date),
                Span::Month => month_key(date),
            };
            let mut sql = SqlBuilder::new("SELECT period, flow");
            for column in &columns {
                sql.push(", ").push(column);
            }
            sql.push(", CAST(SUM(tickets) AS BIGINT) FROM report_flows WHERE span = ")
                .bind_text(query.span.name())
                .push(" AND period >= ")
                .bind_i64(key(first))
                .push(" AND period <= ")
                .bind_i64(key(last));
            push_filter(&mut sql, query.filter);
            sql.push(" GROUP BY period, flow");
            for column in &columns {
                sql.push(", ").push(column);
            }
            for row in sql.fetch_all(&mut *snapshot).await? {
                let period: i64 = row.try_get(0)?;
                let flow: String = row.try_get(1)?;
                let group = group_of(&row, 2, columns.len())?;
                let tickets: i64 = row.try_get(2 + columns.len())?;
                let day = match query.span {
                    Span::Week => period,
                    Span::Month => period * 100 + 1,
                };
                let start = date_of_key(day)?;
                let flow = if flow == "closed" {
                    Flow::Closed
                } else {
                    Flow::Opened
                };
                count(
                    start_of(start),
                    group,
                    flow,
                    u64::try_from(tickets).unwrap_or(0),
                );
            }
            // The tickets still open that were opened in the period, counted per day by the
            // database.
            let found = tickets_per_day(&mut snapshot, "opened_at", (from, to), &columns, |sql| {
                sql.push(" AND closed_at IS NULL");
                push_filter(sql, query.filter);
            })
            .await?;
            for (day, group, tickets) in found {
                count(day, group, Flow::Opened, tickets);
            }
        }
        snapshot.commit().await?;
        Ok(counts
            .into_iter()
            .filter(|(_, (opened, closed))| opened + closed > 0)
            .map(|((period, group), (opened, closed))| FlowRow {
                period,
                group,
                opened,
                closed,
            })
            .collect())
    }

    /// The open tickets of `filter` (whenever they were opened), for the backlog: counted
    /// per state and profile and by where their opening falls among `cutoffs` (in
    /// increasing order), so that the database returns a few groups rather than every
    /// open ticket.
    pub async fn backlog(
        &self,
        filter: &ReportFilter,
        cutoffs: &[Timestamp],
    ) -> Result<Vec<BacklogGroup>, StoreError> {
        let mut sql =
            SqlBuilder::new("SELECT state, program, severity, region, product_line, channel, ");
        if cutoffs.is_empty() {
            sql.push("0");
        } else {
            sql.push("CAST(CASE");
            // Newest first: most open tickets are recent and stop at the first comparison.
            for (index, cutoff) in cutoffs.iter().enumerate().rev() {
                sql.push(" WHEN opened_at > ")
                    .bind_i64(cutoff.as_second())
                    .push(&format!(" THEN {}", index + 1));
            }
            sql.push(" ELSE 0 END AS BIGINT)");
        }
        sql.push(", CAST(COUNT(*) AS BIGINT) FROM tickets WHERE closed_at IS NULL");
        push_filter(&mut sql, filter);
        if let Some(advisor) = filter.advisor {
            sql.push(" AND assignee_id = ").bind_i64(advisor);
        }
        if let Some(customer) = filter.customer {
            sql.push(" AND customer_id = ").bind_i64(customer);
        }
        sql.push(" GROUP BY 1, 2, 3, 4, 5, 6, 7");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(BacklogGroup {
                    state: row.try_get(0)?,
                    program: row.try_get(1)?,
                    severity: row.try_get(2)?,
                    region: row.try_get(3)?,
                    product_line: row.try_get(4)?,
                    channel: row.try_get(5)?,
                    after_cutoffs: usize::try_from(row.try_get::<i64, _>(6)?).unwrap_or(0),
                    tickets: u64::try_from(row.try_get::<i64, _>(7)?).unwrap_or(0),
                })
            })
            .collect()
    }
}

/// The tickets whose `instant_column` (`opened_at` or `closed_at`) is in `[from, to)` and which
/// `conditions` (pushed after that range) keep, counted by the database per UTC day of that
/// instant and per group of `columns`: the day's start, the group, the count.
async fn tickets_per_day(
    connection: &mut AnyConnection,
    instant_column: &str,
    (from, to): (Timestamp, Timestamp),
    columns: &[&str],
    conditions: impl FnOnce(&mut SqlBuilder),
) -> Result<Vec<(Timestamp, Vec<String>, u64)>, StoreError> {
    let mut sql = SqlBuilder::new("SELECT ");
    sql.push(instant_column).push(" / 86400");
    for column in columns {
        sql.push(", ").push(column);
    }
    sql.push(", CAST(COUNT(*) AS BIGINT) FROM tickets WHERE ")
        .push(instant_column)
        .push(" >= ")
        .bind_i64(from.as_second())
        .push(" AND ")
        .push(instant_column)
        .push(" < ")
        .bind_i64(to.as_second());
    conditions(&mut sql);
    sql.push(" GROUP BY 1");
    for column in columns {
        sql.push(", ").push(column);
    }
    sql.fetch_all(connection)
        .await?
        .iter()
        .map(|row| {
            let day: i64 = row.try_get(0)?;
            let tickets: i64 = row.try_get(1 + columns.len())?;
            Ok((
                instant(day.saturating_mul(86_400))?,
                group_of(row, 1, columns.len())?,
                u64::try_from(tickets).unwrap_or(0),
            ))
        })
        .collect()
}

/// The values of a row's groups, from column `first`.
fn group_of(row: &AnyRow, first: usize, count: usize) -> Result<Vec<String>, StoreError> {
    (first..first + count)
        .map(|index| Ok(row.try_get::<String, _>(index)?))
        .collect()
}

/// The date of a `yyyymmdd` key.
pub(crate) fn date_of_key(key: i64) -> Result<Date, StoreError> {
    let part = |value: i64| i8::try_from(value).ok();
    let year = i16::try_from(key / 10_000).ok();
    match (year, part(key / 100 % 100), part(key % 100)) {
        (Some(year), Some(month), Some(day)) => Date::new(year, month, day).ok(),
        _ => None,
    }
    .ok_or_else(|| StoreError::Corrupt(format!("{key} is not a day of the report totals")))
}
