//! Signing in: passwords (Argon2id), new secrets for sessions and API tokens, and the
//! throttling of wrong passwords per account and per client address
//! ([`caredesk_domain::sign_in`]), kept in the database so that every instance counts the
//! same failures.

use std::net::IpAddr;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use caredesk_domain::sign_in::{ALERTS_PER_HOUR, Alert, Attempt, SignInBurst, retry_after_seconds};
use caredesk_store::{SessionOrigin, SessionOwner, StoreError};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::{Desk, DeskError};

/// A PHC string of Argon2id with the library's default (OWASP-recommended) parameters.
pub fn hash_password(password: &str) -> Result<String, DeskError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(DeskError::unexpected)
}

/// Whether `password` matches the stored PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Argon2 spends about 19 MiB and tens of milliseconds of CPU per password on purpose: at
/// most this many run at once, off the async threads, and a flood of sign-ins queues.
static PASSWORD_WORK: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

async fn off_the_async_threads<T: Send + 'static>(
    task: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DeskError> {
    let _permit = PASSWORD_WORK
        .acquire()
        .await
        .map_err(DeskError::unexpected)?;
    tokio::task::spawn_blocking(task)
        .await
        .map_err(DeskError::unexpected)
}

pub async fn hash_password_off_thread(password: String) -> Result<String, DeskError> {
    off_the_async_threads(move || hash_password(&password)).await?
}

pub async fn verify_password_off_thread(password: String, hash: String) -> Result<bool, DeskError> {
    off_the_async_threads(move || verify_password(&password, &hash)).await
}

/// Checked against when the e-mail is unknown, so a wrong address takes as long to refuse
/// as a wrong password and response times reveal nothing.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("no one has this password").unwrap_or_default());

/// Spends the time of a password check, as for a real one.
pub async fn waste_a_password_check(password: String) -> Result<(), DeskError> {
    off_the_async_threads(move || {
        let _ = verify_password(&password, &DUMMY_HASH);
    })
    .await
}

/// A new secret for a session or an API token: 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!(
        "cd_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Whose e-mail and password these are: an active staff member or a customer contact with a
/// password. Anything else is `WrongCredentials`, after as long as a real check takes. Too
/// many failures for this e-mail or from this client address are `Throttled` before any
/// check: the same answer whether the account exists or not.
pub async fn check_credentials(
    desk: &Desk,
    email: &str,
    password: String,
    client: Option<IpAddr>,
) -> Result<SessionOwner, DeskError> {
    let keys = ThrottleKeys::of(email, client);
    throttled(
        desk,
        &keys,
        Some(email),
        password_owner(desk, email, password),
    )
    .await
}

/// Runs `check` (a password check) unless too many failed for the account or from the
/// client's address; counts it, tells the administrators of a burst (naming the account
/// when `email` is one of the desk's), and forgives the failures once it succeeds.
/// Throttled before any check: the same answer whether the account exists or not.
pub(crate) async fn throttled<T>(
    desk: &Desk,
    keys: &ThrottleKeys,
    email: Option<&str>,
    check: impl std::future::Future<Output = Result<T, DeskError>>,
) -> Result<T, DeskError> {
    let now = desk.clock.now();
    let throttle = desk.limits.sign_in;
    let attempt = desk
        .store
        .count_sign_in_attempt(&keys.account, &keys.address, |account, address| {
            throttle.attempt(account, address, now)
        })
        .await?;
    let (alert, wait) = match attempt {
        Attempt::Wait { left, alert } => (alert, Some(left)),
        Attempt::Check { alert, .. } => (alert, None),
    };
    if alert.any() {
        // The answer stands whatever becomes of the alert.
        if let Err(error) = alert_administrators(desk, email, keys, alert).await {
            tracing::error!(%error, "the administrators could not be told of a sign-in burst");
        }
    }
    if let Some(left) = wait {
        tracing::debug!(address = keys.client, retry_after = %left, "sign-in throttled");
        return Err(DeskError::Throttled {
            retry_after_seconds: retry_after_seconds(left),
        });
    }
    let checked = check.await?;
    desk.store
        .forgive_sign_in_attempt(&keys.account, &keys.address)
        .await?;
    Ok(checked)
}

/// Tells the administrators of a burst (once per account or address while it is
/// remembered: the store decides under its lock). The account is named only when it is one
/// of the desk's: an e-mail of nobody's may be a mistyped password, and is not repeated;
/// those and addresses are told a few an hour, the desk's own accounts always.
async fn alert_administrators(
    desk: &Desk,
    email: Option<&str>,
    keys: &ThrottleKeys,
    alert: Alert,
) -> Result<(), DeskError> {
    let now = desk.clock.now();
    let throttle = desk.limits.sign_in;
    let account = if let (Some(email), Some(_)) = (email, alert.account) {
        match find_owner(desk, email).await? {
            Some(SessionOwner::Staff(member)) => Some(member.email),
            Some(SessionOwner::Contact(contact)) => Some(contact.email),
            None => None,
        }
    } else {
        None
    };
    let per_hour = account.is_none().then_some(ALERTS_PER_HOUR);
    let details = SignInBurst {
        address: keys.client.clone(),
        address_failures: alert.address,
        account_failures: alert.account,
        account,
        longest_wait_minutes: throttle.longest_wait_minutes(),
        at: now,
    };
    let mut told = Vec::with_capacity(2);
    if alert.account.is_some() {
        told.push(keys.account.as_str());
    }
    if alert.address.is_some() {
        told.push(keys.address.as_str());
    }
    let told_since = now
        .checked_sub(throttle.alert_memory())
        .unwrap_or(Timestamp::MIN);
    let written = desk
        .store
        .alert_sign_in_burst(&told, &details, told_since, per_hour, now)
        .await?;
    if written {
        tracing::warn!(
            address = keys.client,
            "sign-ins throttled; administrators alerted"
        );
    }
    Ok(())
}

