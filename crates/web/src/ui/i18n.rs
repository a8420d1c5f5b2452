//! The words of the pages, in each language the desk speaks: one catalog per language
//! (`i18n/en.toml`…), built into the binary. English is complete by construction; a test
//! holds every other catalog to exactly English's keys and placeholders, so a missing
//! translation fails the build's tests instead of showing a key to a customer.
//!
//! Instants are written in the viewer's time zone with the catalog's own date pattern,
//! weekday and month names.

use std::collections::HashMap;
use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The languages of the pages, with their own names (for the language switch).
pub const LANGUAGES: [(&str, &str); 6] = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("nl", "Nederlands"),
    ("ja", "日本語"),
];

/// A language's own name ("Français"), or its code when caredesk has no pages in it.
pub fn language_name(code: &str) -> String {
    LANGUAGES
        .iter()
        .find(|(known, _)| *known == code)
        .map_or_else(|| code.to_string(), |(_, name)| (*name).to_string())
}

const SOURCES: [(&str, &str); 6] = [
    ("en", include_str!("../../i18n/en.toml")),
    ("fr", include_str!("../../i18n/fr.toml")),
    ("es", include_str!("../../i18n/es.toml")),
    ("de", include_str!("../../i18n/de.toml")),
    ("nl", include_str!("../../i18n/nl.toml")),
    ("ja", include_str!("../../i18n/ja.toml")),
];

const MISSING: &str = "(?)";

/// The strings of one language.
#[derive(Debug)]
pub struct Catalog {
    pub language: &'static str,
    strings: HashMap<String, String>,
    weekdays: Vec<String>,
    months: Vec<String>,
}

static CATALOGS: LazyLock<Vec<Catalog>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(language, source)| {
            // A catalog that does not parse is empty, and English stands in for it; the
            // tests make sure none is shipped that way.
            let strings = parse(source).unwrap_or_default();
            let list = |key: &str| -> Vec<String> {
                strings
                    .get(key)
                    .map(|names| names.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default()
            };
            Catalog {
                language,
                weekdays: list("date.weekdays"),
                months: list("date.months"),
                strings,
            }
        })
        .collect()
});

/// The catalog of `language`, or English's for a language the pages do not speak.
pub fn catalog(language: &str) -> &'static Catalog {
    let catalogs = &*CATALOGS;
    catalogs
        .iter()
        .find(|catalog| catalog.language == language)
        .or_else(|| catalogs.first())
        .unwrap_or_else(|| &EMPTY)
}

static EMPTY: LazyLock<Catalog> = LazyLock::new(|| Catalog {
    language: "en",
    strings: HashMap::new(),
    weekdays: Vec::new(),
    months: Vec::new(),
});

/// Whether the pages speak `language`.
pub fn is_supported(language: &str) -> bool {
    LANGUAGES.iter().any(|(code, _)| *code == language)
}

/// A catalog file's tables flattened to dotted keys: `[portal] title = "…"` is `portal.title`.
fn parse(source: &str) -> Result<HashMap<String, String>, String> {
    let table: toml::Table = toml::from_str(source).map_err(|error| error.to_string())?;
    let mut strings = HashMap::new();
    for (section, entries) in table {
        let toml::Value::Table(entries) = entries else {
            return Err(format!("{section}: every string belongs to a [section]"));
        };
        for (name, value) in entries {
            let toml::Value::String(text) = value else {
                return Err(format!("{section}.{name}: must be a string"));
            };
            strings.insert(format!("{section}.{name}"), text);
        }
    }
    Ok(strings)
}

impl Catalog {
    /// The string of `key`: this language's, else English's. A key in no catalog (the
    /// tests keep that from happening) shows as a visible marker and is logged.
    pub fn get(&self, key: &str) -> &str {
        if let Some(text) = self.strings.get(key) {
            return text;
        }
        match CATALOGS.first() {
            Some(english) if english.language != self.language => english.get(key),
            _ => {
                tracing::warn!(key, "no catalog has this text");
                MISSING
            }
        }
    }

    /// Words of the policy file in this language: this catalog's translation of `key` while
    /// the policy still says what the English catalog says, else the policy's own words (an
    /// operator who rewrites the policy sees their text, never a stale translation).
    pub fn policy_text(&self, key: &str, written: &str) -> String {
        let english = CATALOGS
            .first()
            .and_then(|english| english.strings.get(key));
        match (english, self.strings.get(key)) {
            (Some(english), Some(translated)) if english == written => translated.clone(),
            _ => written.to_string(),
        }
    }

