//! The release catalog kept by people (POLICY.md §9): managers publish a release of a
//! product line and retire one; everyone reads the catalog with which releases are in
//! support scope (the most recent ones that are not retired, as intake checks them).

use std::collections::{BTreeMap, HashMap};

use caredesk_domain::catalog::{
    PublishedRelease, compare_versions, is_offered, release_arrival, same_version, sha256_problem,
    version_problem,
};
use caredesk_domain::intake::{CatalogRelease, supported_versions};
use caredesk_domain::policy::{Policy, UpdateRule};
use caredesk_domain::reason::Reason;
use caredesk_domain::ticket::{Role, Snapshot};
use caredesk_store::{
    Announcement, NewRelease, PlannedTicket, PlannedTickets, Release, TicketRecord,
};
use jiff::civil::Date;
use serde::Serialize;

use crate::activation::update_rule;
use crate::error::Problems;
use crate::{Caller, Desk, DeskError, FieldProblem};

/// Who may publish and retire releases.
pub const PUBLISHERS: [Role; 2] = [Role::Admin, Role::SupportManager];

/// The two kinds of release: a major one is an upgrade, a minor one an update.
pub const KINDS: [&str; 2] = ["major", "minor"];

/// The longest release notes, in characters, per language.
pub const NOTES_MAX_CHARS: usize = 20_000;

/// The longest download address, in characters.
pub const URL_MAX_CHARS: usize = 2_000;

/// A release as a manager describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseForm {
    pub product_line: String,
    pub version: String,
    pub kind: String,
    pub released_on: Option<Date>,
    pub download_url: Option<String>,
    pub sha256: Option<String>,
    /// Notes by language.
    pub notes: BTreeMap<String, String>,
    /// Tickets planned for this release whose fix is not in it after all: they are told and
    /// go back to their advisors. Every other ticket planned for it gets its fix proposed.
    pub without_fix: Vec<i64>,
}

/// A release of the catalog with its notes, and whether it is in support scope now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CatalogEntry {
    #[serde(flatten)]
    pub release: Release,
    /// Release notes by language.
    pub notes: BTreeMap<String, String>,
    pub in_support_scope: bool,
}

/// A release just published, and the tickets that were planned for it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Published {
    #[serde(flatten)]
    pub entry: CatalogEntry,
    /// The P4 tickets that waited for this release: with their fix in it, a solution is
    /// proposed to the customer; without, the ticket is back with its advisor.
    pub planned_tickets: Vec<PlannedTicket>,
}

/// A ticket waiting for a release with its fix, as managers see it before publishing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitingTicket {
    pub ticket_id: i64,
    pub subject: String,
    pub customer_id: i64,
    pub product_line: String,
    /// The release its fix is planned for, as the advisor named it.
    pub release: String,
}

impl WaitingTicket {
    /// Whether it waits for `version` of `product_line`.
    pub fn waits_for(&self, product_line: &str, version: &str) -> bool {
        self.product_line == product_line && same_version(&self.release, version)
    }
}

/// The tickets of `product_line` (or of every line) waiting for a release with their fix,
/// oldest first (staff only).
pub async fn waiting_tickets(
    desk: &Desk,
    caller: &Caller,
    product_line: Option<&str>,
) -> Result<Vec<WaitingTicket>, DeskError> {
    if let Caller::Contact { .. } = caller {
        return Err(DeskError::Forbidden("this is for staff only".into()));
    }
    let policy = desk.policy();
    let lines: Vec<&str> = match product_line {
        Some(line) => {
            desk.policy()
                .product_line(line)
                .map_err(|unknown| DeskError::invalid("product_line", unknown.to_string()))?;
            vec![line]
        }
        None => policy.product_lines.keys().map(String::as_str).collect(),
    };
    let mut waiting = Vec::new();
    for line in lines {
        for (ticket, timeline) in desk.store.tickets_planned_for_a_release(line).await? {
            let Some(release) = Snapshot::of(&timeline).and_then(|now| now.planned_release) else {
                continue;
            };
            waiting.push(WaitingTicket {
                ticket_id: ticket.id,
                subject: ticket.subject,
                customer_id: ticket.customer_id,
                product_line: ticket.product_line,
                release,
            });
        }
    }
    waiting.sort_by_key(|ticket| ticket.ticket_id);
    Ok(waiting)
}

