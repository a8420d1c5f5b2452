//! The checks a ticket passes on its way in (POLICY.md §1, §3, §5, §7): cover, the serial
//! number, the support scope of its version, custom programming, the required information,
//! its language and the hours its clocks start in.
//!
//! Each check gives a reason a person can read. What a check finds is either a refusal (on
//! a channel with `strict_intake`, the customer's own portal form) or a flag recorded on
//! the ticket (the phone, entered by an advisor), never a silent drop.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::CalendarError;
use crate::policy::{Policy, TicketProfile, UnknownName};
use crate::reason::{Reason, ReasonCode};

/// A name the policy does not know, or a calendar that cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// The fields of a ticket that `intake.required` may name (the policy checks its file
/// against them).
pub use crate::policy::INTAKE_FIELDS as FIELDS;

/// A care contract, as far as cover is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractTerms {
    pub program: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub eula_accepted: bool,
}

/// A product registered to the customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredProduct {
    pub id: i64,
    pub product_line: String,
    pub version: String,
    pub serial: String,
}

/// A release of the ticket's product line in the catalog; a higher position is newer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogRelease {
    pub version: String,
    pub position: i64,
    /// A major release (an upgrade) starts a new series; a minor one (an update) belongs to
    /// the series of the major release before it.
    pub major: bool,
    /// Withdrawn by the vendor: neither supported nor offered.
    pub retired: bool,
}

/// The person the desk talks to about the ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactPerson {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub language: String,
}

/// What the customer (or the advisor on the phone) filled in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntakeForm {
    pub description: String,
    pub severity: String,
    pub business_impact: String,
    pub product_line: String,
    pub version: String,
    pub serial: String,
    pub error_messages: Option<String>,
    pub steps_to_reproduce: Option<String>,
    pub workaround: Option<String>,
    /// The language of custom programming the request is about, if any.
    pub programming_language: Option<String>,
}

/// Everything the checks look at.
#[derive(Clone, Copy, Debug)]
pub struct IntakeRequest<'a> {
    pub channel: &'a str,
    /// The customer's region.
    pub region: &'a str,
    pub contracts: &'a [ContractTerms],
    pub products: &'a [RegisteredProduct],
    /// The catalog of the form's product line.
    pub releases: &'a [CatalogRelease],
    pub contact: Option<&'a ContactPerson>,
    pub form: &'a IntakeForm,
    pub now: Timestamp,
    /// The channel's strictness waived: the request came by e-mail, which cannot fill in a
    /// form, so what is missing is flagged for the advisor to ask, not refused.
    pub lenient: bool,
}

/// Something the desk records about a ticket it took in despite a problem.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum IntakeFlag {
    /// No valid care contract with an accepted licence: recorded, answered, not covered.
    NotCovered { reason: String, remedy: String },
    /// The serial number is not one of the customer's registered products.
    SerialNotRegistered { serial: String, reason: String },
    /// The version is not one of the most recent releases of its line.
    OutsideSupportScope {
        version: String,
        supported: Vec<String>,
        reason: String,
    },
    /// Required information is missing; the advisor asks the customer for it.
    Incomplete { missing: Vec<String> },
    /// The catalog holds no current release of the line: whether the version is in
    /// support scope is unknown, and the advisor checks it.
    ScopeNotChecked {
        product_line: String,
        version: String,
        reason: String,
    },
    /// Not a problem but a request: the customer asks for a release of a line without an
    /// online update manager (POLICY.md §9), which the advisor delivers. Whether its clocks
    /// may breach is the policy's `activation.update_requests_breach`.
    UpdateRequest {
        serial: String,
        /// The version the product runs.
        installed: String,
        /// The release asked for.
        requested: String,
    },
}

impl IntakeFlag {
    /// Every flag's name, as `name` gives it.
    pub const NAMES: [&'static str; 6] = [
        "not_covered",
        "serial_not_registered",
        "outside_support_scope",
        "incomplete",
        "scope_not_checked",
        "update_request",
    ];

    /// Whether the customer is told about it: what they can act on (their cover, their
    /// serial, their version, what they did not say), not the desk's own gaps.
    pub fn concerns_customer(&self) -> bool {
        !matches!(self, IntakeFlag::ScopeNotChecked { .. })
    }

