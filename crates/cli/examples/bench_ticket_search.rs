//! Times staff's search of tickets by their words on a large desk (examples/seed_tickets
//! fills one: subjects, descriptions and messages of words drawn from the demo's English
//! articles). Starting the store indexes the tickets written before the search existed,
//! and that is timed too. Then ROUNDS rounds of one search of one, two and three words
//! drawn the same way, its next page, and the baseline (one ticket read by its number),
//! in-process (the server's time without HTTP): the median and the 99th percentile of each
//! against the baseline's median of the same run.
//!
//!     cargo run --release -p caredesk --example bench_ticket_search -- DATABASE_URL [ROUNDS]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/desk.rs"]
mod desk;

#[path = "shared/timing.rs"]
mod timing;
#[path = "shared/words.rs"]
mod words;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use caredesk_desk::Caller;
use caredesk_desk::ticket_search::search;
use caredesk_domain::ticket::Role;
use caredesk_store::{Scope, Store};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Tickets a page shows, as on the console.
const PAGE: usize = 20;

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, url, rest @ ..] = arguments.as_slice() else {
        eprintln!("usage: bench_ticket_search DATABASE_URL [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = rest.first().map_or(1000, |text| text.parse().unwrap());
    let store = Store::connect(url).await.unwrap();
    let started = Instant::now();
    store.migrate().await.unwrap();
    println!(
        "migrations and the index of earlier tickets' texts: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store.refresh_statistics().await.unwrap();
    let desk = desk::bench_desk(&store);
    let staff = Caller::Staff {
        id: 1,
        role: Role::Advisor,
    };
    let vocabulary = words::english_words();
    let mut dice = StdRng::seed_from_u64(2026);
    let last_ticket = store.contents().await.unwrap().tickets;
    let mut timings: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    let mut found = BTreeMap::<String, usize>::new();
    for _ in 0..rounds {
        for count in 1..=3 {
            let words: Vec<&str> = (0..count)
                .map(|_| vocabulary[dice.random_range(0..vocabulary.len())].as_str())
                .collect();
            let query = words.join(" ");
            let time = Instant::now();
            let page = search(&desk, &staff, &query, None, PAGE).await.unwrap();
            let what = format!("search, {count} word{}", if count > 1 { "s" } else { "" });
            timings
                .entry(what.clone())
                .or_default()
                .push(time.elapsed());
            *found.entry(what).or_default() += page.tickets.len();
            if count == 1
                && let Some(before) = page.next
            {
                let time = Instant::now();
                search(&desk, &staff, &query, Some(before), PAGE)
                    .await
                    .unwrap();
                timings
                    .entry("next page, 1 word".into())
                    .or_default()
                    .push(time.elapsed());
            }
        }
        let id = dice.random_range(1..=last_ticket.max(1));
        let time = Instant::now();
        let _ = store.ticket(id, Scope::All).await;
        timings
            .entry("baseline: one ticket by number".into())
            .or_default()
            .push(time.elapsed());
    }
    let baseline = timing::percentile(timings["baseline: one ticket by number"].clone(), 50);
    println!("{last_ticket} tickets, {rounds} rounds");
    println!("| what | p50 | p99 | p50 / baseline p50 | tickets found a page (mean) |");
    println!("|---|---|---|---|---|");
    for (what, durations) in timings {
        let measured = durations.len();
        let median = timing::percentile(durations.clone(), 50);
        let high = timing::percentile(durations, 99);
        let mean_found = found.get(&what).map_or(String::from("–"), |total| {
            format!("{:.1}", *total as f64 / measured as f64)
        });
        println!(
            "| {what} | {:.2} ms | {:.2} ms | {:.1}× | {mean_found} |",
            median.as_secs_f64() * 1e3,
            high.as_secs_f64() * 1e3,
            median.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}
