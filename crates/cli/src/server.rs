//! `caredesk serve`, `caredesk migrate` and `caredesk healthcheck`: the imperative shell
//! around the web application.

use std::sync::Arc;
use std::time::Duration;

use caredesk_desk::policy_versions::{
    FOLLOW_EVERY, PolicyFile, StartError, WhenTheyDiffer, database_policy, follow_policy_versions,
    policy_at_start,
};
use caredesk_desk::{ActivationKeys, Clock, CurrentPolicy, Desk};
use caredesk_domain::policy::Policy;
use caredesk_domain::sign_in::SignInThrottle;
use caredesk_store::Store;
use caredesk_web::proxies::TrustedProxies;
use caredesk_web::{AppState, Limits};
use jiff::SignedDuration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::Failure;
use crate::settings::Settings;

pub async fn connect(settings: &Settings) -> Result<Store, Failure> {
    let store = Store::connect(&settings.database).await.map_err(|error| {
        Failure::Environment(format!(
            "cannot open the database {}: {error}",
            redact(&settings.database)
        ))
    })?;
    store
        .migrate()
        .await
        .map_err(|error| Failure::Environment(format!("cannot migrate the database: {error}")))?;
    if let Err(error) = store.refresh_statistics().await {
        tracing::warn!(%error, "the planner statistics could not be refreshed");
    }
    Ok(store)
}

/// Opens an existing database to read it, as it is: no file is created and nothing is
/// migrated (a mistyped path is an error, not a new empty desk).
pub async fn open_existing(settings: &Settings) -> Result<Store, Failure> {
    require_existing(settings)?;
    Store::connect(&settings.database).await.map_err(|error| {
        Failure::Environment(format!(
            "cannot open the database {}: {error}",
            redact(&settings.database)
        ))
    })
}

/// The policy file an instance is offered: the one named by `--policy` (or the settings),
/// or the built-in one; and which wins should it differ from the database's version.
pub struct OfferedPolicy {
    pub file: PolicyFile,
    /// Named by the operator, not the built-in policy.
    pub named: bool,
    pub when_they_differ: WhenTheyDiffer,
}

/// The policy version the instance works under: the one in force in the database (the
/// offered file becomes the first version of a database that has none).
pub async fn settle_policy(store: &Store, offered: &OfferedPolicy) -> Result<Policy, Failure> {
    policy_at_start(
        store,
        &offered.file,
        offered.named,
        offered.when_they_differ,
        &crate::operator(),
        jiff::Timestamp::now(),
    )
    .await
    .map_err(|error| match error {
        StartError::Store(error) => {
            Failure::Environment(format!("cannot read the policy versions: {error}"))
        }
        other => Failure::Input(other.to_string()),
    })
}

/// Refuses a SQLite database file that does not exist (a mistyped path would otherwise
/// become a new, empty desk).
pub fn require_existing(settings: &Settings) -> Result<(), Failure> {
    if let Some(path) = crate::backup_commands::sqlite_path(&settings.database)
        && !path.exists()
    {
        return Err(Failure::Input(format!(
            "there is no database at {}; give --database",
            path.display()
        )));
    }
    Ok(())
}

/// The policy a one-off command works under: the version in force in the database, or,
/// while it keeps none (or cannot tell: a database not migrated yet), the offered file,
/// which is not stored. Only a running instance (`serve`, `worker`) stores a first version
/// or settles a file that differs: a command neither writes a version nor refuses to run.
pub async fn policy_for_command(store: &Store, offered: &OfferedPolicy) -> Result<Policy, Failure> {
    match database_policy(store, jiff::Timestamp::now()).await {
        Ok(Some(policy)) => Ok(policy),
        Ok(None) => Ok(offered.file.check()?),
        Err(error) => {
            tracing::debug!(%error, "no policy version could be read; the policy file is used");
            Ok(offered.file.check()?)
        }
    }
}

/// Runs the desk until SIGTERM or Ctrl-C; requests in flight finish before it returns.
pub async fn serve(settings: Settings, offered: OfferedPolicy, demo: bool) -> Result<(), Failure> {
    let store = connect(&settings).await?;
    let policy = settle_policy(&store, &offered).await?;
    let desk = desk(&settings, &store, policy, Clock::System)?;
    let (stop_following, following_stopped) = tokio::sync::watch::channel(false);
    let following = tokio::spawn(follow_policy_versions(
        desk.clone(),
        FOLLOW_EVERY,
        following_stopped,
    ));
    if demo {
        crate::demo::load_if_empty(&desk).await?;
    }
    let listener = TcpListener::bind(&settings.listen).await.map_err(|error| {
        Failure::Environment(format!("cannot listen on {}: {error}", settings.listen))
    })?;
    let address = listener.local_addr()?;
    let state = app_state(&settings, &desk)?;
    let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
    let jobs = if settings.run_jobs {
        let runner = crate::jobs::runner(&settings, desk)?;
        Some(tokio::spawn(runner.run(jobs_stopped)))
    } else {
        None
    };
    let shutdown = shutdown_signal();
    tracing::info!(%address, database = %redact(&settings.database), "caredesk is serving");
    println!(
        "caredesk is listening on http://{address} (sign in there to the portal or the console; \
         API at /api/v1, OpenAPI at /api/v1/openapi.json)"
    );
    caredesk_web::serve(listener, state, shutdown).await?;
    let _ = stop_jobs.send(true);
    if let Some(jobs) = jobs {
        let _ = jobs.await;
    }
    let _ = stop_following.send(true);
    let _ = following.await;
    store.close().await;
    tracing::info!("caredesk stopped");
    Ok(())
}

