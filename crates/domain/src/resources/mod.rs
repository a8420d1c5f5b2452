//! The resource center (POLICY.md "Resources"): what customers are asked to look at before
//! they open a ticket. One catalog of entries: knowledge-base articles written here, and
//! external resources (documentation pages, learning-center courses, downloads) that are a
//! title and a link. An entry may apply to a product line and some of its releases; it has a
//! visibility; each language it is written in is a translation with its own life:
//!
//! draft → in review → published → archived, and back to draft from review or archive.
//!
//! Anyone on the staff writes and submits; support managers and administrators publish,
//! send back and archive. Readers see published translations only, of the visibilities
//! they may read: anyone the public ones, a customer's contact the customers' ones too,
//! staff every one.

pub mod community;
pub mod search;

use serde::{Deserialize, Serialize};

use crate::policy::Policy;
use crate::reason::Reason;
use crate::text::{WEB_LINK_MAX, is_web_link};
use crate::ticket::Role;

/// The longest title.
pub const TITLE_MAX: usize = 200;
/// The longest article body (Markdown), in characters.
pub const BODY_MAX: usize = 100_000;
/// At most this many tags, of at most `TAG_MAX` characters each.
pub const TAGS_MAX: usize = 20;
pub const TAG_MAX: usize = 40;
/// At most this many releases an entry applies to.
pub const RELEASES_MAX: usize = 30;

/// What an entry of the catalog is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A knowledge-base article, written here in Markdown.
    Article,
    /// A page of the product documentation, elsewhere.
    Documentation,
    /// A course of the learning center, elsewhere.
    Course,
    /// Something to download: a tool, a sample, a fix.
    Download,
}

impl EntryKind {
    pub const ALL: [EntryKind; 4] = [
        EntryKind::Article,
        EntryKind::Documentation,
        EntryKind::Course,
        EntryKind::Download,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::Article => "article",
            EntryKind::Documentation => "documentation",
            EntryKind::Course => "course",
            EntryKind::Download => "download",
        }
    }

    pub fn parse(text: &str) -> Option<EntryKind> {
        EntryKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// Whether it is a link to elsewhere (with a URL) rather than an article of ours.
    pub fn is_external(&self) -> bool {
        !matches!(self, EntryKind::Article)
    }
}

/// Who may read an entry.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone, signed in or not.
    Public,
    /// Customers' contacts, signed in, and staff.
    Customers,
    /// Staff only.
    Internal,
}

impl Visibility {
    pub const ALL: [Visibility; 3] = [
        Visibility::Public,
        Visibility::Customers,
        Visibility::Internal,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Customers => "customers",
            Visibility::Internal => "internal",
        }
    }

    pub fn parse(text: &str) -> Option<Visibility> {
        Visibility::ALL
            .into_iter()
            .find(|visibility| visibility.as_str() == text)
    }
}

/// Who is reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reader {
    /// Nobody signed in.
    Anyone,
    /// A customer's contact.
    Customer,
    Staff,
}

impl Reader {
    pub fn of(role: Option<Role>) -> Reader {
        match role {
            None => Reader::Anyone,
            Some(Role::CustomerContact) => Reader::Customer,
            Some(_) => Reader::Staff,
        }
    }

    /// The visibilities this reader may read.
    pub fn visibilities(&self) -> &'static [Visibility] {
        match self {
            Reader::Anyone => &[Visibility::Public],
            Reader::Customer => &[Visibility::Public, Visibility::Customers],
            Reader::Staff => &Visibility::ALL,
        }
    }

    /// Whether this reader sees translations that are not published (drafts, reviews,
    /// archives): staff only.
    pub fn sees_unpublished(&self) -> bool {
        matches!(self, Reader::Staff)
    }

    pub fn may_read(&self, visibility: Visibility, state: TranslationState) -> bool {
        self.visibilities().contains(&visibility)
            && (state == TranslationState::Published || self.sees_unpublished())
    }
}

/// Where a translation stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TranslationState {
    Draft,
    InReview,
    Published,
    Archived,
}

