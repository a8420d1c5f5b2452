//! Tickets: opening one (idempotently), reading it with its live clocks and timeline, acting
//! on it (with optimistic concurrency), and its attachments.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use caredesk_domain::intake::{
    CatalogRelease, ContactPerson, ContractTerms, CoverageWindow, IntakeFlag, IntakeForm,
    IntakeOutcome, IntakeRequest, RegisteredProduct, assess, choose_language, coverage_window,
};
use caredesk_domain::policy::TicketProfile;
use caredesk_domain::routing::{RoutingNeed, choose_advisor};
use caredesk_domain::ticket::clocks::{ClockContext, TicketClocks, compute};
use caredesk_domain::ticket::explain::{TicketExplanation, explain_ticket};
use caredesk_domain::ticket::{
    Action, Command, EventData, TicketEvent, TicketState, allowed_actions, decide,
};
use caredesk_store::{
    Attachment, Change, Contact, EarlierRequest, IntakeRecord, NewAttachment, NewServiceRequest,
    NewTicket, Scope, StoreError, TicketRecord, UpdateError,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::services::ServiceRequestView;
use crate::{AppState, Limits};

pub fn router(limits: Limits) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_ticket))
        .routes(routes!(get_ticket))
        .routes(routes!(get_timeline))
        .routes(routes!(explain))
        .routes(routes!(act))
        .routes(routes!(list_attachments))
        .routes(routes!(add_attachment).layer(DefaultBodyLimit::max(limits.max_attachment_bytes)))
        .routes(routes!(get_attachment))
}

/// The intake form (POLICY.md §3).
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenTicket {
    /// Staff give the customer; a customer contact opens tickets for its own organisation.
    #[serde(default)]
    pub(crate) customer_id: Option<i64>,
    /// The person handling the problem on the customer's side; a contact defaults to itself.
    #[serde(default)]
    pub(crate) contact_id: Option<i64>,
    /// How the ticket came in: "portal" or "phone" in the default policy.
    pub(crate) channel: String,
    pub(crate) severity: String,
    pub(crate) product_line: String,
    /// Required by the policy's `intake.required`: the portal refuses a ticket without it,
    /// a phone ticket is recorded as incomplete.
    #[serde(default)]
    pub(crate) version: String,
    #[serde(default)]
    pub(crate) serial: String,
    pub(crate) subject: String,
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) business_impact: String,
    #[serde(default)]
    pub(crate) error_messages: Option<String>,
    #[serde(default)]
    pub(crate) steps_to_reproduce: Option<String>,
    #[serde(default)]
    pub(crate) workaround: Option<String>,
    /// For custom programming: the language it is written in. Outside the products' native
    /// languages the request becomes a professional-services request (202), not a ticket.
    #[serde(default)]
    pub(crate) programming_language: Option<String>,
}

/// What intake made of the form.
pub(crate) enum Intake {
    Ticket(Box<NewTicket>),
    ProfessionalServices(Box<NewServiceRequest>),
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
    let idempotency_key = header_text(&headers, "idempotency-key")?;
    if idempotency_key.as_ref().is_some_and(|key| key.len() > 200) {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "at most 200 characters",
        ));
    }
    let now = state.clock.now();
    // A key names one request, whatever it became: a key already used for the other kind
    // of record answers as that record would (the same one, or a conflict).
    if let Some(key) = &idempotency_key {
        let hash = request_hash(Some(key), &request);
        match state
            .store
            .earlier_request(&principal.key(), key, hash.as_deref())
            .await?
        {
            Some(EarlierRequest::Ticket(created)) => {
                let created = *created;
                let view = view(&state, &principal, created.ticket, &created.timeline)?;
                return Ok(with_etag(StatusCode::OK, view));
            }
            Some(EarlierRequest::ServiceRequest(recorded)) => {
                return Ok(ServiceRequestView::of(recorded.request, &principal)
                    .respond(StatusCode::ACCEPTED));
            }
            None => {}
        }
    }
    let new = match intake(&state, &principal, &request, idempotency_key, false, now).await? {
        Intake::Ticket(new) => new,
        Intake::ProfessionalServices(new) => {
            let recorded = state.store.create_service_request(&new, now).await?;
            // A retry gets the same answer as the first request: 202, the same request.
            return Ok(
                ServiceRequestView::of(recorded.request, &principal).respond(StatusCode::ACCEPTED)
            );
        }
    };
    let created = state.store.create_ticket(&state.policy, &new, now).await?;
    let status = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let view = view(&state, &principal, created.ticket, &created.timeline)?;
    Ok(with_etag(status, view))
}

