//! The notices' templates: per kind and language a subject, a plain-text body and, if the
//! operator wants one of their own, an HTML body (otherwise the text, laid out by the
//! language's `[layout]`). Templates are minijinja; HTML output is escaped.

use std::collections::BTreeMap;
use std::path::Path;

use caredesk_domain::notify::NoticeKind;
use caredesk_domain::ticket::{ClockKind, CustomerRequest, Resolution};
use minijinja::Environment;
use serde::{Deserialize, Serialize};

/// The languages a notice can be written in; anything else falls back to the first.
pub const LANGUAGES: [&str; 6] = ["en", "fr", "es", "de", "nl", "ja"];

const BUILT_IN: [(&str, &str); 6] = [
    ("en", include_str!("../templates/en.toml")),
    ("fr", include_str!("../templates/fr.toml")),
    ("es", include_str!("../templates/es.toml")),
    ("de", include_str!("../templates/de.toml")),
    ("nl", include_str!("../templates/nl.toml")),
    ("ja", include_str!("../templates/ja.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
    #[error("{file}: [{kind}] {part}: {reason}")]
    Template {
        file: String,
        kind: String,
        part: &'static str,
        reason: String,
    },
    #[error("cannot read {file}: {reason}")]
    Read { file: String, reason: String },
}

/// One language's file: a table per notice kind, and the HTML layout. (Unknown tables are
/// refused by name after reading: `deny_unknown_fields` does not work with `flatten`.)
#[derive(Debug, Deserialize)]
struct LanguageFile {
    layout: Layout,
    terms: Terms,
    #[serde(flatten)]
    kinds: BTreeMap<String, KindTemplates>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layout {
    /// Wraps every HTML body: `{{ content }}` is the body, already HTML.
    html: String,
}

/// The words a notice's `detail` is made of, in one language.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    first_response: String,
    next_update: String,
    resolution: String,
    information: String,
    remote_access: String,
    test_in_development: String,
    permanent_fix: String,
    workaround: String,
    action_plan: String,
    recommendations: String,
    /// `{release}` stands for the release.
    planned_for_release: String,
    /// `{release}` stands for the product and version published without a planned fix.
    release_without_fix: String,
    /// `{version}` stands for the policy version whose change breached a clock. Templates
    /// written before it was worded go without it: the built-in English wording then.
    #[serde(default)]
    breached_by_policy: Option<String>,
    /// The words of the monthly report's tables (`[terms.report]`).
    pub report: ReportTerms,
}

/// The words of a customer's monthly report: the month's name and the tables' headings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportTerms {
    /// January to December.
    pub months: [String; 12],
    /// `{month}` and `{year}` stand for the month's name and the year: "{month} {year}".
    pub month_and_year: String,
    pub clock: String,
    pub first_response: String,
    pub updates: String,
    pub resolution: String,
    pub measured: String,
    pub met: String,
    pub late: String,
    pub open_within: String,
    pub open_past: String,
    pub share: String,
    pub severity: String,
    pub tickets: String,
    /// `{percent}` stands for a share with one decimal: "{percent} %".
    pub percent: String,
}

impl ReportTerms {
    /// Which word lacks the placeholder it must have, if one does: without it the number
    /// or the year would silently be left out.
    fn missing_placeholder(&self) -> Option<String> {
        [
            ("percent", &self.percent, "{percent}"),
            ("month_and_year", &self.month_and_year, "{month}"),
            ("month_and_year", &self.month_and_year, "{year}"),
        ]
        .into_iter()
        .find(|(_, text, placeholder)| !text.contains(placeholder))
        .map(|(name, _, placeholder)| format!("{name} must contain {placeholder}"))
    }

    /// A share in percent, one decimal; a hyphen for none (one column wide in every font,
    /// so text tables stay aligned).
    pub fn share(&self, percent: Option<f64>) -> String {
        percent.map_or_else(
            || "-".to_string(),
            |percent| self.percent.replace("{percent}", &format!("{percent:.1}")),
        )
    }

    /// Month `month` (1 to 12) of `year`, as "November 2026" reads in the language.
    pub fn month(&self, year: i16, month: i8) -> String {
        let name = usize::try_from(month - 1)
            .ok()
            .and_then(|index| self.months.get(index))
            .map_or_else(|| month.to_string(), Clone::clone);
        self.month_and_year
            .replace("{month}", &name)
            .replace("{year}", &year.to_string())
    }
}

impl Terms {
    pub fn clock(&self, clock: ClockKind) -> &str {
        match clock {
            ClockKind::FirstResponse => &self.first_response,
            ClockKind::NextUpdate => &self.next_update,
            ClockKind::Resolution => &self.resolution,
        }
    }

    pub fn request(&self, request: CustomerRequest) -> &str {
        match request {
            CustomerRequest::Information => &self.information,
            CustomerRequest::RemoteAccess => &self.remote_access,
            CustomerRequest::TestInDevelopment => &self.test_in_development,
        }
    }

    /// What the customer is told when the release a fix was planned for came out without it.
    pub fn release_without_fix(&self, release: &str) -> String {
        self.release_without_fix.replace("{release}", release)
    }

    /// Why a clock was breached by policy version `version`, in these words.
    pub fn breached_by_policy(&self, version: u32) -> String {
        self.breached_by_policy
            .as_deref()
            .unwrap_or(
                "Policy version {version} moved this due time into the past: the breach comes \
                 from the change of terms, recorded when the desk took the version up.",
            )
            .replace("{version}", &version.to_string())
    }

    pub fn resolution(&self, resolution: &Resolution) -> String {
        match resolution {
            Resolution::PermanentFix => self.permanent_fix.clone(),
            Resolution::Workaround => self.workaround.clone(),
            Resolution::ActionPlan => self.action_plan.clone(),
            Resolution::Recommendations => self.recommendations.clone(),
            Resolution::PlannedForRelease { release } => {
                self.planned_for_release.replace("{release}", release)
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KindTemplates {
    subject: String,
    text: String,
    html: Option<String>,
}

/// What a template can use. Instants come formatted, in the recipient's time zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MailContext {
    pub recipient_name: String,
    pub ticket_number: i64,
    pub ticket_subject: String,
    pub severity: String,
    pub severity_name: String,
    pub customer_name: String,
    /// The ticket's page for the recipient (the portal or the console).
    pub ticket_url: String,
    /// When the first response is due (acknowledgement, first_response_at_risk), the update
    /// (update_due_soon), the resolution (resolution_at_risk), or
    /// the breached clock was due (breach).
    pub due: Option<String>,
    /// The event's own text: the reply, what is asked, the proposal, the reason.
    pub body: Option<String>,
    /// The clock that ran out (breach), or what the desk waits for (waiting_on_you).
    pub detail: Option<String>,
    /// Consent reminders: which one.
    pub reminder: Option<u8>,
    /// A burst of failed sign-ins (sign_in_burst, which is of no ticket: `ticket_number` is
    /// 0 and the ticket's values are empty).
    pub sign_in: Option<SignInContext>,
    /// An answer to a community question (community_answer, of no ticket either).
    pub community: Option<CommunityContext>,
    /// A new release of a registered product (release_announced, of no ticket either).
    pub release: Option<ReleaseContext>,
    /// A customer's report of the month just ended (monthly_report, of no ticket either).
    pub monthly: Option<MonthlyContext>,
}

/// What a customer's monthly report tells its designated contacts and its customer success
/// manager. The tables come twice: as headings and rows of words for the HTML part (the
/// shared `report_table.html` lays them out), and laid out as text for the plain part.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MonthlyContext {
    pub customer_name: String,
    /// The care program's name.
    pub program: String,
    /// The month as the recipient reads it: "November 2026", "novembre 2026".
    pub month: String,
    /// Its first and last days.
    pub from: String,
    pub to: String,
    /// Tickets opened in the month.
    pub tickets: u64,
    /// Per target (first response, status updates, resolution): measured, met, late, open
    /// in time, open overdue, share met.
    pub clock_headings: Vec<String>,
    pub clocks: Vec<Vec<String>>,
    pub clocks_text: String,
    /// Per severity: tickets and the share of each target met.
    pub severity_headings: Vec<String>,
    pub severities: Vec<Vec<String>>,
    pub severities_text: String,
    /// The attached chart's file name; empty when there is none (a month without tickets).
    pub chart: String,
    /// The report's page: the portal's for a contact, the console's for staff.
    pub report_url: String,
    /// Whether the reader is the customer's success manager rather than its contact.
    pub for_staff: bool,
}

/// What a customer's contact is told of a new release its products may take.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseContext {
    /// The product line's name.
    pub product: String,
    pub version: String,
    /// A major release (an upgrade) rather than a minor one (an update).
    pub major: bool,
    pub released_on: String,
    /// The release notes in the recipient's language, else in English, else any.
    pub notes: String,
    /// Where to download it; none when it is delivered on request (the release has no
    /// download, or its line has no online update manager).
    pub download_url: Option<String>,
    pub sha256: Option<String>,
    /// The organisation's registered products it is for, comma-separated.
    pub serials: String,
    /// The portal's products page.
    pub products_url: String,
}

/// What the asker of a community question is told of a new answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CommunityContext {
    pub question_title: String,
    /// The question's page, where the answer is read, accepted or voted for.
    pub question_url: String,
    pub answered_by: String,
    /// Whether the author is on the desk's staff.
    pub by_staff: bool,
}

/// What the administrators' alert of a burst of failed sign-ins tells.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SignInContext {
    /// Where the refused attempt came from: an IP address, or an IPv6 client's /64 network.
    pub address: String,
    /// The address's failures (over all accounts), when it reached its limit.
    pub address_failures: Option<u32>,
    /// The account's failures, when it reached its limit.
    pub account_failures: Option<u32>,
    /// The account's e-mail, when it is one of the desk's accounts.
    pub account: Option<String>,
    /// The longest wait between two attempts, in minutes.
    pub longest_wait_minutes: u64,
    /// When it was refused, in the recipient's time zone.
    pub at: String,
    /// The console's staff page, where an account is deactivated.
    pub console_url: String,
}

