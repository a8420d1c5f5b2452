//! People: who did the work, where, in which languages, and when.
//!
//! A people report covers whole weeks (from Monday, UTC) or months, widened like a volume
//! report, and counts the work done in them ([`caredesk_domain::work`]): per member of staff,
//! the tickets they handled, their actions and the replies the customer saw, the first
//! responses they gave and the share given in time, the solutions of theirs the customer
//! accepted, the actions after office hours on tickets running on an extended calendar
//! (24x5, 24x7), the languages of the tickets they worked on, and how many tickets are
//! assigned to them now; per region (of the tickets) the same; and the load over time, week by
//! week or month by month. Support managers and administrators read everyone's; an advisor or
//! a customer success manager their own; a customer's contact none: it is the desk's.

use std::collections::BTreeMap;

use caredesk_domain::report::{ReportFilter, Span};
use caredesk_domain::ticket::Role;
use caredesk_domain::work::WorkCounts;
use caredesk_store::WorkQuery;
use jiff::civil::Date;
use serde::Serialize;

use crate::reports::{checked_period, push_csv_line};
use crate::{Caller, Desk, DeskError};

/// What a people report is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeopleRequest {
    /// The first day of the period; by default 30 days before `to`.
    pub from: Option<Date>,
    /// The last day of the period (included); by default today (UTC).
    pub to: Option<Date>,
    pub span: Span,
    /// The tickets of one region only.
    pub region: Option<String>,
    /// The tickets in one language only.
    pub language: Option<String>,
    /// One member of staff only.
    pub advisor: Option<i64>,
}

/// A people report, as computed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeopleReport {
    /// The first day of the first week or month (UTC).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: Date,
    /// The last day of the last week or month, included.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub to: Date,
    pub span: Span,
    pub generated_at: jiff::Timestamp,
    pub region: Option<String>,
    pub language: Option<String>,
    /// The member of staff the report is about, if one.
    pub advisor: Option<i64>,
    /// Each member of staff who worked in the period, by name.
    pub people: Vec<PersonWork>,
    /// Each region of the tickets worked on, by name.
    pub regions: Vec<RegionWork>,
    /// Everyone's work added up.
    pub total: WorkLine,
    /// Every week or month of the period, in order, with the work done in it.
    pub periods: Vec<PeriodWork>,
}

/// Counts of work with the share of first responses in time.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct WorkLine {
    #[serde(flatten)]
    pub counts: WorkCounts,
    /// First responses given in time, in percent of those given.
    pub in_time_percent: Option<f64>,
}

impl WorkLine {
    fn of(counts: WorkCounts) -> WorkLine {
        WorkLine {
            counts,
            in_time_percent: counts.in_time_percent(),
        }
    }
}

/// One member of staff's work.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PersonWork {
    pub id: i64,
    pub name: String,
    /// Their role's stored name (`advisor`, `support_manager`, …).
    pub role: String,
    /// The region they belong to, if any.
    pub home_region: Option<String>,
    #[serde(flatten)]
    pub work: WorkLine,
    /// The regions of the tickets they worked on, by name.
    pub regions: Vec<String>,
    /// The languages of the tickets they handled, most tickets first.
    pub languages: Vec<LanguageWork>,
    /// Open tickets assigned to them now.
    pub open_now: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LanguageWork {
    pub language: String,
    pub tickets: u64,
    pub actions: u64,
}

/// The work on one region's tickets.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegionWork {
    pub region: String,
    /// Members of staff who worked on its tickets.
    pub people: u64,
    #[serde(flatten)]
    pub work: WorkLine,
}

/// One week or month.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeriodWork {
    /// Its first day.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub start: Date,
    /// Members of staff who did something in it.
    pub people: u64,
    #[serde(flatten)]
    pub work: WorkLine,
}