/// What failures are counted under: the e-mail as typed (lower-cased), and the client's
/// address, an IPv6 client's /64 network (one host holds a whole /64). The e-mail is kept as
/// its SHA-256 only: whatever was typed there (a password, a megabyte) is neither stored
/// nor limited in length.
pub(crate) struct ThrottleKeys {
    account: String,
    address: String,
    /// The address as administrators read it.
    client: String,
}

impl ThrottleKeys {
    fn of(email: &str, client: Option<IpAddr>) -> ThrottleKeys {
        Self::named("account", email, client)
    }

    /// Failures counted under `kind` and what was typed to name the account (a customer
    /// number at the activation manager), and the client's address as for every sign-in.
    pub(crate) fn named(kind: &str, typed: &str, client: Option<IpAddr>) -> ThrottleKeys {
        let typed = Sha256::digest(typed.trim().to_lowercase().as_bytes());
        let client = match client {
            Some(IpAddr::V4(address)) => address.to_string(),
            Some(IpAddr::V6(address)) => {
                let network = u128::from(address) & !((1_u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
            None => "unknown".to_string(),
        };
        ThrottleKeys {
            account: format!("{kind}:{}", hex::encode(typed)),
            address: format!("address:{client}"),
            client,
        }
    }
}

async fn password_owner(
    desk: &Desk,
    email: &str,
    password: String,
) -> Result<SessionOwner, DeskError> {
    let owner = find_owner(desk, email).await?;
    let hash = match &owner {
        Some(SessionOwner::Staff(member)) if member.active => member.password_hash.clone(),
        Some(SessionOwner::Contact(contact)) => contact.password_hash.clone(),
        _ => None,
    };
    let Some((owner, hash)) = owner.zip(hash) else {
        waste_a_password_check(password).await?;
        return Err(DeskError::WrongCredentials);
    };
    if verify_password_off_thread(password, hash).await? {
        Ok(owner)
    } else {
        Err(DeskError::WrongCredentials)
    }
}

async fn find_owner(desk: &Desk, email: &str) -> Result<Option<SessionOwner>, DeskError> {
    match desk.store.staff_by_email(email).await {
        Ok(member) => return Ok(Some(SessionOwner::Staff(member))),
        Err(StoreError::NotFound) => {}
        Err(other) => return Err(DeskError::Store(other)),
    }
    match desk.store.contact_by_email(email).await {
        Ok(contact) => Ok(Some(SessionOwner::Contact(contact))),
        Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(DeskError::Store(other)),
    }
}

/// The longest User-Agent kept with a session: enough to recognise a browser.
const CLIENT_MAX_CHARS: usize = 200;

/// Opens a session for `owner` lasting `session_hours`, noting where it was opened from:
/// its secret and when it ends. Every sign-in gets a new secret.
pub async fn open_session(
    desk: &Desk,
    owner: &SessionOwner,
    address: Option<IpAddr>,
    client: &str,
) -> Result<(String, Timestamp), DeskError> {
    let origin = SessionOrigin {
        address: address
            .map(|address| address.to_string())
            .unwrap_or_default(),
        client: client
            .chars()
            .filter(|character| !character.is_control())
            .take(CLIENT_MAX_CHARS)
            .collect(),
    };
    let now = desk.clock.now();
    let expires_at = now
        .checked_add(SignedDuration::from_hours(desk.limits.session_hours))
        .map_err(DeskError::unexpected)?;
    let token = new_token();
    desk.store
        .open_session(owner, &token, &origin, now, expires_at)
        .await?;
    Ok((token, expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_under_a_digest_and_an_ipv6_network() {
        let keys = ThrottleKeys::of(" Ana@Example.com ", "192.0.2.7".parse().ok());
        assert_eq!(
            keys.account,
            ThrottleKeys::of("ana@example.com", None).account
        );
        assert!(
            !keys.account.contains("ana"),
            "the e-mail is not kept as typed"
        );
        assert_eq!(keys.account.len(), "account:".len() + 64);
        assert_eq!(keys.address, "address:192.0.2.7");
        assert_eq!(keys.client, "192.0.2.7");
        let first = ThrottleKeys::of("x", "2001:db8:1:2:aaaa::1".parse().ok());
        let second = ThrottleKeys::of("x", "2001:db8:1:2:bbbb::9".parse().ok());
        assert_eq!(first.address, second.address);
        assert_eq!(first.address, "address:2001:db8:1:2::/64");
    }
}
