//! Where messages go: a folder of `.eml` files (the zero-configuration default, so the desk
//! runs without a mail server) or an SMTP server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

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
    Smtp(Arc<SmtpClient>),
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
        let tls = match settings.security {
            SmtpSecurity::None => None,
            SmtpSecurity::StartTls | SmtpSecurity::Tls => Some(
                TlsParameters::new(settings.host.clone())
                    .map_err(|error| failed(error.to_string()))?,
            ),
        };
        let credentials = match (&settings.username, &settings.password) {
            (Some(username), Some(password)) => {
                Some(Credentials::new(username.clone(), password.clone()))
            }
            (None, None) => None,
            _ => {
                return Err(failed(
                    "give both smtp_username and smtp_password, or neither".into(),
                ));
            }
        };
        Ok(Transport::Smtp(Arc::new(SmtpClient {
            settings: settings.clone(),
            tls,
            credentials,
            connection: Mutex::new(None),
        })))
    }

    /// Hands `message` over. The folder keeps one file per Message-ID; over SMTP a message
    /// sent again arrives again, as the same message (the same Message-ID), which mail
    /// clients show once.
    pub async fn send(&self, message_id: &str, message: &Message) -> Result<(), SendError> {
        match self {
            Transport::Folder(folder) => write_file(folder, message_id, &message.formatted())
                .await
                .map_err(|error| SendError {
                    permanent: false,
                    reason: format!("cannot write to {}: {error}", folder.display()),
                }),
            Transport::Smtp(smtp) => smtp.send(message).await,
        }
    }

    /// What the logs say of where mail goes.
    pub fn describe(&self) -> String {
        match self {
            Transport::Folder(folder) => format!("files in {}", folder.display()),
            Transport::Smtp(smtp) => format!(
                "SMTP to {}:{} ({:?})",
                smtp.settings.host, smtp.settings.port, smtp.settings.security
            ),
        }
    }
}

/// One connection to the SMTP server, kept open between messages and opened again when it
/// breaks; messages go down it one at a time.
///
/// It is opened by hand rather than through lettre's transport so that Nagle's algorithm is
/// off: lettre writes a message's data and its final dot in two writes, and with Nagle on the
/// second waits for the server's delayed acknowledgement of the first, 40 ms per message
/// (22 messages a second). With TLS from the first byte lettre opens the socket itself,
/// and that stall remains.
pub struct SmtpClient {
    settings: SmtpSettings,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    connection: Mutex<Option<AsyncSmtpConnection>>,
}

impl SmtpClient {
    /// One message, within the timeout as a whole (connecting included). A kept connection
    /// is checked (NOOP) before it is reused; after any failure it is dropped, and the
    /// message is not tried again here: a failure after the final dot may mean the server
    /// has it, so the retry is the outbox's, later, as the same message.
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let mut connection = self.connection.lock().await;
        let sent = self
            .within_timeout(async {
                let reusable = match connection.as_mut() {
                    Some(open) => !open.has_broken() && open.test_connected().await,
                    None => false,
                };
                if !reusable {
                    if let Some(mut old) = connection.take() {
                        old.abort().await;
                    }
                    *connection = Some(self.connect().await?);
                }
                let Some(open) = connection.as_mut() else {
                    return Err(SendError {
                        permanent: false,
                        reason: "no connection to the SMTP server".into(),
                    });
                };
                open.send(message.envelope(), &message.formatted())
                    .await
                    .map(|_| ())
                    .map_err(failure)
            })
            .await;
        if sent.is_err()
            && let Some(mut broken) = connection.take()
        {
            broken.abort().await;
        }
        sent
    }

    /// Errors here are never permanent: a refused greeting or a wrong password is the
    /// operator's to fix, and the notices wait for it (retried, then listed as failed).
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let address = (self.settings.host.as_str(), self.settings.port);
        let hello = ClientId::default();
        let mut connection = match self.settings.security {
            SmtpSecurity::Tls => AsyncSmtpConnection::connect_tokio1(
                address,
                Some(self.settings.timeout),
                &hello,
                self.tls.clone(),
                None,
            )
            .await
            .map_err(passing)?,
            SmtpSecurity::None | SmtpSecurity::StartTls => {
                let stream = TcpStream::connect(address)
                    .await
                    .map_err(|error| SendError {
                        permanent: false,
                        reason: format!(
                            "cannot connect to {}:{}: {error}",
                            self.settings.host, self.settings.port
                        ),
                    })?;
                let _ = stream.set_nodelay(true);
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello)
                    .await
                    .map_err(passing)?
            }
        };
        if let (SmtpSecurity::StartTls, Some(tls)) = (self.settings.security, &self.tls) {
            connection
                .starttls(tls.clone(), &hello)
                .await
                .map_err(|error| SendError {
                    // A server that cannot encrypt is not sent to in the clear.
                    permanent: false,
                    reason: format!("STARTTLS: {error}"),
                })?;
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|error| SendError {
                    permanent: false,
                    reason: format!("authentication: {error}"),
                })?;
        }
        Ok(connection)
    }

    async fn within_timeout<T>(
        &self,
        work: impl Future<Output = Result<T, SendError>>,
    ) -> Result<T, SendError> {
        tokio::time::timeout(self.settings.timeout, work)
            .await
            .unwrap_or_else(|_| {
                Err(SendError {
                    permanent: false,
                    reason: format!(
                        "the SMTP server did not answer within {} s",
                        self.settings.timeout.as_secs()
                    ),
                })
            })
    }
}

/// A failure of the connection itself: tried again later, whatever the server said.
fn passing(error: lettre::transport::smtp::Error) -> SendError {
    SendError {
        permanent: false,
        reason: error.to_string(),
    }
}

/// A failure of one message: permanent when the server refused it for good (5xx).
fn failure(error: lettre::transport::smtp::Error) -> SendError {
    SendError {
        permanent: error.is_permanent(),
        reason: error.to_string(),
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
    use crate::message::{Addressee, MessageIds, Outgoing, compose, sender};
    use crate::templates::RenderedMail;

    #[tokio::test]
    async fn the_folder_keeps_one_file_per_message() {
        let folder = tempfile::tempdir().unwrap();
        let transport = Transport::folder(&folder.path().join("out")).unwrap();
        let mail = RenderedMail {
            language: "en",
            subject: "Hello".into(),
            text: "Hello, Ada\n".into(),
            html: "<p>Hello, Ada</p>".into(),
        };
        let message = compose(
            &MessageIds::new("desk.example"),
            &Outgoing {
                notice_id: 1,
                ticket_id: Some(1),
                from: &sender("desk@desk.example").unwrap(),
                to: &Addressee {
                    name: "Ada".into(),
                    email: "ada@acme.example".into(),
                },
                mail: &mail,
                attachments: &[],
            },
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
