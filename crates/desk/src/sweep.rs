//! What the desk does by itself, at intervals: records the breaches that fell due, escalates
//! them, sends consent reminders, warns of status updates at risk; and its upkeep.

use caredesk_store::Sweep;
use jiff::SignedDuration;

use crate::{Desk, DeskError};

/// Sweeps at most `limit` tickets whose next automatic step has come: one ticket that
/// cannot be swept (the policy no longer fits it) never stops the others.
pub async fn sweep_tickets(desk: &Desk, limit: i64) -> Result<Sweep, DeskError> {
    Ok(desk
        .store
        .record_due_breaches(&desk.policy, desk.clock.now(), limit)
        .await?)
}

/// How long a search that found nothing stays in the writers' list after it was last made:
/// long enough to show what customers keep looking for, not what one asked once last year.
const MISSED_SEARCH_MEMORY: SignedDuration = SignedDuration::from_hours(90 * 24);

/// How many searches that found nothing are kept at most, the most frequent.
const MISSED_SEARCHES_KEPT: i64 = 10_000;

/// Forgets expired sessions, old failed sign-ins and old searches that found nothing, and
/// refreshes the planner's statistics.
pub async fn upkeep(desk: &Desk) -> Result<(), DeskError> {
    let now = desk.clock.now();
    let forget_before = now
        .checked_sub(desk.limits.sign_in.memory())
        .map_err(DeskError::unexpected)?;
    desk.store
        .purge_sign_in_failures(forget_before)
        .await
        .map_err(|error| {
            DeskError::unexpected(format!("old failed sign-ins could not be purged: {error}"))
        })?;
    desk.store
        .purge_expired_sessions(now)
        .await
        .map_err(|error| {
            DeskError::unexpected(format!("expired sessions could not be purged: {error}"))
        })?;
    let forget_before = now
        .checked_sub(MISSED_SEARCH_MEMORY)
        .map_err(DeskError::unexpected)?;
    desk.store
        .purge_missed_searches(forget_before, MISSED_SEARCHES_KEPT)
        .await
        .map_err(|error| {
            DeskError::unexpected(format!(
                "old searches that found nothing could not be purged: {error}"
            ))
        })?;
    desk.store.refresh_statistics().await.map_err(|error| {
        DeskError::unexpected(format!(
            "the planner statistics could not be refreshed: {error}"
        ))
    })
}
