use jiff::Timestamp;

use super::*;
use crate::sla::targets;

fn policy() -> Policy {
    Policy::built_in().unwrap()
}

fn due(policy: &Policy, calendar: &str, start: &str, minutes: u64) -> String {
    let calendar = policy.calendar(calendar).unwrap();
    let due = calendar.due(start.parse().unwrap(), minutes).unwrap();
    due.display_with_offset(calendar.time_zone().to_offset(due))
        .to_string()
}

/// The default policy with one line replaced, to check what loading says about it.
fn load_with(find: &str, replace: &str) -> Result<Policy, PolicyError> {
    assert!(DEFAULT_POLICY_TOML.contains(find), "{find}");
    Policy::from_toml(
        &DEFAULT_POLICY_TOML.replacen(find, replace, 1),
        "edited.toml",
    )
}

fn line_of(find: &str) -> usize {
    let offset = DEFAULT_POLICY_TOML.find(find).unwrap();
    DEFAULT_POLICY_TOML[..offset].matches('\n').count() + 1
}

fn single_problem(result: Result<Policy, PolicyError>) -> PolicyProblem {
    let error = result.unwrap_err();
    assert_eq!(error.problems.len(), 1, "{error}");
    error.problems[0].clone()
}

#[test]
fn the_default_policy_holds_every_calendar_by_its_exact_name() {
    let policy = policy();
    let names: Vec<&str> = policy.calendars.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "americas",
            "emea",
            "apac",
            "24x5-americas",
            "24x5-emea",
            "24x5-apac",
            "24x7-americas",
            "24x7-emea",
            "24x7-apac"
        ]
    );
    assert_eq!(
        policy.calendar("americas").unwrap().business_day_minutes(),
        540
    );
    assert_eq!(policy.calendar("emea").unwrap().business_day_minutes(), 480);
    assert_eq!(
        policy.calendar("24x5-apac").unwrap().business_day_minutes(),
        1440
    );
    assert_eq!(
        policy.severities.keys().collect::<Vec<_>>(),
        ["P1", "P2", "P3", "P4"]
    );
}

#[test]
fn the_cases_of_the_issue_hold() {
    let policy = policy();
    // Labour Day Monday is closed.
    assert_eq!(
        due(&policy, "americas", "2026-09-04T16:30:00-04:00", 120),
        "2026-09-08T09:30:00-04:00"
    );
    // Two business days on americas, landing on a closing time.
    assert_eq!(
        due(&policy, "americas", "2026-11-27T07:00:00-05:00", 1080),
        "2026-11-30T17:00:00-05:00"
    );
    // 48 real hours across spring-forward.
    assert_eq!(
        due(&policy, "24x7-americas", "2026-03-07T12:00:00-05:00", 2880),
        "2026-03-09T13:00:00-04:00"
    );
    // Good Friday, the weekend and Easter Monday closed, across the EU spring-forward.
    assert_eq!(
        due(&policy, "24x5-emea", "2027-03-26T10:00:00+01:00", 1440),
        "2027-03-31T00:00:00+02:00"
    );
    // Melbourne leaves daylight saving on the Sunday in between.
    assert_eq!(
        due(&policy, "apac", "2027-04-02T16:30:00+11:00", 480),
        "2027-04-05T16:30:00+10:00"
    );
    // Seconds are kept.
    assert_eq!(
        due(&policy, "americas", "2026-11-26T16:59:30-05:00", 3),
        "2026-11-27T08:02:30-05:00"
    );
}

