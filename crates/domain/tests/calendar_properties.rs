//! Property tests of the business-time arithmetic.
//!
//! Two kinds: the fast path against a deliberately naive reference (minute by minute, each
//! minute asked "is this open?" straight from the rules) on random calendars, and algebraic
//! laws on the default policy's calendars over realistic inputs.
#![allow(clippy::unwrap_used)]

use caredesk_domain::calendar::hours::{MINUTES_PER_DAY, OpenInterval, WeeklyHours};
use caredesk_domain::calendar::{
    Calendar, CalendarSpec, HolidayDate, HolidayRule, Observed, Pause, Step,
};
use caredesk_domain::policy::Policy;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// The reference: what "open" means, asked one instant at a time.

fn is_closed_day(spec: &CalendarSpec, date: Date) -> bool {
    let year = date.year();
    spec.holidays.iter().any(|rule| {
        (year - 1..=year + 1).any(|rule_year| rule.closed_date_in(rule_year) == Some(date))
    })
}

fn wall_instant(spec: &CalendarSpec, date: Date, minute: u16) -> i64 {
    let date = date
        .checked_add(i64::from(minute / MINUTES_PER_DAY).days())
        .unwrap();
    let minute = minute % MINUTES_PER_DAY;
    let wall = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
    spec.time_zone.to_timestamp(wall).unwrap().as_second()
}

fn reference_is_open(spec: &CalendarSpec, at: i64) -> bool {
    let local_date = spec
        .time_zone
        .to_datetime(Timestamp::from_second(at).unwrap())
        .date();
    for day in [local_date.yesterday().unwrap(), local_date] {
        if is_closed_day(spec, day) {
            continue;
        }
        for interval in spec.hours.on(day.weekday()) {
            let mut end_minute = interval.end_minute();
            if interval.runs_past_midnight() && is_closed_day(spec, day.tomorrow().unwrap()) {
                end_minute = MINUTES_PER_DAY;
            }
            let start = wall_instant(spec, day, interval.start_minute());
            let end = wall_instant(spec, day, end_minute);
            if start <= at && at < end {
                return true;
            }
        }
    }
    false
}

/// Walks minute cells; every opening and closing falls on a whole UTC minute for the zones
/// used here, so a cell is open or closed as a whole.
fn reference_due(spec: &CalendarSpec, start: i64, minutes: u64) -> i64 {
    let mut remaining = minutes as i64 * 60;
    let mut at = start;
    while remaining > 0 {
        let cell_end = (at.div_euclid(60) + 1) * 60;
        if reference_is_open(spec, at.div_euclid(60) * 60) {
            let available = cell_end - at;
            if available >= remaining {
                return at + remaining;
            }
            remaining -= available;
        }
        at = cell_end;
    }
    start
}

fn reference_elapsed(spec: &CalendarSpec, from: i64, to: i64) -> u64 {
    let mut seconds = 0;
    let mut at = from;
    while at < to {
        let cell_end = ((at.div_euclid(60) + 1) * 60).min(to);
        if reference_is_open(spec, at.div_euclid(60) * 60) {
            seconds += cell_end - at;
        }
        at = cell_end;
    }
    (seconds / 60) as u64
}

// ---------------------------------------------------------------------------------------
// Random calendars.

const ZONES: &[&str] = &[
    "America/Montreal",
    "Europe/Amsterdam",
    "Australia/Melbourne",
    "Australia/Lord_Howe", // 30-minute DST shift
    "Asia/Kathmandu",      // +05:45
    "America/Santiago",    // DST changes at midnight
    "Pacific/Chatham",     // +12:45 / +13:45
    "UTC",
];

fn day_hours() -> impl Strategy<Value = Vec<OpenInterval>> {
    prop_oneof![
        2 => Just(vec![]),
        1 => Just(vec![OpenInterval::new(0, 1440).unwrap()]),
        // A night shift running past midnight.
        1 => (720u16..1440, 1u16..720).prop_map(|(start, end)| {
            vec![OpenInterval::new(start, end + MINUTES_PER_DAY).unwrap()]
        }),
        // One to three intervals inside the day, at any minute.
        4 => proptest::collection::btree_set(0u16..=1440, 2..=6).prop_map(|bounds| {
            let bounds: Vec<u16> = bounds.into_iter().collect();
            bounds
                .chunks_exact(2)
                .filter_map(|pair| OpenInterval::new(pair[0], pair[1]))
                .collect()
        }),
    ]
}

