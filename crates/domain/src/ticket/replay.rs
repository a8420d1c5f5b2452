//! What-if replay: a ticket's real timeline timed again under other terms (another program,
//! another policy), with the engine of the live clocks ([`compute`]), writing nothing.
//!
//! Replay judges a clock by its computation alone, under the actual terms as under the
//! alternative ones: a clock is breached if it ran past its due time, whatever breach events
//! the timeline records (those were recorded under the terms of the day), so the two sides
//! are compared on the same footing. A closed ticket is timed as it stood when it closed, an
//! open one as it stands at `now`. Only the clocks are timed again: the events themselves
//! (escalations on a breach, reminders) are the real ones.

use jiff::Timestamp;
use serde::Serialize;

use super::TicketEvent;
use super::clocks::{Clock, ClockContext, ClockError, compute};
use super::events::EventData;
use crate::policy::Policy;
use crate::report::{ClockMeasure, Outcome, closing_and_acceptance, judge};

/// The terms a ticket is timed under: a policy, and the program the ticket is under.
#[derive(Clone, Copy, Debug)]
pub struct Terms<'a> {
    pub policy: &'a Policy,
    pub program: &'a str,
}

/// A ticket as replay reads it: where it belongs besides its program, and its timeline.
#[derive(Clone, Copy, Debug)]
pub struct Timeline<'a> {
    pub region: &'a str,
    pub product_line: &'a str,
    pub events: &'a [TicketEvent],
}

/// One ticket's clocks under one set of terms.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// The calendar its clocks run on under these terms.
    pub calendar: String,
    pub first_response: ClockTiming,
    pub resolution: ClockTiming,
    pub updates: UpdatesTiming,
}

/// One clock under one set of terms.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ClockTiming {
    pub outcome: Outcome,
    /// When it was due (none while paused, or without a target).
    pub due_at: Option<Timestamp>,
    /// Business minutes of its target, and used until it stopped, the ticket closed, or now.
    pub target_minutes: u64,
    pub used_minutes: u64,
}

/// The status updates a ticket owed under one set of terms.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UpdatesTiming {
    /// Stretches between an advisor's contacts while an update was owed.
    pub owed: u32,
    /// Of those, ended after the cadence had run out.
    pub late: u32,
}

/// A ticket's clocks under the actual terms and under the alternative ones.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Replay {
    pub actual: Timing,
    pub alternative: Timing,
}

/// The ticket of `timeline` timed under `actual` and under `alternative` terms, as it stood
/// when it closed or, still open, at `now`.
pub fn replay(
    actual: Terms<'_>,
    alternative: Terms<'_>,
    timeline: Timeline<'_>,
    now: Timestamp,
) -> Result<Replay, ClockError> {
    Ok(Replay {
        actual: time(actual, timeline, now)?,
        alternative: time(alternative, timeline, now)?,
    })
}

/// The ticket of `timeline` timed under `terms`.
pub fn time(
    terms: Terms<'_>,
    timeline: Timeline<'_>,
    now: Timestamp,
) -> Result<Timing, ClockError> {
    let context = ClockContext {
        program: terms.program,
        region: timeline.region,
        product_line: timeline.product_line,
    };
    let events = timeline.events;
    let (closed_at, accepted) = closing_and_acceptance(events);
    let end = closed_at.unwrap_or(now);
    let clocks = compute(terms.policy, &context, events, end)?;
    // Judged as reports judge them, but by the computation alone: no recorded breach.
    let (first_response, resolution) =
        judge(&clocks, closed_at.is_some(), accepted, [false, false]);
    let first_response = timing(&clocks.first_response, first_response);
    let resolution = match (&clocks.resolution, resolution) {
        (Some(clock), Some(measured)) => timing(clock, measured),
        _ => ClockTiming {
            outcome: Outcome::NotMeasured,
            due_at: None,
            target_minutes: 0,
            used_minutes: 0,
        },
    };
    Ok(Timing {
        calendar: clocks.calendar.clone(),
        first_response,
        resolution,
        updates: updates(terms.policy, &context, events, end)?,
    })
}

fn timing(clock: &Clock, measured: ClockMeasure) -> ClockTiming {
    ClockTiming {
        outcome: measured.outcome,
        due_at: clock.due_at,
        target_minutes: measured.target_minutes,
        used_minutes: measured.used_minutes,
    }
}

