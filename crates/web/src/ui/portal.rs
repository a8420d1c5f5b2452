//! The customer portal: a contact's organisation's tickets, opening a ticket with what the
//! policy requires (POLICY.md §3), and a ticket's public life: replies, answers to what the
//! desk asked, consent to a proposed solution, a severity change or an escalation asked for.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use caredesk_desk::DeskError;
use caredesk_desk::customers;
use caredesk_desk::intake::{
    OpenTicket, Opened, SUGGESTIONS_KEPT, ShownSuggestion, SuggestionKind, assess_form,
    check_suggestions, keep_suggestions, record,
};
use caredesk_desk::sessions::new_token;
use caredesk_desk::tickets::{attach_files, check_files};
use caredesk_domain::intake::{
    Cover, IntakeFlag, is_recognised_programming_language, programming_language_named,
};
use caredesk_domain::reason::ReasonCode;
use caredesk_domain::ticket::clocks::compute;
use caredesk_domain::ticket::{Action, Command, SUPPLIABLE_DETAILS, Snapshot, TicketState};
use caredesk_store::{Contact, TicketSearch};
use serde::Deserialize;

use super::forms::{self, CsrfOnly, MAX_FILES};
use super::session::Viewer;
use super::view::{self, ClockRow, FlagView, ReadTicket, TimelineEntry};
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::Principal;
use crate::edge::PageForm;

const LISTED: i64 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(tickets))
        .route("/portal/tickets/new", get(new_ticket))
        // A page shown again after a refused form has this address: coming back to it (after a
        // language switch) is coming back to the list.
        .route(
            "/portal/tickets",
            get(|| async { Redirect::to("/portal") }).post(open_ticket),
        )
        .route("/portal/tickets/{id}", get(ticket).post(act))
        .route(
            "/portal/tickets/{id}/professional-services",
            axum::routing::post(ask_for_services),
        )
        .route("/tickets/{id}/files/{file}", get(view::download))
}

/// The contact looking at the portal; staff are sent to the console instead.
fn contact_of(viewer: &Viewer) -> Option<&Contact> {
    match &viewer.principal {
        Principal::Contact(contact) => Some(contact),
        Principal::Staff(_) => None,
    }
}

// The list -----------------------------------------------------------------------------

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    show: String,
}

struct ListedTicket {
    id: i64,
    subject: String,
    state: &'static str,
    severity: String,
    /// What the desk waits for from the customer, if anything.
    waiting: Option<&'static str>,
    updated: String,
}

#[derive(Template)]
#[template(path = "portal/tickets.html")]
struct TicketsPage {
    page: Page,
    q: String,
    show: String,
    tickets: Vec<ListedTicket>,
}

