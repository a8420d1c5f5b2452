//! The update manager (POLICY.md §9): what an installed product may update to. The product
//! calls with its serial, the version it runs and its activation code; no user account is
//! involved. The code must be one the desk signed for that serial and still active (an
//! installation deactivated for a machine change stops getting answers). The answer is the
//! newest update (a minor release of the installed series) and the newest upgrade (a later
//! major release) the licence allows today, with notes in the product's language, the
//! download and its checksum; or that it is up to date; or which release it is not entitled
//! to and what to do about it (renew OL Care).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use caredesk_domain::activation::{ActivationClaims, CodeError, read_code};
use caredesk_domain::catalog::{check_updates, version_problem};
use caredesk_domain::intake::Cover;
use caredesk_domain::policy::UpdateRule;
use caredesk_domain::reason::Reason;
use caredesk_store::{Product, StoreError};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::activation::care_of;
use crate::catalog::{CatalogEntry, catalog, catalog_release};
use crate::{Desk, DeskError, FieldProblem};

/// The language release notes fall back to when the product's is missing.
const FALLBACK_LANGUAGE: &str = "en";

/// How long the update manager keeps what it read of a line's catalog and of a customer's
/// care: every installed product asks, so they are read once for many checks. A release
/// published or retired on another instance, or a contract changed, is seen within this
/// time; a release published or retired on this instance at once.
pub const CACHE_SECONDS: i64 = 5;

/// Past this many customers' care kept, the stale ones are dropped.
const CARE_KEPT: usize = 10_000;

/// What update checks read lately, shared by the requests of one instance.
#[derive(Clone, Debug, Default)]
pub struct UpdateCache {
    contents: Arc<Mutex<CacheContents>>,
}

#[derive(Debug, Default)]
struct CacheContents {
    /// Counts the catalogs forgotten: a catalog read while one was published or retired is
    /// not kept (it may be the old one).
    generation: u64,
    /// Each line's catalog, by line, with when it was read.
    catalogs: HashMap<String, (Timestamp, Arc<Vec<CatalogEntry>>)>,
    /// Each customer's care, with when it was read.
    care: HashMap<i64, (Timestamp, Cover)>,
}

impl UpdateCache {
    /// Forgets the catalogs read (a release was published or retired).
    pub fn forget_catalogs(&self) {
        let mut contents = self.contents();
        contents.catalogs.clear();
        contents.generation += 1;
    }

    fn contents(&self) -> std::sync::MutexGuard<'_, CacheContents> {
        // A panic elsewhere while holding the lock leaves nothing half-written worth
        // refusing: entries are replaced whole.
        self.contents.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn catalog(&self, desk: &Desk, line: &str) -> Result<Arc<Vec<CatalogEntry>>, DeskError> {
        let now = desk.clock.now();
        let generation = {
            let contents = self.contents();
            if let Some((read_at, entries)) = contents.catalogs.get(line)
                && fresh(*read_at, now)
            {
                return Ok(Arc::clone(entries));
            }
            contents.generation
        };
        let entries = Arc::new(catalog(desk, Some(line)).await?);
        let mut contents = self.contents();
        if contents.generation == generation {
            contents
                .catalogs
                .insert(line.to_string(), (now, Arc::clone(&entries)));
        }
        Ok(entries)
    }

    async fn care(&self, desk: &Desk, customer_id: i64) -> Result<Cover, DeskError> {
        let now = desk.clock.now();
        if let Some((read_at, cover)) = self.contents().care.get(&customer_id)
            && fresh(*read_at, now)
        {
            return Ok(cover.clone());
        }
        let cover = care_of(desk, customer_id, now).await?;
        let mut contents = self.contents();
        if contents.care.len() >= CARE_KEPT {
            contents.care.retain(|_, (read_at, _)| fresh(*read_at, now));
        }
        contents.care.insert(customer_id, (now, cover.clone()));
        Ok(cover)
    }
}

/// Read at `read_at`, still good at `now` (the clock may also have been set back).
fn fresh(read_at: Timestamp, now: Timestamp) -> bool {
    let age = read_at.duration_until(now);
    !age.is_negative() && age.as_secs() < CACHE_SECONDS
}

