//! Who is calling: bearer tokens and the signed-in principal (passwords and sign-in are the
//! desk's: [`caredesk_desk::sessions`]).
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
use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use caredesk_desk::Caller;
use caredesk_domain::ticket::{Actor, Role};
use caredesk_store::{Contact, Scope, SessionOwner, StaffMember, StoreError};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// The address a request came from, when the server was started with it: the peer's, or,
/// from a trusted proxy, the client's as `X-Forwarded-For` says (see `proxies`).
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(peer) = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
        else {
            return Ok(ClientAddress(None));
        };
        let forwarded_for: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        Ok(ClientAddress(Some(
            state.trusted_proxies.client(peer, &forwarded_for),
        )))
    }
}

/// What the client said it is, for its holder to recognise the session by.
pub fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
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
        self.caller().actor()
    }

    /// The caller as the desk's use cases know it.
    pub fn caller(&self) -> Caller {
        match self {
            Principal::Staff(member) => Caller::Staff {
                id: member.id,
                role: member.role,
            },
            Principal::Contact(contact) => Caller::Contact {
                id: contact.id,
                customer_id: contact.customer_id,
            },
        }
    }

    /// Which tickets this caller may see.
    pub fn scope(&self) -> Scope {
        self.caller().scope()
    }

    /// A stable name for idempotency keys and audit: "staff:7", "contact:3".
    pub fn key(&self) -> String {
        self.caller().key()
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Principal::Staff(_))
    }

    pub fn require_staff(&self) -> Result<&StaffMember, ApiError> {
        match self {
            Principal::Staff(member) => Ok(member),
            Principal::Contact(_) => Err(ApiError::Forbidden("this is for staff only".to_string())),
        }
    }

    pub fn require_role(&self, roles: &[Role]) -> Result<&StaffMember, ApiError> {
        self.caller().require_role(roles)?;
        self.require_staff()
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
        .split_once(' ')
        // The scheme is case-insensitive (RFC 9110 §11.1).
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
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

/// Where signing in is optional (the resource center): no `Authorization` header is nobody;
/// a header with a token that is not valid is refused, never read as nobody.
impl OptionalFromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(None);
        }
        let token = bearer_token(parts).ok_or(ApiError::Unauthenticated)?;
        principal_of_token(state, token).await.map(Some)
    }
}

/// Whom a secret names: a staff API token or an open session (browser sessions included).
pub async fn principal_of_token(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let now = state.clock.now();
    if let Some(principal) = state.principals.get(token, now) {
        return Ok(principal);
    }
    let (principal, expires_at) = match state.store.token_holder(token, now).await {
        Ok((member, expires_at)) => (Principal::Staff(member), expires_at),
        Err(StoreError::NotFound) => match state.store.session_holder(token, now).await {
            Ok((owner, expires_at)) => (owner.into(), Some(expires_at)),
            Err(StoreError::NotFound) => return Err(ApiError::Unauthenticated),
            Err(other) => return Err(other.into()),
        },
        Err(other) => return Err(other.into()),
    };
    // Remembered for a few seconds, never past the secret's own expiry.
    let mut remember_for = SignedDuration::from_secs(i64::from(state.limits.auth_cache_seconds));
    if let Some(expires_at) = expires_at {
        remember_for = remember_for.min(now.duration_until(expires_at));
    }
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

    /// Forgets every token: one was revoked or a session ended, and the cache is keyed by
    /// secrets this instance does not know.
    pub fn forget_all(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
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
