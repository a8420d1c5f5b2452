//! Mail coming in: one RFC 5322 message read into what the desk needs of it (who sent it,
//! which of our tickets it answers, the new text without the quoted history, attachments),
//! and whether it is one a machine sent (an auto-reply, a bounce, a list, our own), which
//! the desk must never answer nor turn into a ticket.
//!
//! Pure: no I/O. Any bytes at all give an answer, never a panic (a property test says so).

use mail_parser::{MessageParser, MimeHeaders};

use crate::message::{MessageIds, TICKET_HEADER};

/// What a message is, as far as the desk is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundMail {
    /// Its Message-ID without angle brackets (one made of the bytes' hash when it has none).
    pub message_id: String,
    /// The sender's address, lower-cased, and name.
    pub from: Option<(String, String)>,
    pub subject: String,
    /// What it answers: ids in In-Reply-To, then References.
    pub replies_to: Vec<String>,
    /// The new text, quoted history trimmed.
    pub text: String,
    pub attachments: Vec<InboundAttachment>,
    /// Why no person wrote it, when none did.
    pub automatic: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundAttachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InboundError {
    #[error("the message is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the message cannot be read as RFC 5322 mail")]
    Malformed,
    #[error("the message's {field} holds a NUL character, which the desk cannot store")]
    Unstorable { field: &'static str },
}

/// Which ticket a message names, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadReference {
    /// Our `ticket-N@…` id in its In-Reply-To or References.
    Ticket(i64),
    /// Our `notice-N@…` id: the ticket is the notice's.
    Notice(i64),
    /// A `[#N]` token in its subject (only as a last resort: anyone can type one).
    SubjectToken(i64),
}

