//! The writers' console for the resource center: every entry in every state, with what asks
//! for work (drafts, reviews, entries whose releases left support, searches that found
//! nothing); writing an entry and its languages; taking a language through review; every
//! revision, and what changed between two. For staff; the same desk use cases as the API.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use caredesk_desk::resources::{self, DiffLine, ResourceQuery};
use caredesk_desk::{Caller, DeskError};
use caredesk_domain::resources::{
    EntryFields, EntryKind, ReviewAction, TranslationFields, TranslationState, Visibility,
    decide_review,
};
use caredesk_store::{Entry, MissedSearch};
use serde::Deserialize;

use super::forms::{errors_of, filled, unprocessable};
use super::i18n::language_name;
use super::resources::{Choice, line_label, product_lines};
use super::session::Viewer;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::Principal;
use crate::edge::PageForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/resources", get(entries).post(create))
        .route("/console/resources/new", get(new_entry))
        .route("/console/resources/{id}", get(entry).post(update))
        .route(
            "/console/resources/{id}/translations",
            post(add_translation),
        )
        .route(
            "/console/resources/{id}/translations/{language}",
            get(translation).post(revise),
        )
        .route(
            "/console/resources/{id}/translations/{language}/review",
            post(review),
        )
        .route(
            "/console/resources/{id}/translations/{language}/diff",
            get(diff),
        )
        .route("/console/resources/links", get(links))
        .route("/console/tickets/{id}/article", post(article_from_ticket))
}

const LISTED: i64 = 50;
const MISSED_LISTED: i64 = 15;

/// The staff member at work; customers' contacts are refused.
fn writer(viewer: &Viewer) -> Result<Caller, UiError> {
    match &viewer.principal {
        Principal::Staff(_) => Ok(viewer.principal.caller()),
        Principal::Contact(_) => Err(UiError::Forbidden),
    }
}

struct EntryRow {
    id: i64,
    language: String,
    title: String,
    kind: &'static str,
    state: &'static str,
    product_line: String,
    updated: String,
    outdated: bool,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    outdated: String,
}

#[derive(Template)]
#[template(path = "writers/entries.html")]
struct EntriesPage {
    page: Page,
    q: String,
    state: String,
    language: String,
    outdated: bool,
    states: Vec<Choice>,
    languages: Vec<Choice>,
    rows: Vec<EntryRow>,
    missed: Vec<MissedSearch>,
}

