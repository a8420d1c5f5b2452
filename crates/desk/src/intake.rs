//! Opening a ticket: the intake form checked against the policy and the customer's records
//! (POLICY.md §1, §3, §5, §7), then the ticket written with its program, flags, language,
//! coverage window and advisor; or, for custom programming outside the native languages, a
//! professional-services request. The API, the portal and inbound mail all open tickets here.

use caredesk_domain::intake::{
    CatalogRelease, ContactPerson, ContractTerms, Envelope, EnvelopeRefusal, IntakeForm,
    IntakeOutcome, IntakeRequest, KnownContact, Opener, Refusal as IntakeRefusal,
    RegisteredProduct, assess, check_envelope, choose_language, contact_for, coverage_window,
};
use caredesk_domain::policy::TicketProfile;
use caredesk_domain::routing::{RoutingNeed, choose_advisor};
use caredesk_store::{
    Contact, Created, EarlierRequest, IntakeFacts, IntakeRecord, NewServiceRequest, NewTicket,
    ServiceRequest, StoreError, SuggestionShown,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Caller, Desk, DeskError, FieldProblem};

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
    /// What the resource center suggested beside the form before it was sent (at most 10,
    /// each one the caller may read), kept with the ticket for its advisor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub suggestions_shown: Vec<ShownSuggestion>,
}

/// A suggestion shown beside the new-ticket form: an entry of the resource center in a
/// language, or a community question.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShownSuggestion {
    pub kind: SuggestionKind,
    pub id: i64,
    /// The entry's language shown (entries only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    Entry,
    Question,
}

/// The most suggestions a new ticket keeps.
pub const SUGGESTIONS_KEPT: usize = 10;

