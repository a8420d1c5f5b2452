//! Reports: what was promised and what was kept.
//!
//! A compliance report counts the tickets opened in a period (dates in UTC, both ends
//! included), those a filter keeps, broken down by the dimensions asked for, and says for
//! each clock how many were met, breached, and are still open within or past their target,
//! with the business time used against the target. Who may read what:
//!
//! - support managers and administrators (and the operator at the command line): any report;
//! - a customer success manager: the reports of the customers they are the CSM of;
//! - an advisor: their own tickets;
//! - a customer's contact: their organisation's tickets, not broken down by advisor.

use caredesk_domain::report::{
    ClockSummary, ComplianceRow, Dimension, ReportFilter, ShareOfTarget,
};
use caredesk_domain::ticket::Role;
use caredesk_store::ComplianceQuery;
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
    let today = TimeZone::UTC.to_datetime(now).date();
    let to = request.to.unwrap_or(today);
    let from = match request.from {
        Some(from) => from,
        None => to
            .checked_sub(jiff::Span::new().days(30))
            .map_err(|_| DeskError::invalid("to", "this date is out of range"))?,
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
    problems.extend(unknown_names(desk, &request.filter));
    if !problems.is_empty() {
        return Err(DeskError::Invalid(problems));
    }
    let filter = readable_by(desk, caller, request.filter, &request.by).await?;
    let out_of_range = |field: &str| DeskError::invalid(field, "this date is out of range");
    // Both ends must be instants the store can compare with tickets' openings.
    midnight(from).map_err(|_| out_of_range("from"))?;
    to.tomorrow()
        .ok()
        .and_then(|day| midnight(day).ok())
        .ok_or_else(|| out_of_range("to"))?;
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

fn midnight(date: Date) -> Result<jiff::Timestamp, DeskError> {
    TimeZone::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .map_err(DeskError::unexpected)
}

/// The filter's names the policy does not know, each with those it does.
fn unknown_names(desk: &Desk, filter: &ReportFilter) -> Vec<FieldProblem> {
    let policy = &desk.policy;
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
async fn readable_by(
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
        .measure_earlier_tickets(&desk.policy, desk.clock.now(), batch)
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
        let quoted: Vec<String> = fields
            .iter()
            .map(|field| crate::audit::quote(field))
            .collect();
        csv.push_str(&quoted.join(","));
        csv.push_str("\r\n");
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
