//! Reports: what they keep beside each ticket, the monthly totals of closed tickets, and the
//! compliance query over both.
//!
//! Each ticket row carries its measures ([`TicketMeasures`], the domain's), rewritten in the
//! transaction of every event like its due times. When a ticket closes its measures are final,
//! and the same transaction adds them to `report_months`, one row per month of opening and
//! per program, severity, region, channel, product line and language. A report then reads:
//!
//! - the monthly totals for the whole months of its period (closed tickets);
//! - the tickets still open that were opened in the period, classified as `now` finds them;
//! - the closed tickets of the period's partial months at either end;
//!
//! and only the tickets themselves when it is about one advisor or one customer (or broken
//! down by them), through their indexes. Never a timeline.

use std::sync::LazyLock;

use caredesk_domain::policy::Policy;
use caredesk_domain::report::{
    BANDS, ClockTally, ComplianceRow, Dimension, ReportFilter, TicketMeasures, merge_rows, month_of,
};
use caredesk_domain::ticket::clocks::{ClockContext, compute};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::events::load_events;
use crate::{Backend, SqlBuilder, Store, StoreError, seconds};

/// The version of the measures this code writes; tickets written before have 0 and are
/// measured by [`Store::measure_earlier_tickets`].
const MEASURES_VERSION: i64 = 1;

/// The columns of a ticket row that hold its measures, in the order of [`measure_values`].
pub(crate) const MEASURE_COLUMNS: [&str; 14] = [
    "first_response_outcome",
    "first_response_target",
    "first_response_used",
    "first_response_band",
    "resolution_outcome",
    "resolution_target",
    "resolution_used",
    "resolution_band",
    "updates_owed",
    "updates_late",
    "updates_band",
    "updates_running",
    "paused_minutes",
    "measures_version",
];

fn minutes(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A ticket's measures as its row's columns ([`MEASURE_COLUMNS`]).
pub(crate) fn measure_values(measures: &TicketMeasures) -> [Option<i64>; 14] {
    let TicketMeasures {
        first_response,
        updates,
        resolution,
        paused_minutes,
    } = measures;
    [
        Some(first_response.outcome.code()),
        Some(minutes(first_response.target_minutes)),
        Some(minutes(first_response.used_minutes)),
        Some(i64::from(first_response.band())),
        Some(resolution.outcome.code()),
        Some(minutes(resolution.target_minutes)),
        Some(minutes(resolution.used_minutes)),
        Some(i64::from(resolution.band())),
        Some(i64::from(updates.owed)),
        Some(i64::from(updates.late)),
        updates.band().map(i64::from),
        Some(i64::from(updates.running)),
        Some(minutes(*paused_minutes)),
        Some(MEASURES_VERSION),
    ]
}

/// `col = $n, …` for the measure columns, numbered from `$first`.
pub(crate) fn measure_assignments(first: usize) -> String {
    MEASURE_COLUMNS
        .iter()
        .enumerate()
        .map(|(index, column)| format!("{column} = ${}", first + index))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the ticket's row already holds measures (it was written or changed since reports
/// kept them, or measured since).
pub(crate) async fn is_measured(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
) -> Result<bool, StoreError> {
    let version: i64 = sqlx::query_scalar("SELECT measures_version FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **transaction)
        .await?;
    Ok(version != 0)
}

/// What a closed ticket's measures are added up by in `report_months`.
pub(crate) struct ClosedTicket<'a> {
    pub opened_at: Timestamp,
    pub program: &'a str,
    pub severity: &'a str,
    pub region: &'a str,
    pub channel: &'a str,
    pub product_line: &'a str,
    pub language: &'a str,
    pub measures: &'a TicketMeasures,
}

const MONTH_KEY: [&str; 7] = [
    "month",
    "program",
    "severity",
    "region",
    "channel",
    "product_line",
    "language",
];

/// The counted columns of `report_months`, in the order of `monthly_counts`.
static MONTH_COUNTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut columns: Vec<String> = vec!["tickets".into(), "paused_minutes".into()];
    for (clock, settled) in [
        ("first_response", ["met", "breached"]),
        ("updates", ["owed", "late"]),
        ("resolution", ["met", "breached"]),
    ] {
        columns.extend(settled.iter().map(|count| format!("{clock}_{count}")));
        columns.extend((0..BANDS).map(|band| format!("{clock}_b{band}")));
    }
    columns
});

