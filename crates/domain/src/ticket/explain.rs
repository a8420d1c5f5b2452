//! "Why does this ticket look like this?": every rule of the policy that applied to one
//! ticket, with its reason, read back from the timeline (what intake decided is recorded
//! there) and the policy (what the clocks run on), and each clock with the engine's
//! step-by-step account of its due time.

use jiff::Timestamp;
use serde::Serialize;

use super::clocks::{self, ClockContext, ClockError};
use super::events::{Actor, EventData, TicketEvent};
use super::{Snapshot, TicketState};
use crate::intake::IntakeFlag;
use crate::policy::Policy;
use crate::ticket::clocks::{Clock, ClockStatus};

/// Why a clock waits while it is paused (POLICY.md §6, §8).
const WAITING_REASON: &str = "waiting on the customer, or on the answer to a proposed solution";

/// Everything that applied to one ticket, in the order a reader asks about it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TicketExplanation {
    /// When the explanation was made: clocks are as of this instant.
    pub as_of: Timestamp,
    pub state: TicketState,
    pub severity: String,
    pub rules: Vec<AppliedRule>,
    pub clocks: Vec<ClockExplanation>,
}

/// One rule and what it decided for this ticket.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppliedRule {
    /// program, calendar, coverage, language, advisor, flag, severity, targets,
    /// escalation, consent.
    pub topic: &'static str,
    pub decision: String,
    pub reason: String,
    /// When it was decided, for what the timeline records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

/// One clock as of `as_of`, and how its due time was found.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClockExplanation {
    pub clock: Clock,
    /// The engine's account, a line each: every open span counted, every closure (night,
    /// weekend, holiday) and pause skipped, then the due instant, in the calendar's zone.
    pub steps: Vec<String>,
}

/// Explains a ticket at `now`: the rules from its timeline and the policy, and its clocks.
pub fn explain_ticket(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
    now: Timestamp,
) -> Result<TicketExplanation, ClockError> {
    let snapshot = Snapshot::of(events).ok_or(ClockError::NoCreatedEvent)?;
    let mut rules = Vec::new();
    intake_rules(policy, context, events, &snapshot, &mut rules);
    calendar_and_targets(policy, context, &snapshot, &mut rules)?;
    timeline_rules(policy, events, &snapshot, &mut rules);
    let clocks = clocks::explain(policy, context, events, now)?
        .into_iter()
        .map(|account| {
            let mut steps: Vec<String> = account
                .explanation
                .to_string()
                .lines()
                .map(str::to_string)
                .collect();
            // The account runs as if the clock went on now; while it waits, it does not.
            if account.clock.status == ClockStatus::Paused {
                steps.push(format!(
                    "paused now ({}): the due time moves on by the length of the pause once the clock resumes",
                    WAITING_REASON
                ));
            }
            ClockExplanation {
                clock: account.clock,
                steps,
            }
        })
        .collect();
    Ok(TicketExplanation {
        as_of: now,
        state: snapshot.state,
        severity: snapshot.severity,
        rules,
        clocks,
    })
}

fn rule(
    topic: &'static str,
    decision: String,
    reason: String,
    at: Option<Timestamp>,
) -> AppliedRule {
    AppliedRule {
        topic,
        decision,
        reason,
        at,
    }
}

