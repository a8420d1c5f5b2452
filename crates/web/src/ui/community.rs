//! The community's pages, for people signed in: the questions (searched, filtered, the
//! reader's own), asking one, and a question with its answers, where people answer, vote,
//! accept, verify, moderate and turn the question into a ticket. Every form posts back here
//! and returns to the question; a refused field is shown beside its field.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use caredesk_desk::DeskError;
use caredesk_desk::community::{
    self, QuestionFound, QuestionQuery, QuestionView, TicketFromQuestion,
};
use caredesk_desk::intake::Opened;
use caredesk_domain::resources::community::{HistoryStep, ModerationAction, QuestionFields};
use caredesk_domain::resources::search::Fragment;
use serde::Deserialize;

use super::forms::{filled, translate_reason, unprocessable};
use super::i18n::Catalog;
use super::i18n::language_name;
use super::resources::{Choice, check_offset, line_label, neighbours, page_address, product_lines};
use super::session::Viewer;
use super::{Page, UiError, render, view};
use crate::AppState;
use crate::auth::Principal;
use crate::edge::PageForm;
use crate::markdown;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/community", get(questions))
        .route("/community/ask", get(ask_form).post(ask))
        .route("/community/questions/{id}", get(question))
        .route("/community/questions/{id}/answers", post(answer))
        .route(
            "/community/questions/{id}/answers/{answer}/accept",
            post(accept),
        )
        .route(
            "/community/questions/{id}/answers/{answer}/verify",
            post(verify),
        )
        .route(
            "/community/questions/{id}/answers/{answer}/vote",
            post(vote),
        )
        .route("/community/questions/{id}/moderation", post(moderate))
        .route("/community/questions/{id}/ticket", post(open_ticket))
}

const LISTED: i64 = 30;
/// The longest search text a page takes (the API's too).
const QUERY_MAX: usize = 500;

/// A question as a list shows it.
pub struct QuestionRow {
    pub id: i64,
    pub title: String,
    pub language: String,
    pub product_line: String,
    pub answers: String,
    pub solved: bool,
    pub hidden: bool,
    pub snippet: Vec<Fragment>,
}

