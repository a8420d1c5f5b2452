//! What was promised and what was kept: each ticket's measures against its clocks, and the
//! tallies reports add them into.
//!
//! A ticket's [`TicketMeasures`] are a function of its timeline, the policy and `now`, like its
//! clocks; the store keeps them beside the ticket, rewritten with every event, so that a
//! report reads stored numbers and never replays timelines. A closed ticket's measures are
//! final: those of its clocks when it closed, whatever is added to it later (a note), which
//! is what lets the store add them once into monthly totals.
//!
//! - **First response** and **resolution** are measured once per ticket: *met* when the clock
//!   stopped in time, *breached* when a breach of it is on the timeline (a breach, once
//!   recorded, stays: a lower severity later does not undo it). A first response settles when
//!   given; a resolution when the ticket closes with a solution the customer accepted (a
//!   proposal still waiting may be rejected, which runs the clock on). A ticket closed
//!   otherwise (continued as professional services) counts only if the clock had already
//!   breached.
//! - **Status updates** are measured per update owed: each stretch between two contacts of an
//!   advisor with the customer once the first response is given, ended by a contact, and each
//!   update the desk recorded as missed. Their business time used is the longest of a
//!   ticket's stretches.
//! - A clock still running is *open*, within or past its target as `now` finds it; only
//!   settled clocks enter the distribution of business time used.

use serde::Serialize;

use crate::policy::Policy;
use crate::ticket::clocks::{
    Clock, ClockContext, ClockError, PauseCause, TicketClocks, compute, next_update_with,
    resolution_pauses,
};
use crate::ticket::{Actor, ClockKind, EventData, Snapshot, TicketEvent};

/// How many bands the business time a clock used is counted in, as a share of its target:
/// ten of 10% up to the target, one up to twice the target, and one beyond.
pub const BANDS: usize = 12;

/// The band of `used` business minutes against `target`: 0 for up to 10% of the target, …,
/// 9 for up to 100% (everything in time), 10 for up to 200%, 11 beyond.
pub fn band(used: u64, target: u64) -> u8 {
    if target == 0 {
        return if used == 0 { 0 } else { 11 };
    }
    // Tenths of the target, rounded up: used ≤ target exactly when tenths ≤ 10.
    let tenths = used.saturating_mul(10).div_ceil(target);
    match tenths {
        0 => 0,
        1..=10 => u8::try_from(tenths - 1).unwrap_or(9),
        11..=20 => 10,
        _ => 11,
    }
}

/// Where a clock of a ticket stands for reports.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not measured: the clock never ran, does not apply (a P4 resolution), belongs to an
    /// update request the policy does not measure, or the ticket closed without it.
    NotMeasured,
    /// Still running (or paused), no breach recorded yet.
    Open,
    /// Stopped in time but not settled: a proposed solution awaits the customer's answer
    /// (a rejection runs the clock on). Within its target, whatever the hour.
    Held,
    /// Still running (or paused), and a breach of it is already recorded.
    OpenBreached,
    Met,
    Breached,
}

impl Outcome {
    /// The number the store keeps.
    pub fn code(self) -> i64 {
        match self {
            Outcome::NotMeasured => 0,
            Outcome::Open => 1,
            Outcome::OpenBreached => 2,
            Outcome::Met => 3,
            Outcome::Breached => 4,
            Outcome::Held => 5,
        }
    }

    /// The outcome the store keeps as `code` (an unknown number is not measured).
    pub fn of_code(code: i64) -> Outcome {
        match code {
            1 => Outcome::Open,
            2 => Outcome::OpenBreached,
            3 => Outcome::Met,
            4 => Outcome::Breached,
            5 => Outcome::Held,
            _ => Outcome::NotMeasured,
        }
    }

    pub fn is_settled(self) -> bool {
        matches!(self, Outcome::Met | Outcome::Breached)
    }
}

/// One clock of one ticket, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ClockMeasure {
    pub outcome: Outcome,
    /// Business minutes of its target, and used (pauses excluded) until it stopped or now.
    pub target_minutes: u64,
    pub used_minutes: u64,
}

