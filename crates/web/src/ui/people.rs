//! People in the console: who did the work, on which regions' tickets, in which languages,
//! week by week or month by month; after-hours work on extended calendars; each chart beside
//! the table of the same numbers, each table as CSV. A manager reads everyone's and can
//! pick one person; other staff read their own. The form is kept in the address.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use caredesk_desk::people::{self, PeoplePart, PeopleReport, PeopleRequest, WorkLine};
use caredesk_domain::report::Span;
use caredesk_domain::ticket::Role;
use serde::Deserialize;

use super::charts::{Series, count_bars, svg_response};
use super::reports::optional_date;
use super::session::Viewer;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::Principal;
use crate::download::csv_attachment;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/reports/people", get(people_page))
        .route("/console/reports/people.svg", get(people_chart))
        .route("/console/reports/people.csv", get(people_csv))
}

/// The form, as the address carries it (empty means "any").
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
struct PeopleForm {
    from: String,
    to: String,
    span: String,
    region: String,
    language: String,
    advisor: String,
    part: String,
    chart: String,
}

impl PeopleForm {
    fn parse(raw: Option<&str>) -> Result<PeopleForm, UiError> {
        serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|error| UiError::BadRequest(error.to_string()))
    }

    fn request(&self) -> Result<PeopleRequest, UiError> {
        let some = |text: &str| Some(text.trim().to_string()).filter(|text| !text.is_empty());
        let span = match self.span.trim() {
            "" => Span::default(),
            name => Span::parse(name).ok_or_else(|| {
                UiError::BadRequest(format!("span: \"{name}\" is not week or month"))
            })?,
        };
        let advisor = match self.advisor.trim() {
            "" => None,
            text => Some(text.parse().map_err(|_| {
                UiError::BadRequest(format!(
                    "advisor: \"{text}\" is not a member of staff's number"
                ))
            })?),
        };
        Ok(PeopleRequest {
            from: optional_date("from", &self.from)?,
            to: optional_date("to", &self.to)?,
            span,
            region: some(&self.region),
            language: some(&self.language),
            advisor,
        })
    }

    /// The address's query for the same report over the period it was widened to.
    fn query(&self, report: &PeopleReport) -> String {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        pairs.append_pair("from", &report.from.to_string());
        pairs.append_pair("to", &report.to.to_string());
        pairs.append_pair("span", report.span.name());
        for (name, value) in [
            ("region", &self.region),
            ("language", &self.language),
            ("advisor", &self.advisor),
        ] {
            if !value.trim().is_empty() {
                pairs.append_pair(name, value.trim());
            }
        }
        pairs.finish()
    }
}

/// The counts of one line of a table, worded.
struct Cells {
    counts: [u64; 7],
    in_time: String,
}

impl Cells {
    fn of(line: &WorkLine) -> Cells {
        Cells {
            counts: line.counts.values(),
            in_time: line
                .in_time_percent
                .map_or_else(|| "–".to_string(), |percent| format!("{percent:.0} %")),
        }
    }
}

struct PersonLine {
    name: String,
    home_region: String,
    regions: String,
    cells: Cells,
    languages: String,
    open_now: u64,
}

struct RegionLine {
    region: String,
    people: u64,
    cells: Cells,
}

struct LoadLine {
    period: String,
    people: u64,
    cells: Cells,
}

#[derive(Template)]
#[template(path = "console/people.html")]
struct PeopleTemplate {
    page: Page,
    intro: String,
    from: String,
    to: String,
    span: &'static str,
    regions_known: Vec<String>,
    region: String,
    languages_known: Vec<String>,
    language: String,
    /// Members of staff a manager can pick, by id and name; empty for the others.
    staff: Vec<(String, String)>,
    advisor: String,
    query: String,
    headings: Vec<&'static str>,
    people: Vec<PersonLine>,
    regions: Vec<RegionLine>,
    load: Vec<LoadLine>,
    total: Cells,
    open_now: u64,
    worked: bool,
}

/// The people report the form asks for, as the viewer may read it.
async fn report_of(
    state: &AppState,
    viewer: &Viewer,
    form: &PeopleForm,
) -> Result<PeopleReport, UiError> {
    if !matches!(viewer.principal, Principal::Staff(_)) {
        return Err(UiError::Forbidden);
    }
    Ok(
        people::people(&state.desk(), &viewer.principal.caller(), form.request()?)
            .await
            .map_err(ApiError::from)?,
    )
}

fn is_manager(viewer: &Viewer) -> bool {
    matches!(&viewer.principal, Principal::Staff(member)
        if matches!(member.role, Role::SupportManager | Role::Admin))
}

