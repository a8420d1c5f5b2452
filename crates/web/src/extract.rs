//! Request extractors that fail as problems naming the field: JSON bodies and query strings
//! are read with the path of every value, so an error says where it is.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use caredesk_domain::text::{forbidden_character, forbidden_character_reason};

use crate::error::ApiError;

/// A JSON body; unknown fields, wrong types and missing fields are 422 with the field named.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| {
                let media = media.trim();
                media.eq_ignore_ascii_case("application/json") || media.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as application/json".to_string(),
            ));
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                        ApiError::TooLarge("the body is larger than the server accepts".to_string())
                    }
                    _ => ApiError::Malformed(rejection.body_text()),
                })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, naming the field of any problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::Malformed(format!("the body is not valid JSON: {inner}"))
        } else {
            ApiError::invalid(
                if field == "." {
                    "body".to_string()
                } else {
                    field
                },
                strip_position(&inner.to_string()),
            )
        }
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::Malformed(format!("the body is not valid JSON: {error}")))?;
    if let Some((field, character)) = field_with_forbidden_character(bytes) {
        return Err(ApiError::invalid(
            field,
            forbidden_character_reason(character),
        ));
    }
    Ok(value)
}

/// The first field whose text holds a character no field may hold (see
/// [`caredesk_domain::text`]), named as serde_path_to_error names fields.
fn field_with_forbidden_character(bytes: &[u8]) -> Option<(String, char)> {
    // JSON carries a C0 control character only escaped, and DEL raw or escaped: most bodies
    // have neither and cost one scan.
    if !bytes.contains(&0x7f) && !bytes.windows(4).any(|window| window == b"\\u00") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    path_to_forbidden(&value, "")
}

fn path_to_forbidden(value: &serde_json::Value, path: &str) -> Option<(String, char)> {
    use serde_json::Value;
    let named = |path: &str| {
        if path.is_empty() {
            "body".to_string()
        } else {
            path.to_string()
        }
    };
    match value {
        Value::String(text) => forbidden_character(text).map(|character| (named(path), character)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| path_to_forbidden(item, &format!("{path}[{index}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match forbidden_character(key) {
                Some(character) => Some((named(path), character)),
                None => path_to_forbidden(item, &field),
            }
        }),
        _ => None,
    }
}

/// serde_json appends " at line 1 column 42"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}

/// A query string; a bad parameter is 422 naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let field = error.path().to_string();
                ApiError::invalid(
                    if field == "." {
                        "query".to_string()
                    } else {
                        field
                    },
                    error.into_inner().to_string(),
                )
            })
    }
}

/// Path parameters; one that does not parse (a ticket number that is not a number) is 404,
/// as for any resource that does not exist.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|_| ApiError::NotFound)
    }
}

/// The version an `If-Match` header names, if one is given.
pub fn if_match_version(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    header_text(headers, "if-match")?
        .map(|tag| {
            tag.trim_start_matches("W/")
                .trim_matches('"')
                .parse::<i64>()
                .map_err(|_| ApiError::invalid("If-Match", "give the ETag, such as \"3\""))
        })
        .transpose()
}

/// A header's text, trimmed, if given; one that is not plain text is refused.
pub fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    headers
        .get(name)
        .map(|value| {
            value
                .to_str()
                .map(|text| text.trim().to_string())
                .map_err(|_| ApiError::invalid(name, "must be plain text"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::field_with_forbidden_character as found;

    #[test]
    fn a_control_character_is_found_by_its_field() {
        assert_eq!(
            found(br#"{"subject": "a\u0000b"}"#),
            Some(("subject".into(), '\0'))
        );
        assert_eq!(
            found(br#"{"details": {"steps": ["ok", "\u001b"]}}"#),
            Some(("details.steps[1]".into(), '\u{1b}'))
        );
        assert_eq!(found(br#""\u0000""#), Some(("body".into(), '\0')));
        // An escaped backslash before "u0000" is six plain characters, not a NUL.
        assert_eq!(found(br#"{"subject": "C:\\u0000"}"#), None);
        assert_eq!(
            found(b"{\"subject\": \"raw\x7f\"}"),
            Some(("subject".into(), '\u{7f}'))
        );
        // Line feeds and tabs lay out text.
        assert_eq!(found(br#"{"description": "one\u000a\u0009two"}"#), None);
        assert_eq!(found(br#"{"subject": "nothing odd"}"#), None);
    }
}
