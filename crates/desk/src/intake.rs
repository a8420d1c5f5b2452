//! Opening a ticket: the intake form checked against the policy and the customer's records
//! (POLICY.md §1, §3, §5, §7), then the ticket written with its program, flags, language,
//! coverage window and advisor; or, for custom programming outside the native languages, a
//! professional-services request. The API, the portal and inbound mail all open tickets here.

use caredesk_domain::intake::{
    CatalogRelease, ContactPerson, ContractTerms, IntakeForm, IntakeOutcome, IntakeRequest,
    RegisteredProduct, assess, choose_language, coverage_window,
};
use caredesk_domain::policy::TicketProfile;
use caredesk_domain::routing::{RoutingNeed, choose_advisor};
use caredesk_store::{
    Contact, Created, EarlierRequest, IntakeRecord, NewServiceRequest, NewTicket, ServiceRequest,
    StoreError,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::FieldProblems;
use crate::{Caller, Desk, DeskError};

/// The intake form (POLICY.md §3).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OpenTicket {
    /// Staff give the customer; a customer contact opens tickets for its own organisation.
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// The person handling the problem on the customer's side; a contact defaults to itself.
    #[serde(default)]
    pub contact_id: Option<i64>,
    /// How the ticket came in: "portal" or "phone" in the default policy.
    pub channel: String,
    pub severity: String,
    pub product_line: String,
    /// Required by the policy's `intake.required`: the portal refuses a ticket without it,
    /// a phone ticket is recorded as incomplete.
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub serial: String,
    pub subject: String,
    pub description: String,
    #[serde(default)]
    pub business_impact: String,
    #[serde(default)]
    pub error_messages: Option<String>,
    #[serde(default)]
    pub steps_to_reproduce: Option<String>,
    #[serde(default)]
    pub workaround: Option<String>,
    /// For custom programming: the language it is written in. Outside the products' native
    /// languages the request becomes a professional-services request (202), not a ticket.
    #[serde(default)]
    pub programming_language: Option<String>,
}

/// What intake made of the form.
#[derive(Clone, Debug)]
pub enum Intake {
    Ticket(Box<NewTicket>),
    ProfessionalServices(Box<NewServiceRequest>),
}

/// What came of an intake form.
#[derive(Clone, Debug, PartialEq)]
pub enum Opened {
    /// A ticket: new, or the one an earlier request with the same idempotency key opened
    /// (`replayed`).
    Ticket(Box<Created>),
    /// Not a support ticket: a professional-services request (new, or the earlier one).
    ServiceRequest(Box<ServiceRequest>),
}

/// Opens a ticket from the form. With an idempotency key, a retry of the same request
/// answers as the first did (the same ticket or professional-services request) and opens
/// nothing; the key reused for another request is a conflict.
pub async fn open_ticket(
    desk: &Desk,
    caller: &Caller,
    request: &OpenTicket,
    idempotency_key: Option<String>,
) -> Result<Opened, DeskError> {
    // A key names one request, whatever it became: a key already used for the other kind
    // of record answers as that record would (the same one, or a conflict).
    if let Some(key) = &idempotency_key {
        let hash = request_hash(Some(key), request);
        match desk
            .store
            .earlier_request(&caller.key(), key, hash.as_deref())
            .await?
        {
            Some(EarlierRequest::Ticket(created)) => return Ok(Opened::Ticket(created)),
            Some(EarlierRequest::ServiceRequest(recorded)) => {
                return Ok(Opened::ServiceRequest(Box::new(recorded.request)));
            }
            None => {}
        }
    }
    let now = desk.clock.now();
    let intake = assess_form(desk, caller, request, idempotency_key, false, now).await?;
    record(desk, intake, now).await
}

/// Writes what intake made of a form: the ticket (with its clocks, first events and
/// notices) or the professional-services request.
pub async fn record(desk: &Desk, intake: Intake, now: Timestamp) -> Result<Opened, DeskError> {
    match intake {
        Intake::Ticket(new) => Ok(Opened::Ticket(Box::new(
            desk.store.create_ticket(&desk.policy, &new, now).await?,
        ))),
        Intake::ProfessionalServices(new) => Ok(Opened::ServiceRequest(Box::new(
            desk.store.create_service_request(&new, now).await?.request,
        ))),
    }
}