async fn entries(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Result<Response, UiError> {
    let caller = writer(&viewer)?;
    let desk = state.desk();
    let catalog = viewer.catalog;
    let wanted_state = match query.state.as_str() {
        "" => None,
        text => Some(TranslationState::parse(text).ok_or_else(|| {
            UiError::BadRequest(format!("state: \"{text}\" is not a state of a translation"))
        })?),
    };
    let language = (!query.language.is_empty()).then(|| query.language.clone());
    if let Some(language) = &language
        && !state.policy().languages.supported.contains(language)
    {
        return Err(UiError::BadRequest(format!(
            "language: \"{language}\" is not a language of the policy"
        )));
    }
    let only_outdated = !query.outdated.is_empty();
    let found = resources::search(
        &desk,
        Some(&caller),
        &ResourceQuery {
            text: query.q.chars().take(500).collect(),
            language,
            state: wanted_state,
            // Entries whose releases left support are found among all of them.
            limit: if only_outdated { 400 } else { LISTED },
            ..ResourceQuery::default()
        },
    )
    .await?;
    let mut outdated_of: BTreeMap<i64, bool> = BTreeMap::new();
    let mut rows = Vec::new();
    for found in found {
        let hit = found.hit;
        let outdated = match outdated_of.get(&hit.entry_id) {
            Some(known) => *known,
            None => {
                let entry = state.store.entry(hit.entry_id).await?;
                let known = resources::is_outdated(&desk, &entry).await?;
                outdated_of.insert(hit.entry_id, known);
                known
            }
        };
        if only_outdated && !outdated {
            continue;
        }
        rows.push(EntryRow {
            id: hit.entry_id,
            kind: catalog.get(&format!("resources.kind_{}", hit.kind.as_str())),
            state: catalog.get(&format!("writers.state_{}", hit.translation.state.as_str())),
            product_line: line_label(&state, hit.product_line.as_deref()),
            updated: catalog.when(hit.translation.updated_at, &viewer.time_zone),
            language: hit.translation.language,
            title: hit.translation.title,
            outdated,
        });
        if rows.len() >= LISTED as usize {
            break;
        }
    }
    let page = EntriesPage {
        page: Page {
            path: "/console/resources".into(),
            ..viewer.page(viewer.t("writers.title").to_string())
        },
        states: TranslationState::ALL
            .into_iter()
            .map(|known| Choice {
                value: known.as_str().to_string(),
                label: catalog
                    .get(&format!("writers.state_{}", known.as_str()))
                    .to_string(),
            })
            .collect(),
        languages: language_choices(&state),
        rows,
        missed: resources::missed_searches(&desk, &caller, MISSED_LISTED).await?,
        q: query.q,
        state: query.state,
        language: query.language,
        outdated: only_outdated,
    };
    Ok(render(&page)?.into_response())
}

/// What the entry form sends: what the languages share, and (for a new entry) the first
/// language.
#[derive(Deserialize, Default)]
struct EntryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    product_line: String,
    /// Versions, separated by commas.
    #[serde(default)]
    releases: String,
    #[serde(default)]
    visibility: String,
    /// Tags, separated by commas.
    #[serde(default)]
    tags: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

impl EntryForm {
    fn of(entry: &Entry) -> EntryForm {
        EntryForm {
            kind: entry.kind.as_str().to_string(),
            product_line: entry.product_line.clone().unwrap_or_default(),
            releases: entry.releases.join(", "),
            visibility: entry.visibility.as_str().to_string(),
            tags: entry.tags.join(", "),
            url: entry.url.clone().unwrap_or_default(),
            ..EntryForm::default()
        }
    }

    /// The shared fields, each checked by the desk; an unknown kind or visibility is named.
    fn fields(&self) -> Result<EntryFields, DeskError> {
        let kind = EntryKind::parse(&self.kind)
            .ok_or_else(|| DeskError::invalid("kind", "choose a kind of entry"))?;
        let visibility = Visibility::parse(&self.visibility)
            .ok_or_else(|| DeskError::invalid("visibility", "choose who may read it"))?;
        Ok(EntryFields {
            kind,
            product_line: filled(&self.product_line),
            releases: listed(&self.releases),
            visibility,
            tags: listed(&self.tags),
            url: filled(&self.url),
        })
    }

    fn translation(&self) -> TranslationFields {
        TranslationFields {
            language: self.language.clone(),
            title: self.title.clone(),
            body: self.body.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "writers/new.html")]
struct NewEntryPage {
    page: Page,
    form: EntryForm,
    choices: FormChoices,
    errors: HashMap<String, String>,
}

impl NewEntryPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

/// The choices the entry form offers.
struct FormChoices {
    kinds: Vec<Choice>,
    visibilities: Vec<Choice>,
    product_lines: Vec<Choice>,
    languages: Vec<Choice>,
    /// Each product line's releases, for the hint.
    releases: String,
}

async fn form_choices(state: &AppState, viewer: &Viewer) -> Result<FormChoices, UiError> {
    let catalog = viewer.catalog;
    let mut releases = Vec::new();
    for (line, known) in &state.policy().product_lines {
        let versions: Vec<String> = state
            .store
            .releases_of(line)
            .await?
            .into_iter()
            .map(|release| release.version)
            .collect();
        if !versions.is_empty() {
            releases.push(format!("{}: {}", known.name, versions.join(", ")));
        }
    }
    Ok(FormChoices {
        kinds: EntryKind::ALL
            .into_iter()
            .map(|kind| Choice {
                value: kind.as_str().to_string(),
                label: catalog
                    .get(&format!("resources.kind_{}", kind.as_str()))
                    .to_string(),
            })
            .collect(),
        visibilities: Visibility::ALL
            .into_iter()
            .map(|visibility| Choice {
                value: visibility.as_str().to_string(),
                label: catalog
                    .get(&format!("writers.visibility_{}", visibility.as_str()))
                    .to_string(),
            })
            .collect(),
        product_lines: product_lines(state),
        languages: language_choices(state),
        releases: releases.join(" · "),
    })
}

async fn new_entry(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    writer(&viewer)?;
    let form = EntryForm {
        kind: EntryKind::Article.as_str().to_string(),
        visibility: Visibility::Public.as_str().to_string(),
        language: viewer.catalog.language.to_string(),
        title: String::new(),
        ..EntryForm::default()
    };
    let page = NewEntryPage {
        page: new_entry_page(&viewer),
        choices: form_choices(&state, &viewer).await?,
        form,
        errors: HashMap::new(),
    };
    Ok(render(&page)?.into_response())
}

fn new_entry_page(viewer: &Viewer) -> Page {
    Page {
        path: "/console/resources/new".into(),
        ..viewer.page(viewer.t("writers.new_title").to_string())
    }
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(form): PageForm<EntryForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let caller = writer(&viewer)?;
    let outcome = match form.fields() {
        Ok(fields) => {
            resources::create_entry(&state.desk(), &caller, fields, form.translation()).await
        }
        Err(refused) => Err(refused),
    };
    match outcome {
        Ok(entry) => Ok(Redirect::to(&format!("/console/resources/{}", entry.id)).into_response()),
        Err(DeskError::Invalid(problems)) => {
            let page = NewEntryPage {
                page: new_entry_page(&viewer),
                choices: form_choices(&state, &viewer).await?,
                errors: errors_of(&viewer, &problems),
                form,
            };
            Ok(unprocessable(render(&page)?))
        }
        Err(other) => Err(other.into()),
    }
}

struct TranslationRow {
    language: String,
    language_name: String,
    title: String,
    state: &'static str,
    revision: i64,
    updated: String,
    updated_by: String,
    /// The review steps the viewer may take now: (action, label).
    actions: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "writers/entry.html")]
struct EntryPage {
    page: Page,
    id: i64,
    title: String,
    form: EntryForm,
    choices: FormChoices,
    errors: HashMap<String, String>,
    translation_form: EntryForm,
    translation_errors: HashMap<String, String>,
    translations: Vec<TranslationRow>,
    outdated: bool,
    /// Languages the entry is not written in yet.
    missing_languages: Vec<Choice>,
}

impl EntryPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }

    fn translation_error(&self, field: &str) -> Option<&str> {
        self.translation_errors.get(field).map(String::as_str)
    }
}

