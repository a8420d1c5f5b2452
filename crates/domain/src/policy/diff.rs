//! What changes from one policy to another, in the words of its readable tables
//! ([`policy_tables`]): for each table that differs, the rows added, the rows removed and,
//! for a row found in both (by its first cell: a program, a severity, a calendar…), each
//! cell that changed. Targets, calendars, holidays, coverage, languages and intake rules
//! are all in those tables, so whoever applies a version reads what it changes as the
//! policy is shown everywhere else.

use serde::Serialize;

use super::Policy;
use super::tables::{PolicyTable, policy_tables};

/// The changes of one table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableChange {
    pub title: String,
    pub rows: Vec<RowChange>,
}

/// A row added, removed, or changed in some of its cells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum RowChange {
    Added { cells: Vec<LabelledCell> },
    Removed { cells: Vec<LabelledCell> },
    Changed { row: String, cells: Vec<CellChange> },
}

/// A cell with its column's header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LabelledCell {
    pub header: String,
    pub value: String,
}

/// A cell's value before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CellChange {
    pub header: String,
    pub before: String,
    pub after: String,
}

/// What changes from `before` to `after`, table by table in the tables' order (holidays as
/// dated in `year`); empty when they read the same.
pub fn policy_diff(before: &Policy, after: &Policy, year: i16) -> Vec<TableChange> {
    let before_tables = policy_tables(before, year);
    let mut after_tables = policy_tables(after, year);
    let mut changes = Vec::new();
    for old in &before_tables {
        let new = match after_tables
            .iter()
            .position(|table| table.title == old.title)
        {
            Some(position) => after_tables.remove(position),
            None => PolicyTable {
                title: old.title.clone(),
                headers: old.headers.clone(),
                rows: Vec::new(),
                note: None,
            },
        };
        let rows = table_changes(old, &new);
        if !rows.is_empty() {
            changes.push(TableChange {
                title: old.title.clone(),
                rows,
            });
        }
    }
    // A table only the new policy has: every row is new.
    for new in after_tables {
        let rows: Vec<RowChange> = new
            .rows
            .iter()
            .map(|row| RowChange::Added {
                cells: labelled(&new.headers, row),
            })
            .collect();
        if !rows.is_empty() {
            changes.push(TableChange {
                title: new.title,
                rows,
            });
        }
    }
    changes
}

/// The rows of `old` and `new` paired by their first cell, in order; what is left over on
/// either side was removed or added.
fn table_changes(old: &PolicyTable, new: &PolicyTable) -> Vec<RowChange> {
    let mut unmatched: Vec<Option<&Vec<String>>> = new.rows.iter().map(Some).collect();
    let mut changes = Vec::new();
    for row in &old.rows {
        let key = row.first();
        let partner = unmatched
            .iter_mut()
            .find(|candidate| candidate.is_some_and(|candidate| candidate.first() == key))
            .and_then(Option::take);
        match partner {
            None => changes.push(RowChange::Removed {
                cells: labelled(&old.headers, row),
            }),
            Some(partner) if partner == row => {}
            Some(partner) => {
                let width = row.len().max(partner.len());
                let cells = (0..width)
                    .filter_map(|column| {
                        let before = row.get(column).cloned().unwrap_or_default();
                        let after = partner.get(column).cloned().unwrap_or_default();
                        (before != after).then(|| CellChange {
                            header: header(&new.headers, column),
                            before,
                            after,
                        })
                    })
                    .collect();
                changes.push(RowChange::Changed {
                    row: key.cloned().unwrap_or_default(),
                    cells,
                });
            }
        }
    }
    changes.extend(unmatched.into_iter().flatten().map(|row| RowChange::Added {
        cells: labelled(&new.headers, row),
    }));
    if old.note != new.note {
        changes.push(RowChange::Changed {
            row: "note".into(),
            cells: vec![CellChange {
                header: "note".into(),
                before: old.note.clone().unwrap_or_default(),
                after: new.note.clone().unwrap_or_default(),
            }],
        });
    }
    changes
}

fn header(headers: &[String], column: usize) -> String {
    headers
        .get(column)
        .cloned()
        .unwrap_or_else(|| format!("column {}", column + 1))
}

fn labelled(headers: &[String], row: &[String]) -> Vec<LabelledCell> {
    row.iter()
        .enumerate()
        .map(|(column, value)| LabelledCell {
            header: header(headers, column),
            value: value.clone(),
        })
        .collect()
}

impl RowChange {
    /// The change as one line of text: `+ gold: …`, `- …`, `~ P3: status update every 4 h
    /// → every 1 h`.
    pub fn line(&self) -> String {
        let cells = |cells: &[LabelledCell]| {
            cells
                .iter()
                .map(|cell| format!("{}: {}", cell.header, cell.value))
                .collect::<Vec<_>>()
                .join("; ")
        };
        match self {
            RowChange::Added { cells: added } => format!("+ {}", cells(added)),
            RowChange::Removed { cells: removed } => format!("- {}", cells(removed)),
            RowChange::Changed { row, cells } => format!(
                "~ {row}: {}",
                cells
                    .iter()
                    .map(|cell| format!("{} {} → {}", cell.header, cell.before, cell.after))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built_in() -> Policy {
        Policy::built_in().unwrap()
    }

    #[test]
    fn the_same_policy_has_no_changes() {
        assert_eq!(policy_diff(&built_in(), &built_in(), 2026), Vec::new());
    }

    #[test]
    fn a_changed_target_is_one_changed_cell_of_its_row() {
        let before = built_in();
        let source = caredesk_test_source();
        let after = Policy::from_toml(&source, "changed").unwrap();
        let changes = policy_diff(&before, &after, 2026);
        let lines: Vec<String> = changes
            .iter()
            .flat_map(|table| table.rows.iter().map(RowChange::line))
            .collect();
        assert_eq!(changes.len(), 1, "{lines:?}");
        assert_eq!(changes[0].title, "Severities");
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("~ P3 Moderate: "), "{lines:?}");
        assert!(lines[0].contains(" → "), "{lines:?}");
    }

    /// The built-in policy with P3's status update every hour instead of its own interval.
    fn caredesk_test_source() -> String {
        let source = crate::policy::DEFAULT_POLICY_TOML;
        let start = source.find("[severities.P3]").unwrap();
        let rest = &source[start..];
        let line_start = start + rest.find("update_every").unwrap();
        let line_end = line_start + source[line_start..].find('\n').unwrap();
        format!(
            "{}update_every = \"1h\"{}",
            &source[..line_start],
            &source[line_end..]
        )
    }

    #[test]
    fn removed_and_added_rows_are_listed_with_their_headers() {
        let old = PolicyTable {
            title: "Programs".into(),
            headers: vec!["program".into(), "placement".into()],
            rows: vec![
                vec!["standard".into(), "normal".into()],
                vec!["gold".into(), "normal".into()],
            ],
            note: None,
        };
        let new = PolicyTable {
            rows: vec![
                vec!["gold".into(), "first".into()],
                vec!["platinum".into(), "first".into()],
            ],
            ..old.clone()
        };
        let lines: Vec<String> = table_changes(&old, &new)
            .iter()
            .map(RowChange::line)
            .collect();
        assert_eq!(
            lines,
            [
                "- program: standard; placement: normal",
                "~ gold: placement normal → first",
                "+ program: platinum; placement: first",
            ]
        );
    }
}