/// What intake decided: program and cover, coverage window, language, and its flags as
/// they stand now.
fn intake_rules(
    policy: &Policy,
    context: &ClockContext<'_>,
    events: &[TicketEvent],
    snapshot: &Snapshot,
    rules: &mut Vec<AppliedRule>,
) {
    let checked = events.iter().find_map(|event| match &event.data {
        EventData::IntakeChecked {
            program,
            flags,
            language,
            coverage,
            ..
        } => Some((event.at, program, flags, language, coverage)),
        _ => None,
    });
    let Some((at, program, flags, language, coverage)) = checked else {
        rules.push(rule(
            "program",
            format!("worked under {}", context.program),
            "the ticket predates the intake checks, or was imported: no intake record".into(),
            None,
        ));
        return;
    };
    let not_covered = flags.iter().find_map(|flag| match flag {
        IntakeFlag::NotCovered { reason, remedy } => Some(format!("{reason}; {remedy}")),
        _ => None,
    });
    let placement = match policy.program(program) {
        Ok(found) if found.priority_queue => "placed ahead of standard tickets in the queue",
        Ok(_) => "normal queue placement",
        Err(_) => "a program the current policy no longer has",
    };
    rules.push(rule(
        "program",
        format!("worked under {program}"),
        match not_covered {
            Some(reason) => format!(
                "not covered ({reason}): the policy's intake.uncovered_program applies; {placement}"
            ),
            None => format!("the customer's valid {program} care contract; {placement}"),
        },
        Some(at),
    ));
    rules.push(rule(
        "coverage",
        format!("clocks start {}", coverage.clocks_start_at),
        coverage.notice.clone(),
        Some(at),
    ));
    rules.push(rule(
        "language",
        format!("handled in {}", language.language),
        language.reason.clone(),
        Some(at),
    ));
    // Flags as they stand: supplied details have shortened or cleared "incomplete".
    let current = &snapshot.flags;
    for flag in current {
        let (decision, reason) = match flag {
            IntakeFlag::NotCovered { reason, remedy } => {
                ("not covered".to_string(), format!("{reason}; {remedy}"))
            }
            IntakeFlag::SerialNotRegistered { serial, reason } => {
                (format!("serial {serial} not registered"), reason.clone())
            }
            IntakeFlag::OutsideSupportScope {
                version,
                supported,
                reason,
            } => (
                format!(
                    "version {version} outside support scope (supported: {})",
                    supported.join(", ")
                ),
                reason.clone(),
            ),
            IntakeFlag::Incomplete { missing } => (
                format!("incomplete: {}", missing.join(", ")),
                "the policy's intake.required names these; the advisor asks the customer for them"
                    .to_string(),
            ),
            IntakeFlag::ScopeNotChecked {
                product_line,
                version,
                reason,
            } => (
                format!("support scope of {product_line} {version} not checked"),
                reason.clone(),
            ),
            IntakeFlag::UpdateRequest {
                serial,
                installed,
                requested,
            } => (
                format!("update request: {requested} for {serial} (runs {installed})"),
                if policy.activation.update_requests_breach {
                    "the line has no online update manager; the policy measures the request like any ticket"
                } else {
                    "the line has no online update manager; the policy's activation.update_requests_breach is false: its due times guide the advisor, it never breaches"
                }
                .to_string(),
            ),
        };
        rules.push(rule("flag", decision, reason, Some(at)));
    }
    // Intake found gaps that were all supplied since: say when.
    let completed_at = completion_of_details(events);
    let was_missing = flags.iter().find_map(|flag| match flag {
        IntakeFlag::Incomplete { missing } => Some(missing),
        _ => None,
    });
    let still_incomplete = current
        .iter()
        .any(|flag| matches!(flag, IntakeFlag::Incomplete { .. }));
    if let (Some(completed_at), Some(missing), false) =
        (completed_at, was_missing, still_incomplete)
    {
        rules.push(rule(
            "flag",
            "no longer incomplete".into(),
            format!("{} supplied after intake", missing.join(", ")),
            Some(completed_at),
        ));
    }
}

/// When the last missing detail was supplied: the event after which the timeline no longer
/// shows the ticket incomplete.
fn completion_of_details(events: &[TicketEvent]) -> Option<Timestamp> {
    let incomplete = |snapshot: &Snapshot| {
        snapshot
            .flags
            .iter()
            .any(|flag| matches!(flag, IntakeFlag::Incomplete { .. }))
    };
    let (first, rest) = events.split_first()?;
    let mut snapshot = Snapshot::of(std::slice::from_ref(first))?;
    let mut completed = None;
    for event in rest {
        let was = incomplete(&snapshot);
        snapshot.apply(event);
        if was && !incomplete(&snapshot) {
            completed = Some(event.at);
        }
    }
    completed
}

