//! Reports: what they keep beside each ticket, the totals of closed tickets, and the
//! compliance query over both.
//!
//! Each ticket row carries its measures ([`TicketMeasures`], the domain's), rewritten in the
//! transaction of every event like its due times. When a ticket closes its measures are final,
//! and the same transaction adds them to the totals: by month and by day of opening (UTC),
//! per program, severity, region, channel, product line and language (`report_months`,
//! `report_days`), per advisor and per customer and severity (`report_people_months`,
//! `report_people_days`), and per advisor and per customer and all of those dimensions
//! (`report_people_detail_months`, `report_people_detail_days`). A report then reads:
//!
//! - the monthly totals for the whole months of its period, the daily ones for the days
//!   before and after them: the dimensions' when it is about no one in particular, the
//!   people's when it is about advisors or customers, by severity and month alone or by
//!   anything else (the detailed ones, more rows);
//! - the tickets still open that were opened in the period, classified as `now` finds them,
//!   from an index that holds every column a report needs (a desk has few open tickets);
//!
//! and, when it is about advisors and customers at once, the tickets of the period (of
//! the one advisor or customer it names, through their index). Never a timeline.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use caredesk_domain::policy::Policy;
use caredesk_domain::report::{
    ActivityTally, BANDS, ClockMeasure, ClockTally, ComplianceRow, Dimension, Outcome,
    ReportFilter, Span, TicketMeasures, merge_rows, month_of,
};
use caredesk_domain::ticket::clocks::{ClockContext, compute};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::events::load_events;
use crate::tickets::{TICKET_COLUMNS, TicketRecord, ticket_of};
use crate::{Backend, SqlBuilder, Store, StoreError, seconds};

/// The version of the measures this code writes; tickets written before reports kept
/// measures have 0, those measured before they kept activity 1, and both are measured again
/// by [`Store::measure_earlier_tickets`] (or by their next change).
const MEASURES_VERSION: i64 = 2;

/// A ticket's measures as its row holds them, in the order of [`MEASURE_COLUMNS`].
pub(crate) type MeasureValues = [Option<i64>; 26];

/// The columns of a ticket row that hold its activity, named as in the totals.
const ACTIVITY_COLUMNS: [&str; 12] = [
    "escalations_asked",
    "escalations_automatic",
    "escalations_answered",
    "ever_escalated",
    "escalated_resolved",
    "proposals",
    "proposals_accepted",
    "proposals_rejected",
    "proposals_unanswered",
    "outside_support",
    "services_requested",
    "waiting_minutes",
];

/// The columns of a ticket row that hold its measures, in the order of [`measure_values`].
pub(crate) const MEASURE_COLUMNS: [&str; 26] = [
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
    ACTIVITY_COLUMNS[0],
    ACTIVITY_COLUMNS[1],
    ACTIVITY_COLUMNS[2],
    ACTIVITY_COLUMNS[3],
    ACTIVITY_COLUMNS[4],
    ACTIVITY_COLUMNS[5],
    ACTIVITY_COLUMNS[6],
    ACTIVITY_COLUMNS[7],
    ACTIVITY_COLUMNS[8],
    ACTIVITY_COLUMNS[9],
    ACTIVITY_COLUMNS[10],
    ACTIVITY_COLUMNS[11],
    "measures_version",
];

/// The position of a measure column, found when compiling.
const fn column(name: &str) -> usize {
    let mut index = 0;
    while index < MEASURE_COLUMNS.len() {
        let candidate = MEASURE_COLUMNS[index].as_bytes();
        let wanted = name.as_bytes();
        if candidate.len() == wanted.len() {
            let mut at = 0;
            while at < wanted.len() && candidate[at] == wanted[at] {
                at += 1;
            }
            if at == wanted.len() {
                return index;
            }
        }
        index += 1;
    }
    panic!("not a measure column")
}

