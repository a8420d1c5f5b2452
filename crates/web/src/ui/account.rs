//! The signed-in person's own access (`/account`): the sessions open as them, each with
//! where it was opened from, to end any they do not recognise; for staff, their API tokens,
//! to revoke. Administrators have every token on `/console/tokens`, where they also issue
//! one and see its secret that once.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use caredesk_desk::access::{self, TokenRequest};
use caredesk_desk::{DeskError, FieldProblem};
use caredesk_domain::reason::Reason;
use caredesk_domain::ticket::Role;
use caredesk_store::{ApiToken, StaffMember};
use serde::Deserialize;

use super::forms::translate_reason;
use super::session::Viewer;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::Principal;
use crate::edge::PageForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/console/tokens", get(all_tokens).post(issue_token))
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

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
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
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<RevokeForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    access::revoke_token(&state.desk(), &viewer.principal.caller(), id).await?;
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
                &state.desk(),
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
