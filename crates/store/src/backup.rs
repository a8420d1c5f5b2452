//! Backups. On SQLite the store writes a consistent copy of the whole database while it is
//! served (`VACUUM INTO`: one read transaction, so writers go on); on PostgreSQL that is
//! pg_dump's job, and the store only tells which server it talks to. Either way a backup
//! can be checked and summed up, to compare it with the desk it came from.

use std::path::Path;

use serde::Serialize;

use crate::{Backend, Store, StoreError};

/// What a database holds, counted: enough to tell an operator what a backup contains and to
/// see that a restored desk is whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Contents {
    pub tickets: i64,
    pub events: i64,
    pub customers: i64,
    pub contacts: i64,
    pub staff: i64,
    pub attachments: i64,
    pub notices: i64,
}

impl Store {
    /// SQLite only: writes a copy of the database into `file`, which must not exist. The
    /// copy is one consistent moment, taken while others read and write.
    pub async fn back_up_into(&self, file: &Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "a PostgreSQL database is backed up with pg_dump".into(),
            ));
        }
        let file = file
            .to_str()
            .ok_or_else(|| StoreError::Conflict("the backup's path is not valid UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(file)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// SQLite: whether every page and index of the database is sound (`PRAGMA
    /// integrity_check`), with SQLite's first complaints when it is not. PostgreSQL checks
    /// its own pages; there it is always sound.
    pub async fn check_integrity(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let answers: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check(5)")
            .fetch_all(&self.pool)
            .await?;
        if answers.len() == 1 && answers[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(answers.join("; ")))
        }
    }

    /// Whether the database holds no table at all: a new database, fit to restore into.
    pub async fn has_no_tables(&self) -> Result<bool, StoreError> {
        let statement = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
            }
        };
        let tables: i64 = sqlx::query_scalar(statement).fetch_one(&self.pool).await?;
        Ok(tables == 0)
    }

    /// Whether this is a caredesk database: its migrations table and its tickets.
    pub async fn is_a_desk(&self) -> Result<bool, StoreError> {
        let statement = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
                 AND name IN ('_sqlx_migrations', 'tickets', 'ticket_events')"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() \
                 AND table_name IN ('_sqlx_migrations', 'tickets', 'ticket_events')"
            }
        };
        let found: i64 = sqlx::query_scalar(statement).fetch_one(&self.pool).await?;
        Ok(found == 3)
    }

    /// The database server's version, as it says it (PostgreSQL), or SQLite's library
    /// version.
    pub async fn server_version(&self) -> Result<String, StoreError> {
        let statement = match self.backend {
            Backend::Sqlite => "SELECT sqlite_version()",
            Backend::Postgres => "SHOW server_version",
        };
        Ok(sqlx::query_scalar(statement).fetch_one(&self.pool).await?)
    }

    /// The rows of each kind the desk keeps.
    pub async fn contents(&self) -> Result<Contents, StoreError> {
        let count = |table: &'static str| {
            let pool = &self.pool;
            async move {
                let statement = format!("SELECT COUNT(*) FROM {table}");
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(statement))
                    .fetch_one(pool)
                    .await
            }
        };
        Ok(Contents {
            tickets: count("tickets").await?,
            events: count("ticket_events").await?,
            customers: count("customers").await?,
            contacts: count("contacts").await?,
            staff: count("staff").await?,
            attachments: count("attachments").await?,
            notices: count("outbox").await?,
        })
    }
}
