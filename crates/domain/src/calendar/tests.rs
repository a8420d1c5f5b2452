use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::holiday::{parse_month_day, parse_weekday_of_month};
use super::hours::parse_day_hours;
use super::*;

fn rule(name: &str, date: HolidayDate) -> HolidayRule {
    HolidayRule {
        name: name.into(),
        date,
        observed: Observed::OnTheDay,
        from_year: None,
        until_year: None,
    }
}

fn default_holidays() -> Vec<HolidayRule> {
    vec![
        rule("New Year's Day", parse_month_day("01-01").unwrap()),
        rule("Good Friday", HolidayDate::Easter { offset_days: -2 }),
        rule("Easter Monday", HolidayDate::Easter { offset_days: 1 }),
        rule(
            "Labour Day",
            parse_weekday_of_month("first monday of september").unwrap(),
        ),
        rule("Christmas Day", parse_month_day("12-25").unwrap()),
        rule("Boxing Day", parse_month_day("12-26").unwrap()),
    ]
}

fn calendar(zone: &str, week: &[(&str, &str)], holidays: Vec<HolidayRule>) -> Calendar {
    let days = week.iter().flat_map(|(days, hours)| {
        let intervals = parse_day_hours(hours).unwrap();
        hours::parse_day_range(days)
            .unwrap()
            .into_iter()
            .map(move |day| (day, intervals.clone()))
    });
    Calendar::new(CalendarSpec {
        name: "test".into(),
        title: "Test calendar".into(),
        time_zone: TimeZone::get(zone).unwrap(),
        hours: WeeklyHours::new(days).unwrap(),
        business_day_minutes: 9 * 60,
        holidays,
    })
}