/// Each contact of an advisor while an update was owed ends a stretch, late if the update
/// clock had run past its cadence just before it; and, as reports count it, an update
/// already overdue at `end` (the closing, or now) that no contact ended is owed and late.
fn updates(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
    end: Timestamp,
) -> Result<UpdatesTiming, ClockError> {
    let mut timing = UpdatesTiming::default();
    let mut count = |before: &[TicketEvent], at: Timestamp, ended: bool| {
        let clocks = compute(policy, context, before, at)?;
        if let Some(update) = clocks.next_update.filter(|update| update.measured)
            && (ended || update.breached)
        {
            timing.owed += 1;
            timing.late += u32::from(update.breached);
        }
        Ok::<(), ClockError>(())
    };
    let closing = events
        .iter()
        .position(|event| matches!(event.data, EventData::Closed { .. }))
        .unwrap_or(events.len());
    for (index, event) in events.iter().enumerate().take(closing).skip(1) {
        if event.data.is_advisor_contact() {
            count(&events[..index], event.at, true)?;
        }
    }
    // The stretch running at the end, as the clocks stood just before any closing.
    count(&events[..closing], end, false)?;
    Ok(timing)
}

/// Replays added up per clock and severity: how many clocks were settled and met under each
/// set of terms, and the breaches the alternative would have avoided or added.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub tickets: u64,
    /// Per clock (first response, status updates, resolution), then per severity.
    pub lines: Vec<SummaryLine>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SummaryLine {
    /// `first_response`, `updates` or `resolution`.
    pub clock: &'static str,
    pub severity: String,
    pub actual: Kept,
    pub alternative: Kept,
    /// Breached under the actual terms, not under the alternative ones (updates: late
    /// stretches fewer).
    pub breaches_avoided: u64,
    /// Not breached under the actual terms, breached under the alternative ones.
    pub breaches_added: u64,
}

/// Clocks settled (met or breached: status updates owed) and, of those, met.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Kept {
    pub settled: u64,
    pub met: u64,
}

impl Kept {
    /// The share met, in percent (none when nothing settled).
    pub fn met_percent(&self) -> Option<f64> {
        (self.settled > 0).then(|| self.met as f64 * 100.0 / self.settled as f64)
    }

    fn add(&mut self, outcome: Outcome) {
        if outcome.is_settled() {
            self.settled += 1;
            self.met += u64::from(outcome == Outcome::Met);
        }
    }
}

const CLOCKS: [&str; 3] = ["first_response", "updates", "resolution"];

impl Summary {
    /// Adds the replay of a ticket of `severity` (its severity now, or at closing).
    pub fn add(&mut self, severity: &str, replay: &Replay) {
        self.tickets += 1;
        let breached =
            |outcome: Outcome| matches!(outcome, Outcome::Breached | Outcome::OpenBreached);
        for clock in CLOCKS {
            let index = match self.lines.binary_search_by(|line| {
                (clock_rank(line.clock), line.severity.as_str()).cmp(&(clock_rank(clock), severity))
            }) {
                Ok(index) => index,
                Err(index) => {
                    self.lines.insert(
                        index,
                        SummaryLine {
                            clock,
                            severity: severity.to_string(),
                            actual: Kept::default(),
                            alternative: Kept::default(),
                            breaches_avoided: 0,
                            breaches_added: 0,
                        },
                    );
                    index
                }
            };
            let line = &mut self.lines[index];
            let (actual, alternative) = (&replay.actual, &replay.alternative);
            if clock == "updates" {
                for (kept, updates) in [
                    (&mut line.actual, actual.updates),
                    (&mut line.alternative, alternative.updates),
                ] {
                    kept.settled += u64::from(updates.owed);
                    kept.met += u64::from(updates.owed - updates.late.min(updates.owed));
                }
                line.breaches_avoided +=
                    u64::from(actual.updates.late.saturating_sub(alternative.updates.late));
                line.breaches_added +=
                    u64::from(alternative.updates.late.saturating_sub(actual.updates.late));
                continue;
            }
            let outcomes = |timing: &Timing| match clock {
                "first_response" => timing.first_response.outcome,
                _ => timing.resolution.outcome,
            };
            let (before, after) = (outcomes(actual), outcomes(alternative));
            line.actual.add(before);
            line.alternative.add(after);
            line.breaches_avoided += u64::from(breached(before) && !breached(after));
            line.breaches_added += u64::from(!breached(before) && breached(after));
        }
    }
}

fn clock_rank(clock: &str) -> usize {
    CLOCKS
        .iter()
        .position(|known| *known == clock)
        .unwrap_or(CLOCKS.len())
}
