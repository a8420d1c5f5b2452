//! Times SLA compliance, volume and people reports on a large desk (examples/seed_tickets
//! fills one: tickets opened over three years, most of them closed). Starting it measures
//! the tickets written before reports kept measures, and counts the work on those written
//! before the people report counted it, if any (timed). Then ROUNDS rounds of each report
//! below, through the desk as the API calls it (the server's time without HTTP), and the baseline
//! (one ticket read by its number): the median and the 99th percentile of each, against the
//! baseline's median of the same run.
//!
//!     cargo run --release -p caredesk --example bench_reports -- DATABASE_URL [ROUNDS]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/desk.rs"]
mod desk;

#[path = "shared/timing.rs"]
mod timing;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use caredesk_desk::Caller;
use caredesk_desk::people::{PeopleRequest, count_earlier_work, people};
use caredesk_desk::reports::{ComplianceRequest, compliance, measure_earlier_tickets};
use caredesk_desk::volume::{VolumeRequest, volume};
use caredesk_domain::report::{Dimension, ReportFilter, Span};
use caredesk_store::{Scope, Store};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, url, rest @ ..] = arguments.as_slice() else {
        eprintln!("usage: bench_reports DATABASE_URL [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = rest.first().map_or(200, |text| text.parse().unwrap());
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    store.refresh_statistics().await.unwrap();
    let desk = desk::bench_desk(&store);
    let started = Instant::now();
    let mut measured = 0;
    loop {
        let batch = measure_earlier_tickets(&desk, 5000).await.unwrap();
        if batch == 0 {
            break;
        }
        measured += batch;
    }
    if measured > 0 {
        println!(
            "{measured} earlier tickets measured in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let started = Instant::now();
    let mut counted = 0;
    loop {
        let batch = count_earlier_work(&desk, 5000).await.unwrap();
        if batch == 0 {
            break;
        }
        counted += batch;
    }
    if counted > 0 {
        println!(
            "the work on {counted} earlier tickets counted in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let today = TimeZone::UTC.to_datetime(jiff::Timestamp::now()).date();
    let three_years_ago = today.checked_sub(jiff::Span::new().years(3)).unwrap();
    let last_ticket = store.contents().await.unwrap().tickets;
    let customers = store.customers().await.unwrap();
    let advisors: Vec<i64> = store
        .staff()
        .await
        .unwrap()
        .into_iter()
        .filter(|member| member.role == caredesk_domain::ticket::Role::Advisor)
        .map(|member| member.id)
        .collect();
    let manager = Caller::System;
    let mut dice = StdRng::seed_from_u64(2026);
    let mut timings: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut tickets_counted: BTreeMap<&str, u64> = BTreeMap::new();
    for _ in 0..rounds {
        // A period cut inside months, a few weeks to a year long, somewhere in the three years.
        let start = three_years_ago
            .checked_add(jiff::Span::new().days(dice.random_range(0..730)))
            .unwrap();
        let end = start
            .checked_add(jiff::Span::new().days(dice.random_range(20..365)))
            .unwrap();
        let customer = customers[dice.random_range(0..customers.len())].id;
        let advisor = advisors[dice.random_range(0..advisors.len().max(1))];
        let volumes: [(&str, VolumeRequest); 4] = [
            (
                "volume: three years per week",
                volume_request(
                    three_years_ago,
                    today,
                    Span::Week,
                    "",
                    ReportFilter::default(),
                ),
            ),
            (
                "volume: three years per month by channel and severity",
                volume_request(
                    three_years_ago,
                    today,
                    Span::Month,
                    "channel,severity",
                    ReportFilter::default(),
                ),
            ),
            (
                "volume: a period of French per week by product line",
                volume_request(
                    start,
                    end,
                    Span::Week,
                    "product_line",
                    ReportFilter {
                        language: Some("fr".into()),
                        ..ReportFilter::default()
                    },
                ),
            ),
            (
                "volume: one customer's three years per week",
                volume_request(
                    three_years_ago,
                    today,
                    Span::Week,
                    "",
                    ReportFilter {
                        customer: Some(customer),
                        ..ReportFilter::default()
                    },
                ),
            ),
        ];
        for (what, asked) in volumes {
            let time = Instant::now();
            let report = volume(&desk, &manager, asked).await.unwrap();
            timings.entry(what).or_default().push(time.elapsed());
            *tickets_counted.entry(what).or_default() += report.opened;
        }
        let people_cases: [(&str, PeopleRequest); 3] = [
            (
                "people: three years per week",
                PeopleRequest {
                    from: Some(three_years_ago),
                    to: Some(today),
                    span: Span::Week,
                    ..PeopleRequest::default()
                },
            ),
            (
                "people: a period of one region per month",
                PeopleRequest {
                    from: Some(start),
                    to: Some(end),
                    span: Span::Month,
                    region: Some("americas".into()),
                    ..PeopleRequest::default()
                },
            ),
            (
                "people: one advisor's three years per week",
                PeopleRequest {
                    from: Some(three_years_ago),
                    to: Some(today),
                    span: Span::Week,
                    advisor: Some(advisor),
                    ..PeopleRequest::default()
                },
            ),
        ];
        for (what, asked) in people_cases {
            let time = Instant::now();
            let report = people(&desk, &manager, asked).await.unwrap();
            timings.entry(what).or_default().push(time.elapsed());
            *tickets_counted.entry(what).or_default() += report.total.counts.tickets;
        }
        let cases: [(&str, ComplianceRequest); 13] = [
            (
                "three years by program and severity",
                request(
                    three_years_ago,
                    today,
                    "program,severity",
                    ReportFilter::default(),
                ),
            ),
            (
                "three years by month",
                request(three_years_ago, today, "month", ReportFilter::default()),
            ),
            (
                "three years of French by region and channel",
                request(
                    three_years_ago,
                    today,
                    "region,channel",
                    ReportFilter {
                        language: Some("fr".into()),
                        ..ReportFilter::default()
                    },
                ),
            ),
            (
                "a period cut inside months, by region",
                request(start, end, "region", ReportFilter::default()),
            ),
            (
                "one customer's three years by month",
                request(
                    three_years_ago,
                    today,
                    "month",
                    ReportFilter {
                        customer: Some(customer),
                        ..ReportFilter::default()
                    },
                ),
            ),
            (
                "one advisor's three years by severity",
                request(
                    three_years_ago,
                    today,
                    "severity",
                    ReportFilter {
                        advisor: Some(advisor),
                        ..ReportFilter::default()
                    },
                ),
            ),
            (
                "three years by advisor",
                request(three_years_ago, today, "advisor", ReportFilter::default()),
            ),
            (
                "a period cut inside months, by customer and month",
                request(start, end, "customer,month", ReportFilter::default()),
            ),
            (
                "one customer's period by severity and product line",
                request(
                    start,
                    end,
                    "severity,product_line",
                    ReportFilter {
                        customer: Some(customer),
                        ..ReportFilter::default()
                    },
                ),
            ),
            (
                "one advisor's three years by channel and product line",
                request(
                    three_years_ago,
                    today,
                    "channel,product_line",
                    ReportFilter {
                        advisor: Some(advisor),
                        ..ReportFilter::default()
                    },
                ),
            ),
            (
                "three years by advisor and region",
                request(
                    three_years_ago,
                    today,
                    "advisor,region",
                    ReportFilter::default(),
                ),
            ),
            (
                "one customer's three years by advisor (its tickets themselves)",
                request(
                    three_years_ago,
                    today,
                    "advisor",
                    ReportFilter {
                        customer: Some(customer),
                        ..ReportFilter::default()
                    },
                ),
            ),
            (
                "this month by program",
                request(
                    today.first_of_month(),
                    today,
                    "program",
                    ReportFilter::default(),
                ),
            ),
        ];
        for (what, asked) in cases {
            let time = Instant::now();
            let report = compliance(&desk, &manager, asked).await.unwrap();
            timings.entry(what).or_default().push(time.elapsed());
            *tickets_counted.entry(what).or_default() += report.total.tickets;
        }
        let id = dice.random_range(1..=last_ticket.max(1));
        let time = Instant::now();
        let _ = store.ticket(id, Scope::All).await;
        timings
            .entry("baseline: one ticket by number")
            .or_default()
            .push(time.elapsed());
    }
    let baseline = timing::percentile(timings["baseline: one ticket by number"].clone(), 50);
    println!("{last_ticket} tickets, {rounds} rounds");
    println!("| report | p50 | p99 | p50 / baseline p50 | tickets counted (mean) |");
    println!("|---|---|---|---|---|");
    for (what, durations) in timings {
        let median = timing::percentile(durations.clone(), 50);
        let high = timing::percentile(durations, 99);
        let counted = tickets_counted
            .get(what)
            .map_or(String::from("–"), |total| {
                format!("{}", total / rounds as u64)
            });
        println!(
            "| {what} | {:.2} ms | {:.2} ms | {:.1}× | {counted} |",
            median.as_secs_f64() * 1e3,
            high.as_secs_f64() * 1e3,
            median.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}

fn request(from: Date, to: Date, by: &str, filter: ReportFilter) -> ComplianceRequest {
    ComplianceRequest {
        from: Some(from),
        to: Some(to),
        filter,
        by: Dimension::list(by).unwrap(),
    }
}

fn volume_request(
    from: Date,
    to: Date,
    span: Span,
    by: &str,
    filter: ReportFilter,
) -> VolumeRequest {
    VolumeRequest {
        from: Some(from),
        to: Some(to),
        span,
        filter,
        by: Dimension::list(by).unwrap(),
    }
}
