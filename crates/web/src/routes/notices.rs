//! The outbox as administrators see it: what could not be delivered, and sending it again
//! once the cause is fixed.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use caredesk_domain::ticket::Role;
use caredesk_store::{OutboxEntry, Webhook};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use caredesk_desk::webhooks;

use crate::auth::{ClientAddress, Principal};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notices))
        .routes(routes!(retry_notice))
        .routes(routes!(list_webhooks, add_webhook))
        .routes(routes!(remove_webhook))
}

const STATES: [&str; 4] = ["pending", "sent", "failed", "skipped"];

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeParams {
    /// pending, sent, failed (the default: tried for the last time) or skipped (nobody to
    /// tell).
    #[param(pattern = "^(pending|sent|failed|skipped)$")]
    state: Option<String>,
    /// At most this many, oldest first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// One notice of the outbox.
#[derive(Serialize, ToSchema)]
pub struct NoticeView {
    id: i64,
    /// null for a notice of no ticket (sign_in_burst, community_answer, release_announced,
    /// monthly_report).
    ticket_id: Option<i64>,
    /// The event of the ticket's timeline that called for it.
    event_seq: u32,
    /// acknowledgement, public_update, waiting_on_you, solution_proposed, consent_reminder,
    /// closed, assigned, update_due_soon, first_response_at_risk, resolution_at_risk, breach,
    /// escalation, new_ticket, ticket_event (a webhook delivery), sign_in_burst (to
    /// administrators: sign-ins were throttled), community_answer, release_announced or
    /// monthly_report (a customer's report of the month just ended).
    kind: String,
    /// contact, csm, staff (with staff_id) or webhook (with webhook_id).
    recipient: String,
    staff_id: Option<i64>,
    webhook_id: Option<i64>,
    state: String,
    attempts: u32,
    /// Not sent before this instant (the next try, for a pending notice).
    not_before: Timestamp,
    /// Why the last attempt failed, or why there was nobody to tell.
    last_error: Option<String>,
    created_at: Timestamp,
    sent_at: Option<Timestamp>,
    /// What a notice of no ticket says (sign_in_burst: the address, the failures, the
    /// account when it is one of the desk's, when; monthly_report: the customer and the
    /// month).
    #[schema(value_type = Option<Object>)]
    details: Option<serde_json::Value>,
}

impl From<OutboxEntry> for NoticeView {
    fn from(entry: OutboxEntry) -> NoticeView {
        NoticeView {
            id: entry.id,
            ticket_id: entry.ticket_id,
            event_seq: entry.event_seq,
            kind: entry.kind.as_str().to_string(),
            recipient: entry.recipient,
            staff_id: entry.staff_id,
            webhook_id: entry.webhook_id,
            state: entry.state,
            attempts: entry.attempts,
            not_before: entry.not_before,
            last_error: entry.last_error,
            created_at: entry.created_at,
            sent_at: entry.sent_at,
            details: entry
                .details
                .as_deref()
                .and_then(|details| serde_json::from_str(details).ok()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NoticeList {
    notices: Vec<NoticeView>,
}

/// Notices in one state, oldest first: by default those that failed for good (administrators
/// only).
#[utoipa::path(
    get,
    path = "/api/v1/admin/notices",
    tag = "notices",
    security(("bearer" = [])),
    params(NoticeParams),
    responses(
        (status = 200, description = "The notices", body = NoticeList),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown state or a bad limit", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_notices(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<NoticeParams>,
) -> Result<Json<NoticeList>, ApiError> {
    principal.require_role(&[Role::Admin])?;
    let wanted = params.state.as_deref().unwrap_or("failed");
    if !STATES.contains(&wanted) {
        return Err(ApiError::invalid(
            "state",
            format!("\"{wanted}\" is not one of {}", STATES.join(", ")),
        ));
    }
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "from 1 to 1000"));
    }
    let notices = state.store.notices_in(wanted, limit).await?;
    Ok(Json(NoticeList {
        notices: notices.into_iter().map(NoticeView::from).collect(),
    }))
}

/// Sends a failed notice again, from now, with a fresh count of attempts (administrators
/// only).
#[utoipa::path(
    post,
    path = "/api/v1/admin/notices/{id}/retry",
    tag = "notices",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Notice id")),
    responses(
        (status = 204, description = "Back in line"),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No failed notice with this id", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn retry_notice(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    principal.require_role(&[Role::Admin])?;
    if state.store.retry_notice(id, state.clock.now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddWebhook {
    /// Where every ticket event is POSTed as JSON: http:// or https://, with a host.
    #[schema(format = "web-link", max_length = 2000)]
    url: String,
    /// Signs each delivery; one is made up when none is given.
    #[serde(default)]
    #[schema(min_length = 16)]
    secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AddedWebhook {
    webhook: Webhook,
    /// Shown once. Each delivery carries `X-Caredesk-Timestamp` and `X-Caredesk-Signature:
    /// sha256=HEX`, the HMAC-SHA256 of `TIMESTAMP.BODY` keyed with this secret.
    secret: String,
}

/// Registers a webhook: every ticket event from now on is delivered to it, signed, through
/// the outbox (retried like any notice) (administrators only).
#[utoipa::path(
    post,
    path = "/api/v1/admin/webhooks",
    tag = "notices",
    security(("bearer" = [])),
    request_body = AddWebhook,
    responses(
        (status = 201, description = "Registered", body = AddedWebhook),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an http(s) URL, or a secret too short", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_webhook(
    State(state): State<AppState>,
    principal: Principal,
    ClientAddress(client): ClientAddress,
    ApiJson(request): ApiJson<AddWebhook>,
) -> Result<(StatusCode, Json<AddedWebhook>), ApiError> {
    let (webhook, secret) = webhooks::add_webhook(
        &state.desk().from_address(client),
        &principal.caller(),
        &request.url,
        request.secret,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(AddedWebhook { webhook, secret })))
}

/// The webhooks receiving events (administrators only).
#[utoipa::path(
    get,
    path = "/api/v1/admin/webhooks",
    tag = "notices",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhooks", body = Vec<Webhook>),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_webhooks(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    principal.require_role(&[Role::Admin])?;
    Ok(Json(state.store.active_webhooks().await?))
}

/// Stops a webhook: no new events go to it, and what waits for it is skipped
/// (administrators only).
#[utoipa::path(
    delete,
    path = "/api/v1/admin/webhooks/{id}",
    tag = "notices",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Stopped"),
        (status = 403, description = "Administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook receiving events", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove_webhook(
    State(state): State<AppState>,
    principal: Principal,
    ClientAddress(client): ClientAddress,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    let desk = state.desk().from_address(client);
    webhooks::stop_webhook(&desk, &principal.caller(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
