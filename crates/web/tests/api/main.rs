//! The HTTP API end to end: the real application on port 0, on SQLite and on PostgreSQL.
//! One test binary for every API test, to link once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod activation;
mod browser;
mod community;
mod notifications;
mod pages;
mod policy_at_work;
mod releases;
mod replay;
mod reports;
mod resources;
mod support;
mod ticket_search;
mod trust;

use caredesk_domain::ticket::Role;
use caredesk_web::Limits;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use activation::{
    an_update_is_requested_where_no_update_manager_offers_it,
    installed_products_ask_the_update_manager,
    one_time_activation_passwords_are_issued_by_administrators,
    products_are_activated_over_the_api, the_activation_manager_opens_with_the_one_time_password,
    the_portal_lists_products_with_scope_and_updates,
};
use community::{community_pages, community_questions_over_the_api, the_community_list_is_paged};
use notifications::{
    a_burst_of_wrong_passwords_is_told_to_administrators,
    a_mail_server_down_for_a_while_loses_and_doubles_nothing,
    a_new_release_is_announced_to_entitled_customers_in_their_languages,
    a_refused_message_fails_for_good_and_is_listed,
    replies_by_mail_land_on_their_tickets_and_machines_are_ignored,
    routine_staff_alerts_wait_for_the_office_to_open_escalations_do_not,
    the_acknowledgement_reaches_the_mail_server_within_seconds,
    two_deliverers_on_one_database_send_each_notice_once,
    webhooks_receive_every_event_signed_and_retried,
};
use pages::pages_sign_in_and_check_every_form;
use policy_at_work::{
    a_changed_policy_file_changes_the_rules, a_licence_is_accepted_after_the_contract_is_made,
    a_problem_outside_support_is_offered_as_professional_services,
    custom_programming_is_confirmed_by_the_customer, managers_and_csms_have_their_views,
    manual_assignment_fits_the_ticket_or_is_a_managers_override,
    p1_tickets_are_worked_continuously, professional_services_requests_have_their_own_life,
    supplied_details_complete_a_ticket_and_the_explanation_says_why,
};
use releases::{
    a_registered_product_carries_its_licence, a_release_brings_the_fixes_planned_for_it,
    the_release_catalog_is_kept_by_managers, the_release_catalog_page,
};
use replay::tickets_are_replayed_under_other_terms;
use reports::{
    breaches_are_listed_with_the_time_each_cause_held_them,
    customers_get_their_monthly_report_by_mail_once, people_count_who_did_the_work,
    sla_reports_say_what_was_kept_to_whoever_may_read_them,
    volume_counts_what_came_in_went_out_and_waits,
};
use resources::{
    a_ticket_keeps_the_suggestions_shown, advisors_link_and_share_articles,
    the_resource_center_is_kept_up, the_resource_center_over_the_api, the_resource_center_pages,
    the_writers_console,
};
use support::{Backend, TestApp, json_of, portal_ticket};
use ticket_search::staff_search_tickets_by_their_words;
use trust::{
    a_deactivated_member_is_shut_out, control_characters_are_refused_wherever_text_enters,
    every_text_has_a_bound_and_files_stay_files, forms_from_other_sites_are_refused,
    inbound_mail_refusals_are_problems, refusals_are_worded_in_the_visitors_language,
    the_audit_trail_records_every_administrative_change, tokens_and_sessions_are_revocable,
    wrong_passwords_are_throttled,
};

/// An instant the API returned (RFC 3339, in UTC).
fn instant(value: &Value) -> jiff::Timestamp {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not an instant: {value}"))
        .parse()
        .unwrap()
}

/// The browser's end-to-end run, on SQLite: what it drives is the pages, and every path below
/// them runs on both backends in the tests above and beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_lives_from_portal_to_closure_in_a_real_browser() {
    browser::a_ticket_lives_from_portal_to_closure_in_a_real_browser(Backend::Sqlite).await;
}

/// The resource center's deflection and the community's questions, in the browser (SQLite).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resource_center_and_the_community_in_a_real_browser() {
    browser::the_resource_center_and_the_community_in_a_real_browser(Backend::Sqlite).await;
}

/// The activation manager, in the browser (SQLite).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_activation_manager_in_a_real_browser() {
    browser::the_activation_manager_in_a_real_browser(Backend::Sqlite).await;
}

/// The dashboard, the report builder and a customer's own report, in the browser (SQLite).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_in_a_real_browser() {
    browser::reports_in_a_real_browser(Backend::Sqlite).await;
}

