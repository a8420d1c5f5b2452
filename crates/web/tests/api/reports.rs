//! Reports over the API: the numbers, who may read which, CSV, and bad requests.

use caredesk_domain::ticket::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::pages::Visitor;
use crate::support::{self, Backend, TestApp, portal_ticket};

/// The report's line for `group` (one value per dimension).
fn line<'a>(report: &'a Value, group: &[&str]) -> &'a Value {
    report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["group"] == json!(group))
        .unwrap_or_else(|| panic!("no line {group:?} in {report}"))
}

async fn csv_of(app: &TestApp, path: &str, token: &str) -> (StatusCode, String, String) {
    let response = app.request(Method::GET, path, Some(token), None, &[]).await;
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

pub async fn sla_reports_say_what_was_kept_to_whoever_may_read_them(backend: Backend) {
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
    let (advisor_id, advisor) = app
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

    // Two gold tickets, one answered within the hour; three standard ones nobody answers.
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
    app.set_time("2026-11-23T10:40:00+01:00");
    let (status, answer) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{}/actions", opened[0]),
            Some(&advisor),
            Some(json!({ "action": "reply", "body": "We are on it." })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // A week later the others' first responses are long overdue, and recorded so.
    app.set_time("2026-11-30T12:00:00+01:00");
    caredesk_desk::sweep::sweep_tickets(&app.desk(), 100)
        .await
        .unwrap();

    let period = "from=2026-11-01&to=2026-11-30";
    let (status, report) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/sla?{period}&by=program"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["from"], "2026-11-01");
    assert_eq!(report["to"], "2026-11-30");
    assert_eq!(report["total"]["tickets"], 5);
    let gold_line = line(&report, &["gold"]);
    assert_eq!(gold_line["tickets"], 2);
    assert_eq!(gold_line["first_response"]["met"], 1, "{gold_line}");
    assert_eq!(gold_line["first_response"]["open_past"], 1);
    assert_eq!(gold_line["first_response"]["met_percent"], 100.0);
    let standard_line = line(&report, &["standard"]);
    assert_eq!(standard_line["first_response"]["open_past"], 3);
    assert_eq!(standard_line["first_response"]["met_percent"], Value::Null);
    // 40 minutes of a 4-hour target (a portal ticket): the median used is in the band of
    // 10% to 20% of the target, told as its middle.
    let median = &gold_line["first_response"]["median_used"];
    assert_eq!(median, &json!({ "kind": "about", "percent": 15 }));
    // Nothing opened outside the period is counted.
    let (_, earlier) = app
        .call(
            Method::GET,
            "/api/v1/reports/sla?from=2026-10-01&to=2026-10-31",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(earlier["total"]["tickets"], 0, "{earlier}");
    assert_eq!(earlier["lines"], json!([]));

    // The same as CSV: a line per group, the last for all.
    let (status, kind, csv) = csv_of(
        &app,
        &format!("/api/v1/reports/sla?{period}&by=program&format=csv"),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let rows: Vec<&str> = csv.lines().collect();
    assert!(
        rows[0].starts_with("program,tickets,first_response_measured,first_response_met,"),
        "{csv}"
    );
    assert!(rows[1].starts_with("gold,2,1,1,0,0,1,100.0,"), "{csv}");
    assert!(rows[3].starts_with("all,5,"), "{csv}");
    assert_eq!(rows.len(), 4);

    // A customer reads its own tickets only, in JSON and in CSV, and nothing of another's.
    let (status, own) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/sla?{period}"),
            Some(&gold),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own["total"]["tickets"], 2);
    assert_eq!(own["filter"]["customer"], gold_id);
    let (_, _, own_csv) = csv_of(
        &app,
        &format!("/api/v1/reports/sla?{period}&by=program,severity&format=csv"),
        &standard,
    )
    .await;
    let own_rows: Vec<&str> = own_csv.lines().collect();
    assert_eq!(own_rows.len(), 3, "{own_csv}");
    assert!(own_rows[1].starts_with("standard,P3,3,"), "{own_csv}");
    assert!(own_rows[2].starts_with("all,all,3,"), "{own_csv}");
    for path in [
        format!("/api/v1/reports/sla?{period}&customer={standard_id}"),
        format!("/api/v1/reports/sla?{period}&customer={standard_id}&format=csv"),
    ] {
        let (status, problem) = app.call(Method::GET, &path, Some(&gold), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
    }
    let (status, problem) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/sla?{period}&by=advisor"),
            Some(&gold),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let (_, by_customer) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/sla?{period}&by=customer"),
            Some(&gold),
            None,
        )
        .await;
    assert_eq!(
        by_customer["lines"].as_array().unwrap().len(),
        1,
        "{by_customer}"
    );
    assert_eq!(by_customer["lines"][0]["labels"], json!(["Customer GOLD"]));

    // A CSM reads the customers they care for; an advisor their own tickets.
    let (status, cared) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/sla?{period}&customer={gold_id}"),
            Some(&csm),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cared}");
    assert_eq!(cared["total"]["tickets"], 2);
    for path in [
        format!("/api/v1/reports/sla?{period}&customer={standard_id}"),
        format!("/api/v1/reports/sla?{period}"),
    ] {
        let (status, problem) = app.call(Method::GET, &path, Some(&csm), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {problem}");
    }
    let (status, mine) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/sla?{period}&by=advisor"),
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["filter"]["advisor"], advisor_id);
    assert!(!mine["lines"].as_array().unwrap().is_empty(), "{mine}");
    for line in mine["lines"].as_array().unwrap() {
        assert_eq!(line["group"], json!([advisor_id.to_string()]), "{mine}");
    }
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/sla?{period}&advisor={}", advisor_id + 1000),
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Bad requests name their field.
    for (query, field) in [
        ("by=colour", "by"),
        ("by=program,program", "by"),
        ("from=2026-12-01&to=2026-11-01", "from"),
        ("from=2000-01-01&to=2026-11-01", "from"),
        ("program=diamond", "program"),
        ("language=xx", "language"),
        ("format=xml", "format"),
        ("from=yesterday", "from"),
        ("colour=red", "colour"),
    ] {
        let (status, problem) = app
            .call(
                Method::GET,
                &format!("/api/v1/reports/sla?{query}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let (status, _) = app
        .call(Method::GET, "/api/v1/reports/sla", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The console's report builder: the filters in the address, the same numbers in the
    // table, the chart beside it and the CSV of the same report; managers only.
    let mut max = Visitor::new(&app);
    max.sign_in("max@desk.example").await;
    let query = "from=2026-11-01&to=2026-11-30&by=program&severity=P3";
    let page = max.get(&format!("/console/reports?{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(
        body.contains("Tickets opened from 2026-11-01 to 2026-11-30"),
        "{body}"
    );
    assert!(
        body.contains(r#"<option value="P3" selected>P3</option>"#),
        "{body}"
    );
    assert!(body.contains(r#"<option value="program" selected>Program</option>"#));
    let gold_row = table_row(body, "gold");
    assert_eq!(gold_row[..3], ["gold", "2", "1"], "{gold_row:?}");
    assert_eq!(table_row(body, "standard")[1], "3");
    let chart = max
        .get(&format!("/console/reports/chart.svg?{query}"))
        .await;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(
        chart.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    assert!(chart.body.starts_with("<svg"), "{}", chart.body);
    for label in [
        "First response",
        "Status updates",
        "Resolution",
        "gold",
        "standard",
    ] {
        assert!(chart.body.contains(label), "{label} in {}", chart.body);
    }
    assert!(body.contains(r#"<img src="/console/reports/chart.svg?from=2026-11-01&#38;to=2026-11-30&#38;by=program&#38;severity=P3""#), "{body}");
    let csv = max
        .get("/console/reports/report.csv?from=2026-11-01&to=2026-11-30&by=program")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body.lines().last().unwrap().starts_with("all,5,"),
        "{}",
        csv.body
    );
    // In French, on an empty period, and refused to others.
    let empty = max
        .get("/console/reports?from=2026-10-01&to=2026-10-31")
        .await;
    assert!(empty.body.contains("No ticket was opened in this period."));
    assert!(!empty.body.contains("chart.svg"));
    let wrong = max.get("/console/reports?from=yesterday").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("from"), "{}", wrong.body);
    // The dashboard: now, this week (Monday 30 November: nothing opened yet), the backlog.
    let dashboard = max.get("/console/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    let figure = |body: &str, term: &str| -> String {
        let start = body
            .find(&format!("<dt>{term}</dt><dd>"))
            .unwrap_or_else(|| panic!("{term}: {body}"));
        let rest = &body[start + term.len() + 13..];
        rest[..rest.find(['<', ' ']).unwrap()].to_string()
    };
    assert_eq!(figure(&dashboard.body, "Open tickets"), "5");
    assert_eq!(
        figure(&dashboard.body, "Breached or overdue"),
        "5",
        "four unanswered, one update owed"
    );
    let breaches: u64 = figure(&dashboard.body, "Breaches recorded today")
        .parse()
        .unwrap();
    assert!(breaches >= 5, "{breaches}");
    assert!(dashboard.body.contains("This week (since 2026-11-30, UTC)"));
    assert!(dashboard.body.contains("0 tickets opened"));
    // Opened a week and two hours ago.
    assert_eq!(
        table_row(&dashboard.body, "New")[1..],
        ["0", "0", "0", "4", "0", "4"]
    );
    assert_eq!(table_row(&dashboard.body, "All")[6], "5");

    // A customer reads its own report in the portal, never another's; a CSM their customers'.
    let mut contact = Visitor::new(&app);
    contact.sign_in("contact@gold.example").await;
    let own = contact
        .get("/portal/reports?from=2026-11-01&to=2026-11-30&by=severity")
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(table_row(&own.body, "P3")[..2], ["P3", "2"]);
    assert!(
        !own.body.contains(r#"<option value="advisor""#),
        "{}",
        own.body
    );
    assert!(own.body.contains(r#"<img src="/portal/reports/chart.svg?"#));
    let own_csv = contact
        .get("/portal/reports/report.csv?from=2026-11-01&to=2026-11-30")
        .await;
    assert!(
        own_csv.body.lines().last().unwrap().starts_with("2,"),
        "{}",
        own_csv.body
    );
    for path in [
        format!("/portal/reports?from=2026-11-01&to=2026-11-30&customer={standard_id}"),
        format!("/portal/reports/report.csv?customer={standard_id}"),
        format!("/portal/reports/chart.svg?customer={standard_id}"),
    ] {
        assert_eq!(
            contact.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let mut cleo = Visitor::new(&app);
    cleo.sign_in("cleo@desk.example").await;
    let cared = cleo
        .get("/console/reports?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(cared.status, StatusCode::OK, "{}", cared.body);
    assert!(
        cared.body.contains(&format!(
            r#"<option value="{gold_id}" selected>Customer GOLD</option>"#
        )),
        "{}",
        cared.body
    );
    assert!(!cared.body.contains("Customer STD"));
    assert_eq!(table_row(&cared.body, "All")[..2], ["All", "2"]);
    let other = cleo
        .get(&format!("/console/reports?customer={standard_id}"))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);

    let mut ana = Visitor::new(&app);
    ana.sign_in("ana@desk.example").await;
    for path in [
        "/console/reports",
        "/console/reports/chart.svg",
        "/console/reports/report.csv",
        "/console/dashboard",
    ] {
        assert_eq!(ana.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    app.stop().await;
}

/// The cells of the table row whose first cell is `first`, as text.
fn table_row(body: &str, first: &str) -> Vec<String> {
    let start = body
        .find(&format!("<th scope=\"row\">{first}</th>"))
        .unwrap_or_else(|| panic!("no row {first}: {body}"));
    let row = &body[start..];
    let row = &row[..row.find("</tr>").unwrap()];
    row.split(['<', '>'])
        .enumerate()
        .filter(|(index, _)| index % 2 == 0)
        .map(|(_, text)| text.trim().to_string())
        .filter(|text| !text.is_empty())
        .collect()
}

/// The breaches of a period, each with why, to whoever may read its report.
pub async fn breaches_are_listed_with_the_time_each_cause_held_them(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (_, advisor) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, manager) = app
        .staff("max@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, _, standard) = app.customer("STD", "standard", "emea").await;
    let (other_id, _, other) = app.customer("OTH", "standard", "emea").await;
    let act = async |token: &str, id: i64, action: Value| {
        let (status, ticket) = app
            .call(
                Method::POST,
                &format!("/api/v1/tickets/{id}/actions"),
                Some(token),
                Some(action),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ticket}");
    };
    let open = async |token: &str, customer: &str| {
        let (status, ticket) = app
            .call(
                Method::POST,
                "/api/v1/tickets",
                Some(token),
                Some(portal_ticket(customer, "P2")),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        ticket["id"].as_i64().unwrap()
    };
    // Monday 10:00: a P2 (3 business days of 8 hours), answered at 10:30, waiting for
    // remote access from 11:00 to Tuesday 11:00 (8 business hours), then left.
    let paused = open(&standard, "STD").await;
    let unanswered = open(&other, "OTH").await;
    app.set_time("2026-11-23T10:30:00+01:00");
    act(
        &advisor,
        paused,
        json!({ "action": "reply", "body": "We are on it." }),
    )
    .await;
    app.set_time("2026-11-23T11:00:00+01:00");
    act(&advisor, paused, json!({ "action": "request_from_customer", "request": "remote_access", "body": "Please open a remote session." })).await;
    app.set_time("2026-11-24T11:00:00+01:00");
    act(
        &standard,
        paused,
        json!({ "action": "customer_message", "body": "Access granted." }),
    )
    .await;
    // A week on, both are past their targets, and the sweep has recorded it.
    app.set_time("2026-12-03T12:00:00+01:00");
    caredesk_desk::sweep::sweep_tickets(&app.desk(), 100)
        .await
        .unwrap();

    let period = "from=2026-11-01&to=2026-11-30";
    let (status, list) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/breaches?{period}"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let tickets = list["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 2, "{list}");
    assert_eq!(list["more"], false);
    let held = tickets
        .iter()
        .find(|ticket| ticket["id"] == paused)
        .unwrap();
    assert_eq!(held["customer"], "Customer STD");
    assert_eq!(held["first_response"]["breached"], false, "{held}");
    assert_eq!(held["first_response"]["used_minutes"], 30);
    assert!(
        held["breached"]
            .as_array()
            .unwrap()
            .contains(&json!("resolution")),
        "{held}"
    );
    assert_eq!(held["resolution"]["target_minutes"], 1440);
    assert_eq!(held["resolution"]["breached"], true);
    assert_eq!(held["paused_minutes"], 480);
    assert_eq!(
        held["paused"],
        json!([{ "cause": "waiting_for_remote_access", "minutes": 480 }])
    );
    let late = tickets
        .iter()
        .find(|ticket| ticket["id"] == unanswered)
        .unwrap();
    assert_eq!(late["first_response"]["breached"], true, "{late}");
    assert_eq!(late["paused"], json!([]));

    // One clock's breaches: the first response was missed on one ticket only.
    let (_, first) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/breaches?{period}&clock=first_response"),
            Some(&manager),
            None,
        )
        .await;
    let ids: Vec<&Value> = first["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ticket| &ticket["id"])
        .collect();
    assert_eq!(ids, vec![&json!(unanswered)], "{first}");

    // As CSV: a line per ticket with the minutes of each cause.
    let (status, kind, csv) = csv_of(
        &app,
        &format!("/api/v1/reports/breaches?{period}&format=csv"),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    let header: Vec<&str> = rows[0].split(',').collect();
    let column = |name: &str| header.iter().position(|field| *field == name).unwrap();
    let held_row: Vec<&str> = rows
        .iter()
        .find(|row| row.starts_with(&format!("{paused},")))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(
        held_row[column("paused_waiting_for_remote_access_minutes")],
        "480"
    );
    assert_eq!(
        held_row[column("paused_waiting_for_information_minutes")],
        "0"
    );
    assert_eq!(held_row[column("resolution_target_minutes")], "1440");

    // A customer reads its own breaches only, never another's.
    let (status, own) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/breaches?{period}"),
            Some(&standard),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let own_ids: Vec<&Value> = own["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ticket| &ticket["id"])
        .collect();
    assert_eq!(own_ids, vec![&json!(paused)]);
    let (_, _, own_csv) = csv_of(
        &app,
        &format!("/api/v1/reports/breaches?{period}&format=csv"),
        &standard,
    )
    .await;
    assert_eq!(own_csv.lines().count(), 2, "{own_csv}");
    assert!(!own_csv.contains("Customer OTH"), "{own_csv}");
    for path in [
        format!("/api/v1/reports/breaches?{period}&customer={other_id}"),
        format!("/api/v1/reports/breaches?{period}&customer={other_id}&format=csv"),
    ] {
        let (status, problem) = app.call(Method::GET, &path, Some(&standard), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
    }

    // Bad requests name their field.
    for (query, field) in [
        ("clock=sometimes", "clock"),
        ("page=0", "page"),
        ("from=2026-12-01&to=2026-11-01", "from"),
        ("program=diamond", "program"),
    ] {
        let (status, problem) = app
            .call(
                Method::GET,
                &format!("/api/v1/reports/breaches?{query}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert!(problem.to_string().contains(field), "{query}: {problem}");
    }
    app.stop().await;
}

pub async fn volume_counts_what_came_in_went_out_and_waits(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (_, advisor) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, manager) = app
        .staff("max@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, _, standard) = app.customer("STD", "standard", "emea").await;
    let (other_id, _, other) = app.customer("OTH", "standard", "emea").await;
    let act = async |token: &str, id: i64, action: Value| {
        let (status, ticket) = app
            .call(
                Method::POST,
                &format!("/api/v1/tickets/{id}/actions"),
                Some(token),
                Some(action),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ticket}");
    };
    let open = async |token: &str, customer: &str| {
        let (status, ticket) = app
            .call(
                Method::POST,
                "/api/v1/tickets",
                Some(token),
                Some(portal_ticket(customer, "P2")),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        ticket["id"].as_i64().unwrap()
    };
    // Monday 23 November, 10:00: three tickets of STD, one of OTH.
    let escalated = open(&standard, "STD").await;
    let waiting = open(&standard, "STD").await;
    let rejected = open(&standard, "STD").await;
    open(&other, "OTH").await;
    let propose = json!({ "action": "propose_solution", "resolution": { "type": "workaround" }, "body": "Restart the spooler nightly." });
    app.set_time("2026-11-23T10:30:00+01:00");
    act(
        &advisor,
        escalated,
        json!({ "action": "reply", "body": "On it." }),
    )
    .await;
    act(
        &standard,
        escalated,
        json!({ "action": "request_escalation", "reason": "Orders are stuck." }),
    )
    .await;
    act(
        &manager,
        escalated,
        json!({ "action": "answer_escalation", "answer": "A senior advisor takes it." }),
    )
    .await;
    act(&advisor, escalated, propose.clone()).await;
    act(&standard, escalated, json!({ "action": "accept_solution" })).await;
    // Waiting for information from 11:00 to Tuesday 11:00: 8 business hours.
    app.set_time("2026-11-23T11:00:00+01:00");
    act(&advisor, waiting, json!({ "action": "request_from_customer", "request": "information", "body": "Please send the log." })).await;
    act(&advisor, rejected, propose).await;
    act(
        &standard,
        rejected,
        json!({ "action": "reject_solution", "reason": "It fails again." }),
    )
    .await;
    app.set_time("2026-11-24T11:00:00+01:00");
    act(
        &standard,
        waiting,
        json!({ "action": "customer_message", "body": "Here is the log." }),
    )
    .await;
    app.set_time("2026-12-03T12:00:00+01:00");

    // Per week of November: Monday 26 October to Sunday 6 December.
    let period = "from=2026-11-01&to=2026-11-30&span=week";
    let (status, report) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/volume?{period}"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["from"], "2026-10-26");
    assert_eq!(report["to"], "2026-12-06");
    let weeks = report["periods"].as_array().unwrap();
    assert_eq!(weeks.len(), 6, "{report}");
    let week = |start: &str| {
        weeks
            .iter()
            .find(|week| week["start"] == start)
            .unwrap_or_else(|| panic!("no week {start} in {report}"))
    };
    assert_eq!(
        (&week("2026-11-23")["opened"], &week("2026-11-23")["closed"]),
        (&json!(4), &json!(1))
    );
    assert_eq!(week("2026-11-30")["opened"], 0);
    assert_eq!(
        (&report["opened"], &report["closed"]),
        (&json!(4), &json!(1))
    );
    let activity = &report["activity_total"];
    assert_eq!(activity["tickets"], 4, "{activity}");
    assert_eq!(activity["closed"], 1);
    assert_eq!(activity["escalations_asked"], 1);
    assert_eq!(activity["escalations_answered"], 1);
    assert_eq!(activity["escalated_resolved"], 1);
    assert_eq!(activity["proposals"], 2);
    assert_eq!(activity["proposals_accepted"], 1);
    assert_eq!(activity["proposals_rejected"], 1);
    assert_eq!(activity["waiting_minutes"], 480);
    // Open now: three tickets, all opened eight business days ago (EMEA, 8 hours a day).
    let backlog = &report["backlog"];
    assert_eq!(backlog["open"], 3, "{backlog}");
    assert_eq!(backlog["by_age"], json!([0, 0, 0, 3, 0, 0]), "{backlog}");
    let states: Vec<(&Value, &Value)> = backlog["by_state"]
        .as_array()
        .unwrap()
        .iter()
        .map(|state| (&state["state"], &state["open"]))
        .collect();
    assert_eq!(
        states,
        vec![
            (&json!("in_progress"), &json!(2)),
            (&json!("new"), &json!(1))
        ],
        "{backlog}"
    );

    // Broken down by customer's program and channel: one line per group and week.
    let (_, by_severity) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/volume?{period}&by=severity"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(
        week_groups(&by_severity, "2026-11-23"),
        json!([{ "group": ["P2"], "opened": 4, "closed": 1 }])
    );

    // A customer reads its own tickets only, in JSON and in every CSV.
    let (status, own) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/volume?{period}"),
            Some(&standard),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(
        (&own["opened"], &own["backlog"]["open"]),
        (&json!(3), &json!(2)),
        "{own}"
    );
    assert_eq!(own["activity_total"]["tickets"], 3);
    let (status, kind, flows) = csv_of(
        &app,
        &format!("/api/v1/reports/volume?{period}&format=csv"),
        &standard,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert_eq!(flows.lines().next(), Some("week,opened,closed"));
    assert!(flows.contains("\r\n2026-11-23,3,1\r\n"), "{flows}");
    let (_, _, activity_csv) = csv_of(
        &app,
        &format!("/api/v1/reports/volume?{period}&format=csv&part=activity"),
        &standard,
    )
    .await;
    let rows: Vec<&str> = activity_csv.lines().collect();
    assert!(
        rows[0].starts_with("tickets,closed,escalations_asked,"),
        "{activity_csv}"
    );
    assert!(rows[1].starts_with("3,1,1,"), "{activity_csv}");
    let (_, _, backlog_csv) = csv_of(
        &app,
        &format!("/api/v1/reports/volume?{period}&format=csv&part=backlog"),
        &standard,
    )
    .await;
    assert!(
        backlog_csv.contains("\r\nall,2,0,0,0,2,0,0\r\n"),
        "{backlog_csv}"
    );
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/volume?{period}&customer={other_id}"),
            Some(&standard),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An empty span is the default, per month.
    let (status, monthly) = app
        .call(
            Method::GET,
            "/api/v1/reports/volume?from=2026-11-01&to=2026-11-30&span=",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{monthly}");
    assert_eq!(monthly["span"], "month");
    // Bad requests name the field.
    for (query, field) in [
        ("by=advisor", "by"),
        ("by=month", "by"),
        ("span=year", "span"),
        ("format=csv&part=everything", "part"),
        ("from=2026-12-01&to=2026-11-01", "from"),
    ] {
        let (status, problem) = app
            .call(
                Method::GET,
                &format!("/api/v1/reports/volume?{query}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert!(problem.to_string().contains(field), "{query}: {problem}");
    }
}

/// The groups of one week of a volume report.
fn week_groups(report: &Value, start: &str) -> Value {
    report["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|week| week["start"] == start)
        .map(|week| week["groups"].clone())
        .unwrap_or_else(|| panic!("no week {start} in {report}"))
}

/// Who did the work: per member of staff, per region and per week, with first responses in
/// time and after-hours work on an extended calendar; everyone's to a manager, one's own to
/// an advisor, none to a customer.
pub async fn people_count_who_did_the_work(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let (anna_id, anna) = app
        .staff("anna@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (bob_id, bob) = app
        .staff("bob@desk.example", Role::Advisor, "emea", &["en", "fr"])
        .await;
    let (_, manager) = app
        .staff("max@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, _, standard) = app.customer("STD", "standard", "emea").await;
    let (_, _, platinum) = app.customer("PLT", "platinum", "emea").await;
    let act = async |token: &str, id: i64, action: Value| {
        let (status, ticket) = app
            .call(
                Method::POST,
                &format!("/api/v1/tickets/{id}/actions"),
                Some(token),
                Some(action),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ticket}");
    };
    let open = async |token: &str, customer: &str, severity: &str| {
        let (status, ticket) = app
            .call(
                Method::POST,
                "/api/v1/tickets",
                Some(token),
                Some(portal_ticket(customer, severity)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        ticket["id"].as_i64().unwrap()
    };
    let reply = |body: &str| json!({ "action": "reply", "body": body });
    // Monday 23 November, 10:00 (Amsterdam): two standard P2 tickets and a platinum P1 on
    // OL Connect, which runs on the 24 × 7 calendar.
    let answered = open(&standard, "STD", "P2").await;
    let late = open(&standard, "STD", "P2").await;
    let critical = open(&platinum, "PLT", "P1").await;
    // Anna answers in time, proposes a solution, and the customer accepts it.
    app.set_time("2026-11-23T10:30:00+01:00");
    act(&anna, answered, reply("On it.")).await;
    act(
        &anna,
        answered,
        json!({ "action": "propose_solution", "resolution": { "type": "workaround" }, "body": "Restart the spooler." }),
    )
    .await;
    act(&standard, answered, json!({ "action": "accept_solution" })).await;
    // Bob answers the other on Tuesday, past its four business hours, and notes something.
    app.set_time("2026-11-24T11:00:00+01:00");
    act(&bob, late, reply("Sorry for the wait.")).await;
    act(
        &bob,
        late,
        json!({ "action": "note", "body": "Customer's spooler is old." }),
    )
    .await;
    // Anna answers the critical one on Saturday night: after hours on the 24 × 7 calendar.
    app.set_time("2026-11-28T03:00:00+01:00");
    act(&anna, critical, reply("Looking now.")).await;
    app.set_time("2026-12-03T12:00:00+01:00");

    let period = "from=2026-11-01&to=2026-11-30&span=week";
    let (status, report) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/people?{period}"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (&report["from"], &report["to"]),
        (&json!("2026-10-26"), &json!("2026-12-06"))
    );
    let person = |report: &Value, id: i64| -> Value {
        report["people"]
            .as_array()
            .unwrap()
            .iter()
            .find(|person| person["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no person {id} in {report}"))
    };
    let counts = |line: &Value| {
        [
            "tickets",
            "actions",
            "replies",
            "first_responses",
            "first_responses_in_time",
            "solutions_accepted",
            "after_hours",
        ]
        .map(|name| {
            line[name]
                .as_u64()
                .unwrap_or_else(|| panic!("{name} in {line}"))
        })
    };
    let anna_line = person(&report, anna_id);
    assert_eq!(counts(&anna_line), [2, 3, 3, 2, 1, 1, 1], "{anna_line}");
    assert_eq!(anna_line["in_time_percent"], 50.0);
    assert_eq!(anna_line["regions"], json!(["emea"]));
    assert_eq!(anna_line["languages"][0]["language"], "en");
    let bob_line = person(&report, bob_id);
    assert_eq!(counts(&bob_line), [1, 2, 1, 1, 0, 0, 0], "{bob_line}");
    assert_eq!(counts(&report["total"]), [3, 5, 4, 3, 1, 1, 1]);
    assert_eq!(report["regions"][0]["region"], "emea");
    assert_eq!(report["regions"][0]["people"], 2);
    let week = report["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|week| week["start"] == "2026-11-23")
        .unwrap();
    assert_eq!((&week["people"], &week["actions"]), (&json!(2), &json!(5)));
    assert_eq!(report["periods"].as_array().unwrap().len(), 6);
    // The tickets still open are on someone's load.
    let open_now: u64 = report["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|person| person["open_now"].as_u64().unwrap())
        .sum();
    assert_eq!(open_now, 2, "{report}");
    // One region, one language.
    let (_, americas) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/people?{period}&region=americas"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(counts(&americas["total"]), [0; 7], "{americas}");

    // An advisor reads their own work only; a customer none.
    let (status, own) = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/people?{period}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own["people"].as_array().unwrap().len(), 1, "{own}");
    assert_eq!(counts(&own["total"]), [1, 2, 1, 1, 0, 0, 0]);
    for (token, query, expected) in [
        (
            &bob,
            format!("{period}&advisor={anna_id}"),
            StatusCode::FORBIDDEN,
        ),
        (&standard, period.to_string(), StatusCode::FORBIDDEN),
    ] {
        let (status, problem) = app
            .call(
                Method::GET,
                &format!("/api/v1/reports/people?{query}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, expected, "{query}: {problem}");
    }
    // The CSV of each table.
    let (status, kind, people_csv) = csv_of(
        &app,
        &format!("/api/v1/reports/people?{period}&format=csv"),
        &manager,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(
        people_csv.starts_with("id,name,role,home_region,regions,tickets,actions,"),
        "{people_csv}"
    );
    assert!(
        people_csv.contains(&format!(
            "\r\n{anna_id},anna,advisor,emea,emea,2,3,3,2,1,1,1,50.0,"
        )),
        "{people_csv}"
    );
    let (_, _, load_csv) = csv_of(
        &app,
        &format!("/api/v1/reports/people?{period}&format=csv&part=load"),
        &manager,
    )
    .await;
    assert!(
        load_csv.contains("\r\n2026-11-23,2,3,5,4,3,1,1,1,33.3\r\n"),
        "{load_csv}"
    );
    // Empty values are the defaults.
    let (status, defaults) = app
        .call(
            Method::GET,
            "/api/v1/reports/people?span=&format=&part=",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{defaults}");
    assert_eq!(defaults["span"], "month");
    // Bad requests name the field.
    for (query, field) in [
        ("span=year", "span"),
        ("region=mars", "region"),
        ("language=xx", "language"),
        ("advisor=987654", "advisor"),
        ("format=csv&part=everything", "part"),
        ("from=2026-12-01&to=2026-11-01", "from"),
    ] {
        let (status, problem) = app
            .call(
                Method::GET,
                &format!("/api/v1/reports/people?{query}"),
                Some(&manager),
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert!(problem.to_string().contains(field), "{query}: {problem}");
    }

    // The console page shows the same numbers, the chart and the tables.
    let mut max = Visitor::new(&app);
    max.sign_in("max@desk.example").await;
    let page = max.get(&format!("/console/reports/people?{period}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert_eq!(
        table_row(body, "anna")[..10],
        ["anna", "emea", "emea", "2", "3", "3", "2", "1", "1", "1"],
        "{body}"
    );
    assert!(body.contains("/console/reports/people.svg?"), "{body}");
    let chart = max
        .get("/console/reports/people.svg?from=2026-11-01&to=2026-11-30&span=week&chart=people")
        .await;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(chart.body.contains("anna"), "{}", chart.body);
}

/// The row of a text table that starts with `label`, split into its cells' words.
fn text_row(text: &str, label: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|line| line.starts_with(label))
        .unwrap_or_else(|| panic!("no row {label} in\n{text}"));
    line[label.len()..]
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

pub async fn customers_get_their_monthly_report_by_mail_once(backend: Backend) {
    let app = TestApp::start(backend, support::limits()).await;
    let sink = caredesk_testkit::smtp::SmtpSink::start();
    let (gold_id, _, gold) = app.customer_speaking("GOLD", "gold", "emea", "fr").await;
    let (other_id, _, other) = app.customer("OTHR", "gold", "emea").await;
    let (_, _, standard) = app.customer("STD", "standard", "emea").await;
    let (_, manager) = app
        .staff("max@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (csm_id, _) = app
        .staff(
            "cleo@desk.example",
            Role::CustomerSuccessManager,
            "emea",
            &["en"],
        )
        .await;
    let (_, advisor) = app
        .staff("ana@desk.example", Role::Advisor, "emea", &["en", "fr"])
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
    for (customer, token, severity) in [
        ("GOLD", &gold, "P3"),
        ("GOLD", &gold, "P2"),
        ("OTHR", &other, "P3"),
        ("STD", &standard, "P3"),
    ] {
        let (status, ticket) = app
            .call(
                Method::POST,
                "/api/v1/tickets",
                Some(token),
                Some(portal_ticket(customer, severity)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        opened.push(ticket["id"].as_i64().unwrap());
    }
    app.set_time("2026-11-23T10:40:00+01:00");
    let (status, answer) = app
        .call(
            Method::POST,
            &format!("/api/v1/tickets/{}/actions", opened[0]),
            Some(&advisor),
            Some(json!({ "action": "reply", "body": "Nous nous en occupons." })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    app.set_time("2026-11-30T12:00:00+01:00");
    caredesk_desk::sweep::sweep_tickets(&app.desk(), 100)
        .await
        .unwrap();
    // On the first of December, November's reports go out: the gold customers', not the
    // standard one's; once.
    app.set_time("2026-12-01T02:00:00Z");
    // The tickets' own notices go first, to be told apart.
    let deliverer = crate::notifications::deliverer(&app, &sink, "deliverer");
    let mut before = 0;
    loop {
        let round = deliverer.deliver_due().await.unwrap();
        if round.claimed == 0 {
            break;
        }
        before += round.sent;
    }
    sink.wait_for(before, std::time::Duration::from_secs(10))
        .await;
    let desk = app.desk();
    let sent = caredesk_desk::monthly_reports::send_monthly_reports(&desk, 1)
        .await
        .unwrap();
    assert_eq!(
        sent, 2,
        "a batch of one goes on until every customer is done"
    );
    let again = caredesk_desk::monthly_reports::send_monthly_reports(&desk, 100)
        .await
        .unwrap();
    assert_eq!(again, 0);
    // The operator reads each customer's report as it was recorded; a month not sent is
    // computed as it stands.
    use caredesk_desk::monthly_reports::monthly_report_of;
    let (recorded, sent) = monthly_report_of(&desk, gold_id, Some("2026-11"))
        .await
        .unwrap();
    assert!(sent);
    assert_eq!((recorded.customer_id, recorded.tickets), (gold_id, 2));
    let (other_recorded, sent) = monthly_report_of(&desk, other_id, None).await.unwrap();
    assert!(sent);
    assert_eq!(
        (other_recorded.customer_id, other_recorded.tickets),
        (other_id, 1)
    );
    let (october, sent) = monthly_report_of(&desk, gold_id, Some("2026-10"))
        .await
        .unwrap();
    assert!(!sent);
    assert_eq!((october.month.as_str(), october.tickets), ("2026-10", 0));
    let round = deliverer.deliver_due().await.unwrap();
    assert_eq!((round.sent, round.failed), (3, 0), "{round:?}");
    let messages = sink
        .wait_for(before + 3, std::time::Duration::from_secs(10))
        .await
        .split_off(before);
    let to = |address: &str| {
        messages
            .iter()
            .find(|message| message.to == [address])
            .unwrap_or_else(|| panic!("nothing to {address}"))
    };
    assert!(
        messages
            .iter()
            .all(|message| message.to != ["contact@std.example"])
    );

    // The numbers are the compliance report's, for this customer only.
    let (status, report) = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/reports/sla?from=2026-11-01&to=2026-11-30&customer={gold_id}&by=severity"
            ),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["total"]["tickets"], 2);
    let first_response = &report["total"]["first_response"];
    let count = |value: &Value| value.as_u64().unwrap().to_string();

    // The designated contact reads it in French, the tables in the text part, the chart
    // attached.
    let french = to("contact@gold.example");
    assert_eq!(
        french.subject(),
        "Rapport de support de novembre 2026 : Customer GOLD"
    );
    let text = french.text();
    assert!(text.contains("Tickets ouverts : 2"), "{text}");
    assert_eq!(
        text_row(&text, "Première réponse"),
        [
            count(&first_response["measured"]),
            count(&first_response["met"]),
            count(&first_response["breached"]),
            count(&first_response["open_within"]),
            count(&first_response["open_past"]),
            "100.0".into(),
            "%".into(),
        ],
        "{text}"
    );
    assert_eq!(first_response["met"], 1, "{report}");
    let p2 = line(&report, &["P2"]);
    assert_eq!(p2["tickets"], 1);
    let p2_row = text_row(&text, "P2 ");
    assert_eq!(p2_row[1], "1", "{text}");
    assert!(
        text.contains(&format!(
            "{}/portal/reports?from=2026-11-01&to=2026-11-30&by=severity",
            app.base
        )),
        "{text}"
    );
    assert!(french.html().contains("<table"), "{}", french.html());
    let attachments = french.attachments();
    assert_eq!(attachments.len(), 1);
    let (name, media_type, chart) = &attachments[0];
    assert_eq!(
        (name.as_str(), media_type.as_str()),
        ("support-report-2026-11.svg", "image/svg+xml")
    );
    let chart = String::from_utf8(chart.clone()).unwrap();
    assert!(chart.starts_with("<svg") && chart.contains("Première réponse"));

    // Its CSM, in English, with the console's report of that customer.
    let csm_mail = to("cleo@desk.example");
    assert_eq!(
        csm_mail.subject(),
        "Support report for November 2026: Customer GOLD"
    );
    let text = csm_mail.text();
    assert!(text.contains("Tickets opened: 2"), "{text}");
    assert!(
        text.contains(&format!(
            "{}/console/reports?from=2026-11-01&to=2026-11-30&by=severity&customer={gold_id}",
            app.base
        )),
        "{text}"
    );
    // The other gold customer's own report counts its own ticket only.
    let text = to("contact@othr.example").text();
    assert!(text.contains("Tickets opened: 1"), "{text}");

    // Nothing more goes out: not on a later delivery round, nor on a later run of the job.
    let later = crate::notifications::deliverer(&app, &sink, "later")
        .deliver_due()
        .await
        .unwrap();
    assert_eq!(later.claimed, 0);
    app.set_time("2026-12-02T09:00:00Z");
    assert_eq!(
        caredesk_desk::monthly_reports::send_monthly_reports(&app.desk(), 100)
            .await
            .unwrap(),
        0
    );

    // A customer added in December gets no report of November, and December's reports go
    // out in January's first week only, once the totals are whole.
    app.customer("LATE", "platinum", "amer").await;
    app.set_time("2027-01-08T09:00:00Z");
    assert_eq!(
        caredesk_desk::monthly_reports::send_monthly_reports(&app.desk(), 100)
            .await
            .unwrap(),
        0,
        "past the first week of January"
    );
    app.set_time("2027-01-02T09:00:00Z");
    caredesk_testkit::forget_report_measures(app.database_url()).await;
    assert_eq!(
        caredesk_desk::monthly_reports::send_monthly_reports(&app.desk(), 100)
            .await
            .unwrap(),
        0,
        "tickets wait to be measured again"
    );
    while caredesk_desk::reports::measure_earlier_tickets(&app.desk(), 100)
        .await
        .unwrap()
        > 0
    {}
    assert_eq!(
        caredesk_desk::monthly_reports::send_monthly_reports(&app.desk(), 2)
            .await
            .unwrap(),
        3,
        "GOLD, OTHR and LATE"
    );
}