fn minutes(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A ticket's measures as its row's columns ([`MEASURE_COLUMNS`]).
pub(crate) fn measure_values(measures: &TicketMeasures) -> MeasureValues {
    let TicketMeasures {
        first_response,
        updates,
        resolution,
        paused_minutes,
        activity,
    } = measures;
    let count = |value: u32| Some(i64::from(value));
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
        count(activity.escalations_asked),
        count(activity.escalations_automatic),
        count(activity.escalations_answered),
        Some(i64::from(activity.escalated)),
        Some(i64::from(activity.escalated_resolved)),
        count(activity.proposals),
        count(activity.proposals_accepted),
        count(activity.proposals_rejected),
        count(activity.proposals_unanswered),
        count(activity.outside_support),
        Some(i64::from(activity.services_requested)),
        Some(minutes(activity.waiting_minutes)),
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

/// The measures a ticket's row holds now, as the totals counted them if it is closed.
pub(crate) struct StoredMeasures {
    values: MeasureValues,
}

impl StoredMeasures {
    /// Whether they are this code's: nothing to measure again.
    pub(crate) fn are_current(&self) -> bool {
        self.version() == MEASURES_VERSION
    }

    /// Whether a closed ticket with these measures is in the totals: measured at all
    /// (0: before reports kept measures, -1: set aside, the policy no longer fitting).
    pub(crate) fn are_counted(&self) -> bool {
        self.version() > 0
    }

    /// Whether a ticket measured now to `values` is counted otherwise in the totals.
    pub(crate) fn differ_from(&self, values: &MeasureValues) -> bool {
        self.values != *values
    }

    fn version(&self) -> i64 {
        self.values[column("measures_version")].unwrap_or(0)
    }
}

/// The measures the row of ticket `id` holds.
pub(crate) async fn stored_measures(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
) -> Result<StoredMeasures, StoreError> {
    let sql = format!(
        "SELECT {} FROM tickets WHERE id = $1",
        MEASURE_COLUMNS.join(", ")
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut **transaction)
        .await?;
    let mut values: MeasureValues = [None; MEASURE_COLUMNS.len()];
    for (index, value) in values.iter_mut().enumerate() {
        *value = row.try_get::<Option<i64>, _>(index)?;
    }
    Ok(StoredMeasures { values })
}

/// A closed ticket whose measures changed (measured again under a newer version, or
/// another policy): what its row (`row`, with `stored`) added to the totals is taken away,
/// under the same keys, and `measured` is added; only added if it was not counted.
pub(crate) async fn recount_closed(
    transaction: &mut Transaction<'static, Any>,
    row: &TicketRecord,
    measured: ClosedTicket<'_>,
    stored: &StoredMeasures,
) -> Result<(), StoreError> {
    let mut totals = ClosedTotals::default();
    if stored.are_counted()
        && let Some(counted) = closed_ticket(row, stored.values)
    {
        totals.remove(&counted);
    }
    totals.add(&measured);
    totals.write(transaction).await
}

/// What a closed ticket's measures are added up by in the report totals.
#[derive(Clone, Copy)]
pub(crate) struct ClosedTicket<'a> {
    pub opened_at: Timestamp,
    pub closed_at: Timestamp,
    pub program: &'a str,
    pub severity: &'a str,
    pub region: &'a str,
    pub channel: &'a str,
    pub product_line: &'a str,
    pub language: &'a str,
    pub customer: i64,
    pub advisor: Option<i64>,
    /// Its measures as its row holds them ([`measure_values`]).
    pub measures: MeasureValues,
}

/// The tables closed tickets are added up in: by month and by day of opening (UTC), per
/// program, severity, region, channel, product line and language, per person (an advisor,
/// 0 for none assigned, or a customer) and severity, or per person and all of these; and
/// counted by the week and month they were opened and closed in (`report_flows`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Totals {
    Months,
    Days,
    PeopleMonths,
    PeopleDays,
    PeopleDetailMonths,
    PeopleDetailDays,
    Flows,
}

/// The people a ticket is added up for in the people's totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Person {
    Advisor,
    Customer,
}

impl Person {
    fn kind(self) -> &'static str {
        match self {
            Person::Advisor => "advisor",
            Person::Customer => "customer",
        }
    }
}

const DIMENSION_KEY: [&str; 6] = [
    "program",
    "severity",
    "region",
    "channel",
    "product_line",
    "language",
];

impl Totals {
    fn table(self) -> &'static str {
        match self {
            Totals::Months => "report_months",
            Totals::Days => "report_days",
            Totals::PeopleMonths => "report_people_months",
            Totals::PeopleDays => "report_people_days",
            Totals::PeopleDetailMonths => "report_people_detail_months",
            Totals::PeopleDetailDays => "report_people_detail_days",
            Totals::Flows => "report_flows",
        }
    }

    /// The column of the period: `yyyymm` or `yyyymmdd`.
    fn period(self) -> &'static str {
        match self {
            Totals::Months | Totals::PeopleMonths | Totals::PeopleDetailMonths => "month",
            Totals::Days | Totals::PeopleDays | Totals::PeopleDetailDays => "day",
            Totals::Flows => "period",
        }
    }

    /// The columns a row adds up.
    fn counts(self) -> &'static [String] {
        static FLOW_COUNTS: LazyLock<Vec<String>> = LazyLock::new(|| vec!["tickets".into()]);
        match self {
            Totals::Flows => &FLOW_COUNTS,
            _ => &TOTAL_COUNTS,
        }
    }

    fn key(self) -> Vec<&'static str> {
        let mut key = vec![self.period()];
        match self {
            Totals::Flows => {
                key = vec!["span", "period", "flow"];
                key.extend(DIMENSION_KEY);
            }
            Totals::PeopleMonths | Totals::PeopleDays => {
                key.extend(["person_kind", "person_id", "severity"]);
            }
            Totals::PeopleDetailMonths | Totals::PeopleDetailDays => {
                key.extend(["person_kind", "person_id"]);
                key.extend(DIMENSION_KEY);
            }
            Totals::Months | Totals::Days => key.extend(DIMENSION_KEY),
        }
        key
    }

    /// Adds one row's counts to the row of its key, or makes it.
    fn upsert(self) -> &'static str {
        static UPSERTS: LazyLock<[String; 7]> = LazyLock::new(|| {
            [
                Totals::Months,
                Totals::Days,
                Totals::PeopleMonths,
                Totals::PeopleDays,
                Totals::PeopleDetailMonths,
                Totals::PeopleDetailDays,
                Totals::Flows,
            ]
            .map(|totals| totals.upsert_sql())
        });
        &UPSERTS[self as usize]
    }

    fn upsert_sql(self) -> String {
        let key = self.key();
        let columns: Vec<String> = key
            .iter()
            .map(|column| column.to_string())
            .chain(self.counts().iter().cloned())
            .collect();
        let values: Vec<String> = (1..=columns.len()).map(|n| format!("${n}")).collect();
        let sums: Vec<String> = self
            .counts()
            .iter()
            .map(|column| format!("{column} = {}.{column} + excluded.{column}", self.table()))
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
            self.table(),
            columns.join(", "),
            values.join(", "),
            key.join(", "),
            sums.join(", ")
        )
    }
}

