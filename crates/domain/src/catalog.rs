//! The release catalog's rules (POLICY.md §9): how a product line's versions are ordered
//! and what a version may look like. The catalog is what "the two most recent versions"
//! is computed from, and what an installed product may update to.

use std::cmp::Ordering;

use crate::intake::CatalogRelease;
use crate::policy::UpdateRule;
use crate::ticket::{EventData, Resolution, Snapshot, TicketState};

/// The longest version a release may carry, in characters.
pub const VERSION_MAX_CHARS: usize = 40;

/// The order of two versions of one line, as people read them: runs of digits compare as
/// numbers ("8.10" after "8.9", "2025.10" after "2025.9"), the rest as text without case,
/// and a word comes before a number where they meet, as a preview precedes its release
/// ("8.1.0-beta" before "8.1.0", which is before "8.1.0.1"). The catalog stores the order
/// this gives when a release is published: versions are never compared as strings.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    // Equal but for separators, case, leading zeros or build metadata: any fixed order
    // will do (the catalog holds only one of them, see `same_version`).
    precedence(a, b).then_with(|| a.cmp(b))
}

/// Whether two versions are the same release to people: equal piece by piece, whatever
/// their separators, case, leading zeros and build metadata after `+` ("8.1", "8-1",
/// "8.01" and "8.1+build.7"). The catalog refuses a second one.
pub fn same_version(a: &str, b: &str) -> bool {
    precedence(a, b) == Ordering::Equal
}

/// The order of two versions by their pieces, build metadata (after `+`) left out as
/// semantic versioning does.
fn precedence(a: &str, b: &str) -> Ordering {
    let without_build = |version: &str| version.split('+').next().unwrap_or_default().to_string();
    let (a, b) = (without_build(a), without_build(b));
    let mut left = pieces(&a);
    let mut right = pieces(&b);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(Piece::Number(_))) | (Some(Piece::Word(_)), None) => {
                return Ordering::Less;
            }
            (None, Some(Piece::Word(_))) | (Some(Piece::Number(_)), None) => {
                return Ordering::Greater;
            }
            (Some(x), Some(y)) => {
                let order = match (x, y) {
                    (Piece::Number(x), Piece::Number(y)) => compare_numbers(x, y),
                    (Piece::Number(_), Piece::Word(_)) => Ordering::Greater,
                    (Piece::Word(_), Piece::Number(_)) => Ordering::Less,
                    (Piece::Word(x), Piece::Word(y)) => x
                        .chars()
                        .flat_map(char::to_lowercase)
                        .cmp(y.chars().flat_map(char::to_lowercase)),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// What is wrong with a version, if anything: it is required, one line of at most
/// [`VERSION_MAX_CHARS`] letters, digits, dots, dashes, underscores and plus signs,
/// starting with a letter or a digit.
pub fn version_problem(version: &str) -> Option<String> {
    if version.is_empty() {
        return Some("required".into());
    }
    if version.chars().count() > VERSION_MAX_CHARS {
        return Some(format!("at most {VERSION_MAX_CHARS} characters"));
    }
    if !version.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("must start with a letter or a digit".into());
    }
    if let Some(other) = version
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+')))
    {
        return Some(format!(
            "{other:?} is not allowed: use letters, digits, '.', '-', '_' and '+'"
        ));
    }
    None
}

/// What is wrong with a SHA-256 checksum as given: 64 hexadecimal digits.
pub fn sha256_problem(sha256: &str) -> Option<String> {
    (sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| "a SHA-256 checksum is 64 hexadecimal digits".into())
}

/// What an installed product is offered by the update manager (POLICY.md §9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateCheck {
    /// The newest release of the installed version's series (the major release it follows
    /// and its minor ones) that the licence allows: an update.
    pub update: Option<CatalogRelease>,
    /// The newest release of a later series that the licence allows: an upgrade.
    pub upgrade: Option<CatalogRelease>,
    /// The newest release newer than both offers that the licence does not allow (what
    /// renewing care would bring), if any.
    pub withheld: Option<CatalogRelease>,
}

