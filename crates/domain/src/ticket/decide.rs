//! What may happen to a ticket next, and what it becomes in the timeline.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::events::{ContactMedium, CustomerRequest, EventData, Resolution, Role};
use super::{Snapshot, TicketState};
use crate::duration::BusinessDuration;
use crate::policy::Policy;
use crate::reason::Reason;

/// Something a person asks of a ticket.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// A customer-visible reply or logged call by an advisor.
    Reply {
        body: String,
        #[serde(default)]
        via: ContactMedium,
    },
    Note {
        body: String,
    },
    /// A message from the customer (or recorded by staff on the customer's behalf).
    CustomerMessage {
        body: String,
    },
    ChangeSeverity {
        severity: String,
        reason: String,
    },
    Assign {
        advisor: Option<i64>,
        /// Why (kept on the timeline with the reassignment).
        #[serde(default)]
        reason: Option<String>,
    },
    /// Records the status-update cadence agreed with the customer ("3d", "4h"; `null`
    /// returns to the severity's own), for severities whose cadence is negotiable.
    AgreeUpdateCadence {
        every: Option<String>,
        note: String,
    },
    /// The customer asks for another severity, saying why.
    RequestSeverityChange {
        severity: String,
        reason: String,
    },
    /// An advisor accepts (the severity changes) or declines the customer's request.
    AnswerSeverityChange {
        accept: bool,
        reason: String,
    },
    RequestFromCustomer {
        request: CustomerRequest,
        body: String,
    },
    /// Information missing at intake, supplied by the customer (or by staff for them):
    /// `business_impact`, `error_messages`, `steps_to_reproduce` or `workaround`. While the
    /// desk waits on the customer, it is also the customer's answer.
    SupplyDetails {
        details: BTreeMap<String, String>,
    },
    ProposeSolution {
        resolution: Resolution,
        body: String,
    },
    AcceptSolution {
        #[serde(default)]
        note: String,
    },
    RejectSolution {
        reason: String,
    },
    RequestEscalation {
        reason: String,
    },
    AnswerEscalation {
        answer: String,
    },
    /// The problem is outside technical support (POLICY.md §8a), for one of the policy's
    /// `exclusions`, with a note for the customer; they are offered professional services.
    DeclareOutsideSupport {
        exclusion: String,
        note: String,
    },
    /// A support manager reverses that decision, saying why.
    ReverseOutsideSupport {
        reason: String,
    },
}

/// The name of each command, for "what is allowed from here".
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Reply,
    Note,
    CustomerMessage,
    ChangeSeverity,
    Assign,
    AgreeUpdateCadence,
    RequestSeverityChange,
    AnswerSeverityChange,
    RequestFromCustomer,
    SupplyDetails,
    ProposeSolution,
    AcceptSolution,
    RejectSolution,
    RequestEscalation,
    AnswerEscalation,
    DeclareOutsideSupport,
    ReverseOutsideSupport,
}