fn holiday_rule() -> impl Strategy<Value = HolidayRule> {
    let date = prop_oneof![
        (1i8..=12, 1i8..=28).prop_map(|(month, day)| HolidayDate::Fixed { month, day }),
        (-3i16..=3).prop_map(|offset_days| HolidayDate::Easter { offset_days }),
        (prop_oneof![Just(1i8), Just(2), Just(-1)], 0i8..7, 1i8..=12).prop_map(
            |(nth, weekday, month)| HolidayDate::NthWeekday {
                nth,
                weekday: Weekday::from_monday_zero_offset(weekday).unwrap(),
                month,
            }
        ),
    ];
    let observed = prop_oneof![
        Just(Observed::OnTheDay),
        Just(Observed::NearestWeekday),
        Just(Observed::NextMonday)
    ];
    (date, observed).prop_map(|(date, observed)| HolidayRule {
        name: "holiday".into(),
        date,
        observed,
        from_year: None,
        until_year: None,
    })
}

fn calendar_spec() -> impl Strategy<Value = CalendarSpec> {
    (
        proptest::sample::select(ZONES),
        proptest::collection::vec(day_hours(), 7),
        proptest::collection::vec(holiday_rule(), 0..4),
    )
        .prop_filter_map("a calendar must open", |(zone, days, holidays)| {
            let week = days.into_iter().enumerate().map(|(index, hours)| {
                (
                    Weekday::from_monday_zero_offset(index as i8).unwrap(),
                    hours,
                )
            });
            let hours = WeeklyHours::new(week).ok()?;
            Some(CalendarSpec {
                name: "random".into(),
                title: "A random calendar".into(),
                time_zone: TimeZone::get(zone).unwrap(),
                hours,
                business_day_minutes: 480,
                holidays,
            })
        })
}

/// Instants in recent years, and around both edges of the precomputed horizon.
fn instant() -> impl Strategy<Value = i64> {
    let recent = ("2024-01-01T00:00:00Z", "2032-01-01T00:00:00Z");
    let horizon_end = ("2100-12-24T00:00:00Z", "2101-01-08T00:00:00Z");
    let horizon_start = ("1989-12-24T00:00:00Z", "1990-01-08T00:00:00Z");
    let range = |(from, to): (&str, &str)| {
        from.parse::<Timestamp>().unwrap().as_second()..to.parse::<Timestamp>().unwrap().as_second()
    };
    prop_oneof![
        6 => range(recent),
        1 => range(horizon_end),
        1 => range(horizon_start),
    ]
}

fn ts(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn due_equals_the_reference_on_random_calendars(
        spec in calendar_spec(),
        start in instant(),
        fraction in 0u64..=300,
    ) {
        // Up to three weeks of the calendar's open time, so the reference walk stays short.
        let minutes = u64::from(spec.hours.weekly_minutes()) * fraction / 100;
        let expected = reference_due(&spec, start, minutes);
        let calendar = Calendar::new(spec);
        let due = calendar.due(ts(start), minutes).unwrap();
        prop_assert_eq!(due.as_second(), expected, "{} minutes from {}", minutes, ts(start));
    }

    #[test]
    fn latest_start_is_the_last_second_long_enough_by_the_reference(
        spec in calendar_spec(),
        end in instant(),
        fraction in 0u64..=300,
    ) {
        let minutes = u64::from(spec.hours.weekly_minutes()) * fraction / 100;
        let calendar = Calendar::new(spec.clone());
        let start = calendar.latest_start(ts(end), minutes).unwrap();
        // Up to three weeks of open time: found (a calendar must open every week).
        let start = start.unwrap().as_second();
        prop_assert!(start <= end);
        prop_assert!(reference_elapsed(&spec, start, end) >= minutes, "{} minutes to {}", minutes, ts(end));
        if minutes > 0 {
            prop_assert!(reference_elapsed(&spec, start + 1, end) < minutes, "{} minutes to {}", minutes, ts(end));
        } else {
            prop_assert_eq!(start, end);
        }
    }

    #[test]
    fn elapsed_and_is_open_equal_the_reference_on_random_calendars(
        spec in calendar_spec(),
        from in instant(),
        length in 0i64..(10 * 86_400),
        probe in 0i64..(10 * 86_400),
    ) {
        let to = from + length;
        let expected = reference_elapsed(&spec, from, to);
        let probe_open = reference_is_open(&spec, from + probe);
        let calendar = Calendar::new(spec);
        prop_assert_eq!(calendar.elapsed(ts(from), ts(to)).unwrap(), expected);
        prop_assert_eq!(calendar.is_open(ts(from + probe)).unwrap(), probe_open);
        let next = calendar.next_open(ts(from + probe)).unwrap();
        prop_assert!(calendar.is_open(next).unwrap());
        prop_assert_eq!(calendar.elapsed(ts(from + probe), next).unwrap(), 0);
    }
}

