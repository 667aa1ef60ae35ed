//! The hub's rules, over any [`HubStorage`]: who a device is, what it may write and read, and
//! the one-round-trip sync.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use automerge::{AutoCommit, AutomergeError, LoadOptions, OnPartialLoad, VerificationMode};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use doorstep_model::policy::{WithinSize, WritePolicy, Writer, check_note};
use doorstep_model::{Directory, DirectoryId, Insight, Person, RecordKind, SharedItem, StaffId, Visit, VisitNote};
use doorstep_protocol::{
    DocChanges, DocSyncRequest, DocSyncResponse, HeldBack, HoldReason, Purge, Role, SyncRequest, SyncResponse,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::doc_facts::DocFacts;
use crate::storage::{AuditEntry, Device, DocumentWrite, FeedItem, HubStorage, StorageError, VisitIndex};

/// The most one document's pushed changes may weigh in one request.
pub const MAX_DOC_PUSH_BYTES: usize = 4 * 1024 * 1024;
/// Operations in one record's push, at most (a carer's busiest note over days offline is tens of
/// thousands: each typed character is one).
pub const MAX_OPS_PER_PUSH: usize = 200_000;

/// The first text field over its limit (`doorstep_model::policy::WithinSize`), if any.
fn oversize(kind: RecordKind, doc: &AutoCommit) -> Option<String> {
    fn of<T: WithinSize + autosurgeon::Hydrate>(doc: &AutoCommit) -> Option<String> {
        autosurgeon::hydrate::<_, T>(doc).ok().and_then(|record| record.oversize())
    }
    match kind {
        RecordKind::Note => of::<VisitNote>(doc),
        RecordKind::Insight => of::<Insight>(doc),
        RecordKind::Person => of::<Person>(doc),
        RecordKind::Visit | RecordKind::Shared | RecordKind::Directory => None,
    }
}

/// The number of operations in pushed change chunks, read from each change's header without
/// building the document. `None` when the bytes hold a whole saved document (its first push),
/// which the size checks after loading cover.
pub fn pushed_ops(bytes: &[u8]) -> Option<usize> {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    let mut rest = bytes;
    let mut ops = 0usize;
    while !rest.is_empty() {
        if rest.len() < 9 || rest[..4] != MAGIC {
            return None;
        }
        let kind = rest[8];
        // The chunk's length: unsigned LEB128 after the type byte.
        let (mut length, mut shift, mut at) = (0usize, 0u32, 9usize);
        loop {
            let byte = *rest.get(at)?;
            length |= usize::from(byte & 0x7f).checked_shl(shift)?;
            at += 1;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
        let end = at.checked_add(length)?;
        let chunk = rest.get(..end)?;
        match kind {
            // A change, or a compressed change.
            1 | 2 => ops = ops.saturating_add(automerge::Change::try_from(chunk).ok()?.len()),
            _ => return None,
        }
        rest = &rest[end..];
    }
    Some(ops)
}
/// The most change bytes one answer carries (devices may ask for less).
pub const MAX_PULL_BYTES: u32 = 8 * 1024 * 1024;
/// Feed items read per answer.
const FEED_PAGE: u32 = 2000;
/// Fold a document's changes into a new snapshot after this many.
const COMPACT_AFTER: u64 = 64;
/// A carer's device holds the people they visit from this many days ago…
pub const ROTA_DAYS_BEFORE: i64 = 14;
/// …to this many days ahead.
pub const ROTA_DAYS_AFTER: i64 = 7;
/// A carer's own ideas about a person stay on their devices this many days after the person
/// leaves their rota (the hub takes the person off the carer's devices), then go: long enough
/// that a fortnight's cover, holiday or sickness does not take a carer's ideas and the replies
/// to them away and send them back again; short enough that what a carer wrote about someone
/// they no longer visit does not stay with them. Shared items (which can carry the person's name,
/// date of birth, NHS number and postcode) have no grace period: they go with the person.
pub const IDEA_GRACE_DAYS: i64 = 14;

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

/// A one-time code of 12 characters from 32 that cannot be misread (60 bits): "K7QM-2XPD-9HWR".
pub fn new_enrolment_code() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // 32 symbols: each random byte's low five bits pick one with no bias.
    let bytes: [u8; 12] = rand::random();
    let chars: String = bytes.iter().map(|b| ALPHABET[usize::from(b & 31)] as char).collect();
    format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..])
}

