//! Due and elapsed on the default `americas` calendar, and the same inputs through the
//! `workclock` crate in the same run, so the ratio is measured on one machine at one time.
//!
//! Inputs: starts uniform over 2024–2031, durations from 1 minute to 15 business days,
//! elapsed ranges up to three weeks. Medians are read back from criterion's estimates and
//! printed as ratios at the end.
//!
//!     cargo bench -p caredesk-domain --bench sla
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;

use caredesk_domain::policy::Policy;
use criterion::Criterion;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const INPUTS: usize = 4096;
const FIRST_START: &str = "2024-01-01T00:00:00Z";
const LAST_START: &str = "2032-01-01T00:00:00Z";
const MAX_MINUTES: u64 = 15 * 540;

struct Case {
    start: Timestamp,
    minutes: u64,
    end: Timestamp,
}

fn cases() -> Vec<Case> {
    let first = FIRST_START.parse::<Timestamp>().unwrap().as_second();
    let last = LAST_START.parse::<Timestamp>().unwrap().as_second();
    // Seeded, so every run measures the same inputs.
    let mut inputs = StdRng::seed_from_u64(2026);
    (0..INPUTS)
        .map(|_| {
            let start = inputs.random_range(first..last);
            let minutes = inputs.random_range(1..=MAX_MINUTES);
            let end = start + inputs.random_range(0..21 * 86_400);
            Case {
                start: Timestamp::from_second(start).unwrap(),
                minutes,
                end: Timestamp::from_second(end).unwrap(),
            }
        })
        .collect()
}

/// The americas calendar rebuilt in workclock: Mon–Fri 08:00–17:00 Montreal, with the
/// holiday dates our rules give for the years the inputs reach.
fn workclock_americas(policy: &Policy) -> workclock::Schedule {
    let americas = policy.calendar("americas").unwrap();
    let holidays: Vec<jiff02::civil::Date> = (2023..=2033)
        .flat_map(|year| americas.closed_dates_in(year))
        .map(|(date, _)| jiff02::civil::date(date.year(), date.month(), date.day()))
        .collect();
    workclock::Schedule::builder()
        .time_zone("America/Montreal")
        .rule(workclock::WorkDay::new(
            jiff02::civil::time(8, 0, 0, 0),
            jiff02::civil::time(17, 0, 0, 0),
            workclock::Weekdays::MON_TO_FRI,
        ))
        .rule(workclock::Holidays::new(holidays).time_zone("America/Montreal"))
        .build()
        .unwrap()
}

fn to_jiff02(at: Timestamp) -> jiff02::Timestamp {
    jiff02::Timestamp::from_second(at.as_second()).unwrap()
}

fn output_directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion")
}

fn main() {
    let policy = Policy::built_in().unwrap();
    let americas = policy.calendar("americas").unwrap();
    americas.prepare();
    let workclock = workclock_americas(&policy);
    let cases = cases();

    // The comparison is only fair if both answer the same question the same way.
    let disagreements = cases
        .iter()
        .filter(|case| {
            let ours = americas.due(case.start, case.minutes).unwrap();
            let theirs = workclock
                .add(
                    to_jiff02(case.start),
                    jiff02::SignedDuration::from_mins(case.minutes as i64),
                )
                .unwrap();
            ours.as_second() != theirs.as_second()
        })
        .count();
    println!("workclock and caredesk disagree on {disagreements} of {INPUTS} due times");

    let mut criterion = Criterion::default()
        .output_directory(&output_directory())
        .configure_from_args();

    let mut group = criterion.benchmark_group("due");
    let mut index = 0;
    group.bench_function("caredesk", |bench| {
        bench.iter(|| {
            index = (index + 1) % INPUTS;
            let case = &cases[index];
            black_box(americas.due(black_box(case.start), black_box(case.minutes)))
        })
    });
    let workclock_inputs: Vec<(jiff02::Timestamp, jiff02::SignedDuration, jiff02::Timestamp)> =
        cases
            .iter()
            .map(|case| {
                (
                    to_jiff02(case.start),
                    jiff02::SignedDuration::from_mins(case.minutes as i64),
                    to_jiff02(case.end),
                )
            })
            .collect();
    group.bench_function("workclock", |bench| {
        bench.iter(|| {
            index = (index + 1) % INPUTS;
            let (start, duration, _) = workclock_inputs[index];
            black_box(workclock.add(black_box(start), black_box(duration)))
        })
    });
    group.finish();

    let mut group = criterion.benchmark_group("elapsed");
    group.bench_function("caredesk", |bench| {
        bench.iter(|| {
            index = (index + 1) % INPUTS;
            let case = &cases[index];
            black_box(americas.elapsed(black_box(case.start), black_box(case.end)))
        })
    });
    group.bench_function("workclock", |bench| {
        bench.iter(|| {
            index = (index + 1) % INPUTS;
            let (start, _, end) = workclock_inputs[index];
            black_box(workclock.between(black_box(start), black_box(end)))
        })
    });
    group.finish();

    let mut group = criterion.benchmark_group("policy");
    group.bench_function("load_and_prepare", |bench| {
        bench.iter(|| {
            let policy = Policy::built_in().unwrap();
            for calendar in policy.calendars.values() {
                calendar.prepare();
            }
            black_box(policy)
        })
    });
    group.finish();

    criterion.final_summary();
    print_ratios();
}

/// Median nanoseconds of one benchmark, from criterion's saved estimates.
fn median_ns(group: &str, function: &str) -> Option<f64> {
    let path = output_directory()
        .join(group)
        .join(function)
        .join("new/estimates.json");
    let estimates: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn print_ratios() {
    println!("\nmedians (ns per operation) and ratios, this run:");
    for group in ["due", "elapsed"] {
        let ours = median_ns(group, "caredesk");
        let theirs = median_ns(group, "workclock");
        match (ours, theirs) {
            (Some(ours), Some(theirs)) => println!(
                "  {group:8} caredesk {ours:8.1} ns   workclock {theirs:10.1} ns   workclock / caredesk = {:.1}×",
                theirs / ours
            ),
            _ => println!("  {group:8} (not measured in this run)"),
        }
    }
    if let Some(load) = median_ns("policy", "load_and_prepare") {
        println!(
            "  loading the policy and laying out all nine calendars: {:.1} ms",
            load / 1e6
        );
    }
}
