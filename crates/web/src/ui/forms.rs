//! What the portal's and the console's forms send: read with bounds, the CSRF token first,
//! files kept with their own names; and how a refused action is told.
//!
//! Our forms put their `csrf` field first, and browsers send fields in document order: a form
//! from elsewhere is refused before anything else of it is read. Text fields together may
//! hold at most `max_body_bytes`, each file at most `max_attachment_bytes`, at most
//! [`MAX_FILES`] files; past a bound, reading stops.

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::extract::multipart::Field;
use axum::response::{Html, IntoResponse, Response};
use caredesk_desk::tickets::{NewFile, act, plain_file_name};
use caredesk_desk::{DeskError, FieldProblem};
use caredesk_domain::reason::ReasonCode;
use caredesk_domain::text::{forbidden_character, forbidden_character_reason};
use caredesk_domain::ticket::Command;

use super::UiError;
use super::i18n::Catalog;
use super::session::Viewer;
use crate::AppState;

/// A form's text, trimmed; none when only blanks were sent.
pub fn filled(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// At most this many files go with one form.
pub const MAX_FILES: usize = 5;

/// A form's text fields and files.
/// A form that carries nothing but its CSRF token: a button.
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    pub csrf: String,
}

pub struct Posted {
    fields: HashMap<String, String>,
    pub files: Vec<NewFile>,
}

impl Posted {
    /// A text field, empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

/// Reads a multipart form sent by `viewer`, its CSRF token checked first.
pub async fn read_form(
    state: &AppState,
    viewer: &Viewer,
    mut multipart: Multipart,
) -> Result<Posted, UiError> {
    let malformed =
        |error: axum::extract::multipart::MultipartError| UiError::BadRequest(error.body_text());
    let Some(first) = multipart.next_field().await.map_err(malformed)? else {
        return Err(UiError::Forbidden);
    };
    if first.name() != Some("csrf") {
        return Err(UiError::Forbidden);
    }
    let token = read_bounded(first, 256, "csrf").await?;
    viewer.check_csrf(&String::from_utf8_lossy(&token))?;

    let mut posted = Posted {
        fields: HashMap::new(),
        files: Vec::new(),
    };
    let mut text_left = state.limits.max_body_bytes;
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let content =
                    read_bounded(field, state.limits.max_attachment_bytes, &file_name).await?;
                // A file input left empty still sends a part, without a name or content.
                if file_name.is_empty() && content.is_empty() {
                    continue;
                }
                if posted.files.len() == MAX_FILES {
                    return Err(UiError::BadRequest(format!("at most {MAX_FILES} files")));
                }
                posted.files.push(NewFile {
                    name: plain_file_name(&file_name),
                    content_type,
                    content,
                });
            }
            None => {
                let text = read_bounded(field, text_left, &name).await?;
                text_left -= text.len();
                let text = String::from_utf8(text)
                    .map_err(|_| UiError::BadRequest(format!("{name}: not UTF-8 text")))?;
                if let Some(character) = forbidden_character(&text) {
                    return Err(UiError::BadRequest(format!(
                        "{name}: {}",
                        forbidden_character_reason(character)
                    )));
                }
                posted.fields.insert(name, text);
            }
        }
    }
    Ok(posted)
}

/// A part's bytes, refused as too large once past `limit`, without reading the rest.
async fn read_bounded(mut field: Field<'_>, limit: usize, what: &str) -> Result<Vec<u8>, UiError> {
    let mut content = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|error| UiError::BadRequest(error.body_text()))?
    {
        if content.len() + chunk.len() > limit {
            return Err(UiError::TooLarge(format!("{what}: at most {limit} bytes")));
        }
        content.extend_from_slice(&chunk);
    }
    Ok(content)
}

/// Carries out a command from a page with the form's files, which go on the viewer's own
/// event, in one transaction. `Ok(Some(why))`: the ticket's state, its version or a field
/// refused it, to be shown on the page again; anything else is a failure of its own.
pub async fn act_with_files(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    command: Command,
    version: Option<i64>,
    files: Vec<NewFile>,
) -> Result<Option<String>, UiError> {
    let caller = viewer.principal.caller();
    match act(&state.desk(), &caller, id, command, version, &files).await {
        Ok(_) => Ok(None),
        Err(
            error @ (DeskError::Invalid(_)
            | DeskError::Conflict { .. }
            | DeskError::StaleVersion(_)),
        ) => Ok(Some(refusal_message(viewer, &error))),
        Err(other) => Err(other.into()),
    }
}

/// A page shown again because what was sent was refused.
pub fn unprocessable(page: Html<String>) -> Response {
    (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// A refused field's reason in the viewer's language, by its code; a reason that has no
/// code of its own yet is shown as the desk wrote it.
pub fn translate_reason(viewer: &Viewer, problem: &FieldProblem) -> String {
    reason_in(viewer.catalog, problem)
}

/// A refused field's reason in `catalog`'s language (see [`translate_reason`]).
pub fn reason_in(catalog: &Catalog, problem: &FieldProblem) -> String {
    match problem.code {
        ReasonCode::Required => catalog.get("form.required").to_string(),
        ReasonCode::TooLong { max } => {
            catalog.format("form.too_long", &[("max", &max.to_string())])
        }
        ReasonCode::LicenceNotAccepted => catalog.get("form.licence_not_accepted").to_string(),
        ReasonCode::Invalid => problem.message.clone(),
    }
}

/// Each refused field's first reason in the viewer's language, by field.
pub fn errors_of(viewer: &Viewer, problems: &[FieldProblem]) -> HashMap<String, String> {
    errors_in(viewer.catalog, problems)
}

/// Each refused field's first reason in `catalog`'s language, by field.
pub fn errors_in(catalog: &Catalog, problems: &[FieldProblem]) -> HashMap<String, String> {
    let mut errors = HashMap::new();
    for problem in problems {
        errors
            .entry(problem.field.clone())
            .or_insert_with(|| reason_in(catalog, problem));
    }
    errors
}

/// Why an action was not carried out, in the viewer's words.
fn refusal_message(viewer: &Viewer, error: &DeskError) -> String {
    match error {
        DeskError::Invalid(fields) => fields
            .iter()
            .map(|field| translate_reason(viewer, field))
            .collect::<Vec<_>>()
            .join(" "),
        DeskError::StaleVersion(_) => viewer.t("ticket.changed_meanwhile").to_string(),
        _ => viewer.t("ticket.not_now").to_string(),
    }
}
