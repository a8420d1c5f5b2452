//! A ticket's SLA clocks, computed from its timeline and the policy (POLICY.md §4–§6).
//!
//! - **First response**: from creation to the first customer-visible advisor contact.
//! - **Next status update**: from the last customer-visible advisor contact to the next one,
//!   at the severity's cadence; only once the first response is given, never on a closed
//!   ticket.
//! - **Resolution**: from creation to the proposal of the solution the customer accepts; a
//!   rejected proposal resumes it, and the time the proposal waited does not count.
//!
//! The update and resolution clocks pause while the ticket waits on the customer and while it
//! is decided outside technical support (POLICY.md §8a, until a manager reverses it); the update
//! clock also rests while a proposal waits for the customer's answer. Every clock runs on the
//! calendar of the ticket's *current* severity, measured from the ticket's start, so a
//! severity change re-targets the clocks with the time already spent counted.
//!
//! An update request the policy does not measure (`activation.update_requests_breach`) has
//! the same clocks with their due times for guidance, but none turns at risk or breaches.
//!
//! Nothing is stored between calls: the same timeline, policy and `now` always give the same
//! clocks, which is what lets the store keep them beside the ticket for indexing and check
//! them against a recomputation at any time.

use jiff::Timestamp;
use serde::Serialize;

use super::events::{ClockKind, CustomerRequest, EventData, TicketEvent};
use super::{Snapshot, TicketState};
use crate::calendar::{Calendar, CalendarError, Explanation, Pause};
use crate::duration::BusinessDuration;
use crate::intake::IntakeFlag;
use crate::policy::{Policy, TicketProfile, UnknownName};

/// What, besides the timeline, decides a ticket's clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockContext<'a> {
    pub program: &'a str,
    pub region: &'a str,
    pub product_line: &'a str,
}

impl<'a> ClockContext<'a> {
    /// The ticket as the policy's rules see it now: its context and current severity.
    pub fn profile(&self, snapshot: &'a Snapshot) -> TicketProfile<'a> {
        TicketProfile {
            program: self.program,
            region: self.region,
            product_line: self.product_line,
            severity: &snapshot.severity,
            channel: &snapshot.channel,
        }
    }
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
    /// When the clock turns at risk if nothing changes; `None` while paused, and for a
    /// clock that is not measured.
    pub at_risk_at: Option<Timestamp>,
    /// When the clock stopped (first response given, solution proposed).
    pub stopped_at: Option<Timestamp>,
    pub at_risk: bool,
    pub breached: bool,
    /// The due instant a breach is recorded against; set when `breached`.
    pub breached_due: Option<Timestamp>,
    /// Whether the clock can turn at risk and breach: not for an update request the
    /// policy does not measure, whose due times only guide the advisor.
    pub measured: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    Running,
    Paused,
    Stopped,
}

impl ClockStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ClockStatus::Running => "running",
            ClockStatus::Paused => "paused",
            ClockStatus::Stopped => "stopped",
        }
    }
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

    /// The earliest due instant of a running clock that can breach: what the queue sorts
    /// on and calls overdue once past.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.all()
            .filter(|clock| clock.measured && clock.status == ClockStatus::Running)
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

/// Whether a ticket's clocks can turn at risk and breach: every ticket's can, but for an
/// update request when the policy's `activation.update_requests_breach` is false, whose due
/// times only guide the advisor (nothing is due in the queue, nothing alerts or breaches).
pub fn is_measured(policy: &Policy, snapshot: &Snapshot) -> bool {
    policy.activation.update_requests_breach
        || !snapshot
            .flags
            .iter()
            .any(|flag| matches!(flag, IntakeFlag::UpdateRequest { .. }))
}

/// The clocks of a ticket at `now`.
pub fn compute(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
    now: Timestamp,
) -> Result<TicketClocks, ClockError> {
    let snapshot = Snapshot::of(events).ok_or(ClockError::NoCreatedEvent)?;
    compute_with(policy, context, &snapshot, events, now)
}

