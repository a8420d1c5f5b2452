//! A ticket's SLA clocks, computed from its timeline and the policy (POLICY.md §4–§6).
//!
//! - **First response**: from creation to the first customer-visible advisor contact.
//! - **Next status update**: from the last customer-visible advisor contact to the next one,
//!   at the severity's cadence; only once the first response is given, never on a closed
//!   ticket.
//! - **Resolution**: from creation to the proposal of the solution the customer accepts; a
//!   rejected proposal resumes it, and the time the proposal waited does not count.
//!
//! The update and resolution clocks pause while the ticket waits on the customer; the update
//! clock also rests while a proposal waits for the customer's answer. Every clock runs on the
//! calendar of the ticket's *current* severity, measured from the ticket's start, so a
//! severity change re-targets the clocks with the time already spent counted.
//!
//! Nothing is stored between calls: the same timeline, policy and `now` always give the same
//! clocks, which is what lets the store keep them beside the ticket for indexing and check
//! them against a recomputation at any time.

use jiff::Timestamp;
use serde::Serialize;

use super::events::{ClockKind, EventData, TicketEvent};
use super::{Snapshot, TicketState};
use crate::calendar::{Calendar, CalendarError, Pause};
use crate::policy::{Policy, TicketProfile, UnknownName};

/// What, besides the timeline, decides a ticket's clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockContext<'a> {
    pub program: &'a str,
    pub region: &'a str,
    pub product_line: &'a str,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TicketClocks {
    /// The calendar every clock of the ticket runs on.
    pub calendar: String,
    pub first_response: Clock,
    /// `None` before the first response, on a closed ticket, or without a cadence (P4).
    pub next_update: Option<Clock>,
    /// `None` when the severity has no resolution target (P4).
    pub resolution: Option<Clock>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Clock {
    pub kind: ClockKind,
    pub status: ClockStatus,
    pub started_at: Timestamp,
    pub target_minutes: u64,
    /// Open minutes counted so far (pauses excluded).
    pub elapsed_minutes: u64,
    /// Open minutes that fell inside pauses.
    pub paused_minutes: u64,
    /// Target minus elapsed; negative once breached.
    pub remaining_minutes: i64,
    /// When the target is reached if nothing changes; `None` while paused.
    pub due_at: Option<Timestamp>,
    /// When the clock turns at risk if nothing changes; `None` while paused.
    pub at_risk_at: Option<Timestamp>,
    /// When the clock stopped (first response given, solution proposed).
    pub stopped_at: Option<Timestamp>,
    pub at_risk: bool,
    pub breached: bool,
    /// The due instant a breach is recorded against; set when `breached`.
    pub breached_due: Option<Timestamp>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    Running,
    Paused,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("the timeline does not start with a created event")]
    NoCreatedEvent,
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl TicketClocks {
    pub fn all(&self) -> impl Iterator<Item = &Clock> {
        std::iter::once(&self.first_response)
            .chain(self.next_update.as_ref())
            .chain(self.resolution.as_ref())
    }

    /// The earliest due instant of a running clock: what the queue sorts on.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.all()
            .filter(|clock| clock.status == ClockStatus::Running)
            .filter_map(|clock| clock.due_at)
            .min()
    }

    /// The earliest instant a running clock turns at risk.
    pub fn next_at_risk(&self) -> Option<Timestamp> {
        self.all()
            .filter(|clock| clock.status == ClockStatus::Running)
            .filter_map(|clock| clock.at_risk_at)
            .min()
    }

    pub fn any_at_risk(&self) -> bool {
        self.all().any(|clock| clock.at_risk)
    }

    pub fn any_breached(&self) -> bool {
        self.all().any(|clock| clock.breached)
    }
}

