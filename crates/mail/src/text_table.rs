//! Tables laid out as plain text: for the text part of a notice and for the terminal. Each
//! column is as wide as its widest cell as a terminal or a mail reader in a fixed-width font
//! shows it: a Japanese character takes two columns, an accent none.

use unicode_width::UnicodeWidthStr;

/// `lines` as columns two spaces apart, the first `left` aligned left and the others right
/// (the last one left too when `last_left`), each line ending in a line feed.
pub fn aligned(lines: &[Vec<String>], left: usize, last_left: bool) -> String {
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            lines
                .iter()
                .filter_map(|line| line.get(column))
                .map(|cell| cell.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(index, (cell, width))| {
                let padding = " ".repeat(width.saturating_sub(cell.width()));
                if index < left || (last_left && index + 1 == columns) {
                    format!("{cell}{padding}")
                } else {
                    format!("{padding}{cell}")
                }
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|cell| cell.to_string()).collect()
    }

    #[test]
    fn columns_line_up_as_a_fixed_width_font_shows_them() {
        let table = aligned(
            &[
                line(&["clock", "met", "share"]),
                line(&["résolution", "7", "87.5%"]),
                line(&["初回応答", "12", "100.0%"]),
            ],
            1,
            false,
        );
        assert_eq!(
            table,
            "clock       met   share\n\
             résolution    7   87.5%\n\
             初回応答     12  100.0%\n"
        );
        // The last column on the left, and no spaces at the end of a line.
        let table = aligned(
            &[line(&["a", "1", "x"]), line(&["bb", "22", "yyy"])],
            1,
            true,
        );
        assert_eq!(table, "a    1  x\nbb  22  yyy\n");
        assert_eq!(aligned(&[], 1, false), "");
    }
}
