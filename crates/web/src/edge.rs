//! The text rule of [`caredesk_domain::text`] applied once, at the edge, to what every route
//! reads from a query string or a URL-encoded form: a control character anywhere in one is
//! refused before any handler runs, with the field named (422 problem for the API, a
//! readable page for the pages). JSON bodies are checked as they are parsed
//! (`extract::parse_json`), multipart forms as they are read (`ui::forms`), mail as it is
//! parsed (`caredesk_mail::inbound`).

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use caredesk_domain::text::{forbidden_character, forbidden_character_reason};

use crate::AppState;
use crate::error::ApiError;

/// Refuses a request whose query string or URL-encoded form body has a field holding a
/// forbidden character.
pub async fn refuse_control_characters(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(query) = request.uri().query()
        && let Some((field, character)) = forbidden_field(query.as_bytes())
    {
        return refusal(&request, &field, character);
    }
    if !is_url_encoded_form(&request) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, state.limits.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let request = Request::from_parts(parts, Body::empty());
            return too_large(&request);
        }
    };
    let request = Request::from_parts(parts, Body::from(bytes.clone()));
    if let Some((field, character)) = forbidden_field(&bytes) {
        return refusal(&request, &field, character);
    }
    next.run(request).await
}

/// The first `name=value` pair of a URL-encoded string whose name or value holds a
/// forbidden character, once decoded.
fn forbidden_field(encoded: &[u8]) -> Option<(String, char)> {
    // Every control character is sent percent-encoded or raw: most strings have neither a
    // '%' nor a control byte and are passed at once.
    if !encoded
        .iter()
        .any(|&byte| byte == b'%' || byte.is_ascii_control())
    {
        return None;
    }
    form_urlencoded::parse(encoded).find_map(|(name, value)| {
        forbidden_character(&name)
            .or_else(|| forbidden_character(&value))
            .map(|character| (name.replace(|c: char| c.is_ascii_control(), "?"), character))
    })
}

fn is_url_encoded_form(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn is_api(request: &Request) -> bool {
    request.uri().path().starts_with("/api/")
}

fn refusal(request: &Request, field: &str, character: char) -> Response {
    let reason = forbidden_character_reason(character);
    if is_api(request) {
        ApiError::invalid(field, reason).into_response()
    } else {
        crate::ui::failure_for_visitor(
            request.headers(),
            StatusCode::BAD_REQUEST,
            Some(format!("{field}: {reason}")),
        )
    }
}

fn too_large(request: &Request) -> Response {
    let detail = "the form is larger than the server accepts";
    if is_api(request) {
        ApiError::TooLarge(detail.to_string()).into_response()
    } else {
        crate::ui::failure_for_visitor(
            request.headers(),
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(detail.to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::forbidden_field;

    #[test]
    fn a_control_character_is_found_in_any_field_once_decoded() {
        assert_eq!(forbidden_field(b"region=emea&program=gold"), None);
        assert_eq!(forbidden_field(b"q=caf%C3%A9+au+lait"), None);
        assert_eq!(
            forbidden_field(b"region=a%00b"),
            Some(("region".into(), '\0'))
        );
        assert_eq!(
            forbidden_field(b"language=fr&email=x%1Bz"),
            Some(("email".into(), '\u{1b}'))
        );
        // A textarea's lines and tabs are text.
        assert_eq!(forbidden_field(b"body=one%0D%0Atwo%09three"), None);
        // The name is shown without the character that hid it.
        assert_eq!(forbidden_field(b"a%00=1"), Some(("a?".into(), '\0')));
    }
}
