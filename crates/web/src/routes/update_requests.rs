//! Asking for an update of a product line without an online update manager (POLICY.md §9):
//! the request becomes a ticket of the customer's region, flagged `update_request`, which an
//! advisor delivers.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use caredesk_desk::intake::Opened;
use caredesk_desk::update_requests::{UpdateRequestForm, request_update};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ClientAddress, Principal};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, idempotency_key};
use crate::routes::tickets::{TicketView, respond_opened};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ask_for_update))
}

/// Asks for a release of a registered product whose line has no online update manager
/// (a contact for its organisation, staff for any customer). The request is a ticket at the
/// policy's `activation.update_request_severity`, routed like any ticket of the customer's
/// region and flagged `update_request`; its clocks breach only if the policy's
/// `activation.update_requests_breach` says so. Asked again while it is open, or retried
/// with the same `Idempotency-Key`, the same ticket answers (200).
#[utoipa::path(
    post,
    path = "/api/v1/update-requests",
    tag = "releases",
    security(("bearer" = [])),
    request_body = UpdateRequestForm,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "Requested: the ticket", body = TicketView),
        (status = 200, description = "Already requested: the open ticket", body = TicketView),
        (status = 403, description = "A contact asking for another organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key was used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not the customer's product, a line with an online update manager, or a release the licence does not allow", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn ask_for_update(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    headers: HeaderMap,
    ApiJson(form): ApiJson<UpdateRequestForm>,
) -> Result<Response, ApiError> {
    let idempotency_key = idempotency_key(&headers)?;
    let desk = state.desk().from_address(client);
    let created = request_update(&desk, &principal.caller(), &form, idempotency_key).await?;
    respond_opened(&state, &principal, Opened::Ticket(created))
}
