//! Acting on a ticket: a reply, a note, a request to the customer, a proposal, an answer, an
//! assignment… whoever asks and however the request came in (the API, a page, a mail, the
//! demo), through this one function.

use caredesk_domain::ticket::{Command, TicketEvent, decide};
use caredesk_store::{
    Change, FileToAttach, FilesToAttach, NewAttachment, StoreError, TicketRecord, UpdateError,
};

use crate::{Caller, Desk, DeskError};

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
    if let (
        Caller::Staff { .. },
        Command::Assign {
            advisor: Some(advisor),
            ..
        },
    ) = (caller, &command)
    {
        match desk.store.staff_member(*advisor).await {
            Ok(member) if member.active => {}
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(DeskError::invalid(
                    "advisor",
                    "no active staff member has this id",
                ));
            }
            Err(other) => return Err(DeskError::Store(other)),
        }
    }
    let change = Change {
        ticket,
        scope: caller.scope(),
        expected_version,
        actor: caller.actor(),
        now: desk.clock.now(),
    };
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
    let policy = &desk.policy;
    let (ticket, timeline) = desk
        .store
        .update_ticket_with_files(policy, change, &files, |_, snapshot| {
            decide(snapshot, role, command, policy)
        })
        .await
        .map_err(|error| match error {
            UpdateError::Refused(refusal) => DeskError::from(refusal),
            UpdateError::Store(error) => DeskError::from(error),
        })?;
    Ok(Acted { ticket, timeline })
}

/// Keeps files on a ticket the caller may see, on its event `event_seq` when given (a new
/// ticket's files go on its created event).
pub async fn attach_files(
    desk: &Desk,
    caller: &Caller,
    ticket: i64,
    event_seq: Option<i64>,
    files: Vec<NewFile>,
) -> Result<(), DeskError> {
    let now = desk.clock.now();
    for file in files {
        desk.store
            .add_attachment(
                &NewAttachment {
                    ticket_id: ticket,
                    event_seq,
                    filename: file.name,
                    content_type: file.content_type,
                    content: file.content,
                    uploaded_by: caller.key(),
                },
                caller.scope(),
                now,
            )
            .await?;
    }
    Ok(())
}
