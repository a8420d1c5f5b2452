//! Staff find tickets by the words written in them: over the API and on the console's page.

use caredesk_domain::ticket::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::pages::Visitor;
use crate::support::{Backend, TestApp, portal_ticket};

pub async fn staff_search_tickets_by_their_words(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let (_, advisor) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, _, acme) = app.customer("ACME", "gold", "emea").await;
    let (_, _, globex) = app.customer("GLOBEX", "gold", "emea").await;
    let invoices = crate::open(&app, &acme, portal_ticket("ACME", "P3")).await;
    let mut letters = portal_ticket("GLOBEX", "P3");
    letters["subject"] = json!("Mail merge fails");
    letters["description"] = json!("The letters come out empty.");
    let letters = crate::open(&app, &globex, letters).await;
    crate::act(
        &app,
        &advisor,
        letters,
        json!({ "action": "note", "body": "Their PostScript driver is damaged." }),
    )
    .await;
    let search = |query: &str, token: &str| {
        let path = format!("/api/v1/tickets/search?{query}");
        let token = token.to_string();
        let app = &app;
        async move { app.call(Method::GET, &path, Some(&token), None).await }
    };
    let ids = |body: &Value| -> Vec<i64> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|result| result["id"].as_i64().unwrap())
            .collect()
    };

    // Words of a subject and description, in another form.
    let (status, body) = search("q=printed%20INVOICE", &advisor).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), vec![invoices], "{body}");
    let result = &body["results"][0];
    assert_eq!(result["event_kind"], "created");
    assert_eq!(result["event_seq"], 1);
    assert_eq!(result["subject"], "Invoices stopped printing");
    let marked: Vec<&str> = result["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|piece| piece["matched"] == true)
        .map(|piece| piece["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        marked,
        vec!["Invoices", "printing", "invoice", "print"],
        "{result}"
    );
    assert_eq!(body["next"], Value::Null);

    // An internal note, said to be one.
    let (status, body) = search("q=postscript", &advisor).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), vec![letters], "{body}");
    assert_eq!(body["results"][0]["event_kind"], "internal_note");
    assert_eq!(body["results"][0]["public"], false);

    // Customers search their own tickets on the portal: this one reads internal notes.
    let (status, body) = search("q=postscript", &acme).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(!body.to_string().contains("Mail merge"), "{body}");

    // Bad input names its field (a missing one, the query's, saying which).
    for (query, field) in [
        ("limit=5", "query"),
        ("q=", "q"),
        ("q=printer&limit=0", "limit"),
        ("q=printer&before=0", "before"),
    ] {
        let (status, problem) = search(query, &advisor).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let (_, problem) = search("limit=5", &advisor).await;
    assert!(problem.to_string().contains("`q`"), "{problem}");
    let (status, problem) = search(&format!("q={}", "a".repeat(501)), &advisor).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "q", "{problem}");

    // The console's page: each ticket found, where the words were, the words marked.
    let mut anna = Visitor::new(&app);
    anna.sign_in("anna@desk.example").await;
    let page = anna.get("/console/search?q=postscript+drivers").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("<a href=\"/console/tickets/{letters}#event-")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Mail merge fails"), "{}", page.body);
    assert!(
        page.body.contains("<mark>PostScript driver</mark>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Internal note"), "{}", page.body);
    assert!(
        !page.body.contains("Invoices stopped printing"),
        "{}",
        page.body
    );
    let nothing = anna.get("/console/search?q=stapler").await;
    assert!(
        nothing
            .body
            .contains("No ticket text holds all these words.")
    );
    let empty = anna.get("/console/search").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(!empty.body.contains("Tickets found"));
    // A customer's contact is not let in.
    let mut contact = Visitor::new(&app);
    contact.sign_in("contact@acme.example").await;
    let refused = contact.get("/console/search?q=postscript").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains("Mail merge"));
    app.stop().await;
}