/// Each test, once per backend.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::support::Backend::Sqlite).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::support::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    tickets_are_replayed_under_other_terms,
    sla_reports_say_what_was_kept_to_whoever_may_read_them,
    customers_get_their_monthly_report_by_mail_once,
    breaches_are_listed_with_the_time_each_cause_held_them,
    volume_counts_what_came_in_went_out_and_waits,
    people_count_who_did_the_work,
    custom_programming_is_confirmed_by_the_customer,
    a_problem_outside_support_is_offered_as_professional_services,
    p1_tickets_are_worked_continuously,
    manual_assignment_fits_the_ticket_or_is_a_managers_override,
    a_licence_is_accepted_after_the_contract_is_made,
    health_and_readiness,
    the_life_of_a_ticket_for_each_program,
    waiting_on_the_customer_pauses_and_a_severity_change_retargets,
    tenants_see_only_their_own_organisation,
    retried_creation_is_idempotent,
    bad_requests_are_clear_problems_and_write_nothing,
    stale_versions_and_forbidden_steps_are_refused,
    two_concurrent_writers_lose_no_event,
    attachments_round_trip_with_limits,
    the_queue_pages_in_policy_order,
    staff_and_customers_are_managed_over_the_api,
    intake_enforces_the_policy_with_reasons,
    professional_services_requests_have_their_own_life,
    supplied_details_complete_a_ticket_and_the_explanation_says_why,
    managers_and_csms_have_their_views,
    a_changed_policy_file_changes_the_rules,
    pages_sign_in_and_check_every_form,
    the_acknowledgement_reaches_the_mail_server_within_seconds,
    a_mail_server_down_for_a_while_loses_and_doubles_nothing,
    two_deliverers_on_one_database_send_each_notice_once,
    routine_staff_alerts_wait_for_the_office_to_open_escalations_do_not,
    a_refused_message_fails_for_good_and_is_listed,
    a_burst_of_wrong_passwords_is_told_to_administrators,
    a_new_release_is_announced_to_entitled_customers_in_their_languages,
    replies_by_mail_land_on_their_tickets_and_machines_are_ignored,
    webhooks_receive_every_event_signed_and_retried,
    control_characters_are_refused_wherever_text_enters,
    wrong_passwords_are_throttled,
    tokens_and_sessions_are_revocable,
    forms_from_other_sites_are_refused,
    every_text_has_a_bound_and_files_stay_files,
    the_audit_trail_records_every_administrative_change,
    a_deactivated_member_is_shut_out,
    inbound_mail_refusals_are_problems,
    refusals_are_worded_in_the_visitors_language,
    the_resource_center_over_the_api,
    community_questions_over_the_api,
    community_pages,
    the_community_list_is_paged,
    the_resource_center_pages,
    the_resource_center_is_kept_up,
    the_writers_console,
    advisors_link_and_share_articles,
    a_ticket_keeps_the_suggestions_shown,
    staff_search_tickets_by_their_words,
    the_release_catalog_is_kept_by_managers,
    the_release_catalog_page,
    a_release_brings_the_fixes_planned_for_it,
    a_registered_product_carries_its_licence,
    one_time_activation_passwords_are_issued_by_administrators,
    the_activation_manager_opens_with_the_one_time_password,
    products_are_activated_over_the_api,
    installed_products_ask_the_update_manager,
    the_portal_lists_products_with_scope_and_updates,
    an_update_is_requested_where_no_update_manager_offers_it,
);