impl TranslationState {
    pub const ALL: [TranslationState; 4] = [
        TranslationState::Draft,
        TranslationState::InReview,
        TranslationState::Published,
        TranslationState::Archived,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TranslationState::Draft => "draft",
            TranslationState::InReview => "in_review",
            TranslationState::Published => "published",
            TranslationState::Archived => "archived",
        }
    }

    pub fn parse(text: &str) -> Option<TranslationState> {
        TranslationState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

/// A step in a translation's life.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// The writer asks for a review.
    Submit,
    /// A reviewer publishes (a draft or a reviewed translation).
    Publish,
    /// A reviewer sends it back to its writer.
    SendBack,
    /// A reviewer takes it out of the resource center.
    Archive,
    /// A reviewer brings an archived translation back, as a draft.
    Restore,
}

impl ReviewAction {
    pub const ALL: [ReviewAction; 5] = [
        ReviewAction::Submit,
        ReviewAction::Publish,
        ReviewAction::SendBack,
        ReviewAction::Archive,
        ReviewAction::Restore,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ReviewAction::Submit => "submit",
            ReviewAction::Publish => "publish",
            ReviewAction::SendBack => "send_back",
            ReviewAction::Archive => "archive",
            ReviewAction::Restore => "restore",
        }
    }

    pub fn parse(text: &str) -> Option<ReviewAction> {
        ReviewAction::ALL
            .into_iter()
            .find(|action| action.as_str() == text)
    }
}

/// Why a step cannot be taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("{action} is not allowed while the translation is {state}", action = action.as_str(), state = state.as_str())]
    NotNow {
        action: ReviewAction,
        state: TranslationState,
        allowed: Vec<ReviewAction>,
    },
    #[error("a {role} may not {action} a resource", role = role.as_str(), action = action.as_str())]
    NotPermitted { action: ReviewAction, role: Role },
}

/// Who reviews: support managers and administrators.
pub fn is_reviewer(role: Role) -> bool {
    matches!(role, Role::SupportManager | Role::Admin)
}

/// The state `action` by `role` leads to from `state`.
pub fn decide_review(
    state: TranslationState,
    role: Role,
    action: ReviewAction,
) -> Result<TranslationState, ReviewRefusal> {
    let permitted = match action {
        ReviewAction::Submit => role.is_staff(),
        _ => is_reviewer(role),
    };
    if !permitted {
        return Err(ReviewRefusal::NotPermitted { action, role });
    }
    next_state(state, action).ok_or_else(|| ReviewRefusal::NotNow {
        action,
        state,
        allowed: ReviewAction::ALL
            .into_iter()
            .filter(|action| next_state(state, *action).is_some())
            .collect(),
    })
}

fn next_state(state: TranslationState, action: ReviewAction) -> Option<TranslationState> {
    use TranslationState::{Archived, Draft, InReview, Published};
    match (action, state) {
        (ReviewAction::Submit, Draft) => Some(InReview),
        (ReviewAction::Publish, Draft | InReview) => Some(Published),
        (ReviewAction::SendBack, InReview) => Some(Draft),
        (ReviewAction::Archive, Draft | InReview | Published) => Some(Archived),
        (ReviewAction::Restore, Archived) => Some(Draft),
        _ => None,
    }
}

/// What is shared by every language of an entry, as a writer gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryFields {
    pub kind: EntryKind,
    pub product_line: Option<String>,
    /// Versions of the product line's releases.
    pub releases: Vec<String>,
    pub visibility: Visibility,
    pub tags: Vec<String>,
    /// The link of an external resource; none for an article.
    pub url: Option<String>,
}

/// One language of an entry, as a writer gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslationFields {
    pub language: String,
    pub title: String,
    /// Markdown; for an external resource, what it is about (may be empty).
    pub body: String,
}