/// Checks the form against the policy and the customer's records (POLICY.md §1, §3, §5, §7)
/// and builds the ticket: its program, flags, language, coverage window and advisor; or,
/// for custom programming outside the native languages, a professional-services request.
pub async fn assess_form(
    desk: &Desk,
    caller: &Caller,
    request: &OpenTicket,
    idempotency_key: Option<String>,
    lenient: bool,
    now: Timestamp,
) -> Result<Intake, DeskError> {
    let policy = &desk.policy;
    // What the clocks and the calendar stand on must be valid on every channel.
    let mut errors = FieldProblems::default();
    errors.add_problem(
        "channel",
        policy
            .channel(&request.channel)
            .err()
            .map(|e| e.to_string()),
    );
    errors.add_problem(
        "severity",
        policy
            .severity(&request.severity)
            .err()
            .map(|e| e.to_string()),
    );
    errors.add_problem(
        "product_line",
        policy
            .product_line(&request.product_line)
            .err()
            .map(|e| e.to_string()),
    );
    for (field, value) in [
        ("subject", &request.subject),
        ("description", &request.description),
    ] {
        errors.add_problem(
            field,
            value
                .trim()
                .is_empty()
                .then(|| "must not be empty".to_string()),
        );
    }
    errors.add_problem(
        "subject",
        (request.subject.chars().count() > 200).then(|| "at most 200 characters".to_string()),
    );

    let (customer_id, named_contact_id) = match *caller {
        Caller::Contact {
            id: own_id,
            customer_id: own_customer,
        } => {
            if request.customer_id.is_some_and(|id| id != own_customer) {
                return Err(DeskError::Forbidden(
                    "a contact opens tickets for its own organisation only".into(),
                ));
            }
            if request.channel != "portal" && policy.channel("portal").is_ok() {
                errors.add_problem(
                    "channel",
                    Some("customers open tickets through the portal".into()),
                );
            }
            (own_customer, Some(request.contact_id.unwrap_or(own_id)))
        }
        Caller::System => {
            return Err(DeskError::Forbidden(
                "tickets are opened by a person, staff or customer".into(),
            ));
        }
        Caller::Staff { .. } => {
            let Some(customer_id) = request.customer_id else {
                errors.add_problem(
                    "customer_id",
                    Some("staff must say which customer the ticket is for".into()),
                );
                return Err(errors.into_error());
            };
            (customer_id, request.contact_id)
        }
    };
    errors.finish()?;

    let facts = match desk
        .store
        .intake_facts(policy, customer_id, &request.product_line, now)
        .await
    {
        Ok(facts) => facts,
        Err(StoreError::NotFound) => {
            return Err(DeskError::invalid("customer_id", "no such customer"));
        }
        Err(other) => return Err(other.into()),
    };
    // The contact named, the caller itself, or the customer's designated contact.
    let contact: Option<Contact> = match named_contact_id {
        Some(id) => match facts.contacts.iter().find(|contact| contact.id == id) {
            Some(contact) => Some(contact.clone()),
            None => {
                return Err(DeskError::invalid(
                    "contact_id",
                    "not a contact of this customer",
                ));
            }
        },
        None => facts
            .contacts
            .iter()
            .find(|contact| contact.designated)
            .or(facts.contacts.first())
            .cloned(),
    };

    let contracts: Vec<ContractTerms> = facts
        .contracts
        .iter()
        .map(|contract| ContractTerms {
            program: contract.program.clone(),
            starts_on: contract.starts_on,
            ends_on: contract.ends_on,
            eula_accepted: contract.eula_accepted,
        })
        .collect();
    let products: Vec<RegisteredProduct> = facts
        .products
        .iter()
        .map(|product| RegisteredProduct {
            id: product.id,
            product_line: product.product_line.clone(),
            version: product.version.clone(),
            serial: product.serial.clone(),
        })
        .collect();
    let releases: Vec<CatalogRelease> = facts
        .releases
        .iter()
        .map(|release| CatalogRelease {
            version: release.version.clone(),
            position: release.position,
        })
        .collect();
    let person = contact.as_ref().map(|contact| ContactPerson {
        name: contact.name.clone(),
        email: contact.email.clone(),
        phone: contact.phone.clone(),
        language: contact.language.clone(),
    });
    let form = IntakeForm {
        description: request.description.clone(),
        severity: request.severity.clone(),
        business_impact: request.business_impact.clone(),
        product_line: request.product_line.clone(),
        version: request.version.clone(),
        serial: request.serial.clone(),
        error_messages: request.error_messages.clone(),
        steps_to_reproduce: request.steps_to_reproduce.clone(),
        workaround: request.workaround.clone(),
        programming_language: request.programming_language.clone(),
    };
    let region = facts.customer.region.as_str();
    let outcome = assess(
        policy,
        &IntakeRequest {
            lenient,
            channel: &request.channel,
            region,
            contracts: &contracts,
            products: &products,
            releases: &releases,
            contact: person.as_ref(),
            form: &form,
            now,
        },
    )
    .map_err(DeskError::unexpected)?;
    let accepted = match outcome {
        IntakeOutcome::Ticket(accepted) => accepted,
        IntakeOutcome::Refused {
            fields,
            not_covered,
        } => {
            if fields.is_empty()
                && let Some(cover) = not_covered
            {
                return Err(DeskError::Forbidden(cover.reason));
            }
            let mut errors = FieldProblems::default();
            for refusal in fields.into_iter().chain(not_covered) {
                errors.add_problem(refusal.field, Some(refusal.reason));
            }
            return Err(errors.into_error());
        }
        IntakeOutcome::ProfessionalServices { language, reason } => {
            return Ok(Intake::ProfessionalServices(Box::new(NewServiceRequest {
                customer_id: facts.customer.id,
                contact_id: contact.as_ref().map(|contact| contact.id),
                product_line: request.product_line.clone(),
                version: request.version.trim().to_string(),
                programming_language: language,
                subject: request.subject.trim().to_string(),
                description: request.description.clone(),
                reason,
                created_by: caller.key(),
                request_hash: request_hash(idempotency_key.as_deref(), request),
                idempotency_key,
            })));
        }
    };

    let profile = TicketProfile {
        program: &accepted.program,
        region,
        product_line: &request.product_line,
        severity: &request.severity,
        channel: &request.channel,
    };
    let coverage = coverage_window(policy, &profile, now).map_err(DeskError::unexpected)?;
    let preferred = contact
        .as_ref()
        .map_or(facts.customer.language.as_str(), |contact| {
            contact.language.as_str()
        });
    let language = choose_language(
        policy,
        region,
        preferred,
        coverage.after_hours_language.as_deref(),
    )
    .map_err(DeskError::unexpected)?;
    let assignment = choose_advisor(
        &RoutingNeed {
            region,
            language: &language.language,
            after_hours: coverage.after_hours,
            now,
        },
        &facts.candidates,
        &facts.on_call,
    );

    let details = serde_json::json!({
        "business_impact": request.business_impact,
        "error_messages": request.error_messages,
        "steps_to_reproduce": request.steps_to_reproduce,
        "workaround": request.workaround,
    });
    let request_hash = request_hash(idempotency_key.as_deref(), request);
    Ok(Intake::Ticket(Box::new(NewTicket {
        customer_id: facts.customer.id,
        contact_id: contact.as_ref().map(|contact| contact.id),
        product_id: accepted.product_id,
        product_line: request.product_line.clone(),
        version: request.version.trim().to_string(),
        serial: request.serial.trim().to_string(),
        program: accepted.program,
        region: facts.customer.region.clone(),
        language: language.language.clone(),
        channel: request.channel.clone(),
        subject: request.subject.trim().to_string(),
        description: request.description.clone(),
        details,
        severity: request.severity.clone(),
        actor: caller.actor(),
        created_by: caller.key(),
        idempotency_key,
        request_hash,
        intake: Some(IntakeRecord {
            flags: accepted.flags,
            language,
            coverage,
            assignment: Some(assignment),
        }),
    })))
}

/// What tells a retry (the same request) from a reuse of its key (another request).
fn request_hash(idempotency_key: Option<&str>, request: &OpenTicket) -> Option<String> {
    idempotency_key.map(|_| {
        let canonical = serde_json::to_vec(request).unwrap_or_default();
        hex::encode(Sha256::digest(canonical))
    })
}