/// The counted columns of every totals table, in the order of `counts_of`.
static TOTAL_COUNTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut columns: Vec<String> = vec!["tickets".into(), "paused_minutes".into()];
    for (clock, settled) in [
        ("first_response", ["met", "breached"]),
        ("updates", ["owed", "late"]),
        ("resolution", ["met", "breached"]),
    ] {
        columns.extend(settled.iter().map(|count| format!("{clock}_{count}")));
        columns.extend((0..BANDS).map(|band| format!("{clock}_b{band}")));
    }
    columns.extend(ACTIVITY_COLUMNS.iter().map(|column| column.to_string()));
    columns
});

/// One closed ticket's contribution to the totals, in the order of `TOTAL_COUNTS`, from its
/// measures as its row holds them (what is added when it closes is what is taken away if it
/// is measured again).
fn counts_of(values: &MeasureValues) -> Vec<i64> {
    let value = |index: usize| values[index].unwrap_or(0);
    let (met, breached) = (Outcome::Met.code(), Outcome::Breached.code());
    let one_hot =
        |band: Option<i64>| (0..BANDS).map(move |index| i64::from(band == Some(index as i64)));
    let settled_band = |outcome: usize, band: usize| {
        let settled = [met, breached].contains(&value(outcome));
        one_hot(settled.then(|| value(band)))
    };
    let mut counts = vec![1, value(column("paused_minutes"))];
    let first = column("first_response_outcome");
    counts.push(i64::from(value(first) == met));
    counts.push(i64::from(value(first) == breached));
    counts.extend(settled_band(first, column("first_response_band")));
    counts.push(value(column("updates_owed")));
    counts.push(value(column("updates_late")));
    counts.extend(one_hot(values[column("updates_band")]));
    let resolution = column("resolution_outcome");
    counts.push(i64::from(value(resolution) == met));
    counts.push(i64::from(value(resolution) == breached));
    counts.extend(settled_band(resolution, column("resolution_band")));
    counts.extend(ACTIVITY_COLUMNS.iter().map(|name| value(column(name))));
    counts
}

/// A row of a totals table: its table and its key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TotalsKey {
    Dimensions {
        totals: Totals,
        period: i64,
        values: [String; 6],
    },
    Person {
        totals: Totals,
        period: i64,
        person: Person,
        id: i64,
        severity: String,
    },
    PersonDetail {
        totals: Totals,
        period: i64,
        person: Person,
        id: i64,
        values: [String; 6],
    },
    Flow {
        span: &'static str,
        period: i64,
        flow: &'static str,
        values: [String; 6],
    },
}

/// What closing tickets add to the totals, gathered over a transaction and written at its
/// end, row by row in one order for every transaction: two writers on PostgreSQL never wait
/// for each other's rows in opposite orders. (That holds for transactions that write their
/// totals once: an import gathers its whole batch; a change closes one ticket.)
#[derive(Default)]
pub(crate) struct ClosedTotals {
    rows: BTreeMap<TotalsKey, Vec<i64>>,
}

impl ClosedTotals {
    /// Counts a ticket that just closed (or was just measured, closed).
    pub(crate) fn add(&mut self, ticket: &ClosedTicket<'_>) {
        self.count(ticket, 1);
    }

    /// Takes away what a closed ticket added, as its row holds it (to count it again).
    pub(crate) fn remove(&mut self, ticket: &ClosedTicket<'_>) {
        self.count(ticket, -1);
    }

    fn count(&mut self, ticket: &ClosedTicket<'_>, sign: i64) {
        let counts = counts_of(&ticket.measures);
        let (month, day) = (month_of(ticket.opened_at), day_of(ticket.opened_at));
        let values = [
            ticket.program,
            ticket.severity,
            ticket.region,
            ticket.channel,
            ticket.product_line,
            ticket.language,
        ]
        .map(str::to_string);
        let mut keys = vec![
            TotalsKey::Dimensions {
                totals: Totals::Months,
                period: month,
                values: values.clone(),
            },
            TotalsKey::Dimensions {
                totals: Totals::Days,
                period: day,
                values: values.clone(),
            },
        ];
        let people = [
            (Person::Advisor, ticket.advisor.unwrap_or(0)),
            (Person::Customer, ticket.customer),
        ];
        for (totals, period) in [(Totals::PeopleMonths, month), (Totals::PeopleDays, day)] {
            for (person, id) in people {
                keys.push(TotalsKey::Person {
                    totals,
                    period,
                    person,
                    id,
                    severity: ticket.severity.to_string(),
                });
            }
        }
        for (totals, period) in [
            (Totals::PeopleDetailMonths, month),
            (Totals::PeopleDetailDays, day),
        ] {
            for (person, id) in people {
                keys.push(TotalsKey::PersonDetail {
                    totals,
                    period,
                    person,
                    id,
                    values: values.clone(),
                });
            }
        }
        for key in keys {
            let sums = self
                .rows
                .entry(key)
                .or_insert_with(|| vec![0; TOTAL_COUNTS.len()]);
            for (sum, count) in sums.iter_mut().zip(&counts) {
                *sum += sign * count;
            }
        }
        for (span, period_of) in [
            ("week", week_of as fn(Timestamp) -> i64),
            ("month", month_of),
        ] {
            for (flow, at) in [("opened", ticket.opened_at), ("closed", ticket.closed_at)] {
                let key = TotalsKey::Flow {
                    span,
                    period: period_of(at),
                    flow,
                    values: values.clone(),
                };
                let tickets = self.rows.entry(key).or_insert_with(|| vec![0]);
                if let Some(tickets) = tickets.first_mut() {
                    *tickets += sign;
                }
            }
        }
    }

