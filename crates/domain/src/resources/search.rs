//! Words as search sees them: the same analysis for what is indexed and for what is asked,
//! so that "printing", "printed" and "Printer" meet, and "résumé" meets "resume".
//!
//! Latin-script words are lower-cased, stripped of accents, the most common words of the
//! language left out, and stemmed with the Snowball stemmer of their text's language
//! (English, French, Spanish, German, Dutch: the algorithms PostgreSQL's own dictionaries
//! use). Accents go before stemming, not after: people type "bloquee" for "bloquée", and
//! the stemmer, which reads "ée" as an ending and "ee" as none, would otherwise make two
//! terms of one word. Japanese (and Chinese) text has no spaces between words: it is cut into
//! overlapping pairs of characters, so that any two-character word is found wherever it
//! stands. The analysis runs here, not in the database, so that SQLite and PostgreSQL index
//! and match the same terms.

use std::collections::BTreeSet;
use std::ops::Range;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The languages whose words are stemmed; any other is matched word for word.
pub const STEMMED_LANGUAGES: [&str; 5] = ["en", "fr", "es", "de", "nl"];

/// Longer "words" (a pasted key, a log's hex) are not indexed: nobody searches for them,
/// and PostgreSQL refuses lexemes past 2 KB.
const TERM_MAX: usize = 64;

/// The terms a title and a Markdown body are indexed with, each space-separated.
pub fn indexed_terms(title: &str, markdown: &str, language: &str) -> (String, String) {
    (
        terms(title, language).join(" "),
        markdown_terms(markdown, language),
    )
}

/// The terms a Markdown text (a body, an answer) is indexed with, space-separated.
pub fn markdown_terms(markdown: &str, language: &str) -> String {
    terms(&plain_text(markdown), language).join(" ")
}

/// The words of a Markdown text as a reader reads them: no markup, no link targets, a line
/// per paragraph, heading or list item.
pub fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(words) | Event::Code(words) => text.push_str(&words),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock,
            ) if !text.ends_with('\n') => text.push('\n'),
            _ => {}
        }
    }
    text.trim_end().to_string()
}

/// A term and where it stands in the analysed text (byte offsets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub at: Range<usize>,
}

/// The terms of `text`, written in `language`, in order (repeats kept: they weigh).
pub fn terms(text: &str, language: &str) -> Vec<String> {
    located_terms(&composed(text), language)
        .into_iter()
        .map(|term| term.text)
        .collect()
}

/// What someone typed, as the terms to look for in texts of any of `languages`: the words
/// stemmed the way each of those languages stems, once each.
pub fn query_terms(query: &str, languages: &[&str]) -> Vec<String> {
    let query = composed(query);
    let mut seen = BTreeSet::new();
    let mut terms = Vec::new();
    for language in languages {
        for term in located_terms(&query, language) {
            if seen.insert(term.text.clone()) {
                terms.push(term.text);
            }
        }
    }
    terms
}

/// What someone typed, word by word: each word's terms in each of `languages` (none where
/// a language leaves the word out as too common), a word typed twice once. Japanese text
/// gives one "word" per pair of characters.
pub fn query_words(query: &str, languages: &[&str]) -> Vec<Vec<String>> {
    distinct_words(located_words(&composed(query), languages))
}

/// What someone typed, as the words a text must all hold: [`query_words`] less the words
/// any of `languages` leaves out as too common. A text in that language was indexed
/// without them, so needing one ("the", "les") would miss every such text.
pub fn required_words(query: &str, languages: &[&str]) -> Vec<Vec<String>> {
    let query = composed(query);
    let words = located_words(&query, languages)
        .into_iter()
        .filter(|(at, _)| {
            let word = without_accents(&query[at.clone()].to_lowercase());
            !languages
                .iter()
                .any(|language| stop_words_of(language).contains(&word.as_str()))
        })
        .collect();
    distinct_words(words)
}

/// Each word of `query` (composed) where it stands, with its terms in each of `languages`.
fn located_words(query: &str, languages: &[&str]) -> Vec<(Range<usize>, Vec<String>)> {
    let mut words: Vec<(Range<usize>, Vec<String>)> = Vec::new();
    for language in languages {
        for term in located_terms(query, language) {
            match words.iter_mut().find(|(at, _)| *at == term.at) {
                Some((_, variants)) => {
                    if !variants.contains(&term.text) {
                        variants.push(term.text);
                    }
                }
                None => words.push((term.at, vec![term.text])),
            }
        }
    }
    words
}

