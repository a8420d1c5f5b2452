//! The managers' report builder: SLA compliance for a period, filtered and broken down as
//! the form in the page's address says (so a view can be bookmarked and shared), as a chart,
//! the table of the same numbers, and CSV.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use caredesk_desk::reports::{
    self, BreachList, BreachesRequest, ComplianceReport, ComplianceRequest, ReportLine,
};
use caredesk_domain::report::{ClockSummary, Dimension, ReportFilter, ShareOfTarget};
use caredesk_domain::ticket::Role;
use caredesk_store::BreachedClock;
use jiff::civil::Date;
use serde::Deserialize;

use super::charts::{Panel, share_bars, svg_response};
use super::session::Viewer;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::Principal;
use crate::download::csv_attachment;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/reports", get(report_page))
        .route("/console/reports/chart.svg", get(report_chart))
        .route("/console/reports/report.csv", get(report_csv))
        .route("/console/dashboard", get(dashboard_page))
        .route("/portal/reports", get(report_page))
        .route("/portal/reports/chart.svg", get(report_chart))
        .route("/portal/reports/report.csv", get(report_csv))
        .route("/console/reports/breaches", get(breaches_page))
        .route("/console/reports/breaches.csv", get(breaches_csv))
        .route("/portal/reports/breaches", get(breaches_page))
        .route("/portal/reports/breaches.csv", get(breaches_csv))
}

/// Where the viewer's reports live: a customer's in the portal, staff's in the console.
pub(super) fn base_of(viewer: &Viewer) -> &'static str {
    match viewer.principal {
        Principal::Contact(_) => "/portal/reports",
        Principal::Staff(_) => "/console/reports",
    }
}

/// A date of a report's form: none when left empty.
pub(super) fn optional_date(field: &str, text: &str) -> Result<Option<Date>, UiError> {
    match text.trim() {
        "" => Ok(None),
        text => text.parse().map(Some).map_err(|_| {
            UiError::BadRequest(format!(
                "{field}: \"{text}\" is not a date such as 2026-09-01"
            ))
        }),
    }
}

/// The builder's form, as the address carries it (empty means "any").
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct ReportForm {
    pub(super) from: String,
    pub(super) to: String,
    pub(super) by: String,
    pub(super) then_by: String,
    pub(super) program: String,
    pub(super) severity: String,
    pub(super) region: String,
    pub(super) channel: String,
    pub(super) product_line: String,
    pub(super) language: String,
    /// A customer's id (a CSM chooses among theirs; a contact's is always their own).
    pub(super) customer: String,
    /// The breaches' list: one clock (empty: any) and the page.
    pub(super) clock: String,
    pub(super) page: String,
    /// The volume report: weeks or months, and which table a CSV holds.
    pub(super) span: String,
    pub(super) part: String,
}

impl ReportForm {
    pub(super) fn parse(raw: Option<&str>) -> Result<ReportForm, UiError> {
        serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|error| UiError::BadRequest(error.to_string()))
    }

    pub(super) fn request(&self) -> Result<ComplianceRequest, UiError> {
        let by = Dimension::list(&format!("{},{}", self.by, self.then_by))
            .map_err(|reason| UiError::BadRequest(format!("by: {reason}")))?;
        let some = |text: &str| Some(text.trim().to_string()).filter(|text| !text.is_empty());
        let customer = match self.customer.trim() {
            "" => None,
            text => Some(text.parse().map_err(|_| {
                UiError::BadRequest(format!("customer: \"{text}\" is not a customer's number"))
            })?),
        };
        Ok(ComplianceRequest {
            from: optional_date("from", &self.from)?,
            to: optional_date("to", &self.to)?,
            by,
            filter: ReportFilter {
                program: some(&self.program),
                severity: some(&self.severity),
                region: some(&self.region),
                channel: some(&self.channel),
                product_line: some(&self.product_line),
                language: some(&self.language),
                advisor: None,
                customer,
            },
        })
    }
}

/// A filter of the form: its name, label, the values to choose from, and the chosen one.
pub(super) struct FilterField {
    pub(super) name: &'static str,
    pub(super) label: &'static str,
    pub(super) options: Vec<String>,
    pub(super) chosen: String,
}

/// One line of the table, worded for the page.
struct TableLine {
    labels: Vec<String>,
    tickets: u64,
    clocks: Vec<ClockCells>,
}

struct ClockCells {
    met: u64,
    late: u64,
    open_within: u64,
    open_past: u64,
    share: String,
    median: String,
    p90: String,
}

