//! SQLite: new tickets written together, a group commit.
//!
//! SQLite has one writer. Every commit appends each page it changed to the write-ahead log:
//! the tickets table's last page, the last page of each of its indexes, the timeline's, the
//! outbox's. Tickets opened at the same moment share those pages, so written in one
//! transaction they cost those pages once instead of once each, and one hand-off to the
//! writer connection's thread instead of one each. A ticket waits for no one: the writer
//! takes whatever arrived while it was busy, and a ticket that arrives when it is idle goes
//! alone. Each caller is answered once the transaction holding its ticket committed.

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::tickets::{NewRows, NewTicketRows, insert_new_sqlite_together};

/// At most this many new tickets in one transaction. Each binds about eighty values; SQLite
/// takes up to 32,766.
const MOST_TOGETHER: usize = 32;

/// A new ticket waiting for the writer, and whom to tell its id (or why it failed).
struct Waiting {
    rows: NewTicketRows,
    written: oneshot::Sender<Result<i64, StoreError>>,
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

    /// Writes a new ticket; returns its id once it is committed. A caller that stops waiting
    /// does not stop the write (its idempotency key finds the ticket on a retry).
    pub(crate) async fn write(&self, rows: NewTicketRows) -> Result<i64, StoreError> {
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
        write_batch(&writer, std::mem::take(&mut batch)).await;
    }
}

async fn write_batch(writer: &AnyPool, batch: Vec<Waiting>) {
    let rows: Vec<NewRows<'_>> = batch.iter().map(|waiting| waiting.rows.rows()).collect();
    let together = write_in_one_transaction(writer, &rows).await;
    drop(rows);
    match together {
        Ok(ids) => {
            for (waiting, id) in batch.into_iter().zip(ids) {
                // A caller that went away has nothing to hear.
                let _ = waiting.written.send(Ok(id));
            }
        }
        Err(error) if batch.len() == 1 => {
            if let Some(waiting) = batch.into_iter().next() {
                let _ = waiting.written.send(Err(error));
            }
        }
        // One ticket's failure (a reused idempotency key, a vanished customer) undid them
        // all: each is written again alone, to succeed or fail on its own.
        Err(_) => {
            for waiting in batch {
                let alone = write_in_one_transaction(writer, &[waiting.rows.rows()])
                    .await
                    .and_then(|ids| {
                        ids.first().copied().ok_or_else(|| {
                            StoreError::Corrupt("the new ticket's id did not come back".into())
                        })
                    });
                let _ = waiting.written.send(alone);
            }
        }
    }
}

/// Writes `tickets` in one transaction on the writer connection; on any error rolls back.
async fn write_in_one_transaction(
    writer: &AnyPool,
    tickets: &[NewRows<'_>],
) -> Result<Vec<i64>, StoreError> {
    let mut connection = writer.acquire().await?;
    let inserted = insert_new_sqlite_together(&mut *connection, tickets).await;
    if inserted.is_err() {
        let rolled_back = sqlx::query("ROLLBACK").execute(&mut *connection).await;
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
