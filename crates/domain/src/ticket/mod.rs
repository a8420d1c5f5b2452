//! A ticket's life (POLICY.md §6–§8) as a pure state machine over an append-only timeline.
//!
//! A ticket *is* its events. What it looks like now (state, severity, assignee, open
//! escalation) is a fold over them ([`Snapshot`]), and so are its SLA clocks
//! ([`clocks::compute`]). A [`Command`] is checked against the snapshot by [`decide`], which
//! either refuses it (saying what is allowed instead) or returns the events to append.

pub mod automatic;
pub mod clocks;
pub mod consent;
mod decide;
mod events;
pub mod explain;
pub mod rebuild;
pub mod replay;
pub mod step;

pub use decide::{
    Action, Command, Refusal, SUPPLIABLE_DETAILS, allowed_actions, decide, moved_to_services,
};
pub use events::{
    Actor, ClockKind, ContactMedium, CustomerRequest, EventData, Resolution, Role, TicketEvent,
};

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::intake::IntakeFlag;

/// Where a ticket stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// Opened; no advisor has contacted the customer yet.
    New,
    /// An advisor is working on it.
    InProgress,
    /// The desk waits on the customer: information, remote access, a test.
    WaitingOnCustomer,
    /// A solution waits for the customer's accept or reject.
    SolutionProposed,
    /// P4: the fix is planned for a release; waits for the customer's consent.
    PlannedForRelease,
    /// Closed with the customer's consent.
    Closed,
    /// An advisor decided the problem is outside technical support (POLICY.md §8a): its
    /// clocks stand still until a manager reverses the decision.
    OutsideSupport,
}

impl TicketState {
    pub const ALL: [TicketState; 7] = [
        TicketState::New,
        TicketState::InProgress,
        TicketState::WaitingOnCustomer,
        TicketState::SolutionProposed,
        TicketState::PlannedForRelease,
        TicketState::Closed,
        TicketState::OutsideSupport,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TicketState::New => "new",
            TicketState::InProgress => "in_progress",
            TicketState::WaitingOnCustomer => "waiting_on_customer",
            TicketState::SolutionProposed => "solution_proposed",
            TicketState::PlannedForRelease => "planned_for_release",
            TicketState::Closed => "closed",
            TicketState::OutsideSupport => "outside_support",
        }
    }

    pub fn parse(text: &str) -> Option<TicketState> {
        TicketState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }

    /// A solution is on the table, waiting for the customer's answer.
    pub fn awaits_consent(&self) -> bool {
        matches!(
            self,
            TicketState::SolutionProposed | TicketState::PlannedForRelease
        )
    }
}

/// What the timeline says about a ticket now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub state: TicketState,
    pub severity: String,
    pub channel: String,
    pub opened_at: Timestamp,
    pub assignee: Option<i64>,
    pub first_response_at: Option<Timestamp>,
    /// The last customer-visible contact by an advisor (the status-update clock's anchor).
    pub last_advisor_contact_at: Option<Timestamp>,
    pub escalation_open: bool,
    pub escalated: bool,
    pub closed_at: Option<Timestamp>,
    pub last_event_at: Timestamp,
    /// How many events the timeline holds.
    pub event_count: u32,
    /// The program the ticket is worked under, once intake has checked it.
    pub program: Option<String>,
    /// What intake flagged, less what was supplied since.
    pub flags: Vec<IntakeFlag>,
    /// Details supplied after intake, the latest text of each field.
    pub supplied_details: BTreeMap<String, String>,
    /// A severity the customer asked for, waiting for an advisor's answer.
    pub severity_request: Option<String>,
    /// The status-update cadence agreed on the ticket, replacing the severity's own until
    /// the severity changes.
    pub agreed_update_every: Option<String>,
    /// When that cadence was agreed: the next update is owed from then at the earliest.
    pub agreed_update_at: Option<Timestamp>,
    /// While a proposal waits for consent: when it was made, and the reminders sent since.
    pub proposed_at: Option<Timestamp>,
    pub consent_reminders: u8,
    pub last_consent_reminder_at: Option<Timestamp>,
    /// The last reminder went unanswered: listed for the support manager.
    pub consent_unanswered: bool,
    /// While the ticket waits for a release with its fix (P4): which release.
    pub planned_release: Option<String>,
    /// While the ticket is outside support: the policy's exclusion that says why.
    pub exclusion: Option<String>,
    /// Since when the ticket waits for someone of the desk to work it: its opening, the last
    /// action of a staff member, or its coming back to be worked (the customer answered,
    /// rejected a proposal, a release came without the fix).
    pub awaiting_work_since: Timestamp,
    /// The language the ticket is worked in now (none before intake's checks).
    pub language: Option<String>,
    /// Worked after its office's hours, on extended cover (POLICY.md §1, §5).
    pub after_hours: bool,
    /// What the ticket returns to when its office opens: its language and the advisor it
    /// had in office hours (none: whoever assignment picks then).
    pub office_language: Option<String>,
    pub office_assignee: Option<i64>,
    /// Someone of the desk reassigned it after hours: at opening, that choice stands (if the
    /// advisor works for the office) rather than the office's earlier advisor.
    pub reassigned_after_hours: bool,
    /// When the desk last alerted the manager that nobody works the ticket (internal).
    pub work_lapsed_at: Option<Timestamp>,
}