#[test]
fn dst_weeks_in_the_three_offices() {
    let policy = policy();
    let cases = [
        // Montreal falls back on Sunday 2026-11-01 and springs forward on 2027-03-14.
        (
            "americas",
            "2026-10-30T16:00:00-04:00",
            120,
            "2026-11-02T09:00:00-05:00",
        ),
        (
            "americas",
            "2027-03-12T16:30:00-05:00",
            60,
            "2027-03-15T08:30:00-04:00",
        ),
        (
            "24x5-americas",
            "2026-03-06T23:00:00-05:00",
            120,
            "2026-03-09T01:00:00-04:00",
        ),
        (
            "24x7-americas",
            "2026-10-31T12:00:00-04:00",
            1440,
            "2026-11-01T11:00:00-05:00",
        ),
        // Amsterdam falls back on 2026-10-25 and springs forward on 2027-03-28.
        (
            "emea",
            "2026-10-23T16:00:00+02:00",
            120,
            "2026-10-26T10:00:00+01:00",
        ),
        (
            "24x7-emea",
            "2026-10-24T12:00:00+02:00",
            1440,
            "2026-10-25T11:00:00+01:00",
        ),
        (
            "24x7-emea",
            "2027-03-27T12:00:00+01:00",
            1440,
            "2027-03-28T13:00:00+02:00",
        ),
        // Melbourne springs forward on 2026-10-04 and falls back on 2027-04-04.
        (
            "apac",
            "2026-10-02T16:00:00+10:00",
            120,
            "2026-10-05T10:00:00+11:00",
        ),
        (
            "24x7-apac",
            "2026-10-03T12:00:00+10:00",
            1440,
            "2026-10-04T13:00:00+11:00",
        ),
        (
            "24x7-apac",
            "2027-04-03T12:00:00+11:00",
            1440,
            "2027-04-04T11:00:00+10:00",
        ),
    ];
    for (calendar, start, minutes, expected) in cases {
        assert_eq!(
            due(&policy, calendar, start, minutes),
            expected,
            "{calendar} {start}"
        );
    }
    let elapsed = |calendar: &str, from: &str, to: &str| {
        policy
            .calendar(calendar)
            .unwrap()
            .elapsed(from.parse().unwrap(), to.parse().unwrap())
            .unwrap()
    };
    // Whole local days of 23 and 25 hours.
    assert_eq!(
        elapsed(
            "24x7-apac",
            "2026-10-04T00:00:00+10:00",
            "2026-10-05T00:00:00+11:00"
        ),
        1380
    );
    assert_eq!(
        elapsed(
            "24x7-americas",
            "2026-11-01T00:00:00-04:00",
            "2026-11-02T00:00:00-05:00"
        ),
        1500
    );
    // Office hours do not change length across DST.
    assert_eq!(
        elapsed(
            "emea",
            "2026-10-23T09:00:00+02:00",
            "2026-10-27T09:00:00+01:00"
        ),
        2 * 480
    );
}

#[test]
fn calendars_follow_program_severity_and_product_line() {
    let policy = policy();
    let choose = |program, severity, product_line| {
        let ticket = TicketProfile {
            program,
            region: "emea",
            product_line,
            severity,
            channel: "phone",
        };
        policy
            .calendar_for(&ticket)
            .unwrap()
            .calendar
            .name()
            .to_string()
    };
    assert_eq!(choose("standard", "P1", "ol-connect"), "emea");
    assert_eq!(choose("gold", "P1", "ol-connect"), "24x5-emea");
    assert_eq!(choose("platinum", "P1", "ol-connect"), "24x7-emea");
    assert_eq!(choose("platinum", "P2", "ol-connect"), "emea");
    assert_eq!(choose("platinum", "P1", "planetpress-suite"), "emea");
}

#[test]
fn targets_of_a_ticket() {
    let policy = policy();
    let ticket = TicketProfile {
        program: "gold",
        region: "americas",
        product_line: "ol-connect",
        severity: "P1",
        channel: "portal",
    };
    // Friday evening: the 24x5 calendar is open until Saturday 00:00.
    let opened: Timestamp = "2026-11-27T20:00:00-05:00".parse().unwrap();
    let targets = targets(&policy, &ticket, opened).unwrap();
    assert_eq!(targets.calendar.name(), "24x5-americas");
    assert_eq!(targets.first_response.minutes, 240);
    assert_eq!(
        targets.first_response.due,
        "2026-11-28T00:00:00-05:00".parse::<Timestamp>().unwrap()
    );
    let resolution = targets.resolution.unwrap();
    assert_eq!(resolution.minutes, 2 * 1440);
    // 4 hours on Friday, then Monday and Tuesday until 20:00.
    assert_eq!(
        resolution.due,
        "2026-12-01T20:00:00-05:00".parse::<Timestamp>().unwrap()
    );
    assert_eq!(targets.update_every.unwrap().minutes, 1440);

    let standard_p4 = TicketProfile {
        program: "standard",
        severity: "P4",
        ..ticket
    };
    let targets = crate::sla::targets(&policy, &standard_p4, opened).unwrap();
    assert_eq!(targets.calendar.name(), "americas");
    assert!(targets.resolution.is_none());
    assert!(targets.update_every.is_none());
    assert_eq!(
        targets.clocks_start,
        "2026-11-30T08:00:00-05:00".parse::<Timestamp>().unwrap()
    );
}

