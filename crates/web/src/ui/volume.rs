//! Volume and backlog in the console (and a customer's own in the portal): the tickets
//! opened and closed per week or month, what happened to those opened, and the open
//! backlog by age and state; each chart beside the table of the same numbers, each table as
//! CSV. The form is the report builder's, kept in the address.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use caredesk_desk::volume::{self, VolumePart, VolumeReport, VolumeRequest};
use caredesk_domain::report::{Dimension, Span};
use caredesk_domain::ticket::{Role, TicketState};
use serde::Deserialize;

use super::charts::{Series, count_bars, svg_response};
use super::reports::{
    FilterField, ReportForm, base_of, cared_for, dimension_label, filter_fields, query_of,
};
use super::session::Viewer;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::Principal;
use crate::download::csv_attachment;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/reports/volume", get(volume_page))
        .route("/console/reports/volume.svg", get(volume_chart))
        .route("/console/reports/volume.csv", get(volume_csv))
        .route("/portal/reports/volume", get(volume_page))
        .route("/portal/reports/volume.svg", get(volume_chart))
        .route("/portal/reports/volume.csv", get(volume_csv))
}

/// The dimensions a volume report is broken down by.
const DIMENSIONS: [Dimension; 6] = [
    Dimension::Program,
    Dimension::Severity,
    Dimension::Region,
    Dimension::Channel,
    Dimension::ProductLine,
    Dimension::Language,
];

/// One line of the flows' table: a period (and a group of it).
struct FlowLine {
    period: String,
    labels: Vec<String>,
    opened: u64,
    closed: u64,
}

/// One line of the activity's table, worded.
struct ActivityCells {
    labels: Vec<String>,
    /// Tickets, closed, escalations (asked, automatic, answered), escalated tickets (in
    /// all, resolved, still open).
    counts: Vec<u64>,
    escalated_otherwise: u64,
    /// In all, accepted, rejected, unanswered.
    proposals: Vec<u64>,
    outside_support: u64,
    services_requested: u64,
    waiting: String,
}

struct BacklogLine {
    state: &'static str,
    open: u64,
    by_age: Vec<u64>,
}

#[derive(Template)]
#[template(path = "console/volume.html")]
struct VolumePage {
    page: Page,
    intro: String,
    from: String,
    to: String,
    span: &'static str,
    by: String,
    then_by: String,
    dimensions: Vec<(&'static str, &'static str)>,
    filters: Vec<FilterField>,
    cared_for: Vec<(String, String)>,
    customer: String,
    base: &'static str,
    query: String,
    headings: Vec<&'static str>,
    flows: Vec<FlowLine>,
    opened: u64,
    closed: u64,
    activity: Vec<ActivityCells>,
    activity_total: ActivityCells,
    ages: Vec<&'static str>,
    backlog: Vec<BacklogLine>,
    backlog_total: BacklogLine,
}

/// The volume report the form asks for, as the viewer may read it (as the SLA report).
async fn report_of(
    state: &AppState,
    viewer: &Viewer,
    form: &ReportForm,
) -> Result<VolumeReport, UiError> {
    if let Principal::Staff(member) = &viewer.principal
        && member.role == Role::Advisor
    {
        return Err(UiError::Forbidden);
    }
    let compliance = form.request()?;
    let span = match form.span.trim() {
        "" => Span::default(),
        name => Span::parse(name)
            .ok_or_else(|| UiError::BadRequest(format!("span: \"{name}\" is not week or month")))?,
    };
    let request = VolumeRequest {
        from: compliance.from,
        to: compliance.to,
        span,
        filter: compliance.filter,
        // A link from the SLA report may carry a breakdown by month or people, which this
        // report runs along or leaves to others: those are dropped, not refused.
        by: compliance
            .by
            .into_iter()
            .filter(|dimension| DIMENSIONS.contains(dimension))
            .collect(),
    };
    Ok(
        volume::volume(&state.desk(), &viewer.principal.caller(), request)
            .await
            .map_err(ApiError::from)?,
    )
}

