//! Asking for an update (POLICY.md §9): a product line without an online update manager
//! (PlanetPress Suite) learns of no release by itself, so its customers ask the desk for the
//! release their licence allows, and an advisor delivers it. The request is a ticket of the
//! customer's region, opened through intake like any other (program, language, advisor,
//! acknowledgement), at the policy's `activation.update_request_severity`, flagged as an
//! update request; whether its clocks can breach is the policy's
//! `activation.update_requests_breach`.

use caredesk_domain::catalog::same_version;
use caredesk_domain::intake::IntakeFlag;
use caredesk_domain::reason::Reason;
use caredesk_domain::text::{forbidden_character, forbidden_character_reason};
use caredesk_store::{Created, Product, StoreError};
use serde::Deserialize;

use crate::intake::{Intake, OpenTicket, Opened, assess_form, earlier_request, record};
use crate::updates::offers;
use crate::{Caller, Desk, DeskError, FieldProblem, bounds};

/// A request for a release of a registered product.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequestForm {
    /// Staff give the customer; a contact asks for its own organisation.
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// The registered product to update.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub serial: String,
    /// The release wanted, one of those offered to the product; absent: the newest offered
    /// (the upgrade if there is one, else the update).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 40))]
    pub version: Option<String>,
    /// Anything the advisor should know (where to deliver, when).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 20000))]
    pub note: String,
}

/// The longest note kept with a request, in characters.
pub const NOTE_MAX_CHARS: usize = 20_000;

/// Files a request for an update of `form.serial`: refused by field when the serial is not
/// one of the customer's products, its line has an online update manager, or the release is
/// not one its licence allows today; the open request for the same release answers again
/// (`replayed`) rather than a second one opening.
pub async fn request_update(
    desk: &Desk,
    caller: &Caller,
    form: &UpdateRequestForm,
    idempotency_key: Option<String>,
) -> Result<Box<Created>, DeskError> {
    let customer_id = match *caller {
        Caller::Contact { customer_id, .. } => customer_id,
        Caller::Staff { .. } => form
            .customer_id
            .ok_or_else(|| refused("customer_id", Reason::required()))?,
        Caller::System => {
            return Err(DeskError::Forbidden(
                "an update is requested by a person, staff or customer".into(),
            ));
        }
    };
    if matches!(caller, Caller::Contact { .. })
        && form.customer_id.is_some_and(|asked| asked != customer_id)
    {
        return Err(DeskError::Forbidden(
            "a contact asks for its own organisation's products".into(),
        ));
    }
    if form.note.chars().count() > NOTE_MAX_CHARS {
        return Err(refused("note", Reason::too_long(NOTE_MAX_CHARS)));
    }
    if let Some(character) = forbidden_character(&form.note) {
        return Err(DeskError::invalid(
            "note",
            forbidden_character_reason(character),
        ));
    }
    let product = product_of(desk, customer_id, &form.serial).await?;
    let policy = desk.policy();
    let line = policy
        .product_line(&product.product_line)
        .map_err(|unknown| DeskError::invalid("serial", unknown.to_string()))?;
    if line.online_update_manager {
        return Err(DeskError::invalid(
            "serial",
            format!(
                "{} has an online update manager: the installed product asks for its updates itself",
                line.name
            ),
        ));
    }
    let (answer, _) = offers(desk, &product, &product.version, "en").await?;
    let offered: Vec<String> = [&answer.upgrade, &answer.update]
        .into_iter()
        .flatten()
        .map(|release| release.version.clone())
        .collect();
    let requested = match form.version.as_deref().map(str::trim) {
        Some(version) if !version.is_empty() => offered
            .iter()
            .find(|offer| same_version(offer, version))
            .cloned()
            .ok_or_else(|| not_offered(&product, version, &offered, &answer))?,
        _ => offered
            .first()
            .cloned()
            .ok_or_else(|| not_offered(&product, &product.version, &offered, &answer))?,
    };

    // Asked again while the first request is open: the same request answers.
    let open = desk
        .store
        .open_tickets_of_serial(customer_id, &product.serial)
        .await?;
    for ticket in open {
        let same = ticket.flags.iter().any(|flag| {
            matches!(flag, IntakeFlag::UpdateRequest { requested: asked, .. }
                if same_version(asked, &requested))
        });
        if same {
            let timeline = desk.store.timeline(ticket.id, caller.scope()).await?;
            return Ok(Box::new(Created {
                ticket,
                timeline,
                replayed: true,
            }));
        }
    }

    let subject = format!(
        "{} {} → {requested} ({})",
        line.name, product.version, product.serial
    );
    let note = form.note.trim();
    let request = OpenTicket {
        customer_id: Some(customer_id),
        contact_id: None,
        channel: channel_of(desk, caller),
        severity: desk.policy().activation.update_request_severity.clone(),
        product_line: product.product_line.clone(),
        version: product.version.clone(),
        serial: product.serial.clone(),
        subject: subject.clone(),
        description: if note.is_empty() {
            subject.clone()
        } else {
            note.to_string()
        },
        business_impact: subject,
        ..OpenTicket::default()
    };
    if let Some(key) = &idempotency_key {
        match earlier_request(desk, caller, key, &request).await? {
            Some(Opened::Ticket(created)) => return Ok(created),
            Some(Opened::ServiceRequest(_)) => {
                return Err(DeskError::Conflict {
                    detail: "Idempotency-Key: used for another request".into(),
                    state: None,
                    allowed_actions: None,
                });
            }
            None => {}
        }
    }
    let now = desk.clock.now();
    // Lenient: a customer whose care has lapsed is still owed the updates its licence
    // allows; the request is recorded as not covered rather than refused.
    // The note is the ticket's description: a refusal of it is the note's.
    let assessed = assess_form(desk, caller, &request, idempotency_key, true, now)
        .await
        .map_err(|error| match error {
            DeskError::Invalid(problems) => DeskError::Invalid(
                problems
                    .into_iter()
                    .map(|mut problem| {
                        if problem.field == "description" {
                            problem.field = "note".into();
                        }
                        problem
                    })
                    .collect(),
            ),
            other => other,
        })?;
    let Intake::Ticket(mut new) = assessed else {
        return Err(DeskError::unexpected(
            "an update request became a professional-services request",
        ));
    };
    if let Some(intake) = &mut new.intake {
        intake.flags.push(IntakeFlag::UpdateRequest {
            serial: product.serial.clone(),
            installed: product.version.clone(),
            requested,
        });
    }
    match record(desk, Intake::Ticket(new), now).await? {
        Opened::Ticket(created) => Ok(created),
        Opened::ServiceRequest(_) => Err(DeskError::unexpected(
            "an update request became a professional-services request",
        )),
    }
}

