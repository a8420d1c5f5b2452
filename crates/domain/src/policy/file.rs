//! Reading a policy file: TOML into raw records (types that parse themselves, so a bad value
//! is reported where it stands), then every cross-reference checked, then the typed policy.
//! Every problem carries the file, the line and column, and the dotted field path.

use std::fmt;
use std::ops::Range;

use indexmap::IndexMap;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

use super::{
    Activation, Channel, Consent, CoverageRule, Exclusion, Intake, Languages, Policy, ProductLine,
    Program, Region, Scope, Severity, UpdateRule,
};
use crate::calendar::holiday::{parse_month_day, parse_weekday_of_month};
use crate::calendar::hours::{HoursError, OpenInterval, parse_day_hours, parse_day_range};
use crate::calendar::{Calendar, CalendarSpec, HolidayDate, HolidayRule, Observed, WeeklyHours};
use crate::duration::BusinessDuration;

/// Everything wrong with a policy file, one problem per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    pub problems: Vec<PolicyProblem>,
}

/// One problem: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, such as `calendars.americas.time_zone`; empty for a syntax error.
    pub field: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

pub(super) fn load(source: &str, file: &str) -> Result<Policy, PolicyError> {
    let mut problems = Problems {
        source,
        file,
        found: Vec::new(),
    };
    let raw = match parse(source) {
        Ok(raw) => raw,
        Err((span, field, message)) => {
            problems.add(span, field, message);
            return Err(problems.into_error());
        }
    };
    let policy = build(raw, &mut problems);
    if problems.found.is_empty() {
        Ok(policy)
    } else {
        Err(problems.into_error())
    }
}

fn parse(source: &str) -> Result<RawPolicy, (Option<Range<usize>>, String, String)> {
    let deserializer = toml::Deserializer::parse(source)
        .map_err(|error| (error.span(), String::new(), first_line(error.message())))?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = field_path(error.path());
        let inner = error.into_inner();
        let message = first_line(inner.message());
        let span = inner
            .span()
            .map(|span| point_at_unknown_field(source, span, &message));
        (span, field, message)
    })
}

/// The dotted path of a field, such as `calendars.emea.hours`, without serde's internals.
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut dotted = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => dotted.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if key.starts_with("$__serde_spanned_private") {
                    continue;
                }
                if !dotted.is_empty() {
                    dotted.push('.');
                }
                dotted.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    dotted
}

/// TOML reports an unknown field near its table, not on its line; point at the misspelt key
/// itself: the occurrence of `key =` closest to the reported span.
fn point_at_unknown_field(source: &str, span: Range<usize>, message: &str) -> Range<usize> {
    let Some(key) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
        .filter(|key| !key.is_empty())
    else {
        return span;
    };
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let distance = |at: usize| {
        if at < span.start {
            span.start - at
        } else {
            at.saturating_sub(span.end)
        }
    };
    source
        .match_indices(key)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before_ok = source[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !is_name_char(c));
            let after = source[at + key.len()..].trim_start_matches([' ', '\t']);
            before_ok && after.starts_with('=')
        })
        .min_by_key(|&at| distance(at))
        .map_or(span, |at| at..at + key.len())
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}

struct Problems<'s> {
    source: &'s str,
    file: &'s str,
    found: Vec<PolicyProblem>,
}

