//! Notices over a real SMTP server on loopback: from the portal's intake to the server's
//! receipt, through the outbox, the job runner and lettre; with the server down for a while,
//! two deliverers on one database, staff alerts held until the office opens, and messages a
//! server refuses for good.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::Role;
use caredesk_mail::{MessageIds, SmtpSecurity, SmtpSettings, Templates, Transport, sender};
use caredesk_store::Store;
use caredesk_testkit::smtp::{ReceivedMail, SmtpSink};
use caredesk_worker::{Deliverer, MailSettings, Runner, RunnerSettings};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{Backend, TestApp, portal_ticket};

fn deliverer(app: &TestApp, sink: &SmtpSink, owner: &str) -> Deliverer {
    deliverer_on(app.store.clone(), app, sink, owner)
}

/// A deliverer over `store`: the application's, or a pool of its own, as another instance.
fn deliverer_on(store: Store, app: &TestApp, sink: &SmtpSink, owner: &str) -> Deliverer {
    let transport = Transport::smtp(&SmtpSettings {
        host: "127.0.0.1".into(),
        port: sink.port(),
        security: SmtpSecurity::None,
        username: None,
        password: None,
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let clock = app.clock.clone();
    Deliverer::new(
        store,
        Arc::new(Policy::built_in().unwrap()),
        Arc::new(Templates::built_in().unwrap()),
        transport,
        MailSettings {
            from: sender("Support <support@desk.example>").unwrap(),
            ids: MessageIds::new("desk.example"),
            public_url: app.base.clone(),
        },
        Arc::new(move || clock.now()),
        owner.to_string(),
    )
}

async fn open_ticket(app: &TestApp, contact: &str, severity: &str) -> Value {
    let (status, ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(contact),
            Some(portal_ticket("ACME", severity)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    ticket
}

fn of_ticket(messages: &[ReceivedMail], id: i64) -> Vec<&ReceivedMail> {
    messages
        .iter()
        .filter(|message| message.header("X-Caredesk-Ticket") == Some(id.to_string()))
        .collect()
}

/// Each Message-ID and how many times the server received it.
fn receipts(messages: &[ReceivedMail]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in messages {
        *counts
            .entry(message.header("Message-ID").unwrap())
            .or_insert(0) += 1;
    }
    counts
}

pub async fn the_acknowledgement_reaches_the_mail_server_within_seconds(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let sink = SmtpSink::start();
    let (_, _, contact) = app.customer("ACME", "gold", "emea").await;
    let runner = Runner {
        store: app.store.clone(),
        policy: Arc::new(Policy::built_in().unwrap()),
        now: {
            let clock = app.clock.clone();
            Arc::new(move || clock.now())
        },
        owner: "runner".into(),
        deliverer: deliverer(&app, &sink, "runner"),
        // The defaults of `caredesk serve`.
        settings: RunnerSettings {
            sweep_every: Duration::from_secs(30),
            poll_every: Duration::from_millis(500),
        },
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn(runner.run(stopped));

    let opened = Instant::now();
    let ticket = open_ticket(&app, &contact, "P2").await;
    let id = ticket["id"].as_i64().unwrap();
    let messages = sink.wait_for(1, Duration::from_secs(5)).await;
    let acknowledgement = of_ticket(&messages, id)
        .into_iter()
        .find(|message| message.to == ["contact@acme.example"])
        .unwrap_or_else(|| panic!("no acknowledgement within 5 s: {messages:?}"));
    assert!(opened.elapsed() < Duration::from_secs(5));
    assert_eq!(
        acknowledgement.header("Subject").unwrap(),
        format!("[#{id}] We received your request: Invoices stopped printing")
    );
    assert_eq!(
        acknowledgement.header("References"),
        Some(format!("<ticket-{id}@desk.example>"))
    );
    // The first response is due in the customer's own time zone, as the API says it.
    let due: jiff::Timestamp = ticket["clocks"]["first_response"]["due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let local = due
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    assert!(
        acknowledgement.data.contains(&local),
        "{local} in {}",
        acknowledgement.data
    );

    let _ = stop.send(true);
    jobs.await.unwrap();
    let notices = app.store.notices_of(id).await.unwrap();
    let acknowledged = notices
        .iter()
        .find(|notice| notice.kind.as_str() == "acknowledgement")
        .unwrap();
    assert_eq!(acknowledged.state, "sent");
    assert_eq!(
        acknowledgement.header("Message-ID"),
        Some(format!("<notice-{}@desk.example>", acknowledged.id))
    );
    // A gold customer without a success manager: the notice is kept, skipped, with why.
    let csm = notices
        .iter()
        .find(|notice| notice.kind.as_str() == "new_ticket")
        .unwrap();
    assert_eq!(csm.state, "skipped");
    assert!(
        csm.last_error
            .as_deref()
            .unwrap()
            .contains("success manager")
    );
    app.stop().await;
}

pub async fn a_mail_server_down_for_a_while_loses_and_doubles_nothing(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let mut sink = SmtpSink::start();
    let (_, _, contact) = app.customer("ACME", "standard", "emea").await;
    let deliverer = deliverer(&app, &sink, "one");
    sink.stop();
    for _ in 0..5 {
        open_ticket(&app, &contact, "P3").await;
    }
    let report = deliverer.deliver_due().await.unwrap();
    assert_eq!((report.claimed, report.retried), (5, 5), "{report:?}");
    let pending = app.store.notices_in("pending", 100).await.unwrap();
    assert!(pending.iter().all(|notice| notice.attempts == 1));
    assert!(
        pending
            .iter()
            .all(|notice| notice.last_error.as_deref().is_some())
    );
    // Not again before the retry delay (30 s).
    assert_eq!(deliverer.deliver_due().await.unwrap().claimed, 0);
    app.clock.advance(jiff::SignedDuration::from_secs(31));
    let report = deliverer.deliver_due().await.unwrap();
    assert_eq!(report.retried, 5, "still down: {report:?}");

    sink.restart();
    app.clock.advance(jiff::SignedDuration::from_secs(61));
    let report = deliverer.deliver_due().await.unwrap();
    assert_eq!((report.claimed, report.sent), (5, 5), "{report:?}");
    assert_eq!(deliverer.deliver_due().await.unwrap().claimed, 0);
    let messages = sink.messages();
    let counts = receipts(&messages);
    assert_eq!(counts.len(), 5);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
    assert!(
        app.store
            .notices_in("pending", 100)
            .await
            .unwrap()
            .is_empty()
    );
    let sent = app.store.notices_in("sent", 100).await.unwrap();
    assert_eq!(sent.len(), 5);
    assert!(sent.iter().all(|notice| notice.attempts == 3));
    app.stop().await;
}

pub async fn two_deliverers_on_one_database_send_each_notice_once(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let sink = SmtpSink::start();
    let (_, _, contact) = app.customer("ACME", "standard", "emea").await;
    for _ in 0..40 {
        open_ticket(&app, &contact, "P3").await;
    }
    // Two instances: each its own connections to the one database.
    let other_instance = Store::connect(app.database_url()).await.unwrap();
    let mut one = deliverer(&app, &sink, "instance-one");
    let mut two = deliverer_on(other_instance.clone(), &app, &sink, "instance-two");
    one.batch = 3;
    two.batch = 3;
    let drain = |deliverer: Deliverer| async move {
        let mut sent = 0;
        loop {
            let report = deliverer.deliver_due().await.unwrap();
            if report.claimed == 0 {
                return sent;
            }
            sent += report.sent;
        }
    };
    let (sent_by_one, sent_by_two) = tokio::join!(drain(one), drain(two));
    assert_eq!(sent_by_one + sent_by_two, 40);
    assert!(
        sent_by_one > 0 && sent_by_two > 0,
        "both worked: {sent_by_one} {sent_by_two}"
    );
    let counts = receipts(&sink.messages());
    assert_eq!(counts.len(), 40);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
    other_instance.close().await;
    app.stop().await;
}

pub async fn staff_alerts_wait_for_the_office_to_open(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let sink = SmtpSink::start();
    let (_, _, contact) = app.customer("ACME", "standard", "emea").await;
    let (advisor, _) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["nl", "en"])
        .await;
    // Saturday 28 November 2026, 23:00 in Amsterdam: the EMEA office is closed until Monday.
    app.set_time("2026-11-28T23:00:00+01:00");
    let ticket = open_ticket(&app, &contact, "P3").await;
    assert_eq!(ticket["assignee_id"], serde_json::json!(advisor));
    let deliverer = deliverer(&app, &sink, "one");
    deliverer.deliver_due().await.unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "only the customer's acknowledgement");
    assert_eq!(messages[0].to, ["contact@acme.example"]);

    app.set_time("2026-11-30T08:59:00+01:00");
    assert_eq!(deliverer.deliver_due().await.unwrap().claimed, 0);
    app.set_time("2026-11-30T09:00:00+01:00");
    deliverer.deliver_due().await.unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].to, ["anna@desk.example"]);
    // In the advisor's first language.
    assert!(
        messages[1]
            .header("Subject")
            .unwrap()
            .contains("Aan u toegewezen"),
        "{:?}",
        messages[1].header("Subject")
    );
    app.stop().await;
}

pub async fn a_refused_message_fails_for_good_and_is_listed(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let sink = SmtpSink::start();
    sink.refuse_recipient("contact@acme.example");
    let (_, _, contact) = app.customer("ACME", "standard", "emea").await;
    let ticket = open_ticket(&app, &contact, "P3").await;
    let deliverer = deliverer(&app, &sink, "one");
    let report = deliverer.deliver_due().await.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let failed = app.store.notices_in("failed", 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].ticket_id, ticket["id"].as_i64().unwrap());
    assert!(
        failed[0].last_error.as_deref().unwrap().contains("550"),
        "{:?}",
        failed[0].last_error
    );
    // Administrators see it over the API.
    let (status, listed) = app
        .call(
            Method::GET,
            "/api/v1/admin/notices?state=failed",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["notices"][0]["id"], serde_json::json!(failed[0].id));
    assert_eq!(listed["notices"][0]["kind"], "acknowledgement");
    // Once the address is fixed, an administrator sends it again.
    sink.accept_every_recipient();
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/admin/notices/{}/retry", failed[0].id),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(deliverer.deliver_due().await.unwrap().sent, 1);
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/admin/notices/{}/retry", failed[0].id),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only a failed notice is retried"
    );
    app.stop().await;
}