    pub fn name(&self) -> &'static str {
        match self {
            IntakeFlag::NotCovered { .. } => "not_covered",
            IntakeFlag::SerialNotRegistered { .. } => "serial_not_registered",
            IntakeFlag::OutsideSupportScope { .. } => "outside_support_scope",
            IntakeFlag::Incomplete { .. } => "incomplete",
            IntakeFlag::ScopeNotChecked { .. } => "scope_not_checked",
            IntakeFlag::UpdateRequest { .. } => "update_request",
        }
    }
}

/// Why a ticket is refused: a field and the reason, or the customer's cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub reason: Reason,
}

/// The ticket's language, and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageChoice {
    pub language: String,
    pub reason: String,
}

/// What the checks decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntakeOutcome {
    /// Open a support ticket, with these flags.
    Ticket(TicketIntake),
    /// Custom programming in a language the products do not speak natively: a paid
    /// professional-services request, not a support ticket.
    ProfessionalServices { language: String, reason: String },
    /// Refused on a strict channel. Field problems come first; `not_covered` is the
    /// customer's cover, with what to do about it.
    Refused {
        fields: Vec<Refusal>,
        not_covered: Option<Refusal>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketIntake {
    /// The program the ticket is worked under.
    pub program: String,
    /// The registered product the serial number names, when it is the customer's.
    pub product_id: Option<i64>,
    pub flags: Vec<IntakeFlag>,
}

/// Who opens a ticket, as the intake rules see them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opener {
    /// A customer's contact: for its own organisation, through the portal.
    Contact { id: i64, customer_id: i64 },
    /// Staff: for whichever customer they name, by any channel.
    Staff,
}

/// What every form must get right before the customer's records are read: the names the
/// clocks stand on, a subject and a description, and whose ticket it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub channel: &'a str,
    pub severity: &'a str,
    pub product_line: &'a str,
    pub subject: &'a str,
    pub description: &'a str,
    pub customer_id: Option<i64>,
    pub contact_id: Option<i64>,
}

/// The longest subject a ticket takes, in characters.
pub const SUBJECT_MAX_CHARS: usize = 200;

/// Whose ticket a form is for, once its envelope is right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addressee {
    pub customer_id: i64,
    /// The contact named (a contact's own id when it names none); `None`: the customer's.
    pub contact_id: Option<i64>,
}

/// Why an envelope is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvelopeRefusal {
    /// Not the opener's to open (another organisation's ticket).
    Forbidden(String),
    /// Every faulty field, each with its reason.
    Fields(Vec<Refusal>),
}

/// Checks the envelope of a form opened by `opener`: every faulty field at once.
pub fn check_envelope(
    policy: &Policy,
    opener: Opener,
    envelope: &Envelope<'_>,
) -> Result<Addressee, EnvelopeRefusal> {
    let mut fields = Vec::new();
    let mut refuse = |field: &'static str, reason: Reason| fields.push(Refusal { field, reason });
    if let Err(unknown) = policy.channel(envelope.channel) {
        refuse("channel", Reason::invalid(unknown.to_string()));
    }
    if let Err(unknown) = policy.severity(envelope.severity) {
        refuse("severity", Reason::invalid(unknown.to_string()));
    }
    if let Err(unknown) = policy.product_line(envelope.product_line) {
        refuse("product_line", Reason::invalid(unknown.to_string()));
    }
    for (field, text) in [
        ("subject", envelope.subject),
        ("description", envelope.description),
    ] {
        if text.trim().is_empty() {
            refuse(field, Reason::required());
        }
    }
    if envelope.subject.chars().count() > SUBJECT_MAX_CHARS {
        refuse("subject", Reason::too_long(SUBJECT_MAX_CHARS));
    }
    let addressee = match opener {
        Opener::Contact { id, customer_id } => {
            if envelope
                .customer_id
                .is_some_and(|named| named != customer_id)
            {
                return Err(EnvelopeRefusal::Forbidden(
                    "a contact opens tickets for its own organisation only".into(),
                ));
            }
            if envelope.channel != "portal" && policy.channel("portal").is_ok() {
                refuse(
                    "channel",
                    Reason::invalid("customers open tickets through the portal"),
                );
            }
            Some(Addressee {
                customer_id,
                contact_id: Some(envelope.contact_id.unwrap_or(id)),
            })
        }
        Opener::Staff => match envelope.customer_id {
            Some(customer_id) => Some(Addressee {
                customer_id,
                contact_id: envelope.contact_id,
            }),
            None => {
                refuse(
                    "customer_id",
                    Reason::invalid("staff must say which customer the ticket is for"),
                );
                None
            }
        },
    };
    match addressee {
        Some(addressee) if fields.is_empty() => Ok(addressee),
        _ => Err(EnvelopeRefusal::Fields(fields)),
    }
}

