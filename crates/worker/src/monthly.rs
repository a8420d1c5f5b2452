//! A customer's monthly report written for one reader: its tables in the reader's words
//! (as rows for the HTML part, laid out for the text part) and its chart, attached.

use caredesk_charts::{Panel, share_bars};
use caredesk_desk::monthly_reports::MonthlyReport;
use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::ClockKind;
use caredesk_mail::text_table::aligned;
use caredesk_mail::{Attached, MonthlyContext, ReportTerms};

/// The report as `words` say it to a contact or (`for_staff`) the customer's success
/// manager, with a link to the full report under `public_url` (the portal's for a contact,
/// the console's of this customer for staff), and its chart (none for a month without
/// tickets, or if it cannot be drawn: the tables say it all).
pub fn monthly_mail(
    report: &MonthlyReport,
    policy: &Policy,
    words: &ReportTerms,
    (public_url, for_staff): (&str, bool),
) -> (MonthlyContext, Option<Attached>) {
    let report_url = if for_staff {
        format!(
            "{public_url}/console/reports?from={}&to={}&by=severity&customer={}",
            report.from, report.to, report.customer_id
        )
    } else {
        format!(
            "{public_url}/portal/reports?from={}&to={}&by=severity",
            report.from, report.to
        )
    };
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
        aligned(&lines, 1, false).trim_end().to_string()
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
        for_staff,
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

#[cfg(test)]
mod tests {
    use caredesk_desk::monthly_reports::{MonthlyClock, MonthlySeverity};
    use caredesk_mail::Templates;
    use unicode_width::UnicodeWidthStr;

    use super::*;

    fn report(tickets: u64) -> MonthlyReport {
        let clock = |clock: ClockKind, met: u64, breached: u64| MonthlyClock {
            clock,
            measured: met + breached,
            met,
            breached,
            open_within: 1,
            open_past: 0,
            met_percent: (met + breached > 0).then(|| met as f64 * 100.0 / (met + breached) as f64),
        };
        MonthlyReport {
            customer_id: 7,
            customer_name: "Acme".into(),
            program: "gold".into(),
            month: "2026-11".into(),
            from: "2026-11-01".parse().unwrap(),
            to: "2026-11-30".parse().unwrap(),
            generated_at: "2026-12-01T01:00:00Z".parse().unwrap(),
            tickets,
            paused_minutes: 0,
            clocks: vec![
                clock(ClockKind::FirstResponse, 2, 1),
                clock(ClockKind::NextUpdate, 0, 0),
                clock(ClockKind::Resolution, 1, 0),
            ],
            severities: (tickets > 0)
                .then(|| MonthlySeverity {
                    severity: "P1".into(),
                    tickets,
                    first_response: Some(66.66),
                    updates: None,
                    resolution: Some(100.0),
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn the_tables_line_up_in_the_readers_words_and_the_chart_goes_with_them() {
        let templates = Templates::built_in().unwrap();
        let policy = Policy::built_in().unwrap();
        let japanese = &templates.terms("ja").report;
        let link = ("https://desk.example", false);
        let (context, chart) = monthly_mail(&report(3), &policy, japanese, link);
        assert_eq!(context.month, "2026年11月");
        assert_eq!(context.program, "Gold");
        assert_eq!(
            context.clocks[0],
            ["初回応答", "3", "2", "1", "1", "0", "66.7%"]
        );
        assert_eq!(context.clocks[1][6], "-");
        assert_eq!(context.severities[0][0], "P1 Critical");
        // Every line of a text table is as wide as a fixed-width font shows it, Japanese
        // included: the columns line up.
        for table in [&context.clocks_text, &context.severities_text] {
            let widths: Vec<usize> = table.lines().map(UnicodeWidthStr::width).collect();
            let rightmost = table.lines().map(|line| line.trim_end().width()).max();
            assert_eq!(widths.iter().max().copied(), rightmost, "{table}");
            assert!(widths.iter().all(|width| *width == widths[0]), "{table}");
        }
        let chart = chart.unwrap();
        assert_eq!(chart.file_name, "support-report-2026-11.svg");
        assert_eq!(context.chart, chart.file_name);
        let svg = String::from_utf8(chart.body).unwrap();
        assert!(
            svg.contains("初回応答") && svg.contains("P1 Critical"),
            "{svg}"
        );

        // A month without tickets has no chart, and says so.
        let (quiet, chart) = monthly_mail(&report(0), &policy, japanese, link);
        assert!(chart.is_none());
        assert_eq!((quiet.tickets, quiet.chart.as_str()), (0, ""));
        let mail = templates
            .render(
                caredesk_domain::notify::NoticeKind::MonthlyReport,
                "ja",
                &caredesk_mail::MailContext {
                    monthly: Some(quiet),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(
            mail.text
                .contains("2026年11月に起票されたチケットはありません。")
        );
        assert!(!mail.text.contains("support-report"));
    }
}