#[derive(Template)]
#[template(path = "console/reports.html")]
struct ReportPage {
    page: Page,
    intro: String,
    from: String,
    to: String,
    by: String,
    then_by: String,
    dimensions: Vec<(&'static str, &'static str)>,
    filters: Vec<FilterField>,
    /// The customers a CSM chooses among (id, name), with the chosen one; none for others.
    cared_for: Vec<(String, String)>,
    customer: String,
    /// Where this report lives (`/console/reports`, `/portal/reports`).
    base: &'static str,
    /// The address's query, for the chart and the CSV of the same report.
    query: String,
    headings: Vec<&'static str>,
    lines: Vec<TableLine>,
    total: TableLine,
}

async fn report_page(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let mut form = ReportForm::parse(raw.as_deref())?;
    let cared_for = cared_for(&state, &viewer, &mut form).await?;
    let report = report_of(&state, &viewer, &form).await?;
    let filters = filter_fields(&state, &viewer, &form);
    // A customer's report is about its own tickets: not broken down by advisor or customer.
    let customer_viewer = matches!(viewer.principal, Principal::Contact(_));
    let dimensions = Dimension::ALL
        .into_iter()
        .filter(|dimension| {
            !customer_viewer || !matches!(dimension, Dimension::Advisor | Dimension::Customer)
        })
        .map(|dimension| (dimension.name(), dimension_label(&viewer, dimension)))
        .collect();
    let intro = viewer.catalog.format(
        "reports.intro",
        &[
            ("from", &report.from.to_string()),
            ("to", &report.to.to_string()),
        ],
    );
    let title = viewer.t("reports.title").to_string();
    let query = canonical_query(&report, &form);
    Ok(render(&ReportPage {
        page: viewer.page(title),
        intro,
        from: report.from.to_string(),
        to: report.to.to_string(),
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
        dimensions,
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
        lines: report
            .lines
            .iter()
            .map(|line| table_line(&viewer, line, line.labels.clone()))
            .collect(),
        total: table_line(
            &viewer,
            &report.total,
            vec![viewer.t("reports.all").to_string(); report.by.len().max(1)],
        ),
    })?
    .into_response())
}

/// The customers a CSM chooses among (id, name); they read one at a time, the first unless
/// the form chose one. None for other readers.
pub(super) async fn cared_for(
    state: &AppState,
    viewer: &Viewer,
    form: &mut ReportForm,
) -> Result<Vec<(String, String)>, UiError> {
    let cared_for: Vec<(String, String)> = match &viewer.principal {
        Principal::Staff(member) if member.role == Role::CustomerSuccessManager => state
            .store
            .customers()
            .await?
            .into_iter()
            .filter(|customer| customer.csm_id == Some(member.id))
            .map(|customer| (customer.id.to_string(), customer.name))
            .collect(),
        _ => Vec::new(),
    };
    if form.customer.trim().is_empty()
        && let Some((first, _)) = cared_for.first()
    {
        form.customer = first.clone();
    }
    Ok(cared_for)
}

/// The form's filters on the ticket's dimensions, with the policy's values.
pub(super) fn filter_fields(
    state: &AppState,
    viewer: &Viewer,
    form: &ReportForm,
) -> Vec<FilterField> {
    let policy = &state.policy();
    vec![
        field(
            viewer,
            Dimension::Program,
            policy.programs.keys(),
            &form.program,
        ),
        field(
            viewer,
            Dimension::Severity,
            policy.severities.keys(),
            &form.severity,
        ),
        field(
            viewer,
            Dimension::Region,
            policy.regions.keys(),
            &form.region,
        ),
        field(
            viewer,
            Dimension::Channel,
            policy.channels.keys(),
            &form.channel,
        ),
        field(
            viewer,
            Dimension::ProductLine,
            policy.product_lines.keys(),
            &form.product_line,
        ),
        field(
            viewer,
            Dimension::Language,
            policy.languages.supported.iter(),
            &form.language,
        ),
    ]
}

