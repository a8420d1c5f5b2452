//! New tickets written together: a group commit.
//!
//! Tickets opened at the same moment have most of their cost in common. On SQLite, which has
//! one writer, every commit appends each page it changed to the write-ahead log (the tickets
//! table's last page, the last page of each of its indexes, the timeline's, the outbox's):
//! written in one transaction, tickets cost those pages once instead of once each, and one
//! hand-off to the writer connection's thread. On PostgreSQL one statement writes a whole
//! batch, each table's rows in one insert, so starting each insert (a table and its indexes)
//! and the commit are paid once per batch (`bench/README.md` has what that gives).
//!
//! One batch at a time, on both: SQLite has one writer, and on PostgreSQL every new ticket
//! adds to its advisor's load, a row that a second batch would wait for until the first
//! commits. A ticket waits for no one: the writer takes whatever arrived while it was busy,
//! and a ticket that arrives when it is idle goes alone. Each caller is answered once the
//! transaction holding its ticket committed.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};
use tokio::sync::{Notify, mpsc, oneshot};

use super::{NewRows, NewTicketRows, insert_new_postgres_together, insert_new_sqlite_together};
use crate::{Backend, StoreError};

/// At most this many new tickets in one transaction.
const MOST_TOGETHER: usize = 32;

/// What a caller hears: the new ticket's id, with its rows handed back; or why it failed.
type Written = Result<(i64, NewTicketRows), StoreError>;

/// A new ticket waiting for the writer, and whom to tell.
struct Waiting {
    rows: NewTicketRows,
    written: oneshot::Sender<Written>,
}

/// Where new tickets wait for the writer.
#[derive(Clone, Debug)]
pub(crate) struct CreationQueue {
    waiting: mpsc::UnboundedSender<Waiting>,
}

impl CreationQueue {
    /// Starts the task that writes new tickets through `writer` (on SQLite, the pool of its
    /// one writer connection), and wakes `outbox_written` after each write: a new ticket has
    /// notices, or deliveries to webhooks, even when its caller has gone. It ends when the
    /// last queue is dropped.
    pub(crate) fn start(
        writer: AnyPool,
        backend: Backend,
        outbox_written: Arc<Notify>,
    ) -> CreationQueue {
        let (waiting, arrivals) = mpsc::unbounded_channel();
        let writer = Writer {
            pool: writer,
            backend,
            outbox_written,
        };
        tokio::spawn(write_as_they_come(writer, arrivals));
        CreationQueue { waiting }
    }

    /// Writes a new ticket; returns its id, and its rows, once it is committed. A caller that
    /// stops waiting does not stop the write (its idempotency key finds the ticket on a retry).
    pub(crate) async fn write(&self, rows: NewTicketRows) -> Written {
        let (written, answer) = oneshot::channel();
        self.waiting
            .send(Waiting { rows, written })
            .map_err(|_| writer_stopped())?;
        answer.await.map_err(|_| writer_stopped())?
    }
}

/// Where and how batches are written, and whom to wake once they are.
#[derive(Clone)]
struct Writer {
    pool: AnyPool,
    backend: Backend,
    outbox_written: Arc<Notify>,
}

fn writer_stopped() -> StoreError {
    StoreError::Interrupted("the writer of new tickets stopped".into())
}

async fn write_as_they_come(writer: Writer, mut arrivals: mpsc::UnboundedReceiver<Waiting>) {
    let mut batch = Vec::with_capacity(MOST_TOGETHER);
    while arrivals.recv_many(&mut batch, MOST_TOGETHER).await > 0 {
        // A task per batch: a panic loses that batch's answers (its callers hear that the
        // writer stopped, and may retry), not the writer.
        let batch = std::mem::take(&mut batch);
        let written = tokio::spawn(write_batch(writer.clone(), batch));
        if let Err(error) = written.await {
            tracing::error!(%error, "writing new tickets failed");
        }
    }
}