fn americas() -> Calendar {
    calendar(
        "America/Montreal",
        &[("mon-fri", "08:00-17:00")],
        default_holidays(),
    )
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// The due time printed with the calendar's local offset, as the CLI prints it.
fn due(calendar: &Calendar, start: &str, minutes: u64) -> String {
    let due = calendar.due(at(start), minutes).unwrap();
    due.display_with_offset(calendar.time_zone().to_offset(due))
        .to_string()
}

#[test]
fn zero_minutes_is_the_start_itself_even_when_closed() {
    let americas = americas();
    assert_eq!(
        due(&americas, "2026-11-28T03:00:00-05:00", 0),
        "2026-11-28T03:00:00-05:00"
    );
}

#[test]
fn a_target_reached_at_closing_time_is_due_at_closing_time() {
    let americas = americas();
    assert_eq!(
        due(&americas, "2026-11-26T16:00:00-05:00", 60),
        "2026-11-26T17:00:00-05:00"
    );
    assert_eq!(
        due(&americas, "2026-11-26T16:00:00-05:00", 61),
        "2026-11-27T08:01:00-05:00"
    );
}

#[test]
fn a_clock_started_while_closed_starts_at_the_next_opening() {
    let americas = americas();
    // Saturday night → Monday 08:00 + 30 min.
    assert_eq!(
        due(&americas, "2026-11-28T23:00:00-05:00", 30),
        "2026-11-30T08:30:00-05:00"
    );
}

#[test]
fn seconds_are_kept_in_due_and_dropped_from_elapsed() {
    let americas = americas();
    assert_eq!(
        due(&americas, "2026-11-26T16:59:30-05:00", 3),
        "2026-11-27T08:02:30-05:00"
    );
    let from = at("2026-11-26T16:59:30-05:00");
    assert_eq!(
        americas
            .elapsed(from, at("2026-11-27T08:02:29-05:00"))
            .unwrap(),
        2
    );
    assert_eq!(
        americas
            .elapsed(from, at("2026-11-27T08:02:30-05:00"))
            .unwrap(),
        3
    );
}

#[test]
fn elapsed_is_zero_for_an_empty_or_reversed_range() {
    let americas = americas();
    let t = at("2026-11-26T10:00:00-05:00");
    assert_eq!(americas.elapsed(t, t).unwrap(), 0);
    assert_eq!(
        americas
            .elapsed(t, at("2026-11-26T09:00:00-05:00"))
            .unwrap(),
        0
    );
}

#[test]
fn is_open_and_next_open() {
    let americas = americas();
    assert!(americas.is_open(at("2026-11-26T08:00:00-05:00")).unwrap());
    assert!(!americas.is_open(at("2026-11-26T17:00:00-05:00")).unwrap());
    assert!(!americas.is_open(at("2026-12-25T10:00:00-05:00")).unwrap());
    let open = at("2026-11-26T12:34:56-05:00");
    assert_eq!(americas.next_open(open).unwrap(), open);
    assert_eq!(
        americas.next_open(at("2026-12-24T17:00:00-05:00")).unwrap(),
        at("2026-12-28T08:00:00-05:00")
    );
}

#[test]
fn night_shifts_belong_to_the_day_they_start_on() {
    let nights = calendar(
        "Europe/Amsterdam",
        &[("mon-fri", "22:00-06:00")],
        default_holidays(),
    );
    // Friday 2026-11-27 22:00 → Saturday 06:00 counts; nothing else until Monday 22:00.
    assert_eq!(
        due(&nights, "2026-11-27T23:00:00+01:00", 420),
        "2026-11-28T06:00:00+01:00"
    );
    assert_eq!(
        due(&nights, "2026-11-27T23:00:00+01:00", 421),
        "2026-11-30T22:01:00+01:00"
    );
    // Thursday 2026-12-24 22:00 runs into Christmas Day, which is closed from its midnight.
    assert_eq!(
        due(&nights, "2026-12-24T22:00:00+01:00", 120),
        "2026-12-25T00:00:00+01:00"
    );
    assert!(!nights.is_open(at("2026-12-25T01:00:00+01:00")).unwrap());
}

#[test]
fn a_day_may_have_several_intervals() {
    let split = calendar(
        "America/Montreal",
        &[("mon-fri", "08:00-12:00, 13:00-17:00")],
        vec![],
    );
    assert_eq!(
        due(&split, "2026-11-26T11:30:00-05:00", 60),
        "2026-11-26T13:30:00-05:00"
    );
    let from = at("2026-11-26T08:00:00-05:00");
    assert_eq!(
        split
            .elapsed(from, at("2026-11-27T08:00:00-05:00"))
            .unwrap(),
        480
    );
}

#[test]
fn dst_gap_and_fold_follow_the_compatible_rule() {
    // Montreal springs forward on 2026-03-08 at 02:00 and falls back on 2026-11-01 at 02:00.
    let gap = calendar("America/Montreal", &[("sun", "02:30-04:00")], vec![]);
    // 02:30 does not exist that day: it becomes 03:30 EDT, leaving 30 open minutes.
    let sunday = at("2026-03-08T00:00:00-05:00");
    assert_eq!(
        gap.next_open(sunday).unwrap(),
        at("2026-03-08T03:30:00-04:00")
    );
    assert_eq!(
        gap.elapsed(sunday, at("2026-03-09T00:00:00-04:00"))
            .unwrap(),
        30
    );
    let fold = calendar("America/Montreal", &[("sun", "01:30-02:00")], vec![]);
    // 01:30 happens twice: the first one (EDT) opens.
    let sunday = at("2026-11-01T00:00:00-04:00");
    assert_eq!(
        fold.next_open(sunday).unwrap(),
        at("2026-11-01T01:30:00-04:00")
    );
    // 01:30 EDT to 02:00 EST is 90 real minutes.
    assert_eq!(
        fold.elapsed(sunday, at("2026-11-02T00:00:00-05:00"))
            .unwrap(),
        90
    );
}

#[test]
fn a_24x7_day_lasts_23_or_25_hours_across_dst() {
    let always = calendar("Europe/Amsterdam", &[("mon-sun", "00:00-24:00")], vec![]);
    let spring_day = at("2027-03-28T00:00:00+01:00");
    assert_eq!(
        always
            .elapsed(spring_day, at("2027-03-29T00:00:00+02:00"))
            .unwrap(),
        23 * 60
    );
    let autumn_day = at("2027-10-31T00:00:00+02:00");
    assert_eq!(
        always
            .elapsed(autumn_day, at("2027-11-01T00:00:00+01:00"))
            .unwrap(),
        25 * 60
    );
}

#[test]
fn pauses_count_as_closed() {
    let americas = americas();
    let waiting = Pause {
        from: at("2026-11-26T10:00:00-05:00"),
        to: at("2026-11-26T15:00:00-05:00"),
        reason: "information requested",
    };
    let start = at("2026-11-26T09:00:00-05:00");
    // One hour before the pause, two after it.
    let due = americas.due_with_pauses(start, 180, &[waiting]).unwrap();
    assert_eq!(due, at("2026-11-26T17:00:00-05:00"));
    // Landing exactly where a pause starts is due there.
    let due = americas.due_with_pauses(start, 60, &[waiting]).unwrap();
    assert_eq!(due, at("2026-11-26T10:00:00-05:00"));
    // Starting inside a pause starts at its end.
    let due = americas
        .due_with_pauses(at("2026-11-26T11:00:00-05:00"), 30, &[waiting])
        .unwrap();
    assert_eq!(due, at("2026-11-26T15:30:00-05:00"));
    let elapsed = americas
        .elapsed_with_pauses(start, at("2026-11-27T09:00:00-05:00"), &[waiting])
        .unwrap();
    assert_eq!(elapsed, 540 - 300);
    // Overlapping and reversed pauses are tolerated.
    let overlapping = Pause {
        from: at("2026-11-26T14:00:00-05:00"),
        to: at("2026-11-26T16:00:00-05:00"),
        reason: "remote access",
    };
    let reversed = Pause {
        from: at("2026-11-26T16:00:00-05:00"),
        to: at("2026-11-26T09:00:00-05:00"),
        reason: "nonsense",
    };
    let due = americas
        .due_with_pauses(start, 61, &[overlapping, waiting, reversed])
        .unwrap();
    assert_eq!(due, at("2026-11-26T16:01:00-05:00"));
}

#[test]
fn the_horizon_edges_give_the_same_answers_as_the_rules() {
    let americas = americas();
    // Across the end of the table: Friday 2100-12-31 is not a holiday; 2101-01-03 is a Monday.
    assert_eq!(
        due(&americas, "2100-12-31T16:00:00-05:00", 120),
        "2101-01-03T09:00:00-05:00"
    );
    assert_eq!(
        americas
            .elapsed(
                at("2100-12-30T08:00:00-05:00"),
                at("2101-01-04T08:00:00-05:00")
            )
            .unwrap(),
        3 * 540
    );
    // Across its start: 1989-12-29 is a Friday, 1990-01-01 New Year's Day.
    assert_eq!(
        due(&americas, "1989-12-29T16:00:00-05:00", 120),
        "1990-01-02T09:00:00-05:00"
    );
    // Far outside it.
    assert_eq!(
        due(&americas, "2200-03-05T16:00:00-05:00", 120),
        "2200-03-06T09:00:00-05:00"
    );
    assert_eq!(
        due(&americas, "1900-03-05T16:00:00-05:00", 120),
        "1900-03-06T09:00:00-05:00"
    );
}

#[test]
fn the_table_is_compact() {
    let americas = americas();
    americas.prepare();
    let spans = americas.table().span_count();
    // About 255 business days a year over 111 years.
    assert!((27_000..29_000).contains(&spans), "{spans}");
    let always = calendar("America/Montreal", &[("mon-sun", "00:00-24:00")], vec![]);
    always.prepare();
    assert_eq!(always.table().span_count(), 1);
}

#[test]
fn a_calendar_that_never_opens_says_so() {
    // Open only on Christmas Day, which is a holiday.
    let christmas_only = calendar(
        "UTC",
        &[("mon-sun", "09:00-17:00")],
        (0..7)
            .map(|offset| {
                rule(
                    "closed",
                    HolidayDate::Fixed {
                        month: 1,
                        day: 1 + offset,
                    },
                )
            })
            .chain((1..=12).flat_map(|month| {
                (1..=31).filter_map(move |day| {
                    Date::new(2024, month, day)
                        .ok()
                        .map(|_| rule("closed", HolidayDate::Fixed { month, day }))
                })
            }))
            .collect(),
    );
    let error = christmas_only
        .due(at("2026-01-01T00:00:00Z"), 10)
        .unwrap_err();
    assert!(matches!(error, CalendarError::NeverOpens { .. }), "{error}");
}

#[test]
fn explanation_names_every_closure() {
    let americas = americas();
    let start = at("2026-09-04T16:30:00-04:00");
    let explanation = americas.explain(start, 120, &[]).unwrap();
    assert_eq!(explanation.due, americas.due(start, 120).unwrap());
    let causes: Vec<String> = explanation
        .steps
        .iter()
        .map(|step| match step {
            Step::Counted { total_seconds, .. } => format!("counted {}", total_seconds / 60),
            Step::Closed { cause, .. } => cause.to_string(),
        })
        .collect();
    assert_eq!(
        causes,
        [
            "counted 30",
            "outside opening hours",
            "weekend",
            "holiday: Labour Day",
            "outside opening hours",
            "counted 120"
        ]
    );
    let text = explanation.to_string();
    assert!(
        text.contains("Fri 2026-09-04 16:30 → 17:00  counted 30 min"),
        "{text}"
    );
    assert!(
        text.contains("Mon 2026-09-07 00:00 → 24:00  skipped: holiday: Labour Day"),
        "{text}"
    );
    assert!(text.ends_with("due Tue 2026-09-08 09:30 -04:00"), "{text}");
}

#[test]
fn explanation_shows_pauses() {
    let americas = americas();
    let start = at("2026-11-26T09:00:00-05:00");
    let pause = Pause {
        from: at("2026-11-26T10:00:00-05:00"),
        to: at("2026-11-26T15:00:00-05:00"),
        reason: "waiting on customer",
    };
    let explanation = americas.explain(start, 180, &[pause]).unwrap();
    assert_eq!(
        explanation.due,
        americas.due_with_pauses(start, 180, &[pause]).unwrap()
    );
    assert!(explanation.steps.iter().any(|step| matches!(
        step,
        Step::Closed { cause: Closure::Paused(reason), .. } if reason == "waiting on customer"
    )));
}

#[test]
fn closed_dates_of_a_year_are_listed_in_order() {
    let americas = americas();
    let dates: Vec<String> = americas
        .closed_dates_in(2027)
        .into_iter()
        .map(|(date, name)| format!("{date} {name}"))
        .collect();
    assert_eq!(
        dates,
        [
            "2027-01-01 New Year's Day",
            "2027-03-26 Good Friday",
            "2027-03-29 Easter Monday",
            "2027-09-06 Labour Day",
            "2027-12-25 Christmas Day",
            "2027-12-26 Boxing Day"
        ]
    );
    assert_eq!(Weekday::Monday, jiff::civil::date(2027, 9, 6).weekday());
}

#[test]
fn amounts_and_instants_outside_the_engine_range_are_refused_not_guessed() {
    let americas = americas();
    let start = at("2026-09-04T16:30:00-04:00");
    assert_eq!(
        americas.due(start, 153_722_867_280_912_930),
        Err(CalendarError::TooManyMinutes(153_722_867_280_912_930))
    );
    assert_eq!(
        americas.due(start, MAX_MINUTES + 1),
        Err(CalendarError::TooManyMinutes(MAX_MINUTES + 1))
    );
    // A century of minutes is answered.
    americas.due(start, MAX_MINUTES).unwrap();
    // Elapsed time is counted over a century at most (found by the fuzzer: an end in year
    // 6060 walked four millennia day by day).
    let a_century_later = at("2126-09-04T16:30:00-04:00");
    assert!(americas.elapsed(start, a_century_later).unwrap() > 0);
    let far = at("6060-10-26T09:00:00+01:00");
    assert_eq!(
        americas.elapsed(start, far),
        Err(CalendarError::SpanTooLong {
            from: start,
            to: far
        })
    );
    assert_eq!(
        americas.elapsed_with_pauses(start, far, &[]),
        Err(CalendarError::SpanTooLong {
            from: start,
            to: far
        })
    );
    let edge = at("9999-12-30T10:00:00Z");
    assert_eq!(americas.is_open(edge), Err(CalendarError::OutOfRange));
    assert_eq!(
        americas.elapsed(start, edge),
        Err(CalendarError::OutOfRange)
    );
    assert!(americas.is_open(at("9998-06-01T14:00:00Z")).is_ok());
}

#[test]
fn holidays_moved_across_new_year_are_closed_at_the_horizon_edges_too() {
    let new_year_eve_moved = HolidayRule {
        observed: Observed::NextMonday,
        ..rule("Moved", parse_month_day("12-31").unwrap())
    };
    let always = calendar(
        "UTC",
        &[("mon-sun", "00:00-24:00")],
        vec![
            new_year_eve_moved,
            rule("Far from Easter", HolidayDate::Easter { offset_days: -100 }),
        ],
    );
    // 1988-12-31 is a Saturday: closed on Monday 1989-01-02, like 2022-12-31 on 2023-01-02.
    assert!(!always.is_open(at("1989-01-02T12:00:00Z")).unwrap());
    assert!(!always.is_open(at("2023-01-02T12:00:00Z")).unwrap());
    // Easter 2102 is on 16 April: a hundred days before is 2101-01-06.
    let easter_2102 = holiday::easter_sunday(2102).unwrap();
    let far = easter_2102.checked_sub(100.days()).unwrap();
    assert_eq!(far.year(), 2101);
    let noon = far
        .at(12, 0, 0, 0)
        .to_zoned_datetime(TimeZone::UTC)
        .unwrap()
        .timestamp();
    assert!(!always.is_open(noon).unwrap());
    // And the year's list shows a date moved into it from the next year's rule.
    let closed_2101: Vec<Date> = always
        .closed_dates_in(2101)
        .into_iter()
        .map(|(date, _)| date)
        .collect();
    assert!(closed_2101.contains(&far), "{closed_2101:?}");
}

#[test]
fn fractions_of_a_second_are_dropped_on_the_way_in() {
    let americas = americas();
    let with_fraction = at("2026-11-26T09:00:00.5-05:00");
    let whole = at("2026-11-26T09:00:00-05:00");
    assert_eq!(americas.due(with_fraction, 0).unwrap(), whole);
    assert_eq!(
        americas.due(with_fraction, 1).unwrap(),
        at("2026-11-26T09:01:00-05:00")
    );
    assert_eq!(
        americas
            .elapsed(with_fraction, at("2026-11-26T09:01:00-05:00"))
            .unwrap(),
        1
    );
}
