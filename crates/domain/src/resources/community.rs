//! Community questions and answers (POLICY.md "Resources", the seed's "Portail Community":
//! customers exchange ideas with peers and talk to experts).
//!
//! A customer's contact asks a question about a product line (and, if they know it, a
//! release) in a language; other customers' contacts and staff answer. The asker or staff
//! accept one answer; staff mark answers as verified; everyone signed in votes for answers
//! other than their own, once each. Support managers and administrators moderate: they hide
//! a question or an answer with a reason and may show it again, every step kept in the
//! question's history. The asker may turn their question into a ticket in one step.
//!
//! Who reads what: questions are for people signed in (customers' contacts and staff), never
//! for anonymous visitors. A hidden question or answer is read by staff and by its author
//! only; which ticket a question became, by its asker and staff only.

use serde::{Deserialize, Serialize};

use crate::policy::Policy;
use crate::reason::Reason;
use crate::resources::FieldReason;
use crate::ticket::Role;

/// The longest question title.
pub const QUESTION_TITLE_MAX: usize = 200;
/// The longest question or answer (Markdown), in characters.
pub const POST_MAX: usize = 20_000;
/// The longest moderation reason.
pub const REASON_MAX: usize = 500;
/// The longest release (version) named.
pub const VERSION_MAX: usize = 50;

/// Who takes part: a customer's contact (of a customer), or a member of staff in a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Participant {
    Contact { id: i64 },
    Staff { id: i64, role: Role },
}

impl Participant {
    pub fn is_staff(&self) -> bool {
        matches!(self, Participant::Staff { .. })
    }

    /// Whether they moderate: support managers and administrators.
    pub fn moderates(&self) -> bool {
        matches!(
            self,
            Participant::Staff {
                role: Role::SupportManager | Role::Admin,
                ..
            }
        )
    }

    /// How a post's author is kept: "contact:3", "staff:7".
    pub fn key(&self) -> String {
        match self {
            Participant::Contact { id } => format!("contact:{id}"),
            Participant::Staff { id, .. } => format!("staff:{id}"),
        }
    }
}

/// What may be done to a question or an answer besides answering and voting.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationAction {
    /// Hide from everyone but staff and the author, with a reason.
    Hide,
    /// Show again, with a reason.
    Show,
}

impl ModerationAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            ModerationAction::Hide => "hide",
            ModerationAction::Show => "show",
        }
    }
}

/// A step of a question's history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryStep {
    Asked,
    Answered,
    Accepted,
    Verified,
    Hidden,
    Shown,
    TicketOpened,
}

impl HistoryStep {
    pub const ALL: [HistoryStep; 7] = [
        HistoryStep::Asked,
        HistoryStep::Answered,
        HistoryStep::Accepted,
        HistoryStep::Verified,
        HistoryStep::Hidden,
        HistoryStep::Shown,
        HistoryStep::TicketOpened,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            HistoryStep::Asked => "asked",
            HistoryStep::Answered => "answered",
            HistoryStep::Accepted => "accepted",
            HistoryStep::Verified => "verified",
            HistoryStep::Hidden => "hidden",
            HistoryStep::Shown => "shown",
            HistoryStep::TicketOpened => "ticket_opened",
        }
    }

    pub fn parse(text: &str) -> Option<HistoryStep> {
        HistoryStep::ALL
            .into_iter()
            .find(|step| step.as_str() == text)
    }
}

/// What the asker's notice of a new answer says, kept with the notice when it is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerNotice {
    pub question_id: i64,
    pub question_title: String,
    /// The answer's author, as shown beside the answer.
    pub answered_by: String,
    /// Whether the author is on the desk's staff.
    pub by_staff: bool,
}

/// Why something asked of a question or an answer is not done.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommunityRefusal {
    #[error("questions are asked by customers' contacts; staff answer them")]
    AskersOnly,
    #[error("only the asker or staff accept an answer")]
    NotTheAsker,
    #[error("only staff verify an answer")]
    StaffOnly,
    #[error("only support managers and administrators moderate")]
    ModeratorsOnly,
    #[error("this is hidden: show it again first")]
    Hidden,
    #[error("it is {0} already")]
    AlreadyThere(&'static str),
    #[error("one does not vote for one's own answer")]
    OwnAnswer,
    #[error("only the asker turns a question into a ticket")]
    NotTheAskersTicket,
    #[error("this question was turned into a ticket already")]
    TicketOpened,
}

/// What is known of a question when something is asked of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuestionFacts {
    /// The asking contact.
    pub asker: i64,
    pub hidden: bool,
    pub ticket: Option<i64>,
}

/// What is known of an answer when something is asked of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnswerFacts {
    pub hidden: bool,
    pub verified: bool,
    pub accepted: bool,
    pub by_participant: bool,
}

/// Whether `who` may ask: customers' contacts.
pub fn decide_ask(who: Participant) -> Result<(), CommunityRefusal> {
    match who {
        Participant::Contact { .. } => Ok(()),
        Participant::Staff { .. } => Err(CommunityRefusal::AskersOnly),
    }
}

