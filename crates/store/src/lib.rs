//! Every SQL statement of caredesk, one file per aggregate, portable between SQLite and
//! PostgreSQL.
//!
//! The same query text runs on both: `$1`-style placeholders (SQLite accepts them), only the
//! types both share (64-bit integers, text, booleans, bytes), instants as Unix seconds,
//! JSON as text. What differs lives here and nowhere else: the migrations (one directory per
//! backend), how a write transaction starts, and row locks. The backend is chosen from the
//! database URL.

mod activation;
mod audit;
mod backup;
mod catalog;
mod columns;
mod community;
mod customers;
mod error;
mod events;
mod inbound;
mod intake;
mod jobs;
mod json_table;
mod monthly_reports;
mod notice_facts;
mod outbox;
mod policy_versions;
mod reanalysis;
mod report_flows;
mod report_work;
mod reports;
mod resource_upkeep;
mod resources;
mod services;
mod sessions;
mod sign_in;
mod staff;
mod tickets;
mod timelines;
mod tokens;
mod webhooks;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};

use crate::tickets::creations::CreationQueue;

pub use activation::{
    Activated, Activation, ActivationPassword, NewActivation, NewActivationSession, StoredKey,
};
pub use audit::{Audit, AuditEntry, AuditFilter};
pub use backup::Contents;
pub use catalog::{
    Announcement, NewRelease, PlannedTicket, PlannedTickets, Publication, Release, ReleaseNote,
};
pub use community::{
    HiddenQuestions, NewQuestion, QuestionFilter, QuestionHit, StoredAnswer, StoredQuestion,
    StoredStep,
};
pub use customers::{
    Contact, Contract, Customer, ImportBatch, ImportCounts, Licence, LicenceTerms, NewContact,
    NewContract, NewCustomer, NewProduct, Product,
};
pub use error::StoreError;
pub use inbound::InboundRecord;
pub use intake::{AdvisorLoads, IntakeFacts};
pub use monthly_reports::ReportOwed;
pub use notice_facts::{NoticeFacts, NoticeRecipient};
pub use outbox::{Delivery, OutboxEntry};
pub use policy_versions::{
    BehindPosition, NewPolicyVersion, OpenTicketTerms, PolicyVersion, RebuildProgress, StoredPolicy,
};
pub use report_flows::{BacklogGroup, FlowQuery, FlowRow};
pub use report_work::{WorkQuery, WorkRow};
pub use reports::{
    ActivityRow, BACKLOG_AGES, BreachQuery, BreachedClock, BreachedTicket, ComplianceQuery, DeskNow,
};
pub use resource_upkeep::{
    FeedbackComment, FeedbackSummary, MissedSearch, ShownBefore, SuggestionShown, TicketsHelped,
};
pub use resources::{
    Entry, ImportedEntry, ImportedTranslation, ResourceFilter, ResourceHit, ResourceImport,
    ReviewUpdateError, Revision, Translation, TranslationText,
};
pub use services::{
    EarlierRequest, NewServiceRequest, RecordedServiceRequest, ServiceRequest, ServiceUpdateError,
};
pub use sessions::{SessionHolder, SessionOrigin, SessionOwner, SessionRecord};
pub use staff::{NewStaff, OnCallShiftRecord, StaffMember};
pub use tickets::{
    Attachment, AttachmentContent, Change, Created, FileToAttach, FilesToAttach, IntakeRecord,
    NewAttachment, NewTicket, QueueCursor, QueueFilter, RebuildBatch, Rebuilt, Sweep,
    TextSearchPlan, TicketRecord, TicketSearch, TicketTextHit, TicketTextHits, UpdateError,
};
pub use timelines::{
    OpenTimeline, StoredStanding, TIMELINES_PER_PAGE, TicketTimeline, TimelineCursor, TimelineQuery,
};
pub use tokens::ApiToken;
pub use webhooks::Webhook;

/// Whose tickets a caller may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Staff: every ticket.
    All,
    /// A customer's contact: that customer's tickets only, and only their public events.
    Customer(i64),
}

/// A query answering one integer, on either backend.
pub(crate) type AnyQueryScalar<'q> =
    sqlx::query::QueryScalar<'q, Any, i64, sqlx::any::AnyArguments>;

/// The database behind a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool of connections to the desk's database.
#[derive(Clone, Debug)]
pub struct Store {
    /// For reading (and, on PostgreSQL, for everything).
    pool: AnyPool,
    /// For writing. On SQLite a pool of one connection, so writers queue here, in order,
    /// instead of polling SQLite's lock with its busy handler's sleeps.
    writer: AnyPool,
    /// Where new tickets wait to be written together (see `creations`).
    creations: CreationQueue,
    /// SQLite: the connection that checkpoints the write-ahead log (see `keep_checkpointing`).
    checkpointer: Option<AnyPool>,
    backend: Backend,
    /// Woken when this process writes notices, so a deliverer in the same process sends
    /// them at once instead of at its next look (see `Store::notices_written`).
    outbox_written: Arc<tokio::sync::Notify>,
    /// Whose administrative changes this store records in the audit trail, if anyone's
    /// (see `Store::audited_by`).
    audit: Option<Arc<audit::Audit>>,
}