/// Refuses suggestions the caller could not have been shown: too many, an entry (in that
/// language) or a question they may not read.
pub async fn check_suggestions(
    desk: &Desk,
    caller: &Caller,
    shown: &[ShownSuggestion],
) -> Result<(), DeskError> {
    let refused = |why: String| DeskError::invalid("suggestions_shown", why);
    if shown.len() > SUGGESTIONS_KEPT {
        return Err(refused(format!("at most {SUGGESTIONS_KEPT}")));
    }
    for suggestion in shown {
        let readable = match suggestion.kind {
            SuggestionKind::Entry => {
                let language = suggestion.language.as_deref().unwrap_or_default();
                match crate::resources::entry_for(desk, Some(caller), suggestion.id).await {
                    Ok(entry) => entry
                        .translations
                        .iter()
                        .any(|translation| translation.language == language),
                    Err(DeskError::NotFound) => false,
                    Err(other) => return Err(other),
                }
            }
            SuggestionKind::Question => {
                match crate::community::question_for(desk, Some(caller), suggestion.id).await {
                    Ok(_) => true,
                    Err(DeskError::NotFound) => false,
                    Err(other) => return Err(other),
                }
            }
        };
        if !readable {
            return Err(refused(format!(
                "no {} {} the caller may read{}",
                match suggestion.kind {
                    SuggestionKind::Entry => "entry",
                    SuggestionKind::Question => "question",
                },
                suggestion.id,
                suggestion
                    .language
                    .as_deref()
                    .map(|language| format!(" in \"{language}\""))
                    .unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// Keeps the suggestions shown with ticket `ticket` (checked by [`check_suggestions`]).
/// Kept beside the ticket: the ticket stands even if this fails, which is logged.
pub async fn keep_suggestions(desk: &Desk, ticket: i64, shown: &[ShownSuggestion]) {
    if shown.is_empty() {
        return;
    }
    let rows: Vec<SuggestionShown> = shown
        .iter()
        .map(|suggestion| match suggestion.kind {
            SuggestionKind::Entry => SuggestionShown::Entry {
                id: suggestion.id,
                language: suggestion.language.clone().unwrap_or_default(),
            },
            SuggestionKind::Question => SuggestionShown::Question { id: suggestion.id },
        })
        .collect();
    if let Err(error) = desk.store.record_suggestions_shown(ticket, &rows).await {
        tracing::warn!(ticket, %error, "the suggestions shown before a ticket were not kept");
    }
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
    if let Some(key) = &idempotency_key
        && let Some(earlier) = earlier_request(desk, caller, key, request).await?
    {
        return Ok(earlier);
    }
    check_suggestions(desk, caller, &request.suggestions_shown).await?;
    let now = desk.clock.now();
    let intake = assess_form(desk, caller, request, idempotency_key, false, now).await?;
    let opened = record(desk, intake, now).await?;
    if let Opened::Ticket(created) = &opened
        && !created.replayed
    {
        keep_suggestions(desk, created.ticket.id, &request.suggestions_shown).await;
    }
    Ok(opened)
}

/// What an earlier request of the caller with idempotency key `key` opened, if any. A key
/// names one request, whatever it became: a key already used for the other kind of record
/// answers as that record would (the same one), and one used for another request is a
/// conflict.
pub async fn earlier_request(
    desk: &Desk,
    caller: &Caller,
    key: &str,
    request: &OpenTicket,
) -> Result<Option<Opened>, DeskError> {
    let hash = request_hash(Some(key), request);
    Ok(
        match desk
            .store
            .earlier_request(&caller.key(), key, hash.as_deref())
            .await?
        {
            Some(EarlierRequest::Ticket(created)) => Some(Opened::Ticket(created)),
            Some(EarlierRequest::ServiceRequest(recorded)) => {
                Some(Opened::ServiceRequest(Box::new(recorded.request)))
            }
            None => None,
        },
    )
}

/// Writes what intake made of a form: the ticket (with its clocks, first events and
/// notices) or the professional-services request.
pub async fn record(desk: &Desk, intake: Intake, now: Timestamp) -> Result<Opened, DeskError> {
    match intake {
        Intake::Ticket(new) => Ok(Opened::Ticket(Box::new(
            desk.store.create_ticket(&desk.policy(), &new, now).await?,
        ))),
        Intake::ProfessionalServices(new) => Ok(Opened::ServiceRequest(Box::new(
            desk.store.create_service_request(&new, now).await?.request,
        ))),
    }
}

/// Checks the form against the policy and the customer's records (POLICY.md §1, §3, §5, §7)
/// and builds the ticket: its program, flags, language, coverage window and advisor; or,
/// for custom programming outside the native languages, a professional-services request.
/// The rules are the domain's ([`caredesk_domain::intake`]); this reads what they need.
pub async fn assess_form(
    desk: &Desk,
    caller: &Caller,
    request: &OpenTicket,
    idempotency_key: Option<String>,
    lenient: bool,
    now: Timestamp,
) -> Result<Intake, DeskError> {
    let policy = &desk.policy();
    let addressee =
        check_envelope(policy, opener(caller)?, &envelope_of(request)).map_err(|refusal| {
            match refusal {
                EnvelopeRefusal::Forbidden(reason) => DeskError::Forbidden(reason),
                EnvelopeRefusal::Fields(fields) => refused_fields(fields),
            }
        })?;
    let facts = match desk
        .store
        .intake_facts(policy, addressee.customer_id, &request.product_line, now)
        .await
    {
        Ok(facts) => facts,
        Err(StoreError::NotFound) => {
            return Err(DeskError::invalid("customer_id", "no such customer"));
        }
        Err(other) => return Err(other.into()),
    };
    let known: Vec<KnownContact> = facts
        .contacts
        .iter()
        .map(|contact| KnownContact {
            id: contact.id,
            designated: contact.designated,
        })
        .collect();
    let contact: Option<&Contact> = contact_for(addressee.contact_id, &known)
        .map_err(|refusal| refused_fields(vec![refusal]))?
        .and_then(|id| facts.contacts.iter().find(|contact| contact.id == id));
    let records = Records::of(&facts, contact, request);
    let outcome = assess(policy, &records.request(&request.channel, lenient, now))
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
                return Err(DeskError::Forbidden(cover.reason.to_string()));
            }
            return Err(refused_fields(
                fields.into_iter().chain(not_covered).collect(),
            ));
        }
        IntakeOutcome::ProfessionalServices { language, reason } => {
            return Ok(Intake::ProfessionalServices(Box::new(NewServiceRequest {
                customer_id: facts.customer.id,
                contact_id: contact.map(|contact| contact.id),
                product_line: request.product_line.clone(),
                version: request.version.trim().to_string(),
                programming_language: language,
                subject: request.subject.trim().to_string(),
                description: request.description.clone(),
                reason,
                created_by: caller.key(),
                request_hash: request_hash(idempotency_key.as_deref(), request),
                source: None,
                idempotency_key,
            })));
        }
    };
    let intake = route(desk, &facts, contact, request, &accepted.program, now)?;
    let details = serde_json::json!({
        "business_impact": request.business_impact,
        "error_messages": request.error_messages,
        "steps_to_reproduce": request.steps_to_reproduce,
        "workaround": request.workaround,
    });
    let request_hash = request_hash(idempotency_key.as_deref(), request);
    Ok(Intake::Ticket(Box::new(NewTicket {
        customer_id: facts.customer.id,
        contact_id: contact.map(|contact| contact.id),
        product_id: accepted.product_id,
        product_line: request.product_line.clone(),
        version: request.version.trim().to_string(),
        serial: request.serial.trim().to_string(),
        program: accepted.program,
        region: facts.customer.region.clone(),
        language: intake.language.language.clone(),
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
            ..intake
        }),
    })))
}

/// The opener as the intake rules see them; the desk itself opens nothing.
fn opener(caller: &Caller) -> Result<Opener, DeskError> {
    match *caller {
        Caller::Contact { id, customer_id } => Ok(Opener::Contact { id, customer_id }),
        Caller::Staff { .. } => Ok(Opener::Staff),
        Caller::System => Err(DeskError::Forbidden(
            "tickets are opened by a person, staff or customer".into(),
        )),
    }
}

fn envelope_of(request: &OpenTicket) -> Envelope<'_> {
    Envelope {
        channel: &request.channel,
        severity: &request.severity,
        product_line: &request.product_line,
        subject: &request.subject,
        description: &request.description,
        customer_id: request.customer_id,
        contact_id: request.contact_id,
    }
}

