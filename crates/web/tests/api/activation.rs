//! Product activation (POLICY.md §9): one-time activation passwords issued by
//! administrators, shown once and kept as hashes.

use caredesk_domain::ticket::Role;
use reqwest::{Method, StatusCode};

use crate::pages::Visitor;
use crate::support::{Backend, TestApp};

pub async fn one_time_activation_passwords_are_issued_by_administrators(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.set_time("2026-12-01T10:00:00Z");
    let (customer, _, contact) = app.customer("ACT", "gold", "emea").await;
    let (_, manager) = app
        .staff("mia@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let path = format!("/api/v1/customers/{customer}/activation-password");
    for (who, token) in [("manager", &manager), ("contact", &contact)] {
        let (status, body) = app.call(Method::POST, &path, Some(token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }
    assert_eq!(app.store.activation_password(customer).await.unwrap(), None);
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/customers/999999/activation-password",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, issued) = app.call(Method::POST, &path, Some(&app.admin), None).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let password = issued["password"].as_str().unwrap().to_string();
    assert_eq!(password.len(), 19, "{password}");
    assert_eq!(
        issued["expires_at"], "2026-12-31T10:00:00Z",
        "30 days by default"
    );
    let stored = app
        .store
        .activation_password(customer)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.password_hash.contains(&password.replace('-', "")));
    assert!(caredesk_desk::sessions::verify_password(
        &password.replace('-', ""),
        &stored.password_hash
    ));

    // A new one voids the old.
    let (_, again) = app.call(Method::POST, &path, Some(&app.admin), None).await;
    assert_ne!(again["password"], issued["password"]);
    let replaced = app
        .store
        .activation_password(customer)
        .await
        .unwrap()
        .unwrap();
    assert!(!caredesk_desk::sessions::verify_password(
        &password.replace('-', ""),
        &replaced.password_hash
    ));

    // The audit trail says who issued it, never the password or its hash.
    let (status, trail) = app
        .call(
            Method::GET,
            "/api/v1/admin/audit?entity=activation_password",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let entries = trail.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{trail}");
    assert_eq!(entries[0]["action"], "issued");
    let text = trail.to_string();
    assert!(
        !text.contains(&password.replace('-', "")) && !text.contains("argon2"),
        "{text}"
    );
    app.stop().await;
}

/// A contact activates its organisation's product over the API: the code verifies with the
/// desk's public key for that serial and machine; the same machine gets its code again;
/// one past the licence's installations is refused until one is deactivated; another
/// organisation neither activates nor reads it.
pub async fn products_are_activated_over_the_api(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.publish_catalog().await;
    let (_, _, contact) = app.customer("STD", "standard", "emea").await;
    let (_, _, stranger) = app.customer("OTHER", "standard", "emea").await;
    let (_, advisor) = app
        .staff("noor@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let activate = |machine: &str| serde_json::json!({ "serial": "SN-STD", "machine_id": machine });

    let (status, first) = app
        .call(
            Method::POST,
            "/api/v1/activations",
            Some(&contact),
            Some(activate("MACHINE-A-0001")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["serial"], "SN-STD");
    assert_eq!(first["highest_version"], "2026.1");
    assert!(
        first["activated_by"]
            .as_str()
            .unwrap()
            .starts_with("contact:")
    );
    let code = first["code"].as_str().unwrap().to_string();
    let public = app
        .desk()
        .activation_keys
        .verifying_key(&app.store, app.clock.now())
        .await
        .unwrap();
    let claims =
        caredesk_domain::activation::check_code(&code, &public, "SN-STD", "MACHINE-A-0001")
            .expect("the code verifies for its serial and machine");
    assert_eq!(claims.product_line, "ol-connect");
    assert!(
        caredesk_domain::activation::check_code(&code, &public, "SN-STD", "MACHINE-B-0002")
            .is_err()
    );

    let (status, again) = app
        .call(
            Method::POST,
            "/api/v1/activations",
            Some(&contact),
            Some(activate("MACHINE-A-0001")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["code"], first["code"]);
    let (status, full) = app
        .call(
            Method::POST,
            "/api/v1/activations",
            Some(&contact),
            Some(activate("MACHINE-B-0002")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{full}");
    assert!(
        full["detail"]
            .as_str()
            .unwrap()
            .contains("all 1 installations of SN-STD")
    );

    // Another organisation: the serial reads as nobody's, its activations are not found.
    let (status, theirs) = app
        .call(
            Method::POST,
            "/api/v1/activations",
            Some(&stranger),
            Some(activate("MACHINE-C-0003")),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{theirs}");
    assert_eq!(theirs["errors"][0]["field"], "serial");
    let (status, _) = app
        .call(
            Method::GET,
            "/api/v1/products/SN-STD/activations",
            Some(&stranger),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let deactivate = format!("/api/v1/activations/{}/deactivate", first["id"]);
    let (status, _) = app
        .call(Method::POST, &deactivate, Some(&stranger), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, malformed) = app
        .call(
            Method::POST,
            "/api/v1/activations",
            Some(&contact),
            Some(activate("not a machine")),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{malformed}");
    assert_eq!(malformed["errors"][0]["field"], "machine_id");

    // The machine is replaced: deactivated once, its place goes to the new one.
    let (status, freed) = app
        .call(Method::POST, &deactivate, Some(&contact), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{freed}");
    assert!(!freed["deactivated_at"].is_null());
    let (status, _) = app
        .call(Method::POST, &deactivate, Some(&contact), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, moved) = app
        .call(
            Method::POST,
            "/api/v1/activations",
            Some(&contact),
            Some(activate("MACHINE-B-0002")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{moved}");

    // Staff read any product's history, newest first.
    let (status, history) = app
        .call(
            Method::GET,
            "/api/v1/products/SN-STD/activations",
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let machines: Vec<(&str, bool)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|activation| {
            (
                activation["machine_id"].as_str().unwrap(),
                activation["deactivated_at"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        machines,
        [("MACHINE-B-0002", true), ("MACHINE-A-0001", false)]
    );
    app.stop().await;
}

/// Issues customer `customer` a one-time activation password as the administrator.
async fn issue_password(app: &TestApp, customer: i64) -> String {
    let (status, issued) = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{customer}/activation-password"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    issued["password"].as_str().unwrap().to_string()
}

/// The activation manager's pages without JavaScript: the customer number and the one-time
/// password open it once (an unknown number and a wrong password read alike, a used
/// password is told only with the right one), its forms need its token, only the
/// customer's own serials are activated, the code shown verifies for that machine, a
/// deactivation is kept with who made it, and leaving ends the session.
pub async fn the_activation_manager_opens_with_the_one_time_password(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.set_time("2026-12-01T10:00:00Z");
    app.publish_catalog().await;
    let (customer, _, _) = app.customer("ACT", "gold", "emea").await;
    app.customer("OTHER", "gold", "emea").await;
    let password = issue_password(&app, customer).await;

    let mut visitor = Visitor::new(&app);
    let form = visitor.get("/activate").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"number\""), "{}", form.body);
    let csrf = form.csrf();
    let wrong = visitor
        .post(
            "/activate/sign-in",
            &[
                ("csrf", &csrf),
                ("number", "ACT"),
                ("password", "AAAA-BBBB-CCCC-DDDD"),
            ],
        )
        .await;
    let unknown = visitor
        .post(
            "/activate/sign-in",
            &[
                ("csrf", &csrf),
                ("number", "NOBODY"),
                ("password", &password),
            ],
        )
        .await;
    for refused in [&wrong, &unknown] {
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert!(
            refused
                .body
                .contains("The customer number or the one-time password is not right."),
            "{}",
            refused.body
        );
    }
    let forged = visitor
        .post(
            "/activate/sign-in",
            &[
                ("csrf", "forged"),
                ("number", "ACT"),
                ("password", &password),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Typed as read on the phone: lower case, blanks instead of dashes.
    let typed = password.to_lowercase().replace('-', " ");
    let opened = visitor
        .post(
            "/activate/sign-in",
            &[("csrf", &csrf), ("number", "ACT"), ("password", &typed)],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    assert_eq!(opened.location(), "/activate");

    let manager = visitor.get("/activate").await;
    assert_eq!(manager.status, StatusCode::OK);
    assert!(
        manager.body.contains("Customer ACT (ACT)"),
        "{}",
        manager.body
    );
    assert!(manager.body.contains("SN-ACT"));
    assert!(!manager.body.contains("SN-OTHER"));
    let token = manager.csrf();

    // Another organisation's serial, a malformed machine, a form without the token.
    let theirs = visitor
        .post(
            "/activate",
            &[
                ("csrf", &token),
                ("serial", "SN-OTHER"),
                ("machine_id", "WS-01"),
            ],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        theirs
            .body
            .contains("SN-OTHER is not a product registered to this customer"),
        "{}",
        theirs.body
    );
    let malformed = visitor
        .post(
            "/activate",
            &[
                ("csrf", &token),
                ("serial", "SN-ACT"),
                ("machine_id", "not a machine"),
            ],
        )
        .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(malformed.body.contains("id=\"machine_id-error\""));
    let unsigned = visitor
        .post(
            "/activate",
            &[
                ("csrf", "forged"),
                ("serial", "SN-ACT"),
                ("machine_id", "WS-01"),
            ],
        )
        .await;
    assert_eq!(unsigned.status, StatusCode::FORBIDDEN);
    let product = app.store.product_by_serial("SN-ACT").await.unwrap();
    assert!(
        app.store
            .activations_of(product.id)
            .await
            .unwrap()
            .is_empty()
    );

    let activated = visitor
        .post(
            "/activate",
            &[
                ("csrf", &token),
                ("serial", "SN-ACT"),
                ("machine_id", "WS-PRINT-01"),
            ],
        )
        .await;
    assert_eq!(
        activated.status,
        StatusCode::SEE_OTHER,
        "{}",
        activated.body
    );
    let shown = visitor.get(activated.location()).await;
    assert!(
        shown
            .body
            .contains("The product is activated on this machine."),
        "{}",
        shown.body
    );
    let stored = app.store.activations_of(product.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].activated_by, format!("customer:{customer}"));
    assert!(shown.body.contains(&stored[0].code));
    let public = app
        .desk()
        .activation_keys
        .verifying_key(&app.store, app.clock.now())
        .await
        .unwrap();
    caredesk_domain::activation::check_code(&stored[0].code, &public, "SN-ACT", "WS-PRINT-01")
        .expect("the code shown verifies for its serial and machine");

    // The used password opens nothing more, and says so to whoever has it right.
    let mut another = Visitor::new(&app);
    let again = another.get("/activate").await.csrf();
    let used = another
        .post(
            "/activate/sign-in",
            &[("csrf", &again), ("number", "ACT"), ("password", &password)],
        )
        .await;
    assert_eq!(used.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(used.body.contains("was used already"), "{}", used.body);

    // Another organisation's installation is nobody's here: not found, left active.
    let (_, _, other) = app.customer("THEIRS", "gold", "emea").await;
    let theirs = activate_on_a_machine(&app, &other, "SN-THEIRS").await;
    let refused = visitor
        .post(
            &format!("/activate/{}/deactivate", theirs["id"]),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let kept = app
        .store
        .activation(theirs["id"].as_i64().unwrap())
        .await
        .unwrap();
    assert!(kept.is_active());

    // The machine is replaced: deactivated, kept with who did it.
    let deactivated = visitor
        .post(
            &format!("/activate/{}/deactivate", stored[0].id),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(deactivated.status, StatusCode::SEE_OTHER);
    let after = app.store.activation(stored[0].id).await.unwrap();
    assert!(!after.is_active());
    assert_eq!(after.deactivated_by, Some(format!("customer:{customer}")));
    let listed = visitor.get("/activate").await;
    assert!(
        listed.body.contains("by the customer (one-time password)"),
        "{}",
        listed.body
    );

    let left = visitor
        .post("/activate/sign-out", &[("csrf", &token)])
        .await;
    assert_eq!(left.status, StatusCode::SEE_OTHER);
    let closed = visitor.get("/activate").await;
    assert!(closed.body.contains("name=\"number\""), "{}", closed.body);
    app.stop().await;
}

/// Adds a release to OL Connect's catalog (after `publish_catalog`'s three).
async fn release(app: &TestApp, version: &str, kind: &str, notes: &[(&str, &str)]) {
    app.store
        .add_release(&caredesk_store::NewRelease {
            product_line: "ol-connect".into(),
            version: version.into(),
            kind: kind.into(),
            released_on: jiff::civil::date(2026, 11, 2),
            download_url: Some(format!(
                "https://downloads.example/ol-connect-{version}.zip"
            )),
            sha256: Some("ab".repeat(32)),
            notes: notes
                .iter()
                .map(|(language, text)| (language.to_string(), text.to_string()))
                .collect(),
        })
        .await
        .unwrap();
}

/// Activates `serial` on the machine WS-PRINT-01 over the API, as `token`.
async fn activate_on_a_machine(app: &TestApp, token: &str, serial: &str) -> serde_json::Value {
    let body = serde_json::json!({ "serial": serial, "machine_id": "WS-PRINT-01" });
    let (status, activation) = app
        .call(Method::POST, "/api/v1/activations", Some(token), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{activation}");
    activation
}

/// OL Connect's catalog (`publish_catalog`) and two newer releases: the update 2026.2
/// (notes in English and French) and the upgrade 2027.1 (notes in English).
async fn publish_newer_releases(app: &TestApp) {
    app.publish_catalog().await;
    release(
        app,
        "2026.2",
        "minor",
        &[
            ("en", "Faster PDF output."),
            ("fr", "Sortie PDF plus rapide."),
        ],
    )
    .await;
    release(app, "2027.1", "major", &[("en", "A new designer.")]).await;
}

/// An update check as an installed product makes it.
async fn check(
    app: &TestApp,
    code: Option<&str>,
    query: &str,
) -> (StatusCode, reqwest::header::HeaderMap, serde_json::Value) {
    let headers: Vec<(&str, String)> = code
        .map(|code| vec![("authorization", format!("Activation {code}"))])
        .unwrap_or_default();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/updates?{query}"),
            None,
            None,
            &headers,
        )
        .await;
    let status = response.status();
    let kept = response.headers().clone();
    (status, kept, crate::support::json_of(response).await)
}

/// The update manager: an installed product proves itself with its activation code and
/// learns the newest update and upgrade its licence allows today, with notes in its
/// language, or what it is not entitled to once care has lapsed and how to get it; a code
/// that is forged, of another serial or deactivated gets nothing; checks are limited.
pub async fn installed_products_ask_the_update_manager(backend: Backend) {
    let mut limits = crate::support::limits();
    limits.update_checks_per_serial_per_hour = std::num::NonZeroU32::new(7).unwrap();
    // Every check comes from one address here: its own limit stays out of the way.
    limits.update_checks_per_address_per_minute = std::num::NonZeroU32::new(1000).unwrap();
    let app = TestApp::start(backend, limits).await;
    app.set_time("2026-12-01T10:00:00Z");
    publish_newer_releases(&app).await;
    let (_, _, contact) = app.customer("UPD", "gold", "emea").await;
    let (_, _, other) = app.customer("OTH", "gold", "emea").await;
    let activation = activate_on_a_machine(&app, &contact, "SN-UPD").await;
    let code = activation["code"].as_str().unwrap().to_string();
    let other_code = activate_on_a_machine(&app, &other, "SN-OTH").await["code"]
        .as_str()
        .unwrap()
        .to_string();

    // Valid care: the update of its series and the upgrade, notes in French where written.
    let (status, _, answer) = check(
        &app,
        Some(&code),
        "serial=SN-UPD&version=2026.1&language=fr",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "available");
    assert_eq!(answer["update"]["version"], "2026.2");
    assert_eq!(answer["update"]["notes"], "Sortie PDF plus rapide.");
    assert_eq!(answer["update"]["notes_language"], "fr");
    assert_eq!(
        answer["update"]["download_url"],
        "https://downloads.example/ol-connect-2026.2.zip"
    );
    assert_eq!(answer["update"]["sha256"], "ab".repeat(32));
    assert_eq!(answer["upgrade"]["version"], "2027.1");
    assert_eq!(
        answer["upgrade"]["notes"], "A new designer.",
        "English when French is missing"
    );
    assert_eq!(answer["not_entitled"], serde_json::Value::Null);
    let (_, _, newest) = check(&app, Some(&code), "serial=SN-UPD&version=2027.1").await;
    assert_eq!(newest["status"], "up_to_date", "{newest}");

    // A release published on this instance is offered at the next check.
    let (status, published) = app
        .call(
            Method::POST,
            "/api/v1/releases",
            Some(&app.admin),
            Some(serde_json::json!({
                "product_line": "ol-connect",
                "version": "2027.2",
                "kind": "minor",
                "notes": { "en": "Fixes." },
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{published}");
    let (_, _, newer) = check(&app, Some(&code), "serial=SN-UPD&version=2027.1").await;
    assert_eq!(newer["status"], "available", "{newer}");
    assert_eq!(newer["update"]["version"], "2027.2");

    // Care has lapsed (the contract ended 2027-12-31): updates within the licensed major
    // version only; the upgrade is withheld, with why and what to do.
    app.set_time("2028-01-15T10:00:00Z");
    let (status, _, lapsed) = check(&app, Some(&code), "serial=SN-UPD&version=2026.1").await;
    assert_eq!(status, StatusCode::OK, "{lapsed}");
    assert_eq!(lapsed["status"], "available");
    assert_eq!(lapsed["update"]["version"], "2026.2");
    assert_eq!(lapsed["upgrade"], serde_json::Value::Null);
    assert_eq!(lapsed["not_entitled"]["version"], "2027.2");
    let reason = lapsed["not_entitled"]["reason"].as_str().unwrap();
    assert!(reason.contains("OL Care"), "{reason}");
    assert!(
        !lapsed["not_entitled"]["remedy"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    let (_, _, withheld) = check(&app, Some(&code), "serial=SN-UPD&version=2026.2").await;
    assert_eq!(withheld["status"], "not_entitled", "{withheld}");

    // Refused: no code, a forged one, another serial's, a malformed version.
    let (status, headers, missing) = check(&app, None, "serial=SN-UPD&version=2026.1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{missing}");
    assert_eq!(headers["www-authenticate"], "Activation");
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization: Activation")
    );
    let mut forged = code.clone().into_bytes();
    let last = forged.len() - 3;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let (status, _, refused) = check(&app, Some(&forged), "serial=SN-UPD&version=2026.1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    let (status, _, theirs) = check(&app, Some(&other_code), "serial=SN-UPD&version=2026.1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{theirs}");
    assert!(
        theirs["detail"]
            .as_str()
            .unwrap()
            .contains("for serial SN-OTH, not SN-UPD"),
        "{theirs}"
    );
    let (status, _, malformed) =
        check(&app, Some(&code), "serial=SN-UPD&version=2026%20one!").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{malformed}");
    assert_eq!(malformed["errors"][0]["field"], "version");

    // Deactivated for a machine change (by the desk: the contact's session has long
    // expired): the old code gets nothing more.
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/activations/{}/deactivate", activation["id"]),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, gone) = check(&app, Some(&code), "serial=SN-UPD&version=2026.1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{gone}");
    assert!(
        gone["detail"].as_str().unwrap().contains("deactivated"),
        "{gone}"
    );

    // Seven checks an hour for a serial, counted only for its active installations (five
    // so far: not the forged code, the other serial's, the malformed version or the
    // deactivated machine, however often it asks).
    for _ in 0..5 {
        let (status, _, _) = check(&app, Some(&code), "serial=SN-UPD&version=2026.1").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let again = activate_on_a_machine(&app, &app.admin, "SN-UPD").await;
    let code = again["code"].as_str().unwrap().to_string();
    for _ in 0..2 {
        let (status, _, answer) = check(&app, Some(&code), "serial=SN-UPD&version=2026.1").await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (status, headers, throttled) =
        check(&app, Some(&code), "serial=SN-UPD&version=2026.1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{throttled}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let (status, _, theirs) = check(&app, Some(&other_code), "serial=SN-OTH&version=2026.1").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another serial is not held up: {theirs}"
    );
    app.stop().await;
}

/// The portal's products page: each of the organisation's products with its scope (which
/// versions are supported when it is outside), its installations, and the update and the
/// upgrade it may take, notes in the reader's language; nothing of another organisation's.
pub async fn the_portal_lists_products_with_scope_and_updates(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.set_time("2026-12-01T10:00:00Z");
    publish_newer_releases(&app).await;
    let (customer, _, contact) = app.customer("PRD", "gold", "emea").await;
    let (_, _, other) = app.customer("OTHER", "gold", "emea").await;
    activate_on_a_machine(&app, &contact, "SN-PRD").await;
    activate_on_a_machine(&app, &other, "SN-OTHER").await;

    let mut visitor = Visitor::new(&app);
    visitor.sign_in("contact@prd.example").await;
    let page = visitor.get("/portal/products").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("SN-PRD"), "{body}");
    assert!(!body.contains("SN-OTHER"), "{body}");
    assert!(
        body.contains("Outside support scope (supported: 2027.1, 2026.2)"),
        "{body}"
    );
    assert!(body.contains("1 of 1 active"), "{body}");
    assert!(body.contains("Update to 2026.2"), "{body}");
    assert!(body.contains("Faster PDF output."), "{body}");
    assert!(body.contains("Upgrade to 2027.1"), "{body}");
    assert!(body.contains("https://downloads.example/ol-connect-2027.1.zip"));

    // In French, the notes written in French.
    let csrf = page.csrf();
    visitor
        .post(
            "/language",
            &[
                ("csrf", &csrf),
                ("language", "fr"),
                ("back_to", "/portal/products"),
            ],
        )
        .await;
    let french = visitor.get("/portal/products").await;
    assert!(
        french.body.contains("Sortie PDF plus rapide."),
        "{}",
        french.body
    );
    assert!(french.body.contains("Mettre à niveau vers 2027.1"));

    // The advisor sees the same on the ticket: licence, the machine, the catalog's newest
    // and the scope, flagged.
    app.staff("ada@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (status, ticket) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&contact),
            Some(crate::support::portal_ticket("PRD", "P3")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let mut advisor = Visitor::new(&app);
    advisor.sign_in("ada@desk.example").await;
    let workspace = advisor
        .get(&format!("/console/tickets/{}", ticket["id"]))
        .await;
    assert_eq!(workspace.status, StatusCode::OK);
    let panel = workspace
        .body
        .split("id=\"licence-heading\"")
        .nth(1)
        .expect("a licence panel")
        .split("</section>")
        .next()
        .unwrap();
    for shown in [
        "SN-PRD",
        "1 of 1 active",
        "WS-PRINT-01",
        "2027.1",
        "Outside support scope",
        "supported: 2027.1, 2026.2",
    ] {
        assert!(panel.contains(shown), "{shown}: {panel}");
    }

    // A phone ticket citing another customer's serial: flagged, and nothing of that
    // customer's licence is shown.
    let (_, advisor_token) = app
        .staff("bo@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let mut phone = crate::support::portal_ticket("PRD", "P3");
    phone["channel"] = serde_json::json!("phone");
    phone["customer_id"] = serde_json::json!(customer);
    phone["serial"] = serde_json::json!("SN-OTHER");
    let (status, foreign) = app
        .call(
            Method::POST,
            "/api/v1/tickets",
            Some(&advisor_token),
            Some(phone),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{foreign}");
    let workspace = advisor
        .get(&format!("/console/tickets/{}", foreign["id"]))
        .await;
    assert_eq!(workspace.status, StatusCode::OK);
    assert!(
        !workspace.body.contains("licence-heading") && !workspace.body.contains("SN-OTHER ·"),
        "{}",
        workspace.body
    );
    app.stop().await;
}

/// A line without an online update manager (PlanetPress Suite): the contact asks for the
/// release on the portal's products page and lands on the request, a ticket routed to the
/// region's advisor and flagged; asking again finds it; the API answers the same.
pub async fn an_update_is_requested_where_no_update_manager_offers_it(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.set_time("2026-12-01T10:00:00Z");
    for (version, kind) in [("8.0", "major"), ("8.1", "minor")] {
        app.store
            .add_release(&caredesk_store::NewRelease {
                product_line: "planetpress-suite".into(),
                version: version.into(),
                kind: kind.into(),
                released_on: jiff::civil::date(2026, 11, 2),
                download_url: None,
                sha256: None,
                notes: [("en".to_string(), format!("PlanetPress {version} notes."))].into(),
            })
            .await
            .unwrap();
    }
    let (advisor_id, advisor) = app
        .staff("ada@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (customer, _, contact) = app.customer("PPS", "gold", "emea").await;
    app.store
        .register_product(
            &caredesk_store::NewProduct {
                customer_id: customer,
                product_line: "planetpress-suite".into(),
                version: "8.0".into(),
                serial: "PPS-0001".into(),
                licence: Default::default(),
            },
            app.clock.now(),
        )
        .await
        .unwrap();

    let mut visitor = Visitor::new(&app);
    visitor.sign_in("contact@pps.example").await;
    let page = visitor.get("/portal/products").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Request this release"), "{}", page.body);
    let csrf = page.csrf();
    let asked = visitor
        .post(
            "/portal/products/request-update",
            &[
                ("csrf", &csrf),
                ("serial", "PPS-0001"),
                ("version", "8.1"),
                ("note", "Please send it to our IT department."),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    let location = asked.location().to_string();
    let ticket_id: i64 = location
        .strip_prefix("/portal/tickets/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{location}"));
    let ticket = visitor.get(&location).await;
    assert!(
        ticket
            .body
            .contains("deliver 8.1 for PPS-0001 (it runs 8.0)"),
        "{}",
        ticket.body
    );
    assert!(ticket.body.contains("Please send it to our IT department."));
    let page = visitor.get("/portal/products").await;
    assert!(
        page.body
            .contains(&format!("Requested: ticket #{ticket_id}")),
        "{}",
        page.body
    );
    // Refused on the page, by reason.
    let refused = visitor
        .post(
            "/portal/products/request-update",
            &[("csrf", &csrf), ("serial", "PPS-0001"), ("version", "6.0")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("6.0 is not offered to PPS-0001: ask for 8.1"),
        "{}",
        refused.body
    );

    // Over the API: the open request answers; routed to the region's advisor, flagged.
    let (status, again) = app
        .call(
            Method::POST,
            "/api/v1/update-requests",
            Some(&contact),
            Some(serde_json::json!({ "serial": "PPS-0001" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], ticket_id);
    assert_eq!(again["assignee_id"], advisor_id);
    assert_eq!(again["severity"], "P4");
    assert!(
        again["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|flag| flag["flag"] == "update_request" && flag["requested"] == "8.1"),
        "{again}"
    );
    assert_eq!(again["clocks"]["first_response"]["measured"], false);
    // A week on, unanswered: nothing is due or breached in the queue, and the ticket's
    // clocks say they only guide.
    app.set_time("2026-12-08T10:00:00Z");
    let (status, queue) = app
        .call(
            Method::GET,
            "/api/v1/queue?flag=update_request",
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let item = &queue["items"][0];
    assert_eq!(item["id"], ticket_id, "{queue}");
    assert_eq!(item["breached"], false, "{queue}");
    assert_eq!(item["at_risk"], false, "{queue}");
    assert!(item["next_due_at"].is_null(), "{queue}");
    let (_, overdue) = app
        .call(
            Method::GET,
            "/api/v1/queue?breached=true",
            Some(&advisor),
            None,
        )
        .await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 0, "{overdue}");
    let mut ada = Visitor::new(&app);
    ada.sign_in("ada@desk.example").await;
    let workspace = ada.get(&format!("/console/tickets/{ticket_id}")).await;
    assert!(
        workspace.body.contains("guidance only (not measured)"),
        "{}",
        workspace.body
    );
    let (status, problem) = app
        .call(
            Method::POST,
            "/api/v1/update-requests",
            Some(&contact),
            Some(serde_json::json!({ "serial": "SN-PPS" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "serial", "{problem}");
}