    /// Adds what was gathered to the tables.
    pub(crate) async fn write(
        self,
        transaction: &mut Transaction<'static, Any>,
    ) -> Result<(), StoreError> {
        for (key, counts) in self.rows {
            let query = match &key {
                TotalsKey::Dimensions {
                    totals,
                    period,
                    values,
                } => {
                    let mut query = sqlx::query(totals.upsert()).bind(*period);
                    for value in values {
                        query = query.bind(value.as_str());
                    }
                    query
                }
                TotalsKey::Person {
                    totals,
                    period,
                    person,
                    id,
                    severity,
                } => sqlx::query(totals.upsert())
                    .bind(*period)
                    .bind(person.kind())
                    .bind(*id)
                    .bind(severity.as_str()),
                TotalsKey::PersonDetail {
                    totals,
                    period,
                    person,
                    id,
                    values,
                } => {
                    let mut query = sqlx::query(totals.upsert())
                        .bind(*period)
                        .bind(person.kind())
                        .bind(*id);
                    for value in values {
                        query = query.bind(value.as_str());
                    }
                    query
                }
                TotalsKey::Flow {
                    span,
                    period,
                    flow,
                    values,
                } => {
                    let mut query = sqlx::query(Totals::Flows.upsert())
                        .bind(*span)
                        .bind(*period)
                        .bind(*flow);
                    for value in values {
                        query = query.bind(value.as_str());
                    }
                    query
                }
            };
            let mut query = query;
            for count in counts {
                query = query.bind(count);
            }
            query.execute(&mut **transaction).await?;
        }
        Ok(())
    }
}

/// Adds a ticket that just closed to the totals.
pub(crate) async fn add_closed(
    transaction: &mut Transaction<'static, Any>,
    ticket: ClosedTicket<'_>,
) -> Result<(), StoreError> {
    let mut totals = ClosedTotals::default();
    totals.add(&ticket);
    totals.write(transaction).await
}

/// The day of an instant in UTC, as `yyyymmdd`.
fn day_of(at: Timestamp) -> i64 {
    day_key(jiff::tz::TimeZone::UTC.to_datetime(at).date())
}

/// The week of an instant in UTC, as the `yyyymmdd` of its Monday.
pub(crate) fn week_of(at: Timestamp) -> i64 {
    day_key(Span::Week.start_of(jiff::tz::TimeZone::UTC.to_datetime(at).date()))
}

pub(crate) fn day_key(date: Date) -> i64 {
    i64::from(date.year()) * 10_000 + i64::from(date.month()) * 100 + i64::from(date.day())
}

pub(crate) fn month_key(date: Date) -> i64 {
    i64::from(date.year()) * 100 + i64::from(date.month())
}

/// A compliance report: tickets opened from `first_day` to `last_day` (UTC days, both
/// included), those of `filter`, broken down `by`, their open clocks classified as `now`
/// finds them.
#[derive(Clone, Copy, Debug)]
pub struct ComplianceQuery<'a> {
    pub first_day: Date,
    pub last_day: Date,
    pub now: Timestamp,
    pub filter: &'a ReportFilter,
    pub by: &'a [Dimension],
}

/// What happened to the tickets of one group opened in a report's period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityRow {
    pub group: Vec<String>,
    pub tickets: u64,
    pub activity: ActivityTally,
}

/// What a report's query adds up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counted {
    Everything,
    /// The tickets, the pauses and the activity; the clocks read as zeros.
    Activity,
}

impl Counted {
    /// The columns selected for the three clocks (after the tickets and the pauses: four
    /// counts and the bands each, in [`row_of`]'s order).
    const CLOCK_COLUMNS: std::ops::Range<usize> = 2..2 + 3 * (4 + BANDS);

    /// Replaces the clocks' sums by zeros when they are not asked for: the rows keep their
    /// shape, and the database adds up a quarter as many columns.
    fn leave_out_clocks(self, selected: &mut [String]) {
        if self == Counted::Activity {
            for column in &mut selected[Self::CLOCK_COLUMNS] {
                *column = "0".to_string();
            }
        }
    }
}

/// Which tickets a scan reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tickets {
    Open,
    All,
}

