//! Delivering the outbox: claim what is due, write each notice in its recipient's language
//! and time zone, hand it to the transport, record what became of it.
//!
//! A notice is recorded as sent only after the transport accepted it. A crash in between
//! leaves it claimed; its lease runs out and it is sent again, as the same message (the same
//! Message-ID), which the recipient's mail system keeps once.

use std::sync::Arc;
use std::time::Duration;

use crate::monthly::monthly_mail;
use caredesk_desk::Clock;
use caredesk_desk::CurrentPolicy;
use caredesk_desk::monthly_reports::MonthlyReport;
use caredesk_domain::catalog::ReleaseNotice;
use caredesk_domain::notify::{MonthlyReportNotice, NoticeKind, retry_delay};
use caredesk_domain::policy::Policy;
use caredesk_domain::resources::community::AnswerNotice;
use caredesk_domain::sign_in::SignInBurst;
use caredesk_domain::ticket::EventData;
use caredesk_mail::{
    Addressee, Attached, CommunityContext, MailContext, Mailbox, MessageIds, Outgoing,
    ReleaseContext, SignInContext, Templates, Terms, Transport, compose,
};
use caredesk_store::{Delivery, NoticeFacts, NoticeRecipient, OutboxEntry, Store, StoreError};
use jiff::{SignedDuration, Timestamp};

/// What the desk's messages say of the desk.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// The sender of every notice.
    pub from: Mailbox,
    /// Message-IDs are on the sender's domain.
    pub ids: MessageIds,
    /// Where the desk's pages are, for links in the notices (no trailing slash).
    pub public_url: String,
}

/// What one round of delivery did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub skipped: usize,
}

pub struct Deliverer {
    store: Store,
    policy: CurrentPolicy,
    templates: Arc<Templates>,
    transport: Transport,
    mail: MailSettings,
    clock: Clock,
    owner: String,
    http: reqwest::Client,
    /// How many notices a round claims.
    pub batch: i64,
    /// How long a claim holds. A notice whose holder died waits this long to be taken
    /// again, so it is short; a round stops when less than `send_budget` is left.
    pub lease: Duration,
    /// The longest one delivery may take, everything included; one that takes longer is
    /// abandoned and tried again later.
    pub send_budget: Duration,
}

