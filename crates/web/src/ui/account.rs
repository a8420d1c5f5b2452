//! The signed-in person's own access (`/account`): the sessions open as them, each with
//! where it was opened from, to end any they do not recognise; for staff, their API tokens,
//! to revoke. Administrators have every token on `/console/tokens`, where they also issue
//! one and see its secret that once, and the audit trail on `/console/audit` (with CSV).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use caredesk_desk::access::{self, TokenRequest};
use caredesk_desk::audit;
use caredesk_desk::{DeskError, FieldProblem};
use caredesk_domain::reason::Reason;
use caredesk_domain::ticket::Role;
use caredesk_store::{ApiToken, AuditFilter, StaffMember};
use serde::Deserialize;

use super::forms::{CsrfOnly, translate_reason};
use super::session::Viewer;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::{ClientAddress, Principal};
use crate::download::csv_attachment;
use crate::edge::PageForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/console/tokens", get(all_tokens).post(issue_token))
        .route("/console/audit", get(audit_page))
        .route("/console/audit.csv", get(audit_csv))
}

struct SessionRow {
    id: i64,
    signed_in: String,
    expires: String,
    address: String,
    client: String,
    current: bool,
}

struct TokenRow {
    id: i64,
    holder: String,
    name: String,
    issued: String,
    expires: String,
    state: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    page: Page,
    sessions: Vec<SessionRow>,
    /// None for a customer contact, who holds no API tokens.
    tokens: Option<Vec<TokenRow>>,
}

async fn account(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    let desk = state.desk();
    let caller = viewer.principal.caller();
    let sessions = access::own_sessions(&desk, &caller, &viewer.secret)
        .await?
        .into_iter()
        .map(|session| SessionRow {
            id: session.id,
            signed_in: viewer.catalog.when(session.created_at, &viewer.time_zone),
            expires: viewer.catalog.when(session.expires_at, &viewer.time_zone),
            address: or_unknown(&viewer, session.address),
            client: or_unknown(&viewer, session.client),
            current: session.current,
        })
        .collect();
    let tokens = match &viewer.principal {
        Principal::Staff(member) => {
            let tokens = access::tokens(&desk, &caller, Some(member.id)).await?;
            Some(token_rows(&viewer, tokens, std::slice::from_ref(member)))
        }
        Principal::Contact(_) => None,
    };
    Ok(render(&AccountPage {
        page: viewer.page(viewer.t("account.title").to_string()),
        sessions,
        tokens,
    })?
    .into_response())
}

fn or_unknown(viewer: &Viewer, text: String) -> String {
    if text.is_empty() {
        viewer.t("account.unknown").to_string()
    } else {
        text
    }
}

fn token_rows(viewer: &Viewer, tokens: Vec<ApiToken>, staff: &[StaffMember]) -> Vec<TokenRow> {
    tokens
        .into_iter()
        .map(|token| {
            let active = token.is_active(viewer.now);
            let state = if token.revoked_at.is_some() {
                "account.revoked"
            } else if active {
                "account.active"
            } else {
                "account.expired"
            };
            TokenRow {
                id: token.id,
                holder: staff
                    .iter()
                    .find(|member| member.id == token.staff_id)
                    .map_or_else(
                        || token.staff_id.to_string(),
                        |member| format!("{} ({})", member.name, member.email),
                    ),
                name: token.name,
                issued: viewer.catalog.when(token.created_at, &viewer.time_zone),
                expires: token.expires_at.map_or_else(
                    || viewer.t("account.never").to_string(),
                    |at| viewer.catalog.when(at, &viewer.time_zone),
                ),
                state: viewer.t(state),
                active,
            }
        })
        .collect()
}

/// Ends another of the viewer's sessions; theirs only (someone else's is not found).
async fn end_session(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    access::end_own_session(&state.desk(), &viewer.principal.caller(), id).await?;
    state.principals.forget_all();
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
struct RevokeForm {
    csrf: String,
    #[serde(default)]
    back_to: String,
}

/// Revokes a token: the viewer's own, or any for an administrator; back to the page the
/// button was on.
async fn revoke_token(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<RevokeForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    access::revoke_token(
        &state.desk().from_address(client),
        &viewer.principal.caller(),
        id,
    )
    .await?;
    state.principals.forget_all();
    let back_to = if form.back_to == "/console/tokens" {
        "/console/tokens"
    } else {
        "/account"
    };
    Ok(Redirect::to(back_to).into_response())
}

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct TokensPage {
    page: Page,
    rows: Vec<TokenRow>,
    /// Active staff members a token may be issued for: id and "name (e-mail)".
    holders: Vec<(i64, String)>,
    /// What was entered, kept after a refusal.
    form: IssueForm,
    /// Each faulty field and its refusal, in the viewer's language.
    errors: Vec<(String, String)>,
    /// The secret of the token just issued and the line that introduces it: shown once.
    issued: Option<(String, String)>,
}

impl TokensPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(faulty, _)| faulty == field)
            .map(|(_, message)| message.as_str())
    }
}