/// A question found, as a list shows it.
pub(super) fn question_row(
    state: &AppState,
    catalog: &'static Catalog,
    found: QuestionFound,
) -> QuestionRow {
    QuestionRow {
        id: found.hit.id,
        title: found.hit.title,
        language: found.hit.language,
        product_line: line_label(state, found.hit.product_line.as_deref()),
        answers: catalog.format(
            "community.answer_count",
            &[("count", &found.hit.answers.to_string())],
        ),
        solved: found.hit.accepted || found.hit.verified,
        hidden: found.hit.hidden,
        snippet: found.snippet,
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    product_line: String,
    #[serde(default)]
    solved: String,
    #[serde(default)]
    mine: String,
    /// Questions skipped: the pages before this one.
    #[serde(default)]
    offset: i64,
}

impl ListQuery {
    /// This list's address at `offset`.
    fn at(&self, offset: i64) -> String {
        page_address(
            "/community",
            &[
                ("q", &self.q),
                ("product_line", &self.product_line),
                ("solved", &self.solved),
                ("mine", &self.mine),
            ],
            offset,
        )
    }
}

#[derive(Template)]
#[template(path = "community/questions.html")]
struct QuestionsPage {
    page: Page,
    q: String,
    product_line: String,
    solved: bool,
    mine: bool,
    product_lines: Vec<Choice>,
    rows: Vec<QuestionRow>,
    previous: Option<String>,
    next: Option<String>,
}

async fn questions(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Result<Response, UiError> {
    if query.q.chars().count() > QUERY_MAX {
        return Err(UiError::BadRequest(format!(
            "q: at most {QUERY_MAX} characters"
        )));
    }
    let product_line = (!query.product_line.is_empty()).then(|| query.product_line.clone());
    if let Some(line) = &product_line
        && !state.policy().product_lines.contains_key(line)
    {
        return Err(UiError::BadRequest(format!(
            "product_line: \"{line}\" is not a product line"
        )));
    }
    check_offset(query.offset)?;
    let solved = !query.solved.is_empty();
    let mine = !query.mine.is_empty();
    // One more than a page: whether there is a next one.
    let mut found = community::search_questions(
        &state.desk(),
        Some(&viewer.principal.caller()),
        &QuestionQuery {
            text: query.q.clone(),
            product_line,
            solved_only: solved,
            mine,
            limit: LISTED + 1,
            offset: query.offset,
            ..QuestionQuery::default()
        },
    )
    .await?;
    let (previous, next) = neighbours(query.offset, LISTED, found.len(), |offset| query.at(offset));
    found.truncate(usize::try_from(LISTED).unwrap_or(0));
    let rows = found
        .into_iter()
        .map(|found| question_row(&state, viewer.catalog, found))
        .collect();
    let page = QuestionsPage {
        page: viewer.page(viewer.t("community.title").to_string()),
        product_lines: product_lines(&state),
        rows,
        q: query.q,
        product_line: query.product_line,
        solved,
        mine,
        previous,
        next,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize, Default)]
struct AskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    product_line: String,
    #[serde(default)]
    release: String,
    #[serde(default)]
    language: String,
}

#[derive(Template)]
#[template(path = "community/ask.html")]
struct AskPage {
    page: Page,
    form: AskForm,
    product_lines: Vec<Choice>,
    languages: Vec<Choice>,
    errors: HashMap<String, String>,
}

impl AskPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

fn ask_page(
    state: &AppState,
    viewer: &Viewer,
    form: AskForm,
    errors: HashMap<String, String>,
) -> AskPage {
    AskPage {
        page: Page {
            path: "/community/ask".into(),
            ..viewer.page(viewer.t("community.ask_title").to_string())
        },
        product_lines: product_lines(state),
        languages: state
            .policy()
            .languages
            .supported
            .iter()
            .map(|code| Choice {
                value: code.clone(),
                label: language_name(code),
            })
            .collect(),
        form,
        errors,
    }
}

async fn ask_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    let Principal::Contact(contact) = &viewer.principal else {
        return Err(UiError::Forbidden);
    };
    let form = AskForm {
        language: contact.language.clone(),
        ..AskForm::default()
    };
    Ok(render(&ask_page(&state, &viewer, form, HashMap::new()))?.into_response())
}

async fn ask(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<AskForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let fields = QuestionFields {
        title: form.title.clone(),
        body: form.body.clone(),
        product_line: filled(&form.product_line),
        release: filled(&form.release),
        language: form.language.clone(),
    };
    match community::ask(&state.desk(), &viewer.principal.caller(), fields).await {
        Ok(question) => {
            Ok(Redirect::to(&format!("/community/questions/{}", question.id)).into_response())
        }
        Err(DeskError::Invalid(problems)) => {
            let errors = problems
                .iter()
                .map(|problem| (problem.field.clone(), translate_reason(&viewer, problem)))
                .collect();
            Ok(unprocessable(render(&ask_page(
                &state, &viewer, form, errors,
            ))?))
        }
        Err(other) => Err(other.into()),
    }
}

/// An answer as the question's page shows it, with what the reader may do to it.
pub struct AnswerRow {
    pub id: i64,
    pub html: String,
    pub by: String,
    pub by_staff: bool,
    pub at: String,
    pub at_iso: String,
    pub votes: String,
    pub voted: bool,
    pub accepted: bool,
    pub verified_by: Option<String>,
    pub hidden_reason: Option<String>,
    pub may_vote: bool,
    pub may_accept: bool,
    pub may_verify: bool,
    /// Why hiding or showing it was refused just now.
    pub moderation_error: Option<String>,
}