/// Checks the form against the policy and the customer's records (POLICY.md §1, §3, §5, §7)
/// and builds the ticket: its program, flags, language, coverage window and advisor; or,
/// for custom programming outside the native languages, a professional-services request.
pub(crate) async fn intake(
    state: &AppState,
    principal: &Principal,
    request: &OpenTicket,
    idempotency_key: Option<String>,
    lenient: bool,
    now: Timestamp,
) -> Result<Intake, ApiError> {
    let policy = &state.policy;
    // What the clocks and the calendar stand on must be valid on every channel.
    let mut errors = FieldErrors::default();
    errors.add_problem(
        "channel",
        policy
            .channel(&request.channel)
            .err()
            .map(|e| e.to_string()),
    );
    errors.add_problem(
        "severity",
        policy
            .severity(&request.severity)
            .err()
            .map(|e| e.to_string()),
    );
    errors.add_problem(
        "product_line",
        policy
            .product_line(&request.product_line)
            .err()
            .map(|e| e.to_string()),
    );
    for (field, value) in [
        ("subject", &request.subject),
        ("description", &request.description),
    ] {
        errors.add_problem(
            field,
            value
                .trim()
                .is_empty()
                .then(|| "must not be empty".to_string()),
        );
    }
    errors.add_problem(
        "subject",
        (request.subject.chars().count() > 200).then(|| "at most 200 characters".to_string()),
    );

    let (customer_id, named_contact_id) = match principal {
        Principal::Contact(own) => {
            if request.customer_id.is_some_and(|id| id != own.customer_id) {
                return Err(ApiError::Forbidden(
                    "a contact opens tickets for its own organisation only".into(),
                ));
            }
            if request.channel != "portal" && policy.channel("portal").is_ok() {
                errors.add_problem(
                    "channel",
                    Some("customers open tickets through the portal".into()),
                );
            }
            (own.customer_id, Some(request.contact_id.unwrap_or(own.id)))
        }
        Principal::Staff(_) => {
            let Some(customer_id) = request.customer_id else {
                errors.add_problem(
                    "customer_id",
                    Some("staff must say which customer the ticket is for".into()),
                );
                return Err(errors.into_error());
            };
            (customer_id, request.contact_id)
        }
    };
    errors.finish()?;

    let facts = match state
        .store
        .intake_facts(policy, customer_id, &request.product_line, now)
        .await
    {
        Ok(facts) => facts,
        Err(StoreError::NotFound) => {
            return Err(ApiError::invalid("customer_id", "no such customer"));
        }
        Err(other) => return Err(other.into()),
    };
    // The contact named, the caller itself, or the customer's designated contact.
    let contact: Option<Contact> = match named_contact_id {
        Some(id) => match facts.contacts.iter().find(|contact| contact.id == id) {
            Some(contact) => Some(contact.clone()),
            None => {
                return Err(ApiError::invalid(
                    "contact_id",
                    "not a contact of this customer",
                ));
            }
        },
        None => facts
            .contacts
            .iter()
            .find(|contact| contact.designated)
            .or(facts.contacts.first())
            .cloned(),
    };

    let contracts: Vec<ContractTerms> = facts
        .contracts
        .iter()
        .map(|contract| ContractTerms {
            program: contract.program.clone(),
            starts_on: contract.starts_on,
            ends_on: contract.ends_on,
            eula_accepted: contract.eula_accepted,
        })
        .collect();
    let products: Vec<RegisteredProduct> = facts
        .products
        .iter()
        .map(|product| RegisteredProduct {
            id: product.id,
            product_line: product.product_line.clone(),
            version: product.version.clone(),
            serial: product.serial.clone(),
        })
        .collect();
    let releases: Vec<CatalogRelease> = facts
        .releases
        .iter()
        .map(|release| CatalogRelease {
            version: release.version.clone(),
            position: release.position,
        })
        .collect();
    let person = contact.as_ref().map(|contact| ContactPerson {
        name: contact.name.clone(),
        email: contact.email.clone(),
        phone: contact.phone.clone(),
        language: contact.language.clone(),
    });
    let form = IntakeForm {
        description: request.description.clone(),
        severity: request.severity.clone(),
        business_impact: request.business_impact.clone(),
        product_line: request.product_line.clone(),
        version: request.version.clone(),
        serial: request.serial.clone(),
        error_messages: request.error_messages.clone(),
        steps_to_reproduce: request.steps_to_reproduce.clone(),
        workaround: request.workaround.clone(),
        programming_language: request.programming_language.clone(),
    };
    let region = facts.customer.region.as_str();
    let outcome = assess(
        policy,
        &IntakeRequest {
            lenient,
            channel: &request.channel,
            region,
            contracts: &contracts,
            products: &products,
            releases: &releases,
            contact: person.as_ref(),
            form: &form,
            now,
        },
    )
    .map_err(ApiError::unexpected)?;
    let accepted = match outcome {
        IntakeOutcome::Ticket(accepted) => accepted,
        IntakeOutcome::Refused {
            fields,
            not_covered,
        } => {
            if fields.is_empty()
                && let Some(cover) = not_covered
            {
                return Err(ApiError::Forbidden(cover.reason));
            }
            let mut errors = FieldErrors::default();
            for refusal in fields.into_iter().chain(not_covered) {
                errors.add_problem(refusal.field, Some(refusal.reason));
            }
            return Err(errors.into_error());
        }
        IntakeOutcome::ProfessionalServices { language, reason } => {
            return Ok(Intake::ProfessionalServices(Box::new(NewServiceRequest {
                customer_id: facts.customer.id,
                contact_id: contact.as_ref().map(|contact| contact.id),
                product_line: request.product_line.clone(),
                version: request.version.trim().to_string(),
                programming_language: language,
                subject: request.subject.trim().to_string(),
                description: request.description.clone(),
                reason,
                created_by: principal.key(),
                request_hash: request_hash(idempotency_key.as_deref(), request),
                idempotency_key,
            })));
        }
    };

    let profile = TicketProfile {
        program: &accepted.program,
        region,
        product_line: &request.product_line,
        severity: &request.severity,
        channel: &request.channel,
    };
    let coverage = coverage_window(policy, &profile, now).map_err(ApiError::unexpected)?;
    let preferred = contact
        .as_ref()
        .map_or(facts.customer.language.as_str(), |contact| {
            contact.language.as_str()
        });
    let language = choose_language(
        policy,
        region,
        preferred,
        coverage.after_hours_language.as_deref(),
    )
    .map_err(ApiError::unexpected)?;
    let assignment = choose_advisor(
        &RoutingNeed {
            region,
            language: &language.language,
            after_hours: coverage.after_hours,
            now,
        },
        &facts.candidates,
        &facts.on_call,
    );

    let details = serde_json::json!({
        "business_impact": request.business_impact,
        "error_messages": request.error_messages,
        "steps_to_reproduce": request.steps_to_reproduce,
        "workaround": request.workaround,
    });
    let request_hash = request_hash(idempotency_key.as_deref(), request);
    Ok(Intake::Ticket(Box::new(NewTicket {
        customer_id: facts.customer.id,
        contact_id: contact.as_ref().map(|contact| contact.id),
        product_id: accepted.product_id,
        product_line: request.product_line.clone(),
        version: request.version.trim().to_string(),
        serial: request.serial.trim().to_string(),
        program: accepted.program,
        region: facts.customer.region.clone(),
        language: language.language.clone(),
        channel: request.channel.clone(),
        subject: request.subject.trim().to_string(),
        description: request.description.clone(),
        details,
        severity: request.severity.clone(),
        actor: principal.actor(),
        created_by: principal.key(),
        idempotency_key,
        request_hash,
        intake: Some(IntakeRecord {
            flags: accepted.flags,
            language,
            coverage,
            assignment: Some(assignment),
        }),
    })))
}

