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