#[derive(Clone, Default, Deserialize)]
struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    staff_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_in_days: String,
}

fn require_admin(viewer: &Viewer) -> Result<(), UiError> {
    match &viewer.principal {
        Principal::Staff(member) if member.role == Role::Admin => Ok(()),
        _ => Err(UiError::Forbidden),
    }
}

async fn all_tokens(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    tokens_page(&state, &viewer, IssueForm::default(), Vec::new(), None).await
}

async fn tokens_page(
    state: &AppState,
    viewer: &Viewer,
    form: IssueForm,
    errors: Vec<FieldProblem>,
    issued: Option<(String, String)>,
) -> Result<Response, UiError> {
    let desk = state.desk();
    let staff = state.store.staff().await?;
    let tokens = access::tokens(&desk, &viewer.principal.caller(), None).await?;
    let errors = errors
        .iter()
        .map(|problem| (problem.field.clone(), translate_reason(viewer, problem)))
        .collect();
    let holders = staff
        .iter()
        .filter(|member| member.active)
        .map(|member| (member.id, format!("{} ({})", member.name, member.email)))
        .collect();
    Ok(render(&TokensPage {
        page: viewer.page(viewer.t("account.all_tokens").to_string()),
        rows: token_rows(viewer, tokens, &staff),
        holders,
        form,
        errors,
        issued,
    })?
    .into_response())
}

/// Issues a token and shows its secret on the page that answers, this once.
async fn issue_token(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    viewer: Viewer,
    PageForm(form): PageForm<IssueForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    require_admin(&viewer)?;
    let mut errors = Vec::new();
    let staff_id = form.staff_id.trim().parse::<i64>().ok();
    if staff_id.is_none() {
        errors.push(FieldProblem::of("staff_id", Reason::required()));
    }
    let expires_in_days = match form.expires_in_days.trim() {
        "" => None,
        // Not a number, or too large for one: the desk's own range rule refuses it.
        text => Some(text.parse::<u32>().unwrap_or(0)),
    };
    let request = TokenRequest {
        name: form.name.clone(),
        expires_in_days,
    };
    let outcome = match staff_id {
        Some(staff_id) if errors.is_empty() => Some(
            access::issue_token(
                &state.desk().from_address(client),
                &viewer.principal.caller(),
                staff_id,
                &request,
            )
            .await,
        ),
        _ => None,
    };
    let problems = match outcome {
        Some(Ok((token, secret))) => {
            let line = viewer
                .catalog
                .format("account.issued_secret", &[("name", &token.name)]);
            let issued = Some((line, secret));
            return tokens_page(&state, &viewer, IssueForm::default(), Vec::new(), issued).await;
        }
        Some(Err(DeskError::Invalid(problems))) => problems,
        Some(Err(DeskError::NotFound)) => vec![FieldProblem::of(
            "staff_id",
            Reason::invalid("no such staff member"),
        )],
        Some(Err(other)) => return Err(other.into()),
        None => errors,
    };
    let mut response = tokens_page(&state, &viewer, form, problems, None).await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

// The audit trail ------------------------------------------------------------------------

/// What can be filtered on, as the page's select offers it.
const AUDITED_ENTITIES: [&str; 8] = [
    "customer",
    "contact",
    "contract",
    "product",
    "staff",
    "on_call_shift",
    "api_token",
    "webhook",
];

/// Entries per page.
const AUDIT_PAGE: i64 = 100;

/// The filters as the form sends them (empty means "any"); dates are the viewer's days.
#[derive(Clone, Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    entity: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    before_id: Option<i64>,
}