/// A contact of the customer, as far as choosing one goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownContact {
    pub id: i64,
    pub designated: bool,
}

/// The contact a ticket is for: the one named, which must be the customer's; else the
/// customer's designated contact, else its first; `None` for a customer without contacts.
pub fn contact_for(named: Option<i64>, contacts: &[KnownContact]) -> Result<Option<i64>, Refusal> {
    match named {
        Some(id) if contacts.iter().any(|contact| contact.id == id) => Ok(Some(id)),
        Some(_) => Err(Refusal {
            field: "contact_id",
            reason: Reason::invalid("not a contact of this customer"),
        }),
        None => Ok(contacts
            .iter()
            .find(|contact| contact.designated)
            .or(contacts.first())
            .map(|contact| contact.id)),
    }
}

/// Runs every intake check of the policy.
pub fn assess(policy: &Policy, request: &IntakeRequest<'_>) -> Result<IntakeOutcome, UnknownName> {
    let channel = policy.channel(request.channel)?;
    let region = policy.region(request.region)?;
    let form = request.form;

    if let Some(language) = form.programming_language.as_deref().map(str::trim)
        && !language.is_empty()
        && !is_native(policy, language)
    {
        return Ok(IntakeOutcome::ProfessionalServices {
            language: language.to_string(),
            reason: format!(
                "custom programming in {language} is a professional-services request: support covers {} only",
                policy.scope.native_programming_languages.join(", ")
            ),
        });
    }

    let missing = missing_fields(policy, request);
    let cover = cover(request.contracts, region.today(request.now));
    let serial = check_serial(request);
    let scope = check_scope(policy, form, request.releases);

    if channel.strict_intake && !request.lenient {
        let mut fields: Vec<Refusal> = missing
            .iter()
            .map(|field| Refusal {
                field: field_name(field),
                reason: match field.split_once('.') {
                    // The parts missing are named, in the policy's words, until they have a
                    // code of their own.
                    Some((_, parts)) => Reason::invalid(format!(
                        "required; missing its {}",
                        parts.replace('+', ", ")
                    )),
                    None => Reason::new(ReasonCode::Required, "required"),
                },
            })
            .collect();
        if let SerialCheck::NotRegistered(reason) = &serial {
            fields.push(Refusal {
                field: "serial",
                reason: Reason::invalid(reason.clone()),
            });
        }
        let not_covered = match &cover {
            Cover::Covered(_) => None,
            Cover::NotCovered {
                reason,
                remedy,
                licence_pending,
            } => Some(Refusal {
                field: "contract",
                reason: Reason::new(
                    if *licence_pending {
                        ReasonCode::LicenceNotAccepted
                    } else {
                        ReasonCode::Invalid
                    },
                    format!("{reason}; {remedy}"),
                ),
            }),
        };
        if !fields.is_empty() || not_covered.is_some() {
            return Ok(IntakeOutcome::Refused {
                fields,
                not_covered,
            });
        }
    }

    let mut flags = Vec::new();
    let program = match cover {
        Cover::Covered(program) => program,
        Cover::NotCovered { reason, remedy, .. } => {
            flags.push(IntakeFlag::NotCovered { reason, remedy });
            policy.intake.uncovered_program.clone()
        }
    };
    let product_id = match serial {
        SerialCheck::Registered(id) => Some(id),
        SerialCheck::NotRegistered(reason) => {
            flags.push(IntakeFlag::SerialNotRegistered {
                serial: form.serial.trim().to_string(),
                reason,
            });
            None
        }
        SerialCheck::NotGiven => None,
    };
    if let Some(flag) = scope {
        flags.push(flag);
    }
    if !missing.is_empty() {
        flags.push(IntakeFlag::Incomplete { missing });
    }
    Ok(IntakeOutcome::Ticket(TicketIntake {
        program,
        product_id,
        flags,
    }))
}

