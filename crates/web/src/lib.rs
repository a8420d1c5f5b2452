//! caredesk over HTTP: the JSON API under `/api/v1`, its OpenAPI document, health checks,
//! sign-in and rights; and the pages people use, the customer portal and the advisor
//! console (`ui`).
//!
//! The router is built from one router per feature (`routes::*`), each documenting its
//! handlers for OpenAPI next to their code. Handlers parse, check rights, call one use case
//! of the desk ([`caredesk_desk`]) and render what it says, turning every failure into
//! `application/problem+json` (see [`error`]) or a readable page; read-only listings (and the
//! upload of a lone attachment) use the store directly.

pub mod auth;
mod cursor;
mod download;
pub mod edge;
mod error;
mod extract;
mod markdown;
pub mod proxies;
mod routes;
mod ui;
pub mod update_limits;

use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use caredesk_desk::updates::UpdateCache;
use caredesk_desk::{ActivationKeys, CurrentPolicy, Desk, DeskLimits};
use caredesk_domain::policy::Policy;
use caredesk_domain::sign_in::SignInThrottle;
use caredesk_store::Store;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use update_limits::UpdateLimits;
use utoipa::openapi::OpenApi;

pub use caredesk_desk::Clock;
pub use error::ApiError;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The policy version in force for this instance, shared with its jobs.
    pub current_policy: CurrentPolicy,
    pub clock: Clock,
    pub limits: Limits,
    /// Whom recently seen bearer tokens name (see `auth`).
    pub principals: auth::PrincipalCache,
    /// Our messages' ids, to thread inbound replies.
    pub mail_ids: caredesk_mail::MessageIds,
    /// The desk is served over HTTPS: browsers send its cookies over HTTPS only.
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<proxies::TrustedProxies>,
    /// Where people reach the desk, without a trailing slash: the links advisors put in
    /// replies, which customers also read by mail.
    pub public_url: String,
    /// The key that signs activation codes, read once and shared by every request.
    pub activation_keys: ActivationKeys,
    /// What the update manager read lately, shared by every request.
    pub update_cache: UpdateCache,
    /// How often installed products have asked the update manager lately.
    pub update_limits: Arc<UpdateLimits>,
}

impl AppState {
    /// The policy in force now; a request takes it once.
    pub fn policy(&self) -> Arc<Policy> {
        self.current_policy.get()
    }

    /// The desk's use cases, over this state's database, the policy in force now and the
    /// clock.
    pub fn desk(&self) -> Desk {
        Desk {
            store: self.store.clone(),
            // Pinned: one request works under one version, even should another come into
            // force while it is served.
            current_policy: CurrentPolicy::from(self.policy()),
            clock: self.clock.clone(),
            mail_ids: self.mail_ids.clone(),
            limits: self.limits.desk(),
            client_address: None,
            activation_keys: self.activation_keys.clone(),
            update_cache: self.update_cache.clone(),
        }
    }
}

/// Sizes and durations the operator may tune.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest JSON body accepted.
    pub max_body_bytes: usize,
    /// Largest attachment accepted.
    pub max_attachment_bytes: usize,
    /// How long a signed-in session lasts.
    pub session_hours: i64,
    /// How long whom a bearer token names is remembered without asking the database
    /// (0: ask every time). A token revoked elsewhere works at most this long after.
    pub auth_cache_seconds: u32,
    /// How many update checks a serial may make in an hour, and an address in a minute.
    pub update_checks_per_serial_per_hour: NonZeroU32,
    pub update_checks_per_address_per_minute: NonZeroU32,
    /// How many wrong passwords, and then how long to wait.
    pub sign_in: SignInThrottle,
}

impl Limits {
    /// The update manager's counters, empty, for these limits.
    pub fn update_limits(&self) -> Arc<UpdateLimits> {
        Arc::new(UpdateLimits::new(
            self.update_checks_per_serial_per_hour,
            self.update_checks_per_address_per_minute,
        ))
    }

    /// The limits the desk's use cases apply.
    pub fn desk(&self) -> DeskLimits {
        DeskLimits {
            max_attachment_bytes: self.max_attachment_bytes,
            session_hours: self.session_hours,
            sign_in: self.sign_in,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_attachment_bytes: 10 * 1024 * 1024,
            session_hours: 12,
            auth_cache_seconds: 5,
            update_checks_per_serial_per_hour: NonZeroU32::new(24).unwrap_or(NonZeroU32::MIN),
            update_checks_per_address_per_minute: NonZeroU32::new(600).unwrap_or(NonZeroU32::MIN),
            sign_in: SignInThrottle::default(),
        }
    }
}

/// The application: every route, and the OpenAPI document describing the API.
pub fn app(state: AppState) -> (Router, serde_json::Value) {
    let (api, openapi) = routes::api(state.limits).split_for_parts();
    let openapi = finished_document(openapi, &state.policy());
    let document = Arc::new(openapi.clone());
    let router = Router::new()
        .merge(routes::health::router())
        .merge(api)
        .merge(routes::openapi::router(document))
        .merge(ui::router(state.limits))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(axum::middleware::from_fn(edge::refuse_control_characters))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    (router, openapi)
}

/// Nothing at this address: a problem document for the API and programs, a readable page
/// for a browser.
async fn not_found(request: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    let wants_page = !request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(axum::http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if wants_page {
        ui::not_found_page(request.headers())
    } else {
        ApiError::NotFound.into_response()
    }
}

/// The OpenAPI document of the API as served at `/api/v1/openapi.json` under `policy`.
pub fn openapi(policy: &Policy) -> serde_json::Value {
    finished_document(routes::api(Limits::default()).split_for_parts().1, policy)
}

/// The handlers' document with the answers every operation shares, and its request side as
/// strict as the checks under the policy in force.
fn finished_document(mut openapi: OpenApi, policy: &Policy) -> serde_json::Value {
    routes::openapi::complete_responses(&mut openapi);
    let mut document = serde_json::to_value(&openapi).unwrap_or_default();
    routes::openapi::tighten_requests(&mut document, policy);
    document
}

/// Serves the application on `listener` until `shutdown` completes; requests in flight are
/// finished before this returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (router, _) = app(state);
    // Each request knows its client's address (sign-in is throttled per address).
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