impl Deliverer {
    pub fn new(
        store: Store,
        policy: CurrentPolicy,
        templates: Arc<Templates>,
        transport: Transport,
        mail: MailSettings,
        clock: Clock,
        owner: String,
    ) -> Deliverer {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("caredesk/", env!("CARGO_PKG_VERSION")))
            // A redirect would turn the POST into a GET without its body.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Deliverer {
            http,
            store,
            policy,
            templates,
            transport,
            mail,
            clock,
            owner,
            batch: 20,
            lease: Duration::from_secs(60),
            send_budget: Duration::from_secs(20),
        }
    }

    /// Webhook deliveries: `X-Caredesk-Signature` is `sha256=` and the hex HMAC-SHA256, keyed
    /// with the webhook's secret, of `TIMESTAMP.BODY`, TIMESTAMP being `X-Caredesk-Timestamp`
    /// (Unix seconds), so a receiver can check both the sender and the freshness.
    async fn deliver_webhook(&self, entry: &OutboxEntry) -> Delivery {
        let Some(webhook_id) = entry.webhook_id else {
            return Delivery::Failed {
                error: "a webhook delivery without its webhook".into(),
            };
        };
        let webhook = match self.store.webhook(webhook_id).await {
            Ok(webhook) => webhook,
            Err(error) => return self.store_failure(entry, error),
        };
        if !webhook.active {
            return Delivery::Skipped {
                reason: "the webhook was removed".into(),
            };
        }
        let Some(ticket_id) = entry.ticket_id else {
            return Delivery::Failed {
                error: "a webhook delivery of no ticket".into(),
            };
        };
        let event = match self.store.ticket_event(ticket_id, entry.event_seq).await {
            Ok(Some(event)) => event,
            Ok(None) => {
                return Delivery::Failed {
                    error: format!(
                        "event {} of ticket {ticket_id} does not exist",
                        entry.event_seq
                    ),
                };
            }
            Err(error) => return self.retry_later_or_fail(entry, error.to_string()),
        };
        let body = serde_json::json!({
            "delivery_id": entry.id,
            "ticket_id": ticket_id,
            "event": event,
        })
        .to_string();
        let timestamp = self.clock.now().as_second();
        let signature = sign(&webhook.secret, timestamp, &body);
        let sent = self
            .http
            .post(&webhook.url)
            .header("Content-Type", "application/json")
            .header("X-Caredesk-Delivery", entry.id.to_string())
            .header("X-Caredesk-Timestamp", timestamp.to_string())
            .header("X-Caredesk-Signature", format!("sha256={signature}"))
            .timeout(self.send_budget)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => Delivery::Sent,
            Ok(response) => {
                let status = response.status();
                let error = format!("{} answered {status}", webhook.url);
                // The receiver refuses this for good; 408 and 429 say "later".
                let permanent = status.is_client_error()
                    && status != reqwest::StatusCode::REQUEST_TIMEOUT
                    && status != reqwest::StatusCode::TOO_MANY_REQUESTS;
                if permanent {
                    Delivery::Failed { error }
                } else {
                    self.retry_later_or_fail(entry, error)
                }
            }
            Err(error) => self.retry_later_or_fail(entry, format!("{}: {error}", webhook.url)),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Claims the notices that are due and delivers them, one after the other.
    pub async fn deliver_due(&self) -> Result<RoundReport, StoreError> {
        let now = self.clock.now();
        let lease_until = now
            .checked_add(SignedDuration::try_from(self.lease).unwrap_or(SignedDuration::MAX))
            .unwrap_or(Timestamp::MAX);
        let claimed = self
            .store
            .claim_notices(&self.owner, now, lease_until, self.batch)
            .await?;
        let mut report = RoundReport {
            claimed: claimed.len(),
            ..RoundReport::default()
        };
        let budget = SignedDuration::try_from(self.send_budget).unwrap_or(SignedDuration::MAX);
        let mut claimed = claimed.into_iter();
        while let Some(entry) = claimed.next() {
            // A delivery that could outlast the claim might race another instance that takes
            // the notice when it runs out: the rest of the batch goes back, untried.
            let latest_finish = self
                .clock
                .now()
                .checked_add(budget)
                .unwrap_or(Timestamp::MAX);
            if latest_finish >= lease_until {
                let rest: Vec<i64> = std::iter::once(entry.id)
                    .chain(claimed.map(|entry| entry.id))
                    .collect();
                self.store.release_notices(&rest, &self.owner).await?;
                break;
            }
            // Everything one delivery does, within its budget.
            let outcome = match tokio::time::timeout(self.send_budget, self.deliver(&entry)).await {
                Ok(outcome) => outcome,
                Err(_) => self.retry_later_or_fail(
                    &entry,
                    format!(
                        "the delivery took more than {} s",
                        self.send_budget.as_secs()
                    ),
                ),
            };
            match &outcome {
                Delivery::Sent => report.sent += 1,
                Delivery::Retry { error, .. } => {
                    report.retried += 1;
                    tracing::warn!(notice = entry.id, attempts = entry.attempts, %error, "a notice will be tried again");
                }
                Delivery::Failed { error } => {
                    report.failed += 1;
                    tracing::error!(notice = entry.id, %error, "a notice could not be delivered; it is listed for administrators");
                }
                Delivery::Skipped { reason } => {
                    report.skipped += 1;
                    tracing::info!(notice = entry.id, %reason, "a notice had nobody to go to");
                }
            }
            let recorded = self
                .store
                .record_delivery(entry.id, &self.owner, &outcome, self.clock.now())
                .await?;
            if !recorded {
                tracing::warn!(
                    notice = entry.id,
                    "a notice's lease ran out while it was being delivered"
                );
            }
        }
        Ok(report)
    }

    async fn deliver(&self, entry: &OutboxEntry) -> Delivery {
        match entry.kind {
            NoticeKind::TicketEvent => self.deliver_webhook(entry).await,
            NoticeKind::SignInBurst => self.deliver_alert(entry).await,
            NoticeKind::CommunityAnswer => self.deliver_community_answer(entry).await,
            NoticeKind::ReleaseAnnounced => self.deliver_release_announcement(entry).await,
            NoticeKind::MonthlyReport => self.deliver_monthly_report(entry).await,
            _ => self.deliver_ticket_notice(entry).await,
        }
    }

    async fn deliver_ticket_notice(&self, entry: &OutboxEntry) -> Delivery {
        let facts = match self.store.notice_facts(entry).await {
            Ok(facts) => facts,
            Err(error) => return self.store_failure(entry, error),
        };
        let Some(recipient) = &facts.recipient else {
            return Delivery::Skipped {
                reason: nobody_to_tell(&entry.recipient).to_string(),
            };
        };
        let terms = self.templates.terms(&recipient.language);
        let context = self.context(entry, &facts, recipient, terms);
        self.send_mail(entry, recipient, &context, &[]).await
    }

    /// An alert of no ticket to a member of staff, from what it recorded when it was raised,
    /// in their language and their region's time zone (UTC for staff of no region).
    async fn deliver_alert(&self, entry: &OutboxEntry) -> Delivery {
        let burst: SignInBurst = match details(entry, "an alert") {
            Ok(burst) => burst,
            Err(failed) => return failed,
        };
        let (recipient, region) = match self.store.staff_to_tell(entry.staff_id).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                return Delivery::Skipped {
                    reason: nobody_to_tell(&entry.recipient).to_string(),
                };
            }
            Err(error) => return self.store_failure(entry, error),
        };
        let time_zone = self.time_zone_of(region.as_deref());
        let context = MailContext {
            recipient_name: recipient.name.clone(),
            sign_in: Some(SignInContext {
                address: burst.address,
                address_failures: burst.address_failures,
                account_failures: burst.account_failures,
                account: burst.account,
                longest_wait_minutes: burst.longest_wait_minutes,
                at: local_time(burst.at, &time_zone),
                console_url: format!("{}/console/staff", self.mail.public_url),
            }),
            ..MailContext::default()
        };
        self.send_mail(entry, &recipient, &context, &[]).await
    }

    /// A new answer, to the question's asker in their language, from what it recorded when
    /// the answer was written.
    async fn deliver_community_answer(&self, entry: &OutboxEntry) -> Delivery {
        let answered: AnswerNotice = match details(entry, "a notice of an answer") {
            Ok(answered) => answered,
            Err(failed) => return failed,
        };
        let recipient = match self.store.contact_to_tell(entry.contact_id).await {
            Ok(Some(recipient)) => recipient,
            Ok(None) => {
                return Delivery::Skipped {
                    reason: "the asker's contact no longer exists".to_string(),
                };
            }
            Err(error) => return self.store_failure(entry, error),
        };
        let context = MailContext {
            recipient_name: recipient.name.clone(),
            community: Some(CommunityContext {
                question_url: format!(
                    "{}/community/questions/{}",
                    self.mail.public_url, answered.question_id
                ),
                question_title: answered.question_title,
                answered_by: answered.answered_by,
                by_staff: answered.by_staff,
            }),
            ..MailContext::default()
        };
        self.send_mail(entry, &recipient, &context, &[]).await
    }

    /// A new release, to a customer's contact in their language, with the notes in it
    /// (else English, else any) as the catalog holds them when the notice goes out.
    async fn deliver_release_announcement(&self, entry: &OutboxEntry) -> Delivery {
        let announced: ReleaseNotice = match details(entry, "a release's notice") {
            Ok(announced) => announced,
            Err(failed) => return failed,
        };
        let recipient = match self.store.contact_to_tell(entry.contact_id).await {
            Ok(Some(recipient)) => recipient,
            Ok(None) => {
                return Delivery::Skipped {
                    reason: "the contact no longer exists".to_string(),
                };
            }
            Err(error) => return self.store_failure(entry, error),
        };
        let release = match self.store.release(announced.release_id).await {
            Ok(release) if release.is_retired() => {
                return Delivery::Skipped {
                    reason: "the release was retired before its notice went out".to_string(),
                };
            }
            Ok(release) => release,
            Err(error) => return self.store_failure(entry, error),
        };
        let notes = match self.store.release_notes(Some(&release.product_line)).await {
            Ok(notes) => notes,
            Err(error) => return self.store_failure(entry, error),
        };
        let of_release: Vec<_> = notes
            .iter()
            .filter(|note| note.release_id == release.id)
            .collect();
        let notes = [recipient.language.as_str(), "en"]
            .iter()
            .find_map(|language| {
                of_release
                    .iter()
                    .find(|note| note.language == *language)
                    .map(|note| note.notes.clone())
            })
            .or_else(|| of_release.first().map(|note| note.notes.clone()))
            .unwrap_or_default();
        let policy = self.policy.get();
        let line = policy.product_lines.get(&release.product_line);
        // A line without an online update manager has its releases delivered on request.
        let online = line.is_none_or(|line| line.online_update_manager);
        let context = MailContext {
            recipient_name: recipient.name.clone(),
            release: Some(ReleaseContext {
                product: line
                    .map_or_else(|| release.product_line.clone(), |line| line.name.clone()),
                major: release.kind == "major",
                released_on: release.released_on.to_string(),
                notes,
                download_url: release.download_url.clone().filter(|_| online),
                sha256: release.sha256.clone().filter(|_| online),
                serials: announced.serials.join(", "),
                products_url: format!("{}/portal/products", self.mail.public_url),
                version: release.version,
            }),
            ..MailContext::default()
        };
        self.send_mail(entry, &recipient, &context, &[]).await
    }

    /// A customer's report of a month, as it was recorded, to a designated contact (with a
    /// link to the portal's report) or to the customer success manager (the console's), in
    /// their language, its chart attached.
    async fn deliver_monthly_report(&self, entry: &OutboxEntry) -> Delivery {
        let named: MonthlyReportNotice = match details(entry, "a monthly report's notice") {
            Ok(named) => named,
            Err(failed) => return failed,
        };
        let report = match self
            .store
            .monthly_report(named.customer_id, &named.month)
            .await
        {
            Ok(Some(report)) => report,
            Ok(None) => {
                return Delivery::Failed {
                    error: format!(
                        "the report of {} of customer {} is not recorded",
                        named.month, named.customer_id
                    ),
                };
            }
            Err(error) => return self.store_failure(entry, error),
        };
        let report: MonthlyReport = match serde_json::from_str(&report) {
            Ok(report) => report,
            Err(error) => {
                return Delivery::Failed {
                    error: format!("a monthly report that cannot be read: {error}"),
                };
            }
        };
        let for_staff = entry.contact_id.is_none();
        let found = if for_staff {
            self.store
                .staff_to_tell(entry.staff_id)
                .await
                .map(|found| found.map(|(recipient, _)| recipient))
        } else {
            self.store.contact_to_tell(entry.contact_id).await
        };
        let recipient = match found {
            Ok(Some(recipient)) => recipient,
            Ok(None) => {
                let reason = if for_staff {
                    "the customer success manager is no longer active"
                } else {
                    "the designated contact no longer exists"
                };
                return Delivery::Skipped {
                    reason: reason.to_string(),
                };
            }
            Err(error) => return self.store_failure(entry, error),
        };
        let words = &self.templates.terms(&recipient.language).report;
        let (monthly, chart) = monthly_mail(
            &report,
            &self.policy.get(),
            words,
            (&self.mail.public_url, for_staff),
        );
        let context = MailContext {
            recipient_name: recipient.name.clone(),
            monthly: Some(monthly),
            ..MailContext::default()
        };
        self.send_mail(entry, &recipient, &context, chart.as_slice())
            .await
    }

    /// Renders `context` as notice `entry` in `recipient`'s language and sends it.
    async fn send_mail(
        &self,
        entry: &OutboxEntry,
        recipient: &NoticeRecipient,
        context: &MailContext,
        attachments: &[Attached],
    ) -> Delivery {
        let mail = match self
            .templates
            .render(entry.kind, &recipient.language, context)
        {
            Ok(mail) => mail,
            // The operator's template may be fixed (and the desk restarted) before the last try.
            Err(error) => {
                return self.retry_later_or_fail(entry, format!("the template failed: {error}"));
            }
        };
        let to = Addressee {
            name: recipient.name.clone(),
            email: recipient.email.clone(),
        };
        let message = match compose(
            &self.mail.ids,
            &Outgoing {
                notice_id: entry.id,
                ticket_id: entry.ticket_id,
                from: &self.mail.from,
                to: &to,
                mail: &mail,
                attachments,
            },
        ) {
            Ok(message) => message,
            Err(error) => {
                return Delivery::Failed {
                    error: error.to_string(),
                };
            }
        };
        match self
            .transport
            .send(&self.mail.ids.of_notice(entry.id), &message)
            .await
        {
            Ok(()) => Delivery::Sent,
            Err(error) if error.permanent => Delivery::Failed {
                error: error.reason,
            },
            Err(error) => self.retry_later_or_fail(entry, error.reason),
        }
    }

    /// What the database's answer means for the notice: something missing or unreadable
    /// will not get better; the database out of reach may.
    fn store_failure(&self, entry: &OutboxEntry, error: StoreError) -> Delivery {
        match error {
            StoreError::NotFound | StoreError::Corrupt(_) => Delivery::Failed {
                error: error.to_string(),
            },
            other => self.retry_later_or_fail(entry, other.to_string()),
        }
    }

    /// Tried again later, or failed for good after the last attempt.
    fn retry_later_or_fail(&self, entry: &OutboxEntry, error: String) -> Delivery {
        let retry_at =
            retry_delay(entry.attempts).and_then(|delay| self.clock.now().checked_add(delay).ok());
        match retry_at {
            Some(retry_at) => Delivery::Retry { error, retry_at },
            None => Delivery::Failed {
                error: format!("{error} (after {} attempts)", entry.attempts),
            },
        }
    }

    /// The time zone of a region of the policy; UTC for none.
    fn time_zone_of(&self, region: Option<&str>) -> jiff::tz::TimeZone {
        let policy = self.policy.get();
        region
            .and_then(|region| policy.regions.get(region))
            .map(|region| region.time_zone.clone())
            .unwrap_or(jiff::tz::TimeZone::UTC)
    }

    fn context(
        &self,
        entry: &OutboxEntry,
        facts: &NoticeFacts,
        recipient: &NoticeRecipient,
        terms: &Terms,
    ) -> MailContext {
        let recipient_name = recipient.name.as_str();
        let ticket = &facts.ticket;
        let time_zone = self.time_zone_of(Some(&ticket.region));
        let wording = wording(
            &facts.event.data,
            terms,
            &self.policy.get(),
            &recipient.language,
        );
        let due = match entry.kind {
            NoticeKind::Acknowledgement => ticket.first_response_due_at,
            NoticeKind::UpdateDueSoon => ticket.next_update_due_at,
            NoticeKind::FirstResponseAtRisk => ticket.first_response_due_at,
            NoticeKind::ResolutionAtRisk => ticket.resolution_due_at,
            NoticeKind::Breach => wording.due,
            _ => None,
        };
        let pages = if entry.recipient == "contact" {
            "portal"
        } else {
            "console"
        };
        MailContext {
            recipient_name: recipient_name.to_string(),
            ticket_number: ticket.id,
            ticket_subject: ticket.subject.clone(),
            severity: ticket.severity.clone(),
            severity_name: self
                .policy
                .get()
                .severities
                .get(&ticket.severity)
                .map(|severity| severity.name.clone())
                .unwrap_or_else(|| ticket.severity.clone()),
            customer_name: facts.customer_name.clone(),
            ticket_url: format!("{}/{pages}/tickets/{}", self.mail.public_url, ticket.id),
            due: due.map(|due| local_time(due, &time_zone)),
            body: wording.body,
            detail: wording.detail,
            reminder: wording.reminder,
            sign_in: None,
            community: None,
            release: None,
            monthly: None,
        }
    }
}