/// What every use case works with, from the settings: the API and the pages, the job
/// runner and `mail ingest` all act through it.
pub fn desk(
    settings: &Settings,
    store: &Store,
    policy: Policy,
    clock: Clock,
) -> Result<Desk, Failure> {
    Ok(Desk {
        store: store.clone(),
        current_policy: CurrentPolicy::new(policy),
        clock,
        mail_ids: crate::jobs::message_ids(settings)?,
        limits: limits(settings).desk(),
        client_address: None,
        activation_keys: match &settings.activation_key_file {
            Some(file) => ActivationKeys::in_file(file.clone()),
            None => ActivationKeys::in_database(),
        },
        update_cache: Default::default(),
    })
}

fn limits(settings: &Settings) -> Limits {
    Limits {
        max_body_bytes: settings.max_body_bytes,
        max_attachment_bytes: settings.max_attachment_bytes,
        session_hours: settings.session_hours,
        auth_cache_seconds: settings.auth_cache_seconds,
        update_checks_per_serial_per_hour: settings.update_checks_per_serial_per_hour,
        update_checks_per_address_per_minute: settings.update_checks_per_address_per_minute,
        sign_in: SignInThrottle {
            free_attempts_per_account: settings.sign_in_free_attempts_per_account,
            free_attempts_per_address: settings.sign_in_free_attempts_per_address,
            longest_wait: SignedDuration::from_secs(i64::from(
                settings.sign_in_longest_wait_seconds,
            )),
        },
    }
}

/// What the web application works with: the desk's, and what only HTTP knows.
fn app_state(settings: &Settings, desk: &Desk) -> Result<AppState, Failure> {
    let trusted_proxies = TrustedProxies::parse(&settings.trusted_proxies)
        .map_err(|problem| Failure::Input(format!("trusted_proxies: {problem}")))?;
    Ok(AppState {
        store: desk.store.clone(),
        current_policy: desk.current_policy.clone(),
        clock: desk.clock.clone(),
        limits: limits(settings),
        principals: Default::default(),
        mail_ids: desk.mail_ids.clone(),
        secure_cookies: settings
            .public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://")),
        trusted_proxies: Arc::new(trusted_proxies),
        public_url: settings.reachable_at(),
        activation_keys: desk.activation_keys.clone(),
        update_cache: desk.update_cache.clone(),
        update_limits: limits(settings).update_limits(),
    })
}

/// Runs the job runner alone (delivery and sweeps) until SIGTERM or Ctrl-C; the delivery in
/// progress finishes first.
pub async fn run_worker(settings: Settings, offered: OfferedPolicy) -> Result<(), Failure> {
    let store = connect(&settings).await?;
    let policy = settle_policy(&store, &offered).await?;
    let desk = desk(&settings, &store, policy, Clock::System)?;
    let (stop_following, following_stopped) = tokio::sync::watch::channel(false);
    let following = tokio::spawn(follow_policy_versions(
        desk.clone(),
        FOLLOW_EVERY,
        following_stopped,
    ));
    let runner = crate::jobs::runner(&settings, desk)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn(runner.run(stopped));
    let shutdown = shutdown_signal();
    tracing::info!(database = %redact(&settings.database), "caredesk worker is running");
    println!("caredesk worker is running (delivery and sweeps)");
    shutdown.await;
    let _ = stop.send(true);
    let _ = jobs.await;
    let _ = stop_following.send(true);
    let _ = following.await;
    store.close().await;
    tracing::info!("caredesk worker stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not
/// when it is first awaited: a signal that comes right after the service says it is
/// serving (a quick supervisor, a test) stops it gracefully instead of killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let terminated = async {
                match terminate.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupted = async {
                match interrupt.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = terminated => {}
                _ = interrupted => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing the requests in flight");
    }
}

/// Asks the running service whether it is ready (`GET /readyz`); succeeds on 200.
pub async fn healthcheck(settings: &Settings) -> Result<(), Failure> {
    let unreachable = |error: std::io::Error| {
        Failure::Environment(format!(
            "caredesk at {} does not answer: {error}",
            settings.listen
        ))
    };
    let check = async {
        let mut stream = TcpStream::connect(&settings.listen)
            .await
            .map_err(unreachable)?;
        let request = format!(
            "GET /readyz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            settings.listen
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(unreachable)?;
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .await
            .map_err(unreachable)?;
        let status_line = answer.lines().next().unwrap_or_default().to_string();
        if status_line.split_whitespace().nth(1) == Some("200") {
            println!("ready");
            Ok(())
        } else {
            Err(Failure::Environment(format!(
                "caredesk at {} is not ready: {status_line}",
                settings.listen
            )))
        }
    };
    tokio::time::timeout(Duration::from_secs(10), check)
        .await
        .map_err(|_| {
            Failure::Environment(format!(
                "caredesk at {} did not answer within 10 s",
                settings.listen
            ))
        })?
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_do_not_reach_the_logs() {
        assert_eq!(
            redact("postgres://desk:secret@db:5432/desk"),
            "postgres://desk:***@db:5432/desk"
        );
        assert_eq!(redact("postgres://desk@db/desk"), "postgres://desk@db/desk");
        assert_eq!(redact("sqlite://caredesk.db"), "sqlite://caredesk.db");
    }
}