    /// The string of `key` with each `{name}` replaced by its value.
    pub fn format(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.get(key).to_string();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// An instant as a person of this language reads it, in `time_zone`:
    /// "Tue 1 Dec 2026, 09:30 CET", "mar. 1 déc. 2026, 09:30 CET", "2026年12月1日(火) 09:30 JST".
    pub fn when(&self, at: Timestamp, time_zone: &TimeZone) -> String {
        let local = at.to_zoned_datetime(time_zone.clone());
        let weekday = local.weekday().to_monday_zero_offset() as usize;
        let month = local.month() as usize - 1;
        let name = |names: &[String], index: usize, fallback: &str| {
            names
                .get(index)
                .cloned()
                .unwrap_or_else(|| fallback.to_string())
        };
        self.format(
            "date.format",
            &[
                ("weekday", &name(&self.weekdays, weekday, "")),
                ("day", &local.day().to_string()),
                (
                    "month",
                    &name(&self.months, month, &local.month().to_string()),
                ),
                ("year", &local.year().to_string()),
                ("time", &local.strftime("%H:%M").to_string()),
                ("zone", &local.strftime("%Z").to_string()),
            ],
        )
    }

    /// Time left until `due` (or past it) as a short span: "2 d 3 h", "45 min", "-12 min".
    pub fn span_until(&self, due: Timestamp, now: Timestamp) -> String {
        let seconds = due.as_second() - now.as_second();
        let minutes = seconds.abs() / 60;
        let (days, hours, minutes) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
        let sign = if seconds < 0 { "-" } else { "" };
        let unit = |key: &str| self.get(key).to_string();
        let text = if days > 0 {
            format!("{days} {} {hours} {}", unit("unit.day"), unit("unit.hour"))
        } else if hours > 0 {
            format!(
                "{hours} {} {minutes} {}",
                unit("unit.hour"),
                unit("unit.minute")
            )
        } else {
            format!("{minutes} {}", unit("unit.minute"))
        };
        format!("{sign}{text}")
    }

    /// Every key of this catalog, for the completeness tests.
    #[cfg(test)]
    fn keys(&self) -> std::collections::BTreeSet<&str> {
        self.strings.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn placeholders(text: &str) -> BTreeSet<String> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
            .collect()
    }

    #[test]
    fn every_catalog_parses_and_has_exactly_the_english_keys_and_placeholders() {
        for (language, source) in SOURCES {
            if let Err(error) = parse(source) {
                panic!("i18n/{language}.toml does not parse: {error}");
            }
        }
        let english = catalog("en");
        assert!(english.keys().len() > 100, "English is the full catalog");
        for (language, _) in LANGUAGES {
            let other = catalog(language);
            assert_eq!(other.language, language);
            let missing: Vec<_> = english.keys().difference(&other.keys()).copied().collect();
            let extra: Vec<_> = other.keys().difference(&english.keys()).copied().collect();
            assert!(missing.is_empty(), "{language} lacks {missing:?}");
            assert!(extra.is_empty(), "{language} has unknown keys {extra:?}");
            for key in english.keys() {
                assert_eq!(
                    placeholders(english.get(key)),
                    placeholders(other.get(key)),
                    "{language}: {key} has other placeholders than English"
                );
            }
            assert_eq!(other.weekdays.len(), 7, "{language}: seven weekdays");
            assert_eq!(other.months.len(), 12, "{language}: twelve months");
        }
    }

    #[test]
    fn instants_are_written_in_the_viewers_language_and_time_zone() {
        let at: Timestamp = "2026-12-01T08:30:00Z".parse().unwrap();
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        assert_eq!(catalog("en").when(at, &paris), "Tue 1 Dec 2026, 09:30 CET");
        assert_eq!(
            catalog("fr").when(at, &paris),
            "mar. 1 déc. 2026, 09:30 CET"
        );
        assert_eq!(
            catalog("ja").when(at, &tokyo),
            "2026年12月1日(火) 17:30 JST"
        );
        // An unknown language reads English.
        assert_eq!(catalog("xx").when(at, &paris), "Tue 1 Dec 2026, 09:30 CET");
    }

    #[test]
    fn spans_count_down_and_past_the_due_time() {
        let now: Timestamp = "2026-12-01T08:30:00Z".parse().unwrap();
        let english = catalog("en");
        let later = |minutes: i64| now + jiff::SignedDuration::from_mins(minutes);
        assert_eq!(english.span_until(later(45), now), "45 min");
        assert_eq!(english.span_until(later(125), now), "2 h 5 min");
        assert_eq!(english.span_until(later(3 * 1440 + 60), now), "3 d 1 h");
        assert_eq!(english.span_until(later(-12), now), "-12 min");
    }

    #[test]
    fn the_policys_words_are_translated_only_while_the_policy_still_says_them() {
        let french = catalog("fr");
        assert_eq!(french.policy_text("severity.P2", "High"), "Élevé");
        assert_eq!(french.policy_text("severity.P2", "Urgent"), "Urgent");
        assert_eq!(french.policy_text("severity.P9", "Custom"), "Custom");
    }

    #[test]
    fn values_fill_their_placeholders() {
        assert_eq!(
            catalog("en").format("portal.ticket_heading", &[("number", "42")]),
            "Ticket 42"
        );
    }
}
