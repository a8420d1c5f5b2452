//! Volume and backlog: how much work came in and went out, what happened to it, and what
//! is waiting now.
//!
//! A volume report covers whole weeks (from Monday, UTC) or months: the period asked for is
//! widened to the ones it touches. For each, the tickets opened in it and those closed in it,
//! per group; for the tickets opened in the period, what happened to them (escalations asked
//! by the customer or raised by the desk on a breach and how they ended, proposals and the
//! customer's consent, problems outside support and professional-services requests, the
//! business time the desk waited on the customer); and the open backlog now, by its age in
//! business days of each ticket's own calendar and by state. The same readers as the
//! compliance report, a customer's contact reading their organisation's tickets.

use std::collections::HashMap;

use caredesk_domain::policy::{Policy, TicketProfile};
use caredesk_domain::report::{ActivityTally, Dimension, ReportFilter, Span};
use caredesk_store::{ActivityRow, ComplianceQuery, FlowQuery};
use jiff::civil::Date;
use serde::Serialize;

use crate::reports::{checked_period, push_csv_line, readable_by};
use crate::{Caller, Desk, DeskError};

/// The ages the backlog is counted in, in business days: under 1, 1–2, 2–5, 5–10, 10–20,
/// 20 or more.
pub const BACKLOG_BUSINESS_DAYS: [u64; 5] = [1, 2, 5, 10, 20];

/// What a volume report is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VolumeRequest {
    /// The first day of the period; by default 30 days before `to`.
    pub from: Option<Date>,
    /// The last day of the period (included); by default today (UTC).
    pub to: Option<Date>,
    pub span: Span,
    pub filter: ReportFilter,
    /// Program, severity, region, channel, product line or language.
    pub by: Vec<Dimension>,
}

/// A volume report, as computed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VolumeReport {
    /// The first day of the first week or month (UTC).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: Date,
    /// The last day of the last week or month, included.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub to: Date,
    pub span: Span,
    pub generated_at: jiff::Timestamp,
    /// What each group holds, in order.
    pub by: Vec<Dimension>,
    /// The tickets counted.
    pub filter: ReportFilter,
    /// Every week or month of the period, in order, with what it saw.
    pub periods: Vec<PeriodFlow>,
    pub opened: u64,
    pub closed: u64,
    /// What happened to the tickets opened in the period, per group, then for all.
    pub activity: Vec<ActivityLine>,
    pub activity_total: ActivityLine,
    /// The tickets open now (whenever they were opened).
    pub backlog: Backlog,
}

/// One week or month.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeriodFlow {
    /// Its first day.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub start: Date,
    pub opened: u64,
    pub closed: u64,
    /// Per group, those with tickets, in order.
    pub groups: Vec<GroupFlow>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupFlow {
    pub group: Vec<String>,
    pub opened: u64,
    pub closed: u64,
}

/// What happened to the tickets of one group opened in the period.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActivityLine {
    pub group: Vec<String>,
    pub tickets: u64,
    #[serde(flatten)]
    pub activity: ActivityTally,
}

/// The open tickets now, by age in business days ([`BACKLOG_BUSINESS_DAYS`]) and state.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Backlog {
    pub open: u64,
    /// Under 1 business day, 1–2, 2–5, 5–10, 10–20, 20 or more.
    pub by_age: Vec<u64>,
    /// Per state (its stored name), in order of the states' names.
    pub by_state: Vec<BacklogState>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BacklogState {
    pub state: String,
    pub open: u64,
    pub by_age: Vec<u64>,
}

