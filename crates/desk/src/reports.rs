//! Reports: what was promised and what was kept.
//!
//! A compliance report counts the tickets opened in a period (dates in UTC, both ends
//! included), those a filter keeps, broken down by the dimensions asked for, and says for
//! each clock how many were met, breached, and are still open within or past their target,
//! with the business time used against the target. The breaches of the same period and
//! filter are listed a page at a time, each ticket with the business time its clocks used and
//! the time its resolution clock stood still, by cause. Who may read what (both alike):
//!
//! - support managers and administrators (and the operator at the command line): any report;
//! - a customer success manager: the reports of the customers they are the CSM of;
//! - an advisor: their own tickets;
//! - a customer's contact: their organisation's tickets, not broken down by advisor.

use caredesk_domain::report::Outcome;
use caredesk_domain::report::{
    ClockSummary, ComplianceRow, Dimension, ReportFilter, ShareOfTarget,
};
use caredesk_domain::ticket::Role;
use caredesk_domain::ticket::clocks::{ClockContext, PauseCause, resolution_pauses};
use caredesk_store::{
    BreachQuery, BreachedClock, BreachedTicket as BreachedRow, ComplianceQuery, Scope,
};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::{Caller, Desk, DeskError, FieldProblem};

/// The longest period one report covers.
const LONGEST_PERIOD_DAYS: i32 = 3700;

/// What a compliance report is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComplianceRequest {
    /// The first day of the period; by default 30 days before `to`.
    pub from: Option<Date>,
    /// The last day of the period (included); by default today (UTC).
    pub to: Option<Date>,
    pub filter: ReportFilter,
    pub by: Vec<Dimension>,
}

/// A compliance report, as computed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComplianceReport {
    /// The first day of the period (UTC).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: Date,
    /// The last day of the period, included.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub to: Date,
    pub generated_at: jiff::Timestamp,
    /// What each line's `group` holds, in order.
    pub by: Vec<Dimension>,
    /// The tickets counted (a customer's own, an advisor's own, as the reader may see).
    pub filter: ReportFilter,
    /// One line per group, in the groups' order.
    pub lines: Vec<ReportLine>,
    /// Every line added up.
    pub total: ReportLine,
}

/// One group of a report: its tickets and how each clock fared.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportLine {
    /// One value per dimension of `by` (a month as `2026-11`, an advisor or a customer by
    /// id, `none` for tickets nobody is assigned).
    pub group: Vec<String>,
    /// The same values as a reader names them (an advisor's or a customer's name).
    pub labels: Vec<String>,
    /// Tickets opened in the period.
    pub tickets: u64,
    pub first_response: ClockSummary,
    /// Counted per update owed.
    pub updates: ClockSummary,
    pub resolution: ClockSummary,
    /// Business minutes the resolution clocks stood still (waiting on the customer, a
    /// proposal awaiting an answer, outside support).
    pub paused_minutes: u64,
}

impl ReportLine {
    fn of(row: &ComplianceRow, labels: Vec<String>) -> ReportLine {
        ReportLine {
            group: row.group.clone(),
            labels,
            tickets: row.tickets,
            first_response: ClockSummary::from(&row.first_response),
            updates: ClockSummary::from(&row.updates),
            resolution: ClockSummary::from(&row.resolution),
            paused_minutes: row.paused_minutes,
        }
    }
}

/// The compliance report `request` asks for, as `caller` may read it.
pub async fn compliance(
    desk: &Desk,
    caller: &Caller,
    request: ComplianceRequest,
) -> Result<ComplianceReport, DeskError> {
    let now = desk.clock.now();
    let (from, to) = checked_period(desk, now, request.from, request.to, &request.filter)?;
    let filter = readable_by(desk, caller, request.filter, &request.by).await?;
    let rows = desk
        .store
        .compliance(&ComplianceQuery {
            first_day: from,
            last_day: to,
            now,
            filter: &filter,
            by: &request.by,
        })
        .await?;
    let mut total = ComplianceRow::default();
    for row in &rows {
        total.add(row);
    }
    let labels = labels_of(desk, &rows, &request.by).await?;
    let lines = rows
        .iter()
        .zip(labels)
        .map(|(row, labels)| ReportLine::of(row, labels))
        .collect();
    Ok(ComplianceReport {
        from,
        to,
        generated_at: now,
        by: request.by,
        filter,
        lines,
        total: ReportLine::of(&total, Vec::new()),
    })
}

