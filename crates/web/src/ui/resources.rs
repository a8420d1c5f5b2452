//! The resource center's pages, open to everyone: search and read what the visitor may
//! (public entries signed out; a customer's too when a contact is signed in; everything for
//! staff), and the suggestions beside the portal's new-ticket form, refreshed as the
//! customer types (htmx).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use caredesk_desk::community::{self, QuestionQuery};
use caredesk_desk::resources::{self, Found, ResourceQuery};
use caredesk_domain::resources::search::Fragment;
use caredesk_domain::resources::{EntryKind, TranslationState, Visibility};
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::community::{QuestionRow, question_row};
use super::i18n::{self, Catalog};
use super::session::{self, Viewer, visitor_catalog};
use super::{Page, UiError, render};
use crate::AppState;
use crate::edge::PageForm;
use crate::markdown;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/resources", get(center))
        .route("/resources/suggestions", get(suggestions))
        .route("/resources/{id}", get(entry))
        .route("/resources/{id}/solved", post(solved))
        .route("/resources/{id}/feedback", post(feedback))
}

/// Results on the resource center's page, and suggestions beside a new ticket.
const LISTED: i64 = 30;
const SUGGESTED: i64 = 5;
const SUGGESTED_QUESTIONS: i64 = 3;
/// The longest search text a page takes (the API's too).
const QUERY_MAX: usize = 500;

/// The one reading: signed in, or a visitor in their language with a token for their forms.
struct Reader {
    viewer: Option<Viewer>,
    catalog: &'static Catalog,
    /// A new token's cookie, for a visitor seen the first time.
    cookie: Option<String>,
    csrf: String,
}

impl Reader {
    async fn of(
        state: &AppState,
        headers: &HeaderMap,
        viewer: Result<Viewer, UiError>,
    ) -> Result<Reader, UiError> {
        match viewer {
            Ok(viewer) => Ok(Reader {
                catalog: viewer.catalog,
                csrf: viewer.csrf.clone(),
                cookie: None,
                viewer: Some(viewer),
            }),
            Err(UiError::SignIn { .. }) => {
                let (csrf, cookie) = session::visitor_token(state, headers);
                Ok(Reader {
                    viewer: None,
                    catalog: visitor_catalog(headers),
                    cookie,
                    csrf,
                })
            }
            Err(other) => Err(other),
        }
    }

    fn page(&self, title: String, path: &str) -> Page {
        match &self.viewer {
            Some(viewer) => Page {
                path: path.to_string(),
                ..viewer.page(title)
            },
            None => Page::public(title, self.catalog, self.csrf.clone(), path),
        }
    }

    fn caller(&self) -> Option<caredesk_desk::Caller> {
        self.viewer.as_ref().map(|viewer| viewer.principal.caller())
    }

    fn time_zone(&self) -> TimeZone {
        self.viewer
            .as_ref()
            .map_or(TimeZone::UTC, |viewer| viewer.time_zone.clone())
    }

