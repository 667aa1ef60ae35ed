//! The hub's rules, over any [`HubStorage`]: who a device is, what it may write and read, and
//! the one-round-trip sync.
//!
//! One concern a module: `device_auth` (who a device is), `enrolment` (how a device joins),
//! `manager` (what a manager's device may do over its organisation), `facts` (what a record
//! grants), `push` (what a device may write), `carer_scope` (what a carer's devices hold),
//! `pull` (the feed back) and `doc_sync` (the per-document fallback). This module holds the
//! [`Hub`], its clock, its errors, the principals and the one-round-trip [`Hub::sync`].

mod carer_scope;
mod device_auth;
mod doc_sync;
mod enrolment;
mod facts;
mod manager;
mod pull;
mod push;

pub use carer_scope::{IDEA_GRACE_DAYS, ROTA_DAYS_AFTER, ROTA_DAYS_BEFORE};
pub use device_auth::{Caller, Refusal, RefusedTokens, authenticate_from, new_token};
pub use enrolment::{MAX_STAFF_REF_CHARS, enrolment_code_hash, issue_enrolment_code, new_enrolment_code};
pub use manager::require_manager;
pub use pull::MAX_PULL_BYTES;
pub use push::{MAX_DOC_PUSH_BYTES, MAX_OPS_PER_PUSH, pushed_ops};

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use automerge::{AutoCommit, AutomergeError, LoadOptions, OnPartialLoad, VerificationMode};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use doorstep_model::RecordKind;
use doorstep_protocol::{HeldBack, HoldReason, Role, SyncRequest, SyncResponse};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::storage::{AuditEntry, HubStorage, StorageError};
use facts::{Facts, facts};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Unauthorised(&'static str),
    #[error("this device has been revoked")]
    Revoked,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
}

pub fn manager_principal(org: Uuid) -> String {
    format!("manager:{org}")
}

/// Every carer's and manager's device of a provider: who reads the provider's directory.
pub fn staff_principal(org: Uuid) -> String {
    format!("staff:{org}")
}

pub fn partner_principal(org: Uuid) -> String {
    format!("partner:{org}")
}

pub fn carer_principal(org: Uuid, staff: &str) -> String {
    format!("carer:{org}:{staff}")
}

pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// The hub's time for the rota and for how long a carer keeps what they wrote: the system
/// clock, which tests move on by hand to see what happens days later. Clones share the time.
#[derive(Debug, Clone, Default)]
pub struct HubClock {
    ahead_ms: Arc<AtomicI64>,
}

impl HubClock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.ahead_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and its clones) on by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        self.ahead_ms.fetch_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX), Ordering::Relaxed);
    }

    /// Today in the UK, which the rota's days are.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&chrono_tz::Europe::London).date_naive()
    }
}

pub struct Hub<S> {
    pub storage: S,
    /// Automerge sync-protocol state per (device, document) for the fallback exchange. Kept in
    /// memory: a fresh state after a restart only costs an extra round.
    doc_sync_states: crate::doc_sync_states::DocSyncStates,
    /// Refused device tokens, tallied per source and minute for the audit log.
    pub refused_tokens: RefusedTokens,
    /// Wrong enrolment codes, tallied the same way.
    pub refused_codes: RefusedTokens,
    /// The time the rota and the grace period of ideas are judged by.
    pub clock: HubClock,
    /// How partners are e-mailed when something arrives (`notify.rs`); none: they are not.
    pub mail: Option<crate::notify::Mail>,
}

/// What the hub answers to one `/sync`: the body, and what goes in its headers.
pub struct SyncAnswer {
    pub response: SyncResponse,
    /// `doorstep_protocol::HUB_EPOCH_HEADER`.
    pub epoch: String,
    /// `doorstep_protocol::HUB_RULES_HEADER`: the rules version and the organisation's count of
    /// requests to send held-back records again.
    pub rules: String,
}

impl<S: HubStorage> Hub<S> {
    pub fn new(storage: S) -> Self {
        Self::with_clock(storage, HubClock::default())
    }

    /// A hub on `clock` (tests move it on to see a grace period pass).
    pub fn with_clock(storage: S, clock: HubClock) -> Self {
        Hub {
            storage,
            doc_sync_states: Default::default(),
            refused_tokens: RefusedTokens::default(),
            refused_codes: RefusedTokens::default(),
            clock,
            mail: None,
        }
    }

    /// This hub, e-mailing partners' teams through `mail`.
    pub fn with_mail(self, mail: crate::notify::Mail) -> Self {
        Hub { mail: Some(mail), ..self }
    }