impl Action {
    pub const ALL: [Action; 17] = [
        Action::Reply,
        Action::Note,
        Action::CustomerMessage,
        Action::ChangeSeverity,
        Action::Assign,
        Action::AgreeUpdateCadence,
        Action::RequestSeverityChange,
        Action::AnswerSeverityChange,
        Action::RequestFromCustomer,
        Action::SupplyDetails,
        Action::ProposeSolution,
        Action::AcceptSolution,
        Action::RejectSolution,
        Action::RequestEscalation,
        Action::AnswerEscalation,
        Action::DeclareOutsideSupport,
        Action::ReverseOutsideSupport,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Reply => "reply",
            Action::Note => "note",
            Action::CustomerMessage => "customer_message",
            Action::ChangeSeverity => "change_severity",
            Action::Assign => "assign",
            Action::AgreeUpdateCadence => "agree_update_cadence",
            Action::RequestSeverityChange => "request_severity_change",
            Action::AnswerSeverityChange => "answer_severity_change",
            Action::RequestFromCustomer => "request_from_customer",
            Action::SupplyDetails => "supply_details",
            Action::ProposeSolution => "propose_solution",
            Action::AcceptSolution => "accept_solution",
            Action::RejectSolution => "reject_solution",
            Action::RequestEscalation => "request_escalation",
            Action::AnswerEscalation => "answer_escalation",
            Action::DeclareOutsideSupport => "declare_outside_support",
            Action::ReverseOutsideSupport => "reverse_outside_support",
        }
    }
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Reply { .. } => Action::Reply,
            Command::Note { .. } => Action::Note,
            Command::CustomerMessage { .. } => Action::CustomerMessage,
            Command::ChangeSeverity { .. } => Action::ChangeSeverity,
            Command::Assign { .. } => Action::Assign,
            Command::AgreeUpdateCadence { .. } => Action::AgreeUpdateCadence,
            Command::RequestSeverityChange { .. } => Action::RequestSeverityChange,
            Command::AnswerSeverityChange { .. } => Action::AnswerSeverityChange,
            Command::RequestFromCustomer { .. } => Action::RequestFromCustomer,
            Command::SupplyDetails { .. } => Action::SupplyDetails,
            Command::ProposeSolution { .. } => Action::ProposeSolution,
            Command::AcceptSolution { .. } => Action::AcceptSolution,
            Command::RejectSolution { .. } => Action::RejectSolution,
            Command::RequestEscalation { .. } => Action::RequestEscalation,
            Command::AnswerEscalation { .. } => Action::AnswerEscalation,
            Command::DeclareOutsideSupport { .. } => Action::DeclareOutsideSupport,
            Command::ReverseOutsideSupport { .. } => Action::ReverseOutsideSupport,
        }
    }
}

/// Why a command cannot be carried out now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not allowed in the ticket's current state: a conflict (HTTP 409).
    #[error("{action} is not allowed while the ticket is {state}", action = action.as_str(), state = state.as_str())]
    NotNow {
        action: Action,
        state: TicketState,
        allowed: Vec<Action>,
    },
    /// This role may never do this (HTTP 403).
    #[error("a {role} may not {action}", role = role.as_str(), action = action.as_str())]
    NotPermitted { action: Action, role: Role },
    /// The command itself is wrong: a field and the reason (HTTP 422).
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: Reason },
}

/// Who may ask for each action, whatever the state.
fn permitted(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::CustomerContact => matches!(
            action,
            CustomerMessage
                | SupplyDetails
                | AcceptSolution
                | RejectSolution
                | RequestEscalation
                | RequestSeverityChange
        ),
        Role::SupportManager | Role::Admin => true,
        // Advisors and customer success managers do the work; a manager answers escalations
        // and reverses an exclusion.
        Role::Advisor | Role::CustomerSuccessManager => !matches!(
            action,
            AnswerEscalation | RequestSeverityChange | ReverseOutsideSupport
        ),
    }
}

/// Whether the state allows an action (roles aside).
fn allowed_in(snapshot: &Snapshot, action: Action) -> bool {
    use Action::*;
    let state = snapshot.state;
    match action {
        Note => true,
        _ if state == TicketState::Closed => false,
        // Outside support, the ticket is not worked: people may still talk, a manager
        // reverses the decision or answers an escalation about it.
        ReverseOutsideSupport => state == TicketState::OutsideSupport,
        Reply | CustomerMessage | Assign | RequestEscalation | AnswerEscalation
            if state == TicketState::OutsideSupport =>
        {
            match action {
                RequestEscalation => !snapshot.escalation_open,
                AnswerEscalation => snapshot.escalation_open,
                _ => true,
            }
        }
        _ if state == TicketState::OutsideSupport => false,
        DeclareOutsideSupport => matches!(
            state,
            TicketState::New | TicketState::InProgress | TicketState::WaitingOnCustomer
        ),
        AcceptSolution | RejectSolution => state.awaits_consent(),
        ProposeSolution => !state.awaits_consent(),
        RequestFromCustomer => matches!(
            state,
            TicketState::New | TicketState::InProgress | TicketState::WaitingOnCustomer
        ),
        RequestEscalation => !snapshot.escalation_open,
        AnswerEscalation => snapshot.escalation_open,
        RequestSeverityChange => snapshot.severity_request.is_none(),
        AnswerSeverityChange => snapshot.severity_request.is_some(),
        AgreeUpdateCadence => true,
        Reply | CustomerMessage | SupplyDetails | ChangeSeverity | Assign => true,
    }
}

