//! SQLite: new tickets written together, a group commit.
//!
//! SQLite has one writer. Every commit appends each page it changed to the write-ahead log:
//! the tickets table's last page, the last page of each of its indexes, the timeline's, the
//! outbox's. Tickets opened at the same moment share those pages, so written in one
//! transaction they cost those pages once instead of once each, and one hand-off to the
//! writer connection's thread instead of one each. A ticket waits for no one: the writer
//! takes whatever arrived while it was busy, and a ticket that arrives when it is idle goes
//! alone. Each caller is answered once the transaction holding its ticket committed.

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::tickets::{NewRows, NewTicketRows, insert_new_sqlite_together};

/// At most this many new tickets in one transaction.
const MOST_TOGETHER: usize = 32;

/// What a caller hears: the new ticket's id, with its rows handed back; or why it failed.
type Written = Result<(i64, NewTicketRows), StoreError>;

/// A new ticket waiting for the writer, and whom to tell.
struct Waiting {
    rows: NewTicketRows,
    written: oneshot::Sender<Written>,
}

/// Where new tickets wait for the writer task.
#[derive(Clone, Debug)]
pub(crate) struct CreationQueue {
    waiting: mpsc::UnboundedSender<Waiting>,
}

impl CreationQueue {
    /// Starts the task that writes new tickets on `writer`, the pool of SQLite's one writer
    /// connection. It ends when the last queue is dropped.
    pub(crate) fn start(writer: AnyPool) -> CreationQueue {
        let (waiting, arrivals) = mpsc::unbounded_channel();
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

fn writer_stopped() -> StoreError {
    StoreError::Interrupted("the writer of new tickets stopped".into())
}

async fn write_as_they_come(writer: AnyPool, mut arrivals: mpsc::UnboundedReceiver<Waiting>) {
    let mut batch = Vec::with_capacity(MOST_TOGETHER);
    while arrivals.recv_many(&mut batch, MOST_TOGETHER).await > 0 {
        // A task per batch: a panic loses that batch's answers (its callers hear that the
        // writer stopped, and may retry), not the writer.
        let written = tokio::spawn(write_batch(writer.clone(), std::mem::take(&mut batch)));
        if let Err(error) = written.await {
            tracing::error!(%error, "writing new tickets failed");
        }
    }
}

async fn write_batch(writer: AnyPool, batch: Vec<Waiting>) {
    let mut connection = match writer.acquire().await {
        Ok(connection) => connection,
        Err(error) => return tell_all(batch, error.into()),
    };
    let rows: Vec<NewRows<'_>> = batch.iter().map(|waiting| waiting.rows.rows()).collect();
    let together = write_in_one_transaction(&mut connection, &rows).await;
    drop(rows);
    match together {
        Ok(ids) => {
            for (Waiting { rows, written }, id) in batch.into_iter().zip(ids) {
                // A caller that went away has nothing to hear.
                let _ = written.send(Ok((id, rows)));
            }
        }
        // One ticket's row broke a constraint (a reused idempotency key, a vanished
        // customer) and undid them all: each is written again alone, to succeed or fail on
        // its own.
        Err(error) if batch.len() > 1 && one_ticket_can_cause(&error) => {
            tracing::debug!(%error, tickets = batch.len(), "new tickets written one by one");
            for Waiting { rows, written } in batch {
                let alone = write_in_one_transaction(&mut connection, &[rows.rows()])
                    .await
                    .and_then(|ids| {
                        ids.first().copied().ok_or_else(|| {
                            StoreError::Corrupt("the new ticket's id did not come back".into())
                        })
                    });
                let _ = written.send(alone.map(|id| (id, rows)));
            }
        }
        Err(error) => tell_all(batch, error),
    }
}

/// Whether `error` may come from one ticket's rows rather than from the database as a whole
/// (busy, closed, out of space), which writing each ticket alone would only meet again.
fn one_ticket_can_cause(error: &StoreError) -> bool {
    use sqlx::error::ErrorKind;
    match error {
        StoreError::Conflict(_) => true,
        StoreError::Database(sqlx::Error::Database(database)) => matches!(
            database.kind(),
            ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation
        ),
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
    let reason = error.to_string();
    for waiting in batch {
        let _ = waiting
            .written
            .send(Err(StoreError::Interrupted(reason.clone())));
    }
}

/// Writes `tickets` in one transaction on the writer connection; on any error rolls back.
async fn write_in_one_transaction(
    connection: &mut PoolConnection<Any>,
    tickets: &[NewRows<'_>],
) -> Result<Vec<i64>, StoreError> {
    let inserted = insert_new_sqlite_together(&mut **connection, tickets).await;
    if inserted.is_err() {
        let rolled_back = sqlx::query("ROLLBACK").execute(&mut **connection).await;
        // "No transaction is active": BEGIN itself failed, nothing to undo. Any other failure
        // may leave the transaction open: that connection is not reused.
        if let Err(error) = rolled_back
            && !error.to_string().contains("no transaction is active")
        {
            connection.close_on_drop();
        }
    }
    inserted
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use caredesk_domain::policy::Policy;
    use caredesk_domain::ticket::Actor;

    use super::write_in_one_transaction;
    use crate::tickets::{NewRows, NewTicketRows};
    use crate::{NewCustomer, NewTicket, Scope, Store};

    /// The transaction of several new tickets commits them all, each with its own id, row
    /// and timeline (the creation queue falls back to one by one only when it fails).
    #[tokio::test]
    async fn tickets_written_together_are_committed_together() {
        let path = std::env::temp_dir().join(format!(
            "caredesk-creations-{}-{}.db",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let now: jiff::Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
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
        let policy = Policy::built_in().unwrap();
        let tickets: Vec<NewTicketRows> = ["P1", "P3", "P4"]
            .iter()
            .enumerate()
            .map(|(index, severity)| {
                let new = NewTicket {
                    customer_id: customer.id,
                    contact_id: None,
                    product_id: None,
                    product_line: "ol-connect".into(),
                    version: "2026.1".into(),
                    serial: "SN-1".into(),
                    program: "gold".into(),
                    region: "emea".into(),
                    language: "en".into(),
                    channel: "phone".into(),
                    subject: format!("Ticket {index}"),
                    description: "Nothing prints.".into(),
                    details: serde_json::json!({}),
                    severity: (*severity).into(),
                    actor: Actor::Contact { id: 1 },
                    created_by: "contact:1".into(),
                    idempotency_key: None,
                    request_hash: None,
                    intake: None,
                };
                NewTicketRows::of(&policy, &new, now).unwrap()
            })
            .collect();
        let rows: Vec<NewRows<'_>> = tickets.iter().map(NewTicketRows::rows).collect();
        let mut connection = store.writer.acquire().await.unwrap();
        let ids = write_in_one_transaction(&mut connection, &rows)
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
        }
        store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
