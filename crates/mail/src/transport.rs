//! Where messages go: a folder of `.eml` files (the zero-configuration default, so the desk
//! runs without a mail server) or an SMTP server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text: a relay on the same host or a trusted network only.
    None,
    /// Upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpSecurity {
    pub fn parse(text: &str) -> Option<SmtpSecurity> {
        match text {
            "none" => Some(SmtpSecurity::None),
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" => Some(SmtpSecurity::Tls),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// With a password, or neither.
    pub username: Option<String>,
    pub password: Option<String>,
    /// For each command of the conversation.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the mail folder {folder} cannot be used: {reason}")]
    Folder { folder: String, reason: String },
    #[error("SMTP server {host}: {reason}")]
    Smtp { host: String, reason: String },
}

/// Why a message was not delivered, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    /// The server refused the message for good (a 5xx answer): retrying cannot help.
    pub permanent: bool,
    pub reason: String,
}

#[derive(Clone)]
pub enum Transport {
    Folder(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    /// Messages written as `<Message-ID>.eml` files into `folder`, created if need be.
    pub fn folder(folder: &Path) -> Result<Transport, TransportError> {
        std::fs::create_dir_all(folder).map_err(|error| TransportError::Folder {
            folder: folder.display().to_string(),
            reason: error.to_string(),
        })?;
        Ok(Transport::Folder(folder.to_path_buf()))
    }

    pub fn smtp(settings: &SmtpSettings) -> Result<Transport, TransportError> {
        let failed = |reason: String| TransportError::Smtp {
            host: settings.host.clone(),
            reason,
        };
        let tls =
            || TlsParameters::new(settings.host.clone()).map_err(|error| failed(error.to_string()));
        let security = match settings.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(security)
            .timeout(Some(settings.timeout));
        match (&settings.username, &settings.password) {
            (Some(username), Some(password)) => {
                builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
            }
            (None, None) => {}
            _ => {
                return Err(failed(
                    "give both smtp_username and smtp_password, or neither".into(),
                ));
            }
        }
        Ok(Transport::Smtp(builder.build()))
    }

    /// Hands `message` over. Sending the same message again is harmless: the folder keeps
    /// one file per Message-ID, and mail systems one message per Message-ID.
    pub async fn send(&self, message_id: &str, message: &Message) -> Result<(), SendError> {
        match self {
            Transport::Folder(folder) => write_file(folder, message_id, &message.formatted())
                .await
                .map_err(|error| SendError {
                    permanent: false,
                    reason: format!("cannot write to {}: {error}", folder.display()),
                }),
            Transport::Smtp(smtp) => {
                smtp.send(message.clone())
                    .await
                    .map(|_| ())
                    .map_err(|error| SendError {
                        permanent: error.is_permanent(),
                        reason: error.to_string(),
                    })
            }
        }
    }

    /// What the logs say of where mail goes.
    pub fn describe(&self) -> String {
        match self {
            Transport::Folder(folder) => format!("files in {}", folder.display()),
            Transport::Smtp(_) => "SMTP".to_string(),
        }
    }
}

/// Written under a temporary name and renamed, so a reader of the folder never sees half a
/// message, and a crash leaves at most a temporary file behind.
async fn write_file(folder: &Path, message_id: &str, bytes: &[u8]) -> std::io::Result<()> {
    let name: String = message_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@.-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let final_path = folder.join(format!("{name}.eml"));
    let temporary = folder.join(format!(".{name}.tmp"));
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, &final_path).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Addressee, compose_plain, sender};

    #[tokio::test]
    async fn the_folder_keeps_one_file_per_message() {
        let folder = tempfile::tempdir().unwrap();
        let transport = Transport::folder(&folder.path().join("out")).unwrap();
        let message = compose_plain(
            &sender("desk@desk.example").unwrap(),
            &Addressee {
                name: "Ada".into(),
                email: "ada@acme.example".into(),
            },
            "Hello",
            "Hello, Ada",
        )
        .unwrap();
        transport
            .send("notice-1@desk.example", &message)
            .await
            .unwrap();
        transport
            .send("notice-1@desk.example", &message)
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(folder.path().join("out"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files, vec!["notice-1@desk.example.eml".to_string()]);
    }

    #[test]
    fn credentials_come_in_pairs() {
        let error = Transport::smtp(&SmtpSettings {
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::None,
            username: Some("desk".into()),
            password: None,
            timeout: Duration::from_secs(5),
        })
        .err()
        .unwrap()
        .to_string();
        assert!(error.contains("smtp_password"), "{error}");
    }
}
