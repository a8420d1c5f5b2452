//! The activation manager (`/activate`, POLICY.md §9): a customer signs in with its customer
//! number and the one-time password it received at purchase (or a contact signed in to the
//! portal comes as itself, staff for any product), chooses a registered serial, pastes the
//! machine identifier its installation shows and copies back the activation code. The
//! products' activations are listed with who made them, when and from where; an
//! installation is deactivated here when its machine is replaced.
//!
//! A one-time password is used up when it signs in, so the manager keeps the customer
//! signed in for [`MANAGER_SESSION_MINUTES`] in a session of its own (a cookie holding a
//! secret of which the store keeps the hash); its forms carry a token derived from it.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use caredesk_desk::DeskError;
use caredesk_desk::activation::{
    self, ActivationForm, Activator, MANAGER_SESSION_MINUTES, ManagedProduct,
};
use caredesk_store::StoreError;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::forms::{CsrfOnly, errors_in, unprocessable};
use super::i18n::Catalog;
use super::session::{
    ACTIVATION_COOKIE, Viewer, check_visitor_csrf, constant_time_eq, cookie, csrf_of, set_cookie,
    set_header_cookie, throttled_form, visitor_catalog, visitor_token,
};
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::ClientAddress;
use crate::edge::PageForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/activate", get(manager).post(activate))
        .route("/activate/sign-in", post(sign_in))
        .route("/activate/sign-out", post(sign_out))
        .route("/activate/{id}/deactivate", post(deactivate))
}

/// Who is at the activation manager, and what their pages need.
struct Visitor {
    activator: Activator,
    catalog: &'static Catalog,
    time_zone: TimeZone,
    csrf: String,
    /// A customer signed in with its one-time password (not a portal or console session).
    with_password: Option<CustomerBanner>,
    /// The signed-in portal or console user, for the page's header.
    viewer: Option<Viewer>,
}

/// Who a customer signed in with its password is, shown at the top of the page.
struct CustomerBanner {
    line: String,
}

impl Visitor {
    fn page(&self, path: &str) -> Page {
        let title = self.catalog.get("activate.title").to_string();
        match &self.viewer {
            Some(viewer) => Page {
                path: path.to_string(),
                ..viewer.page(title)
            },
            None => Page::public(title, self.catalog, self.csrf.clone(), path),
        }
    }

    fn check_csrf(&self, sent: &str) -> Result<(), UiError> {
        if constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(UiError::Forbidden)
        }
    }
}

/// The portal or console user, else the customer signed in with its one-time password,
/// else nobody (who is shown the sign-in form).
async fn visitor_of(
    state: &AppState,
    headers: &HeaderMap,
    viewer: Result<Viewer, UiError>,
) -> Result<Option<Visitor>, UiError> {
    // Someone signed in to the portal or the console acts as themselves, whatever an
    // earlier visitor of this browser left in the activation manager's cookie.
    match viewer {
        Ok(viewer) => {
            return Ok(Some(Visitor {
                activator: Activator::Caller(viewer.principal.caller()),
                catalog: viewer.catalog,
                time_zone: viewer.time_zone.clone(),
                csrf: viewer.csrf.clone(),
                with_password: None,
                viewer: Some(viewer),
            }));
        }
        Err(UiError::SignIn { .. }) => {}
        Err(other) => return Err(other),
    }
    if let Some(secret) = cookie(headers, ACTIVATION_COOKIE) {
        let desk = state.desk();
        if let Some(customer_id) = activation::manager_session(&desk, &secret).await? {
            let catalog = visitor_catalog(headers);
            let customer = state.store.customer(customer_id).await?;
            let time_zone = state
                .policy()
                .regions
                .get(&customer.region)
                .map_or(TimeZone::UTC, |region| region.time_zone.clone());
            return Ok(Some(Visitor {
                activator: Activator::Customer { customer_id },
                catalog,
                csrf: csrf_of(&secret),
                with_password: Some(CustomerBanner {
                    line: catalog.format(
                        "activate.signed_in_as",
                        &[("customer", &customer.name), ("number", &customer.number)],
                    ),
                }),
                time_zone,
                viewer: None,
            }));
        }
    }
    Ok(None)
}

