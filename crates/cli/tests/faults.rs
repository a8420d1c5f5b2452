//! The fault suite, bounded and on loopback: the server killed with SIGKILL during a creation
//! load (SQLite and PostgreSQL), its PostgreSQL stopped at once and started again under load,
//! and three servers on one PostgreSQL under a mixed load. What must hold after each: every
//! ticket a client was told about is there, no idempotency key made two tickets, no request
//! hung, each notice was sent once and each breach recorded once.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use caredesk_testkit::TestDatabase;
use caredesk_testkit::cluster::ThrowawayPostgres;
use caredesk_testkit::smtp::SmtpSink;
use support::*;

/// Longer than any answer may take: a request still unanswered after it has hung.
const HUNG: Duration = Duration::from_secs(30);

/// One fault scenario at a time: each loads the machine's two cores by itself, and the time
/// bounds they check would otherwise measure each other.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SCENARIO: Mutex<()> = Mutex::new(());
    SCENARIO
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a client saw for one request opening a ticket.
#[derive(Debug)]
struct Seen {
    key: String,
    started: Instant,
    finished: Instant,
    /// None when the connection failed (refused, reset, or no answer in time).
    status: Option<u16>,
    ticket: Option<i64>,
    content_type: Option<String>,
    retry_after: Option<String>,
}

impl Seen {
    fn acknowledged(&self) -> bool {
        matches!(self.status, Some(200 | 201))
    }

    fn took(&self) -> Duration {
        self.finished - self.started
    }
}

/// A creation load: `clients` threads, each opening tickets with keys `{prefix}-{client}-{n}`
/// (and the key as subject) on `addresses` in turn, until `stop`, or, with
/// `until_refused`, until the server stops answering.
fn creation_load(
    addresses: &[String],
    token: &str,
    template: &serde_json::Value,
    prefix: &str,
    clients: usize,
    stop: &Arc<AtomicBool>,
    until_refused: bool,
) -> Vec<JoinHandle<Vec<Seen>>> {
    (0..clients)
        .map(|client| {
            let addresses = addresses.to_vec();
            let token = token.to_string();
            let template = template.clone();
            let prefix = prefix.to_string();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut number = 0;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("{prefix}-{client}-{number}");
                    let address = &addresses[(client + number) % addresses.len()];
                    let one = open(address, &token, &template, &key);
                    let refused = one.status.is_none();
                    seen.push(one);
                    if refused && until_refused {
                        break;
                    }
                    number += 1;
                }
                seen
            })
        })
        .collect()
}

/// Opens the ticket of `key` (its subject) and tells what the client saw.
fn open(address: &str, token: &str, template: &serde_json::Value, key: &str) -> Seen {
    let mut body = template.clone();
    body["subject"] = serde_json::Value::from(key);
    let authorization = format!("Bearer {token}");
    let started = Instant::now();
    let answer = try_http(
        address,
        "POST",
        "/api/v1/tickets",
        &[("Authorization", &authorization), ("Idempotency-Key", key)],
        Some(&body.to_string()),
        HUNG,
    );
    let finished = Instant::now();
    match answer {
        Ok(answer) => Seen {
            key: key.to_string(),
            started,
            finished,
            status: Some(answer.status),
            ticket: matches!(answer.status, 200 | 201)
                .then(|| answer.json()["id"].as_i64())
                .flatten(),
            content_type: answer.header("content-type").map(str::to_string),
            retry_after: answer.header("retry-after").map(str::to_string),
        },
        Err(_) => Seen {
            key: key.to_string(),
            started,
            finished,
            status: None,
            ticket: None,
            content_type: None,
            retry_after: None,
        },
    }
}

fn join(clients: Vec<JoinHandle<Vec<Seen>>>) -> Vec<Seen> {
    clients
        .into_iter()
        .flat_map(|client| client.join().unwrap())
        .collect()
}

