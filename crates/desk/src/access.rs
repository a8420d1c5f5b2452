//! Who holds access, and ending it: staff members' API tokens (issued by administrators,
//! listed, revoked, expiring when issued so) and everyone's own signed-in sessions. Signing
//! out ends the session, or revokes the API token, that the request carries.

use caredesk_domain::reason::Reason;
use caredesk_domain::ticket::Role;
use caredesk_store::{ApiToken, SessionHolder, SessionRecord};
use jiff::SignedDuration;

use crate::error::Problems;
use crate::sessions::new_token;
use crate::{Caller, Desk, DeskError, bounds};

/// The longest an expiring token may be issued for: ten years.
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// A token as an administrator asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// What the token is for, such as "monitoring".
    pub name: String,
    /// Refused from then on; none: until revoked.
    pub expires_in_days: Option<u32>,
}

/// Issues an API token for a staff member (administrators only): the token as listed and
/// its secret, which is shown this once and never kept.
pub async fn issue_token(
    desk: &Desk,
    caller: &Caller,
    staff: i64,
    request: &TokenRequest,
) -> Result<(ApiToken, String), DeskError> {
    caller.require_role(&[Role::Admin])?;
    let member = desk.store.staff_member(staff).await?;
    let mut problems = Problems::default();
    problems.text("name", &request.name, bounds::TOKEN_NAME);
    if let Some(days) = request.expires_in_days
        && !(1..=MAX_TOKEN_DAYS).contains(&days)
    {
        problems.add(
            "expires_in_days",
            Reason::invalid(format!("from 1 to {MAX_TOKEN_DAYS} days")),
        );
    }
    if !member.active {
        problems.add(
            "staff_id",
            Reason::invalid("the staff member is no longer active"),
        );
    }
    problems.finish()?;
    let now = desk.clock.now();
    let expires_at = match request.expires_in_days {
        Some(days) => Some(
            now.checked_add(SignedDuration::from_hours(i64::from(days) * 24))
                .map_err(DeskError::unexpected)?,
        ),
        None => None,
    };
    let secret = new_token();
    let token = desk
        .audited_store(caller)
        .add_api_token(staff, request.name.trim(), &secret, now, expires_at)
        .await?;
    Ok((token, secret))
}

/// API tokens, newest first: an administrator sees everyone's (or one member's, with
/// `staff`); any other staff member only their own.
pub async fn tokens(
    desk: &Desk,
    caller: &Caller,
    staff: Option<i64>,
) -> Result<Vec<ApiToken>, DeskError> {
    let staff = match *caller {
        Caller::System
        | Caller::Staff {
            role: Role::Admin, ..
        } => staff,
        Caller::Staff { id, .. } if staff.is_none_or(|asked| asked == id) => Some(id),
        Caller::Staff { .. } => return Err(DeskError::Forbidden("administrators only".into())),
        Caller::Contact { .. } => return Err(DeskError::Forbidden("staff only".into())),
    };
    Ok(desk.store.api_tokens(staff).await?)
}

/// Revokes a token for good: an administrator any token, another staff member their own.
/// Someone else's token is not found, as if it did not exist.
pub async fn revoke_token(desk: &Desk, caller: &Caller, id: i64) -> Result<ApiToken, DeskError> {
    let token = desk.store.api_token(id).await?;
    match *caller {
        Caller::System
        | Caller::Staff {
            role: Role::Admin, ..
        } => {}
        Caller::Staff { id: staff, .. } if staff == token.staff_id => {}
        Caller::Staff { .. } | Caller::Contact { .. } => return Err(DeskError::NotFound),
    }
    Ok(desk
        .audited_store(caller)
        .revoke_api_token(id, desk.clock.now())
        .await?)
}

/// Signs out the holder of `secret`: ends its session, or, when it is an API token,
/// revokes it (a program that signs out means it is done with the token).
pub async fn sign_out(desk: &Desk, caller: &Caller, secret: &str) -> Result<(), DeskError> {
    if desk.store.close_session(secret).await? {
        return Ok(());
    }
    desk.audited_store(caller)
        .revoke_api_token_by_secret(secret, desk.clock.now())
        .await?;
    Ok(())
}

/// The caller's own open sessions, newest first, the one of `current_secret` marked.
pub async fn own_sessions(
    desk: &Desk,
    caller: &Caller,
    current_secret: &str,
) -> Result<Vec<SessionRecord>, DeskError> {
    let holder = holder_of(caller)?;
    Ok(desk
        .store
        .sessions_of(holder, current_secret, desk.clock.now())
        .await?)
}

/// Ends one of the caller's own sessions (another browser left signed in); someone else's
/// session is not found.
pub async fn end_own_session(desk: &Desk, caller: &Caller, id: i64) -> Result<(), DeskError> {
    let holder = holder_of(caller)?;
    Ok(desk.store.end_session_of(holder, id).await?)
}

fn holder_of(caller: &Caller) -> Result<SessionHolder, DeskError> {
    match *caller {
        Caller::Staff { id, .. } => Ok(SessionHolder::Staff(id)),
        Caller::Contact { id, .. } => Ok(SessionHolder::Contact(id)),
        Caller::System => Err(DeskError::Forbidden(
            "only a signed-in person has sessions".into(),
        )),
    }
}
