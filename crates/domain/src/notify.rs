//! Who is told what, and when (POLICY.md §1, §6, §7, §8): the notices a ticket's new events
//! call for. The store writes them to its outbox in the same transaction as the events, so a
//! notice exists exactly when its event does; delivery (e-mail, webhooks) comes after.
//!
//! Customers are told at once, and so is the support manager of what POLICY.md §7 says they
//! hear of at once: a customer's escalation, and a breach that escalates (P1, P2). Routine
//! staff alerts (an assignment, a clock coming due, a new ticket for its CSM, a breach for
//! its advisor) go out while the ticket's calendar is open and otherwise wait for its next
//! opening: an extended (24x5, 24x7) calendar is open for its tickets at night, a
//! business-hours one is not, so nobody is paged at 2 a.m. on a Sunday for routine work on a
//! ticket whose clocks are not running then.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};
use crate::policy::Policy;
use crate::ticket::clocks::{ClockStatus, TicketClocks};
use crate::ticket::{Actor, ClockKind, EventData, Snapshot, TicketEvent};

/// What a notice says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// To the customer: the ticket was received, with its number, severity and when the
    /// first response is due.
    Acknowledgement,
    /// To the customer: an advisor's reply (the first response or a status update).
    PublicUpdate,
    /// To the customer: the desk waits on them (information, remote access, a test).
    WaitingOnYou,
    /// To the customer: a solution is proposed, to accept or reject.
    SolutionProposed,
    /// To the customer: a proposal still waits for their answer.
    ConsentReminder,
    /// To the customer: the ticket is closed.
    Closed,
    /// To an advisor: a ticket was assigned to them.
    Assigned,
    /// To the advisor (and the support managers for P1/P2): a status update falls due soon
    /// (the clock is at risk).
    UpdateDueSoon,
    /// To the advisor (and the support managers for P1/P2): the first response falls due
    /// soon.
    FirstResponseAtRisk,
    /// To the advisor (and the support managers for P1/P2): the resolution falls due soon.
    ResolutionAtRisk,
    /// To the advisor, and to the support managers for severities that escalate on breach:
    /// a clock ran out.
    Breach,
    /// To the support managers: an escalation was asked for.
    Escalation,
    /// To the customer success manager: a new ticket of a customer they look after.
    NewTicket,
    /// To a webhook: an event of the ticket's timeline, as signed JSON.
    TicketEvent,
    /// To the administrators: sign-ins to an account or from an address failed so often
    /// that they are throttled (`crate::sign_in`). Of no ticket.
    SignInBurst,
    /// To a community question's asker: someone answered it
    /// (`crate::resources::community`). Of no ticket.
    CommunityAnswer,
    /// To the contacts of a customer entitled to a new release of a product line it has
    /// registered (`crate::catalog`). Of no ticket.
    ReleaseAnnounced,
    /// To a customer's designated contacts and its customer success manager: the
    /// customer's compliance report of the month just ended, for programs whose policy
    /// enables it. Of no ticket.
    MonthlyReport,
}

impl NoticeKind {
    /// The kinds sent as e-mail, each with its templates.
    pub const MAIL: [NoticeKind; 17] = [
        NoticeKind::Acknowledgement,
        NoticeKind::PublicUpdate,
        NoticeKind::WaitingOnYou,
        NoticeKind::SolutionProposed,
        NoticeKind::ConsentReminder,
        NoticeKind::Closed,
        NoticeKind::Assigned,
        NoticeKind::UpdateDueSoon,
        NoticeKind::FirstResponseAtRisk,
        NoticeKind::ResolutionAtRisk,
        NoticeKind::Breach,
        NoticeKind::Escalation,
        NoticeKind::NewTicket,
        NoticeKind::SignInBurst,
        NoticeKind::CommunityAnswer,
        NoticeKind::ReleaseAnnounced,
        NoticeKind::MonthlyReport,
    ];

