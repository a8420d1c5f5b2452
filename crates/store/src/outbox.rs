//! The outbox: notices waiting to go out (see `caredesk_domain::notify`). Each is written in
//! the same transaction as the event that calls for it, so a notice exists exactly when its
//! event does, whatever crashes afterwards: an event is appended once, so are its notices.
//! A warning that comes of time passing (a clock falling due) carries a unique key, so that
//! a sweep that sees it twice (or two instances) writes it once.
//!
//! Support managers are looked up when the notice is written, one row each, so that each
//! delivery is tracked (and retried) per person; a ticket's contact and its customer's
//! success manager are looked up when it is sent.

use caredesk_domain::notify::{AtRiskWarning, Notice, NoticeKind, Recipient};
use jiff::Timestamp;
use sqlx::{Any, Row, Transaction};

use crate::json_table::json_id_list;
use crate::{AnyQueryScalar, Backend, Store, StoreError, instant, seconds};

/// A notice as the outbox holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    /// The ticket it is about; `None` for an alert of no ticket, which says what it says in
    /// `details`.
    pub ticket_id: Option<i64>,
    pub event_seq: u32,
    pub kind: NoticeKind,
    /// "contact" (the ticket's, or `contact_id` for a notice of no ticket), "csm", "staff"
    /// (with `staff_id`) or "webhook" (with `webhook_id`).
    pub recipient: String,
    pub staff_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub webhook_id: Option<i64>,
    /// "pending", "sent", "failed" or "skipped".
    pub state: String,
    pub attempts: u32,
    pub not_before: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// What an alert of no ticket says (JSON, of its kind's shape).
    pub details: Option<String>,
}

const OUTBOX_COLUMNS: &str = "id, ticket_id, event_seq, kind, recipient, staff_id, contact_id, \
     webhook_id, state, attempts, not_before, last_error, created_at, sent_at, details";

/// One outbox row to insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NoticeRow {
    pub event_seq: i64,
    pub kind: &'static str,
    pub recipient: &'static str,
    pub staff_id: Option<i64>,
    /// Only for notices that come of time passing rather than of a new event (which is
    /// appended once, so its notices are written once): what makes the notice unique.
    pub dedupe_key: Option<String>,
    pub not_before: i64,
    /// Support managers: one row per active manager of the ticket's region (or of none).
    pub to_managers: bool,
}

impl NoticeRow {
    pub(crate) fn of(notice: &Notice) -> NoticeRow {
        let (recipient, staff_id, to_managers) = match notice.to {
            Recipient::Contact => ("contact", None, false),
            Recipient::CustomerSuccessManager => ("csm", None, false),
            Recipient::Staff(id) => ("staff", Some(id), false),
            Recipient::SupportManagers => ("staff", None, true),
        };
        NoticeRow {
            event_seq: i64::from(notice.event_seq),
            kind: notice.kind.as_str(),
            recipient,
            staff_id,
            dedupe_key: None,
            not_before: seconds(notice.not_before),
            to_managers,
        }
    }

    /// A warning of ticket `ticket` that a clock falls due soon: one per clock (its kind),
    /// due instant and recipient, however often the sweep sees the clock at risk. A support
    /// manager's key ends with their id, added as the row is written.
    pub(crate) fn at_risk(ticket: i64, warning: &AtRiskWarning) -> NoticeRow {
        let row = NoticeRow::of(&warning.notice);
        let to = match warning.notice.to {
            Recipient::SupportManagers => "managers".to_string(),
            _ => format!("{}{}", row.recipient, row.staff_id.unwrap_or_default()),
        };
        NoticeRow {
            dedupe_key: Some(format!(
                "{ticket}:{}:due{}:{to}",
                row.kind,
                seconds(warning.due)
            )),
            ..row
        }
    }

    /// The insert of this row for the ticket whose id is the SQL expression `ticket` (a
    /// placeholder, or the id of the ticket just inserted), its values bound from `$first`
    /// on by `bind_notice`. Managers are those of the ticket's region as stored: a ticket's
    /// first events never call for them (PostgreSQL would not see a row inserted by the
    /// same statement).
    pub(crate) fn insert_sql(&self, ticket: &str, first: usize) -> String {
        let [seq, kind, recipient, staff, key, not_before, now] =
            std::array::from_fn::<usize, 7, _>(|offset| first + offset);
        let columns = "INSERT INTO outbox (ticket_id, event_seq, kind, recipient, staff_id, \
             dedupe_key, not_before, created_at)";
        let conflict = if self.dedupe_key.is_some() {
            " ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING"
        } else {
            ""
        };
        if self.to_managers {
            // One row per manager: a warning's key names each.
            let key = if self.dedupe_key.is_some() {
                format!("${key} || CAST(s.id AS TEXT)")
            } else {
                format!("${key}")
            };
            format!(
                "{columns} SELECT {ticket}, ${seq}, ${kind}, ${recipient}, COALESCE(${staff}, s.id), \
                 {key}, ${not_before}, ${now} \
                 FROM staff s WHERE s.role = 'support_manager' AND s.active = TRUE \
                 AND (s.region IS NULL OR s.region = (SELECT region FROM tickets WHERE id = {ticket})) \
                 ORDER BY s.id{conflict}"
            )
        } else {
            format!(
                "{columns} VALUES ({ticket}, ${seq}, ${kind}, ${recipient}, ${staff}, ${key}, \
                 ${not_before}, ${now}){conflict}"
            )
        }
    }
}