/// An installed product asking for updates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateRequest {
    pub serial: String,
    /// The version it runs.
    pub version: String,
    /// The language to read release notes in (its user's); English when absent.
    pub language: Option<String>,
    /// Its activation code, which proves it is an activated installation of `serial`.
    pub code: String,
}

/// Whether anything newer may be installed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStatus {
    /// An update or an upgrade is offered.
    Available,
    /// Nothing newer is in the catalog.
    UpToDate,
    /// Something newer is in the catalog, but the licence does not allow it today.
    NotEntitled,
}

/// A release offered to an installed product.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OfferedRelease {
    pub version: String,
    /// "minor" (an update) or "major" (an upgrade).
    pub kind: String,
    pub released_on: Date,
    /// Where to download it; none when it is delivered on request.
    pub download_url: Option<String>,
    /// The SHA-256 checksum of the download, in hexadecimal.
    pub sha256: Option<String>,
    /// The release notes in `notes_language`, if it has any.
    pub notes: Option<String>,
    pub notes_language: Option<String>,
}

/// A newer release the licence does not allow, and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WithheldRelease {
    pub version: String,
    pub reason: String,
    /// What would make it available.
    pub remedy: String,
}

/// What the update manager answers an installed product.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpdateAnswer {
    pub serial: String,
    pub product_line: String,
    /// The version the product said it runs.
    pub installed: String,
    pub status: UpdateStatus,
    /// The newest release of the installed series the licence allows.
    pub update: Option<OfferedRelease>,
    /// The newest release of a later series the licence allows.
    pub upgrade: Option<OfferedRelease>,
    /// The newest release past both that the licence does not allow.
    pub not_entitled: Option<WithheldRelease>,
}

/// The claims of an activation code the desk signed; a refusal says what is wrong with
/// the code. Reads no database: the shell may limit checks by the serial it names first.
pub async fn signed_claims(desk: &Desk, code: &str) -> Result<ActivationClaims, DeskError> {
    let key = desk
        .activation_keys
        .verifying_key(&desk.store, desk.clock.now())
        .await?;
    read_code(code, &key).map_err(|error| match error {
        CodeError::NotACode if code.trim().is_empty() => DeskError::CredentialRefused(
            "an activation code is required: send it as `Authorization: Activation <code>`".into(),
        ),
        other => DeskError::CredentialRefused(other.to_string()),
    })
}

/// The product an update check is about, when the request's fields are right and its code
/// (of `claims`, read by [`signed_claims`]) is an active activation of it.
pub async fn activated(
    desk: &Desk,
    request: &UpdateRequest,
    claims: &ActivationClaims,
) -> Result<Product, DeskError> {
    let serial = request.serial.trim();
    let mut problems = Vec::new();
    if serial.is_empty() {
        problems.push(FieldProblem::of("serial", Reason::required()));
    }
    if let Some(problem) = version_problem(request.version.trim()) {
        problems.push(FieldProblem::of(
            "version",
            if problem == "required" {
                Reason::required()
            } else {
                Reason::invalid(problem)
            },
        ));
    }
    if !problems.is_empty() {
        return Err(DeskError::Invalid(problems));
    }
    activated_product(desk, serial, &request.code, claims).await
}

/// Answers the update check of `product` (found by [`activated`]).
pub async fn answer(
    desk: &Desk,
    product: &Product,
    request: &UpdateRequest,
) -> Result<UpdateAnswer, DeskError> {
    let language = request
        .language
        .as_deref()
        .map(str::trim)
        .filter(|language| !language.is_empty())
        .unwrap_or(FALLBACK_LANGUAGE);
    let (answer, _) = offers(desk, product, request.version.trim(), language).await?;
    Ok(answer)
}

