//! The release catalog's rules (POLICY.md §9): how a product line's versions are ordered
//! and what a version may look like. The catalog is what "the two most recent versions"
//! is computed from, and what an installed product may update to.

use std::cmp::Ordering;

/// The longest version a release may carry, in characters.
pub const VERSION_MAX_CHARS: usize = 40;

/// The order of two versions of one line, as people read them: runs of digits compare as
/// numbers ("8.10" after "8.9", "2025.10" after "2025.9"), the rest as text without case,
/// and a word comes before a number where they meet, as a preview precedes its release
/// ("8.1.0-beta" before "8.1.0", which is before "8.1.0.1"). The catalog stores the order
/// this gives when a release is published: versions are never compared as strings.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let mut left = pieces(a);
    let mut right = pieces(b);
    loop {
        match (left.next(), right.next()) {
            // Equal but for separators or case ("8.1" and "8-1"): any fixed order will do.
            (None, None) => return a.cmp(b),
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

    #[test]
    fn checksums_are_64_hexadecimal_digits() {
        assert_eq!(sha256_problem(&"aB".repeat(32)), None);
        assert!(sha256_problem(&"a".repeat(63)).is_some());
        assert!(sha256_problem(&"g".repeat(64)).is_some());
    }
}
