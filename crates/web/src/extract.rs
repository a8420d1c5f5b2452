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
    let value = match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => {
            deserializer.end().map_err(|error| {
                ApiError::Malformed(format!("the body is not valid JSON: {error}"))
            })?;
            value
        }
        // JSON has one kind of number: 3.0 is the integer 3 (JSON Schema says so too), though
        // serde reads it as a float. Such a body is read again with its whole numbers made
        // integers; the fast path above stays for every other body.
        Err(error)
            if error
                .inner()
                .to_string()
                .starts_with("invalid type: floating point") =>
        {
            let mut tree: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
                ApiError::Malformed(format!("the body is not valid JSON: {error}"))
            })?;
            whole_numbers_as_integers(&mut tree);
            serde_path_to_error::deserialize(tree).map_err(field_problem)?
        }
        Err(error) => return Err(field_problem(error)),
    };
    if let Some((field, character)) = field_with_forbidden_character(bytes) {
        return Err(ApiError::invalid(
            field,
            forbidden_character_reason(character),
        ));
    }
    Ok(value)
}

/// A body that does not fit the request's type, as the field and the reason, or as malformed
/// JSON.
fn field_problem<E: std::fmt::Display + Into<serde_json::Error>>(
    error: serde_path_to_error::Error<E>,
) -> ApiError {
    let field = error.path().to_string();
    let inner: serde_json::Error = error.into_inner().into();
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
}

/// Turns every number with no fractional part (3.0, -1e2) into an integer, where it fits one.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
                && float.abs() < 9.0e15
            {
                // Below 2^53 every whole float is exact, and fits an i64.
                *value = Value::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
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
            version_of_tag(&tag)
                .ok_or_else(|| ApiError::invalid("If-Match", "give the ETag, such as \"3\""))
        })
        .transpose()
}

/// The version an entity tag names: `"3"` as the desk writes it, weak (`W/"3"`) or bare
/// (`3`), of at most 18 digits (the document's pattern says the same).
fn version_of_tag(tag: &str) -> Option<i64> {
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let digits = match tag.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"')?,
        None => tag,
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
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

/// The longest `Idempotency-Key` kept, in bytes.
pub const IDEMPOTENCY_KEY_MAX: usize = 200;

/// The request's `Idempotency-Key`, if given: plain text of at most 200 bytes.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let key = header_text(headers, "idempotency-key")?;
    if key
        .as_ref()
        .is_some_and(|key| key.len() > IDEMPOTENCY_KEY_MAX)
    {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            format!("at most {IDEMPOTENCY_KEY_MAX} characters"),
        ));
    }
    Ok(key)
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

    #[test]
    fn an_entity_tag_names_a_version_in_the_documented_forms_only() {
        use super::version_of_tag;
        assert_eq!(version_of_tag("\"3\""), Some(3));
        assert_eq!(version_of_tag("W/\"12\""), Some(12));
        assert_eq!(version_of_tag("7"), Some(7));
        for refused in [
            "",
            "\"\"",
            "\"3",
            "3\"",
            "\"-3\"",
            "+3",
            "null",
            "\"1234567890123456789\"",
        ] {
            assert_eq!(version_of_tag(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn a_whole_number_written_as_a_float_reads_as_an_integer() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Days {
            expires_in_days: u32,
        }
        let days: Days = super::parse_json(br#"{"expires_in_days": 30.0}"#).unwrap();
        assert_eq!(days.expires_in_days, 30);
        let refused = super::parse_json::<Days>(br#"{"expires_in_days": 30.5}"#).unwrap_err();
        assert!(refused.to_string().contains("invalid fields"), "{refused}");
    }
}