/// Sends every key of `seen` once more, as a client that never heard back would: each
/// answer must name the ticket the key already made (200) or make it now (201), and a key
/// acknowledged before must name the same ticket. Returns each key's ticket.
fn settle(
    address: &str,
    token: &str,
    template: &serde_json::Value,
    seen: &[Seen],
) -> BTreeMap<String, i64> {
    let mut tickets = BTreeMap::new();
    for first in seen {
        if tickets.contains_key(&first.key) {
            continue;
        }
        let again = open(address, token, template, &first.key);
        let ticket = again
            .ticket
            .unwrap_or_else(|| panic!("{} answered {:?}", first.key, again.status));
        if first.acknowledged() {
            assert_eq!(again.status, Some(200), "{} was already opened", first.key);
            assert_eq!(
                Some(ticket),
                first.ticket,
                "{} names another ticket",
                first.key
            );
        }
        tickets.insert(first.key.clone(), ticket);
    }
    tickets
}

/// The tickets of the demo's first customer numbered above `baseline`, by number, with
/// their subjects, read from the database itself.
fn tickets_above(database: &str, baseline: i64) -> BTreeMap<i64, String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = caredesk_store::Store::connect(database).await.unwrap();
        let tickets = store.tickets_of(1, 1_000_000).await.unwrap();
        store.close().await;
        tickets
            .into_iter()
            .filter(|ticket| ticket.id > baseline)
            .map(|ticket| (ticket.id, ticket.subject))
            .collect()
    })
}

/// Each key made exactly one ticket, each ticket came from one key, and every
/// acknowledged ticket is there: returns how many tickets the load made.
fn assert_each_ticket_once(database: &str, baseline: i64, keys: &BTreeMap<String, i64>) -> usize {
    let stored = tickets_above(database, baseline);
    let by_key: BTreeMap<i64, String> = keys.iter().map(|(key, id)| (*id, key.clone())).collect();
    assert_eq!(
        by_key.len(),
        keys.len(),
        "two keys answered with one ticket"
    );
    let lost: Vec<_> = by_key
        .keys()
        .filter(|id| !stored.contains_key(id))
        .collect();
    let extra: Vec<_> = stored
        .keys()
        .filter(|id| !by_key.contains_key(id))
        .collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "lost {lost:?}; made without a key of their own (duplicates) {extra:?}"
    );
    for (id, subject) in &stored {
        assert_eq!(subject, &by_key[id], "ticket {id} is not its key's");
    }
    stored.len()
}

fn database_of(directory: &Path, postgres: Option<&TestDatabase>) -> String {
    postgres.map_or_else(
        || format!("sqlite://{}", directory.join("caredesk.db").display()),
        |database| database.url.clone(),
    )
}

/// The demo desk on `database`, a template for new tickets and the number of a first one
/// (the load's tickets are numbered above it).
fn demo_desk(
    directory: &Path,
    database: &str,
    variables: &[(&str, &str)],
) -> (KillOnDrop, String, String, serde_json::Value, i64) {
    let (server, address, output) =
        serve_with(directory, &["--demo", "--database", database], variables);
    let server = KillOnDrop(server);
    let token = demo_token(&output);
    let template = demo_ticket(&address, &token);
    let first = open(&address, &token, &template, "baseline");
    let baseline = first.ticket.unwrap_or_else(|| panic!("{first:?}"));
    (server, address, token, template, baseline)
}

