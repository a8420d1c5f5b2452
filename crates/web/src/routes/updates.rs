//! The update manager's endpoint (POLICY.md §9): what an installed product calls, daily,
//! to learn what it may update to. It proves itself with its activation code in
//! `Authorization: Activation <code>`; no user account is involved. Checks are limited per
//! serial and per client address (429 with `Retry-After`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use caredesk_desk::updates::{self, UpdateAnswer, UpdateRequest};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ClientAddress;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check_updates))
}

/// The authorization scheme of an installed product.
pub const SCHEME: &str = "Activation";

#[derive(Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UpdateQuery {
    /// The product's serial number, as its activation code names it.
    #[param(min_length = 1, max_length = 100)]
    serial: String,
    /// The version installed.
    #[param(min_length = 1, max_length = 50)]
    version: String,
    /// The language to read the release notes in (English, else any, when it has none).
    #[param(max_length = 35)]
    language: Option<String>,
}

/// What may the installed product update to: the newest update of its series and the
/// newest upgrade its licence allows today (notes in its language, download and checksum),
/// that it is up to date, or the newer release it is not entitled to and what to do.
#[utoipa::path(
    get,
    path = "/api/v1/updates",
    tag = "activation",
    security(("activation" = [])),
    params(UpdateQuery),
    responses(
        (status = 200, description = "What the installation may update to", body = UpdateAnswer),
        (status = 401, description = "No activation code, or one refused: not signed by the desk, for another serial, or deactivated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A version that is not one", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many checks for this serial or from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn check_updates(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<UpdateQuery>,
) -> Result<Json<UpdateAnswer>, ApiError> {
    if let Some(retry_after_seconds) = state.update_limits.check_address(client) {
        return Err(ApiError::TooManyChecks {
            retry_after_seconds,
        });
    }
    let code = activation_code(&headers).ok_or_else(|| {
        ApiError::CredentialRefused(format!(
            "an activation code is required: send it as `Authorization: {SCHEME} <code>`"
        ))
    })?;
    let desk = state.desk().from_address(client);
    let claims = updates::signed_claims(&desk, code).await?;
    let request = UpdateRequest {
        serial: query.serial,
        version: query.version,
        language: query.language,
        code: code.to_string(),
    };
    let product = updates::activated(&desk, &request, &claims).await?;
    // Counted only for active installations: nobody else, not even a machine deactivated
    // since, can use up a product's checks.
    if let Some(retry_after_seconds) = state.update_limits.check_serial(&product.serial) {
        return Err(ApiError::TooManyChecks {
            retry_after_seconds,
        });
    }
    let answer = updates::answer(&desk, &product, &request).await?;
    Ok(Json(answer))
}

/// The activation code of `Authorization: Activation <code>` (the scheme in any case).
fn activation_code(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(SCHEME))
        .map(|(_, code)| code.trim())
        .filter(|code| !code.is_empty())
}