impl Problems<'_> {
    fn add(
        &mut self,
        span: Option<Range<usize>>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        let offset = span
            .map(|span| span.start)
            .unwrap_or(0)
            .min(self.source.len());
        let before = self.source.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map_or(0, |text| text.chars().count())
            + 1;
        self.found.push(PolicyProblem {
            file: self.file.to_string(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        });
    }

    fn into_error(self) -> PolicyError {
        PolicyError {
            problems: self.found,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The file as written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    policy: RawHeader,
    clocks: RawClocks,
    languages: RawLanguages,
    scope: RawScope,
    #[serde(default)]
    activation: RawActivation,
    intake: RawIntake,
    consent: RawConsent,
    programs: IndexMap<Name, RawProgram>,
    channels: IndexMap<Name, RawChannel>,
    severities: IndexMap<Name, RawSeverity>,
    product_lines: IndexMap<Name, RawProductLine>,
    regions: IndexMap<Name, RawRegion>,
    #[serde(default)]
    holidays: IndexMap<Name, RawHoliday>,
    calendars: IndexMap<Name, RawCalendar>,
    #[serde(default)]
    coverage: Vec<RawCoverage>,
    #[serde(default)]
    exclusions: IndexMap<Name, RawExclusion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExclusion {
    title: String,
    /// What the customer reads, by language.
    explanation: IndexMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClocks {
    at_risk_percent: Spanned<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLanguages {
    supported: Vec<Spanned<String>>,
    fallback: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    supported_releases: Spanned<u8>,
    native_programming_languages: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawActivation {
    password_valid_days: Spanned<u16>,
    updates_with_care: Spanned<String>,
    updates_without_care: Spanned<String>,
    update_request_severity: Option<Spanned<String>>,
    update_requests_breach: bool,
}

impl Default for RawActivation {
    fn default() -> Self {
        RawActivation {
            password_valid_days: Spanned::new(0..0, 30),
            updates_with_care: Spanned::new(0..0, "all".into()),
            updates_without_care: Spanned::new(0..0, "within_licensed_major".into()),
            update_request_severity: None,
            update_requests_breach: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntake {
    required: Vec<Spanned<String>>,
    uncovered_program: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsent {
    reminder_every: RequiredTarget,
    reminders: Spanned<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    name: String,
    coverage: String,
    dedicated_csm: bool,
    priority_queue: bool,
    /// Whether each customer gets a compliance report by e-mail every month; by default,
    /// the programs with a dedicated customer success manager do.
    monthly_report: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    name: String,
    first_response: RequiredTarget,
    acknowledgement: bool,
    #[serde(default)]
    strict_intake: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeverity {
    name: String,
    meaning: String,
    resolution: Target,
    resolution_note: Option<String>,
    update_every: Target,
    #[serde(default)]
    update_negotiable: bool,
    #[serde(default)]
    worked_continuously: bool,
    /// How long a ticket worked continuously may go without an advisor's action before the
    /// support manager is alerted; "none" for never. Default: 2 business hours when worked
    /// continuously.
    idle_alert_after: Option<Spanned<Target>>,
    #[serde(default = "one")]
    load_weight: Spanned<u32>,
    #[serde(default)]
    escalate_on_breach: bool,
}

fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProductLine {
    name: String,
    #[serde(default = "yes")]
    online_update_manager: bool,
    #[serde(default)]
    editions: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    name: String,
    office: String,
    time_zone: Spanned<Zone>,
    calendar: Spanned<String>,
    languages: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    name: String,
    time_zone: Spanned<Zone>,
    business_day: Spanned<BusinessDuration>,
    hours: Spanned<IndexMap<DayKey, DayHours>>,
    #[serde(default)]
    holidays: Vec<Spanned<String>>,
    #[serde(default)]
    local_holidays: Vec<RawHoliday>,
    #[serde(default)]
    closed_dates: Vec<RawClosedDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClosedDate {
    date: PlainDate,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoverage {
    name: String,
    #[serde(default)]
    programs: Vec<Spanned<String>>,
    #[serde(default)]
    severities: Vec<Spanned<String>>,
    #[serde(default)]
    product_lines: Vec<Spanned<String>>,
    calendar: Spanned<String>,
    after_hours_language: Option<Spanned<String>>,
}

/// A holiday rule as written; parses itself into a [`HolidayRule`].
#[derive(Deserialize)]
#[serde(try_from = "HolidayFields")]
struct RawHoliday(HolidayRule);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFields {
    name: String,
    fixed: Option<String>,
    weekday_of_month: Option<String>,
    easter: Option<i16>,
    date: Option<PlainDate>,
    observed: Option<String>,
    from_year: Option<i16>,
    until_year: Option<i16>,
}

impl TryFrom<HolidayFields> for RawHoliday {
    type Error = String;

    fn try_from(fields: HolidayFields) -> Result<Self, String> {
        let mut dates = Vec::new();
        if let Some(fixed) = &fields.fixed {
            dates.push(parse_month_day(fixed).map_err(|error| error.to_string())?);
        }
        if let Some(text) = &fields.weekday_of_month {
            dates.push(parse_weekday_of_month(text).map_err(|error| error.to_string())?);
        }
        if let Some(offset_days) = fields.easter {
            if offset_days.unsigned_abs() > 200 {
                return Err(format!(
                    "easter = {offset_days} is too far from Easter (at most ±200 days)"
                ));
            }
            dates.push(HolidayDate::Easter { offset_days });
        }
        if let Some(date) = fields.date {
            dates.push(HolidayDate::Once(date.0));
        }
        let date = match dates.as_slice() {
            [date] => *date,
            _ => {
                return Err(format!(
                    "holiday \"{}\" must give exactly one of fixed, weekday_of_month, easter or date",
                    fields.name
                ));
            }
        };
        let observed = match &fields.observed {
            Some(text) => text
                .parse::<Observed>()
                .map_err(|error| error.to_string())?,
            None => Observed::OnTheDay,
        };
        if let (Some(from), Some(until)) = (fields.from_year, fields.until_year)
            && from > until
        {
            return Err(format!("from_year {from} is after until_year {until}"));
        }
        Ok(RawHoliday(HolidayRule {
            name: fields.name,
            date,
            observed,
            from_year: fields.from_year,
            until_year: fields.until_year,
        }))
    }
}

/// A date written as a TOML local date, 2026-12-24.
struct PlainDate(jiff::civil::Date);

impl<'de> Deserialize<'de> for PlainDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = toml::value::Datetime::deserialize(deserializer)?;
        let (Some(date), None, None) = (value.date, value.time, value.offset) else {
            return Err(D::Error::custom(format!(
                "{value} is not a plain date; write it as YYYY-MM-DD"
            )));
        };
        let out_of_range = || D::Error::custom(format!("{value} is out of range"));
        let year = i16::try_from(date.year).map_err(|_| out_of_range())?;
        let month = i8::try_from(date.month).map_err(|_| out_of_range())?;
        let day = i8::try_from(date.day).map_err(|_| out_of_range())?;
        jiff::civil::Date::new(year, month, day)
            .map(PlainDate)
            .map_err(|error| D::Error::custom(format!("{value}: {error}")))
    }
}

/// The name of an entry (a program, a calendar…): letters, digits, '-' and '_'.
#[derive(PartialEq, Eq, Hash)]
struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid {
            Ok(Name(name))
        } else {
            Err(serde::de::Error::custom(format!(
                "\"{name}\" is not a valid name; use only letters, digits, '-' and '_'"
            )))
        }
    }
}

/// A key of `hours`: a weekday or a range of them, "mon", "mon-fri". Keys compare as written,
/// so "mon" and "monday" both given reach the week as a day given twice.
struct DayKey {
    written: String,
    weekdays: Vec<Weekday>,
}

impl PartialEq for DayKey {
    fn eq(&self, other: &Self) -> bool {
        self.written == other.written
    }
}

impl Eq for DayKey {}

impl std::hash::Hash for DayKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.written.hash(state);
    }
}

impl<'de> Deserialize<'de> for DayKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let written = String::deserialize(deserializer)?;
        let weekdays = parse_day_range(&written).map_err(serde::de::Error::custom)?;
        Ok(DayKey { written, weekdays })
    }
}

/// A resolution or update target: a business duration, or "none".
struct Target(Option<BusinessDuration>);

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(Target(None));
        }
        let RequiredTarget(duration) = RequiredTarget::parse(&text, "write \"none\" for no target")
            .map_err(serde::de::Error::custom)?;
        Ok(Target(Some(duration)))
    }
}

/// A target that must be given: more than zero, at most a year of business days.
struct RequiredTarget(BusinessDuration);

impl RequiredTarget {
    const MAX_DAYS: u32 = 366;

    fn parse(text: &str, zero_hint: &str) -> Result<Self, String> {
        let duration: BusinessDuration = text.parse().map_err(|error| format!("{error}"))?;
        if duration.is_zero() {
            return Err(format!("a target of zero makes no sense; {zero_hint}"));
        }
        if duration.days > Self::MAX_DAYS || duration.minutes > Self::MAX_DAYS * 24 * 60 {
            return Err(format!(
                "\"{text}\" is longer than any support target ({} business days at most)",
                Self::MAX_DAYS
            ));
        }
        Ok(RequiredTarget(duration))
    }
}

impl<'de> Deserialize<'de> for RequiredTarget {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RequiredTarget::parse(&text, "give the time to the first response")
            .map_err(serde::de::Error::custom)
    }
}

/// An IANA time-zone name, checked against the bundled time-zone database.
struct Zone(TimeZone);

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        TimeZone::get(&name).map(Zone).map_err(|_| {
            serde::de::Error::custom(format!(
                "\"{name}\" is not a time zone of the IANA database (for example \"Europe/Amsterdam\")"
            ))
        })
    }
}

