//! Times a full rebuild (issue "Changing the policy safely") on a desk of open tickets
//! (`seed_tickets DATABASE_URL 1000000 100` fills one), while four connections create
//! tickets: first the creation rate alone for LOAD_SECONDS (the baseline), then a new policy
//! version stored and every open ticket's clocks computed again under it by the desk's own
//! rebuild (`caredesk_desk::policy_versions::rebuild_clocks`, as `caredesk sla rebuild`
//! and the job runner run it) with the same load beside it: the rebuild's time, its
//! tickets per second, and the creation rate during it against the baseline's.
//!
//! The version alternates between the built-in policy and the built-in policy with P3
//! status updates every business hour, so every run moves the P3 tickets' due times (and
//! breaches some of them) and every run rebuilds every open ticket.
//!
//!     [CREATORS=4] [REBUILD_BATCH=500] \
//!     cargo run --release -p caredesk --example bench_rebuild -- DATABASE_URL [LOAD_SECONDS]
//!
//! Each creation's time is kept: the medians and 99th percentiles, alone and during the
//! rebuild, say how long a ticket's creation waits behind the rebuild's writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/desk.rs"]
mod desk;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use caredesk_desk::policy_versions::{REBUILD_BATCH, rebuild_clocks};
use caredesk_domain::policy::{DEFAULT_POLICY_TOML, Policy};
use caredesk_domain::ticket::Actor;
use caredesk_store::{NewPolicyVersion, NewTicket, Store};
use jiff::Timestamp;

/// Connections creating tickets beside the rebuild.
const CREATORS: usize = 4;

