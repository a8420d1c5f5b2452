//! caredesk's job runner: it delivers the notices of the outbox and sweeps ticket state
//! (breaches, consent reminders, at-risk warnings) at intervals. It runs inside
//! `caredesk serve` or alone as `caredesk worker`; several may run on one PostgreSQL, since
//! every notice is claimed under a lease and every sweep runs under a job lease.
//!
//! Nothing here holds state worth keeping: a restart picks up from the database.

pub mod delivery;
pub mod monthly;
pub mod runner;

pub use delivery::{Deliverer, MailSettings, RoundReport};
pub use runner::{Runner, RunnerSettings};

/// A name for this process's leases, unique enough across hosts and restarts.
pub fn instance_name() -> String {
    format!("pid{}-{:08x}", std::process::id(), rand::random::<u32>())
}
