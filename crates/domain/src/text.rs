//! The one rule for text that enters the desk, wherever it comes from (a JSON body, a query
//! string, a form, a mail): no control characters but the three that lay out text.
//!
//! PostgreSQL cannot store NUL in a text at all, and SQLite would store it: without one rule
//! at the edge the same input is kept on one backend and fails on the other. The other C0
//! controls (and DEL) have no place in any field a person types and only serve to hide text
//! from whoever reads it later.

/// The first character of `text` that no field may hold, if any: a C0 control other than
/// tab, line feed and carriage return, or DEL.
pub fn forbidden_character(text: &str) -> Option<char> {
    text.chars()
        .find(|&c| (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}')
}

/// Why a field holding `character` is refused, in the words the API and the pages show.
pub fn forbidden_character_reason(character: char) -> String {
    if character == '\0' {
        "must not contain the NUL character (U+0000)".to_string()
    } else {
        format!(
            "must not contain the control character U+{:04X}",
            u32::from(character)
        )
    }
}

/// The longest link the desk keeps (a webhook's, an external resource's).
pub const WEB_LINK_MAX: usize = 2000;

/// Whether `url` (blanks around it aside) is a link a browser or a webhook can follow:
/// `http://` or `https://`, a host, and no blank or control character inside, within
/// [`WEB_LINK_MAX`] characters. (`javascript:` and the like are not.)
pub fn is_web_link(url: &str) -> bool {
    // Counted as given, blanks around included (as the API's schema counts).
    if url.chars().count() > WEB_LINK_MAX {
        return false;
    }
    let url = url.trim();
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    host.is_some_and(|host| !host.is_empty())
        && !url.contains(|character: char| character.is_whitespace() || character.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_links_have_a_scheme_and_a_host() {
        assert!(is_web_link(" https://docs.example/connect?page=2#top "));
        assert!(is_web_link("http://10.0.0.7:8080/hook"));
        for not_a_link in [
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "ftp://files.example",
            "https://a b.example",
            "https://docs.example/\u{7}",
        ] {
            assert!(!is_web_link(not_a_link), "{not_a_link}");
        }
        assert!(!is_web_link(&format!(
            "https://x.example/{}",
            "a".repeat(WEB_LINK_MAX)
        )));
    }

    #[test]
    fn layout_characters_pass_and_other_controls_do_not() {
        assert_eq!(forbidden_character("line one\r\n\tline two"), None);
        assert_eq!(forbidden_character("Zürich, 東京"), None);
        assert_eq!(forbidden_character("a\0b"), Some('\0'));
        assert_eq!(forbidden_character("bell\u{7}"), Some('\u{7}'));
        assert_eq!(forbidden_character("escape\u{1b}[31m"), Some('\u{1b}'));
        assert_eq!(forbidden_character("delete\u{7f}"), Some('\u{7f}'));
    }

    #[test]
    fn the_reason_names_the_character() {
        assert_eq!(
            forbidden_character_reason('\0'),
            "must not contain the NUL character (U+0000)"
        );
        assert_eq!(
            forbidden_character_reason('\u{1b}'),
            "must not contain the control character U+001B"
        );
    }
}
