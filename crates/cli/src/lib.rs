//! `caredesk`: the one binary of the support desk, as a library whose `main` the binary
//! calls (so that the fuzz targets reach the `sla --batch` reader).
//!
//! Exit codes: 0 success; 2 for input that is wrong (arguments, a policy file that is missing
//! or invalid, a batch line); 1 when the machine fails us (reading stdin, writing stdout).

mod activation_commands;
mod admin;
mod args;
mod backup_commands;
pub mod batch;
pub mod demo;
mod jobs;
mod kb_commands;
mod mail_commands;
mod policy_commands;
mod policy_version_commands;
mod release_commands;
mod replay_commands;
mod report_commands;
mod server;
mod settings;
mod sla_commands;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use caredesk_desk::Clock;
use caredesk_desk::policy_versions::{PolicyFile, WhenTheyDiffer};
use caredesk_domain::policy::{DEFAULT_POLICY_LABEL, DEFAULT_POLICY_TOML, Policy, PolicyError};
use clap::{Parser, Subcommand};
use settings::Settings;

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

    /// When the policy file differs from the version in force in the database: the file
    /// becomes a new version (as `caredesk policy apply --yes` would store it).
    #[arg(long, global = true, conflicts_with = "database_policy_wins")]
    policy_wins: bool,

    /// When the policy file differs from the version in force in the database: the
    /// database's version is used and the file is not.
    #[arg(long, global = true)]
    database_policy_wins: bool,

    /// Settings file (default: caredesk.toml when present); CAREDESK_* variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the support desk: the API on 127.0.0.1:8080 over caredesk.db unless told otherwise.
    Serve {
        /// sqlite://FILE or postgres://… (or CAREDESK_DATABASE).
        #[arg(long)]
        database: Option<String>,
        /// Address to listen on (or CAREDESK_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// Loads a demo desk first when the database has no customers yet.
        #[arg(long)]
        demo: bool,
    },
    /// Runs the job runner alone: delivers notices and sweeps ticket state, beside `serve`
    /// processes started with run_jobs = false (several may run on one PostgreSQL).
    Worker {
        #[arg(long)]
        database: Option<String>,
    },
    /// Applies the database migrations and exits.
    Migrate {
        #[arg(long)]
        database: Option<String>,
    },
    /// Loads the demo desk into an empty database and prints how to sign in.
    Demo {
        #[arg(long)]
        database: Option<String>,
    },
    /// Exits 0 when the running service answers that it is ready.
    Healthcheck {
        #[arg(long)]
        listen: Option<String>,
    },
    /// Writes a consistent copy of the SQLite database into FILE (a new file) while the desk
    /// serves; on PostgreSQL, says how to back it up with pg_dump.
    Backup {
        file: std::path::PathBuf,
        #[arg(long)]
        database: Option<String>,
    },
    /// Restores a backup into a new, empty SQLite database and brings it up to date.
    Restore {
        file: std::path::PathBuf,
        #[arg(long)]
        database: Option<String>,
    },
    /// Staff, API tokens and imports.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// The resource center as files: `caredesk kb import DIR`, `caredesk kb export DIR`.
    #[command(subcommand)]
    Kb(kb_commands::KbCommand),
    /// Activation codes: `caredesk activation public-key`, `caredesk activation verify CODE`.
    #[command(subcommand)]
    Activation(activation_commands::ActivationCommand),
    /// The release catalog: `caredesk release publish|retire|list`.
    #[command(subcommand)]
    Release(release_commands::ReleaseCommand),
    /// E-mail in: `caredesk mail ingest < message.eml`.
    #[command(subcommand)]
    Mail(mail_commands::MailCommand),
    /// Business-time arithmetic on the policy's calendars.
    #[command(subcommand)]
    Sla(sla_commands::SlaCommand),
    /// Check, show and apply the support policy.
    #[command(subcommand)]
    Policy(policy_commands::PolicyCommand),
    /// What the policy promised and what was kept: `caredesk report sla --from --to --by`.
    #[command(subcommand)]
    Report(report_commands::ReportCommand),
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
    /// A passing failure (the database unreachable): exit code 75, sendmail's "try again
    /// later", so that an MTA keeps the message.
    TryLater(String),
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

