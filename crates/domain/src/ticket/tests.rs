use jiff::Timestamp;

use super::clocks::{
    ClockContext, ClockStatus, PauseCause, TicketClocks, compute, unrecorded_breaches,
};
use super::*;
use crate::policy::Policy;

fn policy() -> Policy {
    Policy::built_in().unwrap()
}

/// The built-in policy with its file edited by `edit`.
fn policy_with(edit: impl Fn(&str) -> String) -> Policy {
    let edited = edit(crate::policy::DEFAULT_POLICY_TOML);
    assert_ne!(
        edited,
        crate::policy::DEFAULT_POLICY_TOML,
        "the edit changed nothing"
    );
    Policy::from_toml(&edited, "edited.toml").unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

const ADVISOR: Actor = Actor::Staff {
    id: 7,
    role: Role::Advisor,
};
const CONTACT: Actor = Actor::Contact { id: 3 };

/// A ticket driven through `decide`, as the service will do it.
struct Ticket {
    policy: Policy,
    context: (&'static str, &'static str, &'static str),
    events: Vec<TicketEvent>,
}

impl Ticket {
    fn open(program: &'static str, severity: &str, channel: &str, opened: &str) -> Ticket {
        Ticket::open_on(
            program,
            "emea",
            "planetpress-suite",
            severity,
            channel,
            opened,
        )
    }

    fn open_on(
        program: &'static str,
        region: &'static str,
        product_line: &'static str,
        severity: &str,
        channel: &str,
        opened: &str,
    ) -> Ticket {
        Ticket {
            policy: policy(),
            context: (program, region, product_line),
            events: vec![TicketEvent {
                seq: 1,
                at: at(opened),
                actor: CONTACT,
                data: EventData::Created {
                    severity: severity.into(),
                    channel: channel.into(),
                },
            }],
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.events).unwrap()
    }

    fn try_do(&mut self, actor: Actor, when: &str, command: Command) -> Result<(), Refusal> {
        let role = actor.role().unwrap();
        let new = decide(&self.snapshot(), role, command, &self.policy)?;
        for data in new {
            let seq = self.events.len() as u32 + 1;
            self.events.push(TicketEvent {
                seq,
                at: at(when),
                actor,
                data,
            });
        }
        Ok(())
    }

    fn does(&mut self, actor: Actor, when: &str, command: Command) -> &mut Self {
        self.try_do(actor, when, command).unwrap();
        self
    }

    fn clocks(&self, now: &str) -> TicketClocks {
        let (program, region, product_line) = self.context;
        let context = ClockContext {
            program,
            region,
            product_line,
        };
        compute(&self.policy, &context, &self.events, at(now)).unwrap()
    }

    fn explain(&self, now: &str) -> super::explain::TicketExplanation {
        let (program, region, product_line) = self.context;
        let context = ClockContext {
            program,
            region,
            product_line,
        };
        super::explain::explain_ticket(&self.policy, &context, &self.events, at(now)).unwrap()
    }

    fn kinds(&self) -> Vec<&'static str> {
        self.events.iter().map(|event| event.data.kind()).collect()
    }
}

fn reply(body: &str) -> Command {
    Command::Reply {
        body: body.into(),
        via: ContactMedium::Reply,
    }
}

fn ask(request: CustomerRequest) -> Command {
    Command::RequestFromCustomer {
        request,
        body: "please send the logs".into(),
    }
}

fn propose() -> Command {
    Command::ProposeSolution {
        resolution: Resolution::Workaround,
        body: "use the other printer queue".into(),
    }
}

fn customer_says(body: &str) -> Command {
    Command::CustomerMessage { body: body.into() }
}

// A standard EMEA ticket opened on Monday 2026-11-23 at 10:00 in Amsterdam (09:00–17:00).
const MONDAY_10: &str = "2026-11-23T10:00:00+01:00";

#[test]
fn the_first_reply_is_the_first_response_and_later_ones_are_updates() {
    let mut ticket = Ticket::open("standard", "P2", "portal", MONDAY_10);
    ticket
        .does(
            ADVISOR,
            "2026-11-23T11:00:00+01:00",
            reply("looking into it"),
        )
        .does(ADVISOR, "2026-11-23T12:00:00+01:00", reply("found it"));
    assert_eq!(
        ticket.kinds(),
        ["created", "first_response", "public_update"]
    );
    assert_eq!(ticket.snapshot().state, TicketState::InProgress);
}

#[test]
fn waiting_on_the_customer_and_the_answer() {
    let mut ticket = Ticket::open("standard", "P2", "portal", MONDAY_10);
    ticket.does(
        ADVISOR,
        "2026-11-23T11:00:00+01:00",
        ask(CustomerRequest::Information),
    );
    assert_eq!(ticket.snapshot().state, TicketState::WaitingOnCustomer);
    // Asking is a customer-visible contact: it answers the first-response clock.
    assert_eq!(
        ticket.snapshot().first_response_at,
        Some(at("2026-11-23T11:00:00+01:00"))
    );
    ticket.does(
        CONTACT,
        "2026-11-24T11:00:00+01:00",
        customer_says("here they are"),
    );
    assert_eq!(ticket.kinds().last(), Some(&"customer_answered"));
    assert_eq!(ticket.snapshot().state, TicketState::InProgress);
    ticket.does(
        CONTACT,
        "2026-11-24T12:00:00+01:00",
        customer_says("and one more"),
    );
    assert_eq!(ticket.kinds().last(), Some(&"customer_message"));
}

#[test]
fn consent_closes_and_a_closed_ticket_only_takes_notes() {
    let mut ticket = Ticket::open("standard", "P3", "phone", MONDAY_10);
    ticket.does(ADVISOR, "2026-11-23T11:00:00+01:00", propose());
    assert_eq!(ticket.snapshot().state, TicketState::SolutionProposed);
    let refused = ticket.try_do(ADVISOR, "2026-11-23T11:30:00+01:00", propose());
    assert!(matches!(refused, Err(Refusal::NotNow { .. })));
    ticket.does(
        CONTACT,
        "2026-11-23T12:00:00+01:00",
        Command::AcceptSolution {
            note: String::new(),
        },
    );
    assert_eq!(ticket.snapshot().state, TicketState::Closed);
    assert_eq!(&ticket.kinds()[2..], ["solution_accepted", "closed"]);
    let refused = ticket
        .try_do(
            ADVISOR,
            "2026-11-23T13:00:00+01:00",
            reply("anything else?"),
        )
        .unwrap_err();
    let Refusal::NotNow { state, allowed, .. } = refused else {
        panic!("expected a conflict")
    };
    assert_eq!(state, TicketState::Closed);
    assert_eq!(allowed, [Action::Note]);
    ticket.does(
        ADVISOR,
        "2026-11-23T13:00:00+01:00",
        Command::Note {
            body: "done".into(),
        },
    );
}

#[test]
fn a_rejected_solution_puts_the_ticket_back_in_progress() {
    let mut ticket = Ticket::open("standard", "P3", "phone", MONDAY_10);
    ticket
        .does(ADVISOR, "2026-11-23T11:00:00+01:00", propose())
        .does(
            CONTACT,
            "2026-11-23T12:00:00+01:00",
            Command::RejectSolution {
                reason: "still fails".into(),
            },
        );
    assert_eq!(ticket.snapshot().state, TicketState::InProgress);
}

#[test]
fn roles_are_checked_before_states() {
    let mut ticket = Ticket::open("standard", "P3", "phone", MONDAY_10);
    let refused = ticket
        .try_do(CONTACT, MONDAY_10, reply("I answer myself"))
        .unwrap_err();
    assert!(matches!(
        refused,
        Refusal::NotPermitted {
            role: Role::CustomerContact,
            ..
        }
    ));
    ticket.does(
        CONTACT,
        MONDAY_10,
        Command::RequestEscalation {
            reason: "urgent".into(),
        },
    );
    let refused = ticket
        .try_do(
            ADVISOR,
            MONDAY_10,
            Command::AnswerEscalation {
                answer: "on it".into(),
            },
        )
        .unwrap_err();
    assert!(matches!(refused, Refusal::NotPermitted { .. }));
    let manager = Actor::Staff {
        id: 1,
        role: Role::SupportManager,
    };
    ticket.does(
        manager,
        MONDAY_10,
        Command::AnswerEscalation {
            answer: "on it".into(),
        },
    );
    assert!(!ticket.snapshot().escalation_open);
    assert!(ticket.snapshot().escalated);
    // Nothing is open to answer any more.
    let refused = ticket
        .try_do(
            manager,
            MONDAY_10,
            Command::AnswerEscalation {
                answer: "again".into(),
            },
        )
        .unwrap_err();
    assert!(matches!(refused, Refusal::NotNow { .. }));
}

#[test]
fn commands_are_validated_field_by_field() {
    let mut ticket = Ticket::open("standard", "P3", "phone", MONDAY_10);
    let invalid = |refusal: Refusal| match refusal {
        Refusal::Invalid { field, .. } => field,
        other => panic!("expected invalid, got {other:?}"),
    };
    assert_eq!(
        invalid(ticket.try_do(ADVISOR, MONDAY_10, reply("  ")).unwrap_err()),
        "body"
    );
    let to = |severity: &str| Command::ChangeSeverity {
        severity: severity.into(),
        reason: "impact".into(),
    };
    assert_eq!(
        invalid(ticket.try_do(ADVISOR, MONDAY_10, to("P9")).unwrap_err()),
        "severity"
    );
    assert_eq!(
        invalid(ticket.try_do(ADVISOR, MONDAY_10, to("P3")).unwrap_err()),
        "severity"
    );
    let planned = Command::ProposeSolution {
        resolution: Resolution::PlannedForRelease {
            release: "2027.1".into(),
        },
        body: "fixed in the next release".into(),
    };
    assert_eq!(
        invalid(
            ticket
                .try_do(ADVISOR, MONDAY_10, planned.clone())
                .unwrap_err()
        ),
        "resolution"
    );
    ticket.does(ADVISOR, MONDAY_10, to("P4"));
    // The catalog announces a version to the tickets planned for it: words never match one.
    for words in ["the next release", "next"] {
        let vague = Command::ProposeSolution {
            resolution: Resolution::PlannedForRelease {
                release: words.into(),
            },
            body: "fixed in the next release".into(),
        };
        assert_eq!(
            invalid(ticket.try_do(ADVISOR, MONDAY_10, vague).unwrap_err()),
            "resolution.release"
        );
    }
    ticket.does(ADVISOR, MONDAY_10, planned);
    assert_eq!(ticket.snapshot().state, TicketState::PlannedForRelease);
}

#[test]
fn a_ticket_planned_for_a_release_learns_when_it_is_published() {
    use crate::catalog::{PublishedRelease, release_arrival};
    let planned = |release: &str| {
        let mut ticket = Ticket::open("standard", "P4", "portal", MONDAY_10);
        ticket.does(ADVISOR, MONDAY_10, reply("looking"));
        ticket.does(
            ADVISOR,
            MONDAY_10,
            Command::ProposeSolution {
                resolution: Resolution::PlannedForRelease {
                    release: release.into(),
                },
                body: "fixed in the next release".into(),
            },
        );
        ticket
    };
    let release = PublishedRelease {
        product_line: "planetpress-suite",
        version: "8.01",
        proposal: "PlanetPress Suite 8.1: https://downloads.example.com/pps-8.1.exe",
    };
    let mut ticket = planned("8.1");
    assert_eq!(ticket.snapshot().planned_release.as_deref(), Some("8.1"));
    // Another line's 8.1, or another version of the line, is not the one it waits for.
    let other_line = PublishedRelease {
        product_line: "ol-connect",
        ..release
    };
    assert_eq!(
        release_arrival(&ticket.snapshot(), "planetpress-suite", &other_line, true),
        []
    );
    let other_version = PublishedRelease {
        version: "8.2",
        ..release
    };
    assert_eq!(
        release_arrival(
            &ticket.snapshot(),
            "planetpress-suite",
            &other_version,
            true
        ),
        []
    );
    // With the fix in it: told, then a solution proposed, waiting for consent.
    let arrival = release_arrival(&ticket.snapshot(), "planetpress-suite", &release, true);
    assert_eq!(
        arrival,
        [
            EventData::ReleasePublished {
                product_line: "planetpress-suite".into(),
                version: "8.01".into(),
                fixed: true,
            },
            EventData::SolutionProposed {
                resolution: Resolution::PermanentFix,
                body: release.proposal.into(),
            },
        ]
    );
    for data in arrival {
        let seq = ticket.events.len() as u32 + 1;
        ticket.events.push(TicketEvent {
            seq,
            at: at("2026-11-30T10:00:00+01:00"),
            actor: Actor::System,
            data,
        });
    }
    let snapshot = ticket.snapshot();
    assert_eq!(snapshot.state, TicketState::SolutionProposed);
    assert_eq!(snapshot.planned_release, None);
    assert_eq!(snapshot.proposed_at, Some(at("2026-11-30T10:00:00+01:00")));
    // Published again (a second instance, a retry): nothing more.
    assert_eq!(
        release_arrival(&snapshot, "planetpress-suite", &release, true),
        []
    );

    // Without the fix: told, and back with its advisor to plan again.
    let mut slipped = planned("8.1");
    let arrival = release_arrival(&slipped.snapshot(), "planetpress-suite", &release, false);
    assert_eq!(arrival.len(), 1);
    slipped.events.push(TicketEvent {
        seq: slipped.events.len() as u32 + 1,
        at: at("2026-11-30T10:00:00+01:00"),
        actor: Actor::System,
        data: arrival[0].clone(),
    });
    let snapshot = slipped.snapshot();
    assert_eq!(snapshot.state, TicketState::InProgress);
    assert_eq!(snapshot.planned_release, None);
    assert_eq!(snapshot.proposed_at, None);
    assert!(arrival[0].is_public());
}

#[test]
fn first_response_clock_runs_turns_at_risk_and_breaches() {
    // Portal: 4 business hours, due Monday 14:00; at risk from 80 %, 13:12.
    let ticket = Ticket::open("standard", "P2", "portal", MONDAY_10);
    let clocks = ticket.clocks("2026-11-23T13:00:00+01:00");
    let first = &clocks.first_response;
    assert_eq!(clocks.calendar, "emea");
    assert_eq!(first.status, ClockStatus::Running);
    assert_eq!(first.due_at, Some(at("2026-11-23T14:00:00+01:00")));
    assert_eq!(first.at_risk_at, Some(at("2026-11-23T13:12:00+01:00")));
    assert_eq!((first.elapsed_minutes, first.remaining_minutes), (180, 60));
    assert!(!first.at_risk && !first.breached);
    assert!(
        ticket
            .clocks("2026-11-23T13:12:00+01:00")
            .first_response
            .at_risk
    );
    // Exactly at the due time it is not yet breached; one second later it is.
    assert!(
        !ticket
            .clocks("2026-11-23T14:00:00+01:00")
            .first_response
            .breached
    );
    let late = ticket.clocks("2026-11-23T14:00:01+01:00");
    assert!(late.first_response.breached);
    assert!(!late.first_response.at_risk);
    assert_eq!(late.next_due(), Some(at("2026-11-23T14:00:00+01:00")));
    // No update clock before the first response.
    assert!(late.next_update.is_none());
}

#[test]
fn a_first_response_stops_its_clock() {
    let mut ticket = Ticket::open("standard", "P2", "portal", MONDAY_10);
    ticket.does(ADVISOR, "2026-11-23T11:00:00+01:00", reply("on it"));
    let clocks = ticket.clocks("2026-11-24T11:00:00+01:00");
    assert_eq!(clocks.first_response.status, ClockStatus::Stopped);
    assert_eq!(clocks.first_response.elapsed_minutes, 60);
    assert!(!clocks.first_response.breached);
    // P2 updates every business day (8 h on emea), from the reply.
    let update = clocks.next_update.unwrap();
    assert_eq!(update.due_at, Some(at("2026-11-24T11:00:00+01:00")));
    assert_eq!(update.status, ClockStatus::Running);
}

#[test]
fn waiting_on_the_customer_pauses_update_and_resolution() {
    let mut ticket = Ticket::open("standard", "P2", "portal", MONDAY_10);
    ticket.does(
        ADVISOR,
        "2026-11-23T11:00:00+01:00",
        ask(CustomerRequest::RemoteAccess),
    );

    // Paused: no due time, paused minutes counted.
    let paused = ticket.clocks("2026-11-23T15:00:00+01:00");
    let resolution = paused.resolution.clone().unwrap();
    assert_eq!(resolution.status, ClockStatus::Paused);
    assert_eq!(resolution.due_at, None);
    assert_eq!(
        (resolution.elapsed_minutes, resolution.paused_minutes),
        (60, 240)
    );
    assert_eq!(
        paused.next_update.as_ref().unwrap().status,
        ClockStatus::Paused
    );
    assert_eq!(paused.next_due(), None);

    // The answer resumes both: P2 resolution is 3 business days (1440 min) from Monday
    // 10:00, moved by the 8 paused business hours (Mon 11–17, Tue 9–11).
    ticket.does(
        CONTACT,
        "2026-11-24T11:00:00+01:00",
        customer_says("access granted"),
    );
    let resumed = ticket.clocks("2026-11-24T12:00:00+01:00");
    let resolution = resumed.resolution.clone().unwrap();
    assert_eq!(resolution.status, ClockStatus::Running);
    assert_eq!(resolution.due_at, Some(at("2026-11-27T10:00:00+01:00")));
    assert_eq!(resolution.paused_minutes, 480);
    // The update is due one business day after the request, not counting the wait.
    assert_eq!(
        resumed.next_update.unwrap().due_at,
        Some(at("2026-11-25T11:00:00+01:00"))
    );
}

#[test]
fn a_severity_change_retargets_from_the_start() {
    let mut ticket = Ticket::open("standard", "P3", "phone", MONDAY_10);
    ticket.does(ADVISOR, "2026-11-23T11:00:00+01:00", reply("on it"));
    // P3: 15 business days.
    let before = ticket.clocks("2026-11-24T12:00:00+01:00");
    assert_eq!(before.resolution.unwrap().target_minutes, 15 * 480);
    ticket.does(
        ADVISOR,
        "2026-11-24T12:00:00+01:00",
        Command::ChangeSeverity {
            severity: "P1".into(),
            reason: "production stopped".into(),
        },
    );
    // P1: 2 business days from Monday 10:00, the time already spent counting.
    let after = ticket.clocks("2026-11-24T12:00:00+01:00");
    let resolution = after.resolution.unwrap();
    assert_eq!(resolution.target_minutes, 960);
    assert_eq!(resolution.due_at, Some(at("2026-11-25T10:00:00+01:00")));
    assert_eq!(resolution.elapsed_minutes, 7 * 60 + 3 * 60);
}

#[test]
fn a_gold_critical_ol_connect_ticket_runs_around_the_clock_on_weekdays() {
    let ticket = Ticket::open_on(
        "gold",
        "americas",
        "ol-connect",
        "P1",
        "phone",
        "2026-11-27T22:00:00-05:00",
    );
    let clocks = ticket.clocks("2026-11-27T22:30:00-05:00");
    assert_eq!(clocks.calendar, "24x5-americas");
    // 2 business hours from Friday 22:00: Friday until midnight.
    assert_eq!(
        clocks.first_response.due_at,
        Some(at("2026-11-28T00:00:00-05:00"))
    );
    // Downgraded to P2 it runs on the office calendar again, from the ticket's start.
    let mut ticket = ticket;
    ticket.does(
        ADVISOR,
        "2026-11-27T22:30:00-05:00",
        Command::ChangeSeverity {
            severity: "P2".into(),
            reason: "a workaround exists".into(),
        },
    );
    let clocks = ticket.clocks("2026-11-27T22:30:00-05:00");
    assert_eq!(clocks.calendar, "americas");
    assert_eq!(
        clocks.first_response.due_at,
        Some(at("2026-11-30T10:00:00-05:00"))
    );
}

#[test]
fn a_proposal_stops_resolution_and_a_rejection_resumes_it() {
    let mut ticket = Ticket::open("standard", "P2", "phone", MONDAY_10);
    ticket.does(ADVISOR, "2026-11-23T11:00:00+01:00", propose());
    let proposed = ticket.clocks("2026-11-25T11:00:00+01:00");
    let resolution = proposed.resolution.clone().unwrap();
    assert_eq!(resolution.status, ClockStatus::Stopped);
    assert_eq!(resolution.elapsed_minutes, 60);
    assert_eq!(proposed.next_update.unwrap().status, ClockStatus::Paused);

    // Rejected on Wednesday 11:00: the two days the proposal waited do not count.
    ticket.does(
        CONTACT,
        "2026-11-25T11:00:00+01:00",
        Command::RejectSolution {
            reason: "fails again".into(),
        },
    );
    let resumed = ticket.clocks("2026-11-25T12:00:00+01:00");
    let resolution = resumed.resolution.unwrap();
    assert_eq!(resolution.status, ClockStatus::Running);
    assert_eq!(resolution.elapsed_minutes, 120);
    assert_eq!(resolution.paused_minutes, 6 * 60 + 8 * 60 + 2 * 60);

    // Accepted: closed, resolution met at the proposal, no update clock any more.
    ticket
        .does(ADVISOR, "2026-11-25T13:00:00+01:00", propose())
        .does(
            CONTACT,
            "2026-11-25T14:00:00+01:00",
            Command::AcceptSolution {
                note: String::new(),
            },
        );
    let closed = ticket.clocks("2026-12-01T09:00:00+01:00");
    let resolution = closed.resolution.clone().unwrap();
    assert_eq!(resolution.stopped_at, Some(at("2026-11-25T13:00:00+01:00")));
    assert!(!resolution.breached);
    assert!(closed.next_update.is_none());
    assert_eq!(closed.next_due(), None);
}

#[test]
fn the_resolution_clock_says_what_paused_it_and_for_how_long() {
    let mut ticket = Ticket::open("standard", "P2", "portal", MONDAY_10);
    let pauses = |ticket: &Ticket, now: &str| {
        let (program, region, product_line) = ticket.context;
        let context = ClockContext {
            program,
            region,
            product_line,
        };
        super::clocks::resolution_pauses(&ticket.policy, &context, &ticket.events, at(now)).unwrap()
    };
    // Remote access asked Monday 11:00, granted Tuesday 11:00: 8 business hours.
    ticket
        .does(
            ADVISOR,
            "2026-11-23T11:00:00+01:00",
            ask(CustomerRequest::RemoteAccess),
        )
        .does(
            CONTACT,
            "2026-11-24T11:00:00+01:00",
            customer_says("access granted"),
        );
    // Logs asked Tuesday 12:00, still awaited Tuesday 15:00: 3 hours so far.
    ticket.does(
        ADVISOR,
        "2026-11-24T12:00:00+01:00",
        ask(CustomerRequest::Information),
    );
    assert_eq!(
        pauses(&ticket, "2026-11-24T15:00:00+01:00"),
        vec![
            (PauseCause::Waiting(CustomerRequest::RemoteAccess), 480),
            (PauseCause::Waiting(CustomerRequest::Information), 180),
        ]
    );
    // Sent Wednesday 9:00 (5 hours in all); a proposal at 10:00 rejected Thursday 10:00
    // (8 hours); another at 11:00 accepted: the clock stopped at 11:00.
    ticket
        .does(CONTACT, "2026-11-25T09:00:00+01:00", customer_says("logs"))
        .does(ADVISOR, "2026-11-25T10:00:00+01:00", propose())
        .does(
            CONTACT,
            "2026-11-26T10:00:00+01:00",
            Command::RejectSolution {
                reason: "fails again".into(),
            },
        )
        .does(ADVISOR, "2026-11-26T11:00:00+01:00", propose())
        .does(
            CONTACT,
            "2026-11-27T09:30:00+01:00",
            Command::AcceptSolution {
                note: String::new(),
            },
        );
    let closed = "2026-11-27T09:30:00+01:00";
    let by_cause = pauses(&ticket, closed);
    assert_eq!(
        by_cause,
        vec![
            (PauseCause::Waiting(CustomerRequest::RemoteAccess), 480),
            (PauseCause::Waiting(CustomerRequest::Information), 300),
            (PauseCause::ProposalRejected, 480),
        ]
    );
    let resolution = ticket.clocks(closed).resolution.unwrap();
    assert_eq!(
        by_cause.iter().map(|(_, minutes)| minutes).sum::<u64>(),
        resolution.paused_minutes
    );
    // Stretches of seconds: each rounds down, their sum is still the clock's paused time.
    let mut brief = Ticket::open("standard", "P2", "portal", "2026-11-23T10:00:30+01:00");
    brief
        .does(
            ADVISOR,
            "2026-11-23T10:10:10+01:00",
            ask(CustomerRequest::Information),
        )
        .does(CONTACT, "2026-11-23T10:11:00+01:00", customer_says("here"))
        .does(
            ADVISOR,
            "2026-11-23T10:20:10+01:00",
            ask(CustomerRequest::RemoteAccess),
        )
        .does(CONTACT, "2026-11-23T10:21:00+01:00", customer_says("open"));
    let now = "2026-11-23T13:00:00+01:00";
    let paused = brief.clocks(now).resolution.unwrap().paused_minutes;
    let by_cause = pauses(&brief, now);
    assert_eq!(
        by_cause.iter().map(|(_, minutes)| minutes).sum::<u64>(),
        paused,
        "{by_cause:?}"
    );
}

#[test]
fn the_activity_of_a_ticket_counts_escalations_consent_and_waiting() {
    use crate::report::TicketActivity;
    let activity = |ticket: &Ticket| {
        let (program, region, product_line) = ticket.context;
        let context = ClockContext {
            program,
            region,
            product_line,
        };
        TicketActivity::of(&ticket.policy, &context, &ticket.events).unwrap()
    };
    let manager = Actor::Staff {
        id: 1,
        role: Role::SupportManager,
    };
    let mut ticket = Ticket::open("standard", "P2", "portal", MONDAY_10);
    assert_eq!(activity(&ticket), TicketActivity::default());
    // Asked Monday 11:00 for logs, sent Tuesday 11:00: 8 business hours waiting.
    ticket
        .does(
            ADVISOR,
            "2026-11-23T11:00:00+01:00",
            ask(CustomerRequest::Information),
        )
        .does(CONTACT, "2026-11-24T11:00:00+01:00", customer_says("logs"))
        .does(
            CONTACT,
            "2026-11-24T12:00:00+01:00",
            Command::RequestEscalation {
                reason: "still down".into(),
            },
        )
        .does(
            manager,
            "2026-11-24T13:00:00+01:00",
            Command::AnswerEscalation {
                answer: "a senior advisor takes it".into(),
            },
        )
        .does(ADVISOR, "2026-11-24T14:00:00+01:00", propose())
        .does(
            CONTACT,
            "2026-11-24T15:00:00+01:00",
            Command::RejectSolution {
                reason: "fails again".into(),
            },
        );
    let open = activity(&ticket);
    assert_eq!(
        (
            open.escalations_asked,
            open.escalations_automatic,
            open.escalations_answered
        ),
        (1, 0, 1)
    );
    assert!(open.escalated && !open.escalated_resolved);
    assert_eq!((open.proposals, open.proposals_rejected), (1, 1));
    assert_eq!(open.waiting_minutes, 480);
    ticket
        .does(ADVISOR, "2026-11-25T10:00:00+01:00", propose())
        .does(
            CONTACT,
            "2026-11-25T11:00:00+01:00",
            Command::AcceptSolution {
                note: String::new(),
            },
        );
    let closed = activity(&ticket);
    assert_eq!(
        (closed.proposals, closed.proposals_accepted),
        (2, 1),
        "{closed:?}"
    );
    assert!(closed.escalated_resolved);
    assert!(!closed.services_requested);
    // A breach of a severity that escalates is escalated by the desk itself.
    let mut critical = Ticket::open("standard", "P1", "phone", MONDAY_10);
    sweep(&mut critical, "2026-11-24T17:00:00+01:00");
    let automatic = activity(&critical);
    assert!(automatic.escalations_automatic >= 1, "{automatic:?}");
    assert_eq!(automatic.escalations_asked, 0);
    assert!(automatic.escalated);
}

#[test]
fn p4_has_no_resolution_or_update_clock() {
    let mut ticket = Ticket::open("standard", "P4", "portal", MONDAY_10);
    ticket.does(ADVISOR, "2026-11-23T11:00:00+01:00", reply("noted"));
    let clocks = ticket.clocks("2026-11-30T11:00:00+01:00");
    assert!(clocks.resolution.is_none());
    assert!(clocks.next_update.is_none());
}

#[test]
fn breaches_are_recorded_once_each() {
    let mut ticket = Ticket::open("standard", "P2", "portal", MONDAY_10);
    let late = ticket.clocks("2026-11-23T15:00:00+01:00");
    let breaches = unrecorded_breaches(&late, &ticket.events);
    assert_eq!(
        breaches,
        [EventData::ClockBreached {
            clock: ClockKind::FirstResponse,
            due: at("2026-11-23T14:00:00+01:00"),
            policy_change: None,
        }]
    );
    ticket.events.push(TicketEvent {
        seq: 2,
        at: at("2026-11-23T15:00:00+01:00"),
        actor: Actor::System,
        data: breaches[0].clone(),
    });
    assert!(
        unrecorded_breaches(&ticket.clocks("2026-11-23T16:00:00+01:00"), &ticket.events).is_empty()
    );

    // The late reply keeps the breach; each missed status update is a breach of its own.
    ticket.does(
        ADVISOR,
        "2026-11-23T16:00:00+01:00",
        reply("sorry for the wait"),
    );
    let first_miss = ticket.clocks("2026-11-24T16:30:00+01:00");
    assert!(first_miss.first_response.breached);
    let missed = unrecorded_breaches(&first_miss, &ticket.events);
    assert_eq!(missed.len(), 1);
    assert!(matches!(
        missed[0],
        EventData::ClockBreached {
            clock: ClockKind::NextUpdate,
            ..
        }
    ));
}

#[test]
fn a_missed_update_is_one_breach_whatever_cadence_a_later_policy_gives_it() {
    // P3 on emea: the reply at 10:30 owes an update two business days later, missed.
    let mut ticket = Ticket::open("standard", "P3", "portal", MONDAY_10);
    ticket.does(ADVISOR, "2026-11-23T10:30:00+01:00", reply("looking"));
    let late = ticket.clocks("2026-11-26T12:00:00+01:00");
    let missed = unrecorded_breaches(&late, &ticket.events);
    assert_eq!(missed.len(), 1);
    ticket.events.push(TicketEvent {
        seq: ticket.events.len() as u32 + 1,
        at: at("2026-11-26T12:00:00+01:00"),
        actor: Actor::System,
        data: missed[0].clone(),
    });
    // A version with hourly updates puts that update's due time elsewhere: the same
    // missed update, not a second breach.
    let hourly = policy_with(|toml| {
        toml.replacen(
            "resolution = \"15d\"\nupdate_every = \"2d\"",
            "resolution = \"15d\"\nupdate_every = \"1h\"",
            1,
        )
    });
    let context = ClockContext {
        program: "standard",
        region: "emea",
        product_line: "planetpress-suite",
    };
    let under_hourly = compute(
        &hourly,
        &context,
        &ticket.events,
        at("2026-11-26T13:00:00+01:00"),
    )
    .unwrap();
    assert!(under_hourly.next_update.as_ref().unwrap().breached);
    assert_eq!(unrecorded_breaches(&under_hourly, &ticket.events), []);
    // The late reply begins another stretch: its missed update is a breach of its own.
    ticket.does(
        ADVISOR,
        "2026-11-26T13:00:00+01:00",
        reply("sorry for the wait"),
    );
    let next = compute(
        &hourly,
        &context,
        &ticket.events,
        at("2026-11-26T15:00:00+01:00"),
    )
    .unwrap();
    assert_eq!(unrecorded_breaches(&next, &ticket.events).len(), 1);
}

fn supply(fields: &[(&str, &str)]) -> Command {
    Command::SupplyDetails {
        details: fields
            .iter()
            .map(|(field, text)| (field.to_string(), text.to_string()))
            .collect(),
    }
}

/// A phone ticket whose intake found the business impact and the error messages missing.
/// A standard EMEA ticket of `severity` opened on `channel` Monday 10:00, with the intake
/// record a real one gets, flagged `flags`.
fn checked_ticket(severity: &str, channel: &str, flags: Vec<crate::intake::IntakeFlag>) -> Ticket {
    let mut ticket = Ticket::open("standard", severity, channel, MONDAY_10);
    let coverage = crate::intake::coverage_window(
        &ticket.policy,
        &crate::policy::TicketProfile {
            program: "standard",
            region: "emea",
            product_line: "planetpress-suite",
            severity,
            channel,
        },
        at(MONDAY_10),
    )
    .unwrap();
    ticket.events.push(TicketEvent {
        seq: 2,
        at: at(MONDAY_10),
        actor: Actor::System,
        data: EventData::IntakeChecked {
            program: "standard".into(),
            flags,
            language: crate::intake::LanguageChoice {
                language: "en".into(),
                reason: "the contact's preferred language, spoken in the Amsterdam office".into(),
            },
            coverage,
            office_language: None,
        },
    });
    ticket
}

fn incomplete_phone_ticket() -> Ticket {
    checked_ticket(
        "P2",
        "phone",
        vec![crate::intake::IntakeFlag::Incomplete {
            missing: vec!["business_impact".into(), "error_messages".into()],
        }],
    )
}

#[test]
fn an_update_request_breaches_only_if_the_policy_says_so() {
    let request = |policy: Policy| {
        let mut ticket = checked_ticket(
            "P4",
            "portal",
            vec![crate::intake::IntakeFlag::UpdateRequest {
                serial: "PPS-1".into(),
                installed: "7.6".into(),
                requested: "8.1".into(),
            }],
        );
        ticket.policy = policy;
        ticket
    };
    // The default policy: the portal's 4 business hours guide the advisor (due Monday
    // 14:00), but two days later nothing is at risk or breached and nothing is due.
    let unmeasured = request(policy());
    let clocks = unmeasured.clocks("2026-11-25T10:00:00+01:00");
    let first = &clocks.first_response;
    assert_eq!(first.due_at, Some(at("2026-11-23T14:00:00+01:00")));
    assert!(!first.measured && !first.breached && !first.at_risk);
    assert_eq!(first.at_risk_at, None);
    assert!(unrecorded_breaches(&clocks, &unmeasured.events).is_empty());
    let snapshot = unmeasured.snapshot();
    let calendar = unmeasured.policy.calendar(&clocks.calendar).unwrap();
    assert_eq!(
        super::automatic::next_system_event_at(&unmeasured.policy, calendar, &snapshot, &clocks)
            .unwrap(),
        None
    );
    // A policy that measures update requests: breached like any ticket.
    let measuring = policy_with(|toml| {
        toml.replace(
            "update_requests_breach = false",
            "update_requests_breach = true",
        )
    });
    let measured = request(measuring);
    let clocks = measured.clocks("2026-11-25T10:00:00+01:00");
    assert!(clocks.first_response.measured && clocks.first_response.breached);
    assert_eq!(unrecorded_breaches(&clocks, &measured.events).len(), 1);
}

#[test]
fn supplying_the_missing_details_shortens_then_clears_incomplete() {
    let mut ticket = incomplete_phone_ticket();
    ticket.does(
        CONTACT,
        "2026-11-23T11:00:00+01:00",
        supply(&[("business_impact", "invoices are late")]),
    );
    let snapshot = ticket.snapshot();
    assert_eq!(
        snapshot.flags,
        vec![crate::intake::IntakeFlag::Incomplete {
            missing: vec!["error_messages".into()]
        }]
    );
    assert_eq!(
        snapshot
            .supplied_details
            .get("business_impact")
            .map(String::as_str),
        Some("invoices are late")
    );

    // Asked for the rest, the customer's supplying it is also the answer that resumes clocks.
    ticket
        .does(
            ADVISOR,
            "2026-11-23T12:00:00+01:00",
            ask(CustomerRequest::Information),
        )
        .does(
            CONTACT,
            "2026-11-23T13:00:00+01:00",
            supply(&[("error_messages", "E1024 spool full")]),
        );
    assert!(ticket.snapshot().flags.is_empty());
    assert_eq!(ticket.snapshot().state, TicketState::InProgress);
    assert_eq!(
        &ticket.kinds()[2..],
        [
            "details_supplied",
            "waiting_on_customer",
            "details_supplied",
            "customer_answered"
        ]
    );
}

#[test]
fn only_intake_details_may_be_supplied_and_never_blank() {
    let mut ticket = incomplete_phone_ticket();
    let when = "2026-11-23T11:00:00+01:00";
    for (command, expected) in [
        (supply(&[]), "supply at least one of"),
        (
            supply(&[("serial", "SN-9")]),
            "\"serial\" cannot be supplied",
        ),
        (
            supply(&[("workaround", " ")]),
            "\"workaround\" must not be empty",
        ),
    ] {
        match ticket.try_do(CONTACT, when, command) {
            Err(Refusal::Invalid { field, reason }) => {
                assert_eq!(field, "details");
                assert!(reason.contains(expected), "{reason}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn the_explanation_names_every_rule_and_accounts_for_each_clock() {
    let mut ticket = incomplete_phone_ticket();
    ticket
        .does(
            ADVISOR,
            "2026-11-23T10:30:00+01:00",
            reply("looking into it"),
        )
        .does(
            ADVISOR,
            "2026-11-23T11:00:00+01:00",
            Command::ChangeSeverity {
                severity: "P1".into(),
                reason: "production stopped".into(),
            },
        );
    let explanation = ticket.explain("2026-11-23T12:00:00+01:00");
    let topics: Vec<&str> = explanation.rules.iter().map(|rule| rule.topic).collect();
    for topic in [
        "program", "coverage", "language", "flag", "calendar", "targets", "severity",
    ] {
        assert!(topics.contains(&topic), "{topic} missing from {topics:?}");
    }
    let severity = explanation
        .rules
        .iter()
        .find(|rule| rule.topic == "severity")
        .unwrap();
    assert_eq!(severity.decision, "P2 → P1");
    assert!(severity.reason.contains("production stopped"));
    let calendar = explanation
        .rules
        .iter()
        .find(|rule| rule.topic == "calendar")
        .unwrap();
    assert!(calendar.reason.contains("Amsterdam"), "{}", calendar.reason);

    // Each clock of the computed ones, in the same order, with the engine's account
    // ending on the same due instant.
    let clocks = ticket.clocks("2026-11-23T12:00:00+01:00");
    let computed: Vec<_> = clocks.all().cloned().collect();
    let explained: Vec<_> = explanation.clocks.iter().map(|c| c.clock.clone()).collect();
    assert_eq!(explained, computed);
    let resolution = explanation
        .clocks
        .iter()
        .find(|clock| clock.clock.kind == ClockKind::Resolution)
        .unwrap();
    // P1: two business days of 8 hours from Monday 10:00, measured from the ticket's start.
    assert!(
        resolution.steps[0].starts_with("960 business minutes on emea"),
        "{:?}",
        resolution.steps
    );
    assert!(
        resolution
            .steps
            .last()
            .unwrap()
            .starts_with("due Wed 2026-11-25 10:00"),
        "{:?}",
        resolution.steps
    );
}

#[test]
fn an_agreed_cadence_replaces_the_severitys_until_the_severity_changes() {
    let agree = |every: Option<&str>| Command::AgreeUpdateCadence {
        every: every.map(str::to_string),
        note: "agreed on the phone with the customer".into(),
    };
    // P3: updates every 2 business days, or as agreed (8-hour days on emea).
    let mut ticket = Ticket::open("standard", "P3", "portal", MONDAY_10);
    ticket.does(ADVISOR, MONDAY_10, reply("on it"));
    let due = |ticket: &Ticket| {
        ticket
            .clocks("2026-11-23T11:00:00+01:00")
            .next_update
            .unwrap()
            .due_at
            .unwrap()
    };
    assert_eq!(due(&ticket), at("2026-11-25T10:00:00+01:00"));
    // Owed from the agreement (10:30), not from the last contact (10:00).
    ticket.does(ADVISOR, "2026-11-23T10:30:00+01:00", agree(Some("4d")));
    assert_eq!(due(&ticket), at("2026-11-27T10:30:00+01:00"));
    for (every, expected) in [
        (Some("4d"), "already the ticket's"),
        (Some("0h"), "longer than zero"),
        (Some("soon"), "not a number followed by a unit"),
        (Some("251d"), "at most 250 business days"),
    ] {
        match ticket.try_do(ADVISOR, "2026-11-23T10:40:00+01:00", agree(every)) {
            Err(Refusal::Invalid { field, reason }) => {
                assert_eq!(field, "every");
                assert!(reason.contains(expected), "{reason}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    assert!(matches!(
        ticket.try_do(CONTACT, "2026-11-23T10:40:00+01:00", agree(Some("1d"))),
        Err(Refusal::NotPermitted { .. })
    ));
    // A new severity brings its own targets: the agreement lapses.
    ticket.does(
        ADVISOR,
        "2026-11-23T10:45:00+01:00",
        Command::ChangeSeverity {
            severity: "P2".into(),
            reason: "worse".into(),
        },
    );
    assert_eq!(ticket.snapshot().agreed_update_every, None);
    assert_eq!(due(&ticket), at("2026-11-24T10:00:00+01:00"));
    match ticket.try_do(ADVISOR, "2026-11-23T10:50:00+01:00", agree(Some("3d"))) {
        Err(Refusal::Invalid { reason, .. }) => {
            assert!(reason.contains("not negotiable"), "{reason}")
        }
        other => panic!("P2's cadence is fixed, got {other:?}"),
    }

    // P4 has no cadence unless one is agreed.
    let mut p4 = Ticket::open("standard", "P4", "portal", MONDAY_10);
    p4.does(ADVISOR, MONDAY_10, reply("noted"));
    assert!(p4.clocks("2026-11-23T11:00:00+01:00").next_update.is_none());
    p4.does(ADVISOR, "2026-11-23T10:30:00+01:00", agree(Some("5d")));
    assert_eq!(due(&p4), at("2026-11-30T10:30:00+01:00"));
}

#[test]
fn an_agreed_cadence_counts_from_the_agreement_never_backwards() {
    let mut ticket = Ticket::open("standard", "P3", "portal", MONDAY_10);
    ticket.does(ADVISOR, MONDAY_10, reply("on it")).does(
        ADVISOR,
        "2026-11-23T15:00:00+01:00",
        Command::AgreeUpdateCadence {
            every: Some("1h".into()),
            note: "hourly while the month-end run is at risk".into(),
        },
    );
    // From the last contact it would have been due at 11:00 and breached already.
    let update = ticket
        .clocks("2026-11-23T15:30:00+01:00")
        .next_update
        .unwrap();
    assert_eq!(update.due_at, Some(at("2026-11-23T16:00:00+01:00")));
    assert!(!update.breached);
}

#[test]
fn a_paused_clock_says_so_in_its_explanation() {
    let mut ticket = Ticket::open("standard", "P2", "portal", MONDAY_10);
    ticket.does(
        ADVISOR,
        "2026-11-23T11:00:00+01:00",
        ask(CustomerRequest::Information),
    );
    let explanation = ticket.explain("2026-11-23T15:00:00+01:00");
    let resolution = explanation
        .clocks
        .iter()
        .find(|clock| clock.clock.kind == ClockKind::Resolution)
        .unwrap();
    assert_eq!(resolution.clock.status, ClockStatus::Paused);
    assert!(
        resolution.steps.last().unwrap().starts_with("paused now"),
        "{:?}",
        resolution.steps
    );
}

/// What the sweep appends to `ticket` at `now`, appended to it: the desk's own step.
fn sweep(ticket: &mut Ticket, now: &str) -> Vec<EventData> {
    let (program, region, product_line) = ticket.context;
    let context = ClockContext {
        program,
        region,
        product_line,
    };
    let step = super::step::step(
        &ticket.policy,
        &context,
        &ticket.events,
        Vec::new(),
        Actor::System,
        at(now),
    )
    .unwrap();
    ticket.events.extend(step.events.iter().cloned());
    step.events.into_iter().map(|event| event.data).collect()
}

fn idle_escalations(events: &[EventData]) -> usize {
    events
        .iter()
        .filter(|event| {
            matches!(event, EventData::WorkLapsed { reason, .. } if reason.contains("worked continuously"))
        })
        .count()
}

#[test]
fn a_ticket_worked_continuously_that_nobody_works_goes_to_the_manager() {
    // P2, standard, EMEA (09:00–17:00): the reply at 10:30 is the last action.
    let mut ticket = Ticket::open("standard", "P2", "phone", MONDAY_10);
    ticket.does(
        ADVISOR,
        "2026-11-23T10:30:00+01:00",
        reply("looking into it"),
    );
    assert_eq!(
        idle_escalations(&sweep(&mut ticket, "2026-11-23T12:29:00+01:00")),
        0
    );
    let due = sweep(&mut ticket, "2026-11-23T12:30:00+01:00");
    assert_eq!(idle_escalations(&due), 1, "{due:?}");
    assert!(ticket.snapshot().work_lapsed_at.is_some());
    assert!(
        !ticket.snapshot().escalation_open,
        "internal: the customer may still escalate"
    );
    // Once per stretch: until someone acts.
    assert_eq!(
        idle_escalations(&sweep(&mut ticket, "2026-11-23T15:00:00+01:00")),
        0
    );

    // The manager's note is an action; two business hours later, still nobody: again,
    // counted in business time across the night (16:00 + 1h, then Tuesday 09:00 + 1h).
    ticket.does(
        Actor::Staff {
            id: 9,
            role: Role::SupportManager,
        },
        "2026-11-23T16:00:00+01:00",
        Command::Note {
            body: "Ana takes it over".into(),
        },
    );
    assert_eq!(
        idle_escalations(&sweep(&mut ticket, "2026-11-24T09:59:00+01:00")),
        0
    );
    assert_eq!(
        idle_escalations(&sweep(&mut ticket, "2026-11-24T10:00:00+01:00")),
        1
    );
}

#[test]
fn waiting_on_the_customer_is_not_idle_and_other_severities_never_alert() {
    let mut waiting = Ticket::open("standard", "P1", "phone", MONDAY_10);
    waiting.does(
        ADVISOR,
        "2026-11-23T10:15:00+01:00",
        ask(CustomerRequest::Information),
    );
    assert_eq!(
        idle_escalations(&sweep(&mut waiting, "2026-11-24T16:00:00+01:00")),
        0
    );
    // The answer brings it back to be worked: two business hours from then.
    waiting.does(
        CONTACT,
        "2026-11-25T09:30:00+01:00",
        customer_says("the logs"),
    );
    assert_eq!(
        idle_escalations(&sweep(&mut waiting, "2026-11-25T11:29:00+01:00")),
        0
    );
    assert_eq!(
        idle_escalations(&sweep(&mut waiting, "2026-11-25T11:30:00+01:00")),
        1
    );

    let mut moderate = Ticket::open("standard", "P3", "phone", MONDAY_10);
    assert_eq!(
        idle_escalations(&sweep(&mut moderate, "2026-11-27T16:00:00+01:00")),
        0
    );

    // The policy may say never.
    let mut never = Ticket::open("standard", "P2", "phone", MONDAY_10);
    never.policy = policy_with(|text| {
        text.replacen(
            "idle_alert_after = \"2h\"",
            "idle_alert_after = \"none\"",
            2,
        )
    });
    assert_eq!(
        idle_escalations(&sweep(&mut never, "2026-11-27T16:00:00+01:00")),
        0
    );
}

fn declare(exclusion: &str, note: &str) -> Command {
    Command::DeclareOutsideSupport {
        exclusion: exclusion.into(),
        note: note.into(),
    }
}

#[test]
fn outside_support_stops_the_clocks_until_a_manager_reverses_it() {
    // P3 standard, EMEA: resolution 15 business days, updates every 2 business days.
    let mut ticket = Ticket::open("standard", "P3", "phone", MONDAY_10);
    ticket.does(ADVISOR, "2026-11-23T11:00:00+01:00", reply("looking"));
    let before = ticket.clocks("2026-11-23T12:00:00+01:00");
    let resolution_due = before.resolution.as_ref().unwrap().due_at;
    ticket.does(
        ADVISOR,
        "2026-11-23T12:00:00+01:00",
        declare("third_party", "Your ERP's print driver drops the jobs."),
    );
    assert_eq!(ticket.snapshot().state, TicketState::OutsideSupport);
    assert_eq!(ticket.snapshot().exclusion.as_deref(), Some("third_party"));
    // A week later nothing has run, nothing is due.
    let week = ticket.clocks("2026-11-30T12:00:00+01:00");
    for clock in [
        week.resolution.as_ref().unwrap(),
        week.next_update.as_ref().unwrap(),
    ] {
        assert_eq!(clock.status, ClockStatus::Paused, "{clock:?}");
        assert!(!clock.breached);
    }
    assert!(unrecorded_breaches(&week, &ticket.events).is_empty());
    // Only people talking, a manager's reversal or escalation are possible meanwhile.
    let refused = ticket.try_do(ADVISOR, "2026-11-30T12:00:00+01:00", propose());
    assert!(
        matches!(refused, Err(Refusal::NotNow { .. })),
        "{refused:?}"
    );
    let advisor_reverses = ticket.try_do(
        ADVISOR,
        "2026-11-30T12:00:00+01:00",
        Command::ReverseOutsideSupport {
            reason: "my mistake".into(),
        },
    );
    assert!(
        matches!(advisor_reverses, Err(Refusal::NotPermitted { .. })),
        "{advisor_reverses:?}"
    );
    ticket.does(
        CONTACT,
        "2026-11-30T12:00:00+01:00",
        customer_says("But it worked before!"),
    );
    let manager = Actor::Staff {
        id: 9,
        role: Role::SupportManager,
    };
    ticket.does(
        manager,
        "2026-11-30T14:00:00+01:00",
        Command::ReverseOutsideSupport {
            reason: "The driver is ours after all.".into(),
        },
    );
    assert_eq!(ticket.snapshot().state, TicketState::InProgress);
    assert_eq!(ticket.snapshot().exclusion, None);
    // The resolution runs on from where it stood: a week later than it was due.
    let after = ticket.clocks("2026-11-30T15:00:00+01:00");
    let resolution = after.resolution.as_ref().unwrap();
    assert_eq!(resolution.status, ClockStatus::Running);
    assert!(resolution.due_at > resolution_due, "{resolution:?}");
    assert_eq!(
        ticket.kinds()[ticket.kinds().len() - 2..],
        ["customer_message", "outside_support_reversed"]
    );
}

#[test]
fn an_exclusion_must_be_the_policys_with_a_note() {
    let mut ticket = Ticket::open("standard", "P3", "phone", MONDAY_10);
    for (command, field) in [
        (declare("astrology", "no"), "exclusion"),
        (declare("", "no"), "exclusion"),
        (declare("hardware_blame", "no"), "exclusion"),
        (declare("third_party", "  "), "note"),
    ] {
        match ticket.try_do(ADVISOR, "2026-11-23T11:00:00+01:00", command) {
            Err(Refusal::Invalid { field: refused, .. }) => assert_eq!(refused, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let by_customer = ticket.try_do(
        CONTACT,
        "2026-11-23T11:00:00+01:00",
        declare("third_party", "not my problem"),
    );
    assert!(matches!(by_customer, Err(Refusal::NotPermitted { .. })));
    // The explanation is the customer's language's, else the fallback's.
    let policy = policy();
    let third_party = &policy.exclusions["third_party"];
    assert!(third_party.explanation_in("fr").starts_with("Le problème"));
    assert!(third_party.explanation_in("pt").starts_with("The problem"));
}

#[test]
fn work_counts_for_who_did_it_and_after_hours_only_on_extended_calendars() {
    use crate::work::{WorkCounts, work_on};
    let work = |ticket: &Ticket| {
        let (program, region, product_line) = ticket.context;
        let context = ClockContext {
            program,
            region,
            product_line,
        };
        work_on(&ticket.policy, &context, &ticket.events, 1).unwrap()
    };
    let other = Actor::Staff {
        id: 8,
        role: Role::Advisor,
    };
    let note = || Command::Note {
        body: "checked the logs".into(),
    };
    // Standard, emea (Amsterdam, 09:00–17:00): an answer at 20:00 is late work, not after
    // hours: the program pays for office hours only.
    let mut standard = Ticket::open("standard", "P2", "portal", MONDAY_10);
    standard
        .does(ADVISOR, "2026-11-23T11:00:00+01:00", reply("looking"))
        .does(other, "2026-11-23T20:00:00+01:00", note())
        .does(ADVISOR, "2026-11-24T10:00:00+01:00", propose())
        .does(
            CONTACT,
            "2026-11-24T11:00:00+01:00",
            Command::AcceptSolution {
                note: String::new(),
            },
        );
    let done = work(&standard);
    let total = |person: i64| {
        let mut sum = WorkCounts::default();
        for piece in done.iter().filter(|piece| piece.person == person) {
            sum.add(&piece.counts);
        }
        sum
    };
    assert_eq!(
        total(7),
        WorkCounts {
            tickets: 1,
            actions: 2,
            replies: 2,
            first_responses: 1,
            first_responses_in_time: 1,
            solutions_accepted: 1,
            after_hours: 0,
        }
    );
    assert_eq!(
        total(8),
        WorkCounts {
            tickets: 1,
            actions: 1,
            ..WorkCounts::default()
        }
    );
    // The work of the events from one on is that of the whole timeline from it.
    for from in 1..=standard.events.len() as u32 + 1 {
        let (program, region, product_line) = standard.context;
        let context = ClockContext {
            program,
            region,
            product_line,
        };
        let part = work_on(&standard.policy, &context, &standard.events, from).unwrap();
        let whole: Vec<_> = done
            .iter()
            .filter(|piece| piece.seq >= from)
            .cloned()
            .collect();
        assert_eq!(part, whole, "from {from}");
    }
    // The acceptance counts when it happens, for the proposer.
    let accepted = done.last().unwrap();
    assert_eq!((accepted.person, accepted.seq), (7, 5));
    assert_eq!(accepted.counts.solutions_accepted, 1);
    assert_eq!(accepted.counts.actions, 0);
    // A solution accepted on the phone counts for whoever proposed it, and the advisor who
    // recorded the customer's word acted on the ticket; work after a shift change is in the
    // shift's language.
    let mut by_phone = Ticket::open("standard", "P2", "phone", MONDAY_10);
    by_phone
        .does(ADVISOR, "2026-11-23T11:00:00+01:00", propose())
        .does(
            other,
            "2026-11-23T12:00:00+01:00",
            Command::AcceptSolution {
                note: "accepted by phone".into(),
            },
        );
    let accepted: Vec<(i64, u64, u64, u64)> = work(&by_phone)
        .iter()
        .filter(|piece| piece.seq == 3)
        .map(|piece| {
            (
                piece.person,
                piece.counts.solutions_accepted,
                piece.counts.actions,
                piece.counts.tickets,
            )
        })
        .collect();
    assert_eq!(accepted, vec![(7, 1, 0, 0), (8, 0, 1, 1)]);
    let seq = by_phone.events.len() as u32 + 1;
    by_phone.events.push(TicketEvent {
        seq,
        at: at("2026-11-23T18:00:00+01:00"),
        actor: Actor::System,
        data: EventData::ShiftChanged {
            after_hours: true,
            language: "en".into(),
            reason: "the office closed".into(),
        },
    });
    by_phone.does(ADVISOR, "2026-11-23T19:00:00+01:00", note());
    let languages: Vec<Option<String>> = work(&by_phone)
        .into_iter()
        .map(|piece| piece.language)
        .collect();
    assert_eq!(languages, vec![None, None, None, Some("en".to_string())]);
    // A first response after the target (P2: 4 business hours; 10:00 + 4 h = 14:00) is
    // late, judged against the target it had then: a later move to P1 changes nothing.
    let mut late = Ticket::open("standard", "P2", "portal", MONDAY_10);
    late.does(ADVISOR, "2026-11-23T14:01:00+01:00", reply("sorry"));
    let in_time = |ticket: &Ticket| {
        work(ticket)
            .iter()
            .map(|piece| piece.counts.first_responses_in_time)
            .sum::<u64>()
    };
    assert_eq!(in_time(&late), 0);
    let mut moved = Ticket::open("standard", "P2", "portal", MONDAY_10);
    moved
        .does(ADVISOR, "2026-11-23T13:00:00+01:00", reply("on it"))
        .does(
            ADVISOR,
            "2026-11-23T13:30:00+01:00",
            Command::ChangeSeverity {
                severity: "P1".into(),
                reason: "production stopped".into(),
            },
        );
    assert_eq!(in_time(&moved), 1);
    // Platinum P1 on OL Connect runs 24 × 7: Saturday's answer is after hours, Monday's
    // at 10:00 is not; once moved to P2, back on office hours, Saturday's work is not.
    let mut critical = Ticket::open_on("platinum", "emea", "ol-connect", "P1", "phone", MONDAY_10);
    critical
        .does(ADVISOR, "2026-11-28T03:00:00+01:00", reply("on it"))
        .does(ADVISOR, "2026-11-30T10:00:00+01:00", note())
        .does(
            ADVISOR,
            "2026-11-30T11:00:00+01:00",
            Command::ChangeSeverity {
                severity: "P2".into(),
                reason: "a workaround holds".into(),
            },
        )
        .does(ADVISOR, "2026-12-05T03:00:00+01:00", note());
    let after_hours: Vec<u64> = work(&critical)
        .iter()
        .map(|piece| piece.counts.after_hours)
        .collect();
    assert_eq!(after_hours, vec![1, 0, 0, 0]);
}

mod replay {
    use super::*;
    use crate::report::Outcome;
    use crate::ticket::replay::{Kept, Summary, Terms, Timeline, replay};

    /// The built-in policy with a P3 update every 5 business days instead of 2.
    fn p3_updates_every_five_days() -> Policy {
        policy_with(|toml| {
            toml.replacen(
                "resolution = \"15d\"\nupdate_every = \"2d\"",
                "resolution = \"15d\"\nupdate_every = \"5d\"",
                1,
            )
        })
    }

    fn timeline(ticket: &Ticket) -> Timeline<'_> {
        let (_, region, product_line) = ticket.context;
        Timeline {
            region,
            product_line,
            events: &ticket.events,
        }
    }

    #[test]
    fn under_the_actual_terms_a_replay_gives_the_live_clocks() {
        let mut ticket = Ticket::open("standard", "P2", "phone", MONDAY_10);
        ticket.does(
            ADVISOR,
            "2026-11-23T11:00:00+01:00",
            reply("looking into it"),
        );
        let now = "2026-11-24T16:00:00+01:00";
        let terms = Terms {
            policy: &ticket.policy,
            program: "standard",
        };
        let replayed = replay(terms, terms, timeline(&ticket), at(now)).unwrap();
        assert_eq!(replayed.actual, replayed.alternative);
        let live = ticket.clocks(now);
        let timing = &replayed.actual;
        assert_eq!(timing.calendar, live.calendar);
        assert_eq!(timing.first_response.due_at, live.first_response.due_at);
        assert_eq!(timing.first_response.outcome, Outcome::Met);
        let resolution = live.resolution.unwrap();
        assert_eq!(timing.resolution.due_at, resolution.due_at);
        assert_eq!(timing.resolution.used_minutes, resolution.elapsed_minutes);
        assert_eq!(timing.resolution.outcome, Outcome::Open);
    }

    #[test]
    fn a_friday_evening_call_answered_on_monday_keeps_standard_terms_not_platinum_ones() {
        // Standard P1 on ol-connect in EMEA (09:00–17:00), called in on Friday at 18:00: the
        // first response (2 business hours by phone) is due on Monday at 11:00 on the office
        // calendar; platinum would run it on 24 × 7, due on Friday at 20:00.
        let mut ticket = Ticket::open_on(
            "standard",
            "emea",
            "ol-connect",
            "P1",
            "phone",
            "2026-11-20T18:00:00+01:00",
        );
        ticket.does(ADVISOR, "2026-11-23T09:30:00+01:00", reply("on it"));
        let policy = &ticket.policy;
        let replayed = replay(
            Terms {
                policy,
                program: "standard",
            },
            Terms {
                policy,
                program: "platinum",
            },
            timeline(&ticket),
            at("2026-11-23T12:00:00+01:00"),
        )
        .unwrap();
        let (actual, platinum) = (&replayed.actual, &replayed.alternative);
        assert_eq!(actual.calendar, "emea");
        assert_eq!(platinum.calendar, "24x7-emea");
        assert_eq!(
            actual.first_response.due_at,
            Some(at("2026-11-23T11:00:00+01:00"))
        );
        assert_eq!(
            platinum.first_response.due_at,
            Some(at("2026-11-20T20:00:00+01:00"))
        );
        assert_eq!(actual.first_response.outcome, Outcome::Met);
        assert_eq!(platinum.first_response.outcome, Outcome::Breached);
        // Half an hour of the office's time; 63 and a half hours round the clock.
        assert_eq!(actual.first_response.used_minutes, 30);
        assert_eq!(platinum.first_response.used_minutes, 63 * 60 + 30);

        let mut summary = Summary::default();
        summary.add("P1", &replayed);
        assert_eq!(summary.tickets, 1);
        let first = &summary.lines[0];
        assert_eq!(
            (first.clock, first.severity.as_str()),
            ("first_response", "P1")
        );
        assert_eq!(first.actual, Kept { settled: 1, met: 1 });
        assert_eq!(first.alternative, Kept { settled: 1, met: 0 });
        assert_eq!((first.breaches_avoided, first.breaches_added), (0, 1));
        assert_eq!(
            summary
                .lines
                .iter()
                .map(|line| line.clock)
                .collect::<Vec<_>>(),
            ["first_response", "updates", "resolution"]
        );
    }

    #[test]
    fn a_late_status_update_counts_under_the_terms_that_make_it_late() {
        // Standard P3 (an update every 2 business days) answered on Monday, then on Thursday
        // at 16:00: 3 business days and 6 hours later, late. Under a policy whose P3 cadence
        // is 5 days it is not.
        let mut ticket = Ticket::open("standard", "P3", "portal", MONDAY_10);
        ticket
            .does(ADVISOR, "2026-11-23T11:00:00+01:00", reply("first look"))
            .does(ADVISOR, "2026-11-26T16:00:00+01:00", reply("still on it"));
        let relaxed = p3_updates_every_five_days();
        let replayed = replay(
            Terms {
                policy: &ticket.policy,
                program: "standard",
            },
            Terms {
                policy: &relaxed,
                program: "standard",
            },
            timeline(&ticket),
            at("2026-11-27T10:00:00+01:00"),
        )
        .unwrap();
        assert_eq!(replayed.actual.updates.owed, 1);
        assert_eq!(replayed.actual.updates.late, 1);
        assert_eq!(replayed.alternative.updates.owed, 1);
        assert_eq!(replayed.alternative.updates.late, 0);
        let mut summary = Summary::default();
        summary.add("P3", &replayed);
        let updates = summary
            .lines
            .iter()
            .find(|line| line.clock == "updates")
            .unwrap();
        assert_eq!(updates.actual, Kept { settled: 1, met: 0 });
        assert_eq!(updates.alternative, Kept { settled: 1, met: 1 });
        assert_eq!((updates.breaches_avoided, updates.breaches_added), (1, 0));
    }

    #[test]
    fn an_update_overdue_that_no_contact_ended_is_owed_and_late() {
        // Answered on Monday, then nothing: on Thursday the 2-day update is overdue; the
        // 5-day one is not yet owed.
        let mut ticket = Ticket::open("standard", "P3", "portal", MONDAY_10);
        ticket.does(ADVISOR, "2026-11-23T11:00:00+01:00", reply("first look"));
        let relaxed = p3_updates_every_five_days();
        let replayed = replay(
            Terms {
                policy: &ticket.policy,
                program: "standard",
            },
            Terms {
                policy: &relaxed,
                program: "standard",
            },
            timeline(&ticket),
            at("2026-11-26T16:00:00+01:00"),
        )
        .unwrap();
        assert_eq!(
            (replayed.actual.updates.owed, replayed.actual.updates.late),
            (1, 1)
        );
        assert_eq!(
            (
                replayed.alternative.updates.owed,
                replayed.alternative.updates.late
            ),
            (0, 0)
        );
    }
}
