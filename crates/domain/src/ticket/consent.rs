//! Consent to close (POLICY.md §7): a proposed solution waits for the customer's explicit
//! accept or reject. Without an answer the customer is reminded at the policy's cadence, in
//! business time on the ticket's calendar; one interval after the last reminder the ticket
//! is listed for the support manager, still open. Nothing here closes a ticket.

use jiff::Timestamp;

use super::Snapshot;
use super::events::EventData;
use crate::calendar::{Calendar, CalendarError};
use crate::policy::Policy;

/// The next step for a proposal waiting for consent, and when it is due; `None` when no
/// proposal waits or the ticket is already listed.
pub fn next_consent_step(
    policy: &Policy,
    calendar: &Calendar,
    snapshot: &Snapshot,
) -> Result<Option<(Timestamp, EventData)>, CalendarError> {
    let Some(proposed_at) = snapshot.proposed_at else {
        return Ok(None);
    };
    if !snapshot.state.awaits_consent() || snapshot.consent_unanswered {
        return Ok(None);
    }
    let since = snapshot.last_consent_reminder_at.unwrap_or(proposed_at);
    let interval = policy
        .consent
        .reminder_every
        .minutes_on(calendar.business_day_minutes());
    let due = calendar.due(since, interval)?;
    let step = if snapshot.consent_reminders < policy.consent.reminders {
        EventData::ConsentReminder {
            number: snapshot.consent_reminders + 1,
        }
    } else {
        EventData::ConsentUnanswered {
            reminders: snapshot.consent_reminders,
        }
    };
    Ok(Some((due, step)))
}

/// The step due at `now`, if any. One step per call: after downtime the reminders still go
/// out an interval apart, counted from when each was actually sent.
pub fn due_consent_step(
    policy: &Policy,
    calendar: &Calendar,
    snapshot: &Snapshot,
    now: Timestamp,
) -> Result<Option<EventData>, CalendarError> {
    Ok(next_consent_step(policy, calendar, snapshot)?
        .filter(|(due, _)| *due <= now)
        .map(|(_, step)| step))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::{Actor, Resolution, TicketEvent};

    fn at(text: &str) -> Timestamp {
        text.parse().expect("instant")
    }

    fn event(seq: u32, when: &str, data: EventData) -> TicketEvent {
        TicketEvent {
            seq,
            at: at(when),
            actor: Actor::System,
            data,
        }
    }

    #[test]
    fn reminders_every_two_business_days_then_listed_and_never_closed() {
        let policy = Policy::built_in().expect("policy");
        let calendar = policy.calendar("americas").expect("calendar");
        // Proposed Monday 2026-11-23 10:00 Montreal (15:00Z).
        let mut timeline = vec![
            event(
                1,
                "2026-11-23T14:00:00Z",
                EventData::Created {
                    severity: "P3".into(),
                    channel: "phone".into(),
                },
            ),
            event(
                2,
                "2026-11-23T15:00:00Z",
                EventData::SolutionProposed {
                    resolution: Resolution::Workaround,
                    body: "Try this".into(),
                },
            ),
        ];
        let mut now = at("2026-11-23T15:00:00Z");
        let mut steps = Vec::new();
        for seq in 3..10 {
            let snapshot = Snapshot::of(&timeline).expect("snapshot");
            let Some((due, step)) = next_consent_step(&policy, calendar, &snapshot).expect("due")
            else {
                break;
            };
            assert_eq!(
                due_consent_step(&policy, calendar, &snapshot, now).expect("due"),
                None
            );
            now = due;
            assert_eq!(
                due_consent_step(&policy, calendar, &snapshot, now).expect("due"),
                Some(step.clone())
            );
            steps.push((due.to_string(), step.kind()));
            timeline.push(TicketEvent {
                seq,
                at: due,
                actor: Actor::System,
                data: step,
            });
        }
        assert_eq!(
            steps,
            [
                ("2026-11-25T15:00:00Z".to_string(), "consent_reminder"),
                // Thanksgiving is not a holiday of the americas calendar; Friday 10:00.
                ("2026-11-27T15:00:00Z".to_string(), "consent_reminder"),
                ("2026-12-01T15:00:00Z".to_string(), "consent_reminder"),
                ("2026-12-03T15:00:00Z".to_string(), "consent_unanswered"),
            ]
        );
        let listed = Snapshot::of(&timeline).expect("snapshot");
        assert!(listed.consent_unanswered);
        assert!(
            listed.state.awaits_consent(),
            "still open, waiting for consent"
        );

        // The customer's rejection ends the wait and the listing.
        timeline.push(event(
            10,
            "2026-12-04T15:00:00Z",
            EventData::SolutionRejected {
                reason: "Still broken".into(),
            },
        ));
        let answered = Snapshot::of(&timeline).expect("snapshot");
        assert!(!answered.consent_unanswered);
        assert_eq!(
            next_consent_step(&policy, calendar, &answered).expect("due"),
            None
        );
    }
}
