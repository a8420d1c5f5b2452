//! What the desk does to a ticket by itself, as time passes (POLICY.md §6, §7): it records
//! each breach once, escalates a breach of a severity that says so to the support manager,
//! and takes the next step of a proposal waiting for consent. The store appends these
//! events as `Actor::System`, in the same transaction as whatever else happens.

use jiff::Timestamp;

use super::Snapshot;
use super::clocks::{TicketClocks, unrecorded_breaches};
use super::consent::{due_consent_step, next_consent_step};
use super::events::{EventData, TicketEvent};
use crate::calendar::{Calendar, CalendarError};
use crate::policy::Policy;

/// The events due at `now`, in the order they are appended.
pub fn system_events(
    policy: &Policy,
    calendar: &Calendar,
    snapshot: &Snapshot,
    clocks: &TicketClocks,
    events: &[TicketEvent],
    now: Timestamp,
) -> Result<Vec<EventData>, CalendarError> {
    let mut due = unrecorded_breaches(clocks, events);
    let escalates = policy
        .severity(&snapshot.severity)
        .is_ok_and(|severity| severity.escalate_on_breach);
    if escalates && !snapshot.escalation_open {
        let breached: Vec<String> = due
            .iter()
            .filter_map(|event| match event {
                EventData::ClockBreached { clock, due } => {
                    Some(format!("{} (due {due})", clock.as_str().replace('_', " ")))
                }
                _ => None,
            })
            .collect();
        if !breached.is_empty() {
            due.push(EventData::EscalationRequested {
                reason: format!(
                    "{} clock breached: {}; a {} breach goes to the support manager",
                    snapshot.severity,
                    breached.join(", "),
                    snapshot.severity
                ),
            });
        }
    }
    if let Some(step) = due_consent_step(policy, calendar, snapshot, now)? {
        due.push(step);
    }
    Ok(due)
}

/// When the desk next has something to do by itself: the earliest clock still to breach,
/// or the next consent step.
pub fn next_system_event_at(
    policy: &Policy,
    calendar: &Calendar,
    snapshot: &Snapshot,
    clocks: &TicketClocks,
) -> Result<Option<Timestamp>, CalendarError> {
    let breach = clocks
        .all()
        .filter(|clock| {
            clock.measured && clock.status == super::clocks::ClockStatus::Running && !clock.breached
        })
        .filter_map(|clock| clock.due_at)
        .min();
    let consent = next_consent_step(policy, calendar, snapshot)?.map(|(at, _)| at);
    Ok(breach.into_iter().chain(consent).min())
}