    fn respond(&self, page: &impl Template) -> Result<Response, UiError> {
        let mut response = render(page)?.into_response();
        if let Some(cookie) = &self.cookie {
            session::set_header_cookie(&mut response, cookie);
        }
        Ok(response)
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A result as the page lists it.
pub struct ResultView {
    pub entry_id: i64,
    pub language: String,
    pub title: String,
    pub kind: &'static str,
    pub product_line: String,
    /// For staff: who may read it, and that it is not published.
    pub notes: Vec<&'static str>,
    pub snippet: Vec<Fragment>,
}

fn kind_label(catalog: &'static Catalog, kind: EntryKind) -> &'static str {
    catalog.get(&format!("resources.kind_{}", kind.as_str()))
}

pub(super) fn line_label(state: &AppState, line: Option<&str>) -> String {
    line.map(|line| {
        state
            .policy()
            .product_lines
            .get(line)
            .map_or_else(|| line.to_string(), |known| known.name.clone())
    })
    .unwrap_or_default()
}

/// The policy's product lines, to choose from.
pub(super) fn product_lines(state: &AppState) -> Vec<Choice> {
    state
        .policy()
        .product_lines
        .iter()
        .map(|(value, line)| Choice {
            value: value.clone(),
            label: line.name.clone(),
        })
        .collect()
}

fn notes(
    catalog: &'static Catalog,
    visibility: Visibility,
    state: TranslationState,
) -> Vec<&'static str> {
    let mut notes = Vec::new();
    match visibility {
        Visibility::Public => {}
        Visibility::Customers => notes.push(catalog.get("resources.visibility_customers")),
        Visibility::Internal => notes.push(catalog.get("resources.visibility_internal")),
    }
    if state != TranslationState::Published {
        notes.push(catalog.get("resources.not_published"));
    }
    notes
}

fn result_view(state: &AppState, catalog: &'static Catalog, found: Found) -> ResultView {
    let Found { hit, snippet } = found;
    ResultView {
        entry_id: hit.entry_id,
        kind: kind_label(catalog, hit.kind),
        product_line: line_label(state, hit.product_line.as_deref()),
        notes: notes(catalog, hit.visibility, hit.translation.state),
        language: hit.translation.language,
        title: hit.translation.title,
        snippet,
    }
}

#[derive(Deserialize, Default)]
struct CenterQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    product_line: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    tag: String,
    /// Results skipped: the pages before this one.
    #[serde(default)]
    offset: i64,
}

impl CenterQuery {
    /// This search's address at `offset`.
    fn at(&self, offset: i64) -> String {
        page_address(
            "/resources",
            &[
                ("q", &self.q),
                ("product_line", &self.product_line),
                ("kind", &self.kind),
                ("tag", &self.tag),
            ],
            offset,
        )
    }
}

/// The address of a list at `path` with the filters `pairs` (the empty ones left out),
/// `offset` results on.
pub(super) fn page_address(path: &str, pairs: &[(&str, &str)], offset: i64) -> String {
    let path = format!("{path}?");
    let mut address = form_urlencoded::Serializer::for_suffix(path.clone(), path.len());
    for (name, value) in pairs {
        if !value.is_empty() {
            address.append_pair(name, value);
        }
    }
    if offset > 0 {
        address.append_pair("offset", &offset.to_string());
    }
    let address = address.finish();
    address.strip_suffix('?').unwrap_or(&address).to_string()
}

/// Refuses a list's `offset` outside 0 to 100,000 (the pages a list can reach).
pub(super) fn check_offset(offset: i64) -> Result<(), UiError> {
    if (0..=100_000).contains(&offset) {
        Ok(())
    } else {
        Err(UiError::BadRequest(
            "offset: between 0 and 100000".to_string(),
        ))
    }
}

/// The previous and the next page's addresses of a list `listed` a page, at `offset`, of
/// which `found` were read (one more than a page when there is a next one); `at` makes an
/// offset's address.
pub(super) fn neighbours(
    offset: i64,
    listed: i64,
    found: usize,
    at: impl Fn(i64) -> String,
) -> (Option<String>, Option<String>) {
    let previous = (offset > 0).then(|| at((offset - listed).max(0)));
    let next = (found > usize::try_from(listed).unwrap_or(usize::MAX))
        .then(|| at(offset.saturating_add(listed)));
    (previous, next)
}

#[derive(Template)]
#[template(path = "resources/center.html")]
struct CenterPage {
    page: Page,
    q: String,
    product_line: String,
    kind: String,
    product_lines: Vec<Choice>,
    kinds: Vec<Choice>,
    results: Vec<ResultView>,
    /// Only beside a new ticket.
    solved_with: Option<String>,
    /// The pages before and after this one, when there are.
    previous: Option<String>,
    next: Option<String>,
}

async fn center(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Result<Viewer, UiError>,
    Query(query): Query<CenterQuery>,
) -> Result<Response, UiError> {
    let reader = Reader::of(&state, &headers, viewer).await?;
    let catalog = reader.catalog;
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
    let kind = match query.kind.as_str() {
        "" => None,
        text => Some(EntryKind::parse(text).ok_or_else(|| {
            UiError::BadRequest(format!("kind: \"{text}\" is not a kind of entry"))
        })?),
    };
    check_offset(query.offset)?;
    // One more than a page: whether there is a next one.
    let mut found = resources::search(
        &state.desk(),
        reader.caller().as_ref(),
        &ResourceQuery {
            text: query.q.clone(),
            product_line,
            kind,
            tag: (!query.tag.is_empty()).then(|| query.tag.clone()),
            one_per_entry_in: Some(catalog.language.to_string()),
            count_if_missed: true,
            limit: LISTED + 1,
            offset: query.offset,
            ..ResourceQuery::default()
        },
    )
    .await?;
    // The desk's results end after its SEARCH_DEPTH: the extra one says when there is a next.
    let (previous, next) = neighbours(query.offset, LISTED, found.len(), |offset| query.at(offset));
    found.truncate(LISTED as usize);
    let page = CenterPage {
        page: reader.page(catalog.get("resources.title").to_string(), "/resources"),
        product_lines: product_lines(&state),
        kinds: EntryKind::ALL
            .into_iter()
            .map(|kind| Choice {
                value: kind.as_str().to_string(),
                label: kind_label(catalog, kind).to_string(),
            })
            .collect(),
        results: found
            .into_iter()
            .map(|found| result_view(&state, catalog, found))
            .collect(),
        q: query.q,
        product_line: query.product_line,
        kind: query.kind,
        solved_with: None,
        previous,
        next,
    };
    reader.respond(&page)
}

#[derive(Deserialize, Default)]
struct SuggestionsQuery {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
}

#[derive(Template)]
#[template(path = "resources/suggestions.html")]
struct SuggestionsFragment {
    page: Page,
    results: Vec<ResultView>,
    /// Answered community questions (for someone signed in).
    rows: Vec<QuestionRow>,
    /// For a customer's contact: what they typed, sent back with "this solved my problem".
    solved_with: Option<String>,
    /// What was shown, for the new ticket to keep: `entry:12:en,question:3`.
    shown: String,
}

/// What the resource center has on what a customer is typing into a new ticket: a part of
/// the page, empty when nothing matches.
async fn suggestions(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Result<Viewer, UiError>,
    Query(query): Query<SuggestionsQuery>,
) -> Result<Response, UiError> {
    let reader = Reader::of(&state, &headers, viewer).await?;
    // The subject weighs most: it is what the customer calls the problem.
    let text: String = format!("{} {} {}", query.subject, query.subject, query.description)
        .chars()
        .take(QUERY_MAX * 4)
        .collect();
    let typed = format!("{}\n\n{}", query.subject.trim(), query.description.trim())
        .trim()
        .to_string();
    let (found, questions) = if text.trim().is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let desk = state.desk();
        let caller = reader.caller();
        let articles = resources::search(
            &desk,
            caller.as_ref(),
            &ResourceQuery {
                text: text.clone(),
                one_per_entry_in: Some(reader.catalog.language.to_string()),
                limit: SUGGESTED,
                ..ResourceQuery::default()
            },
        )
        .await?;
        let questions = community::search_questions(
            &desk,
            caller.as_ref(),
            &QuestionQuery {
                text,
                solved_only: true,
                limit: SUGGESTED_QUESTIONS,
                ..QuestionQuery::default()
            },
        )
        .await?;
        (articles, questions)
    };
    let shown = found
        .iter()
        .map(|found| {
            format!(
                "entry:{}:{}",
                found.hit.entry_id, found.hit.translation.language
            )
        })
        .chain(
            questions
                .iter()
                .map(|found| format!("question:{}", found.hit.id)),
        )
        .collect::<Vec<_>>()
        .join(",");
    let fragment = SuggestionsFragment {
        shown,
        page: reader.page(String::new(), "/portal/tickets/new"),
        results: found
            .into_iter()
            .map(|found| result_view(&state, reader.catalog, found))
            .collect(),
        rows: questions
            .into_iter()
            .map(|found| question_row(&state, reader.catalog, found))
            .collect(),
        solved_with: reader
            .viewer
            .as_ref()
            .filter(|viewer| matches!(viewer.principal, crate::auth::Principal::Contact(_)))
            .map(|_| typed),
    };
    reader.respond(&fragment)
}