impl ClockMeasure {
    const NONE: ClockMeasure = ClockMeasure {
        outcome: Outcome::NotMeasured,
        target_minutes: 0,
        used_minutes: 0,
    };

    pub fn band(&self) -> u8 {
        band(self.used_minutes, self.target_minutes)
    }
}

/// The status updates a ticket owed, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UpdatesMeasure {
    /// Updates owed so far: stretches ended by a contact, and updates recorded as missed.
    pub owed: u32,
    /// Of those, recorded as missed (each is a breach on the timeline).
    pub late: u32,
    /// The longest stretch ended by a contact, in business minutes, and its cadence.
    pub longest: Option<(u64, u64)>,
    /// An update is owed now (the clock runs on an open ticket).
    pub running: bool,
}

impl UpdatesMeasure {
    /// The band of the longest stretch, when one ended.
    pub fn band(&self) -> Option<u8> {
        self.longest.map(|(used, target)| band(used, target))
    }
}

/// Everything reports need of one ticket's clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TicketMeasures {
    pub first_response: ClockMeasure,
    pub updates: UpdatesMeasure,
    pub resolution: ClockMeasure,
    /// Business minutes the resolution clock stood still (waiting on the customer, a
    /// proposal awaiting an answer, outside support).
    pub paused_minutes: u64,
    /// What happened to the ticket besides its clocks.
    pub activity: TicketActivity,
}

/// What happened to a ticket that volume reports count: escalations and how they ended,
/// proposals and the customer's consent, work outside technical support, and the time the
/// desk waited on the customer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TicketActivity {
    /// Escalations the customer asked for (or staff for them).
    pub escalations_asked: u32,
    /// Escalations the desk raised itself, on a breach of a severity that escalates. (An
    /// alert that a ticket worked continuously lies idle is not one: nobody answers it.)
    pub escalations_automatic: u32,
    /// Escalations a support manager answered.
    pub escalations_answered: u32,
    /// Escalated at least once, and of those, resolved with the customer's consent.
    pub escalated: bool,
    pub escalated_resolved: bool,
    pub proposals: u32,
    pub proposals_accepted: u32,
    pub proposals_rejected: u32,
    /// Proposals left unanswered after the last reminder (listed for the support manager).
    pub proposals_unanswered: u32,
    /// Decisions that the problem is outside technical support.
    pub outside_support: u32,
    /// Closed to go on as a professional-services request.
    pub services_requested: bool,
    /// Business minutes the resolution clock waited on the customer (for information,
    /// remote access, a test in their development environment), until the ticket closed or
    /// its last event.
    pub waiting_minutes: u64,
}

impl TicketActivity {
    /// The activity on a ticket's timeline.
    pub fn of(
        policy: &Policy,
        context: &ClockContext<'_>,
        events: &[TicketEvent],
    ) -> Result<TicketActivity, ClockError> {
        let mut activity = TicketActivity::default();
        let mut outside_support = false;
        let mut closed_outside_support = false;
        let mut accepted = false;
        let mut waited = false;
        for event in events {
            match &event.data {
                EventData::EscalationRequested { .. } if event.actor == Actor::System => {
                    activity.escalations_automatic += 1;
                }
                EventData::EscalationRequested { .. } => activity.escalations_asked += 1,
                EventData::EscalationAnswered { .. } => activity.escalations_answered += 1,
                EventData::SolutionProposed { .. } => activity.proposals += 1,
                EventData::SolutionAccepted { .. } => {
                    activity.proposals_accepted += 1;
                    accepted = true;
                }
                EventData::SolutionRejected { .. } => activity.proposals_rejected += 1,
                EventData::ConsentUnanswered { .. } => activity.proposals_unanswered += 1,
                EventData::OutsideSupport { .. } => {
                    activity.outside_support += 1;
                    outside_support = true;
                }
                EventData::OutsideSupportReversed { .. } => outside_support = false,
                EventData::WaitingOnCustomer { .. } => waited = true,
                // A ticket outside support closes only when a professional-services
                // request takes it over.
                EventData::Closed { .. } => closed_outside_support = outside_support,
                _ => {}
            }
        }
        activity.escalated = activity.escalations_asked + activity.escalations_automatic > 0;
        activity.escalated_resolved = activity.escalated && accepted;
        activity.services_requested = closed_outside_support;
        // Waiting ends with the ticket: at its closing, or as its last event left it. Only
        // a request to the customer starts it: without one, no clock needs walking.
        let until = events
            .iter()
            .find(|event| matches!(event.data, EventData::Closed { .. }))
            .or(events.last())
            .map(|event| event.at);
        if let Some(until) = until.filter(|_| waited) {
            activity.waiting_minutes = resolution_pauses(policy, context, events, until)?
                .into_iter()
                .filter(|(cause, _)| matches!(cause, PauseCause::Waiting(_)))
                .map(|(_, minutes)| minutes)
                .sum();
        }
        Ok(activity)
    }
}