/// What `product`, running `installed`, may update to today, with notes in `language`
/// (else English, else any); and its line's catalog as read for it.
pub async fn offers(
    desk: &Desk,
    product: &Product,
    installed: &str,
    language: &str,
) -> Result<(UpdateAnswer, Arc<Vec<CatalogEntry>>), DeskError> {
    let care = desk.update_cache.care(desk, product.customer_id).await?;
    let rule = match care {
        Cover::Covered(_) => desk.policy().activation.updates_with_care,
        Cover::NotCovered { .. } => desk.policy().activation.updates_without_care,
    };
    let entries = desk
        .update_cache
        .catalog(desk, &product.product_line)
        .await?;
    let releases: Vec<_> = entries
        .iter()
        .map(|entry| catalog_release(&entry.release))
        .collect();
    let offers = check_updates(
        rule,
        &releases,
        installed,
        &product.licence.licensed_version,
    );
    let offered = |version: Option<&caredesk_domain::intake::CatalogRelease>| {
        version.and_then(|release| {
            entries
                .iter()
                .find(|entry| entry.release.version == release.version)
                .map(|entry| offer(entry, language))
        })
    };
    let update = offered(offers.update.as_ref());
    let upgrade = offered(offers.upgrade.as_ref());
    let not_entitled = offers.withheld.as_ref().map(|release| {
        let (reason, remedy) = why_withheld(&care, rule, product);
        WithheldRelease {
            version: release.version.clone(),
            reason,
            remedy,
        }
    });
    let status = if update.is_some() || upgrade.is_some() {
        UpdateStatus::Available
    } else if not_entitled.is_some() {
        UpdateStatus::NotEntitled
    } else {
        UpdateStatus::UpToDate
    };
    let answer = UpdateAnswer {
        serial: product.serial.clone(),
        product_line: product.product_line.clone(),
        installed: installed.to_string(),
        status,
        update,
        upgrade,
        not_entitled,
    };
    Ok((answer, entries))
}

/// The product `serial`, when `code` (of `claims`) is an active activation of it. Every
/// refusal says what is wrong with the code, never whether the serial exists.
async fn activated_product(
    desk: &Desk,
    serial: &str,
    code: &str,
    claims: &ActivationClaims,
) -> Result<Product, DeskError> {
    if claims.serial != serial {
        return Err(DeskError::CredentialRefused(format!(
            "this activation code is for serial {}, not {serial}",
            claims.serial
        )));
    }
    let (product, active_code) = match desk
        .store
        .product_activated_on(serial, &claims.machine_id)
        .await
    {
        Ok(found) => found,
        Err(StoreError::NotFound) => {
            return Err(DeskError::CredentialRefused(
                "this activation code is no longer valid: the product is not registered".into(),
            ));
        }
        Err(other) => return Err(other.into()),
    };
    if active_code.is_none_or(|active| active != code.trim()) {
        return Err(DeskError::CredentialRefused(
            "this installation was deactivated: activate it again at the activation manager".into(),
        ));
    }
    Ok(product)
}

fn offer(entry: &CatalogEntry, language: &str) -> OfferedRelease {
    let notes = [language, FALLBACK_LANGUAGE]
        .into_iter()
        .find_map(|wanted| {
            entry
                .notes
                .get_key_value(wanted)
                .map(|(language, notes)| (language.clone(), notes.clone()))
        })
        .or_else(|| {
            entry
                .notes
                .first_key_value()
                .map(|(language, notes)| (language.clone(), notes.clone()))
        });
    let release = &entry.release;
    OfferedRelease {
        version: release.version.clone(),
        kind: release.kind.clone(),
        released_on: release.released_on,
        download_url: release.download_url.clone(),
        sha256: release.sha256.clone(),
        notes_language: notes.as_ref().map(|(language, _)| language.clone()),
        notes: notes.map(|(_, notes)| notes),
    }
}

/// Why a newer release is withheld and what would bring it: the care contract when it is
/// what is missing, else the licence.
fn why_withheld(care: &Cover, rule: UpdateRule, product: &Product) -> (String, String) {
    match (care, rule) {
        (Cover::NotCovered { reason, remedy, .. }, _) => (
            format!("updates past the licence need valid OL Care: {reason}"),
            remedy.clone(),
        ),
        (Cover::Covered(_), UpdateRule::WithinLicensedMajor) => (
            format!(
                "the licence allows the releases of version {}'s series only",
                product.licence.licensed_version
            ),
            "buy an upgrade of the licence".into(),
        ),
        (Cover::Covered(_), UpdateRule::All | UpdateRule::None) => (
            "the policy offers no updates to this product".into(),
            "ask the support desk".into(),
        ),
    }
}
