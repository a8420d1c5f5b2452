//! Changing the policy safely. The database keeps every policy the desk worked under as a
//! numbered version; the version in force is the one every instance works under (each
//! looks every few seconds and takes a new one up), and every ticket records the version
//! its clocks were computed under.
//!
//! Applying a version: its file is checked, compared with the version in force (what
//! changes, table by table, and what it does to the open tickets), stored, and then every
//! open ticket's clocks, flags and queue keys are computed again from its timeline under
//! it, a batch a transaction ([`rebuild_clocks`]). A clock the new version finds already
//! past due gets its breach recorded once, naming the version as its cause. Closed tickets
//! keep the measurement they were closed under. A rebuild stopped halfway is resumed by the
//! next one (the job runner looks every few seconds), and never records an event twice:
//! each ticket records the version in the transaction that writes its new clocks.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use caredesk_domain::policy::diff::{TableChange, policy_diff};
use caredesk_domain::policy::{Policy, PolicyError};
use caredesk_domain::ticket::clocks::{Clock, ClockContext};
use caredesk_domain::ticket::explain::explain_ticket;
use caredesk_domain::ticket::step::step;
use caredesk_domain::ticket::{Actor, ClockKind, EventData, Role, TicketEvent};
use caredesk_store::{
    BehindPosition, NewPolicyVersion, PolicyVersion, RebuildBatch, RebuildProgress, Store,
    StoreError, StoredPolicy, TIMELINES_PER_PAGE, TicketRecord,
};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::{Caller, Desk, DeskError};

/// The policy an instance works under now, shared by all its requests and jobs, and
/// replaced as a whole when a new version comes into force: a request that took it works
/// to its end under one version.
#[derive(Clone, Debug)]
pub struct CurrentPolicy(Arc<RwLock<Arc<Policy>>>);

impl CurrentPolicy {
    pub fn new(policy: Policy) -> CurrentPolicy {
        CurrentPolicy(Arc::new(RwLock::new(Arc::new(policy))))
    }

    /// The policy in force for this instance.
    pub fn get(&self) -> Arc<Policy> {
        // A writer that panicked left a whole policy behind: the lock's value is sound.
        Arc::clone(
            &self
                .0
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Works under `policy` from now on.
    pub fn replace(&self, policy: Policy) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(policy);
    }
}

impl From<Arc<Policy>> for CurrentPolicy {
    fn from(policy: Arc<Policy>) -> CurrentPolicy {
        CurrentPolicy(Arc::new(RwLock::new(policy)))
    }
}

/// A policy file offered to the desk: its text and where it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyFile {
    pub document: String,
    /// A path, or "built-in".
    pub source: String,
}

impl PolicyFile {
    /// The file checked as a policy.
    pub fn check(&self) -> Result<Policy, PolicyError> {
        Policy::from_toml(&self.document, &self.source)
    }

    /// SHA-256 of the text, in hexadecimal.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.document.as_bytes()))
    }
}

/// Which policy an instance starts under when the file it was given and the version in
/// force in its database differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenTheyDiffer {
    /// Refuse to start: the operator says which wins.
    Refuse,
    /// The file becomes a new version.
    FileWins,
    /// The database's version; the file is not used.
    DatabaseWins,
}

