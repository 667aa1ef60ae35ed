//! Hub storage: one trait, two backends (SQLite for one machine, PostgreSQL for a region),
//! passing one shared test suite. Backends persist; the rules live in `service/`.
//!
//! **Architecture Invariant:** every change gets a hub sequence number when it is stored, and
//! sequence numbers become visible in order (no reader ever sees seq N+1 before N), so a
//! device's cursor never skips a change.

use std::future::Future;

use doorstep_model::{PartnerKind, RecordKind};
use doorstep_protocol::Role;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("SQLite: {0}")]
    Sqlite(rusqlite::Error),
    #[error("SQLite migration: {0}")]
    SqliteMigration(#[from] rusqlite_migration::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error(transparent)]
    CodeKey(#[from] crate::code_key::CodeKeyError),
    #[error("cannot connect to PostgreSQL: {0}")]
    PostgresConnect(String),
    #[error(transparent)]
    PostgresUrl(#[from] crate::pg_tls::PgUrlError),
    #[error("PostgreSQL pool: {0}")]
    Pool(String),
    #[error("PostgreSQL migration: {0}")]
    PostgresMigration(String),
    #[error("{0}")]
    Conflict(String),
    #[error("storage task failed: {0}")]
    Task(String),
    /// The database was last used by a newer hub: it is left untouched.
    #[error(
        "the database's schema is version {found}, newer than this hub knows (up to {known}): a newer \
         doorstep-hub has used it. Run that version (or newer), or restore a backup this version made"
    )]
    NewerSchema { found: i64, known: i64 },
    /// The database is being restored, or its lock file cannot be used.
    #[error("{0}")]
    Locked(String),
    /// A stored value that cannot be what its column holds (a hand-edited or damaged row).
    #[error("stored value not understood: {0}")]
    Decode(String),
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> StorageError {
        // A decoder's refusal inside a rusqlite row closure travels as a conversion failure:
        // give it back as what it is (`rows` decoders answer a StorageError directly).
        match e {
            rusqlite::Error::FromSqlConversionFailure(_, _, inner) => match inner.downcast::<StorageError>() {
                Ok(decode) => *decode,
                Err(other) => StorageError::Sqlite(rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Null,
                    other,
                )),
            },
            e => StorageError::Sqlite(e),
        }
    }
}

/// How a row is read back, once for both backends.
pub(crate) mod rows;
/// The statements both backends run.
pub(crate) mod statements;

/// Reading stored values back, for both backends: a value that is not what its column holds is
/// an error, never a nil id or a default role.
pub(crate) mod decode {
    use super::{OrgKind, RecordKind, Role, StorageError, StorageResult, Uuid, WebRole};

    fn bad(what: &str, value: &str) -> StorageError {
        StorageError::Decode(format!("{value:?} is not {what}"))
    }

    pub fn uuid(text: &str) -> StorageResult<Uuid> {
        Uuid::parse_str(text).map_err(|_| bad("an id", text))
    }

    pub fn kind(code: &str) -> StorageResult<RecordKind> {
        RecordKind::from_code(code).ok_or_else(|| bad("a kind of record", code))
    }

    pub fn role(code: &str) -> StorageResult<Role> {
        Role::from_code(code).ok_or_else(|| bad("a device role", code))
    }

    pub fn web_role(code: &str) -> StorageResult<WebRole> {
        WebRole::from_code(code).ok_or_else(|| bad("a sign-in role", code))
    }

    pub fn org_kind(code: &str) -> StorageResult<OrgKind> {
        OrgKind::from_code(code).ok_or_else(|| bad("a kind of organisation", code))
    }
}

impl StorageError {
    /// The database ran out of disk: nothing was stored, and the same request will work once
    /// space is freed, so devices keep their changes and try again.
    pub fn is_storage_full(&self) -> bool {
        match self {
            StorageError::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            StorageError::Postgres(e) => e.code() == Some(&tokio_postgres::error::SqlState::DISK_FULL),
            _ => false,
        }
    }
}

pub type StorageResult<T> = Result<T, StorageError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    Provider,
    Partner,
}

