//! Community questions and answers over the API: for people signed in. Customers' contacts
//! ask; contacts and staff answer; the asker or staff accept; staff verify; everyone votes;
//! support managers and administrators moderate; the asker turns a question into a ticket.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caredesk_desk::community::{
    self, QuestionFound, QuestionQuery, QuestionView, TicketFromQuestion,
};
use caredesk_domain::resources::community::{
    ModerationAction, POST_MAX, QUESTION_TITLE_MAX, QuestionFields, REASON_MAX,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::created;
use crate::routes::resources::{SearchBounds, SearchCommon, SnippetPiece, checked_search};
use crate::routes::tickets::respond_opened;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_questions, ask_question))
        .routes(routes!(get_question))
        .routes(routes!(answer_question))
        .routes(routes!(accept_answer))
        .routes(routes!(verify_answer))
        .routes(routes!(vote_for_answer, withdraw_vote))
        .routes(routes!(moderate_question))
        .routes(routes!(open_ticket_from_question))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuestionParams {
    /// Words to look for in questions and their answers, in any form; none lists the
    /// latest active questions.
    #[param(max_length = 500)]
    q: Option<String>,
    /// Only questions in this language.
    language: Option<String>,
    product_line: Option<String>,
    /// Questions about this release, or about none in particular.
    #[param(max_length = 50)]
    release: Option<String>,
    /// Only questions with an accepted or a verified answer.
    solved: Option<bool>,
    /// Only the caller's own questions.
    mine: Option<bool>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Skip this many results (up to 100,000). With `q`, the results end after the
    /// search's best 1,000: a page past them is empty.
    #[param(minimum = 0, maximum = 100000)]
    offset: Option<i64>,
}