static ADD_CLOSED: LazyLock<String> = LazyLock::new(|| {
    let columns: Vec<String> = MONTH_KEY
        .iter()
        .map(|column| column.to_string())
        .chain(MONTH_COUNTS.iter().cloned())
        .collect();
    let values: Vec<String> = (1..=columns.len()).map(|n| format!("${n}")).collect();
    let sums: Vec<String> = MONTH_COUNTS
        .iter()
        .map(|column| format!("{column} = report_months.{column} + excluded.{column}"))
        .collect();
    format!(
        "INSERT INTO report_months ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
        columns.join(", "),
        values.join(", "),
        MONTH_KEY.join(", "),
        sums.join(", ")
    )
});

/// One closed ticket's contribution to `report_months`, in the order of `MONTH_COUNTS`.
fn monthly_counts(measures: &TicketMeasures) -> Vec<i64> {
    let settled = |outcome: caredesk_domain::report::Outcome, band: u8| {
        (0..BANDS).map(move |index| i64::from(outcome.is_settled() && usize::from(band) == index))
    };
    let mut counts = vec![1, minutes(measures.paused_minutes)];
    let first = &measures.first_response;
    counts.push(i64::from(
        first.outcome == caredesk_domain::report::Outcome::Met,
    ));
    counts.push(i64::from(
        first.outcome == caredesk_domain::report::Outcome::Breached,
    ));
    counts.extend(settled(first.outcome, first.band()));
    counts.push(i64::from(measures.updates.owed));
    counts.push(i64::from(measures.updates.late));
    let longest = measures.updates.band();
    counts.extend((0..BANDS).map(|index| i64::from(longest.map(usize::from) == Some(index))));
    let resolution = &measures.resolution;
    counts.push(i64::from(
        resolution.outcome == caredesk_domain::report::Outcome::Met,
    ));
    counts.push(i64::from(
        resolution.outcome == caredesk_domain::report::Outcome::Breached,
    ));
    counts.extend(settled(resolution.outcome, resolution.band()));
    counts
}

/// Adds a ticket that just closed to the monthly totals.
pub(crate) async fn add_closed(
    transaction: &mut Transaction<'static, Any>,
    ticket: ClosedTicket<'_>,
) -> Result<(), StoreError> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(ADD_CLOSED.as_str()))
        .bind(month_of(ticket.opened_at))
        .bind(ticket.program)
        .bind(ticket.severity)
        .bind(ticket.region)
        .bind(ticket.channel)
        .bind(ticket.product_line)
        .bind(ticket.language);
    for count in monthly_counts(ticket.measures) {
        query = query.bind(count);
    }
    query.execute(&mut **transaction).await?;
    Ok(())
}

/// A compliance report: tickets opened in `[from, to)`, those of `filter`, broken down `by`,
/// their open clocks classified as `now` finds them.
#[derive(Clone, Copy, Debug)]
pub struct ComplianceQuery<'a> {
    pub from: Timestamp,
    pub to: Timestamp,
    pub now: Timestamp,
    pub filter: &'a ReportFilter,
    pub by: &'a [Dimension],
}

/// Which tickets a scan reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tickets {
    Open,
    Closed,
    All,
}

