//! Community questions and answers (caredesk_domain::resources::community): customers'
//! contacts ask, contacts and staff answer, the asker or staff accept, staff verify,
//! everyone signed in votes, moderators hide and show with a reason, and the asker turns a
//! question into a ticket in one step. The asker hears of each answer by mail, through the
//! outbox, in their language.
//!
//! What a reader gets is cut here: nobody signed out reads a question; a hidden question or
//! answer is read by staff and its author only; which ticket a question became and the
//! moderation history, by the asker (the ticket) and staff only. A search or a list never
//! counts what the reader may not read.

use caredesk_domain::resources::community::{
    AnswerFacts, AnswerNotice, CommunityRefusal, HistoryStep, ModerationAction, Participant,
    QuestionFacts, QuestionFields, decide_accept, decide_answer, decide_ask, decide_moderation,
    decide_ticket, decide_verify, decide_vote, post_problems, question_problems, reason_problems,
};
use caredesk_domain::resources::search::{self, Fragment, plain_text};
use caredesk_store::{
    HiddenQuestions, NewQuestion, QuestionFilter, QuestionHit, StoredAnswer, StoredQuestion,
};
use jiff::Timestamp;
use serde::Serialize;

use crate::intake::{OpenTicket, Opened, open_ticket};
use crate::resources::{ranked_page, skip};
use crate::{Caller, Desk, DeskError, FieldProblem};

/// Longest snippet of a question found, in characters.
const SNIPPET_WIDTH: usize = 220;

