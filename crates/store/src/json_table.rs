//! Many values in one parameter: a list of numbers, or a table of rows, sent as one JSON
//! array and read back by the database as a table.
//!
//! Why: sqlx's SQLite driver looks each numbered parameter's name up by a linear search, so
//! binding a statement of n parameters costs n². A rebuild that wrote 200 tickets of 40
//! columns in one statement (8,000 parameters) spent nearly half its time there, with the
//! database's writer held. One JSON parameter costs its length.

use sqlx::AnyConnection;

use crate::Backend;

impl Backend {
    /// The backend of `connection`.
    pub(crate) fn of(connection: &AnyConnection) -> Backend {
        if connection.backend_name().eq_ignore_ascii_case("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// A table with one row per element of the JSON array in parameter `$parameter`, each
    /// in a column named `value` (JSON on PostgreSQL, SQL values on SQLite): read an
    /// element's cells with `value ->> 0`, `value ->> 1`, ….
    pub(crate) fn json_rows(self, parameter: usize) -> String {
        match self {
            Backend::Sqlite => format!("json_each(${parameter})"),
            Backend::Postgres => format!("json_array_elements(CAST(${parameter} AS json))"),
        }
    }

    /// A subquery of the integers of the JSON array in parameter `$parameter`, for
    /// `id IN (…)`.
    pub(crate) fn json_ids(self, parameter: usize) -> String {
        match self {
            Backend::Sqlite => format!("SELECT value FROM json_each(${parameter})"),
            Backend::Postgres => format!(
                "SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(${parameter} AS json))"
            ),
        }
    }
}

/// `ids` as the JSON array [`Backend::json_ids`] reads.
pub(crate) fn json_id_list(ids: &[i64]) -> String {
    let mut json = String::with_capacity(ids.len() * 8 + 2);
    json.push('[');
    for (position, id) in ids.iter().enumerate() {
        if position > 0 {
            json.push(',');
        }
        json.push_str(&id.to_string());
    }
    json.push(']');
    json
}