/// The calendar the clocks run on now and the targets they measure, both of the ticket's
/// current severity.
fn calendar_and_targets(
    policy: &Policy,
    context: &ClockContext<'_>,
    snapshot: &Snapshot,
    rules: &mut Vec<AppliedRule>,
) -> Result<(), ClockError> {
    let choice = policy.calendar_for(&context.profile(snapshot))?;
    let region = policy.region(context.region)?;
    rules.push(rule(
        "calendar",
        format!("{} ({})", choice.calendar.name(), choice.calendar.title()),
        match choice.rule {
            Some(coverage) => format!(
                "coverage rule \"{}\" matches {} {} on {} and names this calendar",
                coverage.name, context.program, snapshot.severity, context.product_line
            ),
            None => format!(
                "no coverage rule matches {} {} on {}: the {} office's own calendar",
                context.program, snapshot.severity, context.product_line, region.office
            ),
        },
        None,
    ));
    let severity = policy.severity(&snapshot.severity)?;
    let channel = policy.channel(&snapshot.channel)?;
    let mut targets = vec![format!(
        "first response within {} ({} channel)",
        channel.first_response, channel.name
    )];
    match (&snapshot.agreed_update_every, severity.update_every) {
        (Some(agreed), _) if severity.update_negotiable => targets.push(format!(
            "a status update every {} (agreed on the ticket)",
            agreed
                .parse::<crate::duration::BusinessDuration>()
                .map_or_else(|_| agreed.clone(), |every| every.to_string())
        )),
        (_, Some(every)) => targets.push(format!("a status update every {every}")),
        (_, None) => targets.push("no status-update cadence".into()),
    }
    match severity.resolution {
        Some(resolution) => targets.push(format!("resolution within {resolution}")),
        None => targets.push(format!(
            "no resolution target{}",
            severity
                .resolution_note
                .as_deref()
                .map(|note| format!(" ({note})"))
                .unwrap_or_default()
        )),
    }
    let measured = if super::clocks::is_measured(policy, snapshot) {
        "measured in open time of the calendar above, from the ticket's start"
    } else {
        "an update request, which the policy does not measure (activation.update_requests_breach is false): the due times, in open time of the calendar above, guide the advisor; nothing turns at risk or breaches"
    };
    rules.push(rule(
        "targets",
        targets.join("; "),
        format!("{} ({}); {measured}", severity.name, severity.meaning),
        None,
    ));
    Ok(())
}

