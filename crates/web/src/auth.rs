//! Who is calling: passwords (Argon2id), bearer tokens, and the signed-in principal.
//!
//! A request carries `Authorization: Bearer <token>`: either a staff API token issued by an
//! administrator, or the token of a session opened by signing in with e-mail and password.
//! Both are long random secrets of which only a SHA-256 hash is stored.
//!
//! Whom a token names is remembered for a few seconds (`auth_cache_seconds`), so that a
//! busy integration does not cost a database query per request: signing out forgets at
//! once; a token revoked or a session closed elsewhere (another instance, the command
//! line) stops working within that time.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use caredesk_domain::sign_in::{Attempt, retry_after_seconds};
use caredesk_domain::ticket::{Actor, Role};
use caredesk_store::{Contact, Scope, SessionOwner, StaffMember, StoreError};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// A PHC string of Argon2id with the library's default (OWASP-recommended) parameters.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(ApiError::unexpected)
}

/// Argon2 spends about 19 MiB and tens of milliseconds of CPU per password on purpose: at
/// most this many run at once, off the async threads, and a flood of sign-ins queues.
static PASSWORD_WORK: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

async fn password_work<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = PASSWORD_WORK
        .acquire()
        .await
        .map_err(ApiError::unexpected)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::unexpected)
}

pub async fn hash_password_off_thread(password: String) -> Result<String, ApiError> {
    password_work(move || hash_password(&password)).await?
}

pub async fn verify_password_off_thread(password: String, hash: String) -> Result<bool, ApiError> {
    password_work(move || verify_password(&password, &hash)).await
}

/// Whether `password` matches the stored PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Checked against when the e-mail is unknown, so a wrong address takes as long to refuse
/// as a wrong password and response times reveal nothing.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("no one has this password").unwrap_or_default());

/// Spends the time of a password check, as for a real one.
pub async fn waste_a_password_check(password: String) -> Result<(), ApiError> {
    password_work(move || {
        let _ = verify_password(&password, &DUMMY_HASH);
    })
    .await
}

/// Whose e-mail and password these are: an active staff member or a customer contact with a
/// password. Anything else is `Unauthenticated`, after as long as a real check takes. Too
/// many failures for this e-mail or from this client address are `Throttled` before any
/// check (see [`caredesk_domain::sign_in`]): the same answer whether the account exists or
/// not.
pub async fn check_credentials(
    state: &AppState,
    email: &str,
    password: String,
    client: Option<IpAddr>,
) -> Result<SessionOwner, ApiError> {
    let account_key = format!("account:{}", email.trim().to_lowercase());
    let address_key = match client {
        Some(address) => format!("address:{address}"),
        None => "address:unknown".to_string(),
    };
    let now = state.clock.now();
    let throttle = state.limits.sign_in;
    let forget_before = now
        .checked_sub(throttle.memory())
        .map_err(ApiError::unexpected)?;
    let attempt = state
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
        return Err(ApiError::Throttled {
            retry_after_seconds: retry_after_seconds(wait),
        });
    }
    let owner = password_owner(state, email, password).await?;
    state
        .store
        .forgive_sign_in_attempt(&account_key, &address_key)
        .await?;
    Ok(owner)
}

async fn password_owner(
    state: &AppState,
    email: &str,
    password: String,
) -> Result<SessionOwner, ApiError> {
    let owner = find_owner(state, email).await?;
    let hash = match &owner {
        Some(SessionOwner::Staff(member)) if member.active => member.password_hash.clone(),
        Some(SessionOwner::Contact(contact)) => contact.password_hash.clone(),
        _ => None,
    };
    let Some((owner, hash)) = owner.zip(hash) else {
        waste_a_password_check(password).await?;
        return Err(ApiError::Unauthenticated);
    };
    if verify_password_off_thread(password, hash).await? {
        Ok(owner)
    } else {
        Err(ApiError::Unauthenticated)
    }
}

/// The address a request came from, when the server was started with it (behind a proxy,
/// the proxy's address: its clients share one allowance of failed sign-ins).
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

