//! Settings of the service: built-in defaults, then a config file, then `CAREDESK_*`
//! environment variables, then command-line flags, each overriding the one before.
//!
//! Zero configuration works: an SQLite file `caredesk.db` in the working directory,
//! 127.0.0.1:8080, the built-in policy.

use std::path::{Path, PathBuf};

use config::{Config, File, FileFormat};
use serde::Deserialize;

use crate::Failure;

/// The config file read when present and none is named.
pub const DEFAULT_CONFIG_FILE: &str = "caredesk.toml";

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://FILE` or `postgres://…`.
    pub database: String,
    /// Address and port to listen on.
    pub listen: String,
    /// A policy file instead of the built-in policy.
    pub policy: Option<PathBuf>,
    pub max_body_bytes: usize,
    pub max_attachment_bytes: usize,
    pub session_hours: i64,
    /// How long whom a bearer token names is remembered without asking the database.
    pub auth_cache_seconds: u32,
    /// Wrong passwords an e-mail may have before each further try must wait (the wait
    /// doubles from one second up to `sign_in_longest_wait_seconds`).
    pub sign_in_free_attempts_per_account: u32,
    /// Wrong passwords one client address may have, over all e-mails, before it must wait.
    pub sign_in_free_attempts_per_address: u32,
    pub sign_in_longest_wait_seconds: u32,
    /// How many update checks an installed product's serial may make in an hour, and a
    /// client address in a minute (the update manager, `GET /api/v1/updates`).
    pub update_checks_per_serial_per_hour: std::num::NonZeroU32,
    pub update_checks_per_address_per_minute: std::num::NonZeroU32,
    /// Reverse proxies (addresses or networks, comma-separated) whose `X-Forwarded-For`
    /// names the client; empty: none.
    pub trusted_proxies: String,
    /// How often breaches that fell due are recorded.
    pub breach_sweep_seconds: u64,
    /// Log filter, such as "info" or "caredesk=debug,info".
    pub log: String,
    /// Whether `caredesk serve` also runs the job runner (delivery and sweeps); turn it off
    /// when `caredesk worker` processes run apart.
    pub run_jobs: bool,
    /// How often the outbox is looked at when idle.
    pub delivery_poll_ms: u64,
    /// "folder" (messages written as .eml files into `mail_folder`) or "smtp".
    pub mail_transport: String,
    pub mail_folder: PathBuf,
    /// The sender of every notice, "Name <address>"; Message-IDs are on its domain.
    pub mail_from: String,
    /// A directory of templates (`en.toml`…) replacing the built-in ones, language by language.
    pub mail_templates: Option<PathBuf>,
    /// The desk's address as its users reach it, for links in the notices (default: the
    /// listening address).
    pub public_url: Option<String>,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// "starttls" (required), "tls" (from the first byte) or "none".
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub smtp_timeout_seconds: u64,
    /// A file holding the key that signs activation codes (made there when missing);
    /// without it, the key is kept in the database.
    pub activation_key_file: Option<PathBuf>,
}

/// The settings, as keys of the file and (upper-cased) of `CAREDESK_*` variables.
const KEYS: [&str; 29] = [
    "database",
    "listen",
    "policy",
    "max_body_bytes",
    "max_attachment_bytes",
    "session_hours",
    "auth_cache_seconds",
    "sign_in_free_attempts_per_account",
    "sign_in_free_attempts_per_address",
    "sign_in_longest_wait_seconds",
    "update_checks_per_serial_per_hour",
    "update_checks_per_address_per_minute",
    "trusted_proxies",
    "breach_sweep_seconds",
    "log",
    "run_jobs",
    "delivery_poll_ms",
    "mail_transport",
    "mail_folder",
    "mail_from",
    "mail_templates",
    "public_url",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "smtp_timeout_seconds",
    "activation_key_file",
];

const DEFAULTS: &str = r#"
database = "sqlite://caredesk.db"
listen = "127.0.0.1:8080"
max_body_bytes = 1048576
max_attachment_bytes = 10485760
session_hours = 12
auth_cache_seconds = 5
sign_in_free_attempts_per_account = 5
sign_in_free_attempts_per_address = 20
sign_in_longest_wait_seconds = 900
update_checks_per_serial_per_hour = 24
update_checks_per_address_per_minute = 600
trusted_proxies = ""
breach_sweep_seconds = 30
log = "info"
run_jobs = true
delivery_poll_ms = 500
mail_transport = "folder"
mail_folder = "mail"
mail_from = "caredesk <support@caredesk.localhost>"
smtp_host = "127.0.0.1"
smtp_port = 587
smtp_security = "starttls"
smtp_timeout_seconds = 20
"#;

impl Settings {
    /// Where people reach the desk, without a trailing slash: `public_url`, else the
    /// listening address.
    pub fn reachable_at(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_string()
    }

    /// Reads the settings: `file` if given (it must exist), else `caredesk.toml` if present.
    pub fn load(file: Option<&Path>) -> Result<Settings, Failure> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(Failure::Input(format!(
                        "config file {} does not exist",
                        path.display()
                    )));
                }
                builder = builder.add_source(File::from(path).format(FileFormat::Toml));
            }
            None => {
                builder = builder.add_source(
                    File::with_name(DEFAULT_CONFIG_FILE)
                        .format(FileFormat::Toml)
                        .required(false),
                );
            }
        }
        // Only the variables that name a setting: other CAREDESK_* variables (a test's
        // database, say) are not settings and must not be refused as unknown ones.
        for key in KEYS {
            let variable = format!("CAREDESK_{}", key.to_uppercase());
            if let Ok(value) = std::env::var(&variable) {
                builder = builder
                    .set_override(key, value)
                    .map_err(|error| Failure::Input(format!("{variable}: {error}")))?;
            }
        }
        builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|error| Failure::Input(format!("settings: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let settings = Settings::load(None).unwrap();
        assert_eq!(settings.database, "sqlite://caredesk.db");
        assert_eq!(settings.listen, "127.0.0.1:8080");
        assert_eq!(settings.policy, None);
    }

    #[test]
    fn a_file_overrides_defaults_and_names_a_bad_field() {
        let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        writeln!(file, "listen = \"0.0.0.0:9000\"\nsession_hours = 2").unwrap();
        let settings = Settings::load(Some(file.path())).unwrap();
        assert_eq!(settings.listen, "0.0.0.0:9000");
        assert_eq!(settings.session_hours, 2);

        let mut bad = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        writeln!(bad, "max_body_bytes = \"lots\"").unwrap();
        let Err(Failure::Input(message)) = Settings::load(Some(bad.path())) else {
            panic!("expected an input failure")
        };
        assert!(message.contains("max_body_bytes"), "{message}");

        let mut unknown = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        writeln!(unknown, "listn = \"0.0.0.0:9000\"").unwrap();
        let Err(Failure::Input(message)) = Settings::load(Some(unknown.path())) else {
            panic!("expected an input failure")
        };
        assert!(message.contains("listn"), "{message}");
    }
}
