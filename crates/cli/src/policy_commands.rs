//! `caredesk policy …`: check a policy file, show it as tables, and compute a ticket's targets.

use std::io::{self, Write};
use std::path::PathBuf;

use caredesk_desk::Desk;
use caredesk_desk::catalog::catalog_release;
use caredesk_desk::policy_versions::{TicketPolicy, stored_version, ticket_policy};
use caredesk_domain::catalog::same_version;
use caredesk_domain::intake::supported_versions;
use caredesk_domain::policy::Policy;
use caredesk_domain::policy::{PolicyTable, TicketProfile, policy_tables};
use caredesk_domain::sla::{self, DueTarget, Targets};
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::ticket::explain::explain_ticket as explain_ticket_at;
use caredesk_store::{Scope, Store, StoreError};
use clap::{Args, Subcommand};
use jiff::Timestamp;
use serde::Serialize;

use crate::args::local_rfc3339;
use crate::{Failure, args, load_policy};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file (the --policy one, or the built-in one) and report every problem.
    Check {
        /// The file to check; defaults to --policy, then the built-in policy.
        file: Option<PathBuf>,
    },
    /// Show the policy as readable tables: the --policy file or the built-in one, or with
    /// --version a version the database keeps.
    Show {
        /// Year of the holiday dates to list (defaults to the current year).
        #[arg(long)]
        year: Option<i16>,
        /// A version the database keeps (see `policy history`).
        #[arg(long)]
        version: Option<u32>,
        /// The database (instead of the configured one), with --version.
        #[arg(long, requires = "version")]
        database: Option<String>,
    },
    /// Store a policy file as the next version, after showing what it changes (targets,
    /// calendars, holidays, coverage, languages, intake rules) and what it does to the open
    /// tickets, then compute every open ticket's clocks again under it.
    Apply(crate::policy_version_commands::ApplyArgs),
    /// Every policy version the database keeps, the latest first, and which is in force.
    History(crate::policy_version_commands::HistoryArgs),
    /// Which calendar a ticket runs on and when its first response and resolution are due.
    Targets(TargetsArgs),
    /// For one stored ticket, every rule that applied and why: cover, coverage window,
    /// calendar, language, advisor choice, flags, severity changes, escalations, consent,
    /// and each clock with the engine's step-by-step account.
    ExplainTicket(ExplainTicketArgs),
    /// The desk's real tickets timed again under another program (--program) or another
    /// policy file (--alternative-policy), writing nothing: each clock met or breached under
    /// the actual and the alternative terms, and the breaches the alternative would have
    /// avoided or added, per clock and severity.
    Replay(crate::replay_commands::ReplayArgs),
}

