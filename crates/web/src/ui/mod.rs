//! The pages people use: the customer portal (`/portal`) and the advisor console
//! (`/console`), server-rendered (askama) with htmx for the parts that refresh, in the
//! viewer's language and time zone.
//!
//! Handlers do what the API's do, through the same intake and the same `decide`: a page
//! can never allow what the API refuses. Every page is sent with a Content-Security-Policy
//! that allows scripts and styles from our own `/assets` only (no inline script, no inline
//! style), and failures become a readable page in the visitor's language.

mod account;
mod activate;
mod assets;
mod care;
mod charts;
mod community;
mod console;
mod forms;
pub mod i18n;
mod people;
mod portal;
mod products;
mod releases;
mod replay;
mod reports;
mod resources;
mod session;
mod ticket_search;
mod view;
mod volume;
mod writers;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use caredesk_domain::ticket::Role;

use crate::error::ApiError;
use crate::{AppState, Limits};
use i18n::Catalog;

/// The pages, with their security headers and readable failures.
pub fn router(limits: Limits) -> Router<AppState> {
    // A form may carry a few attachments besides its text.
    let form_limit = limits
        .max_attachment_bytes
        .saturating_mul(forms::MAX_FILES)
        .saturating_add(limits.max_body_bytes);
    Router::new()
        .route("/", get(home))
        .route(
            "/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/sign-out", post(session::sign_out))
        .route("/language", post(session::switch_language))
        .merge(
            portal::router()
                .merge(resources::router())
                .merge(community::router())
                .merge(writers::router())
                .merge(console::router())
                .merge(reports::router())
                .merge(replay::router())
                .merge(volume::router())
                .merge(people::router())
                .merge(releases::router())
                .merge(activate::router())
                .merge(products::router())
                .merge(care::router())
                .merge(ticket_search::router())
                .merge(account::router())
                .layer(DefaultBodyLimit::max(form_limit)),
        )
        .layer(middleware::from_fn(same_origin_forms))
        .layer(middleware::from_fn(readable_failures))
        .layer(middleware::from_fn(page_headers))
        .merge(assets::router())
}

/// The signed-in person's home: the portal for customers, the console for staff.
async fn home(viewer: Result<session::Viewer, UiError>) -> Response {
    match viewer {
        Ok(viewer) if matches!(viewer.principal, crate::auth::Principal::Contact(_)) => {
            Redirect::to("/portal").into_response()
        }
        Ok(_) => Redirect::to("/console").into_response(),
        Err(_) => Redirect::to("/sign-in").into_response(),
    }
}

/// What every page's layout needs.
pub struct Page {
    pub title: String,
    pub catalog: &'static Catalog,
    pub csrf: String,
    /// The signed-in person's name; none on the sign-in page.
    pub viewer: Option<String>,
    pub role: Option<Role>,
    /// This page's own address, to come back to after switching language.
    pub path: String,
    /// When the page was made, on the desk's clock: countdowns count from it.
    pub now: String,
}

impl Page {
    /// A page for someone not signed in.
    pub fn public(title: String, catalog: &'static Catalog, csrf: String, path: &str) -> Page {
        Page {
            title,
            catalog,
            csrf,
            viewer: None,
            role: None,
            path: path.to_string(),
            now: String::new(),
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        self.catalog.get(key)
    }

    pub fn lang(&self) -> &str {
        self.catalog.language
    }

    pub fn languages(&self) -> &'static [(&'static str, &'static str)] {
        &i18n::LANGUAGES
    }

    pub fn is_staff(&self) -> bool {
        self.role.is_some_and(|role| role != Role::CustomerContact)
    }

    pub fn is_customer(&self) -> bool {
        self.role == Some(Role::CustomerContact)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Some(Role::Admin)
    }

    pub fn is_csm(&self) -> bool {
        self.role == Some(Role::CustomerSuccessManager)
    }

    pub fn is_manager(&self) -> bool {
        matches!(self.role, Some(Role::SupportManager | Role::Admin))
    }
}

/// A page that could not be shown, as the visitor should read it.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// Not signed in (or no longer): to the sign-in form, then back to `back_to`. A part of
    /// a page (htmx) asks the browser to take the whole page there.
    #[error("sign in first")]
    SignIn { back_to: String, partial: bool },
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    /// The database is away for now: the page says to try again shortly.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected: {0}")]
    Unexpected(String),
}

impl From<ApiError> for UiError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Unauthenticated => UiError::SignIn {
                back_to: "/".into(),
                partial: false,
            },
            ApiError::Forbidden(_) => UiError::Forbidden,
            ApiError::CredentialRefused(detail) => UiError::BadRequest(detail),
            ApiError::NotFound => UiError::NotFound,
            ApiError::Malformed(detail) | ApiError::UnsupportedMediaType(detail) => {
                UiError::BadRequest(detail)
            }
            ApiError::Invalid(errors) => UiError::BadRequest(
                errors
                    .iter()
                    .map(|error| format!("{}: {}", error.field, error.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            ApiError::MethodNotAllowed => UiError::NotFound,
            ApiError::Conflict { detail, .. } | ApiError::StaleVersion(detail) => {
                UiError::Conflict(detail)
            }
            ApiError::TooLarge(detail) => UiError::TooLarge(detail),
            throttled @ (ApiError::Throttled { .. } | ApiError::TooManyChecks { .. }) => {
                UiError::BadRequest(throttled.to_string())
            }
            ApiError::Unavailable(detail) => UiError::Unavailable(detail),
            ApiError::Unexpected(detail) => UiError::Unexpected(detail),
        }
    }
}