impl UpdateCheck {
    /// Nothing newer in the catalog, allowed or not.
    pub fn is_up_to_date(&self) -> bool {
        self.update.is_none() && self.upgrade.is_none() && self.withheld.is_none()
    }
}

/// The releases newer than `installed` that `rule` allows a licence bought for
/// `licensed` (the highest version it was sold for): retired releases are never offered.
/// Versions that are not in the catalog (a hotfix, a typo) are placed among its releases by
/// [`compare_versions`]; the catalog's own order stands for the releases it holds.
pub fn check_updates(
    rule: UpdateRule,
    releases: &[CatalogRelease],
    installed: &str,
    licensed: &str,
) -> UpdateCheck {
    let line = Line::new(releases);
    let installed_at = line.place(installed);
    let installed_series = line.series(installed_at);
    let licensed_series = line.series(line.place(licensed));
    let allowed = |release: &CatalogRelease| match rule {
        UpdateRule::All => true,
        UpdateRule::WithinLicensedMajor => line.series(Line::at(release)) == licensed_series,
        UpdateRule::None => false,
    };
    let mut newer: Vec<&CatalogRelease> = releases
        .iter()
        .filter(|release| !release.retired && Line::at(release) > installed_at)
        .collect();
    newer.sort_by_key(|release| std::cmp::Reverse(release.position));
    let update = newer
        .iter()
        .find(|release| allowed(release) && line.series(Line::at(release)) == installed_series)
        .map(|release| (*release).clone());
    let upgrade = newer
        .iter()
        .find(|release| allowed(release) && line.series(Line::at(release)) > installed_series)
        .map(|release| (*release).clone());
    let best = [&update, &upgrade]
        .into_iter()
        .flatten()
        .map(|release| release.position)
        .max();
    let withheld = newer
        .iter()
        .find(|release| !allowed(release) && best.is_none_or(|best| release.position > best))
        .map(|release| (*release).clone());
    UpdateCheck {
        update,
        upgrade,
        withheld,
    }
}

/// The newest version a licence bought for `licensed` may run under `rule`: what an
/// activation code allows. The licensed version itself when nothing newer is allowed.
pub fn highest_allowed(rule: UpdateRule, releases: &[CatalogRelease], licensed: &str) -> String {
    let check = check_updates(rule, releases, licensed, licensed);
    [check.update, check.upgrade]
        .into_iter()
        .flatten()
        .max_by_key(|release| release.position)
        .map_or_else(|| licensed.to_string(), |release| release.version)
}

/// A line's releases on one scale: release positions doubled, a version the catalog does
/// not hold just after the newest release older than it.
struct Line<'a> {
    releases: &'a [CatalogRelease],
}

impl<'a> Line<'a> {
    fn new(releases: &'a [CatalogRelease]) -> Self {
        Line { releases }
    }

    fn at(release: &CatalogRelease) -> i64 {
        release.position.saturating_mul(2)
    }

