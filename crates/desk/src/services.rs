//! Professional-services requests (POLICY.md §3, §8a): what intake made of a request for
//! custom programming in a language the products do not speak natively, or what a ticket
//! decided outside technical support continues as. Staff quote it (or decline to), the
//! customer accepts or declines the quote, or withdraws; no support clock runs on it.

use caredesk_domain::services::{ServiceCommand, decide_service};
use caredesk_domain::ticket::{EventData, TicketState, moved_to_services};
use caredesk_store::{
    Change, NewServiceRequest, RecordedServiceRequest, ServiceRequest, ServiceUpdateError,
    UpdateError,
};

use crate::{Caller, Desk, DeskError};

/// Asks for professional services for a ticket decided outside technical support (POLICY.md
/// §8a), in one step: a request of the ticket's customer, with its product, subject and
/// description, saying which exclusion it comes from; the ticket then closes, continued as
/// that request. Asking again, by anyone, gives the same request. Only the ticket's own
/// organisation and staff may ask; another's ticket is not found.
pub async fn request_for_ticket(
    desk: &Desk,
    caller: &Caller,
    ticket: i64,
) -> Result<RecordedServiceRequest, DeskError> {
    if caller.role().is_none() {
        return Err(DeskError::Forbidden(
            "the desk records what the policy makes happen; it takes no commands".into(),
        ));
    }
    let record = desk.store.ticket(ticket, caller.scope()).await?;
    let timeline = desk.store.timeline(ticket, caller.scope()).await?;
    // The decision the request comes from: the last one, if the ticket is outside support
    // now, or (asked again after the ticket closed) the one its request was made from.
    let decision = timeline.iter().rev().find_map(|event| match &event.data {
        EventData::OutsideSupport { exclusion, .. } => Some((event.seq, exclusion.clone())),
        _ => None,
    });
    let source = decision
        .as_ref()
        .map(|(seq, _)| format!("ticket:{ticket}:declared:{seq}"));
    if record.state != TicketState::OutsideSupport {
        // Asked before: the same request.
        if let Some(found) = desk.store.service_request_from(source.as_deref()).await? {
            return Ok(found);
        }
        return Err(DeskError::Conflict {
            detail: format!(
                "ticket {ticket} is {}: professional services are offered for a ticket decided outside technical support",
                record.state.as_str().replace('_', " ")
            ),
            state: Some(record.state.as_str()),
            allowed_actions: None,
        });
    }
    let Some((_, exclusion)) = decision else {
        return Err(DeskError::unexpected(format!(
            "ticket {ticket} is outside support with no decision on its timeline"
        )));
    };
    let policy = desk.policy();
    let title = policy
        .exclusions
        .get(&exclusion)
        .map_or(exclusion.as_str(), |known| known.title.as_str());
    let new = NewServiceRequest {
        customer_id: record.customer_id,
        contact_id: match *caller {
            Caller::Contact { id, .. } => Some(id),
            _ => record.contact_id,
        },
        product_line: record.product_line.clone(),
        version: record.version.clone(),
        programming_language: String::new(),
        subject: record.subject.clone(),
        description: record.description.clone(),
        reason: format!("ticket {ticket} is outside technical support: {title}"),
        created_by: caller.key(),
        idempotency_key: None,
        request_hash: None,
        source,
    };
    let recorded = desk
        .store
        .create_service_request(&new, desk.clock.now())
        .await?;
    // The request takes over: the ticket closes, saying so (in the same way if two asked
    // at once: the second finds it closed).
    let request = recorded.request.id;
    let closed = desk
        .store
        .update_ticket(
            &desk.policy(),
            Change {
                ticket,
                scope: caller.scope(),
                expected_version: None,
                actor: caller.actor(),
                now: desk.clock.now(),
            },
            |_, snapshot| moved_to_services(snapshot, request),
        )
        .await;
    match closed {
        Ok(_) | Err(UpdateError::Refused(_)) => Ok(recorded),
        Err(UpdateError::Store(error)) => Err(error.into()),
    }
}

/// Carries out `command` on a request the caller may see: the domain decides from its
/// state, the store records the change under the request's row lock. With
/// `expected_version`, only if the request is still at that version.
pub async fn act(
    desk: &Desk,
    caller: &Caller,
    request: i64,
    command: ServiceCommand,
    expected_version: Option<i64>,
) -> Result<ServiceRequest, DeskError> {
    let Some(role) = caller.role() else {
        return Err(DeskError::Forbidden(
            "the desk records what the policy makes happen; it takes no commands".into(),
        ));
    };
    desk.store
        .update_service_request(
            request,
            caller.scope(),
            expected_version,
            &caller.key(),
            desk.clock.now(),
            |current| decide_service(current.state, role, command),
        )
        .await
        .map_err(|error| match error {
            ServiceUpdateError::Refused(refusal) => DeskError::from(refusal),
            ServiceUpdateError::Store(store) => DeskError::from(store),
        })
}
