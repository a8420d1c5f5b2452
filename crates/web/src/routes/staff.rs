//! Staff members and their API tokens (administrators only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use caredesk_domain::ticket::Role;
use caredesk_store::{ApiToken, NewStaff, StaffMember};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Principal, hash_password_off_thread, new_token};
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiPath};
use crate::routes::customers::looks_like_email;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(issue_token))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaff {
    email: String,
    name: String,
    role: Role,
    #[serde(default)]
    region: Option<String>,
    languages: Vec<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Every staff member (staff only).
#[utoipa::path(
    get,
    path = "/api/v1/staff",
    tag = "staff",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The staff", body = Vec<StaffMember>),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_staff(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<StaffMember>>, ApiError> {
    principal.require_staff()?;
    Ok(Json(state.store.staff().await?))
}

/// Adds a staff member (administrators only).
#[utoipa::path(
    post,
    path = "/api/v1/staff",
    tag = "staff",
    security(("bearer" = [])),
    request_body = CreateStaff,
    responses(
        (status = 201, description = "Added", body = StaffMember),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail address is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_staff(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateStaff>,
) -> Result<(StatusCode, Json<StaffMember>), ApiError> {
    principal.require_role(&[Role::Admin])?;
    let mut errors = FieldErrors::default();
    if !looks_like_email(&request.email) {
        errors.add("email", "not an e-mail address");
    }
    if request.name.trim().is_empty() {
        errors.add("name", "must not be empty");
    }
    if request.role == Role::CustomerContact {
        errors.add(
            "role",
            "customer contacts are added to their customer, not to the staff",
        );
    }
    if let Some(region) = &request.region
        && let Err(unknown) = state.policy.region(region)
    {
        errors.add("region", unknown.to_string());
    }
    for language in &request.languages {
        if !state.policy.languages.supported.contains(language) {
            errors.add(
                "languages",
                format!("\"{language}\" is not a supported language"),
            );
        }
    }
    if request
        .password
        .as_ref()
        .is_some_and(|password| password.chars().count() < 12)
    {
        errors.add("password", "at least 12 characters");
    }
    errors.finish()?;
    let password_hash = match request.password {
        Some(password) => Some(hash_password_off_thread(password).await?),
        None => None,
    };
    let new = NewStaff {
        email: request.email,
        name: request.name.trim().to_string(),
        role: request.role,
        region: request.region,
        languages: request.languages,
        password_hash,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_staff(&new, state.clock.now()).await?),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueToken {
    /// What the token is for, such as "monitoring".
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct IssuedToken {
    token: ApiToken,
    /// Shown once: only its hash is kept.
    secret: String,
}

/// Issues an API token for a staff member (administrators only).
#[utoipa::path(
    post,
    path = "/api/v1/staff/{id}/tokens",
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Staff member id")),
    request_body = IssueToken,
    responses(
        (status = 201, description = "Issued", body = IssuedToken),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such staff member", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn issue_token(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<IssueToken>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    principal.require_role(&[Role::Admin])?;
    state.store.staff_member(id).await?;
    if request.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let secret = new_token();
    let token = state
        .store
        .add_api_token(id, request.name.trim(), &secret, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token, secret })))
}