    /// Notes the page facts of documents stored before the hub kept them (an upgraded hub), so
    /// inboxes and commissioners' counts include them. Returns how many were filled in.
    pub async fn backfill_facts(&self) -> Result<usize, ServiceError> {
        let kinds = vec![RecordKind::Person, RecordKind::Note, RecordKind::Insight, RecordKind::Shared];
        let mut filled = 0;
        for id in self.storage.documents_without_facts(kinds).await? {
            let Some(stored) = self.storage.load_document(id).await? else { continue };
            let Ok(doc) = load_strict(&stored.bytes) else { continue };
            if let Ok((_, Facts { doc_facts: Some(f), .. })) = facts(stored.kind, &doc, stored.owner_org) {
                self.storage.put_doc_facts(id, stored.kind, stored.owner_org, f.to_json()).await?;
                filled += 1;
            }
        }
        Ok(filled)
    }

    async fn deny(&self, caller: &Caller, action: &str, doc: Option<Uuid>, detail: String) -> Result<(), ServiceError> {
        tracing::warn!(caller = %caller.describe(), action, doc = ?doc, %detail, "denied");
        self.storage
            .audit(AuditEntry {
                at: Utc::now().timestamp_millis(),
                actor: caller.describe(),
                action: action.into(),
                doc_id: doc,
                allowed: false,
                detail,
            })
            .await?;
        Ok(())
    }

    /// One sync exchange: store what the device pushed, then answer with its feed.
    /// One sync exchange. `seen_epoch` is the hub epoch the device last synced with (None from a
    /// device that has not synced yet or predates epochs); the answer carries the hub's epoch.
    /// One `/sync` exchange; see [`SyncAnswer`].
    pub async fn sync(
        &self,
        caller: &Caller,
        request: SyncRequest,
        seen_epoch: Option<&str>,
        device_holds_back: u32,
    ) -> Result<SyncAnswer, ServiceError> {
        let mut held_back = Vec::new();
        // What the device reports it already keeps back (the office lists it), bounded.
        let mut keeping: Vec<(Uuid, RecordKind, String)> = request
            .held_back
            .into_iter()
            .take(doorstep_protocol::MAX_HELD_BACK_NOTES)
            .map(|n| (n.id, n.kind, n.reason.chars().take(doorstep_protocol::MAX_HELD_BACK_REASON).collect()))
            .collect();
        for push in request.push {
            let (id, kind) = (push.id, push.kind);
            match self.accept(caller, push).await? {
                Ok(()) => {}
                Err((reason, detail)) => {
                    if reason == HoldReason::Forbidden {
                        self.deny(caller, "write", Some(id), detail.clone()).await?;
                    }
                    if reason != HoldReason::NeedsDocSync {
                        keeping.push((id, kind, reason.explain().to_string()));
                    }
                    held_back.push(HeldBack { id, reason, detail });
                }
            }
        }
        if caller.device.role == Role::Carer {
            self.refresh_carer_scope(caller).await?;
        }
        let epoch = self.storage.epoch().await?;
        let restored = seen_epoch.is_some_and(|seen| seen != epoch);
        let (pull, purge, cursor, more, remaining) =
            self.pull(caller, request.cursor, restored, request.max_bytes.clamp(64 * 1024, MAX_PULL_BYTES)).await?;
        // For the operator's `sync-health` (admin.rs); written at most once a minute per device.
        let refused = held_back.iter().filter(|h| h.reason == HoldReason::Forbidden).count();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let now = Utc::now().timestamp_millis();
        // Held back now, or earlier and still kept by the device (which does not resend them).
        keeping.sort_by_key(|(id, _, _)| *id);
        keeping.dedup_by_key(|(id, _, _)| *id);
        let holding = count(keeping.len()).max(device_holds_back);
        let discard = self.storage.set_held_back(caller.device.id, keeping, now).await?;
        self.storage.record_sync(caller.device.id, now, holding, count(refused)).await?;
        // The rules the device's records are checked against: this hub's, and how many times the
        // organisation's managers asked for held-back records again. A device that sees it move
        // sends what was held back once more.
        let asked = self.storage.held_back_retry(caller.device.org_id).await?;
        let rules = format!("{}.{asked}", doorstep_protocol::HUB_RULES);
        Ok(SyncAnswer {
            response: SyncResponse { held_back, pull, purge, cursor, more, remaining, discard },
            epoch,
            rules,
        })
    }
}

/// Loads Automerge bytes, refusing anything it cannot fully parse.
pub fn load_strict(bytes: &[u8]) -> Result<AutoCommit, AutomergeError> {
    AutoCommit::load_with_options(
        bytes,
        LoadOptions::new().on_partial_load(OnPartialLoad::Error).verification_mode(VerificationMode::DontCheck),
    )
}
