//! Staff members and their API tokens (administrators only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use caredesk_desk::access::{self, TokenRequest};
use caredesk_desk::staff::{self, StaffForm};
use caredesk_domain::ticket::Role;
use caredesk_store::{ApiToken, OnCallShiftRecord, StaffMember};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ClientAddress, Principal};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(issue_token))
        .routes(routes!(set_availability))
        .routes(routes!(set_active))
        .routes(routes!(list_on_call, add_on_call))
}

/// The roles staff may hold (a customer contact is added to its customer instead): the
/// document's side of `Role` for a new staff member.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum StaffRole {
    Advisor,
    CustomerSuccessManager,
    SupportManager,
    Admin,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaff {
    #[schema(format = "e-mail", max_length = 254)]
    email: String,
    #[schema(format = "one-line", min_length = 1, max_length = 200)]
    name: String,
    #[schema(value_type = StaffRole)]
    role: Role,
    #[serde(default)]
    region: Option<String>,
    languages: Vec<String>,
    #[serde(default)]
    #[schema(min_length = 12, max_length = 1024)]
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
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiJson(request): ApiJson<CreateStaff>,
) -> Result<(StatusCode, Json<StaffMember>), ApiError> {
    let form = StaffForm {
        email: request.email,
        name: request.name,
        role: request.role,
        region: request.region,
        languages: request.languages,
        password: request.password,
    };
    let member = staff::add_staff(
        &state.desk().from_address(client),
        &principal.caller(),
        form,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(member)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueToken {
    /// What the token is for, such as "monitoring".
    #[schema(format = "one-line", min_length = 1, max_length = 100)]
    name: String,
    /// Refused after this many days (1 to 3650); without it, until revoked.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<u32>,
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
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn issue_token(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<IssueToken>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let request = TokenRequest {
        name: request.name,
        expires_in_days: request.expires_in_days,
    };
    let (token, secret) = access::issue_token(
        &state.desk().from_address(client),
        &principal.caller(),
        id,
        &request,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token, secret })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    /// `false` shuts the member out: their sessions end, their API tokens are revoked, and
    /// they are no longer assigned; `true` lets them sign in again (with new tokens).
    active: bool,
}

/// Deactivates or reactivates a staff member (administrators only, never themselves).
#[utoipa::path(
    put,
    path = "/api/v1/staff/{id}/active",
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Staff member id")),
    request_body = Activity,
    responses(
        (status = 200, description = "The staff member as now", body = StaffMember),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such staff member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An administrator deactivating themselves", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn set_active(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<Activity>,
) -> Result<Json<StaffMember>, ApiError> {
    let desk = state.desk().from_address(client);
    let member = staff::set_active(&desk, &principal.caller(), id, request.active).await?;
    // Their sessions and tokens are gone: nothing remembered of them may let them in.
    state.principals.forget_all();
    Ok(Json(member))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    /// Present and taking new tickets; `false` while away (leave, training).
    available: bool,
}

/// Marks a staff member present or away: assignment skips an advisor who is away. Staff
/// set their own; support managers and administrators anyone's.
#[utoipa::path(
    put,
    path = "/api/v1/staff/{id}/availability",
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Staff member id")),
    request_body = Availability,
    responses(
        (status = 200, description = "The staff member as now", body = StaffMember),
        (status = 403, description = "Someone else's, and not a manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such staff member", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn set_availability(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<Availability>,
) -> Result<Json<StaffMember>, ApiError> {
    let caller = principal.caller();
    Ok(Json(
        staff::set_availability(
            &state.desk().from_address(client),
            &caller,
            id,
            request.available,
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OnCallParams {
    /// One region's office only.
    region: Option<String>,
}

/// The on-call rota: shifts not over yet, by start (staff only).
#[utoipa::path(
    get,
    path = "/api/v1/on-call",
    tag = "staff",
    security(("bearer" = [])),
    params(OnCallParams),
    responses(
        (status = 200, description = "Current and coming shifts", body = Vec<OnCallShiftRecord>),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_on_call(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<OnCallParams>,
) -> Result<Json<Vec<OnCallShiftRecord>>, ApiError> {
    principal.require_staff()?;
    if let Some(region) = &params.region
        && let Err(unknown) = state.policy().region(region)
    {
        return Err(ApiError::invalid("region", unknown.to_string()));
    }
    Ok(Json(
        state
            .store
            .on_call_shifts(params.region.as_deref(), state.clock.now())
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShift {
    /// The region whose office the advisor covers after hours.
    region: String,
    staff_id: i64,
    starts_at: Timestamp,
    ends_at: Timestamp,
}

/// Puts an advisor on call for a region's office after its hours: extended-coverage
/// tickets opened then go to them (support managers and administrators only).
#[utoipa::path(
    post,
    path = "/api/v1/on-call",
    tag = "staff",
    security(("bearer" = [])),
    request_body = NewShift,
    responses(
        (status = 201, description = "Added to the rota", body = OnCallShiftRecord),
        (status = 403, description = "Support managers and administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_on_call(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    ApiJson(request): ApiJson<NewShift>,
) -> Result<(StatusCode, Json<OnCallShiftRecord>), ApiError> {
    let shift = staff::add_on_call(
        &state.desk().from_address(client),
        &principal.caller(),
        &request.region,
        request.staff_id,
        request.starts_at,
        request.ends_at,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(shift)))
}