/// reqwest is built without a crypto provider of its own: this installs rustls's ring (as
/// lettre's) for the process, before any HTTP client is made. Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The hex HMAC-SHA256 of `TIMESTAMP.BODY` keyed with `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// What a notice of no ticket says, read from its `details`; a notice that cannot be read
/// fails for good (`what` names it in the error).
fn details<T: serde::de::DeserializeOwned>(entry: &OutboxEntry, what: &str) -> Result<T, Delivery> {
    match entry
        .details
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
    {
        Ok(Some(details)) => Ok(details),
        Ok(None) => Err(Delivery::Failed {
            error: format!("{what} without what it says"),
        }),
        Err(error) => Err(Delivery::Failed {
            error: format!("{what} that cannot be read: {error}"),
        }),
    }
}

fn nobody_to_tell(recipient: &str) -> &'static str {
    match recipient {
        "contact" => "the ticket has no contact, and its customer no designated contact",
        "csm" => "the customer has no customer success manager",
        _ => "the member of staff is no longer active",
    }
}

/// What an event gives a notice to say.
#[derive(Debug, Default, PartialEq, Eq)]
struct Wording {
    body: Option<String>,
    detail: Option<String>,
    reminder: Option<u8>,
    due: Option<Timestamp>,
}

fn wording(event: &EventData, terms: &Terms, policy: &Policy, language: &str) -> Wording {
    let body = |text: &String| Some(text.clone()).filter(|text| !text.trim().is_empty());
    match event {
        // Why, in the policy's words for the customer, then the advisor's note.
        EventData::OutsideSupport { exclusion, note } => Wording {
            body: Some(match policy.exclusions.get(exclusion) {
                Some(known) => format!("{}\n\n{note}", known.explanation_in(language)),
                None => note.clone(),
            }),
            ..Wording::default()
        },
        EventData::OutsideSupportReversed { reason: text } => Wording {
            body: body(text),
            ..Wording::default()
        },
        EventData::ReleasePublished {
            product_line,
            version,
            fixed: false,
        } => {
            let product = policy
                .product_lines
                .get(product_line)
                .map_or(product_line.as_str(), |line| line.name.as_str());
            Wording {
                body: Some(terms.release_without_fix(&format!("{product} {version}"))),
                ..Wording::default()
            }
        }
        EventData::FirstResponse { body: text, .. }
        | EventData::PublicUpdate { body: text, .. } => Wording {
            body: body(text),
            ..Wording::default()
        },
        EventData::WaitingOnCustomer {
            request,
            body: text,
        } => Wording {
            body: body(text),
            detail: Some(terms.request(*request).to_string()),
            ..Wording::default()
        },
        EventData::SolutionProposed {
            resolution,
            body: text,
        } => Wording {
            body: body(text),
            detail: Some(terms.resolution(resolution)),
            ..Wording::default()
        },
        EventData::ConsentReminder { number } => Wording {
            reminder: Some(*number),
            ..Wording::default()
        },
        EventData::ClockBreached {
            clock,
            due,
            policy_change,
        } => Wording {
            body: policy_change.map(|version| terms.breached_by_policy(version)),
            detail: Some(terms.clock(*clock).to_string()),
            due: Some(*due),
            ..Wording::default()
        },
        EventData::Closed { reason: text }
        | EventData::EscalationRequested { reason: text }
        | EventData::WorkLapsed { reason: text, .. } => Wording {
            body: body(text),
            ..Wording::default()
        },
        EventData::Assigned {
            reason: Some(text), ..
        } => Wording {
            body: body(text),
            ..Wording::default()
        },
        _ => Wording::default(),
    }
}