/// The words' terms, each word's sorted, a word typed twice once.
fn distinct_words(words: Vec<(Range<usize>, Vec<String>)>) -> Vec<Vec<String>> {
    let mut distinct: Vec<Vec<String>> = Vec::new();
    for (_, mut variants) in words {
        variants.sort();
        if !distinct.contains(&variants) {
            distinct.push(variants);
        }
    }
    distinct
}

/// One way of looking words up in the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The texts with any of these terms.
    Any(Vec<String>),
    /// The texts with every word: for each, one of its terms.
    All(Vec<Vec<String>>),
    /// The texts whose title has any of these terms.
    AnyInTitle(Vec<String>),
}

/// How to look `words` (from [`query_words`]) up so that the database ranks about `budget`
/// texts at most, whatever the index holds: the ranking, not the matching, is what costs.
/// `texts_with` tells in how many texts a term stands. The lookups are tried in order, each
/// one's results after the previous one's, until enough are found.
///
/// When all the words stand in `budget` texts or fewer, every text with any of them is
/// ranked (on a small or a specific index, the results are exactly that). Otherwise the
/// texts with every word come first when one of the words is rare enough to bound them,
/// then those with the rarest words (the ones that say most of what is looked for, and
/// weigh most in the ranking anyway) as many as fit in the budget. When even the rarest
/// word is too common, only titles are looked in, for the rarest words (a few times the
/// budget's worth: every text with them is read to find the titles, but fewer are ranked);
/// when even their titles are too many, the database ranks the first `budget` it finds.
/// A word the index does not hold is left out of every lookup: with no word held, there is
/// nothing to look up.
pub fn lookups(
    words: &[Vec<String>],
    texts_with: impl Fn(&str) -> u64,
    budget: u64,
) -> Vec<Lookup> {
    if words.is_empty() {
        return Vec::new();
    }
    let frequency = |word: &Vec<String>| -> u64 {
        word.iter()
            .map(|term| texts_with(term))
            .fold(0, u64::saturating_add)
    };
    let mut by_rarity: Vec<(u64, &Vec<String>)> =
        words.iter().map(|word| (frequency(word), word)).collect();
    by_rarity.sort_by_key(|(frequency, _)| *frequency);
    // A word the index does not hold (a typo; a word one language leaves out, looked for in
    // every language) finds nothing: no lookup needs or holds it. Added to a lookup it
    // would find nothing more, but a planner that cannot tell it is absent may expect it
    // in many texts and read them all.
    let held: Vec<(u64, &Vec<String>)> = by_rarity
        .iter()
        .filter(|(frequency, _)| *frequency > 0)
        .copied()
        .collect();
    let rarest_within = |budget: u64| -> Vec<String> {
        let mut terms = Vec::new();
        let mut ranked = 0u64;
        for (frequency, word) in &held {
            ranked = ranked.saturating_add(*frequency);
            if ranked > budget {
                break;
            }
            terms.extend(word.iter().cloned());
        }
        terms
    };
    let total = held
        .iter()
        .map(|(frequency, _)| *frequency)
        .fold(0, u64::saturating_add);
    if total == 0 {
        return Vec::new();
    }
    if total <= budget {
        return vec![Lookup::Any(rarest_within(budget))];
    }
    // From here on, some word is held: the total is not zero.
    let mut plan = Vec::new();
    if held.len() > 1 && held[0].0 <= budget {
        plan.push(Lookup::All(
            held.iter().map(|(_, word)| (*word).clone()).collect(),
        ));
    }
    let rarest = rarest_within(budget);
    plan.push(if rarest.is_empty() {
        let in_titles = rarest_within(budget.saturating_mul(TITLE_SHARE));
        Lookup::AnyInTitle(if in_titles.is_empty() {
            held[0].1.clone()
        } else {
            in_titles
        })
    } else {
        Lookup::Any(rarest)
    });
    plan
}

/// How many texts' words may be read to find titles, against how many may be ranked: an
/// index reads every text with a word to find the titles with it.
const TITLE_SHARE: u64 = 5;