/// Values bound by `bind_notice`.
pub(crate) const NOTICE_VALUES: usize = 7;

/// Binds a row's values in the order `insert_sql` numbers them.
pub(crate) fn bind_notice<'q>(
    query: AnyQueryScalar<'q>,
    row: &'q NoticeRow,
    now: i64,
) -> AnyQueryScalar<'q> {
    query
        .bind(row.event_seq)
        .bind(row.kind)
        .bind(row.recipient)
        .bind(row.staff_id)
        .bind(row.dedupe_key.as_deref())
        .bind(row.not_before)
        .bind(now)
}

/// The deliveries of events `seqs` of the ticket whose id is the SQL expression `ticket`
/// to every active webhook, `$at` being when they were written (and may go out).
pub(crate) fn webhook_insert_sql(ticket: &str, seqs: &[u32], at: usize) -> String {
    let events: Vec<String> = seqs
        .iter()
        .map(|seq| format!("SELECT {seq} AS seq"))
        .collect();
    format!(
        "INSERT INTO outbox (ticket_id, event_seq, kind, recipient, webhook_id, not_before, \
         created_at) SELECT {ticket}, e.seq, 'ticket_event', 'webhook', w.id, ${at}, ${at} \
         FROM webhooks w CROSS JOIN ({}) AS e WHERE w.active = TRUE",
        events.join(" UNION ALL ")
    )
}

/// Of `tickets`, those with an at-risk warning waiting in the outbox.
pub(crate) async fn tickets_with_pending_warnings(
    transaction: &mut Transaction<'static, Any>,
    tickets: &[i64],
) -> Result<std::collections::HashSet<i64>, StoreError> {
    pending_warnings_of(transaction, tickets).await
}

/// [`tickets_with_pending_warnings`] on any connection.
pub(crate) async fn pending_warnings_of(
    connection: &mut sqlx::AnyConnection,
    tickets: &[i64],
) -> Result<std::collections::HashSet<i64>, StoreError> {
    if tickets.is_empty() {
        return Ok(Default::default());
    }
    let kinds: Vec<String> = NoticeKind::ALL
        .iter()
        .filter(|kind| kind.is_at_risk_warning())
        .map(|kind| format!("'{}'", kind.as_str()))
        .collect();
    let backend = Backend::of(connection);
    let warned: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT ticket_id FROM outbox WHERE state = 'pending' AND kind IN ({}) \
         AND ticket_id IN ({})",
        kinds.join(", "),
        backend.json_ids(1)
    )))
    .bind(json_id_list(tickets))
    .fetch_all(&mut *connection)
    .await?;
    Ok(warned.into_iter().collect())
}

