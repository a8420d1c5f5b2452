//! The advisor console: the queue in policy order with live countdowns, the ticket
//! workspace, the managers' views (escalations, breaches, consent past its last reminder,
//! workload) and the policy, staff and customers as readable tables.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use caredesk_desk::policy_versions::{policy_history, stored_version};
use caredesk_desk::products::{TicketProduct, ticket_product};
use caredesk_desk::{customers, staff};
use caredesk_domain::policy::{PolicyTable, policy_tables};
use caredesk_domain::ticket::explain::explain_ticket;
use caredesk_domain::ticket::{
    Action, Command, ContactMedium, CustomerRequest, Resolution, Role, TicketState,
};
use caredesk_store::{Contract, QueueFilter, StaffMember, TicketRecord};
use jiff::Timestamp;
use serde::Deserialize;

use super::forms::{self, CsrfOnly};
use super::i18n::Catalog;
use super::session::Viewer;
use super::view::{self, ClockRow, FlagView, ReadTicket, TimelineEntry};
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::{ClientAddress, Principal};
use crate::cursor::{decode_cursor, encode_cursor};
use crate::edge::PageForm;
use crate::error::ApiError;

const PAGE_SIZE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(queue))
        .route("/console/queue-rows", get(queue_rows))
        .route("/console/views/{view}", get(managers_view))
        .route("/console/tickets/{id}", get(workspace).post(act))
        .route("/console/workload", get(workload))
        .route("/console/policy", get(policy))
        .route("/console/staff", get(staff))
        .route("/console/staff/{id}/active", post(set_staff_active))
        .route("/console/customers", get(customers))
        .route(
            "/console/contracts/{id}/licence-acceptance",
            post(record_licence_acceptance),
        )
}

fn staff_of(viewer: &Viewer) -> Result<&StaffMember, UiError> {
    match &viewer.principal {
        Principal::Staff(member) => Ok(member),
        Principal::Contact(_) => Err(UiError::Forbidden),
    }
}

// The queue ----------------------------------------------------------------------------

/// The queue's filters, as the form sends them (empty means "any").
#[derive(Clone, Default, Deserialize)]
struct QueueQuery {
    #[serde(default)]
    region: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    advisor: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    program: String,
    #[serde(default)]
    at_risk: String,
    #[serde(default)]
    breached: String,
    #[serde(default)]
    escalation_open: String,
    #[serde(default)]
    consent_unanswered: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    after: String,
}

impl QueueQuery {
    fn parse(raw: Option<&str>) -> Result<QueueQuery, UiError> {
        serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|error| UiError::BadRequest(error.to_string()))
    }

    fn filter(&self, me: &StaffMember) -> Result<QueueFilter, UiError> {
        let yes = |text: &str| (text == "1").then_some(true);
        let state = match self.state.as_str() {
            "" => None,
            text => Some(
                TicketState::parse(text)
                    .ok_or_else(|| UiError::BadRequest(format!("state: {text} is not a state")))?,
            ),
        };
        let advisor = match self.advisor.as_str() {
            "" => None,
            "me" => Some(me.id),
            text => Some(
                text.parse()
                    .map_err(|_| UiError::BadRequest("advisor: a number".into()))?,
            ),
        };
        let some = |text: &str| Some(text.to_string()).filter(|text| !text.is_empty());
        Ok(QueueFilter {
            region: some(&self.region),
            language: some(&self.language),
            assignee_id: advisor,
            state,
            program: some(&self.program),
            at_risk: yes(&self.at_risk),
            breached: yes(&self.breached),
            escalation_open: yes(&self.escalation_open),
            consent_unanswered: yes(&self.consent_unanswered),
            customer_id: match self.customer.as_str() {
                "" => None,
                text => Some(
                    text.parse()
                        .map_err(|_| UiError::BadRequest("customer: a number".into()))?,
                ),
            },
            ..QueueFilter::default()
        })
    }

    /// The query string of these filters, without the page cursor.
    fn without_cursor(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("region", &self.region),
            ("language", &self.language),
            ("advisor", &self.advisor),
            ("state", &self.state),
            ("program", &self.program),
            ("at_risk", &self.at_risk),
            ("breached", &self.breached),
            ("escalation_open", &self.escalation_open),
            ("consent_unanswered", &self.consent_unanswered),
            ("customer", &self.customer),
        ] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        query.finish()
    }
}

