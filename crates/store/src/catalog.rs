//! The release catalog of each product line (POLICY.md §9): what "the two most recent
//! versions" is computed from, and what an installed product may update to. Managers
//! publish and retire releases; a line's order is the versions' order as people read them
//! (`compare_versions`), kept in `position` when a release is published.

use std::collections::BTreeMap;

use caredesk_domain::catalog::{ReleaseNotice, compare_versions, same_version};
use caredesk_domain::notify::NoticeKind;
use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::{Actor, EventData, Snapshot, TicketEvent};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use std::convert::Infallible;

use crate::audit::{Recorded, snapshot};
use crate::columns::Columns;
use crate::customers::date;
use crate::events::load_events;
use crate::tickets::{Change, NO_FILES, TicketRecord, UpdateError, planned_for_a_release};
use crate::{Scope, Store, StoreError, instant, seconds};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Release {
    pub id: i64,
    pub product_line: String,
    pub version: String,
    /// Order within the line: higher is newer.
    pub position: i64,
    /// "major" (an upgrade) or "minor" (an update).
    pub kind: String,
    pub released_on: Date,
    /// Where the release is downloaded from, when it is offered online.
    pub download_url: Option<String>,
    /// The SHA-256 checksum of the download, in hexadecimal.
    pub sha256: Option<String>,
    /// When it was withdrawn: no longer in support scope nor offered as an update.
    pub retired_at: Option<Timestamp>,
}

impl Release {
    pub fn is_retired(&self) -> bool {
        self.retired_at.is_some()
    }
}

/// A release to publish. Its place in the line follows from its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRelease {
    pub product_line: String,
    pub version: String,
    pub kind: String,
    pub released_on: Date,
    pub download_url: Option<String>,
    pub sha256: Option<String>,
    /// Notes by language.
    pub notes: BTreeMap<String, String>,
}

/// A contact to tell of a new release, and the serials of its organisation it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    pub contact_id: i64,
    pub serials: Vec<String>,
}

/// What the tickets planned for a release get when it is published, in the publication's
/// own transaction: `arrival` says, for each ticket of the line waiting for a release,
/// which events it gets (none when it waits for another one).
pub struct PlannedTickets<'a> {
    pub policy: &'a Policy,
    /// Who the tickets' events are recorded as: the publisher.
    pub actor: Actor,
    pub arrival: &'a (dyn Fn(&TicketRecord, &Snapshot) -> Vec<EventData> + Sync),
}

/// A release published, and the tickets planned for it that learnt of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    pub release: Release,
    /// Each ticket that was waiting for the release, and whether its fix is in it.
    pub planned_tickets: Vec<PlannedTicket>,
}

/// A ticket planned for a release when it came out.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedTicket {
    pub ticket_id: i64,
    /// The fix is in the release: a solution is proposed, waiting for the customer's
    /// consent. Otherwise the ticket is back in progress with its advisor.
    pub fixed: bool,
}

/// The notes of a release in one language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseNote {
    pub release_id: i64,
    pub language: String,
    pub notes: String,
}

const COLUMNS: &str =
    "id, product_line, version, position, kind, released_on, download_url, sha256, retired_at";

impl Store {
    /// Publishes a release: placed among its line's releases by version, the later ones
    /// moved up when it is not the newest, with its notes, all in one transaction.
    pub async fn add_release(&self, new: &NewRelease) -> Result<Release, StoreError> {
        // Nothing to announce and no ticket to tell: no notice, so no time to send it from.
        Ok(self
            .add_release_announced(new, &[], None, Timestamp::UNIX_EPOCH)
            .await?
            .release)
    }

    /// The tickets of `product_line` waiting for a release with their fix (P4, planned for
    /// a release), oldest first, with their timelines.
    pub async fn tickets_planned_for_a_release(
        &self,
        product_line: &str,
    ) -> Result<Vec<(TicketRecord, Vec<TicketEvent>)>, StoreError> {
        let tickets = planned_for_a_release(&self.pool, product_line).await?;
        let mut planned = Vec::with_capacity(tickets.len());
        for ticket in tickets {
            let timeline = load_events(&self.pool, ticket.id).await?;
            planned.push((ticket, timeline));
        }
        Ok(planned)
    }