impl TicketMeasures {
    /// The measures of a ticket with `events`, whose clocks (now) are `clocks`.
    pub fn of(
        policy: &Policy,
        context: &ClockContext<'_>,
        events: &[TicketEvent],
        clocks: &TicketClocks,
    ) -> Result<TicketMeasures, ClockError> {
        let breaches = |kind: ClockKind| {
            events
                .iter()
                .filter(|event| {
                    matches!(&event.data, EventData::ClockBreached { clock, .. } if *clock == kind)
                })
                .count()
        };
        let (closed_at, accepted) = closing_and_acceptance(events);
        let closed = closed_at.is_some();
        // A closed ticket is measured as it stood when it closed, whenever it is measured
        // (a note added later, a measurement of earlier tickets): its measures are final.
        let at_closing;
        let clocks = match closed_at {
            Some(at) => {
                at_closing = compute(policy, context, events, at)?;
                &at_closing
            }
            None => clocks,
        };
        let (first_response, resolution) = judge(
            clocks,
            closed,
            accepted,
            [
                breaches(ClockKind::FirstResponse) > 0,
                breaches(ClockKind::Resolution) > 0,
            ],
        );
        let resolution = match resolution {
            Some(resolution) => resolution,
            // A severity without a resolution target now (P4), after a breach of the one it
            // had: the breach stays, past any target.
            None if breaches(ClockKind::Resolution) > 0 && clocks.first_response.measured => {
                ClockMeasure {
                    outcome: if closed {
                        Outcome::Breached
                    } else {
                        Outcome::OpenBreached
                    },
                    target_minutes: 0,
                    used_minutes: 1,
                }
            }
            None => ClockMeasure::NONE,
        };
        let measured = clocks.first_response.measured;
        let updates = if measured {
            updates_owed(policy, context, events, breaches(ClockKind::NextUpdate))?
        } else {
            UpdatesMeasure::default()
        };
        Ok(TicketMeasures {
            first_response,
            updates: UpdatesMeasure {
                running: measured && !closed && clocks.next_update.is_some(),
                ..updates
            },
            resolution,
            paused_minutes: clocks
                .resolution
                .as_ref()
                .map_or(0, |clock| clock.paused_minutes),
            activity: TicketActivity::of(policy, context, events)?,
        })
    }
}

/// When a timeline's ticket closed, if it did, and whether a solution was accepted.
pub(crate) fn closing_and_acceptance(events: &[TicketEvent]) -> (Option<jiff::Timestamp>, bool) {
    let closed_at = events.iter().find_map(|event| match event.data {
        EventData::Closed { .. } => Some(event.at),
        _ => None,
    });
    let accepted = events
        .iter()
        .any(|event| matches!(event.data, EventData::SolutionAccepted { .. }));
    (closed_at, accepted)
}

