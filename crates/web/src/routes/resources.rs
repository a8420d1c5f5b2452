//! The resource center over the API: search and read what the caller may (signing in is
//! optional: nobody reads the public entries), and, for staff, write entries and their
//! translations, take them through review, and read their revisions.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use caredesk_desk::resources::{self, Found, ResourceQuery, RevisionDiff};
use caredesk_domain::resources::search::Fragment;
use caredesk_domain::resources::{
    BODY_MAX, EntryFields, EntryKind, RELEASES_MAX, ReviewAction, TAG_MAX, TAGS_MAX, TITLE_MAX,
    TranslationFields, TranslationState, Visibility,
};
use caredesk_store::{
    Entry, FeedbackSummary, MissedSearch, Revision, ShownBefore, TicketsHelped, Translation,
};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, if_match_version};
use crate::markdown;
use crate::routes::created;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_resources, create_resource))
        .routes(routes!(get_resource, update_resource))
        .routes(routes!(add_translation))
        .routes(routes!(revise_translation))
        .routes(routes!(review_translation))
        .routes(routes!(translation_revisions))
        .routes(routes!(compare_revisions))
        .routes(routes!(record_deflection))
        .routes(routes!(give_feedback, feedback_of))
        .routes(routes!(missed_searches))
        .routes(routes!(article_from_ticket))
        .routes(routes!(suggestions_shown))
}

const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 100;
/// The longest search text taken.
const QUERY_MAX: usize = 500;
/// The longest release version a filter names (the catalog's versions are shorter).
const RELEASE_MAX: usize = 50;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to look for, in any form ("printed" finds "printing"); none lists the latest
    /// changed entries.
    #[param(max_length = 500)]
    q: Option<String>,
    /// Only entries in this language.
    language: Option<String>,
    product_line: Option<String>,
    /// Entries of this release of the product line, or of every release.
    #[param(max_length = 50)]
    release: Option<String>,
    kind: Option<EntryKind>,
    #[param(max_length = 40)]
    tag: Option<String>,
    /// Staff only: translations in this state (others read published ones only).
    state: Option<TranslationState>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Skip this many results (up to 100,000). With `q`, the results end after the
    /// search's best 1,000: a page past them is empty.
    #[param(minimum = 0, maximum = 100000)]
    offset: Option<i64>,
}

/// What the resource center's and the community's searches take alike.
pub(crate) struct SearchCommon<'a> {
    pub q: Option<String>,
    pub language: Option<&'a str>,
    pub product_line: Option<&'a str>,
    pub release: Option<&'a str>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A search's page and words, checked.
pub(crate) struct SearchBounds {
    pub limit: i64,
    pub offset: i64,
    pub text: String,
}

/// Checks what every search takes: the page (1 to 100, 20 by default; an offset up to
/// 100,000: a search of words ends after its best 1,000 results), the words (at most 500 characters), the policy's language and product line,
/// a release's length. Each refusal names its parameter.
pub(crate) fn checked_search(
    state: &AppState,
    common: &SearchCommon<'_>,
) -> Result<SearchBounds, ApiError> {
    let limit = common.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("between 1 and {MAX_PAGE}"),
        ));
    }
    let offset = common.offset.unwrap_or(0);
    if !(0..=100_000).contains(&offset) {
        return Err(ApiError::invalid("offset", "between 0 and 100000"));
    }
    let text = common.q.clone().unwrap_or_default();
    if text.chars().count() > QUERY_MAX {
        return Err(ApiError::invalid(
            "q",
            format!("at most {QUERY_MAX} characters"),
        ));
    }
    let policy = &state.policy();
    if let Some(language) = common.language
        && !policy
            .languages
            .supported
            .iter()
            .any(|known| known == language)
    {
        return Err(ApiError::invalid(
            "language",
            format!("one of {}", policy.languages.supported.join(", ")),
        ));
    }
    if let Some(line) = common.product_line
        && !policy.product_lines.contains_key(line)
    {
        let lines: Vec<&str> = policy.product_lines.keys().map(String::as_str).collect();
        return Err(ApiError::invalid(
            "product_line",
            format!("one of {}", lines.join(", ")),
        ));
    }
    if let Some(release) = common.release
        && release.chars().count() > RELEASE_MAX
    {
        return Err(ApiError::invalid(
            "release",
            format!("at most {RELEASE_MAX} characters"),
        ));
    }
    Ok(SearchBounds {
        limit,
        offset,
        text,
    })
}

