//! `caredesk report …`: what the policy promised and what was kept, on the terminal or as
//! CSV and JSON to keep.

use std::io::{self, Write};

use caredesk_desk::monthly_reports::{self, MonthlyReport};
use caredesk_desk::people::{
    self, PeoplePart, PeopleReport, PeopleRequest, WorkLine, people_as_csv,
};
use caredesk_desk::reports::{
    self, BreachList, BreachesRequest, ComplianceReport, ComplianceRequest,
};
use caredesk_desk::volume::{self, VolumePart, VolumeReport, VolumeRequest, volume_as_csv};
use caredesk_desk::{Caller, Desk};
use caredesk_domain::notify::NoticeKind;
use caredesk_domain::report::{ClockSummary, Dimension, ReportFilter, ShareOfTarget, Span};
use caredesk_mail::MailContext;
use caredesk_mail::templates::LANGUAGES;
use caredesk_mail::text_table::aligned;
use caredesk_store::BreachedClock;
use caredesk_worker::monthly::monthly_mail;
use clap::{Args, Subcommand, ValueEnum};
use jiff::civil::Date;

use crate::Failure;
use crate::release_commands::refused;

#[derive(Subcommand)]
pub enum ReportCommand {
    /// SLA compliance of the tickets opened in a period: for each clock, met, breached, still
    /// open within or past target, and the business time used against the target.
    Sla(SlaArgs),
    /// The tickets of a period with a breach on record, the newest first, each with the
    /// business time its clocks used against their targets and the time its resolution clock
    /// stood still, by cause.
    Breaches(BreachesArgs),
    /// Volume and backlog: the tickets opened and closed per week or month, what happened to
    /// those opened (escalations, proposals and consent, professional services, time waiting
    /// on the customer), and the open backlog by age in business days and state.
    Volume(VolumeArgs),
    /// People: the work each member of staff did per week or month (tickets handled,
    /// actions, replies, first responses and the share in time, solutions accepted, actions
    /// after office hours on extended calendars), per region of the tickets and language,
    /// and the open tickets assigned to each now.
    People(PeopleArgs),
    /// A customer's monthly report as its (first) designated contact reads it: the subject
    /// and the text part of the mail, written now; its numbers are those recorded when it
    /// went out, or, for a month not sent (the current one so far), as they stand now.
    Monthly(MonthlyArgs),
}

impl ReportCommand {
    pub fn database(&self) -> Option<&String> {
        match self {
            ReportCommand::Sla(args) => args.database.as_ref(),
            ReportCommand::Breaches(args) => args.database.as_ref(),
            ReportCommand::Volume(args) => args.database.as_ref(),
            ReportCommand::People(args) => args.database.as_ref(),
            ReportCommand::Monthly(args) => args.database.as_ref(),
        }
    }
}

#[derive(Args)]
pub struct SlaArgs {
    /// The first day of the period (UTC), such as 2026-09-01; 30 days before --to unless given.
    #[arg(long, value_parser = date)]
    from: Option<Date>,
    /// The last day of the period, included; today unless given.
    #[arg(long, value_parser = date)]
    to: Option<Date>,
    /// What to break the report down by, comma-separated: month, program, severity, region,
    /// channel, product_line, language, advisor, customer.
    #[arg(long, value_parser = dimensions, default_value = "")]
    by: Dimensions,
    #[command(flatten)]
    filter: FilterArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The database (instead of the configured one).
    #[arg(long)]
    database: Option<String>,
}

#[derive(Args)]
pub struct BreachesArgs {
    /// The first day of the period (UTC), such as 2026-09-01; 30 days before --to unless given.
    #[arg(long, value_parser = date)]
    from: Option<Date>,
    /// The last day of the period, included; today unless given.
    #[arg(long, value_parser = date)]
    to: Option<Date>,
    /// One clock's breaches: first_response, updates or resolution; any unless given.
    #[arg(long, value_parser = clock)]
    clock: Option<BreachedClock>,
    /// The page, from 1 (50 tickets a page).
    #[arg(long, default_value_t = 1)]
    page: u32,
    #[command(flatten)]
    filter: FilterArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The database (instead of the configured one).
    #[arg(long)]
    database: Option<String>,
}

