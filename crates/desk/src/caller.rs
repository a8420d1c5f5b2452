//! Who asks the desk to do something: a staff member in a role, a customer's contact, or
//! the desk itself.

use caredesk_domain::ticket::{Actor, Role};
use caredesk_store::Scope;

use crate::DeskError;

/// The acting person, as the desk's rules need them (the HTTP layer knows more: names,
/// sessions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Staff {
        id: i64,
        role: Role,
    },
    Contact {
        id: i64,
        customer_id: i64,
    },
    /// The desk's own work (sweeps, automatic steps) and its operator at the command line,
    /// who may change anything but takes no ticket commands.
    System,
}

impl Caller {
    /// Who an event is recorded as.
    pub fn actor(&self) -> Actor {
        match *self {
            Caller::Staff { id, role } => Actor::Staff { id, role },
            Caller::Contact { id, .. } => Actor::Contact { id },
            Caller::System => Actor::System,
        }
    }

    /// The role the policy's rights are checked for; the desk itself has none (it records
    /// what the policy makes happen, it asks for nothing).
    pub fn role(&self) -> Option<Role> {
        self.actor().role()
    }

    /// Which tickets the caller may see.
    pub fn scope(&self) -> Scope {
        match *self {
            Caller::Contact { customer_id, .. } => Scope::Customer(customer_id),
            Caller::Staff { .. } | Caller::System => Scope::All,
        }
    }

    /// A stable name for idempotency keys and uploads: "staff:7", "contact:3", "system".
    pub fn key(&self) -> String {
        match *self {
            Caller::Staff { id, .. } => format!("staff:{id}"),
            Caller::Contact { id, .. } => format!("contact:{id}"),
            Caller::System => "system".to_string(),
        }
    }

    /// Refuses a caller whose role is not among `roles`; the desk's operator at the command
    /// line ([`Caller::System`]) may do anything.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), DeskError> {
        match self.role() {
            None => Ok(()),
            Some(role) if roles.contains(&role) => Ok(()),
            Some(Role::CustomerContact) => {
                Err(DeskError::Forbidden("this is for staff only".into()))
            }
            _ => Err(DeskError::Forbidden(format!(
                "this needs the role {}",
                roles
                    .iter()
                    .map(Role::as_str)
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }
}
