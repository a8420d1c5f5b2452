//! Notices over a real SMTP server on loopback: from the portal's intake to the server's
//! receipt, through the outbox, the job runner and lettre; with the server down for a while,
//! two deliverers on one database, staff alerts held until the office opens, messages a
//! server refuses for good, and the administrators' alert of a burst of wrong passwords.

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

pub(crate) fn deliverer(app: &TestApp, sink: &SmtpSink, owner: &str) -> Deliverer {
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
    Deliverer::new(
        store,
        caredesk_desk::CurrentPolicy::new(Policy::built_in().unwrap()),
        Arc::new(Templates::built_in().unwrap()),
        transport,
        MailSettings {
            from: sender("Support <support@desk.example>").unwrap(),
            ids: MessageIds::new("desk.example"),
            public_url: app.base.clone(),
        },
        app.clock.clone(),
        owner.to_string(),
    )
}

/// The job runner of `caredesk serve` on the application's database, sweeping every 30 s and
/// delivering to `sink`, looking at the outbox every `poll_every` when idle.
pub(crate) fn runner(app: &TestApp, sink: &SmtpSink, poll_every: Duration) -> Runner {
    Runner {
        desk: app.desk(),
        owner: "runner".into(),
        deliverer: deliverer(app, sink, "runner"),
        settings: RunnerSettings {
            sweep_every: Duration::from_secs(30),
            poll_every,
        },
    }
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
    // The defaults of `caredesk serve`.
    let runner = runner(&app, &sink, Duration::from_millis(500));
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

pub async fn routine_staff_alerts_wait_for_the_office_to_open_escalations_do_not(backend: Backend) {
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

    // An escalation reaches the support manager at once, Saturday night or not (POLICY.md
    // §7: "the manager is notified at once").
    app.staff("mia@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    app.set_time("2026-11-28T23:30:00+01:00");
    let (status, escalated) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{}/actions", ticket["id"]),
            Some(&contact),
            Some(serde_json::json!({ "action": "request_escalation", "reason": "Invoices are stuck" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{escalated}");
    deliverer.deliver_due().await.unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "the escalation, at once");
    assert_eq!(messages[1].to, ["mia@desk.example"]);

    app.set_time("2026-11-30T08:59:00+01:00");
    assert_eq!(deliverer.deliver_due().await.unwrap().claimed, 0);
    app.set_time("2026-11-30T09:00:00+01:00");
    deliverer.deliver_due().await.unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[2].to, ["anna@desk.example"]);
    // In the advisor's first language.
    assert!(
        messages[2]
            .header("Subject")
            .unwrap()
            .contains("Aan u toegewezen"),
        "{:?}",
        messages[2].header("Subject")
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
    assert_eq!(failed[0].ticket_id, ticket["id"].as_i64());
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

/// `POST /api/v1/mail/inbound` with the raw message.
async fn mail_in(app: &TestApp, message: &str) -> Value {
    let response = app
        .client
        .post(format!("{}/api/v1/mail/inbound", app.base))
        .bearer_auth(&app.admin)
        .header("Content-Type", "message/rfc822")
        .body(message.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn reply_to(message_id: &str, from: &str, extra_headers: &str, text: &str) -> String {
    format!(
        "From: Contact <{from}>\r\n\
         To: support@desk.example\r\n\
         Subject: Re: [#0] We need you\r\n\
         Message-ID: <{}@acme.example>\r\n\
         In-Reply-To: {message_id}\r\n\
         {extra_headers}\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"part\"\r\n\
         \r\n\
         --part\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         {text}\r\n\
         \r\n\
         On Mon, 23 Nov 2026, Support <support@desk.example> wrote:\r\n\
         > To go on with your ticket we need more information.\r\n\
         --part\r\n\
         Content-Type: text/plain; name=\"spool.log\"\r\n\
         Content-Disposition: attachment; filename=\"spool.log\"\r\n\
         \r\n\
         E042 spooler timeout at 09:14\r\n\
         --part--\r\n",
        text.len() + from.len() + extra_headers.len()
    )
}

pub async fn replies_by_mail_land_on_their_tickets_and_machines_are_ignored(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let (customer, _, contact) = app.customer("ACME", "standard", "emea").await;
    let (_, advisor) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let ticket = open_ticket(&app, &contact, "P3").await;
    let id = ticket["id"].as_i64().unwrap();
    let (status, waiting) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{id}/actions"),
            Some(&advisor),
            Some(serde_json::json!({ "action": "request_from_customer", "request": "information", "body": "Send the spooler log, please." })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{waiting}");
    assert_eq!(waiting["state"], "waiting_on_customer");
    let asked = app
        .store
        .notices_of(id)
        .await
        .unwrap()
        .into_iter()
        .find(|notice| notice.kind.as_str() == "waiting_on_you")
        .unwrap();
    let our_message = format!("<notice-{}@desk.example>", asked.id);

    // The customer answers by replying to our message: the clocks run again.
    let reply = reply_to(&our_message, "contact@acme.example", "", "Here is the log.");
    let report = mail_in(&app, &reply).await;
    assert_eq!(report["outcome"], "appended", "{report}");
    assert_eq!(report["ticket_id"], serde_json::json!(id));
    let (_, after) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(after["state"], "in_progress", "{after}");
    let (_, timeline) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/events"),
            Some(&advisor),
            None,
        )
        .await;
    let last = timeline.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "customer_answered", "{last}");
    assert_eq!(
        last["body"], "Here is the log.",
        "the quoted history is trimmed"
    );
    let (_, attachments) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/attachments"),
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(attachments[0]["filename"], "spool.log", "{attachments}");

    // The same message again (an MTA retrying) changes nothing.
    let again = mail_in(&app, &reply).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["outcome"], "appended");
    let (_, timeline_again) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/events"),
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(
        timeline_again.as_array().unwrap().len(),
        timeline.as_array().unwrap().len()
    );

    // Machines, strangers and junk: recorded as ignored, nothing opened.
    let tickets_before = app.store.tickets_of(customer, 100).await.unwrap().len();
    for (message, why) in [
        (
            reply_to(
                &our_message,
                "contact@acme.example",
                "Auto-Submitted: auto-replied\r\n",
                "I am away.",
            ),
            "Auto-Submitted",
        ),
        (
            reply_to(
                &our_message,
                "MAILER-DAEMON@mx.acme.example",
                "",
                "Undeliverable.",
            ),
            "bounce",
        ),
        (
            reply_to(&our_message, "stranger@elsewhere.example", "", "Hello?"),
            "not a contact",
        ),
        ("\u{0}\u{1}garbage without headers".to_string(), "RFC 5322"),
    ] {
        let report = mail_in(&app, &message).await;
        assert_eq!(report["outcome"], "ignored", "{why}: {report}");
        assert!(
            report["reason"].as_str().unwrap().contains(why),
            "{why}: {report}"
        );
    }
    assert_eq!(
        app.store.tickets_of(customer, 100).await.unwrap().len(),
        tickets_before
    );

    // A known contact writing afresh opens a portal ticket, acknowledged like any other.
    let fresh = "From: contact@acme.example\r\n\
                 Subject: The archive job fails\r\n\
                 Message-ID: <fresh-1@acme.example>\r\n\
                 \r\n\
                 Since Monday the nightly archive job stops with E101.\r\n";
    let report = mail_in(&app, fresh).await;
    assert_eq!(report["outcome"], "opened", "{report}");
    let opened = report["ticket_id"].as_i64().unwrap();
    let (_, ticket) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{opened}"),
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(ticket["channel"], "portal");
    assert_eq!(ticket["subject"], "The archive job fails");
    assert!(
        ticket["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|flag| flag["flag"] == "incomplete"),
        "what mail cannot say is flagged for the advisor: {ticket}"
    );
    let notices = app.store.notices_of(opened).await.unwrap();
    assert!(
        notices
            .iter()
            .any(|notice| notice.kind.as_str() == "acknowledgement")
    );

    // Only administrators' and integrations' tokens hand mail over.
    let response = app
        .client
        .post(format!("{}/api/v1/mail/inbound", app.base))
        .bearer_auth(&contact)
        .body(fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

/// What a webhook receiver got: headers of interest and the body.
#[derive(Clone, Debug)]
struct Received {
    delivery: String,
    timestamp: i64,
    signature: String,
    body: String,
    answered: u16,
}

/// A webhook receiver on loopback that answers 500 to its first `failures` deliveries.
async fn webhook_receiver(failures: usize) -> (String, Arc<std::sync::Mutex<Vec<Received>>>) {
    use axum::http::{HeaderMap, StatusCode as Status};
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(failures));
    let log = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let log = log.clone();
            let failures = failures.clone();
            async move {
                let failing = failures
                    .fetch_update(
                        std::sync::atomic::Ordering::SeqCst,
                        std::sync::atomic::Ordering::SeqCst,
                        |left| left.checked_sub(1),
                    )
                    .is_ok();
                let status = if failing {
                    Status::INTERNAL_SERVER_ERROR
                } else {
                    Status::OK
                };
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                log.lock().unwrap().push(Received {
                    delivery: header("X-Caredesk-Delivery"),
                    timestamp: header("X-Caredesk-Timestamp").parse().unwrap_or_default(),
                    signature: header("X-Caredesk-Signature"),
                    body,
                    answered: status.as_u16(),
                });
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

pub async fn webhooks_receive_every_event_signed_and_retried(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let sink = SmtpSink::start();
    let (_, _, contact) = app.customer("ACME", "standard", "emea").await;
    let (url, received) = webhook_receiver(1).await;
    let secret = "a-secret-of-the-receiver";

    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/admin/webhooks",
            Some(&app.admin),
            Some(serde_json::json!({ "url": "ftp://example.com/hook" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "url");
    let (status, added) = app
        .call(
            Method::POST,
            "/api/v1/admin/webhooks",
            Some(&app.admin),
            Some(serde_json::json!({ "url": url, "secret": secret })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["secret"], secret);
    let (_, listed) = app
        .call(
            Method::GET,
            "/api/v1/admin/webhooks",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(listed[0]["url"], serde_json::json!(url));
    assert!(listed[0].get("secret").is_none(), "never listed: {listed}");

    let ticket = open_ticket(&app, &contact, "P3").await;
    let id = ticket["id"].as_i64().unwrap();
    let (_, timeline) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/events"),
            Some(&app.admin),
            None,
        )
        .await;
    let events = timeline.as_array().unwrap().len();

    let deliverer = deliverer(&app, &sink, "one");
    let first = deliverer.deliver_due().await.unwrap();
    assert_eq!(first.retried, 1, "the receiver failed once: {first:?}");
    app.clock.advance(jiff::SignedDuration::from_secs(31));
    deliverer.deliver_due().await.unwrap();
    let received = received.lock().unwrap().clone();
    let delivered: Vec<&Received> = received.iter().filter(|got| got.answered == 200).collect();
    assert_eq!(delivered.len(), events, "each event once: {received:?}");
    let mut seqs = Vec::new();
    for got in &delivered {
        assert_eq!(
            got.signature,
            format!(
                "sha256={}",
                caredesk_worker::delivery::sign(secret, got.timestamp, &got.body)
            )
        );
        let body: Value = serde_json::from_str(&got.body).unwrap();
        assert_eq!(body["ticket_id"], serde_json::json!(id));
        assert_eq!(body["delivery_id"].to_string(), got.delivery);
        seqs.push(body["event"]["seq"].as_u64().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=events as u64).collect::<Vec<_>>());
    // The failed attempt was the same delivery, tried again.
    let retried = received.iter().find(|got| got.answered == 500).unwrap();
    assert!(delivered.iter().any(|got| got.delivery == retried.delivery));

    // A webhook removed gets nothing more.
    let webhook = added["webhook"]["id"].as_i64().unwrap();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/webhooks/{webhook}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    open_ticket(&app, &contact, "P3").await;
    let before = app.store.notices_in("pending", 1000).await.unwrap();
    assert!(
        before
            .iter()
            .all(|notice| notice.kind.as_str() != "ticket_event")
    );
    app.stop().await;
}

/// A burst of wrong passwords is told by mail to every active administrator, in their
/// language and time zone, once per account (however many refusals follow), naming the
/// account only when it is one of the desk's; nobody else hears of it.
pub async fn a_burst_of_wrong_passwords_is_told_to_administrators(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let sink = SmtpSink::start();
    app.set_time("2026-12-04T10:00:00Z");
    app.customer("ACME", "gold", "emea").await;
    app.staff("root@desk.example", Role::Admin, "emea", &["en"])
        .await;
    app.staff("beheer@desk.example", Role::Admin, "emea", &["nl", "en"])
        .await;
    app.staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let wrong_password = |email: &'static str| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/sessions",
                None,
                Some(serde_json::json!({ "email": email, "password": "guess" })),
                &[],
            )
            .await
            .status()
        }
    };
    let mut statuses = Vec::new();
    for _ in 0..9 {
        statuses.push(wrong_password("contact@acme.example").await);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        4
    );

    let deliverer = deliverer(&app, &sink, "one");
    let report = deliverer.deliver_due().await.unwrap();
    let messages = sink.messages();
    assert_eq!(
        report.sent, 3,
        "the test's own administrator too: {messages:#?}"
    );
    let to = |address: &str| {
        messages
            .iter()
            .find(|message| message.to == [address])
            .unwrap_or_else(|| panic!("nothing to {address}: {messages:?}"))
    };
    let english = to("root@desk.example");
    assert_eq!(
        english.header("Subject").unwrap(),
        "Sign-ins throttled from 127.0.0.1"
    );
    let text = english.text();
    assert!(
        text.contains("The account contact@acme.example: 5 failed attempts."),
        "{text}"
    );
    assert!(text.contains("at 2026-12-04 11:00 CET (Europe/Amsterdam) the desk began"));
    assert!(text.contains(&format!("{}/console/staff", app.base)));
    assert_eq!(english.header("X-Caredesk-Ticket"), None);
    assert_eq!(english.header("In-Reply-To"), None);
    assert_eq!(
        to("beheer@desk.example").header("Subject").unwrap(),
        "Aanmeldpogingen afgeremd vanaf 127.0.0.1"
    );

    // An e-mail of nobody's is a burst of its own, told without repeating what was typed.
    for _ in 0..6 {
        wrong_password("nobody@nowhere.example").await;
    }
    assert_eq!(deliverer.deliver_due().await.unwrap().sent, 3);
    let messages = sink.messages();
    assert_eq!(messages.len(), 6, "the advisor heard nothing");
    let unknown = messages
        .iter()
        .rfind(|message| message.to == ["root@desk.example"])
        .unwrap();
    let text = unknown.text();
    assert!(
        text.contains("An e-mail that belongs to no account: 5 failed attempts."),
        "{text}"
    );
    assert!(!text.contains("nobody@nowhere.example"));
    app.stop().await;
}

/// A customer of its own for the announcement test: a contact speaking `language`, OL Care
/// until `care_ends`, and one product of `line` running 2026.1.
async fn licensee(
    app: &TestApp,
    number: &str,
    language: &str,
    care_ends: jiff::civil::Date,
    line: &str,
) -> String {
    let now = app.clock.now();
    let customer = app
        .store
        .create_customer(
            &caredesk_store::NewCustomer {
                number: number.into(),
                name: format!("Customer {number}"),
                region: "emea".into(),
                language: language.into(),
            },
            now,
        )
        .await
        .unwrap();
    let email = format!("{}@{}.example", language, number.to_lowercase());
    app.store
        .create_contact(
            &caredesk_store::NewContact {
                customer_id: customer.id,
                name: format!("Contact {number}"),
                email: email.clone(),
                phone: String::new(),
                language: language.into(),
                designated: true,
                password_hash: None,
            },
            now,
        )
        .await
        .unwrap();
    app.store
        .create_contract(
            &caredesk_store::NewContract {
                customer_id: customer.id,
                program: "gold".into(),
                starts_on: jiff::civil::date(2025, 7, 1),
                ends_on: care_ends,
                eula_accepted: true,
            },
            now,
        )
        .await
        .unwrap();
    app.store
        .register_product(
            &caredesk_store::NewProduct {
                customer_id: customer.id,
                product_line: line.into(),
                version: "2026.1".into(),
                serial: format!("SN-{number}"),
                licence: Default::default(),
            },
            now,
        )
        .await
        .unwrap();
    email
}

/// Publishing a release tells the customers entitled to it, each contact in its language:
/// an upgrade reaches those with valid care, an update within the licensed major version
/// also those whose care lapsed; customers of another line hear nothing.
pub async fn a_new_release_is_announced_to_entitled_customers_in_their_languages(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let sink = SmtpSink::start();
    app.set_time("2026-12-01T10:00:00Z");
    app.publish_catalog().await;
    let ends = jiff::civil::date;
    let french = licensee(&app, "CARE", "fr", ends(2027, 12, 31), "ol-connect").await;
    let german = licensee(&app, "LAPSED", "de", ends(2026, 6, 30), "ol-connect").await;
    let other_line = licensee(&app, "PPS", "en", ends(2027, 12, 31), "planetpress-suite").await;
    let publish = |version: &'static str, kind: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app
                .call(
                    Method::POST,
                    "/api/v1/releases",
                    Some(&app.admin),
                    Some(serde_json::json!({
                        "product_line": "ol-connect",
                        "version": version,
                        "kind": kind,
                        "download_url": format!("https://downloads.example/ol-connect-{version}.zip"),
                        "sha256": "ab".repeat(32),
                        "notes": {
                            "en": format!("What is new in {version}."),
                            "fr": format!("Les nouveautés de {version}."),
                        },
                    })),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    };

    // An upgrade: only with valid care.
    publish("2027.1", "major").await;
    let deliverer = deliverer(&app, &sink, "one");
    let report = deliverer.deliver_due().await.unwrap();
    let messages = sink.messages();
    assert_eq!(report.sent, 1, "{messages:#?}");
    assert_eq!(messages[0].to, [french]);
    assert_eq!(
        messages[0].subject(),
        "Mise à niveau disponible : OL Connect 2027.1"
    );
    let text = messages[0].text();
    for told in [
        "Les nouveautés de 2027.1.",
        "SN-CARE",
        "https://downloads.example/ol-connect-2027.1.zip",
        "/portal/products",
    ] {
        assert!(text.contains(told), "{told}\n{text}");
    }

    // An update of the licensed major version: the lapsed customer too, in German with the
    // English notes (there are none in German).
    publish("2026.2", "minor").await;
    deliverer.deliver_due().await.unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    let to_german = messages
        .iter()
        .find(|message| message.to == [german.clone()])
        .expect("the lapsed customer hears of the update");
    assert_eq!(to_german.subject(), "Update verfügbar: OL Connect 2026.2");
    assert!(to_german.text().contains("What is new in 2026.2."));
    assert!(
        messages
            .iter()
            .all(|message| message.to != [other_line.clone()]),
        "another line's customer hears nothing: {messages:#?}"
    );
    app.stop().await;
}
