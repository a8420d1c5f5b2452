//! Product activation (POLICY.md §9): administrators issue a customer's one-time activation
//! password, which the customer uses at the activation manager to activate its registered
//! products.

use caredesk_domain::ticket::Role;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::sessions::hash_password_off_thread;
use crate::{Caller, Desk, DeskError};

/// Who may issue one-time activation passwords.
pub const ISSUERS: [Role; 1] = [Role::Admin];

/// The letters a one-time password is made of: Crockford's base 32, without I, L, O and
/// U, which are misread when a password is read out on the phone or copied from paper
/// (and read as 1, 1 and 0 when typed).
const PASSWORD_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A one-time activation password as it is told once, to be given to the customer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssuedPassword {
    pub customer_id: i64,
    /// Shown this once; the desk keeps only its hash.
    pub password: String,
    pub expires_at: Timestamp,
}

/// Issues customer `customer_id` a new one-time activation password, valid for the
/// policy's `activation.password_valid_days`; any earlier one stops working.
pub async fn issue_password(
    desk: &Desk,
    caller: &Caller,
    customer_id: i64,
) -> Result<IssuedPassword, DeskError> {
    caller.require_role(&ISSUERS)?;
    desk.store.customer(customer_id).await?;
    let password = new_password();
    let hash = hash_password_off_thread(normalized(&password)).await?;
    let now = desk.clock.now();
    let days = i64::from(desk.policy.activation.password_valid_days);
    let expires_at = now
        .checked_add(SignedDuration::from_hours(24 * days))
        .map_err(DeskError::unexpected)?;
    desk.audited_store(caller)
        .issue_activation_password(customer_id, &hash, now, expires_at)
        .await?;
    Ok(IssuedPassword {
        customer_id,
        password,
        expires_at,
    })
}

/// Sixteen letters of [`PASSWORD_ALPHABET`] (80 random bits) in four groups of four.
fn new_password() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    let letters: Vec<char> = bytes
        .iter()
        .map(|byte| char::from(PASSWORD_ALPHABET[usize::from(byte % 32)]))
        .collect();
    letters
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A password as typed, the way it is hashed: without blanks and dashes, in upper case,
/// O read as 0 and I and L as 1.
pub(crate) fn normalized(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_four_groups_of_four_unambiguous_letters() {
        let password = new_password();
        let groups: Vec<&str> = password.split('-').collect();
        assert_eq!(groups.len(), 4, "{password}");
        assert!(groups.iter().all(|group| group.len() == 4), "{password}");
        assert!(
            password
                .chars()
                .filter(|c| *c != '-')
                .all(|c| PASSWORD_ALPHABET.contains(&(c as u8))),
            "{password}"
        );
        assert_ne!(new_password(), password);
        assert_eq!(normalized(" k7qm-3XTR wp9D-HV2A "), "K7QM3XTRWP9DHV2A");
        assert_eq!(normalized("O0Il-1"), "00111");
    }
}
