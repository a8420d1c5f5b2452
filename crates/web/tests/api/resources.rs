//! The resource center over the API: staff write and review, anyone searches what they may
//! read, on SQLite and on PostgreSQL.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::pages::Visitor;
use crate::support::{Backend, TestApp};
use caredesk_domain::ticket::Role;

fn titles(results: &Value) -> Vec<&str> {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["title"].as_str().unwrap())
        .collect()
}

/// An article goes from draft to published through the API; anyone then finds it by any
/// form of its words, with the words marked, and reads it as safe HTML; customers never see
/// an internal one; an edit based on an old revision is refused; revisions are compared.
pub async fn the_resource_center_over_the_api(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.store
        .add_release(&caredesk_store::NewRelease {
            product_line: "ol-connect".into(),
            version: "2025.1".into(),
            kind: "major".into(),
            released_on: jiff::civil::date(2025, 3, 1),
            download_url: None,
            sha256: None,
            notes: Default::default(),
        })
        .await
        .unwrap();
    let (_, writer) = app
        .staff("writer@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, reviewer) = app
        .staff("lead@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, _, contact) = app.customer("ACME", "gold", "emea").await;
    let article = |visibility: &str, title: &str| {
        json!({
            "kind": "article",
            "product_line": "ol-connect",
            "releases": ["2025.1"],
            "visibility": visibility,
            "tags": ["Printing", "spooler"],
            "translation": {
                "language": "en",
                "title": title,
                "body": "Restart the **print spooler**.\n\n<script>alert(1)</script>",
            },
        })
    };

    // Every faulty field is named; customers do not write.
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/resources",
            Some(&writer),
            Some(json!({
                "kind": "documentation",
                "releases": ["2025.1"],
                "visibility": "public",
                "translation": { "language": "tlh", "title": "Docs" },
            })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["releases", "url", "language"], "{problem}");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/resources",
            Some(&contact),
            Some(article("public", "Mine")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let response = app
        .request(
            Method::POST,
            "/api/v1/resources",
            Some(&writer),
            Some(article("public", "Jobs stop printing after an update")),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let created = crate::support::json_of(response).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/resources/{id}"));
    assert_eq!(created["tags"], json!(["printing", "spooler"]));
    assert_eq!(created["translations"][0]["state"], "draft");

    // A draft is not found by anyone signed out, nor by a customer.
    let (status, _) = app.call(Method::GET, &location, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, found) = app
        .call(
            Method::GET,
            "/api/v1/resources?q=printing",
            Some(&contact),
            None,
        )
        .await;
    assert!(titles(&found).is_empty());

    // Review: the writer may not publish; the reviewer does.
    let actions = format!("{location}/translations/en/actions");
    let (status, _) = app
        .call(
            Method::POST,
            &actions,
            Some(&writer),
            Some(json!({ "action": "publish" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            Method::POST,
            &actions,
            Some(&writer),
            Some(json!({ "action": "submit" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, published) = app
        .call(
            Method::POST,
            &actions,
            Some(&reviewer),
            Some(json!({ "action": "publish" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(published["state"], "published");
    let (status, problem) = app
        .call(
            Method::POST,
            &actions,
            Some(&reviewer),
            Some(json!({ "action": "publish" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["allowed_actions"], json!(["archive"]));

    // Anyone finds it, by another form of the word, the words marked.
    let (status, found) = app
        .call(
            Method::GET,
            "/api/v1/resources?q=printed+spoolers",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(titles(&found), ["Jobs stop printing after an update"]);
    let marked: Vec<&str> = found["results"][0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|piece| piece["matched"] == true)
        .map(|piece| piece["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["print spooler"]);
    // Read as safe HTML.
    let (status, read) = app.call(Method::GET, &location, None, None).await;
    assert_eq!(status, StatusCode::OK);
    let html = read["translations"][0]["html"].as_str().unwrap();
    assert!(
        read.get("created_by").is_none(),
        "who wrote it is for staff"
    );
    assert!(read["translations"][0].get("updated_by").is_none());
    assert!(html.contains("<strong>print spooler</strong>"), "{html}");
    assert!(!html.contains("<script"));
    // Words of combining marks alone, apostrophes, exponents: no query, no error.
    for odd in ["%D9%8B", "%27%22%5C", "x%C2%B2", "%E3%80%80"] {
        let (status, body) = app
            .call(
                Method::GET,
                &format!("/api/v1/resources?q={odd}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{odd}: {body}");
    }
    let (status, _) = app
        .call(Method::GET, "/api/v1/resources?tag=%2C", None, None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a tag has no comma"
    );
    // A token that is not valid is refused, never read as nobody.
    let (status, _) = app
        .call(
            Method::GET,
            "/api/v1/resources?q=printing",
            Some("cd_not-a-token"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An internal article: staff find it, a customer never, not even counted.
    let (_, internal) = app
        .call(
            Method::POST,
            "/api/v1/resources",
            Some(&writer),
            Some(article("internal", "Printing: the engineers' workaround")),
        )
        .await;
    let internal_id = internal["id"].as_i64().unwrap();
    let (status, published) = app
        .call(
            Method::POST,
            &format!("/api/v1/resources/{internal_id}/translations/en/actions"),
            Some(&reviewer),
            Some(json!({ "action": "publish" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(published["state"], "published");
    // A customer cannot tell an entry that exists from one that does not, even by asking
    // to review it.
    for id in [internal_id, 999_999] {
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/resources/{id}/translations/en/actions"),
                Some(&contact),
                Some(json!({ "action": "submit" })),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "entry {id}");
    }
    let (_, staff_found) = app
        .call(
            Method::GET,
            "/api/v1/resources?q=printing",
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(titles(&staff_found).len(), 2);
    // A search pages: one at a time, the same two in the same order, then none.
    let mut paged = Vec::new();
    for offset in 0..3 {
        let (status, page) = app
            .call(
                Method::GET,
                &format!("/api/v1/resources?q=printing&limit=1&offset={offset}"),
                Some(&writer),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        paged.extend(titles(&page).into_iter().map(str::to_string));
    }
    assert_eq!(paged, titles(&staff_found));
    // Its results end after its best 1,000; a listing without words pages further.
    let (status, refused) = app
        .call(
            Method::GET,
            "/api/v1/resources?q=printing&offset=-1",
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.to_string().contains("offset"), "{refused}");
    for query in [
        "q=printing&limit=20&offset=990",
        "q=printing&offset=5000",
        "offset=5000",
    ] {
        let (status, page) = app
            .call(
                Method::GET,
                &format!("/api/v1/resources?{query}"),
                Some(&writer),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert!(titles(&page).is_empty(), "{query}: {page}");
    }
    let (_, customer_found) = app
        .call(
            Method::GET,
            "/api/v1/resources?q=printing",
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(
        titles(&customer_found),
        ["Jobs stop printing after an update"]
    );
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/resources/{internal_id}"),
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Revising: the revision is the ETag; an edit based on an old one is refused.
    let translation = format!("{location}/translations/en");
    let revise = |revision: &'static str, body: &'static str| {
        let app = &app;
        let translation = translation.clone();
        let writer = writer.clone();
        async move {
            app.request(
                Method::PUT,
                &translation,
                Some(&writer),
                Some(json!({ "title": "Jobs stop printing after an update", "body": body })),
                &[("If-Match", revision)],
            )
            .await
        }
    };
    let response = revise("\"1\"", "Restart the print spooler.\n\nResubmit the jobs.").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let response = revise("\"1\"", "Something else.").await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let (_, revisions) = app
        .call(
            Method::GET,
            &format!("{translation}/revisions"),
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(revisions.as_array().unwrap().len(), 2);
    let (status, diff) = app
        .call(
            Method::GET,
            &format!("{translation}/diff?from=1&to=2"),
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    assert!(
        diff["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|line| line["change"] == "added" && line["text"] == "Resubmit the jobs.")
    );
    let (status, _) = app
        .call(
            Method::GET,
            &format!("{translation}/revisions"),
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}

/// Writes and publishes an entry over the API as `reviewer`; its id.
async fn published(app: &TestApp, reviewer: &str, entry: Value) -> i64 {
    let (status, created) = app
        .call(
            Method::POST,
            "/api/v1/resources",
            Some(reviewer),
            Some(entry),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let language = created["translations"][0]["language"].as_str().unwrap();
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/resources/{id}/translations/{language}/actions"),
            Some(reviewer),
            Some(json!({ "action": "publish" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    id
}

/// The resource center's pages: anyone signed out searches and reads the public entries in
/// their language, the words found marked and the article's HTML safe; a customer signed
/// in finds the customers' entries too, never the internal ones; the new-ticket form asks
/// for suggestions as the customer types, and gets them.
pub async fn the_resource_center_pages(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let (_, reviewer) = app
        .staff("lead@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    app.customer("ACME", "gold", "emea").await;
    let entry = |visibility: &str, language: &str, title: &str, body: &str| {
        json!({
            "kind": "article",
            "product_line": "ol-connect",
            "visibility": visibility,
            "translation": { "language": language, "title": title, "body": body },
        })
    };
    let public = published(
        &app,
        &reviewer,
        entry(
            "public",
            "en",
            "Invoices stop printing after an update",
            "Restart the **print spooler**, then resubmit the invoices.\n\n<img src=x onerror=alert(1)>",
        ),
    )
    .await;
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/resources/{public}/translations"),
            Some(&reviewer),
            Some(json!({
                "language": "fr",
                "title": "Les factures ne s'impriment plus après une mise à jour",
                "body": "Redémarrez le spouleur d'impression.",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.call(
        Method::POST,
        &format!("/api/v1/resources/{public}/translations/fr/actions"),
        Some(&reviewer),
        Some(json!({ "action": "publish" })),
    )
    .await;
    published(
        &app,
        &reviewer,
        entry(
            "customers",
            "en",
            "Printing invoices in batches",
            "Use a **printing** job preset.",
        ),
    )
    .await;
    published(
        &app,
        &reviewer,
        entry(
            "internal",
            "en",
            "Printing: the engineers' workaround",
            "Patch the printing driver.",
        ),
    )
    .await;

    // Signed out.
    let mut visitor = Visitor::new(&app);
    let center = visitor.get("/resources?q=printed").await;
    assert_eq!(center.status, StatusCode::OK, "{}", center.body);
    assert!(
        center
            .body
            .contains("Invoices stop printing after an update")
    );
    assert!(
        center
            .body
            .contains("Restart the <mark>print</mark> spooler"),
        "{}",
        center.body
    );
    assert!(
        !center.body.contains("in batches"),
        "customers' entries need a sign-in"
    );
    assert!(!center.body.contains("workaround"));
    assert!(!center.body.contains("rel=\"prev\""), "one page");
    // A later page: nothing more here, and the way back with the words kept.
    let later = visitor.get("/resources?q=printed&offset=30").await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
    assert!(!later.body.contains("Invoices stop printing"));
    assert!(
        later
            .body
            .contains("<a href=\"/resources?q=printed\" rel=\"prev\">Previous page</a>"),
        "{}",
        later.body
    );
    let refused = visitor.get("/resources?q=printed&offset=-1").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("offset"), "{}", refused.body);
    let read = visitor.get(&format!("/resources/{public}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.body.contains("<strong>print spooler</strong>"));
    assert!(!read.body.contains("onerror"));
    assert!(
        read.body.contains("hreflang=\"fr\""),
        "the French translation is linked"
    );
    let french = visitor
        .get(&format!("/resources/{public}?language=fr"))
        .await;
    assert!(french.body.contains("<article lang=\"fr\">"));
    assert!(french.body.contains("spouleur"));
    let refused = visitor.get("/resources?kind=teapot").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    // A customer's contact, signed in.
    let mut anna = Visitor::new(&app);
    anna.sign_in("contact@acme.example").await;
    let center = anna.get("/resources?q=printing").await;
    assert!(
        center.body.contains("Printing invoices in batches"),
        "{}",
        center.body
    );
    assert!(!center.body.contains("workaround"));
    let form = anna.get("/portal/tickets/new").await;
    assert!(form.body.contains("hx-get=\"/resources/suggestions\""));
    assert!(form.body.contains("id=\"suggestions\""));
    let suggested = anna
        .get("/resources/suggestions?subject=invoices+not+printing&description=since+the+update")
        .await;
    assert_eq!(suggested.status, StatusCode::OK);
    assert!(
        suggested
            .body
            .contains("Invoices stop printing after an update"),
        "{}",
        suggested.body
    );
    assert!(!suggested.body.contains("<html"), "a part of the page");
    let nothing = anna
        .get("/resources/suggestions?subject=&description=")
        .await;
    assert!(nothing.body.trim().is_empty(), "{}", nothing.body);
    app.stop().await;
}

/// Keeping the center useful: readers say whether an entry helped (signed out too, over
/// the API and the page), writers read the counts and comments; customers' searches that
/// found nothing are counted for the writers, staff's are not; an entry whose releases all
/// left support is flagged.
pub async fn the_resource_center_is_kept_up(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    for (version, position) in [("2024.1", 1), ("2025.1", 2), ("2026.1", 3)] {
        app.store
            .add_release(&caredesk_store::NewRelease {
                product_line: "ol-connect".into(),
                version: version.into(),
                kind: "major".into(),
                released_on: jiff::civil::date(2024 + position as i16 - 1, 3, 1),
                download_url: None,
                sha256: None,
                notes: Default::default(),
            })
            .await
            .unwrap();
    }
    let (_, reviewer) = app
        .staff("lead@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, _, contact) = app.customer("ACME", "gold", "emea").await;
    let article = |releases: Value, title: &str| {
        json!({
            "kind": "article",
            "product_line": "ol-connect",
            "releases": releases,
            "visibility": "public",
            "translation": { "language": "en", "title": title, "body": "Restart the spooler." },
        })
    };
    let old = published(
        &app,
        &reviewer,
        article(json!(["2024.1"]), "Old spooler fix"),
    )
    .await;
    let current = published(
        &app,
        &reviewer,
        article(json!(["2024.1", "2026.1"]), "Current spooler fix"),
    )
    .await;

    // Outdated: for staff only.
    let (_, read) = app
        .call(
            Method::GET,
            &format!("/api/v1/resources/{old}"),
            Some(&reviewer),
            None,
        )
        .await;
    assert_eq!(read["outdated"], true);
    let (_, read) = app
        .call(
            Method::GET,
            &format!("/api/v1/resources/{current}"),
            Some(&reviewer),
            None,
        )
        .await;
    assert_eq!(read["outdated"], false);
    let (_, read) = app
        .call(
            Method::GET,
            &format!("/api/v1/resources/{old}"),
            Some(&contact),
            None,
        )
        .await;
    assert!(read.get("outdated").is_none(), "{read}");

    // Feedback, signed out and signed in; a comment past its bound is refused by name.
    let feedback = format!("/api/v1/resources/{current}/feedback");
    let (status, _) = app
        .call(
            Method::POST,
            &feedback,
            None,
            Some(json!({ "language": "en", "helpful": true })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, problem) = app
        .call(
            Method::POST,
            &feedback,
            Some(&contact),
            Some(json!({ "language": "en", "helpful": false, "comment": "x".repeat(2001) })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "comment", "{problem}");
    app.call(
        Method::POST,
        &feedback,
        Some(&contact),
        Some(json!({ "language": "en", "helpful": false, "comment": "Which spooler?" })),
    )
    .await;
    let (status, _) = app
        .call(
            Method::POST,
            &feedback,
            None,
            Some(json!({ "language": "fr", "helpful": true })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no French translation");
    // A visitor's page form, with the visitor's token.
    let mut visitor = crate::pages::Visitor::new(&app);
    let page = visitor.get(&format!("/resources/{current}")).await;
    assert!(page.body.contains("Was this helpful?"), "{}", page.body);
    let sent = visitor
        .post(
            &format!("/resources/{current}/feedback"),
            &[
                ("csrf", &page.csrf()),
                ("language", "en"),
                ("helpful", "0"),
                ("comment", "Screenshots, please"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let thanked = visitor.get(sent.location()).await;
    assert!(thanked.body.contains("Thank you"));
    let forged = visitor
        .post(
            &format!("/resources/{current}/feedback"),
            &[("csrf", "forged"), ("language", "en"), ("helpful", "1")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let (status, _) = app.call(Method::GET, &feedback, Some(&contact), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, said) = app
        .call(Method::GET, &feedback, Some(&reviewer), None)
        .await;
    assert_eq!(
        (said["helpful"].as_i64(), said["not_helpful"].as_i64()),
        (Some(1), Some(2))
    );
    let comments: Vec<&str> = said["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|comment| comment["comment"].as_str().unwrap())
        .collect();
    assert_eq!(comments.len(), 2, "{said}");
    assert!(comments.contains(&"Screenshots, please") && comments.contains(&"Which spooler?"));

    // Searches that found nothing: the customers' and visitors' are counted, once per
    // wording; staff's are not.
    for (who, words) in [
        (Some(contact.as_str()), "Licence%20TRANSFER"),
        (None, "licence%20transfer"),
        (Some(reviewer.as_str()), "staff%20only%20words"),
        (None, "spooler"),
        // A filter to blame, or no word to look for: not counted.
        (None, "licence%20transfer&product_line=planetpress-suite"),
        (None, "...%20!!"),
    ] {
        let (status, _) = app
            .call(
                Method::GET,
                &format!("/api/v1/resources?q={words}"),
                who,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let page = visitor.get("/resources?q=activation+codes").await;
    assert_eq!(page.status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::GET,
            "/api/v1/resources/missed-searches",
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, missed) = app
        .call(
            Method::GET,
            "/api/v1/resources/missed-searches",
            Some(&reviewer),
            None,
        )
        .await;
    let missed: Vec<(&str, i64)> = missed
        .as_array()
        .unwrap()
        .iter()
        .map(|search| {
            (
                search["query"].as_str().unwrap(),
                search["times"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(missed, [("licence transfer", 2), ("activation codes", 1)]);

    // The writers' corner of the page.
    let mut writer = crate::pages::Visitor::new(&app);
    writer.sign_in("lead@desk.example").await;
    let page = writer.get(&format!("/resources/{old}")).await;
    assert!(page.body.contains("has left support"), "{}", page.body);
    let page = writer.get(&format!("/resources/{current}")).await;
    assert!(page.body.contains("Screenshots, please"));
    assert!(!page.body.contains("has left support"));
    app.stop().await;
}

/// The writers' console: a support manager writes an entry through the pages (refusals
/// beside their fields), publishes it, revises it (an edit based on an old revision is
/// refused and the text kept), compares two revisions and adds a language; an advisor may
/// ask for a review but not publish; customers are kept out.
pub async fn the_writers_console(backend: Backend) {
    use crate::pages::{Visitor, hidden};

    let app = TestApp::start(backend, crate::support::limits()).await;
    app.staff("lead@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    app.staff("writer@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    app.customer("ACME", "gold", "emea").await;
    let mut customer = Visitor::new(&app);
    customer.sign_in("contact@acme.example").await;
    assert_eq!(
        customer.get("/console/resources").await.status,
        StatusCode::FORBIDDEN
    );
    // A customer's search that finds nothing shows up for the writers.
    customer.get("/resources?q=licence+transfer").await;

    let mut lead = Visitor::new(&app);
    lead.sign_in("lead@desk.example").await;
    let list = lead.get("/console/resources").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("licence transfer"), "{}", list.body);
    let form = lead.get("/console/resources/new").await;
    let csrf = form.csrf();
    let fields = |title: &str, url: &str| {
        vec![
            ("csrf".to_string(), csrf.clone()),
            ("kind".into(), "article".into()),
            ("visibility".into(), "public".into()),
            ("product_line".into(), "ol-connect".into()),
            ("releases".into(), String::new()),
            ("tags".into(), "printing, Spooler".into()),
            ("url".into(), url.into()),
            ("language".into(), "en".into()),
            ("title".into(), title.into()),
            (
                "body".into(),
                "Restart the spooler.\nThen print again.".into(),
            ),
        ]
    };
    let sent = fields(" ", "https://docs.example/x");
    let borrowed: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = lead.post("/console/resources", &borrowed).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"title-error\"") && refused.body.contains("id=\"url-error\""),
        "{}",
        refused.body
    );
    let sent = fields("Jobs wait in the spooler", "");
    let borrowed: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let created = lead.post("/console/resources", &borrowed).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let entry = created.location().to_string();
    let page = lead.get(&entry).await;
    assert!(
        page.body.contains("Draft") && page.body.contains("value=\"publish\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("value=\"printing, spooler\""),
        "tags kept lower-cased"
    );

    // An advisor asks for a review; only a reviewer publishes.
    let mut writer = Visitor::new(&app);
    writer.sign_in("writer@desk.example").await;
    let page = writer.get(&entry).await;
    assert!(page.body.contains("value=\"submit\"") && !page.body.contains("value=\"publish\""));
    let page = lead.get(&entry).await;
    let published = lead
        .post(
            &format!("{entry}/translations/en/review"),
            &[("csrf", &page.csrf()), ("action", "publish")],
        )
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER);
    assert!(lead.get(&entry).await.body.contains("Published"));
    let id = entry.rsplit('/').next().unwrap();
    let public = Visitor::new(&app).get(&format!("/resources/{id}")).await;
    assert!(public.body.contains("Jobs wait in the spooler"));

    // Revising: an old revision is refused and the text kept; a diff shows what changed.
    let text = format!("{entry}/translations/en");
    let page = lead.get(&text).await;
    assert_eq!(hidden(&page.body, "revision"), "1");
    let saved = lead
        .post(
            &text,
            &[
                ("csrf", &page.csrf()),
                ("revision", "1"),
                ("title", "Jobs wait in the spooler"),
                ("body", "Restart the spooler service.\nThen print again."),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stale = lead
        .post(
            &text,
            &[
                ("csrf", &page.csrf()),
                ("revision", "1"),
                ("title", "Jobs wait in the spooler"),
                ("body", "My concurrent edit."),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.body.contains("My concurrent edit."), "{}", stale.body);
    let page = lead.get(&text).await;
    assert!(page.body.contains("diff?from=1&amp;to=2"), "{}", page.body);
    let diff = lead.get(&format!("{text}/diff?from=1&to=2")).await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.body);
    assert!(
        diff.body.contains("<del>- Restart the spooler.</del>"),
        "{}",
        diff.body
    );
    assert!(
        diff.body
            .contains("<ins>+ Restart the spooler service.</ins>")
    );

    // Another language.
    let page = lead.get(&entry).await;
    let added = lead
        .post(
            &format!("{entry}/translations"),
            &[
                ("csrf", &page.csrf()),
                ("language", "fr"),
                ("title", "Les travaux attendent dans le spouleur"),
                ("body", "Redémarrez le spouleur."),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(added.location(), format!("{entry}/translations/fr"));
    let list = lead.get("/console/resources?language=fr&state=draft").await;
    assert!(list.body.contains("Les travaux attendent dans le spouleur"));
    assert!(!list.body.contains(">Jobs wait in the spooler<"));
    app.stop().await;
}

/// Advisors and the resource center: the link picker beside a reply offers published
/// entries customers may read with their absolute link; a reply that links one counts the
/// ticket among those the entry helped, solved once the customer accepts; the accepted
/// solution becomes a draft article for customers, with a reminder to take the customer out.
pub async fn advisors_link_and_share_articles(backend: Backend) {
    use crate::pages::Visitor;

    let app = TestApp::start(backend, crate::support::limits()).await;
    let (_, advisor) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, _, contact) = app.customer("ACME", "gold", "emea").await;
    let entry = |visibility: &str, title: &str| {
        json!({
            "kind": "article",
            "product_line": "ol-connect",
            "visibility": visibility,
            "translation": { "language": "en", "title": title, "body": "Restart the spooler service." },
        })
    };
    let (_, reviewer) = app
        .staff("lead@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let article = published(&app, &reviewer, entry("customers", "Restart the spooler")).await;
    published(&app, &reviewer, entry("internal", "Spooler internals")).await;

    // The picker: published, not internal, with the link to put in the reply.
    let mut console = Visitor::new(&app);
    console.sign_in("anna@desk.example").await;
    let picked = console
        .get("/console/resources/links?target=write-body&q=spooler")
        .await;
    assert_eq!(picked.status, StatusCode::OK, "{}", picked.body);
    let link = format!("{}/resources/{article}?language=en", app.base);
    assert!(
        picked
            .body
            .contains(&format!("[Restart the spooler]({link})")),
        "{}",
        picked.body
    );
    assert!(picked.body.contains("data-target=\"write-body\""));
    assert!(!picked.body.contains("Spooler internals"));

    // A reply linking it counts the ticket; the accepted solution counts it as solved.
    let (status, ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(crate::support::portal_ticket("ACME", "P3")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_i64().unwrap();
    let actions = format!("/api/v1/tickets/{id}/actions");
    let (status, _) = app
        .call(
            Method::POST,
            &actions,
            Some(&advisor),
            Some(json!({ "action": "reply", "body": format!("Please follow [Restart the spooler]({link}).") })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let resource = format!("/api/v1/resources/{article}");
    let (_, read) = app.call(Method::GET, &resource, Some(&advisor), None).await;
    assert_eq!(
        read["tickets_helped"],
        json!({ "linked": 1, "solved": 0 }),
        "{read}"
    );
    let (_, read) = app.call(Method::GET, &resource, Some(&contact), None).await;
    assert!(read.get("tickets_helped").is_none());

    let (status, refused) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{id}/article"),
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    app.call(
        Method::POST,
        &actions,
        Some(&advisor),
        Some(json!({ "action": "propose_solution", "resolution": { "type": "workaround" }, "body": "Restart the spooler service nightly." })),
    )
    .await;
    let (status, _) = app
        .call(
            Method::POST,
            &actions,
            Some(&contact),
            Some(json!({ "action": "accept_solution" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, read) = app.call(Method::GET, &resource, Some(&advisor), None).await;
    assert_eq!(read["tickets_helped"], json!({ "linked": 1, "solved": 1 }));

    // The solution becomes a draft, from the ticket's page.
    let page = console.get(&format!("/console/tickets/{id}")).await;
    assert!(
        page.body.contains("Turn this solution into an article"),
        "{}",
        page.body
    );
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{id}/article"),
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let started = console
        .post(
            &format!("/console/tickets/{id}/article"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let draft = console.get(started.location()).await;
    assert!(
        draft.body.contains("Take out the customer"),
        "{}",
        draft.body
    );
    assert!(draft.body.contains("Restart the spooler service nightly."));
    assert!(draft.body.contains("Invoices stopped printing"));
    assert!(draft.body.contains("Draft"));
    app.stop().await;
}

/// A new ticket keeps what the resource center suggested beside its form: over the API
/// (only what the customer may read, at most ten) and from the portal's form, where the
/// suggestions' part of the page says what it showed; the advisor reads them on the ticket.
pub async fn a_ticket_keeps_the_suggestions_shown(backend: Backend) {
    use crate::pages::{Visitor, first_product, hidden, multipart};

    let app = TestApp::start(backend, crate::support::limits()).await;
    let (_, reviewer) = app
        .staff("lead@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, _, contact) = app.customer("ACME", "gold", "emea").await;
    let entry = |visibility: &str, title: &str| {
        json!({
            "kind": "article",
            "product_line": "ol-connect",
            "visibility": visibility,
            "translation": { "language": "en", "title": title, "body": "Restart the print spooler." },
        })
    };
    let public = published(&app, &reviewer, entry("public", "Invoices stop printing")).await;
    let internal = published(&app, &reviewer, entry("internal", "Spooler internals")).await;

    let mut form = crate::support::portal_ticket("ACME", "P3");
    form["suggestions_shown"] = json!([{ "kind": "entry", "id": internal, "language": "en" }]);
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(form.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "suggestions_shown");
    form["suggestions_shown"] = json!([{ "kind": "entry", "id": public, "language": "en" }]);
    let (status, ticket) = app
        .call(Method::POST, "/api/v1/tickets", Some(&contact), Some(form))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let shown = format!("/api/v1/tickets/{}/suggestions-shown", ticket["id"]);
    let (status, _) = app.call(Method::GET, &shown, Some(&contact), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, listed) = app.call(Method::GET, &shown, Some(&reviewer), None).await;
    assert_eq!(
        listed,
        json!([{ "kind": "entry", "id": public, "language": "en", "title": "Invoices stop printing" }])
    );

    // The portal: the suggestions say what they showed; the ticket keeps it.
    let mut customer = Visitor::new(&app);
    customer.sign_in("contact@acme.example").await;
    let suggested = customer
        .get("/resources/suggestions?subject=invoices+printing&description=")
        .await;
    let said = hidden(&suggested.body, "suggestions_shown");
    assert_eq!(said, format!("entry:{public}:en"));
    assert!(suggested.body.contains("form=\"new-ticket\""));
    let page = customer.get("/portal/tickets/new").await;
    assert!(page.body.contains("id=\"new-ticket\""));
    let opened = customer
        .post_multipart(
            "/portal/tickets",
            multipart(&[
                ("csrf", &page.csrf()),
                ("form_key", &hidden(&page.body, "form_key")),
                ("product", &first_product(&page.body)),
                ("severity", "P3"),
                ("subject", "Invoices do not print"),
                ("description", "Nothing leaves the queue."),
                ("business_impact", "Invoices are late"),
                (
                    "suggestions_shown",
                    &format!("{said},entry:{internal}:en,junk"),
                ),
            ]),
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let id = opened.location().trim_start_matches("/portal/tickets/");
    let id = id.split('?').next().unwrap();
    let mut lead = Visitor::new(&app);
    lead.sign_in("lead@desk.example").await;
    let workspace = lead.get(&format!("/console/tickets/{id}")).await;
    // One suggestion the customer could not have read: none of the list is kept.
    assert!(
        !workspace.body.contains("the customer was shown"),
        "{}",
        workspace.body
    );
    let opened = customer
        .post_multipart(
            "/portal/tickets",
            multipart(&[
                ("csrf", &page.csrf()),
                ("form_key", "another-form"),
                ("product", &first_product(&page.body)),
                ("severity", "P3"),
                ("subject", "Invoices still do not print"),
                ("description", "Nothing leaves the queue."),
                ("business_impact", "Invoices are late"),
                ("suggestions_shown", &said),
            ]),
        )
        .await;
    let id = opened.location().trim_start_matches("/portal/tickets/");
    let id = id.split('?').next().unwrap();
    let workspace = lead.get(&format!("/console/tickets/{id}")).await;
    assert!(
        workspace.body.contains("the customer was shown"),
        "{}",
        workspace.body
    );
    assert!(
        workspace
            .body
            .contains(&format!("/resources/{public}?language=en"))
    );
    app.stop().await;
}
