//! caredesk's functional core: business calendars, SLA arithmetic and the support policy.
//!
//! Nothing here performs I/O, spawns tasks or reads the system clock: every instant is a
//! parameter, so every answer is reproducible and testable.

pub mod activation;
pub mod calendar;
pub mod catalog;
pub mod duration;
pub mod intake;
pub mod notify;
pub mod policy;
pub mod reason;
pub mod report;
pub mod resources;
pub mod routing;
pub mod services;
pub mod sign_in;
pub mod sla;
pub mod text;
pub mod ticket;
pub mod work;