struct QueueRow {
    id: i64,
    subject: String,
    customer: String,
    severity: String,
    program: String,
    state: &'static str,
    assignee: String,
    language: String,
    region: String,
    due: Option<String>,
    due_iso: Option<String>,
    left: Option<String>,
    tone: &'static str,
    tone_name: &'static str,
    escalation_open: bool,
}

struct Option_ {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    page: Page,
    heading: String,
    query: QueueQuery,
    rows_url: String,
    rows: Vec<QueueRow>,
    next: Option<String>,
    regions: Vec<Option_>,
    languages: Vec<Option_>,
    programs: Vec<Option_>,
    states: Vec<Option_>,
}

#[derive(Template)]
#[template(path = "console/queue_rows.html")]
struct QueueRows {
    page: Page,
    rows_url: String,
    rows: Vec<QueueRow>,
}

async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    if matches!(viewer.principal, Principal::Contact(_)) {
        return Ok(Redirect::to("/portal").into_response());
    }
    let query = QueueQuery::parse(raw.as_deref())?;
    let heading = viewer.t("console.queue_title").to_string();
    queue_page(&state, &viewer, query, heading).await
}

/// The managers' views are the queue with one filter set.
async fn managers_view(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    require_manager(&viewer)?;
    let mut query = QueueQuery::parse(raw.as_deref())?;
    let heading = match name.as_str() {
        "escalations" => {
            query.escalation_open = "1".into();
            viewer.t("console.escalations_title")
        }
        "breaches" => {
            query.breached = "1".into();
            viewer.t("console.breaches_title")
        }
        "consent" => {
            query.consent_unanswered = "1".into();
            viewer.t("console.consent_title")
        }
        _ => return Err(UiError::NotFound),
    };
    queue_page(&state, &viewer, query, heading.to_string()).await
}

async fn queue_page(
    state: &AppState,
    viewer: &Viewer,
    query: QueueQuery,
    heading: String,
) -> Result<Response, UiError> {
    let (rows, next) = queue_rows_of(state, viewer, &query).await?;
    let catalog = viewer.catalog;
    let policy = &state.policy();
    let choices = |pairs: Vec<(String, String)>| {
        pairs
            .into_iter()
            .map(|(value, label)| Option_ { value, label })
            .collect()
    };
    let page = QueuePage {
        page: viewer.page(heading.clone()),
        heading,
        rows_url: format!("/console/queue-rows?{}", raw_of(&query)),
        next: next.map(|cursor| {
            let filters = query.without_cursor();
            format!(
                "?{filters}{}after={cursor}",
                if filters.is_empty() { "" } else { "&" }
            )
        }),
        regions: choices(
            policy
                .regions
                .iter()
                .map(|(id, region)| (id.clone(), region.name.clone()))
                .collect(),
        ),
        languages: choices(
            policy
                .languages
                .supported
                .iter()
                .map(|language| (language.clone(), language.clone()))
                .collect(),
        ),
        programs: choices(
            policy
                .programs
                .iter()
                .map(|(id, program)| (id.clone(), program.name.clone()))
                .collect(),
        ),
        states: choices(
            TicketState::ALL
                .iter()
                .map(|ticket_state| {
                    (
                        ticket_state.as_str().to_string(),
                        view::state_name(catalog, *ticket_state).to_string(),
                    )
                })
                .collect(),
        ),
        query,
        rows,
    };
    Ok(render(&page)?.into_response())
}

/// The query string of the page itself, cursor included, for the rows' refresh.
fn raw_of(query: &QueueQuery) -> String {
    let filters = query.without_cursor();
    if query.after.is_empty() {
        filters
    } else {
        let cursor: String = form_urlencoded::byte_serialize(query.after.as_bytes()).collect();
        format!(
            "{filters}{}after={cursor}",
            if filters.is_empty() { "" } else { "&" }
        )
    }
}