/// What tells a retry (the same request) from a reuse of its key (another request).
fn request_hash(idempotency_key: Option<&str>, request: &OpenTicket) -> Option<String> {
    idempotency_key.map(|_| {
        let canonical = serde_json::to_vec(request).unwrap_or_default();
        hex::encode(Sha256::digest(canonical))
    })
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
    let clocks = compute(&state.policy, &context, events, state.clock.now())
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
        flags: ticket.flags,
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
        (status = 200, description = "The explanation, as of now", body = TicketExplanation),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ticket for this caller", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn explain(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TicketExplanation>, ApiError> {
    // Another organisation's ticket stays a 404 before anything else is said.
    let ticket = state.store.ticket(id, principal.scope()).await?;
    principal.require_staff()?;
    let timeline = state.store.timeline(id, Scope::All).await?;
    let context = ClockContext {
        program: &ticket.program,
        region: &ticket.region,
        product_line: &ticket.product_line,
    };
    Ok(Json(
        explain_ticket(&state.policy, &context, &timeline, state.clock.now())
            .map_err(ApiError::unexpected)?,
    ))
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
    let (updated, timeline) = carry_out(&state, &principal, id, command, expected_version).await?;
    Ok(with_etag(
        StatusCode::OK,
        view(&state, &principal, updated, &timeline)?,
    ))
}