async fn health_and_readiness(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let live = app.request(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(live.status(), StatusCode::OK);
    let ready = app.request(Method::GET, "/readyz", None, None, &[]).await;
    assert_eq!(ready.status(), StatusCode::OK);
    app.stop().await;
}

/// Opens a ticket as the contact, returns its id.
async fn open(app: &TestApp, token: &str, ticket: Value) -> i64 {
    let (status, body) = app
        .call(Method::POST, "/api/v1/tickets", Some(token), Some(ticket))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

async fn act(app: &TestApp, token: &str, id: i64, action: Value) -> Value {
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{id}/actions"),
            Some(token),
            Some(action),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn the_life_of_a_ticket_for_each_program(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (_, advisor) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en", "nl"])
        .await;
    // Friday 27 November 2026, 22:00 in Amsterdam: only extended coverage is open.
    // By Monday 09:30 a platinum ticket has also run through its 48 hours of resolution time.
    let cases = [
        ("STD", "standard", "emea", "2026-11-30T13:00:00+01:00", 0),
        ("GLD", "gold", "24x5-emea", "2026-11-30T02:00:00+01:00", 1),
        (
            "PLT",
            "platinum",
            "24x7-emea",
            "2026-11-28T02:00:00+01:00",
            2,
        ),
    ];
    for (number, program, calendar, first_response_due, breaches) in cases {
        app.set_time("2026-11-27T22:00:00+01:00");
        let (_, _, contact) = app.customer(number, program, "emea").await;
        let id = open(&app, &contact, portal_ticket(number, "P1")).await;
        let (status, ticket) = app
            .call(
                Method::GET,
                &format!("/api/v1/tickets/{id}"),
                Some(&contact),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ticket["program"], program);
        assert_eq!(ticket["state"], "new");
        assert_eq!(ticket["clocks"]["calendar"], calendar, "{program}");
        assert_eq!(
            instant(&ticket["clocks"]["first_response"]["due_at"]),
            support::at(first_response_due),
            "{program}"
        );
        assert_eq!(ticket["clocks"]["first_response"]["status"], "running");

        app.set_time("2026-11-30T09:30:00+01:00");
        let ticket = act(
            &app,
            &advisor,
            id,
            json!({ "action": "reply", "body": "We are on it." }),
        )
        .await;
        assert_eq!(ticket["state"], "in_progress");
        assert_eq!(ticket["clocks"]["first_response"]["status"], "stopped");
        let late = program != "standard";
        assert_eq!(
            ticket["clocks"]["first_response"]["breached"], late,
            "{program}"
        );

        act(&app, &advisor, id, json!({ "action": "request_from_customer", "request": "information", "body": "Send the spooler log, please." })).await;
        app.set_time("2026-11-30T11:00:00+01:00");
        let ticket = act(
            &app,
            &contact,
            id,
            json!({ "action": "customer_message", "body": "Attached." }),
        )
        .await;
        assert_eq!(ticket["state"], "in_progress");
        let ticket = act(&app, &advisor, id, json!({ "action": "propose_solution", "resolution": { "type": "workaround" }, "body": "Restart the spooler nightly." })).await;
        assert_eq!(ticket["state"], "solution_proposed");
        assert_eq!(ticket["clocks"]["resolution"]["status"], "stopped");
        let ticket = act(&app, &contact, id, json!({ "action": "accept_solution" })).await;
        assert_eq!(ticket["state"], "closed");
        assert_eq!(
            ticket["allowed_actions"],
            json!([]),
            "a contact may do nothing more"
        );
        let (_, as_advisor) = app
            .call(
                Method::GET,
                &format!("/api/v1/tickets/{id}"),
                Some(&advisor),
                None,
            )
            .await;
        assert_eq!(as_advisor["allowed_actions"], json!(["note"]));

        let (_, timeline) = app
            .call(
                Method::GET,
                &format!("/api/v1/tickets/{id}/events"),
                Some(&advisor),
                None,
            )
            .await;
        let kinds: Vec<&str> = timeline
            .as_array()
            .unwrap()
            .iter()
            .map(|event| event["kind"].as_str().unwrap())
            .collect();
        // No sweep ran over the weekend: the late reply records the breaches first.
        let mut expected = vec!["created", "intake_checked", "assigned"];
        expected.extend(std::iter::repeat_n("clock_breached", breaches));
        if breaches > 0 {
            // A P1 breach escalates to the support manager by itself.
            expected.push("escalation_requested");
        }
        expected.push("first_response");
        expected.extend([
            "waiting_on_customer",
            "customer_answered",
            "solution_proposed",
            "solution_accepted",
            "closed",
        ]);
        assert_eq!(kinds, expected, "{program}");
    }
    app.stop().await;
}

async fn waiting_on_the_customer_pauses_and_a_severity_change_retargets(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (_, advisor) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, _, contact) = app.customer("STD", "standard", "emea").await;
    // Monday 10:00: P2, 3 business days of 8 hours.
    let id = open(&app, &contact, portal_ticket("STD", "P2")).await;
    app.set_time("2026-11-23T11:00:00+01:00");
    act(&app, &advisor, id, json!({ "action": "request_from_customer", "request": "remote_access", "body": "Please open a remote session." })).await;
    app.set_time("2026-11-23T15:00:00+01:00");
    let (_, ticket) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            Some(&advisor),
            None,
        )
        .await;
    let resolution = &ticket["clocks"]["resolution"];
    assert_eq!(resolution["status"], "paused");
    assert_eq!(resolution["due_at"], Value::Null);
    assert_eq!(resolution["elapsed_minutes"], 60);
    assert_eq!(resolution["paused_minutes"], 240);

    app.set_time("2026-11-24T11:00:00+01:00");
    let ticket = act(
        &app,
        &contact,
        id,
        json!({ "action": "customer_message", "body": "Access granted." }),
    )
    .await;
    assert_eq!(
        instant(&ticket["clocks"]["resolution"]["due_at"]),
        support::at("2026-11-27T10:00:00+01:00")
    );
    let ticket = act(
        &app,
        &advisor,
        id,
        json!({ "action": "change_severity", "severity": "P1", "reason": "The whole plant is down." }),
    )
    .await;
    // P1: 2 business days from Monday 10:00 with the 8 paused hours skipped.
    assert_eq!(ticket["severity"], "P1");
    assert_eq!(ticket["clocks"]["resolution"]["target_minutes"], 960);
    assert_eq!(
        instant(&ticket["clocks"]["resolution"]["due_at"]),
        support::at("2026-11-26T10:00:00+01:00")
    );
    let (_, timeline) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/events"),
            Some(&advisor),
            None,
        )
        .await;
    let change = timeline
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["kind"] == "severity_changed")
        .unwrap();
    assert_eq!(change["reason"], "The whole plant is down.");
    assert_eq!(change["actor"]["type"], "staff");
    app.stop().await;
}