/// The people report `request` asks for, as `caller` may read it.
pub async fn people(
    desk: &Desk,
    caller: &Caller,
    request: PeopleRequest,
) -> Result<PeopleReport, DeskError> {
    let now = desk.clock.now();
    let filter = ReportFilter {
        region: request.region.clone(),
        language: request.language.clone(),
        advisor: request.advisor,
        ..ReportFilter::default()
    };
    let (asked_from, asked_to) = checked_period(desk, now, request.from, request.to, &filter)?;
    let span = request.span;
    let (from, to) = (span.start_of(asked_from), span.end_of(asked_to));
    let advisor = match *caller {
        Caller::System => request.advisor,
        Caller::Staff {
            role: Role::SupportManager | Role::Admin,
            ..
        } => request.advisor,
        Caller::Staff {
            role: Role::CustomerContact,
            ..
        } => return Err(DeskError::NotFound),
        Caller::Staff { id, .. } => {
            if request.advisor.is_some_and(|asked| asked != id) {
                return Err(DeskError::Forbidden(
                    "a people report is about your own work unless you are a support manager"
                        .into(),
                ));
            }
            Some(id)
        }
        Caller::Contact { .. } => {
            return Err(DeskError::Forbidden(
                "the people report is the desk's, not a customer's".into(),
            ));
        }
    };
    let (rows, staff, loads) = tokio::try_join!(
        async {
            desk.store
                .work(&WorkQuery {
                    first_day: from,
                    last_day: to,
                    span,
                    region: request.region.as_deref(),
                    language: request.language.as_deref(),
                    person: advisor,
                })
                .await
                .map_err(DeskError::from)
        },
        async { desk.store.staff().await.map_err(DeskError::from) },
        async {
            desk.store
                .kept_advisor_loads()
                .await
                .map_err(DeskError::from)
        },
    )?;
    if let Some(id) = request.advisor
        && !staff.iter().any(|member| member.id == id)
    {
        return Err(DeskError::invalid(
            "advisor",
            "no member of staff has this id",
        ));
    }

    let mut periods: Vec<PeriodWork> = Vec::new();
    let mut start = from;
    while start <= to {
        periods.push(PeriodWork {
            start,
            people: 0,
            work: WorkLine::default(),
        });
        match span.end_of(start).tomorrow() {
            Ok(next) => start = next,
            Err(_) => break,
        }
    }
    let mut by_person: BTreeMap<i64, Gathered> = BTreeMap::new();
    let mut by_region: BTreeMap<String, (WorkCounts, Vec<i64>)> = BTreeMap::new();
    let mut period_people: BTreeMap<Date, Vec<i64>> = BTreeMap::new();
    let mut total = WorkCounts::default();
    for row in &rows {
        total.add(&row.counts);
        let person = by_person.entry(row.person).or_default();
        person.counts.add(&row.counts);
        let language = person.languages.entry(row.language.clone()).or_default();
        language.0 += row.counts.tickets;
        language.1 += row.counts.actions;
        if !person.regions.contains(&row.region) {
            person.regions.push(row.region.clone());
        }
        let (region_counts, region_people) = by_region.entry(row.region.clone()).or_default();
        region_counts.add(&row.counts);
        if !region_people.contains(&row.person) {
            region_people.push(row.person);
        }
        if let Ok(index) = periods.binary_search_by(|period| period.start.cmp(&row.period))
            && let Some(period) = periods.get_mut(index)
        {
            period.work.counts.add(&row.counts);
            let seen = period_people.entry(row.period).or_default();
            if !seen.contains(&row.person) {
                seen.push(row.person);
                period.people += 1;
            }
        }
    }
    for period in &mut periods {
        period.work = WorkLine::of(period.work.counts);
    }
    // Every active advisor the report is about is listed, those who did nothing too: a
    // manager looks for them as much as for the busiest.
    for member in &staff {
        let about = member.active
            && member.role == Role::Advisor
            && advisor.is_none_or(|id| id == member.id)
            && request
                .region
                .as_ref()
                .is_none_or(|region| member.region.as_ref() == Some(region))
            && request
                .language
                .as_ref()
                .is_none_or(|language| member.languages.contains(language));
        if about {
            by_person.entry(member.id).or_default();
        }
    }
    let open_now = |id: i64| {
        loads
            .iter()
            .filter(|((advisor, _), _)| *advisor == id)
            .map(|(_, open)| u64::try_from(*open).unwrap_or(0))
            .sum::<u64>()
    };
    let mut people: Vec<PersonWork> = by_person
        .into_iter()
        .map(|(id, gathered)| {
            let Gathered {
                counts,
                languages,
                mut regions,
            } = gathered;
            let member = staff.iter().find(|member| member.id == id);
            let mut languages: Vec<LanguageWork> = languages
                .into_iter()
                .map(|(language, (tickets, actions))| LanguageWork {
                    language,
                    tickets,
                    actions,
                })
                .collect();
            languages.sort_by(|a, b| b.tickets.cmp(&a.tickets).then(b.actions.cmp(&a.actions)));
            regions.sort();
            PersonWork {
                id,
                name: member.map_or_else(|| format!("#{id}"), |member| member.name.clone()),
                role: member.map_or_else(String::new, |member| role_name(member.role)),
                home_region: member.and_then(|member| member.region.clone()),
                work: WorkLine::of(counts),
                regions,
                languages,
                open_now: open_now(id),
            }
        })
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let regions = by_region
        .into_iter()
        .map(|(region, (counts, people))| RegionWork {
            region,
            people: people.len() as u64,
            work: WorkLine::of(counts),
        })
        .collect();
    Ok(PeopleReport {
        from,
        to,
        span,
        generated_at: now,
        region: request.region,
        language: request.language,
        advisor,
        people,
        regions,
        total: WorkLine::of(total),
        periods,
    })
}