async fn people_page(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let form = PeopleForm::parse(raw.as_deref())?;
    let report = report_of(&state, &viewer, &form).await?;
    let staff = if is_manager(&viewer) {
        state
            .desk()
            .store
            .staff()
            .await
            .map_err(|error| ApiError::from(caredesk_desk::DeskError::from(error)))?
            .into_iter()
            .filter(|member| member.active && member.role != Role::CustomerContact)
            .map(|member| (member.id.to_string(), member.name))
            .collect()
    } else {
        Vec::new()
    };
    let people = report
        .people
        .iter()
        .map(|person| PersonLine {
            name: person.name.clone(),
            home_region: person.home_region.clone().unwrap_or_default(),
            regions: person.regions.join(", "),
            cells: Cells::of(&person.work),
            languages: person
                .languages
                .iter()
                .map(|language| format!("{} ({})", language.language, language.tickets))
                .collect::<Vec<_>>()
                .join(", "),
            open_now: person.open_now,
        })
        .collect();
    let regions = report
        .regions
        .iter()
        .map(|region| RegionLine {
            region: region.region.clone(),
            people: region.people,
            cells: Cells::of(&region.work),
        })
        .collect();
    let load = report
        .periods
        .iter()
        .map(|period| LoadLine {
            period: report.span.label(period.start),
            people: period.people,
            cells: Cells::of(&period.work),
        })
        .collect();
    let policy = &state.policy();
    Ok(render(&PeopleTemplate {
        page: viewer.page(viewer.t("people.title").to_string()),
        intro: viewer.catalog.format(
            "people.intro",
            &[
                ("from", &report.from.to_string()),
                ("to", &report.to.to_string()),
            ],
        ),
        from: report.from.to_string(),
        to: report.to.to_string(),
        span: report.span.name(),
        regions_known: policy.regions.keys().cloned().collect(),
        region: form.region.trim().to_string(),
        languages_known: policy.languages.supported.clone(),
        language: form.language.trim().to_string(),
        staff,
        advisor: form.advisor.trim().to_string(),
        query: form.query(&report),
        headings: [
            "people.tickets",
            "people.actions",
            "people.replies",
            "people.first_responses",
            "people.first_responses_in_time",
            "people.solutions_accepted",
            "people.after_hours",
        ]
        .map(|key| viewer.t(key))
        .to_vec(),
        people,
        regions,
        load,
        total: Cells::of(&report.total),
        open_now: report.people.iter().map(|person| person.open_now).sum(),
        worked: report.total.counts.actions + report.total.counts.solutions_accepted > 0,
    })?
    .into_response())
}

/// A chart of the report the same query asks for: `load` (actions, replies and after-hours
/// actions per period) or `people` (tickets handled and actions per person).
async fn people_chart(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let form = PeopleForm::parse(raw.as_deref())?;
    let report = report_of(&state, &viewer, &form).await?;
    let svg = if form.chart == "people" {
        let groups: Vec<String> = report
            .people
            .iter()
            .map(|person| person.name.clone())
            .collect();
        count_bars(
            &groups,
            &[
                Series {
                    name: viewer.t("people.tickets"),
                    values: report
                        .people
                        .iter()
                        .map(|person| person.work.counts.tickets)
                        .collect(),
                },
                Series {
                    name: viewer.t("people.actions"),
                    values: report
                        .people
                        .iter()
                        .map(|person| person.work.counts.actions)
                        .collect(),
                },
            ],
            viewer.t("people.people_chart_title"),
            viewer.t("people.count"),
        )
    } else {
        let groups: Vec<String> = report
            .periods
            .iter()
            .map(|period| report.span.label(period.start))
            .collect();
        let series = |key: &str, value: fn(&WorkLine) -> u64| Series {
            name: viewer.t(key),
            values: report
                .periods
                .iter()
                .map(|period| value(&period.work))
                .collect(),
        };
        count_bars(
            &groups,
            &[
                series("people.actions", |line| line.counts.actions),
                series("people.replies", |line| line.counts.replies),
                series("people.after_hours", |line| line.counts.after_hours),
            ],
            viewer.t("people.load_chart_title"),
            viewer.t("people.count"),
        )
    }
    .map_err(UiError::Unexpected)?;
    Ok(svg_response(svg))
}

async fn people_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let form = PeopleForm::parse(raw.as_deref())?;
    let part = match form.part.trim() {
        "" => PeoplePart::default(),
        name => PeoplePart::parse(name).ok_or_else(|| {
            UiError::BadRequest(format!("part: \"{name}\" is not people, regions or load"))
        })?,
    };
    let report = report_of(&state, &viewer, &form).await?;
    let name = part.name();
    Ok(csv_attachment(
        &format!("people-{name}-{}-{}.csv", report.from, report.to),
        people::people_as_csv(&report, part),
    ))
}