/// A question found.
#[derive(Serialize, ToSchema)]
pub struct QuestionResult {
    id: i64,
    title: String,
    product_line: Option<String>,
    release: Option<String>,
    language: String,
    /// Answers the caller may read (hidden ones are not counted for others).
    answers: i64,
    accepted: bool,
    verified: bool,
    /// Staff and the asker only ever see hidden questions.
    hidden: bool,
    created_at: Timestamp,
    active_at: Timestamp,
    /// About 200 characters of the question around the first words that match.
    snippet: Vec<SnippetPiece>,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionResults {
    results: Vec<QuestionResult>,
}

impl From<QuestionFound> for QuestionResult {
    fn from(found: QuestionFound) -> Self {
        let QuestionFound { hit, snippet } = found;
        QuestionResult {
            id: hit.id,
            title: hit.title,
            product_line: hit.product_line,
            release: hit.release,
            language: hit.language,
            answers: hit.answers,
            accepted: hit.accepted,
            verified: hit.verified,
            hidden: hit.hidden,
            created_at: hit.created_at,
            active_at: hit.active_at,
            snippet: snippet.into_iter().map(SnippetPiece::from).collect(),
        }
    }
}

/// Searches (or lists) the community's questions the caller may read.
#[utoipa::path(
    get,
    path = "/api/v1/community/questions",
    tag = "community",
    security(("bearer" = [])),
    params(QuestionParams),
    responses(
        (status = 200, description = "The questions found, best first", body = QuestionResults),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn search_questions(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<QuestionParams>,
) -> Result<Json<QuestionResults>, ApiError> {
    let SearchBounds {
        limit,
        offset,
        text,
    } = checked_search(
        &state,
        &SearchCommon {
            q: params.q,
            language: params.language.as_deref(),
            product_line: params.product_line.as_deref(),
            release: params.release.as_deref(),
            limit: params.limit,
            offset: params.offset,
        },
    )?;
    let query = QuestionQuery {
        text,
        language: params.language,
        product_line: params.product_line,
        release: params.release,
        solved_only: params.solved.unwrap_or(false),
        mine: params.mine.unwrap_or(false),
        limit,
        offset,
    };
    let found =
        community::search_questions(&state.desk(), Some(&principal.caller()), &query).await?;
    Ok(Json(QuestionResults {
        results: found.into_iter().map(QuestionResult::from).collect(),
    }))
}

/// A new question.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    #[schema(format = "one-line", min_length = 1, max_length = 200)]
    title: String,
    /// Markdown: more than blanks.
    #[schema(format = "filled-text", min_length = 1, max_length = 20000)]
    body: String,
    #[serde(default)]
    product_line: Option<String>,
    /// A version from the product line's release catalog.
    #[serde(default)]
    #[schema(max_length = 50)]
    release: Option<String>,
    /// The question's language; the contact's own by default.
    #[serde(default)]
    language: Option<String>,
}

/// A customer's contact asks the community.
#[utoipa::path(
    post,
    path = "/api/v1/community/questions",
    tag = "community",
    security(("bearer" = [])),
    request_body = QuestionBody,
    responses(
        (status = 201, description = "Asked; where it lives is in Location", body = QuestionView),
        (status = 403, description = "Customers' contacts only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn ask_question(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<QuestionBody>,
) -> Result<Response, ApiError> {
    let language = match (&body.language, &principal) {
        (Some(language), _) => language.clone(),
        (None, Principal::Contact(contact)) => contact.language.clone(),
        (None, Principal::Staff(_)) => state.policy().languages.fallback.clone(),
    };
    let fields = QuestionFields {
        title: body.title,
        body: body.body,
        product_line: body.product_line,
        release: body.release,
        language,
    };
    let question = community::ask(&state.desk(), &principal.caller(), fields).await?;
    let location = format!("/api/v1/community/questions/{}", question.id);
    Ok(created(&location, question))
}

/// One question with the answers the caller may read.
#[utoipa::path(
    get,
    path = "/api/v1/community/questions/{id}",
    tag = "community",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Question number")),
    responses(
        (status = 200, description = "The question", body = QuestionView),
        (status = 404, description = "No such question for this reader", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_question(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<QuestionView>, ApiError> {
    Ok(Json(
        community::question_for(&state.desk(), Some(&principal.caller()), id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// Markdown: more than blanks.
    #[schema(format = "filled-text", min_length = 1, max_length = 20000)]
    body: String,
}

/// Answers a question (anyone signed in; the asker is told by mail).
#[utoipa::path(
    post,
    path = "/api/v1/community/questions/{id}/answers",
    tag = "community",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Question number")),
    request_body = AnswerBody,
    responses(
        (status = 201, description = "Answered: the question with its answers", body = QuestionView),
        (status = 404, description = "No such question for this reader", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The question is hidden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn answer_question(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<(StatusCode, Json<QuestionView>), ApiError> {
    let question = community::answer(&state.desk(), &principal.caller(), id, &body.body).await?;
    Ok((StatusCode::CREATED, Json(question)))
}

/// The asker or staff accept an answer (in place of any other).
#[utoipa::path(
    post,
    path = "/api/v1/community/questions/{id}/answers/{answer}/accept",
    tag = "community",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Question number"),
        ("answer" = i64, Path, description = "Answer number"),
    ),
    responses(
        (status = 200, description = "Accepted", body = QuestionView),
        (status = 403, description = "Neither the asker nor staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such question or answer for this reader", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Hidden, or accepted already", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn accept_answer(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, answer)): ApiPath<(i64, i64)>,
) -> Result<Json<QuestionView>, ApiError> {
    Ok(Json(
        community::accept(&state.desk(), &principal.caller(), id, answer).await?,
    ))
}

/// Staff vouch for an answer.
#[utoipa::path(
    post,
    path = "/api/v1/community/questions/{id}/answers/{answer}/verify",
    tag = "community",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Question number"),
        ("answer" = i64, Path, description = "Answer number"),
    ),
    responses(
        (status = 200, description = "Verified", body = QuestionView),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such question or answer for this reader", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Hidden, or verified already", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn verify_answer(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, answer)): ApiPath<(i64, i64)>,
) -> Result<Json<QuestionView>, ApiError> {
    Ok(Json(
        community::verify(&state.desk(), &principal.caller(), id, answer).await?,
    ))
}

/// Votes for an answer: once per person, never for one's own.
#[utoipa::path(
    put,
    path = "/api/v1/community/questions/{id}/answers/{answer}/vote",
    tag = "community",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Question number"),
        ("answer" = i64, Path, description = "Answer number"),
    ),
    responses(
        (status = 200, description = "Counted (once, however often it is sent)", body = QuestionView),
        (status = 403, description = "One's own answer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such question or answer for this reader", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The answer is hidden", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn vote_for_answer(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, answer)): ApiPath<(i64, i64)>,
) -> Result<Json<QuestionView>, ApiError> {
    Ok(Json(
        community::vote(&state.desk(), &principal.caller(), id, answer, true).await?,
    ))
}

/// Takes one's vote back.
#[utoipa::path(
    delete,
    path = "/api/v1/community/questions/{id}/answers/{answer}/vote",
    tag = "community",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Question number"),
        ("answer" = i64, Path, description = "Answer number"),
    ),
    responses(
        (status = 200, description = "No vote of the caller's any more", body = QuestionView),
        (status = 404, description = "No such question or answer for this reader", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn withdraw_vote(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, answer)): ApiPath<(i64, i64)>,
) -> Result<Json<QuestionView>, ApiError> {
    Ok(Json(
        community::vote(&state.desk(), &principal.caller(), id, answer, false).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationBody {
    action: ModerationAction,
    /// Why, kept in the question's history (and shown to the author while it is hidden).
    #[schema(format = "filled-text", min_length = 1, max_length = 500)]
    reason: String,
    /// An answer of the question; none: the question itself.
    #[serde(default)]
    answer_id: Option<i64>,
}

/// Support managers and administrators hide a question or an answer, or show it again.
#[utoipa::path(
    post,
    path = "/api/v1/community/questions/{id}/moderation",
    tag = "community",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Question number")),
    request_body = ModerationBody,
    responses(
        (status = 200, description = "Done, and kept in the history", body = QuestionView),
        (status = 403, description = "Support managers and administrators only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such question or answer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Hidden or shown already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn moderate_question(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ModerationBody>,
) -> Result<Json<QuestionView>, ApiError> {
    Ok(Json(
        community::moderate(
            &state.desk(),
            &principal.caller(),
            id,
            body.answer_id,
            body.action,
            &body.reason,
        )
        .await?,
    ))
}

/// The asker turns their question into a ticket: its title and text, a line naming the
/// question, and the form's fields. Asked again, it is refused (409): one ticket per
/// question.
#[utoipa::path(
    post,
    path = "/api/v1/community/questions/{id}/ticket",
    tag = "community",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Question number")),
    request_body = TicketFromQuestion,
    responses(
        (status = 201, description = "Opened", body = crate::routes::tickets::TicketView),
        (status = 403, description = "Not the asker, or not covered", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such question for this reader", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The question became a ticket already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn open_ticket_from_question(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(form): ApiJson<TicketFromQuestion>,
) -> Result<Response, ApiError> {
    let opened = community::open_ticket_from(&state.desk(), &principal.caller(), id, &form).await?;
    respond_opened(&state, &principal, opened)
}

// The documented bounds are the domain's own.
const _: () = assert!(QUESTION_TITLE_MAX == 200 && POST_MAX == 20_000 && REASON_MAX == 500);