async fn tickets(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Result<Response, UiError> {
    let Some(contact) = contact_of(&viewer) else {
        return Ok(Redirect::to("/console").into_response());
    };
    let open = match query.show.as_str() {
        "closed" => Some(false),
        "all" => None,
        _ => Some(true),
    };
    let found = state
        .store
        .search_tickets_of(
            contact.customer_id,
            &TicketSearch {
                text: query.q.clone(),
                open,
            },
            LISTED,
        )
        .await?;
    let catalog = viewer.catalog;
    let tickets = found
        .into_iter()
        .map(|ticket| ListedTicket {
            waiting: match ticket.state {
                TicketState::WaitingOnCustomer => Some(catalog.get("portal.waiting_answer")),
                TicketState::SolutionProposed => Some(catalog.get("portal.waiting_consent")),
                _ => None,
            },
            id: ticket.id,
            state: view::state_name(catalog, ticket.state),
            severity: view::severity_label(catalog, &state.policy(), &ticket.severity),
            updated: catalog.when(ticket.updated_at, &viewer.time_zone),
            subject: ticket.subject,
        })
        .collect();
    let show = match open {
        Some(true) => "open",
        Some(false) => "closed",
        None => "all",
    };
    Ok(render(&TicketsPage {
        page: viewer.page(viewer.t("portal.tickets_title").to_string()),
        q: query.q,
        show: show.to_string(),
        tickets,
    })?
    .into_response())
}

// Opening a ticket ---------------------------------------------------------------------

/// The fields of the new-ticket form that show their own refusal.
const FORM_FIELDS: [&str; 10] = [
    "files",
    "product",
    "severity",
    "subject",
    "description",
    "business_impact",
    "error_messages",
    "steps_to_reproduce",
    "workaround",
    "contact",
];

struct Choice {
    value: String,
    label: String,
    hint: String,
}

#[derive(Default)]
struct TicketForm {
    product: String,
    severity: String,
    subject: String,
    description: String,
    business_impact: String,
    error_messages: String,
    steps_to_reproduce: String,
    workaround: String,
    contact: String,
    /// Makes a second press of the button (or a resent form) open no second ticket.
    form_key: String,
}

#[derive(Template)]
#[template(path = "portal/new_ticket.html")]
struct NewTicketPage {
    page: Page,
    products: Vec<Choice>,
    severities: Vec<Choice>,
    contacts: Vec<Choice>,
    form: TicketForm,
    fields: Vec<TextField>,
    errors: HashMap<String, String>,
    /// A refusal that is no one field's: the organisation is not covered.
    refusal: Option<String>,
    /// The refusal is a licence agreement waiting for acceptance: the page links to it.
    licence_pending: bool,
    /// What the customer wrote names a programming language other than the products' own:
    /// the question whether the ticket is about custom programming, and its two answers.
    programming_question: Option<(String, String, String, String)>,
    files_hint: String,
}

/// One of the form's text fields, with its label, hint, value and refusal.
struct TextField {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    value: String,
    multiline: bool,
    required: bool,
    error: Option<String>,
}

impl NewTicketPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

async fn new_ticket(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    let Some(contact) = contact_of(&viewer) else {
        return Ok(Redirect::to("/console").into_response());
    };
    let form = TicketForm {
        contact: contact.id.to_string(),
        form_key: new_token(),
        ..TicketForm::default()
    };
    let page = form_page(&state, &viewer, contact, form, HashMap::new(), None).await?;
    Ok(render(&page)?.into_response())
}

async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    contact: &Contact,
    form: TicketForm,
    errors: HashMap<String, String>,
    refusal: Option<String>,
) -> Result<NewTicketPage, UiError> {
    let products = state.store.products_of(contact.customer_id).await?;
    let contacts = state.store.contacts_of(contact.customer_id).await?;
    let policy = &state.policy();
    Ok(NewTicketPage {
        page: viewer.page(viewer.t("portal.new_title").to_string()),
        products: products
            .iter()
            .map(|product| Choice {
                value: product.id.to_string(),
                label: view::product_label(
                    state,
                    &product.product_line,
                    &product.version,
                    &product.serial,
                ),
                hint: String::new(),
            })
            .collect(),
        severities: policy
            .severities
            .keys()
            .map(|id| Choice {
                value: id.clone(),
                label: view::severity_label(viewer.catalog, policy, id),
                hint: view::severity_meaning(viewer.catalog, policy, id),
            })
            .collect(),
        contacts: contacts
            .iter()
            .map(|person| Choice {
                value: person.id.to_string(),
                label: person.name.clone(),
                hint: person.email.clone(),
            })
            .collect(),
        fields: text_fields(viewer, &state.policy().intake.required, &form, &errors),
        form,
        errors,
        refusal,
        licence_pending: false,
        programming_question: None,
        files_hint: viewer
            .catalog
            .format("form.files_hint", &[("count", &MAX_FILES.to_string())]),
    })
}