/// The actions a role may take on the ticket as it stands.
pub fn allowed_actions(snapshot: &Snapshot, role: Role) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|action| permitted(role, *action) && allowed_in(snapshot, *action))
        .collect()
}

/// Checks a command against the ticket and the policy, and returns the events it appends,
/// in order.
pub fn decide(
    snapshot: &Snapshot,
    role: Role,
    command: Command,
    policy: &Policy,
) -> Result<Vec<EventData>, Refusal> {
    let action = command.action();
    if !permitted(role, action) {
        return Err(Refusal::NotPermitted { action, role });
    }
    if !allowed_in(snapshot, action) {
        return Err(Refusal::NotNow {
            action,
            state: snapshot.state,
            allowed: allowed_actions(snapshot, role),
        });
    }
    let events = match command {
        Command::Reply { body, via } => {
            let body = required("body", body)?;
            if snapshot.first_response_at.is_none() {
                vec![EventData::FirstResponse { body, via }]
            } else {
                vec![EventData::PublicUpdate { body, via }]
            }
        }
        Command::Note { body } => vec![EventData::InternalNote {
            body: required("body", body)?,
        }],
        Command::CustomerMessage { body } => {
            let body = required("body", body)?;
            if snapshot.state == TicketState::WaitingOnCustomer {
                vec![EventData::CustomerAnswered { body }]
            } else {
                vec![EventData::CustomerMessage { body }]
            }
        }
        Command::ChangeSeverity { severity, reason } => {
            known_other_severity(policy, snapshot, &severity)?;
            vec![EventData::SeverityChanged {
                from: snapshot.severity.clone(),
                to: severity,
                reason: required("reason", reason)?,
            }]
        }
        Command::Assign { advisor, reason } => {
            if advisor == snapshot.assignee {
                return Err(Refusal::Invalid {
                    field: "advisor",
                    reason: Reason::invalid("the ticket is already assigned so".to_string()),
                });
            }
            let reason = reason.filter(|reason| !reason.trim().is_empty());
            // Whether the advisor fits the ticket is the desk's to check (it knows the staff);
            // an override it allows marks the event.
            vec![EventData::Assigned {
                advisor,
                reason,
                overridden: None,
            }]
        }
        Command::AgreeUpdateCadence { every, note } => {
            let severity =
                policy
                    .severity(&snapshot.severity)
                    .map_err(|unknown| Refusal::Invalid {
                        field: "severity",
                        reason: Reason::invalid(unknown.to_string()),
                    })?;
            if !severity.update_negotiable {
                return Err(Refusal::Invalid {
                    field: "every",
                    reason: Reason::invalid(format!(
                        "the status-update cadence of {} is not negotiable in the policy",
                        snapshot.severity
                    )),
                });
            }
            let every = every
                .map(|text| match text.parse::<BusinessDuration>() {
                    Ok(duration) if duration.is_zero() => Err(Refusal::Invalid {
                        field: "every",
                        reason: Reason::invalid("a cadence must be longer than zero".to_string()),
                    }),
                    // Beyond a year of business days no update is owed in practice, and the
                    // calendars answer only within a bounded range.
                    Ok(duration) if duration.minutes_on(24 * 60) > MAX_CADENCE_MINUTES => {
                        Err(Refusal::Invalid {
                            field: "every",
                            reason: Reason::invalid(
                                "a cadence is at most 250 business days".to_string(),
                            ),
                        })
                    }
                    Ok(_) => Ok(text.trim().to_string()),
                    Err(error) => Err(Refusal::Invalid {
                        field: "every",
                        reason: Reason::invalid(error.to_string()),
                    }),
                })
                .transpose()?;
            if every == snapshot.agreed_update_every {
                return Err(Refusal::Invalid {
                    field: "every",
                    reason: Reason::invalid("this cadence is already the ticket's".to_string()),
                });
            }
            vec![EventData::UpdateCadenceAgreed {
                every,
                note: required("note", note)?,
            }]
        }
        Command::RequestSeverityChange { severity, reason } => {
            known_other_severity(policy, snapshot, &severity)?;
            vec![EventData::SeverityChangeRequested {
                to: severity,
                reason: required("reason", reason)?,
            }]
        }
        Command::AnswerSeverityChange { accept, reason } => {
            let reason = required("reason", reason)?;
            // `allowed_in` let this through only with a request pending.
            let to = snapshot.severity_request.clone().unwrap_or_default();
            if accept {
                vec![EventData::SeverityChanged {
                    from: snapshot.severity.clone(),
                    to,
                    reason,
                }]
            } else {
                vec![EventData::SeverityChangeDeclined { to, reason }]
            }
        }
        Command::RequestFromCustomer { request, body } => vec![EventData::WaitingOnCustomer {
            request,
            body: required("body", body)?,
        }],
        Command::SupplyDetails { details } => {
            let details = supplied_details(details)?;
            let fields: Vec<&str> = details.keys().map(|field| field.as_str()).collect();
            let answer = (snapshot.state == TicketState::WaitingOnCustomer).then(|| {
                EventData::CustomerAnswered {
                    body: format!("supplied {}", fields.join(", ")),
                }
            });
            std::iter::once(EventData::DetailsSupplied { details })
                .chain(answer)
                .collect()
        }
        Command::ProposeSolution { resolution, body } => {
            if let Resolution::PlannedForRelease { release } = &resolution {
                if release.trim().is_empty() {
                    return Err(Refusal::Invalid {
                        field: "resolution.release",
                        reason: Reason::invalid(
                            "name the release the fix is planned for".to_string(),
                        ),
                    });
                }
                // The catalog tells the ticket when this version is published: it must be
                // one ("8.3"), not words ("the next release").
                let problem = crate::catalog::version_problem(release.trim()).or_else(|| {
                    (!release.contains(|c: char| c.is_ascii_digit()))
                        .then(|| "a version has a number".to_string())
                });
                if let Some(problem) = problem {
                    return Err(Refusal::Invalid {
                        field: "resolution.release",
                        reason: Reason::invalid(format!(
                            "the version the fix is planned for, as the catalog will name it: {problem}"
                        )),
                    });
                }
                // Only a severity without a resolution target may wait for a release (P4).
                let has_target = policy
                    .severity(&snapshot.severity)
                    .map_or(true, |severity| severity.resolution.is_some());
                if has_target {
                    return Err(Refusal::Invalid {
                        field: "resolution",
                        reason: Reason::invalid(format!(
                            "\"planned for release\" is for severities without a resolution target, not {}",
                            snapshot.severity
                        )),
                    });
                }
            }
            vec![EventData::SolutionProposed {
                resolution,
                body: required("body", body)?,
            }]
        }
        Command::AcceptSolution { note }
            if role != Role::CustomerContact && note.trim().is_empty() =>
        {
            // Consent is the customer's (POLICY.md §7): staff only record it, saying how it came.
            return Err(Refusal::Invalid {
                field: "note",
                reason: Reason::invalid(
                    "say how the customer gave consent (for example \"accepted by phone with …\")"
                        .to_string(),
                ),
            });
        }
        Command::AcceptSolution { note } => vec![
            EventData::SolutionAccepted { note },
            EventData::Closed {
                reason: "solution accepted by the customer".to_string(),
            },
        ],
        Command::RejectSolution { reason } => vec![EventData::SolutionRejected {
            reason: required("reason", reason)?,
        }],
        Command::RequestEscalation { reason } => vec![EventData::EscalationRequested {
            reason: required("reason", reason)?,
        }],
        Command::AnswerEscalation { answer } => vec![EventData::EscalationAnswered {
            answer: required("answer", answer)?,
        }],
        Command::DeclareOutsideSupport { exclusion, note } => {
            let exclusion = required("exclusion", exclusion)?.trim().to_string();
            if !policy.exclusions.contains_key(&exclusion) {
                return Err(Refusal::Invalid {
                    field: "exclusion",
                    reason: Reason::invalid(format!(
                        "\"{exclusion}\" is not one of the policy's exclusions: {}",
                        policy
                            .exclusions
                            .keys()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                });
            }
            vec![EventData::OutsideSupport {
                exclusion,
                note: required("note", note)?,
            }]
        }
        Command::ReverseOutsideSupport { reason } => vec![EventData::OutsideSupportReversed {
            reason: required("reason", reason)?,
        }],
    };
    Ok(events)
}

fn known_other_severity(
    policy: &Policy,
    snapshot: &Snapshot,
    severity: &str,
) -> Result<(), Refusal> {
    if let Err(unknown) = policy.severity(severity) {
        return Err(Refusal::Invalid {
            field: "severity",
            reason: Reason::invalid(unknown.to_string()),
        });
    }
    if severity == snapshot.severity {
        return Err(Refusal::Invalid {
            field: "severity",
            reason: Reason::invalid(format!("the ticket is already {severity}")),
        });
    }
    Ok(())
}

/// The longest cadence that may be agreed: 250 business days of 24 hours.
const MAX_CADENCE_MINUTES: u64 = 250 * 24 * 60;

/// The intake details that may be supplied after the ticket is open. The product's version
/// and serial number are not among them: they are checked against the customer's records
/// at intake, and a changed one is a new ticket's matter.
pub const SUPPLIABLE_DETAILS: [&str; 4] = [
    "business_impact",
    "error_messages",
    "steps_to_reproduce",
    "workaround",
];

fn supplied_details(
    details: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Refusal> {
    if details.is_empty() {
        return Err(Refusal::Invalid {
            field: "details",
            reason: Reason::invalid(format!(
                "supply at least one of {}",
                SUPPLIABLE_DETAILS.join(", ")
            )),
        });
    }
    for (field, text) in &details {
        if !SUPPLIABLE_DETAILS.contains(&field.as_str()) {
            return Err(Refusal::Invalid {
                field: "details",
                reason: Reason::invalid(format!(
                    "\"{field}\" cannot be supplied; these can: {}",
                    SUPPLIABLE_DETAILS.join(", ")
                )),
            });
        }
        if text.trim().is_empty() {
            return Err(Refusal::Invalid {
                field: "details",
                reason: Reason::invalid(format!("\"{field}\" must not be empty")),
            });
        }
    }
    Ok(details)
}

/// A ticket outside technical support whose customer asked for professional services
/// (POLICY.md §8a): the request takes over, and the ticket closes saying so. Asking is the
/// customer's consent to end the ticket (or staff's record of it); only a ticket outside
/// support closes this way.
pub fn moved_to_services(snapshot: &Snapshot, request: i64) -> Result<Vec<EventData>, Refusal> {
    if snapshot.state != TicketState::OutsideSupport {
        return Err(Refusal::NotNow {
            action: Action::DeclareOutsideSupport,
            state: snapshot.state,
            allowed: Vec::new(),
        });
    }
    Ok(vec![EventData::Closed {
        reason: format!(
            "outside technical support: continued as professional-services request {request}"
        ),
    }])
}

fn required(field: &'static str, text: String) -> Result<String, Refusal> {
    if text.trim().is_empty() {
        Err(Refusal::Invalid {
            field,
            reason: Reason::required(),
        })
    } else {
        Ok(text)
    }
}
