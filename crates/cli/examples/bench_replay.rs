//! Times what-if replay (issue "Changing the policy safely") on a large desk
//! (`seed_tickets` fills one): one customer's tickets of two days (about 2,000 on the bench
//! desk of a million open tickets, whose 60 customers opened them over two weeks) ROUNDS
//! times, and every ticket of the desk three times, each under the platinum program and
//! summed up (no per-ticket lines), through the desk's own replay as the API and the console
//! call it. The baseline, measured in the same run: reading the same tickets with their
//! timelines without timing them, which is the part of a replay spent in the database.
//!
//!     cargo run --release -p caredesk --example bench_replay -- DATABASE_URL [ROUNDS]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/desk.rs"]
mod desk;

#[path = "shared/timing.rs"]
mod timing;

use std::time::{Duration, Instant};

use caredesk_desk::Caller;
use caredesk_desk::replay::{ReplayRequest, replay};
use caredesk_domain::report::ReportFilter;
use caredesk_store::{Store, TIMELINES_PER_PAGE, TimelineCursor, TimelineQuery};
use jiff::civil::Date;

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, url, rest @ ..] = arguments.as_slice() else {
        eprintln!("usage: bench_replay DATABASE_URL [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = rest.first().map_or(50, |text| text.parse().unwrap());
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let desk = desk::bench_desk(&store);
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let customer = store.customers().await.unwrap()[0].id;
    let two_days = (today.yesterday().unwrap(), today);
    let one_customer = ReportFilter {
        customer: Some(customer),
        ..ReportFilter::default()
    };
    let everyone = ReportFilter::default();
    let all_time = (Date::constant(2020, 1, 1), today);

    let request = |(from, to): (Date, Date), filter: &ReportFilter| ReplayRequest {
        from: Some(from),
        to: Some(to),
        filter: filter.clone(),
        program: Some("platinum".into()),
        policy: None,
        per_ticket: false,
    };
    let first = replay(&desk, &Caller::System, request(two_days, &one_customer))
        .await
        .unwrap();
    println!(
        "one customer, {} to {}: {} tickets",
        two_days.0, two_days.1, first.summary.tickets
    );

    let mut replays = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        replay(&desk, &Caller::System, request(two_days, &one_customer))
            .await
            .unwrap();
        replays.push(started.elapsed());
        let started = Instant::now();
        read_only(&store, two_days, &one_customer).await;
        reads.push(started.elapsed());
    }
    report("one customer's two days", &replays, &reads);

    let mut replays = Vec::new();
    let mut reads = Vec::new();
    let mut tickets = 0;
    for _ in 0..3 {
        let started = Instant::now();
        tickets = replay(&desk, &Caller::System, request(all_time, &everyone))
            .await
            .unwrap()
            .summary
            .tickets;
        replays.push(started.elapsed());
        let started = Instant::now();
        read_only(&store, all_time, &everyone).await;
        reads.push(started.elapsed());
    }
    println!("every ticket: {tickets}");
    report("every ticket", &replays, &reads);
    store.close().await;
}

/// The tickets of the period and filter read with their timelines, one page after another
/// (a replay reads two at once), and not timed.
async fn read_only(store: &Store, (first_day, last_day): (Date, Date), filter: &ReportFilter) {
    let mut after = TimelineCursor::default();
    loop {
        let page = store
            .timelines(&TimelineQuery {
                first_day,
                last_day,
                filter,
                after,
                through: None,
                limit: TIMELINES_PER_PAGE,
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.cursor();
    }
}

fn report(what: &str, replays: &[Duration], reads: &[Duration]) {
    let replay = timing::percentile(replays.to_vec(), 50);
    let read = timing::percentile(reads.to_vec(), 50);
    println!(
        "{what}: replay median {:.1} ms (p99 {:.1} ms); reading alone (baseline) median {:.1} ms; replay / reading = {:.2}×",
        replay.as_secs_f64() * 1e3,
        timing::percentile(replays.to_vec(), 99).as_secs_f64() * 1e3,
        read.as_secs_f64() * 1e3,
        replay.as_secs_f64() / read.as_secs_f64()
    );
}