/// Drops the warnings of ticket `id` still waiting to go out that its clocks no longer call
/// for (`wanted`, the keys of those they do; a manager's key extends one): the clock was
/// met, paused, moved to another due instant or breached, or the ticket changed hands. Kept
/// as skipped, saying why, without their key, so that the same warning may be written again
/// should it be called for again (the ticket handed back, the clock back at the same due
/// instant). One a worker holds under a live lease at `now` is being sent: left alone.
pub(crate) async fn drop_stale_warnings(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    wanted: &[String],
    now: Timestamp,
) -> Result<(), StoreError> {
    let kinds: Vec<&str> = NoticeKind::ALL
        .iter()
        .filter(|kind| kind.is_at_risk_warning())
        .map(|kind| kind.as_str())
        .collect();
    let waiting: Vec<(i64, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, dedupe_key FROM outbox WHERE ticket_id = $1 AND state = 'pending' \
         AND (lease_until IS NULL OR lease_until <= $2) AND kind IN ({})",
        kinds
            .iter()
            .map(|kind| format!("'{kind}'"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(id)
    .bind(seconds(now))
    .fetch_all(&mut **transaction)
    .await?;
    for (notice, key) in waiting {
        let still_wanted = key.as_deref().is_some_and(|key| {
            wanted.iter().any(|wanted| {
                key == wanted
                    || (wanted.ends_with(":managers")
                        && key.strip_prefix(wanted.as_str()).is_some_and(|manager| {
                            !manager.is_empty() && manager.chars().all(|c| c.is_ascii_digit())
                        }))
            })
        });
        if !still_wanted {
            sqlx::query(
                "UPDATE outbox SET state = 'skipped', last_error = $1, dedupe_key = NULL \
                 WHERE id = $2 AND state = 'pending'",
            )
            .bind(
                "no longer called for before it went out: the clock was met, paused, moved or \
                 breached, or the ticket changed hands",
            )
            .bind(notice)
            .execute(&mut **transaction)
            .await?;
        }
    }
    Ok(())
}

/// Writes notices of ticket `id` inside the caller's transaction, and the deliveries of
/// its new events `seqs` to webhooks.
pub(crate) async fn write_notices(
    transaction: &mut Transaction<'static, Any>,
    id: i64,
    rows: &[NoticeRow],
    seqs: &[u32],
    now: Timestamp,
) -> Result<(), StoreError> {
    if !seqs.is_empty() {
        sqlx::query(sqlx::AssertSqlSafe(webhook_insert_sql(
            "CAST($1 AS BIGINT)",
            seqs,
            2,
        )))
        .bind(id)
        .bind(seconds(now))
        .execute(&mut **transaction)
        .await?;
    }
    for row in rows {
        // `$1` is the ticket; the row's values follow.
        let sql = row.insert_sql("CAST($1 AS BIGINT)", 2);
        let query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id);
        bind_notice(query, row, seconds(now))
            .fetch_all(&mut **transaction)
            .await?;
    }
    Ok(())
}

impl Store {
    /// A ticket's notices in the order of their events.
    pub async fn notices_of(&self, ticket_id: i64) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ticket_id = $1 ORDER BY event_seq, id"
        )))
        .bind(ticket_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_of).collect()
    }
}

/// What became of one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Failed; tried again from `retry_at`.
    Retry {
        error: String,
        retry_at: Timestamp,
    },
    /// Failed for good: kept as failed, listed for administrators, never dropped.
    Failed {
        error: String,
    },
    /// Nobody to tell (a customer without a success manager, a member of staff who left):
    /// kept, with why, and not tried again.
    Skipped {
        reason: String,
    },
}

impl Store {
    /// Takes up to `limit` pending notices whose time has come and that nobody holds, for
    /// `owner` until `lease_until`, counting the attempt. Several instances on one
    /// PostgreSQL skip each other's rows (`FOR UPDATE SKIP LOCKED`); on SQLite the one
    /// writer connection takes them one claim at a time. A notice whose holder died is
    /// taken again once its lease has run out.
    pub async fn claim_notices(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let skip_locked = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND not_before <= $3 \
             AND (lease_until IS NULL OR lease_until <= $3) \
             ORDER BY not_before, id LIMIT $4{skip_locked}) \
             RETURNING {OUTBOX_COLUMNS}"
        )))
        .bind(owner)
        .bind(seconds(lease_until))
        .bind(seconds(now))
        .bind(limit)
        .fetch_all(&self.writer)
        .await?;
        let mut claimed: Vec<OutboxEntry> = rows.iter().map(entry_of).collect::<Result<_, _>>()?;
        claimed.sort_by_key(|entry| (entry.not_before, entry.id));
        Ok(claimed)
    }

    /// Gives back notices `owner` claimed but did not try: not held, and not counted as an
    /// attempt.
    pub async fn release_notices(&self, ids: &[i64], owner: &str) -> Result<(), StoreError> {
        for id in ids {
            sqlx::query(
                "UPDATE outbox SET lease_owner = NULL, lease_until = NULL, \
                 attempts = attempts - 1 \
                 WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
            )
            .bind(id)
            .bind(owner)
            .execute(&self.writer)
            .await?;
        }
        Ok(())
    }

    /// Records what became of a notice `owner` holds; `false` when it no longer holds it
    /// (its lease ran out and another took it), in which case nothing is changed.
    pub async fn record_delivery(
        &self,
        id: i64,
        owner: &str,
        outcome: &Delivery,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (state, not_before, error): (&str, Option<i64>, Option<&str>) = match outcome {
            Delivery::Sent => ("sent", None, None),
            Delivery::Retry { error, retry_at } => {
                ("pending", Some(seconds(*retry_at)), Some(error))
            }
            Delivery::Failed { error } => ("failed", None, Some(error)),
            Delivery::Skipped { reason } => ("skipped", None, Some(reason)),
        };
        let changed = sqlx::query(
            "UPDATE outbox SET state = $1, not_before = COALESCE($2, not_before), \
             last_error = COALESCE($3, last_error), \
             sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END, \
             lease_owner = NULL, lease_until = NULL \
             WHERE id = $5 AND lease_owner = $6 AND state = 'pending'",
        )
        .bind(state)
        .bind(not_before)
        .bind(error)
        .bind(seconds(now))
        .bind(id)
        .bind(owner)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Notices in `state` ("pending", "sent", "failed", "skipped"), oldest first, at most
    /// `limit`: the administrators' list of what could not be delivered.
    pub async fn notices_in(
        &self,
        state: &str,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE state = $1 ORDER BY id LIMIT $2"
        )))
        .bind(state)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_of).collect()
    }
}