/// How long a SQLite writer waits for another to finish before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request waits for a SQLite connection: the one writer's queue under a burst.
const SQLITE_WAIT: Duration = Duration::from_secs(15);

/// How long a request waits for a PostgreSQL connection, retrying a server that refuses
/// them (restarting), before it is answered "unavailable".
const POSTGRES_WAIT: Duration = Duration::from_secs(5);

/// How often SQLite's write-ahead log is copied back into the database file.
const SQLITE_CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Past this many pages in the write-ahead log a committing connection checkpoints by itself
/// (SQLite's default is 1,000): only when the checkpointer falls that far behind.
const SQLITE_COMMIT_CHECKPOINT_PAGES: u32 = 20_000;

/// Each SQLite connection's page cache, in KiB (a ceiling: pages are taken as read).
const SQLITE_CACHE_KIB: u32 = 32 * 1024;

/// How much of the database file each SQLite connection reads through a memory map rather
/// than by copying pages into its cache (SQLite caps it at its compiled-in maximum, 2 GiB).
const SQLITE_MMAP_BYTES: u64 = 1 << 31;

/// The write-ahead log file is cut back to this size after it was emptied.
const SQLITE_WAL_KEPT_BYTES: u64 = 128 * 1024 * 1024;

impl Store {
    /// Connects to `sqlite://FILE` (created when missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = pool_options(backend, 8)
            .connect_with(options.clone())
            .await?;
        let (writer, checkpointer) = match backend {
            Backend::Sqlite => {
                let writer = pool_options(backend, 1)
                    .connect_with(options.clone())
                    .await?;
                let checkpointer = pool_options(backend, 1).connect_with(options).await?;
                keep_checkpointing(checkpointer.clone());
                (writer, Some(checkpointer))
            }
            Backend::Postgres => (pool.clone(), None),
        };
        let outbox_written = Arc::new(tokio::sync::Notify::new());
        let creations = CreationQueue::start(writer.clone(), backend, Arc::clone(&outbox_written));
        Ok(Store {
            pool,
            writer,
            creations,
            checkpointer,
            backend,
            outbox_written,
            audit: None,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Returns once this process has written notices since the last call returned (other
    /// processes' notices are found by looking at the outbox).
    pub async fn notices_written(&self) {
        self.outbox_written.notified().await;
    }

    /// Applies the migrations this database has not seen yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        // What a migration could not do in SQL: the search's analysis of earlier texts.
        self.index_earlier_ticket_texts(tickets::BACKLOG_BATCH)
            .await?;
        self.reanalyse_search_texts(reanalysis::REANALYSIS_BATCH)
            .await?;
        Ok(())
    }

    /// Refreshes the planner's statistics, so filtered queue pages pick the right index.
    /// Cheap on SQLite (a bounded sample per index); PostgreSQL samples too.
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        let statement = match self.backend {
            Backend::Sqlite => "PRAGMA analysis_limit = 1000; ANALYZE;",
            Backend::Postgres => "ANALYZE",
        };
        self.writer.execute(statement).await?;
        Ok(())
    }

    /// Whether the database answers (for readiness checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Waits for the connections in use to come back, then closes them all.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.close().await;
        }
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (the one
    /// writer connection already queues writers; IMMEDIATE also keeps out other processes).
    async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Appended to a `SELECT` that reads a row about to be rewritten. SQLite needs nothing:
    /// its write transaction already excludes other writers.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

/// SQLite: checkpoints the write-ahead log from a connection of its own, every
/// `SQLITE_CHECKPOINT_EVERY`, until the store closes. Left to SQLite, the connection whose
/// commit fills the log copies it into the database file and syncs both while every writer
/// waits: a write every few dozen stalled for a hundred milliseconds under load. A passive
/// checkpoint runs beside the writer and the readers, never blocking them.
fn keep_checkpointing(checkpointer: AnyPool) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SQLITE_CHECKPOINT_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let checkpointed = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&checkpointer)
                .await;
            if checkpointer.is_closed() {
                return;
            }
            if let Err(error) = checkpointed {
                // A busy or full disk: the next tick tries again, and past
                // SQLITE_COMMIT_CHECKPOINT_PAGES the writers checkpoint by themselves.
                tracing::warn!(%error, "checkpointing SQLite's write-ahead log failed");
            }
        }
    });
}