    pub const ALL: [NoticeKind; 18] = [
        NoticeKind::Acknowledgement,
        NoticeKind::PublicUpdate,
        NoticeKind::WaitingOnYou,
        NoticeKind::SolutionProposed,
        NoticeKind::ConsentReminder,
        NoticeKind::Closed,
        NoticeKind::Assigned,
        NoticeKind::UpdateDueSoon,
        NoticeKind::FirstResponseAtRisk,
        NoticeKind::ResolutionAtRisk,
        NoticeKind::Breach,
        NoticeKind::Escalation,
        NoticeKind::NewTicket,
        NoticeKind::TicketEvent,
        NoticeKind::SignInBurst,
        NoticeKind::CommunityAnswer,
        NoticeKind::ReleaseAnnounced,
        NoticeKind::MonthlyReport,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            NoticeKind::Acknowledgement => "acknowledgement",
            NoticeKind::PublicUpdate => "public_update",
            NoticeKind::WaitingOnYou => "waiting_on_you",
            NoticeKind::SolutionProposed => "solution_proposed",
            NoticeKind::ConsentReminder => "consent_reminder",
            NoticeKind::Closed => "closed",
            NoticeKind::Assigned => "assigned",
            NoticeKind::UpdateDueSoon => "update_due_soon",
            NoticeKind::FirstResponseAtRisk => "first_response_at_risk",
            NoticeKind::ResolutionAtRisk => "resolution_at_risk",
            NoticeKind::Breach => "breach",
            NoticeKind::Escalation => "escalation",
            NoticeKind::NewTicket => "new_ticket",
            NoticeKind::TicketEvent => "ticket_event",
            NoticeKind::SignInBurst => "sign_in_burst",
            NoticeKind::CommunityAnswer => "community_answer",
            NoticeKind::ReleaseAnnounced => "release_announced",
            NoticeKind::MonthlyReport => "monthly_report",
        }
    }

    pub fn parse(text: &str) -> Option<NoticeKind> {
        NoticeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// Whether it is about a ticket (all but the administrators' security alerts, the
    /// community's answers, release announcements and monthly reports).
    pub fn is_of_a_ticket(&self) -> bool {
        !matches!(
            self,
            NoticeKind::SignInBurst
                | NoticeKind::CommunityAnswer
                | NoticeKind::ReleaseAnnounced
                | NoticeKind::MonthlyReport
        )
    }

    /// Whether it goes to staff (whatever its hour).
    pub fn is_staff_alert(&self) -> bool {
        matches!(
            self,
            NoticeKind::Assigned
                | NoticeKind::UpdateDueSoon
                | NoticeKind::FirstResponseAtRisk
                | NoticeKind::ResolutionAtRisk
                | NoticeKind::Breach
                | NoticeKind::Escalation
                | NoticeKind::NewTicket
        )
    }

    /// The warning that `clock` falls due soon.
    pub fn at_risk(clock: ClockKind) -> NoticeKind {
        match clock {
            ClockKind::FirstResponse => NoticeKind::FirstResponseAtRisk,
            ClockKind::NextUpdate => NoticeKind::UpdateDueSoon,
            ClockKind::Resolution => NoticeKind::ResolutionAtRisk,
        }
    }

    /// Whether it warns that a clock falls due soon.
    pub fn is_at_risk_warning(&self) -> bool {
        matches!(
            self,
            NoticeKind::UpdateDueSoon
                | NoticeKind::FirstResponseAtRisk
                | NoticeKind::ResolutionAtRisk
        )
    }

    /// Whether this notice to `to` is routine staff work, which waits for the ticket's
    /// calendar to open; an escalation, and a breach to the support managers (a severity
    /// that escalates on breach), go at once, whatever the hour (POLICY.md §7).
    pub fn waits_for_office_hours(&self, to: Recipient) -> bool {
        match self {
            NoticeKind::Escalation => false,
            NoticeKind::Breach => to != Recipient::SupportManagers,
            other => other.is_staff_alert(),
        }
    }
}

/// What a monthly report's notice names: the customer and the month (`2026-11`), whose
/// report, recorded when the notice was written, is what it sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyReportNotice {
    pub customer_id: i64,
    pub month: String,
}

/// Who a notice goes to; the store finds the addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// The ticket's contact.
    Contact,
    /// One member of staff.
    Staff(i64),
    /// Every active support manager of the ticket's region (and those of no region).
    SupportManagers,
    /// The customer's dedicated customer success manager, if it has one.
    CustomerSuccessManager,
}

/// One notice to write to the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub to: Recipient,
    /// The event that called for it.
    pub event_seq: u32,
    /// Not sent before this instant: the event's own for customers, the calendar's next
    /// opening for staff alerts.
    pub not_before: Timestamp,
}

/// What the notices of a ticket depend on beside its events.
pub struct NoticeContext<'a> {
    pub policy: &'a Policy,
    /// The calendar the ticket's clocks run on.
    pub calendar: &'a Calendar,
    /// The ticket as it stands after the new events.
    pub snapshot: &'a Snapshot,
}

