//! Mail in: a customer's reply lands on its ticket as a customer message (which resumes
//! paused clocks), with its attachments; a message from a known contact that answers no
//! ticket of theirs opens a new portal ticket (acknowledged like any other). Machines
//! (auto-replies, bounces, lists, our own notices), unknown senders and empty messages are
//! recorded as ignored, with why; oversize and unreadable ones are answered as ignored (they
//! have no Message-ID to record). None creates anything.
//!
//! The sender is who the From: address says (as the MTA in front accepted it): whoever can
//! write as a contact can write on that contact's organisation's tickets, as by the portal
//! with the contact's password. Each Message-ID is handled once, whether it comes by
//! `caredesk mail ingest` (behind an MTA) or by `POST /api/v1/mail/inbound`; one whose
//! handling was cut short (the process killed) is taken up again after ten minutes.

use caredesk_domain::ticket::{Actor, Command, EventData, Refusal, Role};
use caredesk_mail::inbound::{InboundMail, ThreadReference, parse};
use caredesk_store::{Change, Contact, NewAttachment, Scope, StoreError, UpdateError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::routes::tickets::{Intake, OpenTicket, intake};
use crate::{AppState, Limits};

/// What became of one inbound message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct IngestReport {
    /// "appended" (to an open ticket), "opened" (a new ticket) or "ignored".
    pub outcome: String,
    pub ticket_id: Option<i64>,
    /// Why it was ignored, or what was left out (an attachment over the size limit).
    pub reason: Option<String>,
    /// The message had been handed over before: this is what became of it then.
    pub duplicate: bool,
}

impl IngestReport {
    fn ignored(reason: impl Into<String>) -> IngestReport {
        IngestReport {
            outcome: "ignored".into(),
            ticket_id: None,
            reason: Some(reason.into()),
            duplicate: false,
        }
    }
}

/// The largest message taken in: an attachment at its limit, base64-encoded, and the rest.
pub fn inbound_limit(limits: &Limits) -> usize {
    limits.max_attachment_bytes.saturating_mul(2).max(1 << 20)
}

/// Handles one RFC 5322 message. An error means nothing was kept and the sender should
/// hand it over again later (the database could not be reached).
pub async fn ingest(state: &AppState, bytes: &[u8]) -> Result<IngestReport, ApiError> {
    let mail = match parse(bytes, inbound_limit(&state.limits)) {
        Ok(mail) => mail,
        Err(error) => {
            tracing::info!(%error, "an inbound message was ignored");
            return Ok(IngestReport::ignored(error.to_string()));
        }
    };
    let sender = mail
        .from
        .as_ref()
        .map(|(email, _)| email.clone())
        .unwrap_or_default();
    let now = state.clock.now();
    if let Some(earlier) = state
        .store
        .claim_inbound(&mail.message_id, &sender, &mail.subject, now)
        .await?
    {
        return Ok(IngestReport {
            outcome: earlier.outcome,
            ticket_id: earlier.ticket_id,
            reason: earlier.reason,
            duplicate: true,
        });
    }
    let handled = match handle(state, &mail).await {
        // Only a failure of the machine (the database) is worth handing the message over
        // again; anything the message itself causes is an answer.
        Err(ApiError::Unexpected(cause)) => Err(ApiError::Unexpected(cause)),
        Err(refused) => Ok(IngestReport::ignored(refused.to_string())),
        Ok(report) => Ok(report),
    };
    match handled {
        Ok(report) => {
            state
                .store
                .settle_inbound(
                    &mail.message_id,
                    &report.outcome,
                    report.ticket_id,
                    report.reason.as_deref(),
                )
                .await?;
            tracing::info!(
                message = %mail.message_id,
                outcome = %report.outcome,
                ticket = ?report.ticket_id,
                reason = ?report.reason,
                "inbound message handled"
            );
            Ok(report)
        }
        Err(error) => {
            if let Err(forgotten) = state.store.forget_inbound(&mail.message_id).await {
                tracing::warn!(%forgotten, "a failed inbound message could not be forgotten");
            }
            Err(error)
        }
    }
}