/// Why an instance cannot start under a policy.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "the database works under policy version {version} (from {origin}, applied {applied_at} by {applied_by}), \
         and the policy file {file} differs from it; apply the file as a new version with \
         `caredesk policy apply {file}`, or start with --policy-wins (the file becomes a new \
         version) or --database-policy-wins (the database's version is used)"
    )]
    TheyDiffer {
        version: u32,
        origin: String,
        applied_at: Timestamp,
        applied_by: String,
        file: String,
    },
    #[error("policy version {version} in the database no longer loads: {problem}")]
    StoredVersionInvalid { version: u32, problem: String },
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The policy an instance starts under: the version in force in the database, or `file`
/// stored as its first version when there is none yet. `named` says the operator named the
/// file (rather than the built-in policy being used): a named file that differs from the
/// version in force is settled by `when_they_differ`; the built-in policy never overrides a
/// version in force.
pub async fn policy_at_start(
    store: &Store,
    file: &PolicyFile,
    named: bool,
    when_they_differ: WhenTheyDiffer,
    applied_by: &str,
    now: Timestamp,
) -> Result<Policy, StartError> {
    let offered = file.check()?;
    // Two instances starting at once on an empty database: one stores the first version,
    // the other finds it on its second look.
    let mut attempts = 0;
    loop {
        attempts += 1;
        // On a second look, the version another instance just stored counts whatever its
        // effective instant (its clock may be ahead of ours).
        let seen = if attempts == 1 { now } else { Timestamp::MAX };
        let stored = match store.policy_in_force(seen).await? {
            None => None,
            Some(stored) if stored.version.sha256 == file.sha256() => {
                return policy_of(&stored);
            }
            Some(stored) if !named || when_they_differ == WhenTheyDiffer::DatabaseWins => {
                return policy_of(&stored);
            }
            Some(stored) if when_they_differ == WhenTheyDiffer::Refuse => {
                return Err(StartError::TheyDiffer {
                    version: stored.version.version,
                    origin: stored.version.source,
                    applied_at: stored.version.applied_at,
                    applied_by: stored.version.applied_by,
                    file: file.source.clone(),
                });
            }
            Some(stored) => Some(stored),
        };
        let note = stored.map(|stored| {
            format!(
                "given at start over version {} (--policy-wins)",
                stored.version.version
            )
        });
        let new = NewPolicyVersion {
            document: &file.document,
            sha256: &file.sha256(),
            source: &file.source,
            applied_by,
            applied_at: now,
            effective_at: now,
            note: note.as_deref(),
        };
        match store.add_policy_version(&new).await {
            Ok(version) => {
                return Ok(Policy {
                    stored_as: version,
                    ..offered
                });
            }
            Err(StoreError::Conflict(_)) if attempts < 3 => continue,
            Err(error) => return Err(error.into()),
        }
    }
}

/// The version in force in the database at `now`, loaded; none while it keeps none.
pub async fn database_policy(store: &Store, now: Timestamp) -> Result<Option<Policy>, StartError> {
    match store.policy_in_force(now).await? {
        Some(stored) => Ok(Some(policy_of(&stored)?)),
        None => Ok(None),
    }
}

/// A stored version, loaded.
fn policy_of(stored: &StoredPolicy) -> Result<Policy, StartError> {
    let policy = Policy::from_toml(&stored.document, &stored.version.source).map_err(|error| {
        StartError::StoredVersionInvalid {
            version: stored.version.version,
            problem: error.to_string(),
        }
    })?;
    Ok(Policy {
        stored_as: stored.version.version,
        ..policy
    })
}

