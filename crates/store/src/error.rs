//! What can go wrong in the store, narrowed to what callers act on.

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row (or not visible to the caller).
    #[error("not found")]
    NotFound,
    /// A unique value already taken, or a write based on a stale version.
    #[error("{0}")]
    Conflict(String),
    /// A change based on a version of the ticket that is no longer current.
    #[error("{0}")]
    StaleVersion(String),
    /// The database URL names a database caredesk does not speak.
    #[error("\"{0}:\" databases are not supported; use sqlite://FILE or postgres://…")]
    UnsupportedUrl(String),
    /// The policy in force does not know a name stored on a ticket (a program, a severity
    /// removed from the policy file).
    #[error("the policy does not fit the stored data: {0}")]
    Policy(String),
    /// Stored data that cannot be read back (a bug or a hand edit).
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A write's task ended before it reported (the runtime shutting down); whether it was
    /// committed is unknown, and a retry with the same idempotency key tells.
    #[error("the write was interrupted: {0}")]
    Interrupted(String),
    /// The database cannot be reached or refuses work for now (down, restarting, every
    /// connection busy past the wait): a retry later may succeed, with the same
    /// idempotency key for a creation whose answer was lost.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A write shared with other new tickets failed for a reason that is not theirs to
    /// retry (told to each of them as text: the database's error cannot be copied).
    #[error("writing new tickets failed: {0}")]
    BatchFailed(String),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(database) if database.is_unique_violation() => {
                StoreError::Conflict(unique_violation_message(database.message()))
            }
            _ if is_transient(&error) => StoreError::Unavailable(error.to_string()),
            _ => StoreError::Database(error),
        }
    }
}

/// Whether `error` says the database is away rather than that the request was wrong, so that
/// the same request later may succeed: no connection (refused, reset, timed out in the
/// pool), or the server shutting down or starting (SQLSTATE class 08, connection exception,
/// but for 08P01, a protocol violation; 57P01-57P03, admin or crash shutdown and "cannot
/// connect now"; 53300, too many connections). SQLite's "database is locked" past the busy
/// timeout is the same for its callers. A TLS failure is a configuration to mend, not a
/// moment to wait out; a deadlock stays the new-ticket writer's to handle (it writes each
/// ticket of the batch alone).
fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => {
            let code = database.code().unwrap_or_default();
            if database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                // SQLITE_BUSY and its extended codes: the low byte is 5.
                code.parse::<u32>().is_ok_and(|number| number & 0xff == 5)
            } else {
                (code.starts_with("08") && code != "08P01")
                    || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
            }
        }
        _ => false,
    }
}

/// "UNIQUE constraint failed: contacts.email" (SQLite) and "duplicate key value violates
/// unique constraint \"contacts_email_key\"" (PostgreSQL) both become "email already exists".
fn unique_violation_message(message: &str) -> String {
    let column = message
        .rsplit(['.', ' '])
        .next()
        .map(|last| last.trim_matches('"'))
        .map(|last| {
            last.strip_suffix("_key")
                .and_then(|name| name.split_once('_').map(|(_, column)| column))
                .unwrap_or(last)
        })
        .unwrap_or("value");
    format!("{column} already exists")
}

#[cfg(test)]
mod tests {
    use super::unique_violation_message;

    #[test]
    fn unique_violations_name_the_column() {
        assert_eq!(
            unique_violation_message("UNIQUE constraint failed: contacts.email"),
            "email already exists"
        );
        assert_eq!(
            unique_violation_message(
                "duplicate key value violates unique constraint \"contacts_email_key\""
            ),
            "email already exists"
        );
    }
}
