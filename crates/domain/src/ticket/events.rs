//! The events of a ticket's timeline, as stored: each serialises to JSON with a `kind` tag.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::intake::{CoverageWindow, IntakeFlag, LanguageChoice};
use crate::resources::search;

/// One entry of the append-only timeline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEvent {
    /// Position in the ticket's timeline, from 1.
    pub seq: u32,
    /// When it was recorded (a breach names the instant its clock ran out in `due`).
    pub at: Timestamp,
    pub actor: Actor,
    #[serde(flatten)]
    pub data: EventData,
}

/// Who did it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    Staff { id: i64, role: Role },
    Contact { id: i64 },
    System,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Advisor,
    CustomerSuccessManager,
    SupportManager,
    Admin,
    CustomerContact,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Advisor,
        Role::CustomerSuccessManager,
        Role::SupportManager,
        Role::Admin,
        Role::CustomerContact,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Advisor => "advisor",
            Role::CustomerSuccessManager => "customer_success_manager",
            Role::SupportManager => "support_manager",
            Role::Admin => "admin",
            Role::CustomerContact => "customer_contact",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    pub fn is_staff(&self) -> bool {
        !matches!(self, Role::CustomerContact)
    }
}

impl Actor {
    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::Staff { role, .. } => Some(*role),
            Actor::Contact { .. } => Some(Role::CustomerContact),
            Actor::System => None,
        }
    }
}

/// How an advisor reached the customer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactMedium {
    #[default]
    Reply,
    Call,
}

/// What the desk waits for (POLICY.md §8).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerRequest {
    Information,
    RemoteAccess,
    TestInDevelopment,
}

/// The kinds of resolution (POLICY.md §7).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Resolution {
    PermanentFix,
    Workaround,
    ActionPlan,
    Recommendations,
    /// P4 only: the fix is planned for this release.
    PlannedForRelease {
        release: String,
    },
}

/// The SLA clocks (POLICY.md §6).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    FirstResponse,
    NextUpdate,
    Resolution,
}

impl ClockKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ClockKind::FirstResponse => "first_response",
            ClockKind::NextUpdate => "next_update",
            ClockKind::Resolution => "resolution",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventData {
    Created {
        severity: String,
        channel: String,
    },
    /// What the intake checks found, and the ticket's language and coverage window.
    IntakeChecked {
        program: String,
        #[serde(default)]
        flags: Vec<IntakeFlag>,
        language: LanguageChoice,
        coverage: CoverageWindow,
        /// The language in the office's hours, when intake chose another for after hours
        /// (the customer's own, or the fallback).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        office_language: Option<String>,
    },
    /// The first customer-visible contact by an advisor.
    FirstResponse {
        body: String,
        via: ContactMedium,
    },
    PublicUpdate {
        body: String,
        via: ContactMedium,
    },
    InternalNote {
        body: String,
    },
    CustomerMessage {
        body: String,
    },
    SeverityChanged {
        from: String,
        to: String,
        reason: String,
    },
    Assigned {
        advisor: Option<i64>,
        /// Why this advisor (automatic assignment says how it chose).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// A manager's override: why the advisor did not fit the ticket (another region, a
        /// language they do not speak), assigned anyway for `reason`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        overridden: Option<String>,
    },
    /// A status-update cadence agreed with the customer (severities with `update_negotiable`),
    /// as the policy writes durations ("3d", "4h"); `None` returns to the severity's own.
    UpdateCadenceAgreed {
        every: Option<String>,
        note: String,
    },
    /// The customer asks for another severity; an advisor accepts or declines it.
    SeverityChangeRequested {
        to: String,
        reason: String,
    },
    SeverityChangeDeclined {
        to: String,
        reason: String,
    },
    WaitingOnCustomer {
        request: CustomerRequest,
        body: String,
    },
    CustomerAnswered {
        body: String,
    },
    /// Information intake found missing, supplied later: each field and its text.
    DetailsSupplied {
        details: BTreeMap<String, String>,
    },
    SolutionProposed {
        resolution: Resolution,
        body: String,
    },
    SolutionAccepted {
        note: String,
    },
    SolutionRejected {
        reason: String,
    },
    EscalationRequested {
        reason: String,
    },
    EscalationAnswered {
        answer: String,
    },
    /// A proposal still waits for the customer's answer: reminder `number` was sent.
    ConsentReminder {
        number: u8,
    },
    /// No answer after the last reminder: listed for the support manager, still open.
    ConsentUnanswered {
        reminders: u8,
    },
    ClockBreached {
        clock: ClockKind,
        due: Timestamp,
        /// The policy version whose application found the clock already past its due time:
        /// the breach comes from the change of terms, recorded when the desk rebuilt the
        /// ticket's clocks under that version (none for a breach as time passed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_change: Option<u32>,
    },
    /// The release a P4 ticket's fix was planned for is published (POLICY.md §7). With the
    /// fix in it, a proposed solution follows; without, the ticket is back in progress for
    /// its advisor to plan again.
    ReleasePublished {
        product_line: String,
        version: String,
        fixed: bool,
    },
    Closed {
        reason: String,
    },
    /// Nobody of the desk has worked a ticket worked continuously (POLICY.md §4) for the
    /// severity's `idle_alert_after`: the support manager is alerted, as by an escalation
    /// (answered the same way). For staff only: the customer does not see it.
    WorkLapsed {
        since: Timestamp,
        reason: String,
    },
    /// An advisor decided the problem is outside technical support, for one of the
    /// policy's exclusions (POLICY.md §8a); the customer reads its explanation, the note,
    /// and is offered professional services. The clocks stand still from here.
    OutsideSupport {
        exclusion: String,
        note: String,
    },
    /// A support manager reversed the decision, saying why: the ticket is worked again.
    OutsideSupportReversed {
        reason: String,
    },
    /// A ticket on extended cover passes from its office's hours to the hours after them,
    /// or back (POLICY.md §1, §5): worked in `language` from then, by whoever the
    /// assignment that follows names.
    ShiftChanged {
        after_hours: bool,
        language: String,
        reason: String,
    },
}