async fn entry_page(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    form: Option<EntryForm>,
    errors: HashMap<String, String>,
    translation_form: EntryForm,
    translation_errors: HashMap<String, String>,
) -> Result<EntryPage, UiError> {
    let caller = writer(viewer)?;
    let desk = state.desk();
    let entry = resources::entry_for(&desk, Some(&caller), id).await?;
    let catalog = viewer.catalog;
    let role = viewer.principal.role();
    let translations = entry
        .translations
        .iter()
        .map(|translation| TranslationRow {
            language_name: language_name(&translation.language),
            language: translation.language.clone(),
            title: translation.title.clone(),
            state: catalog.get(&format!("writers.state_{}", translation.state.as_str())),
            revision: translation.revision,
            updated: catalog.when(translation.updated_at, &viewer.time_zone),
            updated_by: translation.updated_by.clone(),
            actions: ReviewAction::ALL
                .into_iter()
                .filter(|action| decide_review(translation.state, role, *action).is_ok())
                .map(|action| {
                    (
                        action.as_str(),
                        catalog.get(&format!("writers.action_{}", action.as_str())),
                    )
                })
                .collect(),
        })
        .collect();
    let missing_languages = language_choices(state)
        .into_iter()
        .filter(|choice| {
            !entry
                .translations
                .iter()
                .any(|translation| translation.language == choice.value)
        })
        .collect();
    Ok(EntryPage {
        page: Page {
            path: format!("/console/resources/{id}"),
            ..viewer.page(
                entry
                    .translations
                    .first()
                    .map_or_else(String::new, |first| first.title.clone()),
            )
        },
        id,
        title: entry
            .translations
            .first()
            .map_or_else(String::new, |first| first.title.clone()),
        outdated: resources::is_outdated(&desk, &entry).await?,
        form: form.unwrap_or_else(|| EntryForm::of(&entry)),
        choices: form_choices(state, viewer).await?,
        errors,
        translation_form,
        translation_errors,
        translations,
        missing_languages,
    })
}