fn text_fields(
    viewer: &Viewer,
    required: &[String],
    form: &TicketForm,
    errors: &HashMap<String, String>,
) -> Vec<TextField> {
    [
        ("subject", &form.subject, false),
        ("description", &form.description, true),
        ("business_impact", &form.business_impact, true),
        ("error_messages", &form.error_messages, true),
        ("steps_to_reproduce", &form.steps_to_reproduce, true),
        ("workaround", &form.workaround, true),
    ]
    .into_iter()
    .map(|(name, value, multiline)| TextField {
        name,
        label: viewer.t(&format!("form.{name}")),
        hint: viewer.t(&format!("form.{name}_hint")),
        value: value.clone(),
        multiline,
        required: matches!(name, "subject" | "description")
            || required.iter().any(|field| field == name),
        error: errors.get(name).cloned(),
    })
    .collect()
}

async fn open_ticket(
    State(state): State<AppState>,
    viewer: Viewer,
    multipart: Multipart,
) -> Result<Response, UiError> {
    let Some(contact) = contact_of(&viewer) else {
        return Err(UiError::Forbidden);
    };
    let posted = forms::read_form(&state, &viewer, multipart).await?;
    let form = TicketForm {
        product: posted.text("product"),
        severity: posted.text("severity"),
        subject: posted.text("subject"),
        description: posted.text("description"),
        business_impact: posted.text("business_impact"),
        error_messages: posted.text("error_messages"),
        steps_to_reproduce: posted.text("steps_to_reproduce"),
        workaround: posted.text("workaround"),
        contact: posted.text("contact"),
        form_key: posted.text("form_key"),
    };
    let mut errors = HashMap::new();
    let products = state.store.products_of(contact.customer_id).await?;
    let product = products
        .iter()
        .find(|product| product.id.to_string() == form.product);
    if product.is_none() {
        errors.insert(
            "product".to_string(),
            viewer.t("form.choose_product").to_string(),
        );
    }
    if form.severity.is_empty() {
        errors.insert(
            "severity".to_string(),
            viewer.t("form.choose_severity").to_string(),
        );
    }
    let request = OpenTicket {
        customer_id: None,
        contact_id: form.contact.parse().ok(),
        channel: "portal".into(),
        severity: form.severity.clone(),
        product_line: product.map(|p| p.product_line.clone()).unwrap_or_default(),
        version: product.map(|p| p.version.clone()).unwrap_or_default(),
        serial: product.map(|p| p.serial.clone()).unwrap_or_default(),
        subject: form.subject.clone(),
        description: form.description.clone(),
        business_impact: form.business_impact.clone(),
        error_messages: Some(form.error_messages.clone()).filter(|text| !text.trim().is_empty()),
        steps_to_reproduce: Some(form.steps_to_reproduce.clone())
            .filter(|text| !text.trim().is_empty()),
        workaround: Some(form.workaround.clone()).filter(|text| !text.trim().is_empty()),
        programming_language: None,
        suggestions_shown: Vec::new(),
    };
    // Custom programming in another language than the products' own is professional
    // services (POLICY.md §3, §8a): when what the customer wrote names one, they say whether
    // that is what the ticket is about before it is sent.
    let file_names: Vec<&str> = posted.files.iter().map(|file| file.name.as_str()).collect();
    let named = programming_language_named(
        &state.policy(),
        &[
            &form.subject,
            &form.description,
            &form.error_messages,
            &form.steps_to_reproduce,
        ],
        &file_names,
    );
    // Asked before (the question's form carries the language back): files do not come
    // back with a form, so the answer stands even if what named the language was a file.
    let named = named.or_else(|| {
        is_recognised_programming_language(&state.policy(), &posted.text("programming_language"))
    });
    let answer = posted.text("programming_answer");
    let mut request = request;
    if let (Some(language), "yes") = (named, answer.as_str()) {
        request.programming_language = Some(language.to_string());
    }
    let programming_question = named
        .filter(|_| !matches!(answer.as_str(), "yes" | "no"))
        .map(|language| {
            let with = |key: &str| viewer.catalog.format(key, &[("language", language)]);
            (
                language.to_string(),
                with("portal.programming_question"),
                with("portal.programming_yes"),
                with("portal.programming_no"),
            )
        });
    let key = Some(form.form_key.clone()).filter(|key| !key.is_empty() && key.len() <= 200);
    let desk = state.desk();
    let caller = viewer.principal.caller();
    let now = desk.clock.now();
    // Intake checks every field, so the form shows every refusal at once, ours included.
    // Files are kept after the ticket is recorded: refused now, the ticket is not made.
    let file_problems = match check_files(&posted.files) {
        Err(DeskError::Invalid(problems)) => problems,
        _ => Vec::new(),
    };
    let outcome = match assess_form(&desk, &caller, &request, key, false, now).await {
        Ok(_) if !errors.is_empty() || !file_problems.is_empty() => {
            Err(DeskError::Invalid(file_problems))
        }
        Err(DeskError::Invalid(mut fields)) => {
            fields.extend(file_problems);
            Err(DeskError::Invalid(fields))
        }
        other => other,
    };
    let intake = match outcome {
        Ok(intake) => intake,
        Err(DeskError::Invalid(fields)) => {
            // A refusal of no field of the form (the cover of a contract) is shown above it.
            let mut general = Vec::new();
            let licence_pending = fields
                .iter()
                .any(|field| field.code == ReasonCode::LicenceNotAccepted);
            for field in fields {
                let name = match field.field.as_str() {
                    "product_line" | "version" | "serial" => "product",
                    "contact_id" => "contact",
                    other => other,
                };
                let reason = forms::translate_reason(&viewer, &field);
                if FORM_FIELDS.contains(&name) {
                    errors.entry(name.to_string()).or_insert(reason);
                } else {
                    general.push(reason);
                }
            }
            let refusal = (!general.is_empty()).then(|| general.join(" "));
            let mut page = form_page(&state, &viewer, contact, form, errors, refusal).await?;
            page.licence_pending = licence_pending;
            page.programming_question = programming_question;
            return Ok(forms::unprocessable(render(&page)?));
        }
        Err(DeskError::Forbidden(reason)) => {
            // Not covered: when only a licence acceptance is missing, the contact may give it
            // at once, and the page says so in their words.
            let care = customers::care_of(&desk, &caller, contact.customer_id).await?;
            let licence_pending = matches!(
                care.cover,
                Cover::NotCovered {
                    licence_pending: true,
                    ..
                }
            );
            let reason = if licence_pending {
                viewer.t("form.licence_not_accepted").to_string()
            } else {
                reason
            };
            let mut page = form_page(&state, &viewer, contact, form, errors, Some(reason)).await?;
            page.licence_pending = licence_pending;
            return Ok(forms::unprocessable(render(&page)?));
        }
        Err(other) => return Err(other.into()),
    };
    if programming_question.is_some() {
        // Nothing is recorded until the customer has answered the question.
        let mut page = form_page(&state, &viewer, contact, form, errors, None).await?;
        page.programming_question = programming_question;
        return Ok(render(&page)?.into_response());
    }
    let created = match record(&desk, intake, now).await? {
        Opened::Ticket(created) => created,
        Opened::ServiceRequest(request) => {
            return Ok(render(&ServicesPage {
                page: viewer.page(viewer.t("portal.services_title").to_string()),
                number: request.id,
                reason: request.reason,
            })?
            .into_response());
        }
    };
    let id = created.ticket.id;
    if !created.replayed {
        // What the resource center suggested beside the form, as the page last showed it;
        // what the customer may no longer read (unpublished meanwhile) is left out.
        let shown = shown_suggestions(&posted.text("suggestions_shown"));
        if check_suggestions(&desk, &caller, &shown).await.is_ok() {
            keep_suggestions(&desk, id, &shown).await;
        }
    }
    // A resent form finds its ticket; its files are attached unless the first sending did.
    let attached = if created.replayed {
        !state
            .store
            .attachments_of(id, viewer.principal.scope())
            .await?
            .is_empty()
    } else {
        false
    };
    if !attached {
        attach_files(&desk, &caller, id, Some(1), posted.files).await?;
    }
    Ok(Redirect::to(&format!("/portal/tickets/{id}?opened=1")).into_response())
}