/// The most terms search keeps of one event: a pasted log of a hundred thousand distinct
/// words is found by its first ten thousand (PostgreSQL refuses a text vector past 1 MB).
pub const SEARCH_TERMS_MAX: usize = 10_000;

impl EventData {
    /// The stored name of the event's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            EventData::Created { .. } => "created",
            EventData::IntakeChecked { .. } => "intake_checked",
            EventData::FirstResponse { .. } => "first_response",
            EventData::PublicUpdate { .. } => "public_update",
            EventData::InternalNote { .. } => "internal_note",
            EventData::CustomerMessage { .. } => "customer_message",
            EventData::SeverityChanged { .. } => "severity_changed",
            EventData::Assigned { .. } => "assigned",
            EventData::UpdateCadenceAgreed { .. } => "update_cadence_agreed",
            EventData::SeverityChangeRequested { .. } => "severity_change_requested",
            EventData::SeverityChangeDeclined { .. } => "severity_change_declined",
            EventData::WaitingOnCustomer { .. } => "waiting_on_customer",
            EventData::CustomerAnswered { .. } => "customer_answered",
            EventData::DetailsSupplied { .. } => "details_supplied",
            EventData::SolutionProposed { .. } => "solution_proposed",
            EventData::SolutionAccepted { .. } => "solution_accepted",
            EventData::SolutionRejected { .. } => "solution_rejected",
            EventData::EscalationRequested { .. } => "escalation_requested",
            EventData::EscalationAnswered { .. } => "escalation_answered",
            EventData::ConsentReminder { .. } => "consent_reminder",
            EventData::ConsentUnanswered { .. } => "consent_unanswered",
            EventData::ClockBreached { .. } => "clock_breached",
            EventData::ReleasePublished { .. } => "release_published",
            EventData::Closed { .. } => "closed",
            EventData::ShiftChanged { .. } => "shift_changed",
            EventData::OutsideSupport { .. } => "outside_support",
            EventData::WorkLapsed { .. } => "work_lapsed",
            EventData::OutsideSupportReversed { .. } => "outside_support_reversed",
        }
    }

    /// A customer-visible contact by an advisor: it answers the first-response clock and
    /// restarts the status-update clock (POLICY.md §3, §6).
    pub fn is_advisor_contact(&self) -> bool {
        matches!(
            self,
            EventData::FirstResponse { .. }
                | EventData::PublicUpdate { .. }
                | EventData::WaitingOnCustomer { .. }
                | EventData::SolutionProposed { .. }
                | EventData::OutsideSupport { .. }
        )
    }

    /// What people wrote in this event (a message, a note, a reason they gave), for staff
    /// to find the ticket by its words. The desk's own events (clocks, reminders,
    /// assignments, intake) hold nothing anyone wrote; a ticket's subject and description
    /// are the ticket's, not its `created` event's.
    pub fn written_text(&self) -> Vec<&str> {
        match self {
            EventData::FirstResponse { body, .. }
            | EventData::PublicUpdate { body, .. }
            | EventData::InternalNote { body }
            | EventData::CustomerMessage { body }
            | EventData::WaitingOnCustomer { body, .. }
            | EventData::CustomerAnswered { body }
            | EventData::SolutionProposed { body, .. } => vec![body.as_str()],
            EventData::SeverityChanged { reason, .. }
            | EventData::SeverityChangeRequested { reason, .. }
            | EventData::SeverityChangeDeclined { reason, .. }
            | EventData::SolutionRejected { reason }
            | EventData::OutsideSupportReversed { reason }
            | EventData::EscalationRequested { reason } => vec![reason.as_str()],
            EventData::OutsideSupport { note, .. } => vec![note.as_str()],
            EventData::UpdateCadenceAgreed { note, .. } | EventData::SolutionAccepted { note } => {
                vec![note.as_str()]
            }
            EventData::EscalationAnswered { answer } => vec![answer.as_str()],
            EventData::DetailsSupplied { details } => {
                details.values().map(String::as_str).collect()
            }
            EventData::Created { .. }
            | EventData::IntakeChecked { .. }
            | EventData::Assigned { .. }
            | EventData::ConsentReminder { .. }
            | EventData::ConsentUnanswered { .. }
            | EventData::ClockBreached { .. }
            | EventData::ReleasePublished { .. }
            | EventData::ShiftChanged { .. }
            | EventData::WorkLapsed { .. }
            | EventData::Closed { .. } => Vec::new(),
        }
    }

    /// The terms search keeps for this event of a ticket written in `language` (see
    /// [`crate::resources::search`]: the analysis resource search uses, so that a word
    /// typed meets its other forms): the ticket's subject and description for its `created`
    /// event, what people wrote for the others, `None` when nobody wrote anything.
    pub fn search_terms(&self, subject: &str, description: &str, language: &str) -> Option<String> {
        let texts = match self {
            EventData::Created { .. } => vec![subject, description],
            _ => self.written_text(),
        };
        let terms: Vec<String> = texts
            .iter()
            .flat_map(|text| search::terms(text, language))
            .take(SEARCH_TERMS_MAX)
            .collect();
        (!terms.is_empty()).then(|| terms.join(" "))
    }

    /// Whether the customer sees this event on the portal.
    pub fn is_public(&self) -> bool {
        !matches!(
            self,
            EventData::InternalNote { .. }
                | EventData::Assigned { .. }
                | EventData::ConsentUnanswered { .. }
                | EventData::WorkLapsed { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_event_is_searched_by_the_subject_and_description_in_the_tickets_language() {
        let created = EventData::Created {
            severity: "P3".into(),
            channel: "portal".into(),
        };
        let terms = created
            .search_terms("Imprimantes bloquées", "Les travaux restent en file", "fr")
            .unwrap();
        let terms: Vec<&str> = terms.split(' ').collect();
        // Other forms of the words meet them, stemmed the French way, accents left out.
        for typed in ["imprimante", "bloquée", "travaux", "fichier"] {
            let wanted = search::query_terms(typed, &["fr"]);
            let found = wanted.iter().all(|term| terms.contains(&term.as_str()));
            assert_eq!(
                found,
                typed != "fichier",
                "{typed}: {wanted:?} in {terms:?}"
            );
        }
        // The most common words are not kept.
        assert!(!terms.contains(&"les"), "{terms:?}");
    }

    #[test]
    fn what_people_wrote_is_searched_and_the_desks_own_events_are_not() {
        let note = EventData::InternalNote {
            body: "Printer driver crashed".into(),
        };
        assert_eq!(
            note.search_terms("subject", "description", "en"),
            Some(search::query_terms("printer drivers crashing", &["en"]).join(" "))
        );
        let details = EventData::DetailsSupplied {
            details: BTreeMap::from([("operating_system".into(), "Windows Server".into())]),
        };
        assert_eq!(details.written_text(), vec!["Windows Server"]);
        let reminder = EventData::ConsentReminder { number: 1 };
        assert_eq!(reminder.search_terms("subject", "description", "en"), None);
        let assigned = EventData::Assigned {
            advisor: Some(3),
            reason: Some("least loaded advisor".into()),
            overridden: None,
        };
        assert_eq!(assigned.search_terms("subject", "description", "en"), None);
    }

    #[test]
    fn a_pasted_log_is_found_by_its_first_ten_thousand_words() {
        let log: Vec<String> = (0..20_000).map(|number| format!("id{number:x}")).collect();
        let message = EventData::CustomerMessage {
            body: log.join(" "),
        };
        let terms = message.search_terms("", "", "en").unwrap();
        let terms: Vec<&str> = terms.split(' ').collect();
        assert_eq!(terms.len(), SEARCH_TERMS_MAX);
        assert_eq!(terms.last(), Some(&"id270f"));
    }
}