/// The rows alone, for htmx to refresh in place. A person landing here directly is sent to
/// the queue itself.
async fn queue_rows(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    if !headers.contains_key("hx-request") {
        let target = match raw.as_deref() {
            Some(query) if !query.is_empty() => format!("/console?{query}"),
            _ => "/console".to_string(),
        };
        return Ok(Redirect::to(&target).into_response());
    }
    let query = QueueQuery::parse(raw.as_deref())?;
    let (rows, _) = queue_rows_of(&state, &viewer, &query).await?;
    Ok(render(&QueueRows {
        page: viewer.page(String::new()),
        rows_url: format!("/console/queue-rows?{}", raw_of(&query)),
        rows,
    })?
    .into_response())
}

async fn queue_rows_of(
    state: &AppState,
    viewer: &Viewer,
    query: &QueueQuery,
) -> Result<(Vec<QueueRow>, Option<String>), UiError> {
    let me = staff_of(viewer)?;
    let filter = query.filter(me)?;
    let after = match query.after.as_str() {
        "" => None,
        cursor => Some(decode_cursor(cursor)?),
    };
    let now = state.clock.now();
    let mut tickets = state
        .store
        .queue(&filter, after, PAGE_SIZE + 1, now)
        .await?;
    let more = tickets.len() as i64 > PAGE_SIZE;
    tickets.truncate(PAGE_SIZE as usize);
    let next = more
        .then(|| tickets.last().map(|ticket| encode_cursor(&ticket.sort_key)))
        .flatten();
    let customers: HashMap<i64, String> = state
        .store
        .customers()
        .await?
        .into_iter()
        .map(|customer| (customer.id, customer.name))
        .collect();
    let staff: HashMap<i64, String> = state
        .store
        .staff()
        .await?
        .into_iter()
        .map(|member| (member.id, member.name))
        .collect();
    let catalog = viewer.catalog;
    let rows = tickets
        .into_iter()
        .map(|ticket| {
            let (tone, tone_name) = tone_of(catalog, &ticket, now);
            let due = ticket.next_due_at;
            QueueRow {
                id: ticket.id,
                customer: customers
                    .get(&ticket.customer_id)
                    .cloned()
                    .unwrap_or_default(),
                severity: ticket.severity.clone(),
                program: view::program_name(&state.policy(), &ticket.program),
                state: view::state_name(catalog, ticket.state),
                assignee: ticket
                    .assignee_id
                    .and_then(|id| staff.get(&id).cloned())
                    .unwrap_or_else(|| catalog.get("ticket.unassigned").to_string()),
                language: ticket.language.clone(),
                region: ticket.region.clone(),
                due: due.map(|at| catalog.when(at, &viewer.time_zone)),
                due_iso: due.map(|at| at.to_string()),
                left: due.map(|at| catalog.span_until(at, now)),
                tone,
                tone_name,
                escalation_open: ticket.escalation_open,
                subject: ticket.subject,
            }
        })
        .collect();
    Ok((rows, next))
}

fn tone_of(
    catalog: &'static super::i18n::Catalog,
    ticket: &TicketRecord,
    now: Timestamp,
) -> (&'static str, &'static str) {
    let overdue = ticket.next_due_at.is_some_and(|due| due < now);
    if ticket.breached || overdue {
        ("breach", catalog.get("clock.breached"))
    } else if ticket.at_risk_at.is_some_and(|at| at <= now) {
        ("risk", catalog.get("clock.at_risk"))
    } else {
        ("ok", catalog.get("clock.on_time"))
    }
}

// The workspace ------------------------------------------------------------------------

struct Explained {
    name: &'static str,
    steps: Vec<String>,
}

struct Rule {
    topic: String,
    decision: String,
    reason: String,
}

struct Can {
    reply: bool,
    note: bool,
    change_severity: bool,
    request: bool,
    propose: bool,
    assign: bool,
    answer_severity: bool,
    answer_escalation: bool,
    declare_outside_support: bool,
    reverse_outside_support: bool,
}

