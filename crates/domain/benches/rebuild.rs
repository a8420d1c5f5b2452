//! A policy version computed into a million open tickets, in memory (issue "Changing the
//! policy safely"): each ticket's step under the new version, the timelines already read,
//! on one core (the baseline) and on every core, as a rebuild computes its batches
//! (`caredesk_domain::ticket::rebuild::rebuild_steps`), each step cut down where it is
//! computed to what the store writes of it.
//!
//! The tickets are generated with the domain's own `decide`, as the bench desk's are
//! (`crates/cli/examples/seed_tickets.rs`): opened over the last two weeks, on every
//! program, region, product line, severity and channel, each somewhere in its life (new,
//! answered, waiting for the customer's logs, logs received), with the breaches the
//! built-in policy records by now on their timelines, as stored. The new version is the
//! built-in policy with P3 status updates every business hour.
//!
//!     [REBUILD_TICKETS=1000000] cargo bench -p caredesk-domain --bench rebuild
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use caredesk_domain::policy::{DEFAULT_POLICY_TOML, Policy};
use caredesk_domain::report::TicketMeasures;
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::ticket::rebuild::{OpenTicket, every_core, rebuild_steps};
use caredesk_domain::ticket::step::{Step, StepError};
use caredesk_domain::ticket::{
    Actor, Command, ContactMedium, CustomerRequest, EventData, Role, Snapshot, TicketEvent, decide,
};
use criterion::Criterion;
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const REGIONS: [&str; 3] = ["americas", "emea", "apac"];
const PROGRAMS: [&str; 3] = ["standard", "gold", "platinum"];
const SEVERITIES: [&str; 4] = ["P1", "P2", "P3", "P4"];
const PRODUCT_LINES: [&str; 2] = ["ol-connect", "planetpress-suite"];

/// One generated open ticket.
struct Generated {
    program: &'static str,
    region: &'static str,
    product_line: &'static str,
    events: Vec<TicketEvent>,
}

fn generate(count: usize, policy: &Policy, now: Timestamp) -> Vec<Generated> {
    let mut dice = StdRng::seed_from_u64(20261207);
    let mut below = move |n: u64| dice.random_range(0..n);
    (0..count)
        .map(|index| {
            let severity = SEVERITIES[below(4) as usize];
            let channel = if below(2) == 0 { "portal" } else { "phone" };
            let opened = now
                .checked_sub(SignedDuration::from_mins(60 + below(14 * 24 * 60) as i64))
                .unwrap();
            let opened = Timestamp::from_second(opened.as_second()).unwrap();
            let contact = Actor::Contact { id: index as i64 };
            let advisor = Actor::Staff {
                id: 1 + below(30) as i64,
                role: Role::Advisor,
            };
            let mut events = vec![
                TicketEvent {
                    seq: 1,
                    at: opened,
                    actor: contact,
                    data: EventData::Created {
                        severity: severity.into(),
                        channel: channel.into(),
                    },
                },
                TicketEvent {
                    seq: 2,
                    at: opened,
                    actor: Actor::System,
                    data: EventData::Assigned {
                        advisor: Some(1 + below(30) as i64),
                        reason: Some("the lightest load".into()),
                        overridden: None,
                    },
                },
            ];
            let life = [
                (
                    advisor,
                    Command::Reply {
                        body: "looking into it".into(),
                        via: ContactMedium::Reply,
                    },
                ),
                (
                    advisor,
                    Command::RequestFromCustomer {
                        request: CustomerRequest::Information,
                        body: "the logs, please".into(),
                    },
                ),
                (
                    contact,
                    Command::CustomerMessage {
                        body: "attached".into(),
                    },
                ),
            ];
            let stage = below(4) as usize;
            let mut at = opened;
            for (actor, command) in life.into_iter().take(stage) {
                at = at
                    .checked_add(SignedDuration::from_mins(30 + below(600) as i64))
                    .unwrap()
                    .min(now);
                let snapshot = Snapshot::of(&events).unwrap();
                for data in decide(&snapshot, actor.role().unwrap(), command, policy).unwrap() {
                    let seq = events.len() as u32 + 1;
                    events.push(TicketEvent {
                        seq,
                        at: Timestamp::from_second(at.as_second()).unwrap(),
                        actor,
                        data,
                    });
                }
            }
            Generated {
                program: PROGRAMS[below(3) as usize],
                region: REGIONS[below(3) as usize],
                product_line: PRODUCT_LINES[below(2) as usize],
                events,
            }
        })
        .collect()
}

