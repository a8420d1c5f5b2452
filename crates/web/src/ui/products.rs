//! The portal's "Products" page (POLICY.md §9): the organisation's registered products,
//! each with its licence, its active installations (managed at the activation manager),
//! whether the version it runs is in support scope, and what it may update to today, as
//! the update manager answers its installations.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use caredesk_desk::DeskError;
use caredesk_desk::products::{ProductOverview, products_of};
use caredesk_desk::update_requests::{UpdateRequestForm, request_update};
use caredesk_desk::updates::{OfferedRelease, UpdateStatus};
use caredesk_domain::catalog::same_version;
use serde::Deserialize;

use super::forms::{translate_reason, unprocessable};
use super::session::Viewer;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::{ClientAddress, Principal};
use crate::edge::PageForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/products", get(products))
        .route("/portal/products/request-update", post(ask_for_update))
}

/// A release offered, as the page shows it.
struct Offer {
    version: String,
    released_on: String,
    notes: String,
    download_url: Option<String>,
    sha256: Option<String>,
    /// The open request for it (delivered on request): its ticket, and the link's words.
    requested: Option<(i64, String)>,
}

struct ProductCard {
    serial: String,
    line: String,
    edition: String,
    version: String,
    licensed_version: String,
    installations: String,
    /// "products.in_scope", "products.outside_scope" or "products.scope_unknown".
    scope: &'static str,
    supported: String,
    /// "products.up_to_date", "products.available" or "products.not_entitled".
    status: &'static str,
    /// The update and the upgrade offered, each under its i18n key.
    offers: Vec<(&'static str, Offer)>,
    /// The release withheld, why, and the remedy.
    withheld: Option<(String, String, String)>,
    online: bool,
}

#[derive(Template)]
#[template(path = "portal/products.html")]
struct ProductsPage {
    page: Page,
    products: Vec<ProductCard>,
    /// Why a request for an update was refused, in the viewer's words.
    refusal: Option<String>,
}

async fn products(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    if !matches!(viewer.principal, Principal::Contact(_)) {
        return Ok(Redirect::to("/console").into_response());
    }
    let page = page_of(&state, &viewer, None).await?;
    Ok(render(&page)?.into_response())
}

async fn page_of(
    state: &AppState,
    viewer: &Viewer,
    refusal: Option<String>,
) -> Result<ProductsPage, UiError> {
    let overviews = products_of(
        &state.desk(),
        &viewer.principal.caller(),
        viewer.catalog.language,
    )
    .await?;
    let products = overviews
        .iter()
        .map(|overview| card(state, viewer, overview))
        .collect();
    Ok(ProductsPage {
        page: viewer.page(viewer.t("products.title").to_string()),
        products,
        refusal,
    })
}

#[derive(Deserialize)]
struct AskForUpdate {
    csrf: String,
    #[serde(default)]
    serial: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    note: String,
}

/// "Request this release" for a product delivered on request: the request becomes a
/// ticket of the organisation's region, and the contact is taken to it.
async fn ask_for_update(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    viewer: Viewer,
    PageForm(form): PageForm<AskForUpdate>,
) -> Result<Response, UiError> {
    viewer.check_csrf(&form.csrf)?;
    if !matches!(viewer.principal, Principal::Contact(_)) {
        return Err(UiError::Forbidden);
    }
    let request = UpdateRequestForm {
        customer_id: None,
        serial: form.serial,
        version: Some(form.version),
        note: form.note,
    };
    let desk = state.desk().from_address(client);
    match request_update(&desk, &viewer.principal.caller(), &request, None).await {
        Ok(created) => {
            Ok(Redirect::to(&format!("/portal/tickets/{}", created.ticket.id)).into_response())
        }
        Err(DeskError::Invalid(problems)) => {
            let refusal = problems
                .iter()
                .map(|problem| translate_reason(&viewer, problem))
                .collect::<Vec<_>>()
                .join(" ");
            let page = page_of(&state, &viewer, Some(refusal)).await?;
            Ok(unprocessable(render(&page)?))
        }
        Err(other) => Err(other.into()),
    }
}

fn card(state: &AppState, viewer: &Viewer, overview: &ProductOverview) -> ProductCard {
    let product = &overview.product;
    let updates = &overview.updates;
    let offer = |release: &OfferedRelease| Offer {
        version: release.version.clone(),
        released_on: release.released_on.to_string(),
        notes: release.notes.clone().unwrap_or_default(),
        download_url: release.download_url.clone(),
        sha256: release.sha256.clone(),
        requested: overview
            .update_requests
            .iter()
            .find(|(asked, _)| same_version(asked, &release.version))
            .map(|(_, ticket)| {
                let label = viewer
                    .catalog
                    .format("products.requested", &[("ticket", &ticket.to_string())]);
                (*ticket, label)
            }),
    };
    ProductCard {
        serial: product.serial.clone(),
        line: state
            .policy()
            .product_lines
            .get(&product.product_line)
            .map_or_else(|| product.product_line.clone(), |line| line.name.clone()),
        edition: product.licence.edition.clone().unwrap_or_default(),
        version: product.version.clone(),
        licensed_version: product.licence.licensed_version.clone(),
        installations: viewer.catalog.format(
            "activate.installations_count",
            &[
                ("active", &overview.active_installations.to_string()),
                ("allowed", &product.licence.installations.to_string()),
            ],
        ),
        scope: match overview.in_scope {
            Some(true) => "products.in_scope",
            Some(false) => "products.outside_scope",
            None => "products.scope_unknown",
        },
        supported: overview.supported.join(", "),
        status: match updates.status {
            UpdateStatus::Available => "products.available",
            UpdateStatus::UpToDate => "products.up_to_date",
            UpdateStatus::NotEntitled => "products.not_entitled",
        },
        offers: [
            ("products.update", updates.update.as_ref()),
            ("products.upgrade", updates.upgrade.as_ref()),
        ]
        .into_iter()
        .filter_map(|(title, release)| release.map(|release| (title, offer(release))))
        .collect(),
        withheld: updates.not_entitled.as_ref().map(|withheld| {
            (
                withheld.version.clone(),
                withheld.reason.clone(),
                withheld.remedy.clone(),
            )
        }),
        online: overview.online_update_manager,
    }
}