/// Carries out a command on a ticket the caller may see, as the API and the pages both do:
/// the domain decides, the store appends the events and recomputes the clocks in one
/// transaction. Returns the ticket and its whole timeline as they are now.
pub(crate) async fn carry_out(
    state: &AppState,
    principal: &Principal,
    id: i64,
    command: Command,
    expected_version: Option<i64>,
) -> Result<(TicketRecord, Vec<TicketEvent>), ApiError> {
    // Only staff may assign (decide refuses anyone else): nobody else learns who exists.
    if let (
        Principal::Staff(_),
        Command::Assign {
            advisor: Some(advisor),
            ..
        },
    ) = (principal, &command)
    {
        match state.store.staff_member(*advisor).await {
            Ok(member) if member.active => {}
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ApiError::invalid(
                    "advisor",
                    "no active staff member has this id",
                ));
            }
            Err(other) => return Err(other.into()),
        }
    }
    let change = Change {
        ticket: id,
        scope: principal.scope(),
        expected_version,
        actor: principal.actor(),
        now: state.clock.now(),
    };
    let role = principal.role();
    let policy = state.policy.clone();
    state
        .store
        .update_ticket(&state.policy, change, |_, snapshot| {
            decide(snapshot, role, command, &policy)
        })
        .await
        .map_err(|error| match error {
            UpdateError::Refused(refusal) => ApiError::from(refusal),
            UpdateError::Store(StoreError::StaleVersion(detail)) => ApiError::StaleVersion(detail),
            UpdateError::Store(other) => other.into(),
        })
}

/// The version an `If-Match` header names, if one is given.
pub(crate) fn if_match_version(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    header_text(headers, "if-match")?
        .map(|tag| {
            tag.trim_start_matches("W/")
                .trim_matches('"')
                .parse::<i64>()
                .map_err(|_| ApiError::invalid("If-Match", "give the ETag, such as \"3\""))
        })
        .transpose()
}

fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    headers
        .get(name)
        .map(|value| {
            value
                .to_str()
                .map(|text| text.trim().to_string())
                .map_err(|_| ApiError::invalid(name, "must be plain text"))
        })
        .transpose()
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
        ("filename" = String, Query, description = "The file's name"),
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
    let filename = params.filename.trim();
    if filename.is_empty() || filename.chars().count() > 255 || filename.contains(['/', '\\', '\0'])
    {
        return Err(ApiError::invalid(
            "filename",
            "a plain file name of 1 to 255 characters, without slashes",
        ));
    }
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
    if content.is_empty() {
        return Err(ApiError::invalid("body", "the file is empty"));
    }
    let attachment = NewAttachment {
        ticket_id: id,
        event_seq: params.event,
        filename: filename.to_string(),
        content_type,
        content: content.to_vec(),
        uploaded_by: principal.key(),
    };
    let stored = state
        .store
        .add_attachment(&attachment, principal.scope(), state.clock.now())
        .await
        .map_err(|error| match error {
            StoreError::Conflict(reason) => ApiError::invalid("event", reason),
            other => other.into(),
        })?;
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
        (status = 200, description = "The file", content_type = "application/octet-stream"),
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
    let content_type = HeaderValue::from_str(&found.attachment.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let filename: String = found
        .attachment
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        Body::from(found.content),
    )
        .into_response())
}
