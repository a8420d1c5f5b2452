//! The policy rendered back as readable tables, as plain data: the CLI prints them as text,
//! the console as HTML, so both always show the same thing.

use jiff::civil::Weekday;

use super::{Policy, UpdateRule};
use crate::calendar::Calendar;
use crate::calendar::hours::weekday_name;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyTable {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// A sentence under the table, when the rows alone do not say everything.
    pub note: Option<String>,
}

/// Every table of the policy, with the holiday dates of `year`.
pub fn policy_tables(policy: &Policy, year: i16) -> Vec<PolicyTable> {
    vec![
        settings(policy),
        programs(policy),
        channels(policy),
        severities(policy),
        product_lines(policy),
        regions(policy),
        calendars(policy),
        holidays(policy, year),
        coverage(policy),
        exclusions(policy),
    ]
}

fn table(title: &str, headers: &[&str], rows: Vec<Vec<String>>) -> PolicyTable {
    PolicyTable {
        title: title.to_string(),
        headers: headers.iter().map(|header| header.to_string()).collect(),
        rows,
        note: None,
    }
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_string()
}

fn settings(policy: &Policy) -> PolicyTable {
    let mut rows = vec![vec!["policy".to_string(), policy.name.clone()]];
    if let Some(version) = &policy.version {
        rows.push(vec!["version".into(), version.clone()]);
    }
    rows.extend([
        vec![
            "at risk".into(),
            format!("at {} % of a clock's target", policy.at_risk_percent),
        ],
        vec!["languages".into(), policy.languages.supported.join(", ")],
        vec![
            "fallback language".into(),
            policy.languages.fallback.clone(),
        ],
        vec![
            "supported releases".into(),
            format!(
                "the {} most recent of each product line",
                policy.scope.supported_releases
            ),
        ],
        vec![
            "native programming languages".into(),
            policy.scope.native_programming_languages.join(", "),
        ],
        vec![
            "activation passwords".into(),
            format!(
                "valid {} days after they are issued",
                policy.activation.password_valid_days
            ),
        ],
        vec![
            "updates with valid care".into(),
            update_rule(policy.activation.updates_with_care),
        ],
        vec![
            "updates without care".into(),
            update_rule(policy.activation.updates_without_care),
        ],
        vec![
            "update requests".into(),
            format!(
                "for lines without an online update manager: filed at {}; {}",
                policy.activation.update_request_severity,
                if policy.activation.update_requests_breach {
                    "their clocks breach like any ticket's"
                } else {
                    "their due times guide the advisor, they never breach"
                }
            ),
        ],
    ]);
    table("Settings", &["setting", "value"], rows)
}

fn update_rule(rule: UpdateRule) -> String {
    match rule {
        UpdateRule::All => "every newer release of the line (updates and upgrades)",
        UpdateRule::WithinLicensedMajor => {
            "the updates of the major version the licence was bought for"
        }
        UpdateRule::None => "none",
    }
    .to_string()
}

fn programs(policy: &Policy) -> PolicyTable {
    let rows = policy
        .programs
        .iter()
        .map(|(id, program)| {
            vec![
                format!("{} ({id})", program.name),
                program.coverage.clone(),
                yes_no(program.dedicated_csm),
                if program.priority_queue {
                    "priority"
                } else {
                    "normal"
                }
                .to_string(),
                yes_no(program.monthly_report),
            ]
        })
        .collect();
    table(
        "Programs",
        &[
            "program",
            "coverage",
            "dedicated CSM",
            "queue placement",
            "monthly report by e-mail",
        ],
        rows,
    )
}

fn channels(policy: &Policy) -> PolicyTable {
    let rows = policy
        .channels
        .iter()
        .map(|(id, channel)| {
            vec![
                format!("{} ({id})", channel.name),
                channel.first_response.to_string(),
                if channel.acknowledgement {
                    "automatic acknowledgement e-mail at once"
                } else {
                    "entered by an advisor"
                }
                .to_string(),
            ]
        })
        .collect();
    table(
        "Channels",
        &["channel", "first response", "on intake"],
        rows,
    )
}

fn severities(policy: &Policy) -> PolicyTable {
    let rows = policy
        .severities
        .iter()
        .map(|(id, severity)| {
            let resolution = match (&severity.resolution, &severity.resolution_note) {
                (Some(target), _) => target.to_string(),
                (None, Some(note)) => format!("no clock: {note}"),
                (None, None) => "no clock".to_string(),
            };
            let mut updates = severity
                .update_every
                .map_or_else(|| "none".to_string(), |cadence| cadence.as_cadence());
            if severity.update_negotiable {
                updates.push_str(if severity.update_every.is_some() {
                    ", or as agreed on the ticket"
                } else {
                    " unless agreed on the ticket"
                });
            }
            vec![
                format!("{id} {}", severity.name),
                severity.meaning.clone(),
                resolution,
                updates,
                match (severity.worked_continuously, severity.idle_alert_after) {
                    (true, Some(idle)) => format!(
                        "yes: on call after the office's hours on extended cover; the support manager is alerted after {idle} without an advisor's action"
                    ),
                    (true, None) => "yes: on call after the office's hours on extended cover".into(),
                    (false, _) => yes_no(false),
                },
            ]
        })
        .collect();
    let mut severities = table(
        "Severities",
        &[
            "severity",
            "meaning",
            "resolution target",
            "status updates",
            "worked continuously",
        ],
        rows,
    );
    severities.note = Some(
        "A business day is the length of the ticket's calendar's business day (see Calendars)."
            .to_string(),
    );
    severities
}