/// `text` with its accented letters composed (NFC), as the terms are made of: "é" typed as
/// "e" and a combining accent is the one character "é".
pub fn composed(text: &str) -> String {
    text.nfc().collect()
}

/// The terms of `text` (composed: see [`composed`]) with their places.
pub fn located_terms(text: &str, language: &str) -> Vec<Term> {
    let stemmer = stemmer_of(language);
    let stop_words = stop_words_of(language);
    let mut terms = Vec::new();
    for (run, script) in runs(text) {
        let word = &text[run.clone()];
        match script {
            Script::Ideographic => {
                let characters: Vec<(usize, char)> = word.char_indices().collect();
                if characters.len() == 1 {
                    terms.push(Term {
                        text: word.to_string(),
                        at: run.clone(),
                    });
                }
                for pair in characters.windows(2) {
                    let start = run.start + pair[0].0;
                    let end = run.start + pair[1].0 + pair[1].1.len_utf8();
                    terms.push(Term {
                        text: text[start..end].to_string(),
                        at: start..end,
                    });
                }
            }
            Script::Other => {
                let lower = word.to_lowercase();
                let plain = without_accents(&lower);
                if stop_words.contains(&plain.as_str()) {
                    continue;
                }
                if plain.chars().count() > TERM_MAX {
                    continue;
                }
                let Some(stemmer) = &stemmer else {
                    // A "word" of combining marks alone leaves nothing to look for.
                    if !plain.is_empty() {
                        terms.push(Term {
                            text: plain,
                            at: run,
                        });
                    }
                    continue;
                };
                // Stemmed without its accents, so that "bloquee" meets "bloquées"; and,
                // when it differs, stemmed with them, then stripped, as the stemmer reads
                // accented endings ("ées", "ière") that meet "bloquer" and "dernier".
                let unaccented = stemmer.stem(&plain).into_owned();
                let accented = without_accents(&stemmer.stem(&lower));
                for term in [unaccented, accented] {
                    if !term.is_empty()
                        && !terms
                            .last()
                            .is_some_and(|last: &Term| last.at == run && last.text == term)
                    {
                        terms.push(Term {
                            text: term,
                            at: run.clone(),
                        });
                    }
                }
            }
        }
    }
    terms
}

/// A piece of a snippet: text, shown highlighted when it matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    pub text: String,
    pub matched: bool,
}

/// About `width` characters of `text` (written in `language`, composed on the way) around
/// its first stretch that matches `wanted` (terms from [`query_terms`]), the matching words
/// marked; the text's start when nothing matches. An ellipsis marks what was cut.
pub fn snippet(text: &str, language: &str, wanted: &[String], width: usize) -> Vec<Fragment> {
    let text = &composed(text);
    let matched: Vec<Range<usize>> = merged(
        text,
        located_terms(text, language)
            .into_iter()
            .filter(|term| wanted.contains(&term.text))
            .map(|term| term.at)
            .collect(),
    );
    let first = matched.first().map_or(0, |range| range.start);
    // Start a little before the first match, at a character boundary.
    let lead = width / 4;
    let before: Vec<usize> = text[..first].char_indices().map(|(at, _)| at).collect();
    let mut start = before
        .len()
        .checked_sub(lead)
        .and_then(|index| before.get(index).copied())
        .unwrap_or(0);
    // ... and not in the middle of a word.
    let in_a_word = text[..start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    if in_a_word
        && let Some((space, blank)) = text[start..first]
            .char_indices()
            .find(|(_, character)| character.is_whitespace())
    {
        start += space + blank.len_utf8();
    }
    let end = text[start..]
        .char_indices()
        .nth(width)
        .map_or(text.len(), |(at, _)| start + at);
    let mut fragments = Vec::new();
    if start > 0 {
        fragments.push(plain("…"));
    }
    let mut at = start;
    for range in matched
        .iter()
        .filter(|range| range.end > start && range.start < end)
    {
        let from = range.start.max(start);
        let to = range.end.min(end);
        if from > at {
            fragments.push(plain(&text[at..from]));
        }
        fragments.push(Fragment {
            text: text[from..to].to_string(),
            matched: true,
        });
        at = to;
    }
    if at < end {
        fragments.push(plain(&text[at..end]));
    }
    if end < text.len() {
        fragments.push(plain("…"));
    }
    fragments
}

fn plain(text: &str) -> Fragment {
    Fragment {
        text: text.to_string(),
        matched: false,
    }
}

/// Ranges of `text` in order, joined where they overlap or only spaces part them (one mark
/// over "stops printing", not two).
fn merged(text: &str, mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|range| range.start);
    let mut joined: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match joined.last_mut() {
            Some(last)
                if range.start <= last.end
                    || text[last.end..range.start].chars().all(|c| c == ' ') =>
            {
                last.end = last.end.max(range.end);
            }
            _ => joined.push(range),
        }
    }
    joined
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Script {
    /// Written without spaces between words: Japanese kana, Chinese characters.
    Ideographic,
    Other,
}

