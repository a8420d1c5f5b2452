//! The real application on port 0, on a temporary SQLite file or a fresh PostgreSQL
//! database, with a hand-set clock, driven over HTTP.

use caredesk_desk::sessions::hash_password;
use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::Role;
use caredesk_store::{NewContact, NewContract, NewCustomer, NewProduct, NewStaff, Store};
pub use caredesk_testkit::Backend;
use caredesk_testkit::TestDatabase;
use caredesk_web::{AppState, Clock, Limits};
use jiff::Timestamp;
use jiff::civil::date;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub clock: Clock,
    pub client: reqwest::Client,
    /// An administrator's API token.
    pub admin: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    database: Option<TestDatabase>,
}

/// The default limits, with sessions that outlast the days a test's clock moves over.
pub fn limits() -> Limits {
    Limits {
        session_hours: 24 * 365,
        ..Limits::default()
    }
}

pub fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

impl TestApp {
    pub async fn start(backend: Backend, limits: Limits) -> TestApp {
        TestApp::start_with_policy(backend, limits, Policy::built_in().unwrap()).await
    }

    /// The application with another policy than the built-in one.
    pub async fn start_with_policy(backend: Backend, limits: Limits, policy: Policy) -> TestApp {
        // The test's HTTP client and the webhooks' share one rustls: its provider first.
        caredesk_worker::delivery::install_tls_provider();
        let database = TestDatabase::new(backend).await;
        let store = database.store.clone();
        // Monday 23 November 2026, 10:00 in Amsterdam.
        let clock = Clock::manual(at("2026-11-23T10:00:00+01:00"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState {
            store: store.clone(),
            current_policy: caredesk_desk::CurrentPolicy::new(policy),
            clock: clock.clone(),
            limits,
            principals: Default::default(),
            mail_ids: caredesk_mail::MessageIds::new("desk.example"),
            secure_cookies: false,
            trusted_proxies: Default::default(),
            public_url: base.clone(),
            activation_keys: Default::default(),
            update_cache: Default::default(),
            update_limits: limits.update_limits(),
        };
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(caredesk_web::serve(listener, state, async move {
            let _ = stop.await;
        }));
        let admin = store
            .create_staff(
                &NewStaff {
                    email: "admin@desk.example".into(),
                    name: "Admin".into(),
                    role: Role::Admin,
                    region: None,
                    languages: vec!["en".into()],
                    password_hash: None,
                },
                clock.now(),
            )
            .await
            .unwrap();
        let admin_token = "cd_test_admin_token".to_string();
        store
            .add_api_token(admin.id, "tests", &admin_token, clock.now(), None)
            .await
            .unwrap();
        TestApp {
            base,
            store,
            clock,
            client: reqwest::Client::new(),
            admin: admin_token,
            shutdown: Some(shutdown),
            server: Some(server),
            database: Some(database),
        }
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        if let Some(database) = self.database.take() {
            database.finish().await;
        }
    }

    /// The desk's use cases on this application's database and clock, as the job runner
    /// works with them.
    pub fn desk(&self) -> caredesk_desk::Desk {
        caredesk_desk::Desk {
            store: self.store.clone(),
            current_policy: caredesk_desk::CurrentPolicy::new(Policy::built_in().unwrap()),
            clock: self.clock.clone(),
            mail_ids: caredesk_mail::MessageIds::new("desk.example"),
            limits: limits().desk(),
            client_address: None,
            activation_keys: Default::default(),
            update_cache: Default::default(),
        }
    }

    /// The database, for a second connection pool as another instance would have.
    pub fn database_url(&self) -> &str {
        &self.database.as_ref().unwrap().url
    }

    pub fn set_time(&self, text: &str) {
        self.clock.set(at(text));
    }

    /// A staff member with a password; returns a signed-in token.
    pub async fn staff(
        &self,
        email: &str,
        role: Role,
        region: &str,
        languages: &[&str],
    ) -> (i64, String) {
        let member = self
            .store
            .create_staff(
                &NewStaff {
                    email: email.into(),
                    name: email.split('@').next().unwrap().into(),
                    role,
                    region: Some(region.into()),
                    languages: languages
                        .iter()
                        .map(|language| language.to_string())
                        .collect(),
                    password_hash: Some(hash_password(PASSWORD).unwrap()),
                },
                self.clock.now(),
            )
            .await
            .unwrap();
        (member.id, self.sign_in(email).await)
    }

    /// A customer of `program` in `region`, with a contact who can sign in, a contract and a
    /// product; returns (customer id, contact id, contact's token).
    pub async fn customer(&self, number: &str, program: &str, region: &str) -> (i64, i64, String) {
        self.customer_speaking(number, program, region, "en").await
    }

    /// A customer (as [`TestApp::customer`]) whose organisation and contact speak `language`.
    pub async fn customer_speaking(
        &self,
        number: &str,
        program: &str,
        region: &str,
        language: &str,
    ) -> (i64, i64, String) {
        let now = self.clock.now();
        let customer = self
            .store
            .create_customer(
                &NewCustomer {
                    number: number.into(),
                    name: format!("Customer {number}"),
                    region: region.into(),
                    language: language.into(),
                },
                now,
            )
            .await
            .unwrap();
        let email = format!("contact@{}.example", number.to_lowercase());
        let contact = self
            .store
            .create_contact(
                &NewContact {
                    customer_id: customer.id,
                    name: "Contact".into(),
                    email: email.clone(),
                    phone: "+31 20 555 0100".into(),
                    language: language.into(),
                    designated: true,
                    password_hash: Some(hash_password(PASSWORD).unwrap()),
                },
                now,
            )
            .await
            .unwrap();
        self.store
            .create_contract(
                &NewContract {
                    customer_id: customer.id,
                    program: program.into(),
                    starts_on: date(2026, 1, 1),
                    ends_on: date(2027, 12, 31),
                    eula_accepted: true,
                },
                now,
            )
            .await
            .unwrap();
        self.store
            .register_product(
                &NewProduct {
                    customer_id: customer.id,
                    product_line: "ol-connect".into(),
                    version: "2026.1".into(),
                    serial: format!("SN-{number}"),
                    licence: Default::default(),
                },
                now,
            )
            .await
            .unwrap();
        (customer.id, contact.id, self.sign_in(&email).await)
    }

    /// OL Connect's releases 2025.1, 2025.2 and 2026.1 in the catalog: 2026.1 and 2025.2 in
    /// support scope.
    pub async fn publish_catalog(&self) {
        for version in ["2025.1", "2025.2", "2026.1"] {
            self.store
                .add_release(&caredesk_store::NewRelease {
                    product_line: "ol-connect".into(),
                    version: version.into(),
                    kind: "minor".into(),
                    released_on: date(2026, 1, 1),
                    download_url: None,
                    sha256: None,
                    notes: Default::default(),
                })
                .await
                .unwrap();
        }
    }

    pub async fn sign_in(&self, email: &str) -> String {
        self.sign_in_with(email, PASSWORD).await
    }

    pub async fn sign_in_with(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/sessions",
                None,
                Some(serde_json::json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// A JSON request; returns the status and the JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let response = self.request(method, path, token, body, &[]).await;
        let status = response.status();
        (status, json_of(response).await)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }
}

pub async fn json_of(response: reqwest::Response) -> Value {
    let bytes = response.bytes().await.unwrap();
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// The intake form of a portal ticket about the product `customer` registered (see
/// `TestApp::customer`).
pub fn portal_ticket(customer: &str, severity: &str) -> Value {
    serde_json::json!({
        "channel": "portal",
        "severity": severity,
        "product_line": "ol-connect",
        "version": "2026.1",
        "serial": format!("SN-{customer}"),
        "subject": "Invoices stopped printing",
        "description": "Since this morning no invoice leaves the print queue.",
        "business_impact": "Invoices are late",
        "error_messages": "E042 spooler timeout"
    })
}
