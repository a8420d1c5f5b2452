//! What an attacker tries first: characters the database cannot keep, sent everywhere text
//! enters, and passwords guessed in bulk.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::pages::{Visitor, first_product, hidden, multipart};
use crate::support::{Backend, PASSWORD, TestApp, portal_ticket};

/// A control character in a query string, a URL-encoded form, a multipart form, a JSON body
/// or a mail is refused with its field named, and nothing is stored: the same on SQLite and
/// PostgreSQL (which cannot store NUL at all).
pub async fn control_characters_are_refused_wherever_text_enters(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let (customer, _, contact) = app.customer("ACME", "gold", "emea").await;

    // The API's query strings: 422 naming the parameter.
    for (path, field) in [
        ("/api/v1/queue?region=a%00b", "region"),
        ("/api/v1/queue?program=a%00b", "program"),
        ("/api/v1/queue?language=a%00b", "language"),
        ("/api/v1/queue?region=emea&language=e%1Bn", "language"),
        ("/api/v1/admin/notices?state=%00", "state"),
    ] {
        let (status, body) = app.call(Method::GET, path, Some(&app.admin), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("U+00"),
            "{path}: {body}"
        );
    }
    // JSON bodies: any control character but the layout ones.
    for (field, text) in [("subject", "a\u{0}b"), ("description", "bell\u{7}")] {
        let mut ticket = portal_ticket("ACME", "P3");
        ticket[field] = json!(text);
        let (status, body) = app
            .call(
                Method::POST,
                "/api/v1/tickets",
                Some(&contact),
                Some(ticket),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    }
    let mut laid_out = portal_ticket("ACME", "P3");
    laid_out["description"] = json!("line one\r\n\tline two");
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(laid_out),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "lines and tabs are text: {body}"
    );
    let opened = app.store.tickets_of(customer, 10).await.unwrap().len();

    // The pages: a readable page naming the field.
    let mut anna = Visitor::new(&app);
    let sign_in = anna.get("/sign-in").await;
    let csrf = sign_in.csrf();
    let refused = anna
        .post(
            "/sign-in",
            &[
                ("email", "contact@acme.example\u{0}"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("email: must not contain the NUL"),
        "{}",
        refused.body
    );
    anna.sign_in("contact@acme.example").await;
    for path in ["/portal?q=a%00b", "/portal?q=%07"] {
        let page = anna.get(path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(page.body.contains("q: must not contain"), "{}", page.body);
        assert!(page.body.contains("<html"), "a page, not a bare error");
    }
    let form = anna.get("/portal/tickets/new").await;
    let product = first_product(&form.body);
    let nul_subject = anna
        .post_multipart(
            "/portal/tickets",
            multipart(&[
                ("csrf", &form.csrf()),
                ("form_key", &hidden(&form.body, "form_key")),
                ("product", &product),
                ("severity", "P2"),
                ("subject", "Invoices\u{0} stopped"),
                ("description", "The spooler stops."),
                ("business_impact", "Invoices are late"),
            ]),
        )
        .await;
    assert_eq!(nul_subject.status, StatusCode::BAD_REQUEST);
    assert!(
        nul_subject
            .body
            .contains("subject: must not contain the NUL"),
        "{}",
        nul_subject.body
    );
    assert_eq!(
        app.store.tickets_of(customer, 10).await.unwrap().len(),
        opened,
        "nothing refused was stored"
    );

    // Mail: a NUL in the text is ignored with why, never a failure the MTA would retry.
    let message = "From: Contact <contact@acme.example>\r\n\
         To: support@desk.example\r\n\
         Subject: Printing\r\n\
         Message-ID: <nul-1@acme.example>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         The spooler\0 stops.\r\n";
    for _ in 0..2 {
        let response = app
            .client
            .post(format!("{}/api/v1/mail/inbound", app.base))
            .bearer_auth(&app.admin)
            .header("Content-Type", "message/rfc822")
            .body(message)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let report: Value = response.json().await.unwrap();
        assert_eq!(report["outcome"], "ignored", "{report}");
        assert!(
            report["reason"].as_str().unwrap().contains("NUL"),
            "{report}"
        );
    }
    assert_eq!(
        app.store.tickets_of(customer, 10).await.unwrap().len(),
        opened
    );
    app.stop().await;
}

/// Wrong passwords: a few are answered 401, then every try waits (429 with `Retry-After`),
/// the right password included, whether or not the account exists; concurrent guesses are
/// counted in full; the wait ends on time, and a success starts the count again.
pub async fn wrong_passwords_are_throttled(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.set_time("2026-12-04T10:00:00Z");
    app.customer("ACME", "gold", "emea").await;
    let sign_in = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/sessions",
                None,
                Some(json!({ "email": email, "password": password })),
                &[],
            )
            .await
        }
    };
    for email in ["contact@acme.example", "nobody@nowhere.example"] {
        for attempt in 1..=5 {
            let response = sign_in(email, "wrong password").await;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{email}: attempt {attempt} is free"
            );
        }
        let response = sign_in(email, "wrong password").await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert_eq!(response.headers()["retry-after"], "1", "{email}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    // The right password waits too: the answer says nothing of the password.
    let response = sign_in("contact@acme.example", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    app.set_time("2026-12-04T10:00:01Z");
    let response = sign_in("contact@acme.example", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED, "the wait is over");
    // A success starts the account's count again.
    let response = sign_in("contact@acme.example", "wrong password").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Forty guesses at once at another account: five are checked, the rest wait.
    let guesses = (0..40).map(|_| sign_in("someone@acme.example", "guess"));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(reqwest::Response::status)
        .collect();
    let checked = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|status| **status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, throttled), (5, 35), "{statuses:?}");

    // The sign-in form says so in the visitor's language, with the same status.
    let mut visitor = Visitor::new(&app);
    let form = visitor.get("/sign-in").await;
    let page = visitor
        .post(
            "/sign-in",
            &[
                ("email", "someone@acme.example"),
                ("password", "guess"),
                ("csrf", &form.csrf()),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers.contains_key("retry-after"));
    assert!(
        page.body.contains("Too many failed sign-ins"),
        "{}",
        page.body
    );
    app.stop().await;
}

/// A refused field is told in the visitor's language from its reason's code: the pages
/// never match the desk's English words.
pub async fn refusals_are_worded_in_the_visitors_language(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.customer("ACME", "gold", "emea").await;
    let mut anna = Visitor::new(&app);
    anna.sign_in("contact@acme.example").await;
    anna.post(
        "/language",
        &[("language", "fr"), ("back_to", "/portal/tickets/new")],
    )
    .await;
    let form = anna.get("/portal/tickets/new").await;
    assert!(form.body.contains("<html lang=\"fr\""));
    let product = first_product(&form.body);
    let long_subject = "x".repeat(201);
    let refused = anna
        .post_multipart(
            "/portal/tickets",
            multipart(&[
                ("csrf", &form.csrf()),
                ("form_key", &hidden(&form.body, "form_key")),
                ("product", &product),
                ("severity", "P3"),
                ("subject", &long_subject),
                ("description", " "),
                ("business_impact", "Invoices are late"),
            ]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("Au plus 200 caractères."),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("Ce champ est obligatoire."));
    assert!(!refused.body.contains("at most 200 characters"));
    assert!(!refused.body.contains("must not be empty"));
    app.stop().await;
}