/// A notice, written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMail {
    pub language: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Every kind in every language, checked when loaded.
pub struct Templates {
    environment: Environment<'static>,
    /// In the order of `LANGUAGES`.
    terms: Vec<Terms>,
}

impl Templates {
    /// The templates that ship with caredesk.
    pub fn built_in() -> Result<Templates, TemplateError> {
        Templates::from_files(
            BUILT_IN
                .iter()
                .map(|(language, text)| {
                    (
                        *language,
                        format!("built-in {language}.toml"),
                        text.to_string(),
                    )
                })
                .collect(),
        )
    }

    /// The built-in templates, each language replaced by `DIR/<language>.toml` when the
    /// operator put one there. A replacing file must hold every kind and the layout.
    pub fn load(directory: &Path) -> Result<Templates, TemplateError> {
        let mut files = Vec::new();
        for (language, built_in) in BUILT_IN {
            let path = directory.join(format!("{language}.toml"));
            if path.exists() {
                let text = std::fs::read_to_string(&path).map_err(|error| TemplateError::Read {
                    file: path.display().to_string(),
                    reason: error.to_string(),
                })?;
                files.push((language, path.display().to_string(), text));
            } else {
                files.push((
                    language,
                    format!("built-in {language}.toml"),
                    built_in.to_string(),
                ));
            }
        }
        Templates::from_files(files)
    }