/// [`compute`] for a caller that has folded the timeline already: `snapshot` is
/// `Snapshot::of(events)`.
pub(crate) fn compute_with(
    policy: &Policy,
    context: &ClockContext<'_>,
    snapshot: &Snapshot,
    events: &[TicketEvent],
    now: Timestamp,
) -> Result<TicketClocks, ClockError> {
    let plan = ClockPlan::of(policy, context, snapshot, events, now)?;
    let measure = plan.measure(policy, now);
    Ok(TicketClocks {
        calendar: plan.calendar.name().to_string(),
        first_response: measure.clock(&plan.first_response)?,
        next_update: plan
            .next_update
            .as_ref()
            .map(|spec| measure.clock(spec))
            .transpose()?,
        resolution: plan
            .resolution
            .as_ref()
            .map(|spec| measure.clock(spec))
            .transpose()?,
    })
}

/// The next-update clock alone of [`compute_with`] (none when no update is owed): the
/// measures ask for it at every contact of a timeline, and need no other clock there.
pub(crate) fn next_update_with(
    policy: &Policy,
    context: &ClockContext<'_>,
    snapshot: &Snapshot,
    events: &[TicketEvent],
    now: Timestamp,
) -> Result<Option<Clock>, ClockError> {
    let plan = ClockPlan::of(policy, context, snapshot, events, now)?;
    let measure = plan.measure(policy, now);
    Ok(plan
        .next_update
        .as_ref()
        .map(|spec| measure.clock(spec))
        .transpose()?)
}

/// One clock with the engine's step-by-step account of its due time: every open span it
/// counted and every closure and pause it skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockAccount {
    pub clock: Clock,
    pub explanation: Explanation,
}

/// Each clock of a ticket at `now`, explained.
pub fn explain(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
    now: Timestamp,
) -> Result<Vec<ClockAccount>, ClockError> {
    let snapshot = Snapshot::of(events).ok_or(ClockError::NoCreatedEvent)?;
    let plan = ClockPlan::of(policy, context, &snapshot, events, now)?;
    let measure = plan.measure(policy, now);
    std::iter::once(&plan.first_response)
        .chain(plan.next_update.as_ref())
        .chain(plan.resolution.as_ref())
        .map(|spec| {
            let run = measure.run(spec);
            Ok(ClockAccount {
                clock: measure.clock(spec)?,
                explanation: plan
                    .calendar
                    .explain(spec.start, spec.target, &run.pauses)?,
            })
        })
        .collect()
}

/// What each clock of a ticket is made of: where it starts, its target, where it stopped
/// and what paused it; computing and explaining both read it.
struct ClockPlan<'p> {
    calendar: &'p Calendar,
    /// Whether its clocks can turn at risk and breach.
    measured: bool,
    first_response: ClockSpec,
    next_update: Option<ClockSpec>,
    resolution: Option<ClockSpec>,
}

struct ClockSpec {
    kind: ClockKind,
    start: Timestamp,
    /// Open minutes of the ticket's calendar.
    target: u64,
    stop: Option<Timestamp>,
    /// An ongoing pause has `to: None`.
    pauses: Vec<Period>,
}

impl<'p> ClockPlan<'p> {
    /// The plan of a ticket with `events`, folded into `snapshot`.
    fn of(
        policy: &'p Policy,
        context: &ClockContext<'_>,
        snapshot: &Snapshot,
        events: &[TicketEvent],
        now: Timestamp,
    ) -> Result<ClockPlan<'p>, ClockError> {
        let calendar = policy.calendar_for(&context.profile(snapshot))?.calendar;
        let severity = policy.severity(&snapshot.severity)?;
        let channel = policy.channel(&snapshot.channel)?;
        let day = calendar.business_day_minutes();
        let periods = Periods::of(events, now);

        let first_response = ClockSpec {
            kind: ClockKind::FirstResponse,
            start: snapshot.opened_at,
            target: channel.first_response.minutes_on(day),
            stop: snapshot.first_response_at,
            pauses: Vec::new(),
        };

        let resolution = severity.resolution.map(|target| {
            let mut pauses = periods.waiting.clone();
            pauses.extend(periods.rejected_proposals.iter().copied());
            pauses.extend(periods.excluded.iter().copied());
            ClockSpec {
                kind: ClockKind::Resolution,
                start: snapshot.opened_at,
                target: target.minutes_on(day),
                stop: periods.standing_proposal,
                pauses,
            }
        });