/// Where a report's closed tickets are counted from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// The totals per program, severity, region, channel, product line and language.
    Dimensions,
    /// The totals of one kind of person: the report is about advisors (or customers) and
    /// nothing else but months and severities.
    People(Person),
    /// The totals of one kind of person by every dimension: the report is about advisors
    /// (or customers) filtered or broken down by anything else.
    PeopleDetail(Person),
    /// The tickets themselves: the report is about advisors and customers at once.
    Tickets,
}

impl Source {
    fn of(filter: &ReportFilter, by: &[Dimension]) -> Source {
        let mut people = Vec::new();
        if filter.advisor.is_some() || by.contains(&Dimension::Advisor) {
            people.push(Person::Advisor);
        }
        if filter.customer.is_some() || by.contains(&Dimension::Customer) {
            people.push(Person::Customer);
        }
        // The people's totals are kept by severity too.
        let by_dimensions = filter.program.is_some()
            || filter.region.is_some()
            || filter.channel.is_some()
            || filter.product_line.is_some()
            || filter.language.is_some()
            || by.iter().any(|dimension| {
                !matches!(
                    dimension,
                    Dimension::Month
                        | Dimension::Severity
                        | Dimension::Advisor
                        | Dimension::Customer
                )
            });
        match people.as_slice() {
            [] => Source::Dimensions,
            [person] if !by_dimensions => Source::People(*person),
            [person] => Source::PeopleDetail(*person),
            _ => Source::Tickets,
        }
    }
}

/// A period of days cut into the whole months it covers and the days at either end.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Period {
    /// The first and last whole months (`yyyymm`), if any.
    months: Option<(i64, i64)>,
    /// The days outside them (`yyyymmdd`, both ends included).
    days: Vec<(i64, i64)>,
}

impl Period {
    fn of(first_day: Date, last_day: Date) -> Period {
        let whole_from = if first_day.day() == 1 {
            Some(first_day)
        } else {
            first_day.last_of_month().tomorrow().ok()
        };
        let whole_to = if last_day == last_day.last_of_month() {
            Some(last_day)
        } else {
            last_day.first_of_month().yesterday().ok()
        };
        match (whole_from, whole_to) {
            (Some(from), Some(to)) if from <= to => {
                let mut days = Vec::new();
                if let Ok(before) = from.yesterday()
                    && first_day <= before
                {
                    days.push((day_key(first_day), day_key(before)));
                }
                if let Ok(after) = to.tomorrow()
                    && after <= last_day
                {
                    days.push((day_key(after), day_key(last_day)));
                }
                Period {
                    months: Some((month_key(from), month_key(to))),
                    days,
                }
            }
            _ => Period {
                months: None,
                days: vec![(day_key(first_day), day_key(last_day))],
            },
        }
    }
}

impl Store {
    /// The compliance report `query` asks for: one row per group, in the groups' order.
    ///
    /// Closed tickets come from the totals, whole months from the monthly ones and the days
    /// at either end from the daily ones: the dimensions' totals, or the people's when the
    /// report is about advisors or customers (their detailed ones when it is also filtered
    /// or broken down by anything but severity and month). Open tickets, whose clocks still
    /// run, come from their index. A report about advisors and customers at once reads the
    /// tickets of the period (through the index of the one it names, if any).
    pub async fn compliance(
        &self,
        query: &ComplianceQuery<'_>,
    ) -> Result<Vec<ComplianceRow>, StoreError> {
        self.count_rows(query, Counted::Everything).await
    }

    /// What happened to the tickets of `query` (the rows of [`Store::compliance`] without
    /// the clocks, which it does not add up: a volume report's question, answered with a
    /// quarter of the sums).
    pub async fn activity(
        &self,
        query: &ComplianceQuery<'_>,
    ) -> Result<Vec<ActivityRow>, StoreError> {
        let rows = self.count_rows(query, Counted::Activity).await?;
        Ok(rows
            .into_iter()
            .map(|row| ActivityRow {
                group: row.group,
                tickets: row.tickets,
                activity: row.activity,
            })
            .collect())
    }

    async fn count_rows(
        &self,
        query: &ComplianceQuery<'_>,
        counted: Counted,
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
        let from = start_of(query.first_day);
        let to = query.last_day.tomorrow().map_or(Timestamp::MAX, start_of);
        let (months, days, person) = match Source::of(query.filter, query.by) {
            Source::Dimensions => (Totals::Months, Totals::Days, None),
            Source::People(person) => (Totals::PeopleMonths, Totals::PeopleDays, Some(person)),
            Source::PeopleDetail(person) => (
                Totals::PeopleDetailMonths,
                Totals::PeopleDetailDays,
                Some(person),
            ),
            Source::Tickets => {
                rows.extend(
                    self.scan_rows(&mut snapshot, query, counted, Tickets::All, from, to)
                        .await?,
                );
                snapshot.commit().await?;
                return Ok(merge_rows(rows.into_iter().filter(|row| row.tickets > 0)));
            }
        };
        let period = Period::of(query.first_day, query.last_day);
        if let Some(range) = period.months {
            rows.extend(totals_rows(&mut snapshot, query, counted, months, person, range).await?);
        }
        for range in period.days {
            rows.extend(totals_rows(&mut snapshot, query, counted, days, person, range).await?);
        }
        rows.extend(
            self.scan_rows(&mut snapshot, query, counted, Tickets::Open, from, to)
                .await?,
        );
        snapshot.commit().await?;
        Ok(merge_rows(rows.into_iter().filter(|row| row.tickets > 0)))
    }

