//! What can go wrong when the desk is asked to do something, in the desk's terms: each entry
//! point (the API, the pages, mail, the CLI) says it in its own way.

use caredesk_domain::policy::Policy;
use caredesk_domain::reason::{Reason, ReasonCode};
use caredesk_domain::resources::{ReviewAction, ReviewRefusal};
use caredesk_domain::services::{ServiceAction, ServiceRefusal};
use caredesk_domain::ticket::{Action, Refusal};
use caredesk_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// No such thing, or not the caller's to see.
    #[error("not found")]
    NotFound,
    /// Allowed to see, not to do.
    #[error("{0}")]
    Forbidden(String),
    /// Fields missing or wrong, each with why.
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldProblem>),
    /// Not possible in the current state, with what is possible instead.
    #[error("{detail}")]
    Conflict {
        detail: String,
        state: Option<&'static str>,
        allowed_actions: Option<Vec<&'static str>>,
    },
    /// Based on a version of the ticket that is no longer current.
    #[error("{0}")]
    StaleVersion(String),
    /// Wrong e-mail or password (or an inactive account): one answer for all.
    #[error("the e-mail or the password is not right")]
    WrongCredentials,
    /// A credential that is not a password (an activation code) was refused, and why: it
    /// is not the caller's secret that the reason could reveal.
    #[error("{0}")]
    CredentialRefused(String),
    /// Too many wrong passwords: try again after this many seconds.
    #[error("too many failed sign-ins; try again in {retry_after_seconds} s")]
    Throttled { retry_after_seconds: u64 },
    /// The policy does not fit what it was asked about (a bug or a policy changed under
    /// stored data).
    #[error("unexpected: {0}")]
    Unexpected(String),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
}

/// One faulty field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    /// Dotted path of the field, such as `severity` or `resolution.release`.
    pub field: String,
    /// What kind of refusal, for whoever words it in the reader's language.
    pub code: ReasonCode,
    /// The refusal in English.
    pub message: String,
}

impl FieldProblem {
    pub fn of(field: impl Into<String>, reason: Reason) -> FieldProblem {
        FieldProblem {
            field: field.into(),
            code: reason.code,
            message: reason.into(),
        }
    }
}

impl DeskError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> DeskError {
        DeskError::Invalid(vec![FieldProblem::of(field, Reason::invalid(message))])
    }

    pub fn unexpected(cause: impl std::fmt::Display) -> DeskError {
        DeskError::Unexpected(cause.to_string())
    }
}

impl From<StoreError> for DeskError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => DeskError::NotFound,
            StoreError::Conflict(detail) => DeskError::Conflict {
                detail,
                state: None,
                allowed_actions: None,
            },
            StoreError::StaleVersion(detail) => DeskError::StaleVersion(detail),
            other => DeskError::Store(other),
        }
    }
}

impl From<Refusal> for DeskError {
    fn from(refusal: Refusal) -> Self {
        let detail = refusal.to_string();
        match refusal {
            Refusal::NotNow { state, allowed, .. } => DeskError::Conflict {
                detail,
                state: Some(state.as_str()),
                allowed_actions: Some(allowed.iter().map(Action::as_str).collect()),
            },
            Refusal::NotPermitted { .. } => DeskError::Forbidden(detail),
            Refusal::Invalid { field, reason } => {
                DeskError::Invalid(vec![FieldProblem::of(field, reason)])
            }
        }
    }
}

impl From<ReviewRefusal> for DeskError {
    fn from(refusal: ReviewRefusal) -> Self {
        let detail = refusal.to_string();
        match refusal {
            ReviewRefusal::NotNow { state, allowed, .. } => DeskError::Conflict {
                detail,
                state: Some(state.as_str()),
                allowed_actions: Some(allowed.iter().map(ReviewAction::as_str).collect()),
            },
            ReviewRefusal::NotPermitted { .. } => DeskError::Forbidden(detail),
        }
    }
}

impl From<ServiceRefusal> for DeskError {
    fn from(refusal: ServiceRefusal) -> Self {
        let detail = refusal.to_string();
        match refusal {
            ServiceRefusal::NotNow { state, allowed, .. } => DeskError::Conflict {
                detail,
                state: Some(state.as_str()),
                allowed_actions: Some(allowed.iter().map(ServiceAction::as_str).collect()),
            },
            ServiceRefusal::NotPermitted { .. } => DeskError::Forbidden(detail),
            ServiceRefusal::Invalid { field, reason } => {
                DeskError::Invalid(vec![FieldProblem::of(field, reason)])
            }
        }
    }
}

/// Faulty fields, collected to be told together.
#[derive(Default)]
pub(crate) struct Problems(Vec<FieldProblem>);

impl Problems {
    pub(crate) fn add(&mut self, field: &str, reason: Reason) {
        self.0.push(FieldProblem::of(field, reason));
    }

    /// Required, one line, and at most `max` characters.
    pub(crate) fn text(&mut self, field: &str, text: &str, max: usize) {
        if text.trim().is_empty() {
            self.add(field, Reason::required());
        } else {
            self.at_most(field, text, max);
        }
    }

    /// One line (no tab or line break: names and numbers end up in tables and CSV) of at
    /// most `max` characters, counted as kept (trimmed); it may be empty.
    pub(crate) fn at_most(&mut self, field: &str, text: &str, max: usize) {
        if text.contains(char::is_control) {
            self.add(
                field,
                Reason::invalid("one line, without tabs or line breaks"),
            );
        } else if text.trim().chars().count() > max {
            self.add(field, Reason::too_long(max));
        }
    }

    pub(crate) fn language(&mut self, policy: &Policy, language: &str) {
        let supported = &policy.languages.supported;
        if !supported.iter().any(|known| known == language) {
            self.add(
                "language",
                Reason::invalid(format!("one of {}", supported.join(", "))),
            );
        }
    }

    pub(crate) fn into_problems(self) -> Vec<FieldProblem> {
        self.0
    }

    pub(crate) fn finish(self) -> Result<(), DeskError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DeskError::Invalid(self.0))
        }
    }
}
