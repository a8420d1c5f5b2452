//! Signing in with e-mail and password, signing out, and who am I.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use caredesk_domain::ticket::Role;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use caredesk_desk::access;
use caredesk_desk::sessions::{check_credentials, open_session};
use caredesk_store::SessionRecord;

use crate::auth::{ClientAddress, Principal, bearer_token, user_agent};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Session {
    /// Send it as `Authorization: Bearer <token>`.
    token: String,
    expires_at: Timestamp,
    me: Me,
}

/// The signed-in person.
#[derive(Serialize, ToSchema)]
pub struct Me {
    kind: String,
    id: i64,
    name: String,
    email: String,
    role: Role,
    /// The organisation of a customer contact.
    customer_id: Option<i64>,
    languages: Vec<String>,
}

impl From<&Principal> for Me {
    fn from(principal: &Principal) -> Self {
        match principal {
            Principal::Staff(member) => Me {
                kind: "staff".into(),
                id: member.id,
                name: member.name.clone(),
                email: member.email.clone(),
                role: member.role,
                customer_id: None,
                languages: member.languages.clone(),
            },
            Principal::Contact(contact) => Me {
                kind: "contact".into(),
                id: contact.id,
                name: contact.name.clone(),
                email: contact.email.clone(),
                role: Role::CustomerContact,
                customer_id: Some(contact.customer_id),
                languages: vec![contact.language.clone()],
            },
        }
    }
}

/// Signs in a staff member or a customer contact and opens a session.
#[utoipa::path(
    post,
    path = "/api/v1/sessions",
    tag = "sessions",
    request_body = SignIn,
    responses(
        (status = 201, description = "Signed in", body = Session),
        (status = 401, description = "Wrong e-mail or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins for this e-mail or from this address; try again after `Retry-After` seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SignIn>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let desk = state.desk();
    let owner = check_credentials(&desk, &request.email, request.password, client).await?;
    let (token, expires_at) = open_session(&desk, &owner, client, user_agent(&headers)).await?;
    let principal = Principal::from(owner);
    Ok((
        StatusCode::CREATED,
        Json(Session {
            token,
            expires_at,
            me: Me::from(&principal),
        }),
    ))
}

/// The bearer token of a request that already authenticated.
struct SessionToken(String);

impl FromRequestParts<AppState> for SessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        bearer_token(parts)
            .map(|token| SessionToken(token.to_string()))
            .ok_or(ApiError::Unauthenticated)
    }
}

/// Signs out: ends the session whose token the request carries, or, when it carries an API
/// token, revokes that token for good.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions/current",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn sign_out(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    principal: Principal,
    SessionToken(token): SessionToken,
) -> Result<StatusCode, ApiError> {
    let desk = state.desk().from_address(client);
    access::sign_out(&desk, &principal.caller(), &token).await?;
    state.principals.forget(&token);
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own open sessions, newest first, with where each was opened from; the one
/// of this request is marked `current`.
#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Open sessions", body = Vec<SessionRecord>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_sessions(
    State(state): State<AppState>,
    principal: Principal,
    SessionToken(token): SessionToken,
) -> Result<Json<Vec<SessionRecord>>, ApiError> {
    let sessions = access::own_sessions(&state.desk(), &principal.caller(), &token).await?;
    Ok(Json(sessions))
}

/// Ends one of the caller's own sessions, such as a browser left signed in elsewhere.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions/{id}",
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Session id, from the list of sessions")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn end_session(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    access::end_own_session(&state.desk(), &principal.caller(), id).await?;
    state.principals.forget_all();
    Ok(StatusCode::NO_CONTENT)
}

/// Who the caller is.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in person", body = Me),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn me(principal: Principal) -> Json<Me> {
    Json(Me::from(&principal))
}
