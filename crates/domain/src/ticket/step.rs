//! One step of a ticket's life, whole: given its timeline and what a command decided, every
//! event to append (what the desk records by itself first, then the change, then what the
//! change brings about), where the ticket then stands (its clocks and the keys the queue
//! sorts and filters it by), and the notices the new events call for.
//!
//! The store appends, writes and commits what a step returns, in one transaction; it decides
//! nothing itself. A ticket's opening and an imported history are steps too.

use jiff::Timestamp;

use super::Snapshot;
use super::automatic::{next_system_event_at, system_events};
use super::clocks::{Clock, ClockContext, ClockError, TicketClocks, compute_with};
use super::events::{Actor, EventData, TicketEvent};
use crate::calendar::CalendarError;
use crate::notify::{AtRiskWarning, Notice, NoticeContext, clocks_at_risk, notices_for};
use crate::policy::{Policy, UnknownName};
use crate::report::TicketMeasures;
use crate::routing::{ShiftError, next_shift_change_at};

/// Why a step cannot be taken: the timeline or the policy does not fit.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("the timeline does not start with a created event")]
    NoCreatedEvent,
    #[error("the timeline is full")]
    TimelineFull,
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl From<ShiftError> for StepError {
    fn from(error: ShiftError) -> Self {
        match error {
            ShiftError::Unknown(unknown) => StepError::Unknown(unknown),
            ShiftError::Calendar(calendar) => StepError::Calendar(calendar),
        }
    }
}

impl From<ClockError> for StepError {
    fn from(error: ClockError) -> Self {
        match error {
            ClockError::NoCreatedEvent => StepError::NoCreatedEvent,
            ClockError::Unknown(unknown) => StepError::Unknown(unknown),
            ClockError::Calendar(calendar) => StepError::Calendar(calendar),
        }
    }
}

/// Where a ticket stands after its events, in the shape of its stored row: its state, its
/// clocks, and the keys the queue orders and filters by.
#[derive(Clone, Debug, PartialEq)]
pub struct Standing {
    pub snapshot: Snapshot,
    pub clocks: TicketClocks,
    /// The calendar its clocks run on.
    pub calendar: String,
    /// The severity's place in the policy (0 first).
    pub severity_rank: i64,
    /// 0 for a program placed first in the queue, 1 for the others.
    pub placement_rank: i64,
    /// The earliest due time of a running clock.
    pub next_due_at: Option<Timestamp>,
    pub at_risk_at: Option<Timestamp>,
    /// When the desk next has something to do by itself (a breach to record, a consent step,
    /// a clock turning at risk to warn of).
    pub sweep_due_at: Option<Timestamp>,
    pub first_response_due_at: Option<Timestamp>,
    pub next_update_due_at: Option<Timestamp>,
    pub resolution_due_at: Option<Timestamp>,
    /// A breach has been recorded on the timeline.
    pub breached: bool,
}

