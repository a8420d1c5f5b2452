//! The job runner as the shell starts it: from the settings, the templates, the transport
//! and the sender; inside `caredesk serve` or alone as `caredesk worker`.

use std::sync::Arc;
use std::time::Duration;

use caredesk_desk::Desk;
use caredesk_mail::{MessageIds, SmtpSecurity, SmtpSettings, Templates, Transport, sender};
use caredesk_worker::{Deliverer, MailSettings, Runner, RunnerSettings, instance_name};

use crate::Failure;
use crate::settings::Settings;

/// A runner for the desk, or why the mail settings do not make one.
pub fn runner(settings: &Settings, desk: Desk) -> Result<Runner, Failure> {
    let templates = templates(settings)?;
    let from = sender(&settings.mail_from).map_err(|error| Failure::Input(error.to_string()))?;
    let ids = MessageIds::new(from.email.domain());
    let transport = transport(settings)?;
    tracing::info!(transport = %transport.describe(), from = %from, "notices go out");
    let public_url = settings.reachable_at();
    let owner = instance_name();
    let mut deliverer = Deliverer::new(
        desk.store.clone(),
        desk.current_policy.clone(),
        Arc::new(templates),
        transport,
        MailSettings {
            from,
            ids,
            public_url,
        },
        desk.clock.clone(),
        owner.clone(),
    );
    // A message takes at most the SMTP timeout (a file, far less); a claim lasts three.
    deliverer.send_budget = match settings.mail_transport.as_str() {
        "smtp" => Duration::from_secs(settings.smtp_timeout_seconds.max(1)),
        _ => Duration::from_secs(5),
    };
    deliverer.lease = deliverer.send_budget * 3;
    Ok(Runner {
        desk,
        owner,
        deliverer,
        settings: RunnerSettings {
            sweep_every: Duration::from_secs(settings.breach_sweep_seconds.max(1)),
            poll_every: Duration::from_millis(settings.delivery_poll_ms.max(10)),
        },
    })
}

/// The notices' templates: the operator's (`mail_templates`) or the built-in ones.
pub fn templates(settings: &Settings) -> Result<Templates, Failure> {
    match &settings.mail_templates {
        Some(directory) => Templates::load(directory),
        None => Templates::built_in(),
    }
    .map_err(|error| Failure::Input(format!("mail_templates: {error}")))
}

/// Our messages' ids: on the domain of the sender, `mail_from`.
pub fn message_ids(settings: &Settings) -> Result<MessageIds, Failure> {
    let from = sender(&settings.mail_from).map_err(|error| Failure::Input(error.to_string()))?;
    Ok(MessageIds::new(from.email.domain()))
}

fn transport(settings: &Settings) -> Result<Transport, Failure> {
    match settings.mail_transport.as_str() {
        "folder" => Transport::folder(&settings.mail_folder)
            .map_err(|error| Failure::Environment(error.to_string())),
        "smtp" => {
            let security = SmtpSecurity::parse(&settings.smtp_security).ok_or_else(|| {
                Failure::Input(format!(
                    "smtp_security: \"{}\" is not one of starttls, tls, none",
                    settings.smtp_security
                ))
            })?;
            Transport::smtp(&SmtpSettings {
                host: settings.smtp_host.clone(),
                port: settings.smtp_port,
                security,
                username: settings.smtp_username.clone(),
                password: settings.smtp_password.clone(),
                timeout: Duration::from_secs(settings.smtp_timeout_seconds.max(1)),
            })
            .map_err(|error| Failure::Input(error.to_string()))
        }
        other => Err(Failure::Input(format!(
            "mail_transport: \"{other}\" is not one of folder, smtp"
        ))),
    }
}
