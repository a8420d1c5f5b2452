//! A rendered notice made into an RFC 5322 message.
//!
//! Its Message-ID is derived from the notice's outbox id, so a notice sent again (after a
//! crash between the server's acceptance and our record of it) is the same message, with
//! the same Message-ID, which mail clients and archives recognise as one. Every notice of a ticket points at the ticket's
//! thread (`In-Reply-To`/`References`), so mail clients group them, and a reply to any of
//! them names the ticket in its `References` for the inbound path.

use lettre::Message;
pub use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, MultiPart};

use crate::templates::RenderedMail;

/// Where a notice goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addressee {
    pub name: String,
    pub email: String,
}

/// The identifiers of our messages, on the mail domain of the desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageIds {
    domain: String,
}

impl MessageIds {
    pub fn new(domain: &str) -> MessageIds {
        MessageIds {
            domain: domain.to_ascii_lowercase(),
        }
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// `notice-ID@DOMAIN`, without angle brackets.
    pub fn of_notice(&self, notice_id: i64) -> String {
        format!("notice-{notice_id}@{}", self.domain)
    }

    /// The root of a ticket's thread: `ticket-ID@DOMAIN`.
    pub fn of_ticket(&self, ticket_id: i64) -> String {
        format!("ticket-{ticket_id}@{}", self.domain)
    }

    /// The ticket a message id of ours names (`notice-…` ids do not: their ticket is in the
    /// outbox), if it is ours.
    pub fn ticket_of(&self, message_id: &str) -> Option<i64> {
        self.number_in(message_id, "ticket-")
    }

    /// The outbox id a message id of ours names.
    pub fn notice_of(&self, message_id: &str) -> Option<i64> {
        self.number_in(message_id, "notice-")
    }

    /// N in `<PREFIXN@our domain>`.
    fn number_in(&self, message_id: &str, prefix: &str) -> Option<i64> {
        let id = message_id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>');
        let (local, domain) = id.rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(&self.domain) {
            return None;
        }
        local.strip_prefix(prefix)?.parse().ok()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("the address {address:?} of {whom} is not a valid e-mail address: {reason}")]
    Address {
        whom: &'static str,
        address: String,
        reason: String,
    },
    #[error("the message cannot be built: {0}")]
    Build(String),
}

/// One notice, ready to be written as a message.
pub struct Outgoing<'a> {
    pub notice_id: i64,
    /// The ticket whose thread it joins; `None` for an alert of no ticket.
    pub ticket_id: Option<i64>,
    pub from: &'a Mailbox,
    pub to: &'a Addressee,
    pub mail: &'a RenderedMail,
    /// Files sent with it (a report's chart); most notices have none.
    pub attachments: &'a [Attached],
}

/// A file sent with a notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    /// The name the recipient saves it under.
    pub file_name: String,
    /// Its media type, as `image/svg+xml`.
    pub content_type: String,
    pub body: Vec<u8>,
}

/// The message for `outgoing`: plain text and HTML alternatives (with the attachments
/// after them, if any), our stable Message-ID, the ticket's thread, and `Auto-Submitted` so
/// that well-behaved responders do not answer.
pub fn compose(ids: &MessageIds, outgoing: &Outgoing<'_>) -> Result<Message, ComposeError> {
    let to_address =
        outgoing
            .to
            .email
            .parse()
            .map_err(
                |error: lettre::address::AddressError| ComposeError::Address {
                    whom: "the recipient",
                    address: outgoing.to.email.clone(),
                    reason: error.to_string(),
                },
            )?;
    let to = Mailbox::new(Some(outgoing.to.name.clone()), to_address);
    let mut message = Message::builder()
        .from(outgoing.from.clone())
        .to(to)
        .subject(outgoing.mail.subject.clone())
        .message_id(Some(format!("<{}>", ids.of_notice(outgoing.notice_id))))
        .header(AutoSubmitted);
    if let Some(ticket_id) = outgoing.ticket_id {
        let thread = format!("<{}>", ids.of_ticket(ticket_id));
        message = message
            .in_reply_to(thread.clone())
            .references(thread)
            .header(TicketHeader(ticket_id));
    }
    let body =
        MultiPart::alternative_plain_html(outgoing.mail.text.clone(), outgoing.mail.html.clone());
    let body = if outgoing.attachments.is_empty() {
        body
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for attached in outgoing.attachments {
            let content_type = ContentType::parse(&attached.content_type).map_err(|error| {
                ComposeError::Build(format!(
                    "{} is not a media type: {error}",
                    attached.content_type
                ))
            })?;
            mixed = mixed.singlepart(
                Attachment::new(attached.file_name.clone())
                    .body(attached.body.clone(), content_type),
            );
        }
        mixed
    };
    message
        .multipart(body)
        .map_err(|error| ComposeError::Build(error.to_string()))
}

/// The desk's sender, checked: `Name <address>` or a bare address.
pub fn sender(text: &str) -> Result<Mailbox, ComposeError> {
    text.parse().map_err(
        |error: lettre::address::AddressError| ComposeError::Address {
            whom: "the sender (mail_from)",
            address: text.to_string(),
            reason: error.to_string(),
        },
    )
}

/// `Auto-Submitted: auto-generated` (RFC 3834): our notices are not to be answered by
/// machines, so an out-of-office reply does not open a ticket or loop.
#[derive(Clone, Debug)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