/// The first-response and resolution clocks of `clocks` measured: the first response
/// settled once stopped or at closing; the resolution at closing, and met only when an
/// accepted solution stopped it (a proposal still waiting for its answer may yet be
/// rejected). `recorded` says whether a breach of each is on the timeline; none for a
/// severity without a resolution target.
pub(crate) fn judge(
    clocks: &TicketClocks,
    closed: bool,
    accepted: bool,
    recorded: [bool; 2],
) -> (ClockMeasure, Option<ClockMeasure>) {
    let first_response = {
        let clock = &clocks.first_response;
        let stopped = clock.stopped_at.is_some();
        measure(clock, recorded[0], stopped || closed, stopped)
    };
    let resolution = clocks.resolution.as_ref().map(|clock| {
        measure(
            clock,
            recorded[1],
            closed,
            accepted && clock.stopped_at.is_some(),
        )
    });
    (first_response, resolution)
}

/// One clock measured: open until `settled`, then met if it `stopped` in time, breached if
/// it ran late; a clock settled without stopping and never late measured nothing (a ticket
/// closed without an answer or a solution).
fn measure(clock: &Clock, breach_recorded: bool, settled: bool, stopped: bool) -> ClockMeasure {
    let breached = clock.measured && (breach_recorded || clock.breached);
    let outcome = match (clock.measured, settled, breached, stopped) {
        (false, ..) => Outcome::NotMeasured,
        (true, true, true, _) => Outcome::Breached,
        (true, true, false, true) => Outcome::Met,
        (true, true, false, false) => Outcome::NotMeasured,
        (true, false, true, _) => Outcome::OpenBreached,
        (true, false, false, _) if clock.stopped_at.is_some() => Outcome::Held,
        (true, false, false, _) => Outcome::Open,
    };
    ClockMeasure {
        outcome,
        target_minutes: clock.target_minutes,
        used_minutes: clock.elapsed_minutes,
    }
}

/// The status updates a timeline owed: each contact of an advisor while an update was owed
/// (measured as the clocks stood just before it) ends a stretch, late if the desk recorded a
/// missed update since the previous contact; each missed update no contact ended counts too.
fn updates_owed(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
    missed: usize,
) -> Result<UpdatesMeasure, ClockError> {
    let mut ended = 0u32;
    let mut ended_late = 0u32;
    let mut missed_since_contact = false;
    let mut longest: Option<(u64, u64)> = None;
    // The timeline folded up to the event at hand, one event at a time, instead of folded
    // again from the start for each contact.
    let mut folded = Snapshot::of(events.get(..1).unwrap_or_default());
    for (index, event) in events.iter().enumerate() {
        if let EventData::ClockBreached {
            clock: ClockKind::NextUpdate,
            ..
        } = event.data
        {
            missed_since_contact = true;
        }
        if index == 0 {
            continue;
        }
        let contact = event.data.is_advisor_contact();
        let before = if contact {
            let snapshot = folded.as_ref().ok_or(ClockError::NoCreatedEvent)?;
            Some(next_update_with(
                policy,
                context,
                snapshot,
                &events[..index],
                event.at,
            )?)
        } else {
            None
        };
        if let Some(snapshot) = &mut folded {
            snapshot.apply(event);
        }
        let Some(owed) = before else {
            continue;
        };
        let late = std::mem::take(&mut missed_since_contact);
        let Some(update) = owed else {
            continue;
        };
        ended += 1;
        if late {
            ended_late += 1;
        }
        let stretch = (update.elapsed_minutes, update.target_minutes);
        let longer = longest.is_none_or(|(used, target)| {
            // Compare shares of the cadence: u1/t1 > u2/t2 without division.
            u128::from(stretch.0) * u128::from(target.max(1))
                > u128::from(used) * u128::from(stretch.1.max(1))
        });
        if longer {
            longest = Some(stretch);
        }
    }
    let missed = u32::try_from(missed).unwrap_or(u32::MAX);
    Ok(UpdatesMeasure {
        owed: ended + missed.saturating_sub(ended_late),
        late: missed,
        longest,
        running: false,
    })
}

