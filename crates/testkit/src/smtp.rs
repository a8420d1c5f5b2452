//! A real SMTP server on loopback for tests: it speaks enough of RFC 5321 for a client such
//! as lettre (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it accepts, and
//! can be stopped and started again on the same port, or made slow, to test what a desk does
//! when its mail server misbehaves.
//!
//! It runs on a thread of its own with its own runtime, so synchronous tests (which drive
//! the `caredesk` binary) and asynchronous ones can use it alike.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// One message as the server accepted it.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent, dot-stuffing undone, lines ending in CRLF.
    pub data: String,
    pub received_at: SystemTime,
}

impl ReceivedMail {
    /// The value of the first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    current.push(' ');
                    current.push_str(line.trim());
                    continue;
                }
                break;
            }
            if let Some((field, rest)) = line.split_once(':')
                && field.eq_ignore_ascii_case(name)
            {
                value = Some(rest.trim().to_string());
            }
        }
        value
    }

    /// The subject as a reader sees it: its encoded words (RFC 2047) decoded.
    pub fn subject(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.data.as_bytes())
            .and_then(|message| message.subject().map(str::to_string))
            .unwrap_or_default()
    }

    /// The HTML part, its transfer encoding undone.
    pub fn html(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.data.as_bytes())
            .and_then(|message| message.body_html(0).map(|html| html.into_owned()))
            .unwrap_or_default()
    }

    /// Each attachment: its file name, its media type (`image/svg+xml`) and its content.
    pub fn attachments(&self) -> Vec<(String, String, Vec<u8>)> {
        use mail_parser::MimeHeaders;
        let Some(message) = mail_parser::MessageParser::default().parse(self.data.as_bytes())
        else {
            return Vec::new();
        };
        message
            .attachments()
            .map(|part| {
                let media_type = part.content_type().map_or_else(String::new, |found| {
                    format!("{}/{}", found.ctype(), found.subtype().unwrap_or_default())
                });
                (
                    part.attachment_name().unwrap_or_default().to_string(),
                    media_type,
                    part.contents().to_vec(),
                )
            })
            .collect()
    }

    /// The plain-text part as a reader sees it: its transfer encoding (quoted-printable
    /// lines folded at 76 characters) undone.
    pub fn text(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.data.as_bytes())
            .and_then(|message| message.body_text(0).map(|text| text.into_owned()))
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<ReceivedMail>>,
    /// Milliseconds to wait before accepting a message's data.
    data_delay_ms: AtomicU64,
    /// Recipients refused for good (550).
    refused: Mutex<Vec<String>>,
}

struct Running {
    stop: watch::Sender<bool>,
    thread: std::thread::JoinHandle<()>,
}

pub struct SmtpSink {
    address: SocketAddr,
    shared: Arc<Shared>,
    running: Option<Running>,
}

impl SmtpSink {
    /// A sink on a free port of 127.0.0.1, accepting mail.
    pub fn start() -> SmtpSink {
        SmtpSink::start_on(0)
    }

    /// A sink on `port` of 127.0.0.1 (0: any free port).
    pub fn start_on(port: u16) -> SmtpSink {
        let shared = Arc::new(Shared::default());
        let (address, running) = serve(SocketAddr::from(([127, 0, 0, 1], port)), shared.clone());
        SmtpSink {
            address,
            shared,
            running: Some(running),
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Stops listening and drops every open connection, as a server that went down.
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(true);
            let _ = running.thread.join();
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let (_, running) = serve(self.address, self.shared.clone());
        self.running = Some(running);
    }

    /// Every message is held this long before it is accepted.
    pub fn set_data_delay(&self, delay: Duration) {
        self.shared.data_delay_ms.store(
            u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    /// Refuses mail to `address` for good, as a server that knows no such mailbox.
    pub fn refuse_recipient(&self, address: &str) {
        self.shared
            .refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(address.to_string());
    }

    pub fn accept_every_recipient(&self) {
        self.shared
            .refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared
            .messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits (blocking the thread) until at least `count` messages arrived, or `timeout`.
    pub fn wait_for_blocking(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() >= deadline {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until at least `count` messages arrived, or `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(address: SocketAddr, shared: Arc<Shared>) -> (SocketAddr, Running) {
    let (stop, stopped) = watch::channel(false);
    let (bound_tx, bound_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the SMTP sink");
        runtime.block_on(async move {
            let listener = bind(address).await;
            bound_tx
                .send(listener.local_addr().expect("the sink's address"))
                .expect("the sink's starter waits");
            let mut connections = tokio::task::JoinSet::new();
            let mut stopped = stopped;
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            connections.spawn(session(stream, shared.clone()));
                        }
                    }
                    _ = stopped.changed() => break,
                }
            }
            connections.abort_all();
            while connections.join_next().await.is_some() {}
        });
    });
    let bound = bound_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the SMTP sink listens");
    (bound, Running { stop, thread })
}

/// Binds `address`, waiting a little for a port just released by a stopped sink.
async fn bind(address: SocketAddr) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpListener::bind(address).await {
            Ok(listener) => return listener,
            Err(error) if Instant::now() >= deadline => {
                panic!("the SMTP sink cannot listen on {address}: {error}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut reply = async |text: &str| write.write_all(format!("{text}\r\n").as_bytes()).await;
    if reply("220 sink.test ESMTP caredesk test sink")
        .await
        .is_err()
    {
        return;
    }
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8".to_string(),
            "HELO" => "250 sink.test".to_string(),
            "MAIL" => {
                from = address_in(command);
                to.clear();
                "250 OK".to_string()
            }
            "RCPT" => {
                let address = address_in(command);
                let refused = shared
                    .refused
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .contains(&address);
                if refused {
                    "550 5.1.1 no such mailbox".to_string()
                } else {
                    to.push(address);
                    "250 OK".to_string()
                }
            }
            "DATA" => {
                if reply("354 end with <CRLF>.<CRLF>").await.is_err() {
                    return;
                }
                let Some(data) = read_data(&mut lines).await else {
                    return;
                };
                let delay = shared.data_delay_ms.load(Ordering::SeqCst);
                if delay > 0 {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                shared
                    .messages
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(ReceivedMail {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                        received_at: SystemTime::now(),
                    });
                "250 OK queued".to_string()
            }
            "RSET" => {
                from.clear();
                to.clear();
                "250 OK".to_string()
            }
            "NOOP" => "250 OK".to_string(),
            "QUIT" => {
                let _ = reply("221 bye").await;
                return;
            }
            _ => "502 command not implemented".to_string(),
        };
        if reply(&answer).await.is_err() {
            return;
        }
    }
}

/// The address between angle brackets of `MAIL FROM:<…>` or `RCPT TO:<…>`.
fn address_in(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_string())
        .unwrap_or_default()
}

/// The message up to the line holding a single dot, dot-stuffing undone.
async fn read_data(lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<String> {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        if line == ".\r\n" || line == ".\n" {
            return Some(data);
        }
        let unstuffed = line.strip_prefix('.').unwrap_or(&line);
        data.push_str(unstuffed.trim_end_matches(['\r', '\n']));
        data.push_str("\r\n");
    }
}
