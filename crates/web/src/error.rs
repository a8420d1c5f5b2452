//! Every failure of the API as `application/problem+json` (RFC 9457), with the faulty fields
//! named. Only server faults are logged; they are the only ones that answer 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use caredesk_desk::DeskError;
use caredesk_domain::services::ServiceRefusal;
use caredesk_domain::ticket::Refusal;
use caredesk_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem to report.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all (400).
    #[error("{0}")]
    Malformed(String),
    /// Well-formed, but fields are missing, unknown or wrong (422).
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// No valid credentials (401).
    #[error("sign in first")]
    Unauthenticated,
    /// A credential (an activation code) refused, and why (401).
    #[error("{0}")]
    CredentialRefused(String),
    /// Signed in, but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such thing, or not the caller's to see (404).
    #[error("not found")]
    NotFound,
    /// The resource exists, the method does not (405).
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    /// Not possible in the current state (409), with what is possible instead.
    #[error("{detail}")]
    Conflict {
        detail: String,
        /// The state of the ticket (or request) that did not allow the action.
        state: Option<&'static str>,
        allowed_actions: Option<Vec<&'static str>>,
    },
    /// If-Match named a version that is no longer current (412).
    #[error("{0}")]
    StaleVersion(String),
    /// The body is larger than accepted (413).
    #[error("{0}")]
    TooLarge(String),
    /// The body is not of an accepted media type (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many wrong passwords: try again after this many seconds (429, `Retry-After`).
    #[error("too many failed sign-ins; try again in {retry_after_seconds} s")]
    Throttled { retry_after_seconds: u64 },
    /// Too many update checks for a serial or from an address (429, `Retry-After`).
    #[error("too many update checks; try again in {retry_after_seconds} s")]
    TooManyChecks { retry_after_seconds: u64 },
    /// The database is away for now, or a write was cut off by a stop (503, `Retry-After`):
    /// the same request later may succeed (a creation with its idempotency key is never
    /// made twice). The cause is logged, not shown.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A fault of the server (500); the cause is logged, not shown.
    #[error("unexpected: {0}")]
    Unexpected(String),
}

/// What a 503 asks the client to wait before trying again, in seconds.
pub const RETRY_UNAVAILABLE_AFTER_SECONDS: u64 = 2;

/// One faulty field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Dotted path of the field, such as `severity` or `resolution.release`.
    pub field: String,
    pub message: String,
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// What kind of problem, as a URN.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// On a conflict: the state of the ticket (or professional-services request) that did
    /// not allow the action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// On a conflict: what the caller may do from that state instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<&'static str>>,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            detail: detail.into(),
            state: None,
            allowed_actions: None,
        }
    }

    pub fn unexpected(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Unexpected(cause.to_string())
    }

    fn status_and_kind(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed-request"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-fields"),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::CredentialRefused(_) => (StatusCode::UNAUTHORIZED, "credential-refused"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::StaleVersion(_) => (StatusCode::PRECONDITION_FAILED, "stale-version"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
            }
            ApiError::Throttled { .. } | ApiError::TooManyChecks { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "throttled")
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Unexpected(_) => (StatusCode::INTERNAL_SERVER_ERROR, "unexpected"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind) = self.status_and_kind();
        let detail = match &self {
            ApiError::Unexpected(cause) => {
                tracing::error!(%cause, "request failed");
                "the server failed; the error is logged".to_string()
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(%cause, "request answered unavailable");
                "the desk cannot reach its database for now; try again in a moment (a creation \
                 retried with the same Idempotency-Key is never made twice)"
                    .to_string()
            }
            ApiError::Invalid(errors) => errors
                .iter()
                .map(|error| format!("{}: {}", error.field, error.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        let retry_after = match &self {
            ApiError::Throttled {
                retry_after_seconds,
            }
            | ApiError::TooManyChecks {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            ApiError::Unavailable(_) => Some(RETRY_UNAVAILABLE_AFTER_SECONDS),
            _ => None,
        };
        let (errors, state, allowed_actions) = match self {
            ApiError::Invalid(errors) => (errors, None, None),
            ApiError::Conflict {
                state,
                allowed_actions,
                ..
            } => (Vec::new(), state, allowed_actions),
            _ => (Vec::new(), None, None),
        };
        let problem = Problem {
            kind: format!("urn:caredesk:problem:{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            errors,
            state,
            allowed_actions,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            // An installed product proves itself with its activation code, people with a
            // bearer token.
            let scheme = if kind == "credential-refused" {
                "Activation"
            } else {
                "Bearer"
            };
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(scheme));
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<DeskError> for ApiError {
    fn from(error: DeskError) -> Self {
        match error {
            DeskError::NotFound => ApiError::NotFound,
            DeskError::Forbidden(detail) => ApiError::Forbidden(detail),
            DeskError::Invalid(problems) => ApiError::Invalid(
                problems
                    .into_iter()
                    .map(|problem| FieldError {
                        field: problem.field,
                        message: problem.message,
                    })
                    .collect(),
            ),
            DeskError::Conflict {
                detail,
                state,
                allowed_actions,
            } => ApiError::Conflict {
                detail,
                state,
                allowed_actions,
            },
            DeskError::StaleVersion(detail) => ApiError::StaleVersion(detail),
            DeskError::WrongCredentials => ApiError::Unauthenticated,
            DeskError::CredentialRefused(detail) => ApiError::CredentialRefused(detail),
            DeskError::Throttled {
                retry_after_seconds,
            } => ApiError::Throttled {
                retry_after_seconds,
            },
            DeskError::Unexpected(cause) => ApiError::Unexpected(cause),
            DeskError::Store(error) => error.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(detail) => ApiError::conflict(detail),
            StoreError::StaleVersion(detail) => ApiError::StaleVersion(detail),
            StoreError::Unavailable(_) | StoreError::Interrupted(_) => {
                ApiError::Unavailable(error.to_string())
            }
            other => ApiError::unexpected(other),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        DeskError::from(refusal).into()
    }
}

impl From<ServiceRefusal> for ApiError {
    fn from(refusal: ServiceRefusal) -> Self {
        DeskError::from(refusal).into()
    }
}