    fn from_files(files: Vec<(&'static str, String, String)>) -> Result<Templates, TemplateError> {
        let mut environment = Environment::new();
        environment.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        environment.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in [
            (PARAGRAPHS, PARAGRAPHS_SOURCE),
            (REPORT_TABLE, REPORT_TABLE_SOURCE),
        ] {
            environment
                .add_template(name, source)
                .map_err(|error| TemplateError::File {
                    file: name.to_string(),
                    reason: error.to_string(),
                })?;
        }
        let mut terms = Vec::with_capacity(LANGUAGES.len());
        for (language, file, text) in files {
            let parsed: LanguageFile =
                toml::from_str(&text).map_err(|error| TemplateError::File {
                    file: file.clone(),
                    reason: error.to_string(),
                })?;
            let mut add = |name: String, kind: &str, part: &'static str, source: String| {
                environment
                    .add_template_owned(name, source)
                    .map_err(|error| TemplateError::Template {
                        file: file.clone(),
                        kind: kind.to_string(),
                        part,
                        reason: error.to_string(),
                    })
            };
            if let Some(reason) = parsed.terms.report.missing_placeholder() {
                return Err(TemplateError::File {
                    file,
                    reason: format!("[terms.report] {reason}"),
                });
            }
            terms.push(parsed.terms);
            add(
                format!("{language}/layout.html"),
                "layout",
                "html",
                parsed.layout.html,
            )?;
            for kind in NoticeKind::MAIL {
                let name = kind.as_str();
                let Some(templates) = parsed.kinds.get(name) else {
                    return Err(TemplateError::File {
                        file,
                        reason: format!("[{name}] is missing"),
                    });
                };
                add(
                    format!("{language}/{name}/subject.txt"),
                    name,
                    "subject",
                    templates.subject.clone(),
                )?;
                add(
                    format!("{language}/{name}/text.txt"),
                    name,
                    "text",
                    templates.text.clone(),
                )?;
                if let Some(html) = &templates.html {
                    add(
                        format!("{language}/{name}/body.html"),
                        name,
                        "html",
                        html.clone(),
                    )?;
                }
            }
            if let Some(unknown) = parsed.kinds.keys().find(|name| {
                !NoticeKind::MAIL
                    .iter()
                    .any(|kind| kind.as_str() == name.as_str())
            }) {
                return Err(TemplateError::File {
                    file,
                    reason: format!("[{unknown}] is not a kind of notice"),
                });
            }
        }
        let templates = Templates { environment, terms };
        // Every template must render with every value absent that may be absent.
        for language in LANGUAGES {
            for kind in NoticeKind::MAIL {
                templates
                    .render(kind, language, &MailContext::default())
                    .map_err(|error| TemplateError::Template {
                        file: format!("{language}.toml"),
                        kind: kind.as_str().to_string(),
                        part: "rendering",
                        reason: error.to_string(),
                    })?;
            }
        }
        Ok(templates)
    }

