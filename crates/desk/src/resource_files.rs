//! The resource center as files, for `caredesk kb import DIR` and `caredesk kb export DIR`:
//! one Markdown file per entry and language, `KEY.LANGUAGE.md`, that begins with a TOML
//! header between two `+++` lines:
//!
//! ```text
//! +++
//! key = "jobs-stop-after-update"
//! language = "en"
//! title = "Jobs stop printing after an update"
//! kind = "article"
//! product_line = "ol-connect"
//! releases = ["2025.1"]
//! visibility = "public"
//! tags = ["printing", "spooler"]
//! state = "published"
//! +++
//! Restart the **print spooler**…
//! ```
//!
//! Everything after the second `+++` line is the text, as it is. The files of one key are
//! one entry: what they share (kind, product line, releases, visibility, tags, url) must
//! agree. An import checks every file first and writes nothing unless all are right; a
//! mistake is told by file, line and field. An export gives an entry that has no key yet the
//! key `entry-ID`. Exporting, importing the files and exporting again gives the same files.

use std::collections::BTreeMap;
use std::fmt;

use caredesk_domain::resources::{
    EntryFields, EntryKind, TranslationFields, TranslationState, Visibility, entry_problems,
    normalised_tags, translation_problems,
};
use caredesk_domain::text::{forbidden_character, forbidden_character_reason};
use caredesk_domain::ticket::Role;
use caredesk_store::{Entry, ImportedEntry, ImportedTranslation, ResourceImport, Translation};
use serde::{Deserialize, Serialize};

use crate::resources::{indexed, new_entry};
use crate::{Caller, Desk, DeskError};

/// Who imports and exports: the reviewers (an import publishes), and the operator.
const REVIEWERS: [Role; 2] = [Role::SupportManager, Role::Admin];

/// The longest key: a file name's first part.
const KEY_MAX: usize = 80;

/// A file's header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    key: String,
    language: String,
    title: String,
    kind: EntryKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product_line: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    releases: Vec<String>,
    visibility: Visibility,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    state: TranslationState,
}

/// What is wrong with a file, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}:{}: {}: {}",
            self.file, self.line, self.field, self.message
        )
    }
}

/// A file read: its header, where each header line is, and its text.
struct ParsedFile<'a> {
    name: &'a str,
    header: Header,
    header_text: &'a str,
    body: &'a str,
    /// The line the text starts on.
    body_line: usize,
}

