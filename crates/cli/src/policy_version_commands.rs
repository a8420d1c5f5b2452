//! `caredesk policy apply`, `caredesk policy history`, `caredesk policy show --version` and
//! `caredesk sla rebuild`: the policy's versions in the database, and every open ticket's
//! clocks computed again under the version in force.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use caredesk_desk::policy_versions::{
    ApplyOptions, ApplyPreview, REBUILD_BATCH, RebuildOutcome, apply_policy, policy_history,
    preview_apply, rebuild_clocks,
};
use caredesk_desk::{Caller, Desk};
use caredesk_mail::text_table::aligned;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::Timestamp;

use crate::release_commands::refused;
use crate::{Failure, args, policy_file};

#[derive(Args)]
pub struct ApplyArgs {
    /// The policy file to apply.
    pub file: PathBuf,
    /// Apply without asking for confirmation (needed when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// From when the version is in force, RFC 3339 (now unless given): instances take it up
    /// then, and the open tickets are computed again under it.
    #[arg(long, value_parser = args::instant)]
    pub effective_at: Option<Timestamp>,
    /// Why the policy changes, kept with the version.
    #[arg(long)]
    pub note: Option<String>,
    /// Store the version without computing the open tickets again here: the job runner of a
    /// running desk does it within seconds.
    #[arg(long)]
    pub no_rebuild: bool,
    /// The database (instead of the configured one).
    #[arg(long)]
    pub database: Option<String>,
}

#[derive(Args)]
pub struct HistoryArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The database (instead of the configured one).
    #[arg(long)]
    pub database: Option<String>,
}

#[derive(Args)]
pub struct RebuildArgs {
    /// Open tickets computed again per transaction.
    #[arg(long, default_value_t = REBUILD_BATCH, value_parser = clap::value_parser!(i64).range(1..=5000))]
    pub batch: i64,
    /// The database (instead of the configured one).
    #[arg(long)]
    pub database: Option<String>,
}

/// `caredesk policy apply FILE`: checks the file, shows what it changes and what it does to
/// the open tickets, asks, stores it as the next version and computes the open tickets
/// again under it.
pub async fn apply(request: ApplyArgs, desk: &Desk) -> Result<(), Failure> {
    let file = policy_file(Some(&request.file))?;
    let (_, preview) = preview_apply(desk, &Caller::System, &file)
        .await
        .map_err(refused)?;
    let mut out = io::stdout().lock();
    if preview.unchanged {
        writeln!(
            out,
            "{} is policy version {} already: nothing to apply",
            file.source,
            preview.from_version.unwrap_or_default()
        )?;
        return Ok(());
    }
    write_preview(&mut out, &file.source, &preview)?;
    if preview.moves.cannot_time > 0 {
        let examples: Vec<String> = preview
            .moves
            .cannot_time_examples
            .iter()
            .map(|(ticket, why)| format!("ticket {ticket}: {why}"))
            .collect();
        return Err(Failure::Input(format!(
            "{} cannot time {} open tickets ({}); nothing was applied",
            file.source,
            preview.moves.cannot_time,
            examples.join("; ")
        )));
    }
    if !request.yes {
        if !io::stdin().is_terminal() {
            return Err(Failure::Input(
                "give --yes to apply without a terminal to confirm on; nothing was applied".into(),
            ));
        }
        write!(out, "Apply it as the next version? [y/N] ")?;
        out.flush()?;
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            writeln!(out, "nothing was applied")?;
            return Ok(());
        }
    }
    let options = ApplyOptions {
        effective_at: request.effective_at,
        note: request.note.clone(),
        reviewed_against: Some(preview.from_version),
    };
    let version = apply_policy(desk, &Caller::System, &file, &crate::operator(), &options)
        .await
        .map_err(refused)?;
    match request.effective_at {
        Some(at) if at > desk.clock.now() => {
            writeln!(
                out,
                "stored as policy version {version}, in force from {at}: running instances take \
                 it up then, and their job runner computes the open tickets again under it"
            )?;
            return Ok(());
        }
        _ => writeln!(out, "stored as policy version {version}, in force now")?,
    }
    drop(out);
    if request.no_rebuild {
        println!(
            "the open tickets are computed again by the job runner of a running desk, or by \
             `caredesk sla rebuild`"
        );
        return Ok(());
    }
    rebuild_with_progress(desk, REBUILD_BATCH).await
}