/// A translation found.
#[derive(Serialize, ToSchema)]
pub struct ResourceResult {
    entry_id: i64,
    kind: EntryKind,
    product_line: Option<String>,
    visibility: Visibility,
    /// An external resource's link.
    url: Option<String>,
    language: String,
    title: String,
    state: TranslationState,
    updated_at: Timestamp,
    /// About 200 characters of its text around the first words that match, in pieces;
    /// `matched` pieces are the words found.
    snippet: Vec<SnippetPiece>,
}

#[derive(Serialize, ToSchema)]
pub struct SnippetPiece {
    text: String,
    matched: bool,
}

impl From<Fragment> for SnippetPiece {
    fn from(fragment: Fragment) -> Self {
        SnippetPiece {
            text: fragment.text,
            matched: fragment.matched,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ResourceResults {
    results: Vec<ResourceResult>,
}

impl From<Found> for ResourceResult {
    fn from(found: Found) -> Self {
        let Found { hit, snippet } = found;
        ResourceResult {
            entry_id: hit.entry_id,
            kind: hit.kind,
            product_line: hit.product_line,
            visibility: hit.visibility,
            url: hit.url,
            language: hit.translation.language,
            title: hit.translation.title,
            state: hit.translation.state,
            updated_at: hit.translation.updated_at,
            snippet: snippet.into_iter().map(SnippetPiece::from).collect(),
        }
    }
}

/// Searches (or lists) the resource center: what the caller may read only, whether signed
/// in or not, so that neither the results nor their number say anything of the rest.
#[utoipa::path(
    get,
    path = "/api/v1/resources",
    tag = "resources",
    security((), ("bearer" = [])),
    params(SearchParams),
    responses(
        (status = 200, description = "The entries found, best first", body = ResourceResults),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn search_resources(
    State(state): State<AppState>,
    principal: Option<Principal>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<ResourceResults>, ApiError> {
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
    if let Some(tag) = &params.tag
        && (tag.trim().is_empty()
            || tag.chars().count() > TAG_MAX
            || tag.contains(|character: char| character == ',' || character.is_control()))
    {
        return Err(ApiError::invalid(
            "tag",
            format!("a tag: one line without commas, at most {TAG_MAX} characters"),
        ));
    }
    let caller = principal.as_ref().map(Principal::caller);
    let query = ResourceQuery {
        text,
        language: params.language,
        product_line: params.product_line,
        release: params.release,
        kind: params.kind,
        tag: params.tag,
        state: params.state,
        one_per_entry_in: None,
        count_if_missed: true,
        limit,
        offset,
    };
    let found = resources::search(&state.desk(), caller.as_ref(), &query).await?;
    Ok(Json(ResourceResults {
        results: found.into_iter().map(ResourceResult::from).collect(),
    }))
}

/// What every language of an entry shares.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    kind: EntryKind,
    /// null: it applies to no product line in particular.
    #[serde(default)]
    product_line: Option<String>,
    /// Versions from the product line's release catalog; none: every release.
    #[serde(default)]
    #[schema(max_items = 30)]
    releases: Vec<String>,
    visibility: Visibility,
    /// One line each, no comma, at most 40 characters; kept lower-cased, once each.
    #[serde(default)]
    #[schema(max_items = 20)]
    tags: Vec<String>,
    /// Only for an external resource (documentation, course, download), which needs one.
    #[serde(default)]
    #[schema(format = "web-link", max_length = 2000)]
    url: Option<String>,
}

impl From<EntryBody> for EntryFields {
    fn from(body: EntryBody) -> Self {
        EntryFields {
            kind: body.kind,
            product_line: body.product_line,
            releases: body.releases,
            visibility: body.visibility,
            tags: body.tags,
            url: body.url,
        }
    }
}

/// One language of an entry.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslationBody {
    language: String,
    #[schema(format = "one-line", min_length = 1, max_length = 200)]
    title: String,
    /// Markdown (an article's text; for an external resource, what it is about, or empty).
    #[serde(default)]
    #[schema(max_length = 100000)]
    body: String,
}

/// A new entry: what its languages share, and its first language. (Its fields are
/// written out rather than flattened from `EntryBody`: a closed object cannot be one part
/// of an `allOf` whose other part adds a property.)
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntryBody {
    kind: EntryKind,
    /// null: it applies to no product line in particular.
    #[serde(default)]
    product_line: Option<String>,
    /// Versions from the product line's release catalog; none: every release.
    #[serde(default)]
    #[schema(max_items = 30)]
    releases: Vec<String>,
    visibility: Visibility,
    /// One line each, no comma, at most 40 characters; kept lower-cased, once each.
    #[serde(default)]
    #[schema(max_items = 20)]
    tags: Vec<String>,
    /// Only for an external resource (documentation, course, download), which needs one.
    #[serde(default)]
    #[schema(format = "web-link", max_length = 2000)]
    url: Option<String>,
    translation: TranslationBody,
}

impl NewEntryBody {
    /// What the languages share, and the first language.
    fn split(self) -> (EntryFields, TranslationBody) {
        (
            EntryFields {
                kind: self.kind,
                product_line: self.product_line,
                releases: self.releases,
                visibility: self.visibility,
                tags: self.tags,
                url: self.url,
            },
            self.translation,
        )
    }
}

/// An entry as its reader may read it; each translation with its text as safe HTML.
#[derive(Serialize, ToSchema)]
pub struct EntryView {
    #[serde(flatten)]
    entry: EntryHead,
    translations: Vec<TranslationView>,
}

#[derive(Serialize, ToSchema)]
pub struct EntryHead {
    id: i64,
    /// Its name in `caredesk kb export` files; null until it was imported.
    key: Option<String>,
    kind: EntryKind,
    product_line: Option<String>,
    releases: Vec<String>,
    visibility: Visibility,
    tags: Vec<String>,
    url: Option<String>,
    /// Staff only: who wrote it (`staff:ID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<String>,
    created_at: Timestamp,
    /// Staff only, when read alone: it names releases and none is still supported (the
    /// policy's most recent releases of the catalog), so it asks for a review.
    #[serde(skip_serializing_if = "Option::is_none")]
    outdated: Option<bool>,
    /// Staff only, when read alone: the tickets whose replies link it, and how many of them
    /// the customer's accepted solution closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    tickets_helped: Option<TicketsHelped>,
    /// Staff only, when read alone: the problems it solved before a ticket was opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    deflections: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct TranslationView {
    id: i64,
    entry_id: i64,
    language: String,
    title: String,
    /// Markdown.
    body: String,
    state: TranslationState,
    /// The latest revision's number, also the ETag: send it back to revise that revision.
    revision: i64,
    /// Staff only: who changed it last (`staff:ID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_by: Option<String>,
    updated_at: Timestamp,
    published_at: Option<Timestamp>,
    /// The Markdown as HTML, sanitised.
    html: String,
}

impl TranslationView {
    /// The translation; who wrote it is for `staff` only.
    fn of(translation: Translation, staff: bool) -> Self {
        TranslationView {
            html: markdown::to_html(&translation.body),
            id: translation.id,
            entry_id: translation.entry_id,
            language: translation.language,
            title: translation.title,
            body: translation.body,
            state: translation.state,
            revision: translation.revision,
            updated_by: staff.then_some(translation.updated_by),
            updated_at: translation.updated_at,
            published_at: translation.published_at,
        }
    }

    /// The view with its ETag: its revision.
    fn respond(self, status: StatusCode) -> Response {
        let etag = format!("\"{}\"", self.revision);
        let mut response = (status, Json(self)).into_response();
        if let Ok(value) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
    }
}

impl EntryView {
    /// The entry; who wrote it is for `staff` only.
    fn of(entry: Entry, staff: bool) -> Self {
        EntryView {
            translations: entry
                .translations
                .into_iter()
                .map(|translation| TranslationView::of(translation, staff))
                .collect(),
            entry: EntryHead {
                id: entry.id,
                key: entry.key,
                kind: entry.kind,
                product_line: entry.product_line,
                releases: entry.releases,
                visibility: entry.visibility,
                tags: entry.tags,
                url: entry.url,
                created_by: staff.then_some(entry.created_by),
                created_at: entry.created_at,
                outdated: None,
                tickets_helped: None,
                deflections: None,
            },
        }
    }
}

fn translation_fields(body: TranslationBody) -> TranslationFields {
    TranslationFields {
        language: body.language,
        title: body.title,
        body: body.body,
    }
}

/// Writes a new entry (staff), its first language as a draft.
#[utoipa::path(
    post,
    path = "/api/v1/resources",
    tag = "resources",
    security(("bearer" = [])),
    request_body = NewEntryBody,
    responses(
        (status = 201, description = "Written; where it lives is in Location", body = EntryView),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_resource(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<NewEntryBody>,
) -> Result<Response, ApiError> {
    let (shared, first) = body.split();
    let entry = resources::create_entry(
        &state.desk(),
        &principal.caller(),
        shared,
        translation_fields(first),
    )
    .await?;
    let location = format!("/api/v1/resources/{}", entry.id);
    Ok(created(&location, EntryView::of(entry, true)))
}

/// One entry, with the languages the caller may read (signing in is optional).
#[utoipa::path(
    get,
    path = "/api/v1/resources/{id}",
    tag = "resources",
    security((), ("bearer" = [])),
    params(("id" = i64, Path, description = "Entry number")),
    responses(
        (status = 200, description = "The entry", body = EntryView),
        (status = 404, description = "No such entry for this reader", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_resource(
    State(state): State<AppState>,
    principal: Option<Principal>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EntryView>, ApiError> {
    let caller = principal.as_ref().map(Principal::caller);
    let desk = state.desk();
    let entry = resources::entry_for(&desk, caller.as_ref(), id).await?;
    let staff = principal.as_ref().is_some_and(Principal::is_staff);
    let (outdated, helped, deflections) = match &principal {
        Some(principal) if staff => (
            Some(resources::is_outdated(&desk, &entry).await?),
            Some(resources::tickets_helped(&desk, &principal.caller(), id).await?),
            Some(state.store.deflections_of(id).await?),
        ),
        _ => (None, None, None),
    };
    let mut view = EntryView::of(entry, staff);
    view.entry.outdated = outdated;
    view.entry.tickets_helped = helped;
    view.entry.deflections = deflections;
    Ok(Json(view))
}

/// Replaces what every language of an entry shares (staff).
#[utoipa::path(
    put,
    path = "/api/v1/resources/{id}",
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Entry number")),
    request_body = EntryBody,
    responses(
        (status = 200, description = "The entry as it is now", body = EntryView),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_resource(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EntryBody>,
) -> Result<Json<EntryView>, ApiError> {
    let entry =
        resources::update_entry(&state.desk(), &principal.caller(), id, body.into()).await?;
    Ok(Json(EntryView::of(entry, true)))
}

/// Adds a language to an entry (staff), as a draft.
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/translations",
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Entry number")),
    request_body = TranslationBody,
    responses(
        (status = 201, description = "Written; its ETag is its revision", body = TranslationView),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The entry has this language already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_translation(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TranslationBody>,
) -> Result<Response, ApiError> {
    let translation = resources::add_translation(
        &state.desk(),
        &principal.caller(),
        id,
        translation_fields(body),
    )
    .await?;
    Ok(TranslationView::of(translation, true).respond(StatusCode::CREATED))
}

/// A language's new text.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionBody {
    #[schema(format = "one-line", min_length = 1, max_length = 200)]
    title: String,
    #[serde(default)]
    #[schema(max_length = 100000)]
    body: String,
}

/// A new revision of a language (staff); with `If-Match`, only if its revision is still
/// that one. A published translation's readers see it at once.
#[utoipa::path(
    put,
    path = "/api/v1/resources/{id}/translations/{language}",
    tag = "resources",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Entry number"),
        ("language" = String, Path, description = "The translation's language"),
        ("If-Match" = Option<String>, Header, description = "The revision (ETag) the change is based on"),
    ),
    request_body = RevisionBody,
    responses(
        (status = 200, description = "The translation as it is now; its ETag is its revision", body = TranslationView),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Revised by someone else since the ETag given", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn revise_translation(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, language)): ApiPath<(i64, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RevisionBody>,
) -> Result<Response, ApiError> {
    let expected = if_match_version(&headers)?;
    let translation = resources::revise_translation(
        &state.desk(),
        &principal.caller(),
        id,
        TranslationFields {
            language,
            title: body.title,
            body: body.body,
        },
        expected,
    )
    .await?;
    Ok(TranslationView::of(translation, true).respond(StatusCode::OK))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// submit (any staff), publish, send_back, archive or restore (support managers and
    /// administrators).
    action: ReviewAction,
}

/// A step of a language's review.
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/translations/{language}/actions",
    tag = "resources",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Entry number"),
        ("language" = String, Path, description = "The translation's language"),
    ),
    request_body = ReviewBody,
    responses(
        (status = 200, description = "The translation in its new state", body = TranslationView),
        (status = 403, description = "The caller's role may not take this step", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the translation's state; the allowed steps are listed", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn review_translation(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, language)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Response, ApiError> {
    let translation = resources::review(
        &state.desk(),
        &principal.caller(),
        id,
        &language,
        body.action,
    )
    .await?;
    Ok(TranslationView::of(translation, true).respond(StatusCode::OK))
}

/// Every revision of a language, the first first (staff).
#[utoipa::path(
    get,
    path = "/api/v1/resources/{id}/translations/{language}/revisions",
    tag = "resources",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Entry number"),
        ("language" = String, Path, description = "The translation's language"),
    ),
    responses(
        (status = 200, description = "Its revisions", body = Vec<Revision>),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn translation_revisions(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, language)): ApiPath<(i64, String)>,
) -> Result<Json<Vec<Revision>>, ApiError> {
    Ok(Json(
        resources::revisions(&state.desk(), &principal.caller(), id, &language).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompareParams {
    /// The older revision.
    #[param(minimum = 1)]
    from: i64,
    /// The newer revision.
    #[param(minimum = 1)]
    to: i64,
}

/// What changed between two revisions of a language, line by line (staff).
#[utoipa::path(
    get,
    path = "/api/v1/resources/{id}/translations/{language}/diff",
    tag = "resources",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Entry number"),
        ("language" = String, Path, description = "The translation's language"),
        CompareParams,
    ),
    responses(
        (status = 200, description = "The lines, each the same, added or removed", body = RevisionDiff),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A revision that does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn compare_revisions(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, language)): ApiPath<(i64, String)>,
    ApiQuery(params): ApiQuery<CompareParams>,
) -> Result<Json<RevisionDiff>, ApiError> {
    Ok(Json(
        resources::compare(
            &state.desk(),
            &principal.caller(),
            id,
            &language,
            params.from,
            params.to,
        )
        .await?,
    ))
}

// The documented bounds are the desk's own.
const _: () = assert!(TITLE_MAX == 200 && BODY_MAX == 100_000);
const _: () = assert!(RELEASES_MAX == 30 && TAGS_MAX == 20);

/// What solved the customer's problem.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeflectionBody {
    /// The language of the translation read.
    language: String,
    /// What the customer had typed of their problem (its first 2,000 characters are kept).
    #[serde(default)]
    #[schema(max_length = 100000)]
    typed: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeflectionRecorded {
    id: i64,
}

/// A customer's contact says this entry solved their problem: recorded instead of a ticket.
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/deflections",
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Entry number")),
    request_body = DeflectionBody,
    responses(
        (status = 201, description = "Recorded", body = DeflectionRecorded),
        (status = 403, description = "Customers' contacts only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry in that language for this reader", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn record_deflection(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DeflectionBody>,
) -> Result<(StatusCode, Json<DeflectionRecorded>), ApiError> {
    if body.typed.chars().count() > TYPED_MAX {
        return Err(ApiError::invalid(
            "typed",
            format!("at most {TYPED_MAX} characters"),
        ));
    }
    let id = resources::record_deflection(
        &state.desk(),
        &principal.caller(),
        id,
        &body.language,
        &body.typed,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(DeflectionRecorded { id })))
}

/// The longest text a deflection takes (a ticket's subject and description together).
const TYPED_MAX: usize = 100_000;

/// A reader's word on an entry.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// The language of the translation read.
    language: String,
    helpful: bool,
    /// For the writers: what was missing or wrong.
    #[serde(default)]
    #[schema(max_length = 2000)]
    comment: Option<String>,
}

/// "Was this helpful?": anyone who may read the entry answers (signing in is optional).
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/feedback",
    tag = "resources",
    security((), ("bearer" = [])),
    params(("id" = i64, Path, description = "Entry number")),
    request_body = FeedbackBody,
    responses(
        (status = 204, description = "Recorded"),
        (status = 404, description = "No such entry in that language for this reader", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn give_feedback(
    State(state): State<AppState>,
    principal: Option<Principal>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<StatusCode, ApiError> {
    let caller = principal.as_ref().map(Principal::caller);
    resources::give_feedback(
        &state.desk(),
        caller.as_ref(),
        id,
        &body.language,
        body.helpful,
        body.comment.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What readers said of an entry: how many found it helpful, and their comments (staff).
#[utoipa::path(
    get,
    path = "/api/v1/resources/{id}/feedback",
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Entry number")),
    responses(
        (status = 200, description = "The counts and the comments, the latest first", body = FeedbackSummary),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn feedback_of(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<FeedbackSummary>, ApiError> {
    Ok(Json(
        resources::feedback(&state.desk(), &principal.caller(), id).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MissedParams {
    /// 1 to 100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// The searches of customers and visitors that found nothing, the most frequent first:
/// what the resource center lacks (staff).
#[utoipa::path(
    get,
    path = "/api/v1/resources/missed-searches",
    tag = "resources",
    security(("bearer" = [])),
    params(MissedParams),
    responses(
        (status = 200, description = "The searches", body = Vec<MissedSearch>),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn missed_searches(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<MissedParams>,
) -> Result<Json<Vec<MissedSearch>>, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("between 1 and {MAX_PAGE}"),
        ));
    }
    Ok(Json(
        resources::missed_searches(&state.desk(), &principal.caller(), limit).await?,
    ))
}

/// Starts a draft article (for customers) from a ticket's accepted solution: its subject,
/// the problem and the solution, in the ticket's language and product line (staff). The
/// writer takes the customer's data out before asking for a review.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/article",
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket number")),
    responses(
        (status = 201, description = "The draft; where it lives is in Location", body = EntryView),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The customer accepted no solution yet", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn article_from_ticket(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let entry = resources::draft_from_ticket(&state.desk(), &principal.caller(), id).await?;
    let location = format!("/api/v1/resources/{}", entry.id);
    Ok(created(&location, EntryView::of(entry, true)))
}

/// What the resource center suggested beside the new-ticket form before the ticket was sent
/// (staff): the entries and questions the customer saw, in their order.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/suggestions-shown",
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket number")),
    responses(
        (status = 200, description = "The suggestions", body = Vec<ShownBefore>),
        (status = 403, description = "Staff only", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn suggestions_shown(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ShownBefore>>, ApiError> {
    Ok(Json(
        resources::shown_before(&state.desk(), &principal.caller(), id).await?,
    ))
}
