//! The console's what-if replay: a form (the period, the tickets, and the other program or
//! stored policy version to time them under) and its result, the summary per clock and
//! severity as a table and a chart, with every ticket as CSV. The desk's replay does the
//! work (`caredesk_desk::replay`); managers replay any tickets, a CSM their customers'.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use caredesk_desk::policy_versions::{policy_history, stored_version};
use caredesk_desk::replay::{ReplayReport, ReplayRequest, replay, replay_as_csv};
use caredesk_domain::report::ReportFilter;
use caredesk_domain::ticket::Role;
use caredesk_domain::ticket::replay::Kept;
use serde::Deserialize;

use super::charts::{Panel, share_bars, svg_response};
use super::reports::{FilterField, ReportForm, cared_for, filter_fields, optional_date};
use super::session::Viewer;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::Principal;
use crate::download::csv_attachment;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/replay", get(replay_page))
        .route("/console/replay/chart.svg", get(replay_chart))
        .route("/console/replay/tickets.csv", get(replay_csv))
}

/// The form, as the address carries it (empty means "any", or "as they are").
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct ReplayForm {
    from: String,
    to: String,
    alternative_program: String,
    alternative_policy_version: String,
    program: String,
    severity: String,
    region: String,
    channel: String,
    product_line: String,
    language: String,
    customer: String,
}

impl ReplayForm {
    fn parse(raw: Option<&str>) -> Result<ReplayForm, UiError> {
        serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|error| UiError::BadRequest(error.to_string()))
    }

    /// Whether another program or policy version was chosen: without one there is nothing
    /// to replay, only the form to fill in.
    fn chooses_alternative(&self) -> bool {
        !self.alternative_program.trim().is_empty()
            || !self.alternative_policy_version.trim().is_empty()
    }

    /// The filters, as the report forms share them.
    fn as_report_form(&self) -> ReportForm {
        ReportForm {
            from: self.from.clone(),
            to: self.to.clone(),
            program: self.program.clone(),
            severity: self.severity.clone(),
            region: self.region.clone(),
            channel: self.channel.clone(),
            product_line: self.product_line.clone(),
            language: self.language.clone(),
            customer: self.customer.clone(),
            ..ReportForm::default()
        }
    }

    fn query(&self) -> String {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("from", &self.from),
            ("to", &self.to),
            ("alternative_program", &self.alternative_program),
            (
                "alternative_policy_version",
                &self.alternative_policy_version,
            ),
            ("program", &self.program),
            ("severity", &self.severity),
            ("region", &self.region),
            ("channel", &self.channel),
            ("product_line", &self.product_line),
            ("language", &self.language),
            ("customer", &self.customer),
        ] {
            if !value.trim().is_empty() {
                pairs.append_pair(name, value.trim());
            }
        }
        pairs.finish()
    }
}

/// The replay the form asks for; `per_ticket` for the CSV of every ticket.
async fn replay_of(
    state: &AppState,
    viewer: &Viewer,
    form: &ReplayForm,
    per_ticket: bool,
) -> Result<ReplayReport, UiError> {
    let desk = state.desk();
    let caller = viewer.principal.caller();
    let some = |text: &str| Some(text.trim().to_string()).filter(|text| !text.is_empty());
    let customer = match form.customer.trim() {
        "" => None,
        text => Some(text.parse().map_err(|_| {
            UiError::BadRequest(format!("customer: \"{text}\" is not a customer's number"))
        })?),
    };
    let policy = match form.alternative_policy_version.trim() {
        "" => None,
        text => {
            let version = text.parse().map_err(|_| {
                UiError::BadRequest(format!(
                    "alternative_policy_version: \"{text}\" is not a version number"
                ))
            })?;
            let (_, policy) = stored_version(&desk, &caller, version)
                .await
                .map_err(ApiError::from)?;
            Some(Arc::new(policy))
        }
    };
    let request = ReplayRequest {
        from: optional_date("from", &form.from)?,
        to: optional_date("to", &form.to)?,
        filter: ReportFilter {
            program: some(&form.program),
            severity: some(&form.severity),
            region: some(&form.region),
            channel: some(&form.channel),
            product_line: some(&form.product_line),
            language: some(&form.language),
            advisor: None,
            customer,
        },
        program: some(&form.alternative_program),
        policy,
        per_ticket,
    };
    Ok(replay(&desk, &caller, request)
        .await
        .map_err(ApiError::from)?)
}

/// Replays are for managers, administrators and CSMs; an advisor is told so plainly.
fn require_replayer(viewer: &Viewer) -> Result<(), UiError> {
    match &viewer.principal {
        Principal::Staff(member)
            if matches!(
                member.role,
                Role::SupportManager | Role::Admin | Role::CustomerSuccessManager
            ) =>
        {
            Ok(())
        }
        _ => Err(UiError::Forbidden),
    }
}

/// One line of the summary, worded for the page.
struct SummaryRow {
    clock: &'static str,
    severity: String,
    actual_settled: u64,
    actual_share: String,
    alternative_settled: u64,
    alternative_share: String,
    avoided: u64,
    added: u64,
}