/// How often an instance looks for a new version in force.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// Until `stop` turns true, looks every `every` for the version in force and, when it is
/// another than the instance's, works under it from then on.
pub async fn follow_policy_versions(desk: Desk, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Said once, not every few seconds, until it is another problem or it is solved.
    let mut last_problem = None;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match take_up_version_in_force(&desk).await {
                    Ok(_) => last_problem = None,
                    Err(error) => {
                        let problem = error.to_string();
                        if last_problem.as_ref() != Some(&problem) {
                            tracing::warn!(
                                error = %problem,
                                version = desk.policy().stored_as,
                                "the policy version in force cannot be taken up; this instance goes on under its own"
                            );
                            last_problem = Some(problem);
                        }
                    }
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Takes up the version in force if it is another than the instance's; returns the version
/// taken up.
pub async fn take_up_version_in_force(desk: &Desk) -> Result<Option<u32>, DeskError> {
    let now = desk.clock.now();
    let current = desk.policy().stored_as;
    match desk.store.policy_version_in_force(now).await? {
        Some(version) if version != current => {}
        _ => return Ok(None),
    }
    let Some(stored) = desk.store.policy_in_force(now).await? else {
        return Ok(None);
    };
    let policy = policy_of(&stored).map_err(|error| DeskError::Unexpected(error.to_string()))?;
    let version = policy.stored_as;
    desk.current_policy.replace(policy);
    tracing::info!(version, from = current, "a new policy version is in force");
    Ok(Some(version))
}

/// Who may read the policy's history: staff who answer for the desk's commitments.
const HISTORY_READERS: [Role; 3] = [
    Role::SupportManager,
    Role::Admin,
    Role::CustomerSuccessManager,
];

/// Every version, the latest first, and the one in force now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct PolicyHistory {
    pub in_force: Option<u32>,
    pub versions: Vec<PolicyVersion>,
    /// How far the open tickets are from the version in force.
    pub rebuild: RebuildProgress,
}

pub async fn policy_history(desk: &Desk, caller: &Caller) -> Result<PolicyHistory, DeskError> {
    caller.require_role(&HISTORY_READERS)?;
    let in_force = desk.store.policy_version_in_force(desk.clock.now()).await?;
    let rebuild = match in_force {
        Some(version) => desk.store.rebuild_progress(version).await?,
        None => RebuildProgress::default(),
    };
    Ok(PolicyHistory {
        in_force,
        versions: desk.store.policy_versions().await?,
        rebuild,
    })
}

/// Version `version` as stored, loaded.
pub async fn stored_version(
    desk: &Desk,
    caller: &Caller,
    version: u32,
) -> Result<(PolicyVersion, Policy), DeskError> {
    caller.require_role(&HISTORY_READERS)?;
    let stored = desk
        .store
        .policy_version(version)
        .await?
        .ok_or(DeskError::NotFound)?;
    let policy = policy_of(&stored).map_err(|error| DeskError::Unexpected(error.to_string()))?;
    Ok((stored.version, policy))
}

/// Which policy a ticket's clocks follow: the version in force (that the explanation and
/// the live clocks use), the one its stored clocks were last computed under, and, after a
/// change, what the version before the one in force said of its clocks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TicketPolicy {
    /// The version in force (0 while the database keeps none).
    pub version: u32,
    /// Where it came from and who applied it when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<PolicyVersionView>,
    /// The version the ticket's stored clocks and queue keys were last computed under: the
    /// one in force, unless a rebuild has not reached it yet (or it is closed, and keeps
    /// the measurement it was closed under).
    pub computed_under: u32,
    /// The version before the one in force, and the ticket's clocks as it had them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousTerms>,
}

/// A stored version, as explanations name it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyVersionView {
    pub version: u32,
    pub source: String,
    pub applied_by: String,
    pub applied_at: Timestamp,
    pub effective_at: Timestamp,
}

impl From<&PolicyVersion> for PolicyVersionView {
    fn from(version: &PolicyVersion) -> Self {
        PolicyVersionView {
            version: version.version,
            source: version.source.clone(),
            applied_by: version.applied_by.clone(),
            applied_at: version.applied_at,
            effective_at: version.effective_at,
        }
    }
}

/// What an earlier version said of a ticket's clocks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PreviousTerms {
    pub version: PolicyVersionView,
    /// Its clocks under that version, as of the same instant.
    pub clocks: Vec<Clock>,
    /// Why that version cannot time the ticket, when it cannot (a program it did not have).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Which policy `ticket`'s clocks follow, as of `at` (its `timeline` up to then).
pub async fn ticket_policy(
    desk: &Desk,
    ticket: &TicketRecord,
    timeline: &[TicketEvent],
    at: Timestamp,
) -> Result<TicketPolicy, DeskError> {
    let policy = desk.policy();
    let version = policy.stored_as;
    let applied = match version {
        0 => None,
        version => desk.store.policy_version(version).await?,
    };
    let previous = match version.checked_sub(1).filter(|previous| *previous > 0) {
        None => None,
        Some(previous) => match desk.store.policy_version(previous).await? {
            None => None,
            Some(stored) => {
                let context = ClockContext {
                    program: &ticket.program,
                    region: &ticket.region,
                    product_line: &ticket.product_line,
                };
                let timed = policy_of(&stored)
                    .map_err(|error| error.to_string())
                    .and_then(|earlier| {
                        explain_ticket(&earlier, &context, timeline, at)
                            .map_err(|error| error.to_string())
                    });
                let (clocks, problem) = match timed {
                    Ok(explained) => (
                        explained
                            .clocks
                            .into_iter()
                            .map(|clock| clock.clock)
                            .collect(),
                        None,
                    ),
                    Err(problem) => (Vec::new(), Some(problem)),
                };
                Some(PreviousTerms {
                    version: PolicyVersionView::from(&stored.version),
                    clocks,
                    problem,
                })
            }
        },
    };
    Ok(TicketPolicy {
        version,
        applied: applied.map(|stored| PolicyVersionView::from(&stored.version)),
        computed_under: ticket.policy_version,
        previous,
    })
}

