//! The portal's "Products" page (POLICY.md §9): the organisation's registered products,
//! each with its licence, its active installations (managed at the activation manager),
//! whether the version it runs is in support scope, and what it may update to today, as
//! the update manager answers its installations.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use caredesk_desk::products::{ProductOverview, products_of};
use caredesk_desk::updates::{OfferedRelease, UpdateStatus};

use super::session::Viewer;
use super::{Page, UiError, render};
use crate::AppState;
use crate::auth::Principal;

pub fn router() -> Router<AppState> {
    Router::new().route("/portal/products", get(products))
}

/// A release offered, as the page shows it.
struct Offer {
    version: String,
    released_on: String,
    notes: String,
    download_url: Option<String>,
    sha256: Option<String>,
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
}

async fn products(State(state): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    if !matches!(viewer.principal, Principal::Contact(_)) {
        return Ok(Redirect::to("/console").into_response());
    }
    let overviews = products_of(
        &state.desk(),
        &viewer.principal.caller(),
        viewer.catalog.language,
    )
    .await?;
    let products = overviews
        .iter()
        .map(|overview| card(&state, &viewer, overview))
        .collect();
    let page = ProductsPage {
        page: viewer.page(viewer.t("products.title").to_string()),
        products,
    };
    Ok(render(&page)?.into_response())
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
    };
    ProductCard {
        serial: product.serial.clone(),
        line: state
            .policy
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