/// `X-Caredesk-Ticket: ID`: the ticket, for filters and for our own loop detection.
#[derive(Clone, Debug)]
struct TicketHeader(i64);

pub const TICKET_HEADER: &str = "X-Caredesk-Ticket";

impl Header for TicketHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(TICKET_HEADER)
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(TicketHeader(text.trim().parse()?))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> RenderedMail {
        RenderedMail {
            language: "fr",
            subject: "[#42] Nous avons bien reçu votre demande".into(),
            text: "Bonjour Ada,\n".into(),
            html: "<p>Bonjour Ada,</p>".into(),
        }
    }

    #[test]
    fn a_notice_is_one_stable_message_in_its_tickets_thread() {
        let ids = MessageIds::new("Desk.Example");
        let from = sender("Support <support@desk.example>").unwrap();
        let to = Addressee {
            name: "Ada Lovelace".into(),
            email: "ada@acme.example".into(),
        };
        let mail = rendered();
        let outgoing = Outgoing {
            notice_id: 7,
            ticket_id: Some(42),
            from: &from,
            to: &to,
            mail: &mail,
            attachments: &[],
        };
        let first = String::from_utf8(compose(&ids, &outgoing).unwrap().formatted()).unwrap();
        let again = String::from_utf8(compose(&ids, &outgoing).unwrap().formatted()).unwrap();
        for message in [&first, &again] {
            assert!(
                message.contains("Message-ID: <notice-7@desk.example>"),
                "{message}"
            );
            assert!(message.contains("In-Reply-To: <ticket-42@desk.example>"));
            assert!(message.contains("References: <ticket-42@desk.example>"));
            assert!(message.contains("Auto-Submitted: auto-generated"));
            assert!(message.contains("X-Caredesk-Ticket: 42"));
            assert!(message.contains("multipart/alternative"));
        }
        assert_eq!(ids.ticket_of("<ticket-42@desk.example>"), Some(42));
        assert_eq!(ids.notice_of(" <notice-7@DESK.example>"), Some(7));
        assert_eq!(ids.ticket_of("<ticket-42@elsewhere.example>"), None);
        assert_eq!(ids.ticket_of("<notice-7@desk.example>"), None);

        // An alert of no ticket starts no thread and names none.
        let alert = String::from_utf8(
            compose(
                &ids,
                &Outgoing {
                    ticket_id: None,
                    ..outgoing
                },
            )
            .unwrap()
            .formatted(),
        )
        .unwrap();
        assert!(alert.contains("Message-ID: <notice-7@desk.example>"));
        assert!(alert.contains("Auto-Submitted: auto-generated"));
        assert!(!alert.contains("In-Reply-To") && !alert.contains("X-Caredesk-Ticket"));
    }

    #[test]
    fn attachments_follow_the_text_and_html() {
        use mail_parser::MimeHeaders;

        let ids = MessageIds::new("desk.example");
        let from = sender("support@desk.example").unwrap();
        let to = Addressee {
            name: "Ada".into(),
            email: "ada@acme.example".into(),
        };
        let mail = rendered();
        let chart = Attached {
            file_name: "compliance-2026-11.svg".into(),
            content_type: "image/svg+xml".into(),
            body: b"<svg xmlns=\"http://www.w3.org/2000/svg\"><text>Premi\xc3\xa8re r\xc3\xa9ponse</text></svg>".to_vec(),
        };
        let attachments = [chart];
        let outgoing = Outgoing {
            notice_id: 9,
            ticket_id: None,
            from: &from,
            to: &to,
            mail: &mail,
            attachments: &attachments,
        };
        let message = compose(&ids, &outgoing).unwrap().formatted();
        let parsed = mail_parser::MessageParser::default()
            .parse(&message)
            .unwrap();
        assert_eq!(parsed.body_text(0).as_deref(), Some("Bonjour Ada,\r\n"));
        assert!(parsed.body_html(0).unwrap().contains("<p>Bonjour Ada,</p>"));
        let attached = parsed.attachment(0).unwrap();
        assert_eq!(attached.attachment_name(), Some("compliance-2026-11.svg"));
        let content_type = attached.content_type().unwrap();
        assert_eq!(
            (content_type.ctype(), content_type.subtype()),
            ("image", Some("svg+xml"))
        );
        assert_eq!(attached.contents(), attachments[0].body.as_slice());

        let bad = Attached {
            content_type: "not a type".into(),
            ..attachments[0].clone()
        };
        let refused = compose(
            &ids,
            &Outgoing {
                attachments: std::slice::from_ref(&bad),
                ..outgoing
            },
        );
        assert!(refused.unwrap_err().to_string().contains("not a type"));
    }

    #[test]
    fn a_bad_address_is_named() {
        let ids = MessageIds::new("desk.example");
        let from = sender("support@desk.example").unwrap();
        let to = Addressee {
            name: "Nobody".into(),
            email: "not an address".into(),
        };
        let mail = rendered();
        let error = compose(
            &ids,
            &Outgoing {
                notice_id: 1,
                ticket_id: Some(1),
                from: &from,
                to: &to,
                mail: &mail,
                attachments: &[],
            },
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("\"not an address\""), "{error}");
        assert!(
            sender("no at sign")
                .unwrap_err()
                .to_string()
                .contains("mail_from")
        );
    }
}
