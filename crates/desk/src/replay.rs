//! What-if replay: the desk's real tickets timed again under another program or another
//! policy, writing nothing ("what would gold have given this customer last quarter?"). Each
//! ticket is timed under the actual terms (the desk's policy, its own program) and the
//! alternative ones with the live clocks' engine (`caredesk_domain::ticket::replay`). For
//! support managers, and for a customer success manager about one of their customers.

use std::collections::VecDeque;
use std::sync::Arc;

use caredesk_domain::policy::Policy;
use caredesk_domain::report::ReportFilter;
use caredesk_domain::ticket::Role;
use caredesk_domain::ticket::replay::{
    ClockTiming, Replay, Summary, Terms, Timeline, Timing, time,
};
use caredesk_store::{
    Store, StoreError, TIMELINES_PER_PAGE, TicketTimeline, TimelineCursor, TimelineQuery,
};
use jiff::civil::Date;
use serde::Serialize;

use crate::reports::{checked_period, push_csv_line, readable_by};
use crate::{Caller, Desk, DeskError};

/// What a replay is asked for.
#[derive(Clone, Debug, Default)]
pub struct ReplayRequest {
    /// The first day of the tickets' opening; by default 30 days before `to`.
    pub from: Option<Date>,
    /// The last day (included); by default today (UTC).
    pub to: Option<Date>,
    pub filter: ReportFilter,
    /// The program to time the tickets under (by default each one's own).
    pub program: Option<String>,
    /// The policy to time them under (by default the desk's).
    pub policy: Option<Arc<Policy>>,
    /// Keep each ticket's line besides the summary (a CSV or JSON of every ticket); the
    /// summary alone holds nothing per ticket, however many are replayed.
    pub per_ticket: bool,
}

/// The tickets timed under both sets of terms, and the summary.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct ReplayReport {
    pub from: Date,
    pub to: Date,
    pub generated_at: jiff::Timestamp,
    pub filter: ReportFilter,
    /// The alternative program, when one was asked for.
    pub program: Option<String>,
    /// The alternative policy's name, when another policy was given.
    pub policy: Option<String>,
    pub tickets: Vec<ReplayedTicket>,
    /// Tickets the desk's own policy can no longer time (a program or region it dropped).
    pub set_aside: u64,
    pub summary: Summary,
}

/// One ticket under both sets of terms.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct ReplayedTicket {
    pub id: i64,
    pub customer_id: i64,
    pub severity: String,
    pub program: String,
    pub alternative_program: String,
    #[serde(flatten)]
    pub replay: Replay,
}

/// The replay `request` asks for, as `caller` may ask it.
pub async fn replay(
    desk: &Desk,
    caller: &Caller,
    request: ReplayRequest,
) -> Result<ReplayReport, DeskError> {
    match caller {
        Caller::System
        | Caller::Staff {
            role: Role::SupportManager | Role::Admin | Role::CustomerSuccessManager,
            ..
        } => {}
        _ => {
            return Err(DeskError::Forbidden(
                "a replay is for support managers and customer success managers".into(),
            ));
        }
    }
    // One version for the whole replay, even should another come into force meanwhile.
    let actual_policy = desk.policy();
    let alternative_policy = request
        .policy
        .clone()
        .unwrap_or_else(|| Arc::clone(&actual_policy));
    if let Some(program) = &request.program {
        alternative_policy
            .program(program)
            .map_err(|error| DeskError::invalid("alternative_program", error.to_string()))?;
    }
    let now = desk.clock.now();
    let (from, to) = checked_period(desk, now, request.from, request.to, &request.filter)?;
    let filter = readable_by(desk, caller, request.filter, &[]).await?;
    let mut report = ReplayReport {
        from,
        to,
        generated_at: now,
        filter: filter.clone(),
        program: request.program.clone(),
        policy: request.policy.as_ref().map(|policy| policy.name.clone()),
        tickets: Vec::new(),
        set_aside: 0,
        summary: Summary::default(),
    };
    // Two pages are read at once, while the one before is timed: the database and the
    // parsing of the timelines on both cores, the engine beside them. Where each page ends
    // is found first, without the timelines (a millisecond a page), so that each can be read
    // by itself.
    let mut pages = Pages {
        desk,
        period: (from, to),
        filter: &filter,
        next: Some(TimelineCursor::default()),
    };
    let mut reading = VecDeque::new();
    while reading.len() < PAGES_READ_AT_ONCE
        && let Some(read) = pages.read_next().await?
    {
        reading.push_back(read);
    }
    while let Some(mut read) = reading.pop_front() {
        let page = (&mut read.0).await.map_err(DeskError::unexpected)??;
        if let Some(read) = pages.read_next().await? {
            reading.push_back(read);
        }
        for ticket in page {
            let timeline = Timeline {
                region: &ticket.region,
                product_line: &ticket.product_line,
                events: &ticket.events,
            };
            let alternative_program = request.program.as_deref().unwrap_or(&ticket.program);
            let actual = Terms {
                policy: &actual_policy,
                program: &ticket.program,
            };
            // Reports set such a ticket aside too.
            let Ok(actual) = time(actual, timeline, now) else {
                report.set_aside += 1;
                continue;
            };
            let alternative = Terms {
                policy: &alternative_policy,
                program: alternative_program,
            };
            let alternative = time(alternative, timeline, now).map_err(|error| {
                DeskError::invalid(
                    if request.policy.is_some() {
                        "alternative_policy"
                    } else {
                        "alternative_program"
                    },
                    format!("ticket {} cannot be timed under it: {error}", ticket.id),
                )
            })?;
            let replayed = Replay {
                actual,
                alternative,
            };
            report.summary.add(&ticket.severity, &replayed);
            if !request.per_ticket {
                continue;
            }
            report.tickets.push(ReplayedTicket {
                id: ticket.id,
                customer_id: ticket.customer_id,
                severity: ticket.severity,
                program: ticket.program.clone(),
                alternative_program: alternative_program.to_string(),
                replay: replayed,
            });
        }
    }
    Ok(report)
}

