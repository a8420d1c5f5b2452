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

use caredesk_domain::intake::SUBJECT_MAX_CHARS;
use caredesk_domain::ticket::Command;
use caredesk_mail::inbound::{InboundMail, ThreadReference, parse};
use caredesk_store::{Contact, NewAttachment, Scope, StoreError};
use serde::Serialize;

use crate::intake::{Intake, OpenTicket, Opened, assess_form, record};
use crate::tickets::{NewFile, act, plain_file_name};
use crate::{Caller, Desk, DeskError, DeskLimits};

/// What became of one inbound message.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
pub fn inbound_limit(limits: &DeskLimits) -> usize {
    limits.max_attachment_bytes.saturating_mul(2).max(1 << 20)
}

/// Handles one RFC 5322 message. An error means nothing was kept and the sender should
/// hand it over again later (the database could not be reached).
pub async fn ingest(desk: &Desk, bytes: &[u8]) -> Result<IngestReport, DeskError> {
    let mail = match parse(bytes, inbound_limit(&desk.limits)) {
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
    let now = desk.clock.now();
    if let Some(earlier) = desk
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
    let handled = match handle(desk, &mail).await {
        // Only a failure of the machine (the database) is worth handing the message over
        // again; anything the message itself causes is an answer.
        Err(failure @ (DeskError::Store(_) | DeskError::Unexpected(_))) => Err(failure),
        Err(refused) => Ok(IngestReport::ignored(refused.to_string())),
        Ok(report) => Ok(report),
    };
    match handled {
        Ok(report) => {
            desk.store
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
            if let Err(forgotten) = desk.store.forget_inbound(&mail.message_id).await {
                tracing::warn!(%forgotten, "a failed inbound message could not be forgotten");
            }
            Err(error)
        }
    }
}

async fn handle(desk: &Desk, mail: &InboundMail) -> Result<IngestReport, DeskError> {
    if let Some(reason) = mail.automatic {
        return Ok(IngestReport::ignored(reason));
    }
    let Some((email, _)) = &mail.from else {
        return Ok(IngestReport::ignored("a message without a sender"));
    };
    let contact = match desk.store.contact_by_email(email).await {
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
    if let Some(ticket) = thread_ticket(desk, mail, &contact).await? {
        match append(desk, mail, &contact, ticket).await? {
            Some(report) => return Ok(report),
            // Closed: the reply opens a follow-up ticket.
            None => return open(desk, mail, &contact, Some(ticket)).await,
        }
    }
    open(desk, mail, &contact, None).await
}

/// The ticket of the contact's organisation the message answers, if any. A reference to
/// another organisation's ticket is no reference at all (and says nothing of it).
async fn thread_ticket(
    desk: &Desk,
    mail: &InboundMail,
    contact: &Contact,
) -> Result<Option<i64>, DeskError> {
    let ticket = match mail.thread(&desk.mail_ids) {
        Some(ThreadReference::Ticket(id) | ThreadReference::SubjectToken(id)) => id,
        Some(ThreadReference::Notice(notice)) => match desk.store.ticket_of_notice(notice).await? {
            Some(id) => id,
            None => return Ok(None),
        },
        None => return Ok(None),
    };
    match desk
        .store
        .ticket(ticket, Scope::Customer(contact.customer_id))
        .await
    {
        Ok(_) => Ok(Some(ticket)),
        Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// The message as a customer message on `ticket`, its attachments on it in the same
/// transaction; `None` when the ticket takes none (it is closed).
async fn append(
    desk: &Desk,
    mail: &InboundMail,
    contact: &Contact,
    ticket: i64,
) -> Result<Option<IngestReport>, DeskError> {
    let (files, left_out) = files_kept(desk, mail);
    let caller = Caller::Contact {
        id: contact.id,
        customer_id: contact.customer_id,
    };
    let command = Command::CustomerMessage {
        body: body_of(mail),
    };
    match act(desk, &caller, ticket, command, None, &files).await {
        Ok(_) => Ok(Some(IngestReport {
            outcome: "appended".into(),
            ticket_id: Some(ticket),
            reason: left_out_reason(&left_out),
            duplicate: false,
        })),
        // Not now: the ticket is closed, and the reply opens a follow-up.
        Err(DeskError::Conflict { state: Some(_), .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// The attachments small enough to keep (and not empty), and a description of each of the
/// others.
fn files_kept(desk: &Desk, mail: &InboundMail) -> (Vec<NewFile>, Vec<String>) {
    let limit = desk.limits.max_attachment_bytes;
    let (kept, over): (Vec<_>, Vec<_>) = mail.attachments.iter().partition(|attachment| {
        !attachment.content.is_empty() && attachment.content.len() <= limit
    });
    let files = kept
        .into_iter()
        .map(|attachment| NewFile {
            name: plain_file_name(&attachment.filename),
            content_type: attachment.content_type.clone(),
            content: attachment.content.clone(),
        })
        .collect();
    let left_out = over
        .into_iter()
        .map(|attachment| {
            let name = plain_file_name(&attachment.filename);
            if attachment.content.is_empty() {
                format!("{name} (empty)")
            } else {
                format!(
                    "{name} ({} bytes, over the limit of {limit})",
                    attachment.content.len(),
                )
            }
        })
        .collect();
    (files, left_out)
}

/// The report's reason when attachments were left out.
fn left_out_reason(left_out: &[String]) -> Option<String> {
    (!left_out.is_empty()).then(|| format!("attachments left out: {}", left_out.join(", ")))
}

/// A new portal ticket for the contact, its intake lenient: mail cannot fill in the form,
/// so what is missing is flagged for the advisor to ask for.
async fn open(
    desk: &Desk,
    mail: &InboundMail,
    contact: &Contact,
    follows: Option<i64>,
) -> Result<IngestReport, DeskError> {
    let policy = &desk.policy();
    let products = desk.store.products_of(contact.customer_id).await?;
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
    let request = OpenTicket {
        customer_id: Some(contact.customer_id),
        contact_id: Some(contact.id),
        channel: "portal".into(),
        severity: severity.to_string(),
        product_line,
        version,
        serial,
        subject: subject_of(mail),
        description,
        business_impact: String::new(),
        error_messages: None,
        steps_to_reproduce: None,
        workaround: None,
        programming_language: None,
        suggestions_shown: Vec::new(),
    };
    let caller = Caller::Contact {
        id: contact.id,
        customer_id: contact.customer_id,
    };
    let now = desk.clock.now();
    // Keyed by the Message-ID: handed over again after a failure, it finds this ticket.
    let key: String = format!("mail:{}", mail.message_id)
        .chars()
        .take(200)
        .collect();
    let new = match assess_form(desk, &caller, &request, Some(key), true, now).await {
        Ok(Intake::Ticket(new)) => new,
        Ok(Intake::ProfessionalServices(_)) => {
            return Ok(IngestReport::ignored(
                "not a support request (professional services)",
            ));
        }
        Err(DeskError::Invalid(errors)) => {
            let reasons: Vec<String> = errors
                .iter()
                .map(|error| format!("{}: {}", error.field, error.message))
                .collect();
            return Ok(IngestReport::ignored(format!(
                "no ticket could be opened: {}",
                reasons.join("; ")
            )));
        }
        Err(DeskError::Forbidden(reason)) => {
            return Ok(IngestReport::ignored(format!(
                "no ticket could be opened: {reason}"
            )));
        }
        Err(other) => return Err(other),
    };
    let Opened::Ticket(created) = record(desk, Intake::Ticket(new), now).await? else {
        return Err(DeskError::unexpected(
            "a ticket's intake recorded something else",
        ));
    };
    let ticket = created.ticket.id;
    let left_out = attach(desk, mail, contact, ticket, Some(1)).await;
    Ok(IngestReport {
        outcome: "opened".into(),
        ticket_id: Some(ticket),
        reason: left_out,
        duplicate: false,
    })
}

/// The message's subject without its "Re:" or "Fwd:", cut to the longest a ticket takes.
fn subject_of(mail: &InboundMail) -> String {
    let subject = mail
        .subject
        .trim_start_matches(|c: char| c.is_whitespace())
        .trim_start_matches("Re:")
        .trim_start_matches("RE:")
        .trim_start_matches("Fwd:")
        .trim();
    if subject.is_empty() {
        "(no subject)".to_string()
    } else {
        subject.chars().take(SUBJECT_MAX_CHARS).collect()
    }
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
/// on the ticket already, and must not be handed over (and opened) again.
async fn attach(
    desk: &Desk,
    mail: &InboundMail,
    contact: &Contact,
    ticket: i64,
    seq: Option<i64>,
) -> Option<String> {
    let (files, mut left_out) = files_kept(desk, mail);
    for file in files {
        let name = file.name.clone();
        let stored = desk
            .store
            .add_attachment(
                &NewAttachment {
                    ticket_id: ticket,
                    event_seq: seq,
                    filename: file.name,
                    content_type: file.content_type,
                    content: file.content,
                    uploaded_by: format!("contact:{}", contact.id),
                },
                Scope::Customer(contact.customer_id),
                desk.clock.now(),
            )
            .await;
        if let Err(error) = stored {
            tracing::warn!(ticket, file = %name, %error, "an inbound attachment could not be stored");
            left_out.push(format!("{name} (not stored: {error})"));
        }
    }
    left_out_reason(&left_out)
}
