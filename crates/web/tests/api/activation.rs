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