/// The tickets a list of breaches shows per page.
pub const BREACHES_PER_PAGE: u32 = 50;

/// What a list of breaches is asked for: the period and filter of a compliance report, one
/// clock or any, and the page (from 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BreachesRequest {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub filter: ReportFilter,
    pub clock: Option<BreachedClock>,
    pub page: Option<u32>,
}

/// The tickets of a period with a breach on record, each with why: the business time its
/// clocks used against their targets and the time its resolution clock stood still, by
/// cause.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreachList {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub to: Date,
    pub generated_at: jiff::Timestamp,
    pub filter: ReportFilter,
    /// The clock asked for; none: any.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub clock: Option<BreachedClock>,
    pub page: u32,
    /// Whether a next page holds more.
    pub more: bool,
    /// The newest opened first.
    pub tickets: Vec<BreachedTicket>,
}

/// One ticket with a breach on record.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreachedTicket {
    pub id: i64,
    pub subject: String,
    pub customer_id: i64,
    pub customer: String,
    pub program: String,
    pub severity: String,
    pub region: String,
    pub advisor_id: Option<i64>,
    pub advisor: Option<String>,
    pub opened_at: jiff::Timestamp,
    pub closed_at: Option<jiff::Timestamp>,
    /// The clocks with a breach on record: `first_response`, `updates`, `resolution`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub breached: Vec<BreachedClock>,
    pub first_response: ClockUse,
    /// None for a severity without a resolution target.
    pub resolution: Option<ClockUse>,
    pub updates_owed: u32,
    pub updates_missed: u32,
    /// Business minutes the resolution clock stood still, in all and by cause.
    pub paused_minutes: u64,
    pub paused: Vec<PausedTime>,
}

/// How much business time a clock used against its target (until it stopped, the ticket
/// closed, or now).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ClockUse {
    pub target_minutes: u64,
    pub used_minutes: u64,
    pub breached: bool,
}

/// Business time a resolution clock stood still for one cause: `waiting_for_information`,
/// `waiting_for_remote_access`, `waiting_for_test_in_development`, `proposal_rejected`,
/// `fix_not_shipped`, `outside_support`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PausedTime {
    pub cause: String,
    pub minutes: u64,
}