    /// The words of `language` (or English when caredesk has no such language).
    pub fn terms(&self, language: &str) -> &Terms {
        let index = LANGUAGES
            .iter()
            .position(|known| *known == language)
            .unwrap_or(0);
        &self.terms[index]
    }

    /// The notice `kind` in `language` (or English when caredesk has no such language).
    pub fn render(
        &self,
        kind: NoticeKind,
        language: &str,
        context: &MailContext,
    ) -> Result<RenderedMail, minijinja::Error> {
        let language = LANGUAGES
            .into_iter()
            .find(|known| *known == language)
            .unwrap_or(LANGUAGES[0]);
        let name = kind.as_str();
        let render = |template: &str, context: minijinja::Value| {
            self.environment.get_template(template)?.render(context)
        };
        let values = minijinja::Value::from_serialize(context);
        let subject = render(&format!("{language}/{name}/subject.txt"), values.clone())?;
        let text = render(&format!("{language}/{name}/text.txt"), values.clone())?;
        let own_html = format!("{language}/{name}/body.html");
        let content = if self.environment.get_template(&own_html).is_ok() {
            render(&own_html, values.clone())?
        } else {
            let paragraphs: Vec<Vec<&str>> = text
                .trim()
                .split("\n\n")
                .map(|paragraph| paragraph.trim().lines().collect())
                .collect();
            render(PARAGRAPHS, minijinja::context! { paragraphs })?
        };
        let html = render(
            &format!("{language}/layout.html"),
            minijinja::context! { content => minijinja::Value::from_safe_string(content), ..values },
        )?;
        Ok(RenderedMail {
            language,
            // A subject is one line, whatever the template's whitespace.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: text.trim().to_string() + "\n",
            html,
        })
    }
}

