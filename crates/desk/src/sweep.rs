//! What the desk does by itself, at intervals: records the breaches that fell due, escalates
//! them, sends consent reminders, warns of clocks at risk, alerts the manager of a ticket
//! worked continuously that nobody works, hands tickets on extended cover to whoever is on
//! call when their office closes (and back); and its upkeep.

use std::collections::HashMap;

use caredesk_domain::routing::{Candidate, OnCallShift, Staffing, shift_change};
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::ticket::{EventData, Role};
use caredesk_store::Sweep;
use jiff::{SignedDuration, Timestamp};

use crate::{Desk, DeskError};

/// Sweeps at most `limit` tickets whose next automatic step has come: one ticket that
/// cannot be swept (the policy no longer fits it) never stops the others. A ticket on
/// extended cover whose office just closed or opened changes shift on the way (POLICY.md
/// §1, §5): to whoever is on call, in the after-hours language, or back.
pub async fn sweep_tickets(desk: &Desk, limit: i64) -> Result<Sweep, DeskError> {
    let now = desk.clock.now();
    let mut staffing = staffing_by_region(desk, now).await?;
    let policy = &desk.policy();
    Ok(desk
        .store
        .sweep_due(policy, now, limit, |record, snapshot| {
            // A region without advisors or rota still changes shift (the language, and the
            // reason nobody takes it): the sweep must not come back to it for nothing.
            let (candidates, on_call) = staffing
                .get(&record.region)
                .map_or((&[][..], &[][..]), |(candidates, on_call)| {
                    (candidates.as_slice(), on_call.as_slice())
                });
            let context = ClockContext {
                program: &record.program,
                region: &record.region,
                product_line: &record.product_line,
            };
            let shifts = Staffing {
                candidates,
                on_call,
            };
            let events = shift_change(policy, &context, snapshot, &shifts, now)
                .unwrap_or_else(|error| {
                    tracing::warn!(ticket = record.id, %error, "the ticket's shift could not be worked out");
                    Vec::new()
                });
            // What this sweep assigns weighs on the next ticket's choice, as it will once
            // stored: the night's tickets are spread at opening, not all given to one.
            let weight = policy
                .severity(&snapshot.severity)
                .map_or(1, |severity| u64::from(severity.load_weight));
            if let Some((candidates, _)) = staffing.get_mut(&record.region) {
                for event in &events {
                    if let EventData::Assigned {
                        advisor: Some(advisor),
                        ..
                    } = event
                        && let Some(candidate) =
                            candidates.iter_mut().find(|candidate| candidate.id == *advisor)
                    {
                        candidate.load += weight;
                    }
                }
            }
            events
        })
        .await?)
}

/// Each region's active advisors (with their loads) and who is on call now.
async fn staffing_by_region(
    desk: &Desk,
    now: Timestamp,
) -> Result<HashMap<String, (Vec<Candidate>, Vec<OnCallShift>)>, DeskError> {
    let staff = desk.store.staff().await?;
    let loads = desk.store.kept_advisor_loads().await?;
    let shifts = desk.store.on_call_shifts(None, now).await?;
    let mut by_region: HashMap<String, (Vec<Candidate>, Vec<OnCallShift>)> = HashMap::new();
    for member in &staff {
        let (Some(region), Role::Advisor, true) = (&member.region, member.role, member.active)
        else {
            continue;
        };
        let load = loads
            .range((member.id, String::new())..)
            .take_while(|((advisor, _), _)| *advisor == member.id)
            .map(|((_, severity), open)| {
                let weight = desk
                    .policy()
                    .severity(severity)
                    .map_or(1, |severity| u64::from(severity.load_weight));
                weight * u64::try_from(*open).unwrap_or(0)
            })
            .sum();
        by_region
            .entry(region.clone())
            .or_default()
            .0
            .push(Candidate {
                id: member.id,
                name: member.name.clone(),
                region: Some(region.clone()),
                languages: member.languages.clone(),
                available: member.available,
                load,
            });
    }
    for shift in shifts.into_iter().filter(|shift| shift.starts_at <= now) {
        let Some(member) = staff
            .iter()
            .find(|member| member.id == shift.staff_id && member.active)
        else {
            continue;
        };
        by_region
            .entry(shift.region.clone())
            .or_default()
            .1
            .push(OnCallShift {
                region: shift.region,
                staff_id: shift.staff_id,
                staff_name: shift.staff_name,
                languages: member.languages.clone(),
                starts_at: shift.starts_at,
                ends_at: shift.ends_at,
            });
    }
    Ok(by_region)
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
