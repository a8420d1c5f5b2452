//! One router per feature, merged into the API with its OpenAPI document.

pub mod activations;
pub mod audit;
pub mod community;
pub mod customers;
pub mod health;
pub mod mail;
pub mod notices;
pub mod openapi;
pub mod queue;
pub mod releases;
pub mod reports;
pub mod resources;
pub mod services;
pub mod sessions;
pub mod staff;
pub mod tickets;
pub mod tokens;
pub mod update_requests;
pub mod updates;

use caredesk_desk::mail_in::inbound_limit;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::{AppState, Limits};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "caredesk",
        description = "A technical-support desk that keeps the promises of its support policy. \
            Every error is application/problem+json naming the faulty fields.",
        license(name = "MIT")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "sessions", description = "Signing in and out"),
        (name = "tickets", description = "Tickets, their timelines and their SLA clocks"),
        (name = "queue", description = "The work queue in policy order, and the managers' views"),
        (name = "resources", description = "The resource center: knowledge-base articles and external resources, searched before a ticket is opened"),
        (name = "community", description = "Community questions and answers: customers ask, peers and staff answer, the asker accepts, staff verify and moderate"),
        (name = "service requests", description = "Professional-services requests: custom programming outside the native languages"),
        (name = "customers", description = "Customers, contacts, care contracts and registered products"),
        (name = "activation", description = "Product activation: activation codes signed for a serial and a machine, installations counted by licence"),
        (name = "releases", description = "The release catalog of each product line: what is in support scope, what an installed product may update to"),
        (name = "staff", description = "Staff members, their availability, the on-call rota and API tokens"),
        (name = "mail", description = "E-mail in: replies land on their tickets, known contacts open tickets"),
        (name = "reports", description = "What the policy promised and what was kept: SLA compliance per program, severity, region, advisor, customer"),
        (name = "notices", description = "The outbox: notices that failed, sent again by administrators; webhooks; the audit trail"),
    )
)]
struct ApiDocument;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // An installed product asking the update manager: its activation code.
        components.add_security_scheme(
            "activation",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Activation <code>`: the installation's activation code",
            ))),
        );
    }
}

/// The API under `/api/v1`.
pub fn api(limits: Limits) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDocument::openapi())
        .merge(sessions::router())
        .merge(tokens::router())
        .merge(audit::router())
        .merge(reports::router())
        .merge(tickets::router(limits))
        .merge(queue::router())
        .merge(services::router())
        .merge(resources::router())
        .merge(community::router())
        .merge(customers::router())
        .merge(releases::router())
        .merge(activations::router())
        .merge(updates::router())
        .merge(update_requests::router())
        .merge(staff::router())
        .merge(notices::router())
        .merge(mail::router(inbound_limit(&limits.desk())))
}

/// 201 Created with `body` and where the new record lives.
pub(crate) fn created(location: &str, body: impl serde::Serialize) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = (axum::http::StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(location) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, value);
    }
    response
}