/// How many pages of timelines a replay reads at once, while it times the one before.
const PAGES_READ_AT_ONCE: usize = 2;

/// The pages of a replay's tickets, each read on a task of its own.
struct Pages<'a> {
    desk: &'a Desk,
    period: (Date, Date),
    filter: &'a ReportFilter,
    /// Where the next page starts (after this ticket); none once the last was started.
    next: Option<TimelineCursor>,
}

impl Pages<'_> {
    /// The next page, being read; none after the last.
    async fn read_next(&mut self) -> Result<Option<ReadAhead<PageRead>>, DeskError> {
        let Some(after) = self.next else {
            return Ok(None);
        };
        let (from, to) = self.period;
        let through = self
            .desk
            .store
            .timeline_page_end(from, to, self.filter, after, TIMELINES_PER_PAGE)
            .await?;
        self.next = through;
        let store = self.desk.store.clone();
        let filter = self.filter.clone();
        Ok(Some(ReadAhead(tokio::spawn(async move {
            read_page(&store, (from, to), &filter, after, through).await
        }))))
    }
}

/// A page of tickets with their timelines, as read.
type PageRead = Result<Vec<TicketTimeline>, StoreError>;

/// The tickets of the period and filter after `after` through `through` (to the period's
/// end when none), read a page at a time: one page, unless tickets were opened in that
/// range since its end was found.
async fn read_page(
    store: &Store,
    (first_day, last_day): (Date, Date),
    filter: &ReportFilter,
    mut after: TimelineCursor,
    through: Option<TimelineCursor>,
) -> PageRead {
    let mut tickets = Vec::new();
    loop {
        let page = store
            .timelines(&TimelineQuery {
                first_day,
                last_day,
                filter,
                after,
                through,
                limit: TIMELINES_PER_PAGE,
            })
            .await?;
        let full = i64::try_from(page.len()) == Ok(TIMELINES_PER_PAGE);
        let Some(last) = page.last().map(TicketTimeline::cursor) else {
            break;
        };
        tickets.extend(page);
        // A short page was the last one, and a page that reached its end too.
        if !full || Some(last) == through {
            break;
        }
        after = last;
    }
    Ok(tickets)
}

/// A page of timelines being read: stopped when dropped, so that a replay given up (an error,
/// or a request that timed out) does not go on reading for no one.
struct ReadAhead<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for ReadAhead<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A replay as CSV: one line per ticket, each clock under the actual and the alternative
/// terms (outcome, due time, target and business minutes used), then the status updates owed
/// and late under each.
pub fn replay_as_csv(report: &ReplayReport) -> String {
    let mut header = vec![
        "ticket".to_string(),
        "customer".into(),
        "severity".into(),
        "program".into(),
        "alternative_program".into(),
    ];
    for terms in ["actual", "alternative"] {
        header.push(format!("{terms}_calendar"));
        for clock in ["first_response", "resolution"] {
            for part in ["outcome", "due_at", "target_minutes", "used_minutes"] {
                header.push(format!("{terms}_{clock}_{part}"));
            }
        }
        header.push(format!("{terms}_updates_owed"));
        header.push(format!("{terms}_updates_late"));
    }
    let mut text = String::new();
    push_csv_line(&mut text, &header);
    for ticket in &report.tickets {
        let mut cells = vec![
            ticket.id.to_string(),
            ticket.customer_id.to_string(),
            ticket.severity.clone(),
            ticket.program.clone(),
            ticket.alternative_program.clone(),
        ];
        for timing in [&ticket.replay.actual, &ticket.replay.alternative] {
            cells.extend(timing_cells(timing));
        }
        push_csv_line(&mut text, &cells);
    }
    text
}

fn timing_cells(timing: &Timing) -> Vec<String> {
    let clock = |clock: &ClockTiming| {
        [
            serde_json::to_value(clock.outcome)
                .ok()
                .and_then(|value| value.as_str().map(str::to_string))
                .unwrap_or_default(),
            clock.due_at.map(|due| due.to_string()).unwrap_or_default(),
            clock.target_minutes.to_string(),
            clock.used_minutes.to_string(),
        ]
    };
    let mut cells = vec![timing.calendar.clone()];
    cells.extend(clock(&timing.first_response));
    cells.extend(clock(&timing.resolution));
    cells.push(timing.updates.owed.to_string());
    cells.push(timing.updates.late.to_string());
    cells
}
