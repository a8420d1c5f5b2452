//! Professional-services requests (POLICY.md §3): custom programming in a language the
//! products do not speak natively is a separate, paid piece of work, not a support ticket.
//! It has its own life, visible to the customer and never measured by support clocks:
//!
//! requested → quoted (staff give a quote) → accepted or declined (the customer answers);
//! before a quote, staff may decline a request they will not quote and the customer may
//! withdraw it (declined too).

use serde::{Deserialize, Serialize};

use crate::reason::Reason;
use crate::ticket::Role;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// Waiting for a quote.
    Requested,
    /// Quoted; waiting for the customer's answer.
    Quoted,
    Accepted,
    Declined,
}

impl ServiceState {
    pub const ALL: [ServiceState; 4] = [
        ServiceState::Requested,
        ServiceState::Quoted,
        ServiceState::Accepted,
        ServiceState::Declined,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ServiceState::Requested => "requested",
            ServiceState::Quoted => "quoted",
            ServiceState::Accepted => "accepted",
            ServiceState::Declined => "declined",
        }
    }

    pub fn parse(text: &str) -> Option<ServiceState> {
        ServiceState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }

    pub fn is_final(&self) -> bool {
        matches!(self, ServiceState::Accepted | ServiceState::Declined)
    }
}

/// Something a person asks of a professional-services request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServiceCommand {
    /// Staff: the work, its price and its terms, as the customer will read them.
    Quote { quote: String },
    /// The customer accepts the quote (staff record an acceptance given otherwise, saying how).
    Accept {
        #[serde(default)]
        note: String,
    },
    /// The customer declines the quote or withdraws the request, or staff decline to quote;
    /// with the reason.
    Decline { reason: String },
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceAction {
    Quote,
    Accept,
    Decline,
}

impl ServiceAction {
    pub const ALL: [ServiceAction; 3] = [
        ServiceAction::Quote,
        ServiceAction::Accept,
        ServiceAction::Decline,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ServiceAction::Quote => "quote",
            ServiceAction::Accept => "accept",
            ServiceAction::Decline => "decline",
        }
    }
}

impl ServiceCommand {
    pub fn action(&self) -> ServiceAction {
        match self {
            ServiceCommand::Quote { .. } => ServiceAction::Quote,
            ServiceCommand::Accept { .. } => ServiceAction::Accept,
            ServiceCommand::Decline { .. } => ServiceAction::Decline,
        }
    }
}

/// What a command does to a request: its new state and the text that goes with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceChange {
    Quoted { quote: String },
    Answered { state: ServiceState, text: String },
}

/// Why a command cannot be carried out, in the same three kinds as a ticket's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServiceRefusal {
    #[error("{action} is not allowed while the request is {state}", action = action.as_str(), state = state.as_str())]
    NotNow {
        action: ServiceAction,
        state: ServiceState,
        allowed: Vec<ServiceAction>,
    },
    #[error("a {role} may not {action} a professional-services request", role = role.as_str(), action = action.as_str())]
    NotPermitted { action: ServiceAction, role: Role },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: Reason },
}

fn permitted(role: Role, action: ServiceAction) -> bool {
    match action {
        ServiceAction::Quote => role.is_staff(),
        ServiceAction::Accept | ServiceAction::Decline => true,
    }
}

fn allowed_in(state: ServiceState, action: ServiceAction) -> bool {
    match (action, state) {
        (ServiceAction::Quote, ServiceState::Requested) => true,
        (ServiceAction::Accept, ServiceState::Quoted) => true,
        // Before a quote, declining is the desk refusing to quote, or the customer
        // withdrawing the request.
        (ServiceAction::Decline, ServiceState::Quoted | ServiceState::Requested) => true,
        _ => false,
    }
}

/// The actions a role may take on a request in `state`.
pub fn allowed_service_actions(state: ServiceState, role: Role) -> Vec<ServiceAction> {
    ServiceAction::ALL
        .into_iter()
        .filter(|action| permitted(role, *action) && allowed_in(state, *action))
        .collect()
}