#[derive(Deserialize, Default)]
struct EntryQuery {
    #[serde(default)]
    language: String,
    /// Set after the reader's feedback was recorded.
    #[serde(default)]
    thanks: String,
}

/// What the entry's writers see of it: readers' feedback, and whether it asks for a review.
struct Upkeep {
    outdated: bool,
    helpful: i64,
    not_helpful: i64,
    comments: Vec<(String, bool, String)>,
    deflections: i64,
    helped: caredesk_store::TicketsHelped,
}

#[derive(Template)]
#[template(path = "resources/entry.html")]
struct EntryPage {
    page: Page,
    id: i64,
    language: String,
    title: String,
    kind: &'static str,
    product_line: String,
    notes: Vec<&'static str>,
    releases: Vec<String>,
    tags: Vec<String>,
    url: Option<String>,
    updated_at: String,
    updated: String,
    html: String,
    others: Vec<Choice>,
    /// The reader said whether it helped.
    thanked: bool,
    /// For staff.
    upkeep: Option<Upkeep>,
}

/// An entry in the language asked for, else the reader's, else its first one the reader may
/// read; links to its other languages.
async fn entry(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Result<Viewer, UiError>,
    Path(id): Path<i64>,
    Query(query): Query<EntryQuery>,
) -> Result<Response, UiError> {
    let reader = Reader::of(&state, &headers, viewer).await?;
    let catalog = reader.catalog;
    let desk = state.desk();
    let entry = resources::entry_for(&desk, reader.caller().as_ref(), id).await?;
    let upkeep = match reader.viewer.as_ref() {
        Some(viewer) if viewer.principal.is_staff() => {
            let said = resources::feedback(&desk, &viewer.principal.caller(), id).await?;
            let zone = reader.time_zone();
            Some(Upkeep {
                outdated: resources::is_outdated(&desk, &entry).await?,
                helpful: said.helpful,
                not_helpful: said.not_helpful,
                comments: said
                    .comments
                    .into_iter()
                    .map(|note| {
                        (
                            catalog.when(note.created_at, &zone),
                            note.helpful,
                            note.comment,
                        )
                    })
                    .collect(),
                deflections: state.store.deflections_of(id).await?,
                helped: resources::tickets_helped(&desk, &viewer.principal.caller(), id).await?,
            })
        }
        _ => None,
    };
    let chosen = [query.language.as_str(), catalog.language]
        .iter()
        .find_map(|language| {
            entry
                .translations
                .iter()
                .find(|translation| translation.language == *language)
        })
        .or_else(|| entry.translations.first())
        .ok_or(UiError::NotFound)?;
    let page = EntryPage {
        page: reader.page(
            chosen.title.clone(),
            &format!("/resources/{id}?language={}", chosen.language),
        ),
        id,
        language: chosen.language.clone(),
        title: chosen.title.clone(),
        kind: kind_label(catalog, entry.kind),
        product_line: line_label(&state, entry.product_line.as_deref()),
        notes: notes(catalog, entry.visibility, chosen.state),
        releases: entry.releases.clone(),
        tags: entry.tags.clone(),
        url: entry.url.clone(),
        updated_at: chosen.updated_at.to_string(),
        updated: catalog.when(chosen.updated_at, &reader.time_zone()),
        html: markdown::to_html(&chosen.body),
        others: entry
            .translations
            .iter()
            .filter(|translation| translation.language != chosen.language)
            .map(|translation| Choice {
                value: translation.language.clone(),
                label: i18n::language_name(&translation.language),
            })
            .collect(),
        thanked: !query.thanks.is_empty(),
        upkeep,
    };
    reader.respond(&page)
}