// ---------------------------------------------------------------------------------------
// Laws on the default policy's calendars.

fn default_policy() -> &'static Policy {
    static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| Policy::built_in().unwrap())
}

fn default_calendar() -> impl Strategy<Value = &'static Calendar> {
    proptest::sample::select(default_policy().calendars.values().collect::<Vec<_>>())
}

fn recent_instant() -> impl Strategy<Value = Timestamp> {
    let from = "2024-01-01T00:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .as_second();
    let to = "2032-01-01T00:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .as_second();
    (from..to).prop_map(ts)
}

/// From one minute to fifteen business days of the americas calendar.
fn business_minutes() -> impl Strategy<Value = u64> {
    1u64..=(15 * 540)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn elapsed_undoes_due(calendar in default_calendar(), start in recent_instant(), minutes in business_minutes()) {
        let due = calendar.due(start, minutes).unwrap();
        prop_assert_eq!(calendar.elapsed(start, due).unwrap(), minutes);
        // And nothing earlier would do.
        prop_assert!(calendar.elapsed(start, ts(due.as_second() - 1)).unwrap() < minutes);
    }

    #[test]
    fn due_is_monotone(
        calendar in default_calendar(),
        start in recent_instant(),
        later_by in 0i64..(30 * 86_400),
        minutes in business_minutes(),
        more in 0u64..2000,
    ) {
        let due = calendar.due(start, minutes).unwrap();
        prop_assert!(calendar.due(start, minutes + more).unwrap() >= due);
        prop_assert!(calendar.due(ts(start.as_second() + later_by), minutes).unwrap() >= due);
    }

    #[test]
    fn due_composes(
        calendar in default_calendar(),
        start in recent_instant(),
        first in 0u64..5000,
        second in 0u64..5000,
    ) {
        let open_start = calendar.next_open(start).unwrap();
        let stepwise = calendar.due(calendar.due(open_start, first).unwrap(), second).unwrap();
        prop_assert_eq!(stepwise, calendar.due(open_start, first + second).unwrap());
    }

    #[test]
    fn pauses_are_closed_time(
        calendar in default_calendar(),
        start in recent_instant(),
        minutes in business_minutes(),
        pauses in proptest::collection::vec((0i64..(20 * 86_400), 0i64..(3 * 86_400)), 0..4),
    ) {
        let pauses: Vec<Pause> = pauses
            .into_iter()
            .map(|(offset, length)| Pause {
                from: ts(start.as_second() + offset),
                to: ts(start.as_second() + offset + length),
                reason: "waiting on customer",
            })
            .collect();
        let due = calendar.due_with_pauses(start, minutes, &pauses).unwrap();
        prop_assert_eq!(calendar.elapsed_with_pauses(start, due, &pauses).unwrap(), minutes);
        prop_assert!(due >= calendar.due(start, minutes).unwrap());
        let explanation = calendar.explain(start, minutes, &pauses).unwrap();
        prop_assert_eq!(explanation.due, due);
    }

    #[test]
    fn explanations_cover_start_to_due_without_gaps(
        calendar in default_calendar(),
        start in recent_instant(),
        minutes in business_minutes(),
    ) {
        let explanation = calendar.explain(start, minutes, &[]).unwrap();
        prop_assert_eq!(explanation.due, calendar.due(start, minutes).unwrap());
        let mut cursor = ts(start.as_second());
        let mut counted = 0;
        for step in &explanation.steps {
            let (from, to) = match step {
                Step::Counted { from, to, total_seconds } => {
                    counted += to.as_second() - from.as_second();
                    prop_assert_eq!(*total_seconds, counted);
                    (*from, *to)
                }
                Step::Closed { from, to, .. } => (*from, *to),
            };
            prop_assert_eq!(from, cursor);
            prop_assert!(to > from);
            cursor = to;
        }
        prop_assert_eq!(cursor, explanation.due);
        prop_assert_eq!(counted, minutes as i64 * 60);
    }
}
