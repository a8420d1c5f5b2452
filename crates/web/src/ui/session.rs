//! Who is looking at a page: the session cookie, the CSRF token every form carries, the
//! viewer's language and time zone; signing in and out; switching language.
//!
//! A browser session is the same session the API opens (a random secret of which the store
//! keeps only a hash), carried in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` when the
//! desk is served over HTTPS). Every form posts a token derived from that secret; a form
//! sent from another site has neither the cookie (SameSite) nor the token. Before signing
//! in there is no session, so the sign-in form is protected by a double-submit cookie.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use caredesk_desk::sessions::{check_credentials, new_token, open_session};
use caredesk_desk::{DeskError, access};
use caredesk_store::StoreError;
use jiff::tz::TimeZone;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::i18n::{self, Catalog};
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::{ClientAddress, Principal, principal_of_token, user_agent};
use crate::edge::PageForm;
use crate::error::ApiError;

const SESSION_COOKIE: &str = "caredesk_session";
const LANGUAGE_COOKIE: &str = "caredesk_language";
const SIGN_IN_COOKIE: &str = "caredesk_sign_in";
/// The session of a customer signed in at the activation manager with its one-time
/// password (`super::activate`).
pub(super) const ACTIVATION_COOKIE: &str = "caredesk_activation";

/// The signed-in person looking at a page.
pub struct Viewer {
    pub principal: Principal,
    /// Proves a form was sent from one of our pages.
    pub csrf: String,
    pub catalog: &'static Catalog,
    pub time_zone: TimeZone,
    /// The page asked for, to come back to after switching language.
    pub path: String,
    /// The desk's clock when the request came in.
    pub now: jiff::Timestamp,
    pub(super) secret: String,
}

impl Viewer {
    pub fn page(&self, title: String) -> Page {
        Page {
            title,
            catalog: self.catalog,
            csrf: self.csrf.clone(),
            viewer: Some(self.name().to_string()),
            role: Some(self.principal.role()),
            path: self.path.clone(),
            now: self.now.to_string(),
        }
    }

    pub fn name(&self) -> &str {
        match &self.principal {
            Principal::Staff(member) => &member.name,
            Principal::Contact(contact) => &contact.name,
        }
    }

    /// The text of `key` in the viewer's language (the switch's choice, else their own).
    pub fn t(&self, key: &str) -> &'static str {
        self.catalog.get(key)
    }

    /// Refuses a form that did not come from one of our pages.
    pub fn check_csrf(&self, sent: &str) -> Result<(), UiError> {
        if constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(UiError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = UiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let back_to = parts
            .uri
            .path_and_query()
            .map(|path| path.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        // A part of a page refreshing itself: the whole page goes to the sign-in form.
        let partial = parts.headers.contains_key("hx-request");
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(UiError::SignIn { back_to, partial });
        };
        let principal = match principal_of_token(state, &secret).await {
            Ok(principal) => principal,
            Err(ApiError::Unauthenticated) => {
                return Err(UiError::SignIn { back_to, partial });
            }
            Err(other) => return Err(other.into()),
        };
        let own_language = match &principal {
            Principal::Staff(member) => member.languages.first().cloned().unwrap_or_default(),
            Principal::Contact(contact) => contact.language.clone(),
        };
        let language = chosen_language(&parts.headers).unwrap_or(own_language);
        let region = match &principal {
            Principal::Staff(member) => member.region.clone(),
            Principal::Contact(contact) => match state.store.customer(contact.customer_id).await {
                Ok(customer) => Some(customer.region),
                Err(StoreError::NotFound) => None,
                Err(other) => return Err(ApiError::from(other).into()),
            },
        };
        let policy = state.policy();
        let time_zone = region
            .and_then(|region| policy.regions.get(&region))
            .map_or(TimeZone::UTC, |region| region.time_zone.clone());
        Ok(Viewer {
            now: state.clock.now(),
            path: back_to,
            csrf: csrf_of(&secret),
            catalog: i18n::catalog(&language),
            time_zone,
            principal,
            secret,
        })
    }
}

/// The token forms carry: derived from the session's secret, so it needs no storage and
/// changes with every session, without revealing the secret.
pub(super) fn csrf_of(secret: &str) -> String {
    let digest = Sha256::digest(format!("caredesk csrf\0{secret}").as_bytes());
    hex::encode(&digest[..16])
}

pub(super) fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// The value of one cookie of the request.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

fn chosen_language(headers: &HeaderMap) -> Option<String> {
    cookie(headers, LANGUAGE_COOKIE).filter(|language| i18n::is_supported(language))
}

