//! The `caredesk` binary as a user runs it: arguments in, one line out, exit codes.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn caredesk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(args)
        .env_remove("CAREDESK_POLICY")
        .output()
        .unwrap()
}

fn caredesk_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(args)
        .env_remove("CAREDESK_POLICY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// A failure: non-zero exit, nothing on stdout, one clear line on stderr.
fn assert_one_line_error(output: &Output, code: i32, expected: &str) {
    assert_eq!(output.status.code(), Some(code), "{}", stderr(output));
    let message = stderr(output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.starts_with("caredesk: error: "), "{message}");
    assert!(message.contains(expected), "{expected}: {message}");
    assert!(!message.contains("panicked"), "{message}");
}

#[test]
fn due_prints_rfc3339_with_the_local_offset() {
    let cases = [
        (
            "americas",
            "2026-09-04T16:30:00-04:00",
            "120",
            "2026-09-08T09:30:00-04:00",
        ),
        (
            "americas",
            "2026-11-27T07:00:00-05:00",
            "1080",
            "2026-11-30T17:00:00-05:00",
        ),
        (
            "24x7-americas",
            "2026-03-07T12:00:00-05:00",
            "2880",
            "2026-03-09T13:00:00-04:00",
        ),
        (
            "24x5-emea",
            "2027-03-26T10:00:00+01:00",
            "1440",
            "2027-03-31T00:00:00+02:00",
        ),
        (
            "apac",
            "2027-04-02T16:30:00+11:00",
            "480",
            "2027-04-05T16:30:00+10:00",
        ),
        (
            "americas",
            "2026-11-26T21:59:30Z",
            "3",
            "2026-11-27T08:02:30-05:00",
        ),
    ];
    for (calendar, start, minutes, expected) in cases {
        let output = caredesk(&[
            "sla",
            "due",
            "--calendar",
            calendar,
            "--start",
            start,
            "--minutes",
            minutes,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            stdout(&output),
            format!("{expected}\n"),
            "{calendar} {start} {minutes}"
        );
    }
}

#[test]
fn elapsed_prints_whole_minutes() {
    let output = caredesk(&[
        "sla",
        "elapsed",
        "--calendar",
        "americas",
        "--from",
        "2026-09-04T16:30:00-04:00",
        "--to",
        "2026-09-08T09:30:00-04:00",
    ]);
    assert_eq!(stdout(&output), "120\n");
}

#[test]
fn pauses_move_the_due_time() {
    let output = caredesk(&[
        "sla",
        "due",
        "--calendar",
        "americas",
        "--start",
        "2026-11-26T09:00:00-05:00",
        "--minutes",
        "180",
        "--pause",
        "2026-11-26T10:00:00-05:00/2026-11-26T15:00:00-05:00",
    ]);
    assert_eq!(stdout(&output), "2026-11-26T17:00:00-05:00\n");
}

#[test]
fn explain_lists_spans_and_closures() {
    let output = caredesk(&[
        "sla",
        "explain",
        "--calendar",
        "americas",
        "--start",
        "2026-09-04T16:30:00-04:00",
        "--minutes",
        "120",
    ]);
    let text = stdout(&output);
    assert!(text.contains("skipped: holiday: Labour Day"), "{text}");
    assert!(text.contains("skipped: weekend"), "{text}");
    assert!(
        text.trim_end().ends_with("due Tue 2026-09-08 09:30 -04:00"),
        "{text}"
    );
}

#[test]
fn bad_arguments_give_one_clear_line() {
    let due = |calendar: &str, start: &str, minutes: &str| {
        caredesk(&[
            "sla",
            "due",
            "--calendar",
            calendar,
            "--start",
            start,
            "--minutes",
            minutes,
        ])
    };
    assert_one_line_error(
        &due("mars", "2026-09-04T16:30:00-04:00", "120"),
        2,
        "unknown calendar \"mars\"",
    );
    assert_one_line_error(
        &due("americas", "2026-09-04 16:30", "120"),
        2,
        "not an RFC 3339 instant",
    );
    assert_one_line_error(
        &due("americas", "2026-09-04T16:30:00-04:00", "-5"),
        2,
        "negative",
    );
    assert_one_line_error(
        &due("americas", "2026-09-04T16:30:00-04:00", "ten"),
        2,
        "whole number",
    );
    assert_one_line_error(&caredesk(&["sla", "due"]), 2, "--calendar");
    assert_one_line_error(
        &due("americas", "9999-12-01T00:00:00Z", "99999999"),
        2,
        "outside the range",
    );
}

#[test]
fn a_policy_with_a_typo_is_refused_with_file_line_and_field() {
    let source = include_str!("../../../policy/default.toml").replacen(
        "first_response = \"4h\"",
        "first_respons = \"4h\"",
        1,
    );
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(source.as_bytes()).unwrap();
    let path = file.path().to_str().unwrap();
    let line = source[..source.find("first_respons =").unwrap()]
        .matches('\n')
        .count()
        + 1;

    let check = caredesk(&["policy", "check", path]);
    assert_one_line_error(&check, 2, &format!("{path}:{line}:"));
    assert!(
        stderr(&check).contains("channels.portal"),
        "{}",
        stderr(&check)
    );
    assert!(
        stderr(&check).contains("first_respons"),
        "{}",
        stderr(&check)
    );

    // The same file given with --policy stops any command.
    let due = caredesk(&[
        "--policy",
        path,
        "sla",
        "due",
        "--calendar",
        "americas",
        "--start",
        "2026-09-04T16:30:00-04:00",
        "--minutes",
        "1",
    ]);
    assert_one_line_error(&due, 2, &format!("{path}:{line}:"));

    assert_one_line_error(
        &caredesk(&["policy", "check", "/nonexistent/policy.toml"]),
        2,
        "cannot read policy file",
    );
}

#[test]
fn policy_check_accepts_the_built_in_policy_and_its_file() {
    let output = caredesk(&["policy", "check"]);
    assert!(output.status.success());
    let output = caredesk(&[
        "policy",
        "check",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../policy/default.toml"),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("9 calendars"));
}

#[test]
fn policy_show_renders_every_table() {
    let output = caredesk(&["policy", "show", "--year", "2026"]);
    let text = stdout(&output);
    for heading in [
        "## Programs",
        "## Channels",
        "## Severities",
        "## Regions",
        "## Calendars",
        "## Holidays in 2026",
        "## Which calendar a ticket's clocks use",
    ] {
        assert!(text.contains(heading), "{heading}");
    }
    assert!(
        text.contains("| 2026-09-07 | Monday   | Labour Day"),
        "{text}"
    );
}

#[test]
fn policy_targets_in_text_and_json() {
    let args = [
        "policy",
        "targets",
        "--program",
        "platinum",
        "--region",
        "apac",
        "--product-line",
        "ol-connect",
        "--severity",
        "P1",
        "--channel",
        "phone",
        "--opened",
        "2026-12-25T10:00:00+11:00",
    ];
    let text = stdout(&caredesk(&args));
    assert!(text.contains("24x7-apac"), "{text}");
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let json: serde_json::Value = serde_json::from_str(&stdout(&caredesk(&with_json))).unwrap();
    assert_eq!(json["calendar"], "24x7-apac");
    assert_eq!(json["first_response"]["minutes"], 120);
    // Christmas and Boxing Day are closed even on 24x7: the clocks start on the 27th.
    assert_eq!(json["clocks_start"], "2026-12-27T00:00:00+11:00");
    assert_eq!(json["first_response"]["due"], "2026-12-27T02:00:00+11:00");
    assert_eq!(json["resolution"]["minutes"], 2880);
    assert_eq!(json["update_every"]["minutes"], 1440);

    let unknown = caredesk(&[
        "policy",
        "targets",
        "--program",
        "silver",
        "--region",
        "apac",
        "--product-line",
        "ol-connect",
        "--severity",
        "P1",
        "--channel",
        "phone",
        "--opened",
        "2026-12-25T10:00:00+11:00",
    ]);
    assert_one_line_error(&unknown, 2, "unknown program \"silver\"");
}

#[test]
fn batch_answers_in_order_and_stops_at_a_bad_line() {
    let output = caredesk_with_stdin(
        &["sla", "due", "--batch"],
        "calendar,start,minutes\n\
         americas,2026-09-04T16:30:00-04:00,120\n\
         apac,2027-04-02T16:30:00+11:00,480\n",
    );
    assert!(output.status.success());
    assert_eq!(
        stdout(&output),
        "2026-09-08T09:30:00-04:00\n2027-04-05T16:30:00+10:00\n"
    );

    let output = caredesk_with_stdin(
        &["sla", "due", "--batch"],
        "americas,2026-09-04T16:30:00-04:00,120\n\
         americas,2026-09-04T16:30:00-04:00,120\n\
         americas,not-a-time,120\n\
         americas,2026-09-04T16:30:00-04:00,120\n",
    );
    assert_one_line_error(&output, 2, "line 3: ");
    assert_eq!(stdout(&output).lines().count(), 2);

    let output = caredesk_with_stdin(
        &["sla", "elapsed", "--batch"],
        "americas,2026-09-04T16:30:00-04:00,2026-09-08T09:30:00-04:00\n",
    );
    assert_eq!(stdout(&output), "120\n");
}

/// The key named by `activation_key_file` signs the codes; `activation public-key` prints
/// its public half, with which `activation verify` checks a code offline: for its serial
/// and machine only, and refused once changed.
#[test]
fn activation_codes_verify_offline_with_the_public_key() {
    use caredesk_domain::activation::{ActivationClaims, issue_code};
    let folder = tempfile::tempdir().unwrap();
    let key_file = folder.path().join("activation.key");
    std::fs::write(&key_file, format!("{}\n", "07".repeat(32))).unwrap();
    let database = format!("sqlite://{}", folder.path().join("desk.db").display());
    let printed = Command::new(env!("CARGO_BIN_EXE_caredesk"))
        .args(["activation", "public-key", "--database", &database])
        .env_remove("CAREDESK_POLICY")
        .env("CAREDESK_ACTIVATION_KEY_FILE", &key_file)
        .output()
        .unwrap();
    assert!(printed.status.success(), "{}", stderr(&printed));
    let signing = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    assert_eq!(
        stdout(&printed).trim(),
        hex::encode(signing.verifying_key().to_bytes())
    );
    let public = folder.path().join("public.txt");
    std::fs::write(&public, stdout(&printed)).unwrap();
    let public = public.to_str().unwrap();

    let code = issue_code(
        &ActivationClaims {
            serial: "OLC-00042".into(),
            product_line: "ol-connect".into(),
            machine_id: "4C4C4544-0042-3510".into(),
            highest_version: "2026.1".into(),
            issued_at: "2026-12-06T10:00:00Z".parse().unwrap(),
        },
        &signing,
    );
    let valid = caredesk(&[
        "activation",
        "verify",
        &code,
        "--public-key",
        public,
        "--serial",
        "OLC-00042",
        "--machine-id",
        "4C4C4544-0042-3510",
    ]);
    assert!(valid.status.success(), "{}", stderr(&valid));
    assert!(stdout(&valid).contains("highest version\t2026.1"));
    let elsewhere = caredesk(&[
        "activation",
        "verify",
        &code,
        "--public-key",
        public,
        "--serial",
        "OLC-00042",
        "--machine-id",
        "4C4C4544-0042-9999",
    ]);
    assert_one_line_error(&elsewhere, 2, "for another machine");
    let mut tampered = code.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let changed = caredesk(&["activation", "verify", &tampered, "--public-key", public]);
    assert_eq!(changed.status.code(), Some(2), "{}", stderr(&changed));
}

/// `caredesk release`: publish out of order, list in version order with the scope, retire,
/// and every faulty flag named at once with exit code 2.
#[test]
fn the_release_catalog_on_the_command_line() {
    let folder = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", folder.path().join("desk.db").display());
    for version in ["8.9", "8.10", "8.2"] {
        let published = caredesk(&[
            "release",
            "publish",
            "--database",
            &database,
            "--product-line",
            "planetpress-suite",
            "--version",
            version,
            "--kind",
            "minor",
            "--notes",
            &format!("en=Notes of {version}"),
        ]);
        assert!(published.status.success(), "{}", stderr(&published));
    }
    let listed = caredesk(&["release", "list", "--database", &database]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let rows: Vec<(String, String)> = stdout(&listed)
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            (cells[1].to_string(), cells[4].to_string())
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("8.10".to_string(), "in scope".to_string()),
            ("8.9".to_string(), "in scope".to_string()),
            ("8.2".to_string(), "out of scope".to_string()),
        ]
    );
    let retired = caredesk(&[
        "release",
        "retire",
        "--database",
        &database,
        "--product-line",
        "planetpress-suite",
        "--version",
        "8.10",
    ]);
    assert!(retired.status.success(), "{}", stderr(&retired));
    assert!(stdout(&retired).contains("8.2\tminor"));
    let listed = stdout(&caredesk(&["release", "list", "--database", &database]));
    assert!(
        listed.contains("8.10\tminor") && listed.contains("\tretired\t"),
        "{listed}"
    );
    assert!(
        listed.contains("8.2\tminor\t") && !listed.contains("out of scope"),
        "{listed}"
    );

    let refused = caredesk(&[
        "release",
        "publish",
        "--database",
        &database,
        "--product-line",
        "planetpress",
        "--version",
        "9 0",
        "--kind",
        "patch",
        "--sha256",
        "abc",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let told = stderr(&refused);
    for flag in ["--product-line:", "--version:", "--kind:", "--sha256:"] {
        assert!(told.contains(flag), "{flag} in {told}");
    }
}
