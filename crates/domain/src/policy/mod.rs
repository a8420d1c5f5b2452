//! The support policy as data (POLICY.md): programs, channels, severities, regions, business
//! calendars, holidays and the rules that pick a ticket's calendar.
//!
//! A policy comes from a TOML file (`policy/default.toml` is built in). Loading checks every
//! field and every cross-reference; a problem is reported with the file, the line and the
//! field, and a policy that loads is consistent: every name it refers to exists.

pub mod diff;
mod file;
mod tables;

use indexmap::IndexMap;
use jiff::tz::TimeZone;

use crate::calendar::{Calendar, HolidayRule};
use crate::duration::BusinessDuration;

/// The fields of a ticket that `intake.required` may name.
pub const INTAKE_FIELDS: [&str; 10] = [
    "description",
    "severity",
    "business_impact",
    "product_line",
    "version",
    "serial",
    "contact",
    "error_messages",
    "steps_to_reproduce",
    "workaround",
];

pub use file::{PolicyError, PolicyProblem};
pub use tables::{PolicyTable, policy_tables};

/// The policy shipped with caredesk, as text.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../../../../policy/default.toml");
/// How the built-in policy is named in messages.
pub const DEFAULT_POLICY_LABEL: &str = "built-in policy/default.toml";

#[derive(Debug)]
pub struct Policy {
    pub name: String,
    /// The file's own label for itself (`[policy] version`), if it gives one.
    pub version: Option<String>,
    /// The number of the version the desk's database keeps this policy as (its
    /// `policy_versions` row); 0 for a policy that is not kept there (a file being checked,
    /// a test's policy). Each ticket records the number its clocks were computed under.
    pub stored_as: u32,
    pub at_risk_percent: u8,
    pub languages: Languages,
    pub scope: Scope,
    pub activation: Activation,
    pub intake: Intake,
    pub consent: Consent,
    pub programs: IndexMap<String, Program>,
    pub channels: IndexMap<String, Channel>,
    /// Most severe first.
    pub severities: IndexMap<String, Severity>,
    pub product_lines: IndexMap<String, ProductLine>,
    pub regions: IndexMap<String, Region>,
    pub holidays: IndexMap<String, HolidayRule>,
    pub calendars: IndexMap<String, Calendar>,
    /// Tried in order; the first match picks the calendar (POLICY.md §5).
    pub coverage: Vec<CoverageRule>,
    /// What an advisor may decide is outside technical support (POLICY.md §8a).
    pub exclusions: IndexMap<String, Exclusion>,
}

/// A reason a problem is outside technical support (POLICY.md §8a).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exclusion {
    /// For staff: "Third-party applications or systems".
    pub title: String,
    /// What the customer reads, by language.
    pub explanations: IndexMap<String, String>,
    /// The policy's fallback language, in which an explanation always exists.
    pub fallback: String,
}

impl Exclusion {
    /// The explanation in `language`, else in the fallback language.
    pub fn explanation_in(&self, language: &str) -> &str {
        self.explanations
            .get(language)
            .or_else(|| self.explanations.get(&self.fallback))
            .map_or("", String::as_str)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Languages {
    pub supported: Vec<String>,
    pub fallback: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub supported_releases: u8,
    pub native_programming_languages: Vec<String>,
}

/// Product activation and updates (POLICY.md §9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activation {
    /// How long a one-time activation password may be used.
    pub password_valid_days: u16,
    /// What an installed product may update to while its customer has valid care.
    pub updates_with_care: UpdateRule,
    /// What it may update to without valid care.
    pub updates_without_care: UpdateRule,
    /// The severity a request for an update (of a line without an online update manager)
    /// is filed at; by default the policy's least severe.
    pub update_request_severity: String,
    /// Whether an update request's clocks may turn at risk and breach like any ticket's;
    /// otherwise their due times only guide the advisor.
    pub update_requests_breach: bool,
}

/// Which newer releases of its line an installed product is entitled to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateRule {
    /// Every release of the line: updates (minor) and upgrades (major).
    All,
    /// The releases of the major version the licence was bought for: updates only.
    WithinLicensedMajor,
    /// None.
    None,
}