/// The volume report `request` asks for, as `caller` may read it.
pub async fn volume(
    desk: &Desk,
    caller: &Caller,
    request: VolumeRequest,
) -> Result<VolumeReport, DeskError> {
    if let Some(dimension) = request.by.iter().find(|dimension| {
        matches!(
            dimension,
            Dimension::Month | Dimension::Advisor | Dimension::Customer
        )
    }) {
        return Err(DeskError::invalid(
            "by",
            format!(
                "a volume report is not broken down by {}: it runs over weeks or months; use program, severity, region, channel, product_line or language (and filter on an advisor or a customer)",
                dimension.name()
            ),
        ));
    }
    let now = desk.clock.now();
    let (asked_from, asked_to) =
        checked_period(desk, now, request.from, request.to, &request.filter)?;
    let span = request.span;
    let (from, to) = (span.start_of(asked_from), span.end_of(asked_to));
    let filter = readable_by(desk, caller, request.filter, &request.by).await?;
    // Three independent reads, each on its own connection: the report takes as long as the
    // longest of them.
    let (flows, rows, backlog) = tokio::try_join!(
        async {
            desk.store
                .flows(&FlowQuery {
                    first_day: from,
                    last_day: to,
                    span,
                    filter: &filter,
                    by: &request.by,
                })
                .await
                .map_err(DeskError::from)
        },
        async {
            desk.store
                .activity(&ComplianceQuery {
                    first_day: from,
                    last_day: to,
                    now,
                    filter: &filter,
                    by: &request.by,
                })
                .await
                .map_err(DeskError::from)
        },
        backlog(desk, &filter, now),
    )?;
    let mut periods: Vec<PeriodFlow> = Vec::new();
    let mut start = from;
    while start <= to {
        periods.push(PeriodFlow {
            start,
            opened: 0,
            closed: 0,
            groups: Vec::new(),
        });
        match span.end_of(start).tomorrow() {
            Ok(next) => start = next,
            Err(_) => break,
        }
    }
    for row in flows {
        if let Some(period) = periods.iter_mut().find(|period| period.start == row.period) {
            period.opened += row.opened;
            period.closed += row.closed;
            period.groups.push(GroupFlow {
                group: row.group,
                opened: row.opened,
                closed: row.closed,
            });
        }
    }
    let mut total = ActivityLine {
        group: Vec::new(),
        tickets: 0,
        activity: ActivityTally::default(),
    };
    for row in &rows {
        total.tickets += row.tickets;
        total.activity.add(&row.activity);
    }
    let line = |row: &ActivityRow| ActivityLine {
        group: row.group.clone(),
        tickets: row.tickets,
        activity: row.activity,
    };
    Ok(VolumeReport {
        from,
        to,
        span,
        generated_at: now,
        by: request.by,
        filter,
        opened: periods.iter().map(|period| period.opened).sum(),
        closed: periods.iter().map(|period| period.closed).sum(),
        periods,
        activity: rows.iter().map(line).collect(),
        activity_total: total,
        backlog,
    })
}

/// The open tickets of `filter` at `now`, by business days since opened on each one's own
/// calendar (the first coverage rule that matches it, else its region's: POLICY.md §5).
///
/// Rather than read every open ticket, the desk finds on each calendar the instants at which
/// a ticket opened earlier has been open 1, 2, 5, … business days by `now`, and the database
/// counts the tickets between them.
async fn backlog(
    desk: &Desk,
    filter: &ReportFilter,
    now: jiff::Timestamp,
) -> Result<Backlog, DeskError> {
    let ages = AgeCutoffs::at(&desk.policy(), now);
    let groups = desk.store.backlog(filter, &ages.cutoffs).await?;
    let bands = BACKLOG_BUSINESS_DAYS.len() + 1;
    let mut backlog = Backlog {
        by_age: vec![0; bands],
        ..Backlog::default()
    };
    for group in groups {
        let profile = TicketProfile {
            program: &group.program,
            region: &group.region,
            product_line: &group.product_line,
            severity: &group.severity,
            channel: &group.channel,
        };
        let band = match desk.policy().calendar_for(&profile) {
            Ok(choice) => ages.band(choice.calendar.name(), group.after_cutoffs),
            // A ticket of a program or region the policy no longer has: counted as the
            // oldest, where a manager looks first.
            Err(error) => {
                tracing::warn!(%error, "an open ticket's calendar is not in the policy");
                BACKLOG_BUSINESS_DAYS.len()
            }
        };
        backlog.open += group.tickets;
        backlog.by_age[band] += group.tickets;
        let index = match backlog
            .by_state
            .binary_search_by(|state| state.state.as_str().cmp(&group.state))
        {
            Ok(index) => index,
            Err(index) => {
                backlog.by_state.insert(
                    index,
                    BacklogState {
                        state: group.state.clone(),
                        open: 0,
                        by_age: vec![0; bands],
                    },
                );
                index
            }
        };
        backlog.by_state[index].open += group.tickets;
        backlog.by_state[index].by_age[band] += group.tickets;
    }
    Ok(backlog)
}

/// Where the backlog's age bands begin on every calendar of the policy, at one instant.
struct AgeCutoffs {
    /// Every calendar's band starts, in increasing order, each once.
    cutoffs: Vec<jiff::Timestamp>,
    /// Per calendar: for each of [`BACKLOG_BUSINESS_DAYS`], the index in `cutoffs` of the
    /// latest opening that has been open that long by now (none: no ticket can have).
    limits: HashMap<String, Vec<Option<usize>>>,
}