/// A question as its reader may read it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuestionView {
    pub id: i64,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub product_line: Option<String>,
    pub release: Option<String>,
    pub language: String,
    /// The asker's name (never their organisation).
    pub asked_by: String,
    /// Whether the reader asked it.
    pub yours: bool,
    pub created_at: Timestamp,
    /// Its last answer, acceptance, verification or moderation.
    pub active_at: Timestamp,
    pub accepted_answer_id: Option<i64>,
    /// The ticket it became: for its asker and staff only.
    pub ticket_id: Option<i64>,
    /// Why a moderator hid it: only staff and the asker read a hidden question.
    pub hidden_reason: Option<String>,
    /// The answers the reader may read, oldest first.
    pub answers: Vec<AnswerView>,
    /// Every step, moderation included with its reasons: for staff only (empty otherwise).
    pub history: Vec<StepView>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnswerView {
    pub id: i64,
    /// Markdown.
    pub body: String,
    pub answered_by: String,
    /// Whether its author is on the desk's staff.
    pub by_staff: bool,
    /// Whether the reader wrote it.
    pub yours: bool,
    pub votes: i64,
    /// Whether the reader voted for it.
    pub voted: bool,
    pub accepted: bool,
    /// The member of staff who vouched for it.
    pub verified_by: Option<String>,
    pub verified_at: Option<Timestamp>,
    /// Why a moderator hid it: only staff and its author read a hidden answer.
    pub hidden_reason: Option<String>,
    pub created_at: Timestamp,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepView {
    pub step: HistoryStep,
    pub answer_id: Option<i64>,
    pub by: String,
    pub by_staff: bool,
    /// A moderator's reason (hidden, shown).
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// A contact asks `fields`.
pub async fn ask(
    desk: &Desk,
    caller: &Caller,
    fields: QuestionFields,
) -> Result<QuestionView, DeskError> {
    let who = participant(caller)?;
    decide_ask(who).map_err(forbidden)?;
    let Caller::Contact { id, customer_id } = *caller else {
        return Err(forbidden(CommunityRefusal::AskersOnly));
    };
    let catalog = releases_of(desk, fields.product_line.as_deref()).await?;
    let problems: Vec<FieldProblem> = question_problems(&desk.policy(), &fields, &catalog)
        .into_iter()
        .map(|(field, reason)| FieldProblem::of(field, reason))
        .collect();
    if !problems.is_empty() {
        return Err(DeskError::Invalid(problems));
    }
    let title = fields.title.trim().to_string();
    let (title_terms, body_terms) = search::indexed_terms(&title, &fields.body, &fields.language);
    let question = NewQuestion {
        customer_id,
        contact_id: id,
        title_terms,
        body_terms,
        product_line: fields.product_line,
        release: fields.release,
        language: fields.language,
        title,
        body: fields.body,
    };
    let id = desk.store.ask_question(&question, desk.clock.now()).await?;
    question_for(desk, Some(caller), id).await
}

/// Question `id` as `reader` may read it; not found when they may not read it at all.
pub async fn question_for(
    desk: &Desk,
    reader: Option<&Caller>,
    id: i64,
) -> Result<QuestionView, DeskError> {
    let Some(reader) = reader else {
        return Err(DeskError::NotFound);
    };
    let stored = desk.store.community_question(id).await?;
    let voted = match reader {
        Caller::System => Vec::new(),
        caller => desk.store.votes_of(id, &caller.key()).await?,
    };
    view_of(stored, reader, &voted)
}

/// `caller` answers question `id`; the asker is told (unless they answered themselves).
pub async fn answer(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    body: &str,
) -> Result<QuestionView, DeskError> {
    let who = participant(caller)?;
    let question = readable(desk, caller, id).await?;
    decide_answer(question_facts(&question)).map_err(conflict)?;
    if let Some(reason) = post_problems(body) {
        return Err(DeskError::Invalid(vec![FieldProblem::of("body", reason)]));
    }
    let answered_by = name_of(desk, who).await?;
    let notice = (who
        != (Participant::Contact {
            id: question.contact_id,
        }))
    .then(|| AnswerNotice {
        question_id: question.id,
        question_title: question.title.clone(),
        answered_by,
        by_staff: who.is_staff(),
    });
    let terms = search::markdown_terms(body, &question.language);
    desk.store
        .add_answer(id, who, body, &terms, notice.as_ref(), desk.clock.now())
        .await?;
    question_for(desk, Some(caller), id).await
}

/// The asker or staff accept answer `answer` of question `id`.
pub async fn accept(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    answer: i64,
) -> Result<QuestionView, DeskError> {
    let who = participant(caller)?;
    let question = readable(desk, caller, id).await?;
    let found = readable_answer(&question, caller, answer)?;
    decide_accept(
        who,
        question_facts(&question),
        answer_facts(&question, found, who),
    )
    .map_err(refusal)?;
    desk.store
        .accept_answer(id, answer, who, desk.clock.now())
        .await?;
    question_for(desk, Some(caller), id).await
}

/// Staff vouch for answer `answer` of question `id`.
pub async fn verify(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    answer: i64,
) -> Result<QuestionView, DeskError> {
    let who = participant(caller)?;
    let question = readable(desk, caller, id).await?;
    let found = readable_answer(&question, caller, answer)?;
    decide_verify(who, answer_facts(&question, found, who)).map_err(refusal)?;
    desk.store
        .verify_answer(id, answer, who, desk.clock.now())
        .await?;
    question_for(desk, Some(caller), id).await
}

/// `caller` votes for answer `answer` of question `id` (`up`), or takes their vote back.
pub async fn vote(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    answer: i64,
    up: bool,
) -> Result<QuestionView, DeskError> {
    let who = participant(caller)?;
    let question = readable(desk, caller, id).await?;
    let found = readable_answer(&question, caller, answer)?;
    if up {
        decide_vote(answer_facts(&question, found, who)).map_err(refusal)?;
    }
    desk.store
        .vote(answer, &who.key(), up, desk.clock.now())
        .await?;
    question_for(desk, Some(caller), id).await
}

/// A moderator hides or shows question `id`, or its answer `answer`, saying why.
pub async fn moderate(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    answer: Option<i64>,
    action: ModerationAction,
    reason: &str,
) -> Result<QuestionView, DeskError> {
    let who = participant(caller)?;
    let question = readable(desk, caller, id).await?;
    let hidden = match answer {
        Some(answer) => readable_answer(&question, caller, answer)?
            .hidden_reason
            .is_some(),
        None => question.hidden_reason.is_some(),
    };
    decide_moderation(who, action, hidden).map_err(refusal)?;
    if let Some(problem) = reason_problems(reason) {
        return Err(DeskError::Invalid(vec![FieldProblem::of(
            "reason", problem,
        )]));
    }
    let reason = reason.trim();
    let hidden_reason = (action == ModerationAction::Hide).then_some(reason);
    desk.store
        .moderate(id, answer, hidden_reason, who, reason, desk.clock.now())
        .await?;
    question_for(desk, Some(caller), id).await
}

/// What the asker adds to their question to make it a ticket.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketFromQuestion {
    pub severity: String,
    #[serde(default)]
    pub business_impact: String,
    /// The product line, when the question names none.
    #[serde(default)]
    pub product_line: Option<String>,
    /// The version the customer runs (the question's release by default).
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub serial: String,
}

/// The asker turns question `id` into a ticket: its title and text, with a line naming the
/// question, and what they add. Once: asked again, it is refused (the question names its
/// ticket).
pub async fn open_ticket_from(
    desk: &Desk,
    caller: &Caller,
    id: i64,
    form: &TicketFromQuestion,
) -> Result<Opened, DeskError> {
    let who = participant(caller)?;
    let question = readable(desk, caller, id).await?;
    decide_ticket(who, question_facts(&question)).map_err(refusal)?;
    let request = OpenTicket {
        channel: "portal".to_string(),
        severity: form.severity.clone(),
        product_line: form
            .product_line
            .clone()
            .or_else(|| question.product_line.clone())
            .unwrap_or_default(),
        version: form
            .version
            .clone()
            .or_else(|| question.release.clone())
            .unwrap_or_default(),
        serial: form.serial.clone(),
        subject: question.title.clone(),
        description: format!(
            "{}\n\n(Community question {}: /community/questions/{})",
            question.body.trim_end(),
            question.id,
            question.id
        ),
        business_impact: form.business_impact.clone(),
        ..OpenTicket::default()
    };
    // One key per question: a retry, or a link that failed after the ticket was written,
    // finds the same ticket again.
    let opened = open_ticket(
        desk,
        caller,
        &request,
        Some(format!("community-question-{id}")),
    )
    .await?;
    if let Opened::Ticket(created) = &opened {
        desk.store
            .link_question_to_ticket(id, created.ticket.id, who, desk.clock.now())
            .await?;
    }
    Ok(opened)
}

/// What someone looks for among the questions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuestionQuery {
    /// The words typed; empty lists the latest active first.
    pub text: String,
    pub language: Option<String>,
    pub product_line: Option<String>,
    pub release: Option<String>,
    /// Only questions with an accepted or a verified answer.
    pub solved_only: bool,
    /// Only the reader's own questions.
    pub mine: bool,
    pub limit: i64,
    pub offset: i64,
}