/// An instant as a person in `time_zone` reads it, in any language: "2026-11-24 09:30 CET
/// (Europe/Amsterdam)".
fn local_time(at: Timestamp, time_zone: &jiff::tz::TimeZone) -> String {
    let zoned = at.to_zoned_datetime(time_zone.clone());
    let local = zoned.strftime("%Y-%m-%d %H:%M %Z").to_string();
    match time_zone.iana_name() {
        Some(name) if !local.ends_with(name) => format!("{local} ({name})"),
        _ => local,
    }
}

#[cfg(test)]
mod tests {
    use caredesk_domain::ticket::{ClockKind, CustomerRequest, Resolution};

    use super::*;

    #[test]
    fn events_say_their_part_in_the_recipients_words() {
        let templates = Templates::built_in().unwrap();
        let policy = Policy::built_in().unwrap();
        let french = templates.terms("fr");
        let breach = wording(
            &EventData::ClockBreached {
                clock: ClockKind::NextUpdate,
                due: "2026-11-24T08:30:00Z".parse().unwrap(),
                policy_change: None,
            },
            french,
            &policy,
            "fr",
        );
        assert_eq!(
            breach.detail.as_deref(),
            Some("point sur l'état d'avancement")
        );
        assert_eq!(breach.body, None);
        let by_policy = wording(
            &EventData::ClockBreached {
                clock: ClockKind::NextUpdate,
                due: "2026-11-24T08:30:00Z".parse().unwrap(),
                policy_change: Some(4),
            },
            french,
            &policy,
            "fr",
        );
        assert!(
            by_policy
                .body
                .as_deref()
                .is_some_and(|body| body.starts_with("La version 4 de la politique")),
            "{:?}",
            by_policy.body
        );
        assert_eq!(breach.due, Some("2026-11-24T08:30:00Z".parse().unwrap()));
        let asked = wording(
            &EventData::WaitingOnCustomer {
                request: CustomerRequest::RemoteAccess,
                body: "Une session mardi ?".into(),
            },
            french,
            &policy,
            "fr",
        );
        assert_eq!(asked.body.as_deref(), Some("Une session mardi ?"));
        assert_eq!(
            asked.detail.as_deref(),
            Some("un accès à distance à votre système")
        );
        let planned = wording(
            &EventData::SolutionProposed {
                resolution: Resolution::PlannedForRelease {
                    release: "2027.1".into(),
                },
                body: " ".into(),
            },
            templates.terms("en"),
            &policy,
            "en",
        );
        assert_eq!(planned.body, None);
        assert_eq!(
            planned.detail.as_deref(),
            Some("a fix planned for release 2027.1")
        );
        let slipped = wording(
            &EventData::ReleasePublished {
                product_line: "planetpress-suite".into(),
                version: "8.1".into(),
                fixed: false,
            },
            french,
            &policy,
            "fr",
        );
        assert_eq!(
            slipped.body.as_deref(),
            Some(
                "PlanetPress Suite 8.1 est publiée sans la correction prévue pour votre ticket ; \
                 votre conseiller vous dira la suite."
            )
        );
    }

