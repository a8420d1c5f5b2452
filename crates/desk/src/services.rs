//! Professional-services requests (POLICY.md §3): what intake made of a request for custom
//! programming in a language the products do not speak natively. Staff quote it (or decline
//! to), the customer accepts or declines the quote, or withdraws; no support clock runs on it.

use caredesk_domain::services::{ServiceCommand, decide_service};
use caredesk_store::{ServiceRequest, ServiceUpdateError};

use crate::{Caller, Desk, DeskError};

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