/// What applying a policy file would change.
#[derive(Clone, Debug, Serialize)]
pub struct ApplyPreview {
    /// The version in force now, if any.
    pub from_version: Option<u32>,
    /// The file is the version in force already: applying it changes nothing.
    pub unchanged: bool,
    /// What changes, table by table.
    pub changes: Vec<TableChange>,
    pub moves: TicketMoves,
}

/// What a policy would do to the open tickets, computed from their timelines as the
/// rebuild will.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TicketMoves {
    pub open: u64,
    /// Tickets whose next due time changes.
    pub due_earlier: u64,
    pub due_later: u64,
    /// Tickets whose place in the queue changes (another next due time, severity rank or
    /// placement).
    pub queue_moves: u64,
    /// Tickets with a clock at risk now that was not, or no longer at risk.
    pub newly_at_risk: u64,
    pub no_longer_at_risk: u64,
    /// Tickets with a clock the new policy finds past due, not recorded as breached yet:
    /// each gets its breach recorded (with its alerts) when the version is applied.
    pub newly_breached: u64,
    /// Tickets the policy cannot time (a program, region, severity or product line it no
    /// longer has), with the first few of them and why. A policy that leaves any is not
    /// applied.
    pub cannot_time: u64,
    pub cannot_time_examples: Vec<(i64, String)>,
}

/// How many tickets that cannot be timed are named.
const EXAMPLES: usize = 5;

/// What applying `file` would change: checked (a file that fails its check is refused with
/// its problems), compared with the version in force, and timed over every open ticket.
pub async fn preview_apply(
    desk: &Desk,
    caller: &Caller,
    file: &PolicyFile,
) -> Result<(Policy, ApplyPreview), DeskError> {
    caller.require_role(&[Role::Admin])?;
    let policy = file.check().map_err(policy_refused)?;
    let now = desk.clock.now();
    let in_force = desk.store.policy_in_force(now).await?;
    let (from_version, unchanged, before) = match &in_force {
        Some(stored) => (
            Some(stored.version.version),
            stored.version.sha256 == file.sha256(),
            Arc::new(policy_of(stored).map_err(|error| DeskError::Unexpected(error.to_string()))?),
        ),
        None => (None, false, desk.policy()),
    };
    let year = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).year();
    let changes = policy_diff(&before, &policy, year);
    let moves = ticket_moves(desk, &policy, now).await?;
    Ok((
        policy,
        ApplyPreview {
            from_version,
            unchanged,
            changes,
            moves,
        },
    ))
}

fn policy_refused(error: PolicyError) -> DeskError {
    DeskError::invalid("policy", error.to_string())
}