async fn find_owner(state: &AppState, email: &str) -> Result<Option<SessionOwner>, ApiError> {
    match state.store.staff_by_email(email).await {
        Ok(member) => return Ok(Some(SessionOwner::Staff(member))),
        Err(StoreError::NotFound) => {}
        Err(other) => return Err(other.into()),
    }
    match state.store.contact_by_email(email).await {
        Ok(contact) => Ok(Some(SessionOwner::Contact(contact))),
        Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Opens a session for `owner` lasting `session_hours`: its secret and when it ends.
pub async fn open_session(
    state: &AppState,
    owner: &SessionOwner,
) -> Result<(String, Timestamp), ApiError> {
    let now = state.clock.now();
    let expires_at = now
        .checked_add(SignedDuration::from_hours(state.limits.session_hours))
        .map_err(ApiError::unexpected)?;
    let token = new_token();
    state
        .store
        .open_session(owner, &token, now, expires_at)
        .await?;
    Ok((token, expires_at))
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

/// The caller of an authenticated request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Staff(StaffMember),
    Contact(Contact),
}

impl Principal {
    pub fn role(&self) -> Role {
        match self {
            Principal::Staff(member) => member.role,
            Principal::Contact(_) => Role::CustomerContact,
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Principal::Staff(member) => Actor::Staff {
                id: member.id,
                role: member.role,
            },
            Principal::Contact(contact) => Actor::Contact { id: contact.id },
        }
    }

    /// Which tickets this caller may see.
    pub fn scope(&self) -> Scope {
        match self {
            Principal::Staff(_) => Scope::All,
            Principal::Contact(contact) => Scope::Customer(contact.customer_id),
        }
    }

    /// A stable name for idempotency keys and audit: "staff:7", "contact:3".
    pub fn key(&self) -> String {
        match self {
            Principal::Staff(member) => format!("staff:{}", member.id),
            Principal::Contact(contact) => format!("contact:{}", contact.id),
        }
    }

    pub fn require_staff(&self) -> Result<&StaffMember, ApiError> {
        match self {
            Principal::Staff(member) => Ok(member),
            Principal::Contact(_) => Err(ApiError::Forbidden("this is for staff only".to_string())),
        }
    }

    pub fn require_role(&self, roles: &[Role]) -> Result<&StaffMember, ApiError> {
        let member = self.require_staff()?;
        if roles.contains(&member.role) {
            Ok(member)
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the role {}",
                roles
                    .iter()
                    .map(Role::as_str)
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }
}

impl From<SessionOwner> for Principal {
    fn from(owner: SessionOwner) -> Self {
        match owner {
            SessionOwner::Staff(member) => Principal::Staff(member),
            SessionOwner::Contact(contact) => Principal::Contact(contact),
        }
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthenticated)?;
        principal_of_token(state, token).await
    }
}

/// Whom a secret names: a staff API token or an open session (browser sessions included).
pub async fn principal_of_token(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let now = state.clock.now();
    if let Some(principal) = state.principals.get(token, now) {
        return Ok(principal);
    }
    let principal = match state.store.staff_by_token(token).await {
        Ok(member) => Principal::Staff(member),
        Err(StoreError::NotFound) => match state.store.session_owner(token, now).await {
            Ok(owner) => owner.into(),
            Err(StoreError::NotFound) => return Err(ApiError::Unauthenticated),
            Err(other) => return Err(other.into()),
        },
        Err(other) => return Err(other.into()),
    };
    let remember_for = SignedDuration::from_secs(i64::from(state.limits.auth_cache_seconds));
    state
        .principals
        .put(token, principal.clone(), now, remember_for);
    Ok(principal)
}

/// Whom recently seen tokens name, each until a deadline on the application's clock. Keyed
/// by the token's SHA-256, so no secret stays in memory after its request.
#[derive(Clone, Default)]
pub struct PrincipalCache {
    entries: Arc<Mutex<HashMap<TokenDigest, (Principal, Timestamp)>>>,
}

type TokenDigest = [u8; 32];

/// Past this many tokens, the expired ones go; if all are fresh, all go.
const CACHED_TOKENS: usize = 10_000;

impl PrincipalCache {
    fn get(&self, token: &str, now: Timestamp) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        match entries.get(&digest(token)) {
            Some((principal, until)) if now < *until => Some(principal.clone()),
            _ => None,
        }
    }

    fn put(&self, token: &str, principal: Principal, now: Timestamp, remember_for: SignedDuration) {
        if remember_for.is_zero() {
            return;
        }
        let Ok(until) = now.checked_add(remember_for) else {
            return;
        };
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHED_TOKENS {
                entries.retain(|_, (_, until)| now < *until);
                if entries.len() >= CACHED_TOKENS {
                    entries.clear();
                }
            }
            entries.insert(digest(token), (principal, until));
        }
    }

    /// Forgets a token at once (its session was closed here).
    pub fn forget(&self, token: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&digest(token));
        }
    }
}

fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn someone() -> Principal {
        Principal::Contact(Contact {
            id: 3,
            customer_id: 1,
            name: "Ana".into(),
            email: "ana@example.com".into(),
            phone: String::new(),
            language: "en".into(),
            designated: true,
            password_hash: None,
        })
    }

    #[test]
    fn a_token_is_remembered_until_its_deadline_and_forgotten_on_sign_out() {
        let cache = PrincipalCache::default();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let five_seconds = SignedDuration::from_secs(5);
        cache.put("cd_secret", someone(), now, five_seconds);
        assert_eq!(cache.get("cd_secret", now), Some(someone()));
        assert_eq!(cache.get("cd_other", now), None);
        assert_eq!(cache.get("cd_secret", now + five_seconds), None);
        cache.forget("cd_secret");
        assert_eq!(cache.get("cd_secret", now), None);
    }

    #[test]
    fn nothing_is_remembered_when_the_operator_turns_it_off() {
        let cache = PrincipalCache::default();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        cache.put("cd_secret", someone(), now, SignedDuration::ZERO);
        assert_eq!(cache.get("cd_secret", now), None);
    }
}