impl Store {
    /// The compliance report `query` asks for: one row per group, in the groups' order.
    pub async fn compliance(
        &self,
        query: &ComplianceQuery<'_>,
    ) -> Result<Vec<ComplianceRow>, StoreError> {
        let mut rows = Vec::new();
        // Every part of the report reads one snapshot: a ticket closing meanwhile is counted
        // once, among the open tickets or in the totals.
        let mut snapshot = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *snapshot)
                .await?;
        }
        let by_person = query.filter.advisor.is_some()
            || query.filter.customer.is_some()
            || query
                .by
                .iter()
                .any(|dimension| matches!(dimension, Dimension::Advisor | Dimension::Customer));
        let months = whole_months(query.from, query.to);
        match months {
            Some((first, last, whole_from, whole_to)) if !by_person => {
                rows.extend(self.monthly_rows(&mut snapshot, query, first, last).await?);
                rows.extend(
                    self.scan_rows(&mut snapshot, query, Tickets::Open, query.from, query.to)
                        .await?,
                );
                if query.from < whole_from {
                    rows.extend(
                        self.scan_rows(
                            &mut snapshot,
                            query,
                            Tickets::Closed,
                            query.from,
                            whole_from,
                        )
                        .await?,
                    );
                }
                if whole_to < query.to {
                    rows.extend(
                        self.scan_rows(&mut snapshot, query, Tickets::Closed, whole_to, query.to)
                            .await?,
                    );
                }
            }
            _ => rows.extend(
                self.scan_rows(&mut snapshot, query, Tickets::All, query.from, query.to)
                    .await?,
            ),
        }
        snapshot.commit().await?;
        Ok(merge_rows(rows.into_iter().filter(|row| row.tickets > 0)))
    }

    /// The monthly totals of closed tickets for months `first` to `last` (`yyyymm`).
    async fn monthly_rows(
        &self,
        snapshot: &mut Transaction<'static, Any>,
        query: &ComplianceQuery<'_>,
        first: i64,
        last: i64,
    ) -> Result<Vec<ComplianceRow>, StoreError> {
        let groups: Vec<String> = query
            .by
            .iter()
            .map(|dimension| column_of(*dimension).to_string())
            .collect();
        let mut sql = SqlBuilder::new("SELECT ");
        for group in &groups {
            sql.push(group).push(", ");
        }
        let sum = |column: &str| format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)");
        let mut selected = vec![sum("tickets"), sum("paused_minutes")];
        for (clock, settled) in [
            ("first_response", ["met", "breached"]),
            ("updates", ["owed", "late"]),
            ("resolution", ["met", "breached"]),
        ] {
            selected.extend(settled.iter().map(|count| sum(&format!("{clock}_{count}"))));
            // Nothing closed is still open.
            selected.extend(["0".to_string(), "0".to_string()]);
            selected.extend((0..BANDS).map(|band| sum(&format!("{clock}_b{band}"))));
        }
        sql.push(&selected.join(", "))
            .push(" FROM report_months WHERE month >= ")
            .bind_i64(first)
            .push(" AND month <= ")
            .bind_i64(last);
        push_filter(&mut sql, query.filter);
        if !groups.is_empty() {
            sql.push(" GROUP BY ").push(&groups.join(", "));
        }
        let found = sql.fetch_all(&mut **snapshot).await?;
        found.iter().map(|row| row_of(row, query.by)).collect()
    }

    /// The tickets opened in `[from, to)` (`which` of them), added up as the report groups
    /// them.
    async fn scan_rows(
        &self,
        snapshot: &mut Transaction<'static, Any>,
        query: &ComplianceQuery<'_>,
        which: Tickets,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ComplianceRow>, StoreError> {
        let groups: Vec<String> = query
            .by
            .iter()
            .map(|dimension| self.ticket_expression(*dimension))
            .collect();
        let now = seconds(query.now);
        let count = |condition: &str| {
            format!("CAST(COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0) AS BIGINT)")
        };
        let mut selected = vec![
            "CAST(COUNT(*) AS BIGINT)".to_string(),
            "CAST(COALESCE(SUM(paused_minutes), 0) AS BIGINT)".to_string(),
        ];
        for (clock, due) in [
            ("first_response", "first_response_due_at"),
            ("updates", "next_update_due_at"),
            ("resolution", "resolution_due_at"),
        ] {
            if clock == "updates" {
                selected.push("CAST(COALESCE(SUM(updates_owed), 0) AS BIGINT)".into());
                selected.push("CAST(COALESCE(SUM(updates_late), 0) AS BIGINT)".into());
                selected.push(count(&format!(
                    "updates_running = 1 AND ({due} IS NULL OR {due} >= {now})"
                )));
                selected.push(count(&format!("updates_running = 1 AND {due} < {now}")));
                selected.extend((0..BANDS).map(|band| count(&format!("updates_band = {band}"))));
            } else {
                let outcome = format!("{clock}_outcome");
                selected.push(count(&format!("{outcome} = 3")));
                selected.push(count(&format!("{outcome} = 4")));
                // Held (5): stopped in time, awaiting the customer's answer.
                selected.push(count(&format!(
                    "({outcome} = 5 OR ({outcome} = 1 AND ({due} IS NULL OR {due} >= {now})))"
                )));
                selected.push(count(&format!(
                    "({outcome} = 2 OR ({outcome} = 1 AND {due} < {now}))"
                )));
                selected.extend(
                    (0..BANDS).map(|band| {
                        count(&format!("{outcome} IN (3, 4) AND {clock}_band = {band}"))
                    }),
                );
            }
        }
        let mut sql = SqlBuilder::new("SELECT ");
        for group in &groups {
            sql.push(group).push(", ");
        }
        sql.push(&selected.join(", "))
            .push(" FROM tickets WHERE opened_at >= ")
            .bind_i64(seconds(from))
            .push(" AND opened_at < ")
            .bind_i64(seconds(to));
        match which {
            Tickets::Open => {
                sql.push(" AND closed_at IS NULL");
            }
            Tickets::Closed => {
                sql.push(" AND closed_at IS NOT NULL");
            }
            Tickets::All => {}
        }
        push_filter(&mut sql, query.filter);
        if let Some(advisor) = query.filter.advisor {
            sql.push(" AND assignee_id = ").bind_i64(advisor);
        }
        if let Some(customer) = query.filter.customer {
            sql.push(" AND customer_id = ").bind_i64(customer);
        }
        if !groups.is_empty() {
            sql.push(" GROUP BY ").push(&groups.join(", "));
        }
        let found = sql.fetch_all(&mut **snapshot).await?;
        found.iter().map(|row| row_of(row, query.by)).collect()
    }

    /// How a ticket row gives a dimension's value: the month of opening as `yyyymm`.
    fn ticket_expression(&self, dimension: Dimension) -> String {
        match (dimension, self.backend) {
            (Dimension::Month, Backend::Sqlite) => {
                "CAST(strftime('%Y%m', opened_at, 'unixepoch') AS INTEGER)".into()
            }
            (Dimension::Month, Backend::Postgres) => {
                "CAST(to_char(to_timestamp(opened_at) AT TIME ZONE 'UTC', 'YYYYMM') AS BIGINT)"
                    .into()
            }
            (Dimension::Advisor, _) => "assignee_id".into(),
            (Dimension::Customer, _) => "customer_id".into(),
            (other, _) => column_of(other).into(),
        }
    }

    /// Measures the tickets written before reports kept measures (up to `batch` of them),
    /// adding the closed ones to the monthly totals; returns how many it went through (one
    /// the policy no longer fits is set aside with a warning). A ticket that changes
    /// meanwhile is measured, and if closed added to the totals, by its change, and left
    /// alone here.
    pub async fn measure_earlier_tickets(
        &self,
        policy: &Policy,
        now: Timestamp,
        batch: i64,
    ) -> Result<usize, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE measures_version = 0 ORDER BY id LIMIT $1",
        )
        .bind(batch)
        .fetch_all(&self.pool)
        .await?;
        let mut measured = 0;
        for id in ids {
            let mut transaction = self.begin_write().await?;
            let ticket = self
                .lock_ticket(&mut transaction, id, crate::Scope::All)
                .await?;
            let events = load_events(&mut *transaction, id).await?;
            let context = ClockContext {
                program: &ticket.program,
                region: &ticket.region,
                product_line: &ticket.product_line,
            };
            let at = now.max(ticket.updated_at);
            let measures = match compute(policy, &context, &events, at)
                .and_then(|clocks| TicketMeasures::of(policy, &context, &events, &clocks))
            {
                Ok(measures) => measures,
                Err(error) => {
                    // A ticket the policy no longer fits (a program since removed) cannot be
                    // measured: set aside (-1), so that it does not stop the others.
                    tracing::warn!(ticket = id, %error, "a ticket could not be measured for reports");
                    sqlx::query("UPDATE tickets SET measures_version = -1 WHERE id = $1 AND measures_version = 0")
                        .bind(id)
                        .execute(&mut *transaction)
                        .await?;
                    transaction.commit().await?;
                    measured += 1;
                    continue;
                }
            };
            let mut update = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE tickets SET {} WHERE id = ${} AND measures_version = 0",
                measure_assignments(1),
                MEASURE_COLUMNS.len() + 1
            )));
            for value in measure_values(&measures) {
                update = update.bind(value);
            }
            let written = update.bind(id).execute(&mut *transaction).await?;
            if written.rows_affected() == 1 && ticket.closed_at.is_some() {
                add_closed(
                    &mut transaction,
                    ClosedTicket {
                        opened_at: ticket.opened_at,
                        program: &ticket.program,
                        severity: &ticket.severity,
                        region: &ticket.region,
                        channel: &ticket.channel,
                        product_line: &ticket.product_line,
                        language: &ticket.language,
                        measures: &measures,
                    },
                )
                .await?;
            }
            transaction.commit().await?;
            measured += 1;
        }
        Ok(measured)
    }
}

