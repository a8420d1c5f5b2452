//! API tokens as their holders and administrators see them: listed (never their secrets),
//! revoked for good. Issuing one is under the staff member it is for
//! (`POST /api/v1/staff/{id}/tokens`).

use axum::Json;
use axum::extract::State;
use caredesk_desk::access;
use caredesk_store::ApiToken;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ClientAddress, Principal};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens))
        .routes(routes!(revoke_token))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenFilter {
    /// One staff member's tokens (administrators); others always see their own.
    staff_id: Option<i64>,
}

/// API tokens, newest first, revoked and expired ones included: an administrator sees
/// everyone's, any other staff member their own.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "staff",
    security(("bearer" = [])),
    params(TokenFilter),
    responses(
        (status = 200, description = "The tokens", body = Vec<ApiToken>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff only; another member's tokens for administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is not a number", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(filter): ApiQuery<TokenFilter>,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    let tokens = access::tokens(&state.desk(), &principal.caller(), filter.staff_id).await?;
    Ok(Json(tokens))
}

/// Revokes a token for good: it is refused from now on, on this instance at once and on
/// others within `auth_cache_seconds`. Administrators revoke any token, other staff their own.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 200, description = "Revoked", body = ApiToken),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Revoked already", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn revoke_token(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApiToken>, ApiError> {
    let token =
        access::revoke_token(&state.desk().from_address(client), &principal.caller(), id).await?;
    state.principals.forget_all();
    Ok(Json(token))
}