    fn place(&self, version: &str) -> i64 {
        if let Some(known) = self
            .releases
            .iter()
            .find(|release| same_version(&release.version, version))
        {
            return Line::at(known);
        }
        self.releases
            .iter()
            .filter(|release| compare_versions(&release.version, version) == Ordering::Less)
            .map(Line::at)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    /// The series of a place: that of the newest major release at or before it (retired
    /// or not: a withdrawn major release still began its series); 0 before any.
    fn series(&self, place: i64) -> i64 {
        self.releases
            .iter()
            .filter(|release| release.major && Line::at(release) <= place)
            .map(Line::at)
            .max()
            .unwrap_or(0)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Number(&'a str),
    Word(&'a str),
}

/// The runs of digits and of letters of a version; separators only separate.
fn pieces(version: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = version;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| !c.is_alphanumeric());
        let first = rest.chars().next()?;
        let digits = first.is_ascii_digit();
        let end = rest
            .find(|c: char| !c.is_alphanumeric() || c.is_ascii_digit() != digits)
            .unwrap_or(rest.len());
        let (piece, after) = rest.split_at(end);
        rest = after;
        Some(if digits {
            Piece::Number(piece)
        } else {
            Piece::Word(piece)
        })
    })
}

/// Two runs of digits as numbers of any length: leading zeros aside, the longer is larger.
fn compare_numbers(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// What a contact is told of a new release, kept with the notice when the release is
/// published: the release, and the customer's products it is an update or an upgrade for.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReleaseNotice {
    pub release_id: i64,
    pub serials: Vec<String>,
}

/// Whether `new` (of `releases`, the line's catalog with it) is offered to a product
/// running `installed`, licensed for `licensed`, under `rule`: the update of its series or
/// the upgrade.
pub fn is_offered(
    rule: UpdateRule,
    releases: &[CatalogRelease],
    installed: &str,
    licensed: &str,
    new: &str,
) -> bool {
    let offers = check_updates(rule, releases, installed, licensed);
    [offers.update, offers.upgrade]
        .iter()
        .flatten()
        .any(|release| release.version == new)
}

/// A release just published, as the tickets planned for it learn of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishedRelease<'a> {
    pub product_line: &'a str,
    pub version: &'a str,
    /// What the customer reads with the proposed solution: where to get the release and
    /// its notes.
    pub proposal: &'a str,
}

/// Whether a ticket of `ticket_line` waits for `release`: it is planned for that version of
/// that line (versions compared as the catalog tells them apart, so "8.1" is "8.01").
pub fn waits_for(snapshot: &Snapshot, ticket_line: &str, release: &PublishedRelease<'_>) -> bool {
    snapshot.state == TicketState::PlannedForRelease
        && ticket_line == release.product_line
        && snapshot
            .planned_release
            .as_deref()
            .is_some_and(|planned| same_version(planned, release.version))
}