/// The chart of the report the same query asks for: the share met per group, one panel per
/// clock (an image: the page's table beside it holds the same numbers).
async fn report_chart(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let form = ReportForm::parse(raw.as_deref())?;
    let report = report_of(&state, &viewer, &form).await?;
    let groups: Vec<String> = if report.by.is_empty() {
        vec![viewer.t("reports.all").to_string()]
    } else {
        report
            .lines
            .iter()
            .map(|line| line.labels.join(" · "))
            .collect()
    };
    let lines: Vec<&ReportLine> = if report.by.is_empty() {
        vec![&report.total]
    } else {
        report.lines.iter().collect()
    };
    let share = |clock: fn(&ReportLine) -> &ClockSummary| -> Vec<Option<f64>> {
        lines.iter().map(|line| clock(line).met_percent).collect()
    };
    let panels = [
        Panel {
            title: viewer.t("reports.first_response"),
            values: share(|line| &line.first_response),
        },
        Panel {
            title: viewer.t("reports.updates"),
            values: share(|line| &line.updates),
        },
        Panel {
            title: viewer.t("reports.resolution"),
            values: share(|line| &line.resolution),
        },
    ];
    let svg =
        share_bars(&groups, &panels, viewer.t("reports.share")).map_err(UiError::Unexpected)?;
    Ok(svg_response(svg))
}

async fn report_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let form = ReportForm::parse(raw.as_deref())?;
    let report = report_of(&state, &viewer, &form).await?;
    Ok(csv_attachment(
        &format!("sla-{}-{}.csv", report.from, report.to),
        reports::as_csv(&report),
    ))
}

/// The report the form asks for, as the viewer may read it: managers any, a CSM their
/// customers', a customer's contact their own organisation's (advisors read theirs over the
/// API; the console's builder is not theirs).
async fn report_of(
    state: &AppState,
    viewer: &Viewer,
    form: &ReportForm,
) -> Result<ComplianceReport, UiError> {
    if let Principal::Staff(member) = &viewer.principal
        && member.role == Role::Advisor
    {
        return Err(UiError::Forbidden);
    }
    let request = form.request()?;
    Ok(
        reports::compliance(&state.desk(), &viewer.principal.caller(), request)
            .await
            .map_err(ApiError::from)?,
    )
}

/// The query of the report as computed (its period filled in), for its chart and its CSV.
fn canonical_query(report: &ComplianceReport, form: &ReportForm) -> String {
    query_of(report.from, report.to, form)
}

/// The period (filled in) and the form's choices as an address's query.
pub(super) fn query_of(from: Date, to: Date, form: &ReportForm) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    pairs.append_pair("from", &from.to_string());
    pairs.append_pair("to", &to.to_string());
    for (name, value) in [
        ("by", &form.by),
        ("then_by", &form.then_by),
        ("program", &form.program),
        ("severity", &form.severity),
        ("region", &form.region),
        ("channel", &form.channel),
        ("product_line", &form.product_line),
        ("language", &form.language),
        ("customer", &form.customer),
        ("span", &form.span),
    ] {
        if !value.trim().is_empty() {
            pairs.append_pair(name, value.trim());
        }
    }
    pairs.finish()
}

/// The form's filter on `dimension`: its name and label, the policy's values, the chosen one.
fn field<'a>(
    viewer: &Viewer,
    dimension: Dimension,
    options: impl Iterator<Item = &'a String>,
    chosen: &str,
) -> FilterField {
    FilterField {
        name: dimension.name(),
        label: dimension_label(viewer, dimension),
        options: options.cloned().collect(),
        chosen: chosen.trim().to_string(),
    }
}

pub(super) fn dimension_label(viewer: &Viewer, dimension: Dimension) -> &'static str {
    viewer.t(&format!("reports.dim_{}", dimension.name()))
}

fn table_line(viewer: &Viewer, line: &ReportLine, labels: Vec<String>) -> TableLine {
    let share = |share: Option<ShareOfTarget>| match share {
        Some(ShareOfTarget::About(percent)) => viewer
            .catalog
            .format("reports.of_target", &[("percent", &percent.to_string())]),
        Some(ShareOfTarget::OverTwice) => viewer.t("reports.over_twice").to_string(),
        None => "–".to_string(),
    };
    let cells = |clock: &ClockSummary| ClockCells {
        met: clock.met,
        late: clock.breached,
        open_within: clock.open_within,
        open_past: clock.open_past,
        share: clock.met_percent.map_or_else(
            || "–".to_string(),
            |percent| {
                viewer.catalog.format(
                    "reports.of_target",
                    &[("percent", &format!("{percent:.1}"))],
                )
            },
        ),
        median: share(clock.median_used),
        p90: share(clock.p90_used),
    };
    TableLine {
        labels,
        tickets: line.tickets,
        clocks: vec![
            cells(&line.first_response),
            cells(&line.updates),
            cells(&line.resolution),
        ],
    }
}

