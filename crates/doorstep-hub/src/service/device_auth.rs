//! Who a device is: its bearer token checked against the stored hash, the refusals tallied for
//! the audit log, and the authenticated [`Caller`] with the names it reads as.

use std::collections::HashMap;

use chrono::Utc;
use doorstep_protocol::Role;
use uuid::Uuid;

use super::{ServiceError, carer_principal, manager_principal, partner_principal, sha256, staff_principal};
use crate::storage::{AuditEntry, Device, HubStorage, StorageError};

/// A device the hub has authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    pub device: Device,
}

impl Caller {
    /// Who this device reads as: the names documents' access lists use.
    pub fn principals(&self) -> Vec<String> {
        let d = &self.device;
        match d.role {
            Role::Carer => vec![carer_principal(d.org_id, &d.staff_ref), staff_principal(d.org_id)],
            Role::Manager => vec![manager_principal(d.org_id), staff_principal(d.org_id)],
            Role::Partner => vec![partner_principal(d.org_id)],
            Role::Commissioner => Vec::new(),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "device {} ({} {} of {})",
            self.device.id,
            self.device.role.code(),
            self.device.staff_ref,
            self.device.org_id
        )
    }
}

/// Compares two hashes in time that does not depend on where they differ.
fn same_hash(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// Refused device tokens per source address and minute: the first refusal from a source in a
/// minute is written to the audit log; the rest are counted and written as one line with the
/// next one logged. Forged tokens by the hundred cost a counter, not hundreds of permanent rows.
#[derive(Default)]
pub struct RefusedTokens {
    /// (source, minute) → refusals not yet in the log.
    counts: std::sync::Mutex<HashMap<(Option<std::net::IpAddr>, i64), u64>>,
}

/// A refused attempt for the audit log: who, what and why.
pub struct Refusal {
    pub actor: String,
    pub action: &'static str,
    pub detail: String,
}

impl Refusal {
    /// One audit line, with what the tally adds to the actor (the source) and the detail (the count).
    pub async fn write<S: HubStorage>(
        self,
        storage: &S,
        now: i64,
        actor_more: &str,
        detail_more: &str,
    ) -> Result<(), StorageError> {
        storage
            .audit(AuditEntry {
                at: now,
                actor: format!("{}{actor_more}", self.actor),
                action: self.action.into(),
                doc_id: None,
                allowed: false,
                detail: format!("{}{detail_more}", self.detail),
            })
            .await
    }
}

/// Sources tallied at once, at most: beyond, the oldest minute's tallies are written out.
const REFUSAL_SOURCES: usize = 10_000;

impl RefusedTokens {
    /// Writes `refusal` to the audit log if it is its source's first this minute, carrying the
    /// count of the earlier ones that were only counted; otherwise only counts it.
    pub async fn audit<S: HubStorage>(
        &self,
        storage: &S,
        source: Option<std::net::IpAddr>,
        now: i64,
        refusal: Refusal,
    ) -> Result<(), StorageError> {
        let source = source.map(crate::limits::rate_key);
        let (log, earlier) = self.note(source, now.div_euclid(60_000));
        if !log {
            return Ok(());
        }
        let from = source.map(|s| format!(" from {s}")).unwrap_or_default();
        let more = if earlier > 0 {
            format!(" ({earlier} more{from} in the minute(s) before, counted not logged)")
        } else {
            String::new()
        };
        refusal.write(storage, now, &from, &more).await
    }

    /// Whether this refusal should be written to the log now, and how many earlier refusals from
    /// the same source went unlogged (their minute has passed).
    pub fn note(&self, source: Option<std::net::IpAddr>, minute: i64) -> (bool, u64) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        // Earlier minutes of this source are settled now: their count goes with this line.
        let earlier: u64 = counts.iter().filter(|((s, m), _)| *s == source && *m < minute).map(|(_, n)| *n).sum();
        counts.retain(|(s, m), _| !(*s == source && *m < minute));
        if counts.len() > REFUSAL_SOURCES {
            counts.retain(|(_, m), _| *m >= minute);
        }
        match counts.get_mut(&(source, minute)) {
            Some(n) => {
                *n += 1;
                (false, earlier)
            }
            None => {
                counts.insert((source, minute), 0);
                (true, earlier)
            }
        }
    }
}

/// Tokens are `ds1.<device id>.<secret>`; the hub keeps only SHA-256 of the secret. The secret
/// is 256 random bits, so a fast hash is enough (argon2's slowness protects guessable
/// passwords; it would only slow every sync here).
///
/// Called with the request's source address (counted by its rate-limit key: an IPv6
/// /64) and the hub's tally of refusals, so a flood of bad tokens writes one log line a minute
/// per source.
pub async fn authenticate_from<S: HubStorage>(
    storage: &S,
    token: &str,
    source: Option<std::net::IpAddr>,
    refused: Option<&RefusedTokens>,
) -> Result<Caller, ServiceError> {
    let mut parts = token.splitn(3, '.');
    let (Some("ds1"), Some(id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ServiceError::Unauthorised("the device token is not in the expected form"));
    };
    let id = Uuid::parse_str(id).map_err(|_| ServiceError::Unauthorised("the device token is not valid"))?;
    let device = storage.device(id).await?;
    let refusal = match &device {
        None => "no such device",
        Some(d) if !same_hash(&sha256(secret.as_bytes()), &d.token_hash) => "wrong device secret",
        Some(_) => "",
    };
    // A token naming a device with the wrong secret is someone guessing or replaying: logged,
    // like a wrong password at the sign-in page.
    let Some(device) = device.filter(|_| refusal.is_empty()) else {
        tracing::warn!(device = %id, refusal, "device token refused");
        let now = Utc::now().timestamp_millis();
        let refusal = Refusal {
            actor: format!("device {id}"),
            action: "authenticate",
            detail: format!("device token refused: {refusal}"),
        };
        match refused {
            Some(tally) => tally.audit(storage, source, now, refusal).await?,
            None => refusal.write(storage, now, "", "").await?,
        }
        return Err(ServiceError::Unauthorised("the device token is not valid"));
    };
    if device.revoked {
        storage
            .audit(AuditEntry {
                at: Utc::now().timestamp_millis(),
                actor: format!("device {}", device.id),
                action: "sync".into(),
                doc_id: None,
                allowed: false,
                detail: "revoked device refused".into(),
            })
            .await?;
        return Err(ServiceError::Revoked);
    }
    Ok(Caller { device })
}

/// A new device secret and its token.
pub fn new_token(device: Uuid) -> (String, Vec<u8>) {
    let secret: [u8; 32] = rand::random();
    let secret = base64_url(&secret);
    let hash = sha256(secret.as_bytes());
    (format!("ds1.{device}.{secret}"), hash)
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod refused_token_tests {
    use super::RefusedTokens;

    #[test]
    fn one_line_a_minute_per_source_carries_the_count_of_the_rest() {
        let tally = RefusedTokens::default();
        let (a, b) = (Some("192.0.2.1".parse().expect("ip")), Some("192.0.2.2".parse().expect("ip")));
        assert_eq!(tally.note(a, 10), (true, 0), "the first from a source is logged");
        for _ in 0..299 {
            assert_eq!(tally.note(a, 10), (false, 0), "the rest that minute are counted");
        }
        assert_eq!(tally.note(b, 10), (true, 0), "another source is its own line");
        assert_eq!(tally.note(a, 11), (true, 299), "the next minute's line carries the count");
        assert_eq!(tally.note(a, 11), (false, 0));
    }
}
