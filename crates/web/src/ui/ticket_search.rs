//! The console's search of tickets by their words: the subject and description, replies,
//! messages, internal notes and reasons (`caredesk_desk::ticket_search`), the latest
//! written first, each result linking to the text it was found in.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use caredesk_desk::ticket_search;
use caredesk_domain::resources::search::Fragment;
use serde::Deserialize;

use super::i18n::Catalog;
use super::session::Viewer;
use super::view;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::Principal;

/// Tickets a page shows.
const PAGE_SIZE: usize = 20;

pub fn router() -> Router<AppState> {
    Router::new().route("/console/search", get(search_page))
}

#[derive(Default, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    /// The previous page's `next`.
    #[serde(default)]
    before: String,
}

struct FoundRow {
    href: String,
    id: i64,
    subject: String,
    severity: String,
    state: &'static str,
    customer: String,
    found_in: &'static str,
    internal: bool,
    language: String,
    snippet: Vec<Fragment>,
}

#[derive(Template)]
#[template(path = "console/search.html")]
struct SearchPage {
    page: Page,
    q: String,
    searched: bool,
    rows: Vec<FoundRow>,
    next: Option<String>,
}

async fn search_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<SearchQuery>,
) -> Result<Response, UiError> {
    if !matches!(viewer.principal, Principal::Staff(_)) {
        return Err(UiError::Forbidden);
    }
    let before = match query.before.as_str() {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .ok()
                .filter(|before| *before > 0)
                .ok_or_else(|| UiError::BadRequest("before: a positive number".into()))?,
        ),
    };
    let searched = !query.q.trim().is_empty();
    let (rows, next) = if searched {
        let found = ticket_search::search(
            &state.desk(),
            &viewer.principal.caller(),
            &query.q,
            before,
            PAGE_SIZE,
        )
        .await?;
        let mut customers: HashMap<i64, String> = HashMap::new();
        let mut rows = Vec::with_capacity(found.tickets.len());
        for found in found.tickets {
            let ticket = found.ticket;
            let customer = match customers.get(&ticket.customer_id) {
                Some(name) => name.clone(),
                None => {
                    let name = state.store.customer(ticket.customer_id).await?.name;
                    customers.insert(ticket.customer_id, name.clone());
                    name
                }
            };
            rows.push(FoundRow {
                href: format!("/console/tickets/{}#event-{}", ticket.id, found.seq),
                id: ticket.id,
                severity: ticket.severity,
                state: view::state_name(viewer.catalog, ticket.state),
                customer,
                found_in: found_in(viewer.catalog, found.kind),
                internal: !found.public,
                language: ticket.language,
                snippet: found.snippet,
                subject: ticket.subject,
            });
        }
        let next = found.next.map(|before| {
            let q: String = form_urlencoded::byte_serialize(query.q.as_bytes()).collect();
            format!("/console/search?q={q}&before={before}")
        });
        (rows, next)
    } else {
        (Vec::new(), None)
    };
    let page = SearchPage {
        page: viewer.page(viewer.t("ticket_search.title").to_string()),
        q: query.q,
        searched,
        rows,
        next,
    };
    Ok(render(&page)?.into_response())
}

/// Where on the timeline the words were found, in the reader's language.
fn found_in(catalog: &'static Catalog, kind: &str) -> &'static str {
    catalog.get(match kind {
        "created" => "ticket_search.in_ticket",
        "first_response" => "event.first_response",
        "public_update" => "event.public_update",
        "internal_note" => "event.internal_note",
        "customer_message" => "event.customer_message",
        "customer_answered" => "event.customer_answered",
        "details_supplied" => "event.details_supplied",
        "waiting_on_customer" => "ticket_search.in_request",
        "solution_proposed" => "ticket_search.in_solution",
        "solution_accepted" => "event.solution_accepted",
        "solution_rejected" => "event.solution_rejected",
        "escalation_requested" => "event.escalation_requested",
        "escalation_answered" => "event.escalation_answered",
        "update_cadence_agreed" => "ticket_search.in_cadence",
        "outside_support" => "state.outside_support",
        "outside_support_reversed" => "event.outside_support_reversed",
        _ => "ticket_search.in_severity",
    })
}