/// The notices `new_events` call for, in the order of the events.
pub fn notices_for(
    context: &NoticeContext<'_>,
    new_events: &[TicketEvent],
) -> Result<Vec<Notice>, CalendarError> {
    let snapshot = context.snapshot;
    let mut notices = Vec::new();
    for event in new_events {
        let mut tell = |kind: NoticeKind, to: Recipient| -> Result<(), CalendarError> {
            let not_before = if kind.waits_for_office_hours(to) {
                context.calendar.next_open(event.at)?
            } else {
                event.at
            };
            notices.push(Notice {
                kind,
                to,
                event_seq: event.seq,
                not_before,
            });
            Ok(())
        };
        match &event.data {
            EventData::Created { channel, .. }
                if context
                    .policy
                    .channel(channel)
                    .is_ok_and(|channel| channel.acknowledgement) =>
            {
                tell(NoticeKind::Acknowledgement, Recipient::Contact)?;
            }
            EventData::IntakeChecked { program, .. }
                if context
                    .policy
                    .program(program)
                    .is_ok_and(|program| program.dedicated_csm) =>
            {
                tell(NoticeKind::NewTicket, Recipient::CustomerSuccessManager)?;
            }
            EventData::Assigned {
                advisor: Some(advisor),
                ..
            } => {
                // Nobody is told of a ticket they took themselves.
                let took_it = matches!(event.actor, Actor::Staff { id, .. } if id == *advisor);
                if !took_it {
                    tell(NoticeKind::Assigned, Recipient::Staff(*advisor))?;
                }
            }
            EventData::FirstResponse { .. } | EventData::PublicUpdate { .. } => {
                tell(NoticeKind::PublicUpdate, Recipient::Contact)?;
            }
            EventData::WaitingOnCustomer { .. } => {
                tell(NoticeKind::WaitingOnYou, Recipient::Contact)?;
            }
            // Told why, in the customer's words, and what professional services offer; and
            // told again when a manager reverses it.
            EventData::OutsideSupport { .. } | EventData::OutsideSupportReversed { .. } => {
                tell(NoticeKind::PublicUpdate, Recipient::Contact)?;
            }
            EventData::SolutionProposed { .. } => {
                tell(NoticeKind::SolutionProposed, Recipient::Contact)?;
            }
            // With the fix in it, the proposal that follows tells the customer.
            EventData::ReleasePublished { fixed: false, .. } => {
                tell(NoticeKind::PublicUpdate, Recipient::Contact)?;
            }
            EventData::ConsentReminder { .. } => {
                tell(NoticeKind::ConsentReminder, Recipient::Contact)?;
            }
            EventData::Closed { .. } => tell(NoticeKind::Closed, Recipient::Contact)?,
            EventData::ClockBreached { .. } => {
                if let Some(advisor) = snapshot.assignee {
                    tell(NoticeKind::Breach, Recipient::Staff(advisor))?;
                }
                let escalates = context
                    .policy
                    .severity(&snapshot.severity)
                    .is_ok_and(|severity| severity.escalate_on_breach);
                if escalates {
                    tell(NoticeKind::Breach, Recipient::SupportManagers)?;
                }
            }
            EventData::EscalationRequested { .. } | EventData::WorkLapsed { .. } => {
                tell(NoticeKind::Escalation, Recipient::SupportManagers)?;
            }
            _ => {}
        }
    }
    Ok(notices)
}

/// A warning that a clock falls due soon, with the due instant it warns of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtRiskWarning {
    pub notice: Notice,
    pub due: Timestamp,
}