/// Every open ticket timed under `policy` at `now`, against what is stored for it.
async fn ticket_moves(
    desk: &Desk,
    policy: &Policy,
    now: Timestamp,
) -> Result<TicketMoves, DeskError> {
    let mut moves = TicketMoves::default();
    let mut after = 0;
    loop {
        let page = desk.store.open_timelines(after, TIMELINES_PER_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.timeline.id;
        for ticket in &page {
            moves.open += 1;
            let timeline = &ticket.timeline;
            let context = ClockContext {
                program: &timeline.program,
                region: &timeline.region,
                product_line: &timeline.product_line,
            };
            let stepped = match step(
                policy,
                &context,
                &timeline.events,
                Vec::new(),
                Actor::System,
                now,
            ) {
                Ok(stepped) => stepped,
                Err(error) => {
                    moves.cannot_time += 1;
                    if moves.cannot_time_examples.len() < EXAMPLES {
                        moves
                            .cannot_time_examples
                            .push((timeline.id, error.to_string()));
                    }
                    continue;
                }
            };
            let standing = &stepped.standing;
            let stored = &ticket.stored;
            match standing.next_due_at.cmp(&stored.next_due_at) {
                std::cmp::Ordering::Less => moves.due_earlier += 1,
                std::cmp::Ordering::Greater => moves.due_later += 1,
                std::cmp::Ordering::Equal => {}
            }
            if standing.next_due_at != stored.next_due_at
                || standing.severity_rank != stored.severity_rank
                || standing.placement_rank != stored.placement_rank
            {
                moves.queue_moves += 1;
            }
            let at_risk = |at: Option<Timestamp>| at.is_some_and(|at| at <= now);
            match (at_risk(stored.at_risk_at), at_risk(standing.at_risk_at)) {
                (false, true) => moves.newly_at_risk += 1,
                (true, false) => moves.no_longer_at_risk += 1,
                _ => {}
            }
            // A breach the sweep would have recorded anyway (due already under the terms
            // before) is not the change's.
            let stored_due = |clock: ClockKind| match clock {
                ClockKind::FirstResponse => stored.first_response_due_at,
                ClockKind::NextUpdate => stored.next_update_due_at,
                ClockKind::Resolution => stored.resolution_due_at,
            };
            if stepped.events.iter().any(|event| {
                matches!(event.data, EventData::ClockBreached { clock, .. }
                    if stored_due(clock).is_none_or(|due| due > now))
            }) {
                moves.newly_breached += 1;
            }
        }
    }
    Ok(moves)
}

/// When a version is to come into force, and why it was made.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// From when (now by default; never in the past).
    pub effective_at: Option<Timestamp>,
    pub note: Option<String>,
    /// The version in force the change was shown against (`ApplyPreview::from_version`):
    /// should another have come into force since, nothing is stored.
    pub reviewed_against: Option<Option<u32>>,
}

/// Stores `file` as the next version: a file that fails its check, or whose programs,
/// regions, product lines or severities leave an open ticket out, is refused and nothing
/// changes. Returns the new version's number. The caller then rebuilds (or leaves it to
/// the job runner).
pub async fn apply_policy(
    desk: &Desk,
    caller: &Caller,
    file: &PolicyFile,
    applied_by: &str,
    options: &ApplyOptions,
) -> Result<u32, DeskError> {
    caller.require_role(&[Role::Admin])?;
    let policy = file.check().map_err(policy_refused)?;
    let in_force = desk.store.policy_version_in_force(desk.clock.now()).await?;
    if let Some(reviewed) = options.reviewed_against
        && reviewed != in_force
    {
        return Err(DeskError::Conflict {
            detail: format!(
                "another policy version came into force since the change was shown (now {}); look at it again",
                in_force.map_or_else(
                    || "none".to_string(),
                    |version| format!("version {version}")
                )
            ),
            state: None,
            allowed_actions: None,
        });
    }
    // Every open ticket's terms must be the policy's: a name it dropped cannot be timed.
    let unfit: Vec<String> = desk
        .store
        .open_ticket_terms()
        .await?
        .into_iter()
        .filter_map(|terms| {
            let missing: Vec<String> = [
                policy.program(&terms.program).err(),
                policy.region(&terms.region).err(),
                policy.product_line(&terms.product_line).err(),
                policy.severity(&terms.severity).err(),
            ]
            .into_iter()
            .flatten()
            .map(|error| error.to_string())
            .collect();
            (!missing.is_empty())
                .then(|| format!("{} open tickets: {}", terms.tickets, missing.join("; ")))
        })
        .collect();
    if !unfit.is_empty() {
        return Err(DeskError::invalid(
            "policy",
            format!(
                "the policy cannot time every open ticket ({})",
                unfit.join("; ")
            ),
        ));
    }
    let now = desk.clock.now();
    let effective_at = match options.effective_at {
        Some(at) if at < now => {
            return Err(DeskError::invalid(
                "effective_at",
                "a version comes into force now or later, never in the past",
            ));
        }
        Some(at) => at,
        None => now,
    };
    let new = NewPolicyVersion {
        document: &file.document,
        sha256: &file.sha256(),
        source: &file.source,
        applied_by,
        applied_at: now,
        effective_at,
        note: options.note.as_deref(),
    };
    let version = desk.store.add_policy_version(&new).await?;
    tracing::info!(version, source = %file.source, %effective_at, "policy version stored");
    Ok(version)
}

