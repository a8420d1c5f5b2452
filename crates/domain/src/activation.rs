//! Activation codes (POLICY.md §9): what the activation manager gives an installation, and
//! what the installed product (and `caredesk activation verify`) checks offline with the
//! desk's public key.
//!
//! A code is `CDA1.` followed by the claims and their Ed25519 signature in URL-safe
//! base64, without padding: one word of letters, digits, `-` and `_` that survives a copy
//! and paste into a shell, a form or a configuration file. The claims are the serial, the
//! product line, the machine identifier, the highest version the licence allows and when
//! the code was issued, as lines of text; the signature covers them behind a label of its
//! own, so that no other message the key might sign can pass for a code.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use jiff::Timestamp;

/// What every code starts with; the number is the format's version.
pub const CODE_PREFIX: &str = "CDA1.";

/// What the signature covers before the claims.
const SIGNED_LABEL: &[u8] = b"caredesk activation code v1\n";

/// The longest machine identifier, in characters.
pub const MACHINE_ID_MAX_CHARS: usize = 128;

/// The shortest one: anything shorter does not identify a machine.
pub const MACHINE_ID_MIN_CHARS: usize = 8;

/// The longest code read, in characters: past it, it cannot be one of ours.
const CODE_MAX_CHARS: usize = 1_000;

/// What an activation code says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivationClaims {
    pub serial: String,
    pub product_line: String,
    pub machine_id: String,
    /// The highest version the licence allows this installation to run.
    pub highest_version: String,
    pub issued_at: Timestamp,
}

/// Why a code is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("not an activation code: it starts with {CODE_PREFIX}")]
    NotACode,
    #[error("the activation code is damaged: part of it is missing or mistyped")]
    Damaged,
    #[error("the activation code was not signed by this desk's key, or was changed since")]
    BadSignature,
    #[error("the activation code is for serial number {0}, not this one")]
    OtherSerial(String),
    #[error("the activation code is for another machine ({0})")]
    OtherMachine(String),
}

/// What is wrong with a machine identifier as an installation shows it: 8 to 128 letters,
/// digits, `-`, `_`, `:`, `.` or `{}` (GUIDs are often shown in braces).
pub fn machine_id_problem(machine_id: &str) -> Option<String> {
    let length = machine_id.chars().count();
    if length == 0 {
        return Some("required".into());
    }
    if !(MACHINE_ID_MIN_CHARS..=MACHINE_ID_MAX_CHARS).contains(&length) {
        return Some(format!(
            "{MACHINE_ID_MIN_CHARS} to {MACHINE_ID_MAX_CHARS} characters, as the installation shows it"
        ));
    }
    machine_id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.' | '{' | '}')))
        .map(|other| {
            format!(
                "{other:?} is not part of a machine identifier: letters, digits, '-', '_', ':', '.', '{{', '}}'"
            )
        })
}

/// The code that carries `claims`, signed with `key`.
pub fn issue_code(claims: &ActivationClaims, key: &SigningKey) -> String {
    let payload = payload_of(claims);
    let signature = key.sign(&signed_message(&payload));
    let mut bytes = payload;
    bytes.extend_from_slice(&signature.to_bytes());
    format!("{CODE_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The claims of `code` if `key` signed them (blanks around the code are ignored).
pub fn read_code(code: &str, key: &VerifyingKey) -> Result<ActivationClaims, CodeError> {
    let code = code.trim();
    if code.len() > CODE_MAX_CHARS {
        return Err(CodeError::Damaged);
    }
    let encoded = code.strip_prefix(CODE_PREFIX).ok_or(CodeError::NotACode)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| CodeError::Damaged)?;
    let split = bytes
        .len()
        .checked_sub(ed25519_dalek::SIGNATURE_LENGTH)
        .ok_or(CodeError::Damaged)?;
    let (payload, signature) = bytes.split_at(split);
    let signature = Signature::from_bytes(signature.try_into().map_err(|_| CodeError::Damaged)?);
    key.verify_strict(&signed_message(payload), &signature)
        .map_err(|_| CodeError::BadSignature)?;
    claims_of(payload).ok_or(CodeError::Damaged)
}

/// The claims of `code` if `key` signed them for this serial and this machine.
pub fn check_code(
    code: &str,
    key: &VerifyingKey,
    serial: &str,
    machine_id: &str,
) -> Result<ActivationClaims, CodeError> {
    let claims = read_code(code, key)?;
    if claims.serial != serial {
        return Err(CodeError::OtherSerial(claims.serial));
    }
    if claims.machine_id != machine_id {
        return Err(CodeError::OtherMachine(claims.machine_id));
    }
    Ok(claims)
}

fn payload_of(claims: &ActivationClaims) -> Vec<u8> {
    [
        claims.serial.as_str(),
        claims.product_line.as_str(),
        claims.machine_id.as_str(),
        claims.highest_version.as_str(),
        &claims.issued_at.as_second().to_string(),
    ]
    .join("\n")
    .into_bytes()
}

fn claims_of(payload: &[u8]) -> Option<ActivationClaims> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut lines = text.split('\n');
    let mut next = || lines.next().map(str::to_string);
    let claims = ActivationClaims {
        serial: next()?,
        product_line: next()?,
        machine_id: next()?,
        highest_version: next()?,
        issued_at: Timestamp::from_second(next()?.parse().ok()?).ok()?,
    };
    lines.next().is_none().then_some(claims)
}