#[derive(Deserialize)]
struct SolvedForm {
    csrf: String,
    language: String,
    #[serde(default)]
    typed: String,
}

#[derive(Template)]
#[template(path = "resources/solved.html")]
struct SolvedPage {
    page: Page,
    id: i64,
    language: String,
}

/// "This solved my problem", from beside the new-ticket form: recorded, and no ticket.
async fn solved(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<SolvedForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    resources::record_deflection(
        &state.desk(),
        &viewer.principal.caller(),
        id,
        &form.language,
        &form.typed,
    )
    .await?;
    let page = SolvedPage {
        page: viewer.page(viewer.t("resources.solved_title").to_string()),
        id,
        language: form.language,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
struct FeedbackForm {
    csrf: String,
    language: String,
    /// "1": it helped; "0": it did not.
    helpful: String,
    #[serde(default)]
    comment: String,
}

/// "Was this helpful?" from an entry's page, signed in or not: recorded, and back to the
/// entry with thanks.
async fn feedback(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Result<Viewer, UiError>,
    Path(id): Path<i64>,
    PageForm(form): PageForm<FeedbackForm>,
) -> Result<Response, UiError> {
    let caller = match viewer {
        Ok(viewer) => {
            viewer.check_csrf(&form.csrf)?;
            Some(viewer.principal.caller())
        }
        Err(UiError::SignIn { .. }) => {
            session::check_visitor_csrf(&headers, &form.csrf)?;
            None
        }
        Err(other) => return Err(other),
    };
    let helpful = match form.helpful.as_str() {
        "1" => true,
        "0" => false,
        other => {
            return Err(UiError::BadRequest(format!(
                "helpful: \"{other}\" is neither 1 nor 0"
            )));
        }
    };
    let comment = (!form.comment.trim().is_empty()).then_some(form.comment.as_str());
    resources::give_feedback(
        &state.desk(),
        caller.as_ref(),
        id,
        &form.language,
        helpful,
        comment,
    )
    .await?;
    let language: String = form_urlencoded::byte_serialize(form.language.as_bytes()).collect();
    Ok(axum::response::Redirect::to(&format!(
        "/resources/{id}?language={language}&thanks=1#feedback"
    ))
    .into_response())
}