impl OrgKind {
    pub fn code(self) -> &'static str {
        match self {
            OrgKind::Provider => "provider",
            OrgKind::Partner => "partner",
        }
    }

    pub fn from_code(code: &str) -> Option<OrgKind> {
        match code {
            "provider" => Some(OrgKind::Provider),
            "partner" => Some(OrgKind::Partner),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub kind: OrgKind,
    /// For partners: GP practice, community nursing, ICB, council adult social care…
    pub partner_kind: Option<PartnerKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub org_id: Uuid,
    pub staff_ref: String,
    pub role: Role,
    pub name: String,
    /// SHA-256 of the device's token (the token itself is never stored).
    pub token_hash: Vec<u8>,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCode {
    /// SHA-256 of the code.
    pub code_hash: Vec<u8>,
    pub org_id: Uuid,
    pub staff_ref: String,
    pub role: Role,
    pub created_by: String,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// A document as the hub holds it: a snapshot plus the changes stored since.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub kind: RecordKind,
    pub owner_org: Uuid,
    /// The snapshot followed by every later change, ready for one strict Automerge load.
    pub bytes: Vec<u8>,
}

/// What the rota says about a visit, so a carer's scope can be worked out without reading
/// documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitIndex {
    pub person_id: Uuid,
    /// UK date, `YYYY-MM-DD`.
    pub day: String,
    pub carers: Vec<String>,
}

/// Everything one accepted push writes, in one transaction.
#[derive(Debug, Clone)]
pub struct DocumentWrite {
    pub id: Uuid,
    pub kind: RecordKind,
    pub owner_org: Uuid,
    pub device_id: Uuid,
    /// New Automerge bytes as (item hash, bytes): what a device pushed, named by the hash of
    /// the heads it brings the document to. An item already held (same hash) is skipped.
    pub changes: Vec<([u8; 32], Vec<u8>)>,
    /// Principals that may read the document from now on (added if missing).
    pub grant: Vec<String>,
    /// Principals that may no longer read it (removed, and told to purge).
    pub revoke: Vec<String>,
    /// For visits: the rota facts. For notes: the person they belong to, in `note_person`.
    pub visit: Option<VisitIndex>,
    pub note_person: Option<Uuid>,
    /// A fresh snapshot to store instead of the changes so far (compaction), if any.
    pub snapshot: Option<Vec<u8>>,
    /// What the pages list and count about this document (JSON of `doc_facts::DocFacts`).
    pub facts: Option<String>,
    /// An e-mail this write calls for (a partner told an item arrived), queued in the same
    /// transaction: a stored item always has its message waiting (`notify.rs`).
    pub mail: Option<OutgoingMail>,
}

/// What a commissioner may count: one provider, all its people or only those in some postcode
/// districts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub commissioner: Uuid,
    pub provider: Uuid,
    /// Postcode districts (e.g. "NB3"); empty for all of the provider's people.
    pub districts: Vec<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// A provider's manager released one week's feed to the commissioners of its agreements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRelease {
    pub provider: Uuid,
    /// The week's Monday, `YYYY-MM-DD` (UK).
    pub week: String,
    /// "Name (e-mail)" of the manager who released it.
    pub released_by: String,
    /// Unix ms.
    pub released_at: i64,
}

/// An e-mail the hub sends (see `notify.rs`): queued with the change that calls for it, sent by
/// the hub's mailer, retried until the mail server takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Unix ms.
    pub queued_at: i64,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
    /// The mail server's last refusal, if any.
    pub last_error: String,
}

/// What a person signed in to the partner hub's pages may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebRole {
    /// Staff of a partner organisation: sees and answers what is shared with it.
    Partner,
    /// Sees anonymised counts across providers, nothing about anyone.
    Commissioner,
    /// A provider's manager: sees who read and answered what the provider shared.
    Manager,
}

impl WebRole {
    pub fn code(self) -> &'static str {
        match self {
            WebRole::Partner => "partner",
            WebRole::Commissioner => "commissioner",
            WebRole::Manager => "manager",
        }
    }

    pub fn from_code(code: &str) -> Option<WebRole> {
        [WebRole::Partner, WebRole::Commissioner, WebRole::Manager].into_iter().find(|r| r.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUser {
    pub id: Uuid,
    pub org_id: Uuid,
    /// Lower-case.
    pub email: String,
    pub name: String,
    pub role: WebRole,
    /// Argon2id, PHC string.
    pub password_hash: String,
    pub failed_attempts: u32,
    /// Unix ms; sign-in is refused until then.
    pub locked_until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    /// SHA-256 of the cookie's secret.
    pub token_hash: Vec<u8>,
    pub user_id: Uuid,
    pub csrf: String,
    /// Unix ms.
    pub expires_at: i64,
}

/// A device as the operator sees it: who holds it, and how its last sync went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStatus {
    pub device: Device,
    /// Unix ms.
    pub enrolled_at: i64,
    pub revoked_at: Option<i64>,
    /// Unix ms; recorded at most about once a minute (see [`HubStorage::record_sync`]).
    pub last_sync_at: Option<i64>,
    /// Documents the last sync held back, for any reason (the device keeps them).
    pub last_held_back: u32,
    /// Of those, documents the device was not allowed to write.
    pub last_refused: u32,
}

/// A record one device keeps back because the hub would not take it, as the device last
/// reported it (migrations/hub/sqlite/08-held-back-records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBackRow {
    pub device: Uuid,
    pub record: Uuid,
    pub kind: RecordKind,
    /// The hub's reason, in the plain words the device shows.
    pub reason: String,
    /// Unix ms: when the device first reported it.
    pub since: i64,
    /// A manager asked the device to discard its changes to it.
    pub discard_asked: bool,
}

