//! Test support: a migrated store on a fresh database, SQLite (a temporary file) or
//! PostgreSQL (a new database on the server named by `CAREDESK_TEST_POSTGRES`, default
//! postgres://postgres@127.0.0.1:5432/postgres). PostgreSQL tests never skip: without a server
//! they fail, saying which server they needed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod cluster;
pub mod smtp;

use caredesk_store::Store;
use sqlx::{Connection, Executor, PgConnection};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, migrated database; `finish` closes it and drops it.
pub struct TestDatabase {
    pub store: Store,
    pub url: String,
    _directory: Option<tempfile::TempDir>,
    postgres_database: Option<String>,
}

/// Names of the databases this crate creates; a crashed run's are dropped by the next.
const PREFIX: &str = "caredesk_test_";

pub fn postgres_server() -> String {
    std::env::var("CAREDESK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

static STALE_DROPPED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Drops test databases left by processes that are gone (tests of other live processes,
/// such as parallel test runners, keep theirs).
async fn drop_stale_databases(admin: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(PREFIX)
            .fetch_all(&mut *admin)
            .await
            .unwrap();
    let process_alive = |name: &str| {
        name.strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .is_some_and(|pid| std::path::Path::new("/proc").join(pid).exists())
    };
    for name in names.into_iter().filter(|name| !process_alive(name)) {
        drop_database(admin, &name).await;
    }
}

async fn drop_database(admin: &mut PgConnection, name: &str) {
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .await
        .unwrap();
}

async fn admin_connection() -> PgConnection {
    let server = postgres_server();
    PgConnection::connect(&server)
        .await
        .unwrap_or_else(|error| {
            panic!("PostgreSQL at {server} is required for these tests: {error}")
        })
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn sqlite() -> TestDatabase {
        let directory = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}",
            directory.path().join("caredesk.db").display()
        );
        TestDatabase {
            store: migrated(&url).await,
            url,
            _directory: Some(directory),
            postgres_database: None,
        }
    }

    pub async fn postgres() -> TestDatabase {
        let mut admin = admin_connection().await;
        STALE_DROPPED
            .get_or_init(|| drop_stale_databases(&mut admin))
            .await;
        let name = format!(
            "{PREFIX}{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .unwrap();
        let server = postgres_server();
        let base = server
            .rsplit_once('/')
            .map_or(server.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        TestDatabase {
            store: migrated(&url).await,
            url,
            _directory: None,
            postgres_database: Some(name),
        }
    }

    /// Closes the store and drops a PostgreSQL database (a SQLite file goes with its folder).
    pub async fn finish(self) {
        self.store.close().await;
        if let Some(name) = &self.postgres_database {
            drop_database(&mut admin_connection().await, name).await;
        }
    }
}

async fn migrated(url: &str) -> Store {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// Tries to change, delete and (on PostgreSQL, where it skips row triggers) truncate the
/// audit trail of the database at `url`, from outside the application, as someone with the
/// database's password would: each statement tried, with the rows it changed or the
/// database's refusal. For the tests that show the trail's triggers hold.
pub async fn tamper_with_the_audit_trail(
    url: &str,
    backend: Backend,
) -> Vec<(&'static str, Result<u64, String>)> {
    let mut statements = vec![
        "UPDATE audit_trail SET actor = 'someone else'",
        "DELETE FROM audit_trail",
    ];
    if backend == Backend::Postgres {
        statements.push("TRUNCATE audit_trail");
    }
    let mut outcomes = Vec::new();
    for statement in statements {
        outcomes.push((statement, run_outside_the_application(url, statement).await));
    }
    outcomes
}

/// Makes the database at `url` look as one written before the ticket search: no event
/// keeps its terms, and every event waits for the store to index it when it next starts.
pub async fn forget_ticket_search(url: &str) {
    for statement in [
        "UPDATE ticket_events SET terms = NULL",
        "INSERT INTO ticket_terms_backlog (next_event_id, last_event_id) \
         SELECT MIN(id), MAX(id) FROM ticket_events",
    ] {
        run_outside_the_application(url, statement).await.unwrap();
    }
}

/// Makes the database at `url` look as if its search texts had been indexed with an
/// analysis the search no longer uses (each index emptied, the terms kept beside the texts
/// blanked), with the migration's list of what to analyse again.
pub async fn forget_search_analysis(url: &str) {
    forget_ticket_search(url).await;
    for statement in [
        "DELETE FROM resource_search",
        "DELETE FROM resource_term_counts",
        "DELETE FROM community_search",
        "UPDATE community_questions SET title_terms = '', body_terms = ''",
        "UPDATE community_answers SET terms = ''",
        "INSERT INTO search_reanalysis (kind, next_id) VALUES ('resources', 0), ('community', 0)",
    ] {
        run_outside_the_application(url, statement).await.unwrap();
    }
    if url.starts_with("postgres") {
        run_outside_the_application(url, "DELETE FROM resource_title_search")
            .await
            .unwrap();
    }
}

/// Makes the database at `url` look as one whose tickets were measured before reports kept
/// their activity (measures version 1), migrated since: the totals filled again from the
/// tickets' measures as migration 0033 fills them, none of the activity counted, and the
/// weekly and monthly flows filled as migration 0035 fills them, the people's detailed
/// totals as migration 0038 fills them. The job runner then
/// measures every ticket again.
pub async fn refill_report_totals_as_the_migration_does(url: &str) {
    let (totals, volume, people_detail) = if url.starts_with("postgres") {
        (
            include_str!("../../store/migrations/postgres/0033_report_totals.sql"),
            include_str!("../../store/migrations/postgres/0035_report_volume.sql"),
            include_str!("../../store/migrations/postgres/0038_report_people_detail.sql"),
        )
    } else {
        (
            include_str!("../../store/migrations/sqlite/0033_report_totals.sql"),
            include_str!("../../store/migrations/sqlite/0035_report_volume.sql"),
            include_str!("../../store/migrations/sqlite/0038_report_people_detail.sql"),
        )
    };
    let activity = ACTIVITY_COLUMNS
        .iter()
        .map(|column| format!("{column} = 0"))
        .collect::<Vec<_>>()
        .join(", ");
    run_outside_the_application(
        url,
        &format!("UPDATE tickets SET {activity}, measures_version = 1 WHERE measures_version > 0"),
    )
    .await
    .unwrap();
    run_outside_the_application(url, &format!("UPDATE report_months SET {activity}"))
        .await
        .unwrap();
    for table in [
        "report_days",
        "report_people_months",
        "report_people_days",
        "report_people_detail_months",
        "report_people_detail_days",
        "report_flows",
    ] {
        run_outside_the_application(url, &format!("DELETE FROM {table}"))
            .await
            .unwrap();
    }
    let (totals, flows, people_detail) = (
        totals_fills(totals),
        totals_fills(volume),
        totals_fills(people_detail),
    );
    assert_eq!(
        totals.len(),
        5,
        "migration 0033's statements that fill the totals"
    );
    assert_eq!(
        flows.len(),
        4,
        "migration 0035's statements that fill the flows"
    );
    assert_eq!(
        people_detail.len(),
        4,
        "migration 0038's statements that fill the people's detailed totals"
    );
    for statement in totals.into_iter().chain(flows).chain(people_detail) {
        run_outside_the_application(url, statement).await.unwrap();
    }
}

/// The activity columns migration 0035 added to the tickets and the totals.
const ACTIVITY_COLUMNS: [&str; 12] = [
    "escalations_asked",
    "escalations_automatic",
    "escalations_answered",
    "ever_escalated",
    "escalated_resolved",
    "proposals",
    "proposals_accepted",
    "proposals_rejected",
    "proposals_unanswered",
    "outside_support",
    "services_requested",
    "waiting_minutes",
];

/// Empties the people's detailed totals of the database at `url` and fills them again from
/// the tickets' measures as migration 0038 does.
pub async fn refill_people_detail_as_the_migration_does(url: &str) {
    let migration = if url.starts_with("postgres") {
        include_str!("../../store/migrations/postgres/0038_report_people_detail.sql")
    } else {
        include_str!("../../store/migrations/sqlite/0038_report_people_detail.sql")
    };
    for table in ["report_people_detail_months", "report_people_detail_days"] {
        run_outside_the_application(url, &format!("DELETE FROM {table}"))
            .await
            .unwrap();
    }
    let fills = totals_fills(migration);
    assert_eq!(
        fills.len(),
        4,
        "migration 0038's statements that fill the totals"
    );
    for statement in fills {
        run_outside_the_application(url, statement).await.unwrap();
    }
}

/// A migration's statements that fill report totals from the tickets.
fn totals_fills(migration: &'static str) -> Vec<&'static str> {
    migration
        .split(';')
        .map(str::trim)
        .filter(|statement| {
            statement.starts_with("INSERT INTO report_") && statement.contains("FROM tickets")
        })
        .collect()
}

/// Makes the database at `url` look as one written before reports kept measures: no ticket
/// carries its measures and no totals are kept, for the job runner to measure them again.
pub async fn forget_report_measures(url: &str) {
    for statement in [
        "UPDATE tickets SET measures_version = 0, first_response_outcome = 0, \
         resolution_outcome = 0, updates_owed = 0, updates_late = 0, updates_band = NULL, \
         paused_minutes = 0",
        "DELETE FROM report_months",
        "DELETE FROM report_days",
        "DELETE FROM report_people_months",
        "DELETE FROM report_people_days",
        "DELETE FROM report_people_detail_months",
        "DELETE FROM report_people_detail_days",
        "DELETE FROM report_flows",
    ] {
        run_outside_the_application(url, statement).await.unwrap();
    }
}

/// Makes the database at `url` look as if it was written before the people report counted
/// work (migration 0036): nothing counted, every ticket to count.
pub async fn forget_report_work(url: &str) {
    for statement in [
        "DELETE FROM report_work",
        "UPDATE tickets SET work_to_count = 1",
    ] {
        run_outside_the_application(url, statement).await.unwrap();
    }
}

/// Runs one SQL statement on the database at `url` outside the application.
async fn run_outside_the_application(url: &str, statement: &str) -> Result<u64, String> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|error| error.to_string())?;
    let done = sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
        .execute(&mut connection)
        .await
        .map_err(|error| error.to_string());
    let _ = connection.close().await;
    done.map(|result| result.rows_affected())
}

/// Every column of ticket `id` as the database at `url` holds it, each as text (`NULL`
/// for none), read outside the application: for comparing two ways of writing a row.
pub async fn ticket_row(url: &str, id: i64) -> std::collections::BTreeMap<String, String> {
    use sqlx::{Column, Connection, Row};
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(url)
        .await
        .expect("the test database answers");
    let row = sqlx::query("SELECT * FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(&mut connection)
        .await
        .expect("the ticket exists");
    let cells = row
        .columns()
        .iter()
        .map(|column| {
            let index = column.ordinal();
            let text = if let Ok(number) = row.try_get::<Option<i64>, _>(index) {
                number.map(|number| number.to_string())
            } else if let Ok(flag) = row.try_get::<Option<bool>, _>(index) {
                // PostgreSQL's booleans, as SQLite stores them.
                flag.map(|flag| i64::from(flag).to_string())
            } else if let Ok(text) = row.try_get::<Option<String>, _>(index) {
                text
            } else {
                Some(format!(
                    "{:?}",
                    row.try_get_raw(index).map(|_| "unreadable")
                ))
            };
            (
                column.name().to_string(),
                text.unwrap_or_else(|| "NULL".to_string()),
            )
        })
        .collect();
    let _ = connection.close().await;
    cells
}