/// One clock of this week's compliance, worded.
struct WeekClock {
    name: &'static str,
    summary: String,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    page: Page,
    week: String,
    /// The week's report address, for its chart and the builder.
    week_query: String,
    week_tickets: u64,
    clocks: Vec<WeekClock>,
    now: caredesk_store::DeskNow,
    ages: Vec<&'static str>,
    /// Per state in the policy's order: its name, how many, and how many per age.
    states: Vec<(&'static str, u64, [u64; 5])>,
}

async fn dashboard_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, UiError> {
    let dashboard = reports::dashboard(&state.desk(), &viewer.principal.caller())
        .await
        .map_err(ApiError::from)?;
    let week = &dashboard.week;
    let catalog = viewer.catalog;
    let clock = |name: &'static str, summary: &ClockSummary| WeekClock {
        name,
        summary: match summary.met_percent {
            Some(percent) => catalog.format(
                "dashboard.met_of",
                &[
                    ("share", &format!("{percent:.1}%")),
                    ("met", &summary.met.to_string()),
                    ("measured", &summary.measured.to_string()),
                ],
            ),
            None => viewer.t("dashboard.nothing_settled").to_string(),
        },
    };
    let clocks = vec![
        clock(
            viewer.t("reports.first_response"),
            &week.total.first_response,
        ),
        clock(viewer.t("reports.updates"), &week.total.updates),
        clock(viewer.t("reports.resolution"), &week.total.resolution),
    ];
    let states = caredesk_domain::ticket::TicketState::ALL
        .into_iter()
        .filter_map(|known| {
            let (_, count, by_age) = dashboard
                .now
                .by_state
                .iter()
                .find(|(name, ..)| name == known.as_str())?;
            Some((super::view::state_name(catalog, known), *count, *by_age))
        })
        .collect();
    let mut week_query = form_urlencoded::Serializer::new(String::new());
    week_query.append_pair("from", &week.from.to_string());
    week_query.append_pair("to", &week.to.to_string());
    Ok(render(&DashboardPage {
        page: viewer.page(viewer.t("dashboard.title").to_string()),
        week: catalog.format("dashboard.week", &[("from", &week.from.to_string())]),
        week_query: week_query.finish(),
        week_tickets: week.total.tickets,
        clocks,
        ages: (0..5)
            .map(|age| viewer.t(&format!("dashboard.age_{age}")))
            .collect(),
        now: dashboard.now,
        states,
    })?
    .into_response())
}

impl ReportForm {
    /// The breaches the same form asks for: its period and filter, the clock and the page.
    fn breaches_request(&self) -> Result<BreachesRequest, UiError> {
        let report = self.request()?;
        let clock = match self.clock.trim() {
            "" => None,
            name => Some(
                BreachedClock::ALL
                    .into_iter()
                    .find(|clock| clock.name() == name)
                    .ok_or_else(|| {
                        UiError::BadRequest(format!(
                            "clock: \"{name}\" is not first_response, updates or resolution"
                        ))
                    })?,
            ),
        };
        let page = match self.page.trim() {
            "" => None,
            text => Some(text.parse().map_err(|_| {
                UiError::BadRequest(format!("page: \"{text}\" is not a page number"))
            })?),
        };
        Ok(BreachesRequest {
            from: report.from,
            to: report.to,
            filter: report.filter,
            clock,
            page,
        })
    }
}