/// What replacing a device's held-back list means, given what is stored (record, reason,
/// discard asked): both backends write only when `changed`, delete `gone` and upsert the rest,
/// and answer `discard`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBackChange {
    pub changed: bool,
    /// Stored records the device no longer reports.
    pub gone: Vec<String>,
    /// Reported records the office asked the device to discard.
    pub discard: Vec<Uuid>,
}

pub fn held_back_change(
    stored: &[(String, String, bool)],
    reported: &[(String, RecordKind, String)],
) -> HeldBackChange {
    let reports = |id: &str| reported.iter().any(|(r, _, _)| r == id);
    let changed = stored.len() != reported.len()
        || !reported.iter().all(|(id, _, reason)| stored.iter().any(|(s, r, _)| s == id && r == reason));
    HeldBackChange {
        changed,
        gone: stored.iter().filter(|(id, _, _)| !reports(id)).map(|(id, _, _)| id.clone()).collect(),
        discard: stored
            .iter()
            .filter(|(id, _, asked)| *asked && reports(id))
            .filter_map(|(id, _, _)| Uuid::parse_str(id).ok())
            .collect(),
    }
}

/// A sign-in account as the operator sees it, disabled or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUserStatus {
    pub user: WebUser,
    /// Unix ms.
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// One row of `doc_facts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocFactsRow {
    pub doc_id: Uuid,
    pub owner_org: Uuid,
    pub facts: String,
}

/// One item of a device's feed after its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedItem {
    /// The device was given this document: send all of it.
    Grant { seq: u64, id: Uuid, kind: RecordKind },
    /// A change to a document the device already holds.
    Change { seq: u64, id: Uuid, kind: RecordKind, bytes: Vec<u8> },
    /// The device must delete this document.
    Purge { seq: u64, id: Uuid, kind: RecordKind },
}

impl FeedItem {
    pub fn seq(&self) -> u64 {
        match self {
            FeedItem::Grant { seq, .. } | FeedItem::Change { seq, .. } | FeedItem::Purge { seq, .. } => *seq,
        }
    }
}

/// An entry for the audit log: who did what to which document, and whether it was allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub doc_id: Option<Uuid>,
    pub allowed: bool,
    pub detail: String,
}

/// What [`HubStorage::claim_sign_in_attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInClaim {
    /// The account is locked: no password is checked.
    Locked,
    /// The attempt is counted; `locks` when it is the one that locked the account.
    Claimed { locks: bool },
}

/// An audit entry as stored, with its place in the hash chain (see `crate::audit`): the text
/// columns as they are in the database, so the chain covers exactly what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditChainRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub doc_id: Option<String>,
    pub allowed: bool,
    pub detail: String,
    pub prev_hash: Option<Vec<u8>>,
    pub hash: Option<Vec<u8>>,
}