async fn write_batch(writer: Writer, batch: Vec<Waiting>) {
    let backend = writer.backend;
    let mut connection = match writer.pool.acquire().await {
        Ok(connection) => connection,
        Err(error) => return tell_all(batch, error.into()),
    };
    let rows: Vec<NewRows<'_>> = batch.iter().map(|waiting| waiting.rows.rows()).collect();
    let together = write_in_one_transaction(&mut connection, backend, &rows).await;
    drop(rows);
    match together {
        Ok(ids) => {
            writer.outbox_written.notify_one();
            for (Waiting { rows, written }, id) in batch.into_iter().zip(ids) {
                // A caller that went away has nothing to hear.
                let _ = written.send(Ok((id, rows)));
            }
        }
        // One ticket's row may have broken a constraint (a reused idempotency key, a
        // vanished customer) or held a value the database refuses, and undone them all:
        // each is written again alone, to succeed or fail on its own.
        Err(error) if batch.len() > 1 && one_ticket_can_cause(&error) => {
            tracing::debug!(%error, tickets = batch.len(), "new tickets written one by one");
            for Waiting { rows, written } in batch {
                let alone = write_in_one_transaction(&mut connection, backend, &[rows.rows()])
                    .await
                    .and_then(|ids| {
                        ids.first().copied().ok_or_else(|| {
                            StoreError::Corrupt("the new ticket's id did not come back".into())
                        })
                    });
                if alone.is_ok() {
                    writer.outbox_written.notify_one();
                }
                let _ = written.send(alone.map(|id| (id, rows)));
            }
        }
        Err(error) => tell_all(batch, error),
    }
}

/// Whether `error` may come from one ticket's rows rather than from the database as a whole
/// (busy, closed, out of space), which writing each ticket alone would only meet again: a
/// broken constraint, a value PostgreSQL cannot store (SQLSTATE class 22, such as a NUL
/// character in a text), or a deadlock with another writer that cost this statement.
fn one_ticket_can_cause(error: &StoreError) -> bool {
    use sqlx::error::ErrorKind;
    match error {
        StoreError::Conflict(_) => true,
        StoreError::Database(sqlx::Error::Database(database)) => {
            matches!(
                database.kind(),
                ErrorKind::ForeignKeyViolation
                    | ErrorKind::NotNullViolation
                    | ErrorKind::CheckViolation
            ) || database
                .code()
                .is_some_and(|code| code.starts_with("22") || code == "40P01")
        }
        _ => false,
    }
}

/// Every ticket of a batch that failed as a whole hears why; nothing of it was written.
fn tell_all(batch: Vec<Waiting>, error: StoreError) {
    if let [_] = batch.as_slice() {
        if let Some(waiting) = batch.into_iter().next() {
            let _ = waiting.written.send(Err(error));
        }
        return;
    }
    // Each caller hears the same kind of failure: a database that is away stays that (its
    // callers may retry), anything else is a fault of the server.
    let unavailable = matches!(error, StoreError::Unavailable(_));
    let reason = error.to_string();
    for waiting in batch {
        let failure = if unavailable {
            StoreError::Unavailable(reason.clone())
        } else {
            StoreError::BatchFailed(reason.clone())
        };
        let _ = waiting.written.send(Err(failure));
    }
}