/// Whether `who` may answer `question`: anyone signed in, on a question not hidden.
pub fn decide_answer(question: QuestionFacts) -> Result<(), CommunityRefusal> {
    if question.hidden {
        return Err(CommunityRefusal::Hidden);
    }
    Ok(())
}

/// Whether `who` may accept `answer` of `question`: the asker or staff, neither hidden.
pub fn decide_accept(
    who: Participant,
    question: QuestionFacts,
    answer: AnswerFacts,
) -> Result<(), CommunityRefusal> {
    let is_asker = matches!(who, Participant::Contact { id } if id == question.asker);
    if !is_asker && !who.is_staff() {
        return Err(CommunityRefusal::NotTheAsker);
    }
    if question.hidden || answer.hidden {
        return Err(CommunityRefusal::Hidden);
    }
    if answer.accepted {
        return Err(CommunityRefusal::AlreadyThere("accepted"));
    }
    Ok(())
}

/// Whether `who` may mark `answer` as verified: staff, on an answer shown and not yet verified.
pub fn decide_verify(who: Participant, answer: AnswerFacts) -> Result<(), CommunityRefusal> {
    if !who.is_staff() {
        return Err(CommunityRefusal::StaffOnly);
    }
    if answer.hidden {
        return Err(CommunityRefusal::Hidden);
    }
    if answer.verified {
        return Err(CommunityRefusal::AlreadyThere("verified"));
    }
    Ok(())
}

/// Whether `who` may vote for `answer`: not its author, and not while it is hidden.
pub fn decide_vote(answer: AnswerFacts) -> Result<(), CommunityRefusal> {
    if answer.by_participant {
        return Err(CommunityRefusal::OwnAnswer);
    }
    if answer.hidden {
        return Err(CommunityRefusal::Hidden);
    }
    Ok(())
}

/// Whether `who` may `action` a post that is `hidden` now.
pub fn decide_moderation(
    who: Participant,
    action: ModerationAction,
    hidden: bool,
) -> Result<(), CommunityRefusal> {
    if !who.moderates() {
        return Err(CommunityRefusal::ModeratorsOnly);
    }
    match (action, hidden) {
        (ModerationAction::Hide, true) => Err(CommunityRefusal::AlreadyThere("hidden")),
        (ModerationAction::Show, false) => Err(CommunityRefusal::AlreadyThere("shown")),
        _ => Ok(()),
    }
}

/// Whether `who` may turn `question` into a ticket: its asker, once, while it is shown.
pub fn decide_ticket(who: Participant, question: QuestionFacts) -> Result<(), CommunityRefusal> {
    if !matches!(who, Participant::Contact { id } if id == question.asker) {
        return Err(CommunityRefusal::NotTheAskersTicket);
    }
    if question.hidden {
        return Err(CommunityRefusal::Hidden);
    }
    if question.ticket.is_some() {
        return Err(CommunityRefusal::TicketOpened);
    }
    Ok(())
}

/// A question as its asker gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionFields {
    pub title: String,
    /// Markdown.
    pub body: String,
    pub product_line: Option<String>,
    /// A version of the product line's releases.
    pub release: Option<String>,
    pub language: String,
}

