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