/// Writes `tickets` in one transaction; returns their ids in order. Nothing of them is written
/// when it fails.
async fn write_in_one_transaction(
    connection: &mut PoolConnection<Any>,
    backend: Backend,
    tickets: &[NewRows<'_>],
) -> Result<Vec<i64>, StoreError> {
    match backend {
        // One statement: a transaction by itself.
        Backend::Postgres => insert_new_postgres_together(&mut **connection, tickets).await,
        Backend::Sqlite => {
            let inserted = insert_new_sqlite_together(&mut **connection, tickets).await;
            if inserted.is_err() {
                let rolled_back = sqlx::query("ROLLBACK").execute(&mut **connection).await;
                // "No transaction is active": BEGIN itself failed, nothing to undo. Any other
                // failure may leave the transaction open: that connection is not reused.
                if let Err(error) = rolled_back
                    && !error.to_string().contains("no transaction is active")
                {
                    connection.close_on_drop();
                }
            }
            inserted
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use caredesk_domain::intake::{LanguageChoice, coverage_window};
    use caredesk_domain::policy::{Policy, TicketProfile};
    use caredesk_domain::routing::Assignment;
    use caredesk_domain::ticket::{Actor, Role};
    use caredesk_testkit::TestDatabase;
    use tokio::sync::{Notify, oneshot};

    use super::super::{NewRows, NewTicketRows};
    use super::{Waiting, Writer, write_batch, write_in_one_transaction};
    use crate::{Backend, IntakeRecord, NewCustomer, NewStaff, NewTicket, Scope, Store};

    const NOW: &str = "2026-11-23T09:00:00Z";

    /// The transaction of several new tickets commits them all, each with its own id, row,
    /// timeline, notices and webhook deliveries (the creation queue falls back to one by one
    /// only when it fails).
    #[tokio::test]
    async fn tickets_written_together_are_committed_together_on_sqlite() {
        written_together(TestDatabase::sqlite().await, Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn tickets_written_together_are_committed_together_on_postgres() {
        written_together(TestDatabase::postgres().await, Backend::Postgres).await;
    }

    /// A value one ticket holds and PostgreSQL cannot store (a NUL character) fails that
    /// ticket alone; the others of its batch are written. SQLite stores it.
    #[tokio::test]
    async fn one_ticket_the_database_refuses_fails_alone_on_sqlite() {
        one_refused(TestDatabase::sqlite().await, Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn one_ticket_the_database_refuses_fails_alone_on_postgres() {
        one_refused(TestDatabase::postgres().await, Backend::Postgres).await;
    }

    /// A customer and an advisor, on a store of the test's own: the test database's store
    /// is of the crate as others use it, and these tests need the crate's private parts.
    async fn desk(test: &TestDatabase) -> (Store, i64, i64) {
        let store = Store::connect(&test.url).await.unwrap();
        let now = NOW.parse().unwrap();
        let customer = store
            .create_customer(
                &NewCustomer {
                    number: "C-1".into(),
                    name: "Customer 1".into(),
                    region: "emea".into(),
                    language: "en".into(),
                },
                now,
            )
            .await
            .unwrap();
        let advisor = store
            .create_staff(
                &NewStaff {
                    email: "advisor@desk".into(),
                    name: "Advisor".into(),
                    role: Role::Advisor,
                    region: Some("emea".into()),
                    languages: vec!["en".into()],
                    password_hash: None,
                },
                now,
            )
            .await
            .unwrap();
        (store, customer.id, advisor.id)
    }

    fn new_ticket(
        policy: &Policy,
        customer: i64,
        subject: &str,
        severity: &str,
        assignee: Option<i64>,
    ) -> NewTicketRows {
        let now = NOW.parse().unwrap();
        let profile = TicketProfile {
            program: "gold",
            region: "emea",
            product_line: "ol-connect",
            severity,
            channel: "phone",
        };
        let new = NewTicket {
            customer_id: customer,
            contact_id: None,
            product_id: None,
            product_line: "ol-connect".into(),
            version: "2026.1".into(),
            serial: "SN-1".into(),
            program: "gold".into(),
            region: "emea".into(),
            language: "en".into(),
            channel: "phone".into(),
            subject: subject.into(),
            description: "Nothing prints.".into(),
            details: serde_json::json!({}),
            severity: severity.into(),
            actor: Actor::Contact { id: 1 },
            created_by: "contact:1".into(),
            idempotency_key: None,
            request_hash: None,
            intake: Some(IntakeRecord {
                flags: Vec::new(),
                language: LanguageChoice {
                    language: "en".into(),
                    reason: "preferred".into(),
                },
                coverage: coverage_window(policy, &profile, now).unwrap(),
                office_language: None,
                assignment: assignee.map(|advisor| Assignment {
                    advisor: Some(advisor),
                    reason: "the lightest load".into(),
                }),
            }),
        };
        NewTicketRows::of(policy, &new, now).unwrap()
    }

    async fn written_together(test: TestDatabase, backend: Backend) {
        let (store, customer, advisor) = desk(&test).await;
        let now: jiff::Timestamp = NOW.parse().unwrap();
        let hook = store
            .add_webhook("http://127.0.0.1:9/hook", "secret", "staff:1", now)
            .await
            .unwrap();
        let policy = Policy::built_in().unwrap();
        // Two tickets of one severity go to one advisor: one row of load gains two.
        let tickets: Vec<NewTicketRows> =
            [("P3", Some(advisor)), ("P1", None), ("P3", Some(advisor))]
                .iter()
                .enumerate()
                .map(|(index, (severity, assignee))| {
                    new_ticket(
                        &policy,
                        customer,
                        &format!("Ticket {index}"),
                        severity,
                        *assignee,
                    )
                })
                .collect();
        assert!(tickets.iter().all(|ticket| ticket.notice_count() > 0));
        let rows: Vec<NewRows<'_>> = tickets.iter().map(NewTicketRows::rows).collect();
        let mut connection = store.writer.acquire().await.unwrap();
        let ids = write_in_one_transaction(&mut connection, backend, &rows)
            .await
            .unwrap();
        drop(connection);
        assert_eq!(ids.len(), 3);
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
        for (index, (id, ticket)) in ids.iter().zip(&tickets).enumerate() {
            let stored = store.ticket(*id, Scope::All).await.unwrap();
            assert_eq!(stored.subject, format!("Ticket {index}"));
            let timeline = store.timeline(*id, Scope::All).await.unwrap();
            assert_eq!(timeline, ticket.events());
            let outbox = store.notices_of(*id).await.unwrap();
            assert!(
                outbox
                    .iter()
                    .all(|row| row.ticket_id == Some(*id) && row.created_at == now)
            );
            let (deliveries, notices): (Vec<_>, Vec<_>) =
                outbox.iter().partition(|row| row.recipient == "webhook");
            assert_eq!(notices.len(), ticket.notice_count(), "ticket {index}");
            // Each first event goes to the webhook once, at once.
            let delivered: Vec<u32> = deliveries.iter().map(|row| row.event_seq).collect();
            let seqs: Vec<u32> = timeline.iter().map(|event| event.seq).collect();
            assert_eq!(delivered, seqs, "ticket {index}");
            assert!(deliveries.iter().all(|row| {
                row.webhook_id == Some(hook.id) && row.staff_id.is_none() && row.not_before == now
            }));
        }
        let (kept, counted) = store.advisor_loads().await.unwrap();
        assert_eq!(kept, counted);
        assert_eq!(kept.get(&(advisor, "P3".to_string())), Some(&2));
        store.close().await;
        test.finish().await;
    }

    async fn one_refused(test: TestDatabase, backend: Backend) {
        let (store, customer, advisor) = desk(&test).await;
        let policy = Policy::built_in().unwrap();
        let mut answers = Vec::new();
        let batch: Vec<Waiting> = ["Ticket 0", "Ticket\0 1", "Ticket 2"]
            .iter()
            .map(|subject| {
                let (written, answer) = oneshot::channel();
                answers.push(answer);
                Waiting {
                    rows: new_ticket(&policy, customer, subject, "P3", Some(advisor)),
                    written,
                }
            })
            .collect();
        let writer = Writer {
            pool: store.writer.clone(),
            backend,
            outbox_written: Arc::new(Notify::new()),
        };
        write_batch(writer, batch).await;
        let mut written = 0;
        for (index, answer) in answers.into_iter().enumerate() {
            match answer.await.unwrap() {
                Ok((id, _)) => {
                    let stored = store.ticket(id, Scope::All).await.unwrap();
                    assert_eq!(stored.subject.replace('\0', ""), format!("Ticket {index}"));
                    written += 1;
                }
                Err(error) => {
                    assert_eq!((backend, index), (Backend::Postgres, 1), "{error}");
                }
            }
        }
        let expected = if backend == Backend::Postgres { 2 } else { 3 };
        assert_eq!(written, expected);
        let (kept, counted) = store.advisor_loads().await.unwrap();
        assert_eq!(kept, counted);
        assert_eq!(kept.get(&(advisor, "P3".to_string())), Some(&expected));
        store.close().await;
        test.finish().await;
    }
}