/// The clocks of a ticket at `now`.
pub fn compute(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
    now: Timestamp,
) -> Result<TicketClocks, ClockError> {
    let snapshot = Snapshot::of(events).ok_or(ClockError::NoCreatedEvent)?;
    let profile = TicketProfile {
        program: context.program,
        region: context.region,
        product_line: context.product_line,
        severity: &snapshot.severity,
        channel: &snapshot.channel,
    };
    let calendar = policy.calendar_for(&profile)?.calendar;
    let severity = policy.severity(&snapshot.severity)?;
    let channel = policy.channel(&snapshot.channel)?;
    let day = calendar.business_day_minutes();
    let periods = Periods::of(events, now);
    let measure = Measure {
        calendar,
        now,
        at_risk_percent: u64::from(policy.at_risk_percent),
    };

    let first_response = measure.clock(
        ClockKind::FirstResponse,
        snapshot.opened_at,
        channel.first_response.minutes_on(day),
        snapshot.first_response_at,
        &[],
    )?;

    let resolution = match severity.resolution {
        None => None,
        Some(target) => {
            let mut pauses = periods.waiting.clone();
            pauses.extend(periods.rejected_proposals.iter().copied());
            let stop = periods.standing_proposal;
            Some(measure.clock(
                ClockKind::Resolution,
                snapshot.opened_at,
                target.minutes_on(day),
                stop,
                &pauses,
            )?)
        }
    };

    let next_update = match (
        severity.update_every,
        snapshot.last_advisor_contact_at,
        snapshot.state,
    ) {
        (Some(cadence), Some(anchor), state) if state != TicketState::Closed => {
            let mut pauses: Vec<Period> = periods.waiting.clone();
            pauses.extend(periods.rejected_proposals.iter().copied());
            if let Some(proposed) = periods.standing_proposal {
                pauses.push(Period {
                    from: proposed,
                    to: None,
                });
            }
            pauses.retain(|pause| pause.to.is_none_or(|to| to > anchor));
            Some(measure.clock(
                ClockKind::NextUpdate,
                anchor,
                cadence.minutes_on(day),
                None,
                &pauses,
            )?)
        }
        _ => None,
    };

    Ok(TicketClocks {
        calendar: calendar.name().to_string(),
        first_response,
        next_update,
        resolution,
    })
}

/// The breaches the timeline does not record yet. The first-response and resolution clocks
/// breach once per ticket; the status-update clock once per missed update.
pub fn unrecorded_breaches(clocks: &TicketClocks, events: &[TicketEvent]) -> Vec<EventData> {
    let recorded = |kind: ClockKind, due: Timestamp| {
        events.iter().any(|event| match &event.data {
            EventData::ClockBreached {
                clock,
                due: recorded_due,
            } => *clock == kind && (kind != ClockKind::NextUpdate || *recorded_due == due),
            _ => false,
        })
    };
    clocks
        .all()
        .filter_map(|clock| {
            let due = clock.breached_due?;
            (!recorded(clock.kind, due)).then_some(EventData::ClockBreached {
                clock: clock.kind,
                due,
            })
        })
        .collect()
}

/// A stretch of time; `to: None` is still going on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Period {
    from: Timestamp,
    to: Option<Timestamp>,
}

/// The stretches of the timeline that matter to the clocks.
struct Periods {
    /// Waiting on the customer.
    waiting: Vec<Period>,
    /// From a proposal to its rejection.
    rejected_proposals: Vec<Period>,
    /// The proposal still standing (awaiting an answer, or accepted).
    standing_proposal: Option<Timestamp>,
}

