//! What the portal and the console both show of a ticket, in the viewer's words: its clocks,
//! its timeline, its state and flags; and the download of its attachments.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use caredesk_domain::intake::IntakeFlag;
use caredesk_domain::policy::Policy;
use caredesk_domain::ticket::clocks::ClockContext;
use caredesk_domain::ticket::clocks::{Clock, ClockStatus, TicketClocks};
use caredesk_domain::ticket::{Action, Snapshot, allowed_actions};
use caredesk_domain::ticket::{
    Actor, ClockKind, CustomerRequest, EventData, Resolution, TicketEvent, TicketState,
};
use caredesk_store::{Attachment, Scope, TicketRecord};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::UiError;
use super::i18n::Catalog;
use super::session::Viewer;
use crate::AppState;

/// One of a ticket's clocks, as a row of its table.
pub struct ClockRow {
    pub name: &'static str,
    pub status: &'static str,
    /// When it is due, in the viewer's zone and words; none while paused or stopped.
    pub due: Option<String>,
    /// The same instant for the countdown script (RFC 3339).
    pub due_iso: Option<String>,
    /// Time left (or past) as of the page's making.
    pub left: Option<String>,
    /// `ok`, `risk` or `breach`: how it is drawn.
    pub tone: &'static str,
    pub tone_name: &'static str,
    /// Business minutes the clock stood still while the desk waited on the customer.
    pub paused: Option<String>,
}

pub fn clock_rows(
    catalog: &'static Catalog,
    time_zone: &TimeZone,
    clocks: &TicketClocks,
    now: Timestamp,
) -> Vec<ClockRow> {
    [
        Some(&clocks.first_response),
        clocks.next_update.as_ref(),
        clocks.resolution.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|clock| clock_row(catalog, time_zone, clock, now))
    .collect()
}

pub fn clock_row(
    catalog: &'static Catalog,
    time_zone: &TimeZone,
    clock: &Clock,
    now: Timestamp,
) -> ClockRow {
    let counting = clock.status == ClockStatus::Running;
    let due = clock.due_at.filter(|_| counting);
    let tone = if !clock.measured {
        "guide"
    } else if clock.breached {
        "breach"
    } else if clock.at_risk {
        "risk"
    } else {
        "ok"
    };
    ClockRow {
        name: clock_name(catalog, clock.kind),
        status: catalog.get(match clock.status {
            ClockStatus::Running => "clock.running",
            ClockStatus::Paused => "clock.paused",
            ClockStatus::Stopped => "clock.stopped",
        }),
        due: due.map(|at| catalog.when(at, time_zone)),
        due_iso: due.map(|at| at.to_string()),
        left: due.map(|at| catalog.span_until(at, now)),
        tone,
        tone_name: catalog.get(match tone {
            "breach" => "clock.breached",
            "risk" => "clock.at_risk",
            "guide" => "clock.not_measured",
            _ => "clock.on_time",
        }),
        paused: (clock.paused_minutes > 0).then(|| {
            catalog.format(
                "clock.paused_for",
                &[("minutes", &clock.paused_minutes.to_string())],
            )
        }),
    }
}

