//! What the desk does to a ticket by itself, as time passes (POLICY.md §4, §6, §7): it
//! records each breach once, escalates a breach of a severity that says so to the support
//! manager, and a ticket worked continuously that nobody has worked for a while, and takes
//! the next step of a proposal waiting for consent. The store appends these
//! events as `Actor::System`, in the same transaction as whatever else happens.

use jiff::Timestamp;

use super::clocks::{TicketClocks, unrecorded_breaches};
use super::consent::{due_consent_step, next_consent_step};
use super::events::{EventData, TicketEvent};
use super::{Snapshot, TicketState};
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
                EventData::ClockBreached { clock, due, .. } => {
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
    let escalating = due.iter().any(|event| {
        matches!(
            event,
            EventData::EscalationRequested { .. } | EventData::WorkLapsed { .. }
        )
    });
    if !escalating
        && let Some(alert_at) = idle_alert_at(policy, calendar, snapshot)?
        && alert_at <= now
    {
        let idle = policy
            .severity(&snapshot.severity)
            .ok()
            .and_then(|severity| severity.idle_alert_after)
            .map(|idle| idle.to_string())
            .unwrap_or_default();
        due.push(EventData::WorkLapsed {
            since: snapshot.awaiting_work_since,
            reason: format!(
                "{} is worked continuously until resolved, but nobody of the desk has acted on it for {idle}; the support manager is alerted",
                snapshot.severity
            ),
        });
    }
    if let Some(step) = due_consent_step(policy, calendar, snapshot, now)? {
        due.push(step);
    }
    Ok(due)
}

/// When a ticket worked continuously (POLICY.md §4) that nobody works is escalated to the
/// support manager: `idle_alert_after` of business time after it last awaited work, while
/// it is to be worked (new or in progress) and no escalation is open already.
pub fn idle_alert_at(
    policy: &Policy,
    calendar: &Calendar,
    snapshot: &Snapshot,
) -> Result<Option<Timestamp>, CalendarError> {
    let Some(idle) = policy
        .severity(&snapshot.severity)
        .ok()
        .and_then(|severity| severity.idle_alert_after)
    else {
        return Ok(None);
    };
    let worked = matches!(snapshot.state, TicketState::New | TicketState::InProgress);
    // Once per stretch: the alert stands until someone acts. An escalation already open
    // has the manager's attention.
    let alerted = snapshot
        .work_lapsed_at
        .is_some_and(|alerted| alerted >= snapshot.awaiting_work_since);
    if !worked || snapshot.escalation_open || alerted {
        return Ok(None);
    }
    let minutes = idle.minutes_on(calendar.business_day_minutes());
    calendar
        .due(snapshot.awaiting_work_since, minutes)
        .map(Some)
}

/// When the desk next has something to do by itself: the earliest clock still to breach,
/// the next consent step, or the alert that nobody works a ticket worked continuously.
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
    let idle = idle_alert_at(policy, calendar, snapshot)?;
    Ok(breach.into_iter().chain(consent).chain(idle).min())
}
