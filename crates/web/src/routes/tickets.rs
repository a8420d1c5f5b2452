//! Tickets: opening one (idempotently), reading it with its live clocks and timeline, acting
//! on it (with optimistic concurrency), and its attachments.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use caredesk_desk::intake::{OpenTicket, Opened, open_ticket as open};
use caredesk_desk::policy_versions::{TicketPolicy, ticket_policy};
use caredesk_desk::ticket_search::{self, TicketFound};
use caredesk_desk::tickets::{NewFile, act as act_on, attach_files};
use caredesk_domain::intake::{CoverageWindow, IntakeFlag};
use caredesk_domain::ticket::clocks::{ClockContext, TicketClocks, compute};
use caredesk_domain::ticket::explain::{TicketExplanation, explain_ticket};
use caredesk_domain::ticket::{
    Action, Command, EventData, TicketEvent, TicketState, allowed_actions,
};
use caredesk_store::{Attachment, Scope, TicketRecord};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::download::download;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, idempotency_key, if_match_version};
use crate::routes::resources::SnippetPiece;
use crate::routes::services::ServiceRequestView;
use crate::{AppState, Limits};

pub fn router(limits: Limits) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_ticket))
        .routes(routes!(search_tickets))
        .routes(routes!(get_ticket))
        .routes(routes!(get_timeline))
        .routes(routes!(explain))
        .routes(routes!(act))
        .routes(routes!(list_attachments))
        .routes(routes!(add_attachment).layer(DefaultBodyLimit::max(limits.max_attachment_bytes)))
        .routes(routes!(get_attachment))
}

/// A ticket as the API shows it, with its clocks as of the moment of the request.
#[derive(Serialize, ToSchema)]
pub struct TicketView {
    id: i64,
    customer_id: i64,
    contact_id: Option<i64>,
    product_line: String,
    version: String,
    serial: String,
    program: String,
    region: String,
    language: String,
    channel: String,
    subject: String,
    description: String,
    /// The rest of the intake form, with the details supplied since.
    #[schema(value_type = Object)]
    details: serde_json::Value,
    severity: String,
    state: TicketState,
    assignee_id: Option<i64>,
    escalated: bool,
    escalation_open: bool,
    /// Send it back in `If-Match` to act only on this version.
    version_number: i64,
    opened_at: Timestamp,
    updated_at: Timestamp,
    closed_at: Option<Timestamp>,
    /// What intake flagged, each with its reason: not covered, serial not registered,
    /// outside support scope, incomplete.
    flags: Vec<IntakeFlag>,
    /// When and on which calendar the clocks run, as the customer was told at intake.
    coverage: Option<CoverageWindow>,
    /// A severity the customer asked for, waiting for an advisor's answer.
    severity_request: Option<String>,
    /// A proposed solution went unanswered past its last reminder.
    consent_unanswered: bool,
    clocks: TicketClocks,
    /// What the caller may do next.
    allowed_actions: Vec<Action>,
}

/// Opens a ticket. With an `Idempotency-Key` header, retrying the same request returns the
/// same ticket (200 instead of 201) and never opens a second one. Custom programming in a
/// language outside the products' native ones is recorded as a professional-services
/// request instead (202, with its `Location`).
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
    tag = "tickets",
    security(("bearer" = [])),
    request_body = OpenTicket,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "Opened", body = TicketView),
        (status = 200, description = "Already opened by an earlier request with this key", body = TicketView),
        (status = 202, description = "Not a support ticket: recorded as a professional-services request (a retry with the same key gets the same one)", body = ServiceRequestView),
        (status = 403, description = "Not covered, or not the caller's organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key was used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn open_ticket(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    ApiJson(request): ApiJson<OpenTicket>,
) -> Result<Response, ApiError> {
    let idempotency_key = idempotency_key(&headers)?;
    let opened = open(
        &state.desk(),
        &principal.caller(),
        &request,
        idempotency_key,
    )
    .await?;
    respond_opened(&state, &principal, opened)
}