/// A faulty field and why.
pub type FieldReason = (&'static str, Reason);

/// What is wrong with `fields`, every field at once; `catalog` is the versions of the
/// product line's releases.
pub fn entry_problems(
    policy: &Policy,
    fields: &EntryFields,
    catalog: &[String],
) -> Vec<FieldReason> {
    let mut problems = Vec::new();
    match &fields.product_line {
        Some(line) if !policy.product_lines.contains_key(line) => problems.push((
            "product_line",
            Reason::invalid(format!(
                "\"{line}\" is not a product line of the policy ({})",
                policy
                    .product_lines
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )),
        None if !fields.releases.is_empty() => problems.push((
            "releases",
            Reason::invalid("releases belong to a product line: name it"),
        )),
        _ => {}
    }
    if fields.releases.len() > RELEASES_MAX {
        problems.push((
            "releases",
            Reason::invalid(format!("at most {RELEASES_MAX} releases")),
        ));
    } else if fields.product_line.is_some()
        && let Some(unknown) = fields
            .releases
            .iter()
            .find(|release| !catalog.contains(release))
    {
        problems.push((
            "releases",
            Reason::invalid(format!(
                "\"{unknown}\" is not a release of the product line"
            )),
        ));
    }
    if fields.tags.len() > TAGS_MAX {
        problems.push(("tags", Reason::invalid(format!("at most {TAGS_MAX} tags"))));
    } else if fields.tags.iter().any(|tag| tag.trim().is_empty()) {
        problems.push(("tags", Reason::required()));
    } else if fields.tags.iter().any(|tag| tag.chars().count() > TAG_MAX) {
        problems.push(("tags", Reason::too_long(TAG_MAX)));
    } else if fields
        .tags
        .iter()
        .any(|tag| tag.contains(|character: char| character == ',' || character.is_control()))
    {
        problems.push(("tags", Reason::invalid("one line each, without commas")));
    }
    match (&fields.url, fields.kind.is_external()) {
        (None, true) => problems.push(("url", Reason::required())),
        (Some(_), false) => problems.push((
            "url",
            Reason::invalid("an article is written here; only external resources have a link"),
        )),
        (Some(url), true) if !is_web_link(url) => problems.push((
            "url",
            Reason::invalid(format!(
                "an http:// or https:// URL with a host, at most {WEB_LINK_MAX} characters"
            )),
        )),
        _ => {}
    }
    problems
}

/// What is wrong with one language of an entry of `kind`.
pub fn translation_problems(
    policy: &Policy,
    kind: EntryKind,
    fields: &TranslationFields,
) -> Vec<FieldReason> {
    let mut problems = Vec::new();
    if !policy.languages.supported.contains(&fields.language) {
        problems.push((
            "language",
            Reason::invalid(format!(
                "\"{}\" is not a language of the policy ({})",
                fields.language,
                policy.languages.supported.join(", ")
            )),
        ));
    }
    // Counted as given (blanks around included), as the API's schema counts.
    if fields.title.trim().is_empty() {
        problems.push(("title", Reason::required()));
    } else if fields.title.chars().count() > TITLE_MAX {
        problems.push(("title", Reason::too_long(TITLE_MAX)));
    } else if fields.title.contains(char::is_control) {
        problems.push((
            "title",
            Reason::invalid("one line, without tabs or line breaks"),
        ));
    }
    if fields.body.chars().count() > BODY_MAX {
        problems.push(("body", Reason::too_long(BODY_MAX)));
    } else if kind == EntryKind::Article && fields.body.trim().is_empty() {
        problems.push(("body", Reason::required()));
    }
    problems
}

/// Tags as kept: trimmed, lower-cased, once each, in the order given.
pub fn normalised_tags(tags: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        if !kept.contains(&tag) {
            kept.push(tag);
        }
    }
    kept
}

/// The longest comment a reader leaves with their feedback.
pub const COMMENT_MAX: usize = 2_000;
/// The longest search kept among those that found nothing.
pub const MISSED_QUERY_MAX: usize = 200;

/// What is wrong with a reader's comment.
pub fn comment_problems(comment: &str) -> Option<Reason> {
    (comment.chars().count() > COMMENT_MAX).then(|| Reason::too_long(COMMENT_MAX))
}

/// A search's words as kept among those that found nothing: lower-cased, blanks collapsed,
/// at most [`MISSED_QUERY_MAX`] characters; none for a search of no words.
pub fn missed_search_key(text: &str) -> Option<String> {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return None;
    }
    Some(words.join(" ").chars().take(MISSED_QUERY_MAX).collect())
}

/// The resource-center entries a text links (`…/resources/12`, `/resources/12?language=fr`),
/// each once, in the order they come: what an advisor's reply points the customer to.
pub fn linked_entries(text: &str) -> Vec<i64> {
    const PATH: &str = "/resources/";
    let mut found: Vec<i64> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(PATH) {
        let after = &rest[at + PATH.len()..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        let ends_the_path = after[digits.len()..]
            .chars()
            .next()
            .is_none_or(|next| !next.is_alphanumeric() && next != '/' && next != '-');
        if ends_the_path
            && let Ok(id) = digits.parse::<i64>()
            && !found.contains(&id)
        {
            found.push(id);
        }
        rest = after;
    }
    found
}

/// Whether an entry asks for a review because the product moved on: it names releases, and
/// none of them is among the releases supported now (the two most recent, POLICY.md §2).
pub fn outdated(releases: &[String], supported: &[String]) -> bool {
    !releases.is_empty() && !releases.iter().any(|release| supported.contains(release))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_entries_are_found_in_a_reply() {
        let reply = "See [Restart the spooler](https://desk.example/resources/12?language=fr) \
                     and https://desk.example/resources/7, again /resources/12; not \
                     /resources/suggestions nor /resources/3a or /resources/9/solved.";
        assert_eq!(linked_entries(reply), [12, 7]);
        assert!(linked_entries("no link").is_empty());
        assert_eq!(linked_entries("/resources/5"), [5]);
    }

    #[test]
    fn a_missed_search_is_kept_by_its_words() {
        assert_eq!(
            missed_search_key("  Spooler\tSTOPS \n at night "),
            Some("spooler stops at night".to_string())
        );
        assert_eq!(missed_search_key(" \n "), None);
        let long = "é".repeat(MISSED_QUERY_MAX + 10);
        assert_eq!(
            missed_search_key(&long).map(|key| key.chars().count()),
            Some(MISSED_QUERY_MAX)
        );
        assert_eq!(comment_problems(&"x".repeat(COMMENT_MAX)), None);
        assert_eq!(
            comment_problems(&"x".repeat(COMMENT_MAX + 1)),
            Some(Reason::too_long(COMMENT_MAX))
        );
    }

    fn policy() -> Policy {
        Policy::built_in().unwrap()
    }

    fn article() -> EntryFields {
        EntryFields {
            kind: EntryKind::Article,
            product_line: Some("ol-connect".into()),
            releases: vec!["2025.1".into()],
            visibility: Visibility::Public,
            tags: vec!["printing".into()],
            url: None,
        }
    }

    #[test]
    fn a_translation_lives_from_draft_to_archive_and_back() {
        use ReviewAction::*;
        use TranslationState::*;
        assert_eq!(decide_review(Draft, Role::Advisor, Submit), Ok(InReview));
        assert_eq!(
            decide_review(InReview, Role::SupportManager, Publish),
            Ok(Published)
        );
        assert_eq!(decide_review(InReview, Role::Admin, SendBack), Ok(Draft));
        assert_eq!(decide_review(Published, Role::Admin, Archive), Ok(Archived));
        assert_eq!(decide_review(Archived, Role::Admin, Restore), Ok(Draft));
        assert_eq!(
            decide_review(Draft, Role::Advisor, Publish),
            Err(ReviewRefusal::NotPermitted {
                action: Publish,
                role: Role::Advisor
            })
        );
        assert_eq!(
            decide_review(Draft, Role::CustomerContact, Submit),
            Err(ReviewRefusal::NotPermitted {
                action: Submit,
                role: Role::CustomerContact
            })
        );
        let Err(ReviewRefusal::NotNow { allowed, .. }) =
            decide_review(Published, Role::Admin, Publish)
        else {
            panic!("a published translation is not published again");
        };
        assert_eq!(allowed, [Archive]);
    }

    #[test]
    fn readers_see_what_their_visibility_and_the_state_allow() {
        use TranslationState::*;
        assert!(Reader::Anyone.may_read(Visibility::Public, Published));
        assert!(!Reader::Anyone.may_read(Visibility::Customers, Published));
        assert!(!Reader::Anyone.may_read(Visibility::Public, Draft));
        assert!(Reader::Customer.may_read(Visibility::Customers, Published));
        assert!(!Reader::Customer.may_read(Visibility::Internal, Published));
        assert!(!Reader::Customer.may_read(Visibility::Public, InReview));
        assert!(Reader::Staff.may_read(Visibility::Internal, Draft));
        assert_eq!(Reader::of(Some(Role::CustomerContact)), Reader::Customer);
        assert_eq!(Reader::of(None), Reader::Anyone);
    }

    #[test]
    fn entries_are_checked_against_the_policy_and_the_catalog() {
        let policy = policy();
        let catalog = vec!["2025.1".to_string(), "2024.2".to_string()];
        assert!(entry_problems(&policy, &article(), &catalog).is_empty());
        let wrong = EntryFields {
            product_line: Some("teapot".into()),
            tags: vec!["a,b".into()],
            url: Some("https://docs.example/x".into()),
            ..article()
        };
        let fields: Vec<&str> = entry_problems(&policy, &wrong, &catalog)
            .iter()
            .map(|(field, _)| *field)
            .collect();
        assert_eq!(fields, ["product_line", "tags", "url"]);
        let unknown_release = EntryFields {
            releases: vec!["1999.1".into()],
            ..article()
        };
        assert_eq!(
            entry_problems(&policy, &unknown_release, &catalog)[0]
                .1
                .text(),
            "\"1999.1\" is not a release of the product line"
        );
        let link = EntryFields {
            kind: EntryKind::Documentation,
            url: Some("javascript:alert(1)".into()),
            ..article()
        };
        assert_eq!(entry_problems(&policy, &link, &catalog)[0].0, "url");
        let no_link = EntryFields {
            kind: EntryKind::Course,
            ..article()
        };
        assert_eq!(entry_problems(&policy, &no_link, &catalog)[0].0, "url");
    }

    #[test]
    fn translations_have_a_title_a_body_and_a_language_of_the_policy() {
        let policy = policy();
        let good = TranslationFields {
            language: "fr".into(),
            title: "L'imprimante n'imprime plus".into(),
            body: "Redémarrez le spouleur.".into(),
        };
        assert!(translation_problems(&policy, EntryKind::Article, &good).is_empty());
        let bad = TranslationFields {
            language: "tlh".into(),
            title: "x".repeat(TITLE_MAX + 1),
            body: " ".into(),
        };
        let fields: Vec<&str> = translation_problems(&policy, EntryKind::Article, &bad)
            .iter()
            .map(|(field, _)| *field)
            .collect();
        assert_eq!(fields, ["language", "title", "body"]);
        // An external resource may say nothing more than its title.
        let link = TranslationFields {
            body: String::new(),
            ..good
        };
        assert!(translation_problems(&policy, EntryKind::Download, &link).is_empty());
    }

    #[test]
    fn tags_are_kept_once_lower_cased_and_old_releases_ask_for_review() {
        assert_eq!(
            normalised_tags(&[" Printing ".into(), "printing".into(), "PDF".into()]),
            ["printing", "pdf"]
        );
        let supported = vec!["2025.1".to_string(), "2024.2".to_string()];
        assert!(outdated(&["2023.1".into()], &supported));
        assert!(!outdated(&["2023.1".into(), "2024.2".into()], &supported));
        assert!(!outdated(&[], &supported), "an entry of every release");
    }
}