/// Reads `bytes`, refusing more than `limit` bytes.
pub fn parse(bytes: &[u8], limit: usize) -> Result<InboundMail, InboundError> {
    if bytes.len() > limit {
        return Err(InboundError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let message = MessageParser::default()
        .parse(bytes)
        .ok_or(InboundError::Malformed)?;
    // Something with neither a sender nor a body is not mail.
    if message.from().is_none() && message.body_text(0).is_none() {
        return Err(InboundError::Malformed);
    }
    let message_id = match message.message_id() {
        Some(id) if !id.trim().is_empty() => id.trim().to_string(),
        _ => format!("sha256-{}@inbound", hex_sha256(bytes)),
    };
    let from = message
        .from()
        .and_then(|address| address.first())
        .and_then(|address| {
            let email = address.address()?.trim().to_lowercase();
            let name = address.name().unwrap_or_default().trim().to_string();
            Some((email, name))
        });
    let mut replies_to = Vec::new();
    for header in [message.in_reply_to(), message.references()] {
        if let Some(ids) = header.as_text_list() {
            replies_to.extend(ids.iter().map(|id| id.trim().to_string()));
        }
    }
    let text = message
        .body_text(0)
        .map(|text| trim_quoted(&text))
        .unwrap_or_default();
    let attachments = message
        .attachments()
        .filter(|part| !part.is_message())
        .map(|part| InboundAttachment {
            filename: part
                .attachment_name()
                .unwrap_or("attachment")
                .chars()
                .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
                .take(200)
                .collect(),
            content_type: part
                .content_type()
                .map(|kind| match kind.subtype() {
                    Some(subtype) => format!("{}/{subtype}", kind.ctype()),
                    None => kind.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".to_string()),
            content: part.contents().to_vec(),
        })
        .collect();
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|value| value.trim().to_ascii_lowercase())
    };
    let sender = from.as_ref().map(|(email, _)| email.as_str()).unwrap_or("");
    let content_type = message
        .content_type()
        .map(|kind| {
            format!("{}/{}", kind.ctype(), kind.subtype().unwrap_or_default()).to_ascii_lowercase()
        })
        .unwrap_or_default();
    let automatic = if header(TICKET_HEADER).is_some() {
        Some("one of our own notices came back")
    } else if header("Auto-Submitted").is_some_and(|value| value != "no") {
        Some("an automatic message (Auto-Submitted)")
    } else if content_type == "multipart/report"
        || sender.starts_with("mailer-daemon@")
        || sender.starts_with("postmaster@")
    {
        Some("a delivery report (bounce)")
    } else if header("Precedence")
        .is_some_and(|value| matches!(value.as_str(), "bulk" | "junk" | "list" | "auto_reply"))
        || header("List-Id").is_some()
        || header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
    {
        Some("a list or an auto-reply")
    } else if from.is_none() {
        Some("a message without a sender")
    } else {
        None
    };
    let mail = InboundMail {
        message_id,
        from,
        subject: message.subject().unwrap_or_default().trim().to_string(),
        replies_to,
        text,
        attachments,
        automatic,
    };
    match mail.field_with_nul() {
        Some(field) => Err(InboundError::Unstorable { field }),
        None => Ok(mail),
    }
}

impl InboundMail {
    /// The first of its texts that holds a NUL character, which no database column of text
    /// can keep (PostgreSQL refuses it): such a message is ignored, never retried.
    fn field_with_nul(&self) -> Option<&'static str> {
        let (email, name) = self
            .from
            .as_ref()
            .map(|(email, name)| (email.as_str(), name.as_str()))
            .unwrap_or_default();
        let texts = [
            ("Message-ID", self.message_id.as_str()),
            ("From", email),
            ("From", name),
            ("Subject", self.subject.as_str()),
            ("body", self.text.as_str()),
        ];
        texts
            .into_iter()
            .chain(self.replies_to.iter().map(|id| ("References", id.as_str())))
            .chain(self.attachments.iter().flat_map(|attachment| {
                [
                    ("attachment name", attachment.filename.as_str()),
                    ("attachment type", attachment.content_type.as_str()),
                ]
            }))
            .find(|(_, text)| text.contains('\0'))
            .map(|(field, _)| field)
    }

    /// The ticket the message answers, by our ids first, then by a subject token.
    pub fn thread(&self, ids: &MessageIds) -> Option<ThreadReference> {
        for id in &self.replies_to {
            if let Some(ticket) = ids.ticket_of(id) {
                return Some(ThreadReference::Ticket(ticket));
            }
            if let Some(notice) = ids.notice_of(id) {
                return Some(ThreadReference::Notice(notice));
            }
        }
        subject_token(&self.subject).map(ThreadReference::SubjectToken)
    }
}

/// The number in the first `[#N]` of a subject.
fn subject_token(subject: &str) -> Option<i64> {
    let start = subject.find("[#")? + 2;
    let rest = &subject[start..];
    let end = rest.find(']')?;
    rest[..end].trim().parse().ok().filter(|id: &i64| *id > 0)
}

/// The text above the quoted history: cut at the first attribution line ("On … wrote:",
/// "Le … a écrit :", "-----Original Message-----", "From: " of a forwarded header block),
/// then quoted (">") lines at the end dropped.
pub fn trim_quoted(text: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let lower = trimmed.to_lowercase();
        let attribution = (lower.starts_with("on ") && lower.ends_with("wrote:"))
            || (lower.starts_with("le ")
                && (lower.ends_with("a écrit :") || lower.ends_with("a écrit:")))
            || (lower.starts_with("am ") && lower.ends_with("schrieb:"))
            || (lower.starts_with("op ") && lower.ends_with("geschreven:"))
            || (lower.starts_with("el ") && lower.ends_with("escribió:"))
            || (lower.starts_with("-----") && lower.contains("original"))
            || lower.starts_with("________________________________");
        if attribution {
            break;
        }
        kept.push(line);
    }
    while kept
        .last()
        .is_some_and(|line| line.trim().is_empty() || line.trim_start().starts_with('>'))
    {
        kept.pop();
    }
    kept.join("\n").trim().to_string()
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const LIMIT: usize = 1 << 20;

    fn reply() -> String {
        "From: Ada Lovelace <Ada@Acme.example>\r\n\
         To: support@desk.example\r\n\
         Subject: Re: [#42] We need you: Invoices stopped printing\r\n\
         Message-ID: <reply-1@acme.example>\r\n\
         In-Reply-To: <notice-7@desk.example>\r\n\
         References: <ticket-42@desk.example> <notice-7@desk.example>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Here is the log you asked for.\r\n\
         \r\n\
         On Tue, 24 Nov 2026 at 09:30, Support <support@desk.example> wrote:\r\n\
         > To go on with your ticket we need more information.\r\n"
            .to_string()
    }

    #[test]
    fn a_reply_is_read_into_what_the_desk_needs() {
        let mail = parse(reply().as_bytes(), LIMIT).unwrap();
        assert_eq!(mail.message_id, "reply-1@acme.example");
        assert_eq!(
            mail.from,
            Some(("ada@acme.example".to_string(), "Ada Lovelace".to_string()))
        );
        assert_eq!(mail.text, "Here is the log you asked for.");
        assert_eq!(mail.automatic, None);
        let ids = MessageIds::new("desk.example");
        assert_eq!(mail.thread(&ids), Some(ThreadReference::Notice(7)));
    }

    #[test]
    fn the_thread_is_found_by_our_ids_then_by_the_subject() {
        let ids = MessageIds::new("desk.example");
        let by_ticket = reply().replace("In-Reply-To: <notice-7@desk.example>\r\n", "");
        let mail = parse(by_ticket.as_bytes(), LIMIT).unwrap();
        assert_eq!(mail.thread(&ids), Some(ThreadReference::Ticket(42)));
        let by_subject = reply()
            .replace("In-Reply-To: <notice-7@desk.example>\r\n", "")
            .replace(
                "References: <ticket-42@desk.example> <notice-7@desk.example>\r\n",
                "",
            );
        let mail = parse(by_subject.as_bytes(), LIMIT).unwrap();
        assert_eq!(mail.thread(&ids), Some(ThreadReference::SubjectToken(42)));
        let foreign = by_subject.replace("[#42] ", "");
        assert_eq!(parse(foreign.as_bytes(), LIMIT).unwrap().thread(&ids), None);
    }

    #[test]
    fn a_nul_character_in_any_text_makes_the_message_unstorable() {
        let in_body = reply().replace("the log", "the\0log");
        assert_eq!(
            parse(in_body.as_bytes(), LIMIT),
            Err(InboundError::Unstorable { field: "body" })
        );
        let in_subject = reply().replace("Subject: Re:", "Subject: Re:\0");
        assert_eq!(
            parse(in_subject.as_bytes(), LIMIT),
            Err(InboundError::Unstorable { field: "Subject" })
        );
        // A binary attachment is bytes, not text: NUL is no problem there.
        let with_file = "From: ada@acme.example\r\nMessage-ID: <f@acme.example>\r\n\
             Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
             Content-Type: text/plain\r\n\r\nlog attached\r\n--b\r\n\
             Content-Type: application/octet-stream\r\n\
             Content-Disposition: attachment; filename=log.bin\r\n\r\n\0\0\0\r\n--b--\r\n";
        let mail = parse(with_file.as_bytes(), LIMIT).unwrap();
        assert_eq!(mail.attachments.len(), 1);
    }

    #[test]
    fn machines_are_recognised() {
        let automatic = |extra: &str| {
            let message = reply().replacen("\r\n\r\n", &format!("\r\n{extra}\r\n\r\n"), 1);
            parse(message.as_bytes(), LIMIT).unwrap().automatic
        };
        assert!(automatic("Auto-Submitted: auto-replied").is_some());
        assert!(automatic("Auto-Submitted: no").is_none());
        assert!(automatic("X-Caredesk-Ticket: 42").is_some());
        assert!(automatic("Precedence: bulk").is_some());
        let bounce = reply().replace(
            "Ada Lovelace <Ada@Acme.example>",
            "MAILER-DAEMON@mx.acme.example",
        );
        assert!(parse(bounce.as_bytes(), LIMIT).unwrap().automatic.is_some());
    }

    #[test]
    fn quoted_history_is_trimmed_in_several_languages() {
        assert_eq!(
            trim_quoted("Merci.\n\nLe mar. 24 nov. 2026, Support a écrit :\n> Bonjour"),
            "Merci."
        );
        assert_eq!(trim_quoted("Done\n> old\n>\n"), "Done");
        assert_eq!(
            trim_quoted("Yes\n-----Original Message-----\nFrom: x"),
            "Yes"
        );
        assert_eq!(trim_quoted("a > b stays"), "a > b stays");
    }

    #[test]
    fn too_large_and_unreadable_messages_are_refused() {
        assert_eq!(
            parse(&[b'a'; 100], 10),
            Err(InboundError::TooLarge {
                size: 100,
                limit: 10
            })
        );
        assert_eq!(parse(b"", LIMIT), Err(InboundError::Malformed));
    }

    #[test]
    fn attachments_are_kept() {
        let message = "From: ada@acme.example\r\n\
            Subject: [#42] log\r\n\
            Message-ID: <a@acme.example>\r\n\
            MIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"b\"\r\n\
            \r\n\
            --b\r\n\
            Content-Type: text/plain\r\n\
            \r\n\
            The log.\r\n\
            --b\r\n\
            Content-Type: text/plain; name=\"spool.log\"\r\n\
            Content-Disposition: attachment; filename=\"spool.log\"\r\n\
            \r\n\
            E042 spooler timeout\r\n\
            --b--\r\n";
        let mail = parse(message.as_bytes(), LIMIT).unwrap();
        assert_eq!(mail.text, "The log.");
        assert_eq!(mail.attachments.len(), 1);
        assert_eq!(mail.attachments[0].filename, "spool.log");
        assert_eq!(mail.attachments[0].content_type, "text/plain");
        assert!(String::from_utf8_lossy(&mail.attachments[0].content).contains("E042"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_bytes_get_an_answer_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let ids = MessageIds::new("desk.example");
            if let Ok(mail) = parse(&bytes, LIMIT) {
                let _ = mail.thread(&ids);
            }
        }

        #[test]
        fn mangled_replies_get_an_answer_never_a_panic(
            cut in 0usize..600,
            noise in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = reply().into_bytes();
            let cut = cut.min(bytes.len());
            bytes.splice(cut..cut, noise);
            let ids = MessageIds::new("desk.example");
            if let Ok(mail) = parse(&bytes, LIMIT) {
                let _ = mail.thread(&ids);
            }
        }
    }
}
