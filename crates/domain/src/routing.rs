//! Who works a new ticket (POLICY.md §7): an available advisor of the ticket's region who
//! speaks its language, the least loaded one; after hours on extended cover, the advisor on
//! call for that office.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

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
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

/// What the ticket needs of its advisor.
#[derive(Clone, Copy, Debug)]
pub struct RoutingNeed<'a> {
    pub region: &'a str,
    pub language: &'a str,
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
    // Candidates matter only in office hours; after hours the rota decides.
    if need.after_hours {
        let shift = on_call
            .iter()
            .filter(|shift| {
                shift.region == need.region
                    && shift.starts_at <= need.now
                    && need.now < shift.ends_at
            })
            .min_by_key(|shift| (shift.starts_at, shift.staff_id));
        return match shift {
            Some(shift) => {
                let name = &shift.staff_name;
                Assignment {
                    advisor: Some(shift.staff_id),
                    reason: format!(
                        "opened after hours on extended cover: {name} is on call for {} until {}",
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
}