/// The code as stored: HMAC-SHA256 under the hub's key (`code_key`).
pub fn enrolment_code_hash(key: &crate::code_key::CodeKey, code: &str) -> Vec<u8> {
    key.code_hash(code)
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
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

/// What the hub learns from a record when it is written: who may read it and the rota facts.
struct Facts {
    readers: Vec<String>,
    visit: Option<VisitIndex>,
    note_person: Option<Uuid>,
    /// The record a note or visit belongs to, for the write check.
    parent: Option<Uuid>,
    author: Option<String>,
    /// What the partner pages list and count about it.
    doc_facts: Option<DocFacts>,
    /// The carer (staff reference) who reads an idea (its author) or a shared item (who raised
    /// it) among `readers`: only while they still visit the person it names.
    carer_reader: Option<String>,
}

fn facts(kind: RecordKind, doc: &AutoCommit, owner: Uuid) -> Result<(Uuid, Facts), String> {
    let manager = manager_principal(owner);
    let hydrate_err = |e: autosurgeon::HydrateError| e.to_string();
    Ok(match kind {
        RecordKind::Person => {
            let p: Person = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            let doc_facts = Some(DocFacts::of_person(&p));
            (
                p.id.0,
                Facts {
                    readers: vec![manager],
                    visit: None,
                    note_person: None,
                    parent: None,
                    author: None,
                    doc_facts,
                    carer_reader: None,
                },
            )
        }
        RecordKind::Visit => {
            let v: Visit = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            v.validate().map_err(|e| e.to_string())?;
            let mut readers = vec![manager];
            readers.extend(v.carers.iter().map(|c| carer_principal(owner, c.as_str())));
            let index = VisitIndex {
                person_id: v.person_id.0,
                day: v.day().to_string(),
                carers: v.carers.iter().map(|c| c.as_str().to_string()).collect(),
            };
            (
                v.id.0,
                Facts {
                    readers,
                    visit: Some(index),
                    note_person: None,
                    parent: Some(v.person_id.0),
                    author: None,
                    doc_facts: None,
                    carer_reader: None,
                },
            )
        }
        RecordKind::Note => {
            let n: VisitNote = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            if let Some(vitals) = &n.vitals {
                vitals.validate().map_err(|e| e.to_string())?;
            }
            let readers = vec![manager];
            (
                n.id.0,
                Facts {
                    readers,
                    visit: None,
                    note_person: Some(n.person_id.0),
                    parent: Some(n.visit_id.0),
                    author: None,
                    doc_facts: DocFacts::of_note(&n),
                    carer_reader: None,
                },
            )
        }
        RecordKind::Insight => {
            let i: Insight = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            i.validate().map_err(|e| e.to_string())?;
            // The provider's managers and the author. Partners never read the insight itself:
            // they read the shared item made for them.
            let readers = vec![manager, carer_principal(owner, i.author.as_str())];
            (
                i.id.0,
                Facts {
                    readers,
                    visit: None,
                    note_person: None,
                    parent: None,
                    author: Some(i.author.as_str().to_string()),
                    doc_facts: Some(DocFacts::of_insight(&i)),
                    carer_reader: Some(i.author.as_str().to_string()),
                },
            )
        }
        RecordKind::Shared => {
            let item: SharedItem = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            item.validate().map_err(|e| e.to_string())?;
            if item.provider.id != owner {
                return Err(format!("shared item {} names another provider", item.id));
            }
            // The provider's managers, the carer who raised it, and the partner until revoked.
            let mut readers = vec![manager, carer_principal(owner, item.raised_by.as_str())];
            if item.revoked.is_none() {
                readers.push(partner_principal(item.partner.id));
            }
            (
                item.id.0,
                Facts {
                    readers,
                    visit: None,
                    note_person: None,
                    parent: None,
                    author: None,
                    doc_facts: Some(DocFacts::of_shared(&item)),
                    carer_reader: Some(item.raised_by.as_str().to_string()),
                },
            )
        }
        RecordKind::Directory => {
            let d: Directory = autosurgeon::hydrate(doc).map_err(hydrate_err)?;
            d.validate().map_err(|e| e.to_string())?;
            if d.provider != owner || d.id != DirectoryId::for_provider(owner) {
                return Err(format!("directory {} is not its provider's", d.id));
            }
            (
                d.id.0,
                Facts {
                    readers: vec![manager, staff_principal(owner)],
                    visit: None,
                    note_person: None,
                    parent: None,
                    author: None,
                    doc_facts: None,
                    carer_reader: None,
                },
            )
        }
    })
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
        }
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

    /// One round of the Automerge sync protocol for one document, for a device whose changes
    /// the hub could not place (it lacks their history, e.g. after a restore from backup).
    pub async fn doc_sync(
        &self,
        caller: &Caller,
        id: Uuid,
        request: DocSyncRequest,
    ) -> Result<DocSyncResponse, ServiceError> {
        use automerge::sync::{Message, SyncDoc};
        let existing = self.storage.load_document(id).await?;
        let readable = match &existing {
            Some(_) => {
                let readers = self.storage.readers(id).await?;
                caller.principals().iter().any(|p| readers.contains(p))
            }
            None => false,
        };
        let mut doc = match &existing {
            Some(stored) if readable => {
                if stored.kind != request.kind {
                    return Err(ServiceError::NotFound("no such record".into()));
                }
                load_strict(&stored.bytes).map_err(|e| StorageError::Task(format!("stored {id}: {e}")))?
            }
            // Someone else's record is answered exactly as one the hub does not hold, so the
            // answer reveals nothing, not even that it exists; the look is audited. Changes sent
            // for it are refused when they would be stored.
            Some(_) => {
                self.deny(caller, "doc_sync", Some(id), "not a reader of this record".into()).await?;
                AutoCommit::new()
            }
            None => AutoCommit::new(),
        };
        let before = doc.get_heads();
        // Taken out, not locked: other devices' conversations go on while this one writes.
        let mut state = self.doc_sync_states.take(caller.device.id, id);
        let state = &mut state;
        if !request.message.is_empty() {
            let message = Message::decode(&request.message)
                .map_err(|e| ServiceError::BadRequest(format!("not an Automerge sync message: {e}")))?;
            doc.sync()
                .receive_sync_message(state, message)
                .map_err(|e| ServiceError::BadRequest(format!("the sync message could not be applied: {e}")))?;
        }
        if doc.get_heads() != before {
            let bytes = if before.is_empty() { doc.save() } else { doc.save_after(&before) };
            if let Err((reason, detail)) = self.accept(caller, DocChanges { id, kind: request.kind, bytes }).await? {
                if reason == HoldReason::Forbidden {
                    self.deny(caller, "doc_sync", Some(id), detail.clone()).await?;
                    return Err(ServiceError::Forbidden(detail));
                }
                return Err(ServiceError::BadRequest(format!("{}: {detail}", reason.explain())));
            }
        }
        doorstep_model::doc_sync::resend_what_they_need(state);
        let reply = doc.sync().generate_sync_message(state).map(|m| m.encode()).unwrap_or_default();
        if !reply.is_empty() {
            self.doc_sync_states.put(caller.device.id, id, std::mem::take(state));
        }
        Ok(DocSyncResponse { message: reply })
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

    /// Takes one document's pushed changes, or says why not. Storage failures are errors of
    /// the whole request (the device retries); anything about the document itself holds back
    /// only that document.
    async fn accept(
        &self,
        caller: &Caller,
        push: DocChanges,
    ) -> Result<Result<(), (HoldReason, String)>, ServiceError> {
        let hold = |reason, detail: String| Ok(Err((reason, detail)));
        if push.bytes.len() > MAX_DOC_PUSH_BYTES {
            return hold(
                HoldReason::TooLarge,
                format!("{} bytes (the limit is {MAX_DOC_PUSH_BYTES})", push.bytes.len()),
            );
        }
        // Operations counted from the changes' headers before anything is expanded: 5 KB of
        // compressed changes can hold millions of characters, which would cost the hub (and every
        // reader) hundreds of megabytes to load.
        if let Some(ops) = pushed_ops(&push.bytes)
            && ops > MAX_OPS_PER_PUSH
        {
            return hold(HoldReason::TooLarge, format!("{ops} operations (the limit is {MAX_OPS_PER_PUSH})"));
        }
        let existing = self.storage.load_document(push.id).await?;
        let device = &caller.device;
        // For a shared item: the hub's copy before this push, to keep partners' answers intact.
        let mut earlier_shared: Option<SharedItem> = None;
        // The hub's copy before this push, for the write policy's before-and-after check.
        let mut before: Option<AutoCommit> = None;
        let (owner, mut combined, old_heads) = match &existing {
            Some(doc) => {
                // Readers first: the answer to anyone else says nothing about the stored record
                // (not its kind), only what they sent.
                let readers = self.storage.readers(push.id).await?;
                if !caller.principals().iter().any(|p| readers.contains(p)) || !device.role.may_edit(push.kind) {
                    return hold(
                        HoldReason::Forbidden,
                        format!("{} may not change {} {}", caller.describe(), push.kind, push.id),
                    );
                }
                if doc.kind != push.kind {
                    return hold(
                        HoldReason::Corrupt,
                        format!("record {} is a {}, not a {}", push.id, doc.kind, push.kind),
                    );
                }
                let mut current =
                    load_strict(&doc.bytes).map_err(|e| StorageError::Task(format!("stored {}: {e}", push.id)))?;
                if push.kind == RecordKind::Shared {
                    earlier_shared = autosurgeon::hydrate(&current).ok();
                }
                let heads = current.get_heads();
                before = Some(current);
                (doc.owner_org, doc.bytes.clone(), heads)
            }
            None => (device.org_id, Vec::new(), Vec::new()),
        };
        combined.extend_from_slice(&push.bytes);
        // Loading is CPU work: off the async threads, so one large record never stalls others.
        let loaded = tokio::task::spawn_blocking(move || load_strict(&combined))
            .await
            .map_err(|e| StorageError::Task(format!("loading {}: {e}", push.id)))?;
        let mut doc = match loaded {
            Ok(doc) => doc,
            Err(AutomergeError::MissingDeps) => {
                return hold(HoldReason::NeedsDocSync, "the hub lacks earlier changes of this record".into());
            }
            Err(e) => return hold(HoldReason::Corrupt, e.to_string()),
        };
        // Changes whose history is missing are queued by Automerge, not applied, and not an
        // error: without this check they would be acknowledged and lost.
        if !doc.get_missing_deps(&[]).is_empty() {
            return hold(HoldReason::NeedsDocSync, "the hub lacks earlier changes of this record".into());
        }
        let (record_id, facts) = match facts(push.kind, &doc, owner) {
            Ok(f) => f,
            Err(detail) => return hold(HoldReason::Corrupt, detail),
        };
        if record_id != push.id {
            return hold(HoldReason::Corrupt, format!("the document describes {} {record_id}", push.kind));
        }
        // A visit or note is about one of its own provider's people: pointing it at another
        // provider's person would hand that person's records to this provider's carers.
        let person = facts.note_person.or(facts.visit.as_ref().map(|v| v.person_id));
        if let Some(person) = person
            && let Some(stored) = self.storage.load_document(person).await?
            && (stored.kind != RecordKind::Person || stored.owner_org != owner)
        {
            return hold(
                HoldReason::Forbidden,
                format!("{} {} names a person of another provider", push.kind, push.id),
            );
        }
        // Oversize text is held back, never stored (it would cost every reader as much again).
        if let Some(too_long) = oversize(push.kind, &doc) {
            return hold(HoldReason::TooLarge, format!("{} {}: {too_long}", push.kind, push.id));
        }
        if let Some(refusal) = self.check_policy(caller, push.kind, before.as_ref(), &doc, facts.parent).await? {
            return hold(HoldReason::Forbidden, format!("{} {}: {refusal}", push.kind, push.id));
        }
        if push.kind == RecordKind::Shared
            && let Some(refusal) = self.check_shared(&doc, earlier_shared.as_ref()).await?
        {
            return hold(HoldReason::Forbidden, refusal);
        }
        if existing.is_none()
            && let Some(reason) = self.may_create(caller, push.kind, &facts).await?
        {
            return hold(HoldReason::Forbidden, reason);
        }
        // Nothing new (a retried request, or changes the hub already had): store nothing.
        let new_heads = doc.get_heads();
        if new_heads == old_heads {
            return Ok(Ok(()));
        }
        // The pushed bytes are stored as they came, as one item named by the heads they lead
        // to: re-encoding them change by change would cost more than everything else here, and
        // a retry of the same push names the same item, so it is stored once.
        let item = Sha256::digest(new_heads.iter().flat_map(|h| h.0).collect::<Vec<u8>>()).into();
        let changes = vec![(item, push.bytes)];

        // Readers: the record's own, plus whoever already holds its parent (a note goes to
        // every carer who holds the person); carers who no longer belong are told to purge.
        let mut readers: BTreeSet<String> = facts.readers.into_iter().collect();
        // An idea or a shared item reaches its carer only while they still visit the person it
        // names (their own idea for IDEA_GRACE_DAYS after): a rewrite by anyone never hands it
        // back to a carer who has left, and takes it from one whose time is up.
        if let Some(staff) = &facts.carer_reader
            && let Some(person) = self.person_named(push.kind, &doc, owner).await?
            && !self.carer_may_read(owner, staff, push.kind, person).await?
        {
            readers.remove(&carer_principal(owner, staff));
        }
        if let Some(person) = facts.note_person {
            readers.extend(self.storage.readers(person).await?.into_iter().filter(|p| p.starts_with("carer:")));
            if device.role == Role::Carer {
                readers.insert(carer_principal(device.org_id, &device.staff_ref));
            }
        }
        let current: BTreeSet<String> = if existing.is_some() {
            self.storage.readers(push.id).await?.into_iter().collect()
        } else {
            BTreeSet::new()
        };
        // Who leaves: carers taken off a visit, a partner whose share was revoked, a carer who
        // no longer visits the person an idea or shared item names.
        let leaving: &[&str] = match push.kind {
            RecordKind::Visit | RecordKind::Insight => &["carer:"],
            RecordKind::Shared => &["carer:", "partner:"],
            _ => &[],
        };
        let revoke = current
            .iter()
            .filter(|p| leaving.iter().any(|l| p.starts_with(l)) && !readers.contains(*p))
            .cloned()
            .collect();
        let grant = readers.into_iter().filter(|p| !current.contains(p)).collect();
        let snapshot = if existing.is_some() && self.storage.changes_since_snapshot(push.id).await? >= COMPACT_AFTER {
            Some(doc.save())
        } else {
            None
        };
        self.storage
            .write_document(DocumentWrite {
                id: push.id,
                kind: push.kind,
                owner_org: owner,
                device_id: device.id,
                changes,
                grant,
                revoke,
                visit: facts.visit,
                note_person: facts.note_person,
                snapshot,
                facts: facts.doc_facts.map(|f| f.to_json()),
            })
            .await?;
        Ok(Ok(()))
    }

    /// A shared item must name a partner organisation this hub knows, and keep every answer a
    /// partner gave (the provider may stop sharing, never rewrite a partner's words).
    async fn check_shared(
        &self,
        doc: &AutoCommit,
        earlier: Option<&SharedItem>,
    ) -> Result<Option<String>, ServiceError> {
        let Ok(item) = autosurgeon::hydrate::<_, SharedItem>(doc) else { return Ok(None) };
        let partner = self.storage.organisation(item.partner.id).await?;
        let Some(partner) = partner.filter(|p| p.kind == crate::storage::OrgKind::Partner) else {
            return Ok(Some(format!("{} is not a partner organisation on this hub", item.partner.name)));
        };
        // What kind of partner it is comes from the hub's own record, not from the item: an item
        // calling a council "a GP practice" would otherwise pass under NHS consent.
        if let Some(known) = partner.partner_kind
            && known != item.partner.kind
        {
            return Ok(Some(format!(
                "{} is a {} on this hub, not a {}",
                partner.name,
                known.label().to_lowercase(),
                item.partner.kind.label().to_lowercase()
            )));
        }
        if earlier.is_some_and(|before| !before.answers_kept_in(&item)) {
            return Ok(Some("a partner's answer cannot be changed or removed".into()));
        }
        if item.person.is_some()
            && item.consent_basis == doorstep_model::ConsentBasis::PersonConsented
            && let Some(person) = self.person_behind(&item).await?
        {
            let sector = item.partner.kind.sector();
            if !person.consent.allows(sector) {
                return Ok(Some(format!(
                    "{} has not agreed to share with {}: the person's details cannot go to {}",
                    person.name.given,
                    sector.label(),
                    item.partner.name
                )));
            }
        }
        Ok(None)
    }

    /// The person a shared item is about, by way of the provider's insight, where the hub holds
    /// both (they may arrive later in the same sync; the device checked consent when sharing).
    async fn person_behind(&self, item: &SharedItem) -> Result<Option<Person>, ServiceError> {
        let read = |stored: Option<crate::storage::StoredDocument>, kind: RecordKind| {
            stored
                .filter(|d| d.kind == kind && d.owner_org == item.provider.id)
                .and_then(|d| load_strict(&d.bytes).ok())
        };
        let Some(doc) = read(self.storage.load_document(item.insight_id.0).await?, RecordKind::Insight) else {
            return Ok(None);
        };
        let Some(person_id) = autosurgeon::hydrate::<_, Insight>(&doc).ok().and_then(|i| i.person_id) else {
            return Ok(None);
        };
        let Some(doc) = read(self.storage.load_document(person_id.0).await?, RecordKind::Person) else {
            return Ok(None);
        };
        Ok(autosurgeon::hydrate::<_, Person>(&doc).ok())
    }

    /// Whether this device may create a record of this kind: managers anything in their
    /// provider; carers notes for visits they are on, and their own ideas.
    /// The model's write policy (`doorstep_model::policy`), on the record before and after this
    /// push: what this device's role may change, field by field. A note is judged with its
    /// visit, as the hub holds it.
    async fn check_policy(
        &self,
        caller: &Caller,
        kind: RecordKind,
        before: Option<&AutoCommit>,
        after: &AutoCommit,
        parent: Option<Uuid>,
    ) -> Result<Option<String>, ServiceError> {
        let staff = StaffId::new(caller.device.staff_ref.clone());
        let writer = Writer { role: caller.device.role, staff: &staff };
        fn judged<T: WritePolicy + autosurgeon::Hydrate>(
            before: Option<&AutoCommit>,
            after: &AutoCommit,
            writer: Writer<'_>,
        ) -> Option<String> {
            let after: T = match autosurgeon::hydrate(after) {
                Ok(after) => after,
                Err(e) => return Some(format!("unreadable: {e}")),
            };
            let before: Option<T> = before.and_then(|b| autosurgeon::hydrate(b).ok());
            T::check_write(before.as_ref(), &after, writer).err().map(|r| r.0)
        }
        Ok(match kind {
            RecordKind::Person => judged::<Person>(before, after, writer),
            RecordKind::Visit => judged::<Visit>(before, after, writer),
            RecordKind::Insight => judged::<Insight>(before, after, writer),
            RecordKind::Directory => judged::<Directory>(before, after, writer),
            RecordKind::Shared => judged::<SharedItem>(before, after, writer),
            RecordKind::Note => {
                let note: VisitNote = match autosurgeon::hydrate(after) {
                    Ok(note) => note,
                    Err(e) => return Ok(Some(format!("unreadable: {e}"))),
                };
                let earlier: Option<VisitNote> = before.and_then(|b| autosurgeon::hydrate(b).ok());
                let visit: Option<Visit> = match parent {
                    Some(id) => match self.storage.load_document(id).await? {
                        Some(stored) if stored.kind == RecordKind::Visit => {
                            load_strict(&stored.bytes).ok().and_then(|d| autosurgeon::hydrate(&d).ok())
                        }
                        _ => None,
                    },
                    None => None,
                };
                check_note(earlier.as_ref(), &note, visit.as_ref(), writer).err().map(|r| r.0)
            }
        })
    }

    /// The people on a carer's rota: those they visit in the window around today.
    async fn on_rota(&self, org: Uuid, staff: &str) -> Result<BTreeSet<Uuid>, ServiceError> {
        let today = self.clock.today();
        Ok(self
            .storage
            .people_on_rota(
                org,
                staff.to_string(),
                (today - Duration::days(ROTA_DAYS_BEFORE)).to_string(),
                (today + Duration::days(ROTA_DAYS_AFTER)).to_string(),
            )
            .await?
            .into_iter()
            .collect())
    }

    /// The person an idea names, or a shared item by way of its idea, where the hub holds them.
    async fn person_named(
        &self,
        kind: RecordKind,
        doc: &AutoCommit,
        owner: Uuid,
    ) -> Result<Option<Uuid>, ServiceError> {
        let insight = match kind {
            RecordKind::Insight => {
                return Ok(autosurgeon::hydrate::<_, Insight>(doc).ok().and_then(|i| i.person_id.map(|p| p.0)));
            }
            RecordKind::Shared => match autosurgeon::hydrate::<_, SharedItem>(doc) {
                Ok(item) => item.insight_id.0,
                Err(_) => return Ok(None),
            },
            _ => return Ok(None),
        };
        let Some(stored) = self.storage.load_document(insight).await? else { return Ok(None) };
        if stored.kind != RecordKind::Insight || stored.owner_org != owner {
            return Ok(None);
        }
        Ok(load_strict(&stored.bytes)
            .ok()
            .and_then(|d| autosurgeon::hydrate::<_, Insight>(&d).ok())
            .and_then(|i| i.person_id.map(|p| p.0)))
    }

    /// Whether the carer `staff` may read an idea or shared item naming `person` now: while the
    /// person is on their rota; their own idea also for IDEA_GRACE_DAYS after they left (counted
    /// from when the hub first saw them gone).
    async fn carer_may_read(
        &self,
        org: Uuid,
        staff: &str,
        kind: RecordKind,
        person: Uuid,
    ) -> Result<bool, ServiceError> {
        if self.on_rota(org, staff).await?.contains(&person) {
            return Ok(true);
        }
        if kind != RecordKind::Insight {
            return Ok(false);
        }
        let principal = carer_principal(org, staff);
        let now = self.clock.now().timestamp_millis();
        let left = self.storage.rota_departures(principal.clone()).await?.into_iter().find(|(p, _)| *p == person);
        Ok(match left {
            Some((_, at)) => now < at + Duration::days(IDEA_GRACE_DAYS).num_milliseconds(),
            None => {
                // Written before the carer's sync noticed they left (an idea typed offline): the
                // grace period starts now.
                self.storage.set_rota_departures(principal, vec![person], now, Vec::new()).await?;
                true
            }
        })
    }

    async fn may_create(
        &self,
        caller: &Caller,
        kind: RecordKind,
        facts: &Facts,
    ) -> Result<Option<String>, ServiceError> {
        let d = &caller.device;
        Ok(match (d.role, kind) {
            (Role::Manager, _) => None,
            (Role::Carer, RecordKind::Note) => {
                let visit = facts.parent.unwrap_or_default();
                let readers = self.storage.readers(visit).await?;
                if readers.contains(&carer_principal(d.org_id, &d.staff_ref)) {
                    None
                } else {
                    Some(format!("{} is not on visit {visit}", caller.describe()))
                }
            }
            (Role::Carer, RecordKind::Insight) if facts.author.as_deref() == Some(d.staff_ref.as_str()) => None,
            _ => Some(format!("a {} device may not create a {kind}", d.role.code())),
        })
    }

    /// A carer's device holds the people on their rota (a window around today) and their
    /// history; people who have left it are purged at the next sync, with the shared items
    /// naming them, and the carer's own ideas about them IDEA_GRACE_DAYS later.
    async fn refresh_carer_scope(&self, caller: &Caller) -> Result<(), ServiceError> {
        let d = &caller.device;
        let principal = carer_principal(d.org_id, &d.staff_ref);
        let on_rota = self.on_rota(d.org_id, &d.staff_ref).await?;
        let held: BTreeSet<Uuid> =
            self.storage.granted(principal.clone(), RecordKind::Person).await?.into_iter().collect();
        let mut grant = Vec::new();
        let mut revoke = Vec::new();
        for person in on_rota.difference(&held) {
            match self.storage.load_document(*person).await? {
                None => continue, // the person's record has not reached the hub yet
                // Only the carer's own provider's people, whatever a visit says.
                Some(doc) if doc.kind != RecordKind::Person || doc.owner_org != d.org_id => continue,
                Some(_) => {}
            }
            grant.push((*person, principal.clone()));
            for (doc, _) in self.storage.history_of(*person).await? {
                grant.push((doc, principal.clone()));
            }
        }
        for person in held.difference(&on_rota) {
            revoke.push((*person, principal.clone()));
            for (doc, _) in self.storage.history_of(*person).await? {
                revoke.push((doc, principal.clone()));
            }
        }
        let left: BTreeSet<Uuid> = held.difference(&on_rota).copied().collect();
        revoke.extend(self.what_names_people_left(d.org_id, &principal, &on_rota, &left).await?);
        if !grant.is_empty() || !revoke.is_empty() {
            tracing::info!(device = %d.id, granted = grant.len(), revoked = revoke.len(), "carer scope changed");
            if !revoke.is_empty() {
                self.storage
                    .audit(AuditEntry {
                        at: Utc::now().timestamp_millis(),
                        actor: "hub".into(),
                        action: "purge".into(),
                        doc_id: None,
                        allowed: true,
                        detail: format!("{} record(s) leave {principal}'s devices: off the rota", revoke.len()),
                    })
                    .await?;
            }
            self.storage.set_access(grant, revoke).await?;
        }
        Ok(())
    }

    /// What names people the carer no longer visits and leaves their devices now: shared items
    /// about them, and the carer's ideas about them once IDEA_GRACE_DAYS have passed since the
    /// hub saw them leave (noted here, the first time it does). `left`: people who left the
    /// rota at this sync.
    async fn what_names_people_left(
        &self,
        org: Uuid,
        principal: &str,
        on_rota: &BTreeSet<Uuid>,
        left: &BTreeSet<Uuid>,
    ) -> Result<Vec<(Uuid, String)>, ServiceError> {
        let now = self.clock.now().timestamp_millis();
        let grace = Duration::days(IDEA_GRACE_DAYS).num_milliseconds();
        let mut departed: BTreeMap<Uuid, i64> =
            self.storage.rota_departures(principal.to_string()).await?.into_iter().collect();
        // Visiting again: the grace period no longer runs.
        let back: Vec<Uuid> = departed.keys().filter(|p| on_rota.contains(p)).copied().collect();
        departed.retain(|p, _| !on_rota.contains(p));
        // The carer's ideas about people off their rota (from the facts: no document loaded).
        let ideas: Vec<(Uuid, Uuid)> = self
            .storage
            .doc_facts(RecordKind::Insight, Some(org), Some(principal.to_string()))
            .await?
            .into_iter()
            .filter_map(|row| match DocFacts::from_json(&row.facts) {
                Some(DocFacts::Idea(idea)) => idea.person.filter(|p| !on_rota.contains(p)).map(|p| (row.doc_id, p)),
                _ => None,
            })
            .collect();
        // Gone from the rota now, or named by an idea the hub had not yet seen them go for (an
        // upgraded hub): the grace period starts now.
        let started: Vec<Uuid> = left
            .iter()
            .copied()
            .chain(ideas.iter().map(|(_, p)| *p))
            .filter(|p| !departed.contains_key(p))
            .collect::<BTreeSet<Uuid>>()
            .into_iter()
            .collect();
        for person in &started {
            departed.insert(*person, now);
        }
        let mut revoke: Vec<(Uuid, String)> = ideas
            .iter()
            .filter(|(_, person)| departed.get(person).is_some_and(|at| now >= at + grace))
            .map(|(idea, _)| (*idea, principal.to_string()))
            .collect();
        // Shared items carry identifiers: they go as soon as the person does. Read only when
        // someone has just gone (later writes never grant them back: see `accept`).
        if !started.is_empty() {
            for id in self.storage.granted(principal.to_string(), RecordKind::Shared).await? {
                let Some(stored) = self.storage.load_document(id).await? else { continue };
                let Ok(doc) = load_strict(&stored.bytes) else { continue };
                if let Some(person) = self.person_named(RecordKind::Shared, &doc, stored.owner_org).await?
                    && !on_rota.contains(&person)
                {
                    revoke.push((id, principal.to_string()));
                }
            }
        }
        if !started.is_empty() || !back.is_empty() {
            self.storage.set_rota_departures(principal.to_string(), started, now, back).await?;
        }
        Ok(revoke)
    }

    async fn pull(
        &self,
        caller: &Caller,
        cursor: u64,
        restored: bool,
        max_bytes: u32,
    ) -> Result<(Vec<DocChanges>, Vec<Purge>, u64, bool, u64), ServiceError> {
        let principals = caller.principals();
        if principals.is_empty() {
            return Ok((Vec::new(), Vec::new(), if restored { 0 } else { cursor }, false, 0));
        }
        let visible = self.storage.max_seq().await?;
        // The device last synced with this hub before a restore (another epoch), or, from a device
        // that predates epochs, its cursor is from the future: the hub may lack what the cursor
        // counts as delivered, so start the device's feed again from the beginning (whole
        // documents; nothing is applied twice).
        let cursor = if restored || cursor > visible {
            tracing::warn!(device = %caller.device.id, cursor, visible, restored, "the hub was restored: full feed");
            0
        } else {
            cursor
        };
        let items = self.storage.feed(principals, cursor, caller.device.id, FEED_PAGE).await?;
        let page_full = items.len() == FEED_PAGE as usize;
        let mut docs: Vec<DocChanges> = Vec::new();
        let mut index: BTreeMap<Uuid, usize> = BTreeMap::new();
        let mut purge = Vec::new();
        let mut dropped = BTreeSet::new();
        let mut bytes = 0usize;
        let mut last = cursor;
        let mut taken = 0;
        for item in &items {
            if bytes >= max_bytes as usize && taken > 0 {
                break;
            }
            match item {
                FeedItem::Grant { id, kind, .. } => {
                    // Granted again after a purge in this page: the later grant wins (the device
                    // applies the page's documents before its purges).
                    purge.retain(|p: &Purge| p.id != *id);
                    if let Some(doc) = self.storage.load_document(*id).await? {
                        let whole = load_strict(&doc.bytes)
                            .map_err(|e| StorageError::Task(format!("stored {id}: {e}")))?
                            .save();
                        bytes += whole.len();
                        match index.get(id) {
                            Some(&i) => docs[i].bytes = whole,
                            None => {
                                index.insert(*id, docs.len());
                                docs.push(DocChanges { id: *id, kind: *kind, bytes: whole });
                            }
                        }
                    }
                }
                FeedItem::Change { id, kind, bytes: change, .. } => {
                    purge.retain(|p: &Purge| p.id != *id);
                    bytes += change.len();
                    match index.get(id) {
                        Some(&i) => docs[i].bytes.extend_from_slice(change),
                        None => {
                            index.insert(*id, docs.len());
                            docs.push(DocChanges { id: *id, kind: *kind, bytes: change.clone() });
                        }
                    }
                }
                FeedItem::Purge { id, kind, .. } => {
                    // Purged after it was granted or changed in this page: the purge wins.
                    if let Some(i) = index.remove(id) {
                        dropped.insert(i);
                    }
                    purge.push(Purge { id: *id, kind: *kind });
                }
            }
            last = item.seq();
            taken += 1;
        }
        let docs = docs.into_iter().enumerate().filter(|(i, _)| !dropped.contains(i)).map(|(_, d)| d).collect();
        let more = taken < items.len() || page_full;
        let cursor = if more { last } else { last.max(visible) };
        let remaining = (items.len() - taken) as u64;
        Ok((docs, purge, cursor, more, remaining))
    }
}

/// Whether a reader of a record in this role may also change it by sync. Partners answer at the
/// hub's pages (which write the response for them), so they never write documents; carers read
/// shared items but only managers share, revoke or reword them.
/// Loads Automerge bytes, refusing anything it cannot fully parse.
pub fn load_strict(bytes: &[u8]) -> Result<AutoCommit, AutomergeError> {
    AutoCommit::load_with_options(
        bytes,
        LoadOptions::new().on_partial_load(OnPartialLoad::Error).verification_mode(VerificationMode::DontCheck),
    )
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

#[cfg(test)]
mod pushed_ops_tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};

    use super::{MAX_OPS_PER_PUSH, pushed_ops};

    #[test]
    fn operations_are_counted_from_the_changes_without_loading_them() {
        let mut doc = AutoCommit::new();
        let text = doc.put_object(ROOT, "narrative", ObjType::Text).expect("text");
        let first = doc.save();
        assert_eq!(pushed_ops(&first), None, "a whole saved document is checked after loading");
        let heads = doc.get_heads();
        doc.splice_text(&text, 0, 0, "Ate well.").expect("typing");
        doc.commit();
        doc.splice_text(&text, 9, 0, " Tea.").expect("more");
        let changes = doc.save_after(&heads);
        assert_eq!(pushed_ops(&changes), Some(14), "one op a character, over two changes");

        let heads = doc.get_heads();
        doc.splice_text(&text, 0, 0, &"x".repeat(MAX_OPS_PER_PUSH + 1)).expect("a flood");
        let flood = doc.save_after(&heads);
        assert!(pushed_ops(&flood).is_some_and(|n| n > MAX_OPS_PER_PUSH));
        assert_eq!(pushed_ops(b"not automerge"), None);
    }
}