        // A cadence agreed on the ticket replaces the severity's own (POLICY.md §4); the
        // agreement was checked when made, and a text that no longer parses is ignored.
        let agreed = snapshot
            .agreed_update_every
            .as_deref()
            .filter(|_| severity.update_negotiable)
            .and_then(|text| text.parse::<BusinessDuration>().ok());
        // An agreement counts from when it was made, never backwards: a shorter cadence
        // agreed today does not breach an update that was owed under the old one.
        let anchor = match (snapshot.last_advisor_contact_at, agreed) {
            (Some(contact), Some(_)) => {
                Some(contact.max(snapshot.agreed_update_at.unwrap_or(contact)))
            }
            (contact, _) => contact,
        };
        let next_update = match (agreed.or(severity.update_every), anchor, snapshot.state) {
            (Some(cadence), Some(anchor), state) if state != TicketState::Closed => {
                let mut pauses: Vec<Period> = periods.waiting.clone();
                pauses.extend(periods.rejected_proposals.iter().copied());
                pauses.extend(periods.excluded.iter().copied());
                if let Some(proposed) = periods.standing_proposal {
                    pauses.push(Period {
                        from: proposed,
                        to: None,
                        cause: PauseCause::ProposalAwaitingAnswer,
                    });
                }
                pauses.retain(|pause| pause.to.is_none_or(|to| to > anchor));
                Some(ClockSpec {
                    kind: ClockKind::NextUpdate,
                    start: anchor,
                    target: cadence.minutes_on(day),
                    stop: None,
                    pauses,
                })
            }
            _ => None,
        };

        Ok(ClockPlan {
            calendar,
            measured: is_measured(policy, snapshot),
            first_response,
            next_update,
            resolution,
        })
    }

    fn measure(&self, policy: &Policy, now: Timestamp) -> Measure<'p> {
        Measure {
            calendar: self.calendar,
            now,
            at_risk_percent: u64::from(policy.at_risk_percent),
            measured: self.measured,
        }
    }
}

/// The breaches the timeline does not record yet. The first-response and resolution clocks
/// breach once per ticket; the status-update clock once per missed update.
pub fn unrecorded_breaches(clocks: &TicketClocks, events: &[TicketEvent]) -> Vec<EventData> {
    // A status update is owed once per stretch between the advisor's contacts (or from a
    // cadence agreed since): a breach recorded in the running stretch is this clock's, even
    // under another due time (a new policy version that changed the cadence). Recorded
    // after the stretch began, strictly: the breach of the stretch before is recorded at
    // the very instant of the late contact that begins this one.
    let recorded = |clock: &Clock, due: Timestamp| {
        events.iter().any(|event| match &event.data {
            EventData::ClockBreached {
                clock: kind,
                due: recorded_due,
                ..
            } => {
                *kind == clock.kind
                    && (clock.kind != ClockKind::NextUpdate
                        || *recorded_due == due
                        || event.at > clock.started_at)
            }
            _ => false,
        })
    };
    clocks
        .all()
        .filter_map(|clock| {
            let due = clock.breached_due?;
            (!recorded(clock, due)).then_some(EventData::ClockBreached {
                clock: clock.kind,
                due,
                policy_change: None,
            })
        })
        .collect()
}

/// Why a clock stood still.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PauseCause {
    /// Waiting on the customer for what the advisor asked: information, remote access, a
    /// test in their development environment (POLICY.md §5).
    Waiting(CustomerRequest),
    /// A proposed solution awaited the customer's answer, then was rejected.
    ProposalRejected,
    /// A fix was planned for a release, which came out without it.
    FixNotShipped,
    /// Decided outside technical support (POLICY.md §8a), until a manager reversed it.
    OutsideSupport,
    /// A proposed solution awaits the customer's answer (the status updates only).
    ProposalAwaitingAnswer,
}

impl PauseCause {
    /// The causes a resolution clock stands still for.
    pub const RESOLUTION: [PauseCause; 6] = [
        PauseCause::Waiting(CustomerRequest::Information),
        PauseCause::Waiting(CustomerRequest::RemoteAccess),
        PauseCause::Waiting(CustomerRequest::TestInDevelopment),
        PauseCause::ProposalRejected,
        PauseCause::FixNotShipped,
        PauseCause::OutsideSupport,
    ];