async fn volume_page(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let mut form = ReportForm::parse(raw.as_deref())?;
    let cared_for = cared_for(&state, &viewer, &mut form).await?;
    let report = report_of(&state, &viewer, &form).await?;
    let filters = filter_fields(&state, &viewer, &form);
    let customer_viewer = matches!(viewer.principal, Principal::Contact(_));
    let all = viewer.t("reports.all").to_string();
    let mut flows = Vec::new();
    for period in &report.periods {
        let name = report.span.label(period.start);
        if report.by.is_empty() || period.groups.is_empty() {
            flows.push(FlowLine {
                period: name,
                labels: vec![all.clone(); report.by.len()],
                opened: period.opened,
                closed: period.closed,
            });
            continue;
        }
        for group in &period.groups {
            flows.push(FlowLine {
                period: name.clone(),
                labels: group.group.clone(),
                opened: group.opened,
                closed: group.closed,
            });
        }
    }
    let hours = |minutes: u64| {
        viewer.catalog.format(
            "reports.hours",
            &[("hours", &format!("{:.1}", minutes as f64 / 60.0))],
        )
    };
    let cells = |labels: Vec<String>, line: &volume::ActivityLine| {
        let a = &line.activity;
        ActivityCells {
            labels,
            counts: vec![
                line.tickets,
                a.closed,
                a.escalations_asked,
                a.escalations_automatic,
                a.escalations_answered,
                a.escalated,
                a.escalated_resolved,
                a.escalated_open,
            ],
            escalated_otherwise: a
                .escalated
                .saturating_sub(a.escalated_resolved + a.escalated_open),
            proposals: vec![
                a.proposals,
                a.proposals_accepted,
                a.proposals_rejected,
                a.proposals_unanswered,
            ],
            outside_support: a.outside_support,
            services_requested: a.services_requested,
            waiting: hours(a.waiting_minutes),
        }
    };
    let activity = report
        .activity
        .iter()
        .map(|line| cells(line.group.clone(), line))
        .collect();
    let activity_total = cells(
        vec![all.clone(); report.by.len().max(1)],
        &report.activity_total,
    );
    let backlog = TicketState::ALL
        .into_iter()
        .filter_map(|known| {
            let state = report
                .backlog
                .by_state
                .iter()
                .find(|state| state.state == known.as_str())?;
            Some(BacklogLine {
                state: super::view::state_name(viewer.catalog, known),
                open: state.open,
                by_age: state.by_age.clone(),
            })
        })
        .collect();
    let query = query_of(report.from, report.to, &form);
    Ok(render(&VolumePage {
        page: viewer.page(viewer.t("volume.title").to_string()),
        intro: viewer.catalog.format(
            "volume.intro",
            &[
                ("from", &report.from.to_string()),
                ("to", &report.to.to_string()),
            ],
        ),
        from: report.from.to_string(),
        to: report.to.to_string(),
        span: report.span.name(),
        by: report
            .by
            .first()
            .map_or("", |dimension| dimension.name())
            .to_string(),
        then_by: report
            .by
            .get(1)
            .map_or("", |dimension| dimension.name())
            .to_string(),
        dimensions: DIMENSIONS
            .into_iter()
            .map(|dimension| (dimension.name(), dimension_label(&viewer, dimension)))
            .collect(),
        filters,
        cared_for,
        customer: if customer_viewer {
            String::new()
        } else {
            form.customer.trim().to_string()
        },
        base: base_of(&viewer),
        query,
        headings: report
            .by
            .iter()
            .map(|dimension| dimension_label(&viewer, *dimension))
            .collect(),
        flows,
        opened: report.opened,
        closed: report.closed,
        activity,
        activity_total,
        ages: (0..6)
            .map(|age| viewer.t(&format!("volume.age_{age}")))
            .collect(),
        backlog,
        backlog_total: BacklogLine {
            state: viewer.t("reports.all"),
            open: report.backlog.open,
            by_age: report.backlog.by_age.clone(),
        },
    })?
    .into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ChartChoice {
    chart: String,
}

/// A chart of the report the same query asks for: `flows` (opened and closed per period)
/// or `backlog` (open tickets by age).
async fn volume_chart(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let form = ReportForm::parse(raw.as_deref())?;
    let choice: ChartChoice =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
    let report = report_of(&state, &viewer, &form).await?;
    let svg = if choice.chart == "backlog" {
        let groups: Vec<String> = (0..6)
            .map(|age| viewer.t(&format!("volume.age_{age}")).to_string())
            .collect();
        count_bars(
            &groups,
            &[Series {
                name: viewer.t("volume.open"),
                values: report.backlog.by_age.clone(),
            }],
            viewer.t("volume.backlog_chart_title"),
            viewer.t("reports.tickets"),
        )
    } else {
        let groups: Vec<String> = report
            .periods
            .iter()
            .map(|period| report.span.label(period.start))
            .collect();
        count_bars(
            &groups,
            &[
                Series {
                    name: viewer.t("volume.opened"),
                    values: report.periods.iter().map(|period| period.opened).collect(),
                },
                Series {
                    name: viewer.t("volume.closed"),
                    values: report.periods.iter().map(|period| period.closed).collect(),
                },
            ],
            viewer.t("volume.flows_chart_title"),
            viewer.t("reports.tickets"),
        )
    }
    .map_err(UiError::Unexpected)?;
    Ok(svg_response(svg))
}

async fn volume_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let form = ReportForm::parse(raw.as_deref())?;
    let part = match form.part.trim() {
        "" => VolumePart::default(),
        name => VolumePart::parse(name).ok_or_else(|| {
            UiError::BadRequest(format!(
                "part: \"{name}\" is not flows, activity or backlog"
            ))
        })?,
    };
    let report = report_of(&state, &viewer, &form).await?;
    let name = part.name();
    Ok(csv_attachment(
        &format!("volume-{name}-{}-{}.csv", report.from, report.to),
        volume::volume_as_csv(&report, part),
    ))
}
