//! The `caredesk` binary as an operator runs it: serve (with the demo), healthcheck,
//! graceful shutdown, migrate, and the admin commands.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn caredesk(directory: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(args)
        .current_dir(directory)
        .env_remove("CAREDESK_POLICY")
        .env_remove("CAREDESK_DATABASE")
        .env_remove("CAREDESK_LISTEN")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `caredesk serve` on a free port in `directory`; returns the child and its address.
fn serve(directory: &std::path::Path, extra: &[&str]) -> (Child, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .current_dir(directory)
        .env_remove("CAREDESK_POLICY")
        .env_remove("CAREDESK_DATABASE")
        .env("CAREDESK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let line = lines.next().unwrap().unwrap();
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
    panic!("caredesk serve did not start: {seen:?}");
}

fn http_get(address: &str, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{authorization}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
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

#[test]
fn serve_with_demo_data_answers_and_stops_gracefully() {
    let directory = tempfile::tempdir().unwrap();
    let (mut child, address, output) = serve(directory.path(), &["--demo"]);
    let token_line = output
        .iter()
        .find(|line| line.starts_with("Administrator API token: "))
        .unwrap();
    let token = token_line.rsplit(' ').next().unwrap();
    assert!(
        directory.path().join("caredesk.db").exists(),
        "zero configuration: caredesk.db here"
    );

    let healthcheck = caredesk(directory.path(), &["healthcheck", "--listen", &address]);
    assert!(
        healthcheck.status.success(),
        "{}",
        text(&healthcheck.stderr)
    );
    let (status, page) = http_get(&address, "/api/v1/queue?limit=5", Some(token));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("\"items\""), "{page}");
    let (status, _) = http_get(&address, "/api/v1/openapi.json", None);
    assert_eq!(status, 200);

    let stopped = terminate(&mut child);
    assert!(
        stopped.success(),
        "a SIGTERM ends the service cleanly: {stopped:?}"
    );
    let healthcheck = caredesk(directory.path(), &["healthcheck", "--listen", &address]);
    assert_eq!(healthcheck.status.code(), Some(1));

    // Every rule that applied to a demo ticket, and each clock's account.
    let explained = caredesk(
        directory.path(),
        &[
            "policy",
            "explain-ticket",
            "1",
            "--at",
            "2026-11-26T12:00:00Z",
        ],
    );
    assert!(explained.status.success(), "{}", text(&explained.stderr));
    let explanation = text(&explained.stdout);
    for part in [
        "ticket 1:",
        "rules",
        "program",
        "calendar",
        "targets",
        "clocks",
        "first_response:",
        "due ",
    ] {
        assert!(
            explanation.contains(part),
            "{part} missing from:\n{explanation}"
        );
    }
    let json = caredesk(
        directory.path(),
        &["policy", "explain-ticket", "1", "--json"],
    );
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(parsed["rules"].as_array().unwrap().len() >= 4, "{parsed}");
    let missing = caredesk(directory.path(), &["policy", "explain-ticket", "999999"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        text(&missing.stderr).trim(),
        "caredesk: error: there is no ticket 999999"
    );

    // Started again on the same database, the demo is not loaded twice.
    let (mut child, _, output) = serve(directory.path(), &["--demo"]);
    assert!(
        output
            .iter()
            .any(|line| line.contains("already holds customers")),
        "{output:?}"
    );
    terminate(&mut child);
}

#[test]
fn admin_commands_create_staff_tokens_and_import_all_or_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path();
    let migrate = caredesk(path, &["migrate"]);
    assert!(migrate.status.success(), "{}", text(&migrate.stderr));

    let created = caredesk(
        path,
        &[
            "admin",
            "create-staff",
            "--email",
            "lea@desk.example",
            "--name",
            "Léa",
            "--role",
            "advisor",
            "--region",
            "emea",
            "--languages",
            "en,fr",
            "--password",
            "a good long password",
        ],
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let refused = caredesk(
        path,
        &[
            "admin",
            "create-staff",
            "--email",
            "x@desk.example",
            "--name",
            "X",
            "--role",
            "wizard",
            "--password",
            "short",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("--role"),
        "{}",
        text(&refused.stderr)
    );
    assert!(
        text(&refused.stderr).contains("--password"),
        "{}",
        text(&refused.stderr)
    );
    let token = caredesk(
        path,
        &[
            "admin",
            "issue-token",
            "--email",
            "lea@desk.example",
            "--name",
            "ci",
        ],
    );
    assert!(token.status.success());
    assert!(text(&token.stdout).trim().starts_with("cd_"));

    let write = |name: &str, content: &str| {
        let file = path.join(name);
        std::fs::write(&file, content).unwrap();
        file.display().to_string()
    };
    let customers = write(
        "customers.csv",
        "number,name,region,language\nC-1,Acme,emea,nl\nC-2,Globex,mars,en\n",
    );
    let contacts = write(
        "contacts.csv",
        "customer_number,name,email,phone,language,designated\nC-1,Ada,ada@acme.example,,nl,true\nC-9,Bob,not-an-address,,en,maybe\n",
    );
    let failed = caredesk(
        path,
        &[
            "admin",
            "import",
            "--customers",
            &customers,
            "--contacts",
            &contacts,
        ],
    );
    assert_eq!(failed.status.code(), Some(2));
    let errors = text(&failed.stderr);
    for expected in [
        "customers.csv:3: region",
        "contacts.csv:3: customer_number",
        "contacts.csv:3: email",
        "contacts.csv:3: designated",
        "nothing was imported",
    ] {
        assert!(errors.contains(expected), "{expected}: {errors}");
    }
    let customers = write(
        "customers.csv",
        "number,name,region,language\nC-1,Acme,emea,nl\nC-2,Globex,americas,en\n",
    );
    let contacts = write(
        "contacts.csv",
        "customer_number,name,email,phone,language,designated\nC-1,Ada,ada@acme.example,,nl,true\n",
    );
    let contracts = write(
        "contracts.csv",
        "customer_number,program,starts_on,ends_on,eula_accepted\nC-1,gold,2026-01-01,2027-12-31,true\n",
    );
    let products = write(
        "products.csv",
        "customer_number,product_line,version,serial\nC-2,ol-connect,2026.1,OLC-1\n",
    );
    let imported = caredesk(
        path,
        &[
            "admin",
            "import",
            "--customers",
            &customers,
            "--contacts",
            &contacts,
            "--contracts",
            &contracts,
            "--products",
            &products,
        ],
    );
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert_eq!(
        text(&imported.stdout).trim(),
        "imported 2 customers, 1 contacts, 1 contracts, 1 products"
    );
    let again = caredesk(path, &["admin", "import", "--customers", &customers]);
    assert!(
        text(&again.stderr).contains("exists already"),
        "{}",
        text(&again.stderr)
    );
}