    /// Publishes a release as [`Store::add_release`] does and, in the same transaction,
    /// writes its announcement to each contact of `announcements`, naming the serials it
    /// is for, to go out from `now`, and tells the tickets of its line planned for a release
    /// what `planned` says (each under its row lock, its clocks recomputed): a failure
    /// leaves neither the release, nor a notice, nor a ticket's event.
    pub async fn add_release_announced(
        &self,
        new: &NewRelease,
        announcements: &[Announcement],
        planned: Option<&PlannedTickets<'_>>,
        now: Timestamp,
    ) -> Result<Publication, StoreError> {
        let mut transaction = self.begin_write().await?;
        // The line is read and numbered by one publication at a time: on PostgreSQL, a
        // lock of the line's own (row locks would not cover a release inserted meanwhile);
        // SQLite's write transaction already excludes every other writer.
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('releases:' || $1))")
                .bind(&new.product_line)
                .execute(&mut *transaction)
                .await?;
        }
        let line: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, version FROM releases WHERE product_line = $1 ORDER BY position",
        )
        .bind(&new.product_line)
        .fetch_all(&mut *transaction)
        .await?;
        if line
            .iter()
            .any(|(_, version)| same_version(version, &new.version))
        {
            return Err(StoreError::Conflict(format!(
                "version: {} {} is already in the catalog",
                new.product_line, new.version
            )));
        }
        let mut order: Vec<Option<i64>> = line.iter().map(|(id, _)| Some(*id)).collect();
        let versions: BTreeMap<i64, &str> = line
            .iter()
            .map(|(id, version)| (*id, version.as_str()))
            .collect();
        let version_of = |slot: &Option<i64>| match slot {
            Some(id) => versions.get(id).copied().unwrap_or_default(),
            None => new.version.as_str(),
        };
        order.push(None);
        order.sort_by(|a, b| compare_versions(version_of(a), version_of(b)));
        let position = if order.last() == Some(&None) {
            // The newest: one past the line's highest, every other release left where it is.
            sqlx::query_scalar::<_, i64>(
                "SELECT COALESCE(MAX(position), 0) + 1 FROM releases WHERE product_line = $1",
            )
            .bind(&new.product_line)
            .fetch_one(&mut *transaction)
            .await?
        } else {
            // Placed among older ones: the line is numbered again from 1. Positions are
            // unique within a line, so every row is parked on a negative one first.
            sqlx::query("UPDATE releases SET position = -id WHERE product_line = $1")
                .bind(&new.product_line)
                .execute(&mut *transaction)
                .await?;
            for (index, slot) in order.iter().enumerate() {
                if let Some(id) = slot {
                    sqlx::query("UPDATE releases SET position = $1 WHERE id = $2")
                        .bind(position_at(index))
                        .bind(id)
                        .execute(&mut *transaction)
                        .await?;
                }
            }
            order
                .iter()
                .position(Option::is_none)
                .map_or(0, position_at)
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO releases (product_line, version, position, kind, released_on, \
             download_url, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&new.product_line)
        .bind(&new.version)
        .bind(position)
        .bind(&new.kind)
        .bind(new.released_on.to_string())
        .bind(&new.download_url)
        .bind(&new.sha256)
        .fetch_one(&mut *transaction)
        .await?;
        for (language, notes) in &new.notes {
            sqlx::query(
                "INSERT INTO release_notes (release_id, language, notes) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(language)
            .bind(notes)
            .execute(&mut *transaction)
            .await?;
        }
        let release = Release {
            id,
            product_line: new.product_line.clone(),
            version: new.version.clone(),
            position,
            kind: new.kind.clone(),
            released_on: new.released_on,
            download_url: new.download_url.clone(),
            sha256: new.sha256.clone(),
            retired_at: None,
        };
        #[derive(Serialize)]
        struct Published<'a> {
            #[serde(flatten)]
            release: &'a Release,
            notes: &'a BTreeMap<String, String>,
        }
        let published = Published {
            release: &release,
            notes: &new.notes,
        };
        self.record_new(&mut transaction, "release", id, "published", &published)
            .await?;
        for announcement in announcements {
            let details = serde_json::to_string(&ReleaseNotice {
                release_id: id,
                serials: announcement.serials.clone(),
            })
            .map_err(|error| StoreError::Corrupt(format!("a release's notice: {error}")))?;
            sqlx::query(
                "INSERT INTO outbox (event_seq, kind, recipient, contact_id, details, \
                 not_before, created_at) VALUES (0, $1, 'contact', $2, $3, $4, $4)",
            )
            .bind(NoticeKind::ReleaseAnnounced.as_str())
            .bind(announcement.contact_id)
            .bind(details)
            .bind(seconds(now))
            .execute(&mut *transaction)
            .await?;
        }
        let mut planned_tickets = Vec::new();
        let mut told = !announcements.is_empty();
        if let Some(planned) = planned {
            let waiting = planned_for_a_release(&mut *transaction, &new.product_line).await?;
            for id in waiting.into_iter().map(|ticket| ticket.id) {
                // Only the tickets waiting for this very release are changed: one planned
                // for another is left as it is.
                let ticket = self.lock_ticket(&mut transaction, id, Scope::All).await?;
                let timeline = load_events(&mut *transaction, id).await?;
                let Some(snapshot) = Snapshot::of(&timeline) else {
                    continue;
                };
                let events = (planned.arrival)(&ticket, &snapshot);
                let Some(fixed) = events.iter().find_map(|event| match event {
                    EventData::ReleasePublished { fixed, .. } => Some(*fixed),
                    _ => None,
                }) else {
                    continue;
                };
                let changed = self
                    .change_in(
                        &mut transaction,
                        planned.policy,
                        Change::by(planned.actor, id, now),
                        &NO_FILES,
                        |_, _| Ok::<_, Infallible>(events),
                    )
                    .await;
                match changed {
                    Ok(changed) => {
                        told |= changed.told;
                        planned_tickets.push(PlannedTicket {
                            ticket_id: id,
                            fixed,
                        });
                    }
                    // A ticket the policy no longer fits (its program or severity gone) is
                    // not told; the release is published all the same.
                    Err(UpdateError::Store(StoreError::Policy(reason))) => {
                        tracing::warn!(ticket = id, %reason, "a ticket planned for a release was not told of it");
                    }
                    Err(UpdateError::Store(error)) => return Err(error),
                    Err(UpdateError::Refused(never)) => match never {},
                }
            }
        }
        transaction.commit().await?;
        if told {
            self.outbox_written.notify_one();
        }
        Ok(Publication {
            release,
            planned_tickets,
        })
    }

    /// Retires release `id` at `now`: it stays in the catalog, out of support scope and no
    /// longer offered. A release already retired is a conflict.
    pub async fn retire_release(&self, id: i64, now: Timestamp) -> Result<Release, StoreError> {
        let mut transaction = self.begin_write().await?;
        let before = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM releases WHERE id = $1{}",
            self.for_update()
        )))
        .bind(id)
        .fetch_optional(&mut *transaction)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(|row| release_of(&row))?;
        if let Some(retired_at) = before.retired_at {
            return Err(StoreError::Conflict(format!(
                "{} {} was already retired at {retired_at}",
                before.product_line, before.version
            )));
        }
        sqlx::query("UPDATE releases SET retired_at = $1 WHERE id = $2")
            .bind(seconds(now))
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        let after = Release {
            retired_at: Some(instant(seconds(now))?),
            ..before.clone()
        };
        self.record_change(
            &mut transaction,
            Recorded {
                entity: "release",
                entity_id: Some(id),
                action: "retired",
                before: snapshot(&before),
                after: snapshot(&after),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(after)
    }

    /// Release `id`.
    pub async fn release(&self, id: i64) -> Result<Release, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM releases WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        release_of(&row)
    }

    /// The releases of a line, retired ones included, newest first.
    pub async fn releases_of(&self, product_line: &str) -> Result<Vec<Release>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM releases WHERE product_line = $1 ORDER BY position DESC"
        )))
        .bind(product_line)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(release_of).collect()
    }

    /// Every release of every line: by line, newest first.
    pub async fn all_releases(&self) -> Result<Vec<Release>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM releases ORDER BY product_line, position DESC"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(release_of).collect()
    }

    /// The notes of the releases of a line, or of every line.
    pub async fn release_notes(
        &self,
        product_line: Option<&str>,
    ) -> Result<Vec<ReleaseNote>, StoreError> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT n.release_id, n.language, n.notes FROM release_notes n \
             JOIN releases r ON r.id = n.release_id \
             WHERE $1 IS NULL OR r.product_line = $1 ORDER BY n.release_id, n.language",
        )
        .bind(product_line)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(release_id, language, notes)| ReleaseNote {
                release_id,
                language,
                notes,
            })
            .collect())
    }
}

/// The position of the `index`th oldest release of a line.
fn position_at(index: usize) -> i64 {
    i64::try_from(index).map_or(i64::MAX, |index| index + 1)
}

pub(crate) fn release_of(row: &impl Columns) -> Result<Release, StoreError> {
    Ok(Release {
        id: row.int("id")?,
        product_line: row.text("product_line")?,
        version: row.text("version")?,
        position: row.int("position")?,
        kind: row.text("kind")?,
        released_on: date(row.text("released_on")?)?,
        download_url: row.optional_text("download_url")?,
        sha256: row.optional_text("sha256")?,
        retired_at: row.optional_int("retired_at")?.map(instant).transpose()?,
    })
}