// Signing in with the one-time password ------------------------------------------------

#[derive(Template)]
#[template(path = "activate/sign_in.html")]
struct SignInPage {
    page: Page,
    number: String,
    intro: String,
    alert: Option<String>,
}

fn sign_in_page(
    catalog: &'static Catalog,
    csrf: String,
    number: String,
    alert: Option<String>,
) -> SignInPage {
    SignInPage {
        page: Page::public(
            catalog.get("activate.title").to_string(),
            catalog,
            csrf,
            "/activate",
        ),
        number,
        intro: catalog.format(
            "activate.sign_in_intro",
            &[("minutes", &MANAGER_SESSION_MINUTES.to_string())],
        ),
        alert,
    }
}

#[derive(Deserialize)]
struct SignInForm {
    csrf: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    password: String,
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    PageForm(form): PageForm<SignInForm>,
) -> Result<Response, UiError> {
    check_visitor_csrf(&headers, &form.csrf)?;
    let catalog = visitor_catalog(&headers);
    let refused = |alert: String, status: StatusCode| -> Result<Response, UiError> {
        let page = sign_in_page(
            catalog,
            form.csrf.clone(),
            form.number.trim().to_string(),
            Some(alert),
        );
        let mut response = render(&page)?.into_response();
        *response.status_mut() = status;
        Ok(response)
    };
    let desk = state.desk().from_address(client);
    match activation::sign_in(&desk, &form.number, &form.password, client).await {
        Ok(session) => {
            let mut response = Redirect::to("/activate").into_response();
            set_header_cookie(
                &mut response,
                &set_cookie(
                    &state,
                    ACTIVATION_COOKIE,
                    &session.secret,
                    MANAGER_SESSION_MINUTES * 60,
                ),
            );
            Ok(response)
        }
        Err(DeskError::WrongCredentials) => refused(
            catalog.get("activate.refused").to_string(),
            StatusCode::UNAUTHORIZED,
        ),
        Err(DeskError::Throttled {
            retry_after_seconds,
        }) => throttled_form(catalog, retry_after_seconds, refused),
        // The right password, used or expired: told to whoever typed it.
        Err(DeskError::Invalid(problems)) => {
            let alert = problems
                .iter()
                .map(|problem| problem.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            refused(alert, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => Err(other.into()),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Result<Viewer, UiError>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, UiError> {
    let Some(visitor) = visitor_of(&state, &headers, viewer).await? else {
        return Ok(Redirect::to("/activate").into_response());
    };
    visitor.check_csrf(&form.csrf)?;
    if let Some(secret) = cookie(&headers, ACTIVATION_COOKIE) {
        activation::close_manager_session(&state.desk(), &secret).await?;
    }
    let mut response = Redirect::to("/activate").into_response();
    set_header_cookie(&mut response, &set_cookie(&state, ACTIVATION_COOKIE, "", 0));
    Ok(response)
}

// The manager ---------------------------------------------------------------------------

/// An activation as a row of its product's table.
struct ActivationRow {
    id: i64,
    machine_id: String,
    code: String,
    highest_version: String,
    activated: String,
    activated_by: String,
    activated_from: String,
    /// When it was deactivated, and by whom; empty while active.
    deactivated: String,
    active: bool,
    /// Made or shown again just now: its code is offered to copy.
    just_activated: bool,
}

struct ProductRow {
    serial: String,
    line: String,
    edition: String,
    licensed_version: String,
    installations: String,
    activations: Vec<ActivationRow>,
}

#[derive(Template)]
#[template(path = "activate/manager.html")]
struct ManagerPage {
    page: Page,
    banner: Option<String>,
    staff: bool,
    products: Vec<ProductRow>,
    /// The activation made or found by the last form, to copy.
    granted: Option<Granted>,
    serial: String,
    machine_id: String,
    errors: std::collections::HashMap<String, String>,
}

struct Granted {
    message: &'static str,
    code: String,
}

impl ManagerPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

#[derive(Deserialize, Default)]
struct ManagerQuery {
    /// The activation just made (or found again): its code is offered to copy.
    #[serde(default)]
    activated: Option<i64>,
    /// Whether it was made just now (else the machine had it already).
    #[serde(default)]
    new: Option<bool>,
    /// For staff: the product to show.
    #[serde(default)]
    serial: Option<String>,
}

async fn manager(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Result<Viewer, UiError>,
    Query(query): Query<ManagerQuery>,
) -> Result<Response, UiError> {
    let Some(visitor) = visitor_of(&state, &headers, viewer).await? else {
        let (token, set) = visitor_token(&state, &headers);
        let page = sign_in_page(visitor_catalog(&headers), token, String::new(), None);
        let mut response = render(&page)?.into_response();
        if let Some(set) = set {
            set_header_cookie(&mut response, &set);
        }
        return Ok(response);
    };
    let page = manager_page(
        &state,
        &visitor,
        query.serial.unwrap_or_default(),
        String::new(),
        query.activated.map(|id| (id, query.new.unwrap_or(false))),
        std::collections::HashMap::new(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

async fn manager_page(
    state: &AppState,
    visitor: &Visitor,
    serial: String,
    machine_id: String,
    granted: Option<(i64, bool)>,
    errors: std::collections::HashMap<String, String>,
) -> Result<ManagerPage, UiError> {
    let desk = state.desk();
    let staff = visitor.activator.customer().is_none();
    let shown_serial = (staff && !serial.trim().is_empty()).then_some(serial.as_str());
    let managed = activation::managed_products(&desk, &visitor.activator, shown_serial).await?;
    let mut granted_code = None;
    let products = managed
        .iter()
        .map(|managed| {
            let row = product_row(state, visitor, managed, granted.map(|(id, _)| id));
            if let Some(found) = row.activations.iter().find(|row| row.just_activated) {
                granted_code = Some(Granted {
                    message: if granted.is_some_and(|(_, new)| new) {
                        "activate.activated_new"
                    } else {
                        "activate.activated_again"
                    },
                    code: found.code.clone(),
                });
            }
            row
        })
        .collect();
    let serial = if serial.is_empty() {
        managed
            .first()
            .map(|managed| managed.product.serial.clone())
            .unwrap_or_default()
    } else {
        serial
    };
    Ok(ManagerPage {
        page: visitor.page("/activate"),
        banner: visitor
            .with_password
            .as_ref()
            .map(|banner| banner.line.clone()),
        staff,
        products,
        granted: granted_code,
        serial,
        machine_id,
        errors,
    })
}

fn product_row(
    state: &AppState,
    visitor: &Visitor,
    managed: &ManagedProduct,
    granted: Option<i64>,
) -> ProductRow {
    let product = &managed.product;
    let active = managed
        .activations
        .iter()
        .filter(|activation| activation.is_active())
        .count();
    let when = |at| visitor.catalog.when(at, &visitor.time_zone);
    ProductRow {
        serial: product.serial.clone(),
        line: state
            .policy()
            .product_lines
            .get(&product.product_line)
            .map_or_else(|| product.product_line.clone(), |line| line.name.clone()),
        edition: product.licence.edition.clone().unwrap_or_default(),
        licensed_version: product.licence.licensed_version.clone(),
        installations: visitor.catalog.format(
            "activate.installations_count",
            &[
                ("active", &active.to_string()),
                ("allowed", &product.licence.installations.to_string()),
            ],
        ),
        activations: managed
            .activations
            .iter()
            .map(|activation| ActivationRow {
                id: activation.id,
                machine_id: activation.machine_id.clone(),
                code: activation.code.clone(),
                highest_version: activation.highest_version.clone(),
                activated: when(activation.activated_at),
                activated_by: who(visitor.catalog, &activation.activated_by),
                activated_from: activation.activated_from.clone(),
                deactivated: activation
                    .deactivated_at
                    .map(|at| {
                        visitor.catalog.format(
                            "activate.deactivated_on",
                            &[
                                ("when", &when(at)),
                                (
                                    "who",
                                    &who(
                                        visitor.catalog,
                                        activation.deactivated_by.as_deref().unwrap_or_default(),
                                    ),
                                ),
                            ],
                        )
                    })
                    .unwrap_or_default(),
                active: activation.is_active(),
                just_activated: granted == Some(activation.id) && activation.is_active(),
            })
            .collect(),
    }
}

/// Who made or undid an activation, in words: "the customer (one-time password)", "a
/// contact", "staff".
fn who(catalog: &'static Catalog, key: &str) -> String {
    let kind = key.split(':').next().unwrap_or_default();
    match kind {
        "customer" => catalog.get("activate.by_customer").to_string(),
        "contact" => catalog.get("activate.by_contact").to_string(),
        "staff" => catalog.get("activate.by_staff").to_string(),
        _ => key.to_string(),
    }
}

#[derive(Deserialize)]
struct ActivateForm {
    csrf: String,
    #[serde(default)]
    serial: String,
    #[serde(default)]
    machine_id: String,
}

async fn activate(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    viewer: Result<Viewer, UiError>,
    PageForm(form): PageForm<ActivateForm>,
) -> Result<Response, UiError> {
    let Some(visitor) = visitor_of(&state, &headers, viewer).await? else {
        return Ok(Redirect::to("/activate").into_response());
    };
    visitor.check_csrf(&form.csrf)?;
    let desk = state.desk().from_address(client);
    let asked = ActivationForm {
        serial: form.serial.clone(),
        machine_id: form.machine_id.clone(),
    };
    match activation::activate(&desk, &visitor.activator, asked).await {
        Ok(granted) => {
            let serial: String =
                form_urlencoded::byte_serialize(granted.product.serial.as_bytes()).collect();
            Ok(Redirect::to(&format!(
                "/activate?activated={}&new={}&serial={serial}#code",
                granted.activation.id, granted.new
            ))
            .into_response())
        }
        Err(DeskError::Invalid(problems)) => {
            let errors = errors_in(visitor.catalog, &problems);
            let page =
                manager_page(&state, &visitor, form.serial, form.machine_id, None, errors).await?;
            Ok(unprocessable(render(&page)?))
        }
        Err(DeskError::Conflict { detail, .. }) => {
            let errors = std::collections::HashMap::from([("serial".to_string(), detail)]);
            let page =
                manager_page(&state, &visitor, form.serial, form.machine_id, None, errors).await?;
            let mut response = render(&page)?.into_response();
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}

async fn deactivate(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    viewer: Result<Viewer, UiError>,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, UiError> {
    let Some(visitor) = visitor_of(&state, &headers, viewer).await? else {
        return Ok(Redirect::to("/activate").into_response());
    };
    visitor.check_csrf(&form.csrf)?;
    let desk = state.desk().from_address(client);
    let activation = match activation::deactivate(&desk, &visitor.activator, id).await {
        Ok(activation) => activation,
        Err(DeskError::Store(StoreError::NotFound)) => return Err(UiError::NotFound),
        Err(other) => return Err(other.into()),
    };
    let back = if visitor.activator.customer().is_none() {
        let product = state.store.product(activation.product_id).await?;
        let serial: String = form_urlencoded::byte_serialize(product.serial.as_bytes()).collect();
        format!("/activate?serial={serial}")
    } else {
        "/activate".to_string()
    };
    Ok(Redirect::to(&back).into_response())
}