impl AgeCutoffs {
    fn at(policy: &Policy, now: jiff::Timestamp) -> AgeCutoffs {
        let mut starts: Vec<(String, Vec<Option<jiff::Timestamp>>)> = Vec::new();
        for calendar in policy.calendars.values() {
            let day = u64::from(calendar.business_day_minutes().max(1));
            let limits = BACKLOG_BUSINESS_DAYS
                .iter()
                .map(|days| calendar.latest_start(now, days * day))
                .collect::<Result<Vec<_>, _>>();
            match limits {
                Ok(limits) => starts.push((calendar.name().to_string(), limits)),
                // Its tickets count as the oldest, as those of a calendar the policy lost.
                Err(error) => tracing::warn!(
                    %error,
                    calendar = calendar.name(),
                    "the backlog cannot age tickets on this calendar"
                ),
            }
        }
        let mut cutoffs: Vec<jiff::Timestamp> = starts
            .iter()
            .flat_map(|(_, limits)| limits.iter().flatten().copied())
            .collect();
        cutoffs.sort_unstable();
        cutoffs.dedup();
        let limits = starts
            .into_iter()
            .map(|(name, limits)| {
                let indexes = limits
                    .into_iter()
                    .map(|limit| limit.and_then(|at| cutoffs.binary_search(&at).ok()))
                    .collect();
                (name, indexes)
            })
            .collect();
        AgeCutoffs { cutoffs, limits }
    }

    /// The age band of tickets on `calendar` opened after `after_cutoffs` of the cutoffs:
    /// how many of its limits they reached, being opened at or before them (the oldest for
    /// a calendar without cutoffs).
    fn band(&self, calendar: &str, after_cutoffs: usize) -> usize {
        self.limits
            .get(calendar)
            .map_or(BACKLOG_BUSINESS_DAYS.len(), |limits| {
                limits
                    .iter()
                    .filter(|limit| limit.is_some_and(|index| after_cutoffs <= index))
                    .count()
            })
    }
}

/// Which table of a volume report a CSV holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VolumePart {
    /// One line per week or month and group: tickets opened and closed.
    #[default]
    Flows,
    /// One line per group (and one for all): what happened to the tickets opened.
    Activity,
    /// One line per state (and one for all): open tickets by age in business days.
    Backlog,
}

impl VolumePart {
    pub const ALL: [VolumePart; 3] = [VolumePart::Flows, VolumePart::Activity, VolumePart::Backlog];

    pub fn name(self) -> &'static str {
        match self {
            VolumePart::Flows => "flows",
            VolumePart::Activity => "activity",
            VolumePart::Backlog => "backlog",
        }
    }

    pub fn parse(name: &str) -> Option<VolumePart> {
        VolumePart::ALL.into_iter().find(|part| part.name() == name)
    }
}

/// The names of the backlog's age bands, as CSV headers.
pub const BACKLOG_AGE_NAMES: [&str; 6] = [
    "under_1_day",
    "1_to_2_days",
    "2_to_5_days",
    "5_to_10_days",
    "10_to_20_days",
    "20_days_or_more",
];

