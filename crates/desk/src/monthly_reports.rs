//! The monthly report (POLICY.md §1, §7: gold and platinum customers have a customer success
//! manager who shows them what they got): on the first days of each month, each customer
//! with a contract of a program whose policy sets `monthly_report` (by default, the programs
//! with a dedicated CSM) gets its compliance report of the month just ended (UTC), by e-mail
//! to its designated contacts and its customer success manager, in the month's first
//! `SENDING_DAYS` days. A customer added to the desk after that month gets none for it.
//!
//! The report counts the tickets opened in the month, as the compliance report does, broken
//! down by severity. It is recorded as it stood when it went out, once per customer and
//! month, in the transaction that writes its notices: the job runs under a lease, and even
//! two instances that both ran it would send a month's report once.

use caredesk_domain::report::{ClockSummary, Dimension, ReportFilter};
use caredesk_domain::ticket::ClockKind;
use caredesk_store::ReportOwed;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::reports::{ComplianceRequest, ReportLine, compliance, midnight};
use crate::{Caller, Desk, DeskError};

/// A customer's report of a month, as its notices send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReport {
    pub customer_id: i64,
    pub customer_name: String,
    /// The program (its id in the policy) of the contract that entitles it.
    pub program: String,
    /// `2026-11`.
    pub month: String,
    /// The first and the last day of the month.
    pub from: Date,
    pub to: Date,
    pub generated_at: Timestamp,
    /// Tickets opened in the month.
    pub tickets: u64,
    /// Business minutes the resolution clocks stood still, waiting on the customer.
    pub paused_minutes: u64,
    /// The first response, the status updates and the resolution, in that order.
    pub clocks: Vec<MonthlyClock>,
    /// One line per severity that had tickets, in the policy's order.
    pub severities: Vec<MonthlySeverity>,
}

/// How one clock fared over the month's tickets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthlyClock {
    pub clock: ClockKind,
    /// Settled: met or breached (for status updates, the updates owed so far).
    pub measured: u64,
    pub met: u64,
    pub breached: u64,
    /// Still running when the report was written, within or past the target.
    pub open_within: u64,
    pub open_past: u64,
    /// Met out of measured, in percent; none when nothing settled.
    pub met_percent: Option<f64>,
}

/// One severity's tickets of the month and the share of each clock met.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthlySeverity {
    pub severity: String,
    pub tickets: u64,
    pub first_response: Option<f64>,
    pub updates: Option<f64>,
    pub resolution: Option<f64>,
}

/// The month before the one `now` falls in (UTC): its label and its first and last days.
pub fn month_before(now: Timestamp) -> Result<(String, Date, Date), DeskError> {
    let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let last = today
        .first_of_month()
        .checked_sub(1.day())
        .map_err(DeskError::unexpected)?;
    let first = last.first_of_month();
    Ok((
        format!("{:04}-{:02}", first.year(), first.month()),
        first,
        last,
    ))
}