impl Store {
    /// Records every pending notice due before `before` as sent when it was due: for history
    /// loaded after the fact (the demo desk), whose notices went out in the story.
    pub async fn mark_notices_sent_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = not_before \
             WHERE state = 'pending' AND not_before < $1",
        )
        .bind(seconds(before))
        .execute(&self.writer)
        .await?
        .rows_affected())
    }

    /// Puts a failed notice back in line, tried afresh from `now` (an administrator fixed
    /// what made it fail). `false` when there is no failed notice `id`.
    pub async fn retry_notice(&self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, not_before = $1, \
             lease_owner = NULL, lease_until = NULL WHERE id = $2 AND state = 'failed'",
        )
        .bind(seconds(now))
        .bind(id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if changed == 1 {
            self.outbox_written.notify_one();
        }
        Ok(changed == 1)
    }
}

fn entry_of(row: &sqlx::any::AnyRow) -> Result<OutboxEntry, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(OutboxEntry {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        event_seq: u32::try_from(row.try_get::<i64, _>("event_seq")?)
            .map_err(|_| StoreError::Corrupt("a notice's event number is out of range".into()))?,
        kind: NoticeKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown notice kind \"{kind}\"")))?,
        recipient: row.try_get("recipient")?,
        staff_id: row.try_get("staff_id")?,
        webhook_id: row.try_get("webhook_id")?,
        state: row.try_get("state")?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        not_before: instant(row.try_get("not_before")?)?,
        last_error: row.try_get("last_error")?,
        created_at: instant(row.try_get("created_at")?)?,
        sent_at: row
            .try_get::<Option<i64>, _>("sent_at")?
            .map(instant)
            .transpose()?,
        details: row.try_get("details")?,
        contact_id: row.try_get("contact_id")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(to: Recipient) -> Notice {
        Notice {
            kind: NoticeKind::Breach,
            to,
            event_seq: 4,
            not_before: "2026-11-23T09:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn only_warnings_of_time_passing_carry_a_key() {
        let row = NoticeRow::of(&notice(Recipient::Staff(7)));
        assert_eq!(row.dedupe_key, None);
        assert!(!row.insert_sql("t.id", 2).contains("ON CONFLICT"));
        let due = "2026-11-24T09:00:00Z".parse().unwrap();
        let warning = |kind, to| {
            NoticeRow::at_risk(
                42,
                &AtRiskWarning {
                    notice: Notice { kind, ..notice(to) },
                    due,
                },
            )
        };
        let warning_to_advisor = warning(NoticeKind::UpdateDueSoon, Recipient::Staff(7));
        // The key warnings had before every clock warned.
        assert_eq!(
            warning_to_advisor.dedupe_key.as_deref(),
            Some("42:update_due_soon:due1795510800:staff7")
        );
        let to_managers = warning(NoticeKind::ResolutionAtRisk, Recipient::SupportManagers);
        assert_eq!(
            to_managers.dedupe_key.as_deref(),
            Some("42:resolution_at_risk:due1795510800:managers")
        );
        assert!(
            to_managers
                .insert_sql("t.id", 2)
                .contains("$6 || CAST(s.id AS TEXT)")
        );
        let warning = warning_to_advisor;
        assert!(
            warning
                .insert_sql("t.id", 2)
                .ends_with("ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING")
        );
    }

    #[test]
    fn managers_are_found_when_the_notice_is_written() {
        let row = NoticeRow::of(&notice(Recipient::SupportManagers));
        let sql = row.insert_sql("t.id", 2);
        assert!(sql.contains("SELECT t.id, $2, $3, $4, COALESCE($5, s.id)"));
        assert!(sql.contains("FROM staff s WHERE s.role = 'support_manager'"));
        assert!(sql.contains("$6, $7, $8 FROM staff s"));
        let single = NoticeRow::of(&notice(Recipient::Staff(7))).insert_sql("t.id", 2);
        assert!(single.contains("VALUES (t.id, $2, $3, $4, $5, $6, $7, $8)"));
    }
}