/// The ticket's language (POLICY.md §1, §7): the contact's own if the region supports it,
/// else the fallback; after hours on an extended calendar, the rule's after-hours language.
pub fn choose_language(
    policy: &Policy,
    region_id: &str,
    preferred: &str,
    after_hours_language: Option<&str>,
) -> Result<LanguageChoice, UnknownName> {
    let region = policy.region(region_id)?;
    if let Some(language) = after_hours_language {
        return Ok(LanguageChoice {
            language: language.to_string(),
            reason: format!(
                "opened after the {} office's hours on extended cover, which is delivered in {language}",
                region.office
            ),
        });
    }
    Ok(if region.languages.iter().any(|l| l == preferred) {
        LanguageChoice {
            language: preferred.to_string(),
            reason: format!(
                "the contact's preferred language, spoken in the {} office",
                region.office
            ),
        }
    } else {
        LanguageChoice {
            language: policy.languages.fallback.clone(),
            reason: format!(
                "the contact prefers \"{preferred}\", which the {} office does not support ({}); the fallback applies",
                region.office,
                region.languages.join(", ")
            ),
        }
    })
}

/// When and on which calendar a ticket's clocks run, told to the customer at intake.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageWindow {
    pub calendar: String,
    /// The coverage rule that chose an extended calendar, if one did.
    pub rule: Option<String>,
    /// Whether the ticket's calendar is open at intake.
    pub open_now: bool,
    /// When the clocks start: intake itself, or the next opening.
    pub clocks_start_at: Timestamp,
    /// Opened outside the office's own hours, on an extended calendar that is open: the
    /// after-hours language and the on-call advisor apply.
    pub after_hours: bool,
    pub after_hours_language: Option<String>,
    /// What the customer is told.
    pub notice: String,
}

/// The coverage window of a ticket opened at `now` (POLICY.md §1, §5).
pub fn coverage_window(
    policy: &Policy,
    profile: &TicketProfile<'_>,
    now: Timestamp,
) -> Result<CoverageWindow, IntakeError> {
    let choice = policy.calendar_for(profile)?;
    let region = policy.region(profile.region)?;
    let office = policy.calendar(&region.calendar)?;
    let calendar_name = choice.rule.map_or_else(
        || region.calendar.clone(),
        |rule| rule.calendar_in(profile.region),
    );
    let open_now = choice.calendar.is_open(now)?;
    let clocks_start_at = choice.calendar.next_open(now)?;
    let after_hours = open_now && choice.rule.is_some() && !office.is_open(now)?;
    let after_hours_language = if after_hours {
        choice
            .rule
            .and_then(|rule| rule.after_hours_language.clone())
    } else {
        None
    };
    let local = |at: Timestamp| {
        at.to_zoned_datetime(region.time_zone.clone())
            .strftime("%A %Y-%m-%d %H:%M %Z")
            .to_string()
    };
    let notice = if !open_now {
        format!(
            "The {} office is closed now; the clocks of this ticket start when it opens, {}.",
            region.office,
            local(clocks_start_at)
        )
    } else if after_hours {
        format!(
            "Opened outside the {} office's hours under {}: worked now by the advisor on call{}.",
            region.office,
            choice
                .rule
                .map_or("extended cover", |rule| rule.name.as_str()),
            after_hours_language
                .as_deref()
                .map(|language| format!(", in {language}"))
                .unwrap_or_default()
        )
    } else {
        format!(
            "The {} office is open; the clocks start now.",
            region.office
        )
    };
    Ok(CoverageWindow {
        calendar: calendar_name,
        rule: choice.rule.map(|rule| rule.name.clone()),
        open_now,
        clocks_start_at,
        after_hours,
        after_hours_language,
        notice,
    })
}

/// The versions in support scope: the most recent releases of the line that are not
/// retired, newest first.
pub fn supported_versions(policy: &Policy, releases: &[CatalogRelease]) -> Vec<String> {
    let mut newest_first: Vec<&CatalogRelease> =
        releases.iter().filter(|release| !release.retired).collect();
    newest_first.sort_by_key(|release| std::cmp::Reverse(release.position));
    newest_first
        .into_iter()
        .take(usize::from(policy.scope.supported_releases))
        .map(|release| release.version.clone())
        .collect()
}