/// Month `text` (`2026-11`): its label and its first and last days.
pub fn month_named(text: &str) -> Result<(String, Date, Date), DeskError> {
    let refused = || {
        DeskError::invalid(
            "month",
            format!("\"{text}\" is not a month such as 2026-11"),
        )
    };
    let (year, month) = text.trim().split_once('-').ok_or_else(refused)?;
    let digits = |part: &str, length: usize| {
        part.len() == length && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    if !digits(year, 4) || !digits(month, 2) {
        return Err(refused());
    }
    let year: i16 = year.parse().map_err(|_| refused())?;
    let month: i8 = month.parse().map_err(|_| refused())?;
    let first = Date::new(year, month, 1).map_err(|_| refused())?;
    Ok((
        format!("{year:04}-{month:02}"),
        first,
        first.last_of_month(),
    ))
}

/// Customer `customer`'s report of `month` (the month just ended unless given), for the
/// operator at the command line: the one recorded when it went out (`true`), or, for a month
/// not sent (the current one too, so far), the report as it stands now (`false`), whatever
/// the customer's program. A month that has not begun is refused.
pub async fn monthly_report_of(
    desk: &Desk,
    customer: i64,
    month: Option<&str>,
) -> Result<(MonthlyReport, bool), DeskError> {
    let now = desk.clock.now();
    let (month, first, last) = match month {
        Some(text) => month_named(text)?,
        None => month_before(now)?,
    };
    if first > jiff::tz::TimeZone::UTC.to_datetime(now).date() {
        return Err(DeskError::invalid(
            "month",
            format!("{month} has not begun"),
        ));
    }
    let found = desk
        .store
        .customer(customer)
        .await
        .map_err(|error| match error {
            caredesk_store::StoreError::NotFound => {
                DeskError::invalid("customer", "no customer has this id")
            }
            other => DeskError::Store(other),
        })?;
    if let Some(recorded) = desk.store.monthly_report(customer, &month).await? {
        let report = serde_json::from_str(&recorded).map_err(DeskError::unexpected)?;
        return Ok((report, true));
    }
    // The program of the month, as the job chooses it among those with the report (the
    // greatest id), else among all.
    let contracts = desk.store.contracts_of(customer).await?;
    let of_the_month = || {
        contracts
            .iter()
            .filter(|contract| contract.starts_on <= last && first <= contract.ends_on)
            .map(|contract| &contract.program)
    };
    let program = of_the_month()
        .filter(|program| {
            desk.policy()
                .programs
                .get(*program)
                .is_some_and(|program| program.monthly_report)
        })
        .max()
        .or_else(|| of_the_month().max())
        .cloned()
        .ok_or_else(|| {
            DeskError::invalid(
                "customer",
                format!("the customer has no contract in {month}"),
            )
        })?;
    let owed = ReportOwed {
        customer_id: customer,
        customer_name: found.name,
        program,
    };
    Ok((
        monthly_report(desk, &owed, &month, first, last).await?,
        false,
    ))
}

/// The report of a month goes out in the first days of the next: a desk that was down all
/// that time, or upgraded later in the month, sends none for that month rather than a late one.
pub const SENDING_DAYS: i8 = 7;

/// Records the report of the month just ended, with its notices, for every customer owed
/// it, reading the customers `batch` at a time; how many it recorded. A customer whose
/// report cannot be computed is left for the next run, the others go on. Nothing is done
/// past the month's first `SENDING_DAYS` days, nor while tickets written by an earlier
/// version still wait to be measured (after an upgrade): a report is kept as it stands,
/// so it waits for complete totals.
pub async fn send_monthly_reports(desk: &Desk, batch: i64) -> Result<usize, DeskError> {
    let now = desk.clock.now();
    let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let policy = desk.policy();
    let programs: Vec<&str> = policy
        .programs
        .iter()
        .filter(|(_, program)| program.monthly_report)
        .map(|(id, _)| id.as_str())
        .collect();
    if today.day() > SENDING_DAYS
        || programs.is_empty()
        || desk.store.tickets_left_to_measure().await?
    {
        return Ok(0);
    }
    let (month, first, last) = month_before(now)?;
    let month_end = midnight(last.tomorrow().map_err(DeskError::unexpected)?)?;
    let mut recorded = 0;
    let mut after = 0;
    loop {
        let owed = desk
            .store
            .reports_owed(&month, (first, last), month_end, &programs, (after, batch))
            .await?;
        for customer in &owed {
            let report = match monthly_report(desk, customer, &month, first, last).await {
                Ok(report) => report,
                Err(error) => {
                    tracing::warn!(customer = customer.customer_id, %error, "a monthly report could not be computed; it is tried again at the next run");
                    continue;
                }
            };
            let json = serde_json::to_string(&report).map_err(DeskError::unexpected)?;
            if desk
                .store
                .record_monthly_report(customer.customer_id, &month, &json, now)
                .await?
            {
                recorded += 1;
            }
        }
        match owed.last() {
            Some(last_seen) if owed.len() as i64 == batch => after = last_seen.customer_id,
            _ => return Ok(recorded),
        }
    }
}

/// Customer `customer`'s report of `month`, from the compliance report of its tickets
/// opened from `first` to `last`.
async fn monthly_report(
    desk: &Desk,
    customer: &ReportOwed,
    month: &str,
    first: Date,
    last: Date,
) -> Result<MonthlyReport, DeskError> {
    let report = compliance(
        desk,
        &Caller::System,
        ComplianceRequest {
            from: Some(first),
            to: Some(last),
            filter: ReportFilter {
                customer: Some(customer.customer_id),
                ..ReportFilter::default()
            },
            by: vec![Dimension::Severity],
        },
    )
    .await?;
    let total = &report.total;
    let clocks = [
        (ClockKind::FirstResponse, &total.first_response),
        (ClockKind::NextUpdate, &total.updates),
        (ClockKind::Resolution, &total.resolution),
    ]
    .into_iter()
    .map(|(clock, summary)| MonthlyClock::of(clock, summary))
    .collect();
    Ok(MonthlyReport {
        customer_id: customer.customer_id,
        customer_name: customer.customer_name.clone(),
        program: customer.program.clone(),
        month: month.to_string(),
        from: first,
        to: last,
        generated_at: report.generated_at,
        tickets: total.tickets,
        paused_minutes: total.paused_minutes,
        clocks,
        severities: report.lines.iter().map(MonthlySeverity::of).collect(),
    })
}

impl MonthlyClock {
    fn of(clock: ClockKind, summary: &ClockSummary) -> MonthlyClock {
        MonthlyClock {
            clock,
            measured: summary.measured,
            met: summary.met,
            breached: summary.breached,
            open_within: summary.open_within,
            open_past: summary.open_past,
            met_percent: summary.met_percent,
        }
    }
}

impl MonthlySeverity {
    fn of(line: &ReportLine) -> MonthlySeverity {
        MonthlySeverity {
            severity: line.group.first().cloned().unwrap_or_default(),
            tickets: line.tickets,
            first_response: line.first_response.met_percent,
            updates: line.updates.met_percent,
            resolution: line.resolution.met_percent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_before_is_the_whole_calendar_month_in_utc() {
        let at = |text: &str| text.parse::<Timestamp>().unwrap();
        let (month, first, last) = month_before(at("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!(month, "2026-11");
        assert_eq!(
            (first.to_string(), last.to_string()),
            ("2026-11-01".into(), "2026-11-30".into())
        );
        // Still November in UTC, whatever the time zone of the reader.
        let (month, _, last) = month_before(at("2026-11-30T23:59:59Z")).unwrap();
        assert_eq!(
            (month.as_str(), last.to_string()),
            ("2026-10", "2026-10-31".into())
        );
        let (month, first, last) = month_before(at("2027-01-15T08:00:00Z")).unwrap();
        assert_eq!(month, "2026-12");
        assert_eq!(
            (first.to_string(), last.to_string()),
            ("2026-12-01".into(), "2026-12-31".into())
        );
        let (month, _, last) = month_before(at("2028-03-02T08:00:00Z")).unwrap();
        assert_eq!(
            (month.as_str(), last.to_string()),
            ("2028-02", "2028-02-29".into())
        );
        // A month named as the command line names it.
        let (month, first, last) = month_named(" 2028-02").unwrap();
        assert_eq!(
            (month.as_str(), first.to_string(), last.to_string()),
            ("2028-02", "2028-02-01".into(), "2028-02-29".into())
        );
        for wrong in [
            "2028-13",
            "2028-2",
            "28-02",
            "February",
            "2028-02-01",
            "",
            "2028-+2",
            "+028-02",
        ] {
            let Err(DeskError::Invalid(problems)) = month_named(wrong) else {
                panic!("{wrong} was taken for a month");
            };
            assert_eq!(problems[0].field, "month");
        }
    }
}
