//! Community questions and answers over the API, on SQLite and on PostgreSQL: who may ask,
//! answer, accept, verify, vote and moderate; what never leaks to another customer or to
//! someone signed out; the asker's mail; a question turned into a ticket once.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::notifications::deliverer;
use crate::support::{Backend, TestApp};
use caredesk_domain::ticket::Role;
use caredesk_testkit::smtp::SmtpSink;

fn ids(results: &Value) -> Vec<i64> {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["id"].as_i64().unwrap())
        .collect()
}

pub async fn community_questions_over_the_api(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let sink = SmtpSink::start();
    let (_, _, asker) = app.customer("ACME", "gold", "emea").await;
    let (_, _, peer) = app.customer("GLOBEX", "standard", "emea").await;
    let (_, advisor) = app
        .staff("advisor@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, manager) = app
        .staff("lead@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let questions = "/api/v1/community/questions";

    // Signed out, nothing; staff do not ask; every faulty field is named.
    let (status, _) = app.call(Method::GET, questions, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let question = json!({
        "title": "Spooler stops at night",
        "body": "Every night the **spooler** stops and invoices wait until morning.",
        "product_line": "ol-connect",
    });
    let (status, _) = app
        .call(
            Method::POST,
            questions,
            Some(&advisor),
            Some(question.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = app
        .call(
            Method::POST,
            questions,
            Some(&asker),
            Some(json!({ "title": "Spooler", "body": "  ", "product_line": "teapot" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["body", "product_line"], "{problem}");

    let response = app
        .request(Method::POST, questions, Some(&asker), Some(question), &[])
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let asked = crate::support::json_of(response).await;
    let id = asked["id"].as_i64().unwrap();
    assert_eq!(location, format!("{questions}/{id}"));
    assert_eq!(asked["language"], "en");
    assert_eq!(asked["yours"], true);
    // Never the asker's organisation or contact number.
    assert!(asked.get("customer_id").is_none() && asked.get("contact_id").is_none());

    // A peer and staff answer; the asker is mailed.
    let answers = format!("{location}/answers");
    let (status, answered) = app
        .call(
            Method::POST,
            &answers,
            Some(&peer),
            Some(json!({ "body": "Restart the Connect service after the backup." })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answered}");
    let peer_answer = answered["answers"][0]["id"].as_i64().unwrap();
    let (_, answered) = app
        .call(
            Method::POST,
            &answers,
            Some(&advisor),
            Some(json!({ "body": "The nightly backup locks the spool folder." })),
        )
        .await;
    let staff_answer = answered["answers"][1]["id"].as_i64().unwrap();
    assert_eq!(answered["answers"][1]["by_staff"], true);
    let report = deliverer(&app, &sink, "one").deliver_due().await.unwrap();
    assert_eq!(report.sent, 2, "{report:?}");
    let mails = sink.wait_for(2, Duration::from_secs(5)).await;
    assert!(mails.iter().all(|mail| mail.to == ["contact@acme.example"]));
    let text = mails[0].text();
    assert!(
        mails[0]
            .header("subject")
            .is_some_and(|subject| subject.contains("Spooler stops at night")),
        "{:?}",
        mails[0].header("subject")
    );
    assert!(
        text.contains(&format!("/community/questions/{id}")),
        "{text}"
    );

    // The asker accepts, a peer may not; one vote per person, never for one's own answer.
    let accept = format!("{answers}/{peer_answer}/accept");
    let (status, _) = app.call(Method::POST, &accept, Some(&peer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, accepted) = app.call(Method::POST, &accept, Some(&asker), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(accepted["accepted_answer_id"], peer_answer);
    let vote = format!("{answers}/{peer_answer}/vote");
    let (status, _) = app.call(Method::PUT, &vote, Some(&peer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.call(Method::PUT, &vote, Some(&asker), None).await;
    let (_, voted) = app.call(Method::PUT, &vote, Some(&asker), None).await;
    assert_eq!(voted["answers"][0]["votes"], 1);
    let (_, unvoted) = app.call(Method::DELETE, &vote, Some(&asker), None).await;
    assert_eq!(unvoted["answers"][0]["votes"], 0);

    // Staff verify; a customer does not.
    let verify = format!("{answers}/{staff_answer}/verify");
    let (status, _) = app.call(Method::POST, &verify, Some(&asker), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, verified) = app.call(Method::POST, &verify, Some(&advisor), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verified["answers"][1]["verified_by"], "advisor");

    // The answers' words find the question, for another customer too.
    let (_, found) = app
        .call(
            Method::GET,
            &format!("{questions}?q=backups&solved=true"),
            Some(&peer),
            None,
        )
        .await;
    assert_eq!(ids(&found), [id], "{found}");
    assert_eq!(found["results"][0]["answers"], 2);

    // Moderation: support managers only, with a reason; hidden from everyone but the asker
    // and staff, in reads, searches and lists alike.
    let moderation = format!("{location}/moderation");
    let hide = json!({ "action": "hide", "reason": "names a customer's server" });
    let (status, _) = app
        .call(
            Method::POST,
            &moderation,
            Some(&advisor),
            Some(hide.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = app
        .call(
            Method::POST,
            &moderation,
            Some(&manager),
            Some(json!({ "action": "hide", "reason": " " })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, hidden) = app
        .call(Method::POST, &moderation, Some(&manager), Some(hide))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        hidden["history"].as_array().unwrap().last().unwrap()["reason"],
        "names a customer's server"
    );
    let (status, _) = app.call(Method::GET, &location, Some(&peer), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for listing in [format!("{questions}?q=spooler"), questions.to_string()] {
        let (_, found) = app.call(Method::GET, &listing, Some(&peer), None).await;
        assert!(ids(&found).is_empty(), "{listing}: {found}");
    }
    let (_, own) = app.call(Method::GET, &location, Some(&asker), None).await;
    assert_eq!(own["hidden_reason"], "names a customer's server");
    assert_eq!(own["history"], json!([]));
    let (status, _) = app
        .call(
            Method::POST,
            &moderation,
            Some(&manager),
            Some(json!({ "action": "show", "reason": "the asker removed the server's name" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Found again, on the first page of a search and not on the next.
    for (offset, expected) in [(0, 1), (1, 0)] {
        let listing = format!("{questions}?q=spooler&limit=1&offset={offset}");
        let (_, found) = app.call(Method::GET, &listing, Some(&peer), None).await;
        assert_eq!(ids(&found).len(), expected, "{listing}: {found}");
    }

    // The asker turns it into a ticket, once; another customer may not, nor learn its number.
    let ticket = format!("{location}/ticket");
    let form = json!({
        "severity": "P3",
        "business_impact": "Invoices are late every morning",
        "version": "2026.1",
        "serial": "SN-ACME",
    });
    let (status, _) = app
        .call(Method::POST, &ticket, Some(&peer), Some(form.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, opened) = app
        .call(Method::POST, &ticket, Some(&asker), Some(form.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["subject"], "Spooler stops at night");
    let (status, _) = app
        .call(Method::POST, &ticket, Some(&asker), Some(form))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, mine) = app.call(Method::GET, &location, Some(&asker), None).await;
    assert_eq!(mine["ticket_id"], opened["id"]);
    let (_, theirs) = app.call(Method::GET, &location, Some(&peer), None).await;
    assert_eq!(theirs["ticket_id"], Value::Null);

    app.stop().await;
}

/// The community's pages as a browser without JavaScript uses them: a customer asks (a
/// refused field told beside it), another customer answers, the asker accepts, a moderator
/// hides and the other customer no longer finds it, the asker turns it into a ticket; the
/// answered question is suggested beside a new ticket.
pub async fn community_pages(backend: Backend) {
    use crate::pages::{Visitor, hidden};

    let app = TestApp::start(backend, crate::support::limits()).await;
    app.customer("ACME", "gold", "emea").await;
    app.customer("GLOBEX", "standard", "emea").await;
    app.staff("lead@desk.example", Role::SupportManager, "emea", &["en"])
        .await;

    // Signed out, to the sign-in form.
    let mut stranger = Visitor::new(&app);
    let page = stranger.get("/community").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        page.location().starts_with("/sign-in"),
        "{}",
        page.location()
    );

    let mut asker = Visitor::new(&app);
    asker.sign_in("contact@acme.example").await;
    let form = asker.get("/community/ask").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.csrf();
    let refused = asker
        .post(
            "/community/ask",
            &[
                ("csrf", &csrf),
                ("title", "Spooler stops at night"),
                ("body", " "),
                ("product_line", "ol-connect"),
                ("release", ""),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"body-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"Spooler stops at night\""));
    let asked = asker
        .post(
            "/community/ask",
            &[
                ("csrf", &csrf),
                ("title", "Spooler stops at night"),
                ("body", "Every night the **spooler** stops."),
                ("product_line", "ol-connect"),
                ("release", ""),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    let question = asked.location().to_string();
    let read = asker.get(&question).await;
    assert!(
        read.body.contains("<strong>spooler</strong>"),
        "{}",
        read.body
    );

    // Another customer answers.
    let mut peer = Visitor::new(&app);
    peer.sign_in("contact@globex.example").await;
    let page = peer.get("/community?q=spooler").await;
    assert!(
        page.body.contains("Spooler stops at night"),
        "{}",
        page.body
    );
    let page = peer.get(&question).await;
    let refused = peer
        .post(
            &format!("{question}/answers"),
            &[("csrf", &page.csrf()), ("body", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"answer-error\""));
    let answered = peer
        .post(
            &format!("{question}/answers"),
            &[
                ("csrf", &page.csrf()),
                (
                    "body",
                    "Restart the Connect service after the nightly backup.",
                ),
            ],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER);
    let answer = answered
        .location()
        .rsplit("#answer-")
        .next()
        .unwrap()
        .to_string();
    let page = peer.get(&question).await;
    assert!(page.body.contains("nightly backup"));
    assert!(
        !page
            .body
            .contains(&format!("{question}/answers/{answer}/accept")),
        "only the asker or staff accept"
    );

    // The asker accepts it, then it is suggested beside a new ticket, for anyone signed in.
    let page = asker.get(&question).await;
    let accepted = asker
        .post(
            &format!("{question}/answers/{answer}/accept"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    let page = asker.get(&question).await;
    assert!(page.body.contains("Accepted answer"), "{}", page.body);
    let suggested = peer
        .get("/resources/suggestions?subject=spooler+stopped&description=")
        .await;
    assert!(
        suggested.body.contains("Answered in the community") && suggested.body.contains(&question),
        "{}",
        suggested.body
    );
    let suggested = stranger
        .get("/resources/suggestions?subject=spooler+stopped&description=")
        .await;
    assert!(
        !suggested.body.contains("Spooler stops"),
        "nothing for strangers"
    );

    // A moderator hides it with a reason; the other customer loses it, the asker keeps it.
    let mut manager = Visitor::new(&app);
    manager.sign_in("lead@desk.example").await;
    let page = manager.get(&question).await;
    let refused = manager
        .post(
            &format!("{question}/moderation"),
            &[("csrf", &page.csrf()), ("action", "hide"), ("reason", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let hid = manager
        .post(
            &format!("{question}/moderation"),
            &[
                ("csrf", &page.csrf()),
                ("action", "hide"),
                ("reason", "Names a customer's server"),
            ],
        )
        .await;
    assert_eq!(hid.status, StatusCode::SEE_OTHER);
    let page = manager.get(&question).await;
    assert!(page.body.contains("Names a customer"), "{}", page.body);
    assert_eq!(peer.get(&question).await.status, StatusCode::NOT_FOUND);
    assert!(!peer.get("/community").await.body.contains("Spooler stops"));
    let own = asker.get(&question).await;
    assert!(own.body.contains("Hidden by a moderator"));
    let page = manager.get(&question).await;
    manager
        .post(
            &format!("{question}/moderation"),
            &[
                ("csrf", &page.csrf()),
                ("action", "show"),
                ("reason", "The name is gone"),
            ],
        )
        .await;

    // The asker turns it into a ticket in one step.
    let page = asker.get(&question).await;
    let product = page
        .body
        .split("id=\"ticket-product\"")
        .nth(1)
        .unwrap()
        .split("<option value=\"")
        .nth(2)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let refused = asker
        .post(
            &format!("{question}/ticket"),
            &[
                ("csrf", &page.csrf()),
                ("product", &product),
                ("severity", ""),
                ("business_impact", "Invoices are late"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"ticket-severity-error\""),
        "{}",
        refused.body
    );
    let opened = asker
        .post(
            &format!("{question}/ticket"),
            &[
                ("csrf", &hidden(&page.body, "csrf")),
                ("product", &product),
                ("severity", "P3"),
                ("business_impact", "Invoices are late"),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let ticket = asker.get(opened.location()).await;
    assert!(ticket.body.contains("Spooler stops at night"));
    let page = asker.get(&question).await;
    assert!(
        page.body.contains(opened.location()),
        "the question links its ticket"
    );
    assert!(!peer.get(&question).await.body.contains(opened.location()));

    app.stop().await;
}

/// The community's list shows 30 questions a page, with the way to the next and back, the
/// search and the filters kept.
pub async fn the_community_list_is_paged(backend: Backend) {
    use crate::pages::Visitor;
    use caredesk_desk::Caller;
    use caredesk_domain::resources::community::QuestionFields;

    let app = TestApp::start(backend, crate::support::limits()).await;
    let (customer_id, contact_id, _) = app.customer("ACME", "gold", "emea").await;
    let asker = Caller::Contact {
        id: contact_id,
        customer_id,
    };
    for number in 0..31 {
        caredesk_desk::community::ask(
            &app.desk(),
            &asker,
            QuestionFields {
                title: format!("Spooler question {number}"),
                body: format!("The spooler stops, time number {number}."),
                product_line: Some("ol-connect".into()),
                release: None,
                language: "en".into(),
            },
        )
        .await
        .unwrap();
    }
    let mut reader = Visitor::new(&app);
    reader.sign_in("contact@acme.example").await;
    let rows = |body: &str| body.matches("href=\"/community/questions/").count();
    for (first, filters) in [
        ("/community", ""),
        (
            "/community?q=spooler&product_line=ol-connect",
            "q=spooler&#38;product_line=ol-connect&#38;",
        ),
    ] {
        let page = reader.get(first).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(rows(&page.body), 30, "{first}");
        assert!(!page.body.contains("rel=\"prev\""), "{first}");
        let next = format!("/community?{filters}offset=30");
        assert!(
            page.body
                .contains(&format!("<a href=\"{next}\" rel=\"next\">")),
            "{first}: {}",
            page.body
        );
        let last = reader.get(&next.replace("&#38;", "&")).await;
        assert_eq!(last.status, StatusCode::OK, "{}", last.body);
        assert_eq!(rows(&last.body), 1, "{next}");
        assert!(!last.body.contains("rel=\"next\""), "{next}");
        let back = first.replace('&', "&#38;");
        assert!(
            last.body
                .contains(&format!("<a href=\"{back}\" rel=\"prev\">")),
            "{next}: {}",
            last.body
        );
    }
    let refused = reader.get("/community?offset=-30").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("offset"), "{}", refused.body);
}