impl Snapshot {
    /// Folds a timeline; `None` when it does not start with a `Created` event.
    pub fn of(events: &[TicketEvent]) -> Option<Snapshot> {
        let (first, rest) = events.split_first()?;
        let EventData::Created { severity, channel } = &first.data else {
            return None;
        };
        let mut snapshot = Snapshot {
            state: TicketState::New,
            severity: severity.clone(),
            channel: channel.clone(),
            opened_at: first.at,
            assignee: None,
            first_response_at: None,
            last_advisor_contact_at: None,
            escalation_open: false,
            escalated: false,
            closed_at: None,
            last_event_at: first.at,
            event_count: 1,
            program: None,
            flags: Vec::new(),
            supplied_details: BTreeMap::new(),
            severity_request: None,
            agreed_update_every: None,
            agreed_update_at: None,
            proposed_at: None,
            consent_reminders: 0,
            last_consent_reminder_at: None,
            consent_unanswered: false,
            planned_release: None,
            awaiting_work_since: first.at,
            exclusion: None,
            language: None,
            after_hours: false,
            office_language: None,
            office_assignee: None,
            reassigned_after_hours: false,
            work_lapsed_at: None,
        };
        for event in rest {
            snapshot.apply(event);
        }
        Some(snapshot)
    }

    pub fn apply(&mut self, event: &TicketEvent) {
        self.last_event_at = event.at;
        self.event_count += 1;
        let back_to_work = matches!(
            event.data,
            EventData::CustomerAnswered { .. }
                | EventData::SolutionRejected { .. }
                | EventData::ReleasePublished { fixed: false, .. }
                | EventData::OutsideSupportReversed { .. }
                // Handed over by the desk (a shift change, intake): whoever takes it now
                // starts a stretch of their own.
                | EventData::Assigned {
                    advisor: Some(_),
                    ..
                }
        );
        if matches!(event.actor, Actor::Staff { .. }) || back_to_work {
            self.awaiting_work_since = event.at;
        }
        if event.data.is_advisor_contact() {
            self.first_response_at.get_or_insert(event.at);
            self.last_advisor_contact_at = Some(event.at);
            if self.state == TicketState::New {
                self.state = TicketState::InProgress;
            }
        }
        match &event.data {
            EventData::Created { .. }
            | EventData::FirstResponse { .. }
            | EventData::PublicUpdate { .. }
            | EventData::InternalNote { .. }
            | EventData::CustomerMessage { .. }
            | EventData::ClockBreached { .. } => {}
            EventData::ReleasePublished { fixed, .. } => {
                if !fixed && self.state == TicketState::PlannedForRelease {
                    self.state = TicketState::InProgress;
                    self.end_consent_wait();
                }
            }
            EventData::IntakeChecked {
                program,
                flags,
                language,
                coverage,
                office_language,
            } => {
                self.program = Some(program.clone());
                self.flags = flags.clone();
                self.language = Some(language.language.clone());
                self.after_hours = coverage.after_hours;
                self.office_language = office_language
                    .clone()
                    .or_else(|| Some(language.language.clone()));
            }
            EventData::OutsideSupport { exclusion, .. } => {
                self.state = TicketState::OutsideSupport;
                self.exclusion = Some(exclusion.clone());
            }
            EventData::OutsideSupportReversed { .. } => {
                self.state = TicketState::InProgress;
                self.exclusion = None;
            }
            EventData::ShiftChanged {
                after_hours,
                language,
                ..
            } => {
                if *after_hours && !self.after_hours {
                    self.office_language = self.language.clone();
                    self.office_assignee = self.assignee;
                }
                self.after_hours = *after_hours;
                self.language = Some(language.clone());
                self.reassigned_after_hours = false;
            }
            EventData::DetailsSupplied { details } => {
                for (field, text) in details {
                    self.supplied_details.insert(field.clone(), text.clone());
                }
                for flag in &mut self.flags {
                    if let IntakeFlag::Incomplete { missing } = flag {
                        missing.retain(|field| !details.contains_key(field));
                    }
                }
                self.flags.retain(
                    |flag| !matches!(flag, IntakeFlag::Incomplete { missing } if missing.is_empty()),
                );
            }
            EventData::SeverityChanged { to, .. } => {
                self.severity = to.clone();
                self.severity_request = None;
                // An agreement was made for the old severity; the new one's targets apply.
                self.agreed_update_every = None;
                self.agreed_update_at = None;
            }
            EventData::UpdateCadenceAgreed { every, .. } => {
                self.agreed_update_every = every.clone();
                self.agreed_update_at = every.as_ref().map(|_| event.at);
            }
            EventData::SeverityChangeRequested { to, .. } => {
                self.severity_request = Some(to.clone());
            }
            EventData::SeverityChangeDeclined { .. } => self.severity_request = None,
            EventData::Assigned { advisor, .. } => {
                self.assignee = *advisor;
                if self.after_hours && matches!(event.actor, Actor::Staff { .. }) {
                    self.reassigned_after_hours = true;
                }
            }
            EventData::WaitingOnCustomer { .. } => self.state = TicketState::WaitingOnCustomer,
            EventData::CustomerAnswered { .. } | EventData::SolutionRejected { .. } => {
                self.state = TicketState::InProgress;
                self.end_consent_wait();
            }
            EventData::SolutionProposed { resolution, .. } => {
                self.state = match resolution {
                    Resolution::PlannedForRelease { .. } => TicketState::PlannedForRelease,
                    _ => TicketState::SolutionProposed,
                };
                self.end_consent_wait();
                self.proposed_at = Some(event.at);
                if let Resolution::PlannedForRelease { release } = resolution {
                    self.planned_release = Some(release.clone());
                }
            }
            EventData::SolutionAccepted { .. } => {}
            EventData::ConsentReminder { number } => {
                self.consent_reminders = *number;
                self.last_consent_reminder_at = Some(event.at);
            }
            EventData::ConsentUnanswered { .. } => self.consent_unanswered = true,
            EventData::WorkLapsed { .. } => self.work_lapsed_at = Some(event.at),
            EventData::EscalationRequested { .. } => {
                self.escalation_open = true;
                self.escalated = true;
            }
            EventData::EscalationAnswered { .. } => self.escalation_open = false,
            EventData::Closed { .. } => {
                self.state = TicketState::Closed;
                self.closed_at = Some(event.at);
                self.end_consent_wait();
            }
        }
    }

    fn end_consent_wait(&mut self) {
        self.planned_release = None;
        self.proposed_at = None;
        self.consent_reminders = 0;
        self.last_consent_reminder_at = None;
        self.consent_unanswered = false;
    }
}

#[cfg(test)]
mod tests;