/// Counts of one clock over many tickets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClockTally {
    /// Settled: met or breached.
    pub measured: u64,
    pub met: u64,
    pub breached: u64,
    /// Still running, and within or past their target now.
    pub open_within: u64,
    pub open_past: u64,
    /// Settled clocks by the share of their target they used ([`band`]).
    pub bands: [u64; BANDS],
}

impl ClockTally {
    /// Adds another tally's counts.
    pub fn add(&mut self, other: &ClockTally) {
        self.measured += other.measured;
        self.met += other.met;
        self.breached += other.breached;
        self.open_within += other.open_within;
        self.open_past += other.open_past;
        for (mine, theirs) in self.bands.iter_mut().zip(other.bands) {
            *mine += theirs;
        }
    }

    /// The share of settled clocks met, in percent (`None` when none settled).
    pub fn met_percent(&self) -> Option<f64> {
        (self.measured > 0).then(|| self.met as f64 * 100.0 / self.measured as f64)
    }

    /// The business time used by the `quantile` (0.5: median) of settled clocks, as a share of
    /// their target.
    pub fn used(&self, quantile: f64) -> Option<ShareOfTarget> {
        share_at(&self.bands, quantile)
    }
}

/// One clock over many tickets, as a report shows it: the counts, the share met, and the
/// business time used by the median and the 90th percentile of settled clocks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClockSummary {
    /// Settled: met or breached (for status updates, the updates owed so far).
    pub measured: u64,
    pub met: u64,
    pub breached: u64,
    /// Still running, within or past their target now.
    pub open_within: u64,
    pub open_past: u64,
    /// Met out of measured, in percent (none when nothing settled).
    pub met_percent: Option<f64>,
    /// Business time used against the target (for status updates, each ticket's longest
    /// stretch between two updates against its cadence).
    pub median_used: Option<ShareOfTarget>,
    pub p90_used: Option<ShareOfTarget>,
    /// Settled clocks per band of time used: ten of 10% up to the target, up to twice, beyond.
    pub bands: Vec<u64>,
}

impl From<&ClockTally> for ClockSummary {
    fn from(tally: &ClockTally) -> Self {
        ClockSummary {
            measured: tally.measured,
            met: tally.met,
            breached: tally.breached,
            open_within: tally.open_within,
            open_past: tally.open_past,
            met_percent: tally
                .met_percent()
                .map(|percent| (percent * 10.0).round() / 10.0),
            median_used: tally.used(0.5),
            p90_used: tally.used(0.9),
            bands: tally.bands.to_vec(),
        }
    }
}

/// Business time used as a share of the target, read from bands: the percent is interpolated
/// within its band, or only known to be over twice the target.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "percent", rename_all = "snake_case")]
pub enum ShareOfTarget {
    About(u32),
    OverTwice,
}

impl std::fmt::Display for ShareOfTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShareOfTarget::About(percent) => write!(f, "{percent}%"),
            ShareOfTarget::OverTwice => write!(f, ">200%"),
        }
    }
}

/// The `quantile` of a distribution kept in bands, interpolated linearly inside its band: as
/// precise as a band is wide (10% of the target up to the target, then 100%).
pub fn share_at(bands: &[u64; BANDS], quantile: f64) -> Option<ShareOfTarget> {
    let total: u64 = bands.iter().sum();
    if total == 0 {
        return None;
    }
    // The rank of the wanted clock, counted from 1.
    let rank = (quantile.clamp(0.0, 1.0) * total as f64).ceil().max(1.0);
    let mut below = 0u64;
    for (index, count) in bands.iter().enumerate() {
        if *count == 0 {
            continue;
        }
        if (below + count) as f64 >= rank {
            let (low, high) = match index {
                0..=9 => (index as f64 * 10.0, (index + 1) as f64 * 10.0),
                10 => (100.0, 200.0),
                _ => return Some(ShareOfTarget::OverTwice),
            };
            // The clocks of a band are taken as spread evenly across it, each at the middle
            // of its share.
            let within = (rank - below as f64 - 0.5) / *count as f64;
            let percent = low + (high - low) * within;
            return Some(ShareOfTarget::About(percent.round() as u32));
        }
        below += count;
    }
    Some(ShareOfTarget::OverTwice)
}

