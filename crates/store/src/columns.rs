//! Reading a row's columns by name, whether the row came from the database driver or as a
//! JSON object (several result sets folded into one row by `json_group_array`/`json_agg`,
//! see `intake`). Each record has one mapping, written against this trait, for both.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::StoreError;

pub(crate) trait Columns {
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    fn optional_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn text(&self, column: &str) -> Result<String, StoreError>;
    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    /// A boolean: PostgreSQL stores a `BOOLEAN`, SQLite an integer 0 or 1.
    fn flag(&self, column: &str) -> Result<bool, StoreError>;
}

impl Columns for AnyRow {
    fn int(&self, column: &str) -> Result<i64, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn optional_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn text(&self, column: &str) -> Result<String, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        match self.try_get::<bool, _>(column) {
            Ok(value) => Ok(value),
            Err(_) => Ok(self.try_get::<i64, _>(column)? != 0),
        }
    }
}

/// A row folded into a JSON object by the database.
pub(crate) type JsonRow = Map<String, Value>;

impl Columns for JsonRow {
    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.optional_int(column)?
            .ok_or_else(|| unexpected(column, "a number", &Value::Null))
    }

    fn optional_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        match json_value(self, column)? {
            Value::Null => Ok(None),
            value => value
                .as_i64()
                .map(Some)
                .ok_or_else(|| unexpected(column, "an integer", value)),
        }
    }

    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.optional_text(column)?
            .ok_or_else(|| unexpected(column, "a text", &Value::Null))
    }

    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        match json_value(self, column)? {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(text.clone())),
            value => Err(unexpected(column, "a text", value)),
        }
    }

    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        match json_value(self, column)? {
            Value::Bool(value) => Ok(*value),
            value => value
                .as_i64()
                .map(|number| number != 0)
                .ok_or_else(|| unexpected(column, "a boolean", value)),
        }
    }
}

fn json_value<'a>(row: &'a JsonRow, column: &str) -> Result<&'a Value, StoreError> {
    row.get(column)
        .ok_or_else(|| StoreError::Corrupt(format!("column \"{column}\" is missing")))
}

fn unexpected(column: &str, wanted: &str, found: &Value) -> StoreError {
    StoreError::Corrupt(format!("column \"{column}\" holds {found}, not {wanted}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(json: &str) -> JsonRow {
        serde_json::from_str(json).expect("a JSON object")
    }

    #[test]
    fn json_rows_read_like_database_rows() {
        let row = row(r#"{"id": 7, "csm": null, "name": "Acme", "on": 1, "off": false}"#);
        assert_eq!(row.int("id").unwrap(), 7);
        assert_eq!(row.optional_int("csm").unwrap(), None);
        assert_eq!(row.text("name").unwrap(), "Acme");
        assert!(row.flag("on").unwrap());
        assert!(!row.flag("off").unwrap());
    }

    #[test]
    fn json_rows_name_the_column_that_does_not_fit() {
        let row = row(r#"{"id": "seven", "name": null}"#);
        let message = |error: StoreError| error.to_string();
        assert!(message(row.int("id").unwrap_err()).contains("\"id\""));
        assert!(message(row.text("name").unwrap_err()).contains("\"name\""));
        assert!(message(row.text("missing").unwrap_err()).contains("missing"));
    }
}