pub struct StepRow {
    pub what: String,
    pub by: String,
    pub reason: String,
    pub at: String,
}

/// What was typed into the question page's forms, sent back with a refusal.
#[derive(Default)]
struct Typed {
    answer: String,
    answer_error: Option<String>,
    /// A refused moderation of the question itself.
    moderation_error: Option<String>,
    /// A refused moderation of one answer: which, and why.
    answer_moderation_error: Option<(i64, String)>,
    ticket: TicketForm,
    ticket_errors: HashMap<String, String>,
    ticket_refusal: Option<String>,
}

#[derive(Template)]
#[template(path = "community/question.html")]
struct QuestionPage {
    page: Page,
    id: i64,
    title: String,
    language: String,
    html: String,
    asked_by: String,
    asked_at: String,
    asked_at_iso: String,
    product_line: String,
    release: String,
    solved: bool,
    hidden_reason: Option<String>,
    /// The ticket it became, with the reader's link to it.
    ticket: Option<(i64, String)>,
    answers: Vec<AnswerRow>,
    answers_heading: String,
    history: Vec<StepRow>,
    moderates: bool,
    may_open_ticket: bool,
    products: Vec<Choice>,
    severities: Vec<Choice>,
    typed: Typed,
}

impl QuestionPage {
    fn ticket_error(&self, field: &str) -> Option<&str> {
        self.typed.ticket_errors.get(field).map(String::as_str)
    }
}

async fn question(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    let page = question_page(&state, &viewer, id, Typed::default()).await?;
    Ok(render(&page)?.into_response())
}

async fn question_page(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    typed: Typed,
) -> Result<QuestionPage, UiError> {
    let caller = viewer.principal.caller();
    let question: QuestionView = community::question_for(&state.desk(), Some(&caller), id).await?;
    let catalog = viewer.catalog;
    let zone = &viewer.time_zone;
    let staff = matches!(viewer.principal, Principal::Staff(_));
    let moderates = matches!(
        viewer.principal.role(),
        caredesk_domain::ticket::Role::SupportManager | caredesk_domain::ticket::Role::Admin
    );
    let accepting = question.yours || staff;
    let answers: Vec<AnswerRow> = question
        .answers
        .iter()
        .map(|answer| AnswerRow {
            id: answer.id,
            html: markdown::to_html(&answer.body),
            by: answer.answered_by.clone(),
            by_staff: answer.by_staff,
            at: catalog.when(answer.created_at, zone),
            at_iso: answer.created_at.to_string(),
            votes: catalog.format("community.votes", &[("count", &answer.votes.to_string())]),
            voted: answer.voted,
            accepted: answer.accepted,
            verified_by: answer.verified_by.clone(),
            hidden_reason: answer.hidden_reason.clone(),
            may_vote: !answer.yours && answer.hidden_reason.is_none(),
            may_accept: accepting
                && !answer.accepted
                && answer.hidden_reason.is_none()
                && question.hidden_reason.is_none(),
            may_verify: staff && answer.verified_by.is_none() && answer.hidden_reason.is_none(),
            moderation_error: typed
                .answer_moderation_error
                .as_ref()
                .filter(|(failed, _)| *failed == answer.id)
                .map(|(_, message)| message.clone()),
        })
        .collect();
    let history = question
        .history
        .iter()
        .map(|step| StepRow {
            what: step_label(viewer, step.step, step.answer_id),
            by: step.by.clone(),
            reason: step.reason.clone().unwrap_or_default(),
            at: catalog.when(step.at, zone),
        })
        .collect();
    let ticket = question.ticket_id.map(|number| {
        let pages = if staff { "console" } else { "portal" };
        (number, format!("/{pages}/tickets/{number}"))
    });
    let may_open_ticket =
        question.yours && question.ticket_id.is_none() && question.hidden_reason.is_none();
    let products = match (&viewer.principal, may_open_ticket) {
        (Principal::Contact(contact), true) => state
            .store
            .products_of(contact.customer_id)
            .await?
            .iter()
            .map(|product| Choice {
                value: product.id.to_string(),
                label: view::product_label(
                    state,
                    &product.product_line,
                    &product.version,
                    &product.serial,
                ),
            })
            .collect(),
        _ => Vec::new(),
    };
    let policy = &state.policy();
    Ok(QuestionPage {
        page: Page {
            path: format!("/community/questions/{id}"),
            ..viewer.page(question.title.clone())
        },
        id,
        html: markdown::to_html(&question.body),
        asked_by: question.asked_by.clone(),
        asked_at: catalog.when(question.created_at, zone),
        asked_at_iso: question.created_at.to_string(),
        product_line: line_label(state, question.product_line.as_deref()),
        release: question.release.clone().unwrap_or_default(),
        solved: question.accepted_answer_id.is_some()
            || question
                .answers
                .iter()
                .any(|answer| answer.verified_by.is_some()),
        hidden_reason: question.hidden_reason.clone(),
        ticket,
        answers_heading: catalog.format(
            "community.answer_count",
            &[("count", &question.answers.len().to_string())],
        ),
        answers,
        history,
        moderates,
        may_open_ticket,
        products,
        severities: if may_open_ticket {
            policy
                .severities
                .keys()
                .map(|severity| Choice {
                    value: severity.clone(),
                    label: view::severity_label(catalog, policy, severity),
                })
                .collect()
        } else {
            Vec::new()
        },
        title: question.title,
        language: question.language,
        typed,
    })
}

