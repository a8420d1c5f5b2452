//! Staff find tickets by the words people wrote in them: the subject and description, and
//! every reply, message, internal note and reason since (the console and the API's
//! `/tickets/search`). Customers search their own tickets by number and subject on the
//! portal; this search reads internal notes, so it is for staff only.
//!
//! Words are analysed as resource search analyses them (stemmed in each language of the
//! policy, accents left out, Japanese cut into pairs of characters), and a ticket is found
//! by a text that holds every word. The latest written texts come first: what an advisor
//! looks for is most often recent, and the search's cost stays bounded however common the
//! words are.

use std::collections::HashSet;

use caredesk_domain::reason::Reason;
use caredesk_domain::resources::search::{self, Fragment};
use caredesk_domain::ticket::{EventData, Role};
use caredesk_store::TicketRecord;

use crate::{Caller, Desk, DeskError, FieldProblem};

/// The longest search the desk takes, in characters.
pub const QUERY_MAX_CHARS: usize = 500;

/// About how many characters of a text are shown around its first match.
const SNIPPET_WIDTH: usize = 160;

/// Texts read for each ticket a page shows: a ticket with several matching texts is shown
/// once, for its latest.
const TEXTS_PER_TICKET: usize = 4;

/// A ticket found, by the latest of its texts that holds every word.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketFound {
    pub ticket: TicketRecord,
    /// The text's event: its number on the timeline and its kind (`created` for the
    /// subject and description).
    pub seq: u32,
    pub kind: &'static str,
    /// Whether the customer sees that text (an internal note does not).
    pub public: bool,
    /// The text around its first match, the matching words marked.
    pub snippet: Vec<Fragment>,
}

/// A page of tickets found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketsFound {
    /// The ticket whose matching text was written last first.
    pub tickets: Vec<TicketFound>,
    /// Give it as `before` for the next page (older texts); none when nothing more was
    /// found. A ticket shown on this page may come again on the next for an older text.
    pub next: Option<i64>,
}

/// The tickets whose texts, written before event `before` when given, hold every word of
/// `query`: at most `limit`, the latest written first.
pub async fn search(
    desk: &Desk,
    caller: &Caller,
    query: &str,
    before: Option<i64>,
    limit: usize,
) -> Result<TicketsFound, DeskError> {
    caller.require_role(&[
        Role::Advisor,
        Role::CustomerSuccessManager,
        Role::SupportManager,
        Role::Admin,
    ])?;
    if query.is_empty() {
        return Err(DeskError::Invalid(vec![FieldProblem::of(
            "q",
            Reason::required(),
        )]));
    }
    if query.chars().count() > QUERY_MAX_CHARS {
        return Err(DeskError::Invalid(vec![FieldProblem::of(
            "q",
            Reason::too_long(QUERY_MAX_CHARS),
        )]));
    }
    let policy = desk.policy();
    let languages: Vec<&str> = policy
        .languages
        .supported
        .iter()
        .map(String::as_str)
        .collect();
    let words = search::required_words(query, &languages);
    if words.is_empty() {
        // Spaces, or only words too common to be indexed ("the", "and"): nothing holds them.
        return Ok(TicketsFound::default());
    }
    let wanted = search::query_terms(query, &languages);
    let budget = limit.saturating_mul(TEXTS_PER_TICKET);
    let hits = desk
        .store
        .search_ticket_texts(&words, before, i64::try_from(budget).unwrap_or(i64::MAX))
        .await?;
    let mut shown = HashSet::new();
    let mut tickets = Vec::new();
    let mut consumed = 0;
    for text in &hits.texts {
        if tickets.len() == limit {
            break;
        }
        consumed += 1;
        if !shown.insert(text.ticket_id) {
            continue;
        }
        let Some(ticket) = hits
            .tickets
            .iter()
            .find(|ticket| ticket.id == text.ticket_id)
        else {
            continue;
        };
        let written = match &text.data {
            EventData::Created { .. } => format!("{} — {}", ticket.subject, ticket.description),
            data => data.written_text().join(" — "),
        };
        tickets.push(TicketFound {
            snippet: search::snippet(&written, &ticket.language, &wanted, SNIPPET_WIDTH),
            seq: text.seq,
            kind: text.data.kind(),
            public: text.data.is_public(),
            ticket: ticket.clone(),
        });
    }
    // More may be written before the last text taken: when some texts read were left, or
    // when the store had more than were read.
    let everything_seen = consumed == hits.texts.len() && hits.texts.len() < budget;
    let next = if everything_seen || consumed == 0 {
        None
    } else {
        hits.texts.get(consumed - 1).map(|text| text.event_id)
    };
    Ok(TicketsFound { tickets, next })
}
