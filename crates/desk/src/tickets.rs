//! Acting on a ticket: a reply, a note, a request to the customer, a proposal, an answer, an
//! assignment… whoever asks and however the request came in (the API, a page, a mail, the
//! demo), through this one function.

use caredesk_domain::catalog::same_version;
use caredesk_domain::reason::Reason;
use caredesk_domain::resources::linked_entries;
use caredesk_domain::routing::{Assignee, check_assignment, misfit};
use caredesk_domain::ticket::{Command, EventData, Refusal, Resolution, TicketEvent, decide};
use caredesk_store::{
    Attachment, Change, FileToAttach, FilesToAttach, NewAttachment, StoreError, TicketRecord,
    UpdateError,
};

use crate::error::Problems;
use crate::{Caller, Desk, DeskError};

/// The longest file name kept, in characters.
pub const FILE_NAME_MAX_CHARS: usize = 255;

/// A file's own name as a browser or a mail program may send it: without the folder some
/// send along, control characters dropped, cut to the longest kept; "attachment" when
/// nothing is left.
pub fn plain_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    let base: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(FILE_NAME_MAX_CHARS)
        .collect();
    if base.trim().is_empty() {
        "attachment".into()
    } else {
        base.trim().to_string()
    }
}

/// Refuses files that could not be kept, under the field `files`: for a form that records
/// something first and keeps its files after (a new ticket), so that it is refused whole.
pub fn check_files(files: &[NewFile]) -> Result<(), DeskError> {
    file_problems(files, "files", "files").finish()
}

/// What is wrong with files to keep, each under `field` (`files[0]`, …, or the API's own
/// parameter names): a plain name of 1 to 255 characters without a folder or a control
/// character (a name ends up in a download's headers), and some content.
pub(crate) fn file_problems(files: &[NewFile], name_field: &str, content_field: &str) -> Problems {
    let mut problems = Problems::default();
    for file in files {
        let name = file.name.trim();
        if name.is_empty() {
            problems.add(name_field, Reason::required());
        } else if name.chars().count() > FILE_NAME_MAX_CHARS {
            problems.add(name_field, Reason::too_long(FILE_NAME_MAX_CHARS));
        } else if name.contains(['/', '\\']) || file.name.chars().any(char::is_control) {
            problems.add(
                name_field,
                Reason::invalid("a plain file name, without a folder or a control character"),
            );
        }
        if file.content.is_empty() {
            problems.add(content_field, Reason::invalid("the file is empty"));
        }
    }
    problems
}

/// A file that comes with an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFile {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// The ticket after an action, with its whole timeline (for its clocks).
#[derive(Clone, Debug, PartialEq)]
pub struct Acted {
    pub ticket: TicketRecord,
    pub timeline: Vec<TicketEvent>,
}

/// Carries out `command` on a ticket the caller may see: the domain decides, the store
/// appends the events, keeps the files on the caller's own event and recomputes the clocks,
/// all in one transaction. With `expected_version`, only if the ticket is still at that
/// version.
pub async fn act(
    desk: &Desk,
    caller: &Caller,
    ticket: i64,
    command: Command,
    expected_version: Option<i64>,
    files: &[NewFile],
) -> Result<Acted, DeskError> {
    let Some(role) = caller.role() else {
        return Err(DeskError::Forbidden(
            "the desk records what the policy makes happen; it takes no commands".into(),
        ));
    };
    // Only staff may assign (decide refuses anyone else): nobody else learns who exists.
    let assignee = match (caller, &command) {
        (
            Caller::Staff { .. },
            Command::Assign {
                advisor: Some(advisor),
                ..
            },
        ) => match desk.store.staff_member(*advisor).await {
            Ok(member) if member.active => Some(member),
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(DeskError::invalid(
                    "advisor",
                    "no active staff member has this id",
                ));
            }
            Err(other) => return Err(DeskError::Store(other)),
        },
        _ => None,
    };
    // Whoever is on call now may take a ticket of the region they cover, at any hour.
    let on_call_now: Vec<(String, i64)> = match &assignee {
        Some(_) => {
            let now = desk.clock.now();
            desk.store
                .on_call_shifts(None, now)
                .await?
                .into_iter()
                .filter(|shift| shift.starts_at <= now)
                .map(|shift| (shift.region, shift.staff_id))
                .collect()
        }
        None => Vec::new(),
    };
    if let Command::ProposeSolution {
        resolution: Resolution::PlannedForRelease { release },
        ..
    } = &command
    {
        refuse_a_published_release(desk, caller, ticket, release).await?;
    }
    let change = Change {
        ticket,
        scope: caller.scope(),
        expected_version,
        actor: caller.actor(),
        now: desk.clock.now(),
    };
    file_problems(files, "files", "files").finish()?;
    let uploaded_by = caller.key();
    let files: Vec<FileToAttach<'_>> = files
        .iter()
        .map(|file| FileToAttach {
            filename: &file.name,
            content_type: &file.content_type,
            content: &file.content,
        })
        .collect();
    let files = FilesToAttach {
        uploaded_by: &uploaded_by,
        files: &files,
    };
    let policy = &desk.policy();
    // The resource-center entries a public answer links: they helped with this ticket.
    let linked = match &command {
        Command::Reply { body, .. }
        | Command::RequestFromCustomer { body, .. }
        | Command::ProposeSolution { body, .. } => linked_entries(body),
        _ => Vec::new(),
    };
    let (ticket, timeline) = desk
        .store
        .update_ticket_with_files(policy, change, &files, |record, snapshot| {
            // The advisor must fit the ticket as it is now, in this transaction (POLICY.md
            // §7); a manager's override is kept on the event.
            let overridden = match (&assignee, &command) {
                (Some(member), Command::Assign { reason, .. }) => {
                    let on_call = on_call_now
                        .iter()
                        .any(|(region, staff)| *region == record.region && *staff == member.id);
                    let languages: Vec<&str> = std::iter::once(record.language.as_str())
                        .chain(
                            snapshot
                                .office_language
                                .as_deref()
                                .filter(|office| *office != record.language),
                        )
                        .collect();
                    let misfit = (!on_call)
                        .then(|| {
                            misfit(
                                &record.region,
                                &languages,
                                &policy.languages.fallback,
                                &Assignee {
                                    name: &member.name,
                                    role: member.role,
                                    region: member.region.as_deref(),
                                    languages: &member.languages,
                                },
                            )
                        })
                        .flatten();
                    check_assignment(role, reason.as_deref(), misfit).map_err(|why| {
                        Refusal::Invalid {
                            field: "advisor",
                            reason: Reason::invalid(why),
                        }
                    })?
                }
                _ => None,
            };
            let mut events = decide(snapshot, role, command, policy)?;
            if overridden.is_some() {
                for event in &mut events {
                    if let EventData::Assigned {
                        overridden: kept, ..
                    } = event
                    {
                        kept.clone_from(&overridden);
                    }
                }
            }
            Ok::<_, Refusal>(events)
        })
        .await
        .map_err(|error| match error {
            UpdateError::Refused(refusal) => DeskError::from(refusal),
            UpdateError::Store(error) => DeskError::from(error),
        })?;
    // A count kept beside the ticket: the answer is recorded even if this fails.
    if let Err(error) = desk
        .store
        .link_ticket_to_entries(ticket.id, &linked, desk.clock.now())
        .await
    {
        tracing::warn!(ticket = ticket.id, %error, "the entries a reply links were not counted");
    }
    Ok(Acted { ticket, timeline })
}

