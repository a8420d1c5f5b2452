//! Webhooks: addresses that receive every ticket event, signed, through the outbox.
//! Administrators register and stop them; both are kept in the audit trail (never the
//! secret).

use caredesk_domain::reason::Reason;
use caredesk_domain::text::{WEB_LINK_MAX, is_web_link};
use caredesk_domain::ticket::Role;
use caredesk_store::Webhook;

use crate::error::Problems;
use crate::sessions::new_token;
use crate::{Caller, Desk, DeskError};

/// Registers a webhook at `url` (http:// or https://, with a host), signing with `secret`
/// (at least 16 characters) or one made up: the webhook and its secret, shown once.
pub async fn add_webhook(
    desk: &Desk,
    caller: &Caller,
    url: &str,
    secret: Option<String>,
) -> Result<(Webhook, String), DeskError> {
    caller.require_role(&[Role::Admin])?;
    let url = url.trim();
    let mut problems = Problems::default();
    if !is_web_link(url) {
        problems.add(
            "url",
            Reason::invalid(format!(
                "an http:// or https:// URL with a host, at most {WEB_LINK_MAX} characters"
            )),
        );
    }
    if secret
        .as_ref()
        .is_some_and(|secret| secret.chars().count() < 16)
    {
        problems.add("secret", Reason::invalid("at least 16 characters"));
    }
    problems.finish()?;
    let secret = secret.unwrap_or_else(new_token);
    let webhook = desk
        .audited_store(caller)
        .add_webhook(url, &secret, &caller.key(), desk.clock.now())
        .await?;
    Ok((webhook, secret))
}

/// Stops a webhook: no new events go to it, and what waits for it is skipped.
pub async fn stop_webhook(desk: &Desk, caller: &Caller, id: i64) -> Result<(), DeskError> {
    caller.require_role(&[Role::Admin])?;
    Ok(desk.audited_store(caller).deactivate_webhook(id).await?)
}