    /// The cause as reports and the API name it.
    pub fn code(self) -> &'static str {
        match self {
            PauseCause::Waiting(CustomerRequest::Information) => "waiting_for_information",
            PauseCause::Waiting(CustomerRequest::RemoteAccess) => "waiting_for_remote_access",
            PauseCause::Waiting(CustomerRequest::TestInDevelopment) => {
                "waiting_for_test_in_development"
            }
            PauseCause::ProposalRejected => "proposal_rejected",
            PauseCause::FixNotShipped => "fix_not_shipped",
            PauseCause::OutsideSupport => "outside_support",
            PauseCause::ProposalAwaitingAnswer => "proposal_awaiting_answer",
        }
    }

    /// The cause as explanations say it.
    pub fn reason(self) -> &'static str {
        match self {
            PauseCause::Waiting(_) => "waiting on the customer",
            PauseCause::ProposalRejected => {
                "a proposed solution awaited the customer's answer, then was rejected"
            }
            PauseCause::FixNotShipped => {
                "a fix was planned for a release, which came out without it"
            }
            PauseCause::OutsideSupport => "decided outside technical support",
            PauseCause::ProposalAwaitingAnswer => {
                "a proposed solution awaits the customer's answer"
            }
        }
    }
}

/// The business minutes the resolution clock stood still up to `at` (for a closed ticket,
/// its closing), by cause, in the order the causes first occurred; none without a
/// resolution target. They add up to the clock's `paused_minutes`. A stretch of waiting is
/// the cause of the request that began it, even if another request followed before the
/// customer answered.
pub fn resolution_pauses(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
    at: Timestamp,
) -> Result<Vec<(PauseCause, u64)>, ClockError> {
    let snapshot = Snapshot::of(events).ok_or(ClockError::NoCreatedEvent)?;
    let plan = ClockPlan::of(policy, context, &snapshot, events, at)?;
    let Some(spec) = &plan.resolution else {
        return Ok(Vec::new());
    };
    let measure = plan.measure(policy, at);
    let run = measure.run(spec);
    // Paused time runs on until `at`, or until the clock stopped (as `Measure::clock`).
    let paused_until = if run.status == ClockStatus::Stopped {
        run.ran_until
    } else {
        at.max(spec.start)
    };
    let paused_minutes = measure.clock(spec)?.paused_minutes;
    let mut pauses: Vec<&Period> = spec.pauses.iter().collect();
    pauses.sort_by_key(|pause| pause.from);
    let mut by_cause: Vec<(PauseCause, u64)> = Vec::new();
    // The pauses of a ticket never overlap (each begins by ending the one before), but
    // counting from where the last one ended keeps the sum right if they ever did.
    let mut counted_until = spec.start;
    for pause in pauses {
        let from = pause.from.max(counted_until);
        let to = pause.to.unwrap_or(at).min(paused_until);
        if to <= from {
            continue;
        }
        let minutes = plan.calendar.elapsed(from, to)?;
        counted_until = to;
        match by_cause.iter_mut().find(|(cause, _)| *cause == pause.cause) {
            Some((_, total)) => *total += minutes,
            None => by_cause.push((pause.cause, minutes)),
        }
    }
    // Each stretch is counted in whole minutes, the clock's paused time once in all: the
    // seconds the stretches lose to rounding go to the longest, so that they add up.
    let counted: u64 = by_cause.iter().map(|(_, minutes)| minutes).sum();
    if let Some((_, longest)) = by_cause.iter_mut().max_by_key(|(_, minutes)| *minutes) {
        *longest = (*longest + paused_minutes).saturating_sub(counted);
    }
    by_cause.retain(|(_, minutes)| *minutes > 0);
    Ok(by_cause)
}

/// A stretch of time; `to: None` is still going on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Period {
    from: Timestamp,
    to: Option<Timestamp>,
    /// Why the clock did not count this time.
    cause: PauseCause,
}

/// The stretches of the timeline that matter to the clocks.
struct Periods {
    /// Waiting on the customer.
    waiting: Vec<Period>,
    /// From a proposal to its rejection.
    rejected_proposals: Vec<Period>,
    /// The proposal still standing (awaiting an answer, or accepted).
    standing_proposal: Option<Timestamp>,
    /// Outside support (POLICY.md §8a), until a manager reversed it.
    excluded: Vec<Period>,
}

