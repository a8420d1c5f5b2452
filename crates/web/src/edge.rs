//! The text rule of [`caredesk_domain::text`] applied once, at the edge, to what every route
//! reads from its query string: a control character anywhere in one is refused before any
//! handler runs, with the parameter named (422 problem for the API, a readable page for the
//! pages). Bodies are checked where they are parsed, by the route that knows what its body
//! is: JSON by `extract::parse_json`, the pages' URL-encoded forms by [`PageForm`], their
//! multipart forms by `ui::forms`, mail by `caredesk_mail::inbound` (raw uploads are bytes,
//! not text, and are not checked).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use caredesk_domain::text::{forbidden_character, forbidden_character_reason};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Refuses a request whose query string has a parameter holding a forbidden character.
pub async fn refuse_control_characters(request: Request, next: Next) -> Response {
    if let Some(query) = request.uri().query()
        && let Some((field, character)) = forbidden_field(query.as_bytes())
    {
        return refusal(&request, &field, character);
    }
    next.run(request).await
}

/// A page's URL-encoded form (sign-in, sign-out, the language switch), refused as a
/// readable page naming the field when a field holds a forbidden character.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        decode_page_form(&bytes).map(PageForm).map_err(|refusal| {
            crate::ui::failure_for_visitor(&headers, refusal.status, Some(refusal.detail))
        })
    }
}

/// Why a page's form was not taken: the status to answer and what to tell the visitor.
#[derive(Debug)]
pub struct FormRefusal {
    pub status: StatusCode,
    pub detail: String,
}

/// Decodes a page's URL-encoded form into `T`: a field holding a forbidden character is
/// refused naming it (400), a form that does not fit `T` with serde's reason (422).
pub fn decode_page_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FormRefusal> {
    if let Some((field, character)) = forbidden_field(bytes) {
        let reason = forbidden_character_reason(character);
        return Err(FormRefusal {
            status: StatusCode::BAD_REQUEST,
            detail: format!("{field}: {reason}"),
        });
    }
    serde_urlencoded::from_bytes(bytes).map_err(|error| FormRefusal {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        detail: error.to_string(),
    })
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