    /// The tickets opened in `[from, to)` (`which` of them), added up as the report groups
    /// them.
    async fn scan_rows(
        &self,
        snapshot: &mut Transaction<'static, Any>,
        query: &ComplianceQuery<'_>,
        counted: Counted,
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
        selected.extend(activity_selection(
            &count("closed_at IS NOT NULL"),
            &count("ever_escalated = 1 AND closed_at IS NULL"),
        ));
        counted.leave_out_clocks(&mut selected);
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
            // A closed ticket counts once measured, as in the totals.
            Tickets::All => {
                sql.push(" AND (closed_at IS NULL OR measures_version > 0)");
            }
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

    /// Whether some ticket still waits to be measured as `measure_earlier_tickets` does:
    /// until none does, totals are not complete.
    pub async fn tickets_left_to_measure(&self) -> Result<bool, StoreError> {
        let left: Option<i64> =
            sqlx::query_scalar("SELECT id FROM tickets WHERE measures_version IN (0, 1) LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(left.is_some())
    }

    /// Measures the tickets written before reports kept measures (up to `batch` of them),
    /// adding the closed ones to the totals; returns how many it went through (one
    /// the policy no longer fits is set aside with a warning). A ticket that changes
    /// meanwhile is measured, and if closed added to the totals, by its change, and left
    /// alone here.
    pub async fn measure_earlier_tickets(
        &self,
        policy: &Policy,
        now: Timestamp,
        batch: i64,
    ) -> Result<usize, StoreError> {
        // `tickets_to_measure` (0035) indexes exactly these.
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE measures_version IN (0, 1) ORDER BY id LIMIT $1",
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
            let stored = stored_measures(&mut transaction, id).await?;
            if stored.are_current() || stored.version() < 0 {
                // Changed (and measured) meanwhile.
                transaction.commit().await?;
                measured += 1;
                continue;
            }
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
                    // Out of the reports altogether: out of the totals if it was counted.
                    if let Some(closed) = closed_ticket(&ticket, stored.values)
                        && stored.are_counted()
                    {
                        let mut totals = ClosedTotals::default();
                        totals.remove(&closed);
                        totals.write(&mut transaction).await?;
                    }
                    sqlx::query("UPDATE tickets SET measures_version = -1 WHERE id = $1")
                        .bind(id)
                        .execute(&mut *transaction)
                        .await?;
                    transaction.commit().await?;
                    measured += 1;
                    continue;
                }
            };
            let values = measure_values(&measures);
            let mut update = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE tickets SET {} WHERE id = ${}",
                measure_assignments(1),
                MEASURE_COLUMNS.len() + 1
            )));
            for value in values {
                update = update.bind(value);
            }
            update.bind(id).execute(&mut *transaction).await?;
            if let Some(closed) = closed_ticket(&ticket, values) {
                recount_closed(&mut transaction, &ticket, closed, &stored).await?;
            }
            transaction.commit().await?;
            measured += 1;
        }
        Ok(measured)
    }
}

/// What a closed ticket (its row) with `measures` adds to the totals; none if it is open.
pub(crate) fn closed_ticket(
    ticket: &TicketRecord,
    measures: MeasureValues,
) -> Option<ClosedTicket<'_>> {
    Some(ClosedTicket {
        opened_at: ticket.opened_at,
        closed_at: ticket.closed_at?,
        program: &ticket.program,
        severity: &ticket.severity,
        region: &ticket.region,
        channel: &ticket.channel,
        product_line: &ticket.product_line,
        language: &ticket.language,
        customer: ticket.customer_id,
        advisor: ticket.assignee_id,
        measures,
    })
}

/// The closed tickets of the periods `first` to `last` (`yyyymm` or `yyyymmdd`) from the
/// totals, of one kind of `person` or of the dimensions.
async fn totals_rows(
    snapshot: &mut Transaction<'static, Any>,
    query: &ComplianceQuery<'_>,
    counted: Counted,
    totals: Totals,
    person: Option<Person>,
    (first, last): (i64, i64),
) -> Result<Vec<ComplianceRow>, StoreError> {
    let period = totals.period();
    let groups: Vec<String> = query
        .by
        .iter()
        .map(|dimension| match dimension {
            Dimension::Month if period == "day" => "day / 100".to_string(),
            Dimension::Month => "month".to_string(),
            // Per person, 0 is no advisor assigned: none, as on the tickets.
            Dimension::Advisor | Dimension::Customer => "NULLIF(person_id, 0)".to_string(),
            other => other.name().to_string(),
        })
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
    // Every ticket of the totals is closed.
    selected.extend(activity_selection(&sum("tickets"), "0"));
    counted.leave_out_clocks(&mut selected);
    sql.push(&selected.join(", "))
        .push(" FROM ")
        .push(totals.table())
        .push(" WHERE ")
        .push(period)
        .push(" >= ")
        .bind_i64(first)
        .push(" AND ")
        .push(period)
        .push(" <= ")
        .bind_i64(last);
    match person {
        Some(person) => {
            sql.push(" AND person_kind = ").bind_text(person.kind());
            let id = match person {
                Person::Advisor => query.filter.advisor,
                Person::Customer => query.filter.customer,
            };
            if let Some(id) = id {
                sql.push(" AND person_id = ").bind_i64(id);
            }
            if matches!(
                totals,
                Totals::PeopleDetailMonths | Totals::PeopleDetailDays
            ) {
                push_filter(&mut sql, query.filter);
            } else if let Some(severity) = &query.filter.severity {
                sql.push(" AND severity = ").bind_text(severity);
            }
        }
        None => push_filter(&mut sql, query.filter),
    }
    if !groups.is_empty() {
        sql.push(" GROUP BY ").push(&groups.join(", "));
    }
    let found = sql.fetch_all(&mut **snapshot).await?;
    found.iter().map(|row| row_of(row, query.by)).collect()
}