/// Publishes a release: checked field by field against the policy and the catalog, then
/// placed among its line's releases by its version. In the same transaction, the contacts
/// entitled to it are told (POLICY.md §9) and every ticket planned for it learns it is
/// out: its fix proposed for the customer's consent, or, named in `without_fix`, back with
/// its advisor (POLICY.md §7).
pub async fn publish(
    desk: &Desk,
    caller: &Caller,
    form: ReleaseForm,
) -> Result<Published, DeskError> {
    caller.require_role(&PUBLISHERS)?;
    let form = trimmed(form);
    let mut problems = release_problems(&desk.policy(), &form);
    if problems.is_empty() {
        let waiting = waiting_tickets(desk, caller, Some(&form.product_line)).await?;
        for ticket in &form.without_fix {
            let waits = waiting.iter().any(|one| {
                one.ticket_id == *ticket && one.waits_for(&form.product_line, &form.version)
            });
            if !waits {
                problems.push(FieldProblem::of(
                    "without_fix",
                    Reason::invalid(format!(
                        "ticket {ticket} is not planned for {} {}",
                        form.product_line, form.version
                    )),
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(DeskError::Invalid(problems));
    }
    if let Some(existing) = desk
        .store
        .releases_of(&form.product_line)
        .await?
        .into_iter()
        .find(|release| same_version(&release.version, &form.version))
    {
        return Err(DeskError::Conflict {
            detail: format!(
                "version: {} {} is already in the catalog",
                form.product_line, existing.version
            ),
            state: None,
            allowed_actions: None,
        });
    }
    let today = desk
        .clock
        .now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let new = NewRelease {
        product_line: form.product_line,
        version: form.version,
        kind: form.kind,
        released_on: form.released_on.unwrap_or(today),
        download_url: form.download_url,
        sha256: form.sha256.map(|sha256| sha256.to_ascii_lowercase()),
        notes: form.notes,
    };
    let announcements = announcements(desk, &new).await?;
    let policy = &desk.policy();
    let product = policy
        .product_lines
        .get(&new.product_line)
        .map_or(new.product_line.as_str(), |line| line.name.as_str());
    let without_fix = &form.without_fix;
    let arrival = |ticket: &TicketRecord, snapshot: &Snapshot| {
        let proposal = proposal(product, &new, &ticket.language);
        let release = PublishedRelease {
            product_line: &new.product_line,
            version: &new.version,
            proposal: &proposal,
        };
        let fixed = !without_fix.contains(&ticket.id);
        release_arrival(snapshot, &ticket.product_line, &release, fixed)
    };
    let planned = PlannedTickets {
        policy,
        actor: caller.actor(),
        arrival: &arrival,
    };
    let publication = desk
        .audited_store(caller)
        .add_release_announced(&new, &announcements, Some(&planned), desk.clock.now())
        .await?;
    desk.update_cache.forget_catalogs();
    Ok(Published {
        entry: entry_of(desk, publication.release).await?,
        planned_tickets: publication.planned_tickets,
    })
}

/// What a customer reads with the fix proposed: the release, where to get it, and its notes
/// in the ticket's language (else in English, else in any language).
fn proposal(product: &str, release: &NewRelease, language: &str) -> String {
    let mut text = format!("{product} {}", release.version);
    if let Some(url) = &release.download_url {
        text.push('\n');
        text.push_str(url);
    }
    if let Some(sha256) = &release.sha256 {
        text.push_str("\nSHA-256: ");
        text.push_str(sha256);
    }
    let notes = release
        .notes
        .get(language)
        .or_else(|| release.notes.get("en"))
        .or_else(|| release.notes.values().next());
    if let Some(notes) = notes {
        text.push_str("\n\n");
        text.push_str(notes);
    }
    text
}

/// The contacts to tell of a new release (POLICY.md §9): every contact of each customer
/// with a product of its line to which it is offered (the update of the product's series or
/// an upgrade) under the care the customer has today, with the serials it is for.
async fn announcements(desk: &Desk, new: &NewRelease) -> Result<Vec<Announcement>, DeskError> {
    let mut line: Vec<(String, bool, bool)> = desk
        .store
        .releases_of(&new.product_line)
        .await?
        .iter()
        .map(|release| {
            (
                release.version.clone(),
                release.kind == "major",
                release.is_retired(),
            )
        })
        .collect();
    line.push((new.version.clone(), new.kind == "major", false));
    // Numbered as the store will number it: by version.
    line.sort_by(|a, b| compare_versions(&a.0, &b.0));
    let releases: Vec<CatalogRelease> = line
        .into_iter()
        .zip(1..)
        .map(|((version, major, retired), position)| CatalogRelease {
            version,
            position,
            major,
            retired,
        })
        .collect();
    let now = desk.clock.now();
    let mut rules: HashMap<i64, UpdateRule> = HashMap::new();
    let mut serials: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for product in desk.store.products_of_line(&new.product_line).await? {
        let rule = match rules.get(&product.customer_id) {
            Some(rule) => *rule,
            None => {
                let rule = update_rule(desk, product.customer_id, now).await?;
                rules.insert(product.customer_id, rule);
                rule
            }
        };
        if is_offered(
            rule,
            &releases,
            &product.version,
            &product.licence.licensed_version,
            &new.version,
        ) {
            serials
                .entry(product.customer_id)
                .or_default()
                .push(product.serial);
        }
    }
    let mut announcements = Vec::new();
    for (customer_id, serials) in serials {
        for contact in desk.store.contacts_of(customer_id).await? {
            announcements.push(Announcement {
                contact_id: contact.id,
                serials: serials.clone(),
            });
        }
    }
    Ok(announcements)
}

/// Retires release `id`: kept in the catalog, out of support scope, no longer offered.
pub async fn retire(desk: &Desk, caller: &Caller, id: i64) -> Result<CatalogEntry, DeskError> {
    caller.require_role(&PUBLISHERS)?;
    let release = desk
        .audited_store(caller)
        .retire_release(id, desk.clock.now())
        .await?;
    desk.update_cache.forget_catalogs();
    entry_of(desk, release).await
}

/// The release `version` of `product_line`, for those who name it rather than number it
/// (the command line).
pub async fn find(desk: &Desk, product_line: &str, version: &str) -> Result<Release, DeskError> {
    desk.policy()
        .product_line(product_line)
        .map_err(|unknown| DeskError::invalid("product_line", unknown.to_string()))?;
    desk.store
        .releases_of(product_line)
        .await?
        .into_iter()
        .find(|release| release.version == version)
        .ok_or_else(|| {
            DeskError::invalid(
                "version",
                format!("{product_line} {version} is not in the catalog"),
            )
        })
}

/// The catalog of one line or of every line: by line, newest first, with the notes and
/// whether each release is in support scope.
pub async fn catalog(
    desk: &Desk,
    product_line: Option<&str>,
) -> Result<Vec<CatalogEntry>, DeskError> {
    let releases = match product_line {
        Some(line) => {
            desk.policy()
                .product_line(line)
                .map_err(|unknown| DeskError::invalid("product_line", unknown.to_string()))?;
            desk.store.releases_of(line).await?
        }
        None => desk.store.all_releases().await?,
    };
    let mut notes: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
    for note in desk.store.release_notes(product_line).await? {
        notes
            .entry(note.release_id)
            .or_default()
            .insert(note.language, note.notes);
    }
    let mut lines: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for release in &releases {
        if !lines.contains_key(release.product_line.as_str()) {
            let supported = in_scope(&desk.policy(), &releases, &release.product_line);
            lines.insert(&release.product_line, supported);
        }
    }
    let entries = releases
        .iter()
        .map(|release| CatalogEntry {
            in_support_scope: lines
                .get(release.product_line.as_str())
                .is_some_and(|supported| supported.contains(&release.version)),
            notes: notes.remove(&release.id).unwrap_or_default(),
            release: release.clone(),
        })
        .collect();
    Ok(entries)
}

/// What is wrong with a release as described: a line of the policy, a version of letters,
/// digits and separators, major or minor, notes in languages of the policy, and a download
/// address (http or https) with its SHA-256 checksum, both or neither.
pub fn release_problems(policy: &Policy, form: &ReleaseForm) -> Vec<FieldProblem> {
    let mut problems = Problems::default();
    if form.product_line.is_empty() {
        problems.add("product_line", Reason::required());
    } else if let Err(unknown) = policy.product_line(&form.product_line) {
        problems.add("product_line", Reason::invalid(unknown.to_string()));
    }
    if let Some(reason) = version_problem(&form.version) {
        problems.add("version", reason_of(reason));
    }
    if !KINDS.contains(&form.kind.as_str()) {
        problems.add(
            "kind",
            if form.kind.is_empty() {
                Reason::required()
            } else {
                Reason::invalid("major (an upgrade) or minor (an update)")
            },
        );
    }
    match (&form.download_url, &form.sha256) {
        (Some(url), sha256) => {
            if let Some(reason) = url_problem(url) {
                problems.add("download_url", Reason::invalid(reason));
            }
            match sha256 {
                None => problems.add(
                    "sha256",
                    Reason::invalid("required with a download address: installers check it"),
                ),
                Some(sha256) => {
                    if let Some(reason) = sha256_problem(sha256) {
                        problems.add("sha256", Reason::invalid(reason));
                    }
                }
            }
        }
        (None, Some(_)) => problems.add(
            "sha256",
            Reason::invalid("a checksum goes with a download address; give download_url too"),
        ),
        (None, None) => {}
    }
    let supported = &policy.languages.supported;
    for (language, notes) in &form.notes {
        let field = format!("notes.{language}");
        if !supported.contains(language) {
            problems.add(
                &field,
                Reason::invalid(format!(
                    "not a language of the policy: one of {}",
                    supported.join(", ")
                )),
            );
        } else if notes.trim().is_empty() {
            problems.add(&field, Reason::required());
        } else if notes.chars().count() > NOTES_MAX_CHARS {
            problems.add(&field, Reason::too_long(NOTES_MAX_CHARS));
        }
    }
    problems.into_problems()
}

/// The versions of `line` in support scope, among `releases` (of any lines).
fn in_scope(policy: &Policy, releases: &[Release], line: &str) -> Vec<String> {
    let catalog: Vec<CatalogRelease> = releases
        .iter()
        .filter(|release| release.product_line == line)
        .map(catalog_release)
        .collect();
    supported_versions(policy, &catalog)
}

/// A stored release as the domain's scope rules read it.
pub fn catalog_release(release: &Release) -> CatalogRelease {
    CatalogRelease {
        version: release.version.clone(),
        position: release.position,
        major: release.kind == "major",
        retired: release.is_retired(),
    }
}

async fn entry_of(desk: &Desk, release: Release) -> Result<CatalogEntry, DeskError> {
    let line = release.product_line.clone();
    let id = release.id;
    Ok(catalog(desk, Some(&line))
        .await?
        .into_iter()
        .find(|entry| entry.release.id == id)
        .unwrap_or(CatalogEntry {
            release,
            notes: BTreeMap::new(),
            in_support_scope: false,
        }))
}

/// The form with its texts trimmed and blanks taken as absent.
fn trimmed(form: ReleaseForm) -> ReleaseForm {
    let filled = |text: Option<String>| {
        text.map(|text| text.trim().to_string())
            .filter(|text| !text.is_empty())
    };
    ReleaseForm {
        product_line: form.product_line.trim().to_string(),
        version: form.version.trim().to_string(),
        kind: form.kind.trim().to_ascii_lowercase(),
        released_on: form.released_on,
        download_url: filled(form.download_url),
        sha256: filled(form.sha256),
        notes: form
            .notes
            .into_iter()
            .map(|(language, notes)| (language.trim().to_string(), notes.trim().to_string()))
            .collect(),
        without_fix: form.without_fix,
    }
}

fn reason_of(reason: String) -> Reason {
    if reason == "required" {
        Reason::required()
    } else {
        Reason::invalid(reason)
    }
}

/// What is wrong with a download address: an absolute http or https address on one line.
fn url_problem(url: &str) -> Option<String> {
    if url.chars().count() > URL_MAX_CHARS {
        return Some(format!("at most {URL_MAX_CHARS} characters"));
    }
    if url.contains(|c: char| c.is_control() || c.is_whitespace()) {
        return Some("an address has no spaces or line breaks".into());
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => None,
        _ => Some("an absolute http:// or https:// address".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::built_in().expect("the built-in policy loads")
    }

    fn form() -> ReleaseForm {
        ReleaseForm {
            product_line: "ol-connect".into(),
            version: "2026.2".into(),
            kind: "minor".into(),
            released_on: None,
            download_url: Some("https://downloads.example.com/olc-2026.2.exe".into()),
            sha256: Some("a".repeat(64)),
            notes: BTreeMap::from([("en".into(), "Faster PDF output.".into())]),
            without_fix: Vec::new(),
        }
    }

    fn fields(problems: &[FieldProblem]) -> Vec<&str> {
        problems
            .iter()
            .map(|problem| problem.field.as_str())
            .collect()
    }

    #[test]
    fn a_complete_release_has_no_problem() {
        assert_eq!(release_problems(&policy(), &form()), []);
    }

    #[test]
    fn every_faulty_field_is_named_at_once() {
        let faulty = ReleaseForm {
            product_line: "ol-disconnect".into(),
            version: "2026 2".into(),
            kind: "patch".into(),
            download_url: Some("ftp://example.com/x".into()),
            sha256: Some("123".into()),
            notes: BTreeMap::from([("xx".into(), "notes".into()), ("fr".into(), " ".into())]),
            ..form()
        };
        assert_eq!(
            fields(&release_problems(&policy(), &faulty)),
            [
                "product_line",
                "version",
                "kind",
                "download_url",
                "sha256",
                "notes.fr",
                "notes.xx"
            ]
        );
    }

    #[test]
    fn a_download_and_its_checksum_go_together() {
        let without_checksum = ReleaseForm {
            sha256: None,
            ..form()
        };
        assert_eq!(
            fields(&release_problems(&policy(), &without_checksum)),
            ["sha256"]
        );
        let without_download = ReleaseForm {
            download_url: None,
            ..form()
        };
        assert_eq!(
            fields(&release_problems(&policy(), &without_download)),
            ["sha256"]
        );
        let neither = ReleaseForm {
            download_url: None,
            sha256: None,
            ..form()
        };
        assert_eq!(release_problems(&policy(), &neither), []);
    }
}