/// A question found, with the lines of its text that match.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionFound {
    pub hit: QuestionHit,
    pub snippet: Vec<Fragment>,
}

/// The questions `reader` may read that match `query`: nothing for someone signed out.
pub async fn search_questions(
    desk: &Desk,
    reader: Option<&Caller>,
    query: &QuestionQuery,
) -> Result<Vec<QuestionFound>, DeskError> {
    let (hidden, asker) = match reader {
        None => return Ok(Vec::new()),
        Some(Caller::Contact { id, .. }) => (HiddenQuestions::OfContact(*id), Some(*id)),
        Some(Caller::Staff { .. } | Caller::System) => (HiddenQuestions::All, None),
    };
    let filter = QuestionFilter {
        hidden,
        languages: query.language.iter().cloned().collect(),
        product_line: query.product_line.clone(),
        release: query.release.clone(),
        solved_only: query.solved_only,
        asked_by: if query.mine { asker } else { None },
    };
    if query.mine && asker.is_none() {
        return Ok(Vec::new());
    }
    let policy = desk.policy();
    let languages: Vec<&str> = match &query.language {
        Some(language) => vec![language.as_str()],
        None => policy
            .languages
            .supported
            .iter()
            .map(String::as_str)
            .collect(),
    };
    let wanted = search::query_terms(&query.text, &languages);
    let hits = if query.text.trim().is_empty() {
        desk.store
            .list_questions(&filter, query.limit, query.offset)
            .await?
    } else {
        // A ranking has no cursor: the earlier pages are found again and skipped. Its
        // results end after the best SEARCH_DEPTH.
        let Some((skipped, shown)) = ranked_page(query.offset, query.limit) else {
            return Ok(Vec::new());
        };
        let hits = desk
            .store
            .search_questions(&wanted, &filter, shown.saturating_add(skipped))
            .await?;
        skip(hits, skipped)
    };
    Ok(hits
        .into_iter()
        .map(|hit| {
            let text = plain_text(&hit.body);
            let snippet = search::snippet(&text, &hit.language, &wanted, SNIPPET_WIDTH);
            QuestionFound { hit, snippet }
        })
        .collect())
}

/// Who takes part: people only; the desk's operator does not write in the community.
fn participant(caller: &Caller) -> Result<Participant, DeskError> {
    match *caller {
        Caller::Contact { id, .. } => Ok(Participant::Contact { id }),
        Caller::Staff { id, role } => Ok(Participant::Staff { id, role }),
        Caller::System => Err(DeskError::Forbidden(
            "the community is for people signed in: a contact or a member of staff".into(),
        )),
    }
}

/// Question `id` if `caller` may read it.
async fn readable(desk: &Desk, caller: &Caller, id: i64) -> Result<StoredQuestion, DeskError> {
    let question = desk.store.community_question(id).await?;
    if question.hidden_reason.is_some() && !sees_hidden(caller, question.contact_id) {
        return Err(DeskError::NotFound);
    }
    Ok(question)
}

/// Answer `answer` of `question` if `caller` may read it.
fn readable_answer<'a>(
    question: &'a StoredQuestion,
    caller: &Caller,
    answer: i64,
) -> Result<&'a StoredAnswer, DeskError> {
    question
        .answers
        .iter()
        .find(|found| found.id == answer)
        .filter(|found| found.hidden_reason.is_none() || sees_hidden_answer(caller, found))
        .ok_or(DeskError::NotFound)
}

