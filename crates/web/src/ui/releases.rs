//! The release catalog in the console (POLICY.md §9): staff see each product line's
//! releases, newest first, with which are in support scope; administrators and support
//! managers publish a release and retire one. The same desk use cases as the API and the
//! command line.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use caredesk_desk::DeskError;
use caredesk_desk::catalog::{self, CatalogEntry, PUBLISHERS, ReleaseForm, WaitingTicket};
use serde::Deserialize;

use super::forms::{errors_of, filled, unprocessable};
use super::i18n::language_name;
use super::resources::{Choice, product_lines};
use super::session::Viewer;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::{ClientAddress, Principal};
use crate::edge::PageForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/releases", get(catalog_page).post(publish))
        .route("/console/releases/{id}/retire", post(retire))
}

/// One release as a row of its line's table.
struct ReleaseRow {
    id: i64,
    version: String,
    kind: &'static str,
    released_on: String,
    /// "in_scope", "out_of_scope" or "retired": an i18n key under `releases.`.
    support: &'static str,
    retired_on: String,
    /// The notes in the viewer's language, else in English, else in any language.
    notes: String,
    notes_language: String,
    download_url: Option<String>,
    sha256: Option<String>,
}

struct LineTable {
    name: String,
    rows: Vec<ReleaseRow>,
}

#[derive(Deserialize, Default)]
struct PublishForm {
    csrf: String,
    #[serde(default)]
    product_line: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    released_on: String,
    #[serde(default)]
    download_url: String,
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    notes_en: String,
    #[serde(default)]
    notes_fr: String,
    #[serde(default)]
    notes_es: String,
    #[serde(default)]
    notes_de: String,
    #[serde(default)]
    notes_nl: String,
    #[serde(default)]
    notes_ja: String,
    /// The rest: one `without_fix_{ticket}` box per ticket waiting for a release whose fix
    /// is not in the one published.
    #[serde(flatten)]
    others: HashMap<String, String>,
}

/// The languages the form takes notes in (the pages' six); the API takes any of the policy.
const NOTES_LANGUAGES: [&str; 6] = ["en", "fr", "es", "de", "nl", "ja"];

impl PublishForm {
    /// The notes given, by language.
    fn notes(&self) -> BTreeMap<String, String> {
        [
            ("en", &self.notes_en),
            ("fr", &self.notes_fr),
            ("es", &self.notes_es),
            ("de", &self.notes_de),
            ("nl", &self.notes_nl),
            ("ja", &self.notes_ja),
        ]
        .into_iter()
        .filter_map(|(language, text)| filled(text).map(|text| (language.to_string(), text)))
        .collect()
    }

    /// The tickets ticked as not fixed by the release published.
    fn without_fix(&self) -> Vec<i64> {
        let mut tickets: Vec<i64> = self
            .others
            .keys()
            .filter_map(|name| name.strip_prefix("without_fix_")?.parse().ok())
            .collect();
        tickets.sort_unstable();
        tickets
    }

    fn is_without_fix(&self, ticket: &i64) -> bool {
        self.others.contains_key(&format!("without_fix_{ticket}"))
    }

    fn notes_in(&self, language: &str) -> &str {
        match language {
            "en" => &self.notes_en,
            "fr" => &self.notes_fr,
            "es" => &self.notes_es,
            "de" => &self.notes_de,
            "nl" => &self.notes_nl,
            "ja" => &self.notes_ja,
            _ => "",
        }
    }
}

#[derive(Template)]
#[template(path = "console/releases.html")]
struct CatalogPage {
    page: Page,
    lines: Vec<LineTable>,
    may_publish: bool,
    product_lines: Vec<Choice>,
    /// The languages release notes may be written in: (code, name).
    languages: Vec<(String, String)>,
    form: PublishForm,
    errors: HashMap<String, String>,
    /// What is in support scope, with the policy's count.
    intro: String,
    /// Tickets waiting for a release with their fix, with their line's name.
    waiting: Vec<(WaitingTicket, String)>,
}

impl CatalogPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }

    fn notes_error(&self, language: &str) -> Option<&str> {
        self.error(&format!("notes.{language}"))
    }
}

async fn catalog_page(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    let page = page_of(&state, &viewer, PublishForm::default(), HashMap::new()).await?;
    Ok(render(&page)?.into_response())
}