/// What a ticket gets when `release` is published (POLICY.md §7): a ticket waiting for it
/// learns it is out; with its fix in it (`fixed`), a proposed solution follows, the fix
/// being in the release, and waits for the customer's consent; without, the ticket is back
/// with its advisor. Nothing for a ticket that does not wait for it.
pub fn release_arrival(
    snapshot: &Snapshot,
    ticket_line: &str,
    release: &PublishedRelease<'_>,
    fixed: bool,
) -> Vec<EventData> {
    if !waits_for(snapshot, ticket_line, release) {
        return Vec::new();
    }
    let published = EventData::ReleasePublished {
        product_line: release.product_line.to_string(),
        version: release.version.to_string(),
        fixed,
    };
    if !fixed {
        return vec![published];
    }
    vec![
        published,
        EventData::SolutionProposed {
            resolution: Resolution::PermanentFix,
            body: release.proposal.to_string(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(versions: &[&str]) -> Vec<String> {
        let mut versions: Vec<String> = versions.iter().map(ToString::to_string).collect();
        versions.sort_by(|a, b| compare_versions(a, b));
        versions
    }

    #[test]
    fn numbers_compare_as_numbers_not_as_text() {
        assert_eq!(
            sorted(&["8.10", "8.2", "8.9", "10.0", "7.6"]),
            ["7.6", "8.2", "8.9", "8.10", "10.0"]
        );
        assert_eq!(
            sorted(&["2025.10", "2025.2", "2024.12", "2026.1"]),
            ["2024.12", "2025.2", "2025.10", "2026.1"]
        );
    }

    #[test]
    fn a_longer_version_follows_its_prefix_and_a_preview_precedes_its_release() {
        assert_eq!(
            sorted(&["8.1.1", "8.1", "8.0.9"]),
            ["8.0.9", "8.1", "8.1.1"]
        );
        assert_eq!(
            sorted(&["8.1.0", "8.1.0-beta", "8.1.0-RC1"]),
            ["8.1.0-beta", "8.1.0-RC1", "8.1.0"]
        );
    }

    #[test]
    fn build_metadata_does_not_order_and_near_duplicates_are_the_same_version() {
        assert_eq!(
            sorted(&["8.1.0+build.9", "8.1.0", "8.0.9+build.1"]),
            ["8.0.9+build.1", "8.1.0", "8.1.0+build.9"]
        );
        for (a, b) in [
            ("8.1", "8-1"),
            ("8.1", "8.01"),
            ("8.1.0-RC1", "8.1.0-rc1"),
            ("8.1", "8.1+b7"),
        ] {
            assert!(same_version(a, b), "{a} and {b}");
        }
        assert!(!same_version("8.1", "8.1.0"));
        assert!(!same_version("8.1", "8.10"));
    }

    #[test]
    fn leading_zeros_and_huge_numbers_compare_by_value() {
        assert_eq!(compare_versions("8.01", "8.1"), Ordering::Less);
        assert_eq!(
            compare_versions("99999999999999999999999.1", "100000000000000000000000.0"),
            Ordering::Less
        );
    }

    #[test]
    fn versions_are_checked() {
        assert_eq!(version_problem("2026.1"), None);
        assert_eq!(version_problem("8.1.0-RC1+build.7"), None);
        assert_eq!(version_problem(""), Some("required".into()));
        assert!(version_problem("8.1 beta").is_some_and(|reason| reason.contains("' '")));
        assert!(version_problem(".8").is_some());
        assert!(version_problem(&"9".repeat(41)).is_some());
    }

    /// OL Connect's line: majors start 2025.1 and 2026.1.
    fn line() -> Vec<CatalogRelease> {
        [
            ("2024.2", false),
            ("2025.1", true),
            ("2025.2", false),
            ("2025.3", false),
            ("2026.1", true),
            ("2026.2", false),
        ]
        .into_iter()
        .enumerate()
        .map(|(index, (version, major))| CatalogRelease {
            version: version.into(),
            position: index as i64 + 1,
            major,
            retired: false,
        })
        .collect()
    }

    fn versions(check: &UpdateCheck) -> [Option<&str>; 3] {
        [&check.update, &check.upgrade, &check.withheld]
            .map(|release| release.as_ref().map(|release| release.version.as_str()))
    }

    #[test]
    fn with_care_every_newer_release_is_offered() {
        let check = check_updates(UpdateRule::All, &line(), "2025.1", "2025.1");
        assert_eq!(versions(&check), [Some("2025.3"), Some("2026.2"), None]);
        let check = check_updates(UpdateRule::All, &line(), "2026.1", "2025.1");
        assert_eq!(versions(&check), [Some("2026.2"), None, None]);
    }

    #[test]
    fn without_care_only_the_licensed_major_versions_updates() {
        let check = check_updates(UpdateRule::WithinLicensedMajor, &line(), "2025.1", "2025.2");
        assert_eq!(versions(&check), [Some("2025.3"), None, Some("2026.2")]);
        // Licensed for 2026.x, still running 2025.2: the upgrade it paid for is offered.
        let check = check_updates(UpdateRule::WithinLicensedMajor, &line(), "2025.2", "2026.1");
        assert_eq!(versions(&check), [None, Some("2026.2"), None]);
        // Running past its licence: nothing it may take.
        let check = check_updates(UpdateRule::WithinLicensedMajor, &line(), "2026.1", "2025.3");
        assert_eq!(versions(&check), [None, None, Some("2026.2")]);
    }

    #[test]
    fn nothing_is_offered_under_the_rule_none_and_the_newest_is_withheld() {
        let check = check_updates(UpdateRule::None, &line(), "2025.1", "2026.2");
        assert_eq!(versions(&check), [None, None, Some("2026.2")]);
    }

    #[test]
    fn retired_releases_are_never_offered() {
        let mut line = line();
        line[5].retired = true; // 2026.2
        line[3].retired = true; // 2025.3
        let check = check_updates(UpdateRule::All, &line, "2025.1", "2025.1");
        assert_eq!(versions(&check), [Some("2025.2"), Some("2026.1"), None]);
    }

    #[test]
    fn the_newest_is_up_to_date_and_an_unknown_version_is_placed_by_its_number() {
        assert!(check_updates(UpdateRule::All, &line(), "2026.2", "2026.2").is_up_to_date());
        // A hotfix between 2025.2 and 2025.3.
        let check = check_updates(
            UpdateRule::WithinLicensedMajor,
            &line(),
            "2025.2.1",
            "2025.2.1",
        );
        assert_eq!(versions(&check), [Some("2025.3"), None, Some("2026.2")]);
        // Older than the whole catalog, before any major release.
        let check = check_updates(UpdateRule::WithinLicensedMajor, &line(), "2023.1", "2023.1");
        assert_eq!(versions(&check), [Some("2024.2"), None, Some("2026.2")]);
    }

    #[test]
    fn the_highest_allowed_version_follows_the_rule() {
        assert_eq!(
            highest_allowed(UpdateRule::All, &line(), "2025.1"),
            "2026.2"
        );
        assert_eq!(
            highest_allowed(UpdateRule::WithinLicensedMajor, &line(), "2025.1"),
            "2025.3"
        );
        assert_eq!(
            highest_allowed(UpdateRule::None, &line(), "2025.1"),
            "2025.1"
        );
        assert_eq!(highest_allowed(UpdateRule::All, &[], "8.1"), "8.1");
    }

    proptest::proptest! {
        /// Whatever the line, the versions and the rule: an offer is newer than what is
        /// installed, not retired, and allowed; an upgrade is of a later series than an
        /// update; what is withheld is newer than every offer.
        #[test]
        fn offers_are_newer_current_and_allowed(
            kinds in proptest::collection::vec((proptest::bool::ANY, proptest::bool::ANY), 1..12),
            installed in 0usize..14,
            licensed in 0usize..14,
            rule in 0usize..3,
        ) {
            let releases: Vec<CatalogRelease> = kinds
                .iter()
                .enumerate()
                .map(|(index, (major, retired))| CatalogRelease {
                    version: format!("1.{}", index + 1),
                    position: index as i64 + 1,
                    major: *major,
                    retired: *retired,
                })
                .collect();
            let rule = [UpdateRule::All, UpdateRule::WithinLicensedMajor, UpdateRule::None][rule];
            let installed = format!("1.{installed}");
            let licensed = format!("1.{licensed}");
            let check = check_updates(rule, &releases, &installed, &licensed);
            for offer in [&check.update, &check.upgrade].into_iter().flatten() {
                proptest::prop_assert!(!offer.retired);
                proptest::prop_assert_eq!(
                    compare_versions(&offer.version, &installed),
                    Ordering::Greater
                );
                proptest::prop_assert!(rule != UpdateRule::None);
            }
            if let (Some(update), Some(upgrade)) = (&check.update, &check.upgrade) {
                proptest::prop_assert!(upgrade.position > update.position);
            }
            if let Some(withheld) = &check.withheld {
                for offer in [&check.update, &check.upgrade].into_iter().flatten() {
                    proptest::prop_assert!(withheld.position > offer.position);
                }
                proptest::prop_assert!(rule != UpdateRule::All);
            }
            if rule == UpdateRule::All {
                let newest_current = releases
                    .iter()
                    .filter(|release| !release.retired)
                    .filter(|release| compare_versions(&release.version, &installed) == Ordering::Greater)
                    .map(|release| release.position)
                    .max();
                let best = [&check.update, &check.upgrade]
                    .into_iter()
                    .flatten()
                    .map(|release| release.position)
                    .max();
                proptest::prop_assert_eq!(best, newest_current);
            }
        }
    }

    #[test]
    fn checksums_are_64_hexadecimal_digits() {
        assert_eq!(sha256_problem(&"aB".repeat(32)), None);
        assert!(sha256_problem(&"a".repeat(63)).is_some());
        assert!(sha256_problem(&"g".repeat(64)).is_some());
    }
}