/// A contact asks on the portal; staff take the request on the phone (the policy's first
/// channel when it has neither).
fn channel_of(desk: &Desk, caller: &Caller) -> String {
    let wanted = match caller {
        Caller::Contact { .. } => "portal",
        _ => "phone",
    };
    let channels = &desk.policy().channels;
    if channels.contains_key(wanted) {
        wanted.to_string()
    } else {
        channels
            .keys()
            .next()
            .cloned()
            .unwrap_or_else(|| wanted.into())
    }
}

fn refused(field: &str, reason: Reason) -> DeskError {
    DeskError::Invalid(vec![FieldProblem::of(field, reason)])
}

/// The customer's registered product `serial`; another customer's reads as nobody's.
async fn product_of(desk: &Desk, customer_id: i64, serial: &str) -> Result<Product, DeskError> {
    let serial = serial.trim();
    if serial.is_empty() {
        return Err(refused("serial", Reason::required()));
    }
    if serial.chars().count() > bounds::SERIAL {
        return Err(refused("serial", Reason::too_long(bounds::SERIAL)));
    }
    match desk.store.product_by_serial(serial).await {
        Ok(product) if product.customer_id == customer_id => Ok(product),
        Ok(_) | Err(StoreError::NotFound) => Err(DeskError::invalid(
            "serial",
            format!("{serial} is not a registered product of this customer"),
        )),
        Err(other) => Err(other.into()),
    }
}

/// Why `version` cannot be asked for: what is offered instead, or why nothing is.
fn not_offered(
    product: &Product,
    version: &str,
    offered: &[String],
    answer: &crate::updates::UpdateAnswer,
) -> DeskError {
    if !offered.is_empty() {
        return DeskError::invalid(
            "version",
            format!(
                "{version} is not offered to {}: ask for {}",
                product.serial,
                offered.join(" or ")
            ),
        );
    }
    match &answer.not_entitled {
        Some(withheld) => DeskError::invalid(
            "version",
            format!(
                "{} is not offered to {}: {} {}",
                withheld.version, product.serial, withheld.reason, withheld.remedy
            ),
        ),
        None => DeskError::invalid(
            "serial",
            format!(
                "{} runs {}, the newest release it may install: there is nothing to update to",
                product.serial, product.version
            ),
        ),
    }
}