/// Midnight at the start of `date`, in UTC.
pub(crate) fn start_of(date: Date) -> Timestamp {
    jiff::tz::TimeZone::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .unwrap_or(Timestamp::MAX)
}

/// The clock a list of breaches is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreachedClock {
    FirstResponse,
    Updates,
    Resolution,
}

impl BreachedClock {
    pub const ALL: [BreachedClock; 3] = [
        BreachedClock::FirstResponse,
        BreachedClock::Updates,
        BreachedClock::Resolution,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BreachedClock::FirstResponse => "first_response",
            BreachedClock::Updates => "updates",
            BreachedClock::Resolution => "resolution",
        }
    }

    /// The ticket row's condition: a breach on record (open or closed) or a missed update.
    fn condition(self) -> &'static str {
        match self {
            BreachedClock::FirstResponse => "first_response_outcome IN (2, 4)",
            BreachedClock::Updates => "updates_late > 0",
            BreachedClock::Resolution => "resolution_outcome IN (2, 4)",
        }
    }
}

/// Any breach on record: the condition of the index `tickets_breached_opened`, written as
/// it is there so that both databases see the index serves the query.
const ANY_BREACH: &str =
    "(first_response_outcome IN (2, 4) OR resolution_outcome IN (2, 4) OR updates_late > 0)";

/// A page of the tickets with a breach on record, opened from `first_day` to `last_day` (UTC
/// days, both included), those of `filter`, of one clock or any: the newest first, from
/// `offset`, at most `limit`.
#[derive(Clone, Copy, Debug)]
pub struct BreachQuery<'a> {
    pub first_day: Date,
    pub last_day: Date,
    pub filter: &'a ReportFilter,
    pub clock: Option<BreachedClock>,
    pub offset: i64,
    pub limit: i64,
}

/// A ticket with a breach on record, with the measures stored beside it.
#[derive(Clone, Debug)]
pub struct BreachedTicket {
    pub ticket: TicketRecord,
    pub first_response: ClockMeasure,
    pub resolution: ClockMeasure,
    pub updates_owed: u32,
    pub updates_late: u32,
    pub paused_minutes: u64,
}

impl Store {
    /// The tickets `query` lists.
    pub async fn breached_tickets(
        &self,
        query: &BreachQuery<'_>,
    ) -> Result<Vec<BreachedTicket>, StoreError> {
        let from = start_of(query.first_day);
        let to = query.last_day.tomorrow().map_or(Timestamp::MAX, start_of);
        let mut sql = SqlBuilder::new(&format!(
            "SELECT {TICKET_COLUMNS}, first_response_outcome, first_response_target, \
             first_response_used, resolution_outcome, resolution_target, resolution_used, \
             updates_owed, updates_late, paused_minutes \
             FROM tickets WHERE {ANY_BREACH} AND opened_at >= "
        ));
        sql.bind_i64(seconds(from))
            .push(" AND opened_at < ")
            .bind_i64(seconds(to));
        if let Some(clock) = query.clock {
            sql.push(" AND ").push(clock.condition());
        }
        push_filter(&mut sql, query.filter);
        if let Some(advisor) = query.filter.advisor {
            sql.push(" AND assignee_id = ").bind_i64(advisor);
        }
        if let Some(customer) = query.filter.customer {
            sql.push(" AND customer_id = ").bind_i64(customer);
        }
        sql.push(" ORDER BY opened_at DESC, id DESC LIMIT ")
            .bind_i64(query.limit)
            .push(" OFFSET ")
            .bind_i64(query.offset);
        let rows = sql.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let number = |column: &str| -> Result<u64, StoreError> {
                    Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
                };
                let clock = |name: &str| -> Result<ClockMeasure, StoreError> {
                    Ok(ClockMeasure {
                        outcome: Outcome::of_code(row.try_get(format!("{name}_outcome").as_str())?),
                        target_minutes: number(&format!("{name}_target"))?,
                        used_minutes: number(&format!("{name}_used"))?,
                    })
                };
                Ok(BreachedTicket {
                    ticket: ticket_of(row)?,
                    first_response: clock("first_response")?,
                    resolution: clock("resolution")?,
                    updates_owed: u32::try_from(number("updates_owed")?).unwrap_or(u32::MAX),
                    updates_late: u32::try_from(number("updates_late")?).unwrap_or(u32::MAX),
                    paused_minutes: number("paused_minutes")?,
                })
            })
            .collect()
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