impl Periods {
    fn of(events: &[TicketEvent], now: Timestamp) -> Periods {
        let mut periods = Periods {
            waiting: Vec::new(),
            rejected_proposals: Vec::new(),
            standing_proposal: None,
        };
        let mut waiting_since: Option<Timestamp> = None;
        for event in events {
            match &event.data {
                EventData::WaitingOnCustomer { .. } => {
                    waiting_since.get_or_insert(event.at);
                }
                EventData::CustomerAnswered { .. } | EventData::Closed { .. } => {
                    periods.end_waiting(&mut waiting_since, event.at);
                }
                EventData::SolutionProposed { .. } => {
                    periods.end_waiting(&mut waiting_since, event.at);
                    periods.standing_proposal = Some(event.at);
                }
                EventData::SolutionRejected { .. } => {
                    if let Some(from) = periods.standing_proposal.take() {
                        periods.rejected_proposals.push(Period {
                            from,
                            to: Some(event.at),
                        });
                    }
                }
                _ => {}
            }
        }
        if let Some(from) = waiting_since {
            periods.waiting.push(Period { from, to: None });
        }
        // Nothing after `now` exists yet.
        for period in periods
            .waiting
            .iter_mut()
            .chain(&mut periods.rejected_proposals)
        {
            period.to = period.to.map(|to| to.min(now));
        }
        periods
    }

    fn end_waiting(&mut self, since: &mut Option<Timestamp>, at: Timestamp) {
        if let Some(from) = since.take() {
            self.waiting.push(Period { from, to: Some(at) });
        }
    }
}

struct Measure<'c> {
    calendar: &'c Calendar,
    now: Timestamp,
    at_risk_percent: u64,
}

impl Measure<'_> {
    /// One clock from `start` with `target` open minutes, stopped at `stop` if given, with
    /// `pauses` (an ongoing pause has `to: None`).
    fn clock(
        &self,
        kind: ClockKind,
        start: Timestamp,
        target: u64,
        stop: Option<Timestamp>,
        pauses: &[Period],
    ) -> Result<Clock, CalendarError> {
        let ongoing_pause = pauses
            .iter()
            .filter(|pause| pause.to.is_none() && pause.from <= self.now)
            .map(|pause| pause.from)
            .min();
        // The instant up to which the clock has run.
        let (status, ran_until) = match (stop, ongoing_pause) {
            (Some(stop), _) => (ClockStatus::Stopped, stop),
            (None, Some(paused_at)) => (ClockStatus::Paused, paused_at.max(start)),
            (None, None) => (ClockStatus::Running, self.now.max(start)),
        };
        // Pauses as the calendar sees them: ongoing ones end now, none outlives the run.
        let closed: Vec<Pause<'_>> = pauses
            .iter()
            .map(|pause| Pause {
                from: pause.from,
                to: pause.to.unwrap_or(self.now).min(ran_until).max(pause.from),
                reason: "paused",
            })
            .collect();
        let counted = self
            .calendar
            .elapsed_with_pauses(start, ran_until, &closed)?;
        // Paused time runs on until now, or until the clock stopped.
        let paused_until = if status == ClockStatus::Stopped {
            ran_until
        } else {
            self.now.max(start)
        };
        let open = self.calendar.elapsed(start, paused_until)?;
        // Where the target falls given the pauses so far; while paused it is only known
        // whether it already fell before the pause.
        let due = self.calendar.due_with_pauses(start, target, &closed)?;
        let at_risk_minutes = (target * self.at_risk_percent).div_ceil(100);
        let at_risk_due = self
            .calendar
            .due_with_pauses(start, at_risk_minutes, &closed)?;
        let breached = ran_until > due;
        Ok(Clock {
            kind,
            status,
            started_at: start,
            target_minutes: target,
            elapsed_minutes: counted,
            paused_minutes: open.saturating_sub(counted),
            remaining_minutes: i64::try_from(target).unwrap_or(i64::MAX)
                - i64::try_from(counted).unwrap_or(i64::MAX),
            due_at: (status != ClockStatus::Paused || breached).then_some(due),
            at_risk_at: (status == ClockStatus::Running).then_some(at_risk_due),
            stopped_at: stop,
            at_risk: !breached && status != ClockStatus::Stopped && counted >= at_risk_minutes,
            breached,
            breached_due: breached.then_some(due),
        })
    }
}