/// The built-in policy with P3's status updates every business hour.
fn hourly_p3_updates() -> Policy {
    let start = DEFAULT_POLICY_TOML.find("[severities.P3]").unwrap();
    let line = start
        + DEFAULT_POLICY_TOML[start..]
            .find("update_every = ")
            .unwrap();
    let end = line + DEFAULT_POLICY_TOML[line..].find('\n').unwrap();
    let source = format!(
        "{}update_every = \"1h\"{}",
        &DEFAULT_POLICY_TOML[..line],
        &DEFAULT_POLICY_TOML[end..]
    );
    Policy::from_toml(&source, "hourly P3 updates").unwrap()
}

/// What a rebuild keeps of a step, as the store does: whether it goes the locked way (events
/// to record, warnings to send), or else the row it would write (its queue keys, due times
/// and measures).
#[allow(clippy::type_complexity)]
fn kept(step: Result<Step, StepError>) -> Option<Option<([Option<Timestamp>; 6], TicketMeasures)>> {
    let step = step.ok()?;
    if !step.events.is_empty() || !step.at_risk.is_empty() {
        return Some(None);
    }
    let standing = &step.standing;
    Some(Some((
        [
            standing.next_due_at,
            standing.at_risk_at,
            standing.sweep_due_at,
            standing.first_response_due_at,
            standing.next_update_due_at,
            standing.resolution_due_at,
        ],
        step.measures,
    )))
}

fn output_directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion")
}

fn main() {
    let count: usize = std::env::var("REBUILD_TICKETS")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(1_000_000);
    let now: Timestamp = "2026-12-07T15:00:00Z".parse().unwrap();
    let policy = hourly_p3_updates();
    let before = Policy::built_in().unwrap();
    let mut generated = generate(count, &before, now);
    // As stored: the breaches the version before recorded are on the timelines already.
    for ticket in &mut generated {
        let context = ClockContext {
            program: ticket.program,
            region: ticket.region,
            product_line: ticket.product_line,
        };
        let recorded = rebuild_steps(
            &before,
            &[OpenTicket {
                context,
                events: &ticket.events,
            }],
            now,
            1,
            |step| step,
        );
        if let Some(Ok(step)) = recorded.into_iter().next() {
            ticket.events.extend(step.events);
        }
    }
    let tickets: Vec<OpenTicket<'_>> = generated
        .iter()
        .map(|ticket| OpenTicket {
            context: ClockContext {
                program: ticket.program,
                region: ticket.region,
                product_line: ticket.product_line,
            },
            events: &ticket.events,
        })
        .collect();
    let events: usize = generated.iter().map(|ticket| ticket.events.len()).sum();
    let cores = every_core();
    println!("{count} open tickets, {events} events; this machine runs {cores} threads at once");
    // Every ticket is timed, none refused.
    let steps = rebuild_steps(&policy, &tickets, now, cores, |step| step);
    let refused = steps.iter().filter(|step| step.is_err()).count();
    let breached = steps
        .iter()
        .filter_map(|step| step.as_ref().ok())
        .filter(|step| !step.events.is_empty())
        .count();
    println!("{refused} refused; {breached} get events (breaches the new version causes)");
    drop(steps);

    let mut criterion = Criterion::default()
        .output_directory(&output_directory())
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20))
        .configure_from_args();
    let mut group = criterion.benchmark_group("rebuild");
    group.bench_function("one_core", |bench| {
        bench.iter_with_large_drop(|| rebuild_steps(&policy, black_box(&tickets), now, 1, kept))
    });
    group.bench_function("every_core", |bench| {
        bench.iter_with_large_drop(|| rebuild_steps(&policy, black_box(&tickets), now, cores, kept))
    });
    group.finish();
    criterion.final_summary();

    let median = |function: &str| -> Option<f64> {
        let path = output_directory()
            .join("rebuild")
            .join(function)
            .join("new/estimates.json");
        let estimates: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
        estimates["median"]["point_estimate"].as_f64()
    };
    if let (Some(one), Some(every)) = (median("one_core"), median("every_core")) {
        println!(
            "\nmedians, this run: one core {:.0} ms, every core ({cores}) {:.0} ms for {count} tickets; \
             {:.2} µs a ticket on one core; one core / every core = {:.2}×",
            one / 1e6,
            every / 1e6,
            one / 1e3 / count as f64,
            one / every
        );
    }
}