fn signed_message(payload: &[u8]) -> Vec<u8> {
    let mut message = SIGNED_LABEL.to_vec();
    message.extend_from_slice(payload);
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn claims() -> ActivationClaims {
        ActivationClaims {
            serial: "OLC-00042".into(),
            product_line: "ol-connect".into(),
            machine_id: "4C4C4544-0042-3510-8052-B4C04F4E3332".into(),
            highest_version: "2026.1".into(),
            issued_at: "2026-12-06T10:00:00Z".parse().expect("an instant"),
        }
    }

    #[test]
    fn a_code_carries_its_claims_and_is_one_copyable_word() {
        let code = issue_code(&claims(), &key(1));
        assert!(code.starts_with(CODE_PREFIX));
        assert!(
            code[CODE_PREFIX.len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{code}"
        );
        assert!(code.len() < 250, "{} characters", code.len());
        assert_eq!(read_code(&code, &key(1).verifying_key()), Ok(claims()));
        assert_eq!(
            read_code(&format!("  {code}\n"), &key(1).verifying_key()),
            Ok(claims())
        );
    }

    #[test]
    fn another_key_another_machine_and_another_serial_are_refused() {
        let code = issue_code(&claims(), &key(1));
        assert_eq!(
            read_code(&code, &key(2).verifying_key()),
            Err(CodeError::BadSignature)
        );
        let public = key(1).verifying_key();
        assert!(matches!(
            check_code(&code, &public, "OLC-00043", &claims().machine_id),
            Err(CodeError::OtherSerial(_))
        ));
        assert!(matches!(
            check_code(
                &code,
                &public,
                "OLC-00042",
                "4C4C4544-0042-3510-8052-B4C04F4E3333"
            ),
            Err(CodeError::OtherMachine(_))
        ));
        assert_eq!(
            check_code(&code, &public, "OLC-00042", &claims().machine_id),
            Ok(claims())
        );
        assert_eq!(read_code("hello", &public), Err(CodeError::NotACode));
        assert_eq!(read_code("CDA1.", &public), Err(CodeError::Damaged));
        assert_eq!(read_code("CDA1.@@@", &public), Err(CodeError::Damaged));
    }

    #[test]
    fn machine_identifiers_are_checked() {
        assert_eq!(
            machine_id_problem("4C4C4544-0042-3510-8052-B4C04F4E3332"),
            None
        );
        assert_eq!(
            machine_id_problem("{6F9619FF-8B86-D011-B42D-00C04FC964FF}"),
            None
        );
        assert_eq!(machine_id_problem("00:1A:2B:3C:4D:5E"), None);
        assert_eq!(machine_id_problem(""), Some("required".into()));
        assert!(machine_id_problem("short").is_some());
        assert!(machine_id_problem("has a space inside").is_some());
        assert!(machine_id_problem(&"A".repeat(129)).is_some());
    }

    fn text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9.:_-]{1,40}"
    }

    proptest! {
        /// A code signed for one machine or serial never passes for another, and any change
        /// to any character of it is refused.
        #[test]
        fn a_code_verifies_only_for_its_own_serial_and_machine(
            serial in text(),
            machine_id in text(),
            other_serial in text(),
            other_machine in text(),
            seed in 1u8..=255,
            seconds in 0i64..4_000_000_000,
            position in 0usize..1_000,
            replacement in "[A-Za-z0-9_-]",
        ) {
            let claims = ActivationClaims {
                serial: serial.clone(),
                product_line: "ol-connect".into(),
                machine_id: machine_id.clone(),
                highest_version: "2026.1".into(),
                issued_at: Timestamp::from_second(seconds).expect("in range"),
            };
            let key = key(seed);
            let public = key.verifying_key();
            let code = issue_code(&claims, &key);
            prop_assert_eq!(check_code(&code, &public, &serial, &machine_id), Ok(claims));
            if other_serial != serial {
                prop_assert!(check_code(&code, &public, &other_serial, &machine_id).is_err());
            }
            if other_machine != machine_id {
                prop_assert!(check_code(&code, &public, &serial, &other_machine).is_err());
            }
            let at = CODE_PREFIX.len() + position % (code.len() - CODE_PREFIX.len());
            if code[at..=at] != replacement {
                let mut tampered = code.clone();
                tampered.replace_range(at..=at, &replacement);
                prop_assert!(read_code(&tampered, &public).is_err(), "{tampered}");
            }
        }
    }
}