/// The warnings a ticket's clocks call for now (POLICY.md §6): each clock that is running,
/// measured, at risk and not yet breached warns the assigned advisor and, for a severity
/// that escalates on breach (P1, P2), the support managers. Routine work: not before the
/// clock turned at risk, and in open hours of the ticket's calendar. The outbox keeps one
/// per clock, due instant and recipient however often this is asked, and drops one no
/// longer asked for (its clock met, paused or moved) before it goes out.
pub fn clocks_at_risk(
    policy: &Policy,
    calendar: &Calendar,
    snapshot: &Snapshot,
    clocks: &TicketClocks,
) -> Result<Vec<AtRiskWarning>, CalendarError> {
    let escalates = policy
        .severity(&snapshot.severity)
        .is_ok_and(|severity| severity.escalate_on_breach);
    let recipients: Vec<Recipient> = snapshot
        .assignee
        .map(Recipient::Staff)
        .into_iter()
        .chain(escalates.then_some(Recipient::SupportManagers))
        .collect();
    let mut warnings = Vec::new();
    for clock in clocks.all() {
        if !clock.measured
            || !clock.at_risk
            || clock.breached
            || clock.status != ClockStatus::Running
        {
            continue;
        }
        let (Some(due), Some(at_risk_at)) = (clock.due_at, clock.at_risk_at) else {
            continue;
        };
        let not_before = calendar.next_open(at_risk_at)?;
        for to in &recipients {
            warnings.push(AtRiskWarning {
                notice: Notice {
                    kind: NoticeKind::at_risk(clock.kind),
                    to: *to,
                    event_seq: snapshot.event_count,
                    not_before,
                },
                due,
            });
        }
    }
    Ok(warnings)
}

/// How many times a notice is tried before it is marked failed.
pub const DELIVERY_ATTEMPTS: u32 = 8;