async fn entry(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    let page = entry_page(
        &state,
        &viewer,
        id,
        None,
        HashMap::new(),
        EntryForm::default(),
        HashMap::new(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<EntryForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let caller = writer(&viewer)?;
    let outcome = match form.fields() {
        Ok(fields) => resources::update_entry(&state.desk(), &caller, id, fields).await,
        Err(refused) => Err(refused),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/console/resources/{id}")).into_response()),
        Err(DeskError::Invalid(problems)) => {
            let errors = errors_of(&viewer, &problems);
            let page = entry_page(
                &state,
                &viewer,
                id,
                Some(form),
                errors,
                EntryForm::default(),
                HashMap::new(),
            )
            .await?;
            Ok(unprocessable(render(&page)?))
        }
        Err(other) => Err(other.into()),
    }
}

async fn add_translation(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<EntryForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let caller = writer(&viewer)?;
    match resources::add_translation(&state.desk(), &caller, id, form.translation()).await {
        Ok(added) => Ok(Redirect::to(&format!(
            "/console/resources/{id}/translations/{}",
            added.language
        ))
        .into_response()),
        Err(DeskError::Invalid(problems)) => {
            let errors = errors_of(&viewer, &problems);
            let page = entry_page(&state, &viewer, id, None, HashMap::new(), form, errors).await?;
            Ok(unprocessable(render(&page)?))
        }
        Err(other) => Err(other.into()),
    }
}

struct RevisionRow {
    revision: i64,
    title: String,
    author: String,
    written: String,
}

#[derive(Template)]
#[template(path = "writers/translation.html")]
struct TranslationPage {
    page: Page,
    id: i64,
    language: String,
    language_name: String,
    state: &'static str,
    revision: i64,
    title: String,
    body: String,
    errors: HashMap<String, String>,
    /// A newer revision was written meanwhile: the writer's text is kept, theirs not saved.
    stale: Option<String>,
    revisions: Vec<RevisionRow>,
    /// Started from this ticket's solution: remind the writer to take the customer out.
    from_ticket: Option<i64>,
}

impl TranslationPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

#[derive(Deserialize, Default)]
struct TranslationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    revision: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

async fn translation_page(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    language: &str,
    typed: Option<TranslationForm>,
    errors: HashMap<String, String>,
    stale: Option<String>,
) -> Result<TranslationPage, UiError> {
    let caller = writer(viewer)?;
    let desk = state.desk();
    let entry = resources::entry_for(&desk, Some(&caller), id).await?;
    let current = entry
        .translations
        .iter()
        .find(|translation| translation.language == language)
        .ok_or(UiError::NotFound)?;
    let catalog = viewer.catalog;
    let mut revisions: Vec<RevisionRow> = resources::revisions(&desk, &caller, id, language)
        .await?
        .into_iter()
        .map(|revision| RevisionRow {
            revision: revision.revision,
            title: revision.title,
            author: revision.author,
            written: catalog.when(revision.written_at, &viewer.time_zone),
        })
        .collect();
    revisions.reverse();
    let (title, body) = match typed {
        Some(typed) => (typed.title, typed.body),
        None => (current.title.clone(), current.body.clone()),
    };
    Ok(TranslationPage {
        page: Page {
            path: format!("/console/resources/{id}/translations/{language}"),
            ..viewer.page(current.title.clone())
        },
        id,
        language: language.to_string(),
        language_name: language_name(language),
        state: catalog.get(&format!("writers.state_{}", current.state.as_str())),
        revision: current.revision,
        title,
        body,
        errors,
        stale,
        revisions,
        from_ticket: None,
    })
}

#[derive(Deserialize, Default)]
struct TranslationQuery {
    #[serde(default)]
    from_ticket: Option<i64>,
}

async fn translation(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, language)): Path<(i64, String)>,
    Query(query): Query<TranslationQuery>,
) -> Result<Response, UiError> {
    let mut page =
        translation_page(&state, &viewer, id, &language, None, HashMap::new(), None).await?;
    page.from_ticket = query.from_ticket;
    Ok(render(&page)?.into_response())
}

async fn revise(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, language)): Path<(i64, String)>,
    PageForm(form): PageForm<TranslationForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let caller = writer(&viewer)?;
    let expected = form
        .revision
        .parse::<i64>()
        .map_err(|_| UiError::BadRequest("revision: the revision the text was based on".into()))?;
    let fields = TranslationFields {
        language: language.clone(),
        title: form.title.clone(),
        body: form.body.clone(),
    };
    match resources::revise_translation(&state.desk(), &caller, id, fields, Some(expected)).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/console/resources/{id}/translations/{language}"))
                .into_response(),
        ),
        Err(DeskError::Invalid(problems)) => {
            let errors = errors_of(&viewer, &problems);
            let page =
                translation_page(&state, &viewer, id, &language, Some(form), errors, None).await?;
            Ok(unprocessable(render(&page)?))
        }
        Err(DeskError::StaleVersion(detail) | DeskError::Conflict { detail, .. }) => {
            let page = translation_page(
                &state,
                &viewer,
                id,
                &language,
                Some(form),
                HashMap::new(),
                Some(detail),
            )
            .await?;
            let mut response = render(&page)?.into_response();
            *response.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct ReviewForm {
    csrf: String,
    action: String,
}

async fn review(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, language)): Path<(i64, String)>,
    PageForm(form): PageForm<ReviewForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let caller = writer(&viewer)?;
    let action = ReviewAction::parse(&form.action).ok_or_else(|| {
        UiError::BadRequest(format!(
            "action: \"{}\" is no step of a review",
            form.action
        ))
    })?;
    resources::review(&state.desk(), &caller, id, &language, action).await?;
    Ok(Redirect::to(&format!("/console/resources/{id}")).into_response())
}