impl Periods {
    fn of(events: &[TicketEvent], now: Timestamp) -> Periods {
        let mut periods = Periods {
            waiting: Vec::new(),
            rejected_proposals: Vec::new(),
            standing_proposal: None,
            excluded: Vec::new(),
        };
        let mut waiting_since: Option<(Timestamp, CustomerRequest)> = None;
        let mut excluded_since: Option<Timestamp> = None;
        for event in events {
            match &event.data {
                EventData::WaitingOnCustomer { request, .. } => {
                    waiting_since.get_or_insert((event.at, *request));
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
                            cause: PauseCause::ProposalRejected,
                        });
                    }
                }
                EventData::OutsideSupport { .. } => {
                    periods.end_waiting(&mut waiting_since, event.at);
                    excluded_since.get_or_insert(event.at);
                }
                EventData::OutsideSupportReversed { .. } => {
                    if let Some(from) = excluded_since.take() {
                        periods.excluded.push(Period {
                            from,
                            to: Some(event.at),
                            cause: PauseCause::OutsideSupport,
                        });
                    }
                }
                EventData::ReleasePublished { fixed: false, .. } => {
                    if let Some(from) = periods.standing_proposal.take() {
                        periods.rejected_proposals.push(Period {
                            from,
                            to: Some(event.at),
                            cause: PauseCause::FixNotShipped,
                        });
                    }
                }
                _ => {}
            }
        }
        if let Some((from, request)) = waiting_since {
            periods.waiting.push(Period {
                from,
                to: None,
                cause: PauseCause::Waiting(request),
            });
        }
        if let Some(from) = excluded_since {
            periods.excluded.push(Period {
                from,
                to: None,
                cause: PauseCause::OutsideSupport,
            });
        }
        // Nothing after `now` exists yet.
        for period in periods
            .waiting
            .iter_mut()
            .chain(&mut periods.rejected_proposals)
            .chain(&mut periods.excluded)
        {
            period.to = period.to.map(|to| to.min(now));
        }
        periods
    }

    fn end_waiting(&mut self, since: &mut Option<(Timestamp, CustomerRequest)>, at: Timestamp) {
        if let Some((from, request)) = since.take() {
            self.waiting.push(Period {
                from,
                to: Some(at),
                cause: PauseCause::Waiting(request),
            });
        }
    }
}

struct Measure<'c> {
    calendar: &'c Calendar,
    now: Timestamp,
    at_risk_percent: u64,
    measured: bool,
}

/// How far a clock has run at `now`, and its pauses as the calendar sees them.
struct Run<'a> {
    status: ClockStatus,
    /// The instant up to which the clock has run.
    ran_until: Timestamp,
    pauses: Vec<Pause<'a>>,
}

impl Measure<'_> {
    fn run<'s>(&self, spec: &'s ClockSpec) -> Run<'s> {
        let ongoing_pause = spec
            .pauses
            .iter()
            .filter(|pause| pause.to.is_none() && pause.from <= self.now)
            .map(|pause| pause.from)
            .min();
        let (status, ran_until) = match (spec.stop, ongoing_pause) {
            (Some(stop), _) => (ClockStatus::Stopped, stop),
            (None, Some(paused_at)) => (ClockStatus::Paused, paused_at.max(spec.start)),
            (None, None) => (ClockStatus::Running, self.now.max(spec.start)),
        };
        // Ongoing pauses end now, and none outlives the run.
        let pauses = spec
            .pauses
            .iter()
            .map(|pause| Pause {
                from: pause.from,
                to: pause.to.unwrap_or(self.now).min(ran_until).max(pause.from),
                reason: pause.cause.reason(),
            })
            .collect();
        Run {
            status,
            ran_until,
            pauses,
        }
    }

    /// One clock at `now`.
    fn clock(&self, spec: &ClockSpec) -> Result<Clock, CalendarError> {
        let ClockSpec {
            kind,
            start,
            target,
            stop,
            ..
        } = *spec;
        let Run {
            status,
            ran_until,
            pauses: closed,
        } = self.run(spec);
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
        let breached = self.measured && ran_until > due;
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
            at_risk_at: (self.measured && status == ClockStatus::Running).then_some(at_risk_due),
            stopped_at: stop,
            at_risk: self.measured
                && !breached
                && status != ClockStatus::Stopped
                && counted >= at_risk_minutes,
            breached,
            breached_due: breached.then_some(due),
            measured: self.measured,
        })
    }
}
