//! Who works a new ticket (POLICY.md §7): an available advisor of the ticket's region who
//! speaks its language, the least loaded one; after hours on extended cover, the advisor on
//! call for that office.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::calendar::CalendarError;
use crate::policy::{Policy, UnknownName};
use crate::ticket::clocks::ClockContext;
use crate::ticket::{EventData, Role, Snapshot, TicketState};

/// An advisor who could take the ticket, with the open tickets already on their desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub id: i64,
    pub name: String,
    pub region: Option<String>,
    pub languages: Vec<String>,
    /// Present and taking tickets.
    pub available: bool,
    /// Open tickets assigned to them, each counted with its severity's `load_weight`.
    pub load: u64,
}

/// A stretch of on-call duty for an office.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnCallShift {
    pub region: String,
    pub staff_id: i64,
    pub staff_name: String,
    /// The languages the staff member on call speaks.
    pub languages: Vec<String>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

/// What the ticket needs of its advisor.
#[derive(Clone, Copy, Debug)]
pub struct RoutingNeed<'a> {
    pub region: &'a str,
    pub language: &'a str,
    /// The policy's fallback language (English): whoever speaks it may take any ticket.
    pub fallback_language: &'a str,
    /// Opened after the office's hours on extended cover.
    pub after_hours: bool,
    pub now: Timestamp,
}

/// The advisor chosen (none when nobody fits: the ticket waits in the queue), and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub advisor: Option<i64>,
    pub reason: String,
}

pub fn choose_advisor(
    need: &RoutingNeed<'_>,
    candidates: &[Candidate],
    on_call: &[OnCallShift],
) -> Assignment {
    // Candidates matter only in office hours; after hours the rota decides: whoever is on
    // call who speaks the ticket's language, else the fallback language, else anyone on
    // call (the earliest shift first, then the lowest id).
    if need.after_hours {
        let on_duty: Vec<&OnCallShift> = on_call
            .iter()
            .filter(|shift| {
                shift.region == need.region
                    && shift.starts_at <= need.now
                    && need.now < shift.ends_at
            })
            .collect();
        let speaking = |language: &str| {
            on_duty
                .iter()
                .filter(|shift| shift.languages.iter().any(|spoken| spoken == language))
                .min_by_key(|shift| (shift.starts_at, shift.staff_id))
                .copied()
        };
        let shift = speaking(need.language)
            .map(|shift| (shift, need.language))
            .or_else(|| {
                speaking(need.fallback_language).map(|shift| (shift, need.fallback_language))
            })
            .or_else(|| {
                on_duty
                    .iter()
                    .min_by_key(|shift| (shift.starts_at, shift.staff_id))
                    .map(|shift| (*shift, ""))
            });
        return match shift {
            Some((shift, language)) => {
                let name = &shift.staff_name;
                let speaks = if language.is_empty() {
                    format!(
                        ", though they speak neither {} nor {}",
                        need.language, need.fallback_language
                    )
                } else {
                    format!(" and speaks {language}")
                };
                Assignment {
                    advisor: Some(shift.staff_id),
                    reason: format!(
                        "opened after hours on extended cover: {name} is on call for {} until {}{speaks}",
                        need.region, shift.ends_at
                    ),
                }
            }
            None => Assignment {
                advisor: None,
                reason: format!(
                    "opened after hours on extended cover, but nobody is on call for {} now; it waits in the queue",
                    need.region
                ),
            },
        };
    }
    let in_region = |candidate: &&Candidate| candidate.region.as_deref() == Some(need.region);
    let speaks = |candidate: &&Candidate| candidate.languages.iter().any(|l| l == need.language);
    let chosen = candidates
        .iter()
        .filter(in_region)
        .filter(speaks)
        .filter(|candidate| candidate.available)
        .min_by_key(|candidate| (candidate.load, candidate.id));
    match chosen {
        Some(advisor) => {
            let others = candidates
                .iter()
                .filter(in_region)
                .filter(speaks)
                .filter(|candidate| candidate.available)
                .count()
                - 1;
            Assignment {
                advisor: Some(advisor.id),
                reason: format!(
                    "{} speaks {} in {} and has the lightest load ({}) of {} available advisor{}",
                    advisor.name,
                    need.language,
                    need.region,
                    advisor.load,
                    others + 1,
                    if others == 0 { "" } else { "s" }
                ),
            }
        }
        None => {
            let speakers = candidates.iter().filter(in_region).filter(speaks).count();
            Assignment {
                advisor: None,
                reason: if speakers == 0 {
                    format!(
                        "no advisor of {} speaks {}; it waits in the queue for a manager to assign",
                        need.region, need.language
                    )
                } else {
                    format!(
                        "the {speakers} advisor(s) of {} who speak {} are unavailable; it waits in the queue",
                        need.region, need.language
                    )
                },
            }
        }
    }
}