/// How the desk stands now, for the managers' dashboard.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeskNow {
    pub open: u64,
    /// Open tickets with a clock at risk now (the queue's at-risk view).
    pub at_risk: u64,
    /// Open tickets with a breach on record or a clock past its due time (the breaches view).
    pub overdue: u64,
    /// Breaches recorded since the start of the day.
    pub breaches_today: u64,
    /// Open tickets by age since opened: under a day, 1–3 days, 3–7, 7–30, over 30.
    pub backlog_by_age: [u64; 5],
    /// Open tickets by state (its stored name): how many, and by age as `backlog_by_age`.
    pub by_state: Vec<(String, u64, [u64; 5])>,
}

/// The ages the backlog is counted in, in days.
pub const BACKLOG_AGES: [i64; 4] = [1, 3, 7, 30];

impl Store {
    /// How the desk stands at `now`: open tickets, at risk, overdue, breaches since
    /// `day_start`, and the backlog by age and state.
    pub async fn desk_now(
        &self,
        now: Timestamp,
        day_start: Timestamp,
    ) -> Result<DeskNow, StoreError> {
        let now_seconds = seconds(now);
        let age_limit = |days: i64| now_seconds - days * 86_400;
        let sql = format!(
            "SELECT state, CAST(COUNT(*) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN at_risk_at <= {now_seconds} THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN breached OR next_due_at < {now_seconds} THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN opened_at > {a1} THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN opened_at <= {a1} AND opened_at > {a3} THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN opened_at <= {a3} AND opened_at > {a7} THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN opened_at <= {a7} AND opened_at > {a30} THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN opened_at <= {a30} THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM tickets WHERE closed_at IS NULL GROUP BY state",
            a1 = age_limit(BACKLOG_AGES[0]),
            a3 = age_limit(BACKLOG_AGES[1]),
            a7 = age_limit(BACKLOG_AGES[2]),
            a30 = age_limit(BACKLOG_AGES[3]),
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        let mut desk = DeskNow::default();
        let count = |row: &AnyRow, index: usize| -> Result<u64, StoreError> {
            Ok(u64::try_from(row.try_get::<i64, _>(index)?).unwrap_or(0))
        };
        for row in &rows {
            let state: String = row.try_get(0)?;
            let open = count(row, 1)?;
            desk.open += open;
            desk.at_risk += count(row, 2)?;
            desk.overdue += count(row, 3)?;
            let mut by_age = [0u64; 5];
            for (age, slot) in by_age.iter_mut().enumerate() {
                *slot = count(row, 4 + age)?;
                desk.backlog_by_age[age] += *slot;
            }
            desk.by_state.push((state, open, by_age));
        }
        let breaches: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM ticket_events WHERE kind = 'clock_breached' AND at >= $1",
        )
        .bind(seconds(day_start))
        .fetch_one(&self.pool)
        .await?;
        desk.breaches_today = u64::try_from(breaches).unwrap_or(0);
        Ok(desk)
    }
}

