//! `caredesk mail ingest`: one message from standard input, as an MTA hands it over (a
//! pipe transport, such as Postfix's `pipe` or an alias `|caredesk mail ingest`).
//!
//! Exit codes follow sendmail's: 0 when the message was taken (appended, opened, or ignored
//! with a reason: an MTA must not bounce junk back to its sender), 75 (try again later)
//! when the database could not be reached, so the MTA keeps the message and retries.

use std::io::Read;

use caredesk_desk::Clock;
use caredesk_desk::mail_in::{inbound_limit, ingest as take_in};
use clap::Subcommand;

use crate::Failure;
use crate::server::OfferedPolicy;
use crate::settings::Settings;

#[derive(Subcommand)]
pub enum MailCommand {
    /// Reads one RFC 5322 message from standard input and files it: a reply on its ticket,
    /// a known contact's message as a new ticket, anything else ignored; prints what became
    /// of it as JSON.
    Ingest {
        #[arg(long)]
        database: Option<String>,
    },
}

pub async fn ingest(settings: &Settings, offered: OfferedPolicy) -> Result<(), Failure> {
    let store = crate::server::connect(settings)
        .await
        .map_err(|failure| match failure {
            Failure::Environment(message) => Failure::TryLater(message),
            other => other,
        })?;
    let policy = crate::server::policy_for_command(&store, &offered)
        .await
        .map_err(|failure| match failure {
            Failure::Environment(message) => Failure::TryLater(message),
            other => other,
        })?;
    let desk = crate::server::desk(settings, &store, policy, Clock::System)?;
    let limit = inbound_limit(&desk.limits);
    let mut bytes = Vec::new();
    // One byte over the limit is enough to know it is over.
    std::io::stdin()
        .lock()
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| Failure::TryLater(format!("cannot read the message: {error}")))?;
    let report = take_in(&desk, &bytes).await;
    store.close().await;
    let report = report.map_err(|error| Failure::TryLater(error.to_string()))?;
    let json =
        serde_json::to_string(&report).map_err(|error| Failure::Environment(error.to_string()))?;
    println!("{json}");
    Ok(())
}