struct AuditRow {
    when: String,
    who: String,
    address: String,
    what: String,
    action: String,
    /// "field: before → after" for each field that changed; every field of a new record.
    changes: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    page: Page,
    entities: [&'static str; 8],
    filter: AuditQuery,
    /// The filters as a query string, for the CSV link.
    query: String,
    rows: Vec<AuditRow>,
    older: Option<String>,
}

fn audit_filter(viewer: &Viewer, query: &AuditQuery, limit: i64) -> Result<AuditFilter, UiError> {
    let day = |field: &str, text: &str| -> Result<Option<jiff::Timestamp>, UiError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let date: jiff::civil::Date = text
            .trim()
            .parse()
            .map_err(|_| UiError::BadRequest(format!("{field}: a date, such as 2026-12-04")))?;
        viewer
            .time_zone
            .to_timestamp(date.at(0, 0, 0, 0))
            .map(Some)
            .map_err(|error| UiError::BadRequest(format!("{field}: {error}")))
    };
    let until = day("until", &query.until)?
        .map(|start| start.checked_add(jiff::SignedDuration::from_hours(24)))
        .transpose()
        .map_err(|error| UiError::BadRequest(format!("until: {error}")))?;
    let text = |value: &str| Some(value.trim().to_string()).filter(|value| !value.is_empty());
    Ok(AuditFilter {
        entity: text(&query.entity),
        entity_id: None,
        actor: text(&query.actor),
        from: day("from", &query.from)?,
        until,
        before_id: query.before_id,
        limit,
    })
}

fn filter_query(query: &AuditQuery) -> String {
    let pairs: Vec<(&str, &str)> = [
        ("entity", query.entity.as_str()),
        ("actor", query.actor.as_str()),
        ("from", query.from.as_str()),
        ("until", query.until.as_str()),
    ]
    .into_iter()
    .filter(|(_, value)| !value.trim().is_empty())
    .collect();
    if pairs.is_empty() {
        return String::new();
    }
    let encoded: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("?{encoded}")
}

async fn audit_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<AuditQuery>,
) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    let filter = audit_filter(&viewer, &query, AUDIT_PAGE)?;
    let entries = audit::trail(&state.desk(), &viewer.principal.caller(), &filter).await?;
    let staff = state.store.staff().await?;
    let base = filter_query(&query);
    let older = (entries.len() as i64 == AUDIT_PAGE)
        .then(|| entries.last().map(|entry| entry.id))
        .flatten()
        .map(|last| {
            let separator = if base.is_empty() { '?' } else { '&' };
            format!("/console/audit{base}{separator}before_id={last}")
        });
    let rows = entries
        .iter()
        .map(|entry| AuditRow {
            when: viewer.catalog.when(entry.at, &viewer.time_zone),
            who: who(&viewer, &staff, &entry.actor),
            address: entry.address.clone(),
            what: match entry.entity_id {
                Some(id) => format!("{} {id}", entry.entity),
                None => entry.entity.clone(),
            },
            action: entry.action.clone(),
            changes: changes(entry.before.as_ref(), entry.after.as_ref()),
        })
        .collect();
    Ok(render(&AuditPage {
        page: viewer.page(viewer.t("audit.title").to_string()),
        entities: AUDITED_ENTITIES,
        filter: query,
        query: base,
        rows,
        older,
    })?
    .into_response())
}

/// The same entries as CSV, every one the viewer's filters select (up to 100,000).
async fn audit_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<AuditQuery>,
) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    let filter = audit_filter(&viewer, &query, audit::MAX_ENTRIES)?;
    let entries = audit::export(&state.desk(), &viewer.principal.caller(), &filter).await?;
    Ok(csv_attachment("audit.csv", audit::as_csv(&entries)))
}

/// A caller key as a person reads it: the staff member's name and e-mail address.
fn who(viewer: &Viewer, staff: &[StaffMember], actor: &str) -> String {
    if actor == "system" {
        return viewer.t("audit.system").to_string();
    }
    actor
        .strip_prefix("staff:")
        .and_then(|id| id.parse::<i64>().ok())
        .and_then(|id| staff.iter().find(|member| member.id == id))
        .map_or_else(
            || actor.to_string(),
            |member| format!("{} ({})", member.name, member.email),
        )
}

/// Each field that differs between the records, as "field: before → after"; every field
/// of a record that is new.
fn changes(before: Option<&serde_json::Value>, after: Option<&serde_json::Value>) -> Vec<String> {
    let empty = serde_json::Map::new();
    let old = before.and_then(serde_json::Value::as_object);
    let new = after
        .and_then(serde_json::Value::as_object)
        .unwrap_or(&empty);
    new.iter()
        .filter_map(|(field, value)| match old {
            None => Some(format!("{field}: {}", plain(value))),
            Some(old) => {
                let was = old.get(field).unwrap_or(&serde_json::Value::Null);
                (was != value).then(|| format!("{field}: {} → {}", plain(was), plain(value)))
            }
        })
        .collect()
}

fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => "—".to_string(),
        other => other.to_string(),
    }
}