fn product_lines(policy: &Policy) -> PolicyTable {
    let rows = policy
        .product_lines
        .iter()
        .map(|(id, line)| {
            vec![
                format!("{} ({id})", line.name),
                if line.editions.is_empty() {
                    "any".to_string()
                } else {
                    line.editions.join(", ")
                },
                if line.online_update_manager {
                    "online update manager"
                } else {
                    "on request"
                }
                .to_string(),
            ]
        })
        .collect();
    table(
        "Product lines",
        &["product line", "editions", "updates delivered by"],
        rows,
    )
}

fn regions(policy: &Policy) -> PolicyTable {
    let rows = policy
        .regions
        .iter()
        .map(|(id, region)| {
            vec![
                format!("{} ({id})", region.name),
                region.office.clone(),
                region.time_zone.iana_name().unwrap_or("").to_string(),
                region.calendar.clone(),
                region.languages.join(", "),
            ]
        })
        .collect();
    table(
        "Regions",
        &["region", "office", "time zone", "calendar", "languages"],
        rows,
    )
}

fn calendars(policy: &Policy) -> PolicyTable {
    let rows = policy
        .calendars
        .iter()
        .map(|(id, calendar)| {
            vec![
                id.clone(),
                calendar.title().to_string(),
                calendar.time_zone().iana_name().unwrap_or("").to_string(),
                opening_hours(calendar),
                format!(
                    "{} h{}",
                    calendar.business_day_minutes() / 60,
                    match calendar.business_day_minutes() % 60 {
                        0 => String::new(),
                        minutes => format!(" {minutes:02} min"),
                    }
                ),
            ]
        })
        .collect();
    table(
        "Calendars",
        &["calendar", "name", "time zone", "open", "business day"],
        rows,
    )
}

/// "Mon–Fri 08:00-17:00", runs of days with the same hours written once.
pub fn opening_hours(calendar: &Calendar) -> String {
    let week: Vec<Weekday> = std::iter::successors(Some(Weekday::Monday), |day| {
        (*day != Weekday::Sunday).then(|| day.next())
    })
    .collect();
    let mut parts = Vec::new();
    let mut index = 0;
    while index < week.len() {
        let hours = calendar.hours().on(week[index]);
        let mut last = index;
        while last + 1 < week.len() && calendar.hours().on(week[last + 1]) == hours {
            last += 1;
        }
        if !hours.is_empty() {
            let days = if last == index {
                short_day(week[index]).to_string()
            } else {
                format!("{}–{}", short_day(week[index]), short_day(week[last]))
            };
            let intervals: Vec<String> = hours.iter().map(ToString::to_string).collect();
            parts.push(format!("{days} {}", intervals.join(", ")));
        }
        index = last + 1;
    }
    parts.join("; ")
}

fn short_day(weekday: Weekday) -> &'static str {
    &weekday_name(weekday)[..3]
}

fn holidays(policy: &Policy, year: i16) -> PolicyTable {
    // One row per date and holiday, with the calendars it closes.
    let mut rows: Vec<(jiff::civil::Date, String, Vec<&str>)> = Vec::new();
    for (id, calendar) in &policy.calendars {
        for (date, name) in calendar.closed_dates_in(year) {
            match rows
                .iter_mut()
                .find(|(row_date, row_name, _)| *row_date == date && row_name == name)
            {
                Some(row) => row.2.push(id),
                None => rows.push((date, name.to_string(), vec![id])),
            }
        }
    }
    rows.sort_by_key(|row| row.0);
    let all = policy.calendars.len();
    let rows = rows
        .into_iter()
        .map(|(date, name, calendars)| {
            vec![
                date.to_string(),
                weekday_name(date.weekday()).to_string(),
                name,
                if calendars.len() == all {
                    "all".to_string()
                } else {
                    calendars.join(", ")
                },
            ]
        })
        .collect();
    let mut holidays = table(
        &format!("Holidays in {year}"),
        &["date", "weekday", "holiday", "closed calendars"],
        rows,
    );
    holidays.note = Some(
        "Whole local days, in each calendar's own time zone. Rules: ".to_string()
            + &policy
                .holidays
                .values()
                .map(|rule| format!("{} ({})", rule.name, rule.date))
                .collect::<Vec<_>>()
                .join("; ")
            + ".",
    );
    holidays
}

fn coverage(policy: &Policy) -> PolicyTable {
    let any = |list: &[String]| {
        if list.is_empty() {
            "any".to_string()
        } else {
            list.join(", ")
        }
    };
    let rows = policy
        .coverage
        .iter()
        .map(|rule| {
            vec![
                rule.name.clone(),
                any(&rule.programs),
                any(&rule.severities),
                any(&rule.product_lines),
                rule.calendar.clone(),
                rule.after_hours_language.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut coverage = table(
        "Which calendar a ticket's clocks use",
        &[
            "rule",
            "programs",
            "severities",
            "product lines",
            "calendar",
            "after hours in",
        ],
        rows,
    );
    coverage.note = Some(
        "The first matching rule wins; otherwise the ticket runs on its region's calendar. \
         {region} is the ticket's region."
            .to_string(),
    );
    coverage
}

fn exclusions(policy: &Policy) -> PolicyTable {
    let rows = policy
        .exclusions
        .iter()
        .map(|(id, exclusion)| {
            vec![
                format!("{} ({id})", exclusion.title),
                exclusion
                    .explanation_in(&policy.languages.fallback)
                    .to_string(),
                exclusion
                    .explanations
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    let mut exclusions = table(
        "Outside technical support",
        &["exclusion", "what the customer reads", "in"],
        rows,
    );
    exclusions.note = Some(
        "An advisor may decide a problem is outside support for one of these reasons (POLICY.md §8a); the customer reads the explanation in their language and is offered a professional-services request."
            .into(),
    );
    exclusions
}
