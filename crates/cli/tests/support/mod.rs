//! What the tests of the `caredesk` binary share: running it, serving on a free port,
//! plain HTTP/1.1 on loopback, and stopping it as an operator would.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn caredesk(directory: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(args)
        .current_dir(directory)
        .env_remove("CAREDESK_POLICY")
        .env_remove("CAREDESK_DATABASE")
        .env_remove("CAREDESK_LISTEN")
        .output()
        .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `caredesk serve` on a free port in `directory`; returns the child and its address.
pub fn serve(directory: &std::path::Path, extra: &[&str]) -> (Child, String, Vec<String>) {
    serve_with(directory, extra, &[])
}

/// `serve` with more environment variables.
pub fn serve_with(
    directory: &std::path::Path,
    extra: &[&str],
    variables: &[(&str, &str)],
) -> (Child, String, Vec<String>) {
    // Standard error goes to a file of the folder (several servers append to it), read back
    // when one does not start.
    let errors = directory.join("serve.stderr");
    let error_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&errors)
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .current_dir(directory)
        .env_remove("CAREDESK_POLICY")
        .env_remove("CAREDESK_DATABASE")
        .env("CAREDESK_LOG", "warn")
        .envs(variables.iter().copied())
        .stdout(Stdio::piped())
        .stderr(error_file)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    // Loading the demo's months of history takes a while on a busy machine's PostgreSQL.
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else {
            break;
        };
        if let Some(rest) = line.strip_prefix("caredesk is listening on http://") {
            let address = rest.split_whitespace().next().unwrap().to_string();
            // Keep reading (and discarding) so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return (child, address, seen);
        }
        seen.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "caredesk serve did not start: {seen:?}\n{}",
        std::fs::read_to_string(&errors).unwrap_or_default()
    );
}

/// A child process killed when dropped, so that a failing test leaves no server behind.
pub struct KillOnDrop(pub Child);

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

pub fn http_get(address: &str, path: &str, token: Option<&str>) -> (u16, String) {
    http(address, "GET", path, token, None)
}

pub fn http(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    json: Option<&str>,
) -> (u16, String) {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = authorization
        .iter()
        .map(|value| ("Authorization", value.as_str()))
        .collect();
    let answer = try_http(
        address,
        method,
        path,
        &headers,
        json,
        Duration::from_secs(60),
    )
    .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
    (answer.status, answer.body)
}

pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "caredesk did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `caredesk worker` in `directory`, sending to the SMTP server on `smtp_port`.
pub fn worker(directory: &std::path::Path, smtp_port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .arg("worker")
        .current_dir(directory)
        .env_remove("CAREDESK_POLICY")
        .env_remove("CAREDESK_DATABASE")
        .env("CAREDESK_LOG", "warn")
        .env("CAREDESK_MAIL_TRANSPORT", "smtp")
        .env("CAREDESK_SMTP_HOST", "127.0.0.1")
        .env("CAREDESK_SMTP_PORT", smtp_port.to_string())
        .env("CAREDESK_SMTP_SECURITY", "none")
        .env("CAREDESK_MAIL_FROM", "Desk <desk@caredesk.test>")
        .env("CAREDESK_DELIVERY_POLL_MS", "100")
        // Claims last three timeouts: 6 s before a dead worker's notices are taken again.
        .env("CAREDESK_SMTP_TIMEOUT_SECONDS", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// One answer over HTTP/1.1: the status, the head's lines and the body.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("{error}: {} {}", self.status, self.body))
    }
}

/// A request that may fail as a client sees it fail: refused, reset, or no answer within
/// `timeout` (an error, never a panic).
pub fn try_http(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
    timeout: Duration,
) -> std::io::Result<Answer> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect_timeout(&address.parse().unwrap(), timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    match json {
        Some(json) => request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        )),
        None => request.push_str("\r\n"),
    }
    stream.write_all(request.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {head:?}")))?;
    Ok(Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    })
}

/// The administrator's API token a `serve --demo` printed.
pub fn demo_token(output: &[String]) -> String {
    output
        .iter()
        .find_map(|line| line.strip_prefix("Administrator API token: "))
        .unwrap_or_else(|| panic!("no token in {output:?}"))
        .to_string()
}

/// A new portal ticket of the demo's first customer, on its first registered product; the
/// caller names its subject.
pub fn demo_ticket(address: &str, token: &str) -> serde_json::Value {
    let (status, file) = http_get(address, "/api/v1/customers/1", Some(token));
    assert_eq!(status, 200, "{file}");
    let file: serde_json::Value = serde_json::from_str(&file).unwrap();
    let product = &file["products"][0];
    serde_json::json!({
        "customer_id": 1,
        "channel": "portal",
        "severity": "P3",
        "product_line": product["product_line"],
        "version": product["version"],
        "serial": product["serial"],
        "subject": "Invoices stopped printing",
        "description": "Since this morning no invoice leaves the print queue.",
        "business_impact": "Invoices are late",
        "error_messages": "E042 spooler timeout",
    })
}
