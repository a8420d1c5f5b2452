//! Replay uses the live clocks' engine: a ticket replayed under its actual terms is timed as
//! the desk's own step times it, over generated histories (issue "Changing the policy
//! safely"). The live side is what the store keeps after each change (`step`'s standing,
//! with the breaches and escalations it records on the timeline); the replay side reads that
//! timeline back with `replay::time`.
#![allow(clippy::unwrap_used)]

use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::ticket::replay::{Terms, Timeline, time};
use caredesk_domain::ticket::step::step;
use caredesk_domain::ticket::{
    Actor, Command, ContactMedium, CustomerRequest, EventData, Resolution, Role, Snapshot,
    TicketEvent, decide,
};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

const PROGRAMS: [&str; 3] = ["standard", "gold", "platinum"];
const REGIONS: [&str; 3] = ["americas", "emea", "apac"];
const PRODUCT_LINES: [&str; 2] = ["ol-connect", "planetpress-suite"];
const SEVERITIES: [&str; 4] = ["P1", "P2", "P3", "P4"];
const CHANNELS: [&str; 2] = ["portal", "phone"];

const ADVISOR: Actor = Actor::Staff {
    id: 7,
    role: Role::Advisor,
};
const CONTACT: Actor = Actor::Contact { id: 3 };

/// The command of a generated step, with who gives it.
fn command(choice: u8) -> (Actor, Command) {
    match choice % 7 {
        0 => (
            ADVISOR,
            Command::Reply {
                body: "looking into it".into(),
                via: ContactMedium::Reply,
            },
        ),
        1 => (
            ADVISOR,
            Command::RequestFromCustomer {
                request: CustomerRequest::Information,
                body: "the logs, please".into(),
            },
        ),
        2 => (
            CONTACT,
            Command::CustomerMessage {
                body: "here they are".into(),
            },
        ),
        3 => (
            ADVISOR,
            Command::ProposeSolution {
                resolution: Resolution::Workaround,
                body: "restart the spooler".into(),
            },
        ),
        4 => (
            CONTACT,
            Command::AcceptSolution {
                note: String::new(),
            },
        ),
        5 => (
            CONTACT,
            Command::RejectSolution {
                reason: "it comes back".into(),
            },
        ),
        _ => (
            ADVISOR,
            Command::ChangeSeverity {
                severity: SEVERITIES[usize::from(choice / 7) % 4].into(),
                reason: "as the impact turned out".into(),
            },
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_replay_under_the_actual_terms_gives_the_live_clocks(
        program in 0..3usize,
        region in 0..3usize,
        product_line in 0..2usize,
        severity in 0..4usize,
        channel in 0..2usize,
        // Any second of 2026 and 2027: both DST changes of every office, and Easter.
        opened in 1_767_225_600i64..1_830_297_600i64,
        steps in proptest::collection::vec((1i64..6000, any::<u8>()), 0..8),
        looked_after in 0i64..20_000,
    ) {
        let policy = Policy::built_in().unwrap();
        let context = ClockContext {
            program: PROGRAMS[program],
            region: REGIONS[region],
            product_line: PRODUCT_LINES[product_line],
        };
        let opened = Timestamp::from_second(opened).unwrap();
        let mut events = vec![TicketEvent {
            seq: 1,
            at: opened,
            actor: CONTACT,
            data: EventData::Created {
                severity: SEVERITIES[severity].into(),
                channel: CHANNELS[channel].into(),
            },
        }];
        let mut now = opened;
        // As the store does it: each change a step, with what the desk records by itself.
        for (minutes, choice) in steps {
            now = now.checked_add(SignedDuration::from_mins(minutes)).unwrap();
            let snapshot = Snapshot::of(&events).unwrap();
            if snapshot.closed_at.is_some() {
                break;
            }
            let (actor, command) = command(choice);
            let Ok(decided) = decide(&snapshot, actor.role().unwrap(), command, &policy) else {
                continue;
            };
            let stepped = step(&policy, &context, &events, decided, actor, now).unwrap();
            events.extend(stepped.events);
        }
        let later = now.checked_add(SignedDuration::from_mins(looked_after)).unwrap();
        let live = step(&policy, &context, &events, Vec::new(), Actor::System, later).unwrap();
        events.extend(live.events);
        let standing = &live.standing;
        let timing = time(
            Terms { policy: &policy, program: context.program },
            Timeline {
                region: context.region,
                product_line: context.product_line,
                events: &events,
            },
            later,
        )
        .unwrap();
        prop_assert_eq!(&timing.calendar, &standing.calendar);
        if standing.snapshot.closed_at.is_none() {
            // Open: timed as it stands now, clock by clock as the queue keeps them.
            prop_assert_eq!(timing.first_response.due_at, standing.first_response_due_at);
            prop_assert_eq!(
                timing.resolution.due_at,
                standing.clocks.resolution.as_ref().and_then(|clock| clock.due_at)
            );
            if let Some(resolution) = &standing.clocks.resolution {
                prop_assert_eq!(timing.resolution.used_minutes, resolution.elapsed_minutes);
                prop_assert_eq!(timing.resolution.target_minutes, resolution.target_minutes);
            }
            prop_assert_eq!(
                timing.first_response.target_minutes,
                standing.clocks.first_response.target_minutes
            );
        } else {
            // Closed: timed as it stood when it closed, which is what the store measured.
            prop_assert_eq!(
                timing.first_response.target_minutes,
                live.measures.first_response.target_minutes
            );
            prop_assert_eq!(
                timing.first_response.used_minutes,
                live.measures.first_response.used_minutes
            );
        }
    }
}