impl Standing {
    /// Where a ticket with these events stands at `at`.
    pub fn of(
        policy: &Policy,
        context: &ClockContext<'_>,
        events: &[TicketEvent],
        at: Timestamp,
    ) -> Result<Standing, StepError> {
        let snapshot = Snapshot::of(events).ok_or(StepError::NoCreatedEvent)?;
        let clocks = compute_with(policy, context, &snapshot, events, at)?;
        let severity_rank = policy
            .severities
            .get_index_of(&snapshot.severity)
            .ok_or_else(|| UnknownName {
                kind: "severity",
                given: snapshot.severity.clone(),
                known: policy
                    .severities
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let program = policy.program(context.program)?;
        let calendar = policy.calendar(&clocks.calendar)?;
        // The sweep also comes back when a clock turns at risk, to warn who must know.
        let turns_at_risk = clocks
            .all()
            .filter(|clock| !clock.at_risk && !clock.breached)
            .filter_map(|clock| clock.at_risk_at)
            .filter(|turns| *turns > at)
            .min();
        // And when a ticket on extended cover changes shift, for its handover.
        let shift_changes = next_shift_change_at(policy, context, &snapshot, at)?;
        let sweep_due_at = next_system_event_at(policy, calendar, &snapshot, &clocks)?
            .into_iter()
            .chain(turns_at_risk)
            .chain(shift_changes)
            .min();
        let due_of = |clock: Option<&Clock>| clock.and_then(|clock| clock.due_at);
        Ok(Standing {
            calendar: clocks.calendar.clone(),
            severity_rank: i64::try_from(severity_rank).unwrap_or(i64::MAX),
            placement_rank: if program.priority_queue { 0 } else { 1 },
            next_due_at: clocks.next_due(),
            at_risk_at: clocks.next_at_risk(),
            sweep_due_at,
            first_response_due_at: due_of(Some(&clocks.first_response)),
            next_update_due_at: due_of(clocks.next_update.as_ref()),
            resolution_due_at: due_of(clocks.resolution.as_ref()),
            breached: events
                .iter()
                .any(|event| matches!(event.data, EventData::ClockBreached { .. })),
            snapshot,
            clocks,
        })
    }

    /// The advisor load the ticket counts towards: its assignee and severity, while open.
    pub fn load_key(&self) -> Option<(i64, &str)> {
        match (self.snapshot.assignee, self.snapshot.closed_at) {
            (Some(advisor), None) => Some((advisor, self.snapshot.severity.as_str())),
            _ => None,
        }
    }
}

/// Everything one step of a ticket causes.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The events to append, numbered after the timeline's.
    pub events: Vec<TicketEvent>,
    /// Where the ticket stands after them.
    pub standing: Standing,
    /// What reports keep of its clocks then.
    pub measures: TicketMeasures,
    /// The notices the new events call for.
    pub notices: Vec<Notice>,
    /// The warnings that clocks fall due soon, each with its due instant (the outbox keeps
    /// one per clock, due instant and recipient, however often a step asks for it).
    pub at_risk: Vec<AtRiskWarning>,
}

/// The step of `actor`'s change `decided` on a ticket with `timeline`, at `now` (or at the
/// timeline's last event, should another server's clock be behind: time on a timeline
/// never runs backwards).
///
/// Breaches that happened before the change are recorded first: the change (a late reply,
/// a lower severity) may end the very clock that ran out, and the breach must stay on the
/// record. Then the change, then what it brings about at once (a breach it reveals, the
/// escalation a breach calls for, a consent step). An empty change is the sweep's step.
pub fn step(
    policy: &Policy,
    context: &ClockContext<'_>,
    timeline: &[TicketEvent],
    decided: Vec<EventData>,
    actor: Actor,
    now: Timestamp,
) -> Result<Step, StepError> {
    let last = timeline.last().ok_or(StepError::NoCreatedEvent)?.at;
    let at = now.max(last);
    let before = Standing::of(policy, context, timeline, at)?;
    let calendar = policy.calendar(&before.clocks.calendar)?;
    let due = system_events(
        policy,
        calendar,
        &before.snapshot,
        &before.clocks,
        timeline,
        at,
    )?;
    // Nothing to record and nothing decided (the sweep's usual step, a rebuild's): the
    // ticket stands as it stood, and its timeline is not copied.
    if due.is_empty() && decided.is_empty() {
        let measures = TicketMeasures::of(policy, context, timeline, &before.clocks)?;
        return finish(policy, Vec::new(), before, measures);
    }
    let mut events = timeline.to_vec();
    for data in due {
        append(&mut events, Actor::System, data, at)?;
    }
    for data in decided {
        append(&mut events, actor, data, at)?;
    }
    let after = Standing::of(policy, context, &events, at)?;
    let standing = if append_system_events(policy, &after, &mut events, at)? > 0 {
        Standing::of(policy, context, &events, at)?
    } else {
        after
    };
    let measures = TicketMeasures::of(policy, context, &events, &standing.clocks)?;
    let new_events = events.split_off(timeline.len());
    finish(policy, new_events, standing, measures)
}

/// The step of a ticket whose `new_events` leave it standing as `standing` says, with what
/// reports keep of it: the notices the new events call for, and the warnings due.
fn finish(
    policy: &Policy,
    new_events: Vec<TicketEvent>,
    standing: Standing,
    measures: TicketMeasures,
) -> Result<Step, StepError> {
    let notices = notices_of(policy, &standing, &new_events)?;
    let calendar = policy.calendar(&standing.clocks.calendar)?;
    let at_risk = clocks_at_risk(policy, calendar, &standing.snapshot, &standing.clocks)?;
    Ok(Step {
        events: new_events,
        standing,
        measures,
        notices,
        at_risk,
    })
}

/// A new ticket's first step: where it stands after its opening `events` (nothing can be
/// due yet: the policy refuses zero targets), what reports keep of it, and the notices they
/// call for (a new ticket owes no status update before its first response).
pub fn opening(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
    at: Timestamp,
) -> Result<(Standing, TicketMeasures, Vec<Notice>), StepError> {
    let standing = Standing::of(policy, context, events, at)?;
    let measures = TicketMeasures::of(policy, context, events, &standing.clocks)?;
    let notices = notices_of(policy, &standing, events)?;
    Ok((standing, measures, notices))
}

/// Appends what the desk does by itself at `at` (breaches not recorded yet, the escalation
/// they bring, a consent step due), as the timeline stood for `standing`; returns how many.
fn append_system_events(
    policy: &Policy,
    standing: &Standing,
    events: &mut Vec<TicketEvent>,
    at: Timestamp,
) -> Result<usize, StepError> {
    let calendar = policy.calendar(&standing.clocks.calendar)?;
    let due = system_events(
        policy,
        calendar,
        &standing.snapshot,
        &standing.clocks,
        events,
        at,
    )?;
    let count = due.len();
    for data in due {
        append(events, Actor::System, data, at)?;
    }
    Ok(count)
}

fn append(
    events: &mut Vec<TicketEvent>,
    actor: Actor,
    data: EventData,
    at: Timestamp,
) -> Result<(), StepError> {
    let seq = u32::try_from(events.len() + 1).map_err(|_| StepError::TimelineFull)?;
    events.push(TicketEvent {
        seq,
        at,
        actor,
        data,
    });
    Ok(())
}

fn notices_of(
    policy: &Policy,
    standing: &Standing,
    new_events: &[TicketEvent],
) -> Result<Vec<Notice>, StepError> {
    let context = NoticeContext {
        policy,
        calendar: policy.calendar(&standing.clocks.calendar)?,
        snapshot: &standing.snapshot,
    };
    Ok(notices_for(&context, new_events)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{NoticeKind, Recipient};
    use crate::ticket::{ClockKind, Command, ContactMedium, Role, decide};

    const ADVISOR: Actor = Actor::Staff {
        id: 7,
        role: Role::Advisor,
    };

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    const CONTEXT: ClockContext<'static> = ClockContext {
        program: "gold",
        region: "emea",
        product_line: "planetpress-suite",
    };

    /// A gold P2 ticket opened on the portal on Monday 23 November 2026 at 10:00 in
    /// Amsterdam, assigned to the advisor.
    fn opened() -> Vec<TicketEvent> {
        let opened = at("2026-11-23T09:00:00Z");
        vec![
            TicketEvent {
                seq: 1,
                at: opened,
                actor: Actor::Contact { id: 3 },
                data: EventData::Created {
                    severity: "P2".into(),
                    channel: "portal".into(),
                },
            },
            TicketEvent {
                seq: 2,
                at: opened,
                actor: Actor::System,
                data: EventData::Assigned {
                    advisor: Some(7),
                    reason: None,
                    overridden: None,
                },
            },
        ]
    }

    fn reply(policy: &Policy, timeline: &[TicketEvent]) -> Vec<EventData> {
        let snapshot = Snapshot::of(timeline).unwrap();
        let command = Command::Reply {
            body: "We are on it.".into(),
            via: ContactMedium::Reply,
        };
        decide(&snapshot, Role::Advisor, command, policy).unwrap()
    }

    #[test]
    fn a_late_reply_finds_its_breach_recorded_first() {
        let policy = Policy::built_in().unwrap();
        let timeline = opened();
        // The first response of a gold P2 is due within 2 business hours: 12:00 in
        // Amsterdam. The reply comes at 15:00.
        let late = at("2026-11-23T14:00:00Z");
        let step = step(
            &policy,
            &CONTEXT,
            &timeline,
            reply(&policy, &timeline),
            ADVISOR,
            late,
        )
        .unwrap();
        let kinds: Vec<&str> = step.events.iter().map(|event| event.data.kind()).collect();
        assert_eq!(
            kinds,
            ["clock_breached", "escalation_requested", "first_response"],
            "the breach and the escalation it calls for come before the reply that ends the clock"
        );
        assert!(matches!(
            step.events[0].data,
            EventData::ClockBreached {
                clock: ClockKind::FirstResponse,
                ..
            }
        ));
        assert_eq!(step.events[0].actor, Actor::System);
        assert_eq!(step.events[2].actor, ADVISOR);
        assert_eq!(
            step.events
                .iter()
                .map(|event| event.seq)
                .collect::<Vec<_>>(),
            [3, 4, 5]
        );
        assert!(step.standing.breached);
        assert_eq!(step.standing.load_key(), Some((7, "P2")));
        // The breach goes to the advisor and, for a P2, to the region's managers.
        assert!(step.notices.iter().any(|notice| notice.kind == NoticeKind::Breach
            && notice.to == Recipient::Staff(7)));
    }

    #[test]
    fn a_timely_reply_is_the_only_event_and_time_never_runs_backwards() {
        let policy = Policy::built_in().unwrap();
        let timeline = opened();
        let in_time = at("2026-11-23T10:00:00Z");
        let step = step(
            &policy,
            &CONTEXT,
            &timeline,
            reply(&policy, &timeline),
            ADVISOR,
            in_time,
        )
        .unwrap();
        assert_eq!(step.events.len(), 1);
        assert!(!step.standing.breached);
        // A server whose clock is behind the timeline's last event appends at that event.
        let behind = at("2026-11-23T08:00:00Z");
        let step = super::step(&policy, &CONTEXT, &timeline, Vec::new(), ADVISOR, behind).unwrap();
        assert!(step.events.is_empty());
        assert_eq!(step.standing.snapshot.last_event_at, timeline[1].at);
    }
}
