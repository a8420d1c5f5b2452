//! The loops of the job runner: delivery of the outbox, and periodic sweeps under job
//! leases. Each stops between two steps when told to, so nothing is left half-done but what
//! a lease already covers.

use std::time::Duration;

use caredesk_desk::Desk;
use caredesk_desk::monthly_reports::send_monthly_reports;
use caredesk_desk::people::count_earlier_work;
use caredesk_desk::policy_versions::{REBUILD_BATCH, rebuild_clocks_from};
use caredesk_desk::reports::measure_earlier_tickets;
use caredesk_desk::sweep::{sweep_tickets, upkeep};
use caredesk_store::BehindPosition;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use crate::delivery::Deliverer;

/// Tickets swept per round.
const SWEEP_BATCH: i64 = 500;
/// The sweep over ticket state: breaches, escalations, consent steps, at-risk warnings.
const TICKET_SWEEP: &str = "ticket_sweep";
/// Hourly upkeep: expired sessions, old failed sign-ins and old missed searches purged,
/// planner statistics refreshed.
const UPKEEP: &str = "upkeep";
const UPKEEP_EVERY: Duration = Duration::from_secs(3600);
/// Each customer's report of the month just ended, to those whose program has one; looked
/// for hourly, sent once per customer and month. It runs beside the sweeps, not between
/// them: computing every customer's report may take a while on the first of the month.
const MONTHLY_REPORTS: &str = "monthly_reports";
const MONTHLY_REPORTS_EVERY: Duration = Duration::from_secs(3600);
/// Customers read at a time by the monthly reports' job.
const MONTHLY_BATCH: i64 = 100;
/// The open tickets' clocks computed again under a policy version newly in force (see
/// `caredesk_desk::policy_versions`). Instances look every few seconds whether any open
/// ticket is behind the version in force, which only a read tells; the one that holds the
/// lease rebuilds a share of them per turn, well within the lease, so that an instance
/// that stops halfway leaves the rest to another within a minute.
const POLICY_REBUILD: &str = "policy_rebuild";
const POLICY_REBUILD_EVERY: Duration = Duration::from_secs(2);
const POLICY_REBUILD_LEASE: Duration = Duration::from_secs(60);
const POLICY_REBUILD_SHARE: u64 = 20_000;

#[derive(Clone, Debug)]
pub struct RunnerSettings {
    /// How often the ticket sweep runs.
    pub sweep_every: Duration,
    /// How often the outbox is looked at when there was nothing to deliver.
    pub poll_every: Duration,
}

pub struct Runner {
    /// The sweeps are the desk's own work.
    pub desk: Desk,
    pub owner: String,
    pub deliverer: Deliverer,
    pub settings: RunnerSettings,
}

impl Runner {
    /// Runs until `stop` turns true, then returns once the step in progress is done.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let Runner {
            desk,
            owner,
            deliverer,
            settings,
        } = self;
        let monthly = monthly_loop(desk.clone(), owner.clone(), stop.clone());
        let rebuild = rebuild_loop(desk.clone(), owner.clone(), stop.clone());
        let sweeps = sweep_loop(desk, owner, settings.sweep_every, stop.clone());
        let delivery = delivery_loop(deliverer, settings.poll_every, stop);
        tokio::join!(sweeps, delivery, monthly, rebuild);
    }
}

async fn delivery_loop(
    deliverer: Deliverer,
    poll_every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let busy = match deliverer.deliver_due().await {
            Ok(report) => report.claimed as i64 == deliverer.batch,
            Err(error) => {
                tracing::warn!(%error, "the outbox could not be read; trying again");
                false
            }
        };
        // A full batch means more may be waiting: go on at once.
        if !busy {
            tokio::select! {
                _ = deliverer.store().notices_written() => {}
                _ = tokio::time::sleep(poll_every) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

async fn sweep_loop(desk: Desk, owner: String, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut upkeep_ticker = tokio::time::interval(UPKEEP_EVERY);
    upkeep_ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                run_job(&desk, TICKET_SWEEP, &owner, every, || sweep_round(&desk)).await;
            }
            _ = upkeep_ticker.tick() => {
                run_job(&desk, UPKEEP, &owner, UPKEEP_EVERY, || upkeep_round(&desk)).await;
            }
            _ = stop.changed() => return,
        }
    }
}

async fn monthly_loop(desk: Desk, owner: String, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(MONTHLY_REPORTS_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                run_job(&desk, MONTHLY_REPORTS, &owner, MONTHLY_REPORTS_EVERY, || monthly_round(&desk)).await;
            }
            _ = stop.changed() => return,
        }
    }
}