#[derive(Deserialize)]
struct DiffQuery {
    from: i64,
    to: i64,
}

#[derive(Template)]
#[template(path = "writers/diff.html")]
struct DiffPage {
    page: Page,
    id: i64,
    language: String,
    from: i64,
    to: i64,
    title_from: String,
    title_to: String,
    lines: Vec<DiffLine>,
}

async fn diff(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, language)): Path<(i64, String)>,
    Query(query): Query<DiffQuery>,
) -> Result<Response, UiError> {
    let caller = writer(&viewer)?;
    let compared =
        resources::compare(&state.desk(), &caller, id, &language, query.from, query.to).await?;
    let page = DiffPage {
        page: Page {
            path: format!("/console/resources/{id}/translations/{language}/diff"),
            ..viewer.page(viewer.t("writers.diff_title").to_string())
        },
        id,
        language,
        from: compared.from,
        to: compared.to,
        title_from: compared.title_from,
        title_to: compared.title_to,
        lines: compared.lines,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize, Default)]
struct LinksQuery {
    #[serde(default)]
    q: String,
    /// The text area a chosen link goes into.
    #[serde(default)]
    target: String,
}

struct LinkRow {
    title: String,
    language: String,
    kind: &'static str,
    markdown: String,
}

#[derive(Template)]
#[template(path = "writers/links.html")]
struct LinksFragment {
    page: Page,
    target: String,
    rows: Vec<LinkRow>,
    searched: bool,
}

/// Published entries customers may read that match what an advisor types beside a reply,
/// each with the Markdown link to put into it (a part of the ticket's page).
async fn links(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<LinksQuery>,
) -> Result<Response, UiError> {
    let caller = writer(&viewer)?;
    let text: String = query.q.chars().take(500).collect();
    let found = if text.trim().is_empty() {
        Vec::new()
    } else {
        resources::search(
            &state.desk(),
            Some(&caller),
            &ResourceQuery {
                text,
                state: Some(TranslationState::Published),
                one_per_entry_in: Some(viewer.catalog.language.to_string()),
                limit: 8,
                ..ResourceQuery::default()
            },
        )
        .await?
    };
    let rows = found
        .into_iter()
        .filter(|found| found.hit.visibility != Visibility::Internal)
        .map(|found| {
            let hit = found.hit;
            // The entry's own page, external resources too: it links onwards, and the link
            // counts the ticket among those the entry helped.
            let link = format!(
                "{}/resources/{}?language={}",
                state.public_url, hit.entry_id, hit.translation.language
            );
            LinkRow {
                markdown: format!(
                    "[{}]({link})",
                    hit.translation.title.replace(['[', ']'], "")
                ),
                kind: viewer
                    .catalog
                    .get(&format!("resources.kind_{}", hit.kind.as_str())),
                title: hit.translation.title,
                language: hit.translation.language,
            }
        })
        .collect();
    let target = if query
        .target
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || character == '-')
    {
        query.target
    } else {
        String::new()
    };
    let fragment = LinksFragment {
        page: viewer.page(String::new()),
        target,
        rows,
        searched: !query.q.trim().is_empty(),
    };
    Ok(render(&fragment)?.into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// "Turn this solution into an article": a draft from the ticket's accepted solution, opened
/// for the writer with a reminder to take the customer out of it.
async fn article_from_ticket(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(ticket): Path<i64>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let caller = writer(&viewer)?;
    let entry = resources::draft_from_ticket(&state.desk(), &caller, ticket).await?;
    let language = entry
        .translations
        .first()
        .map(|translation| translation.language.clone())
        .unwrap_or_default();
    Ok(Redirect::to(&format!(
        "/console/resources/{}/translations/{language}?from_ticket={ticket}",
        entry.id
    ))
    .into_response())
}

/// Values separated by commas, blanks around each dropped, empty ones left out.
fn listed(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_string)
        .collect()
}

fn language_choices(state: &AppState) -> Vec<Choice> {
    state
        .policy()
        .languages
        .supported
        .iter()
        .map(|code| Choice {
            value: code.clone(),
            label: language_name(code),
        })
        .collect()
}