/// The breaches `request` lists, as `caller` may read them (the same tickets as their
/// compliance report).
pub async fn breaches(
    desk: &Desk,
    caller: &Caller,
    request: BreachesRequest,
) -> Result<BreachList, DeskError> {
    let now = desk.clock.now();
    let (from, to) = checked_period(desk, now, request.from, request.to, &request.filter)?;
    let page = request.page.unwrap_or(1);
    if page == 0 || page > 10_000 {
        return Err(DeskError::invalid("page", "a page is from 1 to 10000"));
    }
    let filter = readable_by(desk, caller, request.filter, &[]).await?;
    let per_page = i64::from(BREACHES_PER_PAGE);
    let mut found = desk
        .store
        .breached_tickets(&BreachQuery {
            first_day: from,
            last_day: to,
            filter: &filter,
            clock: request.clock,
            offset: i64::from(page - 1) * per_page,
            limit: per_page + 1,
        })
        .await?;
    let more = found.len() > BREACHES_PER_PAGE as usize;
    found.truncate(BREACHES_PER_PAGE as usize);
    let staff = desk.store.staff().await?;
    let customers = desk.store.customers().await?;
    // A customer's report is not about advisors: it names none.
    let names_advisors = !matches!(caller, Caller::Contact { .. });
    let mut tickets = Vec::with_capacity(found.len());
    for row in found {
        let BreachedRow {
            ticket,
            first_response,
            resolution,
            updates_owed,
            updates_late,
            paused_minutes,
        } = row;
        // What was breached and how much time was used are the measures stored with the
        // ticket (the list is chosen by them); the causes of its pauses come from its
        // timeline, and a ticket the policy no longer fits is listed without them.
        let events = desk.store.timeline(ticket.id, Scope::All).await?;
        let context = ClockContext {
            program: &ticket.program,
            region: &ticket.region,
            product_line: &ticket.product_line,
        };
        let at = ticket.closed_at.unwrap_or(now);
        let paused = resolution_pauses(&desk.policy(), &context, &events, at).unwrap_or_else(|error| {
            tracing::warn!(ticket = ticket.id, %error, "the causes of a ticket's pauses could not be told");
            Vec::new()
        });
        let is_breached =
            |outcome: Outcome| matches!(outcome, Outcome::Breached | Outcome::OpenBreached);
        let breached = BreachedClock::ALL
            .into_iter()
            .filter(|clock| match clock {
                BreachedClock::FirstResponse => is_breached(first_response.outcome),
                BreachedClock::Updates => updates_late > 0,
                BreachedClock::Resolution => is_breached(resolution.outcome),
            })
            .collect();
        let clock_use = |measure: &caredesk_domain::report::ClockMeasure| ClockUse {
            target_minutes: measure.target_minutes,
            used_minutes: measure.used_minutes,
            breached: is_breached(measure.outcome),
        };
        let advisor_id = ticket.assignee_id.filter(|_| names_advisors);
        tickets.push(BreachedTicket {
            id: ticket.id,
            customer: customers
                .iter()
                .find(|customer| customer.id == ticket.customer_id)
                .map_or_else(
                    || ticket.customer_id.to_string(),
                    |customer| customer.name.clone(),
                ),
            customer_id: ticket.customer_id,
            advisor: advisor_id.and_then(|id| {
                staff
                    .iter()
                    .find(|member| member.id == id)
                    .map(|member| member.name.clone())
            }),
            advisor_id,
            subject: ticket.subject,
            program: ticket.program,
            severity: ticket.severity,
            region: ticket.region,
            opened_at: ticket.opened_at,
            closed_at: ticket.closed_at,
            breached,
            first_response: clock_use(&first_response),
            resolution: (resolution.outcome != Outcome::NotMeasured)
                .then(|| clock_use(&resolution)),
            updates_owed,
            updates_missed: updates_late,
            paused_minutes,
            paused: paused
                .into_iter()
                .map(|(cause, minutes)| PausedTime {
                    cause: cause.code().to_string(),
                    minutes,
                })
                .collect(),
        });
    }
    Ok(BreachList {
        from,
        to,
        generated_at: now,
        filter,
        clock: request.clock,
        page,
        more,
        tickets,
    })
}

/// Adds one CSV line of `fields`, each quoted as needed.
pub(crate) fn push_csv_line(csv: &mut String, fields: &[String]) {
    let quoted: Vec<String> = fields
        .iter()
        .map(|field| crate::audit::quote(field))
        .collect();
    csv.push_str(&quoted.join(","));
    csv.push_str("\r\n");
}