/// What applying a file changes, as the operator reads it before confirming.
fn write_preview(out: &mut impl Write, source: &str, preview: &ApplyPreview) -> io::Result<()> {
    match preview.from_version {
        Some(version) => writeln!(out, "{source} against policy version {version} in force:")?,
        None => writeln!(out, "{source} against the policy the desk works under:")?,
    }
    if preview.changes.is_empty() {
        writeln!(
            out,
            "\nthe tables read the same (only the file's text differs)"
        )?;
    }
    for table in &preview.changes {
        writeln!(out, "\n{}", table.title)?;
        for row in &table.rows {
            writeln!(out, "  {}", row.line())?;
        }
    }
    let moves = &preview.moves;
    writeln!(out, "\nopen tickets: {}", moves.open)?;
    let lines = vec![
        vec!["due earlier".to_string(), moves.due_earlier.to_string()],
        vec!["due later".into(), moves.due_later.to_string()],
        vec![
            "another place in the queue".into(),
            moves.queue_moves.to_string(),
        ],
        vec![
            "at risk now, not before".into(),
            moves.newly_at_risk.to_string(),
        ],
        vec![
            "no longer at risk".into(),
            moves.no_longer_at_risk.to_string(),
        ],
        vec![
            "breached by the change (breach recorded, alerts sent)".into(),
            moves.newly_breached.to_string(),
        ],
        vec!["cannot be timed".into(), moves.cannot_time.to_string()],
    ];
    for line in aligned(&lines, 1, false).lines() {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

/// `caredesk sla rebuild`: every open ticket behind the version in force computed again,
/// with a progress bar on a terminal. Run again after a stop, it goes on where it was.
pub async fn rebuild(request: RebuildArgs, desk: &Desk) -> Result<(), Failure> {
    rebuild_with_progress(desk, request.batch).await
}

async fn rebuild_with_progress(desk: &Desk, batch: i64) -> Result<(), Failure> {
    let bar = ProgressBar::with_draw_target(Some(0), progress_target());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} computing clocks again [{bar:40}] {pos}/{len} tickets, {per_sec}, {eta} left",
        )
        .map_err(|error| Failure::Environment(error.to_string()))?
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let started = Instant::now();
    let outcome = rebuild_clocks(desk, batch, None, |done, to_do| {
        bar.set_length(to_do);
        bar.set_position(done);
    })
    .await;
    bar.finish_and_clear();
    let outcome = outcome.map_err(|error| Failure::Environment(error.to_string()))?;
    report_rebuild(&outcome, started.elapsed())?;
    match outcome.failed.len() {
        0 => Ok(()),
        failed => Err(Failure::Input(format!(
            "{failed} open tickets cannot be timed under the version in force; they keep their \
             earlier clocks"
        ))),
    }
}

/// A bar on standard error when it is a terminal; nothing otherwise (a log, a pipe).
fn progress_target() -> ProgressDrawTarget {
    if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

fn report_rebuild(outcome: &RebuildOutcome, took: Duration) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let Some(version) = outcome.version else {
        return writeln!(
            out,
            "the database keeps no policy version yet: nothing to compute"
        );
    };
    writeln!(
        out,
        "{} open tickets computed again under policy version {version} in {:.1} s; {} breaches \
         recorded that the change caused",
        outcome.tickets,
        took.as_secs_f64(),
        outcome.breaches
    )?;
    for (ticket, why) in &outcome.failed {
        writeln!(out, "  ticket {ticket} cannot be timed: {why}")?;
    }
    Ok(())
}

/// `caredesk policy history`: every version, the latest first, and how far the open tickets
/// are from the one in force.
pub async fn history(request: HistoryArgs, desk: &Desk) -> Result<(), Failure> {
    let history = policy_history(desk, &Caller::System)
        .await
        .map_err(refused)?;
    let mut out = io::stdout().lock();
    if request.json {
        serde_json::to_writer_pretty(&mut out, &history)
            .map_err(|error| Failure::Environment(error.to_string()))?;
        writeln!(out)?;
        return Ok(());
    }
    let mut lines = vec![vec![
        "version".to_string(),
        "in force".into(),
        "applied at".into(),
        "by".into(),
        "effective at".into(),
        "sha-256".into(),
        "from".into(),
        "note".into(),
    ]];
    for version in &history.versions {
        lines.push(vec![
            version.version.to_string(),
            if Some(version.version) == history.in_force {
                "yes".into()
            } else {
                String::new()
            },
            version.applied_at.to_string(),
            version.applied_by.clone(),
            version.effective_at.to_string(),
            version.sha256.chars().take(12).collect(),
            version.source.clone(),
            version.note.clone().unwrap_or_default(),
        ]);
    }
    write!(out, "{}", aligned(&lines, 8, true))?;
    writeln!(
        out,
        "\nopen tickets: {}; computed under an earlier version: {}",
        history.rebuild.open, history.rebuild.behind
    )?;
    Ok(())
}