/// One person's work as the report's rows are read.
#[derive(Default)]
struct Gathered {
    counts: WorkCounts,
    /// Tickets and actions per language.
    languages: BTreeMap<String, (u64, u64)>,
    regions: Vec<String>,
}

fn role_name(role: Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Counts the work on up to `batch` tickets written before work was counted (the desk's job
/// does it a batch at a time until none is left); returns how many.
pub async fn count_earlier_work(desk: &Desk, batch: i64) -> Result<usize, DeskError> {
    Ok(desk.store.count_earlier_work(&desk.policy(), batch).await?)
}

/// Which table of a people report a CSV holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PeoplePart {
    /// One line per member of staff (and one for all).
    #[default]
    People,
    /// One line per region of the tickets.
    Regions,
    /// One line per week or month: the load over time.
    Load,
}

impl PeoplePart {
    pub const ALL: [PeoplePart; 3] = [PeoplePart::People, PeoplePart::Regions, PeoplePart::Load];

    pub fn name(self) -> &'static str {
        match self {
            PeoplePart::People => "people",
            PeoplePart::Regions => "regions",
            PeoplePart::Load => "load",
        }
    }

    pub fn parse(name: &str) -> Option<PeoplePart> {
        PeoplePart::ALL.into_iter().find(|part| part.name() == name)
    }
}

fn count_fields(line: &WorkLine) -> Vec<String> {
    line.counts
        .values()
        .iter()
        .map(u64::to_string)
        .chain(std::iter::once(
            line.in_time_percent
                .map(|percent| format!("{percent:.1}"))
                .unwrap_or_default(),
        ))
        .collect()
}

fn count_headers() -> Vec<String> {
    WorkCounts::NAMES
        .iter()
        .map(|name| name.to_string())
        .chain(std::iter::once("in_time_percent".to_string()))
        .collect()
}

/// One table of a people report as CSV.
pub fn people_as_csv(report: &PeopleReport, part: PeoplePart) -> String {
    let mut csv = String::new();
    match part {
        PeoplePart::People => {
            let mut header: Vec<String> = ["id", "name", "role", "home_region", "regions"]
                .map(String::from)
                .to_vec();
            header.extend(count_headers());
            header.extend(["open_now", "languages"].map(String::from));
            push_csv_line(&mut csv, &header);
            for person in &report.people {
                let mut fields = vec![
                    person.id.to_string(),
                    person.name.clone(),
                    person.role.clone(),
                    person.home_region.clone().unwrap_or_default(),
                    person.regions.join(" "),
                ];
                fields.extend(count_fields(&person.work));
                fields.push(person.open_now.to_string());
                fields.push(
                    person
                        .languages
                        .iter()
                        .map(|language| format!("{} {}", language.language, language.tickets))
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                push_csv_line(&mut csv, &fields);
            }
            let mut fields = vec![
                String::new(),
                "all".to_string(),
                String::new(),
                String::new(),
                String::new(),
            ];
            fields.extend(count_fields(&report.total));
            fields.push(
                report
                    .people
                    .iter()
                    .map(|person| person.open_now)
                    .sum::<u64>()
                    .to_string(),
            );
            fields.push(String::new());
            push_csv_line(&mut csv, &fields);
        }
        PeoplePart::Regions => {
            let mut header = vec!["region".to_string(), "people".to_string()];
            header.extend(count_headers());
            push_csv_line(&mut csv, &header);
            for region in &report.regions {
                let mut fields = vec![region.region.clone(), region.people.to_string()];
                fields.extend(count_fields(&region.work));
                push_csv_line(&mut csv, &fields);
            }
        }
        PeoplePart::Load => {
            let mut header = vec![report.span.name().to_string(), "people".to_string()];
            header.extend(count_headers());
            push_csv_line(&mut csv, &header);
            for period in &report.periods {
                let mut fields = vec![period.start.to_string(), period.people.to_string()];
                fields.extend(count_fields(&period.work));
                push_csv_line(&mut csv, &fields);
            }
        }
    }
    csv
}
