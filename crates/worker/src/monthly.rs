//! A customer's monthly report written for one reader: its tables in the reader's words
//! (as rows for the HTML part, laid out for the text part) and its chart, attached.

use caredesk_charts::{Panel, share_bars};
use caredesk_desk::monthly_reports::MonthlyReport;
use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::ClockKind;
use caredesk_mail::text_table::aligned;
use caredesk_mail::{Attached, MonthlyContext, ReportTerms};

/// The report as `words` say it, with links to `report_url`, and its chart (none for a
/// month without tickets, or if it cannot be drawn: the tables say it all).
pub(crate) fn monthly_mail(
    report: &MonthlyReport,
    policy: &Policy,
    words: &ReportTerms,
    report_url: String,
) -> (MonthlyContext, Option<Attached>) {
    let clock_name = |clock: ClockKind| match clock {
        ClockKind::FirstResponse => words.first_response.clone(),
        ClockKind::NextUpdate => words.updates.clone(),
        ClockKind::Resolution => words.resolution.clone(),
    };
    let clock_headings = vec![
        words.clock.clone(),
        words.measured.clone(),
        words.met.clone(),
        words.late.clone(),
        words.open_within.clone(),
        words.open_past.clone(),
        words.share.clone(),
    ];
    let clocks: Vec<Vec<String>> = report
        .clocks
        .iter()
        .map(|clock| {
            vec![
                clock_name(clock.clock),
                clock.measured.to_string(),
                clock.met.to_string(),
                clock.breached.to_string(),
                clock.open_within.to_string(),
                clock.open_past.to_string(),
                words.share(clock.met_percent),
            ]
        })
        .collect();
    let severity_headings = vec![
        words.severity.clone(),
        words.tickets.clone(),
        words.first_response.clone(),
        words.updates.clone(),
        words.resolution.clone(),
    ];
    let severity_names: Vec<String> = report
        .severities
        .iter()
        .map(|line| match policy.severities.get(&line.severity) {
            Some(severity) => format!("{} {}", line.severity, severity.name),
            None => line.severity.clone(),
        })
        .collect();
    let severities: Vec<Vec<String>> = report
        .severities
        .iter()
        .zip(&severity_names)
        .map(|(line, name)| {
            vec![
                name.clone(),
                line.tickets.to_string(),
                words.share(line.first_response),
                words.share(line.updates),
                words.share(line.resolution),
            ]
        })
        .collect();
    let chart = (report.tickets > 0)
        .then(|| chart(report, words, &severity_names))
        .flatten();
    let with_headings = |headings: &Vec<String>, rows: &Vec<Vec<String>>| {
        let mut lines = vec![headings.clone()];
        lines.extend(rows.iter().cloned());
        aligned(&lines, 1, false)
    };
    let context = MonthlyContext {
        customer_name: report.customer_name.clone(),
        program: policy
            .programs
            .get(&report.program)
            .map_or_else(|| report.program.clone(), |program| program.name.clone()),
        month: month_name(report, words),
        from: report.from.to_string(),
        to: report.to.to_string(),
        tickets: report.tickets,
        clocks_text: with_headings(&clock_headings, &clocks),
        clock_headings,
        clocks,
        severities_text: with_headings(&severity_headings, &severities),
        severity_headings,
        severities,
        chart: chart
            .as_ref()
            .map(|chart| chart.file_name.clone())
            .unwrap_or_default(),
        report_url,
    };
    (context, chart)
}

fn month_name(report: &MonthlyReport, words: &ReportTerms) -> String {
    words.month(report.from.year(), report.from.month())
}

/// Bars of the share of each target met per severity, titled in the reader's words.
fn chart(
    report: &MonthlyReport,
    words: &ReportTerms,
    severity_names: &[String],
) -> Option<Attached> {
    let panels = [
        Panel {
            title: &words.first_response,
            values: report
                .severities
                .iter()
                .map(|line| line.first_response)
                .collect(),
        },
        Panel {
            title: &words.updates,
            values: report.severities.iter().map(|line| line.updates).collect(),
        },
        Panel {
            title: &words.resolution,
            values: report
                .severities
                .iter()
                .map(|line| line.resolution)
                .collect(),
        },
    ];
    match share_bars(severity_names, &panels, &words.share) {
        Ok(svg) => Some(Attached {
            file_name: format!("support-report-{}.svg", report.month),
            content_type: "image/svg+xml".to_string(),
            body: svg.into_bytes(),
        }),
        Err(error) => {
            tracing::warn!(customer = report.customer_id, month = %report.month, %error, "the monthly report's chart could not be drawn; it goes without");
            None
        }
    }
}