fn is_native(policy: &Policy, language: &str) -> bool {
    policy
        .scope
        .native_programming_languages
        .iter()
        .any(|native| native.eq_ignore_ascii_case(language))
}

/// A customer's care on a day: the program it is covered by, or why not and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cover {
    Covered(String),
    NotCovered {
        reason: String,
        remedy: String,
        /// A current contract is there, its licence agreement not accepted yet: accepting
        /// it (the contact in the portal, a manager) is the whole remedy.
        licence_pending: bool,
    },
}

/// The latest-starting contract that is valid today with an accepted licence, or why none is.
pub fn cover(contracts: &[ContractTerms], today: Date) -> Cover {
    let current =
        |contract: &&ContractTerms| contract.starts_on <= today && today <= contract.ends_on;
    if let Some(contract) = contracts
        .iter()
        .filter(current)
        .filter(|contract| contract.eula_accepted)
        .max_by_key(|contract| contract.starts_on)
    {
        return Cover::Covered(contract.program.clone());
    }
    if contracts.iter().any(|contract| current(&contract)) {
        return Cover::NotCovered {
            reason:
                "the end-user licence agreement of the current care contract has not been accepted"
                    .into(),
            remedy: "accept the licence agreement to be covered".into(),
            licence_pending: true,
        };
    }
    match contracts
        .iter()
        .map(|contract| contract.ends_on)
        .filter(|end| *end < today)
        .max()
    {
        Some(ended) => Cover::NotCovered {
            reason: format!("the care contract ended on {ended}"),
            remedy: "renew the care contract to be covered".into(),
            licence_pending: false,
        },
        None => match contracts.iter().map(|contract| contract.starts_on).min() {
            Some(starts) => Cover::NotCovered {
                reason: format!("the care contract starts on {starts}"),
                remedy: "open the ticket once the contract has started, or call support".into(),
                licence_pending: false,
            },
            None => Cover::NotCovered {
                reason: "the customer has no care contract".into(),
                remedy: "take out a care contract to be covered".into(),
                licence_pending: false,
            },
        },
    }
}

enum SerialCheck {
    Registered(i64),
    NotRegistered(String),
    NotGiven,
}

fn check_serial(request: &IntakeRequest<'_>) -> SerialCheck {
    let serial = request.form.serial.trim();
    if serial.is_empty() {
        return SerialCheck::NotGiven;
    }
    match request
        .products
        .iter()
        .find(|product| product.serial == serial)
    {
        Some(product) if product.product_line == request.form.product_line => {
            SerialCheck::Registered(product.id)
        }
        Some(product) => SerialCheck::NotRegistered(format!(
            "serial number {serial} is registered for {}, not {}",
            product.product_line, request.form.product_line
        )),
        None => SerialCheck::NotRegistered(format!(
            "serial number {serial} is not registered to this customer; register the product first"
        )),
    }
}

fn check_scope(
    policy: &Policy,
    form: &IntakeForm,
    releases: &[CatalogRelease],
) -> Option<IntakeFlag> {
    let version = form.version.trim();
    if version.is_empty() {
        // Flagged as missing when the policy requires it.
        return None;
    }
    let supported = supported_versions(policy, releases);
    if supported.is_empty() {
        return Some(IntakeFlag::ScopeNotChecked {
            product_line: form.product_line.clone(),
            version: version.to_string(),
            reason: format!(
                "the release catalog holds no current release of {}: whether {version} is in support scope could not be checked",
                form.product_line
            ),
        });
    }
    if supported.iter().any(|v| v == version) {
        return None;
    }
    let known = releases.iter().any(|release| release.version == version);
    let reason = format!(
        "{} {version} is {}; support covers the {} most recent: {}. The advisor may advise an upgrade",
        form.product_line,
        if known {
            "not among the supported releases"
        } else {
            "not a release in the catalog"
        },
        policy.scope.supported_releases,
        supported.join(", ")
    );
    Some(IntakeFlag::OutsideSupportScope {
        version: version.to_string(),
        supported,
        reason,
    })
}

