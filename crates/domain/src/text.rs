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

#[cfg(test)]
mod tests {
    use super::*;

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