    #[test]
    fn webhook_signatures_are_hmac_sha256_of_the_timestamp_and_body() {
        // As Python's hmac.new(b"Jefe", b"1795510800.{}", hashlib.sha256) computes it.
        let key = "Jefe";
        let signature = sign(key, 1_795_510_800, "{}");
        assert_eq!(
            signature,
            "e268c96e2b6123162bcb1b42b00da9ef3f547a25d4e066f5a5b65cbbd25b6b94"
        );
        assert_ne!(
            signature,
            sign(key, 1_795_510_801, "{}"),
            "the time is signed"
        );
        assert_ne!(
            signature,
            sign("other", 1_795_510_800, "{}"),
            "so is the key"
        );
    }

    #[test]
    fn times_are_the_recipients_local_time() {
        let amsterdam = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap();
        let at: Timestamp = "2026-11-24T08:30:00Z".parse().unwrap();
        assert_eq!(
            local_time(at, &amsterdam),
            "2026-11-24 09:30 CET (Europe/Amsterdam)"
        );
        let summer: Timestamp = "2026-07-01T08:30:00Z".parse().unwrap();
        assert_eq!(
            local_time(summer, &amsterdam),
            "2026-07-01 10:30 CEST (Europe/Amsterdam)"
        );
        assert_eq!(
            local_time(summer, &jiff::tz::TimeZone::UTC),
            "2026-07-01 08:30 UTC"
        );
    }
}