#[derive(Args)]
pub struct ExplainTicketArgs {
    /// The ticket number.
    pub id: i64,
    /// The database (defaults to the settings' one, `sqlite://caredesk.db`).
    #[arg(long)]
    pub database: Option<String>,
    /// The instant to explain the ticket at, RFC 3339 (defaults to now); later events are
    /// left out.
    #[arg(long, value_parser = args::instant)]
    pub at: Option<Timestamp>,
    /// Print JSON (the API's `GET /api/v1/tickets/{id}/explanation`) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct TargetsArgs {
    #[arg(long)]
    program: String,
    #[arg(long)]
    region: String,
    #[arg(long)]
    product_line: String,
    #[arg(long)]
    severity: String,
    #[arg(long)]
    channel: String,
    /// When the ticket was opened, RFC 3339.
    #[arg(long, value_parser = args::instant)]
    opened: Timestamp,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Explains a stored ticket (`policy explain-ticket`).
pub async fn explain_ticket(
    desk: &Desk,
    request: &ExplainTicketArgs,
    now: Timestamp,
) -> Result<(), Failure> {
    let store = &desk.store;
    let policy = &*desk.policy();
    let missing = || Failure::Input(format!("there is no ticket {}", request.id));
    let ticket = store
        .ticket(request.id, Scope::All)
        .await
        .map_err(|error| match error {
            StoreError::NotFound => missing(),
            other => Failure::Environment(other.to_string()),
        })?;
    let at = request.at.unwrap_or(now);
    // As of `at`: what happened later is not known yet.
    let timeline: Vec<_> = store
        .timeline(request.id, Scope::All)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?
        .into_iter()
        .filter(|event| event.at <= at)
        .collect();
    if timeline.is_empty() {
        return Err(Failure::Input(format!(
            "ticket {} was opened after {at}",
            request.id
        )));
    }
    let context = ClockContext {
        program: &ticket.program,
        region: &ticket.region,
        product_line: &ticket.product_line,
    };
    let explanation = explain_ticket_at(policy, &context, &timeline, at)
        .map_err(|error| Failure::Input(format!("ticket {}: {error}", request.id)))?;
    let scope = support_scope(store, policy, &ticket.product_line, &ticket.version).await?;
    let versions = ticket_policy(desk, &ticket, &timeline, at)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    let mut out = io::stdout().lock();
    if request.json {
        let mut document = serde_json::to_value(&explanation)
            .map_err(|error| Failure::Environment(error.to_string()))?;
        if let Some(fields) = document.as_object_mut() {
            fields.insert(
                "support_scope".into(),
                serde_json::to_value(&scope)
                    .map_err(|error| Failure::Environment(error.to_string()))?,
            );
            fields.insert(
                "policy".into(),
                serde_json::to_value(&versions)
                    .map_err(|error| Failure::Environment(error.to_string()))?,
            );
        }
        serde_json::to_writer_pretty(&mut out, &document)
            .map_err(|error| Failure::Environment(error.to_string()))?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "ticket {}: \"{}\", {} {} {}, {} ({}), as of {}",
        ticket.id,
        ticket.subject,
        ticket.program,
        ticket.region,
        ticket.product_line,
        explanation.severity,
        explanation.state.as_str(),
        explanation.as_of
    )?;
    write_ticket_policy(&mut out, &versions)?;
    writeln!(out, "\nrules")?;
    let topic_width = explanation
        .rules
        .iter()
        .map(|rule| rule.topic.len())
        .max()
        .unwrap_or(0);
    for rule in &explanation.rules {
        let at = rule.at.map(|at| format!(" [{at}]")).unwrap_or_default();
        writeln!(
            out,
            "  {:topic_width$}  {}{at}\n  {:topic_width$}    because {}",
            rule.topic, rule.decision, "", rule.reason
        )?;
    }
    writeln!(out, "\nsupport scope")?;
    writeln!(out, "  {}", scope.decision)?;
    for release in &scope.catalog {
        writeln!(out, "    {release}")?;
    }
    writeln!(out, "\nclocks")?;
    for clock in &explanation.clocks {
        let state = &clock.clock;
        writeln!(
            out,
            "  {}: {}, {} of {} min counted, {} min paused, {} min left{}{}",
            state.kind.as_str(),
            state.status.as_str(),
            state.elapsed_minutes,
            state.target_minutes,
            state.paused_minutes,
            state.remaining_minutes,
            if state.at_risk { ", at risk" } else { "" },
            if state.breached { ", BREACHED" } else { "" },
        )?;
        for step in &clock.steps {
            writeln!(out, "    {step}")?;
        }
    }
    Ok(())
}

pub fn run(command: PolicyCommand, policy_path: Option<&PathBuf>) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match command {
        PolicyCommand::Check { file } => {
            let path = file.as_ref().or(policy_path);
            let policy = load_policy(path)?;
            let source = path.map_or_else(
                || "the built-in policy".to_string(),
                |path| path.display().to_string(),
            );
            writeln!(
                out,
                "{source} is valid: {} programs, {} channels, {} severities, {} regions, {} calendars, {} coverage rules",
                policy.programs.len(),
                policy.channels.len(),
                policy.severities.len(),
                policy.regions.len(),
                policy.calendars.len(),
                policy.coverage.len()
            )?;
        }
        PolicyCommand::Show { year, .. } => {
            let policy = load_policy(policy_path)?;
            write_policy(&mut out, &policy, year)?;
        }
        PolicyCommand::Targets(request) => {
            let policy = load_policy(policy_path)?;
            let ticket = TicketProfile {
                program: &request.program,
                region: &request.region,
                product_line: &request.product_line,
                severity: &request.severity,
                channel: &request.channel,
            };
            let targets = sla::targets(&policy, &ticket, request.opened)
                .map_err(|error| Failure::Input(error.to_string()))?;
            if request.json {
                let json = TargetsJson::new(&targets);
                serde_json::to_writer_pretty(&mut out, &json)
                    .map_err(|error| Failure::Environment(error.to_string()))?;
                writeln!(out)?;
            } else {
                write_targets(&mut out, &targets)?;
            }
        }
        PolicyCommand::ExplainTicket(_)
        | PolicyCommand::Replay(_)
        | PolicyCommand::Apply(_)
        | PolicyCommand::History(_) => {
            return Err(Failure::Environment(
                "this command needs the database and is run by main".into(),
            ));
        }
    }
    Ok(())
}