async fn rebuild_loop(desk: Desk, owner: String, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(POLICY_REBUILD_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Tickets the version cannot time stay behind it: after a turn that found only those,
    // they are tried again only after a while, not every few seconds.
    let mut stuck_since: Option<tokio::time::Instant> = None;
    // Where the last turn stopped, for the version it worked under: the next goes on from
    // there, and starts again from the first ticket only once it reached the end.
    let mut resume: Option<(Option<u32>, BehindPosition)> = None;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if stuck_since.is_some_and(|since| since.elapsed() < POLICY_REBUILD_LEASE * 5) {
                    continue;
                }
                match rebuild_due(&desk).await {
                    Ok(true) => {
                        let mut stuck = false;
                        run_job(&desk, POLICY_REBUILD, &owner, POLICY_REBUILD_LEASE, || async {
                            let (outcome, only_failures) = rebuild_round(&desk, &mut resume).await;
                            // A turn that failed, or found only tickets it cannot time, is
                            // not tried again for a while.
                            stuck = only_failures || outcome.is_err();
                            outcome
                        })
                        .await;
                        stuck_since = stuck.then(tokio::time::Instant::now);
                    }
                    Ok(false) => {}
                    Err(error) => tracing::warn!(%error, "the policy rebuild could not look for tickets behind"),
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Whether an open ticket is behind the version in force.
async fn rebuild_due(desk: &Desk) -> Result<bool, String> {
    let Some(version) = desk
        .store
        .policy_version_in_force(desk.clock.now())
        .await
        .map_err(|error| error.to_string())?
    else {
        return Ok(false);
    };
    let behind = desk
        .store
        .open_tickets_behind(version, BehindPosition::default(), 1)
        .await
        .map_err(|error| error.to_string())?;
    Ok(!behind.is_empty())
}

/// A turn of the rebuild from where the last one stopped, and whether it found only tickets
/// the version cannot time.
async fn rebuild_round(
    desk: &Desk,
    resume: &mut Option<(Option<u32>, BehindPosition)>,
) -> (Result<(), String>, bool) {
    let in_force = desk.policy().stored_as;
    let from = match *resume {
        Some((Some(version), position)) if version == in_force => position,
        _ => BehindPosition::default(),
    };
    let outcome = match rebuild_clocks_from(
        desk,
        REBUILD_BATCH,
        Some(POLICY_REBUILD_SHARE),
        from,
        |_, _| {},
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(error) => return (Err(error.to_string()), false),
    };
    *resume = outcome.next.map(|next| (outcome.version, next));
    if outcome.tickets > 0 {
        tracing::info!(
            version = outcome.version,
            tickets = outcome.tickets,
            breaches = outcome.breaches,
            "open tickets' clocks computed again under the policy version in force"
        );
    }
    for (ticket, error) in &outcome.failed {
        tracing::warn!(ticket, %error, "the policy version in force cannot time this ticket");
    }
    let only_failures = outcome.tickets == 0 && !outcome.failed.is_empty();
    (Ok(()), only_failures)
}

/// Runs `job` if this instance holds its lease for the next `every`.
async fn run_job<F, Fut>(desk: &Desk, name: &str, owner: &str, every: Duration, job: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let store = &desk.store;
    let started = desk.clock.now();
    let lease_until = started
        .checked_add(SignedDuration::try_from(every).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX);
    match store.take_job(name, owner, started, lease_until).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(error) => {
            tracing::warn!(job = name, %error, "the job's lease could not be taken");
            return;
        }
    }
    let outcome = job().await;
    if let Err(error) = &outcome {
        tracing::warn!(job = name, %error, "the job failed; it runs again at its next turn");
    }
    if let Err(error) = store
        .finish_job(name, owner, desk.clock.now(), outcome.err().as_deref())
        .await
    {
        tracing::warn!(job = name, %error, "the job's end could not be recorded");
    }
}

async fn sweep_round(desk: &Desk) -> Result<(), String> {
    let sweep = sweep_tickets(desk, SWEEP_BATCH)
        .await
        .map_err(|error| error.to_string())?;
    if sweep.recorded > 0 {
        tracing::info!(tickets = sweep.recorded, "tickets swept");
    }
    for (ticket, error) in &sweep.failed {
        tracing::warn!(ticket, %error, "a ticket could not be swept");
    }
    // Tickets written before reports kept their measures are measured a batch at a time.
    match measure_earlier_tickets(desk, SWEEP_BATCH).await {
        Ok(0) => {}
        Ok(measured) => tracing::info!(tickets = measured, "earlier tickets measured for reports"),
        Err(error) => {
            tracing::warn!(%error, "earlier tickets could not be measured for reports");
        }
    }
    // And the work already on their timelines, counted for the people report.
    match count_earlier_work(desk, SWEEP_BATCH).await {
        Ok(0) => {}
        Ok(counted) => tracing::info!(tickets = counted, "earlier work counted for reports"),
        Err(error) => {
            tracing::warn!(%error, "earlier work could not be counted for reports");
        }
    }
    match sweep.failed.len() {
        0 => Ok(()),
        failed => Err(format!("{failed} tickets could not be swept")),
    }
}

async fn monthly_round(desk: &Desk) -> Result<(), String> {
    match send_monthly_reports(desk, MONTHLY_BATCH).await {
        Ok(0) => Ok(()),
        Ok(sent) => {
            tracing::info!(
                customers = sent,
                "monthly reports recorded, their notices to send"
            );
            Ok(())
        }
        Err(error) => Err(error.to_string()),
    }
}

async fn upkeep_round(desk: &Desk) -> Result<(), String> {
    upkeep(desk).await.map_err(|error| error.to_string())
}