#[derive(Template)]
#[template(path = "console/ticket.html")]
struct WorkspacePage {
    page: Page,
    number: i64,
    subject: String,
    description: String,
    details: Vec<(&'static str, String)>,
    state: &'static str,
    severity: String,
    customer: String,
    customer_number: String,
    customer_region: String,
    contact: String,
    contracts: Vec<String>,
    products: Vec<String>,
    program: String,
    language: String,
    assignee: String,
    escalation_open: bool,
    flags: Vec<FlagView>,
    clocks: Vec<ClockRow>,
    explained: Vec<Explained>,
    rules: Vec<Rule>,
    timeline: Vec<TimelineEntry>,
    severities: Vec<(String, String)>,
    advisors: Vec<(i64, String)>,
    /// The policy's exclusions (POLICY.md §8a): id and title.
    exclusions: Vec<(String, String)>,
    severity_requested: Option<String>,
    can: Can,
    version: i64,
    error: Option<String>,
    /// The customer accepted a solution: it may become an article.
    solution_accepted: bool,
    /// What the resource center suggested to the customer before they sent the ticket.
    shown_before: Vec<caredesk_store::ShownBefore>,
    /// The ticket's product: licence, installations, the catalog's newest, support scope.
    licence: Option<LicencePanel>,
}

/// The ticket's product as the panel shows it.
struct LicencePanel {
    serial: String,
    edition: String,
    licensed_version: String,
    installations: String,
    machines: Vec<String>,
    newest: String,
    /// "products.in_scope", "products.outside_scope" or "products.scope_unknown".
    scope: &'static str,
    supported: String,
}

fn licence_panel(catalog: &Catalog, found: &TicketProduct) -> LicencePanel {
    let licence = &found.product.licence;
    LicencePanel {
        serial: found.product.serial.clone(),
        edition: licence.edition.clone().unwrap_or_default(),
        licensed_version: licence.licensed_version.clone(),
        installations: catalog.format(
            "activate.installations_count",
            &[
                ("active", &found.active.len().to_string()),
                ("allowed", &licence.installations.to_string()),
            ],
        ),
        machines: found
            .active
            .iter()
            .map(|activation| activation.machine_id.clone())
            .collect(),
        newest: found.newest.clone().unwrap_or_default(),
        scope: match found.in_scope {
            Some(true) => "products.in_scope",
            Some(false) => "products.outside_scope",
            None => "products.scope_unknown",
        },
        supported: found.supported.join(", "),
    }
}

async fn workspace(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    if matches!(viewer.principal, Principal::Contact(_)) {
        return Ok(Redirect::to(&format!("/portal/tickets/{id}")).into_response());
    }
    let page = workspace_page(&state, &viewer, id, None).await?;
    Ok(render(&page)?.into_response())
}

async fn workspace_page(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    error: Option<String>,
) -> Result<WorkspacePage, UiError> {
    staff_of(viewer)?;
    let read = ReadTicket::load(state, viewer, id).await?;
    let ticket = &read.ticket;
    let customer = state.store.customer(ticket.customer_id).await?;
    let contracts = state.store.contracts_of(ticket.customer_id).await?;
    let products = state.store.products_of(ticket.customer_id).await?;
    let staff = state.store.staff().await?;
    let catalog = viewer.catalog;
    let licence = if ticket.serial.trim().is_empty() {
        None
    } else {
        ticket_product(
            &state.desk(),
            &viewer.principal.caller(),
            ticket.customer_id,
            &ticket.serial,
            &ticket.version,
        )
        .await?
        .map(|found| licence_panel(catalog, &found))
    };
    let now = state.clock.now();
    let explanation = explain_ticket(&state.policy(), &read.context(), &read.events, now)
        .map_err(|error| UiError::Unexpected(error.to_string()))?;
    let clock_rows: Vec<ClockRow> = explanation
        .clocks
        .iter()
        .map(|explained| view::clock_row(catalog, &viewer.time_zone, &explained.clock, now))
        .collect();
    let details = view::details_of(catalog, ticket, &read.snapshot);
    let contact = ticket
        .contact_id
        .and_then(|contact| read.names.contacts.get(&contact).cloned())
        .unwrap_or_default();
    let can = Can {
        reply: read.may(Action::Reply),
        note: read.may(Action::Note),
        change_severity: read.may(Action::ChangeSeverity),
        request: read.may(Action::RequestFromCustomer),
        propose: read.may(Action::ProposeSolution),
        assign: read.may(Action::Assign),
        answer_severity: read.may(Action::AnswerSeverityChange),
        answer_escalation: read.may(Action::AnswerEscalation),
        declare_outside_support: read.may(Action::DeclareOutsideSupport),
        reverse_outside_support: read.may(Action::ReverseOutsideSupport),
    };
    Ok(WorkspacePage {
        page: viewer.page(catalog.format("portal.ticket_heading", &[("number", &id.to_string())])),
        number: id,
        description: ticket.description.clone(),
        details,
        state: view::state_name(catalog, ticket.state),
        severity: view::severity_label(catalog, &state.policy(), &ticket.severity),
        customer_number: customer.number,
        customer_region: state
            .policy()
            .regions
            .get(&customer.region)
            .map_or(customer.region.clone(), |region| region.name.clone()),
        customer: customer.name,
        contact,
        contracts: contracts
            .iter()
            .map(|contract| contract_line(viewer, state, contract))
            .collect(),
        products: products
            .iter()
            .map(|product| {
                view::product_label(
                    state,
                    &product.product_line,
                    &product.version,
                    &product.serial,
                )
            })
            .collect(),
        program: view::program_name(&state.policy(), &ticket.program),
        language: ticket.language.clone(),
        assignee: read.names.advisor(catalog, ticket.assignee_id),
        escalation_open: ticket.escalation_open,
        flags: view::flag_views(catalog, &ticket.flags),
        clocks: clock_rows,
        explained: explanation
            .clocks
            .iter()
            .map(|explained| Explained {
                name: view::clock_name(catalog, explained.clock.kind),
                steps: explained.steps.clone(),
            })
            .collect(),
        rules: explanation
            .rules
            .iter()
            .map(|rule| Rule {
                topic: rule.topic.to_string(),
                decision: rule.decision.clone(),
                reason: rule.reason.clone(),
            })
            .collect(),
        timeline: read.timeline(state, viewer),
        severities: view::other_severities(catalog, &state.policy(), &ticket.severity),
        exclusions: state
            .policy()
            .exclusions
            .iter()
            .map(|(id, exclusion)| (id.clone(), exclusion.title.clone()))
            .collect(),
        advisors: staff
            .iter()
            .filter(|member| member.active && member.role == Role::Advisor)
            .filter(|member| Some(member.id) != ticket.assignee_id)
            .map(|member| (member.id, member.name.clone()))
            .collect(),
        severity_requested: read
            .snapshot
            .severity_request
            .as_ref()
            .map(|severity| view::severity_label(catalog, &state.policy(), severity)),
        can,
        version: ticket.version_number,
        subject: ticket.subject.clone(),
        error,
        shown_before: caredesk_desk::resources::shown_before(
            &state.desk(),
            &viewer.principal.caller(),
            ticket.id,
        )
        .await?,
        licence,
        solution_accepted: read.events.iter().any(|event| {
            matches!(
                event.data,
                caredesk_domain::ticket::EventData::SolutionAccepted { .. }
            )
        }),
    })
}

async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, UiError> {
    staff_of(&viewer)?;
    let posted = forms::read_form(&state, &viewer, multipart).await?;
    let version = posted.text("version").parse::<i64>().ok();
    let command = match posted.text("action").as_str() {
        "reply" => Command::Reply {
            body: posted.text("body"),
            via: if posted.text("via") == "call" {
                ContactMedium::Call
            } else {
                ContactMedium::Reply
            },
        },
        "note" => Command::Note {
            body: posted.text("body"),
        },
        "change_severity" => Command::ChangeSeverity {
            severity: posted.text("severity"),
            reason: posted.text("reason"),
        },
        "request" => Command::RequestFromCustomer {
            request: match posted.text("request").as_str() {
                "information" => CustomerRequest::Information,
                "remote_access" => CustomerRequest::RemoteAccess,
                "test_in_development" => CustomerRequest::TestInDevelopment,
                _ => return Err(unknown("request")),
            },
            body: posted.text("body"),
        },
        "propose" => Command::ProposeSolution {
            resolution: match posted.text("resolution").as_str() {
                "permanent_fix" => Resolution::PermanentFix,
                "workaround" => Resolution::Workaround,
                "action_plan" => Resolution::ActionPlan,
                "recommendations" => Resolution::Recommendations,
                "planned_for_release" => Resolution::PlannedForRelease {
                    release: posted.text("release"),
                },
                _ => return Err(unknown("resolution")),
            },
            body: posted.text("body"),
        },
        // Unassigning is a choice of its own, never what an unreadable value becomes.
        "assign" => Command::Assign {
            advisor: match posted.text("advisor").as_str() {
                "none" => None,
                text => Some(text.parse().map_err(|_| unknown("advisor"))?),
            },
            reason: Some(posted.text("reason")),
        },
        "answer_severity" => Command::AnswerSeverityChange {
            accept: match posted.text("accept").as_str() {
                "yes" => true,
                "no" => false,
                _ => return Err(unknown("accept")),
            },
            reason: posted.text("reason"),
        },
        "declare_outside_support" => Command::DeclareOutsideSupport {
            exclusion: posted.text("exclusion"),
            note: posted.text("note"),
        },
        "reverse_outside_support" => Command::ReverseOutsideSupport {
            reason: posted.text("reason"),
        },
        "answer_escalation" => Command::AnswerEscalation {
            answer: posted.text("answer"),
        },
        _ => return Err(unknown("action")),
    };
    match forms::act_with_files(&state, &viewer, id, command, version, posted.files).await? {
        None => Ok(Redirect::to(&format!("/console/tickets/{id}")).into_response()),
        Some(message) => {
            let page = workspace_page(&state, &viewer, id, Some(message)).await?;
            Ok(forms::unprocessable(render(&page)?))
        }
    }
}

/// A contract in one line: "Gold 2026-01-01 – 2027-12-31", flagged without an accepted licence.
fn contract_line(viewer: &Viewer, state: &AppState, contract: &Contract) -> String {
    format!(
        "{} {} – {}{}",
        view::program_name(&state.policy(), &contract.program),
        contract.starts_on,
        contract.ends_on,
        if contract.eula_accepted {
            String::new()
        } else {
            format!(" ({})", viewer.t("console.eula_missing"))
        }
    )
}

fn unknown(field: &str) -> UiError {
    UiError::BadRequest(format!("{field}: not one of this page's choices"))
}

// Workload, policy, staff, customers ---------------------------------------------------

struct LoadRow {
    name: String,
    region: String,
    languages: String,
    available: bool,
    per_severity: Vec<i64>,
    weighted: i64,
}

#[derive(Template)]
#[template(path = "console/workload.html")]
struct WorkloadPage {
    page: Page,
    severities: Vec<String>,
    rows: Vec<LoadRow>,
}

async fn workload(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    require_manager(&viewer)?;
    let loads = state.store.kept_advisor_loads().await?;
    let staff = state.store.staff().await?;
    let severities: Vec<String> = state.policy().severities.keys().cloned().collect();
    let mut per_advisor: BTreeMap<i64, HashMap<String, i64>> = BTreeMap::new();
    for ((advisor, severity), count) in loads {
        per_advisor
            .entry(advisor)
            .or_default()
            .insert(severity, count);
    }
    let rows = staff
        .iter()
        .filter(|member| member.active && member.role == Role::Advisor)
        .map(|member| {
            let counts = per_advisor.get(&member.id);
            let per_severity: Vec<i64> = severities
                .iter()
                .map(|severity| counts.and_then(|c| c.get(severity)).copied().unwrap_or(0))
                .collect();
            let weighted = severities
                .iter()
                .zip(&per_severity)
                .map(|(severity, count)| {
                    let weight = state
                        .policy()
                        .severities
                        .get(severity)
                        .map_or(1, |known| i64::from(known.load_weight));
                    weight * count
                })
                .sum();
            LoadRow {
                name: member.name.clone(),
                region: member.region.clone().unwrap_or_default(),
                languages: member.languages.join(", "),
                available: member.available,
                per_severity,
                weighted,
            }
        })
        .collect();
    Ok(render(&WorkloadPage {
        page: viewer.page(viewer.t("console.workload_title").to_string()),
        severities,
        rows,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "console/policy.html")]
struct PolicyPage {
    page: Page,
    year: i16,
    /// Which version the tables show, and how far the open tickets are from the one in
    /// force (a sentence each).
    shown: String,
    rebuild: Option<String>,
    /// Another version than the one in force is shown.
    earlier: bool,
    /// The history, for those who may read it (managers, administrators, CSMs).
    versions: Vec<VersionRow>,
    may_replay: bool,
    tables: Vec<PolicyTable>,
}

struct VersionRow {
    version: u32,
    in_force: bool,
    applied_at: String,
    applied_by: String,
    effective_at: String,
    source: String,
    note: String,
}

/// `?version=N`: a stored version instead of the one in force.
#[derive(Default, Deserialize)]
struct PolicyQuery {
    #[serde(default)]
    version: Option<u32>,
}

async fn policy(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let member = staff_of(&viewer)?;
    let query: PolicyQuery = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|error| UiError::BadRequest(error.to_string()))?;
    let year = state
        .clock
        .now()
        .to_zoned_datetime(viewer.time_zone.clone())
        .year();
    let desk = state.desk();
    let caller = viewer.principal.caller();
    let reads_history = matches!(
        member.role,
        Role::SupportManager | Role::Admin | Role::CustomerSuccessManager
    );
    let local = |at: jiff::Timestamp| {
        at.to_zoned_datetime(viewer.time_zone.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    };
    let in_force = desk.policy();
    let (policy, stored) = match query.version {
        Some(version) if version != in_force.stored_as => {
            let (stored, policy) = stored_version(&desk, &caller, version)
                .await
                .map_err(ApiError::from)?;
            (Arc::new(policy), Some(stored))
        }
        _ => {
            let stored = match in_force.stored_as {
                0 => None,
                version => desk
                    .store
                    .policy_version(version)
                    .await?
                    .map(|stored| stored.version),
            };
            (in_force.clone(), stored)
        }
    };
    let shown = match &stored {
        Some(stored) => viewer.catalog.format(
            if stored.version == in_force.stored_as {
                "console.policy_in_force"
            } else {
                "console.policy_showing"
            },
            &[
                ("version", &stored.version.to_string()),
                ("source", &stored.source),
                ("applied_at", &local(stored.applied_at)),
                ("applied_by", &stored.applied_by),
            ],
        ),
        None => viewer.t("console.policy_not_versioned").to_string(),
    };
    let (versions, rebuild) = if reads_history {
        let history = policy_history(&desk, &caller)
            .await
            .map_err(ApiError::from)?;
        let rebuild = history.in_force.map(|_| {
            let progress = history.rebuild;
            if progress.behind == 0 {
                viewer.catalog.format(
                    "console.policy_rebuilt",
                    &[("open", &progress.open.to_string())],
                )
            } else {
                viewer.catalog.format(
                    "console.policy_rebuilding",
                    &[
                        ("open", &progress.open.to_string()),
                        ("behind", &progress.behind.to_string()),
                    ],
                )
            }
        });
        let rows = history
            .versions
            .iter()
            .map(|version| VersionRow {
                version: version.version,
                in_force: Some(version.version) == history.in_force,
                applied_at: local(version.applied_at),
                applied_by: version.applied_by.clone(),
                effective_at: local(version.effective_at),
                source: version.source.clone(),
                note: version.note.clone().unwrap_or_default(),
            })
            .collect();
        (rows, rebuild)
    } else {
        (Vec::new(), None)
    };
    Ok(render(&PolicyPage {
        page: viewer.page(viewer.t("console.policy_title").to_string()),
        year,
        earlier: stored
            .as_ref()
            .is_some_and(|stored| stored.version != in_force.stored_as),
        shown,
        rebuild,
        versions,
        may_replay: reads_history,
        tables: policy_tables(&policy, year),
    })?
    .into_response())
}

struct StaffRow {
    id: i64,
    name: String,
    email: String,
    role: &'static str,
    region: String,
    languages: String,
    available: bool,
    active: bool,
}

#[derive(Template)]
#[template(path = "console/staff.html")]
struct StaffPage {
    page: Page,
    rows: Vec<StaffRow>,
}

fn require_manager(viewer: &Viewer) -> Result<(), UiError> {
    match staff_of(viewer)?.role {
        Role::SupportManager | Role::Admin => Ok(()),
        _ => Err(UiError::Forbidden),
    }
}

async fn staff(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    require_manager(&viewer)?;
    let rows = state
        .store
        .staff()
        .await?
        .into_iter()
        .map(|member| StaffRow {
            id: member.id,
            role: viewer.t(&format!("role.{}", member.role.as_str())),
            name: member.name,
            email: member.email,
            region: member.region.unwrap_or_default(),
            languages: member.languages.join(", "),
            available: member.available,
            active: member.active,
        })
        .collect();
    Ok(render(&StaffPage {
        page: viewer.page(viewer.t("console.staff_title").to_string()),
        rows,
    })?
    .into_response())
}

/// Records a licence acceptance the customer gave otherwise (on paper, by phone), from the
/// customers page (managers only).
async fn record_licence_acceptance(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    require_manager(&viewer)?;
    let desk = state.desk().from_address(client);
    customers::accept_licence(&desk, &viewer.principal.caller(), id).await?;
    Ok(Redirect::to("/console/customers").into_response())
}

#[derive(Deserialize)]
struct ActiveForm {
    csrf: String,
    active: bool,
}

/// Deactivates or reactivates a staff member from the staff page (administrators only).
async fn set_staff_active(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<ActiveForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let desk = state.desk().from_address(client);
    staff::set_active(&desk, &viewer.principal.caller(), id, form.active).await?;
    state.principals.forget_all();
    Ok(Redirect::to("/console/staff").into_response())
}

struct CustomerRow {
    number: String,
    name: String,
    region: String,
    language: String,
    contracts: Vec<ContractCell>,
    open_tickets_href: String,
}

/// A contract on the customers page: its line, and its id while its licence waits for
/// acceptance (the page offers to record one).
struct ContractCell {
    line: String,
    pending: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/customers.html")]
struct CustomersPage {
    page: Page,
    rows: Vec<CustomerRow>,
}

async fn customers(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    require_manager(&viewer)?;
    let customers = state.store.customers().await?;
    // Today in each customer's region: an ended contract's licence is no longer accepted.
    let today: HashMap<i64, jiff::civil::Date> = customers
        .iter()
        .filter_map(|customer| {
            let policy = state.policy();
            let region = policy.regions.get(&customer.region)?;
            Some((customer.id, region.today(viewer.now)))
        })
        .collect();
    let mut contracts: HashMap<i64, Vec<ContractCell>> = HashMap::new();
    for contract in state.store.contracts().await? {
        let ended = today
            .get(&contract.customer_id)
            .is_some_and(|today| contract.ends_on < *today);
        contracts
            .entry(contract.customer_id)
            .or_default()
            .push(ContractCell {
                line: contract_line(&viewer, &state, &contract),
                pending: (!contract.eula_accepted && !ended).then_some(contract.id),
            });
    }
    let rows = customers
        .into_iter()
        .map(|customer| CustomerRow {
            open_tickets_href: format!("/console?customer={}", customer.id),
            contracts: contracts.remove(&customer.id).unwrap_or_default(),
            number: customer.number,
            name: customer.name,
            region: customer.region,
            language: customer.language,
        })
        .collect();
    Ok(render(&CustomersPage {
        page: viewer.page(viewer.t("console.customers_title").to_string()),
        rows,
    })?
    .into_response())
}