/// The policy as readable tables, under its name (holidays dated in `year`, this year by
/// default).
pub fn write_policy(out: &mut impl Write, policy: &Policy, year: Option<i16>) -> io::Result<()> {
    // The one place this program reads the clock: the default year of `show`.
    let year = year.unwrap_or_else(|| {
        Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .year()
    });
    writeln!(out, "# {}", policy.name)?;
    for table in policy_tables(policy, year) {
        writeln!(out)?;
        write_markdown_table(out, &table)?;
    }
    Ok(())
}

/// `policy show --version N`: a version the database keeps, with who applied it when.
pub async fn show_version(desk: &Desk, version: u32, year: Option<i16>) -> Result<(), Failure> {
    let (stored, policy) = stored_version(desk, &caredesk_desk::Caller::System, version)
        .await
        .map_err(|error| match error {
            caredesk_desk::DeskError::NotFound => {
                Failure::Input(format!("the database keeps no policy version {version}"))
            }
            other => Failure::Environment(other.to_string()),
        })?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "<!-- policy version {} from {}, applied {} by {}, in force from {}, sha-256 {} -->",
        stored.version,
        stored.source,
        stored.applied_at,
        stored.applied_by,
        stored.effective_at,
        stored.sha256
    )?;
    write_policy(&mut out, &policy, year)?;
    Ok(())
}

/// Which policy version the ticket's clocks follow, and what the one before said.
fn write_ticket_policy(out: &mut impl Write, versions: &TicketPolicy) -> io::Result<()> {
    writeln!(out, "\npolicy")?;
    match &versions.applied {
        Some(applied) => writeln!(
            out,
            "  version {} (from {}, applied {} by {}, in force from {})",
            applied.version,
            applied.source,
            applied.applied_at,
            applied.applied_by,
            applied.effective_at
        )?,
        None => writeln!(out, "  the policy file (the database keeps no version yet)")?,
    }
    match versions.computed_under {
        0 => writeln!(
            out,
            "  its stored clocks were computed before the desk kept policy versions"
        )?,
        under if under == versions.version => {
            writeln!(out, "  its stored clocks were computed under it")?
        }
        under => writeln!(
            out,
            "  its stored clocks were computed under version {under}, and wait to be computed again"
        )?,
    }
    if let Some(previous) = &versions.previous {
        match &previous.problem {
            Some(problem) => writeln!(
                out,
                "  version {} could not time it: {problem}",
                previous.version.version
            )?,
            None => {
                writeln!(out, "  version {} had said:", previous.version.version)?;
                for clock in &previous.clocks {
                    let due = clock
                        .due_at
                        .map_or_else(|| "no due time".to_string(), |due| format!("due {due}"));
                    writeln!(
                        out,
                        "    {}: {}, {due}, {} of {} min counted{}",
                        clock.kind.as_str(),
                        clock.status.as_str(),
                        clock.elapsed_minutes,
                        clock.target_minutes,
                        if clock.breached { ", BREACHED" } else { "" },
                    )?;
                }
            }
        }
    }
    Ok(())
}

fn write_markdown_table(out: &mut impl Write, table: &PolicyTable) -> io::Result<()> {
    writeln!(out, "## {}\n", table.title)?;
    let width = |text: &str| text.chars().count();
    let mut widths: Vec<usize> = table.headers.iter().map(|header| width(header)).collect();
    for row in &table.rows {
        for (column, cell) in row.iter().enumerate() {
            if let Some(current) = widths.get_mut(column) {
                *current = (*current).max(width(cell));
            }
        }
    }
    let write_row = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        write!(out, "|")?;
        for (cell, column_width) in cells.iter().zip(&widths) {
            let padding = column_width.saturating_sub(width(cell));
            write!(out, " {cell}{} |", " ".repeat(padding))?;
        }
        writeln!(out)
    };
    write_row(out, &table.headers)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    write_row(out, &rule)?;
    for row in &table.rows {
        write_row(out, row)?;
    }
    if let Some(note) = &table.note {
        writeln!(out, "\n{note}")?;
    }
    Ok(())
}

