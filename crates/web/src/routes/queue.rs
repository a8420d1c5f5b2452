//! The work queue, in the order POLICY.md §7 sets: severity, then priority placement (gold
//! and platinum), then the earliest due clock; filtered, one page at a time.

use axum::Json;
use axum::extract::State;
use caredesk_domain::intake::IntakeFlag;
use caredesk_domain::ticket::TicketState;
use caredesk_store::{QueueFilter, TicketRecord};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Principal;
use crate::cursor::{decode_cursor, encode_cursor};
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(queue))
}

const DEFAULT_PAGE: i64 = 50;
const FLAGS: [&str; IntakeFlag::NAMES.len()] = IntakeFlag::NAMES;
const MAX_PAGE: i64 = 200;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    region: Option<String>,
    language: Option<String>,
    /// Staff id of the assigned advisor.
    advisor: Option<i64>,
    /// Without it, only open tickets.
    #[param(value_type = Option<String>)]
    state: Option<String>,
    program: Option<String>,
    at_risk: Option<bool>,
    breached: Option<bool>,
    /// The support manager's view: tickets whose escalation waits for an answer.
    escalation_open: Option<bool>,
    /// The support manager's view: proposals unanswered after the last reminder.
    consent_unanswered: Option<bool>,
    /// A customer success manager's view: the tickets of the customers this staff member
    /// looks after.
    csm: Option<i64>,
    /// Tickets carrying an intake flag: not_covered, serial_not_registered,
    /// outside_support_scope, incomplete, scope_not_checked or update_request.
    #[param(
        pattern = "^(not_covered|serial_not_registered|outside_support_scope|incomplete|scope_not_checked|update_request)$"
    )]
    flag: Option<String>,
    /// Staff only: one customer's tickets.
    customer: Option<i64>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next` of the previous page.
    after: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct QueuePage {
    items: Vec<QueueItem>,
    /// Give it as `after` for the next page; absent on the last one.
    next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct QueueItem {
    id: i64,
    subject: String,
    customer_id: i64,
    severity: String,
    program: String,
    region: String,
    language: String,
    state: TicketState,
    assignee_id: Option<i64>,
    opened_at: Timestamp,
    /// The earliest due instant of a running clock.
    next_due_at: Option<Timestamp>,
    at_risk: bool,
    breached: bool,
    escalation_open: bool,
}

impl QueueItem {
    fn of(ticket: TicketRecord, now: Timestamp) -> Self {
        let overdue = ticket.next_due_at.is_some_and(|due| due < now);
        Self {
            at_risk: !overdue && ticket.at_risk_at.is_some_and(|at| at <= now),
            breached: ticket.breached || overdue,
            id: ticket.id,
            subject: ticket.subject,
            customer_id: ticket.customer_id,
            severity: ticket.severity,
            program: ticket.program,
            region: ticket.region,
            language: ticket.language,
            state: ticket.state,
            assignee_id: ticket.assignee_id,
            opened_at: ticket.opened_at,
            next_due_at: ticket.next_due_at,
            escalation_open: ticket.escalation_open,
        }
    }
}

/// The queue. A customer contact sees only its organisation's tickets.
#[utoipa::path(
    get,
    path = "/api/v1/queue",
    tag = "queue",
    security(("bearer" = [])),
    params(QueueParams),
    responses(
        (status = 200, description = "A page of the queue", body = QueuePage),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn queue(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<QueueParams>,
) -> Result<Json<QueuePage>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("between 1 and {MAX_PAGE}"),
        ));
    }
    let ticket_state = params
        .state
        .as_deref()
        .map(|text| {
            TicketState::parse(text).ok_or_else(|| {
                let states: Vec<&str> = TicketState::ALL.iter().map(TicketState::as_str).collect();
                ApiError::invalid("state", format!("one of {}", states.join(", ")))
            })
        })
        .transpose()?;
    if let Some(flag) = params.flag.as_deref()
        && !FLAGS.contains(&flag)
    {
        return Err(ApiError::invalid(
            "flag",
            format!("one of {}", FLAGS.join(", ")),
        ));
    }
    // A filter on a name the policy does not know is a mistake, not an empty queue.
    if let Some(region) = params.region.as_deref()
        && let Err(unknown) = state.policy().region(region)
    {
        return Err(ApiError::invalid("region", unknown.to_string()));
    }
    if let Some(program) = params.program.as_deref()
        && let Err(unknown) = state.policy().program(program)
    {
        return Err(ApiError::invalid("program", unknown.to_string()));
    }
    let languages = &state.policy().languages.supported;
    if let Some(language) = params.language.as_deref()
        && !languages.iter().any(|known| known == language)
    {
        return Err(ApiError::invalid(
            "language",
            format!("one of {}", languages.join(", ")),
        ));
    }
    let after = params.after.as_deref().map(decode_cursor).transpose()?;
    let customer_id = match &principal {
        Principal::Contact(contact) => Some(contact.customer_id),
        Principal::Staff(_) => params.customer,
    };
    let filter = QueueFilter {
        customer_id,
        region: params.region,
        language: params.language,
        assignee_id: params.advisor,
        state: ticket_state,
        program: params.program,
        at_risk: params.at_risk,
        breached: params.breached,
        escalation_open: params.escalation_open,
        consent_unanswered: params.consent_unanswered,
        csm_id: params.csm,
        flag: params.flag,
    };
    let now = state.clock.now();
    // One more than asked tells whether a next page exists.
    let mut tickets = state.store.queue(&filter, after, limit + 1, now).await?;
    let more = tickets.len() as i64 > limit;
    tickets.truncate(usize::try_from(limit).unwrap_or(0));
    let next = more
        .then(|| tickets.last().map(|ticket| encode_cursor(&ticket.sort_key)))
        .flatten();
    Ok(Json(QueuePage {
        items: tickets
            .into_iter()
            .map(|ticket| QueueItem::of(ticket, now))
            .collect(),
        next,
    }))
}