#[test]
fn unknown_names_list_what_exists() {
    let policy = policy();
    let error = policy.calendar("america").unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown calendar \"america\"; the policy has: americas, emea, apac, 24x5-americas, \
         24x5-emea, 24x5-apac, 24x7-americas, 24x7-emea, 24x7-apac"
    );
}

#[test]
fn a_misspelt_field_names_file_line_and_field() {
    let problem = single_problem(load_with(
        "time_zone = \"Europe/Amsterdam\"\nbusiness_day",
        "tme_zone = \"Europe/Amsterdam\"\nbusiness_day",
    ));
    assert_eq!(problem.file, "edited.toml");
    assert_eq!(
        problem.line,
        line_of("time_zone = \"Europe/Amsterdam\"\nbusiness_day")
    );
    assert!(problem.field.starts_with("calendars.emea"), "{problem}");
    assert!(problem.message.contains("tme_zone"), "{problem}");
}

#[test]
fn impossible_values_are_refused_where_they_stand() {
    let cases = [
        (
            "hours = { mon-fri = \"09:00-17:00\" }",
            "hours = { mon-fri = \"09:00-17:60\" }",
            "calendars.emea.hours",
            "not a time of day",
        ),
        (
            "time_zone = \"Australia/Melbourne\"\nbusiness_day",
            "time_zone = \"Australia/Melbourn\"\nbusiness_day",
            "calendars.apac.time_zone",
            "not a time zone",
        ),
        (
            "first_response = \"2h\"",
            "first_response = \"2 weeks\"",
            "channels.phone.first_response",
            "unknown unit",
        ),
        (
            "at_risk_percent = 80",
            "at_risk_percent = 120",
            "clocks.at_risk_percent",
            "between 1 and 99",
        ),
        (
            "good-friday = { name = \"Good Friday\", easter = -2 }",
            "good-friday = { name = \"Good Friday\", easter = -2, fixed = \"04-01\" }",
            "holidays.good-friday",
            "exactly one of",
        ),
        (
            "labour-day = { name = \"Labour Day\", weekday_of_month = \"first monday of september\" }",
            "labour-day = { name = \"Labour Day\", weekday_of_month = \"first monday in september\" }",
            "holidays.labour-day",
            "not a weekday of a month",
        ),
        (
            "hours = { mon-fri = \"08:00-17:00\" }",
            "hours = { mon-fry = \"08:00-17:00\" }",
            "calendars.americas.hours",
            "not a weekday",
        ),
        (
            "languages = [\"en\", \"ja\"]",
            "languages = [\"en\", \"jp\"]",
            "regions.apac.languages",
            "not one of languages.supported",
        ),
        (
            "calendar = \"24x7-{region}\"",
            "calendar = \"24x7-{regio}\"",
            "coverage[1].calendar",
            "no existing calendar: 24x7-{regio}",
        ),
        (
            "programs = [\"platinum\"]",
            "programs = [\"platnum\"]",
            "coverage[1].programs",
            "not defined",
        ),
        (
            "calendar = \"apac\"",
            "calendar = \"apec\"",
            "regions.apac.calendar",
            "no calendar \"apec\"",
        ),
        (
            "\"christmas\", \"boxing-day\"]\n\n[calendars.emea]",
            "\"xmas\", \"boxing-day\"]\n\n[calendars.emea]",
            "calendars.americas.holidays",
            "no holiday rule \"xmas\"",
        ),
        (
            "resolution = \"15d\"",
            "resolution = \"0d\"",
            "severities.P3.resolution",
            "zero",
        ),
        (
            "first_response = \"2h\"",
            "first_response = \"0m\"",
            "channels.phone.first_response",
            "zero",
        ),
        (
            "first_response = \"2h\"",
            "first_response = \"4294967295d\"",
            "channels.phone.first_response",
            "longer than any support target",
        ),
        (
            "hours = { mon-fri = \"08:00-17:00\" }",
            "hours = { mon-fri = \"08:00-17:00\", monday = \"18:00-19:00\" }",
            "calendars.americas.hours",
            "Monday is given more than once",
        ),
    ];
    for (find, replace, field, message) in cases {
        let problem = single_problem(load_with(find, replace));
        assert!(problem.field.starts_with(field), "{field}: {problem}");
        assert!(problem.message.contains(message), "{message}: {problem}");
        assert_eq!(problem.line, line_of(find), "{problem}");
    }
}

