//! Tickets read with their whole timelines, a page at a time, for replaying them under
//! other terms.

use caredesk_domain::report::ReportFilter;
use caredesk_domain::ticket::TicketEvent;
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::Row;

use crate::columns::Columns;
use crate::events::{timeline_json, timeline_of_json};
use crate::reports::{push_filter, start_of};
use crate::{SqlBuilder, Store, StoreError, instant};

/// The most tickets a page of timelines holds.
pub const TIMELINES_PER_PAGE: i64 = 1000;

/// The tickets of `filter` opened from `first_day` to `last_day` (UTC days, both included),
/// in order of opening then number, after `after`, at most `limit` of them (a thousand at
/// most).
#[derive(Clone, Copy, Debug)]
pub struct TimelineQuery<'a> {
    pub first_day: Date,
    pub last_day: Date,
    pub filter: &'a ReportFilter,
    pub after: TimelineCursor,
    /// Where to stop (this ticket included), if anywhere before the period's end.
    pub through: Option<TimelineCursor>,
    pub limit: i64,
}

/// The tickets opened from `first_day` to `last_day` (UTC days, both included) that
/// `filter` keeps, after `after` and through `through` (to the period's end when none), in
/// order of opening then number: the conditions after `WHERE`. The opening is bounded by
/// one range, whatever bounds are combined into it, so that a page is one range of an index
/// on it.
fn push_page(
    sql: &mut SqlBuilder,
    first_day: Date,
    last_day: Date,
    filter: &ReportFilter,
    after: TimelineCursor,
    through: Option<TimelineCursor>,
) {
    let from = start_of(first_day).as_second().max(after.opened_at);
    let to = last_day
        .tomorrow()
        .map_or(Timestamp::MAX, start_of)
        .as_second()
        - 1;
    let to = through.map_or(to, |through| to.min(through.opened_at));
    sql.push("opened_at >= ")
        .bind_i64(from)
        .push(" AND opened_at <= ")
        .bind_i64(to)
        // Of the tickets opened in the cursor's second, those up to its number were on the
        // pages before; of those opened in the last one's, those after its number are on
        // the pages after.
        .push(" AND (opened_at > ")
        .bind_i64(after.opened_at)
        .push(" OR id > ")
        .bind_i64(after.id)
        .push(")");
    if let Some(through) = through {
        sql.push(" AND (opened_at < ")
            .bind_i64(through.opened_at)
            .push(" OR id <= ")
            .bind_i64(through.id)
            .push(")");
    }
    push_filter(sql, filter);
    if let Some(advisor) = filter.advisor {
        sql.push(" AND assignee_id = ").bind_i64(advisor);
    }
    if let Some(customer) = filter.customer {
        sql.push(" AND customer_id = ").bind_i64(customer);
    }
}

/// Where a page of timelines ends: the next page starts after this ticket. In order of
/// opening (not of number alone), so that each page is one range of an index on the
/// opening time, whatever the filter: a page by number would read the whole selection
/// again to find its first thousand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimelineCursor {
    /// Its opening, in seconds since the epoch.
    pub opened_at: i64,
    pub id: i64,
}

/// A ticket, what decides its clocks besides its timeline, and its timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketTimeline {
    pub id: i64,
    pub opened_at: Timestamp,
    pub customer_id: i64,
    pub program: String,
    pub region: String,
    pub product_line: String,
    /// Its severity now (at closing for a closed ticket).
    pub severity: String,
    pub events: Vec<TicketEvent>,
}

/// An open ticket with its timeline, and where it stands as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenTimeline {
    pub timeline: TicketTimeline,
    pub stored: StoredStanding,
}

/// What is stored of an open ticket's standing, computed under `policy_version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredStanding {
    pub next_due_at: Option<Timestamp>,
    pub at_risk_at: Option<Timestamp>,
    pub breached: bool,
    pub severity_rank: i64,
    pub placement_rank: i64,
    pub policy_version: u32,
    /// Each clock's due time as stored.
    pub first_response_due_at: Option<Timestamp>,
    pub next_update_due_at: Option<Timestamp>,
    pub resolution_due_at: Option<Timestamp>,
}

impl TicketTimeline {
    /// Where a page that ends with this ticket ends.
    pub fn cursor(&self) -> TimelineCursor {
        TimelineCursor {
            opened_at: self.opened_at.as_second(),
            id: self.id,
        }
    }
}