impl ParsedFile<'_> {
    /// The line of `field` in the header (the header's first line when it is not there).
    fn line_of(&self, field: &str) -> usize {
        if field == "body" {
            return self.body_line;
        }
        self.header_text
            .lines()
            .position(|line| {
                line.trim_start()
                    .strip_prefix(field)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map_or(1, |index| index + 2)
    }

    fn problem(&self, field: &str, message: impl Into<String>) -> FileProblem {
        FileProblem {
            file: self.name.to_string(),
            line: self.line_of(field),
            field: field.to_string(),
            message: message.into(),
        }
    }

    fn entry_fields(&self) -> EntryFields {
        EntryFields {
            kind: self.header.kind,
            product_line: self.header.product_line.clone(),
            releases: self.header.releases.clone(),
            visibility: self.header.visibility,
            tags: self.header.tags.clone(),
            url: self.header.url.clone(),
        }
    }
}

fn parse<'a>(name: &'a str, text: &'a str) -> Result<ParsedFile<'a>, FileProblem> {
    let at = |line: usize, field: &str, message: String| FileProblem {
        file: name.to_string(),
        line,
        field: field.to_string(),
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
    else {
        return Err(at(
            1,
            "header",
            "the file begins with a line +++, then its TOML header, then +++".into(),
        ));
    };
    let (header_text, body) = match rest.find("\n+++") {
        Some(end)
            if rest[end + 4..].is_empty()
                || rest[end + 4..].starts_with('\n')
                || rest[end + 4..].starts_with("\r\n") =>
        {
            let after = &rest[end + 4..];
            let body = after
                .strip_prefix("\r\n")
                .or_else(|| after.strip_prefix('\n'))
                .unwrap_or(after);
            (&rest[..=end], body)
        }
        _ => {
            return Err(at(1, "header", "the header has no closing +++ line".into()));
        }
    };
    let body_line = header_text.lines().count() + 3;
    let header: Header = toml::from_str(header_text).map_err(|error| {
        let line = error.span().map_or(1, |span| {
            header_text[..span.start].matches('\n').count() + 2
        });
        at(line, "header", error.message().to_string())
    })?;
    Ok(ParsedFile {
        name,
        header,
        header_text,
        body,
        body_line,
    })
}

fn is_key(key: &str) -> bool {
    let mut characters = key.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first.is_ascii_digit())
        && characters.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && key.len() <= KEY_MAX
}

/// Checks every file (`(name, text)`) and, when all are right, writes them in one
/// transaction. The problems of every file otherwise, and nothing written.
pub async fn import_files(
    desk: &Desk,
    caller: &Caller,
    files: &[(String, String)],
) -> Result<Result<ResourceImport, Vec<FileProblem>>, DeskError> {
    caller.require_role(&REVIEWERS)?;
    let mut problems = Vec::new();
    let mut parsed = Vec::with_capacity(files.len());
    for (name, text) in files {
        // What no field may hold (PostgreSQL cannot keep a NUL), told by line.
        if let Some(character) = forbidden_character(text) {
            let before = text.split(character).next().unwrap_or_default();
            problems.push(FileProblem {
                file: name.clone(),
                line: before.matches('\n').count() + 1,
                field: "text".into(),
                message: forbidden_character_reason(character),
            });
            continue;
        }
        match parse(name, text) {
            Ok(file) => parsed.push(file),
            Err(problem) => problems.push(problem),
        }
    }
    let mut catalogs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in parsed
        .iter()
        .filter_map(|file| file.header.product_line.as_ref())
    {
        if !catalogs.contains_key(line) {
            let versions = desk
                .store
                .releases_of(line)
                .await?
                .into_iter()
                .map(|release| release.version)
                .collect();
            catalogs.insert(line.clone(), versions);
        }
    }
    // One entry per key, its languages in the order of the files.
    let mut by_key: BTreeMap<&str, Vec<&ParsedFile<'_>>> = BTreeMap::new();
    for file in &parsed {
        let header = &file.header;
        if !is_key(&header.key) {
            problems.push(file.problem(
                "key",
                format!(
                    "lower-case letters, digits and dashes, at most {KEY_MAX}, not starting with a dash"
                ),
            ));
        }
        let fields = file.entry_fields();
        let catalog = header
            .product_line
            .as_ref()
            .and_then(|line| catalogs.get(line))
            .map_or(&[][..], Vec::as_slice);
        for (field, reason) in entry_problems(&desk.policy(), &fields, catalog) {
            problems.push(file.problem(field, reason.text()));
        }
        let translation = TranslationFields {
            language: header.language.clone(),
            title: header.title.clone(),
            body: file.body.to_string(),
        };
        for (field, reason) in translation_problems(&desk.policy(), header.kind, &translation) {
            problems.push(file.problem(field, reason.text()));
        }
        let siblings = by_key.entry(&header.key).or_default();
        if let Some(first) = siblings.first() {
            if siblings
                .iter()
                .any(|sibling| sibling.header.language == header.language)
            {
                problems.push(file.problem(
                    "language",
                    format!("{} has this key and language already", first.name),
                ));
            }
            let theirs = first.entry_fields();
            let differing = [
                ("kind", fields.kind != theirs.kind),
                ("product_line", fields.product_line != theirs.product_line),
                ("releases", fields.releases != theirs.releases),
                ("visibility", fields.visibility != theirs.visibility),
                (
                    "tags",
                    normalised_tags(&fields.tags) != normalised_tags(&theirs.tags),
                ),
                ("url", fields.url != theirs.url),
            ];
            for (field, differs) in differing {
                if differs {
                    problems.push(file.problem(
                        field,
                        format!(
                            "differs from {}: the languages of one key share it",
                            first.name
                        ),
                    ));
                }
            }
        }
        siblings.push(file);
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        return Ok(Err(problems));
    }
    let entries: Vec<ImportedEntry> = by_key
        .into_iter()
        .filter_map(|(key, files)| {
            let first = files.first()?;
            Some(ImportedEntry {
                key: key.to_string(),
                entry: new_entry(first.entry_fields()),
                translations: files
                    .iter()
                    .map(|file| ImportedTranslation {
                        text: indexed(TranslationFields {
                            language: file.header.language.clone(),
                            title: file.header.title.clone(),
                            body: file.body.to_string(),
                        }),
                        state: file.header.state,
                    })
                    .collect(),
            })
        })
        .collect();
    Ok(Ok(desk
        .store
        .import_resources(&entries, &caller.key(), desk.clock.now())
        .await?))
}

/// Every entry in every language as files (`(name, text)`), in the order of their names.
pub async fn export_files(
    desk: &Desk,
    caller: &Caller,
) -> Result<Vec<(String, String)>, DeskError> {
    caller.require_role(&REVIEWERS)?;
    desk.store.name_keyless_entries().await?;
    let mut files: Vec<(String, String)> = desk
        .store
        .all_entries()
        .await?
        .iter()
        .flat_map(|entry| {
            entry
                .translations
                .iter()
                .map(move |translation| file_of(entry, translation))
        })
        .collect::<Result<_, _>>()?;
    files.sort();
    Ok(files)
}

/// An entry's language as a file: its name and its text.
fn file_of(entry: &Entry, translation: &Translation) -> Result<(String, String), DeskError> {
    let key = entry
        .key
        .clone()
        .unwrap_or_else(|| format!("entry-{}", entry.id));
    let header = Header {
        key: key.clone(),
        language: translation.language.clone(),
        title: translation.title.clone(),
        kind: entry.kind,
        product_line: entry.product_line.clone(),
        releases: entry.releases.clone(),
        visibility: entry.visibility,
        tags: entry.tags.clone(),
        url: entry.url.clone(),
        state: translation.state,
    };
    let header = toml::to_string(&header).map_err(DeskError::unexpected)?;
    Ok((
        format!("{key}.{}.md", translation.language),
        format!("+++\n{header}+++\n{}", translation.body),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "+++\nkey = \"spooler\"\nlanguage = \"en\"\ntitle = \"Jobs stop\"\n\
        kind = \"article\"\nvisibility = \"public\"\nstate = \"draft\"\n+++\nRestart it.\n";

    #[test]
    fn a_file_is_a_header_and_its_text_as_it_is() {
        let file = parse("spooler.en.md", FILE).unwrap();
        assert_eq!(file.header.key, "spooler");
        assert_eq!(file.header.state, TranslationState::Draft);
        assert_eq!(file.body, "Restart it.\n");
        assert_eq!(file.body_line, 9);
        assert_eq!(file.line_of("title"), 4);
        assert_eq!(file.line_of("visibility"), 6);
    }

    #[test]
    fn a_broken_header_is_told_by_line() {
        let missing = parse("a.md", "no header\n").err().unwrap();
        assert_eq!((missing.line, missing.field.as_str()), (1, "header"));
        let unclosed = parse("a.md", "+++\nkey = \"a\"\n").err().unwrap();
        assert!(unclosed.message.contains("closing"), "{unclosed}");
        let wrong = parse("a.md", &FILE.replace("\"public\"", "\"everyone\""))
            .err()
            .unwrap();
        assert_eq!(wrong.line, 6, "{wrong}");
        assert!(wrong.to_string().starts_with("a.md:6: header: "), "{wrong}");
        let unknown = parse(
            "a.md",
            &FILE.replace("state =", "colour = \"red\"\nstate ="),
        )
        .err()
        .unwrap();
        assert_eq!(unknown.line, 7, "{unknown}");
    }

    #[test]
    fn keys_are_file_names() {
        assert!(is_key("jobs-stop-2025"));
        assert!(!is_key("-dash"));
        assert!(!is_key("Upper"));
        assert!(!is_key("a/b"));
        assert!(!is_key(""));
    }
}