/// A language for someone not signed in: the switch's choice, else the browser's first
/// language the pages speak, else English.
pub(super) fn visitor_catalog(headers: &HeaderMap) -> &'static Catalog {
    if let Some(language) = chosen_language(headers) {
        return i18n::catalog(&language);
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let first = accepted
        .split(',')
        .filter_map(|entry| entry.split(';').next())
        .map(|tag| {
            tag.trim()
                .split('-')
                .next()
                .unwrap_or_default()
                .to_lowercase()
        })
        .find(|language| i18n::is_supported(language))
        .unwrap_or_else(|| "en".into());
    i18n::catalog(&first)
}

pub(super) fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age_seconds: i64,
) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{}",
        if state.secure_cookies { "; Secure" } else { "" }
    )
}

/// Only our own pages are places to return to after signing in.
fn safe_return(back_to: Option<&str>) -> Option<&str> {
    back_to.filter(|path| {
        let mut characters = path.chars();
        // A path of ours: "/" then not a second slash (which browsers read as another host,
        // as they do a backslash), and no space or control character (which browsers drop
        // before reading the address: "/\t/evil.example" is "//evil.example").
        characters.next() == Some('/')
            && !matches!(characters.next(), Some('/' | '\\'))
            && !path
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    })
}

#[derive(askama::Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    page: Page,
    email: &'a str,
    back_to: &'a str,
    /// Why the last try was refused.
    alert: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

pub async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<SignInQuery>,
) -> Result<Response, UiError> {
    let catalog = visitor_catalog(&headers);
    let token = new_token();
    let back_to = safe_return(query.next.as_deref()).unwrap_or("");
    // Switching language keeps where the visitor was going.
    let here = if back_to.is_empty() {
        "/sign-in".to_string()
    } else {
        let next: String = form_urlencoded::byte_serialize(back_to.as_bytes()).collect();
        format!("/sign-in?next={next}")
    };
    let page = SignInPage {
        page: Page::public(
            catalog.get("sign_in.title").to_string(),
            catalog,
            token.clone(),
            &here,
        ),
        email: "",
        back_to,
        alert: None,
    };
    let mut response = render(&page)?.into_response();
    set_header_cookie(
        &mut response,
        &set_cookie(&state, SIGN_IN_COOKIE, &token, 3600),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    PageForm(form): PageForm<SignInForm>,
) -> Result<Response, UiError> {
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Err(UiError::Forbidden);
    }
    let catalog = visitor_catalog(&headers);
    let refused = |alert: String, status: StatusCode| -> Result<Response, UiError> {
        let page = SignInPage {
            page: Page::public(
                catalog.get("sign_in.title").to_string(),
                catalog,
                form.csrf.clone(),
                "/sign-in",
            ),
            email: form.email.trim(),
            back_to: safe_return(Some(&form.next)).unwrap_or(""),
            alert: Some(alert),
        };
        let mut response = render(&page)?.into_response();
        *response.status_mut() = status;
        Ok(response)
    };
    let desk = state.desk();
    let owner =
        match check_credentials(&desk, form.email.trim(), form.password.clone(), client).await {
            Ok(owner) => owner,
            Err(DeskError::WrongCredentials) => {
                return refused(
                    catalog.get("sign_in.refused").to_string(),
                    StatusCode::UNAUTHORIZED,
                );
            }
            Err(DeskError::Throttled {
                retry_after_seconds,
            }) => return throttled_form(catalog, retry_after_seconds, refused),
            Err(other) => return Err(ApiError::from(other).into()),
        };
    let (secret, _) = open_session(&desk, &owner, client, user_agent(&headers)).await?;
    let home = match owner {
        caredesk_store::SessionOwner::Staff(_) => "/console",
        caredesk_store::SessionOwner::Contact(_) => "/portal",
    };
    let target = safe_return(Some(&form.next)).unwrap_or(home);
    let mut response = Redirect::to(target).into_response();
    let max_age = state.limits.session_hours * 3600;
    set_header_cookie(
        &mut response,
        &set_cookie(&state, SESSION_COOKIE, &secret, max_age),
    );
    set_header_cookie(&mut response, &set_cookie(&state, SIGN_IN_COOKIE, "", 0));
    end_activation_session(&state, &headers, &mut response).await?;
    Ok(response)
}

/// Ends the activation manager session this browser holds, if any (its row and its
/// cookie): whoever signs in or out here is not taken for that customer afterwards.
async fn end_activation_session(
    state: &AppState,
    headers: &HeaderMap,
    response: &mut Response,
) -> Result<(), UiError> {
    if let Some(secret) = cookie(headers, ACTIVATION_COOKIE) {
        caredesk_desk::activation::close_manager_session(&state.desk(), &secret).await?;
        set_header_cookie(response, &set_cookie(state, ACTIVATION_COOKIE, "", 0));
    }
    Ok(())
}