/// Checks a command against the request's state and the caller's role.
pub fn decide_service(
    state: ServiceState,
    role: Role,
    command: ServiceCommand,
) -> Result<ServiceChange, ServiceRefusal> {
    let action = command.action();
    if !permitted(role, action) {
        return Err(ServiceRefusal::NotPermitted { action, role });
    }
    if !allowed_in(state, action) {
        return Err(ServiceRefusal::NotNow {
            action,
            state,
            allowed: allowed_service_actions(state, role),
        });
    }
    let text = |field: &'static str, text: String| {
        if text.trim().is_empty() {
            Err(ServiceRefusal::Invalid {
                field,
                reason: Reason::required(),
            })
        } else {
            Ok(text)
        }
    };
    Ok(match command {
        ServiceCommand::Quote { quote } => ServiceChange::Quoted {
            quote: text("quote", quote)?,
        },
        ServiceCommand::Accept { note } if role.is_staff() && note.trim().is_empty() => {
            return Err(ServiceRefusal::Invalid {
                field: "note",
                reason: Reason::invalid("say how the customer accepted the quote".to_string()),
            });
        }
        ServiceCommand::Accept { note } => ServiceChange::Answered {
            state: ServiceState::Accepted,
            text: note,
        },
        ServiceCommand::Decline { reason } => ServiceChange::Answered {
            state: ServiceState::Declined,
            text: text("reason", reason)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAFF: Role = Role::Advisor;
    const CUSTOMER: Role = Role::CustomerContact;

    fn quote() -> ServiceCommand {
        ServiceCommand::Quote {
            quote: "3 days of development, 2,400 EUR".into(),
        }
    }

    fn accept(note: &str) -> ServiceCommand {
        ServiceCommand::Accept { note: note.into() }
    }

    fn decline(reason: &str) -> ServiceCommand {
        ServiceCommand::Decline {
            reason: reason.into(),
        }
    }

    #[test]
    fn the_life_of_a_request_in_a_table() {
        use ServiceState::*;
        let cases: [(
            ServiceState,
            Role,
            ServiceCommand,
            Result<ServiceState, &str>,
        ); 12] = [
            (Requested, STAFF, quote(), Ok(Quoted)),
            (Requested, CUSTOMER, quote(), Err("not_permitted")),
            (Requested, CUSTOMER, accept(""), Err("not_now")),
            (
                Requested,
                CUSTOMER,
                decline("no longer needed"),
                Ok(Declined),
            ),
            (
                Requested,
                STAFF,
                decline("we do not write C#"),
                Ok(Declined),
            ),
            (Quoted, CUSTOMER, accept(""), Ok(Accepted)),
            (Quoted, STAFF, accept(""), Err("invalid")),
            (Quoted, STAFF, accept("signed order 4411"), Ok(Accepted)),
            (Quoted, CUSTOMER, decline("over budget"), Ok(Declined)),
            (Quoted, CUSTOMER, decline("  "), Err("invalid")),
            (Quoted, STAFF, quote(), Err("not_now")),
            (
                Accepted,
                CUSTOMER,
                decline("changed our mind"),
                Err("not_now"),
            ),
        ];
        for (index, (state, role, command, expected)) in cases.into_iter().enumerate() {
            let outcome = decide_service(state, role, command);
            let got = match outcome {
                Ok(ServiceChange::Quoted { .. }) => Ok(Quoted),
                Ok(ServiceChange::Answered { state, .. }) => Ok(state),
                Err(ServiceRefusal::NotNow { .. }) => Err("not_now"),
                Err(ServiceRefusal::NotPermitted { .. }) => Err("not_permitted"),
                Err(ServiceRefusal::Invalid { .. }) => Err("invalid"),
            };
            assert_eq!(got, expected, "case {index}");
        }
    }

    #[test]
    fn a_refusal_lists_what_the_caller_may_do_instead() {
        let refusal = decide_service(ServiceState::Quoted, STAFF, quote()).unwrap_err();
        assert_eq!(
            refusal,
            ServiceRefusal::NotNow {
                action: ServiceAction::Quote,
                state: ServiceState::Quoted,
                allowed: vec![ServiceAction::Accept, ServiceAction::Decline],
            }
        );
        assert!(allowed_service_actions(ServiceState::Declined, STAFF).is_empty());
        assert_eq!(
            allowed_service_actions(ServiceState::Requested, CUSTOMER),
            vec![ServiceAction::Decline]
        );
    }
}
