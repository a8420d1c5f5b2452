//! The portal and the console over plain HTTP, as a browser without JavaScript sees them:
//! signing in, the CSRF token every form needs, the security headers, a form refused field
//! by field, each organisation kept to itself, pages in the viewer's language.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::multipart::{Form, Part};

use crate::support::{Backend, PASSWORD, TestApp};

/// A browser's memory of one person: cookies, and nothing followed automatically.
pub struct Visitor {
    base: String,
    client: reqwest::Client,
    cookies: Vec<(String, String)>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the first form's CSRF token on the page.
    pub fn csrf(&self) -> String {
        hidden(&self.body, "csrf")
    }
}

/// The value of the first hidden input named `name`.
pub fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} on the page: {body}"))
        + marker.len();
    body[start..].split('"').next().unwrap().to_string()
}

impl Visitor {
    pub fn new(app: &TestApp) -> Visitor {
        Visitor {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Page {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(known, _)| known != name);
            if !value.is_empty() {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(fields)
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }

    pub async fn post_multipart(&mut self, path: &str, form: Form) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }

    /// Signs in through the sign-in form; returns where the desk sends this person.
    pub async fn sign_in(&mut self, email: &str) -> String {
        let form = self.get("/sign-in").await;
        let csrf = form.csrf();
        let signed_in = self
            .post(
                "/sign-in",
                &[("email", email), ("password", PASSWORD), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(
            signed_in.status,
            StatusCode::SEE_OTHER,
            "{}",
            signed_in.body
        );
        signed_in.location().to_string()
    }
}

/// The first registered product the new-ticket form offers (the empty "Choose…" option
/// comes before it).
pub fn first_product(body: &str) -> String {
    body.split("id=\"product\"")
        .nth(1)
        .unwrap()
        .split("<option value=\"")
        .nth(2)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string()
}

pub fn multipart(fields: &[(&str, &str)]) -> Form {
    fields.iter().fold(Form::new(), |form, (name, value)| {
        form.text(name.to_string(), value.to_string())
    })
}

fn assert_locked_down(page: &Page) {
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    // No inline script and no inline style anywhere on the page.
    for script in page.body.split("<script").skip(1) {
        assert!(
            script.trim_start().starts_with("src=\"/assets/"),
            "{script}"
        );
    }
    assert!(!page.body.contains("style=\""), "inline style on the page");
    assert!(
        !page.body.contains("<style"),
        "inline style sheet on the page"
    );
}

pub async fn pages_sign_in_and_check_every_form(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let (customer, _, _) = app.customer("ACME", "gold", "emea").await;

    let mut anna = Visitor::new(&app);
    // Not signed in: to the sign-in page, coming back afterwards.
    let portal = anna.get("/portal").await;
    assert_eq!(portal.status, StatusCode::SEE_OTHER);
    assert_eq!(portal.location(), "/sign-in?next=%2Fportal");
    let sign_in = anna.get("/sign-in").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    assert_locked_down(&sign_in);
    assert!(sign_in.body.contains("<html lang=\"en\""));
    let csrf = sign_in.csrf();

    // A sign-in form sent from elsewhere (no matching token) is refused, and says so.
    let forged = anna
        .post(
            "/sign-in",
            &[
                ("email", "contact@acme.example"),
                ("password", PASSWORD),
                ("csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        forged.body.contains("sent from elsewhere"),
        "{}",
        forged.body
    );
    // A wrong password: the form again, with the refusal and the address kept.
    let wrong = anna
        .post(
            "/sign-in",
            &[
                ("email", "contact@acme.example"),
                ("password", "not it"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .body
            .contains("The e-mail or the password is not right.")
    );
    assert!(wrong.body.contains("value=\"contact@acme.example\""));

    // Only our own pages are returned to, however the address is disguised.
    let mut tricked = Visitor::new(&app);
    let form = tricked.get("/sign-in?next=/%09/evil.example").await;
    assert_eq!(hidden(&form.body, "next"), "");
    assert_eq!(tricked.sign_in("contact@acme.example").await, "/portal");
    // A part of a page refreshing itself without a session sends the whole page to sign in.
    let partial = Visitor::new(&app)
        .client
        .get(format!("{}/console/queue-rows", app.base))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(partial.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        partial.headers()["hx-redirect"],
        "/sign-in?next=%2Fconsole%2Fqueue-rows"
    );

    assert_eq!(anna.sign_in("contact@acme.example").await, "/portal");
    let session = anna
        .cookies
        .iter()
        .find(|(name, _)| name == "caredesk_session")
        .expect("a session cookie");
    assert!(session.1.starts_with("cd_"));
    let list = anna.get("/portal").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_locked_down(&list);
    assert!(
        list.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );

    // The new-ticket form, sent without its required fields: every refusal by its field,
    // and nothing opened.
    let form = anna.get("/portal/tickets/new").await;
    assert_locked_down(&form);
    assert!(
        form.body.contains("SN-ACME"),
        "the registered product is offered"
    );
    let csrf = form.csrf();
    let form_key = hidden(&form.body, "form_key");
    let product = first_product(&form.body);
    let refused = anna
        .post_multipart(
            "/portal/tickets",
            multipart(&[
                ("csrf", &csrf),
                ("form_key", &form_key),
                ("product", &product),
                ("severity", "P2"),
                ("subject", ""),
                ("description", "The spooler stops."),
            ]),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"subject-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    assert!(
        refused.body.contains("The spooler stops."),
        "what was typed is kept"
    );
    assert!(
        app.store.tickets_of(customer, 10).await.unwrap().is_empty(),
        "a refused form opens nothing"
    );

    // Without the CSRF token first, the same form is refused before the rest is read.
    let forged = anna
        .post_multipart(
            "/portal/tickets",
            multipart(&[("product", &product), ("severity", "P2")]),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Complete, with a file: opened, and the same form sent twice opens one ticket.
    let complete = || {
        multipart(&[
            ("csrf", &csrf),
            ("form_key", &form_key),
            ("product", &product),
            ("severity", "P2"),
            ("subject", "Invoices stopped printing"),
            ("description", "The spooler stops."),
            ("business_impact", "Invoices are late"),
            ("error_messages", "E042 spooler timeout"),
        ])
        .part(
            "files",
            Part::bytes(b"spooler log".to_vec()).file_name("C:\\logs\\spooler.log"),
        )
    };
    let opened = anna.post_multipart("/portal/tickets", complete()).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let again = anna.post_multipart("/portal/tickets", complete()).await;
    assert_eq!(
        again.location(),
        opened.location(),
        "one ticket for one form"
    );
    let ticket_path = opened.location().split('?').next().unwrap().to_string();
    let id: i64 = ticket_path.rsplit('/').next().unwrap().parse().unwrap();
    let page = anna.get(opened.location()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Your ticket is open."));
    assert!(page.body.contains("spooler.log"), "{}", page.body);
    let attachments = app
        .store
        .attachments_of(id, caredesk_store::Scope::All)
        .await
        .unwrap();
    assert_eq!(attachments.len(), 1, "the file once, with its own name");
    assert_eq!(attachments[0].filename, "spooler.log");
    let download = anna
        .get(&format!("/tickets/{id}/files/{}", attachments[0].id))
        .await;
    assert_eq!(download.body, "spooler log");
    assert!(
        download.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );

    // Another organisation's contact: the ticket, its files and its forms do not exist.
    app.customer("BETA", "standard", "emea").await;
    let mut other = Visitor::new(&app);
    other.sign_in("contact@beta.example").await;
    let hidden_page = other.get(&ticket_path).await;
    assert_eq!(hidden_page.status, StatusCode::NOT_FOUND);
    assert!(hidden_page.body.contains("There is nothing here"));
    let hidden_file = other
        .get(&format!("/tickets/{id}/files/{}", attachments[0].id))
        .await;
    assert_eq!(hidden_file.status, StatusCode::NOT_FOUND);
    let other_list = other.get("/portal?show=all").await;
    assert!(!other_list.body.contains("Invoices stopped printing"));
    let other_csrf = other_list.csrf();
    let meddling = other
        .post_multipart(
            &ticket_path,
            multipart(&[
                ("csrf", &other_csrf),
                ("action", "reply"),
                ("body", "Let me in"),
            ]),
        )
        .await;
    assert_eq!(meddling.status, StatusCode::NOT_FOUND);
    // Nor may a contact open the console.
    assert_eq!(other.get("/console").await.location(), "/portal");

    // An advisor signs in to the console: the ticket is in the queue; a form without the
    // token is refused; with it, the customer is asked for information.
    let (_, _) = app
        .staff(
            "advisor@desk.example",
            caredesk_domain::ticket::Role::Advisor,
            "emea",
            &["en"],
        )
        .await;
    let mut advisor = Visitor::new(&app);
    assert_eq!(advisor.sign_in("advisor@desk.example").await, "/console");
    let queue = advisor.get("/console").await;
    assert_locked_down(&queue);
    assert!(
        queue.body.contains(&format!("data-ticket=\"{id}\"")),
        "{}",
        queue.body
    );
    // The managers' views are the managers'.
    assert_eq!(
        advisor.get("/console/workload").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        advisor.get("/console/views/escalations").await.status,
        StatusCode::FORBIDDEN
    );
    let workspace = advisor.get(&format!("/console/tickets/{id}")).await;
    assert_eq!(workspace.status, StatusCode::OK);
    assert!(workspace.body.contains("Why this due time"));
    let version = hidden(&workspace.body, "version");
    let ask = |csrf: &str| {
        multipart(&[
            ("csrf", csrf),
            ("version", &version),
            ("action", "request"),
            ("request", "information"),
            ("body", "Which printer driver do you use?"),
        ])
    };
    let forged = advisor
        .post_multipart(&format!("/console/tickets/{id}"), ask("forged"))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let asked = advisor
        .post_multipart(&format!("/console/tickets/{id}"), ask(&workspace.csrf()))
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    // The same form again, on the version it was made for: the ticket has moved on.
    let stale = advisor
        .post_multipart(&format!("/console/tickets/{id}"), ask(&workspace.csrf()))
        .await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        stale
            .body
            .contains("The ticket changed while you were writing")
    );

    // The customer sees what is asked, in French once switched.
    let page_token = anna.get(&ticket_path).await.csrf();
    let switched = anna
        .post(
            "/language",
            &[
                ("language", "fr"),
                ("back_to", &ticket_path),
                ("csrf", &page_token),
            ],
        )
        .await;
    assert_eq!(switched.location(), ticket_path);
    let french = anna.get(&ticket_path).await;
    assert!(french.body.contains("<html lang=\"fr\""));
    assert!(french.body.contains("Gravité"), "{}", french.body);
    assert!(french.body.contains("Which printer driver do you use?"));
    assert!(french.body.contains("déc.") || french.body.contains("nov."));
    let bad_language = anna
        .post(
            "/language",
            &[
                ("language", "xx"),
                ("back_to", "/portal"),
                ("csrf", &page_token),
            ],
        )
        .await;
    assert_eq!(bad_language.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_language.body.contains("lang=\"fr\""),
        "the failure page is French too"
    );

    // A phone ticket recorded without the business impact: the customer completes it from
    // the portal, with a file larger than an API body may be.
    let mut phone = crate::support::portal_ticket("ACME", "P3");
    phone["channel"] = serde_json::json!("phone");
    phone["customer_id"] = serde_json::json!(customer);
    phone["business_impact"] = serde_json::json!("");
    let (status, recorded) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/tickets",
            Some(&app.admin),
            Some(phone),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    let phone_id = recorded["id"].as_i64().unwrap();
    let phone_path = format!("/portal/tickets/{phone_id}");
    let page = anna.get(&phone_path).await;
    assert!(
        page.body.contains("id=\"supply-business_impact\""),
        "{}",
        page.body
    );
    let big = vec![b'x'; 2 * 1024 * 1024];
    let supplied = anna
        .post_multipart(
            &phone_path,
            multipart(&[
                ("csrf", &page.csrf()),
                ("version", &hidden(&page.body, "version")),
                ("action", "supply_details"),
                ("business_impact", "Month-end invoicing is blocked"),
            ])
            .part("files", Part::bytes(big).file_name("capture.bin")),
        )
        .await;
    assert_eq!(supplied.status, StatusCode::SEE_OTHER, "{}", supplied.body);
    let page = anna.get(&phone_path).await;
    assert!(
        !page.body.contains("id=\"supply-business_impact\""),
        "the form is gone once supplied"
    );
    assert!(page.body.contains("Month-end invoicing is blocked"));
    assert!(page.body.contains("capture.bin"));
    // A file over the attachment limit is refused whole, with a readable page.
    let too_big = vec![b'x'; crate::support::limits().max_attachment_bytes + 1];
    let refused = anna
        .post_multipart(
            &phone_path,
            multipart(&[
                ("csrf", &page.csrf()),
                ("version", &hidden(&page.body, "version")),
                ("action", "reply"),
                ("body", "One more log"),
            ])
            .part("files", Part::bytes(too_big).file_name("huge.bin")),
        )
        .await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(refused.body.contains("<html lang="), "{}", refused.body);
    let after = anna.get(&phone_path).await;
    assert!(
        !after.body.contains("One more log"),
        "nothing of a refused form is written"
    );

    // An address that leads nowhere: a page for a browser, a problem document for programs.
    let nowhere = anna
        .client
        .get(format!("{}/portal/nowhere", anna.base))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
    assert!(nowhere.headers().contains_key("content-security-policy"));
    assert!(nowhere.text().await.unwrap().contains("<html lang="));
    let (status, problem) = app
        .call(reqwest::Method::GET, "/api/v1/nowhere", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["status"], 404);

    // Signing out ends the session itself: the old cookie, sent again, opens nothing.
    let csrf = anna.get("/portal").await.csrf();
    let cookies = anna.cookies.clone();
    let out = anna.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), "/sign-in");
    anna.cookies = cookies;
    assert_eq!(anna.get("/portal").await.status, StatusCode::SEE_OTHER);

    app.stop().await;
}
