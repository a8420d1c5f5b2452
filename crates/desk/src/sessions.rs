//! Signing in: passwords (Argon2id), new secrets for sessions and API tokens, and the
//! throttling of wrong passwords per account and per client address
//! ([`caredesk_domain::sign_in`]), kept in the database so that every instance counts the
//! same failures.

use std::net::IpAddr;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use caredesk_domain::sign_in::{Attempt, retry_after_seconds};
use caredesk_store::{SessionOwner, StoreError};
use jiff::{SignedDuration, Timestamp};

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
    let account_key = format!("account:{}", email.trim().to_lowercase());
    let address_key = match client {
        Some(address) => format!("address:{address}"),
        None => "address:unknown".to_string(),
    };
    let now = desk.clock.now();
    let throttle = desk.limits.sign_in;
    let forget_before = now
        .checked_sub(throttle.memory())
        .map_err(DeskError::unexpected)?;
    let attempt = desk
        .store
        .count_sign_in_attempt(
            &account_key,
            &address_key,
            forget_before,
            |account, address| throttle.attempt(account, address, now),
        )
        .await?;
    if let Attempt::Wait(wait) = attempt {
        tracing::warn!(%address_key, retry_after = %wait, "sign-in throttled");
        return Err(DeskError::Throttled {
            retry_after_seconds: retry_after_seconds(wait),
        });
    }
    let owner = password_owner(desk, email, password).await?;
    desk.store
        .forgive_sign_in_attempt(&account_key, &address_key)
        .await?;
    Ok(owner)
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

/// Opens a session for `owner` lasting `session_hours`: its secret and when it ends.
pub async fn open_session(
    desk: &Desk,
    owner: &SessionOwner,
) -> Result<(String, Timestamp), DeskError> {
    let now = desk.clock.now();
    let expires_at = now
        .checked_add(SignedDuration::from_hours(desk.limits.session_hours))
        .map_err(DeskError::unexpected)?;
    let token = new_token();
    desk.store
        .open_session(owner, &token, now, expires_at)
        .await?;
    Ok((token, expires_at))
}