/// A page of breaches as CSV: one line per ticket, its clocks' targets and business time
/// used, and the minutes its resolution clock stood still, in all and per cause.
pub fn breaches_as_csv(list: &BreachList) -> String {
    let mut header: Vec<String> = [
        "ticket",
        "subject",
        "customer_id",
        "customer",
        "program",
        "severity",
        "region",
        "advisor_id",
        "advisor",
        "opened_at",
        "closed_at",
        "breached",
        "first_response_target_minutes",
        "first_response_used_minutes",
        "resolution_target_minutes",
        "resolution_used_minutes",
        "updates_owed",
        "updates_missed",
        "paused_minutes",
    ]
    .map(String::from)
    .to_vec();
    let causes = PauseCause::RESOLUTION.map(PauseCause::code);
    header.extend(causes.iter().map(|cause| format!("paused_{cause}_minutes")));
    let mut csv = header.join(",");
    csv.push_str("\r\n");
    for ticket in &list.tickets {
        let mut fields = vec![
            ticket.id.to_string(),
            ticket.subject.clone(),
            ticket.customer_id.to_string(),
            ticket.customer.clone(),
            ticket.program.clone(),
            ticket.severity.clone(),
            ticket.region.clone(),
            ticket
                .advisor_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            ticket.advisor.clone().unwrap_or_default(),
            ticket.opened_at.to_string(),
            ticket
                .closed_at
                .map(|at| at.to_string())
                .unwrap_or_default(),
            ticket
                .breached
                .iter()
                .map(|clock| clock.name())
                .collect::<Vec<_>>()
                .join(" "),
            ticket.first_response.target_minutes.to_string(),
            ticket.first_response.used_minutes.to_string(),
            ticket
                .resolution
                .map(|clock| clock.target_minutes.to_string())
                .unwrap_or_default(),
            ticket
                .resolution
                .map(|clock| clock.used_minutes.to_string())
                .unwrap_or_default(),
            ticket.updates_owed.to_string(),
            ticket.updates_missed.to_string(),
            ticket.paused_minutes.to_string(),
        ];
        fields.extend(causes.iter().map(|cause| {
            ticket
                .paused
                .iter()
                .filter(|paused| paused.cause == *cause)
                .map(|paused| paused.minutes)
                .sum::<u64>()
                .to_string()
        }));
        push_csv_line(&mut csv, &fields);
    }
    csv
}

