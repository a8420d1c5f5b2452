//! The `caredesk` binary as an operator runs it: serve (with the demo), healthcheck,
//! graceful shutdown, migrate, and the admin commands.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::*;

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

    // Every rule that applied to a demo ticket, and each clock's account. (The demo's
    // tickets are opened in the weeks before it is loaded: explained as of now.)
    let now = jiff::Timestamp::now().to_string();
    let explained = caredesk(
        directory.path(),
        &["policy", "explain-ticket", "1", "--at", &now],
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
        "support scope",
        "most recent current releases",
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
    // Which catalog releases decided the support scope.
    let scope = &parsed["support_scope"];
    assert_eq!(scope["supported"].as_array().unwrap().len(), 2, "{scope}");
    assert!(scope["in_scope"].is_boolean(), "{scope}");
    assert!(scope["catalog"].as_array().unwrap().len() >= 2, "{scope}");
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
    let expiring = caredesk(
        path,
        &[
            "admin",
            "issue-token",
            "--email",
            "lea@desk.example",
            "--name",
            "nightly",
            "--expires-in-days",
            "30",
        ],
    );
    assert!(expiring.status.success(), "{}", text(&expiring.stderr));
    let listed = caredesk(
        path,
        &["admin", "tokens", "list", "--email", "lea@desk.example"],
    );
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let lines: Vec<String> = text(&listed.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "a header and two tokens: {lines:?}");
    assert!(lines[1].contains("\tnightly\t") && lines[1].ends_with("\tactive"));
    assert!(lines[2].contains("\tci\t") && lines[2].contains("\tnever\t"));
    let ci = lines[2].split('\t').next().unwrap().to_string();
    let revoked = caredesk(path, &["admin", "tokens", "revoke", &ci]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(text(&revoked.stdout).contains("revoked"));
    let again = caredesk(path, &["admin", "tokens", "revoke", &ci]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("revoked already"));
    let unknown = caredesk(path, &["admin", "tokens", "revoke", "9999"]);
    assert_eq!(unknown.status.code(), Some(2));
    let listed = caredesk(path, &["admin", "tokens", "list"]);
    assert!(
        text(&listed.stdout).contains("\trevoked "),
        "{}",
        text(&listed.stdout)
    );
    let deactivated = caredesk(
        path,
        &["admin", "deactivate-staff", "--email", "lea@desk.example"],
    );
    assert!(
        deactivated.status.success(),
        "{}",
        text(&deactivated.stderr)
    );
    let listed = caredesk(
        path,
        &["admin", "tokens", "list", "--email", "lea@desk.example"],
    );
    assert!(
        !text(&listed.stdout).contains("\tactive"),
        "every token of a deactivated member is revoked: {}",
        text(&listed.stdout)
    );

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
    // With the licence columns: a bad cell is named, and nothing is imported.
    let licensed_header =
        "customer_number,product_line,version,serial,edition,licensed_version,installations\n";
    let faulty = write(
        "faulty-products.csv",
        &format!("{licensed_header}C-2,ol-connect,2026.1,OLC-1,Platinum,2026 1,two\n"),
    );
    let failed = caredesk(
        path,
        &[
            "admin",
            "import",
            "--customers",
            &customers,
            "--products",
            &faulty,
        ],
    );
    assert_eq!(failed.status.code(), Some(2));
    let errors = text(&failed.stderr);
    for expected in [
        "faulty-products.csv:2: installations: \"two\" is not a whole number",
        "faulty-products.csv:2: edition: not an edition of OL Connect",
        "faulty-products.csv:2: licensed_version",
    ] {
        assert!(errors.contains(expected), "{expected}: {errors}");
    }
    let products = write(
        "products.csv",
        &format!(
            "{licensed_header}C-2,ol-connect,2026.1,OLC-1,,,\nC-2,planetpress-suite,8.0,PPS-1,Production,8.0,3\n"
        ),
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
        "imported 2 customers, 1 contacts, 1 contracts, 2 products"
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime
        .block_on(caredesk_store::Store::connect(&format!(
            "sqlite://{}",
            path.join("caredesk.db").display()
        )))
        .unwrap();
    let licence = |serial: &str| {
        let product = runtime.block_on(store.product_by_serial(serial)).unwrap();
        (
            product.licence.edition,
            product.licence.licensed_version,
            product.licence.installations,
        )
    };
    assert_eq!(licence("OLC-1"), (None, "2026.1".to_string(), 1));
    assert_eq!(
        licence("PPS-1"),
        (Some("Production".to_string()), "8.0".to_string(), 3)
    );
    let again = caredesk(path, &["admin", "import", "--customers", &customers]);
    assert!(
        text(&again.stderr).contains("exists already"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn a_worker_killed_mid_delivery_loses_nothing_when_restarted() {
    let directory = tempfile::tempdir().unwrap();
    // The demo desk, and thirty new portal tickets whose notices nobody delivers yet.
    let (mut server, address, output) = serve_with(
        directory.path(),
        &["--demo"],
        &[("CAREDESK_RUN_JOBS", "false")],
    );
    let token = demo_token(&output);
    let ticket = demo_ticket(&address, &token).to_string();
    for _ in 0..30 {
        let (status, body) = http(
            &address,
            "POST",
            "/api/v1/tickets",
            Some(&token),
            Some(&ticket),
        );
        assert_eq!(status, 201, "{body}");
    }
    terminate(&mut server);

    let database = format!(
        "sqlite://{}",
        directory.path().join("caredesk.db").display()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime
        .block_on(caredesk_store::Store::connect(&database))
        .unwrap();
    let now = jiff::Timestamp::now();
    let due_ids = || -> std::collections::BTreeSet<i64> {
        runtime
            .block_on(store.notices_in("pending", 10_000))
            .unwrap()
            .into_iter()
            .filter(|notice| notice.not_before <= now)
            .map(|notice| notice.id)
            .collect()
    };
    let due = || due_ids().len();
    let to_send = due_ids();
    assert!(to_send.len() >= 30, "{} notices due", to_send.len());

    // A slow server, and the worker killed while it waits on one.
    let sink = caredesk_testkit::smtp::SmtpSink::start();
    sink.set_data_delay(Duration::from_millis(150));
    let mut first = worker(directory.path(), sink.port());
    let before_kill = sink.wait_for_blocking(5, Duration::from_secs(60)).len();
    assert!(before_kill >= 5);
    std::thread::sleep(Duration::from_millis(75));
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(due() > 0, "killed before the end");

    sink.set_data_delay(Duration::ZERO);
    let mut second = worker(directory.path(), sink.port());
    let deadline = Instant::now() + Duration::from_secs(120);
    while due() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    terminate(&mut second);
    assert_eq!(due(), 0, "every due notice was delivered");

    let sent: std::collections::BTreeSet<i64> = runtime
        .block_on(store.notices_in("sent", 100_000))
        .unwrap()
        .into_iter()
        .map(|notice| notice.id)
        .collect();
    assert!(
        to_send.is_subset(&sent),
        "every notice due is recorded as sent"
    );
    let expected: std::collections::BTreeSet<String> = to_send
        .iter()
        .map(|id| format!("<notice-{id}@caredesk.test>"))
        .collect();
    let messages = sink.messages();
    let received: std::collections::BTreeSet<String> = messages
        .iter()
        .map(|message| message.header("Message-ID").unwrap())
        .collect();
    // The worker's sweep may add notices of its own (the demo's clocks run on): each sent.
    let recorded: std::collections::BTreeSet<String> = sent
        .iter()
        .map(|id| format!("<notice-{id}@caredesk.test>"))
        .collect();
    let lost: Vec<_> = expected.difference(&received).collect();
    let invented: Vec<_> = received.difference(&recorded).collect();
    assert!(
        lost.is_empty() && invented.is_empty(),
        "lost {lost:?}, invented {invented:?}"
    );
    eprintln!(
        "{} notices due, {before_kill} received before the kill, {} messages for {} notices",
        to_send.len(),
        messages.len(),
        received.len()
    );
    // The one message in flight when the worker died may arrive twice, as the same message
    // (its lease ran out and it was sent again); no other is doubled.
    assert!(
        messages.len() - received.len() <= 1,
        "{} messages for {} notices",
        messages.len(),
        received.len()
    );
    runtime.block_on(store.close());
}

/// `caredesk mail ingest` with `message` on standard input.
fn ingest(directory: &std::path::Path, database: &str, message: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(["mail", "ingest", "--database", database])
        .current_dir(directory)
        .env_remove("CAREDESK_POLICY")
        .env("CAREDESK_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn mail_ingest_files_a_message_from_standard_input_as_an_mta_expects() {
    let directory = tempfile::tempdir().unwrap();
    let loaded = caredesk(directory.path(), &["demo"]);
    assert!(loaded.status.success(), "{}", text(&loaded.stderr));
    let contact = text(&loaded.stdout)
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("customer contact")
                .map(str::trim)
                .map(String::from)
        })
        .unwrap();
    let database = format!(
        "sqlite://{}",
        directory.path().join("caredesk.db").display()
    );
    let message = format!(
        "From: {contact}\r\nSubject: The archive job fails\r\nMessage-ID: <m1@customer.example>\r\n\r\nSince Monday the nightly archive job stops with E101.\r\n"
    );
    let opened = ingest(directory.path(), &database, &message);
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    let report: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    assert_eq!(report["outcome"], "opened", "{report}");
    // Handed over again: the same answer, nothing new.
    let again = ingest(directory.path(), &database, &message);
    let report_again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report_again["duplicate"], true);
    assert_eq!(report_again["ticket_id"], report["ticket_id"]);
    // Junk is taken (exit 0, so the MTA bounces nothing) and ignored.
    let junk = ingest(directory.path(), &database, "\u{1}\u{2} not mail");
    assert!(junk.status.success());
    let report: serde_json::Value = serde_json::from_slice(&junk.stdout).unwrap();
    assert_eq!(report["outcome"], "ignored");
    // No database: 75, "try again later", so the MTA keeps the message.
    let unreachable = ingest(
        directory.path(),
        "postgres://nobody@127.0.0.1:1/none",
        &message,
    );
    assert_eq!(
        unreachable.status.code(),
        Some(75),
        "{}",
        text(&unreachable.stderr)
    );
}

/// A backup taken while the desk serves is whole; one taken of the stopped desk, restored
/// into a new database, holds every ticket as it was, to the last event and clock; a
/// restore never overwrites a desk, and a file that is not a backup is refused.
#[test]
fn a_backup_restores_the_same_desk() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path();
    let (mut child, _, _) = serve(path, &["--demo"]);
    let live = caredesk(path, &["backup", "while-serving.bak"]);
    assert!(live.status.success(), "{}", text(&live.stderr));
    assert!(
        text(&live.stdout).contains(" tickets, "),
        "{}",
        text(&live.stdout)
    );
    assert!(terminate(&mut child).success());

    let taken = caredesk(path, &["backup", "stopped.bak"]);
    assert!(taken.status.success(), "{}", text(&taken.stderr));
    let again = caredesk(path, &["backup", "stopped.bak"]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "a backup never overwrites a file"
    );
    let restored = caredesk(
        path,
        &[
            "restore",
            "stopped.bak",
            "--database",
            "sqlite://restored.db",
        ],
    );
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let over_the_desk = caredesk(path, &["restore", "stopped.bak"]);
    assert_eq!(over_the_desk.status.code(), Some(2));
    assert!(text(&over_the_desk.stderr).contains("is not empty"));
    std::fs::write(path.join("notes.txt"), "not a database").unwrap();
    let not_a_backup = caredesk(
        path,
        &["restore", "notes.txt", "--database", "sqlite://other.db"],
    );
    assert_eq!(not_a_backup.status.code(), Some(2));
    assert!(!path.join("other.db").exists());

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = |name: &str| format!("sqlite://{}", path.join(name).display());
        let original = caredesk_store::Store::connect(&url("caredesk.db"))
            .await
            .unwrap();
        let copy = caredesk_store::Store::connect(&url("restored.db"))
            .await
            .unwrap();
        let contents = original.contents().await.unwrap();
        assert!(contents.tickets > 100, "{contents:?}");
        assert_eq!(copy.contents().await.unwrap(), contents);
        let all = caredesk_store::Scope::All;
        for id in 1..=contents.tickets + 1 {
            assert_eq!(
                copy.ticket(id, all).await.ok(),
                original.ticket(id, all).await.ok(),
                "ticket {id}"
            );
            assert_eq!(
                copy.timeline(id, all).await.ok(),
                original.timeline(id, all).await.ok(),
                "the timeline of ticket {id}"
            );
        }
        original.close().await;
        copy.close().await;
    });
}

/// `caredesk policy replay` on the demo desk: the real tickets timed again under another
/// program or policy; under the same terms nothing changes, and a wrong program is one line.
#[test]
fn replays_on_the_command_line() {
    let directory = tempfile::tempdir().unwrap();
    let loaded = caredesk(directory.path(), &["demo"]);
    assert!(loaded.status.success(), "{}", text(&loaded.stderr));
    let database = format!(
        "sqlite://{}",
        directory.path().join("caredesk.db").display()
    );
    let replay = |args: &[&str]| {
        let mut all = vec!["policy", "replay", "--from", "2020-01-01"];
        all.extend_from_slice(args);
        all.extend(["--database", &database]);
        caredesk(directory.path(), &all)
    };
    // Every ticket under standard's terms: standard's own are timed alike both ways.
    let standard = replay(&["--program", "standard", "--format", "json"]);
    assert!(standard.status.success(), "{}", text(&standard.stderr));
    let standard: serde_json::Value = serde_json::from_slice(&standard.stdout).unwrap();
    let tickets = standard["tickets"].as_array().unwrap();
    assert!(tickets.len() >= 500, "{} tickets", tickets.len());
    assert_eq!(standard["summary"]["tickets"], tickets.len());
    let mut moved = 0;
    for ticket in tickets {
        assert_eq!(ticket["alternative_program"], "standard");
        if ticket["program"] == "standard" {
            assert_eq!(ticket["actual"], ticket["alternative"], "{ticket}");
        } else if ticket["actual"] != ticket["alternative"] {
            moved += 1;
        }
    }
    // Gold and platinum critical tickets run round the clock; standard's on office hours.
    assert!(moved > 0, "no gold or platinum ticket timed otherwise");
    // The summary counts what the tickets say.
    let settled_under = |terms: &str, clock: &str| -> u64 {
        standard["summary"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|line| line["clock"] == clock)
            .map(|line| line[terms]["settled"].as_u64().unwrap())
            .sum()
    };
    let settled_tickets = |terms: &str| {
        tickets
            .iter()
            .filter(|ticket| {
                matches!(
                    ticket[terms]["first_response"]["outcome"].as_str(),
                    Some("met" | "breached")
                )
            })
            .count() as u64
    };
    assert_eq!(
        settled_under("actual", "first_response"),
        settled_tickets("actual")
    );
    assert_eq!(
        settled_under("alternative", "first_response"),
        settled_tickets("alternative")
    );

    // The desk's own policy as the alternative: nothing avoided, nothing added.
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policy/default.toml");
    let same = replay(&["--alternative-policy", policy, "--format", "json"]);
    assert!(same.status.success(), "{}", text(&same.stderr));
    let same: serde_json::Value = serde_json::from_slice(&same.stdout).unwrap();
    for line in same["summary"]["lines"].as_array().unwrap() {
        assert_eq!(
            (&line["breaches_avoided"], &line["breaches_added"]),
            (&serde_json::json!(0), &serde_json::json!(0)),
            "{line}"
        );
        assert_eq!(line["actual"], line["alternative"], "{line}");
    }

    // CSV: a line per ticket; the table: the summary.
    let csv = replay(&["--program", "platinum", "--format", "csv"]);
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let csv = text(&csv.stdout);
    assert!(
        csv.starts_with("ticket,customer,severity,program,alternative_program,actual_calendar,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), tickets.len() + 1);
    let table = text(&replay(&["--program", "platinum"]).stdout);
    assert!(
        table.contains("timed again under program platinum"),
        "{table}"
    );
    assert!(table.contains("first response"), "{table}");

    // A program the policy does not have: one line naming the flag, the one to time the
    // tickets under or the one they are under.
    let wrong = replay(&["--program", "diamond"]);
    assert_eq!(wrong.status.code(), Some(2));
    let message = text(&wrong.stderr);
    assert!(message.contains("--program: "), "{message}");
    assert!(message.contains("diamond"), "{message}");
    let wrong = replay(&["--of-program", "diamond", "--program", "gold"]);
    assert_eq!(wrong.status.code(), Some(2));
    let message = text(&wrong.stderr);
    assert!(message.contains("--of-program: "), "{message}");
    assert!(!message.contains("--program: "), "{message}");
}

/// `caredesk report` on the demo desk: the compliance report adds up, the breaches each say
/// which clock, one clock's only, and a bad argument is one clear line.
#[test]
fn reports_on_the_command_line() {
    let directory = tempfile::tempdir().unwrap();
    let loaded = caredesk(directory.path(), &["demo"]);
    assert!(loaded.status.success(), "{}", text(&loaded.stderr));
    let database = format!(
        "sqlite://{}",
        directory.path().join("caredesk.db").display()
    );
    let report = |args: &[&str]| {
        let mut all = vec!["report"];
        all.extend_from_slice(args);
        all.extend(["--database", &database]);
        caredesk(directory.path(), &all)
    };
    // Every demo ticket was opened in the last 28 weeks.
    let csv = report(&[
        "sla",
        "--from",
        "2020-01-01",
        "--by",
        "program",
        "--format",
        "csv",
    ]);
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let csv = text(&csv.stdout);
    let rows: Vec<Vec<&str>> = csv.lines().map(|line| line.split(',').collect()).collect();
    assert_eq!(rows[0][..2], ["program", "tickets"], "{csv}");
    let (all, programs) = rows[1..].split_last().unwrap();
    assert_eq!(all[0], "all", "{csv}");
    let per_program: u64 = programs
        .iter()
        .map(|row| row[1].parse::<u64>().unwrap())
        .sum();
    assert_eq!(per_program, all[1].parse::<u64>().unwrap(), "{csv}");
    assert!(per_program >= 500, "{csv}");

    // Volume: every ticket opened in the weeks is counted once among them, and what
    // happened to them comes with it.
    let volume = report(&[
        "volume",
        "--from",
        "2020-01-01",
        "--per",
        "week",
        "--format",
        "json",
    ]);
    assert!(volume.status.success(), "{}", text(&volume.stderr));
    let volume: serde_json::Value = serde_json::from_slice(&volume.stdout).unwrap();
    let opened: u64 = volume["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|week| week["opened"].as_u64().unwrap())
        .sum();
    assert_eq!(opened, per_program, "{volume}");
    assert_eq!(volume["activity_total"]["tickets"], per_program);
    for count in ["escalations_asked", "proposals_rejected", "waiting_minutes"] {
        assert!(
            volume["activity_total"][count].as_u64().unwrap() > 0,
            "{count}: {volume}"
        );
    }
    let open = volume["backlog"]["open"].as_u64().unwrap();
    assert!(open > 0 && open < per_program, "{volume}");
    let table = text(&report(&["volume", "--from", "2026-01-01"]).stdout);
    assert!(
        table.contains("Open now, by business days since opened"),
        "{table}"
    );

    // People: everyone's work adds up to the whole, week by week too.
    let people = report(&[
        "people",
        "--from",
        "2020-01-01",
        "--per",
        "week",
        "--format",
        "json",
    ]);
    assert!(people.status.success(), "{}", text(&people.stderr));
    let people: serde_json::Value = serde_json::from_slice(&people.stdout).unwrap();
    let sum_of = |lines: &serde_json::Value, count: &str| -> u64 {
        lines
            .as_array()
            .unwrap()
            .iter()
            .map(|line| line[count].as_u64().unwrap())
            .sum()
    };
    for count in ["tickets", "actions", "replies", "first_responses"] {
        let total = people["total"][count].as_u64().unwrap();
        assert!(total > 100, "{count}: {people}");
        assert_eq!(sum_of(&people["people"], count), total, "{count}");
        assert_eq!(sum_of(&people["periods"], count), total, "{count}");
        assert_eq!(sum_of(&people["regions"], count), total, "{count}");
    }
    let table = text(&report(&["people", "--from", "2026-01-01"]).stdout);
    assert!(table.contains("Per region of the tickets:"), "{table}");
    let refused = report(&["people", "--region", "mars"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("region"),
        "{}",
        text(&refused.stderr)
    );

    let breaches = report(&["breaches", "--from", "2020-01-01", "--format", "json"]);
    assert!(breaches.status.success(), "{}", text(&breaches.stderr));
    let list: serde_json::Value = serde_json::from_slice(&breaches.stdout).unwrap();
    let tickets = list["tickets"].as_array().unwrap();
    assert!(!tickets.is_empty(), "{list}");
    for ticket in tickets {
        assert!(
            !ticket["breached"].as_array().unwrap().is_empty(),
            "{ticket}"
        );
    }
    let resolution = report(&[
        "breaches",
        "--from",
        "2020-01-01",
        "--clock",
        "resolution",
        "--format",
        "json",
    ]);
    let list: serde_json::Value = serde_json::from_slice(&resolution.stdout).unwrap();
    for ticket in list["tickets"].as_array().unwrap() {
        assert!(
            ticket["breached"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("resolution")),
            "{ticket}"
        );
    }
    let table = report(&["breaches", "--from", "2020-01-01"]);
    let table = text(&table.stdout);
    assert!(
        table.starts_with("Tickets opened from 2020-01-01 to "),
        "{table}"
    );
    assert!(
        table.lines().nth(1).unwrap().starts_with("ticket  "),
        "{table}"
    );

    for (args, expected) in [
        (
            vec!["breaches", "--clock", "sometimes"],
            "not first_response, updates or resolution",
        ),
        (vec!["sla", "--program", "diamond"], "--program"),
        (vec!["breaches", "--page", "0"], "--page"),
        (
            vec!["monthly", "--customer", "6", "--month", "2026-13"],
            "--month: \"2026-13\" is not a month such as 2026-11",
        ),
        (
            vec!["monthly", "--customer", "6", "--month", "2999-01"],
            "--month: 2999-01 has not begun",
        ),
        (
            vec!["monthly", "--customer", "9999"],
            "--customer: no customer has this id",
        ),
        (
            vec!["monthly", "--customer", "6", "--language", "pt"],
            "--language: caredesk writes en, fr, es, de, nl, ja",
        ),
    ] {
        let refused = report(&args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        let message = text(&refused.stderr);
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{message}");
    }

    // A gold customer's monthly report: the numbers of its compliance report of the month
    // just ended, and the mail its designated contact would read.
    let monthly = report(&["monthly", "--customer", "6", "--format", "json"]);
    assert!(monthly.status.success(), "{}", text(&monthly.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&monthly.stdout).unwrap();
    assert_eq!(answer["sent"], false, "the demo sends none: {answer}");
    let monthly = &answer["report"];
    assert_eq!(monthly["customer_id"], 6, "{monthly}");
    // The month just ended, in UTC.
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date();
    let month_before = today.first_of_month().yesterday().unwrap();
    assert_eq!(
        monthly["month"],
        month_before.strftime("%Y-%m").to_string(),
        "{monthly}"
    );
    assert_eq!(monthly["from"], month_before.first_of_month().to_string());
    assert_eq!(monthly["to"], month_before.to_string());
    assert_eq!(monthly["program"], "gold", "{monthly}");
    let (from, to) = (
        monthly["from"].as_str().unwrap(),
        monthly["to"].as_str().unwrap(),
    );
    let sla = report(&[
        "sla",
        "--from",
        from,
        "--to",
        to,
        "--customer",
        "6",
        "--format",
        "json",
    ]);
    let sla: serde_json::Value = serde_json::from_slice(&sla.stdout).unwrap();
    assert_eq!(monthly["tickets"], sla["total"]["tickets"], "{sla}");
    assert_eq!(
        monthly["clocks"][0]["met"], sla["total"]["first_response"]["met"],
        "{sla}"
    );
    let mail = report(&["monthly", "--customer", "6", "--language", "en"]);
    assert!(mail.status.success(), "{}", text(&mail.stderr));
    let mail = text(&mail.stdout);
    assert!(
        mail.starts_with("Not sent: the report as it stands now.\nSubject: Support report for "),
        "{mail}"
    );
    if monthly["tickets"].as_u64().unwrap() > 0 {
        assert!(mail.contains("Target  "), "{mail}");
        assert!(
            mail.contains(&format!("Tickets opened: {}", monthly["tickets"])),
            "{mail}"
        );
    } else {
        assert!(mail.contains("No ticket was opened in"), "{mail}");
    }
    // Unless told, in the designated contact's language, to them by name.
    let contact = report(&["monthly", "--customer", "6"]);
    let contact = text(&contact.stdout);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let designated = runtime.block_on(async {
        let store = caredesk_store::Store::connect(&database).await.unwrap();
        let contacts = store.contacts_of(6).await.unwrap();
        store.close().await;
        contacts
            .into_iter()
            .find(|contact| contact.designated)
            .unwrap()
    });
    let greeting = contact.lines().nth(3).unwrap_or_default();
    assert!(greeting.contains(&designated.name), "{contact}");
    if designated.language != "en" {
        assert!(!contact.contains("Support report for"), "{contact}");
    }
}

/// A policy change as an operator makes it on a running desk of two instances: a file that
/// fails its check, or is not confirmed, changes nothing; an applied one becomes version 2,
/// which both instances take up within seconds and their job runner computes into every
/// open ticket, recording the breaches it causes; an instance started with another file
/// refuses unless told which wins.
#[test]
fn a_policy_version_is_applied_and_followed_by_every_instance() {
    let directory = tempfile::tempdir().unwrap();
    let (mut first, first_address, output) = serve(directory.path(), &["--demo"]);
    let token = demo_token(&output);
    let (mut second, second_address, _) = serve(directory.path(), &[]);
    let database = format!(
        "sqlite://{}",
        directory.path().join("caredesk.db").display()
    );
    let history = || {
        let listed = caredesk(
            directory.path(),
            &["policy", "history", "--json", "--database", &database],
        );
        assert!(listed.status.success(), "{}", text(&listed.stderr));
        serde_json::from_slice::<serde_json::Value>(&listed.stdout).unwrap()
    };
    let version_of = |address: &str| {
        let (status, body) = http_get(address, "/api/v1/tickets/1/explanation", Some(&token));
        assert_eq!(status, 200, "{body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        body["policy"]["version"].as_u64().unwrap()
    };
    assert_eq!(history()["in_force"], 1);
    assert_eq!(
        (version_of(&first_address), version_of(&second_address)),
        (1, 1)
    );

    // A file that fails its check is refused with its problem, and nothing changes.
    let default = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policy/default.toml"
    ))
    .unwrap();
    let broken = directory.path().join("broken.toml");
    std::fs::write(
        &broken,
        default.replace("at_risk_percent = ", "at_risk_percent = 1"),
    )
    .unwrap();
    let refused = caredesk(
        directory.path(),
        &[
            "policy",
            "apply",
            broken.to_str().unwrap(),
            "--yes",
            "--database",
            &database,
        ],
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stderr).contains("at_risk_percent"),
        "{}",
        text(&refused.stderr)
    );
    // P3 status updates every business hour instead of every two business days.
    let start = default.find("[severities.P3]").unwrap();
    let line = start + default[start..].find("update_every = ").unwrap();
    let end = line + default[line..].find('\n').unwrap();
    let hourly = directory.path().join("hourly.toml");
    std::fs::write(
        &hourly,
        format!(
            "{}update_every = \"1h\"{}",
            &default[..line],
            &default[end..]
        ),
    )
    .unwrap();
    let hourly = hourly.to_str().unwrap();
    // Not confirmed (no terminal, no --yes): shown, not applied.
    let unconfirmed = caredesk(
        directory.path(),
        &["policy", "apply", hourly, "--database", &database],
    );
    assert_eq!(unconfirmed.status.code(), Some(2));
    let shown = text(&unconfirmed.stdout);
    assert!(shown.contains("Severities\n  ~ P3"), "{shown}");
    assert!(shown.contains("every business hour"), "{shown}");
    assert!(text(&unconfirmed.stderr).contains("--yes"));
    let listed = history();
    assert_eq!(listed["versions"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["rebuild"]["behind"], 0, "{listed}");

    // Applied, with the rebuild left to the running desk's job runner.
    let applied = caredesk(
        directory.path(),
        &[
            "policy",
            "apply",
            hourly,
            "--yes",
            "--no-rebuild",
            "--note",
            "hourly P3 updates",
            "--database",
            &database,
        ],
    );
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    let said = text(&applied.stdout);
    assert!(said.contains("breached by the change"), "{said}");
    assert!(
        said.contains("stored as policy version 2, in force now"),
        "{said}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listed = history();
        let followed = (version_of(&first_address), version_of(&second_address)) == (2, 2);
        if followed && listed["rebuild"]["behind"] == 0 {
            assert_eq!(listed["in_force"], 2);
            assert_eq!(listed["versions"][0]["note"], "hourly P3 updates");
            break;
        }
        assert!(Instant::now() < deadline, "not followed: {listed}");
        std::thread::sleep(Duration::from_millis(300));
    }
    // Every page of the breached tickets: the demo's older breaches may fill the first.
    let mut breached = Vec::new();
    let mut path = "/api/v1/queue?breached=true&limit=100".to_string();
    loop {
        let (status, queue) = http_get(&first_address, &path, Some(&token));
        assert_eq!(status, 200, "{queue}");
        let queue: serde_json::Value = serde_json::from_str(&queue).unwrap();
        breached.extend(
            queue["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].as_i64().unwrap()),
        );
        match queue["next"].as_str() {
            Some(next) => path = format!("/api/v1/queue?breached=true&limit=100&after={next}"),
            None => break,
        }
    }
    // The preview counted the tickets the change breaches: none at the hours when every
    // office whose P3 tickets it moves is closed (their new due times are then at the next
    // opening). Each of them has its breach naming the change, and no other ticket has.
    let breached_by_change: usize = said
        .lines()
        .find(|line| line.trim_start().starts_with("breached by the change"))
        .and_then(|line| line.split_whitespace().last())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("the preview counts the breaches: {said}"));
    let caused: Vec<i64> = breached
        .iter()
        .copied()
        .filter(|id| {
            let (_, events) = http_get(
                &first_address,
                &format!("/api/v1/tickets/{id}/events"),
                Some(&token),
            );
            events.contains("\"policy_change\":2")
        })
        .collect();
    assert_eq!(
        caused.is_empty(),
        breached_by_change == 0,
        "{caused:?} among {} breached: {said}",
        breached.len()
    );
    // Its explanation (or any rebuilt ticket's) says what version 1 said.
    let explained_ticket = caused.first().or(breached.first()).copied().unwrap();
    let explained = caredesk(
        directory.path(),
        &[
            "policy",
            "explain-ticket",
            &explained_ticket.to_string(),
            "--json",
            "--database",
            &database,
        ],
    );
    let explained: serde_json::Value = serde_json::from_slice(&explained.stdout).unwrap();
    let policy = &explained["policy"];
    assert_eq!(policy["version"], 2, "{policy}");
    assert_eq!(policy["computed_under"], 2, "{policy}");
    assert_eq!(policy["previous"]["version"]["version"], 1, "{policy}");
    assert!(
        !policy["previous"]["clocks"].as_array().unwrap().is_empty(),
        "{policy}"
    );
    terminate(&mut first);
    terminate(&mut second);

    // Started with another file than the version in force: refused unless told which wins.
    let default_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policy/default.toml");
    let refused = caredesk(
        directory.path(),
        &["serve", "--listen", "127.0.0.1:0", "--policy", default_path],
    );
    assert_eq!(refused.status.code(), Some(2));
    let why = text(&refused.stderr);
    assert!(why.contains("policy version 2"), "{why}");
    assert!(why.contains("--policy-wins"), "{why}");
    let (mut started, _, _) = serve(
        directory.path(),
        &["--policy", default_path, "--policy-wins"],
    );
    terminate(&mut started);
    let listed = history();
    assert_eq!(listed["in_force"], 3, "{listed}");
    let shown = caredesk(
        directory.path(),
        &["policy", "show", "--version", "2", "--database", &database],
    );
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert!(
        text(&shown.stdout).contains("policy version 2 from"),
        "{}",
        text(&shown.stdout)
    );
}