#[derive(Deserialize)]
struct AnswerForm {
    csrf: String,
    #[serde(default)]
    body: String,
}

async fn answer(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<AnswerForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    match community::answer(&state.desk(), &viewer.principal.caller(), id, &form.body).await {
        Ok(question) => {
            let newest = question.answers.last().map_or(0, |answer| answer.id);
            Ok(to_answer(id, newest))
        }
        Err(DeskError::Invalid(problems)) => {
            let typed = Typed {
                answer: form.body,
                answer_error: problems
                    .first()
                    .map(|problem| translate_reason(&viewer, problem)),
                ..Typed::default()
            };
            Ok(unprocessable(render(
                &question_page(&state, &viewer, id, typed).await?,
            )?))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn accept(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, answer)): Path<(i64, i64)>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    community::accept(&state.desk(), &viewer.principal.caller(), id, answer).await?;
    Ok(to_answer(id, answer))
}

async fn verify(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, answer)): Path<(i64, i64)>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    community::verify(&state.desk(), &viewer.principal.caller(), id, answer).await?;
    Ok(to_answer(id, answer))
}

#[derive(Deserialize)]
struct VoteForm {
    csrf: String,
    /// "1" to vote, "0" to take one's vote back.
    up: String,
}

async fn vote(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, answer)): Path<(i64, i64)>,
    PageForm(form): PageForm<VoteForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let up = match form.up.as_str() {
        "1" => true,
        "0" => false,
        other => {
            return Err(UiError::BadRequest(format!(
                "up: \"{other}\" is neither 1 nor 0"
            )));
        }
    };
    community::vote(&state.desk(), &viewer.principal.caller(), id, answer, up).await?;
    Ok(to_answer(id, answer))
}

#[derive(Deserialize)]
struct ModerationForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    answer_id: Option<i64>,
}

