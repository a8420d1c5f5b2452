//! The policy at work over HTTP: professional-services requests, supplied details, the
//! managers' and CSMs' views, availability and the on-call rota, the explanation of a
//! ticket, and a changed policy file changing the rules with no code change.

use caredesk_domain::policy::{DEFAULT_POLICY_TOML, Policy};
use caredesk_domain::ticket::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{self, Backend, TestApp, portal_ticket};

fn flag_names(ticket: &Value) -> Vec<&str> {
    ticket["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|flag| flag["flag"].as_str().unwrap())
        .collect()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// POLICY.md §3: custom programming outside the native languages is a professional-services
/// request with its own states, visible to its customer only, never a ticket.
pub async fn professional_services_requests_have_their_own_life(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (_, _, contact) = app.customer("PS", "gold", "emea").await;
    let (_, _, stranger) = app.customer("OTHER", "gold", "emea").await;
    let (_, advisor) = app
        .staff("ana@desk.example", Role::Advisor, "emea", &["en"])
        .await;

    let mut python = portal_ticket("PS", "P3");
    python["programming_language"] = json!("Python");
    let first = app
        .request(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(python.clone()),
            &[("Idempotency-Key", "ps-1")],
        )
        .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let location = first.headers()["location"].to_str().unwrap().to_string();
    let request = support::json_of(first).await;
    let id = request["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/service-requests/{id}"));
    assert_eq!(request["state"], "requested");
    assert_eq!(request["programming_language"], "Python");
    assert!(
        request["reason"]
            .as_str()
            .unwrap()
            .contains("professional-services"),
        "{request}"
    );
    assert_eq!(
        request["allowed_actions"],
        json!(["decline"]),
        "it may be withdrawn"
    );
    // A retry is the same request, and no ticket was opened.
    let retry = app
        .request(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(python),
            &[("Idempotency-Key", "ps-1")],
        )
        .await;
    assert_eq!(retry.status(), StatusCode::ACCEPTED);
    assert_eq!(support::json_of(retry).await["id"], json!(id));
    // The same key for another request is a conflict, whichever kind of record it made.
    let reused = app
        .request(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("PS", "P3")),
            &[("Idempotency-Key", "ps-1")],
        )
        .await;
    assert_eq!(reused.status(), StatusCode::CONFLICT);
    let (_, queue) = app
        .call(Method::GET, "/api/v1/queue", Some(&contact), None)
        .await;
    assert_eq!(ids(&queue), Vec::<i64>::new());
    // A native language is support's own work: a ticket.
    let mut javascript = portal_ticket("PS", "P3");
    javascript["programming_language"] = json!("JavaScript");
    let (status, ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(javascript),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");

    let path = format!("/api/v1/service-requests/{id}");
    let actions = format!("{path}/actions");
    let (status, _) = app.call(Method::GET, &path, Some(&stranger), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another organisation's");
    let (status, _) = app
        .call(
            Method::POST,
            &actions,
            Some(&contact),
            Some(json!({ "action": "quote", "quote": "free" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customers do not quote");
    let (status, _) = app
        .call(
            Method::POST,
            &actions,
            Some(&advisor),
            Some(json!({ "action": "quote", "quote": " " })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, quoted) = app
        .call(
            Method::POST,
            &actions,
            Some(&advisor),
            Some(json!({ "action": "quote", "quote": "3 days, 2,400 EUR" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{quoted}");
    assert_eq!(quoted["state"], "quoted");
    assert_eq!(quoted["version_number"], 2);
    let stale = app
        .request(
            Method::POST,
            &actions,
            Some(&contact),
            Some(json!({ "action": "accept" })),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let (_, seen) = app.call(Method::GET, &path, Some(&contact), None).await;
    assert_eq!(seen["allowed_actions"], json!(["accept", "decline"]));
    let (status, accepted) = app
        .call(
            Method::POST,
            &actions,
            Some(&contact),
            Some(json!({ "action": "accept" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["state"], "accepted");
    let (status, problem) = app
        .call(
            Method::POST,
            &actions,
            Some(&contact),
            Some(json!({ "action": "decline", "reason": "changed our mind" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["state"], "accepted");
    assert_eq!(problem["allowed_actions"], json!([]));

    let (_, mine) = app
        .call(
            Method::GET,
            "/api/v1/service-requests",
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (_, theirs) = app
        .call(
            Method::GET,
            "/api/v1/service-requests",
            Some(&stranger),
            None,
        )
        .await;
    assert_eq!(theirs, json!([]));
    let (_, accepted_only) = app
        .call(
            Method::GET,
            "/api/v1/service-requests?state=accepted",
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(accepted_only.as_array().unwrap().len(), 1);
    let (status, problem) = app
        .call(
            Method::GET,
            "/api/v1/service-requests?state=done",
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "state");
    app.stop().await;
}

/// POLICY.md §3: a phone ticket recorded with gaps is completed later, by the customer
/// answering the advisor's request; `explain-ticket`'s API twin says what applied and why.
pub async fn supplied_details_complete_a_ticket_and_the_explanation_says_why(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    app.publish_catalog().await;
    let (customer_id, _, contact) = app.customer("PH", "standard", "emea").await;
    let (_, _, stranger) = app.customer("OTHER", "standard", "emea").await;
    let (advisor_id, advisor) = app
        .staff("ana@desk.example", Role::Advisor, "emea", &["en"])
        .await;

    let mut phone = portal_ticket("PH", "P2");
    phone["channel"] = json!("phone");
    phone["customer_id"] = json!(customer_id);
    phone["business_impact"] = json!("");
    let (status, ticket) = app
        .call(Method::POST, "/api/v1/tickets", Some(&advisor), Some(phone))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(flag_names(&ticket), ["incomplete"]);
    let id = ticket["id"].as_i64().unwrap();
    let actions = format!("/api/v1/tickets/{id}/actions");
    let (status, problem) = app
        .call(
            Method::GET,
            "/api/v1/queue?flag=incomplete&state=new",
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{problem}");
    assert_eq!(ids(&problem), [id]);

    app.set_time("2026-11-23T11:00:00+01:00");
    app.call(
        Method::POST,
        &actions,
        Some(&advisor),
        Some(json!({ "action": "request_from_customer", "request": "information", "body": "What does it cost you?" })),
    )
    .await;
    app.set_time("2026-11-23T14:00:00+01:00");
    let (status, problem) = app
        .call(
            Method::POST,
            &actions,
            Some(&contact),
            Some(json!({ "action": "supply_details", "details": { "serial": "SN-9" } })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "details");
    let (status, completed) = app
        .call(
            Method::POST,
            &actions,
            Some(&contact),
            Some(json!({ "action": "supply_details", "details": { "business_impact": "Late invoices, 40 k EUR a day" } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{completed}");
    assert_eq!(flag_names(&completed), Vec::<&str>::new());
    assert_eq!(
        completed["details"]["business_impact"],
        "Late invoices, 40 k EUR a day"
    );
    assert_eq!(
        completed["state"], "in_progress",
        "the answer resumes the clocks"
    );
    let (_, queue) = app
        .call(
            Method::GET,
            "/api/v1/queue?flag=incomplete",
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(ids(&queue), Vec::<i64>::new());

    // P2's update cadence is the policy's, not the ticket's to negotiate.
    let (status, problem) = app
        .call(
            Method::POST,
            &actions,
            Some(&advisor),
            Some(json!({ "action": "agree_update_cadence", "every": "3d", "note": "agreed by phone" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "every");

    let path = format!("/api/v1/tickets/{id}/explanation");
    let (status, explanation) = app.call(Method::GET, &path, Some(&advisor), None).await;
    assert_eq!(status, StatusCode::OK, "{explanation}");
    let rules = explanation["rules"].as_array().unwrap();
    let rule = |topic: &str| {
        rules
            .iter()
            .find(|rule| rule["topic"] == topic)
            .unwrap_or_else(|| panic!("no {topic} rule in {explanation}"))
    };
    assert_eq!(rule("program")["decision"], "worked under standard");
    assert_eq!(rule("language")["decision"], "handled in en");
    assert_eq!(
        rule("advisor")["decision"],
        format!("assigned to advisor {advisor_id}")
    );
    assert!(
        rule("advisor")["reason"]
            .as_str()
            .unwrap()
            .contains("lightest"),
        "{explanation}"
    );
    assert!(
        rule("calendar")["reason"]
            .as_str()
            .unwrap()
            .contains("Amsterdam"),
        "{explanation}"
    );
    assert_eq!(rule("flag")["decision"], "no longer incomplete");
    let clocks = explanation["clocks"].as_array().unwrap();
    assert_eq!(clocks.len(), 3, "first response, update, resolution");
    let resolution = &clocks[2];
    assert_eq!(resolution["clock"]["kind"], "resolution");
    assert!(
        resolution["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|step| step
                .as_str()
                .unwrap()
                .contains("paused: waiting on the customer")),
        "{resolution}"
    );
    let (status, _) = app.call(Method::GET, &path, Some(&contact), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "staff only");
    let (status, _) = app.call(Method::GET, &path, Some(&stranger), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another organisation's");
    app.stop().await;
}

/// POLICY.md §1, §7, §8: the CSM's view of its customers, the manager's views of escalations
/// and unanswered proposals, availability and the on-call rota.
pub async fn managers_and_csms_have_their_views(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (gold_id, _, gold) = app.customer("GOLD", "gold", "emea").await;
    let (standard_id, _, standard) = app.customer("STD", "standard", "emea").await;
    let (manager_id, manager) = app
        .staff("max@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (csm_id, csm) = app
        .staff(
            "cleo@desk.example",
            Role::CustomerSuccessManager,
            "emea",
            &["en"],
        )
        .await;
    let (first_id, first) = app
        .staff("ana@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (second_id, _) = app
        .staff("ben@desk.example", Role::Advisor, "emea", &["en"])
        .await;

    // A dedicated CSM for the gold customer; the standard program has none.
    let (status, problem) = app
        .call(
            Method::PUT,
            &format!("/api/v1/customers/{standard_id}/csm"),
            Some(&manager),
            Some(json!({ "csm_id": csm_id })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = app
        .call(
            Method::PUT,
            &format!("/api/v1/customers/{gold_id}/csm"),
            Some(&manager),
            Some(json!({ "csm_id": first_id })),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an advisor is no CSM: {problem}"
    );
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/customers/{gold_id}/csm"),
            Some(&csm),
            Some(json!({ "csm_id": csm_id })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "managers name CSMs");
    let (status, customer) = app
        .call(
            Method::PUT,
            &format!("/api/v1/customers/{gold_id}/csm"),
            Some(&manager),
            Some(json!({ "csm_id": csm_id })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{customer}");
    assert_eq!(customer["csm_id"], json!(csm_id));

    // The first advisor is away: assignment skips them.
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/staff/{second_id}/availability"),
            Some(&first),
            Some(json!({ "available": false })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "someone else's");
    let (status, member) = app
        .call(
            Method::PUT,
            &format!("/api/v1/staff/{first_id}/availability"),
            Some(&first),
            Some(json!({ "available": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{member}");
    assert_eq!(member["available"], false);
    let (_, gold_ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&gold),
            Some(portal_ticket("GOLD", "P3")),
        )
        .await;
    assert_eq!(gold_ticket["assignee_id"], json!(second_id));
    let (_, standard_ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&standard),
            Some(portal_ticket("STD", "P3")),
        )
        .await;
    let gold_ticket = gold_ticket["id"].as_i64().unwrap();
    let standard_ticket = standard_ticket["id"].as_i64().unwrap();

    // The CSM sees the tickets of the customers it looks after.
    let (_, mine) = app
        .call(
            Method::GET,
            &format!("/api/v1/queue?csm={csm_id}"),
            Some(&csm),
            None,
        )
        .await;
    assert_eq!(ids(&mine), [gold_ticket]);

    // The manager's view of escalations waiting for an answer.
    app.call(
        Method::POST,
        &format!("/api/v1/tickets/{standard_ticket}/actions"),
        Some(&standard),
        Some(json!({ "action": "request_escalation", "reason": "No news for days" })),
    )
    .await;
    let (_, escalated) = app
        .call(
            Method::GET,
            "/api/v1/queue?escalation_open=true",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(ids(&escalated), [standard_ticket]);
    let (_, unanswered) = app
        .call(
            Method::GET,
            "/api/v1/queue?consent_unanswered=true",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(ids(&unanswered), Vec::<i64>::new());
    let (status, problem) = app
        .call(Method::GET, "/api/v1/queue?flag=late", Some(&manager), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "flag");

    // The on-call rota.
    let shift = json!({
        "region": "emea",
        "staff_id": second_id,
        "starts_at": "2026-11-23T16:00:00Z",
        "ends_at": "2026-11-24T08:00:00Z",
    });
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/on-call",
            Some(&first),
            Some(shift.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "managers keep the rota");
    let mut backwards = shift.clone();
    backwards["ends_at"] = json!("2026-11-23T15:00:00Z");
    backwards["staff_id"] = json!(manager_id);
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/on-call",
            Some(&manager),
            Some(backwards),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["staff_id", "ends_at"]);
    let (status, added) = app
        .call(Method::POST, "/api/v1/on-call", Some(&manager), Some(shift))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["staff_name"], "ben");
    let (_, rota) = app
        .call(
            Method::GET,
            "/api/v1/on-call?region=emea",
            Some(&first),
            None,
        )
        .await;
    assert_eq!(rota.as_array().unwrap().len(), 1);
    let (status, _) = app
        .call(Method::GET, "/api/v1/on-call", Some(&gold), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "staff only");
    app.stop().await;
}

/// The policy is data: another holiday and another target in the file change the due
/// times, and the explanation names the new closure, with no code change.
pub async fn a_changed_policy_file_changes_the_rules(backend: Backend) {
    let edited = DEFAULT_POLICY_TOML
        .replacen(
            "[severities.P2]\nname = \"High\"\nmeaning = \"Production seriously degraded, key features unavailable\"\nresolution = \"3d\"",
            "[severities.P2]\nname = \"High\"\nmeaning = \"Production seriously degraded, key features unavailable\"\nresolution = \"1d\"",
            1,
        )
        .replacen(
            "[calendars.emea]\nname = \"EMEA office hours\"",
            "[calendars.emea]\nclosed_dates = [{ date = 2026-11-24, name = \"Office move\" }]\nname = \"EMEA office hours\"",
            1,
        );
    assert_ne!(edited, DEFAULT_POLICY_TOML, "the edits must apply");
    let policy = Policy::from_toml(&edited, "edited.toml").unwrap();
    for (policy, resolution_due, closure) in [
        (Policy::built_in().unwrap(), "2026-11-26T09:00:00Z", None),
        (policy, "2026-11-25T09:00:00Z", Some("holiday: Office move")),
    ] {
        let app = TestApp::start_with_policy(backend, support::limits(), policy).await;
        let (_, _, contact) = app.customer("STD", "standard", "emea").await;
        // Monday 2026-11-23 10:00 in Amsterdam.
        let (status, ticket) = app
            .call(
                Method::POST,
                "/api/v1/tickets",
                Some(&contact),
                Some(portal_ticket("STD", "P2")),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        assert_eq!(
            ticket["clocks"]["resolution"]["due_at"], resolution_due,
            "{ticket}"
        );
        let id = ticket["id"].as_i64().unwrap();
        let (_, explanation) = app
            .call(
                Method::GET,
                &format!("/api/v1/tickets/{id}/explanation"),
                Some(&app.admin),
                None,
            )
            .await;
        let steps = explanation["clocks"][1]["steps"].to_string();
        assert_eq!(explanation["clocks"][1]["clock"]["kind"], "resolution");
        match closure {
            Some(closure) => assert!(steps.contains(closure), "{steps}"),
            None => assert!(!steps.contains("Office move"), "{steps}"),
        }
        app.stop().await;
    }
}

/// POLICY.md §1: cover needs an accepted licence agreement. A contract made without it
/// refuses the portal's tickets and says how to accept it; the contact accepts it in the
/// portal (ticking that they read it), a manager records one given otherwise; who and when
/// are kept; an ended contract and a stranger are refused.
pub async fn a_licence_is_accepted_after_the_contract_is_made(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (manager_id, manager) = app
        .staff("max@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, advisor) = app
        .staff("ana@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, _, stranger) = app.customer("OTHER", "gold", "emea").await;
    let call = |path: String, body: Value, token: String| {
        let app = &app;
        async move {
            app.call(Method::POST, &path, Some(&token), Some(body))
                .await
        }
    };
    let (status, customer) = call(
        "/api/v1/customers".into(),
        json!({ "number": "LATE", "name": "Late Signers", "region": "emea", "language": "en" }),
        manager.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    let customer_id = customer["id"].as_i64().unwrap();
    let (status, _) = call(
        format!("/api/v1/customers/{customer_id}/contacts"),
        json!({ "name": "Lea Late", "email": "lea@late.example", "phone": "+31 20 555 0199",
                "language": "en", "designated": true, "password": support::PASSWORD }),
        manager.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let contract = |starts: &str, ends: &str| json!({ "program": "gold", "starts_on": starts, "ends_on": ends, "eula_accepted": false });
    let (status, ended) = call(
        format!("/api/v1/customers/{customer_id}/contracts"),
        contract("2024-01-01", "2025-12-31"),
        manager.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ended}");
    let (_, current) = call(
        format!("/api/v1/customers/{customer_id}/contracts"),
        contract("2026-01-01", "2027-12-31"),
        manager.clone(),
    )
    .await;
    assert_eq!(current["eula_accepted"], false);
    assert_eq!(current["eula_accepted_at"], Value::Null);
    let (_, next) = call(
        format!("/api/v1/customers/{customer_id}/contracts"),
        contract("2028-01-01", "2028-12-31"),
        manager.clone(),
    )
    .await;
    let (status, _) = call(
        format!("/api/v1/customers/{customer_id}/products"),
        json!({ "product_line": "ol-connect", "version": "2026.1", "serial": "SN-LATE" }),
        manager.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // The contact's ticket is refused, naming the contract and the remedy.
    let contact = app.sign_in("lea@late.example").await;
    let (status, refused) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("LATE", "P3")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(refused.to_string().contains("accept the licence agreement"));

    // In the portal, the refused form leads to the care page.
    let mut lea = crate::pages::Visitor::new(&app);
    lea.sign_in("lea@late.example").await;
    let form = lea.get("/portal/tickets/new").await;
    let csrf = form.csrf();
    let refused = lea
        .post_multipart(
            "/portal/tickets",
            crate::pages::multipart(&[
                ("csrf", &csrf),
                ("form_key", &crate::pages::hidden(&form.body, "form_key")),
                ("product", &crate::pages::first_product(&form.body)),
                ("severity", "P3"),
                ("subject", "Invoices stopped printing"),
                ("description", "The spooler stops."),
                ("business_impact", "Invoices are late"),
            ]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("licence agreement of your current care contract has not been accepted"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("href=\"/portal/care\""));
    let care = lea.get("/portal/care").await;
    assert_eq!(care.status, StatusCode::OK, "{}", care.body);
    assert!(care.body.contains("Your organisation is not covered today"));
    let current_id = current["id"].as_i64().unwrap();
    let accept_path = format!("/portal/care/{current_id}/accept");
    assert!(care.body.contains(&accept_path), "{}", care.body);
    assert!(
        !care
            .body
            .contains(&format!("/portal/care/{}/accept", ended["id"])),
        "an ended contract offers no acceptance"
    );
    // Without ticking that the agreement was read: refused, nothing recorded.
    let unticked = lea.post(&accept_path, &[("csrf", &care.csrf())]).await;
    assert_eq!(unticked.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unticked.body.contains("Tick the box"), "{}", unticked.body);
    let kept = app.store.contract(current_id).await.unwrap();
    assert!(!kept.eula_accepted);
    let accepted = lea
        .post(&accept_path, &[("csrf", &care.csrf()), ("agree", "yes")])
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let care = lea.get(accepted.location()).await;
    assert!(care.body.contains("The licence agreement is accepted"));
    assert!(care.body.contains("Your organisation is covered today"));
    assert!(care.body.contains("by Lea Late"), "{}", care.body);
    let kept = app.store.contract(current_id).await.unwrap();
    assert!(kept.eula_accepted);
    assert_eq!(kept.eula_accepted_at, Some(app.clock.now()));
    assert!(
        kept.eula_accepted_by
            .as_deref()
            .is_some_and(|by| by.starts_with("contact:")),
        "{kept:?}"
    );
    // Now covered: the same ticket opens.
    let (status, opened) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("LATE", "P3")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");

    // Over the API: a manager records the next contract's acceptance; accepting again
    // changes nothing; the ended one, an advisor and a stranger are refused.
    let accept = |id: &Value, token: &String| {
        let path = format!("/api/v1/contracts/{id}/licence-acceptance");
        let token = token.clone();
        let app = &app;
        async move { app.call(Method::POST, &path, Some(&token), None).await }
    };
    let (status, recorded) = accept(&next["id"], &manager).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["eula_accepted"], true);
    assert_eq!(recorded["eula_accepted_by"], format!("staff:{manager_id}"));
    let (status, again) = accept(&next["id"], &contact).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["eula_accepted_by"], format!("staff:{manager_id}"));
    let (status, refused) = accept(&ended["id"], &manager).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "contract", "{refused}");
    assert!(refused.to_string().contains("ended on 2025-12-31"));
    assert!(
        !app.store
            .contract(ended["id"].as_i64().unwrap())
            .await
            .unwrap()
            .eula_accepted
    );
    let (status, _) = accept(&ended["id"], &advisor).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = accept(&ended["id"], &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = accept(&json!(999_999), &manager).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The trail keeps both acceptances, by whom.
    let trail = app
        .store
        .audit_trail(&caredesk_store::AuditFilter {
            entity: Some("contract".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut acceptances: Vec<&str> = trail
        .iter()
        .filter(|entry| entry.action == "licence_accepted")
        .map(|entry| entry.actor.as_str())
        .collect();
    acceptances.sort_unstable();
    let by_manager = format!("staff:{manager_id}");
    assert_eq!(acceptances.len(), 2, "{trail:?}");
    assert!(acceptances[0].starts_with("contact:"));
    assert_eq!(acceptances[1], by_manager);

    // The console offers to record an acceptance given otherwise, contract by contract.
    let (_, pending) = call(
        format!("/api/v1/customers/{customer_id}/contracts"),
        contract("2029-01-01", "2029-12-31"),
        manager.clone(),
    )
    .await;
    let mut max = crate::pages::Visitor::new(&app);
    max.sign_in("max@desk.example").await;
    let customers = max.get("/console/customers").await;
    let path = format!("/console/contracts/{}/licence-acceptance", pending["id"]);
    assert!(customers.body.contains(&path), "{}", customers.body);
    let recorded = max.post(&path, &[("csrf", &customers.csrf())]).await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    let customers = max.get("/console/customers").await;
    assert!(!customers.body.contains(&path));
    app.stop().await;
}

/// POLICY.md §7: a ticket's advisor is of its region and speaks its language (or English);
/// anyone else is refused with why, unless a support manager overrides it with a reason,
/// which the timeline and the explanation keep.
pub async fn manual_assignment_fits_the_ticket_or_is_a_managers_override(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (french_id, _) = app
        .staff("fleur@desk.example", Role::Advisor, "emea", &["fr"])
        .await;
    let (english_id, advisor) = app
        .staff("ed@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (german_id, _) = app
        .staff("greta@desk.example", Role::Advisor, "emea", &["de"])
        .await;
    let (montreal_id, _) = app
        .staff(
            "marc@desk.example",
            Role::Advisor,
            "americas",
            &["fr", "en"],
        )
        .await;
    let (_, manager) = app
        .staff("max@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, _, contact) = app.customer_speaking("FR", "standard", "emea", "fr").await;
    let (status, ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("FR", "P3")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(ticket["language"], "fr");
    let id = ticket["id"].as_i64().unwrap();
    let assign = |token: &String, body: Value| {
        let (path, token) = (format!("/api/v1/tickets/{id}/actions"), token.clone());
        let app = &app;
        async move {
            app.call(Method::POST, &path, Some(&token), Some(body))
                .await
        }
    };

    // Fitting: the French speaker, and the English speaker (every region's fallback).
    for fitting in [english_id, french_id] {
        let (status, body) =
            assign(&advisor, json!({ "action": "assign", "advisor": fitting })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Not fitting: refused with why, whoever asks without a manager's reason.
    let refusals = [
        (
            german_id,
            "speaks neither the ticket's language (fr) nor en",
        ),
        (montreal_id, "is an advisor of americas, not of emea"),
    ];
    for (misfit, why) in refusals {
        let (status, problem) = assign(
            &advisor,
            json!({ "action": "assign", "advisor": misfit, "reason": "I am off" }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "advisor");
        let detail = problem["errors"][0]["message"].as_str().unwrap();
        assert!(detail.contains(why), "{detail}");
        assert!(detail.contains("only a support manager"), "{detail}");
        let (status, problem) =
            assign(&manager, json!({ "action": "assign", "advisor": misfit })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem.to_string().contains("giving the reason"),
            "{problem}"
        );
    }
    let (_, kept) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(kept["assignee_id"], french_id, "refusals change nothing");

    // A manager's override, with the reason: assigned, and the timeline says so.
    let (status, body) = assign(
        &manager,
        json!({ "action": "assign", "advisor": montreal_id,
                "reason": "Marc knows this customer's installation" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, events) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/events"),
            Some(&manager),
            None,
        )
        .await;
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "assigned", "{last}");
    assert_eq!(last["advisor"], montreal_id);
    assert_eq!(
        last["overridden"], "marc is an advisor of americas, not of emea",
        "{last}"
    );
    assert_eq!(last["reason"], "Marc knows this customer's installation");
    let (status, explained) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/explanation"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{explained}");
    assert!(
        explained
            .to_string()
            .contains("a manager's override: marc is an advisor of americas"),
        "{explained}"
    );
    app.stop().await;
}

/// POLICY.md §1, §4, §5: a gold P1 OL Connect ticket is worked continuously. Nobody acting on
/// it for two business hours alerts the support manager; when the office closes it goes to
/// the English-speaking advisor on call, in English, and comes back to the French advisor
/// in French when the office opens; the explanation says so.
pub async fn p1_tickets_are_worked_continuously(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (fleur_id, fleur) = app
        .staff("fleur@desk.example", Role::Advisor, "emea", &["fr"])
        .await;
    let (ed_id, _) = app
        .staff("ed@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, manager) = app
        .staff("mia@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (status, shift) = app
        .call(
            Method::POST,
            "/api/v1/on-call",
            Some(&manager),
            Some(json!({ "region": "emea", "staff_id": ed_id,
                         "starts_at": "2026-11-23T15:00:00Z", "ends_at": "2026-11-24T08:00:00Z" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{shift}");
    let (_, _, contact) = app.customer_speaking("FR", "gold", "emea", "fr").await;
    // Monday 23 November, 10:00 in Amsterdam.
    let (status, ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("FR", "P1")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_i64().unwrap();
    assert_eq!(
        (&ticket["language"], &ticket["assignee_id"]),
        (&json!("fr"), &json!(fleur_id))
    );
    app.set_time("2026-11-23T10:30:00+01:00");
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{id}/actions"),
            Some(&fleur),
            Some(json!({ "action": "reply", "body": "Nous regardons." })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let sweep_at = |when: &'static str| {
        let (app, manager) = (&app, manager.clone());
        async move {
            app.set_time(when);
            caredesk_desk::sweep::sweep_tickets(&app.desk(), 100)
                .await
                .unwrap();
            let (_, ticket) = app
                .call(
                    Method::GET,
                    &format!("/api/v1/tickets/{id}"),
                    Some(&manager),
                    None,
                )
                .await;
            ticket
        }
    };

    // The sweep takes what fell due before its run: a minute after each moment.
    // Two business hours without an action: the manager is alerted.
    let lapsed = |token: String| {
        let app = &app;
        async move {
            let (_, events) = app
                .call(
                    Method::GET,
                    &format!("/api/v1/tickets/{id}/events"),
                    Some(&token),
                    None,
                )
                .await;
            events.to_string().contains("work_lapsed")
        }
    };
    sweep_at("2026-11-23T12:29:00+01:00").await;
    assert!(!lapsed(manager.clone()).await);
    let alerted = sweep_at("2026-11-23T12:31:00+01:00").await;
    assert!(lapsed(manager.clone()).await, "{alerted}");
    // An internal alert: the customer does not see it, and may still escalate.
    assert!(!lapsed(contact.clone()).await);
    assert_eq!(alerted["escalation_open"], false);

    // The office closes: the English speaker on call takes it, in English.
    let evening = sweep_at("2026-11-23T17:01:00+01:00").await;
    assert_eq!(evening["language"], "en", "{evening}");
    assert_eq!(evening["assignee_id"], ed_id);
    // The office opens: back to Fleur, in French.
    let morning = sweep_at("2026-11-24T09:01:00+01:00").await;
    assert_eq!(morning["language"], "fr", "{morning}");
    assert_eq!(morning["assignee_id"], fleur_id);

    let (_, events) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/events"),
            Some(&manager),
            None,
        )
        .await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap())
        .collect();
    let shifts = kinds
        .iter()
        .filter(|kind| **kind == "shift_changed")
        .count();
    assert_eq!(shifts, 2, "{kinds:?}");
    let (_, explained) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/explanation"),
            Some(&manager),
            None,
        )
        .await;
    let explained = explained.to_string();
    assert!(explained.contains("worked continuously"), "{explained}");
    assert!(explained.contains("by whoever is on call"), "{explained}");
    assert!(
        explained.contains("the office's hours again: worked in fr"),
        "{explained}"
    );
    app.stop().await;
}

/// POLICY.md §8a: an advisor decides a problem is outside technical support for one of the
/// policy's exclusions; the customer reads why in their language and asks for professional
/// services in one click; the clocks stand still; a manager may reverse it.
pub async fn a_problem_outside_support_is_offered_as_professional_services(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (_, advisor) = app
        .staff("fleur@desk.example", Role::Advisor, "emea", &["fr", "en"])
        .await;
    let (_, manager) = app
        .staff("mia@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, _, contact) = app.customer_speaking("FR", "standard", "emea", "fr").await;
    let (_, _, stranger) = app.customer("OTHER", "standard", "emea").await;
    let (status, ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("FR", "P3")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_i64().unwrap();
    let act = |token: &String, body: Value| {
        let (path, token) = (format!("/api/v1/tickets/{id}/actions"), token.clone());
        let app = &app;
        async move {
            app.call(Method::POST, &path, Some(&token), Some(body))
                .await
        }
    };
    let services = |token: &String| {
        let (path, token) = (
            format!("/api/v1/tickets/{id}/service-request"),
            token.clone(),
        );
        let app = &app;
        async move { app.call(Method::POST, &path, Some(&token), None).await }
    };
    // Not outside support yet: nothing to offer.
    let (status, _) = services(&contact).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (status, problem) = act(
        &advisor,
        json!({ "action": "declare_outside_support", "exclusion": "horoscope", "note": "n" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "exclusion", "{problem}");
    assert!(
        problem.to_string().contains("third_party"),
        "the policy's are listed"
    );
    let (status, declared) = act(
        &advisor,
        json!({ "action": "declare_outside_support", "exclusion": "third_party",
                "note": "Le pilote d'impression de votre ERP perd les travaux." }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{declared}");
    assert_eq!(declared["state"], "outside_support");
    assert_eq!(
        declared["clocks"]["resolution"]["status"], "paused",
        "{declared}"
    );

    // The customer reads why, in French, on the portal.
    let mut visitor = crate::pages::Visitor::new(&app);
    visitor.sign_in("contact@fr.example").await;
    let page = visitor.get(&format!("/portal/tickets/{id}")).await;
    assert!(
        page.body
            .contains("Le problème se situe dans une application ou un système tiers"),
        "{}",
        page.body
    );

    // Meanwhile the work stops; only a manager reverses it, with a reason.
    let (status, _) = act(
        &advisor,
        json!({ "action": "reverse_outside_support", "reason": "oops" }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, reversed) = act(
        &manager,
        json!({ "action": "reverse_outside_support", "reason": "The driver is ours." }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reversed}");
    assert_eq!(reversed["state"], "in_progress");
    assert_eq!(reversed["clocks"]["resolution"]["status"], "running");
    let (_, explained) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/explanation"),
            Some(&manager),
            None,
        )
        .await;
    let explained = explained.to_string();
    assert!(
        explained.contains("outside technical support: Third-party"),
        "{explained}"
    );
    assert!(explained.contains("reversed"), "{explained}");

    // Decided again, for good this time: one click asks for professional services, and the
    // request takes over from the ticket, which closes saying so.
    let (status, _) = act(
        &advisor,
        json!({ "action": "declare_outside_support", "exclusion": "environment",
                "note": "Le partage réseau refuse l'écriture." }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page = visitor.get(&format!("/portal/tickets/{id}")).await;
    let asked = visitor
        .post(
            &format!("/portal/tickets/{id}/professional-services"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    // Asked again, by the customer or by staff: the same request.
    let (status, again) = services(&contact).await;
    assert_eq!(status, StatusCode::OK, "asked before: the same request");
    let (status, by_staff) = services(&manager).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_staff["id"], again["id"]);
    assert!(
        asked
            .body
            .contains(&format!("<strong>{}</strong>", again["id"]))
    );
    assert_eq!(again["subject"], ticket["subject"]);
    assert_eq!(again["state"], "requested");
    assert!(
        again["reason"]
            .as_str()
            .unwrap()
            .contains("outside technical support")
    );
    let (status, _) = services(&stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, closed) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(closed["state"], "closed", "{closed}");
    app.stop().await;
}

/// POLICY.md §3, §8a: intake recognises custom programming from what the customer wrote
/// (a language named, a script attached) and asks before sending: yes makes it a
/// professional-services request, no a support ticket.
pub async fn custom_programming_is_confirmed_by_the_customer(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (customer_id, _, _) = app.customer("ACME", "standard", "emea").await;
    let mut anna = crate::pages::Visitor::new(&app);
    anna.sign_in("contact@acme.example").await;
    let form = anna.get("/portal/tickets/new").await;
    let fields = |answer: &'static str| {
        let csrf = form.csrf();
        let key = crate::pages::hidden(&form.body, "form_key");
        let product = crate::pages::first_product(&form.body);
        let mut fields = vec![
            ("csrf".to_string(), csrf),
            ("form_key".to_string(), key),
            ("product".to_string(), product),
            ("severity".to_string(), "P3".to_string()),
            ("subject".to_string(), "Export stops".to_string()),
            (
                "description".to_string(),
                "The export step fails.".to_string(),
            ),
            ("business_impact".to_string(), "Late invoices".to_string()),
        ];
        if !answer.is_empty() {
            fields.push(("programming_answer".to_string(), answer.to_string()));
        }
        fields
            .into_iter()
            .fold(reqwest::multipart::Form::new(), |form, (name, value)| {
                form.text(name, value)
            })
            .part(
                "files",
                reqwest::multipart::Part::bytes(b"Get-ChildItem".to_vec()).file_name("export.ps1"),
            )
    };
    let asked = anna.post_multipart("/portal/tickets", fields("")).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert!(
        asked.body.contains("custom programming in PowerShell"),
        "{}",
        asked.body
    );
    assert!(
        app.store
            .tickets_of(customer_id, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing is recorded before the answer"
    );
    let no = anna.post_multipart("/portal/tickets", fields("no")).await;
    assert_eq!(no.status, StatusCode::SEE_OTHER, "{}", no.body);
    assert_eq!(
        app.store.tickets_of(customer_id, 10).await.unwrap().len(),
        1
    );

    let form = anna.get("/portal/tickets/new").await;
    let csrf = form.csrf();
    let yes = anna
        .post_multipart(
            "/portal/tickets",
            crate::pages::multipart(&[
                ("csrf", &csrf),
                ("form_key", &crate::pages::hidden(&form.body, "form_key")),
                ("product", &crate::pages::first_product(&form.body)),
                ("severity", "P3"),
                ("subject", "Our Python script fails"),
                (
                    "description",
                    "The python3 job that feeds the workflow crashes.",
                ),
                ("business_impact", "Late invoices"),
                ("programming_answer", "yes"),
            ]),
        )
        .await;
    assert_eq!(yes.status, StatusCode::OK, "{}", yes.body);
    let (status, requests) = app
        .call(
            Method::GET,
            "/api/v1/service-requests",
            Some(&app.sign_in("contact@acme.example").await),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{requests}");
    assert!(
        requests
            .to_string()
            .contains("\"programming_language\":\"Python\""),
        "{requests}"
    );
    assert_eq!(
        app.store.tickets_of(customer_id, 10).await.unwrap().len(),
        1,
        "no second ticket"
    );
    app.stop().await;
}