/// What is wrong with `fields`, every field at once; `catalog` is the versions of the
/// product line's releases.
pub fn question_problems(
    policy: &Policy,
    fields: &QuestionFields,
    catalog: &[String],
) -> Vec<FieldReason> {
    let mut problems = Vec::new();
    if !policy.languages.supported.contains(&fields.language) {
        problems.push((
            "language",
            Reason::invalid(format!(
                "\"{}\" is not a language of the policy ({})",
                fields.language,
                policy.languages.supported.join(", ")
            )),
        ));
    }
    if fields.title.trim().is_empty() {
        problems.push(("title", Reason::required()));
    } else if fields.title.chars().count() > QUESTION_TITLE_MAX {
        problems.push(("title", Reason::too_long(QUESTION_TITLE_MAX)));
    } else if fields.title.contains(char::is_control) {
        problems.push((
            "title",
            Reason::invalid("one line, without tabs or line breaks"),
        ));
    }
    problems.extend(
        post_problems(&fields.body)
            .into_iter()
            .map(|reason| ("body", reason)),
    );
    match &fields.product_line {
        Some(line) if !policy.product_lines.contains_key(line) => problems.push((
            "product_line",
            Reason::invalid(format!(
                "\"{line}\" is not a product line of the policy ({})",
                policy
                    .product_lines
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )),
        None if fields.release.is_some() => problems.push((
            "release",
            Reason::invalid("a release belongs to a product line: name it"),
        )),
        Some(_) => {
            if let Some(release) = &fields.release
                && !catalog.contains(release)
            {
                problems.push((
                    "release",
                    if release.chars().count() > VERSION_MAX {
                        Reason::too_long(VERSION_MAX)
                    } else {
                        Reason::invalid(format!(
                            "\"{release}\" is not a release of the product line"
                        ))
                    },
                ));
            }
        }
        None => {}
    }
    problems
}

/// What is wrong with a question's or an answer's text.
pub fn post_problems(body: &str) -> Option<Reason> {
    if body.trim().is_empty() {
        Some(Reason::required())
    } else if body.chars().count() > POST_MAX {
        Some(Reason::too_long(POST_MAX))
    } else {
        None
    }
}

/// What is wrong with a moderator's reason.
pub fn reason_problems(reason: &str) -> Option<Reason> {
    if reason.trim().is_empty() {
        Some(Reason::required())
    } else if reason.chars().count() > REASON_MAX {
        Some(Reason::too_long(REASON_MAX))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASKER: Participant = Participant::Contact { id: 3 };
    const PEER: Participant = Participant::Contact { id: 4 };
    const ADVISOR: Participant = Participant::Staff {
        id: 7,
        role: Role::Advisor,
    };
    const MANAGER: Participant = Participant::Staff {
        id: 8,
        role: Role::SupportManager,
    };

    fn question() -> QuestionFacts {
        QuestionFacts {
            asker: 3,
            hidden: false,
            ticket: None,
        }
    }

    fn answer() -> AnswerFacts {
        AnswerFacts {
            hidden: false,
            verified: false,
            accepted: false,
            by_participant: false,
        }
    }

    #[test]
    fn contacts_ask_and_staff_answer() {
        assert_eq!(decide_ask(ASKER), Ok(()));
        assert_eq!(decide_ask(ADVISOR), Err(CommunityRefusal::AskersOnly));
        assert_eq!(decide_answer(question()), Ok(()));
        let hidden = QuestionFacts {
            hidden: true,
            ..question()
        };
        assert_eq!(decide_answer(hidden), Err(CommunityRefusal::Hidden));
    }

    #[test]
    fn the_asker_or_staff_accept_a_shown_answer_once() {
        assert_eq!(decide_accept(ASKER, question(), answer()), Ok(()));
        assert_eq!(decide_accept(ADVISOR, question(), answer()), Ok(()));
        assert_eq!(
            decide_accept(PEER, question(), answer()),
            Err(CommunityRefusal::NotTheAsker)
        );
        let hidden = AnswerFacts {
            hidden: true,
            ..answer()
        };
        assert_eq!(
            decide_accept(ASKER, question(), hidden),
            Err(CommunityRefusal::Hidden)
        );
        let accepted = AnswerFacts {
            accepted: true,
            ..answer()
        };
        assert_eq!(
            decide_accept(ASKER, question(), accepted),
            Err(CommunityRefusal::AlreadyThere("accepted"))
        );
    }

    #[test]
    fn only_staff_verify_and_nobody_votes_for_their_own_answer() {
        assert_eq!(decide_verify(ADVISOR, answer()), Ok(()));
        assert_eq!(
            decide_verify(ASKER, answer()),
            Err(CommunityRefusal::StaffOnly)
        );
        let verified = AnswerFacts {
            verified: true,
            ..answer()
        };
        assert_eq!(
            decide_verify(MANAGER, verified),
            Err(CommunityRefusal::AlreadyThere("verified"))
        );
        assert_eq!(decide_vote(answer()), Ok(()));
        let own = AnswerFacts {
            by_participant: true,
            ..answer()
        };
        assert_eq!(decide_vote(own), Err(CommunityRefusal::OwnAnswer));
    }

    #[test]
    fn moderators_hide_what_is_shown_and_show_what_is_hidden() {
        assert_eq!(
            decide_moderation(MANAGER, ModerationAction::Hide, false),
            Ok(())
        );
        assert_eq!(
            decide_moderation(ADVISOR, ModerationAction::Hide, false),
            Err(CommunityRefusal::ModeratorsOnly)
        );
        assert_eq!(
            decide_moderation(MANAGER, ModerationAction::Hide, true),
            Err(CommunityRefusal::AlreadyThere("hidden"))
        );
        assert_eq!(
            decide_moderation(MANAGER, ModerationAction::Show, true),
            Ok(())
        );
    }

    #[test]
    fn only_the_asker_turns_a_question_into_a_ticket_once() {
        assert_eq!(decide_ticket(ASKER, question()), Ok(()));
        assert_eq!(
            decide_ticket(PEER, question()),
            Err(CommunityRefusal::NotTheAskersTicket)
        );
        assert_eq!(
            decide_ticket(ADVISOR, question()),
            Err(CommunityRefusal::NotTheAskersTicket)
        );
        let turned = QuestionFacts {
            ticket: Some(9),
            ..question()
        };
        assert_eq!(
            decide_ticket(ASKER, turned),
            Err(CommunityRefusal::TicketOpened)
        );
    }

    #[test]
    fn post_and_reason_bounds() {
        assert_eq!(post_problems("  "), Some(Reason::required()));
        assert_eq!(post_problems("fine"), None);
        assert_eq!(
            post_problems(&"x".repeat(POST_MAX + 1)),
            Some(Reason::too_long(POST_MAX))
        );
        assert_eq!(reason_problems(""), Some(Reason::required()));
        assert_eq!(
            reason_problems(&"r".repeat(REASON_MAX + 1)),
            Some(Reason::too_long(REASON_MAX))
        );
    }
}