fn refused_fields(fields: Vec<IntakeRefusal>) -> DeskError {
    DeskError::Invalid(
        fields
            .into_iter()
            .map(|refusal| FieldProblem::of(refusal.field, refusal.reason))
            .collect(),
    )
}

/// The customer's records in the domain's terms.
struct Records {
    contracts: Vec<ContractTerms>,
    products: Vec<RegisteredProduct>,
    releases: Vec<CatalogRelease>,
    region: String,
    person: Option<ContactPerson>,
    form: IntakeForm,
}

impl Records {
    fn of(facts: &IntakeFacts, contact: Option<&Contact>, request: &OpenTicket) -> Records {
        Records {
            contracts: facts.contracts.iter().map(contract_terms).collect(),
            products: facts
                .products
                .iter()
                .map(|product| RegisteredProduct {
                    id: product.id,
                    product_line: product.product_line.clone(),
                    version: product.version.clone(),
                    serial: product.serial.clone(),
                })
                .collect(),
            releases: facts
                .releases
                .iter()
                .map(crate::catalog::catalog_release)
                .collect(),
            region: facts.customer.region.clone(),
            person: contact.map(|contact| ContactPerson {
                name: contact.name.clone(),
                email: contact.email.clone(),
                phone: contact.phone.clone(),
                language: contact.language.clone(),
            }),
            form: IntakeForm {
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
            },
        }
    }

    /// What the domain's intake rules are asked about the form.
    fn request<'a>(&'a self, channel: &'a str, lenient: bool, now: Timestamp) -> IntakeRequest<'a> {
        IntakeRequest {
            lenient,
            channel,
            region: &self.region,
            contracts: &self.contracts,
            products: &self.products,
            releases: &self.releases,
            contact: self.person.as_ref(),
            form: &self.form,
            now,
        }
    }
}

/// When the clocks start, in which language the ticket is worked, and who takes it.
fn route(
    desk: &Desk,
    facts: &IntakeFacts,
    contact: Option<&Contact>,
    request: &OpenTicket,
    program: &str,
    now: Timestamp,
) -> Result<IntakeRecord, DeskError> {
    let policy = &desk.policy();
    let region = facts.customer.region.as_str();
    let profile = TicketProfile {
        program,
        region,
        product_line: &request.product_line,
        severity: &request.severity,
        channel: &request.channel,
    };
    let coverage = coverage_window(policy, &profile, now).map_err(DeskError::unexpected)?;
    let preferred = contact.map_or(facts.customer.language.as_str(), |contact| {
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
            fallback_language: &policy.languages.fallback,
            after_hours: coverage.after_hours,
            now,
        },
        &facts.candidates,
        &facts.on_call,
    );
    // Opened after hours in the rule's language: the office will work it in the customer's.
    let office_language = if coverage.after_hours {
        Some(
            choose_language(policy, region, preferred, None)
                .map_err(DeskError::unexpected)?
                .language,
        )
    } else {
        None
    };
    Ok(IntakeRecord {
        flags: Vec::new(),
        language,
        coverage,
        assignment: Some(assignment),
        office_language,
    })
}

/// What tells a retry (the same request) from a reuse of its key (another request).
fn request_hash(idempotency_key: Option<&str>, request: &OpenTicket) -> Option<String> {
    idempotency_key.map(|_| {
        let canonical = serde_json::to_vec(request).unwrap_or_default();
        hex::encode(Sha256::digest(canonical))
    })
}

/// A stored contract as the domain's cover rules read it.
pub fn contract_terms(contract: &caredesk_store::Contract) -> ContractTerms {
    ContractTerms {
        program: contract.program.clone(),
        starts_on: contract.starts_on,
        ends_on: contract.ends_on,
        eula_accepted: contract.eula_accepted,
    }
}
