//! `caredesk sla …`: due times, elapsed business time and explanations on a calendar.

use std::io::{self, Write};

use caredesk_domain::calendar::Pause;
use caredesk_domain::policy::Policy;
use clap::{Args, Subcommand};
use jiff::Timestamp;

use crate::args::local_rfc3339;
use crate::{Failure, args, batch};

#[derive(Subcommand)]
pub enum SlaCommand {
    /// When N business minutes after START are done.
    Due(DueArgs),
    /// Whole business minutes between FROM and TO.
    Elapsed(ElapsedArgs),
    /// Why a due time is what it is: every span counted, every closure skipped.
    Explain(ExplainArgs),
    /// Whether a calendar is open at an instant, and when it next opens.
    Open(OpenArgs),
    /// Computes again every open ticket's clocks, flags and queue keys under the policy
    /// version in force, from its timeline (after `policy apply --no-rebuild`, or to finish
    /// a rebuild that stopped: it goes on where it was and records no event twice).
    Rebuild(crate::policy_version_commands::RebuildArgs),
}

#[derive(Args)]
pub struct DueArgs {
    /// Read `calendar,start,minutes` lines from stdin and print one due instant per line.
    #[arg(long, conflicts_with_all = ["calendar", "start", "minutes", "pauses"])]
    batch: bool,
    /// A calendar of the policy, such as americas or 24x7-emea.
    #[arg(long, required_unless_present = "batch")]
    calendar: Option<String>,
    /// RFC 3339 instant, such as 2026-09-04T16:30:00-04:00.
    #[arg(long, value_parser = args::instant, required_unless_present = "batch")]
    start: Option<Timestamp>,
    /// Business minutes to add (0 or more).
    #[arg(long, value_parser = args::minutes, allow_hyphen_values = true, required_unless_present = "batch")]
    minutes: Option<u64>,
    /// A pause that counts as closed time, FROM/TO (may be repeated).
    #[arg(long = "pause", value_parser = args::pause, value_name = "FROM/TO")]
    pauses: Vec<(Timestamp, Timestamp)>,
}

#[derive(Args)]
pub struct ElapsedArgs {
    /// Read `calendar,from,to` lines from stdin and print whole minutes per line.
    #[arg(long, conflicts_with_all = ["calendar", "from", "to", "pauses"])]
    batch: bool,
    #[arg(long, required_unless_present = "batch")]
    calendar: Option<String>,
    #[arg(long, value_parser = args::instant, required_unless_present = "batch")]
    from: Option<Timestamp>,
    #[arg(long, value_parser = args::instant, required_unless_present = "batch")]
    to: Option<Timestamp>,
    /// A pause that counts as closed time, FROM/TO (may be repeated).
    #[arg(long = "pause", value_parser = args::pause, value_name = "FROM/TO")]
    pauses: Vec<(Timestamp, Timestamp)>,
}

#[derive(Args)]
pub struct ExplainArgs {
    #[arg(long)]
    calendar: String,
    #[arg(long, value_parser = args::instant)]
    start: Timestamp,
    #[arg(long, value_parser = args::minutes, allow_hyphen_values = true)]
    minutes: u64,
    /// A pause that counts as closed time, FROM/TO (may be repeated).
    #[arg(long = "pause", value_parser = args::pause, value_name = "FROM/TO")]
    pauses: Vec<(Timestamp, Timestamp)>,
}

#[derive(Args)]
pub struct OpenArgs {
    #[arg(long)]
    calendar: String,
    #[arg(long, value_parser = args::instant)]
    at: Timestamp,
}

pub fn run(command: SlaCommand, policy: &Policy) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match command {
        SlaCommand::Due(due) => match (due.batch, due.calendar, due.start, due.minutes) {
            (true, ..) => batch::due(policy, io::stdin().lock(), &mut out),
            (false, Some(calendar), Some(start), Some(minutes)) => {
                let calendar = policy.calendar(&calendar)?;
                let pauses = pauses(&due.pauses);
                let due = calendar.due_with_pauses(start, minutes, &pauses)?;
                writeln!(out, "{}", local_rfc3339(calendar, due))?;
                Ok(())
            }
            _ => Err(missing_arguments()),
        },
        SlaCommand::Elapsed(elapsed) => {
            match (elapsed.batch, elapsed.calendar, elapsed.from, elapsed.to) {
                (true, ..) => batch::elapsed(policy, io::stdin().lock(), &mut out),
                (false, Some(calendar), Some(from), Some(to)) => {
                    let calendar = policy.calendar(&calendar)?;
                    let pauses = pauses(&elapsed.pauses);
                    writeln!(out, "{}", calendar.elapsed_with_pauses(from, to, &pauses)?)?;
                    Ok(())
                }
                _ => Err(missing_arguments()),
            }
        }
        SlaCommand::Explain(explain) => {
            let calendar = policy.calendar(&explain.calendar)?;
            let pauses = pauses(&explain.pauses);
            let explanation = calendar.explain(explain.start, explain.minutes, &pauses)?;
            writeln!(out, "{explanation}")?;
            Ok(())
        }
        SlaCommand::Rebuild(_) => Err(Failure::Environment(
            "rebuild needs the database and is run by main".into(),
        )),
        SlaCommand::Open(open) => {
            let calendar = policy.calendar(&open.calendar)?;
            if calendar.is_open(open.at)? {
                writeln!(out, "open")?;
            } else {
                let opening = calendar.next_open(open.at)?;
                writeln!(out, "closed; opens {}", local_rfc3339(calendar, opening))?;
            }
            Ok(())
        }
    }
}

/// Clap enforces these; kept as an error rather than a panic all the same.
fn missing_arguments() -> Failure {
    Failure::Input("give --batch, or every one of the other arguments".to_string())
}

fn pauses(ranges: &[(Timestamp, Timestamp)]) -> Vec<Pause<'static>> {
    ranges
        .iter()
        .map(|&(from, to)| Pause {
            from,
            to,
            reason: "given with --pause",
        })
        .collect()
}