impl From<caredesk_desk::DeskError> for UiError {
    fn from(error: caredesk_desk::DeskError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<caredesk_store::StoreError> for UiError {
    fn from(error: caredesk_store::StoreError) -> Self {
        ApiError::from(error).into()
    }
}

/// Carried from a failed handler to `readable_failures`, which knows the visitor's
/// language and writes the page.
#[derive(Clone, Debug)]
struct Failure {
    detail: Option<String>,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            UiError::SignIn { back_to, partial } => {
                let next: String = form_urlencoded::byte_serialize(back_to.as_bytes()).collect();
                let target = format!("/sign-in?next={next}");
                if partial {
                    let mut response = StatusCode::NO_CONTENT.into_response();
                    if let Ok(value) = HeaderValue::from_str(&target) {
                        response.headers_mut().insert("hx-redirect", value);
                    }
                    return response;
                }
                return Redirect::to(&target).into_response();
            }
            UiError::Forbidden => (StatusCode::FORBIDDEN, None),
            UiError::NotFound => (StatusCode::NOT_FOUND, None),
            UiError::BadRequest(detail) => (StatusCode::BAD_REQUEST, Some(detail)),
            UiError::Conflict(detail) => (StatusCode::CONFLICT, Some(detail)),
            UiError::TooLarge(detail) => (StatusCode::PAYLOAD_TOO_LARGE, Some(detail)),
            UiError::Unavailable(detail) => {
                tracing::warn!(%detail, "a page answered unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, None)
            }
            UiError::Unexpected(detail) => {
                tracing::error!(%detail, "a page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(Failure { detail });
        response
    }
}

#[derive(Template)]
#[template(path = "failure.html")]
struct FailurePage {
    page: Page,
    message: String,
    detail: Option<String>,
}

/// The page for an address that leads nowhere, in the visitor's language.
pub fn not_found_page(headers: &axum::http::HeaderMap) -> Response {
    failure_for_visitor(headers, StatusCode::NOT_FOUND, None)
}

/// A failure page in the visitor's language, with the pages' headers, for a request refused
/// before it reached a page.
pub fn failure_for_visitor(
    headers: &axum::http::HeaderMap,
    status: StatusCode,
    detail: Option<String>,
) -> Response {
    let catalog = session::visitor_catalog(headers);
    let mut response = failure_page(catalog, status, detail);
    lock_down(&mut response);
    response
}

fn failure_page(catalog: &'static Catalog, status: StatusCode, detail: Option<String>) -> Response {
    let key = match status {
        StatusCode::FORBIDDEN => "failure.forbidden",
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => "failure.not_found",
        StatusCode::CONFLICT => "failure.conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "failure.too_large",
        StatusCode::SERVICE_UNAVAILABLE => "failure.unavailable",
        status if status.is_server_error() => "failure.unexpected",
        _ => "failure.bad_request",
    };
    let page = FailurePage {
        page: Page::public(
            catalog.get("failure.title").to_string(),
            catalog,
            String::new(),
            "/",
        ),
        message: catalog.get(key).to_string(),
        detail,
    };
    let mut response = match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(_) => status.into_response(),
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(crate::error::RETRY_UNAVAILABLE_AFTER_SECONDS),
        );
    }
    response
}

/// Turns a failure (ours, or the framework's: a form too large, a path that does not
/// parse) into a page in the visitor's language.
async fn readable_failures(request: Request, next: Next) -> Response {
    let catalog = session::visitor_catalog(request.headers());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // A page that explains itself (a form shown again with its errors) stays as it is.
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes().starts_with(b"text/html"));
    if is_page {
        return response;
    }
    let detail = response
        .extensions()
        .get::<Failure>()
        .and_then(|failure| failure.detail.clone());
    failure_page(catalog, status, detail)
}

/// A second line behind the forms' CSRF tokens: a request that changes something must come
/// from our own pages. Browsers say where a request comes from (`Sec-Fetch-Site`, or else
/// `Origin`); one from another site is refused. A client that says neither (not a browser,
/// or an old one) still needs the form's token.
async fn same_origin_forms(request: Request, next: Next) -> Response {
    if !request.method().is_safe() && !from_our_pages(request.headers()) {
        return UiError::Forbidden.into_response();
    }
    next.run(request).await
}

fn from_our_pages(headers: &header::HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        // "none": typed or bookmarked by the person; "same-origin": one of our pages.
        return matches!(site, "same-origin" | "none");
    }
    match (text("origin"), text("host")) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, origin_host)| origin_host.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Headers of every page: no script or style but ours, never framed, never cached (pages
/// show a customer's data).
async fn page_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    lock_down(&mut response);
    response
}

fn lock_down(response: &mut Response) {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// A template as an HTML response.
pub fn render(template: &impl Template) -> Result<Html<String>, UiError> {
    template
        .render()
        .map(Html)
        .map_err(|error| UiError::Unexpected(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> header::HeaderMap {
        let mut headers = header::HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn only_our_own_pages_may_post() {
        assert!(from_our_pages(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(from_our_pages(&headers(&[("sec-fetch-site", "none")])));
        assert!(!from_our_pages(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(!from_our_pages(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        let ours = [("origin", "https://desk.example"), ("host", "desk.example")];
        assert!(from_our_pages(&headers(&ours)));
        let theirs = [("origin", "https://evil.example"), ("host", "desk.example")];
        assert!(!from_our_pages(&headers(&theirs)));
        assert!(!from_our_pages(&headers(&[
            ("origin", "null"),
            ("host", "desk.example")
        ])));
        // Not a browser: the form's own token decides.
        assert!(from_our_pages(&headers(&[("host", "desk.example")])));
    }
}