/// SIGKILL during a creation load, three times, each followed by a restart on the same
/// database.
fn killed_during_creation(postgres: Option<&TestDatabase>) {
    let _alone = one_at_a_time();
    let directory = tempfile::tempdir().unwrap();
    let database = database_of(directory.path(), postgres);
    let (mut server, mut address, token, template, baseline) =
        demo_desk(directory.path(), &database, &[]);
    let mut seen = Vec::new();
    let mut in_flight = 0;
    const KILLS: usize = 3;
    for round in 0..KILLS {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = creation_load(
            std::slice::from_ref(&address),
            &token,
            &template,
            &format!("kill{round}"),
            8,
            &stop,
            true,
        );
        std::thread::sleep(Duration::from_millis(1_500));
        server.kill().unwrap();
        server.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let round_seen = join(clients);
        in_flight += round_seen.iter().filter(|one| one.status.is_none()).count();
        seen.extend(round_seen);
        let (restarted, new_address, _) = serve(directory.path(), &["--database", &database]);
        server = KillOnDrop(restarted);
        address = new_address;
    }
    let odd: Vec<_> = seen
        .iter()
        .filter(|one| one.status.is_some_and(|status| status != 201))
        .collect();
    assert!(odd.is_empty(), "answers other than 201: {odd:?}");
    let acknowledged = seen.iter().filter(|one| one.acknowledged()).count();
    assert!(
        acknowledged >= 30,
        "only {acknowledged} tickets before the kills"
    );
    let keys = settle(&address, &token, &template, &seen);
    let made = assert_each_ticket_once(&database, baseline, &keys);
    terminate(&mut server);
    eprintln!(
        "kill -9 on {}: {KILLS} kills, {acknowledged} tickets acknowledged, {in_flight} requests \
         cut off, {made} tickets for {} keys: lost 0, duplicated 0",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        keys.len()
    );
}

#[test]
fn sqlite_killed_during_creation_loses_and_doubles_nothing() {
    killed_during_creation(None);
}

#[test]
fn postgres_killed_during_creation_loses_and_doubles_nothing() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = runtime.block_on(TestDatabase::postgres());
    killed_during_creation(Some(&database));
    runtime.block_on(database.finish());
}

/// PostgreSQL stopped at once under a creation load, kept down two seconds, started again:
/// requests meanwhile are answered 503 with Retry-After (none hangs), the server recovers by
/// itself, and every acknowledged ticket is there once.
#[test]
fn a_postgres_restart_under_load_is_answered_503_and_recovered_from() {
    let _alone = one_at_a_time();
    let cluster = ThrowawayPostgres::start();
    let database = cluster.url();
    let directory = tempfile::tempdir().unwrap();
    let (mut server, address, token, template, baseline) =
        demo_desk(directory.path(), &database, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let clients = creation_load(
        std::slice::from_ref(&address),
        &token,
        &template,
        "restart",
        6,
        &stop,
        false,
    );
    std::thread::sleep(Duration::from_secs(1));
    let down = Instant::now();
    cluster.stop_immediately();
    std::thread::sleep(Duration::from_secs(2));
    cluster.start_server();
    let up = Instant::now();
    std::thread::sleep(Duration::from_secs(8));
    stop.store(true, Ordering::Relaxed);
    let seen = join(clients);
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server stopped with its database"
    );

    for one in &seen {
        match one.status {
            Some(201) => {}
            Some(503) => {
                assert_eq!(
                    one.content_type.as_deref(),
                    Some("application/problem+json"),
                    "{one:?}"
                );
                assert!(
                    one.retry_after.is_some(),
                    "503 without Retry-After: {one:?}"
                );
            }
            _ => panic!("a request answered otherwise than 201 or 503: {one:?}"),
        }
    }
    let longest = seen.iter().map(Seen::took).max().unwrap();
    assert!(
        longest < Duration::from_secs(10),
        "a request took {longest:?}"
    );
    let unavailable = seen.iter().filter(|one| one.status == Some(503)).count();
    assert!(unavailable > 0, "no request met the stopped database");
    // Recovered: nothing failed after this long past the restart, and tickets open again.
    let recovered = seen
        .iter()
        .filter(|one| one.status == Some(503) && one.finished > up)
        .map(|one| one.finished - up)
        .max()
        .unwrap_or_default();
    assert!(
        recovered <= Duration::from_secs(5),
        "503s went on {recovered:?} after PostgreSQL was back"
    );
    let after = seen
        .iter()
        .filter(|one| one.started > up + recovered && one.acknowledged())
        .count();
    assert!(after > 0, "no ticket opened after the restart");

    let keys = settle(&address, &token, &template, &seen);
    let made = assert_each_ticket_once(&database, baseline, &keys);
    terminate(&mut server);
    let acknowledged = seen.iter().filter(|one| one.acknowledged()).count();
    eprintln!(
        "PostgreSQL restart: down {:?}, {} requests ({acknowledged} acknowledged, \
         {unavailable} answered 503), longest {longest:?}, recovered {recovered:?} after the \
         restart, {made} tickets for {} keys: lost 0, duplicated 0",
        up - down,
        seen.len(),
        keys.len()
    );
}