/// Who could work a region's tickets now: its advisors (with their loads) and its on-call
/// rota.
#[derive(Clone, Copy, Debug)]
pub struct Staffing<'a> {
    pub candidates: &'a [Candidate],
    pub on_call: &'a [OnCallShift],
}

/// The shift a ticket on extended cover should be in at `now` (POLICY.md §1, §5): after its
/// office's hours, while the extended calendar is open, it is worked by whoever is on call
/// in the rule's after-hours language; when the office opens, it returns to its office
/// language and to the advisor it had then (or whom assignment picks). Returns the events
/// of the change (a shift change, then an assignment when the advisor changes); nothing
/// when the ticket is in the right shift, closed, or nobody works now (the extended
/// calendar is closed: the change waits for it to open).
pub fn shift_change(
    policy: &Policy,
    context: &ClockContext<'_>,
    snapshot: &Snapshot,
    staffing: &Staffing<'_>,
    now: Timestamp,
) -> Result<Vec<EventData>, ShiftError> {
    // Nobody works a ticket decided outside support: it changes shift once reversed.
    if snapshot.closed_at.is_some() || snapshot.state == TicketState::OutsideSupport {
        return Ok(Vec::new());
    }
    let region = policy.region(context.region)?;
    let office = policy.calendar(&region.calendar)?;
    let choice = policy.calendar_for(&context.profile(snapshot))?;
    let after_hours = match choice.rule {
        // Extended cover: after hours while its calendar is open and the office's is not.
        Some(_) if !choice.calendar.is_open(now)? => return Ok(Vec::new()),
        Some(_) => !office.is_open(now)?,
        // No extended cover (any more, after a severity change): office hours, once the
        // office opens.
        None if snapshot.after_hours && office.is_open(now)? => false,
        None => return Ok(Vec::new()),
    };
    if after_hours == snapshot.after_hours {
        return Ok(Vec::new());
    }
    let current = snapshot
        .language
        .clone()
        .unwrap_or_else(|| policy.languages.fallback.clone());
    let (language, reason) = if after_hours {
        let rule = choice
            .rule
            .map_or("extended cover", |rule| rule.name.as_str());
        let language = choice
            .rule
            .and_then(|rule| rule.after_hours_language.clone())
            .unwrap_or(current);
        let reason = format!(
            "the {} office closed; {rule} goes on after its hours, in {language}, with whoever is on call",
            region.office
        );
        (language, reason)
    } else {
        let language = snapshot.office_language.clone().unwrap_or(current);
        let reason = format!(
            "the {} office opened; the ticket is worked in {language} by the office again",
            region.office
        );
        (language, reason)
    };
    // Someone the office can give it to this morning: an available advisor of the region.
    let in_office = |id: i64| {
        staffing.candidates.iter().any(|candidate| {
            candidate.id == id
                && candidate.available
                && candidate.region.as_deref() == Some(context.region)
        })
    };
    let kept_from_the_night = snapshot
        .assignee
        .filter(|advisor| snapshot.reassigned_after_hours && in_office(*advisor));
    let assignment = match (kept_from_the_night, snapshot.office_assignee) {
        // Reassigned by hand during the night to someone of the office: that stands.
        (Some(advisor), _) if !after_hours => Assignment {
            advisor: Some(advisor),
            reason: "the office opened: the advisor given the ticket during the night keeps it"
                .into(),
        },
        // Back to the advisor it had, if they still work for the office and are present.
        (None, Some(advisor)) if !after_hours && in_office(advisor) => Assignment {
            advisor: Some(advisor),
            reason: "the office opened: back to the advisor who had it in office hours".into(),
        },
        _ => choose_advisor(
            &RoutingNeed {
                region: context.region,
                language: &language,
                fallback_language: &policy.languages.fallback,
                after_hours,
                now,
            },
            staffing.candidates,
            staffing.on_call,
        ),
    };
    // Nobody to hand it to: it stays with whoever has it, and the shift change says why.
    let reason = match assignment.advisor {
        Some(_) => reason,
        None => format!("{reason}; {}", assignment.reason),
    };
    let mut events = vec![EventData::ShiftChanged {
        after_hours,
        language,
        reason,
    }];
    if assignment.advisor.is_some() && assignment.advisor != snapshot.assignee {
        events.push(EventData::Assigned {
            advisor: assignment.advisor,
            reason: Some(assignment.reason),
            overridden: None,
        });
    }
    Ok(events)
}