/// A sign-in form refused for too many failures: shown again by `refused` with how long
/// to wait, as 429 with `Retry-After`.
pub(super) fn throttled_form(
    catalog: &Catalog,
    retry_after_seconds: u64,
    refused: impl FnOnce(String, StatusCode) -> Result<Response, UiError>,
) -> Result<Response, UiError> {
    let seconds = retry_after_seconds.to_string();
    let alert = catalog.format("sign_in.throttled", &[("seconds", &seconds)]);
    let mut response = refused(alert, StatusCode::TOO_MANY_REQUESTS)?;
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    viewer: Viewer,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    let desk = state.desk().from_address(client);
    access::sign_out(&desk, &viewer.principal.caller(), &viewer.secret).await?;
    state.principals.forget(&viewer.secret);
    let mut response = Redirect::to("/sign-in").into_response();
    set_header_cookie(&mut response, &set_cookie(&state, SESSION_COOKIE, "", 0));
    end_activation_session(&state, &headers, &mut response).await?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct LanguageForm {
    language: String,
    #[serde(default)]
    back_to: String,
    #[serde(default)]
    csrf: String,
}

/// Switches the pages' language (kept in a cookie, for a year). Open to visitors too, with
/// the token of the page the form was on: the signed-in person's, the activation manager's or the sign-in form's, so
/// that no other site can switch it.
pub async fn switch_language(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(form): PageForm<LanguageForm>,
) -> Result<Response, UiError> {
    let expected = [
        cookie(&headers, SESSION_COOKIE).map(|secret| csrf_of(&secret)),
        cookie(&headers, ACTIVATION_COOKIE).map(|secret| csrf_of(&secret)),
        cookie(&headers, SIGN_IN_COOKIE),
    ];
    let genuine = expected
        .iter()
        .flatten()
        .any(|token| !token.is_empty() && constant_time_eq(token.as_bytes(), form.csrf.as_bytes()));
    if !genuine {
        return Err(UiError::Forbidden);
    }
    if !i18n::is_supported(&form.language) {
        return Err(UiError::BadRequest(format!(
            "language: one of {}",
            i18n::LANGUAGES.map(|(code, _)| code).join(", ")
        )));
    }
    let target = safe_return(Some(&form.back_to)).unwrap_or("/");
    let mut response = Redirect::to(target).into_response();
    set_header_cookie(
        &mut response,
        &set_cookie(&state, LANGUAGE_COOKIE, &form.language, 365 * 24 * 3600),
    );
    Ok(response)
}

/// Someone on a public page (the resource center), signed in or not: for a visitor, their
/// language and the token their forms (the language switch) carry, kept in the sign-in
/// cookie, with that cookie to set when the token is new.
pub(super) fn visitor_token(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, SIGN_IN_COOKIE) {
        Some(token) => (token, None),
        None => {
            let token = new_token();
            let set = set_cookie(state, SIGN_IN_COOKIE, &token, 3600);
            (token, Some(set))
        }
    }
}

/// Refuses a visitor's form (of someone not signed in) that did not come from one of our
/// pages: its token must be the one the visitor's cookie holds.
pub(super) fn check_visitor_csrf(headers: &HeaderMap, sent: &str) -> Result<(), UiError> {
    let expected = cookie(headers, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), sent.as_bytes()) {
        return Err(UiError::Forbidden);
    }
    Ok(())
}

pub(super) fn set_header_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = axum::http::HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_paths_are_returned_to() {
        assert_eq!(
            safe_return(Some("/portal/tickets/3")),
            Some("/portal/tickets/3")
        );
        assert_eq!(safe_return(Some("//evil.example/")), None);
        assert_eq!(safe_return(Some("https://evil.example/")), None);
        assert_eq!(safe_return(Some("/\\evil.example")), None);
        assert_eq!(safe_return(Some("")), None);
        assert_eq!(safe_return(Some("/\t/evil.example")), None);
        assert_eq!(safe_return(Some("/\n/evil.example")), None);
        assert_eq!(safe_return(Some("/ /evil.example")), None);
        assert_eq!(safe_return(Some("/")), Some("/"));
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; caredesk_session=cd_abc; caredesk_language=fr"
                .parse()
                .unwrap(),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("cd_abc"));
        assert_eq!(chosen_language(&headers).as_deref(), Some("fr"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn the_csrf_token_depends_on_the_session_and_reveals_nothing_of_it() {
        let one = csrf_of("cd_one");
        assert_eq!(one, csrf_of("cd_one"));
        assert_ne!(one, csrf_of("cd_two"));
        assert!(!one.contains("cd_one"));
        assert!(constant_time_eq(
            one.as_bytes(),
            csrf_of("cd_one").as_bytes()
        ));
        assert!(!constant_time_eq(one.as_bytes(), b"short"));
    }

    #[test]
    fn a_visitor_reads_the_first_language_of_their_browser_the_pages_speak() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            "pt-BR, de-CH;q=0.8, en;q=0.5".parse().unwrap(),
        );
        assert_eq!(visitor_catalog(&headers).language, "de");
    }
}