#[derive(Args)]
pub struct VolumeArgs {
    /// The first day of the period (UTC), widened to the start of its week or month; 30 days
    /// before --to unless given.
    #[arg(long, value_parser = date)]
    from: Option<Date>,
    /// The last day of the period, widened to the end of its week or month; today unless
    /// given.
    #[arg(long, value_parser = date)]
    to: Option<Date>,
    /// Count per week (from Monday) or per month.
    #[arg(long, value_enum, default_value_t = SpanArg::Month)]
    per: SpanArg,
    /// What to break the counts down by, comma-separated: program, severity, region,
    /// channel, product_line, language.
    #[arg(long, value_parser = dimensions, default_value = "")]
    by: Dimensions,
    #[command(flatten)]
    filter: FilterArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// With --format csv, the table: flows (opened and closed), activity or backlog.
    #[arg(long, value_enum, default_value_t = PartArg::Flows)]
    part: PartArg,
    /// The database (instead of the configured one).
    #[arg(long)]
    database: Option<String>,
}

#[derive(Args)]
pub struct PeopleArgs {
    /// The first day of the period (UTC), widened to the start of its week or month; 30 days
    /// before --to unless given.
    #[arg(long, value_parser = date)]
    from: Option<Date>,
    /// The last day of the period, widened to the end of its week or month; today unless
    /// given.
    #[arg(long, value_parser = date)]
    to: Option<Date>,
    /// Count per week (from Monday) or per month.
    #[arg(long, value_enum, default_value_t = SpanArg::Month)]
    per: SpanArg,
    /// The work on one region's tickets only.
    #[arg(long)]
    region: Option<String>,
    /// The work on tickets in one language only.
    #[arg(long)]
    language: Option<String>,
    /// One member of staff's work only (their id).
    #[arg(long)]
    advisor: Option<i64>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// With --format csv, the table: people, regions or load (per week or month).
    #[arg(long, value_enum, default_value_t = PeoplePartArg::People)]
    part: PeoplePartArg,
    /// The database (instead of the configured one).
    #[arg(long)]
    database: Option<String>,
}

