//! SLA targets of a ticket (POLICY.md §3–§5): which calendar its clocks run on, when the
//! first response and the resolution are due, and how often status updates are owed.

use jiff::Timestamp;

use crate::calendar::{Calendar, CalendarError};
use crate::duration::BusinessDuration;
use crate::policy::{CoverageRule, Policy, TicketProfile, UnknownName};

/// The promises made to one ticket when it is opened.
#[derive(Debug, Clone)]
pub struct Targets<'p> {
    pub calendar: &'p Calendar,
    /// The coverage rule that chose the calendar; `None` for the region's own calendar.
    pub rule: Option<&'p CoverageRule>,
    pub opened: Timestamp,
    /// When the clocks start: `opened` when the calendar is open, else its next opening.
    pub clocks_start: Timestamp,
    pub first_response: DueTarget,
    /// `None` when the severity has no resolution clock (P4).
    pub resolution: Option<DueTarget>,
    /// The status-update cadence; `None` when none is owed unless agreed.
    pub update_every: Option<Cadence>,
}

/// A target and its due instant on the ticket's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueTarget {
    pub target: BusinessDuration,
    /// The target in open minutes of the ticket's calendar.
    pub minutes: u64,
    pub due: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    pub every: BusinessDuration,
    pub minutes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetsError {
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// The targets of a ticket opened at `opened`.
pub fn targets<'p>(
    policy: &'p Policy,
    ticket: &TicketProfile<'_>,
    opened: Timestamp,
) -> Result<Targets<'p>, TargetsError> {
    let channel = policy.channel(ticket.channel)?;
    let severity = policy.severity(ticket.severity)?;
    let choice = policy.calendar_for(ticket)?;
    let calendar = choice.calendar;
    let day = calendar.business_day_minutes();
    let due_target = |target: BusinessDuration| -> Result<DueTarget, CalendarError> {
        let minutes = target.minutes_on(day);
        Ok(DueTarget {
            target,
            minutes,
            due: calendar.due(opened, minutes)?,
        })
    };
    Ok(Targets {
        calendar,
        rule: choice.rule,
        opened,
        clocks_start: calendar.next_open(opened)?,
        first_response: due_target(channel.first_response)?,
        resolution: severity.resolution.map(due_target).transpose()?,
        update_every: severity.update_every.map(|every| Cadence {
            every,
            minutes: every.minutes_on(day),
        }),
    })
}