/// How a rebuild went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RebuildOutcome {
    /// The version the tickets were computed under; none while no version is stored.
    pub version: Option<u32>,
    pub tickets: u64,
    /// Breaches the version caused, recorded now.
    pub breaches: u64,
    /// Tickets it could not time (they keep their earlier clocks), with why.
    pub failed: Vec<(i64, String)>,
    /// Where to go on from, when it stopped at its limit before the end.
    #[serde(skip)]
    pub next: Option<BehindPosition>,
}

/// Open tickets a rebuild computes again per transaction: short enough that ticket
/// creation and actions wait at most a few tens of milliseconds for SQLite's one writer,
/// long enough that a transaction's cost is spread over many tickets (bench/README.md).
pub const REBUILD_BATCH: i64 = 500;

/// Computes again, under the version in force for this instance, every open ticket
/// computed under an earlier one, `batch` a transaction, calling `progress` after each
/// with (done, to do at the start). At most `limit` tickets when given (the job runner
/// takes a share at each turn).
pub async fn rebuild_clocks(
    desk: &Desk,
    batch: i64,
    limit: Option<u64>,
    progress: impl FnMut(u64, u64),
) -> Result<RebuildOutcome, DeskError> {
    rebuild_clocks_from(desk, batch, limit, BehindPosition::default(), progress).await
}

/// [`rebuild_clocks`] from `from` on (where the last turn stopped), so that tickets it
/// could not time are not tried again at every turn: `outcome.next` says where to go on
/// from, none once the end was reached.
pub async fn rebuild_clocks_from(
    desk: &Desk,
    batch: i64,
    limit: Option<u64>,
    from: BehindPosition,
    mut progress: impl FnMut(u64, u64),
) -> Result<RebuildOutcome, DeskError> {
    take_up_version_in_force(desk).await?;
    let policy = desk.policy();
    let version = policy.stored_as;
    if version == 0 {
        return Ok(RebuildOutcome::default());
    }
    let to_do = desk.store.rebuild_progress(version).await?.behind;
    let mut outcome = RebuildOutcome {
        version: Some(version),
        ..RebuildOutcome::default()
    };
    // While one batch is written, the next is read and computed.
    let mut position = from;
    let mut done = 0;
    let mut next = prepare_next(desk, &policy, batch, limit, &mut position, done).await?;
    while let Some((count, prepared)) = next {
        done += count;
        let (rebuilt, following) = tokio::join!(
            desk.store.write_rebuild(&policy, prepared),
            prepare_next(desk, &policy, batch, limit, &mut position, done)
        );
        let rebuilt = rebuilt?;
        outcome.tickets += rebuilt.tickets as u64;
        outcome.breaches += rebuilt.breaches as u64;
        outcome.failed.extend(rebuilt.failed);
        progress(done, to_do);
        next = following?;
    }
    if limit.is_some_and(|limit| done >= limit) {
        outcome.next = Some(position);
    }
    Ok(outcome)
}

/// The next `batch` open tickets behind `policy` after `position` (which it moves on),
/// read and computed under it, with how many; none at the end, or once `done` reached
/// `limit`.
async fn prepare_next(
    desk: &Desk,
    policy: &Arc<Policy>,
    batch: i64,
    limit: Option<u64>,
    position: &mut BehindPosition,
    done: u64,
) -> Result<Option<(u64, RebuildBatch)>, DeskError> {
    let room = limit.map_or(batch, |limit| {
        i64::try_from(limit.saturating_sub(done))
            .unwrap_or(i64::MAX)
            .min(batch)
    });
    if room <= 0 {
        return Ok(None);
    }
    let behind = desk
        .store
        .open_tickets_behind(policy.stored_as, *position, room)
        .await?;
    let Some(&last) = behind.last() else {
        return Ok(None);
    };
    *position = last;
    let ids: Vec<i64> = behind.iter().map(|behind| behind.ticket).collect();
    let count = ids.len() as u64;
    // On a task of its own: computing holds its threads until done, and must not hold up
    // the batch before, whose write transaction is open meanwhile.
    let store = desk.store.clone();
    let policy = Arc::clone(policy);
    let now = desk.clock.now();
    let prepared =
        tokio::spawn(async move { store.prepare_rebuild(&policy, &ids, now).await }).await;
    match prepared {
        Ok(prepared) => Ok(Some((count, prepared?))),
        Err(failed) => std::panic::resume_unwind(failed.into_panic()),
    }
}