async fn handle(state: &AppState, mail: &InboundMail) -> Result<IngestReport, ApiError> {
    if let Some(reason) = mail.automatic {
        return Ok(IngestReport::ignored(reason));
    }
    let Some((email, _)) = &mail.from else {
        return Ok(IngestReport::ignored("a message without a sender"));
    };
    let contact = match state.store.contact_by_email(email).await {
        Ok(contact) => contact,
        Err(StoreError::NotFound) => {
            return Ok(IngestReport::ignored(format!(
                "{email} is not a contact of any customer"
            )));
        }
        Err(other) => return Err(other.into()),
    };
    if mail.text.is_empty() && mail.attachments.is_empty() {
        return Ok(IngestReport::ignored("the message says nothing"));
    }
    if let Some(ticket) = thread_ticket(state, mail, &contact).await? {
        match append(state, mail, &contact, ticket).await? {
            Some(report) => return Ok(report),
            // Closed: the reply opens a follow-up ticket.
            None => return open(state, mail, &contact, Some(ticket)).await,
        }
    }
    open(state, mail, &contact, None).await
}

/// The ticket of the contact's organisation the message answers, if any. A reference to
/// another organisation's ticket is no reference at all (and says nothing of it).
async fn thread_ticket(
    state: &AppState,
    mail: &InboundMail,
    contact: &Contact,
) -> Result<Option<i64>, ApiError> {
    let ticket = match mail.thread(&state.mail_ids) {
        Some(ThreadReference::Ticket(id) | ThreadReference::SubjectToken(id)) => id,
        Some(ThreadReference::Notice(notice)) => {
            match state.store.ticket_of_notice(notice).await? {
                Some(id) => id,
                None => return Ok(None),
            }
        }
        None => return Ok(None),
    };
    match state
        .store
        .ticket(ticket, Scope::Customer(contact.customer_id))
        .await
    {
        Ok(_) => Ok(Some(ticket)),
        Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// The message as a customer message on `ticket`; `None` when the ticket takes none (it is
/// closed).
async fn append(
    state: &AppState,
    mail: &InboundMail,
    contact: &Contact,
    ticket: i64,
) -> Result<Option<IngestReport>, ApiError> {
    let body = body_of(mail);
    let change = Change {
        ticket,
        scope: Scope::Customer(contact.customer_id),
        expected_version: None,
        actor: Actor::Contact { id: contact.id },
        now: state.clock.now(),
    };
    let policy = state.policy.clone();
    let updated = state
        .store
        .update_ticket(&state.policy, change, |_, snapshot| {
            caredesk_domain::ticket::decide(
                snapshot,
                Role::CustomerContact,
                Command::CustomerMessage { body },
                &policy,
            )
        })
        .await;
    let timeline = match updated {
        Ok((_, timeline)) => timeline,
        Err(UpdateError::Refused(Refusal::NotNow { .. })) => return Ok(None),
        Err(UpdateError::Refused(refusal)) => return Err(ApiError::from(refusal)),
        Err(UpdateError::Store(error)) => return Err(error.into()),
    };
    let seq = timeline
        .iter()
        .rev()
        .find(|event| {
            matches!(
                event.data,
                EventData::CustomerMessage { .. } | EventData::CustomerAnswered { .. }
            )
        })
        .map(|event| i64::from(event.seq));
    let left_out = attach(state, mail, contact, ticket, seq).await;
    Ok(Some(IngestReport {
        outcome: "appended".into(),
        ticket_id: Some(ticket),
        reason: left_out,
        duplicate: false,
    }))
}

/// A new portal ticket for the contact, its intake lenient: mail cannot fill in the form,
/// so what is missing is flagged for the advisor to ask for.
async fn open(
    state: &AppState,
    mail: &InboundMail,
    contact: &Contact,
    follows: Option<i64>,
) -> Result<IngestReport, ApiError> {
    let policy = &state.policy;
    let products = state.store.products_of(contact.customer_id).await?;
    let mut description = body_of(mail);
    if let Some(earlier) = follows {
        description = format!("(A reply to closed ticket {earlier}.)\n\n{description}");
    }
    let (product_line, version, serial) = match products.as_slice() {
        [only] => (
            only.product_line.clone(),
            only.version.clone(),
            only.serial.clone(),
        ),
        [first, ..] => {
            description.push_str(&format!(
                "\n\n(Sent by e-mail without naming a product: {} {} ({}) was assumed.)",
                first.product_line, first.version, first.serial
            ));
            (
                first.product_line.clone(),
                first.version.clone(),
                first.serial.clone(),
            )
        }
        [] => match policy.product_lines.keys().next() {
            Some(line) => (line.clone(), String::new(), String::new()),
            None => return Ok(IngestReport::ignored("the policy has no product line")),
        },
    };
    // The second-lowest severity (P3 in the default policy): an advisor changes it, with
    // a reason, once they have read the message.
    let severities: Vec<&String> = policy.severities.keys().collect();
    let Some(severity) = severities
        .len()
        .checked_sub(2)
        .and_then(|index| severities.get(index))
        .or(severities.first())
    else {
        return Ok(IngestReport::ignored("the policy has no severity"));
    };
    let subject = mail
        .subject
        .trim_start_matches(|c: char| c.is_whitespace())
        .trim_start_matches("Re:")
        .trim_start_matches("RE:")
        .trim_start_matches("Fwd:")
        .trim();
    let subject = if subject.is_empty() {
        "(no subject)".to_string()
    } else {
        subject.chars().take(200).collect()
    };
    let request = OpenTicket {
        customer_id: Some(contact.customer_id),
        contact_id: Some(contact.id),
        channel: "portal".into(),
        severity: severity.to_string(),
        product_line,
        version,
        serial,
        subject,
        description,
        business_impact: String::new(),
        error_messages: None,
        steps_to_reproduce: None,
        workaround: None,
        programming_language: None,
    };
    let principal = Principal::Contact(contact.clone());
    let now = state.clock.now();
    // Keyed by the Message-ID: handed over again after a failure, it finds this ticket.
    let key: String = format!("mail:{}", mail.message_id)
        .chars()
        .take(200)
        .collect();
    let new = match intake(state, &principal, &request, Some(key), true, now).await {
        Ok(Intake::Ticket(new)) => new,
        Ok(Intake::ProfessionalServices(_)) => {
            return Ok(IngestReport::ignored(
                "not a support request (professional services)",
            ));
        }
        Err(ApiError::Invalid(errors)) => {
            let reasons: Vec<String> = errors
                .iter()
                .map(|error| format!("{}: {}", error.field, error.message))
                .collect();
            return Ok(IngestReport::ignored(format!(
                "no ticket could be opened: {}",
                reasons.join("; ")
            )));
        }
        Err(ApiError::Forbidden(reason)) => {
            return Ok(IngestReport::ignored(format!(
                "no ticket could be opened: {reason}"
            )));
        }
        Err(other) => return Err(other),
    };
    let created = state.store.create_ticket(policy, &new, now).await?;
    let ticket = created.ticket.id;
    let left_out = attach(state, mail, contact, ticket, Some(1)).await;
    Ok(IngestReport {
        outcome: "opened".into(),
        ticket_id: Some(ticket),
        reason: left_out,
        duplicate: false,
    })
}

/// The message's text, or a line naming its attachments when it has no text.
fn body_of(mail: &InboundMail) -> String {
    if !mail.text.is_empty() {
        return mail.text.clone();
    }
    let names: Vec<&str> = mail
        .attachments
        .iter()
        .map(|attachment| attachment.filename.as_str())
        .collect();
    format!("(Attached: {})", names.join(", "))
}

/// Keeps the message's attachments on `ticket`, beside event `seq`; returns what was left
/// out (for its size, or because it could not be stored). It never fails: the message is
/// on the ticket already, and must not be handed over (and appended) again.
async fn attach(
    state: &AppState,
    mail: &InboundMail,
    contact: &Contact,
    ticket: i64,
    seq: Option<i64>,
) -> Option<String> {
    let mut left_out = Vec::new();
    for attachment in &mail.attachments {
        if attachment.content.len() > state.limits.max_attachment_bytes {
            left_out.push(format!(
                "{} ({} bytes, over the limit of {})",
                attachment.filename,
                attachment.content.len(),
                state.limits.max_attachment_bytes
            ));
            continue;
        }
        let stored = state
            .store
            .add_attachment(
                &NewAttachment {
                    ticket_id: ticket,
                    event_seq: seq,
                    filename: if attachment.filename.is_empty() {
                        "attachment".into()
                    } else {
                        attachment.filename.clone()
                    },
                    content_type: attachment.content_type.clone(),
                    content: attachment.content.clone(),
                    uploaded_by: format!("contact:{}", contact.id),
                },
                Scope::Customer(contact.customer_id),
                state.clock.now(),
            )
            .await;
        if let Err(error) = stored {
            tracing::warn!(ticket, file = %attachment.filename, %error, "an inbound attachment could not be stored");
            left_out.push(format!("{} (not stored: {error})", attachment.filename));
        }
    }
    (!left_out.is_empty()).then(|| format!("attachments left out: {}", left_out.join(", ")))
}
