//! Professional-services requests: what intake made of a request for custom programming in
//! a language the products do not speak natively (POLICY.md §3). Staff quote it, the
//! customer accepts or declines the quote; no support clock ever runs on it.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use caredesk_desk::services::act;
use caredesk_domain::services::{
    ServiceAction, ServiceCommand, ServiceState, allowed_service_actions,
};
use caredesk_store::ServiceRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, if_match_version};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests))
        .routes(routes!(get_request))
        .routes(routes!(act_on_request))
        .routes(routes!(request_for_ticket))
}

/// Asks for professional services for a ticket decided outside technical support (POLICY.md
/// §8a): a request of the ticket's customer, prefilled from the ticket. Asking again
/// answers the same request (200).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/service-request",
    tag = "service requests",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket number")),
    responses(
        (status = 201, description = "Requested", body = ServiceRequestView),
        (status = 200, description = "Requested before: the same request", body = ServiceRequestView),
        (status = 404, description = "No such ticket for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The ticket is not outside technical support", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn request_for_ticket(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let recorded =
        caredesk_desk::services::request_for_ticket(&state.desk(), &principal.caller(), id).await?;
    let status = if recorded.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(ServiceRequestView::of(recorded.request, &principal)),
    )
        .into_response())
}

/// A professional-services request, with what the caller may do next.
#[derive(Serialize, ToSchema)]
pub struct ServiceRequestView {
    #[serde(flatten)]
    request: ServiceRequest,
    allowed_actions: Vec<ServiceAction>,
}

impl ServiceRequestView {
    pub fn of(request: ServiceRequest, principal: &Principal) -> Self {
        Self {
            allowed_actions: allowed_service_actions(request.state, principal.role()),
            request,
        }
    }

    /// The view with its ETag (its version); a request just recorded (202) also says where
    /// it lives.
    pub fn respond(self, status: StatusCode) -> Response {
        let etag = format!("\"{}\"", self.request.version_number);
        let location = format!("/api/v1/service-requests/{}", self.request.id);
        let mut response = (status, Json(self)).into_response();
        if let Ok(value) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, value);
        }
        if status == StatusCode::ACCEPTED
            && let Ok(value) = HeaderValue::from_str(&location)
        {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    }
}

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestListParams {
    /// requested, quoted, accepted or declined.
    #[param(pattern = "^(requested|quoted|accepted|declined)$")]
    state: Option<String>,
    /// The id of the last request of the previous page.
    before: Option<i64>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Professional-services requests, newest first; a customer contact sees its own
/// organisation's only.
#[utoipa::path(
    get,
    path = "/api/v1/service-requests",
    tag = "service requests",
    security(("bearer" = [])),
    params(RequestListParams),
    responses(
        (status = 200, description = "The requests", body = Vec<ServiceRequestView>),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_requests(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<RequestListParams>,
) -> Result<Json<Vec<ServiceRequestView>>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("between 1 and {MAX_PAGE}"),
        ));
    }
    let wanted = params
        .state
        .as_deref()
        .map(|text| {
            ServiceState::parse(text).ok_or_else(|| {
                let states: Vec<&str> =
                    ServiceState::ALL.iter().map(ServiceState::as_str).collect();
                ApiError::invalid("state", format!("one of {}", states.join(", ")))
            })
        })
        .transpose()?;
    let requests = state
        .store
        .service_requests(principal.scope(), wanted, params.before, limit)
        .await?;
    Ok(Json(
        requests
            .into_iter()
            .map(|request| ServiceRequestView::of(request, &principal))
            .collect(),
    ))
}

/// One professional-services request.
#[utoipa::path(
    get,
    path = "/api/v1/service-requests/{id}",
    tag = "service requests",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Request number")),
    responses(
        (status = 200, description = "The request; its ETag is its version", body = ServiceRequestView),
        (status = 404, description = "No such request for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_request(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let request = state.store.service_request(id, principal.scope()).await?;
    Ok(ServiceRequestView::of(request, &principal).respond(StatusCode::OK))
}

/// Quotes a request (staff), or accepts or declines its quote (the customer; staff record
/// an answer given otherwise). With `If-Match`, only on that version.
#[utoipa::path(
    post,
    path = "/api/v1/service-requests/{id}/actions",
    tag = "service requests",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Request number"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change is based on"),
    ),
    request_body = ServiceCommand,
    responses(
        (status = 200, description = "Done; the request as it is now", body = ServiceRequestView),
        (status = 403, description = "The caller's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the request's state; the allowed actions are listed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The request changed since the ETag given", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn act_on_request(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(command): ApiJson<ServiceCommand>,
) -> Result<Response, ApiError> {
    let expected_version = if_match_version(&headers)?;
    let updated = act(
        &state.desk(),
        &principal.caller(),
        id,
        command,
        expected_version,
    )
    .await?;
    Ok(ServiceRequestView::of(updated, &principal).respond(StatusCode::OK))
}