/// What came of an intake form, as the API answers it: 201 and the ticket, 200 and the
/// ticket an earlier request opened, or 202 and a professional-services request.
pub(crate) fn respond_opened(
    state: &AppState,
    principal: &Principal,
    opened: Opened,
) -> Result<Response, ApiError> {
    match opened {
        Opened::Ticket(created) => {
            // A retry gets the ticket the first request opened, with 200 instead of 201.
            let status = if created.replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let view = view(state, principal, created.ticket, &created.timeline)?;
            Ok(with_etag(status, view))
        }
        // A retry gets the same answer as the first request: 202, the same request.
        Opened::ServiceRequest(request) => {
            Ok(ServiceRequestView::of(*request, principal).respond(StatusCode::ACCEPTED))
        }
    }
}

const SEARCH_PAGE: i64 = 20;
const SEARCH_PAGE_MAX: i64 = 100;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketSearchParams {
    /// Words to look for in tickets' subjects, descriptions, replies, messages, internal
    /// notes and reasons, in any form ("printed" finds "printing"); a ticket is found by a
    /// text that holds every word (at most 500 characters; spaces alone find nothing).
    #[param(min_length = 1, max_length = 500)]
    q: String,
    /// The `next` of the previous page: texts written before it.
    #[param(minimum = 1)]
    before: Option<i64>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// A ticket found by its words.
#[derive(Serialize, ToSchema)]
pub struct TicketSearchResult {
    id: i64,
    subject: String,
    customer_id: i64,
    severity: String,
    state: TicketState,
    language: String,
    opened_at: Timestamp,
    /// The text found: its event's number on the timeline and kind (`created` for the
    /// subject and description).
    event_seq: u32,
    event_kind: String,
    /// Whether the customer sees that text (an internal note, for one, is not shown).
    public: bool,
    /// About 160 characters of the text around the first words that match, in pieces;
    /// `matched` pieces are the words found.
    snippet: Vec<SnippetPiece>,
}

impl From<TicketFound> for TicketSearchResult {
    fn from(found: TicketFound) -> Self {
        let TicketFound {
            ticket,
            seq,
            kind,
            public,
            snippet,
        } = found;
        TicketSearchResult {
            id: ticket.id,
            subject: ticket.subject,
            customer_id: ticket.customer_id,
            severity: ticket.severity,
            state: ticket.state,
            language: ticket.language,
            opened_at: ticket.opened_at,
            event_seq: seq,
            event_kind: kind.to_string(),
            public,
            snippet: snippet.into_iter().map(SnippetPiece::from).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TicketSearchResults {
    /// The ticket whose matching text was written last first; each ticket once a page.
    results: Vec<TicketSearchResult>,
    /// Give it as `before` for the next page (older texts: a ticket may come again there
    /// for an older one); null when nothing more was found.
    next: Option<i64>,
}

/// Staff: tickets found by the words people wrote in them, the latest written first.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/search",
    tag = "tickets",
    security(("bearer" = [])),
    params(TicketSearchParams),
    responses(
        (status = 200, description = "The tickets found", body = TicketSearchResults),
        (status = 403, description = "For staff only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn search_tickets(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<TicketSearchParams>,
) -> Result<Json<TicketSearchResults>, ApiError> {
    let limit = params.limit.unwrap_or(SEARCH_PAGE);
    if !(1..=SEARCH_PAGE_MAX).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("between 1 and {SEARCH_PAGE_MAX}"),
        ));
    }
    if params.before.is_some_and(|before| before < 1) {
        return Err(ApiError::invalid("before", "a positive number"));
    }
    let found = ticket_search::search(
        &state.desk(),
        &principal.caller(),
        &params.q,
        params.before,
        usize::try_from(limit).unwrap_or(1),
    )
    .await?;
    Ok(Json(TicketSearchResults {
        results: found
            .tickets
            .into_iter()
            .map(TicketSearchResult::from)
            .collect(),
        next: found.next,
    }))
}

/// A ticket with its clocks as of now and the caller's allowed actions.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}",
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket number")),
    responses(
        (status = 200, description = "The ticket; its ETag is its version", body = TicketView),
        (status = 404, description = "No such ticket for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_ticket(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let ticket = state.store.ticket(id, principal.scope()).await?;
    let timeline = state.store.timeline(id, Scope::All).await?;
    Ok(with_etag(
        StatusCode::OK,
        view(&state, &principal, ticket, &timeline)?,
    ))
}

/// The ticket with its clocks as of now, computed from its whole timeline.
fn view(
    state: &AppState,
    principal: &Principal,
    ticket: TicketRecord,
    events: &[TicketEvent],
) -> Result<TicketView, ApiError> {
    let context = ClockContext {
        program: &ticket.program,
        region: &ticket.region,
        product_line: &ticket.product_line,
    };
    let clocks = compute(&state.policy(), &context, events, state.clock.now())
        .map_err(ApiError::unexpected)?;
    let snapshot = caredesk_domain::ticket::Snapshot::of(events).ok_or_else(|| {
        ApiError::unexpected(format!("ticket {} has no created event", ticket.id))
    })?;
    Ok(TicketView {
        allowed_actions: allowed_actions(&snapshot, principal.role()),
        id: ticket.id,
        customer_id: ticket.customer_id,
        contact_id: ticket.contact_id,
        product_line: ticket.product_line,
        version: ticket.version,
        serial: ticket.serial,
        program: ticket.program,
        region: ticket.region,
        language: ticket.language,
        channel: ticket.channel,
        subject: ticket.subject,
        description: ticket.description,
        details: with_supplied(ticket.details, &snapshot.supplied_details),
        severity: ticket.severity,
        state: ticket.state,
        assignee_id: ticket.assignee_id,
        escalated: ticket.escalated,
        escalation_open: ticket.escalation_open,
        version_number: ticket.version_number,
        opened_at: ticket.opened_at,
        updated_at: ticket.updated_at,
        closed_at: ticket.closed_at,
        // A customer reads what it can act on, not the desk's own gaps.
        flags: match principal {
            Principal::Staff(_) => ticket.flags,
            Principal::Contact(_) => ticket
                .flags
                .into_iter()
                .filter(IntakeFlag::concerns_customer)
                .collect(),
        },
        coverage: events.iter().find_map(|event| match &event.data {
            EventData::IntakeChecked { coverage, .. } => Some(coverage.clone()),
            _ => None,
        }),
        severity_request: snapshot.severity_request.clone(),
        consent_unanswered: ticket.consent_unanswered,
        clocks,
    })
}

/// The intake form's details, each overridden by the text supplied since, if any.
fn with_supplied(
    mut details: serde_json::Value,
    supplied: &std::collections::BTreeMap<String, String>,
) -> serde_json::Value {
    if let Some(fields) = details.as_object_mut() {
        for (field, text) in supplied {
            fields.insert(field.clone(), serde_json::Value::String(text.clone()));
        }
    }
    details
}

fn with_etag(status: StatusCode, view: TicketView) -> Response {
    let etag = format!("\"{}\"", view.version_number);
    let mut response = (status, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// The timeline, oldest first; a customer contact sees only its public events.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/events",
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket number")),
    responses(
        (status = 200, description = "The timeline", body = Vec<TicketEvent>),
        (status = 404, description = "No such ticket for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_timeline(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<TicketEvent>>, ApiError> {
    Ok(Json(state.store.timeline(id, principal.scope()).await?))
}

/// Every rule of the policy that applied to the ticket and why: program and cover,
/// coverage window, calendar, language, advisor choice, flags, severity changes,
/// escalations, consent; and each clock with the engine's step-by-step account of its due
/// time (staff only: it names advisors and internal reasons).
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/explanation",
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket number")),
    responses(
        (status = 200, description = "The explanation, as of now, with the policy version it follows", body = ExplanationView),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn explain(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ExplanationView>, ApiError> {
    // Another organisation's ticket stays a 404 before anything else is said.
    let ticket = state.store.ticket(id, principal.scope()).await?;
    principal.require_staff()?;
    let timeline = state.store.timeline(id, Scope::All).await?;
    let context = ClockContext {
        program: &ticket.program,
        region: &ticket.region,
        product_line: &ticket.product_line,
    };
    let desk = state.desk();
    let now = state.clock.now();
    let explanation =
        explain_ticket(&desk.policy(), &context, &timeline, now).map_err(ApiError::unexpected)?;
    let policy = ticket_policy(&desk, &ticket, &timeline, now).await?;
    Ok(Json(ExplanationView {
        explanation,
        policy,
    }))
}

/// A ticket's explanation, and which policy version its clocks follow (with what the
/// version before said of them, after a change).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ExplanationView {
    #[serde(flatten)]
    pub explanation: TicketExplanation,
    pub policy: TicketPolicy,
}

/// Acts on a ticket: reply, note, ask the customer, supply missing details, propose a
/// solution, accept or reject it, change severity (or ask for and answer a change), agree a
/// status-update cadence, assign, escalate. With `If-Match`, only if the ticket is still at that
/// version. A step the ticket's state does not allow answers 409 with the allowed ones.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/actions",
    tag = "tickets",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Ticket number"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change is based on"),
    ),
    request_body = Command,
    responses(
        (status = 200, description = "Done; the ticket as it is now", body = TicketView),
        (status = 403, description = "The caller's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the ticket's state; the allowed actions are listed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The ticket changed since the ETag given", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn act(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(command): ApiJson<Command>,
) -> Result<Response, ApiError> {
    let expected_version = if_match_version(&headers)?;
    let acted = act_on(
        &state.desk(),
        &principal.caller(),
        id,
        command,
        expected_version,
        &[],
    )
    .await?;
    Ok(with_etag(
        StatusCode::OK,
        view(&state, &principal, acted.ticket, &acted.timeline)?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentParams {
    filename: String,
    #[serde(default)]
    event: Option<i64>,
}

/// Attaches a file (the raw request body) to a ticket; its SHA-256 is kept.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/attachments",
    tag = "tickets",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Ticket number"),
        ("filename" = String, Query, description = "The file's name", min_length = 1, max_length = 255),
        ("event" = Option<i64>, Query, description = "The timeline event it belongs to"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored", body = Attachment),
        (status = 404, description = "No such ticket for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the server accepts", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_attachment(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<AttachmentParams>,
    request: Request,
) -> Result<(StatusCode, Json<Attachment>), ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let content = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(format!(
                    "attachments may be at most {} bytes",
                    state.limits.max_attachment_bytes
                ))
            } else {
                ApiError::Malformed(rejection.body_text())
            }
        })?;
    let file = NewFile {
        name: params.filename,
        content_type,
        content: content.to_vec(),
    };
    let stored = attach_files(
        &state.desk(),
        &principal.caller(),
        id,
        params.event,
        vec![file],
    )
    .await?
    .pop()
    .ok_or_else(|| ApiError::Unexpected("the file was not kept".into()))?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// The attachments of a ticket.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/attachments",
    tag = "tickets",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket number")),
    responses(
        (status = 200, description = "The attachments", body = Vec<Attachment>),
        (status = 404, description = "No such ticket for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_attachments(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<Attachment>>, ApiError> {
    Ok(Json(
        state.store.attachments_of(id, principal.scope()).await?,
    ))
}

/// The content of one attachment.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/attachments/{attachment}",
    tag = "tickets",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Ticket number"),
        ("attachment" = i64, Path, description = "Attachment number"),
    ),
    responses(
        (status = 200, description = "The file, always as a download; its type only when it cannot run (images, PDF, plain text, …), else application/octet-stream", content_type = "application/octet-stream"),
        (status = 404, description = "No such attachment for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_attachment(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, attachment)): ApiPath<(i64, i64)>,
) -> Result<Response, ApiError> {
    let found = state
        .store
        .attachment(id, attachment, principal.scope())
        .await?;
    Ok(download(found))
}
