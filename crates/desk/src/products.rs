//! A customer's registered products as its contacts see them on the portal (POLICY.md §9):
//! each with its licence, how many installations are active, whether the version it runs
//! is in support scope (and which versions are), and what it may update to today, as the
//! update manager would answer the installation.

use caredesk_domain::catalog::same_version;
use caredesk_domain::intake::IntakeFlag;
use caredesk_store::{Activation, Product, StoreError};

use crate::catalog::catalog;
use crate::updates::{UpdateAnswer, offers};
use crate::{Caller, Desk, DeskError};

/// One registered product, as the portal shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductOverview {
    pub product: Product,
    pub active_installations: usize,
    /// The versions of its line in support scope now; empty when the catalog holds none.
    pub supported: Vec<String>,
    /// Whether the version it runs is one of them; none when the catalog holds no current
    /// release of the line (scope cannot be checked).
    pub in_scope: Option<bool>,
    /// What the installed version may update to today.
    pub updates: UpdateAnswer,
    /// Whether installations learn of updates by themselves (else they are delivered on
    /// request).
    pub online_update_manager: bool,
    /// The open requests for a release of it: (release asked for, ticket).
    pub update_requests: Vec<(String, i64)>,
}

/// The registered products of the caller's organisation, notes in `language`.
pub async fn products_of(
    desk: &Desk,
    caller: &Caller,
    language: &str,
) -> Result<Vec<ProductOverview>, DeskError> {
    let Caller::Contact { customer_id, .. } = *caller else {
        return Err(DeskError::Forbidden(
            "this is a customer's own list of products".into(),
        ));
    };
    let mut overviews = Vec::new();
    for product in desk.store.products_of(customer_id).await? {
        let (updates, catalog) = offers(desk, &product, &product.version, language).await?;
        let supported: Vec<String> = catalog
            .iter()
            .filter(|entry| entry.in_support_scope)
            .map(|entry| entry.release.version.clone())
            .collect();
        let in_scope = (!supported.is_empty()).then(|| {
            supported
                .iter()
                .any(|version| same_version(version, &product.version))
        });
        let active_installations = desk
            .store
            .activations_of(product.id)
            .await?
            .iter()
            .filter(|activation| activation.is_active())
            .count();
        let online_update_manager = desk
            .policy()
            .product_line(&product.product_line)
            .map(|line| line.online_update_manager)
            .unwrap_or(true);
        let mut update_requests = Vec::new();
        if !online_update_manager {
            for ticket in desk
                .store
                .open_tickets_of_serial(customer_id, &product.serial)
                .await?
            {
                for flag in &ticket.flags {
                    if let IntakeFlag::UpdateRequest { requested, .. } = flag {
                        update_requests.push((requested.clone(), ticket.id));
                    }
                }
            }
        }
        overviews.push(ProductOverview {
            product,
            active_installations,
            supported,
            in_scope,
            updates,
            online_update_manager,
            update_requests,
        });
    }
    Ok(overviews)
}

/// What the console's ticket panel shows of the ticket's product (POLICY.md §9): its
/// licence and installations, the catalog's newest release of its line, and whether the
/// version the ticket names is in support scope (and which versions are).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketProduct {
    pub product: Product,
    /// Its active installations, newest first.
    pub active: Vec<Activation>,
    /// The catalog's newest current release of the line.
    pub newest: Option<String>,
    pub supported: Vec<String>,
    /// Whether the ticket's version is supported; none when the catalog holds no current
    /// release of the line.
    pub in_scope: Option<bool>,
}

/// The registered product `serial` of customer `customer_id` as a ticket naming `version`
/// sees it, for staff; none when the customer has no product with that serial (a serial
/// typed on a mail or phone ticket may be another customer's: never shown).
pub async fn ticket_product(
    desk: &Desk,
    caller: &Caller,
    customer_id: i64,
    serial: &str,
    version: &str,
) -> Result<Option<TicketProduct>, DeskError> {
    if matches!(caller, Caller::Contact { .. }) {
        return Err(DeskError::Forbidden("this is for staff only".into()));
    }
    let product = match desk.store.product_by_serial(serial).await {
        Ok(product) if product.customer_id == customer_id => product,
        Ok(_) | Err(StoreError::NotFound) => return Ok(None),
        Err(other) => return Err(other.into()),
    };
    let catalog = catalog(desk, Some(&product.product_line)).await?;
    let supported: Vec<String> = catalog
        .iter()
        .filter(|entry| entry.in_support_scope)
        .map(|entry| entry.release.version.clone())
        .collect();
    let newest = catalog
        .iter()
        .filter(|entry| !entry.release.is_retired())
        .max_by_key(|entry| entry.release.position)
        .map(|entry| entry.release.version.clone());
    let in_scope = (!supported.is_empty()).then(|| {
        supported
            .iter()
            .any(|supported| same_version(supported, version))
    });
    let active = desk
        .store
        .activations_of(product.id)
        .await?
        .into_iter()
        .filter(Activation::is_active)
        .collect();
    Ok(Some(TicketProduct {
        product,
        active,
        newest,
        supported,
        in_scope,
    }))
}
