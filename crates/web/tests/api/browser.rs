//! The portal and the console in real headless Chromium (Debian's `chromium`, driven through
//! `chromedriver` over WebDriver), against the real application, its job runner and a real
//! SMTP server on loopback. `.ci/run` installs both programs; without them this test fails
//! and says how to install them.
//!
//! A screenshot of each main page is saved under `target/e2e-screenshots/`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use caredesk_domain::ticket::Role;
use caredesk_testkit::smtp::SmtpSink;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};

use crate::notifications::runner;
use crate::support::{Backend, PASSWORD, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free loopback port, stopped when dropped.
struct Driver {
    process: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: install Debian's chromium and chromium-driver \
                 (`apt-get install chromium chromium-driver`, as .ci/run does)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            process,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A browser of its own (its own cookies), in `language`.
    async fn browser(&self, language: &str) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-extensions",
                    "--window-size=1280,1000",
                    format!("--lang={language}"),
                ],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn screenshots() -> PathBuf {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-screenshots");
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

/// Saves a screenshot of the page, after checking that it fits the window's width.
async fn snap(browser: &Client, name: &str) {
    let overflow = browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, 0, "{name} is wider than the window");
    let png = browser.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

async fn sign_in(browser: &Client, base: &str, email: &str) {
    browser.goto(&format!("{base}/sign-in")).await.unwrap();
    browser
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    browser
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    browser
        .find(Locator::Css("main button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Css("form[action='/sign-out']"))
        .await
        .unwrap();
}

async fn fill(browser: &Client, id: &str, text: &str) {
    let field = browser.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"))
        .click()
        .await
        .unwrap();
}

/// The text of the element `css`, waiting for it to appear. A page replaced between finding
/// the element and reading it (a redirect after a form) leaves a stale reference: the element
/// is looked for again on the new page rather than failing the test.
async fn text_of(browser: &Client, css: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let element = browser
            .wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{css}: {error}"));
        match element.text().await {
            Ok(text) => return text,
            Err(fantoccini::error::CmdError::Standard(error))
                if error.error == fantoccini::error::ErrorStatus::StaleElementReference
                    && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("{css}: {error}"),
        }
    }
}

/// Waits until the element `css` holds `wanted` (a page being replaced by the next one may
/// still show the old text for a moment).
async fn wait_for_text(browser: &Client, css: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = match browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(wanted) || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Switches the pages' language with the switch every page has, and waits for the page in it.
async fn switch_language(browser: &Client, language: &str) {
    browser
        .find(Locator::Id("language-switch"))
        .await
        .unwrap()
        .select_by_value(language)
        .await
        .unwrap();
    click(browser, "form[action='/language'] button").await;
    browser
        .wait()
        .for_element(Locator::Css(&format!("html[lang={language}]")))
        .await
        .unwrap();
}

async fn body(browser: &Client) -> String {
    text_of(browser, "body").await
}

pub async fn a_ticket_lives_from_portal_to_closure_in_a_real_browser(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let sink = SmtpSink::start();
    app.customer("ACME", "gold", "emea").await;
    app.customer("BETA", "standard", "emea").await;
    app.staff("advisor@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    app.staff(
        "manager@desk.example",
        Role::SupportManager,
        "emea",
        &["en"],
    )
    .await;
    let runner = runner(&app, &sink, Duration::from_millis(200));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn(runner.run(stopped));
    let driver = Driver::start();
    let base = app.base.clone();

    // The customer signs in and opens a ticket, first without a subject.
    let customer = driver.browser("en").await;
    sign_in(&customer, &base, "contact@acme.example").await;
    snap(&customer, "portal-tickets").await;
    // Our scripts run under the Content-Security-Policy.
    let loaded = customer
        .execute(
            "return typeof htmx + ' ' + document.documentElement.lang",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(loaded, "object en");
    click(&customer, "a.button[href='/portal/tickets/new']").await;
    customer
        .wait()
        .for_element(Locator::Id("product"))
        .await
        .unwrap();
    let product = customer.find(Locator::Id("product")).await.unwrap();
    product.select_by_index(1).await.unwrap();
    click(&customer, "#severity-P2").await;
    fill(
        &customer,
        "description",
        "Since this morning no invoice leaves the print queue.",
    )
    .await;
    fill(&customer, "business_impact", "Invoices are late").await;
    fill(&customer, "error_messages", "E042 spooler timeout").await;
    click(
        &customer,
        "form[action='/portal/tickets'] button[type=submit]",
    )
    .await;
    let refusal = text_of(&customer, "#subject-error").await;
    assert_eq!(refusal, "This is required.");
    snap(&customer, "portal-new-ticket-refused").await;
    fill(&customer, "subject", "Invoices stopped printing").await;
    click(
        &customer,
        "form[action='/portal/tickets'] button[type=submit]",
    )
    .await;
    let opened = text_of(&customer, "div.alert.success").await;
    assert!(opened.contains("Your ticket is open."), "{opened}");
    assert!(
        opened.contains("Covered by your care program: Gold"),
        "{opened}"
    );
    let url = customer.current_url().await.unwrap();
    let id: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();
    snap(&customer, "portal-ticket").await;

    // The acknowledgement reaches the mail server.
    let messages = sink.wait_for(1, Duration::from_secs(5)).await;
    assert!(
        messages.iter().any(|message| {
            message.to == ["contact@acme.example"]
                && message.header("Subject").unwrap_or_default()
                    == format!("[#{id}] We received your request: Invoices stopped printing")
        }),
        "no acknowledgement: {messages:?}"
    );

    // The advisor takes it from the queue with the keyboard and asks for information.
    let advisor = driver.browser("en").await;
    sign_in(&advisor, &base, "advisor@desk.example").await;
    let row = format!("a[data-queue-row][data-ticket='{id}']");
    advisor
        .wait()
        .for_element(Locator::Css(&row))
        .await
        .unwrap();
    snap(&advisor, "console-queue").await;
    advisor
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("j")
        .await
        .unwrap();
    let focused = advisor
        .execute("return document.activeElement.dataset.ticket || ''", vec![])
        .await
        .unwrap();
    assert_eq!(focused, id.to_string(), "j focuses the first ticket");
    advisor
        .active_element()
        .await
        .unwrap()
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    advisor
        .wait()
        .for_element(Locator::Id("request-kind"))
        .await
        .unwrap();
    assert!(body(&advisor).await.contains("Why this due time"));
    snap(&advisor, "console-ticket").await;
    advisor
        .find(Locator::Id("request-kind"))
        .await
        .unwrap()
        .select_by_value("information")
        .await
        .unwrap();
    fill(&advisor, "request-body", "Which printer driver do you use?").await;
    click(&advisor, "form:has(#request-kind) button[type=submit]").await;
    advisor
        .wait()
        .for_element(Locator::Id("propose-body"))
        .await
        .unwrap();
    assert!(body(&advisor).await.contains("Waiting on the customer"));

    // The customer answers; the clocks run again.
    customer.refresh().await.unwrap();
    let waiting = text_of(&customer, "#reply").await;
    assert_eq!(waiting, "We are waiting for your answer");
    assert!(
        body(&customer)
            .await
            .contains("Which printer driver do you use?")
    );
    fill(&customer, "reply-body", "The PCL6 driver, version 4.2.").await;
    click(&customer, "form:has(#reply-body) button[type=submit]").await;
    customer
        .wait()
        .for_element(Locator::XPath(
            "//div[@class='body' and contains(., 'PCL6 driver')]",
        ))
        .await
        .unwrap();

    // The advisor proposes a solution; the customer accepts it, and the ticket closes.
    advisor.refresh().await.unwrap();
    advisor
        .find(Locator::Id("resolution"))
        .await
        .unwrap()
        .select_by_value("workaround")
        .await
        .unwrap();
    fill(
        &advisor,
        "propose-body",
        "Switch the queue to the PCL5 driver until 2026.2.",
    )
    .await;
    click(&advisor, "form:has(#propose-body) button[type=submit]").await;
    advisor
        .wait()
        .for_element(Locator::XPath("//strong[contains(., 'Solution proposed')]"))
        .await
        .unwrap();
    customer.refresh().await.unwrap();
    assert!(
        text_of(&customer, "#consent")
            .await
            .contains("A solution is proposed")
    );
    snap(&customer, "portal-consent").await;
    click(&customer, "form:has(#accept-note) button[type=submit]").await;
    customer
        .wait()
        .for_element(Locator::XPath("//dd[.='Closed']"))
        .await
        .unwrap();
    let closed = app
        .store
        .ticket(id, caredesk_store::Scope::All)
        .await
        .unwrap();
    assert!(
        closed.closed_at.is_some(),
        "closed with the customer's consent"
    );

    // Another organisation cannot see it.
    let stranger = driver.browser("en").await;
    sign_in(&stranger, &base, "contact@beta.example").await;
    stranger
        .goto(&format!("{base}/portal/tickets/{id}"))
        .await
        .unwrap();
    assert!(body(&stranger).await.contains("There is nothing here"));
    stranger
        .goto(&format!("{base}/portal?show=all"))
        .await
        .unwrap();
    assert!(!body(&stranger).await.contains("Invoices stopped printing"));

    // The portal in French.
    customer
        .goto(&format!("{base}/portal?show=all"))
        .await
        .unwrap();
    switch_language(&customer, "fr").await;
    let french = body(&customer).await;
    assert!(french.contains("Gravité"), "{french}");
    snap(&customer, "portal-tickets-fr").await;
    customer
        .goto(&format!("{base}/portal/tickets/new"))
        .await
        .unwrap();
    snap(&customer, "portal-new-ticket-fr").await;

    // The managers' and reference pages render for staff.
    for (path, name) in [
        ("/console/views/escalations", "console-escalations"),
        ("/console/workload", "console-workload"),
        ("/console/policy", "console-policy"),
    ] {
        advisor.goto(&format!("{base}{path}")).await.unwrap();
        advisor
            .wait()
            .for_element(Locator::Css("main h1"))
            .await
            .unwrap();
        snap(&advisor, name).await;
    }

    for browser in [customer, advisor, stranger] {
        browser.close().await.unwrap();
    }
    drop(driver);
    let _ = stop.send(true);
    jobs.await.unwrap();
    app.stop().await;
}

/// The resource center and the community in real Chromium: a customer types a problem into
/// the new-ticket form, sees the article beside it (htmx, as they type), marks it solved, and
/// no ticket is made; another customer asks the community, an advisor answers and verifies,
/// the asker accepts.
pub async fn the_resource_center_and_the_community_in_a_real_browser(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let (acme, _, _) = app.customer("ACME", "gold", "emea").await;
    app.customer("BETA", "standard", "emea").await;
    app.staff("advisor@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let (_, reviewer) = app
        .staff("lead@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (status, created) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/resources",
            Some(&reviewer),
            Some(serde_json::json!({
                "kind": "article",
                "product_line": "ol-connect",
                "visibility": "public",
                "translation": {
                    "language": "en",
                    "title": "Invoices stop printing after an update",
                    "body": "Restart the **print spooler**, then send the invoices again.",
                },
            })),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{created}");
    let article = created["id"].as_i64().unwrap();
    app.call(
        reqwest::Method::POST,
        &format!("/api/v1/resources/{article}/translations/en/actions"),
        Some(&reviewer),
        Some(serde_json::json!({ "action": "publish" })),
    )
    .await;
    let driver = Driver::start();
    let base = app.base.clone();

    // Typing the problem brings the article beside the form; it solves the problem.
    let customer = driver.browser("en").await;
    sign_in(&customer, &base, "contact@acme.example").await;
    customer
        .goto(&format!("{base}/portal/tickets/new"))
        .await
        .unwrap();
    customer
        .find(Locator::Id("subject"))
        .await
        .unwrap()
        .send_keys("invoices do not print")
        .await
        .unwrap();
    let suggested = text_of(&customer, "#suggestions ol.results h3 a").await;
    assert_eq!(suggested, "Invoices stop printing after an update");
    snap(&customer, "portal-new-ticket-suggestions").await;
    click(&customer, "#suggestions form[action$='/solved'] button").await;
    let solved = wait_for_text(&customer, "main h1", "Glad it is solved").await;
    assert_eq!(solved, "Glad it is solved");
    assert_eq!(app.store.deflections_of(article).await.unwrap(), 1);
    assert!(
        app.store.tickets_of(acme, 10).await.unwrap().is_empty(),
        "solved without a ticket"
    );

    // Another customer asks the community.
    let asker = driver.browser("en").await;
    sign_in(&asker, &base, "contact@beta.example").await;
    asker.goto(&format!("{base}/community/ask")).await.unwrap();
    fill(&asker, "title", "Spooler stops at night").await;
    fill(
        &asker,
        "body",
        "Every night the spooler stops and invoices wait.",
    )
    .await;
    asker
        .find(Locator::Id("product_line"))
        .await
        .unwrap()
        .select_by_value("ol-connect")
        .await
        .unwrap();
    snap(&asker, "community-ask").await;
    click(&asker, "form[action='/community/ask'] button[type=submit]").await;
    assert_eq!(
        wait_for_text(&asker, "main h1", "Spooler stops at night").await,
        "Spooler stops at night"
    );
    let question = asker.current_url().await.unwrap().path().to_string();

    // An advisor answers and verifies.
    let advisor = driver.browser("en").await;
    sign_in(&advisor, &base, "advisor@desk.example").await;
    advisor.goto(&format!("{base}{question}")).await.unwrap();
    fill(
        &advisor,
        "answer-body",
        "The nightly backup locks the spool folder: exclude it.",
    )
    .await;
    click(&advisor, "form[action$='/answers'] button[type=submit]").await;
    text_of(&advisor, "form[action$='/verify'] button").await;
    click(&advisor, "form[action$='/verify'] button").await;
    let verified = wait_for_text(&advisor, "ol.answers li.answer p.meta", "Verified by").await;
    assert!(verified.contains("Verified by"), "{verified}");
    snap(&advisor, "community-question-staff").await;

    // The asker accepts it.
    asker.goto(&format!("{base}{question}")).await.unwrap();
    text_of(&asker, "form[action$='/accept'] button").await;
    click(&asker, "form[action$='/accept'] button").await;
    let accepted = text_of(&asker, "ol.answers li.answer.accepted p.meta").await;
    assert!(accepted.contains("Accepted answer"), "{accepted}");
    snap(&asker, "community-question").await;
    asker.goto(&format!("{base}/community")).await.unwrap();
    let listed = body(&asker).await;
    assert!(
        listed.contains("Spooler stops at night") && listed.contains("Solved"),
        "{listed}"
    );
    snap(&asker, "community").await;

    for browser in [customer, asker, advisor] {
        browser.close().await.unwrap();
    }
    drop(driver);
    app.stop().await;
}

/// The activation manager in French: the customer signs in with its number and one-time
/// password, activates its product on a machine, copies the code, which verifies offline
/// for that serial and machine as `caredesk activation verify` checks it; then a contact
/// signed in to the portal finds the activation there and deactivates it.
pub async fn the_activation_manager_in_a_real_browser(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    app.publish_catalog().await;
    let (customer, _, _) = app.customer("ACT", "gold", "emea").await;
    let (status, issued) = app
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/customers/{customer}/activation-password"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{issued}");
    let password = issued["password"].as_str().unwrap().to_string();
    let driver = Driver::start();
    let base = app.base.clone();

    let browser = driver.browser("en").await;
    browser.goto(&format!("{base}/activate")).await.unwrap();
    assert_eq!(text_of(&browser, "h1").await, "Activation manager");
    switch_language(&browser, "fr").await;
    assert_eq!(text_of(&browser, "h1").await, "Gestionnaire d'activation");
    fill(&browser, "number", "ACT").await;
    fill(&browser, "password", &password).await;
    click(
        &browser,
        "form[action='/activate/sign-in'] button[type=submit]",
    )
    .await;
    let banner = wait_for_text(&browser, "main .panel p", "Customer ACT").await;
    assert!(
        banner.contains("Connecté avec le mot de passe à usage unique de Customer ACT (ACT)"),
        "{banner}"
    );
    fill(&browser, "machine_id", "WS-PRINT-01").await;
    click(&browser, "form[action='/activate'] button[type=submit]").await;
    let told = wait_for_text(&browser, "#code", "Le produit est activé").await;
    assert!(
        told.contains("Le produit est activé sur cette machine"),
        "{told}"
    );
    let code = browser
        .find(Locator::Id("activation-code"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(code.starts_with("CDA1."), "{code}");
    snap(&browser, "activation-manager").await;
    // "Copy the code": into the clipboard, or selected for the person to copy where the
    // browser keeps the clipboard to itself.
    click(&browser, "button[data-copy='activation-code']").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let copied = text_of(&browser, "button[data-copy='activation-code']").await == "Copié";
        let selected = browser
            .execute(
                "var field = document.getElementById('activation-code'); \
                 return document.activeElement === field \
                   && field.selectionEnd - field.selectionStart === field.value.length;",
                vec![],
            )
            .await
            .unwrap()
            == serde_json::Value::Bool(true);
        if copied || selected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the code was neither copied nor selected"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // What an installed product does offline with the desk's public key.
    let public = caredesk_desk::activation_keys::parse_public_key(
        &caredesk_desk::activation_keys::public_key_text(
            &app.desk()
                .activation_keys
                .verifying_key(&app.store, app.clock.now())
                .await
                .unwrap(),
        ),
    )
    .unwrap();
    let claims =
        caredesk_domain::activation::check_code(&code, &public, "SN-ACT", "WS-PRINT-01").unwrap();
    assert_eq!(claims.highest_version, "2026.1");
    assert!(
        caredesk_domain::activation::check_code(&code, &public, "SN-ACT", "WS-PRINT-02").is_err()
    );
    click(&browser, "form[action='/activate/sign-out'] button").await;
    wait_for_text(&browser, "main", "mot de passe à usage unique").await;

    // The customer's contact, signed in to the portal, sees it and frees the machine.
    let contact = driver.browser("en").await;
    sign_in(&contact, &base, "contact@act.example").await;
    click(&contact, "nav a[href='/activate']").await;
    let row = wait_for_text(&contact, "tbody tr", "WS-PRINT-01").await;
    assert!(row.contains("the customer (one-time password)"), "{row}");
    click(&contact, "tbody tr form button").await;
    let row = wait_for_text(&contact, "tbody tr", "Deactivated").await;
    assert!(row.contains("by a contact of the customer"), "{row}");
    let product = app.store.product_by_serial("SN-ACT").await.unwrap();
    let kept = app.store.activations_of(product.id).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert!(!kept[0].is_active());
    assert!(
        kept[0]
            .deactivated_by
            .as_deref()
            .unwrap()
            .starts_with("contact:")
    );

    browser.close().await.unwrap();
    contact.close().await.unwrap();
    app.stop().await;
}

/// Whether the image `css` has loaded (a chart the server failed to draw has no width).
async fn image_loaded(browser: &Client, css: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let loaded = browser
            .execute(
                "var image = document.querySelector(arguments[0]); \
                 return !!image && image.complete && image.naturalWidth > 0;",
                vec![serde_json::json!(css)],
            )
            .await
            .unwrap()
            == serde_json::Value::Bool(true);
        if loaded || Instant::now() > deadline {
            return loaded;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn reports_in_a_real_browser(backend: Backend) {
    let app = TestApp::start(backend, crate::support::limits()).await;
    let (_, _, gold) = app.customer("GOLD", "gold", "emea").await;
    let (_, _, standard) = app.customer("STD", "standard", "emea").await;
    app.staff("max@desk.example", Role::SupportManager, "emea", &["en"])
        .await;
    let (_, advisor) = app
        .staff("ana@desk.example", Role::Advisor, "emea", &["en"])
        .await;
    let mut opened = Vec::new();
    for (customer, token) in [("GOLD", &gold), ("GOLD", &gold), ("STD", &standard)] {
        let (status, ticket) = app
            .call(
                reqwest::Method::POST,
                "/api/v1/tickets",
                Some(token),
                Some(crate::support::portal_ticket(customer, "P2")),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{ticket}");
        opened.push(ticket["id"].as_i64().unwrap());
    }
    app.set_time("2026-11-23T10:30:00+01:00");
    let (status, _) = app
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/tickets/{}/actions", opened[0]),
            Some(&advisor),
            Some(serde_json::json!({ "action": "reply", "body": "We are on it." })),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    // Wednesday: the other two first responses are overdue, and recorded so.
    app.set_time("2026-11-25T12:00:00+01:00");
    caredesk_desk::sweep::sweep_tickets(&app.desk(), 100)
        .await
        .unwrap();
    let driver = Driver::start();
    let base = app.base.clone();

    // The manager's dashboard: now, this week with its chart, the backlog.
    let manager = driver.browser("en").await;
    sign_in(&manager, &base, "max@desk.example").await;
    click(&manager, "nav a[href='/console/dashboard']").await;
    assert_eq!(
        wait_for_text(&manager, "h1", "Dashboard").await,
        "Dashboard"
    );
    let figure = |term: &'static str| {
        let manager = manager.clone();
        async move {
            manager
                .find(Locator::XPath(&format!(
                    "//dt[normalize-space()='{term}']/following-sibling::dd[1]"
                )))
                .await
                .unwrap_or_else(|error| panic!("{term}: {error}"))
                .text()
                .await
                .unwrap()
                // The figure, without the link to the view beside it.
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        }
    };
    assert_eq!(figure("Open tickets").await, "3");
    // Two first responses, and the answered ticket's status update of Tuesday.
    assert_eq!(figure("Breached or overdue").await, "3");
    let week = text_of(&manager, "section[aria-labelledby='week-heading']").await;
    assert!(week.contains("This week (since 2026-11-23, UTC)"), "{week}");
    assert!(week.contains("3 tickets opened"), "{week}");
    assert!(week.contains("100.0% met (1 of 1)"), "{week}");
    assert!(
        image_loaded(&manager, "figure.chart img").await,
        "the week's chart"
    );
    snap(&manager, "dashboard").await;

    // The report builder: a breakdown chosen in the form lands in the address.
    click(
        &manager,
        "section[aria-labelledby='week-heading'] p a[href^='/console/reports']",
    )
    .await;
    wait_for_text(&manager, "h1", "SLA compliance").await;
    manager
        .find(Locator::Id("r-by"))
        .await
        .unwrap()
        .select_by_value("program")
        .await
        .unwrap();
    click(&manager, "main form button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !manager
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("by=program")
    {
        assert!(
            Instant::now() < deadline,
            "the breakdown is not in the address"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gold_row = text_of(&manager, "table.report tbody tr:first-child").await;
    assert!(gold_row.starts_with("gold 2 1 0 0 1"), "{gold_row}");
    assert!(
        image_loaded(&manager, "figure.chart img").await,
        "the report's chart"
    );
    snap(&manager, "report-builder").await;
    switch_language(&manager, "fr").await;
    assert_eq!(
        text_of(&manager, "h1").await,
        "Respect des engagements (SLA)"
    );
    assert!(
        manager
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("by=program")
    );
    // The report's breaches, in the same language: the two unanswered tickets and the
    // answered one's missed status update.
    click(&manager, "main a[href^='/console/reports/breaches']").await;
    wait_for_text(&manager, "h1", "Dépassements").await;
    let rows = manager
        .find_all(Locator::Css("table.breaches tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let breached = text_of(&manager, "table.breaches tbody").await;
    assert!(breached.contains("Customer STD"), "{breached}");
    assert!(breached.contains("Customer GOLD"), "{breached}");
    assert!(breached.contains("Première réponse"), "{breached}");
    snap(&manager, "breaches").await;
    // Volume and backlog from the same report (by program), per week: three tickets
    // opened the week of the 23rd, none closed, all open; both charts beside their tables.
    manager.back().await.unwrap();
    click(&manager, "main a[href^='/console/reports/volume']").await;
    wait_for_text(&manager, "h1", "Volume et stock").await;
    manager
        .find(Locator::Id("v-span"))
        .await
        .unwrap()
        .select_by_value("week")
        .await
        .unwrap();
    click(&manager, "main form button[type=submit]").await;
    let week = wait_for_text(&manager, "#flows tbody", "2026-11-23").await;
    assert!(week.contains("2026-11-23 gold 2 0"), "{week}");
    assert!(week.contains("2026-11-23 standard 1 0"), "{week}");
    assert!(
        manager
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("span=week"),
        "the span is in the address"
    );
    let backlog = text_of(&manager, "#backlog tfoot").await;
    assert!(backlog.starts_with("Tous"), "{backlog}");
    assert!(backlog.ends_with(" 3"), "{backlog}");
    for chart in ["chart=flows", "chart=backlog"] {
        assert!(
            image_loaded(&manager, &format!("figure.chart img[src*='{chart}']")).await,
            "{chart}"
        );
    }
    snap(&manager, "volume").await;
    // Who did the work: Ana's one first response, in time, on the manager's people page.
    manager
        .goto(&format!(
            "{base}/console/reports/people?from=2026-11-01&to=2026-11-30&span=week"
        ))
        .await
        .unwrap();
    wait_for_text(&manager, "h1", "Équipe").await;
    let ana = text_of(&manager, "#people tbody").await;
    assert!(
        ana.starts_with("ana emea emea 1 1 1 1 1 0 0 100 % en (1)"),
        "{ana}"
    );
    let load = text_of(&manager, "#load tbody").await;
    assert!(load.contains("2026-11-23 1 1 1 1 1 1 0 0 100 %"), "{load}");
    assert!(
        image_loaded(&manager, "figure.chart img[src*='chart=load']").await,
        "the load chart"
    );
    snap(&manager, "people").await;

    // A customer's own report in the portal: its two tickets, never the other's.
    let customer = driver.browser("en").await;
    sign_in(&customer, &base, "contact@gold.example").await;
    click(&customer, "nav a[href='/portal/reports']").await;
    wait_for_text(&customer, "h1", "SLA compliance").await;
    let total = text_of(&customer, "table.report tbody tr:first-child").await;
    assert!(total.starts_with("All 2 1 0 0 1"), "{total}");
    assert!(
        image_loaded(&customer, "figure.chart img").await,
        "the customer's chart"
    );
    snap(&customer, "portal-report").await;
    click(&customer, "main a[href^='/portal/reports/breaches']").await;
    wait_for_text(&customer, "h1", "Breaches").await;
    let own_rows = customer
        .find_all(Locator::Css("table.breaches tbody tr"))
        .await
        .unwrap();
    assert_eq!(own_rows.len(), 2);
    let own = text_of(&customer, "table.breaches tbody").await;
    assert!(own.contains(&format!("#{}", opened[0])), "{own}");
    assert!(own.contains(&format!("#{}", opened[1])), "{own}");
    assert!(!own.contains("STD"), "{own}");
    // Its own volume: two tickets opened, both open.
    customer.back().await.unwrap();
    click(&customer, "main a[href^='/portal/reports/volume']").await;
    wait_for_text(&customer, "h1", "Volume and backlog").await;
    let flows = text_of(&customer, "#flows tfoot").await;
    assert_eq!(flows, "All 2 0");
    let backlog = text_of(&customer, "#backlog tfoot").await;
    assert!(backlog.ends_with(" 2"), "{backlog}");
    app.stop().await;
}