async fn moderate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<ModerationForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let action = match form.action.as_str() {
        "hide" => ModerationAction::Hide,
        "show" => ModerationAction::Show,
        other => {
            return Err(UiError::BadRequest(format!(
                "action: \"{other}\" is neither hide nor show"
            )));
        }
    };
    match community::moderate(
        &state.desk(),
        &viewer.principal.caller(),
        id,
        form.answer_id,
        action,
        &form.reason,
    )
    .await
    {
        Ok(_) => Ok(match form.answer_id {
            Some(answer) => to_answer(id, answer),
            None => Redirect::to(&format!("/community/questions/{id}")).into_response(),
        }),
        Err(DeskError::Invalid(problems)) => {
            let message = problems
                .first()
                .map(|problem| translate_reason(&viewer, problem));
            let typed = match form.answer_id {
                Some(answer) => Typed {
                    answer_moderation_error: message.map(|message| (answer, message)),
                    ..Typed::default()
                },
                None => Typed {
                    moderation_error: message,
                    ..Typed::default()
                },
            };
            Ok(unprocessable(render(
                &question_page(&state, &viewer, id, typed).await?,
            )?))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize, Default)]
struct TicketForm {
    #[serde(default)]
    csrf: String,
    /// A registered product's number.
    #[serde(default)]
    product: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    business_impact: String,
}

/// The asker's one step from question to ticket.
async fn open_ticket(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<TicketForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let Principal::Contact(contact) = &viewer.principal else {
        return Err(UiError::Forbidden);
    };
    let product = match form.product.parse::<i64>() {
        Ok(number) => state
            .store
            .products_of(contact.customer_id)
            .await?
            .into_iter()
            .find(|product| product.id == number),
        Err(_) => None,
    };
    let mut errors = HashMap::new();
    if product.is_none() {
        errors.insert("product".to_string(), viewer.t("form.required").to_string());
    }
    let request = TicketFromQuestion {
        severity: form.severity.clone(),
        business_impact: form.business_impact.clone(),
        product_line: product.as_ref().map(|product| product.product_line.clone()),
        version: product.as_ref().map(|product| product.version.clone()),
        serial: product
            .as_ref()
            .map(|product| product.serial.clone())
            .unwrap_or_default(),
    };
    let outcome = if errors.is_empty() {
        community::open_ticket_from(&state.desk(), &viewer.principal.caller(), id, &request).await
    } else {
        Err(DeskError::Invalid(Vec::new()))
    };
    let refused = |errors: HashMap<String, String>, refusal: Option<String>| Typed {
        ticket: form,
        ticket_errors: errors,
        ticket_refusal: refusal,
        ..Typed::default()
    };
    match outcome {
        Ok(Opened::Ticket(created)) => {
            Ok(Redirect::to(&format!("/portal/tickets/{}", created.ticket.id)).into_response())
        }
        Ok(Opened::ServiceRequest(_)) => Ok(Redirect::to("/portal").into_response()),
        Err(DeskError::Invalid(problems)) => {
            let mut general = Vec::new();
            for problem in &problems {
                let field = match problem.field.as_str() {
                    "product_line" | "version" | "serial" => "product",
                    other => other,
                };
                let reason = translate_reason(&viewer, problem);
                if ["product", "severity", "business_impact"].contains(&field) {
                    errors.entry(field.to_string()).or_insert(reason);
                } else {
                    general.push(reason);
                }
            }
            let refusal = (!general.is_empty()).then(|| general.join(" "));
            let page = question_page(&state, &viewer, id, refused(errors, refusal)).await?;
            Ok(unprocessable(render(&page)?))
        }
        Err(DeskError::Forbidden(reason)) => {
            let page = question_page(&state, &viewer, id, refused(errors, Some(reason))).await?;
            Ok(unprocessable(render(&page)?))
        }
        Err(other) => Err(other.into()),
    }
}

/// Back to the question's page, at answer `answer`.
fn to_answer(id: i64, answer: i64) -> Response {
    Redirect::to(&format!("/community/questions/{id}#answer-{answer}")).into_response()
}

fn step_label(viewer: &Viewer, step: HistoryStep, answer: Option<i64>) -> String {
    let what = viewer.t(&format!("community.step_{}", step.as_str()));
    match answer {
        Some(answer) => format!("{what} (#{answer})"),
        None => what.to_string(),
    }
}