/// The month an instant falls in (UTC) as `yyyymm`: what reports count a ticket under.
pub fn month_of(at: jiff::Timestamp) -> i64 {
    let date = jiff::tz::TimeZone::UTC.to_datetime(at).date();
    i64::from(date.year()) * 100 + i64::from(date.month())
}

/// The periods a volume report counts tickets in: weeks (from Monday, UTC) or months.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    Week,
    #[default]
    Month,
}

impl Span {
    pub fn name(self) -> &'static str {
        match self {
            Span::Week => "week",
            Span::Month => "month",
        }
    }

    pub fn parse(name: &str) -> Option<Span> {
        [Span::Week, Span::Month]
            .into_iter()
            .find(|span| span.name() == name)
    }

    /// The first day of the period `date` falls in.
    pub fn start_of(self, date: jiff::civil::Date) -> jiff::civil::Date {
        match self {
            Span::Week => {
                let back = i64::from(date.weekday().to_monday_zero_offset());
                date.checked_sub(jiff::Span::new().days(back))
                    .unwrap_or(date)
            }
            Span::Month => date.first_of_month(),
        }
    }

    /// How a report names the period starting on `start`: a week by its Monday
    /// (`2026-11-30`), a month as `2026-11`.
    pub fn label(self, start: jiff::civil::Date) -> String {
        match self {
            Span::Week => start.to_string(),
            Span::Month => format!("{:04}-{:02}", start.year(), start.month()),
        }
    }

    /// The last day of the period `date` falls in.
    pub fn end_of(self, date: jiff::civil::Date) -> jiff::civil::Date {
        match self {
            Span::Week => {
                let ahead = 6 - i64::from(date.weekday().to_monday_zero_offset());
                date.checked_add(jiff::Span::new().days(ahead))
                    .unwrap_or(date)
            }
            Span::Month => date.last_of_month(),
        }
    }
}

/// What a report can be broken down by (and filtered on).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The month the ticket was opened (UTC), as `2026-11`.
    Month,
    Program,
    Severity,
    Region,
    Channel,
    ProductLine,
    Language,
    /// The advisor the ticket is assigned to (at its closing, for a closed ticket).
    Advisor,
    Customer,
}

impl Dimension {
    pub const ALL: [Dimension; 9] = [
        Dimension::Month,
        Dimension::Program,
        Dimension::Severity,
        Dimension::Region,
        Dimension::Channel,
        Dimension::ProductLine,
        Dimension::Language,
        Dimension::Advisor,
        Dimension::Customer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dimension::Month => "month",
            Dimension::Program => "program",
            Dimension::Severity => "severity",
            Dimension::Region => "region",
            Dimension::Channel => "channel",
            Dimension::ProductLine => "product_line",
            Dimension::Language => "language",
            Dimension::Advisor => "advisor",
            Dimension::Customer => "customer",
        }
    }

    pub fn parse(name: &str) -> Option<Dimension> {
        Dimension::ALL
            .into_iter()
            .find(|dimension| dimension.name() == name.trim())
    }

    /// The dimensions of a comma-separated list (`program,severity`), each once, in order.
    pub fn list(text: &str) -> Result<Vec<Dimension>, String> {
        let mut dimensions = Vec::new();
        for name in text
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            let dimension = Dimension::parse(name).ok_or_else(|| {
                format!(
                    "\"{name}\" is not something a report can be broken down by; use {}",
                    Dimension::ALL.map(Dimension::name).join(", ")
                )
            })?;
            if dimensions.contains(&dimension) {
                return Err(format!("\"{name}\" is given twice"));
            }
            dimensions.push(dimension);
        }
        Ok(dimensions)
    }
}

