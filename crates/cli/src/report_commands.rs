//! `caredesk report …`: what the policy promised and what was kept, on the terminal or as
//! CSV and JSON to keep.

use std::io::{self, Write};

use caredesk_desk::reports::{self, ComplianceReport, ComplianceRequest};
use caredesk_desk::{Caller, Desk};
use caredesk_domain::report::{ClockSummary, Dimension, ReportFilter, ShareOfTarget};
use clap::{Args, Subcommand, ValueEnum};
use jiff::civil::Date;

use crate::Failure;
use crate::release_commands::refused;

#[derive(Subcommand)]
pub enum ReportCommand {
    /// SLA compliance of the tickets opened in a period: for each clock, met, breached, still
    /// open within or past target, and the business time used against the target.
    Sla(SlaArgs),
}

impl ReportCommand {
    pub fn database(&self) -> Option<&String> {
        match self {
            ReportCommand::Sla(args) => args.database.as_ref(),
        }
    }
}

#[derive(Args)]
pub struct SlaArgs {
    /// The first day of the period (UTC), such as 2026-09-01; 30 days before --to unless given.
    #[arg(long, value_parser = date)]
    from: Option<Date>,
    /// The last day of the period, included; today unless given.
    #[arg(long, value_parser = date)]
    to: Option<Date>,
    /// What to break the report down by, comma-separated: month, program, severity, region,
    /// channel, product_line, language, advisor, customer.
    #[arg(long, value_parser = dimensions, default_value = "")]
    by: Dimensions,
    #[arg(long)]
    program: Option<String>,
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
    /// An advisor's id: their tickets only.
    #[arg(long)]
    advisor: Option<i64>,
    /// A customer's id: its tickets only.
    #[arg(long)]
    customer: Option<i64>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The database (instead of the configured one).
    #[arg(long)]
    database: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Aligned columns for reading.
    Table,
    /// Every count, one line per group and a last one for all.
    Csv,
    /// The API's report.
    Json,
}

#[derive(Clone)]
struct Dimensions(Vec<Dimension>);

fn dimensions(text: &str) -> Result<Dimensions, String> {
    Dimension::list(text).map(Dimensions)
}

fn date(text: &str) -> Result<Date, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a date such as 2026-09-01"))
}

pub async fn run(command: ReportCommand, desk: &Desk) -> Result<(), Failure> {
    match command {
        ReportCommand::Sla(args) => sla(args, desk).await,
    }
}

async fn sla(args: SlaArgs, desk: &Desk) -> Result<(), Failure> {
    let request = ComplianceRequest {
        from: args.from,
        to: args.to,
        by: args.by.0,
        filter: ReportFilter {
            program: args.program,
            severity: args.severity,
            region: args.region,
            channel: args.channel,
            product_line: args.product_line,
            language: args.language,
            advisor: args.advisor,
            customer: args.customer,
        },
    };
    let report = reports::compliance(desk, &Caller::System, request)
        .await
        .map_err(refused)?;
    let text = match args.format {
        Format::Table => table(&report),
        Format::Csv => reports::as_csv(&report),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(&report)
                .map_err(|error| Failure::Environment(error.to_string()))?;
            json.push('\n');
            json
        }
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The report as aligned columns: per group, the tickets, and for each clock the share met,
/// the breaches, those open past target now, and the median time used.
fn table(report: &ComplianceReport) -> String {
    let mut header: Vec<String> = report
        .by
        .iter()
        .map(|dimension| dimension.name().to_string())
        .collect();
    header.push("tickets".into());
    for clock in ["response", "updates", "resolution"] {
        for column in ["met", "late", "open late", "median"] {
            header.push(format!("{clock} {column}"));
        }
    }
    let mut lines = vec![header];
    let all = vec!["all".to_string(); report.by.len()];
    for (line, labels) in report
        .lines
        .iter()
        .map(|line| (line, &line.labels))
        .chain(std::iter::once((&report.total, &all)))
    {
        let mut cells: Vec<String> = labels.clone();
        cells.push(line.tickets.to_string());
        for clock in [&line.first_response, &line.updates, &line.resolution] {
            cells.extend(clock_cells(clock));
        }
        lines.push(cells);
    }
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            lines
                .iter()
                .filter_map(|line| line.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = format!(
        "SLA compliance of the tickets opened from {} to {} (UTC). For the first response, \
         the status updates and the resolution: the share met, how many ran late, how many are \
         still open past their target, and the median business time used against the target.\n",
        report.from, report.to
    );
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(index, (cell, width))| {
                if index < report.by.len() {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

fn clock_cells(clock: &ClockSummary) -> [String; 4] {
    [
        clock
            .met_percent
            .map_or_else(|| "-".to_string(), |percent| format!("{percent:.1}%")),
        clock.breached.to_string(),
        clock.open_past.to_string(),
        match clock.median_used {
            Some(ShareOfTarget::About(percent)) => format!("{percent}%"),
            Some(ShareOfTarget::OverTwice) => ">200%".to_string(),
            None => "-".to_string(),
        },
    ]
}