/// The shipped policy with every clock in reach of a test: business hours round the clock
/// with no holidays, and a first response due one minute after a ticket opens.
fn one_minute_policy() -> String {
    let shipped = include_str!("../../../policy/default.toml");
    let mut changed = 0;
    let lines: Vec<String> = shipped
        .lines()
        .map(|line| {
            let replaced = if line.starts_with("first_response = ") {
                "first_response = \"1m\"".to_string()
            } else if line.starts_with("hours = ") {
                "hours = { mon-sun = \"00:00-24:00\" }".to_string()
            } else if line.starts_with("holidays = ") {
                "holidays = []".to_string()
            } else {
                return line.to_string();
            };
            changed += 1;
            replaced
        })
        .collect();
    assert!(changed >= 10, "the shipped policy changed shape");
    lines.join("\n")
}

/// Three servers on one PostgreSQL, each running the jobs, under a mixed load in which every
/// key is sent to two servers at once: each ticket is made once, each notice sent once, and
/// each clock's breach recorded once although every server sweeps every second.
#[test]
fn three_servers_on_one_postgres_do_each_thing_once() {
    let _alone = one_at_a_time();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let postgres = runtime.block_on(TestDatabase::postgres());
    let database = postgres.url.clone();
    let directory = tempfile::tempdir().unwrap();
    let policy = directory.path().join("policy.toml");
    std::fs::write(&policy, one_minute_policy()).unwrap();
    let sink = SmtpSink::start();
    let port = sink.port().to_string();
    let policy_path = policy.display().to_string();
    let variables = [
        ("CAREDESK_POLICY", policy_path.as_str()),
        ("CAREDESK_MAIL_TRANSPORT", "smtp"),
        ("CAREDESK_SMTP_HOST", "127.0.0.1"),
        ("CAREDESK_SMTP_PORT", port.as_str()),
        ("CAREDESK_SMTP_SECURITY", "none"),
        ("CAREDESK_MAIL_FROM", "Desk <desk@caredesk.test>"),
        ("CAREDESK_DELIVERY_POLL_MS", "100"),
        ("CAREDESK_BREACH_SWEEP_SECONDS", "1"),
    ];
    let folders: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (first, first_address, token, template, baseline) =
        demo_desk(folders[0].path(), &database, &variables);
    let mut servers = vec![first];
    let mut addresses = vec![first_address];
    for folder in &folders[1..] {
        let (server, address, _) =
            serve_with(folder.path(), &["--database", &database], &variables);
        servers.push(KillOnDrop(server));
        addresses.push(address);
    }

    // Pairs of clients send the same keys at the same moment, each to another server; others
    // read the queue meanwhile.
    const KEYS_PER_PAIR: usize = 60;
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for pair in 0..3 {
        let together = Arc::new(Barrier::new(2));
        for twin in 0..2 {
            let address = addresses[(pair + twin) % 3].clone();
            let token = token.clone();
            let template = template.clone();
            let together = together.clone();
            clients.push(std::thread::spawn(move || {
                (0..KEYS_PER_PAIR)
                    .map(|number| {
                        together.wait();
                        open(&address, &token, &template, &format!("pair{pair}-{number}"))
                    })
                    .collect::<Vec<_>>()
            }));
        }
    }
    let readers: Vec<_> = addresses
        .iter()
        .map(|address| {
            let address = address.clone();
            let token = token.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut reads = 0;
                while !stop.load(Ordering::Relaxed) {
                    let (status, body) = http_get(&address, "/api/v1/queue", Some(&token));
                    assert_eq!(status, 200, "{body}");
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let seen = join(clients);
    stop.store(true, Ordering::Relaxed);
    let reads: usize = readers
        .into_iter()
        .map(|reader| reader.join().unwrap())
        .sum();
    let odd: Vec<_> = seen.iter().filter(|one| !one.acknowledged()).collect();
    assert!(odd.is_empty(), "{odd:?}");
    let keys = settle(&addresses[1], &token, &template, &seen);
    let made = assert_each_ticket_once(&database, baseline, &keys);

    // Every new ticket's first response runs out a minute after it opened; the sweeps of
    // three servers race to record it.
    let authorization = format!("Bearer {token}");
    let breaches_of = |ticket: i64| -> Vec<(String, String)> {
        let answer = try_http(
            &addresses[2],
            "GET",
            &format!("/api/v1/tickets/{ticket}/events"),
            &[("Authorization", &authorization)],
            None,
            HUNG,
        )
        .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer
            .json()
            .as_array()
            .unwrap()
            .iter()
            .filter(|event| event["kind"] == "clock_breached")
            .map(|event| {
                (
                    event["clock"].as_str().unwrap().to_string(),
                    event["due"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let tickets: BTreeSet<i64> = keys.values().copied().collect();
    let deadline = Instant::now() + Duration::from_secs(150);
    let mut breached = BTreeMap::new();
    while breached.len() < tickets.len() {
        assert!(
            Instant::now() < deadline,
            "{} of {} first responses recorded as breached",
            breached.len(),
            tickets.len()
        );
        std::thread::sleep(Duration::from_secs(2));
        for ticket in &tickets {
            let breaches = breaches_of(*ticket);
            if breaches.iter().any(|(clock, _)| clock == "first_response") {
                breached.insert(*ticket, breaches);
            }
        }
    }
    // A few more sweeps by each server, then every breach is counted.
    std::thread::sleep(Duration::from_secs(3));
    let mut recorded = 0;
    for ticket in &tickets {
        let breaches = breaches_of(*ticket);
        let distinct: BTreeSet<_> = breaches.iter().collect();
        assert_eq!(
            distinct.len(),
            breaches.len(),
            "ticket {ticket} has a breach recorded twice: {breaches:?}"
        );
        recorded += breaches.len();
    }

    // Every notice due is delivered, by whichever server, once.
    let store = runtime
        .block_on(caredesk_store::Store::connect(&database))
        .unwrap();
    let due = || {
        let now = jiff::Timestamp::now();
        runtime
            .block_on(store.notices_in("pending", 100_000))
            .unwrap()
            .into_iter()
            .filter(|notice| notice.not_before <= now)
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while due() > 0 {
        assert!(Instant::now() < deadline, "{} notices still due", due());
        std::thread::sleep(Duration::from_millis(200));
    }
    for server in &mut servers {
        terminate(server);
    }
    // The demo's own past notices are recorded as sent without being sent: the load's
    // tickets' notices are the ones to find in the mailbox.
    let sent: BTreeSet<String> = runtime
        .block_on(store.notices_in("sent", 1_000_000))
        .unwrap()
        .into_iter()
        .filter(|notice| {
            notice.ticket_id.is_some_and(|id| tickets.contains(&id))
                && notice.recipient != "webhook"
        })
        .map(|notice| format!("<notice-{}@caredesk.test>", notice.id))
        .collect();
    assert!(
        sent.len() >= tickets.len(),
        "only {} notices sent",
        sent.len()
    );
    runtime.block_on(store.close());
    let messages = sink.messages();
    let received: BTreeSet<String> = messages
        .iter()
        .map(|message| message.header("Message-ID").unwrap())
        .collect();
    let unsent: Vec<_> = sent.difference(&received).take(10).collect();
    assert!(
        unsent.is_empty(),
        "recorded as sent, never received: {unsent:?}"
    );
    assert_eq!(
        messages.len(),
        received.len(),
        "a notice was sent twice ({} messages for {} notices)",
        messages.len(),
        received.len()
    );
    runtime.block_on(postgres.finish());
    eprintln!(
        "three servers: {} creation requests ({} keys, each sent to two servers) and {reads} \
         queue reads; {made} tickets; {recorded} breaches recorded, none twice; {} notices \
         sent, {} messages received, none twice",
        seen.len(),
        keys.len(),
        sent.len(),
        messages.len()
    );
}