/// The column of `report_months` (and of `tickets`) a dimension is kept in: its own name,
/// but for the people a ticket belongs to.
fn column_of(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Advisor => "assignee_id",
        Dimension::Customer => "customer_id",
        other => other.name(),
    }
}

/// The filter's conditions on columns both tables have.
fn push_filter(sql: &mut SqlBuilder, filter: &ReportFilter) {
    let ReportFilter {
        program,
        severity,
        region,
        channel,
        product_line,
        language,
        ..
    } = filter;
    for (column, value) in [
        ("program", program),
        ("severity", severity),
        ("region", region),
        ("channel", channel),
        ("product_line", product_line),
        ("language", language),
    ] {
        if let Some(value) = value {
            sql.push(" AND ").push(column).push(" = ").bind_text(value);
        }
    }
}

/// The first and last whole months of `[from, to)` (`yyyymm`) and the instants they span,
/// when there is one.
fn whole_months(from: Timestamp, to: Timestamp) -> Option<(i64, i64, Timestamp, Timestamp)> {
    use jiff::tz::TimeZone;
    let midnight = |date: jiff::civil::Date| {
        TimeZone::UTC
            .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
            .ok()
    };
    let start_of = |at: Timestamp| -> Option<jiff::civil::Date> {
        Some(TimeZone::UTC.to_datetime(at).date().first_of_month())
    };
    let first_start = {
        let month = start_of(from)?;
        let month_start = midnight(month)?;
        if month_start == from {
            month
        } else {
            month.checked_add(jiff::Span::new().months(1)).ok()?
        }
    };
    let last_end = start_of(to)?;
    if first_start >= last_end {
        return None;
    }
    let last = last_end.checked_sub(jiff::Span::new().months(1)).ok()?;
    let key = |date: jiff::civil::Date| i64::from(date.year()) * 100 + i64::from(date.month());
    Some((
        key(first_start),
        key(last),
        midnight(first_start)?,
        midnight(last_end)?,
    ))
}

