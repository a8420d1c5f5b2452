//! The release catalog (POLICY.md §9): every signed-in caller reads it, with which releases
//! are in support scope; administrators and support managers publish and retire releases.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use caredesk_desk::catalog::{self, CatalogEntry, Published, ReleaseForm, WaitingTicket};
use jiff::civil::Date;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ClientAddress, Principal};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_releases, publish_release))
        .routes(routes!(retire_release))
        .routes(routes!(planned_tickets))
}

/// The tickets waiting for a release with their fix (P4, "planned for release"), oldest
/// first: what publishing that release will propose to their customers (staff only).
#[utoipa::path(
    get,
    path = "/api/v1/releases/planned-tickets",
    tag = "releases",
    security(("bearer" = [])),
    params(CatalogParams),
    responses(
        (status = 200, description = "The tickets waiting for a release", body = Vec<WaitingTicket>),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown product line", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn planned_tickets(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<CatalogParams>,
) -> Result<Json<Vec<WaitingTicket>>, ApiError> {
    let desk = state.desk();
    let waiting =
        catalog::waiting_tickets(&desk, &principal.caller(), params.product_line.as_deref())
            .await?;
    Ok(Json(waiting))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogParams {
    /// One product line's releases only.
    product_line: Option<String>,
}

/// The catalog: by product line, newest first, with notes and whether each release is in
/// support scope (the most recent ones that are not retired).
#[utoipa::path(
    get,
    path = "/api/v1/releases",
    tag = "releases",
    security(("bearer" = [])),
    params(CatalogParams),
    responses(
        (status = 200, description = "The catalog", body = Vec<CatalogEntry>),
        (status = 422, description = "Unknown product line", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_releases(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(params): ApiQuery<CatalogParams>,
) -> Result<Json<Vec<CatalogEntry>>, ApiError> {
    let entries = catalog::catalog(&state.desk(), params.product_line.as_deref()).await?;
    Ok(Json(entries))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRelease {
    product_line: String,
    /// Letters, digits, '.', '-', '_' and '+'; ordered among the line's releases as
    /// people read versions ("8.10" after "8.9").
    #[schema(
        min_length = 1,
        max_length = 40,
        pattern = "^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$"
    )]
    version: String,
    /// "major" (an upgrade) or "minor" (an update).
    #[schema(pattern = "^(major|minor)$")]
    kind: String,
    /// Today when absent.
    released_on: Option<Date>,
    /// An http or https address; requires `sha256`. Empty: none.
    #[schema(max_length = 2000, pattern = "^(https?://[^\\s/][^\\s]*)?$")]
    download_url: Option<String>,
    /// The download's SHA-256 checksum, 64 hexadecimal digits. Empty: none.
    #[schema(pattern = "^([0-9a-fA-F]{64})?$")]
    sha256: Option<String>,
    /// Release notes by language of the policy.
    #[serde(default)]
    notes: BTreeMap<String, String>,
    /// Tickets planned for this release (P4, "planned for release") whose fix is not in it
    /// after all: they are told and go back to their advisors. Every other ticket planned
    /// for it gets a proposed solution (the fix is in this release) awaiting the customer's
    /// consent.
    #[serde(default)]
    without_fix: Vec<i64>,
}

/// Publishes a release (administrators and support managers).
#[utoipa::path(
    post,
    path = "/api/v1/releases",
    tag = "releases",
    security(("bearer" = [])),
    request_body = PublishRelease,
    responses(
        (status = 201, description = "Published, with the tickets that were planned for it", body = Published),
        (status = 403, description = "Administrators and support managers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The version is already in the catalog", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn publish_release(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiJson(request): ApiJson<PublishRelease>,
) -> Result<(StatusCode, Json<Published>), ApiError> {
    let form = ReleaseForm {
        product_line: request.product_line,
        version: request.version,
        kind: request.kind,
        released_on: request.released_on,
        download_url: request.download_url,
        sha256: request.sha256,
        notes: request.notes,
        without_fix: request.without_fix,
    };
    let entry = catalog::publish(
        &state.desk().from_address(client),
        &principal.caller(),
        form,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Retires a release: it stays in the catalog, out of support scope and no longer offered
/// as an update (administrators and support managers).
#[utoipa::path(
    post,
    path = "/api/v1/releases/{id}/retire",
    tag = "releases",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Release id")),
    responses(
        (status = 200, description = "Retired", body = CatalogEntry),
        (status = 403, description = "Administrators and support managers only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already retired", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn retire_release(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CatalogEntry>, ApiError> {
    let entry =
        catalog::retire(&state.desk().from_address(client), &principal.caller(), id).await?;
    Ok(Json(entry))
}
