//! A customer's registered products as its contacts see them on the portal (POLICY.md §9):
//! each with its licence, how many installations are active, whether the version it runs
//! is in support scope (and which versions are), and what it may update to today, as the
//! update manager would answer the installation.

use caredesk_domain::catalog::same_version;
use caredesk_store::Product;

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
            .policy
            .product_line(&product.product_line)
            .map(|line| line.online_update_manager)
            .unwrap_or(true);
        overviews.push(ProductOverview {
            product,
            active_installations,
            supported,
            in_scope,
            updates,
            online_update_manager,
        });
    }
    Ok(overviews)
}