/// Whether `caller` reads a hidden question asked by `asker`: staff and the asker.
fn sees_hidden(caller: &Caller, asker: i64) -> bool {
    match *caller {
        Caller::Contact { id, .. } => id == asker,
        Caller::Staff { .. } | Caller::System => true,
    }
}

fn sees_hidden_answer(caller: &Caller, answer: &StoredAnswer) -> bool {
    match (*caller, answer.author) {
        (Caller::Contact { id, .. }, Participant::Contact { id: author }) => id == author,
        (Caller::Contact { .. }, Participant::Staff { .. }) => false,
        (Caller::Staff { .. } | Caller::System, _) => true,
    }
}

fn is_staff(caller: &Caller) -> bool {
    matches!(caller, Caller::Staff { .. } | Caller::System)
}

fn question_facts(question: &StoredQuestion) -> QuestionFacts {
    QuestionFacts {
        asker: question.contact_id,
        hidden: question.hidden_reason.is_some(),
        ticket: question.ticket_id,
    }
}

fn answer_facts(question: &StoredQuestion, answer: &StoredAnswer, who: Participant) -> AnswerFacts {
    AnswerFacts {
        hidden: answer.hidden_reason.is_some(),
        verified: answer.verified_at.is_some(),
        accepted: question.accepted_answer_id == Some(answer.id),
        by_participant: answer.author == who,
    }
}

fn view_of(
    stored: StoredQuestion,
    reader: &Caller,
    voted: &[i64],
) -> Result<QuestionView, DeskError> {
    if stored.hidden_reason.is_some() && !sees_hidden(reader, stored.contact_id) {
        return Err(DeskError::NotFound);
    }
    let staff = is_staff(reader);
    let yours = matches!(*reader, Caller::Contact { id, .. } if id == stored.contact_id);
    let reader_key = reader.key();
    let answers = stored
        .answers
        .iter()
        .filter(|answer| answer.hidden_reason.is_none() || sees_hidden_answer(reader, answer))
        .map(|answer| AnswerView {
            id: answer.id,
            body: answer.body.clone(),
            answered_by: answer.author_name.clone(),
            by_staff: answer.author.is_staff(),
            yours: answer.author.key() == reader_key,
            votes: answer.votes,
            voted: voted.contains(&answer.id),
            accepted: stored.accepted_answer_id == Some(answer.id),
            verified_by: answer.verified_by.clone(),
            verified_at: answer.verified_at,
            hidden_reason: answer.hidden_reason.clone(),
            created_at: answer.created_at,
        })
        .collect();
    let history = if staff {
        stored
            .history
            .iter()
            .map(|step| StepView {
                step: step.step,
                answer_id: step.answer_id,
                by: step.actor_name.clone(),
                by_staff: step.actor.is_staff(),
                reason: step.reason.clone(),
                at: step.at,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(QuestionView {
        id: stored.id,
        title: stored.title,
        body: stored.body,
        product_line: stored.product_line,
        release: stored.release,
        language: stored.language,
        asked_by: stored.asker_name,
        yours,
        created_at: stored.created_at,
        active_at: stored.active_at,
        accepted_answer_id: stored.accepted_answer_id,
        ticket_id: stored.ticket_id.filter(|_| staff || yours),
        hidden_reason: stored.hidden_reason,
        answers,
        history,
    })
}

async fn name_of(desk: &Desk, who: Participant) -> Result<String, DeskError> {
    Ok(match who {
        Participant::Contact { id } => desk.store.contact(id).await?.name,
        Participant::Staff { id, .. } => desk.store.staff_member(id).await?.name,
    })
}

async fn releases_of(desk: &Desk, line: Option<&str>) -> Result<Vec<String>, DeskError> {
    Ok(match line {
        Some(line) => desk
            .store
            .releases_of(line)
            .await?
            .into_iter()
            .map(|release| release.version)
            .collect(),
        None => Vec::new(),
    })
}

/// A refusal of someone who may not do it at all.
fn forbidden(refusal: CommunityRefusal) -> DeskError {
    DeskError::Forbidden(refusal.to_string())
}

/// A refusal of what the question's or answer's state does not allow now.
fn conflict(refusal: CommunityRefusal) -> DeskError {
    DeskError::Conflict {
        detail: refusal.to_string(),
        state: None,
        allowed_actions: None,
    }
}

fn refusal(refusal: CommunityRefusal) -> DeskError {
    match refusal {
        CommunityRefusal::AskersOnly
        | CommunityRefusal::NotTheAsker
        | CommunityRefusal::StaffOnly
        | CommunityRefusal::ModeratorsOnly
        | CommunityRefusal::OwnAnswer
        | CommunityRefusal::NotTheAskersTicket => forbidden(refusal),
        CommunityRefusal::Hidden
        | CommunityRefusal::AlreadyThere(_)
        | CommunityRefusal::TicketOpened => conflict(refusal),
    }
}