/// Runs the command line, as the `caredesk` binary does.
pub fn main() -> ExitCode {
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
    let policy_args = PolicyArgs {
        path: cli.policy.clone(),
        when_they_differ: if cli.policy_wins {
            WhenTheyDiffer::FileWins
        } else if cli.database_policy_wins {
            WhenTheyDiffer::DatabaseWins
        } else {
            WhenTheyDiffer::Refuse
        },
    };
    match cli.command {
        Command::Sla(sla_commands::SlaCommand::Rebuild(request)) => {
            let database = request.database.clone();
            on_desk(&cli.config, &policy_args, database, async |desk| {
                policy_version_commands::rebuild(request, desk).await
            })
        }
        Command::Sla(command) => sla_commands::run(command, &load_policy(cli.policy.as_ref())?),
        Command::Policy(policy_commands::PolicyCommand::Apply(request)) => {
            let database = request.database.clone();
            on_desk(&cli.config, &policy_args, database, async |desk| {
                policy_version_commands::apply(request, desk).await
            })
        }
        Command::Policy(policy_commands::PolicyCommand::History(request)) => {
            let database = request.database.clone();
            on_desk(&cli.config, &policy_args, database, async |desk| {
                policy_version_commands::history(request, desk).await
            })
        }
        Command::Policy(policy_commands::PolicyCommand::Show {
            year,
            version: Some(version),
            database,
        }) => on_desk(&cli.config, &policy_args, database, async |desk| {
            policy_commands::show_version(desk, version, year).await
        }),
        Command::Policy(policy_commands::PolicyCommand::ExplainTicket(request)) => {
            let mut settings = Settings::load(cli.config.as_deref())?;
            settings.database = request.database.clone().unwrap_or(settings.database);
            let offered = offered_policy(&policy_args, settings.policy.as_ref())?;
            // Read as it is: a mistyped path is an error, not a new empty desk, and nothing
            // is migrated.
            runtime()?.block_on(async {
                let store = server::open_existing(&settings).await?;
                let explained = match server::policy_for_command(&store, &offered).await {
                    Ok(policy) => {
                        let desk = server::desk(&settings, &store, policy, Clock::System)?;
                        policy_commands::explain_ticket(&desk, &request, jiff::Timestamp::now())
                            .await
                    }
                    Err(failure) => Err(failure),
                };
                store.close().await;
                explained
            })
        }
        Command::Policy(policy_commands::PolicyCommand::Replay(request)) => {
            let database = request.database.clone();
            on_desk(&cli.config, &policy_args, database, async |desk| {
                replay_commands::run(request, desk).await
            })
        }
        Command::Policy(command) => policy_commands::run(command, cli.policy.as_ref()),
        Command::Serve {
            database,
            listen,
            demo,
        } => {
            let mut settings = Settings::load(cli.config.as_deref())?;
            settings.database = database.unwrap_or(settings.database);
            settings.listen = listen.unwrap_or(settings.listen);
            init_logging(&settings.log);
            let offered = offered_policy(&policy_args, settings.policy.as_ref())?;
            runtime()?.block_on(server::serve(settings, offered, demo))
        }
        Command::Backup { file, database } => {
            let mut settings = Settings::load(cli.config.as_deref())?;
            settings.database = database.unwrap_or(settings.database);
            runtime()?.block_on(backup_commands::backup(&settings, &file))
        }
        Command::Restore { file, database } => {
            let mut settings = Settings::load(cli.config.as_deref())?;
            settings.database = database.unwrap_or(settings.database);
            runtime()?.block_on(backup_commands::restore(&settings, &file))
        }
        Command::Worker { database } => {
            let mut settings = Settings::load(cli.config.as_deref())?;
            settings.database = database.unwrap_or(settings.database);
            init_logging(&settings.log);
            let offered = offered_policy(&policy_args, settings.policy.as_ref())?;
            runtime()?.block_on(server::run_worker(settings, offered))
        }
        Command::Migrate { database } => {
            let mut settings = Settings::load(cli.config.as_deref())?;
            settings.database = database.unwrap_or(settings.database);
            runtime()?.block_on(async {
                let store = server::connect(&settings).await?;
                store.close().await;
                println!(
                    "the database {} is up to date",
                    server::redact(&settings.database)
                );
                Ok(())
            })
        }
        Command::Mail(mail_commands::MailCommand::Ingest { database }) => {
            let mut settings = Settings::load(cli.config.as_deref())?;
            settings.database = database.unwrap_or(settings.database);
            init_logging(&settings.log);
            let offered = offered_policy(&policy_args, settings.policy.as_ref())?;
            runtime()?.block_on(mail_commands::ingest(&settings, offered))
        }
        Command::Demo { database } => on_desk(&cli.config, &policy_args, database, async |desk| {
            demo::load_if_empty(desk).await
        }),
        Command::Kb(command) => {
            let (kb_commands::KbCommand::Import { database, .. }
            | kb_commands::KbCommand::Export { database, .. }) = &command;
            on_desk(
                &cli.config,
                &policy_args,
                database.clone(),
                async |desk| match &command {
                    kb_commands::KbCommand::Import { dir, .. } => {
                        kb_commands::import(desk, dir).await
                    }
                    kb_commands::KbCommand::Export { dir, .. } => {
                        kb_commands::export(desk, dir).await
                    }
                },
            )
        }
        Command::Activation(activation_commands::ActivationCommand::Verify {
            code,
            public_key,
            serial,
            machine_id,
        }) => activation_commands::verify(
            &code,
            &public_key,
            serial.as_deref(),
            machine_id.as_deref(),
        ),
        Command::Activation(activation_commands::ActivationCommand::PublicKey { database }) => {
            on_desk(
                &cli.config,
                &policy_args,
                database,
                activation_commands::public_key,
            )
        }
        Command::Release(command) => {
            let database = command.database().cloned();
            on_desk(&cli.config, &policy_args, database, async |desk| {
                release_commands::run(command, desk).await
            })
        }
        Command::Report(command) => {
            let database = command.database().cloned();
            // Only the monthly report is written with the mail templates.
            let look = match &command {
                report_commands::ReportCommand::Monthly(_) => {
                    let settings = Settings::load(cli.config.as_deref())?;
                    Some(report_commands::MailLook {
                        templates: jobs::templates(&settings)?,
                        public_url: settings.reachable_at(),
                    })
                }
                _ => None,
            };
            on_desk(&cli.config, &policy_args, database, async |desk| {
                report_commands::run(command, desk, look).await
            })
        }
        Command::Healthcheck { listen } => {
            let mut settings = Settings::load(cli.config.as_deref())?;
            settings.listen = listen.unwrap_or(settings.listen);
            runtime()?.block_on(server::healthcheck(&settings))
        }
        Command::Admin(command) => on_desk(&cli.config, &policy_args, None, async |desk| {
            admin::run(command, desk).await
        }),
    }
}

