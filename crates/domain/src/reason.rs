//! Why a field is refused: a code with the values it names, which each reader's language
//! words its own way (the pages translate the code through their message catalogs), and
//! the English wording the API shows.

use std::fmt;
use std::ops::Deref;

/// What kind of refusal, for whoever words it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    /// Empty (or missing a part), and it may not be.
    Required,
    /// Longer than `max` characters.
    TooLong { max: usize },
    /// The customer's current care contract waits for its licence agreement to be accepted,
    /// which the customer may do at once.
    LicenceNotAccepted,
    /// Any other reason: the policy's own words, a name it does not know, a state of the
    /// ticket. Shown in English until it has a code of its own.
    Invalid,
}

impl ReasonCode {
    /// The code as the message catalogs name it.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReasonCode::Required => "required",
            ReasonCode::TooLong { .. } => "too_long",
            ReasonCode::LicenceNotAccepted => "licence_not_accepted",
            ReasonCode::Invalid => "invalid",
        }
    }
}

/// A refusal's reason: its code, and its English wording (what it dereferences to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub code: ReasonCode,
    text: String,
}

impl Reason {
    pub fn new(code: ReasonCode, text: impl Into<String>) -> Reason {
        Reason {
            code,
            text: text.into(),
        }
    }

    /// "must not be empty".
    pub fn required() -> Reason {
        Reason::new(ReasonCode::Required, "must not be empty")
    }

    /// "at most `max` characters".
    pub fn too_long(max: usize) -> Reason {
        Reason::new(
            ReasonCode::TooLong { max },
            format!("at most {max} characters"),
        )
    }

    /// Any other reason, in English.
    pub fn invalid(text: impl Into<String>) -> Reason {
        Reason::new(ReasonCode::Invalid, text)
    }

    /// The English wording.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl Deref for Reason {
    type Target = String;

    fn deref(&self) -> &String {
        &self.text
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

impl From<Reason> for String {
    fn from(reason: Reason) -> String {
        reason.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_has_a_code_and_its_english() {
        let required = Reason::required();
        assert_eq!(required.code.as_str(), "required");
        assert_eq!(required.to_string(), "must not be empty");
        let long = Reason::too_long(200);
        assert_eq!(long.code, ReasonCode::TooLong { max: 200 });
        assert!(long.contains("200"));
        assert_eq!(Reason::invalid("no such advisor").code.as_str(), "invalid");
    }
}