/// What later events decided: assignments, severity changes and requests, escalations,
/// consent reminders.
fn timeline_rules(
    policy: &Policy,
    events: &[TicketEvent],
    snapshot: &Snapshot,
    rules: &mut Vec<AppliedRule>,
) {
    let by = |actor: &Actor| match actor {
        Actor::Staff { id, role } => format!("by {} {id}", role.as_str()),
        Actor::Contact { id } => format!("by customer contact {id}"),
        Actor::System => "by the desk itself".to_string(),
    };
    // The severity in force at each event, for what was decided by it.
    let mut severity_then = match events.first().map(|event| &event.data) {
        Some(EventData::Created { severity, .. }) => severity.clone(),
        _ => snapshot.severity.clone(),
    };
    for event in events {
        let at = Some(event.at);
        if let EventData::SeverityChanged { to, .. } = &event.data {
            severity_then = to.clone();
        }
        match &event.data {
            EventData::Assigned {
                advisor,
                reason,
                overridden,
            } => rules.push(rule(
                "advisor",
                match advisor {
                    Some(id) => format!("assigned to advisor {id}"),
                    None => "unassigned".into(),
                },
                match (reason, overridden) {
                    (Some(reason), Some(misfit)) => format!(
                        "a manager's override: {misfit}; assigned anyway because {reason} ({})",
                        by(&event.actor)
                    ),
                    (Some(reason), None) => format!("{reason} ({})", by(&event.actor)),
                    (None, _) => by(&event.actor),
                },
                at,
            )),
            EventData::SeverityChanged { from, to, reason } => rules.push(rule(
                "severity",
                format!("{from} → {to}"),
                format!(
                    "{reason} ({}); the clocks take {to}'s targets, counted from the ticket's start",
                    by(&event.actor)
                ),
                at,
            )),
            EventData::UpdateCadenceAgreed { every, note } => rules.push(rule(
                "targets",
                match every {
                    Some(every) => format!("status updates every {every}, as agreed"),
                    None => "back to the severity's own status-update cadence".into(),
                },
                format!("{note} ({})", by(&event.actor)),
                at,
            )),
            EventData::WorkLapsed { since, reason } => rules.push(rule(
                "escalation",
                "escalated to the support manager, notified at once".into(),
                format!(
                    "{reason} (since {since}; the policy's idle_alert_after for {severity_then}); the customer does not see this alert"
                ),
                at,
            )),
            EventData::OutsideSupport { exclusion, note } => rules.push(rule(
                "exclusion",
                format!(
                    "outside technical support: {}",
                    policy
                        .exclusions
                        .get(exclusion)
                        .map_or(exclusion.as_str(), |known| known.title.as_str())
                ),
                format!(
                    "{note} ({}); the clocks stand still and the customer is offered professional services (POLICY.md §8a)",
                    by(&event.actor)
                ),
                at,
            )),
            EventData::OutsideSupportReversed { reason } => rules.push(rule(
                "exclusion",
                "reversed: worked as a support ticket again".into(),
                format!(
                    "{reason} ({}); the clocks run on from where they stood",
                    by(&event.actor)
                ),
                at,
            )),
            EventData::ShiftChanged {
                after_hours,
                language,
                reason,
            } => rules.push(rule(
                "language",
                if *after_hours {
                    format!("after the office's hours: worked in {language} by whoever is on call")
                } else {
                    format!("the office's hours again: worked in {language} by its advisor")
                },
                reason.clone(),
                at,
            )),
            EventData::SeverityChangeRequested { to, reason } => rules.push(rule(
                "severity",
                format!("customer asked for {to}"),
                reason.clone(),
                at,
            )),
            EventData::SeverityChangeDeclined { to, reason } => rules.push(rule(
                "severity",
                format!("request for {to} declined"),
                format!("{reason} ({})", by(&event.actor)),
                at,
            )),
            EventData::EscalationRequested { reason } => rules.push(rule(
                "escalation",
                "escalated to the support manager, notified at once".into(),
                match event.actor {
                    // The desk's own: a breach that escalates, or nobody working a ticket
                    // worked continuously; its reason says which.
                    Actor::System => format!(
                        "{reason} (the policy, for {severity_then}); the support managers are mailed whatever the hour"
                    ),
                    _ => format!(
                        "{reason} ({}); the support managers are mailed whatever the hour",
                        by(&event.actor)
                    ),
                },
                at,
            )),
            EventData::EscalationAnswered { answer } => rules.push(rule(
                "escalation",
                "answered".into(),
                format!("{answer} ({})", by(&event.actor)),
                at,
            )),
            EventData::ConsentReminder { number } => rules.push(rule(
                "consent",
                format!("reminder {number} of {}", policy.consent.reminders),
                format!(
                    "a proposed solution waits for the customer's consent; the policy reminds every {}",
                    policy.consent.reminder_every
                ),
                at,
            )),
            EventData::ConsentUnanswered { reminders } => rules.push(rule(
                "consent",
                "listed for the support manager, still open".into(),
                format!(
                    "no answer after {reminders} reminders; a ticket is never closed without consent"
                ),
                at,
            )),
            EventData::Closed { reason } => {
                rules.push(rule("consent", "closed".into(), reason.clone(), at))
            }
            EventData::ReleasePublished {
                product_line,
                version,
                fixed,
            } => rules.push(rule(
                "release",
                if *fixed {
                    format!("{product_line} {version} published with the fix: proposed to the customer")
                } else {
                    format!("{product_line} {version} published without the planned fix: back in progress")
                },
                format!(
                    "the fix was planned for this release; the desk tells the ticket when it is published ({})",
                    by(&event.actor)
                ),
                at,
            )),
            _ => {}
        }
    }
    if snapshot.state.awaits_consent() && snapshot.consent_reminders == 0 {
        rules.push(rule(
            "consent",
            "waiting for the customer's accept or reject".into(),
            format!(
                "the first reminder goes {} after the proposal if it is not answered",
                policy.consent.reminder_every
            ),
            snapshot.proposed_at,
        ));
    }
}