/// Which tickets a report counts, besides the period they were opened in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReportFilter {
    pub program: Option<String>,
    pub severity: Option<String>,
    pub region: Option<String>,
    pub channel: Option<String>,
    pub product_line: Option<String>,
    pub language: Option<String>,
    pub advisor: Option<i64>,
    pub customer: Option<i64>,
}

/// One line of a compliance report: the tickets of one group (one value of each dimension
/// the report is broken down by) and how each clock fared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ComplianceRow {
    /// One value per dimension, in the report's order (a month as `2026-11`, an advisor or
    /// a customer by id, `none` for a ticket nobody is assigned).
    pub group: Vec<String>,
    /// Tickets opened in the period.
    pub tickets: u64,
    pub first_response: ClockTally,
    /// Counted per update owed; the band is each ticket's longest stretch between updates.
    pub updates: ClockTally,
    pub resolution: ClockTally,
    /// Business minutes resolution clocks stood still (waiting on the customer, a proposal
    /// awaiting an answer, outside support).
    pub paused_minutes: u64,
    pub activity: ActivityTally,
}

impl ComplianceRow {
    pub fn add(&mut self, other: &ComplianceRow) {
        self.tickets += other.tickets;
        self.first_response.add(&other.first_response);
        self.updates.add(&other.updates);
        self.resolution.add(&other.resolution);
        self.paused_minutes += other.paused_minutes;
        self.activity.add(&other.activity);
    }
}

/// The activity of many tickets ([`TicketActivity`] added up).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ActivityTally {
    /// Tickets closed so far.
    pub closed: u64,
    pub escalations_asked: u64,
    pub escalations_automatic: u64,
    pub escalations_answered: u64,
    /// Tickets escalated at least once; of those, resolved with the customer's consent, and
    /// still open (the rest closed otherwise).
    pub escalated: u64,
    pub escalated_resolved: u64,
    pub escalated_open: u64,
    pub proposals: u64,
    pub proposals_accepted: u64,
    pub proposals_rejected: u64,
    /// Left unanswered after the last reminder.
    pub proposals_unanswered: u64,
    /// Decisions that a problem is outside technical support.
    pub outside_support: u64,
    /// Tickets that went on as professional-services requests.
    pub services_requested: u64,
    /// Business minutes resolution clocks waited on the customer.
    pub waiting_minutes: u64,
}

impl ActivityTally {
    /// The tally of one ticket, closed or not.
    pub fn of(activity: &TicketActivity, closed: bool) -> ActivityTally {
        ActivityTally {
            closed: u64::from(closed),
            escalations_asked: u64::from(activity.escalations_asked),
            escalations_automatic: u64::from(activity.escalations_automatic),
            escalations_answered: u64::from(activity.escalations_answered),
            escalated: u64::from(activity.escalated),
            escalated_resolved: u64::from(activity.escalated_resolved),
            escalated_open: u64::from(activity.escalated && !closed),
            proposals: u64::from(activity.proposals),
            proposals_accepted: u64::from(activity.proposals_accepted),
            proposals_rejected: u64::from(activity.proposals_rejected),
            proposals_unanswered: u64::from(activity.proposals_unanswered),
            outside_support: u64::from(activity.outside_support),
            services_requested: u64::from(activity.services_requested),
            waiting_minutes: activity.waiting_minutes,
        }
    }

    pub fn add(&mut self, other: &ActivityTally) {
        let ActivityTally {
            closed,
            escalations_asked,
            escalations_automatic,
            escalations_answered,
            escalated,
            escalated_resolved,
            escalated_open,
            proposals,
            proposals_accepted,
            proposals_rejected,
            proposals_unanswered,
            outside_support,
            services_requested,
            waiting_minutes,
        } = other;
        self.closed += closed;
        self.escalations_asked += escalations_asked;
        self.escalations_automatic += escalations_automatic;
        self.escalations_answered += escalations_answered;
        self.escalated += escalated;
        self.escalated_resolved += escalated_resolved;
        self.escalated_open += escalated_open;
        self.proposals += proposals;
        self.proposals_accepted += proposals_accepted;
        self.proposals_rejected += proposals_rejected;
        self.proposals_unanswered += proposals_unanswered;
        self.outside_support += outside_support;
        self.services_requested += services_requested;
        self.waiting_minutes += waiting_minutes;
    }
}

