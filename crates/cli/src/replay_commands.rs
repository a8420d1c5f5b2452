//! `caredesk policy replay`: the desk's real tickets timed again under another program or
//! another policy file, writing nothing.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use caredesk_desk::replay::{ReplayReport, ReplayRequest, replay as replay_tickets, replay_as_csv};
use caredesk_desk::{Caller, Desk};
use caredesk_domain::report::ReportFilter;
use caredesk_domain::ticket::replay::Kept;
use caredesk_mail::text_table::aligned;
use clap::{Args, ValueEnum};
use jiff::civil::Date;

use crate::release_commands::refused;
use crate::{Failure, load_policy};

#[derive(Args)]
pub struct ReplayArgs {
    /// The program to time the tickets under (each ticket's own unless given).
    #[arg(long)]
    program: Option<String>,
    /// A policy file to time the tickets under (the desk's policy unless given).
    #[arg(long, value_name = "FILE")]
    alternative_policy: Option<PathBuf>,
    /// The first day the tickets were opened (UTC), such as 2026-01-01; 30 days before --to
    /// unless given.
    #[arg(long, value_parser = date)]
    from: Option<Date>,
    /// The last day, included; today unless given.
    #[arg(long, value_parser = date)]
    to: Option<Date>,
    /// A customer's id: its tickets only.
    #[arg(long)]
    customer: Option<i64>,
    /// Only the tickets now under this program (--program is the one to time them under).
    #[arg(long)]
    of_program: Option<String>,
    #[arg(long)]
    severity: Option<String>,
    #[arg(long)]
    region: Option<String>,
    #[arg(long)]
    channel: Option<String>,
    #[arg(long)]
    product_line: Option<String>,
    #[arg(long)]
    language: Option<String>,
    #[arg(long, value_enum, default_value_t = ReplayFormat::Table)]
    format: ReplayFormat,
    /// The database (instead of the configured one).
    #[arg(long)]
    pub database: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReplayFormat {
    /// The summary per clock and severity, in aligned columns.
    Table,
    /// One line per ticket: each clock under the actual and the alternative terms.
    Csv,
    /// The whole replay: every ticket and the summary.
    Json,
}

fn date(text: &str) -> Result<Date, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a date such as 2026-09-01"))
}

/// Runs the replay `args` ask for on `desk` and prints it.
pub async fn run(args: ReplayArgs, desk: &Desk) -> Result<(), Failure> {
    let policy = match &args.alternative_policy {
        Some(path) => Some(Arc::new(load_policy(Some(path))?)),
        None => None,
    };
    let request = ReplayRequest {
        from: args.from,
        to: args.to,
        filter: ReportFilter {
            program: args.of_program,
            severity: args.severity,
            region: args.region,
            channel: args.channel,
            product_line: args.product_line,
            language: args.language,
            advisor: None,
            customer: args.customer,
        },
        program: args.program,
        policy,
        // The table is the summary alone.
        per_ticket: !matches!(args.format, ReplayFormat::Table),
    };
    let report = replay_tickets(desk, &Caller::System, request)
        .await
        .map_err(|error| match refused(error) {
            Failure::Input(message) => Failure::Input(as_flags(&message)),
            other => other,
        })?;
    let text = match args.format {
        ReplayFormat::Json => serde_json::to_string_pretty(&report)
            .map(|json| json + "\n")
            .map_err(|error| Failure::Environment(error.to_string()))?,
        ReplayFormat::Csv => replay_as_csv(&report),
        ReplayFormat::Table => as_table(&report),
    };
    io::stdout()
        .write_all(text.as_bytes())
        .map_err(|error| Failure::Environment(error.to_string()))
}

/// The desk's field names as this command's flags: the filter's program is `--of-program`,
/// the program to time the tickets under `--program`.
fn as_flags(message: &str) -> String {
    message
        .lines()
        .map(|line| {
            if let Some(rest) = line.strip_prefix("--program:") {
                format!("--of-program:{rest}")
            } else if let Some(rest) = line.strip_prefix("--alternative-program:") {
                format!("--program:{rest}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn as_table(report: &ReplayReport) -> String {
    let terms = match (&report.program, &report.policy) {
        (Some(program), Some(policy)) => format!("program {program} under the policy {policy}"),
        (Some(program), None) => format!("program {program}"),
        (None, Some(policy)) => format!("the policy {policy}"),
        (None, None) => "the same terms".to_string(),
    };
    let mut text = format!(
        "{} tickets opened from {} to {}, timed again under {terms}",
        report.summary.tickets, report.from, report.to
    );
    if report.set_aside > 0 {
        text.push_str(&format!(
            " ({} set aside: the desk's policy no longer times them)",
            report.set_aside
        ));
    }
    text.push_str("\n\n");
    let share = |kept: &Kept| {
        kept.met_percent()
            .map_or_else(|| "-".to_string(), |percent| format!("{percent:.1}%"))
    };
    let mut lines = vec![
        [
            "clock",
            "severity",
            "settled",
            "met",
            "settled (alternative)",
            "met (alternative)",
            "breaches avoided",
            "breaches added",
        ]
        .map(str::to_string)
        .to_vec(),
    ];
    for line in &report.summary.lines {
        if line.actual.settled + line.alternative.settled == 0 {
            continue;
        }
        lines.push(vec![
            line.clock.replace('_', " "),
            line.severity.clone(),
            line.actual.settled.to_string(),
            share(&line.actual),
            line.alternative.settled.to_string(),
            share(&line.alternative),
            line.breaches_avoided.to_string(),
            line.breaches_added.to_string(),
        ]);
    }
    text.push_str(&aligned(&lines, 2, false));
    text
}