pub fn clock_name(catalog: &'static Catalog, kind: ClockKind) -> &'static str {
    catalog.get(match kind {
        ClockKind::FirstResponse => "clock.first_response",
        ClockKind::NextUpdate => "clock.next_update",
        ClockKind::Resolution => "clock.resolution",
    })
}

pub fn state_name(catalog: &'static Catalog, state: TicketState) -> &'static str {
    catalog.get(match state {
        TicketState::New => "state.new",
        TicketState::InProgress => "state.in_progress",
        TicketState::WaitingOnCustomer => "state.waiting_on_customer",
        TicketState::SolutionProposed => "state.solution_proposed",
        TicketState::PlannedForRelease => "state.planned_for_release",
        TicketState::Closed => "state.closed",
        TicketState::OutsideSupport => "state.outside_support",
    })
}

pub fn request_name(catalog: &'static Catalog, request: CustomerRequest) -> &'static str {
    catalog.get(match request {
        CustomerRequest::Information => "request.information",
        CustomerRequest::RemoteAccess => "request.remote_access",
        CustomerRequest::TestInDevelopment => "request.test_in_development",
    })
}

pub fn resolution_name(catalog: &'static Catalog, resolution: &Resolution) -> String {
    match resolution {
        Resolution::PermanentFix => catalog.get("resolution.permanent_fix").to_string(),
        Resolution::Workaround => catalog.get("resolution.workaround").to_string(),
        Resolution::ActionPlan => catalog.get("resolution.action_plan").to_string(),
        Resolution::Recommendations => catalog.get("resolution.recommendations").to_string(),
        Resolution::PlannedForRelease { release } => {
            catalog.format("resolution.planned_for_release", &[("release", release)])
        }
    }
}

/// A severity as people know it, in the viewer's words: "P2 — High", "P2 — Élevé".
pub fn severity_label(catalog: &'static Catalog, policy: &Policy, severity: &str) -> String {
    match policy.severities.get(severity) {
        Some(known) => format!(
            "{severity} — {}",
            catalog.policy_text(&format!("severity.{severity}"), &known.name)
        ),
        None => severity.to_string(),
    }
}

/// What a severity means, in the viewer's words.
pub fn severity_meaning(catalog: &'static Catalog, policy: &Policy, severity: &str) -> String {
    policy
        .severities
        .get(severity)
        .map_or_else(String::new, |known| {
            catalog.policy_text(&format!("severity.{severity}_meaning"), &known.meaning)
        })
}

/// Every other severity of the policy, to choose from: (id, label).
pub fn other_severities(
    catalog: &'static Catalog,
    policy: &Policy,
    current: &str,
) -> Vec<(String, String)> {
    policy
        .severities
        .keys()
        .filter(|severity| *severity != current)
        .map(|severity| (severity.clone(), severity_label(catalog, policy, severity)))
        .collect()
}

/// A flag intake raised, in plain words, with the policy's reason.
pub struct FlagView {
    pub title: &'static str,
    pub reason: String,
}

pub fn flag_views(catalog: &'static Catalog, flags: &[IntakeFlag]) -> Vec<FlagView> {
    flags
        .iter()
        .map(|flag| match flag {
            IntakeFlag::NotCovered { reason, remedy } => FlagView {
                title: catalog.get("flag.not_covered"),
                reason: format!("{reason} {remedy}"),
            },
            IntakeFlag::SerialNotRegistered { reason, .. } => FlagView {
                title: catalog.get("flag.serial_not_registered"),
                reason: reason.clone(),
            },
            IntakeFlag::OutsideSupportScope { reason, .. } => FlagView {
                title: catalog.get("flag.outside_support_scope"),
                reason: reason.clone(),
            },
            IntakeFlag::Incomplete { missing } => FlagView {
                title: catalog.get("flag.incomplete"),
                reason: missing.join(", "),
            },
            IntakeFlag::ScopeNotChecked { reason, .. } => FlagView {
                title: catalog.get("flag.scope_not_checked"),
                reason: reason.clone(),
            },
            IntakeFlag::UpdateRequest {
                serial,
                installed,
                requested,
            } => FlagView {
                title: catalog.get("flag.update_request"),
                reason: catalog.format(
                    "flag.update_request_reason",
                    &[
                        ("requested", requested),
                        ("serial", serial),
                        ("installed", installed),
                    ],
                ),
            },
        })
        .collect()
}

/// A ticket as a page reads it: the record, every event (what the clocks and the allowed
/// actions stand on), the events and files the viewer may see, and who is who.
pub struct ReadTicket {
    pub ticket: TicketRecord,
    pub events: Vec<TicketEvent>,
    pub visible: Vec<TicketEvent>,
    pub attachments: Vec<Attachment>,
    pub names: Names,
    pub snapshot: Snapshot,
    pub allowed: Vec<Action>,
}

impl ReadTicket {
    pub async fn load(state: &AppState, viewer: &Viewer, id: i64) -> Result<ReadTicket, UiError> {
        let scope = viewer.principal.scope();
        let ticket = state.store.ticket(id, scope).await?;
        let events = state.store.timeline(id, Scope::All).await?;
        let visible = match scope {
            Scope::All => events.clone(),
            Scope::Customer(_) => state.store.timeline(id, scope).await?,
        };
        let attachments = state.store.attachments_of(id, scope).await?;
        let names = names_for(state, &ticket).await?;
        let snapshot = Snapshot::of(&events)
            .ok_or_else(|| UiError::Unexpected(format!("ticket {id} has no created event")))?;
        let allowed = allowed_actions(&snapshot, viewer.principal.role());
        Ok(ReadTicket {
            ticket,
            events,
            visible,
            attachments,
            names,
            snapshot,
            allowed,
        })
    }

    pub fn context(&self) -> ClockContext<'_> {
        ClockContext {
            program: &self.ticket.program,
            region: &self.ticket.region,
            product_line: &self.ticket.product_line,
        }
    }

    pub fn may(&self, action: Action) -> bool {
        self.allowed.contains(&action)
    }

    /// The history as the viewer may read it.
    pub fn timeline(&self, state: &AppState, viewer: &Viewer) -> Vec<TimelineEntry> {
        timeline(TimelineInput {
            catalog: viewer.catalog,
            time_zone: &viewer.time_zone,
            policy: &state.policy(),
            events: &self.visible,
            attachments: &self.attachments,
            names: &self.names,
        })
    }
}

/// The names a ticket's timeline mentions: its organisation's contacts and the staff.
async fn names_for(state: &AppState, ticket: &TicketRecord) -> Result<Names, UiError> {
    let staff = state.store.staff().await?;
    let contacts = state.store.contacts_of(ticket.customer_id).await?;
    Ok(Names {
        staff: staff
            .into_iter()
            .map(|member| (member.id, member.name))
            .collect(),
        contacts: contacts
            .into_iter()
            .map(|contact| (contact.id, contact.name))
            .collect(),
    })
}

/// One entry of a timeline.
pub struct TimelineEntry {
    /// The event's number on the timeline: its anchor (`#event-3`), which search results
    /// link to.
    pub seq: u32,
    /// The instant, RFC 3339, for machines and assistive technology.
    pub at: String,
    pub when: String,
    pub who: String,
    pub what: String,
    pub body: Option<String>,
    /// An internal note or a system record customers never see.
    pub internal: bool,
    pub files: Vec<FileLink>,
}

pub struct FileLink {
    pub href: String,
    pub name: String,
    pub size: String,
}

/// Who is who on a timeline: staff and contacts by id.
#[derive(Default)]
pub struct Names {
    pub staff: HashMap<i64, String>,
    pub contacts: HashMap<i64, String>,
}

impl Names {
    fn of(&self, catalog: &'static Catalog, actor: &Actor) -> String {
        match actor {
            Actor::Staff { id, .. } => self
                .staff
                .get(id)
                .cloned()
                .unwrap_or_else(|| catalog.get("timeline.support").to_string()),
            Actor::Contact { id } => self
                .contacts
                .get(id)
                .cloned()
                .unwrap_or_else(|| catalog.get("timeline.customer").to_string()),
            Actor::System => catalog.get("timeline.system").to_string(),
        }
    }

    /// A staff member's name, or "nobody".
    pub fn advisor(&self, catalog: &'static Catalog, id: Option<i64>) -> String {
        id.and_then(|id| self.staff.get(&id).cloned())
            .unwrap_or_else(|| catalog.get("ticket.unassigned").to_string())
    }
}

struct TimelineInput<'a> {
    pub catalog: &'static Catalog,
    pub time_zone: &'a TimeZone,
    pub policy: &'a Policy,
    pub events: &'a [TicketEvent],
    pub attachments: &'a [Attachment],
    pub names: &'a Names,
}

fn timeline(input: TimelineInput<'_>) -> Vec<TimelineEntry> {
    let TimelineInput {
        catalog,
        time_zone,
        policy,
        events,
        attachments,
        names,
    } = input;
    events
        .iter()
        .map(|event| {
            let (what, body) = describe(catalog, policy, names, &event.data);
            TimelineEntry {
                seq: event.seq,
                at: event.at.to_string(),
                when: catalog.when(event.at, time_zone),
                who: names.of(catalog, &event.actor),
                what,
                body: body.filter(|text| !text.trim().is_empty()),
                internal: !event.data.is_public(),
                files: attachments
                    .iter()
                    .filter(|file| file.event_seq == Some(i64::from(event.seq)))
                    .map(file_link)
                    .collect(),
            }
        })
        .collect()
}

pub fn file_link(file: &Attachment) -> FileLink {
    FileLink {
        href: format!("/tickets/{}/files/{}", file.ticket_id, file.id),
        name: file.filename.clone(),
        size: human_size(file.size),
    }
}

fn human_size(bytes: i64) -> String {
    match bytes {
        bytes if bytes >= 1024 * 1024 => format!("{:.1} MB", bytes as f64 / 1048576.0),
        bytes if bytes >= 1024 => format!("{} kB", bytes / 1024),
        bytes => format!("{bytes} B"),
    }
}

/// What an event was, and the text it carries.
fn describe(
    catalog: &'static Catalog,
    policy: &Policy,
    names: &Names,
    data: &EventData,
) -> (String, Option<String>) {
    let text = |key: &str| catalog.get(key).to_string();
    match data {
        EventData::Created { severity, .. } => (
            catalog.format(
                "event.created",
                &[("severity", &severity_label(catalog, policy, severity))],
            ),
            None,
        ),
        EventData::IntakeChecked {
            program, coverage, ..
        } => (
            catalog.format(
                "event.intake_checked",
                &[("program", &program_name(policy, program))],
            ),
            Some(coverage.notice.clone()),
        ),
        EventData::FirstResponse { body, .. } => (text("event.first_response"), Some(body.clone())),
        EventData::PublicUpdate { body, .. } => (text("event.public_update"), Some(body.clone())),
        EventData::InternalNote { body } => (text("event.internal_note"), Some(body.clone())),
        EventData::CustomerMessage { body } => (text("event.customer_message"), Some(body.clone())),
        EventData::SeverityChanged { from, to, reason } => (
            catalog.format(
                "event.severity_changed",
                &[
                    ("from", &severity_label(catalog, policy, from)),
                    ("to", &severity_label(catalog, policy, to)),
                ],
            ),
            Some(reason.clone()),
        ),
        EventData::Assigned {
            advisor,
            reason,
            overridden,
        } => (
            catalog.format(
                "event.assigned",
                &[("advisor", &names.advisor(catalog, *advisor))],
            ),
            match (reason, overridden) {
                (Some(reason), Some(misfit)) => Some(catalog.format(
                    "event.assigned_override",
                    &[("misfit", misfit), ("reason", reason)],
                )),
                (reason, _) => reason.clone(),
            },
        ),
        EventData::UpdateCadenceAgreed { every, note } => (
            catalog.format(
                "event.update_cadence_agreed",
                &[("every", every.as_deref().unwrap_or("—"))],
            ),
            Some(note.clone()),
        ),
        EventData::SeverityChangeRequested { to, reason } => (
            catalog.format(
                "event.severity_change_requested",
                &[("to", &severity_label(catalog, policy, to))],
            ),
            Some(reason.clone()),
        ),
        EventData::SeverityChangeDeclined { to, reason } => (
            catalog.format(
                "event.severity_change_declined",
                &[("to", &severity_label(catalog, policy, to))],
            ),
            Some(reason.clone()),
        ),
        EventData::WaitingOnCustomer { request, body } => (
            catalog.format(
                "event.waiting_on_customer",
                &[("request", request_name(catalog, *request))],
            ),
            Some(body.clone()),
        ),
        EventData::CustomerAnswered { body } => {
            (text("event.customer_answered"), Some(body.clone()))
        }
        EventData::DetailsSupplied { details } => (
            text("event.details_supplied"),
            Some(
                details
                    .iter()
                    .map(|(field, value)| format!("{}: {value}", detail_label(catalog, field)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        ),
        EventData::SolutionProposed { resolution, body } => (
            catalog.format(
                "event.solution_proposed",
                &[("resolution", &resolution_name(catalog, resolution))],
            ),
            Some(body.clone()),
        ),
        EventData::SolutionAccepted { note } => {
            (text("event.solution_accepted"), Some(note.clone()))
        }
        EventData::SolutionRejected { reason } => {
            (text("event.solution_rejected"), Some(reason.clone()))
        }
        EventData::EscalationRequested { reason } => {
            (text("event.escalation_requested"), Some(reason.clone()))
        }
        EventData::WorkLapsed { reason, .. } => (text("event.work_lapsed"), Some(reason.clone())),
        EventData::EscalationAnswered { answer } => {
            (text("event.escalation_answered"), Some(answer.clone()))
        }
        EventData::ConsentReminder { number } => (
            catalog.format("event.consent_reminder", &[("number", &number.to_string())]),
            None,
        ),
        EventData::ConsentUnanswered { reminders } => (
            catalog.format(
                "event.consent_unanswered",
                &[("reminders", &reminders.to_string())],
            ),
            None,
        ),
        EventData::ClockBreached {
            clock,
            policy_change: None,
            ..
        } => (
            catalog.format(
                "event.clock_breached",
                &[("clock", clock_name(catalog, *clock))],
            ),
            None,
        ),
        EventData::ClockBreached {
            clock,
            policy_change: Some(version),
            ..
        } => (
            catalog.format(
                "event.clock_breached_by_policy",
                &[
                    ("clock", clock_name(catalog, *clock)),
                    ("version", &version.to_string()),
                ],
            ),
            None,
        ),
        EventData::ReleasePublished {
            product_line,
            version,
            fixed,
        } => {
            let product = policy
                .product_lines
                .get(product_line)
                .map_or(product_line.as_str(), |line| line.name.as_str());
            let key = if *fixed {
                "event.release_published_fixed"
            } else {
                "event.release_published_without_fix"
            };
            (
                catalog.format(key, &[("release", &format!("{product} {version}"))]),
                None,
            )
        }
        EventData::Closed { reason } => (text("event.closed"), Some(reason.clone())),
        EventData::OutsideSupport { exclusion, note } => {
            let known = policy.exclusions.get(exclusion);
            (
                catalog.format(
                    "event.outside_support",
                    &[(
                        "exclusion",
                        known.map_or(exclusion.as_str(), |known| known.title.as_str()),
                    )],
                ),
                Some(match known {
                    Some(known) => format!("{}\n\n{note}", known.explanation_in(catalog.language)),
                    None => note.clone(),
                }),
            )
        }
        EventData::OutsideSupportReversed { reason } => {
            (text("event.outside_support_reversed"), Some(reason.clone()))
        }
        EventData::ShiftChanged {
            after_hours,
            language,
            reason,
        } => (
            catalog.format(
                if *after_hours {
                    "event.shift_after_hours"
                } else {
                    "event.shift_office_hours"
                },
                &[("language", language)],
            ),
            Some(reason.clone()),
        ),
    }
}

/// A registered product in one line: "OL Connect 2026.1 — SN-42".
pub fn product_label(state: &AppState, line: &str, version: &str, serial: &str) -> String {
    let policy = state.policy();
    let line = policy
        .product_lines
        .get(line)
        .map_or(line, |known| known.name.as_str());
    format!("{line} {version} — {serial}")
}

pub fn program_name(policy: &Policy, program: &str) -> String {
    policy
        .programs
        .get(program)
        .map_or_else(|| program.to_string(), |known| known.name.clone())
}

/// The intake form's details as they stand (supplied since, or as opened), labelled, the
/// empty ones left out.
pub fn details_of(
    catalog: &'static Catalog,
    ticket: &TicketRecord,
    snapshot: &Snapshot,
) -> Vec<(&'static str, String)> {
    ticket
        .details
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|(field, value)| {
                    let text = snapshot
                        .supplied_details
                        .get(field)
                        .cloned()
                        .or_else(|| value.as_str().map(str::to_string))?;
                    (!text.trim().is_empty()).then(|| (detail_label(catalog, field), text))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The label of one of the intake form's details.
pub fn detail_label(catalog: &'static Catalog, field: &str) -> &'static str {
    match field {
        "business_impact" => catalog.get("form.business_impact"),
        "error_messages" => catalog.get("form.error_messages"),
        "steps_to_reproduce" => catalog.get("form.steps_to_reproduce"),
        "workaround" => catalog.get("form.workaround"),
        _ => catalog.get("form.detail"),
    }
}

/// An attachment, to download: never shown inline, so a file cannot run as one of our pages.
pub async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((ticket, file)): Path<(i64, i64)>,
) -> Result<Response, UiError> {
    let stored = state
        .store
        .attachment(ticket, file, viewer.principal.scope())
        .await?;
    Ok(crate::download::download(stored))
}