/// What a report selects of the tickets' activity, in the order of [`ActivityTally`]'s
/// fields, given how it counts the closed tickets and the escalated ones still open.
fn activity_selection(closed: &str, escalated_open: &str) -> Vec<String> {
    let sum = |column: &str| format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)");
    let mut selected = vec![closed.to_string()];
    for column in ACTIVITY_COLUMNS {
        selected.push(sum(column));
        if column == "escalated_resolved" {
            selected.push(escalated_open.to_string());
        }
    }
    selected
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
pub(crate) fn push_filter(sql: &mut SqlBuilder, filter: &ReportFilter) {
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
    let activity = ActivityTally {
        closed: next()?,
        escalations_asked: next()?,
        escalations_automatic: next()?,
        escalations_answered: next()?,
        escalated: next()?,
        escalated_resolved: next()?,
        escalated_open: next()?,
        proposals: next()?,
        proposals_accepted: next()?,
        proposals_rejected: next()?,
        proposals_unanswered: next()?,
        outside_support: next()?,
        services_requested: next()?,
        waiting_minutes: next()?,
    };
    Ok(ComplianceRow {
        group,
        tickets,
        first_response,
        updates,
        resolution,
        paused_minutes,
        activity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        text.parse().unwrap_or_else(|_| panic!("{text}"))
    }

    #[test]
    fn a_period_reads_its_whole_months_and_the_days_around_them() {
        assert_eq!(
            Period::of(day("2026-01-01"), day("2026-03-31")),
            Period {
                months: Some((202601, 202603)),
                days: vec![],
            }
        );
        assert_eq!(
            Period::of(day("2025-12-15"), day("2026-02-09")),
            Period {
                months: Some((202601, 202601)),
                days: vec![(20251215, 20251231), (20260201, 20260209)],
            }
        );
        assert_eq!(
            Period::of(day("2026-01-15"), day("2026-02-09")),
            Period {
                months: None,
                days: vec![(20260115, 20260209)],
            }
        );
        assert_eq!(
            Period::of(day("2026-01-02"), day("2026-01-31")),
            Period {
                months: None,
                days: vec![(20260102, 20260131)],
            }
        );
        // February of a leap year ends on the 29th.
        assert_eq!(
            Period::of(day("2028-02-01"), day("2028-02-29")),
            Period {
                months: Some((202802, 202802)),
                days: vec![],
            }
        );
        assert_eq!(
            Period::of(day("2026-03-05"), day("2026-03-05")),
            Period {
                months: None,
                days: vec![(20260305, 20260305)],
            }
        );
    }

    #[test]
    fn a_report_reads_the_totals_it_can() {
        let none = ReportFilter::default();
        let of_customer = ReportFilter {
            customer: Some(7),
            ..ReportFilter::default()
        };
        let gold = ReportFilter {
            program: Some("gold".into()),
            ..ReportFilter::default()
        };
        use Dimension::{Advisor, Channel, Customer, Month, Severity};
        assert_eq!(Source::of(&none, &[Month, Severity]), Source::Dimensions);
        assert_eq!(Source::of(&gold, &[]), Source::Dimensions);
        assert_eq!(
            Source::of(&none, &[Advisor]),
            Source::People(Person::Advisor)
        );
        assert_eq!(
            Source::of(&of_customer, &[Month]),
            Source::People(Person::Customer)
        );
        assert_eq!(
            Source::of(&of_customer, &[Severity]),
            Source::People(Person::Customer)
        );
        assert_eq!(
            Source::of(&of_customer, &[Channel]),
            Source::PeopleDetail(Person::Customer)
        );
        assert_eq!(
            Source::of(&gold, &[Customer]),
            Source::PeopleDetail(Person::Customer)
        );
        assert_eq!(Source::of(&of_customer, &[Advisor]), Source::Tickets);
    }

    #[test]
    fn the_totals_count_what_the_ticket_rows_hold() {
        let values = measure_values(&measures());
        let counts = counts_of(&values);
        assert_eq!(TOTAL_COUNTS.len(), counts.len());
        let count = |name: &str| {
            let index = TOTAL_COUNTS.iter().position(|column| column == name);
            counts[index.unwrap_or_else(|| panic!("{name}"))]
        };
        assert_eq!(count("tickets"), 1);
        assert_eq!(count("first_response_met"), 1);
        // 30 of 120 minutes: the band of 20–30%.
        assert_eq!(count("first_response_b2"), 1);
        assert_eq!(count("resolution_breached"), 1);
        assert_eq!(count("resolution_b11"), 0);
        assert_eq!(count("resolution_b10"), 1);
        assert_eq!(count("updates_b0"), 0);
        assert_eq!(count("escalations_asked"), 2);
        assert_eq!(count("ever_escalated"), 1);
        assert_eq!(count("waiting_minutes"), 95);
        assert_eq!(values[column("measures_version")], Some(MEASURES_VERSION));
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
            activity: caredesk_domain::report::TicketActivity {
                escalations_asked: 2,
                escalated: true,
                waiting_minutes: 95,
                ..Default::default()
            },
        }
    }
}
