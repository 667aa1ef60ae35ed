//! Telling a partner's team that something was shared with them, in time and without personal
//! data: an e-mail to the team mailbox in the partner directory saying which provider shared
//! what kind of item, how urgent it is, when an answer is due, and a link to sign in and read it.
//! It never holds the person's name, date of birth, NHS number or any text a carer wrote: a
//! mailbox is read by many people and mail crosses servers we do not run.
//!
//! Messages are queued in the hub's database (`mail_outbox`) when the item is stored, and one
//! task per hub process ([`run_mailer`]) hands them to the operator's SMTP server, retrying with
//! a growing wait until it takes them, so a mail server that is down loses nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use doorstep_model::{SharedItem, SharedKind, Urgency, routing};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::service::Hub;
use crate::storage::{HubStorage, OutgoingMail, StorageResult};

/// How often the mailer looks for messages due again when nothing wakes it.
const POLL: Duration = Duration::from_secs(30);
/// Messages sent per round.
const BATCH: u32 = 20;
/// How long an SMTP conversation may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail_from {0:?} is not an e-mail address: write it like Doorstep <doorstep@hub.example.nhs.uk>")]
    BadFrom(String),
    #[error(
        "smtp_url {url:?} cannot be used: {why}. Write it like smtp://127.0.0.1:25, smtp://relay:587?tls=required or smtps://user:password@relay:465"
    )]
    BadSmtpUrl { url: String, why: String },
    #[error(
        "public_url {0:?} must be the hub's address as partners reach it, starting https:// (http:// only for development)"
    )]
    BadPublicUrl(String),
}

/// Where and how the hub sends e-mail (the `smtp_url`, `mail_from` and `public_url` settings).
#[derive(Clone)]
pub struct Mail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The hub's address as partners reach it, without a trailing slash.
    public_url: String,
    /// Wakes the mailer when a message is queued.
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SMTP URL may carry a password: never printed.
        f.debug_struct("Mail").field("from", &self.from.to_string()).field("public_url", &self.public_url).finish()
    }
}

impl Mail {
    pub fn new(smtp_url: &str, from: &str, public_url: &str) -> Result<Mail, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailError::BadSmtpUrl { url: redacted(smtp_url), why: e.to_string() })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from: Mailbox = from.parse().map_err(|_| MailError::BadFrom(from.to_string()))?;
        let public = public_url.trim().trim_end_matches('/');
        if !(public.starts_with("https://") || public.starts_with("http://")) || public.len() < "http://x".len() {
            return Err(MailError::BadPublicUrl(public_url.to_string()));
        }
        Ok(Mail { transport, from, public_url: public.to_string(), wake: Arc::new(Notify::new()) })
    }

    /// The message telling `to` (a partner team's mailbox) that `item` was shared with them.
    pub fn new_item(&self, item: &SharedItem, to: &str, now: DateTime<Utc>) -> OutgoingMail {
        let (what, a) = match item.kind {
            SharedKind::Idea => ("request", "a"),
            SharedKind::Observation => ("observation", "an"),
        };
        let how = match item.urgency {
            Urgency::Urgent => "an urgent".to_string(),
            Urgency::Soon => a.to_string(),
            Urgency::Routine => "a routine".to_string(),
        };
        let due = routing::due_words(item.respond_by(), now);
        let subject = format!("Doorstep: {how} {what} from {} (answer {due})", item.provider.name);
        let body = format!(
            "{provider} has shared {how} {what} with {partner} on Doorstep.\n\
             An answer is due {due}.\n\n\
             Open it (you will be asked to sign in):\n{url}/items/{id}\n\n\
             For privacy, this e-mail does not say who it is about or what it says.\n\
             If it cannot wait, the item gives {provider}'s phone number.\n",
            provider = item.provider.name,
            partner = item.partner.name,
            url = self.public_url,
            id = item.id.0,
        );
        let id = Uuid::new_v5(&NEW_ITEM_MAILS, item.id.0.as_bytes());
        let at = now.timestamp_millis();
        OutgoingMail {
            id,
            to: to.to_string(),
            subject,
            body,
            queued_at: at,
            attempts: 0,
            next_attempt_at: at,
            sent_at: None,
            last_error: String::new(),
        }
    }

    /// Asks the mailer to look at the queue now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sends one message; the error is the mail server's (or our own refusal of the address).
    async fn send(&self, mail: &OutgoingMail) -> Result<(), String> {
        let to: Mailbox = mail.to.parse().map_err(|_| format!("{:?} is not an e-mail address", mail.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| e.to_string())?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Mail ids for "an item arrived" follow from the item's, so queuing twice sends once.
const NEW_ITEM_MAILS: Uuid = Uuid::from_u128(0x6d61696c_6e65_5000_8000_646f6f727374);

/// An SMTP URL with any password replaced, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// How long to wait before trying a message again after `attempts` failures.
fn backoff(attempts: u32) -> chrono::Duration {
    chrono::Duration::minutes(match attempts {
        0 | 1 => 1,
        2 => 5,
        3 => 15,
        _ => 60,
    })
}

/// Sends every message due by the hub's clock; returns how many went.
pub async fn send_due<S: HubStorage>(hub: &Hub<S>, mail: &Mail) -> StorageResult<usize> {
    let mut sent = 0;
    for message in hub.storage.mail_due(hub.clock.now().timestamp_millis(), BATCH).await? {
        let outcome = mail.send(&message).await;
        let at = hub.clock.now();
        let retry_at = (at + backoff(message.attempts + 1)).timestamp_millis();
        match outcome {
            Ok(()) => {
                sent += 1;
                tracing::info!(mail = %message.id, "e-mail sent");
                hub.storage.mail_attempted(message.id, at.timestamp_millis(), None, retry_at).await?;
            }
            Err(e) => {
                tracing::warn!(mail = %message.id, error = %e, attempts = message.attempts + 1, "e-mail not sent; will try again");
                hub.storage.mail_attempted(message.id, at.timestamp_millis(), Some(e), retry_at).await?;
            }
        }
    }
    Ok(sent)
}

/// The hub's mailer: sends what is due, then waits to be woken or for [`POLL`].
pub async fn run_mailer<S: HubStorage>(hub: Arc<Hub<S>>, mail: Mail) {
    loop {
        if let Err(e) = send_due(&hub, &mail).await {
            tracing::error!(error = %e, "the mailer could not read its queue");
        }
        tokio::select! {
            () = mail.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_and_passwords_never_shown() {
        assert!(Mail::new("smtp://127.0.0.1:2525", "Doorstep <doorstep@hub.test>", "https://hub.test/").is_ok());
        let e = Mail::new("smtp://127.0.0.1:2525", "not an address", "https://hub.test").unwrap_err();
        assert!(matches!(e, MailError::BadFrom(_)));
        let e = Mail::new("smtp://127.0.0.1:2525", "d@hub.test", "hub.test").unwrap_err();
        assert!(matches!(e, MailError::BadPublicUrl(_)));
        let e = Mail::new("gopher://me:secret@relay", "d@hub.test", "https://hub.test").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        let ok = Mail::new("smtps://me:secret@relay:465", "d@hub.test", "https://hub.test").unwrap();
        assert!(!format!("{ok:?}").contains("secret"));
    }

    #[test]
    fn retries_wait_longer_each_time() {
        let waits: Vec<i64> = (1..=5).map(|a| backoff(a).num_minutes()).collect();
        assert_eq!(waits, [1, 5, 15, 60, 60]);
    }
}
