//! The release catalog kept by people (POLICY.md §9): managers publish and retire releases
//! over the API and in the console; what intake flags follows the catalog, and with no
//! release of a line it says the scope could not be checked instead of passing in silence.

use caredesk_domain::ticket::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::pages::Visitor;
use crate::support::{Backend, TestApp, portal_ticket};

fn flag_names(ticket: &Value) -> Vec<&str> {
    ticket["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|flag| flag["flag"].as_str().unwrap())
        .collect()
}

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {problem}"))
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect()
}

/// (version, in support scope, retired) of a line as the API lists it, newest first.
async fn listed(app: &TestApp, token: &str, line: &str) -> Vec<(String, bool, bool)> {
    let (status, catalog) = app
        .call(
            Method::GET,
            &format!("/api/v1/releases?product_line={line}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{catalog}");
    catalog
        .as_array()
        .unwrap()
        .iter()
        .map(|release| {
            (
                release["version"].as_str().unwrap().to_string(),
                release["in_support_scope"].as_bool().unwrap(),
                !release["retired_at"].is_null(),
            )
        })
        .collect()
}

pub async fn the_release_catalog_is_kept_by_managers(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.set_time("2026-11-26T11:00:00+01:00");
    let (_, _, contact) = app.customer("STD", "standard", "emea").await;
    let (_, manager) = app
        .staff("mia@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, advisor) = app
        .staff("noor@desk.example", Role::Advisor, "emea", &["en", "nl"])
        .await;
    let (_, admin) = app
        .staff("root@desk.example", Role::Admin, "emea", &["en"])
        .await;

    // No release of the line yet: the ticket is taken, and says its scope was not checked.
    let (status, ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("STD", "P3")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    // The customer is not told of the desk's own gap; staff are.
    assert_eq!(flag_names(&ticket), Vec::<&str>::new());
    let first_ticket = ticket["id"].as_i64().unwrap();
    let (status, seen) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{first_ticket}"),
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(flag_names(&seen), ["scope_not_checked"]);
    assert_eq!(seen["flags"][0]["version"], "2026.1");
    assert!(
        seen["flags"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("could not be checked"),
        "{seen}"
    );

    // Only administrators and support managers publish.
    let release = |version: &str, kind: &str| {
        json!({
            "product_line": "ol-connect",
            "version": version,
            "kind": kind,
            "released_on": "2026-03-17",
            "download_url": format!("https://downloads.example.com/olc-{version}.exe"),
            "sha256": "AB".repeat(32),
            "notes": {"en": format!("What {version} brings."), "fr": format!("Ce qu'apporte {version}.")},
        })
    };
    for (who, token) in [("advisor", &advisor), ("contact", &contact)] {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/v1/releases",
                Some(token),
                Some(release("2026.1", "major")),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }
    assert_eq!(listed(&app, &contact, "ol-connect").await, []);

    // Every faulty field at once, and nothing written.
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/releases",
            Some(&manager),
            Some(json!({
                "product_line": "ol-disconnect",
                "version": "2026 2",
                "kind": "patch",
                "download_url": "ftp://downloads.example.com/x",
                "notes": {"xx": "notes", "fr": "  "},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        fields(&problem),
        [
            "product_line",
            "version",
            "kind",
            "download_url",
            "sha256",
            "notes.fr",
            "notes.xx"
        ]
    );
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/releases",
            Some(&manager),
            Some(json!({"product_line": "ol-connect", "version": "2026.2", "kind": "minor", "released_on": "2026-02-30"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["released_on"]);
    assert_eq!(listed(&app, &admin, "ol-connect").await, []);

    // Published out of order, the catalog orders them by version.
    let mut ids = std::collections::BTreeMap::new();
    for (version, kind) in [
        ("2026.1", "major"),
        ("2025.1", "major"),
        ("2025.2", "minor"),
    ] {
        let (status, published) = app
            .call(
                Method::POST,
                "/api/v1/releases",
                Some(&manager),
                Some(release(version, kind)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{published}");
        assert_eq!(published["sha256"], "ab".repeat(32), "kept in lower case");
        assert_eq!(
            published["notes"]["fr"],
            format!("Ce qu'apporte {version}.")
        );
        ids.insert(version, published["id"].as_i64().unwrap());
    }
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/releases",
            Some(&admin),
            Some(release("2025.2", "minor")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("version: ol-connect 2025.2 is already in the catalog"),
        "{problem}"
    );
    let owned = |list: &[(&str, bool, bool)]| -> Vec<(String, bool, bool)> {
        list.iter()
            .map(|(version, scope, retired)| (version.to_string(), *scope, *retired))
            .collect()
    };
    assert_eq!(
        listed(&app, &contact, "ol-connect").await,
        owned(&[
            ("2026.1", true, false),
            ("2025.2", true, false),
            ("2025.1", false, false)
        ])
    );

    // Intake now reads the catalog: the newest is in scope, the oldest is not.
    let (_, ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("STD", "P3")),
        )
        .await;
    assert_eq!(flag_names(&ticket), Vec::<&str>::new());
    let mut old = portal_ticket("STD", "P3");
    old["version"] = json!("2025.1");
    let (_, ticket) = app
        .call(Method::POST, "/api/v1/tickets", Some(&contact), Some(old))
        .await;
    assert_eq!(flag_names(&ticket), ["outside_support_scope"]);
    assert_eq!(ticket["flags"][0]["supported"], json!(["2026.1", "2025.2"]));

    // Retiring the newest brings the oldest back into scope; retiring twice is a conflict.
    let retire = format!("/api/v1/releases/{}/retire", ids["2026.1"]);
    let (status, body) = app.call(Method::POST, &retire, Some(&advisor), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, retired) = app.call(Method::POST, &retire, Some(&manager), None).await;
    assert_eq!(status, StatusCode::OK, "{retired}");
    assert!(!retired["retired_at"].is_null());
    assert_eq!(retired["in_support_scope"], false);
    let (status, body) = app.call(Method::POST, &retire, Some(&manager), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/releases/999999/retire",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        listed(&app, &contact, "ol-connect").await,
        owned(&[
            ("2026.1", false, true),
            ("2025.2", true, false),
            ("2025.1", true, false)
        ])
    );
    let (_, ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(portal_ticket("STD", "P3")),
        )
        .await;
    assert_eq!(flag_names(&ticket), ["outside_support_scope"]);
    assert_eq!(ticket["flags"][0]["supported"], json!(["2025.2", "2025.1"]));

    // Every publication and retirement is in the audit trail, with who.
    let (status, trail) = app
        .call(
            Method::GET,
            "/api/v1/admin/audit?entity=release",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let actions: Vec<(&str, &str)> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["action"].as_str().unwrap(),
                entry["after"]["version"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("retired", "2026.1"),
            ("published", "2025.2"),
            ("published", "2025.1"),
            ("published", "2026.1")
        ]
    );
    assert!(
        trail
            .as_array()
            .unwrap()
            .iter()
            .all(|entry| entry["actor"].as_str().unwrap().starts_with("staff:"))
    );
    let (status, body) = app
        .call(
            Method::GET,
            "/api/v1/releases?product_line=nope",
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["product_line"]);
    let (status, _) = app.call(Method::GET, "/api/v1/releases", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The same on the pages: the advisor's workspace shows the flag, the portal does not.
    let mut customer = Visitor::new(&app);
    customer.sign_in("contact@std.example").await;
    let portal = customer
        .get(&format!("/portal/tickets/{first_ticket}"))
        .await;
    assert_eq!(portal.status, StatusCode::OK, "{}", portal.body);
    assert!(!portal.body.contains("Support scope not checked"));
    let mut noor = Visitor::new(&app);
    noor.sign_in("noor@desk.example").await;
    let workspace = noor.get(&format!("/console/tickets/{first_ticket}")).await;
    assert_eq!(workspace.status, StatusCode::OK, "{}", workspace.body);
    assert!(workspace.body.contains("Support scope not checked"));
    app.stop().await;
}

/// The console's catalog page: staff read it; a manager publishes (a refused form keeps
/// what was typed and names each field) and retires; an advisor has no form to post.
pub async fn the_release_catalog_page(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.set_time("2026-11-26T11:00:00+01:00");
    app.staff("mia@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    app.staff("noor@desk.example", Role::Advisor, "emea", &["en", "nl"])
        .await;
    app.customer("STD", "standard", "emea").await;

    let mut mia = Visitor::new(&app);
    mia.sign_in("mia@desk.example").await;
    let empty = mia.get("/console/releases").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(empty.body.contains("Release catalog"));
    assert!(
        empty
            .body
            .contains("No release of this line in the catalog yet")
    );

    let csrf = empty.csrf();
    let refused = mia
        .post(
            "/console/releases",
            &[
                ("csrf", &csrf),
                ("product_line", "planetpress-suite"),
                ("version", "8 10"),
                ("kind", "minor"),
                ("released_on", ""),
                ("download_url", "https://downloads.example.com/pp-8.10.exe"),
                ("sha256", ""),
                ("notes_en", "Ten."),
                ("notes_ja", "十"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("is not allowed: use letters, digits"));
    assert!(refused.body.contains("required with a download address"));
    assert!(
        refused.body.contains("value=\"8 10\""),
        "what was typed stays"
    );
    assert!(refused.body.contains(">十</textarea>"));

    for version in ["8.9", "8.10"] {
        let published = mia
            .post(
                "/console/releases",
                &[
                    ("csrf", &csrf),
                    ("product_line", "planetpress-suite"),
                    ("version", version),
                    ("kind", "minor"),
                    ("released_on", "2026-10-01"),
                    ("download_url", ""),
                    ("sha256", ""),
                    ("notes_en", &format!("Notes of {version}.")),
                ],
            )
            .await;
        assert_eq!(
            published.status,
            StatusCode::SEE_OTHER,
            "{}",
            published.body
        );
    }
    let catalog = mia.get("/console/releases").await;
    let newest = catalog.body.find(">8.10</th>").expect("8.10 listed");
    let older = catalog.body.find(">8.9</th>").expect("8.9 listed");
    assert!(newest < older, "8.10 is listed before 8.9");
    assert!(catalog.body.contains("Notes of 8.10."));
    assert_eq!(catalog.body.matches("In support scope").count(), 2);

    // Retire 8.10 from its row's form.
    let marker = "/console/releases/";
    let action_at = catalog.body.find(marker).expect("a retire form");
    let action: String = catalog.body[action_at..]
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let retired = mia.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!(retired.status, StatusCode::SEE_OTHER, "{}", retired.body);
    let after = mia.get("/console/releases").await;
    assert!(after.body.contains("Retired ("));
    assert_eq!(after.body.matches("In support scope").count(), 1);

    // An advisor reads the catalog, without a form to publish or retire.
    let mut noor = Visitor::new(&app);
    noor.sign_in("noor@desk.example").await;
    let read = noor.get("/console/releases").await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.body.contains(">8.9</th>"));
    assert!(!read.body.contains("Publish a release"));
    assert!(!read.body.contains("/retire\""));
    let forbidden = noor
        .post(
            "/console/releases",
            &[
                ("csrf", &read.csrf()),
                ("product_line", "planetpress-suite"),
                ("version", "9.0"),
                ("kind", "major"),
            ],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.store
            .releases_of("planetpress-suite")
            .await
            .unwrap()
            .len(),
        2
    );

    // Customers have no console.
    let mut contact = Visitor::new(&app);
    contact.sign_in("contact@std.example").await;
    assert_eq!(
        contact.get("/console/releases").await.status,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

/// A registered product carries its licence: edition of its line, the version it was bought
/// for, how many installations; every faulty part named at once, nothing written.
pub async fn a_registered_product_carries_its_licence(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let (customer, _, contact) = app.customer("LIC", "gold", "emea").await;
    let path = format!("/api/v1/customers/{customer}/products");
    let (status, problem) = app
        .call(
            Method::POST,
            &path,
            Some(&app.admin),
            Some(json!({
                "product_line": "ol-connect",
                "version": "2025.2",
                "serial": "OLC-LIC-1",
                "edition": "Watch",
                "licensed_version": "2026 1",
                "installations": 0,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        fields(&problem),
        ["edition", "licensed_version", "installations"]
    );
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Designer, Print, Mail, Send"),
        "{problem}"
    );
    let (status, product) = app
        .call(
            Method::POST,
            &path,
            Some(&app.admin),
            Some(json!({
                "product_line": "ol-connect",
                "version": "2025.2",
                "serial": "OLC-LIC-1",
                "edition": "Print",
                "licensed_version": "2026.1",
                "installations": 3,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{product}");
    assert_eq!(
        product["licence"],
        json!({"edition": "Print", "licensed_version": "2026.1", "installations": 3})
    );
    // The contact reads its organisation's products with their licences.
    let (status, file) = app
        .call(
            Method::GET,
            &format!("/api/v1/customers/{customer}"),
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    let licences: Vec<&Value> = file["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|product| &product["licence"])
        .collect();
    assert_eq!(
        licences,
        [
            &json!({"edition": null, "licensed_version": "2026.1", "installations": 1}),
            &json!({"edition": "Print", "licensed_version": "2026.1", "installations": 3}),
        ]
    );
    app.stop().await;
}

/// Publishing the release a P4 ticket's fix is planned for (POLICY.md §7): in the console
/// the manager sees the tickets waiting and ticks the one whose fix slipped; the customer
/// reads on the portal that the release is out and is asked to accept the fix; the other
/// ticket is back with its advisor.
pub async fn a_release_brings_the_fixes_planned_for_it(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.set_time("2026-11-26T11:00:00+01:00");
    app.publish_catalog().await;
    let (_, manager) = app
        .staff("mia@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, advisor) = app
        .staff("noor@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, _, contact) = app.customer("PLN", "standard", "emea").await;
    let mut planned = Vec::new();
    for _ in 0..2 {
        let (status, ticket) = app
            .call(
                Method::POST,
                "/api/v1/tickets",
                Some(&contact),
                Some(portal_ticket("PLN", "P4")),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        let id = ticket["id"].as_i64().unwrap();
        let (status, proposed) = app
            .call(
                Method::POST,
                &format!("/api/v1/tickets/{id}/actions"),
                Some(&advisor),
                Some(json!({
                    "action": "propose_solution",
                    "resolution": {"type": "planned_for_release", "release": "2026.3"},
                    "body": "The fix ships with 2026.3."
                })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{proposed}");
        planned.push(id);
    }
    let (fixed, slipped) = (planned[0], planned[1]);

    let mut mia = Visitor::new(&app);
    mia.sign_in("mia@desk.example").await;
    let page = mia.get("/console/releases").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for id in [fixed, slipped] {
        assert!(
            page.body.contains(&format!("name=\"without_fix_{id}\"")),
            "{}",
            page.body
        );
    }
    assert!(page.body.contains("(OL Connect 2026.3)"), "{}", page.body);
    let (status, waiting) = app
        .call(
            Method::GET,
            "/api/v1/releases/planned-tickets?product_line=ol-connect",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{waiting}");
    assert_eq!(
        waiting
            .as_array()
            .unwrap()
            .iter()
            .map(|ticket| (
                ticket["ticket_id"].as_i64().unwrap(),
                ticket["release"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        [(fixed, "2026.3"), (slipped, "2026.3")]
    );
    let (status, _) = app
        .call(
            Method::GET,
            "/api/v1/releases/planned-tickets",
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Over the API, a ticket that is not planned for the release is refused by name.
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/releases",
            Some(&manager),
            Some(json!({
                "product_line": "planetpress-suite",
                "version": "8.2",
                "kind": "minor",
                "without_fix": [slipped]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["without_fix"]);

    let csrf = page.csrf();
    let without_fix = format!("without_fix_{slipped}");
    let published = mia
        .post(
            "/console/releases",
            &[
                ("csrf", &csrf),
                ("product_line", "ol-connect"),
                ("version", "2026.3"),
                ("kind", "minor"),
                ("released_on", ""),
                (
                    "download_url",
                    "https://downloads.example.com/olc-2026.3.exe",
                ),
                ("sha256", &"c".repeat(64)),
                ("notes_en", "Barcodes print again."),
                (&without_fix, "1"),
            ],
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    let after = mia.get("/console/releases").await;
    assert!(!after.body.contains("without_fix_"), "{}", after.body);

    let (_, ticket) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{fixed}"),
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(ticket["state"], "solution_proposed", "{ticket}");
    let (_, ticket) = app
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{slipped}"),
            Some(&contact),
            None,
        )
        .await;
    assert_eq!(ticket["state"], "in_progress", "{ticket}");

    let mut customer = Visitor::new(&app);
    customer.sign_in("contact@pln.example").await;
    let portal = customer.get(&format!("/portal/tickets/{fixed}")).await;
    assert!(
        portal
            .body
            .contains("OL Connect 2026.3 is published with the fix"),
        "{}",
        portal.body
    );
    assert!(portal.body.contains("Barcodes print again."));
    assert!(
        portal
            .body
            .contains("https://downloads.example.com/olc-2026.3.exe")
    );
    let portal = customer.get(&format!("/portal/tickets/{slipped}")).await;
    assert!(
        portal
            .body
            .contains("OL Connect 2026.3 is published without the planned fix"),
        "{}",
        portal.body
    );
}
