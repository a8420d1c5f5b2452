//! What an attacker tries first: characters the database cannot keep, sent everywhere text
//! enters, and passwords guessed in bulk.

use caredesk_domain::ticket::Role;
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
    let csrf = anna.get("/portal").await.csrf();
    anna.post(
        "/language",
        &[
            ("language", "fr"),
            ("back_to", "/portal/tickets/new"),
            ("csrf", &csrf),
        ],
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

/// API tokens are issued with an expiry, listed to their holder (and to administrators),
/// revoked at once, and revoked by signing out with them; sessions are listed to their
/// holder, with where they came from, and ended one by one: over the API and on the pages.
pub async fn tokens_and_sessions_are_revocable(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.set_time("2026-12-01T10:00:00Z");
    let (advisor, advisor_session) = app
        .staff("ada@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (root, _root_session) = app
        .staff("root@desk.example", Role::Admin, "emea", &["en"])
        .await;
    let (_, _, contact) = app.customer("ACME", "gold", "emea").await;
    let issue = |body: Value| {
        let app = &app;
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/staff/{advisor}/tokens"),
                Some(&app.admin),
                Some(body),
            )
            .await
        }
    };

    // Bad requests name their field; only administrators issue tokens.
    for (body, field) in [
        (json!({ "name": " " }), "name"),
        (
            json!({ "name": "ci", "expires_in_days": 0 }),
            "expires_in_days",
        ),
        (
            json!({ "name": "ci", "expires_in_days": 3651 }),
            "expires_in_days",
        ),
    ] {
        let (status, answer) = issue(body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["errors"][0]["field"], field, "{answer}");
    }
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/staff/{advisor}/tokens"),
            Some(&advisor_session),
            Some(json!({ "name": "mine" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An expiring token works until its day, then is refused.
    let (status, expiring) = issue(json!({ "name": "nightly", "expires_in_days": 1 })).await;
    assert_eq!(status, StatusCode::CREATED, "{expiring}");
    assert_eq!(expiring["token"]["expires_at"], "2026-12-02T10:00:00Z");
    let expiring_secret = expiring["secret"].as_str().unwrap().to_string();
    let me = |token: String| {
        let app = &app;
        async move {
            app.call(Method::GET, "/api/v1/me", Some(&token), None)
                .await
                .0
        }
    };
    assert_eq!(me(expiring_secret.clone()).await, StatusCode::OK);

    // The holder lists their own tokens, not anyone else's, and revokes one at once.
    let (_, lasting) = issue(json!({ "name": "ci" })).await;
    let lasting_secret = lasting["secret"].as_str().unwrap().to_string();
    let lasting_id = lasting["token"]["id"].as_i64().unwrap();
    let (status, listed) = app
        .call(Method::GET, "/api/v1/tokens", Some(&lasting_secret), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|token| token["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ci", "nightly"]);
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/tokens?staff_id={root}"),
            Some(&advisor_session),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(Method::GET, "/api/v1/tokens", Some(&contact), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(me(lasting_secret.clone()).await, StatusCode::OK);
    let revoke_path = format!("/api/v1/tokens/{lasting_id}");
    let (status, revoked) = app
        .call(Method::DELETE, &revoke_path, Some(&advisor_session), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["revoked_at"], "2026-12-01T10:00:00Z");
    assert_eq!(me(lasting_secret.clone()).await, StatusCode::UNAUTHORIZED);
    let (status, again) = app
        .call(Method::DELETE, &revoke_path, Some(&app.admin), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    // Someone else's token is not found, as if it did not exist.
    let (_, every_token) = app
        .call(Method::GET, "/api/v1/tokens", Some(&app.admin), None)
        .await;
    let admins_token = every_token
        .as_array()
        .unwrap()
        .iter()
        .find(|token| token["name"] == "tests")
        .expect("the administrator's token is listed to administrators")["id"]
        .as_i64()
        .unwrap();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{admins_token}"),
            Some(&advisor_session),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Signing out with an API token revokes it.
    let (_, script) = issue(json!({ "name": "script" })).await;
    let script_secret = script["secret"].as_str().unwrap().to_string();
    let (status, _) = app
        .call(
            Method::DELETE,
            "/api/v1/sessions/current",
            Some(&script_secret),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me(script_secret).await, StatusCode::UNAUTHORIZED);

    // The scheme is case-insensitive.
    let lower = app
        .request(
            Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("authorization", &format!("bearer {advisor_session}"))],
        )
        .await;
    assert_eq!(lower.status(), StatusCode::OK);

    // Sessions: listed to their holder with where they came from; one ended, the others go on.
    let elsewhere = app
        .request(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({ "email": "ada@desk.example", "password": PASSWORD })),
            &[("user-agent", "Laptop browser/1.0")],
        )
        .await;
    let elsewhere = crate::support::json_of(elsewhere).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, sessions) = app
        .call(
            Method::GET,
            "/api/v1/sessions",
            Some(&advisor_session),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    let sessions = sessions.as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions[0]["client"], "Laptop browser/1.0");
    assert_eq!(sessions[0]["address"], "127.0.0.1");
    assert_eq!(sessions[0]["current"], false);
    assert_eq!(sessions[1]["current"], true);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/sessions/{}", sessions[0]["id"]),
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another person's session");
    assert_eq!(me(elsewhere.clone()).await, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/sessions/{}", sessions[0]["id"]),
            Some(&advisor_session),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me(elsewhere).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(advisor_session.clone()).await, StatusCode::OK);

    // Seen two seconds before it expires, the token is not remembered past its expiry.
    app.set_time("2026-12-02T09:59:58Z");
    assert_eq!(me(expiring_secret.clone()).await, StatusCode::OK);
    app.set_time("2026-12-02T10:00:01Z");
    assert_eq!(me(expiring_secret.clone()).await, StatusCode::UNAUTHORIZED);
    // Two days on, it is refused still.
    app.set_time("2026-12-03T10:00:00Z");
    assert_eq!(me(expiring_secret).await, StatusCode::UNAUTHORIZED);

    // The pages: an administrator issues a token and reads its secret once, then revokes it.
    let mut admin = Visitor::new(&app);
    admin.sign_in("root@desk.example").await;
    let tokens_page = admin.get("/console/tokens").await;
    assert_eq!(tokens_page.status, StatusCode::OK);
    assert!(tokens_page.body.contains("nightly"), "{}", tokens_page.body);
    assert!(tokens_page.body.contains("expired"));
    assert!(tokens_page.body.contains("revoked"));
    let csrf = tokens_page.csrf();
    let refused = admin
        .post(
            "/console/tokens",
            &[
                ("csrf", &csrf),
                ("staff_id", &advisor.to_string()),
                ("name", ""),
                ("expires_in_days", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"name-error\""),
        "{}",
        refused.body
    );
    let issued = admin
        .post(
            "/console/tokens",
            &[
                ("csrf", &csrf),
                ("staff_id", &advisor.to_string()),
                ("name", "made on a page"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let marker = "<code id=\"issued-secret\">";
    let start = issued.body.find(marker).expect("the secret is shown") + marker.len();
    let page_secret = issued.body[start..].split('<').next().unwrap().to_string();
    assert_eq!(me(page_secret.clone()).await, StatusCode::OK);
    let again = admin.get("/console/tokens").await;
    assert!(
        !again.body.contains(&page_secret),
        "the secret is shown once"
    );
    let (_, listed) = app
        .call(Method::GET, "/api/v1/tokens", Some(&advisor_session), None)
        .await;
    let page_token = listed[0]["id"].as_i64().unwrap();
    assert_eq!(listed[0]["name"], "made on a page");
    let revoked = admin
        .post(
            &format!("/account/tokens/{page_token}/revoke"),
            &[("csrf", &csrf), ("back_to", "/console/tokens")],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(revoked.location(), "/console/tokens");
    assert_eq!(me(page_secret).await, StatusCode::UNAUTHORIZED);
    let forged = admin
        .post(
            &format!("/account/tokens/{page_token}/revoke"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // The advisor's own account page: their sessions, one ended from the page.
    let mut ada = Visitor::new(&app);
    ada.sign_in("ada@desk.example").await;
    assert_eq!(
        ada.get("/console/tokens").await.status,
        StatusCode::FORBIDDEN
    );
    let account = ada.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains("This session"), "{}", account.body);
    assert!(account.body.contains("made on a page"));
    let other_session = {
        let marker = "action=\"/account/sessions/";
        let start = account.body.find(marker).expect("an End button") + marker.len();
        account.body[start..].split('/').next().unwrap().to_string()
    };
    let ended = ada
        .post(
            &format!("/account/sessions/{other_session}/end"),
            &[("csrf", &account.csrf())],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(me(advisor_session).await, StatusCode::UNAUTHORIZED);
    assert_eq!(ada.get("/account").await.status, StatusCode::OK);
    app.stop().await;
}

/// A form sent from another site is refused even with a valid token, and the language
/// switch needs the page's token like every other form.
pub async fn forms_from_other_sites_are_refused(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let mut visitor = Visitor::new(&app);
    let sign_in = visitor.get("/sign-in").await;
    let csrf = sign_in.csrf();
    assert!(sign_in.body.contains("action=\"/language\""));
    let no_token = visitor
        .post("/language", &[("language", "fr"), ("back_to", "/sign-in")])
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let forged = visitor
        .post(
            "/language",
            &[
                ("language", "fr"),
                ("back_to", "/sign-in"),
                ("csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let cookie = format!("caredesk_sign_in={csrf}");
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(format!("{}/language", app.base))
            .header("cookie", &cookie)
            .header(name, value)
            .form(&[("language", "fr"), ("back_to", "/sign-in"), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(response.headers().get("set-cookie").is_none());
    }
    let switched = visitor
        .post(
            "/language",
            &[("language", "fr"), ("back_to", "/sign-in"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let french = visitor.get("/sign-in").await;
    assert!(french.body.contains("Connexion"), "{}", french.body);

    // Signed in, the page's own token switches it.
    app.staff("ada@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    visitor.sign_in("ada@desk.example").await;
    let console = visitor.get("/console").await;
    let english = visitor
        .post(
            "/language",
            &[
                ("language", "en"),
                ("back_to", "/console"),
                ("csrf", &console.csrf()),
            ],
        )
        .await;
    assert_eq!(english.status, StatusCode::SEE_OTHER);
    app.stop().await;
}

/// Texts past their bound are refused with the field named, whatever the way in; a file's
/// name cannot carry a line break into a download's headers, and a file never comes back
/// as a page that runs.
pub async fn every_text_has_a_bound_and_files_stay_files(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let (customer, _, contact) = app.customer("ACME", "gold", "emea").await;
    for (path, body, field) in [
        (
            "/api/v1/customers".to_string(),
            json!({ "number": "N-1", "name": "x".repeat(201), "region": "emea", "language": "en" }),
            "name",
        ),
        (
            "/api/v1/customers".to_string(),
            json!({ "number": "N".repeat(51), "name": "Big", "region": "emea", "language": "en" }),
            "number",
        ),
        (
            format!("/api/v1/customers/{customer}/contacts"),
            json!({ "name": "Ana", "email": "ana@acme.example", "phone": "1".repeat(51), "language": "en" }),
            "phone",
        ),
        (
            format!("/api/v1/customers/{customer}/products"),
            json!({ "product_line": "ol-connect", "version": "2026.1", "serial": "S".repeat(101) }),
            "serial",
        ),
        (
            "/api/v1/staff".to_string(),
            json!({ "email": "bo@desk.example", "name": "Bo", "role": "advisor", "languages": ["en"], "password": "p".repeat(1025) }),
            "password",
        ),
    ] {
        let (status, answer) = app
            .call(Method::POST, &path, Some(&app.admin), Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
        assert_eq!(answer["errors"][0]["field"], field, "{path}: {answer}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("at most"),
            "{answer}"
        );
    }
    let (_, customers) = app
        .call(Method::GET, "/api/v1/customers", Some(&app.admin), None)
        .await;
    assert_eq!(
        customers.as_array().unwrap().len(),
        1,
        "nothing was written"
    );

    let ticket = {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/v1/tickets",
                Some(&contact),
                Some(portal_ticket("ACME", "P3")),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    };
    let upload = |name: &str, content_type: &str, body: &[u8]| {
        let request = app
            .client
            .post(format!(
                "{}/api/v1/tickets/{ticket}/attachments?filename={name}",
                app.base
            ))
            .bearer_auth(&contact)
            .header("content-type", content_type)
            .body(body.to_vec());
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, crate::support::json_of(response).await)
        }
    };
    for (name, body, field) in [
        ("report%0D%0Ax.pdf", &b"%PDF"[..], "filename"),
        ("a%2Fb.txt", &b"x"[..], "filename"),
        ("empty.txt", &b""[..], "body"),
    ] {
        let (status, problem) = upload(name, "text/plain", body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{name}: {problem}");
    }
    let (status, page) = upload("trap.html", "text/html", b"<script>alert(1)</script>").await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    let (status, picture) = upload("screen.png", "image/png", b"\x89PNG").await;
    assert_eq!(status, StatusCode::CREATED, "{picture}");
    for (stored, expected_type) in [(&page, "application/octet-stream"), (&picture, "image/png")] {
        let download = app
            .request(
                Method::GET,
                &format!("/api/v1/tickets/{ticket}/attachments/{}", stored["id"]),
                Some(&contact),
                None,
                &[],
            )
            .await;
        assert_eq!(download.status(), StatusCode::OK);
        assert_eq!(download.headers()["content-type"], expected_type);
        assert!(
            download.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert!(
            download.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("sandbox")
        );
    }
    let (_, files) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{ticket}/attachments"),
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(
        files.as_array().unwrap().len(),
        2,
        "only the good files: {files}"
    );

    // A name is one line.
    let (status, answer) = app
        .call(
            Method::POST,
            "/api/v1/customers",
            Some(&app.admin),
            Some(json!({ "number": "T-1", "name": "Two\tcolumns", "region": "emea", "language": "en" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "name");

    // On the portal, a new ticket with an empty file is refused whole: no ticket without
    // the file its form promised.
    let mut anna = Visitor::new(&app);
    anna.sign_in("contact@acme.example").await;
    let form = anna.get("/portal/tickets/new").await;
    let empty_file = reqwest::multipart::Part::bytes(Vec::new())
        .file_name("trace.log")
        .mime_str("text/plain")
        .unwrap();
    let refused = anna
        .post_multipart(
            "/portal/tickets",
            multipart(&[
                ("csrf", &form.csrf()),
                ("form_key", &hidden(&form.body, "form_key")),
                ("product", &first_product(&form.body)),
                ("severity", "P3"),
                ("subject", "With an empty file"),
                ("description", "See the trace."),
                ("business_impact", "Invoices are late"),
            ])
            .part("files", empty_file),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"files-error\""),
        "{}",
        refused.body
    );
    let (_, queue) = app
        .call(
            Method::GET,
            "/api/v1/queue?limit=100",
            Some(&app.admin),
            None,
        )
        .await;
    assert!(
        !queue.to_string().contains("With an empty file"),
        "no ticket was recorded: {queue}"
    );
    app.stop().await;
}

/// Every administrative change is in the audit trail, with who, when, from where, and the
/// record before and after; a refused change leaves nothing; only administrators read it,
/// as JSON or CSV, filtered and paged; and not even the database's own users can change or
/// delete an entry.
pub async fn the_audit_trail_records_every_administrative_change(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.set_time("2026-12-04T10:00:00Z");
    let admin = app
        .call(Method::GET, "/api/v1/me", Some(&app.admin), None)
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let (advisor, advisor_session) = app
        .staff("ada@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let post = |path: String, body: Value| {
        let app = &app;
        async move {
            let (status, answer) = app
                .call(Method::POST, &path, Some(&app.admin), Some(body))
                .await;
            assert!(status.is_success(), "{path}: {status} {answer}");
            answer
        }
    };
    let customer = post(
        "/api/v1/customers".into(),
        json!({ "number": "AUD-1", "name": "Audited", "region": "emea", "language": "en" }),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/customers",
            Some(&app.admin),
            Some(json!({ "number": "", "name": "Refused", "region": "emea", "language": "en" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    post(
        format!("/api/v1/customers/{customer}/contacts"),
        json!({ "name": "Ana", "email": "ana@audited.example", "language": "en", "password": "a long enough password" }),
    )
    .await;
    post(
        format!("/api/v1/customers/{customer}/contracts"),
        json!({ "program": "gold", "starts_on": "2026-01-01", "ends_on": "2027-12-31", "eula_accepted": true }),
    )
    .await;
    post(
        format!("/api/v1/customers/{customer}/products"),
        json!({ "product_line": "ol-connect", "version": "2026.1", "serial": "AUD-SN-1" }),
    )
    .await;
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/staff/{advisor}/availability"),
            Some(&advisor_session),
            Some(json!({ "available": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = post(
        format!("/api/v1/staff/{advisor}/tokens"),
        json!({ "name": "ci" }),
    )
    .await;
    let secret = token["secret"].as_str().unwrap().to_string();
    let token_id = token["token"]["id"].as_i64().unwrap();
    // Sent with a forged X-Forwarded-For: no proxy is trusted, so the peer's address stands.
    let revoked = app
        .request(
            Method::DELETE,
            &format!("/api/v1/tokens/{token_id}"),
            Some(&app.admin),
            None,
            &[("x-forwarded-for", "203.0.113.9")],
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let hook = post(
        "/api/v1/admin/webhooks".into(),
        json!({ "url": "http://127.0.0.1:9/hook", "secret": "a secret of sixteen" }),
    )
    .await;
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/webhooks/{}", hook["webhook"]["id"]),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, trail) = app
        .call(Method::GET, "/api/v1/admin/audit", Some(&app.admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let entries = trail.as_array().unwrap();
    let steps: Vec<(&str, &str)> = entries
        .iter()
        .map(|entry| {
            (
                entry["entity"].as_str().unwrap(),
                entry["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("webhook", "deactivated"),
            ("webhook", "created"),
            ("api_token", "revoked"),
            ("api_token", "created"),
            ("staff", "availability_changed"),
            ("product", "created"),
            ("contract", "created"),
            ("contact", "created"),
            ("customer", "created"),
        ],
        "newest first, the refused customer absent (the staff member added before came from the tests' own store)"
    );
    let by_admin = format!("staff:{admin}");
    for entry in entries {
        let expected_actor = if entry["entity"] == "staff" {
            format!("staff:{advisor}")
        } else {
            by_admin.clone()
        };
        assert_eq!(entry["actor"], expected_actor.as_str(), "{entry}");
        assert_eq!(entry["address"], "127.0.0.1", "{entry}");
        assert_eq!(entry["at"], "2026-12-04T10:00:00Z");
    }
    let availability = &entries[4];
    assert_eq!(availability["before"]["available"], true);
    assert_eq!(availability["after"]["available"], false);
    assert_eq!(entries[8]["after"]["name"], "Audited");
    let text = trail.to_string();
    for secret in [
        secret.as_str(),
        "a secret of sixteen",
        "a long enough password",
    ] {
        assert!(!text.contains(secret), "no secret in the trail");
    }
    assert!(!text.contains("password_hash") && !text.contains("token_hash"));
    assert_eq!(
        entries[1]["after"]["url"], "http://127.0.0.1:9/…",
        "scheme and host only"
    );
    assert!(!text.contains("/hook"));
    assert_eq!(entries[0]["before"]["active"], true);
    assert_eq!(entries[0]["after"]["active"], false);

    // Filtered, paged, and as CSV.
    let (_, customers) = app
        .call(
            Method::GET,
            "/api/v1/admin/audit?entity=customer",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(customers.as_array().unwrap().len(), 1);
    let (_, first) = app
        .call(
            Method::GET,
            "/api/v1/admin/audit?limit=2",
            Some(&app.admin),
            None,
        )
        .await;
    let below = first[1]["id"].as_i64().unwrap();
    let (_, next) = app
        .call(
            Method::GET,
            &format!("/api/v1/admin/audit?limit=2&before_id={below}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(next[0]["action"], "revoked");
    let (status, problem) = app
        .call(
            Method::GET,
            "/api/v1/admin/audit?limit=0",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "limit");
    let csv = app
        .request(
            Method::GET,
            "/api/v1/admin/audit?format=csv",
            Some(&app.admin),
            None,
            &[],
        )
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 10, "{csv}");
    assert!(lines[0].starts_with("id,at,actor,address,entity"));
    let (status, _) = app
        .call(
            Method::GET,
            "/api/v1/admin/audit",
            Some(&advisor_session),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The database itself refuses to change or delete an entry.
    for (statement, outcome) in
        caredesk_testkit::tamper_with_the_audit_trail(app.database_url(), backend).await
    {
        assert!(outcome.is_err(), "{statement}: {outcome:?}");
    }
    let (_, unchanged) = app
        .call(Method::GET, "/api/v1/admin/audit", Some(&app.admin), None)
        .await;
    assert_eq!(unchanged, trail);

    // The administrators' page: who by name, what changed, filters, and the CSV.
    app.staff("root@desk.example", Role::Admin, "emea", &["en"])
        .await;
    let mut root = Visitor::new(&app);
    root.sign_in("root@desk.example").await;
    let page = root.get("/console/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("available: true → false"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("ada (ada@desk.example)"),
        "{}",
        page.body
    );
    assert!(page.body.contains("name: Audited"));
    let customers_only = root.get("/console/audit?entity=customer").await;
    assert!(customers_only.body.contains("customer "));
    assert!(!customers_only.body.contains("webhook "));
    assert!(
        customers_only
            .body
            .contains("href=\"/console/audit.csv?entity=customer\"")
    );
    let refused = root.get("/console/audit?from=yesterday").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let csv = root.get("/console/audit.csv?entity=customer").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.body.lines().count(), 2, "{}", csv.body);
    let mut ada = Visitor::new(&app);
    ada.sign_in("ada@desk.example").await;
    assert_eq!(
        ada.get("/console/audit").await.status,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

/// An administrator shuts a staff member out at once: their sessions end, their API tokens
/// are revoked, they cannot sign in, and the audit trail says so; reactivated, they sign in
/// again (with new tokens). An administrator cannot shut themselves out.
pub async fn a_deactivated_member_is_shut_out(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let (advisor, session) = app
        .staff("ada@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (root, root_session) = app
        .staff("root@desk.example", Role::Admin, "emea", &["en"])
        .await;
    let (_, issued) = app
        .call(
            Method::POST,
            &format!("/api/v1/staff/{advisor}/tokens"),
            Some(&app.admin),
            Some(json!({ "name": "ci" })),
        )
        .await;
    let token = issued["secret"].as_str().unwrap().to_string();
    let me = |secret: String| {
        let app = &app;
        async move {
            app.call(Method::GET, "/api/v1/me", Some(&secret), None)
                .await
                .0
        }
    };
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    assert_eq!(me(session.clone()).await, StatusCode::OK);
    let set = |id: i64, active: bool, by: String| {
        let app = &app;
        async move {
            app.call(
                Method::PUT,
                &format!("/api/v1/staff/{id}/active"),
                Some(&by),
                Some(json!({ "active": active })),
            )
            .await
        }
    };
    let (status, _) = set(advisor, false, session.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "administrators only");
    let (status, problem) = set(root, false, root_session.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "active");

    let (status, member) = set(advisor, false, root_session.clone()).await;
    assert_eq!(status, StatusCode::OK, "{member}");
    assert_eq!(member["active"], false);
    assert_eq!(me(token.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(session).await, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({ "email": "ada@desk.example", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, trail) = app
        .call(
            Method::GET,
            &format!("/api/v1/admin/audit?entity=staff&entity_id={advisor}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(trail[0]["action"], "deactivated", "{trail}");
    assert_eq!(trail[0]["actor"], format!("staff:{root}"));
    assert_eq!(trail[0]["after"]["tokens_revoked"], 1);
    assert_eq!(trail[0]["after"]["sessions_ended"], 1);

    // Reactivated from the staff page: a new sign-in works; the old token stays revoked.
    let mut root_browser = Visitor::new(&app);
    root_browser.sign_in("root@desk.example").await;
    let staff_page = root_browser.get("/console/staff").await;
    assert!(
        staff_page.body.contains("Reactivate"),
        "{}",
        staff_page.body
    );
    let reactivated = root_browser
        .post(
            &format!("/console/staff/{advisor}/active"),
            &[("csrf", &staff_page.csrf()), ("active", "true")],
        )
        .await;
    assert_eq!(reactivated.status, StatusCode::SEE_OTHER);
    let again = app.sign_in("ada@desk.example").await;
    assert_eq!(me(again).await, StatusCode::OK);
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

/// The mail gateway's endpoint answers an oversize message and an empty one with a problem
/// document naming why, never plain text and never "ignored".
pub async fn inbound_mail_refusals_are_problems(backend: Backend) {
    let limits = caredesk_web::Limits {
        max_attachment_bytes: 64 * 1024,
        ..crate::support::limits()
    };
    let app = TestApp::start(backend, limits).await;
    let send = |body: Vec<u8>| {
        let request = app
            .client
            .post(format!("{}/api/v1/mail/inbound", app.base))
            .bearer_auth(&app.admin)
            .header("content-type", "message/rfc822")
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            (status, kind, crate::support::json_of(response).await)
        }
    };
    let (status, kind, problem) = send(vec![b'x'; 1_100_000]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    assert_eq!(kind, "application/problem+json");
    assert!(
        problem["detail"].as_str().unwrap().contains("1048576"),
        "{problem}"
    );
    let (status, kind, problem) = send(Vec::new()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(kind, "application/problem+json");
    assert_eq!(problem["errors"][0]["field"], "body");
    app.stop().await;
}