/// Plain text laid out as HTML paragraphs (escaped, as every `.html` template's output).
const PARAGRAPHS: &str = "paragraphs.html";
const PARAGRAPHS_SOURCE: &str = "{% for paragraph in paragraphs %}<p>\
{% for line in paragraph %}{{ line }}{% if not loop.last %}<br>\n{% endif %}{% endfor %}</p>\n\
{% endfor %}";

/// A table of `headings` and `rows` (the first cell of each row heads it), for the HTML
/// part of a notice: `{% with headings = …, rows = … %}{% include "report_table.html" %}`.
const REPORT_TABLE: &str = "report_table.html";
const REPORT_TABLE_SOURCE: &str = "<table style=\"border-collapse: collapse; margin: 0.5em 0 1em\">\n\
<thead><tr>{% for heading in headings %}<th scope=\"col\" style=\"border-bottom: 1px solid #767676; \
padding: 0.2em 0.6em; text-align: {% if loop.first %}left{% else %}right{% endif %}\">{{ heading }}</th>\
{% endfor %}</tr></thead>\n<tbody>\n{% for row in rows %}<tr>{% for cell in row %}{% if loop.first %}\
<th scope=\"row\" style=\"padding: 0.2em 0.6em; text-align: left; font-weight: normal\">{{ cell }}</th>\
{% else %}<td style=\"padding: 0.2em 0.6em; text-align: right\">{{ cell }}</td>{% endif %}{% endfor %}</tr>\n\
{% endfor %}</tbody></table>\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> MailContext {
        MailContext {
            recipient_name: "Ada".into(),
            ticket_number: 42,
            ticket_subject: "Invoices <stopped> printing".into(),
            severity: "P2".into(),
            severity_name: "High".into(),
            customer_name: "Acme".into(),
            ticket_url: "https://desk.example/portal/tickets/42".into(),
            due: Some("Tuesday 24 November 2026, 09:30 (Europe/Amsterdam)".into()),
            body: Some("Restart the spooler & try again.".into()),
            detail: None,
            reminder: None,
            sign_in: None,
            community: None,
            release: None,
            monthly: None,
        }
    }

    #[test]
    fn every_kind_renders_in_every_language() {
        let templates = Templates::built_in().unwrap();
        for language in LANGUAGES {
            for kind in NoticeKind::MAIL
                .into_iter()
                .filter(NoticeKind::is_of_a_ticket)
            {
                let mail = templates.render(kind, language, &context()).unwrap();
                assert_eq!(mail.language, language);
                assert!(
                    mail.subject.contains("#42"),
                    "{language} {kind:?}: {}",
                    mail.subject
                );
                assert!(!mail.subject.contains('\n'));
                // Each names the ticket, by number or by subject.
                assert!(
                    mail.text.contains("42") || mail.text.contains("Invoices <stopped>"),
                    "{language} {kind:?}"
                );
                assert!(mail.html.contains(&format!("lang=\"{language}\"")));
            }
        }
    }

    #[test]
    fn the_acknowledgement_says_what_the_customer_needs() {
        let templates = Templates::built_in().unwrap();
        let mail = templates
            .render(NoticeKind::Acknowledgement, "en", &context())
            .unwrap();
        assert_eq!(
            mail.subject,
            "[#42] We received your request: Invoices <stopped> printing"
        );
        assert!(
            mail.text
                .contains("Its number is 42 and its severity P2 (High).")
        );
        assert!(
            mail.text
                .contains("An advisor will answer by Tuesday 24 November 2026, 09:30")
        );
        // Text is escaped in HTML, never interpreted.
        assert!(mail.html.contains("Invoices &lt;stopped&gt; printing"));
        assert!(!mail.html.contains("<stopped>"));
        let french = templates
            .render(NoticeKind::UpdateDueSoon, "fr", &context())
            .unwrap();
        assert!(french.subject.contains("Point sur l'état d'avancement"));
    }

    #[test]
    fn the_asker_hears_of_an_answer_in_every_language() {
        let templates = Templates::built_in().unwrap();
        let answered = MailContext {
            recipient_name: "Ana".into(),
            community: Some(CommunityContext {
                question_title: "Spooler <stops> at night".into(),
                question_url: "https://desk.example/community/questions/7".into(),
                answered_by: "Bo Berg".into(),
                by_staff: true,
            }),
            ..MailContext::default()
        };
        for language in LANGUAGES {
            let mail = templates
                .render(NoticeKind::CommunityAnswer, language, &answered)
                .unwrap();
            assert!(
                mail.subject.contains("Spooler <stops> at night"),
                "{language}"
            );
            for told in [
                "Ana",
                "Bo Berg",
                "Spooler <stops> at night",
                "https://desk.example/community/questions/7",
            ] {
                assert!(
                    mail.text.contains(told),
                    "{language}: {told}\n{}",
                    mail.text
                );
            }
            assert!(
                mail.html.contains("Spooler &lt;stops&gt; at night"),
                "{language}"
            );
            assert!(!mail.text.contains("#0"), "{language}");
        }
        let by_a_peer = MailContext {
            community: answered
                .community
                .clone()
                .map(|community| CommunityContext {
                    by_staff: false,
                    ..community
                }),
            ..answered
        };
        let mail = templates
            .render(NoticeKind::CommunityAnswer, "en", &by_a_peer)
            .unwrap();
        assert!(
            mail.text.contains("Bo Berg answered your question"),
            "{}",
            mail.text
        );
    }

    #[test]
    fn a_new_release_is_announced_in_every_language() {
        let templates = Templates::built_in().unwrap();
        let announced = MailContext {
            recipient_name: "Ana".into(),
            release: Some(ReleaseContext {
                product: "OL Connect".into(),
                version: "2027.1".into(),
                major: true,
                released_on: "2027-01-12".into(),
                notes: "A new <designer>.".into(),
                download_url: Some("https://downloads.example/ol-connect-2027.1.zip".into()),
                sha256: Some("ab".repeat(32)),
                serials: "OLC-00042, OLC-00043".into(),
                products_url: "https://desk.example/portal/products".into(),
            }),
            ..MailContext::default()
        };
        for language in LANGUAGES {
            let mail = templates
                .render(NoticeKind::ReleaseAnnounced, language, &announced)
                .unwrap();
            assert!(mail.subject.contains("OL Connect 2027.1"), "{language}");
            for told in [
                "Ana",
                "A new <designer>.",
                "OLC-00042, OLC-00043",
                "https://downloads.example/ol-connect-2027.1.zip",
                &"ab".repeat(32),
                "https://desk.example/portal/products",
            ] {
                assert!(
                    mail.text.contains(told),
                    "{language}: {told}\n{}",
                    mail.text
                );
            }
            assert!(mail.html.contains("A new &lt;designer&gt;."), "{language}");
            assert!(!mail.text.contains("#0"), "{language}");
        }
        let on_request = MailContext {
            release: announced.release.clone().map(|release| ReleaseContext {
                download_url: None,
                sha256: None,
                ..release
            }),
            ..announced
        };
        let mail = templates
            .render(NoticeKind::ReleaseAnnounced, "en", &on_request)
            .unwrap();
        assert!(mail.text.contains("on request"), "{}", mail.text);
    }

    #[test]
    fn the_monthly_report_gives_its_tables_in_every_language() {
        let templates = Templates::built_in().unwrap();
        for language in LANGUAGES {
            let words = &templates.terms(language).report;
            let clock_headings = vec![words.clock.clone(), words.met.clone()];
            let clocks = vec![vec![words.first_response.clone(), "<7>".to_string()]];
            let context = MailContext {
                recipient_name: "Ana".into(),
                monthly: Some(MonthlyContext {
                    customer_name: "Acme & Sons".into(),
                    program: "Gold".into(),
                    month: words.month(2026, 11),
                    from: "2026-11-01".into(),
                    to: "2026-11-30".into(),
                    tickets: 9,
                    clocks_text: format!("{}  {}\nthe clocks' table\n", words.clock, words.met),
                    clock_headings,
                    clocks,
                    severity_headings: vec![words.severity.clone()],
                    severities: vec![vec!["P1 Critical".into()]],
                    severities_text: "the severities' table\n".into(),
                    chart: "support-report-2026-11.svg".into(),
                    report_url: "https://desk.example/portal/reports?from=2026-11-01&to=2026-11-30"
                        .into(),
                    for_staff: false,
                }),
                ..MailContext::default()
            };
            let mail = templates
                .render(NoticeKind::MonthlyReport, language, &context)
                .unwrap();
            assert!(mail.subject.contains(&words.month(2026, 11)), "{language}");
            assert!(mail.subject.contains("Acme & Sons"), "{language}");
            for told in [
                "Ana",
                "Acme & Sons",
                "Gold",
                "2026-11-01",
                "9",
                "the clocks' table",
                "the severities' table",
                "support-report-2026-11.svg",
                "https://desk.example/portal/reports?from=2026-11-01&to=2026-11-30",
            ] {
                assert!(
                    mail.text.contains(told),
                    "{language}: {told}\n{}",
                    mail.text
                );
            }
            // The HTML part has the tables as tables, their words escaped.
            assert!(mail.html.contains("<table"), "{language}");
            assert!(
                mail.html.contains(&format!("<th scope=\"col\" style=\"border-bottom: 1px solid #767676; padding: 0.2em 0.6em; text-align: left\">{}</th>", words.clock)),
                "{language}: {}",
                mail.html
            );
            assert!(mail.html.contains("&lt;7&gt;") && !mail.html.contains("<7>"));
            assert!(mail.html.contains("Acme &amp; Sons"), "{language}");
            assert!(!mail.text.contains("#0"), "{language}");

            // A month without tickets says so, without tables.
            let quiet = MailContext {
                monthly: context.monthly.clone().map(|monthly| MonthlyContext {
                    tickets: 0,
                    chart: String::new(),
                    ..monthly
                }),
                ..context
            };
            let mail = templates
                .render(NoticeKind::MonthlyReport, language, &quiet)
                .unwrap();
            assert!(!mail.text.contains("the clocks' table"), "{language}");
            assert!(!mail.html.contains("<table"), "{language}");
            assert!(mail.text.contains(&words.month(2026, 11)), "{language}");
        }
        // A Japanese customer is greeted as one, their success manager as staff.
        let to_japanese = |for_staff: bool| MailContext {
            recipient_name: "Sato".into(),
            monthly: Some(MonthlyContext {
                for_staff,
                ..MonthlyContext::default()
            }),
            ..MailContext::default()
        };
        let customer = templates
            .render(NoticeKind::MonthlyReport, "ja", &to_japanese(false))
            .unwrap();
        assert!(customer.text.starts_with("Sato 様\n"), "{}", customer.text);
        let staff = templates
            .render(NoticeKind::MonthlyReport, "ja", &to_japanese(true))
            .unwrap();
        assert!(staff.text.starts_with("Sato さん\n"), "{}", staff.text);

        let english = &templates.terms("en").report;
        assert_eq!(english.month(2026, 11), "November 2026");
        assert_eq!(templates.terms("fr").report.month(2027, 2), "février 2027");
        assert_eq!(templates.terms("es").report.month(2027, 1), "enero de 2027");
        assert_eq!(templates.terms("ja").report.month(2026, 11), "2026年11月");
        assert_eq!(english.share(Some(91.66)), "91.7%");
        assert_eq!(templates.terms("fr").report.share(Some(100.0)), "100.0 %");
        assert_eq!(english.share(None), "-");
    }

    #[test]
    fn the_sign_in_alert_tells_what_was_throttled_in_every_language() {
        let templates = Templates::built_in().unwrap();
        let alert = MailContext {
            recipient_name: "Ada".into(),
            sign_in: Some(SignInContext {
                address: "2001:db8:1:2::/64".into(),
                address_failures: Some(23),
                account_failures: Some(7),
                account: Some("ana@acme.example".into()),
                longest_wait_minutes: 15,
                at: "2026-12-04 11:00 CET (Europe/Paris)".into(),
                console_url: "https://desk.example/console/staff".into(),
            }),
            ..MailContext::default()
        };
        for language in LANGUAGES {
            let mail = templates
                .render(NoticeKind::SignInBurst, language, &alert)
                .unwrap();
            assert!(mail.subject.contains("2001:db8:1:2::/64"), "{language}");
            for told in [
                "ana@acme.example",
                "23",
                "7",
                "15",
                "2026-12-04 11:00 CET",
                "https://desk.example/console/staff",
            ] {
                assert!(
                    mail.text.contains(told),
                    "{language}: {told}\n{}",
                    mail.text
                );
            }
            assert!(!mail.text.contains("\n\n\n"), "{language}:\n{}", mail.text);
            // No ticket's footer, in any language.
            assert!(!mail.html.contains("color: #555") && !mail.text.contains("#0"));
        }
        // An e-mail of nobody's is not repeated, and an address under its limit is the
        // attempt's origin only.
        let unknown = MailContext {
            sign_in: Some(SignInContext {
                address_failures: None,
                account: None,
                ..alert.sign_in.clone().unwrap()
            }),
            ..alert
        };
        let mail = templates
            .render(NoticeKind::SignInBurst, "en", &unknown)
            .unwrap();
        assert!(
            mail.text
                .contains("An e-mail that belongs to no account: 7 failed attempts"),
            "{}",
            mail.text
        );
        assert!(
            mail.text
                .contains("The last attempt came from 2001:db8:1:2::/64.")
        );
    }

    #[test]
    fn an_unknown_language_falls_back_to_english() {
        let templates = Templates::built_in().unwrap();
        let mail = templates
            .render(NoticeKind::Closed, "tlh", &context())
            .unwrap();
        assert_eq!(mail.language, "en");
    }

    #[test]
    fn the_operator_replaces_a_language_without_a_rebuild_and_mistakes_are_named() {
        let directory = tempfile::tempdir().unwrap();
        let english = include_str!("../templates/en.toml")
            .replace("We received your request:", "Thanks, we have it:");
        std::fs::write(directory.path().join("en.toml"), english).unwrap();
        let templates = Templates::load(directory.path()).unwrap();
        let mail = templates
            .render(NoticeKind::Acknowledgement, "en", &context())
            .unwrap();
        assert!(mail.subject.starts_with("[#42] Thanks, we have it:"));

        let broken = include_str!("../templates/fr.toml")
            .replace("{{ ticket_number }}]", "{{ ticket_number ]");
        std::fs::write(directory.path().join("fr.toml"), broken).unwrap();
        let error = Templates::load(directory.path()).err().unwrap().to_string();
        assert!(
            error.contains("fr.toml") && error.contains("[acknowledgement] subject"),
            "{error}"
        );

        let missing = include_str!("../templates/fr.toml").replace("[closed]", "[closing]");
        std::fs::write(directory.path().join("fr.toml"), missing).unwrap();
        let error = Templates::load(directory.path()).err().unwrap().to_string();
        assert!(error.contains("[closed] is missing"), "{error}");

        // A word that would drop its number is refused by name.
        let no_number = include_str!("../templates/fr.toml")
            .replace("percent = \"{percent} %\"", "percent = \"%\"");
        std::fs::write(directory.path().join("fr.toml"), no_number).unwrap();
        let error = Templates::load(directory.path()).err().unwrap().to_string();
        assert!(
            error.contains("fr.toml") && error.contains("percent must contain {percent}"),
            "{error}"
        );
    }
}