/// Runs `work` with the desk of the settings (on `database` when given instead of the
/// configured one), then closes the database whatever `work` answered.
fn on_desk(
    config: &Option<PathBuf>,
    policy: &PolicyArgs,
    database: Option<String>,
    work: impl AsyncFnOnce(&caredesk_desk::Desk) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut settings = Settings::load(config.as_deref())?;
    settings.database = database.unwrap_or(settings.database);
    let offered = offered_policy(policy, settings.policy.as_ref())?;
    runtime()?.block_on(async {
        let store = server::connect(&settings).await?;
        let done = match server::policy_for_command(&store, &offered).await {
            Ok(policy) => {
                let desk = server::desk(&settings, &store, policy, Clock::System)?;
                work(&desk).await
            }
            Err(failure) => Err(failure),
        };
        store.close().await;
        done
    })
}

/// The policy the command line names (`--policy`, or else the settings' `policy`), and
/// which wins should it differ from the version in force in the database.
struct PolicyArgs {
    path: Option<PathBuf>,
    when_they_differ: WhenTheyDiffer,
}

/// The policy file offered to the database: the one named, or the built-in one.
fn offered_policy(
    args: &PolicyArgs,
    configured: Option<&PathBuf>,
) -> Result<server::OfferedPolicy, Failure> {
    let path = args.path.as_ref().or(configured);
    let file = policy_file(path)?;
    // A file that fails its check is refused before the database is opened.
    file.check()?;
    Ok(server::OfferedPolicy {
        file,
        named: path.is_some(),
        when_they_differ: args.when_they_differ,
    })
}

/// The text of the policy file at `path`, or of the built-in policy.
pub fn policy_file(path: Option<&PathBuf>) -> Result<PolicyFile, Failure> {
    match path {
        None => Ok(PolicyFile {
            document: DEFAULT_POLICY_TOML.to_string(),
            source: DEFAULT_POLICY_LABEL.to_string(),
        }),
        Some(path) => Ok(PolicyFile {
            document: std::fs::read_to_string(path).map_err(|error| {
                Failure::Input(format!(
                    "cannot read policy file {}: {error}",
                    path.display()
                ))
            })?,
            source: path.display().to_string(),
        }),
    }
}

/// Who works at the command line, as a policy version records who applied it.
pub fn operator() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown user".into());
    format!("command line ({user})")
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Environment(format!("cannot start the runtime: {error}")))
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn report(failure: Failure) -> ExitCode {
    let (code, message) = match failure {
        Failure::Input(message) => (2, message),
        Failure::Environment(message) => (1, message),
        Failure::TryLater(message) => (75, message),
        Failure::OutputClosed => return ExitCode::SUCCESS,
    };
    let mut stderr = io::stderr().lock();
    for line in message.lines() {
        let _ = writeln!(stderr, "caredesk: error: {line}");
    }
    ExitCode::from(code)
}

/// The policy from `--policy FILE`, or the built-in one, checked.
pub fn load_policy(path: Option<&PathBuf>) -> Result<Policy, Failure> {
    Ok(policy_file(path)?.check()?)
}