fn write_targets(out: &mut impl Write, targets: &Targets<'_>) -> io::Result<()> {
    let calendar = targets.calendar;
    writeln!(
        out,
        "calendar         {} ({}, {})",
        calendar.name(),
        calendar.title(),
        calendar.time_zone().iana_name().unwrap_or("")
    )?;
    match targets.rule {
        Some(rule) => {
            write!(out, "                 by coverage rule \"{}\"", rule.name)?;
            if let Some(language) = &rule.after_hours_language {
                write!(out, "; after hours in {language}")?;
            }
            writeln!(out)?;
        }
        None => writeln!(out, "                 the region's own calendar")?,
    }
    writeln!(
        out,
        "opened           {}",
        local_rfc3339(calendar, targets.opened)
    )?;
    writeln!(
        out,
        "clocks start     {}",
        local_rfc3339(calendar, targets.clocks_start)
    )?;
    let due_line = |target: &DueTarget| {
        format!(
            "{} ({} min) → due {}",
            target.target,
            target.minutes,
            local_rfc3339(calendar, target.due)
        )
    };
    writeln!(
        out,
        "first response   {}",
        due_line(&targets.first_response)
    )?;
    match &targets.resolution {
        Some(resolution) => writeln!(out, "resolution       {}", due_line(resolution))?,
        None => writeln!(out, "resolution       no clock")?,
    }
    match &targets.update_every {
        Some(cadence) => writeln!(
            out,
            "status updates   {} ({} min)",
            cadence.every.as_cadence(),
            cadence.minutes
        )?,
        None => writeln!(out, "status updates   none unless agreed")?,
    }
    Ok(())
}

#[derive(Serialize)]
struct TargetsJson {
    calendar: String,
    time_zone: String,
    coverage_rule: Option<String>,
    after_hours_language: Option<String>,
    opened: String,
    clocks_start: String,
    first_response: DueJson,
    resolution: Option<DueJson>,
    update_every: Option<CadenceJson>,
}

#[derive(Serialize)]
struct DueJson {
    target: String,
    minutes: u64,
    due: String,
}

#[derive(Serialize)]
struct CadenceJson {
    target: String,
    minutes: u64,
}

impl TargetsJson {
    fn new(targets: &Targets<'_>) -> Self {
        let calendar = targets.calendar;
        let due = |target: &DueTarget| DueJson {
            target: target.target.to_string(),
            minutes: target.minutes,
            due: local_rfc3339(calendar, target.due),
        };
        Self {
            calendar: calendar.name().to_string(),
            time_zone: calendar.time_zone().iana_name().unwrap_or("").to_string(),
            coverage_rule: targets.rule.map(|rule| rule.name.clone()),
            after_hours_language: targets
                .rule
                .and_then(|rule| rule.after_hours_language.clone()),
            opened: local_rfc3339(calendar, targets.opened),
            clocks_start: local_rfc3339(calendar, targets.clocks_start),
            first_response: due(&targets.first_response),
            resolution: targets.resolution.as_ref().map(due),
            update_every: targets.update_every.map(|cadence| CadenceJson {
                target: cadence.every.to_string(),
                minutes: cadence.minutes,
            }),
        }
    }
}

/// Which catalog releases decide whether a ticket's version is supported (POLICY.md §9).
#[derive(serde::Serialize)]
struct SupportScope {
    version: String,
    /// None when the catalog holds no current release of the line.
    in_scope: Option<bool>,
    supported: Vec<String>,
    decision: String,
    /// The line's releases, newest first, as "2026.2 (minor, 2026-11-02)", retired ones
    /// said so.
    catalog: Vec<String>,
}

async fn support_scope(
    store: &Store,
    policy: &Policy,
    product_line: &str,
    version: &str,
) -> Result<SupportScope, Failure> {
    let releases = store
        .releases_of(product_line)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    let in_catalog: Vec<_> = releases.iter().map(catalog_release).collect();
    let supported = supported_versions(policy, &in_catalog);
    let in_scope = (!supported.is_empty()).then(|| {
        supported
            .iter()
            .any(|release| same_version(release, version))
    });
    let count = policy.scope.supported_releases;
    let decision = match in_scope {
        None => format!(
            "{product_line} {version}: not checked, the catalog holds no current release of {product_line}"
        ),
        Some(true) => format!(
            "{product_line} {version} is supported: one of the {count} most recent current releases ({})",
            supported.join(", ")
        ),
        Some(false) => format!(
            "{product_line} {version} is outside support scope: the {count} most recent current releases are {}",
            supported.join(", ")
        ),
    };
    let catalog = releases
        .iter()
        .map(|release| {
            format!(
                "{} ({}, {}){}",
                release.version,
                release.kind,
                release.released_on,
                if release.is_retired() {
                    ", retired"
                } else {
                    ""
                }
            )
        })
        .collect();
    Ok(SupportScope {
        version: version.to_string(),
        in_scope,
        supported,
        decision,
        catalog,
    })
}
