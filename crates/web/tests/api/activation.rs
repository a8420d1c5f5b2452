//! Product activation (POLICY.md §9): one-time activation passwords issued by
//! administrators, shown once and kept as hashes.

use caredesk_domain::ticket::Role;
use reqwest::{Method, StatusCode};

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