fn script_of(character: char) -> Script {
    let ideographic = matches!(character,
        '\u{3040}'..='\u{30FF}'   // hiragana, katakana
        | '\u{31F0}'..='\u{31FF}' // katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}' // half-width katakana
    );
    if ideographic {
        Script::Ideographic
    } else {
        Script::Other
    }
}

/// The runs of letters and digits of `text`, each of one script.
fn runs(text: &str) -> Vec<(Range<usize>, Script)> {
    let mut runs = Vec::new();
    let mut current: Option<(usize, Script)> = None;
    for (at, character) in text.char_indices() {
        let script = character.is_alphanumeric().then(|| script_of(character));
        if let Some((start, running)) = current {
            if script == Some(running) {
                continue;
            }
            runs.push((start..at, running));
        }
        current = script.map(|script| (at, script));
    }
    if let Some((start, script)) = current {
        runs.push((start..text.len(), script));
    }
    runs
}

fn stemmer_of(language: &str) -> Option<Stemmer> {
    let algorithm = match language {
        "en" => Algorithm::English,
        "fr" => Algorithm::French,
        "es" => Algorithm::Spanish,
        "de" => Algorithm::German,
        "nl" => Algorithm::Dutch,
        _ => return None,
    };
    Some(Stemmer::create(algorithm))
}

fn without_accents(word: &str) -> String {
    word.nfd()
        .filter(|character| !is_combining_mark(*character))
        .collect()
}