#[derive(Args)]
pub struct MonthlyArgs {
    /// The customer's id.
    #[arg(long)]
    customer: i64,
    /// The month, such as 2026-11; the month just ended unless given.
    #[arg(long)]
    month: Option<String>,
    /// The language to write it in (en, fr, es, de, nl, ja); the designated contact's
    /// unless given.
    #[arg(long)]
    language: Option<String>,
    /// text: the mail's subject and text part; json: the report's numbers and whether it
    /// was recorded as sent.
    #[arg(long, value_enum, default_value_t = MonthlyFormat::Text)]
    format: MonthlyFormat,
    /// The database (instead of the configured one).
    #[arg(long)]
    database: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum MonthlyFormat {
    Text,
    Json,
}

/// What the monthly report's mail is written with: the templates and where the desk's
/// pages are, as the settings say.
pub struct MailLook {
    pub templates: caredesk_mail::Templates,
    pub public_url: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum PeoplePartArg {
    People,
    Regions,
    Load,
}

#[derive(Clone, Copy, ValueEnum)]
enum SpanArg {
    Week,
    Month,
}

#[derive(Clone, Copy, ValueEnum)]
enum PartArg {
    Flows,
    Activity,
    Backlog,
}

/// Which tickets a report counts.
#[derive(Args)]
pub struct FilterArgs {
    #[arg(long)]
    program: Option<String>,
    #[arg(long)]
    severity: Option<String>,
    #[arg(long)]
    region: Option<String>,
    #[arg(long)]
    channel: Option<String>,
    #[arg(long)]
    product_line: Option<String>,
    #[arg(long)]
    language: Option<String>,
    /// An advisor's id: their tickets only.
    #[arg(long)]
    advisor: Option<i64>,
    /// A customer's id: its tickets only.
    #[arg(long)]
    customer: Option<i64>,
}

impl FilterArgs {
    fn filter(self) -> ReportFilter {
        ReportFilter {
            program: self.program,
            severity: self.severity,
            region: self.region,
            channel: self.channel,
            product_line: self.product_line,
            language: self.language,
            advisor: self.advisor,
            customer: self.customer,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Aligned columns for reading.
    Table,
    /// Every count, one line per group and a last one for all.
    Csv,
    /// The API's report.
    Json,
}

#[derive(Clone)]
struct Dimensions(Vec<Dimension>);

fn dimensions(text: &str) -> Result<Dimensions, String> {
    Dimension::list(text).map(Dimensions)
}

fn clock(text: &str) -> Result<BreachedClock, String> {
    BreachedClock::ALL
        .into_iter()
        .find(|clock| clock.name() == text.trim())
        .ok_or_else(|| format!("\"{text}\" is not first_response, updates or resolution"))
}

fn date(text: &str) -> Result<Date, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a date such as 2026-09-01"))
}

/// Runs `command`; `look` is needed by `monthly` only (the others work whatever the mail
/// templates hold).
pub async fn run(
    command: ReportCommand,
    desk: &Desk,
    look: Option<MailLook>,
) -> Result<(), Failure> {
    match command {
        ReportCommand::Sla(args) => sla(args, desk).await,
        ReportCommand::Breaches(args) => breaches(args, desk).await,
        ReportCommand::Volume(args) => volume(args, desk).await,
        ReportCommand::People(args) => people(args, desk).await,
        ReportCommand::Monthly(args) => monthly(args, desk, look).await,
    }
}

async fn monthly(args: MonthlyArgs, desk: &Desk, look: Option<MailLook>) -> Result<(), Failure> {
    if let Some(language) = &args.language
        && !LANGUAGES.contains(&language.as_str())
    {
        return Err(Failure::Input(format!(
            "--language: caredesk writes {}, not \"{language}\"",
            LANGUAGES.join(", ")
        )));
    }
    let (report, sent) =
        monthly_reports::monthly_report_of(desk, args.customer, args.month.as_deref())
            .await
            .map_err(refused)?;
    if let MonthlyFormat::Json = args.format {
        #[derive(serde::Serialize)]
        struct Answer<'a> {
            /// Recorded as sent (its mails went to the outbox), or computed now.
            sent: bool,
            report: &'a MonthlyReport,
        }
        let answer = Answer {
            sent,
            report: &report,
        };
        return print(Format::Json, &answer, |_| String::new(), |_| String::new());
    }
    let look =
        look.ok_or_else(|| Failure::Environment("the mail templates are not loaded".into()))?;
    // Written for the first designated contact, as the mail to them is; without one, in the
    // customer's language, to nobody.
    let contacts = desk
        .store
        .contacts_of(args.customer)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    let reader = contacts.iter().find(|contact| contact.designated);
    let customer = desk
        .store
        .customer(args.customer)
        .await
        .map_err(|error| Failure::Environment(error.to_string()))?;
    let language = args
        .language
        .or_else(|| reader.map(|contact| contact.language.clone()))
        .unwrap_or(customer.language);
    let words = &look.templates.terms(&language).report;
    let (monthly, _) = monthly_mail(&report, &desk.policy(), words, (&look.public_url, false));
    let context = MailContext {
        recipient_name: reader.map_or_else(
            || report.customer_name.clone(),
            |contact| contact.name.clone(),
        ),
        monthly: Some(monthly),
        ..MailContext::default()
    };
    let mail = look
        .templates
        .render(NoticeKind::MonthlyReport, &language, &context)
        .map_err(|error| Failure::Input(format!("mail_templates: {error}")))?;
    let mut status = if sent {
        format!(
            "Sent: the report as recorded at {}, its mails handed to the outbox.",
            report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
        )
    } else {
        "Not sent: the report as it stands now.".to_string()
    };
    if reader.is_none() {
        status.push_str(" The customer has no designated contact: only its CSM gets the report.");
    }
    let mut out = io::stdout().lock();
    writeln!(out, "{status}\nSubject: {}\n\n{}", mail.subject, mail.text)?;
    out.flush()?;
    Ok(())
}

async fn people(args: PeopleArgs, desk: &Desk) -> Result<(), Failure> {
    let request = PeopleRequest {
        from: args.from,
        to: args.to,
        span: match args.per {
            SpanArg::Week => Span::Week,
            SpanArg::Month => Span::Month,
        },
        region: args.region,
        language: args.language,
        advisor: args.advisor,
    };
    let report = people::people(desk, &Caller::System, request)
        .await
        .map_err(refused)?;
    let csv = match args.part {
        PeoplePartArg::People => |report: &PeopleReport| people_as_csv(report, PeoplePart::People),
        PeoplePartArg::Regions => {
            |report: &PeopleReport| people_as_csv(report, PeoplePart::Regions)
        }
        PeoplePartArg::Load => |report: &PeopleReport| people_as_csv(report, PeoplePart::Load),
    };
    print(args.format, &report, people_table, csv)
}

/// A people report as aligned columns: per person, per region, then per period.
fn people_table(report: &PeopleReport) -> String {
    let mut text = format!(
        "Work per {} from {} to {} (UTC). After hours: actions on tickets running on an \
         extended calendar while their office was closed.\n",
        report.span.name(),
        report.from,
        report.to
    );
    let counts = |line: &WorkLine| -> Vec<String> {
        line.counts
            .values()
            .iter()
            .map(u64::to_string)
            .chain(std::iter::once(line.in_time_percent.map_or_else(
                || "-".to_string(),
                |percent| format!("{percent:.0}%"),
            )))
            .collect()
    };
    let count_names = [
        "tickets",
        "actions",
        "replies",
        "first",
        "in time",
        "accepted",
        "after hours",
        "in time %",
    ]
    .map(String::from);
    let mut header = vec!["person".to_string(), "region".to_string()];
    header.extend(count_names.iter().cloned());
    header.extend(["open now".to_string(), "languages".to_string()]);
    let mut lines = vec![header];
    for person in &report.people {
        let mut cells = vec![
            person.name.clone(),
            person.home_region.clone().unwrap_or_else(|| "-".into()),
        ];
        cells.extend(counts(&person.work));
        cells.push(person.open_now.to_string());
        cells.push(
            person
                .languages
                .iter()
                .map(|language| format!("{} {}", language.language, language.tickets))
                .collect::<Vec<_>>()
                .join(", "),
        );
        lines.push(cells);
    }
    let mut total = vec!["all".to_string(), String::new()];
    total.extend(counts(&report.total));
    total.push(
        report
            .people
            .iter()
            .map(|person| person.open_now)
            .sum::<u64>()
            .to_string(),
    );
    lines.push(total);
    text.push_str(&aligned(&lines, 2, true));
    text.push_str("\nPer region of the tickets:\n");
    let mut header = vec!["region".to_string(), "people".to_string()];
    header.extend(count_names.iter().cloned());
    let mut lines = vec![header];
    for region in &report.regions {
        let mut cells = vec![region.region.clone(), region.people.to_string()];
        cells.extend(counts(&region.work));
        lines.push(cells);
    }
    text.push_str(&aligned(&lines, 1, false));
    text.push_str(&format!("\nPer {}:\n", report.span.name()));
    let mut header = vec![report.span.name().to_string(), "people".to_string()];
    header.extend(count_names.iter().cloned());
    let mut lines = vec![header];
    for period in &report.periods {
        let name = report.span.label(period.start);
        let mut cells = vec![name, period.people.to_string()];
        cells.extend(counts(&period.work));
        lines.push(cells);
    }
    text.push_str(&aligned(&lines, 1, false));
    text
}

async fn volume(args: VolumeArgs, desk: &Desk) -> Result<(), Failure> {
    let request = VolumeRequest {
        from: args.from,
        to: args.to,
        span: match args.per {
            SpanArg::Week => Span::Week,
            SpanArg::Month => Span::Month,
        },
        by: args.by.0,
        filter: args.filter.filter(),
    };
    let report = volume::volume(desk, &Caller::System, request)
        .await
        .map_err(refused)?;
    let csv = match args.part {
        PartArg::Flows => |report: &VolumeReport| volume_as_csv(report, VolumePart::Flows),
        PartArg::Activity => |report: &VolumeReport| volume_as_csv(report, VolumePart::Activity),
        PartArg::Backlog => |report: &VolumeReport| volume_as_csv(report, VolumePart::Backlog),
    };
    print(args.format, &report, volume_table, csv)
}

/// A volume report as aligned columns: opened and closed per period, what happened to the
/// tickets opened, and the backlog by age.
fn volume_table(report: &VolumeReport) -> String {
    let mut text = format!(
        "Tickets opened and closed per {} from {} to {} (UTC).\n",
        report.span.name(),
        report.from,
        report.to
    );
    let mut header = vec![report.span.name().to_string()];
    header.extend(
        report
            .by
            .iter()
            .map(|dimension| dimension.name().to_string()),
    );
    header.extend(["opened".to_string(), "closed".to_string()]);
    let mut lines = vec![header];
    let all = vec!["all".to_string(); report.by.len()];
    for period in &report.periods {
        let name = report.span.label(period.start);
        // Per group when broken down (a period without tickets on one line).
        let groups: Vec<(&Vec<String>, u64, u64)> =
            if report.by.is_empty() || period.groups.is_empty() {
                vec![(&all, period.opened, period.closed)]
            } else {
                period
                    .groups
                    .iter()
                    .map(|group| (&group.group, group.opened, group.closed))
                    .collect()
            };
        for (group, opened, closed) in groups {
            let mut cells = vec![name.clone()];
            cells.extend(group.iter().cloned());
            cells.extend([opened.to_string(), closed.to_string()]);
            lines.push(cells);
        }
    }
    let mut total = vec!["all".to_string()];
    total.extend(all.iter().cloned());
    total.extend([report.opened.to_string(), report.closed.to_string()]);
    lines.push(total);
    text.push_str(&aligned(&lines, 1 + report.by.len(), false));
    let a = &report.activity_total.activity;
    let hours = a.waiting_minutes as f64 / 60.0;
    text.push_str(&format!(
        "\nOf the {} tickets opened, {} are closed.\n\
         Escalations: {} asked by the customer, {} raised by the desk, {} answered; {} tickets escalated, {} resolved with consent, {} still open.\n\
         Proposals: {}, {} accepted, {} rejected, {} unanswered after the reminders.\n\
         Outside technical support: {} decisions, {} professional-services requests.\n\
         Waiting on the customer: {hours:.1} business hours.\n",
        report.activity_total.tickets,
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
    ));
    text.push_str("\nOpen now, by business days since opened:\n");
    let mut lines = vec![
        ["state", "open", "<1", "1-2", "2-5", "5-10", "10-20", "20+"]
            .map(String::from)
            .to_vec(),
    ];
    let backlog = &report.backlog;
    for (state, open, by_age) in backlog
        .by_state
        .iter()
        .map(|state| (state.state.as_str(), state.open, &state.by_age))
        .chain(std::iter::once(("all", backlog.open, &backlog.by_age)))
    {
        let mut cells = vec![state.to_string(), open.to_string()];
        cells.extend(by_age.iter().map(u64::to_string));
        lines.push(cells);
    }
    text.push_str(&aligned(&lines, 1, false));
    text
}

async fn sla(args: SlaArgs, desk: &Desk) -> Result<(), Failure> {
    let request = ComplianceRequest {
        from: args.from,
        to: args.to,
        by: args.by.0,
        filter: args.filter.filter(),
    };
    let report = reports::compliance(desk, &Caller::System, request)
        .await
        .map_err(refused)?;
    print(args.format, &report, table, reports::as_csv)
}

/// Prints `value` in `format`: as a table, as CSV, or as the API's JSON.
fn print<T: serde::Serialize>(
    format: Format,
    value: &T,
    table: fn(&T) -> String,
    csv: fn(&T) -> String,
) -> Result<(), Failure> {
    let text = match format {
        Format::Table => table(value),
        Format::Csv => csv(value),
        Format::Json => {
            let mut json = serde_json::to_string_pretty(value)
                .map_err(|error| Failure::Environment(error.to_string()))?;
            json.push('\n');
            json
        }
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

async fn breaches(args: BreachesArgs, desk: &Desk) -> Result<(), Failure> {
    let request = BreachesRequest {
        from: args.from,
        to: args.to,
        filter: args.filter.filter(),
        clock: args.clock,
        page: Some(args.page),
    };
    let list = reports::breaches(desk, &Caller::System, request)
        .await
        .map_err(refused)?;
    print(args.format, &list, breaches_table, reports::breaches_as_csv)
}

/// Breaches as aligned columns: the ticket, its customer and severity, the clocks breached,
/// the business hours each used of its target, the updates missed, and the hours the
/// resolution clock stood still with their causes.
fn breaches_table(list: &BreachList) -> String {
    let hours = |minutes: u64| format!("{:.1} h", minutes as f64 / 60.0);
    let mut lines = vec![
        [
            "ticket",
            "customer",
            "severity",
            "breached",
            "response used",
            "resolution used",
            "updates missed",
            "stood still",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for ticket in &list.tickets {
        lines.push(vec![
            ticket.id.to_string(),
            ticket.customer.clone(),
            ticket.severity.clone(),
            ticket
                .breached
                .iter()
                .map(|clock| clock.name())
                .collect::<Vec<_>>()
                .join(" "),
            format!(
                "{} of {}",
                hours(ticket.first_response.used_minutes),
                hours(ticket.first_response.target_minutes)
            ),
            ticket.resolution.map_or_else(
                || "-".to_string(),
                |clock| {
                    format!(
                        "{} of {}",
                        hours(clock.used_minutes),
                        hours(clock.target_minutes)
                    )
                },
            ),
            format!("{} of {}", ticket.updates_missed, ticket.updates_owed),
            std::iter::once(hours(ticket.paused_minutes))
                .chain(
                    ticket
                        .paused
                        .iter()
                        .map(|paused| format!("{} {}", paused.cause, hours(paused.minutes))),
                )
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    let mut text = format!(
        "Tickets opened from {} to {} (UTC) with a breach on record, page {}{}.\n",
        list.from,
        list.to,
        list.page,
        if list.more {
            " (more on the next page: --page)"
        } else {
            ""
        }
    );
    // The time stood still and its causes read as a sentence: aligned left, last.
    text.push_str(&aligned(&lines, 4, true));
    text
}

/// The report as aligned columns: per group, the tickets, and for each clock the share met,
/// the breaches, those open past target now, and the median time used.
fn table(report: &ComplianceReport) -> String {
    let mut header: Vec<String> = report
        .by
        .iter()
        .map(|dimension| dimension.name().to_string())
        .collect();
    header.push("tickets".into());
    for clock in ["response", "updates", "resolution"] {
        for column in ["met", "late", "open late", "median"] {
            header.push(format!("{clock} {column}"));
        }
    }
    let mut lines = vec![header];
    let all = vec!["all".to_string(); report.by.len()];
    for (line, labels) in report
        .lines
        .iter()
        .map(|line| (line, &line.labels))
        .chain(std::iter::once((&report.total, &all)))
    {
        let mut cells: Vec<String> = labels.clone();
        cells.push(line.tickets.to_string());
        for clock in [&line.first_response, &line.updates, &line.resolution] {
            cells.extend(clock_cells(clock));
        }
        lines.push(cells);
    }
    let mut text = format!(
        "SLA compliance of the tickets opened from {} to {} (UTC). For the first response, \
         the status updates and the resolution: the share met, how many ran late, how many are \
         still open past their target, and the median business time used against the target.\n",
        report.from, report.to
    );
    text.push_str(&aligned(&lines, report.by.len(), false));
    text
}

fn clock_cells(clock: &ClockSummary) -> [String; 4] {
    [
        clock
            .met_percent
            .map_or_else(|| "-".to_string(), |percent| format!("{percent:.1}%")),
        clock.breached.to_string(),
        clock.open_past.to_string(),
        match clock.median_used {
            Some(ShareOfTarget::About(percent)) => format!("{percent}%"),
            Some(ShareOfTarget::OverTwice) => ">200%".to_string(),
            None => "-".to_string(),
        },
    ]
}