/// A fix is planned for a release to come: one of the ticket's line already in the catalog
/// would never be announced to it, so it is proposed as the fix instead.
async fn refuse_a_published_release(
    desk: &Desk,
    caller: &Caller,
    ticket: i64,
    release: &str,
) -> Result<(), DeskError> {
    let line = desk
        .store
        .ticket(ticket, caller.scope())
        .await?
        .product_line;
    let published = desk
        .store
        .releases_of(&line)
        .await?
        .into_iter()
        .find(|known| !known.is_retired() && same_version(&known.version, release.trim()));
    match published {
        Some(known) => Err(DeskError::invalid(
            "resolution.release",
            format!(
                "{line} {} is already published: propose it as the fix rather than plan for it",
                known.version
            ),
        )),
        None => Ok(()),
    }
}

/// Keeps files on a ticket the caller may see, on its event `event_seq` when given (a new
/// ticket's files go on its created event); answers them as stored. An event that is not the
/// ticket's is refused as the field `event`.
pub async fn attach_files(
    desk: &Desk,
    caller: &Caller,
    ticket: i64,
    event_seq: Option<i64>,
    files: Vec<NewFile>,
) -> Result<Vec<Attachment>, DeskError> {
    file_problems(&files, "filename", "body").finish()?;
    let now = desk.clock.now();
    let mut stored = Vec::with_capacity(files.len());
    for file in files {
        let attachment = NewAttachment {
            ticket_id: ticket,
            event_seq,
            filename: file.name.trim().to_string(),
            content_type: file.content_type,
            content: file.content,
            uploaded_by: caller.key(),
        };
        match desk
            .store
            .add_attachment(&attachment, caller.scope(), now)
            .await
        {
            Ok(kept) => stored.push(kept),
            Err(StoreError::Conflict(reason)) => {
                return Err(DeskError::invalid("event", reason));
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_keeps_its_own_name_only() {
        assert_eq!(plain_file_name("C:\\Users\\ana\\log.txt"), "log.txt");
        assert_eq!(plain_file_name("/tmp/trace.zip"), "trace.zip");
        assert_eq!(plain_file_name("  "), "attachment");
        assert_eq!(plain_file_name("a\u{0}b.txt"), "ab.txt");
        assert_eq!(plain_file_name("report\r\n.pdf"), "report.pdf");
        assert_eq!(plain_file_name(&"x".repeat(300)).len(), FILE_NAME_MAX_CHARS);
    }

    #[test]
    fn a_file_to_keep_has_a_plain_name_and_content() {
        let file = |name: &str, content: &[u8]| NewFile {
            name: name.into(),
            content_type: "text/plain".into(),
            content: content.to_vec(),
        };
        let fields = |files: &[NewFile]| -> Vec<String> {
            file_problems(files, "filename", "body")
                .into_problems()
                .into_iter()
                .map(|problem| format!("{}: {}", problem.field, problem.message))
                .collect()
        };
        assert!(fields(&[file("log.txt", b"x")]).is_empty());
        assert_eq!(fields(&[file("a\r\nb.txt", b"x")]).len(), 1);
        assert_eq!(fields(&[file("../etc/passwd", b"x")]).len(), 1);
        assert_eq!(fields(&[file(" ", b"x")]), ["filename: must not be empty"]);
        assert_eq!(
            fields(&[file("empty.txt", b"")]),
            ["body: the file is empty"]
        );
        assert_eq!(fields(&[file(&"x".repeat(256), b"x")]).len(), 1);
    }
}
