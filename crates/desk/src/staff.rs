//! Staff: adding members, their availability, and the on-call
//! rota of each office after its hours. The API and the command line change staff here.

use caredesk_domain::reason::Reason;
use caredesk_domain::ticket::Role;
use caredesk_store::{NewStaff, OnCallShiftRecord, StaffMember, StoreError};
use jiff::{SignedDuration, Timestamp};

use crate::customers::looks_like_email;
use crate::error::Problems;
use crate::sessions::hash_password_off_thread;
use crate::{Caller, Desk, DeskError, FieldProblem, bounds};

/// A staff member as an administrator enters them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffForm {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub region: Option<String>,
    pub languages: Vec<String>,
    /// Lets the member sign in with a password (at least 12 characters).
    pub password: Option<String>,
}

/// What is wrong with `form`, every field at once.
pub fn staff_form_problems(desk: &Desk, form: &StaffForm) -> Vec<FieldProblem> {
    let mut problems = Problems::default();
    if form.email.chars().count() > bounds::EMAIL {
        problems.add("email", Reason::too_long(bounds::EMAIL));
    } else if !looks_like_email(&form.email) {
        problems.add("email", Reason::invalid("not an e-mail address"));
    }
    problems.text("name", &form.name, bounds::NAME);
    if form.role == Role::CustomerContact {
        problems.add(
            "role",
            Reason::invalid("customer contacts are added to their customer, not to the staff"),
        );
    }
    if let Some(region) = &form.region
        && let Err(unknown) = desk.policy().region(region)
    {
        problems.add("region", Reason::invalid(unknown.to_string()));
    }
    for language in &form.languages {
        if !desk.policy().languages.supported.contains(language) {
            problems.add(
                "languages",
                Reason::invalid(format!("\"{language}\" is not a supported language")),
            );
        }
    }
    if form
        .password
        .as_ref()
        .is_some_and(|password| password.chars().count() < 12)
    {
        problems.add("password", Reason::invalid("at least 12 characters"));
    }
    if form
        .password
        .as_ref()
        .is_some_and(|password| password.chars().count() > bounds::PASSWORD)
    {
        problems.add("password", Reason::too_long(bounds::PASSWORD));
    }
    problems.into_problems()
}

/// Adds a staff member (administrators only).
pub async fn add_staff(
    desk: &Desk,
    caller: &Caller,
    form: StaffForm,
) -> Result<StaffMember, DeskError> {
    caller.require_role(&[Role::Admin])?;
    let problems = staff_form_problems(desk, &form);
    if !problems.is_empty() {
        return Err(DeskError::Invalid(problems));
    }
    let password_hash = match form.password {
        Some(password) => Some(hash_password_off_thread(password).await?),
        None => None,
    };
    let new = NewStaff {
        email: form.email,
        name: form.name.trim().to_string(),
        role: form.role,
        region: form.region,
        languages: form.languages,
        password_hash,
    };
    Ok(desk
        .audited_store(caller)
        .create_staff(&new, desk.clock.now())
        .await?)
}

/// Marks a staff member present or away: assignment skips an advisor who is away. Staff set
/// their own; support managers and administrators anyone's.
pub async fn set_availability(
    desk: &Desk,
    caller: &Caller,
    staff: i64,
    available: bool,
) -> Result<StaffMember, DeskError> {
    match *caller {
        Caller::Staff { id, .. } if id == staff => {}
        Caller::Staff {
            role: Role::SupportManager | Role::Admin,
            ..
        }
        | Caller::System => {}
        Caller::Staff { .. } => {
            return Err(DeskError::Forbidden(
                "staff set their own availability; support managers and administrators anyone's"
                    .into(),
            ));
        }
        Caller::Contact { .. } => {
            return Err(DeskError::Forbidden("this is for staff only".into()));
        }
    }
    desk.audited_store(caller)
        .set_availability(staff, available)
        .await?;
    Ok(desk.store.staff_member(staff).await?)
}

/// Shuts a staff member out (`active` false: their sessions end, their API tokens are
/// revoked, they are no longer assigned) or lets them in again. Administrators only, and
/// never themselves: a desk keeps at least the administrator who asks.
pub async fn set_active(
    desk: &Desk,
    caller: &Caller,
    staff: i64,
    active: bool,
) -> Result<StaffMember, DeskError> {
    caller.require_role(&[Role::Admin])?;
    if let Caller::Staff { id, .. } = *caller
        && id == staff
        && !active
    {
        return Err(DeskError::invalid(
            "active",
            "administrators cannot deactivate themselves",
        ));
    }
    Ok(desk
        .audited_store(caller)
        .set_staff_active(staff, active, desk.clock.now())
        .await?)
}

/// The longest on-call shift: a week.
const LONGEST_SHIFT: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Puts an advisor on call for a region's office after its hours: extended-coverage
/// tickets opened then go to them (support managers and administrators only).
pub async fn add_on_call(
    desk: &Desk,
    caller: &Caller,
    region: &str,
    advisor: i64,
    starts_at: Timestamp,
    ends_at: Timestamp,
) -> Result<OnCallShiftRecord, DeskError> {
    caller.require_role(&[Role::SupportManager, Role::Admin])?;
    let mut problems = Problems::default();
    if let Err(unknown) = desk.policy().region(region) {
        problems.add("region", Reason::invalid(unknown.to_string()));
    }
    match desk.store.staff_member(advisor).await {
        Ok(member) if member.active && member.role == Role::Advisor => {}
        Ok(_) | Err(StoreError::NotFound) => {
            problems.add("staff_id", Reason::invalid("no active advisor has this id"));
        }
        Err(other) => return Err(DeskError::Store(other)),
    }
    if ends_at <= starts_at {
        problems.add("ends_at", Reason::invalid("a shift ends after it starts"));
    } else if ends_at.duration_since(starts_at) > LONGEST_SHIFT {
        problems.add(
            "ends_at",
            Reason::invalid("a shift lasts at most 7 days; add several"),
        );
    }
    problems.finish()?;
    Ok(desk
        .audited_store(caller)
        .add_on_call_shift(region, advisor, starts_at, ends_at)
        .await?)
}