/// A day's opening hours as written: "08:00-17:00", "08:00-12:00, 13:00-17:00" or "closed".
struct DayHours(Vec<OpenInterval>);

impl<'de> Deserialize<'de> for DayHours {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_day_hours(&text)
            .map(DayHours)
            .map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------
// From raw records to the checked policy.

fn build(raw: RawPolicy, problems: &mut Problems<'_>) -> Policy {
    let languages = build_languages(&raw.languages, problems);
    let at_risk_percent = *raw.clocks.at_risk_percent.get_ref();
    if !(1..=99).contains(&at_risk_percent) {
        problems.add(
            Some(raw.clocks.at_risk_percent.span()),
            "clocks.at_risk_percent",
            format!("{at_risk_percent} must be between 1 and 99"),
        );
    }
    let supported_releases = *raw.scope.supported_releases.get_ref();
    if supported_releases == 0 {
        problems.add(
            Some(raw.scope.supported_releases.span()),
            "scope.supported_releases",
            "at least one release must be supported",
        );
    }

    let activation = build_activation(&raw.activation, problems);

    let programs = entries(raw.programs, problems, |program, _, _| Program {
        name: program.name,
        coverage: program.coverage,
        dedicated_csm: program.dedicated_csm,
        priority_queue: program.priority_queue,
        monthly_report: program.monthly_report.unwrap_or(program.dedicated_csm),
    });
    let channels = entries(raw.channels, problems, |channel, _, _| Channel {
        name: channel.name,
        first_response: channel.first_response.0,
        acknowledgement: channel.acknowledgement,
        strict_intake: channel.strict_intake,
    });
    let severities = entries(raw.severities, problems, build_severity);
    let mut activation = activation;
    activation.update_request_severity = match &raw.activation.update_request_severity {
        Some(named) => {
            if !severities.contains_key(named.get_ref()) {
                problems.add(
                    Some(named.span()),
                    "activation.update_request_severity",
                    format!(
                        "\"{}\" is not a severity of the policy: one of {}",
                        named.get_ref(),
                        severities
                            .keys()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            named.get_ref().clone()
        }
        None => severities.keys().last().cloned().unwrap_or_default(),
    };
    let product_lines = entries(raw.product_lines, problems, |line, id, problems| {
        let mut editions: Vec<String> = Vec::new();
        for edition in line.editions {
            let edition = edition.trim().to_string();
            if edition.is_empty() || editions.contains(&edition) {
                problems.add(
                    None,
                    format!("product_lines.{id}.editions"),
                    "each edition is named once, not blank",
                );
            } else {
                editions.push(edition);
            }
        }
        ProductLine {
            name: line.name,
            online_update_manager: line.online_update_manager,
            editions,
        }
    });
    let intake = build_intake(raw.intake, &programs, problems);
    let consent = build_consent(raw.consent, problems);
    let holidays = entries(raw.holidays, problems, |holiday, _, _| holiday.0);
    let calendars = entries(raw.calendars, problems, |calendar, id, problems| {
        build_calendar(calendar, id, &holidays, problems)
    });
    let regions = entries(raw.regions, problems, |region, id, problems| {
        build_region(region, id, &calendars, &languages, problems)
    });
    let coverage = raw
        .coverage
        .into_iter()
        .enumerate()
        .map(|(index, rule)| {
            let context = Context {
                programs: &programs,
                severities: &severities,
                product_lines: &product_lines,
                regions: &regions,
                calendars: &calendars,
                languages: &languages,
            };
            build_coverage_rule(rule, index, &context, problems)
        })
        .collect();
    let exclusions = entries(raw.exclusions, problems, |exclusion, id, problems| {
        build_exclusion(exclusion, id, &languages, problems)
    });
    for (what, empty) in [
        ("programs", programs.is_empty()),
        ("channels", channels.is_empty()),
        ("severities", severities.is_empty()),
        ("product_lines", product_lines.is_empty()),
        ("regions", regions.is_empty()),
    ] {
        if empty {
            problems.add(None, what, "the policy must define at least one");
        }
    }

    Policy {
        name: raw.policy.name,
        version: raw.policy.version,
        stored_as: 0,
        at_risk_percent,
        languages,
        scope: Scope {
            supported_releases,
            native_programming_languages: raw.scope.native_programming_languages,
        },
        activation,
        intake,
        consent,
        programs,
        channels,
        severities,
        product_lines,
        regions,
        holidays,
        calendars,
        coverage,
        exclusions,
    }
}

/// An exclusion: a title for staff, and an explanation for the customer in languages of
/// the policy, the fallback one at least.
fn build_exclusion(
    raw: RawExclusion,
    id: &str,
    languages: &Languages,
    problems: &mut Problems<'_>,
) -> Exclusion {
    let field = format!("exclusions.{id}.explanation");
    if raw.title.trim().is_empty() {
        problems.add(None, format!("exclusions.{id}.title"), "must not be blank");
    }
    let mut explanations = IndexMap::new();
    for (language, text) in raw.explanation {
        let span = text.span();
        let text = text.into_inner();
        if !languages.supported.contains(&language) {
            problems.add(
                Some(span),
                field.clone(),
                format!(
                    "\"{language}\" is not a language of the policy: one of {}",
                    languages.supported.join(", ")
                ),
            );
        } else if text.trim().is_empty() {
            problems.add(
                Some(span),
                format!("{field}.{language}"),
                "must not be blank",
            );
        }
        explanations.insert(language, text.trim().to_string());
    }
    if !explanations.contains_key(&languages.fallback) {
        problems.add(
            None,
            field,
            format!(
                "the customer's explanation is needed in the fallback language ({}) at least",
                languages.fallback
            ),
        );
    }
    Exclusion {
        title: raw.title.trim().to_string(),
        explanations,
        fallback: languages.fallback.clone(),
    }
}

fn build_activation(raw: &RawActivation, problems: &mut Problems<'_>) -> Activation {
    let password_valid_days = *raw.password_valid_days.get_ref();
    if !(1..=3650).contains(&password_valid_days) {
        problems.add(
            Some(raw.password_valid_days.span()),
            "activation.password_valid_days",
            format!("{password_valid_days} must be between 1 and 3650"),
        );
    }
    let mut rule = |field: &Spanned<String>, name: &str| {
        UpdateRule::parse(field.get_ref()).unwrap_or_else(|| {
            problems.add(
                Some(field.span()),
                format!("activation.{name}"),
                format!(
                    "\"{}\" is not a rule: one of {}",
                    field.get_ref(),
                    UpdateRule::NAMES.join(", ")
                ),
            );
            UpdateRule::None
        })
    };
    Activation {
        password_valid_days,
        updates_with_care: rule(&raw.updates_with_care, "updates_with_care"),
        updates_without_care: rule(&raw.updates_without_care, "updates_without_care"),
        // Checked against the severities once they are read.
        update_request_severity: String::new(),
        update_requests_breach: raw.update_requests_breach,
    }
}

fn build_severity(severity: RawSeverity, id: &str, problems: &mut Problems<'_>) -> Severity {
    let load_weight = *severity.load_weight.get_ref();
    if load_weight == 0 {
        problems.add(
            Some(severity.load_weight.span()),
            format!("severities.{id}.load_weight"),
            "must be at least 1",
        );
    }
    let idle_alert_after = match severity.idle_alert_after {
        None if severity.worked_continuously => Some(BusinessDuration::from_minutes(120)),
        None => None,
        Some(given) => {
            let span = given.span();
            let Target(duration) = given.into_inner();
            if duration.is_some() && !severity.worked_continuously {
                problems.add(
                    Some(span),
                    format!("severities.{id}.idle_alert_after"),
                    "only a severity worked continuously alerts when nobody works it",
                );
            }
            duration
        }
    };
    Severity {
        idle_alert_after,
        name: severity.name,
        meaning: severity.meaning,
        resolution: severity.resolution.0,
        resolution_note: severity.resolution_note,
        update_every: severity.update_every.0,
        update_negotiable: severity.update_negotiable,
        worked_continuously: severity.worked_continuously,
        load_weight,
        escalate_on_breach: severity.escalate_on_breach,
    }
}

fn build_consent(raw: RawConsent, problems: &mut Problems<'_>) -> Consent {
    let reminders = *raw.reminders.get_ref();
    if reminders == 0 {
        problems.add(
            Some(raw.reminders.span()),
            "consent.reminders",
            "at least one reminder must be sent before a proposal is listed as unanswered",
        );
    }
    Consent {
        reminder_every: raw.reminder_every.0,
        reminders,
    }
}

/// Builds each entry of a section, keeping the file's order.
fn entries<Raw, Built>(
    raw: IndexMap<Name, Raw>,
    problems: &mut Problems<'_>,
    mut build: impl FnMut(Raw, &str, &mut Problems<'_>) -> Built,
) -> IndexMap<String, Built> {
    raw.into_iter()
        .map(|(Name(id), entry)| {
            let built = build(entry, &id, problems);
            (id, built)
        })
        .collect()
}

fn build_languages(raw: &RawLanguages, problems: &mut Problems<'_>) -> Languages {
    let mut supported: Vec<String> = Vec::new();
    for language in &raw.supported {
        let code = language.get_ref();
        if !is_language_code(code) {
            problems.add(
                Some(language.span()),
                "languages.supported",
                format!("\"{code}\" is not a two-letter language code such as \"en\""),
            );
        } else if supported.contains(code) {
            problems.add(
                Some(language.span()),
                "languages.supported",
                format!("\"{code}\" is listed twice"),
            );
        } else {
            supported.push(code.clone());
        }
    }
    if !supported.contains(raw.fallback.get_ref()) {
        problems.add(
            Some(raw.fallback.span()),
            "languages.fallback",
            format!(
                "\"{}\" is not one of languages.supported",
                raw.fallback.get_ref()
            ),
        );
    }
    Languages {
        supported,
        fallback: raw.fallback.get_ref().clone(),
    }
}

fn build_intake(
    raw: RawIntake,
    programs: &IndexMap<String, Program>,
    problems: &mut Problems<'_>,
) -> Intake {
    let mut required: Vec<String> = Vec::new();
    for field in &raw.required {
        let name = field.get_ref();
        if !super::INTAKE_FIELDS.contains(&name.as_str()) {
            problems.add(
                Some(field.span()),
                "intake.required",
                format!(
                    "\"{name}\" is not a field of a ticket; known: {}",
                    super::INTAKE_FIELDS.join(", ")
                ),
            );
        } else if required.contains(name) {
            problems.add(
                Some(field.span()),
                "intake.required",
                format!("\"{name}\" is listed twice"),
            );
        } else {
            required.push(name.clone());
        }
    }
    let uncovered_program = raw.uncovered_program.get_ref();
    if !programs.contains_key(uncovered_program) {
        problems.add(
            Some(raw.uncovered_program.span()),
            "intake.uncovered_program",
            format!(
                "\"{uncovered_program}\" is not defined; known: {}",
                names(programs.keys())
            ),
        );
    }
    Intake {
        required,
        uncovered_program: uncovered_program.clone(),
    }
}

fn is_language_code(code: &str) -> bool {
    code.len() == 2 && code.chars().all(|c| c.is_ascii_lowercase())
}

fn build_calendar(
    raw: RawCalendar,
    id: &str,
    shared_holidays: &IndexMap<String, HolidayRule>,
    problems: &mut Problems<'_>,
) -> Calendar {
    let field = |name: &str| format!("calendars.{id}.{name}");
    let business_day = raw.business_day.get_ref().minutes_on(0);
    if raw.business_day.get_ref().days > 0 || business_day == 0 || business_day > 24 * 60 {
        problems.add(
            Some(raw.business_day.span()),
            field("business_day"),
            "give the length of one business day in hours and minutes, from 1m to 24h",
        );
    }

    let hours_span = raw.hours.span();
    let days = raw.hours.into_inner().into_iter().flat_map(
        |(DayKey { weekdays, .. }, DayHours(intervals))| {
            weekdays
                .into_iter()
                .map(move |weekday| (weekday, intervals.clone()))
        },
    );
    let hours = WeeklyHours::new(days).unwrap_or_else(|error: HoursError| {
        problems.add(Some(hours_span), field("hours"), error.to_string());
        WeeklyHours::default()
    });

    let mut holidays = Vec::new();
    for reference in &raw.holidays {
        match shared_holidays.get(reference.get_ref()) {
            Some(rule) => holidays.push(rule.clone()),
            None => problems.add(
                Some(reference.span()),
                field("holidays"),
                format!(
                    "no holiday rule \"{}\" in [holidays]; the rules are: {}",
                    reference.get_ref(),
                    names(shared_holidays.keys())
                ),
            ),
        }
    }
    holidays.extend(raw.local_holidays.into_iter().map(|holiday| holiday.0));
    holidays.extend(raw.closed_dates.into_iter().map(|closed| HolidayRule {
        name: closed.name,
        date: HolidayDate::Once(closed.date.0),
        observed: Observed::OnTheDay,
        from_year: None,
        until_year: None,
    }));

    Calendar::new(CalendarSpec {
        name: id.to_string(),
        title: raw.name,
        time_zone: raw.time_zone.into_inner().0,
        hours,
        business_day_minutes: u32::try_from(business_day).unwrap_or(0),
        holidays,
    })
}

fn build_region(
    raw: RawRegion,
    id: &str,
    calendars: &IndexMap<String, Calendar>,
    languages: &Languages,
    problems: &mut Problems<'_>,
) -> Region {
    let field = |name: &str| format!("regions.{id}.{name}");
    let time_zone = raw.time_zone.get_ref().0.clone();
    match calendars.get(raw.calendar.get_ref()) {
        None => problems.add(
            Some(raw.calendar.span()),
            field("calendar"),
            format!(
                "no calendar \"{}\"; the calendars are: {}",
                raw.calendar.get_ref(),
                names(calendars.keys())
            ),
        ),
        Some(calendar) if calendar.time_zone().iana_name() != time_zone.iana_name() => problems
            .add(
                Some(raw.time_zone.span()),
                field("time_zone"),
                format!(
                    "the region's time zone {} differs from its calendar's ({})",
                    time_zone.iana_name().unwrap_or("?"),
                    calendar.time_zone().iana_name().unwrap_or("?")
                ),
            ),
        Some(_) => {}
    }
    let mut region_languages = Vec::new();
    for language in &raw.languages {
        if languages.supported.contains(language.get_ref()) {
            region_languages.push(language.get_ref().clone());
        } else {
            problems.add(
                Some(language.span()),
                field("languages"),
                format!(
                    "\"{}\" is not one of languages.supported ({})",
                    language.get_ref(),
                    languages.supported.join(", ")
                ),
            );
        }
    }
    Region {
        name: raw.name,
        office: raw.office,
        time_zone,
        calendar: raw.calendar.into_inner(),
        languages: region_languages,
    }
}

struct Context<'a> {
    programs: &'a IndexMap<String, Program>,
    severities: &'a IndexMap<String, Severity>,
    product_lines: &'a IndexMap<String, ProductLine>,
    regions: &'a IndexMap<String, Region>,
    calendars: &'a IndexMap<String, Calendar>,
    languages: &'a Languages,
}

fn build_coverage_rule(
    raw: RawCoverage,
    index: usize,
    context: &Context<'_>,
    problems: &mut Problems<'_>,
) -> CoverageRule {
    let field = |name: &str| format!("coverage[{index}].{name}");
    let mut check = |list: &[Spanned<String>], name: &str, known: Vec<&String>| {
        for item in list {
            if !known.contains(&item.get_ref()) {
                problems.add(
                    Some(item.span()),
                    field(name),
                    format!(
                        "\"{}\" is not defined; known: {}",
                        item.get_ref(),
                        names(known.iter().copied())
                    ),
                );
            }
        }
    };
    check(&raw.programs, "programs", context.programs.keys().collect());
    check(
        &raw.severities,
        "severities",
        context.severities.keys().collect(),
    );
    check(
        &raw.product_lines,
        "product_lines",
        context.product_lines.keys().collect(),
    );

    let rule = CoverageRule {
        name: raw.name,
        programs: raw.programs.iter().map(|p| p.get_ref().clone()).collect(),
        severities: raw.severities.iter().map(|s| s.get_ref().clone()).collect(),
        product_lines: raw
            .product_lines
            .iter()
            .map(|l| l.get_ref().clone())
            .collect(),
        calendar: raw.calendar.get_ref().clone(),
        after_hours_language: raw
            .after_hours_language
            .as_ref()
            .map(|l| l.get_ref().clone()),
    };
    let mut missing: Vec<String> = context
        .regions
        .keys()
        .map(|region| rule.calendar_in(region))
        .filter(|name| !context.calendars.contains_key(name))
        .collect();
    missing.dedup();
    if !missing.is_empty() {
        problems.add(
            Some(raw.calendar.span()),
            field("calendar"),
            format!(
                "names no existing calendar: {} (\"{{region}}\" stands for each region)",
                missing.join(", ")
            ),
        );
    }
    if let Some(language) = &raw.after_hours_language
        && !context.languages.supported.contains(language.get_ref())
    {
        problems.add(
            Some(language.span()),
            field("after_hours_language"),
            format!(
                "\"{}\" is not one of languages.supported",
                language.get_ref()
            ),
        );
    }
    rule
}

fn names<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    keys.map(String::as_str).collect::<Vec<_>>().join(", ")
}
