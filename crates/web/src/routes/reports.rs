//! Reports over the API: what the policy promised and what was kept, as JSON or CSV.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use caredesk_desk::people::{self, PeoplePart, PeopleReport, PeopleRequest};
use caredesk_desk::policy_versions::{PolicyHistory, policy_history, stored_version};
use caredesk_desk::replay::{ReplayReport, ReplayRequest, replay, replay_as_csv};
use caredesk_desk::reports::{
    self, BreachList, BreachesRequest, ComplianceReport, ComplianceRequest,
};
use caredesk_desk::volume::{self, VolumePart, VolumeReport, VolumeRequest};
use caredesk_domain::report::{Dimension, ReportFilter, Span};
use caredesk_store::BreachedClock;
use jiff::civil::Date;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Principal;
use crate::download::csv_attachment;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sla_report))
        .routes(routes!(breaches_report))
        .routes(routes!(volume_report))
        .routes(routes!(people_report))
        .routes(routes!(replay_report))
        .routes(routes!(policy_versions))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SlaQuery {
    /// The first day of the period (UTC); 30 days before `to` unless given.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<Date>,
    /// The last day of the period, included (UTC); today unless given.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<Date>,
    /// What to break the report down by, comma-separated: month, program, severity, region,
    /// channel, product_line, language, advisor, customer.
    by: Option<String>,
    program: Option<String>,
    severity: Option<String>,
    region: Option<String>,
    channel: Option<String>,
    product_line: Option<String>,
    language: Option<String>,
    /// An advisor's id: their tickets only.
    advisor: Option<i64>,
    /// A customer's id: its tickets only.
    customer: Option<i64>,
    /// `json` (the default, also when empty) or `csv`.
    #[param(pattern = "^(json|csv)?$")]
    format: Option<String>,
}