/// Pool settings per backend; `sqlite_connections` sizes a SQLite pool.
fn pool_options(backend: Backend, sqlite_connections: u32) -> AnyPoolOptions {
    match backend {
        // A local file has no network to drop a connection: no ping before each use.
        Backend::Sqlite => AnyPoolOptions::new()
            .max_connections(sqlite_connections)
            .acquire_timeout(SQLITE_WAIT)
            .test_before_acquire(false)
            .after_connect(|connection, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the one writer; NORMAL is durable at every
                    // checkpoint and loses nothing on a process crash. SQLite's own page
                    // cache (2 MB unless told) is made larger: a large desk's indexes, and
                    // the full-text index's merges above all, would otherwise read the same
                    // pages from the file again and again. Reads go through a memory map:
                    // a replay or a rebuild that reads every timeline would otherwise spend
                    // a third of its time copying pages from the system's file cache.
                    connection
                        .execute(sqlx::AssertSqlSafe(format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; \
                             PRAGMA cache_size = -{SQLITE_CACHE_KIB}; \
                             PRAGMA mmap_size = {SQLITE_MMAP_BYTES}; \
                             PRAGMA wal_autocheckpoint = {SQLITE_COMMIT_CHECKPOINT_PAGES}; \
                             PRAGMA journal_size_limit = {SQLITE_WAL_KEPT_BYTES};",
                            SQLITE_BUSY_TIMEOUT.as_millis()
                        )))
                        .await?;
                    Ok(())
                })
            }),
        // No ping before each use either: a ticket's creation takes ten connections from the
        // pool, and ten extra round trips cost more than the rare query that meets a
        // connection the server dropped (it fails once, and that connection is discarded).
        // Connections are recycled before they grow old or sit idle for long.
        Backend::Postgres => AnyPoolOptions::new()
            .max_connections(16)
            .test_before_acquire(false)
            .idle_timeout(Duration::from_secs(5 * 60))
            .max_lifetime(Duration::from_secs(30 * 60))
            // A server that is down or restarting is tried again for this long, then the
            // request is answered "unavailable, retry" instead of hanging.
            .acquire_timeout(POSTGRES_WAIT),
    }
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(
                url.split(':').next().unwrap_or_default().to_string(),
            ))
        }
    }
}

/// Which record of `table` (tickets, service_requests) an earlier request of `created_by`
/// with this idempotency key made, if any; a conflict if that request differed
/// (`request_hash`). `table` is one of this crate's names, never a caller's text.
async fn id_by_idempotency_key(
    pool: &sqlx::AnyPool,
    table: &'static str,
    created_by: &str,
    key: &str,
    request_hash: Option<&str>,
) -> Result<Option<i64>, StoreError> {
    use sqlx::Row;
    let found = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, request_hash FROM {table} WHERE created_by = $1 AND idempotency_key = $2"
    )))
    .bind(created_by)
    .bind(key)
    .fetch_optional(pool)
    .await?;
    let Some(row) = found else {
        return Ok(None);
    };
    let stored_hash: Option<String> = row.try_get("request_hash")?;
    if stored_hash.as_deref() != request_hash {
        return Err(StoreError::Conflict(
            "this Idempotency-Key was already used for a different request".into(),
        ));
    }
    Ok(Some(row.try_get("id")?))
}

/// Optimistic concurrency: a change based on `expected` (when given) applies only to that
/// version of the `record` (a ticket, a request).
fn require_version(record: &str, current: i64, expected: Option<i64>) -> Result<(), StoreError> {
    match expected {
        Some(expected) if expected != current => Err(StoreError::StaleVersion(format!(
            "the {record} changed (version {current} now, {expected} expected); reload it and try again"
        ))),
        _ => Ok(()),
    }
}

/// Unix seconds of an instant (a fraction of a second is dropped).
fn seconds(at: jiff::Timestamp) -> i64 {
    at.as_second()
}

/// The instant of stored Unix seconds.
fn instant(seconds: i64) -> Result<jiff::Timestamp, StoreError> {
    jiff::Timestamp::from_second(seconds)
        .map_err(|_| StoreError::Corrupt(format!("{seconds} is not a valid instant")))
}

/// Builds SQL whose shape depends on its inputs (optional filters), with `$n` placeholders
/// numbered in the order values are bound.
struct SqlBuilder {
    sql: String,
    values: Vec<SqlValue>,
}

enum SqlValue {
    Integer(i64),
    Text(String),
}

impl SqlBuilder {
    fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_string(),
            values: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    fn bind_i64(&mut self, value: i64) -> &mut Self {
        self.bind(SqlValue::Integer(value))
    }

    fn bind_text(&mut self, value: &str) -> &mut Self {
        self.bind(SqlValue::Text(value.to_string()))
    }

    fn bind(&mut self, value: SqlValue) -> &mut Self {
        self.values.push(value);
        self.sql.push('$');
        self.sql.push_str(&self.values.len().to_string());
        self
    }

    fn query(&self) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql.clone()));
        for value in &self.values {
            query = match value {
                SqlValue::Integer(value) => query.bind(*value),
                SqlValue::Text(value) => query.bind(value.as_str()),
            };
        }
        query
    }

    async fn fetch_optional<'e>(
        &self,
        executor: impl Executor<'e, Database = Any>,
    ) -> Result<Option<sqlx::any::AnyRow>, sqlx::Error> {
        self.query().fetch_optional(executor).await
    }

    async fn fetch_all<'e>(
        &self,
        executor: impl Executor<'e, Database = Any>,
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        self.query().fetch_all(executor).await
    }
}