/// When a ticket on extended cover next changes shift (its office opens or closes), or must
/// now: for the sweep to come back then. None for a ticket that never will.
pub fn next_shift_change_at(
    policy: &Policy,
    context: &ClockContext<'_>,
    snapshot: &Snapshot,
    at: Timestamp,
) -> Result<Option<Timestamp>, ShiftError> {
    if snapshot.closed_at.is_some() || snapshot.state == TicketState::OutsideSupport {
        return Ok(None);
    }
    let region = policy.region(context.region)?;
    let office = policy.calendar(&region.calendar)?;
    let choice = policy.calendar_for(&context.profile(snapshot))?;
    let extended = choice.rule.is_some();
    if !extended && !snapshot.after_hours {
        return Ok(None);
    }
    // Nobody works while the extended calendar is closed (a weekend on 24x5): nothing
    // changes before it opens.
    if extended && !choice.calendar.is_open(at)? {
        return Ok(Some(choice.calendar.next_open(at)?));
    }
    let after_hours_now = !office.is_open(at)?;
    if extended && after_hours_now != snapshot.after_hours {
        return Ok(Some(at));
    }
    Ok(match office.open_until(at)? {
        Some(closes) if extended => Some(closes),
        Some(_) => Some(at),
        None => Some(office.next_open(at)?),
    })
}

/// Why a shift cannot be worked out: the policy does not fit the ticket.
#[derive(Debug, thiserror::Error)]
pub enum ShiftError {
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// A staff member as a manual assignment reads them.
#[derive(Clone, Copy, Debug)]
pub struct Assignee<'a> {
    pub name: &'a str,
    pub role: Role,
    pub region: Option<&'a str>,
    pub languages: &'a [String],
}

/// Why `assignee` does not fit a ticket of `region` worked in `languages` (its language now
/// and, after hours, its office language) (POLICY.md §7: an advisor of the ticket's region
/// who speaks its language, or the fallback language, which every region's advisors may
/// answer in); none when they fit.
pub fn misfit(
    region: &str,
    languages: &[&str],
    fallback_language: &str,
    assignee: &Assignee<'_>,
) -> Option<String> {
    let name = assignee.name;
    if assignee.role != Role::Advisor {
        return Some(format!(
            "{name} is not an advisor (role: {})",
            assignee.role.as_str().replace('_', " ")
        ));
    }
    if assignee.region != Some(region) {
        return Some(match assignee.region {
            Some(theirs) => format!("{name} is an advisor of {theirs}, not of {region}"),
            None => format!("{name} belongs to no region; the ticket is of {region}"),
        });
    }
    let speaks = |wanted: &str| assignee.languages.iter().any(|spoken| spoken == wanted);
    if !languages.iter().any(|language| speaks(language)) && !speaks(fallback_language) {
        return Some(format!(
            "{name} speaks neither the ticket's language ({}) nor {fallback_language}",
            languages.join(", ")
        ));
    }
    None
}