/// The period a report asks for (by default the 30 days up to today, UTC), checked with
/// the filter's names: every problem at once.
pub(crate) fn checked_period(
    desk: &Desk,
    now: jiff::Timestamp,
    from: Option<Date>,
    to: Option<Date>,
    filter: &ReportFilter,
) -> Result<(Date, Date), DeskError> {
    let out_of_range = |field: &str| DeskError::invalid(field, "this date is out of range");
    let today = TimeZone::UTC.to_datetime(now).date();
    let to = to.unwrap_or(today);
    let from = match from {
        Some(from) => from,
        None => to
            .checked_sub(jiff::Span::new().days(30))
            .map_err(|_| out_of_range("to"))?,
    };
    let mut problems = Vec::new();
    if from > to {
        problems.push(FieldProblem::of(
            "from",
            caredesk_domain::reason::Reason::invalid(format!(
                "the period starts after it ends ({from} is after {to})"
            )),
        ));
    } else if (to - from).get_days() > LONGEST_PERIOD_DAYS {
        problems.push(FieldProblem::of(
            "from",
            caredesk_domain::reason::Reason::invalid(format!(
                "a report covers at most {LONGEST_PERIOD_DAYS} days"
            )),
        ));
    }
    problems.extend(unknown_names(desk, filter));
    for (field, id) in [("advisor", filter.advisor), ("customer", filter.customer)] {
        if id.is_some_and(|id| id <= 0) {
            problems.push(FieldProblem::of(
                field,
                caredesk_domain::reason::Reason::invalid("an id is a number from 1"),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(DeskError::Invalid(problems));
    }
    // Both ends must be instants the store can compare with tickets' openings.
    midnight(from).map_err(|_| out_of_range("from"))?;
    to.tomorrow()
        .ok()
        .and_then(|day| midnight(day).ok())
        .ok_or_else(|| out_of_range("to"))?;
    Ok((from, to))
}

/// The instant day `date` starts in UTC.
pub(crate) fn midnight(date: Date) -> Result<jiff::Timestamp, DeskError> {
    TimeZone::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .map_err(DeskError::unexpected)
}

/// The filter's names the policy does not know, each with those it does.
fn unknown_names(desk: &Desk, filter: &ReportFilter) -> Vec<FieldProblem> {
    let policy = &desk.policy();
    let checks: [(&str, &Option<String>, Vec<&String>); 6] = [
        ("program", &filter.program, policy.programs.keys().collect()),
        (
            "severity",
            &filter.severity,
            policy.severities.keys().collect(),
        ),
        ("region", &filter.region, policy.regions.keys().collect()),
        ("channel", &filter.channel, policy.channels.keys().collect()),
        (
            "product_line",
            &filter.product_line,
            policy.product_lines.keys().collect(),
        ),
        (
            "language",
            &filter.language,
            policy.languages.supported.iter().collect(),
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(field, given, known)| {
            let given = given.as_ref()?;
            (!known.contains(&given)).then(|| {
                FieldProblem::of(
                    field,
                    caredesk_domain::reason::Reason::invalid(format!(
                        "\"{given}\" is not in the policy; known: {}",
                        known
                            .iter()
                            .map(|name| name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                )
            })
        })
        .collect()
}

/// The filter as `caller` may apply it: a contact's and an advisor's narrowed to their own
/// tickets, a CSM's held to their customers.
pub(crate) async fn readable_by(
    desk: &Desk,
    caller: &Caller,
    mut filter: ReportFilter,
    by: &[Dimension],
) -> Result<ReportFilter, DeskError> {
    match *caller {
        Caller::System => {}
        Caller::Contact { customer_id, .. } => {
            if filter.customer.is_some_and(|asked| asked != customer_id) {
                return Err(DeskError::NotFound);
            }
            if by.contains(&Dimension::Advisor) || filter.advisor.is_some() {
                return Err(DeskError::Forbidden(
                    "a customer's report is not broken down by advisor".into(),
                ));
            }
            filter.customer = Some(customer_id);
        }
        Caller::Staff { id, role } => match role {
            Role::SupportManager | Role::Admin => {}
            Role::Advisor => {
                if filter.advisor.is_some_and(|asked| asked != id) {
                    return Err(DeskError::Forbidden(
                        "an advisor reads the reports of their own tickets".into(),
                    ));
                }
                filter.advisor = Some(id);
            }
            Role::CustomerSuccessManager => {
                let Some(customer) = filter.customer else {
                    return Err(DeskError::Forbidden(
                        "a customer success manager reads the reports of their customers: give customer"
                            .into(),
                    ));
                };
                let cared = desk
                    .store
                    .customer(customer)
                    .await
                    .map_err(DeskError::from)?;
                if cared.csm_id != Some(id) {
                    return Err(DeskError::Forbidden(
                        "you are not this customer's success manager".into(),
                    ));
                }
            }
            Role::CustomerContact => return Err(DeskError::NotFound),
        },
    }
    Ok(filter)
}

/// Each row's group values as a reader names them: advisors and customers by name.
async fn labels_of(
    desk: &Desk,
    rows: &[ComplianceRow],
    by: &[Dimension],
) -> Result<Vec<Vec<String>>, DeskError> {
    let names_people = by.contains(&Dimension::Advisor);
    let names_customers = by.contains(&Dimension::Customer);
    let staff = if names_people {
        desk.store.staff().await?
    } else {
        Vec::new()
    };
    let customers = if names_customers {
        desk.store.customers().await?
    } else {
        Vec::new()
    };
    Ok(rows
        .iter()
        .map(|row| {
            by.iter()
                .zip(&row.group)
                .map(|(dimension, value)| match dimension {
                    Dimension::Advisor => staff
                        .iter()
                        .find(|member| member.id.to_string() == *value)
                        .map_or_else(|| value.clone(), |member| member.name.clone()),
                    Dimension::Customer => customers
                        .iter()
                        .find(|customer| customer.id.to_string() == *value)
                        .map_or_else(|| value.clone(), |customer| customer.name.clone()),
                    _ => value.clone(),
                })
                .collect()
        })
        .collect())
}

/// Measures up to `batch` tickets written before reports kept measures beside each ticket
/// (the desk's job does it a batch at a time until none is left); returns how many.
pub async fn measure_earlier_tickets(desk: &Desk, batch: i64) -> Result<usize, DeskError> {
    Ok(desk
        .store
        .measure_earlier_tickets(&desk.policy(), desk.clock.now(), batch)
        .await?)
}

/// A compliance report as CSV: one line per group (and a last line for all), the groups'
/// values and names, then each clock's counts, share met and business time used.
pub fn as_csv(report: &ComplianceReport) -> String {
    let mut header: Vec<String> = Vec::new();
    for dimension in &report.by {
        header.push(dimension.name().to_string());
        if matches!(dimension, Dimension::Advisor | Dimension::Customer) {
            header.push(format!("{}_name", dimension.name()));
        }
    }
    header.push("tickets".into());
    for clock in ["first_response", "updates", "resolution"] {
        for column in [
            "measured",
            "met",
            "breached",
            "open_within",
            "open_past",
            "met_percent",
            "median_used_percent",
            "p90_used_percent",
        ] {
            header.push(format!("{clock}_{column}"));
        }
    }
    header.push("paused_minutes".into());
    let mut csv = header.join(",");
    csv.push_str("\r\n");
    let share = |share: Option<ShareOfTarget>| match share {
        Some(ShareOfTarget::About(percent)) => percent.to_string(),
        Some(ShareOfTarget::OverTwice) => ">200".to_string(),
        None => String::new(),
    };
    let all = vec!["all".to_string(); report.by.len()];
    for (line, is_total) in report
        .lines
        .iter()
        .map(|line| (line, false))
        .chain(std::iter::once((&report.total, true)))
    {
        let mut fields: Vec<String> = Vec::new();
        let group = if is_total { &all } else { &line.group };
        for (index, dimension) in report.by.iter().enumerate() {
            fields.push(group.get(index).cloned().unwrap_or_default());
            if matches!(dimension, Dimension::Advisor | Dimension::Customer) {
                fields.push(line.labels.get(index).cloned().unwrap_or_default());
            }
        }
        fields.push(line.tickets.to_string());
        for clock in [&line.first_response, &line.updates, &line.resolution] {
            fields.extend([
                clock.measured.to_string(),
                clock.met.to_string(),
                clock.breached.to_string(),
                clock.open_within.to_string(),
                clock.open_past.to_string(),
                clock
                    .met_percent
                    .map(|percent| format!("{percent:.1}"))
                    .unwrap_or_default(),
                share(clock.median_used),
                share(clock.p90_used),
            ]);
        }
        fields.push(line.paused_minutes.to_string());
        push_csv_line(&mut csv, &fields);
    }
    csv
}

/// The managers' dashboard: this week's compliance (Monday to today, UTC) and how the desk
/// stands now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dashboard {
    pub week: ComplianceReport,
    pub now: caredesk_store::DeskNow,
}

/// The dashboard, for support managers and administrators.
pub async fn dashboard(desk: &Desk, caller: &Caller) -> Result<Dashboard, DeskError> {
    caller.require_role(&[Role::SupportManager, Role::Admin])?;
    let now = desk.clock.now();
    let today = TimeZone::UTC.to_datetime(now).date();
    let monday = today
        .checked_sub(jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset())))
        .map_err(DeskError::unexpected)?;
    let week = compliance(
        desk,
        caller,
        ComplianceRequest {
            from: Some(monday),
            to: Some(today),
            ..ComplianceRequest::default()
        },
    )
    .await?;
    let now = desk.store.desk_now(now, midnight(today)?).await?;
    Ok(Dashboard { week, now })
}