async fn publish(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    viewer: Viewer,
    PageForm(form): PageForm<PublishForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    staff_only(&viewer)?;
    let released_on = match filled(&form.released_on) {
        None => None,
        Some(text) => match text.parse() {
            Ok(date) => Some(date),
            Err(_) => {
                let errors = HashMap::from([(
                    "released_on".to_string(),
                    viewer.t("releases.date_format").to_string(),
                )]);
                let page = page_of(&state, &viewer, form, errors).await?;
                return Ok(unprocessable(render(&page)?));
            }
        },
    };
    let desk = state.desk().from_address(client);
    let caller = viewer.principal.caller();
    // A box ticked for a ticket that waits for another release says nothing of this one.
    let waiting = catalog::waiting_tickets(&desk, &caller, None).await?;
    let without_fix = form
        .without_fix()
        .into_iter()
        .filter(|ticket| {
            waiting.iter().any(|one| {
                one.ticket_id == *ticket
                    && one.waits_for(form.product_line.trim(), form.version.trim())
            })
        })
        .collect();
    let release = ReleaseForm {
        product_line: form.product_line.clone(),
        version: form.version.clone(),
        kind: form.kind.clone(),
        released_on,
        download_url: filled(&form.download_url),
        sha256: filled(&form.sha256),
        notes: form.notes(),
        without_fix,
    };
    match catalog::publish(&desk, &caller, release).await {
        Ok(_) => Ok(Redirect::to("/console/releases").into_response()),
        Err(DeskError::Invalid(problems)) => {
            let errors = errors_of(&viewer, &problems);
            let page = page_of(&state, &viewer, form, errors).await?;
            Ok(unprocessable(render(&page)?))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct RetireForm {
    csrf: String,
}

async fn retire(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<RetireForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    staff_only(&viewer)?;
    let desk = state.desk().from_address(client);
    catalog::retire(&desk, &viewer.principal.caller(), id).await?;
    Ok(Redirect::to("/console/releases").into_response())
}

fn staff_only(viewer: &Viewer) -> Result<(), UiError> {
    match &viewer.principal {
        Principal::Staff(_) => Ok(()),
        Principal::Contact(_) => Err(UiError::Forbidden),
    }
}

async fn page_of(
    state: &AppState,
    viewer: &Viewer,
    form: PublishForm,
    errors: HashMap<String, String>,
) -> Result<CatalogPage, UiError> {
    staff_only(viewer)?;
    let entries = catalog::catalog(&state.desk(), None).await?;
    let mut lines: Vec<LineTable> = Vec::new();
    for (id, line) in &state.policy().product_lines {
        let rows = entries
            .iter()
            .filter(|entry| &entry.release.product_line == id)
            .map(|entry| row_of(viewer, entry))
            .collect();
        lines.push(LineTable {
            name: line.name.clone(),
            rows,
        });
    }
    let waiting = catalog::waiting_tickets(&state.desk(), &viewer.principal.caller(), None)
        .await?
        .into_iter()
        .map(|ticket| {
            let line = state
                .policy()
                .product_lines
                .get(&ticket.product_line)
                .map_or_else(|| ticket.product_line.clone(), |line| line.name.clone());
            (ticket, line)
        })
        .collect();
    Ok(CatalogPage {
        page: viewer.page(viewer.t("releases.title").to_string()),
        waiting,
        lines,
        may_publish: PUBLISHERS.contains(&viewer.principal.role()),
        product_lines: product_lines(state),
        // The languages of the policy the form has a field for.
        languages: state
            .policy()
            .languages
            .supported
            .iter()
            .filter(|code| NOTES_LANGUAGES.contains(&code.as_str()))
            .map(|code| (code.clone(), language_name(code)))
            .collect(),
        form: PublishForm {
            kind: if form.kind.is_empty() {
                "minor".into()
            } else {
                form.kind
            },
            ..form
        },
        errors,
        intro: viewer.catalog.format(
            "releases.intro",
            &[(
                "count",
                &state.policy().scope.supported_releases.to_string(),
            )],
        ),
    })
}

fn row_of(viewer: &Viewer, entry: &CatalogEntry) -> ReleaseRow {
    let release = &entry.release;
    let language = viewer.catalog.language;
    let (notes_language, notes) = entry
        .notes
        .get_key_value(language)
        .or_else(|| entry.notes.get_key_value("en"))
        .or_else(|| entry.notes.iter().next())
        .map(|(language, notes)| (language.clone(), notes.clone()))
        .unwrap_or_default();
    ReleaseRow {
        id: release.id,
        version: release.version.clone(),
        kind: if release.kind == "major" {
            "releases.major"
        } else {
            "releases.minor"
        },
        released_on: release.released_on.to_string(),
        support: if release.is_retired() {
            "releases.retired"
        } else if entry.in_support_scope {
            "releases.in_scope"
        } else {
            "releases.out_of_scope"
        },
        retired_on: release
            .retired_at
            .map(|at| viewer.catalog.when(at, &viewer.time_zone))
            .unwrap_or_default(),
        notes_language: if notes_language == language {
            String::new()
        } else {
            language_name(&notes_language)
        },
        notes,
        download_url: release.download_url.clone(),
        sha256: release.sha256.clone(),
    }
}