/// The hub's persistence. Implemented by [`crate::sqlite::SqliteStorage`] and
/// [`crate::postgres::PostgresStorage`].
pub trait HubStorage: Send + Sync + 'static {
    /// The key enrolment codes are stored under (`code_key`).
    fn code_key(&self) -> &crate::code_key::CodeKey;

    fn create_organisation(&self, org: Organisation) -> impl Future<Output = StorageResult<()>> + Send;
    fn organisation(&self, id: Uuid) -> impl Future<Output = StorageResult<Option<Organisation>>> + Send;
    /// Every partner organisation, by name: who a manager may share with.
    fn partner_organisations(&self) -> impl Future<Output = StorageResult<Vec<Organisation>>> + Send;

    fn create_enrolment_code(&self, code: EnrolmentCode) -> impl Future<Output = StorageResult<()>> + Send;
    /// Uses the code once, if unused and unexpired at `now`, creating `device` for its holder.
    /// `device`'s organisation, staff and role are taken from the code.
    fn redeem_enrolment_code(
        &self,
        code_hash: Vec<u8>,
        now: i64,
        device: Device,
    ) -> impl Future<Output = StorageResult<Option<Device>>> + Send;
    fn device(&self, id: Uuid) -> impl Future<Output = StorageResult<Option<Device>>> + Send;
    fn revoke_device(&self, id: Uuid, at: i64) -> impl Future<Output = StorageResult<bool>> + Send;
    /// An organisation's devices, by staff reference then name.
    fn devices_of(&self, org: Uuid) -> impl Future<Output = StorageResult<Vec<Device>>> + Send;

    fn load_document(&self, id: Uuid) -> impl Future<Output = StorageResult<Option<StoredDocument>>> + Send;
    /// Principals that may read a document.
    fn readers(&self, id: Uuid) -> impl Future<Output = StorageResult<Vec<String>>> + Send;
    fn write_document(&self, write: DocumentWrite) -> impl Future<Output = StorageResult<()>> + Send;
    /// Changes stored for a document since the snapshot (how many), for compaction.
    fn changes_since_snapshot(&self, id: Uuid) -> impl Future<Output = StorageResult<u64>> + Send;

    /// People the carer has a visit with between the two UK dates (inclusive).
    fn people_on_rota(
        &self,
        org: Uuid,
        staff_ref: String,
        from_day: String,
        to_day: String,
    ) -> impl Future<Output = StorageResult<Vec<Uuid>>> + Send;
    /// Documents of one kind a principal may read.
    fn granted(&self, principal: String, kind: RecordKind) -> impl Future<Output = StorageResult<Vec<Uuid>>> + Send;
    /// Visits and notes about a person.
    fn history_of(&self, person: Uuid) -> impl Future<Output = StorageResult<Vec<(Uuid, RecordKind)>>> + Send;
    /// Grants and revokes access outside a document write (scope changes), with purges.
    fn set_access(
        &self,
        grant: Vec<(Uuid, String)>,
        revoke: Vec<(Uuid, String)>,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    /// People `principal` (a carer) stopped visiting, with when the hub noticed (Unix ms): their
    /// ideas about them leave after a grace period (migrations/hub/sqlite/09-rota-departures).
    fn rota_departures(&self, principal: String) -> impl Future<Output = StorageResult<Vec<(Uuid, i64)>>> + Send;
    /// Notes that `principal` left the people in `left` at `at` (an earlier note of the same
    /// person is kept), and forgets `done`: people visited again, or whose grace period is over.
    fn set_rota_departures(
        &self,
        principal: String,
        left: Vec<Uuid>,
        at: i64,
        done: Vec<Uuid>,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    /// The feed for a device: grants, changes and purges for `principals` after `cursor`, in
    /// sequence order, leaving out changes the device itself sent; at most `limit` items.
    fn feed(
        &self,
        principals: Vec<String>,
        cursor: u64,
        exclude_device: Uuid,
        limit: u32,
    ) -> impl Future<Output = StorageResult<Vec<FeedItem>>> + Send;
    /// The highest sequence number stored (everything up to it is visible).
    fn max_seq(&self) -> impl Future<Output = StorageResult<u64>> + Send;
    /// The name of the hub's line of history: a restore starts a new one, so a device's cursor
    /// from before it is known to be stale (migrations/hub/sqlite/06-epoch).
    fn epoch(&self) -> impl Future<Output = StorageResult<String>> + Send;

    /// How many times `org`'s managers have asked its devices to send held-back records again
    /// (migrations/hub/sqlite/07-held-back-retry); 0 for an unknown organisation.
    fn held_back_retry(&self, org: Uuid) -> impl Future<Output = StorageResult<i64>> + Send;

    /// Asks `org`'s devices once more: the count goes up by one, and is returned.
    fn ask_held_back_retry(&self, org: Uuid) -> impl Future<Output = StorageResult<i64>> + Send;

    /// Replaces the list of records `device` keeps back with `records` (id, kind, reason),
    /// keeping when each was first reported and whether a discard was asked, and writing
    /// nothing when the list has not changed. Answers those of `records` the office asked the
    /// device to discard.
    fn set_held_back(
        &self,
        device: Uuid,
        records: Vec<(Uuid, RecordKind, String)>,
        now: i64,
    ) -> impl Future<Output = StorageResult<Vec<Uuid>>> + Send;

    /// Every record the devices of `org` keep back, by device then since.
    fn held_back_records(&self, org: Uuid) -> impl Future<Output = StorageResult<Vec<HeldBackRow>>> + Send;

    /// Marks one record `device` keeps back to be discarded; false when the device does not
    /// keep it back (any more).
    fn ask_discard(&self, device: Uuid, record: Uuid, at: i64) -> impl Future<Output = StorageResult<bool>> + Send;

    /// Facts of one kind of document, optionally only one owner's or only those `principal` may read.
    fn doc_facts(
        &self,
        kind: RecordKind,
        owner: Option<Uuid>,
        principal: Option<String>,
    ) -> impl Future<Output = StorageResult<Vec<DocFactsRow>>> + Send;

    /// Documents of these kinds with no facts yet (written before the hub kept them).
    fn documents_without_facts(&self, kinds: Vec<RecordKind>) -> impl Future<Output = StorageResult<Vec<Uuid>>> + Send;
    fn put_doc_facts(
        &self,
        id: Uuid,
        kind: RecordKind,
        owner: Uuid,
        facts: String,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    /// Adds or replaces the agreement between a commissioner and a provider.
    fn set_agreement(&self, agreement: Agreement) -> impl Future<Output = StorageResult<()>> + Send;
    /// A commissioner's agreements, by provider id.
    fn agreements_of(&self, commissioner: Uuid) -> impl Future<Output = StorageResult<Vec<Agreement>>> + Send;
    /// The agreements that name a provider, by commissioner id.
    fn agreements_with(&self, provider: Uuid) -> impl Future<Output = StorageResult<Vec<Agreement>>> + Send;
    /// Publishes one week's counts to a commissioner unless that week was published before (the
    /// first publication stands).
    fn publish_week(
        &self,
        commissioner: Uuid,
        week: String,
        counts: String,
        at: i64,
    ) -> impl Future<Output = StorageResult<()>> + Send;
    /// The weeks published to a commissioner as (Monday `YYYY-MM-DD`, counts JSON), oldest first.
    fn published_weeks(&self, commissioner: Uuid) -> impl Future<Output = StorageResult<Vec<(String, String)>>> + Send;
    /// Records that a provider released a week's feed, unless it did before (the first stands).
    fn release_week(&self, release: FeedRelease) -> impl Future<Output = StorageResult<()>> + Send;
    /// The weeks a provider released, oldest first.
    fn releases_of(&self, provider: Uuid) -> impl Future<Output = StorageResult<Vec<FeedRelease>>> + Send;

    /// Adds or replaces a partner organisation's directory listing (JSON, `directory.rs`).
    fn set_partner_listing(
        &self,
        org: Uuid,
        listing: String,
        at: i64,
    ) -> impl Future<Output = StorageResult<()>> + Send;
    /// Every partner's listing as (organisation, JSON).
    fn partner_listings(&self) -> impl Future<Output = StorageResult<Vec<(Uuid, String)>>> + Send;
    /// Queues an e-mail; a message with an id already queued is left as it is.
    fn queue_mail(&self, mail: OutgoingMail) -> impl Future<Output = StorageResult<()>> + Send;
    /// Unsent messages due by `now`, oldest first.
    fn mail_due(&self, now: i64, limit: u32) -> impl Future<Output = StorageResult<Vec<OutgoingMail>>> + Send;
    /// Records one attempt to send: sent at `at`, or failed with `error`, to try again at `retry_at`.
    fn mail_attempted(
        &self,
        id: Uuid,
        at: i64,
        error: Option<String>,
        retry_at: i64,
    ) -> impl Future<Output = StorageResult<()>> + Send;
    /// The newest messages, sent or not, newest first.
    fn mail_log(&self, limit: u32) -> impl Future<Output = StorageResult<Vec<OutgoingMail>>> + Send;

    /// Fails with `StorageError::Conflict` if the email is taken.
    fn create_web_user(&self, user: WebUser) -> impl Future<Output = StorageResult<()>> + Send;
    /// An enabled account (a disabled one is treated as absent, so its sessions end).
    fn web_user(&self, id: Uuid) -> impl Future<Output = StorageResult<Option<WebUser>>> + Send;
    /// An enabled account; `email` lower-case.
    fn web_user_by_email(&self, email: String) -> impl Future<Output = StorageResult<Option<WebUser>>> + Send;
    /// Counts one wrong password in a single statement (so guesses sent at once all count); the
    /// `max_failures`-th in a row locks the account until `lock_until` and starts the count
    /// again. Returns the account's `locked_until` afterwards.
    /// Counts a sign-in attempt before its password is checked, in one statement: refused while
    /// the account is locked (`locked_until` after `now`); the attempt that reaches
    /// `max_failures` locks it until `lock_until`. A burst of attempts can never check more
    /// passwords than `max_failures` (a right password then clears the count).
    fn claim_sign_in_attempt(
        &self,
        id: Uuid,
        max_failures: u32,
        lock_until: i64,
        now: i64,
    ) -> impl Future<Output = StorageResult<SignInClaim>> + Send;
    fn clear_sign_in_failures(&self, id: Uuid) -> impl Future<Output = StorageResult<()>> + Send;
    fn create_session(&self, session: WebSession) -> impl Future<Output = StorageResult<()>> + Send;
    fn session(&self, token_hash: Vec<u8>) -> impl Future<Output = StorageResult<Option<WebSession>>> + Send;
    fn delete_session(&self, token_hash: Vec<u8>) -> impl Future<Output = StorageResult<()>> + Send;
    /// Ends every session of one account (it was locked).
    fn delete_sessions_of(&self, user: Uuid) -> impl Future<Output = StorageResult<()>> + Send;
    /// Removes sessions that ended before `now` (unix ms).
    fn delete_expired_sessions(&self, now: i64) -> impl Future<Output = StorageResult<()>> + Send;

    /// Appends an entry to the audit log, chained to the newest one (`crate::audit`): reading
    /// the previous hash and inserting are one transaction under a lock, so the chain never forks.
    fn audit(&self, entry: AuditEntry) -> impl Future<Output = StorageResult<()>> + Send;
    /// Audit entries with `seq > after`, oldest first, at most `limit`.
    fn audit_chain_rows(
        &self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = StorageResult<Vec<AuditChainRow>>> + Send;
    /// Checks the audit log's hash chain from the first entry to the last.
    fn verify_audit_chain(&self) -> impl Future<Output = StorageResult<crate::audit::AuditVerification>> + Send {
        crate::audit::verify(self, None)
    }
    /// The newest audit entries about documents `org` owns.
    fn audit_of_owner(&self, org: Uuid, limit: u32) -> impl Future<Output = StorageResult<Vec<AuditEntry>>> + Send;
    fn audit_log(&self, limit: u32) -> impl Future<Output = StorageResult<Vec<AuditEntry>>> + Send;

    // Operator commands (`crate::admin`).

    /// Every organisation, providers first, then by name.
    fn organisations(&self) -> impl Future<Output = StorageResult<Vec<Organisation>>> + Send;
    /// Devices with their sync state, of one organisation or all, by organisation, staff
    /// reference, then name.
    fn device_statuses(&self, org: Option<Uuid>) -> impl Future<Output = StorageResult<Vec<DeviceStatus>>> + Send;
    /// Notes a device's sync at `at` (unix ms) and what it held back. Writes only when the
    /// counts change or the last note is a minute old, so a quiet sync costs no write.
    fn record_sync(
        &self,
        device: Uuid,
        at: i64,
        held_back: u32,
        refused: u32,
    ) -> impl Future<Output = StorageResult<()>> + Send;
    /// An organisation's sign-in accounts, disabled ones too, by email.
    fn web_users_of(&self, org: Uuid) -> impl Future<Output = StorageResult<Vec<WebUserStatus>>> + Send;
    /// One account by (lower-case) email, disabled or not. [`HubStorage::web_user`] and
    /// [`HubStorage::web_user_by_email`] leave disabled accounts out, so they cannot sign in.
    fn web_user_status(&self, email: String) -> impl Future<Output = StorageResult<Option<WebUserStatus>>> + Send;
    /// Disables (`Some(at)`) or enables (`None`) an account; false if there is none.
    fn set_web_user_disabled(&self, id: Uuid, at: Option<i64>) -> impl Future<Output = StorageResult<bool>> + Send;
    /// Replaces an account's password hash and clears its failed sign-ins and lock.
    fn set_web_user_password(&self, id: Uuid, hash: String) -> impl Future<Output = StorageResult<bool>> + Send;
}