/// A manual assignment to someone who does not fit (`misfit`): refused, unless a support
/// manager or an administrator gives a reason, which the timeline keeps with the misfit
/// (an override). Ok carries the override's misfit, none when the assignee fits.
pub fn check_assignment(
    role: Role,
    reason: Option<&str>,
    misfit: Option<String>,
) -> Result<Option<String>, String> {
    let Some(misfit) = misfit else {
        return Ok(None);
    };
    let manager = matches!(role, Role::SupportManager | Role::Admin);
    let reasoned = reason.is_some_and(|reason| !reason.trim().is_empty());
    match (manager, reasoned) {
        (true, true) => Ok(Some(misfit)),
        (true, false) => Err(format!(
            "{misfit}; a support manager may assign them anyway, giving the reason"
        )),
        (false, _) => Err(format!(
            "{misfit}; only a support manager may assign them anyway"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisor(id: i64, region: &str, languages: &[&str], available: bool, load: u64) -> Candidate {
        Candidate {
            id,
            name: format!("Advisor {id}"),
            region: Some(region.to_string()),
            languages: languages.iter().map(|l| l.to_string()).collect(),
            available,
            load,
        }
    }

    fn need<'a>(region: &'a str, language: &'a str, after_hours: bool) -> RoutingNeed<'a> {
        RoutingNeed {
            region,
            language,
            fallback_language: "en",
            after_hours,
            now: "2026-11-26T12:00:00Z".parse().expect("instant"),
        }
    }

    #[test]
    fn picks_the_least_loaded_available_speaker_of_the_region() {
        let candidates = [
            advisor(1, "americas", &["en", "fr"], true, 10),
            advisor(2, "americas", &["en", "fr"], true, 4),
            advisor(3, "americas", &["en"], true, 0),
            advisor(4, "emea", &["fr"], true, 0),
            advisor(5, "americas", &["fr"], false, 0),
        ];
        let chosen = choose_advisor(&need("americas", "fr", false), &candidates, &[]);
        assert_eq!(chosen.advisor, Some(2));
        assert!(
            chosen.reason.contains("lightest load (4) of 2"),
            "{}",
            chosen.reason
        );
    }

    #[test]
    fn ties_go_to_the_lowest_id_and_nobody_fitting_leaves_it_unassigned() {
        let candidates = [
            advisor(7, "apac", &["ja"], true, 2),
            advisor(6, "apac", &["ja"], true, 2),
        ];
        assert_eq!(
            choose_advisor(&need("apac", "ja", false), &candidates, &[]).advisor,
            Some(6)
        );
        let none = choose_advisor(&need("apac", "en", false), &candidates, &[]);
        assert_eq!(none.advisor, None);
        assert!(none.reason.contains("no advisor of apac speaks en"));
        let away = [advisor(8, "apac", &["ja"], false, 0)];
        assert!(
            choose_advisor(&need("apac", "ja", false), &away, &[])
                .reason
                .contains("unavailable")
        );
    }

    #[test]
    fn after_hours_goes_to_the_advisor_on_call_for_that_office() {
        let candidates = [
            advisor(1, "emea", &["en"], true, 0),
            advisor(2, "emea", &["en"], true, 50),
        ];
        let shift = |staff_id, region: &str, from: &str, to: &str| OnCallShift {
            region: region.to_string(),
            staff_id,
            staff_name: format!("Advisor {staff_id}"),
            languages: vec!["en".to_string()],
            starts_at: from.parse().expect("instant"),
            ends_at: to.parse().expect("instant"),
        };
        let rota = [
            shift(1, "emea", "2026-11-25T17:00:00Z", "2026-11-26T08:00:00Z"),
            shift(2, "emea", "2026-11-26T08:00:00Z", "2026-11-27T08:00:00Z"),
            shift(
                1,
                "americas",
                "2026-11-26T08:00:00Z",
                "2026-11-27T08:00:00Z",
            ),
        ];
        let chosen = choose_advisor(&need("emea", "en", true), &candidates, &rota);
        assert_eq!(chosen.advisor, Some(2));
        assert!(chosen.reason.contains("on call for emea"));
        assert_eq!(
            choose_advisor(&need("apac", "en", true), &candidates, &rota).advisor,
            None
        );
    }

    #[test]
    fn the_on_call_pick_prefers_the_tickets_language_then_the_fallback() {
        let shift = |staff_id, languages: &[&str]| OnCallShift {
            region: "emea".to_string(),
            staff_id,
            staff_name: format!("Advisor {staff_id}"),
            languages: languages.iter().map(|l| l.to_string()).collect(),
            starts_at: "2026-11-26T00:00:00Z".parse().expect("instant"),
            ends_at: "2026-11-27T00:00:00Z".parse().expect("instant"),
        };
        let rota = [
            shift(1, &["de"]),
            shift(2, &["en"]),
            shift(3, &["fr", "en"]),
        ];
        let french = choose_advisor(&need("emea", "fr", true), &[], &rota);
        assert_eq!(french.advisor, Some(3));
        assert!(french.reason.contains("speaks fr"), "{}", french.reason);
        let dutch = choose_advisor(&need("emea", "nl", true), &[], &rota);
        assert_eq!(
            dutch.advisor,
            Some(2),
            "the lowest id among English speakers"
        );
        assert!(dutch.reason.contains("speaks en"), "{}", dutch.reason);
        let only_german = choose_advisor(&need("emea", "ja", true), &[], &rota[..1]);
        assert_eq!(only_german.advisor, Some(1), "on call beats waiting");
        assert!(
            only_german.reason.contains("speak neither ja nor en"),
            "{}",
            only_german.reason
        );
    }

    #[test]
    fn a_manual_assignment_needs_an_advisor_of_the_region_who_speaks_the_language() {
        fn advisor<'a>(region: &'a str, languages: &'a [String]) -> Assignee<'a> {
            Assignee {
                name: "Ana",
                role: Role::Advisor,
                region: Some(region),
                languages,
            }
        }
        let (fr, de, en) = (["fr".to_string()], ["de".to_string()], ["en".to_string()]);
        assert_eq!(misfit("emea", &["fr"], "en", &advisor("emea", &fr)), None);
        assert_eq!(
            misfit("emea", &["fr"], "en", &advisor("emea", &en)),
            None,
            "English is every region's fallback"
        );
        assert_eq!(
            misfit("emea", &["fr"], "en", &advisor("emea", &de)).as_deref(),
            Some("Ana speaks neither the ticket's language (fr) nor en")
        );
        assert_eq!(
            misfit("emea", &["fr"], "en", &advisor("americas", &fr)).as_deref(),
            Some("Ana is an advisor of americas, not of emea")
        );
        let manager = Assignee {
            role: Role::SupportManager,
            ..advisor("emea", &fr)
        };
        assert!(
            misfit("emea", &["fr"], "en", &manager)
                .is_some_and(|why| why.contains("not an advisor"))
        );

        // Fitting: anyone who may assign. Not fitting: a manager with a reason only.
        assert_eq!(check_assignment(Role::Advisor, None, None), Ok(None));
        let why = || Some("Ana is an advisor of americas, not of emea".to_string());
        assert_eq!(
            check_assignment(Role::SupportManager, Some("she knows the customer"), why()),
            Ok(why())
        );
        assert_eq!(
            check_assignment(Role::Admin, Some("cover for a strike"), why()),
            Ok(why())
        );
        assert!(
            check_assignment(Role::SupportManager, Some("  "), why())
                .is_err_and(|refusal| refusal.contains("giving the reason"))
        );
        assert!(
            check_assignment(Role::Advisor, Some("she knows it"), why())
                .is_err_and(|refusal| refusal.contains("only a support manager"))
        );
    }

    /// A gold P1 OL Connect ticket of EMEA opened at `opened` (Amsterdam), as intake records
    /// it for a contact who speaks `preferred`, assigned to advisor 7.
    fn gold_p1(opened: &str, preferred: &str) -> (Policy, Vec<crate::ticket::TicketEvent>) {
        use crate::intake::{choose_language, coverage_window};
        use crate::policy::TicketProfile;
        use crate::ticket::{Actor, TicketEvent};
        let policy = Policy::built_in().expect("policy");
        let at: Timestamp = opened.parse().expect("instant");
        let profile = TicketProfile {
            program: "gold",
            region: "emea",
            product_line: "ol-connect",
            severity: "P1",
            channel: "phone",
        };
        let coverage = coverage_window(&policy, &profile, at).expect("coverage");
        let language = choose_language(
            &policy,
            "emea",
            preferred,
            coverage.after_hours_language.as_deref(),
        )
        .expect("language");
        let office_language = coverage.after_hours.then(|| preferred.to_string());
        let data = [
            EventData::Created {
                severity: "P1".into(),
                channel: "phone".into(),
            },
            EventData::IntakeChecked {
                program: "gold".into(),
                flags: Vec::new(),
                language,
                coverage,
                office_language,
            },
            EventData::Assigned {
                advisor: Some(7),
                reason: None,
                overridden: None,
            },
        ];
        let events = data
            .into_iter()
            .enumerate()
            .map(|(index, data)| TicketEvent {
                seq: u32::try_from(index + 1).expect("seq"),
                at,
                actor: Actor::System,
                data,
            })
            .collect();
        (policy, events)
    }

    const GOLD: ClockContext<'static> = ClockContext {
        program: "gold",
        region: "emea",
        product_line: "ol-connect",
    };

    /// Applies what `shift_change` decides at `now`; returns it.
    fn change_at(
        policy: &Policy,
        events: &mut Vec<crate::ticket::TicketEvent>,
        staffing: &Staffing<'_>,
        now: &str,
    ) -> Vec<EventData> {
        let now: Timestamp = now.parse().expect("instant");
        let snapshot = Snapshot::of(events).expect("snapshot");
        let changed = shift_change(policy, &GOLD, &snapshot, staffing, now).expect("shift");
        for data in &changed {
            let seq = u32::try_from(events.len() + 1).expect("seq");
            events.push(crate::ticket::TicketEvent {
                seq,
                at: now,
                actor: crate::ticket::Actor::System,
                data: data.clone(),
            });
        }
        changed
    }

    fn night_rota() -> Vec<OnCallShift> {
        let shift = |staff_id, languages: &[&str]| OnCallShift {
            region: "emea".to_string(),
            staff_id,
            staff_name: format!("Advisor {staff_id}"),
            languages: languages.iter().map(|l| l.to_string()).collect(),
            starts_at: "2026-11-23T00:00:00Z".parse().expect("instant"),
            ends_at: "2026-11-30T00:00:00Z".parse().expect("instant"),
        };
        vec![shift(20, &["en"]), shift(21, &["de"])]
    }

    #[test]
    fn a_french_p1_on_24x5_goes_on_call_in_english_at_night_and_back_in_the_morning() {
        let (policy, mut events) = gold_p1("2026-11-23T10:00:00+01:00", "fr");
        let candidates = [advisor(7, "emea", &["fr", "en"], true, 0)];
        let rota = night_rota();
        let staffing = Staffing {
            candidates: &candidates,
            on_call: &rota,
        };
        let snapshot = Snapshot::of(&events).expect("snapshot");
        assert_eq!(snapshot.language.as_deref(), Some("fr"));
        let at = |text: &str| text.parse::<Timestamp>().expect("instant");
        // The sweep comes back when the office closes.
        assert_eq!(
            next_shift_change_at(&policy, &GOLD, &snapshot, at("2026-11-23T12:00:00+01:00"))
                .expect("next"),
            Some(at("2026-11-23T17:00:00+01:00"))
        );
        assert!(change_at(&policy, &mut events, &staffing, "2026-11-23T16:59:00+01:00").is_empty());
        let evening = change_at(&policy, &mut events, &staffing, "2026-11-23T17:00:00+01:00");
        assert!(
            matches!(&evening[..], [
                EventData::ShiftChanged { after_hours: true, language, reason },
                EventData::Assigned { advisor: Some(20), .. },
            ] if language == "en" && reason.contains("Amsterdam office closed")),
            "{evening:?}"
        );
        let snapshot = Snapshot::of(&events).expect("snapshot");
        assert_eq!(snapshot.language.as_deref(), Some("en"));
        assert_eq!(snapshot.assignee, Some(20));
        // Once: nothing more that night; the sweep comes back at 09:00.
        assert!(change_at(&policy, &mut events, &staffing, "2026-11-23T23:00:00+01:00").is_empty());
        assert_eq!(
            next_shift_change_at(&policy, &GOLD, &snapshot, at("2026-11-23T23:00:00+01:00"))
                .expect("next"),
            Some(at("2026-11-24T09:00:00+01:00"))
        );
        let morning = change_at(&policy, &mut events, &staffing, "2026-11-24T09:00:00+01:00");
        assert!(
            matches!(&morning[..], [
                EventData::ShiftChanged { after_hours: false, language, .. },
                EventData::Assigned { advisor: Some(7), .. },
            ] if language == "fr"),
            "{morning:?}"
        );
        let snapshot = Snapshot::of(&events).expect("snapshot");
        assert_eq!(snapshot.language.as_deref(), Some("fr"));
        assert_eq!(snapshot.assignee, Some(7));
    }

    #[test]
    fn opened_at_night_it_starts_in_english_and_the_office_takes_it_in_the_customers_language() {
        // A French P1 at 20:00 on 24x5: intake already chose English and the rota.
        let (policy, mut events) = gold_p1("2026-11-23T20:00:00+01:00", "fr");
        let snapshot = Snapshot::of(&events).expect("snapshot");
        assert!(snapshot.after_hours);
        assert_eq!(snapshot.language.as_deref(), Some("en"));
        let candidates = [
            advisor(7, "emea", &["en"], true, 0),
            advisor(8, "emea", &["fr"], true, 3),
        ];
        let rota = night_rota();
        let staffing = Staffing {
            candidates: &candidates,
            on_call: &rota,
        };
        let morning = change_at(&policy, &mut events, &staffing, "2026-11-24T09:00:00+01:00");
        assert!(
            matches!(&morning[..], [
                EventData::ShiftChanged { after_hours: false, language, .. },
                EventData::Assigned { advisor: Some(8), .. },
            ] if language == "fr"),
            "the office's French speaker takes it: {morning:?}"
        );
    }

    #[test]
    fn over_a_24x5_weekend_nothing_changes_until_the_office_opens() {
        let (policy, mut events) = gold_p1("2026-11-27T16:00:00+01:00", "de");
        let candidates = [advisor(7, "emea", &["de"], true, 0)];
        let rota = night_rota();
        let staffing = Staffing {
            candidates: &candidates,
            on_call: &rota,
        };
        let friday = change_at(&policy, &mut events, &staffing, "2026-11-27T17:00:00+01:00");
        assert_eq!(friday.len(), 2, "{friday:?}");
        let at = |text: &str| text.parse::<Timestamp>().expect("instant");
        let snapshot = Snapshot::of(&events).expect("snapshot");
        // Saturday: the 24x5 calendar is closed, nobody works; it next looks on Monday 09:00.
        assert!(change_at(&policy, &mut events, &staffing, "2026-11-28T12:00:00+01:00").is_empty());
        assert_eq!(
            next_shift_change_at(&policy, &GOLD, &snapshot, at("2026-11-28T12:00:00+01:00"))
                .expect("next"),
            Some(at("2026-11-30T00:00:00+01:00"))
        );
        assert_eq!(
            next_shift_change_at(&policy, &GOLD, &snapshot, at("2026-11-30T00:00:00+01:00"))
                .expect("next"),
            Some(at("2026-11-30T09:00:00+01:00"))
        );
        // A standard ticket never changes shift.
        let standard = ClockContext {
            program: "standard",
            ..GOLD
        };
        let (_, plain) = gold_p1("2026-11-27T16:00:00+01:00", "de");
        let plain = Snapshot::of(&plain).expect("snapshot");
        assert_eq!(
            next_shift_change_at(&policy, &standard, &plain, at("2026-11-27T16:00:00+01:00"))
                .expect("next"),
            None
        );
    }

    #[test]
    fn with_nobody_on_call_the_shift_changes_and_says_so() {
        let (policy, mut events) = gold_p1("2026-11-23T10:00:00+01:00", "nl");
        let staffing = Staffing {
            candidates: &[],
            on_call: &[],
        };
        let evening = change_at(&policy, &mut events, &staffing, "2026-11-23T17:00:00+01:00");
        assert!(
            matches!(&evening[..], [EventData::ShiftChanged { after_hours: true, reason, .. }]
                if reason.contains("nobody is on call for emea")),
            "{evening:?}"
        );
        let snapshot = Snapshot::of(&events).expect("snapshot");
        assert_eq!(snapshot.assignee, Some(7), "it stays with its advisor");
        assert!(
            snapshot.after_hours,
            "and the sweep does not come back for it"
        );
    }

    #[test]
    fn a_reassignment_during_the_night_stands_in_the_morning() {
        let (policy, mut events) = gold_p1("2026-11-23T10:00:00+01:00", "fr");
        let candidates = [
            advisor(7, "emea", &["fr"], true, 0),
            advisor(9, "emea", &["fr", "en"], true, 5),
        ];
        let rota = night_rota();
        let staffing = Staffing {
            candidates: &candidates,
            on_call: &rota,
        };
        assert_eq!(
            change_at(&policy, &mut events, &staffing, "2026-11-23T17:00:00+01:00").len(),
            2
        );
        let seq = u32::try_from(events.len() + 1).expect("seq");
        events.push(crate::ticket::TicketEvent {
            seq,
            at: "2026-11-23T22:00:00+01:00".parse().expect("instant"),
            actor: crate::ticket::Actor::Staff {
                id: 30,
                role: Role::SupportManager,
            },
            data: EventData::Assigned {
                advisor: Some(9),
                reason: Some("Hugo takes it first thing".into()),
                overridden: None,
            },
        });
        let morning = change_at(&policy, &mut events, &staffing, "2026-11-24T09:00:00+01:00");
        assert!(
            matches!(
                &morning[..],
                [EventData::ShiftChanged {
                    after_hours: false,
                    ..
                }]
            ),
            "the manager's choice stands: {morning:?}"
        );
        let snapshot = Snapshot::of(&events).expect("snapshot");
        assert_eq!(snapshot.assignee, Some(9));
        assert!(!snapshot.reassigned_after_hours);

        // An advisor away in the morning does not get it back: assignment picks.
        let (policy, mut events) = gold_p1("2026-11-23T10:00:00+01:00", "fr");
        let away = [
            advisor(7, "emea", &["fr"], false, 0),
            advisor(8, "emea", &["fr"], true, 2),
        ];
        let staffing = Staffing {
            candidates: &away,
            on_call: &rota,
        };
        change_at(&policy, &mut events, &staffing, "2026-11-23T17:00:00+01:00");
        let morning = change_at(&policy, &mut events, &staffing, "2026-11-24T09:00:00+01:00");
        assert!(
            matches!(
                &morning[..],
                [
                    _,
                    EventData::Assigned {
                        advisor: Some(8),
                        ..
                    }
                ]
            ),
            "{morning:?}"
        );
    }
}