impl Store {
    /// A page of the tickets `query` asks for, in order of opening then number, each with
    /// its timeline.
    pub async fn timelines(
        &self,
        query: &TimelineQuery<'_>,
    ) -> Result<Vec<TicketTimeline>, StoreError> {
        let mut sql = SqlBuilder::new(&format!(
            "SELECT id, opened_at, customer_id, program, region, product_line, severity, {} \
             FROM tickets WHERE ",
            timeline_json("tickets.id")
        ));
        push_page(
            &mut sql,
            query.first_day,
            query.last_day,
            query.filter,
            query.after,
            query.through,
        );
        sql.push(" ORDER BY opened_at, id LIMIT ")
            .bind_i64(query.limit.clamp(0, TIMELINES_PER_PAGE));
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(TicketTimeline {
                    id: row.try_get(0)?,
                    opened_at: instant(row.try_get(1)?)?,
                    customer_id: row.try_get(2)?,
                    program: row.try_get(3)?,
                    region: row.try_get(4)?,
                    product_line: row.try_get(5)?,
                    severity: row.try_get(6)?,
                    events: timeline_of_json(row.try_get(7)?)?,
                })
            })
            .collect()
    }

    /// Where the page of `page` tickets of the period and filter after `after` ends (its
    /// last ticket), in order of opening then number; none when fewer are left. Found without
    /// reading the timelines (a walk along an index on the opening): the pages can then be read
    /// by themselves (after one end, through the next), several at once.
    pub async fn timeline_page_end(
        &self,
        first_day: Date,
        last_day: Date,
        filter: &ReportFilter,
        after: TimelineCursor,
        page: i64,
    ) -> Result<Option<TimelineCursor>, StoreError> {
        let mut sql = SqlBuilder::new("SELECT opened_at, id FROM tickets WHERE ");
        push_page(&mut sql, first_day, last_day, filter, after, None);
        sql.push(" ORDER BY opened_at, id LIMIT 1 OFFSET ")
            .bind_i64(page.max(1) - 1);
        sql.fetch_optional(&self.pool)
            .await?
            .map(|row| {
                Ok(TimelineCursor {
                    opened_at: row.try_get(0)?,
                    id: row.try_get(1)?,
                })
            })
            .transpose()
    }

    /// A page of the open tickets, by number after `after`, at most `limit` (a thousand at
    /// most), each with its timeline and the standing stored for it: what a new policy
    /// version would change is computed from these.
    pub async fn open_timelines(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<OpenTimeline>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, opened_at, customer_id, program, region, product_line, severity, \
             next_due_at, at_risk_at, breached, severity_rank, placement_rank, policy_version, \
             first_response_due_at, next_update_due_at, resolution_due_at, {} AS timeline \
             FROM tickets WHERE closed_at IS NULL AND id > $1 ORDER BY id LIMIT $2",
            timeline_json("tickets.id")
        )))
        .bind(after)
        .bind(limit.clamp(0, TIMELINES_PER_PAGE))
        .fetch_all(&self.pool)
        .await?;
        let mut tickets = Vec::with_capacity(rows.len());
        for row in &rows {
            let timeline = TicketTimeline {
                id: row.try_get("id")?,
                opened_at: instant(row.try_get("opened_at")?)?,
                customer_id: row.try_get("customer_id")?,
                program: row.try_get("program")?,
                region: row.try_get("region")?,
                product_line: row.try_get("product_line")?,
                severity: row.try_get("severity")?,
                events: timeline_of_json(row.try_get("timeline")?)?,
            };
            let optional = |column: &str| -> Result<Option<Timestamp>, StoreError> {
                row.try_get::<Option<i64>, _>(column)?
                    .map(instant)
                    .transpose()
            };
            let stored = StoredStanding {
                next_due_at: optional("next_due_at")?,
                at_risk_at: optional("at_risk_at")?,
                breached: row.flag("breached")?,
                severity_rank: row.try_get("severity_rank")?,
                placement_rank: row.try_get("placement_rank")?,
                policy_version: u32::try_from(row.try_get::<i64, _>("policy_version")?)
                    .map_err(|error| StoreError::Corrupt(format!("policy_version: {error}")))?,
                first_response_due_at: optional("first_response_due_at")?,
                next_update_due_at: optional("next_update_due_at")?,
                resolution_due_at: optional("resolution_due_at")?,
            };
            tickets.push(OpenTimeline { timeline, stored });
        }
        Ok(tickets)
    }
}