/// The commonest words of a language, which say nothing of what a text is about; without
/// their accents, as they are compared.
fn stop_words_of(language: &str) -> &'static [&'static str] {
    match language {
        "en" => &[
            "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for",
            "from", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "my", "no",
            "not", "of", "on", "or", "our", "so", "that", "the", "their", "then", "there", "this",
            "to", "was", "we", "what", "when", "which", "with", "you", "your",
        ],
        "fr" => &[
            "a", "au", "aux", "avec", "ce", "ces", "cette", "d", "dans", "de", "des", "du", "elle",
            "en", "est", "et", "il", "ils", "j", "je", "l", "la", "le", "les", "leur", "lui", "m",
            "ma", "mais", "me", "mes", "mon", "n", "ne", "nous", "on", "ou", "par", "pas", "pour",
            "qu", "que", "qui", "s", "sa", "se", "ses", "son", "sont", "sur", "t", "ta", "te",
            "un", "une", "vos", "votre", "vous",
        ],
        "es" => &[
            "a", "al", "como", "con", "de", "del", "el", "en", "es", "esta", "este", "la", "las",
            "lo", "los", "mi", "no", "o", "para", "pero", "por", "que", "se", "si", "su", "sus",
            "un", "una", "y",
        ],
        "de" => &[
            "am", "an", "auf", "aus", "bei", "das", "dass", "dem", "den", "der", "des", "die",
            "ein", "eine", "einem", "einen", "einer", "es", "fur", "ich", "im", "in", "ist", "mit",
            "nicht", "oder", "sich", "sie", "und", "von", "wie", "wir", "zu", "zum", "zur",
        ],
        "nl" => &[
            "aan", "als", "bij", "dat", "de", "den", "der", "die", "dit", "een", "en", "er", "het",
            "ik", "in", "is", "je", "met", "niet", "of", "om", "op", "te", "van", "voor", "wat",
            "we", "wij", "zijn",
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_read_as_plain_words() {
        let text = plain_text(
            "# Printing stops\n\nRestart the **spooler**:\n\n- open [Services](https://x.example)\n- run `net stop spooler`\n\n<script>alert(1)</script>",
        );
        assert_eq!(
            text,
            "Printing stops\nRestart the spooler:\nopen Services\nrun net stop spooler"
        );
    }

    #[test]
    fn inflections_meet_and_accents_do_not_matter() {
        assert_eq!(
            terms("Printing the printed PRINTER", "en"),
            ["print", "print", "printer"]
        );
        assert_eq!(
            query_terms("imprimantes", &["fr"]),
            terms("L'imprimante n'imprime plus", "fr")[..1].to_vec()
        );
        // Typed without its accents, a word meets its accented forms whatever its ending,
        // and the accented forms still meet the others ("bloquées" and "bloquer").
        let meet = |a: &str, b: &str, language: &str| {
            let (a, b) = (terms(a, language), terms(b, language));
            a.iter().any(|term| b.contains(term))
        };
        assert!(meet("résumé", "resume", "fr"));
        for typed in [
            "bloquee",
            "bloquees",
            "bloquée",
            "BLOQUÉES",
            "bloqué",
            "bloquer",
        ] {
            assert!(meet(typed, "bloquées", "fr"), "{typed}");
        }
        for (one, other) in [
            ("activée", "activer"),
            ("dernière", "dernier"),
            ("activee", "activées"),
        ] {
            assert!(meet(one, other, "fr"), "{one} {other}");
        }
        // One term a word when its two stems agree.
        assert_eq!(terms("imprimante", "fr").len(), 1);
        assert!(meet("canciones", "canción", "es"));
        assert!(meet("Drucker", "Drücker", "de"));
        // A common word is left out with or without its accent.
        assert!(terms("à A", "fr").is_empty());
        assert!(terms("für fur", "de").is_empty());
        assert_eq!(terms("Drucker druckt nicht", "de"), ["druck", "druckt"]);
        // Common words say nothing.
        assert!(terms("the of and", "en").is_empty());
        // A language without a stemmer is matched word for word.
        assert_eq!(terms("Printing", "it"), ["printing"]);
    }

    #[test]
    fn japanese_is_cut_into_pairs_of_characters() {
        assert_eq!(
            terms("印刷できません", "ja"),
            ["印刷", "刷で", "でき", "きま", "ませ", "せん"]
        );
        // Mixed with Latin words, each script on its own.
        assert_eq!(terms("PDF出力", "ja"), ["pdf", "出力"]);
        assert_eq!(terms("字", "ja"), ["字"]);
        // A query finds the word wherever it stands.
        let wanted = query_terms("印刷", &["ja"]);
        assert!(terms("ラベルの印刷が遅い", "ja").contains(&wanted[0]));
    }

    #[test]
    fn odd_text_gives_no_empty_term_and_no_broken_snippet() {
        // Combining marks alone are "letters" with nothing left once accents go.
        assert!(query_terms("\u{64b}\u{345}", &["en", "ja"]).is_empty());
        assert_eq!(terms("re\u{301}sume\u{301}", "fr"), terms("résumé", "fr"));
        // A snippet that starts after a non-breaking or ideographic space.
        let text = "Une phrase assez longue\u{a0}avant le mot\u{3000}cherché : imprimante.";
        let wanted = query_terms("imprimante", &["fr"]);
        for width in 1..40 {
            let fragments = snippet(text, "fr", &wanted, width);
            assert!(!fragments.is_empty());
        }
    }

    #[test]
    fn a_query_is_stemmed_for_each_language_searched() {
        let wanted = query_terms("printing", &["en", "fr"]);
        assert_eq!(wanted, ["print", "printing"]);
        assert!(query_terms("", &["en"]).is_empty());
    }

    #[test]
    fn a_query_is_cut_into_words_with_their_terms_in_each_language() {
        assert_eq!(
            query_words("Printing printing Drucker", &["en", "de"]),
            [vec!["print", "printing"], vec!["druck", "drucker"]]
        );
        // A word one language leaves out stands with the other languages' terms alone.
        assert_eq!(
            query_words("the printer", &["en", "fr"]),
            [vec!["print", "printer"], vec!["the"]]
        );
        assert!(query_words("", &["en"]).is_empty());
        // Needing every word, one that a language leaves out is not needed at all.
        assert_eq!(
            required_words("the printer", &["en", "fr", "ja"]),
            [vec!["print", "printer"]]
        );
        assert_eq!(
            required_words("Les imprimantes", &["en", "fr", "ja"]),
            [vec!["imprim", "imprimant", "imprimantes"]]
        );
        assert!(required_words("the and of", &["en", "fr", "ja"]).is_empty());
    }

    #[test]
    fn a_lookup_ranks_about_the_budget_at_most() {
        let words = |list: &[&[&str]]| -> Vec<Vec<String>> {
            list.iter()
                .map(|word| word.iter().map(|term| term.to_string()).collect())
                .collect()
        };
        let terms = |list: &[&str]| -> Vec<String> { list.iter().map(|t| t.to_string()).collect() };
        let frequencies = |term: &str| match term {
            "spool" => 10,
            "spooler" => 5,
            "printer" => 900,
            "print" => 600,
            "error" => 2_000,
            _ => 0,
        };
        let query = words(&[&["print", "printer"], &["spool", "spooler"], &["error"]]);
        // The lookups that need every word take the rarest first.
        let rare_first = words(&[&["spool", "spooler"], &["print", "printer"], &["error"]]);
        // Few texts to rank: any of the words, as on a small index.
        assert_eq!(
            lookups(&query, frequencies, 10_000),
            [Lookup::Any(terms(&[
                "spool", "spooler", "print", "printer", "error"
            ]))]
        );
        // Too many: every word first (the rarest bounds them), then the rarest that fit.
        assert_eq!(
            lookups(&query, frequencies, 1_600),
            [
                Lookup::All(rare_first.clone()),
                Lookup::Any(terms(&["spool", "spooler", "print", "printer"]))
            ]
        );
        assert_eq!(
            lookups(&query, frequencies, 100),
            [
                Lookup::All(rare_first.clone()),
                Lookup::Any(terms(&["spool", "spooler"]))
            ]
        );
        // Every word common: titles only, of the rarest words that fit there.
        let common = words(&[&["print", "printer"], &["error"]]);
        assert_eq!(
            lookups(&common, frequencies, 10),
            [Lookup::AnyInTitle(terms(&["print", "printer"]))]
        );
        assert_eq!(
            lookups(&common, frequencies, 1),
            [Lookup::AnyInTitle(terms(&["print", "printer"]))]
        );
        // A word the index does not hold (a typo, a word left out in its language) is
        // left out of every lookup.
        assert_eq!(
            lookups(&words(&[&["zzz"], &["error"]]), frequencies, 100),
            [Lookup::AnyInTitle(terms(&["error"]))]
        );
        assert_eq!(
            lookups(
                &words(&[&["zzz"], &["print"], &["spool"]]),
                frequencies,
                100
            ),
            [
                Lookup::All(words(&[&["spool"], &["print"]])),
                Lookup::Any(terms(&["spool"]))
            ]
        );
        assert_eq!(
            lookups(&words(&[&["zzz"], &["spool"]]), frequencies, 100),
            [Lookup::Any(terms(&["spool"]))]
        );
        assert!(lookups(&words(&[&["zzz"]]), frequencies, 100).is_empty());
        assert!(lookups(&[], frequencies, 100).is_empty());
    }

    #[test]
    fn a_snippet_marks_the_matching_words_around_the_first() {
        let text = "Before anything else, check the spooler. If the printer stops printing \
                    after the update, restart the print service and try again.";
        let wanted = query_terms("printing stopped", &["en"]);
        let fragments = snippet(text, "en", &wanted, 80);
        let marked: Vec<&str> = fragments
            .iter()
            .filter(|fragment| fragment.matched)
            .map(|fragment| fragment.text.as_str())
            .collect();
        assert_eq!(marked, ["stops printing", "print"]);
        let whole: String = fragments
            .iter()
            .map(|fragment| fragment.text.as_str())
            .collect();
        assert!(whole.starts_with("…If the printer"), "{whole}");
        assert!(whole.ends_with('…'));
        // Nothing matched: the text's start.
        let start = snippet(text, "en", &["zzz".to_string()], 20);
        assert_eq!(start[0].text, "Before anything else");
        assert!(start.iter().all(|fragment| !fragment.matched));
        // Cuts fall between characters, never inside one.
        let japanese = snippet(
            "ラベルの印刷が遅い。プリンターを再起動してください。",
            "ja",
            &query_terms("再起動", &["ja"]),
            8,
        );
        assert!(
            japanese
                .iter()
                .any(|fragment| fragment.matched && fragment.text == "再起動")
        );
    }
}