/// One breached ticket as the page shows it.
struct BreachLine {
    /// The ticket's page.
    href: String,
    id: i64,
    subject: String,
    customer: String,
    severity: String,
    advisor: String,
    opened: String,
    breached: String,
    first_response: String,
    resolution: String,
    updates: String,
    paused: String,
    paused_causes: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/breaches.html")]
struct BreachesPage {
    page: Page,
    intro: String,
    base: &'static str,
    /// The report's query (period and filter) without clock and page, for the links.
    query: String,
    /// The same as the form's hidden fields, for choosing another clock.
    hidden: Vec<(String, String)>,
    clock: String,
    clocks: Vec<(&'static str, &'static str)>,
    /// Whether the viewer is staff (customers and advisors are shown).
    staff: bool,
    lines: Vec<BreachLine>,
    page_number: u32,
    previous: Option<String>,
    next: Option<String>,
    csv: String,
}

/// The breaches of the report the address asks for, a page at a time.
async fn breaches_page(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let mut form = ReportForm::parse(raw.as_deref())?;
    let list = breaches_of(&state, &viewer, &form).await?;
    let base = base_of(&viewer);
    let staff = matches!(viewer.principal, Principal::Staff(_));
    // The customer a CSM's list is about, chosen for them when they named none, stays in
    // the links (a contact's is always their own and never in the address).
    if staff
        && form.customer.trim().is_empty()
        && let Some(customer) = list.filter.customer
    {
        form.customer = customer.to_string();
    }
    let tickets_base = if staff {
        "/console/tickets"
    } else {
        "/portal/tickets"
    };
    let query = query_of(list.from, list.to, &form);
    let with = |page: u32| {
        let mut pairs = form_urlencoded::Serializer::new(query.clone());
        if let Some(clock) = list.clock {
            pairs.append_pair("clock", clock.name());
        }
        pairs.append_pair("page", &page.to_string());
        pairs.finish()
    };
    let hours = |minutes: u64| {
        viewer.catalog.format(
            "reports.hours",
            &[("hours", &format!("{:.1}", minutes as f64 / 60.0))],
        )
    };
    let used_of = |used: u64, target: u64| {
        viewer.catalog.format(
            "reports.used_of",
            &[("used", &hours(used)), ("target", &hours(target))],
        )
    };
    let lines = list
        .tickets
        .iter()
        .map(|ticket| BreachLine {
            href: format!("{tickets_base}/{}", ticket.id),
            id: ticket.id,
            subject: ticket.subject.clone(),
            customer: ticket.customer.clone(),
            severity: ticket.severity.clone(),
            advisor: ticket.advisor.clone().unwrap_or_default(),
            opened: viewer.catalog.when(ticket.opened_at, &viewer.time_zone),
            breached: ticket
                .breached
                .iter()
                .map(|clock| viewer.t(&format!("reports.{}", clock.name())))
                .collect::<Vec<_>>()
                .join(", "),
            first_response: used_of(
                ticket.first_response.used_minutes,
                ticket.first_response.target_minutes,
            ),
            resolution: ticket.resolution.map_or_else(String::new, |clock| {
                used_of(clock.used_minutes, clock.target_minutes)
            }),
            updates: viewer.catalog.format(
                "reports.updates_missed",
                &[
                    ("missed", &ticket.updates_missed.to_string()),
                    ("owed", &ticket.updates_owed.to_string()),
                ],
            ),
            paused: hours(ticket.paused_minutes),
            paused_causes: ticket
                .paused
                .iter()
                .map(|paused| {
                    format!(
                        "{}: {}",
                        viewer.t(&format!("reports.cause_{}", paused.cause)),
                        hours(paused.minutes)
                    )
                })
                .collect(),
        })
        .collect();
    let intro = viewer.catalog.format(
        "reports.breaches_intro",
        &[
            ("from", &list.from.to_string()),
            ("to", &list.to.to_string()),
        ],
    );
    let title = viewer.t("reports.breaches").to_string();
    Ok(render(&BreachesPage {
        page: viewer.page(title),
        intro,
        base,
        clock: list.clock.map_or("", BreachedClock::name).to_string(),
        clocks: BreachedClock::ALL
            .into_iter()
            .map(|clock| (clock.name(), viewer.t(&format!("reports.{}", clock.name()))))
            .collect(),
        staff,
        lines,
        page_number: list.page,
        previous: (list.page > 1).then(|| with(list.page - 1)),
        next: list.more.then(|| with(list.page + 1)),
        csv: with(list.page),
        hidden: form_urlencoded::parse(query.as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect(),
        query,
    })?
    .into_response())
}

async fn breaches_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let form = ReportForm::parse(raw.as_deref())?;
    let list = breaches_of(&state, &viewer, &form).await?;
    Ok(csv_attachment(
        &format!("breaches-{}-{}-page-{}.csv", list.from, list.to, list.page),
        reports::breaches_as_csv(&list),
    ))
}

/// The breaches the form asks for, read as its report is (advisors are not builders').
async fn breaches_of(
    state: &AppState,
    viewer: &Viewer,
    form: &ReportForm,
) -> Result<BreachList, UiError> {
    if let Principal::Staff(member) = &viewer.principal
        && member.role == Role::Advisor
    {
        return Err(UiError::Forbidden);
    }
    let mut request = form.breaches_request()?;
    // A CSM reads one of their customers at a time: the first unless one is chosen.
    if let Principal::Staff(member) = &viewer.principal
        && member.role == Role::CustomerSuccessManager
        && request.filter.customer.is_none()
    {
        request.filter.customer = state
            .store
            .customers()
            .await?
            .into_iter()
            .find(|customer| customer.csm_id == Some(member.id))
            .map(|customer| customer.id);
    }
    Ok(
        reports::breaches(&state.desk(), &viewer.principal.caller(), request)
            .await
            .map_err(ApiError::from)?,
    )
}
