//! What-if replay over the API and in the console, and the policy's versions: who may ask,
//! what comes back, and bad requests.

use caredesk_domain::policy::DEFAULT_POLICY_TOML;
use caredesk_domain::ticket::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::pages::Visitor;
use crate::support::{self, Backend, TestApp, portal_ticket};

/// The summary's lines of one clock.
fn lines_of<'a>(report: &'a Value, clock: &str) -> Vec<&'a Value> {
    report["summary"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| line["clock"] == clock)
        .collect()
}

fn total(lines: &[&Value], terms: &str, part: &str) -> u64 {
    lines
        .iter()
        .map(|line| line[terms][part].as_u64().unwrap())
        .sum()
}

pub async fn tickets_are_replayed_under_other_terms(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (gold_id, _, gold) = app.customer("GOLD", "gold", "emea").await;
    let (standard_id, _, standard) = app.customer("STD", "standard", "emea").await;
    let (_, manager) = app
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
    let (_, advisor) = app
        .staff("ana@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/customers/{gold_id}/csm"),
            Some(&manager),
            Some(json!({ "csm_id": csm_id })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut opened = Vec::new();
    for (customer, token, count) in [("GOLD", &gold, 2), ("STD", &standard, 3)] {
        for _ in 0..count {
            let (status, ticket) = app
                .call(
                    Method::POST,
                    "/api/v1/tickets",
                    Some(token),
                    Some(portal_ticket(customer, "P3")),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{ticket}");
            opened.push(ticket["id"].as_i64().unwrap());
        }
    }
    // One standard ticket answered 40 minutes in; a week later the others' first
    // responses are overdue under any program.
    app.set_time("2026-11-23T10:40:00+01:00");
    let (status, answer) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{}/actions", opened[2]),
            Some(&advisor),
            Some(json!({ "action": "reply", "body": "We are on it." })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    app.set_time("2026-11-30T12:00:00+01:00");

    let period = "from=2026-11-01&to=2026-11-30";
    let replay = |token: &str, query: &str| {
        let path = format!("/api/v1/reports/replay?{period}&{query}");
        let token = token.to_string();
        let app = &app;
        async move { app.call(Method::GET, &path, Some(&token), None).await }
    };
    let (status, report) = replay(&manager, "alternative_program=platinum").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["summary"]["tickets"], 5, "{report}");
    assert_eq!(report["program"], "platinum");
    // The summary alone, unless each ticket is asked for.
    assert_eq!(report["tickets"], json!([]), "{report}");
    // The one answer settles its first response, in time under either program; the
    // others still run, overdue.
    let first_responses = lines_of(&report, "first_response");
    assert_eq!(total(&first_responses, "actual", "settled"), 1, "{report}");
    assert_eq!(total(&first_responses, "actual", "met"), 1, "{report}");
    assert_eq!(total(&first_responses, "alternative", "met"), 1, "{report}");
    let (status, each) = replay(&manager, "alternative_program=platinum&tickets=true").await;
    assert_eq!(status, StatusCode::OK);
    let each = each["tickets"].as_array().unwrap();
    assert_eq!(each.len(), 5);
    assert!(
        each.iter()
            .all(|ticket| ticket["alternative_program"] == "platinum")
    );
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/reports/replay?{period}&alternative_program=platinum&format=csv"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.unwrap();
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert!(csv.starts_with("ticket,customer,severity,program,alternative_program,"));

    // A CSM replays their customers' tickets only; an advisor none.
    let (status, theirs) = replay(
        &csm,
        &format!("alternative_program=platinum&customer={gold_id}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    assert_eq!(theirs["summary"]["tickets"], 2, "{theirs}");
    let (status, _) = replay(&csm, "alternative_program=platinum").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = replay(
        &csm,
        &format!("alternative_program=platinum&customer={standard_id}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = replay(&advisor, "alternative_program=platinum").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = replay(&gold, "alternative_program=platinum").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Bad requests name their field.
    for (query, field) in [
        ("alternative_program=diamond", "alternative_program"),
        ("alternative_program=gold&format=xml", "format"),
        ("alternative_program=gold&severity=P9", "severity"),
    ] {
        let (status, problem) = replay(&manager, query).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let (status, _) = replay(&manager, "alternative_policy_version=7").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Without another program or version, the actual terms both ways: nothing moves.
    let (status, same) = replay(&manager, "").await;
    assert_eq!(status, StatusCode::OK, "{same}");
    for line in same["summary"]["lines"].as_array().unwrap() {
        assert_eq!(line["actual"], line["alternative"], "{line}");
    }

    // The policy's versions: a stored version as the alternative. The built-in policy
    // under its own terms avoids and adds nothing.
    let now = support::at("2026-11-30T12:00:00+01:00");
    let stored = app
        .desk()
        .store
        .add_policy_version(&caredesk_store::NewPolicyVersion {
            document: DEFAULT_POLICY_TOML,
            sha256: "built-in",
            source: "built-in policy/default.toml",
            applied_by: "the test",
            applied_at: now,
            effective_at: now,
            note: Some("as shipped"),
        })
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let (status, same) = replay(&manager, "alternative_policy_version=1").await;
    assert_eq!(status, StatusCode::OK, "{same}");
    for line in same["summary"]["lines"].as_array().unwrap() {
        assert_eq!(line["actual"], line["alternative"], "{line}");
        assert_eq!(
            (&line["breaches_avoided"], &line["breaches_added"]),
            (&json!(0), &json!(0))
        );
    }
    let (status, history) = app
        .call(Method::GET, "/api/v1/policy/versions", Some(&manager), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["in_force"], 1);
    assert_eq!(history["versions"][0]["note"], "as shipped");
    assert_eq!(history["rebuild"]["open"], 5, "{history}");
    let (status, _) = app
        .call(Method::GET, "/api/v1/policy/versions", Some(&advisor), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The console: the form, then the summary as a table and a chart, and every ticket as
    // CSV; the policy page lists the versions.
    let mut max = Visitor::new(&app);
    max.sign_in("max@desk.example").await;
    let form = max.get("/console/replay").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.contains("Choose another program"),
        "{}",
        form.body
    );
    let query = format!("{period}&alternative_program=platinum&severity=P3");
    let page = max.get(&format!("/console/replay?{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(r#"id="replay-summary""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("5 tickets replayed"), "{}", page.body);
    assert!(
        page.body
            .contains(r#"<option value="platinum" selected>platinum</option>"#),
        "{}",
        page.body
    );
    let chart = max.get(&format!("/console/replay/chart.svg?{query}")).await;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(
        chart.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    assert!(chart.body.contains("<svg"), "{}", chart.body);
    let csv = max
        .get(&format!("/console/replay/tickets.csv?{query}"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.body.lines().count(), 6, "{}", csv.body);
    let policy = max.get("/console/policy").await;
    assert_eq!(policy.status, StatusCode::OK);
    assert!(
        policy.body.contains(r#"id="policy-versions""#),
        "{}",
        policy.body
    );
    assert!(policy.body.contains("as shipped"), "{}", policy.body);
    let shown = max.get("/console/policy?version=1").await;
    assert!(
        shown
            .body
            .contains("Version 1, from built-in policy/default.toml"),
        "{}",
        shown.body
    );
    let mut ana = Visitor::new(&app);
    ana.sign_in("ana@desk.example").await;
    let refused = ana.get("/console/replay").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    app.stop().await;
}
