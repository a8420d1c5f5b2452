//! Mail handed over by an MTA or a mail service over HTTP (the same path as
//! `caredesk mail ingest`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::StatusCode;
use caredesk_domain::ticket::Role;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use caredesk_desk::mail_in::{IngestReport, inbound_limit, ingest};

pub fn router(inbound_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_mail).layer(DefaultBodyLimit::max(inbound_limit)))
}

/// Takes in one e-mail, as RFC 5322 bytes (administrators' tokens only: issue one to the
/// mail gateway).
/// A reply to one of our messages lands on its ticket; a message from a known contact opens
/// a ticket; anything else is recorded as ignored, with why. The same Message-ID twice is
/// acted on once (the second answer says `duplicate`).
#[utoipa::path(
    post,
    path = "/api/v1/mail/inbound",
    tag = "mail",
    security(("bearer" = [])),
    request_body(content = String, content_type = "message/rfc822", description = "The message, as received"),
    responses(
        (status = 200, description = "What became of it", body = IngestReport),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty body", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn receive_mail(
    State(state): State<AppState>,
    principal: Principal,
    request: Request,
) -> Result<Json<IngestReport>, ApiError> {
    principal.require_role(&[Role::Admin])?;
    let body = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(format!(
                    "a message may be at most {} bytes",
                    inbound_limit(&state.limits.desk())
                ))
            } else {
                ApiError::Malformed(rejection.body_text())
            }
        })?;
    if body.is_empty() {
        return Err(ApiError::invalid("body", "the message is empty"));
    }
    Ok(Json(ingest(&state.desk(), &body).await?))
}