/// One table of a volume report as CSV.
pub fn volume_as_csv(report: &VolumeReport, part: VolumePart) -> String {
    let dimensions: Vec<String> = report
        .by
        .iter()
        .map(|dimension| dimension.name().to_string())
        .collect();
    let mut csv = String::new();
    match part {
        VolumePart::Flows => {
            let mut header = vec![report.span.name().to_string()];
            header.extend(dimensions);
            header.extend(["opened".to_string(), "closed".to_string()]);
            push_csv_line(&mut csv, &header);
            for period in &report.periods {
                if report.by.is_empty() || period.groups.is_empty() {
                    let mut fields = vec![period.start.to_string()];
                    fields.extend(report.by.iter().map(|_| "all".to_string()));
                    fields.extend([period.opened.to_string(), period.closed.to_string()]);
                    push_csv_line(&mut csv, &fields);
                    continue;
                }
                for group in &period.groups {
                    let mut fields = vec![period.start.to_string()];
                    fields.extend(group.group.iter().cloned());
                    fields.extend([group.opened.to_string(), group.closed.to_string()]);
                    push_csv_line(&mut csv, &fields);
                }
            }
        }
        VolumePart::Activity => {
            let mut header = dimensions;
            header.extend(
                [
                    "tickets",
                    "closed",
                    "escalations_asked",
                    "escalations_automatic",
                    "escalations_answered",
                    "escalated",
                    "escalated_resolved",
                    "escalated_open",
                    "proposals",
                    "proposals_accepted",
                    "proposals_rejected",
                    "proposals_unanswered",
                    "outside_support",
                    "services_requested",
                    "waiting_minutes",
                ]
                .map(str::to_string),
            );
            push_csv_line(&mut csv, &header);
            let all = vec!["all".to_string(); report.by.len()];
            for (line, is_total) in report
                .activity
                .iter()
                .map(|line| (line, false))
                .chain(std::iter::once((&report.activity_total, true)))
            {
                let mut fields = if is_total {
                    all.clone()
                } else {
                    line.group.clone()
                };
                let a = &line.activity;
                fields.extend(
                    [
                        line.tickets,
                        a.closed,
                        a.escalations_asked,
                        a.escalations_automatic,
                        a.escalations_answered,
                        a.escalated,
                        a.escalated_resolved,
                        a.escalated_open,
                        a.proposals,
                        a.proposals_accepted,
                        a.proposals_rejected,
                        a.proposals_unanswered,
                        a.outside_support,
                        a.services_requested,
                        a.waiting_minutes,
                    ]
                    .map(|count| count.to_string()),
                );
                push_csv_line(&mut csv, &fields);
            }
        }
        VolumePart::Backlog => {
            let mut header = vec!["state".to_string(), "open".to_string()];
            header.extend(BACKLOG_AGE_NAMES.map(str::to_string));
            push_csv_line(&mut csv, &header);
            let backlog = &report.backlog;
            for (state, open, by_age) in backlog
                .by_state
                .iter()
                .map(|state| (state.state.as_str(), state.open, &state.by_age))
                .chain(std::iter::once(("all", backlog.open, &backlog.by_age)))
            {
                let mut fields = vec![state.to_string(), open.to_string()];
                fields.extend(by_age.iter().map(u64::to_string));
                push_csv_line(&mut csv, &fields);
            }
        }
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The age band counted ticket by ticket, as the cutoffs stand for.
    fn band_of_one_ticket(
        calendar: &caredesk_domain::calendar::Calendar,
        opened: jiff::Timestamp,
        now: jiff::Timestamp,
    ) -> usize {
        let day = u64::from(calendar.business_day_minutes().max(1));
        let days = calendar.elapsed(opened.min(now), now).unwrap() / day;
        BACKLOG_BUSINESS_DAYS
            .iter()
            .position(|limit| days < *limit)
            .unwrap_or(BACKLOG_BUSINESS_DAYS.len())
    }

    #[test]
    fn the_cutoffs_give_each_ticket_the_band_of_its_own_business_days() {
        let policy = Policy::built_in().unwrap();
        // The Tuesday after Easter (Good Friday and Easter Monday just before), and the
        // last hour of Christmas week.
        for now in ["2026-04-07T09:30:00Z", "2026-12-28T23:59:59Z"] {
            let now: jiff::Timestamp = now.parse().unwrap();
            let ages = AgeCutoffs::at(&policy, now);
            assert!(ages.cutoffs.windows(2).all(|pair| pair[0] < pair[1]));
            let mut bands_seen = std::collections::BTreeSet::new();
            // Openings every 7 min 13 s over the 60 days before now, and a little after it.
            let mut opened = now
                .checked_sub(jiff::SignedDuration::from_hours(24 * 60))
                .unwrap();
            while opened
                <= now
                    .checked_add(jiff::SignedDuration::from_hours(1))
                    .unwrap()
            {
                let after = ages
                    .cutoffs
                    .iter()
                    .filter(|cutoff| opened > **cutoff)
                    .count();
                for calendar in policy.calendars.values() {
                    let band = ages.band(calendar.name(), after);
                    assert_eq!(
                        band,
                        band_of_one_ticket(calendar, opened, now),
                        "{} opened {opened}, now {now}",
                        calendar.name()
                    );
                    bands_seen.insert(band);
                }
                opened = opened
                    .checked_add(jiff::SignedDuration::from_secs(433))
                    .unwrap();
            }
            assert_eq!(bands_seen.len(), BACKLOG_BUSINESS_DAYS.len() + 1);
        }
    }

    #[test]
    fn a_calendar_the_policy_does_not_have_counts_as_the_oldest() {
        let policy = Policy::built_in().unwrap();
        let ages = AgeCutoffs::at(&policy, "2026-04-07T09:30:00Z".parse().unwrap());
        assert_eq!(ages.band("closed-forever", 0), BACKLOG_BUSINESS_DAYS.len());
    }
}
