//! Who works a new ticket (POLICY.md §7): an available advisor of the ticket's region who
//! speaks its language, the least loaded one; after hours on extended cover, the advisor on
//! call for that office.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ticket::Role;

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

/// A staff member as a manual assignment reads them.
#[derive(Clone, Copy, Debug)]
pub struct Assignee<'a> {
    pub name: &'a str,
    pub role: Role,
    pub region: Option<&'a str>,
    pub languages: &'a [String],
}

/// Why `assignee` does not fit a ticket of `region` in `language` (POLICY.md §7: an advisor
/// of the ticket's region who speaks its language, or the fallback language, which every
/// region's advisors may answer in); none when they fit.
pub fn misfit(
    region: &str,
    language: &str,
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
    if !speaks(language) && !speaks(fallback_language) {
        return Some(format!(
            "{name} speaks neither the ticket's language ({language}) nor {fallback_language}"
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
        assert_eq!(misfit("emea", "fr", "en", &advisor("emea", &fr)), None);
        assert_eq!(
            misfit("emea", "fr", "en", &advisor("emea", &en)),
            None,
            "English is every region's fallback"
        );
        assert_eq!(
            misfit("emea", "fr", "en", &advisor("emea", &de)).as_deref(),
            Some("Ana speaks neither the ticket's language (fr) nor en")
        );
        assert_eq!(
            misfit("emea", "fr", "en", &advisor("americas", &fr)).as_deref(),
            Some("Ana is an advisor of americas, not of emea")
        );
        let manager = Assignee {
            role: Role::SupportManager,
            ..advisor("emea", &fr)
        };
        assert!(
            misfit("emea", "fr", "en", &manager).is_some_and(|why| why.contains("not an advisor"))
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
}