/// The suggestions the new-ticket form says it showed: `entry:12:en,question:3`; anything
/// else is left out.
fn shown_suggestions(text: &str) -> Vec<ShownSuggestion> {
    text.split(',')
        .filter_map(|item| {
            let mut parts = item.trim().split(':');
            let kind = match parts.next()? {
                "entry" => SuggestionKind::Entry,
                "question" => SuggestionKind::Question,
                _ => return None,
            };
            let id = parts.next()?.parse().ok()?;
            let language = parts.next().map(str::to_string);
            Some(ShownSuggestion { kind, id, language })
        })
        .take(SUGGESTIONS_KEPT)
        .collect()
}

#[derive(Template)]
#[template(path = "portal/services.html")]
struct ServicesPage {
    page: Page,
    number: i64,
    reason: String,
}

// A ticket -----------------------------------------------------------------------------

#[derive(Deserialize)]
struct TicketQuery {
    #[serde(default)]
    opened: Option<u8>,
}

struct Can {
    reply: bool,
    /// Details intake found missing, which the customer may still give: (field, label).
    supply: Vec<(&'static str, &'static str)>,
    accept: bool,
    reject: bool,
    request_severity: bool,
    escalate: bool,
}

#[derive(Template)]
#[template(path = "portal/ticket.html")]
struct TicketPage {
    page: Page,
    number: i64,
    subject: String,
    state: &'static str,
    waiting: bool,
    severity: String,
    product: String,
    program: String,
    opened: String,
    just_opened: bool,
    coverage: Option<String>,
    flags: Vec<FlagView>,
    clocks: Vec<ClockRow>,
    timeline: Vec<TimelineEntry>,
    description: String,
    details: Vec<(&'static str, String)>,
    other_severities: Vec<(String, String)>,
    severity_requested: Option<String>,
    can: Can,
    version: i64,
    error: Option<String>,
    /// Outside technical support: the policy's explanation in the reader's language.
    outside_support: Option<String>,
}

async fn ticket(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(query): Query<TicketQuery>,
) -> Result<Response, UiError> {
    if contact_of(&viewer).is_none() {
        return Ok(Redirect::to(&format!("/console/tickets/{id}")).into_response());
    }
    let page = ticket_page(&state, &viewer, id, query.opened.is_some(), None).await?;
    Ok(render(&page)?.into_response())
}

async fn ticket_page(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    just_opened: bool,
    error: Option<String>,
) -> Result<TicketPage, UiError> {
    let read = ReadTicket::load(state, viewer, id).await?;
    let catalog = viewer.catalog;
    let now = state.clock.now();
    let clocks = compute(&state.policy(), &read.context(), &read.events, now)
        .map_err(|error| UiError::Unexpected(error.to_string()))?;
    let can = Can {
        reply: read.may(Action::CustomerMessage),
        supply: if read.may(Action::SupplyDetails) {
            missing_details(&read.snapshot)
                .into_iter()
                .map(|field| (field, view::detail_label(catalog, field)))
                .collect()
        } else {
            Vec::new()
        },
        accept: read.may(Action::AcceptSolution),
        reject: read.may(Action::RejectSolution),
        request_severity: read.may(Action::RequestSeverityChange),
        escalate: read.may(Action::RequestEscalation),
    };
    let coverage = read.events.iter().find_map(|event| match &event.data {
        caredesk_domain::ticket::EventData::IntakeChecked { coverage, .. } => {
            Some(coverage.notice.clone())
        }
        _ => None,
    });
    let ticket = &read.ticket;
    Ok(TicketPage {
        page: viewer.page(catalog.format("portal.ticket_heading", &[("number", &id.to_string())])),
        number: id,
        state: view::state_name(catalog, ticket.state),
        waiting: ticket.state == TicketState::WaitingOnCustomer,
        severity: view::severity_label(catalog, &state.policy(), &ticket.severity),
        product: view::product_label(state, &ticket.product_line, &ticket.version, &ticket.serial),
        program: view::program_name(&state.policy(), &ticket.program),
        opened: catalog.when(ticket.opened_at, &viewer.time_zone),
        just_opened,
        coverage,
        flags: view::flag_views(
            catalog,
            &ticket
                .flags
                .iter()
                .filter(|flag| flag.concerns_customer())
                .cloned()
                .collect::<Vec<_>>(),
        ),
        clocks: view::clock_rows(catalog, &viewer.time_zone, &clocks, now),
        timeline: read.timeline(state, viewer),
        description: ticket.description.clone(),
        details: view::details_of(catalog, ticket, &read.snapshot),
        other_severities: view::other_severities(catalog, &state.policy(), &ticket.severity),
        severity_requested: read
            .snapshot
            .severity_request
            .as_ref()
            .map(|severity| view::severity_label(catalog, &state.policy(), severity)),
        can,
        version: ticket.version_number,
        subject: ticket.subject.clone(),
        error,
        outside_support: read
            .snapshot
            .exclusion
            .as_ref()
            .filter(|_| ticket.state == TicketState::OutsideSupport)
            .map(|exclusion| {
                state.policy().exclusions.get(exclusion).map_or_else(
                    || exclusion.clone(),
                    |known| known.explanation_in(catalog.language).to_string(),
                )
            }),
    })
}

/// "Request professional services" on a ticket decided outside support: the request is
/// recorded, prefilled from the ticket, and the contact sees its number.
async fn ask_for_services(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    if contact_of(&viewer).is_none() {
        return Err(UiError::Forbidden);
    }
    let recorded =
        caredesk_desk::services::request_for_ticket(&state.desk(), &viewer.principal.caller(), id)
            .await?;
    Ok(render(&ServicesPage {
        page: viewer.page(viewer.t("portal.services_title").to_string()),
        number: recorded.request.id,
        reason: recorded.request.reason,
    })?
    .into_response())
}

/// The details intake flagged as missing and not supplied since, that a customer can give.
fn missing_details(snapshot: &Snapshot) -> Vec<&'static str> {
    let missing: Vec<&str> = snapshot
        .flags
        .iter()
        .flat_map(|flag| match flag {
            IntakeFlag::Incomplete { missing } => missing.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        })
        .collect();
    SUPPLIABLE_DETAILS
        .into_iter()
        .filter(|field| missing.contains(field) && !snapshot.supplied_details.contains_key(*field))
        .collect()
}