#[tokio::main]
async fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, url, rest @ ..] = arguments.as_slice() else {
        eprintln!("usage: bench_rebuild DATABASE_URL [LOAD_SECONDS]");
        std::process::exit(2);
    };
    let load_seconds: u64 = rest.first().map_or(20, |text| text.parse().unwrap());
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let desk = desk::bench_desk(&store);

    // The next version: the other document than the latest.
    let now = Timestamp::now();
    let latest = store.policy_versions().await.unwrap().into_iter().next();
    let hourly = hourly_p3_updates();
    let document = match &latest {
        Some(latest) if latest.source == "hourly P3 updates" => DEFAULT_POLICY_TOML.to_string(),
        _ => hourly.clone(),
    };
    let source = if document == hourly {
        "hourly P3 updates"
    } else {
        "built-in policy/default.toml"
    };
    let next = Arc::new(Policy::from_toml(&document, source).unwrap());

    // Tickets to create: the first customers' and contacts', under the new version's terms
    // (instances take a version up within seconds).
    let customers = store.customers().await.unwrap();
    let mut makers = Vec::new();
    for customer in customers.iter().take(40) {
        if let Some(contact) = store.contacts_of(customer.id).await.unwrap().first() {
            makers.push((customer.id, contact.id, customer.region.clone()));
        }
    }
    assert!(!makers.is_empty(), "seed the desk first (seed_tickets)");

    let baseline = creation_load(
        &store,
        &makers,
        &next,
        None,
        Duration::from_secs(load_seconds),
    )
    .await;
    let (alone_median, alone_p99) = percentiles(&baseline.2);
    println!(
        "creation alone: {} tickets in {load_seconds} s by {} connections = {:.0} tickets/s; \
         each took {alone_median:.1} ms (median), {alone_p99:.1} ms (99th percentile)",
        baseline.0,
        setting("CREATORS", CREATORS),
        baseline.1
    );

    let version = store
        .add_policy_version(&NewPolicyVersion {
            document: &document,
            sha256: source,
            source,
            applied_by: "bench_rebuild",
            applied_at: now,
            effective_at: now,
            note: None,
        })
        .await
        .unwrap();
    let behind = store.rebuild_progress(version).await.unwrap();
    println!(
        "policy version {version} ({source}) stored; {} open tickets, {} behind it",
        behind.open, behind.behind
    );
    let load_policy = Arc::new(Policy {
        stored_as: version,
        ..Policy::from_toml(&document, source).unwrap()
    });
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let store = store.clone();
        let makers = makers.clone();
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            creation_load(&store, &makers, &load_policy, Some(stop), Duration::MAX).await
        })
    };
    let started = Instant::now();
    let mut shown = 0;
    let batch = setting("REBUILD_BATCH", REBUILD_BATCH);
    let outcome = rebuild_clocks(&desk, batch, None, |done, to_do| {
        if done >= shown + 100_000 || done == to_do {
            shown = done;
            eprintln!(
                "  {done} of {to_do} rebuilt after {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    })
    .await
    .unwrap();
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (created, _, times) = load.await.unwrap();
    let during = created as f64 / took.as_secs_f64();
    println!(
        "rebuild: {} tickets in {:.1} s = {:.0} tickets/s; {} breaches recorded; {} could not be timed",
        outcome.tickets,
        took.as_secs_f64(),
        outcome.tickets as f64 / took.as_secs_f64(),
        outcome.breaches,
        outcome.failed.len()
    );
    let (during_median, during_p99) = percentiles(&times);
    println!(
        "creation during the rebuild: {created} tickets = {during:.0} tickets/s, {:.0} % of the baseline's {:.0}; \
         each took {during_median:.1} ms (median), {during_p99:.1} ms (99th percentile)",
        during * 100.0 / baseline.1,
        baseline.1
    );
    let left = store.rebuild_progress(version).await.unwrap();
    println!(
        "after: {} open tickets, {} behind version {version}",
        left.open, left.behind
    );
    store.close().await;
}

/// CREATORS tasks creating tickets one after another until `stop` (or `length`): how many,
/// per second, and each creation's time.
async fn creation_load(
    store: &Store,
    makers: &[(i64, i64, String)],
    policy: &Arc<Policy>,
    stop: Option<Arc<AtomicBool>>,
    length: Duration,
) -> (u64, f64, Vec<Duration>) {
    let created = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    let creators = setting("CREATORS", CREATORS);
    for creator in 0..creators {
        let store = store.clone();
        let makers = makers.to_vec();
        let created = Arc::clone(&created);
        let stop = stop.clone();
        let policy = Arc::clone(policy);
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut turn = creator;
            loop {
                if stop
                    .as_ref()
                    .is_some_and(|stop| stop.load(Ordering::Relaxed))
                    || started.elapsed() >= length
                {
                    return times;
                }
                let (customer, contact, region) = &makers[turn % makers.len()];
                turn += creators;
                let new = NewTicket {
                    customer_id: *customer,
                    contact_id: Some(*contact),
                    product_id: None,
                    product_line: "ol-connect".into(),
                    version: "2026.1".into(),
                    serial: format!("SN-{customer}"),
                    program: "standard".into(),
                    region: region.clone(),
                    language: "en".into(),
                    channel: "portal".into(),
                    subject: "The spooler stopped".into(),
                    description: "Nothing prints since the update.".into(),
                    details: serde_json::json!({ "business_impact": "benchmark" }),
                    severity: "P3".into(),
                    actor: Actor::Contact { id: *contact },
                    created_by: "bench_rebuild".into(),
                    idempotency_key: None,
                    request_hash: None,
                    intake: None,
                };
                let asked = Instant::now();
                store
                    .create_ticket(&policy, &new, Timestamp::now())
                    .await
                    .unwrap();
                times.push(asked.elapsed());
                created.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await.unwrap());
    }
    times.sort();
    let count = created.load(Ordering::Relaxed);
    (count, count as f64 / started.elapsed().as_secs_f64(), times)
}

/// The median and the 99th percentile of sorted `times`, in milliseconds.
fn percentiles(times: &[Duration]) -> (f64, f64) {
    let at = |share: f64| {
        let index = ((times.len() as f64 * share) as usize).min(times.len().saturating_sub(1));
        times
            .get(index)
            .map_or(0.0, |time| time.as_secs_f64() * 1000.0)
    };
    (at(0.5), at(0.99))
}

/// The built-in policy with P3's status updates every business hour.
fn hourly_p3_updates() -> String {
    let start = DEFAULT_POLICY_TOML.find("[severities.P3]").unwrap();
    let line = start
        + DEFAULT_POLICY_TOML[start..]
            .find("update_every = ")
            .unwrap();
    let end = line + DEFAULT_POLICY_TOML[line..].find('\n').unwrap();
    format!(
        "{}update_every = \"1h\"{}",
        &DEFAULT_POLICY_TOML[..line],
        &DEFAULT_POLICY_TOML[end..]
    )
}

/// The environment's `name` as a number, else `default`.
fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}
