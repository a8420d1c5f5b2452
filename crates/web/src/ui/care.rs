//! The portal's "Care" page (POLICY.md §1): the organisation's care contracts, where each
//! stands today, and its end-user licence agreement: accepted (when, by whom) or waiting,
//! which a contact accepts here for the organisation. Intake's refusal "licence not
//! accepted" leads here.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use caredesk_desk::DeskError;
use caredesk_desk::customers::{self, Standing};
use caredesk_domain::intake::Cover;
use caredesk_store::Contract;
use serde::Deserialize;

use super::forms::{translate_reason, unprocessable};
use super::session::Viewer;
use super::view;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::{ClientAddress, Principal};
use crate::edge::PageForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/care", get(care))
        .route("/portal/care/{id}/accept", post(accept))
}

struct ContractRow {
    id: i64,
    program: String,
    starts_on: String,
    ends_on: String,
    /// "care.current", "care.upcoming" or "care.ended".
    standing: &'static str,
    /// "Accepted on … by …", or none while it waits.
    accepted: Option<String>,
    /// The contract may still be accepted (it has not ended).
    acceptable: bool,
}

#[derive(Template)]
#[template(path = "portal/care.html")]
struct CarePage {
    page: Page,
    organisation: String,
    covered: bool,
    contracts: Vec<ContractRow>,
    /// Why an acceptance was refused, and which contract's.
    refusal: Option<(i64, String)>,
    /// Coming back from an acceptance.
    just_accepted: bool,
}

#[derive(Deserialize)]
struct CareQuery {
    accepted: Option<String>,
}

async fn care(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<CareQuery>,
) -> Result<Response, UiError> {
    if !matches!(viewer.principal, Principal::Contact(_)) {
        return Ok(Redirect::to("/console/customers").into_response());
    }
    let mut page = page_of(&state, &viewer, None).await?;
    page.just_accepted = query.accepted.is_some();
    Ok(render(&page)?.into_response())
}

async fn page_of(
    state: &AppState,
    viewer: &Viewer,
    refusal: Option<(i64, String)>,
) -> Result<CarePage, UiError> {
    let Principal::Contact(contact) = &viewer.principal else {
        return Err(UiError::Forbidden);
    };
    let desk = state.desk();
    let care = customers::care_of(&desk, &viewer.principal.caller(), contact.customer_id).await?;
    let contacts = state.store.contacts_of(contact.customer_id).await?;
    let contracts = care
        .contracts
        .iter()
        .map(|(contract, standing)| ContractRow {
            id: contract.id,
            program: view::program_name(&state.policy(), &contract.program),
            starts_on: contract.starts_on.to_string(),
            ends_on: contract.ends_on.to_string(),
            standing: match standing {
                Standing::Upcoming => "care.upcoming",
                Standing::Current => "care.current",
                Standing::Ended => "care.ended",
            },
            accepted: accepted_line(viewer, contract, &contacts),
            acceptable: *standing != Standing::Ended,
        })
        .collect();
    Ok(CarePage {
        page: viewer.page(viewer.t("care.title").to_string()),
        organisation: care.customer.name,
        covered: matches!(care.cover, Cover::Covered(_)),
        contracts,
        refusal,
        just_accepted: false,
    })
}

/// "Accepted on Tue 1 Dec 2026, 09:30 CET by Ada Lovelace": the organisation's own contact
/// by name, anyone else as the support team; when unknown (accepted before this was kept),
/// what is known.
fn accepted_line(
    viewer: &Viewer,
    contract: &Contract,
    contacts: &[caredesk_store::Contact],
) -> Option<String> {
    if !contract.eula_accepted {
        return None;
    }
    let by = contract.eula_accepted_by.as_deref().map(|key| {
        key.strip_prefix("contact:")
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| contacts.iter().find(|contact| contact.id == id))
            .map_or_else(
                || viewer.t("care.by_support").to_string(),
                |contact| contact.name.clone(),
            )
    });
    Some(match (contract.eula_accepted_at, by) {
        (Some(at), Some(by)) => viewer.catalog.format(
            "care.accepted_on_by",
            &[
                ("when", &viewer.catalog.when(at, &viewer.time_zone)),
                ("who", &by),
            ],
        ),
        (Some(at), None) => viewer.catalog.format(
            "care.accepted_on",
            &[("when", &viewer.catalog.when(at, &viewer.time_zone))],
        ),
        (None, _) => viewer.t("care.accepted").to_string(),
    })
}

#[derive(Deserialize)]
struct AcceptForm {
    csrf: String,
    /// The box "I have read and accept…", sent only when ticked.
    #[serde(default)]
    agree: Option<String>,
}

/// Accepts a contract's licence agreement for the organisation, once the contact has ticked
/// that they read and accept it.
async fn accept(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    viewer: Viewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<AcceptForm>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    if !matches!(viewer.principal, Principal::Contact(_)) {
        return Err(UiError::Forbidden);
    }
    if form.agree.as_deref() != Some("yes") {
        let refusal = (id, viewer.t("care.tick_to_accept").to_string());
        let page = page_of(&state, &viewer, Some(refusal)).await?;
        return Ok(unprocessable(render(&page)?));
    }
    let desk = state.desk().from_address(client);
    match customers::accept_licence(&desk, &viewer.principal.caller(), id).await {
        Ok(_) => Ok(Redirect::to("/portal/care?accepted=1").into_response()),
        Err(DeskError::Invalid(problems)) => {
            let reasons = problems
                .iter()
                .map(|problem| translate_reason(&viewer, problem))
                .collect::<Vec<_>>()
                .join(" ");
            let page = page_of(&state, &viewer, Some((id, reasons))).await?;
            Ok(unprocessable(render(&page)?))
        }
        Err(other) => Err(other.into()),
    }
}
