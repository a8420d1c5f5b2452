//! `caredesk`: the one binary of the support desk.
//!
//! Exit codes: 0 success; 2 for input that is wrong (arguments, a policy file that is missing
//! or invalid, a batch line); 1 when the machine fails us (reading stdin, writing stdout).

mod args;
mod batch;
mod policy_commands;
mod sla_commands;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use caredesk_domain::policy::{DEFAULT_POLICY_LABEL, DEFAULT_POLICY_TOML, Policy, PolicyError};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "caredesk",
    version,
    about = "A technical-support desk that keeps its promises"
)]
struct Cli {
    /// The support policy file to use instead of the built-in default.
    #[arg(long, global = true, value_name = "FILE", env = "CAREDESK_POLICY")]
    policy: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Business-time arithmetic on the policy's calendars.
    #[command(subcommand)]
    Sla(sla_commands::SlaCommand),
    /// Check, show and apply the support policy.
    #[command(subcommand)]
    Policy(policy_commands::PolicyCommand),
}

/// Why a command failed, and so which exit code it ends with.
#[derive(Debug)]
pub enum Failure {
    /// Something the user gave is wrong: exit code 2.
    Input(String),
    /// The environment failed (I/O): exit code 1.
    Environment(String),
    /// Whoever read our output stopped reading (`caredesk policy show | head`): not an error.
    OutputClosed,
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Failure::OutputClosed
        } else {
            Failure::Environment(error.to_string())
        }
    }
}

impl From<PolicyError> for Failure {
    fn from(error: PolicyError) -> Self {
        Failure::Input(error.to_string())
    }
}

impl From<caredesk_domain::policy::UnknownName> for Failure {
    fn from(error: caredesk_domain::policy::UnknownName) -> Self {
        Failure::Input(error.to_string())
    }
}

impl From<caredesk_domain::calendar::CalendarError> for Failure {
    fn from(error: caredesk_domain::calendar::CalendarError) -> Self {
        Failure::Input(error.to_string())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version.
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            // Clap's message without its usage and help hints, on one line.
            let rendered = error.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            return report(Failure::Input(message.to_string()));
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(failure),
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Sla(command) => sla_commands::run(command, &load_policy(cli.policy.as_ref())?),
        Command::Policy(command) => policy_commands::run(command, cli.policy.as_ref()),
    }
}

fn report(failure: Failure) -> ExitCode {
    let (code, message) = match failure {
        Failure::Input(message) => (2, message),
        Failure::Environment(message) => (1, message),
        Failure::OutputClosed => return ExitCode::SUCCESS,
    };
    let mut stderr = io::stderr().lock();
    for line in message.lines() {
        let _ = writeln!(stderr, "caredesk: error: {line}");
    }
    ExitCode::from(code)
}

/// The policy from `--policy FILE`, or the built-in one.
pub fn load_policy(path: Option<&PathBuf>) -> Result<Policy, Failure> {
    match path {
        None => Ok(Policy::from_toml(
            DEFAULT_POLICY_TOML,
            DEFAULT_POLICY_LABEL,
        )?),
        Some(path) => {
            let source = std::fs::read_to_string(path).map_err(|error| {
                Failure::Input(format!(
                    "cannot read policy file {}: {error}",
                    path.display()
                ))
            })?;
            Ok(Policy::from_toml(&source, &path.display().to_string())?)
        }
    }
}