async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, UiError> {
    if contact_of(&viewer).is_none() {
        return Err(UiError::Forbidden);
    }
    let posted = forms::read_form(&state, &viewer, multipart).await?;
    let version = posted.text("version").parse::<i64>().ok();
    let command = match posted.text("action").as_str() {
        "reply" => Command::CustomerMessage {
            body: posted.text("body"),
        },
        "supply_details" => Command::SupplyDetails {
            details: SUPPLIABLE_DETAILS
                .into_iter()
                .map(|field| (field.to_string(), posted.text(field)))
                .filter(|(_, text)| !text.trim().is_empty())
                .collect(),
        },
        "accept" => Command::AcceptSolution {
            note: posted.text("note"),
        },
        "reject" => Command::RejectSolution {
            reason: posted.text("reason"),
        },
        "request_severity" => Command::RequestSeverityChange {
            severity: posted.text("severity"),
            reason: posted.text("reason"),
        },
        "escalate" => Command::RequestEscalation {
            reason: posted.text("reason"),
        },
        _ => {
            return Err(UiError::BadRequest(
                "action: not one of this page's choices".into(),
            ));
        }
    };
    match forms::act_with_files(&state, &viewer, id, command, version, posted.files).await? {
        None => Ok(Redirect::to(&format!("/portal/tickets/{id}")).into_response()),
        Some(message) => {
            let page = ticket_page(&state, &viewer, id, false, Some(message)).await?;
            Ok(forms::unprocessable(render(&page)?))
        }
    }
}