/// A row of either query: the groups, then the counts in `scan_rows`' order.
fn row_of(row: &AnyRow, by: &[Dimension]) -> Result<ComplianceRow, StoreError> {
    let mut group = Vec::with_capacity(by.len());
    for (index, dimension) in by.iter().enumerate() {
        group.push(match dimension {
            Dimension::Month => {
                let month: i64 = row.try_get(index)?;
                format!("{:04}-{:02}", month / 100, month % 100)
            }
            Dimension::Advisor | Dimension::Customer => row
                .try_get::<Option<i64>, _>(index)?
                .map_or_else(|| "none".to_string(), |id| id.to_string()),
            _ => row.try_get::<String, _>(index)?,
        });
    }
    let mut at = by.len();
    let mut next = || -> Result<u64, StoreError> {
        let value: i64 = row.try_get(at)?;
        at += 1;
        Ok(u64::try_from(value).unwrap_or(0))
    };
    let tickets = next()?;
    let paused_minutes = next()?;
    let mut clock = |updates: bool| -> Result<ClockTally, StoreError> {
        let (first, second) = (next()?, next()?);
        let (open_within, open_past) = (next()?, next()?);
        let mut bands = [0u64; BANDS];
        for band in &mut bands {
            *band = next()?;
        }
        // Updates come as owed and late; the clocks as met and breached.
        let (met, breached) = if updates {
            (first.saturating_sub(second), second)
        } else {
            (first, second)
        };
        Ok(ClockTally {
            measured: met + breached,
            met,
            breached,
            open_within,
            open_past,
            bands,
        })
    };
    let first_response = clock(false)?;
    let updates = clock(true)?;
    let resolution = clock(false)?;
    Ok(ComplianceRow {
        group,
        tickets,
        first_response,
        updates,
        resolution,
        paused_minutes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap_or_else(|_| panic!("{text}"))
    }

    #[test]
    fn a_period_reads_its_whole_months_from_the_totals() {
        assert_eq!(
            whole_months(at("2026-01-01T00:00:00Z"), at("2026-04-01T00:00:00Z")),
            Some((
                202601,
                202603,
                at("2026-01-01T00:00:00Z"),
                at("2026-04-01T00:00:00Z")
            ))
        );
        assert_eq!(
            whole_months(at("2025-12-15T00:00:00Z"), at("2026-02-10T00:00:00Z")),
            Some((
                202601,
                202601,
                at("2026-01-01T00:00:00Z"),
                at("2026-02-01T00:00:00Z")
            ))
        );
        assert_eq!(
            whole_months(at("2026-01-15T00:00:00Z"), at("2026-02-10T00:00:00Z")),
            None
        );
        assert_eq!(
            whole_months(at("2026-01-01T00:00:01Z"), at("2026-02-01T00:00:00Z")),
            None
        );
    }

    #[test]
    fn the_totals_count_what_the_ticket_rows_hold() {
        assert_eq!(MONTH_COUNTS.len(), monthly_counts(&measures()).len());
        assert_eq!(MEASURE_COLUMNS.len(), measure_values(&measures()).len());
    }

    fn measures() -> TicketMeasures {
        use caredesk_domain::report::{ClockMeasure, Outcome, UpdatesMeasure};
        TicketMeasures {
            first_response: ClockMeasure {
                outcome: Outcome::Met,
                target_minutes: 120,
                used_minutes: 30,
            },
            updates: UpdatesMeasure::default(),
            resolution: ClockMeasure {
                outcome: Outcome::Breached,
                target_minutes: 600,
                used_minutes: 900,
            },
            paused_minutes: 0,
        }
    }
}