/// SLA compliance of the tickets opened in a period: for each clock (first response, status
/// updates, resolution), how many were met, breached, and are still open within or past
/// their target, the share met, and the business time the median and the 90th percentile
/// used against the target; broken down as asked. Support managers and administrators read
/// any report, a customer success manager their customers', an advisor their own tickets',
/// a customer's contact their organisation's.
#[utoipa::path(
    get,
    path = "/api/v1/reports/sla",
    tag = "reports",
    security(("bearer" = [])),
    params(SlaQuery),
    responses(
        (status = 200, description = "The report (JSON), or with format=csv one line per group and a last line for all",
            content((ComplianceReport = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a report the caller may read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad period, breakdown or filter", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn sla_report(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<SlaQuery>,
) -> Result<Response, ApiError> {
    let csv = match query.format.as_deref() {
        None | Some("" | "json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "json or csv")),
    };
    let by = Dimension::list(query.by.as_deref().unwrap_or(""))
        .map_err(|reason| ApiError::invalid("by", &reason))?;
    let request = ComplianceRequest {
        from: query.from,
        to: query.to,
        by,
        filter: ReportFilter {
            program: query.program,
            severity: query.severity,
            region: query.region,
            channel: query.channel,
            product_line: query.product_line,
            language: query.language,
            advisor: query.advisor,
            customer: query.customer,
        },
    };
    let report = reports::compliance(&state.desk(), &principal.caller(), request).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    Ok(csv_attachment(
        &format!("sla-{}-{}.csv", report.from, report.to),
        reports::as_csv(&report),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BreachesQuery {
    /// The first day of the period (UTC); 30 days before `to` unless given.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<Date>,
    /// The last day of the period, included (UTC); today unless given.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<Date>,
    /// One clock's breaches: first_response, updates or resolution; any when absent or empty.
    #[param(pattern = "^(first_response|updates|resolution)?$")]
    clock: Option<String>,
    program: Option<String>,
    severity: Option<String>,
    region: Option<String>,
    channel: Option<String>,
    product_line: Option<String>,
    language: Option<String>,
    /// An advisor's id: their tickets only.
    advisor: Option<i64>,
    /// A customer's id: its tickets only.
    customer: Option<i64>,
    /// The page, from 1 (50 tickets a page).
    #[param(minimum = 1, maximum = 10000)]
    page: Option<u32>,
    /// `json` (the default, also when empty) or `csv`.
    #[param(pattern = "^(json|csv)?$")]
    format: Option<String>,
}

/// The tickets opened in a period with a breach on record (of one clock or any), the
/// newest first, each with why: the business time its clocks used against their targets
/// and the business time its resolution clock stood still, by cause (waiting for
/// information, for remote access, for a test in the customer's development environment, a
/// rejected proposal, a release without the planned fix, outside support). The same
/// tickets as the caller's compliance report.
#[utoipa::path(
    get,
    path = "/api/v1/reports/breaches",
    tag = "reports",
    security(("bearer" = [])),
    params(BreachesQuery),
    responses(
        (status = 200, description = "A page of breaches (JSON), or with format=csv one line per ticket",
            content((BreachList = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a report the caller may read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad period, clock, page or filter", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn breaches_report(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<BreachesQuery>,
) -> Result<Response, ApiError> {
    let csv = match query.format.as_deref() {
        None | Some("" | "json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "json or csv")),
    };
    let clock = match query.clock.as_deref() {
        None | Some("") => None,
        Some(name) => Some(
            BreachedClock::ALL
                .into_iter()
                .find(|clock| clock.name() == name)
                .ok_or_else(|| {
                    ApiError::invalid("clock", "first_response, updates or resolution")
                })?,
        ),
    };
    let request = BreachesRequest {
        from: query.from,
        to: query.to,
        clock,
        page: query.page,
        filter: ReportFilter {
            program: query.program,
            severity: query.severity,
            region: query.region,
            channel: query.channel,
            product_line: query.product_line,
            language: query.language,
            advisor: query.advisor,
            customer: query.customer,
        },
    };
    let list = reports::breaches(&state.desk(), &principal.caller(), request).await?;
    if !csv {
        return Ok(Json(list).into_response());
    }
    Ok(csv_attachment(
        &format!("breaches-{}-{}-page-{}.csv", list.from, list.to, list.page),
        reports::breaches_as_csv(&list),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VolumeQuery {
    /// The first day of the period (UTC), widened to the start of its week or month; 30
    /// days before `to` unless given.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<Date>,
    /// The last day of the period (UTC), widened to the end of its week or month; today
    /// unless given.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<Date>,
    /// `week` (from Monday, UTC) or `month` (the default, also when empty).
    #[param(pattern = "^(week|month)?$")]
    span: Option<String>,
    /// What to break the report down by, comma-separated: program, severity, region,
    /// channel, product_line, language.
    by: Option<String>,
    program: Option<String>,
    severity: Option<String>,
    region: Option<String>,
    channel: Option<String>,
    product_line: Option<String>,
    language: Option<String>,
    /// An advisor's id: their tickets only.
    advisor: Option<i64>,
    /// A customer's id: its tickets only.
    customer: Option<i64>,
    /// `json` (the default, also when empty) or `csv`.
    #[param(pattern = "^(json|csv)?$")]
    format: Option<String>,
    /// With format=csv, the table: `flows` (the default: opened and closed per week or
    /// month; also when empty), `activity` (what happened to the tickets opened) or
    /// `backlog` (open tickets by age and state).
    #[param(pattern = "^(flows|activity|backlog)?$")]
    part: Option<String>,
}

/// Volume and backlog: the tickets opened and closed in each week or month of a period,
/// per group; what happened to the tickets opened in it (escalations asked by the customer
/// or raised by the desk on a breach and how they ended, proposals accepted, rejected or
/// left unanswered after reminders, problems outside support and professional-services
/// requests, the business time spent waiting on the customer); and the tickets open now by
/// age in business days and state. The same readers as the SLA report.
#[utoipa::path(
    get,
    path = "/api/v1/reports/volume",
    tag = "reports",
    security(("bearer" = [])),
    params(VolumeQuery),
    responses(
        (status = 200, description = "The report (JSON), or with format=csv one of its tables",
            content((VolumeReport = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a report the caller may read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad period, span, breakdown, filter or table", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn volume_report(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<VolumeQuery>,
) -> Result<Response, ApiError> {
    let csv = match query.format.as_deref() {
        None | Some("" | "json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "json or csv")),
    };
    let part = match query.part.as_deref() {
        None | Some("") => VolumePart::default(),
        Some(name) => VolumePart::parse(name)
            .ok_or_else(|| ApiError::invalid("part", "flows, activity or backlog"))?,
    };
    let span = match query.span.as_deref() {
        None | Some("") => Span::default(),
        Some(name) => {
            Span::parse(name).ok_or_else(|| ApiError::invalid("span", "week or month"))?
        }
    };
    let by = Dimension::list(query.by.as_deref().unwrap_or(""))
        .map_err(|reason| ApiError::invalid("by", &reason))?;
    let request = VolumeRequest {
        from: query.from,
        to: query.to,
        span,
        by,
        filter: ReportFilter {
            program: query.program,
            severity: query.severity,
            region: query.region,
            channel: query.channel,
            product_line: query.product_line,
            language: query.language,
            advisor: query.advisor,
            customer: query.customer,
        },
    };
    let report = volume::volume(&state.desk(), &principal.caller(), request).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    let part_name = part.name();
    Ok(csv_attachment(
        &format!("volume-{part_name}-{}-{}.csv", report.from, report.to),
        volume::volume_as_csv(&report, part),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// The first day of the period (UTC), widened to the start of its week or month; 30
    /// days before `to` unless given.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<Date>,
    /// The last day of the period (UTC), widened to the end of its week or month; today
    /// unless given.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<Date>,
    /// `week` (from Monday, UTC) or `month` (the default, also when empty).
    #[param(pattern = "^(week|month)?$")]
    span: Option<String>,
    /// The work on one region's tickets only.
    region: Option<String>,
    /// The work on tickets in one language only.
    language: Option<String>,
    /// One member of staff's work only (an advisor's own is theirs to read).
    advisor: Option<i64>,
    /// `json` (the default, also when empty) or `csv`.
    #[param(pattern = "^(json|csv)?$")]
    format: Option<String>,
    /// With format=csv, the table: `people` (the default, also when empty: one line per
    /// member of staff), `regions` (one per region of the tickets) or `load` (one per week
    /// or month).
    #[param(pattern = "^(people|regions|load)?$")]
    part: Option<String>,
}

/// People: the work done in each week or month of a period, per member of staff and per
/// region of the tickets: tickets handled, actions, replies the customer saw, first
/// responses and the share given within the target, solutions accepted, actions after
/// office hours on tickets running on an extended (24x5, 24x7) calendar, the languages of
/// the tickets, and the open tickets assigned now; and the load week by week or month by
/// month. Support managers and administrators read everyone's; other staff their own; a
/// customer's contact none.
#[utoipa::path(
    get,
    path = "/api/v1/reports/people",
    tag = "reports",
    security(("bearer" = [])),
    params(PeopleQuery),
    responses(
        (status = 200, description = "The report (JSON), or with format=csv one of its tables",
            content((PeopleReport = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a report the caller may read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad period, span, filter or table", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn people_report(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<PeopleQuery>,
) -> Result<Response, ApiError> {
    let csv = match query.format.as_deref() {
        None | Some("" | "json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "json or csv")),
    };
    let part = match query.part.as_deref() {
        None | Some("") => PeoplePart::default(),
        Some(name) => PeoplePart::parse(name)
            .ok_or_else(|| ApiError::invalid("part", "people, regions or load"))?,
    };
    let span = match query.span.as_deref() {
        None | Some("") => Span::default(),
        Some(name) => {
            Span::parse(name).ok_or_else(|| ApiError::invalid("span", "week or month"))?
        }
    };
    let request = PeopleRequest {
        from: query.from,
        to: query.to,
        span,
        region: query.region,
        language: query.language,
        advisor: query.advisor,
    };
    let report = people::people(&state.desk(), &principal.caller(), request).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    let part_name = part.name();
    Ok(csv_attachment(
        &format!("people-{part_name}-{}-{}.csv", report.from, report.to),
        people::people_as_csv(&report, part),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReplayQuery {
    /// The first day the tickets were opened (UTC); 30 days before `to` unless given.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<Date>,
    /// The last day, included (UTC); today unless given.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<Date>,
    /// The program to time the tickets under (each ticket's own unless given).
    alternative_program: Option<String>,
    /// A policy version the database keeps to time the tickets under (the one in force
    /// unless given; see `/api/v1/policy/versions`).
    alternative_policy_version: Option<u32>,
    /// Only the tickets now under this program.
    program: Option<String>,
    severity: Option<String>,
    region: Option<String>,
    channel: Option<String>,
    product_line: Option<String>,
    language: Option<String>,
    /// A customer's id: its tickets only.
    customer: Option<i64>,
    /// Each ticket's line besides the summary (always with format=csv).
    tickets: Option<bool>,
    /// `json` (the default, also when empty) or `csv` (a line per ticket).
    #[param(pattern = "^(json|csv)?$")]
    format: Option<String>,
}

/// What-if replay: the tickets opened in a period timed again, with the live clocks'
/// engine, under another program and/or another stored policy version, writing nothing;
/// per clock and severity, how many clocks were met under the actual and the alternative
/// terms and the breaches the alternative would have avoided or added. Support managers
/// and administrators replay any tickets, a customer success manager their customers'.
#[utoipa::path(
    get,
    path = "/api/v1/reports/replay",
    tag = "reports",
    security(("bearer" = [])),
    params(ReplayQuery),
    responses(
        (status = 200, description = "The replay (JSON), or with format=csv one line per ticket",
            content((ReplayReport = "application/json"), (String = "text/csv"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer or policy version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No alternative, a bad period or filter, or a program the policy lacks", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn replay_report(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReplayQuery>,
) -> Result<Response, ApiError> {
    let csv = match query.format.as_deref() {
        None | Some("" | "json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "json or csv")),
    };
    let desk = state.desk();
    let caller = principal.caller();
    let policy = match query.alternative_policy_version {
        Some(version) => Some(Arc::new(stored_version(&desk, &caller, version).await?.1)),
        None => None,
    };
    let request = ReplayRequest {
        from: query.from,
        to: query.to,
        filter: ReportFilter {
            program: query.program,
            severity: query.severity,
            region: query.region,
            channel: query.channel,
            product_line: query.product_line,
            language: query.language,
            advisor: None,
            customer: query.customer,
        },
        program: query.alternative_program,
        policy,
        per_ticket: csv || query.tickets.unwrap_or(false),
    };
    let report = replay(&desk, &caller, request)
        .await
        .map_err(|error| match error {
            caredesk_desk::DeskError::Invalid(mut problems) => {
                // The API names the stored version, not a file.
                for problem in &mut problems {
                    if problem.field == "alternative_policy" {
                        problem.field = "alternative_policy_version".into();
                    }
                }
                ApiError::from(caredesk_desk::DeskError::Invalid(problems))
            }
            other => ApiError::from(other),
        })?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    Ok(csv_attachment(
        &format!("replay-{}-{}.csv", report.from, report.to),
        replay_as_csv(&report),
    ))
}

/// The support policy's versions, the latest first: which is in force, who applied each
/// and when, from when it is in force, and how many open tickets are still computed under
/// an earlier one. Support managers, administrators and customer success managers.
#[utoipa::path(
    get,
    path = "/api/v1/policy/versions",
    tag = "reports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The policy's history", body = PolicyHistory),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn policy_versions(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<PolicyHistory>, ApiError> {
    Ok(Json(
        policy_history(&state.desk(), &principal.caller()).await?,
    ))
}