#[test]
fn a_syntax_error_names_its_line() {
    let problem = single_problem(load_with("[clocks]", "[clocks"));
    assert_eq!(problem.line, line_of("[clocks]"));
    assert!(problem.field.is_empty());
    assert!(!problem.to_string().contains('\n'));
}

#[test]
fn only_a_severity_worked_continuously_alerts_when_idle() {
    let edited = DEFAULT_POLICY_TOML.replacen(
        "[severities.P3]\n",
        "[severities.P3]\nidle_alert_after = \"4h\"\n",
        1,
    );
    assert_ne!(edited, DEFAULT_POLICY_TOML);
    let error = Policy::from_toml(&edited, "edited.toml").unwrap_err();
    assert!(
        error.to_string().contains("severities.P3.idle_alert_after"),
        "{error}"
    );
    let p4 = policy().severities["P4"].idle_alert_after;
    assert_eq!(p4, None, "not worked continuously, no alert");
    let p1 = policy().severities["P1"].idle_alert_after;
    assert_eq!(
        p1.map(|idle| idle.to_string()).as_deref(),
        Some("2 business hours")
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let edited = DEFAULT_POLICY_TOML
        .replacen("calendar = \"apac\"", "calendar = \"apec\"", 1)
        .replacen("at_risk_percent = 80", "at_risk_percent = 0", 1);
    let error = Policy::from_toml(&edited, "edited.toml").unwrap_err();
    assert_eq!(error.problems.len(), 2, "{error}");
    assert_eq!(error.to_string().lines().count(), 2);
}

#[test]
fn the_tables_show_the_policy() {
    let policy = policy();
    let tables = policy_tables(&policy, 2027);
    let find = |title: &str| tables.iter().find(|t| t.title.starts_with(title)).unwrap();
    let severities = find("Severities");
    assert_eq!(
        severities.rows[0],
        [
            "P1 Critical",
            "Production down or degraded, severe business impact",
            "2 business days",
            "every business day",
            "yes: on call after the office's hours on extended cover; the support manager is alerted after 2 business hours without an advisor's action"
        ]
    );
    assert_eq!(
        severities.rows[2][3],
        "every 2 business days, or as agreed on the ticket"
    );
    let calendars = find("Calendars");
    assert_eq!(calendars.rows[0][3], "Mon–Fri 08:00-17:00");
    assert_eq!(calendars.rows[0][4], "9 h");
    assert_eq!(calendars.rows[6][3], "Mon–Sun 00:00-24:00");
    let holidays = find("Holidays in 2027");
    let dates: Vec<&str> = holidays.rows.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(
        dates,
        [
            "2027-01-01",
            "2027-03-26",
            "2027-03-29",
            "2027-09-06",
            "2027-12-25",
            "2027-12-26"
        ]
    );
    assert!(holidays.rows.iter().all(|row| row[3] == "all"));
}

#[test]
fn monthly_reports_follow_the_dedicated_csm_unless_told() {
    let policy = policy();
    let monthly = |policy: &Policy, id: &str| policy.programs[id].monthly_report;
    assert!(!monthly(&policy, "standard"));
    assert!(monthly(&policy, "gold") && monthly(&policy, "platinum"));
    let programs = policy_tables(&policy, 2027)
        .into_iter()
        .find(|table| table.title == "Programs")
        .unwrap();
    assert_eq!(programs.headers[4], "monthly report by e-mail");
    assert_eq!(programs.rows[0][4], "no");
    assert_eq!(programs.rows[1][4], "yes");
    // Left out, it follows the dedicated CSM.
    let silent = "dedicated_csm = false\npriority_queue = false\nmonthly_report = false\n";
    let standard = load_with(silent, "dedicated_csm = false\npriority_queue = false\n").unwrap();
    assert!(!monthly(&standard, "standard"));
    let gold = "dedicated_csm = true\npriority_queue = true\nmonthly_report = true\n";
    let left_out = load_with(gold, "dedicated_csm = true\npriority_queue = true\n").unwrap();
    assert!(monthly(&left_out, "gold"));
    // Said, it is what it says.
    let declined = load_with(
        gold,
        "dedicated_csm = true\npriority_queue = true\nmonthly_report = false\n",
    )
    .unwrap();
    assert!(!monthly(&declined, "gold") && monthly(&declined, "platinum"));
    let asked = load_with(
        silent,
        "dedicated_csm = false\npriority_queue = false\nmonthly_report = true\n",
    )
    .unwrap();
    assert!(monthly(&asked, "standard"));
}
