//! caredesk's use cases, one module per capability: open a ticket ([`intake`]), act on one
//! ([`tickets`]), take in a mail ([`mail_in`]), do what the desk does by itself ([`sweep`]),
//! sign in ([`sessions`]), hold and end access ([`access`]), answer a professional-services request ([`services`]).
//!
//! Each use case is a function of typed inputs and the [`Caller`]: it reads what it needs
//! from the store, asks the domain what happens, has the store write that (with its outbox
//! rows) in one transaction, and says what came of it or what went wrong ([`DeskError`]).
//! It knows nothing of HTTP, HTML or the terminal: the API, the pages, inbound mail, the
//! worker and the CLI all call these same functions, so a rule applies whichever way a
//! request comes in.

pub mod access;
pub mod activation;
pub mod activation_keys;
pub mod audit;
pub mod caller;
pub mod catalog;
pub mod clock;
pub mod community;
pub mod customers;
pub mod error;
pub mod intake;
pub mod mail_in;
pub mod monthly_reports;
pub mod people;
pub mod policy_versions;
pub mod products;
pub mod replay;
pub mod reports;
pub mod resource_files;
pub mod resources;
pub mod services;
pub mod sessions;
pub mod staff;
pub mod sweep;
pub mod ticket_search;
pub mod tickets;
pub mod update_requests;
pub mod updates;
pub mod volume;
pub mod webhooks;

use std::net::IpAddr;
use std::sync::Arc;

use caredesk_domain::policy::Policy;
use caredesk_domain::sign_in::SignInThrottle;
use caredesk_mail::MessageIds;
use caredesk_store::{Audit, Store};

pub use activation_keys::ActivationKeys;
pub use caller::Caller;
pub use clock::Clock;
pub use error::{DeskError, FieldProblem};
pub use policy_versions::CurrentPolicy;

/// The longest texts the desk keeps, per kind of field: past them a field is refused
/// (`too_long`), never cut. The API's schema states the same bounds.
pub mod bounds {
    /// A person's or an organisation's name.
    pub const NAME: usize = 200;
    /// An e-mail address (RFC 5321's longest path).
    pub const EMAIL: usize = 254;
    /// A phone number, a customer number, a product version.
    pub const SHORT: usize = 50;
    /// A serial number.
    pub const SERIAL: usize = 100;
    /// What an API token is for.
    pub const TOKEN_NAME: usize = 100;
    /// A password: long enough for any passphrase, short enough to hash cheaply.
    pub const PASSWORD: usize = 1024;
}

/// What every use case works with: the database, the policy in force, the clock, and the
/// operator's limits.
#[derive(Clone, Debug)]
pub struct Desk {
    pub store: Store,
    /// The policy version in force for this instance (see [`Desk::policy`]).
    pub current_policy: CurrentPolicy,
    pub clock: Clock,
    /// Our messages' ids, to thread inbound replies.
    pub mail_ids: MessageIds,
    pub limits: DeskLimits,
    /// Where the request being served comes from, for the audit trail (none on the command
    /// line and in the desk's own jobs).
    pub client_address: Option<IpAddr>,
    /// The key that signs activation codes.
    pub activation_keys: ActivationKeys,
    /// What the update manager read lately (catalogs, care), shared by an instance's
    /// requests.
    pub update_cache: updates::UpdateCache,
}

impl Desk {
    /// The policy in force now. A use case takes it once and works under it to its end,
    /// even when a new version comes into force meanwhile.
    pub fn policy(&self) -> Arc<Policy> {
        self.current_policy.get()
    }

    /// This desk, serving a request from `address`.
    pub fn from_address(self, address: Option<IpAddr>) -> Desk {
        Desk {
            client_address: address,
            ..self
        }
    }

    /// The store, recording each administrative change it writes as the caller's, with when
    /// and from where, in the change's own transaction.
    pub fn audited_store(&self, caller: &Caller) -> Store {
        self.store.audited_by(Audit {
            actor: caller.key(),
            address: self
                .client_address
                .map(|address| address.to_string())
                .unwrap_or_default(),
            at: self.clock.now(),
        })
    }
}

/// Bounds the operator may tune.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeskLimits {
    /// Largest attachment kept.
    pub max_attachment_bytes: usize,
    /// How long a signed-in session lasts.
    pub session_hours: i64,
    /// How many wrong passwords, and then how long to wait.
    pub sign_in: SignInThrottle,
}

impl Default for DeskLimits {
    fn default() -> Self {
        Self {
            max_attachment_bytes: 10 * 1024 * 1024,
            session_hours: 12,
            sign_in: SignInThrottle::default(),
        }
    }
}