fn missing_fields(policy: &Policy, request: &IntakeRequest<'_>) -> Vec<String> {
    let form = request.form;
    let blank = |text: &str| text.trim().is_empty();
    let blank_option = |text: &Option<String>| text.as_deref().is_none_or(blank);
    policy
        .intake
        .required
        .iter()
        .filter_map(|field| {
            let missing = match field.as_str() {
                "description" => blank(&form.description),
                "severity" => blank(&form.severity),
                "business_impact" => blank(&form.business_impact),
                "product_line" => blank(&form.product_line),
                "version" => blank(&form.version),
                "serial" => blank(&form.serial),
                "error_messages" => blank_option(&form.error_messages),
                "steps_to_reproduce" => blank_option(&form.steps_to_reproduce),
                "workaround" => blank_option(&form.workaround),
                "contact" => {
                    return contact_gaps(request.contact);
                }
                _ => false,
            };
            missing.then(|| field.clone())
        })
        .collect()
}

/// The contact person must be known by name, e-mail and phone.
fn contact_gaps(contact: Option<&ContactPerson>) -> Option<String> {
    let Some(contact) = contact else {
        return Some("contact".to_string());
    };
    let gaps: Vec<&str> = [
        ("name", &contact.name),
        ("email", &contact.email),
        ("phone", &contact.phone),
    ]
    .into_iter()
    .filter(|(_, value)| value.trim().is_empty())
    .map(|(part, _)| part)
    .collect();
    (!gaps.is_empty()).then(|| format!("contact.{}", gaps.join("+")))
}

/// The static field name a missing entry refers to.
fn field_name(missing: &str) -> &'static str {
    FIELDS
        .iter()
        .copied()
        .find(|field| missing == *field || missing.starts_with(&format!("{field}.")))
        .unwrap_or("form")
}

#[cfg(test)]
mod tests;

/// Programming languages customers write custom work in, with the words and the file types
/// that name them. The products' own languages (the policy's `native_programming_languages`)
/// are never suggested.
///
/// Only words and file types that are code: "Java" alone is how a Java-based product's
/// errors read ("Java heap space"), `.jar` a driver, `.cs` and `.pl` also Czech and Polish
/// resource files, `.bat` and `.cmd` the products' own start-up scripts.
const PROGRAMMING_LANGUAGES: &[(&str, &[&str], &[&str])] = &[
    ("Python", &["python", "python3"], &["py"]),
    ("PowerShell", &["powershell"], &["ps1", "psm1"]),
    ("C#", &["c#", "csharp"], &[]),
    ("Java", &[], &["java"]),
    ("VB.NET", &["vb.net"], &["vb"]),
    ("PHP", &["php"], &["php"]),
    ("Perl", &["perl"], &[]),
    ("Ruby", &[], &["rb"]),
    ("C++", &["c++"], &["cpp"]),
    ("Bash", &["bash"], &["sh"]),
];

/// Whether `name` is one of the languages [`programming_language_named`] recognises, and
/// not one of the products' own: a form may carry it back as the customer's answer.
pub fn is_recognised_programming_language(policy: &Policy, name: &str) -> Option<&'static str> {
    PROGRAMMING_LANGUAGES
        .iter()
        .map(|(known, _, _)| *known)
        .find(|known| *known == name && !is_native(policy, known))
}

/// A programming language other than the products' own that what the customer wrote names,
/// by a word of `texts` or the type of one of `file_names`: for intake to ask whether the
/// ticket is about custom programming (POLICY.md §3, §8a), which professional services
/// cover, rather than rely on a field the customer may not fill. None when nothing does.
pub fn programming_language_named(
    policy: &Policy,
    texts: &[&str],
    file_names: &[&str],
) -> Option<&'static str> {
    let words: Vec<String> = texts
        .iter()
        .flat_map(|text| {
            text.split(|c: char| c.is_whitespace() || ",;:()[]{}<>\"'!?/\\|*=".contains(c))
        })
        .map(|word| word.trim_end_matches('.').to_lowercase())
        .filter(|word| !word.is_empty())
        .collect();
    let extensions: Vec<String> = file_names
        .iter()
        .filter_map(|name| name.rsplit_once('.'))
        .map(|(_, extension)| extension.to_lowercase())
        .collect();
    PROGRAMMING_LANGUAGES
        .iter()
        .filter(|(name, _, _)| !is_native(policy, name))
        .find(|(_, names, types)| {
            names
                .iter()
                .any(|named| words.iter().any(|word| word == named))
                || types
                    .iter()
                    .any(|kind| extensions.iter().any(|extension| extension == kind))
        })
        .map(|(name, _, _)| *name)
}