fn share(kept: &Kept) -> String {
    kept.met_percent()
        .map_or_else(|| "–".to_string(), |percent| format!("{percent:.1} %"))
}

fn clock_label(viewer: &Viewer, clock: &str) -> &'static str {
    match clock {
        "first_response" => viewer.t("reports.first_response"),
        "updates" => viewer.t("reports.updates"),
        _ => viewer.t("reports.resolution"),
    }
}

/// What the form replayed.
struct ReplayResult {
    intro: String,
    summary: String,
    rows: Vec<SummaryRow>,
}

#[derive(Template)]
#[template(path = "console/replay.html")]
struct ReplayPage {
    page: Page,
    form: ReplayForm,
    programs: Vec<String>,
    /// The stored versions to choose among: (number, label).
    versions: Vec<(String, String)>,
    filters: Vec<FilterField>,
    cared_for: Vec<(String, String)>,
    query: String,
    result: Option<ReplayResult>,
}

async fn replay_page(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    require_replayer(&viewer)?;
    let mut form = ReplayForm::parse(raw.as_deref())?;
    let mut report_form = form.as_report_form();
    let cared_for = cared_for(&state, &viewer, &mut report_form).await?;
    form.customer = report_form.customer.clone();
    let filters = filter_fields(&state, &viewer, &report_form);
    let history = policy_history(&state.desk(), &viewer.principal.caller())
        .await
        .map_err(ApiError::from)?;
    let versions = history
        .versions
        .iter()
        .map(|version| {
            let date = version
                .applied_at
                .to_zoned_datetime(viewer.time_zone.clone())
                .strftime("%Y-%m-%d")
                .to_string();
            (
                version.version.to_string(),
                format!("{} · {} · {date}", version.version, version.source),
            )
        })
        .collect();
    let result = if form.chooses_alternative() {
        let report = replay_of(&state, &viewer, &form, false).await?;
        // The period as the desk settled it, so the chart and the CSV replay the same.
        form.from = report.from.to_string();
        form.to = report.to.to_string();
        Some(ReplayResult {
            intro: viewer.catalog.format(
                "replay.intro",
                &[
                    ("from", &report.from.to_string()),
                    ("to", &report.to.to_string()),
                ],
            ),
            summary: viewer.catalog.format(
                "replay.summary",
                &[
                    ("tickets", &report.summary.tickets.to_string()),
                    ("set_aside", &report.set_aside.to_string()),
                ],
            ),
            rows: report
                .summary
                .lines
                .iter()
                .map(|line| SummaryRow {
                    clock: clock_label(&viewer, line.clock),
                    severity: line.severity.clone(),
                    actual_settled: line.actual.settled,
                    actual_share: share(&line.actual),
                    alternative_settled: line.alternative.settled,
                    alternative_share: share(&line.alternative),
                    avoided: line.breaches_avoided,
                    added: line.breaches_added,
                })
                .collect(),
        })
    } else {
        None
    };
    let programs = state.policy().programs.keys().cloned().collect();
    let query = form.query();
    Ok(render(&ReplayPage {
        page: viewer.page(viewer.t("replay.title").to_string()),
        form,
        programs,
        versions,
        filters,
        cared_for,
        query,
        result,
    })?
    .into_response())
}

/// The share met per severity under each set of terms, one panel per clock.
async fn replay_chart(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    require_replayer(&viewer)?;
    let form = ReplayForm::parse(raw.as_deref())?;
    let report = replay_of(&state, &viewer, &form, false).await?;
    let lines = &report.summary.lines;
    let mut severities: Vec<&str> = Vec::new();
    for line in lines {
        if !severities.contains(&line.severity.as_str()) {
            severities.push(&line.severity);
        }
    }
    let actual = viewer.t("replay.actual");
    let alternative = viewer.t("replay.alternative");
    let groups: Vec<String> = severities
        .iter()
        .flat_map(|severity| {
            [
                format!("{severity} {actual}"),
                format!("{severity} {alternative}"),
            ]
        })
        .collect();
    let values = |clock: &str| -> Vec<Option<f64>> {
        severities
            .iter()
            .flat_map(|severity| {
                let line = lines
                    .iter()
                    .find(|line| line.clock == clock && line.severity == *severity);
                [
                    line.and_then(|line| line.actual.met_percent()),
                    line.and_then(|line| line.alternative.met_percent()),
                ]
            })
            .collect()
    };
    let panels = [
        Panel {
            title: viewer.t("reports.first_response"),
            values: values("first_response"),
        },
        Panel {
            title: viewer.t("reports.updates"),
            values: values("updates"),
        },
        Panel {
            title: viewer.t("reports.resolution"),
            values: values("resolution"),
        },
    ];
    let svg =
        share_bars(&groups, &panels, viewer.t("reports.share")).map_err(UiError::Unexpected)?;
    Ok(svg_response(svg))
}

/// Every replayed ticket, a line each, as the command line's CSV.
async fn replay_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    require_replayer(&viewer)?;
    let form = ReplayForm::parse(raw.as_deref())?;
    let report = replay_of(&state, &viewer, &form, true).await?;
    Ok(csv_attachment(
        &format!("replay-{}-{}.csv", report.from, report.to),
        replay_as_csv(&report),
    ))
}