async fn tenants_see_only_their_own_organisation(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (alpha_id, _, alpha) = app.customer("ALPHA", "standard", "emea").await;
    let (beta_id, _, beta) = app.customer("BETA", "standard", "emea").await;
    let id = open(&app, &alpha, portal_ticket("ALPHA", "P3")).await;
    let attachment = app
        .client
        .post(format!(
            "{}/api/v1/tickets/{id}/attachments?filename=log.txt",
            app.base
        ))
        .bearer_auth(&alpha)
        .body("ERROR 42")
        .send()
        .await
        .unwrap();
    assert_eq!(attachment.status(), StatusCode::CREATED);
    let attachment_id = json_of(attachment).await["id"].as_i64().unwrap();

    let missing = 999_999;
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/tickets/{id}"), None),
        (Method::GET, format!("/api/v1/tickets/{id}/events"), None),
        (
            Method::POST,
            format!("/api/v1/tickets/{id}/actions"),
            Some(json!({ "action": "customer_message", "body": "hello" })),
        ),
        (
            Method::GET,
            format!("/api/v1/tickets/{id}/attachments"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/tickets/{id}/attachments/{attachment_id}"),
            None,
        ),
        (Method::GET, format!("/api/v1/customers/{alpha_id}"), None),
    ] {
        let (status, problem) = app
            .call(method.clone(), &path, Some(&beta), body.clone())
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {problem}");
        // Exactly as a ticket that does not exist.
        let nonexistent = path
            .replace(&format!("/{id}"), &format!("/{missing}"))
            .replace(&format!("/{alpha_id}"), &format!("/{missing}"));
        let (status, other) = app
            .call(method.clone(), &nonexistent, Some(&beta), body)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {nonexistent}");
        assert_eq!(problem, other, "{method} {path}");
    }
    let upload = app
        .client
        .post(format!(
            "{}/api/v1/tickets/{id}/attachments?filename=x.txt",
            app.base
        ))
        .bearer_auth(&beta)
        .body("intrusion")
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::NOT_FOUND);
    let (_, queue) = app
        .call(Method::GET, "/api/v1/queue", Some(&beta), None)
        .await;
    assert_eq!(queue["items"], json!([]));
    let (_, queue) = app
        .call(
            Method::GET,
            &format!("/api/v1/queue?customer={alpha_id}"),
            Some(&beta),
            None,
        )
        .await;
    assert_eq!(
        queue["items"],
        json!([]),
        "a contact cannot widen its scope"
    );
    let (status, _) = app
        .call(Method::GET, "/api/v1/customers", Some(&beta), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{beta_id}/contacts"),
            Some(&beta),
            Some(json!({ "name": "X", "email": "x@y.example", "language": "en" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut foreign = portal_ticket("BETA", "P3");
    foreign["customer_id"] = json!(alpha_id);
    let (status, _) = app
        .call(Method::POST, "/api/v1/tickets", Some(&beta), Some(foreign))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn retried_creation_is_idempotent(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (_, _, contact) = app.customer("STD", "standard", "emea").await;
    let send = |body: Value, key: &'static str| {
        let (app, contact) = (&app, contact.clone());
        async move {
            let response = app
                .request(
                    Method::POST,
                    "/api/v1/tickets",
                    Some(&contact),
                    Some(body),
                    &[("Idempotency-Key", key)],
                )
                .await;
            let status = response.status();
            (status, json_of(response).await)
        }
    };
    let (first_status, first) = send(portal_ticket("STD", "P3"), "retry-1").await;
    let (second_status, second) = send(portal_ticket("STD", "P3"), "retry-1").await;
    assert_eq!(
        (first_status, second_status),
        (StatusCode::CREATED, StatusCode::OK)
    );
    assert_eq!(first["id"], second["id"]);
    let (status, problem) = send(portal_ticket("STD", "P1"), "retry-1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (_, queue) = app
        .call(Method::GET, "/api/v1/queue", Some(&contact), None)
        .await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn bad_requests_are_clear_problems_and_write_nothing(backend: Backend) {
    let limits = Limits {
        max_body_bytes: 4096,
        ..support::limits()
    };
    let app = TestApp::start(backend, limits).await;
    let (_, _, contact) = app.customer("STD", "standard", "emea").await;
    let post_raw = |body: &'static str, content_type: &'static str| {
        let (app, contact) = (&app, contact.clone());
        async move {
            let response = app
                .client
                .post(format!("{}/api/v1/tickets", app.base))
                .bearer_auth(contact)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            (response.status(), content_type, json_of(response).await)
        }
    };
    let (status, content_type, problem) = post_raw("{\"channel\": ", "application/json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(problem["status"], 400);
    let (status, _, _) = post_raw("channel=portal", "application/x-www-form-urlencoded").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let mut unknown = portal_ticket("STD", "P3");
    unknown["colour"] = json!("blue");
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(unknown),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "colour", "{problem}");
    let mut wrong_type = portal_ticket("STD", "P3");
    wrong_type["severity"] = json!(1);
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(wrong_type),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "severity", "{problem}");
    let mut missing = portal_ticket("STD", "P3");
    missing.as_object_mut().unwrap().remove("business_impact");
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(missing),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("business_impact"),
        "{problem}"
    );
    let mut several = portal_ticket("STD", "P9");
    several["subject"] = json!("  ");
    let (_, problem) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(several),
        )
        .await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["severity", "subject"], "{problem}");
    // PostgreSQL cannot store a NUL character in a text: refused by name on both backends.
    let mut nul = portal_ticket("STD", "P3");
    nul["subject"] = json!("Invoices\u{0}stopped");
    let (status, problem) = app
        .call(Method::POST, "/api/v1/tickets", Some(&contact), Some(nul))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "subject", "{problem}");

    let mut huge = portal_ticket("STD", "P3");
    huge["description"] = json!("x".repeat(10_000));
    let (status, problem) = app
        .call(Method::POST, "/api/v1/tickets", Some(&contact), Some(huge))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");

    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({ "email": "contact@std.example", "password": "wrong password" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["type"], "urn:caredesk:problem:unauthenticated");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({ "email": "nobody@nowhere.example", "password": "wrong password" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.call(Method::GET, "/api/v1/queue", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .call(Method::GET, "/api/v1/queue", Some("cd_not_a_token"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, problem) = app
        .call(Method::GET, "/api/v1/queue?limit=ten", Some(&contact), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "limit");

    for (method, path) in [
        (Method::GET, "/api/v1/tickets/not-a-number"),
        (Method::GET, "/api/v1/nowhere"),
        (Method::DELETE, "/api/v1/queue"),
    ] {
        let response = app
            .request(method.clone(), path, Some(&contact), None, &[])
            .await;
        let status = response.status();
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {status}"
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
    }

    // None of it wrote anything.
    let (_, queue) = app
        .call(Method::GET, "/api/v1/queue", Some(&contact), None)
        .await;
    assert_eq!(queue["items"], json!([]));
    app.stop().await;
}

async fn stale_versions_and_forbidden_steps_are_refused(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (_, advisor) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, other_advisor) = app
        .staff("bram@desk.example", Role::Advisor, "emea", &["en", "nl"])
        .await;
    let (_, _, contact) = app.customer("STD", "standard", "emea").await;
    let id = open(&app, &contact, portal_ticket("STD", "P3")).await;
    let get = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{id}"),
            Some(&advisor),
            None,
            &[],
        )
        .await;
    let etag = get.headers()["etag"].to_str().unwrap().to_string();
    // Created, the intake checks and the assignment.
    assert_eq!(etag, "\"3\"");
    let reply = |token: &str, text: &str| {
        let (app, token, body, etag) = (
            &app,
            token.to_string(),
            json!({ "action": "reply", "body": text }),
            etag.clone(),
        );
        async move {
            let response = app
                .request(
                    Method::POST,
                    &format!("/api/v1/tickets/{id}/actions"),
                    Some(&token),
                    Some(body),
                    &[("If-Match", &etag)],
                )
                .await;
            let status = response.status();
            (status, json_of(response).await)
        }
    };
    let (first, _) = reply(&advisor, "Looking into it.").await;
    let (second, problem) = reply(&other_advisor, "Me too.").await;
    assert_eq!(first, StatusCode::OK);
    assert_eq!(second, StatusCode::PRECONDITION_FAILED, "{problem}");

    let (status, problem) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{id}/actions"),
            Some(&advisor),
            Some(json!({ "action": "accept_solution" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["state"], "in_progress");
    assert!(
        problem["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("propose_solution"))
    );
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{id}/actions"),
            Some(&contact),
            Some(json!({ "action": "reply", "body": "I answer myself" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{id}/actions"),
            Some(&advisor),
            Some(json!({ "action": "dance" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{id}/actions"),
            Some(&advisor),
            Some(json!({ "action": "assign", "advisor": 424242 })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "advisor");
    let (_, timeline) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/events"),
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(
        timeline.as_array().unwrap().len(),
        4,
        "only the first reply was written"
    );
    app.stop().await;
}

async fn two_concurrent_writers_lose_no_event(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (_, anna) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, bram) = app
        .staff("bram@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, _, contact) = app.customer("STD", "standard", "emea").await;
    let id = open(&app, &contact, portal_ticket("STD", "P3")).await;
    let write = |token: String| {
        let (client, url) = (
            app.client.clone(),
            format!("{}/api/v1/tickets/{id}/actions", app.base),
        );
        tokio::spawn(async move {
            for note in 0..100 {
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "action": "note", "body": format!("note {note}") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK);
            }
        })
    };
    let (first, second) = (write(anna), write(bram));
    first.await.unwrap();
    second.await.unwrap();
    let (_, timeline) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/events"),
            Some(&app.admin),
            None,
        )
        .await;
    let timeline = timeline.as_array().unwrap();
    // Two hundred notes after created, intake_checked and assigned.
    assert_eq!(timeline.len(), 203);
    assert!(
        timeline
            .iter()
            .enumerate()
            .all(|(index, event)| event["seq"] == index as u64 + 1)
    );
    app.stop().await;
}

async fn attachments_round_trip_with_limits(backend: Backend) {
    let limits = Limits {
        max_attachment_bytes: 64 * 1024,
        ..support::limits()
    };
    let app = TestApp::start(backend, limits).await;
    let (_, _, contact) = app.customer("STD", "standard", "emea").await;
    let id = open(&app, &contact, portal_ticket("STD", "P3")).await;
    let upload = |name: &str, body: Vec<u8>| {
        let request = app
            .client
            .post(format!(
                "{}/api/v1/tickets/{id}/attachments?filename={name}",
                app.base
            ))
            .bearer_auth(&contact)
            .header("content-type", "text/plain")
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, json_of(response).await)
        }
    };
    let (status, stored) = upload("spooler.log", b"E042 spooler timeout\n".to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert_eq!(stored["size"], 21);
    assert_eq!(stored["sha256"].as_str().unwrap().len(), 64);
    let (status, problem) = upload("big.log", vec![b'x'; 65 * 1024]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    let (status, _) = upload("..%2Fetc%2Fpasswd", b"x".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let download = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets/{id}/attachments/{}", stored["id"]),
            Some(&contact),
            None,
            &[],
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "text/plain");
    assert_eq!(
        download.bytes().await.unwrap().as_ref(),
        b"E042 spooler timeout\n"
    );
    let (_, list) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{id}/attachments"),
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn the_queue_pages_in_policy_order(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (_, advisor) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, _, standard) = app.customer("STD", "standard", "emea").await;
    let (_, _, gold) = app.customer("GLD", "gold", "emea").await;
    let p3 = open(&app, &standard, portal_ticket("STD", "P3")).await;
    let p1_standard = open(&app, &standard, portal_ticket("STD", "P1")).await;
    let p1_gold = open(&app, &gold, portal_ticket("GLD", "P1")).await;
    let p2 = open(&app, &standard, portal_ticket("STD", "P2")).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(cursor) => format!("/api/v1/queue?limit=1&after={cursor}"),
            None => "/api/v1/queue?limit=1".to_string(),
        };
        let (status, page) = app.call(Method::GET, &path, Some(&advisor), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].as_i64().unwrap()),
        );
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, [p1_gold, p1_standard, p2, p3]);
    let (_, gold_only) = app
        .call(
            Method::GET,
            "/api/v1/queue?program=gold",
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(gold_only["items"].as_array().unwrap().len(), 1);
    app.set_time("2026-11-23T13:30:00+01:00");
    let (_, at_risk) = app
        .call(
            Method::GET,
            "/api/v1/queue?at_risk=true",
            Some(&advisor),
            None,
        )
        .await;
    // All four were opened at 10:00: their first responses are due at 14:00, at risk from 13:12.
    assert_eq!(at_risk["items"].as_array().unwrap().len(), 4, "{at_risk}");
    assert_eq!(at_risk["items"][0]["at_risk"], true);
    let (status, problem) = app
        .call(
            Method::GET,
            "/api/v1/queue?state=lost",
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, _) = app
        .call(
            Method::GET,
            "/api/v1/queue?after=garbage",
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

async fn staff_and_customers_are_managed_over_the_api(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let admin = app.admin.clone();
    let (status, member) = app
        .call(
            Method::POST,
            "/api/v1/staff",
            Some(&admin),
            Some(json!({ "email": "carla@desk.example", "name": "Carla", "role": "support_manager", "region": "americas", "languages": ["en", "es"], "password": "a long enough password" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    let carla = app
        .sign_in_with("carla@desk.example", "a long enough password")
        .await;
    let (status, customer) = app
        .call(Method::POST, "/api/v1/customers", Some(&carla), Some(json!({ "number": "NEW-1", "name": "Nouvelle", "region": "americas", "language": "fr" })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{customer}");
    let id = customer["id"].as_i64().unwrap();
    let (status, duplicate) = app
        .call(Method::POST, "/api/v1/customers", Some(&carla), Some(json!({ "number": "NEW-1", "name": "Twin", "region": "americas", "language": "fr" })))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{duplicate}");
    assert!(duplicate["detail"].as_str().unwrap().contains("number"));
    let (status, contract) = app
        .call(Method::POST, &format!("/api/v1/customers/{id}/contracts"), Some(&carla), Some(json!({ "program": "gold", "starts_on": "2026-01-01", "ends_on": "2025-12-31", "eula_accepted": true })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{contract}");
    assert_eq!(contract["errors"][0]["field"], "ends_on");
    let (status, token) = app
        .call(
            Method::POST,
            &format!("/api/v1/staff/{}/tokens", member["id"]),
            Some(&admin),
            Some(json!({ "name": "reports" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = token["secret"].as_str().unwrap();
    let (status, me) = app
        .call(Method::GET, "/api/v1/me", Some(secret), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "support_manager");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/staff",
            Some(&carla),
            Some(
                json!({ "email": "x@desk.example", "name": "X", "role": "admin", "languages": [] }),
            ),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only administrators add staff"
    );
    let (status, _) = app
        .call(
            Method::DELETE,
            "/api/v1/sessions/current",
            Some(&carla),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .call(Method::GET, "/api/v1/me", Some(&carla), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[test]
fn the_openapi_document_is_stable() {
    let document = caredesk_web::openapi(&caredesk_domain::policy::Policy::built_in().unwrap());
    assert_eq!(document["openapi"], "3.1.0");
    insta::assert_json_snapshot!("openapi", document);
}

/// Every operation that takes a bearer token says it may answer 401, and every operation
/// with a JSON body 400, 413, 415 and 422, each as a problem document.
#[test]
fn the_openapi_document_declares_every_common_answer() {
    let document = caredesk_web::openapi(&caredesk_domain::policy::Policy::built_in().unwrap());
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = &operation["responses"];
            let mut expected = vec!["503"];
            if operation["security"]
                .as_array()
                .is_some_and(|list| !list.is_empty())
            {
                expected.push("401");
            }
            if operation["requestBody"]["content"]["application/json"].is_object() {
                expected.extend(["400", "413", "415", "422"]);
            }
            for status in expected {
                assert!(
                    responses[status]["content"]["application/problem+json"].is_object(),
                    "{method} {path} does not declare {status}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 130, "only {checked} answers checked");
}

/// POLICY.md §1, §3, §5, §7 at intake: refusals on the portal, flags on the phone, the
/// language, the advisor, and a severity the customer asks for.
async fn intake_enforces_the_policy_with_reasons(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    app.set_time("2026-11-26T11:00:00+01:00");
    let (customer_id, _, contact) = app.customer("STD", "standard", "emea").await;
    app.publish_catalog().await;
    let (dutch, dutch_token) = app
        .staff("noor@desk.example", Role::Advisor, "emea", &["en", "nl"])
        .await;
    let (english, _) = app
        .staff("emma@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, advisor) = app
        .staff("ana@desk.example", Role::Advisor, "americas", &["en"])
        .await;

    // The portal names every missing field.
    let mut gaps = portal_ticket("STD", "P3");
    gaps["business_impact"] = json!("");
    gaps.as_object_mut().unwrap().remove("serial");
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(gaps.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["business_impact", "serial"]);
    // A serial that is not the customer's is refused on the portal.
    let mut foreign = portal_ticket("STD", "P3");
    foreign["serial"] = json!("SN-ELSEWHERE");
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(foreign.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not registered"),
        "{problem}"
    );

    // On the phone the same gaps are recorded as flags, and the ticket is worked.
    let mut phone = gaps.clone();
    phone["channel"] = json!("phone");
    phone["customer_id"] = json!(customer_id);
    phone["serial"] = json!("SN-ELSEWHERE");
    let (status, ticket) = app
        .call(Method::POST, "/api/v1/tickets", Some(&advisor), Some(phone))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let flags: Vec<&str> = ticket["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["flag"].as_str().unwrap())
        .collect();
    assert_eq!(flags, ["serial_not_registered", "incomplete"]);
    assert_eq!(ticket["flags"][1]["missing"], json!(["business_impact"]));
    // Equal loads (none yet) among the English speakers of emea: the lower id.
    assert_eq!(ticket["assignee_id"], json!(dutch));

    // An old release is accepted and flagged outside support scope, naming what is supported.
    let mut old = portal_ticket("STD", "P3");
    old["version"] = json!("2025.1");
    let (status, ticket) = app
        .call(Method::POST, "/api/v1/tickets", Some(&contact), Some(old))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(ticket["flags"][0]["flag"], "outside_support_scope");
    assert_eq!(ticket["flags"][0]["supported"], json!(["2026.1", "2025.2"]));
    // Thursday 11:00 in Amsterdam: the office is open and the clocks start now.
    assert_eq!(ticket["coverage"]["open_now"], true);
    // The contact prefers English: the lighter of the two English speakers gets it.
    assert_eq!(ticket["language"], "en");
    assert_eq!(ticket["assignee_id"], json!(english), "the lighter load");
    let (_, second) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("STD", "P3")),
        )
        .await;
    assert_eq!(
        second["assignee_id"],
        json!(dutch),
        "equal loads again: the lower id"
    );

    // A standard customer's ticket opened at night starts its clocks at the next opening.
    app.set_time("2026-11-26T23:30:00+01:00");
    let (_, night) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("STD", "P2")),
        )
        .await;
    assert_eq!(night["coverage"]["open_now"], false);
    assert_eq!(night["coverage"]["clocks_start_at"], "2026-11-27T08:00:00Z");
    assert!(
        night["coverage"]["notice"]
            .as_str()
            .unwrap()
            .contains("Friday 2026-11-27 09:00"),
        "{night}"
    );

    // The customer asks for P1; the advisor declines with a reason, then the customer asks again
    // and the advisor accepts: the clocks re-target.
    let id = night["id"].as_i64().unwrap();
    let act = |token: &str, body: Value| {
        let (app, token) = (&app, token.to_string());
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/tickets/{id}/actions"),
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    let (status, asked) = act(&contact, json!({ "action": "request_severity_change", "severity": "P1", "reason": "Production is down" })).await;
    assert_eq!(status, StatusCode::OK, "{asked}");
    assert_eq!(asked["severity_request"], "P1");
    let (status, _) = act(
        &contact,
        json!({ "action": "request_severity_change", "severity": "P1", "reason": "again" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "one request at a time");
    let (status, declined) = act(&dutch_token, json!({ "action": "answer_severity_change", "accept": false, "reason": "A workaround exists" })).await;
    assert_eq!(status, StatusCode::OK, "{declined}");
    assert_eq!(declined["severity"], "P2");
    act(&contact, json!({ "action": "request_severity_change", "severity": "P1", "reason": "The workaround failed" })).await;
    let (_, accepted) = act(
        &dutch_token,
        json!({ "action": "answer_severity_change", "accept": true, "reason": "Confirmed outage" }),
    )
    .await;
    assert_eq!(accepted["severity"], "P1");
    assert_eq!(accepted["severity_request"], Value::Null);
    app.stop().await;
}