/// Adds rows of the same group together, keeping the groups in order.
pub fn merge_rows(rows: impl IntoIterator<Item = ComplianceRow>) -> Vec<ComplianceRow> {
    let mut merged: std::collections::BTreeMap<Vec<String>, ComplianceRow> = Default::default();
    for row in rows {
        merged
            .entry(row.group.clone())
            .or_insert_with(|| ComplianceRow {
                group: row.group.clone(),
                ..ComplianceRow::default()
            })
            .add(&row);
    }
    merged.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_band_says_whether_the_target_was_kept() {
        assert_eq!(band(0, 120), 0);
        assert_eq!(band(12, 120), 0);
        assert_eq!(band(13, 120), 1);
        assert_eq!(band(120, 120), 9);
        assert_eq!(band(121, 120), 10);
        assert_eq!(band(240, 120), 10);
        assert_eq!(band(241, 120), 11);
        assert_eq!(band(0, 0), 0);
        assert_eq!(band(1, 0), 11);
        // Exactly: within the target is bands 0 to 9, whatever the target.
        for target in 1..200u64 {
            for used in 0..400u64 {
                assert_eq!(band(used, target) <= 9, used <= target, "{used}/{target}");
            }
        }
    }

    #[test]
    fn the_median_is_read_inside_its_band() {
        let mut bands = [0u64; BANDS];
        assert_eq!(share_at(&bands, 0.5), None);
        bands[4] = 10; // 40–50%
        assert_eq!(share_at(&bands, 0.5), Some(ShareOfTarget::About(45)));
        assert_eq!(share_at(&bands, 1.0), Some(ShareOfTarget::About(50)));
        bands[11] = 10;
        assert_eq!(share_at(&bands, 0.5), Some(ShareOfTarget::About(50)));
        assert_eq!(share_at(&bands, 0.9), Some(ShareOfTarget::OverTwice));
        let mut late = [0u64; BANDS];
        late[10] = 4;
        assert_eq!(share_at(&late, 0.5), Some(ShareOfTarget::About(138)));
        let mut one = [0u64; BANDS];
        one[1] = 1;
        assert_eq!(share_at(&one, 0.5), Some(ShareOfTarget::About(15)));
    }

    #[test]
    fn a_span_runs_from_monday_or_the_first_of_the_month() {
        let date = |text: &str| text.parse::<jiff::civil::Date>().unwrap();
        // Thursday 3 December 2026.
        assert_eq!(Span::Week.start_of(date("2026-12-03")), date("2026-11-30"));
        assert_eq!(Span::Week.end_of(date("2026-12-03")), date("2026-12-06"));
        assert_eq!(Span::Week.start_of(date("2026-11-30")), date("2026-11-30"));
        assert_eq!(Span::Week.end_of(date("2026-12-06")), date("2026-12-06"));
        assert_eq!(Span::Month.start_of(date("2026-02-17")), date("2026-02-01"));
        assert_eq!(Span::Month.end_of(date("2028-02-17")), date("2028-02-29"));
        assert_eq!(Span::parse("week"), Some(Span::Week));
        assert_eq!(Span::parse("year"), None);
        assert_eq!(Span::Week.label(date("2026-11-30")), "2026-11-30");
        assert_eq!(Span::Month.label(date("2026-02-01")), "2026-02");
    }

    #[test]
    fn outcomes_keep_distinct_codes() {
        let codes: std::collections::BTreeSet<i64> = [
            Outcome::NotMeasured,
            Outcome::Open,
            Outcome::OpenBreached,
            Outcome::Met,
            Outcome::Breached,
            Outcome::Held,
        ]
        .map(Outcome::code)
        .into_iter()
        .collect();
        assert_eq!(codes.len(), 6);
    }
}