impl UpdateRule {
    pub const NAMES: [&'static str; 3] = ["all", "within_licensed_major", "none"];

    pub fn parse(text: &str) -> Option<UpdateRule> {
        match text {
            "all" => Some(UpdateRule::All),
            "within_licensed_major" => Some(UpdateRule::WithinLicensedMajor),
            "none" => Some(UpdateRule::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UpdateRule::All => "all",
            UpdateRule::WithinLicensedMajor => "within_licensed_major",
            UpdateRule::None => "none",
        }
    }
}

/// What a ticket must carry, and how a customer without cover is recorded (POLICY.md §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intake {
    /// Field names, from [`INTAKE_FIELDS`].
    pub required: Vec<String>,
    /// The program a phone ticket of a customer without a valid contract is worked under
    /// (it is flagged "not covered" all the same).
    pub uncovered_program: String,
}

/// Reminders of a proposed solution that waits for the customer's answer (POLICY.md §7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    /// Business time on the ticket's calendar between the proposal (or the last reminder)
    /// and the next reminder.
    pub reminder_every: BusinessDuration,
    /// How many reminders; after the last one, one more interval of silence lists the
    /// ticket for the support manager.
    pub reminders: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub name: String,
    pub coverage: String,
    pub dedicated_csm: bool,
    pub priority_queue: bool,
    /// Each customer's designated contacts and its customer success manager get the
    /// customer's compliance report of the month just ended by e-mail.
    pub monthly_report: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub name: String,
    pub first_response: BusinessDuration,
    pub acknowledgement: bool,
    /// Refuse a ticket that misses required information or cover (the portal); otherwise
    /// record it with flags (the phone, entered by an advisor).
    pub strict_intake: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Severity {
    pub name: String,
    pub meaning: String,
    /// `None`: no resolution clock (P4: "may be fixed in the next release").
    pub resolution: Option<BusinessDuration>,
    pub resolution_note: Option<String>,
    /// `None`: no status-update clock unless agreed on the ticket.
    pub update_every: Option<BusinessDuration>,
    pub update_negotiable: bool,
    /// Worked until resolved or a workaround is found (POLICY.md §4): on an extended
    /// calendar, handed to whoever is on call when the office closes.
    pub worked_continuously: bool,
    /// A ticket worked continuously with no advisor action for this long (business time of
    /// its calendar, while it is worked, not while it waits on the customer) is escalated
    /// to the support manager.
    pub idle_alert_after: Option<BusinessDuration>,
    /// An advisor's load counts each open ticket of this severity this many times.
    pub load_weight: u32,
    /// A breached clock of this severity escalates the ticket to the support manager.
    pub escalate_on_breach: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductLine {
    pub name: String,
    /// Installed products of the line ask the desk for updates themselves; without it, an
    /// update is delivered on request (POLICY.md §9).
    pub online_update_manager: bool,
    /// The editions a licence of the line may be sold as; empty: any.
    pub editions: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Region {
    pub name: String,
    pub office: String,
    pub time_zone: TimeZone,
    pub calendar: String,
    pub languages: Vec<String>,
}

impl Region {
    /// The date at `now` in the region's office: the day contracts are read on.
    pub fn today(&self, now: jiff::Timestamp) -> jiff::civil::Date {
        now.to_zoned_datetime(self.time_zone.clone()).date()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoverageRule {
    pub name: String,
    /// Empty lists match anything.
    pub programs: Vec<String>,
    pub severities: Vec<String>,
    pub product_lines: Vec<String>,
    /// A calendar name, where "{region}" stands for the ticket's region.
    pub calendar: String,
    pub after_hours_language: Option<String>,
}

/// What a ticket is, as far as its clocks are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketProfile<'a> {
    pub program: &'a str,
    pub region: &'a str,
    pub product_line: &'a str,
    pub severity: &'a str,
    pub channel: &'a str,
}

/// The calendar a ticket's clocks run on, and why.
#[derive(Debug, Clone, Copy)]
pub struct CalendarChoice<'p> {
    pub calendar: &'p Calendar,
    /// The coverage rule that chose it; `None` when it is the region's own calendar.
    pub rule: Option<&'p CoverageRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} \"{given}\"; the policy has: {known}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub given: String,
    pub known: String,
}

impl Policy {
    /// Loads and checks a policy; `file` names the source in error messages.
    pub fn from_toml(source: &str, file: &str) -> Result<Policy, PolicyError> {
        file::load(source, file)
    }

    /// The built-in default policy.
    pub fn built_in() -> Result<Policy, PolicyError> {
        Self::from_toml(DEFAULT_POLICY_TOML, DEFAULT_POLICY_LABEL)
    }

    pub fn calendar(&self, name: &str) -> Result<&Calendar, UnknownName> {
        named(&self.calendars, name).ok_or_else(|| unknown("calendar", name, self.calendars.keys()))
    }

    pub fn program(&self, id: &str) -> Result<&Program, UnknownName> {
        named(&self.programs, id).ok_or_else(|| unknown("program", id, self.programs.keys()))
    }

    pub fn channel(&self, id: &str) -> Result<&Channel, UnknownName> {
        named(&self.channels, id).ok_or_else(|| unknown("channel", id, self.channels.keys()))
    }

    pub fn severity(&self, id: &str) -> Result<&Severity, UnknownName> {
        named(&self.severities, id).ok_or_else(|| unknown("severity", id, self.severities.keys()))
    }

    pub fn region(&self, id: &str) -> Result<&Region, UnknownName> {
        named(&self.regions, id).ok_or_else(|| unknown("region", id, self.regions.keys()))
    }

    pub fn product_line(&self, id: &str) -> Result<&ProductLine, UnknownName> {
        named(&self.product_lines, id)
            .ok_or_else(|| unknown("product line", id, self.product_lines.keys()))
    }

    /// The calendar a ticket's clocks run on (POLICY.md §5): the first coverage rule that
    /// matches, else the region's own calendar.
    pub fn calendar_for(
        &self,
        ticket: &TicketProfile<'_>,
    ) -> Result<CalendarChoice<'_>, UnknownName> {
        self.program(ticket.program)?;
        self.product_line(ticket.product_line)?;
        self.severity(ticket.severity)?;
        let region = self.region(ticket.region)?;
        let matching_rule = self.coverage.iter().find(|rule| {
            matches_any(&rule.programs, ticket.program)
                && matches_any(&rule.severities, ticket.severity)
                && matches_any(&rule.product_lines, ticket.product_line)
        });
        // Loading checked that every rule names an existing calendar for every region.
        let calendar = match matching_rule {
            Some(rule) => match rule.calendar.split_once("{region}") {
                // Without building the name: the rebuild asks this of every ticket.
                Some((before, after)) if !after.contains("{region}") => self
                    .calendars
                    .iter()
                    .find(|(name, _)| {
                        name.len() == before.len() + ticket.region.len() + after.len()
                            && name.starts_with(before)
                            && name.ends_with(after)
                            && name[before.len()..].starts_with(ticket.region)
                    })
                    .map(|(_, calendar)| calendar)
                    .ok_or_else(|| {
                        unknown(
                            "calendar",
                            &rule.calendar_in(ticket.region),
                            self.calendars.keys(),
                        )
                    })?,
                _ => self.calendar(&rule.calendar_in(ticket.region))?,
            },
            None => self.calendar(&region.calendar)?,
        };
        Ok(CalendarChoice {
            calendar,
            rule: matching_rule,
        })
    }
}

impl CoverageRule {
    /// The calendar this rule names for a ticket of `region`.
    pub fn calendar_in(&self, region: &str) -> String {
        self.calendar.replace("{region}", region)
    }
}

/// The value named `name` in one of the policy's maps. They hold a handful of names each:
/// comparing along them costs less than hashing the name, and a rebuild looks names up
/// millions of times.
fn named<'a, V>(map: &'a IndexMap<String, V>, name: &str) -> Option<&'a V> {
    map.iter()
        .find_map(|(key, value)| (key == name).then_some(value))
}

fn matches_any(list: &[String], value: &str) -> bool {
    list.is_empty() || list.iter().any(|item| item == value)
}

fn unknown<'a>(
    kind: &'static str,
    given: &str,
    known: impl Iterator<Item = &'a String>,
) -> UnknownName {
    UnknownName {
        kind,
        given: given.to_string(),
        known: known.map(String::as_str).collect::<Vec<_>>().join(", "),
    }
}

#[cfg(test)]
mod tests;
