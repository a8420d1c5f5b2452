//! What each member of staff did on a ticket, as the people report counts it.
//!
//! Every change a member of staff made to a ticket after it was opened is an action of
//! theirs (a reply, a note, an assignment, a severity change, a proposal; an acceptance
//! recorded for the customer, with the closing it brings); the first of them on a ticket
//! counts the ticket as one they handled; the first advisor contact of the ticket is its
//! first response, in time if it came within the target the ticket had then; a solution
//! the customer accepts counts for whoever proposed it, when it is accepted. An action is
//! after hours when the ticket runs on an extended calendar (24x5, 24x7, chosen by a
//! coverage rule for its severity at that moment) while its region's own office is closed:
//! the work the extended programs pay for.

use jiff::Timestamp;
use serde::Serialize;

use crate::policy::{Policy, TicketProfile};
use crate::ticket::clocks::{ClockContext, ClockError, compute};
use crate::ticket::{Actor, ClockKind, EventData, TicketEvent};

/// Counts of work: of one event, or of many added up.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WorkCounts {
    /// Tickets they acted on for the first time.
    pub tickets: u64,
    /// Everything they wrote on tickets.
    pub actions: u64,
    /// Contacts the customer saw: first responses, updates, questions, proposals, decisions
    /// that a problem is outside support.
    pub replies: u64,
    /// First responses given (a ticket's first advisor contact)…
    pub first_responses: u64,
    /// … and those given within their target.
    pub first_responses_in_time: u64,
    /// Solutions of theirs the customer accepted.
    pub solutions_accepted: u64,
    /// Actions on tickets running on an extended calendar while their office was closed.
    pub after_hours: u64,
}

impl WorkCounts {
    /// The counts' names, in the order of [`WorkCounts::values`].
    pub const NAMES: [&'static str; 7] = [
        "tickets",
        "actions",
        "replies",
        "first_responses",
        "first_responses_in_time",
        "solutions_accepted",
        "after_hours",
    ];

    pub fn values(&self) -> [u64; 7] {
        [
            self.tickets,
            self.actions,
            self.replies,
            self.first_responses,
            self.first_responses_in_time,
            self.solutions_accepted,
            self.after_hours,
        ]
    }

    pub fn of_values(values: [u64; 7]) -> WorkCounts {
        let [
            tickets,
            actions,
            replies,
            first_responses,
            first_responses_in_time,
            solutions_accepted,
            after_hours,
        ] = values;
        WorkCounts {
            tickets,
            actions,
            replies,
            first_responses,
            first_responses_in_time,
            solutions_accepted,
            after_hours,
        }
    }

    pub fn add(&mut self, other: &WorkCounts) {
        let mut sums = self.values();
        for (sum, value) in sums.iter_mut().zip(other.values()) {
            *sum += value;
        }
        *self = WorkCounts::of_values(sums);
    }

    /// The share of first responses given in time, in percent.
    pub fn in_time_percent(&self) -> Option<f64> {
        (self.first_responses > 0)
            .then(|| 100.0 * self.first_responses_in_time as f64 / self.first_responses as f64)
    }
}

/// What one event of a ticket counts for one member of staff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkDone {
    /// The event's place on the timeline.
    pub seq: u32,
    /// The member of staff it counts for.
    pub person: i64,
    pub at: Timestamp,
    /// The language the ticket was worked in then, as intake chose it and shifts changed it;
    /// `None` for a ticket without intake's record (worked in the language it was opened in).
    pub language: Option<String>,
    pub counts: WorkCounts,
}

/// The work of a ticket's events from seq `from` on (1: its whole timeline), event by
/// event; the earlier events say only what came before (who already handled it, whether it
/// was answered, who proposed the solution, the language it was worked in).
pub fn work_on(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
    from: u32,
) -> Result<Vec<WorkDone>, ClockError> {
    let region = policy.region(context.region)?;
    let office = policy.calendar(&region.calendar)?;
    let mut severity = String::new();
    let mut channel = String::new();
    let mut language: Option<String> = None;
    let mut people: Vec<i64> = Vec::new();
    let mut answered = false;
    let mut proposer: Option<i64> = None;
    let mut work = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let counted = event.seq >= from;
        match &event.data {
            EventData::Created {
                severity: opened_with,
                channel: opened_on,
            } => {
                severity.clone_from(opened_with);
                channel.clone_from(opened_on);
                // Opening a ticket is not work on it: its first contact is.
                continue;
            }
            EventData::IntakeChecked {
                language: chosen, ..
            } => {
                language = Some(chosen.language.clone());
            }
            EventData::ShiftChanged { language: now, .. } => language = Some(now.clone()),
            EventData::SeverityChanged { to, .. } => severity.clone_from(to),
            EventData::SolutionAccepted { .. } => {
                // Counts for whoever proposed it, whoever accepted it (the customer, or
                // staff recording the customer's word, whose action it is besides).
                if let Some(proposer) = proposer
                    && counted
                {
                    work.push(WorkDone {
                        seq: event.seq,
                        person: proposer,
                        at: event.at,
                        language: language.clone(),
                        counts: WorkCounts {
                            solutions_accepted: 1,
                            ..WorkCounts::default()
                        },
                    });
                }
            }
            _ => {}
        }
        let Actor::Staff { id, .. } = event.actor else {
            continue;
        };
        // The closing an acceptance recorded by staff brings is part of that action.
        let same_action = matches!(event.data, EventData::Closed { .. })
            && index > 0
            && matches!(events[index - 1].data, EventData::SolutionAccepted { .. })
            && events[index - 1].actor == event.actor;
        let mut counts = WorkCounts {
            actions: u64::from(!same_action),
            ..WorkCounts::default()
        };
        if !people.contains(&id) {
            people.push(id);
            counts.tickets = 1;
        }
        if event.data.is_advisor_contact() {
            counts.replies = 1;
            if !std::mem::replace(&mut answered, true) && counted {
                counts.first_responses = 1;
                counts.first_responses_in_time =
                    u64::from(!late_first_response(policy, context, &events[..=index])?);
            }
        }
        if matches!(event.data, EventData::SolutionProposed { .. }) {
            proposer = Some(id);
        }
        if counted {
            let profile = TicketProfile {
                program: context.program,
                region: context.region,
                product_line: context.product_line,
                severity: &severity,
                channel: &channel,
            };
            if policy.calendar_for(&profile)?.rule.is_some() && !office.is_open(event.at)? {
                counts.after_hours = 1;
            }
        }
        if counted && counts != WorkCounts::default() {
            work.push(WorkDone {
                seq: event.seq,
                person: id,
                at: event.at,
                language: language.clone(),
                counts,
            });
        }
    }
    Ok(work)
}

/// Whether the first response, the last of `events`, came after its target as it stood then
/// (a later severity change may move the target; the advisor answered the one they had), or
/// after a breach of it was recorded.
fn late_first_response(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
) -> Result<bool, ClockError> {
    let Some(response) = events.last() else {
        return Ok(false);
    };
    let recorded = events.iter().any(|event| {
        matches!(
            event.data,
            EventData::ClockBreached {
                clock: ClockKind::FirstResponse,
                ..
            }
        )
    });
    Ok(recorded
        || compute(policy, context, events, response.at)?
            .first_response
            .breached)
}