/// How long to wait after failed attempt number `attempts` (from 1) before the next one:
/// 30 seconds, doubling each time (about an hour before the last); `None` after the last.
pub fn retry_delay(attempts: u32) -> Option<jiff::SignedDuration> {
    if attempts == 0 || attempts >= DELIVERY_ATTEMPTS {
        return None;
    }
    Some(jiff::SignedDuration::from_secs(30 << (attempts - 1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::{CoverageWindow, LanguageChoice};
    use crate::ticket::{ContactMedium, Resolution, Role};

    const ADVISOR: Actor = Actor::Staff {
        id: 7,
        role: Role::Advisor,
    };
    const CONTACT: Actor = Actor::Contact { id: 3 };

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn event(seq: u32, when: &str, actor: Actor, data: EventData) -> TicketEvent {
        TicketEvent {
            seq,
            at: at(when),
            actor,
            data,
        }
    }

    /// Event `seq`, at MONDAY_10: `actor` gives the ticket to advisor 7.
    fn assigned(seq: u32, actor: Actor) -> TicketEvent {
        event(
            seq,
            MONDAY_10,
            actor,
            EventData::Assigned {
                advisor: Some(7),
                reason: None,
                overridden: None,
            },
        )
    }

    fn opened(severity: &str, channel: &str, when: &str) -> TicketEvent {
        event(
            1,
            when,
            CONTACT,
            EventData::Created {
                severity: severity.into(),
                channel: channel.into(),
            },
        )
    }

    fn intake(program: &str, when: &str) -> TicketEvent {
        event(
            2,
            when,
            Actor::System,
            EventData::IntakeChecked {
                program: program.into(),
                flags: Vec::new(),
                language: LanguageChoice {
                    language: "en".into(),
                    reason: "the contact's language".into(),
                },
                coverage: CoverageWindow {
                    calendar: "emea".into(),
                    rule: None,
                    open_now: true,
                    clocks_start_at: at(when),
                    after_hours: false,
                    after_hours_language: None,
                    notice: String::new(),
                },
                office_language: None,
            },
        )
    }

    /// The notices of the last `new` events of `timeline`, on the EMEA office calendar.
    fn notices(timeline: &[TicketEvent], new: usize, calendar: &str) -> Vec<Notice> {
        let policy = Policy::built_in().unwrap();
        let snapshot = Snapshot::of(timeline).unwrap();
        let context = NoticeContext {
            policy: &policy,
            calendar: policy.calendar(calendar).unwrap(),
            snapshot: &snapshot,
        };
        notices_for(&context, &timeline[timeline.len() - new..]).unwrap()
    }

    fn kinds(notices: &[Notice]) -> Vec<(NoticeKind, Recipient)> {
        notices
            .iter()
            .map(|notice| (notice.kind, notice.to))
            .collect()
    }

    // Monday 23 November 2026, 10:00 in Amsterdam: the EMEA office is open.
    const MONDAY_10: &str = "2026-11-23T10:00:00+01:00";
    // Sunday 22 November 2026, 02:00 in Amsterdam: it is closed until Monday 09:00.
    const SUNDAY_2AM: &str = "2026-11-22T02:00:00+01:00";

    #[test]
    fn a_portal_ticket_of_a_gold_customer_is_acknowledged_and_its_csm_told() {
        let timeline = [
            opened("P3", "portal", MONDAY_10),
            intake("gold", MONDAY_10),
            assigned(3, Actor::System),
        ];
        let notices = notices(&timeline, 3, "emea");
        assert_eq!(
            kinds(&notices),
            [
                (NoticeKind::Acknowledgement, Recipient::Contact),
                (NoticeKind::NewTicket, Recipient::CustomerSuccessManager),
                (NoticeKind::Assigned, Recipient::Staff(7)),
            ]
        );
        assert!(
            notices
                .iter()
                .all(|notice| notice.not_before == at(MONDAY_10))
        );
        assert_eq!(
            notices.iter().map(|n| n.event_seq).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }

    #[test]
    fn a_phone_ticket_of_a_standard_customer_tells_only_its_advisor() {
        let timeline = [
            opened("P3", "phone", MONDAY_10),
            intake("standard", MONDAY_10),
            assigned(3, Actor::System),
        ];
        assert_eq!(
            kinds(&notices(&timeline, 3, "emea")),
            [(NoticeKind::Assigned, Recipient::Staff(7))]
        );
    }

    #[test]
    fn an_advisor_who_takes_a_ticket_is_not_told_of_it() {
        let timeline = [opened("P3", "phone", MONDAY_10), assigned(2, ADVISOR)];
        assert!(notices(&timeline, 1, "emea").is_empty());
    }

    #[test]
    fn the_customer_hears_of_each_step_that_concerns_them() {
        let steps = [
            EventData::FirstResponse {
                body: "Looking".into(),
                via: ContactMedium::Reply,
            },
            EventData::PublicUpdate {
                body: "Found it".into(),
                via: ContactMedium::Call,
            },
            EventData::InternalNote {
                body: "not for the customer".into(),
            },
            EventData::WaitingOnCustomer {
                request: crate::ticket::CustomerRequest::Information,
                body: "Which printer?".into(),
            },
            EventData::SolutionProposed {
                resolution: Resolution::Workaround,
                body: "Restart the spooler".into(),
            },
            EventData::ConsentReminder { number: 1 },
            EventData::Closed {
                reason: "accepted".into(),
            },
        ];
        let mut timeline = vec![opened("P3", "phone", MONDAY_10)];
        for (index, data) in steps.into_iter().enumerate() {
            timeline.push(event(index as u32 + 2, MONDAY_10, ADVISOR, data));
        }
        let told: Vec<NoticeKind> = notices(&timeline, 7, "emea")
            .iter()
            .map(|notice| {
                assert_eq!(notice.to, Recipient::Contact);
                notice.kind
            })
            .collect();
        assert_eq!(
            told,
            [
                NoticeKind::PublicUpdate,
                NoticeKind::PublicUpdate,
                NoticeKind::WaitingOnYou,
                NoticeKind::SolutionProposed,
                NoticeKind::ConsentReminder,
                NoticeKind::Closed,
            ]
        );
    }

    #[test]
    fn a_p1_breach_reaches_the_advisor_and_the_managers_a_p3_breach_the_advisor_only() {
        for (severity, expected) in [
            (
                "P1",
                vec![
                    (NoticeKind::Breach, Recipient::Staff(7)),
                    (NoticeKind::Breach, Recipient::SupportManagers),
                ],
            ),
            ("P3", vec![(NoticeKind::Breach, Recipient::Staff(7))]),
        ] {
            let timeline = [
                opened(severity, "phone", MONDAY_10),
                assigned(2, ADVISOR),
                event(
                    3,
                    MONDAY_10,
                    Actor::System,
                    EventData::ClockBreached {
                        clock: ClockKind::FirstResponse,
                        due: at(MONDAY_10),
                        policy_change: None,
                    },
                ),
            ];
            assert_eq!(
                kinds(&notices(&timeline, 1, "emea")),
                expected,
                "{severity}"
            );
        }
    }

    #[test]
    fn routine_staff_alerts_wait_for_the_office_to_open_escalations_do_not() {
        let timeline = [
            opened("P2", "portal", SUNDAY_2AM),
            event(
                2,
                SUNDAY_2AM,
                Actor::System,
                EventData::Assigned {
                    advisor: Some(7),
                    reason: None,
                    overridden: None,
                },
            ),
            event(
                3,
                SUNDAY_2AM,
                CONTACT,
                EventData::EscalationRequested {
                    reason: "production down".into(),
                },
            ),
            event(
                4,
                SUNDAY_2AM,
                Actor::System,
                EventData::ClockBreached {
                    clock: ClockKind::FirstResponse,
                    due: at(SUNDAY_2AM),
                    policy_change: None,
                },
            ),
        ];
        let office = notices(&timeline, 4, "emea");
        assert_eq!(
            kinds(&office),
            [
                (NoticeKind::Acknowledgement, Recipient::Contact),
                (NoticeKind::Assigned, Recipient::Staff(7)),
                (NoticeKind::Escalation, Recipient::SupportManagers),
                (NoticeKind::Breach, Recipient::Staff(7)),
                (NoticeKind::Breach, Recipient::SupportManagers),
            ]
        );
        let monday_9 = at("2026-11-23T09:00:00+01:00");
        let when: Vec<Timestamp> = office.iter().map(|notice| notice.not_before).collect();
        assert_eq!(
            when,
            [
                // The customer, the escalation and the P2 breach to the managers: at once,
                // Sunday 2 a.m.; the assignment and the advisor's breach: Monday 9:00.
                at(SUNDAY_2AM),
                monday_9,
                at(SUNDAY_2AM),
                monday_9,
                at(SUNDAY_2AM),
            ]
        );
        // On a 24x7 calendar everything goes at once.
        let extended = notices(&timeline, 4, "24x7-emea");
        assert!(
            extended
                .iter()
                .all(|notice| notice.not_before == at(SUNDAY_2AM))
        );
    }

    /// The warnings of a portal ticket of `severity` opened Monday 10:00 (its first response
    /// due at 14:00, at risk from 13:12), assigned to advisor 7 or not, as they stand `now`.
    fn warnings(severity: &str, assigned_to_7: bool, now: &str) -> Vec<AtRiskWarning> {
        let policy = Policy::built_in().unwrap();
        let mut timeline = vec![opened(severity, "portal", MONDAY_10)];
        if assigned_to_7 {
            timeline.push(assigned(2, Actor::System));
        }
        let context = crate::ticket::clocks::ClockContext {
            program: "standard",
            region: "emea",
            product_line: "planetpress-suite",
        };
        let clocks = crate::ticket::clocks::compute(&policy, &context, &timeline, at(now)).unwrap();
        let snapshot = Snapshot::of(&timeline).unwrap();
        let calendar = policy.calendar(&clocks.calendar).unwrap();
        clocks_at_risk(&policy, calendar, &snapshot, &clocks).unwrap()
    }

    #[test]
    fn every_clock_at_risk_warns_its_advisor_and_for_p1_p2_the_managers() {
        let one_pm = "2026-11-23T13:00:00+01:00";
        let half_past_one = "2026-11-23T13:30:00+01:00";
        assert_eq!(warnings("P3", true, one_pm), []);
        let p3 = warnings("P3", true, half_past_one);
        assert_eq!(
            p3,
            [AtRiskWarning {
                notice: Notice {
                    kind: NoticeKind::FirstResponseAtRisk,
                    to: Recipient::Staff(7),
                    event_seq: 2,
                    not_before: at("2026-11-23T13:12:00+01:00"),
                },
                due: at("2026-11-23T14:00:00+01:00"),
            }]
        );
        let p2: Vec<(NoticeKind, Recipient)> = warnings("P2", true, half_past_one)
            .iter()
            .map(|warning| (warning.notice.kind, warning.notice.to))
            .collect();
        assert_eq!(
            p2,
            [
                (NoticeKind::FirstResponseAtRisk, Recipient::Staff(7)),
                (NoticeKind::FirstResponseAtRisk, Recipient::SupportManagers),
            ]
        );
        // Nobody is assigned: only the managers of a P2 hear of it.
        assert_eq!(warnings("P3", false, half_past_one), []);
        assert_eq!(
            warnings("P2", false, half_past_one)[0].notice.to,
            Recipient::SupportManagers
        );
        // Breached: the breach tells, not a warning.
        assert_eq!(warnings("P3", true, "2026-11-23T14:30:00+01:00"), []);
        assert_eq!(
            NoticeKind::at_risk(ClockKind::Resolution),
            NoticeKind::ResolutionAtRisk
        );
    }

    #[test]
    fn retries_back_off_exponentially_then_stop() {
        let delays: Vec<i64> = (1..=8)
            .map_while(retry_delay)
            .map(|delay| delay.as_secs())
            .collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920]);
        assert_eq!(retry_delay(DELIVERY_ATTEMPTS), None);
        assert_eq!(retry_delay(0), None);
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(NoticeKind::parse("fax"), None);
    }
}
